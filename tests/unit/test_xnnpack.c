/* xnnpack backend: the zoo against PyTorch's outputs (1e-4 relative), small graphs built for
 * one mapping path each (tests/data/xnnpack/make_models.py) against ref, torchvision's models
 * against PyTorch (1e-3; when build/models exists), clean refusals, options and facts; the
 * int8 QDQ models on XNNPACK's qs8 operators against ref's int8 kernels (every top-1, one
 * output quantum), the dynamic-int8 refusal, sparse=1/force against dense.
 * Every test skips when XNNPACK cannot be loaded here (probe says why). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "ref/ref.h"
#include "../../plugins/xnnpack/xnn_internal.h" /* the session's layout, for one peek */
#include "backend.h" /* harness/backend.h: the registry that loads the plugin */

/* The xnnpack backend is a plugin (plugins/xnnpack/): found the way the harness finds it, in
 * EXEDIR/../lib/edgebench, i.e. build/lib/edgebench beside build/tests/ (`make` builds it). */
static const eb_backend_i *xnnpack_t_be(void)
{
    const eb_backend_i *b = eb_backend_find("xnnpack");
    if (!b)
        fail_msg("no xnnpack backend: build/lib/edgebench/backend-xnnpack.so missing or refused "
                 "(edgebench backends says why); run make");
    return b;
}

static void xnnpack_t_need_library(void)
{
    char why[512];
    if (xnnpack_t_be()->probe(why, sizeof why) != 0) {
        print_message("xnnpack unavailable: %s\n", why);
        skip();
    }
}

typedef struct xnnpack_t_outs {
    size_t n;
    eb_tensor t[EB_MAX_IO];
} xnnpack_t_outs;

/* Opens path on b, runs input in (name taken from the model), returns every output. */
static int xnnpack_t_run(const eb_backend_i *b, const char *path, int threads, const eb_option *opt,
                         size_t n_opt, const eb_tensor *in, xnnpack_t_outs *o, eb_err *err)
{
    eb_model m = {path, "onnx"};
    eb_config c = {.threads = threads, .batch = (int)in->shape[0], .cores = "all",
                   .options = opt, .n_options = n_opt};
    void *s = NULL;
    int rc = b->open(&m, &c, &s, err);
    if (rc)
        return rc;
    eb_io io;
    assert_int_equal(b->io(s, &io), 0);
    assert_int_equal(io.n_inputs, 1);
    eb_tensor x = *in;
    x.name = io.inputs[0].name;
    o->n = io.n_outputs;
    for (size_t i = 0; i < io.n_outputs; i++) {
        o->t[i] = io.outputs[i];
        o->t[i].name = NULL; /* the session's names go with it */
        o->t[i].data = calloc(eb_tensor_numel(&o->t[i]) + 1, sizeof(float));
        assert_non_null(o->t[i].data);
    }
    /* twice: the second run must not depend on state the first left behind */
    rc = b->run(s, &x, 1, o->t, o->n, err) || b->run(s, &x, 1, o->t, o->n, err);
    b->close(s);
    return rc;
}

static void xnnpack_t_free(xnnpack_t_outs *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->t[i].data);
    o->n = 0;
}

/* max |a - b| / max |b|, and asserts that shapes agree. */
static double xnnpack_t_rel(const eb_tensor *a, const eb_tensor *b)
{
    assert_int_equal(a->ndim, b->ndim);
    for (int d = 0; d < a->ndim; d++)
        assert_int_equal(a->shape[d], b->shape[d]);
    const float *x = a->data, *y = b->data;
    double mx = 0, md = 0;
    for (size_t i = 0; i < eb_tensor_numel(b); i++) {
        assert_true(isfinite(x[i]));
        mx = fmax(mx, fabs(y[i]));
        md = fmax(md, fabs((double)x[i] - y[i]));
    }
    return md / (mx > 0 ? mx : 1);
}

/* A model against its reference npy pair. */
static void xnnpack_t_against_npy(const char *model, const char *in_npy, const char *out_npy,
                                  int threads, double tol)
{
    eb_tensor in, want;
    eb_err err = {{0}};
    assert_int_equal(eb_npy_read(in_npy, &in, &err), 0);
    assert_int_equal(eb_npy_read(out_npy, &want, &err), 0);
    xnnpack_t_outs o = {0};
    int rc = xnnpack_t_run(xnnpack_t_be(), model, threads, NULL, 0, &in, &o, &err);
    if (rc)
        fail_msg("%s: %s", model, err.msg);
    double rel = xnnpack_t_rel(&o.t[0], &want);
    if (rel > tol)
        fail_msg("%s at %d threads: max relative error %.3g > %.1g", model, threads, rel, tol);
    xnnpack_t_free(&o);
    eb_tensor_free(&in), eb_tensor_free(&want);
}

