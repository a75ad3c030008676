/* The json-file log reader: entries across rotated files, tail from the end backwards, since
 * by binary search, until, and follow with inotify across rotations. See logfile.h. */
#include "container/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

#define BLOCK (64 * 1024)

/* ---- one file, read line by line from an offset ---- */

struct line_reader {
    int fd;
    int64_t pos;   /* file offset of buf[end] */
    int64_t limit; /* nothing at or past this offset is read (-1: to the end) */
    char *buf;
    size_t cap, start, end;
    bool skipping; /* inside a line longer than BERTH_LOG_READ_LINE_MAX: dropped */
};

static void
lr_init(struct line_reader *lr, int fd, int64_t off)
{
    lr->fd = fd;
    lr->pos = off;
    lr->limit = -1;
    lr->start = lr->end = 0;
    lr->skipping = false;
}

static void
lr_free(struct line_reader *lr)
{
    free(lr->buf);
    lr->buf = NULL;
    lr->cap = 0;
}

/* The file offset of the next unread byte. */
static int64_t
lr_offset(const struct line_reader *lr)
{
    return lr->pos - (int64_t)(lr->end - lr->start);
}

/* The next complete line (without its '\n') in *ret, *ret_len, at file offset *ret_off.
 * Returns 1, 0 at the end of what is in the file (a partial last line stays unread), or -errno. */
static int
lr_next(struct line_reader *lr, char **ret, size_t *ret_len, int64_t *ret_off)
{
    for (;;) {
        char *nl =
            lr->end > lr->start ? memchr(lr->buf + lr->start, '\n', lr->end - lr->start) : NULL;
        if (nl) {
            size_t s = lr->start;
            lr->start = (size_t)(nl - lr->buf) + 1;
            if (lr->skipping) {
                lr->skipping = false;
                continue;
            }
            *ret = lr->buf + s;
            *ret_len = (size_t)(nl - lr->buf) - s;
            if (ret_off)
                *ret_off = lr->pos - (int64_t)(lr->end - s);
            return 1;
        }
        if (lr->start > 0) {
            memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
            lr->end -= lr->start;
            lr->start = 0;
        }
        if (lr->end == lr->cap) {
            if (lr->cap > BERTH_LOG_READ_LINE_MAX) {
                lr->skipping = true; /* too long to be ours: drop it up to its newline */
                lr->end = 0;
            } else {
                size_t ncap = lr->cap ? lr->cap * 2 : BLOCK;
                char *n = realloc(lr->buf, ncap);
                if (!n)
                    return -ENOMEM;
                lr->buf = n;
                lr->cap = ncap;
            }
        }
        size_t room = lr->cap - lr->end;
        if (lr->limit >= 0) {
            if (lr->pos >= lr->limit)
                return 0;
            if ((int64_t)room > lr->limit - lr->pos)
                room = (size_t)(lr->limit - lr->pos);
        }
        ssize_t n = pread(lr->fd, lr->buf + lr->end, room, lr->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        lr->end += (size_t)n;
        lr->pos += n;
    }
}

/* ---- decoding ---- */

struct decoded {
    json_t *j;
    struct berth_log_entry e;
};

/* Decodes a line; false when it is not an entry of ours (the caller skips it). */
static bool
decode(const char *line, size_t len, struct decoded *d)
{
    d->j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(d->j))
        goto bad;
    json_t *log = json_object_get(d->j, "log"), *stream = json_object_get(d->j, "stream"),
           *time = json_object_get(d->j, "time");
    if ((log && !json_is_string(log)) || !json_is_string(stream) || !json_is_string(time))
        goto bad;
    const char *s = json_string_value(stream);
    if (!strcmp(s, "stdout"))
        d->e.stream = BERTH_LOG_STDOUT;
    else if (!strcmp(s, "stderr"))
        d->e.stream = BERTH_LOG_STDERR;
    else
        goto bad;
    if (!berth_log_parse_time(json_string_value(time), json_string_length(time), &d->e.time_ns))
        goto bad;
    d->e.data = log ? json_string_value(log) : "";
    d->e.len = log ? json_string_length(log) : 0;
    return true;
bad:
    json_decref(d->j);
    d->j = NULL;
    return false;
}

