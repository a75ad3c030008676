/* The image store, second half: images (config checks, ids), lookups (references, ids, prefixes),
 * tags and deletion. The first half (store.c) opens the store, recovers, and holds blobs and
 * layers; the ordering rules for crash safety are described there. */
#include "image/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store_internal.h"

/* ---- images ---- */

static bool
digits(const char *s, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

/* RFC 3339 ("2024-01-02T03:04:05.123456789Z", "...+02:00") to unix seconds. */
static bool
parse_rfc3339(const char *s, int64_t *ret)
{
    int Y, M, D, h, m, sec;
    if (strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
        s[7] != '-' || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    *ret = (int64_t)timegm(&tm) - off;
    return true;
}

struct image_plan {
    char id[72];
    int64_t created;
    size_t n;
    char (*chains)[72];
    char (*diffs)[72];
};

static int
plan_image(const char *config, size_t len, struct image_plan *p, struct berth_error **err)
{
    json_error_t jerr;
    _cleanup_(json_decrefp) json_t *root = json_loadb(config, len, 0, &jerr);
    if (!root)
        return berth_error_setq(err, EINVAL, "invalid image config: %s (line %d)", jerr.text,
                                jerr.line);
    if (!json_is_object(root))
        return berth_error_setq(err, EINVAL, "invalid image config: not a JSON object");
    json_t *rootfs = json_object_get(root, "rootfs");
    json_t *type = json_object_get(rootfs, "type");
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_object(rootfs) || !json_is_string(type) ||
        strcmp(json_string_value(type), "layers") != 0)
        return berth_error_setq(err, EINVAL,
                                "invalid image config: rootfs.type must be \"layers\"");
    if (!json_is_array(ids))
        return berth_error_setq(err, EINVAL,
                                "invalid image config: rootfs.diff_ids must be an array");
    json_t *created = json_object_get(root, "created");
    p->created = 0;
    if (created && !json_is_null(created) &&
        (!json_is_string(created) || !parse_rfc3339(json_string_value(created), &p->created)))
        return berth_error_setq(err, EINVAL,
                                "invalid image config: \"created\" is not an RFC 3339 time");
    p->n = json_array_size(ids);
    p->chains = calloc(p->n + 1, sizeof(*p->chains));
    p->diffs = calloc(p->n + 1, sizeof(*p->diffs));
    if (!p->chains || !p->diffs)
        return berth_error_set(err, ENOMEM, "add image");
    for (size_t i = 0; i < p->n; i++) {
        const char *d = json_string_value(json_array_get(ids, i));
        if (!berth_store_is_sha256(d))
            return berth_error_setq(err, EINVAL, "invalid image config: bad diff ID \"%s\"",
                                    d ? d : "(not a string)");
        memcpy(p->diffs[i], d, 72);
        berth_store_chain_id(i ? p->chains[i - 1] : NULL, d, p->chains[i]);
    }
    berth_digest_buffer(config, len, p->id);
    return 0;
}

static void
plan_free(struct image_plan *p)
{
    free(p->chains);
    free(p->diffs);
}

/* Checks the layers (the caller holds the lock); ret_size: their sum. */
static int
plan_check_layers(struct berth_store *s, const struct image_plan *p, int64_t *ret_size,
                  struct berth_error **err)
{
    int64_t total = 0;
    for (size_t i = 0; i < p->n; i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = berth_store_db_prep(s, &st, err,
                                    "SELECT size FROM layers WHERE chain_id = ? AND diff_id = ?", 2,
                                    p->chains[i], p->diffs[i]);
        if (r < 0)
            return r;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            return berth_error_setq(err, ENOENT,
                                    "layer %zu (diff ID %s, chain ID %s) is not in the store", i,
                                    p->diffs[i], p->chains[i]);
        if (rc != SQLITE_ROW)
            return berth_store_db_error(s, err, "query layers");
        total += sqlite3_column_int64(st, 0);
    }
    *ret_size = total;
    return 0;
}

static int
image_insert(struct berth_store *s, const struct image_plan *p, int64_t size,
             struct berth_error **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err,
                                "INSERT INTO images(id, config_digest, created, size, parent) "
                                "VALUES(?1, ?1, ?2, ?3, NULL)",
                                1, p->id);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 2, p->created);
    sqlite3_bind_int64(st, 3, size);
    r = berth_store_db_run(s, st, err);
    for (size_t i = 0; r == 0 && i < p->n; i++) {
        _cleanup_stmt_ sqlite3_stmt *il = NULL;
        r = berth_store_db_prep(
            s, &il, err, "INSERT INTO image_layers(image_id, idx, chain_id) VALUES(?1, ?3, ?2)", 2,
            p->id, p->chains[i]);
        if (r == 0) {
            sqlite3_bind_int64(il, 3, (sqlite3_int64)i);
            r = berth_store_db_run(s, il, err);
        }
    }
    return r;
}

