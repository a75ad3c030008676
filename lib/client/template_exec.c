/* Execution of parsed templates (see format.h): Go's evaluation of fields, variables, pipelines
 * and control structures over jansson values, docker's and Go's template functions, and Go's
 * error wording with the position of the failing node. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/format.h"
#include "client/template_internal.h"
#include "core/cleanup.h"

struct var {
    const char *name;
    json_t *val;
};

struct exec {
    const struct berth_template *t;
    const struct berth_template_opts *opts;
    struct berth_strbuf *out;
    struct berth_error **err;
    json_t *root;
    struct var *vars;
    size_t nvars, cap;
    const char *last_field; /* the field that produced the last value (printing of null) */
    int loop;               /* 1 after {{break}}, 2 after {{continue}} */
};

static int exec_error(struct exec *st, size_t pos, size_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
exec_error(struct exec *st, size_t pos, size_t end, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    const char *src = st->t->src;
    size_t line_start = pos;
    while (line_start > 0 && src[line_start - 1] != '\n')
        line_start--;
    berth_error_setq(st->err, EINVAL, "template: %s:%d:%zu: executing \"%s\" at <%.*s>: %s",
                     st->t->name, berth_template_line_of(src, pos), pos - line_start, st->t->name,
                     (int)(end - pos), src + pos, n >= 0 ? msg : "error");
    free(msg);
    return -EINVAL;
}

static const char *
go_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_ARRAY:
        return "[]interface {}";
    case JSON_OBJECT:
        return "map[string]interface {}";
    default:
        return "<nil>";
    }
}

static bool
truth(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    default:
        return false;
    }
}

static int
cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of an object (Go prints and ranges over maps in key order). */
static const char **
sorted_keys(const json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = calloc(n + 1, sizeof(*keys));
    if (!keys)
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_keys);
    return keys;
}

int
berth_template_print_value(const json_t *v, struct berth_strbuf *out)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return berth_strbuf_append(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return berth_strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        berth_go_float(json_real_value(v), false, num, sizeof(num));
        return berth_strbuf_puts(out, num);
    case JSON_TRUE:
        return berth_strbuf_puts(out, "true");
    case JSON_FALSE:
        return berth_strbuf_puts(out, "false");
    case JSON_ARRAY: {
        int r = berth_strbuf_putc(out, '[');
        for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
            if (i)
                r = berth_strbuf_putc(out, ' ');
            if (r == 0)
                r = berth_template_print_value(json_array_get(v, i), out);
        }
        return r < 0 ? r : berth_strbuf_putc(out, ']');
    }
    case JSON_OBJECT: {
        _cleanup_free_ const char **keys = sorted_keys(v);
        if (!keys)
            return -ENOMEM;
        int r = berth_strbuf_puts(out, "map[");
        for (size_t i = 0; r == 0 && keys[i]; i++) {
            if (i)
                r = berth_strbuf_putc(out, ' ');
            if (r == 0)
                r = berth_strbuf_printf(out, "%s:", keys[i]);
            if (r == 0)
                r = berth_template_print_value(json_object_get(v, keys[i]), out);
        }
        return r < 0 ? r : berth_strbuf_putc(out, ']');
    }
    default:
        return berth_strbuf_puts(out, "<nil>");
    }
}

/* A JSON null where docker's typed structs hold a nil map or slice prints as they do. */
static const char *
null_text(const char *field)
{
    static const char *const maps[] = {"Volumes",    "ExposedPorts", "Data",     "Options",
                                       "Attributes", "Ports",        "Networks", "Annotations",
                                       "DriverOpts", "Details",      "Status",   "Tmpfs",
                                       "StorageOpt", "Sysctls",      "LogConfig"};
    static const char *const slices[] = {
        "Env",         "Cmd",          "Entrypoint",     "OnBuild",   "Shell",      "RepoTags",
        "RepoDigests", "Layers",       "Mounts",         "Args",      "Binds",      "CapAdd",
        "CapDrop",     "Dns",          "DnsOptions",     "DnsSearch", "ExtraHosts", "Links",
        "Aliases",     "Warnings",     "SecurityOpt",    "Devices",   "Ulimits",    "GroupAdd",
        "Names",       "DriverStatus", "SecurityOptions"};
    if (!field)
        return "<nil>";
    size_t n = strlen(field);
    if (n >= 6 && !strcmp(field + n - 6, "Labels"))
        return "map[]";
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(maps); i++)
        if (!strcmp(field, maps[i]))
            return "map[]";
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(slices); i++)
        if (!strcmp(field, slices[i]))
            return "[]";
    return "<nil>";
}

