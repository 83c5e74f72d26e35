/* compare: medians by quickselect, Mann-Whitney U against hand-ranked values, the bootstrap,
 * the verdict rule, matching of runs on disk, step changes, and the detector's calibration:
 * A/A pairs of synthetic lognormal latencies raise a false alarm in at most 5% of pairs, a 10%
 * slowdown is caught in at least 95%. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compare.h"

/* This cmocka has no assert_double_equal. */
#define compare_assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

/* ---- a seeded generator for synthetic latencies (test-only, static) ---- */

static uint64_t compare_test_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double compare_test_uniform(uint64_t *s)
{
    return ((double)(compare_test_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double compare_test_normal(uint64_t *s)
{
    double u1 = compare_test_uniform(s), u2 = compare_test_uniform(s);
    return sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
}

/* Latencies as a device gives them: a floor (the work itself), lognormal jitter above it, and
 * a rare long tail (1% of samples 2-5x: interrupts, a neighbour's burst). */
static void compare_test_latencies(double *x, size_t n, double scale, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        double v = scale * (0.9 + 0.1 * exp(0.5 * compare_test_normal(s)));
        if (compare_test_uniform(s) < 0.01)
            v *= 2 + 3 * compare_test_uniform(s);
        x[i] = v;
    }
}

static int compare_test_dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- order statistics ---- */

static void test_median_matches_sort(void **state)
{
    (void)state;
    uint64_t s = 7;
    for (size_t n = 1; n <= 64; n++) {
        double x[64], sorted[64];
        for (size_t i = 0; i < n; i++) /* few distinct values: many ties */
            x[i] = sorted[i] = (double)(compare_test_next(&s) % 7);
        qsort(sorted, n, sizeof *sorted, compare_test_dcmp);
        double want = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        compare_assert_near(eb_compare_median_inplace(x, n), want, 0);
    }
    double one[] = {3.5}, two[] = {4, 1};
    compare_assert_near(eb_compare_median_inplace(one, 1), 3.5, 0);
    compare_assert_near(eb_compare_median_inplace(two, 2), 2.5, 0);
    assert_true(isnan(eb_compare_median_inplace(one, 0)));
}

/* ---- Mann-Whitney U ---- */

static void test_mann_whitney_by_hand(void **state)
{
    (void)state;
    /* No ties: U_a = 0, mean 6, variance 3*4/12*8 = 8; z = (6 - 0.5)/sqrt(8). */
    double a[] = {1, 2, 3}, b[] = {4, 5, 6, 7};
    double want = erfc((5.5 / sqrt(8.0)) / sqrt(2.0));
    compare_assert_near(eb_compare_mann_whitney(a, 3, b, 4), want, 1e-12);
    compare_assert_near(eb_compare_mann_whitney(b, 4, a, 3), want, 1e-12); /* two-sided */

    /* Ties, ranked by hand: 1 | 2 2 2 -> 3 | 3 3 -> 5.5 | 4 | 5; R_a = 1+3+3+5.5 = 12.5,
     * U_a = 2.5, mean 8, variance 16/12 * (9 - (24 + 6)/56). */
    double c[] = {1, 2, 2, 3}, d[] = {2, 3, 4, 5};
    double var = 16.0 / 12.0 * (9 - 30.0 / 56.0);
    want = erfc(((8 - 2.5 - 0.5) / sqrt(var)) / sqrt(2.0));
    compare_assert_near(eb_compare_mann_whitney(c, 4, d, 4), want, 1e-12);

    /* Everything tied: no evidence at all. */
    double e[] = {1, 1, 1}, f[] = {1, 1};
    compare_assert_near(eb_compare_mann_whitney(e, 3, f, 2), 1.0, 0);
    assert_true(isnan(eb_compare_mann_whitney(e, 0, f, 2)));
}

/* ---- the verdict on one pair ---- */

static void test_latency_verdicts(void **state)
{
    (void)state;
    eb_compare_opts o;
    eb_compare_opts_default(&o);
    double base[300], same[300], slow[300], fast[300];
    uint64_t s = 11;
    compare_test_latencies(base, 300, 1.0, &s);
    compare_test_latencies(same, 300, 1.0, &s);
    compare_test_latencies(slow, 300, 1.3, &s);
    compare_test_latencies(fast, 300, 0.7, &s);
    eb_latency_cmp c;
    eb_err err;

    assert_int_equal(eb_compare_latency(base, 300, slow, 300, &o, &c, &err), 0);
    assert_int_equal(c.verdict, EB_VERDICT_REGRESSED);
    assert_true(c.ci_lo > 1.05 && c.ci_lo <= c.ratio && c.ratio <= c.ci_hi);
    assert_true(c.ratio > 1.25 && c.ratio < 1.35);
    assert_true(c.p_value < 1e-6);
    assert_int_equal(c.n_base, 300);

    assert_int_equal(eb_compare_latency(base, 300, fast, 300, &o, &c, &err), 0);
    assert_int_equal(c.verdict, EB_VERDICT_IMPROVED);
    assert_true(c.ci_hi < 0.95);

    assert_int_equal(eb_compare_latency(base, 300, same, 300, &o, &c, &err), 0);
    assert_int_equal(c.verdict, EB_VERDICT_UNCHANGED);
    assert_true(c.ci_lo < 1.0 + o.threshold);

    /* The same seed gives the same interval: a report is reproducible. */
    eb_latency_cmp again;
    assert_int_equal(eb_compare_latency(base, 300, same, 300, &o, &again, &err), 0);
    compare_assert_near(again.ci_lo, c.ci_lo, 0);
    compare_assert_near(again.ci_hi, c.ci_hi, 0);

    /* Significant but small: a real 2% shift with a huge sample passes the test, not the
     * threshold; the CI rule keeps it "unchanged". */
    double *big = malloc(20000 * sizeof *big), *big2 = malloc(20000 * sizeof *big2);
    assert_non_null(big);
    assert_non_null(big2);
    for (size_t i = 0; i < 20000; i++) {
        big[i] = 1.0 + 0.01 * (double)(i % 100);
        big2[i] = 1.02 * big[i];
    }
    o.resamples = 200;
    assert_int_equal(eb_compare_latency(big, 20000, big2, 20000, &o, &c, &err), 0);
    assert_true(c.p_value < 0.05);
    assert_int_equal(c.verdict, EB_VERDICT_UNCHANGED);
    free(big);
    free(big2);

    /* Too few samples: not comparable, with the reason. */
    assert_int_equal(eb_compare_latency(base, 10, slow, 300, &o, &c, &err), 0);
    assert_int_equal(c.verdict, EB_VERDICT_NOT_COMPARABLE);
    assert_non_null(strstr(c.note, "too few samples"));
}

/* ---- calibration: the acceptance bounds of issue 6 ---- */

static void test_false_alarm_and_detection_rates(void **state)
{
    (void)state;
    enum { PAIRS = 100, N = 300 };
    eb_compare_opts o;
    eb_compare_opts_default(&o);
    o.resamples = 500; /* keeps the test quick; the interval edges move by < 0.005 */
    static double a[N], b[N];
    uint64_t s = 20261124;
    eb_latency_cmp c;
    eb_err err;
    int false_alarms = 0, caught = 0;
    for (int i = 0; i < PAIRS; i++) {
        /* A/A: the same build twice; real runs also differ a little as a whole (clock,
         * placement), so the second run's level wanders by up to +-1%. */
        double drift = 1 + 0.02 * (compare_test_uniform(&s) - 0.5);
        compare_test_latencies(a, N, 1.0, &s);
        compare_test_latencies(b, N, drift, &s);
        o.seed = (uint64_t)i + 1;
        assert_int_equal(eb_compare_latency(a, N, b, N, &o, &c, &err), 0);
        false_alarms += c.verdict == EB_VERDICT_REGRESSED;
        /* injected 10% slowdown, with the same run-to-run wander */
        compare_test_latencies(b, N, 1.10 * drift, &s);
        assert_int_equal(eb_compare_latency(a, N, b, N, &o, &c, &err), 0);
        caught += c.verdict == EB_VERDICT_REGRESSED;
    }
    print_message("compare calibration: %d/%d A/A false alarms, %d/%d 10%% slowdowns caught\n",
                  false_alarms, PAIRS, caught, PAIRS);
    assert_true(false_alarms <= PAIRS * 5 / 100);
    assert_true(caught >= PAIRS * 95 / 100);
}

/* ---- runs on disk: matching, status, one-number metrics ---- */

typedef struct compare_test_trial {
    const char *variant;
    int threads;
    const char *status;
    const char *top1, *rss, *energy;
    double scale;
    size_t n;
} compare_test_trial;

static void compare_test_write_run(const char *dir, const char *fingerprint,
                                   const compare_test_trial *t, size_t n_trials, uint64_t seed)
{
    char path[512];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *r = fopen(path, "w");
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    FILE *s = fopen(path, "w");
    snprintf(path, sizeof path, "%s/run.csv", dir);
    FILE *m = fopen(path, "w");
    assert_non_null(r);
    assert_non_null(s);
    assert_non_null(m);
    fprintf(m, "key,value\nrun_id,x\nfingerprint,%s\ngit_commit,abc1234\n", fingerprint);
    fprintf(r, "run_id,scenario,variant,backend,threads,cores,batch,status,accuracy_top1,"
               "peak_rss_kb,energy_mj_per_inference,latency_p50_ms,mode,trial\n");
    fprintf(s, "run_id,variant,backend,threads,iteration,latency_ms,trial\n");
    double x[400];
    for (size_t i = 0; i < n_trials; i++) {
        fprintf(r, "x,demo,%s,mock,%d,all,1,%s,%s,%s,%s,1.0,single_stream,%zu\n", t[i].variant,
                t[i].threads, t[i].status, t[i].top1, t[i].rss, t[i].energy, i + 1);
        compare_test_latencies(x, t[i].n, t[i].scale, &seed);
        for (size_t k = 0; k < t[i].n; k++)
            fprintf(s, "x,%s,mock,%d,%zu,%.6f,%zu\n", t[i].variant, t[i].threads, k + 1, x[k],
                    i + 1);
    }
    fclose(r);
    fclose(s);
    fclose(m);
}

static void test_compare_runs_on_disk(void **state)
{
    (void)state;
    char root[] = "/tmp/test_compare_XXXXXX";
    assert_non_null(mkdtemp(root));
    char bdir[600], cdir[600];
    snprintf(bdir, sizeof bdir, "%s/base", root);
    snprintf(cdir, sizeof cdir, "%s/cur", root);
    assert_int_equal(mkdir(bdir, 0777), 0);
    assert_int_equal(mkdir(cdir, 0777), 0);
    const compare_test_trial base[] = {
        {"same", 1, "ok", "0.9000", "1000", "", 1.0, 300},
        {"slow", 1, "ok", "0.9000", "1000", "2.0", 1.0, 300},
        {"acc", 1, "ok", "0.9000", "1000", "2.0", 1.0, 300},
        {"mem", 1, "ok", "", "1000", "", 1.0, 300},
        {"gone", 1, "ok", "", "1000", "", 1.0, 300},
        {"broke", 1, "ok", "", "1000", "", 1.0, 300},
        {"few", 1, "ok", "", "1000", "", 1.0, 5},
    };
    const compare_test_trial cur[] = {
        {"few", 1, "ok", "", "1000", "", 1.0, 300},
        {"broke", 1, "crashed", "", "", "", 1.0, 0},
        {"mem", 1, "ok", "", "1200", "", 1.0, 300},
        {"acc", 1, "ok", "0.8900", "1000", "2.1", 1.0, 300},
        {"slow", 1, "ok", "0.9040", "1000", "2.5", 1.3, 300},
        {"same", 1, "ok", "0.9000", "1050", "", 1.0, 300},
        {"new", 2, "ok", "", "1000", "", 1.0, 300},
    };
    compare_test_write_run(bdir, "fp", base, 7, 1);
    compare_test_write_run(cdir, "fp", cur, 7, 2);

    eb_run_data b, c;
    eb_err err;
    assert_int_equal(eb_run_read(bdir, &b, &err), 0);
    assert_int_equal(eb_run_read(cdir, &c, &err), 0);
    eb_compare_opts o;
    eb_compare_opts_default(&o);
    o.resamples = 500;
    eb_compare_report rep;
    assert_int_equal(eb_compare_runs(&b, &c, &o, &rep, &err), 0);
    assert_int_equal(rep.n, 8); /* 7 base trials, then "new" */

    const eb_compare_entry *e = rep.entries;
    assert_string_equal(e[0].variant, "same");
    assert_int_equal(e[0].cur_row, 5); /* matched out of order */
    assert_int_equal(e[0].latency.verdict, EB_VERDICT_UNCHANGED);
    assert_int_equal(e[0].memory.verdict, EB_VERDICT_UNCHANGED); /* x1.05 < x1.10 */
    assert_int_equal(e[0].energy.verdict, EB_VERDICT_NOT_MEASURED);
    assert_int_equal(e[0].accuracy.verdict, EB_VERDICT_UNCHANGED);

    assert_int_equal(e[1].latency.verdict, EB_VERDICT_REGRESSED);
    assert_int_equal(e[1].energy.verdict, EB_VERDICT_REGRESSED); /* x1.25 */
    assert_int_equal(e[1].accuracy.verdict, EB_VERDICT_UNCHANGED); /* +0.4 point */

    assert_int_equal(e[2].accuracy.verdict, EB_VERDICT_REGRESSED); /* -1 point > 0.5 */
    compare_assert_near(e[2].accuracy.change, -0.01, 1e-9);
    assert_int_equal(e[2].energy.verdict, EB_VERDICT_UNCHANGED); /* x1.05 */
    assert_int_equal(e[2].latency.verdict, EB_VERDICT_UNCHANGED);

    assert_int_equal(e[3].memory.verdict, EB_VERDICT_REGRESSED); /* x1.20 */

    assert_string_equal(e[4].variant, "gone");
    assert_int_equal(e[4].latency.verdict, EB_VERDICT_NOT_COMPARABLE);
    assert_string_equal(e[4].latency.note, "only in the base run");
    assert_int_equal(e[5].latency.verdict, EB_VERDICT_NOT_COMPARABLE);
    assert_non_null(strstr(e[5].latency.note, "crashed"));
    assert_int_equal(e[6].latency.verdict, EB_VERDICT_NOT_COMPARABLE);
    assert_non_null(strstr(e[6].latency.note, "too few"));
    assert_string_equal(e[7].variant, "new");
    assert_string_equal(e[7].latency.note, "only in the current run");

    assert_int_equal(rep.regressed, 3);
    assert_int_equal(rep.unchanged, 1);
    assert_int_equal(rep.not_comparable, 4);

    /* Writers: the JUnit file has one testcase per trial and metric, a failure per
     * regressed metric; the Markdown names the counts. */
    char junit[700], md[700];
    snprintf(junit, sizeof junit, "%s/j.xml", root);
    snprintf(md, sizeof md, "%s/m.md", root);
    assert_int_equal(eb_compare_write_junit(junit, &rep, &b, &c, &err), 0);
    assert_int_equal(eb_compare_write_markdown(md, &rep, &b, &c, &err), 0);
    FILE *f = fopen(junit, "r");
    assert_non_null(f);
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    size_t cases = 0, failures = 0;
    for (const char *p = buf; (p = strstr(p, "<testcase ")); p++)
        cases++;
    for (const char *p = buf; (p = strstr(p, "<failure ")); p++)
        failures++;
    assert_int_equal(cases, 8 * 4);
    assert_int_equal(failures, 4); /* slow: latency+energy, acc: accuracy, mem: memory */
    assert_non_null(strstr(buf, "tests=\"32\" failures=\"4\""));
    f = fopen(md, "r");
    assert_non_null(f);
    len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "3 regressed, 0 improved, 1 unchanged, 4 not comparable"));
    assert_non_null(strstr(buf, "**regressed**"));
    /* an unwritable target is one line naming the file */
    assert_int_equal(eb_compare_write_junit("/nonexistent/dir/j.xml", &rep, &b, &c, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/j.xml"));

    eb_compare_report_free(&rep);
    eb_run_free(&b);
    eb_run_free(&c);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* ---- step changes ---- */

static void test_steps(void **state)
{
    (void)state;
    enum { N = 200, M = 6 };
    static double x[M][N];
    const double level[M] = {1.0, 1.0, 1.0, 1.3, 1.3, 1.3};
    const double *runs[M];
    size_t n[M];
    uint64_t s = 5;
    for (int i = 0; i < M; i++) {
        compare_test_latencies(x[i], N, level[i], &s);
        runs[i] = x[i];
        n[i] = N;
    }
    eb_step steps[4];
    size_t k;
    eb_err err;
    assert_int_equal(eb_compare_steps(runs, n, M, 0.05, 0.01, steps, 4, &k, &err), 0);
    assert_int_equal(k, 1);
    assert_int_equal(steps[0].at, 3);
    assert_true(steps[0].after / steps[0].before > 1.25);
    assert_true(steps[0].p_value < 0.01);

    /* flat history: nothing */
    for (int i = 0; i < M; i++)
        compare_test_latencies(x[i], N, 1.0, &s);
    assert_int_equal(eb_compare_steps(runs, n, M, 0.05, 0.01, steps, 4, &k, &err), 0);
    assert_int_equal(k, 0);

    /* two steps, up then back down: both found, in order */
    const double two[M] = {1.0, 1.0, 1.5, 1.5, 1.0, 1.0};
    for (int i = 0; i < M; i++)
        compare_test_latencies(x[i], N, two[i], &s);
    assert_int_equal(eb_compare_steps(runs, n, M, 0.05, 0.01, steps, 4, &k, &err), 0);
    assert_int_equal(k, 2);
    assert_int_equal(steps[0].at, 2);
    assert_int_equal(steps[1].at, 4);

    /* a creep of 2% a run never clears a 5% threshold night to night, but the history does */
    const double creep[M] = {1.00, 1.02, 1.04, 1.06, 1.08, 1.10};
    for (int i = 0; i < M; i++)
        compare_test_latencies(x[i], N, creep[i], &s);
    assert_int_equal(eb_compare_steps(runs, n, M, 0.05, 0.01, steps, 4, &k, &err), 0);
    assert_true(k >= 1);
    assert_true(steps[0].at > 0 && steps[k - 1].at < M);

    /* one value per run (no samples.csv): too little to be significant */
    double one[M] = {1.0, 1.0, 1.0, 1.3, 1.3, 1.3};
    for (int i = 0; i < M; i++) {
        runs[i] = &one[i];
        n[i] = 1;
    }
    assert_int_equal(eb_compare_steps(runs, n, M, 0.05, 0.01, steps, 4, &k, &err), 0);
    assert_int_equal(k, 0);
}

static void test_parse_percent(void **state)
{
    (void)state;
    double v;
    assert_int_equal(eb_compare_parse_percent("5%", &v), 0);
    compare_assert_near(v, 0.05, 1e-15);
    assert_int_equal(eb_compare_parse_percent("0.5", &v), 0);
    compare_assert_near(v, 0.005, 1e-15);
    assert_int_equal(eb_compare_parse_percent("five", &v), -1);
    assert_int_equal(eb_compare_parse_percent("5%%", &v), -1);
    assert_int_equal(eb_compare_parse_percent("-1", &v), -1);
    assert_int_equal(eb_compare_parse_percent("", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_matches_sort),
        cmocka_unit_test(test_mann_whitney_by_hand),
        cmocka_unit_test(test_latency_verdicts),
        cmocka_unit_test(test_false_alarm_and_detection_rates),
        cmocka_unit_test(test_compare_runs_on_disk),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_parse_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
