/*
 * probe: static multi-call payload for berth integration tests.
 *
 * Usage: probe <command> [args...], or invoked through a symlink whose
 * basename is a command name.  Every command prints a simple result on
 * stdout (one value per line, or space-separated key=value fields) and exits
 * 0; errors go to stderr with a non-zero exit.  Unknown commands and bad
 * usage exit 2.  Only libc is used (no NSS), so it runs in an empty rootfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CMD(fn) static int fn(int argc __attribute__((unused)), char **argv __attribute__((unused)))

extern char **environ;

static const char *cmd_name = "probe";

/* ---------- helpers ---------- */

#define E(x)                                                                                       \
    {                                                                                              \
        x, #x                                                                                      \
    }
static const struct {
    int num;
    const char *name;
} errnames[] = {
    E(EPERM),           E(ENOENT),      E(ESRCH),        E(EINTR),        E(EIO),
    E(ENXIO),           E(E2BIG),       E(ENOEXEC),      E(EBADF),        E(ECHILD),
    E(EAGAIN),          E(ENOMEM),      E(EACCES),       E(EFAULT),       E(ENOTBLK),
    E(EBUSY),           E(EEXIST),      E(EXDEV),        E(ENODEV),       E(ENOTDIR),
    E(EISDIR),          E(EINVAL),      E(ENFILE),       E(EMFILE),       E(ENOTTY),
    E(ETXTBSY),         E(EFBIG),       E(ENOSPC),       E(ESPIPE),       E(EROFS),
    E(EMLINK),          E(EPIPE),       E(EDOM),         E(ERANGE),       E(EDEADLK),
    E(ENAMETOOLONG),    E(ENOLCK),      E(ENOSYS),       E(ENOTEMPTY),    E(ELOOP),
    E(ENOMSG),          E(EIDRM),       E(ENODATA),      E(ETIME),        E(EOVERFLOW),
    E(EBADFD),          E(EILSEQ),      E(EUSERS),       E(ENOTSOCK),     E(EMSGSIZE),
    E(EPROTONOSUPPORT), E(EOPNOTSUPP),  E(EAFNOSUPPORT), E(EADDRINUSE),   E(EADDRNOTAVAIL),
    E(ENETDOWN),        E(ENETUNREACH), E(ECONNRESET),   E(ENOBUFS),      E(EISCONN),
    E(ENOTCONN),        E(ETIMEDOUT),   E(ECONNREFUSED), E(EHOSTUNREACH), E(EALREADY),
    E(EINPROGRESS),     E(ESTALE),      E(EDQUOT),       E(ENOMEDIUM),    E(ECANCELED),
    E(ENOKEY),          E(EKEYEXPIRED), E(EKEYREVOKED),  E(EKEYREJECTED), E(EOWNERDEAD),
    E(ENOTRECOVERABLE),
};
#undef E

/* "0" for success, "ENAME" for known errnos, the number otherwise */
static const char *
errname(int e)
{
    static char buf[24];

    if (e == 0)
        return "0";
    for (size_t i = 0; i < ARRAY_SIZE(errnames); i++)
        if (errnames[i].num == e)
            return errnames[i].name;
    snprintf(buf, sizeof(buf), "%d", e);
    return buf;
}

__attribute__((format(printf, 1, 2))) static int
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "probe: %s: ", cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static int
fail_errno(const char *what)
{
    return fail("%s: %s", what, strerror(errno));
}

static bool
parse_long(const char *s, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0';
}

/* skip a case-insensitive prefix if present */
static const char *
skip_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncasecmp(s, prefix, n) == 0 ? s + n : s;
}

/* copy a file to stdout; -1 with errno on failure */
static int
print_file(const char *path)
{
    char buf[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        fwrite(buf, 1, (size_t)n, stdout);
    }
    close(fd);
    return 0;
}

static int
cat_one(const char *path)
{
    if (print_file(path) < 0)
        return fail("%s: %s", path, strerror(errno));
    return 0;
}

