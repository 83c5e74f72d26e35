#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accuracy.h"
#include "backend.h"
#include "clock.h"
#include "device.h"
#include "energy.h"
#include "feed.h"
#include "memory_pss.h"
#include "outliers.h"
#include "stats_ci.h"
#include "thread_binding.h"

static void trial_fail(eb_result *r, const char *msg)
{
    snprintf(r->status, sizeof r->status, "failed");
    snprintf(r->error, sizeof r->error, "%.*s", (int)sizeof r->error - 1, msg);
}

/* Output buffers sized from io; allocated once per trial. */
static int trial_alloc_outputs(const eb_io *io, eb_tensor *out, eb_err *err)
{
    for (size_t i = 0; i < io->n_outputs; i++) {
        out[i] = io->outputs[i];
        out[i].data = calloc(1, eb_tensor_bytes(&out[i]) ? eb_tensor_bytes(&out[i]) : 1);
        if (!out[i].data)
            return eb_errf(err, "out of memory for output '%s'", io->outputs[i].name);
    }
    return 0;
}

#define TRIAL_UNLABELED_SAMPLES 1000  /* outputs kept from unlabeled data, for fidelity */
#define TRIAL_MAX_KEPT_VALUES (16u << 20) /* 64 MiB of floats crossing the pipe, at most */

/* The accuracy pass: labeled samples once each, in batches (a last partial batch is padded
 * with earlier samples whose scores are ignored), scored when the first output is a
 * classifier's [batch, classes] float32.  When t->scores is set it also keeps the first
 * output's values per sample; on unlabeled data it then runs the first 1000 samples for
 * that alone. */
static int trial_accuracy(const eb_trial *t, void *session, eb_feed *feed, eb_tensor *out,
                          size_t n_out, eb_result *r, eb_err *err)
{
    const eb_dataset *d = t->data;
    const eb_tensor *scores = &out[0];
    size_t numel = eb_tensor_numel(scores), batch = (size_t)t->batch;
    size_t classes = scores->ndim >= 2 ? (size_t)scores->shape[scores->ndim - 1] : 0;
    int scored = d->labels && classes > 0 && numel == classes * batch && scores->dtype == EB_F32;
    size_t width = scores->dtype == EB_F32 && numel % batch == 0 ? numel / batch : 0;
    size_t n = scored ? d->n : d->n < TRIAL_UNLABELED_SAMPLES ? d->n : TRIAL_UNLABELED_SAMPLES;
    size_t keep = t->scores && width ? n : 0;
    eb_accuracy acc = {0};

    if (keep > TRIAL_MAX_KEPT_VALUES / width)
        keep = TRIAL_MAX_KEPT_VALUES / width;
    if (!scored && keep == 0)
        return 0; /* nothing to score and nothing to keep */
    if (scored && (size_t)d->n_classes > classes)
        return eb_errf(err, "the dataset has %d classes but the model's output '%s' scores %zu",
                       d->n_classes, scores->name, classes);
    if (!scored)
        n = keep;
    if (keep) {
        t->scores->values = malloc(keep * width * sizeof(float));
        if (!t->scores->values)
            return eb_errf(err, "out of memory keeping %zu outputs for fidelity", keep);
        t->scores->n = keep;
        t->scores->width = width;
    }
    for (size_t first = 0; first < n; first += batch) {
        eb_feed_fill(feed, 0, first);
        if (eb_backend_run(t->backend, session, feed->slots[0], feed->n_inputs, out, n_out, err))
            return -1;
        for (size_t b = 0; b < batch && first + b < n; b++) {
            const float *row = (const float *)scores->data + b * width;
            if (first + b < keep)
                memcpy(t->scores->values + (first + b) * width, row, width * sizeof(float));
            if (scored)
                eb_accuracy_add(&acc, row, classes, d->labels[first + b]);
        }
    }
    if (!scored)
        return 0;
    r->accuracy_samples = acc.samples;
    r->accuracy_top1 = (double)acc.top1 / (double)acc.samples;
    if (classes > 5)
        r->accuracy_top5 = (double)acc.top5 / (double)acc.samples;
    return 0;
}

