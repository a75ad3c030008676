/* The client's own HTTP/1.1 over a UNIX socket (client/http.h, client/hijack.h) against a
 * scripted server: keep-alive across the version ping and the request, HEAD replies, chunked
 * replies with trailers, streamed bodies, bodies uploaded from an fd (Content-Length for a
 * regular file, chunked framing for a pipe), docker's error rendering, and a server closing the
 * connection. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/format.h"
#include "client/hijack.h"
#include "client/http.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "testutil.h"

static char dir[] = "/tmp/berth-client-http-XXXXXX";
static char sock_path[96], log_path[160], host[160];

/* Reads one request (head, then a Content-Length or chunked body) into buf; 0 at EOF. */
static size_t
read_request(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return 0;
        n++;
        buf[n] = '\0';
        if (n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4))
            break;
    }
    const char *cl = strcasestr(buf, "Content-Length: ");
    if (cl) {
        long len = strtol(cl + 16, NULL, 10);
        while (len-- > 0 && n + 1 < cap && read(fd, buf + n, 1) == 1)
            buf[++n] = '\0';
    } else if (strcasestr(buf, "Transfer-Encoding: chunked")) {
        while (n + 1 < cap && read(fd, buf + n, 1) == 1) {
            buf[++n] = '\0';
            if (n >= 5 && !memcmp(buf + n - 5, "0\r\n\r\n", 5))
                break;
        }
    }
    return n;
}

/* Serves the replies in order, one per request, logging every request (and "ACCEPT" for
 * every new connection); a reply with "Connection: close" ends its connection. */
static void
serve(int lfd, const char *const *replies, size_t n)
{
    FILE *log = fopen(log_path, "we");
    size_t i = 0;
    while (i < n) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            _exit(1);
        fprintf(log, "ACCEPT\n");
        fflush(log);
        static char buf[1 << 20];
        while (i < n) {
            size_t len = read_request(fd, buf, sizeof(buf));
            if (len == 0)
                break;
            fprintf(log, "%s", buf);
            fflush(log);
            const char *rep = replies[i++];
            if (berth_write_all(fd, rep, strlen(rep)) < 0 || strstr(rep, "Connection: close"))
                break;
        }
        close(fd);
    }
    fclose(log);
    _exit(0);
}