/* value of "Key:" in /proc/self/status, whitespace-trimmed */
static int
status_field(const char *key, char *out, size_t outsz)
{
    char *line = NULL;
    size_t cap = 0, klen = strlen(key);
    int ret = -1;
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *v = line + klen + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, outsz, "%s", v);
            ret = 0;
            break;
        }
    }
    free(line);
    fclose(f);
    if (ret < 0)
        errno = ENOENT;
    return ret;
}

static int
not_dot(const struct dirent *de)
{
    return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

static void
free_entries(struct dirent **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---------- signals ---------- */

#define S(x)                                                                                       \
    {                                                                                              \
#x, SIG##x                                                                                 \
    }
static const struct {
    const char *name;
    int num;
} signames[] = {
    S(HUP),  S(INT),    S(QUIT), S(ILL),   S(TRAP), S(ABRT), S(BUS),  S(FPE),
    S(KILL), S(USR1),   S(SEGV), S(USR2),  S(PIPE), S(ALRM), S(TERM), S(STKFLT),
    S(CHLD), S(CONT),   S(STOP), S(TSTP),  S(TTIN), S(TTOU), S(URG),  S(XCPU),
    S(XFSZ), S(VTALRM), S(PROF), S(WINCH), S(IO),   S(PWR),  S(SYS),
};
#undef S

/* "TERM", "SIGTERM", "term" or "15"; -1 if unknown */
static int
parse_signal(const char *s)
{
    long n;

    if (parse_long(s, &n))
        return n > 0 && n < NSIG ? (int)n : -1;
    s = skip_prefix(s, "SIG");
    for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
        if (strcasecmp(s, signames[i].name) == 0)
            return signames[i].num;
    return -1;
}

static const char *
signal_name(int sig)
{
    static char buf[32];

    for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
        if (signames[i].num == sig) {
            snprintf(buf, sizeof(buf), "SIG%s", signames[i].name);
            return buf;
        }
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, sizeof(buf), "SIG%d", sig);
    return buf;
}

static volatile sig_atomic_t caught_signal;

static void
on_signal(int sig)
{
    caught_signal = sig;
}

/* ---------- basic commands ---------- */

/* true and false */
CMD(cmd_true)
{
    return strcmp(argv[0], "false") == 0;
}

CMD(cmd_exit)
{
    long n;

    if (!parse_long(argv[1], &n) || n < 0 || n > 255)
        return fail("bad status '%s'", argv[1]);
    return (int)n;
}

CMD(cmd_echo)
{
    for (int i = 1; i < argc; i++)
        printf("%s%s", i > 1 ? " " : "", argv[i]);
    putchar('\n');
    return 0;
}

CMD(cmd_cat)
{
    int rc = 0;

    for (int i = 1; i < argc; i++)
        rc |= cat_one(argv[i]);
    return rc;
}

/* TEXT args are joined by spaces and written with one write(), as proc and cgroup files expect */
CMD(cmd_write)
{
    char text[65536];
    size_t len = 0;
    int err = 0;

    for (int i = 2; i < argc; i++) {
        int n = snprintf(text + len, sizeof(text) - len, "%s%s", i > 2 ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(text) - len)
            return fail("text too long");
        len += (size_t)n;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = errno;
    } else {
        ssize_t n = write(fd, text, len);
        if (n < 0)
            err = errno;
        else if ((size_t)n != len)
            err = EIO;
        if (close(fd) < 0 && !err)
            err = errno;
    }
    if (err) {
        printf("errno=%s\n", errname(err));
        return fail("%s: %s", argv[1], strerror(err));
    }
    puts("ok");
    return 0;
}

CMD(cmd_open)
{
    const char *mode = argc > 2 ? argv[2] : "r";
    int flags;

    if (strcmp(mode, "r") == 0)
        flags = O_RDONLY;
    else if (strcmp(mode, "w") == 0)
        flags = O_WRONLY;
    else if (strcmp(mode, "rw") == 0)
        flags = O_RDWR;
    else
        return fail("bad mode '%s' (want r, w or rw)", mode);

    int fd = open(argv[1], flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        printf("errno=%s\n", errname(errno));
    } else {
        puts("ok");
        close(fd);
    }
    return 0;
}

CMD(cmd_ls)
{
    struct dirent **v;
    int n = scandir(argv[1], &v, not_dot, alphasort);

    if (n < 0)
        return fail("%s: %s", argv[1], strerror(errno));
    for (int i = 0; i < n; i++)
        puts(v[i]->d_name);
    free_entries(v, n);
    return 0;
}

static const char *
file_type(mode_t m)
{
    static const struct {
        mode_t fmt;
        const char *name;
    } types[] = {{S_IFREG, "file"},  {S_IFDIR, "dir"},  {S_IFLNK, "symlink"}, {S_IFCHR, "char"},
                 {S_IFBLK, "block"}, {S_IFIFO, "fifo"}, {S_IFSOCK, "socket"}};

    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if ((m & S_IFMT) == types[i].fmt)
            return types[i].name;
    return "unknown";
}

CMD(cmd_stat)
{
    struct stat st;

    if (lstat(argv[1], &st) < 0)
        return fail("%s: %s", argv[1], strerror(errno));
    printf("type=%s mode=%04o uid=%u gid=%u rdev=%u:%u size=%lld\n", file_type(st.st_mode),
           (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid,
           major(st.st_rdev), minor(st.st_rdev), (long long)st.st_size);
    return 0;
}

CMD(cmd_readlink)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(argv[1], buf, sizeof(buf) - 1);

    if (n < 0)
        return fail("%s: %s", argv[1], strerror(errno));
    buf[n] = '\0';
    puts(buf);
    return 0;
}

CMD(cmd_id)
{
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);
    mode_t mask = umask(0);

    umask(mask);
    if (n < 0)
        return fail_errno("getgroups");
    printf("uid=%u gid=%u euid=%u egid=%u groups=", (unsigned)getuid(), (unsigned)getgid(),
           (unsigned)geteuid(), (unsigned)getegid());
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf(" umask=%04o\n", (unsigned)mask);
    return 0;
}

