/* Quantile confidence intervals: exact thresholds, ranks against an independent
 * high-precision computation, coverage by simulation, and the early-stop test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "stats_ci.h"

/* splitmix64, local to this test */
static uint64_t stats_ci_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double stats_ci_exp(uint64_t *s)
{
    return -log1p(-(double)(stats_ci_rand(s) >> 11) * 0x1.0p-53);
}

static int stats_ci_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The thresholds stated in stats_ci.h, derived from (1-q)^n <= 0.025 and q^n <= 0.025. */
static void test_thresholds_exact(void **state)
{
    (void)state;
    static const struct { double q; size_t lo_n, hi_n; } cases[] = {
        {0.50, 6, 6}, {0.90, 2, 36}, {0.99, 1, 368},
    };
    for (size_t i = 0; i < 3; i++) {
        double q = cases[i].q;
        assert_int_equal(eb_quantile_ci_min_n(q, 0.95, EB_CI_LO), cases[i].lo_n);
        assert_int_equal(eb_quantile_ci_min_n(q, 0.95, EB_CI_HI), cases[i].hi_n);
        size_t l, u;
        /* just below the threshold the bound is missing, at it present */
        if (cases[i].lo_n > 1)
            assert_false(eb_quantile_ci_ranks(cases[i].lo_n - 1, q, 0.95, &l, &u) & EB_CI_LO);
        assert_true(eb_quantile_ci_ranks(cases[i].lo_n, q, 0.95, &l, &u) & EB_CI_LO);
        assert_false(eb_quantile_ci_ranks(cases[i].hi_n - 1, q, 0.95, &l, &u) & EB_CI_HI);
        assert_true(eb_quantile_ci_ranks(cases[i].hi_n, q, 0.95, &l, &u) & EB_CI_HI);
        /* and the closed form agrees */
        assert_true(pow(q, (double)cases[i].hi_n) <= 0.025);
        assert_true(pow(q, (double)cases[i].hi_n - 1) > 0.025);
    }
    /* The one-sided 95% numbers (alpha/2 = 0.05 means confidence 0.90 two-sided). */
    assert_int_equal(eb_quantile_ci_min_n(0.99, 0.90, EB_CI_HI), 299);
    assert_int_equal(eb_quantile_ci_min_n(0.90, 0.90, EB_CI_HI), 29);
    assert_int_equal(eb_quantile_ci_min_n(0.99, 1.5, EB_CI_HI), 0);
    assert_int_equal(eb_quantile_ci_min_n(0.99, 0.95, 7), 0);
}

/* Reference ranks from mpmath at 30 digits (regularized incomplete beta for n <= 12345,
 * exact term sums from 30 sd out for the larger n): l is the largest rank with
 * P(B <= l-1) <= 0.025, u the smallest with P(B >= u) <= 0.025. */
static void test_ranks_match_reference(void **state)
{
    (void)state;
    static const struct { size_t n; double q; size_t l, u; } ref[] = {
        {6, 0.5, 1, 6},
        {36, 0.9, 29, 36},
        {368, 0.99, 360, 368},
        {500, 0.9, 436, 464},
        {500, 0.99, 490, 500},
        {1000, 0.5, 469, 532},
        {12345, 0.9, 11045, 11176},
        {100000, 0.99, 98938, 99062},
        {1000000, 0.9, 899412, 900589},
        {10000000, 0.5, 4996901, 5003100},
        {10000000, 0.99, 9899383, 9900617},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        size_t l = 0, u = 0;
        assert_int_equal(eb_quantile_ci_ranks(ref[i].n, ref[i].q, 0.95, &l, &u),
                         EB_CI_LO | EB_CI_HI);
        assert_int_equal(l, ref[i].l);
        assert_int_equal(u, ref[i].u);
    }
    size_t l = 0, u = 0;
    assert_int_equal(eb_quantile_ci_ranks(1, 0.99, 0.95, &l, &u), EB_CI_LO);
    assert_int_equal(l, 1);
    assert_int_equal(eb_quantile_ci_ranks(0, 0.5, 0.95, &l, &u), 0);
    assert_int_equal(eb_quantile_ci_ranks(10, 0.0, 0.95, &l, &u), 0);
    assert_int_equal(eb_quantile_ci_ranks(10, 1.0, 0.95, &l, &u), 0);
}

/* The interval contains the point estimate's ranks, and widens with confidence. */
static void test_ranks_bracket_estimate(void **state)
{
    (void)state;
    static const double qs[] = {0.5, 0.9, 0.99};
    for (size_t n = 368; n < 5000; n += 97)
        for (size_t i = 0; i < 3; i++) {
            size_t l, u, l2, u2;
            assert_int_equal(eb_quantile_ci_ranks(n, qs[i], 0.95, &l, &u), 3);
            double h = (double)(n - 1) * qs[i];
            assert_true((double)(l - 1) <= h);
            assert_true((double)(u - 1) >= h);
            assert_int_equal(eb_quantile_ci_ranks(n, qs[i], 0.99, &l2, &u2) & 1, 1);
            assert_true(l2 <= l);
            if (eb_quantile_ci_ranks(n, qs[i], 0.99, &l2, &u2) & EB_CI_HI)
                assert_true(u2 >= u);
        }
}

