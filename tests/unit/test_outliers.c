/* Outliers by hyperfine's rule (|x - median| / MAD > 14.826), CV and the slow first run.
 * The small vectors are hyperfine's own test cases (src/outlier_detection.rs), so a change
 * that drifts from its rule fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outliers.h"

static size_t outliers_count(const double *v, size_t n)
{
    eb_outliers o;
    assert_int_equal(eb_outliers_analyze(v, n, NAN, &o), 0);
    return o.n_outliers;
}

static void test_hyperfine_cases(void **state)
{
    (void)state;
    assert_int_equal(outliers_count(NULL, 0), 0);
    assert_int_equal(outliers_count((double[]){50.0}, 1), 0);
    assert_int_equal(outliers_count((double[]){1000.0, 0.0}, 2), 0);
    assert_int_equal(outliers_count((double[]){-0.2, 0.0, 0.2}, 3), 0);
    assert_int_equal(outliers_count((double[]){-0.2, 0.0, 0.2, 4.0}, 4), 1);
    assert_int_equal(outliers_count((double[]){0.5, 0.30, 0.29, 0.31, 0.30}, 5), 1);
    static const double normal[] = {2.33269488, 1.42195907, -0.57527698, -0.31293437,
                                    2.2948158,  0.75813273, -1.0712388, -0.96394741,
                                    -1.15897446, 1.10976285, 20.0, -500.0};
    assert_int_equal(outliers_count(normal, 10), 0);
    eb_outliers o;
    assert_int_equal(eb_outliers_analyze(normal, 12, NAN, &o), 0);
    assert_int_equal(o.n_outliers, 2);
    assert_int_equal(o.n_slow, 1);
    assert_int_equal(o.n_fast, 1);
    /* MAD == 0: every value off the median is flagged */
    assert_int_equal(outliers_count((double[]){10, 10, 10, 10, 10, 10, 10, 100}, 8), 1);
    assert_int_equal(outliers_count((double[]){10, 10, 10, 10, 10, 10, 10, 100, 100}, 9), 2);
}

static void test_median_mad_cv(void **state)
{
    (void)state;
    /* sorted: 1 2 3 4 10 20; median 3.5; |dev| 2.5 1.5 0.5 0.5 6.5 16.5 -> MAD (1.5+2.5)/2 */
    static const double v[] = {10, 1, 4, 2, 20, 3};
    eb_outliers o;
    assert_int_equal(eb_outliers_analyze(v, 6, NAN, &o), 0);
    assert_int_equal(o.n, 6);
    assert_float_equal(o.median, 3.5, 1e-15);
    assert_float_equal(o.mad, 2.0, 1e-15);
    assert_float_equal(o.mean, 40.0 / 6, 1e-12);
    /* numpy: np.std([10,1,4,2,20,3], ddof=1) = 7.2571803523590805; cv = std / mean */
    assert_float_equal(o.std, 7.2571803523590805, 1e-12);
    assert_float_equal(o.cv, 7.2571803523590805 / (40.0 / 6), 1e-12);
    assert_float_equal(eb_outliers_score(&o, 33.5), 15.0, 1e-12);
    assert_true(eb_outliers_is(&o, 33.5));
    assert_false(eb_outliers_is(&o, 30.0)); /* score 13.25 */
    /* the input is left in measurement order */
    assert_float_equal(v[0], 10, 0);
    assert_float_equal(v[5], 3, 0);

    assert_int_equal(eb_outliers_analyze(v, 1, NAN, &o), 0);
    assert_true(isnan(o.cv));
    assert_int_equal(eb_outliers_analyze(v, 0, NAN, &o), 0);
    assert_int_equal(o.n, 0);
    assert_true(isnan(o.median));
    assert_string_equal(o.warning, "");
}

/* 33 each of -1, 0, 1 give median 0 and MAD 1 whatever the extra value x > 1 is, so the
 * threshold can be probed on both sides of 14.826. */
