/* Layer tars: ingest (decompress to a file while computing the diff ID) and unpack (extract into
 * a layer directory in a chrooted child, whiteouts converted to the storage driver's form).
 * The store (lib/image/store.c) drives these; they know nothing of SQLite.
 *
 * Unpacking rules, the same for both drivers:
 *   - entry names are cleaned lexically ("./a//b/" -> "a/b", a leading "/" is dropped, as docker
 *     does); a name whose ".." climbs above the layer root is refused ("path escapes the layer");
 *     hard link targets get the same treatment, and hard links never carry data;
 *   - names and link targets longer than PATH_MAX - 1 are refused; so is an entry whose size
 *     is larger than the archive: from a file before anything is written (a first pass reads
 *     the headers), from a stream when the data runs out (the work directory is then dropped);
 *   - owners are the numeric uid/gid of the tar (never looked up by name inside the layer);
 *   - xattrs are restored except trusted.overlay.* (overlayfs' own metadata is ours to set);
 *   - the child runs chrooted into the layer directory, so even a bug cannot write outside it;
 *     entries are written relative to directory fds opened with O_NOFOLLOW (layer_write.c): a
 *     symlink met on the way to an entry is replaced by a directory rather than followed, which
 *     is what overlayfs shows for the same layer (an upper directory hides a lower symlink).
 * Whiteouts: ".wh.NAME" and ".wh..wh..opq"; other ".wh..wh." entries (aufs metadata) are skipped.
 *   overlay2: NAME becomes a 0/0 character device, an opaque directory gets
 *             trusted.overlay.opaque=y;
 *   vfs:      the layer starts as a copy of its parent's tree; NAME is deleted; an opaque
 *             directory is emptied before any of the layer's entries are written. */
#ifndef BERTH_IMAGE_LAYER_H
#define BERTH_IMAGE_LAYER_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "image/store.h"

/* Reads a tar stream (plain, gzip, bzip2, xz or zstd) from in_fd to EOF and writes it
 * uncompressed to out_fd, fsynced. ret_diff_id: the sha256 of the uncompressed bytes;
 * ret_size: their number. More than max_size uncompressed bytes (0: no limit) is EFBIG. */
int berth_layer_ingest(int in_fd, int out_fd, uint64_t max_size, char ret_diff_id[72],
                       uint64_t *ret_size, struct berth_error **err);
/* The same from an input (a whole fd or a range of one, with progress; see store.h), not
 * fsynced (writeback of out_fd is started as it goes: the caller syncs); out_fd < 0: the bytes
 * are not kept. split: every uncompressed byte also goes to this tar-split writer. tee_fd >= 0:
 * and is written there (an unpack child's pipe) until the reader stops. */
struct berth_tar_split;
int berth_layer_ingest_input(const struct berth_layer_input *in, int out_fd,
                             struct berth_tar_split *split, int tee_fd, uint64_t max_size,
                             char ret_diff_id[72], uint64_t *ret_size, struct berth_error **err);

/* Copies the tree under src_dirfd into the empty directory dst_dirfd: regular files by content
 * (never hard links to the source), directories, symlinks, device nodes, fifos and sockets,
 * with owners, modes, timestamps and xattrs; hard links between files of the source are hard
 * links between the copies. */
int berth_layer_copy_tree(int src_dirfd, int dst_dirfd, struct berth_error **err);

/* Extracts the uncompressed tar in tar_fd (a regular file) into the directory diff_path, in a
 * child process chrooted there: fork, then exec of /proc/self/exe (so a multithreaded caller is
 * safe), recognised by a constructor in layer.c before main() runs. ret_size: total bytes of the
 * regular files the tar carries (this layer's own content, whatever the driver). The child's
 * errors come back over a pipe and name the entry:
 *   layer entry "../x": path escapes the layer */
int berth_layer_unpack(int tar_fd, const char *diff_path, enum berth_driver driver,
                       int64_t *ret_size, struct berth_error **err);

/* The same child reading a stream, single pass (no vfs opaque-directory pre-pass: for overlay2,
 * and for vfs base layers): *ret_fd is the write end of its pipe, to be closed by the caller at
 * the end of the tar; berth_layer_unpack_finish waits for the child's report (and frees u).
 * list_fd >= 0 (an empty file): the child writes there the files it wrote, for a tar-split
 * (tar_split.h). */
struct berth_layer_unpacker;
int berth_layer_unpack_start(const char *diff_path, enum berth_driver driver, int list_fd,
                             int *ret_fd, struct berth_layer_unpacker **ret,
                             struct berth_error **err);
int berth_layer_unpack_finish(struct berth_layer_unpacker *u, int64_t *ret_size,
                              struct berth_error **err);
/* The same child reading an uncompressed tar straight from the bytes [offset, offset + length)
 * of fd (a file, reopened read-only for it), single pass: no pipe, no copy through the daemon.
 * The range must stay as it is until berth_layer_unpack_finish. */
int berth_layer_unpack_start_range(const char *diff_path, enum berth_driver driver, int list_fd,
                                   int fd, int64_t offset, int64_t length,
                                   struct berth_layer_unpacker **ret, struct berth_error **err);

#endif
