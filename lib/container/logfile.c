/* The json-file log: docker's encoding, its time format, and the rotating writer the monitor
 * calls. The reader is in logfile_read.c. */
#include "container/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

/* ---- time ---- */

int64_t
berth_log_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil) */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *ret_y = (int64_t)yoe + era * 400 + (m <= 2);
    *ret_m = m;
    *ret_d = d;
}

size_t
berth_log_format_time(int64_t time_ns, char *buf, size_t len)
{
    int64_t secs = time_ns / 1000000000, ns = time_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    int n = snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (n < 0 || (size_t)n >= len)
        return 0;
    size_t at = (size_t)n;
    if (ns) {
        char frac[16];
        snprintf(frac, sizeof(frac), ".%09d", (int)ns);
        size_t fl = 10;
        while (frac[fl - 1] == '0')
            fl--;
        if (at + fl + 2 > len)
            return 0;
        memcpy(buf + at, frac, fl);
        at += fl;
    }
    if (at + 2 > len)
        return 0;
    buf[at++] = 'Z';
    buf[at] = '\0';
    return at;
}

static bool
digits(const char *s, size_t n, int *ret)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return true;
}

bool
berth_log_parse_time(const char *s, size_t len, int64_t *ret_ns)
{
    int y, mo, d, h, mi, sec;
    if (len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    size_t i = 19;
    int64_t ns = 0;
    if (i < len && s[i] == '.') {
        size_t nd = 0;
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
            if (nd < 9)
                ns = ns * 10 + (s[i] - '0');
        if (nd == 0)
            return false;
        for (; nd < 9; nd++)
            ns *= 10;
    }
    int64_t offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    int64_t secs =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    *ret_ns = secs * 1000000000 + ns;
    return true;
}

/* ---- encoding (moby's jsonlog.JSONLogs.MarshalJSONBuf) ---- */

size_t
berth_log_encoded_max(size_t len)
{
    /* every input byte becomes at most 6 ("\u00XX", or "\ufffd" for an invalid byte; a 3-byte
     * U+2028 becomes 6) */
    return len * 6 + 128;
}

/* The length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune), 0 if invalid; *ret_cp
 * the code point. */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned *ret_cp)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF, cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    cp = (cp << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *ret_cp = cp;
    return need;
}

static size_t
encode_string(char *out, const unsigned char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
                out[o++] = (char)b;
            } else if (b == '\\' || b == '"') {
                out[o++] = '\\';
                out[o++] = (char)b;
            } else if (b == '\n') {
                out[o++] = '\\';
                out[o++] = 'n';
            } else if (b == '\r') {
                out[o++] = '\\';
                out[o++] = 'r';
            } else {
                memcpy(out + o, "\\u00", 4);
                out[o + 4] = hex[b >> 4];
                out[o + 5] = hex[b & 0xF];
                o += 6;
            }
            i++;
            continue;
        }
        unsigned cp = 0;
        size_t n = utf8_seq(s + i, len - i, &cp);
        if (n == 0) {
            memcpy(out + o, "\\ufffd", 6);
            o += 6;
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            memcpy(out + o, "\\u202", 5);
            out[o + 5] = hex[cp & 0xF];
            o += 6;
            i += n;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o++] = '"';
    return o;
}

size_t
berth_log_encode(char *buf, int stream, int64_t time_ns, const void *data, size_t len)
{
    size_t o = 0;
    buf[o++] = '{';
    if (len) {
        memcpy(buf + o, "\"log\":", 6);
        o += 6;
        o += encode_string(buf + o, data, len);
        buf[o++] = ',';
    }
    const char *s = stream == BERTH_LOG_STDERR ? "\"stream\":\"stderr\",\"time\":\""
                                               : "\"stream\":\"stdout\",\"time\":\"";
    size_t sl = strlen(s);
    memcpy(buf + o, s, sl);
    o += sl;
    o += berth_log_format_time(time_ns, buf + o, 48);
    memcpy(buf + o, "\"}\n", 3);
    return o + 3;
}

/* ---- the writer ---- */

struct berth_log_writer {
    char *path;
    int fd;
    int64_t size;
    int64_t max_size;
    unsigned max_file;
    uint64_t errors;
    bool broken_tail; /* the file ends in a partial entry: start the next on a new line */
    char *pending[3]; /* per stream (index 1, 2): a line without its '\n' yet */
    size_t pending_len[3];
};

static int
writer_open_file(struct berth_log_writer *w)
{
    int fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    w->size = st.st_size;
    w->broken_tail = false;
    if (st.st_size > 0) {
        /* a file left by a crash may end mid-entry */
        char last = '\n';
        _cleanup_close_ int rfd = open(w->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (rfd >= 0 && pread(rfd, &last, 1, st.st_size - 1) == 1)
            w->broken_tail = last != '\n';
    }
    w->fd = fd;
    return 0;
}

int
berth_log_writer_open(const char *path, int64_t max_size, unsigned max_file,
                      struct berth_log_writer **ret, struct berth_error **err)
{
    struct berth_log_writer *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return berth_error_set(err, ENOMEM, "log writer");
    }
    w->fd = -1;
    w->max_size = max_size > 0 ? max_size : 0;
    w->max_file = max_file ? max_file : 1;
    int r = writer_open_file(w);
    if (r < 0) {
        free(w->path);
        free(w);
        return berth_error_set(err, -r, "open log '%s'", path);
    }
    *ret = w;
    return 0;
}

