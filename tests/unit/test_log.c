/* Unit tests of lib/core/log.c: the runtime's log file in runc's two formats (JSON lines that
 * containerd's shim parses, logrus-style text), escaping, the level filter, and errors that
 * always reach stderr too. The logger keeps global state: every case runs in a forked child
 * whose stderr is a pipe, and the parent reads the pipe and the log file. Files under a mkdtemp
 * directory, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-log-XXXXXX";

/* ---- running a case in a child with stderr on a pipe ---- */

typedef void (*log_fn)(const char *path);

struct log_call {
    log_fn fn;
    const char *path;
};

/* In the child, stderr already on the pipe. */
static void
call_logging(int fd, void *arg)
{
    const struct log_call *c = arg;
    umask(022);
    c->fn(c->path);
}

/* Runs fn(path) in a child whose stderr is a pipe; returns what it wrote there (malloc'd), or
 * NULL if the child did not exit 0 (fn exits non-zero itself when a step fails). */
static char *
run_logging(log_fn fn, const char *path)
{
    int status;
    char *out =
        capture_child(call_logging, &(struct log_call){fn, path}, STDERR_FILENO, 65536, &status);
    if (!out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("#   the child failed: status 0x%x\n", status);
        free(out);
        return NULL;
    }
    return out;
}

static char *
read_text(const char *path)
{
    char *t = NULL;
    if (berth_read_file(path, 1u << 20, &t, NULL, NULL) < 0)
        return NULL;
    return t;
}

/* The lines of text (without their '\n'), NULL-terminated; the last line must end in '\n'. */
static char **
split_lines(const char *text, bool *ret_terminated)
{
    char **v = calloc(1, sizeof(char *));
    size_t n = 0;
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char **nv = realloc(v, (n + 2) * sizeof(char *));
        if (!nv)
            abort();
        v = nv;
        v[n++] = strndup(p, len);
        v[n] = NULL;
        p = nl ? nl + 1 : p + len;
    }
    if (ret_terminated)
        *ret_terminated = !text || !*text || text[strlen(text) - 1] == '\n';
    return v;
}

/* RFC 3339 with fractional seconds ("2024-05-01T12:00:00.123456789Z" or "+02:00"), and within a
 * minute of now. */
