#include "runtime/sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/cleanup.h"

int
berth_send_fd(int sock, int fd, const void *data, size_t len)
{
    char dummy = 0;
    struct iovec iov = {.iov_base = (void *)(len ? data : &dummy), .iov_len = len ? len : 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

int
berth_recv_fd(int sock, void *data, size_t len, size_t *ret_len)
{
    struct iovec iov = {.iov_base = data, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (ret_len)
        *ret_len = (size_t)n;
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int)))
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (n == 0 && fd < 0)
        return -EPIPE;
    return fd;
}

int
berth_sync_send(int sock, int stage, int code, const void *data, size_t len, int fd,
                struct berth_error **err)
{
    if (len > BERTH_SYNC_MAX_PAYLOAD)
        return berth_error_setq(err, EMSGSIZE, "sync message too large");
    size_t total = sizeof(struct berth_sync_msg) + len;
    _cleanup_free_ struct berth_sync_msg *m = malloc(total);
    if (!m)
        return berth_error_set(err, ENOMEM, "sync");
    m->stage = stage;
    m->code = code;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    int r = berth_send_fd(sock, fd, m, total);
    if (r < 0)
        return berth_error_set(err, -r, "sync: send stage %d", stage);
    return 0;
}

int
berth_sync_recv(int sock, struct berth_sync_msg **ret, int *ret_fd, struct berth_error **err)
{
    size_t cap = sizeof(struct berth_sync_msg) + BERTH_SYNC_MAX_PAYLOAD + 1;
    _cleanup_free_ struct berth_sync_msg *m = malloc(cap);
    if (!m)
        return berth_error_set(err, ENOMEM, "sync");
    size_t n = 0;
    int fd = berth_recv_fd(sock, m, cap - 1, &n);
    if (fd == -EPIPE || (fd < 0 && fd != -1) || n < sizeof(*m)) {
        if (fd >= 0)
            close(fd);
        if (fd < -1 && fd != -EPIPE)
            return berth_error_set(err, -fd, "sync: receive");
        return berth_error_setq(err, EPIPE, "container init exited before it was set up");
    }
    if (m->len > n - sizeof(*m))
        m->len = n - sizeof(*m);
    m->data[m->len] = '\0';
    if (m->stage == SYNC_ERROR) {
        if (fd >= 0)
            close(fd);
        return berth_error_setq(err, m->code > 0 ? m->code : EINVAL, "%s", m->data);
    }
    if (ret_fd)
        *ret_fd = fd;
    else if (fd >= 0)
        close(fd);
    if (ret)
        *ret = TAKE_PTR(m);
    return 0;
}

int
berth_sync_expect(int sock, int stage, struct berth_sync_msg **ret, int *ret_fd,
                  struct berth_error **err)
{
    struct berth_sync_msg *m = NULL;
    int fd = -1;
    int r = berth_sync_recv(sock, &m, &fd, err);
    if (r < 0)
        return r;
    if (m->stage != stage) {
        int got = m->stage;
        free(m);
        if (fd >= 0)
            close(fd);
        return berth_error_setq(err, EPROTO, "sync: expected stage %d, got %d", stage, got);
    }
    if (ret)
        *ret = m;
    else
        free(m);
    if (ret_fd)
        *ret_fd = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

void
berth_sync_send_error(int sock, const struct berth_error *e)
{
    const char *msg = e && e->msg ? e->msg : "unknown error";
    (void)berth_sync_send(sock, SYNC_ERROR, e ? e->code : EINVAL, msg, strlen(msg), -1, NULL);
}