static json_t *
field_chain(struct exec *st, json_t *base, char *const *chain, size_t n, size_t pos, size_t end)
{
    json_t *v = json_incref(base);
    for (size_t i = 0; i < n; i++) {
        const char *name = chain[i];
        json_t *next_v = NULL;
        bool typed = st->opts->root_type != NULL;
        if (json_is_object(v)) {
            next_v = json_object_get(v, name);
            if (!next_v) {
                /* docker's typed values use Go's names where the JSON differs in case only
                 * (.ID for "Id", .APIVersion for "ApiVersion") */
                const char *k;
                json_t *x;
                json_object_foreach(v, k, x)
                {
                    if (!strcasecmp(k, name)) {
                        next_v = x;
                        break;
                    }
                }
            }
            if (!next_v) {
                bool is_root = v == st->root;
                json_decref(v);
                /* docker's header maps and the maps inside typed values: Go prints an
                 * invalid value as "<no value>" */
                if ((st->opts->flags & BERTH_TMPL_HEADER) || (typed && !is_root))
                    return json_string("<no value>");
                if (is_root && st->opts->root_type)
                    exec_error(st, pos, end, "can't evaluate field %s in type %s", name,
                               st->opts->root_type);
                else
                    exec_error(st, pos, end, "map has no entry for key \"%s\"", name);
                return NULL;
            }
            json_incref(next_v);
        } else if (json_is_null(v) || !v) {
            json_decref(v);
            if (typed) /* a nil map of a typed value */
                return json_string("<no value>");
            exec_error(st, pos, end, "nil pointer evaluating interface {}.%s", name);
            return NULL;
        } else {
            exec_error(st, pos, end, "can't evaluate field %s in type %s", name, go_type(v));
            json_decref(v);
            return NULL;
        }
        json_decref(v);
        v = next_v;
        st->last_field = name;
    }
    return v;
}

static json_t *
var_lookup(struct exec *st, const char *name)
{
    for (size_t i = st->nvars; i > 0; i--)
        if (!strcmp(st->vars[i - 1].name, name))
            return st->vars[i - 1].val;
    return NULL;
}