int
berth_store_add_image(struct berth_store *s, const char *config, size_t len, char ret_id[72],
                      struct berth_error **err)
{
    struct image_plan p = {0};
    int r = plan_image(config, len, &p, err);
    int64_t size = 0;
    if (r == 0) {
        LOCKED(s);
        r = berth_store_db_exists(s, err, "SELECT 1 FROM images WHERE id = ?", p.id, NULL);
        if (r == 0)
            r = plan_check_layers(s, &p, &size, err);
    }
    if (r == 1) { /* already there */
        memcpy(ret_id, p.id, 72);
        plan_free(&p);
        return 0;
    }
    char digest[72];
    if (r == 0)
        r = berth_store_put_blob_buffer(s, config, len, digest, err);
    if (r == 0) {
        LOCKED(s);
        r = berth_store_db_begin(s, err);
        if (r == 0)
            r = berth_store_db_exists(s, err, "SELECT 1 FROM images WHERE id = ?", p.id, NULL);
        if (r == 0)
            r = plan_check_layers(s, &p, &size, err);
        if (r == 0)
            r = image_insert(s, &p, size, err);
        if (r == 0)
            r = berth_store_fault_error("store.image.commit", err);
        if (r >= 0) /* 1: another thread added it meanwhile, fine */
            r = berth_store_db_commit(s, err);
        if (r < 0)
            berth_store_db_rollback(s);
    }
    if (r == 0)
        r = berth_store_fault_error("store.image.done", err);
    if (r < 0) {
        plan_free(&p);
        return berth_error_wrap(err, "add image");
    }
    memcpy(ret_id, p.id, 72);
    plan_free(&p);
    return 0;
}

/* ---- lookups ---- */

/* Full id from "sha256:<hex>" or a bare hex prefix; ENOENT (0 matches) or EINVAL (several). */
static int
resolve_prefix(struct berth_store *s, const char *text, char out[72], struct berth_error **err)
{
    const char *hex = berth_str_has_prefix(text, "sha256:") ? text + 7 : text;
    size_t n = strlen(hex);
    if (n < 1 || n > 64 || !berth_store_is_hex(hex, n))
        return -ENOENT;
    char pattern[80];
    snprintf(pattern, sizeof(pattern), "sha256:%s*", hex);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err, "SELECT id FROM images WHERE id GLOB ? LIMIT 2", 1,
                                pattern);
    if (r < 0)
        return r;
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (found++ == 0)
            snprintf(out, 72, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE)
        return berth_store_db_error(s, err, "query images");
    if (found > 1)
        return berth_error_setq(err, EINVAL, "multiple IDs found with provided prefix: %s", text);
    return found ? 0 : -ENOENT;
}

static int
tag_target(struct berth_store *s, const char *ref, bool is_digest, char out[72],
           struct berth_error **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err,
                                "SELECT image_id FROM tags WHERE ref = ? AND is_digest = ?2", 2,
                                ref, is_digest ? "1" : "0");
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    if (rc != SQLITE_ROW)
        return berth_store_db_error(s, err, "query tags");
    snprintf(out, 72, "%s", (const char *)sqlite3_column_text(st, 0));
    return 0;
}

