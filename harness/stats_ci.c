/* Quantile confidence intervals from binomial order statistics (see stats_ci.h). */
#include "stats_ci.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int ci_args_ok(size_t n, double q, double confidence)
{
    return n >= 1 && q > 0 && q < 1 && confidence > 0 && confidence < 1;
}

/* log of the Binomial(n, q) probability of k; lq = log q, lp = log(1 - q).  The lgamma terms
 * cancel exactly at k = 0 and k = n (same arguments), so the small-n thresholds are exactly
 * n*log(1-q) and n*log(q), matching eb_quantile_ci_min_n. */
static double ci_log_pmf(size_t n, size_t k, double lq, double lp)
{
    double dn = (double)n, dk = (double)k;
    return lgamma(dn + 1) - lgamma(dk + 1) - lgamma(dn - dk + 1) + dk * lq + (dn - dk) * lp;
}

/* Where to start summing a tail: far enough out (10 sd) that what lies beyond is below 1e-20,
 * but moved back toward the mean while the term would underflow, so the ratio recurrence never
 * starts from 0. */
static size_t ci_tail_start(size_t n, double q, double lq, double lp, int upper)
{
    double mean = (double)n * q, sd = sqrt((double)n * q * (1 - q));
    double s = upper ? ceil(mean + 10 * sd + 10) : floor(mean - 10 * sd - 10);
    size_t k = s <= 0 ? 0 : s >= (double)n ? n : (size_t)s;
    size_t m = (size_t)floor(mean);
    for (int guard = 0; guard < 64 && ci_log_pmf(n, k, lq, lp) < -700; guard++) {
        if (upper)
            k = k > m ? k - (k - m + 1) / 2 : m;
        else
            k = k < m ? k + (m - k + 1) / 2 : m;
    }
    return k;
}

int eb_quantile_ci_ranks(size_t n, double q, double confidence, size_t *l, size_t *u)
{
    if (!ci_args_ok(n, q, confidence))
        return 0;
    const double a = (1 - confidence) / 2;
    const double lq = log(q), lp = log1p(-q), odds = q / (1 - q);
    int flags = 0;

    /* Lower: the largest k with P(B <= k) <= a; the rank is l = k + 1. */
    size_t k = ci_tail_start(n, q, lq, lp, 0);
    double pmf = exp(ci_log_pmf(n, k, lq, lp)), cum = 0;
    for (;;) {
        cum += pmf;
        if (cum > a)
            break;
        *l = k + 1;
        flags |= EB_CI_LO;
        if (k == n)
            break;
        pmf *= (double)(n - k) / (double)(k + 1) * odds;
        k++;
    }

    /* Upper: the smallest k with P(B >= k) <= a; the rank is u = k. */
    k = ci_tail_start(n, q, lq, lp, 1);
    pmf = exp(ci_log_pmf(n, k, lq, lp));
    cum = 0;
    for (;;) {
        cum += pmf;
        if (cum > a)
            break;
        *u = k;
        flags |= EB_CI_HI;
        if (k == 0)
            break;
        pmf *= (double)k / (double)(n - k + 1) / odds;
        k--;
    }
    /* P(B >= 0) = 1 > a, so u >= 1 whenever it is set; rank 0 cannot come out. */
    return flags;
}

int eb_quantile_ci(const double *sorted, size_t n, double q, double confidence, double *lo,
                   double *hi)
{
    size_t l = 0, u = 0;
    int flags = eb_quantile_ci_ranks(n, q, confidence, &l, &u);
    *lo = (flags & EB_CI_LO) ? sorted[l - 1] : NAN;
    *hi = (flags & EB_CI_HI) ? sorted[u - 1] : NAN;
    return flags;
}

size_t eb_quantile_ci_min_n(double q, double confidence, int which)
{
    if (!(q > 0 && q < 1 && confidence > 0 && confidence < 1) ||
        (which != EB_CI_LO && which != EB_CI_HI))
        return 0;
    const double a = (1 - confidence) / 2;
    /* The bound exists iff the extreme term, (1-q)^n or q^n, is <= a (stats_ci.h).  Start from
     * the closed form and step to the exact integer, evaluating the term the way
     * eb_quantile_ci_ranks does (exp(n log p)) so the two agree at the boundary. */
    const double lg = which == EB_CI_LO ? log1p(-q) : log(q);
    double guess = ceil(log(a) / lg);
    size_t n = guess < 1 ? 1 : (size_t)guess;
    while (exp((double)n * lg) > a)
        n++;
    while (n > 1 && exp((double)(n - 1) * lg) <= a)
        n--;
    return n;
}

static int ci_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void ci_note_add(char *note, size_t cap, const char *part)
{
    size_t len = strlen(note);
    snprintf(note + len, cap - len, "%s%s", len ? "; " : "", part);
}

