/* Summary statistics of latency samples (see stats.h for the contracts). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double eb_stats_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[n - 1];
    /* NumPy's default ("linear", Hyndman & Fan type 7): the rank h = (n-1) p/100, then
     * interpolate between the two closest order statistics. */
    double h = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    double frac = h - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static int stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats_set_nan(eb_summary *s)
{
    s->n = 0;
    s->mean = s->std = s->min = s->p50 = s->p90 = s->p99 = s->max = NAN;
}

int eb_stats_summarize(const double *samples, size_t n, eb_summary *s)
{
    stats_set_nan(s);
    if (n == 0)
        return -1;
    /* Sorted copy: the caller keeps its samples in measurement order (samples.csv). */
    double *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, samples, n * sizeof *v);
    qsort(v, n, sizeof *v, stats_cmp_double);

    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / (double)n;
    /* Two-pass variance: the sum of squared deviations, not E[x^2]-E[x]^2, which loses all
     * precision when the spread is small next to the mean (as latencies are). */
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);

    s->n = n;
    s->mean = mean;
    s->std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    s->min = v[0];
    s->max = v[n - 1];
    s->p50 = eb_stats_percentile_sorted(v, n, 50);
    s->p90 = eb_stats_percentile_sorted(v, n, 90);
    s->p99 = eb_stats_percentile_sorted(v, n, 99);
    free(v);
    return 0;
}
