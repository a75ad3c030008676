#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

int
berth_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t
berth_read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int
berth_read_fd(int fd, const char *path, size_t max_size, char **ret, size_t *ret_len,
              struct berth_error **err)
{
    /* room for one byte past max_size, so a file of exactly max_size reads whole and a
     * larger one is noticed without reading it all */
    size_t limit = max_size + 1, cap = limit < 4096 ? limit : 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (!buf)
        return berth_error_set(err, ENOMEM, "read '%s'", path);
    for (;;) {
        if (len == cap) {
            if (cap >= limit)
                return berth_error_setq(err, EFBIG, "read '%s': file larger than %zu bytes", path,
                                        max_size);
            size_t ncap = cap * 2 > limit ? limit : cap * 2;
            char *n = realloc(buf, ncap + 1);
            if (!n)
                return berth_error_set(err, ENOMEM, "read '%s'", path);
            buf = n;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return berth_error_set(err, errno, "read '%s'", path);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max_size)
        return berth_error_setq(err, EFBIG, "read '%s': file larger than %zu bytes", path,
                                max_size);
    buf[len] = '\0';
    if (ret_len)
        *ret_len = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

int
berth_read_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_len,
                   struct berth_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return berth_error_set(err, errno, "open '%s'", path);
    return berth_read_fd(fd, path, max_size, ret, ret_len, err);
}

int
berth_read_file(const char *path, size_t max_size, char **ret, size_t *ret_len,
                struct berth_error **err)
{
    return berth_read_file_at(AT_FDCWD, path, max_size, ret, ret_len, err);
}

int
berth_write_file_at(int dirfd, const char *path, const void *data, size_t len,
                    struct berth_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return berth_error_set(err, errno, "open '%s'", path);
    int r = berth_write_all(fd, data, len);
    if (r < 0)
        return berth_error_set(err, -r, "write '%s'", path);
    return 0;
}

int
berth_write_file(const char *path, const void *data, size_t len, struct berth_error **err)
{
    return berth_write_file_at(AT_FDCWD, path, data, len, err);
}

static int
write_replace(const char *path, const void *data, size_t len, mode_t mode, bool sync,
              struct berth_error **err)
{
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
        return berth_error_set(err, ENOMEM, "write '%s'", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return berth_error_set(err, errno, "create '%s'", tmp);
    int r = berth_write_all(fd, data, len);
    if (r == 0 && sync && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return berth_error_set(err, -r, "write '%s'", path);
    }
    return 0;
}

int
berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        struct berth_error **err)
{
    return write_replace(path, data, len, mode, true, err);
}

int
berth_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                         struct berth_error **err)
{
    return write_replace(path, data, len, mode, false, err);
}

int
berth_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct berth_error **err)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "mkdir '%s'", path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdirat(dirfd, copy, mode) < 0 && errno != EEXIST)
            return berth_error_set(err, errno, "mkdir '%s'", copy);
        *p = '/';
    }
    if (mkdirat(dirfd, copy, mode) < 0 && errno != EEXIST)
        return berth_error_set(err, errno, "mkdir '%s'", copy);
    return 0;
}

int
berth_mkdir_p(const char *path, mode_t mode, struct berth_error **err)
{
    return berth_mkdir_p_at(AT_FDCWD, path, mode, err);
}

static int
rm_rf_at(int parent, const char *name, dev_t dev, struct berth_error **err)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_error_set(err, errno, "stat '%s'", name);
    }
    if (S_ISDIR(st.st_mode)) {
        if (st.st_dev != dev)
            return berth_error_setq(err, EBUSY, "refusing to remove '%s': a mount point", name);
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return berth_error_set(err, errno, "open '%s'", name);
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return berth_error_set(err, errno, "opendir '%s'", name);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            int r = rm_rf_at(dirfd(d), de->d_name, dev, err);
            if (r < 0)
                return r;
        }
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return berth_error_set(err, errno, "rmdir '%s'", name);
        return 0;
    }
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
        return berth_error_set(err, errno, "unlink '%s'", name);
    return 0;
}

int
berth_rm_rf(const char *path, struct berth_error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return berth_error_set(err, errno, "stat '%s'", path);
    }
    return rm_rf_at(AT_FDCWD, path, st.st_dev, err);
}

bool
berth_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
berth_str_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool
berth_parse_i64(const char *s, int64_t *ret)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

bool
berth_parse_u64(const char *s, uint64_t *ret)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

bool
berth_parse_size(const char *s, int64_t *ret)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return false;
    double mul = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'b':
        end++;
        break;
    case 'k':
        mul = 1024.0, end++;
        break;
    case 'm':
        mul = 1024.0 * 1024, end++;
        break;
    case 'g':
        mul = 1024.0 * 1024 * 1024, end++;
        break;
    case 't':
        mul = 1024.0 * 1024 * 1024 * 1024, end++;
        break;
    default:
        return false;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return false;
    v *= mul;
    if (!(v < (double)INT64_MAX)) /* NaN, and 2^63 (what (double) INT64_MAX rounds to) */
        return false;
    *ret = (int64_t)v;
    return true;
}

size_t
berth_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

int
berth_strv_push(char ***v, const char *s)
{
    size_t n = berth_strv_len(*v);
    char **nv = realloc(*v, (n + 2) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    nv[n] = strdup(s);
    if (!nv[n]) {
        nv[n] = NULL;
        return -ENOMEM;
    }
    nv[n + 1] = NULL;
    return 0;
}

char *
berth_strv_join(char *const *v, const char *sep)
{
    size_t total = 1, seplen = strlen(sep);
    for (size_t i = 0; v && v[i]; i++)
        total += strlen(v[i]) + seplen;
    char *out = malloc(total);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; v && v[i]; i++) {
        if (i) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
        size_t l = strlen(v[i]);
        memcpy(p, v[i], l);
        p += l;
    }
    *p = '\0';
    return out;
}

void
berth_format_time(const struct timespec *ts, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%09ldZ", base, ts->tv_nsec);
}

void
berth_format_time_nano(int64_t ns, char *buf, size_t len)
{
    if (ns <= 0) {
        snprintf(buf, len, "0001-01-01T00:00:00Z");
        return;
    }
    time_t sec = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32], fs[16] = "";
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        snprintf(fs, sizeof(fs), ".%09ld", frac);
        size_t n = strlen(fs);
        while (n > 1 && fs[n - 1] == '0')
            fs[--n] = '\0';
    }
    snprintf(buf, len, "%s%sZ", base, fs);
}

bool
berth_parse_rfc3339(const char *s, int64_t *ret_ns)
{
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return false;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return false;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return false;
        offset = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    *ret_ns = ((int64_t)timegm(&tm) - offset) * 1000000000LL + frac;
    return true;
}

uint64_t
berth_proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* comm may contain spaces and parentheses: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    /* after ')' come field 3 (state) ... field 22 (starttime) */
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 3 && tok[0] == 'Z')
            return 0; /* a zombie is as good as gone */
        if (field == 22) {
            uint64_t v;
            return berth_parse_u64(tok, &v) ? v : 0;
        }
    }
    return 0;
}
