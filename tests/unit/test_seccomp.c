/* Unit tests of lib/runtime/seccomp.c: filters are built from parsed specs and loaded in a
 * forked child (after PR_SET_NO_NEW_PRIVS), which probes raw syscalls and reports through its
 * exit status; the parent checks the status or the killing signal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "tap.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS */
#endif

/* exit codes of the child besides the probe's own */
#define CHILD_LOAD_FAILED 100
#define CHILD_NNP_FAILED 101

/* Builds a filter from a linux.seccomp object written with single quotes. */
static int
build_q(const char *seccomp_q, struct berth_seccomp_filter **ret, struct berth_error **err)
{
    _cleanup_free_ char *json = NULL;
    if (asprintf(&json,
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/r\"},"
                 " \"linux\": {\"seccomp\": %s}}",
                 seccomp_q) < 0)
        abort();
    for (char *p = json; *p; p++)
        if (*p == '\'')
            *p = '"';
    _cleanup_spec_ struct berth_spec *spec = NULL;
    int r = berth_spec_parse(json, strlen(json), NULL, &spec, err);
    if (r < 0)
        return r;
    return berth_seccomp_build(spec->linux_.seccomp, ret, err);
}

/* Syscall results as a probe sees them: the return value, or -errno. */
static long
sys(long nr, long a, long b, long c)
{
    long r = syscall(nr, a, b, c);
    return r < 0 ? -errno : r;
}

typedef int (*probe_fn)(int notify_fd);

/* Ends a filtered child with the raw syscall: the sanitizers' _exit() interceptor makes
 * syscalls (sigaltstack, munmap) that an allowlist profile denies. */
static void __attribute__((noreturn)) child_exit(int code)
{
    for (;;)
        syscall(SYS_exit_group, code);
}

/* Runs probe in a child under the filter; returns the wait status. */
static int
run_filtered(struct berth_seccomp_filter *f, probe_fn probe)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(20);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(CHILD_NNP_FAILED);
        int nfd = -1;
        struct berth_error *err = NULL;
        if (berth_seccomp_load(f, &nfd, &err) < 0) {
            fprintf(stderr, "# child: %s\n", err->msg);
            _exit(CHILD_LOAD_FAILED);
        }
        child_exit(probe(nfd));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static bool
exited(int status, int code)
{
    if (!WIFEXITED(status) || WEXITSTATUS(status) != code) {
        if (WIFEXITED(status))
            printf("#   child exited %d, expected %d\n", WEXITSTATUS(status), code);
        else if (WIFSIGNALED(status))
            printf("#   child killed by signal %d, expected exit %d\n", WTERMSIG(status), code);
        return false;
    }
    return true;
}

static bool
killed_by(int status, int sig)
{
    if (!WIFSIGNALED(status) || WTERMSIG(status) != sig) {
        printf("#   status 0x%x, expected death by signal %d\n", (unsigned)status, sig);
        return false;
    }
    return true;
}

/* Builds, runs probe under the filter and checks that it exited 0. */
static void
check(const char *seccomp_q, probe_fn probe, const char *what)
{
    struct berth_seccomp_filter *f = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = build_q(seccomp_q, &f, &err);
    if (r < 0) {
        ok(false, "%s (build: %s)", what, err ? err->msg : "?");
        return;
    }
    int status = run_filtered(f, probe);
    bool good = exited(status, 0); /* ok() evaluates its condition twice */
    ok(good, "%s", what);
    berth_seccomp_free(f);
}

/* ---- probes: 0 means as expected, anything else names the step that differed ---- */

static int
probe_getcwd_eperm(int nfd)
{
    char buf[256];
    if (sys(SYS_getcwd, (long)buf, sizeof(buf), 0) != -EPERM)
        return 1;
    if (sys(SYS_getppid, 0, 0, 0) <= 0) /* anything else is still allowed */
        return 2;
    return 0;
}

static int
probe_uname_errno_ret(int nfd)
{
    char buf[512];
    if (sys(SYS_uname, (long)buf, 0, 0) != -ENOSYS)
        return 1;
    if (sys(SYS_getcwd, (long)buf, sizeof(buf), 0) != -EACCES)
        return 2;
    return sys(SYS_getppid, 0, 0, 0) > 0 ? 0 : 3;
}

