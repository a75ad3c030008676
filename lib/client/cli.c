/* What the client's commands share (see commands.h): the client handle, pflag-style option
 * parsing with docker's usage messages, filters, image references and time arguments. */
#include "client/commands.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

struct berth_client *
berth_cli_client(struct berth_cli *cli)
{
    if (cli->client)
        return cli->client;
    _cleanup_error_ struct berth_error *err = NULL;
    if (berth_client_new(&cli->client_opts, &cli->client, &err) < 0) {
        berth_cli_fail(cli, err);
        return NULL;
    }
    return cli->client;
}

int
berth_cli_fail(struct berth_cli *cli, struct berth_error *err)
{
    fflush(cli->out); /* what was printed comes before the error, as docker's */
    fprintf(cli->err, "%s\n", err && err->msg ? err->msg : "unknown error");
    return 1;
}

void
berth_cli_close(struct berth_cli *cli)
{
    berth_client_freep(&cli->client);
}

/* ---- options ---- */

static void
print_usage_line(struct berth_cli *cli, FILE *f, const struct berth_cli_cmd_info *info)
{
    fprintf(f, "Usage:  %s %s%s%s\n", cli->prog, cli->cmd_path, info->usage[0] ? " " : "",
            info->usage);
}

int
berth_cli_usage_error(struct berth_cli *cli, const struct berth_cli_cmd_info *info, const char *msg)
{
    fprintf(cli->err, "%s\n\n", msg);
    print_usage_line(cli, cli->err, info);
    fprintf(cli->err, "\nRun '%s %s --help' for more information\n", cli->prog, cli->cmd_path);
    return 125;
}

static int
cmp_opt(const void *a, const void *b)
{
    const struct berth_opt *const *x = a, *const *y = b;
    return strcmp((*x)->long_name, (*y)->long_name);
}

static void
print_help(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
           const struct berth_opt *opts, size_t nopts)
{
    FILE *f = cli->out;
    print_usage_line(cli, f, info);
    fprintf(f, "\n%s\n", info->summary);
    if (info->aliases)
        fprintf(f, "\nAliases:\n  %s\n", info->aliases);
    if (nopts == 0)
        return;
    const struct berth_opt **sorted = calloc(nopts, sizeof(*sorted));
    if (!sorted)
        return;
    for (size_t i = 0; i < nopts; i++)
        sorted[i] = &opts[i];
    qsort(sorted, nopts, sizeof(*sorted), cmp_opt);
    /* pflag's FlagUsages: descriptions start 3 columns after the longest flag */
    char lines[128][96];
    size_t maxlen = 0, n = nopts < 128 ? nopts : 128;
    for (size_t i = 0; i < n; i++) {
        const struct berth_opt *o = sorted[i];
        const char *var = o->type == BERTH_OPT_BOOL                    ? NULL
                          : o->type == BERTH_OPT_INT && !o->value_name ? "int"
                          : o->value_name                              ? o->value_name
                                                                       : "string";
        if (o->short_name)
            snprintf(lines[i], sizeof(lines[i]), "  -%c, --%s%s%s", o->short_name, o->long_name,
                     var ? " " : "", var ? var : "");
        else
            snprintf(lines[i], sizeof(lines[i]), "      --%s%s%s", o->long_name, var ? " " : "",
                     var ? var : "");
        if (strlen(lines[i]) > maxlen)
            maxlen = strlen(lines[i]);
    }
    fprintf(f, "\nOptions:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%-*s   %s\n", (int)maxlen, lines[i], sorted[i]->help ? sorted[i]->help : "");
    free(sorted);
}

static bool
parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i])) {
            *ret = true;
            return true;
        }
        if (!strcmp(s, no[i])) {
            *ret = false;
            return true;
        }
    }
    return false;
}

