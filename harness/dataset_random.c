/* dataset.random{}: uniform [0,1) float32 samples for latency-only runs, the same on every
 * machine for a given seed (splitmix64, which needs no state beyond one 64-bit word and
 * passes BigCrush; rand() differs between C libraries). */
#include "dataset.h"

#include <stdlib.h>

static uint64_t random_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int eb_random_generate(const eb_dataset_spec *s, eb_tensor *out, eb_err *err)
{
    out->name = NULL;
    out->data = NULL;
    if (s->ndim < 1 || s->ndim >= EB_MAX_DIMS)
        return eb_errf(err, "dataset.random: 'shape' must have 1 to %d dimensions, e.g. "
                            "shape = {1, 28, 28}", EB_MAX_DIMS - 1);
    if (s->count <= 0)
        return eb_errf(err, "dataset.random: count is %ld; it must be 1 or more", s->count);
    out->dtype = EB_F32;
    out->ndim = s->ndim + 1;
    out->shape[0] = s->count;
    size_t n = (size_t)s->count;
    for (int i = 0; i < s->ndim; i++) {
        if (s->shape[i] <= 0)
            return eb_errf(err, "dataset.random: shape[%d] is %lld; dimensions must be 1 or "
                                "more", i + 1, (long long)s->shape[i]);
        if ((size_t)s->shape[i] > SIZE_MAX / sizeof(float) / n)
            return eb_errf(err, "dataset.random: %ld samples of this shape do not fit in "
                                "memory", s->count);
        out->shape[i + 1] = s->shape[i];
        n *= (size_t)s->shape[i];
    }
    float *x = malloc(n * sizeof *x);
    if (!x)
        return eb_errf(err, "dataset.random: out of memory for %zu values; lower count", n);
    uint64_t state = s->seed;
    /* The top 24 bits make every float32 in [0,1) a multiple of 2^-24: exact, never 1.0. */
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(random_splitmix64(&state) >> 40) * (1.0f / 16777216.0f);
    out->data = x;
    return 0;
}
