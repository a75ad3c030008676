/* berth stop, restart, kill, pause, unpause, rm, rename, wait, update, logs, commit, export,
 * port, diff, top, container prune: docker's per-container operations. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

/* Runs method path(name)+suffix for every name, printing each name that worked and the
 * errors at the end (docker's errors.Join); 1 when one failed. */
static int
for_each(struct berth_cli *cli, char **names, int n, const char *method, const char *suffix,
         const struct berth_query *q, bool ignore_missing)
{
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_strbuf_ struct berth_strbuf errors = {0};
    bool fatal = false;
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *path = berth_cli_ctr_path(names[i], suffix);
        _cleanup_error_ struct berth_error *err = NULL;
        if (!path || berth_client_send_json(c, method, path, q, NULL, NULL, &err) < 0) {
            /* rm -f: a missing container is reported, but is no failure */
            if (!ignore_missing || !err || err->code != ENOENT)
                fatal = true;
            berth_strbuf_printf(&errors, "%s%s", errors.len ? "\n" : "",
                                err ? err->msg : "out of memory");
            continue;
        }
        fprintf(cli->out, "%s\n", names[i]);
    }
    if (errors.len) {
        fflush(cli->out);
        fprintf(cli->err, "%s\n", berth_strbuf_str(&errors));
        return fatal ? 1 : 0;
    }
    return 0;
}

#define PARSE(info, opts)                                                                          \
    _cleanup_free_ char **args = NULL;                                                             \
    int nargs, status;                                                                             \
    if (!berth_cli_parse(cli, &(info), opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,    \
                         &status))                                                                 \
        return status;

static bool
flag_given(int argc, char **argv, const char *s, const char *l)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        size_t ll = strlen(l);
        if (!strncmp(argv[i], l, ll) && (argv[i][ll] == '\0' || argv[i][ll] == '='))
            return true;
        if (s && argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, s[1]))
            return true;
    }
    return false;
}

static int
stop_or_restart(struct berth_cli *cli, int argc, char **argv, bool restart)
{
    long long timeout = 0;
    const char *sig = NULL;
    const struct berth_opt opts[] = {
        {'s', "signal", BERTH_OPT_STRING, &sig, "string", "Signal to send to the container"},
        {'t', "time", BERTH_OPT_INT, &timeout, "int",
         "Seconds to wait before killing the container"},
    };
    static const struct berth_cli_cmd_info stop_info = {"[OPTIONS] CONTAINER [CONTAINER...]",
                                                        "Stop one or more running containers",
                                                        "berth container stop, berth stop", 1, -1};
    static const struct berth_cli_cmd_info restart_info = {
        "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
        "berth container restart, berth restart", 1, -1};
    const struct berth_cli_cmd_info *sinfo = restart ? &restart_info : &stop_info;
    PARSE(*sinfo, opts);
    _cleanup_query_ struct berth_query q = {0};
    if (sig && sig[0])
        berth_query_add(&q, "signal", sig);
    if (flag_given(argc, argv, "-t", "--time") || flag_given(argc, argv, NULL, "--timeout")) {
        char t[32];
        snprintf(t, sizeof(t), "%lld", timeout);
        berth_query_add(&q, "t", t);
    }
    return for_each(cli, args, nargs, "POST", restart ? "/restart" : "/stop", &q, false);
}

int
berth_cli_cmd_stop(struct berth_cli *cli, int argc, char **argv)
{
    return stop_or_restart(cli, argc, argv, false);
}

int
berth_cli_cmd_restart(struct berth_cli *cli, int argc, char **argv)
{
    return stop_or_restart(cli, argc, argv, true);
}

