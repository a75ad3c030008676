#include "core/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

static int log_fd = -1;
static enum berth_log_format log_format = BERTH_LOG_TEXT;
static enum berth_log_level log_max = BERTH_LOG_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int
berth_log_open(const char *path, enum berth_log_format format, enum berth_log_level max_level)
{
    log_format = format;
    log_max = max_level;
    if (log_fd >= 0) {
        close(log_fd);
        log_fd = -1;
    }
    if (!path)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return -1;
    log_fd = fd;
    return 0;
}

bool
berth_log_enabled(enum berth_log_level level)
{
    return level <= log_max;
}

int
berth_log_fd(void)
{
    return log_fd;
}

/* Escapes a string for a JSON string literal. */
static void
json_escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 7 < len; p++) {
        if (*p == '"' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*p;
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
        } else if (*p < 0x20) {
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", *p);
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

void
berth_log(enum berth_log_level level, const char *fmt, ...)
{
    if (level > log_max && level != BERTH_LOG_ERROR)
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (log_fd < 0 || level == BERTH_LOG_ERROR) {
        /* runc prints the bare error on stderr; warnings get a level prefix */
        char line[4200];
        int n = level == BERTH_LOG_ERROR
                    ? snprintf(line, sizeof(line), "%s\n", msg)
                    : snprintf(line, sizeof(line), "%s: %s\n", level_names[level], msg);
        if (n > 0)
            (void)berth_write_all(STDERR_FILENO, line, strnlen(line, sizeof(line)));
    }
    if (log_fd < 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[64];
    berth_format_time(&ts, when, sizeof(when));
    char line[9000];
    if (log_format == BERTH_LOG_JSON) {
        char esc[8192];
        json_escape(msg, esc, sizeof(esc));
        snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
                 level_names[level], esc, when);
    } else {
        /* logrus quotes the value like Go's %q: one message, one line */
        char esc[8192];
        json_escape(msg, esc, sizeof(esc));
        snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n", when, level_names[level],
                 esc);
    }
    (void)berth_write_all(log_fd, line, strnlen(line, sizeof(line)));
}
