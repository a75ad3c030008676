/* HTTP to the daemon (see http.h): our own HTTP/1.1 over UNIX sockets (one kept-alive
 * connection per client), libcurl loaded at run time for TCP (client/curl_dl.h). */
#include "client/http.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/curl_dl.h"
#include "client/format.h"
#include "client/hijack.h"
#include "core/cleanup.h"
#include "core/log.h"

/* a response body kept in memory (not streamed) */
#define BERTH_CLIENT_BODY_MAX (256 * 1024 * 1024)

struct berth_client {
    CURL *curl; /* TCP only, created at the first request */
    const struct berth_curl_api *cf;
    struct berth_conn conn; /* UNIX only: the kept-alive connection (fd -1: none) */
    char *host;             /* as given */
    char *base_url;         /* "http://api.moby.localhost" or "https://host:port" */
    char *unix_path;        /* NULL for TCP */
    bool tls, tls_verify;
    char *cacert, *cert, *key;
    char version[16]; /* "" until negotiated or forced */
    bool negotiated;
};

static int
set_opt_str(char **dst, const char *v)
{
    if (!v)
        return 0;
    *dst = strdup(v);
    return *dst ? 0 : -ENOMEM;
}

int
berth_client_new(const struct berth_client_opts *opts, struct berth_client **ret,
                 struct berth_error **err)
{
    const char *host = opts->host && opts->host[0] ? opts->host : BERTH_CLIENT_DEFAULT_HOST;
    struct berth_client *c = calloc(1, sizeof(*c));
    if (!c)
        return berth_error_set(err, ENOMEM, "client");
    c->conn.fd = -1;
    c->tls = opts->tls || opts->tls_verify;
    c->tls_verify = opts->tls_verify;
    int r = 0;
    if (!(c->host = strdup(host)) || set_opt_str(&c->cacert, opts->tls_cacert) < 0 ||
        set_opt_str(&c->cert, opts->tls_cert) < 0 || set_opt_str(&c->key, opts->tls_key) < 0) {
        r = berth_error_set(err, ENOMEM, "client");
        goto fail;
    }
    if (!strncmp(host, "unix://", 7)) {
        if (!host[7]) {
            r = berth_error_setq(err, EINVAL, "invalid bind address (%s): empty socket path", host);
            goto fail;
        }
        c->unix_path = strdup(host + 7);
        c->base_url = strdup("http://api.moby.localhost");
    } else if (!strncmp(host, "tcp://", 6) || !strncmp(host, "http://", 7) ||
               !strncmp(host, "https://", 8)) {
        const char *hp = strstr(host, "://") + 3;
        if (!strncmp(host, "https://", 8))
            c->tls = true;
        size_t hl = strcspn(hp, "/");
        if (hl == 0) {
            r = berth_error_setq(err, EINVAL, "invalid bind address (%s): missing host", host);
            goto fail;
        }
        /* docker's default ports: 2375 plain, 2376 with TLS */
        const char *colon = memrchr(hp, ':', hl);
        const char *bracket = memrchr(hp, ']', hl);
        bool has_port = colon && (!bracket || colon > bracket);
        if (asprintf(&c->base_url, "%s://%.*s%s", c->tls ? "https" : "http", (int)hl, hp,
                     has_port ? ""
                     : c->tls ? ":2376"
                              : ":2375") < 0)
            c->base_url = NULL;
    } else {
        r = berth_error_setq(err, EINVAL,
                             "unsupported host %s: use unix:///path or tcp://host:port", host);
        goto fail;
    }
    if (!c->base_url || (!strncmp(host, "unix://", 7) && !c->unix_path)) {
        r = berth_error_set(err, ENOMEM, "client");
        goto fail;
    }
    if (opts->api_version && opts->api_version[0]) {
        snprintf(c->version, sizeof(c->version), "%s", opts->api_version);
        c->negotiated = true;
    }
    *ret = c;
    return 0;
fail:
    berth_client_free(c);
    return r;
}

