#include "api/filters.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"

void
berth_filters_clear(struct berth_filters *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].key);
        berth_strv_free(f->items[i].values);
    }
    free(f->items);
    f->items = NULL;
    f->n = 0;
}

static int
add_value(struct berth_filter *item, const char *v)
{
    return berth_strv_push(&item->values, v);
}

int
berth_filters_parse(const char *text, const char *const *allowed, struct berth_filters *ret,
                    struct berth_error **err)
{
    memset(ret, 0, sizeof(*ret));
    if (!text || !*text)
        return 0;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return berth_error_setq(err, EINVAL, "invalid filters: %s",
                                root ? "not an object" : jerr.text);
    }
    size_t n = json_object_size(root);
    ret->items = calloc(n ? n : 1, sizeof(*ret->items));
    if (!ret->items) {
        json_decref(root);
        return berth_error_set(err, ENOMEM, "filters");
    }
    const char *key;
    json_t *v;
    int r = 0;
    json_object_foreach(root, key, v)
    {
        bool ok = !allowed;
        for (const char *const *a = allowed; a && *a; a++)
            if (!strcmp(*a, key))
                ok = true;
        if (!ok) {
            r = berth_error_setq(err, EINVAL, "invalid filter '%s'", key);
            break;
        }
        struct berth_filter *item = &ret->items[ret->n++];
        item->key = strdup(key);
        item->values = calloc(1, sizeof(char *));
        if (json_is_object(v)) {
            const char *val;
            json_t *flag;
            json_object_foreach(v, val, flag)
            {
                if (json_is_true(flag) && add_value(item, val) < 0)
                    r = berth_error_set(err, ENOMEM, "filters");
            }
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e)) {
                    r = berth_error_setq(err, EINVAL, "invalid filter '%s': values must be strings",
                                         key);
                    break;
                }
                if (add_value(item, json_string_value(e)) < 0)
                    r = berth_error_set(err, ENOMEM, "filters");
            }
        } else if (!json_is_null(v)) {
            r = berth_error_setq(err, EINVAL, "invalid filter '%s'", key);
        }
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r < 0)
        berth_filters_clear(ret);
    return r;
}

char *const *
berth_filters_get(const struct berth_filters *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->items[i].key, key))
            return f->items[i].values;
    return NULL;
}

bool
berth_filters_match(const struct berth_filters *f, const char *key, const char *value)
{
    char *const *vals = berth_filters_get(f, key);
    if (!vals || !vals[0])
        return true;
    for (size_t i = 0; vals[i]; i++)
        if (value && !strcmp(vals[i], value))
            return true;
    return false;
}

bool
berth_filters_match_labels(const struct berth_filters *f, const char *key, json_t *labels)
{
    char *const *vals = berth_filters_get(f, key);
    for (size_t i = 0; vals && vals[i]; i++) {
        const char *eq = strchr(vals[i], '=');
        _cleanup_free_ char *k = eq ? strndup(vals[i], (size_t)(eq - vals[i])) : strdup(vals[i]);
        json_t *have = labels ? json_object_get(labels, k) : NULL;
        if (!have)
            return false;
        if (eq && (!json_is_string(have) || strcmp(json_string_value(have), eq + 1)))
            return false;
    }
    return true;
}
