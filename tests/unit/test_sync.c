/* Unit tests of lib/runtime/sync.c over a real AF_UNIX SOCK_SEQPACKET socketpair, the channel
 * between the runtime and container init: stages with payloads, a passed fd, the wrong stage,
 * an error sent by the child, a peer that went away, and the payload bound. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/sync.h"
#include "testutil.h"

/* Nothing is waiting on the socket. */
static bool
socket_empty(int s)
{
    char c;
    return recv(s, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static void
test_payload(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    struct berth_error *e = NULL;
    struct berth_sync_msg *m = NULL;
    int fd = 99;

    check(berth_sync_send(sp[0], SYNC_READY, 42, "hello", 5, -1, &e) == 0, "send with a payload");
    int r = berth_sync_recv(sp[1], &m, &fd, &e);
    check(r == 0 && m, "recv");
    if (m) {
        ok(m->stage == SYNC_READY && m->code == 42, "stage and code");
        ok(m->len == 5 && !memcmp(m->data, "hello", 5) && m->data[5] == '\0',
           "payload, NUL-terminated");
    }
    ok(fd == -1, "no fd passed: -1");
    free(m), m = NULL;

    check(berth_sync_send(sp[1], SYNC_PARENT_SETUP_DONE, 0, NULL, 0, -1, &e) == 0,
          "send without a payload, the other way");
    r = berth_sync_recv(sp[0], &m, NULL, &e);
    check(r == 0 && m && m->stage == SYNC_PARENT_SETUP_DONE && m->len == 0 && m->data[0] == '\0',
          "an empty payload reads as \"\"");
    free(m), m = NULL;

    /* binary payload with NUL bytes inside */
    const char bin[] = {'a', 0, 'b', 0, (char)0xff};
    check(berth_sync_send(sp[0], SYNC_EXEC_PID, 1234, bin, sizeof(bin), -1, &e) == 0,
          "send a binary payload");
    r = berth_sync_expect(sp[1], SYNC_EXEC_PID, &m, NULL, &e);
    check(r == 0 && m && m->len == sizeof(bin) && !memcmp(m->data, bin, sizeof(bin)) &&
              m->code == 1234,
          "expect the right stage: binary payload intact, code as number");
    free(m), m = NULL;

    /* messages keep their boundaries */
    berth_sync_send(sp[0], SYNC_PRE_PIVOT, 1, "one", 3, -1, &e);
    berth_sync_send(sp[0], SYNC_READY, 2, "two!", 4, -1, &e);
    r = berth_sync_expect(sp[1], SYNC_PRE_PIVOT, &m, NULL, &e);
    check(r == 0 && m && m->len == 3 && !strcmp(m->data, "one"), "first of two queued messages");
    free(m), m = NULL;
    r = berth_sync_expect(sp[1], SYNC_READY, &m, NULL, &e);
    check(r == 0 && m && m->len == 4 && !strcmp(m->data, "two!"), "second of two queued messages");
    free(m), m = NULL;

    /* ret NULL: the message is dropped after the checks */
    berth_sync_send(sp[0], SYNC_START, 0, "x", 1, -1, &e);
    check(berth_sync_expect(sp[1], SYNC_START, NULL, NULL, &e) == 0, "expect with ret NULL");
    ok(e == NULL, "no error left behind");

    /* a payload larger than the bound is refused before anything is sent */
    size_t big = BERTH_SYNC_MAX_PAYLOAD + 1;
    char *buf = calloc(1, big);
    r = berth_sync_send(sp[0], SYNC_HOOKS_DONE, 0, buf, big, -1, &e);
    check(r == -EMSGSIZE && e && e->code == EMSGSIZE, "an oversized payload: EMSGSIZE");
    check(msg_is(e, "sync message too large"), "message");
    berth_error_freep(&e);
    check(socket_empty(sp[1]), "nothing was sent");

    /* the largest payload the protocol allows goes through */
    memset(buf, 'j', big);
    r = berth_sync_send(sp[0], SYNC_HOOKS_DONE, 0, buf, BERTH_SYNC_MAX_PAYLOAD, -1, &e);
    check(r == 0, "a payload of exactly BERTH_SYNC_MAX_PAYLOAD (%u) is sent",
          BERTH_SYNC_MAX_PAYLOAD);
    if (r < 0)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);
    if (r == 0) {
        r = berth_sync_expect(sp[1], SYNC_HOOKS_DONE, &m, NULL, &e);
        check(r == 0 && m && m->len == BERTH_SYNC_MAX_PAYLOAD && m->data[0] == 'j' &&
                  m->data[m->len - 1] == 'j' && m->data[m->len] == '\0',
              "and received whole");
        free(m), m = NULL;
        berth_error_freep(&e);
    }
    /* a payload of 100000 bytes (a large state JSON) fits the default socket buffer */
    r = berth_sync_send(sp[0], SYNC_HOOKS_DONE, 0, buf, 100000, -1, &e);
    check(r == 0, "a 100000-byte payload is sent");
    if (r == 0) {
        r = berth_sync_expect(sp[1], SYNC_HOOKS_DONE, &m, NULL, &e);
        check(r == 0 && m && m->len == 100000, "and received whole");
        free(m), m = NULL;
    }
    berth_error_freep(&e);
    free(buf);
    close(sp[0]);
    close(sp[1]);
}

static void
test_fd_passing(void)
{
    int sp[2], p[2];
    if (!seqpacket_pair(sp) || pipe2(p, O_CLOEXEC) < 0) {
        ok(false, "socketpair and pipe");
        return;
    }
    struct berth_error *e = NULL;
    struct berth_sync_msg *m = NULL;
    int fd = -1;

    check(berth_sync_send(sp[0], SYNC_CONSOLE, 0, "pty", 3, p[0], &e) == 0,
          "send a pipe's read end");
    close(p[0]); /* only the passed copy is left */
    int r = berth_sync_expect(sp[1], SYNC_CONSOLE, &m, &fd, &e);
    check(r == 0 && m && fd >= 0, "received with an fd");
    ok(m && m->len == 3 && !strcmp(m->data, "pty"), "the payload travels with the fd");
    free(m), m = NULL;
    int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
    ok(fl >= 0 && (fl & FD_CLOEXEC), "the received fd is close-on-exec");
    check(write(p[1], "through", 7) == 7, "write into the pipe");
    char buf[16] = "";
    check(fd >= 0 && read(fd, buf, sizeof(buf)) == 7 && !memcmp(buf, "through", 7),
          "read it back from the received fd");
    if (fd >= 0)
        close(fd);

    /* a passed fd is closed when the caller does not take it, or the stage is wrong */
    int before = count_fds();
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, p[1], &e);
    check(berth_sync_recv(sp[1], &m, NULL, &e) == 0, "recv with ret_fd NULL");
    free(m), m = NULL;
    ok(count_fds() == before, "the unwanted fd is closed");

    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, p[1], &e);
    fd = 12345;
    r = berth_sync_expect(sp[1], SYNC_READY, &m, &fd, &e);
    check(r == -EPROTO && e && e->code == EPROTO, "an fd with the wrong stage: EPROTO");
    ok(count_fds() == before, "the fd of the wrong message is closed");
    ok(m == NULL && fd == 12345, "outputs untouched on error");
    berth_error_freep(&e);

    /* the helpers directly: a zero-length message still carries the fd */
    check(berth_send_fd(sp[0], p[1], NULL, 0) == 0, "send_fd without data");
    char one;
    size_t got = 99;
    int rfd = berth_recv_fd(sp[1], &one, 1, &got);
    ok(rfd >= 0 && got == 1, "recv_fd gets the fd and the filler byte");
    if (rfd >= 0)
        close(rfd);
    close(p[1]);
    close(sp[0]);
    close(sp[1]);
}

