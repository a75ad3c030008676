/* Layer tars: ingest (libarchive's raw reader decompresses whatever filter the stream uses; the
 * digester computes the diff ID on the way, and the bytes go to a file, a tar-split and/or the
 * unpack child's pipe), the vfs tree copy, and unpack (the daemon's binary re-executed as a
 * child chrooted into the layer directory, writing entries with layer_write.c). See layer.h for
 * the rules an entry must follow. */
#include "image/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <langinfo.h>
#include <limits.h>
#include <pthread.h>
#include <search.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/layer_internal.h"
#include "image/tar_split.h"

#define IO_CHUNK (256 * 1024)
#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
/* how much of a hostile entry name an error message quotes */
#define NAME_QUOTE_MAX 120

static void
archive_read_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

static void
digester_freep(struct berth_digester **d)
{
    berth_digester_free(*d);
}

/* libarchive's errno when it is a system error, else EINVAL (format problems) */
static int
archive_code(struct archive *a)
{
    int e = archive_errno(a);
    return e > 0 ? e : EINVAL;
}

static const char *
archive_msg(struct archive *a)
{
    const char *s = archive_error_string(a);
    return s ? s : "unknown libarchive error";
}

/* ---- ingest ---- */

/* writeback of the blob starts every this many bytes, so that the final sync finds little to do */
#define WRITEBACK_CHUNK (8 << 20)
/* the consumed part of a discardable input is punched out every this many bytes */
#define DISCARD_CHUNK (16 << 20)

struct source {
    const struct berth_layer_input *in;
    int64_t done, total, reported, punched;
    char *buf;
};

static void
source_discard(struct source *s)
{
    if (s->done > s->punched && fallocate(s->in->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                          s->in->offset + s->punched, s->done - s->punched) == 0)
        s->punched = s->done;
}

static la_ssize_t
source_read(struct archive *a, void *cls, const void **ret)
{
    struct source *s = cls;
    const struct berth_layer_input *in = s->in;
    ssize_t n;
    do {
        if (in->length >= 0) {
            int64_t left = in->length - s->done;
            n = left <= 0 ? 0
                          : pread(in->fd, s->buf, left < IO_CHUNK ? (size_t)left : IO_CHUNK,
                                  in->offset + s->done);
        } else {
            n = read(in->fd, s->buf, IO_CHUNK);
        }
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        archive_set_error(a, errno, "read: %s", strerror(errno));
        return -1;
    }
    s->done += n;
    if (in->discard && s->done - s->punched >= DISCARD_CHUNK)
        source_discard(s);
    if (in->progress &&
        (s->done - s->reported >= (1 << 20) || (n == 0 && s->done != s->reported))) {
        in->progress(in->cls, s->done, s->total > s->done ? s->total : s->done);
        s->reported = s->done;
    }
    *ret = s->buf;
    return n;
}

/* SIGPIPE blocked in this thread while it writes to the unpack child's pipe: a child that died
 * must not kill the daemon (or a test); the EPIPE is enough, the child's report says why. */
struct sigpipe_guard {
    bool blocked;
    sigset_t old;
};

static void
sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void
sigpipe_restore(struct sigpipe_guard *g)
{
    if (!g->blocked)
        return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
        ; /* consume the one our writes raised */
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Writes to the unpack child's pipe; false once the child stopped reading (its report says
 * why). SIGPIPE is blocked by the caller. */
static bool
tee_write(int fd, const void *buf, size_t len)
{
    return berth_write_all(fd, buf, len) == 0;
}

int
berth_layer_ingest_input(const struct berth_layer_input *in, int out_fd,
                         struct berth_tar_split *split, int tee_fd, uint64_t max_size,
                         char ret_diff_id[72], uint64_t *ret_size, struct berth_error **err)
{
    _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
    _cleanup_(digester_freep) struct berth_digester *d = NULL;
    if (!a)
        return berth_error_set(err, ENOMEM, "read layer tar");
    int r = berth_digester_new(&d, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = malloc(IO_CHUNK);
    if (!buf)
        return berth_error_set(err, ENOMEM, "read layer tar");
    struct source src = {.in = in, .buf = buf, .total = in->length};
    _cleanup_(sigpipe_restore) struct sigpipe_guard guard = {0};
    if (tee_fd >= 0)
        sigpipe_block(&guard);
    struct stat st;
    if (in->length < 0 && fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode))
        src.total = st.st_size - lseek(in->fd, 0, SEEK_CUR);
    if (in->progress)
        in->progress(in->cls, 0, src.total > 0 ? src.total : 0);
    /* the compressions registries use, and nothing that runs an external program */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_raw(a);
    archive_read_support_format_empty(a);
    if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK)
        return berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
    struct archive_entry *entry;
    uint64_t total = 0, flushed = 0;
    bool teeing = tee_fd >= 0;
    r = archive_read_next_header(a, &entry);
    if (r != ARCHIVE_EOF) {
        if (r < ARCHIVE_WARN)
            return berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
        for (;;) {
            const void *block;
            size_t n;
            la_int64_t off;
            r = archive_read_data_block(a, &block, &n, &off);
            if (r == ARCHIVE_EOF)
                break;
            if (r == ARCHIVE_WARN || r == ARCHIVE_RETRY)
                continue;
            if (r < ARCHIVE_WARN)
                return berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
            if (n == 0)
                continue;
            if ((uint64_t)off != total)
                return berth_error_setq(err, EINVAL, "read layer tar: unexpected data offset");
            total += (uint64_t)n;
            if (max_size && total > max_size)
                return berth_error_setq(err, EFBIG,
                                        "read layer tar: more than %llu bytes uncompressed",
                                        (unsigned long long)max_size);
            berth_digester_update(d, block, n);
            if (teeing)
                teeing = tee_write(tee_fd, block, n);
            if (split && (r = berth_tar_split_feed(split, block, n, err)) < 0)
                return r;
            if (out_fd < 0)
                continue;
            r = berth_write_all(out_fd, block, n);
            if (r < 0)
                return berth_error_set(err, -r, "write layer tar");
            if (total - flushed >= WRITEBACK_CHUNK) {
                (void)sync_file_range(out_fd, (off64_t)flushed, (off64_t)(total - flushed),
                                      SYNC_FILE_RANGE_WRITE);
                flushed = total;
            }
        }
    }
    if (in->discard)
        source_discard(&src);
    if (out_fd >= 0 && total > flushed)
        (void)sync_file_range(out_fd, (off64_t)flushed, 0, SYNC_FILE_RANGE_WRITE);
    char digest[72];
    berth_digester_final(d, digest);
    if (!digest[0])
        return berth_error_setq(err, ENOMEM, "read layer tar: digest failed");
    memcpy(ret_diff_id, digest, sizeof(digest));
    if (ret_size)
        *ret_size = total;
    return 0;
}

