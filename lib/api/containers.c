/* /containers: create, list, inspect, start, stop, restart, kill, pause, unpause, wait,
 * rename, remove, prune. Attach, logs and resize are in containers_io.c. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/filters.h"
#include "api/routes.h"
#include "container/container.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "image/reference.h"
#include "image/store.h"

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

static json_t *
body_json(struct berth_http_request *req)
{
    if (!req->body || !req->body_len) {
        berth_http_reply_error(req, 400, "bad parameter: request body is empty");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        berth_http_reply_error(req, 400, "invalid JSON: %s", j ? "not an object" : je.text);
        return NULL;
    }
    return j;
}

void
berth_api_container_create(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    json_t *body = body_json(req);
    if (!body)
        return;
    struct berth_error *err = NULL;
    const char *image = json_string_value(json_object_get(body, "Image"));
    if (image && *image) {
        /* resolves (and for busybox, makes) the image the way the image endpoints do */
        struct berth_image *img = NULL;
        if (berth_api_image_lookup(req->app, image, &img, &err) < 0) {
            if (err->code == ENOENT) {
                /* moby names it with its tag: "No such image: busybox:latest" */
                struct berth_reference *ref = NULL;
                char *full = berth_reference_parse(image, false, &ref, NULL) == 0
                                 ? berth_reference_string(ref)
                                 : NULL;
                berth_reference_free(ref);
                char *fam = berth_api_familiar_name(full ? full : image);
                free(full);
                berth_error_free(err);
                berth_http_reply_error(req, 404, "No such image: %s", fam ? fam : image);
                free(fam);
            } else {
                reply_err(req, err);
            }
            json_decref(body); /* image points into it */
            return;
        }
        berth_image_free(img);
    }
    char id[65];
    char **warnings = NULL;
    int r = berth_ctr_create(cs, berth_http_query(req, "name"), body, id, &warnings, &err);
    json_decref(body);
    if (r < 0) {
        reply_err(req, err);
        return;
    }
    json_t *w = json_array();
    for (size_t i = 0; warnings && warnings[i]; i++)
        json_array_append_new(w, json_string(warnings[i]));
    berth_strv_free(warnings);
    berth_http_reply_json(req, 201, json_pack("{s:s, s:o}", "Id", id, "Warnings", w));
}

/* ---- list ---- */

static bool
state_matches(const struct berth_filters *f, const struct berth_container *c)
{
    char *const *v = berth_filters_get(f, "status");
    if (!v)
        return true;
    const char *st = c->state == BERTH_C_EXITED && !c->has_been_started
                         ? "created"
                         : berth_cstate_name(c->state);
    for (; *v; v++)
        if (!strcmp(*v, st))
            return true;
    return false;
}

static bool
any_prefix(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (berth_str_has_prefix(s, *v))
            return true;
    return false;
}

static bool
name_matches(char *const *v, const char *name)
{
    /* moby: the name filter is a regular expression over the name; we accept substrings,
     * which is what the CLI's common uses ("^/web$" aside) need */
    for (; v && *v; v++) {
        const char *pat = *v;
        size_t n = strlen(pat);
        bool anchored_start = n > 0 && pat[0] == '^';
        bool anchored_end = n > (size_t)anchored_start && pat[n - 1] == '$';
        size_t core_len = n - (anchored_start ? 1 : 0) - (anchored_end ? 1 : 0);
        _cleanup_free_ char *core = malloc(core_len + 1);
        if (core) {
            memcpy(core, pat + (anchored_start ? 1 : 0), core_len);
            core[core_len] = '\0';
        }
        if (!core)
            continue;
        const char *bare = name + 1;
        if (anchored_start && anchored_end) {
            if (!strcmp(name, core) || !strcmp(bare, core))
                return true;
        } else if (anchored_start) {
            if (berth_str_has_prefix(name, core) || berth_str_has_prefix(bare, core))
                return true;
        } else if (anchored_end) {
            if (berth_str_has_suffix(name, core))
                return true;
        } else if (strstr(name, core)) {
            return true;
        }
    }
    return false;
}

static const char *const ps_filters[] = {"status",  "label",  "name",    "id",      "ancestor",
                                         "exited",  "before", "since",   "is-task", "health",
                                         "network", "volume", "publish", "expose",  NULL};

