/* Raw daemon connections, hijacked streams, stdcopy, detach keys and the terminal (see
 * hijack.h). */
#include "client/hijack.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

#define HEAD_MAX (64 * 1024)
#define BODY_MAX (16 * 1024 * 1024)

/* ---- raw connections ---- */

static int
conn_fill(struct berth_conn *conn)
{
    if (conn->off > 0 && conn->off == conn->len)
        conn->off = conn->len = 0;
    if (conn->len == conn->cap) {
        if (conn->off > 0) {
            memmove(conn->buf, conn->buf + conn->off, conn->len - conn->off);
            conn->len -= conn->off;
            conn->off = 0;
        } else {
            size_t ncap = conn->cap ? conn->cap * 2 : 16384;
            if (ncap > BODY_MAX + HEAD_MAX)
                return -EFBIG;
            char *n = realloc(conn->buf, ncap);
            if (!n)
                return -ENOMEM;
            conn->buf = n;
            conn->cap = ncap;
        }
    }
    for (;;) {
        ssize_t r = read(conn->fd, conn->buf + conn->len, conn->cap - conn->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        conn->len += (size_t)r;
        return (int)(r > 0);
    }
}

ssize_t
berth_conn_read(struct berth_conn *conn, void *buf, size_t len)
{
    if (conn->off < conn->len) {
        size_t n = conn->len - conn->off < len ? conn->len - conn->off : len;
        memcpy(buf, conn->buf + conn->off, n);
        conn->off += n;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t r = read(conn->fd, buf, len);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -errno : r;
    }
}

void
berth_conn_close(struct berth_conn *conn)
{
    if (conn->fd >= 0)
        close(conn->fd);
    conn->fd = -1;
    free(conn->buf);
    conn->buf = NULL;
    conn->off = conn->len = conn->cap = 0;
}

/* A line of the buffered data (without CRLF); NULL when it is not complete yet. */
static char *
conn_line(struct berth_conn *conn, size_t *ret_len)
{
    char *start = conn->buf + conn->off;
    char *nl = memchr(start, '\n', conn->len - conn->off);
    if (!nl)
        return NULL;
    size_t l = (size_t)(nl - start);
    conn->off += l + 1;
    if (l > 0 && start[l - 1] == '\r')
        l--;
    start[l] = '\0';
    *ret_len = l;
    return start;
}

static int
conn_need_line(struct berth_conn *conn, char **ret, struct berth_error **err)
{
    size_t l;
    for (;;) {
        if (conn->buf && (*ret = conn_line(conn, &l)))
            return 0;
        if (conn->len - conn->off > HEAD_MAX)
            return berth_error_setq(err, EPROTO, "malformed HTTP response: line too long");
        int r = conn_fill(conn);
        if (r < 0)
            return berth_error_set(err, -r, "read the daemon's response");
        if (r == 0)
            return berth_error_setq(err, EPROTO, "malformed HTTP response: unexpected EOF");
    }
}

static int
status_to_errno(int status)
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

int
berth_conn_read_head(struct berth_conn *conn, struct berth_error **err)
{
    char *line;
    int r = conn_need_line(conn, &line, err);
    if (r < 0)
        return r;
    int major, minor, status;
    if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) != 3)
        return berth_error_setq(err, EPROTO, "malformed HTTP response \"%s\"", line);
    conn->status = status;
    conn->content_length = -1;
    conn->chunked = false;
    conn->chunk_left = 0;
    conn->eof = false;
    conn->content_type[0] = '\0';
    conn->keep_alive = major > 1 || (major == 1 && minor >= 1);
    for (;;) {
        r = conn_need_line(conn, &line, err);
        if (r < 0)
            return r;
        if (!line[0])
            break;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (!strcasecmp(line, "Content-Length"))
            conn->content_length = strtoll(v, NULL, 10);
        else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked"))
            conn->chunked = true;
        else if (!strcasecmp(line, "Content-Type"))
            snprintf(conn->content_type, sizeof(conn->content_type), "%s", v);
        else if (!strcasecmp(line, "Connection") && strcasestr(v, "close"))
            conn->keep_alive = false;
        if (status != 100 && conn->on_header)
            conn->on_header(conn->header_ud, line, v);
    }
    if (status == 100)
        return berth_conn_read_head(conn, err);
    if (status == 101 || status == 204 || status == 304)
        conn->content_length = conn->chunked ? conn->content_length : 0;
    if (conn->chunked)
        conn->content_length = -1;
    else if (conn->content_length < 0)
        conn->keep_alive = false; /* the body ends at EOF */
    return 0;
}

