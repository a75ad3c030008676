/* docker commit (commit.c). */
#ifndef BERTH_CONTAINER_COMMIT_H
#define BERTH_CONTAINER_COMMIT_H

#include <stdbool.h>

#include "core/error.h"

struct berth_containers;
struct json_t;

struct berth_commit_opts {
    const char *reference; /* normalised "docker.io/library/x:tag", or NULL: untagged */
    const char *comment, *author;
    bool pause;                  /* pause a running container while its layer is read */
    const char *const *changes;  /* Dockerfile instructions (--change), NULL-terminated or NULL */
    const struct json_t *config; /* a Config overriding the container's, or NULL */
};

/* The container's writable layer as a new layer on its image's top (none when nothing changed:
 * moby's empty layer), a new image config (history and rootfs.diff_ids appended, "container"
 * set, config = the given or the container's Config with the changes applied and the
 * container's Config merged under it), registered and tagged. Event `container commit`.
 * Errors: ENOENT no container, EINVAL a bad --change (nothing written). */
int berth_container_commit(struct berth_containers *cs, const char *ref,
                           const struct berth_commit_opts *o, char ret_id[72],
                           struct berth_error **err);
/* moby's merge(userConf, imageConf): fills what user leaves empty from base. */
void berth_commit_merge_config(struct json_t *user, const struct json_t *base);

#endif
