/* Datasets: IDX (plain and gzip'd, every element type, truncation), NPY and CSV datasets,
 * random samples, and the preprocessing chain (scale, mean/std, reshape, limit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"
#include "npy.h"

#define DATASET_FM_DIR "/usr/share/datasets/fashion-mnist/"

static const char *dataset_fixture(const char *name, char *buf, size_t n)
{
    const char *f = __FILE__, *slash = strrchr(f, '/');
    if (slash)
        snprintf(buf, n, "%.*s/../data/datasets/%s", (int)(slash - f), f, name);
    else
        snprintf(buf, n, "../data/datasets/%s", name);
    return buf;
}

static int dataset_setup_tmp(void **state)
{
    char *dir = strdup("/tmp/eb_test_dataset_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int dataset_teardown_tmp(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

/* Writes an IDX file: header for `type` and dims, then `data` (already big-endian). */
static void dataset_write_idx(const char *path, int gz, unsigned char type, int ndim,
                              const uint32_t *dims, const void *data, size_t bytes)
{
    unsigned char hdr[4 + 4 * 8] = {0, 0, type, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++) {
        hdr[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        hdr[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        hdr[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        hdr[7 + 4 * i] = (unsigned char)dims[i];
    }
    size_t hl = 4 + 4 * (size_t)ndim;
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, hdr, (unsigned)hl), (int)hl);
        if (bytes)
            assert_int_equal(gzwrite(g, data, (unsigned)bytes), (int)bytes);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(hdr, 1, hl, f), hl);
        if (bytes)
            assert_int_equal(fwrite(data, 1, bytes, f), bytes);
        fclose(f);
    }
}

static void dataset_expect_error(const eb_dataset_spec *s, const char *needle1,
                                 const char *needle2)
{
    eb_dataset d;
    eb_err err = {{0}};
    assert_int_equal(eb_dataset_load(s, &d, &err), -1);
    assert_null(d.x);
    assert_null(d.labels);
    if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, needle1,
                 needle2 ? needle2 : "");
    assert_null(strchr(err.msg, '\n'));
}

static void test_spec_defaults(void **state)
{
    (void)state;
    eb_dataset_spec s;
    memset(&s, 0x7f, sizeof s);
    eb_dataset_spec_init(&s);
    assert_int_equal(s.kind, EB_DATASET_NONE);
    assert_null(s.images);
    assert_int_equal(s.header, 1);
    assert_int_equal(s.count, 64);
    assert_int_equal(s.seed, 1);
    assert_float_equal(s.scale, 1.0, 0);
    assert_int_equal(s.limit, 0);
    assert_int_equal(s.n_mean, 0);
    assert_int_equal(s.reshape_ndim, 0);
    s.images = strdup("x");
    s.label_column = strdup("y");
    eb_dataset_spec_free(&s);
    assert_null(s.images);
    assert_null(s.label_column);
}

static void test_idx_u8_images_and_gz_labels(void **state)
{
    char ip[512], lp[512];
    snprintf(ip, sizeof ip, "%s/img-idx3-ubyte", (char *)*state);
    snprintf(lp, sizeof lp, "%s/lab-idx1-ubyte.gz", (char *)*state);
    unsigned char px[3 * 2 * 2];
    for (int i = 0; i < 12; i++)
        px[i] = (unsigned char)(i * 20);
    uint32_t idims[] = {3, 2, 2}, ldims[] = {3};
    unsigned char lab[] = {4, 0, 2};
    dataset_write_idx(ip, 0, 0x08, 3, idims, px, sizeof px);
    dataset_write_idx(lp, 1, 0x08, 1, ldims, lab, sizeof lab);

    eb_dataset_spec s;
    eb_dataset_spec_init(&s);
    s.kind = EB_DATASET_IDX;
    s.images = strdup(ip);
    s.labels = strdup(lp);
    s.scale = 1.0 / 255;
    s.n_mean = s.n_std = 1;
    s.mean[0] = 0.5;
    s.std[0] = 0.25;
    s.reshape_ndim = 3;
    s.reshape[0] = 1;
    s.reshape[1] = 2;
    s.reshape[2] = 2;
    eb_dataset d;
    eb_err err = {{0}};
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.ndim, 3);
    assert_int_equal(d.shape[0], 1);
    assert_int_equal(d.shape[1], 2);
    assert_int_equal(d.shape[2], 2);
    assert_int_equal(d.sample_numel, 4);
    assert_int_equal(d.n_classes, 5);
    assert_int_equal(d.labels[0], 4);
    assert_int_equal(d.labels[2], 2);
    for (int i = 0; i < 12; i++)
        assert_float_equal(d.x[i], ((i * 20) / 255.0 - 0.5) / 0.25, 1e-5);
    eb_dataset_free(&d);
    assert_null(d.x);

    /* Limit keeps the first samples; n_classes still covers the whole label file. */
    s.limit = 2;
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_classes, 5);
    assert_float_equal(d.x[7], ((7 * 20) / 255.0 - 0.5) / 0.25, 1e-5);
    eb_dataset_free(&d);

    /* Counts must agree. */
    unsigned char lab4[] = {1, 2, 3, 4};
    uint32_t l4[] = {4};
    dataset_write_idx(lp, 1, 0x08, 1, l4, lab4, sizeof lab4);
    dataset_expect_error(&s, "3 samples but 4 labels", "lab-idx1-ubyte.gz");
    eb_dataset_spec_free(&s);
}