/* Exact coverage P(l <= B <= u-1) by direct summation (independent of the library's tail
 * walk: one pass over every term from k = 0). */
static double stats_ci_exact_coverage(size_t n, double q, size_t l, size_t u)
{
    double cov = 0;
    for (size_t k = l; k + 1 <= u; k++)
        cov += exp(lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
                   (double)k * log(q) + (double)(n - k) * log1p(-q));
    return cov;
}

/* 2000 samples of size 500 from Exp(1): the true quantile -ln(1-q) falls inside the
 * interval about as often as the exact binomial coverage says (>= 95%). */
static void test_coverage_by_simulation(void **state)
{
    (void)state;
    enum { DRAWS = 2000, N = 500 };
    static const double qs[] = {0.5, 0.9, 0.99};
    double *v = malloc(N * sizeof *v);
    assert_non_null(v);
    uint64_t seed = 12345;
    size_t hit[3] = {0};
    for (int d = 0; d < DRAWS; d++) {
        for (int i = 0; i < N; i++)
            v[i] = stats_ci_exp(&seed);
        qsort(v, N, sizeof *v, stats_ci_cmp);
        for (int j = 0; j < 3; j++) {
            double lo, hi, truth = -log1p(-qs[j]);
            assert_int_equal(eb_quantile_ci(v, N, qs[j], 0.95, &lo, &hi), 3);
            hit[j] += lo <= truth && truth <= hi;
        }
    }
    for (int j = 0; j < 3; j++) {
        size_t l, u;
        eb_quantile_ci_ranks(N, qs[j], 0.95, &l, &u);
        double exact = stats_ci_exact_coverage(N, qs[j], l, u);
        double got = (double)hit[j] / DRAWS;
        assert_true(exact >= 0.95);
        assert_true(got >= 0.93);
        /* 4.5 binomial standard deviations of the simulation */
        assert_true(fabs(got - exact) < 4.5 * sqrt(exact * (1 - exact) / DRAWS));
    }
    free(v);
}

static void test_quantile_ci_values_and_insufficient(void **state)
{
    (void)state;
    double v[400];
    for (int i = 0; i < 400; i++)
        v[i] = i + 1; /* X_(k) = k */
    double lo, hi;
    assert_int_equal(eb_quantile_ci(v, 400, 0.5, 0.95, &lo, &hi), 3);
    size_t l, u;
    eb_quantile_ci_ranks(400, 0.5, 0.95, &l, &u);
    assert_float_equal(lo, (double)l, 0);
    assert_float_equal(hi, (double)u, 0);
    assert_true(lo < 200.5 && hi > 200.5);
    /* p99 at n = 367: only the lower bound */
    assert_int_equal(eb_quantile_ci(v, 367, 0.99, 0.95, &lo, &hi), EB_CI_LO);
    assert_true(isnan(hi));
    assert_false(isnan(lo));
}

static void test_latency_ci_note(void **state)
{
    (void)state;
    double v[1000];
    uint64_t seed = 7;
    for (int i = 0; i < 1000; i++)
        v[i] = 1 + stats_ci_exp(&seed);
    eb_latency_ci ci;
    assert_int_equal(eb_latency_ci_compute(v, 200, 0.95, &ci), 0);
    assert_string_equal(ci.note, "p99_hi needs n>=368 (have 200)");
    assert_true(isnan(ci.hi[2]));
    assert_false(isnan(ci.lo[2]));
    for (int j = 0; j < 2; j++)
        assert_true(ci.lo[j] <= ci.hi[j]);

    assert_int_equal(eb_latency_ci_compute(v, 1000, 0.95, &ci), 0);
    assert_string_equal(ci.note, "");
    eb_summary s;
    eb_stats_summarize(v, 1000, &s);
    assert_true(ci.lo[0] <= s.p50 && s.p50 <= ci.hi[0]);
    assert_true(ci.lo[1] <= s.p90 && s.p90 <= ci.hi[1]);
    assert_true(ci.lo[2] <= s.p99 && s.p99 <= ci.hi[2]);

    assert_int_equal(eb_latency_ci_compute(v, 3, 0.95, &ci), 0);
    assert_string_equal(ci.note, "p50_lo needs n>=6; p50_hi needs n>=6; p90_hi needs n>=36; "
                                 "p99_hi needs n>=368 (have 3)");
    assert_int_equal(eb_latency_ci_compute(v, 0, 0.95, &ci), 0);
    assert_true(isnan(ci.lo[0]));
    assert_true(ci.note[0] != '\0');
}

