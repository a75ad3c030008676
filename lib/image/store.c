/* The image store: SQLite for what exists, files for the content (see store.h for the layout).
 *
 * Ordering, for crash safety: every change is first written under tmp/ (fsync), renamed into
 * blobs/ or layers/ (directories fsynced), and only then made visible by one SQLite transaction
 * (WAL, synchronous=FULL). berth_store_open() finishes whatever a crash interrupted: it empties
 * tmp/, removes layers/<dir> without a row and blobs that are neither the tar of a known layer
 * nor the config of a known image. Deletion runs the other way: rows first (one transaction),
 * then the files, moved into tmp/ and removed.
 *
 * Threads: one connection (SQLITE_OPEN_FULLMUTEX) and a store mutex held for each group of
 * statements and for the renames that must agree with them; ingesting and unpacking a layer,
 * the slow part, run without it. Writes use BEGIN IMMEDIATE (with a busy timeout).
 * Processes: one at a time per data root (an flock on berth.lock, EBUSY otherwise), since the
 * recovery at open would take another process's work in progress for crash leftovers.
 *
 * The images half (configs, lookups, tags, delete) is in store_image.c.
 *
 * Sizes: a layer's size is the total of the regular files its tar carries, for both drivers
 * (vfs layer directories hold the whole tree, but counting it would add the parents' bytes
 * again in every image's sum); an image's size is the sum of its layers' sizes. */
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/store_internal.h"
#include "image/tar_split.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 30000

static const char *const driver_names[] = {
    [BERTH_DRIVER_OVERLAY2] = "overlay2",
    [BERTH_DRIVER_VFS] = "vfs",
};

/* ---- fault points ---- */

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static char fault_spec[256];
static bool fault_spec_set;

void
berth_fault_set(const char *spec)
{
    pthread_mutex_lock(&fault_lock);
    fault_spec_set = spec != NULL;
    snprintf(fault_spec, sizeof(fault_spec), "%s", spec ? spec : "");
    pthread_mutex_unlock(&fault_lock);
}

/* BERTH_FAULT: a comma-separated list of "point" or "point:crash". */
bool
berth_fault(const char *point)
{
    char spec[256];
    pthread_mutex_lock(&fault_lock);
    const char *src = fault_spec_set ? fault_spec : getenv("BERTH_FAULT");
    snprintf(spec, sizeof(spec), "%s", src ? src : "");
    pthread_mutex_unlock(&fault_lock);
    size_t plen = strlen(point);
    for (char *item = spec; *item;) {
        char *end = strchrnul(item, ',');
        bool last = *end == '\0';
        *end = '\0';
        if (!strncmp(item, point, plen) && (item[plen] == '\0' || item[plen] == ':')) {
            if (!strcmp(item + plen, ":crash")) {
                kill(getpid(), SIGKILL);
                for (;;)
                    pause();
            }
            return true;
        }
        if (last)
            break;
        item = end + 1;
    }
    return false;
}

int
berth_store_fault_error(const char *point, struct berth_error **err)
{
    if (berth_fault(point))
        return berth_error_setq(err, EIO, "injected fault at %s", point);
    return 0;
}

/* ---- small helpers ---- */

int
berth_store_db_error(struct berth_store *s, struct berth_error **err, const char *what)
{
    int rc = sqlite3_errcode(s->db) & 0xff;
    int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? EBUSY
               : rc == SQLITE_FULL                      ? ENOSPC
               : rc == SQLITE_NOMEM                     ? ENOMEM
               : rc == SQLITE_READONLY                  ? EROFS
                                                        : EIO;
    return berth_error_setq(err, code, "image store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Prepares sql and binds n text arguments (NULL binds NULL). */
int
berth_store_db_prep(struct berth_store *s, sqlite3_stmt **ret, struct berth_error **err,
                    const char *sql, int n, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return berth_store_db_error(s, err, "prepare");
    va_list ap;
    va_start(ap, n);
    for (int i = 1; i <= n; i++) {
        const char *v = va_arg(ap, const char *);
        if (sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
            va_end(ap);
            sqlite3_finalize(st);
            return berth_store_db_error(s, err, "bind");
        }
    }
    va_end(ap);
    *ret = st;
    return 0;
}

/* Runs a statement to completion. */
int
berth_store_db_run(struct berth_store *s, sqlite3_stmt *st, struct berth_error **err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        return berth_store_db_error(s, err, "write");
    return 0;
}

static int
exec_sql(struct berth_store *s, const char *sql, struct berth_error **err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int r = berth_store_db_error(s, err, msg ? msg : sql);
        sqlite3_free(msg);
        return r;
    }
    return 0;
}

/* 1 when the query returns a row, 0 when not. */
int
berth_store_db_exists(struct berth_store *s, struct berth_error **err, const char *sql,
                      const char *a, const char *b)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err, sql, b ? 2 : 1, a, b);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return berth_store_db_error(s, err, "query");
}

