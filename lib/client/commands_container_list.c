/* berth ps, inspect (containers, then images), container inspect, stats: docker's container
 * listings and their --format fields. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "client/ps_parse.h"
#include "core/cleanup.h"
#include "core/util.h"

/* ---- ps ---- */

#define PS_TABLE                                                                                   \
    "table "                                                                                       \
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* strconv.Quote for the printable ASCII and UTF-8 text commands hold */
static void
go_quote(const char *s, struct berth_strbuf *b)
{
    berth_strbuf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            berth_strbuf_puts(b, "\\\"");
            break;
        case '\\':
            berth_strbuf_puts(b, "\\\\");
            break;
        case '\n':
            berth_strbuf_puts(b, "\\n");
            break;
        case '\t':
            berth_strbuf_puts(b, "\\t");
            break;
        case '\r':
            berth_strbuf_puts(b, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                berth_strbuf_printf(b, "\\x%02x", *p);
            else
                berth_strbuf_putc(b, (char)*p);
        }
    }
    berth_strbuf_putc(b, '"');
}

static const char *
str(const char *s)
{
    return s ? s : "";
}

/* docker's DisplayablePorts for the daemon's port list */
static void
ports_text(const struct berth_ps_entry *c, struct berth_strbuf *b)
{
    for (size_t i = 0; i < c->n_ports; i++) {
        const struct berth_ps_port *p = &c->ports[i];
        if (b->len)
            berth_strbuf_puts(b, ", ");
        if (p->ip && p->ip[0])
            berth_strbuf_printf(b, "%s:%lld->%lld/%s", p->ip, p->public_port, p->private_port,
                                str(p->type));
        else
            berth_strbuf_printf(b, "%lld/%s", p->private_port, str(p->type));
    }
}

/* The IMAGE column of the last entry: the same image and ID show the same. */
struct image_cache {
    char *image, *image_id, *shown;
};

static void
image_cache_clear(struct image_cache *ic)
{
    free(ic->image);
    free(ic->image_id);
    free(ic->shown);
}

/* A row's fields, in the order docker's MarshalJSON sorts them (bit i: ps_fields[i]). */
static const char *const ps_fields[] = {
    "Command",  "CreatedAt", "ID",    "Image",      "Labels", "LocalVolumes", "Mounts", "Names",
    "Networks", "Platform",  "Ports", "RunningFor", "Size",   "State",        "Status"};
enum {
    PS_CREATED_AT = 1u << 1,
    PS_LABELS = 1u << 4,
    PS_LOCAL_VOLUMES = 1u << 5,
    PS_MOUNTS = 1u << 6,
    PS_NETWORKS = 1u << 8,
    PS_PORTS = 1u << 10,
    PS_RUNNING_FOR = 1u << 11,
    PS_SIZE = 1u << 12,
    PS_ALL = (1u << BERTH_ARRAY_SIZE(ps_fields)) - 1,
};

/* The fields a template can reach: those it names (".Field"), or all when it uses the row as a
 * whole (a dot not followed by a name, as in {{json .}}, or a $ variable). Rows of the default
 * table take 7 of the 15, which halves what 500 rows cost. */
static unsigned
ps_fields_needed(const char *format)
{
    _cleanup_free_ char *fmt = berth_format_prepare(format, NULL); /* "json" is {{json .}} */
    if (!fmt)
        return PS_ALL;
    for (const char *p = fmt; *p; p++) {
        if (*p == '$' || (*p == '.' && !(isalpha((unsigned char)p[1]) || p[1] == '_')))
            return PS_ALL;
    }
    unsigned need = 0;
    for (size_t f = 0; f < BERTH_ARRAY_SIZE(ps_fields); f++) {
        char dotted[32];
        snprintf(dotted, sizeof(dotted), ".%s", ps_fields[f]);
        if (strstr(fmt, dotted))
            need |= 1u << f;
    }
    return need;
}

