/* Small helpers: files, strings, numbers. */
#ifndef BERTH_CORE_UTIL_H
#define BERTH_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

/* Reads a whole file (at most max_size bytes, else EFBIG); *ret is NUL-terminated. */
int berth_read_file_at(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_len,
                       struct berth_error **err);
/* Reads what is left of an open fd (at most max_size bytes, else EFBIG); what names it in errors.
 */
int berth_read_fd(int fd, const char *what, size_t max_size, char **ret, size_t *ret_len,
                  struct berth_error **err);
int berth_read_file(const char *path, size_t max_size, char **ret, size_t *ret_len,
                    struct berth_error **err);
/* Writes data to an existing file (e.g. a cgroup or proc knob): open O_WRONLY, one write. */
int berth_write_file_at(int dirfd, const char *path, const void *data, size_t len,
                        struct berth_error **err);
int berth_write_file(const char *path, const void *data, size_t len, struct berth_error **err);
/* Writes a file atomically: temp file in the same directory, fsync, rename. */
int berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            struct berth_error **err);
/* Like berth_write_file_atomic without the fsync: readers never see a partial file, but a power
 * loss may lose it. For state on tmpfs (/run), which does not outlive the boot anyway. */
int berth_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                             struct berth_error **err);
/* mkdir -p; existing directories are fine. */
int berth_mkdir_p(const char *path, mode_t mode, struct berth_error **err);
int berth_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct berth_error **err);
/* Removes a directory tree (no symlink following, stays on one device). */
int berth_rm_rf(const char *path, struct berth_error **err);
/* Writes all of buf, retrying on EINTR and short writes. */
int berth_write_all(int fd, const void *buf, size_t len);
ssize_t berth_read_all(int fd, void *buf, size_t len);

bool berth_str_has_prefix(const char *s, const char *prefix);
bool berth_str_has_suffix(const char *s, const char *suffix);
/* strtoll/strtoull on the whole string, base 10; false on any junk or overflow. */
bool berth_parse_i64(const char *s, int64_t *ret);
bool berth_parse_u64(const char *s, uint64_t *ret);
/* Parses docker-style sizes: "64m", "1g", "1024", "512k" (base 1024). */
bool berth_parse_size(const char *s, int64_t *ret);
/* Number of elements in a NULL-terminated vector. */
size_t berth_strv_len(char *const *v);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int berth_strv_push(char ***v, const char *s);
char *berth_strv_join(char *const *v, const char *sep);
/* Formats an RFC 3339 timestamp with nanoseconds, UTC, like Go's time.RFC3339Nano. */
void berth_format_time(const struct timespec *ts, char *buf, size_t len);
/* Go's RFC3339Nano (trailing zeros of the fraction dropped); ns 0 gives Go's zero time
 * "0001-01-01T00:00:00Z", as moby shows never-set times. */
void berth_format_time_nano(int64_t ns, char *buf, size_t len);
/* Parses RFC 3339 ("2026-11-29T20:00:00.123Z", "+01:00" offsets); false if malformed. */
bool berth_parse_rfc3339(const char *s, int64_t *ret_ns);
/* Returns the start time of a process (field 22 of /proc/<pid>/stat), 0 if it is gone. */
uint64_t berth_proc_start_time(pid_t pid);

#endif
