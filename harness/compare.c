/* Regression detection: medians, Mann-Whitney U, bootstrap, matching (see compare.h). */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *eb_verdict_name(eb_verdict v)
{
    switch (v) {
    case EB_VERDICT_UNCHANGED: return "unchanged";
    case EB_VERDICT_IMPROVED: return "improved";
    case EB_VERDICT_REGRESSED: return "regressed";
    case EB_VERDICT_NOT_COMPARABLE: return "not comparable";
    case EB_VERDICT_NOT_MEASURED: return "not measured";
    }
    return "?";
}

void eb_compare_opts_default(eb_compare_opts *o)
{
    o->threshold = 0.05;
    o->alpha = 0.05;
    o->confidence = 0.95;
    o->resamples = 2000;
    o->seed = 0x6564676562656e63ULL; /* "edgebenc" */
    o->min_samples = 20;
    o->accuracy_tolerance = 0.005;
    o->memory_tolerance = 0.10;
    o->energy_tolerance = 0.10;
}

/* ---- order statistics ------------------------------------------------------------------- */

/* The k-th smallest of x[0..n) (0-based), Hoare partitioning around the middle element; x is
 * reordered so that x[0..k] <= x[k] <= x[k+1..n).  Expected O(n): the bootstrap calls it
 * thousands of times, where a sort would dominate. */
static double compare_select(double *x, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (lo < hi) {
        double pivot = x[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        }
        /* now x[lo..j] <= pivot, x[i..hi] >= pivot, and x[j+1..i-1] == pivot */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            return x[kk];
    }
    return x[kk];
}

double eb_compare_median_inplace(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    size_t k = (n - 1) / 2;
    double lower = compare_select(x, n, k);
    if (n % 2)
        return lower;
    /* even: the next order statistic is the smallest of the upper part */
    double upper = x[k + 1];
    for (size_t i = k + 2; i < n; i++)
        if (x[i] < upper)
            upper = x[i];
    return (lower + upper) / 2;
}

/* ---- Mann-Whitney U --------------------------------------------------------------------- */

typedef struct compare_tagged {
    double v;
    int group; /* 0: a, 1: b */
} compare_tagged;

static int compare_tagged_cmp(const void *pa, const void *pb)
{
    double a = ((const compare_tagged *)pa)->v, b = ((const compare_tagged *)pb)->v;
    return (a > b) - (a < b);
}

double eb_compare_mann_whitney(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    size_t n = na + nb;
    compare_tagged *t = malloc(n * sizeof *t);
    if (!t)
        return NAN;
    for (size_t i = 0; i < na; i++)
        t[i] = (compare_tagged){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        t[na + i] = (compare_tagged){b[i], 1};
    qsort(t, n, sizeof *t, compare_tagged_cmp);
    /* Ranks 1..n with ties sharing their average rank; the tie term sum(t^3 - t) shrinks the
     * variance of U (ties carry less information). */
    double rank_sum_a = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && t[j].v == t[i].v)
            j++;
        double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
        for (size_t m = i; m < j; m++)
            if (t[m].group == 0)
                rank_sum_a += avg;
        double run = (double)(j - i);
        ties += run * run * run - run;
        i = j;
    }
    free(t);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    double u = rank_sum_a - dna * (dna + 1) / 2;
    double mu = dna * dnb / 2;
    double var = dna * dnb / 12.0 * ((dn + 1) - (n > 1 ? ties / (dn * (dn - 1)) : 0));
    if (!(var > 0))
        return 1.0;
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    double p = erfc(z / sqrt(2.0));
    return p > 1 ? 1 : p;
}

/* ---- bootstrap -------------------------------------------------------------------------- */

/* splitmix64: small, seedable, good enough to draw resampling indices. */
static uint64_t compare_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double compare_resampled_median(const double *x, size_t n, double *buf, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = x[compare_rand(rng) % n];
    return eb_compare_median_inplace(buf, n);
}

static int compare_double_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Copies the finite values of x (a NaN would break every comparison downstream). */
static double *compare_finite_copy(const double *x, size_t n, size_t *out_n)
{
    double *c = malloc((n ? n : 1) * sizeof *c);
    size_t m = 0;
    if (c)
        for (size_t i = 0; i < n; i++)
            if (isfinite(x[i]))
                c[m++] = x[i];
    *out_n = m;
    return c;
}

