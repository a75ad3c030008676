/* Image endpoints: list, inspect, history, tag, delete, prune, load, save, import, and the
 * offline `pull` of the default image. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/filters.h"
#include "api/routes.h"
#include "container/container.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "image/archive.h"
#include "image/reference.h"
#include "image/store.h"

static pthread_mutex_t default_image_lock = PTHREAD_MUTEX_INITIALIZER;

static struct berth_daemon *
daemon_of(struct berth_http_request *req)
{
    return req->app;
}

static bool
is_default_image(const char *name)
{
    _cleanup_reference_ struct berth_reference *ref = NULL;
    if (berth_reference_parse(name, false, &ref, NULL) < 0 || ref->digest)
        return false;
    return !strcmp(ref->domain, "docker.io") && !strcmp(ref->path, "library/busybox") &&
           !strcmp(ref->tag, "latest");
}

/* The default image is made from the host's busybox-static the first time it is asked for. */
static int
ensure_default_image(struct berth_daemon *d, struct berth_error **err)
{
    pthread_mutex_lock(&default_image_lock);
    struct berth_image *img = NULL;
    int r = 0;
    if (berth_store_lookup(d->store, "busybox:latest", &img, NULL) == 0) {
        berth_image_free(img);
    } else {
        char id[72];
        r = berth_default_image_create(d->store, d->busybox_path, id, err);
        if (r == 0)
            berth_events_publish(d->events, "image", "tag", id, NULL,
                                 json_pack("{s:s}", "name", "busybox:latest"));
    }
    pthread_mutex_unlock(&default_image_lock);
    return r;
}

int
berth_api_image_lookup(struct berth_daemon *d, const char *name, struct berth_image **ret,
                       struct berth_error **err)
{
    if (!berth_id_like(name)) {
        /* a malformed name is a 400, not a missing image */
        _cleanup_reference_ struct berth_reference *ref = NULL;
        int r = berth_reference_parse(name, false, &ref, err);
        if (r < 0)
            return r;
    }
    struct berth_error *local = NULL;
    int r = berth_store_lookup(d->store, name, ret, &local);
    if (r == 0)
        return 0;
    if (local && local->code == ENOENT && is_default_image(name)) {
        berth_error_free(local);
        if ((r = ensure_default_image(d, err)) < 0)
            return r;
        return berth_store_lookup(d->store, name, ret, err);
    }
    *err = local;
    return r;
}