static int
probe_getppid(int nfd)
{
    sys(SYS_getppid, 0, 0, 0);
    return 0; /* must not get here when the action kills */
}

static volatile sig_atomic_t trapped_nr = -1;

static void
on_sigsys(int sig, siginfo_t *info, void *uctx)
{
    trapped_nr = info->si_code == SYS_SECCOMP ? info->si_syscall : -2;
}

static int
probe_trap(int nfd)
{
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    sigaction(SIGSYS, &sa, NULL);
    sys(SYS_getppid, 0, 0, 0);
    return trapped_nr == SYS_getppid ? 0 : 1;
}

static int
probe_trace_no_tracer(int nfd)
{
    /* SECCOMP_RET_TRACE without a tracer: the syscall fails with ENOSYS */
    return sys(SYS_getppid, 0, 0, 0) == -ENOSYS ? 0 : 1;
}

static int
probe_log(int nfd)
{
    return sys(SYS_getppid, 0, 0, 0) == getppid() ? 0 : 1;
}

static int
probe_personality_query_only(int nfd)
{
    if (sys(SYS_personality, 0xffffffff, 0, 0) < 0)
        return 1;
    if (sys(SYS_personality, PER_LINUX32, 0, 0) != -EPERM)
        return 2;
    if (sys(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0) != -EPERM)
        return 3;
    return 0;
}

static int
probe_personality_masked(int nfd)
{
    if (sys(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0) != -EPERM)
        return 1;
    if (sys(SYS_personality, ADDR_NO_RANDOMIZE | PER_LINUX32, 0, 0) != -EPERM)
        return 2;
    if (sys(SYS_personality, PER_LINUX, 0, 0) < 0)
        return 3;
    if (sys(SYS_personality, 0xffffffff, 0, 0) != -EPERM) /* all bits: matches the mask */
        return 4;
    return 0;
}

/* Docker-style allowlist: default ERRNO, personality allowed for some values (one index,
 * several conditions: OR, as runc splits them). */
static int
probe_personality_or(int nfd)
{
    if (sys(SYS_personality, 0xffffffff, 0, 0) < 0)
        return 1;
    if (sys(SYS_personality, PER_LINUX, 0, 0) < 0)
        return 2;
    if (sys(SYS_personality, PER_LINUX32, 0, 0) < 0)
        return 3;
    if (sys(SYS_personality, ADDR_NO_RANDOMIZE, 0, 0) != -EPERM)
        return 4;
    if (sys(SYS_getppid, 0, 0, 0) != -EPERM)
        return 5;
    return 0;
}

/* close(fd) on fds that are not open: EBADF from the kernel, EPERM from the filter */
static int
close_result(long fd)
{
    long r = sys(SYS_close, fd, 0, 0);
    return r == -EPERM ? 1 : r == -EBADF ? 0 : 2;
}

static int expect_ops[3]; /* for fds 999, 1000, 1001 */

static int
probe_close_ops(int nfd)
{
    for (int i = 0; i < 3; i++)
        if (close_result(999 + i) != expect_ops[i])
            return 1 + i;
    return 0;
}

static int
probe_and(int nfd)
{
    /* getpriority(PRIO_PROCESS, 12345) denied; other pairs reach the kernel */
    if (sys(SYS_getpriority, 0, 12345, 0) != -EPERM)
        return 1;
    if (sys(SYS_getpriority, 0, 0, 0) < 0)
        return 2;
    if (sys(SYS_getpriority, 1, 12345, 0) == -EPERM)
        return 3;
    return 0;
}

static int
probe_clone3_enosys(int nfd)
{
    if (sys(SYS_clone3, 0, 0, 0) != -ENOSYS)
        return 1;
    if (sys(SYS_getppid, 0, 0, 0) != -EPERM)
        return 2;
    return 0;
}

static int
probe_clone3_kernel(int nfd)
{
    /* allowed by the profile: the kernel itself refuses a NULL/0 argument */
    long r = sys(SYS_clone3, 0, 0, 0);
    if (r == -ENOSYS || r == -EPERM || r >= 0)
        return 1;
    return 0;
}