int eb_compare_latency(const double *base, size_t nb, const double *cur, size_t nc,
                       const eb_compare_opts *o, eb_latency_cmp *out, eb_err *err)
{
    memset(out, 0, sizeof *out);
    out->median_base = out->median_cur = out->ratio = NAN;
    out->ci_lo = out->ci_hi = out->p_value = NAN;
    out->verdict = EB_VERDICT_NOT_COMPARABLE;

    size_t fb, fc;
    double *b = compare_finite_copy(base, nb, &fb);
    double *c = compare_finite_copy(cur, nc, &fc);
    double *bb = malloc((fb ? fb : 1) * sizeof *bb), *bc = malloc((fc ? fc : 1) * sizeof *bc);
    int resamples = o->resamples > 0 ? o->resamples : 1;
    double *ratios = malloc((size_t)resamples * sizeof *ratios);
    if (!b || !c || !bb || !bc || !ratios) {
        free(b), free(c), free(bb), free(bc), free(ratios);
        return eb_errf(err, "compare: out of memory for %zu + %zu samples", nb, nc);
    }
    out->n_base = fb;
    out->n_cur = fc;

    if (fb < o->min_samples || fc < o->min_samples) {
        snprintf(out->note, sizeof out->note, "too few samples (base %zu, current %zu; need %zu)",
                 fb, fc, o->min_samples);
        if (fb)
            memcpy(bb, b, fb * sizeof *b), out->median_base = eb_compare_median_inplace(bb, fb);
        if (fc)
            memcpy(bc, c, fc * sizeof *c), out->median_cur = eb_compare_median_inplace(bc, fc);
        if (fb && fc && out->median_base > 0)
            out->ratio = out->median_cur / out->median_base;
        goto done;
    }

    memcpy(bb, b, fb * sizeof *b);
    out->median_base = eb_compare_median_inplace(bb, fb);
    memcpy(bc, c, fc * sizeof *c);
    out->median_cur = eb_compare_median_inplace(bc, fc);
    if (!(out->median_base > 0)) {
        snprintf(out->note, sizeof out->note, "base median is %g ms: no ratio", out->median_base);
        goto done;
    }
    out->ratio = out->median_cur / out->median_base;
    out->p_value = eb_compare_mann_whitney(b, fb, c, fc);

    /* Percentile bootstrap of the ratio of medians: each side resampled on its own (the runs
     * are independent), the same seed for every trial so a report is reproducible. */
    uint64_t rng = o->seed;
    int kept = 0;
    for (int r = 0; r < resamples; r++) {
        double mb = compare_resampled_median(b, fb, bb, &rng);
        double mc = compare_resampled_median(c, fc, bc, &rng);
        if (mb > 0)
            ratios[kept++] = mc / mb;
    }
    if (kept == 0) {
        snprintf(out->note, sizeof out->note, "every resampled base median is 0 ms");
        goto done;
    }
    qsort(ratios, (size_t)kept, sizeof *ratios, compare_double_cmp);
    double tail = (1 - o->confidence) / 2 * 100;
    out->ci_lo = eb_stats_percentile_sorted(ratios, (size_t)kept, tail);
    out->ci_hi = eb_stats_percentile_sorted(ratios, (size_t)kept, 100 - tail);

    int significant = out->p_value < o->alpha;
    if (significant && out->ci_lo > 1 + o->threshold)
        out->verdict = EB_VERDICT_REGRESSED;
    else if (significant && out->ci_hi < 1 - o->threshold)
        out->verdict = EB_VERDICT_IMPROVED;
    else
        out->verdict = EB_VERDICT_UNCHANGED;
done:
    free(b), free(c), free(bb), free(bc), free(ratios);
    return 0;
}

/* ---- matching runs ---------------------------------------------------------------------- */

static void compare_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void eb_compare_identity(const eb_run_data *d, size_t row, eb_compare_entry *e)
{
    memset(e, 0, sizeof *e);
    compare_copy(e->scenario, sizeof e->scenario, eb_run_cell(d, row, "scenario"));
    compare_copy(e->variant, sizeof e->variant, eb_run_cell(d, row, "variant"));
    compare_copy(e->backend, sizeof e->backend, eb_run_cell(d, row, "backend"));
    compare_copy(e->threads, sizeof e->threads, eb_run_cell(d, row, "threads"));
    compare_copy(e->cores, sizeof e->cores, eb_run_cell(d, row, "cores"));
    compare_copy(e->batch, sizeof e->batch, eb_run_cell(d, row, "batch"));
    /* results.csv before the load patterns had no mode column: those trials were
     * single-stream, so an old baseline still matches a new run. */
    const char *mode = eb_run_cell(d, row, "mode");
    compare_copy(e->mode, sizeof e->mode, mode[0] ? mode : "single_stream");
    e->base_row = e->cur_row = -1;
}

