#include "runtime/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/syscall.h"
#include "core/util.h"

static const struct {
    const char *path;
    int major, minor;
} default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static const struct {
    const char *target, *link;
} dev_symlinks[] = {
    {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    {"pts/ptmx", "/dev/ptmx"},
};

/* Flags that a mount inherits from where it came from and that an unprivileged (user
 * namespace) remount may not drop: keep them on a bind remount. */
static unsigned long
locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY)
        f |= MS_RDONLY;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

/* Remounts what is now mounted at dest (a fresh open: an fd taken before the mount still refers
 * to the directory underneath). */
static int
remount_in_root(int rootfd, const char *dest, unsigned long flags, const char *data,
                struct berth_error **err)
{
    _cleanup_close_ int fd = berth_open_in_root(rootfd, dest, O_PATH, 0);
    if (fd < 0)
        return berth_error_set(err, -fd, "resolve %s", dest);
    char target[64];
    berth_fd_path(fd, target, sizeof(target));
    if (mount(NULL, target, NULL, flags, data) < 0)
        return berth_error_set(err, errno, "remount %s", dest);
    return 0;
}

static bool
needs_dev_setup(const struct berth_spec *spec)
{
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (!strcmp(spec->mounts[i].destination, "/dev"))
            return !spec->mounts[i].bind;
    return true;
}

