/* Typed getters for config.json members, each naming the JSON path of a bad field, and the
 * loader that keeps unsigned 64-bit numbers exact. Shared by the spec parser's files. */
#include "runtime/spec_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"

/* ---- integers above INT64_MAX ----
 * jansson keeps integers as int64_t and refuses bigger literals ("too big integer"), yet
 * config.json legitimately holds uint64 values above INT64_MAX: RLIM_INFINITY written as
 * 18446744073709551615, 64-bit seccomp argument values. Before parsing, such literals are
 * rewritten, exactly, into strings made of a NUL byte and the digits. No string of the input may
 * then hold a NUL (an escaped \u0000 is refused), so spec_get_u64_value() recognizes the rewritten
 * numbers and every string getter refuses them ("must be a string"). */

bool
spec_json_is_text(json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

bool
spec_json_big_uint(json_t *v, uint64_t *ret)
{
    if (!json_is_string(v) || json_string_length(v) < 2 || json_string_value(v)[0] != '\0')
        return false;
    return berth_parse_u64(json_string_value(v) + 1, ret);
}

/* Length of the unsigned literal above INT64_MAX (and at most UINT64_MAX) at p, else 0. */
static size_t
big_uint_literal(const char *text, size_t len, size_t i)
{
    if (i > 0 && (strchr("+-.", text[i - 1]) || (text[i - 1] >= '0' && text[i - 1] <= '9') ||
                  ((text[i - 1] | 0x20) >= 'a' && (text[i - 1] | 0x20) <= 'z')))
        return 0; /* not the start of a token */
    size_t n = 0;
    while (i + n < len && text[i + n] >= '0' && text[i + n] <= '9')
        n++;
    if (n < 19 || n > 20 || text[i] == '0' || (i + n < len && strchr(".eE", text[i + n])))
        return 0;
    char digits[21];
    uint64_t v;
    memcpy(digits, text + i, n);
    digits[n] = '\0';
    return berth_parse_u64(digits, &v) && v > INT64_MAX ? n : 0;
}

/* With out NULL, counts the literals to rewrite (-1: the input holds \u0000); else writes the
 * rewritten text into out (room for len + 8 * count + 1 bytes) and returns its length. */
static ssize_t
rewrite_big_uints(const char *text, size_t len, char *out)
{
    bool in_string = false, has_nul = false;
    size_t count = 0, o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = 0;
        if (in_string) {
            if (text[i] == '\\') {
                if (i + 5 < len && !memcmp(text + i + 1, "u0000", 5))
                    has_nul = true;
                n = i + 1 < len ? 2 : 1;
            } else {
                in_string = text[i] != '"';
                n = 1;
            }
        } else if (text[i] >= '1' && text[i] <= '9' && (n = big_uint_literal(text, len, i)) > 0) {
            count++;
            if (out) {
                memcpy(out + o, "\"\\u0000", 7);
                memcpy(out + o + 7, text + i, n);
                out[o + 7 + n] = '"';
                o += n + 8;
            }
            i += n;
            continue;
        } else {
            in_string = text[i] == '"';
            n = 1;
        }
        if (out)
            memcpy(out + o, text + i, n);
        o += n;
        i += n;
    }
    if (out) {
        out[o] = '\0';
        return (ssize_t)o;
    }
    return has_nul && count ? -1 : (ssize_t)count;
}

/* ---- small typed getters: each reports the JSON path of a bad field ---- */

int
spec_get_string(json_t *obj, const char *key, const char *where, bool required, char **ret,
                struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return berth_error_setq(err, EINVAL, "%s.%s is required", where, key);
        return 0;
    }
    if (!spec_json_is_text(v))
        return berth_error_setq(err, EINVAL, "%s.%s must be a string", where, key);
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : berth_error_set(err, ENOMEM, "%s.%s", where, key);
}

int
spec_get_bool(json_t *obj, const char *key, const char *where, bool *ret, bool *has,
              struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return berth_error_setq(err, EINVAL, "%s.%s must be a boolean", where, key);
    *ret = json_is_true(v);
    if (has)
        *has = true;
    return 0;
}

int
spec_json_to_i64(json_t *v, int64_t *ret)
{
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != (double)(int64_t)d)
            return -1;
        *ret = (int64_t)d;
        return 0;
    }
    return -1;
}

int
spec_get_i64(json_t *obj, const char *key, const char *where, struct berth_opt_i64 *ret,
             struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (spec_json_to_i64(v, &ret->value) < 0)
        return berth_error_setq(err, EINVAL, "%s.%s must be an integer", where, key);
    ret->set = true;
    return 0;
}

/* An unsigned 64-bit field: values above INT64_MAX (e.g. RLIM_INFINITY written as
 * 18446744073709551615) arrive rewritten as strings (see rewrite_big_uints), or as reals. */
