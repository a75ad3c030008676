/* attach.sock: clients that receive the process's output as frames and feed its stdin, and the
 * resize command. Nothing here blocks: output a client cannot take is queued (up to
 * BERTH_MONITOR_CLIENT_QUEUE_MAX, then the client is dropped); stdin the pipe cannot take is
 * held and the clients are not read until it drains. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "monitor/monitor_internal.h"
#include "monitor/protocol.h"

#define STDIN_CHUNK (32 * 1024)

int
mon_listen_unix(struct monitor *m, const char *name, int *ret_fd, struct berth_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", name);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return berth_error_set(err, errno, "socket");
    /* bind relative to the directory: its path may be longer than sun_path allows */
    if (fchdir(m->dirfd) < 0)
        return berth_error_set(err, errno, "chdir '%s'", m->cfg->dir);
    (void)unlink(name);
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    int e = errno;
    if (chdir("/") < 0 && r == 0)
        e = errno, r = -1;
    if (r < 0)
        return berth_error_set(err, e, "bind '%s/%s'", m->cfg->dir, name);
    if (listen(fd, 16) < 0)
        return berth_error_set(err, errno, "listen '%s/%s'", m->cfg->dir, name);
    *ret_fd = TAKE_FD(fd);
    return 0;
}

/* ---- the client list ---- */

static void
client_free(struct monitor *m, struct mon_client *c)
{
    for (struct mon_client **p = &m->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    mon_epoll_del(m, c->fd);
    close(c->fd);
    free(c->q);
    free(c);
}

/* Whether a client's input should be read now. */
static bool
client_readable(const struct monitor *m, const struct mon_client *c)
{
    if (c->input_closed || m->state == S_CLOSING)
        return false;
    if (!c->ready)
        return true;
    if (!c->want_stdin)
        return true; /* read and dropped: how we see the client go */
    if (m->stdin_state == STDIN_PENDING)
        return false;
    if (m->stdin_state == STDIN_OPEN && m->stdin_len > m->stdin_off)
        return false; /* the pipe is full: leave the rest in the socket */
    return true;
}

static void
client_update(struct monitor *m, struct mon_client *c)
{
    uint32_t ev = (client_readable(m, c) ? EPOLLIN : 0) | (c->q_len > c->q_off ? EPOLLOUT : 0);
    if (ev != c->events && mon_epoll_set(m, c->fd, (uint64_t)(uintptr_t)c, ev, false) == 0)
        c->events = ev;
}

void
mon_clients_update(struct monitor *m)
{
    for (struct mon_client *c = m->clients; c; c = c->next)
        client_update(m, c);
}

void
mon_accept(struct monitor *m)
{
    for (;;) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return; /* EAGAIN, or a client gone before we took it, or out of fds */
        struct mon_client *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
        if (mon_epoll_set(m, fd, (uint64_t)(uintptr_t)c, EPOLLIN, true) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = m->clients;
        m->clients = c;
    }
}

/* ---- output ---- */

static bool
client_flush(struct monitor *m, struct mon_client *c)
{
    while (c->q_len > c->q_off) {
        ssize_t n = send(c->fd, c->q + c->q_off, c->q_len - c->q_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            client_free(m, c);
            return false;
        }
        c->q_off += (size_t)n;
    }
    if (c->q_off == c->q_len) {
        c->q_off = c->q_len = 0;
        if (c->q_cap > 64 * 1024) { /* a burst is over: give the memory back */
            free(c->q);
            c->q = NULL;
            c->q_cap = 0;
        }
    }
    client_update(m, c);
    return true;
}

/* Queues bytes for a client; false (and the client dropped) beyond the limit. */
static bool
client_queue(struct monitor *m, struct mon_client *c, const void *data, size_t len)
{
    size_t pending = c->q_len - c->q_off;
    if (pending + len > BERTH_MONITOR_CLIENT_QUEUE_MAX + BERTH_MONITOR_FRAME_HEADER) {
        client_free(m, c);
        return false;
    }
    if (c->q_off > 0 && c->q_len + len > c->q_cap) {
        memmove(c->q, c->q + c->q_off, pending);
        c->q_len = pending;
        c->q_off = 0;
    }
    if (c->q_len + len > c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap : 4096;
        while (cap < c->q_len + len)
            cap *= 2;
        char *q = realloc(c->q, cap);
        if (!q) {
            client_free(m, c);
            return false;
        }
        c->q = q;
        c->q_cap = cap;
    }
    memcpy(c->q + c->q_len, data, len);
    c->q_len += len;
    return true;
}

/* Sends what it can now and queues the rest. */
static void
client_send(struct monitor *m, struct mon_client *c, const void *hdr, size_t hlen, const void *data,
            size_t len)
{
    size_t done = 0, total = hlen + len;
    if (c->q_len == c->q_off) {
        struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)data, len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        ssize_t n;
        do
            n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            client_free(m, c);
            return;
        }
        done = n > 0 ? (size_t)n : 0;
        if (done == total)
            return;
    }
    if (done < hlen && !client_queue(m, c, (const char *)hdr + done, hlen - done))
        return;
    size_t from = done > hlen ? done - hlen : 0;
    if (!client_queue(m, c, (const char *)data + from, len - from))
        return;
    client_update(m, c);
}

