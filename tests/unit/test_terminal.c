/* Unit tests of lib/runtime/terminal.c: berth_terminal_setup in a forked child that is a session
 * leader (its stdio become the pty slave, the window size is set, the master comes back over a
 * socketpair), the error without a session, handing a master to a --console-socket listener,
 * and the parent's wait for SYNC_READY with a fake peer (consoles, the wrong stage, an error).
 * Uses the host's /dev/ptmx; bind_console is 0, so nothing is mounted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-terminal-XXXXXX";

/* The pty number behind a master fd; -1 if fd is not a pty master. */
static int
pty_number(int fd)
{
    unsigned int n = 0;
    if (fd < 0 || ioctl(fd, TIOCGPTN, &n) < 0)
        return -1;
    return (int)n;
}

/* A fresh pty master (the host's /dev/ptmx), unlocked. */
static int
new_master(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m >= 0 && unlockpt(m) < 0) {
        close(m);
        return -1;
    }
    return m;
}

/* Reads from fd until want appears or 2 s pass; returns whether it did. */
static bool
read_until(int fd, const char *want, char *buf, size_t len)
{
    size_t have = 0;
    buf[0] = '\0';
    for (int i = 0; i < 40 && !strstr(buf, want); i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(fd, buf + have, len - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
    }
    return strstr(buf, want) != NULL;
}

/* ---- berth_terminal_setup ---- */

struct setup_case {
    unsigned int rows, cols;
};

/* In the child: a new session, the pty set up, checks on our own stdio; the master goes to the
 * parent over sock; then echo one line from stdin and wait for the parent's "bye". */
static void
child_setup(int sock, const struct setup_case *c)
{
    ccheck(setsid() > 0, "setsid");
    int before = count_fds();
    int master = -1;
    struct berth_error *e = NULL;
    int r = berth_terminal_setup(c->rows, c->cols, 0, &master, &e);
    ccheck(r == 0 && master > 2, "berth_terminal_setup: a master fd (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    if (r < 0)
        return;
    ccheck(count_fds() == before + 1, "one new fd (the master); the slave is only on 0, 1, 2");
    int fdfl = fcntl(master, F_GETFD);
    ccheck(fdfl >= 0 && (fdfl & FD_CLOEXEC), "the master is close-on-exec");
    ccheck(isatty(0) && isatty(1) && isatty(2), "stdin, stdout and stderr are terminals");
    const char *tty = ttyname(0);
    char want[64] = "";
    ptsname_r(master, want, sizeof(want));
    ccheck(tty && !strcmp(tty, want), "ttyname(0) is the master's slave (%s, %s)", tty ? tty : "-",
           want);
    ccheck(berth_str_has_prefix(want, "/dev/pts/"), "a /dev/pts device");
    struct stat s0, s1, s2;
    ccheck(fstat(0, &s0) == 0 && fstat(1, &s1) == 0 && fstat(2, &s2) == 0 &&
               s0.st_rdev == s1.st_rdev && s1.st_rdev == s2.st_rdev && S_ISCHR(s0.st_mode),
           "all three are the same character device");
    int fl0 = fcntl(0, F_GETFD);
    ccheck(fl0 >= 0 && !(fl0 & FD_CLOEXEC), "stdio is not close-on-exec");
    ccheck(tcgetsid(0) == getsid(0), "it is our controlling terminal");
    ccheck(tcgetpgrp(0) == getpgrp(), "we are its foreground process group");
    struct winsize ws = {0};
    ccheck(ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row == c->rows && ws.ws_col == c->cols,
           "window size %ux%u (got %ux%u)", c->rows, c->cols, ws.ws_row, ws.ws_col);
    ccheck(berth_send_fd(sock, master, "m", 1) == 0, "master sent over the socketpair");
    close(master);

    /* what we write on stdout appears on the master; a line typed there is our stdin */
    const char hello[] = "hello from the slave\n";
    ccheck(write(1, hello, sizeof(hello) - 1) == (ssize_t)sizeof(hello) - 1, "write stdout");
    char line[128] = "";
    ssize_t n = read(0, line, sizeof(line) - 1);
    if (n > 0)
        line[n] = '\0';
    ccheck(n > 0 && !strcmp(line, "typed on the master\n"), "stdin reads the typed line ('%s')",
           line);
    char bye[8];
    ccheck(read(sock, bye, sizeof(bye)) == 3, "the parent's bye");
}

static void
test_setup(const struct setup_case *c)
{
    char what[64];
    snprintf(what, sizeof(what), "setup %ux%u", c->rows, c->cols);
    int sp[2], rp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(rp, O_CLOEXEC) < 0) {
        ok(false, "socketpair and pipe");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        close(rp[0]);
        report_fd = rp[1];
        child_setup(sp[1], c);
        _exit(0);
    }
    close(sp[1]);
    close(rp[1]);
    char data[8] = "";
    size_t got = 0;
    struct pollfd pf = {.fd = sp[0], .events = POLLIN};
    int master = poll(&pf, 1, 3000) == 1 ? berth_recv_fd(sp[0], data, sizeof(data), &got) : -1;
    ok(master >= 0 && got == 1 && data[0] == 'm', "%s: the master arrives with berth_recv_fd",
       what);
    int ptn = pty_number(master);
    ok(ptn >= 0, "%s: it is a pty master (pts/%d)", what, ptn);
    char buf[512];
    bool seen = master >= 0 && read_until(master, "hello from the slave\r\n", buf, sizeof(buf));
    ok(seen, "%s: the child's stdout is readable on the master (onlcr: \\r\\n)", what);
    const char typed[] = "typed on the master\n";
    check(master >= 0 && berth_write_all(master, typed, sizeof(typed) - 1) == 0,
          "%s: type a line on the master", what);
    seen = master >= 0 && read_until(master, "typed on the master\r\n", buf, sizeof(buf));
    ok(seen, "%s: the terminal echoes it", what);
    check(write(sp[0], "bye", 3) == 3, "%s: bye", what);
    relay_reports(what, rp[0]);
    reap(what, pid);
    if (master >= 0)
        close(master);
    close(sp[0]);
}

/* Without setsid() the pty cannot become the controlling terminal: an error, nothing leaks, and
 * stdio is left alone. */
static void
child_no_session(const void *arg)
{
    (void)arg;
    struct stat before0, after0;
    fstat(0, &before0);
    int before = count_fds();
    int master = -1;
    struct berth_error *e = NULL;
    int r = berth_terminal_setup(24, 80, 0, &master, &e);
    ccheck(r == -EPERM && e && e->code == EPERM, "not a session leader: EPERM (%d)", r);
    ccheck(e && e->msg && !strcmp(e->msg, "set controlling terminal: Operation not permitted"),
           "message '%s'", e && e->msg ? e->msg : "(none)");
    ccheck(master == -1, "no master handed out");
    ccheck(count_fds() == before, "no fd leaked (master and slave closed)");
    ccheck(fstat(0, &after0) == 0 && after0.st_ino == before0.st_ino &&
               after0.st_dev == before0.st_dev,
           "stdin untouched");
    berth_error_freep(&e);
}

static void
test_no_session(void)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0) {
        ok(false, "pipe");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(rp[0]);
        report_fd = rp[1];
        /* a process group leader of its own, but not a session leader */
        setpgid(0, 0);
        child_no_session(NULL);
        _exit(0);
    }
    close(rp[1]);
    relay_reports("no session", rp[0]);
    reap("no session", pid);
}

