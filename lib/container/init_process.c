/* berth-init, tini's job: see init_process.h.
 *
 * Every signal but the ones the kernel sends synchronously for a fault (SEGV, BUS, ILL, FPE,
 * TRAP, SYS, ABRT) is blocked and taken with sigtimedwait(): SIGCHLD means "reap", anything else
 * is sent on to the command. As pid 1 of a pid namespace, the kernel drops signals for which pid
 * 1 has no handler; waiting for them with sigtimedwait receives them all. The command runs in its
 * own process group (the terminal's foreground group when stdin is a terminal, so ^C reaches
 * it), with the signal mask and dispositions of a fresh process. */
#include "container/init_process.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT};

static void
forwarded_set(sigset_t *set)
{
    sigfillset(set);
    for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
        sigdelset(set, fault_signals[i]);
}

static void __attribute__((noreturn)) exec_child(char *const *argv, const sigset_t *old_mask)
{
    /* a fresh process: default dispositions, the mask init had before it blocked everything */
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    if (setpgid(0, 0) == 0 && isatty(STDIN_FILENO)) {
        signal(SIGTTOU, SIG_IGN);
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    execvp(argv[0], argv);
    int e = errno;
    fprintf(stderr, "berth-init: exec %s failed: %s\n", argv[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

/* Reaps every child that has exited; records the command's status. */
static void
reap_all(pid_t child, int *child_status, int *child_done)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p <= 0)
            return;
        if (p == child) {
            *child_status = status;
            *child_done = 1;
        }
    }
}

int
berth_init_run(char *const *argv, struct berth_error **err)
{
    sigset_t set, old;
    if (!argv || !argv[0])
        return berth_error_setq(err, EINVAL, "no command to run");
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return berth_error_set(err, errno, "become a child subreaper");
    forwarded_set(&set);
    if (sigprocmask(SIG_SETMASK, &set, &old) < 0)
        return berth_error_set(err, errno, "block signals");
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        return berth_error_set(err, e, "fork");
    }
    if (child == 0)
        exec_child(argv, &old);

    int status = 0, done = 0;
    while (!done) {
        siginfo_t si;
        struct timespec tick = {1, 0}; /* a missed SIGCHLD cannot stall reaping for long */
        int sig = sigtimedwait(&set, &si, &tick);
        if (sig < 0) {
            if (errno == EAGAIN)
                reap_all(child, &status, &done);
            continue;
        }
        if (sig == SIGCHLD) {
            reap_all(child, &status, &done);
            continue;
        }
        /* the command may already be gone (a zombie not yet reaped): ESRCH is fine */
        if (kill(child, sig) < 0 && errno != ESRCH)
            fprintf(stderr, "berth-init: forward signal %d: %s\n", sig, strerror(errno));
    }
    /* what else exited by now is reaped too; orphans still running die with the namespace */
    reap_all(child, &status, &done);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return (128 + WTERMSIG(status)) & 0xff;
    return 1;
}