int
berth_filters_add(json_t **filters, const char *key, const char *value)
{
    if (!*filters && !(*filters = json_object()))
        return -ENOMEM;
    json_t *set = json_object_get(*filters, key);
    if (!set) {
        set = json_object();
        if (!set || json_object_set_new(*filters, key, set) < 0)
            return -ENOMEM;
    }
    return json_object_set_new(set, value, json_true()) < 0 ? -ENOMEM : 0;
}

/* Stores a flag's value; a message in *ret_msg when the value is invalid. */
static int
set_value(const struct berth_opt *o, const char *flag_name, const char *value, char **ret_msg)
{
    switch (o->type) {
    case BERTH_OPT_BOOL: {
        bool b;
        if (!parse_bool(value, &b)) {
            if (asprintf(ret_msg,
                         "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                         "\"%s\": invalid syntax",
                         value, flag_name, value) < 0)
                *ret_msg = NULL;
            return -EINVAL;
        }
        *(bool *)o->ptr = b;
        return 0;
    }
    case BERTH_OPT_STRING:
        *(const char **)o->ptr = value;
        return 0;
    case BERTH_OPT_LIST:
        return berth_strv_push((char ***)o->ptr, value);
    case BERTH_OPT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 0);
        if (!value[0] || *end || errno) {
            if (asprintf(ret_msg,
                         "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing "
                         "\"%s\": %s",
                         value, flag_name, value,
                         errno == ERANGE ? "value out of range" : "invalid syntax") < 0)
                *ret_msg = NULL;
            return -EINVAL;
        }
        *(long long *)o->ptr = v;
        return 0;
    }
    case BERTH_OPT_FILTER: {
        const char *eq = strchr(value, '=');
        if (!eq) {
            if (asprintf(ret_msg,
                         "invalid argument \"%s\" for \"%s\" flag: bad format of filter (expected "
                         "name=value)",
                         value, flag_name) < 0)
                *ret_msg = NULL;
            return -EINVAL;
        }
        /* the key is trimmed and lower-cased, the value trimmed */
        _cleanup_free_ char *key = strndup(value, (size_t)(eq - value));
        if (!key)
            return -ENOMEM;
        char *k = key;
        while (isspace((unsigned char)*k))
            k++;
        size_t kl = strlen(k);
        while (kl > 0 && isspace((unsigned char)k[kl - 1]))
            k[--kl] = '\0';
        for (char *p = k; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        const char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        _cleanup_free_ char *val = strdup(v);
        if (!val)
            return -ENOMEM;
        size_t vl = strlen(val);
        while (vl > 0 && isspace((unsigned char)val[vl - 1]))
            val[--vl] = '\0';
        return berth_filters_add((json_t **)o->ptr, k, val);
    }
    }
    return 0;
}

static const char *
count_word(int n)
{
    return n == 1 ? "argument" : "arguments";
}

