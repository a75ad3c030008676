/* The connections: one listener thread per listening socket, one thread per connection that
 * reads requests (http_parser, keep-alive and pipelining), runs their handler and writes the
 * reply (fixed, chunked stream, or a hijack), over TLS (OpenSSL) on TCP listeners.
 *
 * Written on http_parser rather than on libmicrohttpd: Debian's libmicrohttpd links GnuTLS, whose
 * libraries (p11-kit, nettle, gmp, unistring, ...) kept 2.5 MB of an idle berthd's 7.2 MB
 * resident; the parser is a few KiB, and TLS comes from the OpenSSL berthd already carries. */
#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "http/internal.h"

#define STREAM_CHUNK (256u * 1024)     /* large streams (save, export) in fewer writes */
#define STREAM_IDLE_NS (20 * 1000000L) /* a producer with nothing yet is asked again after this */

/* ---- raw I/O ---- */

static ssize_t
conn_read(struct berth_http_conn *c, void *buf, size_t len)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)(len > 1u << 30 ? 1u << 30 : len));
        return n > 0 ? n : (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
    }
    ssize_t n;
    do
        n = read(c->fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

bool
berth_http_conn_write(struct berth_http_conn *c, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            int k = SSL_write(c->ssl, p, (int)(len > 1u << 30 ? 1u << 30 : len));
            n = k > 0 ? k : -1;
        } else {
            do
                n = send(c->fd, p, len, MSG_NOSIGNAL);
            while (n < 0 && errno == EINTR);
        }
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* ---- parsing ---- */

static bool
append(char **s, size_t *len, const char *at, size_t n, struct berth_http_conn *c)
{
    c->head_size += n;
    if (c->head_size > BERTH_HTTP_MAX_HEAD) {
        c->bad_head = true;
        return false;
    }
    char *ns = realloc(*s, *len + n + 1);
    if (!ns)
        return false;
    memcpy(ns + *len, at, n);
    *len += n;
    ns[*len] = '\0';
    *s = ns;
    return true;
}

static bool
finish_header(struct berth_http_conn *c)
{
    if (!c->hname)
        return true;
    if (c->n_headers == BERTH_HTTP_MAX_HEADERS) {
        c->bad_head = true;
        return false;
    }
    if (!(c->n_headers & (c->n_headers - 1))) {
        struct query_arg *nv =
            realloc(c->headers, (c->n_headers ? c->n_headers * 2 : 8) * sizeof(*nv));
        if (!nv)
            return false;
        c->headers = nv;
    }
    c->headers[c->n_headers++] = (struct query_arg){c->hname, c->hvalue ? c->hvalue : strdup("")};
    c->hname = c->hvalue = NULL;
    c->hname_len = c->hvalue_len = 0;
    return c->headers[c->n_headers - 1].value != NULL;
}

static int
on_url(http_parser *p, const char *at, size_t n)
{
    struct berth_http_conn *c = p->data;
    return append(&c->url, &c->url_len, at, n, c) ? 0 : -1;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
    struct berth_http_conn *c = p->data;
    if (c->hvalue && !finish_header(c))
        return -1;
    return append(&c->hname, &c->hname_len, at, n, c) ? 0 : -1;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
    struct berth_http_conn *c = p->data;
    if (!c->hvalue && !(c->hvalue = strdup("")))
        return -1;
    return append(&c->hvalue, &c->hvalue_len, at, n, c) ? 0 : -1;
}

static int
on_headers_complete(http_parser *p)
{
    struct berth_http_conn *c = p->data;
    if (!finish_header(c))
        return -1;
    snprintf(c->method, sizeof(c->method), "%s", http_method_str((enum http_method)p->method));
    berth_http_request_begin(c);
    /* curl waits for this before a large body (Go's client never asks) */
    const char *expect = berth_http_header(&c->req, "Expect");
    if (expect && !strcasecmp(expect, "100-continue") && p->http_minor >= 1)
        (void)berth_http_conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int
on_body(http_parser *p, const char *at, size_t n)
{
    berth_http_take_body(p->data, at, n);
    return 0;
}

static int
on_message_complete(http_parser *p)
{
    struct berth_http_conn *c = p->data;
    c->message_done = true;
    http_parser_pause(p, 1); /* the next request (pipelined) waits for this one's reply */
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Reads until a whole request is in. 1: it is; 0: the peer closed before one began (or the
 * server stops); -1: the connection cannot go on (a reply may have been sent). */
static int
read_request(struct berth_http_conn *c)
{
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    bool started = false;
    for (;;) {
        if (c->in_len == 0) {
            /* idle only while waiting for a request's first bytes: stop may close it then */
            if (!started) {
                pthread_mutex_lock(&c->srv->lock);
                c->idle = true;
                bool stop = atomic_load(&c->srv->stopping);
                pthread_mutex_unlock(&c->srv->lock);
                if (stop)
                    return 0;
            }
            /* a spooled body is read in large pieces (its writes go out one writev per read);
             * otherwise the small buffer in the connection */
            berth_http_spool_flush(c);
            bool spooling = c->route && c->spool_fd >= 0 && !c->early_status;
            if (!spooling && c->big) {
                free(c->big);
                c->big = NULL;
            } else if (spooling && !c->big) {
                c->big = malloc(BERTH_HTTP_SPOOL_READ);
            }
            c->rbuf = c->big ? c->big : c->in;
            ssize_t n = conn_read(c, c->rbuf, c->big ? BERTH_HTTP_SPOOL_READ : sizeof(c->in));
            if (!started) {
                pthread_mutex_lock(&c->srv->lock);
                c->idle = false;
                pthread_mutex_unlock(&c->srv->lock);
            }
            if (n <= 0) {
                if (!started)
                    return 0;
                /* the peer went away mid-request: what the parser makes of the end */
                http_parser_execute(&c->parser, &parser_settings, NULL, 0);
                return c->message_done ? 1 : -1;
            }
            c->in_off = 0;
            c->in_len = (size_t)n;
        }
        started = true;
        size_t used =
            http_parser_execute(&c->parser, &parser_settings, c->rbuf + c->in_off, c->in_len);
        c->in_off += used;
        c->in_len -= used;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            return 1;
        }
        if (c->message_done) /* an upgrade: what follows the head belongs to the new protocol */
            return 1;
        if (e != HPE_OK) {
            bool big = c->bad_head || e == HPE_HEADER_OVERFLOW;
            const char *msg = big ? "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n"
                                  : "HTTP/1.1 400 Bad Request\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n";
            berth_debug("http: %s", big ? "request head too large" : http_errno_description(e));
            (void)berth_http_conn_write(c, msg, strlen(msg));
            return -1;
        }
    }
}

/* ---- responses ---- */

static void
http_date(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The status line and headers; length < 0: chunked (or close-delimited for HTTP/1.0). */
static bool
write_head(struct berth_http_conn *c, const struct berth_http_response *r, int64_t length,
           bool keep_alive)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return false;
    char date[64];
    http_date(date, sizeof(date));
    fprintf(f, "HTTP/1.1 %u %s\r\n", r->status, berth_http_reason(r->status));
    fprintf(f,
            "Api-Version: %s\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
            "Server: Berth/%s (linux)\r\nDate: %s\r\n",
            BERTH_API_VERSION, BERTH_ENGINE_VERSION, date);
    if (r->content_type)
        fprintf(f, "Content-Type: %s\r\n", r->content_type);
    for (size_t i = 0; r->headers && r->headers[i] && r->headers[i + 1]; i += 2)
        fprintf(f, "%s: %s\r\n", r->headers[i], r->headers[i + 1]);
    if (r->kind == RESP_HIJACK)
        fputs("Connection: Upgrade\r\nUpgrade: tcp\r\n", f);
    else if (length >= 0 && r->status != 204 && r->status != 304)
        fprintf(f, "Content-Length: %lld\r\n", (long long)length);
    else if (length < 0 && c->parser.http_minor >= 1)
        fputs("Transfer-Encoding: chunked\r\n", f);
    if (!keep_alive && r->kind != RESP_HIJACK)
        fputs("Connection: close\r\n", f);
    fputs("\r\n", f);
    if (fclose(f) != 0) {
        free(text);
        return false;
    }
    bool ok = berth_http_conn_write(c, text, len);
    free(text);
    return ok;
}

/* A stream: produce() until its end (chunked on HTTP/1.1). False if the peer went away. */
static bool
write_stream(struct berth_http_conn *c, struct berth_http_response *r, bool head_only)
{
    bool chunked = c->parser.http_minor >= 1;
    if (head_only)
        return true;
    _cleanup_free_ char *buf = malloc(STREAM_CHUNK + 32);
    if (!buf)
        return false;
    for (;;) {
        ssize_t n = r->produce(r->cls, buf + 16, STREAM_CHUNK);
        if (n == -2)
            return false; /* failed midway: no end of stream */
        if (n < 0)
            break;
        if (n == 0) {
            if (berth_http_peer_closed(&c->req))
                return false;
            struct timespec ts = {0, STREAM_IDLE_NS};
            nanosleep(&ts, NULL);
            continue;
        }
        char *out = buf + 16;
        size_t len = (size_t)n;
        if (chunked) {
            char size[16];
            int k = snprintf(size, sizeof(size), "%zx\r\n", len);
            out -= k;
            memcpy(out, size, (size_t)k);
            len += (size_t)k;
            memcpy(out + len, "\r\n", 2);
            len += 2;
        }
        if (!berth_http_conn_write(c, out, len))
            return false;
    }
    return !chunked || berth_http_conn_write(c, "0\r\n\r\n", 5);
}

struct hijack_args {
    struct berth_http_conn *c;
    int fd;
};

static void *
hijack_run_thread(void *arg)
{
    struct hijack_args *a = arg;
    struct berth_http_response *r = &a->c->resp;
    r->run(r->cls, a->fd, a->c->rbuf + a->c->in_off, a->c->in_len);
    shutdown(a->fd, SHUT_RDWR); /* the pump sees the end */
    return NULL;
}

/* TLS: run() gets one end of a socketpair; this thread moves the bytes between it and TLS. */
static void
pump_tls(struct berth_http_conn *c, int fd)
{
    char buf[16384];
    bool in_open = true, out_open = true;
    while (out_open) { /* the session ends with run(): its end of the pair closes */
        struct pollfd p[2] = {{.fd = c->fd, .events = in_open ? POLLIN : 0},
                              {.fd = fd, .events = out_open ? POLLIN : 0}};
        bool pending = c->ssl && SSL_pending(c->ssl) > 0;
        if (!pending && poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (in_open && (pending || (p[0].revents & (POLLIN | POLLHUP | POLLERR)))) {
            ssize_t n = conn_read(c, buf, sizeof(buf));
            if (n <= 0 || berth_write_all(fd, buf, (size_t)n) < 0) {
                in_open = false;
                shutdown(fd, SHUT_WR);
            }
        }
        if (out_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0 || !berth_http_conn_write(c, buf, (size_t)n)) {
                out_open = false;
                if (c->ssl)
                    SSL_shutdown(c->ssl);
                shutdown(c->fd, SHUT_WR);
            }
        }
    }
}

/* The hijack: run() on the raw socket (on this thread), or over TLS on a socketpair. */
static void
run_hijack(struct berth_http_conn *c)
{
    struct berth_http_response *r = &c->resp;
    const char *extra = c->rbuf + c->in_off;
    size_t extra_len = c->in_len;
    if (!c->ssl) {
        if (!berth_http_hijack_track(c->srv, c->fd))
            return;
        r->run(r->cls, c->fd, extra, extra_len);
        berth_http_hijack_untrack(c->srv, c->fd);
        return;
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return;
    if (!berth_http_hijack_track(c->srv, sp[0])) {
        close(sp[0]), close(sp[1]);
        return;
    }
    struct hijack_args a = {c, sp[0]};
    pthread_t t;
    if (pthread_create(&t, NULL, hijack_run_thread, &a) != 0) {
        berth_http_hijack_untrack(c->srv, sp[0]);
        close(sp[0]), close(sp[1]);
        return;
    }
    pump_tls(c, sp[1]);
    close(sp[1]);
    pthread_join(t, NULL);
    berth_http_hijack_untrack(c->srv, sp[0]);
    close(sp[0]);
}

/* Writes c->resp; false when the connection must close after it. */
static bool
write_response(struct berth_http_conn *c, bool keep_alive)
{
    struct berth_http_response *r = &c->resp;
    bool head_only = !strcmp(c->method, "HEAD");
    switch (r->kind) {
    case RESP_FIXED:
        if (!write_head(c, r, (int64_t)r->len, keep_alive))
            return false;
        if (!head_only && r->status != 204 && r->status != 304 &&
            !berth_http_conn_write(c, r->body, r->len))
            return false;
        return keep_alive;
    case RESP_STREAM: {
        bool chunked = c->parser.http_minor >= 1;
        if (!write_head(c, r, -1, keep_alive && chunked))
            return false;
        return write_stream(c, r, head_only) && keep_alive && chunked;
    }
    case RESP_HIJACK:
        if (write_head(c, r, -1, false))
            run_hijack(c);
        return false;
    case RESP_NONE:
    default:
        return false;
    }
}

/* ---- the connection's thread ---- */

static void
conn_free(struct berth_http_conn *c)
{
    berth_http_request_end(c);
    free(c->big);
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static void
serve(struct berth_http_conn *c)
{
    for (;;) {
        int r = read_request(c);
        if (r <= 0)
            return;
        bool keep_alive = http_should_keep_alive(&c->parser) && !c->parser.upgrade;
        berth_http_request_run(c);
        bool go_on = write_response(c, keep_alive && !atomic_load(&c->srv->stopping));
        berth_http_request_end(c);
        if (!go_on)
            return;
    }
}

static bool
tls_accept(struct berth_http_conn *c, SSL_CTX *tls)
{
    c->ssl = SSL_new(tls);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
        return false;
    if (SSL_accept(c->ssl) != 1) {
        berth_debug("http: TLS handshake failed: %s",
                    ERR_reason_error_string(ERR_peek_last_error())
                        ? ERR_reason_error_string(ERR_peek_last_error())
                        : "connection closed");
        ERR_clear_error();
        return false;
    }
    return true;
}

/* Takes c out of the server's list (stop no longer sees it). */
static void
conn_unlist(struct berth_http_conn *c)
{
    struct berth_http_server *srv = c->srv;
    pthread_mutex_lock(&srv->lock);
    for (struct berth_http_conn **pp = &srv->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    srv->n_conns--;
    pthread_cond_broadcast(&srv->changed);
    pthread_mutex_unlock(&srv->lock);
}

struct conn_start {
    struct berth_http_conn *c;
    SSL_CTX *tls;
};

static void *
conn_thread(void *arg)
{
    struct conn_start *s = arg;
    struct berth_http_conn *c = s->c;
    SSL_CTX *tls = s->tls;
    free(s);
    if (!tls || tls_accept(c, tls))
        serve(c);
    conn_unlist(c);
    conn_free(c);
    return NULL;
}

static void
accept_one(struct berth_http_server *srv, struct berth_http_listener *l)
{
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
            struct timespec ts = {0, 100 * 1000000L}; /* let fds come back */
            nanosleep(&ts, NULL);
        }
        return;
    }
    struct berth_http_conn *c = calloc(1, sizeof(*c));
    struct conn_start *s = malloc(sizeof(*s));
    if (!c || !s) {
        free(c);
        free(s);
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->spool_fd = -1;
    c->rbuf = c->in;
    *s = (struct conn_start){c, l->tls};
    pthread_mutex_lock(&srv->lock);
    bool stopping = atomic_load(&srv->stopping);
    if (!stopping) {
        c->next = srv->conns;
        srv->conns = c;
        srv->n_conns++;
    }
    pthread_mutex_unlock(&srv->lock);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (stopping || pthread_create(&t, &attr, conn_thread, s) != 0) {
        if (!stopping)
            conn_unlist(c);
        free(s);
        conn_free(c);
    }
    pthread_attr_destroy(&attr);
}

static void *
listener_thread(void *arg)
{
    struct berth_http_listener *l = arg;
    struct berth_http_server *srv = l->srv;
    while (!atomic_load(&srv->stopping)) {
        struct pollfd p = {.fd = l->fd, .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno != EINTR)
            break;
        if (atomic_load(&srv->stopping) || (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
            break;
        if (p.revents & POLLIN)
            accept_one(srv, l);
    }
    return NULL;
}

int
berth_http_listener_start(struct berth_http_server *srv, int fd, SSL_CTX *tls,
                          struct berth_error **err)
{
    if (srv->n_listeners == BERTH_HTTP_MAX_LISTENERS) {
        close(fd);
        if (tls)
            SSL_CTX_free(tls);
        return berth_error_setq(err, EMFILE, "too many listeners");
    }
    struct berth_http_listener *l = &srv->listeners[srv->n_listeners];
    *l = (struct berth_http_listener){.srv = srv, .fd = fd, .tls = tls};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int r = pthread_create(&l->thread, &attr, listener_thread, l);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        close(fd);
        if (tls)
            SSL_CTX_free(tls);
        return berth_error_set(err, r, "start the listener thread");
    }
    l->running = true;
    srv->n_listeners++;
    return 0;
}
