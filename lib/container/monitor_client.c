/* berthd's side of the monitor contract (lib/monitor/protocol.h): spawning a monitor, the
 * start handshake, attach and resize connections, and reading exit.json. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/monitor_client.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "monitor/protocol.h"

extern char **environ;

/* One SEQPACKET message, waiting at most timeout_ms. */
static int
sync_recv(int fd, char *buf, size_t len, int timeout_ms, struct berth_error **err)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return berth_error_set(err, ETIMEDOUT, "the container monitor did not answer");
    ssize_t n;
    do
        n = recv(fd, buf, len - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_error_set(err, errno, "read from the container monitor");
    if (n == 0)
        return berth_error_set(err, EPIPE, "the container monitor exited unexpectedly");
    buf[n] = '\0';
    return 0;
}

int
berth_monitor_spawn(const struct berth_monitor_args *a, struct berth_monitor_handle *h,
                    struct berth_error **err)
{
    h->sync_fd = -1;
    h->monitor_pid = -1;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return berth_error_set(err, errno, "socketpair");
    _cleanup_strv_ char **argv = NULL;
    char sizebuf[32], filebuf[16];
    snprintf(sizebuf, sizeof(sizebuf), "%lld", (long long)a->log_max_size);
    snprintf(filebuf, sizeof(filebuf), "%u", a->log_max_file);
    int r = 0;
    const char *base[] = {
        a->monitor_path, "--id",           a->id,           "--dir",     a->dir, "--runtime",
        a->runtime_path, "--runtime-root", a->runtime_root, "--sync-fd", "3"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(base); i++)
        r |= berth_strv_push(&argv, base[i]);
    if (a->bundle)
        r |= berth_strv_push(&argv, "--bundle") | berth_strv_push(&argv, a->bundle);
    if (a->exec_process)
        r |= berth_strv_push(&argv, "--exec-process") | berth_strv_push(&argv, a->exec_process);
    if (a->log_path)
        r |= berth_strv_push(&argv, "--log-path") | berth_strv_push(&argv, a->log_path) |
             berth_strv_push(&argv, "--log-max-size") | berth_strv_push(&argv, sizebuf) |
             berth_strv_push(&argv, "--log-max-file") | berth_strv_push(&argv, filebuf);
    if (a->tty)
        r |= berth_strv_push(&argv, "--tty");
    if (a->open_stdin)
        r |= berth_strv_push(&argv, "--stdin");
    if (a->stdin_once)
        r |= berth_strv_push(&argv, "--stdin-once");
    if (a->oom_file)
        r |= berth_strv_push(&argv, "--oom-file") | berth_strv_push(&argv, a->oom_file);
    if (r < 0) {
        close(sp[0]), close(sp[1]);
        return berth_error_set(err, ENOMEM, "monitor arguments");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sp[1], 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    pid_t child;
    r = posix_spawn(&child, a->monitor_path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sp[1]);
    if (r != 0) {
        close(sp[0]);
        return berth_error_set(err, r, "run the container monitor %s", a->monitor_path);
    }
    h->sync_fd = sp[0];
    char buf[512];
    r = sync_recv(h->sync_fd, buf, sizeof(buf), 10000, err);
    /* the monitor forked itself away: its first process exits at once */
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        close(h->sync_fd);
        h->sync_fd = -1;
        return r;
    }
    int64_t pid = 0;
    if (!berth_str_has_prefix(buf, "ready ") || !berth_parse_i64(buf + 6, &pid)) {
        close(h->sync_fd);
        h->sync_fd = -1;
        return berth_error_set(err, EPROTO, "the container monitor said \"%s\"", buf);
    }
    h->monitor_pid = (int)pid;
    return 0;
}

int
berth_monitor_go(struct berth_monitor_handle *h, int *ret_pid, struct berth_error **err)
{
    if (send(h->sync_fd, "start", 5, MSG_NOSIGNAL) < 0)
        return berth_error_set(err, errno, "tell the container monitor to start");
    char buf[4096];
    int r = sync_recv(h->sync_fd, buf, sizeof(buf), 60000, err);
    int64_t pid = 0;
    if (r == 0 && berth_str_has_prefix(buf, "started ") && berth_parse_i64(buf + 8, &pid)) {
        *ret_pid = (int)pid;
        return 0;
    }
    close(h->sync_fd);
    h->sync_fd = -1;
    if (r < 0)
        return r;
    if (berth_str_has_prefix(buf, "error "))
        return berth_error_setq(err, EIO, "%s", buf + 6);
    return berth_error_set(err, EPROTO, "the container monitor said \"%s\"", buf);
}

