#include "run_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

/* A whole CSV file as rows of strings, read with libcsv (quotes, commas, newlines in cells). */
typedef struct csv_table {
    size_t n_rows, cap_rows;
    char ***cells;
    size_t *n_cells;
    size_t cur_n, cur_cap;
    char **cur;
    int oom;
} csv_table;

static void csv_table_field(void *data, size_t len, void *ctx)
{
    csv_table *t = ctx;
    if (t->oom)
        return;
    if (t->cur_n == t->cur_cap) {
        size_t cap = t->cur_cap ? 2 * t->cur_cap : 16;
        char **grown = realloc(t->cur, cap * sizeof *grown);
        if (!grown) {
            t->oom = 1;
            return;
        }
        t->cur = grown;
        t->cur_cap = cap;
    }
    char *cell = malloc(len + 1);
    if (!cell) {
        t->oom = 1;
        return;
    }
    memcpy(cell, data, len);
    cell[len] = '\0';
    t->cur[t->cur_n++] = cell;
}

static void csv_table_row(int c, void *ctx)
{
    csv_table *t = ctx;
    (void)c;
    if (t->oom)
        return;
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 64;
        char ***grown = realloc(t->cells, cap * sizeof *grown);
        size_t *grown_n = realloc(t->n_cells, cap * sizeof *grown_n);
        if (grown)
            t->cells = grown;
        if (grown_n)
            t->n_cells = grown_n;
        if (!grown || !grown_n) {
            t->oom = 1;
            return;
        }
        t->cap_rows = cap;
    }
    t->cells[t->n_rows] = t->cur;
    t->n_cells[t->n_rows++] = t->cur_n;
    t->cur = NULL;
    t->cur_n = t->cur_cap = 0;
}

static void csv_table_free(csv_table *t)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t j = 0; j < t->n_cells[i]; j++)
            free(t->cells[i][j]);
        free(t->cells[i]);
    }
    for (size_t j = 0; j < t->cur_n; j++)
        free(t->cur[j]);
    free(t->cur);
    free(t->cells);
    free(t->n_cells);
    memset(t, 0, sizeof *t);
}

/* Returns 0, 1 when the file does not exist, -1 on error (message in err). */
static int csv_table_read(const char *path, csv_table *t, eb_err *err)
{
    struct csv_parser p;
    char buf[65536];
    size_t got;
    FILE *f = fopen(path, "rb");
    memset(t, 0, sizeof *t);
    if (!f)
        return errno == ENOENT ? 1 : eb_errf(err, "%s: cannot read: %s", path, strerror(errno));
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        fclose(f);
        return eb_errf(err, "%s: out of memory", path);
    }
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        if (csv_parse(&p, buf, got, csv_table_field, csv_table_row, t) != got)
            break;
    int bad = ferror(f) || csv_error(&p) != CSV_SUCCESS;
    csv_fini(&p, csv_table_field, csv_table_row, t);
    csv_free(&p);
    fclose(f);
    if (bad || t->oom) {
        csv_table_free(t);
        return eb_errf(err, "%s: not a readable CSV file (%s)", path,
                       t->oom ? "out of memory" : "malformed quoting");
    }
    return 0;
}

int eb_run_column(const eb_run_data *d, const char *name)
{
    for (size_t j = 0; j < d->n_columns; j++)
        if (strcmp(d->columns[j], name) == 0)
            return (int)j;
    return -1;
}

const char *eb_run_cell(const eb_run_data *d, size_t row, const char *column)
{
    int j = eb_run_column(d, column);
    return j < 0 || row >= d->n_rows ? "" : d->rows[row][j];
}

double eb_run_num(const eb_run_data *d, size_t row, const char *column)
{
    const char *c = eb_run_cell(d, row, column);
    char *end;
    if (!c[0])
        return NAN;
    double v = strtod(c, &end);
    return *end ? NAN : v;
}

