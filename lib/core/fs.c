#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"

static int openat2_state; /* 0 unknown, 1 works, -1 missing */

void
berth_fs_force_fallback(bool on)
{
    openat2_state = on ? -1 : 0;
}

void
berth_fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Userspace RESOLVE_IN_ROOT: walks component by component with O_NOFOLLOW, expanding
 * symlinks against root, and clamping ".." at root. Kept for kernels before 5.6. */
static int
walk_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    char buf[PATH_MAX * 2];
    int links = 0;
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    if (!*path)
        return -ENOENT; /* as openat2 */
    int cur = dup(rootfd);
    if (cur < 0)
        return -errno;
    /* stack of parent fds so ".." can go back without leaving root */
    int stack[256];
    int depth = 0;
    char *p = buf;
    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        char *end = strchr(p, '/');
        char name[NAME_MAX + 1];
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > NAME_MAX) {
            close(cur);
            while (depth)
                close(stack[--depth]);
            return -ENAMETOOLONG;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        bool last = true;
        for (char *q = p; *q; q++)
            if (*q != '/') {
                last = false;
                break;
            }
        if (!strcmp(name, "."))
            continue;
        if (!strcmp(name, "..")) {
            if (depth > 0) {
                close(cur);
                cur = stack[--depth];
            }
            continue;
        }
        bool trailing_slash = last && *p == '/';
        int next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && last && (flags & O_CREAT) && !trailing_slash) {
            /* created here: this open is the result */
            next = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            int e = errno;
            close(cur);
            while (depth)
                close(stack[--depth]);
            return next < 0 ? -e : next;
        }
        if (next < 0) {
            int e = errno;
            close(cur);
            while (depth)
                close(stack[--depth]);
            return -e;
        }
        struct stat st;
        if (fstat(next, &st) < 0) {
            int e = errno;
            close(next), close(cur);
            while (depth)
                close(stack[--depth]);
            return -e;
        }
        if (last && trailing_slash && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) {
            close(next), close(cur);
            while (depth)
                close(stack[--depth]);
            return -ENOTDIR; /* "file/" */
        }
        if (last && !S_ISLNK(st.st_mode)) {
            int fd = (flags & O_PATH) && !(flags & O_DIRECTORY)
                         ? next
                         : openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            int e = errno;
            if (fd != next)
                close(next);
            close(cur);
            while (depth)
                close(stack[--depth]);
            return fd < 0 ? -e : fd;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t tl = readlinkat(next, "", target, sizeof(target) - 1);
            close(next);
            if (tl < 0 || ++links > 40) {
                close(cur);
                while (depth)
                    close(stack[--depth]);
                return tl < 0 ? -errno : -ELOOP;
            }
            target[tl] = '\0';
            char rest[PATH_MAX * 2];
            /* p is empty or starts with '/': a trailing slash stays exactly as given */
            if (snprintf(rest, sizeof(rest), "%s%s", target, p) >= (int)sizeof(rest)) {
                close(cur);
                while (depth)
                    close(stack[--depth]);
                return -ENAMETOOLONG;
            }
            if (target[0] == '/') {
                close(cur);
                while (depth)
                    close(stack[--depth]);
                cur = dup(rootfd);
                if (cur < 0)
                    return -errno;
            }
            memcpy(buf, rest, strlen(rest) + 1);
            p = buf;
            continue;
        }
        if (depth == (int)(sizeof(stack) / sizeof(stack[0]))) {
            close(next), close(cur);
            while (depth)
                close(stack[--depth]);
            return -ENAMETOOLONG;
        }
        stack[depth++] = cur;
        cur = next;
    }
    /* path resolved to a directory (or root itself): reopen with the requested flags */
    int fd = openat(cur, ".", (flags & ~O_CREAT) | O_CLOEXEC, mode);
    int e = errno;
    close(cur);
    while (depth)
        close(stack[--depth]);
    return fd < 0 ? -e : fd;
}