int eb_compare_same_identity(const eb_compare_entry *a, const eb_compare_entry *b)
{
    return strcmp(a->scenario, b->scenario) == 0 && strcmp(a->variant, b->variant) == 0 &&
           strcmp(a->backend, b->backend) == 0 && strcmp(a->threads, b->threads) == 0 &&
           strcmp(a->cores, b->cores) == 0 && strcmp(a->batch, b->batch) == 0 &&
           strcmp(a->mode, b->mode) == 0;
}

void eb_compare_entry_label(const eb_compare_entry *e, char *buf, size_t n)
{
    size_t used = 0;
    int w = snprintf(buf, n, "%s/%s threads=%s", e->variant, e->backend, e->threads);
    used = w > 0 ? (size_t)w : 0;
    if (used < n && e->cores[0] && strcmp(e->cores, "all") != 0)
        used += (size_t)snprintf(buf + used, n - used, " cores=%s", e->cores);
    if (used < n && e->batch[0] && strcmp(e->batch, "1") != 0)
        used += (size_t)snprintf(buf + used, n - used, " batch=%s", e->batch);
    if (used < n && strcmp(e->mode, "single_stream") != 0)
        snprintf(buf + used, n - used, " mode=%s", e->mode);
}

static eb_metric_cmp compare_metric(double base, double cur, int absolute, double tol)
{
    eb_metric_cmp m = {base, cur, NAN, EB_VERDICT_NOT_MEASURED};
    if (absolute) {
        if (!isfinite(base) || !isfinite(cur))
            return m;
        m.change = cur - base;
        /* a drop in accuracy is the regression; the tiny epsilon keeps an exact-tolerance
         * change (0.5 point written as 0.005) from flipping on rounding */
        m.verdict = m.change < -tol - 1e-12  ? EB_VERDICT_REGRESSED
                    : m.change > tol + 1e-12 ? EB_VERDICT_IMPROVED
                                             : EB_VERDICT_UNCHANGED;
        return m;
    }
    if (!(base > 0) || !(cur >= 0))
        return m;
    m.change = cur / base;
    m.verdict = m.change > 1 + tol   ? EB_VERDICT_REGRESSED
                : m.change < 1 - tol ? EB_VERDICT_IMPROVED
                                     : EB_VERDICT_UNCHANGED;
    return m;
}

static void compare_not_comparable(eb_compare_entry *e, const char *why)
{
    eb_latency_cmp *l = &e->latency;
    memset(l, 0, sizeof *l);
    l->median_base = l->median_cur = l->ratio = l->ci_lo = l->ci_hi = l->p_value = NAN;
    l->verdict = EB_VERDICT_NOT_COMPARABLE;
    snprintf(l->note, sizeof l->note, "%s", why);
    eb_metric_cmp nc = {NAN, NAN, NAN, EB_VERDICT_NOT_COMPARABLE};
    e->accuracy = e->memory = e->energy = nc;
}

static int compare_entry(const eb_run_data *base, const eb_run_data *cur, eb_compare_entry *e,
                         const eb_compare_opts *o, eb_err *err)
{
    if (e->base_row < 0 || e->cur_row < 0) {
        compare_not_comparable(e, e->base_row < 0 ? "only in the current run"
                                                  : "only in the base run");
        return 0;
    }
    size_t rb = (size_t)e->base_row, rc = (size_t)e->cur_row;
    const char *sb = eb_run_cell(base, rb, "status"), *sc = eb_run_cell(cur, rc, "status");
    if (strcmp(sb, "ok") != 0 || strcmp(sc, "ok") != 0) {
        char why[160];
        snprintf(why, sizeof why, "status %s in base, %s in current", sb[0] ? sb : "?",
                 sc[0] ? sc : "?");
        compare_not_comparable(e, why);
        return 0;
    }
    const double *xb, *xc;
    size_t nb, nc;
    eb_run_samples(base, rb, &xb, &nb);
    eb_run_samples(cur, rc, &xc, &nc);
    if (nb == 0 || nc == 0) {
        compare_not_comparable(e, nb == 0 ? "no raw samples in the base run (samples.csv)"
                                          : "no raw samples in the current run (samples.csv)");
        /* the one-number metrics are still comparable without samples */
    } else if (eb_compare_latency(xb, nb, xc, nc, o, &e->latency, err) != 0) {
        return -1;
    }
    e->accuracy = compare_metric(eb_run_num(base, rb, "accuracy_top1"),
                                 eb_run_num(cur, rc, "accuracy_top1"), 1, o->accuracy_tolerance);
    e->memory = compare_metric(eb_run_num(base, rb, "peak_rss_kb"),
                               eb_run_num(cur, rc, "peak_rss_kb"), 0, o->memory_tolerance);
    e->energy = compare_metric(eb_run_num(base, rb, "energy_mj_per_inference"),
                               eb_run_num(cur, rc, "energy_mj_per_inference"), 0,
                               o->energy_tolerance);
    return 0;
}

