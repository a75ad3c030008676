/* The container's Config merged with its image's config, as moby's daemon/commit.go merge() and
 * mergeAndVerifyConfig() do at create. */
#include <errno.h>
#include <string.h>

#include "container/spec_gen_internal.h"
#include "core/cleanup.h"

static bool
empty(const json_t *v)
{
    if (!v || json_is_null(v))
        return true;
    if (json_is_array(v))
        return json_array_size(v) == 0;
    if (json_is_object(v))
        return json_object_size(v) == 0;
    if (json_is_string(v))
        return json_string_length(v) == 0;
    if (json_is_integer(v))
        return json_integer_value(v) == 0;
    return false;
}

/* A strslice given as a string becomes a one-element array. */
static int
normalize_strslice(json_t *cfg, const char *key, struct berth_error **err)
{
    json_t *v = json_object_get(cfg, key);
    if (v && json_is_string(v)) {
        json_t *a = json_array();
        if (!a || json_array_append(a, v) < 0 || json_object_set_new(cfg, key, a) < 0)
            return berth_error_set(err, ENOMEM, "Config.%s", key);
    }
    return 0;
}

static int
set_copy(json_t *dst, const char *key, const json_t *src, struct berth_error **err)
{
    json_t *c = json_deep_copy(src);
    if (!c || json_object_set_new(dst, key, c) < 0)
        return berth_error_set(err, ENOMEM, "Config.%s", key);
    return 0;
}

static size_t
env_key_len(const char *e)
{
    return strcspn(e, "=");
}

static int
merge_env(json_t *cfg, const json_t *image, struct berth_error **err)
{
    json_t *user = json_object_get(cfg, "Env");
    const json_t *img = sg_get(image, "Env");
    if (empty(img))
        return 0;
    if (empty(user))
        return set_copy(cfg, "Env", img, err);
    json_t *out = json_deep_copy(user);
    if (!out)
        return berth_error_set(err, ENOMEM, "Config.Env");
    size_t i, j;
    const json_t *ie, *ue;
    json_array_foreach(img, i, ie)
    {
        const char *is = json_string_value(ie);
        if (!is)
            continue;
        bool found = false;
        json_array_foreach(user, j, ue)
        {
            const char *us = json_string_value(ue);
            if (us && env_key_len(us) == env_key_len(is) && !strncmp(us, is, env_key_len(is))) {
                found = true;
                break;
            }
        }
        if (!found && json_array_append(out, (json_t *)ie) < 0) {
            json_decref(out);
            return berth_error_set(err, ENOMEM, "Config.Env");
        }
    }
    if (json_object_set_new(cfg, "Env", out) < 0)
        return berth_error_set(err, ENOMEM, "Config.Env");
    return 0;
}

/* Keys of the image's map the user's map lacks are added (Labels); with replace, the image's
 * value wins (Volumes, as moby's merge does). */
static int
merge_map(json_t *cfg, const json_t *image, const char *key, bool image_wins, bool empty_to_image,
          struct berth_error **err)
{
    const json_t *img = sg_get(image, key);
    json_t *user = json_object_get(cfg, key);
    if (empty_to_image && empty(user)) {
        if (empty(img))
            return 0;
        return set_copy(cfg, key, img, err);
    }
    if (!user || !json_is_object(user)) {
        user = json_object();
        if (!user || json_object_set_new(cfg, key, user) < 0)
            return berth_error_set(err, ENOMEM, "Config.%s", key);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)img, k, v)
    {
        if (!image_wins && json_object_get(user, k))
            continue;
        if (json_object_set(user, k, v) < 0)
            return berth_error_set(err, ENOMEM, "Config.%s", key);
    }
    return 0;
}

static int
merge_healthcheck(json_t *cfg, const json_t *image, struct berth_error **err)
{
    const json_t *img = sg_get(image, "Healthcheck");
    json_t *user = json_object_get(cfg, "Healthcheck");
    if (!img)
        return 0;
    if (!user || json_is_null(user))
        return set_copy(cfg, "Healthcheck", img, err);
    static const char *const keys[] = {"Test",        "Interval",      "Timeout",
                                       "StartPeriod", "StartInterval", "Retries"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
        const json_t *iv = json_object_get(img, keys[i]);
        if (iv && empty(json_object_get(user, keys[i])) &&
            json_object_set(user, keys[i], (json_t *)iv) < 0)
            return berth_error_set(err, ENOMEM, "Config.Healthcheck");
    }
    return 0;
}

