/* Load patterns, after MLPerf LoadGen's scenarios: single_stream, offline, server (issue 5).
 * Pure scheduling logic over callbacks and an injectable clock, so it is testable without a
 * backend and, with a virtual clock, deterministic.
 *
 * How the trial uses each mode (scenario: mode = "single_stream" | "offline" | "server"):
 *
 *   single_stream (the default): what trial.c does now: one inference after another, each
 *     timed; latency = service time.  Nothing here is needed; eb_load_mode_parse names it.
 *
 *   offline: throughput over batch sizes.  The planner makes one trial per batch size (the
 *     existing `batch` sweep); each trial runs its timed loop as now and then
 *         eb_offline_point p;
 *         eb_offline_summarize(t->batch, samples, n, &p);   // samples: ms per batch
 *     and writes p.samples_per_s (throughput = total samples / total time).  A trial that
 *     owns its own loop can instead call eb_offline_run() with a batch callback; it times
 *     the whole loop, so loop overhead counts against throughput as it would in production.
 *     eb_offline_best() picks the batch size with the highest throughput for the report.
 *
 *   server: Poisson arrivals at target_qps, one worker serving queries in arrival order;
 *     latency = completion - scheduled arrival, so queueing (and any late wake-up) counts.
 *         eb_server_cfg c = { .target_qps = 200, .duration_ms = 5000, .min_queries = 368,
 *                             .p99_bound_ms = 10, .seed = 1 };
 *         eb_server_result s;
 *         if (eb_server_run(&c, infer_one, ctx, &eb_clock_real, &s, &err) < 0) -> failed row
 *         // columns: mode = "server", target_qps = c.target_qps,
 *         //          achieved_qps = s.achieved_qps, p99_bound_ms = c.p99_bound_ms,
 *         //          p99_bound_met = s.p99_bound_met (empty when -1); latencies go to
 *         //          samples.csv (s.latency_ms, s.n) and through the usual statistics.
 *         eb_server_result_free(&s);
 *     and, when the scenario asks for it (e.g. server = { p99_ms = 10, search = true }):
 *         eb_server_search_cfg sc = { .p99_bound_ms = 10, .probe_ms = 1000,
 *                                     .probe_min_queries = 400, .max_probes = 12,
 *                                     .rel_tol = 0.02, .seed = 1 };
 *         eb_server_search_result sr;
 *         eb_server_search(&sc, infer_one, ctx, &eb_clock_real, &sr, &err);
 *         // column max_qps_within_bound = sr.found ? sr.best_qps : empty
 *     infer_one(ctx) runs one inference (batch 1) on the trial's session and returns 0, or -1
 *     with the backend's message kept in ctx.
 */
#ifndef EB_LOADGEN_H
#define EB_LOADGEN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum eb_load_mode {
    EB_MODE_SINGLE_STREAM = 0,
    EB_MODE_OFFLINE,
    EB_MODE_SERVER,
} eb_load_mode;

/* "single_stream", "offline", "server" -> mode; -1 for anything else. */
int eb_load_mode_parse(const char *name, eb_load_mode *mode);
const char *eb_load_mode_name(eb_load_mode mode);

/* Time source.  now_ms: monotonic milliseconds.  wait_until_ms: returns once now_ms() >= t
 * (at once if t has passed).  Tests pass a virtual clock that the callback advances. */
typedef struct eb_clock_i {
    double (*now_ms)(void *ctx);
    void (*wait_until_ms)(void *ctx, double t_ms);
    void *ctx;
} eb_clock_i;

/* CLOCK_MONOTONIC; waits sleep with clock_nanosleep(TIMER_ABSTIME) until 0.2 ms before the
 * target and spin the rest, so arrivals are on time to a few microseconds without burning a
 * core through long idle gaps. */
extern const eb_clock_i eb_clock_real;

/* One query (batch 1): 0 on success, -1 on failure (the callback keeps its own message). */
typedef int (*eb_infer_fn)(void *ctx);
/* One batch of `batch` samples: 0 / -1 as above. */
typedef int (*eb_batch_fn)(void *ctx, int batch);

/* ---- offline ------------------------------------------------------------------------ */

typedef struct eb_offline_point {
    int batch;
    size_t batches, samples;  /* samples = batches * batch */
    double total_ms;          /* the time the throughput is over */
    double batch_ms_mean;     /* total_ms / batches */
    double samples_per_s;     /* samples / total_ms * 1000 */
} eb_offline_point;