static int
probe_clone3_eperm(int nfd)
{
    return sys(SYS_clone3, 0, 0, 0) == -EPERM ? 0 : 1;
}

static int
probe_default_enosys(int nfd)
{
    if (sys(SYS_getppid, 0, 0, 0) != -ENOSYS || sys(SYS_clone3, 0, 0, 0) != -ENOSYS)
        return 1;
    return 0;
}

static int
probe_notify_fd(int nfd)
{
    if (nfd < 0)
        return 1;
    if (fcntl(nfd, F_GETFD) != FD_CLOEXEC)
        return 2;
    return 0;
}

static int
probe_no_notify_fd(int nfd)
{
    return nfd == -1 ? 0 : 1;
}

static void
test_actions(void)
{
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_getcwd_eperm, "ERRNO without errnoRet returns EPERM; default allow");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['uname'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},"
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13}]}",
          probe_uname_errno_ret, "errnoRet is returned (ENOSYS, EACCES)");
    check("{'defaultAction': 'SCMP_ACT_LOG', 'syscalls': ["
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_getcwd_eperm, "default SCMP_ACT_LOG lets syscalls run");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getppid'], 'action': 'SCMP_ACT_TRAP'}]}",
          probe_trap, "TRAP delivers SIGSYS with si_syscall");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getppid'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 5}]}",
          probe_trace_no_tracer, "TRACE with errnoRet as the trace value; no tracer: ENOSYS");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getppid'], 'action': 'SCMP_ACT_LOG'}]}",
          probe_log, "LOG runs the syscall");

    static const struct {
        const char *action;
    } kills[] = {{"SCMP_ACT_KILL_PROCESS"}, {"SCMP_ACT_KILL"}, {"SCMP_ACT_KILL_THREAD"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(kills); i++) {
        _cleanup_free_ char *q = NULL;
        struct berth_seccomp_filter *f = NULL;
        _cleanup_error_ struct berth_error *err = NULL;
        if (asprintf(&q,
                     "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                     " {'names': ['getppid'], 'action': '%s'}]}",
                     kills[i].action) < 0)
            abort();
        int r = build_q(q, &f, &err);
        int status = r == 0 ? run_filtered(f, probe_getppid) : -1;
        bool good = r == 0 && killed_by(status, SIGSYS);
        ok(good, "%s kills the child with SIGSYS", kills[i].action);
        berth_seccomp_free(f);
    }
}

static void
test_args(void)
{
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO',"
          "  'args': [{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_NE'}]}]}",
          probe_personality_query_only, "SCMP_CMP_NE: personality(0xffffffff) allowed, others not");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO',"
          "  'args': [{'index': 0, 'value': 262144, 'valueTwo': 262144,"
          "            'op': 'SCMP_CMP_MASKED_EQ'}]}]}",
          probe_personality_masked, "SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the result");
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['exit_group', 'exit'], 'action': 'SCMP_ACT_ALLOW'},"
          " {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
          "  'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
          "           {'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'},"
          "           {'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]}]}",
          probe_personality_or, "same index repeated: conditions split into OR'ed rules");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO',"
          "  'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
          "           {'index': 1, 'value': 12345, 'op': 'SCMP_CMP_EQ'}]}]}",
          probe_and, "different indexes: conditions AND'ed in one rule");

    static const struct {
        const char *op;
        int expect[3]; /* close(999), close(1000), close(1001): 1 = denied */
    } ops[] = {
        {"SCMP_CMP_EQ", {0, 1, 0}}, {"SCMP_CMP_NE", {1, 0, 1}}, {"SCMP_CMP_LT", {1, 0, 0}},
        {"SCMP_CMP_LE", {1, 1, 0}}, {"SCMP_CMP_GT", {0, 0, 1}}, {"SCMP_CMP_GE", {0, 1, 1}},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(ops); i++) {
        _cleanup_free_ char *q = NULL;
        if (asprintf(&q,
                     "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
                     " {'names': ['close'], 'action': 'SCMP_ACT_ERRNO',"
                     "  'args': [{'index': 0, 'value': 1000, 'op': '%s'}]}]}",
                     ops[i].op) < 0)
            abort();
        memcpy(expect_ops, ops[i].expect, sizeof(expect_ops));
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "%s 1000 on close(999/1000/1001)", ops[i].op) < 0)
            abort();
        check(q, probe_close_ops, what);
    }
}

