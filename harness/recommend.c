#include "recommend.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const rec_con_keys[EB_CON_COUNT] = {
    "accuracy_drop", "p50_ms", "p90_ms", "p99_ms", "peak_rss_kb", "energy_mj"};

/* The results.csv column each upper bound applies to (accuracy_drop is computed). */
static const char *const rec_con_columns[EB_CON_COUNT] = {
    NULL, "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "peak_rss_kb",
    "energy_mj_per_inference"};

static const char *const rec_con_names[EB_CON_COUNT] = {"accuracy drop", "p50", "p90", "p99",
                                                        "peak memory", "energy"};

/* Appends "; " and a formatted reason to a row's reason. */
static void rec_reason(eb_rec_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_reason(eb_rec_row *r, const char *fmt, ...)
{
    size_t len = strlen(r->reason);
    if (len + 3 >= sizeof r->reason)
        return;
    if (len) {
        memcpy(r->reason + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason + len, sizeof r->reason - len, fmt, ap);
    va_end(ap);
}

void eb_recommend_pareto(const double *accuracy, const double *latency, size_t n, int *pareto)
{
    for (size_t i = 0; i < n; i++) {
        pareto[i] = 0;
        if (!isfinite(accuracy[i]) || !isfinite(latency[i]))
            continue;
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++) {
            if (j == i || !isfinite(accuracy[j]) || !isfinite(latency[j]))
                continue;
            if (accuracy[j] >= accuracy[i] && latency[j] <= latency[i] &&
                (accuracy[j] > accuracy[i] || latency[j] < latency[i]))
                dominated = 1;
        }
        pareto[i] = !dominated;
    }
}

static int rec_is_default_cores(const char *c)
{
    return !c[0] || strcmp(c, "all") == 0;
}

void eb_recommend_label(const eb_run_data *d, size_t row, char *buf, size_t n)
{
    const char *threads = eb_run_cell(d, row, "threads");
    const char *cores = eb_run_cell(d, row, "cores");
    const char *batch = eb_run_cell(d, row, "batch");
    const char *mode = eb_run_cell(d, row, "mode");
    int len = snprintf(buf, n, "%s on %s, %s thread%s", eb_run_cell(d, row, "variant"),
                       eb_run_cell(d, row, "backend"), threads[0] ? threads : "?",
                       strcmp(threads, "1") == 0 ? "" : "s");
    if (len < 0 || (size_t)len >= n)
        return;
    if (!rec_is_default_cores(cores))
        len += snprintf(buf + len, n - (size_t)len, ", cores %s", cores);
    if ((size_t)len < n && batch[0] && strcmp(batch, "1") != 0)
        len += snprintf(buf + len, n - (size_t)len, ", batch %s", batch);
    if ((size_t)len < n && mode[0] && strcmp(mode, "single_stream") != 0)
        len += snprintf(buf + len, n - (size_t)len, ", %s", mode);
    /* Name the dataset only when the run measured on more than one (a variant's own). */
    const char *dataset = eb_run_cell(d, row, "dataset");
    for (size_t j = 0; (size_t)len < n && dataset[0] && j < d->n_rows; j++)
        if (strcmp(eb_run_cell(d, j, "dataset"), dataset) != 0) {
            snprintf(buf + len, n - (size_t)len, ", on %s", dataset);
            break;
        }
}

/* How well row j stands in for row i's base measurement: same backend first, then threads,
 * cores, batch, mode (accuracy may differ between backends; it should not between threads). */
static int rec_base_score(const eb_run_data *d, size_t i, size_t j)
{
    static const struct {
        const char *col;
        int weight;
    } keys[] = {/* the same data first: a LoRA variant judged on its own (shifted) dataset is
                 * compared with its base on that dataset, never with the base's clean row */
                {"dataset", 32}, {"backend", 16}, {"threads", 8}, {"cores", 4}, {"batch", 2},
                {"mode", 1}};
    int score = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strcmp(eb_run_cell(d, i, keys[k].col), eb_run_cell(d, j, keys[k].col)) == 0)
            score += keys[k].weight;
    return score;
}

