#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <grp.h>
#include <netdb.h>
#include <jansson.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_LISTENERS 16

struct berth_http_server {
    const struct berth_route *routes;
    size_t n_routes;
    void *app;
    char *spool_dir;
    struct MHD_Daemon *daemons[MAX_LISTENERS];
    char *tls_mem[MAX_LISTENERS * 3]; /* CA, certificate, key of each TLS listener */
    size_t n_daemons;
    atomic_bool stopping;
    atomic_int active; /* requests between their headers and their completion */
    /* hijacked connections: their sockets, so that stop can shut them down and wait */
    pthread_mutex_t hijack_lock;
    pthread_cond_t hijack_done;
    int hijack_fds[256];
    size_t n_hijacks;
};

/* Per request state, from the headers to the completion callback. */
struct berth_http_conn {
    struct berth_http_server *srv;
    struct MHD_Connection *mhd;
    const struct berth_route *route;
    struct berth_http_request req;
    char *path;
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    int spool_fd;
    int early_status; /* an error found before the body: reply with it at the end */
    char early_msg[256];
    bool queued;
};

/* ---- replies ---- */

static void
add_common_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Api-Version", BERTH_API_VERSION);
    MHD_add_response_header(resp, "Ostype", "linux");
    MHD_add_response_header(resp, "Docker-Experimental", "false");
    MHD_add_response_header(resp, "Server", "Berth/" BERTH_ENGINE_VERSION " (linux)");
}

static void
queue(struct berth_http_request *req, unsigned status, struct MHD_Response *resp)
{
    struct berth_http_conn *hc = req->conn;
    if (!resp)
        return;
    add_common_headers(resp);
    if (hc->queued) {
        berth_debug("http: a second reply for %s %s dropped", req->method, req->path);
    } else if (MHD_queue_response(hc->mhd, status, resp) == MHD_YES) {
        hc->queued = true;
    }
    MHD_destroy_response(resp);
}

void
berth_http_reply_text(struct berth_http_request *req, unsigned status, const char *content_type,
                      const char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    queue(req, status, resp);
}

void
berth_http_reply_with_headers(struct berth_http_request *req, unsigned status,
                              const char *content_type, const char *text, size_t len,
                              const char *const *headers)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return;
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    queue(req, status, resp);
}

void
berth_http_reply_json_text(struct berth_http_request *req, unsigned status, char *text,
                           size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    queue(req, status, resp);
}

void
berth_http_reply_json(struct berth_http_request *req, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text) {
        berth_http_reply_text(req, 500, "application/json", "{\"message\":\"out of memory\"}", 27);
        return;
    }
    size_t len = strlen(text);
    /* moby ends JSON bodies with a newline */
    char *withnl = realloc(text, len + 2);
    if (withnl) {
        text = withnl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return;
    }
    /* exactly application/json: the docker CLI shows anything else raw */
    MHD_add_response_header(resp, "Content-Type", "application/json");
    queue(req, status, resp);
}

void
berth_http_reply_empty(struct berth_http_request *req, unsigned status)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    queue(req, status, resp);
}

void
berth_http_reply_error(struct berth_http_request *req, unsigned status, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    berth_http_reply_json(req, status, json_pack("{s:s}", "message", msg));
}

unsigned
berth_http_status_of_errno(int code)
{
    switch (code) {
    case ENOENT:
        return 404;
    case EEXIST:
    case EBUSY:
    case ENOTEMPTY:
        return 409;
    case EINVAL:
    case EBADMSG:
    case EILSEQ:
    case ENAMETOOLONG:
        return 400;
    case EPERM:
    case EACCES:
        return 403;
    case EFBIG:
    case EMSGSIZE:
        return 413;
    case ENOSYS:
    case EOPNOTSUPP:
        return 501;
    case EALREADY:
        return 304;
    default:
        return 500;
    }
}

