/* Unit tests of lib/container/logfile*.c: docker's json-file encoding byte for byte, the time
 * format, the writer's line splitting and rotation, and the reader: rotated files in order, tail
 * across files, since/until bounds, partial and malformed lines, stream filters, and follow
 * while a writer thread rotates. Logs are written with the monitor's own writer. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/logfile.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-logfile-XXXXXX";

/* 2026-11-29T20:00:00Z */
#define T0 (1795982400LL * 1000000000LL)

/* ---- encoding ---- */

static char *
enc(int stream, int64_t t, const char *data, size_t len)
{
    static char buf[4096];
    size_t n = berth_log_encode(buf, stream, t, data, len);
    buf[n] = '\0';
    return buf;
}

static void
test_encode(void)
{
    is_str(enc(1, T0 + 123456789, "hello\n", 6),
           "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T20:00:00."
           "123456789Z\"}\n",
           "encode: a plain line");
    is_str(enc(2, T0, "x", 1),
           "{\"log\":\"x\",\"stream\":\"stderr\",\"time\":\"2026-11-29T20:00:00Z\"}\n",
           "encode: stderr, a whole second has no fraction");
    is_str(enc(1, T0, "", 0), "{\"stream\":\"stdout\",\"time\":\"2026-11-29T20:00:00Z\"}\n",
           "encode: an empty log is omitted (omitempty)");
    is_str(enc(1, T0 + 120000000, "a", 1),
           "{\"log\":\"a\",\"stream\":\"stdout\",\"time\":\"2026-11-29T20:00:00.12Z\"}\n",
           "encode: trailing zeros of the fraction trimmed (RFC3339Nano)");
    const char in[] = "<a&b>\t\"\\\r\n\x01\x7f";
    is_str(enc(1, T0, in, sizeof(in) - 1),
           "{\"log\":\"\\u003ca\\u0026b\\u003e\\u0009\\\"\\\\\\r\\n\\u0001\x7f\",\"stream\":"
           "\"stdout\","
           "\"time\":\"2026-11-29T20:00:00Z\"}\n",
           "encode: Go's escaping of <, >, &, tab, quote, backslash, CR, LF, controls");
    const char utf[] = "\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x90\xb3";
    is_str(enc(1, T0, utf, sizeof(utf) - 1),
           "{\"log\":\"\xc3\xa9\\u2028\\u2029\xf0\x9f\x90\xb3\",\"stream\":\"stdout\","
           "\"time\":\"2026-11-29T20:00:00Z\"}\n",
           "encode: UTF-8 kept, U+2028 and U+2029 escaped");
    const char bad[] = "\xff"
                       "a\xc3"
                       "b\xed\xa0\x80\xe0\x80\xaf\xf4\x90\x80\x80";
    is_str(enc(1, T0, bad, sizeof(bad) - 1),
           "{\"log\":\"\\ufffda\\ufffdb\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
           "\\ufffd\\ufffd\",\"stream\":\"stdout\",\"time\":\"2026-11-29T20:00:00Z\"}\n",
           "encode: each invalid byte (stray, truncated, surrogate, overlong, > U+10FFFF) is "
           "\\ufffd");
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    char *big = malloc(berth_log_encoded_max(sizeof(all)) * 4);
    size_t n = berth_log_encode(big, 1, -1, all, sizeof(all));
    ok(n <= berth_log_encoded_max(sizeof(all)), "encode: within encoded_max for every byte");
    json_error_t je;
    json_t *j = json_loadb(big, n, JSON_ALLOW_NUL, &je);
    ok(j && json_is_string(json_object_get(j, "log")), "encode: the result is valid JSON");
    json_decref(j);
    free(big);
}

