/* berth images, image inspect, history, tag, rmi, image prune, load, save, import: docker's
 * image commands over /images/... */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/format.h"
#include "client/jsonmessage.h"
#include "core/cleanup.h"
#include "core/util.h"

/* Go's wording of a system error: strerror() starting in lower case */
static const char *
go_strerror(int e)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

static char *
image_path(const char *name, const char *suffix)
{
    char *p = NULL;
    if (asprintf(&p, "/images/%s%s", name, suffix) < 0)
        return NULL;
    return p;
}

static int
print_rows(struct berth_cli *cli, const char *format, json_t *header, const char *type,
           json_t *rows)
{
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    if (berth_format_write(format, header, type, rows, &out, &err) < 0)
        return berth_cli_fail(cli, err);
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}

/* ---- images ---- */

#define IMAGES_TABLE                                                                               \
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince "                                \
    "}}{{.CreatedSince}}{{else}}N/A{{"                                                             \
    "end}}\t{{.Size}}"
#define IMAGES_TABLE_DIGEST                                                                        \
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince "                   \
    "}}{{.CreatedSince}}"                                                                          \
    "{{else}}N/A{{end}}\t{{.Size}}"

struct repo_group {
    char *repo;
    char **items; /* tags or digests, NULL-terminated */
    bool used;
};

static void
groups_free(struct repo_group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].repo);
        berth_strv_free(g[i].items);
    }
    free(g);
}

/* Groups "repo:tag" (sep ':') or "repo@digest" (sep '@') references by familiar repository,
 * in the order the daemon listed them. */
static struct repo_group *
group_refs(json_t *refs, char sep, size_t *ret_n)
{
    size_t n = 0;
    struct repo_group *g = calloc(json_array_size(refs) + 1, sizeof(*g));
    json_t *v;
    size_t i;
    json_array_foreach(refs, i, v)
    {
        const char *s = json_string_value(v);
        if (!g || !s)
            continue;
        const char *cut = sep == '@' ? strchr(s, '@') : strrchr(s, ':');
        if (!cut || (sep == ':' && strchr(cut, '/')))
            continue;
        _cleanup_free_ char *name = strndup(s, (size_t)(cut - s));
        struct berth_image_ref ref = {0};
        struct berth_error *err = NULL;
        if (!name || berth_image_ref_parse(name, &ref, &err) < 0) {
            berth_error_free(err);
            continue;
        }
        _cleanup_free_ char *fam = berth_image_ref_familiar_name(&ref);
        berth_image_ref_clear(&ref);
        if (!fam)
            continue;
        size_t k = 0;
        while (k < n && strcmp(g[k].repo, fam))
            k++;
        if (k == n)
            g[n++].repo = TAKE_PTR(fam);
        berth_strv_push(&g[k].items, cut + 1);
    }
    *ret_n = n;
    return g;
}

static bool
is_dangling(json_t *img)
{
    json_t *tags = json_object_get(img, "RepoTags"), *digests = json_object_get(img, "RepoDigests");
    if (json_array_size(tags) == 0 && json_array_size(digests) == 0)
        return true;
    return json_array_size(tags) == 1 &&
           !strcmp(json_string_value(json_array_get(tags, 0)) ?: "", "<none>:<none>") &&
           json_array_size(digests) == 1 &&
           !strcmp(json_string_value(json_array_get(digests, 0)) ?: "", "<none>@<none>");
}

static json_t *
image_row(json_t *img, const char *repo, const char *tag, const char *digest, bool trunc)
{
    char created_at[96], since[96], size[32], vsize[32], shared[32], unique[32], ctrs[32];
    long long created = berth_cli_jint(img, "Created"), sz = berth_cli_jint(img, "Size");
    long long shared_sz = berth_cli_jint(img, "SharedSize"),
              containers = berth_cli_jint(img, "Containers");
    berth_time_go_string((time_t)created, created_at, sizeof(created_at));
    char d[64];
    berth_human_duration(berth_now() - (double)created, d, sizeof(d));
    snprintf(since, sizeof(since), "%s ago", d);
    berth_human_size((double)sz, 3, size, sizeof(size));
    berth_human_size((double)sz, 4, vsize, sizeof(vsize));
    if (shared_sz == -1)
        snprintf(shared, sizeof(shared), "N/A");
    else
        berth_human_size((double)shared_sz, 4, shared, sizeof(shared));
    if (sz == -1 || shared_sz == -1)
        snprintf(unique, sizeof(unique), "N/A");
    else
        berth_human_size((double)(sz - shared_sz), 4, unique, sizeof(unique));
    if (containers == -1)
        snprintf(ctrs, sizeof(ctrs), "N/A");
    else
        snprintf(ctrs, sizeof(ctrs), "%lld", containers);
    _cleanup_free_ char *id =
        trunc ? berth_truncate_id(berth_cli_jstr(img, "Id")) : strdup(berth_cli_jstr(img, "Id"));
    /* keys in the order docker's MarshalJSON sorts them */
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", ctrs,
                     "CreatedAt", created_at, "CreatedSince", since, "Digest", digest, "ID",
                     id ? id : "", "Repository", repo, "SharedSize", shared, "Size", size, "Tag",
                     tag, "UniqueSize", unique, "VirtualSize", vsize);
}

