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
#include "feed.h"
#include "memory_pss.h"
#include "outliers.h"
#include "stats_ci.h"

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

/* The accuracy pass: every labeled sample once, in batches; a last partial batch is padded
 * with earlier samples whose scores are ignored. */
static int trial_accuracy(const eb_trial *t, void *session, eb_feed *feed, eb_tensor *out,
                          size_t n_out, eb_result *r, eb_err *err)
{
    const eb_dataset *d = t->data;
    const eb_tensor *scores = &out[0];
    size_t classes = scores->ndim >= 2 ? (size_t)scores->shape[scores->ndim - 1] : 0;
    eb_accuracy acc = {0};

    if (classes == 0 || eb_tensor_numel(scores) != classes * (size_t)t->batch || scores->dtype != EB_F32)
        return 0; /* not a classifier's output: accuracy does not apply */
    if ((size_t)d->n_classes > classes)
        return eb_errf(err, "the dataset has %d classes but the model's output '%s' scores %zu",
                       d->n_classes, scores->name, classes);
    for (size_t first = 0; first < d->n; first += (size_t)t->batch) {
        eb_feed_fill(feed, 0, first);
        if (eb_backend_run(t->backend, session, feed->slots[0], feed->n_inputs, out, n_out, err))
            return -1;
        for (size_t b = 0; b < (size_t)t->batch && first + b < d->n; b++)
            eb_accuracy_add(&acc, (const float *)scores->data + b * classes, classes,
                            d->labels[first + b]);
    }
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

/* Warm-up, then the timed loop.  Sample storage is sized from the warm-up rate so the loop
 * itself does not allocate; if the estimate was low it grows geometrically (rare). */
static int trial_timed_loop(const eb_trial *t, void *session, eb_feed *feed, eb_tensor *out,
                            size_t n_out, eb_perf *perf, eb_result *r, double **samples,
                            size_t *n_samples, eb_err *err)
{
    const eb_measure *m = t->measure;
    double start = eb_now_ms(), now = start;
    long warm = 0;
    size_t slot = 0, cap, n = 0;
    double *s;

    do {
        if (eb_backend_run(t->backend, session, feed->slots[slot], feed->n_inputs, out, n_out, err))
            return -1;
        slot = (slot + 1) % feed->n_slots;
        warm++;
        now = eb_now_ms();
    } while (now - start < m->warmup_s * 1e3);

    double per_iter = (now - start) / (double)warm;
    double expect = per_iter > 0 ? m->max_time_s * 1e3 / per_iter : 1e6;
    cap = (size_t)fmin(fmax(expect * 1.25, (double)m->min_iterations), 5e6) + 16;
    s = malloc(cap * sizeof *s);
    if (!s)
        return eb_errf(err, "out of memory for %zu latency samples", cap);

    eb_perf_start(perf);
    start = eb_now_ms();
    for (;;) {
        double t0 = eb_now_ms();
        if (eb_backend_run(t->backend, session, feed->slots[slot], feed->n_inputs, out, n_out,
                           err)) {
            eb_perf_stop(perf);
            free(s);
            return -1;
        }
        double t1 = eb_now_ms();
        slot = (slot + 1) % feed->n_slots;
        if (n == cap) {
            double *grown = realloc(s, 2 * cap * sizeof *s);
            if (!grown)
                break; /* keep what we have: the loop's time budget decides, not memory */
            s = grown;
            cap *= 2;
        }
        s[n++] = t1 - t0;
        double elapsed = t1 - start;
        if ((n >= (size_t)m->min_iterations && elapsed >= m->min_time_s * 1e3) ||
            elapsed >= m->max_time_s * 1e3)
            break;
    }
    eb_perf_stop(perf);
    r->iterations = (long)n;
    trial_counters(r, perf);
    eb_stats_summarize(s, n, &r->latency);
    r->throughput_ips = r->latency.mean > 0 ? 1e3 * t->batch / r->latency.mean : NAN;
    trial_statistics(r, s, n);
    *samples = s;
    *n_samples = n;
    return 0;
}

void eb_trial_execute(const eb_trial *t, eb_result *r, double **samples, size_t *n_samples)
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

    *samples = NULL;
    *n_samples = 0;
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
    if (eb_backend_open(t->backend, &model, &config, &session, &err) != 0)
        goto fail;
    r->load_ms = eb_now_ms() - t0;
    eb_device_memory(&rss_loaded, &hwm);
    if (eb_memory_model_kb(r->base_rss_kb, rss_loaded, &rss) == 0)
        r->model_rss_kb = rss;
    if (eb_backend_io(t->backend, session, &io, &err) != 0 ||
        eb_feed_init(&feed, &io, t->data, t->batch, &err) != 0 ||
        trial_alloc_outputs(&io, out, &err) != 0)
        goto fail;
    eb_backend_facts(t->backend, session, &facts);
    r->params = facts.params;
    r->nonzero_params = facts.nonzero_params;
    r->macs = facts.macs;

    t0 = eb_now_ms();
    if (eb_backend_run(t->backend, session, feed.slots[0], feed.n_inputs, out, io.n_outputs, &err))
        goto fail;
    r->first_ms = eb_now_ms() - t0;

    if (trial_timed_loop(t, session, &feed, out, io.n_outputs, &perf, r, samples, n_samples,
                         &err))
        goto fail;
    r->pss_kb = eb_memory_pss_kb(r->memory_note, sizeof r->memory_note);
    if (r->pss_kb >= 0)
        r->memory_note[0] = '\0'; /* the note carries reasons, not the source's name */
    if (t->measure->accuracy && t->data && t->data->labels &&
        trial_accuracy(t, session, &feed, out, io.n_outputs, r, &err))
        goto fail;
    goto done;
fail:
    trial_fail(r, err.msg);
done:
    eb_perf_close(&perf);
    eb_device_memory(&rss, &r->peak_rss_kb);
    eb_backend_close(t->backend, session);
    eb_feed_free(&feed);
    for (size_t i = 0; i < EB_MAX_IO; i++)
        eb_tensor_free(&out[i]);
}
