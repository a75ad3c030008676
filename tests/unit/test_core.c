/* Unit tests of lib/core: the error object (error.c) and the small helpers (util.c): whole-file
 * reads with a size bound, atomic writes, mkdir -p, rm -rf that neither follows symlinks nor
 * crosses mount points, number and size parsing, string vectors, timestamps and process start
 * times. Runs as root on real files under a mkdtemp directory, removed at the end; the mount
 * test runs in a private mount namespace. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/util.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-core-XXXXXX";

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ---- error.c ---- */

static void
test_error(void)
{
    struct berth_error *e = NULL;
    int r = berth_error_set(&e, ENOENT, "open '%s'", "config.json");
    check(r == -ENOENT, "set returns -errno");
    ok(e && e->code == ENOENT, "set records the errno");
    check(msg_is(e, "open 'config.json': No such file or directory"), "set appends strerror");
    check(berth_error_code(e) == -ENOENT, "code maps to -errno");

    /* the first (deepest) cause wins */
    r = berth_error_set(&e, EACCES, "outer %d", 1);
    check(r == -ENOENT, "a second set returns the first cause's code");
    check(msg_is(e, "open 'config.json': No such file or directory"),
          "a second set keeps the message");
    r = berth_error_setq(&e, EPERM, "another");
    check(r == -ENOENT && e->code == ENOENT, "a second setq keeps the first cause too");

    r = berth_error_wrap(&e, "create %s", "abc");
    check(r == -ENOENT, "wrap returns the code");
    check(msg_is(e, "create abc: open 'config.json': No such file or directory"),
          "wrap prefixes context");
    r = berth_error_wrap(&e, "runtime");
    check(msg_is(e, "runtime: create abc: open 'config.json': No such file or directory"),
          "wraps nest outermost first");
    ok(e->code == ENOENT, "wrap keeps the code");
    berth_error_freep(&e);
    ok(e == NULL, "freep clears the pointer");

    r = berth_error_setq(&e, ENOENT, "container \"%s\" does not exist", "x");
    check(r == -ENOENT, "setq returns -errno");
    check(msg_is(e, "container \"x\" does not exist"), "setq does not append strerror");
    berth_error_freep(&e);

    r = berth_error_set(&e, 0, "bad value %s", "v");
    check(r == -EINVAL, "errnum 0 maps to -EINVAL");
    ok(e && e->code == EINVAL, "errnum 0 records EINVAL");
    check(msg_is(e, "bad value v"), "errnum 0: no strerror appended");
    berth_error_freep(&e);

    r = berth_error_set(&e, -5, "negative");
    check(r == -EINVAL && e && e->code == EINVAL, "a negative errnum maps to EINVAL");
    berth_error_freep(&e);

    /* callers that do not want the error pass NULL */
    check(berth_error_set(NULL, EACCES, "x %s", "y") == -EACCES, "set with NULL err: -errno");
    check(berth_error_setq(NULL, 0, "x") == -EINVAL, "setq with NULL err, errnum 0: -EINVAL");
    check(berth_error_wrap(NULL, "ctx") == -EINVAL, "wrap with NULL err: -EINVAL");
    check(berth_error_wrap(&e, "ctx") == -EINVAL && e == NULL,
          "wrap of no error: -EINVAL, no error made");
    check(berth_error_code(NULL) == -EINVAL, "code of no error: -EINVAL");
    berth_error_free(NULL);
    berth_error_freep(&e);
    ok(true, "free and freep accept NULL");

    /* long messages are kept whole */
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    r = berth_error_setq(&e, E2BIG, "%s", big);
    check(e && strlen(e->msg) == sizeof(big) - 1, "a 4999-byte message is kept whole");
    berth_error_freep(&e);

    {
        _cleanup_error_ struct berth_error *scoped = NULL;
        berth_error_set(&scoped, EIO, "scoped");
        check(msg_is(scoped, "scoped: Input/output error"), "_cleanup_error_ variable");
    }
}

/* ---- read_file ---- */

