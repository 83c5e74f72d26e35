/* Spread, outliers and a slow first run, flagged and never dropped (issue 5).
 *
 * How the trial uses this module:
 *
 *   eb_outliers o;
 *   eb_outliers_analyze(samples, n, r->first_ms, &o);   // -1 only when memory runs out
 *   // columns: latency_cv = o.cv, outliers = o.n_outliers (o.n_slow above, o.n_fast below
 *   //          the median), slow_first = o.slow_first, and o.warning ("" when nothing to
 *   //          say) in the note column / on stderr.
 *   // samples.csv may flag each sample: eb_outliers_is(&o, samples[i]).
 *
 * The rule is hyperfine's (src/outlier_detection.rs, src/benchmark/mod.rs), so numbers agree
 * with a tool users already trust:
 *     score(x) = (x - median) / MAD,   MAD = median(|x_i - median|)   (raw, not scaled)
 *     outlier  iff |score(x)| > EB_OUTLIER_THRESHOLD = 14.826
 * 14.826 = 10 x 1.4826, and 1.4826 MAD estimates the standard deviation of normal data, so an
 * outlier lies more than ten robust standard deviations from the median.  In Iglewicz and
 * Hoaglin's form, M = 0.6745 (x - median) / MAD, the same rule is |M| > 10.0 (their usual 3.5
 * would flag ordinary latency jitter).  When MAD is 0 (over half the samples equal), hyperfine
 * divides by DBL_EPSILON instead, so every sample that differs from the median is flagged; so
 * do we.  Medians of even counts are the mean of the two middle values.
 *
 * Slow first run: hyperfine warns when its first run's score is > 14.826 (signed: slower, not
 * faster).  edgebench times the cold inference apart from the timed samples (first_ms), so the
 * first run is scored against the timed samples' median and MAD; pass NAN as `first` to score
 * samples[0] instead, which is hyperfine's rule exactly.
 */
#ifndef EB_OUTLIERS_H
#define EB_OUTLIERS_H

#include <stddef.h>

#define EB_OUTLIER_THRESHOLD 14.826

typedef struct eb_outliers {
    size_t n;
    double mean, std;     /* std: sample standard deviation (n - 1) */
    double cv;            /* std / mean; NaN when n < 2 or mean == 0 */
    double median, mad;   /* mad: raw median absolute deviation, 0 allowed */
    size_t n_outliers;    /* |score| > 14.826 = n_slow + n_fast */
    size_t n_slow, n_fast;/* score > 14.826 (slower than the median) / score < -14.826 */
    int slow_first;       /* 1 when the first run's score > 14.826 */
    double first, first_score; /* the first run scored (first_ms or samples[0]) and its score */
    char warning[256];    /* "" or one line, values in the samples' unit, e.g. "first run 41.2
                             is 90.3 MADs slower than the median 1.03 (cold caches: raise
                             warmup); 3 of 500 samples are outliers (>14.826 MAD from the
                             median; 3 slow 0 fast): a busy system?" */
} eb_outliers;

/* samples in any order (not modified; no NaN).  first: the cold run's time in the samples'
 * unit, or NAN to use samples[0].  n == 0 fills NaN/0 and returns 0.  Returns -1 only when
 * memory runs out (o then as for n == 0, with a warning saying so). */
int eb_outliers_analyze(const double *samples, size_t n, double first, eb_outliers *o);

/* The score of x under o's median and MAD (MAD 0 is replaced by DBL_EPSILON, as hyperfine). */
double eb_outliers_score(const eb_outliers *o, double x);

/* 1 when x is an outlier under o (|score| > EB_OUTLIER_THRESHOLD), else 0. */
int eb_outliers_is(const eb_outliers *o, double x);

#endif
