/* /containers/{id}/exec and /exec/{id}: create, start (hijacked), inspect, resize. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/routes.h"
#include "container/container.h"
#include "container/exec.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"

static struct berth_containers *
containers_of(struct berth_http_request *req)
{
    return ((struct berth_daemon *)req->app)->containers;
}

static void
reply_err(struct berth_http_request *req, struct berth_error *err)
{
    if (err && err->code == EBUSY)
        berth_http_reply_error(req, 409, "%s", err->msg);
    else
        berth_http_reply_berror(req, err);
    berth_error_free(err);
}

static json_t *
parse_body(struct berth_http_request *req, bool required)
{
    if (!req->body || !req->body_len) {
        if (required)
            berth_http_reply_error(req, 400, "bad parameter: request body is empty");
        return required ? NULL : json_object();
    }
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, 0, &je);
    if (!json_is_object(j)) {
        berth_http_reply_error(req, 400, "invalid JSON: %s", j ? "not an object" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

void
berth_api_exec_create(struct berth_http_request *req)
{
    json_t *body = parse_body(req, true);
    if (!body)
        return;
    char id[65];
    struct berth_error *err = NULL;
    int r = berth_exec_create(containers_of(req), req->param, body, id, &err);
    json_decref(body);
    if (r < 0) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}

struct exec_session {
    struct berth_containers *cs;
    char id[65];
    bool detach;
    struct berth_proxy px;
};

static void
exec_run(void *cls, int fd, const char *extra, size_t extra_len)
{
    struct exec_session *s = cls;
    int mon = -1;
    struct berth_error *err = NULL;
    if (berth_exec_start(s->cs, s->id, false, &mon, &err) < 0) {
        /* moby writes the start error into the stream; the CLI then reads the exit code */
        char line[4096];
        int n = snprintf(line, sizeof(line), "%s\r\n", err ? err->msg : "exec failed");
        if (n > 0) {
            size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
            if (!s->px.tty) {
                unsigned char h[8] = {1,
                                      0,
                                      0,
                                      0,
                                      (unsigned char)(len >> 24),
                                      (unsigned char)(len >> 16),
                                      (unsigned char)(len >> 8),
                                      (unsigned char)len};
                (void)berth_write_all(fd, h, sizeof(h));
            }
            (void)berth_write_all(fd, line, len);
        }
        berth_error_free(err);
        return;
    }
    if (mon >= 0) {
        berth_api_proxy_streams(&s->px, fd, mon, extra, extra_len);
        close(mon);
    }
    /* the CLI inspects the exit code as soon as the stream ends: have it recorded */
    berth_exec_wait_recorded(s->cs, s->id, 2000);
}

void
berth_api_exec_start(struct berth_http_request *req)
{
    struct berth_containers *cs = containers_of(req);
    json_t *body = parse_body(req, false);
    if (!body)
        return;
    bool detach = json_is_true(json_object_get(body, "Detach"));
    json_decref(body);
    struct berth_exec_info info;
    struct berth_error *err = NULL;
    if (berth_exec_info(cs, req->param, &info, &err) < 0) {
        if (err && err->code == EEXIST) {
            berth_http_reply_error(req, 409, "%s", err->msg);
            berth_error_free(err);
            return;
        }
        reply_err(req, err);
        return;
    }
    if (detach) {
        int mon = -1;
        if (berth_exec_start(cs, req->param, true, &mon, &err) < 0) {
            reply_err(req, err);
            return;
        }
        berth_http_reply_empty(req, 200);
        return;
    }
    struct exec_session *s = calloc(1, sizeof(*s));
    if (!s) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    s->cs = cs;
    memcpy(s->id, info.id, sizeof(s->id));
    s->px.tty = info.tty;
    s->px.want_in = info.attach_in;
    s->px.close_stdin_on_eof = !info.tty;
    if (berth_detach_keys_parse(info.detach_keys[0] ? info.detach_keys : "ctrl-p,ctrl-q",
                                s->px.detach, sizeof(s->px.detach), &s->px.detach_len) < 0) {
        free(s);
        berth_http_reply_error(req, 400, "Invalid detach keys (%s) provided", info.detach_keys);
        return;
    }
    berth_http_reply_hijack(req, berth_api_stream_type(req, info.tty), exec_run, s, free);
}

void
berth_api_exec_inspect(struct berth_http_request *req)
{
    struct berth_error *err = NULL;
    json_t *j = berth_exec_inspect(containers_of(req), req->param, &err);
    if (!j) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_json(req, 200, j);
}

void
berth_api_exec_resize(struct berth_http_request *req)
{
    int64_t h = 0, w = 0;
    const char *hs = berth_http_query(req, "h"), *ws = berth_http_query(req, "w");
    if ((hs && *hs && (!berth_parse_i64(hs, &h) || h < 0 || h > 65535)) ||
        (ws && *ws && (!berth_parse_i64(ws, &w) || w < 0 || w > 65535))) {
        berth_http_reply_error(req, 400, "invalid resize arguments");
        return;
    }
    struct berth_error *err = NULL;
    if (berth_exec_resize(containers_of(req), req->param, (unsigned)h, (unsigned)w, &err) < 0) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_text(req, 200, "text/plain; charset=utf-8", "", 0);
}