void
berth_http_reply_berror(struct berth_http_request *req, const struct berth_error *e)
{
    unsigned status = berth_http_status_of_errno(e ? e->code : EIO);
    if (status == 304) {
        berth_http_reply_empty(req, 304);
        return;
    }
    berth_http_reply_error(req, status, "%s", e && e->msg ? e->msg : "internal error");
}

/* ---- streams ---- */

struct stream {
    struct berth_http_request *req;
    berth_http_produce produce;
    void *cls;
    void (*free_cls)(void *);
};

static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    for (;;) {
        ssize_t n = s->produce(s->cls, buf, max);
        if (n > 0)
            return n;
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* nothing yet: MHD would retry at once, so wait a little here */
        if (berth_http_peer_closed(s->req))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void
stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->free_cls)
        s->free_cls(s->cls);
    free(s);
}

void
berth_http_reply_stream(struct berth_http_request *req, unsigned status, const char *content_type,
                        berth_http_produce produce, void *cls, void (*free_cls)(void *cls))
{
    berth_http_reply_stream_with_headers(req, status, content_type, NULL, produce, cls, free_cls);
}

void
berth_http_reply_stream_with_headers(struct berth_http_request *req, unsigned status,
                                     const char *content_type, const char *const *headers,
                                     berth_http_produce produce, void *cls,
                                     void (*free_cls)(void *cls))
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s) {
        if (free_cls)
            free_cls(cls);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    *s = (struct stream){.req = req, .produce = produce, .cls = cls, .free_cls = free_cls};
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                                                  stream_reader, s, stream_free);
    if (!resp) {
        stream_free(s);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        MHD_add_response_header(resp, headers[i], headers[i + 1]);
    queue(req, status, resp);
}

/* ---- hijacked connections ---- */

struct hijack {
    struct berth_http_server *srv;
    berth_http_hijack_run run;
    void *cls;
    void (*free_cls)(void *cls);
    struct MHD_UpgradeResponseHandle *urh;
    int fd;
    char *extra;
    size_t extra_len;
    int pair_fd; /* the fallback without Upgrade: the stream reads the other end */
};

static void
hijack_free(struct hijack *h)
{
    if (h->free_cls)
        h->free_cls(h->cls);
    free(h->extra);
    free(h);
}

static bool
hijack_track(struct berth_http_server *srv, int fd)
{
    pthread_mutex_lock(&srv->hijack_lock);
    bool ok = !atomic_load(&srv->stopping) && srv->n_hijacks < BERTH_ARRAY_SIZE(srv->hijack_fds);
    if (ok)
        srv->hijack_fds[srv->n_hijacks++] = fd;
    pthread_mutex_unlock(&srv->hijack_lock);
    return ok;
}

static void
hijack_untrack(struct berth_http_server *srv, int fd)
{
    pthread_mutex_lock(&srv->hijack_lock);
    for (size_t i = 0; i < srv->n_hijacks; i++) {
        if (srv->hijack_fds[i] == fd) {
            srv->hijack_fds[i] = srv->hijack_fds[--srv->n_hijacks];
            break;
        }
    }
    pthread_cond_broadcast(&srv->hijack_done);
    pthread_mutex_unlock(&srv->hijack_lock);
}

/* At stop: every hijacked session sees EOF on its socket and ends; wait for them (bounded). */
static void
hijacks_end(struct berth_http_server *srv)
{
    pthread_mutex_lock(&srv->hijack_lock);
    for (size_t i = 0; i < srv->n_hijacks; i++)
        shutdown(srv->hijack_fds[i], SHUT_RDWR);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (srv->n_hijacks > 0) {
        if (pthread_cond_timedwait(&srv->hijack_done, &srv->hijack_lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&srv->hijack_lock);
}

static void *
hijack_thread(void *arg)
{
    struct hijack *h = arg;
    h->run(h->cls, h->fd, h->extra, h->extra_len);
    hijack_untrack(h->srv, h->fd);
    if (h->urh)
        MHD_upgrade_action(h->urh, MHD_UPGRADE_ACTION_CLOSE);
    else
        close(h->fd);
    hijack_free(h);
    return NULL;
}

static bool
hijack_spawn(struct hijack *h)
{
    if (!hijack_track(h->srv, h->fd))
        return false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    int r = pthread_create(&t, &attr, hijack_thread, h);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        hijack_untrack(h->srv, h->fd);
        return false;
    }
    return true;
}

static void
upgrade_cb(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
           size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)c, (void)con_cls;
    struct hijack *h = cls;
    h->urh = urh;
    h->fd = sock;
    if (extra_in_size) {
        h->extra = malloc(extra_in_size);
        if (h->extra) {
            memcpy(h->extra, extra_in, extra_in_size);
            h->extra_len = extra_in_size;
        }
    }
    /* the handler must return for MHD to start forwarding (TLS): the session runs elsewhere */
    if (!hijack_spawn(h)) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        hijack_free(h);
    }
}

