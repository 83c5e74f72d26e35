/* The flat per-trial record (see result.h). */
#include "result.h"

#include <limits.h>
#include <math.h>
#include <string.h>

void eb_result_init(eb_result *r)
{
    memset(r, 0, sizeof *r); /* every identity string empty */
    r->threads = -1;
    r->batch = -1;
    strcpy(r->status, "ok");
    r->iterations = -1;
    r->load_ms = r->first_ms = NAN;
    r->latency.n = 0;
    r->latency.mean = r->latency.std = r->latency.min = NAN;
    r->latency.p50 = r->latency.p90 = r->latency.p99 = r->latency.max = NAN;
    r->throughput_ips = NAN;
    r->peak_rss_kb = r->base_rss_kb = -1;
    r->model_bytes = r->params = r->nonzero_params = r->macs = -1;
    r->accuracy_top1 = r->accuracy_top5 = NAN;
    r->accuracy_samples = -1;
    r->p50_lo = r->p50_hi = r->p90_lo = r->p90_hi = r->p99_lo = r->p99_hi = NAN;
    r->latency_cv = NAN;
    r->outliers = -1;
    r->first_run_slow = -1;
    for (int i = 0; i < EB_PERF_N; i++)
        r->perf[i] = NAN;
    r->model_rss_kb = LONG_MIN;
    r->pss_kb = -1;
    r->power_avg_w = r->power_idle_w = NAN;
    r->energy_mj_per_inference = r->energy_net_mj_per_inference = NAN;
    r->throttled = -1;
    r->temp_start_c = r->temp_end_c = r->temp_max_c = r->freq_mhz_mean = NAN;
    r->cooldown_wait_s = r->cooldown_temp_c = NAN;
    r->trial = -1;
    r->target_qps = r->achieved_qps = r->p99_bound_ms = r->max_qps_within_bound = NAN;
    r->p99_bound_met = -1;
    r->weight_bytes = -1;
    r->weight_bits = -1;
    r->sparsity = NAN;
    r->agreement_top1 = r->max_abs_diff = r->mean_abs_diff = NAN;
    r->fidelity_samples = -1;
    r->fidelity_trial = -1;
    r->threads_seen = -1;
    r->binding_ok = -1;
    r->agreement_vs_ref = r->max_abs_diff_vs_ref = NAN;
}