/* From the per-batch times of a trial's timed loop (ms, any order): total_ms = their sum.
 * batch >= 1, n >= 1; -1 otherwise (p zeroed). */
int eb_offline_summarize(int batch, const double *batch_ms, size_t n, eb_offline_point *p);

/* Runs `run(ctx, batch)` back to back until both min_batches and min_ms are met (at least one
 * batch), timing the whole loop.  -1 with err when run fails or arguments are bad. */
int eb_offline_run(int batch, eb_batch_fn run, void *ctx, const eb_clock_i *clock,
                   size_t min_batches, double min_ms, eb_offline_point *p, eb_err *err);

/* Index of the point with the highest samples_per_s (the first on ties); 0 when n == 0. */
size_t eb_offline_best(const eb_offline_point *p, size_t n);

/* ---- server ------------------------------------------------------------------------- */

typedef struct eb_server_cfg {
    double target_qps;    /* > 0: mean arrival rate, queries per second */
    double duration_ms;   /* arrivals are scheduled in [0, duration_ms) ... */
    size_t min_queries;   /* ... and, past it, until this many (0: none; 368 lets a 95% p99
                             interval exist, see stats_ci.h) */
    size_t max_queries;   /* no more than this many (0: no cap) */
    double p99_bound_ms;  /* <= 0 or NaN: no bound (p99_bound_met = -1) */
    uint64_t seed;        /* inter-arrival times: exponential, from a PRNG seeded with this */
} eb_server_cfg;

typedef struct eb_server_result {
    size_t n;               /* queries completed */
    double *latency_ms;     /* n latencies in arrival order (malloc'd; eb_server_result_free) */
    double offered_qps;     /* n / max(duration, last arrival): the rate actually scheduled */
    double achieved_qps;    /* n / last completion, both from the run's start */
    double mean_ms, p50_ms, p90_ms, p99_ms; /* percentiles as stats.h (type 7) */
    double p99_lo_ms, p99_hi_ms;            /* 95% interval (stats_ci.h); NaN: insufficient */
    double busy_fraction;   /* time serving / last completion: the measured utilisation */
    int p99_bound_met;      /* p99_ms <= p99_bound_ms: 1 / 0; -1 when no bound was set */
} eb_server_result;

/* Runs the server scenario.  The worker waits (clock->wait_until_ms) while idle and serves
 * back to back while queries are queued; the queue is implicit (arrival times are known in
 * advance), so no thread or lock runs beside the worker.  On failure returns -1 with err and
 * res holds the queries completed before it. */
int eb_server_run(const eb_server_cfg *cfg, eb_infer_fn infer, void *ctx,
                  const eb_clock_i *clock, eb_server_result *res, eb_err *err);

void eb_server_result_free(eb_server_result *res);

typedef struct eb_server_search_cfg {
    double p99_bound_ms;      /* > 0 */
    double start_qps;         /* <= 0: the single-stream rate, 1000 / mean latency of
                                 calib_queries back-to-back queries */
    size_t calib_queries;     /* 0: 32 */
    double probe_ms;          /* duration of each probe run (its arrival window) */
    size_t probe_min_queries; /* each probe at least this many queries (0: 400) */
    int max_probes;           /* server runs allowed in all (0: 12) */
    double rel_tol;           /* stop when the pass/fail bracket is narrower than this
                                 fraction of the passing rate (0: 0.02) */
    uint64_t seed;            /* every probe reuses it: the same arrival pattern, rescaled,
                                 so p99 against rate is as smooth as it can be */
} eb_server_search_cfg;

typedef struct eb_server_search_result {
    double start_qps;   /* the single-stream estimate (or cfg->start_qps) */
    double best_qps;    /* highest probed target rate whose p99 met the bound; 0 if none */
    double best_p99_ms; /* its p99 (NaN if none) */
    double best_achieved_qps;
    double fail_qps;    /* lowest probed rate that missed the bound (0 if none missed) */
    int found;          /* 1 when some probe met the bound */
    int probes;         /* server runs made */
} eb_server_search_result;

/* Highest Poisson rate whose p99 stays within the bound: start from the single-stream rate
 * (utilisation 1, which a queue cannot sustain); if that fails halve until a rate passes,
 * if it passes grow by 1.5x until one fails; then bisect the bracket until rel_tol or
 * max_probes.  Returns -1 with err when a query fails or arguments are bad. */
int eb_server_search(const eb_server_search_cfg *cfg, eb_infer_fn infer, void *ctx,
                     const eb_clock_i *clock, eb_server_search_result *res, eb_err *err);

#endif
