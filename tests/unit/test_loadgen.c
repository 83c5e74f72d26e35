/* Load patterns against queueing theory, on a virtual clock (deterministic) and, briefly, on
 * the real one.  A virtual clock makes a query take exactly S: the server is then an M/D/1
 * queue, whose mean wait rho S / (2 (1 - rho)) and waiting-time distribution (Erlang's
 * formula) are known exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "loadgen.h"

typedef struct loadgen_vclock {
    double t;          /* virtual ms */
    double service;    /* each query takes this long */
    double per_sample; /* offline: each sample of a batch adds this */
    size_t calls;
    size_t fail_at;    /* the call (1-based) that fails; 0: none */
    double *starts;    /* when given: service start times of each call */
    size_t nstarts;
} loadgen_vclock;

static double loadgen_vnow(void *ctx)
{
    return ((loadgen_vclock *)ctx)->t;
}

static void loadgen_vwait(void *ctx, double t)
{
    loadgen_vclock *c = ctx;
    if (t > c->t)
        c->t = t;
}

static int loadgen_vinfer(void *ctx)
{
    loadgen_vclock *c = ctx;
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at)
        return -1;
    if (c->starts && c->nstarts < 100000)
        c->starts[c->nstarts++] = c->t;
    c->t += c->service;
    return 0;
}

static int loadgen_vbatch(void *ctx, int batch)
{
    loadgen_vclock *c = ctx;
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at)
        return -1;
    c->t += c->service + c->per_sample * batch;
    return 0;
}

static eb_clock_i loadgen_vclock_i(loadgen_vclock *c)
{
    eb_clock_i i = {loadgen_vnow, loadgen_vwait, c};
    return i;
}

/* Erlang: P(W <= t) = (1 - rho) sum_{k=0}^{floor(t/S)} (lam (kS - t))^k / k! e^{-lam (kS - t)},
 * checked against a 400k-query simulation in numpy (to 3 decimals) when this test was
 * written. */
static double loadgen_md1_wait_cdf(double t, double lam, double s)
{
    double sum = 0;
    for (int k = 0; k <= (int)floor(t / s); k++) {
        double x = lam * (k * s - t);
        sum += pow(x, k) / tgamma(k + 1) * exp(-x);
    }
    return (1 - lam * s) * sum;
}

static void test_modes(void **state)
{
    (void)state;
    eb_load_mode m = EB_MODE_SERVER;
    assert_int_equal(eb_load_mode_parse("single_stream", &m), 0);
    assert_int_equal(m, EB_MODE_SINGLE_STREAM);
    assert_int_equal(eb_load_mode_parse("offline", &m), 0);
    assert_int_equal(m, EB_MODE_OFFLINE);
    assert_int_equal(eb_load_mode_parse("server", &m), 0);
    assert_int_equal(m, EB_MODE_SERVER);
    assert_int_equal(eb_load_mode_parse("Server", &m), -1);
    assert_int_equal(eb_load_mode_parse(NULL, &m), -1);
    assert_string_equal(eb_load_mode_name(EB_MODE_OFFLINE), "offline");
    assert_string_equal(eb_load_mode_name(EB_MODE_SINGLE_STREAM), "single_stream");
    assert_string_equal(eb_load_mode_name(EB_MODE_SERVER), "server");
}

