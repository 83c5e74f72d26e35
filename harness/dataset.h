/* Datasets: what a scenario's dataset.idx{} / dataset.npy{} / dataset.csv{} / dataset.random{}
 * describes (eb_dataset_spec), and the samples loaded from it (eb_dataset): float32 features
 * after preprocessing, plus integer labels when the dataset has them.
 *
 * Preprocessing, in this order: cast to float32, x * scale, (x - mean) / std (scalar, or one
 * value per channel where the channel is axis 0 of the sample shape), reshape, limit.
 * The sample shape that defines channels is the file's own per-sample shape, before reshape
 * (an N x 3 x 32 x 32 .npy has 3 channels; a 28 x 28 IDX image has 28 "channels" of rows, so
 * give IDX images a scalar mean/std).  Reshape must keep the element count; one dimension may
 * be -1 and is inferred, as in numpy.  Limit keeps the first N samples.  n_classes is taken
 * over all labels in the file, before limit, so it does not depend on the subset.
 */
#ifndef EB_DATASET_H
#define EB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tensor.h"

#define EB_MAX_CHANNELS 16

typedef enum eb_dataset_kind {
    EB_DATASET_NONE = 0,
    EB_DATASET_IDX,    /* images + labels in MNIST's IDX format, optionally gzip'd */
    EB_DATASET_NPY,    /* x.npy (N x ...) + optional y.npy (N) integer labels */
    EB_DATASET_CSV,    /* one sample per row: feature columns + a label column */
    EB_DATASET_RANDOM, /* uniform [0,1) samples of `shape`, no labels: latency-only runs */
} eb_dataset_kind;

typedef struct eb_dataset_spec {
    eb_dataset_kind kind;
    char *name;       /* optional, for messages and results */
    char *images;     /* idx */
    char *labels;     /* idx (optional) */
    char *x, *y;      /* npy (y optional) */
    char *path;       /* csv */
    char *label_column; /* csv: header name or 0-based index as text; NULL: last column */
    int header;       /* csv: 1 if the first row names the columns (default 1) */
    int ndim;         /* random: per-sample shape */
    int64_t shape[EB_MAX_DIMS];
    long count;       /* random: number of samples (default 64) */
    uint64_t seed;    /* random (default 1) */
    double scale;     /* default 1 */
    int n_mean, n_std; /* 0 (none), 1 (scalar) or one per channel */
    double mean[EB_MAX_CHANNELS], std[EB_MAX_CHANNELS];
    int reshape_ndim; /* 0: keep the file's per-sample shape */
    int64_t reshape[EB_MAX_DIMS];
    long limit;       /* 0: all samples */
} eb_dataset_spec;

typedef struct eb_dataset {
    size_t n;                    /* samples */
    int ndim;                    /* per-sample shape (batch excluded) */
    int64_t shape[EB_MAX_DIMS];
    size_t sample_numel;
    float *x;                    /* n * sample_numel, preprocessed */
    int32_t *labels;             /* n labels, or NULL when unlabeled */
    int n_classes;               /* 1 + largest label, 0 when unlabeled */
} eb_dataset;

/* Initialises a spec with the defaults above (scale 1, header 1, count 64, seed 1). */
void eb_dataset_spec_init(eb_dataset_spec *s);
void eb_dataset_spec_free(eb_dataset_spec *s);

/* Loads and preprocesses.  Messages name the file and what is wrong with it. */
int eb_dataset_load(const eb_dataset_spec *s, eb_dataset *d, eb_err *err);
void eb_dataset_free(eb_dataset *d);

/* Per-format readers used by eb_dataset_load (raw values as float32, before preprocessing). */
int eb_idx_read(const char *path, eb_tensor *out, eb_err *err); /* float32 tensor, N x ... */
int eb_idx_read_labels(const char *path, int32_t **labels, size_t *n, eb_err *err);
int eb_csv_read(const char *path, const char *label_column, int header, eb_tensor *x,
                int32_t **labels, eb_err *err);
/* x.npy of any numeric dtype as a float32 tensor, N x ... */
int eb_npy_read_f32(const char *path, eb_tensor *out, eb_err *err);
/* y.npy: integer (or integral float) labels of shape N or N x 1. */
int eb_npy_read_labels(const char *path, int32_t **labels, size_t *n, eb_err *err);
/* s->count samples of s->shape, uniform in [0,1), deterministic from s->seed. */
int eb_random_generate(const eb_dataset_spec *s, eb_tensor *out, eb_err *err);

/* Helpers the readers share.  eb_tensor_to_f32 converts t (owning its data) in place;
 * eb_labels_from_tensor converts an integer (or integral float) tensor of shape N or N x 1
 * to int32, naming `path` in its messages. */
int eb_tensor_to_f32(eb_tensor *t, eb_err *err);
int eb_labels_from_tensor(const eb_tensor *t, const char *path, int32_t **labels, size_t *n,
                          eb_err *err);

#endif