void
berth_monitor_abandon(struct berth_monitor_handle *h)
{
    if (h->sync_fd >= 0)
        close(h->sync_fd); /* EOF before "start": the monitor cleans up and exits */
    h->sync_fd = -1;
}

bool
berth_monitor_sync_exited(int sync_fd)
{
    char buf[64];
    ssize_t n;
    do
        n = recv(sync_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno != EAGAIN;
    buf[n] = '\0';
    return n == 0 || !strcmp(buf, "exited");
}

static int
connect_line(const char *dir, const char *line, int *ret_fd, struct berth_error **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* the path may be long: connect through the directory's /proc/self/fd entry */
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berth_error_set(err, errno, "open %s", dir);
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd,
                     BERTH_MONITOR_ATTACH_SOCK);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return berth_error_set(err, ENAMETOOLONG, "attach socket path");
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_error_set(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return berth_error_set(err, errno, "connect to the container monitor");
    if (berth_write_all(fd, line, strlen(line)) < 0)
        return berth_error_set(err, errno, "write to the container monitor");
    /* the answer: "ok\n" or "error ...\n", read byte by byte so nothing after it is taken */
    char buf[512];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (len < sizeof(buf) - 1) {
        int pr = poll(&p, 1, 10000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return berth_error_set(err, ETIMEDOUT, "the container monitor did not answer");
        ssize_t rn = read(fd, buf + len, 1);
        if (rn < 0 && errno == EINTR)
            continue;
        if (rn <= 0)
            return berth_error_set(err, EPIPE, "the container monitor closed the connection");
        if (buf[len] == '\n')
            break;
        len++;
    }
    buf[len] = '\0';
    if (strcmp(buf, "ok"))
        return berth_error_set(err, EIO, "container monitor: %s",
                               berth_str_has_prefix(buf, "error ") ? buf + 6 : buf);
    *ret_fd = TAKE_FD(fd);
    return 0;
}

int
berth_monitor_attach_connect(const char *run_dir, bool in, bool out, bool err_stream, int *ret_fd,
                             struct berth_error **err)
{
    char line[64];
    snprintf(line, sizeof(line), "attach %d %d %d\n", in, out, err_stream);
    return connect_line(run_dir, line, ret_fd, err);
}

int
berth_monitor_resize(const char *run_dir, unsigned rows, unsigned cols, struct berth_error **err)
{
    char line[64];
    snprintf(line, sizeof(line), "resize %u %u\n", rows, cols);
    int fd = -1;
    int r = connect_line(run_dir, line, &fd, err);
    if (fd >= 0)
        close(fd);
    return r;
}

int
berth_monitor_read_exit(const char *run_dir, struct berth_monitor_exit *ex,
                        struct berth_error **err)
{
    _cleanup_free_ char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/%s", run_dir, BERTH_MONITOR_EXIT_FILE) < 0)
        return berth_error_set(err, ENOMEM, "exit file");
    int r = berth_read_file(path, 64 * 1024, &text, NULL, err);
    if (r < 0)
        return r;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        return berth_error_set(err, EINVAL, "%s: %s", path, je.text);
    int code = 0, pid = 0, oom = 0;
    const char *finished = NULL;
    r = json_unpack_ex(j, &je, 0, "{s:i, s?b, s?s, s?i}", "ExitCode", &code, "OOMKilled", &oom,
                       "FinishedAt", &finished, "Pid", &pid);
    if (r < 0) {
        json_decref(j);
        return berth_error_set(err, EINVAL, "%s: %s", path, je.text);
    }
    ex->exit_code = code;
    ex->oom_killed = oom;
    ex->pid = pid;
    ex->finished_ns = 0;
    if (finished)
        (void)berth_parse_rfc3339(finished, &ex->finished_ns);
    json_decref(j);
    return 0;
}
