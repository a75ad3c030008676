/* The container's filesystem: archive (docker cp: HEAD stat, GET a tar, PUT extract), export,
 * changes (docker diff) and commit. The filesystem work is in lib/container (fs.h, commit.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/routes.h"
#include "container/commit.h"
#include "container/container.h"
#include "container/fs.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "image/reference.h"

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

/* A container held across unlocked work, with its root filesystem mounted and open. */
struct held {
    struct berth_containers *cs;
    struct berth_container *c;
    int root_fd;
    bool mounted;
};

static void
held_release(struct held *h)
{
    if (h->root_fd >= 0)
        close(h->root_fd);
    h->root_fd = -1;
    if (!h->c)
        return;
    berth_containers_lock(h->cs);
    if (h->mounted)
        berth_container_rootfs_put(h->cs, h->c);
    berth_container_unref(h->cs, h->c);
    berth_containers_unlock(h->cs);
    h->c = NULL;
}

static int
hold(struct berth_http_request *req, bool rootfs, struct held *ret, struct berth_error **err)
{
    struct held h = {.cs = containers_of(req), .root_fd = -1};
    berth_containers_lock(h.cs);
    int r = berth_containers_find(h.cs, req->param, &h.c, err);
    if (r == 0) {
        berth_container_ref(h.c);
        _cleanup_free_ char *merged = NULL;
        if (rootfs && (r = berth_container_rootfs_get(h.cs, h.c, &merged, err)) == 0) {
            h.mounted = true;
            h.root_fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (h.root_fd < 0)
                r = berth_error_set(err, errno, "open the root filesystem of %s", h.c->id);
        }
    } else {
        h.c = NULL;
    }
    berth_containers_unlock(h.cs);
    if (r < 0) {
        held_release(&h);
        return r;
    }
    *ret = h;
    return 0;
}

static void
publish(struct held *h, const char *action)
{
    berth_containers_lock(h->cs);
    berth_container_publish(h->cs, h->c, action);
    berth_containers_unlock(h->cs);
}

/* ---- a tar streamed from the helper child ---- */

struct tar_stream {
    struct held h;
    struct berth_fs_helper *helper;
    int fd;
    bool done;
};

static ssize_t
tar_produce(void *cls, char *buf, size_t max)
{
    struct tar_stream *s = cls;
    ssize_t n;
    do
        n = read(s->fd, buf, max);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return n;
    s->done = true;
    return -1;
}

static void
tar_free(void *cls)
{
    struct tar_stream *s = cls;
    if (s->fd >= 0)
        close(s->fd);
    struct berth_error *e = NULL;
    /* a client that left early: the helper is ended rather than waited for */
    (void)berth_fs_helper_wait(s->helper, !s->done, &e);
    berth_error_free(e);
    held_release(&s->h);
    free(s);
}

