/* Fidelity against a base (see fidelity.h). */
#include "fidelity.h"

#include <math.h>
#include <stdlib.h>

size_t eb_fidelity_argmax(const float *x, size_t n)
{
    size_t best = 0;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        if (!found || x[i] > x[best]) {
            best = i;
            found = 1;
        }
    }
    return best;
}

int eb_fidelity_compare(const float *a, size_t n_a, size_t width_a, const float *base,
                        size_t n_b, size_t width_b, eb_fidelity *out)
{
    size_t n = n_a < n_b ? n_a : n_b;
    *out = (eb_fidelity){NAN, NAN, NAN, 0};
    if (n == 0 || width_a == 0 || width_b == 0 || !a || !base)
        return -1;
    size_t agree = 0;
    for (size_t i = 0; i < n; i++)
        agree += eb_fidelity_argmax(a + i * width_a, width_a) ==
                 eb_fidelity_argmax(base + i * width_b, width_b);
    out->agreement_top1 = (double)agree / (double)n;
    out->samples = (long)n;
    if (width_a != width_b)
        return 0;
    double max = 0, sum = 0;
    size_t count = n * width_a;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)a[i] - (double)base[i]);
        if (isnan(d)) /* a NaN on one side only is as far apart as values get */
            d = isnan(a[i]) && isnan(base[i]) ? 0 : INFINITY;
        if (d > max)
            max = d;
        sum += d;
    }
    out->max_abs_diff = max;
    out->mean_abs_diff = sum / (double)count;
    return 0;
}

int eb_fidelity_order(const long *base_of, size_t n, size_t *order, size_t *cycle_at)
{
    char *placed = calloc(n ? n : 1, 1);
    size_t done = 0;
    if (!placed)
        return -1;
    while (done < n) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++)
            if (!placed[i] && (base_of[i] < 0 || (size_t)base_of[i] >= n ||
                               placed[base_of[i]]))
                pick = i;
        if (pick == n) {
            /* Every unplaced variant waits on another: follow bases from the first one until
             * a variant repeats, which is on the cycle. */
            size_t i = 0;
            while (placed[i])
                i++;
            for (size_t step = 0; step < n; step++)
                i = (size_t)base_of[i];
            if (cycle_at)
                *cycle_at = i;
            free(placed);
            return -1;
        }
        placed[pick] = 1;
        order[done++] = pick;
    }
    free(placed);
    return 0;
}
