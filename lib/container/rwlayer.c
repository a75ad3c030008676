/* The container's root filesystem: overlayfs of the image's layers under a writable upper
 * directory (overlay2), or a full copy of the image's tree (vfs). Mounted at start, kept while
 * the container runs (across berthd restarts), unmounted after it exits. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "image/layer.h"
#include "image/store.h"

#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static bool
is_vfs(struct berth_containers *cs)
{
    return !strcmp(cs->daemon->driver, "vfs");
}

static char *
rw_path(struct berth_containers *cs, const char *id, const char *leaf)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s/rw%s%s", cs->dir, id, leaf ? "/" : "", leaf ? leaf : "") < 0)
        return NULL;
    return p;
}

static bool
is_mountpoint(const char *path)
{
    struct stat a, b;
    _cleanup_free_ char *parent = NULL;
    if (asprintf(&parent, "%s/..", path) < 0)
        return false;
    if (stat(path, &a) < 0 || stat(parent, &b) < 0)
        return false;
    return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

int
berth_rwlayer_create(struct berth_containers *cs, const struct berth_container *c,
                     struct berth_error **err)
{
    int r;
    const char *leaves[] = {"upper", "work", "merged", "empty"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(leaves); i++) {
        if (is_vfs(cs) && i != 2)
            continue;
        _cleanup_free_ char *p = rw_path(cs, c->id, leaves[i]);
        if (!p)
            return berth_error_set(err, ENOMEM, "rw layer");
        if ((r = berth_mkdir_p(p, 0755, err)) < 0)
            return r;
    }
    if (!is_vfs(cs))
        return 0;
    /* vfs: the image's top layer holds the whole tree; copy it once, now */
    _cleanup_image_ struct berth_image *img = NULL;
    if ((r = berth_store_lookup(cs->daemon->store, c->image_id, &img, err)) < 0)
        return r;
    size_t n = 0;
    while (img->chain_ids && img->chain_ids[n])
        n++;
    if (n == 0)
        return 0;
    _cleanup_free_ char *top = NULL, *merged = rw_path(cs, c->id, "merged");
    if ((r = berth_store_layer_path(cs->daemon->store, img->chain_ids[n - 1], &top, err)) < 0)
        return r;
    _cleanup_close_ int src = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int dst = merged ? open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (src < 0 || dst < 0)
        return berth_error_set(err, errno, "open layer directories for %s", c->id);
    return berth_layer_copy_tree(src, dst, err);
}

/* fsopen + fsconfig("lowerdir+") per layer: no limit on the number of layers (kernels 6.8+). */
static int
mount_overlay_new_api(char **lowers, size_t n, const char *upper, const char *work,
                      const char *target)
{
    _cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, "overlay", 1 /* FSOPEN_CLOEXEC */);
    if (fsfd < 0)
        return -errno;
    for (size_t i = 0; i < n; i++)
        if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
            return -errno;
    if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
        syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
        syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "index", "off", 0) < 0)
        return -errno;
    if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return -errno;
    _cleanup_close_ int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0);
    if (mfd < 0)
        return -errno;
    if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return -errno;
    return 0;
}

int
berth_rwlayer_mount(struct berth_containers *cs, const struct berth_container *c, char **ret_rootfs,
                    struct berth_error **err)
{
    int r;
    _cleanup_free_ char *merged = rw_path(cs, c->id, "merged");
    if (!merged)
        return berth_error_set(err, ENOMEM, "rw layer");
    if (is_vfs(cs) || is_mountpoint(merged)) {
        *ret_rootfs = TAKE_PTR(merged);
        return 0;
    }
    _cleanup_image_ struct berth_image *img = NULL;
    if ((r = berth_store_lookup(cs->daemon->store, c->image_id, &img, err)) < 0)
        return berth_error_wrap(err, "image of container %s", c->id);
    size_t n = 0;
    while (img->chain_ids && img->chain_ids[n])
        n++;
    /* overlay's lowerdir lists the top layer first */
    _cleanup_strv_ char **lowers = calloc(n + 2, sizeof(char *));
    if (!lowers)
        return berth_error_set(err, ENOMEM, "rw layer");
    for (size_t i = 0; i < n; i++)
        if ((r = berth_store_layer_path(cs->daemon->store, img->chain_ids[n - 1 - i], &lowers[i],
                                        err)) < 0)
            return r;
    if (n == 0) {
        lowers[0] = rw_path(cs, c->id, "empty");
        n = 1;
    }
    _cleanup_free_ char *upper = rw_path(cs, c->id, "upper"), *work = rw_path(cs, c->id, "work");
    _cleanup_free_ char *joined = berth_strv_join(lowers, ":");
    _cleanup_free_ char *opts = NULL;
    if (!upper || !work || !joined ||
        asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s,index=off", joined, upper, work) < 0)
        return berth_error_set(err, ENOMEM, "rw layer");
    if (strlen(opts) < 4000) {
        if (mount("overlay", merged, "overlay", 0, opts) < 0)
            return berth_error_set(err, errno, "mount the root filesystem of %s", c->id);
    } else if ((r = mount_overlay_new_api(lowers, n, upper, work, merged)) < 0) {
        return berth_error_set(err, -r, "mount the root filesystem of %s (%zu layers)", c->id, n);
    }
    *ret_rootfs = TAKE_PTR(merged);
    return 0;
}

char *
berth_rwlayer_mountpoint(struct berth_containers *cs, const struct berth_container *c)
{
    return is_vfs(cs) ? NULL : rw_path(cs, c->id, "merged");
}

void
berth_rwlayer_unmount_path(const char *merged)
{
    if (merged && is_mountpoint(merged))
        (void)umount2(merged, MNT_DETACH);
}

void
berth_rwlayer_unmount(struct berth_containers *cs, const struct berth_container *c)
{
    _cleanup_free_ char *merged = berth_rwlayer_mountpoint(cs, c);
    berth_rwlayer_unmount_path(merged);
}

static _Thread_local int64_t walk_total;

static int
walk_sum(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode))
        walk_total += st->st_size;
    return 0;
}

int64_t
berth_rwlayer_size(struct berth_containers *cs, const struct berth_container *c)
{
    _cleanup_free_ char *upper = rw_path(cs, c->id, is_vfs(cs) ? "merged" : "upper");
    if (!upper)
        return 0;
    walk_total = 0;
    if (nftw(upper, walk_sum, 32, FTW_PHYS) < 0)
        return 0;
    return walk_total;
}

char *
berth_container_upper_dir(struct berth_containers *cs, const struct berth_container *c)
{
    return is_vfs(cs) ? NULL : rw_path(cs, c->id, "upper");
}

char *
berth_container_merged_dir(struct berth_containers *cs, const struct berth_container *c)
{
    return rw_path(cs, c->id, "merged");
}

int
berth_container_rootfs_get(struct berth_containers *cs, const struct berth_container *c,
                           char **ret_merged, struct berth_error **err)
{
    return berth_rwlayer_mount(cs, c, ret_merged, err);
}

void
berth_container_rootfs_put(struct berth_containers *cs, const struct berth_container *c)
{
    if (c->state != BERTH_C_RUNNING && c->state != BERTH_C_PAUSED && !c->busy)
        berth_rwlayer_unmount(cs, c);
}

const char *
berth_containers_driver(struct berth_containers *cs)
{
    return cs->daemon->driver;
}

int64_t
berth_container_size_rw(struct berth_containers *cs, const struct berth_container *c)
{
    return berth_rwlayer_size(cs, c);
}
