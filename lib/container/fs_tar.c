/* Tars of directory trees read relative to directory fds, never following a symlink: docker
 * export, docker cp (from a container), and the layer tar of docker commit. libarchive's pax
 * writer; owners numeric (no user database is consulted, so nothing of the container's /etc is
 * read), hard links kept, security.capability kept as moby keeps it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "container/fs.h"
#include "core/cleanup.h"
#include "core/util.h"

#define TAR_CHUNK (128 * 1024)
#define CAP_XATTR "security.capability"

struct berth_fs_tar {
    struct archive *a;
    struct archive_entry_linkresolver *links;
    char *buf;
};

static int
tar_error(struct berth_fs_tar *t, struct berth_error **err, const char *what)
{
    int e = archive_errno(t->a);
    const char *m = archive_error_string(t->a);
    return berth_error_setq(err, e > 0 ? e : EIO, "%s: %s", what, m ? m : "tar write failed");
}

int
berth_fs_tar_new(int out_fd, struct berth_fs_tar **ret, struct berth_error **err)
{
    struct berth_fs_tar *t = calloc(1, sizeof(*t));
    if (!t || !(t->buf = malloc(TAR_CHUNK)) || !(t->a = archive_write_new()) ||
        !(t->links = archive_entry_linkresolver_new())) {
        berth_fs_tar_abort(t);
        return berth_error_set(err, ENOMEM, "tar");
    }
    archive_entry_linkresolver_set_strategy(t->links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(t->a, out_fd) != ARCHIVE_OK) {
        int r = tar_error(t, err, "tar");
        berth_fs_tar_abort(t);
        return r;
    }
    *ret = t;
    return 0;
}

void
berth_fs_tar_abort(struct berth_fs_tar *t)
{
    if (!t)
        return;
    if (t->a)
        archive_write_free(t->a); /* closes as well; errors do not matter any more */
    if (t->links)
        archive_entry_linkresolver_free(t->links);
    free(t->buf);
    free(t);
}

int
berth_fs_tar_close(struct berth_fs_tar *t, struct berth_error **err)
{
    if (!t)
        return 0;
    int r = 0;
    if (archive_write_close(t->a) != ARCHIVE_OK)
        r = tar_error(t, err, "tar");
    berth_fs_tar_abort(t);
    return r;
}

static int
write_data(struct berth_fs_tar *t, int fd, int64_t size, const char *arcname,
           struct berth_error **err)
{
    int64_t done = 0;
    while (done < size) {
        size_t want = size - done < TAR_CHUNK ? (size_t)(size - done) : TAR_CHUNK;
        ssize_t n = read(fd, t->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_error_set(err, errno, "read '%s'", arcname);
        if (n == 0)
            break; /* shrank meanwhile: libarchive pads the entry with zeros */
        if (archive_write_data(t->a, t->buf, (size_t)n) != n)
            return tar_error(t, err, arcname);
        done += n;
    }
    return 0;
}

int
berth_fs_tar_add(struct berth_fs_tar *t, int dirfd, const char *name, const char *arcname,
                 const struct stat *st_in, struct berth_error **err)
{
    struct stat st;
    if (st_in)
        st = *st_in;
    else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_error_set(err, errno, "stat '%s'", arcname);
    if (S_ISSOCK(st.st_mode))
        return 0; /* tar has no sockets: moby skips them too */
    _cleanup_close_ int fd = -1;
    char target[PATH_MAX];
    if (S_ISREG(st.st_mode)) {
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return berth_error_set(err, errno, "open '%s'", arcname);
        struct stat again;
        if (fstat(fd, &again) < 0)
            return berth_error_set(err, errno, "stat '%s'", arcname);
        if (!S_ISREG(again.st_mode))
            return 0; /* replaced meanwhile: leave it out */
        st = again;
    } else if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0)
            return berth_error_set(err, errno, "readlink '%s'", arcname);
        target[n] = '\0';
    }
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return berth_error_set(err, ENOMEM, "tar");
    archive_entry_copy_stat(e, &st);
    size_t len = strlen(arcname);
    if (S_ISDIR(st.st_mode) && len && arcname[len - 1] != '/') {
        _cleanup_free_ char *with = NULL;
        if (asprintf(&with, "%s/", arcname) < 0) {
            archive_entry_free(e);
            return berth_error_set(err, ENOMEM, "tar");
        }
        archive_entry_copy_pathname(e, with);
    } else {
        archive_entry_copy_pathname(e, arcname);
    }
    if (S_ISLNK(st.st_mode))
        archive_entry_copy_symlink(e, target);
    if (!S_ISREG(st.st_mode))
        archive_entry_set_size(e, 0);
    if (fd >= 0) {
        char cap[256];
        ssize_t n = fgetxattr(fd, CAP_XATTR, cap, sizeof(cap));
        if (n > 0)
            archive_entry_xattr_add_entry(e, CAP_XATTR, cap, (size_t)n);
    }
    struct archive_entry *spare = NULL;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1)
        archive_entry_linkify(t->links, &e, &spare);
    int r = 0;
    if (e) {
        bool is_link = archive_entry_hardlink(e) != NULL;
        if (archive_write_header(t->a, e) < ARCHIVE_WARN)
            r = tar_error(t, err, arcname);
        else if (fd >= 0 && !is_link)
            r = write_data(t, fd, st.st_size, arcname, err);
        if (r == 0 && archive_write_finish_entry(t->a) < ARCHIVE_WARN)
            r = tar_error(t, err, arcname);
        archive_entry_free(e);
    }
    if (spare)
        archive_entry_free(spare);
    return r;
}