static bool
parse_args(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
           const struct berth_opt *opts, size_t nopts, int argc, char **argv, char ***ret_args,
           int *ret_nargs, int *ret_status, bool stop_at_arg)
{
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    int nargs = 0;
    _cleanup_free_ char *msg = NULL;
    char name[128];
    if (!args) {
        fprintf(cli->err, "out of memory\n");
        *ret_status = 1;
        return false;
    }
    bool only_args = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') {
            args[nargs++] = a;
            if (stop_at_arg)
                only_args = true;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = true;
            continue;
        }
        if (a[1] == '-') {
            const char *n = a + 2;
            const char *eq = strchr(n, '=');
            size_t nl = eq ? (size_t)(eq - n) : strlen(n);
            if (nl == 4 && !strncmp(n, "help", 4)) {
                print_help(cli, info, opts, nopts);
                free(args);
                *ret_status = 0;
                return false;
            }
            const struct berth_opt *o = NULL;
            for (size_t j = 0; j < nopts; j++)
                if (strlen(opts[j].long_name) == nl && !strncmp(opts[j].long_name, n, nl))
                    o = &opts[j];
            if (!o) {
                if (asprintf(&msg, "unknown flag: --%.*s", (int)nl, n) < 0)
                    msg = NULL;
                goto usage;
            }
            const char *value = eq ? eq + 1 : NULL;
            if (!value && o->type == BERTH_OPT_BOOL)
                value = "true";
            if (!value) {
                if (i + 1 >= argc) {
                    if (asprintf(&msg, "flag needs an argument: --%s", o->long_name) < 0)
                        msg = NULL;
                    goto usage;
                }
                value = argv[++i];
            }
            if (o->short_name)
                snprintf(name, sizeof(name), "-%c, --%s", o->short_name, o->long_name);
            else
                snprintf(name, sizeof(name), "--%s", o->long_name);
            if (set_value(o, name, value, &msg) < 0)
                goto usage;
            continue;
        }
        /* a group of short flags: -aq, -fvalue, -f=value, -f value */
        for (size_t k = 1; a[k]; k++) {
            char c = a[k];
            bool h_is_flag = false;
            for (size_t j = 0; j < nopts; j++)
                h_is_flag = h_is_flag || opts[j].short_name == 'h';
            if (c == 'h' && !h_is_flag) {
                print_help(cli, info, opts, nopts);
                free(args);
                *ret_status = 0;
                return false;
            }
            const struct berth_opt *o = NULL;
            for (size_t j = 0; j < nopts; j++)
                if (opts[j].short_name == c)
                    o = &opts[j];
            if (!o) {
                if (asprintf(&msg, "unknown shorthand flag: '%c' in %s", c, a) < 0)
                    msg = NULL;
                goto usage;
            }
            const char *value = NULL;
            if (a[k + 1] == '=') {
                value = a + k + 2;
            } else if (o->type == BERTH_OPT_BOOL) {
                value = "true";
            } else if (a[k + 1]) {
                value = a + k + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                if (asprintf(&msg, "flag needs an argument: '%c' in -%c", c, c) < 0)
                    msg = NULL;
                goto usage;
            }
            snprintf(name, sizeof(name), "-%c, --%s", o->short_name, o->long_name);
            if (set_value(o, name, value, &msg) < 0)
                goto usage;
            if (o->type != BERTH_OPT_BOOL || a[k + 1] == '=')
                break;
        }
    }
    if (nargs < info->min_args || (info->max_args >= 0 && nargs > info->max_args)) {
        char what[160];
        if (info->max_args == 0)
            snprintf(what, sizeof(what), "accepts no arguments");
        else if (info->min_args == info->max_args)
            snprintf(what, sizeof(what), "requires %d %s", info->min_args,
                     count_word(info->min_args));
        else if (info->max_args < 0)
            snprintf(what, sizeof(what), "requires at least %d %s", info->min_args,
                     count_word(info->min_args));
        else if (info->min_args == 0)
            snprintf(what, sizeof(what), "requires at most %d %s", info->max_args,
                     count_word(info->max_args));
        else
            snprintf(what, sizeof(what), "requires at least %d and at most %d %s", info->min_args,
                     info->max_args, count_word(info->max_args));
        fprintf(cli->err, "%s: '%s %s' %s\n\n", cli->prog, cli->prog, cli->cmd_path, what);
        print_usage_line(cli, cli->err, info);
        /* docker's wording differs between its argument checks */
        fprintf(cli->err, "\n%s '%s %s --help' for more information\n",
                info->min_args > 0 && info->min_args != info->max_args ? "See" : "Run", cli->prog,
                cli->cmd_path);
        free(args);
        *ret_status = 1;
        return false;
    }
    *ret_args = args;
    *ret_nargs = nargs;
    return true;
usage:
    free(args);
    *ret_status = berth_cli_usage_error(cli, info, msg ? msg : "invalid arguments");
    return false;
}

bool
berth_cli_parse(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
                const struct berth_opt *opts, size_t nopts, int argc, char **argv, char ***ret_args,
                int *ret_nargs, int *ret_status)
{
    return parse_args(cli, info, opts, nopts, argc, argv, ret_args, ret_nargs, ret_status, false);
}

