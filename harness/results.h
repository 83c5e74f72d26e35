/* Result files, written with libcsv, appended and flushed per trial so that a crash or a kill
 * loses nothing already measured:
 *   DIR/results.csv  one row per trial (columns: eb_results_columns())
 *   DIR/samples.csv  run_id, variant, backend, threads, iteration, latency_ms, trial
 *   DIR/run.csv      key, value: device fingerprint, versions, git commit, time, command line
 */
#ifndef EB_RESULTS_H
#define EB_RESULTS_H

#include <stddef.h>

#include "err.h"
#include "result.h"

typedef struct eb_kv {
    char key[64];
    char value[512];
} eb_kv;

typedef struct eb_results eb_results;

/* Creates DIR (and parents) and writes fresh results.csv and samples.csv with headers. */
int eb_results_open(eb_results **r, const char *dir, eb_err *err);
int eb_results_append(eb_results *r, const eb_result *row, const double *samples, size_t n,
                      eb_err *err);
void eb_results_close(eb_results *r);

/* Appends one line to DIR/ops.csv (created with its header on first use): run_id, trial,
 * variant, backend, threads, level ("node" or "op_type"), node, op_type, ms_per_run, share
 * (of the trial's profiled time). */
int eb_results_append_op(eb_results *r, const eb_result *row, const char *level,
                         const char *node, const char *op_type, double ms, double share,
                         eb_err *err);

/* Writes DIR/run.csv from n key/value pairs. */
int eb_results_write_run(const char *dir, const eb_kv *kv, size_t n, eb_err *err);

/* The results.csv header, in order, NULL-terminated: the documented, stable column set. */
const char *const *eb_results_columns(void);

/* Formats one column of a row as the CSV would hold it ("" when not measured). */
void eb_result_field(const eb_result *row, const char *column, char *buf, size_t n);

#endif