/* The canonical form a tags row uses: "name:tag" or "name@digest"; *ret_is_digest. */
static char *
canonical_ref(const struct berth_reference *ref, bool *ret_is_digest)
{
    _cleanup_free_ char *name = berth_reference_name(ref);
    char *out = NULL;
    if (!name)
        return NULL;
    *ret_is_digest = ref->digest != NULL;
    if (asprintf(&out, "%s%s%s", name, ref->digest ? "@" : ":",
                 ref->digest ? ref->digest
                 : ref->tag  ? ref->tag
                             : "latest") < 0)
        return NULL;
    return out;
}

/* Reference, full id or unique prefix to an image id (the caller holds the lock). */
static int
resolve(struct berth_store *s, const char *text, char out[72], struct berth_error **err)
{
    if (!text || !*text)
        return berth_error_setq(err, ENOENT, "No such image: %s", text ? text : "");
    _cleanup_reference_ struct berth_reference *ref = NULL;
    int r = -ENOENT;
    if (berth_reference_parse(text, false, &ref, NULL) == 0) {
        bool is_digest;
        _cleanup_free_ char *canon = canonical_ref(ref, &is_digest);
        if (!canon)
            return berth_error_set(err, ENOMEM, "look up image");
        r = tag_target(s, canon, is_digest, out, err);
        if (r == -ENOENT && ref->digest) { /* name@<image id> */
            r = berth_store_db_exists(s, err, "SELECT 1 FROM images WHERE id = ?", ref->digest,
                                      NULL);
            if (r == 1)
                snprintf(out, 72, "%s", ref->digest);
            r = r == 1 ? 0 : r == 0 ? -ENOENT : r;
        }
    }
    if (r == -ENOENT)
        r = resolve_prefix(s, text, out, err);
    if (r == -ENOENT) {
        _cleanup_free_ char *familiar = ref ? berth_reference_familiar(ref) : NULL;
        return berth_error_setq(err, ENOENT, "No such image: %s", familiar ? familiar : text);
    }
    return r;
}

static struct berth_image *
image_new(const char *id)
{
    struct berth_image *img = calloc(1, sizeof(*img));
    if (!img)
        return NULL;
    snprintf(img->id, sizeof(img->id), "%s", id);
    /* empty vectors rather than NULL, so callers can walk them */
    if (!(img->tags = calloc(1, sizeof(char *))) || !(img->digests = calloc(1, sizeof(char *))) ||
        !(img->diff_ids = calloc(1, sizeof(char *))) ||
        !(img->chain_ids = calloc(1, sizeof(char *)))) {
        berth_image_free(img);
        return NULL;
    }
    return img;
}

/* A row of (created, size, parent) from column col on. */
static int
image_set_row(struct berth_image *img, sqlite3_stmt *st, int col, struct berth_error **err)
{
    img->created = sqlite3_column_int64(st, col);
    img->size = sqlite3_column_int64(st, col + 1);
    const char *parent = (const char *)sqlite3_column_text(st, col + 2);
    if (parent && !(img->parent = strdup(parent)))
        return berth_error_set(err, ENOMEM, "load image");
    return 0;
}

static int
image_add_tag(struct berth_image *img, const char *ref, bool is_digest, struct berth_error **err)
{
    if (berth_strv_push(is_digest ? &img->digests : &img->tags, ref) < 0)
        return berth_error_set(err, ENOMEM, "load image");
    return 0;
}