int
berth_conn_request(struct berth_client *c, const char *method, const char *path,
                   const struct berth_query *q, const char *json_body, bool upgrade,
                   struct berth_conn *ret, struct berth_error **err)
{
    struct berth_conn conn = {.fd = -1};
    _cleanup_free_ char *target = berth_client_target(c, path, q);
    if (!target)
        return berth_error_set(err, ENOMEM, "request");
    int r = berth_client_dial(c, &conn.fd, err);
    if (r < 0)
        return r;
    _cleanup_strbuf_ struct berth_strbuf req = {0};
    size_t blen = json_body ? strlen(json_body) : 0;
    berth_strbuf_printf(&req,
                        "%s %s HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: "
                        "Berth-Client/" BERTH_CLIENT_VERSION " (linux)\r\n",
                        method, target);
    if (json_body)
        berth_strbuf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                            blen);
    else if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        berth_strbuf_puts(&req, "Content-Length: 0\r\n");
    if (upgrade)
        berth_strbuf_puts(&req, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
    berth_strbuf_puts(&req, "\r\n");
    if (json_body)
        berth_strbuf_append(&req, json_body, blen);
    if (!req.s) {
        berth_conn_close(&conn);
        return berth_error_set(err, ENOMEM, "request");
    }
    r = berth_conn_send_all(conn.fd, req.s, req.len);
    if (r < 0) {
        berth_conn_close(&conn);
        return berth_error_set(err, -r, "send the request");
    }
    r = berth_conn_read_head(&conn, err);
    if (r < 0) {
        berth_conn_close(&conn);
        return r;
    }
    if (!strcmp(method, "HEAD")) {
        conn.content_length = 0; /* a HEAD reply has no body whatever its headers say */
        conn.chunked = false;
    }
    if (conn.status >= 400) {
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        if (berth_conn_read_body(&conn, &body, &len, NULL) < 0)
            len = 0;
        while (len > 0 && isspace((unsigned char)body[len - 1]))
            len--;
        int code = status_to_errno(conn.status);
        json_t *v = len && strstr(conn.content_type, "application/json")
                        ? json_loadb(body, len, 0, NULL)
                        : NULL;
        const char *msg = json_string_value(json_object_get(v, "message"));
        if (msg)
            r = berth_error_setq(err, code, "Error response from daemon: %s", msg);
        else if (len)
            r = berth_error_setq(err, code, "Error response from daemon: %.*s", (int)len,
                                 body ? body : "");
        else
            r = berth_error_setq(err, code,
                                 "Error response from daemon: request returned an error (%d) "
                                 "for API route %s",
                                 conn.status, target);
        json_decref(v);
        berth_conn_close(&conn);
        return r;
    }
    *ret = conn;
    return 0;
}

ssize_t
berth_conn_body_read(struct berth_conn *conn, char *buf, size_t len, struct berth_error **err)
{
    if (conn->eof || len == 0)
        return 0;
    if (!conn->chunked) {
        if (conn->content_length == 0) {
            conn->eof = true;
            return 0;
        }
        size_t want = conn->content_length > 0 && (unsigned long long)conn->content_length < len
                          ? (size_t)conn->content_length
                          : len;
        ssize_t r = berth_conn_read(conn, buf, want);
        if (r < 0)
            return berth_error_set(err, (int)-r, "read the daemon's response");
        if (r == 0) {
            if (conn->content_length < 0) {
                conn->eof = true;
                return 0;
            }
            return berth_error_setq(err, EPROTO, "unexpected EOF");
        }
        if (conn->content_length > 0)
            conn->content_length -= r;
        return r;
    }
    char *line;
    int r;
    if (conn->chunk_left == 0) {
        if ((r = conn_need_line(conn, &line, err)) < 0)
            return r;
        char *end;
        errno = 0;
        long long size = strtoll(line, &end, 16);
        if (end == line || errno || size < 0 || (*end && *end != ';' && *end != ' '))
            return berth_error_setq(err, EPROTO, "malformed chunk size");
        if (size == 0) {
            /* trailers up to the empty line */
            do {
                if ((r = conn_need_line(conn, &line, err)) < 0)
                    return r;
            } while (line[0]);
            conn->eof = true;
            return 0;
        }
        conn->chunk_left = size;
    }
    size_t want = (unsigned long long)conn->chunk_left < len ? (size_t)conn->chunk_left : len;
    ssize_t n = berth_conn_read(conn, buf, want);
    if (n < 0)
        return berth_error_set(err, (int)-n, "read the daemon's response");
    if (n == 0)
        return berth_error_setq(err, EPROTO, "unexpected EOF");
    conn->chunk_left -= n;
    if (conn->chunk_left == 0 && (r = conn_need_line(conn, &line, err)) < 0)
        return r; /* the CRLF after the data */
    return n;
}