static void test_offline(void **state)
{
    (void)state;
    eb_offline_point p;
    double ms[] = {10, 10, 20};
    assert_int_equal(eb_offline_summarize(8, ms, 3, &p), 0);
    assert_int_equal(p.samples, 24);
    assert_float_equal(p.total_ms, 40, 0);
    assert_float_equal(p.samples_per_s, 600, 1e-9);
    assert_float_equal(p.batch_ms_mean, 40.0 / 3, 1e-12);
    assert_int_equal(eb_offline_summarize(0, ms, 3, &p), -1);
    assert_int_equal(eb_offline_summarize(8, ms, 0, &p), -1);

    /* a batch costs 2 ms fixed + 0.5 ms per sample: throughput grows with the batch size
     * toward 2000/s, exactly batch / (2 + 0.5 batch) per ms */
    loadgen_vclock c = {.service = 2, .per_sample = 0.5};
    eb_clock_i ck = loadgen_vclock_i(&c);
    eb_offline_point pts[4];
    static const int batches[] = {1, 4, 16, 64};
    eb_err err;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(eb_offline_run(batches[i], loadgen_vbatch, &c, &ck, 10, 100, &pts[i],
                                        &err), 0);
        double b = batches[i];
        assert_float_equal(pts[i].samples_per_s, b / (2 + 0.5 * b) * 1e3, 1e-6);
        assert_true(pts[i].batches >= 10);
        assert_true(pts[i].total_ms >= 100);
        /* it stops as soon as both minimums are met */
        assert_true(pts[i].total_ms - (2 + 0.5 * b) < 100 || pts[i].batches == 10);
    }
    assert_int_equal(eb_offline_best(pts, 4), 3);
    assert_int_equal(eb_offline_best(pts, 0), 0);

    c.fail_at = c.calls + 3;
    assert_int_equal(eb_offline_run(4, loadgen_vbatch, &c, &ck, 10, 0, &pts[0], &err), -1);
    assert_non_null(strstr(err.msg, "batch 3 of size 4 failed"));
    assert_int_equal(pts[0].batches, 2);
}

/* M/D/1 at rho = 0.5 over 20000 queries: mean latency S + rho S / (2 (1 - rho)) = 1.5 S. */
static void test_server_md1_mean(void **state)
{
    (void)state;
    static const struct { double rho, tol; size_t n; } cases[] = {
        {0.5, 0.03, 20000}, {0.8, 0.06, 60000}, {0.2, 0.02, 20000},
    };
    for (int i = 0; i < 3; i++) {
        const double s = 2.0; /* ms */
        loadgen_vclock c = {.t = 1000, .service = s};
        eb_clock_i ck = loadgen_vclock_i(&c);
        double rho = cases[i].rho;
        eb_server_cfg cfg = {.target_qps = rho / s * 1e3, .min_queries = cases[i].n,
                             .max_queries = cases[i].n, .seed = 42};
        eb_server_result r;
        eb_err err;
        assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
        assert_int_equal(r.n, cases[i].n);
        double want = s + rho * s / (2 * (1 - rho));
        assert_true(fabs(r.mean_ms / want - 1) < cases[i].tol);
        assert_true(fabs(r.busy_fraction / rho - 1) < cases[i].tol);
        assert_true(fabs(r.achieved_qps / cfg.target_qps - 1) < cases[i].tol);
        assert_true(fabs(r.offered_qps / cfg.target_qps - 1) < cases[i].tol);
        /* every latency includes the service time */
        for (size_t k = 0; k < r.n; k++)
            assert_true(r.latency_ms[k] >= s - 1e-9);
        assert_int_equal(r.p99_bound_met, -1);
        assert_false(isnan(r.p99_hi_ms));
        assert_true(r.p99_lo_ms <= r.p99_ms && r.p99_ms <= r.p99_hi_ms);
        eb_server_result_free(&r);
        assert_null(r.latency_ms);
    }
}

/* The whole latency distribution, not only its mean, matches M/D/1 (Erlang's formula). */
static void test_server_md1_distribution(void **state)
{
    (void)state;
    const double s = 1.0, lam = 0.5; /* per ms */
    loadgen_vclock c = {.service = s};
    eb_clock_i ck = loadgen_vclock_i(&c);
    eb_server_cfg cfg = {.target_qps = lam * 1e3, .duration_ms = 60000, .seed = 7};
    eb_server_result r;
    eb_err err;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    /* ~30000 arrivals in 60 s at 500/s: Poisson, sd 173 */
    assert_true(fabs((double)r.n - 30000) < 5 * sqrt(30000));
    static const double ts[] = {0.25, 0.5, 1, 2, 3};
    for (int i = 0; i < 5; i++) {
        size_t below = 0;
        for (size_t k = 0; k < r.n; k++)
            below += r.latency_ms[k] - s <= ts[i] + 1e-12;
        double got = (double)below / (double)r.n;
        assert_true(fabs(got - loadgen_md1_wait_cdf(ts[i], lam, s)) < 0.015);
    }
    eb_server_result_free(&r);
}