static void test_threshold_edges(void **state)
{
    (void)state;
    double v[100];
    for (int i = 0; i < 99; i++)
        v[i] = (double)(i % 3) - 1;
    static const struct { double x; size_t want; } cases[] = {
        {14.8, 0}, {14.826, 0}, {14.83, 1}, {100, 1},
    };
    for (size_t c = 0; c < 4; c++) {
        v[99] = cases[c].x;
        eb_outliers o;
        assert_int_equal(eb_outliers_analyze(v, 100, NAN, &o), 0);
        assert_float_equal(o.median, 0, 0);
        assert_float_equal(o.mad, 1, 0);
        assert_int_equal(o.n_outliers, cases[c].want);
        assert_int_equal(o.n_slow, cases[c].want);
    }
}

static void test_slow_first_run(void **state)
{
    (void)state;
    double v[200];
    for (int i = 0; i < 200; i++)
        v[i] = 1.0 + 0.01 * (double)(i % 5); /* median 1.02, MAD 0.01 */
    eb_outliers o;
    /* a cold run far slower than the timed ones */
    assert_int_equal(eb_outliers_analyze(v, 200, 5.0, &o), 0);
    assert_true(o.slow_first);
    assert_float_equal(o.first, 5.0, 0);
    assert_float_equal(o.first_score, (5.0 - 1.02) / 0.01, 1e-6);
    assert_int_equal(o.n_outliers, 0); /* the cold run is not one of the samples */
    assert_non_null(strstr(o.warning, "first run 5 is"));
    assert_null(strstr(o.warning, "outliers"));
    /* a cold run barely slower: no flag, no warning */
    assert_int_equal(eb_outliers_analyze(v, 200, 1.1, &o), 0);
    assert_false(o.slow_first);
    assert_string_equal(o.warning, "");
    /* a FAST first run is not "slow" (the rule is signed, as hyperfine's) */
    assert_int_equal(eb_outliers_analyze(v, 200, 0.1, &o), 0);
    assert_false(o.slow_first);
    /* NAN: hyperfine's own rule, samples[0] scored among the samples */
    v[0] = 3.0;
    assert_int_equal(eb_outliers_analyze(v, 200, NAN, &o), 0);
    assert_true(o.slow_first);
    assert_int_equal(o.n_outliers, 1);
    assert_non_null(strstr(o.warning, "first run 3 is"));
    assert_non_null(strstr(o.warning, "1 of 200 samples are outliers"));
}

static int outliers_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The quickselect median agrees with a sorted median on large inputs with ties. */
static void test_large_matches_sorted(void **state)
{
    (void)state;
    enum { N = 20001 };
    double *v = malloc(N * sizeof *v), *s = malloc(N * sizeof *s);
    assert_non_null(v);
    assert_non_null(s);
    uint64_t x = 88172645463325252ULL;
    for (size_t n = N - 1; n <= N; n++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[i] = 5.0 + (double)(x % 1000) * 1e-3; /* quantised, like a clock */
        }
        v[7] = 400; /* one spike */
        memcpy(s, v, n * sizeof *s);
        qsort(s, n, sizeof *s, outliers_cmp);
        double med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        eb_outliers o;
        assert_int_equal(eb_outliers_analyze(v, n, NAN, &o), 0);
        assert_float_equal(o.median, med, 1e-12);
        for (size_t i = 0; i < n; i++)
            s[i] = fabs(v[i] - med);
        qsort(s, n, sizeof *s, outliers_cmp);
        double mad = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        assert_float_equal(o.mad, mad, 1e-12);
        assert_int_equal(o.n_outliers, 1);
        assert_float_equal(v[7], 400, 0);
    }
    free(v);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hyperfine_cases),
        cmocka_unit_test(test_median_mad_cv),
        cmocka_unit_test(test_threshold_edges),
        cmocka_unit_test(test_slow_first_run),
        cmocka_unit_test(test_large_matches_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
