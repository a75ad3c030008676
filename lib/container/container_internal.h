/* Shared between the container files (store.c, lifecycle.c, rwlayer.c, inspect.c). */
#ifndef BERTH_CONTAINER_INTERNAL_H
#define BERTH_CONTAINER_INTERNAL_H

#include <dirent.h>
#include <pthread.h>

#include "container/container.h"
#include "image/store.h"

static inline void
berth_image_freep(struct berth_image **p)
{
    berth_image_free(*p);
}
#define _cleanup_image_ __attribute__((cleanup(berth_image_freep)))

struct berth_containers {
    struct berth_daemon *daemon;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct berth_container **all;
    size_t n, cap;
    char *dir;          /* data-root/containers */
    char *run_dir;      /* exec-root/containers */
    char *runtime_root; /* exec-root/runtime */
    char *runtime_path; /* berth-runtime next to berthd */
    char *monitor_path; /* berth-monitor next to berthd */
    char *init_path;    /* berth-init next to berthd */
    /* the watcher: one thread, epoll over the monitors' pidfds and a wake-up eventfd */
    int epfd, wake_fd;
    pthread_t watcher;
    bool watcher_running, closing;
    void *execs; /* exec.c's list */
    /* cleanup.c's queue, under its own lock: the containers lock is not held for file work */
    pthread_mutex_t cleanup_lock;
    pthread_cond_t cleanup_cond;
    struct berth_cleanup_job *cleanup_head, **cleanup_tail;
    pthread_t cleaner;
    bool cleaner_running, cleaner_stop;
};

void berth_container_free(struct berth_container *c);
int berth_container_save(struct berth_containers *cs, const struct berth_container *c,
                         struct berth_error **err);
int berth_container_save_durable(struct berth_containers *cs, const struct berth_container *c,
                                 struct berth_error **err);
int berth_containers_load_all(struct berth_containers *cs, struct berth_error **err);
int berth_containers_insert(struct berth_containers *cs, struct berth_container *c);
void berth_containers_table_remove(struct berth_containers *cs, struct berth_container *c);
void berth_containers_changed(struct berth_containers *cs);
bool berth_container_name_valid(const char *name);
struct berth_container *berth_containers_by_name(struct berth_containers *cs,
                                                 const char *slash_name);
char *berth_containers_generate_name(struct berth_containers *cs);
/* 64 random hex digits (container and exec ids). */
int berth_container_random_id(char out[65]);
void berth_container_event(struct berth_containers *cs, const struct berth_container *c,
                           const char *action, const char *extra_key, const char *extra_value);

/* moby's decoder on a []string field (go_field: "Config.Cmd"): every element a string, else
 * its error text (EINVAL). */
int berth_check_go_strings(const struct json_t *arr, const char *go_field,
                           struct berth_error **err);

/* rwlayer.c: the container's root filesystem. */
int berth_rwlayer_create(struct berth_containers *cs, const struct berth_container *c,
                         struct berth_error **err);
int berth_rwlayer_mount(struct berth_containers *cs, const struct berth_container *c,
                        char **ret_rootfs, struct berth_error **err);
void berth_rwlayer_unmount(struct berth_containers *cs, const struct berth_container *c);
/* The overlay mount point (NULL with vfs, or out of memory), and its lazy unmount. */
char *berth_rwlayer_mountpoint(struct berth_containers *cs, const struct berth_container *c);
void berth_rwlayer_unmount_path(const char *merged);

/* cleanup.c: what a removal leaves to do once the API has answered (the unmount waits an RCU
 * grace period, deleting the directories a few ms more), done by one background thread. The
 * record says REMOVING on disk until then, so a restart of berthd finishes the job. */
int berth_cleanup_start(struct berth_containers *cs, struct berth_error **err);
/* Takes monitor_pidfd (-1: none): the files go once that monitor has exited. */
void berth_cleanup_queue(struct berth_containers *cs, const struct berth_container *c,
                         int monitor_pidfd);
/* Finishes what is queued, then ends the thread. */
void berth_cleanup_stop(struct berth_containers *cs);
int64_t berth_rwlayer_size(struct berth_containers *cs, const struct berth_container *c);

#endif