static int
image_add_layer(struct berth_image *img, sqlite3_stmt *st, int col, struct berth_error **err)
{
    size_t n = 0;
    while (img->diff_ids[n])
        n++;
    int64_t *sizes = realloc(img->layer_sizes, (n + 1) * sizeof(int64_t));
    if (!sizes)
        return berth_error_set(err, ENOMEM, "load image");
    img->layer_sizes = sizes;
    if (berth_strv_push(&img->diff_ids, (const char *)sqlite3_column_text(st, col)) < 0 ||
        berth_strv_push(&img->chain_ids, (const char *)sqlite3_column_text(st, col + 1)) < 0)
        return berth_error_set(err, ENOMEM, "load image");
    img->layer_sizes[n] = sqlite3_column_int64(st, col + 2);
    return 0;
}

static int
image_read_config(struct berth_store *s, struct berth_image *img, struct berth_error **err)
{
    char rel[100];
    snprintf(rel, sizeof(rel), "blobs/sha256/%s", HEX(img->id));
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = berth_read_file_at(s->root_fd, rel, CONFIG_MAX, &text, &len, err);
    if (r < 0)
        return r;
    json_error_t jerr;
    img->config = json_loadb(text, len, 0, &jerr);
    if (!img->config)
        return berth_error_setq(err, EIO, "image %s: config blob: %s", img->id, jerr.text);
    return 0;
}

static int
load_image(struct berth_store *s, const char *id, struct berth_image **ret,
           struct berth_error **err)
{
    struct berth_image *img = image_new(id);
    if (!img)
        return berth_error_set(err, ENOMEM, "load image");
    int r = 0;
    {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(s, &st, err,
                                "SELECT created, size, parent FROM images WHERE id = ?", 1, id);
        int rc = r == 0 ? sqlite3_step(st) : SQLITE_ERROR;
        if (r == 0 && rc == SQLITE_ROW) {
            r = image_set_row(img, st, 0, err);
        } else if (r == 0) {
            r = rc == SQLITE_DONE ? berth_error_setq(err, ENOENT, "No such image: %s", id)
                                  : berth_store_db_error(s, err, "query images");
        }
    }
    if (r == 0) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(
            s, &st, err, "SELECT ref, is_digest FROM tags WHERE image_id = ? ORDER BY ref", 1, id);
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
            r = image_add_tag(img, (const char *)sqlite3_column_text(st, 0),
                              sqlite3_column_int(st, 1), err);
        if (r == 0 && rc != SQLITE_DONE)
            r = berth_store_db_error(s, err, "query tags");
    }
    if (r == 0) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(
            s, &st, err,
            "SELECT l.diff_id, l.chain_id, l.size FROM image_layers il "
            "JOIN layers l ON l.chain_id = il.chain_id WHERE il.image_id = ? ORDER BY il.idx",
            1, id);
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
            r = image_add_layer(img, st, 0, err);
        if (r == 0 && rc != SQLITE_DONE)
            r = berth_store_db_error(s, err, "query layers");
    }
    if (r == 0)
        r = image_read_config(s, img, err);
    if (r < 0) {
        berth_image_free(img);
        return r;
    }
    *ret = img;
    return 0;
}

int
berth_store_lookup(struct berth_store *s, const char *ref, struct berth_image **ret,
                   struct berth_error **err)
{
    LOCKED(s);
    char id[72];
    int r = resolve(s, ref, id, err);
    if (r < 0)
        return r;
    return load_image(s, id, ret, err);
}

static int
cmp_image_id(const void *a, const void *b)
{
    return strcmp((*(struct berth_image *const *)a)->id, (*(struct berth_image *const *)b)->id);
}

/* The image of id among by_id (sorted by id), or NULL. */
static struct berth_image *
find_by_id(struct berth_image **by_id, size_t n, const char *id)
{
    if (!id)
        return NULL;
    struct berth_image key, *kp = &key;
    snprintf(key.id, sizeof(key.id), "%s", id);
    struct berth_image **hit = bsearch(&kp, by_id, n, sizeof(*by_id), cmp_image_id);
    return hit ? *hit : NULL;
}

/* Every image in three queries (images, tags, layers) rather than three per image: with 100
 * images the per-image queries took most of /images/json's 4.4 ms. */