/* ---------- capabilities, limits, identity ---------- */

static const char *const cap_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

CMD(cmd_caps)
{
    static const char *const keys[] = {"CapInh", "CapPrm",     "CapEff", "CapBnd",
                                       "CapAmb", "NoNewPrivs", "Seccomp"};
    char val[128];

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (status_field(keys[i], val, sizeof(val)) < 0)
            snprintf(val, sizeof(val), "-");
        printf("%s%s=%s", i ? " " : "", keys[i], val);
    }
    putchar('\n');
    return 0;
}

CMD(cmd_hascap)
{
    const char *name = skip_prefix(argv[1], "CAP_");
    long cap = -1;
    char val[128];

    if (!parse_long(name, &cap)) {
        cap = -1;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
            if (strcasecmp(name, cap_names[i]) == 0)
                cap = (long)i;
    }
    if (cap < 0 || cap > 63)
        return fail("unknown capability '%s'", argv[1]);
    if (status_field("CapEff", val, sizeof(val)) < 0)
        return fail_errno("/proc/self/status CapEff");
    unsigned long long eff = strtoull(val, NULL, 16);
    puts((eff >> cap) & 1 ? "yes" : "no");
    return 0;
}

#define R(x)                                                                                       \
    {                                                                                              \
#x, RLIMIT_##x                                                                             \
    }
static const struct {
    const char *name;
    int res;
} rlimit_names[] = {
    R(AS),   R(CORE),   R(CPU),   R(DATA), R(FSIZE),  R(LOCKS),  R(MEMLOCK),    R(MSGQUEUE),
    R(NICE), R(NOFILE), R(NPROC), R(RSS),  R(RTPRIO), R(RTTIME), R(SIGPENDING), R(STACK),
};
#undef R

static void
print_rlim(const char *key, rlim_t v)
{
    if (v == RLIM_INFINITY)
        printf("%s=unlimited", key);
    else
        printf("%s=%llu", key, (unsigned long long)v);
}