static json_t *
ps_row(const struct berth_ps_entry *c, bool trunc, unsigned need, struct image_cache *cache)
{
    char created_at[96] = "", running[96] = "", size[96] = "";
    long long created = c->created;
    if (need & PS_CREATED_AT)
        berth_time_go_string((time_t)created, created_at, sizeof(created_at));
    if (need & PS_RUNNING_FOR) {
        char d[64];
        berth_human_duration(berth_now() - (double)created, d, sizeof(d));
        snprintf(running, sizeof(running), "%s ago", d);
    }
    if (need & PS_SIZE) {
        char srw[32], sv[32];
        berth_human_size((double)c->size_rw, 3, srw, sizeof(srw));
        berth_human_size((double)c->size_root_fs, 3, sv, sizeof(sv));
        if (c->size_root_fs > 0)
            snprintf(size, sizeof(size), "%s (virtual %s)", srw, sv);
        else
            snprintf(size, sizeof(size), "%s", srw);
    }
    _cleanup_free_ char *id = trunc ? berth_truncate_id(str(c->id)) : strdup(str(c->id));
    /* Names: the first without a slash inside when truncating, else all */
    _cleanup_strbuf_ struct berth_strbuf names = {0};
    for (size_t i = 0; i < c->n_names; i++) {
        const char *name = str(c->names[i]);
        if (name[0] == '/')
            name++;
        if (trunc) {
            if (!strchr(name, '/')) {
                berth_strbuf_puts(&names, name);
                break;
            }
            continue;
        }
        if (names.len)
            berth_strbuf_putc(&names, ',');
        berth_strbuf_puts(&names, name);
    }
    /* Image */
    const char *image = str(c->image);
    _cleanup_free_ char *img = NULL;
    if (trunc && cache && cache->image && !strcmp(cache->image, image) &&
        !strcmp(cache->image_id, str(c->image_id))) {
        img = strdup(cache->shown); /* most containers share a few images */
    } else if (!image[0]) {
        img = strdup("<no image>");
    } else if (trunc) {
        _cleanup_free_ char *t1 = berth_truncate_id(str(c->image_id));
        _cleanup_free_ char *t2 = berth_truncate_id(image);
        struct berth_image_ref ref = {0};
        struct berth_error *e = NULL;
        if (t1 && t2 && !strcmp(t1, t2)) {
            img = TAKE_PTR(t1);
        } else if (berth_image_ref_parse(image, &ref, &e) == 0) {
            _cleanup_free_ char *fam = berth_image_ref_familiar_name(&ref);
            if (fam &&
                asprintf(&img, "%s%s%s", fam, ref.tag ? ":" : "", ref.tag ? ref.tag : "") < 0)
                img = NULL;
            berth_image_ref_clear(&ref);
        } else {
            berth_error_free(e);
        }
    }
    if (!img)
        img = strdup(image);
    if (trunc && cache && img) {
        free(cache->image);
        free(cache->image_id);
        free(cache->shown);
        cache->image = strdup(image);
        cache->image_id = strdup(str(c->image_id));
        cache->shown = strdup(img);
        if (!cache->image || !cache->image_id || !cache->shown) {
            free(cache->image);
            cache->image = NULL;
        }
    }
    /* Command */
    _cleanup_strbuf_ struct berth_strbuf cmd = {0};
    _cleanup_free_ char *cut =
        trunc ? berth_ellipsis(str(c->command), 20) : strdup(str(c->command));
    go_quote(cut ? cut : "", &cmd);
    /* Labels, sorted k=v */
    size_t k = 0;
    char **lv = need & PS_LABELS ? calloc(c->n_labels + 1, sizeof(*lv)) : NULL;
    for (size_t i = 0; lv && i < c->n_labels; i++)
        if (asprintf(&lv[k], "%s=%s", c->label_keys[i], str(c->label_values[i])) >= 0)
            k++;
    if (lv)
        qsort(lv, k, sizeof(*lv), cmp_str);
    _cleanup_free_ char *ljoined = lv ? berth_strv_join(lv, ",") : NULL;
    berth_strv_free(lv);
    /* Mounts */
    _cleanup_strbuf_ struct berth_strbuf mounts = {0};
    long long local = 0;
    for (size_t i = 0; (need & (PS_MOUNTS | PS_LOCAL_VOLUMES)) && i < c->n_mounts; i++) {
        const struct berth_ps_mount *m = &c->mounts[i];
        const char *name = str(m->name)[0] ? m->name : str(m->source);
        _cleanup_free_ char *e = trunc ? berth_ellipsis(name, 15) : strdup(name);
        if (mounts.len)
            berth_strbuf_putc(&mounts, ',');
        berth_strbuf_puts(&mounts, e ? e : "");
        if (!strcmp(str(m->driver), "local"))
            local++;
    }
    char lvols[32];
    snprintf(lvols, sizeof(lvols), "%lld", local);
    /* Networks */
    _cleanup_strbuf_ struct berth_strbuf nets = {0};
    for (size_t i = 0; (need & PS_NETWORKS) && i < c->n_networks; i++) {
        if (nets.len)
            berth_strbuf_putc(&nets, ',');
        berth_strbuf_puts(&nets, c->networks[i]);
    }
    _cleanup_strbuf_ struct berth_strbuf ports = {0};
    if (need & PS_PORTS)
        ports_text(c, &ports);
    const char *values[] = {berth_strbuf_str(&cmd),
                            created_at,
                            id ? id : "",
                            img ? img : "",
                            ljoined ? ljoined : "",
                            lvols,
                            berth_strbuf_str(&mounts),
                            berth_strbuf_str(&names),
                            berth_strbuf_str(&nets),
                            NULL, /* Platform: null */
                            berth_strbuf_str(&ports),
                            running,
                            size,
                            str(c->state),
                            str(c->status)};
    _Static_assert(BERTH_ARRAY_SIZE(values) == BERTH_ARRAY_SIZE(ps_fields), "one value a field");
    json_t *row = json_object();
    for (size_t f = 0; row && f < BERTH_ARRAY_SIZE(ps_fields); f++) {
        if (!(need & (1u << f)))
            continue;
        json_t *v = values[f] ? json_string(values[f]) : json_null();
        if (json_object_set_new_nocheck(row, ps_fields[f], v) < 0) {
            json_decref(row);
            row = NULL;
        }
    }
    return row;
}