static int
var_set(struct exec *st, const char *name, json_t *val, bool declare)
{
    if (!declare) {
        for (size_t i = st->nvars; i > 0; i--)
            if (!strcmp(st->vars[i - 1].name, name)) {
                json_decref(st->vars[i - 1].val);
                st->vars[i - 1].val = json_incref(val);
                return 0;
            }
    }
    if (st->nvars == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 8;
        struct var *n = realloc(st->vars, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        st->vars = n;
        st->cap = ncap;
    }
    st->vars[st->nvars++] = (struct var){.name = name, .val = json_incref(val)};
    return 0;
}

static void
var_restore(struct exec *st, size_t mark)
{
    while (st->nvars > mark)
        json_decref(st->vars[--st->nvars].val);
}

static json_t *eval_pipe(struct exec *st, const struct pipe *p, json_t *dot);
static json_t *call_func(struct exec *st, const struct cmd *c, const char *name, json_t **args,
                         size_t nargs);

static json_t *
eval_arg(struct exec *st, const struct arg *a, json_t *dot)
{
    json_t *base = NULL;
    switch (a->type) {
    case A_DOT:
        return json_incref(dot);
    case A_FIELD:
        return field_chain(st, dot, a->chain, a->nchain, a->pos, a->end);
    case A_VAR:
        base = json_incref(var_lookup(st, a->name));
        if (!base) {
            exec_error(st, a->pos, a->end, "undefined variable: %s", a->name);
            return NULL;
        }
        break;
    case A_PIPE:
        base = eval_pipe(st, a->pipe, dot);
        if (!base)
            return NULL;
        break;
    case A_STRING:
        return json_string(a->name);
    case A_INT:
        return json_integer(a->ival);
    case A_FLOAT:
        return json_real(a->fval);
    case A_BOOL:
        return json_boolean(a->bval);
    case A_NIL:
        return json_null();
    case A_IDENT: {
        struct cmd c = {.pos = a->pos, .end = a->end};
        return call_func(st, &c, a->name, NULL, 0);
    }
    }
    json_t *v = field_chain(st, base, a->chain, a->nchain, a->pos, a->end);
    json_decref(base);
    return v;
}

static json_t *
eval_cmd(struct exec *st, const struct cmd *c, json_t *dot, json_t *final)
{
    const struct arg *first = c->args[0];
    if (first->type == A_IDENT) {
        size_t n = c->nargs - 1 + (final ? 1 : 0);
        json_t **args = calloc(n + 1, sizeof(*args));
        if (!args) {
            berth_error_set(st->err, ENOMEM, "template");
            return NULL;
        }
        json_t *res = NULL;
        size_t got = 0;
        for (size_t i = 1; i < c->nargs; i++, got++) {
            args[got] = eval_arg(st, c->args[i], dot);
            if (!args[got])
                goto out;
        }
        if (final)
            args[got++] = json_incref(final);
        res = call_func(st, c, first->name, args, got);
    out:
        for (size_t i = 0; i < got; i++)
            json_decref(args[i]);
        free(args);
        return res;
    }
    if ((c->nargs > 1 || final) && first->type == A_FIELD && first->nchain == 1 &&
        st->opts->method && json_is_object(dot)) {
        size_t n = c->nargs - 1 + (final ? 1 : 0);
        json_t *args[8];
        size_t got = 0;
        bool ok = n <= 8;
        for (size_t i = 1; ok && i < c->nargs; i++) {
            args[got] = eval_arg(st, c->args[i], dot);
            if (!args[got])
                ok = false;
            else
                got++;
        }
        if (ok && final)
            args[got++] = json_incref(final);
        json_t *res =
            ok ? st->opts->method(st->opts->method_ud, dot, first->chain[0], args, got) : NULL;
        for (size_t i = 0; i < got; i++)
            json_decref(args[i]);
        if (res || !ok)
            return res;
    }
    if (c->nargs > 1 || final) {
        if (first->type == A_FIELD)
            exec_error(st, first->pos, first->end,
                       "%s has arguments but cannot be invoked as function",
                       first->chain[first->nchain - 1]);
        else
            exec_error(st, c->pos, c->end, "can't give argument to non-function %.*s",
                       (int)(first->end - first->pos), st->t->src + first->pos);
        return NULL;
    }
    if (first->type == A_NIL) {
        exec_error(st, c->pos, c->end, "nil is not a command");
        return NULL;
    }
    return eval_arg(st, first, dot);
}

static json_t *
eval_pipe(struct exec *st, const struct pipe *p, json_t *dot)
{
    json_t *v = NULL;
    for (size_t i = 0; i < p->ncmds; i++) {
        json_t *next_v = eval_cmd(st, p->cmds[i], dot, v);
        json_decref(v);
        if (!next_v)
            return NULL;
        v = next_v;
    }
    for (size_t i = 0; i < p->ndecl; i++)
        if (var_set(st, p->decl[i], v, !p->is_assign) < 0) {
            json_decref(v);
            berth_error_set(st->err, ENOMEM, "template");
            return NULL;
        }
    return v;
}

/* ---- functions ---- */

static bool
want_string(struct exec *st, const struct cmd *c, json_t *v)
{
    if (json_is_string(v))
        return true;
    exec_error(st, c->pos, c->end, "wrong type for value; expected string; got %s",
               st->opts->flags & BERTH_TMPL_HEADER ? "map[string]string" : go_type(v));
    return false;
}

static bool
want_int(struct exec *st, const struct cmd *c, json_t *v, long long *ret)
{
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
        return true;
    }
    exec_error(st, c->pos, c->end, "wrong type for value; expected int; got %s", go_type(v));
    return false;
}