void
mon_broadcast(struct monitor *m, int stream, const char *data, size_t len)
{
    unsigned char hdr[BERTH_MONITOR_FRAME_HEADER] = {(unsigned char)stream,
                                                     0,
                                                     0,
                                                     0,
                                                     (unsigned char)(len >> 24),
                                                     (unsigned char)(len >> 16),
                                                     (unsigned char)(len >> 8),
                                                     (unsigned char)len};
    for (struct mon_client *c = m->clients, *next; c; c = next) {
        next = c->next;
        if (c->ready && (stream == BERTH_LOG_STDERR ? c->want_stderr : c->want_stdout))
            client_send(m, c, hdr, sizeof(hdr), data, len);
    }
}

bool
mon_clients_flushed(const struct monitor *m)
{
    for (const struct mon_client *c = m->clients; c; c = c->next)
        if (c->q_len > c->q_off)
            return false;
    return true;
}

void
mon_clients_close(struct monitor *m)
{
    while (m->clients)
        client_free(m, m->clients);
}

/* ---- stdin ---- */

static void
stdin_close(struct monitor *m)
{
    if (m->in_fd >= 0) {
        mon_epoll_del(m, m->in_fd);
        close(m->in_fd);
        m->in_fd = -1;
    }
    free(m->stdin_buf);
    m->stdin_buf = NULL;
    m->stdin_off = m->stdin_len = 0;
    m->stdin_state = STDIN_CLOSED;
    m->stdin_close_pending = false;
    mon_clients_update(m);
}

/* Writes what is held for stdin; true when it is all written. */
static bool
stdin_push(struct monitor *m)
{
    while (m->stdin_len > m->stdin_off) {
        ssize_t n = write(m->in_fd, m->stdin_buf + m->stdin_off, m->stdin_len - m->stdin_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n <= 0) { /* EPIPE: nobody reads stdin any more */
            stdin_close(m);
            return true;
        }
        m->stdin_off += (size_t)n;
    }
    free(m->stdin_buf);
    m->stdin_buf = NULL;
    m->stdin_off = m->stdin_len = 0;
    return true;
}

/* Takes bytes for stdin: written now, or held (the clients wait until the pipe drains). */
static void
stdin_feed(struct monitor *m, const char *data, size_t len)
{
    if (m->stdin_state != STDIN_OPEN || len == 0)
        return;
    if (m->stdin_len > m->stdin_off) { /* only when a client raced the pause: hold it too */
        char *n = realloc(m->stdin_buf, m->stdin_len + len);
        if (!n)
            return;
        m->stdin_buf = n;
        memcpy(m->stdin_buf + m->stdin_len, data, len);
        m->stdin_len += len;
        return;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(m->in_fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            stdin_close(m);
            return;
        }
        done += (size_t)n;
    }
    if (done == len)
        return;
    if (!(m->stdin_buf = malloc(len - done)))
        return;
    memcpy(m->stdin_buf, data + done, len - done);
    m->stdin_off = 0;
    m->stdin_len = len - done;
    (void)mon_epoll_set(m, m->in_fd, TAG_STDIN, EPOLLOUT, true);
    mon_clients_update(m);
}

/* A stdin client's EOF: with --stdin-once the process's stdin ends (a tty gets ^D). */
static void
stdin_client_eof(struct monitor *m)
{
    if (!m->cfg->stdin_once || m->stdin_state != STDIN_OPEN)
        return;
    if (m->cfg->tty) {
        stdin_feed(m, "\x04", 1);
        return;
    }
    if (m->stdin_len > m->stdin_off)
        m->stdin_close_pending = true;
    else
        stdin_close(m);
}

