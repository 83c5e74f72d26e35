/* Fidelity: how closely a variant's outputs follow its base's on the same inputs.
 *
 * Both sides are the first output's values per sample (`width` floats each) from the accuracy
 * pass, samples in dataset order.  Over the first min(n_a, n_b) samples:
 *   agreement_top1  share of samples whose arg-max (first of equal maxima; NaN never wins)
 *                   equals the base's
 *   max_abs_diff    largest |a - base| over every value of those samples
 *   mean_abs_diff   mean |a - base| over every value of those samples
 * The diffs need equal widths (NaN otherwise); agreement compares class indices, so it is
 * computed whatever the widths.
 */
#ifndef EB_FIDELITY_H
#define EB_FIDELITY_H

#include <stddef.h>

typedef struct eb_fidelity {
    double agreement_top1, max_abs_diff, mean_abs_diff;
    long samples; /* compared */
} eb_fidelity;

/* The arg-max of x[0..n): the first index of the largest value, ignoring NaN; 0 when n == 0
 * or every value is NaN. */
size_t eb_fidelity_argmax(const float *x, size_t n);

/* Compares a (n_a samples of width_a) with base (n_b of width_b).  Returns -1 (out filled
 * with NaN, samples 0) when there is nothing to compare: no samples or a zero width. */
int eb_fidelity_compare(const float *a, size_t n_a, size_t width_a, const float *base,
                        size_t n_b, size_t width_b, eb_fidelity *out);

/* A stable topological order of variants by base: order[] receives indices 0..n-1 so that
 * every base comes before the variants naming it, otherwise in declaration order.
 * base_of[i] is the index of variant i's base, or -1.  Returns 0, or -1 when the bases form
 * a cycle; then *cycle_at is a variant on the cycle. */
int eb_fidelity_order(const long *base_of, size_t n, size_t *order, size_t *cycle_at);

#endif