static bool
is_rfc3339_now(const char *s)
{
    struct tm tm = {0};
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return false;
    if (*p == '.') {
        size_t digits = strspn(p + 1, "0123456789");
        if (digits == 0 || digits > 9)
            return false;
        p += 1 + digits;
    }
    long off = 0;
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');
        off = (*p == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    time_t t = timegm(&tm) - off;
    time_t now = time(NULL);
    return t > now - 60 && t < now + 60;
}

/* Parses a JSON log line: an object of exactly level, msg and time (strings). */
static json_t *
parse_json_line(const char *line)
{
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    if (!o) {
        printf("#   not JSON (%s): %s\n", jerr.text, line);
        return NULL;
    }
    if (!json_is_object(o) || json_object_size(o) != 3 ||
        !json_is_string(json_object_get(o, "level")) ||
        !json_is_string(json_object_get(o, "msg")) || !json_is_string(json_object_get(o, "time"))) {
        printf("#   not {level, msg, time}: %s\n", line);
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *
jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- JSON ---- */

static void
log_json_basic(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(3);
    berth_log(BERTH_LOG_ERROR, "plain error %d", 42);
    berth_log(BERTH_LOG_WARN, "a warning about %s", "disks");
    berth_log(BERTH_LOG_INFO, "info is hidden");
    berth_debug("debug is hidden %s", "too");
    berth_log(BERTH_LOG_DEBUG, "a direct debug is hidden");
}

static void
test_json_basic(void)
{
    _cleanup_free_ char *path = pathf("basic.json");
    _cleanup_free_ char *err = run_logging(log_json_basic, path);
    is_str(err, "plain error 42\n", "an error goes to stderr too, bare; the warning does not");
    _cleanup_free_ char *text = read_text(path);
    bool term = false;
    _cleanup_strv_ char **lines = text ? split_lines(text, &term) : NULL;
    size_t n = berth_strv_len(lines);
    ok(text && n == 2 && term, "two lines in the file (error, warning), newline-terminated");
    if (n != 2)
        printf("#   file: '%s'\n", text ? text : "(missing)");
    json_t *e = n > 0 ? parse_json_line(lines[0]) : NULL;
    json_t *w = n > 1 ? parse_json_line(lines[1]) : NULL;
    ok(e != NULL, "the error line is a JSON object of level, msg and time");
    if (e) {
        is_str(jstr(e, "level"), "error", "level error");
        is_str(jstr(e, "msg"), "plain error 42", "msg formatted");
        const char *t = jstr(e, "time");
        bool rfc = is_rfc3339_now(t);
        ok(rfc, "time is RFC 3339 and now: %s", t);
        ok(strstr(lines[0], "{\"level\":\"error\",\"msg\":") == lines[0],
           "runc's key order: level, msg, time");
    }
    ok(w != NULL, "the warning line parses");
    if (w) {
        is_str(jstr(w, "level"), "warning", "level warning (logrus's name)");
        is_str(jstr(w, "msg"), "a warning about disks", "msg");
    }
    ok(text && !strstr(text, "hidden"), "info and debug suppressed at max level warning");
    json_decref(e);
    json_decref(w);

    /* the file is created 0644 (umask 022) and the fd does not leak into children */
    struct stat st;
    check(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "log file mode 0644");
}

static const char special[] = "quote \" backslash \\ slash / newline \n tab \t cr \r bell \a "
                              "esc \x1b unit-sep \x1f del \x7f utf-8 \xc3\xa9 \xe2\x98\x83 end";

static void
log_json_special(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(3);
    berth_log(BERTH_LOG_ERROR, "%s", special);
    berth_log(BERTH_LOG_WARN, "percent %% and %s", "%s %n");
}

static void
test_json_special(void)
{
    _cleanup_free_ char *path = pathf("special.json");
    _cleanup_free_ char *err = run_logging(log_json_special, path);
    char want_err[256];
    snprintf(want_err, sizeof(want_err), "%s\n", special);
    is_str(err, want_err, "stderr gets the message as it is");
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    ok(n == 2, "a newline in the message does not split the line (%zu lines)", n);
    bool raw_ctl = false;
    for (const unsigned char *p = (const unsigned char *)(n ? lines[0] : ""); *p; p++)
        if (*p < 0x20)
            raw_ctl = true;
    ok(n && !raw_ctl, "no raw control character in the line");
    ok(n && strstr(lines[0], "quote \\\" backslash \\\\ slash"), "quote and backslash escaped");
    ok(n && (strstr(lines[0], "newline \\n tab \\t cr \\r") ||
             strstr(lines[0], "newline \\u000a tab \\u0009 cr \\u000d")),
       "newline, tab, cr escaped");
    json_t *o = n ? parse_json_line(lines[0]) : NULL;
    ok(o != NULL, "the line parses as JSON");
    if (o)
        is_str(jstr(o, "msg"), special, "msg round-trips: every special character intact");
    json_decref(o);
    o = n > 1 ? parse_json_line(lines[1]) : NULL;
    if (o)
        is_str(jstr(o, "msg"), "percent % and %s %n", "format directives in arguments are text");
    else
        ok(false, "the second line parses");
    json_decref(o);
}

static void
log_json_long(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(3);
    char *big = malloc(10001);
    if (!big)
        _exit(2);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    berth_log(BERTH_LOG_WARN, "%s", big);
    memset(big, '\x01', 3000); /* six bytes each once escaped: more than the buffer */
    big[3000] = '\0';
    berth_log(BERTH_LOG_WARN, "%s", big);
    memset(big, '"', 5000);
    big[5000] = '\0';
    berth_log(BERTH_LOG_WARN, "%s", big);
    free(big);
}

static bool
all_of(const char *s, char c)
{
    for (; s && *s; s++)
        if (*s != c)
            return false;
    return s != NULL;
}

static void
test_json_long(void)
{
    _cleanup_free_ char *path = pathf("long.json");
    _cleanup_free_ char *err = run_logging(log_json_long, path);
    ok(err && !*err, "warnings stay off stderr when there is a file");
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    ok(n == 3, "three lines for three long messages");
    json_t *o = n > 0 ? parse_json_line(lines[0]) : NULL;
    const char *m = o ? jstr(o, "msg") : NULL;
    ok(m && strlen(m) >= 4000 && strlen(m) < 10000 && all_of(m, 'a'),
       "a 10000-byte message is cut (%zu bytes) but the line is valid JSON", m ? strlen(m) : 0);
    json_decref(o);
    o = n > 1 ? parse_json_line(lines[1]) : NULL;
    m = o ? jstr(o, "msg") : NULL;
    ok(m && strlen(m) > 1000 && all_of(m, '\x01'),
       "3000 control characters: escapes are never cut in half (%zu kept)", m ? strlen(m) : 0);
    json_decref(o);
    o = n > 2 ? parse_json_line(lines[2]) : NULL;
    m = o ? jstr(o, "msg") : NULL;
    ok(m && strlen(m) > 1000 && all_of(m, '"'), "5000 quotes: valid JSON (%zu kept)",
       m ? strlen(m) : 0);
    json_decref(o);
}

static void
log_json_debug(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_DEBUG) < 0)
        _exit(3);
    if (!berth_log_enabled(BERTH_LOG_DEBUG) || !berth_log_enabled(BERTH_LOG_INFO))
        _exit(4);
    berth_log(BERTH_LOG_INFO, "info shown");
    berth_debug("debug shown %d", 7);
}

static void
test_json_debug(void)
{
    _cleanup_free_ char *path = pathf("debug.json");
    _cleanup_free_ char *err = run_logging(log_json_debug, path);
    ok(err && !*err, "max level debug: enabled for debug and info, nothing on stderr");
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    json_t *i = n > 0 ? parse_json_line(lines[0]) : NULL;
    json_t *d = n > 1 ? parse_json_line(lines[1]) : NULL;
    ok(n == 2 && i && d, "info and debug lines written");
    if (i && d) {
        ok(!strcmp(jstr(i, "level"), "info") && !strcmp(jstr(i, "msg"), "info shown"), "info line");
        ok(!strcmp(jstr(d, "level"), "debug") && !strcmp(jstr(d, "msg"), "debug shown 7"),
           "debug line (berth_debug)");
    }
    json_decref(i);
    json_decref(d);
}

/* ---- text ---- */

static void
log_text(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_TEXT, BERTH_LOG_INFO) < 0)
        _exit(3);
    berth_log(BERTH_LOG_ERROR, "text error %s", "here");
    berth_log(BERTH_LOG_WARN, "text warning");
    berth_log(BERTH_LOG_INFO, "text info");
    berth_debug("text debug");
}