int
berth_layer_ingest(int in_fd, int out_fd, uint64_t max_size, char ret_diff_id[72],
                   uint64_t *ret_size, struct berth_error **err)
{
    struct berth_layer_input in = {.fd = in_fd, .length = -1};
    int r = berth_layer_ingest_input(&in, out_fd, NULL, -1, max_size, ret_diff_id, ret_size, err);
    if (r == 0 && fsync(out_fd) < 0)
        return berth_error_set(err, errno, "fsync layer tar");
    return r;
}

/* ---- vfs: copy a tree ---- */

struct link_key {
    dev_t dev;
    ino_t ino;
    char *path; /* relative to the destination root */
};

static int
link_cmp(const void *a, const void *b)
{
    const struct link_key *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static void
link_free(void *p)
{
    struct link_key *k = p;
    free(k->path);
    free(k);
}

struct copy_ctx {
    int dst_root;
    void *links; /* tsearch tree of struct link_key */
    char rel[PATH_MAX];
};

static int
copy_xattrs(int src_dir, int dst_dir, const char *name, struct berth_error **err)
{
    char src[64 + NAME_MAX], dst[64 + NAME_MAX];
    snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", src_dir, name);
    snprintf(dst, sizeof(dst), "/proc/self/fd/%d/%s", dst_dir, name);
    ssize_t n = llistxattr(src, NULL, 0);
    if (n < 0 && (errno == ENOTSUP || errno == ENODATA))
        return 0;
    if (n < 0)
        return berth_error_set(err, errno, "list xattrs of '%s'", name);
    if (n == 0)
        return 0;
    _cleanup_free_ char *list = malloc((size_t)n);
    if (!list)
        return berth_error_set(err, ENOMEM, "copy xattrs");
    n = llistxattr(src, list, (size_t)n);
    if (n < 0)
        return berth_error_set(err, errno, "list xattrs of '%s'", name);
    for (char *k = list; k < list + n; k += strlen(k) + 1) {
        ssize_t vn = lgetxattr(src, k, NULL, 0);
        if (vn < 0)
            return berth_error_set(err, errno, "read xattr %s of '%s'", k, name);
        _cleanup_free_ char *v = malloc(vn > 0 ? (size_t)vn : 1);
        if (!v)
            return berth_error_set(err, ENOMEM, "copy xattrs");
        vn = lgetxattr(src, k, v, (size_t)vn);
        if (vn < 0)
            return berth_error_set(err, errno, "read xattr %s of '%s'", k, name);
        if (lsetxattr(dst, k, v, (size_t)vn, 0) < 0 && errno != ENOTSUP)
            return berth_error_set(err, errno, "set xattr %s on '%s'", k, name);
    }
    return 0;
}

static int
copy_data(int in, int out, const char *name, struct berth_error **err)
{
    bool fallback = false;
    for (;;) {
        if (!fallback) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, IO_CHUNK * 16, 0);
            if (n > 0)
                continue;
            if (n == 0)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                return berth_error_set(err, errno, "copy '%s'", name);
            fallback = true;
        }
        char buf[64 * 1024];
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_error_set(err, errno, "read '%s'", name);
        if (n == 0)
            return 0;
        int r = berth_write_all(out, buf, (size_t)n);
        if (r < 0)
            return berth_error_set(err, -r, "write '%s'", name);
    }
}

