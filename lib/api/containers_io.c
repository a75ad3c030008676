/* A container's streams: wait (long poll), attach (hijacked connection proxied to the
 * container's monitor), logs (from the json-file log), resize. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/routes.h"
#include "container/container.h"
#include "container/logfile.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"

static struct berth_containers *
containers_of(struct berth_http_request *req)
{
    return ((struct berth_daemon *)req->app)->containers;
}

const char *
berth_api_stream_type(struct berth_http_request *req, bool tty)
{
    if (berth_http_version_below(req, 1, 42) || tty)
        return "application/vnd.docker.raw-stream";
    return "application/vnd.docker.multiplexed-stream";
}

/* Takes the lock and finds the request's container; else replies (404...) unlocked: NULL. */
static struct berth_container *
find_locked_or_reply(struct berth_http_request *req, struct berth_containers *cs)
{
    struct berth_error *err = NULL;
    struct berth_container *c;
    berth_containers_lock(cs);
    if (berth_containers_find(cs, req->param, &c, &err) == 0)
        return c;
    berth_containers_unlock(cs);
    berth_http_reply_berror(req, err);
    berth_error_free(err);
    return NULL;
}

/* ---- wait ---- */

enum wait_cond { WAIT_NOT_RUNNING, WAIT_NEXT_EXIT, WAIT_REMOVED };

struct waiter {
    struct berth_http_request *req;
    struct berth_containers *cs;
    struct berth_container *c; /* a reference */
    enum wait_cond cond;
    uint64_t seq;
    bool done;
};

static bool
running(const struct berth_container *c)
{
    return c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED ||
           c->state == BERTH_C_RESTARTING;
}

static ssize_t
wait_produce(void *cls, char *buf, size_t max)
{
    struct waiter *w = cls;
    if (w->done)
        return -1;
    berth_containers_lock(w->cs);
    for (;;) {
        struct berth_container *c = w->c;
        bool met = false;
        switch (w->cond) {
        case WAIT_NOT_RUNNING:
            met = c->removed || c->exit_seq != w->seq || !running(c);
            break;
        case WAIT_NEXT_EXIT:
            met = c->removed || c->exit_seq != w->seq;
            break;
        case WAIT_REMOVED:
            met = c->removed;
            break;
        }
        if (met)
            break;
        if (berth_http_client_gone(w->req)) {
            berth_containers_unlock(w->cs);
            return -1;
        }
        berth_containers_wait_change(w->cs, 250);
    }
    int code = w->c->exit_code;
    const char *error = w->c->error;
    json_t *j = error && *error && w->cond != WAIT_REMOVED
                    ? json_pack("{s:i, s:{s:s}}", "StatusCode", code, "Error", "Message", error)
                    : json_pack("{s:i, s:n}", "StatusCode", code, "Error");
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    int n = text && strlen(text) + 1 < max ? snprintf(buf, max, "%s\n", text) : -1;
    free(text);
    berth_containers_unlock(w->cs);
    w->done = true;
    return n > 0 && (size_t)n < max ? n : -1;
}

static void
wait_free(void *cls)
{
    struct waiter *w = cls;
    berth_containers_lock(w->cs);
    berth_container_unref(w->cs, w->c);
    berth_containers_unlock(w->cs);
    free(w);
}