static ssize_t
hijack_pair_produce(void *cls, char *buf, size_t max)
{
    struct hijack *h = cls;
    ssize_t n = read(h->pair_fd, buf, max);
    if (n > 0)
        return n;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    return -1;
}

static void
hijack_pair_free(void *cls)
{
    struct hijack *h = cls;
    close(h->pair_fd);
    free(h);
}

void
berth_http_reply_hijack(struct berth_http_request *req, const char *content_type,
                        berth_http_hijack_run run, void *cls, void (*free_cls)(void *cls))
{
    struct hijack *h = calloc(1, sizeof(*h));
    if (!h) {
        if (free_cls)
            free_cls(cls);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    *h = (struct hijack){.srv = req->conn->srv,
                         .run = run,
                         .cls = cls,
                         .free_cls = free_cls,
                         .fd = -1,
                         .pair_fd = -1};
    const char *upgrade = berth_http_header(req, "Upgrade");
    if (upgrade && *upgrade) {
        struct MHD_Response *resp = MHD_create_response_for_upgrade(upgrade_cb, h);
        if (!resp) {
            hijack_free(h);
            berth_http_reply_error(req, 500, "cannot upgrade the connection");
            return;
        }
        MHD_add_response_header(resp, "Upgrade", "tcp");
        if (content_type)
            MHD_add_response_header(resp, "Content-Type", content_type);
        struct berth_http_conn *hc = req->conn;
        queue(req, 101, resp);
        if (!hc->queued) {
            /* MHD refused the upgrade (e.g. no Connection: Upgrade): nothing will call us */
            hijack_free(h);
            berth_http_reply_error(req, 400, "cannot upgrade the connection");
        }
        return;
    }
    /* no Upgrade: run writes into a socketpair whose other end feeds a plain stream */
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        hijack_free(h);
        berth_http_reply_error(req, 500, "socketpair: %s", strerror(errno));
        return;
    }
    shutdown(sp[1], SHUT_WR); /* no input: run reads EOF at once */
    struct hijack *reader = calloc(1, sizeof(*reader));
    if (!reader) {
        close(sp[0]), close(sp[1]);
        hijack_free(h);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    reader->pair_fd = sp[1];
    h->fd = sp[0];
    if (!hijack_spawn(h)) {
        close(sp[0]);
        hijack_free(h);
        hijack_pair_free(reader);
        berth_http_reply_error(req, 503, "the daemon is shutting down");
        return;
    }
    berth_http_reply_stream(req, 200,
                            content_type ? content_type : "application/vnd.docker.raw-stream",
                            hijack_pair_produce, reader, hijack_pair_free);
}

bool
berth_http_client_gone(struct berth_http_request *req)
{
    return berth_http_stopping(req->conn->srv) || berth_http_peer_closed(req);
}

bool
berth_http_peer_closed(struct berth_http_request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

struct berth_http_server *
berth_http_request_server(struct berth_http_request *req)
{
    return req->conn->srv;
}

bool
berth_http_stopping(const struct berth_http_server *srv)
{
    return atomic_load(&srv->stopping);
}

/* ---- request data ---- */

const char *
berth_http_query(struct berth_http_request *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn->mhd, MHD_GET_ARGUMENT_KIND, key);
}

struct collect {
    const char *key;
    const char **values;
    size_t n;
};

static enum MHD_Result
collect_values(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct collect *c = cls;
    if (strcmp(key, c->key) != 0)
        return MHD_YES;
    const char **nv = realloc(c->values, (c->n + 2) * sizeof(char *));
    if (!nv)
        return MHD_NO;
    c->values = nv;
    nv[c->n++] = value ? value : "";
    nv[c->n] = NULL;
    return MHD_YES;
}

const char **
berth_http_query_all(struct berth_http_request *req, const char *key)
{
    struct collect c = {.key = key};
    MHD_get_connection_values(req->conn->mhd, MHD_GET_ARGUMENT_KIND, collect_values, &c);
    if (!c.values)
        c.values = calloc(1, sizeof(char *));
    return c.values;
}

bool
berth_http_query_bool(struct berth_http_request *req, const char *key, bool def)
{
    const char *v = berth_http_query(req, key);
    if (!v)
        return def;
    while (*v == ' ')
        v++;
    return !(!*v || !strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
             !strcasecmp(v, "none"));
}

const char *
berth_http_header(struct berth_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn->mhd, MHD_HEADER_KIND, name);
}

