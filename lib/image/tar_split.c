/* Tar-split: see tar_split.h. The block parser is ours, not libarchive's: the split needs the
 * tar's exact bytes and where each entry starts, which libarchive's reader does not hand out;
 * it only walks headers and sizes (names are the unpack child's business), and every file it
 * keeps a reference for is checked against what libarchive, in the child, made of the same
 * stream. */
#include "image/tar_split.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"

#define SPLIT_MAGIC "BERTHTS1"
#define TRAILER_MAGIC "BTSTRAIL"
#define TRAILER_SIZE 32
#define BLOCK 512
#define OUT_BUF (1 << 20)
/* pax headers larger than this are not parsed: the rest of the tar is kept raw */
#define PAX_MAX (1 << 20)
/* a report or a path table larger than this is refused */
#define LIST_MAX ((size_t)256 << 20)
#define END_MARK UINT64_MAX

enum split_state { S_HEADER, S_PAYLOAD_RAW, S_PAYLOAD_FILE, S_PAD, S_RAW_ALL };

struct split_file {
    uint64_t start, size;
};

struct berth_tar_split {
    int fd;
    unsigned char *out;
    size_t out_len;
    size_t raw_len_at; /* offset in out of the open 'R' record's length, or SIZE_MAX */
    uint64_t written;  /* bytes of the split file flushed so far */
    /* the parser */
    enum split_state state;
    unsigned char hdr[BLOCK];
    size_t hdr_len;
    uint64_t pos;        /* tar bytes seen */
    int64_t entry_start; /* where the current entry's first header began (-1: none yet) */
    uint64_t remaining;  /* of the current payload */
    uint64_t pad;        /* padding after it */
    char *pax;           /* the payload of an 'x' or 'g' header being read */
    size_t pax_len;
    bool pax_collect, pax_global;
    int64_t pax_size; /* "size" of the pending pax header (-1: none) */
    bool pax_sparse;  /* the pending pax header describes a sparse file */
    struct split_file *files;
    size_t n_files, cap_files;
    uint64_t total;
};

static void
put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

int
berth_tar_split_new(int out_fd, struct berth_tar_split **ret, struct berth_error **err)
{
    struct berth_tar_split *ts = calloc(1, sizeof(*ts));
    if (!ts || !(ts->out = malloc(OUT_BUF))) {
        free(ts);
        return berth_error_set(err, ENOMEM, "tar-split");
    }
    ts->fd = out_fd;
    ts->raw_len_at = SIZE_MAX;
    ts->entry_start = -1;
    ts->pax_size = -1;
    memcpy(ts->out, SPLIT_MAGIC, 8);
    ts->out_len = 8;
    *ret = ts;
    return 0;
}

void
berth_tar_split_free(struct berth_tar_split *ts)
{
    if (!ts)
        return;
    free(ts->out);
    free(ts->pax);
    free(ts->files);
    free(ts);
}

static void
raw_close(struct berth_tar_split *ts)
{
    if (ts->raw_len_at == SIZE_MAX)
        return;
    put_u32(ts->out + ts->raw_len_at, (uint32_t)(ts->out_len - ts->raw_len_at - 4));
    ts->raw_len_at = SIZE_MAX;
}

static int
flush(struct berth_tar_split *ts, struct berth_error **err)
{
    raw_close(ts);
    int r = berth_write_all(ts->fd, ts->out, ts->out_len);
    if (r < 0)
        return berth_error_set(err, -r, "write tar-split");
    ts->written += ts->out_len;
    ts->out_len = 0;
    return 0;
}

/* Room for n more bytes in the buffer (n <= OUT_BUF). */
static int
reserve(struct berth_tar_split *ts, size_t n, struct berth_error **err)
{
    return OUT_BUF - ts->out_len >= n ? 0 : flush(ts, err);
}