static void test_idx_element_types(void **state)
{
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};
    snprintf(p, sizeof p, "%s/t.idx", (char *)*state);

    /* int16 big-endian: -2, 258 */
    unsigned char i16[] = {0xff, 0xfe, 0x01, 0x02};
    uint32_t d2[] = {2};
    dataset_write_idx(p, 0, 0x0B, 1, d2, i16, sizeof i16);
    assert_int_equal(eb_idx_read(p, &t, &err), 0);
    assert_int_equal(t.dtype, EB_F32);
    assert_int_equal(t.ndim, 1);
    assert_float_equal(((float *)t.data)[0], -2.0f, 0);
    assert_float_equal(((float *)t.data)[1], 258.0f, 0);
    eb_tensor_free(&t);

    /* int32: -100000, int8: -3, 4 */
    unsigned char i32[] = {0xff, 0xfe, 0x79, 0x60};
    uint32_t d1[] = {1};
    dataset_write_idx(p, 1, 0x0C, 1, d1, i32, sizeof i32);
    assert_int_equal(eb_idx_read(p, &t, &err), 0);
    assert_float_equal(((float *)t.data)[0], -100000.0f, 0);
    eb_tensor_free(&t);
    unsigned char i8[] = {0xfd, 0x04};
    dataset_write_idx(p, 0, 0x09, 1, d2, i8, sizeof i8);
    assert_int_equal(eb_idx_read(p, &t, &err), 0);
    assert_float_equal(((float *)t.data)[0], -3.0f, 0);
    assert_float_equal(((float *)t.data)[1], 4.0f, 0);
    eb_tensor_free(&t);

    /* float32 1.5 = 0x3fc00000 and float64 -0.25 = 0xbfd0000000000000, in a 4-d shape */
    unsigned char f32[] = {0x3f, 0xc0, 0, 0};
    uint32_t d4[] = {1, 1, 1, 1};
    dataset_write_idx(p, 0, 0x0D, 4, d4, f32, sizeof f32);
    assert_int_equal(eb_idx_read(p, &t, &err), 0);
    assert_int_equal(t.ndim, 4);
    assert_float_equal(((float *)t.data)[0], 1.5f, 0);
    eb_tensor_free(&t);
    unsigned char f64[] = {0xbf, 0xd0, 0, 0, 0, 0, 0, 0};
    dataset_write_idx(p, 1, 0x0E, 1, d1, f64, sizeof f64);
    assert_int_equal(eb_idx_read(p, &t, &err), 0);
    assert_float_equal(((float *)t.data)[0], -0.25f, 0);
    eb_tensor_free(&t);

    /* Labels from int16, and refused from float. */
    int32_t *lab;
    size_t n;
    dataset_write_idx(p, 0, 0x0B, 1, d2, (unsigned char[]){0, 3, 1, 0}, 4);
    assert_int_equal(eb_idx_read_labels(p, &lab, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(lab[0], 3);
    assert_int_equal(lab[1], 256);
    free(lab);
    dataset_write_idx(p, 0, 0x0D, 1, d1, f32, sizeof f32);
    assert_int_equal(eb_idx_read_labels(p, &lab, &n, &err), -1);
    assert_non_null(strstr(err.msg, "integers"));
}

static void dataset_expect_idx_error(const char *path, const char *needle)
{
    eb_tensor t;
    eb_err err = {{0}};
    assert_int_equal(eb_idx_read(path, &t, &err), -1);
    assert_null(t.data);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
        fail_msg("message \"%s\" lacks \"%s\" or the path", err.msg, needle);
    assert_null(strchr(err.msg, '\n'));
}

static void test_idx_bad_files(void **state)
{
    char p[512];
    snprintf(p, sizeof p, "%s/bad.idx.gz", (char *)*state);
    unsigned char px[2 * 28 * 28] = {0};
    /* Header says 10000 images, the data holds 2: plain and gzip'd. */
    uint32_t dims[] = {10000, 28, 28};
    dataset_write_idx(p, 1, 0x08, 3, dims, px, sizeof px);
    dataset_expect_idx_error(p, "truncated");
    dataset_expect_idx_error(p, "10000x28x28");
    dataset_write_idx(p, 0, 0x08, 3, dims, px, sizeof px);
    dataset_expect_idx_error(p, "truncated");
    /* Absurd: 4 billion x 4 billion x 4 billion must not be allocated. */
    uint32_t huge[] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    dataset_write_idx(p, 0, 0x0E, 3, huge, px, 16);
    dataset_expect_idx_error(p, "large");
    uint32_t big[] = {0x7fffffffu, 4};
    dataset_write_idx(p, 0, 0x0C, 2, big, px, 16);
    dataset_expect_idx_error(p, "truncated");
    /* Header cut short; bad magic; unknown type; empty file. */
    dataset_write_idx(p, 0, 0x08, 3, dims, NULL, 0);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 9), 0);
    fclose(f);
    dataset_expect_idx_error(p, "truncated IDX header");
    f = fopen(p, "wb");
    fputs("hello, world", f);
    fclose(f);
    dataset_expect_idx_error(p, "not an IDX file");
    dataset_write_idx(p, 0, 0x0A, 1, dims, px, 16);
    dataset_expect_idx_error(p, "unknown IDX element type 0x0a");
    f = fopen(p, "wb");
    fclose(f);
    dataset_expect_idx_error(p, "not an IDX file");
    dataset_expect_idx_error("/nonexistent/x.idx", "cannot open");
}