static int
list_containers(struct berth_client *c, const struct berth_query *q, struct berth_ps_list *ret,
                struct berth_error **err)
{
    struct berth_ps_parser *p = NULL;
    int r = berth_ps_parser_new(&p, err);
    if (r < 0)
        return r;
    struct berth_request req = {.method = "GET",
                                .path = "/containers/json",
                                .query = q,
                                .upload_fd = -1,
                                .on_data = berth_ps_parser_feed,
                                .ud = p};
    _cleanup_response_ struct berth_response resp = {0};
    r = berth_client_request(c, &req, &resp, err);
    if (r == 0)
        r = berth_ps_parser_finish(p, ret, err);
    berth_ps_parser_free(p);
    return r;
}

struct label_ctx {
    json_t *rows;
    const struct berth_ps_list *containers;
};

static json_t *
ps_method(void *ud, json_t *dot, const char *name, json_t **args, size_t nargs)
{
    struct label_ctx *x = ud;
    if (strcmp(name, "Label") || nargs != 1 || !json_is_string(args[0]))
        return NULL;
    size_t i;
    json_t *row;
    json_array_foreach(x->rows, i, row)
    {
        if (row == dot && i < x->containers->n) {
            const struct berth_ps_entry *c = &x->containers->v[i];
            for (size_t k = 0; k < c->n_labels; k++)
                if (!strcmp(c->label_keys[k], json_string_value(args[0])))
                    return json_string(str(c->label_values[k]));
            break;
        }
    }
    return json_string("");
}