/* ---- --console-socket ---- */

static int
listen_unix(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 4) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* Accepts one connection on l and receives the fd sent on it; name gets the message body. */
static int
accept_fd(int l, char *name, size_t len)
{
    struct pollfd p = {.fd = l, .events = POLLIN};
    if (poll(&p, 1, 2000) != 1)
        return -ETIMEDOUT;
    _cleanup_close_ int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return -errno;
    size_t got = 0;
    int fd = berth_recv_fd(c, name, len - 1, &got);
    name[fd >= 0 ? got : 0] = '\0';
    return fd;
}

static void
test_console_socket(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/console.sock", tmp);
    _cleanup_close_ int l = listen_unix(path);
    check(l >= 0, "a listening unix socket");
    _cleanup_close_ int m = new_master();
    check(m >= 0, "a pty master of our own");
    struct berth_error *e = NULL;
    int r = berth_terminal_send_to_socket(path, m, &e);
    check(r == 0, "send_to_socket");
    berth_error_freep(&e);
    char name[128], want[64] = "";
    ptsname_r(m, want, sizeof(want));
    int fd = accept_fd(l, name, sizeof(name));
    ok(fd >= 0, "the receiver gets an fd");
    is_str(name, want, "with the pty's name as the message (runc's way)");
    check(pty_number(fd) >= 0 && pty_number(fd) == pty_number(m),
          "it is the same pty master (pts/%d)", pty_number(m));
    int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
    ok(fl >= 0 && (fl & FD_CLOEXEC), "close-on-exec on receipt");
    /* the same open file: the slave's output reads back on the received fd */
    _cleanup_close_ int slave = open(want, O_RDWR | O_NOCTTY | O_CLOEXEC);
    check(slave >= 0 && write(slave, "ping\n", 5) == 5, "write on the slave");
    char buf[128];
    bool seen = fd >= 0 && read_until(fd, "ping\r\n", buf, sizeof(buf));
    ok(seen, "and read it on the received master");
    if (fd >= 0)
        close(fd);

    /* failures */
    char nope[128];
    snprintf(nope, sizeof(nope), "%s/nobody.sock", tmp);
    r = berth_terminal_send_to_socket(nope, m, &e);
    char want_msg[256];
    snprintf(want_msg, sizeof(want_msg), "connect to console socket %s: No such file or directory",
             nope);
    check(r == -ENOENT && msg_is(e, want_msg), "no socket at the path: ENOENT");
    berth_error_freep(&e);
    char longp[200];
    memset(longp, 'x', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    r = berth_terminal_send_to_socket(longp, m, &e);
    check(r == -ENAMETOOLONG && e && e->msg &&
              berth_str_has_prefix(e->msg, "console socket path too long: /xxx"),
          "a path longer than sun_path: ENAMETOOLONG");
    berth_error_freep(&e);
    /* a socket nobody accepts on any more */
    close(l);
    l = -1;
    r = berth_terminal_send_to_socket(path, m, &e);
    check(r == -ECONNREFUSED, "a socket file without a listener: ECONNREFUSED");
    berth_error_freep(&e);
    unlink(path);
}

/* ---- berth_terminal_wait_ready ---- */

static void
test_wait_ready(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    struct berth_error *e = NULL;
    _cleanup_close_ int m1 = new_master();
    _cleanup_close_ int m2 = new_master();
    int base = count_fds();

    /* SYNC_CONSOLE with an fd, then SYNC_READY */
    check(berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m1, &e) == 0, "peer: SYNC_CONSOLE");
    check(berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e) == 0, "peer: SYNC_READY");
    int master = -1;
    int r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == 0, "wait_ready returns at SYNC_READY");
    check(master >= 0 && pty_number(master) == pty_number(m1), "*ret_master is the peer's master");
    berth_error_freep(&e);

    /* two consoles: the second replaces the first, which is closed */
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m1, &e);
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m2, &e);
    berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == 0 && pty_number(master) == pty_number(m2), "a second console replaces the first");
    check(count_fds() == base + 1, "the replaced masters are closed (one fd held)");
    close(master);
    master = -1;

    /* no console at all: READY alone leaves *ret_master alone */
    berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == 0 && master == -1, "READY without a console: *ret_master stays -1");

    /* the wrong stage */
    berth_sync_send(sp[0], SYNC_PRE_PIVOT, 0, NULL, 0, -1, &e);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == -EPROTO && e && e->code == EPROTO, "an unexpected stage: EPROTO");
    char want[64];
    snprintf(want, sizeof(want), "sync: unexpected stage %d", SYNC_PRE_PIVOT);
    check(msg_is(e, want), "the message names the stage");
    berth_error_freep(&e);

    /* an unexpected stage carrying an fd: EPROTO and the fd is closed */
    berth_sync_send(sp[0], SYNC_HOOKS_DONE, 0, NULL, 0, m1, &e);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == -EPROTO && master == -1, "an fd on the wrong stage: EPROTO");
    check(count_fds() == base, "and that fd is closed");
    berth_error_freep(&e);

    /* SYNC_CONSOLE without an fd is not a console */
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, -1, &e);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    snprintf(want, sizeof(want), "sync: unexpected stage %d", SYNC_CONSOLE);
    check(r == -EPROTO && msg_is(e, want), "SYNC_CONSOLE without an fd: EPROTO");
    berth_error_freep(&e);

    /* the child's error, after a console */
    struct berth_error *sent = NULL;
    berth_error_set(&sent, EACCES, "open /dev/ptmx in the container");
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m1, &e);
    berth_sync_send_error(sp[0], sent);
    berth_error_freep(&sent);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == -EACCES && e && e->code == EACCES, "SYNC_ERROR: the child's errno");
    check(msg_is(e, "open /dev/ptmx in the container: Permission denied"),
          "and the child's message");
    ok(master >= 0, "the console that came first was handed over (the caller closes it)");
    berth_error_freep(&e);
    if (master >= 0)
        close(master);
    master = -1;

    /* the peer goes away */
    close(sp[0]);
    r = berth_terminal_wait_ready(sp[1], NULL, &master, &e);
    check(r == -EPIPE, "the peer closed before READY: EPIPE");
    berth_error_freep(&e);
    close(sp[1]);
    check(count_fds() == base - 2, "no fd left behind");
}