/* Owner, mode, xattrs, times: in that order (chown clears set-id bits and file capabilities). */
static int
copy_meta(int src_dir, int dst_dir, const char *name, const struct stat *st,
          struct berth_error **err)
{
    if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_error_set(err, errno, "chown '%s'", name);
    if (!S_ISLNK(st->st_mode) && fchmodat(dst_dir, name, st->st_mode & 07777, 0) < 0)
        return berth_error_set(err, errno, "chmod '%s'", name);
    int r = copy_xattrs(src_dir, dst_dir, name, err);
    if (r < 0)
        return r;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (utimensat(dst_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_error_set(err, errno, "set times of '%s'", name);
    return 0;
}

static int copy_dir_contents(struct copy_ctx *c, int src, int dst, struct berth_error **err);

static int
copy_entry(struct copy_ctx *c, int src, int dst, const char *name, struct berth_error **err)
{
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_error_set(err, errno, "stat '%s'", c->rel);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
        struct link_key key = {.dev = st.st_dev, .ino = st.st_ino};
        struct link_key **found = tfind(&key, &c->links, link_cmp);
        if (found) {
            if (linkat(c->dst_root, (*found)->path, dst, name, 0) < 0)
                return berth_error_set(err, errno, "link '%s'", c->rel);
            return 0;
        }
        struct link_key *k = calloc(1, sizeof(*k));
        if (!k || !(k->path = strdup(c->rel))) {
            free(k);
            return berth_error_set(err, ENOMEM, "copy '%s'", c->rel);
        }
        k->dev = st.st_dev;
        k->ino = st.st_ino;
        if (!tsearch(k, &c->links, link_cmp)) {
            link_free(k);
            return berth_error_set(err, ENOMEM, "copy '%s'", c->rel);
        }
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFREG: {
        _cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
            return berth_error_set(err, errno, "open '%s'", c->rel);
        _cleanup_close_ int out =
            openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
            return berth_error_set(err, errno, "create '%s'", c->rel);
        int r = copy_data(in, out, c->rel, err);
        if (r < 0)
            return r;
        break;
    }
    case S_IFDIR: {
        if (mkdirat(dst, name, 0700) < 0)
            return berth_error_set(err, errno, "mkdir '%s'", c->rel);
        _cleanup_close_ int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
            return berth_error_set(err, errno, "open '%s'", c->rel);
        int r = copy_dir_contents(c, s, d, err);
        if (r < 0)
            return r;
        break;
    }
    case S_IFLNK: {
        char target[PATH_MAX];
        ssize_t n = readlinkat(src, name, target, sizeof(target));
        if (n < 0)
            return berth_error_set(err, errno, "readlink '%s'", c->rel);
        if ((size_t)n >= sizeof(target))
            return berth_error_setq(err, ENAMETOOLONG, "readlink '%s': target too long", c->rel);
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
            return berth_error_set(err, errno, "symlink '%s'", c->rel);
        break;
    }
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        if (mknodat(dst, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0)
            return berth_error_set(err, errno, "mknod '%s'", c->rel);
        break;
    default:
        return berth_error_setq(err, EINVAL, "copy '%s': unknown file type", c->rel);
    }
    return copy_meta(src, dst, name, &st, err);
}

static int
copy_dir_contents(struct copy_ctx *c, int src, int dst, struct berth_error **err)
{
    int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return berth_error_set(err, errno, "copy '%s'", c->rel);
    _cleanup_closedir_ DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return berth_error_set(err, errno, "opendir '%s'", c->rel);
    }
    size_t base = strlen(c->rel);
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (!de) {
            if (errno)
                return berth_error_set(err, errno, "readdir '%s'", c->rel);
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int n = snprintf(c->rel + base, sizeof(c->rel) - base, "%s%s", base ? "/" : "", de->d_name);
        if (n < 0 || (size_t)n >= sizeof(c->rel) - base)
            return berth_error_setq(err, ENAMETOOLONG, "copy: path under '%s' too long", c->rel);
        int r = copy_entry(c, src, dst, de->d_name, err);
        c->rel[base] = '\0';
        if (r < 0)
            return r;
    }
    return 0;
}

int
berth_layer_copy_tree(int src_dirfd, int dst_dirfd, struct berth_error **err)
{
    struct copy_ctx c = {.dst_root = dst_dirfd};
    int r = copy_dir_contents(&c, src_dirfd, dst_dirfd, err);
    tdestroy(c.links, link_free);
    if (r < 0)
        return r;
    /* the root's own metadata */
    struct stat st;
    if (fstat(src_dirfd, &st) < 0)
        return berth_error_set(err, errno, "stat layer root");
    if (fchown(dst_dirfd, st.st_uid, st.st_gid) < 0 || fchmod(dst_dirfd, st.st_mode & 07777) < 0)
        return berth_error_set(err, errno, "copy layer root metadata");
    r = copy_xattrs(src_dirfd, dst_dirfd, ".", err);
    if (r < 0)
        return r;
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (futimens(dst_dirfd, ts) < 0)
        return berth_error_set(err, errno, "set times of layer root");
    return 0;
}

/* ---- unpack (runs in the chrooted child) ---- */

struct unpack_report {
    int32_t code; /* 0: success */
    int32_t pad;
    int64_t size;
    char msg[1024];
};

struct unpack {
    enum berth_driver driver;
    int tar_fd;
    int64_t tar_size;
    /* the tar is the bytes [range_off, range_off + range_len) of tar_fd, read with pread
     * (range_len < 0: tar_fd is read as it is, a file or a pipe) */
    int64_t range_off, range_len, range_done;
    char *range_buf;
    int64_t size;
    char **opaque; /* vfs: directories to empty before extracting */
    size_t n_opaque;
    struct berth_split_list *list; /* the files written, for a tar-split (or NULL) */
    char path[PATH_MAX];
    char link[PATH_MAX];
};

static int
entry_error(struct berth_error **err, int code, const char *name, const char *what)
{
    size_t len = strlen(name);
    return berth_error_setq(err, code, "layer entry \"%.*s%s\": %s", NAME_QUOTE_MAX, name,
                            len > NAME_QUOTE_MAX ? "..." : "", what);
}

/* Lexical clean: drops "", "." and a leading "/", resolves ".."; out is "" for the root.
 * -EXDEV when ".." climbs above the root, -ENAMETOOLONG when too long. */
static int
clean_path(const char *in, char out[PATH_MAX])
{
    size_t len = 0;
    const char *p = in;
    out[0] = '\0';
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0)
                return -EXDEV;
            char *slash = memrchr(out, '/', len);
            len = slash ? (size_t)(slash - out) : 0;
            out[len] = '\0';
        } else {
            if (len + (len ? 1 : 0) + n >= PATH_MAX)
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

/* Splits a cleaned path into its directory ("." at the top) and base name. */
static const char *
split_path(char *path, const char **ret_base)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        *ret_base = path;
        return ".";
    }
    *slash = '\0';
    *ret_base = slash + 1;
    return path;
}