/* Counters over the timed loop: hardware events and task-clock per inference, the other
 * software events as totals (the table in perf_counters.c says which). */
static void trial_counters(eb_result *r, const eb_perf *perf)
{
    eb_perf_value v[EB_PERF_N];
    size_t n_cols;
    const eb_perf_column *cols = eb_perf_columns(&n_cols);
    eb_perf_read(perf, v);
    for (size_t i = 0; i < n_cols; i++) {
        const eb_perf_value *x = &v[cols[i].counter];
        if (x->supported && r->iterations > 0)
            r->perf[cols[i].counter] =
                cols[i].per_inference ? x->value / (double)r->iterations : x->value;
    }
    eb_perf_unsupported(v, r->perf_unsupported, sizeof r->perf_unsupported);
}

/* Intervals, spread and outliers of the timed samples: flagged, never dropped. */
static void trial_statistics(eb_result *r, const double *s, size_t n)
{
    eb_latency_ci ci;
    eb_outliers o;
    eb_latency_ci_compute(s, n, 0.95, &ci);
    r->p50_lo = ci.lo[0], r->p50_hi = ci.hi[0];
    r->p90_lo = ci.lo[1], r->p90_hi = ci.hi[1];
    r->p99_lo = ci.lo[2], r->p99_hi = ci.hi[2];
    snprintf(r->ci_note, sizeof r->ci_note, "%s", ci.note);
    if (eb_outliers_analyze(s, n, r->first_ms, &o) == 0 && n > 0) {
        r->latency_cv = o.cv;
        r->outliers = (long)o.n_outliers;
        r->first_run_slow = o.slow_first;
    }
    snprintf(r->stats_warning, sizeof r->stats_warning, "%s", o.warning);
}

/* What one inference needs, so the loops below and the server's callback share one call. */
typedef struct trial_run {
    const eb_trial *t;
    void *session;
    eb_feed *feed;
    eb_tensor *out;
    size_t n_out, slot;
    eb_err *err;
} trial_run;

/* One inference on the next of the feed's input batches. */
static int trial_infer(void *ctx)
{
    trial_run *x = ctx;
    int rc = eb_backend_run(x->t->backend, x->session, x->feed->slots[x->slot],
                            x->feed->n_inputs, x->out, x->n_out, x->err);
    x->slot = (x->slot + 1) % x->feed->n_slots;
    return rc;
}

/* Runs for warmup_s (at least once); returns the mean time per inference in ms, or -1. */
static double trial_warmup(trial_run *x)
{
    double start = eb_now_ms(), now;
    long warm = 0;
    do {
        if (trial_infer(x) != 0)
            return -1;
        warm++;
        now = eb_now_ms();
    } while (now - start < x->t->measure->warmup_s * 1e3);
    return (now - start) / (double)warm;
}

/* The single-stream timed loop: one inference after another, each timed, until
 * min_iterations and min_time are both met — and, when asked, the p99 interval is within
 * measure.precision and the energy meter has seen enough sensor updates — or max_time.
 * Sample storage is sized from the warm-up rate so the loop does not allocate; if the estimate
 * was low it grows geometrically (rare). */