CMD(cmd_rlimit)
{
    const char *name = skip_prefix(argv[1], "RLIMIT_");
    struct rlimit rl;

    for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++) {
        if (strcasecmp(name, rlimit_names[i].name) != 0)
            continue;
        if (getrlimit(rlimit_names[i].res, &rl) < 0)
            return fail_errno("getrlimit");
        print_rlim("soft", rl.rlim_cur);
        putchar(' ');
        print_rlim("hard", rl.rlim_max);
        putchar('\n');
        return 0;
    }
    return fail("unknown rlimit '%s'", argv[1]);
}

CMD(cmd_hostname)
{
    struct utsname u;

    if (uname(&u) < 0)
        return fail_errno("uname");
    puts(strcmp(argv[0], "domainname") == 0 ? u.domainname : u.nodename);
    return 0;
}

CMD(cmd_env)
{
    for (char **e = environ; e && *e; e++)
        puts(*e);
    return 0;
}

CMD(cmd_getenv)
{
    const char *v = getenv(argv[1]);

    if (!v)
        return fail("%s is not set", argv[1]);
    puts(v);
    return 0;
}

CMD(cmd_pwd)
{
    char buf[PATH_MAX];

    if (!getcwd(buf, sizeof(buf)))
        return fail_errno("getcwd");
    puts(buf);
    return 0;
}

CMD(cmd_pid)
{
    printf("pid=%d ppid=%d pgid=%d sid=%d\n", (int)getpid(), (int)getppid(), (int)getpgid(0),
           (int)getsid(0));
    return 0;
}

CMD(cmd_ns)
{
    static const char *const names[] = {
        "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
        "user",   "uts"};
    char path[64], buf[128];

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
            snprintf(buf, sizeof(buf), "-");
        else
            buf[n] = '\0';
        printf("%s=%s\n", names[i], buf);
    }
    return 0;
}

/* "mountpoint fstype mountopts,superopts" per /proc/self/mountinfo line */
CMD(cmd_mounts)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    if (!f)
        return fail_errno("/proc/self/mountinfo");
    while (getline(&line, &cap, f) > 0) {
        char *save = NULL, *mp = NULL, *mopts = NULL, *fstype = NULL, *sopts = NULL;
        bool after_sep = false;
        int i = 0, post = 0;

        for (char *tok = strtok_r(line, " \n", &save); tok;
             tok = strtok_r(NULL, " \n", &save), i++) {
            if (i == 4)
                mp = tok;
            else if (i == 5)
                mopts = tok;
            else if (i > 5 && !after_sep)
                after_sep = strcmp(tok, "-") == 0;
            else if (after_sep && post++ == 0)
                fstype = tok;
            else if (after_sep)
                sopts = tok; /* the last field; the source may be empty */
        }
        if (mp && mopts && fstype)
            printf("%s %s %s%s%s\n", mp, fstype, mopts, sopts ? "," : "", sopts ? sopts : "");
    }
    free(line);
    fclose(f);
    return 0;
}

static int
is_number(const struct dirent *de)
{
    return de->d_name[strspn(de->d_name, "0123456789")] == '\0';
}

CMD(cmd_fds)
{
    struct dirent **v;
    int n = scandir("/proc/self/fd", &v, is_number, versionsort);

    if (n < 0)
        return fail_errno("/proc/self/fd");
    for (int i = 0; i < n; i++) {
        char path[300], target[PATH_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", v[i]->d_name);
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len < 0)
            continue; /* the fd scandir used, closed by now */
        target[len] = '\0';
        printf("%s -> %s\n", v[i]->d_name, target);
    }
    free_entries(v, n);
    return 0;
}

CMD(cmd_oom)
{
    return cat_one("/proc/self/oom_score_adj");
}

CMD(cmd_personality)
{
    int p = personality(0xffffffff);

    if (p < 0)
        return fail_errno("personality");
    printf("0x%x\n", (unsigned)p);
    return 0;
}

/* ---------- seccomp-test: raw syscalls with harmless arguments ---------- */

static const char *const seccomp_names[] = {
    "getcwd", "uname",  "mkdir",  "chmod", "personality", "getpid",      "unshare",
    "clone3", "keyctl", "ptrace", "mount", "chroot",      "sethostname", "reboot",
};