static void
test_time(void)
{
    char buf[48];
    berth_log_format_time(T0 + 1, buf, sizeof(buf));
    is_str(buf, "2026-11-29T20:00:00.000000001Z", "time: one nanosecond");
    berth_log_format_time(0, buf, sizeof(buf));
    is_str(buf, "1970-01-01T00:00:00Z", "time: the epoch");
    berth_log_format_time(951782400LL * 1000000000LL + 500000000, buf, sizeof(buf));
    is_str(buf, "2000-02-29T00:00:00.5Z", "time: a leap day");
    int64_t t = 0;
    const char *s = "2026-11-29T20:00:00.123456789Z";
    ok(berth_log_parse_time(s, strlen(s), &t) && t == T0 + 123456789, "parse: RFC3339Nano");
    s = "2026-11-29T21:30:00.5+01:30";
    ok(berth_log_parse_time(s, strlen(s), &t) && t == T0 + 500000000, "parse: an offset");
    s = "2026-11-29T20:00:00Z";
    ok(berth_log_parse_time(s, strlen(s), &t) && t == T0, "parse: no fraction");
    const char *bad[] = {"",
                         "2026-11-29",
                         "2026-11-29T20:00:00",
                         "2026-13-01T00:00:00Z",
                         "2026-11-29T20:00:00.Z",
                         "2026-11-29T20:00:00Zjunk",
                         "x026-11-29T20:00:00Z"};
    bool rejected = true;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++)
        rejected &= !berth_log_parse_time(bad[i], strlen(bad[i]), &t);
    ok(rejected, "parse: malformed times are rejected");
    for (int64_t v = T0; v < T0 + 1000000000; v += 99999989) {
        berth_log_format_time(v, buf, sizeof(buf));
        if (!berth_log_parse_time(buf, strlen(buf), &t) || t != v) {
            ok(false, "time: round trip of %s", buf);
            return;
        }
    }
    ok(true, "time: format and parse round-trip");
}

/* ---- reading back ---- */

struct got {
    size_t n;
    char text[65536];
    size_t len;
    int64_t times[4096];
    int streams[4096];
    int stop_after; /* > 0: the callback returns -42 after this many */
};

static int
collect(void *cls, const struct berth_log_entry *e)
{
    struct got *g = cls;
    if (g->n < BERTH_ARRAY_SIZE(g->times)) {
        g->times[g->n] = e->time_ns;
        g->streams[g->n] = e->stream;
    }
    g->n++;
    if (g->len + e->len + 1 < sizeof(g->text)) {
        memcpy(g->text + g->len, e->data, e->len);
        g->len += e->len;
        g->text[g->len++] = '|';
        g->text[g->len] = '\0';
    }
    if (g->stop_after && (int)g->n >= g->stop_after)
        return -42;
    return 0;
}

static int
read_log(const char *path, int64_t tail, int64_t since, int64_t until, struct got *g)
{
    memset(g, 0, sizeof(*g));
    struct berth_log_read_opts o = {.path = path,
                                    .want_stdout = true,
                                    .want_stderr = true,
                                    .tail = tail,
                                    .since_ns = since,
                                    .until_ns = until};
    struct berth_error *e = NULL;
    int r = berth_log_read(&o, collect, NULL, g, &e);
    if (r < 0 && e)
        printf("#   read: %s\n", e->msg);
    berth_error_free(e);
    return r;
}

static struct berth_log_writer *
writer(const char *path, int64_t max_size, unsigned max_file)
{
    struct berth_log_writer *w = NULL;
    struct berth_error *e = NULL;
    if (berth_log_writer_open(path, max_size, max_file, &w, &e) < 0)
        printf("#   open writer: %s\n", e->msg);
    berth_error_free(e);
    return w;
}

/* n entries "<i>\n" at T0 + i µs */
static void
write_numbered(struct berth_log_writer *w, int from, int to)
{
    for (int i = from; i < to; i++) {
        char line[32];
        int k = snprintf(line, sizeof(line), "%d\n", i);
        berth_log_writer_entry(w, i % 3 == 0 ? BERTH_LOG_STDERR : BERTH_LOG_STDOUT,
                               T0 + (int64_t)i * 1000, line, (size_t)k);
    }
}

