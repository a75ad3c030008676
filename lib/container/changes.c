/* docker diff and the layer tar of docker commit: the writable layer against the image's layers.
 * overlay2 walks the upper directory (whiteouts are 0/0 character devices, opaque directories
 * carry trusted.overlay.opaque=y); vfs compares the container's full tree with the image's top
 * layer (which holds the image's full tree). Every walk is relative to directory fds with
 * O_NOFOLLOW; lookups in the lower layers are resolved inside each layer (openat2). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "container/fs.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "daemon/daemon.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define MAX_DEPTH 256

/* What moby keeps in each container's init layer: mount points, never the user's changes. */
static const char *const init_paths[] = {
    "/.dockerenv", "/etc/hosts",   "/etc/hostname", "/etc/resolv.conf",
    "/etc/mtab",   "/dev/console", "/dev/pts",      "/dev/shm",
    "/dev",        "/proc",        "/sys",
};

static bool
is_init_path(const char *path)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(init_paths); i++)
        if (!strcmp(path, init_paths[i]))
            return true;
    return false;
}

void
berth_changes_clear(struct berth_changes *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].path);
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

/* Appends (or inserts at index at, when at <= n) a change. */
static int
changes_insert(struct berth_changes *c, size_t at, const char *path, enum berth_change_kind kind,
               struct berth_error **err)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct berth_change *nv = realloc(c->v, ncap * sizeof(*nv));
        if (!nv)
            return berth_error_set(err, ENOMEM, "changes");
        c->v = nv;
        c->cap = ncap;
    }
    char *p = strdup(path);
    if (!p)
        return berth_error_set(err, ENOMEM, "changes");
    if (at > c->n)
        at = c->n;
    memmove(c->v + at + 1, c->v + at, (c->n - at) * sizeof(*c->v));
    c->v[at] = (struct berth_change){.path = p, .kind = kind};
    c->n++;
    return 0;
}

static int
changes_add(struct berth_changes *c, const char *path, enum berth_change_kind kind,
            struct berth_error **err)
{
    return changes_insert(c, c->n, path, kind, err);
}

json_t *
berth_changes_json(const struct berth_changes *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++)
        json_array_append_new(
            a, json_pack("{s:s,s:i}", "Path", c->v[i].path, "Kind", (int)c->v[i].kind));
    return a;
}

static int
join_path(char out[PATH_MAX], const char *dir, const char *name, struct berth_error **err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
    if (n < 0 || n >= PATH_MAX)
        return berth_error_setq(err, ENAMETOOLONG, "'%s/%s': path too long", dir, name);
    return 0;
}

/* Go's sameFsTime: equal, or equal seconds when one side has no nanoseconds. */
static bool
same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec &&
           (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* ---- overlay2 ---- */

struct ovl {
    const int *lowers;
    size_t n_lower;
    struct berth_changes *out;
};

/* Stats path (absolute in the container) in a lower layer, following symlinks inside it as
 * moby's os.Stat does. 1 found, 0 absent. */
static int
lower_stat(int layer_fd, const char *path, struct stat *st)
{
    int fd = berth_open_in_root(layer_fd, path, O_PATH, 0);
    if (fd < 0)
        return 0;
    int r = fstat(fd, st) == 0 ? 1 : 0;
    close(fd);
    return r;
}

static bool
is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

static bool
is_opaque(int dirfd, const char *name)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    char v[4];
    return fd >= 0 && fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

/* n_seen / n_init: entries of this directory, and how many were mount points left out */
static int
ovl_walk(struct ovl *o, int dirfd, const char *dir, bool *dir_changed, size_t *n_seen,
         size_t *n_init, int depth, struct berth_error **err)
{
    if (depth > MAX_DEPTH)
        return berth_error_setq(err, ELOOP, "'%s': too deep", dir);
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r = berth_dir_sorted_names(dirfd, &names, &n, err);
    if (r < 0)
        return berth_error_wrap(err, "'%s'", dir);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        if ((r = join_path(path, dir, names[i], err)) < 0)
            return r;
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return berth_error_set(err, errno, "stat '%s'", path);
        }
        bool record = true, changed = false;
        enum berth_change_kind kind = BERTH_CHANGE_ADD;
        bool deleted = is_whiteout(&st);
        if (!deleted && S_ISDIR(st.st_mode) && is_opaque(dirfd, names[i])) {
            /* an opaque directory replaces one below: deleted and made again */
            struct stat lst;
            for (size_t l = 0; l < o->n_lower && !deleted; l++)
                deleted = lower_stat(o->lowers[l], path, &lst) == 1;
        }
        if (deleted) {
            kind = BERTH_CHANGE_DELETE;
        } else {
            for (size_t l = 0; l < o->n_lower; l++) {
                struct stat lst;
                if (lower_stat(o->lowers[l], path, &lst) != 1)
                    continue;
                if (S_ISDIR(lst.st_mode) && S_ISDIR(st.st_mode) && lst.st_size == st.st_size &&
                    lst.st_mode == st.st_mode && same_time(&lst.st_mtim, &st.st_mtim))
                    record = false; /* only a parent of something changed: moby skips it */
                kind = BERTH_CHANGE_MODIFY;
                break;
            }
            if (kind == BERTH_CHANGE_ADD && is_init_path(path)) {
                record = false;
                (*n_init)++;
            }
        }
        (*n_seen)++;
        if (record) {
            if (S_ISDIR(st.st_mode))
                changed = true;
            if ((kind == BERTH_CHANGE_ADD || kind == BERTH_CHANGE_DELETE) && !*dir_changed &&
                strcmp(dir, "/")) {
                if ((r = changes_add(o->out, dir, BERTH_CHANGE_MODIFY, err)) < 0)
                    return r;
                *dir_changed = true;
            }
            if ((r = changes_add(o->out, path, kind, err)) < 0)
                return r;
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        _cleanup_close_ int sub =
            openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        size_t at = o->out->n, seen = 0, init = 0;
        if ((r = ovl_walk(o, sub, path, &changed, &seen, &init, depth + 1, err)) < 0)
            return r;
        /* a directory changed only by the mount points made in it (/etc for /etc/hosts): moby
         * has those in the init layer, so the directory is not a change either */
        if (record && kind == BERTH_CHANGE_MODIFY && seen && seen == init && o->out->n == at &&
            at > 0 && !strcmp(o->out->v[at - 1].path, path)) {
            free(o->out->v[at - 1].path);
            o->out->n--;
        }
    }
    return 0;
}

