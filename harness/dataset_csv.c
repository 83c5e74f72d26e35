/* dataset.csv{}: one sample per row, numbers only; feature columns plus one label column
 * chosen by header name or 0-based index (default: the last column).  Parsed with libcsv's
 * streaming parser, so quoted fields and CRLF files work, and any row can be named in an
 * error as file:row:column (rows count from 1 and include the header row). */
#include "dataset.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_state {
    const char *path;
    int header;
    const char *label_column;
    eb_err *err;
    int failed;
    size_t row;     /* 1-based record number of the record being parsed */
    size_t col;     /* fields seen in the current record */
    size_t ncols;   /* fields per record, fixed by the first record */
    char **names;   /* header names (ncols), when header */
    size_t names_cap;
    size_t label;   /* resolved label column */
    int label_set;
    double *cur;    /* the current record's values */
    size_t cur_cap;
    float *x;       /* features, row-major */
    size_t x_len, x_cap;
    int32_t *labels;
    size_t n, labels_cap;
} csv_state;

static int csv_fail(csv_state *st)
{
    st->failed = 1;
    return -1;
}

/* Names a column for messages: "3 (\"petal_len\")" with a header, "3" without. */
static const char *csv_colname(const csv_state *st, size_t col, char *buf, size_t n)
{
    if (st->names && col < st->ncols)
        snprintf(buf, n, "%zu (\"%s\")", col + 1, st->names[col]);
    else
        snprintf(buf, n, "%zu", col + 1);
    return buf;
}

static int csv_push(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *nb = realloc(*buf, c * size);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = c;
    return 0;
}

static void csv_on_field(void *field, size_t len, void *data)
{
    csv_state *st = data;
    if (st->failed)
        return;
    const char *s = field ? field : "";
    size_t col = st->col++;
    if (st->row == 1 && st->header) {
        if (csv_push((void **)&st->names, &st->names_cap, col + 1, sizeof *st->names) ||
            !(st->names[col] = strndup(s, len))) {
            eb_errf(st->err, "%s: out of memory", st->path);
            csv_fail(st);
        }
        return;
    }
    if (st->ncols && col >= st->ncols) {
        eb_errf(st->err, "%s:%zu: more than %zu fields (row 1 has %zu); every row needs the "
                         "same columns", st->path, st->row, st->ncols, st->ncols);
        csv_fail(st);
        return;
    }
    char num[128], cb[160];
    double v = 0;
    char *end = NULL;
    int ok = len > 0 && len < sizeof num;
    if (ok) {
        memcpy(num, s, len);
        num[len] = '\0';
        errno = 0;
        v = strtod(num, &end);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        ok = end != num && *end == '\0' && errno != ERANGE && isfinite(v);
    }
    if (!ok) {
        eb_errf(st->err, "%s:%zu:%s: \"%.*s\" is not a number; dataset.csv reads numbers "
                         "only (encode classes as 0, 1, 2, ...)",
                st->path, st->row, csv_colname(st, col, cb, sizeof cb), (int)(len > 40 ? 40 : len),
                s);
        csv_fail(st);
        return;
    }
    /* Before the first data record ends we do not know the column count, so values go to a
     * per-record buffer and are split into features and label at the end of the record. */
    if (csv_push((void **)&st->cur, &st->cur_cap, col + 1, sizeof *st->cur)) {
        eb_errf(st->err, "%s: out of memory", st->path);
        csv_fail(st);
        return;
    }
    st->cur[col] = v;
}

/* Finds the label column once the column count (and header names) are known. */
static int csv_resolve_label(csv_state *st)
{
    const char *want = st->label_column;
    if (!want || !*want) {
        st->label = st->ncols - 1;
        st->label_set = 1;
        return 0;
    }
    if (st->names)
        for (size_t i = 0; i < st->ncols; i++)
            if (strcmp(st->names[i], want) == 0) {
                st->label = i;
                st->label_set = 1;
                return 0;
            }
    char *end;
    errno = 0;
    long idx = strtol(want, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (idx < 0)
            idx += (long)st->ncols; /* -1: last column, as in Python */
        if (idx >= 0 && (size_t)idx < st->ncols) {
            st->label = (size_t)idx;
            st->label_set = 1;
            return 0;
        }
        return eb_errf(st->err, "%s: label_column %s is out of range; the file has %zu "
                                "columns (0 to %zu)", st->path, want, st->ncols, st->ncols - 1);
    }
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; st->names && i < st->ncols && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "", st->names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return eb_errf(st->err, "%s: no column named \"%s\"%s%s%s", st->path, want,
                   st->names ? " (columns: " : "; the file has no header row, so give a "
                                               "0-based index",
                   list, st->names ? ")" : "");
}

