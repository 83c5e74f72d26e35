#include "feed.h"

#include <stdlib.h>
#include <string.h>

/* splitmix64: a tiny seeded generator, so random inputs are the same in every run. */
static uint64_t feed_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void feed_random(eb_tensor *t, uint64_t seed)
{
    size_t n = eb_tensor_numel(t);
    if (t->dtype == EB_F32) {
        float *x = t->data;
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(feed_next(&seed) >> 40) / (float)(1 << 24);
    } else {
        memset(t->data, 0, eb_tensor_bytes(t));
    }
}

int eb_feed_init(eb_feed *f, const eb_io *io, const eb_dataset *data, int batch, eb_err *err)
{
    memset(f, 0, sizeof *f);
    f->data = data;
    f->batch = (size_t)batch;
    f->n_inputs = io->n_inputs;
    if (io->n_inputs == 0)
        return eb_errf(err, "the model has no inputs");
    for (size_t i = 0; i < io->n_inputs; i++) {
        if (eb_tensor_numel(&io->inputs[i]) == 0) {
            char s[96];
            return eb_errf(err, "input '%s' has an unbound shape %s", io->inputs[i].name,
                           eb_shape_str(&io->inputs[i], s, sizeof s));
        }
    }
    if (data) {
        const eb_tensor *in = &io->inputs[0];
        size_t per_sample = eb_tensor_numel(in) / f->batch;
        if (io->n_inputs != 1)
            return eb_errf(err, "the model has %zu inputs but a dataset feeds one; use a model "
                                "with one input or no dataset (random inputs)",
                           io->n_inputs);
        if (in->dtype != EB_F32)
            return eb_errf(err, "input '%s' is %s; datasets feed float32", in->name,
                           eb_dtype_name(in->dtype));
        if (in->ndim < 1 || in->shape[0] != batch || per_sample != data->sample_numel) {
            char ms[96], ds[96];
            eb_tensor d = {.ndim = data->ndim};
            memcpy(d.shape, data->shape, sizeof d.shape);
            return eb_errf(err,
                           "input '%s' expects %s (batch %d) but dataset samples are %s (%zu "
                           "values); fix the dataset's reshape or use the model it was made for",
                           in->name, eb_shape_str(in, ms, sizeof ms), batch,
                           eb_shape_str(&d, ds, sizeof ds), data->sample_numel);
        }
        if (data->n == 0)
            return eb_errf(err, "the dataset has no samples");
    }
    /* Without a dataset one random batch is enough; with one, distinct batches defeat a
     * backend that would cache by input. */
    f->n_slots = data ? (data->n / f->batch < EB_FEED_SLOTS ? data->n / f->batch : EB_FEED_SLOTS)
                      : 1;
    if (f->n_slots == 0)
        f->n_slots = 1;
    for (size_t s = 0; s < f->n_slots; s++) {
        for (size_t i = 0; i < io->n_inputs; i++) {
            eb_tensor *t = &f->slots[s][i];
            *t = io->inputs[i];
            t->data = calloc(1, eb_tensor_bytes(t) ? eb_tensor_bytes(t) : 1);
            if (!t->data) {
                eb_feed_free(f);
                return eb_errf(err, "out of memory for input batches");
            }
            if (!data)
                feed_random(t, 0x5eedull + i);
        }
        if (data)
            eb_feed_fill(f, s, s * f->batch);
    }
    return 0;
}

void eb_feed_fill(eb_feed *f, size_t slot, size_t first)
{
    const eb_dataset *d = f->data;
    float *dst = f->slots[slot][0].data;
    if (!d)
        return;
    for (size_t b = 0; b < f->batch; b++) {
        size_t idx = (first + b) % d->n;
        memcpy(dst + b * d->sample_numel, d->x + idx * d->sample_numel,
               d->sample_numel * sizeof(float));
    }
}

void eb_feed_free(eb_feed *f)
{
    for (size_t s = 0; s < EB_FEED_SLOTS; s++)
        for (size_t i = 0; i < EB_MAX_IO; i++)
            eb_tensor_free(&f->slots[s][i]);
    f->n_slots = 0;
}