static json_t *
str_map(const char *s, size_t n, int (*fn)(int))
{
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? (char)fn((unsigned char)s[i]) : s[i];
    copy[n] = '\0';
    json_t *v = json_stringn(copy, n);
    free(copy);
    return v;
}

static json_t *
fn_title(const char *s, size_t n)
{
    char *copy = strndup(s, n);
    if (!copy)
        return NULL;
    bool prev_sep = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)copy[i];
        bool sep = ch < 0x80 && !isalnum(ch) && ch != '_';
        if (prev_sep && ch < 0x80)
            copy[i] = (char)toupper(ch);
        prev_sep = sep;
    }
    json_t *v = json_stringn(copy, n);
    free(copy);
    return v;
}

/* Go's eq/lt on basic values: -2 when not comparable, else -1/0/1 */
static int
compare(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b)) {
            long long x = json_integer_value(a), y = json_integer_value(b);
            return x < y ? -1 : x > y;
        }
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b)) {
        int c = strcmp(json_string_value(a), json_string_value(b));
        return c < 0 ? -1 : c > 0;
    }
    if (json_is_boolean(a) && json_is_boolean(b))
        return json_is_true(a) == json_is_true(b) ? 0 : 1;
    if (json_is_null(a) && json_is_null(b))
        return 0;
    return -2;
}

static int
print_arg(const json_t *v, struct berth_strbuf *b)
{
    return berth_template_print_value(v, b);
}

/* Go's fmt.Sprintf for the verbs templates use. The C format is rebuilt from the verb's flags,
 * width and precision, which the template author wrote. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static json_t *
fn_printf(struct exec *st, const struct cmd *c, json_t **args, size_t nargs)
{
    if (!want_string(st, c, args[0]))
        return NULL;
    const char *f = json_string_value(args[0]);
    struct berth_strbuf b = {0};
    size_t ai = 1;
    for (; *f; f++) {
        if (*f != '%') {
            berth_strbuf_putc(&b, *f);
            continue;
        }
        const char *spec = f++;
        while (*f && strchr("+-# 0", *f))
            f++;
        while (*f && (isdigit((unsigned char)*f) || *f == '.'))
            f++;
        if (!*f)
            break;
        char verb = *f;
        if (verb == '%') {
            berth_strbuf_putc(&b, '%');
            continue;
        }
        char flags[32];
        snprintf(flags, sizeof(flags), "%.*s", (int)(f - spec), spec);
        if (ai >= nargs) {
            berth_strbuf_printf(&b, "%%!%c(MISSING)", verb);
            continue;
        }
        json_t *v = args[ai++];
        char fmtbuf[48];
        if ((verb == 'd' || verb == 'x' || verb == 'X' || verb == 'o' || verb == 'c') &&
            json_is_integer(v)) {
            snprintf(fmtbuf, sizeof(fmtbuf), "%sll%c", flags, verb);
            berth_strbuf_printf(&b, fmtbuf, (long long)json_integer_value(v));
        } else if (strchr("feEgG", verb) && json_is_number(v)) {
            snprintf(fmtbuf, sizeof(fmtbuf), "%s%c", flags, verb);
            berth_strbuf_printf(&b, fmtbuf, json_number_value(v));
        } else if (verb == 't' && json_is_boolean(v)) {
            snprintf(fmtbuf, sizeof(fmtbuf), "%ss", flags);
            berth_strbuf_printf(&b, fmtbuf, json_is_true(v) ? "true" : "false");
        } else if (verb == 's' || verb == 'v' || verb == 'q' ||
                   ((verb == 'x' || verb == 'X') && json_is_string(v))) {
            struct berth_strbuf sv = {0};
            if (verb == 'q' && json_is_string(v))
                berth_json_go_encode(v, false, &sv);
            else
                print_arg(v, &sv);
            if (verb == 'x' || verb == 'X') {
                struct berth_strbuf hx = {0};
                for (size_t i = 0; i < sv.len; i++)
                    berth_strbuf_printf(&hx, verb == 'x' ? "%02x" : "%02X", (unsigned char)sv.s[i]);
                berth_strbuf_free(&sv);
                sv = hx;
            }
            snprintf(fmtbuf, sizeof(fmtbuf), "%ss", flags);
            berth_strbuf_printf(&b, fmtbuf, berth_strbuf_str(&sv));
            berth_strbuf_free(&sv);
        } else {
            struct berth_strbuf sv = {0};
            print_arg(v, &sv);
            berth_strbuf_printf(&b, "%%!%c(%s=%s)", verb, go_type(v), berth_strbuf_str(&sv));
            berth_strbuf_free(&sv);
        }
    }
    if (ai < nargs) {
        berth_strbuf_puts(&b, "%!(EXTRA ");
        for (size_t i = ai; i < nargs; i++) {
            berth_strbuf_printf(&b, "%s%s=", i > ai ? ", " : "", go_type(args[i]));
            print_arg(args[i], &b);
        }
        berth_strbuf_putc(&b, ')');
    }
    json_t *res = json_stringn(berth_strbuf_str(&b), b.len);
    berth_strbuf_free(&b);
    return res;
}
#pragma GCC diagnostic pop

static json_t *
fn_print(json_t **args, size_t nargs, bool ln)
{
    struct berth_strbuf b = {0};
    for (size_t i = 0; i < nargs; i++) {
        /* Sprint adds spaces between operands when neither is a string; Sprintln always */
        if (i > 0 && (ln || (!json_is_string(args[i - 1]) && !json_is_string(args[i]))))
            berth_strbuf_putc(&b, ' ');
        print_arg(args[i], &b);
    }
    if (ln)
        berth_strbuf_putc(&b, '\n');
    json_t *res = json_stringn(berth_strbuf_str(&b), b.len);
    berth_strbuf_free(&b);
    return res;
}