static void
test_wait_ready_console_socket(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/wait.sock", tmp);
    _cleanup_close_ int l = listen_unix(path);
    _cleanup_close_ int m = new_master();
    struct berth_error *e = NULL;
    int base = count_fds();
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m, &e);
    berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e);
    int master = -1;
    int r = berth_terminal_wait_ready(sp[1], path, &master, &e);
    check(r == 0, "wait_ready with a console socket");
    ok(master == -1, "the master goes to the socket, not to *ret_master");
    check(count_fds() == base, "our copy is closed");
    char name[128], want[64] = "";
    ptsname_r(m, want, sizeof(want));
    int fd = accept_fd(l, name, sizeof(name));
    check(fd >= 0 && pty_number(fd) == pty_number(m), "the listener received the pty master");
    is_str(name, want, "named by its slave");
    if (fd >= 0)
        close(fd);
    berth_error_freep(&e);

    /* a console socket that is not there: the error of send_to_socket */
    char nope[128];
    snprintf(nope, sizeof(nope), "%s/gone.sock", tmp);
    berth_sync_send(sp[0], SYNC_CONSOLE, 0, NULL, 0, m, &e);
    berth_sync_send(sp[0], SYNC_READY, 0, NULL, 0, -1, &e);
    r = berth_terminal_wait_ready(sp[1], nope, &master, &e);
    check(r == -ENOENT && e && e->msg && strstr(e->msg, "connect to console socket"),
          "console socket missing: ENOENT from connect");
    check(count_fds() == base, "the received master is closed on that error");
    berth_error_freep(&e);
    close(sp[0]);
    close(sp[1]);
    unlink(path);
}

