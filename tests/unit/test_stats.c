/* Stats against numpy: every expected value below was computed with numpy 1.24
 * (np.percentile's default linear method, np.std(ddof=1)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "stats.h"

static const double stats_small[] = {3.2, 1.0, 7.5, 2.25, 9.0, 4.0, 0.5, 6.125, 8.0, 5.5, 2.0};
#define STATS_NSMALL (sizeof stats_small / sizeof stats_small[0])

static int stats_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_percentile_matches_numpy(void **state)
{
    (void)state;
    double v[STATS_NSMALL];
    for (size_t i = 0; i < STATS_NSMALL; i++)
        v[i] = stats_small[i];
    qsort(v, STATS_NSMALL, sizeof v[0], stats_cmp);
    /* np.percentile(a, p) */
    static const struct { double p, want; } cases[] = {
        {0, 0.5}, {10, 1.0}, {25, 2.125}, {50, 4.0}, {90, 8.0},
        {99, 8.9}, {100, 9.0}, {33.3, 2.5635},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_float_equal(eb_stats_percentile_sorted(v, STATS_NSMALL, cases[i].p),
                           cases[i].want, 1e-12);
}

static void test_percentile_single_sample(void **state)
{
    (void)state;
    double one = 4.25;
    assert_float_equal(eb_stats_percentile_sorted(&one, 1, 0), 4.25, 0);
    assert_float_equal(eb_stats_percentile_sorted(&one, 1, 50), 4.25, 0);
    assert_float_equal(eb_stats_percentile_sorted(&one, 1, 99), 4.25, 0);
    double two[] = {1.0, 3.0};
    assert_float_equal(eb_stats_percentile_sorted(two, 2, 50), 2.0, 1e-15);
    assert_float_equal(eb_stats_percentile_sorted(two, 2, 90), 2.8, 1e-15);
}

static void test_summarize_matches_numpy(void **state)
{
    (void)state;
    eb_summary s;
    assert_int_equal(eb_stats_summarize(stats_small, STATS_NSMALL, &s), 0);
    assert_int_equal(s.n, STATS_NSMALL);
    assert_float_equal(s.mean, 4.461363636363637, 1e-12);
    assert_float_equal(s.std, 2.9432414876366253, 1e-12);
    assert_float_equal(s.min, 0.5, 0);
    assert_float_equal(s.p50, 4.0, 1e-12);
    assert_float_equal(s.p90, 8.0, 1e-12);
    assert_float_equal(s.p99, 8.9, 1e-12);
    assert_float_equal(s.max, 9.0, 0);
    /* The input order is the caller's (samples.csv keeps it): summarize must not sort it. */
    assert_float_equal(stats_small[0], 3.2, 0);
}

static void test_summarize_large(void **state)
{
    (void)state;
    double v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (double)((i * 7919) % 1009) * 0.25;
    eb_summary s;
    assert_int_equal(eb_stats_summarize(v, 1000, &s), 0);
    assert_float_equal(s.mean, 126.1695, 1e-9);
    assert_float_equal(s.std, 72.87621499819033, 1e-9);
    assert_float_equal(s.p50, 126.375, 1e-9);
    assert_float_equal(s.p90, 226.775, 1e-9);
    assert_float_equal(s.p99, 249.5025, 1e-9);
    assert_float_equal(s.min, 0.0, 0);
    assert_float_equal(s.max, 252.0, 0);
}

/* A naive E[x^2] - E[x]^2 loses everything here; numpy says 0.0021602468994708305. */
static void test_std_small_spread_large_mean(void **state)
{
    (void)state;
    double v[7];
    for (int i = 0; i < 7; i++)
        v[i] = 1000.0 + i * 0.001;
    eb_summary s;
    assert_int_equal(eb_stats_summarize(v, 7, &s), 0);
    assert_float_equal(s.mean, 1000.003, 1e-9);
    assert_float_equal(s.std, 0.0021602468994708305, 1e-10);
}

static void test_summarize_edge_cases(void **state)
{
    (void)state;
    eb_summary s;
    assert_int_equal(eb_stats_summarize(NULL, 0, &s), -1);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean) && isnan(s.p99) && isnan(s.std));
    double one = 2.5;
    assert_int_equal(eb_stats_summarize(&one, 1, &s), 0);
    assert_float_equal(s.std, 0.0, 0);
    assert_float_equal(s.p99, 2.5, 0);
    assert_float_equal(s.mean, 2.5, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_matches_numpy),
        cmocka_unit_test(test_percentile_single_sample),
        cmocka_unit_test(test_summarize_matches_numpy),
        cmocka_unit_test(test_summarize_large),
        cmocka_unit_test(test_std_small_spread_large_mean),
        cmocka_unit_test(test_summarize_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
