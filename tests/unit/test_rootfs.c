/* Unit tests of lib/runtime/rootfs.c. Every case runs in a forked child that first enters a new
 * mount namespace, so nothing reaches the host's mounts: a small rootfs of directories under a
 * mkdtemp directory, a config.json with tmpfs, bind, proc and devpts mounts, mounts through
 * symlinks and ".." that must stay inside the rootfs, tmpcopyup, devices, masked and read-only
 * paths and a read-only root; berth_rootfs_prepare is checked with stat, statvfs and mountinfo,
 * then pivot_root (and the MS_MOVE + chroot variant) and finalize from inside. The child reports
 * over a pipe; the parent prints TAP, then checks that its own mountinfo never saw the temp dir
 * and that nothing was created at the host's "/". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "runtime/rootfs.h"
#include "runtime/spec.h"
#define TESTUTIL_CCHECK_ERRNO
#include "testutil.h"

#define PROC_MAGIC 0x9fa0
#define TMPFS_MAGIC_ 0x01021994

static char tmp[] = "/tmp/berth-rootfs-XXXXXX";
static const char *suffix; /* the XXXXXX part: unique names for paths that must not escape */

/* What run_in_ns() runs: fn(arg) in a new mount namespace. */
struct in_ns {
    child_fn fn;
    const void *arg;
};

static void
in_new_ns(const void *arg)
{
    const struct in_ns *a = arg;
    int r = unshare(CLONE_NEWNS);
    ccheck(r == 0, "unshare(CLONE_NEWNS)");
    if (r == 0)
        a->fn(a->arg);
}

/* Runs fn in a forked child inside a new mount namespace and turns its reports into TAP. */
static void
run_in_ns(const char *what, child_fn fn, const void *arg)
{
    run_child(what, in_new_ns, &(struct in_ns){fn, arg});
}

/* ---- helpers for the child ---- */

/* One line of /proc/self/mountinfo. */
struct mnt {
    char mp[PATH_MAX];
    char opts[256];     /* per-mount options: rw,nosuid,... */
    char optional[256]; /* shared:N master:N ... */
    char fstype[64];
    char super[512]; /* per-superblock options: size=...,mode=... */
};

static char *
read_mountinfo(void)
{
    char *t = NULL;
    if (berth_read_file("/proc/self/mountinfo", 4u << 20, &t, NULL, NULL) < 0)
        return NULL;
    return t;
}

static bool
parse_mnt(const char *line, struct mnt *m)
{
    if (sscanf(line, "%*d %*d %*s %*s %4095s %255s", m->mp, m->opts) != 2)
        return false;
    const char *sep = strstr(line, " - ");
    if (!sep)
        return false;
    /* optional fields: after the sixth field, up to " - " */
    const char *p = line;
    for (int i = 0; i < 6 && p; i++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    size_t ol = p && p < sep ? (size_t)(sep - p) : 0;
    if (ol >= sizeof(m->optional))
        ol = sizeof(m->optional) - 1;
    memcpy(m->optional, p ? p : "", ol);
    m->optional[ol] = '\0';
    m->super[0] = '\0';
    return sscanf(sep + 3, "%63s %*s %511s", m->fstype, m->super) >= 1;
}

/* The top mount at mp (the last line naming it); false if none. */
static bool
find_mnt(const char *mp, struct mnt *out)
{
    _cleanup_free_ char *text = read_mountinfo();
    bool found = false;
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        struct mnt m;
        if (parse_mnt(line, &m) && !strcmp(m.mp, mp)) {
            *out = m;
            found = true;
        }
    }
    return found;
}

static bool
has_opt(const char *list, const char *opt)
{
    size_t l = strlen(opt);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && !strncmp(p, opt, l))
            return true;
        p = c ? c + 1 : NULL;
    }
    return false;
}

static bool
file_is(const char *path, const char *want)
{
    _cleanup_free_ char *t = NULL;
    if (berth_read_file(path, 1 << 20, &t, NULL, NULL) < 0) {
        cdiag("  read %s: %s", path, strerror(errno));
        return false;
    }
    if (strcmp(t, want))
        cdiag("  %s: '%s', expected '%s'", path, t, want);
    return !strcmp(t, want);
}

/* open(path, flags) fails with errno want. */
static bool
open_fails(const char *path, int flags, int want)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd >= 0) {
        close(fd);
        cdiag("  open %s succeeded", path);
        return false;
    }
    if (errno != want)
        cdiag("  open %s: %s", path, strerror(errno));
    return errno == want;
}

