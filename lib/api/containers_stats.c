/* The container's processes and resources: top, stats (one object, or a line a second) and
 * update. The work is in lib/container (stats.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/routes.h"
#include "container/container.h"
#include "container/stats.h"
#include "core/cleanup.h"
#include "daemon/daemon.h"

static struct berth_containers *
containers_of(struct berth_http_request *req)
{
    return ((struct berth_daemon *)req->app)->containers;
}

static void
reply_err(struct berth_http_request *req, struct berth_error *err)
{
    berth_http_reply_berror(req, err);
    berth_error_free(err);
}

void
berth_api_container_top(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    json_t *out = NULL;
    if (berth_container_top(containers_of(req), req->param, berth_http_query(req, "ps_args"), &out,
                            &err) < 0) {
        /* moby: a bad ps_args or ps failing is the client's or the system's, not a conflict */
        reply_err(req, err);
        return;
    }
    berth_containers_lock(containers_of(req));
    struct berth_container *c;
    if (berth_containers_find(containers_of(req), req->param, &c, NULL) == 0)
        berth_container_publish(containers_of(req), c, "top");
    berth_containers_unlock(containers_of(req));
    berth_http_reply_json(req, 200, out);
}

/* ---- stats ---- */

struct stats_stream {
    struct berth_http_request *req;
    struct berth_containers *cs;
    char *ref;
    json_t *prev;
    char *pending; /* what is left of the current line */
    size_t off, len;
    bool first;
};

static void
stats_free(void *cls)
{
    struct stats_stream *s = cls;
    json_decref(s->prev);
    free(s->pending);
    free(s->ref);
    free(s);
}

static bool
sleep_second(struct stats_stream *s)
{
    for (int i = 0; i < 10; i++) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        if (berth_http_client_gone(s->req))
            return false;
    }
    return true;
}

static ssize_t
stats_produce(void *cls, char *buf, size_t max)
{
    struct stats_stream *s = cls;
    if (s->off == s->len) {
        if (!s->first && !sleep_second(s))
            return -1;
        s->first = false;
        json_t *cur = NULL;
        bool running;
        struct berth_error *e = NULL;
        if (berth_container_stats(s->cs, s->ref, s->prev, &cur, &running, &e) < 0) {
            berth_error_free(e); /* removed: the stream ends */
            return -1;
        }
        free(s->pending);
        s->pending = json_dumps(cur, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(s->prev);
        s->prev = running ? cur : (json_decref(cur), NULL);
        if (!s->pending)
            return -1;
        s->len = strlen(s->pending);
        char *with = realloc(s->pending, s->len + 2);
        if (!with)
            return -1;
        s->pending = with;
        s->pending[s->len++] = '\n';
        s->off = 0;
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

void
berth_api_container_stats(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    bool stream = berth_http_query_bool(req, "stream", true);
    bool one_shot = berth_http_query_bool(req, "one-shot", false);
    if (stream && one_shot) {
        berth_http_reply_error(req, 400, "cannot have stream=true and one-shot=true");
        return;
    }
    struct berth_error *err = NULL;
    json_t *cur = NULL;
    bool running = false;
    /* the first sample also tells a missing container (404) before any stream starts */
    if (berth_container_stats(cs, req->param, NULL, &cur, &running, &err) < 0) {
        reply_err(req, err);
        return;
    }
    if (!stream) {
        if (running && !one_shot) {
            /* moby primes the CPU numbers with a first sample, then answers the second */
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            json_t *next = NULL;
            if (berth_container_stats(cs, req->param, cur, &next, &running, &err) < 0) {
                json_decref(cur);
                reply_err(req, err);
                return;
            }
            json_decref(cur);
            cur = next;
        }
        berth_http_reply_json(req, 200, cur);
        return;
    }
    struct stats_stream *s = calloc(1, sizeof(*s));
    if (!s || !(s->ref = strdup(req->param))) {
        free(s);
        json_decref(cur);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    s->req = req;
    s->cs = cs;
    s->pending = json_dumps(cur, JSON_COMPACT | JSON_PRESERVE_ORDER);
    s->prev = running ? cur : (json_decref(cur), NULL);
    if (s->pending) {
        s->len = strlen(s->pending);
        char *with = realloc(s->pending, s->len + 2);
        if (with) {
            s->pending = with;
            s->pending[s->len++] = '\n';
        }
    }
    berth_http_reply_stream(req, 200, "application/json", stats_produce, s, stats_free);
}

/* ---- update ---- */

void
berth_api_container_update(struct berth_http_request *req)
{
    if (!req->body || !req->body_len) {
        berth_http_reply_error(req, 400, "bad parameter: request body is empty");
        return;
    }
    json_error_t je;
    json_t *body = json_loadb(req->body, req->body_len, 0, &je);
    if (!body || !json_is_object(body)) {
        json_decref(body);
        berth_http_reply_error(req, 400, "invalid JSON: %s", body ? "not an object" : je.text);
        return;
    }
    struct berth_error *err = NULL;
    int r = berth_container_update(containers_of(req), req->param, body, &err);
    json_decref(body);
    if (r < 0) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_json(req, 200, json_pack("{s:[]}", "Warnings"));
}
