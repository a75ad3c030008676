/* The error contract: see docs/error-handling.md.
 * A fallible function takes `struct berth_error **err` last, returns < 0 and fills *err
 * (errno + message). Callers add context with berth_error_wrap(); only the top layer logs. */
#ifndef BERTH_CORE_ERROR_H
#define BERTH_CORE_ERROR_H

#include <stdarg.h>

struct berth_error {
    int code;  /* errno value, 0 when the cause is not a system error */
    char *msg; /* full message, context first: "create: open config.json: No such file ..." */
};

/* Sets *err (if err and *err is empty) and returns -errnum (or -EINVAL when errnum is 0).
 * When errnum != 0 the message ends with ": strerror(errnum)". */
int berth_error_set(struct berth_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like berth_error_set but never appends strerror(). */
int berth_error_setq(struct berth_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes context to an existing error; returns its negative code. */
int berth_error_wrap(struct berth_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns the negative code of an error (-EINVAL if none). */
int berth_error_code(struct berth_error *err);
void berth_error_free(struct berth_error *err);
void berth_error_freep(struct berth_error **err);

#define _cleanup_error_ __attribute__((cleanup(berth_error_freep)))

#endif