static void
test_read_file(void)
{
    _cleanup_free_ char *small = pathf("small"), *big = pathf("big"), *empty = pathf("empty"),
                        *exact = pathf("exact"), *missing = pathf("missing");
    struct berth_error *e = NULL;
    char *text = NULL;
    size_t len = 99;

    put_data(small, "hello\nworld", 11);
    int r = berth_read_file(small, 1 << 20, &text, &len, &e);
    check(r == 0 && len == 11 && text && !strcmp(text, "hello\nworld"), "read a small file");
    free(text), text = NULL;

    /* larger than the first buffer: the growth path */
    char *content = malloc(100000);
    for (size_t i = 0; i < 100000; i++)
        content[i] = (char)('a' + i % 26);
    put_data(big, content, 100000);
    r = berth_read_file(big, 1 << 20, &text, &len, &e);
    check(r == 0 && len == 100000 && text && !memcmp(text, content, 100000) && text[100000] == '\0',
          "a 100000-byte file is read whole and NUL-terminated");
    free(text), text = NULL;

    r = berth_read_file(big, 50000, &text, &len, &e);
    check(r == -EFBIG && e && e->code == EFBIG && !text, "a file above max_size gives EFBIG");
    check(msg_has(e, "larger than 50000 bytes"), "EFBIG message names the bound");
    berth_error_freep(&e);

    r = berth_read_file(big, 99999, &text, &len, &e);
    check(r == -EFBIG, "max_size one below the file size gives EFBIG");
    berth_error_freep(&e);

    /* exactly max_size bytes: "at most max_size" */
    put_data(exact, content, 8192);
    r = berth_read_file(exact, 8192, &text, &len, &e);
    check(r == 0 && len == 8192, "a file of exactly max_size bytes is read");
    if (r < 0)
        printf("#   got: %s\n", e ? e->msg : "?");
    berth_error_freep(&e);
    free(text), text = NULL;

    /* a bound smaller than the first buffer */
    r = berth_read_file(big, 10, &text, &len, &e);
    check(r == -EFBIG, "max_size 10 refuses a 100000-byte file");
    berth_error_freep(&e);
    free(text), text = NULL;
    r = berth_read_file(small, 10, &text, &len, &e);
    check(r == -EFBIG, "max_size 10 refuses an 11-byte file");
    if (r == 0)
        printf("#   read %zu bytes with max_size 10\n", len);
    berth_error_freep(&e);
    free(text), text = NULL;
    free(content);

    put_data(empty, "", 0);
    r = berth_read_file(empty, 16, &text, &len, &e);
    check(r == 0 && len == 0 && text && text[0] == '\0', "an empty file reads as \"\"");
    free(text), text = NULL;

    r = berth_read_file(small, 1024, &text, NULL, &e);
    check(r == 0 && text && !strcmp(text, "hello\nworld"), "ret_len may be NULL");
    free(text), text = NULL;

    r = berth_read_file(missing, 1024, &text, &len, &e);
    check(r == -ENOENT && !text, "missing file: -ENOENT, nothing returned");
    _cleanup_free_ char *want = NULL;
    if (asprintf(&want, "open '%s': No such file or directory", missing) < 0)
        abort();
    check(msg_is(e, want), "missing file message names the path and the cause");
    berth_error_freep(&e);

    _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r = berth_read_file_at(dfd, "small", 1024, &text, &len, &e);
    check(r == 0 && len == 11, "read_file_at relative to a directory fd");
    free(text), text = NULL;

    r = berth_read_file(tmp, 1024, &text, &len, &e);
    check(r == -EISDIR, "reading a directory fails with EISDIR");
    berth_error_freep(&e);
}

/* ---- write_file / write_file_atomic ---- */