int eb_latency_ci_compute(const double *samples, size_t n, double confidence,
                          eb_latency_ci *ci)
{
    static const double qs[3] = {0.50, 0.90, 0.99};
    static const char *names[3] = {"p50", "p90", "p99"};
    memset(ci, 0, sizeof *ci);
    for (int i = 0; i < 3; i++) {
        ci->q[i] = qs[i];
        ci->lo[i] = ci->hi[i] = NAN;
    }
    if (n == 0) {
        snprintf(ci->note, sizeof ci->note, "no samples: no confidence intervals");
        return 0;
    }
    double *v = malloc(n * sizeof *v);
    if (!v) {
        snprintf(ci->note, sizeof ci->note, "out of memory: no confidence intervals");
        return -1;
    }
    memcpy(v, samples, n * sizeof *v);
    qsort(v, n, sizeof *v, ci_cmp_double);
    for (int i = 0; i < 3; i++) {
        int flags = eb_quantile_ci(v, n, qs[i], confidence, &ci->lo[i], &ci->hi[i]);
        char part[48];
        if (!(flags & EB_CI_LO)) {
            snprintf(part, sizeof part, "%s_lo needs n>=%zu", names[i],
                     eb_quantile_ci_min_n(qs[i], confidence, EB_CI_LO));
            ci_note_add(ci->note, sizeof ci->note, part);
        }
        if (!(flags & EB_CI_HI)) {
            snprintf(part, sizeof part, "%s_hi needs n>=%zu", names[i],
                     eb_quantile_ci_min_n(qs[i], confidence, EB_CI_HI));
            ci_note_add(ci->note, sizeof ci->note, part);
        }
    }
    if (ci->note[0]) {
        char have[32];
        snprintf(have, sizeof have, " (have %zu)", n);
        size_t len = strlen(ci->note);
        snprintf(ci->note + len, sizeof ci->note - len, "%s", have);
    }
    free(v);
    return 0;
}

static double ci_median3(double a, double b, double c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

/* Quickselect (Hoare/Wirth partition, median-of-three pivot): afterwards a[k] holds the value
 * it would have in sorted order, a[left..k) <= a[k] <= a(k..right].  Runs of equal values
 * (quantised clocks) split evenly, so duplicates do not make it quadratic. */
static void ci_select(double *a, ptrdiff_t left, ptrdiff_t right, ptrdiff_t k)
{
    while (left < right) {
        double x = ci_median3(a[left], a[left + (right - left) / 2], a[right]);
        ptrdiff_t i = left, j = right;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            left = i;
        if (k < i)
            right = j;
    }
}

void eb_select_kth(double *a, size_t n, size_t k)
{
    if (k < n)
        ci_select(a, 0, (ptrdiff_t)n - 1, (ptrdiff_t)k);
}

int eb_precision_reached_buf(const double *samples, size_t n, double q, double precision,
                             double *scratch)
{
    if (!(q > 0 && q < 1) || !(precision > 0))
        return -1;
    size_t l = 0, u = 0;
    if (eb_quantile_ci_ranks(n, q, 0.95, &l, &u) != (EB_CI_LO | EB_CI_HI))
        return 0;
    /* The estimate is the type-7 percentile (stats.c): ranks kf and kf + 1 (0-based). */
    double h = (double)(n - 1) * q;
    size_t kf = (size_t)floor(h);
    double frac = h - (double)kf;
    size_t want[4] = {l - 1, kf, kf + 1 < n ? kf + 1 : kf, u - 1};
    /* Ascending, so each selection only scans what lies above the previous one. */
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && want[j - 1] > want[j]; j--) {
            size_t t = want[j];
            want[j] = want[j - 1];
            want[j - 1] = t;
        }
    memcpy(scratch, samples, n * sizeof *scratch);
    ptrdiff_t from = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && want[i] == want[i - 1])
            continue;
        ci_select(scratch, from, (ptrdiff_t)n - 1, (ptrdiff_t)want[i]);
        from = (ptrdiff_t)want[i] + 1;
    }
    double lo = scratch[l - 1], hi = scratch[u - 1];
    double est = kf + 1 < n ? scratch[kf] + frac * (scratch[kf + 1] - scratch[kf]) : scratch[kf];
    double tol = precision * fabs(est);
    return est - lo <= tol && hi - est <= tol;
}

int eb_precision_reached(const double *samples, size_t n, double q, double precision)
{
    if (!(q > 0 && q < 1) || !(precision > 0))
        return -1;
    if (n == 0)
        return 0;
    double *scratch = malloc(n * sizeof *scratch);
    if (!scratch)
        return -1;
    int r = eb_precision_reached_buf(samples, n, q, precision, scratch);
    free(scratch);
    return r;
}
