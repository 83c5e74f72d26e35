/* Error reporting: a status code plus one message, never exit() below main().
 *
 * Contract: functions that can fail take an `eb_err *` (which may be NULL), return 0 on
 * success and -1 on failure, and on failure leave one human-readable line in err->msg that
 * names the file, the place and what to do.  eb_errf() formats that line and returns -1 so
 * call sites can write `return eb_errf(err, "...")`.
 */
#ifndef EB_ERR_H
#define EB_ERR_H

#include <stddef.h>

typedef struct eb_err {
    char msg[1024];
} eb_err;

/* Formats the message into err (when err is not NULL); always returns -1. */
int eb_errf(eb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with "prefix: " (e.g. a file name); returns -1. */
int eb_err_prefix(eb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