static void test_fashion_mnist_test_split(void **state)
{
    (void)state;
    if (access(DATASET_FM_DIR "t10k-images-idx3-ubyte.gz", R_OK) != 0)
        skip();
    eb_dataset_spec s;
    eb_dataset_spec_init(&s);
    s.kind = EB_DATASET_IDX;
    s.images = strdup(DATASET_FM_DIR "t10k-images-idx3-ubyte.gz");
    s.labels = strdup(DATASET_FM_DIR "t10k-labels-idx1-ubyte.gz");
    s.scale = 1.0 / 255;
    eb_dataset d;
    eb_err err = {{0}};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(d.n, 10000);
    assert_int_equal(d.ndim, 2);
    assert_int_equal(d.shape[0], 28);
    assert_int_equal(d.shape[1], 28);
    assert_int_equal(d.n_classes, 10);
    int seen[10] = {0};
    for (size_t i = 0; i < d.n; i++) {
        assert_true(d.labels[i] >= 0 && d.labels[i] <= 9);
        seen[d.labels[i]]++;
    }
    for (int c = 0; c < 10; c++)
        assert_int_equal(seen[c], 1000); /* the test split is balanced */
    /* Fashion-MNIST's t10k starts with an ankle boot (9), a pullover (2), trousers (1). */
    assert_int_equal(d.labels[0], 9);
    assert_int_equal(d.labels[1], 2);
    assert_int_equal(d.labels[2], 1);
    double sum = 0, mx = 0;
    for (size_t i = 0; i < d.n * d.sample_numel; i++) {
        sum += d.x[i];
        if (d.x[i] > mx)
            mx = d.x[i];
    }
    assert_float_equal(mx, 1.0, 1e-6);
    /* The mean pixel the scenarios use for normalisation (0.2860 on the training split). */
    assert_float_equal(sum / (double)(d.n * d.sample_numel), 0.2865, 0.002);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    print_message("fashion-mnist t10k loaded in %.1f ms\n", ms);
    eb_dataset_free(&d);
    eb_dataset_spec_free(&s);
}