/* whether g holds the numbered entries from..to-1, in order */
static bool
is_range(const struct got *g, int from, int to)
{
    if (g->n != (size_t)(to - from)) {
        printf("#   %zu entries, expected %d\n", g->n, to - from);
        for (size_t i = 1; i < g->n && i < BERTH_ARRAY_SIZE(g->times); i++)
            if (g->times[i] != g->times[i - 1] + 1000) {
                printf("#   after entry %lld comes %lld\n",
                       (long long)(g->times[i - 1] - T0) / 1000,
                       (long long)(g->times[i] - T0) / 1000);
                break;
            }
        return false;
    }
    for (int i = from; i < to; i++)
        if (g->times[i - from] != T0 + (int64_t)i * 1000) {
            printf("#   entry %d has time %lld\n", i - from, (long long)(g->times[i - from] - T0));
            return false;
        }
    return true;
}

static void
test_writer_lines(void)
{
    _cleanup_free_ char *p = pathf("lines.log");
    struct berth_log_writer *w = writer(p, 0, 1);
    berth_log_writer_output(w, 1, T0, "ab", 2);
    berth_log_writer_output(w, 2, T0, "E1\nE", 4);
    berth_log_writer_output(w, 1, T0, "c\nde", 4);
    berth_log_writer_output(w, 1, T0, "f\n\n", 3);
    char *big = malloc(40000);
    memset(big, 'x', 40000);
    big[39999] = '\n';
    berth_log_writer_output(w, 1, T0, big, 10000); /* held, then completed past 16 KiB */
    berth_log_writer_output(w, 1, T0, big + 10000, 30000);
    berth_log_writer_output(w, 1, T0, "no newline", 10);
    berth_log_writer_close(w); /* flushes what is held */
    struct got *g = calloc(1, sizeof(*g));
    read_log(p, -1, 0, 0, g);
    ok(g->n == 9, "writer: entries split at newlines and 16 KiB (%zu)", g->n);
    ok(!strncmp(g->text, "E1\n|abc\n|def\n|\n|", 16), "writer: per-stream lines, in order");
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct berth_error *e = NULL;
    berth_read_file(p, 1 << 20, &text, &len, &e);
    berth_error_free(e);
    ok(text && strstr(text, "{\"log\":\"E\",\"stream\":\"stderr\""),
       "writer: the held stderr part is flushed at close");
    /* lengths of the long line's entries: 16384, 16384, 7232 */
    size_t lens[3] = {0};
    const char *q = g->text;
    for (int i = 0; i < 4; i++)
        q = strchr(q, '|') + 1;
    for (int i = 0; i < 3; i++) {
        const char *bar = strchr(q, '|');
        lens[i] = (size_t)(bar - q);
        q = bar + 1;
    }
    ok(lens[0] == 16384 && lens[1] == 16384 && lens[2] == 7232,
       "writer: a 40000-byte line is 16 KiB + 16 KiB + the rest (%zu %zu %zu)", lens[0], lens[1],
       lens[2]);
    ok(strstr(g->text, "|no newline|") != NULL, "writer: a last line without newline");
    free(big);
    free(g);
}