const char *eb_run_meta(const eb_run_data *d, const char *key)
{
    for (size_t i = 0; i < d->n_meta; i++)
        if (strcmp(d->meta_keys[i], key) == 0)
            return d->meta_values[i];
    return "";
}

void eb_run_samples(const eb_run_data *d, size_t row, const double **s, size_t *n)
{
    *s = row < d->n_rows ? d->samples[row] : NULL;
    *n = row < d->n_rows ? d->n_samples[row] : 0;
}

/* Takes results.csv's cells over: rows padded to the header's width with "". */
static int run_take_results(eb_run_data *d, csv_table *t, const char *path, eb_err *err)
{
    if (t->n_rows == 0)
        return eb_errf(err, "%s: empty (no header); is this an edgebench results directory?",
                       path);
    d->columns = t->cells[0];
    d->n_columns = t->n_cells[0];
    d->n_rows = t->n_rows - 1;
    d->rows = calloc(d->n_rows ? d->n_rows : 1, sizeof *d->rows);
    d->samples = calloc(d->n_rows ? d->n_rows : 1, sizeof *d->samples);
    d->n_samples = calloc(d->n_rows ? d->n_rows : 1, sizeof *d->n_samples);
    if (!d->rows || !d->samples || !d->n_samples)
        return eb_errf(err, "%s: out of memory", path);
    for (size_t i = 0; i < d->n_rows; i++) {
        char **cells = t->cells[i + 1];
        size_t n = t->n_cells[i + 1];
        if (n < d->n_columns) {
            char **grown = realloc(cells, d->n_columns * sizeof *grown);
            if (!grown)
                return eb_errf(err, "%s: out of memory", path);
            cells = grown;
            for (size_t j = n; j < d->n_columns; j++)
                cells[j] = calloc(1, 1);
        } else {
            for (size_t j = d->n_columns; j < n; j++)
                free(cells[j]);
        }
        d->rows[i] = cells;
        t->cells[i + 1] = NULL;
        t->n_cells[i + 1] = 0;
    }
    t->cells[0] = NULL;
    t->n_cells[0] = 0;
    return 0;
}

/* The row a samples.csv line belongs to: by trial number, else by the old identity. */
static long run_sample_row(const eb_run_data *d, char **cells, const int *col)
{
    for (size_t i = 0; i < d->n_rows; i++) {
        if (col[4] >= 0 && eb_run_column(d, "trial") >= 0) {
            if (strcmp(cells[col[4]], eb_run_cell(d, i, "trial")) == 0 &&
                strcmp(cells[col[0]], eb_run_cell(d, i, "run_id")) == 0)
                return (long)i;
            continue;
        }
        if (strcmp(cells[col[0]], eb_run_cell(d, i, "run_id")) == 0 &&
            strcmp(cells[col[1]], eb_run_cell(d, i, "variant")) == 0 &&
            strcmp(cells[col[2]], eb_run_cell(d, i, "backend")) == 0 &&
            strcmp(cells[col[3]], eb_run_cell(d, i, "threads")) == 0)
            return (long)i;
    }
    return -1;
}