static json_t *
fn_index(struct exec *st, const struct cmd *c, json_t **args, size_t nargs)
{
    json_t *v = args[0];
    for (size_t i = 1; i < nargs; i++) {
        if (json_is_null(v)) {
            exec_error(st, c->pos, c->end, "error calling index: index of untyped nil");
            return NULL;
        }
        if (json_is_array(v)) {
            if (!json_is_integer(args[i])) {
                exec_error(st, c->pos, c->end,
                           "error calling index: cannot index slice/array with type %s",
                           go_type(args[i]));
                return NULL;
            }
            long long k = json_integer_value(args[i]);
            if (k < 0 || (size_t)k >= json_array_size(v)) {
                exec_error(st, c->pos, c->end, "error calling index: index out of range: %lld", k);
                return NULL;
            }
            v = json_array_get(v, (size_t)k);
        } else if (json_is_object(v)) {
            if (!json_is_string(args[i])) {
                exec_error(st, c->pos, c->end,
                           "error calling index: value has type %s; should be string",
                           go_type(args[i]));
                return NULL;
            }
            json_t *x = json_object_get(v, json_string_value(args[i]));
            if (!x)
                return json_string(""); /* the zero value of docker's map[string]string */
            v = x;
        } else if (json_is_string(v) && json_is_integer(args[i])) {
            long long k = json_integer_value(args[i]);
            if (k < 0 || (size_t)k >= json_string_length(v)) {
                exec_error(st, c->pos, c->end, "error calling index: index out of range: %lld", k);
                return NULL;
            }
            return json_integer((unsigned char)json_string_value(v)[k]);
        } else {
            exec_error(st, c->pos, c->end, "error calling index: can't index item of type %s",
                       go_type(v));
            return NULL;
        }
    }
    return json_incref(v);
}

