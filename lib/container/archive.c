/* docker cp and docker export: the stat of a path in the container, and the helper child that
 * tars from or extracts into the container's root filesystem.
 *
 * The helper is this binary re-executed through /proc/self/exe (forking a threaded daemon and
 * then running libarchive could deadlock on a lock held at fork time), recognised before main()
 * by a constructor, as the layer unpack child is. It gets the root filesystem as an fd, chroots
 * there and only then opens anything: a symlink in the container resolves inside it, whatever
 * it points at. */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <jansson.h>
#include <langinfo.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "container/fs.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/syscall.h"
#include "core/util.h"

extern char **environ;

/* ---- stat ---- */

uint32_t
berth_go_file_mode(mode_t mode)
{
    uint32_t m = mode & 0777;
    switch (mode & S_IFMT) {
    case S_IFDIR:
        m |= 1u << 31;
        break;
    case S_IFLNK:
        m |= 1u << 27;
        break;
    case S_IFBLK:
        m |= 1u << 26;
        break;
    case S_IFCHR:
        m |= (1u << 26) | (1u << 21);
        break;
    case S_IFIFO:
        m |= 1u << 25;
        break;
    case S_IFSOCK:
        m |= 1u << 24;
        break;
    default:
        break;
    }
    if (mode & S_ISUID)
        m |= 1u << 23;
    if (mode & S_ISGID)
        m |= 1u << 22;
    if (mode & S_ISVTX)
        m |= 1u << 20;
    return m;
}

/* Lexical clean of an absolute path: "/a/./b/../c" -> "/a/c"; ".." stops at "/". */
static void
clean_abs(const char *in, char out[PATH_MAX])
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = len ? memrchr(out, '/', len) : NULL;
            len = slash ? (size_t)(slash - out) : 0;
            out[len] = '\0';
        } else if (len + 1 + n < PATH_MAX) {
            out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
            out[len] = '\0';
        }
        p = end;
    }
    if (!len)
        snprintf(out, PATH_MAX, "/");
}

/* The in-container absolute path that a path resolves to (symlinks followed inside the root),
 * as moby's FollowSymlinkInScope; a dangling last link is resolved lexically. */
static void
resolve_in_root(int root_fd, const char *abs, char out[PATH_MAX])
{
    char cur[PATH_MAX];
    clean_abs(abs, cur);
    for (int hops = 0; hops < 40; hops++) {
        int fd = berth_open_in_root(root_fd, cur, O_PATH, 0);
        if (fd >= 0) {
            /* where it landed, relative to the root's own path */
            char rootp[PATH_MAX], got[PATH_MAX], proc[64];
            snprintf(proc, sizeof(proc), "/proc/self/fd/%d", root_fd);
            ssize_t rn = readlink(proc, rootp, sizeof(rootp) - 1);
            snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
            ssize_t gn = readlink(proc, got, sizeof(got) - 1);
            close(fd);
            if (rn > 0 && gn >= rn) {
                rootp[rn] = got[gn] = '\0';
                if (!strncmp(got, rootp, (size_t)rn) && (got[rn] == '/' || !got[rn])) {
                    clean_abs(got + rn, out);
                    return;
                }
            }
            break;
        }
        /* dangling: follow the last link by hand */
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", cur);
        char *slash = strrchr(dir, '/');
        const char *base = cur + (slash - dir) + 1;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        _cleanup_close_ int dfd = berth_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
        char target[PATH_MAX];
        ssize_t n = dfd >= 0 ? readlinkat(dfd, base, target, sizeof(target) - 1) : -1;
        if (n <= 0)
            break;
        target[n] = '\0';
        char next[PATH_MAX * 2];
        if (target[0] == '/')
            snprintf(next, sizeof(next), "%s", target);
        else
            snprintf(next, sizeof(next), "%s/%s", dir, target);
        clean_abs(next, cur);
    }
    snprintf(out, PATH_MAX, "%s", cur);
}

