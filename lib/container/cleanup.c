/* The part of a container's removal that nobody waits for: once the record has left the table
 * (and says REMOVING on disk), its monitor's end, the unmount of its root filesystem and the
 * deletion of its two directories happen on one background thread. `docker run --rm` answers
 * that much sooner: the unmount alone waits an RCU grace period (about 1 ms). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"

/* the monitor gives its runtime delete 10 s */
#define CLEANUP_MONITOR_WAIT_MS 30000

struct berth_cleanup_job {
    struct berth_cleanup_job *next;
    int monitor_pidfd;
    char *mountpoint; /* NULL: vfs */
    char *run_dir, *dir;
};

static void
job_free(struct berth_cleanup_job *j)
{
    if (j->monitor_pidfd >= 0)
        close(j->monitor_pidfd);
    free(j->mountpoint);
    free(j->run_dir);
    free(j->dir);
    free(j);
}

static void
job_run(struct berth_cleanup_job *j)
{
    if (j->monitor_pidfd >= 0) {
        struct pollfd p = {.fd = j->monitor_pidfd, .events = POLLIN};
        int r;
        do
            r = poll(&p, 1, CLEANUP_MONITOR_WAIT_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            berth_log(BERTH_LOG_WARN, "remove %s: its monitor has not exited; removing anyway",
                      j->dir);
    }
    berth_rwlayer_unmount_path(j->mountpoint);
    struct berth_error *e = NULL;
    if (j->run_dir && berth_rm_rf(j->run_dir, &e) < 0) {
        berth_log(BERTH_LOG_WARN, "remove %s: %s", j->run_dir, e->msg);
        berth_error_free(e);
        e = NULL;
    }
    /* a leftover keeps the REMOVING record: the next start of berthd tries again */
    if (j->dir && berth_rm_rf(j->dir, &e) < 0) {
        berth_log(BERTH_LOG_WARN, "remove %s: %s", j->dir, e->msg);
        berth_error_free(e);
    }
}

static void *
cleaner_main(void *arg)
{
    struct berth_containers *cs = arg;
    pthread_mutex_lock(&cs->cleanup_lock);
    for (;;) {
        struct berth_cleanup_job *j = cs->cleanup_head;
        if (!j) {
            if (cs->cleaner_stop)
                break;
            pthread_cond_wait(&cs->cleanup_cond, &cs->cleanup_lock);
            continue;
        }
        cs->cleanup_head = j->next;
        if (!cs->cleanup_head)
            cs->cleanup_tail = &cs->cleanup_head;
        pthread_mutex_unlock(&cs->cleanup_lock);
        job_run(j);
        job_free(j);
        pthread_mutex_lock(&cs->cleanup_lock);
    }
    pthread_mutex_unlock(&cs->cleanup_lock);
    return NULL;
}

int
berth_cleanup_start(struct berth_containers *cs, struct berth_error **err)
{
    cs->cleanup_head = NULL;
    cs->cleanup_tail = &cs->cleanup_head;
    if (pthread_create(&cs->cleaner, NULL, cleaner_main, cs) != 0)
        return berth_error_set(err, EAGAIN, "start the container cleanup thread");
    cs->cleaner_running = true;
    return 0;
}

void
berth_cleanup_queue(struct berth_containers *cs, const struct berth_container *c, int monitor_pidfd)
{
    struct berth_cleanup_job *j = calloc(1, sizeof(*j));
    if (j) {
        j->monitor_pidfd = monitor_pidfd;
        j->mountpoint = berth_rwlayer_mountpoint(cs, c);
        j->run_dir = berth_container_run_dir(cs, c->id);
        j->dir = berth_container_dir(cs, c->id);
    }
    if (!j || !j->dir || !j->run_dir || !cs->cleaner_running) {
        /* no thread (or no memory): done here and now */
        if (j) {
            job_run(j);
            job_free(j);
        } else if (monitor_pidfd >= 0) {
            close(monitor_pidfd);
        }
        return;
    }
    pthread_mutex_lock(&cs->cleanup_lock);
    *cs->cleanup_tail = j;
    cs->cleanup_tail = &j->next;
    pthread_cond_signal(&cs->cleanup_cond);
    pthread_mutex_unlock(&cs->cleanup_lock);
}

void
berth_cleanup_stop(struct berth_containers *cs)
{
    if (!cs->cleaner_running)
        return;
    pthread_mutex_lock(&cs->cleanup_lock);
    cs->cleaner_stop = true;
    pthread_cond_signal(&cs->cleanup_cond);
    pthread_mutex_unlock(&cs->cleanup_lock);
    pthread_join(cs->cleaner, NULL);
    cs->cleaner_running = false;
}