static int
list_images(struct berth_store *s, struct berth_image ***ret, size_t *n_ret,
            struct berth_error **err)
{
    struct berth_image **v = NULL;
    size_t n = 0;
    int r;
    {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(
            s, &st, err, "SELECT id, created, size, parent FROM images ORDER BY created DESC, id",
            0);
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct berth_image **nv = realloc(v, (n + 2) * sizeof(*v));
            if (!nv) {
                r = berth_error_set(err, ENOMEM, "list images");
                break;
            }
            v = nv;
            v[n + 1] = NULL;
            v[n] = image_new((const char *)sqlite3_column_text(st, 0));
            if (!v[n]) {
                r = berth_error_set(err, ENOMEM, "list images");
                break;
            }
            n++;
            r = image_set_row(v[n - 1], st, 1, err);
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = berth_store_db_error(s, err, "list images");
    }
    _cleanup_free_ struct berth_image **by_id = r == 0 && n ? malloc(n * sizeof(*v)) : NULL;
    if (r == 0 && n && !by_id)
        r = berth_error_set(err, ENOMEM, "list images");
    if (by_id) {
        memcpy(by_id, v, n * sizeof(*v));
        qsort(by_id, n, sizeof(*by_id), cmp_image_id);
    }
    if (r == 0 && n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(
            s, &st, err, "SELECT image_id, ref, is_digest FROM tags ORDER BY image_id, ref", 0);
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct berth_image *img =
                find_by_id(by_id, n, (const char *)sqlite3_column_text(st, 0));
            if (img)
                r = image_add_tag(img, (const char *)sqlite3_column_text(st, 1),
                                  sqlite3_column_int(st, 2), err);
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = berth_store_db_error(s, err, "query tags");
    }
    if (r == 0 && n) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(s, &st, err,
                                "SELECT il.image_id, l.diff_id, l.chain_id, l.size "
                                "FROM image_layers il JOIN layers l ON l.chain_id = il.chain_id "
                                "ORDER BY il.image_id, il.idx",
                                0);
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct berth_image *img =
                find_by_id(by_id, n, (const char *)sqlite3_column_text(st, 0));
            if (img)
                r = image_add_layer(img, st, 1, err);
        }
        if (r == 0 && rc != SQLITE_DONE)
            r = berth_store_db_error(s, err, "query layers");
    }
    for (size_t i = 0; r == 0 && i < n; i++)
        r = image_read_config(s, v[i], err);
    if (r < 0) {
        berth_images_free(v, n);
        return r;
    }
    if (!v && !(v = calloc(1, sizeof(*v))))
        return berth_error_set(err, ENOMEM, "list images");
    *ret = v;
    *n_ret = n;
    return 0;
}

int
berth_store_list(struct berth_store *s, struct berth_image ***ret, size_t *n_ret,
                 struct berth_error **err)
{
    LOCKED(s);
    return list_images(s, ret, n_ret, err);
}

void
berth_image_free(struct berth_image *img)
{
    if (!img)
        return;
    berth_strv_free(img->tags);
    berth_strv_free(img->digests);
    berth_strv_free(img->diff_ids);
    berth_strv_free(img->chain_ids);
    free(img->layer_sizes);
    free(img->parent);
    if (img->config)
        json_decref(img->config);
    free(img);
}

void
berth_images_free(struct berth_image **imgs, size_t n)
{
    if (!imgs)
        return;
    for (size_t i = 0; i < n; i++)
        berth_image_free(imgs[i]);
    free(imgs);
}

/* ---- tags ---- */

static int
parse_tag_ref(const char *ref, char **ret, bool *ret_is_digest, struct berth_error **err)
{
    _cleanup_reference_ struct berth_reference *parsed = NULL;
    int r = berth_reference_parse(ref, false, &parsed, err);
    if (r < 0)
        return r;
    char *canon = canonical_ref(parsed, ret_is_digest);
    if (!canon)
        return berth_error_set(err, ENOMEM, "tag");
    *ret = canon;
    return 0;
}