static void
image_rows(json_t *rows, json_t *img, bool trunc, bool need_digest, bool show_digests)
{
    if (is_dangling(img)) {
        json_array_append_new(rows, image_row(img, "<none>", "<none>", "<none>", trunc));
        return;
    }
    size_t nt = 0, nd = 0;
    struct repo_group *tags = group_refs(json_object_get(img, "RepoTags"), ':', &nt);
    struct repo_group *digests = group_refs(json_object_get(img, "RepoDigests"), '@', &nd);
    for (size_t i = 0; tags && i < nt; i++) {
        char **dg = NULL;
        for (size_t k = 0; digests && k < nd; k++)
            if (!strcmp(digests[k].repo, tags[i].repo)) {
                digests[k].used = true;
                dg = digests[k].items;
            }
        if (!need_digest)
            dg = NULL;
        for (char **t = tags[i].items; t && *t; t++) {
            if (!dg || !dg[0]) {
                json_array_append_new(rows, image_row(img, tags[i].repo, *t, "<none>", trunc));
                continue;
            }
            for (char **x = dg; *x; x++)
                json_array_append_new(rows, image_row(img, tags[i].repo, *t, *x, trunc));
        }
    }
    for (size_t k = 0; digests && k < nd; k++) {
        if (digests[k].used)
            continue;
        if (show_digests) {
            for (char **x = digests[k].items; x && *x; x++)
                json_array_append_new(rows, image_row(img, digests[k].repo, "<none>", *x, trunc));
        } else {
            json_array_append_new(rows, image_row(img, digests[k].repo, "<none>", "", trunc));
        }
    }
    groups_free(tags, nt);
    groups_free(digests, nd);
}

static json_t *
image_header(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE ID",
                     "Repository", "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST", "CreatedSince",
                     "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE", "Containers",
                     "CONTAINERS", "VirtualSize", "SIZE", "SharedSize", "SHARED SIZE", "UniqueSize",
                     "UNIQUE SIZE");
}

