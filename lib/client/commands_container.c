/* berth create, run, start, attach: docker's run flow (create, pull when the image is missing,
 * attach before start, wait whose headers arrive before start, start, stream, the exit status
 * from wait). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "client/jsonmessage.h"
#include "core/cleanup.h"
#include "core/util.h"

char *
berth_cli_ctr_path(const char *id, const char *suffix)
{
    char *p = NULL;
    if (asprintf(&p, "/containers/%s%s", id, suffix) < 0)
        return NULL;
    return p;
}

void
berth_run_report(struct berth_cli *cli, const char *msg)
{
    fflush(cli->out);
    fprintf(cli->err, "%s: %s\n\nRun '%s %s --help' for more information\n", cli->prog, msg,
            cli->prog, cli->cmd_path);
}

int
berth_run_start_status(const char *msg)
{
    const char *m = msg;
    if (!strncmp(m, "Error response from daemon: ", 28))
        m += 28;
    if (strstr(m, "executable file not found") || strstr(m, "no such file or directory") ||
        strstr(m, "system cannot find the file specified"))
        return 127;
    if (strstr(m, "permission denied") || strstr(m, "is a directory"))
        return 126;
    return 125;
}

/* ---- attach, wait, stream ---- */

int
berth_cli_ctr_attach(struct berth_client *c, const char *id, const struct berth_attach *a,
                     bool logs, struct berth_conn *ret, struct berth_error **err)
{
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "stream", "1");
    if (a->in)
        berth_query_add(&q, "stdin", "1");
    if (a->out)
        berth_query_add(&q, "stdout", "1");
    if (a->err)
        berth_query_add(&q, "stderr", "1");
    if (a->detach_keys && a->detach_keys[0])
        berth_query_add(&q, "detachKeys", a->detach_keys);
    if (logs)
        berth_query_add(&q, "logs", "1");
    _cleanup_free_ char *path = berth_cli_ctr_path(id, "/attach");
    if (!path)
        return berth_error_set(err, ENOMEM, "attach");
    return berth_conn_request(c, "POST", path, &q, NULL, true, ret, err);
}

int
berth_cli_ctr_wait_begin(struct berth_client *c, const char *id, const char *condition,
                         struct berth_conn *ret, struct berth_error **err)
{
    _cleanup_query_ struct berth_query q = {0};
    if (condition && condition[0])
        berth_query_add(&q, "condition", condition);
    _cleanup_free_ char *path = berth_cli_ctr_path(id, "/wait");
    if (!path)
        return berth_error_set(err, ENOMEM, "wait");
    return berth_conn_request(c, "POST", path, &q, NULL, false, ret, err);
}

int
berth_cli_ctr_wait_end(struct berth_conn *wait, int *ret_status, struct berth_error **err)
{
    _cleanup_free_ char *body = NULL;
    size_t len;
    int r = berth_conn_read_body(wait, &body, &len, err);
    if (r < 0)
        return r;
    json_t *v = json_loadb(body, len, 0, NULL);
    if (!v)
        return berth_error_setq(err, EPROTO, "invalid wait response from the daemon");
    json_t *e = json_object_get(v, "Error");
    if (json_is_object(e) && berth_cli_jstr(e, "Message")[0]) {
        r = berth_error_setq(err, EIO, "%s", berth_cli_jstr(e, "Message"));
        json_decref(v);
        return r;
    }
    *ret_status = (int)berth_cli_jint(v, "StatusCode");
    json_decref(v);
    return 0;
}

void
berth_cli_ctr_resize(struct berth_client *c, const char *id, bool exec)
{
    unsigned rows, cols;
    if (!berth_tty_size(STDOUT_FILENO, &rows, &cols) || (rows == 0 && cols == 0))
        return;
    char h[16], w[16];
    snprintf(h, sizeof(h), "%u", rows);
    snprintf(w, sizeof(w), "%u", cols);
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "h", h);
    berth_query_add(&q, "w", w);
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "/%s/%s/resize", exec ? "exec" : "containers", id) < 0)
        return;
    /* docker retries the first resize a few times: the process may not be there yet */
    for (int i = 0; i < 5; i++) {
        struct berth_error *err = NULL;
        int r = berth_client_send_json(c, "POST", path, &q, NULL, NULL, &err);
        berth_error_free(err);
        if (r == 0)
            break;
        usleep((useconds_t)(10000 * (i + 1)));
    }
}

struct sig_ctx {
    struct berth_cli *cli;
    const char *id;
    bool proxy, tty, exec;
};