/* Row i's accuracy drop against its base; returns the base row or -1 and says why in *why. */
static long rec_base(const eb_run_data *d, size_t i, double *drop, const char **why)
{
    const char *base = eb_run_cell(d, i, "base");
    double acc = eb_run_num(d, i, "accuracy_top1");
    *drop = NAN;
    *why = NULL;
    if (!base[0] || strcmp(base, eb_run_cell(d, i, "variant")) == 0) {
        *drop = 0; /* its own base */
        return (long)i;
    }
    long best = -1;
    int best_score = -1, seen = 0;
    for (size_t j = 0; j < d->n_rows; j++) {
        if (strcmp(eb_run_cell(d, j, "variant"), base) != 0)
            continue;
        seen = 1;
        if (strcmp(eb_run_cell(d, j, "status"), "ok") != 0 ||
            !isfinite(eb_run_num(d, j, "accuracy_top1")))
            continue;
        int s = rec_base_score(d, i, j);
        if (s > best_score) {
            best_score = s;
            best = (long)j;
        }
    }
    if (best < 0) {
        *why = seen ? "its base has no accuracy in this run" : "its base is not in this run";
        return -1;
    }
    if (!isfinite(acc)) {
        *why = "no accuracy measured";
        return best;
    }
    *drop = eb_run_num(d, (size_t)best, "accuracy_top1") - acc;
    return best;
}

