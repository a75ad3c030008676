/* The container's filesystem view: mounts, devices, pivot_root, masked and read-only paths.
 * All of it runs in the container init, inside its new mount namespace. */
#ifndef BERTH_RUNTIME_ROOTFS_H
#define BERTH_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "core/error.h"
#include "runtime/spec.h"

/* Before pivot_root: propagation of "/", the rootfs bind, every mount of config.json, /dev. */
int berth_rootfs_prepare(const struct berth_spec *spec, bool in_userns, struct berth_error **err);
/* pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot) and drop the old root. */
int berth_rootfs_pivot(const struct berth_spec *spec, bool no_pivot, struct berth_error **err);
/* After pivot_root and sysctls: read-only root, masked paths, read-only paths, propagation. */
int berth_rootfs_finalize(const struct berth_spec *spec, bool in_userns, struct berth_error **err);
/* Binds the pty slave onto /dev/console (after pivot_root). */
int berth_rootfs_setup_console(const char *slave_path, struct berth_error **err);

#endif
