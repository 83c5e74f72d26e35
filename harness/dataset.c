/* Dataset specs, loading and preprocessing (see dataset.h for the order and its rules).
 * The per-format readers live in dataset_idx.c, dataset_npy.c, dataset_csv.c and
 * dataset_random.c; this file turns their raw N x ... float32 tensor into an eb_dataset. */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eb_dataset_spec_init(eb_dataset_spec *s)
{
    memset(s, 0, sizeof *s);
    s->header = 1;
    s->count = 64;
    s->seed = 1;
    s->scale = 1.0;
}

void eb_dataset_spec_free(eb_dataset_spec *s)
{
    free(s->name);
    free(s->images);
    free(s->labels);
    free(s->x);
    free(s->y);
    free(s->path);
    free(s->label_column);
    s->name = s->images = s->labels = s->x = s->y = s->path = s->label_column = NULL;
}

void eb_dataset_free(eb_dataset *d)
{
    free(d->x);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

int eb_tensor_to_f32(eb_tensor *t, eb_err *err)
{
    if (t->dtype == EB_F32)
        return 0;
    size_t n = eb_tensor_numel(t);
    float *y = malloc(n ? n * sizeof *y : 1);
    if (!y)
        return eb_errf(err, "out of memory converting %zu values to float32", n);
    const void *x = t->data;
    /* One loop per source type: the compiler vectorises each, and 10k images convert in
     * a few milliseconds. */
#define TO_F32(type)                                                                           \
    for (size_t i = 0; i < n; i++)                                                             \
        y[i] = (float)((const type *)x)[i];                                                    \
    break
    switch (t->dtype) {
    case EB_F64: TO_F32(double);
    case EB_I8: TO_F32(int8_t);
    case EB_U8: TO_F32(uint8_t);
    case EB_I16: TO_F32(int16_t);
    case EB_I32: TO_F32(int32_t);
    case EB_I64: TO_F32(int64_t);
    case EB_BOOL: TO_F32(uint8_t);
    default:
        free(y);
        return eb_errf(err, "cannot convert %s to float32", eb_dtype_name(t->dtype));
    }
#undef TO_F32
    free(t->data);
    t->data = y;
    t->dtype = EB_F32;
    return 0;
}

int eb_labels_from_tensor(const eb_tensor *t, const char *path, int32_t **labels, size_t *n,
                          eb_err *err)
{
    char sb[128];
    *labels = NULL;
    *n = 0;
    if (!(t->ndim == 1 || (t->ndim == 2 && t->shape[1] == 1)))
        return eb_errf(err, "%s: labels must have shape N or N x 1, not %s", path,
                       eb_shape_str(t, sb, sizeof sb));
    size_t count = (size_t)t->shape[0];
    int32_t *out = malloc(count ? count * sizeof *out : 1);
    if (!out)
        return eb_errf(err, "%s: out of memory for %zu labels", path, count);
    for (size_t i = 0; i < count; i++) {
        double v;
        switch (t->dtype) {
        case EB_F32: v = ((const float *)t->data)[i]; break;
        case EB_F64: v = ((const double *)t->data)[i]; break;
        case EB_I8: v = ((const int8_t *)t->data)[i]; break;
        case EB_U8: v = ((const uint8_t *)t->data)[i]; break;
        case EB_I16: v = ((const int16_t *)t->data)[i]; break;
        case EB_I32: v = ((const int32_t *)t->data)[i]; break;
        case EB_I64: v = (double)((const int64_t *)t->data)[i]; break;
        case EB_BOOL: v = ((const uint8_t *)t->data)[i]; break;
        default:
            free(out);
            return eb_errf(err, "%s: labels of dtype %s are not supported", path,
                           eb_dtype_name(t->dtype));
        }
        if (!(v == floor(v)) || v < INT32_MIN || v > INT32_MAX) {
            free(out);
            return eb_errf(err, "%s: label %zu is %g, not an integer class id", path, i, v);
        }
        out[i] = (int32_t)v;
    }
    *labels = out;
    *n = count;
    return 0;
}

/* The file the samples come from, for messages. */
static const char *dataset_source(const eb_dataset_spec *s)
{
    const char *src = NULL;
    switch (s->kind) {
    case EB_DATASET_IDX: src = s->images; break;
    case EB_DATASET_NPY: src = s->x; break;
    case EB_DATASET_CSV: src = s->path; break;
    default: break;
    }
    return src ? src : s->name ? s->name : "dataset";
}

/* Reads the raw samples (float32, N x ...) and labels of any kind. */
static int dataset_read(const eb_dataset_spec *s, eb_tensor *x, int32_t **labels,
                        size_t *n_labels, eb_err *err)
{
    *labels = NULL;
    *n_labels = 0;
    switch (s->kind) {
    case EB_DATASET_IDX:
        if (!s->images)
            return eb_errf(err, "dataset.idx: 'images' is required (path to an IDX file)");
        if (eb_idx_read(s->images, x, err))
            return -1;
        if (s->labels && eb_idx_read_labels(s->labels, labels, n_labels, err))
            return -1;
        return 0;
    case EB_DATASET_NPY:
        if (!s->x)
            return eb_errf(err, "dataset.npy: 'x' is required (path to a .npy file)");
        if (eb_npy_read_f32(s->x, x, err))
            return -1;
        if (s->y && eb_npy_read_labels(s->y, labels, n_labels, err))
            return -1;
        return 0;
    case EB_DATASET_CSV:
        if (!s->path)
            return eb_errf(err, "dataset.csv: 'path' is required (path to a .csv file)");
        if (eb_csv_read(s->path, s->label_column, s->header, x, labels, err))
            return -1;
        *n_labels = x->ndim ? (size_t)x->shape[0] : 0;
        return 0;
    case EB_DATASET_RANDOM:
        return eb_random_generate(s, x, err);
    default:
        return eb_errf(err, "dataset: unknown kind %d; use dataset.idx, dataset.npy, "
                            "dataset.csv or dataset.random", (int)s->kind);
    }
}

/* (x - mean) / std on n samples of the file's sample shape (channels on its axis 0). */
static int dataset_normalize(const eb_dataset_spec *s, const char *src, float *x, size_t n,
                             const eb_tensor *raw, size_t numel, eb_err *err)
{
    if (s->n_mean == 0 && s->n_std == 0)
        return 0;
    size_t channels = raw->ndim > 1 ? (size_t)raw->shape[1] : 1;
    char sb[128];
    eb_tensor sample = *raw;
    sample.ndim = raw->ndim - 1;
    memmove(sample.shape, raw->shape + 1, (size_t)sample.ndim * sizeof sample.shape[0]);
    eb_shape_str(&sample, sb, sizeof sb);
    if (s->n_mean < 0 || s->n_mean > EB_MAX_CHANNELS || s->n_std < 0 ||
        s->n_std > EB_MAX_CHANNELS)
        return eb_errf(err, "%s: mean/std must have 1 to %d values", src, EB_MAX_CHANNELS);
    if (s->n_mean > 1 && (size_t)s->n_mean != channels)
        return eb_errf(err,
                       "%s: mean has %d values but samples (shape %s) have %zu channels on "
                       "axis 0; give one value per channel or a single number",
                       src, s->n_mean, sb, channels);
    if (s->n_std > 1 && (size_t)s->n_std != channels)
        return eb_errf(err,
                       "%s: std has %d values but samples (shape %s) have %zu channels on "
                       "axis 0; give one value per channel or a single number",
                       src, s->n_std, sb, channels);
    for (int i = 0; i < s->n_std; i++)
        if (!(s->std[i] != 0) || !isfinite(s->std[i]))
            return eb_errf(err, "%s: std value %d is %g; it must be a nonzero number", src,
                           i + 1, s->std[i]);

    size_t inner = channels ? numel / channels : 0;
    for (size_t c = 0; c < channels; c++) {
        float m = s->n_mean == 0 ? 0.0f : (float)s->mean[s->n_mean == 1 ? 0 : c];
        /* Multiply by the reciprocal computed in double: one rounding, like numpy's float32
         * (x - m) / s to within an ulp, and a multiply in the loop. */
        float inv = s->n_std == 0 ? 1.0f : (float)(1.0 / s->std[s->n_std == 1 ? 0 : c]);
        for (size_t i = 0; i < n; i++) {
            float *p = x + i * numel + c * inner;
            for (size_t j = 0; j < inner; j++)
                p[j] = (p[j] - m) * inv;
        }
    }
    return 0;
}

/* Applies the spec's reshape to the per-sample shape; keeps the element count. */
static int dataset_reshape(const eb_dataset_spec *s, const char *src, eb_dataset *d,
                           eb_err *err)
{
    if (s->reshape_ndim == 0)
        return 0;
    if (s->reshape_ndim < 0 || s->reshape_ndim > EB_MAX_DIMS)
        return eb_errf(err, "%s: reshape must have 1 to %d dimensions", src, EB_MAX_DIMS);
    eb_tensor from = {.dtype = EB_F32, .ndim = d->ndim}, to = {.dtype = EB_F32};
    memcpy(from.shape, d->shape, sizeof from.shape);
    to.ndim = s->reshape_ndim;
    memcpy(to.shape, s->reshape, sizeof to.shape);
    int infer = -1;
    size_t known = 1;
    int bad = 0;
    for (int i = 0; i < to.ndim; i++) {
        if (to.shape[i] == -1 && infer < 0)
            infer = i;
        else if (to.shape[i] <= 0)
            bad = 1;
        else
            known *= (size_t)to.shape[i];
    }
    if (!bad && infer >= 0) {
        if (known == 0 || d->sample_numel % known != 0)
            bad = 1;
        else
            to.shape[infer] = (int64_t)(d->sample_numel / known);
    } else if (!bad && known != d->sample_numel) {
        bad = 1;
    }
    if (bad) {
        /* The target as the user wrote it (eb_shape_str would print -1 as "?"). */
        char a[128], b[8 * 24] = "";
        size_t used = 0;
        for (int i = 0; i < s->reshape_ndim && used < sizeof b; i++)
            used += (size_t)snprintf(b + used, sizeof b - used, "%s%lld", i ? "x" : "",
                                     (long long)s->reshape[i]);
        return eb_errf(err,
                       "%s: cannot reshape samples of shape %s (%zu values) to %s; the "
                       "reshape must keep the number of values",
                       src, eb_shape_str(&from, a, sizeof a), d->sample_numel, b);
    }
    d->ndim = to.ndim;
    memcpy(d->shape, to.shape, sizeof d->shape);
    return 0;
}

int eb_dataset_load(const eb_dataset_spec *s, eb_dataset *d, eb_err *err)
{
    memset(d, 0, sizeof *d);
    eb_tensor raw = {0};
    int32_t *labels = NULL;
    size_t n_labels = 0;
    const char *src = dataset_source(s);

    if (dataset_read(s, &raw, &labels, &n_labels, err))
        goto fail;
    if (raw.ndim < 1) {
        eb_errf(err, "%s: samples need a leading sample axis (the file holds a scalar)", src);
        goto fail;
    }
    size_t n = (size_t)raw.shape[0];
    if (labels && n_labels != n) {
        eb_errf(err, "%s: %zu samples but %zu labels (%s); the two files must match", src, n,
                n_labels, s->labels ? s->labels : s->y ? s->y : "labels");
        goto fail;
    }
    if (n == 0) {
        eb_errf(err, "%s: the dataset has no samples", src);
        goto fail;
    }
    if (labels) {
        int32_t max = -1;
        for (size_t i = 0; i < n; i++) {
            if (labels[i] < 0) {
                eb_errf(err, "%s: label %zu is %d; class ids must be 0 or more",
                        s->labels ? s->labels : s->y ? s->y : src, i, (int)labels[i]);
                goto fail;
            }
            if (labels[i] > max)
                max = labels[i];
        }
        d->n_classes = (int)max + 1;
    }

    if (s->limit < 0) {
        eb_errf(err, "%s: limit is %ld; it must be 0 (all samples) or more", src, s->limit);
        goto fail;
    }
    /* Limit is listed last, but each preprocessing step works per sample, so dropping the
     * tail first gives the same result without touching samples we will discard. */
    if (s->limit > 0 && (size_t)s->limit < n)
        n = (size_t)s->limit;

    d->ndim = raw.ndim - 1;
    memcpy(d->shape, raw.shape + 1, (size_t)d->ndim * sizeof d->shape[0]);
    d->sample_numel = 1;
    for (int i = 0; i < d->ndim; i++)
        d->sample_numel *= (size_t)d->shape[i];

    float *x = raw.data;
    size_t total = n * d->sample_numel;
    if (s->scale != 1.0) {
        float sc = (float)s->scale;
        for (size_t i = 0; i < total; i++)
            x[i] *= sc;
    }
    if (dataset_normalize(s, src, x, n, &raw, d->sample_numel, err))
        goto fail;
    if (dataset_reshape(s, src, d, err))
        goto fail;

    /* Give back the memory of the samples beyond the limit. */
    float *shrunk = realloc(raw.data, total ? total * sizeof *x : 1);
    d->x = shrunk ? shrunk : raw.data;
    raw.data = NULL;
    if (labels) {
        int32_t *l = realloc(labels, n * sizeof *labels);
        d->labels = l ? l : labels;
        labels = NULL;
    }
    d->n = n;
    return 0;

fail:
    eb_tensor_free(&raw);
    free(labels);
    eb_dataset_free(d);
    return -1;
}