void
berth_api_container_wait(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    const char *cond = berth_http_query(req, "condition");
    enum wait_cond wc = WAIT_NOT_RUNNING;
    if (cond && *cond) {
        if (!strcmp(cond, "next-exit"))
            wc = WAIT_NEXT_EXIT;
        else if (!strcmp(cond, "removed"))
            wc = WAIT_REMOVED;
        else if (strcmp(cond, "not-running")) {
            berth_http_reply_error(req, 400, "invalid condition: \"%s\"", cond);
            return;
        }
    }
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    struct berth_error *err = NULL;
    berth_containers_lock(cs);
    if (berth_containers_find(cs, req->param, &w->c, &err) < 0) {
        berth_containers_unlock(cs);
        free(w);
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    berth_container_ref(w->c);
    w->seq = w->c->exit_seq;
    berth_containers_unlock(cs);
    w->req = req;
    w->cs = cs;
    w->cond = wc;
    berth_http_reply_stream(req, 200, "application/json", wait_produce, w, wait_free);
}

/* ---- resize ---- */

void
berth_api_container_resize(struct berth_http_request *req)
{
    int64_t h = 0, w = 0;
    const char *hs = berth_http_query(req, "h"), *ws = berth_http_query(req, "w");
    if ((hs && *hs && (!berth_parse_i64(hs, &h) || h < 0 || h > 65535)) ||
        (ws && *ws && (!berth_parse_i64(ws, &w) || w < 0 || w > 65535))) {
        berth_http_reply_error(req, 400, "invalid resize arguments: h=%s w=%s", hs ? hs : "",
                               ws ? ws : "");
        return;
    }
    struct berth_error *err = NULL;
    if (berth_ctr_resize(containers_of(req), req->param, (unsigned)h, (unsigned)w, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    berth_http_reply_text(req, 200, "text/plain; charset=utf-8", "", 0);
}

/* ---- detach keys ---- */

/* "ctrl-p,ctrl-q" (moby's syntax: ctrl-<a-z @ [ \ ] ^ _> or one character) into bytes. */
int
berth_detach_keys_parse(const char *s, unsigned char *out, size_t max, size_t *ret_len)
{
    size_t n = 0;
    while (s && *s) {
        size_t len = strcspn(s, ",");
        if (n == max)
            return -EINVAL;
        if (len == 1) {
            out[n++] = (unsigned char)s[0];
        } else if (len == 6 && !strncmp(s, "ctrl-", 5)) {
            char ch = s[5];
            if (ch >= 'a' && ch <= 'z')
                out[n++] = (unsigned char)(ch - 'a' + 1);
            else if (ch == '@' || ch == '[' || ch == '\\' || ch == ']' || ch == '^' || ch == '_')
                out[n++] = (unsigned char)(ch == '@' ? 0 : ch - '[' + 27);
            else
                return -EINVAL;
        } else {
            return -EINVAL;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    *ret_len = n;
    return 0;
}

/* ---- attach ---- */

struct attach {
    struct berth_containers *cs;
    struct berth_container *c; /* a reference */
    char id[65];
    char *run_dir;
    char *log_path;
    bool want_out, want_err, logs, stream;
    struct berth_proxy px;
    /* registered before the 101 goes out when the container does not run: a client may send
     * start right after reading it, and the start must find this session */
    struct berth_attach_waiter w;
    bool waiting;
};

static void
attach_free(void *cls)
{
    struct attach *a = cls;
    if (a->c) {
        berth_containers_lock(a->cs);
        if (a->waiting && !a->c->removed)
            berth_container_remove_waiter(a->c, &a->w);
        if (a->w.monitor_fd >= 0) /* connected by a start, never used */
            close(a->w.monitor_fd);
        berth_container_unref(a->cs, a->c);
        berth_containers_unlock(a->cs);
    }
    free(a->run_dir);
    free(a->log_path);
    free(a);
}

struct replay {
    int fd;
    bool tty;
};

static int
replay_entry(void *cls, const struct berth_log_entry *e)
{
    struct replay *r = cls;
    if (!r->tty) {
        unsigned char h[8] = {(unsigned char)e->stream,
                              0,
                              0,
                              0,
                              (unsigned char)(e->len >> 24),
                              (unsigned char)(e->len >> 16),
                              (unsigned char)(e->len >> 8),
                              (unsigned char)e->len};
        if (berth_write_all(r->fd, h, sizeof(h)) < 0)
            return -EPIPE;
    }
    return berth_write_all(r->fd, e->data, e->len) < 0 ? -EPIPE : 0;
}

static int
connect_now(struct attach *a)
{
    int fd = -1;
    struct berth_error *err = NULL;
    if (berth_monitor_attach_connect(a->run_dir, a->px.want_in, a->want_out, a->want_err, &fd,
                                     &err) < 0)
        berth_error_free(err);
    return fd;
}

/* The monitor connection: at once if the container runs, else the one the next start made
 * for the waiter registered by the request. The caller owns the fd. */
static int
attach_monitor(struct attach *a, int client_fd)
{
    struct berth_containers *cs = a->cs;
    struct berth_container *c = a->c;
    if (!a->waiting)
        return connect_now(a);
    berth_containers_lock(cs);
    while (a->w.monitor_fd < 0 && !a->w.cancelled && !c->removed) {
        if (c->state == BERTH_C_RUNNING && !c->busy)
            break; /* started before we registered: connect ourselves */
        struct pollfd p = {.fd = client_fd, .events = 0};
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
            break;
        berth_containers_wait_change(cs, 250);
    }
    if (!c->removed)
        berth_container_remove_waiter(c, &a->w);
    a->waiting = false;
    int fd = a->w.monitor_fd;
    a->w.monitor_fd = -1;
    bool connect = fd < 0 && !a->w.cancelled && !c->removed && c->state == BERTH_C_RUNNING;
    berth_containers_unlock(cs);
    return connect ? connect_now(a) : fd;
}

/* Output from the monitor: frames; a tty session gets the payloads only. */
struct deframe {
    unsigned char header[8];
    size_t have;      /* header bytes held */
    size_t remaining; /* payload bytes left in the current frame */
};

static int
forward_output(struct deframe *d, bool tty, int out_fd, const unsigned char *buf, size_t n)
{
    if (!tty)
        return berth_write_all(out_fd, buf, n);
    while (n) {
        if (d->remaining == 0) {
            size_t take = 8 - d->have < n ? 8 - d->have : n;
            memcpy(d->header + d->have, buf, take);
            d->have += take;
            buf += take;
            n -= take;
            if (d->have == 8) {
                d->remaining = (size_t)d->header[4] << 24 | (size_t)d->header[5] << 16 |
                               (size_t)d->header[6] << 8 | d->header[7];
                d->have = 0;
            }
            continue;
        }
        size_t take = d->remaining < n ? d->remaining : n;
        if (berth_write_all(out_fd, buf, take) < 0)
            return -1;
        buf += take;
        n -= take;
        d->remaining -= take;
    }
    return 0;
}

/* Input from the client: returns how many bytes to pass on before a complete detach sequence
 * (then *detached), holding a partial sequence across reads as moby does. */
static size_t
scan_detach(const struct berth_proxy *px, size_t *matched, const unsigned char *buf, size_t n,
            bool *detached)
{
    for (size_t i = 0; i < n && px->detach_len; i++) {
        if (buf[i] == px->detach[*matched]) {
            if (++*matched == px->detach_len) {
                *detached = true;
                return i + 1 >= px->detach_len ? i + 1 - px->detach_len : 0;
            }
        } else {
            *matched = buf[i] == px->detach[0] ? 1 : 0;
        }
    }
    return n;
}

void
berth_api_proxy_streams(const struct berth_proxy *px, int fd, int mon, const char *extra,
                        size_t extra_len)
{
    bool in_open = px->want_in;
    if (in_open && extra_len && berth_write_all(mon, extra, extra_len) < 0)
        return;
    struct deframe d = {0};
    size_t matched = 0;
    unsigned char buf[32 * 1024];
    for (;;) {
        struct pollfd p[2] = {{.fd = mon, .events = POLLIN},
                              {.fd = fd, .events = in_open ? POLLIN : 0}};
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(mon, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0)
                break; /* the process exited and its output is drained */
            if (forward_output(&d, px->tty, fd, buf, (size_t)n) < 0)
                break;
        }
        if (p[1].revents & (POLLHUP | POLLERR) && !(p[1].revents & POLLIN))
            break;
        if (p[1].revents & POLLIN) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                in_open = false;
                if (!px->close_stdin_on_eof)
                    break;              /* moby: the session ends; the process keeps its stdin */
                shutdown(mon, SHUT_WR); /* the monitor closes the process's stdin */
                continue;
            }
            bool detached = false;
            size_t pass = scan_detach(px, &matched, buf, (size_t)n, &detached);
            if (pass && berth_write_all(mon, buf, pass) < 0)
                break;
            if (detached)
                break;
        }
    }
}

static void
attach_run(void *cls, int fd, const char *extra, size_t extra_len)
{
    struct attach *a = cls;
    if (a->logs) {
        struct replay r = {.fd = fd, .tty = a->px.tty};
        struct berth_log_read_opts o = {.path = a->log_path,
                                        .want_stdout = a->want_out,
                                        .want_stderr = a->want_err,
                                        .tail = -1};
        struct berth_error *err = NULL;
        if (berth_log_read(&o, replay_entry, NULL, &r, &err) < 0)
            berth_error_free(err);
    }
    if (!a->stream)
        return;
    _cleanup_close_ int mon = attach_monitor(a, fd);
    if (mon < 0)
        return;
    berth_api_proxy_streams(&a->px, fd, mon, extra, extra_len);
}

void
berth_api_container_attach(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    struct attach *a = calloc(1, sizeof(*a));
    if (!a) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    a->cs = cs;
    const char *keys = berth_http_query(req, "detachKeys");
    if (berth_detach_keys_parse(keys && *keys ? keys : "ctrl-p,ctrl-q", a->px.detach,
                                sizeof(a->px.detach), &a->px.detach_len) < 0) {
        free(a);
        berth_http_reply_error(req, 400, "Invalid detach keys (%s) provided", keys);
        return;
    }
    struct berth_container *c = find_locked_or_reply(req, cs);
    if (!c) {
        free(a);
        return;
    }
    if (c->state == BERTH_C_PAUSED || c->state == BERTH_C_RESTARTING) {
        bool paused = c->state == BERTH_C_PAUSED;
        berth_containers_unlock(cs);
        free(a);
        if (paused)
            berth_http_reply_error(req, 409,
                                   "container %s is paused, unpause the container before attach",
                                   req->param);
        else
            berth_http_reply_error(req, 409,
                                   "container %s is restarting, wait until the container is "
                                   "running",
                                   req->param);
        return;
    }
    memcpy(a->id, c->id, sizeof(a->id));
    a->c = c;
    berth_container_ref(c);
    a->px.tty = json_is_true(json_object_get(c->config, "Tty"));
    bool open_stdin = json_is_true(json_object_get(c->config, "OpenStdin"));
    bool stdin_once = json_is_true(json_object_get(c->config, "StdinOnce"));
    a->px.want_in = open_stdin && berth_http_query_bool(req, "stdin", false);
    /* moby: non-tty StdinOnce sessions close the container's stdin at the client's EOF */
    a->px.close_stdin_on_eof = !a->px.tty && stdin_once;
    a->want_out = berth_http_query_bool(req, "stdout", false);
    a->want_err = berth_http_query_bool(req, "stderr", false);
    a->logs = berth_http_query_bool(req, "logs", false);
    a->stream = berth_http_query_bool(req, "stream", false);
    a->run_dir = berth_container_run_dir(cs, c->id);
    a->log_path = berth_container_log_path(cs, c->id);
    a->w = (struct berth_attach_waiter){.monitor_fd = -1,
                                        .want_in = a->px.want_in,
                                        .want_out = a->want_out,
                                        .want_err = a->want_err};
    if (a->stream && (c->state != BERTH_C_RUNNING || c->busy)) {
        berth_container_add_waiter(c, &a->w);
        a->waiting = true;
    }
    berth_container_publish(cs, c, "attach");
    berth_containers_unlock(cs);
    if (!a->run_dir || !a->log_path) {
        attach_free(a);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    berth_http_reply_hijack(req, berth_api_stream_type(req, a->px.tty), attach_run, a, attach_free);
}

/* ---- logs ---- */

struct logs {
    struct berth_containers *cs;
    char id[65];
    bool tty, timestamps;
    struct berth_log_read_opts o;
    char *path;
    int pipe_r, pipe_w;
    atomic_bool cancelled;
    pthread_t thread;
    bool thread_started;
};

static int
logs_entry(void *cls, const struct berth_log_entry *e)
{
    struct logs *l = cls;
    if (atomic_load(&l->cancelled))
        return -ECANCELED;
    char ts[64];
    size_t tslen = 0;
    if (l->timestamps) {
        /* RFC3339Nano with a fixed 9-digit fraction, then a space */
        struct timespec t = {.tv_sec = (time_t)(e->time_ns / 1000000000LL),
                             .tv_nsec = (long)(e->time_ns % 1000000000LL)};
        berth_format_time(&t, ts, sizeof(ts) - 1);
        tslen = strlen(ts);
        ts[tslen++] = ' ';
    }
    size_t len = tslen + e->len;
    if (!l->tty) {
        unsigned char h[8] = {(unsigned char)e->stream,
                              0,
                              0,
                              0,
                              (unsigned char)(len >> 24),
                              (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8),
                              (unsigned char)len};
        if (berth_write_all(l->pipe_w, h, sizeof(h)) < 0)
            return -EPIPE;
    }
    if ((tslen && berth_write_all(l->pipe_w, ts, tslen) < 0) ||
        berth_write_all(l->pipe_w, e->data, e->len) < 0)
        return -EPIPE;
    return 0;
}

static bool
logs_keep_following(void *cls)
{
    struct logs *l = cls;
    if (atomic_load(&l->cancelled))
        return false;
    berth_containers_lock(l->cs);
    struct berth_container *c;
    bool keep = berth_containers_find(l->cs, l->id, &c, NULL) == 0 &&
                (c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED ||
                 c->state == BERTH_C_RESTARTING || c->busy);
    berth_containers_unlock(l->cs);
    return keep;
}

static void *
logs_thread(void *arg)
{
    struct logs *l = arg;
    struct berth_error *err = NULL;
    if (berth_log_read(&l->o, logs_entry, logs_keep_following, l, &err) < 0 && err) {
        berth_debug("logs of %s: %s", l->id, err->msg);
        berth_error_free(err);
    }
    close(l->pipe_w);
    l->pipe_w = -1;
    return NULL;
}

static ssize_t
logs_produce(void *cls, char *buf, size_t max)
{
    struct logs *l = cls;
    for (;;) {
        struct pollfd p = {.fd = l->pipe_r, .events = POLLIN};
        int r = poll(&p, 1, 250);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return 0; /* the server checks whether the client is still there */
        ssize_t n = read(l->pipe_r, buf, max);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 ? n : -1;
    }
}

static void
logs_free(void *cls)
{
    struct logs *l = cls;
    atomic_store(&l->cancelled, true);
    close(l->pipe_r); /* a writer blocked on a full pipe gets EPIPE */
    if (l->thread_started)
        pthread_join(l->thread, NULL);
    if (l->pipe_w >= 0)
        close(l->pipe_w);
    free(l->path);
    free(l);
}

static bool
parse_time_param(const char *s, int64_t *ret_ns)
{
    *ret_ns = 0;
    if (!s || !*s)
        return true;
    /* Unix seconds, optionally with a fraction of up to 9 digits */
    char *end;
    long long secs = strtoll(s, &end, 10);
    if (end == s)
        return false;
    int64_t frac = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; *end >= '0' && *end <= '9'; end++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*end - '0');
        for (; digits < 9; digits++)
            frac *= 10;
    }
    if (*end)
        return false;
    *ret_ns = secs * 1000000000LL + frac;
    return true;
}

void
berth_api_container_logs(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    bool want_out = berth_http_query_bool(req, "stdout", false);
    bool want_err = berth_http_query_bool(req, "stderr", false);
    if (!want_out && !want_err) {
        berth_http_reply_error(req, 400, "Bad parameters: you must choose at least one stream");
        return;
    }
    struct logs *l = calloc(1, sizeof(*l));
    if (!l) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    l->pipe_r = l->pipe_w = -1;
    l->cs = cs;
    const char *since = berth_http_query(req, "since"), *until = berth_http_query(req, "until");
    const char *tail = berth_http_query(req, "tail");
    int64_t tail_n = -1;
    if (!parse_time_param(since, &l->o.since_ns) || !parse_time_param(until, &l->o.until_ns) ||
        (tail && *tail && strcmp(tail, "all") && (!berth_parse_i64(tail, &tail_n) || tail_n < 0))) {
        free(l);
        berth_http_reply_error(req, 400, "invalid value for since, until or tail");
        return;
    }
    struct berth_container *c = find_locked_or_reply(req, cs);
    if (!c) {
        free(l);
        return;
    }
    memcpy(l->id, c->id, sizeof(l->id));
    l->tty = json_is_true(json_object_get(c->config, "Tty"));
    l->path = berth_container_log_path(cs, c->id);
    berth_containers_unlock(cs);
    l->timestamps = berth_http_query_bool(req, "timestamps", false);
    l->o.path = l->path;
    l->o.want_stdout = want_out;
    l->o.want_stderr = want_err;
    l->o.tail = tail_n;
    l->o.follow = berth_http_query_bool(req, "follow", false);
    int p[2];
    if (!l->path || pipe2(p, O_CLOEXEC) < 0) {
        free(l->path);
        free(l);
        berth_http_reply_error(req, 500, "logs: %s", strerror(errno ? errno : ENOMEM));
        return;
    }
    l->pipe_r = p[0];
    l->pipe_w = p[1];
    atomic_init(&l->cancelled, false);
    if (pthread_create(&l->thread, NULL, logs_thread, l) != 0) {
        logs_free(l);
        berth_http_reply_error(req, 500, "logs: cannot start a reader");
        return;
    }
    l->thread_started = true;
    berth_http_reply_stream(req, 200, berth_api_stream_type(req, l->tty), logs_produce, l,
                            logs_free);
}