int
berth_conn_read_body_max(struct berth_conn *conn, size_t max, char **ret, size_t *ret_len,
                         struct berth_error **err)
{
    _cleanup_strbuf_ struct berth_strbuf b = {0};
    char tmp[16384];
    if (max == 0)
        max = BODY_MAX;
    for (;;) {
        ssize_t n = berth_conn_body_read(conn, tmp, sizeof(tmp), err);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        if (b.len + (size_t)n > max)
            return berth_error_setq(err, EFBIG, "the daemon's response is too large");
        if (berth_strbuf_append(&b, tmp, (size_t)n) < 0)
            return berth_error_set(err, ENOMEM, "read the daemon's response");
    }
    *ret_len = b.len;
    *ret = b.s ? berth_strbuf_steal(&b) : strdup("");
    return *ret ? 0 : berth_error_set(err, ENOMEM, "read the daemon's response");
}

int
berth_conn_read_body(struct berth_conn *conn, char **ret, size_t *ret_len, struct berth_error **err)
{
    return berth_conn_read_body_max(conn, 0, ret, ret_len, err);
}

int
berth_conn_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    bool sock = true;
    while (len > 0) {
        ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOTSOCK && sock) {
                sock = false;
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
berth_conn_send_fd(int sock, int fd, long long len, struct berth_error **err)
{
    /* room for the chunk header in front and the CRLF behind */
    enum { DATA = 65536, HDR = 16 };
    _cleanup_free_ char *buf = malloc(HDR + DATA + 2);
    if (!buf)
        return berth_error_set(err, ENOMEM, "send the request body");
    for (;;) {
        size_t want = len >= 0 && len < DATA ? (size_t)len : DATA;
        ssize_t n = 0;
        if (want > 0) {
            n = read(fd, buf + HDR, want);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return berth_error_set(err, errno, "read the request body");
        }
        int r;
        if (len >= 0) {
            if (n == 0 && len > 0)
                return berth_error_setq(err, EPIPE,
                                        "the request body ended early (%lld bytes "
                                        "missing)",
                                        len);
            if (n == 0)
                return 0;
            if ((r = berth_conn_send_all(sock, buf + HDR, (size_t)n)) < 0)
                return berth_error_set(err, -r, "send the request body");
            len -= n;
            continue;
        }
        if (n == 0) {
            if ((r = berth_conn_send_all(sock, "0\r\n\r\n", 5)) < 0)
                return berth_error_set(err, -r, "send the request body");
            return 0;
        }
        char hdr[HDR + 1];
        int hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", (size_t)n);
        memcpy(buf + HDR - hl, hdr, (size_t)hl);
        memcpy(buf + HDR + n, "\r\n", 2);
        if ((r = berth_conn_send_all(sock, buf + HDR - hl, (size_t)hl + (size_t)n + 2)) < 0)
            return berth_error_set(err, -r, "send the request body");
    }
}

/* ---- stdcopy ---- */

int
berth_stdcopy_feed(struct berth_stdcopy *s, const char *data, size_t len, struct berth_error **err)
{
    while (len > 0) {
        if (s->left == 0) {
            size_t take = 8 - s->hdr_len < len ? 8 - s->hdr_len : len;
            memcpy(s->hdr + s->hdr_len, data, take);
            s->hdr_len += take;
            data += take;
            len -= take;
            if (s->hdr_len < 8)
                return 0;
            s->hdr_len = 0;
            s->stream = s->hdr[0];
            if (s->stream > 3)
                return berth_error_setq(err, EPROTO, "Unrecognized input header: %d", s->stream);
            s->left = (uint32_t)s->hdr[4] << 24 | (uint32_t)s->hdr[5] << 16 |
                      (uint32_t)s->hdr[6] << 8 | (uint32_t)s->hdr[7];
            continue;
        }
        size_t take = s->left < len ? s->left : len;
        if (s->on_frame && s->on_frame(s->ud, s->stream, data, take) < 0)
            return berth_error_set(err, errno ? errno : EIO, "write the output");
        s->left -= (uint32_t)take;
        data += take;
        len -= take;
    }
    return 0;
}

/* ---- detach keys ---- */

int
berth_client_detach_keys_parse(const char *keys, unsigned char *ret, size_t cap, size_t *ret_len,
                               struct berth_error **err)
{
    size_t n = 0;
    _cleanup_free_ char *copy = strdup(keys);
    if (!copy)
        return berth_error_set(err, ENOMEM, "detach keys");
    char *save = NULL;
    for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (n >= cap)
            return berth_error_setq(err, EINVAL, "too many detach keys");
        /* term.ToBytes: trimmed keys */
        while (*k == ' ')
            k++;
        size_t kl = strlen(k);
        while (kl > 0 && k[kl - 1] == ' ')
            k[--kl] = '\0';
        if (kl > 1) {
            if (kl != 6 || strncmp(k, "ctrl-", 5))
                return berth_error_setq(err, EINVAL, "Unknown character: '%s'", k);
            char ch = k[5];
            if (ch >= 'a' && ch <= 'z')
                ret[n++] = (unsigned char)(ch - 'a' + 1);
            else if (ch == '@')
                ret[n++] = 0;
            else if (ch == '[' || ch == '\\' || ch == ']' || ch == '^' || ch == '_')
                ret[n++] = (unsigned char)(ch - '[' + 27);
            else
                return berth_error_setq(err, EINVAL, "Unknown character: '%s'", k);
        } else if (kl == 1) {
            ret[n++] = (unsigned char)k[0];
        }
    }
    *ret_len = n;
    return 0;
}

