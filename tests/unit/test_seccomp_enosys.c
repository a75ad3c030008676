/* Unit tests of the ENOSYS prologue of lib/runtime/seccomp.c: with an errno default action, a
 * syscall numbered above every syscall the profile names answers ENOSYS (so a libc falls back),
 * while an unnamed syscall below that maximum keeps the default errno. Each case loads the
 * filter in a forked child (after PR_SET_NO_NEW_PRIVS) that issues raw syscall numbers and
 * exits with the index of the first unexpected answer. x86_64 numbers. */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "tap.h"

#define ANY_BUT_FILTERED 9999 /* the kernel answered: neither EPERM nor ENOSYS from the filter */

struct expect {
    long nr;
    long args[3];
    int err; /* expected errno, 0: success, ANY_BUT_FILTERED */
};

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

static void __attribute__((noreturn)) child_exit(int code)
{
    for (;;)
        syscall(SYS_exit_group, code);
}

/* Returns the child's exit status: 0 when every answer was the expected one. */
static int
run_expect(struct berth_seccomp_filter *f, const struct expect *ex, size_t n)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        alarm(20);
        struct berth_error *err = NULL;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(f, NULL, &err) < 0)
            child_exit(200);
        for (size_t i = 0; i < n; i++) {
            long r = syscall(ex[i].nr, ex[i].args[0], ex[i].args[1], ex[i].args[2]);
            int e = r < 0 ? errno : 0;
            bool good =
                ex[i].err == ANY_BUT_FILTERED ? (e != EPERM && e != ENOSYS) : e == ex[i].err;
            if (!good)
                child_exit((int)(i + 1));
        }
        child_exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static void
check(const char *q, const struct expect *ex, size_t n, const char *what)
{
    struct berth_seccomp_filter *f = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    if (build_q(q, &f, &err) < 0) {
        ok(false, "%s (build: %s)", what, err ? err->msg : "?");
        return;
    }
    int status = run_expect(f, ex, n);
    bool good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ok(good, "%s", what);
    if (!good && WIFEXITED(status) && WEXITSTATUS(status) >= 1 && (size_t)WEXITSTATUS(status) <= n)
        printf("#   syscall %ld did not answer as expected\n", ex[WEXITSTATUS(status) - 1].nr);
    else if (!good)
        printf("#   child status 0x%x\n", (unsigned)status);
    berth_seccomp_free(f);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_enosys(void)
{
    /* the highest name is exit_group (231): getppid (110) is below, unnamed: EPERM; 232 up is
     * newer than the profile: ENOSYS; numbers far beyond the kernel's too */
    static const struct expect small[] = {
        {SYS_getppid, {0}, EPERM}, {SYS_getpid, {0}, 0},
        {232, {0}, ENOSYS},        {SYS_clone3, {0}, ENOSYS},
        {462, {0}, ENOSYS},        {463, {0}, ENOSYS},
        {100000, {0}, ENOSYS},     {SYS_exit_group - 1, {0}, EPERM},
    };
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['exit', 'exit_group', 'getpid'], 'action': 'SCMP_ACT_ALLOW'}]}",
          small, N(small), "errno default: above the profile's maximum ENOSYS, below EPERM");

    /* the maximum counts rules of every action: fchmodat2 (452) denied with EACCES, so cachestat
     * (451) is below the maximum (EPERM) and map_shadow_stack (453) above it */
    static const struct expect denied[] = {
        {452, {-1, 0, 0}, EACCES},
        {451, {-1, 0, 0}, EPERM},
        {453, {0}, ENOSYS},
        {SYS_getpid, {0}, 0},
    };
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1, 'syscalls': ["
          " {'names': ['exit', 'exit_group', 'getpid'], 'action': 'SCMP_ACT_ALLOW'},"
          " {'names': ['fchmodat2'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13}]}",
          denied, N(denied), "a denied syscall sets the maximum too; its errno is kept");

    /* names libseccomp does not know do not raise the maximum */
    static const struct expect unknown[] = {
        {300, {0}, ENOSYS},
        {SYS_getppid, {0}, EPERM},
    };
    check(
        "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
        " {'names': ['exit', 'exit_group', 'no_such_syscall_ever'], 'action': 'SCMP_ACT_ALLOW'}]}",
        unknown, N(unknown), "names unknown to libseccomp do not count");

    /* another errno default: the prologue applies to any errno action */
    static const struct expect eacces[] = {
        {SYS_getppid, {0}, EACCES},
        {440, {0}, ENOSYS},
    };
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 13, 'architectures':"
          " ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'syscalls': ["
          " {'names': ['exit', 'exit_group', 'getpid', 'rseq'], 'action': 'SCMP_ACT_ALLOW'}]}",
          eacces, N(eacces), "errnoRet 13 default, with x86 and x32 in the filter");

    /* an allow default has no prologue: the high numbers reach the kernel */
    static const struct expect allow[] = {
        {SYS_getppid, {0}, EPERM},
        {SYS_getpid, {0}, 0},
        {SYS_fchmodat, {-1, (long)"x", 0}, ANY_BUT_FILTERED},
    };
    check("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
          " {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO'}]}",
          allow, N(allow), "allow default: no ENOSYS prologue");

    /* a rule on the maximum itself keeps its action (the comparison is strictly greater) */
    static const struct expect at_max[] = {
        {SYS_getrandom, {0, 0, 0}, 0},
        {SYS_getrandom + 1, {0}, ENOSYS},
        {SYS_getrandom - 1, {0}, EPERM},
    };
    check("{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': ["
          " {'names': ['exit', 'exit_group', 'getrandom'], 'action': 'SCMP_ACT_ALLOW'}]}",
          at_max, N(at_max), "the syscall at the maximum is ruled by the profile");
}

int
main(void)
{
    test_enosys();
    return tap_done();
}