static void test_npy_dataset_and_preprocessing(void **state)
{
    (void)state;
    char p[512];
    eb_dataset_spec s;
    eb_dataset_spec_init(&s);
    s.kind = EB_DATASET_NPY;
    s.x = strdup(dataset_fixture("tiny_x.npy", p, sizeof p));
    s.y = strdup(dataset_fixture("tiny_y.npy", p, sizeof p));
    /* Per-channel (axis 0 of the 2 x 3 sample): channel 0 (x - 1) / 2, channel 1 (x - 2) / 4 */
    s.n_mean = s.n_std = 2;
    s.mean[0] = 1;
    s.mean[1] = 2;
    s.std[0] = 2;
    s.std[1] = 4;
    eb_dataset d;
    eb_err err = {{0}};
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.ndim, 2);
    assert_int_equal(d.shape[0], 2);
    assert_int_equal(d.shape[1], 3);
    assert_int_equal(d.n_classes, 3);
    assert_int_equal(d.labels[1], 2);
    for (int i = 0; i < 24; i++) {
        int c = (i / 3) % 2;
        double want = c == 0 ? (i - 1) / 2.0 : (i - 2) / 4.0;
        assert_float_equal(d.x[i], want, 1e-6);
    }
    eb_dataset_free(&d);

    /* Reshape with an inferred dimension, after normalisation; scale before mean. */
    s.n_mean = 1;
    s.n_std = 0;
    s.mean[0] = 1;
    s.scale = 2;
    s.reshape_ndim = 2;
    s.reshape[0] = 3;
    s.reshape[1] = -1;
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.ndim, 2);
    assert_int_equal(d.shape[0], 3);
    assert_int_equal(d.shape[1], 2);
    assert_int_equal(d.sample_numel, 6);
    assert_float_equal(d.x[5], 5 * 2 - 1, 1e-6);
    eb_dataset_free(&d);

    /* Reshape that changes the element count: both shapes in the message. */
    s.reshape_ndim = 2;
    s.reshape[0] = 2;
    s.reshape[1] = 2;
    dataset_expect_error(&s, "2x3", "2x2");
    s.reshape_ndim = 0;

    /* Per-channel values that do not match axis 0. */
    s.n_mean = 3;
    dataset_expect_error(&s, "mean has 3 values", "2 channels");
    s.n_mean = 0;
    s.n_std = 1;
    s.std[0] = 0;
    dataset_expect_error(&s, "std value 1 is 0", NULL);
    s.n_std = 0;
    s.limit = -1;
    dataset_expect_error(&s, "limit", NULL);
    s.limit = 0;

    /* x and y of different lengths. */
    free(s.y);
    s.y = strdup(dataset_fixture("dtype_i8.npy", p, sizeof p)); /* 3 labels, one negative */
    dataset_expect_error(&s, "4 samples but 3 labels", NULL);
    free(s.x);
    s.x = strdup(dataset_fixture("dtype_u1.npy", p, sizeof p)); /* 3 scalar samples */
    dataset_expect_error(&s, "label 0 is -1", NULL);
    /* Labels must be integral. */
    free(s.y);
    s.y = strdup(dataset_fixture("tiny_x.npy", p, sizeof p));
    dataset_expect_error(&s, "labels must have shape N", NULL);
    free(s.y);
    s.y = NULL;
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.ndim, 0);
    assert_int_equal(d.sample_numel, 1);
    assert_null(d.labels);
    assert_int_equal(d.n_classes, 0);
    assert_float_equal(d.x[2], 255 * 2, 0); /* scale is still 2 */
    eb_dataset_free(&d);
    eb_dataset_spec_free(&s);
}