static int trial_single_stream(trial_run *x, double per_iter, eb_meter_session *meter,
                               double **samples, size_t *n_samples)
{
    const eb_measure *m = x->t->measure;
    double expect = per_iter > 0 ? m->max_time_s * 1e3 / per_iter : 1e6;
    size_t cap = (size_t)fmin(fmax(expect * 1.25, (double)m->min_iterations), 5e6) + 16;
    size_t n = 0, next_check = 0;
    double *s = malloc(cap * sizeof *s);
    double *scratch = m->precision > 0 ? malloc(cap * sizeof *scratch) : NULL;
    if (!s || (m->precision > 0 && !scratch)) {
        free(s);
        free(scratch);
        return eb_errf(x->err, "out of memory for %zu latency samples", cap);
    }
    double start = eb_now_ms();
    for (;;) {
        double t0 = eb_now_ms();
        if (trial_infer(x) != 0) {
            free(s);
            free(scratch);
            return -1;
        }
        double t1 = eb_now_ms();
        if (n == cap) {
            double *grown = realloc(s, 2 * cap * sizeof *s);
            double *grown2 = scratch ? realloc(scratch, 2 * cap * sizeof *scratch) : NULL;
            if (grown)
                s = grown;
            if (grown2)
                scratch = grown2;
            if (!grown || (scratch && !grown2))
                break; /* keep what we have: the time budget decides, not memory */
            cap *= 2;
        }
        s[n++] = t1 - t0;
        double elapsed = t1 - start;
        if (elapsed >= m->max_time_s * 1e3)
            break;
        if (n < (size_t)m->min_iterations || elapsed < m->min_time_s * 1e3)
            continue;
        if (meter && !eb_meter_enough(meter))
            continue;
        if (m->precision <= 0)
            break;
        /* Early stop: looking every max(100, n/10) samples keeps the check O(1) amortised. */
        if (n >= next_check) {
            if (eb_precision_reached_buf(s, n, 0.99, m->precision, scratch) == 1)
                break;
            next_check = n + (n / 10 > 100 ? n / 10 : 100);
        }
    }
    free(scratch);
    *samples = s;
    *n_samples = n;
    return 0;
}

/* The server pattern: Poisson arrivals, one worker, latency including queueing; with
 * server.search, first the highest rate whose p99 keeps server.p99_ms, which then is the
 * target when none was given. */
static int trial_server(trial_run *x, eb_result *r, double **samples, size_t *n_samples)
{
    const eb_server_spec *sv = x->t->server;
    eb_server_result res = {0};
    double target = sv->target_qps;
    if (sv->search) {
        eb_server_search_cfg sc = {.p99_bound_ms = sv->p99_ms,
                                   .probe_ms = sv->duration_s * 1e3 / 4,
                                   .probe_min_queries = 400,
                                   .seed = 1};
        eb_server_search_result sr;
        if (eb_server_search(&sc, trial_infer, x, &eb_clock_real, &sr, x->err) != 0)
            return -1;
        if (sr.found)
            r->max_qps_within_bound = sr.best_qps;
        if (target <= 0)
            target = sr.found ? sr.best_qps : sr.start_qps / 2;
    }
    eb_server_cfg c = {.target_qps = target,
                       .duration_ms = sv->duration_s * 1e3,
                       .min_queries = 368, /* lets p99's 95% interval exist (stats_ci.h) */
                       .p99_bound_ms = sv->p99_ms > 0 ? sv->p99_ms : NAN,
                       .seed = 1};
    if (eb_server_run(&c, trial_infer, x, &eb_clock_real, &res, x->err) != 0) {
        eb_server_result_free(&res);
        return -1;
    }
    r->target_qps = target;
    r->achieved_qps = res.achieved_qps;
    r->p99_bound_ms = c.p99_bound_ms;
    r->p99_bound_met = res.p99_bound_met;
    *samples = res.latency_ms; /* ownership moves to the caller */
    *n_samples = res.n;
    return 0;
}

/* Warm-up, then the measured part in the trial's load pattern, with the event counters and the
 * energy meter around it; then the statistics of the samples. */