int
berth_path_stat(int root_fd, const char *path, json_t **ret_stat, struct berth_error **err)
{
    if (strlen(path) >= PATH_MAX - 2)
        return berth_error_setq(err, ENAMETOOLONG, "path too long");
    char abs[PATH_MAX];
    clean_abs(path, abs);
    size_t plen = strlen(path);
    /* a trailing "/" or "/." asks for what the last component points to */
    bool follow = plen && (path[plen - 1] == '/' ||
                           (plen >= 2 && path[plen - 1] == '.' && path[plen - 2] == '/'));
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", abs);
    const char *name;
    _cleanup_close_ int dfd = -1;
    struct stat st;
    if (!strcmp(abs, "/") || follow) {
        name = strcmp(abs, "/") ? strrchr(abs, '/') + 1 : "/";
        dfd = berth_open_in_root(root_fd, abs, O_PATH, 0);
        if (dfd < 0)
            return berth_error_set(err, -dfd, "stat '%s'", path);
        if (fstat(dfd, &st) < 0)
            return berth_error_set(err, errno, "stat '%s'", path);
    } else {
        char *slash = strrchr(dir, '/');
        name = abs + (slash - dir) + 1;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        dfd = berth_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
        if (dfd < 0)
            return berth_error_set(err, -dfd, "stat '%s'", path);
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return berth_error_set(err, errno, "stat '%s'", path);
    }
    char link[PATH_MAX] = "";
    if (S_ISLNK(st.st_mode))
        resolve_in_root(root_fd, abs, link);
    char mtime[64];
    berth_format_time_nano((int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, mtime,
                           sizeof(mtime));
    json_t *j =
        json_pack("{s:s,s:I,s:I,s:s,s:s}", "name", name, "size", (json_int_t)st.st_size, "mode",
                  (json_int_t)berth_go_file_mode(st.st_mode), "mtime", mtime, "linkTarget", link);
    if (!j)
        return berth_error_set(err, ENOMEM, "stat '%s'", path);
    *ret_stat = j;
    return 0;
}

char *
berth_path_stat_header(const json_t *stat)
{
    _cleanup_free_ char *text = json_dumps(stat, JSON_COMPACT);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    return out;
}

/* ---- the helper child ---- */

#define HELPER_ARGV0 "berth-fs-helper"
#define HELPER_ENV "BERTH_FS_HELPER=1"
#define HELPER_CHUNK (128 * 1024)

struct helper_report {
    int code;
    char msg[512];
};

struct berth_fs_helper {
    pid_t pid;
    int report_fd;
};

static void
preload_iconv(void)
{
    const char *cs = nl_langinfo(CODESET);
    iconv_t cd = iconv_open(cs, "UTF-8");
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    cd = iconv_open("UTF-8", cs);
    if (cd != (iconv_t)-1)
        iconv_close(cd);
}

static int
enter_root(int root_fd, struct berth_error **err)
{
    preload_iconv();
    if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
        return berth_error_set(err, errno, "enter the container's root filesystem");
    close(root_fd);
    return 0;
}

static int
child_tar(int out_fd, const char *src_dir, const char *base, const char *rebase,
          struct berth_error **err)
{
    _cleanup_close_ int dfd = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berth_error_set(err, errno, "open '%s'", src_dir);
    struct berth_fs_tar *t = NULL;
    int r = berth_fs_tar_new(out_fd, &t, err);
    if (r < 0)
        return r;
    if (*base) {
        r = berth_fs_tar_add(t, dfd, base, rebase, NULL, err);
    } else {
        if (*rebase) {
            struct stat st;
            if (fstat(dfd, &st) < 0)
                r = berth_error_set(err, errno, "stat '%s'", src_dir);
            else
                r = berth_fs_tar_add(t, dfd, ".", rebase, &st, err);
        }
        if (r == 0)
            r = berth_fs_tar_add_tree(t, dfd, rebase, err);
    }
    if (r < 0) {
        berth_fs_tar_abort(t);
        return r;
    }
    return berth_fs_tar_close(t, err);
}

/* Lexical clean of a relative entry name; -EXDEV when ".." climbs out. */
static int
clean_rel(const char *in, char out[PATH_MAX])
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (!len)
                return -EXDEV;
            char *slash = memrchr(out, '/', len);
            len = slash ? (size_t)(slash - out) : 0;
            out[len] = '\0';
        } else {
            if (len + 1 + n >= PATH_MAX)
                return -ENAMETOOLONG;
            if (len)
                out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
            out[len] = '\0';
        }
        p = end;
    }
    return 0;
}

