#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"

/* The most output of a failing hook quoted in the error message. */
#define HOOK_OUTPUT_MAX 512

static int
run_one(const struct berth_spec_hook *h, const char *kind, const char *state_json,
        struct berth_error **err)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "%s hook %s: pipe", kind, h->path);
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]), close(in[1]);
        return berth_error_set(err, errno, "%s hook %s: pipe", kind, h->path);
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return berth_error_set(err, e, "%s hook %s: fork", kind, h->path);
    }
    if (pid == 0) {
        setpgid(0, 0); /* a timeout kills the hook and whatever it started */
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        berth_close_range(3, ~0U, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        char *argv0[] = {h->path, NULL};
        char *empty_env[] = {NULL};
        execve(h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : empty_env);
        dprintf(1, "exec: %s", strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* the hook may not read its stdin: a full pipe must not block us */
    signal(SIGPIPE, SIG_IGN);
    int fl = fcntl(in[1], F_GETFL);
    fcntl(in[1], F_SETFL, fl | O_NONBLOCK);
    size_t json_len = strlen(state_json), written = 0;
    char output[HOOK_OUTPUT_MAX + 1];
    size_t out_len = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0, timed_out = 0;
    int pidfd = berth_pidfd_open(pid, 0);
    for (;;) {
        struct pollfd p[3] = {{.fd = written < json_len ? in[1] : -1, .events = POLLOUT},
                              {.fd = out[0], .events = POLLIN},
                              {.fd = pidfd, .events = POLLIN}};
        int timeout_ms = -1;
        if (h->timeout > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long elapsed =
                (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            timeout_ms = (int)(h->timeout * 1000L - elapsed);
            if (timeout_ms <= 0) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                timed_out = 1;
                break;
            }
        }
        if (pidfd < 0 && timeout_ms < 0)
            timeout_ms = 50;
        else if (pidfd < 0 && timeout_ms > 50)
            timeout_ms = 50;
        int n = poll(p, 3, timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
            ssize_t w = write(in[1], state_json + written, json_len - written);
            if (w > 0)
                written += (size_t)w;
            if (w < 0 && errno != EAGAIN)
                written = json_len;
            if (written >= json_len) {
                close(in[1]);
                in[1] = -1;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            char buf[512];
            ssize_t r = read(out[0], buf, sizeof(buf));
            if (r > 0) {
                size_t take = (size_t)r;
                if (take > HOOK_OUTPUT_MAX - out_len)
                    take = HOOK_OUTPUT_MAX - out_len;
                memcpy(output + out_len, buf, take);
                out_len += take;
            } else if (r == 0) {
                close(out[0]);
                out[0] = -1;
            }
        }
        if ((pidfd >= 0 && (p[2].revents & POLLIN)) ||
            (pidfd < 0 && waitpid(pid, &status, WNOHANG) == pid)) {
            if (pidfd >= 0)
                waitpid(pid, &status, 0);
            pid = -1;
            break;
        }
    }
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (pidfd >= 0)
        close(pidfd);
    if (in[1] >= 0)
        close(in[1]);
    if (out[0] >= 0) {
        /* collect what is left after the hook exited; a process it left behind may hold the
         * pipe open, so never block here */
        fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
        ssize_t r;
        while (out_len < HOOK_OUTPUT_MAX &&
               (r = read(out[0], output + out_len, HOOK_OUTPUT_MAX - out_len)) > 0)
            out_len += (size_t)r;
        close(out[0]);
    }
    output[out_len] = '\0';
    while (out_len && (output[out_len - 1] == '\n' || output[out_len - 1] == '\r'))
        output[--out_len] = '\0';
    if (timed_out)
        return berth_error_setq(err, ETIMEDOUT, "%s hook %s: timed out after %d s", kind, h->path,
                                h->timeout);
    if (WIFSIGNALED(status))
        return berth_error_setq(err, ECANCELED, "%s hook %s: killed by signal %d%s%s", kind,
                                h->path, WTERMSIG(status), out_len ? ": " : "", output);
    if (WEXITSTATUS(status) != 0)
        return berth_error_setq(err, ECANCELED, "%s hook %s: exit status %d%s%s", kind, h->path,
                                WEXITSTATUS(status), out_len ? ": " : "", output);
    return 0;
}

int
berth_hooks_run(const struct berth_spec *spec, enum berth_hook_kind kind, const char *state_json,
                struct berth_error **err)
{
    for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
        int r = run_one(&spec->hooks[kind][i], berth_hook_kind_name(kind), state_json, err);
        if (r < 0)
            return r;
    }
    return 0;
}