static void test_xnnpack_zoo_matches_pytorch(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    for (int threads = 1; threads <= 2; threads++) {
        xnnpack_t_against_npy("models/mlp.onnx", "models/reference/mlp-input.npy",
                              "models/reference/mlp-output.npy", threads, 1e-4);
        xnnpack_t_against_npy("models/cnn.onnx", "models/reference/cnn-input.npy",
                              "models/reference/cnn-output.npy", threads, 1e-4);
    }
}

/* Deterministic input in [-2, 2). */
static eb_tensor xnnpack_t_input(int ndim, const int64_t *shape)
{
    eb_tensor t = {.dtype = EB_F32, .ndim = ndim};
    memcpy(t.shape, shape, (size_t)ndim * sizeof *shape);
    size_t n = eb_tensor_numel(&t);
    float *f = malloc(n * sizeof *f);
    assert_non_null(f);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        f[i] = (float)(s >> 8) / (float)(1u << 24) * 4.0f - 2.0f;
    }
    t.data = f;
    return t;
}

/* Every output of a small graph on xnnpack at `threads` equals ref's. */
static void xnnpack_t_against_ref_t(const char *model, int ndim, const int64_t *shape, int threads)
{
    eb_tensor in = xnnpack_t_input(ndim, shape);
    eb_err err = {{0}};
    xnnpack_t_outs got = {0}, want = {0};
    if (xnnpack_t_run(xnnpack_t_be(), model, threads, NULL, 0, &in, &got, &err))
        fail_msg("%s: %s", model, err.msg);
    if (xnnpack_t_run(&eb_backend_ref, model, 1, NULL, 0, &in, &want, &err))
        fail_msg("ref on %s: %s", model, err.msg);
    assert_int_equal(got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        double rel = xnnpack_t_rel(&got.t[i], &want.t[i]);
        if (rel > 1e-5)
            fail_msg("%s output %zu: max relative error %.3g against ref", model, i, rel);
    }
    xnnpack_t_free(&got), xnnpack_t_free(&want);
    free(in.data);
}

static void xnnpack_t_against_ref(const char *model, int ndim, const int64_t *shape)
{
    xnnpack_t_against_ref_t(model, ndim, shape, 1);
}

/* Partitions and glue nodes of a model as mapped (the session's counts). */
static void xnnpack_t_partitions(const char *model, int batch, int *parts, int *glue,
                                 size_t *copies)
{
    eb_model m = {model, "onnx"};
    eb_config c = {.threads = 1, .batch = batch, .cores = "all"};
    void *s = NULL;
    eb_err err = {{0}};
    if (xnnpack_t_be()->open(&m, &c, &s, &err) != 0)
        fail_msg("%s: %s", model, err.msg);
    *parts = ((const xnn_session *)s)->n_parts;
    *glue = ((const xnn_session *)s)->n_glue;
    *copies = ((const xnn_session *)s)->n_copies;
    xnnpack_t_be()->close(s);
}

static void test_xnnpack_partitions_match_ref(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    for (int threads = 1; threads <= 2; threads++) {
        /* Conv -> Split -> Conv -> Concat (with a value from before the Split) -> Conv */
        xnnpack_t_against_ref_t("tests/data/xnnpack/split_concat.onnx", 4,
                                (int64_t[]){2, 3, 6, 5}, threads);
        /* channel shuffle, a stepped Slice, Transpose to a graph output, Concat on W, Flatten */
        xnnpack_t_against_ref_t("tests/data/xnnpack/transpose.onnx", 4, (int64_t[]){2, 3, 5, 4},
                                threads);
        /* Concat -> channel shuffle written in one pass, then a Split */
        xnnpack_t_against_ref_t("tests/data/xnnpack/shuffle_block.onnx", 4,
                                (int64_t[]){2, 3, 5, 6}, threads);
    }
    int parts, glue;
    size_t copies;
    xnnpack_t_partitions("tests/data/xnnpack/split_concat.onnx", 2, &parts, &glue, &copies);
    assert_int_equal(glue, 2);  /* Split, Concat */
    assert_int_equal(parts, 3); /* Conv | Conv | Conv */
    xnnpack_t_partitions("tests/data/xnnpack/transpose.onnx", 2, &parts, &glue, &copies);
    assert_int_equal(glue, 6);  /* Reshape, Transpose, Reshape, Slice, Transpose, Concat */
    assert_true(parts >= 3);
    xnnpack_t_partitions("tests/data/xnnpack/shuffle_block.onnx", 2, &parts, &glue, &copies);
    assert_int_equal(glue, 6);  /* Concat + shuffle (3 nodes, no copy of their own), Split, Concat */
    assert_int_equal(parts, 2); /* the two branch Convs | the Conv after the Split */
    assert_int_equal(copies, 6); /* 2 concat-and-shuffle, 2 split, 2 concat */
}