static void
test_write_file(void)
{
    _cleanup_free_ char *dir = pathf("w"), *f = pathf("w/state.json"), *outside = pathf("outside"),
                        *link = pathf("w/link"), *knob = pathf("w/knob");
    struct berth_error *e = NULL;
    char *text = NULL;
    mkdir(dir, 0755);
    mode_t old = umask(022);

    int r = berth_write_file_atomic(f, "{\"a\":1}", 7, 0600, &e);
    struct stat st;
    check(r == 0 && stat(f, &st) == 0, "atomic write creates the file");
    ok((st.st_mode & 07777) == 0600, "mode 0600 as asked");
    check(berth_read_file(f, 1024, &text, NULL, NULL) == 0 && !strcmp(text, "{\"a\":1}"),
          "content as written");
    free(text), text = NULL;
    check(count_entries(dir) == 1, "no temporary file left behind");

    r = berth_write_file_atomic(f, "second", 6, 0640, &e);
    check(r == 0 && stat(f, &st) == 0 && (st.st_mode & 07777) == 0640, "overwrite, mode 0640");
    check(berth_read_file(f, 1024, &text, NULL, NULL) == 0 && !strcmp(text, "second"),
          "overwrite replaces the whole content");
    free(text), text = NULL;
    check(count_entries(dir) == 1, "still no temporary file after an overwrite");

    r = berth_write_file_atomic(f, "", 0, 0600, &e);
    check(r == 0 && stat(f, &st) == 0 && st.st_size == 0, "an empty write gives an empty file");

    /* a symlink at the target is replaced, its target untouched */
    put_data(outside, "keep", 4);
    symlink(outside, link);
    r = berth_write_file_atomic(link, "new", 3, 0600, &e);
    check(r == 0 && lstat(link, &st) == 0 && S_ISREG(st.st_mode),
          "a symlink at the path is replaced");
    check(berth_read_file(outside, 1024, &text, NULL, NULL) == 0 && !strcmp(text, "keep"),
          "the symlink's target is untouched");
    free(text), text = NULL;

    _cleanup_free_ char *nodir = pathf("no/such/dir/file");
    r = berth_write_file_atomic(nodir, "x", 1, 0600, &e);
    check(r == -ENOENT && e && e->code == ENOENT, "atomic write into a missing directory: ENOENT");
    check(msg_has(e, "No such file or directory"), "with strerror");
    check(!exists(nodir), "nothing created");
    berth_error_freep(&e);

    /* write_file writes into an existing file and never creates one */
    put_data(knob, "", 0);
    r = berth_write_file(knob, "max", 3, &e);
    check(r == 0 && berth_read_file(knob, 16, &text, NULL, NULL) == 0 && !strcmp(text, "max"),
          "write_file writes an existing file");
    free(text), text = NULL;
    _cleanup_free_ char *noknob = pathf("w/noknob");
    r = berth_write_file(noknob, "x", 1, &e);
    check(r == -ENOENT && !exists(noknob), "write_file does not create a missing file");
    berth_error_freep(&e);

    /* the fsync-less variant for tmpfs state: same replace semantics */
    _cleanup_free_ char *rep = pathf("w/replaced");
    r = berth_write_file_replace(rep, "one", 3, 0600, &e);
    check(r == 0 && berth_read_file(rep, 16, &text, NULL, NULL) == 0 && !strcmp(text, "one"),
          "write_file_replace writes the content");
    free(text), text = NULL;
    r = berth_write_file_replace(rep, "two!", 4, 0644, &e);
    check(r == 0 && stat(rep, &st) == 0 && (st.st_mode & 07777) == 0644 &&
              berth_read_file(rep, 16, &text, NULL, NULL) == 0 && !strcmp(text, "two!"),
          "write_file_replace replaces content and mode");
    free(text), text = NULL;
    check(count_entries(dir) == 4, "no temporary file left by write_file_replace");
    _cleanup_free_ char *repmissing = pathf("no/such/replaced");
    check(berth_write_file_replace(repmissing, "x", 1, 0600, &e) == -ENOENT,
          "write_file_replace into a missing directory: ENOENT");
    berth_error_freep(&e);
    umask(old);
}

/* ---- mkdir_p ---- */

