/* The one root for every sysfs read.
 *
 * Every file the harness reads under /sys goes through here, so tests (and users with an odd
 * layout) point it at a fixture tree that imitates the kernel's files with the environment
 * variable EDGEBENCH_SYSFS (default "/sys").  Paths given to these functions are relative to
 * that root ("class/powercap/intel-rapl:0/energy_uj"), never absolute.
 *
 * Contract: every function returns 0 on success and -1 on failure, never prints, and on
 * failure leaves errno saying why (ENOENT: no such file, EACCES: permission denied, EINVAL:
 * content is not what was asked for, ENAMETOOLONG: path or buffer too small), so callers can
 * turn it into a reason a user can act on.
 */
#ifndef EB_SYSFS_H
#define EB_SYSFS_H

#include <stddef.h>

/* Longest directory-entry name eb_sysfs_list returns (sysfs names are short). */
#define EB_SYSFS_NAME 64

/* EDGEBENCH_SYSFS when set and non-empty, else "/sys".  Read on every call (no caching), so
 * a test may change the variable between cases. */
const char *eb_sysfs_root(void);

/* Writes root + "/" + the formatted relative path into buf.  -1 (ENAMETOOLONG) if it does not
 * fit. */
int eb_sysfs_path(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads a small file whole (up to n-1 bytes) and strips trailing blanks and newlines, as the
 * kernel ends every attribute with "\n".  An empty file gives "". */
int eb_sysfs_read_str(const char *rel, char *buf, size_t n);

/* Reads one integer (decimal, or 0x-prefixed hex).  Trailing blanks/newline allowed; anything
 * else after the number is EINVAL. */
int eb_sysfs_read_ll(const char *rel, long long *v);

/* Reads one floating-point number ("2.3283064365386962890625e-10\n"). */
int eb_sysfs_read_double(const char *rel, double *v);

/* 0 when rel exists (file or directory), -1 otherwise. */
int eb_sysfs_exists(const char *rel);

/* Lists the entries of directory rel_dir whose names start with prefix ("" or NULL: all,
 * except "." and ".."), sorted in natural order (hwmon2 before hwmon10), into names[0..max),
 * and sets *count.  More than max matches is not an error: the first max are kept and *count
 * is max.  A missing directory is -1 (ENOENT). */
int eb_sysfs_list(const char *rel_dir, const char *prefix, char names[][EB_SYSFS_NAME],
                  size_t max, size_t *count);

#endif
