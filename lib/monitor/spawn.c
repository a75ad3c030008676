/* The monitor's runtime invocations: `run --detach` / `exec --detach` with the process's stdio,
 * the runtime's error line, `delete --force`, the pty master from the console socket, and the
 * OOM flag. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "monitor/monitor_internal.h"
#include "monitor/protocol.h"
#include "runtime/sync.h"

#define CONSOLE_SOCK "console.sock"
#define DELETE_TIMEOUT_MS 10000
#define RUNTIME_LOG_TAIL (64 * 1024)

extern char **environ;

/* Starts argv with stdio[0..2] as its fd 0..2 (-1: keep ours, /dev/null), default signals. */
static int
spawn(char **argv, const int stdio[3], pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    for (int i = 0; i < 3; i++)
        if (stdio && stdio[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, stdio[i], i);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int r = posix_spawn(ret_pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return -r;
}

static char *
dir_path(const struct monitor *m, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", m->cfg->dir, name) < 0)
        return NULL;
    return p;
}

int
mon_spawn_runtime(struct monitor *m, int stdio[3], struct berth_error **err)
{
    const struct berth_monitor_config *c = m->cfg;
    _cleanup_free_ char *log = dir_path(m, BERTH_MONITOR_RUNTIME_LOG);
    _cleanup_free_ char *pidf = dir_path(m, BERTH_MONITOR_PID_FILE);
    _cleanup_free_ char *console = dir_path(m, CONSOLE_SOCK);
    if (!log || !pidf || !console)
        return berth_error_set(err, ENOMEM, "spawn the runtime");
    if (unlinkat(m->dirfd, BERTH_MONITOR_PID_FILE, 0) < 0 && errno != ENOENT)
        return berth_error_set(err, errno, "remove the old pid file");
    struct stat st;
    m->runtime_log_off = fstatat(m->dirfd, BERTH_MONITOR_RUNTIME_LOG, &st, 0) == 0 ? st.st_size : 0;
    const char *argv[24];
    size_t n = 0;
    argv[n++] = c->runtime;
    argv[n++] = "--root";
    argv[n++] = c->runtime_root;
    argv[n++] = "--log";
    argv[n++] = log;
    argv[n++] = "--log-format";
    argv[n++] = "json";
    if (c->bundle) {
        argv[n++] = "run";
        argv[n++] = "--detach";
        argv[n++] = "--bundle";
        argv[n++] = c->bundle;
    } else {
        argv[n++] = "exec";
        argv[n++] = "--detach";
        argv[n++] = "--process";
        argv[n++] = c->exec_process;
    }
    argv[n++] = "--pid-file";
    argv[n++] = pidf;
    if (c->tty) {
        argv[n++] = "--console-socket";
        argv[n++] = console;
        if (!c->bundle)
            argv[n++] = "--tty";
    }
    argv[n++] = c->id;
    argv[n] = NULL;
    int r = spawn((char **)argv, stdio, &m->runtime_pid);
    if (r < 0)
        return berth_error_set(err, -r, "run %s", c->runtime);
    return 0;
}

char *
mon_runtime_error(struct monitor *m, int status)
{
    char *msg = NULL;
    _cleanup_close_ int fd =
        openat(m->dirfd, BERTH_MONITOR_RUNTIME_LOG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > m->runtime_log_off) {
        int64_t from = m->runtime_log_off;
        if (st.st_size - from > RUNTIME_LOG_TAIL)
            from = st.st_size - RUNTIME_LOG_TAIL;
        size_t len = (size_t)(st.st_size - from);
        _cleanup_free_ char *buf = malloc(len + 1);
        ssize_t got = buf ? pread(fd, buf, len, from) : -1;
        if (got > 0) {
            buf[got] = '\0';
            /* the last line with "level":"error" wins */
            for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                    *next++ = '\0';
                json_t *j = json_loads(line, 0, NULL);
                const char *level = json_string_value(json_object_get(j, "level"));
                const char *text = json_string_value(json_object_get(j, "msg"));
                if (level && text && !strcmp(level, "error")) {
                    free(msg);
                    msg = strdup(text);
                }
                json_decref(j);
            }
        }
    }
    if (msg)
        return msg;
    char *s = NULL;
    int r = WIFSIGNALED(status)
                ? asprintf(&s, "runtime killed by signal %d", WTERMSIG(status))
                : asprintf(&s, "runtime exited with status %d", WEXITSTATUS(status));
    return r < 0 ? strdup("runtime failed") : s;
}

/* Waits for pid at most timeout_ms (then kills it); its wait status, or -1. */
static int
wait_bounded(pid_t pid, int timeout_ms)
{
    _cleanup_close_ int pidfd = berth_pidfd_open(pid, 0);
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int r;
        do
            r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            kill(pid, SIGKILL);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

void
mon_runtime_delete(struct monitor *m)
{
    const struct berth_monitor_config *c = m->cfg;
    _cleanup_free_ char *log = dir_path(m, BERTH_MONITOR_RUNTIME_LOG);
    if (!log)
        return;
    const char *argv[] = {c->runtime, "--root", c->runtime_root, "--log", log, "--log-format",
                          "json",     "delete", "--force",       c->id,   NULL};
    pid_t pid;
    if (spawn((char **)argv, NULL, &pid) == 0)
        (void)wait_bounded(pid, DELETE_TIMEOUT_MS);
}

int
mon_receive_console(struct monitor *m)
{
    if (m->console_fd < 0)
        return -EBADF;
    /* the runtime connected and sent the master before it exited: it is in the backlog */
    _cleanup_close_ int conn = accept4(m->console_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0)
        return -errno;
    char name[256];
    int fd = berth_recv_fd(conn, name, sizeof(name) - 1, NULL);
    if (fd < 0)
        return fd == -EPIPE ? -ENOTTY : fd;
    m->master = fd;
    return 0;
}

bool
mon_read_oom(const char *path)
{
    if (!path)
        return false;
    char *text = NULL;
    size_t len = 0;
    struct berth_error *e = NULL;
    if (berth_read_file(path, 64 * 1024, &text, &len, &e) < 0) {
        berth_error_free(e);
        return false;
    }
    bool oom = false;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (berth_str_has_prefix(line, "oom_kill ")) {
            uint64_t v;
            if (berth_parse_u64(line + 9, &v) && v > 0)
                oom = true;
        }
        line = next;
    }
    free(text);
    return oom;
}