int
berth_store_db_begin(struct berth_store *s, struct berth_error **err)
{
    return exec_sql(s, "BEGIN IMMEDIATE", err);
}

int
berth_store_db_commit(struct berth_store *s, struct berth_error **err)
{
    return exec_sql(s, "COMMIT", err);
}

void
berth_store_db_rollback(struct berth_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static char *store_path(struct berth_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
store_path(struct berth_store *s, const char *fmt, ...)
{
    _cleanup_free_ char *rel = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&rel, fmt, ap);
    va_end(ap);
    char *out = NULL;
    if (n < 0 || asprintf(&out, "%s/%s", s->root, rel) < 0)
        return NULL;
    return out;
}

static int
fsync_dir(struct berth_store *s, const char *rel, struct berth_error **err)
{
    _cleanup_close_ int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return berth_error_set(err, errno, "fsync '%s/%s'", s->root, rel);
    return 0;
}

/* A new directory under tmp/ (absolute path). */
int
berth_store_work_dir(struct berth_store *s, const char *prefix, char **ret,
                     struct berth_error **err)
{
    char *path = store_path(s, "tmp/%s-XXXXXX", prefix);
    if (!path)
        return berth_error_set(err, ENOMEM, "image store");
    if (!mkdtemp(path)) {
        int r = berth_error_set(err, errno, "create work directory '%s'", path);
        free(path);
        return r;
    }
    *ret = path;
    return 0;
}

/* Moves root-relative rel out of the way (into tmp/) and removes it. Best effort. */
static void
discard(struct berth_store *s, const char *rel)
{
    _cleanup_free_ char *trash = NULL;
    if (berth_store_work_dir(s, "trash", &trash, NULL) < 0)
        return;
    _cleanup_free_ char *dst = NULL;
    if (asprintf(&dst, "%s/x", trash) >= 0)
        renameat(s->root_fd, rel, AT_FDCWD, dst);
    berth_rm_rf(trash, NULL);
}

/* ---- schema, open, recovery ---- */

static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE layers(chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL,"
    "  parent_chain TEXT REFERENCES layers(chain_id), size INTEGER NOT NULL);"
    "CREATE INDEX layers_parent ON layers(parent_chain);"
    "CREATE INDEX layers_diff ON layers(diff_id);"
    "CREATE TABLE images(id TEXT PRIMARY KEY, config_digest TEXT NOT NULL,"
    "  created INTEGER NOT NULL, size INTEGER NOT NULL, parent TEXT);"
    "CREATE TABLE image_layers(image_id TEXT NOT NULL REFERENCES images(id),"
    "  idx INTEGER NOT NULL, chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
    "  PRIMARY KEY(image_id, idx));"
    "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
    "CREATE TABLE tags(ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id),"
    "  is_digest INTEGER NOT NULL);"
    "CREATE INDEX tags_image ON tags(image_id);";

static int
user_version(struct berth_store *s, int *ret, struct berth_error **err)
{
    _cleanup_stmt_ sqlite3_stmt *st = NULL;
    int r = berth_store_db_prep(s, &st, err, "PRAGMA user_version", 0);
    if (r < 0)
        return r;
    if (sqlite3_step(st) != SQLITE_ROW)
        return berth_store_db_error(s, err, "read schema version");
    *ret = sqlite3_column_int(st, 0);
    return 0;
}

static int
migrate(struct berth_store *s, struct berth_error **err)
{
    int r = berth_store_db_begin(s, err);
    if (r < 0)
        return r;
    int version = 0;
    r = user_version(s, &version, err);
    if (r == 0 && version > SCHEMA_VERSION)
        r = berth_error_setq(err, EINVAL,
                             "image store '%s': database schema version %d is newer than this "
                             "berth (%d)",
                             s->root, version, SCHEMA_VERSION);
    if (r == 0 && version == 0) {
        r = exec_sql(s, schema_v1, err);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (r == 0)
            r = berth_store_db_prep(s, &st, err, "INSERT INTO meta(key, value) VALUES('driver', ?)",
                                    1, driver_names[s->driver]);
        if (r == 0)
            r = berth_store_db_run(s, st, err);
        if (r == 0)
            r = exec_sql(s, "PRAGMA user_version = 1", err);
    }
    if (r == 0) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = berth_store_db_prep(s, &st, err, "SELECT value FROM meta WHERE key = 'driver'", 0);
        if (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 0);
            if (!d || strcmp(d, driver_names[s->driver]) != 0)
                r = berth_error_setq(err, EINVAL,
                                     "image store '%s' was created with storage driver %s, not %s",
                                     s->root, d ? d : "(none)", driver_names[s->driver]);
        }
    }
    if (r < 0) {
        berth_store_db_rollback(s);
        return r;
    }
    return berth_store_db_commit(s, err);
}

