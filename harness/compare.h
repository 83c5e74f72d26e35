/* Regression detection between two runs (`edgebench compare`, `edgebench history`).
 *
 * Latency: for each trial present in both runs, the ratio of medians current/base with a
 * seeded percentile-bootstrap confidence interval (resampling each side's raw samples and
 * taking medians by quickselect) and a two-sided Mann-Whitney U p-value (normal approximation
 * with tie and continuity correction).  The verdict needs BOTH a significant test and the whole
 * interval beyond the practical threshold:
 *
 *     regressed  p < alpha  and  ci_lo > 1 + threshold
 *     improved   p < alpha  and  ci_hi < 1 - threshold
 *     unchanged  otherwise
 *
 * The test alone would flag tiny but real shifts on large samples (a busy neighbour moves the
 * median by 1%); the interval alone would trust a resampling of a distribution that is not the
 * same shape on both sides.  Together, calibrated on A/A pairs, the false-alarm rate is
 * measured (tests/unit/test_compare.c, scripts/bench_compare.sh), not assumed.
 *
 * Accuracy (top-1, absolute points), peak memory (ratio) and energy per inference (ratio) are
 * compared by their own tolerances, with no test: they are one number per trial.
 */
#ifndef EB_COMPARE_H
#define EB_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "run_data.h"

typedef enum eb_verdict {
    EB_VERDICT_UNCHANGED = 0,
    EB_VERDICT_IMPROVED,
    EB_VERDICT_REGRESSED,
    EB_VERDICT_NOT_COMPARABLE, /* missing on one side, not ok, too few samples */
    EB_VERDICT_NOT_MEASURED,   /* the metric is empty on a side (e.g. no accuracy pass) */
} eb_verdict;

/* "unchanged", "improved", "regressed", "not comparable", "not measured". */
const char *eb_verdict_name(eb_verdict v);

typedef struct eb_compare_opts {
    double threshold;          /* practical latency threshold, a fraction (0.05 = 5%) */
    double alpha;              /* significance of the Mann-Whitney test (0.05) */
    double confidence;         /* of the bootstrap interval (0.95) */
    int resamples;             /* bootstrap resamples (2000) */
    uint64_t seed;             /* bootstrap PRNG seed: the same inputs give the same interval */
    size_t min_samples;        /* fewer raw samples on a side: not comparable (20) */
    double accuracy_tolerance; /* top-1 drop, as a fraction (0.005 = 0.5 point) */
    double memory_tolerance;   /* peak RSS ratio beyond 1 + this (0.10) */
    double energy_tolerance;   /* energy per inference ratio beyond 1 + this (0.10) */
} eb_compare_opts;

/* The defaults above. */
void eb_compare_opts_default(eb_compare_opts *o);

typedef struct eb_latency_cmp {
    size_t n_base, n_cur;
    double median_base, median_cur; /* ms */
    double ratio, ci_lo, ci_hi;     /* current / base */
    double p_value;                 /* two-sided; NaN when not computed */
    eb_verdict verdict;
    char note[160]; /* why not comparable */
} eb_latency_cmp;

/* The median of x[0..n) (mean of the two middle values for even n), by quickselect: x is
 * reordered.  NaN when n == 0. */
double eb_compare_median_inplace(double *x, size_t n);

/* Two-sided Mann-Whitney U p-value of a against b (normal approximation with tie correction and
 * continuity correction).  NaN when either side is empty or memory runs out; 1 when every
 * value is tied. */
double eb_compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb);

/* Compares raw latencies: fills *out (verdict included).  Returns -1 (message in err) only
 * when memory runs out; too few samples is a verdict (not comparable), not an error. */
int eb_compare_latency(const double *base, size_t nb, const double *cur, size_t nc,
                       const eb_compare_opts *o, eb_latency_cmp *out, eb_err *err);

/* A one-number metric: base and current values, their ratio (or difference for accuracy). */
typedef struct eb_metric_cmp {
    double base, cur;
    double change; /* ratio cur/base (memory, energy) or cur - base (accuracy, a fraction) */
    eb_verdict verdict;
} eb_metric_cmp;