size_t
berth_client_detach_filter(const unsigned char *keys, size_t nkeys, size_t *matched,
                           const unsigned char *in, size_t n, unsigned char *out, size_t out_cap,
                           bool *detached)
{
    *detached = false;
    size_t o = 0;
    /* moby/term's escapeProxy: only a read of exactly one byte can be (part of) the sequence */
    if (nkeys > 0 && n == 1 && in[0] == keys[*matched]) {
        if (*matched == nkeys - 1) {
            *detached = true;
            return 0;
        }
        (*matched)++;
        return 0;
    }
    for (size_t i = 0; i < *matched && o < out_cap; i++)
        out[o++] = keys[i];
    *matched = 0;
    for (size_t i = 0; i < n && o < out_cap; i++)
        out[o++] = in[i];
    return o;
}

/* ---- terminal and signals ---- */

bool
berth_tty_size(int fd, unsigned *rows, unsigned *cols)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
        return false;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return true;
}

static const struct {
    const char *name;
    int signo;
} signal_map[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

const char *
berth_client_signal_name(int signo)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(signal_map); i++)
        if (signal_map[i].signo == signo)
            return signal_map[i].name;
    return NULL;
}

int
berth_client_signal_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    long n = strtol(s, &end, 10);
    if (isdigit((unsigned char)s[0]) && !*end)
        return n >= 1 && n <= 64 ? (int)n : -1;
    const char *name = !strncasecmp(s, "SIG", 3) ? s + 3 : s;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(signal_map); i++)
        if (!strcasecmp(name, signal_map[i].name))
            return signal_map[i].signo;
    return -1;
}

int
berth_client_signals_block(bool proxy, bool winch, sigset_t *old)
{
    /* what Go's signal.Notify(c) delivers and docker forwards (not CHLD, PIPE, URG) */
    static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM,
                                    SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGVTALRM,
                                    SIGPROF, SIGIO,   SIGPWR,  SIGXCPU, SIGXFSZ};
    sigset_t set;
    sigemptyset(&set);
    if (proxy)
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(forwarded); i++)
            sigaddset(&set, forwarded[i]);
    if (winch || proxy)
        sigaddset(&set, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &set, old) < 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* ---- the copy loop ---- */

struct out_ctx {
    const struct berth_stream_opts *o;
    struct berth_error *syserr;
};