int
spec_get_u64_value(json_t *v, const char *where, const char *key, uint64_t *ret,
                   struct berth_error **err)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *ret = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (spec_json_big_uint(v, ret))
        return 0;
    if (json_is_real(v) && json_real_value(v) >= 0 &&
        json_real_value(v) <= 18446744073709551616.0) {
        double d = json_real_value(v);
        *ret = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
        if (d < 18446744073709551615.0 && (double)*ret != d)
            return berth_error_setq(err, EINVAL, "%s.%s must be an integer", where, key);
        return 0;
    }
    return berth_error_setq(err, EINVAL, "%s.%s must be a non-negative integer", where, key);
}

int
spec_get_u32(json_t *obj, const char *key, const char *where, bool required, uint32_t *ret,
             struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return berth_error_setq(err, EINVAL, "%s.%s is required", where, key);
        return 0;
    }
    int64_t x;
    if (spec_json_to_i64(v, &x) < 0 || x < 0 || x > UINT32_MAX)
        return berth_error_setq(err, EINVAL, "%s.%s must be an unsigned 32-bit integer", where,
                                key);
    *ret = (uint32_t)x;
    return 0;
}

int
spec_get_strv(json_t *obj, const char *key, const char *where, char ***ret,
              struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return berth_error_setq(err, EINVAL, "%s.%s must be an array of strings", where, key);
    size_t n = json_array_size(v);
    char **out = calloc(n + 1, sizeof(char *));
    if (!out)
        return berth_error_set(err, ENOMEM, "%s.%s", where, key);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!spec_json_is_text(s)) {
            berth_strv_free(out);
            return berth_error_setq(err, EINVAL, "%s.%s[%zu] must be a string", where, key, i);
        }
        out[i] = strdup(json_string_value(s));
        if (!out[i]) {
            berth_strv_free(out);
            return berth_error_set(err, ENOMEM, "%s.%s", where, key);
        }
    }
    *ret = out;
    return 0;
}

/* An optional object or array member: *ret is NULL when absent or null. */
int
spec_get_typed(json_t *obj, const char *key, const char *where, bool want_array, json_t **ret,
               struct berth_error **err)
{
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (want_array ? !json_is_array(v) : !json_is_object(v))
        return berth_error_setq(err, EINVAL, "%s.%s must be %s", where, key,
                                want_array ? "an array" : "an object");
    *ret = v;
    return 0;
}

int
spec_get_object(json_t *obj, const char *key, const char *where, json_t **ret,
                struct berth_error **err)
{
    return spec_get_typed(obj, key, where, false, ret, err);
}

int
spec_get_array(json_t *obj, const char *key, const char *where, json_t **ret,
               struct berth_error **err)
{
    return spec_get_typed(obj, key, where, true, ret, err);
}

void
spec_kv_free(struct berth_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(kv[i].key), free(kv[i].value);
    free(kv);
}

int
spec_get_kv_map(json_t *obj, const char *key, const char *where, struct berth_kv **ret,
                size_t *n_ret, struct berth_error **err)
{
    json_t *map;
    int r = spec_get_object(obj, key, where, &map, err);
    if (r < 0 || !map)
        return r;
    size_t n = json_object_size(map), i = 0;
    struct berth_kv *kv = calloc(n ? n : 1, sizeof(*kv));
    if (!kv)
        return berth_error_set(err, ENOMEM, "%s.%s", where, key);
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        if (!spec_json_is_text(v)) {
            spec_kv_free(kv, i);
            return berth_error_setq(err, EINVAL, "%s.%s[\"%s\"] must be a string", where, key, k);
        }
        kv[i].key = strdup(k);
        kv[i].value = strdup(json_string_value(v));
        i++;
        if (!kv[i - 1].key || !kv[i - 1].value) {
            spec_kv_free(kv, i);
            return berth_error_set(err, ENOMEM, "%s.%s", where, key);
        }
    }
    *ret = kv;
    *n_ret = n;
    return 0;
}

int
berth_spec_json_load(const char *what, const char *text, size_t len, struct json_t **ret,
                     struct berth_error **err)
{
    json_error_t jerr;
    _cleanup_free_ char *rewritten = NULL;
    ssize_t n_big = rewrite_big_uints(text, len, NULL);
    if (n_big < 0)
        return berth_error_setq(err, EINVAL, "%s: \\u0000 is not allowed in strings", what);
    if (n_big > 0) {
        if ((size_t)n_big > (SIZE_MAX - len - 1) / 8 || !(rewritten = malloc(len + 8 * n_big + 1)))
            return berth_error_set(err, ENOMEM, "%s", what);
        len = (size_t)rewrite_big_uints(text, len, rewritten);
        text = rewritten;
    }
    json_t *root =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | (n_big ? JSON_ALLOW_NUL : 0), &jerr);
    if (!root)
        return berth_error_setq(err, EINVAL, "%s: line %d column %d: %s", what, jerr.line,
                                jerr.column, jerr.text);
    *ret = root;
    return 0;
}
