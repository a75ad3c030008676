/* `docker save` / `docker load` tarballs, `docker import`, and the default image. */
#ifndef BERTH_IMAGE_ARCHIVE_H
#define BERTH_IMAGE_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct berth_store;
struct json_t;

/* Loads a docker-archive (manifest.json, legacy or OCI paths) or an OCI image layout (index.json)
 * tarball, possibly compressed, from fd. work_dir: a private directory for unpacking (removed
 * afterwards). *ret_loaded: JSON array of {"id":..., "tags":[...]} for what was loaded. */
int berth_archive_load(struct berth_store *store, int fd, const char *work_dir,
                       struct json_t **ret_loaded, struct berth_error **err);
/* Progress of long work, as docker's JSON messages show it: id (a short layer id), status
 * ("Loading layer", "Importing"), bytes done of total. */
struct berth_progress {
    void (*fn)(void *cls, const char *id, const char *status, int64_t current, int64_t total);
    void *cls;
};

/* berth_archive_load in two steps, so that a malformed tarball is refused before a stream of
 * progress messages starts: unpack the outer tarball into work_dir (on failure it is removed),
 * then add its layers and images (work_dir is removed afterwards). When fd is a plain tar in a
 * regular file on work_dir's filesystem (the daemon's spooled request body), the unpack only
 * indexes it: the file is hard-linked into work_dir and each layer is later read once from it,
 * straight into the store, and punched out of it after its last use (so the sync that makes
 * the layer durable writes none of it back); otherwise the files are copied into work_dir. */
int berth_archive_unpack(int fd, const char *work_dir, struct berth_error **err);
int berth_archive_load_unpacked(struct berth_store *store, const char *work_dir,
                                const struct berth_progress *progress, struct json_t **ret_loaded,
                                struct berth_error **err);
/* Writes the images (references or ids) as one tarball readable by `docker load` (both the
 * manifest.json and the OCI layout forms, as Docker 25+ writes them) to out_fd. */
int berth_archive_save(struct berth_store *store, const char *const *names, int out_fd,
                       struct berth_error **err);
/* `docker import`: a rootfs tarball (plain, gz, zstd, xz) becomes a one-layer image. changes are
 * Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME,
 * STOPSIGNAL); message becomes the history comment. */
int berth_archive_import(struct berth_store *store, int fd, const char *const *changes,
                         const char *message, const char *source,
                         const struct berth_progress *progress, char ret_id[72],
                         struct berth_error **err);
/* The default image, busybox:latest, made from the host's busybox-static (/bin/busybox):
 * the binary, its applets as symlinks, /etc/passwd and /etc/group, and the usual directories. */
int berth_default_image_create(struct berth_store *store, const char *busybox_path, char ret_id[72],
                               struct berth_error **err);
/* Applies Dockerfile-style changes to an image config's "config" object. */
int berth_config_apply_changes(struct json_t *config, const char *const *changes,
                               struct berth_error **err);

#endif