static void
test_rotation(void)
{
    _cleanup_free_ char *p = pathf("rot.log");
    struct berth_log_writer *w = writer(p, 1000, 4);
    write_numbered(w, 0, 200);
    ok(berth_log_writer_errors(w) == 0, "rotation: no write errors");
    berth_log_writer_close(w);
    struct stat st;
    _cleanup_free_ char *p1 = pathf("rot.log.1"), *p3 = pathf("rot.log.3"),
                        *p4 = pathf("rot.log.4");
    ok(stat(p1, &st) == 0 && stat(p3, &st) == 0 && stat(p4, &st) < 0,
       "rotation: FILE.1 .. FILE.(max-1), no more");
    ok(stat(p, &st) == 0 && st.st_size < 1000 + 100, "rotation: FILE stays near max-size");
    struct got *g = calloc(1, sizeof(*g));
    read_log(p, -1, 0, 0, g);
    int first = g->n ? (int)((g->times[0] - T0) / 1000) : -1;
    ok(first > 0 && is_range(g, first, 200),
       "rotation: reading the files oldest first gives the last entries in order (from %d)", first);
    /* tail across files: more than FILE holds */
    read_log(p, 30, 0, 0, g);
    ok(is_range(g, 170, 200), "tail 30 reads back into the rotated files");
    read_log(p, 1, 0, 0, g);
    ok(is_range(g, 199, 200), "tail 1");
    read_log(p, 0, 0, 0, g);
    ok(g->n == 0, "tail 0: nothing");
    read_log(p, 100000, 0, 0, g);
    ok(is_range(g, first, 200), "tail larger than the log: everything");
    /* since: binary search, within and across files */
    read_log(p, -1, T0 + 150 * 1000, 0, g);
    ok(is_range(g, 150, 200), "since an entry's exact time includes it");
    read_log(p, -1, T0 + 150 * 1000 + 1, 0, g);
    ok(is_range(g, 151, 200), "since between entries starts at the next");
    read_log(p, -1, T0 + (first + 1) * 1000, 0, g);
    ok(is_range(g, first + 1, 200), "since in the oldest file");
    read_log(p, -1, T0 + 500 * 1000, 0, g);
    ok(g->n == 0, "since after the last entry: nothing");
    read_log(p, -1, T0 - 1, 0, g);
    ok(is_range(g, first, 200), "since before the first entry: everything");
    read_log(p, -1, T0 + 160 * 1000, T0 + 170 * 1000, g);
    ok(is_range(g, 160, 171), "since and until: both bounds included");
    read_log(p, 20, T0 + 150 * 1000, 0, g);
    ok(is_range(g, 180, 200), "tail and since: the later start wins");
    read_log(p, 20, T0 + 190 * 1000, 0, g);
    ok(is_range(g, 190, 200), "tail and since: since later than the tail");
    read_log(p, 20, 0, T0 + 185 * 1000, g);
    ok(is_range(g, 180, 186), "tail and until: until stops early");
    /* stream filter (tail counts every entry, as dockerd's does) */
    memset(g, 0, sizeof(*g));
    struct berth_log_read_opts o = {.path = p, .want_stderr = true, .tail = 9};
    struct berth_error *e = NULL;
    berth_log_read(&o, collect, NULL, g, &e);
    berth_error_free(e);
    bool all_err = g->n == 3;
    for (size_t i = 0; i < g->n; i++)
        all_err &= g->streams[i] == BERTH_LOG_STDERR;
    ok(all_err, "stderr only: 3 of the last 9 entries (%zu)", g->n);
    /* the callback stops the read */
    memset(g, 0, sizeof(*g));
    g->stop_after = 2;
    o.want_stdout = true;
    o.tail = -1;
    check(berth_log_read(&o, collect, NULL, g, &e) == -42 && g->n == 2,
          "a negative callback value ends the read and is returned");
    berth_error_free(e);
    free(g);
}

static void
test_truncate_max_file_1(void)
{
    _cleanup_free_ char *p = pathf("one.log");
    struct berth_log_writer *w = writer(p, 500, 1);
    write_numbered(w, 0, 50);
    berth_log_writer_close(w);
    struct stat st;
    _cleanup_free_ char *p1 = pathf("one.log.1");
    ok(stat(p1, &st) < 0 && stat(p, &st) == 0 && st.st_size < 600,
       "max-file 1: the file is truncated, never renamed");
    struct got *g = calloc(1, sizeof(*g));
    read_log(p, -1, 0, 0, g);
    int first = g->n ? (int)((g->times[0] - T0) / 1000) : -1;
    ok(first > 0 && is_range(g, first, 50), "max-file 1: the entries since the truncation");
    free(g);
}

