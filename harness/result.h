/* The result of one trial: one flat record (hyperfine's BenchmarkResult).
 * Doubles that were not measured are NaN and integers -1; writers print them empty. */
#ifndef EB_RESULT_H
#define EB_RESULT_H

#include <stdint.h>

#include "perf_counters.h"
#include "stats.h"

typedef struct eb_result {
    /* identity */
    char run_id[40];
    char scenario[128];
    char variant[128];
    char kind[16];
    char base[128];
    char backend[32];
    int threads;
    char cores[64];
    int batch;
    /* outcome: "ok", "failed" (the backend returned an error), "crashed" (the trial's process
     * died), "timeout" */
    char status[16];
    char error[512];
    /* timing */
    long iterations;
    double load_ms, first_ms;
    eb_summary latency; /* ms */
    double throughput_ips;
    /* memory */
    long peak_rss_kb, base_rss_kb;
    /* model facts */
    int64_t model_bytes, params, nonzero_params, macs;
    /* accuracy */
    double accuracy_top1, accuracy_top5;
    long accuracy_samples;
    /* statistics (stats_ci.h, outliers.h): 95% distribution-free intervals of p50/p90/p99
     * (NaN where more samples are needed: the note says which), spread and outliers */
    double p50_lo, p50_hi, p90_lo, p90_hi, p99_lo, p99_hi;
    char ci_note[160];
    double latency_cv;
    long outliers;
    int first_run_slow; /* -1 unknown, 0, 1 */
    char stats_warning[256];
    /* event counters over the timed loop (perf_counters.h): per inference for the hardware
     * events and task-clock, totals for the other software events; NaN where unsupported */
    double perf[EB_PERF_N];
    char perf_unsupported[256];
    /* memory (memory_pss.h): RSS added by loading the model (may be negative; LONG_MIN when
     * unknown) and PSS after the timed loop */
    long model_rss_kb, pss_kb;
    char memory_note[128];
    /* energy (energy.h): NaN with the reason in energy_note where nothing can be read */
    double power_avg_w, power_idle_w, energy_mj_per_inference, energy_net_mj_per_inference;
    char energy_source[96];
    char energy_note[512];
    /* device state during the trial (telemetry.h) and the cooldown gate before it */
    int throttled; /* -1 nothing on this device can tell */
    char throttle_reason[256];
    double temp_start_c, temp_end_c, temp_max_c, freq_mhz_mean;
    double cooldown_wait_s, cooldown_temp_c;
    char cooldown_note[160];
    /* load pattern (loadgen.h) and the trial's number in the run (telemetry.csv's key) */
    char mode[16];
    int trial;
    double target_qps, achieved_qps, p99_bound_ms, max_qps_within_bound;
    int p99_bound_met; /* -1 no bound */
    /* the model's weights, from its file (model_facts.h), and 1 - nonzero_params / params */
    int64_t weight_bytes;
    int weight_bits;   /* -1 unknown */
    double sparsity;
    /* the dataset the row was measured on: its name ("" without a dataset) */
    char dataset[128];
    /* fidelity against the variant's base on the same inputs (fidelity.h): NaN without a base
     * trial to compare with; fidelity_trial is that trial's number */
    double agreement_top1, max_abs_diff, mean_abs_diff;
    long fidelity_samples;
    int fidelity_trial;
    /* where the trial's threads were allowed to run, checked after the backend started them
     * (thread_binding.h) */
    int threads_seen;
    int binding_ok; /* -1 unknown */
    char thread_binding[256];
    /* cross-backend check (fidelity.h) of a trial on a backend other than ref against ref's
     * trial of the same variant, threads, cores, batch, mode and dataset, on the accuracy
     * pass's outputs: NaN without such a ref trial; the note is set when fewer than 99% of the
     * samples agree ("disagrees with ref on 3.1% of samples") */
    double agreement_vs_ref, max_abs_diff_vs_ref;
    char crosscheck_note[96];
    /* how the backend ran the model, in its own words (backend.h's plan()): "" if it does not
     * say */
    char backend_plan[256];
} eb_result;

/* Sets identity fields empty, numbers to NaN / -1, status "ok". */
void eb_result_init(eb_result *r);

#endif
