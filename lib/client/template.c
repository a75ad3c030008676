/* A Go text/template subset over jansson values, for docker's --format (see format.h).
 * Parsing follows Go's grammar (actions, pipelines, control structures, trim markers) and reports
 * errors with Go's wording and positions so that users see what docker shows. */
#include "client/format.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cleanup.h"

#include "client/template_internal.h"

static void pipe_free(struct pipe *p);

static void
arg_free(struct arg *a)
{
    if (!a)
        return;
    free(a->name);
    pipe_free(a->pipe);
    for (size_t i = 0; i < a->nchain; i++)
        free(a->chain[i]);
    free(a->chain);
    free(a);
}

static void
cmd_free(struct cmd *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nargs; i++)
        arg_free(c->args[i]);
    free(c->args);
    free(c);
}

static void
pipe_free(struct pipe *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncmds; i++)
        cmd_free(p->cmds[i]);
    free(p->cmds);
    free(p->decl[0]);
    free(p->decl[1]);
    free(p);
}

static void list_free(struct list *l);

static void
node_free(struct node *n)
{
    if (!n)
        return;
    pipe_free(n->pipe);
    list_free(&n->list);
    list_free(&n->else_list);
    free(n);
}

static void
list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        node_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void
berth_template_free(struct berth_template *t)
{
    if (!t)
        return;
    list_free(&t->root);
    free(t->src);
    free(t->name);
    free(t);
}

void
berth_template_freep(struct berth_template **t)
{
    berth_template_free(*t);
    *t = NULL;
}

static int
push_ptr(void ***v, size_t *n, void *p)
{
    void **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return -ENOMEM;
    nv[(*n)++] = p;
    *v = nv;
    return 0;
}

/* ---- lexer ---- */

enum tok_type {
    T_EOF,
    T_RIGHT, /* }} */
    T_IDENT,
    T_FIELD,
    T_DOT,
    T_VAR,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_NIL,
    T_PIPE,
    T_LPAREN,
    T_RPAREN,
    T_DECLARE,
    T_ASSIGN,
    T_COMMA,
};

struct tok {
    enum tok_type type;
    size_t pos, len;
    bool space_before;
    bool trim; /* T_RIGHT: " -}}" */
    char *str; /* T_STRING decoded; T_IDENT/T_FIELD/T_VAR name */
    long long ival;
    double fval;
};

struct parser {
    const char *name;
    const char *src;
    size_t len, pos;
    struct berth_error **err;
    bool failed;
    struct tok peek;
    bool have_peek;
    bool trim_text; /* the previous action ended with -}} */
    int range_depth;
    char **vars; /* variables in scope ("$" first) */
    size_t nvars;
};

static const char *const known_funcs[] = {
    "json", "split", "join", "title", "lower",  "upper",   "pad", "truncate",
    "and",  "or",    "not",  "len",   "index",  "eq",      "ne",  "lt",
    "le",   "gt",    "ge",   "print", "printf", "println",
};

int
berth_template_line_of(const char *src, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        line += src[i] == '\n';
    return line;
}