/* The time of the first entry at a line start at or after off (lines are skipped until one
 * decodes). Returns 1 with *ret_time, 0 when there is none, or -errno. */
static int
first_time_from(int fd, int64_t off, int64_t *ret_time)
{
    struct line_reader lr = {0};
    int r;
    char *line;
    size_t len;
    if (off > 0) {
        /* the line containing off-1 ends at or after off-1: skip to its end */
        lr_init(&lr, fd, off - 1);
        if ((r = lr_next(&lr, &line, &len, NULL)) <= 0)
            goto out;
    } else {
        lr_init(&lr, fd, 0);
    }
    while ((r = lr_next(&lr, &line, &len, NULL)) > 0) {
        struct decoded d;
        if (decode(line, len, &d)) {
            *ret_time = d.e.time_ns;
            json_decref(d.j);
            break;
        }
    }
out:
    lr_free(&lr);
    return r;
}

/* ---- the set of files ---- */

struct logset {
    int fds[BERTH_LOG_MAX_FILES]; /* oldest first; the last is the current FILE */
    dev_t dev[BERTH_LOG_MAX_FILES];
    ino_t ino[BERTH_LOG_MAX_FILES];
    size_t n;
};

static void
logset_close(struct logset *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        if (ls->fds[i] >= 0)
            close(ls->fds[i]);
    ls->n = 0;
}

/* Opens FILE, FILE.1, FILE.2, ... (newest first) into tmp; the first slot is FILE's fd, or -1 when
 * it was missing. A file met twice (renamed while we scanned) is taken once. */
static int
logset_scan(const struct berth_log_read_opts *o, unsigned max, int *tmp, dev_t *dev, ino_t *ino,
            size_t *ret_n)
{
    char p[PATH_MAX];
    size_t n = 0;
    for (unsigned i = 0; i < max; i++) {
        if (i == 0)
            snprintf(p, sizeof(p), "%s", o->path);
        else
            snprintf(p, sizeof(p), "%s.%u", o->path, i);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
            continue; /* not there, or being renamed: a later name has it */
        if (fd < 0) {
            int e = errno;
            for (size_t k = 0; k < n; k++)
                close(tmp[k]);
            return -e;
        }
        struct stat st;
        bool dup = fstat(fd, &st) < 0;
        for (size_t k = 0; !dup && k < n; k++)
            dup = dev[k] == st.st_dev && ino[k] == st.st_ino;
        if (dup) {
            close(fd);
            continue;
        }
        tmp[n] = fd;
        dev[n] = st.st_dev;
        ino[n] = st.st_ino;
        n++;
    }
    *ret_n = n;
    return 0;
}

/* The files, oldest first. The scan goes from FILE to older names while the writer may rename
 * them: a scan during which FILE changed (a rotation completed) is not trusted and done again, as
 * several rotations could move a newer file past the scan; within one rotation the renames go
 * oldest first, so a file can only show up twice (taken once), never out of order. */
static int
logset_open(const struct berth_log_read_opts *o, struct logset *ls, struct berth_error **err)
{
    unsigned max = o->max_file ? o->max_file : BERTH_LOG_MAX_FILES;
    if (max > BERTH_LOG_MAX_FILES)
        max = BERTH_LOG_MAX_FILES;
    int tmp[BERTH_LOG_MAX_FILES];
    dev_t dev[BERTH_LOG_MAX_FILES];
    ino_t ino[BERTH_LOG_MAX_FILES];
    size_t n = 0;
    for (int attempt = 0;; attempt++) {
        struct stat before, after;
        bool had = stat(o->path, &before) == 0;
        int r = logset_scan(o, max, tmp, dev, ino, &n);
        if (r < 0)
            return berth_error_set(err, -r, "open log '%s'", o->path);
        bool has = stat(o->path, &after) == 0;
        if (attempt >= 20 || (had == has && (!had || (before.st_dev == after.st_dev &&
                                                      before.st_ino == after.st_ino))))
            break;
        for (size_t k = 0; k < n; k++)
            close(tmp[k]);
    }
    ls->n = n;
    for (size_t k = 0; k < n; k++) {
        ls->fds[k] = tmp[n - 1 - k];
        ls->dev[k] = dev[n - 1 - k];
        ls->ino[k] = ino[n - 1 - k];
    }
    return 0;
}