static int run_take_samples(eb_run_data *d, csv_table *t, const char *path, eb_err *err)
{
    static const char *const names[] = {"run_id", "variant", "backend", "threads", "trial",
                                        "latency_ms"};
    int col[6];
    size_t *cap = calloc(d->n_rows ? d->n_rows : 1, sizeof *cap);
    long last_row = -1;
    char last_key[256] = "";
    if (!cap)
        return eb_errf(err, "%s: out of memory", path);
    for (int k = 0; k < 6; k++) {
        col[k] = -1;
        for (size_t j = 0; t->n_rows && j < t->n_cells[0]; j++)
            if (strcmp(t->cells[0][j], names[k]) == 0)
                col[k] = (int)j;
        if (col[k] < 0 && k != 4) {
            free(cap);
            return eb_errf(err, "%s: no column %s; is this an edgebench samples file?", path,
                           names[k]);
        }
    }
    for (size_t i = 1; i < t->n_rows; i++) {
        char **cells = t->cells[i];
        char key[256];
        if (t->n_cells[i] < t->n_cells[0])
            continue;
        /* Consecutive lines belong to one trial: look the row up once per trial. */
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s", cells[col[0]], cells[col[1]],
                 cells[col[2]], cells[col[3]], col[4] >= 0 ? cells[col[4]] : "");
        if (strcmp(key, last_key) != 0) {
            last_row = run_sample_row(d, cells, col);
            snprintf(last_key, sizeof last_key, "%s", key);
        }
        if (last_row < 0)
            continue;
        size_t r = (size_t)last_row;
        if (d->n_samples[r] == cap[r]) {
            size_t c = cap[r] ? 2 * cap[r] : 256;
            double *grown = realloc(d->samples[r], c * sizeof *grown);
            if (!grown) {
                free(cap);
                return eb_errf(err, "%s: out of memory", path);
            }
            d->samples[r] = grown;
            cap[r] = c;
        }
        d->samples[r][d->n_samples[r]++] = strtod(cells[col[5]], NULL);
    }
    free(cap);
    return 0;
}

static int run_read(const char *dir, eb_run_data *d, int with_samples, eb_err *err)
{
    char path[4096];
    csv_table t;
    int rc;
    memset(d, 0, sizeof *d);
    d->dir = strdup(dir);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    rc = csv_table_read(path, &t, err);
    if (rc == 1)
        rc = eb_errf(err, "%s: no results.csv here; give the directory `edgebench run` wrote "
                          "(its --out, default results/NAME)", dir);
    if (rc != 0 || run_take_results(d, &t, path, err) != 0) {
        csv_table_free(&t);
        eb_run_free(d);
        return -1;
    }
    csv_table_free(&t);

    snprintf(path, sizeof path, "%s/run.csv", dir);
    rc = csv_table_read(path, &t, err);
    if (rc < 0) {
        eb_run_free(d);
        return -1;
    }
    if (rc == 0 && t.n_rows > 1) {
        d->meta_keys = calloc(t.n_rows, sizeof *d->meta_keys);
        d->meta_values = calloc(t.n_rows, sizeof *d->meta_values);
        for (size_t i = 1; d->meta_keys && d->meta_values && i < t.n_rows; i++) {
            if (t.n_cells[i] < 2)
                continue;
            d->meta_keys[d->n_meta] = strdup(t.cells[i][0]);
            d->meta_values[d->n_meta++] = strdup(t.cells[i][1]);
        }
    }
    csv_table_free(&t);
    if (!with_samples)
        return 0;

    snprintf(path, sizeof path, "%s/samples.csv", dir);
    rc = csv_table_read(path, &t, err);
    if (rc < 0 || (rc == 0 && run_take_samples(d, &t, path, err) != 0)) {
        csv_table_free(&t);
        eb_run_free(d);
        return -1;
    }
    csv_table_free(&t);
    return 0;
}

int eb_run_read(const char *dir, eb_run_data *d, eb_err *err)
{
    return run_read(dir, d, 1, err);
}

int eb_run_read_summary(const char *dir, eb_run_data *d, eb_err *err)
{
    return run_read(dir, d, 0, err);
}

void eb_run_free(eb_run_data *d)
{
    for (size_t i = 0; d->rows && i < d->n_rows; i++) {
        for (size_t j = 0; d->rows[i] && j < d->n_columns; j++)
            free(d->rows[i][j]);
        free(d->rows[i]);
    }
    for (size_t j = 0; d->columns && j < d->n_columns; j++)
        free(d->columns[j]);
    for (size_t i = 0; i < d->n_meta; i++) {
        free(d->meta_keys[i]);
        free(d->meta_values[i]);
    }
    for (size_t i = 0; d->samples && i < d->n_rows; i++)
        free(d->samples[i]);
    free(d->samples);
    free(d->n_samples);
    free(d->meta_keys);
    free(d->meta_values);
    free(d->rows);
    free(d->columns);
    free(d->dir);
    memset(d, 0, sizeof *d);
}