/* time="..." level=L msg="M" */
static bool
parse_text_line(const char *line, char *time_, char *level, char *msg, size_t len)
{
    const char *p = line;
    if (strncmp(p, "time=\"", 6))
        return false;
    p += 6;
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= len)
        return false;
    memcpy(time_, p, (size_t)(q - p));
    time_[q - p] = '\0';
    p = q + 1;
    if (strncmp(p, " level=", 7))
        return false;
    p += 7;
    q = strchr(p, ' ');
    if (!q || (size_t)(q - p) >= len)
        return false;
    memcpy(level, p, (size_t)(q - p));
    level[q - p] = '\0';
    p = q + 1;
    if (strncmp(p, "msg=\"", 5))
        return false;
    p += 5;
    size_t l = strlen(p);
    if (l == 0 || p[l - 1] != '"' || l - 1 >= len)
        return false;
    memcpy(msg, p, l - 1);
    msg[l - 1] = '\0';
    return true;
}

static void
test_text(void)
{
    _cleanup_free_ char *path = pathf("log.txt");
    _cleanup_free_ char *err = run_logging(log_text, path);
    is_str(err, "text error here\n", "text format: the error on stderr as well");
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    ok(n == 3, "error, warning and info lines; debug suppressed at max level info");
    static const char *const want_level[] = {"error", "warning", "info"};
    static const char *const want_msg[] = {"text error here", "text warning", "text info"};
    for (size_t i = 0; i < n && i < 3; i++) {
        char t[128], level[64], msg[256];
        bool parsed = parse_text_line(lines[i], t, level, msg, sizeof(t));
        ok(parsed, "line %zu is time=\"...\" level=... msg=\"...\": %s", i + 1, lines[i]);
        if (!parsed)
            continue;
        bool rfc = is_rfc3339_now(t);
        ok(rfc, "line %zu: time is RFC 3339 (%s)", i + 1, t);
        is_str(level, want_level[i], "line %zu: level", i + 1);
        is_str(msg, want_msg[i], "line %zu: msg", i + 1);
    }
}

static void
log_text_special(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_TEXT, BERTH_LOG_WARN) < 0)
        _exit(3);
    berth_log(BERTH_LOG_WARN, "say \"hi\"\nbye");
}

static void
test_text_special(void)
{
    _cleanup_free_ char *path = pathf("special.txt");
    _cleanup_free_ char *err = run_logging(log_text_special, path);
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    char t[128], level[64], msg[256];
    bool parsed = n == 1 && parse_text_line(lines[0], t, level, msg, sizeof(t));
    /* logrus quotes the value as Go's %q does: msg="say \"hi\"\nbye" on one line */
    check(parsed && !strcmp(msg, "say \\\"hi\\\"\\nbye"),
          "text format: quotes and newline escaped as logrus does, one line");
}

/* ---- no file, reopening, failures ---- */

