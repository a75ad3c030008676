/* Logging for the top layer of each binary. Library code logs only at debug level.
 * The runtime's log file follows runc's format because containerd's shim parses its last
 * error line: JSON {"level":"error","msg":"...","time":"..."} or logrus-style text. */
#ifndef BERTH_CORE_LOG_H
#define BERTH_CORE_LOG_H

#include <stdbool.h>

enum berth_log_level { BERTH_LOG_ERROR, BERTH_LOG_WARN, BERTH_LOG_INFO, BERTH_LOG_DEBUG };
enum berth_log_format { BERTH_LOG_TEXT, BERTH_LOG_JSON };

/* path NULL: stderr only. Errors always also go to stderr. */
int berth_log_open(const char *path, enum berth_log_format format, enum berth_log_level max_level);
void berth_log(enum berth_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool berth_log_enabled(enum berth_log_level level);
/* The fd of the log file (-1 if none), e.g. to hand to a child. */
int berth_log_fd(void);

#define berth_debug(...)                                                                           \
    do {                                                                                           \
        if (berth_log_enabled(BERTH_LOG_DEBUG))                                                    \
            berth_log(BERTH_LOG_DEBUG, __VA_ARGS__);                                               \
    } while (0)

#endif
