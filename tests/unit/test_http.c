/* The HTTP transport on a real unix socket: routing, version prefixes, bounded bodies, chunked
 * uploads and replies, HEAD, query parsing, keep-alive, error bodies, limits on the request
 * head, Expect: 100-continue, HTTP/1.0 streams, hijacks, and a stop with idle connections. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "http/server.h"
#include "testutil.h"

static char dir[] = "/tmp/berth-http-XXXXXX";
static char sock_path[100];

static void
h_echo_param(struct berth_http_request *req)
{
    berth_http_reply_json(req, 200,
                          json_pack("{s:s,s:s,s:i}", "param", req->param, "path", req->path,
                                    "minor", req->api_minor));
}

static void
h_json_body(struct berth_http_request *req)
{
    json_error_t jerr;
    json_t *j = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!j) {
        berth_http_reply_error(req, 400, "bad JSON: %s", jerr.text);
        return;
    }
    berth_http_reply_json(req, 200, json_pack("{s:i,s:o}", "len", (int)req->body_len, "got", j));
}

/* FNV-1a over a body, to compare what arrived with what was sent */
static uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void
h_spool(struct berth_http_request *req)
{
    unsigned char buf[65536];
    size_t total = 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    ssize_t n;
    while ((n = read(req->body_fd, buf, sizeof(buf))) > 0) {
        total += (size_t)n;
        h = fnv1a(h, buf, (size_t)n);
    }
    char hex[20];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
    berth_http_reply_json(req, 200, json_pack("{s:I,s:s}", "bytes", (json_int_t)total, "fnv", hex));
}

static void
h_query(struct berth_http_request *req)
{
    const char **all = berth_http_query_all(req, "names");
    json_t *names = json_array();
    for (size_t i = 0; all[i]; i++)
        json_array_append_new(names, json_string(all[i]));
    free(all);
    berth_http_reply_json(req, 200,
                          json_pack("{s:o,s:b,s:b,s:b}", "names", names, "force",
                                    berth_http_query_bool(req, "force", false), "off",
                                    berth_http_query_bool(req, "off", true), "absent",
                                    berth_http_query_bool(req, "absent", true)));
}

struct count {
    int n;
};

static ssize_t
produce_three(void *cls, char *buf, size_t max)
{
    struct count *c = cls;
    if (c->n == 3)
        return -1;
    c->n++;
    return snprintf(buf, max, "{\"n\":%d}\r\n", c->n);
}

static void
h_stream(struct berth_http_request *req)
{
    struct count *c = calloc(1, sizeof(*c));
    berth_http_reply_stream(req, 200, "application/json", produce_three, c, free);
}

/* two messages, then a failure midway */
static ssize_t
produce_then_fail(void *cls, char *buf, size_t max)
{
    struct count *c = cls;
    if (c->n == 2)
        return -2;
    c->n++;
    return snprintf(buf, max, "{\"n\":%d}\r\n", c->n);
}

static void
h_stream_fail(struct berth_http_request *req)
{
    struct count *c = calloc(1, sizeof(*c));
    berth_http_reply_stream(req, 200, "application/json", produce_then_fail, c, free);
}

static void
h_errno(struct berth_http_request *req)
{
    struct berth_error *e = NULL;
    berth_error_setq(&e, ENOENT, "No such thing: %s", req->param);
    berth_http_reply_berror(req, e);
    berth_error_free(e);
}

/* A hijack that echoes what it gets (the bytes that came with the head first), upper-cased. */
static void
echo_run(void *cls, int fd, const char *extra, size_t extra_len)
{
    (void)cls;
    char buf[256];
    for (size_t i = 0; i < extra_len && i < sizeof(buf); i++)
        buf[i] = (char)(extra[i] >= 'a' && extra[i] <= 'z' ? extra[i] - 32 : extra[i]);
    if (extra_len)
        (void)berth_write_all(fd, buf, extra_len < sizeof(buf) ? extra_len : sizeof(buf));
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
        (void)berth_write_all(fd, buf, (size_t)n);
    }
}

