/* The container's filesystem seen from outside: changes (docker diff), layer tars of the
 * writable layer (docker commit), tars of the root filesystem or of a path in it (docker export,
 * docker cp from), extraction into it (docker cp to), and the stat docker cp asks first.
 *
 * Safety: nothing here follows a symlink of the container's on the host side. Walks and tars are
 * made with openat(O_NOFOLLOW) relative to directory fds; paths the user names are resolved with
 * berth_open_in_root (openat2 RESOLVE_IN_ROOT); tars of the root filesystem and extraction into
 * it run in a helper child (this binary re-executed, like the layer unpack child) chrooted into
 * the container's root filesystem. */
#ifndef BERTH_CONTAINER_FS_H
#define BERTH_CONTAINER_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/error.h"

struct berth_containers;
struct berth_container;
struct json_t;

/* ---- changes (changes.c) ---- */

enum berth_change_kind { BERTH_CHANGE_MODIFY = 0, BERTH_CHANGE_ADD = 1, BERTH_CHANGE_DELETE = 2 };

struct berth_change {
    char *path; /* absolute, "/etc/passwd" */
    enum berth_change_kind kind;
};

struct berth_changes {
    struct berth_change *v;
    size_t n, cap;
};
void berth_changes_clear(struct berth_changes *c);

/* overlay2: walks the upper directory as moby's overlay driver does: a 0/0 character device is a
 * deleted file, an opaque directory (trusted.overlay.opaque=y) that exists below is a deleted
 * (and recreated) directory, an entry that exists in a lower layer is modified, else added;
 * directories equal (mode, size, mtime) to the lower one are skipped, and the parent of an
 * added or deleted entry is listed as modified. lower_fds: the image's layer directories, top
 * first. The mount points every container has (/etc/hosts, /etc/hostname, /etc/resolv.conf,
 * /.dockerenv, /dev, /proc, /sys, ... moby keeps them in its init layer) are left out when added.
 */
int berth_changes_overlay(int upper_fd, const int *lower_fds, size_t n_lower,
                          struct berth_changes *ret, struct berth_error **err);
/* vfs: compares two full trees (new: the container's, old: the image's top layer) as moby's
 * naive diff does: mode, owner, rdev, and for non-directories size and mtime; a directory with
 * changes inside is listed as modified before them. */
int berth_changes_trees(int new_fd, int old_fd, struct berth_changes *ret,
                        struct berth_error **err);
/* The JSON docker diff reads: [{"Path":..., "Kind":0|1|2}] ([] when empty; moby sends null,
 * which the transport cannot send as a body: the CLI shows both the same). */
struct json_t *berth_changes_json(const struct berth_changes *c);

/* ---- tars (fs_tar.c) ---- */

struct berth_fs_tar;
/* A pax tar (numeric owners, no names looked up; security.capability kept) written to out_fd. */
int berth_fs_tar_new(int out_fd, struct berth_fs_tar **ret, struct berth_error **err);
/* Adds the entry name of dirfd (not followed) as arcname (directories get a trailing '/');
 * hard links between added files are stored as hard links. st may be NULL (then fstatat). */
int berth_fs_tar_add(struct berth_fs_tar *t, int dirfd, const char *name, const char *arcname,
                     const struct stat *st, struct berth_error **err);
/* Adds the directory dirfd's contents recursively, named under prefix ("" or "etc"), sorted. */
int berth_fs_tar_add_tree(struct berth_fs_tar *t, int dirfd, const char *prefix,
                          struct berth_error **err);
/* An empty regular file entry (whiteouts). */
int berth_fs_tar_add_empty(struct berth_fs_tar *t, const char *arcname, mode_t perm, uid_t uid,
                           gid_t gid, int64_t mtime, struct berth_error **err);
/* Writes the end of the archive and frees t (also on error; t may be NULL). */
int berth_fs_tar_close(struct berth_fs_tar *t, struct berth_error **err);
void berth_fs_tar_abort(struct berth_fs_tar *t);
/* The names in a directory (without . and ..), sorted, NULL-terminated; caller frees. */
int berth_dir_sorted_names(int dirfd, char ***ret, size_t *ret_n, struct berth_error **err);

/* The layer tar of the writable layer: overlay2's upper directory with whiteouts turned back
 * into ".wh.NAME" entries and opaque directories into ".wh..wh..opq" (moby's overlay2 Diff), or
 * for vfs the entries of a change list read from root_fd with ".wh." entries for deletions
 * (moby's ExportChanges). The mount points of berth_changes_overlay are left out. */
int berth_diff_tar_overlay(int upper_fd, const int *lower_fds, size_t n_lower, int out_fd,
                           struct berth_error **err);
int berth_diff_tar_changes(int root_fd, const struct berth_changes *c, int out_fd,
                           struct berth_error **err);

/* ---- paths in the root filesystem (archive.c) ---- */

/* Go's os.FileMode bits of a st_mode (what X-Docker-Container-Path-Stat carries). */
uint32_t berth_go_file_mode(mode_t mode);
/* moby's ContainerPathStat: {"name","size","mode","mtime","linkTarget"}; linkTarget is the
 * symlink fully resolved inside the root (absolute), "" otherwise. path is as the user gave it
 * (absolute inside the container); the directory part is resolved inside root_fd, the last
 * component is not followed (a trailing '/' or "/." follows it). ENOENT: not there. */
int berth_path_stat(int root_fd, const char *path, struct json_t **ret_stat,
                    struct berth_error **err);
/* base64 of the compact JSON text, for the header. */
char *berth_path_stat_header(const struct json_t *stat);

/* The helper child (this binary re-executed, chrooted into the root filesystem whose directory
 * fd is root_fd). Tar mode: writes to out_fd the tar of src_dir (resolved inside the root):
 * with base NULL the directory's contents, named under rebase ("" for export, "etc" for
 * `docker cp c:/etc`, the directory itself first); with base, the one entry base of src_dir
 * named rebase. Extract mode: reads the tar in tar_fd (a regular file) and extracts it into
 * dst_dir (resolved inside the root, symlinks followed there): every header is checked first
 * (names, hard link targets, truncation), so a bad tar writes nothing; no_overwrite_dir_non_dir
 * refuses to replace a directory by a non-directory and the reverse, as moby's option. */
struct berth_fs_helper;
int berth_fs_helper_tar(int root_fd, const char *src_dir, const char *base, const char *rebase,
                        int out_fd, struct berth_fs_helper **ret, struct berth_error **err);
int berth_fs_helper_extract(int root_fd, const char *dst_dir, int tar_fd,
                            bool no_overwrite_dir_non_dir, struct berth_fs_helper **ret,
                            struct berth_error **err);
/* Waits for the helper's report (kill: end it first, for a client that went away). */
int berth_fs_helper_wait(struct berth_fs_helper *h, bool kill_first, struct berth_error **err);

/* ---- container-level (changes.c, commit.c) ---- */

/* docker diff of a container (running or not; a stopped overlay2 container needs no mount). */
int berth_container_changes(struct berth_containers *cs, const struct berth_container *c,
                            struct berth_changes *ret, struct berth_error **err);
/* Writes the layer tar of the container's writable layer to out_fd. */
int berth_container_diff_tar(struct berth_containers *cs, const struct berth_container *c,
                             int out_fd, struct berth_error **err);

#endif