/* A writer that appends while a tail is read: the read stops where the log ended when it
 * began (regression: docker-py's logs(tail=1) got two lines from a container writing fast). */
struct appender {
    struct got g;
    struct berth_log_writer *w;
    int next;
};

static int
collect_and_append(void *cls, const struct berth_log_entry *e)
{
    struct appender *a = cls;
    int r = collect(&a->g, e);
    if (a->next < 200) { /* bounded: a reader that follows the writer still ends */
        write_numbered(a->w, a->next, a->next + 3);
        a->next += 3;
    }
    return r;
}

static void
test_tail_while_written(void)
{
    _cleanup_free_ char *p = pathf("busy.log");
    struct appender *a = calloc(1, sizeof(*a));
    a->w = writer(p, 0, 1);
    write_numbered(a->w, 0, 10);
    a->next = 10;
    struct berth_log_read_opts o = {.path = p, .want_stdout = true, .want_stderr = true, .tail = 1};
    struct berth_error *e = NULL;
    check(berth_log_read(&o, collect_and_append, NULL, a, &e) == 0, "a tail read while written");
    ok(is_range(&a->g, 9, 10), "tail 1 is the last line when the read began, not what came after");
    memset(&a->g, 0, sizeof(a->g));
    o.tail = -1;
    check(berth_log_read(&o, collect_and_append, NULL, a, &e) == 0, "a whole read while written");
    ok(is_range(&a->g, 0, 13), "everything the log held when the read began (%zu)", a->g.n);
    berth_error_free(e);
    berth_log_writer_close(a->w);
    free(a);
}

static void
test_malformed(void)
{
    _cleanup_free_ char *p = pathf("bad.log");
    FILE *f = fopen(p, "we");
    char line[512];
    fwrite(line, 1, berth_log_encode(line, 1, T0 + 1000, "one\n", 4), f);
    fputs("not "
          "json\n{\"log\":\"x\"}\n{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2026-11-29T20:00:"
          "00Z\"}\n",
          f);
    fputs("{\"log\":5,\"stream\":\"stdout\",\"time\":\"2026-11-29T20:00:00Z\"}\n\n", f);
    fputs("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"yesterday\"}\n", f);
    for (int i = 0; i < 2 * 1024 * 1024; i++) /* longer than any entry of ours */
        fputc('z', f);
    fputc('\n', f);
    fwrite(line, 1, berth_log_encode(line, 2, T0 + 2000, "t\x00wo\n", 5), f);
    fwrite(line, 1, berth_log_encode(line, 1, T0 + 3000, "three\n", 6), f);
    fputs("{\"log\":\"partial", f); /* a writer in the middle of a line */
    fclose(f);
    struct got *g = calloc(1, sizeof(*g));
    check(read_log(p, -1, 0, 0, g) == 0, "malformed lines: the read succeeds");
    ok(g->n == 3 && !memcmp(g->text, "one\n|t\0wo\n|three\n|", 17),
       "malformed lines and a partial last line are skipped; NUL kept (%zu)", g->n);
    read_log(p, 2, 0, 0, g);
    ok(g->n == 2 && g->times[0] == T0 + 2000 && g->times[1] == T0 + 3000,
       "tail counts lines, not the partial one");
    read_log(p, -1, T0 + 1500, 0, g);
    ok(g->n == 2 && !strncmp(g->text, "t", 1), "since skips malformed lines in its search");
    _cleanup_free_ char *missing = pathf("missing.log");
    check(read_log(missing, -1, 0, 0, g) == 0 && g->n == 0, "a missing log is an empty log");
    free(g);

    /* a writer reopening a file that ends mid-line starts on a new line */
    _cleanup_free_ char *p2 = pathf("reopen.log");
    put_file(p2, "{\"log\":\"cut");
    struct berth_log_writer *w = writer(p2, 0, 1);
    berth_log_writer_entry(w, 1, T0, "after\n", 6);
    berth_log_writer_close(w);
    g = calloc(1, sizeof(*g));
    read_log(p2, -1, 0, 0, g);
    ok(g->n == 1 && !strcmp(g->text, "after\n|"), "the entry after a cut line is intact");
    free(g);

    /* write errors are counted, not fatal */
    w = writer("/dev/full", 0, 1);
    int r = w ? berth_log_writer_entry(w, 1, T0, "x\n", 2) : 0;
    ok(w && r == -ENOSPC && berth_log_writer_errors(w) == 1, "a full disk is a counted error");
    berth_log_writer_close(w);
}