static int
default_string(json_t *cfg, const json_t *image, const char *key, struct berth_error **err)
{
    const char *u = sg_str(cfg, key), *i = sg_str(image, key);
    if ((!u || !*u) && i && *i)
        return set_copy(cfg, key, sg_get(image, key), err);
    return 0;
}

int
berth_container_config_merge(const json_t *config, const json_t *image_config, json_t **ret_config,
                             struct berth_error **err)
{
    int r;
    if (config && !json_is_object(config))
        return berth_error_setq(err, EINVAL, "Config must be an object");
    if (image_config && !json_is_object(image_config))
        image_config = NULL;
    json_t *cfg = config ? json_deep_copy(config) : json_object();
    if (!cfg)
        return berth_error_set(err, ENOMEM, "Config");
    /* a whole create body may be passed: what is not Config stays out of it */
    json_object_del(cfg, "HostConfig");
    json_object_del(cfg, "NetworkingConfig");
    if ((r = normalize_strslice(cfg, "Cmd", err)) < 0 ||
        (r = normalize_strslice(cfg, "Entrypoint", err)) < 0)
        goto fail;
    if (image_config) {
        json_t *img = json_deep_copy(image_config);
        if (!img) {
            r = berth_error_set(err, ENOMEM, "image config");
            goto fail;
        }
        if ((r = normalize_strslice(img, "Cmd", err)) < 0 ||
            (r = normalize_strslice(img, "Entrypoint", err)) < 0 ||
            (r = default_string(cfg, img, "User", err)) < 0 ||
            (r = merge_map(cfg, img, "ExposedPorts", false, true, err)) < 0 ||
            (r = merge_env(cfg, img, err)) < 0 ||
            (r = merge_map(cfg, img, "Labels", false, false, err)) < 0 ||
            (r = merge_healthcheck(cfg, img, err)) < 0 ||
            (r = default_string(cfg, img, "WorkingDir", err)) < 0 ||
            (r = merge_map(cfg, img, "Volumes", true, true, err)) < 0 ||
            (r = default_string(cfg, img, "StopSignal", err)) < 0) {
            json_decref(img);
            goto fail;
        }
        /* Cmd and Entrypoint: a given Entrypoint (even []) keeps the image's out, and drops
         * the image's Cmd; only an absent one takes the image's */
        json_t *ep = json_object_get(cfg, "Entrypoint");
        if (empty(ep)) {
            if (empty(json_object_get(cfg, "Cmd"))) {
                json_t *icmd = json_object_get(img, "Cmd");
                if (icmd && (r = set_copy(cfg, "Cmd", icmd, err)) < 0) {
                    json_decref(img);
                    goto fail;
                }
                json_t *esc = json_object_get(img, "ArgsEscaped");
                if (esc && json_object_set(cfg, "ArgsEscaped", esc) < 0) {
                    json_decref(img);
                    r = berth_error_set(err, ENOMEM, "Config");
                    goto fail;
                }
            }
            json_t *iep = json_object_get(img, "Entrypoint");
            if ((!ep || json_is_null(ep)) && iep &&
                (r = set_copy(cfg, "Entrypoint", iep, err)) < 0) {
                json_decref(img);
                goto fail;
            }
        }
        json_decref(img);
    } else if (!json_object_get(cfg, "Labels")) {
        if (json_object_set_new(cfg, "Labels", json_object()) < 0) {
            r = berth_error_set(err, ENOMEM, "Config");
            goto fail;
        }
    }
    /* Entrypoint [""] is how a client says "no entrypoint" */
    json_t *ep = json_object_get(cfg, "Entrypoint");
    if (ep && json_array_size(ep) == 1 && json_is_string(json_array_get(ep, 0)) &&
        !*json_string_value(json_array_get(ep, 0)) &&
        json_object_set_new(cfg, "Entrypoint", json_null()) < 0) {
        r = berth_error_set(err, ENOMEM, "Config");
        goto fail;
    }
    if (empty(json_object_get(cfg, "Entrypoint")) && empty(json_object_get(cfg, "Cmd"))) {
        r = berth_error_setq(err, EINVAL, "No command specified");
        goto fail;
    }
    *ret_config = cfg;
    return 0;
fail:
    json_decref(cfg);
    return r;
}
