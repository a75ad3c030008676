/* Exec instances (docker exec): create, start through a monitor in exec mode, inspect. */
#ifndef BERTH_CONTAINER_EXEC_H
#define BERTH_CONTAINER_EXEC_H

#include <stdbool.h>

#include "core/error.h"

struct json_t;
struct berth_containers;

struct berth_exec_info {
    char id[65], cid[65];
    bool tty, attach_in, attach_out, attach_err;
    char detach_keys[64];
};

/* body: the POST /containers/{id}/exec body. 409-class (EBUSY) when the container is not
 * running or paused. */
int berth_exec_create(struct berth_containers *cs, const char *ref, const struct json_t *body,
                      char ret_id[65], struct berth_error **err);
/* What a start needs to know before it hijacks; EEXIST when already started. */
int berth_exec_info(struct berth_containers *cs, const char *id, struct berth_exec_info *info,
                    struct berth_error **err);
/* Runs the exec; with streams attached (not detach) *ret_attach_fd is the monitor's attach
 * connection (framed output, raw input). The runtime's refusal is EIO with its message. */
int berth_exec_start(struct berth_containers *cs, const char *id, bool detach, int *ret_attach_fd,
                     struct berth_error **err);
struct json_t *berth_exec_inspect(struct berth_containers *cs, const char *id,
                                  struct berth_error **err);
int berth_exec_resize(struct berth_containers *cs, const char *id, unsigned rows, unsigned cols,
                      struct berth_error **err);
void berth_exec_wait_recorded(struct berth_containers *cs, const char *id, int timeout_ms);
/* ExecIDs of a container for inspect (JSON array or null); dropping at container removal. */
struct json_t *berth_execs_of(struct berth_containers *cs, const char *cid);
void berth_execs_drop_container(struct berth_containers *cs, const char *cid);

#endif