void
berth_client_free(struct berth_client *c)
{
    if (!c)
        return;
    if (c->curl)
        c->cf->easy_cleanup(c->curl);
    berth_conn_close(&c->conn);
    free(c->host);
    free(c->base_url);
    free(c->unix_path);
    free(c->cacert);
    free(c->cert);
    free(c->key);
    free(c);
}

void
berth_client_freep(struct berth_client **c)
{
    berth_client_free(*c);
    *c = NULL;
}

const char *
berth_client_host(const struct berth_client *c)
{
    return c->host;
}

int
berth_api_version_cmp(const char *a, const char *b)
{
    long am = 0, an = 0, bm = 0, bn = 0;
    char *end;
    am = strtol(a, &end, 10);
    if (*end == '.')
        an = strtol(end + 1, NULL, 10);
    bm = strtol(b, &end, 10);
    if (*end == '.')
        bn = strtol(end + 1, NULL, 10);
    if (am != bm)
        return am < bm ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

/* ---- queries ---- */

int
berth_query_add(struct berth_query *q, const char *key, const char *value)
{
    char **n = realloc(q->kv, (q->n + 1) * 2 * sizeof(*n));
    if (!n)
        return -ENOMEM;
    q->kv = n;
    n[q->n * 2] = strdup(key);
    n[q->n * 2 + 1] = strdup(value ? value : "");
    if (!n[q->n * 2] || !n[q->n * 2 + 1]) {
        free(n[q->n * 2]);
        free(n[q->n * 2 + 1]);
        return -ENOMEM;
    }
    q->n++;
    return 0;
}

void
berth_query_clear(struct berth_query *q)
{
    for (size_t i = 0; i < q->n * 2; i++)
        free(q->kv[i]);
    free(q->kv);
    q->kv = NULL;
    q->n = 0;
}

/* url.QueryEscape: unreserved characters stay, space is '+', the rest %XX */
static int
query_escape(struct berth_strbuf *b, const char *s)
{
    int r = 0;
    for (; *s && r == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            r = berth_strbuf_putc(b, (char)c);
        else if (c == ' ')
            r = berth_strbuf_putc(b, '+');
        else
            r = berth_strbuf_printf(b, "%%%02X", c);
    }
    return r;
}

/* Path escaping like Go's url.URL.EscapedPath for the characters image names may hold. */
static int
path_escape(struct berth_strbuf *b, const char *s)
{
    int r = 0;
    for (; *s && r == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~/:@!$&'()*+,;=", c))
            r = berth_strbuf_putc(b, (char)c);
        else
            r = berth_strbuf_printf(b, "%%%02X", c);
    }
    return r;
}

static int
cmp_pair(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    int c = strcmp(x[0], y[0]);
    /* stable: keep the order of repeated keys */
    return c ? c : (x < y ? -1 : x > y);
}

static char *
build_url(struct berth_client *c, const struct berth_request *req)
{
    struct berth_strbuf b = {0};
    int r = berth_strbuf_puts(&b, c->base_url);
    if (r == 0 && !req->unversioned && c->version[0])
        r = berth_strbuf_printf(&b, "/v%s", c->version);
    if (r == 0)
        r = path_escape(&b, req->path);
    if (r == 0 && req->query && req->query->n > 0) {
        size_t n = req->query->n;
        char **pairs = malloc(n * 2 * sizeof(*pairs));
        if (!pairs) {
            r = -ENOMEM;
        } else {
            memcpy(pairs, req->query->kv, n * 2 * sizeof(*pairs));
            qsort(pairs, n, 2 * sizeof(*pairs), cmp_pair);
            for (size_t i = 0; i < n && r == 0; i++) {
                r = berth_strbuf_putc(&b, i ? '&' : '?');
                if (r == 0)
                    r = query_escape(&b, pairs[i * 2]);
                if (r == 0)
                    r = berth_strbuf_putc(&b, '=');
                if (r == 0)
                    r = query_escape(&b, pairs[i * 2 + 1]);
            }
            free(pairs);
        }
    }
    if (r < 0) {
        berth_strbuf_free(&b);
        return NULL;
    }
    return berth_strbuf_steal(&b);
}

char *
berth_client_target(struct berth_client *c, const char *path, const struct berth_query *q)
{
    int r = berth_client_negotiate(c, NULL);
    (void)r; /* a failed ping leaves the default version, as requests do */
    struct berth_request req = {.path = path, .query = q, .upload_fd = -1};
    _cleanup_free_ char *url = build_url(c, &req);
    if (!url)
        return NULL;
    return strdup(url + strlen(c->base_url));
}

int
berth_client_dial(struct berth_client *c, int *ret_fd, struct berth_error **err)
{
    if (c->tls)
        return berth_error_setq(err, ENOTSUP,
                                "attaching over TLS is not supported by this client (%s)", c->host);
    if (c->unix_path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(c->unix_path) >= sizeof(sa.sun_path))
            return berth_error_setq(err, ENAMETOOLONG, "socket path too long: %s", c->unix_path);
        memcpy(sa.sun_path, c->unix_path, strlen(c->unix_path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return berth_error_set(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(fd);
            return berth_error_setq(err, ECONNREFUSED,
                                    "Cannot connect to the berth daemon at %s. Is the berth "
                                    "daemon running?",
                                    c->host);
        }
        *ret_fd = fd;
        return 0;
    }
    /* http://host:port */
    const char *hp = strstr(c->base_url, "://") + 3;
    const char *colon = strrchr(hp, ':');
    _cleanup_free_ char *host = strndup(hp, colon ? (size_t)(colon - hp) : strlen(hp));
    if (!host)
        return berth_error_set(err, ENOMEM, "dial");
    char *h = host;
    if (h[0] == '[') {
        h++;
        h[strcspn(h, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(h, colon ? colon + 1 : "2375", &hints, &res) != 0 || !res)
        return berth_error_setq(err, ECONNREFUSED,
                                "Cannot connect to the berth daemon at %s. Is the berth daemon "
                                "running?",
                                c->host);
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return berth_error_setq(err, ECONNREFUSED,
                                "Cannot connect to the berth daemon at %s. Is the berth daemon "
                                "running?",
                                c->host);
    *ret_fd = fd;
    return 0;
}

/* ---- transfers ---- */

struct xfer {
    struct berth_client *c;
    const struct berth_request *req;
    struct berth_response *resp;
    struct berth_strbuf body;
    struct berth_ping *ping; /* headers of interest for /_ping */
    struct berth_error **err;
    int cb_error; /* the callback's error code when it aborted */
    bool status_known, streaming;
};

void
berth_response_clear(struct berth_response *r)
{
    free(r->content_type);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static void
header_value(const char *line, size_t len, const char *name, char *dst, size_t dstlen)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    snprintf(dst, dstlen, "%.*s", (int)vl, v);
}

static size_t
on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* a new status line (after 100 Continue): forget the previous headers */
        free(x->resp->content_type);
        x->resp->content_type = NULL;
        return len;
    }
    char ct[256] = "";
    header_value(buf, len, "Content-Type", ct, sizeof(ct));
    if (ct[0]) {
        free(x->resp->content_type);
        x->resp->content_type = strdup(ct);
    }
    if (x->ping) {
        char exp[16] = "";
        header_value(buf, len, "Api-Version", x->ping->api_version, sizeof(x->ping->api_version));
        header_value(buf, len, "Ostype", x->ping->os_type, sizeof(x->ping->os_type));
        header_value(buf, len, "Builder-Version", x->ping->builder_version,
                     sizeof(x->ping->builder_version));
        header_value(buf, len, "Swarm", x->ping->swarm, sizeof(x->ping->swarm));
        header_value(buf, len, "Docker-Experimental", exp, sizeof(exp));
        if (exp[0])
            x->ping->experimental = !strcmp(exp, "true");
    }
    return len;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (!x->status_known) {
        long status = 0;
        x->c->cf->easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
        x->status_known = true;
        x->streaming = x->req->on_data && status > 0 && status < 400;
    }
    if (x->streaming) {
        int r = x->req->on_data(x->req->ud, buf, len, x->err);
        if (r < 0) {
            x->cb_error = r;
            return 0; /* aborts the transfer */
        }
        return len;
    }
    return berth_strbuf_append(&x->body, buf, len) < 0 ? 0 : len;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    for (;;) {
        ssize_t r = read(x->req->upload_fd, buf, size * n);
        if (r >= 0)
            return (size_t)r;
        if (errno == EINTR)
            continue;
        x->cb_error = berth_error_set(x->err, errno, "read the request body");
        return CURL_READFUNC_ABORT;
    }
}

static const char *
status_text(long status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static int
status_errno(long status)
{
    switch (status) {
    case 400:
        return EINVAL;
    case 401:
        return EACCES;
    case 403:
        return EPERM;
    case 404:
        return ENOENT;
    case 409:
        return EEXIST;
    case 501:
        return ENOSYS;
    case 503:
        return EAGAIN;
    default:
        return EIO;
    }
}

/* The Go client's checkResponseErr */
static int
reply_error(struct berth_client *c, const struct berth_request *req, struct berth_response *resp,
            struct berth_error **err)
{
    int code = status_errno(resp->status);
    const char *body = resp->body ? resp->body : "";
    size_t len = resp->len;
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    if (len == 0) {
        _cleanup_free_ char *url = build_url(c, req);
        return berth_error_setq(
            err, code,
            "Error response from daemon: request returned %s for API route and "
            "version %s, check if the server supports the requested API version",
            status_text(resp->status), url ? url : req->path);
    }
    if (resp->content_type && !strcmp(resp->content_type, "application/json")) {
        json_t *v = json_loadb(body, len, 0, NULL);
        const char *msg = json_string_value(json_object_get(v, "message"));
        if (v && !msg) {
            json_decref(v);
            return berth_error_setq(
                err, code, "Error response from daemon: Error reading JSON: %.*s", (int)len, body);
        }
        if (msg) {
            int r = berth_error_setq(err, code, "Error response from daemon: %s", msg);
            json_decref(v);
            return r;
        }
        return berth_error_setq(err, code, "Error response from daemon: Error reading JSON: %.*s",
                                (int)len, body);
    }
    return berth_error_setq(err, code, "Error response from daemon: %.*s", (int)len, body);
}

static int
transport_error(struct berth_client *c, CURLcode cc, const char *errbuf, struct berth_error **err)
{
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
        return berth_error_setq(err, ECONNREFUSED,
                                "Cannot connect to the berth daemon at %s. Is the berth daemon "
                                "running?",
                                c->host);
    return berth_error_setq(err, EIO, "error during connect: %s",
                            errbuf && errbuf[0] ? errbuf : c->cf->easy_strerror(cc));
}

static int
perform_curl(struct berth_client *c, const struct berth_request *req, struct berth_response *resp,
             struct berth_ping *ping, struct berth_error **err)
{
    berth_response_clear(resp);
    _cleanup_free_ char *url = build_url(c, req);
    if (!url)
        return berth_error_set(err, ENOMEM, "request");
    if (!c->curl) {
        int r = berth_curl_load(&c->cf, err);
        if (r < 0)
            return r;
        if (!(c->curl = c->cf->easy_init()))
            return berth_error_setq(err, EIO, "initialise libcurl");
    }
    const struct berth_curl_api *cf = c->cf;
    CURL *h = c->curl;
    cf->easy_reset(h); /* keeps the connection cache */
    char errbuf[CURL_ERROR_SIZE] = "";
    struct xfer x = {.c = c, .req = req, .resp = resp, .ping = ping, .err = err};
    struct curl_slist *headers = NULL;
    bool ok = true;
#define SETOPT(o, v) ok = ok && cf->easy_setopt(h, o, v) == CURLE_OK
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_USERAGENT, "Berth-Client/" BERTH_CLIENT_VERSION " (linux)");
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &x);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &x);
    if (c->unix_path)
        SETOPT(CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
    if (c->tls) {
        SETOPT(CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
        SETOPT(CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
        if (c->cacert)
            SETOPT(CURLOPT_CAINFO, c->cacert);
        if (c->cert)
            SETOPT(CURLOPT_SSLCERT, c->cert);
        if (c->key)
            SETOPT(CURLOPT_SSLKEY, c->key);
    }
    const char *method = req->method ? req->method : "GET";
    bool has_body = req->upload_fd >= 0 || req->body;
    if (!strcmp(method, "HEAD")) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "GET")) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else {
        SETOPT(CURLOPT_POST, 1L);
        if (strcmp(method, "POST"))
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
        if (req->upload_fd >= 0) {
            SETOPT(CURLOPT_READFUNCTION, on_read);
            SETOPT(CURLOPT_READDATA, &x);
            headers = cf->slist_append(headers, "Transfer-Encoding: chunked");
        } else {
            SETOPT(CURLOPT_POSTFIELDS, req->body ? req->body : "");
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        }
    }
    /* no "Expect: 100-continue" round trip; the Content-Type the Go client sends */
    headers = cf->slist_append(headers, "Expect:");
    if (req->content_type) {
        char ct[256];
        snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
        headers = cf->slist_append(headers, ct);
    } else if (has_body) {
        headers = cf->slist_append(headers, "Content-Type: text/plain");
    } else {
        headers = cf->slist_append(headers, "Content-Type:");
    }
    SETOPT(CURLOPT_HTTPHEADER, headers);
#undef SETOPT
    if (!ok || !headers) {
        cf->slist_free_all(headers);
        return berth_error_setq(err, EIO, "set up the request for %s", url);
    }
    berth_debug("%s %s", method, url);
    CURLcode cc = cf->easy_perform(h);
    cf->slist_free_all(headers);
    cf->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (x.cb_error < 0) {
        berth_strbuf_free(&x.body);
        return x.cb_error;
    }
    resp->len = x.body.len;
    resp->body = berth_strbuf_steal(&x.body);
    if (cc != CURLE_OK) {
        resp->status = resp->status > 0 ? resp->status : 0;
        return transport_error(c, cc, errbuf, err);
    }
    return 0;
}

/* ---- our own HTTP/1.1 over the UNIX socket ---- */

static void
unix_header(void *ud, const char *name, const char *value)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);
    if (n > 0 && (size_t)n < sizeof(line))
        on_header(line, 1, (size_t)n, ud);
}