struct position {
    size_t file;
    int64_t off;
};

static bool
pos_before(struct position a, struct position b)
{
    return a.file < b.file || (a.file == b.file && a.off < b.off);
}

static int64_t
fd_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) < 0 ? 0 : st.st_size;
}

/* Where the last `tail` complete lines start: reads blocks backwards from newest_end of the
 * newest file (its size when the request came), into older files as needed. */
static int
find_tail(const struct logset *ls, int64_t tail, int64_t newest_end, struct position *ret,
          struct berth_error **err)
{
    _cleanup_free_ char *buf = malloc(BLOCK);
    if (!buf)
        return berth_error_set(err, ENOMEM, "read log");
    int64_t want = tail;
    for (size_t f = ls->n; f-- > 0;) {
        int64_t end = f == ls->n - 1 ? newest_end : fd_size(ls->fds[f]);
        bool seen_end = false; /* found the '\n' that ends this file's last complete line */
        int64_t pos = end;
        while (pos > 0) {
            size_t chunk = pos > BLOCK ? BLOCK : (size_t)pos;
            ssize_t n = pread(ls->fds[f], buf, chunk, pos - (int64_t)chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return berth_error_set(err, errno, "read log");
            if ((size_t)n != chunk)
                return berth_error_setq(err, EIO, "read log: the file shrank");
            pos -= (int64_t)chunk;
            for (size_t i = chunk; i-- > 0;) {
                if (buf[i] != '\n')
                    continue;
                if (!seen_end) {
                    seen_end = true;
                    if (want == 0) {
                        /* nothing wanted: start after the last complete line */
                        ret->file = f;
                        ret->off = pos + (int64_t)i + 1;
                        return 0;
                    }
                    continue;
                }
                if (--want == 0) {
                    ret->file = f;
                    ret->off = pos + (int64_t)i + 1;
                    return 0;
                }
            }
        }
        if (seen_end && --want == 0) { /* the file's first line */
            ret->file = f;
            ret->off = 0;
            return 0;
        }
        if (want == 0) { /* tail 0 and no complete line in the newest file */
            ret->file = f;
            ret->off = 0;
            return 0;
        }
    }
    ret->file = 0;
    ret->off = 0;
    return 0;
}

/* Where the first entry at or after since starts: the newest file whose first entry is before
 * since, then a binary search over its byte offsets for the first line with time >= since. */
static int
find_since(const struct logset *ls, int64_t since, struct position *ret, struct berth_error **err)
{
    ret->file = 0;
    ret->off = 0;
    for (size_t f = ls->n; f-- > 0;) {
        int64_t t;
        int r = first_time_from(ls->fds[f], 0, &t);
        if (r < 0)
            return berth_error_set(err, -r, "read log");
        if (r == 0 || t >= since)
            continue;
        int64_t lo = 0, hi = fd_size(ls->fds[f]);
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            r = first_time_from(ls->fds[f], mid, &t);
            if (r < 0)
                return berth_error_set(err, -r, "read log");
            if (r == 0 || t >= since)
                hi = mid;
            else
                lo = mid + 1;
        }
        ret->file = f;
        ret->off = lo; /* reading starts at the first line start at or after lo */
        if (lo > 0) {
            /* align to a line start: the byte before lo must be a '\n' */
            char c;
            if (pread(ls->fds[f], &c, 1, lo - 1) == 1 && c != '\n')
                ret->off = -lo; /* marker: skip the rest of this line first */
        }
        return 0;
    }
    return 0;
}

/* ---- delivery ---- */

struct reader {
    const struct berth_log_read_opts *o;
    berth_log_cb cb;
    void *cls;
    bool done; /* until passed */
};

/* Delivers the complete lines of lr. Returns 0 at the end of what is there, the callback's
 * negative value, or -errno with *err set. */
