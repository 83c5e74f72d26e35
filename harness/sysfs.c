/* The one root for every sysfs read (see sysfs.h). */
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *eb_sysfs_root(void)
{
    const char *root = getenv("EDGEBENCH_SYSFS");
    return root && root[0] ? root : "/sys";
}

static int sysfs_vpath(char *buf, size_t n, const char *fmt, va_list ap)
{
    int used = snprintf(buf, n, "%s/", eb_sysfs_root());
    if (used < 0 || (size_t)used >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int more = vsnprintf(buf + used, n - (size_t)used, fmt, ap);
    if (more < 0 || (size_t)more >= n - (size_t)used) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int eb_sysfs_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sysfs_vpath(buf, n, fmt, ap);
    va_end(ap);
    return rc;
}

int eb_sysfs_read_str(const char *rel, char *buf, size_t n)
{
    char path[4096];
    if (n == 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (eb_sysfs_path(path, sizeof path, "%s", rel) != 0)
        return -1;
    /* open/read rather than stdio: one read() is what the kernel's show() answers, and a
     * file removed between reads must give ENOENT, not stale buffered data. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t used = 0;
    for (;;) {
        if (used + 1 >= n)
            break;
        ssize_t got = read(fd, buf + used, n - 1 - used);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    close(fd);
    buf[used] = '\0';
    while (used > 0 && isspace((unsigned char)buf[used - 1]))
        buf[--used] = '\0';
    return 0;
}

/* True when only blanks remain at s. */
static int sysfs_rest_blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int eb_sysfs_read_ll(const char *rel, long long *v)
{
    char text[128], *end;
    if (eb_sysfs_read_str(rel, text, sizeof text) != 0)
        return -1;
    errno = 0;
    long long x = strtoll(text, &end, 0);
    if (errno || end == text || !sysfs_rest_blank(end)) {
        errno = EINVAL;
        return -1;
    }
    *v = x;
    return 0;
}

int eb_sysfs_read_double(const char *rel, double *v)
{
    char text[128], *end;
    if (eb_sysfs_read_str(rel, text, sizeof text) != 0)
        return -1;
    errno = 0;
    double x = strtod(text, &end);
    if (errno || end == text || !sysfs_rest_blank(end)) {
        errno = EINVAL;
        return -1;
    }
    *v = x;
    return 0;
}

int eb_sysfs_exists(const char *rel)
{
    char path[4096];
    struct stat st;
    if (eb_sysfs_path(path, sizeof path, "%s", rel) != 0)
        return -1;
    return stat(path, &st) == 0 ? 0 : -1;
}

/* Natural order: runs of digits compare by value, so hwmon2 < hwmon10 and
 * intel-rapl:0:2 < intel-rapl:0:10. */
static int sysfs_natcmp(const void *pa, const void *pb)
{
    const char *a = pa, *b = pb;
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

int eb_sysfs_list(const char *rel_dir, const char *prefix, char names[][EB_SYSFS_NAME],
                  size_t max, size_t *count)
{
    char path[4096];
    size_t plen = prefix ? strlen(prefix) : 0;
    *count = 0;
    if (eb_sysfs_path(path, sizeof path, "%s", rel_dir) != 0)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    while (*count < max && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (plen && strncmp(e->d_name, prefix, plen) != 0)
            continue;
        if (strlen(e->d_name) >= EB_SYSFS_NAME)
            continue; /* no sysfs name we look for is this long */
        memcpy(names[*count], e->d_name, strlen(e->d_name) + 1);
        (*count)++;
    }
    closedir(d);
    qsort(names, *count, EB_SYSFS_NAME, sysfs_natcmp);
    return 0;
}