bool
berth_http_version_below(const struct berth_http_request *req, int major, int minor)
{
    return req->api_major < major || (req->api_major == major && req->api_minor < minor);
}

/* ---- routing ---- */

/* Splits an optional "/v1.44" prefix off path; returns the rest. */
static const char *
strip_version(const char *path, int *major, int *minor, bool *bad)
{
    *major = BERTH_API_VERSION_MAX_MAJOR;
    *minor = BERTH_API_VERSION_MAX_MINOR;
    *bad = false;
    if (path[0] != '/' || path[1] != 'v' || path[2] < '0' || path[2] > '9')
        return path;
    const char *p = path + 2;
    char *end;
    long ma = strtol(p, &end, 10);
    if (*end != '.') {
        *bad = true;
        return path;
    }
    long mi = strtol(end + 1, &end, 10);
    if (*end != '/' && *end != '\0') {
        *bad = true;
        return path;
    }
    *major = (int)ma;
    *minor = (int)mi;
    return *end ? end : "/";
}

static const struct berth_route *
match(struct berth_http_server *srv, const char *method, const char *path, char **ret_param,
      bool *path_known)
{
    *path_known = false;
    size_t plen = strlen(path);
    for (size_t i = 0; i < srv->n_routes; i++) {
        const struct berth_route *r = &srv->routes[i];
        bool hit = false;
        char *param = NULL;
        if (!r->has_param) {
            hit = !strcmp(path, r->prefix);
        } else if (berth_str_has_prefix(path, r->prefix)) {
            size_t pre = strlen(r->prefix), suf = r->suffix ? strlen(r->suffix) : 0;
            if (plen > pre + suf && (!r->suffix || berth_str_has_suffix(path, r->suffix))) {
                param = strndup(path + pre, plen - pre - suf);
                hit = param != NULL;
            }
        }
        if (!hit) {
            free(param);
            continue;
        }
        *path_known = true;
        bool same_method =
            !strcmp(method, r->method) || (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"));
        if (same_method) {
            *ret_param = param;
            return r;
        }
        free(param);
    }
    return NULL;
}

static void
set_early(struct berth_http_conn *hc, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hc->early_msg, sizeof(hc->early_msg), fmt, ap);
    va_end(ap);
    hc->early_status = status;
}

static bool client_verified(struct MHD_Connection *c, bool *is_tls);

