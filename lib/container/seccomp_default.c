/* Docker's default seccomp profile ("builtin"), and the conversion of a profile in Docker's
 * format into the OCI linux.seccomp object for one container.
 *
 * The profile: an errno default (EPERM), a list of syscalls always allowed, argument rules
 * (personality values, socket without AF_VSOCK, clone without namespace flags), per-arch
 * extras, and blocks granted only with a capability in the container's bounding set
 * (CAP_SYS_ADMIN: mount, unshare, setns, clone with namespace flags...; CAP_SYS_PTRACE, ...).
 * Without CAP_SYS_ADMIN clone3 answers ENOSYS, so libcs fall back to clone where the flags can
 * be checked. The conversion follows moby's profiles/seccomp setupSeccomp(): includes and
 * excludes on caps, arches and a minimum kernel; archMap picks the native arch and its
 * sub-arches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "container/spec_gen_internal.h"
#include "core/cleanup.h"

#define CLONE_NS_FLAGS 2114060288ULL /* NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP */
#define AF_VSOCK_ 40

/* always allowed */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    NULL,
};

static const char *const ptrace_new_kernel[] = {"process_vm_readv", "process_vm_writev", "ptrace",
                                                NULL};
static const char *const ppc64le_only[] = {"sync_file_range2", "swapcontext", NULL};
static const char *const arm_only[] = {"arm_fadvise64_64",
                                       "arm_sync_file_range",
                                       "sync_file_range2",
                                       "breakpoint",
                                       "cacheflush",
                                       "set_tls",
                                       NULL};
static const char *const amd64_only[] = {"arch_prctl", NULL};
static const char *const x86_only[] = {"modify_ldt", NULL};
static const char *const s390_only[] = {"s390_pci_mmio_read", "s390_pci_mmio_write",
                                        "s390_runtime_instr", NULL};
static const char *const riscv_only[] = {"riscv_flush_icache", NULL};
static const char *const dac_read_search[] = {"open_by_handle_at", NULL};
static const char *const sys_admin[] = {
    "bpf",           "clone",           "clone3",
    "fanotify_init", "fsconfig",        "fsmount",
    "fsopen",        "fspick",          "lookup_dcookie",
    "mount",         "mount_setattr",   "move_mount",
    "open_tree",     "perf_event_open", "quotactl",
    "quotactl_fd",   "setdomainname",   "sethostname",
    "setns",         "syslog",          "umount",
    "umount2",       "unshare",         NULL,
};
static const char *const clone_only[] = {"clone", NULL};
static const char *const clone3_only[] = {"clone3", NULL};
static const char *const sys_boot[] = {"reboot", NULL};
static const char *const sys_chroot[] = {"chroot", NULL};
static const char *const sys_module[] = {"delete_module", "init_module", "finit_module", NULL};
static const char *const sys_pacct[] = {"acct", NULL};
static const char *const sys_ptrace[] = {
    "kcmp",   "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
    "ptrace", NULL};
static const char *const sys_rawio[] = {"iopl", "ioperm", NULL};
static const char *const sys_time[] = {"settimeofday", "stime", "clock_settime", "clock_settime64",
                                       NULL};
static const char *const sys_tty_config[] = {"vhangup", NULL};
static const char *const sys_nice[] = {"get_mempolicy", "mbind", "set_mempolicy",
                                       "set_mempolicy_home_node", NULL};
static const char *const syslog_only[] = {"syslog", NULL};
static const char *const bpf_only[] = {"bpf", NULL};
static const char *const perf_only[] = {"perf_event_open", NULL};
static const char *const socket_only[] = {"socket", NULL};
static const char *const personality_only[] = {"personality", NULL};

struct arg {
    unsigned index;
    unsigned long long value, value_two;
    const char *op;
};

struct rule {
    const char *const *names;
    const char *action;                                        /* NULL: SCMP_ACT_ALLOW */
    int errno_ret;                                             /* 0: none */
    struct arg arg;                                            /* op NULL: no argument condition */
    const char *inc_caps, *inc_arches, *exc_caps, *exc_arches; /* comma lists */
    const char *min_kernel;
};

