/* Step changes in a history of runs by binary segmentation (see compare.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

typedef struct ch_ctx {
    const double *const *runs;
    const size_t *n;
    double threshold, alpha;
    double *left, *right, *scratch; /* room for every sample of the history */
    eb_step *steps;
    size_t max, count;
} ch_ctx;

/* Copies the samples of runs [lo, hi) into out; returns their count. */
static size_t ch_pool(const ch_ctx *c, size_t lo, size_t hi, double *out)
{
    size_t k = 0;
    for (size_t i = lo; i < hi; i++) {
        memcpy(out + k, c->runs[i], c->n[i] * sizeof *out);
        k += c->n[i];
    }
    return k;
}

static double ch_median(const ch_ctx *c, const double *x, size_t n)
{
    memcpy(c->scratch, x, n * sizeof *x);
    return eb_compare_median_inplace(c->scratch, n);
}

static void ch_segment(ch_ctx *c, size_t lo, size_t hi, int depth)
{
    if (hi - lo < 2 || c->count >= c->max || depth > 32)
        return;
    size_t best = 0;
    double best_score = -1, best_before = NAN, best_after = NAN;
    for (size_t k = lo + 1; k < hi; k++) {
        size_t nl = ch_pool(c, lo, k, c->left), nr = ch_pool(c, k, hi, c->right);
        if (nl == 0 || nr == 0)
            continue;
        double before = ch_median(c, c->left, nl), after = ch_median(c, c->right, nr);
        if (!(before > 0) || !(after > 0))
            continue;
        /* weighted by the segments' sizes in runs, as binary segmentation's CUSUM is: a
         * lone run at either end must not win by its own noise */
        double kl = (double)(k - lo), kr = (double)(hi - k);
        double score = fabs(log(after / before)) * sqrt(kl * kr / (kl + kr));
        if (score > best_score) {
            best_score = score;
            best = k;
            best_before = before;
            best_after = after;
        }
    }
    if (best_score < 0 || !(fabs(best_after / best_before - 1) > c->threshold))
        return;
    size_t nl = ch_pool(c, lo, best, c->left), nr = ch_pool(c, best, hi, c->right);
    double p = eb_compare_mann_whitney(c->left, nl, c->right, nr);
    if (!(p < c->alpha))
        return;
    c->steps[c->count++] = (eb_step){best, best_before, best_after, p};
    ch_segment(c, lo, best, depth + 1);
    ch_segment(c, best, hi, depth + 1);
}

static int ch_step_cmp(const void *pa, const void *pb)
{
    size_t a = ((const eb_step *)pa)->at, b = ((const eb_step *)pb)->at;
    return (a > b) - (a < b);
}

int eb_compare_steps(const double *const *runs, const size_t *n, size_t m, double threshold,
                     double alpha, eb_step *steps, size_t max, size_t *n_steps, eb_err *err)
{
    *n_steps = 0;
    size_t total = 0;
    for (size_t i = 0; i < m; i++)
        total += n[i];
    if (m < 2 || total == 0 || max == 0)
        return 0;
    ch_ctx c = {runs, n, threshold, alpha, malloc(total * sizeof(double)),
                malloc(total * sizeof(double)), malloc(total * sizeof(double)), steps, max, 0};
    if (!c.left || !c.right || !c.scratch) {
        free(c.left), free(c.right), free(c.scratch);
        return eb_errf(err, "history: out of memory for %zu samples", total);
    }
    ch_segment(&c, 0, m, 0);
    free(c.left), free(c.right), free(c.scratch);
    qsort(steps, c.count, sizeof *steps, ch_step_cmp);
    *n_steps = c.count;
    return 0;
}