static int
drop_overlay_xattrs(struct archive_entry *e, struct berth_error **err)
{
    if (archive_entry_xattr_reset(e) == 0)
        return 0;
    const char *k;
    const void *v;
    size_t vn;
    bool any = false;
    while (archive_entry_xattr_next(e, &k, &v, &vn) == ARCHIVE_OK)
        if (k && berth_str_has_prefix(k, OVERLAY_XATTR_PREFIX))
            any = true;
    if (!any)
        return 0;
    /* copy the others out, clear, add them back */
    int n = archive_entry_xattr_reset(e);
    struct kept {
        char *k;
        void *v;
        size_t n;
    } *kept = calloc((size_t)n, sizeof(*kept));
    if (!kept)
        return berth_error_set(err, ENOMEM, "filter xattrs");
    int m = 0, r = 0;
    while (archive_entry_xattr_next(e, &k, &v, &vn) == ARCHIVE_OK && m < n) {
        if (!k || berth_str_has_prefix(k, OVERLAY_XATTR_PREFIX))
            continue;
        kept[m].k = strdup(k);
        kept[m].v = malloc(vn ? vn : 1);
        if (!kept[m].k || !kept[m].v) {
            r = berth_error_set(err, ENOMEM, "filter xattrs");
            m++;
            break;
        }
        if (vn)
            memcpy(kept[m].v, v, vn);
        kept[m].n = vn;
        m++;
    }
    if (r == 0) {
        archive_entry_xattr_clear(e);
        for (int i = 0; i < m; i++)
            archive_entry_xattr_add_entry(e, kept[i].k, kept[i].v, kept[i].n);
    }
    for (int i = 0; i < m; i++) {
        free(kept[i].k);
        free(kept[i].v);
    }
    free(kept);
    return r;
}

enum entry_kind { ENTRY_EXTRACT, ENTRY_ROOT, ENTRY_WHITEOUT, ENTRY_OPAQUE, ENTRY_SKIP };

/* Validates and normalises an entry in place; u->path holds its cleaned name. */
static int
check_entry(struct unpack *u, struct archive_entry *e, enum entry_kind *ret_kind,
            struct berth_error **err)
{
    const char *name = archive_entry_pathname(e);
    if (!name)
        return berth_error_setq(err, EINVAL, "layer entry without a usable name");
    if (strlen(name) >= PATH_MAX)
        return entry_error(err, ENAMETOOLONG, name, "name longer than PATH_MAX");
    int r = clean_path(name, u->path);
    if (r == -EXDEV)
        return entry_error(err, EINVAL, name, "path escapes the layer");
    if (r < 0)
        return entry_error(err, ENAMETOOLONG, name, "name longer than PATH_MAX");
    la_int64_t size = archive_entry_size(e);
    if (size < 0 || (u->tar_size >= 0 && size > u->tar_size)) {
        char what[128];
        snprintf(what, sizeof(what), "size %lld is larger than the archive (%lld bytes)",
                 (long long)size, (long long)u->tar_size);
        return entry_error(err, EINVAL, name, what);
    }
    const char *slash = strrchr(u->path, '/');
    const char *base = slash ? slash + 1 : u->path;
    if (!u->path[0]) {
        *ret_kind = archive_entry_filetype(e) == AE_IFDIR ? ENTRY_ROOT : ENTRY_SKIP;
        return 0;
    }
    if (berth_str_has_prefix(base, WHITEOUT_PREFIX)) {
        if (!strcmp(base, WHITEOUT_OPAQUE))
            *ret_kind = ENTRY_OPAQUE;
        else if (berth_str_has_prefix(base, WHITEOUT_META_PREFIX))
            *ret_kind = ENTRY_SKIP;
        else if (!strcmp(base, ".wh.") || !strcmp(base, ".wh..") || !strcmp(base, ".wh..."))
            return entry_error(err, EINVAL, name, "invalid whiteout");
        else
            *ret_kind = ENTRY_WHITEOUT;
        return 0;
    }
    const char *hardlink = archive_entry_hardlink(e);
    if (hardlink) {
        if (strlen(hardlink) >= PATH_MAX)
            return entry_error(err, ENAMETOOLONG, name, "link target longer than PATH_MAX");
        r = clean_path(hardlink, u->link);
        if (r == -EXDEV)
            return entry_error(err, EINVAL, name, "hard link target escapes the layer");
        if (r < 0)
            return entry_error(err, ENAMETOOLONG, name, "link target longer than PATH_MAX");
        if (!u->link[0])
            return entry_error(err, EINVAL, name, "hard link to the layer root");
        archive_entry_copy_hardlink(e, u->link);
        archive_entry_set_size(e, 0); /* a hard link never writes through to its target */
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
        const char *target = archive_entry_symlink(e);
        if (!target || strlen(target) >= PATH_MAX)
            return entry_error(err, ENAMETOOLONG, name, "symlink target longer than PATH_MAX");
    }
    r = drop_overlay_xattrs(e, err);
    if (r < 0)
        return r;
    archive_entry_copy_pathname(e, u->path);
    *ret_kind = ENTRY_EXTRACT;
    return 0;
}