static int
deliver(struct reader *rd, struct line_reader *lr, struct berth_error **err)
{
    char *line;
    size_t len;
    int r = 0;
    while (!rd->done && (r = lr_next(lr, &line, &len, NULL)) > 0) {
        struct decoded d;
        if (!decode(line, len, &d))
            continue;
        const struct berth_log_read_opts *o = rd->o;
        if (o->until_ns && d.e.time_ns > o->until_ns) {
            rd->done = true;
        } else if ((!o->since_ns || d.e.time_ns >= o->since_ns) &&
                   ((d.e.stream == BERTH_LOG_STDOUT && o->want_stdout) ||
                    (d.e.stream == BERTH_LOG_STDERR && o->want_stderr))) {
            r = rd->cb(rd->cls, &d.e);
            if (r < 0) {
                json_decref(d.j);
                return r;
            }
        }
        json_decref(d.j);
    }
    if (r < 0)
        return berth_error_set(err, -r, "read log '%s'", rd->o->path);
    return 0;
}

/* Positions lr at p (a negative offset: skip to the end of the line containing -off first);
 * limit as in struct line_reader. */
static int
lr_seek(struct line_reader *lr, int fd, int64_t off, int64_t limit)
{
    if (off >= 0) {
        lr_init(lr, fd, off);
        lr->limit = limit;
        return 0;
    }
    lr_init(lr, fd, -off);
    lr->limit = limit;
    char *line;
    size_t len;
    int r = lr_next(lr, &line, &len, NULL);
    return r < 0 ? r : 0;
}

/* ---- follow ---- */

static int
watch_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return -1;
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0)
        return -1;
    if (inotify_add_watch(fd, dir,
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                              IN_CLOSE_WRITE) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void
rotated_name(const char *path, unsigned k, char *buf, size_t len)
{
    if (k == 0)
        snprintf(buf, len, "%s", path);
    else
        snprintf(buf, len, "%s.%u", path, k);
}

/* Whether the file we read (cur_fd) is still FILE: 0. Else 1, with *ret_fd the file written
 * after it (-1 while it is not there yet): the writer may have rotated several times since we
 * looked, so cur is found among FILE.1 .. and its successor is the name just below it. A
 * rotation renames the oldest first, so cur still being FILE.k after we opened FILE.(k-1) means
 * the one we opened is its successor. Returns -errno on errors. */
static int
next_file(const struct berth_log_read_opts *o, int cur_fd, int *ret_fd)
{
    struct stat cur, st;
    *ret_fd = -1;
    if (fstat(cur_fd, &cur) < 0)
        return -errno;
    if (stat(o->path, &st) == 0 && same_file(&st, &cur))
        return 0;
    unsigned max = o->max_file ? o->max_file : BERTH_LOG_MAX_FILES;
    if (max > BERTH_LOG_MAX_FILES)
        max = BERTH_LOG_MAX_FILES;
    char p[PATH_MAX], q[PATH_MAX];
    for (int attempt = 0; attempt < 100; attempt++) {
        if (attempt > 0) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        unsigned k = 1;
        for (; k < max; k++) {
            rotated_name(o->path, k, p, sizeof(p));
            if (stat(p, &st) == 0 && same_file(&st, &cur))
                break;
        }
        bool lost = k == max;
        if (lost) {
            if (fstat(cur_fd, &st) == 0 && st.st_nlink > 0 && attempt < 99)
                continue; /* between two renames: look again */
            k = 1;        /* deleted: the reader fell more than max-file rotations behind */
        }
        rotated_name(o->path, k - 1, q, sizeof(q));
        int fd = open(q, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno != ENOENT)
            return -errno;
        if (fd < 0)
            continue; /* the new FILE is not created yet, or a rename is under way */
        struct stat nst;
        if (fstat(fd, &nst) == 0 && !same_file(&nst, &cur) &&
            (lost || (stat(p, &st) == 0 && same_file(&st, &cur)))) {
            *ret_fd = fd;
            return 1;
        }
        close(fd);
    }
    return 1;
}

static int
follow(struct reader *rd, struct line_reader *lr, int *cur_fd, berth_log_keep_following keep,
       struct berth_error **err)
{
    const struct berth_log_read_opts *o = rd->o;
    _cleanup_close_ int in = watch_dir(o->path);
    int interval = o->follow_interval_ms > 0 ? o->follow_interval_ms : 250;
    bool last_pass = false;
    for (;;) {
        int r = deliver(rd, lr, err);
        if (r < 0)
            return r;
        if (rd->done)
            return 0;
        /* rotated: what is left of the old file is complete; go on with the next one */
        int nfd;
        r = next_file(o, *cur_fd, &nfd);
        if (r < 0)
            return berth_error_set(err, -r, "follow log '%s'", o->path);
        if (nfd >= 0) {
            if ((r = deliver(rd, lr, err)) < 0)
                return r;
            close(*cur_fd);
            *cur_fd = nfd;
            lr_init(lr, nfd, 0);
            continue;
        }
        if (r == 0 && fd_size(*cur_fd) < lr_offset(lr))
            lr_init(lr, *cur_fd, 0); /* truncated in place (max-file 1) */
        if (last_pass)
            return 0;
        if (keep && !keep(rd->cls)) {
            last_pass = true;
            continue;
        }
        if (o->until_ns && berth_log_now() > o->until_ns) {
            last_pass = true;
            continue;
        }
        struct pollfd p = {.fd = in, .events = POLLIN};
        if (in < 0 || poll(&p, 1, interval) <= 0)
            continue;
        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(in, ev, sizeof(ev)) > 0)
            ;
    }
}

