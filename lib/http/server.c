/* The daemon's HTTP API over conn.c's connections: routing with Docker's version prefixes,
 * request data (query, headers, bodies bounded or spooled), the replies a handler queues, and
 * the listeners (UNIX sockets, TCP with mutual TLS). */
#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "http/internal.h"

/* ---- replies ---- */

const char *
berth_http_reason(unsigned status)
{
    static const struct {
        unsigned status;
        const char *text;
    } reasons[] = {
        {100, "Continue"},
        {101, "UPGRADED"}, /* what dockerd says */
        {200, "OK"},
        {201, "Created"},
        {204, "No Content"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {409, "Conflict"},
        {413, "Request Entity Too Large"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(reasons); i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

void
berth_http_response_clear(struct berth_http_response *r)
{
    if (r->free_cls)
        r->free_cls(r->cls);
    free(r->content_type);
    berth_strv_free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* Takes the reply's slot; false (the reply is dropped) if the handler replied already. */
static struct berth_http_response *
reply_slot(struct berth_http_request *req, unsigned status, const char *content_type,
           const char *const *headers)
{
    struct berth_http_response *r = &req->conn->resp;
    if (r->kind != RESP_NONE) {
        berth_debug("http: a second reply for %s %s dropped", req->method, req->path);
        return NULL;
    }
    size_t n = 0;
    while (headers && headers[n] && headers[n + 1])
        n += 2;
    r->status = status;
    r->content_type = content_type ? strdup(content_type) : NULL;
    r->headers = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; r->headers && i < n; i++)
        r->headers[i] = strdup(headers[i]);
    return r;
}

void
berth_http_reply_with_headers(struct berth_http_request *req, unsigned status,
                              const char *content_type, const char *text, size_t len,
                              const char *const *headers)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    struct berth_http_response *r = copy ? reply_slot(req, status, content_type, headers) : NULL;
    if (!r) {
        free(copy);
        return;
    }
    r->kind = RESP_FIXED;
    r->body = copy;
    r->len = len;
}

void
berth_http_reply_text(struct berth_http_request *req, unsigned status, const char *content_type,
                      const char *text, size_t len)
{
    berth_http_reply_with_headers(req, status, content_type, text, len, NULL);
}

void
berth_http_reply_json_text(struct berth_http_request *req, unsigned status, char *text, size_t len)
{
    struct berth_http_response *r = reply_slot(req, status, "application/json", NULL);
    if (!r) {
        free(text);
        return;
    }
    r->kind = RESP_FIXED;
    r->body = text;
    r->len = len;
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
    /* exactly application/json: the docker CLI shows anything else raw */
    berth_http_reply_json_text(req, status, text, len);
}

void
berth_http_reply_empty(struct berth_http_request *req, unsigned status)
{
    berth_http_reply_text(req, status, NULL, "", 0);
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

/* ---- streams and hijacks ---- */

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
    struct berth_http_response *r = reply_slot(req, status, content_type, headers);
    if (!r) {
        if (free_cls)
            free_cls(cls);
        return;
    }
    r->kind = RESP_STREAM;
    r->produce = produce;
    r->cls = cls;
    r->free_cls = free_cls;
}

bool
berth_http_hijack_track(struct berth_http_server *srv, int fd)
{
    pthread_mutex_lock(&srv->hijack_lock);
    bool ok = !atomic_load(&srv->stopping) && srv->n_hijacks < BERTH_HTTP_MAX_HIJACKS;
    if (ok)
        srv->hijack_fds[srv->n_hijacks++] = fd;
    pthread_mutex_unlock(&srv->hijack_lock);
    return ok;
}

void
berth_http_hijack_untrack(struct berth_http_server *srv, int fd)
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

/* Without Upgrade, run() writes into a socketpair whose other end feeds a plain stream. */
struct pair_session {
    struct berth_http_server *srv;
    berth_http_hijack_run run;
    void *cls;
    void (*free_cls)(void *cls);
    int run_fd, read_fd;
};

static void *
pair_thread(void *arg)
{
    struct pair_session *s = arg;
    s->run(s->cls, s->run_fd, NULL, 0);
    berth_http_hijack_untrack(s->srv, s->run_fd);
    close(s->run_fd);
    if (s->free_cls)
        s->free_cls(s->cls);
    free(s);
    return NULL;
}

struct pair_reader {
    int fd;
};

static ssize_t
pair_produce(void *cls, char *buf, size_t max)
{
    struct pair_reader *p = cls;
    ssize_t n = read(p->fd, buf, max);
    if (n > 0)
        return n;
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    return -1;
}

static void
pair_reader_free(void *cls)
{
    struct pair_reader *p = cls;
    close(p->fd);
    free(p);
}

void
berth_http_reply_hijack(struct berth_http_request *req, const char *content_type,
                        berth_http_hijack_run run, void *cls, void (*free_cls)(void *cls))
{
    struct berth_http_conn *c = req->conn;
    const char *upgrade = berth_http_header(req, "Upgrade");
    if (upgrade && *upgrade) {
        if (!c->parser.upgrade) { /* no Connection: Upgrade */
            if (free_cls)
                free_cls(cls);
            berth_http_reply_error(req, 400, "cannot upgrade the connection");
            return;
        }
        struct berth_http_response *r = reply_slot(req, 101, content_type, NULL);
        if (!r) {
            if (free_cls)
                free_cls(cls);
            return;
        }
        r->kind = RESP_HIJACK;
        r->run = run;
        r->cls = cls;
        r->free_cls = free_cls;
        return;
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        if (free_cls)
            free_cls(cls);
        berth_http_reply_error(req, 500, "socketpair: %s", strerror(errno));
        return;
    }
    shutdown(sp[1], SHUT_WR); /* no input: run reads EOF at once */
    struct pair_session *s = calloc(1, sizeof(*s));
    struct pair_reader *p = calloc(1, sizeof(*p));
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool started = false;
    if (s && p && berth_http_hijack_track(c->srv, sp[0])) {
        *s = (struct pair_session){c->srv, run, cls, free_cls, sp[0], sp[1]};
        p->fd = sp[1];
        started = pthread_create(&t, &attr, pair_thread, s) == 0;
        if (!started)
            berth_http_hijack_untrack(c->srv, sp[0]);
    }
    pthread_attr_destroy(&attr);
    if (!started) {
        close(sp[0]), close(sp[1]);
        free(s);
        free(p);
        if (free_cls)
            free_cls(cls);
        berth_http_reply_error(req, 503, "the daemon is shutting down");
        return;
    }
    berth_http_reply_stream(req, 200,
                            content_type ? content_type : "application/vnd.docker.raw-stream",
                            pair_produce, p, pair_reader_free);
}

bool
berth_http_client_gone(struct berth_http_request *req)
{
    return berth_http_stopping(req->conn->srv) || berth_http_peer_closed(req);
}

bool
berth_http_peer_closed(struct berth_http_request *req)
{
    struct pollfd p = {.fd = req->conn->fd, .events = POLLRDHUP};
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

static int
hex_value(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* %XX decoded in place (and '+' as a space in a query, as Go's ParseQuery does). */
static void
url_decode(char *s, bool plus_space)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        int hi, lo;
        if (*p == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0) {
            *out++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *out++ = plus_space && *p == '+' ? ' ' : *p;
        }
    }
    *out = '\0';
}

static void
parse_query(struct berth_http_conn *c, const char *q)
{
    size_t n = 1;
    for (const char *p = q; *p; p++)
        n += *p == '&';
    c->query = calloc(n, sizeof(*c->query));
    if (!c->query)
        return;
    const char *p = q;
    while (*p) {
        size_t len = strcspn(p, "&");
        if (len) {
            char *kv = strndup(p, len);
            if (!kv)
                break;
            char *eq = strchr(kv, '=');
            char *value = strdup(eq ? eq + 1 : "");
            if (eq)
                *eq = '\0';
            if (!value) {
                free(kv);
                break;
            }
            url_decode(kv, true);
            url_decode(value, true);
            c->query[c->n_query++] = (struct query_arg){kv, value};
        }
        p += len;
        if (*p == '&')
            p++;
    }
}

const char *
berth_http_query(struct berth_http_request *req, const char *key)
{
    struct berth_http_conn *c = req->conn;
    for (size_t i = 0; i < c->n_query; i++)
        if (!strcmp(c->query[i].key, key))
            return c->query[i].value;
    return NULL;
}

const char **
berth_http_query_all(struct berth_http_request *req, const char *key)
{
    struct berth_http_conn *c = req->conn;
    const char **v = calloc(c->n_query + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; v && i < c->n_query; i++)
        if (!strcmp(c->query[i].key, key))
            v[n++] = c->query[i].value;
    return v;
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
    struct berth_http_conn *c = req->conn;
    for (size_t i = 0; i < c->n_headers; i++)
        if (!strcasecmp(c->headers[i].key, name))
            return c->headers[i].value;
    return NULL;
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
set_early(struct berth_http_conn *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->early_msg, sizeof(c->early_msg), fmt, ap);
    va_end(ap);
    c->early_status = status;
}

/* Mutual TLS: a connection over TLS must present a certificate the CA signed. */
static bool
client_verified(struct berth_http_conn *c)
{
    if (!c->ssl)
        return true;
    X509 *peer = SSL_get1_peer_certificate(c->ssl);
    bool ok = peer && SSL_get_verify_result(c->ssl) == X509_V_OK;
    X509_free(peer);
    return ok;
}

void
berth_http_request_begin(struct berth_http_conn *c)
{
    struct berth_http_server *srv = c->srv;
    pthread_mutex_lock(&srv->lock);
    srv->active++;
    c->counted = true;
    pthread_mutex_unlock(&srv->lock);
    c->req.conn = c;
    c->req.body_fd = -1;
    c->req.app = srv->app;
    c->req.method = c->method;
    char *url = c->url ? c->url : "/";
    char *qmark = strchr(url, '?');
    if (qmark) {
        *qmark = '\0';
        parse_query(c, qmark + 1);
    }
    url_decode(url, false);
    int major, minor;
    bool bad;
    const char *rest = strip_version(url, &major, &minor, &bad);
    c->path = strdup(rest);
    c->req.path = c->path ? c->path : "/";
    c->req.api_major = major;
    c->req.api_minor = minor;
    if (!client_verified(c)) {
        set_early(c, 403, "a client certificate signed by the daemon's CA is required");
        return;
    }
    if (bad) {
        set_early(c, 400, "malformed API version in %s", url);
        return;
    }
    if (major > BERTH_API_VERSION_MAX_MAJOR ||
        (major == BERTH_API_VERSION_MAX_MAJOR && minor > BERTH_API_VERSION_MAX_MINOR)) {
        set_early(c, 400, "client version %d.%d is too new. Maximum supported API version is %s",
                  major, minor, BERTH_API_VERSION);
        return;
    }
    if (major < 1 || (major == 1 && minor < 24)) {
        set_early(c, 400,
                  "client version %d.%d is too old. Minimum supported API version is %s, please "
                  "upgrade your client to a newer version",
                  major, minor, BERTH_API_MIN_VERSION);
        return;
    }
    bool known;
    c->route = match(srv, c->method, c->req.path, &c->req.param, &known);
    if (!c->route) {
        if (!strcmp(c->method, "OPTIONS"))
            set_early(c, 200, "");
        else
            set_early(c, 404, "page not found");
        return;
    }
    if (c->route->body == BERTH_BODY_SPOOL) {
        c->spool_fd = open(srv->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (c->spool_fd < 0)
            set_early(c, 500, "cannot spool the request body in %s: %s", srv->spool_dir,
                      strerror(errno));
    }
}

void
berth_http_take_body(struct berth_http_conn *c, const char *data, size_t len)
{
    if (c->early_status || !c->route || c->route->body == BERTH_BODY_NONE)
        return;
    if (c->route->body == BERTH_BODY_SPOOL) {
        if (c->n_spool_iov == (int)BERTH_ARRAY_SIZE(c->spool_iov))
            berth_http_spool_flush(c);
        c->spool_iov[c->n_spool_iov++] = (struct iovec){(void *)data, len};
        return;
    }
    if (c->body_too_large || c->body_len + len > BERTH_HTTP_MAX_JSON_BODY) {
        c->body_too_large = true;
        return;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t ncap = c->body_cap ? c->body_cap : 4096;
        while (ncap < c->body_len + len + 1)
            ncap *= 2;
        char *nb = realloc(c->body, ncap);
        if (!nb) {
            set_early(c, 500, "out of memory");
            return;
        }
        c->body = nb;
        c->body_cap = ncap;
    }
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
}

void
berth_http_spool_flush(struct berth_http_conn *c)
{
    struct iovec *iov = c->spool_iov;
    int n = c->n_spool_iov;
    c->n_spool_iov = 0;
    while (n > 0 && !c->early_status) {
        ssize_t w = writev(c->spool_fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            set_early(c, 500, "cannot spool the request body: %s",
                      w < 0 ? strerror(errno) : "short write");
            return;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

void
berth_http_request_run(struct berth_http_conn *c)
{
    struct berth_http_request *req = &c->req;
    if (c->early_status) {
        if (c->early_status == 200)
            berth_http_reply_empty(req, 200);
        else
            berth_http_reply_error(req, (unsigned)c->early_status, "%s", c->early_msg);
    } else if (c->body_too_large) {
        berth_http_reply_error(req, 413, "request body larger than %u bytes",
                               BERTH_HTTP_MAX_JSON_BODY);
    } else {
        if (c->route->body == BERTH_BODY_JSON) {
            req->body = c->body ? c->body : "";
            req->body_len = c->body_len;
        } else if (c->route->body == BERTH_BODY_SPOOL) {
            berth_http_spool_flush(c);
            lseek(c->spool_fd, 0, SEEK_SET);
            req->body_fd = c->spool_fd;
        }
        c->route->handler(req);
    }
    if (c->resp.kind == RESP_NONE)
        berth_http_reply_error(req, 500, "no reply to %s %s", c->method, req->path);
}

void
berth_http_request_end(struct berth_http_conn *c)
{
    berth_http_response_clear(&c->resp);
    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->headers[i].key);
        free(c->headers[i].value);
    }
    for (size_t i = 0; i < c->n_query; i++) {
        free(c->query[i].key);
        free(c->query[i].value);
    }
    free(c->headers);
    free(c->query);
    free(c->url);
    free(c->hname);
    free(c->hvalue);
    free(c->path);
    free(c->req.param);
    free(c->body);
    if (c->spool_fd >= 0)
        close(c->spool_fd);
    if (c->counted) {
        pthread_mutex_lock(&c->srv->lock);
        c->srv->active--;
        pthread_cond_broadcast(&c->srv->changed);
        pthread_mutex_unlock(&c->srv->lock);
    }
    c->headers = NULL;
    c->query = NULL;
    c->url = c->hname = c->hvalue = c->path = c->body = NULL;
    c->n_headers = c->n_query = c->url_len = c->hname_len = c->hvalue_len = c->head_size = 0;
    c->body_len = c->body_cap = 0;
    c->message_done = c->bad_head = c->body_too_large = c->counted = false;
    c->spool_fd = -1;
    c->n_spool_iov = 0;
    c->early_status = 0;
    c->route = NULL;
    memset(&c->req, 0, sizeof(c->req));
    c->req.body_fd = -1;
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
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->changed, NULL);
    pthread_mutex_init(&srv->hijack_lock, NULL);
    pthread_cond_init(&srv->hijack_done, NULL);
    *ret = srv;
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
    return berth_http_listener_start(srv, fd, NULL, err);
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

/* Accepts every certificate in the handshake: whether it verified is checked per request, so
 * that a client without one gets a 403 that says why. */
static int
accept_any(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok, (void)ctx;
    return 1;
}

int
berth_http_listen_tls(struct berth_http_server *srv, const char *host_port, const char *ca_file,
                      const char *cert_file, const char *key_file, struct berth_error **err)
{
    if (!ca_file || !cert_file || !key_file)
        return berth_error_setq(err, EINVAL, "TLS needs a CA, a certificate and a key");
    SSL_CTX *tls = SSL_CTX_new(TLS_server_method());
    if (!tls)
        return berth_error_setq(err, ENOMEM, "TLS context");
    if (SSL_CTX_use_certificate_chain_file(tls, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls) != 1 ||
        SSL_CTX_load_verify_locations(tls, ca_file, NULL) != 1) {
        const char *why = ERR_reason_error_string(ERR_peek_last_error());
        ERR_clear_error();
        SSL_CTX_free(tls);
        return berth_error_setq(err, EINVAL,
                                "cannot start the TLS listener on %s: check the certificate and "
                                "key (%s)",
                                host_port, why ? why : "unreadable");
    }
    SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
    SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, accept_any);
    int fd = listen_tcp(host_port, err);
    if (fd < 0) {
        SSL_CTX_free(tls);
        return fd;
    }
    return berth_http_listener_start(srv, fd, tls, err);
}

void
berth_http_server_stop(struct berth_http_server *srv)
{
    atomic_store(&srv->stopping, true);
    /* stop accepting */
    for (size_t i = 0; i < srv->n_listeners; i++) {
        shutdown(srv->listeners[i].fd, SHUT_RDWR);
        if (srv->listeners[i].running)
            pthread_join(srv->listeners[i].thread, NULL);
        srv->listeners[i].running = false;
        close(srv->listeners[i].fd);
        if (srv->listeners[i].tls)
            SSL_CTX_free(srv->listeners[i].tls);
    }
    srv->n_listeners = 0;
    /* idle connections go now; requests in flight finish (streams end by themselves once
     * stopping is set), as long as dockerd's default shutdown timeout */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    pthread_mutex_lock(&srv->lock);
    for (;;) {
        for (struct berth_http_conn *c = srv->conns; c; c = c->next)
            if (c->idle)
                shutdown(c->fd, SHUT_RDWR);
        if (srv->active == 0 ||
            pthread_cond_timedwait(&srv->changed, &srv->lock, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&srv->lock);
    hijacks_end(srv);
    /* what is left (a client that keeps its connection open) is cut, and its thread waited for */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&srv->lock);
    for (struct berth_http_conn *c = srv->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    while (srv->n_conns > 0)
        if (pthread_cond_timedwait(&srv->changed, &srv->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&srv->lock);
}

void
berth_http_server_free(struct berth_http_server *srv)
{
    if (!srv)
        return;
    if (srv->n_listeners || srv->n_conns)
        berth_http_server_stop(srv);
    free(srv->spool_dir);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->changed);
    pthread_mutex_destroy(&srv->hijack_lock);
    pthread_cond_destroy(&srv->hijack_done);
    free(srv);
}