int
berth_cli_cmd_images(struct berth_cli *cli, int argc, char **argv)
{
    bool quiet = false, all = false, no_trunc = false, digests = false;
    const char *format = NULL;
    json_t *filters = NULL;
    const struct berth_opt opts[] = {
        {'a', "all", BERTH_OPT_BOOL, &all, NULL,
         "Show all images (default hides intermediate images)"},
        {0, "digests", BERTH_OPT_BOOL, &digests, NULL, "Show digests"},
        {'f', "filter", BERTH_OPT_FILTER, &filters, "filter",
         "Filter output based on conditions provided"},
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go "
         "template"},
        {0, "no-trunc", BERTH_OPT_BOOL, &no_trunc, NULL, "Don't truncate output"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL, "Only show image IDs"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] [REPOSITORY[:TAG]]", "List images",
                                                   "berth image ls, berth image list, berth images",
                                                   0, 1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_(json_decrefp) json_t *filters_owned = filters;
    if (!parsed)
        return status;
    if (nargs == 1 && berth_filters_add(&filters_owned, "reference", args[0]) < 0)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    if (all)
        berth_query_add(&q, "all", "1");
    _cleanup_free_ char *fj = berth_filters_json(filters_owned);
    if (fj)
        berth_query_add(&q, "filters", fj);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_(json_decrefp) json_t *images = NULL;
    if (berth_client_get_json(c, "/images/json", &q, &images, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    /* formatter.NewImageFormat */
    _cleanup_free_ char *fmt = NULL;
    const char *f = format && format[0] ? format : "table";
    if (!strcmp(f, "table"))
        fmt = strdup(quiet ? "{{.ID}}" : digests ? IMAGES_TABLE_DIGEST : IMAGES_TABLE);
    else if (!strncmp(f, "table", 5) && digests && !strstr(f, "{{.Digest}}")) {
        if (asprintf(&fmt, "%s\t{{.Digest}}", f) < 0)
            fmt = NULL;
    } else
        fmt = strdup(f);
    if (!fmt)
        return 1;
    bool need_digest = digests || strstr(fmt, "{{.Digest}}");
    _cleanup_(json_decrefp) json_t *rows = json_array();
    json_t *img;
    size_t i;
    json_array_foreach(images, i, img)
    {
        image_rows(rows, img, !no_trunc, need_digest, digests);
    }
    _cleanup_(json_decrefp) json_t *header = image_header();
    return print_rows(cli, fmt, header, "*formatter.imageContext", rows);
}

/* ---- image inspect ---- */

int
berth_cli_cmd_image_inspect(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    const struct berth_opt opts[] = {
        {'f', "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images", NULL, 1,
        -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
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
    for (int i = 0; i < nargs; i++) {
        _cleanup_free_ char *path = image_path(args[i], "/json");
        _cleanup_(json_decrefp) json_t *v = NULL;
        _cleanup_free_ char *body = NULL;
        _cleanup_error_ struct berth_error *e = NULL;
        if (!path || berth_client_get_json(c, path, NULL, &v, &body, &e) < 0) {
            berth_inspect_out_error(&io, e ? e->msg : "error");
            continue;
        }
        berth_inspect_out_add(&io, v, body);
    }
    return berth_inspect_out_finish(cli, &io, json_compact);
}

/* ---- history ---- */

int
berth_cli_cmd_history(struct berth_cli *cli, int argc, char **argv)
{
    bool human = true, quiet = false, no_trunc = false;
    const char *format = NULL;
    const struct berth_opt opts[] = {
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go "
         "template"},
        {'H', "human", BERTH_OPT_BOOL, &human, NULL,
         "Print sizes and dates in human readable format (default true)"},
        {0, "no-trunc", BERTH_OPT_BOOL, &no_trunc, NULL, "Don't truncate output"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL, "Only show image IDs"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] IMAGE",
                                                   "Show the history of an image",
                                                   "berth image history, berth history", 1, 1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *path = image_path(args[0], "/history");
    _cleanup_(json_decrefp) json_t *hist = NULL;
    if (!path || berth_client_get_json(c, path, NULL, &hist, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    _cleanup_(json_decrefp) json_t *rows = json_array();
    json_t *h;
    size_t i;
    const long long epoch = 946684800; /* 2000-01-01: older dates are not shown as durations */
    json_array_foreach(hist, i, h)
    {
        long long created = berth_cli_jint(h, "Created");
        char created_at[64], since[96] = "", size[32];
        berth_time_rfc3339((time_t)created, created_at, sizeof(created_at));
        if (!human) {
            snprintf(since, sizeof(since), "%s", created_at);
            snprintf(size, sizeof(size), "%lld", berth_cli_jint(h, "Size"));
        } else {
            if (created > epoch) {
                char d[64];
                berth_human_duration(berth_now() - (double)created, d, sizeof(d));
                snprintf(since, sizeof(since), "%s ago", d);
            }
            berth_human_size((double)berth_cli_jint(h, "Size"), 3, size, sizeof(size));
        }
        _cleanup_free_ char *by = strdup(berth_cli_jstr(h, "CreatedBy"));
        for (char *p = by; p && *p; p++)
            if (*p == '\t')
                *p = ' ';
        _cleanup_free_ char *by_shown = no_trunc || !by ? NULL : berth_ellipsis(by, 45);
        _cleanup_free_ char *id =
            no_trunc ? strdup(berth_cli_jstr(h, "Id")) : berth_truncate_id(berth_cli_jstr(h, "Id"));
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment",
                            berth_cli_jstr(h, "Comment"), "CreatedAt", created_at, "CreatedBy",
                            by_shown ? by_shown
                            : by     ? by
                                     : "",
                            "CreatedSince", since, "ID", id ? id : "", "Size", size));
    }
    const char *f = format && format[0] ? format : "table";
    if (!strcmp(f, "table"))
        f = quiet    ? "{{.ID}}"
            : !human ? "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
                     : "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
    _cleanup_(json_decrefp) json_t *header = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
        "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
    return print_rows(cli, f, header, "*image.historyContext", rows);
}

/* ---- tag ---- */

int
berth_cli_cmd_tag(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
        "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", "berth image tag, berth tag", 2,
        2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    _cleanup_error_ struct berth_error *err = NULL;
    struct berth_image_ref src = {0}, dst = {0};
    /* the source may also be an image ID */
    size_t sl = strlen(args[0]);
    bool is_id = sl == 64 && strspn(args[0], "0123456789abcdef") == 64;
    if (!is_id && berth_image_ref_parse(args[0], &src, &err) < 0) {
        fprintf(cli->err, "Error parsing reference: \"%s\" is not a valid repository/tag: %s\n",
                args[0], err->msg);
        return 1;
    }
    berth_image_ref_clear(&src);
    if (berth_image_ref_parse(args[1], &dst, &err) < 0) {
        fprintf(cli->err, "Error parsing reference: \"%s\" is not a valid repository/tag: %s\n",
                args[1], err->msg);
        return 1;
    }
    if (dst.digest) {
        berth_image_ref_clear(&dst);
        fprintf(cli->err, "refusing to create a tag with a digest reference\n");
        return 1;
    }
    _cleanup_free_ char *name = berth_image_ref_name(&dst);
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "repo", name ? name : "");
    berth_query_add(&q, "tag", dst.tag ? dst.tag : "latest");
    berth_image_ref_clear(&dst);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_free_ char *path = image_path(args[0], "/tag");
    if (!path || berth_client_send_json(c, "POST", path, &q, NULL, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    return 0;
}

/* ---- rmi ---- */

int
berth_cli_cmd_rmi(struct berth_cli *cli, int argc, char **argv)
{
    bool force = false, no_prune = false;
    const struct berth_opt opts[] = {
        {'f', "force", BERTH_OPT_BOOL, &force, NULL, "Force removal of the image"},
        {0, "no-prune", BERTH_OPT_BOOL, &no_prune, NULL, "Do not delete untagged parents"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
        "berth image rm, berth image remove, berth rmi", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    if (force)
        berth_query_add(&q, "force", "1");
    if (no_prune)
        berth_query_add(&q, "noprune", "1");
    _cleanup_strbuf_ struct berth_strbuf errors = {0};
    bool fatal = false;
    for (int i = 0; i < nargs; i++) {
        _cleanup_free_ char *path = image_path(args[i], "");
        _cleanup_(json_decrefp) json_t *res = NULL;
        _cleanup_error_ struct berth_error *err = NULL;
        if (!path || berth_client_send_json(c, "DELETE", path, &q, NULL, &res, &err) < 0) {
            if (!err || err->code != ENOENT)
                fatal = true;
            berth_strbuf_printf(&errors, "%s%s", errors.len ? "\n" : "",
                                err ? err->msg : "out of memory");
            continue;
        }
        json_t *d;
        size_t k;
        json_array_foreach(res, k, d)
        {
            if (berth_cli_jstr(d, "Deleted")[0])
                fprintf(cli->out, "Deleted: %s\n", berth_cli_jstr(d, "Deleted"));
            else
                fprintf(cli->out, "Untagged: %s\n", berth_cli_jstr(d, "Untagged"));
        }
    }
    if (errors.len) {
        fflush(cli->out);
        fprintf(cli->err, "%s\n", berth_strbuf_str(&errors));
        if (!force || fatal)
            return 1;
    }
    return 0;
}

/* ---- image prune ---- */

int
berth_cli_cmd_image_prune(struct berth_cli *cli, int argc, char **argv)
{
    bool all = false, force = false;
    json_t *filters = NULL;
    const struct berth_opt opts[] = {
        {'a', "all", BERTH_OPT_BOOL, &all, NULL,
         "Remove all unused images, not just dangling ones"},
        {0, "filter", BERTH_OPT_FILTER, &filters, "filter",
         "Provide filter values (e.g. \"until=<timestamp>\")"},
        {'f', "force", BERTH_OPT_BOOL, &force, NULL, "Do not prompt for confirmation"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS]", "Remove unused images", NULL, 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_(json_decrefp) json_t *filters_owned = filters;
    if (!parsed)
        return status;
    berth_filters_add(&filters_owned, "dangling", all ? "false" : "true");
    if (!force &&
        !berth_cli_confirm(cli, all ? "WARNING! This will remove all images without at least one "
                                      "container associated to them.\nAre you sure you want to "
                                      "continue?"
                                    : "WARNING! This will remove all dangling images.\nAre you "
                                      "sure you want to continue?"))
        return 0; /* docker: "image prune has been cancelled", silently */
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    _cleanup_free_ char *fj = berth_filters_json(filters_owned);
    if (fj)
        berth_query_add(&q, "filters", fj);
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_(json_decrefp) json_t *report = NULL;
    if (berth_client_send_json(c, "POST", "/images/prune", &q, NULL, &report, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *deleted = json_object_get(report, "ImagesDeleted");
    if (json_array_size(deleted) > 0) {
        fputs("Deleted Images:\n", cli->out);
        json_t *d;
        size_t i;
        json_array_foreach(deleted, i, d)
        {
            if (berth_cli_jstr(d, "Untagged")[0])
                fprintf(cli->out, "untagged: %s\n", berth_cli_jstr(d, "Untagged"));
            else
                fprintf(cli->out, "deleted: %s\n", berth_cli_jstr(d, "Deleted"));
        }
        fputc('\n', cli->out);
    }
    char size[32];
    berth_human_size((double)berth_cli_jint(report, "SpaceReclaimed"), 4, size, sizeof(size));
    fprintf(cli->out, "Total reclaimed space: %s\n", size);
    return 0;
}

/* ---- streams: load, import ---- */

struct stream_render {
    struct berth_cli *cli;
    struct berth_response *resp;
    struct berth_jsonmessage jm;
    struct berth_json_splitter split;
    bool decided, json;
};

static int
on_jm_value(void *ud, json_t *v, struct berth_error **err)
{
    struct stream_render *s = ud;
    return berth_jsonmessage_display(&s->jm, v, err);
}

/* Renders a JSON message stream, or copies the body when the daemon did not send JSON (docker's
 * load does the same). */
static int
on_stream_data(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct stream_render *s = ud;
    if (!s->decided) {
        s->decided = true;
        s->json = s->resp->content_type && !strcmp(s->resp->content_type, "application/json");
    }
    if (!s->json) {
        fwrite(buf, 1, len, s->cli->out);
        return 0;
    }
    return berth_json_splitter_feed(&s->split, buf, len, err);
}

static int
post_stream(struct berth_cli *cli, const char *path, struct berth_query *q, const char *ctype,
            int fd)
{
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_response_ struct berth_response resp = {0};
    struct stream_render s = {.cli = cli, .resp = &resp};
    s.jm.out = cli->out;
    s.jm.tty = isatty(fileno(cli->out));
    s.split.on_value = on_jm_value;
    s.split.ud = &s;
    struct berth_request req = {.method = "POST",
                                .path = path,
                                .query = q,
                                .content_type = ctype,
                                .upload_fd = fd,
                                .on_data = on_stream_data,
                                .ud = &s};
    int r = berth_client_request(c, &req, &resp, &err);
    if (r == 0 && s.json)
        r = berth_json_splitter_finish(&s.split, &err);
    fflush(cli->out);
    berth_json_splitter_clear(&s.split);
    berth_jsonmessage_clear(&s.jm);
    return r < 0 ? berth_cli_fail(cli, err) : 0;
}

int
berth_cli_cmd_load(struct berth_cli *cli, int argc, char **argv)
{
    const char *input = NULL;
    bool quiet = false;
    const struct berth_opt opts[] = {
        {'i', "input", BERTH_OPT_STRING, &input, "string",
         "Read from tar archive file, instead of STDIN"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL, "Suppress the load output"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS]",
                                                   "Load an image from a tar archive or STDIN",
                                                   "berth image load, berth load", 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    _cleanup_close_ int fd = -1;
    if (input && input[0]) {
        fd = open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fprintf(cli->err, "open %s: %s\n", input, go_strerror(errno));
            return 1;
        }
    } else if (isatty(cli->in_fd)) {
        fprintf(cli->err, "requested load from stdin, but stdin is empty\n");
        return 1;
    }
    if (!isatty(fileno(cli->out)))
        quiet = true;
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "quiet", quiet ? "1" : "0");
    return post_stream(cli, "/images/load", &q, "application/x-tar", fd >= 0 ? fd : cli->in_fd);
}

int
berth_cli_cmd_import(struct berth_cli *cli, int argc, char **argv)
{
    char **changes = NULL;
    const char *message = NULL, *platform = NULL;
    const struct berth_opt opts[] = {
        {'c', "change", BERTH_OPT_LIST, &changes, "list",
         "Apply Dockerfile instruction to the created image"},
        {'m', "message", BERTH_OPT_STRING, &message, "string",
         "Set commit message for imported image"},
        {0, "platform", BERTH_OPT_STRING, &platform, "string",
         "Set platform if server is multi-platform capable"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
        "Import the contents from a tarball to create a filesystem image",
        "berth image import, berth import", 1, 2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_strv_ char **changes_owned = changes;
    if (!parsed)
        return status;
    const char *source = args[0], *ref = nargs > 1 ? args[1] : NULL;
    if (!strncmp(source, "http://", 7) || !strncmp(source, "https://", 8)) {
        fprintf(cli->err,
                "importing from a URL (%s) is not supported: download the file and import it "
                "from a file or stdin (-)\n",
                source);
        return 1;
    }
    _cleanup_error_ struct berth_error *err = NULL;
    if (ref && ref[0]) {
        struct berth_image_ref r = {0};
        if (berth_image_ref_parse(ref, &r, &err) < 0)
            return berth_cli_fail(cli, err);
        berth_image_ref_clear(&r);
    }
    _cleanup_close_ int fd = -1;
    if (strcmp(source, "-")) {
        fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fprintf(cli->err, "open %s: %s\n", source, go_strerror(errno));
            return 1;
        }
    }
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "fromSrc", "-");
    if (ref && ref[0])
        berth_query_add(&q, "repo", ref);
    if (message && message[0])
        berth_query_add(&q, "message", message);
    if (platform && platform[0]) {
        _cleanup_free_ char *lower = strdup(platform);
        for (char *p = lower; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        berth_query_add(&q, "platform", lower ? lower : platform);
    }
    for (char **ch = changes_owned; ch && *ch; ch++)
        berth_query_add(&q, "changes", *ch);
    return post_stream(cli, "/images/create", &q, NULL, fd >= 0 ? fd : cli->in_fd);
}

/* ---- save ---- */

struct save_state {
    int fd;
};

static int
on_save_data(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct save_state *s = ud;
    int r = berth_write_all(s->fd, buf, len);
    return r < 0 ? berth_error_set(err, -r, "write the archive") : 0;
}

/* command.ValidateOutputPath */
static int
validate_output(const char *path, struct berth_error **err)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "save");
    const char *dir = dirname(copy);
    struct stat st;
    if (strcmp(dir, ".") && stat(dir, &st) < 0) {
        int e = errno;
        return berth_error_setq(err, e, "invalid output path: stat %s: %s", dir, go_strerror(e));
    }
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return berth_error_setq(
            err, EINVAL, "invalid output path: \"%s\" must be a directory or a regular file", path);
    return 0;
}

int
berth_cli_cmd_save(struct berth_cli *cli, int argc, char **argv)
{
    const char *output = NULL;
    const struct berth_opt opts[] = {
        {'o', "output", BERTH_OPT_STRING, &output, "string", "Write to a file, instead of STDOUT"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] IMAGE [IMAGE...]",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
        "berth image save, berth save", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    bool to_file = output && output[0];
    if (!to_file && isatty(fileno(cli->out))) {
        fprintf(cli->err, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return 1;
    }
    _cleanup_error_ struct berth_error *err = NULL;
    if (to_file && validate_output(output, &err) < 0) {
        fprintf(cli->err, "failed to save image: %s\n", err->msg);
        return 1;
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    for (int i = 0; i < nargs; i++)
        berth_query_add(&q, "names", args[i]);
    /* a file is written under a temporary name next to it, then renamed (CopyToFile) */
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;
    if (to_file) {
        _cleanup_free_ char *copy = strdup(output);
        if (!copy || asprintf(&tmp, "%s/.berth_temp_XXXXXX", dirname(copy)) < 0) {
            fprintf(cli->err, "out of memory\n");
            return 1;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            fprintf(cli->err, "failed to save image: open %s: %s\n", tmp, go_strerror(errno));
            return 1;
        }
    } else {
        fflush(cli->out);
    }
    struct save_state s = {.fd = to_file ? fd : fileno(cli->out)};
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "GET",
                                .path = "/images/get",
                                .query = &q,
                                .upload_fd = -1,
                                .on_data = on_save_data,
                                .ud = &s};
    int r = berth_client_request(c, &req, &resp, &err);
    if (to_file) {
        if (r == 0 && fsync(fd) < 0)
            r = berth_error_set(&err, errno, "write %s", tmp);
        if (r == 0 && rename(tmp, output) < 0)
            r = berth_error_set(&err, errno, "rename %s to %s", tmp, output);
        if (r < 0)
            unlink(tmp);
    }
    return r < 0 ? berth_cli_fail(cli, err) : 0;
}