static json_t *
call_func(struct exec *st, const struct cmd *c, const char *name, json_t **args, size_t nargs)
{
    static const struct {
        const char *name;
        int min, max; /* -1: any */
    } arity[] = {
        {"json", 1, 1},     {"split", 2, 2},   {"join", 2, 2},   {"title", 1, 1},
        {"lower", 1, 1},    {"upper", 1, 1},   {"pad", 3, 3},    {"truncate", 2, 2},
        {"not", 1, 1},      {"len", 1, 1},     {"index", 1, -1}, {"eq", 1, -1},
        {"ne", 2, 2},       {"lt", 2, 2},      {"le", 2, 2},     {"gt", 2, 2},
        {"ge", 2, 2},       {"and", 1, -1},    {"or", 1, -1},    {"print", 0, -1},
        {"println", 0, -1}, {"printf", 1, -1},
    };
    bool header = st->opts->flags & BERTH_TMPL_HEADER;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(arity); i++) {
        if (strcmp(arity[i].name, name))
            continue;
        if ((int)nargs < arity[i].min || (arity[i].max >= 0 && (int)nargs > arity[i].max)) {
            if (arity[i].min == arity[i].max)
                exec_error(st, c->pos, c->end, "wrong number of args for %s: want %d got %zu", name,
                           arity[i].min, nargs);
            else
                exec_error(st, c->pos, c->end,
                           "wrong number of args for %s: want at least %d got %zu", name,
                           arity[i].min, nargs);
            return NULL;
        }
    }
    json_t *res = NULL;
    long long n1 = 0, n2 = 0;
    if (header && (!strcmp(name, "json") || !strcmp(name, "split") || !strcmp(name, "join") ||
                   !strcmp(name, "title") || !strcmp(name, "lower") || !strcmp(name, "upper") ||
                   !strcmp(name, "truncate")))
        return want_string(st, c, args[0]) ? json_incref(args[0]) : NULL;
    if (!strcmp(name, "json")) {
        struct berth_strbuf b = {0};
        bool row = (st->opts->flags & BERTH_TMPL_ROOT_JSON_HTML) && args[0] == st->root;
        json_t *sorted = NULL;
        if (row && json_is_object(args[0])) {
            /* docker's row contexts marshal through a map: sorted keys, HTML escaped */
            _cleanup_free_ const char **keys = sorted_keys(args[0]);
            sorted = json_object();
            for (size_t k = 0; keys && sorted && keys[k]; k++)
                json_object_set(sorted, keys[k], json_object_get(args[0], keys[k]));
        }
        berth_json_go_encode(sorted ? sorted : args[0], row, &b);
        json_decref(sorted);
        res = json_stringn(berth_strbuf_str(&b), b.len);
        berth_strbuf_free(&b);
    } else if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
        if (!want_string(st, c, args[0]))
            return NULL;
        res = str_map(json_string_value(args[0]), json_string_length(args[0]),
                      name[0] == 'l' ? tolower : toupper);
    } else if (!strcmp(name, "title")) {
        if (!want_string(st, c, args[0]))
            return NULL;
        res = fn_title(json_string_value(args[0]), json_string_length(args[0]));
    } else if (!strcmp(name, "split")) {
        if (!want_string(st, c, args[0]) || !want_string(st, c, args[1]))
            return NULL;
        const char *s = json_string_value(args[0]), *sep = json_string_value(args[1]);
        size_t sl = strlen(sep);
        res = json_array();
        if (sl == 0) {
            for (const char *p = s; *p;) {
                size_t l = 1;
                while (((unsigned char)p[l] & 0xc0) == 0x80)
                    l++;
                json_array_append_new(res, json_stringn(p, l));
                p += l;
            }
        } else {
            for (const char *p = s;;) {
                const char *q = strstr(p, sep);
                json_array_append_new(res, json_stringn(p, q ? (size_t)(q - p) : strlen(p)));
                if (!q)
                    break;
                p = q + sl;
            }
        }
    } else if (!strcmp(name, "join")) {
        if (!json_is_array(args[0])) {
            exec_error(st, c->pos, c->end, "wrong type for value; expected []string; got %s",
                       go_type(args[0]));
            return NULL;
        }
        if (!want_string(st, c, args[1]))
            return NULL;
        struct berth_strbuf b = {0};
        for (size_t i = 0; i < json_array_size(args[0]); i++) {
            if (i)
                berth_strbuf_puts(&b, json_string_value(args[1]));
            print_arg(json_array_get(args[0], i), &b);
        }
        res = json_stringn(berth_strbuf_str(&b), b.len);
        berth_strbuf_free(&b);
    } else if (!strcmp(name, "pad")) {
        if (!want_string(st, c, args[0]) || !want_int(st, c, args[1], &n1) ||
            !want_int(st, c, args[2], &n2))
            return NULL;
        if (json_string_length(args[0]) == 0)
            return json_incref(args[0]);
        struct berth_strbuf b = {0};
        for (long long i = 0; i < n1; i++)
            berth_strbuf_putc(&b, ' ');
        berth_strbuf_append(&b, json_string_value(args[0]), json_string_length(args[0]));
        for (long long i = 0; i < n2; i++)
            berth_strbuf_putc(&b, ' ');
        res = json_stringn(berth_strbuf_str(&b), b.len);
        berth_strbuf_free(&b);
    } else if (!strcmp(name, "truncate")) {
        if (!want_string(st, c, args[0]) || !want_int(st, c, args[1], &n1))
            return NULL;
        size_t l = json_string_length(args[0]);
        if (n1 < 0 || (size_t)n1 > l)
            return json_incref(args[0]);
        res = json_stringn(json_string_value(args[0]), (size_t)n1);
    } else if (!strcmp(name, "not")) {
        res = json_boolean(!truth(args[0]));
    } else if (!strcmp(name, "and") || !strcmp(name, "or")) {
        bool is_and = name[0] == 'a';
        size_t i = 0;
        for (; i + 1 < nargs; i++)
            if (truth(args[i]) != is_and)
                break;
        res = json_incref(args[i]);
    } else if (!strcmp(name, "len")) {
        if (json_is_string(args[0]))
            res = json_integer((json_int_t)json_string_length(args[0]));
        else if (json_is_array(args[0]))
            res = json_integer((json_int_t)json_array_size(args[0]));
        else if (json_is_object(args[0]))
            res = json_integer((json_int_t)json_object_size(args[0]));
        else {
            exec_error(st, c->pos, c->end, "error calling len: len of type %s", go_type(args[0]));
            return NULL;
        }
    } else if (!strcmp(name, "index")) {
        return fn_index(st, c, args, nargs);
    } else if (!strcmp(name, "eq") || !strcmp(name, "ne") || !strcmp(name, "lt") ||
               !strcmp(name, "le") || !strcmp(name, "gt") || !strcmp(name, "ge")) {
        if (nargs < 2) {
            exec_error(st, c->pos, c->end, "error calling %s: missing argument for comparison",
                       name);
            return NULL;
        }
        bool result = false;
        for (size_t i = 1; i < nargs; i++) {
            int cr = compare(args[0], args[i]);
            if (cr == -2) {
                exec_error(st, c->pos, c->end,
                           "error calling %s: incompatible types for comparison", name);
                return NULL;
            }
            if (!strcmp(name, "eq")) {
                if (cr == 0) {
                    result = true;
                    break;
                }
                continue;
            }
            if (json_is_boolean(args[0]) && strcmp(name, "ne")) {
                exec_error(st, c->pos, c->end, "error calling %s: invalid type for comparison",
                           name);
                return NULL;
            }
            result = !strcmp(name, "ne")   ? cr != 0
                     : !strcmp(name, "lt") ? cr < 0
                     : !strcmp(name, "le") ? cr <= 0
                     : !strcmp(name, "gt") ? cr > 0
                                           : cr >= 0;
        }
        res = json_boolean(result);
    } else if (!strcmp(name, "print") || !strcmp(name, "println")) {
        res = fn_print(args, nargs, name[5] == 'l');
    } else if (!strcmp(name, "printf")) {
        res = fn_printf(st, c, args, nargs);
    } else {
        exec_error(st, c->pos, c->end, "function \"%s\" not defined", name);
        return NULL;
    }
    if (!res)
        berth_error_set(st->err, ENOMEM, "template");
    return res;
}