/* The request head as libcurl sent it; the target is the URL without the base. */
static int
unix_head(struct berth_strbuf *b, const struct berth_request *req, const char *method,
          const char *target, long long body_len, bool chunked)
{
    berth_strbuf_printf(b,
                        "%s %s HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: "
                        "Berth-Client/" BERTH_CLIENT_VERSION " (linux)\r\nAccept: */*\r\n",
                        method, target);
    bool has_body = req->upload_fd >= 0 || req->body;
    if (req->content_type)
        berth_strbuf_printf(b, "Content-Type: %s\r\n", req->content_type);
    else if (has_body)
        berth_strbuf_puts(b, "Content-Type: text/plain\r\n");
    if (chunked)
        berth_strbuf_puts(b, "Transfer-Encoding: chunked\r\n");
    else if (body_len >= 0)
        berth_strbuf_printf(b, "Content-Length: %lld\r\n", body_len);
    return berth_strbuf_puts(b, "\r\n");
}

/* Whether the kept-alive connection is still usable: an idle connection the server closed
 * (or wrote to) polls readable. */
static bool
unix_conn_alive(struct berth_conn *conn)
{
    if (conn->fd < 0)
        return false;
    struct pollfd p = {.fd = conn->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 0 && conn->off == conn->len;
}

static int
unix_transport_error(struct berth_error **err)
{
    /* like libcurl's failures: EIO, so version negotiation stops at them */
    if (err && *err)
        (*err)->code = EIO;
    return -EIO;
}

static int
perform_unix(struct berth_client *c, const struct berth_request *req, struct berth_response *resp,
             struct berth_ping *ping, struct berth_error **err)
{
    berth_response_clear(resp);
    _cleanup_free_ char *url = build_url(c, req);
    if (!url)
        return berth_error_set(err, ENOMEM, "request");
    const char *target = url + strlen(c->base_url);
    const char *method = req->method ? req->method : "GET";
    bool head = !strcmp(method, "HEAD"), get = !strcmp(method, "GET");
    long long body_len = -1;
    bool chunked = false;
    if (!head && !get) {
        if (req->upload_fd >= 0) {
            /* a regular file's size is known: Content-Length, else chunked */
            struct stat st;
            off_t pos = lseek(req->upload_fd, 0, SEEK_CUR);
            if (fstat(req->upload_fd, &st) == 0 && S_ISREG(st.st_mode) && pos >= 0 &&
                pos <= st.st_size)
                body_len = st.st_size - pos;
            else
                chunked = true;
        } else {
            body_len = req->body ? (long long)req->body_len : 0;
        }
    }
    _cleanup_strbuf_ struct berth_strbuf head_buf = {0};
    if (unix_head(&head_buf, req, method, target, body_len, chunked) < 0 || !head_buf.s)
        return berth_error_set(err, ENOMEM, "request");
    berth_debug("%s %s", method, url);
    struct xfer x = {.c = c, .req = req, .resp = resp, .ping = ping, .err = err};
    struct berth_conn *conn = &c->conn;
    int r;
    for (int attempt = 0;; attempt++) {
        bool reused = unix_conn_alive(conn);
        if (!reused) {
            berth_conn_close(conn);
            if ((r = berth_client_dial(c, &conn->fd, err)) < 0)
                return r;
        }
        r = berth_conn_send_all(conn->fd, head_buf.s, head_buf.len);
        if (r == 0 && req->body && body_len > 0)
            r = berth_conn_send_all(conn->fd, req->body, (size_t)body_len);
        /* the server closed the kept-alive connection just now: once more on a new one
         * (nothing of an fd's body was read yet) */
        if (r < 0 && reused && attempt == 0) {
            berth_conn_close(conn);
            continue;
        }
        if (r < 0) {
            berth_conn_close(conn);
            berth_error_set(err, -r, "error during connect: send the request");
            return unix_transport_error(err);
        }
        break;
    }
    struct berth_error *send_err = NULL;
    if (req->upload_fd >= 0 && !head && !get) {
        r = berth_conn_send_fd(conn->fd, req->upload_fd, chunked ? -1 : body_len, &send_err);
        if (r < 0 && send_err && send_err->code != EPIPE && send_err->code != ECONNRESET) {
            /* reading the body failed: the request cannot be finished */
            berth_conn_close(conn);
            if (err && !*err)
                *err = send_err;
            else
                berth_error_free(send_err);
            return r;
        }
        /* the server stopped reading: its reply (an error) tells why */
    }
    conn->on_header = unix_header;
    conn->header_ud = &x;
    r = berth_conn_read_head(conn, send_err ? NULL : err);
    conn->on_header = NULL;
    if (r < 0) {
        berth_conn_close(conn);
        if (send_err) {
            if (err && !*err)
                *err = send_err;
            else
                berth_error_free(send_err);
            send_err = NULL;
        }
        return unix_transport_error(err);
    }
    berth_error_free(send_err);
    resp->status = conn->status;
    if (head) {
        conn->content_length = 0; /* a HEAD reply has no body whatever its headers say */
        conn->chunked = false;
        conn->eof = true;
    }
    bool streaming = req->on_data && resp->status > 0 && resp->status < 400;
    if (!streaming) {
        r = berth_conn_read_body_max(conn, BERTH_CLIENT_BODY_MAX, &resp->body, &resp->len, err);
    } else {
        _cleanup_free_ char *buf = malloc(65536);
        if (!buf)
            r = berth_error_set(err, ENOMEM, "read the daemon's response");
        while (buf) {
            ssize_t n = berth_conn_body_read(conn, buf, 65536, err);
            if (n <= 0) {
                r = (int)n;
                break;
            }
            r = req->on_data(req->ud, buf, (size_t)n, err);
            if (r < 0) {
                berth_conn_close(conn); /* the rest of the body is still coming */
                return r;
            }
        }
        if (r == 0 && !(resp->body = strdup("")))
            r = berth_error_set(err, ENOMEM, "read the daemon's response");
    }
    if (r < 0) {
        berth_conn_close(conn);
        return req->on_data && streaming ? r : unix_transport_error(err);
    }
    if (!conn->keep_alive || !conn->eof)
        berth_conn_close(conn);
    return 0;
}

static int
perform(struct berth_client *c, const struct berth_request *req, struct berth_response *resp,
        struct berth_ping *ping, struct berth_error **err)
{
    if (c->unix_path)
        return perform_unix(c, req, resp, ping, err);
    return perform_curl(c, req, resp, ping, err);
}

int
berth_client_ping(struct berth_client *c, struct berth_ping *ret, struct berth_error **err)
{
    struct berth_ping p = {0};
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {
        .method = "HEAD", .path = "/_ping", .unversioned = true, .upload_fd = -1};
    int r = perform(c, &req, &resp, &p, err);
    if (r < 0)
        return r;
    if (resp.status != 200 && resp.status != 500) {
        memset(&p, 0, sizeof(p));
        req.method = "GET";
        r = perform(c, &req, &resp, &p, err);
        if (r < 0)
            return r;
        if (resp.status >= 400 && resp.status != 500)
            return reply_error(c, &req, &resp, err);
    }
    *ret = p;
    return 0;
}

int
berth_client_negotiate(struct berth_client *c, struct berth_error **err)
{
    if (c->negotiated)
        return 0;
    struct berth_ping p;
    struct berth_error *perr = NULL;
    int r = berth_client_ping(c, &p, &perr);
    if (r < 0 && (!perr || perr->code == ECONNREFUSED || perr->code == EIO)) {
        if (err && !*err)
            *err = perr;
        else
            berth_error_free(perr);
        return r;
    }
    berth_error_free(perr);
    const char *server =
        r == 0 ? (p.api_version[0] ? p.api_version : "1.24") : BERTH_CLIENT_API_VERSION;
    if (berth_api_version_cmp(server, BERTH_CLIENT_API_VERSION) > 0)
        server = BERTH_CLIENT_API_VERSION;
    snprintf(c->version, sizeof(c->version), "%s", server);
    c->negotiated = true;
    berth_debug("API version %s", c->version);
    return 0;
}

const char *
berth_client_api_version(struct berth_client *c)
{
    struct berth_error *err = NULL;
    if (berth_client_negotiate(c, &err) < 0) {
        berth_error_free(err);
        return BERTH_CLIENT_API_VERSION;
    }
    return c->version;
}

int
berth_client_request(struct berth_client *c, const struct berth_request *req,
                     struct berth_response *resp, struct berth_error **err)
{
    if (!req->unversioned) {
        int r = berth_client_negotiate(c, err);
        if (r < 0)
            return r;
    }
    int r = perform(c, req, resp, NULL, err);
    if (r < 0)
        return r;
    if (resp->status >= 400)
        return reply_error(c, req, resp, err);
    return 0;
}

int
berth_client_get_json(struct berth_client *c, const char *path, const struct berth_query *q,
                      json_t **ret, char **ret_raw, struct berth_error **err)
{
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "GET", .path = path, .query = q, .upload_fd = -1};
    int r = berth_client_request(c, &req, &resp, err);
    if (r < 0)
        return r;
    json_error_t jerr;
    json_t *v = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &jerr);
    if (!v)
        return berth_error_setq(err, EPROTO, "invalid JSON from the daemon (%s): %s", path,
                                jerr.text);
    if (ret_raw)
        *ret_raw = TAKE_PTR(resp.body);
    *ret = v;
    return 0;
}