static bool
is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
test_mkdir_p(void)
{
    _cleanup_free_ char *deep = pathf("m/a/b/c/d"), *slash = pathf("m/s/t/"),
                        *file = pathf("m/file"), *under = pathf("m/file/x");
    struct berth_error *e = NULL;
    check(berth_mkdir_p(deep, 0755, &e) == 0 && is_dir(deep), "mkdir -p of four new levels");
    check(berth_mkdir_p(deep, 0755, &e) == 0, "mkdir -p of an existing tree is fine");
    check(berth_mkdir_p(slash, 0755, &e) == 0 && is_dir(slash), "a trailing slash is fine");
    _cleanup_free_ char *dots = pathf("m/a/./b/../x");
    _cleanup_free_ char *dotsx = pathf("m/a/x");
    check(berth_mkdir_p(dots, 0755, &e) == 0 && is_dir(dotsx), "'.' and '..' components");

    put_data(file, "", 0);
    int r = berth_mkdir_p(under, 0755, &e);
    check(r == -ENOTDIR, "a regular file in the way: ENOTDIR");
    check(msg_has(e, "Not a directory"), "message has the cause");
    berth_error_freep(&e);

    _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *rel = pathf("m/rel/one/two");
    check(berth_mkdir_p_at(dfd, "m/rel/one/two", 0700, &e) == 0 && is_dir(rel),
          "mkdir_p_at relative");
    struct stat st;
    check(stat(rel, &st) == 0 && (st.st_mode & 0777) == 0700, "mode applied");
}

/* ---- rm_rf ---- */

static void
test_rm_rf(void)
{
    _cleanup_free_ char *tree = pathf("tree"), *keep_dir = pathf("keep"),
                        *keep_file = pathf("keep/precious"), *keep_file2 = pathf("keep2");
    struct berth_error *e = NULL;

    mkdir(keep_dir, 0755);
    put_data(keep_file, "gold", 4);
    put_data(keep_file2, "silver", 6);

    _cleanup_free_ char *a = pathf("tree/a/b/c"), *f1 = pathf("tree/a/f"),
                        *f2 = pathf("tree/a/b/c/g"), *l1 = pathf("tree/link-dir"),
                        *l2 = pathf("tree/a/link-file"), *l3 = pathf("tree/a/b/dotdot"),
                        *l4 = pathf("tree/loop"), *fifo = pathf("tree/a/fifo"),
                        *ro = pathf("tree/ro");
    berth_mkdir_p(a, 0755, NULL);
    put_data(f1, "x", 1);
    put_data(f2, "y", 1);
    symlink(keep_dir, l1);      /* absolute, to a directory outside */
    symlink("../../keep2", l2); /* relative, to a file outside */
    symlink("../../..", l3);    /* to the tree's parent */
    symlink("loop", l4);        /* to itself */
    mkfifo(fifo, 0600);
    mkdir(ro, 0500); /* no write permission: root removes it anyway */

    int r = berth_rm_rf(tree, &e);
    check(r == 0, "rm -rf of a tree with symlinks, a fifo and a read-only dir");
    if (r < 0)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);
    ok(!exists(tree), "the tree is gone");
    ok(exists(keep_file), "a directory reached through an absolute symlink survives");
    ok(exists(keep_file2), "a file reached through a relative symlink survives");
    ok(exists(keep_dir), "the parent reached through '../../..' survives");

    check(berth_rm_rf(tree, &e) == 0, "rm -rf of a missing path is fine");

    /* the path itself a symlink: the link goes, the target stays */
    _cleanup_free_ char *top = pathf("toplink");
    symlink(keep_dir, top);
    check(berth_rm_rf(top, &e) == 0 && !exists(top) && exists(keep_file),
          "rm -rf of a symlink removes the link only");

    _cleanup_free_ char *plain = pathf("plainfile");
    put_data(plain, "z", 1);
    check(berth_rm_rf(plain, &e) == 0 && !exists(plain), "rm -rf of a regular file");

    /* a mount point inside: refused, the mounted content survives */
    _cleanup_free_ char *mtree = pathf("mtree"), *mnt = pathf("mtree/x/mnt"),
                        *inside = pathf("mtree/x/mnt/data"), *other = pathf("mtree/y");
    berth_mkdir_p(mnt, 0755, NULL);
    mkdir(other, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0) {
        ok(false, "mount tmpfs: %s", strerror(errno));
        return;
    }
    put_data(inside, "mounted", 7);
    r = berth_rm_rf(mtree, &e);
    check(r == -EBUSY && e && e->code == EBUSY, "rm -rf refuses to cross a mount point: EBUSY");
    check(msg_has(e, "mount point"), "message says why");
    berth_error_freep(&e);
    char *text = NULL;
    check(berth_read_file(inside, 64, &text, NULL, NULL) == 0 && !strcmp(text, "mounted"),
          "the tmpfs content survives");
    free(text);
    ok(exists(mnt), "the mount point is still there");
    umount2(mnt, MNT_DETACH);
    check(berth_rm_rf(mtree, &e) == 0 && !exists(mtree), "after the unmount the tree goes");
    berth_error_freep(&e);
}