static void
h_hijack(struct berth_http_request *req)
{
    berth_http_reply_hijack(req, "application/vnd.docker.raw-stream", echo_run, NULL, NULL);
}

static void
h_query_one(struct berth_http_request *req)
{
    const char *v = berth_http_query(req, "v"), *flag = berth_http_query(req, "flag");
    berth_http_reply_json(req, 200, json_pack("{s:s?,s:s?}", "v", v, "flag", flag));
}

static const struct berth_route routes[] = {
    {"POST", "/hijack", NULL, false, BERTH_BODY_NONE, h_hijack},
    {"GET", "/query1", NULL, false, BERTH_BODY_NONE, h_query_one},
    {"GET", "/things/", "/json", true, BERTH_BODY_NONE, h_echo_param},
    {"DELETE", "/things/", NULL, true, BERTH_BODY_NONE, h_errno},
    {"POST", "/json", NULL, false, BERTH_BODY_JSON, h_json_body},
    {"POST", "/spool", NULL, false, BERTH_BODY_SPOOL, h_spool},
    {"GET", "/query", NULL, false, BERTH_BODY_NONE, h_query},
    {"GET", "/stream", NULL, false, BERTH_BODY_NONE, h_stream},
    {"GET", "/stream-fail", NULL, false, BERTH_BODY_NONE, h_stream_fail},
};

/* Sends raw bytes on a fresh connection and reads the whole reply (the request asks the server
 * to close, or the reply ends when the peer closes). */
static char *
roundtrip(const char *req, size_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(sock_path) >= sizeof(a.sun_path))
        return strdup("");
    memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return strdup("");
    (void)berth_write_all(fd, req, len);
    shutdown(fd, SHUT_WR);
    size_t cap = 1 << 16, got = 0;
    char *out = malloc(cap + 1);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        if (got == cap) {
            cap *= 2;
            out = realloc(out, cap + 1);
        }
        ssize_t n = read(fd, out + got, cap - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = '\0';
    close(fd);
    return out;
}

static char *
get(const char *path)
{
    char req[2048];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n", path);
    return roundtrip(req, (size_t)n);
}

static const char *
body_of(const char *reply)
{
    const char *b = strstr(reply, "\r\n\r\n");
    return b ? b + 4 : "";
}