static void test_xnnpack_pools_match_ref(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    /* count_include_pad 0 and 1, ceil_mode: three 4-D outputs transposed back to NCHW */
    xnnpack_t_against_ref("tests/data/xnnpack/pools.onnx", 4, (int64_t[]){1, 4, 10, 10});
}

static void test_xnnpack_depthwise_bn_broadcast_softmax_match_ref(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    xnnpack_t_against_ref("tests/data/xnnpack/misc.onnx", 4, (int64_t[]){2, 3, 7, 6});
}

static void test_xnnpack_flatten_permutes_gemm_columns(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    /* Flatten of C=4 x 5x5 arrives in HWC order: wrong unless the Gemm weights follow */
    xnnpack_t_against_ref("tests/data/xnnpack/flatten.onnx", 4, (int64_t[]){3, 4, 9, 9});
}

static void test_xnnpack_refuses_what_it_cannot_map(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    eb_model m = {"tests/data/xnnpack/refused.onnx", "onnx"};
    eb_config c = {.threads = 1, .batch = 1, .cores = "all"};
    void *s = (void *)&m;
    eb_err err = {{0}};
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), EB_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "Tanh"));
    assert_non_null(strstr(err.msg, "not supported by xnnpack"));
    assert_null(strchr(err.msg, '\n'));
    m.path = "tests/data/xnnpack/no-such-model.onnx";
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), -1);
}

static void test_xnnpack_options_and_facts(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    eb_model m = {"models/cnn.onnx", "onnx"};
    eb_option bad = {"sparse", "maybe"};
    eb_config c = {.threads = 1, .batch = 1, .cores = "all", .options = &bad, .n_options = 1};
    void *s = NULL, *r = NULL;
    eb_err err = {{0}};
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), -1);
    assert_non_null(strstr(err.msg, "sparse"));
    /* sparse=1 is a hint: the results stay right */
    eb_option sparse = {"sparse", "1"};
    eb_tensor in, want;
    assert_int_equal(eb_npy_read("models/reference/cnn-input.npy", &in, &err), 0);
    assert_int_equal(eb_npy_read("models/reference/cnn-output.npy", &want, &err), 0);
    xnnpack_t_outs o = {0};
    if (xnnpack_t_run(xnnpack_t_be(), m.path, 2, &sparse, 1, &in, &o, &err))
        fail_msg("sparse=1: %s", err.msg);
    assert_true(xnnpack_t_rel(&o.t[0], &want) < 1e-4);
    xnnpack_t_free(&o);
    /* facts as ref counts them */
    c.n_options = 0;
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), 0);
    assert_int_equal(eb_backend_ref.open(&m, &c, &r, &err), 0);
    eb_model_facts fx, fr;
    assert_int_equal(xnnpack_t_be()->facts(s, &fx), 0);
    assert_int_equal(eb_backend_ref.facts(r, &fr), 0);
    assert_true(fx.params > 0 && fx.macs > 0);
    assert_int_equal(fx.params, fr.params);
    assert_int_equal(fx.nonzero_params, fr.nonzero_params);
    assert_int_equal(fx.macs, fr.macs);
    /* BN folded into the Conv and the Relus fused: fewer XNNPACK nodes than ONNX nodes */
    const xnn_session *xs = s;
    assert_true(xs->n_xnn_nodes > 0 && xs->n_xnn_nodes < xs->g->n_nodes);
    xnnpack_t_be()->close(s);
    eb_backend_ref.close(r);
    eb_tensor_free(&in), eb_tensor_free(&want);
    assert_non_null(strstr(xnnpack_t_be()->operators(), "Conv"));
}