/* Following a log that does not exist yet: waits for it. 1 once it exists, 0 when told to
 * stop first. */
static int
wait_for_log(const struct berth_log_read_opts *o, berth_log_keep_following keep, void *cls)
{
    _cleanup_close_ int in = watch_dir(o->path);
    int interval = o->follow_interval_ms > 0 ? o->follow_interval_ms : 250;
    for (;;) {
        if (access(o->path, F_OK) == 0)
            return 1;
        if (keep && !keep(cls))
            return 0;
        struct pollfd p = {.fd = in, .events = POLLIN};
        if (in < 0 || poll(&p, 1, interval) <= 0)
            continue;
        char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(in, ev, sizeof(ev)) > 0)
            ;
    }
}

int
berth_log_read(const struct berth_log_read_opts *o, berth_log_cb cb,
               berth_log_keep_following keep_following, void *cls, struct berth_error **err)
{
    struct logset ls = {.n = 0};
    int r = logset_open(o, &ls, err);
    if (r < 0)
        return r;
    struct position start = {0, 0};
    int64_t newest_end = ls.n > 0 ? fd_size(ls.fds[ls.n - 1]) : 0;
    if (ls.n == 0 && o->follow) {
        /* no log yet: everything that comes is new, from the first entry of the first file */
        if ((r = wait_for_log(o, keep_following, cls)) <= 0 || (r = logset_open(o, &ls, err)) < 0)
            return r;
    } else {
        if (o->tail >= 0 && ls.n > 0 && (r = find_tail(&ls, o->tail, newest_end, &start, err)) < 0)
            goto out;
        if (o->since_ns && ls.n > 0) {
            struct position s;
            if ((r = find_since(&ls, o->since_ns, &s, err)) < 0)
                goto out;
            struct position cmp = {s.file, s.off < 0 ? -s.off : s.off};
            if (pos_before(start, cmp))
                start = s;
        }
    }
    struct reader rd = {.o = o, .cb = cb, .cls = cls};
    struct line_reader lr = {0};
    for (size_t f = start.file; f < ls.n && !rd.done; f++) {
        /* without follow, what the log held when the request came: a tail of 1 stays 1 line
         * however fast the process writes */
        int64_t limit = !o->follow && f == ls.n - 1 ? newest_end : -1;
        if ((r = lr_seek(&lr, ls.fds[f], f == start.file ? start.off : 0, limit)) < 0) {
            r = berth_error_set(err, -r, "read log '%s'", o->path);
            break;
        }
        if ((r = deliver(&rd, &lr, err)) < 0)
            break;
    }
    if (r >= 0 && o->follow && !rd.done && ls.n > 0) {
        int cur = ls.fds[ls.n - 1];
        ls.fds[ls.n - 1] = -1;
        r = follow(&rd, &lr, &cur, keep_following, err);
        close(cur);
    }
    lr_free(&lr);
out:
    logset_close(&ls);
    return r < 0 ? r : 0;
}