int
main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock_path, sizeof(sock_path), "%s/s", dir);
    struct berth_http_server *srv = NULL;
    struct berth_error *err = NULL;
    int r =
        berth_http_server_new(routes, sizeof(routes) / sizeof(routes[0]), NULL, dir, &srv, &err);
    if (r == 0)
        r = berth_http_listen_unix(srv, sock_path, 0660, NULL, &err);
    check(r == 0, "server listens on a unix socket%s%s", err ? ": " : "", err ? err->msg : "");
    if (r < 0)
        return tap_done();

    _cleanup_free_ char *a = get("/v1.40/things/localhost:5000/ns/img:tag/json");
    check(strstr(a, "HTTP/1.1 200") == a, "a versioned route answers 200");
    check(strstr(a, "\"param\":\"localhost:5000/ns/img:tag\""), "{name} keeps slashes and colons");
    check(strstr(a, "\"path\":\"/things/localhost:5000/ns/img:tag/json\""),
          "the version prefix is stripped");
    check(strstr(a, "\"minor\":40"), "the requested version is kept");
    check(strstr(a, "Api-Version: 1.44\r\n") && strstr(a, "Ostype: linux\r\n"), "common headers");
    check(strstr(a, "Content-Type: application/json\r\n"), "JSON is exactly application/json");

    _cleanup_free_ char *b = get("/things/a%2Fb/json");
    check(strstr(b, "\"param\":\"a/b\""), "the path is percent-decoded");

    _cleanup_free_ char *c = get("/nosuch");
    check(strstr(c, "HTTP/1.1 404") == c &&
              !strcmp(body_of(c), "{\"message\":\"page not found\"}\n"),
          "unknown path: 404 page not found");
    _cleanup_free_ char *d = get("/v1.45/things/x/json");
    check(strstr(d, "HTTP/1.1 400") == d && strstr(d, "too new"), "a too new version: 400");
    _cleanup_free_ char *e = get("/v1.23/things/x/json");
    check(strstr(e, "HTTP/1.1 400") == e && strstr(e, "too old"), "a too old version: 400");
    _cleanup_free_ char *f = get("/vX.Y/things/x/json");
    check(strstr(f, "HTTP/1.1 404") == f,
          "a malformed version is no version: 404, as moby's router");
    _cleanup_free_ char *f2 = get("/v1.4x/things/x/json");
    check(strstr(f2, "HTTP/1.1 400") == f2, "a version with junk after the number: 400");

    static const char del[] = "DELETE /things/abc HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *g = roundtrip(del, sizeof(del) - 1);
    check(strstr(g, "HTTP/1.1 404") == g && strstr(g, "{\"message\":\"No such thing: abc\"}"),
          "errno maps to the status, the message to the body");
    static const char wrong[] =
        "PUT /things/abc/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *h = roundtrip(wrong, sizeof(wrong) - 1);
    check(strstr(h, "HTTP/1.1 404") == h, "a known path with another method: 404 (as moby)");

    static const char json_ok[] =
        "POST /json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}";
    _cleanup_free_ char *i = roundtrip(json_ok, sizeof(json_ok) - 1);
    check(strstr(i, "\"got\":{\"a\":[1,2]}"), "a JSON body with Content-Length");
    static const char json_bad[] = "POST /json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                                   "Content-Length: 5\r\n\r\n{bad}";
    _cleanup_free_ char *jb = roundtrip(json_bad, sizeof(json_bad) - 1);
    check(strstr(jb, "HTTP/1.1 400") == jb, "bad JSON: 400 from the handler");
    static const char chunked[] =
        "POST /json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
        "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n";
    _cleanup_free_ char *k = roundtrip(chunked, sizeof(chunked) - 1);
    check(strstr(k, "\"got\":{\"a\":1}"), "a chunked request body is decoded");

    /* more than the 4 MiB bound for JSON bodies: 413, and the server goes on */
    size_t big = BERTH_HTTP_MAX_JSON_BODY + 1000;
    char *huge = malloc(big + 256);
    int hl = snprintf(
        huge, 256,
        "POST /json HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", big);
    memset(huge + hl, ' ', big);
    _cleanup_free_ char *l = roundtrip(huge, (size_t)hl + big);
    check(strstr(l, "HTTP/1.1 413") == l, "an oversized JSON body: 413");
    free(huge);

    /* a spooled body (tarballs) is not bounded by the JSON limit */
    size_t sbig = 6u << 20;
    char *s = malloc(sbig + 256);
    int sl = snprintf(
        s, 256,
        "POST /spool HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
        sbig);
    memset(s + sl, 'x', sbig);
    _cleanup_free_ char *m = roundtrip(s, (size_t)sl + sbig);
    check(strstr(m, "\"bytes\":6291456"), "a spooled body arrives whole in a temporary file");
    free(s);

    /* a chunked spooled body in pieces of every size (read in large pieces and written out one
     * writev per read), then a pipelined request behind it on the same connection */
    static const size_t pieces[] = {1, 7, 4096, 32768, 100000, 3, 65536, 511, 1 << 20};
    size_t cap = (4u << 20) + 4096, len = 0, body = 0;
    char *cr = malloc(cap);
    uint64_t want = 0xcbf29ce484222325ULL;
    len += (size_t)snprintf(cr, cap,
                            "POST /spool HTTP/1.1\r\nHost: d\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n");
    for (size_t pi = 0; body < (3u << 20); pi++) {
        size_t piece = pieces[pi % BERTH_ARRAY_SIZE(pieces)];
        len += (size_t)snprintf(cr + len, cap - len, "%zx\r\n", piece);
        for (size_t at = 0; at < piece; at++, body++)
            cr[len + at] = (char)((body * 131 + body / 7) & 0xff);
        want = fnv1a(want, (unsigned char *)cr + len, piece);
        len += piece;
        len += (size_t)snprintf(cr + len, cap - len, "\r\n");
    }
    len += (size_t)snprintf(cr + len, cap - len,
                            "0\r\n\r\nGET /things/9/json HTTP/1.1\r\nHost: d\r\n"
                            "Connection: close\r\n\r\n");
    _cleanup_free_ char *cm = roundtrip(cr, len);
    char want_body[96];
    snprintf(want_body, sizeof(want_body), "{\"bytes\":%zu,\"fnv\":\"%016llx\"}", body,
             (unsigned long long)want);
    check(cm && strstr(cm, want_body), "a chunked spooled body arrives byte for byte (%s)",
          want_body);
    check(cm && strstr(cm, "\"param\":\"9\""), "and the request pipelined behind it is served");
    free(cr);

    _cleanup_free_ char *n = get("/query?names=a&names=b%3Ac&force=True&off=0");
    check(strstr(n, "\"names\":[\"a\",\"b:c\"]"), "repeated query keys");
    check(strstr(n, "\"force\":true") && strstr(n, "\"off\":false") && strstr(n, "\"absent\":true"),
          "moby's booleans (True, 0, absent)");

    _cleanup_free_ char *o = get("/stream");
    check(strstr(o, "Transfer-Encoding: chunked\r\n"), "a stream is chunked");
    check(strstr(o, "{\"n\":1}") && strstr(o, "{\"n\":3}"), "a stream delivers every message");
    check(strstr(o, "\r\n0\r\n\r\n"), "and ends with the last chunk");
    /* kept alive, yet the connection closes: the client sees the stream cut short */
    static const char fail_req[] = "GET /stream-fail HTTP/1.1\r\nHost: d\r\n\r\n";
    _cleanup_free_ char *of = roundtrip(fail_req, sizeof(fail_req) - 1);
    check(of && strstr(of, "{\"n\":2}") && !strstr(of, "\r\n0\r\n\r\n"),
          "a stream that fails midway is cut short: no last chunk, the connection closed");

    static const char head[] =
        "HEAD /things/x/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *p = roundtrip(head, sizeof(head) - 1);
    check(strstr(p, "HTTP/1.1 200") == p && !*body_of(p), "HEAD: headers, no body");

    static const char two[] = "GET /things/1/json HTTP/1.1\r\nHost: d\r\n\r\n"
                              "GET /things/2/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *q = roundtrip(two, sizeof(two) - 1);
    check(strstr(q, "\"param\":\"1\"") && strstr(q, "\"param\":\"2\""),
          "keep-alive: two requests on one connection");

    static const char garbage[] = "\x01\x02 not http at all\r\n\r\n";
    _cleanup_free_ char *t = roundtrip(garbage, sizeof(garbage) - 1);
    _cleanup_free_ char *u = get("/things/alive/json");
    check(strstr(u, "\"param\":\"alive\""), "garbage on a connection does not hurt the server");

    _cleanup_free_ char *v1 = get("/query1?v=a+b%2Bc%20d&flag");
    check(strstr(v1, "\"v\":\"a b+c d\"") && strstr(v1, "\"flag\":\"\""),
          "query values: + is a space and %%XX decoded (as Go), a key alone is empty");

    /* a request head past the bound: 431, and the server goes on */
    size_t hsize = 100u << 10;
    char *hh = malloc(hsize + 256);
    int hn = snprintf(hh, 256, "GET /things/x/json HTTP/1.1\r\nHost: d\r\nX-Big: ");
    memset(hh + hn, 'a', hsize);
    memcpy(hh + hn + hsize, "\r\n\r\n", 5);
    _cleanup_free_ char *w = roundtrip(hh, (size_t)hn + hsize + 4);
    check(strstr(w, "HTTP/1.1 431") == w, "a 100 KiB header: 431");
    free(hh);

    static const char expect[] =
        "POST /json HTTP/1.1\r\nHost: d\r\nConnection: close\r\nExpect: 100-continue\r\n"
        "Content-Length: 7\r\n\r\n{\"a\":2}";
    _cleanup_free_ char *x = roundtrip(expect, sizeof(expect) - 1);
    check(strstr(x, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200") == x &&
              strstr(x, "\"got\":{\"a\":2}"),
          "Expect: 100-continue gets its interim answer, then the reply");

    static const char old_stream[] = "GET /stream HTTP/1.0\r\nHost: d\r\n\r\n";
    _cleanup_free_ char *y = roundtrip(old_stream, sizeof(old_stream) - 1);
    check(strstr(y, "HTTP/1.1 200") == y && !strstr(y, "chunked") &&
              !strcmp(body_of(y), "{\"n\":1}\r\n{\"n\":2}\r\n{\"n\":3}\r\n"),
          "an HTTP/1.0 client gets the stream unchunked, ended by the close");

    static const char head_stream[] =
        "HEAD /stream HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *z = roundtrip(head_stream, sizeof(head_stream) - 1);
    check(strstr(z, "HTTP/1.1 200") == z && !*body_of(z), "HEAD of a stream: no body");

    static const char up[] = "POST /hijack HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
                             "Upgrade: tcp\r\n\r\nearly bytes ";
    _cleanup_free_ char *hj = roundtrip(up, sizeof(up) - 1);
    check(strstr(hj, "HTTP/1.1 101 UPGRADED\r\n") == hj && strstr(hj, "Upgrade: tcp\r\n") &&
              !strcmp(body_of(hj), "EARLY BYTES "),
          "a hijack: 101, then the raw connection (what came with the head included)");
    static const char up_bad[] = "POST /hijack HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                                 "Upgrade: tcp\r\n\r\n";
    _cleanup_free_ char *hb = roundtrip(up_bad, sizeof(up_bad) - 1);
    check(strstr(hb, "HTTP/1.1 400") == hb, "Upgrade without Connection: Upgrade: 400");
    static const char no_up[] = "POST /hijack HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n";
    _cleanup_free_ char *hn2 = roundtrip(no_up, sizeof(no_up) - 1);
    check(strstr(hn2, "HTTP/1.1 200") == hn2 && strstr(hn2, "raw-stream"),
          "a hijack without Upgrade: a 200 stream of what run() writes");

    /* an idle keep-alive connection does not hold the stop up */
    int idle = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un ia = {.sun_family = AF_UNIX};
    memcpy(ia.sun_path, sock_path, strlen(sock_path) + 1);
    check(idle >= 0 && connect(idle, (struct sockaddr *)&ia, sizeof(ia)) == 0,
          "an idle connection is open");
    /* one request first, so that the server has it (not just the kernel's backlog) */
    static const char ka[] = "GET /things/ka/json HTTP/1.1\r\nHost: d\r\n\r\n";
    (void)berth_write_all(idle, ka, sizeof(ka) - 1);
    char kabuf[4096];
    ssize_t kan = 0;
    struct pollfd kp = {.fd = idle, .events = POLLIN};
    while (!(kan > 0 && strstr(kabuf, "\"param\":\"ka\"")) && poll(&kp, 1, 5000) > 0) {
        ssize_t got = read(idle, kabuf + kan, sizeof(kabuf) - 1 - (size_t)kan);
        if (got <= 0)
            break;
        kan += got;
        kabuf[kan] = '\0';
    }
    check(kan > 0 && strstr(kabuf, "\"param\":\"ka\""), "a keep-alive request on it");
    time_t t0 = time(NULL);
    berth_http_server_stop(srv);
    check(time(NULL) - t0 < 3, "stop closes idle connections at once");
    char one;
    check(read(idle, &one, 1) == 0, "the idle connection sees the close");
    close(idle);
    berth_http_server_free(srv);
    check(access(sock_path, F_OK) == 0 || errno == ENOENT, "server stopped");
    unlink(sock_path);
    rmdir(dir);
    berth_error_free(err);
    return tap_done();
}
