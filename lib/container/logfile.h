/* The json-file log: docker's format, written by berth-monitor, read by berthd for
 * GET /containers/{id}/logs.
 *
 * One entry per line, byte for byte what dockerd's json-file driver writes:
 *   {"log":"text\n","stream":"stdout","time":"2026-11-29T20:00:00.123456789Z"}\n
 * (Go's escaping: <, >, & and control bytes as \u00XX, invalid UTF-8 as \ufffd, U+2028/2029
 * escaped; the time in RFC3339Nano, trailing zeros of the fraction trimmed). Output is split
 * into entries at each '\n' (kept in the entry) and at BERTH_LOG_LINE_MAX bytes (a chunk of a
 * longer line is an entry without '\n'; concatenating the entries gives the output back).
 *
 * Rotation: before an entry is written, a file that has reached max_size is renamed to FILE.1
 * (FILE.1 to FILE.2, ... up to FILE.(max_file-1), the oldest dropped) and a new FILE started;
 * with max_file <= 1 the file is truncated instead. Entries are in time order across
 * FILE.(max_file-1) ... FILE.1, FILE. */
#ifndef BERTH_CONTAINER_LOGFILE_H
#define BERTH_CONTAINER_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* docker's copier buffer: a line longer than this is logged in chunks of this size */
#define BERTH_LOG_LINE_MAX (16u * 1024)
/* the longest line the reader accepts (an escaped BERTH_LOG_LINE_MAX chunk is < 100 KiB) */
#define BERTH_LOG_READ_LINE_MAX (1u << 20)
/* how many rotated files the reader looks for when max_file is not given */
#define BERTH_LOG_MAX_FILES 100

enum berth_log_stream { BERTH_LOG_STDOUT = 1, BERTH_LOG_STDERR = 2 };

/* ---- encoding ---- */

/* The most bytes berth_log_encode() writes for len bytes of data. */
size_t berth_log_encoded_max(size_t len);
/* Encodes one entry (with the final '\n') into buf, which holds berth_log_encoded_max(len)
 * bytes; returns the length. */
size_t berth_log_encode(char *buf, int stream, int64_t time_ns, const void *data, size_t len);
/* Go's time.RFC3339Nano in UTC: "2026-11-29T20:00:00.1234Z" (the fraction's trailing zeros and
 * an all-zero fraction dropped). buf holds at least 40 bytes. Returns the length. */
size_t berth_log_format_time(int64_t time_ns, char *buf, size_t len);
/* Parses an RFC 3339 time (fraction optional, 'Z' or a numeric offset) to ns since the epoch. */
bool berth_log_parse_time(const char *s, size_t len, int64_t *ret_ns);
/* The current time (CLOCK_REALTIME) in ns. */
int64_t berth_log_now(void);

/* ---- the rotating writer (berth-monitor) ---- */

struct berth_log_writer;

/* Opens (creates, appends to) path. max_size 0: never rotate; max_file 0 counts as 1. */
int berth_log_writer_open(const char *path, int64_t max_size, unsigned max_file,
                          struct berth_log_writer **ret, struct berth_error **err);
/* Writes one entry as given (no splitting), rotating first when due. A write error is counted
 * (berth_log_writer_errors), never fatal: the entry is lost, the writer goes on (a partial write
 * is cut off again, or else terminated so the next entry starts on its own line). Returns 0 or
 * -errno. */
int berth_log_writer_entry(struct berth_log_writer *w, int stream, int64_t time_ns,
                           const void *data, size_t len);
/* Adds output of a stream: complete lines are written as entries at time_ns, the rest is held
 * (per stream) until its '\n' arrives, it reaches BERTH_LOG_LINE_MAX, or a flush. */
void berth_log_writer_output(struct berth_log_writer *w, int stream, int64_t time_ns,
                             const void *data, size_t len);
/* Writes what a stream holds (a last line without '\n') as an entry. */
void berth_log_writer_flush(struct berth_log_writer *w, int stream, int64_t time_ns);
/* Entries lost to write, rename or open errors. */
uint64_t berth_log_writer_errors(const struct berth_log_writer *w);
/* Flushes both streams and closes; accepts NULL. */
void berth_log_writer_close(struct berth_log_writer *w);

/* ---- the reader (berthd) ---- */

struct berth_log_entry {
    int stream; /* BERTH_LOG_STDOUT or BERTH_LOG_STDERR */
    int64_t time_ns;
    const char *data; /* the "log" text, valid during the callback only; may contain NULs */
    size_t len;
};

struct berth_log_read_opts {
    const char *path;       /* FILE; rotated files are FILE.1 ... */
    unsigned max_file;      /* 0: look for FILE.1 .. FILE.BERTH_LOG_MAX_FILES-1 */
    bool want_stdout;       /* which entries the callback sees */
    bool want_stderr;       /* (tail counts every entry, as dockerd's does) */
    int64_t tail;           /* the last N entries; -1: all */
    int64_t since_ns;       /* entries at or after; 0: unset */
    int64_t until_ns;       /* entries at or before; 0: unset (the first later one ends the read) */
    bool follow;            /* then wait for new entries, across rotations */
    int follow_interval_ms; /* how often keep_following is polled while idle; 0: 250 */
};

/* Returns < 0 to stop the read (that value is returned). */
typedef int (*berth_log_cb)(void *cls, const struct berth_log_entry *e);
/* Polled while following, after what is in the files has been delivered; false ends the read
 * after one last pass over what is in the files (so a container that exited with its output
 * drained loses nothing). */
typedef bool (*berth_log_keep_following)(void *cls);

/* Delivers the selected entries in order. A missing log is an empty log. Malformed lines are
 * skipped. tail reads blocks backwards from the end; since is a binary search; until stops at
 * the first later entry. Returns 0, the callback's negative value, or -errno with *err set. */
int berth_log_read(const struct berth_log_read_opts *o, berth_log_cb cb,
                   berth_log_keep_following keep_following, void *cls, struct berth_error **err);

#endif