int
berth_store_tag(struct berth_store *s, const char *image_id, const char *ref,
                struct berth_error **err)
{
    bool is_digest;
    _cleanup_free_ char *canon = NULL;
    int r = parse_tag_ref(ref, &canon, &is_digest, err);
    if (r < 0)
        return r;
    LOCKED(s);
    char id[72];
    r = resolve(s, image_id, id, err);
    if (r < 0)
        return r;
    r = berth_store_db_begin(s, err);
    if (r < 0)
        return r;
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    r = berth_store_db_prep(s, &st, err,
                            "INSERT OR REPLACE INTO tags(ref, image_id, is_digest) VALUES(?, ?, ?)",
                            3, canon, id, is_digest ? "1" : "0");
    if (r == 0)
        r = berth_store_db_run(s, st, err);
    if (r == 0)
        r = berth_store_fault_error("store.tag.commit", err);
    if (r == 0)
        r = berth_store_db_commit(s, err);
    if (r < 0)
        berth_store_db_rollback(s);
    return r;
}

int
berth_store_untag(struct berth_store *s, const char *ref, struct berth_error **err)
{
    bool is_digest;
    _cleanup_free_ char *canon = NULL;
    int r = parse_tag_ref(ref, &canon, &is_digest, err);
    if (r < 0)
        return r;
    LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    r = berth_store_db_prep(s, &st, err, "DELETE FROM tags WHERE ref = ?", 1, canon);
    if (r == 0)
        r = berth_store_db_run(s, st, err);
    if (r == 0 && sqlite3_changes(s->db) == 0) {
        _cleanup_reference_ struct berth_reference *parsed = NULL;
        _cleanup_free_ char *familiar = NULL;
        if (berth_reference_parse(ref, false, &parsed, NULL) == 0)
            familiar = berth_reference_familiar(parsed);
        r = berth_error_setq(err, ENOENT, "No such image: %s", familiar ? familiar : ref);
    }
    return r;
}

/* ---- delete ---- */

struct removal {
    char **deleted; /* image id, then chain ids (for the caller) */
    char **layers;  /* chain ids whose directories go */
    char **blobs;   /* digests whose blobs go */
};

static void
removal_free(struct removal *rm)
{
    berth_strv_free(rm->deleted);
    berth_strv_free(rm->layers);
    berth_strv_free(rm->blobs);
}

static int
column_strv(struct berth_store *s, char ***ret, struct berth_error **err, const char *sql,
            const char *arg)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err, sql, 1, arg);
    if (r < 0)
        return r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (berth_strv_push(ret, (const char *)sqlite3_column_text(st, 0)) < 0)
            return berth_error_set(err, ENOMEM, "delete image");
    if (rc != SQLITE_DONE)
        return berth_store_db_error(s, err, "query");
    return 0;
}