int
berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    if (openat2_state >= 0) {
        /* like openat(), a mode without O_CREAT/O_TMPFILE is ignored (openat2 refuses it) */
        int fd = berth_openat2(rootfd, path, (uint64_t)(flags | O_CLOEXEC),
                               (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd >= 0) {
            openat2_state = 1;
            return fd;
        }
        if (errno != ENOSYS || openat2_state == 1)
            return -errno;
        openat2_state = -1;
    }
    return walk_in_root(rootfd, path, flags, mode);
}

/* Creates the missing components of path; a component that is a symlink (even a dangling
 * one) is followed inside root, and what it points to is created there. */
static int
mkdir_in_root(int rootfd, const char *path, mode_t mode, bool last_is_file, int *ret_fd, int links,
              struct berth_error **err)
{
    int fd = berth_open_in_root(rootfd, path, O_PATH, 0);
    if (fd >= 0) {
        *ret_fd = fd;
        return 0;
    }
    if (fd != -ENOENT)
        return berth_error_set(err, -fd, "resolve '%s' in the container", path);
    if (links > 40)
        return berth_error_setq(err, ELOOP, "resolve '%s' in the container: too many symlinks",
                                path);
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "mkdir '%s'", path);
    size_t len = strlen(copy);
    for (size_t i = 1; i <= len; i++) {
        if (copy[i] != '/' && copy[i] != '\0')
            continue;
        char saved = copy[i];
        copy[i] = '\0';
        bool last = saved == '\0';
        char *slash = strrchr(copy, '/');
        const char *name = slash ? slash + 1 : copy;
        if (*name && strcmp(name, ".") && strcmp(name, "..")) {
            _cleanup_close_ int dfd = -1;
            if (slash == copy || !slash) {
                dfd = dup(rootfd);
            } else {
                *slash = '\0';
                dfd = berth_open_in_root(rootfd, copy, O_PATH | O_DIRECTORY, 0);
                *slash = '/';
            }
            if (dfd < 0)
                return berth_error_set(err, dfd == -1 ? errno : -dfd,
                                       "resolve parent of '%s' in the container", path);
            int r;
            if (last && last_is_file) {
                r = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (r >= 0)
                    close(r);
            } else {
                r = mkdirat(dfd, name, mode);
            }
            if (r < 0 && errno == EEXIST) {
                char target[PATH_MAX];
                ssize_t tl = readlinkat(dfd, name, target, sizeof(target) - 1);
                if (tl > 0) {
                    /* a symlink that leads nowhere yet: make what it points to, inside root */
                    target[tl] = '\0';
                    if (slash)
                        *slash = '\0';
                    else
                        copy[0] = '\0'; /* a relative first component: its parent is root */
                    _cleanup_free_ char *next = NULL;
                    int n = target[0] == '/' ? asprintf(&next, "%s%s%s", target, last ? "" : "/",
                                                        last ? "" : copy + i + 1)
                                             : asprintf(&next, "%s/%s%s%s", copy, target,
                                                        last ? "" : "/", last ? "" : copy + i + 1);
                    if (n < 0)
                        return berth_error_set(err, ENOMEM, "mkdir '%s'", path);
                    return mkdir_in_root(rootfd, next, mode, last_is_file, ret_fd, links + 1, err);
                }
            } else if (r < 0) {
                return berth_error_set(err, errno, "create '%s' in the container", path);
            }
        }
        copy[i] = saved;
    }
    fd = berth_open_in_root(rootfd, path, O_PATH, 0);
    if (fd < 0)
        return berth_error_set(err, -fd, "resolve '%s' in the container", path);
    *ret_fd = fd;
    return 0;
}

int
berth_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool last_is_file, int *ret_fd,
                    struct berth_error **err)
{
    return mkdir_in_root(rootfd, path, mode, last_is_file, ret_fd, 0, err);
}
