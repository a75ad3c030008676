/* bench/helper: process helpers for bench/runtime (built by it into its temp dir).
 *
 *   helper reap CMD [ARG...]
 *       Runs CMD as a child subreaper: orphans below it (a detached container's init once
 *       `create` has exited) are reparented here and reaped at once, so `state` sees them stop
 *       and `delete` can remove their cgroups. Exits with CMD's status.
 *
 *   helper rss OUT CMD [ARG...]
 *       Runs CMD under ptrace (only the process itself: its children are not traced) and, when it
 *       exits, writes "hwm=<KiB> maxrss=<KiB> status=<N>" to OUT:
 *         hwm    - VmHWM of CMD's own process, read from /proc/PID/status at its exit stop
 *                  (PTRACE_EVENT_EXIT, before the kernel drops its memory): the peak resident set
 *                  of the runtime process itself (of its last exec'd image);
 *         maxrss - wait4()'s ru_maxrss, what `/usr/bin/time -f %M` reports: the max over CMD
 *                  and every descendant it (or its reaped children) waited for.
 *       Exits with CMD's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 255;
}

static pid_t main_pid;

static void forward(int sig)
{
    if (main_pid > 0)
        kill(main_pid, sig);
}

static int reap(char **argv)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("helper: PR_SET_CHILD_SUBREAPER");
        return 125;
    }
    main_pid = fork();
    if (main_pid < 0) {
        perror("helper: fork");
        return 125;
    }
    if (main_pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "helper: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    /* stay until CMD has cleaned up: a terminal's ^C reaches CMD directly (same process group),
     * SIGTERM and SIGHUP are passed on */
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = forward;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int main_status = 0;
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD */
        }
        if (w == main_pid) {
            main_status = st;
            break;
        }
    }
    /* orphans still exiting: reap them for up to 2 s, then leave the rest to init */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, WNOHANG);
        if (w < 0 && errno != EINTR)
            break;
        if (w > 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= 2)
            break;
        usleep(10000);
    }
    return exit_code(main_status);
}

static long vm_hwm_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int rss(const char *out, char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("helper: fork");
        return 125;
    }
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
            _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "helper: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    /* the SIGTRAP stop after the first exec */
    if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st)) {
        fprintf(stderr, "helper: %s did not start\n", argv[0]);
        return 125;
    }
    ptrace(PTRACE_SETOPTIONS, pid, NULL,
           (void *) (long) (PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    long hwm = -1;
    for (;;) {
        pid_t w = wait4(pid, &st, 0, &ru);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            perror("helper: wait4");
            return 125;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st))
            break;
        if (!WIFSTOPPED(st))
            continue;
        int sig = 0;
        if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
            long v = vm_hwm_kib(pid);
            if (v > hwm)
                hwm = v;
        } else if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
            /* re-exec (e.g. from a sealed memfd copy): the new image starts from scratch */
        } else if (st >> 16 == 0) {
            sig = WSTOPSIG(st); /* an ordinary signal: deliver it */
        }
        ptrace(PTRACE_CONT, pid, NULL, (void *) (long) sig);
    }
    FILE *f = fopen(out, "we");
    if (!f) {
        perror(out);
        return 125;
    }
    fprintf(f, "hwm=%ld maxrss=%ld status=%d\n", hwm, ru.ru_maxrss, exit_code(st));
    fclose(f);
    return exit_code(st);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "reap") == 0)
        return reap(argv + 2);
    if (argc >= 4 && strcmp(argv[1], "rss") == 0)
        return rss(argv[2], argv + 3);
    fprintf(stderr, "usage: helper reap CMD [ARG...] | helper rss OUT CMD [ARG...]\n");
    return 2;
}