int
berth_changes_overlay(int upper_fd, const int *lower_fds, size_t n_lower, struct berth_changes *ret,
                      struct berth_error **err)
{
    struct berth_changes out = {0};
    struct ovl o = {.lowers = lower_fds, .n_lower = n_lower, .out = &out};
    bool root_changed = true;
    size_t seen = 0, init = 0;
    int r = ovl_walk(&o, upper_fd, "/", &root_changed, &seen, &init, 0, err);
    if (r < 0) {
        berth_changes_clear(&out);
        return r;
    }
    *ret = out;
    return 0;
}

/* ---- vfs: two full trees ---- */

static bool
stat_different(const struct stat *a, const struct stat *b)
{
    if (a->st_mode != b->st_mode || a->st_uid != b->st_uid || a->st_gid != b->st_gid ||
        a->st_rdev != b->st_rdev)
        return true;
    if (S_ISDIR(a->st_mode))
        return false; /* a directory's size and mtime say nothing */
    return !same_time(&a->st_mtim, &b->st_mtim) || a->st_size != b->st_size;
}

static bool
strv_contains(char *const *v, size_t n, const char *s)
{
    /* v is sorted */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v[mid], s);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* moby's FileInfo.addChanges: new_fd is this node's directory (or -1), old_fd the old one when
 * both are directories (or -1); old_exists: the node exists in the old tree. */