/* The image named in a request, or NULL after replying with the error. */
static struct berth_image *
image_or_reply(struct berth_http_request *req, const char *name)
{
    struct berth_image *img = NULL;
    struct berth_error *err = NULL;
    if (berth_api_image_lookup(daemon_of(req), name, &img, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return NULL;
    }
    return img;
}

char *
berth_api_familiar_name(const char *full)
{
    _cleanup_reference_ struct berth_reference *ref = NULL;
    if (berth_reference_parse(full, true, &ref, NULL) < 0)
        return strdup(full);
    return berth_reference_familiar(ref);
}

static json_t *
familiar_array(char **refs)
{
    json_t *a = json_array();
    for (size_t i = 0; refs && refs[i]; i++) {
        char *f = berth_api_familiar_name(refs[i]);
        json_array_append_new(a, json_string(f ? f : refs[i]));
        free(f);
    }
    return a;
}

static json_t *
labels_of(const struct berth_image *img)
{
    json_t *l = json_object_get(json_object_get(img->config, "config"), "Labels");
    return json_is_object(l) ? json_incref(l) : json_null();
}

json_t *
berth_api_image_summary(struct berth_http_request *req, const struct berth_image *img)
{
    json_t *tags = familiar_array(img->tags), *digests = familiar_array(img->digests);
    bool old = berth_http_version_below(req, 1, 43);
    if (old && json_array_size(tags) == 0)
        json_array_append_new(tags, json_string("<none>:<none>"));
    if (old && json_array_size(digests) == 0)
        json_array_append_new(digests, json_string("<none>@<none>"));
    json_t *o = json_pack("{s:i,s:I,s:s,s:o,s:s,s:o,s:o,s:i,s:I}", "Containers", -1, "Created",
                          (json_int_t)img->created, "Id", img->id, "Labels", labels_of(img),
                          "ParentId", img->parent ? img->parent : "", "RepoDigests", digests,
                          "RepoTags", tags, "SharedSize", -1, "Size", (json_int_t)img->size);
    if (berth_http_version_below(req, 1, 44))
        json_object_set_new(o, "VirtualSize", json_integer(img->size));
    return o;
}

/* The reference filter: "busybox" matches busybox:any tag, "busybox:1*" is a glob on the tag. */
static bool
tag_matches(const char *familiar, char *const *refs)
{
    for (size_t i = 0; refs[i]; i++) {
        size_t pl = strlen(refs[i]);
        if (!strcmp(familiar, refs[i]) ||
            (!strchr(refs[i], ':') && !strncmp(familiar, refs[i], pl) && familiar[pl] == ':') ||
            (pl && refs[i][pl - 1] == '*' && !strncmp(familiar, refs[i], pl - 1)))
            return true;
    }
    return false;
}

static bool
image_matches(const struct berth_filters *f, const struct berth_image *img,
              const struct berth_image *before, const struct berth_image *since)
{
    char *const *dangling = berth_filters_get(f, "dangling");
    if (dangling && dangling[0]) {
        bool want = !strcmp(dangling[0], "true") || !strcmp(dangling[0], "1");
        bool is = !img->tags || !img->tags[0];
        if (want != is)
            return false;
    }
    if (!berth_filters_match_labels(
            f, "label", json_object_get(json_object_get(img->config, "config"), "Labels")))
        return false;
    if (before && img->created >= before->created)
        return false;
    if (since && img->created <= since->created)
        return false;
    char *const *refs = berth_filters_get(f, "reference");
    if (refs && refs[0]) {
        bool any = false;
        for (size_t t = 0; img->tags && img->tags[t] && !any; t++) {
            _cleanup_free_ char *fam = berth_api_familiar_name(img->tags[t]);
            any = tag_matches(fam, refs);
        }
        if (!any)
            return false;
    }
    return true;
}

void
berth_api_images_list(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    static const char *const allowed[] = {"dangling", "label",     "before",
                                          "since",    "reference", NULL};
    struct berth_filters f;
    struct berth_error *err = NULL;
    if (berth_filters_parse(berth_http_query(req, "filters"), allowed, &f, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    struct berth_image **imgs = NULL, *before = NULL, *since = NULL;
    size_t n = 0;
    char *const *b = berth_filters_get(&f, "before"), *const *s = berth_filters_get(&f, "since");
    if ((b && b[0] && berth_api_image_lookup(d, b[0], &before, &err) < 0) ||
        (s && s[0] && berth_api_image_lookup(d, s[0], &since, &err) < 0) ||
        berth_store_list(d->store, &imgs, &n, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
    } else {
        bool all = berth_http_query_bool(req, "all", false);
        (void)all; /* no intermediate images exist: every image is a top-level one */
        json_t *arr = json_array();
        char *const *refs = berth_filters_get(&f, "reference");
        for (size_t i = 0; i < n; i++) {
            if (!image_matches(&f, imgs[i], before, since))
                continue;
            json_t *sum = berth_api_image_summary(req, imgs[i]);
            if (refs && refs[0]) {
                /* as moby: only the tags that matched the reference filter are shown */
                json_t *tags = json_object_get(sum, "RepoTags"), *kept = json_array();
                for (size_t t = 0; t < json_array_size(tags); t++) {
                    const char *tag = json_string_value(json_array_get(tags, t));
                    if (tag && tag_matches(tag, refs))
                        json_array_append_new(kept, json_string(tag));
                }
                json_object_set_new(sum, "RepoTags", kept);
            }
            json_array_append_new(arr, sum);
        }
        berth_http_reply_json(req, 200, arr);
    }
    berth_images_free(imgs, n);
    berth_image_free(before);
    berth_image_free(since);
    berth_filters_clear(&f);
}

void
berth_api_image_inspect(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    struct berth_image *img = image_or_reply(req, req->param);
    if (!img)
        return;
    json_t *cfg = img->config;
    json_t *container_cfg = json_object_get(cfg, "container_config");
    json_t *layers = json_array();
    for (size_t i = 0; img->diff_ids && img->diff_ids[i]; i++)
        json_array_append_new(layers, json_string(img->diff_ids[i]));
    const char *created = json_string_value(json_object_get(cfg, "created"));
    json_t *inner = json_object_get(cfg, "config");
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(img->id));
    json_object_set_new(o, "RepoTags", familiar_array(img->tags));
    json_object_set_new(o, "RepoDigests", familiar_array(img->digests));
    json_object_set_new(o, "Parent", json_string(img->parent ? img->parent : ""));
    json_object_set_new(o, "Comment",
                        json_string(json_string_value(json_object_get(cfg, "comment")) ?: ""));
    json_object_set_new(o, "Created", json_string(created ? created : "0001-01-01T00:00:00Z"));
    /* compose 1.29 reads ContainerConfig unconditionally */
    json_object_set_new(o, "Container",
                        json_string(json_string_value(json_object_get(cfg, "container")) ?: ""));
    json_object_set_new(o, "ContainerConfig",
                        container_cfg ? json_incref(container_cfg) : json_pack("{s:n}", "Volumes"));
    json_object_set_new(
        o, "DockerVersion",
        json_string(json_string_value(json_object_get(cfg, "docker_version")) ?: ""));
    json_object_set_new(o, "Author",
                        json_string(json_string_value(json_object_get(cfg, "author")) ?: ""));
    json_object_set_new(o, "Config", inner ? json_incref(inner) : json_null());
    json_object_set_new(o, "Architecture",
                        json_string(json_string_value(json_object_get(cfg, "architecture")) ?: ""));
    json_object_set_new(o, "Os",
                        json_string(json_string_value(json_object_get(cfg, "os")) ?: "linux"));
    json_object_set_new(o, "Size", json_integer(img->size));
    if (berth_http_version_below(req, 1, 44))
        json_object_set_new(o, "VirtualSize", json_integer(img->size));
    json_t *gd = json_object();
    if (img->chain_ids && img->chain_ids[0]) {
        /* overlay's view: the top layer is UpperDir, the rest LowerDir */
        size_t n = berth_strv_len(img->chain_ids);
        _cleanup_free_ char *top = NULL;
        berth_store_layer_path(d->store, img->chain_ids[n - 1], &top, NULL);
        char *lower = NULL;
        size_t llen = 0;
        for (size_t i = n - 1; i-- > 0;) {
            _cleanup_free_ char *p = NULL;
            if (berth_store_layer_path(d->store, img->chain_ids[i], &p, NULL) < 0)
                continue;
            char *nl = realloc(lower, llen + strlen(p) + 2);
            if (!nl)
                break;
            lower = nl;
            llen += (size_t)snprintf(lower + llen, strlen(p) + 2, "%s%s", llen ? ":" : "", p);
        }
        if (lower)
            json_object_set_new(gd, "LowerDir", json_string(lower));
        if (top)
            json_object_set_new(gd, "UpperDir", json_string(top));
        free(lower);
    }
    json_object_set_new(o, "GraphDriver", json_pack("{s:o,s:s}", "Data", gd, "Name", d->driver));
    json_object_set_new(o, "RootFS", json_pack("{s:s,s:o}", "Type", "layers", "Layers", layers));
    json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
    berth_image_free(img);
    berth_http_reply_json(req, 200, o);
}

static int64_t
parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

void
berth_api_image_history(struct berth_http_request *req)
{
    struct berth_image *img = image_or_reply(req, req->param);
    if (!img)
        return;
    json_t *hist = json_object_get(img->config, "history");
    size_t n_layers = berth_strv_len(img->diff_ids);
    json_t *out = json_array();
    /* newest first; non-empty history entries map to layers from the top down */
    size_t layer = n_layers;
    for (size_t i = json_array_size(hist); i-- > 0;) {
        json_t *h = json_array_get(hist, i);
        bool empty = json_is_true(json_object_get(h, "empty_layer"));
        int64_t size = 0;
        if (!empty && layer > 0) {
            layer--;
            size = img->layer_sizes ? img->layer_sizes[layer] : 0;
        }
        json_t *e = json_pack(
            "{s:s,s:I,s:s,s:o,s:I,s:s}", "Id", json_array_size(out) == 0 ? img->id : "<missing>",
            "Created", (json_int_t)parse_rfc3339(json_string_value(json_object_get(h, "created"))),
            "CreatedBy", json_string_value(json_object_get(h, "created_by")) ?: "", "Tags",
            json_array_size(out) == 0 ? familiar_array(img->tags) : json_null(), "Size",
            (json_int_t)size, "Comment", json_string_value(json_object_get(h, "comment")) ?: "");
        json_array_append_new(out, e);
    }
    if (json_array_size(out) == 0)
        json_array_append_new(out, json_pack("{s:s,s:I,s:s,s:o,s:I,s:s}", "Id", img->id, "Created",
                                             (json_int_t)img->created, "CreatedBy", "", "Tags",
                                             familiar_array(img->tags), "Size",
                                             (json_int_t)img->size, "Comment", ""));
    berth_image_free(img);
    berth_http_reply_json(req, 200, out);
}

void
berth_api_image_tag(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    const char *repo = berth_http_query(req, "repo"), *tag = berth_http_query(req, "tag");
    if (!repo || !*repo) {
        berth_http_reply_error(req, 400, "repository name must have at least one component");
        return;
    }
    if (tag && *tag && !berth_tag_valid(tag)) {
        berth_http_reply_error(req, 400, "invalid tag format");
        return;
    }
    char text[1024];
    snprintf(text, sizeof(text), "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
    struct berth_error *err = NULL;
    _cleanup_reference_ struct berth_reference *ref = NULL;
    struct berth_image *img = NULL;
    if (berth_reference_parse(text, false, &ref, &err) < 0 ||
        berth_api_image_lookup(d, req->param, &img, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    if (ref->digest) {
        berth_image_free(img);
        berth_http_reply_error(req, 400, "refusing to create a tag with a digest reference");
        return;
    }
    _cleanup_free_ char *full = berth_reference_string(ref), *fam = berth_reference_familiar(ref);
    if (berth_store_tag(d->store, img->id, full, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
    } else {
        berth_events_publish(d->events, "image", "tag", img->id, NULL,
                             json_pack("{s:s}", "name", fam));
        berth_http_reply_empty(req, 201);
    }
    berth_image_free(img);
}

static void
short_id(const char *id, char out[13])
{
    const char *hex = id + (strncmp(id, "sha256:", 7) ? 0 : 7);
    memcpy(out, hex, 12);
    out[12] = '\0';
}

/* Removes an image by tag or id, as docker does: a tag is untagged, and the image goes when
 * no tag is left; an id with several tags needs force. Appends to out. */
static int
remove_image(struct berth_daemon *d, const char *name, bool force, bool noprune, json_t *out,
             struct berth_error **err)
{
    struct berth_image *img = NULL;
    int r = berth_store_lookup(d->store, name, &img, err);
    if (r < 0)
        return r;
    bool by_id = berth_id_like(name) && !strchr(name, ':') ? true : !strncmp(name, "sha256:", 7);
    _cleanup_reference_ struct berth_reference *ref = NULL;
    if (!by_id && berth_reference_parse(name, false, &ref, NULL) < 0)
        by_id = true;
    size_t ntags = berth_strv_len(img->tags);
    /* an image that containers use: 409, or with force only untagged (moby) */
    char user[65] = "";
    int running_users = 0, users = 0;
    if (d->containers) {
        berth_containers_lock(d->containers);
        running_users = berth_containers_using_image(d->containers, img->id, true, user);
        if (!running_users)
            users = berth_containers_using_image(d->containers, img->id, false, user);
        berth_containers_unlock(d->containers);
    }
    bool last_tag = !by_id && ntags <= 1, keep = false;
    if ((running_users || users) && (by_id || last_tag)) {
        char s[13], cs[13];
        short_id(img->id, s);
        short_id(user, cs);
        if (by_id && (running_users || !force)) {
            berth_image_free(img);
            return berth_error_setq(err, EEXIST,
                                    "conflict: unable to delete %s (%s) - image is being used by "
                                    "%s container %s",
                                    s, running_users ? "cannot be forced" : "must be forced",
                                    running_users ? "running" : "stopped", cs);
        }
        if (!by_id && !force) {
            _cleanup_free_ char *fam = berth_reference_familiar(ref);
            berth_image_free(img);
            return berth_error_setq(err, EEXIST,
                                    "conflict: unable to remove repository reference \"%s\" "
                                    "(must force) - container %s is using its referenced image %s",
                                    fam ? fam : name, cs, s);
        }
        keep = true; /* forced: the tags go, the image stays for its containers */
    }
    if (by_id && ntags > 1 && !force) {
        char s[13];
        short_id(img->id, s);
        berth_image_free(img);
        return berth_error_setq(err, EBUSY,
                                "conflict: unable to delete %s (must be forced) - image is "
                                "referenced in multiple repositories",
                                s);
    }
    if (!by_id) {
        _cleanup_free_ char *full = berth_reference_string(ref),
                            *fam = berth_reference_familiar(ref);
        if ((r = berth_store_untag(d->store, full, err)) < 0) {
            berth_image_free(img);
            return r;
        }
        json_array_append_new(out, json_pack("{s:s}", "Untagged", fam));
        berth_events_publish(d->events, "image", "untag", img->id, NULL,
                             json_pack("{s:s}", "name", fam));
        if (ntags > 1 || noprune || keep) {
            berth_image_free(img);
            return 0;
        }
    } else {
        for (size_t i = 0; img->tags && img->tags[i]; i++) {
            _cleanup_free_ char *fam = berth_api_familiar_name(img->tags[i]);
            if ((r = berth_store_untag(d->store, img->tags[i], err)) < 0) {
                berth_image_free(img);
                return r;
            }
            json_array_append_new(out, json_pack("{s:s}", "Untagged", fam));
            berth_events_publish(d->events, "image", "untag", img->id, NULL,
                                 json_pack("{s:s}", "name", fam));
        }
    }
    if (keep) {
        berth_image_free(img);
        return 0;
    }
    char **deleted = NULL;
    r = berth_store_delete_image(d->store, img->id, true, &deleted, err);
    if (r == 0) {
        json_array_append_new(out, json_pack("{s:s}", "Deleted", img->id));
        for (size_t i = 0; deleted && deleted[i]; i++)
            if (strcmp(deleted[i], img->id))
                json_array_append_new(out, json_pack("{s:s}", "Deleted", deleted[i]));
        berth_events_publish(d->events, "image", "delete", img->id, NULL, NULL);
    }
    berth_strv_free(deleted);
    berth_image_free(img);
    return r;
}

void
berth_api_image_delete(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    json_t *out = json_array();
    struct berth_error *err = NULL;
    if (remove_image(d, req->param, berth_http_query_bool(req, "force", false),
                     berth_http_query_bool(req, "noprune", false), out, &err) < 0) {
        json_decref(out);
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    berth_http_reply_json(req, 200, out);
}

void
berth_api_images_prune(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    static const char *const allowed[] = {"dangling", "label", "until", NULL};
    struct berth_filters f;
    struct berth_error *err = NULL;
    if (berth_filters_parse(berth_http_query(req, "filters"), allowed, &f, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    char *const *dangling = berth_filters_get(&f, "dangling");
    bool only_dangling =
        !(dangling && dangling[0] && (!strcmp(dangling[0], "false") || !strcmp(dangling[0], "0")));
    struct berth_image **imgs = NULL;
    size_t n = 0;
    json_t *deleted = json_array();
    int64_t before = berth_store_layers_size(d->store);
    if (berth_store_list(d->store, &imgs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            bool tagged = imgs[i]->tags && imgs[i]->tags[0];
            if ((only_dangling && tagged) ||
                !berth_filters_match_labels(
                    &f, "label",
                    json_object_get(json_object_get(imgs[i]->config, "config"), "Labels")))
                continue;
            struct berth_error *e2 = NULL;
            if (remove_image(d, imgs[i]->id, true, false, deleted, &e2) < 0)
                berth_error_free(e2);
        }
    }
    berth_images_free(imgs, n);
    berth_filters_clear(&f);
    if (err) {
        json_decref(deleted);
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    int64_t after = berth_store_layers_size(d->store);
    berth_events_publish(d->events, "image", "prune", "", NULL,
                         json_pack("{s:s}", "reclaimed", "0"));
    berth_http_reply_json(
        req, 200,
        json_pack("{s:o,s:I}", "ImagesDeleted",
                  json_array_size(deleted) ? deleted : (json_decref(deleted), json_null()),
                  "SpaceReclaimed", (json_int_t)(before > after ? before - after : 0)));
}

/* ---- streams of JSON messages (load, import, pull) ---- */

struct messages {
    char *text;
    size_t len, off;
};

static ssize_t
messages_produce(void *cls, char *buf, size_t max)
{
    struct messages *m = cls;
    if (m->off >= m->len)
        return -1;
    size_t n = m->len - m->off < max ? m->len - m->off : max;
    memcpy(buf, m->text + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

static void
messages_free(void *cls)
{
    struct messages *m = cls;
    free(m->text);
    free(m);
}

/* Replies with the messages (each a JSON object) as a chunked JSON stream. */
static void
reply_messages(struct berth_http_request *req, json_t *msgs)
{
    struct messages *m = calloc(1, sizeof(*m));
    size_t i;
    json_t *msg;
    FILE *f = m ? open_memstream(&m->text, &m->len) : NULL;
    if (!f) {
        free(m);
        json_decref(msgs);
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    json_array_foreach(msgs, i, msg)
    {
        char *t = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (t)
            fprintf(f, "%s\r\n", t);
        free(t);
    }
    fclose(f);
    json_decref(msgs);
    berth_http_reply_stream(req, 200, "application/json", messages_produce, m, messages_free);
}

static json_t *
error_message(const char *text)
{
    return json_pack("{s:{s:s},s:s}", "errorDetail", "message", text, "error", text);
}

/* ---- load and import: the work runs in a thread while its messages stream out ---- */

struct job {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *buf;
    size_t len, cap, off;
    bool done;
    int refs; /* the stream and the worker */
    struct berth_daemon *daemon;
    struct berth_http_request *req;
    bool is_import, quiet;
    int fd;          /* import: the tarball */
    char work[4096]; /* load: the unpacked archive */
    char **changes;
    char *message, *ref;
};

static void
job_unref(struct job *j)
{
    pthread_mutex_lock(&j->lock);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->lock);
    if (!last)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->work[0])
        (void)berth_rm_rf(j->work, NULL);
    berth_strv_free(j->changes);
    free(j->message);
    free(j->ref);
    free(j->buf);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* Appends one message (stolen) to the stream: moby ends each with CRLF. */
static void
job_push(struct job *j, json_t *msg)
{
    char *t = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(msg);
    if (!t)
        return;
    size_t l = strlen(t);
    pthread_mutex_lock(&j->lock);
    if (j->len + l + 2 > j->cap) {
        size_t ncap = (j->cap ? j->cap : 4096);
        while (ncap < j->len + l + 2)
            ncap *= 2;
        char *nb = realloc(j->buf, ncap);
        if (nb) {
            j->buf = nb;
            j->cap = ncap;
        }
    }
    if (j->len + l + 2 <= j->cap) {
        memcpy(j->buf + j->len, t, l);
        memcpy(j->buf + j->len + l, "\r\n", 2);
        j->len += l + 2;
    }
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    free(t);
}

static void
human_size(int64_t n, char *out, size_t len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u < 4)
        v /= 1000, u++;
    snprintf(out, len, "%.4g%s", v, units[u]);
}

static void
job_progress(void *cls, const char *id, const char *status, int64_t current, int64_t total)
{
    struct job *j = cls;
    if (j->quiet)
        return;
    /* the rendered bar docker still sends: [=====>     ]  1.2MB/3.4MB */
    char bar[51], cur[32], tot[32], text[128];
    int filled = total > 0 ? (int)(50 * current / total) : 0;
    for (int i = 0; i < 50; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[50] = '\0';
    human_size(current, cur, sizeof(cur));
    human_size(total, tot, sizeof(tot));
    snprintf(text, sizeof(text), "[%s] %10s/%s", bar, cur, tot);
    job_push(j, json_pack("{s:s,s:{s:I,s:I},s:s,s:s}", "status", status, "progressDetail",
                          "current", (json_int_t)current, "total", (json_int_t)total, "progress",
                          text, "id", id));
}

/* Workers still running: the daemon waits for them before it closes the store. */
static atomic_int running_jobs;

void
berth_api_jobs_wait(int timeout_ms)
{
    for (int waited = 0; atomic_load(&running_jobs) > 0 && waited < timeout_ms; waited += 20) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *
job_main(void *arg)
{
    struct job *j = arg;
    struct berth_daemon *d = j->daemon;
    struct berth_progress progress = {.fn = job_progress, .cls = j};
    struct berth_error *err = NULL;
    if (!j->is_import) {
        json_t *loaded = NULL;
        if (berth_archive_load_unpacked(d->store, j->work, &progress, &loaded, &err) == 0) {
            size_t i;
            json_t *img;
            json_array_foreach(loaded, i, img)
            {
                const char *id = json_string_value(json_object_get(img, "id"));
                json_t *tags = json_object_get(img, "tags");
                char line[1024];
                if (json_array_size(tags) == 0) {
                    snprintf(line, sizeof(line), "Loaded image ID: %s\n", id);
                    job_push(j, json_pack("{s:s}", "stream", line));
                }
                size_t k;
                json_t *t;
                json_array_foreach(tags, k, t)
                {
                    snprintf(line, sizeof(line), "Loaded image: %s\n", json_string_value(t));
                    job_push(j, json_pack("{s:s}", "stream", line));
                }
                berth_events_publish(d->events, "image", "load", id, NULL, NULL);
            }
            json_decref(loaded);
        }
        j->work[0] = '\0'; /* removed by the load */
    } else {
        char id[72];
        if (berth_archive_import(d->store, j->fd, (const char *const *)j->changes, j->message, "-",
                                 &progress, id, &err) == 0) {
            if (j->ref && berth_store_tag(d->store, id, j->ref, &err) == 0) {
                _cleanup_free_ char *fam = berth_api_familiar_name(j->ref);
                berth_events_publish(d->events, "image", "tag", id, NULL,
                                     json_pack("{s:s}", "name", fam));
            }
            if (!err) {
                berth_events_publish(d->events, "image", "import", id, NULL, NULL);
                job_push(j, json_pack("{s:s}", "status", id));
            }
        }
    }
    if (err) {
        job_push(j, error_message(err->msg));
        berth_error_free(err);
    }
    pthread_mutex_lock(&j->lock);
    j->done = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    job_unref(j);
    atomic_fetch_sub(&running_jobs, 1);
    /* a load leaves freed buffers (decompression windows, layer maps) in the heap: an idle
     * daemon gives them back */
    malloc_trim(0);
    return NULL;
}

static ssize_t
job_produce(void *cls, char *buf, size_t max)
{
    struct job *j = cls;
    pthread_mutex_lock(&j->lock);
    while (j->off == j->len && !j->done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&j->cond, &j->lock, &ts);
        if (j->off == j->len && !j->done) {
            /* a client that left does not stop the work: the image still lands */
            pthread_mutex_unlock(&j->lock);
            if (berth_http_peer_closed(j->req))
                return -1;
            pthread_mutex_lock(&j->lock);
        }
    }
    ssize_t n = -1;
    if (j->off < j->len) {
        size_t k = j->len - j->off < max ? j->len - j->off : max;
        memcpy(buf, j->buf + j->off, k);
        j->off += k;
        n = (ssize_t)k;
    }
    pthread_mutex_unlock(&j->lock);
    return n;
}

static void
job_stream_free(void *cls)
{
    job_unref(cls);
}

static struct job *
job_new(struct berth_http_request *req)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->refs = 2;
    j->fd = -1;
    j->daemon = daemon_of(req);
    j->req = req;
    return j;
}

static void
job_start(struct berth_http_request *req, struct job *j)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&running_jobs, 1);
    if (pthread_create(&t, &attr, job_main, j) != 0) {
        atomic_fetch_sub(&running_jobs, 1);
        pthread_attr_destroy(&attr);
        j->refs = 1;
        job_unref(j);
        berth_http_reply_error(req, 500, "cannot start a worker thread");
        return;
    }
    pthread_attr_destroy(&attr);
    berth_http_reply_stream(req, 200, "application/json", job_produce, j, job_stream_free);
}

void
berth_api_images_load(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    struct job *j = job_new(req);
    if (!j) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    static int counter;
    snprintf(j->work, sizeof(j->work), "%s/tmp/load-%d-%d", d->cfg.data_root, (int)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    j->quiet = berth_http_query_bool(req, "quiet", false);
    struct berth_error *err = NULL;
    /* a malformed tarball is refused with a status before any stream starts */
    if (berth_archive_unpack(req->body_fd, j->work, &err) < 0) {
        j->work[0] = '\0';
        j->refs = 1;
        job_unref(j);
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    job_start(req, j);
}

/* ---- save: the tarball is written by a thread into a pipe that the response streams ---- */

struct save_stream {
    struct berth_daemon *d;
    char **names;
    int rd, wr;
    pthread_t thread;
    atomic_bool failed;
};

static void *
save_thread(void *arg)
{
    struct save_stream *s = arg;
    struct berth_error *err = NULL;
    if (berth_archive_save(s->d->store, (const char *const *)s->names, s->wr, &err) < 0) {
        /* the status went out with the first bytes: the stream is cut short instead */
        atomic_store(&s->failed, true);
        struct pollfd pf = {.fd = s->wr, .events = POLLOUT};
        bool client_gone = poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR);
        if (!client_gone)
            berth_log(BERTH_LOG_ERROR, "%s", err && err->msg ? err->msg : "save failed");
        berth_error_free(err);
    }
    close(s->wr);
    s->wr = -1;
    malloc_trim(0); /* the archive's buffers, as after a load */
    return NULL;
}

static ssize_t
save_produce(void *cls, char *buf, size_t max)
{
    struct save_stream *s = cls;
    for (;;) {
        ssize_t n = read(s->rd, buf, max);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -2;
        /* the writer is done: complete, or failed */
        pthread_join(s->thread, NULL);
        s->thread = 0;
        return atomic_load(&s->failed) ? -2 : -1;
    }
}

static void
save_free(void *cls)
{
    struct save_stream *s = cls;
    close(s->rd); /* a writer still at work meets EPIPE and stops */
    if (s->thread)
        pthread_join(s->thread, NULL);
    berth_strv_free(s->names);
    free(s);
}

static void
save(struct berth_http_request *req, const char *const *names)
{
    struct berth_daemon *d = daemon_of(req);
    if (!names || !names[0]) {
        berth_http_reply_error(req, 400, "no images to save");
        return;
    }
    /* every name is checked before the stream (and its status) starts */
    struct berth_error *err = NULL;
    for (size_t i = 0; names[i]; i++) {
        struct berth_image *img = NULL;
        if (berth_api_image_lookup(d, names[i], &img, &err) < 0)
            break;
        berth_image_free(img);
    }
    if (err) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    struct save_stream *s = calloc(1, sizeof(*s));
    int p[2] = {-1, -1};
    if (!s || pipe2(p, O_CLOEXEC) < 0) {
        free(s);
        berth_http_reply_error(req, 500, "save: %s", strerror(errno ? errno : ENOMEM));
        return;
    }
    (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    *s = (struct save_stream){.d = d, .rd = p[0], .wr = p[1]};
    for (size_t i = 0; names[i]; i++)
        berth_strv_push(&s->names, names[i]);
    if (!s->names || pthread_create(&s->thread, NULL, save_thread, s) != 0) {
        close(p[0]);
        close(p[1]);
        berth_strv_free(s->names);
        free(s);
        berth_http_reply_error(req, 500, "save: cannot start");
        return;
    }
    for (size_t i = 0; names[i]; i++)
        berth_events_publish(d->events, "image", "save", names[i], NULL, NULL);
    berth_http_reply_stream(req, 200, "application/x-tar", save_produce, s, save_free);
}

void
berth_api_images_get(struct berth_http_request *req)
{
    const char **names = berth_http_query_all(req, "names");
    save(req, names);
    free(names);
}

void
berth_api_image_get(struct berth_http_request *req)
{
    const char *names[] = {req->param, NULL};
    save(req, names);
}

/* POST /images/create: import (fromSrc) or pull (fromImage; offline only the default image). */
void
berth_api_images_create(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    const char *src = berth_http_query(req, "fromSrc"), *from = berth_http_query(req, "fromImage");
    const char *repo = berth_http_query(req, "repo"), *tag = berth_http_query(req, "tag");
    struct berth_error *err = NULL;
    json_t *msgs = json_array();
    if (src) {
        if (strcmp(src, "-")) {
            json_decref(msgs);
            berth_http_reply_error(req, 501,
                                   "importing from a URL is not supported: send the tarball as the "
                                   "request body (fromSrc=-)");
            return;
        }
        _cleanup_reference_ struct berth_reference *ref = NULL;
        if (repo && *repo) {
            char text[1024];
            snprintf(text, sizeof(text), "%s%s%s", repo, tag && *tag ? ":" : "",
                     tag && *tag ? tag : "");
            if (berth_reference_parse(text, false, &ref, &err) < 0) {
                json_decref(msgs);
                berth_http_reply_berror(req, err);
                berth_error_free(err);
                return;
            }
        }
        json_decref(msgs);
        struct job *j = job_new(req);
        const char **changes = berth_http_query_all(req, "changes");
        const char *message = berth_http_query(req, "message");
        if (j) {
            j->is_import = true;
            j->fd = fcntl(req->body_fd, F_DUPFD_CLOEXEC, 3);
            j->changes = calloc(1, sizeof(char *));
            for (size_t i = 0; changes && changes[i]; i++)
                berth_strv_push(&j->changes, changes[i]);
            j->message = message ? strdup(message) : NULL;
            j->ref = ref ? berth_reference_string(ref) : NULL;
        }
        free(changes);
        if (!j || j->fd < 0) {
            if (j) {
                j->refs = 1;
                job_unref(j);
            }
            berth_http_reply_error(req, 500, "cannot start the import");
            return;
        }
        /* bad --change values are refused before the stream starts */
        json_t *probe = json_object();
        int pr = berth_config_apply_changes(probe, (const char *const *)j->changes, &err);
        json_decref(probe);
        if (pr < 0) {
            j->refs = 1;
            job_unref(j);
            berth_http_reply_berror(req, err);
            berth_error_free(err);
            return;
        }
        job_start(req, j);
        return;
    }
    if (!from || !*from) {
        json_decref(msgs);
        berth_http_reply_error(req, 400, "fromImage or fromSrc is required");
        return;
    }
    char text[1024];
    snprintf(text, sizeof(text), "%s%s%s", from,
             tag && *tag && !strchr(from, '@') ? (strchr(tag, ':') ? "@" : ":") : "",
             tag && *tag && !strchr(from, '@') ? tag : "");
    if (is_default_image(text)) {
        json_array_append_new(msgs, json_pack("{s:s}", "status", "Pulling from library/busybox"));
        if (ensure_default_image(d, &err) < 0) {
            json_array_append_new(msgs, error_message(err->msg));
            berth_error_free(err);
        } else {
            json_array_append_new(msgs, json_pack("{s:s}", "status",
                                                  "Status: Image is up to date for busybox:latest "
                                                  "(made from the host's busybox-static)"));
        }
    } else {
        char msg[1200];
        _cleanup_reference_ struct berth_reference *ref = NULL;
        _cleanup_free_ char *fam = NULL;
        if (berth_reference_parse(text, false, &ref, NULL) == 0)
            fam = berth_reference_familiar_name(ref);
        snprintf(msg, sizeof(msg),
                 "pull access denied for %s, repository does not exist or may require 'docker "
                 "login': this berthd has no registry support yet (only busybox:latest, made "
                 "offline)",
                 fam ? fam : from);
        json_array_append_new(msgs, error_message(msg));
    }
    reply_messages(req, msgs);
}