static la_ssize_t
range_read(struct archive *a, void *cls, const void **ret)
{
    struct unpack *u = cls;
    int64_t left = u->range_len - u->range_done;
    ssize_t n = 0;
    if (left > 0) {
        do
            n = pread(u->tar_fd, u->range_buf, left < IO_CHUNK ? (size_t)left : IO_CHUNK,
                      u->range_off + u->range_done);
        while (n < 0 && errno == EINTR);
    }
    if (n < 0) {
        archive_set_error(a, errno, "read: %s", strerror(errno));
        return -1;
    }
    u->range_done += n;
    *ret = u->range_buf;
    return n;
}

static int
open_reader(struct unpack *u, struct archive **ret, struct berth_error **err)
{
    if (u->tar_size >= 0 && lseek(u->tar_fd, 0, SEEK_SET) < 0)
        return berth_error_set(err, errno, "rewind layer tar");
    struct archive *a = archive_read_new();
    if (!a)
        return berth_error_set(err, ENOMEM, "read layer tar");
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    int opened;
    if (u->range_len >= 0) {
        u->range_done = 0;
        if (!u->range_buf && !(u->range_buf = malloc(IO_CHUNK))) {
            archive_read_free(a);
            return berth_error_set(err, ENOMEM, "read layer tar");
        }
        opened = archive_read_open(a, u, NULL, range_read, NULL);
    } else {
        opened = archive_read_open_fd(a, u->tar_fd, IO_CHUNK);
    }
    if (opened != ARCHIVE_OK) {
        int r = berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
        archive_read_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

static int
next_header(struct archive *a, struct archive_entry **e, struct berth_error **err)
{
    int r = archive_read_next_header(a, e);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN)
        return berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
    return 1;
}

/* Pass 1: every header is checked before anything is written; vfs collects opaque dirs. */
static int
scan(struct unpack *u, struct berth_error **err)
{
    _cleanup_(archive_read_freep) struct archive *a = NULL;
    int r = open_reader(u, &a, err);
    if (r < 0)
        return r;
    struct archive_entry *e;
    while ((r = next_header(a, &e, err)) > 0) {
        enum entry_kind kind;
        r = check_entry(u, e, &kind, err);
        if (r < 0)
            return r;
        if (kind == ENTRY_OPAQUE && u->driver == BERTH_DRIVER_VFS) {
            const char *base;
            const char *dir = split_path(u->path, &base);
            char **n = realloc(u->opaque, (u->n_opaque + 1) * sizeof(*n));
            if (!n)
                return berth_error_set(err, ENOMEM, "scan layer");
            u->opaque = n;
            if (!(n[u->n_opaque] = strdup(dir)))
                return berth_error_set(err, ENOMEM, "scan layer");
            u->n_opaque++;
        }
        if (archive_read_data_skip(a) < ARCHIVE_WARN)
            return berth_error_setq(err, archive_code(a), "read layer tar: %s", archive_msg(a));
    }
    return r;
}

/* vfs: removes what the parent put in an opaque directory (not following a symlink there). */
static int
empty_dir(const char *dir, struct berth_error **err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return 0;
        return berth_error_set(err, errno, "open '%s'", dir);
    }
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return berth_error_set(err, errno, "opendir '%s'", dir);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            return berth_error_set(err, ENOMEM, "empty '%s'", dir);
        int r = berth_rm_rf(p, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A whiteout that removes something this layer wrote loses that file's data for a tar-split:
 * reported, as is one whose directory goes through a symlink (the path it removes is then not
 * the one the list knows). */
static void
note_whiteout(struct unpack *u, const char *dir, const char *target)
{
    struct stat st;
    if (!u->list || lstat(target, &st) < 0)
        return;
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%s", dir);
    for (char *p = prefix; strcmp(dir, ".") != 0;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (lstat(prefix, &st) == 0 && S_ISLNK(st.st_mode)) {
            berth_split_list_removed(u->list, "", true);
            return;
        }
        if (!slash)
            break;
        *slash = '/';
        p = slash + 1;
    }
    berth_split_list_removed(u->list, target, true);
}

static int
apply_whiteout(struct unpack *u, struct archive_entry *e, bool opaque, struct berth_error **err)
{
    const char *base;
    const char *dir = split_path(u->path, &base);
    /* as docker does for every entry, the parent directory exists afterwards */
    int r = berth_mkdir_p(dir, 0755, err);
    if (r < 0)
        return r;
    if (opaque) {
        if (u->driver == BERTH_DRIVER_VFS)
            return 0; /* emptied before extraction */
        if (setxattr(dir, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
            return berth_error_set(err, errno, "mark '%s' opaque (%s)", dir, OVERLAY_OPAQUE_XATTR);
        return 0;
    }
    char target[PATH_MAX + 8]; /* shorter than the whiteout's own name, which fit in PATH_MAX */
    int n = snprintf(target, sizeof(target), "%s/%s", dir, base + strlen(WHITEOUT_PREFIX));
    if (n < 0 || (size_t)n >= sizeof(target))
        return berth_error_setq(err, ENAMETOOLONG, "whiteout '%s': name too long", base);
    note_whiteout(u, dir, strcmp(dir, ".") ? target : target + 2);
    r = berth_rm_rf(target, err);
    if (r < 0 || u->driver == BERTH_DRIVER_VFS)
        return r;
    if (mknod(target, S_IFCHR | 0, makedev(0, 0)) < 0)
        return berth_error_set(err, errno, "whiteout '%s'", target);
    if (lchown(target, archive_entry_uid(e), archive_entry_gid(e)) < 0)
        return berth_error_set(err, errno, "chown whiteout '%s'", target);
    return 0;
}

static int
extract_one(struct unpack *u, struct archive *a, struct berth_layer_writer *w,
            struct archive_entry *e, struct berth_error **err)
{
    const char *hardlink = archive_entry_hardlink(e) ? u->link : NULL;
    int r = berth_layer_writer_entry(w, a, e, u->path, hardlink, err);
    if (r < 0) {
        const char *name = archive_entry_pathname(e);
        size_t len = strlen(name);
        return berth_error_wrap(err, "layer entry \"%.*s%s\"", NAME_QUOTE_MAX, name,
                                len > NAME_QUOTE_MAX ? "..." : "");
    }
    if (archive_entry_filetype(e) == AE_IFREG && !hardlink) {
        u->size += archive_entry_size(e);
        if (u->list && archive_entry_size(e) > 0 && archive_entry_sparse_count(e) == 0)
            berth_split_list_add(u->list, archive_read_header_position(a), archive_entry_size(e),
                                 u->path);
    }
    return 0;
}

/* Pass 2 (the only one for a stream): every entry through the writer (layer_write.c). */
static int
extract(struct unpack *u, struct berth_error **err)
{
    for (size_t i = 0; i < u->n_opaque; i++) {
        int r = empty_dir(u->opaque[i], err);
        if (r < 0)
            return r;
    }
    _cleanup_(archive_read_freep) struct archive *a = NULL;
    int r = open_reader(u, &a, err);
    if (r < 0)
        return r;
    struct berth_layer_writer *w = NULL;
    if ((r = berth_layer_writer_new(&w, u->list, err)) < 0)
        return r;
    struct archive_entry *e;
    while ((r = next_header(a, &e, err)) > 0) {
        enum entry_kind kind;
        r = check_entry(u, e, &kind, err);
        if (r < 0)
            break;
        switch (kind) {
        case ENTRY_EXTRACT:
            r = extract_one(u, a, w, e, err);
            break;
        case ENTRY_ROOT:
            if (lchown(".", archive_entry_uid(e), archive_entry_gid(e)) < 0 ||
                chmod(".", archive_entry_perm(e)) < 0)
                r = berth_error_set(err, errno, "set layer root metadata");
            break;
        case ENTRY_WHITEOUT:
        case ENTRY_OPAQUE:
            berth_layer_writer_forget(w); /* the whiteout works by path */
            r = apply_whiteout(u, e, kind == ENTRY_OPAQUE, err);
            break;
        case ENTRY_SKIP:
            break;
        }
        if (r < 0)
            break;
    }
    if (r == 0)
        r = berth_layer_writer_finish(w, err);
    berth_layer_writer_free(w);
    return r;
}

/* glibc reads its iconv configuration on first use; libarchive converts pax names lazily. Load
 * it now from the host, so nothing is ever read from (or dlopen'ed out of) the chroot. */
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
int_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Closes every fd from 3 up except the three in keep (-1 for none). */
static void
close_other_fds(int keep[3])
{
    qsort(keep, 3, sizeof(int), int_cmp);
    unsigned from = 3;
    for (int i = 0; i < 3; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned)keep[i] > from && berth_close_range(from, (unsigned)keep[i] - 1, 0) < 0)
            goto fallback;
        from = (unsigned)keep[i] + 1;
    }
    if (berth_close_range(from, ~0U, 0) == 0)
        return;
fallback:;
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        if (fd != keep[0] && fd != keep[1] && fd != keep[2])
            close(fd);
}

static int
child_run(struct unpack *u, const char *diff_path, struct berth_error **err)
{
    preload_iconv();
    umask(0); /* modes are the tar's, exactly */
    if (chroot(diff_path) < 0)
        return berth_error_set(err, errno, "chroot into '%s'", diff_path);
    if (chdir("/") < 0)
        return berth_error_set(err, errno, "chdir into the layer");
    /* a file gets a first pass over its headers (vfs needs the opaque directories before
     * anything is written); a stream is extracted as it arrives, and its failure leaves only
     * the unregistered work directory, which the store removes */
    if (u->tar_size >= 0) {
        int r = scan(u, err);
        if (r < 0)
            return r;
    }
    return extract(u, err);
}

static __attribute__((noreturn)) void
child_main(int tar_fd, int report_fd, int list_fd, const char *diff_path, enum berth_driver driver,
           int64_t tar_size, int64_t range_off, int64_t range_len)
{
    int keep[3] = {tar_fd, report_fd, list_fd};
    close_other_fds(keep);
    struct unpack u = {.driver = driver,
                       .tar_fd = tar_fd,
                       .tar_size = tar_size,
                       .range_off = range_off,
                       .range_len = range_len};
    struct berth_error *e = NULL;
    struct unpack_report rep = {0};
    /* no list: the daemon keeps the tar itself instead of a tar-split */
    if (list_fd >= 0 && !(u.list = berth_split_list_new()))
        list_fd = -1;
    if (child_run(&u, diff_path, &e) < 0) {
        rep.code = e ? e->code : EIO;
        const char *msg = e && e->msg ? e->msg : "unpack failed";
        size_t n = strnlen(msg, sizeof(rep.msg) - 1);
        memcpy(rep.msg, msg, n);
        rep.msg[n] = '\0';
    }
    rep.size = u.size;
    if (tar_size < 0 && range_len < 0) {
        /* read the stream to its end (tar padding, or the rest after an error), so the writer
         * never meets a closed pipe */
        static char sink[1 << 16];
        while (read(tar_fd, sink, sizeof(sink)) > 0)
            ;
    }
    if (list_fd >= 0 && !rep.code)
        (void)berth_split_list_write(u.list, list_fd);
    (void)!berth_write_all(report_fd, &rep, sizeof(rep));
    _exit(rep.code ? 1 : 0);
}

/* The unpack runs in a fresh image of this same binary: forking a multithreaded daemon and then
 * calling malloc (libarchive does) can deadlock on a lock another thread held at fork time. So
 * the child only clears FD_CLOEXEC on its two fds and execs /proc/self/exe (async-signal-safe
 * steps); this constructor, linked into every binary that can unpack, recognises the mode by
 * argv[0] and the environment before main() runs. glibc passes argc, argv and envp to
 * constructors. */
#define UNPACK_ARGV0 "berth-layer-unpack"
/* "<tar fd>:<report fd>:<list fd>:<driver>:<tar size>:<range offset>:<range length>:<dir>" */
#define UNPACK_ENV "BERTH_LAYER_UNPACK"

static __attribute__((constructor)) void
unpack_hook(int argc, char **argv, char **envp)
{
    if (argc < 1 || !argv || !argv[0] || strcmp(argv[0], UNPACK_ARGV0) != 0)
        return;
    const char *spec = getenv(UNPACK_ENV);
    if (!spec)
        return;
    int tar_fd, report_fd, list_fd, driver, consumed = 0;
    long long tar_size, range_off, range_len;
    if (sscanf(spec, "%d:%d:%d:%d:%lld:%lld:%lld:%n", &tar_fd, &report_fd, &list_fd, &driver,
               &tar_size, &range_off, &range_len, &consumed) != 7 ||
        consumed == 0 || tar_fd < 0 || report_fd < 0 || list_fd < -1 || range_off < 0 ||
        (driver != BERTH_DRIVER_OVERLAY2 && driver != BERTH_DRIVER_VFS))
        _exit(127);
    (void)envp;
    child_main(tar_fd, report_fd, list_fd, spec + consumed, (enum berth_driver)driver, tar_size,
               range_off, range_len);
}

/* Starts the child on tar_fd (tar_size < 0: a stream; range_len >= 0: the range of tar_fd at
 * range_off, single pass). ret_report: the read end of its report. list_fd >= 0: where it
 * writes the files it wrote, for a tar-split. */
static int
unpack_spawn(int tar_fd, int64_t tar_size, int64_t range_off, int64_t range_len, int list_fd,
             const char *diff_path, enum berth_driver driver, pid_t *ret_pid, int *ret_report,
             struct berth_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "unpack layer: pipe");
    _cleanup_close_ int rd = p[0], wr = p[1];
    /* everything the child needs is prepared here, before fork */
    _cleanup_free_ char *spec = NULL;
    if (asprintf(&spec, UNPACK_ENV "=%d:%d:%d:%d:%lld:%lld:%lld:%s", tar_fd, wr, list_fd,
                 (int)driver, (long long)tar_size, (long long)range_off, (long long)range_len,
                 diff_path) < 0)
        return berth_error_set(err, ENOMEM, "unpack layer");
    size_t n_env = 0;
    for (char **e = environ; e && *e; e++)
        n_env++;
    _cleanup_free_ char **envp = calloc(n_env + 2, sizeof(char *));
    if (!envp)
        return berth_error_set(err, ENOMEM, "unpack layer");
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!berth_str_has_prefix(*e, UNPACK_ENV "="))
            envp[k++] = *e;
    envp[k] = spec;
    char *argv[] = {(char *)UNPACK_ARGV0, NULL};
    struct unpack_report fail = {.code = EIO};
    snprintf(fail.msg, sizeof(fail.msg), "unpack layer: cannot execute /proc/self/exe");
    pid_t pid = fork();
    if (pid < 0)
        return berth_error_set(err, errno, "unpack layer: fork");
    if (pid == 0) {
        if (fcntl(tar_fd, F_SETFD, 0) == 0 && fcntl(wr, F_SETFD, 0) == 0 &&
            (list_fd < 0 || fcntl(list_fd, F_SETFD, 0) == 0))
            execve("/proc/self/exe", argv, envp);
        fail.code = errno;
        (void)!write(wr, &fail, sizeof(fail));
        _exit(127);
    }
    *ret_pid = pid;
    *ret_report = TAKE_FD(rd);
    return 0;
}