static int
writer_rotate(struct berth_log_writer *w)
{
    if (w->max_file <= 1) {
        if (w->fd >= 0 && ftruncate(w->fd, 0) < 0)
            return -errno;
        w->size = 0;
        w->broken_tail = false;
        return w->fd >= 0 ? 0 : writer_open_file(w);
    }
    size_t plen = strlen(w->path) + 16;
    _cleanup_free_ char *from = malloc(plen), *to = malloc(plen);
    if (!from || !to)
        return -ENOMEM;
    for (unsigned i = w->max_file - 1; i >= 2; i--) {
        snprintf(from, plen, "%s.%u", w->path, i - 1);
        snprintf(to, plen, "%s.%u", w->path, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            return -errno;
    }
    snprintf(to, plen, "%s.1", w->path);
    if (rename(w->path, to) < 0 && errno != ENOENT)
        return -errno;
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    return writer_open_file(w);
}

int
berth_log_writer_entry(struct berth_log_writer *w, int stream, int64_t time_ns, const void *data,
                       size_t len)
{
    int r;
    if (w->fd < 0 && (r = writer_open_file(w)) < 0) {
        w->errors++;
        return r;
    }
    if (w->max_size > 0 && w->size >= w->max_size && (r = writer_rotate(w)) < 0) {
        /* keep writing where we are (or nowhere, if the file is gone): the log is best effort */
        if (w->fd < 0) {
            w->errors++;
            return r;
        }
    }
    char small[4096];
    size_t max = berth_log_encoded_max(len) + 1;
    _cleanup_free_ char *big = NULL;
    char *buf = small;
    if (max > sizeof(small) && !(buf = big = malloc(max))) {
        w->errors++;
        return -ENOMEM;
    }
    size_t n = 0;
    if (w->broken_tail)
        buf[n++] = '\n';
    n += berth_log_encode(buf + n, stream, time_ns, data, len);
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(w->fd, buf + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            r = k < 0 ? -errno : -EIO;
            w->errors++;
            /* a partial entry is cut off again; if that fails too, the next entry starts on a
             * new line (the reader skips the broken one) */
            if (done > 0 && ftruncate(w->fd, w->size) < 0) {
                w->size += (int64_t)done;
                w->broken_tail = true;
            }
            return r;
        }
        done += (size_t)k;
    }
    w->size += (int64_t)n;
    w->broken_tail = false;
    return 0;
}

static int
stream_index(int stream)
{
    return stream == BERTH_LOG_STDERR ? 2 : 1;
}

void
berth_log_writer_output(struct berth_log_writer *w, int stream, int64_t time_ns, const void *data,
                        size_t len)
{
    int s = stream_index(stream);
    const char *p = data;
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t line = nl ? (size_t)(nl - p) + 1 : len;
        if (w->pending_len[s] == 0) {
            if (line > BERTH_LOG_LINE_MAX) {
                (void)berth_log_writer_entry(w, s, time_ns, p, BERTH_LOG_LINE_MAX);
                p += BERTH_LOG_LINE_MAX;
                len -= BERTH_LOG_LINE_MAX;
            } else if (nl) {
                (void)berth_log_writer_entry(w, s, time_ns, p, line);
                p += line;
                len -= line;
            } else {
                if (!w->pending[s] && !(w->pending[s] = malloc(BERTH_LOG_LINE_MAX))) {
                    w->errors++;
                    return;
                }
                memcpy(w->pending[s], p, len);
                w->pending_len[s] = len;
                return;
            }
            continue;
        }
        size_t room = BERTH_LOG_LINE_MAX - w->pending_len[s];
        size_t take = line < room ? line : room;
        memcpy(w->pending[s] + w->pending_len[s], p, take);
        w->pending_len[s] += take;
        p += take;
        len -= take;
        if (w->pending_len[s] == BERTH_LOG_LINE_MAX || w->pending[s][w->pending_len[s] - 1] == '\n')
            berth_log_writer_flush(w, s, time_ns);
    }
}

void
berth_log_writer_flush(struct berth_log_writer *w, int stream, int64_t time_ns)
{
    int s = stream_index(stream);
    if (w->pending_len[s] > 0)
        (void)berth_log_writer_entry(w, s, time_ns, w->pending[s], w->pending_len[s]);
    w->pending_len[s] = 0;
    free(w->pending[s]);
    w->pending[s] = NULL;
}

uint64_t
berth_log_writer_errors(const struct berth_log_writer *w)
{
    return w->errors;
}

void
berth_log_writer_close(struct berth_log_writer *w)
{
    if (!w)
        return;
    int64_t now = berth_log_now();
    berth_log_writer_flush(w, BERTH_LOG_STDOUT, now);
    berth_log_writer_flush(w, BERTH_LOG_STDERR, now);
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w);
}