static bool
is_chardev_owned(const char *path, unsigned int major_, unsigned int minor_, mode_t mode, uid_t uid,
                 gid_t gid)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        cdiag("  %s: %s", path, strerror(errno));
        return false;
    }
    bool okay = S_ISCHR(st.st_mode) && major(st.st_rdev) == major_ && minor(st.st_rdev) == minor_ &&
                (st.st_mode & 07777) == mode && st.st_uid == uid && st.st_gid == gid;
    if (!okay)
        cdiag("  %s: mode %o rdev %u:%u owner %d:%d", path, st.st_mode, major(st.st_rdev),
              minor(st.st_rdev), (int)st.st_uid, (int)st.st_gid);
    return okay;
}

static bool
is_chardev(const char *path, unsigned int major_, unsigned int minor_, mode_t mode)
{
    return is_chardev_owned(path, major_, minor_, mode, 0, 0);
}

static bool
link_is(const char *path, const char *want)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return !strcmp(buf, want);
}

static bool
is_mountpoint_of(const char *path, const char *fstype)
{
    struct mnt m;
    if (!find_mnt(path, &m)) {
        cdiag("  no mount at %s", path);
        return false;
    }
    if (fstype && strcmp(m.fstype, fstype)) {
        cdiag("  %s is %s", path, m.fstype);
        return false;
    }
    return true;
}

static bool
host_absent(const char *name)
{
    char p[256];
    snprintf(p, sizeof(p), "/%s", name);
    struct stat st;
    return lstat(p, &st) < 0 && errno == ENOENT;
}

static int
parse_spec(const char *json, struct berth_spec **ret)
{
    struct berth_error *e = NULL;
    int r = berth_spec_parse(json, strlen(json), tmp, ret, &e);
    if (r < 0)
        cdiag("  config: %s", e->msg);
    berth_error_free(e);
    return r;
}

/* ---- the full sequence: prepare, pivot_root, finalize ---- */

static const char *rootdir = "rootfs"; /* under tmp */
static char escaped[64], upper[64], dangling[64], dotdot[64], resolv[64];

/* masked files of /proc that may or may not exist on this kernel (seen before pivot_root) */
static struct {
    const char *path;
    bool exists;
} proc_masked[] = {{"/proc/kcore", false}, {"/proc/timer_list", false}, {"/proc/keys", false}};

static char *
full_config(void)
{
    _cleanup_free_ char *hostdir = pathf("hostdir");
    _cleanup_free_ char *hostfile = pathf("hostfile");
    char *j = NULL;
    int n = asprintf(
        &j,
        "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"%s\", \"readonly\": true},\n"
        " \"mounts\": [\n"
        "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
        "[\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", "
        "\"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
        "\"mode=0620\"]},\n"
        "  {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
        "[\"nosuid\", \"nodev\", \"mode=1777\", \"size=1m\"]},\n"
        "  {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"%s\", \"options\": "
        "[\"rbind\", \"ro\"]},\n"
        "  {\"destination\": \"/etc/bound-file\", \"type\": \"none\", \"source\": \"%s\", "
        "\"options\": [\"bind\", \"ro\"]},\n"
        "  {\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"%s\", "
        "\"options\": [\"bind\"]},\n"
        "  {\"destination\": \"/escape/%s\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
        "\"options\": [\"size=64k\"]},\n"
        "  {\"destination\": \"/up/%s\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
        "\"options\": [\"size=64k\"]},\n"
        "  {\"destination\": \"/dangling\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
        "\"options\": [\"size=64k\"]},\n"
        "  {\"destination\": \"/../../../%s\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
        "\"options\": [\"size=64k\"]},\n"
        "  {\"destination\": \"/opt\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
        "[\"tmpcopyup\", \"size=1m\"]},\n"
        "  {\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
        "[\"nosuid\", \"nodev\", \"noexec\", \"size=64k\"]}\n"
        " ],\n"
        " \"linux\": {\n"
        "  \"devices\": [{\"path\": \"/dev/custom\", \"type\": \"c\", \"major\": 1, \"minor\": "
        "5, \"fileMode\": 416, \"uid\": 1000, \"gid\": 1001},\n"
        "   {\"path\": \"/dev/full\", \"type\": \"c\", \"major\": 1, \"minor\": 7, "
        "\"fileMode\": 384},\n"
        "   {\"path\": \"/dev/myfifo\", \"type\": \"p\", \"fileMode\": 420},\n"
        "   {\"path\": \"/dev/sub/blk\", \"type\": \"b\", \"major\": 7, \"minor\": 0, "
        "\"fileMode\": 432}],\n"
        "  \"maskedPaths\": [\"/proc/kcore\", \"/proc/timer_list\", \"/proc/keys\", "
        "\"/masked_dir\", \"/masked_file\", \"/does/not/exist\"],\n"
        "  \"readonlyPaths\": [\"/proc/sys\", \"/ro_dir\", \"/run\", \"/also/missing\"]\n"
        " }}\n",
        rootdir, hostdir, hostfile, hostfile, escaped, upper, dotdot);
    if (n < 0)
        abort();
    return j;
}