static int rec_parse_limits(const eb_run_data *d, eb_recommendation *rec, eb_err *err)
{
    for (int c = 0; c < EB_CON_COUNT; c++)
        rec->limit[c] = NAN;
    for (size_t m = 0; m < d->n_meta; m++) {
        const char *k = d->meta_keys[m];
        if (strncmp(k, "constraint.", 11) != 0)
            continue;
        int c = 0;
        while (c < EB_CON_COUNT && strcmp(k + 11, rec_con_keys[c]) != 0)
            c++;
        if (c == EB_CON_COUNT) {
            /* A newer edgebench may know more constraints: say so, do not fail. */
            size_t len = strlen(rec->note);
            snprintf(rec->note + len, sizeof rec->note - len, "%sconstraint '%s' not known here, ignored",
                     len ? "; " : "", k + 11);
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(d->meta_values[m], &end);
        if (end == d->meta_values[m] || *end || errno || !isfinite(v) || v < 0)
            return eb_errf(err, "%s/run.csv: %s is '%s', not a number >= 0; fix the scenario's "
                                "constraints and run again",
                           d->dir, k, d->meta_values[m]);
        rec->limit[c] = v;
    }
    return 0;
}

/* The ranking keys of a row under an objective (lower is better), NaN when unmeasured. */
static void rec_keys(const eb_run_data *d, size_t row, const char *objective, double key[3])
{
    double p50 = eb_run_num(d, row, "latency_p50_ms"), p99 = eb_run_num(d, row, "latency_p99_ms");
    if (strcmp(objective, "energy") == 0) {
        key[0] = eb_run_num(d, row, "energy_mj_per_inference");
        key[1] = p50;
        key[2] = p99;
    } else if (strcmp(objective, "size") == 0) {
        key[0] = eb_run_num(d, row, "model_bytes");
        key[1] = eb_run_num(d, row, "peak_rss_kb");
        key[2] = p50;
    } else {
        key[0] = p50;
        key[1] = p99;
        key[2] = 0;
    }
}

typedef struct rec_sort_item {
    double key[3];
    size_t row;
} rec_sort_item;

static int rec_cmp(const void *a, const void *b)
{
    const rec_sort_item *x = a, *y = b;
    for (int k = 0; k < 3; k++) {
        /* NaN tie-breakers sort last. */
        int xn = isnan(x->key[k]), yn = isnan(y->key[k]);
        if (xn != yn)
            return xn - yn;
        if (!xn && x->key[k] != y->key[k])
            return x->key[k] < y->key[k] ? -1 : 1;
    }
    return x->row < y->row ? -1 : x->row > y->row;
}

static void rec_fmt_value(int c, double v, char *buf, size_t n)
{
    switch (c) {
    case EB_CON_ACCURACY_DROP:
        snprintf(buf, n, "%.1f points", v * 100);
        break;
    case EB_CON_PEAK_RSS:
        snprintf(buf, n, "%.0f kB", v);
        break;
    case EB_CON_ENERGY:
        snprintf(buf, n, "%.3g mJ", v);
        break;
    default:
        snprintf(buf, n, "%.3g ms", v);
    }
}

int eb_recommend(const eb_run_data *d, eb_recommendation *rec, eb_err *err)
{
    memset(rec, 0, sizeof *rec);
    rec->chosen = -1;
    if (rec_parse_limits(d, rec, err) != 0)
        return -1;
    const char *objective = eb_run_meta(d, "objective");
    if (!objective[0])
        objective = "latency";
    if (strcmp(objective, "latency") != 0 && strcmp(objective, "energy") != 0 &&
        strcmp(objective, "size") != 0)
        return eb_errf(err, "%s/run.csv: objective '%s' is not latency, energy or size; fix the "
                            "scenario's objective",
                       d->dir, objective);
    snprintf(rec->objective, sizeof rec->objective, "%s", objective);

    rec->n = d->n_rows;
    eb_rec_row *tmp = calloc(d->n_rows ? d->n_rows : 1, sizeof *tmp);
    rec->rows = calloc(d->n_rows ? d->n_rows : 1, sizeof *rec->rows);
    rec_sort_item *items = calloc(d->n_rows ? d->n_rows : 1, sizeof *items);
    double *acc = calloc(d->n_rows ? d->n_rows : 1, sizeof *acc);
    double *lat = calloc(d->n_rows ? d->n_rows : 1, sizeof *lat);
    int *front = calloc(d->n_rows ? d->n_rows : 1, sizeof *front);
    if (!tmp || !rec->rows || !items || !acc || !lat || !front) {
        free(tmp), free(items), free(acc), free(lat), free(front);
        eb_recommend_free(rec);
        return eb_errf(err, "recommendation: out of memory for %zu rows", d->n_rows);
    }

    /* The objective falls back to latency when nothing measured its quantity. */
    if (strcmp(rec->objective, "latency") != 0) {
        int any = 0;
        for (size_t i = 0; i < d->n_rows && !any; i++) {
            double k[3];
            rec_keys(d, i, rec->objective, k);
            any = strcmp(eb_run_cell(d, i, "status"), "ok") == 0 && isfinite(k[0]);
        }
        if (!any) {
            size_t len = strlen(rec->note);
            snprintf(rec->note + len, sizeof rec->note - len,
                     "%sobjective %s: no trial measured %s, ranked by latency instead", len ? "; " : "",
                     rec->objective, strcmp(rec->objective, "energy") == 0 ? "energy" : "model size");
            snprintf(rec->objective, sizeof rec->objective, "latency");
        }
    }

    for (size_t i = 0; i < d->n_rows; i++) {
        eb_rec_row *r = &tmp[i];
        r->row = i;
        r->key = NAN;
        const char *status = eb_run_cell(d, i, "status");
        const char *why = NULL;
        r->base_row = rec_base(d, i, &r->accuracy_drop, &why);
        acc[i] = lat[i] = NAN;
        if (strcmp(status, "ok") != 0) {
            const char *e = eb_run_cell(d, i, "error");
            rec_reason(r, "%s%s%s", status[0] ? status : "no status", e[0] ? ": " : "", e);
            continue;
        }
        acc[i] = eb_run_num(d, i, "accuracy_top1");
        lat[i] = eb_run_num(d, i, "latency_p99_ms");
        if (!isnan(rec->limit[EB_CON_ACCURACY_DROP])) {
            const char *base = eb_run_cell(d, i, "base");
            if (isnan(r->accuracy_drop))
                rec_reason(r, "accuracy drop unknown (%s; base '%s')", why ? why : "no accuracy", base);
            /* A tiny epsilon: 0.01 - 0.0 written as %.6f must not fail a 0.01 budget. */
            else if (r->accuracy_drop > rec->limit[EB_CON_ACCURACY_DROP] + 1e-9)
                rec_reason(r, "accuracy drop %.1f points > %.1f vs base '%s'",
                           r->accuracy_drop * 100, rec->limit[EB_CON_ACCURACY_DROP] * 100, base);
        }
        for (int c = EB_CON_P50; c < EB_CON_COUNT; c++) {
            if (isnan(rec->limit[c]))
                continue;
            double v = eb_run_num(d, i, rec_con_columns[c]);
            char vs[48], ls[48];
            rec_fmt_value(c, rec->limit[c], ls, sizeof ls);
            if (isnan(v)) {
                rec_reason(r, "%s not measured (budget %s)", rec_con_names[c], ls);
            } else if (v > rec->limit[c]) {
                rec_fmt_value(c, v, vs, sizeof vs);
                /* Units once, at the end: "p99 7.1 ms > 5 ms". */
                rec_reason(r, "%s %s > %s", rec_con_names[c], vs, ls);
            }
        }
        double k[3];
        rec_keys(d, i, rec->objective, k);
        if (isnan(k[0]))
            rec_reason(r, "%s not measured (objective %s)",
                       strcmp(rec->objective, "energy") == 0   ? "energy"
                       : strcmp(rec->objective, "size") == 0 ? "model size"
                                                               : "p50",
                       rec->objective);
    }
    eb_recommend_pareto(acc, lat, d->n_rows, front);

    size_t n_ok = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        tmp[i].pareto = front[i];
        if (tmp[i].reason[0])
            continue;
        rec_keys(d, i, rec->objective, items[n_ok].key);
        items[n_ok++].row = i;
    }
    qsort(items, n_ok, sizeof *items, rec_cmp);
    size_t k = 0;
    for (size_t j = 0; j < n_ok; j++) {
        eb_rec_row *r = &rec->rows[k++];
        *r = tmp[items[j].row];
        r->rank = (int)j + 1;
        r->key = items[j].key[0];
        r->state = j == 0 ? EB_REC_CHOSEN : j <= EB_REC_RUNNERS_UP ? EB_REC_RUNNER_UP : EB_REC_ELIGIBLE;
    }
    rec->chosen = n_ok ? 0 : -1;
    for (size_t i = 0; i < d->n_rows; i++)
        if (tmp[i].reason[0]) {
            rec->rows[k] = tmp[i];
            rec->rows[k++].state = EB_REC_EXCLUDED;
        }
    free(tmp), free(items), free(acc), free(lat), free(front);
    return 0;
}

