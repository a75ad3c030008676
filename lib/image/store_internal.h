/* Private to the image store's two halves: store.c (open, recovery, blobs, layers, fault points)
 * and store_image.c (images, lookups, tags, delete). */
#ifndef BERTH_IMAGE_STORE_INTERNAL_H
#define BERTH_IMAGE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "image/store.h"

#define CONFIG_MAX (16 * 1024 * 1024)
#define DIGEST_LEN 71    /* "sha256:" + 64 hex */
#define HEX(d) ((d) + 7) /* the hex part of "sha256:<hex>" */

struct berth_store {
    char *root;
    int root_fd;
    int lock_fd; /* berth.lock, flocked while the store is open */
    enum berth_driver driver;
    sqlite3 *db;          /* one connection, SQLITE_OPEN_FULLMUTEX */
    pthread_mutex_t lock; /* held for each group of statements and the renames that go with it */
};

static inline pthread_mutex_t *
berth_store_lock(struct berth_store *s)
{
    pthread_mutex_lock(&s->lock);
    return &s->lock;
}

static inline void
berth_store_unlockp(pthread_mutex_t **m)
{
    if (*m)
        pthread_mutex_unlock(*m);
}

/* Holds the store mutex until the end of the enclosing block. */
#define LOCKED(s)                                                                                  \
    __attribute__((cleanup(berth_store_unlockp))) pthread_mutex_t *lock_guard_ = berth_store_lock(s)

static inline void
berth_store_stmt_finalizep(sqlite3_stmt **st)
{
    if (*st)
        sqlite3_finalize(*st);
}

#define _cleanup_stmt_ __attribute__((cleanup(berth_store_stmt_finalizep)))

static inline void
berth_store_rm_rf_freep(char **path)
{
    if (*path) {
        berth_rm_rf(*path, NULL);
        free(*path);
    }
}

/* A path that removes itself (recursively) when it goes out of scope. */
#define _cleanup_rm_rf_ __attribute__((cleanup(berth_store_rm_rf_freep)))

static inline bool
berth_store_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* "sha256:" + 64 lowercase hex */
static inline bool
berth_store_is_sha256(const char *d)
{
    return d && strlen(d) == DIGEST_LEN && !strncmp(d, "sha256:", 7) &&
           berth_store_is_hex(d + 7, 64);
}

/* SQLite errors as berth errors (EBUSY, ENOSPC, ENOMEM, EROFS, else EIO). */
int berth_store_db_error(struct berth_store *s, struct berth_error **err, const char *what);
/* Prepares sql and binds n text arguments (const char *, NULL binds NULL). */
int berth_store_db_prep(struct berth_store *s, sqlite3_stmt **ret, struct berth_error **err,
                        const char *sql, int n, ...);
/* Steps a statement to the end. */
int berth_store_db_run(struct berth_store *s, sqlite3_stmt *st, struct berth_error **err);
/* 1 when the query (one or two text arguments; b may be NULL) returns a row, 0 when not. */
int berth_store_db_exists(struct berth_store *s, struct berth_error **err, const char *sql,
                          const char *a, const char *b);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (a no-op outside a transaction). */
int berth_store_db_begin(struct berth_store *s, struct berth_error **err);
int berth_store_db_commit(struct berth_store *s, struct berth_error **err);
void berth_store_db_rollback(struct berth_store *s);
/* berth_fault() as an error: EIO "injected fault at <point>". */
int berth_store_fault_error(const char *point, struct berth_error **err);
/* A new directory tmp/<prefix>-XXXXXX (absolute path). */
int berth_store_work_dir(struct berth_store *s, const char *prefix, char **ret,
                         struct berth_error **err);
/* OCI chain ID: the diff ID for a base layer, else sha256(parent + " " + diff). */
void berth_store_chain_id(const char *parent_chain, const char *diff_id, char out[72]);

#endif