/* Arrivals are Poisson: with a negligible service time each query starts on arrival, so the
 * gaps between starts are the inter-arrival times: exponential, mean 1/rate, CV 1. */
static void test_server_arrivals_poisson(void **state)
{
    (void)state;
    double *starts = malloc(100000 * sizeof *starts);
    assert_non_null(starts);
    loadgen_vclock c = {.service = 1e-6, .starts = starts};
    eb_clock_i ck = loadgen_vclock_i(&c);
    eb_server_cfg cfg = {.target_qps = 250, .duration_ms = 80000, .seed = 3};
    eb_server_result r;
    eb_err err;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_int_equal(c.nstarts, r.n);
    double sum = 0, ss = 0;
    size_t m = r.n - 1, over = 0;
    for (size_t k = 1; k < r.n; k++) {
        double g = starts[k] - starts[k - 1];
        sum += g;
        over += g > 4.0; /* P(gap > mean) = e^-1 */
    }
    double mean = sum / (double)m;
    for (size_t k = 1; k < r.n; k++) {
        double g = starts[k] - starts[k - 1] - mean;
        ss += g * g;
    }
    double cv = sqrt(ss / (double)(m - 1)) / mean;
    assert_true(fabs(mean / 4.0 - 1) < 0.03);
    assert_true(fabs(cv - 1) < 0.03);
    assert_true(fabs((double)over / (double)m - exp(-1)) < 0.015);
    for (size_t k = 0; k < r.n; k++)
        assert_true(r.latency_ms[k] < 1e-3); /* no queueing at all */
    eb_server_result_free(&r);

    /* the same seed gives the same run; another seed another */
    loadgen_vclock c2 = {.service = 1e-6, .starts = starts};
    eb_clock_i ck2 = loadgen_vclock_i(&c2);
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c2, &ck2, &r, &err), 0);
    double first = starts[5];
    eb_server_result_free(&r);
    c2 = (loadgen_vclock){.service = 1e-6, .starts = starts};
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c2, &ck2, &r, &err), 0);
    assert_float_equal(starts[5], first, 0);
    eb_server_result_free(&r);
    c2 = (loadgen_vclock){.service = 1e-6, .starts = starts};
    cfg.seed = 4;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c2, &ck2, &r, &err), 0);
    assert_true(starts[5] != first);
    eb_server_result_free(&r);
    free(starts);
}