/* The whole path as create runs it: a child sets up its terminal and sends SYNC_CONSOLE and
 * SYNC_READY; the parent's wait_ready takes the master and talks to the child through it. */
static void
test_end_to_end(void)
{
    int sp[2];
    if (!seqpacket_pair(sp)) {
        ok(false, "socketpair");
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        struct berth_error *e = NULL;
        int master = -1;
        if (setsid() < 0 || berth_terminal_setup(30, 100, 0, &master, &e) < 0) {
            berth_sync_send_error(sp[1], e);
            _exit(1);
        }
        berth_sync_send(sp[1], SYNC_CONSOLE, 0, NULL, 0, master, NULL);
        close(master);
        berth_sync_send(sp[1], SYNC_READY, 0, NULL, 0, -1, NULL);
        struct winsize ws = {0};
        ioctl(0, TIOCGWINSZ, &ws);
        printf("size %ux%u\n", ws.ws_row, ws.ws_col);
        fflush(stdout);
        char c;
        (void)!read(sp[1], &c, 1); /* until the parent is done */
        _exit(0);
    }
    close(sp[1]);
    struct berth_error *e = NULL;
    int master = -1;
    int r = berth_terminal_wait_ready(sp[0], NULL, &master, &e);
    check(r == 0 && master >= 0, "end to end: wait_ready gets the child's master (%s)",
          e ? e->msg : "ok");
    berth_error_freep(&e);
    char buf[256];
    bool seen = master >= 0 && read_until(master, "size 30x100\r\n", buf, sizeof(buf));
    ok(seen, "the child's printf arrives through the pty, with its window size");
    close(sp[0]);
    reap("end to end", pid);
    if (master >= 0)
        close(master);
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    _cleanup_close_ int probe = new_master();
    if (probe < 0) {
        ok(true, "# skip: no usable /dev/ptmx here (%s)", strerror(errno));
        rmdir(tmp);
        return tap_done();
    }
    close(probe);
    probe = -1;
    int fds = count_fds();
    test_setup(&(struct setup_case){24, 80});
    test_setup(&(struct setup_case){0, 0});
    test_no_session();
    test_console_socket();
    test_wait_ready();
    test_wait_ready_console_socket();
    test_end_to_end();
    check(count_fds() == fds, "no fd leaked in the test process (%d)", count_fds());
    tmpdir_remove(tmp, "temp dir removed");
    return tap_done();
}