static void
test_clone3(void)
{
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['exit_group', 'exit'], 'action': 'SCMP_ACT_ALLOW'}]}",
          probe_clone3_enosys, "errno default, clone3 not in the profile: clone3 gets ENOSYS");
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['exit_group', 'exit', 'clone3'], 'action': 'SCMP_ACT_ALLOW'}]}",
          probe_clone3_kernel, "clone3 allowed by the profile reaches the kernel");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['clone3'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_clone3_eperm, "clone3 named by the profile keeps the profile's errno");
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'syscalls': ["
          " {'names': ['exit_group', 'exit'], 'action': 'SCMP_ACT_ALLOW'}]}",
          probe_default_enosys, "defaultErrnoRet is used for the default action");
}

static void
test_skips(void)
{
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['no_such_syscall_berth', 'getcwd', 'also_not_a_syscall'],"
          "  'action': 'SCMP_ACT_ERRNO'}]}",
          probe_getcwd_eperm, "unknown syscall names are skipped, known ones kept");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getppid', 'uname'], 'action': 'SCMP_ACT_ALLOW'},"
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}",
          probe_getcwd_eperm, "rules with the default action are skipped (errnoRet 1 is EPERM)");
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
          " {'names': ['exit_group', 'exit', 'clone3'], 'action': 'SCMP_ACT_ALLOW'}]}",
          probe_clone3_kernel, "ERRNO rule equal to ERRNO(EPERM) default is skipped");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64',"
          " 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],"
          " 'syscalls': [{'names': ['getcwd', 'socketcall'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_getcwd_eperm, "several architectures (native included)");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC',"
          " 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], 'syscalls': ["
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_getcwd_eperm, "flags TSYNC and LOG; WAIT_KILLABLE_RECV dropped without notify");
    if (berth_seccomp_flag_supported("SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
        check("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],"
              " 'syscalls': [{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]}",
              probe_getcwd_eperm, "flag SPEC_ALLOW");
    else
        ok(true, "# SKIP SPEC_ALLOW unsupported by this kernel");
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]}",
          probe_no_notify_fd, "no notify rule: notify fd is -1");
}

static const struct {
    const char *seccomp;
    const char *expect;
} build_errors[] = {
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_VAX']}",
     "unknown architecture \"SCMP_ARCH_VAX\""},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['x86_64']}",
     "unknown architecture \"x86_64\""},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_']}",
     "unknown architecture"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_BOGUS']}",
     "unsupported flag \"SECCOMP_FILTER_FLAG_BOGUS\""},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_NEW_LISTENER']}",
     "unsupported flag"},
    {"{'defaultAction': 'SCMP_ACT_NOTIFY'}", "SCMP_ACT_NOTIFY cannot be the default action"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}",
     "only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
     " {'names': ['getcwd'], 'action': 'SCMP_ACT_KILL', 'errnoRet': 1}]}",
     "syscalls[0]: an errno return code is only valid"},
    {"{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
     " {'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 65536}]}",
     "errno return code 65536 is out of range"},
};

static void
test_build_errors(void)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(build_errors); i++) {
        struct berth_seccomp_filter *f = NULL;
        struct berth_error *err = NULL;
        int r = build_q(build_errors[i].seccomp, &f, &err);
        bool good = r == -EINVAL && !f && err && strstr(err->msg, build_errors[i].expect);
        ok(good, "build refused: %s", build_errors[i].expect);
        if (!good)
            printf("#   got r=%d: %s\n", r, err ? err->msg : "(none)");
        berth_seccomp_free(f);
        berth_error_free(err);
    }
}

/* ---- notify: the child sends its listener fd to our socket, then calls getppid(), which
 * blocks until we answer it with 4242 ---- */

static char listener_path[108];