static int
open_tar(int fd, struct archive **ret, struct berth_error **err)
{
    if (lseek(fd, 0, SEEK_SET) < 0)
        return berth_error_set(err, errno, "rewind the archive");
    struct archive *a = archive_read_new();
    if (!a)
        return berth_error_set(err, ENOMEM, "read the archive");
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_fd(a, fd, HELPER_CHUNK) != ARCHIVE_OK) {
        int r = berth_error_setq(err, EINVAL, "read the archive: %s", archive_error_string(a));
        archive_read_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

/* Checks one header; out: the cleaned name (and link: the cleaned hard link target). */
static int
check_header(struct archive_entry *e, bool no_overwrite, char out[PATH_MAX], char link[PATH_MAX],
             struct berth_error **err)
{
    const char *name = archive_entry_pathname(e);
    if (!name || strlen(name) >= PATH_MAX)
        return berth_error_setq(err, EINVAL, "invalid tar entry name");
    int r = clean_rel(name, out);
    if (r == -EXDEV)
        return berth_error_setq(err, EINVAL,
                                "invalid tar entry \"%.200s\": outside the destination", name);
    if (r < 0)
        return berth_error_setq(err, ENAMETOOLONG, "tar entry \"%.200s\": name too long", name);
    const char *hl = archive_entry_hardlink(e);
    link[0] = '\0';
    if (hl) {
        r = strlen(hl) < PATH_MAX ? clean_rel(hl, link) : -ENAMETOOLONG;
        if (r < 0 || !link[0])
            return berth_error_setq(err, EINVAL, "invalid hard link \"%.200s\" -> \"%.200s\"", name,
                                    hl);
    }
    if (!out[0] || !no_overwrite)
        return 0;
    struct stat st;
    bool is_dir = archive_entry_filetype(e) == AE_IFDIR;
    if (lstat(out, &st) == 0) {
        if (S_ISDIR(st.st_mode) && !is_dir)
            return berth_error_setq(
                err, EEXIST, "cannot overwrite directory \"%.200s\" with non-directory", out);
        if (!S_ISDIR(st.st_mode) && is_dir)
            return berth_error_setq(
                err, EEXIST, "cannot overwrite non-directory \"%.200s\" with directory", out);
    }
    return 0;
}

struct dir_times {
    struct {
        char *path;
        struct timespec times[2];
    } * v;
    size_t n, cap;
};

/* mkdir -p of the directories above path (relative to the destination; inside the chroot, so
 * a symlink on the way resolves inside the container, as moby's extraction does). */
static int
make_parents(const char *path, struct berth_error **err)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return berth_error_set(err, errno, "mkdir '%s'", buf);
        *p = '/';
    }
    return 0;
}