static void
test_wrong_stage(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    struct berth_error *e = NULL;
    struct berth_sync_msg *m = NULL;
    berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e);
    int r = berth_sync_expect(sp[1], SYNC_PRE_PIVOT, &m, NULL, &e);
    check(r == -EPROTO && !m, "expect the wrong stage: -EPROTO");
    char want[64];
    snprintf(want, sizeof(want), "sync: expected stage %d, got %d", SYNC_PRE_PIVOT, SYNC_READY);
    check(msg_is(e, want), "the message names both stages");
    berth_error_freep(&e);

    /* a short message (less than a header) is an error, not a crash */
    check(send(sp[0], "abc", 3, 0) == 3, "send 3 raw bytes");
    r = berth_sync_recv(sp[1], &m, NULL, &e);
    check(r < 0 && !m && e, "a short message is refused");
    berth_error_freep(&e);

    /* a header claiming more payload than arrived: len is clamped to what came */
    struct {
        struct berth_sync_msg h;
        char d[4];
    } lie = {.h = {.stage = SYNC_READY, .code = 0, .len = 1000000}, .d = "abc"};
    check(send(sp[0], &lie, sizeof(lie.h) + 3, 0) == (ssize_t)(sizeof(lie.h) + 3),
          "send a lying header");
    r = berth_sync_recv(sp[1], &m, NULL, &e);
    check(r == 0 && m && m->len == 3 && !strcmp(m->data, "abc"),
          "len clamped to the bytes received");
    free(m), m = NULL;
    close(sp[0]);
    close(sp[1]);
}