int
berth_client_send_json(struct berth_client *c, const char *method, const char *path,
                       const struct berth_query *q, json_t *body, json_t **ret,
                       struct berth_error **err)
{
    _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        return berth_error_set(err, ENOMEM, "encode request");
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = method,
                                .path = path,
                                .query = q,
                                .upload_fd = -1,
                                .body = text,
                                .body_len = text ? strlen(text) : 0,
                                .content_type = text ? "application/json" : NULL};
    int r = berth_client_request(c, &req, &resp, err);
    if (r < 0)
        return r;
    if (ret) {
        *ret = NULL;
        if (resp.len > 0) {
            json_error_t jerr;
            *ret = json_loadb(resp.body, resp.len, JSON_DECODE_ANY, &jerr);
            if (!*ret)
                return berth_error_setq(err, EPROTO, "invalid JSON from the daemon (%s): %s", path,
                                        jerr.text);
        }
    }
    return 0;
}

/* ---- JSON streams ---- */

int
berth_json_splitter_feed(struct berth_json_splitter *s, const char *data, size_t len,
                         struct berth_error **err)
{
    if (s->len + len + 1 > s->cap) {
        size_t ncap = s->cap ? s->cap : 4096;
        while (ncap < s->len + len + 1)
            ncap *= 2;
        char *n = realloc(s->buf, ncap);
        if (!n)
            return berth_error_set(err, ENOMEM, "read the stream");
        s->buf = n;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    size_t start = 0;
    for (size_t i = s->scanned; i < s->len; i++) {
        char ch = s->buf[i];
        if (s->depth == 0) {
            if (isspace((unsigned char)ch)) {
                start = i + 1;
                continue;
            }
            if (ch != '{' && ch != '[')
                return berth_error_setq(
                    err, EPROTO, "invalid character '%c' looking for beginning of value", ch);
            start = i;
            s->depth = 1;
            continue;
        }
        if (s->in_str) {
            if (s->esc)
                s->esc = false;
            else if (ch == '\\')
                s->esc = true;
            else if (ch == '"')
                s->in_str = false;
            continue;
        }
        if (ch == '"')
            s->in_str = true;
        else if (ch == '{' || ch == '[')
            s->depth++;
        else if ((ch == '}' || ch == ']') && --s->depth == 0) {
            json_error_t jerr;
            json_t *v = json_loadb(s->buf + start, i + 1 - start, 0, &jerr);
            if (!v)
                return berth_error_setq(err, EPROTO, "invalid JSON in the stream: %s", jerr.text);
            int r = s->on_value ? s->on_value(s->ud, v, err) : 0;
            json_decref(v);
            if (r < 0)
                return r;
            start = i + 1;
        }
    }
    /* keep the unfinished value */
    if (s->depth == 0)
        start = s->len;
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    s->scanned = s->len;
    return 0;
}

int
berth_json_splitter_finish(struct berth_json_splitter *s, struct berth_error **err)
{
    if (s->depth > 0)
        return berth_error_setq(err, EPROTO, "unexpected EOF");
    return 0;
}

void
berth_json_splitter_clear(struct berth_json_splitter *s)
{
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = s->scanned = 0;
    s->depth = 0;
    s->in_str = s->esc = false;
}

char *
berth_filters_json(json_t *filters)
{
    if (!filters || json_object_size(filters) == 0)
        return NULL;
    return json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
}
