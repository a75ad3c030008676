/* Containers: the records berthd keeps, their lifecycle through berth-monitor, and live restore.
 *
 * On disk:
 *   data-root/containers/<id>/container.json   the record (written atomically on every change)
 *   data-root/containers/<id>/hostname, hosts, resolv.conf
 *   data-root/containers/<id>/<id>-json.log(.N) the json-file log (written by the monitor)
 *   data-root/containers/<id>/rw/{upper,work,merged}  the writable layer (overlay2), or
 *   data-root/containers/<id>/rw/merged                a full copy of the image (vfs)
 *   exec-root/containers/<id>/                 the monitor's directory (protocol.h) and the
 *                                              OCI bundle (config.json)
 *   exec-root/runtime/                         berth-runtime's --root
 * One lock (the manager's) guards every record; a condition variable announces state changes
 * (wait, attach before start). */
#ifndef BERTH_CONTAINER_CONTAINER_H
#define BERTH_CONTAINER_CONTAINER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct json_t;
struct berth_daemon;

enum berth_cstate {
    BERTH_C_CREATED,
    BERTH_C_RUNNING,
    BERTH_C_PAUSED,
    BERTH_C_RESTARTING,
    BERTH_C_REMOVING,
    BERTH_C_EXITED,
    BERTH_C_DEAD,
};
const char *berth_cstate_name(enum berth_cstate s);

struct berth_attach_waiter;

struct berth_container {
    char id[65];
    char *name;                 /* with the leading '/' */
    struct json_t *config;      /* merged Config, as inspect shows it */
    struct json_t *host_config; /* HostConfig as stored */
    char image_id[72];          /* sha256:... */
    char *image_name;           /* Config.Image as given */
    int64_t created_ns;
    /* state */
    enum berth_cstate state;
    int pid;
    int exit_code;
    bool oom_killed;
    char *error;
    int64_t started_ns, finished_ns;
    int restart_count;
    bool manually_stopped; /* stop/kill by the user: no restart (and unless-stopped remembers) */
    bool has_been_started;
    int monitor_pid;
    uint64_t monitor_start_time; /* /proc starttime, so a reused pid is never taken for it */
    int64_t size_rw;
    /* in memory only */
    int monitor_pidfd;     /* until the monitor has exited (after its runtime delete) */
    int monitor_sync_fd;   /* until the monitor said "exited" */
    bool busy;             /* a start/stop/remove in progress: others wait */
    bool removed;          /* gone from the table; freed when refs drop */
    int refs;              /* holders outside the lock */
    int64_t restart_at_ns; /* a scheduled restart (policy back-off), 0 none */
    uint64_t exit_seq;     /* bumps at every exit: wait next-exit */
    struct berth_attach_waiter *waiters; /* attach sessions waiting for the next start */
    /* the list entry's parts that only Config and HostConfig give, as JSON text, made by the
     * first list: Command..Labels, and HostConfig..Mounts (dropped when they change) */
    char *list_config_part, *list_network_part;
};

struct berth_containers;

/* Loads every record under data-root/containers; reconnects to monitors still running, records
 * the exits that happened while berthd was away and applies restart policies. */
int berth_containers_open(struct berth_daemon *d, struct berth_containers **ret,
                          struct berth_error **err);
/* Stops the watcher; containers keep running (live restore). */
void berth_containers_close(struct berth_containers *cs);

void berth_containers_lock(struct berth_containers *cs);
void berth_containers_unlock(struct berth_containers *cs);
/* Waits (lock held) for any state change, at most timeout_ms. */
void berth_containers_wait_change(struct berth_containers *cs, int timeout_ms);
/* Lookup (lock held): full id, name (with or without '/'), unique id prefix. ENOENT
 * "No such container: x", EINVAL for an ambiguous prefix. */
int berth_containers_find(struct berth_containers *cs, const char *ref,
                          struct berth_container **ret, struct berth_error **err);
/* Every container (lock held), newest first; the array is the caller's, the records are not. */
int berth_containers_all(struct berth_containers *cs, struct berth_container ***ret, size_t *n);
/* Reference counting across unlocked work. */
void berth_container_ref(struct berth_container *c);
void berth_container_unref(struct berth_containers *cs, struct berth_container *c);
/* Number of containers using an image (for rmi); ret_id (may be NULL, 65 bytes) gets one. */
int berth_containers_using_image(struct berth_containers *cs, const char *image_id,
                                 bool running_only, char *ret_id);

/* Creates a record: body is the POST /containers/create body; name may be NULL. */
int berth_ctr_create(struct berth_containers *cs, const char *name, const struct json_t *body,
                     char ret_id[65], char ***ret_warnings, struct berth_error **err);