static int
write_data_blocks(struct archive *a, int fd, int64_t size, const char *path,
                  struct berth_error **err)
{
    const void *buf;
    size_t len;
    la_int64_t off;
    int dr;
    while ((dr = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
        const char *p = buf;
        while (len) {
            ssize_t n = pwrite(fd, p, len, off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return berth_error_set(err, errno, "write '%s'", path);
            p += n, off += n, len -= (size_t)n;
        }
    }
    if (dr != ARCHIVE_EOF)
        return berth_error_setq(err, EINVAL, "invalid tar: %s", archive_error_string(a));
    if (ftruncate(fd, size) < 0) /* sparse tails */
        return berth_error_set(err, errno, "truncate '%s'", path);
    return 0;
}

/* One entry at path (cleaned, relative to the destination): what is there is replaced unless
 * both are directories; owner, mode, xattrs and times from the tar. */
static int
write_entry(struct archive *a, struct archive_entry *e, const char *path, const char *link,
            struct dir_times *dt, struct berth_error **err)
{
    if (!path[0])
        return 0; /* the destination itself */
    int r = make_parents(path, err);
    if (r < 0)
        return r;
    mode_t type = archive_entry_filetype(e);
    mode_t perm = archive_entry_perm(e) & 07777;
    struct stat st;
    bool exists = lstat(path, &st) == 0;
    if (exists && !(S_ISDIR(st.st_mode) && type == AE_IFDIR)) {
        if (S_ISDIR(st.st_mode))
            r = berth_rm_rf(path, err);
        else if (unlink(path) < 0)
            r = berth_error_set(err, errno, "remove '%s'", path);
        if (r < 0)
            return r;
        exists = false;
    }
    if (link[0]) {
        if (linkat(AT_FDCWD, link, AT_FDCWD, path, 0) < 0)
            return berth_error_set(err, errno, "hard link '%s' -> '%s'", path, link);
        return 0;
    }
    switch (type) {
    case AE_IFDIR:
        if (!exists && mkdir(path, 0700) < 0)
            return berth_error_set(err, errno, "mkdir '%s'", path);
        break;
    case AE_IFREG: {
        _cleanup_close_ int fd =
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return berth_error_set(err, errno, "create '%s'", path);
        if ((r = write_data_blocks(a, fd, archive_entry_size(e), path, err)) < 0)
            return r;
        break;
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || symlink(target, path) < 0)
            return berth_error_set(err, target ? errno : EINVAL, "symlink '%s'", path);
        break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        if (mknod(path, type | perm, archive_entry_rdev(e)) < 0)
            return berth_error_set(err, errno, "mknod '%s'", path);
        break;
    default:
        return 0; /* sockets and the rest: nothing to make */
    }
    if (lchown(path, archive_entry_uid(e), archive_entry_gid(e)) < 0)
        return berth_error_set(err, errno, "chown '%s'", path);
    if (type != AE_IFLNK && chmod(path, perm) < 0) /* after chown, which clears set-id bits */
        return berth_error_set(err, errno, "chmod '%s'", path);
    const char *k;
    const void *v;
    size_t vn;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &k, &v, &vn) == ARCHIVE_OK)
        if (k && strncmp(k, "trusted.overlay.", 16))
            (void)lsetxattr(path, k, v, vn, 0); /* best effort, as moby */
    struct timespec times[2] = {
        {archive_entry_atime(e), archive_entry_atime_nsec(e)},
        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
    };
    if (!archive_entry_atime_is_set(e))
        times[0] = times[1];
    if (type != AE_IFDIR) {
        (void)utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    if (dt->n == dt->cap) {
        size_t ncap = dt->cap ? dt->cap * 2 : 32;
        void *nv = realloc(dt->v, ncap * sizeof(*dt->v));
        if (!nv)
            return berth_error_set(err, ENOMEM, "extract");
        dt->v = nv;
        dt->cap = ncap;
    }
    if (!(dt->v[dt->n].path = strdup(path)))
        return berth_error_set(err, ENOMEM, "extract");
    memcpy(dt->v[dt->n].times, times, sizeof(times));
    dt->n++;
    return 0;
}

static int
child_extract(int tar_fd, const char *dst_dir, bool no_overwrite, struct berth_error **err)
{
    if (chdir(dst_dir) < 0)
        return berth_error_set(err, errno, "%s", dst_dir);
    struct stat tst;
    if (fstat(tar_fd, &tst) < 0)
        return berth_error_set(err, errno, "stat the archive");
    char path[PATH_MAX], link[PATH_MAX];
    struct archive *a = NULL;
    struct archive_entry *e;
    int r, ar;
    /* pass 1: every header, and every entry's data present */
    if ((r = open_tar(tar_fd, &a, err)) < 0)
        return r;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
        if ((r = check_header(e, no_overwrite, path, link, err)) < 0)
            break;
        if (archive_entry_size(e) > tst.st_size) {
            r = berth_error_setq(err, EINVAL, "tar entry \"%.200s\": larger than the archive",
                                 path);
            break;
        }
        if (archive_read_data_skip(a) < ARCHIVE_WARN) {
            ar = ARCHIVE_FATAL;
            break;
        }
    }
    if (r == 0 && ar != ARCHIVE_EOF)
        r = berth_error_setq(err, EINVAL, "invalid tar: %s",
                             archive_error_string(a) ? archive_error_string(a) : "read error");
    archive_read_free(a);
    if (r < 0)
        return r;
    /* pass 2 */
    if ((r = open_tar(tar_fd, &a, err)) < 0)
        return r;
    struct dir_times dt = {0};
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
        if ((r = check_header(e, no_overwrite, path, link, err)) < 0)
            break;
        if ((r = write_entry(a, e, path, link, &dt, err)) < 0)
            break;
    }
    if (r == 0 && ar != ARCHIVE_EOF)
        r = berth_error_setq(err, EINVAL, "invalid tar: %s", archive_error_string(a));
    archive_read_free(a);
    /* directories' times last: writing into a directory changes them */
    for (size_t i = 0; i < dt.n; i++) {
        if (r == 0)
            (void)utimensat(AT_FDCWD, dt.v[i].path, dt.v[i].times, AT_SYMLINK_NOFOLLOW);
        free(dt.v[i].path);
    }
    free(dt.v);
    return r;
}

static void
close_fds_except(int *keep, size_t n)
{
    /* sorted, then every range between them */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned from = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned)keep[i] > from)
            (void)berth_close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    (void)berth_close_range(from, ~0U, 0);
}

static int
fd_arg(const char *s)
{
    int64_t v;
    return berth_parse_i64(s, &v) && v >= 0 && v < 1 << 20 ? (int)v : -1;
}

