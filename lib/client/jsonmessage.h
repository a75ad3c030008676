/* Renders JSON message streams (pull, push, load, import, build) as docker's jsonmessage does.
 * On a terminal, messages with an id and progress are rows that are updated in place (cursor up,
 * erase line, cursor down); elsewhere progress updates are dropped and only status lines are
 * printed. {"stream": ...} text is printed as is, "aux" messages go to a callback, and an
 * "errorDetail" ends the stream with its message as the error. */
#ifndef BERTH_CLIENT_JSONMESSAGE_H
#define BERTH_CLIENT_JSONMESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

struct berth_jsonmessage {
    FILE *out;
    bool tty;  /* out is a terminal: progress rows with cursor movement */
    int width; /* terminal columns; 0 asks the terminal (200 when that fails, as docker) */
    void (*on_aux)(void *ud, json_t *aux);
    void *ud;
    int error_code; /* errorDetail.code of the error that ended the stream (0: none given) */
    /* internal: progress row ids, in screen order */
    char **ids;
    size_t nids;
};

/* Displays one message. An errorDetail (or a lone "error") is returned as an error whose
 * message is docker's text. */
int berth_jsonmessage_display(struct berth_jsonmessage *d, json_t *msg, struct berth_error **err);
/* Renders a whole stream held in memory (for tests and small replies). */
int berth_jsonmessage_render(struct berth_jsonmessage *d, const char *data, size_t len,
                             struct berth_error **err);
void berth_jsonmessage_clear(struct berth_jsonmessage *d);

/* JSONProgress.String(): "[=====>     ]  1.2MB/3.4MB 5s" (the bar only when width > 110, the
 * time left only when width > 50 and a start time is known). now is the current Unix time. */
void berth_jsonmessage_progress(json_t *detail, int width, double now, char *buf, size_t len);

#endif
