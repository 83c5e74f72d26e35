/* One trial, measured in the calling process (the runner calls this in a forked child, so the
 * peak memory is the trial's own and a crashing backend cannot take the run down).
 *
 * Order, per ARCHITECTURE.md's measurement rules: pin to the cores, read the RSS before load,
 * open the model (load_ms), one cold inference (first_ms), warm-up for warmup_s, the measured
 * part in the trial's load pattern (single_stream/offline: the timed loop until min_iterations
 * and min_time are both met, capped by max_time; server: Poisson arrivals), with event counters
 * and the energy meter around it, then the accuracy pass (separate from the timed loop), then
 * the peak RSS.
 */
#ifndef EB_TRIAL_H
#define EB_TRIAL_H

#include <stddef.h>

#include "../backends/backend.h"
#include "dataset.h"
#include "energy.h"
#include "loadgen.h"
#include "result.h"
#include "scenario.h"

/* The first output's values for each sample of the accuracy pass, in dataset order, kept for
 * fidelity against a base (fidelity.h). */
typedef struct eb_trial_scores {
    float *values; /* n * width, malloc'd (the caller frees); NULL when none were kept */
    size_t n, width;
} eb_trial_scores;

typedef struct eb_trial {
    const eb_variant *variant;
    const eb_backend_i *backend;
    int threads;
    const char *cores;
    int batch;
    const eb_dataset *data; /* may be NULL: inputs are then random, shaped by the model */
    const eb_measure *measure;
    const eb_option *options; /* this backend's options */
    size_t n_options;
    eb_load_mode mode;
    const eb_server_spec *server; /* mode server */
    eb_energy *energy;            /* may be NULL: no energy measurement */
    /* appended for issue 4: where to keep the outputs, or NULL.  When set (and the trial has
     * a dataset and measure.accuracy), the accuracy pass also keeps the first output of every
     * sample it scores — all labeled samples, else the first min(n, 1000) of unlabeled data,
     * which then are run for this alone (accuracy stays empty) — up to 16 Mi values. */
    eb_trial_scores *scores;
} eb_trial;

/* Time per node from a profiled trial (measure.profile), copied out of the backend's session
 * so it can cross the pipe to the parent. */
typedef struct eb_op_record {
    char node[128];
    char op_type[48];
    double ms; /* mean per run over the timed loop */
} eb_op_record;

/* Fills r's measurement fields (identity is the caller's) and returns the timed samples in ms
 * through *samples (malloc'd; NULL when none).  Failures set r->status = "failed" and
 * r->error; the function itself never exits. */
void eb_trial_execute(const eb_trial *t, eb_result *r, double **samples, size_t *n_samples,
                      eb_op_record **ops, size_t *n_ops);

#endif