/* One trial's identity (the matching key) and its comparisons. */
typedef struct eb_compare_entry {
    char scenario[128], variant[128], backend[32], threads[16], cores[64], batch[16],
        mode[16];
    long base_row, cur_row; /* -1: missing on that side */
    eb_latency_cmp latency;
    eb_metric_cmp accuracy, memory, energy;
} eb_compare_entry;

typedef struct eb_compare_report {
    size_t n;
    eb_compare_entry *entries; /* base's order, then trials only the current run has */
    size_t regressed, improved, unchanged, not_comparable;
    eb_compare_opts opts;
} eb_compare_report;

/* The identity of a results row as one printable label: "variant/backend t=THREADS ..." (only
 * the parts that are not defaults).  Used by tables, JUnit names and history. */
void eb_compare_entry_label(const eb_compare_entry *e, char *buf, size_t n);

/* Fills e's identity from row `row` of d, the cells as written; the comparisons are zeroed
 * and both rows set to -1. */
void eb_compare_identity(const eb_run_data *d, size_t row, eb_compare_entry *e);
/* 1 when two entries have the same identity. */
int eb_compare_same_identity(const eb_compare_entry *a, const eb_compare_entry *b);

/* Matches the trials of base and cur by identity and compares each.  The report owns its
 * entries: free with eb_compare_report_free.  Returns -1 only when memory runs out. */
int eb_compare_runs(const eb_run_data *base, const eb_run_data *cur, const eb_compare_opts *o,
                    eb_compare_report *rep, eb_err *err);
void eb_compare_report_free(eb_compare_report *rep);

/* 1 when any metric of the entry regressed. */
int eb_compare_entry_regressed(const eb_compare_entry *e);

/* Writers (compare_write.c), given the two runs the report came from (their directories and
 * run.csv name the sides).  The table goes to f; files are written whole or not at all (a
 * temporary beside the target, renamed), a failure names the file. */
void eb_compare_print_table(FILE *f, const eb_compare_report *rep, const eb_run_data *base,
                            const eb_run_data *cur);
/* JUnit XML: one testcase per trial and metric (latency, accuracy, memory, energy), a
 * <failure> on a regression, <skipped> when not comparable or not measured. */
int eb_compare_write_junit(const char *path, const eb_compare_report *rep,
                           const eb_run_data *base, const eb_run_data *cur, eb_err *err);
/* Markdown: a heading with the counts, the rule, one table row per trial (short enough for a
 * CI comment). */
int eb_compare_write_markdown(const char *path, const eb_compare_report *rep,
                              const eb_run_data *base, const eb_run_data *cur, eb_err *err);
/* The same Markdown to a stream (nightly.sh prints it). */
void eb_compare_markdown(FILE *f, const eb_compare_report *rep, const eb_run_data *base,
                         const eb_run_data *cur);

/* Parses a percentage: "5%", "5" (both 5 percent) -> 0.05.  -1 on junk or a negative value. */
int eb_compare_parse_percent(const char *s, double *out);

/* ---- step changes over a history of runs (compare_history.c, `edgebench history`) ----
 *
 * Binary segmentation on one configuration's runs in time order.  In a segment of runs
 * [lo, hi), every split k (lo < k < hi) pools the raw samples of runs [lo, k) and of [k, hi);
 * the split whose pooled medians differ most (largest |log(after/before)|, weighted by
 * sqrt(k_before * k_after / k) in runs so that a lone run at either end does not win by its
 * own noise) is kept when the
 * Mann-Whitney test between the two pools gives p < alpha (0.01 by default in history) AND
 * the medians differ by more than the threshold (|after/before - 1| > threshold).  Then both
 * halves are searched again, so a history with two steps shows both.  A run without raw
 * samples enters with its p50 alone (one value), which rarely reaches significance: the rule
 * needs samples to speak. */
typedef struct eb_step {
    size_t at;            /* index of the first run after the step */
    double before, after; /* pooled medians of the two segments */
    double p_value;
} eb_step;

/* runs[i] / n[i]: the raw samples of run i (time order), m runs.  Writes at most max steps,
 * ordered by `at`, and their count in *n_steps.  Returns -1 only when memory runs out. */
int eb_compare_steps(const double *const *runs, const size_t *n, size_t m, double threshold,
                     double alpha, eb_step *steps, size_t max, size_t *n_steps, eb_err *err);

#endif
