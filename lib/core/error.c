#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
set_v(struct berth_error **err, int errnum, int with_strerror, const char *fmt, va_list ap)
{
    int code = errnum > 0 ? errnum : EINVAL;
    if (!err)
        return -code;
    if (*err) /* the first (deepest) cause wins */
        return -(*err)->code;
    struct berth_error *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    char *base = NULL;
    if (vasprintf(&base, fmt, ap) < 0)
        base = NULL;
    if (base && with_strerror && errnum > 0) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", base, strerror(errnum)) >= 0) {
            free(base);
            base = full;
        }
    }
    e->code = code;
    e->msg = base ? base : strdup("out of memory");
    *err = e;
    return -code;
}

int
berth_error_set(struct berth_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = set_v(err, errnum, 1, fmt, ap);
    va_end(ap);
    return r;
}

int
berth_error_setq(struct berth_error **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = set_v(err, errnum, 0, fmt, ap);
    va_end(ap);
    return r;
}

int
berth_error_wrap(struct berth_error **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -EINVAL;
    char *ctx = NULL, *full = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&ctx, fmt, ap);
    va_end(ap);
    if (n >= 0 && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(ctx);
    return -(*err)->code;
}

int
berth_error_code(struct berth_error *err)
{
    return err ? -err->code : -EINVAL;
}

void
berth_error_free(struct berth_error *err)
{
    if (!err)
        return;
    free(err->msg);
    free(err);
}

void
berth_error_freep(struct berth_error **err)
{
    berth_error_free(*err);
    *err = NULL;
}
