/* Spread, outliers and a slow first run (see outliers.h for the rule and its source). */
#include "outliers.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats_ci.h"

/* Median of a[0..n), n >= 1, reordering a (quickselect, O(n): trials hold millions). */
static double outliers_median(double *a, size_t n)
{
    size_t k = n / 2;
    eb_select_kth(a, n, k);
    if (n % 2)
        return a[k];
    /* The lower middle is the largest value of a[0..k), which the selection left below k. */
    double below = a[0];
    for (size_t i = 1; i < k; i++)
        if (a[i] > below)
            below = a[i];
    return (below + a[k]) / 2;
}

static void outliers_reset(eb_outliers *o)
{
    memset(o, 0, sizeof *o);
    o->mean = o->std = o->cv = o->median = o->mad = NAN;
    o->first = o->first_score = NAN;
}

double eb_outliers_score(const eb_outliers *o, double x)
{
    double mad = o->mad > 0 ? o->mad : DBL_EPSILON;
    return (x - o->median) / mad;
}

int eb_outliers_is(const eb_outliers *o, double x)
{
    return fabs(eb_outliers_score(o, x)) > EB_OUTLIER_THRESHOLD;
}

int eb_outliers_analyze(const double *samples, size_t n, double first, eb_outliers *o)
{
    outliers_reset(o);
    if (n == 0)
        return 0;
    double *v = malloc(n * sizeof *v);
    if (!v) {
        snprintf(o->warning, sizeof o->warning, "out of memory: outliers not analysed");
        return -1;
    }
    o->n = n;

    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    o->mean = sum / (double)n;
    double ss = 0; /* two-pass, as stats.c: latencies have a small spread next to the mean */
    for (size_t i = 0; i < n; i++)
        ss += (samples[i] - o->mean) * (samples[i] - o->mean);
    o->std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    o->cv = n > 1 && o->mean != 0 ? o->std / o->mean : NAN;

    memcpy(v, samples, n * sizeof *v);
    o->median = outliers_median(v, n);
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(samples[i] - o->median);
    o->mad = outliers_median(v, n);
    free(v);

    for (size_t i = 0; i < n; i++) {
        double z = eb_outliers_score(o, samples[i]);
        if (z > EB_OUTLIER_THRESHOLD)
            o->n_slow++;
        else if (z < -EB_OUTLIER_THRESHOLD)
            o->n_fast++;
    }
    o->n_outliers = o->n_slow + o->n_fast;

    o->first = isnan(first) ? samples[0] : first;
    o->first_score = eb_outliers_score(o, o->first);
    o->slow_first = o->first_score > EB_OUTLIER_THRESHOLD;

    size_t len = 0;
    if (o->slow_first) {
        /* Like hyperfine's SlowInitialRun: a cold run this slow means caches (files, page
         * cache, allocator, JIT) were filled by it, which warm-up is for. */
        len += (size_t)snprintf(o->warning, sizeof o->warning,
                                "first run %.4g is %.3g MADs slower than the median %.4g "
                                "(cold caches: raise warmup)",
                                o->first, o->first_score, o->median);
    }
    if (o->n_outliers && len < sizeof o->warning) {
        snprintf(o->warning + len, sizeof o->warning - len,
                 "%s%zu of %zu samples are outliers (>%.5g MAD from the median; "
                 "%zu slow %zu fast): a busy system?",
                 len ? "; " : "", o->n_outliers, n, EB_OUTLIER_THRESHOLD, o->n_slow, o->n_fast);
    }
    return 0;
}
