/* Summary statistics of latency samples.  Percentiles use linear interpolation between
 * closest ranks (NumPy's default, "type 7"), so results can be checked against numpy. */
#ifndef EB_STATS_H
#define EB_STATS_H

#include <stddef.h>

typedef struct eb_summary {
    size_t n;
    double mean, std; /* std: sample standard deviation (n - 1); 0 when n < 2 */
    double min, p50, p90, p99, max;
} eb_summary;

/* p in [0, 100], sorted ascending, n >= 1. */
double eb_stats_percentile_sorted(const double *sorted, size_t n, double p);

/* Summarises n samples (any order; the input is not modified).  Returns -1 when n == 0 or
 * memory runs out; then every field is NaN and n is 0. */
int eb_stats_summarize(const double *samples, size_t n, eb_summary *s);

#endif