/* argv: argv0 mode root_fd io_fd report_fd arg1 arg2 arg3 */
static __attribute__((noreturn)) void
helper_main(char **argv)
{
    int root_fd = fd_arg(argv[2]), io_fd = fd_arg(argv[3]), report_fd = fd_arg(argv[4]);
    if (root_fd < 0 || io_fd < 0 || report_fd < 0)
        _exit(127);
    int keep[] = {root_fd, io_fd, report_fd};
    close_fds_except(keep, BERTH_ARRAY_SIZE(keep));
    struct berth_error *e = NULL;
    struct helper_report rep = {0};
    umask(022);
    int r = enter_root(root_fd, &e);
    if (r == 0 && !strcmp(argv[1], "tar"))
        r = child_tar(io_fd, argv[5], argv[6], argv[7], &e);
    else if (r == 0)
        r = child_extract(io_fd, argv[5], !strcmp(argv[6], "1"), &e);
    if (r < 0) {
        rep.code = e ? e->code : EIO;
        snprintf(rep.msg, sizeof(rep.msg), "%s", e && e->msg ? e->msg : "failed");
    }
    close(io_fd);
    (void)!berth_write_all(report_fd, &rep, sizeof(rep));
    _exit(r < 0 ? 1 : 0);
}

static __attribute__((constructor)) void
helper_hook(int argc, char **argv, char **envp)
{
    if (argc != 8 || !argv || !argv[0] || strcmp(argv[0], HELPER_ARGV0) != 0)
        return;
    bool marked = false;
    for (char **p = envp; p && *p && !marked; p++)
        marked = !strcmp(*p, HELPER_ENV);
    if (!marked || (strcmp(argv[1], "tar") && strcmp(argv[1], "extract")))
        return;
    helper_main(argv);
}

static int
helper_spawn(const char *mode, int root_fd, int io_fd, const char *a1, const char *a2,
             const char *a3, struct berth_fs_helper **ret, struct berth_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "pipe");
    _cleanup_close_ int rd = p[0], wr = p[1];
    char s_root[16], s_io[16], s_rep[16];
    snprintf(s_root, sizeof(s_root), "%d", root_fd);
    snprintf(s_io, sizeof(s_io), "%d", io_fd);
    snprintf(s_rep, sizeof(s_rep), "%d", wr);
    char *argv[] = {(char *)HELPER_ARGV0, (char *)mode, s_root,     s_io, s_rep,
                    (char *)a1,           (char *)a2,   (char *)a3, NULL};
    char *envp[] = {(char *)HELPER_ENV, (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    struct berth_fs_helper *h = calloc(1, sizeof(*h));
    if (!h)
        return berth_error_set(err, ENOMEM, "helper");
    pid_t pid = fork();
    if (pid < 0) {
        free(h);
        return berth_error_set(err, errno, "fork");
    }
    if (pid == 0) {
        if (fcntl(root_fd, F_SETFD, 0) == 0 && fcntl(io_fd, F_SETFD, 0) == 0 &&
            fcntl(wr, F_SETFD, 0) == 0)
            execve("/proc/self/exe", argv, envp);
        struct helper_report fail = {.code = errno};
        snprintf(fail.msg, sizeof(fail.msg), "cannot execute the helper");
        (void)!write(wr, &fail, sizeof(fail));
        _exit(127);
    }
    h->pid = pid;
    h->report_fd = TAKE_FD(rd);
    *ret = h;
    return 0;
}

int
berth_fs_helper_tar(int root_fd, const char *src_dir, const char *base, const char *rebase,
                    int out_fd, struct berth_fs_helper **ret, struct berth_error **err)
{
    return helper_spawn("tar", root_fd, out_fd, src_dir, base ? base : "", rebase ? rebase : "",
                        ret, err);
}

int
berth_fs_helper_extract(int root_fd, const char *dst_dir, int tar_fd, bool no_overwrite_dir_non_dir,
                        struct berth_fs_helper **ret, struct berth_error **err)
{
    return helper_spawn("extract", root_fd, tar_fd, dst_dir, no_overwrite_dir_non_dir ? "1" : "0",
                        "", ret, err);
}

int
berth_fs_helper_wait(struct berth_fs_helper *h, bool kill_first, struct berth_error **err)
{
    if (!h)
        return 0;
    if (kill_first)
        kill(h->pid, SIGKILL);
    struct helper_report rep;
    ssize_t n = berth_read_all(h->report_fd, &rep, sizeof(rep));
    int status = 0;
    while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(h->report_fd);
    free(h);
    if (kill_first)
        return 0;
    if (n != (ssize_t)sizeof(rep))
        return berth_error_setq(err, EIO, "the filesystem helper died (status %d)", status);
    rep.msg[sizeof(rep.msg) - 1] = '\0';
    if (rep.code)
        return berth_error_setq(err, rep.code, "%s", rep.msg);
    return 0;
}