static struct berth_http_conn *
start_request(struct berth_http_server *srv, struct MHD_Connection *c, const char *url,
              const char *method)
{
    struct berth_http_conn *hc = calloc(1, sizeof(*hc));
    if (!hc)
        return NULL;
    atomic_fetch_add(&srv->active, 1);
    hc->srv = srv;
    hc->mhd = c;
    hc->spool_fd = -1;
    hc->req.conn = hc;
    hc->req.body_fd = -1;
    hc->req.app = srv->app;
    hc->req.method = method;
    int major, minor;
    bool bad;
    const char *rest = strip_version(url, &major, &minor, &bad);
    hc->path = strdup(rest);
    hc->req.path = hc->path ? hc->path : "/";
    hc->req.api_major = major;
    hc->req.api_minor = minor;
    bool is_tls;
    if (!client_verified(c, &is_tls)) {
        set_early(hc, 403, "a client certificate signed by the daemon's CA is required");
        return hc;
    }
    if (bad) {
        set_early(hc, 400, "malformed API version in %s", url);
        return hc;
    }
    if (major > BERTH_API_VERSION_MAX_MAJOR ||
        (major == BERTH_API_VERSION_MAX_MAJOR && minor > BERTH_API_VERSION_MAX_MINOR)) {
        set_early(hc, 400, "client version %d.%d is too new. Maximum supported API version is %s",
                  major, minor, BERTH_API_VERSION);
        return hc;
    }
    if (major < 1 || (major == 1 && minor < 24)) {
        set_early(hc, 400,
                  "client version %d.%d is too old. Minimum supported API version is %s, please "
                  "upgrade your client to a newer version",
                  major, minor, BERTH_API_MIN_VERSION);
        return hc;
    }
    bool known;
    hc->route = match(srv, method, hc->req.path, &hc->req.param, &known);
    if (!hc->route) {
        if (!strcmp(method, "OPTIONS"))
            set_early(hc, 200, "");
        else
            set_early(hc, 404, "page not found");
        return hc;
    }
    if (hc->route->body == BERTH_BODY_SPOOL) {
        hc->spool_fd = open(srv->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (hc->spool_fd < 0)
            set_early(hc, 500, "cannot spool the request body in %s: %s", srv->spool_dir,
                      strerror(errno));
    }
    return hc;
}

static void
take_body(struct berth_http_conn *hc, const char *data, size_t len)
{
    if (hc->early_status || !hc->route || hc->route->body == BERTH_BODY_NONE)
        return;
    if (hc->route->body == BERTH_BODY_SPOOL) {
        if (berth_write_all(hc->spool_fd, data, len) < 0)
            set_early(hc, 500, "cannot spool the request body: %s", strerror(errno));
        return;
    }
    if (hc->body_len + len > BERTH_HTTP_MAX_JSON_BODY) {
        hc->body_too_large = true;
        return;
    }
    if (hc->body_len + len + 1 > hc->body_cap) {
        size_t ncap = hc->body_cap ? hc->body_cap : 4096;
        while (ncap < hc->body_len + len + 1)
            ncap *= 2;
        char *nb = realloc(hc->body, ncap);
        if (!nb) {
            set_early(hc, 500, "out of memory");
            return;
        }
        hc->body = nb;
        hc->body_cap = ncap;
    }
    memcpy(hc->body + hc->body_len, data, len);
    hc->body_len += len;
    hc->body[hc->body_len] = '\0';
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct berth_http_server *srv = cls;
    struct berth_http_conn *hc = *con_cls;
    if (!hc) {
        hc = start_request(srv, c, url, method);
        if (!hc)
            return MHD_NO;
        *con_cls = hc;
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(hc, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    struct berth_http_request *req = &hc->req;
    if (hc->early_status) {
        if (hc->early_status == 200)
            berth_http_reply_empty(req, 200);
        else
            berth_http_reply_error(req, (unsigned)hc->early_status, "%s", hc->early_msg);
    } else if (hc->body_too_large) {
        berth_http_reply_error(req, 413, "request body larger than %u bytes",
                               BERTH_HTTP_MAX_JSON_BODY);
    } else {
        if (hc->route->body == BERTH_BODY_JSON) {
            req->body = hc->body ? hc->body : "";
            req->body_len = hc->body_len;
        } else if (hc->route->body == BERTH_BODY_SPOOL) {
            lseek(hc->spool_fd, 0, SEEK_SET);
            req->body_fd = hc->spool_fd;
        }
        hc->route->handler(req);
    }
    if (!hc->queued)
        berth_http_reply_error(req, 500, "no reply to %s %s", method, req->path);
    return MHD_YES;
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct berth_http_conn *hc = *con_cls;
    if (!hc)
        return;
    atomic_fetch_sub(&hc->srv->active, 1);
    free(hc->path);
    free(hc->req.param);
    free(hc->body);
    if (hc->spool_fd >= 0)
        close(hc->spool_fd);
    free(hc);
    *con_cls = NULL;
}

/* ---- server ---- */

int
berth_http_server_new(const struct berth_route *routes, size_t n_routes, void *app,
                      const char *spool_dir, struct berth_http_server **ret,
                      struct berth_error **err)
{
    struct berth_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return berth_error_set(err, ENOMEM, "http server");
    srv->routes = routes;
    srv->n_routes = n_routes;
    srv->app = app;
    srv->spool_dir = strdup(spool_dir);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->active, 0);
    pthread_mutex_init(&srv->hijack_lock, NULL);
    pthread_cond_init(&srv->hijack_done, NULL);
    *ret = srv;
    return 0;
}

static int
start_daemon(struct berth_http_server *srv, int fd, struct berth_error **err)
{
    if (srv->n_daemons == MAX_LISTENERS) {
        close(fd);
        return berth_error_setq(err, EMFILE, "too many listeners");
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_USE_ITC | MHD_ALLOW_UPGRADE,
        0, NULL, NULL, access_cb, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_END);
    if (!d) {
        close(fd);
        return berth_error_setq(err, EIO, "cannot start the HTTP server");
    }
    srv->daemons[srv->n_daemons++] = d;
    return 0;
}

/* The socket's group, from /etc/group itself: getgrnam() would load the NSS modules (systemd's
 * alone keeps 320 KiB resident in an idle daemon); dockerd also only needs local groups here. */
static struct group *
group_from_file(const char *name)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/group", "re");
    struct group *g;
    while (f && (g = fgetgrent(f)))
        if (!strcmp(g->gr_name, name))
            return g;
    return NULL;
}

int
berth_http_listen_unix(struct berth_http_server *srv, const char *path, mode_t mode,
                       const char *group_name, struct berth_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return berth_error_setq(err, ENAMETOOLONG, "socket path too long: %s", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_error_set(err, errno, "socket");
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(fd);
            return berth_error_setq(err, EEXIST, "%s exists and is not a socket", path);
        }
        /* a socket that nobody answers on is a leftover of a crashed daemon */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;
        if (probe >= 0)
            close(probe);
        if (alive) {
            close(fd);
            return berth_error_setq(err, EADDRINUSE, "another daemon is listening on %s", path);
        }
        unlink(path);
    }
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (r < 0) {
        int e = errno;
        close(fd);
        return berth_error_set(err, e, "bind %s", path);
    }
    if (chmod(path, mode) < 0) {
        int e = errno;
        close(fd);
        return berth_error_set(err, e, "chmod %s", path);
    }
    if (group_name) {
        struct group *g = group_from_file(group_name);
        if (g && chown(path, 0, g->gr_gid) < 0)
            berth_log(BERTH_LOG_WARN, "chown %s to group %s: %s", path, group_name,
                      strerror(errno));
    }
    if (listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        return berth_error_set(err, e, "listen on %s", path);
    }
    return start_daemon(srv, fd, err);
}