/* Starts (EALREADY when it already runs: 304). */
int berth_ctr_start(struct berth_containers *cs, const char *ref, struct berth_error **err);
/* Sends sig; with stop semantics waits up to timeout_s then SIGKILL (timeout_s < 0: the
 * container's StopTimeout, default 10). */
int berth_ctr_stop(struct berth_containers *cs, const char *ref, const char *signal, int timeout_s,
                   struct berth_error **err);
int berth_ctr_kill(struct berth_containers *cs, const char *ref, const char *signal,
                   struct berth_error **err);
int berth_ctr_restart(struct berth_containers *cs, const char *ref, const char *signal,
                      int timeout_s, struct berth_error **err);
int berth_ctr_pause(struct berth_containers *cs, const char *ref, bool pause,
                    struct berth_error **err);
int berth_ctr_remove(struct berth_containers *cs, const char *ref, bool force, bool volumes,
                     struct berth_error **err);
int berth_ctr_rename(struct berth_containers *cs, const char *ref, const char *new_name,
                     struct berth_error **err);
/* Resizes the tty (ENOENT-ish errors when not running). */
int berth_ctr_resize(struct berth_containers *cs, const char *ref, unsigned rows, unsigned cols,
                     struct berth_error **err);

/* update.c: under the lock, apply() edits a copy of the record's HostConfig; when it succeeds
 * the copy replaces it and the record is saved (on any failure nothing changes). ENOENT when
 * there is no such container. */
int berth_container_update_host_config(struct berth_containers *cs, const char *ref,
                                       int (*apply)(struct json_t *hc,
                                                    const struct berth_container *c, void *cls,
                                                    struct berth_error **err),
                                       void *cls, struct berth_error **err);

/* inspect / list JSON (lock held). */
struct json_t *berth_container_inspect_json(struct berth_containers *cs,
                                            const struct berth_container *c, bool size);
struct json_t *berth_container_list_json(struct berth_containers *cs, struct berth_container *c,
                                         bool size);
/* The same entry written as JSON text (what the list endpoint sends). */
void berth_container_list_write(struct berth_containers *cs, struct berth_container *c, bool size,
                                FILE *f);
/* Forgets the cached parts of the list entry (Config or HostConfig changed). */
void berth_container_list_cache_drop(struct berth_container *c);

/* The exit status moby gives a process the runtime refused to start, from its message (runc's
 * wording): 127 not found, 126 not executable, 0 for anything else. */
int berth_runtime_error_exit_code(const char *msg);

/* Publishes a container event (attach, detach, ...) with moby's attributes (lock held). */
void berth_container_publish(struct berth_containers *cs, const struct berth_container *c,
                             const char *action);

/* The writable layer: upper (overlay2's changes; vfs: NULL) and merged (the root filesystem
 * while mounted; vfs: always). Either may be NULL on allocation failure. */
char *berth_container_upper_dir(struct berth_containers *cs, const struct berth_container *c);
char *berth_container_merged_dir(struct berth_containers *cs, const struct berth_container *c);
/* Mounts the root filesystem if it is not (for cp/export/diff on a stopped container); the
 * caller unmounts with berth_container_rootfs_put when the container is not running. */
int berth_container_rootfs_get(struct berth_containers *cs, const struct berth_container *c,
                               char **ret_merged, struct berth_error **err);
void berth_container_rootfs_put(struct berth_containers *cs, const struct berth_container *c);
/* Bytes in the writable layer (lock held). */
int64_t berth_container_size_rw(struct berth_containers *cs, const struct berth_container *c);
/* The storage driver ("overlay2" or "vfs"). */
const char *berth_containers_driver(struct berth_containers *cs);

/* Paths. */
char *berth_container_dir(struct berth_containers *cs, const char *id);
char *berth_container_run_dir(struct berth_containers *cs, const char *id);
char *berth_container_log_path(struct berth_containers *cs, const char *id);
const char *berth_containers_runtime_root(struct berth_containers *cs);
const char *berth_containers_runtime_path(struct berth_containers *cs);
struct berth_daemon *berth_containers_daemon(struct berth_containers *cs);

/* Connects to the monitor's attach socket of a running container (lock not held); the monitor
 * answers "ok". */
int berth_monitor_attach_connect(const char *run_dir, bool in, bool out, bool err_stream,
                                 int *ret_fd, struct berth_error **err);

/* Attach sessions that arrive before start: the starter connects them to the new monitor before
 * it lets the process run, so no early output is lost. */
struct berth_attach_waiter {
    struct berth_attach_waiter *next;
    bool want_in, want_out, want_err;
    int monitor_fd; /* set by the starter, -1 until then */
    bool cancelled; /* the container went away */
};
void berth_container_add_waiter(struct berth_container *c, struct berth_attach_waiter *w);
void berth_container_remove_waiter(struct berth_container *c, struct berth_attach_waiter *w);

#endif
