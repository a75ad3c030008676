/* Per-container state under the runtime root (default /run/berth-runtime):
 *   <root>/<id>/state.json   what `state`, `kill`, `delete`, `exec` need (written atomically)
 *   <root>/<id>/config.json  the bundle's config at create time (hooks, exec defaults)
 *   <root>/<id>/exec.fifo    exists between create and start; start opens it to release init */
#ifndef BERTH_RUNTIME_STATE_H
#define BERTH_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "runtime/spec.h"

#define BERTH_DEFAULT_ROOT "/run/berth-runtime"
#define BERTH_OCI_VERSION "1.0.2"

struct json_t;
struct berth_cgroup;

enum berth_status { BERTH_CREATING, BERTH_CREATED, BERTH_RUNNING, BERTH_PAUSED, BERTH_STOPPED };

struct berth_state {
    char *id;
    pid_t pid;
    uint64_t pid_start; /* start time of pid, so a reused pid is not taken for the container */
    char *bundle;
    char *rootfs;
    char *created; /* RFC 3339 */
    char *owner;
    struct berth_kv *annotations;
    size_t n_annotations;
    struct json_t *cgroup; /* the cgroup manager's serialised state */
    bool systemd_cgroup;
    bool use_fifo;
};

const char *berth_status_name(enum berth_status status);
/* Checks a container id as runc does: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
int berth_state_check_id(const char *id, struct berth_error **err);
int berth_state_dir(const char *root, const char *id, char **ret, struct berth_error **err);
int berth_state_save(const char *root, const struct berth_state *state, struct berth_error **err);
/* ENOENT with runc's wording: container "X" does not exist. */
int berth_state_load(const char *root, const char *id, struct berth_state **ret,
                     struct berth_error **err);
void berth_state_free(struct berth_state *state);
void berth_state_freep(struct berth_state **state);
#define _cleanup_state_ __attribute__((cleanup(berth_state_freep)))
/* Computes the status from the live system: process alive, fifo present, cgroup frozen. */
enum berth_status berth_state_status(const char *root, const struct berth_state *state);
/* Whether the container's init process is still the one we started. */
bool berth_state_alive(const struct berth_state *state);
/* The state JSON that `state` prints and hooks read on stdin (runtime-spec "state"). */
struct json_t *berth_state_to_oci_json(const struct berth_state *state, enum berth_status status);
/* Container ids under root, sorted; caller frees with berth_strv_free. */
int berth_state_list(const char *root, char ***ret, struct berth_error **err);
/* Loads the copy of config.json kept in the state directory. */
int berth_state_load_spec(const char *root, const char *id, struct berth_spec **ret,
                          struct berth_error **err);
/* The cgroup manager of a container (from state.json). */
int berth_state_cgroup(const struct berth_state *state, struct berth_cgroup **ret,
                       struct berth_error **err);

#endif