void eb_recommend_free(eb_recommendation *rec)
{
    free(rec->rows);
    rec->rows = NULL;
    rec->n = 0;
}

void eb_recommend_constraints_text(const eb_recommendation *rec, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int c = 0; c < EB_CON_COUNT && len < n; c++) {
        if (isnan(rec->limit[c]))
            continue;
        char v[48];
        rec_fmt_value(c, rec->limit[c], v, sizeof v);
        int w = snprintf(buf + len, n - len, "%s%s <= %s", len ? ", " : "", rec_con_names[c], v);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (!buf[0])
        snprintf(buf, n, "none");
}

const char *eb_recommend_objective_text(const eb_recommendation *rec)
{
    if (strcmp(rec->objective, "energy") == 0)
        return "energy (lowest mJ per inference, ties by p50)";
    if (strcmp(rec->objective, "size") == 0)
        return "size (smallest model file, ties by peak memory)";
    return "latency (lowest p50, ties by p99)";
}

/* "p50 0.201 ms, p99 0.260 ms, top1 88.00%" for one row. */
static void rec_summary(const eb_run_data *d, const eb_recommendation *rec, const eb_rec_row *r,
                        char *buf, size_t n)
{
    size_t row = r->row;
    double p50 = eb_run_num(d, row, "latency_p50_ms"), p99 = eb_run_num(d, row, "latency_p99_ms");
    double acc = eb_run_num(d, row, "accuracy_top1");
    double energy = eb_run_num(d, row, "energy_mj_per_inference");
    double bytes = eb_run_num(d, row, "model_bytes"), rss = eb_run_num(d, row, "peak_rss_kb");
    int len = snprintf(buf, n, "p50 %.3g ms, p99 %.3g ms", p50, p99);
    if (isfinite(acc) && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, ", top1 %.2f%%", acc * 100);
    if (isfinite(acc) && isfinite(r->accuracy_drop) && r->base_row >= 0 &&
        (size_t)r->base_row != row && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, " (%+.1f points vs %s)", -r->accuracy_drop * 100,
                        eb_run_cell(d, (size_t)r->base_row, "variant"));
    if (isfinite(rss) && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, ", peak %.0f kB", rss);
    if (strcmp(rec->objective, "size") == 0 && isfinite(bytes) && len >= 0 && (size_t)len < n)
        len += snprintf(buf + len, n - (size_t)len, ", model %.0f kB", bytes / 1024);
    if (isfinite(energy) && len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, ", %.3g mJ/inference", energy);
}

int eb_recommend_print(FILE *f, const eb_run_data *d, eb_err *err)
{
    eb_recommendation rec;
    if (eb_recommend(d, &rec, err) != 0)
        return -1;
    char cons[256], label[256], summary[256];
    eb_recommend_constraints_text(&rec, cons, sizeof cons);
    fprintf(f, "recommendation: objective %s; constraints: %s\n", eb_recommend_objective_text(&rec),
            cons);
    if (rec.note[0])
        fprintf(f, "  note: %s\n", rec.note);
    if (rec.chosen < 0)
        fprintf(f, "  no configuration meets the constraints\n");
    for (size_t k = 0; k < rec.n; k++) {
        const eb_rec_row *r = &rec.rows[k];
        eb_recommend_label(d, r->row, label, sizeof label);
        switch (r->state) {
        case EB_REC_CHOSEN:
            rec_summary(d, &rec, r, summary, sizeof summary);
            fprintf(f, "  pick:      %s (%s)\n", label, summary);
            break;
        case EB_REC_RUNNER_UP:
            rec_summary(d, &rec, r, summary, sizeof summary);
            fprintf(f, "  runner-up: %s (%s)\n", label, summary);
            break;
        case EB_REC_ELIGIBLE:
            fprintf(f, "  eligible:  %s (ranked %d)\n", label, r->rank);
            break;
        case EB_REC_EXCLUDED:
            fprintf(f, "  excluded:  %s: %s\n", label, r->reason);
            break;
        }
    }
    eb_recommend_free(&rec);
    return 0;
}