/* Starts the helper on a pipe and streams its tar. */
static void
stream_tar(struct berth_http_request *req, struct held *h, const char *src_dir, const char *base,
           const char *rebase, const char *const *headers)
{
    int p[2];
    struct berth_error *err = NULL;
    if (pipe2(p, O_CLOEXEC) < 0) {
        held_release(h);
        berth_http_reply_error(req, 500, "pipe: %s", strerror(errno));
        return;
    }
    struct tar_stream *s = calloc(1, sizeof(*s));
    if (!s || berth_fs_helper_tar(h->root_fd, src_dir, base, rebase, p[1], &s->helper, &err) < 0) {
        close(p[0]);
        close(p[1]);
        free(s);
        held_release(h);
        if (err)
            reply_err(req, err);
        else
            berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    close(p[1]);
    close(h->root_fd); /* the helper has its own */
    h->root_fd = -1;
    s->h = *h;
    s->fd = p[0];
    berth_http_reply_stream_with_headers(req, 200, "application/x-tar", headers, tar_produce, s,
                                         tar_free);
}

/* ---- archive ---- */

static const char *
path_param(struct berth_http_request *req)
{
    const char *p = berth_http_query(req, "path");
    if (!p || !*p) {
        berth_http_reply_error(req, 400, "path cannot be empty");
        return NULL;
    }
    return p;
}

static void
reply_path_err(struct berth_http_request *req, const char *path, struct berth_error *err)
{
    if (err->code == ENOENT || err->code == ENOTDIR) {
        berth_http_reply_error(req, 404, "Could not find the file %s in container %s", path,
                               req->param);
        berth_error_free(err);
        return;
    }
    reply_err(req, err);
}

static void
archive_get_or_head(struct berth_http_request *req, bool head)
{
    const char *path = path_param(req);
    if (!path)
        return;
    struct held h;
    struct berth_error *err = NULL;
    if (hold(req, true, &h, &err) < 0) {
        reply_err(req, err);
        return;
    }
    json_t *st = NULL;
    if (berth_path_stat(h.root_fd, path, &st, &err) < 0) {
        held_release(&h);
        reply_path_err(req, path, err);
        return;
    }
    _cleanup_free_ char *hdr = berth_path_stat_header(st);
    const char *headers[] = {"X-Docker-Container-Path-Stat", hdr ? hdr : "", NULL};
    if (head) {
        json_decref(st);
        held_release(&h);
        berth_http_reply_with_headers(req, 200, "application/json", "", 0, headers);
        return;
    }
    bool is_dir = (json_integer_value(json_object_get(st, "mode")) & (1LL << 31)) != 0;
    json_decref(st);
    /* moby: a directory is tarred as its contents under the path's base name ("." for a path
     * ending in "/."), anything else as the one entry under its base name */
    _cleanup_free_ char *abs = NULL;
    if (asprintf(&abs, "/%s", path) < 0) {
        held_release(&h);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    size_t len = strlen(abs);
    bool dot = len >= 2 && !strcmp(abs + len - 2, "/.");
    while (len > 1 && (abs[len - 1] == '/' || (abs[len - 1] == '.' && abs[len - 2] == '/')))
        abs[--len] = '\0';
    const char *slash = strrchr(abs, '/');
    const char *base = slash[1] ? slash + 1 : "";
    publish(&h, "archive-path");
    if (is_dir) {
        stream_tar(req, &h, abs, NULL, dot ? "." : base, headers);
        return;
    }
    _cleanup_free_ char *dir = strndup(abs, (size_t)(slash - abs));
    stream_tar(req, &h, dir && *dir ? dir : "/", base, base, headers);
}

void
berth_api_container_archive_head(struct berth_http_request *req)
{
    archive_get_or_head(req, true);
}

void
berth_api_container_archive_get(struct berth_http_request *req)
{
    archive_get_or_head(req, false);
}

void
berth_api_container_archive_put(struct berth_http_request *req)
{
    const char *path = path_param(req);
    if (!path)
        return;
    bool no_overwrite = berth_http_query_bool(req, "noOverwriteDirNonDir", false);
    struct held h;
    struct berth_error *err = NULL;
    if (hold(req, true, &h, &err) < 0) {
        reply_err(req, err);
        return;
    }
    berth_containers_lock(h.cs);
    bool ro = json_is_true(json_object_get(h.c->host_config, "ReadonlyRootfs"));
    berth_containers_unlock(h.cs);
    if (ro) {
        held_release(&h);
        berth_http_reply_error(req, 403, "container rootfs is marked read-only");
        return;
    }
    /* the destination, its last symlink followed (extracting into a link to a directory) */
    _cleanup_free_ char *abs = NULL;
    if (asprintf(&abs, "/%s", path) < 0) {
        held_release(&h);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    int fd = berth_open_in_root(h.root_fd, abs, O_PATH, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = fd < 0 ? -fd : errno;
        if (fd >= 0)
            close(fd);
        held_release(&h);
        berth_error_set(&err, e, "%s", path);
        reply_path_err(req, path, err);
        return;
    }
    close(fd);
    if (!S_ISDIR(st.st_mode)) {
        held_release(&h);
        berth_http_reply_error(req, 400, "extraction point is not a directory");
        return;
    }
    if (req->body_fd < 0) {
        held_release(&h);
        berth_http_reply_error(req, 400, "invalid tar: empty request body");
        return;
    }
    struct berth_fs_helper *helper = NULL;
    int r = berth_fs_helper_extract(h.root_fd, abs, req->body_fd, no_overwrite, &helper, &err);
    if (r == 0)
        r = berth_fs_helper_wait(helper, false, &err);
    if (r == 0)
        publish(&h, "extract-to-dir");
    held_release(&h);
    if (r < 0) {
        if (err->code == EEXIST)
            err->code = EINVAL; /* moby's NoOverwriteDirNonDir refusal is the client's */
        reply_path_err(req, path, err);
        return;
    }
    berth_http_reply_empty(req, 200);
}

/* ---- export ---- */

void
berth_api_container_export(struct berth_http_request *req)
{
    struct held h;
    struct berth_error *err = NULL;
    if (hold(req, true, &h, &err) < 0) {
        reply_err(req, err);
        return;
    }
    publish(&h, "export");
    stream_tar(req, &h, "/", NULL, "", NULL);
}

/* ---- changes ---- */

void
berth_api_container_changes(struct berth_http_request *req)
{
    struct held h;
    struct berth_error *err = NULL;
    if (hold(req, false, &h, &err) < 0) {
        reply_err(req, err);
        return;
    }
    struct berth_changes ch = {0};
    int r = berth_container_changes(h.cs, h.c, &ch, &err);
    held_release(&h);
    if (r < 0) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_json(req, 200, berth_changes_json(&ch));
    berth_changes_clear(&ch);
}

/* ---- commit ---- */

void
berth_api_commit(struct berth_http_request *req)
{
    const char *container = berth_http_query(req, "container");
    const char *repo = berth_http_query(req, "repo"), *tag = berth_http_query(req, "tag");
    struct berth_error *err = NULL;
    json_t *config = NULL;
    if (req->body && req->body_len) {
        json_error_t je;
        config = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &je);
        if (!config) {
            berth_http_reply_error(req, 400, "invalid JSON: %s", je.text);
            return;
        }
        if (json_is_null(config)) {
            json_decref(config);
            config = NULL;
        } else if (!json_is_object(config)) {
            json_decref(config);
            berth_http_reply_error(req, 400, "invalid JSON: the body must be a container Config");
            return;
        }
    }
    _cleanup_free_ char *reference = NULL;
    if (repo && *repo) {
        char text[1024];
        snprintf(text, sizeof(text), "%s%s%s", repo, tag && *tag ? ":" : "",
                 tag && *tag ? tag : "");
        _cleanup_reference_ struct berth_reference *ref = NULL;
        if (berth_reference_parse(text, false, &ref, &err) < 0) {
            json_decref(config);
            reply_err(req, err);
            return;
        }
        reference = berth_reference_string(ref);
    } else if (tag && *tag) {
        json_decref(config);
        berth_http_reply_error(req, 400, "refusing to create a tag with no reference");
        return;
    }
    const char **changes = berth_http_query_all(req, "changes");
    const char *pause = berth_http_query(req, "pause");
    struct berth_commit_opts o = {
        .reference = reference,
        .comment = berth_http_query(req, "comment"),
        .author = berth_http_query(req, "author"),
        .pause = pause && *pause ? berth_http_query_bool(req, "pause", true) : true,
        .changes = changes,
        .config = config,
    };
    char id[72];
    int r = berth_container_commit(containers_of(req), container ? container : "", &o, id, &err);
    free(changes);
    json_decref(config);
    if (r < 0) {
        reply_err(req, err);
        return;
    }
    berth_http_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}
