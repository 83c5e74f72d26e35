/* Monotonic time in milliseconds, the only clock measurements use (ARCHITECTURE.md). */
#ifndef EB_CLOCK_H
#define EB_CLOCK_H

#include <time.h>

static inline double eb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

#endif