/* Copies the directory tree at src into dst (tmpcopyup: a tmpfs starts with what was there). */
static int
copy_tree(int src, int dst, struct berth_error **err)
{
    int sfd = dup(src);
    if (sfd < 0)
        return berth_error_set(err, errno, "tmpcopyup");
    _cleanup_closedir_ DIR *d = fdopendir(sfd);
    if (!d) {
        close(sfd);
        return berth_error_set(err, errno, "tmpcopyup");
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(dst, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST)
                return berth_error_set(err, errno, "tmpcopyup: mkdir %s", de->d_name);
            _cleanup_close_ int s2 =
                openat(src, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            _cleanup_close_ int d2 =
                openat(dst, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (s2 < 0 || d2 < 0)
                return berth_error_set(err, errno, "tmpcopyup: open %s", de->d_name);
            int r = copy_tree(s2, d2, err);
            if (r < 0)
                return r;
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(src, de->d_name, target, sizeof(target) - 1);
            if (n < 0)
                continue;
            target[n] = '\0';
            if (symlinkat(target, dst, de->d_name) < 0 && errno != EEXIST)
                return berth_error_set(err, errno, "tmpcopyup: symlink %s", de->d_name);
        } else if (S_ISREG(st.st_mode)) {
            _cleanup_close_ int in = openat(src, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            _cleanup_close_ int out =
                openat(dst, de->d_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                       st.st_mode & 07777);
            if (in < 0 || out < 0)
                return berth_error_set(err, errno, "tmpcopyup: copy %s", de->d_name);
            char buf[65536];
            ssize_t n;
            while ((n = read(in, buf, sizeof(buf))) > 0)
                if (berth_write_all(out, buf, (size_t)n) < 0)
                    return berth_error_set(err, errno, "tmpcopyup: write %s", de->d_name);
        } else {
            continue;
        }
        (void)fchownat(dst, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    }
    return 0;
}

/* One cgroup hierarchy mounted on the host under /sys/fs/cgroup. */
struct hierarchy {
    char mountpoint[256];
    char fstype[16];   /* cgroup or cgroup2 */
    char options[256]; /* the controllers ("cpu,cpuacct", "name=systemd"), for a fresh mount */
};

static size_t
read_hierarchies(struct hierarchy *out, size_t max, struct berth_error **err)
{
    _cleanup_free_ char *mountinfo = NULL;
    if (berth_read_file("/proc/self/mountinfo", 4u << 20, &mountinfo, NULL, err) < 0)
        return 0;
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(mountinfo, "\n", &save); line && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char mp[256], fstype[16], super[512];
        if (sscanf(line, "%*s %*s %*s %*s %255s %*[^-]- %15s %*s %511s", mp, fstype, super) != 3)
            continue;
        if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
            continue;
        if (!berth_str_has_prefix(mp, "/sys/fs/cgroup"))
            continue;
        struct hierarchy *h = &out[n++];
        snprintf(h->mountpoint, sizeof(h->mountpoint), "%s", mp);
        snprintf(h->fstype, sizeof(h->fstype), "%s", fstype);
        h->options[0] = '\0';
        char *s2 = NULL;
        for (char *tok = strtok_r(super, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
            if (!strcmp(tok, "rw") || !strcmp(tok, "ro") || strchr(tok, '=') != NULL) {
                if (!berth_str_has_prefix(tok, "name="))
                    continue;
            }
            size_t l = strlen(h->options);
            snprintf(h->options + l, sizeof(h->options) - l, "%s%s", l ? "," : "", tok);
        }
    }
    return n;
}

/* The host path of our cgroup in the hierarchy with these controllers (from /proc/self/cgroup,
 * read before entering a cgroup namespace, or without one). */
static bool
own_cgroup_path(const char *self, const struct hierarchy *h, char *out, size_t len)
{
    _cleanup_free_ char *copy = strdup(self);
    char *save = NULL;
    for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        bool match = !strcmp(h->fstype, "cgroup2") ? c1[1] == '\0' : !strcmp(c1 + 1, h->options);
        if (match) {
            int w = snprintf(out, len, "%s%s", h->mountpoint, c2 + 1);
            return w > 0 && (size_t)w < len;
        }
    }
    return false;
}

/* Mounts the container's view of its cgroups at dest (a "cgroup" mount in config.json). In a
 * cgroup namespace a fresh mount of each hierarchy shows the container's own subtree as its
 * root; without one, the container's cgroup directories are bound from the host. */
static int
mount_cgroup_tree(int rootfd, const struct berth_spec_mount *m, bool cgroupns,
                  struct berth_error **err)
{
    _cleanup_close_ int destfd = -1;
    int r = berth_mkdir_in_root(rootfd, m->destination, 0755, false, &destfd, err);
    if (r < 0)
        return r;
    char target[64];
    berth_fd_path(destfd, target, sizeof(target));
    unsigned long base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    unsigned long ro = m->flags & MS_RDONLY;
    struct hierarchy hs[32];
    size_t n = read_hierarchies(hs, BERTH_ARRAY_SIZE(hs), err);
    if (n == 0)
        return err && *err ? -EINVAL : 0;
    _cleanup_free_ char *self = NULL;
    if (!cgroupns && (r = berth_read_file("/proc/self/cgroup", 1u << 20, &self, NULL, err)) < 0)
        return r;
    bool pure_v2 = n == 1 && !strcmp(hs[0].mountpoint, "/sys/fs/cgroup");
    if (!pure_v2 && mount("tmpfs", target, "tmpfs", base, "mode=755") < 0)
        return berth_error_set(err, errno, "mount tmpfs on %s", m->destination);
    for (size_t i = 0; i < n; i++) {
        const struct hierarchy *h = &hs[i];
        char sub[PATH_MAX];
        if (pure_v2)
            snprintf(sub, sizeof(sub), "%s", m->destination);
        else if (!berth_str_has_prefix(h->mountpoint, "/sys/fs/cgroup/"))
            continue;
        else
            snprintf(sub, sizeof(sub), "%s/%s", m->destination,
                     h->mountpoint + strlen("/sys/fs/cgroup/"));
        _cleanup_close_ int subfd = -1;
        if ((r = berth_mkdir_in_root(rootfd, sub, 0755, false, &subfd, err)) < 0)
            return r;
        char subtarget[64];
        berth_fd_path(subfd, subtarget, sizeof(subtarget));
        if (cgroupns) {
            bool v2 = !strcmp(h->fstype, "cgroup2");
            if (mount(v2 ? "cgroup2" : "cgroup", subtarget, h->fstype, base | ro,
                      v2 ? NULL : h->options) < 0)
                return berth_error_set(err, errno, "mount %s (%s) on %s", h->fstype,
                                       v2 ? "unified" : h->options, sub);
        } else {
            char src[PATH_MAX * 2];
            if (!own_cgroup_path(self, h, src, sizeof(src)))
                continue;
            if (mount(src, subtarget, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_error_set(err, errno, "bind cgroup %s", src);
            if ((r = remount_in_root(rootfd, sub, MS_BIND | MS_REMOUNT | base | ro, NULL, err)) < 0)
                return r;
        }
        /* cpu,cpuacct style hierarchies also get the short names images expect */
        const char *name = strrchr(sub, '/') + 1;
        if (!pure_v2 && strchr(name, ',')) {
            _cleanup_free_ char *names = strdup(name);
            _cleanup_close_ int dfd =
                berth_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, 0);
            char *save = NULL;
            for (char *tok = names ? strtok_r(names, ",", &save) : NULL; tok && dfd >= 0;
                 tok = strtok_r(NULL, ",", &save))
                (void)symlinkat(name, dfd, tok);
        }
    }
    if (!pure_v2 && ro)
        return remount_in_root(rootfd, m->destination, MS_REMOUNT | base | MS_RDONLY, "mode=755",
                               err);
    return 0;
}

static int
do_mount(int rootfd, const struct berth_spec_mount *m, bool in_userns, bool cgroupns,
         struct berth_error **err)
{
    if (m->type && !strcmp(m->type, "cgroup"))
        return mount_cgroup_tree(rootfd, m, cgroupns, err);
    bool is_file = false;
    if (m->bind) {
        struct stat st;
        if (stat(m->source, &st) < 0)
            return berth_error_set(err, errno, "mount %s: source '%s'", m->destination, m->source);
        is_file = !S_ISDIR(st.st_mode);
    }
    _cleanup_close_ int destfd = -1;
    int r = berth_mkdir_in_root(rootfd, m->destination, 0755, is_file, &destfd, err);
    if (r < 0)
        return r;
    char target[64];
    berth_fd_path(destfd, target, sizeof(target));
    unsigned long flags = m->flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
    if (m->bind) {
        if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
            return berth_error_set(err, errno, "bind mount '%s' on %s", m->source, m->destination);
        unsigned long want = flags;
        if (want & ~(MS_SILENT)) {
            if (in_userns)
                want |= locked_flags(m->source) & ~m->clear_flags & ~MS_RDONLY;
            if ((r = remount_in_root(rootfd, m->destination,
                                     MS_BIND | MS_REMOUNT | (m->flags & MS_REC) | want, NULL,
                                     err)) < 0)
                return r;
        }
    } else {
        _cleanup_close_ int olddir = -1;
        if (m->tmpcopyup)
            olddir = openat(destfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const char *source = m->source ? m->source : m->type;
        const char *type = m->type;
        if (mount(source, target, type, flags, m->data) < 0) {
            int e = errno;
            /* sysfs in a user namespace without its own network namespace: bind the host's */
            if (!strcmp(type, "sysfs") && (e == EPERM || e == EBUSY)) {
                if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
                    return berth_error_set(err, errno, "bind /sys on %s", m->destination);
                (void)remount_in_root(rootfd, m->destination,
                                      MS_BIND | MS_REMOUNT | MS_REC | flags | MS_RDONLY, NULL,
                                      NULL);
            } else if (!strcmp(type, "mqueue") && (e == EPERM || e == ENODEV)) {
                if (mount("/dev/mqueue", target, NULL, MS_BIND, NULL) < 0)
                    return berth_error_set(err, e, "mount mqueue on %s", m->destination);
            } else {
                return berth_error_set(err, e, "mount %s (type %s, options \"%s\") on %s", source,
                                       type, m->data ? m->data : "", m->destination);
            }
        }
        if (olddir >= 0) {
            _cleanup_close_ int newdir =
                berth_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0);
            if (newdir < 0)
                return berth_error_set(err, -newdir, "tmpcopyup %s", m->destination);
            if ((r = copy_tree(olddir, newdir, err)) < 0)
                return berth_error_wrap(err, "%s", m->destination);
        }
    }
    if (m->propagation) {
        _cleanup_close_ int fd2 = berth_open_in_root(rootfd, m->destination, O_PATH, 0);
        char t2[64];
        berth_fd_path(fd2, t2, sizeof(t2));
        if (fd2 < 0 || mount(NULL, t2, NULL, m->propagation, NULL) < 0)
            return berth_error_set(err, errno, "set propagation of %s", m->destination);
    }
    return 0;
}

static int
create_device(int rootfd, const char *path, char type, int64_t major, int64_t minor, mode_t mode,
              uid_t uid, gid_t gid, bool bind, struct berth_error **err)
{
    const char *rel = path + strspn(path, "/");
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "/%s", rel);
    char *slash = strrchr(parent, '/');
    *slash = '\0';
    const char *name = slash + 1;
    _cleanup_close_ int dirfd = -1;
    int r = berth_mkdir_in_root(rootfd, parent[0] ? parent : "/", 0755, false, &dirfd, err);
    if (r < 0)
        return r;
    _cleanup_close_ int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berth_error_set(err, errno, "open parent of %s", path);
    if (!bind) {
        mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
        (void)unlinkat(dfd, name, 0);
        if (mknodat(dfd, name, kind | (mode & 07777), makedev(major, minor)) == 0) {
            if (fchmodat(dfd, name, mode & 07777, 0) < 0 ||
                fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error_set(err, errno, "set owner/mode of device %s", path);
            return 0;
        }
        if (errno != EPERM)
            return berth_error_set(err, errno, "mknod %s", path);
    }
    /* in a user namespace mknod is refused: bind the host's node instead */
    int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0000);
    if (fd < 0 && errno != EEXIST)
        return berth_error_set(err, errno, "create %s", path);
    if (fd >= 0)
        close(fd);
    _cleanup_close_ int target_fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char target[64];
    berth_fd_path(target_fd, target, sizeof(target));
    if (target_fd < 0 || mount(path, target, NULL, MS_BIND, NULL) < 0)
        return berth_error_set(err, errno, "bind device %s", path);
    return 0;
}

static int
setup_dev(int rootfd, const struct berth_spec *spec, bool in_userns, struct berth_error **err)
{
    int r;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_devices); i++) {
        bool overridden = false;
        for (size_t j = 0; j < spec->linux_.n_devices; j++)
            if (!strcmp(spec->linux_.devices[j].path, default_devices[i].path))
                overridden = true;
        if (overridden)
            continue;
        r = create_device(rootfd, default_devices[i].path, 'c', default_devices[i].major,
                          default_devices[i].minor, 0666, 0, 0, in_userns, err);
        if (r < 0)
            return r;
    }
    for (size_t j = 0; j < spec->linux_.n_devices; j++) {
        const struct berth_spec_device *d = &spec->linux_.devices[j];
        r = create_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, d->major, d->minor,
                          d->has_file_mode ? d->file_mode : 0666, d->has_uid ? d->uid : 0,
                          d->has_gid ? d->gid : 0, in_userns, err);
        if (r < 0)
            return r;
    }
    _cleanup_close_ int devfd = berth_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, 0);
    if (devfd < 0)
        return berth_error_set(err, -devfd, "open /dev in the container");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(dev_symlinks); i++) {
        const char *name = dev_symlinks[i].link + strlen("/dev/");
        if (symlinkat(dev_symlinks[i].target, devfd, name) < 0 && errno != EEXIST)
            return berth_error_set(err, errno, "symlink %s", dev_symlinks[i].link);
    }
    if (access("/proc/kcore", F_OK) == 0)
        (void)symlinkat("/proc/kcore", devfd, "core");
    return 0;
}

