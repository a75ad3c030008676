/* Internal to the config.json parser (spec.c, spec_json.c): typed member getters that report the
 * JSON path of a bad field. */
#ifndef BERTH_RUNTIME_SPEC_JSON_H
#define BERTH_RUNTIME_SPEC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "runtime/spec.h"

bool spec_json_is_text(json_t *v);
bool spec_json_big_uint(json_t *v, uint64_t *ret);
int spec_get_string(json_t *obj, const char *key, const char *where, bool required, char **ret,
                    struct berth_error **err);
int spec_get_bool(json_t *obj, const char *key, const char *where, bool *ret, bool *has,
                  struct berth_error **err);
int spec_json_to_i64(json_t *v, int64_t *ret);
int spec_get_i64(json_t *obj, const char *key, const char *where, struct berth_opt_i64 *ret,
                 struct berth_error **err);
int spec_get_u64_value(json_t *v, const char *where, const char *key, uint64_t *ret,
                       struct berth_error **err);
int spec_get_u32(json_t *obj, const char *key, const char *where, bool required, uint32_t *ret,
                 struct berth_error **err);
int spec_get_strv(json_t *obj, const char *key, const char *where, char ***ret,
                  struct berth_error **err);
int spec_get_typed(json_t *obj, const char *key, const char *where, bool want_array, json_t **ret,
                   struct berth_error **err);
int spec_get_object(json_t *obj, const char *key, const char *where, json_t **ret,
                    struct berth_error **err);
int spec_get_array(json_t *obj, const char *key, const char *where, json_t **ret,
                   struct berth_error **err);
void spec_kv_free(struct berth_kv *kv, size_t n);
int spec_get_kv_map(json_t *obj, const char *key, const char *where, struct berth_kv **ret,
                    size_t *n_ret, struct berth_error **err);

#endif
