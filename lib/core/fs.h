/* Paths inside a container root or a layer, resolved so that symlinks and ".." stay inside. */
#ifndef BERTH_CORE_FS_H
#define BERTH_CORE_FS_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"

/* Opens path (absolute or relative, interpreted inside rootfd). openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) when the kernel has it, else a component walk with the same rules.
 * Returns an fd or -errno. */
int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Creates the missing components of path inside rootfd (directories; the last one a regular
 * file when last_is_file) and returns an O_PATH fd to the result in *ret_fd. */
int berth_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool last_is_file, int *ret_fd,
                        struct berth_error **err);
/* "/proc/self/fd/N" for mounting onto an fd: the mount lands on what the fd refers to. */
void berth_fd_path(int fd, char *buf, size_t len);
/* For tests: pretend openat2 is missing so the fallback walk is exercised. */
void berth_fs_force_fallback(bool on);

#endif