/* ---- numbers ---- */

static void
test_parse(void)
{
    int64_t i = 7;
    uint64_t u = 7;
    check(berth_parse_i64("0", &i) && i == 0, "i64 0");
    check(berth_parse_i64("-1", &i) && i == -1, "i64 -1");
    check(berth_parse_i64("9223372036854775807", &i) && i == INT64_MAX, "i64 max");
    check(berth_parse_i64("-9223372036854775808", &i) && i == INT64_MIN, "i64 min");
    i = 7;
    check(!berth_parse_i64("9223372036854775808", &i) && i == 7, "i64 overflow refused, untouched");
    check(!berth_parse_i64("-9223372036854775809", &i), "i64 underflow refused");
    const char *junk[] = {"",    " 1",  "1 ",  "12a", "a12", "0x10",
                          "1.5", "--1", "1e3", "\t5", "+",   "-"};
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(junk); k++)
        check(!berth_parse_i64(junk[k], &i), "i64 refuses '%s'", junk[k]);
    check(!berth_parse_i64(NULL, &i), "i64 refuses NULL");

    check(berth_parse_u64("0", &u) && u == 0, "u64 0");
    check(berth_parse_u64("18446744073709551615", &u) && u == UINT64_MAX, "u64 max");
    check(!berth_parse_u64("18446744073709551616", &u), "u64 overflow refused");
    check(!berth_parse_u64("-1", &u), "u64 refuses -1");
    check(!berth_parse_u64(" -1", &u), "u64 refuses ' -1'");
    check(!berth_parse_u64("12a", &u), "u64 refuses junk");
    check(!berth_parse_u64("", &u), "u64 refuses empty");
    check(!berth_parse_u64(NULL, &u), "u64 refuses NULL");

    struct {
        const char *s;
        int64_t v;
    } sizes[] = {
        {"0", 0},
        {"1024", 1024},
        {"512k", 512 * 1024},
        {"64m", 64LL << 20},
        {"64M", 64LL << 20},
        {"1g", 1LL << 30},
        {"1G", 1LL << 30},
        {"2t", 2LL << 40},
        {"1.5k", 1536},
        {"1kb", 1024},
        {"1KB", 1024},
        {"100b", 100},
        {"0.5m", 512 * 1024},
    };
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(sizes); k++) {
        int64_t v = -7;
        bool good = berth_parse_size(sizes[k].s, &v);
        ok(good && v == sizes[k].v, "size '%s' = %lld", sizes[k].s, (long long)sizes[k].v);
        if (!good || v != sizes[k].v)
            printf("#   got %s %lld\n", good ? "true" : "false", (long long)v);
    }
    const char *bad_sizes[] = {"-1", "", "abc", "1x", "1kk", "k", "1 k", "1kbb", "-1k",
                               /* 2^63: does not fit an int64 */
                               "8388608t", "9223372036854775808", "1e30", "100000000000t",
                               /* leading blanks then a sign; not a number */
                               " -1", "\t-5m", "nan", "inf"};
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(bad_sizes); k++) {
        int64_t v = -7;
        bool good = berth_parse_size(bad_sizes[k], &v);
        ok(!good, "size refuses '%s'", bad_sizes[k]);
        if (good)
            printf("#   accepted as %lld\n", (long long)v);
    }
    check(!berth_parse_size(NULL, &i), "size refuses NULL");
}

/* ---- strings ---- */