int
berth_rootfs_prepare(const struct berth_spec *spec, bool in_userns, struct berth_error **err)
{
    /* nothing we mount may propagate back to the host */
    unsigned long prop =
        spec->linux_.rootfs_propagation ? spec->linux_.rootfs_propagation : MS_SLAVE | MS_REC;
    if (prop & MS_SHARED)
        prop = MS_SLAVE | MS_REC; /* made shared at the end, after pivot_root */
    if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
        return berth_error_set(err, errno, "make / a slave mount");
    struct stat st;
    if (stat(spec->root_path, &st) < 0)
        return berth_error_set(err, errno, "rootfs '%s'", spec->root_path);
    if (!S_ISDIR(st.st_mode))
        return berth_error_setq(err, ENOTDIR, "rootfs '%s' is not a directory", spec->root_path);
    if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return berth_error_set(err, errno, "bind rootfs '%s'", spec->root_path);
    _cleanup_close_ int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return berth_error_set(err, errno, "open rootfs '%s'", spec->root_path);
    const struct berth_spec_namespace *cgns = berth_spec_find_ns(spec, CLONE_NEWCGROUP);
    bool cgroupns = cgns && !cgns->path;
    for (size_t i = 0; i < spec->n_mounts; i++) {
        int r = do_mount(rootfd, &spec->mounts[i], in_userns, cgroupns, err);
        if (r < 0)
            return r;
    }
    if (needs_dev_setup(spec)) {
        int r = setup_dev(rootfd, spec, in_userns, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int
berth_rootfs_pivot(const struct berth_spec *spec, bool no_pivot, struct berth_error **err)
{
    if (chdir(spec->root_path) < 0)
        return berth_error_set(err, errno, "chdir to rootfs");
    if (no_pivot) {
        if (mount(spec->root_path, "/", NULL, MS_MOVE, NULL) < 0)
            return berth_error_set(err, errno, "move rootfs to /");
        if (chroot(".") < 0)
            return berth_error_set(err, errno, "chroot");
        if (chdir("/") < 0)
            return berth_error_set(err, errno, "chdir /");
        return 0;
    }
    _cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int newroot = open(spec->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0 || newroot < 0)
        return berth_error_set(err, errno, "open roots");
    if (fchdir(newroot) < 0)
        return berth_error_set(err, errno, "chdir to rootfs");
    /* pivot_root(".", ".") stacks the old root on top of the new one: no temporary dir needed */
    if (berth_pivot_root(".", ".") < 0)
        return berth_error_set(err, errno, "pivot_root");
    if (fchdir(oldroot) < 0)
        return berth_error_set(err, errno, "chdir to old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return berth_error_set(err, errno, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
        return berth_error_set(err, errno, "unmount old root");
    if (chdir("/") < 0)
        return berth_error_set(err, errno, "chdir /");
    return 0;
}

static int
remount_ro(const char *path, struct berth_error **err)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_error_set(err, errno, "bind %s", path);
    }
    unsigned long keep = locked_flags(path) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
        return berth_error_set(err, errno, "remount %s read-only", path);
    return 0;
}

static int
mask_path(const char *path, struct berth_error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_error_set(err, errno, "mask %s", path);
    }
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
            return berth_error_set(err, errno, "mask %s", path);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0 && errno != ENOENT) {
        return berth_error_set(err, errno, "mask %s", path);
    }
    return 0;
}

int
berth_rootfs_finalize(const struct berth_spec *spec, bool in_userns, struct berth_error **err)
{
    int r;
    for (char **p = spec->linux_.readonly_paths; p && *p; p++)
        if ((r = remount_ro(*p, err)) < 0)
            return r;
    for (char **p = spec->linux_.masked_paths; p && *p; p++)
        if ((r = mask_path(*p, err)) < 0)
            return r;
    if (spec->root_readonly) {
        unsigned long keep = in_userns ? locked_flags("/") & (MS_NOSUID | MS_NODEV | MS_NOEXEC) : 0;
        if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
            return berth_error_set(err, errno, "remount / read-only");
    }
    if (spec->linux_.rootfs_propagation &&
        mount(NULL, "/", NULL, spec->linux_.rootfs_propagation, NULL) < 0)
        return berth_error_set(err, errno, "set rootfs propagation");
    return 0;
}

int
berth_rootfs_setup_console(const char *slave_path, struct berth_error **err)
{
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return berth_error_set(err, errno, "bind %s on /dev/console", slave_path);
    return 0;
}
