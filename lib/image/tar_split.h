/* Tar-split: a layer's tar kept as its headers, paddings and other raw bytes, with references to
 * the files of the unpacked layer instead of their contents (as Docker's tar-split does). A layer
 * loaded this way needs no second copy of its data on disk, and `save` rebuilds its tar byte for
 * byte from the split and the layer's files.
 *
 * Three parties, one layer:
 *   - the daemon, as it streams the uncompressed tar to the unpack child, feeds the same bytes
 *     to a split writer: a small tar block parser that keeps everything but the data of regular
 *     files (types '0', '\0', '7', without GNU or pax sparse maps), noting for each of those
 *     where its entry starts (its first header, extended headers included) and its size;
 *   - the unpack child reports each regular file it wrote with data: the same entry start
 *     (libarchive's header position), the size and the path in the layer; and whether anything
 *     it wrote was later replaced or removed by another entry of the same tar (a duplicate name,
 *     a hard link, a whiteout, a directory over it), in which case the file no longer holds that
 *     entry's data;
 *   - the two lists must agree entry by entry and nothing may have been replaced: only then is
 *     the split sealed with the paths. Otherwise the store keeps the tar itself (a blob).
 *
 * The file: "BERTHTS1", records ('R' u32 length + raw bytes; 'F' u64 size: the data of the next
 * file), 'E', the paths (u32 length + bytes each, in record order), and a trailer: "BTSTRAIL",
 * u64 offset of the paths, u64 number of files, u64 size of the whole tar. Little-endian. */
#ifndef BERTH_IMAGE_TAR_SPLIT_H
#define BERTH_IMAGE_TAR_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---- the daemon's side: writing ---- */
struct berth_tar_split;
/* Records go to out_fd (a new file, written sequentially). */
int berth_tar_split_new(int out_fd, struct berth_tar_split **ret, struct berth_error **err);
void berth_tar_split_free(struct berth_tar_split *ts);
/* The next bytes of the uncompressed tar. */
int berth_tar_split_feed(struct berth_tar_split *ts, const void *buf, size_t len,
                         struct berth_error **err);
/* After the last byte: true when the child's report (list_fd, read from its start) matches
 * the files this split saw and nothing was replaced; the split is then sealed (paths and
 * trailer written). False: the split is unusable (the caller keeps the tar instead). */
int berth_tar_split_seal(struct berth_tar_split *ts, int list_fd, bool *ret_sealed,
                         struct berth_error **err);

/* ---- the unpack child's side: the report ---- */
struct berth_split_list;
struct berth_split_list *berth_split_list_new(void);
void berth_split_list_free(struct berth_split_list *l);
/* A regular file written with data: its entry's header position, size, path in the layer. */
int berth_split_list_add(struct berth_split_list *l, int64_t header_pos, int64_t size,
                         const char *path);
/* Something at path is being removed or replaced (maybe_dir: it may be a directory, and what
 * was written under it goes too). */
void berth_split_list_removed(struct berth_split_list *l, const char *path, bool maybe_dir);
/* Writes the report to fd. */
int berth_split_list_write(struct berth_split_list *l, int fd);

/* ---- reading (save) ---- */
/* The size of the tar a sealed split rebuilds; EINVAL for a file that is not one. */
int berth_tar_split_size(int split_fd, uint64_t *ret_size, struct berth_error **err);
/* Rebuilds the tar: raw bytes from the split, file data read from the layer directory (paths
 * resolved beneath diff_fd, no symlinks followed); a file whose type or size changed is an
 * error. emit returns < 0 to stop. */
int berth_tar_split_rebuild(int split_fd, int diff_fd,
                            int (*emit)(void *cls, const void *buf, size_t len), void *cls,
                            struct berth_error **err);

#endif