static void test_csv_dataset(void **state)
{
    (void)state;
    char p[512];
    eb_dataset_spec s;
    eb_dataset_spec_init(&s);
    s.kind = EB_DATASET_CSV;
    s.path = strdup(dataset_fixture("small.csv", p, sizeof p));
    s.label_column = strdup("species");
    eb_dataset d;
    eb_err err = {{0}};
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.ndim, 1);
    assert_int_equal(d.shape[0], 2);
    static const float want[] = {5.1f, 0.2f, 4.9f, 1.5f, 6.3f, -0.2f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(d.x[i], want[i], 0);
    assert_int_equal(d.labels[0], 0);
    assert_int_equal(d.labels[1], 2);
    assert_int_equal(d.labels[2], 1);
    assert_int_equal(d.n_classes, 3);
    eb_dataset_free(&d);

    /* The same column by index. */
    free(s.label_column);
    s.label_column = strdup("1");
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.labels[1], 2);
    assert_float_equal(d.x[3], 1.5f, 0);
    eb_dataset_free(&d);

    /* The default label column is the last one, whose values are not class ids. */
    free(s.label_column);
    s.label_column = NULL;
    dataset_expect_error(&s, "small.csv:2:3 (\"petal, width\"): label 0.2", NULL);
    s.label_column = strdup("petal");
    dataset_expect_error(&s, "no column named \"petal\"", "\"sepal_length\", \"species\", \"petal, width\"");
    free(s.label_column);
    s.label_column = strdup("3");
    dataset_expect_error(&s, "out of range", NULL);
    free(s.label_column);
    s.label_column = NULL;

    /* No header row: default label is the last column; an index picks another. */
    free(s.path);
    s.path = strdup(dataset_fixture("noheader.csv", p, sizeof p));
    s.header = 0;
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.labels[0], 3);
    assert_int_equal(d.labels[1], 1);
    assert_float_equal(d.x[2], 4.0f, 0);
    assert_int_equal(d.n_classes, 4);
    eb_dataset_free(&d);
    s.label_column = strdup("-3");
    assert_int_equal(eb_dataset_load(&s, &d, &err), 0);
    assert_int_equal(d.labels[1], 4);
    assert_float_equal(d.x[0], 2.0f, 0);
    eb_dataset_free(&d);
    free(s.label_column);
    s.label_column = NULL;
    s.header = 1;

    free(s.path);
    s.path = strdup(dataset_fixture("bad_number.csv", p, sizeof p));
    dataset_expect_error(&s, "bad_number.csv:3:2 (\"b\"): \"abc\" is not a number", NULL);
    free(s.path);
    s.path = strdup(dataset_fixture("ragged.csv", p, sizeof p));
    dataset_expect_error(&s, "ragged.csv:3: has 2 fields but row 1 has 3", NULL);
    free(s.path);
    s.path = strdup("/nonexistent.csv");
    dataset_expect_error(&s, "/nonexistent.csv: cannot open", NULL);
    eb_dataset_spec_free(&s);
}

static void test_random_dataset(void **state)
{
    (void)state;
    eb_dataset_spec s;
    eb_dataset_spec_init(&s);
    s.kind = EB_DATASET_RANDOM;
    s.ndim = 3;
    s.shape[0] = 1;
    s.shape[1] = 4;
    s.shape[2] = 5;
    s.count = 7;
    s.seed = 1;
    eb_dataset a, b;
    eb_err err = {{0}};
    assert_int_equal(eb_dataset_load(&s, &a, &err), 0);
    assert_int_equal(a.n, 7);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.sample_numel, 20);
    assert_null(a.labels);
    assert_int_equal(a.n_classes, 0);
    /* splitmix64 from seed 1, top 24 bits: the same on every machine (computed in Python). */
    assert_float_equal(a.x[0], 0.5665615200996399, 0);
    assert_float_equal(a.x[1], 0.7457817196846008, 0);
    assert_float_equal(a.x[2], 0.9710026979446411, 0);
    double sum = 0;
    for (size_t i = 0; i < 140; i++) {
        assert_true(a.x[i] >= 0.0f && a.x[i] < 1.0f);
        sum += a.x[i];
    }
    assert_float_equal(sum / 140, 0.5, 0.1);
    assert_int_equal(eb_dataset_load(&s, &b, &err), 0);
    assert_memory_equal(a.x, b.x, 140 * sizeof(float));
    eb_dataset_free(&b);
    s.seed = 2;
    s.scale = 10;
    assert_int_equal(eb_dataset_load(&s, &b, &err), 0);
    assert_memory_not_equal(a.x, b.x, 140 * sizeof(float));
    float mx = 0;
    for (size_t i = 0; i < 140; i++)
        mx = b.x[i] > mx ? b.x[i] : mx;
    assert_true(mx > 1.0f && mx < 10.0f);
    eb_dataset_free(&b);
    eb_dataset_free(&a);

    s.ndim = 0;
    dataset_expect_error(&s, "shape", NULL);
    s.ndim = 1;
    s.shape[0] = 0;
    dataset_expect_error(&s, "shape[1] is 0", NULL);
    s.shape[0] = 3;
    s.count = 0;
    dataset_expect_error(&s, "count is 0", NULL);
    s.kind = EB_DATASET_NONE;
    dataset_expect_error(&s, "unknown kind", NULL);
    s.kind = EB_DATASET_IDX;
    dataset_expect_error(&s, "'images' is required", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_defaults),
        cmocka_unit_test_setup_teardown(test_idx_u8_images_and_gz_labels, dataset_setup_tmp,
                                        dataset_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_idx_element_types, dataset_setup_tmp,
                                        dataset_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_idx_bad_files, dataset_setup_tmp,
                                        dataset_teardown_tmp),
        cmocka_unit_test(test_fashion_mnist_test_split),
        cmocka_unit_test(test_npy_dataset_and_preprocessing),
        cmocka_unit_test(test_csv_dataset),
        cmocka_unit_test(test_random_dataset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