/* Rows of a [N, C] output whose argmax differs between a and b. */
static int xnnpack_t_top1_differs(const eb_tensor *a, const eb_tensor *b)
{
    int64_t n = a->shape[0], c = eb_tensor_numel(a) / (size_t)n;
    const float *x = a->data, *y = b->data;
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t ax = 0, ay = 0;
        for (int64_t j = 1; j < c; j++) {
            ax = x[i * c + j] > x[i * c + ax] ? j : ax;
            ay = y[i * c + j] > y[i * c + ay] ? j : ay;
        }
        bad += ax != ay;
    }
    return bad;
}

static double xnnpack_t_maxabs(const eb_tensor *a, const eb_tensor *b)
{
    double md = 0;
    for (size_t i = 0; i < eb_tensor_numel(b); i++)
        md = fmax(md, fabs((double)((const float *)a->data)[i] - ((const float *)b->data)[i]));
    return md;
}

/* The XNNPACK signed 8-bit nodes a model maps to (the session's count). */
static int xnnpack_t_qs8_nodes(const char *model, int batch)
{
    eb_model m = {model, "onnx"};
    eb_config c = {.threads = 1, .batch = batch, .cores = "all"};
    void *s = NULL;
    eb_err err = {{0}};
    if (xnnpack_t_be()->open(&m, &c, &s, &err) != 0)
        fail_msg("%s: %s", model, err.msg);
    int n = ((const xnn_session *)s)->n_qs8_nodes;
    xnnpack_t_be()->close(s);
    return n;
}

/* An int8 QDQ model on xnnpack's qs8 operators against ref's int8 kernels: output k must
 * agree on every top-1 and within tol (absolute: one quantum of the output's scale). */
static void xnnpack_t_int8_against_ref(const char *model, const eb_tensor *in, int threads,
                                       size_t k, double tol)
{
    eb_err err = {{0}};
    xnnpack_t_outs got = {0}, want = {0};
    if (xnnpack_t_run(xnnpack_t_be(), model, threads, NULL, 0, in, &got, &err))
        fail_msg("%s: %s", model, err.msg);
    if (xnnpack_t_run(&eb_backend_ref, model, threads, NULL, 0, in, &want, &err))
        fail_msg("ref on %s: %s", model, err.msg);
    assert_int_equal(got.n, want.n);
    (void)xnnpack_t_rel(&got.t[k], &want.t[k]); /* shapes, finite */
    int bad = xnnpack_t_top1_differs(&got.t[k], &want.t[k]);
    double md = xnnpack_t_maxabs(&got.t[k], &want.t[k]);
    if (bad || md > tol)
        fail_msg("%s at %d threads, output %zu: %d rows with another top-1, max |diff| %.4g "
                 "(> %.4g?) against ref", model, threads, k, bad, md, tol);
    for (size_t i = 0; i < got.n; i++) /* float outputs beside it: as float paths agree */
        if (i != k && xnnpack_t_rel(&got.t[i], &want.t[i]) > 1e-5)
            fail_msg("%s output %zu: max relative error %.3g against ref", model, i,
                     xnnpack_t_rel(&got.t[i], &want.t[i]));
    xnnpack_t_free(&got), xnnpack_t_free(&want);
}

static void test_xnnpack_int8_qdq_matches_ref(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    /* cnn_int8: input QuantizeLinear -> Convert, 2 x (qs8 Conv per-channel + Relu, qs8
     * MaxPool), Flatten, 2 x Gemm per-channel (as 1x1 qs8 convolutions), Convert out */
    assert_int_equal(xnnpack_t_qs8_nodes("models/cnn_int8.onnx", 64), 6);
    eb_tensor in;
    eb_err err = {{0}};
    assert_int_equal(eb_npy_read("models/reference/cnn-input.npy", &in, &err), 0);
    for (int threads = 1; threads <= 2; threads++)
        xnnpack_t_int8_against_ref("models/cnn_int8.onnx", &in, threads, 0, 0.1557);
    eb_tensor_free(&in);
    /* qdq: int8 activations with a zero point, depthwise per-channel, uint8 zero point 10,
     * a per-tensor 1x1 Conv, the qs8 fully connected, and a DequantizeLinear read both by a
     * fused Conv and by a float Sigmoid (second output) */
    assert_int_equal(xnnpack_t_qs8_nodes("tests/data/xnnpack/qdq.onnx", 2), 4);
    eb_tensor x = xnnpack_t_input(4, (int64_t[]){2, 3, 8, 8});
    xnnpack_t_int8_against_ref("tests/data/xnnpack/qdq.onnx", &x, 1, 0, 0.05);
    free(x.data);
}