/* Reads the child's report and reaps it. */
static int
unpack_wait(pid_t pid, int report_fd, int64_t *ret_size, struct berth_error **err)
{
    struct unpack_report rep;
    ssize_t n = berth_read_all(report_fd, &rep, sizeof(rep));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno == EINTR)
            continue;
        /* reaped by someone else (a SIGCHLD handler): the report is what counts */
        if (errno != ECHILD || n != (ssize_t)sizeof(rep))
            return berth_error_set(err, errno, "unpack layer: wait");
        break;
    }
    if (n != (ssize_t)sizeof(rep)) {
        if (WIFSIGNALED(status))
            return berth_error_setq(err, EIO, "unpack layer: child killed by signal %d",
                                    WTERMSIG(status));
        return berth_error_setq(err, EIO, "unpack layer: child exited with status %d",
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    rep.msg[sizeof(rep.msg) - 1] = '\0';
    if (rep.code)
        return berth_error_setq(err, rep.code, "%s", rep.msg);
    if (ret_size)
        *ret_size = rep.size;
    return 0;
}

int
berth_layer_unpack(int tar_fd, const char *diff_path, enum berth_driver driver, int64_t *ret_size,
                   struct berth_error **err)
{
    struct stat st;
    if (fstat(tar_fd, &st) < 0)
        return berth_error_set(err, errno, "stat layer tar");
    if (!S_ISREG(st.st_mode))
        return berth_error_setq(err, EINVAL, "unpack layer: the tar must be a regular file");
    pid_t pid;
    _cleanup_close_ int report = -1;
    int r = unpack_spawn(tar_fd, st.st_size, 0, -1, -1, diff_path, driver, &pid, &report, err);
    if (r < 0)
        return r;
    return unpack_wait(pid, report, ret_size, err);
}

struct berth_layer_unpacker {
    pid_t pid;
    int report_fd;
};

int
berth_layer_unpack_start(const char *diff_path, enum berth_driver driver, int list_fd, int *ret_fd,
                         struct berth_layer_unpacker **ret, struct berth_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "unpack layer: pipe");
    _cleanup_close_ int rd = p[0], wr = p[1];
    /* fewer, larger transfers; the default (64 KiB) is fine too */
    (void)fcntl(wr, F_SETPIPE_SZ, 1 << 20);
    struct berth_layer_unpacker *u = calloc(1, sizeof(*u));
    if (!u)
        return berth_error_set(err, ENOMEM, "unpack layer");
    int r = unpack_spawn(rd, -1, 0, -1, list_fd, diff_path, driver, &u->pid, &u->report_fd, err);
    if (r < 0) {
        free(u);
        return r;
    }
    *ret_fd = TAKE_FD(wr);
    *ret = u;
    return 0;
}

int
berth_layer_unpack_start_range(const char *diff_path, enum berth_driver driver, int list_fd, int fd,
                               int64_t offset, int64_t length, struct berth_layer_unpacker **ret,
                               struct berth_error **err)
{
    /* its own read-only open file, so nothing the child does can touch the daemon's */
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    _cleanup_close_ int rd = open(proc, O_RDONLY | O_CLOEXEC);
    if (rd < 0)
        return berth_error_set(err, errno, "unpack layer: reopen the tar");
    struct berth_layer_unpacker *u = calloc(1, sizeof(*u));
    if (!u)
        return berth_error_set(err, ENOMEM, "unpack layer");
    int r = unpack_spawn(rd, -1, offset, length, list_fd, diff_path, driver, &u->pid, &u->report_fd,
                         err);
    if (r < 0) {
        free(u);
        return r;
    }
    *ret = u;
    return 0;
}

int
berth_layer_unpack_finish(struct berth_layer_unpacker *u, int64_t *ret_size,
                          struct berth_error **err)
{
    int r = unpack_wait(u->pid, u->report_fd, ret_size, err);
    close(u->report_fd);
    free(u);
    return r;
}