static int
probe_notify_roundtrip(int nfd)
{
    struct berth_error *err = NULL;
    if (nfd < 0)
        return 1;
    if (berth_seccomp_send_listener(listener_path, nfd, "{\"ociVersion\":\"1.0.2\"}", &err) < 0)
        return 2;
    close(nfd);
    return sys(SYS_getppid, 0, 0, 0) == 4242 ? 0 : 3;
}

static int
recv_fd(int sock, char *buf, size_t len, int *ret_fd)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.b,
                         .msg_controllen = sizeof(control.b)};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
    return 0;
}

static void
test_notify(void)
{
    if (seccomp_api_get() < 5) {
        ok(true, "# SKIP libseccomp/kernel without user notification");
        return;
    }
    struct berth_seccomp_filter *f = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = build_q("{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', 'syscalls': ["
                    " {'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                    &f, &err);
    ok(r == 0, "filter with a NOTIFY rule builds");
    if (r < 0)
        return;
    bool good = exited(run_filtered(f, probe_notify_fd), 0);
    ok(good, "NOTIFY: load returns a CLOEXEC notify fd");

    char dir[] = "/tmp/berth-test-seccomp-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(false, "mkdtemp");
        berth_seccomp_free(f);
        return;
    }
    snprintf(listener_path, sizeof(listener_path), "%s/listener.sock", dir);
    _cleanup_close_ int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, listener_path, strlen(listener_path) + 1);
    r = bind(ls, (struct sockaddr *)&addr, sizeof(addr));
    if (r == 0)
        r = listen(ls, 1);
    ok(r == 0, "listener socket");

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int nfd = -1;
        struct berth_error *cerr = NULL;
        alarm(20);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(f, &nfd, &cerr) < 0)
            _exit(CHILD_LOAD_FAILED);
        child_exit(probe_notify_roundtrip(nfd));
    }
    struct pollfd pfd = {.fd = ls, .events = POLLIN};
    _cleanup_close_ int conn = -1, nfd = -1;
    char buf[256] = "";
    bool got = poll(&pfd, 1, 10000) == 1 && (conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) >= 0 &&
               recv_fd(conn, buf, sizeof(buf), &nfd) == 0;
    ok(got && nfd >= 0, "listener receives the notify fd over SCM_RIGHTS");
    is_str(buf, "{\"ociVersion\":\"1.0.2\"}", "listener receives the state JSON");

    bool answered = false;
    if (got) {
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;
        pfd = (struct pollfd){.fd = nfd, .events = POLLIN};
        if (seccomp_notify_alloc(&req, &resp) == 0 && poll(&pfd, 1, 10000) == 1 &&
            seccomp_notify_receive(nfd, req) == 0) {
            answered = req->data.nr == SYS_getppid && req->pid == (__u32)pid;
            resp->id = req->id;
            resp->val = 4242;
            resp->error = 0;
            resp->flags = 0;
            answered = seccomp_notify_respond(nfd, resp) == 0 && answered;
        }
        seccomp_notify_free(req, resp);
    }
    ok(answered, "supervisor receives getppid from the child and answers it");
    int status = 0;
    if (!got)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    good = exited(status, 0);
    ok(good, "the child sees the supervisor's answer (4242)");
    unlink(listener_path);
    rmdir(dir);

    /* TSYNC together with a listener needs TSYNC_ESRCH: the load must still work */
    berth_seccomp_free(f);
    f = NULL;
    r = build_q("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC',"
                " 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], 'syscalls': ["
                " {'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
                &f, &err);
    if (r == 0 && berth_seccomp_flag_supported("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")) {
        good = exited(run_filtered(f, probe_notify_fd), 0);
        ok(good, "NOTIFY with TSYNC and WAIT_KILLABLE_RECV");
    } else
        ok(r == 0, "# SKIP WAIT_KILLABLE_RECV unsupported by this kernel");
    berth_seccomp_free(f);
}