static long
try_syscall(size_t which, const char *arg)
{
    char buf[PATH_MAX];
    struct utsname u;
    struct stat st;
    long r;

    switch (which) {
    case 0:
        return syscall(SYS_getcwd, buf, sizeof(buf));
    case 1:
        return syscall(SYS_uname, &u);
    case 2:
        arg = arg ? arg : "/tmp/x";
#ifdef SYS_mkdir
        r = syscall(SYS_mkdir, arg, 0755);
#else
        r = syscall(SYS_mkdirat, AT_FDCWD, arg, 0755);
#endif
        if (r == 0)
            rmdir(arg);
        return r;
    case 3: /* chmod to the current mode: no change */
        arg = arg ? arg : "/";
        st.st_mode = stat(arg, &st) == 0 ? st.st_mode & 07777 : 0755;
#ifdef SYS_chmod
        return syscall(SYS_chmod, arg, st.st_mode);
#else
        return syscall(SYS_fchmodat, AT_FDCWD, arg, st.st_mode);
#endif
    case 4:
        return syscall(SYS_personality, 0xffffffffUL); /* query only */
    case 5:
        return syscall(SYS_getpid);
    case 6:
        return syscall(SYS_unshare, 0UL);
    case 7:
        return syscall(435 /* SYS_clone3 on every arch */, NULL, 0UL); /* size 0: EINVAL */
    case 8: /* KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create=0 */
        return syscall(SYS_keyctl, 0L, -3L, 0L);
    case 9:
        return syscall(SYS_ptrace, -1L, 0L, 0L, 0L); /* bogus request on pid 0: ESRCH */
    case 10:
        return syscall(SYS_mount, NULL, NULL, NULL, 0UL, NULL); /* EFAULT */
    case 11:
        return syscall(SYS_chroot, "/"); /* the current root: no effect */
    case 12:
        return syscall(SYS_sethostname, NULL, (size_t)-1); /* EPERM, or EINVAL with cap */
    case 13:
        return syscall(SYS_reboot, 0L, 0L, 0L, NULL); /* bad magic: EPERM or EINVAL */
    }
    errno = ENOSYS;
    return -1;
}

CMD(cmd_seccomp_test)
{
    for (size_t i = 0; i < ARRAY_SIZE(seccomp_names); i++) {
        if (strcmp(argv[1], seccomp_names[i]) != 0)
            continue;
        errno = 0;
        long r = try_syscall(i, argc > 2 ? argv[2] : NULL);
        printf("ret=%ld errno=%s\n", r, errname(r == -1 ? errno : 0));
        return 0;
    }
    return fail("unsupported syscall '%s'", argv[1]);
}

/* a raw syscall by number, up to six integer arguments: for syscalls libc does not wrap and
 * numbers no kernel or seccomp profile knows */
CMD(cmd_syscall)
{
    long nr, a[6] = {0};

    if (!parse_long(argv[1], &nr) || nr < 0)
        return fail("bad syscall number '%s'", argv[1]);
    for (int i = 2; i < argc && i < 8; i++)
        if (!parse_long(argv[i], &a[i - 2]))
            return fail("bad argument '%s'", argv[i]);
    errno = 0;
    long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    printf("ret=%ld errno=%s\n", r, errname(r == -1 ? errno : 0));
    return 0;
}

/* count of zombie processes visible in /proc (state Z), ourselves excluded */
static int
count_zombies(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d))) {
        char path[64], buf[512];
        long pid;
        if (!parse_long(de->d_name, &pid) || pid == getpid())
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        char *paren = strrchr(buf, ')');
        if (paren && paren[1] == ' ' && paren[2] == 'Z')
            n++;
    }
    closedir(d);
    return n;
}

/* makes N orphans that exit after their parent: they are reparented to pid 1 (or the nearest
 * subreaper), which must reap them. Prints how many zombies are left after a second. */
CMD(cmd_zombies)
{
    long n;

    if (!parse_long(argv[1], &n) || n < 0 || n > 1000)
        return fail("bad count '%s'", argv[1]);
    fflush(stdout);
    for (long i = 0; i < n; i++) {
        pid_t mid = fork();
        if (mid < 0)
            return fail_errno("fork");
        if (mid == 0) {
            if (fork() == 0) {
                usleep(100000); /* exit once orphaned */
                _exit(0);
            }
            _exit(0);
        }
        waitpid(mid, NULL, 0);
    }
    usleep(1000000);
    printf("zombies=%d\n", count_zombies());
    return 0;
}

