/* berth-monitor's lifecycle: detach, "ready", "start", the runtime, the event loop (output to
 * the json-file log and attach clients, stdin, SIGCHLD), the drain, exit.json. See protocol.h. */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "monitor/monitor_internal.h"
#include "monitor/protocol.h"

#define CONSOLE_SOCK "console.sock"
/* after the exit: how long output is waited for when something else keeps the pipe open */
#define DRAIN_TIMEOUT_NS (1000LL * 1000 * 1000)
/* after exit.json: how long attach clients get to take what is queued for them */
#define CLOSE_TIMEOUT_NS (2000LL * 1000 * 1000)
#define OUTPUT_CHUNK (16 * 1024)

int
berth_monitor_config_check(const struct berth_monitor_config *c, struct berth_error **err)
{
    if (!c->id || !*c->id || strchr(c->id, '/'))
        return berth_error_setq(err, EINVAL, "--id is required (no '/')");
    if (!c->dir || !c->runtime || !c->runtime_root)
        return berth_error_setq(err, EINVAL, "--dir, --runtime and --runtime-root are required");
    if (!c->bundle == !c->exec_process)
        return berth_error_setq(err, EINVAL, "exactly one of --bundle and --exec-process");
    if (c->stdin_once && !c->stdin_open)
        return berth_error_setq(err, EINVAL, "--stdin-once needs --stdin");
    if (c->sync_fd < 3)
        return berth_error_setq(err, EINVAL, "--sync-fd must be 3 or more");
    if (c->log_max_size < 0)
        return berth_error_setq(err, EINVAL, "--log-max-size must not be negative");
    struct stat st;
    if (fstat(c->sync_fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return berth_error_setq(err, EBADF, "--sync-fd %d is not a socket", c->sync_fd);
    if (stat(c->dir, &st) < 0)
        return berth_error_set(err, errno, "--dir '%s'", c->dir);
    return 0;
}

/* ---- epoll ---- */

int
mon_epoll_set(struct monitor *m, int fd, uint64_t tag, uint32_t events, bool add)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    if (epoll_ctl(m->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (add && errno == EEXIST && epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return -errno;
}

void
mon_epoll_del(struct monitor *m, int fd)
{
    (void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- the sync channel ---- */

static void sync_send(struct monitor *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sync_send(struct monitor *m, const char *fmt, ...)
{
    if (m->sync_fd < 0)
        return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    /* berthd gone: the monitor goes on regardless */
    while (send(m->sync_fd, buf, (size_t)n, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static void
sync_close(struct monitor *m)
{
    if (m->sync_fd < 0)
        return;
    mon_epoll_del(m, m->sync_fd);
    close(m->sync_fd);
    m->sync_fd = -1;
}

/* ---- the end ---- */

static void
remove_sockets(struct monitor *m)
{
    (void)unlinkat(m->dirfd, BERTH_MONITOR_ATTACH_SOCK, 0);
    if (m->cfg->tty)
        (void)unlinkat(m->dirfd, CONSOLE_SOCK, 0);
}

static int
exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

static void
write_exit_file(struct monitor *m, bool oom)
{
    char when[48], json[256];
    berth_log_format_time(m->finished_ns, when, sizeof(when));
    int n = snprintf(json, sizeof(json),
                     "{\"ExitCode\":%d,\"OOMKilled\":%s,\"FinishedAt\":\"%s\",\"Pid\":%d}\n",
                     exit_code(m->status), oom ? "true" : "false", when, (int)m->pid);
    _cleanup_free_ char *path = NULL;
    struct berth_error *e = NULL;
    if (asprintf(&path, "%s/%s", m->cfg->dir, BERTH_MONITOR_EXIT_FILE) < 0 ||
        berth_write_file_atomic(path, json, (size_t)n, 0644, &e) < 0)
        berth_error_free(e); /* nobody to tell: berthd sees the file missing */
}

static void
close_output(struct monitor *m, int *fd)
{
    if (*fd < 0)
        return;
    mon_epoll_del(m, *fd);
    close(*fd);
    if (*fd == m->master)
        m->master = -1;
    *fd = -1;
}

/* Reads what a stream has now. Returns false at its end (EOF, or EIO from a pty without slave). */
static bool
read_output(struct monitor *m, int fd, int stream, int rounds)
{
    static char buf[OUTPUT_CHUNK];
    while (rounds-- > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return true;
        if (n <= 0)
            return false;
        if (m->log)
            berth_log_writer_output(m->log, stream, berth_log_now(), buf, (size_t)n);
        mon_broadcast(m, stream, buf, (size_t)n);
        if ((size_t)n < sizeof(buf))
            return true;
    }
    return true;
}

static void
output_event(struct monitor *m, int *fd, int stream)
{
    if (!read_output(m, *fd, stream, 4))
        close_output(m, fd);
}

/* The process exited and its output is in (or the wait is over): record it all and leave the
 * attach clients a moment to take what is queued. */
static void
finish(struct monitor *m)
{
    /* whatever the pipes still hold (a pipe holds 64 KiB, a pty less), then the ends: a leftover
     * writer keeps them open */
    if (m->out_fd >= 0)
        (void)read_output(m, m->out_fd, BERTH_LOG_STDOUT, 16);
    if (m->err_fd >= 0)
        (void)read_output(m, m->err_fd, BERTH_LOG_STDERR, 16);
    close_output(m, &m->out_fd);
    close_output(m, &m->err_fd);
    if (m->in_fd >= 0) {
        mon_epoll_del(m, m->in_fd);
        close(m->in_fd);
        m->in_fd = -1;
    }
    m->stdin_state = STDIN_CLOSED;
    berth_log_writer_close(m->log);
    m->log = NULL;
    bool oom = mon_read_oom(m->cfg->oom_file);
    /* berthd answers waiters on "exited", attached clients get their end once their output is
     * out; the runtime's state (cgroups, state dir) goes after both (see loop), and berthd
     * waits for this process to end before it starts the container again */
    write_exit_file(m, oom);
    sync_send(m, "exited");
    m->state = S_CLOSING;
    m->deadline_ns = berth_log_now() + CLOSE_TIMEOUT_NS;
    mon_clients_update(m);
}

/* ---- children ---- */

static void
process_exited(struct monitor *m, int status)
{
    m->status = status;
    m->finished_ns = berth_log_now();
    m->state = S_DRAINING;
    m->deadline_ns = m->finished_ns + DRAIN_TIMEOUT_NS;
}

static int
read_pid_file(struct monitor *m, pid_t *ret)
{
    char buf[32];
    _cleanup_close_ int fd = openat(m->dirfd, BERTH_MONITOR_PID_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -EINVAL;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    int64_t v;
    if (!berth_parse_i64(buf, &v) || v <= 0 || v > 0x7fffffff)
        return -EINVAL;
    *ret = (pid_t)v;
    return 0;
}

static void
reap(struct monitor *m)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p <= 0)
            return;
        if (p == m->pid && m->state == S_RUNNING)
            process_exited(m, status);
    }
}

/* The runtime failed, or the process could not be found: say so and end (no exit file). */
static int
fail_start(struct monitor *m, const char *msg)
{
    sync_send(m, "error %s", msg);
    sync_close(m);
    berth_log_writer_close(m->log);
    m->log = NULL;
    mon_clients_close(m);
    remove_sockets(m);
    return 1;
}

static int
runtime_exited(struct monitor *m, int status)
{
    m->runtime_pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        _cleanup_free_ char *msg = mon_runtime_error(m, status);
        return fail_start(m, msg ? msg : "runtime failed");
    }
    int r = read_pid_file(m, &m->pid);
    if (r == 0 && m->cfg->tty)
        r = mon_receive_console(m);
    if (r < 0) {
        /* it runs, but we cannot own it: take it down rather than leave it unmonitored */
        if (m->cfg->bundle)
            mon_runtime_delete(m);
        else if (m->pid > 0)
            kill(m->pid, SIGKILL);
        return fail_start(m, r == -ENOENT || r == -EINVAL ? "runtime wrote no pid file"
                                                          : "runtime sent no terminal");
    }
    if (m->cfg->tty) {
        m->out_fd = m->master;
        int fl = fcntl(m->master, F_GETFL);
        (void)fcntl(m->master, F_SETFL, fl | O_NONBLOCK);
        mon_apply_pending_resize(m);
        if (m->cfg->stdin_open) {
            m->in_fd = fcntl(m->master, F_DUPFD_CLOEXEC, 3);
            m->stdin_state = m->in_fd >= 0 ? STDIN_OPEN : STDIN_CLOSED;
        }
        mon_epoll_del(m, m->console_fd);
        close(m->console_fd);
        m->console_fd = -1;
        (void)unlinkat(m->dirfd, CONSOLE_SOCK, 0);
    }
    m->pidfd = berth_pidfd_open(m->pid, 0);
    if (m->pidfd >= 0 && mon_epoll_set(m, m->pidfd, TAG_PIDFD, EPOLLIN, true) < 0) {
        close(m->pidfd);
        m->pidfd = -1;
    }
    sync_send(m, "started %d", (int)m->pid);
    /* kept open for "exited", out of the loop: berthd going away is no event for us now */
    mon_epoll_del(m, m->sync_fd);
    m->state = S_RUNNING;
    if (m->out_fd >= 0)
        (void)mon_epoll_set(m, m->out_fd, TAG_STDOUT, EPOLLIN, true);
    if (m->err_fd >= 0)
        (void)mon_epoll_set(m, m->err_fd, TAG_STDERR, EPOLLIN, true);
    mon_clients_update(m);
    reap(m); /* it may be gone already */
    return -1;
}

/* "start": the stdio, then the runtime. */
static int
start(struct monitor *m)
{
    int child[3] = {-1, -1, -1};
    int r = 0;
    struct berth_error *e = NULL;
    if (!m->cfg->tty) {
        int p[2];
        for (int i = 1; i <= 2 && r == 0; i++) {
            if (pipe2(p, O_CLOEXEC) < 0) {
                r = berth_error_set(&e, errno, "pipe");
                break;
            }
            (void)fcntl(p[0], F_SETFL, O_NONBLOCK);
            *(i == 1 ? &m->out_fd : &m->err_fd) = p[0];
            child[i] = p[1];
        }
        if (r == 0 && m->cfg->stdin_open) {
            if (pipe2(p, O_CLOEXEC) < 0) {
                r = berth_error_set(&e, errno, "pipe");
            } else {
                (void)fcntl(p[1], F_SETFL, O_NONBLOCK);
                m->in_fd = p[1];
                child[0] = p[0];
                m->stdin_state = STDIN_OPEN;
            }
        }
    }
    if (r == 0 && m->cfg->log_path)
        r = berth_log_writer_open(m->cfg->log_path, m->cfg->log_max_size, m->cfg->log_max_file,
                                  &m->log, &e);
    if (r == 0)
        r = mon_spawn_runtime(m, child, &e);
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0)
            close(child[i]);
    if (r < 0) {
        berth_log_writer_close(m->log);
        m->log = NULL;
        int ret = fail_start(m, e->msg);
        berth_error_free(e);
        return ret;
    }
    m->state = S_RUNTIME;
    mon_clients_update(m);
    return -1;
}

/* ---- the loop ---- */

static int
sync_event(struct monitor *m)
{
    char buf[64];
    ssize_t n;
    do
        n = recv(m->sync_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN)
        return -1;
    if (n <= 0) { /* berthd gave up before the start: leave nothing behind */
        sync_close(m);
        mon_clients_close(m);
        remove_sockets(m);
        return 0;
    }
    buf[n] = '\0';
    if (strcmp(buf, "start") != 0)
        return -1; /* nothing else is defined: ignored */
    mon_epoll_del(m, m->sync_fd);
    return start(m);
}

/* Returns the monitor's exit status when it is done, -1 to go on. */
static int
dispatch(struct monitor *m, const struct epoll_event *ev)
{
    uint64_t tag = ev->data.u64;
    switch (tag) {
    case TAG_SIGNAL: {
        struct signalfd_siginfo si;
        while (read(m->sigfd, &si, sizeof(si)) > 0)
            ;
        if (m->state == S_RUNTIME) {
            int status;
            if (waitpid(m->runtime_pid, &status, WNOHANG) == m->runtime_pid)
                return runtime_exited(m, status);
            return -1;
        }
        reap(m);
        return -1;
    }
    case TAG_SYNC:
        return m->state == S_WAIT_START ? sync_event(m) : -1;
    case TAG_LISTEN:
        mon_accept(m);
        return -1;
    case TAG_PIDFD:
        reap(m);
        if (m->state == S_RUNNING) {
            /* not our child after all (it cannot be reaped here): its status is unknown */
            int status;
            if (waitpid(m->pid, &status, WNOHANG) < 0 && errno == ECHILD)
                process_exited(m, W_EXITCODE(255, 0));
        }
        mon_epoll_del(m, m->pidfd);
        close(m->pidfd);
        m->pidfd = -1;
        return -1;
    case TAG_STDOUT:
        output_event(m, &m->out_fd, BERTH_LOG_STDOUT);
        return -1;
    case TAG_STDERR:
        output_event(m, &m->err_fd, BERTH_LOG_STDERR);
        return -1;
    case TAG_STDIN:
        mon_stdin_writable(m);
        return -1;
    default:
        if (tag >= TAG_MAX)
            mon_client_event(m, (struct mon_client *)(uintptr_t)tag, ev->events);
        return -1;
    }
}

static int
loop(struct monitor *m)
{
    struct epoll_event evs[16];
    for (;;) {
        int timeout = -1;
        if (m->state == S_DRAINING && m->out_fd < 0 && m->err_fd < 0)
            finish(m);
        if (m->state == S_CLOSING && mon_clients_flushed(m))
            break;
        if (m->state == S_DRAINING || m->state == S_CLOSING) {
            int64_t left = m->deadline_ns - berth_log_now();
            if (left <= 0) {
                if (m->state == S_DRAINING) {
                    finish(m);
                    continue;
                }
                break;
            }
            timeout = (int)(left / 1000000) + 1;
        }
        int n = epoll_wait(m->epfd, evs, BERTH_ARRAY_SIZE(evs), timeout);
        if (n < 0 && errno != EINTR)
            return 1;
        for (int i = 0; i < n; i++) {
            /* a client freed by an earlier event of this round has no later event: epoll_ctl
             * DEL happens before free, and each fd appears at most once per epoll_wait */
            int r = dispatch(m, &evs[i]);
            if (r >= 0)
                return r;
        }
    }
    mon_clients_close(m);
    remove_sockets(m);
    if (m->cfg->bundle)
        mon_runtime_delete(m);
    sync_close(m);
    return 0;
}

/* ---- setup ---- */

static int
detach(struct berth_error **err)
{
    pid_t p = fork();
    if (p < 0)
        return berth_error_set(err, errno, "fork");
    if (p > 0)
        _exit(0);
    if (setsid() < 0)
        _exit(1);
    p = fork();
    if (p < 0)
        _exit(1);
    if (p > 0)
        _exit(0);
    if (chdir("/") < 0)
        _exit(1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        _exit(1);
    for (int i = 0; i < 3; i++)
        if (dup2(null, i) < 0)
            _exit(1);
    if (null > 2)
        close(null);
    umask(022);
    return 0;
}

static int
setup(struct monitor *m, struct berth_error **err)
{
    const struct berth_monitor_config *c = m->cfg;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return berth_error_set(err, errno, "PR_SET_CHILD_SUBREAPER");
    m->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->dirfd < 0)
        return berth_error_set(err, errno, "open '%s'", c->dir);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m->sigfd < 0 || m->epfd < 0)
        return berth_error_set(err, errno, "signalfd/epoll");
    int r;
    if ((r = mon_listen_unix(m, BERTH_MONITOR_ATTACH_SOCK, &m->listen_fd, err)) < 0)
        return r;
    if (c->tty && (r = mon_listen_unix(m, CONSOLE_SOCK, &m->console_fd, err)) < 0)
        return r;
    if (mon_epoll_set(m, m->sigfd, TAG_SIGNAL, EPOLLIN, true) < 0 ||
        mon_epoll_set(m, m->sync_fd, TAG_SYNC, EPOLLIN, true) < 0 ||
        mon_epoll_set(m, m->listen_fd, TAG_LISTEN, EPOLLIN, true) < 0)
        return berth_error_set(err, errno, "epoll");
    return 0;
}

int
berth_monitor_main(const struct berth_monitor_config *c, struct berth_error **err)
{
    /* small and steady: big buffers are mapped and unmapped, freed heap is given back */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024);
    mallopt(M_ARENA_MAX, 1);
    (void)fcntl(c->sync_fd, F_SETFD, FD_CLOEXEC);
    int r = detach(err);
    if (r < 0)
        return 1;
    struct monitor m = {
        .cfg = c,
        .dirfd = -1,
        .epfd = -1,
        .sigfd = -1,
        .sync_fd = c->sync_fd,
        .listen_fd = -1,
        .console_fd = -1,
        .out_fd = -1,
        .err_fd = -1,
        .in_fd = -1,
        .master = -1,
        .pidfd = -1,
        .state = S_WAIT_START,
        .stdin_state = c->stdin_open ? STDIN_PENDING : STDIN_NONE,
    };
    struct berth_error *e = NULL;
    if (setup(&m, &e) < 0) {
        sync_send(&m, "error %s", e->msg);
        berth_error_free(e);
        if (m.dirfd >= 0)
            remove_sockets(&m);
        return 1;
    }
    sync_send(&m, "ready %d", (int)getpid());
    return loop(&m);
}
