/* The recommendation: which configuration (one results.csv row: variant, backend, threads,
 * cores, batch, mode) to ship, given the scenario's constraints and objective as the run
 * recorded them in run.csv ("objective", "constraint.accuracy_drop", "constraint.p99_ms", ...).
 *
 *   eb_recommendation rec;
 *   if (eb_recommend(&run, &rec, &err) != 0) -> a constraint in run.csv is not a number
 *   rec.chosen: index into rec.rows (-1: nothing meets the constraints)
 *   for each rec.rows[k]: state, rank, and for excluded rows the reason in words
 *   eb_recommend_free(&rec);
 *
 * Rules (each one a sentence in the report, so a user can check it):
 * - A row that did not finish (status other than ok) is excluded with its status and error.
 * - accuracy_drop (a fraction: 0.01 = 1 point of top-1) is measured against the row's base
 *   variant (column `base`; a row with an empty base is its own base, drop 0), on the base's
 *   row that shares the most of dataset (first), backend, threads, cores, batch and mode.  A row whose drop
 *   cannot be known (no accuracy, base not in the run) is excluded under this constraint.
 * - p50_ms, p90_ms, p99_ms, peak_rss_kb, energy_mj (per inference) are upper bounds on the
 *   row's latency_p50_ms, ..., peak_rss_kb, energy_mj_per_inference; a row that did not
 *   measure a bounded quantity is excluded ("not measured" is not "within budget").
 * - The objective ranks the rows that pass: latency = lowest p50 (ties: p99); energy = lowest
 *   energy_mj_per_inference (ties: p50); size = smallest model_bytes (ties: peak_rss_kb, p50).
 *   When no row measured the objective's quantity, the ranking falls back to latency and
 *   rec.note says so; otherwise rows without it are excluded.
 */
#ifndef EB_RECOMMEND_H
#define EB_RECOMMEND_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "run_data.h"

typedef enum eb_rec_state {
    EB_REC_CHOSEN,
    EB_REC_RUNNER_UP, /* the next EB_REC_RUNNERS_UP rows in the ranking */
    EB_REC_ELIGIBLE,  /* passes every constraint, ranked lower still */
    EB_REC_EXCLUDED,
} eb_rec_state;

#define EB_REC_RUNNERS_UP 3

/* The constraint keys run.csv may hold (constraint.KEY), in report order. */
enum { EB_CON_ACCURACY_DROP, EB_CON_P50, EB_CON_P90, EB_CON_P99, EB_CON_PEAK_RSS, EB_CON_ENERGY,
       EB_CON_COUNT };

typedef struct eb_rec_row {
    size_t row;           /* index into the run's rows */
    eb_rec_state state;
    int rank;             /* 1 = chosen, 2.. among eligible rows; 0 when excluded */
    double key;           /* the objective's value for this row (NaN when excluded) */
    double accuracy_drop; /* fraction against the base (NaN when unknown) */
    long base_row;        /* the row the drop was measured against; -1 when none */
    int pareto;           /* on the accuracy / p99 Pareto front */
    char reason[512];     /* excluded: every failed rule, "; "-separated; else "" */
} eb_rec_row;

typedef struct eb_recommendation {
    char objective[16];         /* "latency", "energy" or "size": what ranked the rows */
    double limit[EB_CON_COUNT]; /* NaN when the scenario set no such constraint */
    size_t n;
    eb_rec_row *rows; /* ranking order: chosen, runners-up, eligible, then excluded (run order) */
    long chosen;      /* index into rows, -1 when no row meets the constraints */
    char note[512];   /* "" or a sentence: fallbacks, constraints not understood */
} eb_recommendation;

/* Builds the recommendation for a run read with eb_run_read.  Fails (-1) only when run.csv
 * holds a constraint that is not a number or an objective that is not known. */
int eb_recommend(const eb_run_data *d, eb_recommendation *rec, eb_err *err);
void eb_recommend_free(eb_recommendation *rec);

/* Marks pareto[i] = 1 for rows on the accuracy-vs-latency front: among the n points with both
 * values finite, a point is on the front when no other point has accuracy >= and latency <=
 * with one of them strict.  Points with a NaN are never on it.  Duplicates both stay. */
void eb_recommend_pareto(const double *accuracy, const double *latency, size_t n, int *pareto);

/* A configuration in words: "small on mock, 2 threads" plus cores, batch and mode when they
 * are not the defaults ("all", 1, single_stream). */
void eb_recommend_label(const eb_run_data *d, size_t row, char *buf, size_t n);

/* The constraints in words, e.g. "accuracy drop <= 1.0 points, p99 <= 5 ms"; "none". */
void eb_recommend_constraints_text(const eb_recommendation *rec, char *buf, size_t n);

/* What ranks the rows in words, e.g. "latency (lowest p50)". */
const char *eb_recommend_objective_text(const eb_recommendation *rec);

/* Prints the recommendation for a finished run as plain text (the end of `edgebench run`,
 * and `edgebench report` on the terminal): the pick, the runners-up, each excluded row with
 * its reason.  Returns -1 with err set only when eb_recommend fails. */
int eb_recommend_print(FILE *f, const eb_run_data *d, eb_err *err);

#endif