static int trial_measure(trial_run *x, eb_perf *perf, eb_energy *energy, eb_result *r,
                         double **samples, size_t *n_samples)
{
    double per_iter = trial_warmup(x);
    if (per_iter < 0)
        return -1;
    if (x->t->measure->profile) {
        eb_op_time discard;
        eb_backend_profile(x->t->backend, x->session, &discard, 0); /* forget the warm-up */
    }
    eb_meter_session *meter = energy ? eb_energy_start(energy, r) : NULL;
    eb_perf_start(perf);
    int rc = x->t->mode == EB_MODE_SERVER
                 ? trial_server(x, r, samples, n_samples)
                 : trial_single_stream(x, per_iter, meter, samples, n_samples);
    eb_perf_stop(perf);
    long inferences = rc == 0 ? (long)*n_samples : 0;
    eb_energy_finish(meter, inferences, r);
    if (rc != 0)
        return -1;
    r->iterations = (long)*n_samples;
    trial_counters(r, perf);
    eb_stats_summarize(*samples, *n_samples, &r->latency);
    /* Throughput is samples per second of inference time: batch x 1000 / mean latency (the
     * offline pattern sweeps batch sizes to find where it peaks). */
    r->throughput_ips = r->latency.mean > 0 ? 1e3 * x->t->batch / r->latency.mean : NAN;
    trial_statistics(r, *samples, *n_samples);
    return 0;
}

/* Does the backend declare an option (so passing it cannot be refused as unknown)? */
static int trial_backend_has_option(const eb_backend_i *b, const char *key)
{
    for (const eb_option_spec *o = b->options; o && o->key; o++)
        if (strcmp(o->key, key) == 0)
            return 1;
    return 0;
}

/* Copies the backend's per-node times (strings owned by its session) into records. */
static void trial_collect_profile(const eb_trial *t, void *session, eb_op_record **ops,
                                  size_t *n_ops)
{
    int n = eb_backend_profile(t->backend, session, NULL, 0);
    eb_op_time *times = n > 0 ? calloc((size_t)n, sizeof *times) : NULL;
    *ops = n > 0 ? calloc((size_t)n, sizeof **ops) : NULL;
    if (!times || !*ops) {
        free(times);
        free(*ops);
        *ops = NULL;
        return;
    }
    n = eb_backend_profile(t->backend, session, times, (size_t)n);
    for (int i = 0; i < n; i++) {
        snprintf((*ops)[i].node, sizeof (*ops)[i].node, "%s", times[i].node ? times[i].node : "");
        snprintf((*ops)[i].op_type, sizeof (*ops)[i].op_type, "%s",
                 times[i].op_type ? times[i].op_type : "");
        (*ops)[i].ms = times[i].ms;
    }
    *n_ops = (size_t)n;
    free(times);
}

