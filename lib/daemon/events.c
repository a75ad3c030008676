#include "daemon/events.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct berth_events {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    json_t *ring[BERTH_EVENTS_KEEP];
    int64_t when[BERTH_EVENTS_KEEP];
    uint64_t next_seq; /* sequence number of the next event; event s is ring[s % KEEP] */
    bool shutdown;
    int listeners;
};

int64_t
berth_now_nano(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
berth_events_new(struct berth_events **ret, struct berth_error **err)
{
    struct berth_events *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return berth_error_set(err, ENOMEM, "events");
    pthread_mutex_init(&ev->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cond, &attr);
    pthread_condattr_destroy(&attr);
    *ret = ev;
    return 0;
}

void
berth_events_free(struct berth_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < BERTH_EVENTS_KEEP; i++)
        json_decref(ev->ring[i]);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void
berth_events_publish(struct berth_events *ev, const char *type, const char *action,
                     const char *actor_id, const char *from, json_t *attributes)
{
    int64_t now = berth_now_nano();
    json_t *o = json_object();
    /* status/id/from are legacy duplicates that compose 1.29 still reads */
    json_object_set_new(o, "status", json_string(action));
    json_object_set_new(o, "id", json_string(actor_id));
    if (from)
        json_object_set_new(o, "from", json_string(from));
    json_object_set_new(o, "Type", json_string(type));
    json_object_set_new(o, "Action", json_string(action));
    json_object_set_new(o, "Actor",
                        json_pack("{s:s,s:o}", "ID", actor_id, "Attributes",
                                  attributes ? attributes : json_object()));
    json_object_set_new(o, "scope", json_string("local"));
    json_object_set_new(o, "time", json_integer(now / 1000000000LL));
    json_object_set_new(o, "timeNano", json_integer(now));
    pthread_mutex_lock(&ev->lock);
    size_t slot = ev->next_seq % BERTH_EVENTS_KEEP;
    json_decref(ev->ring[slot]);
    ev->ring[slot] = o;
    ev->when[slot] = now;
    ev->next_seq++;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

uint64_t
berth_events_cursor(struct berth_events *ev, int64_t since_nano, bool replay)
{
    pthread_mutex_lock(&ev->lock);
    uint64_t cur = ev->next_seq;
    if (replay) {
        uint64_t oldest = ev->next_seq > BERTH_EVENTS_KEEP ? ev->next_seq - BERTH_EVENTS_KEEP : 0;
        for (uint64_t s = oldest; s < ev->next_seq; s++)
            if (ev->when[s % BERTH_EVENTS_KEEP] >= since_nano) {
                cur = s;
                break;
            }
    }
    pthread_mutex_unlock(&ev->lock);
    return cur;
}

json_t *
berth_events_next(struct berth_events *ev, uint64_t *cursor, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    json_t *out = NULL;
    pthread_mutex_lock(&ev->lock);
    for (;;) {
        /* a reader that fell more than KEEP behind skips what was overwritten */
        if (ev->next_seq > BERTH_EVENTS_KEEP && *cursor < ev->next_seq - BERTH_EVENTS_KEEP)
            *cursor = ev->next_seq - BERTH_EVENTS_KEEP;
        if (*cursor < ev->next_seq) {
            out = json_incref(ev->ring[*cursor % BERTH_EVENTS_KEEP]);
            (*cursor)++;
            break;
        }
        if (ev->shutdown)
            break;
        if (pthread_cond_timedwait(&ev->cond, &ev->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&ev->lock);
    return out;
}

void
berth_events_shutdown(struct berth_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    ev->shutdown = true;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void
berth_events_listener_add(struct berth_events *ev, int delta)
{
    pthread_mutex_lock(&ev->lock);
    ev->listeners += delta;
    pthread_mutex_unlock(&ev->lock);
}

int
berth_events_listeners(struct berth_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    int n = ev->listeners;
    pthread_mutex_unlock(&ev->lock);
    return n;
}