/* Calls fn for each entry of root-relative directory rel. */
static int
for_each_entry(struct berth_store *s, const char *rel,
               int (*fn)(struct berth_store *, const char *, const char *, struct berth_error **),
               struct berth_error **err)
{
    int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open '%s/%s'", s->root, rel);
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return berth_error_set(err, errno, "open '%s/%s'", s->root, rel);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int r = fn(s, rel, de->d_name, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int
recover_tmp(struct berth_store *s, const char *rel, const char *name, struct berth_error **err)
{
    _cleanup_free_ char *p = store_path(s, "%s/%s", rel, name);
    if (!p)
        return berth_error_set(err, ENOMEM, "image store");
    return berth_rm_rf(p, err);
}

static int
recover_layer(struct berth_store *s, const char *rel, const char *name, struct berth_error **err)
{
    if (strlen(name) == 64 && berth_store_is_hex(name, 64)) {
        char chain[80];
        snprintf(chain, sizeof(chain), "sha256:%s", name);
        int r =
            berth_store_db_exists(s, err, "SELECT 1 FROM layers WHERE chain_id = ?", chain, NULL);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    return recover_tmp(s, rel, name, err);
}

static int
recover_blob(struct berth_store *s, const char *rel, const char *name, struct berth_error **err)
{
    if (strlen(name) == 64 && berth_store_is_hex(name, 64)) {
        char d[80];
        snprintf(d, sizeof(d), "sha256:%s", name);
        int r = berth_store_db_exists(s, err,
                                      "SELECT 1 FROM layers WHERE diff_id = ?1 UNION ALL "
                                      "SELECT 1 FROM images WHERE config_digest = ?1",
                                      d, NULL);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    return recover_tmp(s, rel, name, err);
}

static int
recover(struct berth_store *s, struct berth_error **err)
{
    int r = for_each_entry(s, "tmp", recover_tmp, err);
    if (r == 0)
        r = for_each_entry(s, "layers", recover_layer, err);
    if (r == 0)
        r = for_each_entry(s, "blobs/sha256", recover_blob, err);
    if (r < 0)
        return berth_error_wrap(err, "image store '%s': recover", s->root);
    return 0;
}

int
berth_store_open(const char *data_root, enum berth_driver driver, struct berth_store **ret,
                 struct berth_error **err)
{
    if ((unsigned)driver >= BERTH_ARRAY_SIZE(driver_names))
        return berth_error_setq(err, EINVAL, "unknown storage driver %d", (int)driver);
    struct berth_store *s = calloc(1, sizeof(*s));
    if (!s)
        return berth_error_set(err, ENOMEM, "open image store");
    s->root_fd = s->lock_fd = -1;
    s->driver = driver;
    pthread_mutex_init(&s->lock, NULL);
    int r = 0;
    if (!(s->root = strdup(data_root)))
        r = berth_error_set(err, ENOMEM, "open image store");
    static const char *const dirs[] = {"", "/blobs/sha256", "/layers", "/tmp"};
    for (size_t i = 0; r == 0 && i < BERTH_ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s%s", data_root, dirs[i]) < 0)
            r = berth_error_set(err, ENOMEM, "open image store");
        else
            r = berth_mkdir_p(p, 0700, err);
    }
    if (r == 0) {
        s->root_fd = open(data_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
            r = berth_error_set(err, errno, "open '%s'", data_root);
    }
    if (r == 0) {
        s->lock_fd =
            openat(s->root_fd, "berth.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s->lock_fd < 0)
            r = berth_error_set(err, errno, "open '%s/berth.lock'", data_root);
        else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
            r = errno == EWOULDBLOCK
                    ? berth_error_setq(err, EBUSY, "image store '%s' is in use by another process",
                                       data_root)
                    : berth_error_set(err, errno, "lock '%s/berth.lock'", data_root);
    }
    _cleanup_free_ char *dbpath = NULL;
    if (r == 0 && !(dbpath = store_path(s, "berth.db")))
        r = berth_error_set(err, ENOMEM, "open image store");
    if (r == 0 && sqlite3_open_v2(dbpath, &s->db,
                                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                      SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                                  NULL) != SQLITE_OK) {
        r = s->db ? berth_store_db_error(s, err, "open database")
                  : berth_error_setq(err, ENOMEM, "open image store: sqlite");
    }
    if (r == 0) {
        sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(s->db, 1);
        r = exec_sql(s,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;",
                     err);
    }
    if (r == 0)
        r = migrate(s, err);
    if (r == 0)
        r = recover(s, err);
    if (r < 0) {
        berth_store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

void
berth_store_close(struct berth_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close_v2(s->db);
    if (s->root_fd >= 0)
        close(s->root_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->root);
    free(s);
}

/* ---- blobs ---- */

/* Renames a complete temp file into blobs/ (the caller holds the lock). */
static int
blob_place(struct berth_store *s, const char *tmp_path, const char *digest,
           struct berth_error **err)
{
    _cleanup_free_ char *dst = store_path(s, "blobs/sha256/%s", HEX(digest));
    if (!dst)
        return berth_error_set(err, ENOMEM, "image store");
    if (rename(tmp_path, dst) < 0)
        return berth_error_set(err, errno, "rename blob %s into place", digest);
    return fsync_dir(s, "blobs/sha256", err);
}

static int
blob_tmp(struct berth_store *s, char **ret_path, int *ret_fd, struct berth_error **err)
{
    _cleanup_free_ char *path = store_path(s, "tmp/blob-XXXXXX");
    if (!path)
        return berth_error_set(err, ENOMEM, "image store");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "create '%s'", path);
    *ret_path = TAKE_PTR(path);
    *ret_fd = fd;
    return 0;
}

static void
unlink_freep(char **path)
{
    if (*path) {
        unlink(*path);
        free(*path);
    }
}

static int
blob_finish(struct berth_store *s, int fd, char **tmp_path, const char *digest,
            const char *expected, struct berth_error **err)
{
    if (expected && strcmp(expected, digest) != 0)
        return berth_error_setq(err, EBADMSG, "blob digest mismatch: expected %s, got %s", expected,
                                digest);
    if (fsync(fd) < 0)
        return berth_error_set(err, errno, "fsync blob");
    int r = berth_store_fault_error("store.blob.write", err);
    if (r < 0)
        return r;
    {
        LOCKED(s);
        r = blob_place(s, *tmp_path, digest, err);
    }
    if (r < 0)
        return r;
    free(TAKE_PTR(*tmp_path)); /* it is the blob now */
    return berth_store_fault_error("store.blob.rename", err);
}

int
berth_store_put_blob(struct berth_store *s, int fd, uint64_t max_size, const char *expected,
                     char ret_digest[72], struct berth_error **err)
{
    if (expected && !berth_store_is_sha256(expected))
        return berth_error_setq(err, EINVAL, "unsupported digest \"%s\"", expected);
    _cleanup_(unlink_freep) char *tmp = NULL;
    _cleanup_close_ int out = -1;
    int r = blob_tmp(s, &tmp, &out, err);
    if (r < 0)
        return r;
    struct berth_digester *d = NULL;
    r = berth_digester_new(&d, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = malloc(256 * 1024);
    uint64_t total = 0;
    while (r == 0) {
        if (!buf) {
            r = berth_error_set(err, ENOMEM, "write blob");
            break;
        }
        ssize_t n = read(fd, buf, 256 * 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = berth_error_set(err, errno, "write blob: read");
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > max_size) {
            r = berth_error_setq(err, EFBIG, "write blob: larger than %llu bytes",
                                 (unsigned long long)max_size);
            break;
        }
        berth_digester_update(d, buf, (size_t)n);
        int w = berth_write_all(out, buf, (size_t)n);
        if (w < 0)
            r = berth_error_set(err, -w, "write blob");
    }
    char digest[72];
    berth_digester_final(d, digest);
    berth_digester_free(d);
    if (r < 0)
        return r;
    r = blob_finish(s, out, &tmp, digest, expected, err);
    if (r < 0)
        return r;
    memcpy(ret_digest, digest, sizeof(digest));
    return 0;
}

int
berth_store_put_blob_buffer(struct berth_store *s, const void *data, size_t len,
                            char ret_digest[72], struct berth_error **err)
{
    _cleanup_(unlink_freep) char *tmp = NULL;
    _cleanup_close_ int out = -1;
    int r = blob_tmp(s, &tmp, &out, err);
    if (r < 0)
        return r;
    r = berth_write_all(out, data, len);
    if (r < 0)
        return berth_error_set(err, -r, "write blob");
    char digest[72];
    berth_digest_buffer(data, len, digest);
    r = blob_finish(s, out, &tmp, digest, NULL, err);
    if (r < 0)
        return r;
    memcpy(ret_digest, digest, sizeof(digest));
    return 0;
}

int
berth_store_open_blob(struct berth_store *s, const char *digest, int *ret_fd,
                      struct berth_error **err)
{
    if (!berth_store_is_sha256(digest))
        return berth_error_setq(err, EINVAL, "unsupported digest \"%s\"", digest ? digest : "");
    char rel[100];
    snprintf(rel, sizeof(rel), "blobs/sha256/%s", HEX(digest));
    int fd = openat(s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open blob %s", digest);
    *ret_fd = fd;
    return 0;
}

/* ---- layers ---- */

void
berth_store_chain_id(const char *parent_chain, const char *diff_id, char out[72])
{
    if (!parent_chain) {
        memcpy(out, diff_id, 72);
        return;
    }
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "%s %s", parent_chain, diff_id);
    berth_digest_buffer(buf, (size_t)n, out);
}

static int
layer_exists(struct berth_store *s, const char *chain, struct berth_error **err)
{
    return berth_store_db_exists(s, err, "SELECT 1 FROM layers WHERE chain_id = ?", chain, NULL);
}

/* Moves the unpacked layer and its tar into place and registers it (the caller holds the lock).
 * work: the absolute work directory holding "dir" (-> layers/<chain>) and "layer.tar" (the
 * blob; not with split, where dir holds a sealed tar-split instead). */
static int
layer_commit(struct berth_store *s, const char *work, const char *parent, const char *chain,
             const char *diff, int64_t size, bool split, struct berth_error **err)
{
    char layer_rel[100], blob_rel[100];
    snprintf(layer_rel, sizeof(layer_rel), "layers/%s", HEX(chain));
    snprintf(blob_rel, sizeof(blob_rel), "blobs/sha256/%s", HEX(diff));
    _cleanup_free_ char *work_dir = NULL, *work_tar = NULL;
    if (asprintf(&work_dir, "%s/dir", work) < 0 || asprintf(&work_tar, "%s/layer.tar", work) < 0)
        return berth_error_set(err, ENOMEM, "add layer");
    /* a directory without a row is a leftover of a failed attempt */
    if (faccessat(s->root_fd, layer_rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        discard(s, layer_rel);
    bool blob_existed = split || faccessat(s->root_fd, blob_rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    int r = 0;
    if (!blob_existed)
        r = blob_place(s, work_tar, diff, err);
    if (r == 0)
        r = berth_store_fault_error("store.layer.blob", err);
    bool placed = false;
    if (r == 0) {
        if (renameat(AT_FDCWD, work_dir, s->root_fd, layer_rel) < 0)
            r = berth_error_set(err, errno, "rename layer %s into place", chain);
        else
            placed = true;
    }
    if (r == 0)
        r = fsync_dir(s, "layers", err);
    if (r == 0)
        r = berth_store_fault_error("store.layer.rename", err);
    if (r == 0)
        r = berth_store_db_begin(s, err);
    if (r == 0) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char sz[32];
        snprintf(sz, sizeof(sz), "%lld", (long long)size);
        r = berth_store_db_prep(s, &st, err,
                                "INSERT INTO layers(chain_id, diff_id, parent_chain, size) "
                                "VALUES(?, ?, ?, CAST(? AS INTEGER))",
                                4, chain, diff, parent, sz);
        if (r == 0)
            r = berth_store_db_run(s, st, err);
    }
    if (r == 0)
        r = berth_store_fault_error("store.layer.commit", err);
    if (r == 0)
        r = berth_store_db_commit(s, err);
    if (r < 0) {
        berth_store_db_rollback(s);
        if (placed)
            discard(s, layer_rel);
        if (!blob_existed)
            unlinkat(s->root_fd, blob_rel, 0);
    }
    return r;
}

static int
layer_prepare_vfs(struct berth_store *s, const char *parent, int diff_fd, struct berth_error **err)
{
    char rel[120];
    snprintf(rel, sizeof(rel), "layers/%s/diff", HEX(parent));
    _cleanup_close_ int src = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src < 0)
        return berth_error_set(err, errno, "open parent layer %s", parent);
    int r = berth_layer_copy_tree(src, diff_fd, err);
    if (r < 0)
        return berth_error_wrap(err, "copy parent layer %s", parent);
    return 0;
}

/* Hands a local error over to the caller's err (or frees it). */
static void
pass_error(struct berth_error **err, struct berth_error *local)
{
    if (err && !*err)
        *err = local;
    else
        berth_error_free(local);
}

/* The input read once more, into the blob, when its tar-split could not be sealed. */
static int
layer_ingest_again(const struct berth_layer_input *in, int tar, const char *diff,
                   struct berth_error **err)
{
    struct berth_layer_input again = *in;
    again.progress = NULL;
    char diff2[72];
    int r = berth_layer_ingest_input(&again, tar, NULL, -1, 0, diff2, NULL, err);
    if (r < 0)
        return r;
    if (strcmp(diff, diff2) != 0)
        return berth_error_setq(err, EIO, "the layer changed while it was read (%s, then %s)", diff,
                                diff2);
    return 0;
}

/* A range of a file that holds a plain tar (no compression magic at its start): the unpack
 * child can read it itself. */
static bool
plain_tar_range(const struct berth_layer_input *in)
{
    unsigned char m[6];
    if (in->length < (int64_t)sizeof(m) ||
        pread(in->fd, m, sizeof(m), in->offset) != (ssize_t)sizeof(m))
        return false;
    static const unsigned char gz[] = {0x1f, 0x8b}, zst[] = {0x28, 0xb5, 0x2f, 0xfd},
                               xz[] = {0xfd, '7', 'z', 'X', 'Z', 0}, bz[] = {'B', 'Z', 'h'};
    return memcmp(m, gz, sizeof(gz)) && memcmp(m, zst, sizeof(zst)) && memcmp(m, xz, sizeof(xz)) &&
           memcmp(m, bz, sizeof(bz)) && m[0] != 0x5d /* lzma */;
}

/* Unpacks the input in the unpack child while this thread hashes it: the child reads a plain
 * tar range itself, anything else through a pipe from here. With split, a tar-split is made
 * beside the files instead of the blob (dir/tar-split): *split stays true when it could be
 * sealed, else the input (a range, not discarded yet) is read again into the blob. */
static int
layer_stream_unpack(struct berth_store *s, const struct berth_layer_input *in,
                    const char *diff_path, int work_fd, int tar, bool *split, char diff[72],
                    int64_t *ret_size, struct berth_error **err)
{
    _cleanup_close_ int split_fd = -1, list_fd = -1;
    struct berth_tar_split *ts = NULL;
    struct berth_layer_input first = *in;
    if (*split) {
        split_fd = openat(work_fd, "dir/tar-split", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        list_fd = memfd_create("berth-unpack-list", MFD_CLOEXEC);
        if (split_fd < 0 || list_fd < 0 || berth_tar_split_new(split_fd, &ts, NULL) < 0) {
            *split = false; /* the blob, as without */
            if (split_fd >= 0)
                (void)unlinkat(work_fd, "dir/tar-split", 0);
        } else {
            first.discard = false; /* the range may be needed again */
        }
    }
    struct berth_layer_unpacker *u = NULL;
    int pipe_fd = -1, r;
    /* without /proc the range cannot be reopened for the child: the pipe then */
    bool direct = plain_tar_range(in) &&
                  berth_layer_unpack_start_range(diff_path, s->driver, *split ? list_fd : -1,
                                                 in->fd, in->offset, in->length, &u, NULL) == 0;
    if (direct) {
        first.discard = false; /* the child reads the range too */
    } else if ((r = berth_layer_unpack_start(diff_path, s->driver, *split ? list_fd : -1, &pipe_fd,
                                             &u, err)) < 0) {
        berth_tar_split_free(ts);
        return r;
    }
    struct berth_error *ingest_err = NULL;
    int ri = berth_layer_ingest_input(&first, *split ? -1 : tar, ts, pipe_fd, 0, diff, NULL,
                                      &ingest_err);
    if (pipe_fd >= 0)
        close(pipe_fd); /* the end of the tar for the child */
    struct berth_error *unpack_err = NULL;
    int ru = berth_layer_unpack_finish(u, ret_size, &unpack_err);
    /* a broken input is the cause; the child only saw it end early */
    if (ri < 0) {
        berth_error_free(unpack_err);
        berth_tar_split_free(ts);
        pass_error(err, ingest_err);
        return ri;
    }
    if (ru < 0) {
        berth_tar_split_free(ts);
        pass_error(err, unpack_err);
        return ru;
    }
    if (*split) {
        bool sealed = false;
        r = berth_tar_split_seal(ts, list_fd, &sealed, err);
        berth_tar_split_free(ts);
        if (r < 0)
            return r;
        if (!sealed) {
            *split = false;
            if (unlinkat(work_fd, "dir/tar-split", 0) < 0)
                return berth_error_set(err, errno, "remove the tar-split");
            if ((r = layer_ingest_again(in, tar, diff, err)) < 0)
                return r;
        }
    }
    if (!first.discard && in->discard && in->length > 0) {
        /* read for the last time: nothing of it needs writing back */
        (void)fallocate(in->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, in->offset, in->length);
    }
    r = berth_store_fault_error("store.layer.ingest", err);
    return r < 0 ? r : berth_store_fault_error("store.layer.unpack", err);
}

/* Decompresses the input into work/layer.tar (hashing it) and unpacks it into work/dir/diff:
 * streamed through the unpack child's pipe, or (vfs with a parent) from the file afterwards.
 * *split (in: wanted; out: made): a tar-split replaces the blob (see layer_stream_unpack). */
static int
layer_ingest_unpack(struct berth_store *s, const char *parent_chain,
                    const struct berth_layer_input *in, const char *work, int work_fd, int tar,
                    bool *split, char diff[72], int64_t *ret_size, struct berth_error **err)
{
    if (mkdirat(work_fd, "dir", 0700) < 0 || mkdirat(work_fd, "dir/diff", 0755) < 0)
        return berth_error_set(err, errno, "mkdir");
    _cleanup_free_ char *diff_path = NULL;
    if (asprintf(&diff_path, "%s/dir/diff", work) < 0)
        return berth_error_set(err, ENOMEM, "add layer");
    int r;
    if (s->driver == BERTH_DRIVER_OVERLAY2 || !parent_chain)
        return layer_stream_unpack(s, in, diff_path, work_fd, tar, split, diff, ret_size, err);
    *split = false; /* the two passes read the blob */
    if ((r = berth_layer_ingest_input(in, tar, NULL, -1, 0, diff, NULL, err)) < 0)
        return r;
    if ((r = berth_store_fault_error("store.layer.ingest", err)) < 0)
        return r;
    _cleanup_close_ int diff_fd = openat(work_fd, "dir/diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (diff_fd < 0)
        return berth_error_set(err, errno, "open diff");
    if ((r = layer_prepare_vfs(s, parent_chain, diff_fd, err)) < 0)
        return r;
    if ((r = berth_layer_unpack(tar, diff_path, s->driver, ret_size, err)) < 0)
        return r;
    return berth_store_fault_error("store.layer.unpack", err);
}

int
berth_store_add_layer_input(struct berth_store *s, const char *parent_chain,
                            const struct berth_layer_input *in, const char *expected_diff,
                            char ret_chain_id[72], char ret_diff_id[72], struct berth_error **err)
{
    int r;
    char diff[72], chain[72];
    if (expected_diff && !berth_store_is_sha256(expected_diff))
        return berth_error_setq(err, EINVAL, "invalid diff ID \"%s\"", expected_diff);
    if (parent_chain && !berth_store_is_sha256(parent_chain))
        return berth_error_setq(err, EINVAL, "invalid layer chain ID \"%s\"", parent_chain);
    {
        LOCKED(s);
        if (parent_chain) {
            r = layer_exists(s, parent_chain, err);
            if (r == 0)
                r = berth_error_setq(err, ENOENT, "No such layer: %s", parent_chain);
            if (r < 0)
                return r;
        }
        if (expected_diff) {
            berth_store_chain_id(parent_chain, expected_diff, chain);
            if ((r = layer_exists(s, chain, err)) < 0)
                return r;
            if (r == 1) {
                /* nothing to read: the progress shows it done, as docker's does */
                if (in->progress && in->length >= 0)
                    in->progress(in->cls, in->length, in->length);
                memcpy(ret_chain_id, chain, 72);
                memcpy(ret_diff_id, expected_diff, 72);
                return 0;
            }
        }
    }
    _cleanup_rm_rf_ char *work = NULL;
    r = berth_store_work_dir(s, "layer", &work, err);
    if (r < 0)
        return r;
    _cleanup_close_ int work_fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (work_fd < 0)
        return berth_error_set(err, errno, "open '%s'", work);
    _cleanup_close_ int tar =
        openat(work_fd, "layer.tar", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (tar < 0)
        return berth_error_set(err, errno, "create '%s/layer.tar'", work);
    /* A range of a file can be read again: the layer then keeps a tar-split instead of a copy
     * of its tar (tar_split.h), falling back to the copy when the split does not hold. */
    struct berth_layer_input range = *in;
    struct stat st;
    if (range.length < 0 && fstat(range.fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t at = lseek(range.fd, 0, SEEK_CUR);
        if (at >= 0 && at <= st.st_size) {
            range.offset = at;
            range.length = st.st_size - at;
        }
    }
    bool split = range.length >= 0 && !getenv("BERTH_NO_TAR_SPLIT");
    int64_t size = 0;
    r = layer_ingest_unpack(s, parent_chain, &range, work, work_fd, tar, &split, diff, &size, err);
    if (r < 0)
        return berth_error_wrap(err, "add layer");
    if (expected_diff && strcmp(expected_diff, diff) != 0)
        return berth_error_setq(err, EBADMSG,
                                "add layer: the layer's diff ID is %s, the image config says %s",
                                diff, expected_diff);
    berth_store_chain_id(parent_chain, diff, chain);
    {
        LOCKED(s);
        r = layer_exists(s, chain, err);
    }
    if (r != 0) {
        if (r < 0)
            return r;
        memcpy(ret_chain_id, chain, 72);
        memcpy(ret_diff_id, diff, 72);
        return 0;
    }
    /* Durability before the commit: the blob and the layer's files, with one syncfs (an fsync
     * per file would cost a journal commit each). Whatever else is dirty on this filesystem is
     * flushed too; the load path punches its spooled body out as it reads it so that nothing
     * temporary is written back here. Writeback of the blob was started while it was written. */
    if (syncfs(work_fd) < 0)
        return berth_error_set(err, errno, "add layer: sync");
    LOCKED(s);
    r = layer_exists(s, chain, err); /* already there, or another thread won the race */
    if (r == 0)
        r = layer_commit(s, work, parent_chain, chain, diff, size, split, err);
    if (r < 0)
        return berth_error_wrap(err, "add layer %s", chain);
    r = berth_store_fault_error("store.layer.done", err);
    if (r < 0)
        return r;
    memcpy(ret_chain_id, chain, 72);
    memcpy(ret_diff_id, diff, 72);
    return 0;
}

int
berth_store_add_layer(struct berth_store *s, const char *parent_chain, int tar_fd,
                      char ret_chain_id[72], char ret_diff_id[72], struct berth_error **err)
{
    struct berth_layer_input in = {.fd = tar_fd, .length = -1};
    return berth_store_add_layer_input(s, parent_chain, &in, NULL, ret_chain_id, ret_diff_id, err);
}

int
berth_store_layer_path(struct berth_store *s, const char *chain_id, char **ret,
                       struct berth_error **err)
{
    if (!berth_store_is_sha256(chain_id))
        return berth_error_setq(err, EINVAL, "invalid layer chain ID \"%s\"",
                                chain_id ? chain_id : "");
    int r;
    {
        LOCKED(s);
        r = layer_exists(s, chain_id, err);
    }
    if (r == 0)
        return berth_error_setq(err, ENOENT, "No such layer: %s", chain_id);
    if (r < 0)
        return r;
    char *p = store_path(s, "layers/%s/diff", HEX(chain_id));
    if (!p)
        return berth_error_set(err, ENOMEM, "layer path");
    *ret = p;
    return 0;
}

/* A layer's tar for save: the blob of its diff ID, else the layer's tar-split. */
struct layer_tar {
    int blob_fd, split_fd, diff_fd;
};

static void
layer_tar_close(struct layer_tar *t)
{
    berth_closep(&t->blob_fd);
    berth_closep(&t->split_fd);
    berth_closep(&t->diff_fd);
}

static int
layer_tar_open(struct berth_store *s, const char *chain_id, const char *diff_id,
               struct layer_tar *t, struct berth_error **err)
{
    *t = (struct layer_tar){-1, -1, -1};
    if (!berth_store_is_sha256(chain_id) || !berth_store_is_sha256(diff_id))
        return berth_error_setq(err, EINVAL, "invalid layer ID");
    char rel[120];
    snprintf(rel, sizeof(rel), "blobs/sha256/%s", HEX(diff_id));
    t->blob_fd = openat(s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (t->blob_fd >= 0)
        return 0;
    if (errno != ENOENT)
        return berth_error_set(err, errno, "open blob %s", diff_id);
    snprintf(rel, sizeof(rel), "layers/%s/tar-split", HEX(chain_id));
    t->split_fd = openat(s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    snprintf(rel, sizeof(rel), "layers/%s/diff", HEX(chain_id));
    t->diff_fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (t->split_fd < 0 || t->diff_fd < 0) {
        int r =
            berth_error_set(err, errno, "layer %s: neither its tar nor its tar-split", chain_id);
        layer_tar_close(t);
        return r;
    }
    return 0;
}

int
berth_store_layer_tar_size(struct berth_store *s, const char *chain_id, const char *diff_id,
                           uint64_t *ret_size, struct berth_error **err)
{
    struct layer_tar t;
    int r = layer_tar_open(s, chain_id, diff_id, &t, err);
    if (r < 0)
        return r;
    struct stat st;
    if (t.blob_fd >= 0) {
        if (fstat(t.blob_fd, &st) < 0)
            r = berth_error_set(err, errno, "blob %s", diff_id);
        else
            *ret_size = (uint64_t)st.st_size;
    } else {
        r = berth_tar_split_size(t.split_fd, ret_size, err);
    }
    layer_tar_close(&t);
    return r < 0 ? berth_error_wrap(err, "layer %s", chain_id) : 0;
}

int
berth_store_layer_tar_write(struct berth_store *s, const char *chain_id, const char *diff_id,
                            int (*emit)(void *cls, const void *buf, size_t len), void *cls,
                            struct berth_error **err)
{
    struct layer_tar t;
    int r = layer_tar_open(s, chain_id, diff_id, &t, err);
    if (r < 0)
        return r;
    if (t.split_fd >= 0) {
        r = berth_tar_split_rebuild(t.split_fd, t.diff_fd, emit, cls, err);
    } else {
        _cleanup_free_ char *buf = malloc(1 << 16);
        ssize_t n = 0;
        if (!buf)
            r = berth_error_set(err, ENOMEM, "read blob");
        while (r == 0 && (n = read(t.blob_fd, buf, 1 << 16)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                r = berth_error_set(err, errno, "read blob %s", diff_id);
            else if ((r = emit(cls, buf, (size_t)n)) < 0)
                r = berth_error_set(err, -r, "layer tar");
        }
    }
    layer_tar_close(&t);
    return r < 0 ? berth_error_wrap(err, "layer %s", chain_id) : 0;
}