static void test_select_kth_matches_sort(void **state)
{
    (void)state;
    enum { N = 3001 };
    double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t seed = 99;
    for (int round = 0; round < 40; round++) {
        size_t n = 1 + stats_ci_rand(&seed) % N;
        for (size_t i = 0; i < n; i++) /* few distinct values: many ties, like a coarse clock */
            b[i] = round % 2 ? (double)(stats_ci_rand(&seed) % 7) : stats_ci_exp(&seed);
        if (round == 2)
            for (size_t i = 0; i < n; i++)
                b[i] = (double)i; /* already sorted */
        size_t k = stats_ci_rand(&seed) % n;
        memcpy(a, b, n * sizeof *a);
        eb_select_kth(a, n, k);
        qsort(b, n, sizeof *b, stats_ci_cmp);
        assert_float_equal(a[k], b[k], 0);
        for (size_t i = 0; i < k; i++)
            assert_true(a[i] <= a[k]);
        for (size_t i = k + 1; i < n; i++)
            assert_true(a[i] >= a[k]);
    }
    free(a);
    free(b);
}

/* Reference for eb_precision_reached: full sort, then the same rule. */
static int stats_ci_reached_ref(const double *s, size_t n, double q, double precision)
{
    double *v = malloc(n * sizeof *v);
    memcpy(v, s, n * sizeof *v);
    qsort(v, n, sizeof *v, stats_ci_cmp);
    double lo, hi;
    int f = eb_quantile_ci(v, n, q, 0.95, &lo, &hi);
    double est = eb_stats_percentile_sorted(v, n, q * 100);
    free(v);
    if (f != 3)
        return 0;
    return est - lo <= precision * est && hi - est <= precision * est;
}

static void test_precision_reached(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *v = malloc(N * sizeof *v);
    assert_non_null(v);
    uint64_t seed = 2024;
    for (int i = 0; i < N; i++)
        v[i] = 1 + stats_ci_exp(&seed);
    /* Exp: the p99 interval half-width is ~1.96 sqrt(q(1-q)/n)/f(x_q) = 0.062 at n = 1e5
     * (1.1% of 5.6) but 0.195 (3.5%) at n = 1e4. */
    assert_int_equal(eb_precision_reached(v, N, 0.99, 0.02), 1);
    assert_int_equal(eb_precision_reached(v, 10000, 0.99, 0.02), 0);
    assert_int_equal(eb_precision_reached(v, 10000, 0.99, 0.05), 1);
    /* too few for a p99 upper bound: never reached, however tight the data */
    double flat[400];
    for (int i = 0; i < 400; i++)
        flat[i] = 3.0;
    assert_int_equal(eb_precision_reached(flat, 367, 0.99, 0.02), 0);
    assert_int_equal(eb_precision_reached(flat, 368, 0.99, 0.02), 1);
    assert_int_equal(eb_precision_reached(flat, 0, 0.99, 0.02), 0);
    assert_int_equal(eb_precision_reached(flat, 400, 1.0, 0.02), -1);
    assert_int_equal(eb_precision_reached(flat, 400, 0.99, 0), -1);
    /* agrees with the full-sort rule across sizes and precisions */
    static const double precs[] = {0.01, 0.02, 0.05, 0.1};
    for (size_t n = 300; n < 30000; n = n * 3 / 2)
        for (int p = 0; p < 4; p++)
            for (int qi = 0; qi < 3; qi++) {
                double q = qi == 0 ? 0.5 : qi == 1 ? 0.9 : 0.99;
                assert_int_equal(eb_precision_reached(v, n, q, precs[p]),
                                 stats_ci_reached_ref(v, n, q, precs[p]));
            }
    /* the input is not modified */
    assert_float_equal(v[0], 1 + stats_ci_exp(&(uint64_t){2024}), 0);
    free(v);
}

/* Rank computation at n = 10^7 is O(sqrt(n)): 300 calls take about 8 ms of CPU natively and
 * 80 ms under qemu-user (scripts/cross_aarch64.sh runs this test there), where an O(n) sum of
 * millions of binomial terms per call would take seconds even natively.  CPU time, not wall
 * time: on a loaded machine the wall clock of the emulated run reached 0.65 s of the old 1 s
 * wall-clock bound, while the CPU time does not grow with the load. */
static void test_ranks_fast_at_large_n(void **state)
{
    (void)state;
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    size_t l, u, acc = 0;
    for (int i = 0; i < 100; i++) {
        size_t n = 10000000 - (size_t)i * 1000;
        acc += (size_t)eb_quantile_ci_ranks(n, 0.5, 0.95, &l, &u);
        acc += (size_t)eb_quantile_ci_ranks(n, 0.9, 0.95, &l, &u);
        acc += (size_t)eb_quantile_ci_ranks(n, 0.99, 0.95, &l, &u);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
    assert_int_equal(acc, 900);
    assert_true(ms < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds_exact),
        cmocka_unit_test(test_ranks_match_reference),
        cmocka_unit_test(test_ranks_bracket_estimate),
        cmocka_unit_test(test_coverage_by_simulation),
        cmocka_unit_test(test_quantile_ci_values_and_insufficient),
        cmocka_unit_test(test_latency_ci_note),
        cmocka_unit_test(test_select_kth_matches_sort),
        cmocka_unit_test(test_precision_reached),
        cmocka_unit_test(test_ranks_fast_at_large_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