/* "host:port", "[v6]:port" or ":port" (all addresses) to a listening TCP socket. */
static int
listen_tcp(const char *host_port, struct berth_error **err)
{
    char host[256] = "", port[16] = "";
    const char *colon = strrchr(host_port, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port))
        return berth_error_setq(err, EINVAL, "invalid tcp address \"%s\": need host:port",
                                host_port);
    snprintf(port, sizeof(port), "%s", colon + 1);
    size_t hl = (size_t)(colon - host_port);
    if (hl >= sizeof(host))
        return berth_error_setq(err, EINVAL, "invalid tcp address \"%s\"", host_port);
    memcpy(host, host_port, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gr != 0)
        return berth_error_setq(err, EINVAL,
                                "invalid tcp address \"%s\": %s (use a numeric address)", host_port,
                                gai_strerror(gr));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return berth_error_set(err, e, "listen on %s", host_port);
    }
    freeaddrinfo(res);
    return fd;
}

int
berth_http_listen_tls(struct berth_http_server *srv, const char *host_port, const char *ca_file,
                      const char *cert_file, const char *key_file, struct berth_error **err)
{
    if (!ca_file || !cert_file || !key_file)
        return berth_error_setq(err, EINVAL, "TLS needs a CA, a certificate and a key");
    if (srv->n_daemons == MAX_LISTENERS)
        return berth_error_setq(err, EMFILE, "too many listeners");
    int r;
    /* MHD keeps pointers to these for the daemon's lifetime */
    char **keep = &srv->tls_mem[srv->n_daemons * 3];
    if ((r = berth_read_file(ca_file, 1u << 20, &keep[0], NULL, err)) < 0 ||
        (r = berth_read_file(cert_file, 1u << 20, &keep[1], NULL, err)) < 0 ||
        (r = berth_read_file(key_file, 1u << 20, &keep[2], NULL, err)) < 0)
        return berth_error_wrap(err, "TLS");
    int fd = listen_tcp(host_port, err);
    if (fd < 0)
        return fd;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_USE_TLS | MHD_ALLOW_UPGRADE,
        0, NULL, NULL, access_cb, srv, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0, MHD_OPTION_HTTPS_MEM_KEY,
        keep[2], MHD_OPTION_HTTPS_MEM_CERT, keep[1], MHD_OPTION_HTTPS_MEM_TRUST, keep[0],
        MHD_OPTION_END);
    if (!d) {
        close(fd);
        return berth_error_setq(
            err, EINVAL, "cannot start the TLS listener on %s: check the certificate and key",
            host_port);
    }
    srv->daemons[srv->n_daemons++] = d;
    return 0;
}