static void test_xnnpack_int8_refusals(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    eb_config c = {.threads = 1, .batch = 1, .cores = "all"};
    void *s = NULL;
    eb_err err = {{0}};
    /* dynamic quantization: no qd8 operators in the 2022 snapshot */
    eb_model m = {"models/mlp_int8_dyn.onnx", "onnx"};
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), EB_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "DynamicQuantizeLinear"));
    assert_non_null(strstr(err.msg, "no dynamically quantized fully connected"));
    assert_null(strchr(err.msg, '\n'));
    /* a uint8 graph output: the staging buffers are float32 */
    m.path = "tests/data/xnnpack/qdq_out.onnx";
    assert_int_equal(xnnpack_t_be()->open(&m, &c, &s, &err), EB_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "quantized graph output 'y'"));
}

/* sparse=1 and sparse=force keep the results on the graph shape XNNPACK's NCHW rewrite takes
 * (force runs it even on x86-64, where XNNPACK itself does not). */
static void test_xnnpack_sparse_keeps_results(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    const char *model = "tests/data/xnnpack/sparse.onnx";
    eb_tensor in = xnnpack_t_input(4, (int64_t[]){1, 3, 16, 16});
    eb_err err = {{0}};
    xnnpack_t_outs dense = {0};
    if (xnnpack_t_run(xnnpack_t_be(), model, 1, NULL, 0, &in, &dense, &err))
        fail_msg("%s: %s", model, err.msg);
    static const char *const modes[] = {"1", "force"};
    for (size_t i = 0; i < 2; i++) {
        eb_option o = {"sparse", modes[i]};
        xnnpack_t_outs got = {0};
        if (xnnpack_t_run(xnnpack_t_be(), model, 2, &o, 1, &in, &got, &err))
            fail_msg("sparse=%s: %s", modes[i], err.msg);
        double rel = xnnpack_t_rel(&got.t[0], &dense.t[0]);
        if (rel > 1e-4)
            fail_msg("sparse=%s: max relative error %.3g against dense", modes[i], rel);
        xnnpack_t_free(&got);
    }
    xnnpack_t_free(&dense);
    free(in.data);
}

static void test_xnnpack_torchvision_matches_pytorch(void **state)
{
    (void)state;
    xnnpack_t_need_library();
    /* squeezenet1_1 (Concat) and shufflenet_v2_x0_5 (Split, channel shuffle, Concat) run in
     * several XNNPACK runtimes with the plugin's copies between them */
    static const char *const models[] = {"mobilenet_v2", "mnasnet0_5", "resnet18",
                                         "squeezenet1_1", "shufflenet_v2_x0_5"};
    int ran = 0;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char p[256], in[256], out[256];
        snprintf(p, sizeof p, "build/models/%s.onnx", models[i]);
        snprintf(in, sizeof in, "build/models/reference/%s-input.npy", models[i]);
        snprintf(out, sizeof out, "build/models/reference/%s-output.npy", models[i]);
        if (access(p, R_OK) || access(in, R_OK) || access(out, R_OK))
            continue;
        xnnpack_t_against_npy(p, in, out, 2, 1e-3);
        if (i >= 3) /* the partitioned ones at 1 thread too */
            xnnpack_t_against_npy(p, in, out, 1, 1e-3);
        ran++;
    }
    if (!ran) {
        print_message("no torchvision exports in build/models (scripts/export_models.py)\n");
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xnnpack_zoo_matches_pytorch),
        cmocka_unit_test(test_xnnpack_pools_match_ref),
        cmocka_unit_test(test_xnnpack_depthwise_bn_broadcast_softmax_match_ref),
        cmocka_unit_test(test_xnnpack_flatten_permutes_gemm_columns),
        cmocka_unit_test(test_xnnpack_partitions_match_ref),
        cmocka_unit_test(test_xnnpack_refuses_what_it_cannot_map),
        cmocka_unit_test(test_xnnpack_options_and_facts),
        cmocka_unit_test(test_xnnpack_torchvision_matches_pytorch),
        cmocka_unit_test(test_xnnpack_int8_qdq_matches_ref),
        cmocka_unit_test(test_xnnpack_int8_refusals),
        cmocka_unit_test(test_xnnpack_sparse_keeps_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