static void csv_on_record(int c, void *data)
{
    csv_state *st = data;
    (void)c;
    if (st->failed)
        return;
    size_t fields = st->col;
    st->col = 0;
    if (st->row == 1) {
        st->ncols = fields;
        if (fields < 2) {
            eb_errf(st->err, "%s:1: has %zu column; dataset.csv needs feature columns and a "
                             "label column (is the delimiter a comma?)", st->path, fields);
            csv_fail(st);
            return;
        }
        if (csv_resolve_label(st)) {
            csv_fail(st);
            return;
        }
        if (st->header) {
            st->row++;
            return;
        }
    } else if (fields != st->ncols) {
        eb_errf(st->err, "%s:%zu: has %zu fields but row 1 has %zu; every row needs the same "
                         "columns", st->path, st->row, fields, st->ncols);
        csv_fail(st);
        return;
    }
    size_t nf = st->ncols - 1;
    if (csv_push((void **)&st->x, &st->x_cap, st->x_len + nf, sizeof *st->x) ||
        csv_push((void **)&st->labels, &st->labels_cap, st->n + 1, sizeof *st->labels)) {
        eb_errf(st->err, "%s: out of memory at row %zu", st->path, st->row);
        csv_fail(st);
        return;
    }
    for (size_t i = 0; i < st->ncols; i++) {
        if (i == st->label) {
            double v = st->cur[i];
            if (v != floor(v) || v < 0 || v > INT32_MAX) {
                char cb[160];
                eb_errf(st->err, "%s:%zu:%s: label %g is not a class id (an integer 0 or "
                                 "more)", st->path, st->row,
                        csv_colname(st, i, cb, sizeof cb), v);
                csv_fail(st);
                return;
            }
            st->labels[st->n] = (int32_t)v;
        } else {
            st->x[st->x_len++] = (float)st->cur[i];
        }
    }
    st->n++;
    st->row++;
}

static void csv_state_free(csv_state *st)
{
    /* names holds ncols entries once the header row ended, fewer if it failed midway. */
    size_t nn = st->ncols ? st->ncols : st->col;
    if (st->names)
        for (size_t i = 0; i < nn && i < st->names_cap; i++)
            free(st->names[i]);
    free(st->names);
    free(st->cur);
    free(st->x);
    free(st->labels);
}

int eb_csv_read(const char *path, const char *label_column, int header, eb_tensor *x,
                int32_t **labels, eb_err *err)
{
    memset(x, 0, sizeof *x);
    *labels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return eb_errf(err, "%s: cannot open: %s", path, strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        fclose(f);
        return eb_errf(err, "%s: out of memory", path);
    }
    csv_state st = {.path = path, .header = header, .label_column = label_column,
                    .err = err, .row = 1};
    char buf[65536];
    size_t got;
    while (!st.failed && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&p, buf, got, csv_on_field, csv_on_record, &st) != got && !st.failed) {
            eb_errf(err, "%s:%zu: malformed CSV (%s); check the quotes on this row", path,
                    st.row, csv_strerror(csv_error(&p)));
            st.failed = 1;
        }
    }
    if (!st.failed && ferror(f)) {
        eb_errf(err, "%s: read error: %s", path, strerror(errno));
        st.failed = 1;
    }
    if (!st.failed && csv_fini(&p, csv_on_field, csv_on_record, &st) != 0 && !st.failed) {
        eb_errf(err, "%s:%zu: malformed CSV (%s); check the quotes on this row", path, st.row,
                csv_strerror(csv_error(&p)));
        st.failed = 1;
    }
    csv_free(&p);
    fclose(f);
    if (!st.failed && st.n == 0) {
        eb_errf(err, "%s: no data rows%s", path, header ? " after the header" : "");
        st.failed = 1;
    }
    if (st.failed) {
        csv_state_free(&st);
        return -1;
    }
    x->dtype = EB_F32;
    x->ndim = 2;
    x->shape[0] = (int64_t)st.n;
    x->shape[1] = (int64_t)(st.ncols - 1);
    x->data = st.x;
    *labels = st.labels;
    st.x = NULL;
    st.labels = NULL;
    csv_state_free(&st);
    return 0;
}