static void
test_error_message(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    struct berth_error *e = NULL, *sent = NULL;
    struct berth_sync_msg *m = NULL;
    int fd = 77;

    berth_error_set(&sent, EACCES, "mount /proc");
    berth_sync_send_error(sp[0], sent);
    int r = berth_sync_recv(sp[1], &m, &fd, &e);
    check(r == -EACCES, "SYNC_ERROR: recv returns the child's -errno");
    ok(e && e->code == EACCES, "with the child's code");
    check(msg_is(e, "mount /proc: Permission denied"), "and the child's message, as it was");
    ok(!m && fd == 77, "no message handed out");
    berth_error_freep(&e);

    /* through expect, whatever stage was expected */
    berth_sync_send_error(sp[0], sent);
    r = berth_sync_expect(sp[1], SYNC_READY, &m, NULL, &e);
    check(r == -EACCES && msg_is(e, "mount /proc: Permission denied"),
          "expect turns SYNC_ERROR into the error, not EPROTO");
    berth_error_freep(&e);

    /* an existing error in the caller is kept (the first cause wins) */
    berth_error_setq(&e, EIO, "earlier");
    berth_sync_send_error(sp[0], sent);
    r = berth_sync_recv(sp[1], &m, NULL, &e);
    check(r == -EIO && msg_is(e, "earlier"), "an earlier error in *err is kept");
    berth_error_freep(&e);
    berth_error_freep(&sent);

    /* code 0 and no error object: EINVAL */
    berth_error_setq(&sent, 0, "plain failure");
    sent->code = 0;
    berth_sync_send_error(sp[0], sent);
    r = berth_sync_recv(sp[1], &m, NULL, &e);
    check(r == -EINVAL && msg_is(e, "plain failure"), "code 0 becomes EINVAL");
    berth_error_freep(&e);
    berth_error_freep(&sent);
    berth_sync_send_error(sp[0], NULL);
    r = berth_sync_recv(sp[1], &m, NULL, &e);
    check(r == -EINVAL && msg_is(e, "unknown error"), "send_error(NULL): \"unknown error\"");
    berth_error_freep(&e);

    /* a SYNC_ERROR carrying an fd does not leak it */
    int before = count_fds();
    berth_sync_send(sp[0], SYNC_ERROR, ENOSPC, "disk full", 9, 0, NULL);
    r = berth_sync_recv(sp[1], &m, &fd, &e);
    check(r == -ENOSPC && msg_is(e, "disk full"), "SYNC_ERROR sent by hand");
    ok(count_fds() == before, "the fd on a SYNC_ERROR is closed");
    berth_error_freep(&e);

    /* from a real child process, the way container init reports */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(sp[1]);
        struct berth_error *ce = NULL;
        berth_error_set(&ce, ENOENT, "exec \"/bin/nope\"");
        berth_sync_send_error(sp[0], ce);
        _exit(1);
    }
    r = berth_sync_expect(sp[1], SYNC_READY, &m, NULL, &e);
    check(r == -ENOENT && msg_is(e, "exec \"/bin/nope\": No such file or directory"),
          "an error from a child process");
    berth_error_freep(&e);
    waitpid(child, NULL, 0);
    close(sp[0]);
    close(sp[1]);
}

static void
test_peer_closed(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    struct berth_error *e = NULL;
    struct berth_sync_msg *m = NULL;
    int fd = 5;
    close(sp[0]);
    int r = berth_sync_recv(sp[1], &m, &fd, &e);
    check(r == -EPIPE && e && e->code == EPIPE, "peer closed: EPIPE");
    check(msg_is(e, "container init exited before it was set up"), "a clear message");
    ok(!m && fd == 5, "nothing handed out");
    berth_error_freep(&e);
    r = berth_sync_expect(sp[1], SYNC_READY, &m, NULL, &e);
    check(r == -EPIPE, "expect on a closed peer: EPIPE too");
    berth_error_freep(&e);

    /* sending to a closed peer: an error, no SIGPIPE */
    r = berth_sync_send(sp[1], SYNC_START, 0, NULL, 0, -1, &e);
    check(r == -EPIPE && e && e->code == EPIPE, "send to a closed peer: EPIPE, no SIGPIPE");
    berth_error_freep(&e);
    close(sp[1]);

    /* a child that exits without a word */
    if (!seqpacket_pair(sp))
        return;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    close(sp[0]);
    r = berth_sync_expect(sp[1], SYNC_READY, &m, NULL, &e);
    check(r == -EPIPE, "a child that dies without sending: EPIPE");
    berth_error_freep(&e);
    waitpid(child, NULL, 0);
    close(sp[1]);

    /* a bad socket: the system error */
    r = berth_sync_recv(-1, &m, NULL, &e);
    check(r == -EBADF && e && e->code == EBADF, "recv on a bad fd: EBADF");
    berth_error_freep(&e);
}

int
main(void)
{
    test_payload();
    test_fd_passing();
    test_wrong_stage();
    test_error_message();
    test_peer_closed();
    return tap_done();
}