static void
test_strv(void)
{
    char **v = NULL;
    ok(berth_strv_len(NULL) == 0, "strv_len(NULL) = 0");
    _cleanup_free_ char *j0 = berth_strv_join(NULL, ",");
    is_str(j0, "", "join of NULL is \"\"");
    check(berth_strv_push(&v, "a") == 0 && v && berth_strv_len(v) == 1 && v[1] == NULL,
          "push onto NULL makes a 1-vector");
    _cleanup_free_ char *j1 = berth_strv_join(v, ", ");
    is_str(j1, "a", "join of one element has no separator");
    char buf[] = "bee";
    check(berth_strv_push(&v, buf) == 0 && berth_strv_push(&v, "") == 0 && berth_strv_len(v) == 3,
          "push copies; empty strings count");
    buf[0] = 'X';
    is_str(v[1], "bee", "the pushed string is a copy");
    _cleanup_free_ char *j3 = berth_strv_join(v, ", ");
    is_str(j3, "a, bee, ", "join with a multi-byte separator");
    _cleanup_free_ char *j4 = berth_strv_join(v, "");
    is_str(j4, "abee", "join with an empty separator");
    berth_strv_free(v);
    berth_strv_free(NULL);

    ok(berth_str_has_prefix("/sys/fs/cgroup/x", "/sys/fs/cgroup/"), "has_prefix");
    ok(!berth_str_has_prefix("/sys", "/sys/fs"), "has_prefix: longer prefix");
    ok(berth_str_has_prefix("abc", ""), "has_prefix: empty prefix");
    ok(berth_str_has_suffix("file.json", ".json"), "has_suffix");
    ok(!berth_str_has_suffix("json", ".json"), "has_suffix: longer suffix");
    ok(berth_str_has_suffix("abc", ""), "has_suffix: empty suffix");
}

static void
test_time(void)
{
    char buf[64];
    berth_format_time(&(struct timespec){0, 0}, buf, sizeof(buf));
    is_str(buf, "1970-01-01T00:00:00.000000000Z", "epoch");
    berth_format_time(&(struct timespec){1700000000, 123}, buf, sizeof(buf));
    is_str(buf, "2023-11-14T22:13:20.000000123Z", "nanoseconds zero-padded to 9 digits");
    berth_format_time(&(struct timespec){951782400 + 86399, 999999999}, buf, sizeof(buf));
    is_str(buf, "2000-02-29T23:59:59.999999999Z", "leap day, last nanosecond");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    berth_format_time(&now, buf, sizeof(buf));
    ok(strlen(buf) == 30 && buf[10] == 'T' && buf[19] == '.' && buf[29] == 'Z',
       "now has the RFC 3339 shape: %s", buf);
    char small[12];
    memset(small, 'Q', sizeof(small));
    berth_format_time(&now, small, sizeof(small));
    ok(small[sizeof(small) - 1] == '\0' && strlen(small) == sizeof(small) - 1,
       "a short buffer is truncated and terminated");
}

static void
test_proc_start_time(void)
{
    uint64_t self = berth_proc_start_time(getpid());
    ok(self != 0, "own start time is non-zero (%llu)", (unsigned long long)self);
    check(berth_proc_start_time(getpid()) == self, "stable across calls");

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        abort();
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        /* a comm with spaces and parentheses: fields are found after the last ')' */
        prctl(PR_SET_NAME, "a) b (c) d", 0, 0, 0);
        close(p[0]);
        if (write(p[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    uint64_t before = berth_proc_start_time(child);
    check(read(p[0], &c, 1) == 1, "child renamed itself");
    close(p[0]);
    uint64_t after = berth_proc_start_time(child);
    ok(before != 0 && before >= self, "child start time non-zero and not before ours");
    ok(after == before, "a comm of 'a) b (c) d' does not shift the fields");

    kill(child, SIGKILL);
    /* a zombie counts as gone */
    for (int k = 0; k < 200; k++) {
        siginfo_t si = {0};
        if (waitid(P_PID, child, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == child)
            break;
        usleep(5000);
    }
    check(berth_proc_start_time(child) == 0, "a zombie gives 0");
    waitpid(child, NULL, 0);
    check(berth_proc_start_time(child) == 0, "a reaped child gives 0");
    check(berth_proc_start_time(0) == 0 && berth_proc_start_time(-1) == 0, "pid 0 and -1 give 0");
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    /* the mount test mounts a tmpfs: keep it out of the host's namespace */
    bool private_ns =
        unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
    test_error();
    test_read_file();
    test_write_file();
    test_mkdir_p();
    if (private_ns)
        test_rm_rf();
    else
        ok(false, "unshare(CLONE_NEWNS) for the rm_rf tests: %s", strerror(errno));
    test_parse();
    test_strv();
    test_time();
    test_proc_start_time();
    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
