/* cgroups v1, v2 and hybrid hosts behind one interface.
 *
 * The manager discovers, once, where each controller lives: a v1 hierarchy (a mount of type
 * cgroup listing the controller) or the unified v2 mount. On a hybrid host (v1 hierarchies plus a
 * cgroup2 mount holding e.g. only hugetlb) each resource goes to wherever its controller is.
 * Backends are ops tables (cgroup_v1.c, cgroup_v2.c); this file's API is what the runtime uses. */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "runtime/spec.h"

struct json_t;
struct berth_cgroup;

enum berth_cgroup_mode {
    BERTH_CGROUP_AUTO,    /* detect from /proc/self/mountinfo */
    BERTH_CGROUP_V1,      /* legacy hierarchies only */
    BERTH_CGROUP_HYBRID,  /* v1 hierarchies plus a cgroup2 mount */
    BERTH_CGROUP_UNIFIED, /* v2 only */
};

/* Overrides detection (tests): mode, and for UNIFIED an explicit cgroup2 mount point. The
 * environment variable BERTH_CGROUP_MODE=v1|hybrid|unified and BERTH_CGROUP2_ROOT do the same. */
void berth_cgroup_set_mode(enum berth_cgroup_mode mode, const char *v2_root);
enum berth_cgroup_mode berth_cgroup_detect_mode(void);

/* Resolves the container's cgroup path: cgroups_path from config.json (absolute, or relative to
 * the runtime's own cgroup; with systemd=true "slice:prefix:name" becomes
 * /slice/prefix-name.scope), or "/<id>" when empty. Creates the directories in every hierarchy
 * and applies res (which may be NULL). On failure nothing is left behind. */
int berth_cgroup_create(const char *cgroups_path, const char *id, bool systemd,
                        const struct berth_spec_resources *res, struct berth_cgroup **ret,
                        struct berth_error **err);
/* Moves pid (all its threads) into the container's cgroup in every hierarchy. */
int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err);
/* Applies resources to an existing cgroup (`update`); fields not set are left alone. */
int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_spec_resources *res,
                        struct berth_error **err);
/* Freezes/thaws every process (v1 freezer or v2 cgroup.freeze); waits until done. */
int berth_cgroup_freeze(struct berth_cgroup *cg, bool freeze, struct berth_error **err);
bool berth_cgroup_is_frozen(struct berth_cgroup *cg);
/* The pids in the cgroup (and its descendants), caller frees *ret. */
int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *n_ret,
                      struct berth_error **err);
/* Sends sig to every process in the cgroup (thawing a frozen cgroup for SIGKILL). */
int berth_cgroup_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err);
/* Removes the cgroup directories (retrying while the last processes exit). Missing is fine. */
int berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_error **err);
/* Stats in runc's `events --stats` "data" shape: {"cpu":{...},"memory":{...},"pids":{...},
 * "blkio":{...},"hugetlb":{...}}. */
int berth_cgroup_stats(struct berth_cgroup *cg, struct json_t **ret, struct berth_error **err);
/* Whether the memory controller recorded an OOM kill since creation (memory.events oom_kill or
 * memory.oom_control oom_kill), and the count. */
int berth_cgroup_oom_count(struct berth_cgroup *cg, uint64_t *ret, struct berth_error **err);
/* The directory of a controller's cgroup ("memory", "pids", ... or "" for the v2 dir), or NULL. */
const char *berth_cgroup_path_of(struct berth_cgroup *cg, const char *controller);

/* Serialises to/from the container's state.json. */
struct json_t *berth_cgroup_to_json(struct berth_cgroup *cg);
int berth_cgroup_from_json(struct json_t *obj, struct berth_cgroup **ret, struct berth_error **err);
void berth_cgroup_free(struct berth_cgroup *cg);
void berth_cgroup_freep(struct berth_cgroup **cg);
#define _cleanup_cgroup_ __attribute__((cleanup(berth_cgroup_freep)))

/* For `features`: whether v1 / v2 are in use on this host. */
bool berth_cgroup_has_v1(void);
bool berth_cgroup_has_v2(void);

#endif