static int
delete_rows(struct berth_store *s, const char *id, bool force, struct removal *rm,
            struct berth_error **err)
{
    int r = berth_store_db_exists(s, err, "SELECT 1 FROM tags WHERE image_id = ?", id, NULL);
    if (r == 1 && !force)
        return berth_error_setq(err, EBUSY,
                                "conflict: unable to delete %.12s (must be forced) - image is "
                                "referenced in multiple repositories",
                                HEX(id));
    _cleanup_strv_ char **chains = NULL;
    if (r >= 0)
        r = column_strv(s, &chains, err,
                        "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC",
                        id);
    static const char *const drops[] = {
        "DELETE FROM tags WHERE image_id = ?",
        "DELETE FROM image_layers WHERE image_id = ?",
        "DELETE FROM images WHERE id = ?",
    };
    for (size_t i = 0; r >= 0 && i < BERTH_ARRAY_SIZE(drops); i++) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(s, &st, err, drops[i], 1, id);
        if (r == 0)
            r = berth_store_db_run(s, st, err);
    }
    if (r < 0)
        return r;
    if (berth_strv_push(&rm->deleted, id) < 0 || berth_strv_push(&rm->blobs, id) < 0)
        return berth_error_set(err, ENOMEM, "delete image");
    for (char **c = chains; c && *c; c++) {
        r = berth_store_db_exists(s, err,
                                  "SELECT 1 FROM image_layers WHERE chain_id = ?1 UNION ALL "
                                  "SELECT 1 FROM layers WHERE parent_chain = ?1",
                                  *c, NULL);
        if (r < 0)
            return r;
        if (r == 1)
            continue; /* still used */
        _cleanup_strv_ char **diff = NULL;
        r = column_strv(s, &diff, err, "SELECT diff_id FROM layers WHERE chain_id = ?", *c);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (r == 0)
            r = berth_store_db_prep(s, &st, err, "DELETE FROM layers WHERE chain_id = ?", 1, *c);
        if (r == 0)
            r = berth_store_db_run(s, st, err);
        if (r == 0 && diff && diff[0])
            r = berth_store_db_exists(s, err, "SELECT 1 FROM layers WHERE diff_id = ?", diff[0],
                                      NULL);
        if (r < 0)
            return r;
        if ((berth_strv_push(&rm->deleted, *c) < 0 || berth_strv_push(&rm->layers, *c) < 0) ||
            (r == 0 && diff && diff[0] && berth_strv_push(&rm->blobs, diff[0]) < 0))
            return berth_error_set(err, ENOMEM, "delete image");
    }
    return 0;
}

int
berth_store_delete_image(struct berth_store *s, const char *image_id, bool force,
                         char ***ret_deleted, struct berth_error **err)
{
    struct removal rm = {0};
    _cleanup_rm_rf_ char *trash = NULL;
    int r;
    {
        LOCKED(s);
        char id[72];
        r = resolve(s, image_id, id, err);
        if (r == 0)
            r = berth_store_db_begin(s, err);
        if (r == 0) {
            r = delete_rows(s, id, force, &rm, err);
            if (r == 0)
                r = berth_store_fault_error("store.delete.commit", err);
            if (r == 0)
                r = berth_store_db_commit(s, err);
            if (r < 0)
                berth_store_db_rollback(s);
        }
        if (r == 0)
            r = berth_store_fault_error("store.delete.remove", err);
        /* the rows are gone: move the files out of sight now, remove them unlocked */
        if (r == 0 && berth_store_work_dir(s, "delete", &trash, NULL) == 0) {
            for (char **c = rm.layers; c && *c; c++) {
                char rel[100];
                _cleanup_free_ char *dst = NULL;
                snprintf(rel, sizeof(rel), "layers/%s", HEX(*c));
                if (asprintf(&dst, "%s/%s", trash, HEX(*c)) >= 0)
                    renameat(s->root_fd, rel, AT_FDCWD, dst);
            }
        }
        for (char **b = rm.blobs; r == 0 && b && *b; b++) {
            char rel[100];
            snprintf(rel, sizeof(rel), "blobs/sha256/%s", HEX(*b));
            unlinkat(s->root_fd, rel, 0);
        }
    }
    if (r == 0 && ret_deleted)
        *ret_deleted = TAKE_PTR(rm.deleted);
    removal_free(&rm);
    return r;
}

int64_t
berth_store_layers_size(struct berth_store *s)
{
    LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (berth_store_db_prep(s, &st, NULL, "SELECT COALESCE(SUM(size), 0) FROM layers", 0) < 0 ||
        sqlite3_step(st) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int64(st, 0);
}

int
berth_store_count_images(struct berth_store *s)
{
    LOCKED(s);
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    if (berth_store_db_prep(s, &st, NULL, "SELECT COUNT(*) FROM images", 0) < 0 ||
        sqlite3_step(st) != SQLITE_ROW)
        return -1;
    return sqlite3_column_int(st, 0);
}