static int
emit_raw(struct berth_tar_split *ts, const unsigned char *p, size_t n, struct berth_error **err)
{
    while (n > 0) {
        if (ts->raw_len_at == SIZE_MAX) {
            int r = reserve(ts, 5 + 1, err);
            if (r < 0)
                return r;
            ts->out[ts->out_len++] = 'R';
            ts->raw_len_at = ts->out_len;
            ts->out_len += 4;
        }
        size_t room = OUT_BUF - ts->out_len;
        size_t take = n < room ? n : room;
        memcpy(ts->out + ts->out_len, p, take);
        ts->out_len += take;
        p += take, n -= take;
        if (n > 0) {
            int r = flush(ts, err);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int
emit_file(struct berth_tar_split *ts, uint64_t start, uint64_t size, struct berth_error **err)
{
    if (ts->n_files == ts->cap_files) {
        size_t cap = ts->cap_files ? ts->cap_files * 2 : 1024;
        struct split_file *f = realloc(ts->files, cap * sizeof(*f));
        if (!f)
            return berth_error_set(err, ENOMEM, "tar-split");
        ts->files = f, ts->cap_files = cap;
    }
    ts->files[ts->n_files++] = (struct split_file){.start = start, .size = size};
    raw_close(ts);
    int r = reserve(ts, 9, err);
    if (r < 0)
        return r;
    ts->out[ts->out_len++] = 'F';
    put_u64(ts->out + ts->out_len, size);
    ts->out_len += 8;
    return 0;
}

/* A numeric header field as libarchive reads it: base-256 when the high bit of the first byte
 * is set, else octal after leading blanks. false: negative or too large. */
static bool
parse_number(const unsigned char *p, size_t n, uint64_t *ret)
{
    uint64_t v = 0;
    if (p[0] & 0x80) {
        if (p[0] != 0x80)
            return false; /* negative (0xff) */
        for (size_t i = 1; i < n; i++) {
            if (v >> 56)
                return false;
            v = (v << 8) | p[i];
        }
        *ret = v;
        return true;
    }
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = (v << 3) | (uint64_t)(p[i] - '0');
    }
    *ret = v;
    return true;
}

static bool
checksum_ok(const unsigned char *h)
{
    uint64_t want;
    if (!parse_number(h + 148, 8, &want))
        return false;
    uint64_t sum_u = 0;
    int64_t sum_s = 0;
    for (size_t i = 0; i < BLOCK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
        sum_u += c;
        sum_s += (signed char)c;
    }
    return want == sum_u || (int64_t)want == sum_s;
}

/* The keys of a pax header that change how its entry's data is laid out. */
static void
parse_pax(struct berth_tar_split *ts, bool *ret_layout_keys)
{
    const char *p = ts->pax, *end = ts->pax + ts->pax_len;
    *ret_layout_keys = false;
    while (p < end) {
        /* "<length> <key>=<value>\n", length counting the whole record */
        uint64_t len = 0;
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9' && len < PAX_MAX)
            len = len * 10 + (uint64_t)(*q++ - '0');
        if (q == p || q >= end || *q != ' ' || len == 0 || len > (uint64_t)(end - p))
            return;
        const char *rec_end = p + len, *key = q + 1;
        const char *eq = memchr(key, '=', (size_t)(rec_end - key));
        if (!eq)
            return;
        size_t key_len = (size_t)(eq - key);
        if (key_len == 4 && !memcmp(key, "size", 4)) {
            uint64_t v = 0;
            const char *d = eq + 1;
            while (d < rec_end && *d >= '0' && *d <= '9' && v < (UINT64_C(1) << 60))
                v = v * 10 + (uint64_t)(*d++ - '0');
            ts->pax_size = (int64_t)v;
            *ret_layout_keys = true;
        } else if (key_len > 11 && !memcmp(key, "GNU.sparse.", 11)) {
            ts->pax_sparse = true;
            *ret_layout_keys = true;
        }
        p = rec_end;
    }
}

static uint64_t
padding(uint64_t size)
{
    return (BLOCK - size % BLOCK) % BLOCK;
}

static void
payload_done(struct berth_tar_split *ts)
{
    if (ts->pax_collect) {
        bool layout_keys;
        ts->pax_collect = false;
        parse_pax(ts, &layout_keys);
        /* a global header that sizes entries: not ours to interpret */
        if (ts->pax_global && layout_keys) {
            ts->state = S_RAW_ALL;
            return;
        }
        if (ts->pax_global) {
            ts->pax_size = -1;
            ts->pax_sparse = false;
        }
    }
    ts->state = ts->pad ? S_PAD : S_HEADER;
}

static int
header_done(struct berth_tar_split *ts, uint64_t header_start, struct berth_error **err)
{
    const unsigned char *h = ts->hdr;
    bool zero = true;
    for (size_t i = 0; i < BLOCK && zero; i++)
        zero = h[i] == 0;
    uint64_t size;
    if (zero || !checksum_ok(h) || !parse_number(h + 124, 12, &size)) {
        /* the end of the archive, or something only libarchive may make sense of */
        ts->state = S_RAW_ALL;
        return 0;
    }
    if (ts->entry_start < 0)
        ts->entry_start = (int64_t)header_start;
    char type = (char)h[156];
    ts->pad = padding(size);
    ts->remaining = size;
    switch (type) {
    case 'x':
    case 'g':
        if (size > PAX_MAX) {
            ts->state = S_RAW_ALL;
            return 0;
        }
        ts->pax_collect = true;
        ts->pax_global = type == 'g';
        ts->pax_len = 0;
        if (!ts->pax && !(ts->pax = malloc(PAX_MAX)))
            return berth_error_set(err, ENOMEM, "tar-split");
        ts->state = S_PAYLOAD_RAW;
        break;
    case 'L':
    case 'K':
        ts->state = S_PAYLOAD_RAW;
        break;
    case 'S': /* old GNU sparse: extension blocks follow that its size does not count */
        ts->state = S_RAW_ALL;
        return 0;
    default: {
        uint64_t data = ts->pax_size >= 0 ? (uint64_t)ts->pax_size : size;
        bool regular = type == '0' || type == '\0' || type == '7';
        ts->remaining = data;
        ts->pad = padding(data);
        uint64_t start = (uint64_t)ts->entry_start;
        bool file = regular && !ts->pax_sparse && data > 0;
        ts->entry_start = -1;
        ts->pax_size = -1;
        ts->pax_sparse = false;
        if (file) {
            int r = emit_file(ts, start, data, err);
            if (r < 0)
                return r;
            ts->state = S_PAYLOAD_FILE;
        } else {
            ts->state = S_PAYLOAD_RAW;
        }
        break;
    }
    }
    if (ts->remaining == 0)
        payload_done(ts);
    return 0;
}

int
berth_tar_split_feed(struct berth_tar_split *ts, const void *buf, size_t len,
                     struct berth_error **err)
{
    const unsigned char *p = buf;
    ts->total += len;
    while (len > 0) {
        size_t take = len;
        int r = 0;
        switch (ts->state) {
        case S_HEADER:
            take = BLOCK - ts->hdr_len < len ? BLOCK - ts->hdr_len : len;
            memcpy(ts->hdr + ts->hdr_len, p, take);
            ts->hdr_len += take;
            r = emit_raw(ts, p, take, err);
            if (r == 0 && ts->hdr_len == BLOCK) {
                ts->hdr_len = 0;
                r = header_done(ts, ts->pos + take - BLOCK, err);
            }
            break;
        case S_PAYLOAD_RAW:
        case S_PAYLOAD_FILE:
            if (ts->remaining < take)
                take = (size_t)ts->remaining;
            if (ts->state == S_PAYLOAD_RAW) {
                r = emit_raw(ts, p, take, err);
                if (ts->pax_collect) {
                    memcpy(ts->pax + ts->pax_len, p, take); /* bounded by PAX_MAX */
                    ts->pax_len += take;
                }
            }
            ts->remaining -= take;
            if (r == 0 && ts->remaining == 0)
                payload_done(ts);
            break;
        case S_PAD:
            if (ts->pad < take)
                take = (size_t)ts->pad;
            r = emit_raw(ts, p, take, err);
            ts->pad -= take;
            if (ts->pad == 0)
                ts->state = S_HEADER;
            break;
        case S_RAW_ALL:
            r = emit_raw(ts, p, take, err);
            break;
        }
        if (r < 0)
            return r;
        ts->pos += take;
        p += take, len -= take;
    }
    return 0;
}

/* ---- the child's report ---- */

struct berth_split_list {
    unsigned char *buf;
    size_t len, cap;
    void *tree;   /* the paths written (tsearch) */
    char **paths; /* the same, in order, for prefix checks */
    size_t n, cap_paths;
    bool conflict;
};

struct berth_split_list *
berth_split_list_new(void)
{
    return calloc(1, sizeof(struct berth_split_list));
}

static int
path_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

void
berth_split_list_free(struct berth_split_list *l)
{
    if (!l)
        return;
    tdestroy(l->tree, free);
    free(l->paths);
    free(l->buf);
    free(l);
}

static bool
list_append(struct berth_split_list *l, const void *p, size_t n)
{
    if (l->cap - l->len < n) {
        size_t cap = l->cap ? l->cap : 64 << 10;
        while (cap - l->len < n)
            cap *= 2;
        unsigned char *b = realloc(l->buf, cap);
        if (!b)
            return false;
        l->buf = b, l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    return true;
}

int
berth_split_list_add(struct berth_split_list *l, int64_t header_pos, int64_t size, const char *path)
{
    if (l->conflict)
        return 0; /* the split is lost already: nothing more to track */
    size_t n = strlen(path);
    char *copy = strdup(path);
    unsigned char rec[20];
    put_u64(rec, (uint64_t)header_pos);
    put_u64(rec + 8, (uint64_t)size);
    put_u32(rec + 16, (uint32_t)n);
    void *found = copy ? tsearch(copy, &l->tree, path_cmp) : NULL;
    if (!found || !list_append(l, rec, sizeof(rec)) || !list_append(l, path, n)) {
        free(copy);
        l->conflict = true;
        return 0;
    }
    if (*(char **)found != copy) { /* the same path twice: the first file's data is gone */
        free(copy);
        l->conflict = true;
        return 0;
    }
    if (l->n == l->cap_paths) {
        size_t cap = l->cap_paths ? l->cap_paths * 2 : 1024;
        char **p = realloc(l->paths, cap * sizeof(*p));
        if (!p) {
            l->conflict = true;
            return 0;
        }
        l->paths = p, l->cap_paths = cap;
    }
    l->paths[l->n++] = copy;
    return 0;
}

void
berth_split_list_removed(struct berth_split_list *l, const char *path, bool maybe_dir)
{
    if (!l || l->conflict || l->n == 0)
        return;
    if (tfind(path, &l->tree, path_cmp)) {
        l->conflict = true;
        return;
    }
    if (!maybe_dir)
        return;
    size_t n = strlen(path);
    for (size_t i = 0; i < l->n; i++)
        if ((n == 0 || (!strncmp(l->paths[i], path, n) && l->paths[i][n] == '/'))) {
            l->conflict = true;
            return;
        }
}

int
berth_split_list_write(struct berth_split_list *l, int fd)
{
    unsigned char end[20];
    put_u64(end, END_MARK);
    put_u64(end + 8, l->conflict ? 1 : 0);
    put_u32(end + 16, 0);
    if (!list_append(l, end, sizeof(end)))
        return -ENOMEM;
    return berth_write_all(fd, l->buf, l->len);
}

/* ---- sealing ---- */

int
berth_tar_split_seal(struct berth_tar_split *ts, int list_fd, bool *ret_sealed,
                     struct berth_error **err)
{
    *ret_sealed = false;
    _cleanup_free_ char *report = NULL;
    size_t len = 0;
    if (lseek(list_fd, 0, SEEK_SET) < 0 ||
        berth_read_fd(list_fd, "unpack report", LIST_MAX, &report, &len, NULL) < 0)
        return 0; /* no usable report: the tar is kept instead */
    const unsigned char *list = (const unsigned char *)report;
    /* the child's files must be exactly the split's, entry by entry */
    size_t off = 0, k = 0;
    for (;;) {
        if (len - off < 20)
            return 0;
        uint64_t start = get_u64(list + off), size = get_u64(list + off + 8);
        uint32_t n = get_u32(list + off + 16);
        off += 20;
        if (start == END_MARK) {
            if (size != 0 || k != ts->n_files)
                return 0; /* replaced files, or a count that differs */
            break;
        }
        if (n == 0 || len - off < n || k >= ts->n_files || ts->files[k].start != start ||
            ts->files[k].size != size)
            return 0;
        off += n;
        k++;
    }
    /* the records are complete: the paths (straight from the report), then the trailer */
    int r = reserve(ts, 1, err);
    if (r < 0)
        return r;
    raw_close(ts);
    ts->out[ts->out_len++] = 'E';
    uint64_t names_at = ts->written + ts->out_len;
    off = 0;
    for (size_t i = 0; i < ts->n_files; i++) {
        uint32_t n = get_u32(list + off + 16);
        if ((r = reserve(ts, 4, err)) < 0)
            return r;
        put_u32(ts->out + ts->out_len, n);
        ts->out_len += 4;
        const unsigned char *path = list + off + 20;
        for (uint32_t done = 0; done < n;) {
            if ((r = reserve(ts, 1, err)) < 0)
                return r;
            size_t room = OUT_BUF - ts->out_len, take = n - done < room ? n - done : room;
            memcpy(ts->out + ts->out_len, path + done, take);
            ts->out_len += take, done += (uint32_t)take;
        }
        off += 20 + n;
    }
    if ((r = reserve(ts, TRAILER_SIZE, err)) < 0)
        return r;
    unsigned char *t = ts->out + ts->out_len;
    memcpy(t, TRAILER_MAGIC, 8);
    put_u64(t + 8, names_at);
    put_u64(t + 16, ts->n_files);
    put_u64(t + 24, ts->total);
    ts->out_len += TRAILER_SIZE;
    if ((r = flush(ts, err)) < 0)
        return r;
    *ret_sealed = true;
    return 0;
}

/* ---- reading ---- */

struct trailer {
    uint64_t names_at, n_files, total, file_size;
};

static int
read_trailer(int fd, struct trailer *t, struct berth_error **err)
{
    struct stat st;
    unsigned char b[TRAILER_SIZE], head[8];
    if (fstat(fd, &st) < 0)
        return berth_error_set(err, errno, "tar-split");
    if (st.st_size < 8 + 1 + TRAILER_SIZE ||
        pread(fd, b, sizeof(b), st.st_size - TRAILER_SIZE) != (ssize_t)sizeof(b) ||
        pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
        memcmp(head, SPLIT_MAGIC, 8) != 0 || memcmp(b, TRAILER_MAGIC, 8) != 0)
        return berth_error_setq(err, EINVAL, "tar-split: not a sealed tar-split");
    t->names_at = get_u64(b + 8);
    t->n_files = get_u64(b + 16);
    t->total = get_u64(b + 24);
    t->file_size = (uint64_t)st.st_size;
    if (t->names_at < 9 || t->names_at > t->file_size - TRAILER_SIZE ||
        t->n_files > (t->file_size - TRAILER_SIZE - t->names_at) / 4)
        return berth_error_setq(err, EINVAL, "tar-split: damaged trailer");
    return 0;
}

int
berth_tar_split_size(int split_fd, uint64_t *ret_size, struct berth_error **err)
{
    struct trailer t;
    int r = read_trailer(split_fd, &t, err);
    if (r == 0)
        *ret_size = t.total;
    return r;
}

/* Sequential reads of the records, buffered. */
struct reader {
    int fd;
    uint64_t pos, end;
    unsigned char buf[1 << 16];
    size_t have, at;
};

static int
reader_get(struct reader *rd, void *out, size_t n)
{
    unsigned char *o = out;
    while (n > 0) {
        if (rd->at == rd->have) {
            uint64_t left = rd->end - rd->pos;
            size_t want = left < sizeof(rd->buf) ? (size_t)left : sizeof(rd->buf);
            if (want == 0)
                return -EINVAL;
            ssize_t got = pread(rd->fd, rd->buf, want, (off_t)rd->pos);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return got < 0 ? -errno : -EIO;
            rd->pos += (uint64_t)got;
            rd->have = (size_t)got, rd->at = 0;
        }
        size_t take = rd->have - rd->at < n ? rd->have - rd->at : n;
        if (o) {
            memcpy(o, rd->buf + rd->at, take);
            o += take;
        }
        rd->at += take, n -= take;
    }
    return 0;
}

/* Sends one file's data (exactly size bytes) to emit. */
static int
emit_file_data(int diff_fd, const char *path, uint64_t size, unsigned char *buf, size_t buf_len,
               int (*emit)(void *, const void *, size_t), void *cls, struct berth_error **err)
{
    _cleanup_close_ int fd = berth_openat2(diff_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0,
                                           RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                               RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
    if (fd < 0)
        return berth_error_set(err, errno, "layer file '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berth_error_set(err, errno, "layer file '%s'", path);
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
        return berth_error_setq(err, EIO,
                                "layer file '%s' changed since it was unpacked (%lld bytes, the "
                                "layer has %llu)",
                                path, (long long)st.st_size, (unsigned long long)size);
    for (uint64_t done = 0; done < size;) {
        size_t want = size - done < buf_len ? (size_t)(size - done) : buf_len;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berth_error_set(err, n < 0 ? errno : EIO, "read layer file '%s'", path);
        int r = emit(cls, buf, (size_t)n);
        if (r < 0)
            return berth_error_set(err, -r, "layer tar");
        done += (uint64_t)n;
    }
    return 0;
}

int
berth_tar_split_rebuild(int split_fd, int diff_fd,
                        int (*emit)(void *cls, const void *buf, size_t len), void *cls,
                        struct berth_error **err)
{
    struct trailer t;
    int r = read_trailer(split_fd, &t, err);
    if (r < 0)
        return r;
    /* the path table */
    uint64_t names_len = t.file_size - TRAILER_SIZE - t.names_at;
    if (names_len > LIST_MAX)
        return berth_error_setq(err, EFBIG, "tar-split: path table too large");
    _cleanup_free_ char *names = malloc((size_t)names_len + 1);
    if (!names)
        return berth_error_set(err, ENOMEM, "tar-split");
    if (pread(split_fd, names, (size_t)names_len, (off_t)t.names_at) != (ssize_t)names_len)
        return berth_error_setq(err, EIO, "tar-split: short read");
    /* checked whole before anything is emitted; walked in the order of the 'F' records */
    uint64_t off = 0;
    for (uint64_t i = 0; i < t.n_files; i++) {
        if (names_len - off < 4)
            return berth_error_setq(err, EINVAL, "tar-split: damaged path table");
        uint32_t n = get_u32((unsigned char *)names + off);
        off += 4;
        if (n == 0 || n >= PATH_MAX || names_len - off < n || memchr(names + off, '\0', n))
            return berth_error_setq(err, EINVAL, "tar-split: damaged path table");
        off += n;
    }
    _cleanup_free_ struct reader *rd = malloc(sizeof(*rd));
    _cleanup_free_ unsigned char *buf = malloc(1 << 16);
    if (!rd || !buf)
        return berth_error_set(err, ENOMEM, "tar-split");
    *rd = (struct reader){.fd = split_fd, .pos = 8, .end = t.names_at};
    uint64_t k = 0, total = 0;
    const char *next_name = names;
    char path[PATH_MAX];
    for (;;) {
        unsigned char tag, num[8];
        if (reader_get(rd, &tag, 1) < 0)
            return berth_error_setq(err, EINVAL, "tar-split: damaged records");
        if (tag == 'E')
            break;
        if (tag == 'R') {
            if (reader_get(rd, num, 4) < 0)
                return berth_error_setq(err, EINVAL, "tar-split: damaged records");
            uint32_t n = get_u32(num);
            while (n > 0) {
                size_t take = n < (1 << 16) ? n : (1 << 16);
                if (reader_get(rd, buf, take) < 0)
                    return berth_error_setq(err, EINVAL, "tar-split: damaged records");
                if ((r = emit(cls, buf, take)) < 0)
                    return berth_error_set(err, -r, "layer tar");
                n -= (uint32_t)take, total += take;
            }
        } else if (tag == 'F') {
            if (reader_get(rd, num, 8) < 0 || k >= t.n_files)
                return berth_error_setq(err, EINVAL, "tar-split: damaged records");
            uint64_t size = get_u64(num);
            uint32_t n = get_u32((const unsigned char *)next_name);
            memcpy(path, next_name + 4, n);
            path[n] = '\0';
            next_name += 4 + n;
            if ((r = emit_file_data(diff_fd, path, size, buf, 1 << 16, emit, cls, err)) < 0)
                return r;
            k++, total += size;
        } else {
            return berth_error_setq(err, EINVAL, "tar-split: damaged records");
        }
    }
    if (k != t.n_files || total != t.total)
        return berth_error_setq(err, EINVAL, "tar-split: the records do not add up");
    return 0;
}
