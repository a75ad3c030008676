/* The image store under data-root:
 *   berth.db                 SQLite (WAL): images, tags, layers, image->layer lists
 *   blobs/sha256/<hex>       content-addressed blobs, verified as they are written: image configs
 *                            and the uncompressed tars of layers that have no tar-split (by
 *                            diff ID, so `save` reproduces them byte for byte)
 *   layers/<chain hex>/      one directory per chain ID, unpacked once and shared:
 *                              diff/   the layer's files (overlay2: just this layer, whiteouts in
 *                                      overlay's form; vfs: the full filesystem up to this layer)
 *                              tar-split  the layer's tar without its file data (tar_split.h):
 *                                      made when the layer came from a file (load, import) and
 *                                      its files hold their entries' data exactly; save rebuilds
 *                                      the tar from it (BERTH_NO_TAR_SPLIT=1 in the environment
 *                                      keeps blobs instead, for comparisons)
 *   tmp/                     work in progress; anything here at open is a crash leftover
 * Every change becomes visible in one SQLite transaction after its files are complete, so a crash
 * (kill -9) at any point leaves no partial image, and repeating the operation succeeds. */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct json_t;
struct berth_store;

enum berth_driver { BERTH_DRIVER_OVERLAY2, BERTH_DRIVER_VFS };

struct berth_image {
    char id[72];     /* "sha256:<hex>" = digest of the config blob */
    int64_t created; /* seconds, from the config's "created" (0 if absent) */
    int64_t size;    /* sum of the layers' unpacked sizes */
    char **tags;     /* normalised references ("docker.io/library/busybox:latest") */
    char **digests;  /* repo digests ("docker.io/library/busybox@sha256:...") */
    char **diff_ids; /* the layers, base first */
    char **chain_ids;
    int64_t *layer_sizes;  /* unpacked size of each layer, as diff_ids */
    char *parent;          /* parent image id or NULL */
    struct json_t *config; /* the parsed config blob */
};

int berth_store_open(const char *data_root, enum berth_driver driver, struct berth_store **ret,
                     struct berth_error **err);
void berth_store_close(struct berth_store *store);

/* Writes a blob from fd (to EOF, at most max_size bytes); when expected is given the content must
 * have that digest (else EBADMSG, nothing kept). ret_digest: "sha256:<hex>". */
int berth_store_put_blob(struct berth_store *store, int fd, uint64_t max_size, const char *expected,
                         char ret_digest[72], struct berth_error **err);
int berth_store_put_blob_buffer(struct berth_store *store, const void *data, size_t len,
                                char ret_digest[72], struct berth_error **err);
/* Opens a blob for reading (ENOENT if absent). */
int berth_store_open_blob(struct berth_store *store, const char *digest, int *ret_fd,
                          struct berth_error **err);

/* Adds a layer on top of parent_chain (NULL for a base layer) from a tar stream that may be
 * gzip, zstd, xz or bzip2 compressed or plain: decompresses it into a blob while computing the
 * diff ID, then unpacks it (in a child process chrooted into the new layer directory, so no
 * entry can land outside it: "..", absolute paths, symlinks then files through them, hard
 * links out of the layer; device nodes allowed), turning whiteouts (.wh.NAME, .wh..wh..opq)
 * into the driver's form. A layer already present (same chain ID) is reused. */
int berth_store_add_layer(struct berth_store *store, const char *parent_chain, int tar_fd,
                          char ret_chain_id[72], char ret_diff_id[72], struct berth_error **err);

/* Where a layer's (possibly compressed) tar comes from. */
struct berth_layer_input {
    int fd;
    int64_t offset; /* with length >= 0: the bytes [offset, offset + length) of fd (pread) */
    int64_t length; /* -1: fd read to EOF from its position */
    bool discard;   /* punch the range out of fd once read (a spooled body read only once) */
    /* optional: bytes read of total, every MiB and at the end */
    void (*progress)(void *cls, int64_t done, int64_t total);
    void *cls;
};
/* berth_store_add_layer from an input. expected_diff (optional): the diff ID the image config
 * says this layer has: when that layer is already in the store, nothing is read; a tar with
 * another diff ID is refused (EBADMSG). The tar is decompressed once: its bytes are hashed and
 * written to the blob while the unpack child extracts them from a pipe (vfs layers with a
 * parent are unpacked from the blob afterwards, for their opaque-directory pass). */
int berth_store_add_layer_input(struct berth_store *store, const char *parent_chain,
                                const struct berth_layer_input *in, const char *expected_diff,
                                char ret_chain_id[72], char ret_diff_id[72],
                                struct berth_error **err);
/* A layer's uncompressed tar, byte for byte the one it was made from (its digest is diff_id):
 * the blob of diff_id when the store keeps one, else rebuilt from the layer's tar-split and its
 * files (tar_split.h). _size first (a tar header needs it), then _write hands the bytes to emit
 * (which returns < 0 to stop). */
int berth_store_layer_tar_size(struct berth_store *store, const char *chain_id, const char *diff_id,
                               uint64_t *ret_size, struct berth_error **err);
int berth_store_layer_tar_write(struct berth_store *store, const char *chain_id,
                                const char *diff_id,
                                int (*emit)(void *cls, const void *buf, size_t len), void *cls,
                                struct berth_error **err);
/* The directory holding a layer's files (diff/), for mounting. */
int berth_store_layer_path(struct berth_store *store, const char *chain_id, char **ret,
                           struct berth_error **err);

/* Registers an image: config is the exact config blob text (its digest is the image id); the
 * config's rootfs.diff_ids must match layers already added in that order. Idempotent. */
int berth_store_add_image(struct berth_store *store, const char *config, size_t len,
                          char ret_id[72], struct berth_error **err);

/* ref: a reference ("busybox", "busybox:1", "x@sha256:..."), a full id, or a unique id prefix
 * (at least 1 hex char; an ambiguous prefix is EINVAL, no match ENOENT "No such image: ref"). */
int berth_store_lookup(struct berth_store *store, const char *ref, struct berth_image **ret,
                       struct berth_error **err);
/* All images (with tags and digests), newest first. */
int berth_store_list(struct berth_store *store, struct berth_image ***ret, size_t *n_ret,
                     struct berth_error **err);
void berth_image_free(struct berth_image *img);
void berth_images_free(struct berth_image **imgs, size_t n);

/* Points a normalised reference at an image (replacing what it pointed to). */
int berth_store_tag(struct berth_store *store, const char *image_id, const char *ref,
                    struct berth_error **err);
/* Removes a tag; ENOENT if it does not exist. */
int berth_store_untag(struct berth_store *store, const char *ref, struct berth_error **err);
/* Deletes an image and the layers no other image uses. Refused (EBUSY) while it still has
 * tags unless force; ret_deleted: the layer chain ids and image id removed (for the API). */
int berth_store_delete_image(struct berth_store *store, const char *image_id, bool force,
                             char ***ret_deleted, struct berth_error **err);
/* Sum of all layer sizes (for /system/df). */
int64_t berth_store_layers_size(struct berth_store *store);
int berth_store_count_images(struct berth_store *store);

/* Fault injection for tests: BERTH_FAULT=<name> (or berth_fault_set) makes the named point fail,
 * or with BERTH_FAULT=<name>:crash kill the process there (SIGKILL) to simulate a crash. */
bool berth_fault(const char *point);
void berth_fault_set(const char *spec);

#endif