static void
on_signal(void *ud, int signo)
{
    struct sig_ctx *s = ud;
    struct berth_client *c = berth_cli_client(s->cli);
    if (!c)
        return;
    if (signo == SIGWINCH && s->tty && isatty(STDOUT_FILENO))
        berth_cli_ctr_resize(c, s->id, s->exec);
    if (!s->proxy)
        return;
    const char *name = berth_client_signal_name(signo);
    if (!name)
        return;
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "signal", name);
    _cleanup_free_ char *path = berth_cli_ctr_path(s->id, "/kill");
    struct berth_error *err = NULL;
    if (path)
        berth_client_send_json(c, "POST", path, &q, NULL, NULL, &err);
    berth_error_free(err);
}

int
berth_cli_ctr_stream(struct berth_cli *cli, const char *id, struct berth_conn *conn,
                     const struct berth_attach *a, bool resize_exec, struct berth_error **err)
{
    fflush(cli->out);
    fflush(cli->err);
    struct sig_ctx s = {
        .cli = cli, .id = id, .proxy = a->sig_proxy, .tty = a->tty, .exec = resize_exec};
    sigset_t old;
    bool want_signals = a->sig_proxy || (a->tty && isatty(STDOUT_FILENO));
    int sfd = want_signals ? berth_client_signals_block(a->sig_proxy, a->tty, &old) : -1;
    struct berth_stream_opts o = {
        .in_fd = a->in ? cli->in_fd : -1,
        .out_fd = a->out ? fileno(cli->out) : -1,
        .err_fd = a->err ? (a->tty ? fileno(cli->out) : fileno(cli->err)) : -1,
        .tty = a->tty,
        .raw_terminal = a->in && a->tty && isatty(cli->in_fd),
        .detach = a->detach_keys,
        .signal_fd = sfd,
        .on_signal = on_signal,
        .ud = &s,
    };
    int r = berth_stream(conn, &o, err);
    if (want_signals) {
        if (sfd >= 0)
            close(sfd);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    return r;
}

/* ---- create ---- */

static int
pull_image_to(struct berth_cli *cli, FILE *out, const char *image, bool quiet, const char *platform,
              struct berth_error **err)
{
    struct berth_image_ref ref = {0};
    int r = berth_image_ref_parse(image, &ref, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *name = berth_image_ref_name(&ref);
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "fromImage", name ? name : image);
    berth_query_add(&q, "tag", ref.digest ? ref.digest : ref.tag ? ref.tag : "latest");
    if (platform && platform[0])
        berth_query_add(&q, "platform", platform);
    berth_image_ref_clear(&ref);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return berth_error_setq(err, EIO, "no client");
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {
        .method = "POST", .path = "/images/create", .query = &q, .upload_fd = -1};
    r = berth_client_request(c, &req, &resp, err);
    if (r < 0)
        return r;
    struct berth_jsonmessage jm = {.out = quiet ? NULL : out, .tty = isatty(fileno(out))};
    if (!jm.out) {
        FILE *devnull = fopen("/dev/null", "we");
        jm.out = devnull;
        r = berth_jsonmessage_render(&jm, resp.body ? resp.body : "", resp.len, err);
        if (devnull)
            fclose(devnull);
    } else {
        r = berth_jsonmessage_render(&jm, resp.body ? resp.body : "", resp.len, err);
    }
    berth_jsonmessage_clear(&jm);
    return r;
}

static int
pull_image(struct berth_cli *cli, const char *image, bool quiet, const char *platform,
           struct berth_error **err)
{
    return pull_image_to(cli, cli->err, image, quiet, platform, err);
}

int
berth_cli_cmd_pull(struct berth_cli *cli, int argc, char **argv)
{
    bool all_tags = false, quiet = false;
    const char *platform = NULL;
    const struct berth_opt opts[] = {
        {'a', "all-tags", BERTH_OPT_BOOL, &all_tags, NULL,
         "Download all tagged images in the repository"},
        {0, "platform", BERTH_OPT_STRING, &platform, "string",
         "Set platform if server is multi-platform capable"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL, "Suppress verbose output"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] NAME[:TAG|@DIGEST]",
                                                   "Download an image from a registry",
                                                   "berth image pull, berth pull", 1, 1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    _cleanup_error_ struct berth_error *err = NULL;
    struct berth_image_ref ref = {0};
    if (berth_image_ref_parse(args[0], &ref, &err) < 0)
        return berth_cli_fail(cli, err);
    bool tagless = !ref.tag && !ref.digest;
    _cleanup_free_ char *name = berth_image_ref_name(&ref);
    _cleanup_free_ char *full = NULL;
    if (asprintf(&full, "%s%s%s", name ? name : args[0], ref.digest ? "@" : ":",
                 ref.digest ? ref.digest
                 : ref.tag  ? ref.tag
                            : "latest") < 0)
        full = NULL;
    berth_image_ref_clear(&ref);
    if (tagless && !all_tags && !quiet)
        fprintf(cli->out, "Using default tag: latest\n");
    fflush(cli->out);
    if (pull_image_to(cli, cli->out, args[0], quiet, platform, &err) < 0)
        return berth_cli_fail(cli, err);
    fprintf(cli->out, "%s\n", full ? full : args[0]);
    return 0;
}

/* Creates the container (pulling a missing image as docker does); the ID in *ret_id. */
static int
create_container(struct berth_cli *cli, struct berth_run_opts *o, json_t *body, char **ret_id,
                 struct berth_error **err)
{
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return berth_error_setq(err, EIO, "no client");
    const char *image = berth_cli_jstr(body, "Image");
    json_t *host = json_object_get(body, "HostConfig");
    if (json_is_true(json_object_get(host, "OomKillDisable")) &&
        berth_cli_jint(host, "Memory") == 0)
        fprintf(cli->err, "WARNING: Disabling the OOM killer on containers without setting a "
                          "'-m/--memory' limit may be dangerous.\n");
    json_t *dns;
    size_t i;
    json_array_foreach(json_object_get(host, "Dns"), i, dns)
    {
        const char *ip = json_string_value(dns);
        if (ip && (!strncmp(ip, "127.", 4) || !strcmp(ip, "::1"))) {
            fprintf(cli->err, "WARNING: Localhost DNS (%s) may fail in containers.\n", ip);
            break;
        }
    }
    if (o->cidfile && o->cidfile[0]) {
        struct stat st;
        if (stat(o->cidfile, &st) == 0)
            return berth_error_setq(err, EEXIST,
                                    "container ID file found, make sure the other container "
                                    "isn't running or delete %s",
                                    o->cidfile);
    }
    /* ParseAnyReference: a named reference gets the default tag */
    struct berth_image_ref ref = {0};
    bool named = false;
    _cleanup_free_ char *familiar = NULL;
    struct berth_error *perr = NULL;
    if (berth_image_ref_parse(image, &ref, &perr) == 0) {
        named = true;
        _cleanup_free_ char *fam = berth_image_ref_familiar_name(&ref);
        if (fam && asprintf(&familiar, "%s%s%s%s%s", fam, ref.tag || !ref.digest ? ":" : "",
                            ref.tag       ? ref.tag
                            : !ref.digest ? "latest"
                                          : "",
                            ref.digest ? "@" : "", ref.digest ? ref.digest : "") < 0)
            familiar = NULL;
        berth_image_ref_clear(&ref);
    } else {
        bool hex = strlen(image) == 64 && strspn(image, "0123456789abcdef") == 64;
        if (!hex) {
            int r = berth_error_setq(err, EINVAL, "%s", perr->msg);
            berth_error_free(perr);
            return r;
        }
        berth_error_free(perr);
    }
    const char *pull = o->pull && o->pull[0] ? o->pull : "missing";
    if (!strcmp(pull, "always")) {
        int r = pull_image(cli, image, o->quiet, o->platform, err);
        if (r < 0)
            return r;
    }
    _cleanup_query_ struct berth_query q = {0};
    if (o->name && o->name[0])
        berth_query_add(&q, "name", o->name);
    if (o->platform && o->platform[0]) {
        _cleanup_free_ char *lower = strdup(o->platform);
        for (char *p = lower; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        berth_query_add(&q, "platform", lower ? lower : o->platform);
    }
    json_t *resp = NULL;
    struct berth_error *cerr = NULL;
    int r = berth_client_send_json(c, "POST", "/containers/create", &q, body, &resp, &cerr);
    if (r < 0 && cerr && cerr->code == ENOENT && named && !strcmp(pull, "missing")) {
        berth_error_free(cerr);
        cerr = NULL;
        if (!o->quiet) {
            fflush(cli->out);
            fprintf(cli->err, "Unable to find image '%s' locally\n", familiar ? familiar : image);
        }
        r = pull_image(cli, image, o->quiet, o->platform, err);
        if (r < 0)
            return r;
        r = berth_client_send_json(c, "POST", "/containers/create", &q, body, &resp, &cerr);
    }
    if (r < 0) {
        if (err && !*err)
            *err = cerr;
        else
            berth_error_free(cerr);
        return r;
    }
    json_t *w;
    json_array_foreach(json_object_get(resp, "Warnings"), i, w)
    {
        fprintf(cli->err, "WARNING: %s\n", json_string_value(w) ? json_string_value(w) : "");
    }
    *ret_id = strdup(berth_cli_jstr(resp, "Id"));
    json_decref(resp);
    if (!*ret_id)
        return berth_error_set(err, ENOMEM, "create");
    if (o->cidfile && o->cidfile[0]) {
        _cleanup_close_ int fd =
            open(o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd < 0 || berth_write_all(fd, *ret_id, strlen(*ret_id)) < 0)
            return berth_error_setq(err, errno, "failed to write the container ID to the file");
    }
    return 0;
}

static const struct berth_cli_cmd_info create_info = {
    "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
    "berth container create, berth create", 1, -1};
static const struct berth_cli_cmd_info run_info = {"[OPTIONS] IMAGE [COMMAND] [ARG...]",
                                                   "Create and run a new container from an image",
                                                   "berth container run, berth run", 1, -1};

static int
run_or_create(struct berth_cli *cli, int argc, char **argv, bool run)
{
    const struct berth_cli_cmd_info *info = run ? &run_info : &create_info;
    struct berth_run_opts o = {0};
    struct berth_opt opts[96];
    size_t nopts = berth_run_opts_table(&o, run, opts);
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed =
        berth_cli_parse_until_args(cli, info, opts, nopts, argc, argv, &args, &nargs, &status);
    int rc = 0;
    _cleanup_(json_decrefp) json_t *body = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    struct berth_conn attach_conn = {.fd = -1}, wait_conn = {.fd = -1};
    if (!parsed) {
        rc = status;
        goto out;
    }
    berth_run_opts_seen(&o, argc, argv);
    if (o.pull && strcmp(o.pull, "always") && strcmp(o.pull, "missing") &&
        strcmp(o.pull, "never") && o.pull[0]) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
                 o.pull);
        berth_run_report(cli, msg);
        rc = 125;
        goto out;
    }
    if (o.rm && o.restart && o.restart[0] && strcmp(o.restart, "no")) {
        berth_run_report(cli, "conflicting options: cannot specify both --restart and --rm");
        rc = 125;
        goto out;
    }
    bool is_usage = false;
    if (berth_run_opts_build(cli, &o, args[0], args + 1, nargs - 1, &body, &is_usage, &err) < 0) {
        if (is_usage)
            rc = berth_cli_usage_error(cli, info, err->msg);
        else {
            berth_run_report(cli, err->msg);
            rc = 125;
        }
        goto out;
    }
    if (!berth_cli_client(cli)) {
        rc = 1;
        goto out;
    }
    struct berth_attach a = {
        .in = json_is_true(json_object_get(body, "AttachStdin")),
        .out = json_is_true(json_object_get(body, "AttachStdout")),
        .err = json_is_true(json_object_get(body, "AttachStderr")),
        .tty = o.tty,
        .detach_keys = o.detach_keys,
        .sig_proxy = run && o.sig_proxy,
    };
    if (run && !o.detach) {
        if (a.in && a.tty && !isatty(cli->in_fd)) {
            fprintf(cli->err, "the input device is not a TTY\n");
            rc = 1;
            goto out;
        }
    } else if (run) {
        if (o.attach) {
            fprintf(cli->err, "conflicting options: cannot specify both --attach and --detach\n");
            rc = 1;
            goto out;
        }
        a.in = a.out = a.err = false;
        json_object_set_new(body, "AttachStdin", json_false());
        json_object_set_new(body, "AttachStdout", json_false());
        json_object_set_new(body, "AttachStderr", json_false());
        json_object_set_new(body, "StdinOnce", json_false());
    }
    if (create_container(cli, &o, body, &id, &err) < 0) {
        if (run) {
            berth_run_report(cli, err->msg);
            rc = berth_run_start_status(err->msg);
        } else {
            rc = berth_cli_fail(cli, err);
        }
        goto out;
    }
    if (!run) {
        fprintf(cli->out, "%s\n", id);
        goto out;
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!a.out && !a.err) {
        fprintf(cli->out, "%s\n", id);
        fflush(cli->out);
    }
    bool attached = a.in || a.out || a.err;
    if (attached && berth_cli_ctr_attach(c, id, &a, false, &attach_conn, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    bool waiting = !o.detach;
    if (waiting &&
        berth_cli_ctr_wait_begin(c, id, o.rm ? "removed" : "next-exit", &wait_conn, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    /* no cleanup attribute here: the gotos above jump past this point */
    char *start_path = berth_cli_ctr_path(id, "/start");
    int started = berth_client_send_json(c, "POST", start_path, NULL, NULL, NULL, &err);
    free(start_path);
    if (started < 0) {
        berth_run_report(cli, err->msg);
        rc = berth_run_start_status(err->msg);
        if (o.rm && waiting) {
            struct berth_error *e = NULL;
            int st;
            berth_cli_ctr_wait_end(&wait_conn, &st, &e);
            berth_error_free(e);
        }
        goto out;
    }
    if (attached && a.tty && isatty(fileno(cli->out)))
        berth_cli_ctr_resize(c, id, false);
    if (attached) {
        int r = berth_cli_ctr_stream(cli, id, &attach_conn, &a, false, &err);
        if (r == BERTH_STREAM_DETACHED)
            goto out;
        if (r < 0) {
            rc = berth_cli_fail(cli, err);
            goto out;
        }
    }
    if (!a.out && !a.err)
        goto out;
    int st = 0;
    if (berth_cli_ctr_wait_end(&wait_conn, &st, &err) < 0) {
        fprintf(cli->err, "Error waiting for container: %s\n", err->msg);
        rc = 125;
        goto out;
    }
    rc = st;
out:
    berth_conn_close(&attach_conn);
    berth_conn_close(&wait_conn);
    berth_run_opts_clear(&o);
    return rc;
}

int
berth_cli_cmd_run(struct berth_cli *cli, int argc, char **argv)
{
    return run_or_create(cli, argc, argv, true);
}

int
berth_cli_cmd_create(struct berth_cli *cli, int argc, char **argv)
{
    return run_or_create(cli, argc, argv, false);
}

/* ---- start ---- */

/* start -a and attach, once attached and started: stream until the output ends (or detach),
 * then the exit status from the wait begun before. */
static int
stream_then_wait(struct berth_cli *cli, struct berth_client *c, const char *id,
                 struct berth_conn *conn, struct berth_conn *wait, const struct berth_attach *a)
{
    _cleanup_error_ struct berth_error *err = NULL;
    if (a->tty && isatty(fileno(cli->out)))
        berth_cli_ctr_resize(c, id, false);
    int r = berth_cli_ctr_stream(cli, id, conn, a, false, &err);
    if (r == BERTH_STREAM_DETACHED)
        return 0;
    if (r < 0)
        return berth_cli_fail(cli, err);
    int st = 0;
    if (berth_cli_ctr_wait_end(wait, &st, &err) < 0)
        return berth_cli_fail(cli, err);
    return st;
}

int
berth_cli_cmd_start(struct berth_cli *cli, int argc, char **argv)
{
    bool attach = false, interactive = false;
    const char *detach_keys = NULL;
    const struct berth_opt opts[] = {
        {'a', "attach", BERTH_OPT_BOOL, &attach, NULL, "Attach STDOUT/STDERR and forward signals"},
        {0, "detach-keys", BERTH_OPT_STRING, &detach_keys, "string",
         "Override the key sequence for detaching a container"},
        {'i', "interactive", BERTH_OPT_BOOL, &interactive, NULL, "Attach container's STDIN"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER [CONTAINER...]",
                                                   "Start one or more stopped containers",
                                                   "berth container start, berth start", 1, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    if (!attach && !interactive) {
        _cleanup_strbuf_ struct berth_strbuf failed = {0};
        for (int i = 0; i < nargs; i++) {
            _cleanup_free_ char *path = berth_cli_ctr_path(args[i], "/start");
            _cleanup_error_ struct berth_error *e = NULL;
            if (!path || berth_client_send_json(c, "POST", path, NULL, NULL, NULL, &e) < 0) {
                fflush(cli->out);
                fprintf(cli->err, "%s\n", e ? e->msg : "out of memory");
                berth_strbuf_printf(&failed, "%s%s", failed.len ? ", " : "", args[i]);
                continue;
            }
            fprintf(cli->out, "%s\n", args[i]);
        }
        if (failed.len) {
            fflush(cli->out);
            fprintf(cli->err, "Error: failed to start containers: %s\n", berth_strbuf_str(&failed));
            return 1;
        }
        return 0;
    }
    if (nargs > 1) {
        fprintf(cli->err, "you cannot start and attach multiple containers at once\n");
        return 1;
    }
    _cleanup_free_ char *ipath = berth_cli_ctr_path(args[0], "/json");
    _cleanup_(json_decrefp) json_t *ctr = NULL;
    if (!ipath || berth_client_get_json(c, ipath, NULL, &ctr, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *config = json_object_get(ctr, "Config");
    const char *id = berth_cli_jstr(ctr, "Id");
    struct berth_attach a = {
        .in = interactive && json_is_true(json_object_get(config, "OpenStdin")),
        .out = true,
        .err = true,
        .tty = json_is_true(json_object_get(config, "Tty")),
        .detach_keys = detach_keys,
    };
    a.sig_proxy = !a.tty;
    if (a.in && a.tty && !isatty(cli->in_fd)) {
        fprintf(cli->err, "the input device is not a TTY\n");
        return 1;
    }
    struct berth_conn conn = {.fd = -1}, wait = {.fd = -1};
    int rc = 0;
    if (berth_cli_ctr_attach(c, id, &a, false, &conn, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    bool autoremove =
        json_is_true(json_object_get(json_object_get(ctr, "HostConfig"), "AutoRemove"));
    if (berth_cli_ctr_wait_begin(c, id, autoremove ? "removed" : "next-exit", &wait, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    /* no cleanup attribute here: the gotos above jump past this point */
    char *spath = berth_cli_ctr_path(id, "/start");
    int started = berth_client_send_json(c, "POST", spath, NULL, NULL, NULL, &err);
    free(spath);
    if (started < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    rc = stream_then_wait(cli, c, id, &conn, &wait, &a);
out:
    berth_conn_close(&conn);
    berth_conn_close(&wait);
    return rc;
}

/* ---- attach ---- */

int
berth_cli_cmd_attach(struct berth_cli *cli, int argc, char **argv)
{
    bool no_stdin = false, sig_proxy = true;
    const char *detach_keys = NULL;
    const struct berth_opt opts[] = {
        {0, "detach-keys", BERTH_OPT_STRING, &detach_keys, "string",
         "Override the key sequence for detaching a container"},
        {0, "no-stdin", BERTH_OPT_BOOL, &no_stdin, NULL, "Do not attach STDIN"},
        {0, "sig-proxy", BERTH_OPT_BOOL, &sig_proxy, NULL,
         "Proxy all received signals to the process (default true)"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] CONTAINER",
        "Attach local standard input, output, and error streams to a running container",
        "berth container attach, berth attach", 1, 1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *ipath = berth_cli_ctr_path(args[0], "/json");
    _cleanup_(json_decrefp) json_t *ctr = NULL;
    if (!ipath || berth_client_get_json(c, ipath, NULL, &ctr, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    json_t *state = json_object_get(ctr, "State");
    json_t *config = json_object_get(ctr, "Config");
    if (!json_is_true(json_object_get(state, "Running"))) {
        fprintf(cli->err, "You cannot attach to a stopped container, start it first\n");
        return 1;
    }
    if (json_is_true(json_object_get(state, "Paused"))) {
        fprintf(cli->err, "You cannot attach to a paused container, unpause it first\n");
        return 1;
    }
    if (json_is_true(json_object_get(state, "Restarting"))) {
        fprintf(cli->err, "You cannot attach to a restarting container, wait until it is "
                          "running\n");
        return 1;
    }
    const char *id = berth_cli_jstr(ctr, "Id");
    struct berth_attach a = {
        .in = !no_stdin && json_is_true(json_object_get(config, "OpenStdin")),
        .out = true,
        .err = true,
        .tty = json_is_true(json_object_get(config, "Tty")),
        .detach_keys = detach_keys,
    };
    a.sig_proxy = sig_proxy && !a.tty;
    if (!no_stdin && a.tty && !isatty(cli->in_fd)) {
        fprintf(cli->err, "the input device is not a TTY\n");
        return 1;
    }
    struct berth_conn conn = {.fd = -1}, wait = {.fd = -1};
    int rc = 0;
    if (berth_cli_ctr_wait_begin(c, id, "", &wait, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    if (berth_cli_ctr_attach(c, id, &a, false, &conn, &err) < 0) {
        rc = berth_cli_fail(cli, err);
        goto out;
    }
    rc = stream_then_wait(cli, c, id, &conn, &wait, &a);
out:
    berth_conn_close(&conn);
    berth_conn_close(&wait);
    return rc;
}
