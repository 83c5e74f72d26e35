/* The one way commands report a usage or input error (see commands.h). */
#include <stdarg.h>
#include <stdio.h>

#include "commands.h"

int eb_cmd_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("edgebench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}
