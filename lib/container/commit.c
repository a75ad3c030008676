/* docker commit: the writable layer becomes a new layer on top of the container's image, and a
 * new image config (the container's Config with --change applied, history and diff_ids
 * appended) is registered, as moby's CreateImageFromContainer does. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container/commit.h"
#include "container/container_internal.h"
#include "container/fs.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "http/server.h"
#include "image/archive.h"
#include "image/store.h"
#include "runtime/commands.h"

/* the digest of an empty tar (1024 zero bytes): moby's layer.EmptyLayer */
#define EMPTY_TAR_SIZE 1024

static bool
is_empty(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_array(v) && !json_array_size(v)) ||
           (json_is_object(v) && !json_object_size(v)) ||
           (json_is_string(v) && !*json_string_value(v));
}

void
berth_commit_merge_config(json_t *user, const json_t *base)
{
    static const char *const plain[] = {"User", "WorkingDir", "StopSignal", "Healthcheck"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(plain); i++)
        if (is_empty(json_object_get(user, plain[i])) && !is_empty(json_object_get(base, plain[i])))
            json_object_set(user, plain[i], json_object_get(base, plain[i]));
    /* Env: the base's variables the user did not set */
    json_t *env = json_object_get(user, "Env");
    const json_t *benv = json_object_get(base, "Env");
    if (json_array_size(benv)) {
        if (!json_is_array(env)) {
            env = json_array();
            json_object_set_new(user, "Env", env);
        }
        size_t i;
        json_t *be;
        json_array_foreach(benv, i, be)
        {
            const char *s = json_string_value(be);
            if (!s)
                continue;
            size_t klen = strcspn(s, "=");
            bool found = false;
            size_t j;
            json_t *ue;
            json_array_foreach(env, j, ue)
            {
                const char *u = json_string_value(ue);
                if (u && strlen(u) >= klen && !strncmp(u, s, klen) && (u[klen] == '=' || !u[klen]))
                    found = true;
            }
            if (!found)
                json_array_append(env, be);
        }
    }
    static const char *const maps[] = {"Labels", "ExposedPorts", "Volumes"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(maps); i++) {
        const json_t *b = json_object_get(base, maps[i]);
        if (!json_object_size(b))
            continue;
        json_t *u = json_object_get(user, maps[i]);
        if (!json_is_object(u)) {
            u = json_object();
            json_object_set_new(user, maps[i], u);
        }
        json_object_update_missing(u, (json_t *)b);
    }
    if (is_empty(json_object_get(user, "Entrypoint")) && is_empty(json_object_get(user, "Cmd"))) {
        if (!is_empty(json_object_get(base, "Cmd")))
            json_object_set(user, "Cmd", json_object_get(base, "Cmd"));
        if (!is_empty(json_object_get(base, "Entrypoint")))
            json_object_set(user, "Entrypoint", json_object_get(base, "Entrypoint"));
    }
}