static int
on_frame(void *ud, int stream, const char *data, size_t len)
{
    struct out_ctx *x = ud;
    int fd = stream == 2 ? x->o->err_fd : x->o->out_fd;
    if (stream == 3) {
        /* systemerr: the rest of the frame is the daemon's error message */
        if (!x->syserr)
            berth_error_setq(&x->syserr, EIO, "error from daemon in stream: %.*s", (int)len, data);
        return 0;
    }
    if (fd < 0)
        return 0;
    int r = berth_write_all(fd, data, len);
    if (r < 0) {
        errno = -r;
        return r;
    }
    return 0;
}

int
berth_stream(struct berth_conn *conn, const struct berth_stream_opts *o, struct berth_error **err)
{
    struct termios saved;
    bool raw = false;
    unsigned char keys[16];
    size_t nkeys = 0, matched = 0;
    if (o->raw_terminal && o->in_fd >= 0 && tcgetattr(o->in_fd, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (tcsetattr(o->in_fd, TCSANOW, &t) == 0)
            raw = true;
        if (!o->detach || !o->detach[0] ||
            berth_client_detach_keys_parse(o->detach, keys, sizeof(keys), &nkeys, NULL) < 0) {
            keys[0] = 16;
            keys[1] = 17;
            nkeys = 2;
        }
    }
    struct out_ctx x = {.o = o};
    struct berth_stdcopy sc = {.on_frame = on_frame, .ud = &x};
    bool have_out = o->out_fd >= 0 || o->err_fd >= 0;
    bool in_open = o->in_fd >= 0;
    int result = BERTH_STREAM_DONE, r = 0;
    if (!in_open)
        shutdown(conn->fd, SHUT_WR);
    char buf[32768];
    unsigned char fbuf[sizeof(buf) + 16];
    for (;;) {
        /* leftovers from the response head first */
        if (conn->off < conn->len) {
            ssize_t n = berth_conn_read(conn, buf, sizeof(buf));
            if (o->tty) {
                if (o->out_fd >= 0 && berth_write_all(o->out_fd, buf, (size_t)n) < 0) {
                    r = berth_error_set(err, errno, "write the output");
                    break;
                }
            } else if ((r = berth_stdcopy_feed(&sc, buf, (size_t)n, err)) < 0) {
                break;
            }
            continue;
        }
        struct pollfd p[3];
        int np = 0, ic = -1, sc_i = -1;
        p[np++] = (struct pollfd){.fd = conn->fd, .events = POLLIN};
        if (in_open) {
            ic = np;
            p[np++] = (struct pollfd){.fd = o->in_fd, .events = POLLIN};
        }
        if (o->signal_fd >= 0) {
            sc_i = np;
            p[np++] = (struct pollfd){.fd = o->signal_fd, .events = POLLIN};
        }
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            r = berth_error_set(err, errno, "poll");
            break;
        }
        if (sc_i >= 0 && (p[sc_i].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(o->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                if (o->on_signal)
                    o->on_signal(o->ud, (int)si.ssi_signo);
        }
        if (ic >= 0 && (p[ic].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(o->in_fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                in_open = false;
                shutdown(conn->fd, SHUT_WR);
                if (!have_out)
                    break;
            } else {
                size_t m = (size_t)n;
                const void *data = buf;
                if (raw) {
                    bool detached = false;
                    m = berth_client_detach_filter(keys, nkeys, &matched, (unsigned char *)buf,
                                                   (size_t)n, fbuf, sizeof(fbuf), &detached);
                    if (detached) {
                        result = BERTH_STREAM_DETACHED;
                        break;
                    }
                    data = fbuf;
                }
                if (m > 0 && berth_write_all(conn->fd, data, m) < 0) {
                    /* the other side is gone: the output side will tell */
                    in_open = false;
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = berth_conn_read(conn, buf, sizeof(buf));
            if (n < 0 && (n == -EINTR || n == -EAGAIN))
                continue;
            if (n <= 0)
                break; /* the output ended */
            if (o->tty) {
                if (o->out_fd >= 0 && berth_write_all(o->out_fd, buf, (size_t)n) < 0) {
                    r = berth_error_set(err, errno, "write the output");
                    break;
                }
            } else if ((r = berth_stdcopy_feed(&sc, buf, (size_t)n, err)) < 0) {
                break;
            }
        }
    }
    if (raw)
        tcsetattr(o->in_fd, TCSANOW, &saved);
    if (r == 0 && x.syserr) {
        if (err && !*err)
            *err = x.syserr;
        else
            berth_error_free(x.syserr);
        return -EIO;
    }
    berth_error_free(x.syserr);
    return r < 0 ? r : result;
}
