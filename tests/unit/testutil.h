/* Helpers shared by the unit tests, on top of tap.h: a check() that evaluates its condition once,
 * error-message checks, the temporary directory, small file helpers, and checks run in a forked
 * child that reports back to the parent over a pipe. Header-only: every helper is static inline,
 * so a test pays nothing for the ones it does not use. */
#ifndef BERTH_TESTS_TESTUTIL_H
#define BERTH_TESTS_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/util.h"
#include "tap.h"

/* tap.h's ok() evaluates its condition twice: conditions with side effects go through here */
#define check(cond, ...)                                                                           \
    do {                                                                                           \
        bool check_ = (cond);                                                                      \
        ok(check_, __VA_ARGS__);                                                                   \
    } while (0)

/* ---- checks run in a forked child, reported to the parent as lines over a pipe ---- */

/* In a child started by run_child() (or one that set it itself): the pipe to the parent. */
static int report_fd = -1;

static inline void creport(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void cdiag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One report line: "<kind> <text>\n", the text on one line. */
static inline void
vreport(char kind, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "%c ", kind);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t len = strlen(line);
    line[len++] = '\n';
    (void)berth_write_all(report_fd, line, len);
}

/* A test result, turned into an ok / not ok line by the parent. */
static inline void
creport(bool pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(pass ? '1' : '0', fmt, ap);
    va_end(ap);
}

/* A diagnostic, printed as a '#' line by the parent. */
static inline void
cdiag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport('#', fmt, ap);
    va_end(ap);
}

/* Define TESTUTIL_CCHECK_ERRNO before including this to have a failed ccheck() name errno too. */
#ifdef TESTUTIL_CCHECK_ERRNO
#define ccheck_failed_(cond)                                                                       \
    cdiag("  failed at %s:%d: %s (errno: %s)", __FILE__, __LINE__, cond, strerror(errno))
#else
#define ccheck_failed_(cond) cdiag("  failed at %s:%d: %s", __FILE__, __LINE__, cond)
#endif

/* check() for the child: the result goes to the parent */
#define ccheck(cond, ...)                                                                          \
    do {                                                                                           \
        bool ccheck_ = (cond);                                                                     \
        creport(ccheck_, __VA_ARGS__);                                                             \
        if (!ccheck_)                                                                              \
            ccheck_failed_(#cond);                                                                 \
    } while (0)

/* Relays the child's reports (until EOF on fd, which is closed) as TAP lines named after what. */
static inline void
relay_reports(const char *what, int fd)
{
    FILE *f = fdopen(fd, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        if (line[0] == '#') {
            printf("#%s\n", line + 1);
            continue;
        }
        bool pass = line[0] == '1';
        ok(pass, "%s: %s", what, line + 2);
    }
    free(line);
    if (f)
        fclose(f);
    else
        close(fd);
}

/* Waits for the child and checks that it exited 0. */
static inline void
reap(const char *what, pid_t pid)
{
    int status = 0;
    waitpid(pid, &status, 0);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ok(clean, "%s: the child exited cleanly (status 0x%x)", what, status);
}

typedef void (*child_fn)(const void *arg);

/* Runs fn(arg) in a forked child and turns what it reports into TAP lines here. */
static inline void
run_child(const char *what, child_fn fn, const void *arg)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        ok(false, "%s: pipe", what);
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        ok(false, "%s: fork", what);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        fn(arg);
        _exit(0);
    }
    close(p[1]);
    relay_reports(what, p[0]);
    reap(what, pid);
}

/* ---- forked children whose output is collected ---- */

typedef void (*capture_fn)(int fd, void *arg);

/* Runs fn(fd, arg) in a forked child, fd the write end of a pipe; with redirect >= 0, fd is also
 * dup'd onto redirect (STDOUT_FILENO, STDERR_FILENO) first. Returns what the child wrote, up to
 * max - 1 bytes, malloc'd and NUL-terminated; NULL if the pipe, the fork or the read failed.
 * *status is the child's wait status (-1 if there was none). */
static inline char *
capture_child(capture_fn fn, void *arg, int redirect, size_t max, int *status)
{
    int p[2];
    *status = -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return NULL;
    }
    if (pid == 0) {
        close(p[0]);
        if (redirect >= 0 && dup2(p[1], redirect) < 0)
            _exit(2);
        fn(p[1], arg);
        _exit(0);
    }
    close(p[1]);
    char *buf = malloc(max);
    if (!buf)
        abort();
    ssize_t n = berth_read_all(p[0], buf, max - 1);
    close(p[0]);
    waitpid(pid, status, 0);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- error messages ---- */

/* Whether e's message is want; a mismatch is shown as a diagnostic (through the parent when
 * called in a child started by run_child()). */
static inline bool
msg_is(const struct berth_error *e, const char *want)
{
    bool same = e && e->msg && !strcmp(e->msg, want);
    const char *got = e && e->msg ? e->msg : "(none)";
    if (!same && report_fd >= 0)
        cdiag("  message: '%s', expected: '%s'", got, want);
    else if (!same)
        printf("#   message: '%s'\n#   expected: '%s'\n", got, want);
    return same;
}

/* Whether e's message contains part. */
static inline bool
msg_has(const struct berth_error *e, const char *part)
{
    bool has = e && e->msg && strstr(e->msg, part);
    if (!has)
        printf("#   message: '%s'\n#   expected to contain: '%s'\n",
               e && e->msg ? e->msg : "(none)", part);
    return has;
}

/* ---- the temporary directory ---- */

/* The directory made by tmpdir_make(): what pathf() builds on. */
static const char *testutil_tmp;

/* mkdtemp(tmpl) ("/tmp/berth-<name>-XXXXXX", filled in); a failure is a failed test. */
static inline bool
tmpdir_make(char *tmpl)
{
    if (!mkdtemp(tmpl)) {
        ok(false, "mkdtemp: %s", strerror(errno));
        return false;
    }
    testutil_tmp = tmpl;
    return true;
}

/* Removes dir and everything in it, as the test named desc. */
static inline void
tmpdir_remove(const char *dir, const char *desc)
{
    struct berth_error *e = NULL;
    struct stat st;
    check(berth_rm_rf(dir, &e) == 0 && lstat(dir, &st) < 0, "%s", desc);
    berth_error_free(e);
}

static inline char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "<the temporary directory>/<formatted>", malloc'd; aborts on ENOMEM (tests only). */
static inline char *
pathf(const char *fmt, ...)
{
    char *rel = NULL, *full = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&rel, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&full, "%s/%s", testutil_tmp, rel) < 0)
        abort();
    free(rel);
    return full;
}

/* ---- files and fds ---- */

/* Writes len bytes of data to path, created or truncated (0644). */
static inline bool
put_data(const char *path, const void *data, size_t len)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd >= 0 && berth_write_all(fd, data, len) == 0;
}

/* Writes the string content to path, created or truncated (0644). */
static inline bool
put_file(const char *path, const char *content)
{
    return put_data(path, content, strlen(content));
}

/* The number of entries in dir but "." and ".."; -1 if it cannot be opened. */
static inline int
count_entries(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    return n;
}

/* The number of fds this process has open. */
static inline int
count_fds(void)
{
    int n = 0;
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    return n;
}

/* An AF_UNIX SOCK_SEQPACKET socketpair, close-on-exec: the channel runtime processes talk on. */
static inline bool
seqpacket_pair(int sp[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0;
}

#endif
