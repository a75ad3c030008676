/* The daemon's event bus: every state change is published here; /events subscribers read it.
 * The last BERTH_EVENTS_KEEP events are kept so `since` can replay them (moby keeps ~256). */
#ifndef BERTH_DAEMON_EVENTS_H
#define BERTH_DAEMON_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define BERTH_EVENTS_KEEP 1024

struct json_t;
struct berth_events;

int berth_events_new(struct berth_events **ret, struct berth_error **err);
void berth_events_free(struct berth_events *ev);
/* Publishes an event in moby's shape. attributes (may be NULL) is stolen. from: the image of a
 * container event (legacy "from" field), or NULL. */
void berth_events_publish(struct berth_events *ev, const char *type, const char *action,
                          const char *actor_id, const char *from, struct json_t *attributes);
/* The cursor of the first kept event at or after since_nano (0: only new events). */
uint64_t berth_events_cursor(struct berth_events *ev, int64_t since_nano, bool replay);
/* The next event after *cursor (a new reference), waiting up to timeout_ms; NULL on timeout or
 * shutdown. */
struct json_t *berth_events_next(struct berth_events *ev, uint64_t *cursor, int timeout_ms);
/* Wakes every waiter for good (daemon shutdown). */
void berth_events_shutdown(struct berth_events *ev);
int berth_events_listeners(struct berth_events *ev);
void berth_events_listener_add(struct berth_events *ev, int delta);
int64_t berth_now_nano(void);

#endif