bool
berth_cli_parse_until_args(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
                           const struct berth_opt *opts, size_t nopts, int argc, char **argv,
                           char ***ret_args, int *ret_nargs, int *ret_status)
{
    return parse_args(cli, info, opts, nopts, argc, argv, ret_args, ret_nargs, ret_status, true);
}

/* ---- image references ---- */

void
berth_image_ref_clear(struct berth_image_ref *ref)
{
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    memset(ref, 0, sizeof(*ref));
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool
valid_component(const char *s, size_t n)
{
    if (n == 0 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 0; i < n;) {
        if (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t sep = i;
        if (s[i] == '.' || (s[i] == '_' && (i + 1 >= n || s[i + 1] != '_')))
            i++;
        else if (s[i] == '_' && s[i + 1] == '_')
            i += 2;
        else if (s[i] == '-')
            while (i < n && s[i] == '-')
                i++;
        else
            return false;
        if (i >= n || i == sep || !(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
            return false;
    }
    return true;
}

static bool
valid_domain(const char *s, size_t n)
{
    if (n == 0)
        return false;
    /* host[:port], host = DNS labels or [IPv6] */
    const char *colon = memrchr(s, ':', n);
    const char *bracket = memrchr(s, ']', n);
    size_t hl = n;
    if (colon && (!bracket || colon > bracket)) {
        hl = (size_t)(colon - s);
        if (hl + 1 >= n)
            return false;
        for (size_t i = hl + 1; i < n; i++)
            if (!isdigit((unsigned char)s[i]))
                return false;
    }
    if (hl > 0 && s[0] == '[')
        return s[hl - 1] == ']';
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return hl > 0;
}

static bool
valid_tag(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
            return false;
    return true;
}

static bool
valid_digest(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || colon == d)
        return false;
    for (const char *p = d; p < colon; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("+._-", *p))
            return false;
    size_t hl = strlen(colon + 1);
    if (hl < 32)
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

int
berth_image_ref_parse(const char *text, struct berth_image_ref *ret, struct berth_error **err)
{
    size_t len = strlen(text);
    bool hex64 = len == 64;
    for (size_t i = 0; hex64 && i < len; i++)
        hex64 = isdigit((unsigned char)text[i]) || (text[i] >= 'a' && text[i] <= 'f');
    if (hex64)
        return berth_error_setq(err, EINVAL,
                                "invalid repository name (%s), cannot specify 64-byte hexadecimal "
                                "strings",
                                text);
    struct berth_image_ref r = {0};
    /* split name[:tag][@digest] */
    _cleanup_free_ char *name = strdup(text);
    if (!name)
        return berth_error_set(err, ENOMEM, "parse reference");
    char *at = strchr(name, '@');
    if (at) {
        *at = '\0';
        r.digest = strdup(at + 1);
    }
    char *slash = strrchr(name, '/');
    char *colon = strrchr(slash ? slash : name, ':');
    if (colon) {
        *colon = '\0';
        r.tag = strdup(colon + 1);
    }
    /* the domain: a first component with '.' or ':', or localhost, or with upper case */
    const char *remainder = name;
    char *first_slash = strchr(name, '/');
    if (first_slash) {
        size_t dl = (size_t)(first_slash - name);
        bool is_domain = memchr(name, '.', dl) || memchr(name, ':', dl) ||
                         (dl == 9 && !strncmp(name, "localhost", 9));
        for (size_t i = 0; !is_domain && i < dl; i++)
            is_domain = isupper((unsigned char)name[i]);
        if (is_domain) {
            r.domain = strndup(name, dl);
            remainder = first_slash + 1;
        }
    }
    if (!r.domain)
        r.domain = strdup("docker.io");
    if (r.domain && !strcmp(r.domain, "index.docker.io")) {
        free(r.domain);
        r.domain = strdup("docker.io");
    }
    if (r.domain && !strcmp(r.domain, "docker.io") && !strchr(remainder, '/')) {
        if (asprintf(&r.path, "library/%s", remainder) < 0)
            r.path = NULL;
    } else {
        r.path = strdup(remainder);
    }
    if (!r.domain || !r.path || (at && !r.digest) || (colon && !r.tag)) {
        berth_image_ref_clear(&r);
        return berth_error_set(err, ENOMEM, "parse reference");
    }
    for (const char *p = r.path; *p; p++)
        if (isupper((unsigned char)*p)) {
            int rr = berth_error_setq(err, EINVAL,
                                      "invalid reference format: repository name (%s) must be "
                                      "lowercase",
                                      r.path);
            berth_image_ref_clear(&r);
            return rr;
        }
    bool ok = valid_domain(r.domain, strlen(r.domain)) && r.path[0];
    for (const char *p = r.path; ok && *p;) {
        size_t n = strcspn(p, "/");
        ok = valid_component(p, n);
        p += n;
        if (*p == '/') {
            p++;
            ok = ok && *p;
        }
    }
    if (ok && r.tag)
        ok = valid_tag(r.tag);
    if (ok && r.digest)
        ok = valid_digest(r.digest);
    if (!ok || !text[0]) {
        berth_image_ref_clear(&r);
        return berth_error_setq(err, EINVAL, "invalid reference format");
    }
    if (strlen(r.domain) + 1 + strlen(r.path) > 255) {
        berth_image_ref_clear(&r);
        return berth_error_setq(err, EINVAL,
                                "invalid reference format: repository name must "
                                "not be more than 255 characters");
    }
    *ret = r;
    return 0;
}

char *
berth_image_ref_name(const struct berth_image_ref *ref)
{
    char *s = NULL;
    if (asprintf(&s, "%s/%s", ref->domain, ref->path) < 0)
        return NULL;
    return s;
}

char *
berth_image_ref_familiar_name(const struct berth_image_ref *ref)
{
    if (strcmp(ref->domain, "docker.io"))
        return berth_image_ref_name(ref);
    const char *p = ref->path;
    if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/'))
        p += 8;
    return strdup(p);
}

/* ---- time arguments ---- */

/* Go's time.ParseDuration; false when s is not a duration. */
static bool
parse_go_duration(const char *s, double *ret_seconds)
{
    static const struct {
        const char *unit;
        double secs;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
                 {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600}};
    double sign = 1, total = 0;
    if (*s == '-' || *s == '+')
        sign = *s++ == '-' ? -1 : 1;
    if (!strcmp(s, "0")) {
        *ret_seconds = 0;
        return true;
    }
    if (!*s)
        return false;
    while (*s) {
        char *end;
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
        double v = strtod(s, &end);
        if (end == s)
            return false;
        s = end;
        size_t best = 0;
        double mult = 0;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(units); i++) {
            size_t ul = strlen(units[i].unit);
            if (!strncmp(s, units[i].unit, ul) && ul > best &&
                !(ul == 1 && units[i].unit[0] == 'm' && s[1] == 's')) {
                best = ul;
                mult = units[i].secs;
            }
        }
        if (best == 0)
            return false;
        total += v * mult;
        s += best;
    }
    *ret_seconds = sign * total;
    return true;
}

static bool
all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int
berth_cli_timestamp(const char *value, double now, char **ret, struct berth_error **err)
{
    double d;
    if (strcmp(value, "0") && parse_go_duration(value, &d)) {
        double t = now - d;
        long long secs = (long long)t;
        if (t < 0 && (double)secs != t)
            secs--; /* floor */
        if (asprintf(ret, "%lld", secs) < 0)
            return berth_error_set(err, ENOMEM, "timestamp");
        return 0;
    }
    /* dates and times, in the local zone unless one is given */
    size_t dashes = 0;
    for (const char *p = value; *p; p++)
        dashes += *p == '-';
    bool in_location = !(strpbrk(value, "zZ+") || dashes == 3);
    int y, mo, dd, h = 0, mi = 0, s = 0, n = 0;
    if (sscanf(value, "%4d-%2d-%2d%n", &y, &mo, &dd, &n) == 3 && n == 10) {
        const char *p = value + 10;
        long nsec = 0, off = 0;
        bool ok = true;
        if (*p == 'T') {
            p++;
            int m = 0;
            if (sscanf(p, "%2d%n", &h, &m) == 1 && m == 2) {
                p += 2;
                if (*p == ':' && sscanf(p + 1, "%2d%n", &mi, &m) == 1 && m == 2) {
                    p += 3;
                    if (*p == ':' && sscanf(p + 1, "%2d%n", &s, &m) == 1 && m == 2)
                        p += 3;
                }
            } else {
                ok = false;
            }
            if (ok && *p == '.') {
                p++;
                int digits = 0;
                while (isdigit((unsigned char)*p)) {
                    if (digits++ < 9)
                        nsec = nsec * 10 + (*p - '0');
                    p++;
                }
                while (digits++ < 9)
                    nsec *= 10;
            }
        }
        if (ok && !in_location) {
            if (*p == 'Z' || *p == 'z') {
                p++;
            } else if (*p == '+' || *p == '-') {
                int oh, om, m = 0;
                if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) == 2 && m == 5) {
                    off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
                    p += 6;
                } else {
                    ok = false;
                }
            }
        }
        if (ok && !*p && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 &&
            s < 61) {
            struct tm tm = {.tm_year = y - 1900,
                            .tm_mon = mo - 1,
                            .tm_mday = dd,
                            .tm_hour = h,
                            .tm_min = mi,
                            .tm_sec = s};
            time_t t = timegm(&tm);
            if (in_location) {
                /* Go uses the zone's current offset (time.FixedZone(reference.Zone())) */
                time_t nt = (time_t)now;
                struct tm lt;
                localtime_r(&nt, &lt);
                off = lt.tm_gmtoff;
            }
            t -= off;
            if (asprintf(ret, "%lld.%09ld", (long long)t, nsec) < 0)
                return berth_error_set(err, ENOMEM, "timestamp");
            return 0;
        }
    }
    if (strchr(value, '-')) {
        if (sscanf(value, "%4d-%2d-%2d", &y, &mo, &dd) == 3 && (mo < 1 || mo > 12))
            return berth_error_setq(err, EINVAL, "parsing time \"%s\": month out of range", value);
        if (sscanf(value, "%4d-%2d-%2d", &y, &mo, &dd) == 3 && (dd < 1 || dd > 31))
            return berth_error_setq(err, EINVAL, "parsing time \"%s\": day out of range", value);
        return berth_error_setq(err, EINVAL, "parsing time \"%s\": cannot parse as a date", value);
    }
    /* Unix seconds, optionally with nanoseconds: passed through */
    const char *dot = strchr(value, '.');
    size_t il = dot ? (size_t)(dot - value) : strlen(value);
    if (!all_digits(value, il) || (dot && !all_digits(dot + 1, strlen(dot + 1))))
        return berth_error_setq(err, EINVAL, "failed to parse value as time or duration: \"%s\"",
                                value);
    *ret = strdup(value);
    return *ret ? 0 : berth_error_set(err, ENOMEM, "timestamp");
}

bool
berth_cli_confirm(struct berth_cli *cli, const char *message)
{
    fprintf(cli->out, "%s [y/N] ", message);
    fflush(cli->out);
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof(line)) {
        char c;
        ssize_t r = read(cli->in_fd, &c, 1);
        if (r <= 0 || c == '\n')
            break;
        line[n++] = c;
    }
    line[n] = '\0';
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    size_t l = strlen(p);
    while (l > 0 && isspace((unsigned char)p[l - 1]))
        p[--l] = '\0';
    return !strcasecmp(p, "y");
}

const char *
berth_cli_jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

long long
berth_cli_jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v)
           : json_is_real(v)  ? (long long)json_real_value(v)
                              : 0;
}