static void
check_prepared(void)
{
    _cleanup_free_ char *root = pathf("%s", rootdir);
    char p[PATH_MAX];
    struct mnt m;
    struct stat st;
    struct statvfs sv;
    struct statfs sf;

    ccheck(is_mountpoint_of(root, NULL), "the rootfs is bound onto itself");

    /* tmpfs with options */
    snprintf(p, sizeof(p), "%s/tmp", root);
    ccheck(find_mnt(p, &m) && !strcmp(m.fstype, "tmpfs"), "/tmp is a tmpfs");
    /* (tmpfs shows mode= only when it is not the default 1777: checked with stat below) */
    ccheck(has_opt(m.super, "size=1024k"), "/tmp: size=1m reaches the filesystem (%s)", m.super);
    ccheck(has_opt(m.opts, "nosuid") && has_opt(m.opts, "nodev") && has_opt(m.opts, "rw"),
           "/tmp: rw, nosuid, nodev (%s)", m.opts);
    ccheck(statvfs(p, &sv) == 0 && (unsigned long long)sv.f_blocks * sv.f_frsize == 1u << 20 &&
               (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV) && !(sv.f_flag & ST_RDONLY),
           "/tmp: statvfs says 1 MiB, nosuid, nodev");
    ccheck(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777,
           "/tmp: mode 1777");

    /* /dev and /dev/pts */
    snprintf(p, sizeof(p), "%s/dev", root);
    ccheck(find_mnt(p, &m) && !strcmp(m.fstype, "tmpfs") && has_opt(m.super, "mode=755") &&
               has_opt(m.super, "size=65536k") && has_opt(m.opts, "nosuid"),
           "/dev: tmpfs mode=755 size=65536k nosuid");
    snprintf(p, sizeof(p), "%s/dev/pts", root);
    ccheck(find_mnt(p, &m) && !strcmp(m.fstype, "devpts") && has_opt(m.super, "ptmxmode=666") &&
               has_opt(m.opts, "noexec"),
           "/dev/pts: devpts ptmxmode=666 noexec (%s)", m.super);

    /* read-only binds of a directory and of a file */
    snprintf(p, sizeof(p), "%s/data", root);
    ccheck(find_mnt(p, &m) && has_opt(m.opts, "ro"), "/data: bound read-only (%s)", m.opts);
    ccheck(statvfs(p, &sv) == 0 && (sv.f_flag & ST_RDONLY), "/data: statvfs ST_RDONLY");
    snprintf(p, sizeof(p), "%s/data/hostfile.txt", root);
    ccheck(file_is(p, "from the host\n"), "/data shows the host directory");
    snprintf(p, sizeof(p), "%s/data/new", root);
    ccheck(open_fails(p, O_WRONLY | O_CREAT, EROFS), "/data: creating a file is EROFS");
    snprintf(p, sizeof(p), "%s/etc/bound-file", root);
    ccheck(stat(p, &st) == 0 && S_ISREG(st.st_mode) && file_is(p, "bound file\n"),
           "a file bound onto a file created in the rootfs");
    ccheck(open_fails(p, O_WRONLY, EROFS), "the bound file is read-only");

    /* proc */
    snprintf(p, sizeof(p), "%s/proc", root);
    ccheck(statfs(p, &sf) == 0 && sf.f_type == PROC_MAGIC, "/proc is procfs");
    snprintf(p, sizeof(p), "%s/proc/self/status", root);
    ccheck(access(p, R_OK) == 0, "/proc/self/status readable");

    /* mounts through symlinks and "..": inside the rootfs, never on the host */
    const struct {
        const char *name, *how;
    } inside[] = {{escaped, "a symlink to \"/\""},
                  {upper, "a symlink to \"../../../..\""},
                  {dangling, "a dangling symlink to an absolute path"},
                  {dotdot, "\"/../../..\""}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(inside); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, inside[i].name);
        ccheck(is_mountpoint_of(p, "tmpfs"), "a mount through %s lands in the rootfs",
               inside[i].how);
        ccheck(host_absent(inside[i].name), "nothing at the host's /%s", inside[i].name);
    }
    snprintf(p, sizeof(p), "%s/dangling", root);
    ccheck(lstat(p, &st) == 0 && S_ISLNK(st.st_mode), "the dangling symlink itself is kept");
    /* a file bound onto a dangling symlink (an image's /etc/resolv.conf -> /run/...) */
    snprintf(p, sizeof(p), "%s/%s/stub.conf", root, resolv);
    ccheck(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && file_is(p, "bound file\n"),
           "a file bind through a dangling symlink: its target is made inside the rootfs");
    ccheck(host_absent(resolv), "nothing at the host's /%s", resolv);

    /* tmpcopyup */
    snprintf(p, sizeof(p), "%s/opt", root);
    ccheck(statfs(p, &sf) == 0 && sf.f_type == TMPFS_MAGIC_, "/opt is a tmpfs");
    snprintf(p, sizeof(p), "%s/opt/keep.txt", root);
    ccheck(file_is(p, "kept\n"), "tmpcopyup: the rootfs's /opt/keep.txt is copied up");
    snprintf(p, sizeof(p), "%s/opt/sub/deeper.txt", root);
    ccheck(file_is(p, "deeper\n"), "tmpcopyup: subdirectories too");
    snprintf(p, sizeof(p), "%s/opt/link", root);
    ccheck(link_is(p, "keep.txt"), "tmpcopyup: symlinks too");

    /* devices on the /dev tmpfs */
    static const struct {
        const char *name;
        unsigned int maj, min;
    } devs[] = {{"null", 1, 3}, {"zero", 1, 5}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(devs); i++) {
        snprintf(p, sizeof(p), "%s/dev/%s", root, devs[i].name);
        ccheck(is_chardev(p, devs[i].maj, devs[i].min, 0666), "/dev/%s: char %u:%u, mode 0666",
               devs[i].name, devs[i].maj, devs[i].min);
    }
    snprintf(p, sizeof(p), "%s/dev/custom", root);
    ccheck(is_chardev_owned(p, 1, 5, 0640, 1000, 1001),
           "linux.devices: /dev/custom char 1:5 mode 0640 owner 1000:1001");
    snprintf(p, sizeof(p), "%s/dev/full", root);
    ccheck(is_chardev(p, 1, 7, 0600), "linux.devices overrides the default /dev/full: mode 0600");
    snprintf(p, sizeof(p), "%s/dev/myfifo", root);
    ccheck(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0644,
           "a fifo device (type p), mode 0644");
    snprintf(p, sizeof(p), "%s/dev/sub/blk", root);
    ccheck(lstat(p, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == makedev(7, 0) &&
               (st.st_mode & 07777) == 0660,
           "a block device 7:0 in a new subdirectory, mode 0660");
    static const struct {
        const char *name, *target;
    } links[] = {{"fd", "/proc/self/fd"},
                 {"stdin", "/proc/self/fd/0"},
                 {"stdout", "/proc/self/fd/1"},
                 {"stderr", "/proc/self/fd/2"},
                 {"ptmx", "pts/ptmx"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(links); i++) {
        snprintf(p, sizeof(p), "%s/dev/%s", root, links[i].name);
        ccheck(link_is(p, links[i].target), "/dev/%s -> %s", links[i].name, links[i].target);
    }
    snprintf(p, sizeof(p), "%s/dev/core", root);
    if (access("/proc/kcore", F_OK) == 0)
        ccheck(link_is(p, "/proc/kcore"), "/dev/core -> /proc/kcore");

    /* nothing is shared with the host any more: "/" was made rslave first */
    _cleanup_free_ char *mi = read_mountinfo();
    ccheck(mi && !strstr(mi, " shared:"), "no mount in the namespace is shared");
}

static void
check_pivoted(void)
{
    char cwd[PATH_MAX] = "";
    ccheck(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"), "cwd is / (%s)", cwd);
    ccheck(file_is("/marker", "the container's root\n"), "/marker: \"/\" is the rootfs");
    ccheck(is_mountpoint_of("/", NULL), "mountinfo has \"/\"");
    /* mount points are shown from the new root; none is the host path of the rootfs */
    _cleanup_free_ char *mi = read_mountinfo();
    char *save = NULL;
    size_t n = 0, outside = 0;
    struct mnt m;
    for (char *line = mi ? strtok_r(mi, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save), n++)
        if (parse_mnt(line, &m) && berth_str_has_prefix(m.mp, tmp))
            outside++;
    ccheck(n > 0 && outside == 0, "no mount point under the host path of the rootfs (%zu of %zu)",
           outside, n);
    ccheck(!find_mnt("/sys", &m) && !find_mnt("/run/netns", &m),
           "the old root's mounts are gone (no /sys, no /run/netns)");
    ccheck(file_is("/data/hostfile.txt", "from the host\n"), "/data inside");
    ccheck(file_is("/masked_file", "secret\n"), "/masked_file before finalize");
}

static void
check_finalized(void)
{
    char buf[64];
    struct stat st;
    struct statvfs sv;

    /* masked paths read empty */
    ccheck(count_entries("/masked_dir") == 0, "masked directory: empty");
    ccheck(open_fails("/masked_dir/inner", O_RDONLY, ENOENT), "its file is hidden");
    ccheck(open_fails("/masked_dir/new", O_WRONLY | O_CREAT, EROFS), "and it is read-only");
    int fd = open("/masked_file", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (fd >= 0)
        close(fd);
    ccheck(n == 0, "masked file: reads empty (%zd)", n);
    ccheck(stat("/masked_file", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
           "masked file: /dev/null bound over it");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(proc_masked); i++) {
        if (!proc_masked[i].exists)
            continue;
        fd = open(proc_masked[i].path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
        if (fd >= 0)
            close(fd);
        ccheck(n == 0, "%s masked: reads empty (%zd)", proc_masked[i].path, n);
    }

    /* read-only paths */
    ccheck(file_is("/ro_dir/f", "ro\n"), "read-only dir: still readable");
    ccheck(open_fails("/ro_dir/f", O_WRONLY, EROFS), "read-only dir: writing a file is EROFS");
    ccheck(open_fails("/ro_dir/new", O_WRONLY | O_CREAT, EROFS), "creating a file is EROFS");
    ccheck(open_fails("/proc/sys/kernel/domainname", O_WRONLY, EROFS),
           "/proc/sys read-only: EROFS");
    ccheck(statvfs("/proc/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/proc/sys is ST_RDONLY");
    ccheck(statvfs("/proc", &sv) == 0 && !(sv.f_flag & ST_RDONLY), "/proc itself stays rw");
    struct mnt m;
    ccheck(find_mnt("/run", &m) && has_opt(m.opts, "ro") && has_opt(m.opts, "nosuid") &&
               has_opt(m.opts, "nodev") && has_opt(m.opts, "noexec"),
           "a read-only path keeps nosuid, nodev, noexec of its mount (%s)", m.opts);
    ccheck(open_fails("/run/x", O_WRONLY | O_CREAT, EROFS), "/run: EROFS");

    /* the read-only root */
    ccheck(statvfs("/", &sv) == 0 && (sv.f_flag & ST_RDONLY), "\"/\" is ST_RDONLY");
    ccheck(open_fails("/newfile", O_WRONLY | O_CREAT, EROFS), "creating /newfile: EROFS");
    int r = mkdir("/newdir", 0755);
    ccheck(r < 0 && errno == EROFS, "mkdir /newdir: EROFS");
    fd = open("/tmp/scratch", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ccheck(fd >= 0, "/tmp (a tmpfs) is still writable");
    if (fd >= 0)
        close(fd);
    fd = open("/opt/written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ccheck(fd >= 0, "/opt (tmpcopyup tmpfs) is writable");
    if (fd >= 0)
        close(fd);

    /* the devices work */
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ccheck(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null takes a write");
    if (fd >= 0)
        close(fd);
    memset(buf, 'x', sizeof(buf));
    fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (fd >= 0)
        close(fd);
    ccheck(n == (ssize_t)sizeof(buf) && buf[0] == 0 && buf[sizeof(buf) - 1] == 0,
           "/dev/zero reads zeros");
    fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    char pts[64] = "";
    ccheck(fd >= 0 && ptsname_r(fd, pts, sizeof(pts)) == 0 &&
               berth_str_has_prefix(pts, "/dev/pts/"),
           "/dev/ptmx opens the devpts instance (%s)", pts);
    if (fd >= 0)
        close(fd);
    ccheck(stat("/dev/fd", &st) == 0 && S_ISDIR(st.st_mode), "/dev/fd resolves through /proc");
}

static void
child_full(const void *arg)
{
    if (*(const bool *)arg)
        berth_fs_force_fallback(true);
    _cleanup_free_ char *json = full_config();
    struct berth_spec *spec = NULL;
    int r = parse_spec(json, &spec);
    ccheck(r == 0, "config.json parses");
    if (r < 0)
        return;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(proc_masked); i++)
        proc_masked[i].exists = access(proc_masked[i].path, F_OK) == 0;
    _cleanup_free_ char *mi = read_mountinfo();
    if (!mi || !strstr(mi, " shared:"))
        cdiag(" no shared mount on this host: the propagation check below proves little");
    struct berth_error *e = NULL;
    r = berth_rootfs_prepare(spec, false, &e);
    ccheck(r == 0, "berth_rootfs_prepare (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    if (r < 0)
        return;
    check_prepared();
    r = berth_rootfs_pivot(spec, false, &e);
    ccheck(r == 0, "berth_rootfs_pivot (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    if (r < 0)
        return;
    check_pivoted();
    r = berth_rootfs_finalize(spec, false, &e);
    ccheck(r == 0, "berth_rootfs_finalize (missing masked and read-only paths are skipped) (%s)",
           e ? e->msg : "ok");
    berth_error_freep(&e);
    if (r < 0)
        return;
    check_finalized();
    berth_spec_free(spec);
}

/* ---- /dev bound from the host, and MS_MOVE + chroot instead of pivot_root ---- */

static void
child_no_pivot(const void *arg)
{
    (void)arg;
    _cleanup_free_ char *fakedev = pathf("fakedev");
    _cleanup_free_ char *json = NULL;
    if (asprintf(&json,
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs2\"}, \"mounts\": ["
                 "{\"destination\": \"/dev\", \"type\": \"bind\", \"source\": \"%s\", "
                 "\"options\": [\"rbind\"]}, {\"destination\": \"/proc\", \"type\": \"proc\", "
                 "\"source\": \"proc\"}], \"linux\": {\"rootfsPropagation\": \"rshared\"}}",
                 fakedev) < 0)
        return;
    struct berth_spec *spec = NULL;
    int r = parse_spec(json, &spec);
    ccheck(r == 0, "config.json parses");
    if (r < 0)
        return;
    struct berth_error *e = NULL;
    r = berth_rootfs_prepare(spec, false, &e);
    ccheck(r == 0, "prepare (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    _cleanup_free_ char *sentinel = pathf("rootfs2/dev/sentinel");
    _cleanup_free_ char *null = pathf("rootfs2/dev/null");
    ccheck(access(sentinel, F_OK) == 0, "/dev is the bound host directory");
    ccheck(access(null, F_OK) < 0 && errno == ENOENT, "a bound /dev gets no devices created");
    _cleanup_free_ char *mi = read_mountinfo();
    ccheck(mi && !strstr(mi, " shared:"),
           "rootfsPropagation rshared: still nothing shared while mounting");
    r = berth_rootfs_pivot(spec, true, &e);
    ccheck(r == 0, "no_pivot: MS_MOVE and chroot (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    char cwd[PATH_MAX] = "";
    ccheck(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"), "cwd is / (%s)", cwd);
    ccheck(file_is("/marker", "rootfs2\n"), "\"/\" is the second rootfs");
    ccheck(access("/dev/sentinel", F_OK) == 0, "its /dev is there");
    r = berth_rootfs_finalize(spec, false, &e);
    ccheck(r == 0, "finalize with nothing to do");
    berth_error_freep(&e);
    struct mnt m;
    ccheck(find_mnt("/", &m) && strstr(m.optional, "shared:"),
           "finalize makes \"/\" shared at the end (%s)", m.optional);
    berth_spec_free(spec);
}

/* ---- no /dev mount at all: devices made in the rootfs directory ---- */

static void
child_dev_in_dir(const void *arg)
{
    (void)arg;
    static const char json[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs3\"}, "
                               "\"linux\": {\"rootfsPropagation\": \"private\"}}";
    struct berth_spec *spec = NULL;
    int r = parse_spec(json, &spec);
    struct berth_error *e = NULL;
    r = r == 0 ? berth_rootfs_prepare(spec, false, &e) : r;
    ccheck(r == 0, "prepare without mounts (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    _cleanup_free_ char *null = pathf("rootfs3/dev/null");
    _cleanup_free_ char *ptmx = pathf("rootfs3/dev/ptmx");
    ccheck(is_chardev(null, 1, 3, 0666), "/dev/null made in the rootfs's own /dev");
    ccheck(link_is(ptmx, "pts/ptmx"), "and the /dev symlinks");
    _cleanup_free_ char *mi = read_mountinfo();
    ccheck(mi && !strstr(mi, " shared:") && !strstr(mi, " master:"),
           "rootfsPropagation private: no shared or slave mount left");
    /* prepare again on the same rootfs: existing nodes and links are fine */
    r = berth_rootfs_prepare(spec, false, &e);
    ccheck(r == 0, "prepare twice (%s)", e ? e->msg : "ok");
    berth_error_freep(&e);
    berth_spec_free(spec);
}

/* ---- errors ---- */

static void
prepare_fails(const char *json, int want_r, const char *want_msg, const char *what)
{
    struct berth_spec *spec = NULL;
    int r = parse_spec(json, &spec);
    if (r < 0) {
        ccheck(false, "%s: config parses", what);
        return;
    }
    struct berth_error *e = NULL;
    r = berth_rootfs_prepare(spec, false, &e);
    ccheck(r == want_r && msg_is(e, want_msg), "%s (%d)", what, r);
    berth_error_freep(&e);
    berth_spec_free(spec);
}

static void
child_errors(const void *arg)
{
    (void)arg;
    char json[1024], want[1024];
    _cleanup_free_ char *missing = pathf("missing");
    _cleanup_free_ char *marker = pathf("rootfs3/marker");
    _cleanup_free_ char *nosrc = pathf("no-source");

    snprintf(json, sizeof(json), "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"%s\"}}",
             missing);
    snprintf(want, sizeof(want), "rootfs '%s': No such file or directory", missing);
    prepare_fails(json, -ENOENT, want, "a missing rootfs: ENOENT");

    snprintf(json, sizeof(json), "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"%s\"}}",
             marker);
    snprintf(want, sizeof(want), "rootfs '%s' is not a directory", marker);
    prepare_fails(json, -ENOTDIR, want, "a rootfs that is a file: ENOTDIR");

    snprintf(json, sizeof(json),
             "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs3\"}, \"mounts\": "
             "[{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"%s\", \"options\": "
             "[\"bind\"]}]}",
             nosrc);
    snprintf(want, sizeof(want), "mount /x: source '%s': No such file or directory", nosrc);
    prepare_fails(json, -ENOENT, want, "a bind of a missing source: ENOENT");

    snprintf(json, sizeof(json),
             "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs3\"}, \"mounts\": "
             "[{\"destination\": \"/y\", \"type\": \"nosuchfs\", \"source\": \"none\"}]}");
    prepare_fails(json, -ENODEV, "mount none (type nosuchfs, options \"\") on /y: No such device",
                  "an unknown filesystem type: ENODEV");

    snprintf(json, sizeof(json),
             "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs3\"}, \"mounts\": "
             "[{\"destination\": \"/z\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
             "\"options\": [\"size=nonsense\"]}]}");
    prepare_fails(json, -EINVAL,
                  "mount tmpfs (type tmpfs, options \"size=nonsense\") on /z: Invalid argument",
                  "bad filesystem options: EINVAL with the options");
}

/* ---- the test's rootfs ---- */

/* Names the full sequence uses; two variants (openat2, and the fallback walk) each get a
 * rootfs of their own and unique names for what must not appear at the host's "/". */
static void
set_variant(const char *dir, const char *tag)
{
    rootdir = dir;
    snprintf(escaped, sizeof(escaped), "berth-escaped-%s%s", suffix, tag);
    snprintf(upper, sizeof(upper), "berth-up-%s%s", suffix, tag);
    snprintf(dangling, sizeof(dangling), "berth-dangling-%s%s", suffix, tag);
    snprintf(dotdot, sizeof(dotdot), "berth-dotdot-%s%s", suffix, tag);
    snprintf(resolv, sizeof(resolv), "berth-resolv-%s%s", suffix, tag);
}

static bool
build_rootfs(void)
{
    static const char *const dirs[] = {"",    "proc",    "dev",        "etc",   "tmp",
                                       "opt", "opt/sub", "masked_dir", "ro_dir"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *p = pathf("%s/%s", rootdir, dirs[i]);
        if (mkdir(p, 0755) < 0)
            return false;
    }
    static const struct {
        const char *path, *content;
    } files[] = {
        {"marker", "the container's root\n"}, {"masked_dir/inner", "hidden\n"},
        {"masked_file", "secret\n"},          {"ro_dir/f", "ro\n"},
        {"opt/keep.txt", "kept\n"},           {"opt/sub/deeper.txt", "deeper\n"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *p = pathf("%s/%s", rootdir, files[i].path);
        if (!put_file(p, files[i].content))
            return false;
    }
    char target[80], target2[96];
    snprintf(target, sizeof(target), "/%s", dangling);
    snprintf(target2, sizeof(target2), "/%s/stub.conf", resolv);
    const struct {
        const char *target, *link;
    } links[] = {{"/", "escape"},
                 {"../../../..", "up"},
                 {target, "dangling"},
                 {target2, "etc/resolv.conf"},
                 {"keep.txt", "opt/link"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(links); i++) {
        _cleanup_free_ char *p = pathf("%s/%s", rootdir, links[i].link);
        if (symlink(links[i].target, p) < 0)
            return false;
    }
    return true;
}

static bool
build_tree(void)
{
    static const char *const dirs[] = {"hostdir", "fakedev", "rootfs2", "rootfs2/dev", "rootfs3"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *p = pathf("%s", dirs[i]);
        if (mkdir(p, 0755) < 0)
            return false;
    }
    static const struct {
        const char *path, *content;
    } files[] = {
        {"hostdir/hostfile.txt", "from the host\n"},
        {"hostfile", "bound file\n"},
        {"fakedev/sentinel", "\n"},
        {"rootfs2/marker", "rootfs2\n"},
        {"rootfs3/marker", "rootfs3\n"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *p = pathf("%s", files[i].path);
        if (!put_file(p, files[i].content))
            return false;
    }
    return true;
}

/* The full sequence in one variant, then the host's "/" and the rootfs directory checked. */
static void
run_full(const char *what, const char *dir, const char *tag, bool fallback)
{
    set_variant(dir, tag);
    check(build_rootfs(), "%s: a rootfs of directories, files and symlinks at %s/%s", what, tmp,
          dir);
    run_in_ns(what, child_full, &fallback);
    bool none = host_absent(escaped) && host_absent(upper) && host_absent(dangling) &&
                host_absent(dotdot) && host_absent(resolv);
    ok(none, "%s: nothing created at the host's \"/\"", what);
    _cleanup_free_ char *written = pathf("%s/opt/written", dir);
    _cleanup_free_ char *scratch = pathf("%s/tmp/scratch", dir);
    check(access(written, F_OK) < 0 && access(scratch, F_OK) < 0,
          "%s: files written on the container's tmpfs mounts are not in the rootfs directory",
          what);
}

/* Unmounts anything under tmp that reached this (the host's) namespace; returns how many. */
static int
host_mounts_under_tmp(bool unmount)
{
    _cleanup_free_ char *text = read_mountinfo();
    int n = 0;
    char *save = NULL;
    char *mps[256];
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        struct mnt m;
        if (parse_mnt(line, &m) && berth_str_has_prefix(m.mp, tmp) && n < 256) {
            printf("#   host mount: %s\n", m.mp);
            mps[n++] = strdup(m.mp);
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        if (unmount)
            umount2(mps[i], MNT_DETACH);
        free(mps[i]);
    }
    return n;
}

int
main(void)
{
    if (geteuid() != 0) {
        ok(true, "# skip: needs root");
        return tap_done();
    }
    if (!tmpdir_make(tmp))
        return tap_done();
    suffix = tmp + strlen(tmp) - 6;
    check(build_tree(), "host directories and the small rootfs2, rootfs3 under %s", tmp);

    run_full("pivot_root", "rootfs", "", false);
    /* the same with paths resolved by the component walk that replaces openat2 on old kernels */
    run_full("fallback walk", "rootfs-fb", "-fb", true);
    run_in_ns("no_pivot", child_no_pivot, NULL);
    run_in_ns("/dev in the rootfs", child_dev_in_dir, NULL);
    run_in_ns("errors", child_errors, NULL);

    /* the host saw none of it */
    int leaked = host_mounts_under_tmp(true);
    ok(leaked == 0, "no mount under %s in the host's mountinfo (%d)", tmp, leaked);
    tmpdir_remove(tmp, "temp dir removed");
    return tap_done();
}
