/* Reading a finished run back: OUT/results.csv, OUT/samples.csv and OUT/run.csv, as the
 * report, compare and history commands need them.  Cells stay text (the CSV is the stable
 * interface; columns a newer edgebench appended are simply there); helpers parse numbers.
 *
 *   eb_run_data d;
 *   if (eb_run_read("results/quickstart", &d, &err) != 0) -> one line: file, place, fix
 *   for (size_t i = 0; i < d.n_rows; i++) {
 *       const char *variant = eb_run_cell(&d, i, "variant");
 *       double p99 = eb_run_num(&d, i, "latency_p99_ms");      // NaN when empty
 *       const double *s; size_t n;
 *       eb_run_samples(&d, i, &s, &n);                         // the row's raw latencies
 *   }
 *   const char *fp = eb_run_meta(&d, "fingerprint");           // "" when absent
 *   eb_run_free(&d);
 */
#ifndef EB_RUN_DATA_H
#define EB_RUN_DATA_H

#include <stddef.h>

#include "err.h"

typedef struct eb_run_data {
    char *dir;
    size_t n_columns;
    char **columns;  /* results.csv header */
    size_t n_rows;
    char ***rows;    /* rows[i][j]: cell of column j ("" when the row was short) */
    size_t n_meta;
    char **meta_keys, **meta_values; /* run.csv */
    double **samples; /* samples[i]: latencies of row i in iteration order (NULL: none) */
    size_t *n_samples;
} eb_run_data;

/* Reads DIR's three files.  results.csv is required; run.csv and samples.csv may be absent
 * (then no metadata / no samples).  Samples join rows by the trial column where both files
 * have it, else by (run_id, variant, backend, threads). */
int eb_run_read(const char *dir, eb_run_data *d, eb_err *err);
/* The same without samples.csv (every row then has no samples): for callers that need only the
 * rows and metadata, since samples.csv can hold millions of lines. */
int eb_run_read_summary(const char *dir, eb_run_data *d, eb_err *err);
void eb_run_free(eb_run_data *d);

/* Index of a results.csv column, or -1. */
int eb_run_column(const eb_run_data *d, const char *name);
/* A cell as text; "" when the column does not exist. */
const char *eb_run_cell(const eb_run_data *d, size_t row, const char *column);
/* A cell as a number; NaN when empty, absent or not a number. */
double eb_run_num(const eb_run_data *d, size_t row, const char *column);
/* A run.csv value; "" when absent. */
const char *eb_run_meta(const eb_run_data *d, const char *key);
/* The raw samples of a row; n 0 when none. */
void eb_run_samples(const eb_run_data *d, size_t row, const double **s, size_t *n);

#endif