int
berth_cli_cmd_kill(struct berth_cli *cli, int argc, char **argv)
{
    const char *sig = NULL;
    const struct berth_opt opts[] = {
        {'s', "signal", BERTH_OPT_STRING, &sig, "string", "Signal to send to the container"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER [CONTAINER...]",
                                                   "Kill one or more running containers",
                                                   "berth container kill, berth kill", 1, -1};
    PARSE(info, opts);
    _cleanup_query_ struct berth_query q = {0};
    if (sig && sig[0])
        berth_query_add(&q, "signal", sig);
    return for_each(cli, args, nargs, "POST", "/kill", &q, false);
}

int
berth_cli_cmd_pause(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers",
        "berth container pause, berth pause", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    return for_each(cli, args, nargs, "POST", "/pause", NULL, false);
}

int
berth_cli_cmd_unpause(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers",
        "berth container unpause, berth unpause", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    return for_each(cli, args, nargs, "POST", "/unpause", NULL, false);
}

int
berth_cli_cmd_rm(struct berth_cli *cli, int argc, char **argv)
{
    bool force = false, volumes = false, link = false;
    const struct berth_opt opts[] = {
        {'f', "force", BERTH_OPT_BOOL, &force, NULL,
         "Force the removal of a running container (uses SIGKILL)"},
        {'l', "link", BERTH_OPT_BOOL, &link, NULL, "Remove the specified link"},
        {'v', "volumes", BERTH_OPT_BOOL, &volumes, NULL,
         "Remove anonymous volumes associated with the container"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
        "berth container rm, berth container remove, berth rm", 1, -1};
    PARSE(info, opts);
    _cleanup_query_ struct berth_query q = {0};
    if (volumes)
        berth_query_add(&q, "v", "1");
    if (link)
        berth_query_add(&q, "link", "1");
    if (force)
        berth_query_add(&q, "force", "1");
    return for_each(cli, args, nargs, "DELETE", "", &q, force);
}

int
berth_cli_cmd_rename(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {"CONTAINER NEW_NAME", "Rename a container",
                                                   "berth container rename, berth rename", 2, 2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    _cleanup_free_ char *old = strdup(args[0]), *name = strdup(args[1]);
    if (!old || !name)
        return 1;
    /* strings.TrimSpace */
    char *o = old, *n = name;
    while (isspace((unsigned char)*o))
        o++;
    while (isspace((unsigned char)*n))
        n++;
    for (size_t l = strlen(o); l > 0 && isspace((unsigned char)o[l - 1]); l--)
        o[l - 1] = '\0';
    for (size_t l = strlen(n); l > 0 && isspace((unsigned char)n[l - 1]); l--)
        n[l - 1] = '\0';
    if (!o[0] || !n[0]) {
        fprintf(cli->err, "Error: Neither old nor new names may be empty\n");
        return 1;
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "name", n);
    _cleanup_free_ char *path = berth_cli_ctr_path(o, "/rename");
    _cleanup_error_ struct berth_error *err = NULL;
    if (!path || berth_client_send_json(c, "POST", path, &q, NULL, NULL, &err) < 0) {
        fprintf(cli->err, "%s\nError: failed to rename container named %s\n",
                err ? err->msg : "out of memory", o);
        return 1;
    }
    return 0;
}

int
berth_cli_cmd_wait(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "CONTAINER [CONTAINER...]",
        "Block until one or more containers stop, then print their exit codes",
        "berth container wait, berth wait", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_strbuf_ struct berth_strbuf errors = {0};
    for (int i = 0; i < nargs; i++) {
        struct berth_conn conn = {.fd = -1};
        _cleanup_error_ struct berth_error *err = NULL;
        int st;
        if (berth_cli_ctr_wait_begin(c, args[i], "", &conn, &err) < 0 ||
            berth_cli_ctr_wait_end(&conn, &st, &err) < 0) {
            berth_strbuf_printf(&errors, "%s%s", errors.len ? "\n" : "", err->msg);
        } else {
            fprintf(cli->out, "%d\n", st);
            fflush(cli->out);
        }
        berth_conn_close(&conn);
    }
    if (errors.len) {
        fprintf(cli->err, "%s\n", berth_strbuf_str(&errors));
        return 1;
    }
    return 0;
}

int
berth_cli_cmd_update(struct berth_cli *cli, int argc, char **argv)
{
    const char *cpus = NULL, *memory = NULL, *swap = NULL, *reservation = NULL, *restart = NULL;
    const char *cpuset_cpus = NULL, *cpuset_mems = NULL;
    long long shares = 0, pids = 0, period = 0, quota = 0, blkio = 0;
    const struct berth_opt opts[] = {
        {0, "blkio-weight", BERTH_OPT_INT, &blkio, "uint16",
         "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)"},
        {0, "cpu-period", BERTH_OPT_INT, &period, "int",
         "Limit CPU CFS (Completely Fair Scheduler) period"},
        {0, "cpu-quota", BERTH_OPT_INT, &quota, "int",
         "Limit CPU CFS (Completely Fair Scheduler) quota"},
        {'c', "cpu-shares", BERTH_OPT_INT, &shares, "int", "CPU shares (relative weight)"},
        {0, "cpus", BERTH_OPT_STRING, &cpus, "decimal", "Number of CPUs"},
        {0, "cpuset-cpus", BERTH_OPT_STRING, &cpuset_cpus, "string",
         "CPUs in which to allow execution (0-3, 0,1)"},
        {0, "cpuset-mems", BERTH_OPT_STRING, &cpuset_mems, "string",
         "MEMs in which to allow execution (0-3, 0,1)"},
        {'m', "memory", BERTH_OPT_STRING, &memory, "bytes", "Memory limit"},
        {0, "memory-reservation", BERTH_OPT_STRING, &reservation, "bytes", "Memory soft limit"},
        {0, "memory-swap", BERTH_OPT_STRING, &swap, "bytes",
         "Swap limit equal to memory plus swap: -1 to enable unlimited swap"},
        {0, "pids-limit", BERTH_OPT_INT, &pids, "int",
         "Tune container pids limit (set -1 for unlimited)"},
        {0, "restart", BERTH_OPT_STRING, &restart, "string",
         "Restart policy to apply when a container exits"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER [CONTAINER...]",
                                                   "Update configuration of one or more containers",
                                                   "berth container update, berth update", 1, -1};
    PARSE(info, opts);
    if (argc - nargs <= 0) {
        fprintf(cli->err, "you must provide one or more flags when using this command\n");
        return 1;
    }
    json_t *body = json_object();
    _cleanup_(json_decrefp) json_t *owned = body;
    struct {
        const char *v, *flag, *key;
    } mems[] = {{memory, "-m, --memory", "Memory"},
                {reservation, "--memory-reservation", "MemoryReservation"},
                {swap, "--memory-swap", "MemorySwap"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(mems); i++) {
        long long v;
        if (!mems[i].v)
            continue;
        if (!strcmp(mems[i].v, "-1") && !strcmp(mems[i].key, "MemorySwap"))
            v = -1;
        else if (!berth_ram_in_bytes(mems[i].v, &v)) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "invalid argument \"%s\" for \"%s\" flag: invalid size: '%s'", mems[i].v,
                     mems[i].flag, mems[i].v);
            return berth_cli_usage_error(cli, &info, msg);
        }
        json_object_set_new(body, mems[i].key, json_integer(v));
    }
    if (cpus) {
        long long nano;
        if (!berth_nano_cpus(cpus, &nano)) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as a "
                     "rational number",
                     cpus, cpus);
            return berth_cli_usage_error(cli, &info, msg);
        }
        json_object_set_new(body, "NanoCpus", json_integer(nano));
    }
    if (shares)
        json_object_set_new(body, "CpuShares", json_integer(shares));
    if (period)
        json_object_set_new(body, "CpuPeriod", json_integer(period));
    if (quota)
        json_object_set_new(body, "CpuQuota", json_integer(quota));
    if (blkio)
        json_object_set_new(body, "BlkioWeight", json_integer(blkio));
    if (cpuset_cpus)
        json_object_set_new(body, "CpusetCpus", json_string(cpuset_cpus));
    if (cpuset_mems)
        json_object_set_new(body, "CpusetMems", json_string(cpuset_mems));
    if (flag_given(argc, argv, NULL, "--pids-limit"))
        json_object_set_new(body, "PidsLimit", json_integer(pids));
    if (restart) {
        const char *colon = strchr(restart, ':');
        _cleanup_free_ char *name =
            strndup(restart, colon ? (size_t)(colon - restart) : strlen(restart));
        json_object_set_new(body, "RestartPolicy",
                            json_pack("{s:s, s:I}", "Name", name ? name : "", "MaximumRetryCount",
                                      (json_int_t)(colon ? strtoll(colon + 1, NULL, 10) : 0)));
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_strbuf_ struct berth_strbuf errors = {0}, warnings = {0};
    for (int i = 0; i < nargs; i++) {
        _cleanup_free_ char *path = berth_cli_ctr_path(args[i], "/update");
        _cleanup_error_ struct berth_error *err = NULL;
        _cleanup_(json_decrefp) json_t *resp = NULL;
        if (!path || berth_client_send_json(c, "POST", path, NULL, body, &resp, &err) < 0) {
            berth_strbuf_printf(&errors, "%s%s", errors.len ? "\n" : "",
                                err ? err->msg : "out of memory");
            continue;
        }
        json_t *w;
        size_t k;
        fprintf(cli->out, "%s\n", args[i]);
        json_array_foreach(json_object_get(resp, "Warnings"), k, w)
        {
            berth_strbuf_printf(&warnings, "%s%s", warnings.len ? "\n" : "",
                                json_string_value(w) ? json_string_value(w) : "");
        }
    }
    /* docker prints the daemon's warnings after the names, on stdout */
    if (warnings.len)
        fprintf(cli->out, "%s\n", berth_strbuf_str(&warnings));
    if (errors.len) {
        fflush(cli->out);
        fprintf(cli->err, "%s\n", berth_strbuf_str(&errors));
        return 1;
    }
    return 0;
}

/* ---- logs ---- */

struct logs_ctx {
    struct berth_cli *cli;
    bool tty;
    struct berth_stdcopy sc;
    struct berth_error *err;
};

static int
logs_frame(void *ud, int stream, const char *data, size_t len)
{
    struct logs_ctx *x = ud;
    FILE *f = stream == 2 ? x->cli->err : x->cli->out;
    fflush(stream == 2 ? x->cli->out : x->cli->err);
    if (fwrite(data, 1, len, f) != len)
        return -1;
    fflush(f);
    return 0;
}

static int
logs_data(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct logs_ctx *x = ud;
    if (x->tty) {
        fwrite(buf, 1, len, x->cli->out);
        fflush(x->cli->out);
        return 0;
    }
    return berth_stdcopy_feed(&x->sc, buf, len, err);
}

int
berth_cli_cmd_logs(struct berth_cli *cli, int argc, char **argv)
{
    bool follow = false, timestamps = false, details = false;
    const char *since = NULL, *until = NULL, *tail = NULL;
    const struct berth_opt opts[] = {
        {0, "details", BERTH_OPT_BOOL, &details, NULL, "Show extra details provided to logs"},
        {'f', "follow", BERTH_OPT_BOOL, &follow, NULL, "Follow log output"},
        {0, "since", BERTH_OPT_STRING, &since, "string",
         "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" "
         "for 42 minutes)"},
        {'n', "tail", BERTH_OPT_STRING, &tail, "string",
         "Number of lines to show from the end of the logs (default \"all\")"},
        {'t', "timestamps", BERTH_OPT_BOOL, &timestamps, NULL, "Show timestamps"},
        {0, "until", BERTH_OPT_STRING, &until, "string",
         "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. "
         "\"42m\" for 42 minutes)"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER",
                                                   "Fetch the logs of a container",
                                                   "berth container logs, berth logs", 1, 1};
    PARSE(info, opts);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *ipath = berth_cli_ctr_path(args[0], "/json");
    _cleanup_(json_decrefp) json_t *ctr = NULL;
    if (!ipath || berth_client_get_json(c, ipath, NULL, &ctr, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "stdout", "1");
    berth_query_add(&q, "stderr", "1");
    double now = berth_now();
    if (since && since[0]) {
        _cleanup_free_ char *ts = NULL;
        if (berth_cli_timestamp(since, now, &ts, &err) < 0) {
            fprintf(cli->err, "invalid value for \"since\": %s\n", err->msg);
            return 1;
        }
        berth_query_add(&q, "since", ts);
    }
    if (until && until[0]) {
        _cleanup_free_ char *ts = NULL;
        if (berth_cli_timestamp(until, now, &ts, &err) < 0) {
            fprintf(cli->err, "invalid value for \"until\": %s\n", err->msg);
            return 1;
        }
        berth_query_add(&q, "until", ts);
    }
    if (timestamps)
        berth_query_add(&q, "timestamps", "1");
    if (details)
        berth_query_add(&q, "details", "1");
    if (follow)
        berth_query_add(&q, "follow", "1");
    berth_query_add(&q, "tail", tail ? tail : "all");
    struct logs_ctx x = {
        .cli = cli, .tty = json_is_true(json_object_get(json_object_get(ctr, "Config"), "Tty"))};
    x.sc.on_frame = logs_frame;
    x.sc.ud = &x;
    _cleanup_free_ char *path = berth_cli_ctr_path(args[0], "/logs");
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "GET",
                                .path = path,
                                .query = &q,
                                .upload_fd = -1,
                                .on_data = logs_data,
                                .ud = &x};
    if (berth_client_request(c, &req, &resp, &err) < 0)
        return berth_cli_fail(cli, err);
    fflush(cli->out);
    return 0;
}

/* ---- commit, export ---- */

int
berth_cli_cmd_commit(struct berth_cli *cli, int argc, char **argv)
{
    const char *message = NULL, *author = NULL;
    char **changes = NULL;
    bool pause = true;
    const struct berth_opt opts[] = {
        {'a', "author", BERTH_OPT_STRING, &author, "string",
         "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
        {'c', "change", BERTH_OPT_LIST, &changes, "list",
         "Apply Dockerfile instruction to the created image"},
        {'m', "message", BERTH_OPT_STRING, &message, "string", "Commit message"},
        {'p', "pause", BERTH_OPT_BOOL, &pause, NULL,
         "Pause container during commit (default true)"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                                                   "Create a new image from a container's changes",
                                                   "berth container commit, berth commit", 1, 2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_strv_ char **changes_owned = changes;
    if (!parsed)
        return status;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "container", args[0]);
    if (nargs > 1 && args[1][0]) {
        struct berth_image_ref ref = {0};
        if (berth_image_ref_parse(args[1], &ref, &err) < 0)
            return berth_cli_fail(cli, err);
        if (ref.digest) {
            berth_image_ref_clear(&ref);
            fprintf(cli->err, "refusing to create a tag with a digest reference\n");
            return 1;
        }
        _cleanup_free_ char *name = berth_image_ref_familiar_name(&ref);
        berth_query_add(&q, "repo", name ? name : args[1]);
        if (ref.tag)
            berth_query_add(&q, "tag", ref.tag);
        berth_image_ref_clear(&ref);
    }
    if (message && message[0])
        berth_query_add(&q, "comment", message);
    if (author && author[0])
        berth_query_add(&q, "author", author);
    if (!pause)
        berth_query_add(&q, "pause", "0");
    for (char **ch = changes_owned; ch && *ch; ch++)
        berth_query_add(&q, "changes", *ch);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_(json_decrefp) json_t *empty = json_object();
    _cleanup_(json_decrefp) json_t *resp = NULL;
    if (berth_client_send_json(c, "POST", "/commit", &q, empty, &resp, &err) < 0)
        return berth_cli_fail(cli, err);
    fprintf(cli->out, "%s\n", berth_cli_jstr(resp, "Id"));
    return 0;
}

struct fd_sink {
    int fd;
};

static int
to_fd(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct fd_sink *s = ud;
    int r = berth_write_all(s->fd, buf, len);
    return r < 0 ? berth_error_set(err, -r, "write the archive") : 0;
}

int
berth_cli_cmd_export(struct berth_cli *cli, int argc, char **argv)
{
    const char *output = NULL;
    const struct berth_opt opts[] = {
        {'o', "output", BERTH_OPT_STRING, &output, "string", "Write to a file, instead of STDOUT"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive",
        "berth container export, berth export", 1, 1};
    PARSE(info, opts);
    bool to_file = output && output[0];
    if (!to_file && isatty(fileno(cli->out))) {
        fprintf(cli->err, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return 1;
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int fd = -1;
    if (to_file) {
        _cleanup_free_ char *copy = strdup(output);
        if (!copy || asprintf(&tmp, "%s/.berth_temp_XXXXXX", dirname(copy)) < 0)
            return 1;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            fprintf(cli->err, "failed to export container: open %s: %s\n", tmp, strerror(errno));
            return 1;
        }
    } else {
        fflush(cli->out);
    }
    struct fd_sink s = {.fd = to_file ? fd : fileno(cli->out)};
    _cleanup_free_ char *path = berth_cli_ctr_path(args[0], "/export");
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {
        .method = "GET", .path = path, .upload_fd = -1, .on_data = to_fd, .ud = &s};
    int r = berth_client_request(c, &req, &resp, &err);
    if (to_file) {
        if (r == 0 && rename(tmp, output) < 0)
            r = berth_error_set(&err, errno, "rename %s to %s", tmp, output);
        if (r < 0)
            unlink(tmp);
    }
    return r < 0 ? berth_cli_fail(cli, err) : 0;
}

/* ---- port, diff, top ---- */

int
berth_cli_cmd_port(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "CONTAINER [PRIVATE_PORT[/PROTO]]",
        "List port mappings or a specific mapping for the "
        "container",
        "berth container port, berth port", 1, 2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *ipath = berth_cli_ctr_path(args[0], "/json");
    _cleanup_(json_decrefp) json_t *ctr = NULL;
    if (!ipath || berth_client_get_json(c, ipath, NULL, &ctr, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *ports = json_object_get(json_object_get(ctr, "NetworkSettings"), "Ports");
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    if (nargs == 2) {
        _cleanup_free_ char *want = NULL;
        if (asprintf(&want, "%s%s", args[1], strchr(args[1], '/') ? "" : "/tcp") < 0)
            return 1;
        json_t *binds = json_object_get(ports, want);
        if (json_array_size(binds) == 0) {
            fprintf(cli->err, "Error: No public port '%s' published for %s\n", args[1], args[0]);
            return 1;
        }
        json_t *b;
        size_t i;
        json_array_foreach(binds, i, b)
        {
            berth_strbuf_printf(&out, "%s:%s\n", berth_cli_jstr(b, "HostIp"),
                                berth_cli_jstr(b, "HostPort"));
        }
    } else {
        const char *key;
        json_t *binds;
        json_object_foreach(ports, key, binds)
        {
            json_t *b;
            size_t i;
            json_array_foreach(binds, i, b)
            {
                berth_strbuf_printf(&out, "%s -> %s:%s\n", key, berth_cli_jstr(b, "HostIp"),
                                    berth_cli_jstr(b, "HostPort"));
            }
        }
    }
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}

int
berth_cli_cmd_diff(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {
        "CONTAINER", "Inspect changes to files or directories on a container's filesystem",
        "berth container diff, berth diff", 1, 1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *path = berth_cli_ctr_path(args[0], "/changes");
    _cleanup_(json_decrefp) json_t *changes = NULL;
    if (!path || berth_client_get_json(c, path, NULL, &changes, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *ch;
    size_t i;
    json_array_foreach(changes, i, ch)
    {
        long long kind = berth_cli_jint(ch, "Kind");
        fprintf(cli->out, "%c %s\n",
                kind == 1   ? 'A'
                : kind == 2 ? 'D'
                            : 'C',
                berth_cli_jstr(ch, "Path"));
    }
    return 0;
}

int
berth_cli_cmd_top(struct berth_cli *cli, int argc, char **argv)
{
    static const struct berth_cli_cmd_info info = {"CONTAINER [ps OPTIONS]",
                                                   "Display the running processes of a container",
                                                   "berth container top, berth top", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse_until_args(cli, &info, NULL, 0, argc, argv, &args, &nargs, &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    if (nargs > 1) {
        _cleanup_free_ char *ps = berth_strv_join(args + 1, " ");
        berth_query_add(&q, "ps_args", ps ? ps : "");
    }
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *path = berth_cli_ctr_path(args[0], "/top");
    _cleanup_(json_decrefp) json_t *top = NULL;
    if (!path || berth_client_get_json(c, path, &q, &top, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    _cleanup_strbuf_ struct berth_strbuf text = {0};
    json_t *v, *row;
    size_t i, k;
    json_array_foreach(json_object_get(top, "Titles"), i, v)
    {
        berth_strbuf_printf(&text, "%s%s", i ? "\t" : "",
                            json_string_value(v) ? json_string_value(v) : "");
    }
    berth_strbuf_putc(&text, '\n');
    json_array_foreach(json_object_get(top, "Processes"), i, row)
    {
        json_array_foreach(row, k, v)
        {
            berth_strbuf_printf(&text, "%s%s", k ? "\t" : "",
                                json_string_value(v) ? json_string_value(v) : "");
        }
        berth_strbuf_putc(&text, '\n');
    }
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    berth_tabwriter(berth_strbuf_str(&text), text.len, 20, 3, ' ', &out);
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}

int
berth_cli_cmd_container_prune(struct berth_cli *cli, int argc, char **argv)
{
    bool force = false;
    json_t *filters = NULL;
    const struct berth_opt opts[] = {
        {0, "filter", BERTH_OPT_FILTER, &filters, "filter",
         "Provide filter values (e.g. \"until=<timestamp>\")"},
        {'f', "force", BERTH_OPT_BOOL, &force, NULL, "Do not prompt for confirmation"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS]", "Remove all stopped containers",
                                                   NULL, 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_(json_decrefp) json_t *filters_owned = filters;
    if (!parsed)
        return status;
    if (!force && !berth_cli_confirm(cli, "WARNING! This will remove all stopped containers.\nAre "
                                          "you sure you want to continue?"))
        return 0;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_query_ struct berth_query q = {0};
    _cleanup_free_ char *fj = berth_filters_json(filters_owned);
    if (fj)
        berth_query_add(&q, "filters", fj);
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_(json_decrefp) json_t *report = NULL;
    if (berth_client_send_json(c, "POST", "/containers/prune", &q, NULL, &report, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *deleted = json_object_get(report, "ContainersDeleted");
    if (json_array_size(deleted) > 0) {
        fputs("Deleted Containers:\n", cli->out);
        json_t *d;
        size_t i;
        json_array_foreach(deleted, i, d)
        {
            fprintf(cli->out, "%s\n", json_string_value(d) ? json_string_value(d) : "");
        }
        fputc('\n', cli->out);
    }
    char size[32];
    berth_human_size((double)berth_cli_jint(report, "SpaceReclaimed"), 4, size, sizeof(size));
    fprintf(cli->out, "Total reclaimed space: %s\n", size);
    return 0;
}