static void
log_no_file(const char *path)
{
    (void)path;
    if (berth_log_open(NULL, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0 || berth_log_fd() != -1)
        _exit(3);
    berth_log(BERTH_LOG_ERROR, "e1");
    berth_log(BERTH_LOG_WARN, "w1");
    berth_log(BERTH_LOG_INFO, "i1 hidden");
    berth_debug("d1 hidden");
    if (berth_log_open(NULL, BERTH_LOG_TEXT, BERTH_LOG_DEBUG) < 0)
        _exit(4);
    berth_log(BERTH_LOG_INFO, "i2");
    berth_debug("d2 %d", 2);
}

static void
test_no_file(void)
{
    _cleanup_free_ char *err = run_logging(log_no_file, NULL);
    is_str(err, "e1\nwarning: w1\ninfo: i2\ndebug: d2 2\n",
           "no file: everything allowed goes to stderr, levels other than error prefixed");
}

static void
log_append(const char *path)
{
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(3);
    int fd = berth_log_fd();
    int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
    int st = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    if (fl < 0 || !(fl & FD_CLOEXEC))
        _exit(4);
    if (st < 0 || !(st & O_APPEND))
        _exit(5);
    berth_log(BERTH_LOG_WARN, "appended");
}

static void
test_append(void)
{
    _cleanup_free_ char *path = pathf("append.json");
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    check(fd >= 0 && berth_write_all(fd, "old line\n", 9) == 0, "a log file with a line in it");
    _cleanup_free_ char *err = run_logging(log_append, path);
    ok(err != NULL, "berth_log_fd: the file's fd, close-on-exec, O_APPEND");
    _cleanup_free_ char *err2 = run_logging(log_append, path);
    _cleanup_free_ char *text = read_text(path);
    _cleanup_strv_ char **lines = text ? split_lines(text, NULL) : NULL;
    size_t n = berth_strv_len(lines);
    ok(n == 3 && !strcmp(lines[0], "old line") && strstr(lines[1], "\"appended\"") &&
           strstr(lines[2], "\"appended\""),
       "two runs append after the existing line");
    struct stat st;
    check(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "an existing file keeps its mode");
}

static void
log_bad_path(const char *path)
{
    int r = berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN);
    if (r != -1 || berth_log_fd() != -1)
        _exit(3);
    /* the logger still works, on stderr */
    berth_log(BERTH_LOG_WARN, "still here");
}

static void
test_bad_path(void)
{
    _cleanup_free_ char *path = pathf("no/such/dir/log.json");
    _cleanup_free_ char *err = run_logging(log_bad_path, path);
    is_str(err, "warning: still here\n", "a log path that cannot be opened: -1, stderr only");
}

static void
log_reopen(const char *path)
{
    _cleanup_free_ char *second = NULL;
    if (asprintf(&second, "%s.2", path) < 0)
        _exit(2);
    if (berth_log_open(path, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(3);
    berth_log(BERTH_LOG_WARN, "to the first");
    if (berth_log_open(second, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(4);
    berth_log(BERTH_LOG_WARN, "to the second");
    if (berth_log_open(NULL, BERTH_LOG_JSON, BERTH_LOG_WARN) < 0)
        _exit(5);
    berth_log(BERTH_LOG_WARN, "to stderr");
}

static void
test_reopen(void)
{
    _cleanup_free_ char *path = pathf("first.json");
    _cleanup_free_ char *second = pathf("first.json.2");
    _cleanup_free_ char *err = run_logging(log_reopen, path);
    _cleanup_free_ char *t1 = read_text(path);
    _cleanup_free_ char *t2 = read_text(second);
    ok(t1 && strstr(t1, "to the first") && !strstr(t1, "to the second"),
       "reopening: the first file has only its line");
    ok(t2 && strstr(t2, "to the second"), "the second file gets the next line");
    /* log.h: "path NULL: stderr only" */
    check(err && !strcmp(err, "warning: to stderr\n"), "reopening with NULL: stderr only");
}

static void
test_enabled(void)
{
    /* the parent's own logger: levels only, nothing is written */
    check(berth_log_open(NULL, BERTH_LOG_TEXT, BERTH_LOG_WARN) == 0, "open without a file");
    bool e = berth_log_enabled(BERTH_LOG_ERROR), w = berth_log_enabled(BERTH_LOG_WARN),
         i = berth_log_enabled(BERTH_LOG_INFO), d = berth_log_enabled(BERTH_LOG_DEBUG);
    ok(e && w && !i && !d, "max warning: error and warning enabled, info and debug not");
    check(berth_log_open(NULL, BERTH_LOG_TEXT, BERTH_LOG_ERROR) == 0, "max error");
    w = berth_log_enabled(BERTH_LOG_WARN);
    ok(!w, "max error: warning disabled");
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    test_json_basic();
    test_json_special();
    test_json_long();
    test_json_debug();
    test_text();
    test_text_special();
    test_no_file();
    test_append();
    test_bad_path();
    test_reopen();
    test_enabled();
    tmpdir_remove(tmp, "temp dir removed");
    return tap_done();
}