void eb_trial_execute(const eb_trial *t, eb_result *r, double **samples, size_t *n_samples,
                      eb_op_record **ops, size_t *n_ops)
{
    eb_err err = {{0}};
    eb_model model = {.path = t->variant->model, .format = "onnx"};
    eb_tensor hint = {.dtype = EB_F32};
    eb_config config = {.threads = t->threads,
                        .batch = t->batch,
                        .cores = t->cores,
                        .options = t->options,
                        .n_options = t->n_options};
    eb_io io;
    eb_model_facts facts;
    eb_feed feed = {0};
    eb_tensor out[EB_MAX_IO] = {{0}};
    void *session = NULL;
    struct stat st;
    char bound[256];
    long hwm, rss, rss_loaded;
    eb_perf perf;

    eb_option options[64];
    *samples = NULL;
    *n_samples = 0;
    *ops = NULL;
    *n_ops = 0;
    if (t->scores)
        *t->scores = (eb_trial_scores){0};
    if (t->measure->profile && trial_backend_has_option(t->backend, "profile") &&
        t->n_options < 63) {
        memcpy(options, t->options, t->n_options * sizeof *options);
        options[t->n_options] = (eb_option){"profile", "1"};
        config.options = options;
        config.n_options = t->n_options + 1;
    }
    if (t->data) {
        hint.ndim = t->data->ndim + 1;
        hint.shape[0] = t->batch;
        memcpy(hint.shape + 1, t->data->shape, (size_t)t->data->ndim * sizeof hint.shape[0]);
        config.input_hint = &hint;
    }
    if (t->variant->model && stat(t->variant->model, &st) == 0)
        r->model_bytes = (int64_t)st.st_size;
    /* Counters open before the backend, so threads it starts in open() are counted (and
     * first of all, so the exit path can always close them). */
    eb_perf_open(&perf);
    if (eb_device_pin(t->cores, bound, sizeof bound, &err) != 0)
        goto fail;
    eb_device_memory(&r->base_rss_kb, &hwm);

    double t0 = eb_now_ms();
    int opened = eb_backend_open(t->backend, &model, &config, &session, &err);
    if (opened == EB_UNSUPPORTED) {
        /* Not a failure: the backend lacks a format or operator; the row says which. */
        snprintf(r->status, sizeof r->status, "unsupported");
        snprintf(r->error, sizeof r->error, "%.*s", (int)sizeof r->error - 1, err.msg);
        goto done;
    }
    if (opened != 0)
        goto fail;
    r->load_ms = eb_now_ms() - t0;
    eb_device_memory(&rss_loaded, &hwm);
    if (eb_memory_model_kb(r->base_rss_kb, rss_loaded, &rss) == 0)
        r->model_rss_kb = rss;
    long w_peak, w_rss, w_base; /* a worker's process: the model lives there */
    if (eb_backend_memory(t->backend, session, &w_peak, &w_rss, &w_base) == 0 && w_rss >= 0 &&
        w_base >= 0)
        r->model_rss_kb = w_rss - w_base;
    if (eb_backend_io(t->backend, session, &io, &err) != 0 ||
        eb_feed_init(&feed, &io, t->data, t->batch, &err) != 0 ||
        trial_alloc_outputs(&io, out, &err) != 0)
        goto fail;
    eb_backend_facts(t->backend, session, &facts);
    r->params = facts.params;
    r->nonzero_params = facts.nonzero_params;
    r->macs = facts.macs;
    eb_backend_plan(t->backend, session, r->backend_plan, sizeof r->backend_plan);

    t0 = eb_now_ms();
    if (eb_backend_run(t->backend, session, feed.slots[0], feed.n_inputs, out, io.n_outputs, &err))
        goto fail;
    r->first_ms = eb_now_ms() - t0;
    /* After the first run every worker the backend starts exists: check where each may run. */
    eb_thread_binding tb;
    eb_thread_binding_check(bound, &tb);
    r->threads_seen = tb.threads;
    r->binding_ok = tb.ok;
    snprintf(r->thread_binding, sizeof r->thread_binding, "%s", tb.text);

    trial_run run = {.t = t, .session = session, .feed = &feed, .out = out,
                     .n_out = io.n_outputs, .err = &err};
    if (trial_measure(&run, &perf, t->energy, r, samples, n_samples) != 0)
        goto fail;
    if (t->measure->profile)
        trial_collect_profile(t, session, ops, n_ops);
    r->pss_kb = eb_memory_pss_kb(r->memory_note, sizeof r->memory_note);
    if (r->pss_kb >= 0)
        r->memory_note[0] = '\0'; /* the note carries reasons, not the source's name */
    if (t->measure->accuracy && t->data && (t->data->labels || t->scores) &&
        trial_accuracy(t, session, &feed, out, io.n_outputs, r, &err))
        goto fail;
    goto done;
fail:
    trial_fail(r, err.msg);
done:
    eb_perf_close(&perf);
    eb_device_memory(&rss, &r->peak_rss_kb);
    if (eb_backend_memory(t->backend, session, &w_peak, &w_rss, &w_base) == 0) {
        size_t k = strlen(r->memory_note);
        r->peak_rss_kb += w_peak;
        snprintf(r->memory_note + k, sizeof r->memory_note - k, "%sincludes worker, VmHWM %ld kB",
                 k ? "; " : "", w_peak);
    }
    eb_backend_close(t->backend, session);
    eb_feed_free(&feed);
    for (size_t i = 0; i < EB_MAX_IO; i++)
        eb_tensor_free(&out[i]);
}
