/* docker top, docker stats and docker update: the container's processes, resource usage and
 * limits, through the runtime library (the container's cgroup from its runtime state). */
#ifndef BERTH_CONTAINER_STATS_H
#define BERTH_CONTAINER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct berth_containers;
struct json_t;

/* ---- top (top.c) ---- */

/* moby's validatePSArgs: "specifying \"k=PID...\" is not allowed" (EINVAL) unless k is pid. */
int berth_top_validate_args(const char *ps_args, struct berth_error **err);
/* moby's parsePSOutput: {"Titles":[...],"Processes":[[...]]} keeping the lines whose PID column
 * is one of pids (and the thread lines "-" after them); the last column takes the rest of the
 * line. EINVAL "Couldn't find PID field in ps output". */
int berth_top_parse(const char *output, const pid_t *pids, size_t n_pids, struct json_t **ret,
                    struct berth_error **err);
/* docker top: runs ps(1) with ps_args (default "-ef", then "-q <pids>", retried without it) on
 * the host and keeps the container's processes. EBUSY "Container x is not running" (409). */
int berth_container_top(struct berth_containers *cs, const char *ref, const char *ps_args,
                        struct json_t **ret, struct berth_error **err);

/* ---- stats (stats.c) ---- */

struct berth_stats_host {
    uint64_t system_usage; /* /proc/stat, in nanoseconds */
    unsigned online_cpus;
    uint64_t machine_memory;
};
int berth_stats_host_read(struct berth_stats_host *ret, struct berth_error **err);
/* moby's StatsJSON from the runtime's stats (berth_cgroup_stats' shape): v1 or v2 shape by
 * what the runtime found; prev (the previous sample, or NULL) gives precpu_stats and preread. */
struct json_t *berth_stats_from_cgroup(const struct json_t *cg, const struct berth_stats_host *host,
                                       int64_t read_ns, const char *name, const char *id,
                                       const struct json_t *prev);
/* What moby sends for a container that is not running: only name and id set. */
struct json_t *berth_stats_empty(const char *name, const char *id);
/* One sample of a container (by reference): the empty stats when it is not running. */
int berth_container_stats(struct berth_containers *cs, const char *ref, const struct json_t *prev,
                          struct json_t **ret, bool *ret_running, struct berth_error **err);

/* ---- update (update.c) ---- */

/* docker update: body is moby's UpdateConfig (the Resources fields and RestartPolicy). Validates
 * like create (400), applies moby's rules (409 conflicts: NanoCpus against CpuPeriod/CpuQuota,
 * Memory above the set MemorySwap, a restart policy with AutoRemove), stores the HostConfig and,
 * when the container runs, applies the limits to its cgroup (a failure there restores the
 * record). "Cannot update container <id>: ..." as moby words it. */
int berth_container_update(struct berth_containers *cs, const char *ref, const struct json_t *body,
                           struct berth_error **err);

#endif