static const struct rule rules[] = {
    {.names = allowed},
    {.names = ptrace_new_kernel, .min_kernel = "4.8"},
    {.names = socket_only, .arg = {0, AF_VSOCK_, 0, "SCMP_CMP_NE"}},
    {.names = personality_only, .arg = {0, 0x0, 0, "SCMP_CMP_EQ"}},
    {.names = personality_only, .arg = {0, 0x0008, 0, "SCMP_CMP_EQ"}},
    {.names = personality_only, .arg = {0, 0x20000, 0, "SCMP_CMP_EQ"}},
    {.names = personality_only, .arg = {0, 0x20008, 0, "SCMP_CMP_EQ"}},
    {.names = personality_only, .arg = {0, 0xffffffff, 0, "SCMP_CMP_EQ"}},
    {.names = ppc64le_only, .inc_arches = "ppc64le"},
    {.names = arm_only, .inc_arches = "arm,arm64"},
    {.names = amd64_only, .inc_arches = "amd64,x32"},
    {.names = x86_only, .inc_arches = "amd64,x32,x86"},
    {.names = s390_only, .inc_arches = "s390,s390x"},
    {.names = riscv_only, .inc_arches = "riscv64"},
    {.names = dac_read_search, .inc_caps = "CAP_DAC_READ_SEARCH"},
    {.names = sys_admin, .inc_caps = "CAP_SYS_ADMIN"},
    {.names = clone_only,
     .arg = {0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"},
     .exc_caps = "CAP_SYS_ADMIN",
     .exc_arches = "s390,s390x"},
    {.names = clone_only,
     .arg = {1, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"},
     .inc_arches = "s390,s390x",
     .exc_caps = "CAP_SYS_ADMIN"},
    {.names = clone3_only,
     .action = "SCMP_ACT_ERRNO",
     .errno_ret = ENOSYS,
     .exc_caps = "CAP_SYS_ADMIN"},
    {.names = sys_boot, .inc_caps = "CAP_SYS_BOOT"},
    {.names = sys_chroot, .inc_caps = "CAP_SYS_CHROOT"},
    {.names = sys_module, .inc_caps = "CAP_SYS_MODULE"},
    {.names = sys_pacct, .inc_caps = "CAP_SYS_PACCT"},
    {.names = sys_ptrace, .inc_caps = "CAP_SYS_PTRACE"},
    {.names = sys_rawio, .inc_caps = "CAP_SYS_RAWIO"},
    {.names = sys_time, .inc_caps = "CAP_SYS_TIME"},
    {.names = sys_tty_config, .inc_caps = "CAP_SYS_TTY_CONFIG"},
    {.names = sys_nice, .inc_caps = "CAP_SYS_NICE"},
    {.names = syslog_only, .inc_caps = "CAP_SYSLOG"},
    {.names = bpf_only, .inc_caps = "CAP_BPF"},
    {.names = perf_only, .inc_caps = "CAP_PERFMON"},
};

/* archMap: an arch and the sub-arches whose syscalls it also runs */
static const struct {
    const char *arch;
    const char *sub[3];
} arch_map[] = {
    {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
    {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}},
    {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
    {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
    {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
    {"SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
    {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}},
    {"SCMP_ARCH_RISCV64", {NULL}},
};

static json_t *
csv_array(const char *csv)
{
    json_t *a = json_array();
    if (!a)
        abort();
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", csv);
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        sg_push(a, p);
    return a;
}

static json_t *
filter_obj(const char *caps, const char *arches, const char *min_kernel)
{
    json_t *f = json_object();
    if (!f)
        abort();
    if (caps)
        json_object_set_new(f, "caps", csv_array(caps));
    if (arches)
        json_object_set_new(f, "arches", csv_array(arches));
    if (min_kernel)
        json_object_set_new(f, "minKernel", json_string(min_kernel));
    return f;
}

json_t *
berth_seccomp_default_profile(void)
{
    json_t *p = json_object(), *syscalls = json_array(), *archs = json_array();
    if (!p || !syscalls || !archs)
        abort();
    json_object_set_new(p, "defaultAction", json_string("SCMP_ACT_ERRNO"));
    json_object_set_new(p, "defaultErrnoRet", json_integer(EPERM));
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(arch_map); i++) {
        json_t *e = json_object(), *subs = json_array();
        if (!e || !subs)
            abort();
        for (size_t j = 0; j < 3 && arch_map[i].sub[j]; j++)
            sg_push(subs, arch_map[i].sub[j]);
        json_object_set_new(e, "architecture", json_string(arch_map[i].arch));
        json_object_set_new(e, "subArchitectures", subs);
        json_array_append_new(archs, e);
    }
    json_object_set_new(p, "archMap", archs);
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(rules); i++) {
        const struct rule *r = &rules[i];
        json_t *s = json_object(), *names = json_array();
        if (!s || !names)
            abort();
        for (const char *const *n = r->names; *n; n++)
            sg_push(names, *n);
        json_object_set_new(s, "names", names);
        json_object_set_new(s, "action", json_string(r->action ? r->action : "SCMP_ACT_ALLOW"));
        if (r->errno_ret)
            json_object_set_new(s, "errnoRet", json_integer(r->errno_ret));
        if (r->arg.op) {
            json_t *args = json_array(), *a = json_object();
            if (!args || !a)
                abort();
            json_object_set_new(a, "index", json_integer(r->arg.index));
            json_object_set_new(a, "value", json_integer((json_int_t)r->arg.value));
            json_object_set_new(a, "valueTwo", json_integer((json_int_t)r->arg.value_two));
            json_object_set_new(a, "op", json_string(r->arg.op));
            json_array_append_new(args, a);
            json_object_set_new(s, "args", args);
        }
        if (r->inc_caps || r->inc_arches || r->min_kernel)
            json_object_set_new(s, "includes",
                                filter_obj(r->inc_caps, r->inc_arches, r->min_kernel));
        if (r->exc_caps || r->exc_arches)
            json_object_set_new(s, "excludes", filter_obj(r->exc_caps, r->exc_arches, NULL));
        json_array_append_new(syscalls, s);
    }
    json_object_set_new(p, "syscalls", syscalls);
    return p;
}

/* ---- Docker's profile format -> OCI ---- */

/* The arch name includes/excludes use (Go's GOARCH spelling, as moby's goToNative). */
static const char *
native_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "x86";
#elif defined(__arm__)
    return "arm";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

static const char *
native_scmp_arch(void)
{
#if defined(__x86_64__)
    return "SCMP_ARCH_X86_64";
#elif defined(__aarch64__)
    return "SCMP_ARCH_AARCH64";
#elif defined(__i386__)
    return "SCMP_ARCH_X86";
#elif defined(__arm__)
    return "SCMP_ARCH_ARM";
#elif defined(__s390x__)
    return "SCMP_ARCH_S390X";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "SCMP_ARCH_PPC64LE";
#elif defined(__riscv) && __riscv_xlen == 64
    return "SCMP_ARCH_RISCV64";
#else
    return "";
#endif
}

static bool
in_strings(const json_t *array, const char *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(array, i, e)
    {
        if (json_is_string(e) && !strcmp(json_string_value(e), s))
            return true;
    }
    return false;
}

/* "4.8" vs the running kernel. */
static int
kernel_at_least(const json_t *min, bool *ret, struct berth_error **err)
{
    unsigned want_major = 0, want_minor = 0, major = 0, minor = 0;
    struct utsname u;
    const char *s = json_string_value(min);
    if (!s || sscanf(s, "%u.%u", &want_major, &want_minor) < 1)
        return berth_error_setq(err, EINVAL, "invalid kernel version: %s",
                                s ? s : "(not a string)");
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) < 2)
        return berth_error_set(err, errno ? errno : EINVAL, "kernel version");
    *ret = major > want_major || (major == want_major && minor >= want_minor);
    return 0;
}

/* Whether a rule applies: excludes (any match drops it), includes (all must match). */
static int
rule_applies(const json_t *call, const json_t *caps, bool *ret, struct berth_error **err)
{
    const json_t *exc = sg_get(call, "excludes"), *inc = sg_get(call, "includes");
    const char *arch = native_arch();
    size_t i;
    const json_t *e;
    bool ok;
    int r;
    *ret = false;
    if (exc) {
        if (in_strings(sg_get(exc, "arches"), arch))
            return 0;
        json_array_foreach(sg_get(exc, "caps"), i, e)
        {
            if (in_strings(caps, json_string_value(e)))
                return 0;
        }
        if (sg_get(exc, "minKernel")) {
            if ((r = kernel_at_least(sg_get(exc, "minKernel"), &ok, err)) < 0)
                return r;
            if (ok)
                return 0;
        }
    }
    if (inc) {
        const json_t *arches = sg_get(inc, "arches");
        if (json_array_size(arches) > 0 && !in_strings(arches, arch))
            return 0;
        json_array_foreach(sg_get(inc, "caps"), i, e)
        {
            if (!in_strings(caps, json_string_value(e)))
                return 0;
        }
        if (sg_get(inc, "minKernel")) {
            if ((r = kernel_at_least(sg_get(inc, "minKernel"), &ok, err)) < 0)
                return r;
            if (!ok)
                return 0;
        }
    }
    *ret = true;
    return 0;
}

static int
copy_key(json_t *dst, const json_t *src, const char *from, const char *to)
{
    json_t *v = json_object_get(src, from);
    if (!v || json_is_null(v))
        return 0;
    return json_object_set(dst, to, v);
}

int
berth_seccomp_profile_to_oci(const json_t *profile, const json_t *caps, json_t **ret,
                             struct berth_error **err)
{
    const json_t *syscalls = sg_get(profile, "syscalls");
    const json_t *arch_list = sg_get(profile, "architectures");
    const json_t *amap = sg_get(profile, "archMap");
    const char *def = sg_str(profile, "defaultAction");
    int r;
    *ret = NULL;
    if (!json_is_object(profile))
        return berth_error_setq(err, EINVAL, "Decoding seccomp profile failed: not an object");
    if ((!def || !*def) && json_array_size(syscalls) == 0)
        return 0; /* seccomp disabled */
    if (json_array_size(arch_list) != 0 && json_array_size(amap) != 0)
        return berth_error_setq(err, EINVAL,
                                "both 'architectures' and 'archMap' are specified in the seccomp "
                                "profile, use either 'architectures' or 'archMap'");
    if ((syscalls && !json_is_array(syscalls)) || (arch_list && !json_is_array(arch_list)) ||
        (amap && !json_is_array(amap)))
        return berth_error_setq(err, EINVAL,
                                "Decoding seccomp profile failed: syscalls, architectures and "
                                "archMap must be arrays");
    json_t *out = json_object();
    if (!out)
        return berth_error_set(err, ENOMEM, "seccomp");
    if (copy_key(out, profile, "defaultAction", "defaultAction") < 0 ||
        copy_key(out, profile, "defaultErrnoRet", "defaultErrnoRet") < 0 ||
        copy_key(out, profile, "listenerPath", "listenerPath") < 0 ||
        copy_key(out, profile, "listenerMetadata", "listenerMetadata") < 0 ||
        copy_key(out, profile, "flags", "flags") < 0)
        goto nomem;
    json_t *archs = arch_list ? json_deep_copy(arch_list) : json_array();
    if (!archs || json_object_set_new(out, "architectures", archs) < 0)
        goto nomem;
    size_t i;
    const json_t *e;
    json_array_foreach(amap, i, e)
    {
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "architecture")))
            continue;
        if (strcmp(json_string_value(json_object_get(e, "architecture")), native_scmp_arch()))
            continue;
        json_array_append(archs, json_object_get(e, "architecture"));
        size_t j;
        const json_t *sub;
        json_array_foreach(sg_get(e, "subArchitectures"), j, sub)
        {
            json_array_append(archs, (json_t *)sub);
        }
        break;
    }
    json_t *out_calls = json_array();
    if (!out_calls || json_object_set_new(out, "syscalls", out_calls) < 0)
        goto nomem;
    json_array_foreach(syscalls, i, e)
    {
        if (!json_is_object(e)) {
            json_decref(out);
            return berth_error_setq(err, EINVAL,
                                    "Decoding seccomp profile failed: syscalls[%zu] is not an "
                                    "object",
                                    i);
        }
        const char *name = sg_str(e, "name");
        const json_t *names = sg_get(e, "names");
        if (name && *name && json_array_size(names) != 0) {
            json_decref(out);
            return berth_error_setq(err, EINVAL, "use either 'name' or 'names'");
        }
        bool applies;
        if ((r = rule_applies(e, caps, &applies, err)) < 0) {
            json_decref(out);
            return r;
        }
        if (!applies)
            continue;
        json_t *c = json_object();
        if (!c || json_array_append_new(out_calls, c) < 0)
            goto nomem;
        if (name && *name) {
            json_t *n = json_array();
            if (!n || json_object_set_new(c, "names", n) < 0)
                goto nomem;
            sg_push(n, name);
        } else if (copy_key(c, e, "names", "names") < 0) {
            goto nomem;
        }
        if (copy_key(c, e, "action", "action") < 0 || copy_key(c, e, "args", "args") < 0 ||
            copy_key(c, e, "errnoRet", "errnoRet") < 0)
            goto nomem;
    }
    *ret = out;
    return 0;
nomem:
    json_decref(out);
    return berth_error_set(err, ENOMEM, "seccomp profile");
}