/* Mutual TLS: a connection over TLS must present a certificate the CA signed. */
static bool
client_verified(struct MHD_Connection *c, bool *is_tls)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    *is_tls = ci && ci->tls_session;
    if (!*is_tls)
        return true;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) < 0)
        return false;
    return status == 0;
}

void
berth_http_server_stop(struct berth_http_server *srv)
{
    atomic_store(&srv->stopping, true);
    /* stop accepting; the listening sockets may only be closed after MHD_stop_daemon */
    int listen_fds[MAX_LISTENERS];
    for (size_t i = 0; i < srv->n_daemons; i++)
        listen_fds[i] = MHD_quiesce_daemon(srv->daemons[i]);
    /* let the requests in flight finish (streams end by themselves once stopping is set), as
     * long as dockerd's default shutdown timeout */
    for (int waited = 0; atomic_load(&srv->active) > 0 && waited < 15000; waited += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    hijacks_end(srv);
    for (size_t i = 0; i < srv->n_daemons; i++) {
        MHD_stop_daemon(srv->daemons[i]);
        if (listen_fds[i] != MHD_INVALID_SOCKET)
            close(listen_fds[i]);
    }
    srv->n_daemons = 0;
}

void
berth_http_server_free(struct berth_http_server *srv)
{
    if (!srv)
        return;
    if (srv->n_daemons)
        berth_http_server_stop(srv);
    for (size_t i = 0; i < MAX_LISTENERS * 3; i++)
        free(srv->tls_mem[i]);
    free(srv->spool_dir);
    pthread_mutex_destroy(&srv->hijack_lock);
    pthread_cond_destroy(&srv->hijack_done);
    free(srv);
}
