#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int eb_errf(eb_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int eb_err_prefix(eb_err *err, const char *fmt, ...)
{
    if (err) {
        char prefix[512], old[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* Precisions bound each part, so an over-long message is cut, never overrun. */
        snprintf(err->msg, sizeof err->msg, "%.500s: %.*s", prefix,
                 (int)(sizeof err->msg - 503), old);
    }
    return -1;
}
