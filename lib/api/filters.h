/* Docker's `filters` query parameter: URL-decoded JSON in either encoding,
 *   {"label":{"a=b":true},"type":{"image":true}}   (Go CLI)
 *   {"label":["a=b"],"type":["image"]}              (docker-py, compose)
 * Different keys are ANDed; values of one key are ORed, except label (all must match). */
#ifndef BERTH_API_FILTERS_H
#define BERTH_API_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct json_t;

struct berth_filter {
    char *key;
    char **values; /* NULL-terminated */
};

struct berth_filters {
    struct berth_filter *items;
    size_t n;
};

/* text may be NULL or empty (no filters). Keys outside allowed (NULL-terminated) are refused with
 * moby's message "invalid filter 'x'". */
int berth_filters_parse(const char *text, const char *const *allowed, struct berth_filters *ret,
                        struct berth_error **err);
void berth_filters_clear(struct berth_filters *f);
/* The values of key, or NULL when the key is absent. */
char *const *berth_filters_get(const struct berth_filters *f, const char *key);
/* True when key is absent, or value equals one of its values. */
bool berth_filters_match(const struct berth_filters *f, const char *key, const char *value);
/* Every "label" filter ("k" or "k=v") holds in labels (a JSON object of strings, or NULL). */
bool berth_filters_match_labels(const struct berth_filters *f, const char *key,
                                struct json_t *labels);

#endif