/* kills itself with a signal at its default disposition */
CMD(cmd_die)
{
    int sig = parse_signal(argv[1]);

    if (sig <= 0)
        return fail("bad signal '%s'", argv[1]);
    fflush(stdout);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    usleep(500000);
    puts("still alive");
    return 0;
}

CMD(cmd_cgroup)
{
    return cat_one("/proc/self/cgroup");
}

CMD(cmd_sysctl)
{
    char path[PATH_MAX];
    bool has_slash = strchr(argv[1], '/') != NULL;
    int n = snprintf(path, sizeof(path), "/proc/sys/%s", argv[1]);

    if (n < 0 || (size_t)n >= sizeof(path))
        return fail("key too long");
    if (!has_slash)
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
    return cat_one(path);
}

/* ---------- waiting and signals ---------- */

CMD(cmd_sleep)
{
    char *end;
    double secs = strtod(argv[1], &end);

    if (end == argv[1] || *end != '\0' || !(secs >= 0) || secs > 1e9)
        return fail("bad duration '%s'", argv[1]);
    struct timespec ts = {.tv_sec = (time_t)secs};
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0)
        if (errno != EINTR)
            return fail_errno("nanosleep");
    return 0;
}

CMD(cmd_pause)
{
    pause();
    return 0;
}

CMD(cmd_forever)
{
    for (;;)
        sleep(3600);
    return 0;
}

CMD(cmd_sigtrap)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, old, wait;

    sigemptyset(&block);
    sigemptyset(&sa.sa_mask);
    for (int i = 1; i < argc; i++) {
        int sig = parse_signal(argv[i]);
        if (sig <= 0 || sig == SIGKILL || sig == SIGSTOP)
            return fail("cannot trap signal '%s'", argv[i]);
        if (sigaction(sig, &sa, NULL) < 0)
            return fail_errno("sigaction");
        sigaddset(&block, sig);
    }
    sigprocmask(SIG_BLOCK, &block, &old);
    wait = old;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&block, sig) == 1)
            sigdelset(&wait, sig);
    puts("ready");
    fflush(stdout);
    while (!caught_signal)
        sigsuspend(&wait);
    printf("got %s\n", signal_name(caught_signal));
    return 0;
}

CMD(cmd_kill)
{
    long pid;
    int sig = parse_signal(argv[2]);

    if (!parse_long(argv[1], &pid))
        return fail("bad pid '%s'", argv[1]);
    if (sig < 0 && strcmp(argv[2], "0") != 0)
        return fail("bad signal '%s'", argv[2]);
    if (kill((pid_t)pid, sig < 0 ? 0 : sig) < 0) {
        printf("errno=%s\n", errname(errno));
        return fail_errno("kill");
    }
    puts("ok");
    return 0;
}

/* ---------- terminal, devices, resources ---------- */

CMD(cmd_tty)
{
    struct winsize ws = {0};
    const char *name = ttyname(0);
    int fd;

    for (fd = 0; fd <= 2; fd++)
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
            break;
    printf("stdin=%d stdout=%d stderr=%d ttyname=%s rows=%u cols=%u\n", isatty(0), isatty(1),
           isatty(2), name ? name : "-", fd <= 2 ? ws.ws_row : 0U, fd <= 2 ? ws.ws_col : 0U);
    return 0;
}