static int parse_error(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
parse_error(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return -EINVAL;
    p->failed = true;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    berth_error_setq(p->err, EINVAL, "template: %s:%d: %s", p->name,
                     berth_template_line_of(p->src, pos), n >= 0 ? msg : "parse error");
    free(msg);
    return -EINVAL;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alnum_(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static void
tok_clear(struct tok *t)
{
    free(t->str);
    memset(t, 0, sizeof(*t));
}

/* Decodes a Go interpreted string literal starting at the quote; returns its source length. */
static int
lex_string(struct parser *p, size_t start, struct tok *t)
{
    struct berth_strbuf b = {0};
    size_t i = start + 1;
    while (i < p->len && p->src[i] != '"') {
        char c = p->src[i];
        if (c == '\n')
            break;
        if (c != '\\') {
            berth_strbuf_putc(&b, c);
            i++;
            continue;
        }
        if (i + 1 >= p->len)
            break;
        char e = p->src[i + 1];
        i += 2;
        switch (e) {
        case 'n':
            berth_strbuf_putc(&b, '\n');
            break;
        case 't':
            berth_strbuf_putc(&b, '\t');
            break;
        case 'r':
            berth_strbuf_putc(&b, '\r');
            break;
        case 'a':
            berth_strbuf_putc(&b, '\a');
            break;
        case 'b':
            berth_strbuf_putc(&b, '\b');
            break;
        case 'f':
            berth_strbuf_putc(&b, '\f');
            break;
        case 'v':
            berth_strbuf_putc(&b, '\v');
            break;
        case '\\':
        case '"':
        case '\'':
            berth_strbuf_putc(&b, e);
            break;
        case 'x': {
            char hex[3] = {0};
            if (i + 2 > p->len)
                goto bad;
            memcpy(hex, p->src + i, 2);
            char *end;
            long v = strtol(hex, &end, 16);
            if (*end)
                goto bad;
            berth_strbuf_putc(&b, (char)v);
            i += 2;
            break;
        }
        case 'u': {
            char hex[5] = {0};
            if (i + 4 > p->len)
                goto bad;
            memcpy(hex, p->src + i, 4);
            char *end;
            unsigned long v = strtoul(hex, &end, 16);
            if (*end)
                goto bad;
            char u[4];
            size_t n;
            if (v < 0x80) {
                u[0] = (char)v;
                n = 1;
            } else if (v < 0x800) {
                u[0] = (char)(0xc0 | (v >> 6));
                u[1] = (char)(0x80 | (v & 0x3f));
                n = 2;
            } else {
                u[0] = (char)(0xe0 | (v >> 12));
                u[1] = (char)(0x80 | ((v >> 6) & 0x3f));
                u[2] = (char)(0x80 | (v & 0x3f));
                n = 3;
            }
            berth_strbuf_append(&b, u, n);
            i += 4;
            break;
        }
        default:
            goto bad;
        }
    }
    if (i >= p->len || p->src[i] != '"') {
        berth_strbuf_free(&b);
        return parse_error(p, start, "unterminated quoted string");
    }
    t->str = berth_strbuf_steal(&b);
    t->type = T_STRING;
    t->len = i + 1 - start;
    return 0;
bad:
    berth_strbuf_free(&b);
    return parse_error(p, start, "invalid syntax: %.*s", (int)(i - start), p->src + start);
}

static int
lex_number(struct parser *p, size_t start, struct tok *t)
{
    size_t i = start;
    if (p->src[i] == '+' || p->src[i] == '-')
        i++;
    while (i < p->len &&
           (isalnum((unsigned char)p->src[i]) || p->src[i] == '.' || p->src[i] == '_' ||
            ((p->src[i] == '+' || p->src[i] == '-') &&
             (p->src[i - 1] == 'e' || p->src[i - 1] == 'E'))))
        i++;
    _cleanup_free_ char *text = strndup(p->src + start, i - start);
    if (!text)
        return parse_error(p, start, "out of memory");
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (!*end && errno == 0) {
        t->type = T_INT;
        t->ival = v;
    } else {
        double d = strtod(text, &end);
        if (*end)
            return parse_error(p, start, "bad number syntax: \"%s\"", text);
        t->type = T_FLOAT;
        t->fval = d;
    }
    t->len = i - start;
    return 0;
}

/* Reads the next token of an action. */
static int
lex(struct parser *p, struct tok *t)
{
    memset(t, 0, sizeof(*t));
    size_t i = p->pos;
    while (i < p->len && is_space(p->src[i])) {
        t->space_before = true;
        i++;
    }
    t->pos = i;
    if (i >= p->len)
        return parse_error(p, i, "unclosed action");
    const char *s = p->src + i;
    size_t left = p->len - i;
    if (t->space_before && left >= 3 && !strncmp(s, "-}}", 3)) {
        t->type = T_RIGHT;
        t->trim = true;
        t->len = 3;
    } else if (left >= 2 && !strncmp(s, "}}", 2)) {
        t->type = T_RIGHT;
        t->len = 2;
    } else if (*s == '|') {
        t->type = T_PIPE;
        t->len = 1;
    } else if (*s == '(') {
        t->type = T_LPAREN;
        t->len = 1;
    } else if (*s == ')') {
        t->type = T_RPAREN;
        t->len = 1;
    } else if (*s == ',') {
        t->type = T_COMMA;
        t->len = 1;
    } else if (left >= 2 && !strncmp(s, ":=", 2)) {
        t->type = T_DECLARE;
        t->len = 2;
    } else if (*s == '=') {
        t->type = T_ASSIGN;
        t->len = 1;
    } else if (*s == '"') {
        if (lex_string(p, i, t) < 0)
            return -EINVAL;
    } else if (*s == '`') {
        const char *end = memchr(s + 1, '`', left - 1);
        if (!end)
            return parse_error(p, i, "unterminated raw quoted string");
        t->type = T_STRING;
        t->str = strndup(s + 1, (size_t)(end - s - 1));
        t->len = (size_t)(end - s) + 1;
    } else if (*s == '.' && left > 1 && is_alnum_(s[1]) && !isdigit((unsigned char)s[1])) {
        size_t n = 1;
        while (n < left && is_alnum_(s[n]))
            n++;
        t->type = T_FIELD;
        t->str = strndup(s + 1, n - 1);
        t->len = n;
    } else if (isdigit((unsigned char)*s) || ((*s == '-' || *s == '+' || *s == '.') && left > 1 &&
                                              isdigit((unsigned char)s[1]))) {
        if (lex_number(p, i, t) < 0)
            return -EINVAL;
    } else if (*s == '.') {
        t->type = T_DOT;
        t->len = 1;
    } else if (*s == '$') {
        size_t n = 1;
        while (n < left && is_alnum_(s[n]))
            n++;
        t->type = T_VAR;
        t->str = strndup(s, n);
        t->len = n;
    } else if (is_alnum_(*s)) {
        size_t n = 0;
        while (n < left && is_alnum_(s[n]))
            n++;
        t->str = strndup(s, n);
        t->len = n;
        t->type = T_IDENT;
        if (!strcmp(t->str, "true") || !strcmp(t->str, "false"))
            t->type = T_BOOL;
        else if (!strcmp(t->str, "nil"))
            t->type = T_NIL;
    } else {
        unsigned char c = (unsigned char)*s;
        return parse_error(p, i, "bad character U+%04X '%c'", c, c);
    }
    if ((t->type == T_IDENT || t->type == T_FIELD || t->type == T_VAR || t->type == T_STRING ||
         t->type == T_BOOL || t->type == T_NIL) &&
        !t->str)
        return parse_error(p, i, "out of memory");
    p->pos = i + t->len;
    return 0;
}

static int
next(struct parser *p, struct tok *t)
{
    if (p->have_peek) {
        *t = p->peek;
        memset(&p->peek, 0, sizeof(p->peek));
        p->have_peek = false;
        return 0;
    }
    return lex(p, t);
}

static int
peek(struct parser *p, struct tok **ret)
{
    if (!p->have_peek) {
        if (lex(p, &p->peek) < 0)
            return -EINVAL;
        p->have_peek = true;
    }
    *ret = &p->peek;
    return 0;
}

/* ---- parser ---- */

static bool
var_known(struct parser *p, const char *name)
{
    for (size_t i = p->nvars; i > 0; i--)
        if (!strcmp(p->vars[i - 1], name))
            return true;
    return false;
}

static int
var_push(struct parser *p, const char *name)
{
    char *copy = strdup(name);
    if (!copy || push_ptr((void ***)&p->vars, &p->nvars, copy) < 0) {
        free(copy);
        return parse_error(p, p->pos, "out of memory");
    }
    return 0;
}

static void
var_pop_to(struct parser *p, size_t mark)
{
    while (p->nvars > mark)
        free(p->vars[--p->nvars]);
}

static int parse_pipe(struct parser *p, const char *context, enum tok_type end, struct pipe **ret);

/* Field names written right after a term: (x).A.B, $x.A */
static int
parse_chain(struct parser *p, struct arg *a)
{
    for (;;) {
        struct tok *t;
        if (peek(p, &t) < 0)
            return -EINVAL;
        if (t->type != T_FIELD || t->space_before)
            return 0;
        struct tok f;
        next(p, &f);
        if (push_ptr((void ***)&a->chain, &a->nchain, f.str) < 0) {
            tok_clear(&f);
            return parse_error(p, f.pos, "out of memory");
        }
        a->end = f.pos + f.len;
    }
}

static int
parse_operand(struct parser *p, struct tok *t, struct arg **ret)
{
    struct arg *a = calloc(1, sizeof(*a));
    if (!a) {
        tok_clear(t);
        return parse_error(p, t->pos, "out of memory");
    }
    a->pos = t->pos;
    a->end = t->pos + t->len;
    int r = 0;
    switch (t->type) {
    case T_FIELD:
        a->type = A_FIELD;
        r = push_ptr((void ***)&a->chain, &a->nchain, t->str);
        if (r == 0)
            t->str = NULL;
        break;
    case T_DOT:
        a->type = A_DOT;
        break;
    case T_VAR:
        a->type = A_VAR;
        if (!var_known(p, t->str))
            r = parse_error(p, t->pos, "undefined variable \"%s\"", t->str);
        a->name = TAKE_PTR(t->str);
        break;
    case T_IDENT: {
        bool known = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(known_funcs); i++)
            known = known || !strcmp(known_funcs[i], t->str);
        if (!known)
            r = parse_error(p, t->pos, "function \"%s\" not defined", t->str);
        a->type = A_IDENT;
        a->name = TAKE_PTR(t->str);
        break;
    }
    case T_STRING:
        a->type = A_STRING;
        a->name = TAKE_PTR(t->str);
        break;
    case T_INT:
        a->type = A_INT;
        a->ival = t->ival;
        break;
    case T_FLOAT:
        a->type = A_FLOAT;
        a->fval = t->fval;
        break;
    case T_BOOL:
        a->type = A_BOOL;
        a->bval = !strcmp(t->str, "true");
        break;
    case T_NIL:
        a->type = A_NIL;
        break;
    case T_LPAREN: {
        a->type = A_PIPE;
        r = parse_pipe(p, "parenthesized pipeline", T_RPAREN, &a->pipe);
        if (r == 0)
            a->end = p->pos;
        break;
    }
    default:
        r = parse_error(p, t->pos, "unexpected \"%.*s\" in operand", (int)t->len, p->src + t->pos);
    }
    tok_clear(t);
    if (r == 0 && (a->type == A_FIELD || a->type == A_VAR || a->type == A_PIPE || a->type == A_DOT))
        r = parse_chain(p, a);
    if (r == 0 && a->type == A_DOT && a->nchain > 0)
        r = parse_error(p, a->pos, "unexpected . after term \".\"");
    if (r < 0) {
        arg_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

/* pipeline := [decl] command { "|" command }, up to end (}} or ")") */
static int
parse_pipe(struct parser *p, const char *context, enum tok_type end, struct pipe **ret)
{
    struct pipe *pp = calloc(1, sizeof(*pp));
    if (!pp)
        return parse_error(p, p->pos, "out of memory");
    pp->pos = p->pos;
    int r = 0;
    /* declarations: $x := / $i, $e := / $x = */
    struct tok *t;
    if (peek(p, &t) == 0 && t->type == T_VAR) {
        size_t save_pos = p->pos;
        struct tok v = p->peek;
        /* look further without consuming: lex after the variable */
        struct tok after;
        if (lex(p, &after) == 0 &&
            (after.type == T_DECLARE || after.type == T_ASSIGN || after.type == T_COMMA)) {
            p->have_peek = false;
            memset(&p->peek, 0, sizeof(p->peek));
            pp->decl[pp->ndecl++] = v.str;
            if (after.type == T_COMMA) {
                struct tok v2, op;
                if (next(p, &v2) < 0 || v2.type != T_VAR || next(p, &op) < 0 ||
                    op.type != T_DECLARE) {
                    pipe_free(pp);
                    return parse_error(p, v.pos, "too many declarations in %s", context);
                }
                pp->decl[pp->ndecl++] = v2.str;
            } else {
                pp->is_assign = after.type == T_ASSIGN;
            }
            tok_clear(&after);
            for (size_t i = 0; i < pp->ndecl && r == 0; i++) {
                if (pp->is_assign && !var_known(p, pp->decl[i]))
                    r = parse_error(p, v.pos, "undefined variable \"%s\"", pp->decl[i]);
                else if (!pp->is_assign)
                    r = var_push(p, pp->decl[i]);
            }
        } else {
            tok_clear(&after);
            p->pos = save_pos;
            p->failed = false; /* a lookahead error is reported again by the real parse */
            berth_error_freep(p->err);
        }
    }
    struct cmd *c = NULL;
    while (r == 0) {
        struct tok tk;
        if (next(p, &tk) < 0) {
            r = -EINVAL;
            break;
        }
        if (tk.type == end || tk.type == T_PIPE) {
            if (!c || c->nargs == 0) {
                r = parse_error(p, tk.pos, "missing value for %s",
                                tk.type == end && pp->ncmds == 0 ? context : "command");
            } else {
                if (push_ptr((void ***)&pp->cmds, &pp->ncmds, c) < 0)
                    r = parse_error(p, tk.pos, "out of memory");
                c = NULL;
            }
            if (tk.type == end) {
                if (end == T_RIGHT)
                    p->trim_text = tk.trim;
                tok_clear(&tk);
                break;
            }
            tok_clear(&tk);
            continue;
        }
        if (tk.type == T_RIGHT || tk.type == T_RPAREN) {
            r = parse_error(p, tk.pos,
                            tk.type == T_RPAREN ? "unexpected right paren" : "unclosed left paren");
            tok_clear(&tk);
            break;
        }
        if (!c) {
            c = calloc(1, sizeof(*c));
            if (!c) {
                tok_clear(&tk);
                r = parse_error(p, tk.pos, "out of memory");
                break;
            }
            c->pos = tk.pos;
        } else if (!tk.space_before && tk.type != T_LPAREN) {
            r = parse_error(p, tk.pos, "unexpected \"%.*s\" in operand", (int)tk.len,
                            p->src + tk.pos);
            tok_clear(&tk);
            break;
        }
        struct arg *a = NULL;
        r = parse_operand(p, &tk, &a);
        if (r == 0 && push_ptr((void ***)&c->args, &c->nargs, a) < 0) {
            arg_free(a);
            r = parse_error(p, p->pos, "out of memory");
        }
        if (r == 0)
            c->end = a->end;
    }
    cmd_free(c);
    if (r < 0) {
        pipe_free(pp);
        return r;
    }
    *ret = pp;
    return 0;
}

enum list_end { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *p, struct list *l, enum list_end *ret_end, size_t *ret_pos);

/* {{if/range/with pipeline}} list [{{else}} list | {{else if ...}}] {{end}} */
static int
parse_control(struct parser *p, enum node_type type, size_t pos, struct node **ret)
{
    struct node *n = calloc(1, sizeof(*n));
    if (!n)
        return parse_error(p, pos, "out of memory");
    n->type = type;
    n->pos = pos;
    size_t mark = p->nvars;
    const char *what = type == N_IF ? "if" : type == N_RANGE ? "range" : "with";
    int r = parse_pipe(p, what, T_RIGHT, &n->pipe);
    if (r == 0 && type == N_RANGE)
        p->range_depth++;
    enum list_end end = END_EOF;
    size_t end_pos = 0;
    if (r == 0)
        r = parse_list(p, &n->list, &end, &end_pos);
    if (r == 0 && type == N_RANGE)
        p->range_depth--;
    if (r == 0 && end == END_EOF)
        r = parse_error(p, p->len, "unexpected EOF");
    if (r == 0 && end == END_ELSE) {
        /* "else if" / "else with": a nested control as the whole else branch */
        struct tok *t;
        r = peek(p, &t);
        if (r == 0 && t->type == T_IDENT &&
            ((type == N_IF && !strcmp(t->str, "if")) ||
             (type == N_WITH && !strcmp(t->str, "with")))) {
            struct tok kw;
            next(p, &kw);
            struct node *nested = NULL;
            r = parse_control(p, type, kw.pos, &nested);
            tok_clear(&kw);
            if (r == 0 && push_ptr((void ***)&n->else_list.v, &n->else_list.n, nested) < 0) {
                node_free(nested);
                r = parse_error(p, pos, "out of memory");
            }
        } else if (r == 0) {
            struct tok rt;
            r = next(p, &rt);
            if (r == 0 && rt.type != T_RIGHT)
                r = parse_error(p, rt.pos, "unexpected \"%.*s\" in else", (int)rt.len,
                                p->src + rt.pos);
            if (r == 0)
                p->trim_text = rt.trim;
            tok_clear(&rt);
            if (r == 0)
                r = parse_list(p, &n->else_list, &end, &end_pos);
            if (r == 0 && end != END_END)
                r = parse_error(p, end == END_ELSE ? end_pos : p->len,
                                end == END_ELSE ? "expected end; found {{else}}"
                                                : "unexpected EOF");
        }
    }
    var_pop_to(p, mark);
    if (r < 0) {
        node_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

/* Reads text and actions until EOF, {{end}} or {{else}}. */
static int
parse_list(struct parser *p, struct list *l, enum list_end *ret_end, size_t *ret_pos)
{
    for (;;) {
        size_t start = p->pos;
        const char *open = NULL;
        for (size_t i = start; i + 1 < p->len; i++)
            if (p->src[i] == '{' && p->src[i + 1] == '{') {
                open = p->src + i;
                break;
            }
        size_t text_end = open ? (size_t)(open - p->src) : p->len;
        size_t action = text_end + 2;
        bool trim_left =
            open && action + 1 < p->len && p->src[action] == '-' && is_space(p->src[action + 1]);
        size_t ts = start, te = text_end;
        if (p->trim_text)
            while (ts < te && is_space(p->src[ts]))
                ts++;
        if (trim_left)
            while (te > ts && is_space(p->src[te - 1]))
                te--;
        p->trim_text = false;
        if (te > ts) {
            struct node *n = calloc(1, sizeof(*n));
            if (!n || push_ptr((void ***)&l->v, &l->n, n) < 0) {
                free(n);
                return parse_error(p, ts, "out of memory");
            }
            n->type = N_TEXT;
            n->pos = ts;
            n->text = p->src + ts;
            n->text_len = te - ts;
        }
        if (!open) {
            p->pos = p->len;
            *ret_end = END_EOF;
            return 0;
        }
        p->pos = action + (trim_left ? 2 : 0);
        /* a comment action: slash-star ... star-slash */
        size_t c = p->pos;
        if (c + 1 < p->len && p->src[c] == '/' && p->src[c + 1] == '*') {
            const char *close = strstr(p->src + c + 2, "*/");
            if (!close)
                return parse_error(p, c, "unclosed comment");
            p->pos = (size_t)(close - p->src) + 2;
            struct tok rt;
            if (next(p, &rt) < 0)
                return -EINVAL;
            if (rt.type != T_RIGHT)
                return parse_error(p, rt.pos, "comment ends before closing delimiter");
            p->trim_text = rt.trim;
            continue;
        }
        struct tok *t;
        if (peek(p, &t) < 0)
            return -EINVAL;
        if (t->type == T_IDENT) {
            const char *kw = t->str;
            size_t kpos = t->pos;
            if (!strcmp(kw, "end") || !strcmp(kw, "else")) {
                bool is_end = !strcmp(kw, "end");
                struct tok k;
                next(p, &k);
                tok_clear(&k);
                *ret_pos = kpos;
                if (is_end) {
                    struct tok rt;
                    if (next(p, &rt) < 0)
                        return -EINVAL;
                    if (rt.type != T_RIGHT) {
                        tok_clear(&rt);
                        return parse_error(p, rt.pos, "unexpected \"%.*s\" in end", (int)rt.len,
                                           p->src + rt.pos);
                    }
                    p->trim_text = rt.trim;
                }
                *ret_end = is_end ? END_END : END_ELSE;
                return 0;
            }
            enum node_type nt = !strcmp(kw, "if")         ? N_IF
                                : !strcmp(kw, "range")    ? N_RANGE
                                : !strcmp(kw, "with")     ? N_WITH
                                : !strcmp(kw, "break")    ? N_BREAK
                                : !strcmp(kw, "continue") ? N_CONTINUE
                                                          : N_ACTION;
            if (!strcmp(kw, "define") || !strcmp(kw, "template") || !strcmp(kw, "block"))
                return parse_error(p, kpos, "{{%s}} is not supported", kw);
            if (nt != N_ACTION) {
                struct tok k;
                next(p, &k);
                tok_clear(&k);
                struct node *n = NULL;
                if (nt == N_BREAK || nt == N_CONTINUE) {
                    if (p->range_depth == 0)
                        return parse_error(p, kpos, "{{%s}} outside {{range}}",
                                           nt == N_BREAK ? "break" : "continue");
                    struct tok rt;
                    if (next(p, &rt) < 0)
                        return -EINVAL;
                    bool right = rt.type == T_RIGHT;
                    p->trim_text = rt.trim;
                    tok_clear(&rt);
                    if (!right)
                        return parse_error(p, kpos, "unexpected token in {{break}}");
                    n = calloc(1, sizeof(*n));
                    if (n) {
                        n->type = nt;
                        n->pos = kpos;
                    }
                } else if (parse_control(p, nt, kpos, &n) < 0) {
                    return -EINVAL;
                }
                if (!n || push_ptr((void ***)&l->v, &l->n, n) < 0) {
                    node_free(n);
                    return parse_error(p, kpos, "out of memory");
                }
                continue;
            }
        }
        struct node *n = calloc(1, sizeof(*n));
        if (!n)
            return parse_error(p, p->pos, "out of memory");
        n->type = N_ACTION;
        n->pos = p->pos;
        if (parse_pipe(p, "command", T_RIGHT, &n->pipe) < 0 ||
            push_ptr((void ***)&l->v, &l->n, n) < 0) {
            node_free(n);
            return parse_error(p, p->pos, "out of memory");
        }
    }
}

int
berth_template_parse_named(const char *name, const char *text, struct berth_template **ret,
                           struct berth_error **err)
{
    struct berth_template *t = calloc(1, sizeof(*t));
    if (!t || !(t->src = strdup(text)) || !(t->name = strdup(name))) {
        berth_template_free(t);
        return berth_error_set(err, ENOMEM, "parse template");
    }
    struct parser p = {.name = t->name, .src = t->src, .len = strlen(t->src), .err = err};
    var_push(&p, "$");
    enum list_end end = END_EOF;
    size_t end_pos = 0;
    int r = parse_list(&p, &t->root, &end, &end_pos);
    if (r == 0 && end != END_EOF)
        r = parse_error(&p, end_pos, "unexpected {{%s}}", end == END_END ? "end" : "else");
    if (p.have_peek)
        tok_clear(&p.peek);
    var_pop_to(&p, 0);
    free(p.vars);
    if (r < 0) {
        berth_template_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

int
berth_template_parse(const char *text, struct berth_template **ret, struct berth_error **err)
{
    return berth_template_parse_named("", text, ret, err);
}
