/* Private to the layer code: the unpack child's disk writer (layer_write.c), used by the
 * extraction in layer.c. */
#ifndef BERTH_IMAGE_LAYER_INTERNAL_H
#define BERTH_IMAGE_LAYER_INTERNAL_H

#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"

struct berth_layer_writer;

struct berth_split_list;
/* A writer for the current directory (the chrooted layer root). list (optional) is told of
 * every entry removed or replaced (tar_split.h). */
int berth_layer_writer_new(struct berth_layer_writer **ret, struct berth_split_list *list,
                           struct berth_error **err);
void berth_layer_writer_free(struct berth_layer_writer *w);
/* Writes entry e (its data read from a) at path: cleaned, not empty, modified during the call
 * and restored. hardlink: the cleaned target of a hard link, else NULL. An existing entry at
 * path is replaced (a directory by a directory is kept and gets the new metadata); a
 * non-directory on the way is replaced by a directory. */
int berth_layer_writer_entry(struct berth_layer_writer *w, struct archive *a,
                             struct archive_entry *e, char *path, const char *hardlink,
                             struct berth_error **err);
/* Drops the open directories (after something else changed the tree, e.g. a whiteout). */
void berth_layer_writer_forget(struct berth_layer_writer *w);
/* Sets the directories' times, last (writing into a directory changes them). */
int berth_layer_writer_finish(struct berth_layer_writer *w, struct berth_error **err);

#endif
