/* Load patterns: offline throughput, server (Poisson arrivals) and its rate search.  See
 * loadgen.h for the contracts and how a trial calls them. */
#include "loadgen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "stats.h"
#include "stats_ci.h"

/* ---- modes -------------------------------------------------------------------------- */

static const char *const loadgen_mode_names[] = {"single_stream", "offline", "server"};

int eb_load_mode_parse(const char *name, eb_load_mode *mode)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, loadgen_mode_names[i]) == 0) {
            *mode = (eb_load_mode)i;
            return 0;
        }
    return -1;
}

const char *eb_load_mode_name(eb_load_mode mode)
{
    return (unsigned)mode < 3 ? loadgen_mode_names[mode] : "?";
}

/* ---- the real clock ----------------------------------------------------------------- */

static double loadgen_real_now(void *ctx)
{
    (void)ctx;
    return eb_now_ms();
}

static void loadgen_real_wait(void *ctx, double t_ms)
{
    (void)ctx;
    /* Sleep to 0.2 ms short (wake-up latency on a loaded board is tens to hundreds of us),
     * then spin: an arrival released late would add its lateness to that query's latency. */
    double sleep_to = t_ms - 0.2;
    if (sleep_to > eb_now_ms()) {
        struct timespec ts;
        ts.tv_sec = (time_t)(sleep_to / 1e3);
        ts.tv_nsec = (long)((sleep_to - (double)ts.tv_sec * 1e3) * 1e6);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
    while (eb_now_ms() < t_ms)
        ;
}

const eb_clock_i eb_clock_real = {loadgen_real_now, loadgen_real_wait, NULL};

/* ---- PRNG: splitmix64 (Steele, Lea, Flood 2014); tiny, seedable, passes BigCrush -------- */

typedef struct loadgen_rng {
    uint64_t s;
} loadgen_rng;

static uint64_t loadgen_next(loadgen_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Exponential with the given mean: -mean * ln(1 - U), U uniform in [0, 1) on 53 bits, so
 * the argument of log1p never reaches -1. */
static double loadgen_exp(loadgen_rng *r, double mean)
{
    double u = (double)(loadgen_next(r) >> 11) * 0x1.0p-53;
    return -mean * log1p(-u);
}

/* ---- offline ------------------------------------------------------------------------ */

static void loadgen_offline_fill(eb_offline_point *p, int batch, size_t batches, double total)
{
    p->batch = batch;
    p->batches = batches;
    p->samples = batches * (size_t)batch;
    p->total_ms = total;
    p->batch_ms_mean = total / (double)batches;
    p->samples_per_s = total > 0 ? (double)p->samples / total * 1e3 : NAN;
}

int eb_offline_summarize(int batch, const double *batch_ms, size_t n, eb_offline_point *p)
{
    memset(p, 0, sizeof *p);
    if (batch < 1 || n == 0)
        return -1;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += batch_ms[i];
    loadgen_offline_fill(p, batch, n, total);
    return 0;
}

int eb_offline_run(int batch, eb_batch_fn run, void *ctx, const eb_clock_i *clock,
                   size_t min_batches, double min_ms, eb_offline_point *p, eb_err *err)
{
    memset(p, 0, sizeof *p);
    if (batch < 1)
        return eb_errf(err, "loadgen.c: offline: batch must be >= 1 (got %d): fix the "
                            "scenario's batch list", batch);
    double t0 = clock->now_ms(clock->ctx), now = t0;
    size_t done = 0;
    while (done == 0 || done < min_batches || now - t0 < min_ms) {
        if (run(ctx, batch) < 0) {
            if (done) /* what finished stays measured */
                loadgen_offline_fill(p, batch, done, now - t0);
            return eb_errf(err, "loadgen.c: offline: batch %zu of size %d failed (the "
                                "backend's message says why)", done + 1, batch);
        }
        done++;
        now = clock->now_ms(clock->ctx);
    }
    loadgen_offline_fill(p, batch, done, now - t0);
    return 0;
}

size_t eb_offline_best(const eb_offline_point *p, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (p[i].samples_per_s > p[best].samples_per_s)
            best = i;
    return best;
}

/* ---- server ------------------------------------------------------------------------- */

static int loadgen_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void loadgen_server_reset(eb_server_result *res)
{
    memset(res, 0, sizeof *res);
    res->offered_qps = res->achieved_qps = NAN;
    res->mean_ms = res->p50_ms = res->p90_ms = res->p99_ms = NAN;
    res->p99_lo_ms = res->p99_hi_ms = res->busy_fraction = NAN;
    res->p99_bound_met = -1;
}

/* Fills the summary fields from res->latency_ms[0..n). */
static void loadgen_server_summarize(const eb_server_cfg *cfg, eb_server_result *res,
                                     double span_ms, double end_ms, double busy_ms)
{
    size_t n = res->n;
    if (n == 0)
        return;
    res->offered_qps = (double)n / span_ms * 1e3;
    res->achieved_qps = end_ms > 0 ? (double)n / end_ms * 1e3 : NAN;
    res->busy_fraction = end_ms > 0 ? busy_ms / end_ms : NAN;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return; /* the percentiles stay NaN: the caller still has every latency */
    memcpy(v, res->latency_ms, n * sizeof *v);
    qsort(v, n, sizeof *v, loadgen_cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    res->mean_ms = sum / (double)n;
    res->p50_ms = eb_stats_percentile_sorted(v, n, 50);
    res->p90_ms = eb_stats_percentile_sorted(v, n, 90);
    res->p99_ms = eb_stats_percentile_sorted(v, n, 99);
    eb_quantile_ci(v, n, 0.99, 0.95, &res->p99_lo_ms, &res->p99_hi_ms);
    free(v);
    if (cfg->p99_bound_ms > 0)
        res->p99_bound_met = res->p99_ms <= cfg->p99_bound_ms;
}

int eb_server_run(const eb_server_cfg *cfg, eb_infer_fn infer, void *ctx,
                  const eb_clock_i *clock, eb_server_result *res, eb_err *err)
{
    loadgen_server_reset(res);
    if (!(cfg->target_qps > 0) || !isfinite(cfg->target_qps))
        return eb_errf(err, "loadgen.c: server: target_qps must be a number > 0 (got %g): "
                            "set server = { target_qps = ... }", cfg->target_qps);
    if (!(cfg->duration_ms >= 0) || (cfg->duration_ms == 0 && cfg->min_queries == 0))
        return eb_errf(err, "loadgen.c: server: duration must be > 0 (got %g ms) unless a "
                            "minimum query count is set: set server = { duration = \"5s\" }",
                       cfg->duration_ms);

    const double gap_mean = 1e3 / cfg->target_qps;
    /* Room for the expected count plus 10 standard deviations, so the loop almost never
     * reallocates while timing (it still can, correctly, if the draw is extreme). */
    double expect = cfg->duration_ms / gap_mean;
    double cap_d = expect + 10 * sqrt(expect) + 64;
    if (cap_d < (double)cfg->min_queries)
        cap_d = (double)cfg->min_queries;
    if (cfg->max_queries && cap_d > (double)cfg->max_queries)
        cap_d = (double)cfg->max_queries;
    if (cap_d > 1e8)
        cap_d = 1e8;
    size_t cap = (size_t)cap_d + 1;
    res->latency_ms = malloc(cap * sizeof *res->latency_ms);
    if (!res->latency_ms)
        return eb_errf(err, "loadgen.c: server: no memory for %zu latencies: shorten the "
                            "duration or lower target_qps", cap);

    loadgen_rng rng = {cfg->seed};
    const double t0 = clock->now_ms(clock->ctx);
    double arrival = loadgen_exp(&rng, gap_mean), last_arrival = 0, end = 0, busy = 0;
    int rc = 0;
    for (;;) {
        size_t i = res->n;
        if (arrival >= cfg->duration_ms && i >= cfg->min_queries)
            break;
        if (cfg->max_queries && i >= cfg->max_queries)
            break;
        if (i == cap) {
            size_t ncap = cap * 2;
            double *nl = realloc(res->latency_ms, ncap * sizeof *nl);
            if (!nl) {
                rc = eb_errf(err, "loadgen.c: server: no memory for %zu latencies: shorten "
                                  "the duration or lower target_qps", ncap);
                break;
            }
            res->latency_ms = nl;
            cap = ncap;
        }
        double now = clock->now_ms(clock->ctx) - t0;
        if (now < arrival) { /* idle: the next query has not arrived yet */
            clock->wait_until_ms(clock->ctx, t0 + arrival);
            now = clock->now_ms(clock->ctx) - t0;
        }
        if (infer(ctx) < 0) {
            rc = eb_errf(err, "loadgen.c: server: query %zu failed (the backend's message "
                              "says why)", i + 1);
            break;
        }
        double done = clock->now_ms(clock->ctx) - t0;
        busy += done - now;
        res->latency_ms[i] = done - arrival;
        res->n = i + 1;
        end = done;
        last_arrival = arrival;
        arrival += loadgen_exp(&rng, gap_mean);
    }
    double span = cfg->duration_ms > last_arrival ? cfg->duration_ms : last_arrival;
    loadgen_server_summarize(cfg, res, span, end, busy);
    return rc;
}

void eb_server_result_free(eb_server_result *res)
{
    free(res->latency_ms);
    res->latency_ms = NULL;
    res->n = 0;
}

/* One probe of the search: a server run at `qps`; *pass = p99 within the bound. */
static int loadgen_probe(const eb_server_search_cfg *cfg, double qps, eb_infer_fn infer,
                         void *ctx, const eb_clock_i *clock, eb_server_search_result *res,
                         int *pass, eb_err *err)
{
    eb_server_cfg sc = {
        .target_qps = qps,
        .duration_ms = cfg->probe_ms,
        .min_queries = cfg->probe_min_queries ? cfg->probe_min_queries : 400,
        .p99_bound_ms = cfg->p99_bound_ms,
        .seed = cfg->seed,
    };
    eb_server_result sr;
    int rc = eb_server_run(&sc, infer, ctx, clock, &sr, err);
    res->probes++;
    *pass = rc == 0 && sr.p99_bound_met == 1;
    if (*pass && qps > res->best_qps) {
        res->best_qps = qps;
        res->best_p99_ms = sr.p99_ms;
        res->best_achieved_qps = sr.achieved_qps;
        res->found = 1;
    }
    if (rc == 0 && !*pass && (res->fail_qps == 0 || qps < res->fail_qps))
        res->fail_qps = qps;
    eb_server_result_free(&sr);
    return rc;
}

int eb_server_search(const eb_server_search_cfg *cfg, eb_infer_fn infer, void *ctx,
                     const eb_clock_i *clock, eb_server_search_result *res, eb_err *err)
{
    memset(res, 0, sizeof *res);
    res->best_p99_ms = res->best_achieved_qps = NAN;
    if (!(cfg->p99_bound_ms > 0))
        return eb_errf(err, "loadgen.c: server search: p99_ms must be > 0 (got %g): set "
                            "server = { p99_ms = ... }", cfg->p99_bound_ms);
    const int max_probes = cfg->max_probes > 0 ? cfg->max_probes : 12;
    const double tol = cfg->rel_tol > 0 ? cfg->rel_tol : 0.02;

    double r0 = cfg->start_qps;
    if (!(r0 > 0)) {
        /* The single-stream rate: the most one worker can serve when queries never wait. */
        size_t k = cfg->calib_queries ? cfg->calib_queries : 32;
        double t0 = clock->now_ms(clock->ctx);
        for (size_t i = 0; i < k; i++)
            if (infer(ctx) < 0)
                return eb_errf(err, "loadgen.c: server search: calibration query %zu failed "
                                    "(the backend's message says why)", i + 1);
        double mean = (clock->now_ms(clock->ctx) - t0) / (double)k;
        r0 = mean > 0 ? 1e3 / mean : 1e6;
    }
    res->start_qps = r0;

    /* Bracket: lo passes, hi fails. */
    double lo = 0, hi = 0;
    int pass;
    if (loadgen_probe(cfg, r0, infer, ctx, clock, res, &pass, err) < 0)
        return -1;
    if (pass) {
        lo = r0;
        while (res->probes < max_probes) {
            double up = lo * 1.5;
            if (loadgen_probe(cfg, up, infer, ctx, clock, res, &pass, err) < 0)
                return -1;
            if (!pass) {
                hi = up;
                break;
            }
            lo = up;
        }
    } else {
        hi = r0;
        while (res->probes < max_probes) {
            double down = hi / 2;
            if (loadgen_probe(cfg, down, infer, ctx, clock, res, &pass, err) < 0)
                return -1;
            if (pass) {
                lo = down;
                break;
            }
            hi = down;
        }
    }
    /* Bisection; stops on the probe budget or when the bracket is within tol. */
    while (lo > 0 && hi > 0 && res->probes < max_probes && (hi - lo) > tol * lo) {
        double mid = (lo + hi) / 2;
        if (loadgen_probe(cfg, mid, infer, ctx, clock, res, &pass, err) < 0)
            return -1;
        if (pass)
            lo = mid;
        else
            hi = mid;
    }
    return 0;
}