void
berth_api_containers_list(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    struct berth_daemon *d = req->app;
    bool all = berth_http_query_bool(req, "all", false);
    bool size = berth_http_query_bool(req, "size", false);
    int64_t limit = -1;
    const char *ls = berth_http_query(req, "limit");
    if (ls && *ls && !berth_parse_i64(ls, &limit)) {
        berth_http_reply_error(req, 400, "invalid limit %s", ls);
        return;
    }
    struct berth_filters f = {0};
    struct berth_error *err = NULL;
    if (berth_filters_parse(berth_http_query(req, "filters"), ps_filters, &f, &err) < 0) {
        reply_err(req, err);
        return;
    }
    if (limit > 0)
        all = true;
    /* written as text: see berth_container_list_write */
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    if (!out) {
        berth_filters_clear(&f);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    int64_t listed = 0;
    fputc('[', out);
    berth_containers_lock(cs);
    struct berth_container **v = NULL;
    size_t n = 0;
    berth_containers_all(cs, &v, &n);
    /* before/since: by creation order, relative to a named container */
    int64_t before_ns = 0, since_ns = 0;
    char *const *bv = berth_filters_get(&f, "before");
    char *const *sv = berth_filters_get(&f, "since");
    struct berth_container *ref;
    if (bv && berth_containers_find(cs, bv[0], &ref, &err) == 0)
        before_ns = ref->created_ns;
    if (sv && berth_containers_find(cs, sv[0], &ref, &err) == 0)
        since_ns = ref->created_ns;
    if (err) {
        berth_containers_unlock(cs);
        free(v);
        berth_filters_clear(&f);
        fclose(out);
        free(text);
        reply_err(req, err);
        return;
    }
    if (berth_filters_get(&f, "status") || berth_filters_get(&f, "exited") || bv || sv)
        all = true;
    for (size_t i = 0; v && i < n; i++) {
        struct berth_container *c = v[i];
        bool running = c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED ||
                       c->state == BERTH_C_RESTARTING;
        if (!all && !running)
            continue;
        if (!state_matches(&f, c) ||
            !berth_filters_match_labels(&f, "label", json_object_get(c->config, "Labels")))
            continue;
        char *const *fv;
        if ((fv = berth_filters_get(&f, "name")) && !name_matches(fv, c->name))
            continue;
        if ((fv = berth_filters_get(&f, "id")) && !any_prefix(fv, c->id))
            continue;
        if ((fv = berth_filters_get(&f, "exited"))) {
            char code[16];
            snprintf(code, sizeof(code), "%d", c->exit_code);
            if (c->state != BERTH_C_EXITED || !c->has_been_started ||
                !berth_filters_match(&f, "exited", code))
                continue;
        }
        if ((fv = berth_filters_get(&f, "ancestor"))) {
            bool ok = false;
            for (; *fv && !ok; fv++) {
                struct berth_image *img = NULL;
                if (berth_store_lookup(d->store, *fv, &img, NULL) == 0) {
                    ok = !strcmp(img->id, c->image_id);
                    berth_image_free(img);
                }
            }
            if (!ok)
                continue;
        }
        if (bv && c->created_ns >= before_ns)
            continue;
        if (sv && c->created_ns <= since_ns)
            continue;
        if (limit > 0 && listed >= limit)
            break;
        if (listed++)
            fputc(',', out);
        berth_container_list_write(cs, c, size, out);
    }
    berth_containers_unlock(cs);
    free(v);
    berth_filters_clear(&f);
    fputs("]\n", out);
    if (fclose(out) != 0) {
        free(text);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    berth_http_reply_json_text(req, 200, text, text_len);
}

void
berth_api_container_inspect(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    struct berth_error *err = NULL;
    berth_containers_lock(cs);
    struct berth_container *c;
    json_t *j = NULL;
    if (berth_containers_find(cs, req->param, &c, &err) == 0)
        j = berth_container_inspect_json(cs, c, berth_http_query_bool(req, "size", false));
    berth_containers_unlock(cs);
    if (!j) {
        reply_err(req, err ? err : NULL);
        return;
    }
    berth_http_reply_json(req, 200, j);
}

/* ---- lifecycle ---- */

static void
reply_result(struct berth_http_request *req, int r, struct berth_error *err)
{
    if (r == -EALREADY)
        berth_http_reply_empty(req, 304);
    else if (r < 0)
        reply_err(req, err);
    else
        berth_http_reply_empty(req, 204);
}

void
berth_api_container_start(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_start(containers_of(req), req->param, &err);
    if (r < 0 && err && err->code == EIO) {
        /* the runtime refused the process: moby answers 400 for a bad command, 500 else */
        const char *m = err->msg;
        berth_http_reply_error(req, berth_runtime_error_exit_code(m) ? 400 : 500, "%s", m);
        berth_error_free(err);
        return;
    }
    reply_result(req, r, err);
}

static int
timeout_param(struct berth_http_request *req)
{
    int64_t t;
    const char *s = berth_http_query(req, "t");
    if (s && *s && berth_parse_i64(s, &t))
        return (int)t;
    return -1;
}

void
berth_api_container_stop(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_stop(containers_of(req), req->param, berth_http_query(req, "signal"),
                           timeout_param(req), &err);
    reply_result(req, r, err);
}

void
berth_api_container_restart(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_restart(containers_of(req), req->param, berth_http_query(req, "signal"),
                              timeout_param(req), &err);
    reply_result(req, r < 0 && r != -EALREADY ? r : 0, err);
}

void
berth_api_container_kill(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_kill(containers_of(req), req->param, berth_http_query(req, "signal"), &err);
    if (r < 0 && err && err->code == EBUSY) {
        berth_http_reply_error(req, 409, "%s", err->msg);
        berth_error_free(err);
        return;
    }
    reply_result(req, r, err);
}

void
berth_api_container_pause(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_pause(containers_of(req), req->param, true, &err);
    reply_result(req, r, err);
}

void
berth_api_container_unpause(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_pause(containers_of(req), req->param, false, &err);
    reply_result(req, r, err);
}

void
berth_api_container_delete(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r =
        berth_ctr_remove(containers_of(req), req->param, berth_http_query_bool(req, "force", false),
                         berth_http_query_bool(req, "v", false), &err);
    if (r < 0 && err && err->code == EEXIST) {
        berth_http_reply_error(req, 409, "%s", err->msg);
        berth_error_free(err);
        return;
    }
    reply_result(req, r, err);
}

void
berth_api_container_rename(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    int r = berth_ctr_rename(containers_of(req), req->param, berth_http_query(req, "name"), &err);
    reply_result(req, r, err);
}

void
berth_api_containers_prune(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    static const char *const allowed[] = {"label", "label!", "until", NULL};
    struct berth_filters f = {0};
    struct berth_error *err = NULL;
    if (berth_filters_parse(berth_http_query(req, "filters"), allowed, &f, &err) < 0) {
        reply_err(req, err);
        return;
    }
    int64_t until_ns = 0;
    char *const *uv = berth_filters_get(&f, "until");
    if (uv) {
        int64_t secs;
        if (berth_parse_i64(uv[0], &secs))
            until_ns = secs * 1000000000LL;
        else if (!berth_parse_rfc3339(uv[0], &until_ns)) {
            berth_filters_clear(&f);
            berth_http_reply_error(req, 400, "invalid until filter %s", uv[0]);
            return;
        }
    }
    /* collect the ids first: removal takes the lock itself */
    char **ids = NULL;
    int64_t reclaimed = 0; /* counted before removal: the layers are gone after */
    berth_containers_lock(cs);
    struct berth_container **v = NULL;
    size_t n = 0;
    berth_containers_all(cs, &v, &n);
    for (size_t i = 0; v && i < n; i++) {
        struct berth_container *c = v[i];
        if (c->state != BERTH_C_EXITED && c->state != BERTH_C_CREATED && c->state != BERTH_C_DEAD)
            continue;
        if (!berth_filters_match_labels(&f, "label", json_object_get(c->config, "Labels")))
            continue;
        if (until_ns && c->created_ns >= until_ns)
            continue;
        if (berth_strv_push(&ids, c->id) == 0)
            reclaimed += berth_container_size_rw(cs, c);
    }
    berth_containers_unlock(cs);
    free(v);
    berth_filters_clear(&f);
    json_t *deleted = json_array();
    for (size_t i = 0; ids && ids[i]; i++) {
        struct berth_error *e = NULL;
        if (berth_ctr_remove(cs, ids[i], false, false, &e) == 0)
            json_array_append_new(deleted, json_string(ids[i]));
        berth_error_free(e);
    }
    berth_strv_free(ids);
    berth_events_publish(((struct berth_daemon *)req->app)->events, "container", "prune", "", NULL,
                         json_pack("{s:s}", "reclaimed", "0"));
    berth_http_reply_json(
        req, 200,
        json_pack("{s:o, s:I}", "ContainersDeleted",
                  json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
                  "SpaceReclaimed", (json_int_t)reclaimed));
}