static void test_server_bound_and_errors(void **state)
{
    (void)state;
    loadgen_vclock c = {.service = 1.0};
    eb_clock_i ck = loadgen_vclock_i(&c);
    eb_server_result r;
    eb_err err;
    /* rho 0.3 with a 10 ms bound: met; rho 0.95 with 5 ms: missed */
    eb_server_cfg cfg = {.target_qps = 300, .duration_ms = 10000, .p99_bound_ms = 10,
                         .seed = 1};
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_int_equal(r.p99_bound_met, 1);
    eb_server_result_free(&r);
    cfg.target_qps = 950;
    cfg.p99_bound_ms = 5;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_int_equal(r.p99_bound_met, 0);
    assert_true(r.p99_ms > 5);
    eb_server_result_free(&r);

    /* a failing query stops the run and keeps what finished */
    c.fail_at = c.calls + 5;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), -1);
    assert_int_equal(r.n, 4);
    assert_non_null(strstr(err.msg, "query 5 failed"));
    eb_server_result_free(&r);

    cfg.target_qps = 0;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), -1);
    assert_non_null(strstr(err.msg, "target_qps"));
    assert_null(r.latency_ms);
    cfg.target_qps = 100;
    cfg.duration_ms = 0;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), -1);
    assert_non_null(strstr(err.msg, "duration"));
    /* max_queries caps the run */
    cfg.duration_ms = 1e6;
    cfg.max_queries = 50;
    assert_int_equal(eb_server_run(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_int_equal(r.n, 50);
    eb_server_result_free(&r);
}

/* The search finds the highest rate whose p99 stays within the bound, near the analytic
 * M/D/1 limit: S = 1 ms, p99 latency <= 5 ms means P(W <= 4 ms) >= 0.99, which Erlang's
 * formula puts at lambda* = 560.8/s (bisection on the formula below). */
static void test_server_search(void **state)
{
    (void)state;
    double lo = 10, hi = 999;
    for (int i = 0; i < 60; i++) {
        double mid = (lo + hi) / 2;
        if (loadgen_md1_wait_cdf(4.0, mid / 1e3, 1.0) >= 0.99)
            lo = mid;
        else
            hi = mid;
    }
    assert_true(fabs(lo - 560.8) < 0.5);

    loadgen_vclock c = {.service = 1.0};
    eb_clock_i ck = loadgen_vclock_i(&c);
    eb_server_search_cfg cfg = {.p99_bound_ms = 5, .probe_ms = 0, .probe_min_queries = 40000,
                                .max_probes = 20, .rel_tol = 0.005, .seed = 11};
    eb_server_search_result r;
    eb_err err;
    assert_int_equal(eb_server_search(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_float_equal(r.start_qps, 1000, 1e-6); /* 1 / mean service time */
    assert_true(r.found);
    assert_true(r.best_p99_ms <= 5);
    assert_true(r.fail_qps > r.best_qps);
    assert_true(fabs(r.best_qps / lo - 1) < 0.03);
    assert_true(r.probes <= 20);

    /* unreachable bound (below the service time): nothing passes */
    cfg.p99_bound_ms = 0.5;
    cfg.max_probes = 6;
    assert_int_equal(eb_server_search(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_false(r.found);
    assert_int_equal(r.probes, 6);
    assert_float_equal(r.best_qps, 0, 0);

    /* a loose bound passes at the start rate: the search grows the rate until it fails */
    cfg.p99_bound_ms = 1e9;
    cfg.start_qps = 100;
    cfg.max_probes = 4;
    cfg.probe_min_queries = 1000;
    assert_int_equal(eb_server_search(&cfg, loadgen_vinfer, &c, &ck, &r, &err), 0);
    assert_true(r.found);
    assert_float_equal(r.best_qps, 100 * 1.5 * 1.5 * 1.5, 1e-9);

    cfg.p99_bound_ms = 0;
    assert_int_equal(eb_server_search(&cfg, loadgen_vinfer, &c, &ck, &r, &err), -1);
    assert_non_null(strstr(err.msg, "p99_ms"));
}

/* The real clock: a busy-wait of 0.3 ms served at 1000/s for 150 ms (rho 0.3).  Loose
 * bounds: the machine is shared. */
static int loadgen_spin(void *ctx)
{
    double until = eb_now_ms() + *(double *)ctx;
    while (eb_now_ms() < until)
        ;
    return 0;
}

static void test_server_real_clock(void **state)
{
    (void)state;
    double service = 0.3;
    eb_server_cfg cfg = {.target_qps = 1000, .duration_ms = 150, .seed = 5};
    eb_server_result r;
    eb_err err;
    double t0 = eb_now_ms();
    assert_int_equal(eb_server_run(&cfg, loadgen_spin, &service, &eb_clock_real, &r, &err), 0);
    double elapsed = eb_now_ms() - t0;
    assert_true(r.n > 80 && r.n < 230); /* Poisson(150): sd 12 */
    /* it waited for the arrivals rather than running back to back */
    assert_true(elapsed >= 100);
    for (size_t k = 0; k < r.n; k++)
        assert_true(r.latency_ms[k] >= service);
    /* The exact queueing figures are checked on the virtual clock above; on the real one, a
     * machine shared with other work can stretch any service or wake-up, so only what holds
     * however loaded it is: some time busy, never more than all of it, queries completed. */
    assert_true(r.busy_fraction > 0.05 && r.busy_fraction <= 1.0 + 1e-9);
    assert_true(r.achieved_qps > 0);
    eb_server_result_free(&r);

    /* wait_until on the real clock returns at or after the target (how soon is the scheduler's) */
    double target = eb_now_ms() + 3;
    eb_clock_real.wait_until_ms(eb_clock_real.ctx, target);
    double late = eb_now_ms() - target;
    assert_true(late >= 0 && late < 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_server_md1_mean),
        cmocka_unit_test(test_server_md1_distribution),
        cmocka_unit_test(test_server_arrivals_poisson),
        cmocka_unit_test(test_server_bound_and_errors),
        cmocka_unit_test(test_server_search),
        cmocka_unit_test(test_server_real_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