static pid_t
start_server(const char *const *replies, size_t n)
{
    unlink(sock_path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        serve(lfd, replies, n);
    close(lfd);
    return pid;
}

/* The server's log once it is done. */
static char *
finish_server(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    char *s = NULL;
    size_t len;
    if (berth_read_file(log_path, 1 << 22, &s, &len, NULL) < 0)
        return strdup("");
    return s;
}

static int
count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static struct berth_client *
client(void)
{
    struct berth_client_opts o = {.host = host};
    struct berth_client *c = NULL;
    struct berth_error *err = NULL;
    if (berth_client_new(&o, &c, &err) < 0) {
        printf("# %s\n", err->msg);
        berth_error_free(err);
    }
    return c;
}

#define PING "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Length: 2\r\n\r\n"

static void
test_keepalive_and_chunked(void)
{
    static const char *const replies[] = {
        PING,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
    };
    pid_t pid = start_server(replies, 3);
    _cleanup_client_ struct berth_client *c = client();
    json_t *v = NULL;
    struct berth_error *err = NULL;
    check(berth_client_get_json(c, "/x/json", NULL, &v, NULL, &err) == 0,
          "a versioned GET after the ping");
    ok(json_integer_value(json_object_get(v, "a")) == 1, "the chunked reply (extension, trailer)");
    json_decref(v);
    is_str(berth_client_api_version(c), "1.41", "the version from Api-Version");
    check(berth_client_send_json(c, "POST", "/x/start", NULL, NULL, NULL, &err) == 0,
          "a POST without a body");
    berth_client_free(TAKE_PTR(c));
    _cleanup_free_ char *log = finish_server(pid);
    ok(count(log, "ACCEPT") == 1, "one connection for the ping and both requests");
    ok(strstr(log, "HEAD /_ping HTTP/1.1\r\n") != NULL, "HEAD /_ping");
    ok(strstr(log, "GET /v1.41/x/json HTTP/1.1\r\n") != NULL, "the /v1.41 prefix");
    ok(strstr(log, "POST /v1.41/x/start HTTP/1.1\r\n") && strstr(log, "Content-Length: 0\r\n"),
       "a POST without a body says Content-Length: 0");
    if (err) {
        printf("# %s\n", err->msg);
        berth_error_free(err);
    }
}

struct acc {
    struct berth_strbuf b;
    int calls;
};

static int
on_data(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct acc *a = ud;
    a->calls++;
    return berth_strbuf_append(&a->b, buf, len) < 0 ? berth_error_set(err, ENOMEM, "x") : 0;
}

static void
test_uploads_and_stream(void)
{
    static const char *const replies[] = {
        PING,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "6\r\nline1\n\r\n6\r\nline2\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    pid_t pid = start_server(replies, 3);
    _cleanup_client_ struct berth_client *c = client();
    struct berth_error *err = NULL;
    int p[2];
    check(pipe2(p, O_CLOEXEC) == 0, "pipe");
    check(berth_write_all(p[1], "hello", 5) == 0, "fill the pipe");
    close(p[1]);
    struct acc a = {0};
    struct berth_request req = {.method = "POST",
                                .path = "/images/load",
                                .content_type = "application/x-tar",
                                .upload_fd = p[0],
                                .on_data = on_data,
                                .ud = &a};
    _cleanup_response_ struct berth_response resp = {0};
    check(berth_client_request(c, &req, &resp, &err) == 0, "an upload from a pipe");
    close(p[0]);
    is_str(a.b.s, "line1\nline2\n", "the streamed reply reached the callback");
    ok(resp.status == 200 && resp.content_type && !strcmp(resp.content_type, "application/json"),
       "status and Content-Type of a streamed reply");
    berth_strbuf_free(&a.b);

    char path[200];
    snprintf(path, sizeof(path), "%s/body", dir);
    check(berth_write_file_replace(path, "0123456789abc", 13, 0600, NULL) == 0, "a body file");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    check(fd >= 0 && lseek(fd, 2, SEEK_SET) == 2, "read from offset 2");
    struct berth_request req2 = {.method = "PUT", .path = "/c/archive", .upload_fd = fd};
    check(berth_client_request(c, &req2, &resp, &err) == 0, "an upload from a file");
    close(fd);
    ok(resp.len == 2 && !strcmp(resp.body, "ok"), "the kept body");
    berth_client_free(TAKE_PTR(c));
    _cleanup_free_ char *log = finish_server(pid);
    ok(strstr(log, "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n") != NULL,
       "a pipe is sent chunked");
    ok(strstr(log, "PUT /v1.41/c/archive HTTP/1.1\r\n") &&
           strstr(log, "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\n23456789abc"),
       "a file is sent with its remaining length");
    if (err) {
        printf("# %s\n", err->msg);
        berth_error_free(err);
    }
}

static void
test_errors_and_close(void)
{
    static const char *const replies[] = {
        PING,
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: 39\r\n\r\n{\"message\":\"No such container: nosuch\"}",
        "HTTP/1.1 409 Conflict\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nbusy\n",
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    };
    pid_t pid = start_server(replies, 4);
    _cleanup_client_ struct berth_client *c = client();
    struct berth_error *err = NULL;
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "DELETE", .path = "/containers/nosuch", .upload_fd = -1};
    check(berth_client_request(c, &req, &resp, &err) == -ENOENT, "404 is ENOENT");
    is_str(err ? err->msg : NULL, "Error response from daemon: No such container: nosuch",
           "the JSON message");
    ok(resp.status == 404, "the status is kept");
    berth_error_free(TAKE_PTR(err));
    check(berth_client_request(c, &req, &resp, &err) == -EEXIST, "409 is EEXIST (new connection)");
    is_str(err ? err->msg : NULL, "Error response from daemon: busy", "a text body, trimmed");
    berth_error_free(TAKE_PTR(err));
    check(berth_client_request(c, &req, &resp, &err) == -EIO, "500 is EIO");
    ok(err && strstr(err->msg, "request returned Internal Server Error for API route and version "
                               "http://api.moby.localhost/v1.41/containers/nosuch"),
       "an empty error body: docker's wording");
    berth_error_free(TAKE_PTR(err));
    berth_client_free(TAKE_PTR(c));
    _cleanup_free_ char *log = finish_server(pid);
    ok(count(log, "ACCEPT") == 2, "a new connection after Connection: close");
}

static void
test_send_fd(void)
{
    int in[2], out[2];
    check(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipes");
    check(berth_write_all(in[1], "abc", 3) == 0, "data");
    close(in[1]);
    struct berth_error *err = NULL;
    check(berth_conn_send_fd(out[1], in[0], -1, &err) == 0, "chunked from a pipe");
    close(out[1]);
    char buf[64] = "";
    ssize_t n = read(out[0], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "3\r\nabc\r\n0\r\n\r\n", "the chunked framing");
    close(in[0]);
    close(out[0]);

    check(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipes");
    check(berth_write_all(in[1], "abc", 3) == 0, "data");
    close(in[1]);
    check(berth_conn_send_fd(out[1], in[0], 5, &err) == -EPIPE, "a body shorter than its length");
    berth_error_free(TAKE_PTR(err));
    close(in[0]);
    close(out[0]);
    close(out[1]);
}

int
main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
    snprintf(log_path, sizeof(log_path), "%s/log", dir);
    snprintf(host, sizeof(host), "unix://%s", sock_path);
    test_keepalive_and_chunked();
    test_uploads_and_stream();
    test_errors_and_close();
    test_send_fd();
    berth_rm_rf(dir, NULL);
    return tap_done();
}