static void
test_send_listener_errors(void)
{
    struct berth_error *err = NULL;
    int r = berth_seccomp_send_listener("/nonexistent/berth/listener.sock", 0, "{}", &err);
    ok(r == -ENOENT && err && strstr(err->msg, "/nonexistent/berth/listener.sock"),
       "send to a missing listener: ENOENT naming the path");
    berth_error_free(err);
    err = NULL;
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    r = berth_seccomp_send_listener(longp, 0, "{}", &err);
    ok(r == -ENAMETOOLONG, "listener path longer than sun_path");
    berth_error_free(err);
    err = NULL;
    r = berth_seccomp_send_listener("", 0, "{}", &err);
    ok(r == -EINVAL, "empty listener path");
    berth_error_free(err);
}

static bool
list_has(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (!strcmp(*list, name))
            return true;
    return false;
}

static void
test_features(void)
{
    ok(list_has(berth_seccomp_known_actions(), "SCMP_ACT_KILL_PROCESS") &&
           list_has(berth_seccomp_known_actions(), "SCMP_ACT_NOTIFY") &&
           !list_has(berth_seccomp_known_actions(), "SCMP_ACT_DENY"),
       "known actions");
    ok(list_has(berth_seccomp_known_operators(), "SCMP_CMP_MASKED_EQ") &&
           list_has(berth_seccomp_known_operators(), "SCMP_CMP_NE"),
       "known operators");
    ok(list_has(berth_seccomp_known_archs(), "SCMP_ARCH_X86_64") &&
           list_has(berth_seccomp_known_archs(), "SCMP_ARCH_AARCH64") &&
           list_has(berth_seccomp_known_archs(), "SCMP_ARCH_S390X"),
       "known architectures");
    ok(list_has(berth_seccomp_known_flags(), "SECCOMP_FILTER_FLAG_TSYNC") &&
           list_has(berth_seccomp_known_flags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
       "known flags");
    ok(berth_seccomp_flag_supported("SECCOMP_FILTER_FLAG_TSYNC") &&
           berth_seccomp_flag_supported("SECCOMP_FILTER_FLAG_LOG"),
       "TSYNC and LOG supported by the kernel");
    ok(!berth_seccomp_flag_supported("SECCOMP_FILTER_FLAG_BOGUS"), "unknown flag unsupported");
    /* every listed architecture is known to build; those of the other byte order are refused
     * with that reason */
    bool all = true;
    for (const char *const *a = berth_seccomp_known_archs(); *a; a++) {
        _cleanup_free_ char *q = NULL;
        struct berth_seccomp_filter *f = NULL;
        if (asprintf(&q, "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['%s']}", *a) < 0)
            abort();
        struct berth_error *err = NULL;
        if (build_q(q, &f, &err) < 0 && !strstr(err->msg, "another byte order")) {
            printf("#   architecture %s refused: %s\n", *a, err->msg);
            all = false;
        }
        berth_error_free(err);
        berth_seccomp_free(f);
    }
    ok(all, "every known architecture builds (or differs in byte order)");
    struct berth_seccomp_filter *f = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = build_q("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64',"
                    " 'SCMP_ARCH_S390X']}",
                    &f, &err);
    ok(r == -EINVAL && err && strstr(err->msg, "SCMP_ARCH_S390X has another byte order"),
       "mixing byte orders is refused with the reason");
    berth_seccomp_free(f);
}

/* The Docker default profile's shape: errno default, a large allowlist, argument rules. */
static void
test_docker_like(void)
{
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
          " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
          " 'syscalls': ["
          "  {'names': ['accept', 'access', 'brk', 'close', 'exit', 'exit_group', 'getcwd',"
          "             'read', 'write', 'mmap', 'futex', 'landlock_create_ruleset',"
          "             'some_future_syscall'], 'action': 'SCMP_ACT_ALLOW'},"
          "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
          "   'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'}]},"
          "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
          "   'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}]},"
          "  {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
          "   'args': [{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
          "  {'names': ['clone'], 'action': 'SCMP_ACT_ALLOW',"
          "   'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0,"
          "             'op': 'SCMP_CMP_MASKED_EQ'}]},"
          "  {'names': ['clone3'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}]}",
          probe_clone3_enosys, "Docker-like profile: clone3 ENOSYS as written, others EPERM");
}

int
main(void)
{
    test_actions();
    test_args();
    test_clone3();
    test_skips();
    test_build_errors();
    test_notify();
    test_send_listener_errors();
    test_features();
    test_docker_like();
    return tap_done();
}