static void
now_rfc3339(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    berth_format_time_nano((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, buf, len);
}

/* The child image config (moby's image.NewChildImage). */
static json_t *
child_config(const json_t *parent, json_t *config, const char *container_id,
             const json_t *container_cmd, const char *author, const char *comment,
             const char *diff_id)
{
    char created[64];
    now_rfc3339(created, sizeof(created));
    json_t *out = json_object();
    static const char *const inherit[] = {"architecture", "variant", "os", "os.version",
                                          "os.features"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(inherit); i++)
        if (json_object_get(parent, inherit[i]))
            json_object_set(out, inherit[i], json_object_get(parent, inherit[i]));
    if (!json_object_get(out, "os"))
        json_object_set_new(out, "os", json_string("linux"));
    if (author && *author)
        json_object_set_new(out, "author", json_string(author));
    json_object_set_new(out, "config", config);
    json_object_set_new(out, "container", json_string(container_id));
    json_object_set_new(out, "created", json_string(created));
    json_object_set_new(out, "docker_version", json_string(BERTH_ENGINE_VERSION));
    json_t *diff_ids =
        json_deep_copy(json_object_get(json_object_get(parent, "rootfs"), "diff_ids"));
    if (!json_is_array(diff_ids)) {
        json_decref(diff_ids);
        diff_ids = json_array();
    }
    if (diff_id)
        json_array_append_new(diff_ids, json_string(diff_id));
    json_object_set_new(out, "rootfs",
                        json_pack("{s:s,s:o}", "type", "layers", "diff_ids", diff_ids));
    json_t *hist = json_deep_copy(json_object_get(parent, "history"));
    if (!json_is_array(hist)) {
        json_decref(hist);
        hist = json_array();
    }
    /* created_by: the container's command joined with spaces */
    _cleanup_free_ char *cmd = NULL;
    size_t total = 1, i;
    json_t *v;
    json_array_foreach(container_cmd, i, v)
    {
        total += strlen(json_string_value(v) ?: "") + 1;
    }
    if ((cmd = calloc(1, total))) {
        json_array_foreach(container_cmd, i, v)
        {
            if (i)
                strncat(cmd, " ", total - strlen(cmd) - 1);
            strncat(cmd, json_string_value(v) ?: "", total - strlen(cmd) - 1);
        }
    }
    json_t *h = json_pack("{s:s,s:s}", "created", created, "created_by", cmd ? cmd : "");
    if (author && *author)
        json_object_set_new(h, "author", json_string(author));
    if (comment && *comment)
        json_object_set_new(h, "comment", json_string(comment));
    if (!diff_id)
        json_object_set_new(h, "empty_layer", json_true());
    json_array_append_new(hist, h);
    json_object_set_new(out, "history", hist);
    return out;
}

int
berth_container_commit(struct berth_containers *cs, const char *ref,
                       const struct berth_commit_opts *o, char ret_id[72], struct berth_error **err)
{
    struct berth_store *store = cs->daemon->store;
    char id[65], image_id[72];
    json_t *cconfig = NULL;
    bool running = false, paused = false;
    berth_containers_lock(cs);
    struct berth_container *c = NULL;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r == 0) {
        if (c->state == BERTH_C_REMOVING || c->state == BERTH_C_DEAD)
            r = berth_error_setq(err, EBUSY,
                                 "You cannot commit container %s which is being removed", c->id);
        else {
            berth_container_ref(c);
            snprintf(id, sizeof(id), "%s", c->id);
            snprintf(image_id, sizeof(image_id), "%s", c->image_id);
            cconfig = json_deep_copy(c->config);
            running = c->state == BERTH_C_RUNNING;
            paused = c->state == BERTH_C_PAUSED;
        }
    }
    berth_containers_unlock(cs);
    if (r < 0)
        return r;
    /* the new config: the body's (or the container's), --change applied, then merged */
    json_t *config = o->config && json_is_object(o->config) ? json_deep_copy(o->config)
                                                            : json_deep_copy(cconfig);
    _cleanup_free_ char *text = NULL, *tmp = NULL;
    _cleanup_close_ int fd = -1;
    _cleanup_image_ struct berth_image *parent = NULL;
    bool did_pause = false;
    char chain[72], diff[72];
    json_t *image_config = NULL;
    if (!config) {
        r = berth_error_set(err, ENOMEM, "commit");
        goto out;
    }
    if ((r = berth_config_apply_changes(config, o->changes, err)) < 0)
        goto out;
    berth_commit_merge_config(config, cconfig);
    if ((r = berth_store_lookup(store, image_id, &parent, err)) < 0) {
        berth_error_wrap(err, "image of container %s", id);
        goto out;
    }
    if (o->pause && running && !paused) {
        if ((r = berth_cmd_pause(cs->runtime_root, id, true, err)) < 0)
            goto out;
        did_pause = true;
    }
    if (asprintf(&tmp, "%s/tmp", cs->daemon->cfg.data_root) < 0) {
        r = berth_error_set(err, ENOMEM, "commit");
        goto out;
    }
    if ((fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
        r = berth_error_set(err, errno, "commit: temporary file in '%s'", tmp);
        goto out;
    }
    r = berth_container_diff_tar(cs, c, fd, err);
    if (did_pause) {
        (void)berth_cmd_pause(cs->runtime_root, id, false, NULL);
        did_pause = false;
    }
    if (r < 0) {
        berth_error_wrap(err, "commit %s", id);
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        r = berth_error_set(err, errno, "commit");
        goto out;
    }
    size_t n_layers = berth_strv_len(parent->chain_ids);
    bool empty = st.st_size <= EMPTY_TAR_SIZE;
    if (!empty &&
        (r = berth_store_add_layer(store, n_layers ? parent->chain_ids[n_layers - 1] : NULL, fd,
                                   chain, diff, err)) < 0) {
        berth_error_wrap(err, "commit %s", id);
        goto out;
    }
    image_config =
        child_config(parent->config, TAKE_PTR(config), id, json_object_get(cconfig, "Cmd"),
                     o->author, o->comment, empty ? NULL : diff);
    text = image_config ? json_dumps(image_config, JSON_COMPACT) : NULL;
    if (!text) {
        r = berth_error_set(err, ENOMEM, "commit");
        goto out;
    }
    if ((r = berth_store_add_image(store, text, strlen(text), ret_id, err)) < 0)
        goto out;
    if (o->reference && (r = berth_store_tag(store, ret_id, o->reference, err)) < 0)
        goto out;
    json_t *attrs = json_pack("{s:s,s:s,s:s,s:s,s:s}", "comment", o->comment ? o->comment : "",
                              "imageID", ret_id, "imageRef", o->reference ? o->reference : "",
                              "image", c->image_name ? c->image_name : "", "name", c->name + 1);
    berth_events_publish(cs->daemon->events, "container", "commit", id, c->image_name, attrs);
out:
    if (did_pause)
        (void)berth_cmd_pause(cs->runtime_root, id, false, NULL);
    json_decref(config);
    json_decref(cconfig);
    json_decref(image_config);
    berth_containers_lock(cs);
    berth_container_unref(cs, c);
    berth_containers_unlock(cs);
    return r;
}