static int
tree_walk(struct berth_changes *out, int new_fd, int old_fd, const char *path, bool old_exists,
          bool added, int depth, struct berth_error **err)
{
    if (depth > MAX_DEPTH)
        return berth_error_setq(err, ELOOP, "'%s': too deep", path);
    size_t at_entry = out->n;
    int r;
    if (!old_exists) {
        if ((r = changes_add(out, path, BERTH_CHANGE_ADD, err)) < 0)
            return r;
        added = true;
    }
    if (new_fd < 0)
        return 0;
    _cleanup_strv_ char **names = NULL, **old_names = NULL;
    size_t n = 0, n_old = 0;
    if ((r = berth_dir_sorted_names(new_fd, &names, &n, err)) < 0)
        return berth_error_wrap(err, "'%s'", path);
    if (old_fd >= 0 && (r = berth_dir_sorted_names(old_fd, &old_names, &n_old, err)) < 0)
        return berth_error_wrap(err, "'%s' in the image", path);
    for (size_t i = 0; i < n; i++) {
        char child[PATH_MAX];
        if ((r = join_path(child, path, names[i], err)) < 0)
            return r;
        struct stat nst, ost;
        if (fstatat(new_fd, names[i], &nst, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        bool in_old = old_fd >= 0 && fstatat(old_fd, names[i], &ost, AT_SYMLINK_NOFOLLOW) == 0;
        if (!in_old && is_init_path(child))
            continue;
        bool child_added = false;
        if (in_old && stat_different(&ost, &nst)) {
            if ((r = changes_add(out, child, BERTH_CHANGE_MODIFY, err)) < 0)
                return r;
            child_added = true;
        }
        _cleanup_close_ int cnew = -1, cold = -1;
        if (S_ISDIR(nst.st_mode)) {
            cnew = openat(new_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cnew >= 0 && in_old && S_ISDIR(ost.st_mode))
                cold = openat(old_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if ((r = tree_walk(out, cnew, cold, child, in_old, child_added, depth + 1, err)) < 0)
            return r;
    }
    for (size_t i = 0; i < n_old; i++) {
        if (strv_contains(names, n, old_names[i]))
            continue;
        char child[PATH_MAX];
        if ((r = join_path(child, path, old_names[i], err)) < 0)
            return r;
        if ((r = changes_add(out, child, BERTH_CHANGE_DELETE, err)) < 0)
            return r;
    }
    if (out->n > at_entry && !added && strcmp(path, "/"))
        return changes_insert(out, at_entry, path, BERTH_CHANGE_MODIFY, err);
    return 0;
}

int
berth_changes_trees(int new_fd, int old_fd, struct berth_changes *ret, struct berth_error **err)
{
    struct berth_changes out = {0};
    int r = tree_walk(&out, new_fd, old_fd, "/", true, false, 0, err);
    if (r < 0) {
        berth_changes_clear(&out);
        return r;
    }
    *ret = out;
    return 0;
}

/* ---- layer tars ---- */

struct ovl_tar {
    const int *lowers;
    size_t n_lower;
    struct berth_fs_tar *t;
};

static int
ovl_tar_walk(struct ovl_tar *o, int dirfd, const char *dir, int depth, struct berth_error **err)
{
    if (depth > MAX_DEPTH)
        return berth_error_setq(err, ELOOP, "'%s': too deep", dir);
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r = berth_dir_sorted_names(dirfd, &names, &n, err);
    if (r < 0)
        return berth_error_wrap(err, "'%s'", dir);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        if ((r = join_path(path, dir, names[i], err)) < 0)
            return r;
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return berth_error_set(err, errno, "stat '%s'", path);
        }
        if (is_init_path(path)) {
            struct stat lst;
            bool below = false;
            for (size_t l = 0; l < o->n_lower && !below; l++)
                below = lower_stat(o->lowers[l], path, &lst) == 1;
            if (!below)
                continue;
        }
        const char *arc = path + 1; /* layer tars name entries without the leading '/' */
        if (is_whiteout(&st)) {
            char wh[PATH_MAX];
            const char *slash = strrchr(arc, '/');
            int len = snprintf(wh, sizeof(wh), "%.*s%s%s", slash ? (int)(slash - arc + 1) : 0, arc,
                               WH_PREFIX, names[i]);
            if (len < 0 || len >= (int)sizeof(wh))
                return berth_error_setq(err, ENAMETOOLONG, "'%s': path too long", path);
            if ((r = berth_fs_tar_add_empty(o->t, wh, 0600, st.st_uid, st.st_gid, st.st_mtim.tv_sec,
                                            err)) < 0)
                return r;
            continue;
        }
        if ((r = berth_fs_tar_add(o->t, dirfd, names[i], arc, &st, err)) < 0)
            return r;
        if (!S_ISDIR(st.st_mode))
            continue;
        if (is_opaque(dirfd, names[i])) {
            char wh[PATH_MAX];
            int len = snprintf(wh, sizeof(wh), "%s/%s", arc, WH_OPAQUE);
            if (len < 0 || len >= (int)sizeof(wh))
                return berth_error_setq(err, ENAMETOOLONG, "'%s': path too long", path);
            if ((r = berth_fs_tar_add_empty(o->t, wh, st.st_mode & 07777, st.st_uid, st.st_gid,
                                            st.st_mtim.tv_sec, err)) < 0)
                return r;
        }
        _cleanup_close_ int sub =
            openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        if ((r = ovl_tar_walk(o, sub, path, depth + 1, err)) < 0)
            return r;
    }
    return 0;
}

int
berth_diff_tar_overlay(int upper_fd, const int *lower_fds, size_t n_lower, int out_fd,
                       struct berth_error **err)
{
    struct ovl_tar o = {.lowers = lower_fds, .n_lower = n_lower};
    int r = berth_fs_tar_new(out_fd, &o.t, err);
    if (r < 0)
        return r;
    if ((r = ovl_tar_walk(&o, upper_fd, "/", 0, err)) < 0) {
        berth_fs_tar_abort(o.t);
        return r;
    }
    return berth_fs_tar_close(o.t, err);
}

static int
changes_tar_one(struct berth_fs_tar *t, int root_fd, const struct berth_change *ch,
                struct berth_error **err)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", ch->path);
    char *slash = strrchr(parent, '/');
    if (!slash || !slash[1])
        return 0;
    const char *base = ch->path + (slash - parent) + 1;
    if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    if (ch->kind == BERTH_CHANGE_DELETE) {
        char wh[PATH_MAX];
        int len =
            snprintf(wh, sizeof(wh), "%s%s%s%s", parent + 1, parent[1] ? "/" : "", WH_PREFIX, base);
        if (len < 0 || len >= (int)sizeof(wh))
            return berth_error_setq(err, ENAMETOOLONG, "'%s': path too long", ch->path);
        return berth_fs_tar_add_empty(t, wh, 0, 0, 0, 0, err);
    }
    _cleanup_close_ int dfd = berth_open_in_root(root_fd, parent, O_PATH | O_DIRECTORY, 0);
    if (dfd < 0)
        return 0; /* gone since the changes were listed */
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return berth_fs_tar_add(t, dfd, base, ch->path + 1, &st, err);
}

int
berth_diff_tar_changes(int root_fd, const struct berth_changes *c, int out_fd,
                       struct berth_error **err)
{
    struct berth_fs_tar *t = NULL;
    int r = berth_fs_tar_new(out_fd, &t, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < c->n; i++)
        if ((r = changes_tar_one(t, root_fd, &c->v[i], err)) < 0) {
            berth_fs_tar_abort(t);
            return r;
        }
    return berth_fs_tar_close(t, err);
}

/* ---- the container's ---- */

struct layer_fds {
    int *fds;
    size_t n;
};

static void
layer_fds_clear(struct layer_fds *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->fds[i] >= 0)
            close(l->fds[i]);
    free(l->fds);
}