int eb_compare_entry_regressed(const eb_compare_entry *e)
{
    return e->latency.verdict == EB_VERDICT_REGRESSED ||
           e->accuracy.verdict == EB_VERDICT_REGRESSED ||
           e->memory.verdict == EB_VERDICT_REGRESSED || e->energy.verdict == EB_VERDICT_REGRESSED;
}

static int compare_entry_improved(const eb_compare_entry *e)
{
    return e->latency.verdict == EB_VERDICT_IMPROVED ||
           e->accuracy.verdict == EB_VERDICT_IMPROVED ||
           e->memory.verdict == EB_VERDICT_IMPROVED || e->energy.verdict == EB_VERDICT_IMPROVED;
}

int eb_compare_runs(const eb_run_data *base, const eb_run_data *cur, const eb_compare_opts *o,
                    eb_compare_report *rep, eb_err *err)
{
    memset(rep, 0, sizeof *rep);
    rep->opts = *o;
    size_t cap = base->n_rows + cur->n_rows;
    rep->entries = calloc(cap ? cap : 1, sizeof *rep->entries);
    char *used = calloc(cur->n_rows ? cur->n_rows : 1, 1);
    if (!rep->entries || !used) {
        free(used);
        eb_compare_report_free(rep);
        return eb_errf(err, "compare: out of memory matching %zu and %zu trials", base->n_rows,
                       cur->n_rows);
    }
    /* Each base trial takes the first unused current trial of the same identity, so a
     * scenario that repeats a configuration pairs its repeats in order. */
    eb_compare_entry probe;
    for (size_t i = 0; i < base->n_rows; i++) {
        eb_compare_entry *e = &rep->entries[rep->n++];
        eb_compare_identity(base, i, e);
        e->base_row = (long)i;
        for (size_t j = 0; j < cur->n_rows; j++) {
            if (used[j])
                continue;
            eb_compare_identity(cur, j, &probe);
            if (eb_compare_same_identity(e, &probe)) {
                used[j] = 1;
                e->cur_row = (long)j;
                break;
            }
        }
    }
    for (size_t j = 0; j < cur->n_rows; j++)
        if (!used[j]) {
            eb_compare_entry *e = &rep->entries[rep->n++];
            eb_compare_identity(cur, j, e);
            e->cur_row = (long)j;
        }
    free(used);
    for (size_t i = 0; i < rep->n; i++) {
        eb_compare_entry *e = &rep->entries[i];
        if (compare_entry(base, cur, e, o, err) != 0) {
            eb_compare_report_free(rep);
            return -1;
        }
        if (eb_compare_entry_regressed(e))
            rep->regressed++;
        else if (e->latency.verdict == EB_VERDICT_NOT_COMPARABLE &&
                 e->accuracy.verdict != EB_VERDICT_IMPROVED &&
                 e->memory.verdict != EB_VERDICT_IMPROVED &&
                 e->energy.verdict != EB_VERDICT_IMPROVED)
            rep->not_comparable++;
        else if (compare_entry_improved(e))
            rep->improved++;
        else
            rep->unchanged++;
    }
    return 0;
}

void eb_compare_report_free(eb_compare_report *rep)
{
    free(rep->entries);
    rep->entries = NULL;
    rep->n = 0;
}

int eb_compare_parse_percent(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    if (*end == '%')
        end++;
    if (*end)
        return -1;
    *out = v / 100;
    return 0;
}