int
berth_cli_cmd_ps(struct berth_cli *cli, int argc, char **argv)
{
    bool all = false, quiet = false, size = false, no_trunc = false, latest = false;
    long long last = -1;
    const char *format = NULL;
    json_t *filters = NULL;
    const struct berth_opt opts[] = {
        {'a', "all", BERTH_OPT_BOOL, &all, NULL,
         "Show all containers (default shows just running)"},
        {'f', "filter", BERTH_OPT_FILTER, &filters, "filter",
         "Filter output based on conditions provided"},
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go "
         "template"},
        {'n', "last", BERTH_OPT_INT, &last, "int",
         "Show n last created containers (includes all states) (default -1)"},
        {'l', "latest", BERTH_OPT_BOOL, &latest, NULL,
         "Show the latest created container (includes all states)"},
        {0, "no-trunc", BERTH_OPT_BOOL, &no_trunc, NULL, "Don't truncate output"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL, "Only display container IDs"},
        {'s', "size", BERTH_OPT_BOOL, &size, NULL, "Display total file sizes"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS]", "List containers",
        "berth container ls, berth container list, berth container ps, berth ps", 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_(json_decrefp) json_t *filters_owned = filters;
    if (!parsed)
        return status;
    if (latest && last == -1)
        last = 1;
    const char *f = format && format[0] ? format : "table";
    _cleanup_free_ char *fmt = NULL;
    if (!strcmp(f, "table")) {
        if (quiet)
            fmt = strdup("{{.ID}}");
        else if (asprintf(&fmt, "%s%s", PS_TABLE, size ? "\t{{.Size}}" : "") < 0)
            fmt = NULL;
    } else {
        fmt = strdup(quiet ? "{{.ID}}" : f);
    }
    if (!fmt)
        return 1;
    if (!quiet && strstr(fmt, ".Size"))
        size = true;
    _cleanup_query_ struct berth_query q = {0};
    if (all)
        berth_query_add(&q, "all", "1");
    if (last > 0) {
        char l[32];
        snprintf(l, sizeof(l), "%lld", last);
        berth_query_add(&q, "limit", l);
    }
    if (size)
        berth_query_add(&q, "size", "1");
    _cleanup_free_ char *fj = berth_filters_json(filters_owned);
    if (fj)
        berth_query_add(&q, "filters", fj);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_(berth_ps_list_clear) struct berth_ps_list ctrs = {0};
    if (list_containers(c, &q, &ctrs, &err) < 0)
        return berth_cli_fail(cli, err);
    _cleanup_(json_decrefp) json_t *rows = json_array();
    _cleanup_(image_cache_clear) struct image_cache ic = {0};
    unsigned need = ps_fields_needed(fmt);
    for (size_t i = 0; i < ctrs.n; i++)
        json_array_append_new(rows, ps_row(&ctrs.v[i], !no_trunc, need, &ic));
    _cleanup_(json_decrefp) json_t *header = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
        "CONTAINER ID", "Names", "NAMES", "Image", "IMAGE", "Command", "COMMAND", "CreatedAt",
        "CREATED AT", "RunningFor", "CREATED", "Ports", "PORTS", "State", "STATE", "Status",
        "STATUS", "Size", "SIZE", "Labels", "LABELS", "Mounts", "MOUNTS", "LocalVolumes",
        "LOCAL VOLUMES", "Networks", "NETWORKS", "Platform", "PLATFORM");
    struct label_ctx lx = {.rows = rows, .containers = &ctrs};
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    if (berth_format_write_methods(fmt, header, "*formatter.ContainerContext", rows, ps_method, &lx,
                                   &out, &err) < 0) {
        /* docker's container list words execution errors its own way */
        const char *m = err->msg;
        if (!strncmp(m, "template parsing error: ", 24) && strstr(m, ": executing "))
            fprintf(cli->err, "failed to execute template: %s\n", m + 24);
        else
            fprintf(cli->err, "%s\n", m);
        return 1;
    }
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}

/* ---- inspect ---- */