/* ---- follow ---- */

struct follow_ctx {
    const char *path;
    int n;
    volatile int done;
    struct got g;
};

static void *
writer_thread(void *arg)
{
    struct follow_ctx *c = arg;
    struct berth_log_writer *w = writer(c->path, 2048, 100);
    for (int i = 0; i < c->n; i++) {
        write_numbered(w, i, i + 1);
        if (i % 50 == 0)
            usleep(2000);
    }
    /* a line written in two parts: the reader must wait for its end */
    char line[256];
    size_t n = berth_log_encode(line, 1, T0 + (int64_t)c->n * 1000, "last\n", 5);
    _cleanup_close_ int fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    (void)!write(fd, line, 10);
    usleep(50000);
    (void)!write(fd, line + 10, n - 10);
    berth_log_writer_close(w);
    usleep(20000);
    c->done = 1;
    return NULL;
}

static bool
keep_going(void *cls)
{
    struct follow_ctx *c = (struct follow_ctx *)((char *)cls - offsetof(struct follow_ctx, g));
    return !c->done;
}

static void
test_follow(void)
{
    struct follow_ctx *c = calloc(1, sizeof(*c));
    _cleanup_free_ char *p = pathf("follow.log");
    c->path = p;
    c->n = 2000;
    pthread_t t;
    pthread_create(&t, NULL, writer_thread, c);
    usleep(1000);
    struct berth_log_read_opts o = {.path = p,
                                    .want_stdout = true,
                                    .want_stderr = true,
                                    .tail = -1,
                                    .follow = true,
                                    .follow_interval_ms = 20};
    struct berth_error *e = NULL;
    int r = berth_log_read(&o, collect, keep_going, &c->g, &e);
    pthread_join(t, NULL);
    ok(r == 0, "follow: ends when told (%s)", e ? e->msg : "no error");
    berth_error_free(e);
    _cleanup_free_ char *p30 = pathf("follow.log.30");
    struct stat st;
    ok(stat(p30, &st) == 0, "follow: the writer rotated many times meanwhile");
    ok(is_range(&c->g, 0, c->n + 1),
       "follow: every entry exactly once, in order, across rotations");
    ok(c->g.len > 6 && !strcmp(c->g.text + c->g.len - 6, "last\n|"),
       "follow: a line written in two parts is delivered once complete");
    free(c);

    /* tail 0 + follow: only what comes after */
    struct follow_ctx *d = calloc(1, sizeof(*d));
    _cleanup_free_ char *q = pathf("follow2.log");
    struct berth_log_writer *w = writer(q, 0, 1);
    write_numbered(w, 0, 10);
    berth_log_writer_close(w);
    d->path = q;
    d->n = 0;
    pthread_create(&t, NULL, writer_thread, d);
    o.path = q;
    o.tail = 0;
    r = berth_log_read(&o, collect, keep_going, &d->g, &e);
    pthread_join(t, NULL);
    ok(r == 0 && d->g.n == 1 && !strcmp(d->g.text, "last\n|"),
       "follow with tail 0: only new entries");
    berth_error_free(e);
    free(d);
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    test_encode();
    test_time();
    test_writer_lines();
    test_rotation();
    test_truncate_max_file_1();
    test_malformed();
    test_tail_while_written();
    test_follow();
    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