/* "NAME TYPE DEV": DEV is maj:min for c/b, the target for l, "-" otherwise */
CMD(cmd_devices)
{
    const char *dir = argc > 1 ? argv[1] : "/dev";
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct dirent **v;
    int n = dfd < 0 ? -1 : scandir(dir, &v, not_dot, alphasort);

    if (n < 0)
        return fail("%s: %s", dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *name = v[i]->d_name;
        struct stat st;
        char target[PATH_MAX];
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            printf("%s %c %u:%u\n", name, S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev),
                   minor(st.st_rdev));
        } else if (S_ISLNK(st.st_mode)) {
            ssize_t len = readlinkat(dfd, name, target, sizeof(target) - 1);
            target[len < 0 ? 0 : len] = '\0';
            printf("%s l %s\n", name, target);
        } else {
            char t = S_ISDIR(st.st_mode)    ? 'd'
                     : S_ISFIFO(st.st_mode) ? 'p'
                     : S_ISSOCK(st.st_mode) ? 's'
                                            : 'f';
            printf("%s %c -\n", name, t);
        }
    }
    close(dfd);
    free_entries(v, n);
    return 0;
}

CMD(cmd_mem)
{
    long mb;

    if (!parse_long(argv[1], &mb) || mb < 0 || (unsigned long)mb > SIZE_MAX >> 20)
        return fail("bad size '%s'", argv[1]);
    size_t len = (size_t)mb << 20, page = (size_t)sysconf(_SC_PAGESIZE);
    volatile char *p = malloc(len ? len : 1);
    if (!p) {
        printf("errno=%s\n", errname(ENOMEM));
        return fail("cannot allocate %ld MB", mb);
    }
    for (size_t off = 0; off < len; off += page)
        p[off] = 1;
    puts("done");
    free((void *)p);
    return 0;
}

CMD(cmd_fork)
{
    long n, hold = 0, forked = 0;
    pid_t parent = getpid();
    int err = 0;

    if (!parse_long(argv[1], &n) || n < 0 || n > 1000000)
        return fail("bad count '%s'", argv[1]);
    if (argc > 2 && (!parse_long(argv[2], &hold) || hold < 0))
        return fail("bad hold time '%s'", argv[2]);
    pid_t *pids = calloc((size_t)n + 1, sizeof(*pids));
    if (!pids)
        return fail_errno("calloc");
    fflush(stdout);
    fflush(stderr);
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            for (;;)
                pause();
        }
        pids[forked++] = pid;
    }
    printf("forked=%ld errno=%s\n", forked, errname(err));
    fflush(stdout);
    if (hold > 0)
        sleep((unsigned)hold);
    for (long i = 0; i < forked; i++)
        kill(pids[i], SIGKILL);
    for (long i = 0; i < forked; i++)
        waitpid(pids[i], NULL, 0);
    free(pids);
    return 0;
}

CMD(cmd_statfs)
{
    struct statvfs sv;

    if (statvfs(argv[1], &sv) < 0)
        return fail("%s: %s", argv[1], strerror(errno));
    printf("ro=%d nosuid=%d nodev=%d noexec=%d\n", !!(sv.f_flag & ST_RDONLY),
           !!(sv.f_flag & ST_NOSUID), !!(sv.f_flag & ST_NODEV), !!(sv.f_flag & ST_NOEXEC));
    return 0;
}