/* ---- statements ---- */

static int exec_list(struct exec *st, const struct list *l, json_t *dot);

static int
print_result(struct exec *st, json_t *v)
{
    if (json_is_null(v))
        return berth_strbuf_puts(st->out, null_text(st->last_field));
    return berth_template_print_value(v, st->out);
}

static int
exec_range(struct exec *st, const struct node *n, json_t *val, size_t mark)
{
    const struct pipe *p = n->pipe;
    size_t count = json_is_array(val) ? json_array_size(val) : json_object_size(val);
    if (!json_is_array(val) && !json_is_object(val) && !json_is_null(val)) {
        return exec_error(st, n->pos, n->pos + 5, "range can't iterate over %s",
                          json_is_string(val) ? json_string_value(val) : go_type(val));
    }
    if (count == 0 || json_is_null(val))
        return exec_list(st, &n->else_list, st->root);
    _cleanup_free_ const char **keys = json_is_object(val) ? sorted_keys(val) : NULL;
    for (size_t i = 0; i < count; i++) {
        json_t *elem = keys ? json_object_get(val, keys[i]) : json_array_get(val, i);
        json_t *key = keys ? json_string(keys[i]) : json_integer((json_int_t)i);
        var_restore(st, mark);
        int r = 0;
        if (p->ndecl == 1)
            r = var_set(st, p->decl[0], elem, true);
        else if (p->ndecl == 2)
            r = var_set(st, p->decl[0], key, true) < 0 ? -ENOMEM
                                                       : var_set(st, p->decl[1], elem, true);
        json_decref(key);
        if (r < 0)
            return berth_error_set(st->err, ENOMEM, "template");
        r = exec_list(st, &n->list, elem);
        if (r < 0)
            return r;
        if (st->loop == 1) {
            st->loop = 0;
            break;
        }
        st->loop = 0;
    }
    return 0;
}

