/* Distribution-free confidence intervals for quantiles, and the early-stop test built on them.
 *
 * How the trial uses this module (issue 5):
 *
 *   // after the timed loop, samples[0..n) in ms, in measurement order:
 *   eb_latency_ci ci;
 *   eb_latency_ci_compute(samples, n, 0.95, &ci);      // -1 only when memory runs out
 *   // columns: latency_p50_lo_ms = ci.lo[0], latency_p50_hi_ms = ci.hi[0],
 *   //          latency_p90_lo_ms = ci.lo[1], ..., latency_p99_hi_ms = ci.hi[2];
 *   // a NaN bound is written empty, and ci.note ("" when every bound exists) goes in the
 *   // note column, e.g. "p99_hi needs n>=368 (have 200)".
 *
 *   // early stop, measure = { precision = 0.02 }: inside the timed loop, every
 *   // max(100, n/10) iterations (after min_iterations/min_time are met):
 *   if (eb_precision_reached(samples, n, 0.99, 0.02) == 1) break;
 *
 * Method.  Let B = #{samples <= x_q}, the count below the true q-quantile; for continuous data
 * B ~ Binomial(n, q) whatever the distribution.  With 1-based order statistics X_(1..n):
 *     P(X_(l) <= x_q) = P(B >= l),   P(X_(u) >= x_q) = P(B <= u - 1).
 * With alpha = 1 - confidence, the interval is equal-tailed: l is the LARGEST rank with
 * P(B <= l - 1) <= alpha/2 and u the SMALLEST rank with P(B >= u) <= alpha/2, so
 * P(X_(l) <= x_q <= X_(u)) >= 1 - alpha, exactly (no normal approximation).  With ties
 * (discrete or clock-quantised latencies) the coverage only grows.  When one bound does not
 * exist, the other alone is still a valid one-sided bound at 1 - alpha/2.
 *
 * When a bound is "insufficient" (needs more samples than were taken): the lower bound needs
 * P(B = 0) = (1-q)^n <= alpha/2, the upper one needs P(B = n) = q^n <= alpha/2, so
 *     lower: n >= ln(alpha/2) / ln(1-q),    upper: n >= ln(alpha/2) / ln(q).
 * Exact thresholds at confidence 0.95 (alpha/2 = 0.025), checked in tests/unit/test_stats_ci.c:
 *     p50: lower n >= 6,  upper n >= 6
 *     p90: lower n >= 2,  upper n >= 36      (0.9^35 = 0.02503 > 0.025)
 *     p99: lower n >= 1,  upper n >= 368     (0.99^367 = 0.02508 > 0.025)
 * (The often quoted 299 for p99, and 29 for p90, are ONE-sided 95% bounds: q^n <= 0.05.  A
 * two-sided 95% interval puts 2.5% in each tail, hence 368 and 36.)
 *
 * Cost: the ranks come from summing binomial terms outward from about 10 standard deviations
 * below/above the mean with the ratio recurrence (one lgamma per tail), so O(sqrt(n q (1-q)))
 * operations: about 20k steps at n = 10^7, well under a millisecond.
 */
#ifndef EB_STATS_CI_H
#define EB_STATS_CI_H

#include <stddef.h>

/* Flags returned by eb_quantile_ci and eb_quantile_ci_ranks. */
#define EB_CI_LO 1 /* the lower bound exists */
#define EB_CI_HI 2 /* the upper bound exists */

/* Ranks (1-based) of the order statistics bounding the q-quantile of n samples at the given
 * confidence.  q in (0, 1), confidence in (0, 1), n >= 1.  Returns EB_CI_LO | EB_CI_HI for the
 * ranks that exist; *l and *u are set only for those.  Returns 0 for invalid arguments. */
int eb_quantile_ci_ranks(size_t n, double q, double confidence, size_t *l, size_t *u);

/* The confidence interval itself: sorted ascending (no NaN), n >= 1.  *lo = X_(l), *hi = X_(u);
 * a bound that does not exist is set to NaN.  Returns the EB_CI_* flags (0: neither, or
 * invalid arguments). */
int eb_quantile_ci(const double *sorted, size_t n, double q, double confidence, double *lo,
                   double *hi);

/* The smallest n for which the bound exists (which = EB_CI_LO or EB_CI_HI); 0 for invalid
 * arguments.  E.g. eb_quantile_ci_min_n(0.99, 0.95, EB_CI_HI) == 368. */
size_t eb_quantile_ci_min_n(double q, double confidence, int which);

/* p50, p90 and p99 with their intervals, for the results row. */
typedef struct eb_latency_ci {
    double q[3];           /* 0.50, 0.90, 0.99 */
    double lo[3], hi[3];   /* bounds in the samples' unit; NaN when insufficient */
    char note[160];        /* "" or e.g. "p99_hi needs n>=368 (have 200)"; parts joined by "; " */
} eb_latency_ci;

/* samples in any order (not modified; no NaN), n >= 0 (n == 0: every bound NaN, note says
 * so).  Returns 0, or -1 when memory runs out (every bound NaN, note says so). */
int eb_latency_ci_compute(const double *samples, size_t n, double confidence,
                          eb_latency_ci *ci);

/* Partial sort: afterwards a[k] holds the value it would have in ascending order, with
 * a[0..k) <= a[k] <= a(k..n).  k < n, no NaN.  O(n) expected (quickselect), in place. */
void eb_select_kth(double *a, size_t n, size_t k);

/* Early stop: 1 when the two-sided 95% interval of the q-quantile lies within
 * precision * estimate on BOTH sides of the estimate (estimate - lo <= precision * estimate and
 * hi - estimate <= precision * estimate; the estimate is the type-7 percentile the
 * latency_pXX_ms columns use), 0 when not yet (including when a bound is still insufficient),
 * -1 for invalid arguments (q outside (0,1), precision <= 0) or no memory.
 * Checking again and again and stopping at the first success is optional stopping: the
 * interval at the stopping point covers somewhat less than 95%.  Checking every n/10 makes
 * successive looks share about 90% of their samples, which limits (but does not remove, and
 * we have not quantified) the loss; the rule only decides when to stop measuring.
 * samples in any order, not modified.  O(n) expected: a copy plus quickselect of the few
 * ranks needed, no full sort, so calling it every max(100, n/10) iterations costs O(1)
 * amortised per iteration. */
int eb_precision_reached(const double *samples, size_t n, double q, double precision);

/* The same with caller-owned scratch of at least n doubles (no allocation: for use inside a
 * timed loop). */
int eb_precision_reached_buf(const double *samples, size_t n, double q, double precision,
                             double *scratch);

#endif