CMD(cmd_time)
{
    struct timespec mono, boot;

    if (clock_gettime(CLOCK_MONOTONIC, &mono) < 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
        return fail_errno("clock_gettime");
    printf("monotonic=%lld boottime=%lld\n", (long long)mono.tv_sec, (long long)boot.tv_sec);
    return 0;
}

CMD(cmd_mqueue)
{
    /* the raw syscall takes the name without the leading '/' */
    long fd = syscall(SYS_mq_open, "probe", O_RDWR | O_CREAT | O_CLOEXEC, 0600, NULL);

    if (fd < 0) {
        printf("errno=%s\n", errname(errno));
        return 0;
    }
    puts("ok");
    close((int)fd);
    syscall(SYS_mq_unlink, "probe");
    return 0;
}

CMD(cmd_shm)
{
    return cat_one("/proc/sys/kernel/shmmax");
}

CMD(cmd_spin)
{
    volatile unsigned long x = 0;

    for (;;)
        x++;
    return 0;
}

CMD(cmd_stdin)
{
    char buf[8192];
    char last = '\n';
    ssize_t n;

    while ((n = read(0, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("read");
        }
        fwrite(buf, 1, (size_t)n, stdout);
        last = buf[n - 1];
    }
    if (last != '\n')
        putchar('\n');
    puts("EOF");
    return 0;
}

static int cmd_help(int argc, char **argv);

/* ---------- dispatch ---------- */

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    int min_args;
    const char *usage;
} commands[] = {
    {"true", cmd_true, 0, ""},
    {"false", cmd_true, 0, ""},
    {"exit", cmd_exit, 1, "N"},
    {"echo", cmd_echo, 0, "ARGS..."},
    {"cat", cmd_cat, 1, "FILE..."},
    {"write", cmd_write, 2, "FILE TEXT..."},
    {"open", cmd_open, 1, "FILE [r|w|rw]"},
    {"ls", cmd_ls, 1, "DIR"},
    {"stat", cmd_stat, 1, "PATH"},
    {"readlink", cmd_readlink, 1, "PATH"},
    {"id", cmd_id, 0, ""},
    {"caps", cmd_caps, 0, ""},
    {"hascap", cmd_hascap, 1, "NAME"},
    {"rlimit", cmd_rlimit, 1, "NAME"},
    {"hostname", cmd_hostname, 0, ""},
    {"domainname", cmd_hostname, 0, ""},
    {"env", cmd_env, 0, ""},
    {"getenv", cmd_getenv, 1, "NAME"},
    {"pwd", cmd_pwd, 0, ""},
    {"pid", cmd_pid, 0, ""},
    {"ns", cmd_ns, 0, ""},
    {"mounts", cmd_mounts, 0, ""},
    {"fds", cmd_fds, 0, ""},
    {"oom", cmd_oom, 0, ""},
    {"personality", cmd_personality, 0, ""},
    {"seccomp-test", cmd_seccomp_test, 1, "SYSCALL [PATH]"},
    {"syscall", cmd_syscall, 1, "NR [ARG...]"},
    {"zombies", cmd_zombies, 1, "N"},
    {"die", cmd_die, 1, "SIG"},
    {"cgroup", cmd_cgroup, 0, ""},
    {"sysctl", cmd_sysctl, 1, "KEY"},
    {"sleep", cmd_sleep, 1, "SECONDS"},
    {"pause", cmd_pause, 0, ""},
    {"forever", cmd_forever, 0, ""},
    {"sigtrap", cmd_sigtrap, 1, "SIG..."},
    {"kill", cmd_kill, 2, "PID SIG"},
    {"tty", cmd_tty, 0, ""},
    {"devices", cmd_devices, 0, "[DIR]"},
    {"mem", cmd_mem, 1, "MB"},
    {"fork", cmd_fork, 1, "N [HOLD_SECONDS]"},
    {"statfs", cmd_statfs, 1, "PATH"},
    {"time", cmd_time, 0, ""},
    {"mqueue", cmd_mqueue, 0, ""},
    {"shm", cmd_shm, 0, ""},
    {"spin", cmd_spin, 0, ""},
    {"stdin", cmd_stdin, 0, ""},
    {"help", cmd_help, 0, ""},
};

static int
cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        printf("%s%s%s\n", commands[i].name, *commands[i].usage ? " " : "", commands[i].usage);
    return 0;
}

static const struct command *
find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *base = argc > 0 ? argv[0] : "probe";
    const char *slash = strrchr(base, '/');
    const struct command *cmd;

    if (slash)
        base = slash + 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    cmd = find_command(base);
    if (!cmd) {
        if (argc < 2) {
            fprintf(stderr, "usage: probe <command> [args...]  (probe help lists commands)\n");
            return 2;
        }
        argv++;
        argc--;
        cmd = find_command(argv[0]);
        if (!cmd) {
            fprintf(stderr, "probe: unknown command '%s'\n", argv[0]);
            return 2;
        }
    }
    cmd_name = cmd->name;
    argv[0] = (char *)cmd->name; /* commands see their own name, even via a symlink path */
    if (argc - 1 < cmd->min_args) {
        fprintf(stderr, "usage: probe %s %s\n", cmd->name, cmd->usage);
        return 2;
    }

    int rc = cmd->fn(argc, argv);
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        fprintf(stderr, "probe: %s: error writing stdout\n", cmd->name);
        rc = 1;
    }
    return rc;
}