int
berth_fs_tar_add_empty(struct berth_fs_tar *t, const char *arcname, mode_t perm, uid_t uid,
                       gid_t gid, int64_t mtime, struct berth_error **err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return berth_error_set(err, ENOMEM, "tar");
    archive_entry_copy_pathname(e, arcname);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, perm);
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    archive_entry_set_size(e, 0);
    int r = 0;
    if (archive_write_header(t->a, e) < ARCHIVE_WARN ||
        archive_write_finish_entry(t->a) < ARCHIVE_WARN)
        r = tar_error(t, err, arcname);
    archive_entry_free(e);
    return r;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory (without . and ..), sorted; the caller frees the vector. */
int
berth_dir_sorted_names(int dirfd, char ***ret, size_t *ret_n, struct berth_error **err)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open directory");
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return berth_error_set(err, errno, "open directory");
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int r = 0;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n + 2 > cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nv = realloc(v, ncap * sizeof(char *));
            if (!nv) {
                r = berth_error_set(err, ENOMEM, "read directory");
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (!(v[n] = strdup(de->d_name))) {
            r = berth_error_set(err, ENOMEM, "read directory");
            break;
        }
        v[++n] = NULL;
    }
    closedir(d);
    if (r < 0) {
        berth_strv_free(v);
        return r;
    }
    if (!v && !(v = calloc(1, sizeof(char *))))
        return berth_error_set(err, ENOMEM, "read directory");
    qsort(v, n, sizeof(char *), name_cmp);
    *ret = v;
    *ret_n = n;
    return 0;
}

int
berth_fs_tar_add_tree(struct berth_fs_tar *t, int dirfd, const char *prefix,
                      struct berth_error **err)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r = berth_dir_sorted_names(dirfd, &names, &n, err);
    if (r < 0)
        return berth_error_wrap(err, "'%s'", *prefix ? prefix : "/");
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *arc = NULL;
        if (asprintf(&arc, "%s%s%s", prefix, *prefix ? "/" : "", names[i]) < 0)
            return berth_error_set(err, ENOMEM, "tar");
        if (strlen(arc) >= PATH_MAX)
            return berth_error_setq(err, ENAMETOOLONG, "'%s...': name too long", names[i]);
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed meanwhile */
            return berth_error_set(err, errno, "stat '%s'", arc);
        }
        if ((r = berth_fs_tar_add(t, dirfd, names[i], arc, &st, err)) < 0)
            return r;
        if (!S_ISDIR(st.st_mode))
            continue;
        _cleanup_close_ int sub =
            openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                continue;
            return berth_error_set(err, errno, "open '%s'", arc);
        }
        if ((r = berth_fs_tar_add_tree(t, sub, arc, err)) < 0)
            return r;
    }
    return 0;
}