void
mon_stdin_writable(struct monitor *m)
{
    if (m->in_fd < 0 || !stdin_push(m))
        return;
    if (m->in_fd >= 0)
        mon_epoll_del(m, m->in_fd);
    if (m->stdin_close_pending)
        stdin_close(m);
    else
        mon_clients_update(m);
}

/* ---- commands ---- */

static void
reply_and_close(struct monitor *m, struct mon_client *c, const char *text)
{
    (void)send(c->fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
    client_free(m, c);
}

void
mon_apply_pending_resize(struct monitor *m)
{
    if (m->master < 0 || (!m->pending_rows && !m->pending_cols))
        return;
    struct winsize ws = {.ws_row = m->pending_rows, .ws_col = m->pending_cols};
    (void)ioctl(m->master, TIOCSWINSZ, &ws);
    m->pending_rows = m->pending_cols = 0;
}

static bool
parse_flag(const char *s, bool *ret)
{
    if (strcmp(s, "0") && strcmp(s, "1"))
        return false;
    *ret = s[0] == '1';
    return true;
}

/* The command line is complete: line[0..len) without the '\n'; rest follows it. */
static void
client_command(struct monitor *m, struct mon_client *c, char *line, const char *rest,
               size_t rest_len)
{
    char *words[5] = {0};
    size_t n = 0;
    for (char *save = NULL, *w = strtok_r(line, " ", &save); w && n < 5;
         w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    if (n == 4 && !strcmp(words[0], "attach") && parse_flag(words[1], &c->want_stdin) &&
        parse_flag(words[2], &c->want_stdout) && parse_flag(words[3], &c->want_stderr)) {
        c->ready = true;
        if (send(c->fd, "ok\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT) != 3) {
            client_free(m, c);
            return;
        }
        if (c->want_stdin)
            stdin_feed(m, rest, rest_len);
        client_update(m, c);
        return;
    }
    if (n == 3 && !strcmp(words[0], "resize")) {
        uint64_t rows, cols;
        if (!berth_parse_u64(words[1], &rows) || !berth_parse_u64(words[2], &cols) ||
            rows > 0xffff || cols > 0xffff) {
            reply_and_close(m, c, "error bad size\n");
            return;
        }
        if (!m->cfg->tty) {
            reply_and_close(m, c, "error the process has no terminal\n");
            return;
        }
        m->pending_rows = (unsigned short)rows;
        m->pending_cols = (unsigned short)cols;
        mon_apply_pending_resize(m); /* else when the pty arrives */
        reply_and_close(m, c, "ok\n");
        return;
    }
    reply_and_close(m, c, "error unknown command\n");
}

static void
client_read_command(struct monitor *m, struct mon_client *c)
{
    ssize_t n;
    do
        n = recv(c->fd, c->line + c->line_len, sizeof(c->line) - 1 - c->line_len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        client_free(m, c);
        return;
    }
    c->line_len += (size_t)n;
    char *nl = memchr(c->line, '\n', c->line_len);
    if (!nl) {
        if (c->line_len == sizeof(c->line) - 1)
            reply_and_close(m, c, "error command too long\n");
        return;
    }
    *nl = '\0';
    size_t used = (size_t)(nl - c->line) + 1;
    char rest[sizeof(c->line)];
    size_t rest_len = c->line_len - used;
    memcpy(rest, nl + 1, rest_len);
    c->line_len = 0;
    client_command(m, c, c->line, rest, rest_len);
}

void
mon_client_event(struct monitor *m, struct mon_client *c, uint32_t events)
{
    if (events & EPOLLOUT) {
        if (!client_flush(m, c))
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!c->ready) {
            client_read_command(m, c);
            return;
        }
        if (!client_readable(m, c)) {
            if (events & (EPOLLHUP | EPOLLERR)) /* gone entirely */
                client_free(m, c);
            return;
        }
        char buf[STDIN_CHUNK];
        ssize_t n;
        do
            n = recv(c->fd, buf, sizeof(buf), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0) {
            client_free(m, c);
            return;
        }
        if (n == 0) { /* shutdown(SHUT_WR): still receives output */
            c->input_closed = true;
            client_update(m, c);
            if (c->want_stdin)
                stdin_client_eof(m);
            if (c->q_len == c->q_off && (events & (EPOLLHUP | EPOLLERR)))
                client_free(m, c);
            return;
        }
        if (c->want_stdin)
            stdin_feed(m, buf, (size_t)n);
    }
}