/* The image's layer directories, top first. */
static int
open_layers(struct berth_containers *cs, const struct berth_container *c, struct layer_fds *ret,
            struct berth_error **err)
{
    _cleanup_image_ struct berth_image *img = NULL;
    int r = berth_store_lookup(cs->daemon->store, c->image_id, &img, err);
    if (r < 0)
        return berth_error_wrap(err, "image of container %s", c->id);
    size_t n = berth_strv_len(img->chain_ids);
    struct layer_fds l = {.fds = calloc(n + 1, sizeof(int)), .n = 0};
    if (!l.fds)
        return berth_error_set(err, ENOMEM, "layers");
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = NULL;
        if ((r = berth_store_layer_path(cs->daemon->store, img->chain_ids[n - 1 - i], &p, err)) <
            0) {
            layer_fds_clear(&l);
            return r;
        }
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            r = berth_error_set(err, errno, "open layer '%s'", p);
            layer_fds_clear(&l);
            return r;
        }
        l.fds[l.n++] = fd;
    }
    *ret = l;
    return 0;
}

static bool
is_vfs(struct berth_containers *cs)
{
    return !strcmp(berth_containers_driver(cs), "vfs");
}

/* overlay2: the upper directory; vfs: the full tree. */
static int
open_rw(struct berth_containers *cs, const struct berth_container *c, int *ret_fd,
        struct berth_error **err)
{
    _cleanup_free_ char *p =
        is_vfs(cs) ? berth_container_merged_dir(cs, c) : berth_container_upper_dir(cs, c);
    if (!p)
        return berth_error_set(err, ENOMEM, "container %s", c->id);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open the writable layer of %s", c->id);
    *ret_fd = fd;
    return 0;
}

int
berth_container_changes(struct berth_containers *cs, const struct berth_container *c,
                        struct berth_changes *ret, struct berth_error **err)
{
    struct layer_fds l = {0};
    _cleanup_close_ int rw = -1;
    int r = open_rw(cs, c, &rw, err);
    if (r < 0 || (r = open_layers(cs, c, &l, err)) < 0)
        return r;
    if (is_vfs(cs))
        r = berth_changes_trees(rw, l.n ? l.fds[0] : -1, ret, err);
    else
        r = berth_changes_overlay(rw, l.fds, l.n, ret, err);
    layer_fds_clear(&l);
    return r;
}

int
berth_container_diff_tar(struct berth_containers *cs, const struct berth_container *c, int out_fd,
                         struct berth_error **err)
{
    struct layer_fds l = {0};
    _cleanup_close_ int rw = -1;
    int r = open_rw(cs, c, &rw, err);
    if (r < 0 || (r = open_layers(cs, c, &l, err)) < 0)
        return r;
    if (is_vfs(cs)) {
        struct berth_changes ch = {0};
        r = berth_changes_trees(rw, l.n ? l.fds[0] : -1, &ch, err);
        if (r == 0)
            r = berth_diff_tar_changes(rw, &ch, out_fd, err);
        berth_changes_clear(&ch);
    } else {
        r = berth_diff_tar_overlay(rw, l.fds, l.n, out_fd, err);
    }
    layer_fds_clear(&l);
    return r;
}