static int
inspect_common(struct berth_cli *cli, char **names, int n, const char *format, bool size,
               const char *type)
{
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_template_ struct berth_template *tmpl = NULL;
    bool json_compact = format && !strcmp(format, "json");
    if (format && format[0] && !json_compact && berth_template_parse(format, &tmpl, &err) < 0) {
        fprintf(cli->err, "template parsing error: %s\n", err->msg);
        return 64;
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    struct berth_inspect_out io = {.tmpl = tmpl};
    _cleanup_query_ struct berth_query q = {0};
    if (size)
        berth_query_add(&q, "size", "1");
    for (int i = 0; i < n; i++) {
        _cleanup_(json_decrefp) json_t *v = NULL;
        _cleanup_free_ char *body = NULL;
        _cleanup_error_ struct berth_error *e = NULL;
        bool ok = false, try_image = !type || !strcmp(type, "image");
        if (!type || !strcmp(type, "container")) {
            _cleanup_free_ char *path = berth_cli_ctr_path(names[i], "/json");
            ok = path && berth_client_get_json(c, path, &q, &v, &body, &e) == 0;
            if (!ok && type) {
                berth_inspect_out_error(&io, e ? e->msg : "error");
                continue;
            }
            if (!ok && e && e->code != ENOENT) {
                berth_inspect_out_error(&io, e->msg);
                continue;
            }
        }
        if (!ok && try_image) {
            berth_error_free(e);
            e = NULL;
            _cleanup_free_ char *path = NULL;
            if (asprintf(&path, "/images/%s/json", names[i]) >= 0)
                ok = berth_client_get_json(c, path, NULL, &v, &body, &e) == 0;
            if (!ok) {
                if (type || (e && e->code != ENOENT)) {
                    berth_inspect_out_error(&io, e ? e->msg : "error");
                } else {
                    _cleanup_free_ char *msg = NULL;
                    berth_inspect_out_error(
                        &io, asprintf(&msg, "Error: No such object: %s", names[i]) >= 0 ? msg
                                                                                        : names[i]);
                }
                continue;
            }
        }
        berth_inspect_out_add(&io, v, body);
    }
    return berth_inspect_out_finish(cli, &io, json_compact);
}

int
berth_cli_cmd_inspect(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL, *type = NULL;
    bool size = false;
    const struct berth_opt opts[] = {
        {'f', "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
        {'s', "size", BERTH_OPT_BOOL, &size, NULL,
         "Display total file sizes if the type is container"},
        {0, "type", BERTH_OPT_STRING, &type, "string", "Only inspect objects of the given type"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] NAME|ID [NAME|ID...]",
                                                   "Return low-level information on Docker objects",
                                                   NULL, 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    if (type && type[0] && strcmp(type, "container") && strcmp(type, "image")) {
        fprintf(cli->err, "\"%s\" is not a valid value for --type\n", type);
        return 1;
    }
    return inspect_common(cli, args, nargs, format, size, type && type[0] ? type : NULL);
}

int
berth_cli_cmd_container_inspect(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    bool size = false;
    const struct berth_opt opts[] = {
        {'f', "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
        {'s', "size", BERTH_OPT_BOOL, &size, NULL, "Display total file sizes"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] CONTAINER [CONTAINER...]",
        "Display detailed information on one or more containers", NULL, 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    return inspect_common(cli, args, nargs, format, size, "container");
}

/* ---- stats ---- */

static json_t *
stats_row(const char *given, json_t *s, bool trunc)
{
    json_t *cpu = json_object_get(s, "cpu_stats"), *pre = json_object_get(s, "precpu_stats");
    double cpu_delta = (double)berth_cli_jint(json_object_get(cpu, "cpu_usage"), "total_usage") -
                       (double)berth_cli_jint(json_object_get(pre, "cpu_usage"), "total_usage");
    double sys_delta = (double)berth_cli_jint(cpu, "system_cpu_usage") -
                       (double)berth_cli_jint(pre, "system_cpu_usage");
    double online = (double)berth_cli_jint(cpu, "online_cpus");
    if (online == 0)
        online = (double)json_array_size(
            json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
    double cpu_pct = sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * online * 100 : 0;
    json_t *mem = json_object_get(s, "memory_stats");
    json_t *mstats = json_object_get(mem, "stats");
    double usage = (double)berth_cli_jint(mem, "usage");
    double inactive = json_object_get(mstats, "total_inactive_file")
                          ? (double)berth_cli_jint(mstats, "total_inactive_file")
                          : (double)berth_cli_jint(mstats, "inactive_file");
    if (inactive < usage)
        usage -= inactive;
    double limit = (double)berth_cli_jint(mem, "limit");
    double mem_pct = limit != 0 ? usage / limit * 100 : 0;
    double rx = 0, tx = 0, rd = 0, wr = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "networks"), k, v)
    {
        rx += (double)berth_cli_jint(v, "rx_bytes");
        tx += (double)berth_cli_jint(v, "tx_bytes");
    }
    size_t i;
    json_array_foreach(
        json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive"), i, v)
    {
        const char *op = berth_cli_jstr(v, "op");
        if (!strcasecmp(op, "read"))
            rd += (double)berth_cli_jint(v, "value");
        else if (!strcasecmp(op, "write"))
            wr += (double)berth_cli_jint(v, "value");
    }
    char cpu_s[32], mem_s[80], memp_s[32], net_s[80], blk_s[80], pids_s[32], a[32], b[32];
    snprintf(cpu_s, sizeof(cpu_s), "%.2f%%", cpu_pct);
    berth_bytes_size(usage, a, sizeof(a));
    berth_bytes_size(limit, b, sizeof(b));
    snprintf(mem_s, sizeof(mem_s), "%s / %s", a, b);
    snprintf(memp_s, sizeof(memp_s), "%.2f%%", mem_pct);
    berth_human_size(rx, 3, a, sizeof(a));
    berth_human_size(tx, 3, b, sizeof(b));
    snprintf(net_s, sizeof(net_s), "%s / %s", a, b);
    berth_human_size(rd, 3, a, sizeof(a));
    berth_human_size(wr, 3, b, sizeof(b));
    snprintf(blk_s, sizeof(blk_s), "%s / %s", a, b);
    snprintf(pids_s, sizeof(pids_s), "%lld",
             berth_cli_jint(json_object_get(s, "pids_stats"), "current"));
    const char *name = berth_cli_jstr(s, "name");
    if (name[0] == '/')
        name++;
    _cleanup_free_ char *id =
        trunc ? berth_truncate_id(berth_cli_jstr(s, "id")) : strdup(berth_cli_jstr(s, "id"));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk_s, "CPUPerc",
                     cpu_s, "Container", given, "ID", id ? id : "", "MemPerc", memp_s, "MemUsage",
                     mem_s, "Name", name, "NetIO", net_s, "PIDs", pids_s);
}

static volatile sig_atomic_t stats_stop;

static void
on_stats_signal(int sig)
{
    (void)sig;
    stats_stop = 1;
}

int
berth_cli_cmd_stats(struct berth_cli *cli, int argc, char **argv)
{
    bool all = false, no_stream = false, no_trunc = false;
    const char *format = NULL;
    const struct berth_opt opts[] = {
        {'a', "all", BERTH_OPT_BOOL, &all, NULL,
         "Show all containers (default shows just running)"},
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go "
         "template"},
        {0, "no-stream", BERTH_OPT_BOOL, &no_stream, NULL,
         "Disable streaming stats and only pull the first result"},
        {0, "no-trunc", BERTH_OPT_BOOL, &no_trunc, NULL, "Do not truncate output"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] [CONTAINER...]",
        "Display a live stream of container(s) resource usage "
        "statistics",
        "berth container stats, berth stats", 0, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_strv_ char **names = NULL;
    if (nargs > 0) {
        for (int i = 0; i < nargs; i++)
            berth_strv_push(&names, args[i]);
    } else {
        _cleanup_query_ struct berth_query q = {0};
        if (all)
            berth_query_add(&q, "all", "1");
        _cleanup_(json_decrefp) json_t *ctrs = NULL;
        if (berth_client_get_json(c, "/containers/json", &q, &ctrs, NULL, &err) < 0)
            return berth_cli_fail(cli, err);
        json_t *ctr;
        size_t i;
        json_array_foreach(ctrs, i, ctr)
        {
            _cleanup_free_ char *id = berth_truncate_id(berth_cli_jstr(ctr, "Id"));
            berth_strv_push(&names, id ? id : "");
        }
    }
    const char *f = format && format[0] ? format : "table";
    const char *fmt = !strcmp(f, "table") ? "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}"
                                            "\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
                                          : f;
    _cleanup_(json_decrefp) json_t *header = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", "CONTAINER", "ID",
        "CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
        "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");
    bool live = !no_stream;
    bool tty = isatty(fileno(cli->out));
    if (live) {
        signal(SIGINT, on_stats_signal);
        signal(SIGTERM, on_stats_signal);
    }
    do {
        _cleanup_(json_decrefp) json_t *rows = json_array();
        _cleanup_strbuf_ struct berth_strbuf errors = {0};
        for (char **n = names; n && *n; n++) {
            _cleanup_query_ struct berth_query q = {0};
            berth_query_add(&q, "stream", "0");
            _cleanup_free_ char *path = berth_cli_ctr_path(*n, "/stats");
            _cleanup_(json_decrefp) json_t *s = NULL;
            _cleanup_error_ struct berth_error *e = NULL;
            if (!path || berth_client_get_json(c, path, &q, &s, NULL, &e) < 0) {
                berth_strbuf_printf(&errors, "%s%s", errors.len ? "\n" : "", e ? e->msg : "error");
                continue;
            }
            json_array_append_new(rows, stats_row(*n, s, !no_trunc));
        }
        if (errors.len && nargs > 0) {
            fprintf(cli->err, "%s\n", berth_strbuf_str(&errors));
            return 1;
        }
        _cleanup_strbuf_ struct berth_strbuf out = {0};
        if (berth_format_write(fmt, header, "*formatter.statsContext", rows, &out, &err) < 0)
            return berth_cli_fail(cli, err);
        if (live && tty)
            fputs("\033[2J\033[H", cli->out);
        fputs(berth_strbuf_str(&out), cli->out);
        fflush(cli->out);
        if (live && !stats_stop)
            sleep(1);
    } while (live && !stats_stop);
    return 0;
}