static int
exec_node(struct exec *st, const struct node *n, json_t *dot)
{
    if (n->type == N_TEXT)
        return berth_strbuf_append(st->out, n->text, n->text_len) < 0
                   ? berth_error_set(st->err, ENOMEM, "template")
                   : 0;
    if (n->type == N_BREAK || n->type == N_CONTINUE) {
        st->loop = n->type == N_BREAK ? 1 : 2;
        return 0;
    }
    size_t mark = st->nvars;
    st->last_field = NULL;
    json_t *v = eval_pipe(st, n->pipe, dot);
    if (!v)
        return -EINVAL;
    int r = 0;
    switch (n->type) {
    case N_ACTION:
        if (n->pipe->ndecl == 0 && print_result(st, v) < 0)
            r = berth_error_set(st->err, ENOMEM, "template");
        json_decref(v);
        return r; /* declared variables stay in scope until the enclosing end */
    case N_IF:
        r = exec_list(st, truth(v) ? &n->list : &n->else_list, dot);
        break;
    case N_WITH:
        r = truth(v) ? exec_list(st, &n->list, v) : exec_list(st, &n->else_list, dot);
        break;
    case N_RANGE:
        r = exec_range(st, n, v, st->nvars);
        break;
    default:
        break;
    }
    json_decref(v);
    var_restore(st, mark);
    return r;
}

static int
exec_list(struct exec *st, const struct list *l, json_t *dot)
{
    size_t mark = st->nvars;
    int r = 0;
    for (size_t i = 0; i < l->n && r == 0 && st->loop == 0; i++)
        r = exec_node(st, l->v[i], dot);
    var_restore(st, mark);
    return r;
}

int
berth_template_execute(const struct berth_template *t, json_t *dot,
                       const struct berth_template_opts *opts, struct berth_strbuf *out,
                       struct berth_error **err)
{
    static const struct berth_template_opts none = {0};
    struct exec st = {.t = t, .opts = opts ? opts : &none, .out = out, .err = err, .root = dot};
    int r = var_set(&st, "$", dot, true);
    if (r == 0)
        r = exec_list(&st, &t->root, dot);
    else
        r = berth_error_set(err, ENOMEM, "template");
    var_restore(&st, 0);
    free(st.vars);
    return r;
}
