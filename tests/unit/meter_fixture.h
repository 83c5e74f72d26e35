/* Helpers for the meter tests: fixture trees under tests/data/sysfs/energy, copied into a temp
 * directory when a test must change files while a window runs, and a clock the test drives.
 * Everything is static inline so each test binary takes only what it uses. */
#ifndef EB_TEST_METER_FIXTURE_H
#define EB_TEST_METER_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meter.h"

/* |a - b| <= eps, printing both when not (cmocka before 1.1.6 has no assert_double_equal);
 * include cmocka.h before this header. */
#define meter_assert_near(a, b, eps)                                                        \
    do {                                                                                    \
        double meter_a_ = (a), meter_b_ = (b);                                              \
        if (!(fabs(meter_a_ - meter_b_) <= (eps)))                                          \
            fail_msg("%s = %.12g, expected %.12g", #a, meter_a_, meter_b_);                 \
    } while (0)

/* tests/data/sysfs/energy/NAME, found from this header's path (as test_device.c does). */
static inline void meter_fixture_path(const char *name, char *buf, size_t n)
{
    const char *file = __FILE__; /* .../tests/unit/meter_fixture.h */
    const char *unit = strstr(file, "unit/meter_fixture.h");
    int len = unit ? (int)(unit - file) : 0;
    snprintf(buf, n, "%.*s%sdata/sysfs/energy/%s", len, file, unit ? "" : "tests/", name);
}

/* Points EDGEBENCH_SYSFS at a committed fixture (read-only use). */
static inline void meter_fixture_use(const char *name)
{
    char path[1024];
    meter_fixture_path(name, path, sizeof path);
    setenv("EDGEBENCH_SYSFS", path, 1);
}

/* A fresh temp dir holding the union of the named fixtures (NULL-terminated list), set as
 * EDGEBENCH_SYSFS.  tmp must hold 64 bytes. */
static inline int meter_fixture_copy(char *tmp, ...)
{
    snprintf(tmp, 64, "/tmp/eb-meter-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    va_list ap;
    va_start(ap, tmp);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        char src[1024], cmd[2200];
        meter_fixture_path(name, src, sizeof src);
        snprintf(cmd, sizeof cmd, "cp -r '%s/.' '%s/'", src, tmp);
        if (system(cmd) != 0) {
            va_end(ap);
            return -1;
        }
    }
    va_end(ap);
    setenv("EDGEBENCH_SYSFS", tmp, 1);
    return 0;
}

static inline void meter_fixture_remove(const char *tmp)
{
    char cmd[256];
    if (strncmp(tmp, "/tmp/eb-meter-", 14) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    unsetenv("EDGEBENCH_SYSFS");
}

/* Writes "text\n" to tmp/rel the way the kernel presents a value: whole, never half-written
 * (temp file + rename). */
static inline int meter_fixture_write(const char *tmp, const char *rel, const char *fmt, ...)
{
    char path[1024], part[1100];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    snprintf(part, sizeof part, "%s.new", path);
    FILE *f = fopen(part, "w");
    if (!f)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    if (fclose(f) != 0)
        return -1;
    return rename(part, path);
}

static inline int meter_fixture_unlink(const char *tmp, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    return unlink(path);
}

/* The entry named name in set, or NULL. */
static inline eb_meter *meter_fixture_find(const eb_meter_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].name, name) == 0)
            return &set->m[i];
    return NULL;
}

/* The unusable whole-source entry of source, or NULL. */
static inline eb_meter *meter_fixture_unusable(const eb_meter_set *set, const char *source)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].source, source) == 0 && !set->m[i].usable)
            return &set->m[i];
    return NULL;
}

/* A clock the test moves by hand: opts.clock = meter_fixture_clock, opts.clock_ctx = &t. */
static inline double meter_fixture_clock(void *ctx)
{
    return *(double *)ctx;
}

#endif
