/* The ref engine on whole models from tests/data/ref/ (made by make_test_models.py, with
 * expected outputs computed there in numpy): results, shape inference and batch binding, the
 * memory plan, model facts, run()'s argument checks, and one clear line for every malformed
 * model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "npy.h"
#include "ref/ref_internal.h"

#define REF_MODEL_DIR "tests/data/ref/"

static void *ref_model_open(const char *file, int batch, eb_err *err)
{
    char path[256];
    snprintf(path, sizeof path, REF_MODEL_DIR "%s", file);
    eb_model m = {.path = path, .format = "onnx"};
    eb_config c = {.threads = 1, .batch = batch, .cores = "all"};
    void *s = NULL;
    memset(err, 0, sizeof *err);
    if (eb_backend_ref.open(&m, &c, &s, err) != 0)
        return NULL;
    return s;
}

static void *ref_model_must_open(const char *file, int batch)
{
    eb_err err;
    void *s = ref_model_open(file, batch, &err);
    if (!s)
        fail_msg("opening %s: %s", file, err.msg);
    return s;
}

static void ref_model_read(const char *file, eb_tensor *t)
{
    char path[256];
    eb_err err;
    snprintf(path, sizeof path, REF_MODEL_DIR "%s", file);
    if (eb_npy_read(path, t, &err) != 0)
        fail_msg("%s", err.msg);
}

/* Runs `model` on <stem>_x.npy and compares with <y_npy> within 1e-4 relative. */
static void ref_model_check(const char *model, const char *x_npy, const char *y_npy)
{
    eb_tensor x, want;
    eb_err err;
    ref_model_read(x_npy, &x);
    ref_model_read(y_npy, &want);
    void *s = ref_model_must_open(model, (int)x.shape[0]);
    eb_io io;
    assert_int_equal(eb_backend_ref.io(s, &io), 0);
    assert_int_equal(io.n_inputs, 1);
    assert_int_equal(io.n_outputs, 1);
    assert_int_equal(io.inputs[0].ndim, x.ndim);
    for (int d = 0; d < x.ndim; d++)
        assert_int_equal(io.inputs[0].shape[d], x.shape[d]);
    assert_int_equal(io.outputs[0].ndim, want.ndim);
    for (int d = 0; d < want.ndim; d++)
        assert_int_equal(io.outputs[0].shape[d], want.shape[d]);
    x.name = io.inputs[0].name;
    eb_tensor y = io.outputs[0];
    y.data = calloc(eb_tensor_numel(&want), sizeof(float));
    /* twice: the second run must not see state left by the first */
    for (int rep = 0; rep < 2; rep++) {
        if (eb_backend_ref.run(s, &x, 1, &y, 1, &err) != 0)
            fail_msg("%s: %s", model, err.msg);
        const float *got = y.data, *w = want.data;
        for (size_t i = 0; i < eb_tensor_numel(&want); i++)
            if (fabs(got[i] - w[i]) > 1e-5 + 1e-4 * fabs(w[i]))
                fail_msg("%s: element %zu: got %.7g, want %.7g", model, i, got[i], w[i]);
    }
    assert_string_equal(y.name, io.outputs[0].name);
    eb_backend_ref.close(s);
    free(y.data);
    eb_tensor_free(&x);
    eb_tensor_free(&want);
}

static void test_models_match_numpy(void **state)
{
    (void)state;
    ref_model_check("mlp.onnx", "mlp_x.npy", "mlp_y.npy");
    ref_model_check("cnn.onnx", "cnn_x.npy", "cnn_y.npy");
    ref_model_check("fold.onnx", "fold_x.npy", "fold_y.npy");
    ref_model_check("gemm.onnx", "gemm_x.npy", "gemm_y.npy");
    ref_model_check("matmul.onnx", "matmul_x.npy", "matmul_y.npy");
    ref_model_check("softmax11.onnx", "softmax_x.npy", "softmax11_y.npy");
    ref_model_check("softmax13.onnx", "softmax_x.npy", "softmax13_y.npy");
    ref_model_check("conv1d.onnx", "conv1d_x.npy", "conv1d_y.npy");
    ref_model_check("pad.onnx", "pad_x.npy", "pad_y.npy");
    ref_model_check("pad10.onnx", "pad_x.npy", "pad10_y.npy");
}

static void ref_model_expect_shape(const ref_session *s, const char *name, int ndim, ...)
{
    int i = ref_value_find(s, name);
    if (i < 0)
        fail_msg("no value '%s'", name);
    const ref_value *v = &s->vals[i];
    va_list ap;
    va_start(ap, ndim);
    if (v->ndim != ndim)
        fail_msg("'%s' has %d dims, want %d", name, v->ndim, ndim);
    for (int d = 0; d < ndim; d++) {
        int64_t want = va_arg(ap, int64_t);
        if (v->shape[d] != want)
            fail_msg("'%s' dim %d is %lld, want %lld", name, d, (long long)v->shape[d],
                     (long long)want);
    }
    va_end(ap);
}

static void test_shape_inference(void **state)
{
    (void)state;
    ref_session *s = ref_model_must_open("cnn.onnx", 3);
    ref_model_expect_shape(s, "c1", 4, (int64_t)3, (int64_t)4, (int64_t)8, (int64_t)8);
    ref_model_expect_shape(s, "p1", 4, (int64_t)3, (int64_t)4, (int64_t)4, (int64_t)4);
    /* 3x3 stride 2, pads top/bottom 1, left/right 0 on 4x4 */
    ref_model_expect_shape(s, "c2", 4, (int64_t)3, (int64_t)6, (int64_t)2, (int64_t)1);
    ref_model_expect_shape(s, "p2", 4, (int64_t)3, (int64_t)6, (int64_t)3, (int64_t)2);
    ref_model_expect_shape(s, "gap", 4, (int64_t)3, (int64_t)6, (int64_t)1, (int64_t)1);
    ref_model_expect_shape(s, "flat", 2, (int64_t)3, (int64_t)6);
    ref_model_expect_shape(s, "y", 2, (int64_t)3, (int64_t)5);
    /* the initializers listed as graph inputs are weights, not inputs */
    eb_io io;
    eb_backend_ref.io(s, &io);
    assert_int_equal(io.n_inputs, 1);
    assert_string_equal(io.inputs[0].name, "x");
    eb_backend_ref.close(s);

    s = ref_model_must_open("matmul.onnx", 7);
    ref_model_expect_shape(s, "a", 4, (int64_t)7, (int64_t)2, (int64_t)3, (int64_t)5);
    ref_model_expect_shape(s, "b", 4, (int64_t)7, (int64_t)2, (int64_t)3, (int64_t)3);
    ref_model_expect_shape(s, "y", 3, (int64_t)7, (int64_t)2, (int64_t)3);
    eb_backend_ref.close(s);

    s = ref_model_must_open("gemm.onnx", 5);
    ref_model_expect_shape(s, "y", 2, (int64_t)2, (int64_t)5); /* batch last */
    eb_backend_ref.close(s);

    /* PyTorch's view(x.size(0), -1) arithmetic is folded at open into a static shape */
    s = ref_model_must_open("fold.onnx", 9);
    int i = ref_value_find(s, "shp");
    assert_true(i >= 0);
    assert_int_equal(s->vals[i].kind, REF_VAL_STATIC);
    assert_int_equal(((int64_t *)s->vals[i].data)[0], 9);
    assert_int_equal(((int64_t *)s->vals[i].data)[1], -1);
    ref_model_expect_shape(s, "flat", 2, (int64_t)9, (int64_t)6);
    eb_backend_ref.close(s);
}

static void test_fixed_batch(void **state)
{
    (void)state;
    /* batch 1 (the default) takes a fixed leading dimension as it is */
    ref_session *s = ref_model_must_open("fixed_batch.onnx", 1);
    eb_io io;
    eb_backend_ref.io(s, &io);
    assert_int_equal(io.inputs[0].shape[0], 2);
    assert_int_equal(io.inputs[0].shape[1], 3);
    ref_model_expect_shape(s, "s", 1, (int64_t)1); /* Shape(start=1) of [2, 3] is [3] */
    ref_model_expect_shape(s, "y", 2, (int64_t)2, (int64_t)3);
    eb_backend_ref.close(s);
    /* any other batch cannot be honoured: refused, saying how to fix it */
    eb_err err;
    assert_null(ref_model_open("fixed_batch.onnx", 4, &err));
    assert_non_null(strstr(err.msg, "fixed batch of 2 but batch 4 was asked"));
    assert_non_null(strstr(err.msg, "dynamic_axes"));
}

static void test_memory_plan(void **state)
{
    (void)state;
    ref_session *s = ref_model_must_open("cnn.onnx", 4);
    size_t sum = 0;
    for (int i = 0; i < s->n_vals; i++) {
        const ref_value *a = &s->vals[i];
        if (a->kind != REF_VAL_ACT)
            continue;
        size_t sa = a->numel * 4;
        sum += sa;
        assert_true(a->offset + sa <= s->arena_bytes);
        assert_ptr_equal(a->data, s->arena + a->offset);
        for (int j = i + 1; j < s->n_vals; j++) {
            const ref_value *b = &s->vals[j];
            if (b->kind != REF_VAL_ACT || b->last < a->first || a->last < b->first)
                continue; /* not live at the same time: may share */
            size_t sb = b->numel * 4;
            if (a->offset < b->offset + sb && b->offset < a->offset + sa)
                fail_msg("'%s' and '%s' are live together but overlap", a->name, b->name);
        }
    }
    /* a chain of layers reuses memory: the arena is smaller than all buffers together */
    assert_true(s->arena_bytes < sum);
    assert_true(s->scratch_floats >= 9 * 8 * 8); /* conv1's im2col: 1*3*3 x 8*8 */
    eb_backend_ref.close(s);
}

static void test_facts(void **state)
{
    (void)state;
    eb_model_facts f;
    void *s = ref_model_must_open("mlp.onnx", 3);
    assert_int_equal(eb_backend_ref.facts(s, &f), 0);
    assert_int_equal(f.params, 8 * 16 + 8 + 3 * 8 + 3);
    assert_int_equal(f.nonzero_params, f.params);
    assert_int_equal(f.macs, 3 * (16 * 8 + 8 * 3));
    eb_backend_ref.close(s);

    s = ref_model_must_open("cnn.onnx", 2);
    eb_backend_ref.facts(s, &f);
    assert_int_equal(f.params, 4 * 9 + 4 + 4 * 4 + 6 * 2 * 9 + 6 + 6 * 5 + 5);
    /* conv1 N*M*OH*OW*Cg*kh*kw + conv2 (group 2) + MatMul M*N*K */
    assert_int_equal(f.macs, 2 * 4 * 8 * 8 * 1 * 9 + 2 * 6 * 2 * 1 * 2 * 9 + 2 * 5 * 6);
    eb_backend_ref.close(s);

    s = ref_model_must_open("fold.onnx", 2); /* folded shape arithmetic costs nothing */
    eb_backend_ref.facts(s, &f);
    assert_int_equal(f.params, 7);
    assert_int_equal(f.macs, 0);
    eb_backend_ref.close(s);
}

static void test_run_checks(void **state)
{
    (void)state;
    eb_err err;
    void *s = ref_model_must_open("mlp.onnx", 3);
    float xbuf[3 * 16] = {0}, ybuf[3 * 3];
    eb_tensor x = {.name = "x", .dtype = EB_F32, .ndim = 2, .shape = {3, 16}, .data = xbuf};
    eb_tensor y = {.data = ybuf};
    assert_int_equal(eb_backend_ref.run(s, &x, 1, &y, 1, &err), -1);
    assert_non_null(strstr(err.msg, "input 'x' must be float32 3x1x4x4, got float32 3x16"));
    assert_null(strchr(err.msg, '\n'));
    x.ndim = 4, x.shape[1] = 1, x.shape[2] = 4, x.shape[3] = 4, x.dtype = EB_F64;
    assert_int_equal(eb_backend_ref.run(s, &x, 1, &y, 1, &err), -1);
    assert_non_null(strstr(err.msg, "got float64"));
    x.dtype = EB_F32;
    assert_int_equal(eb_backend_ref.run(s, &x, 2, &y, 1, &err), -1);
    assert_non_null(strstr(err.msg, "takes 1 inputs"));
    y.data = NULL;
    assert_int_equal(eb_backend_ref.run(s, &x, 1, &y, 1, &err), -1);
    assert_non_null(strstr(err.msg, "no buffer"));
    y.data = ybuf;
    assert_int_equal(eb_backend_ref.run(s, &x, 1, &y, 1, &err), 0);
    for (int i = 0; i < 3; i++) /* softmax rows sum to 1 */
        assert_float_equal(ybuf[3 * i] + ybuf[3 * i + 1] + ybuf[3 * i + 2], 1.0f, 1e-5);
    eb_backend_ref.close(s);
}

static void ref_model_expect_error(const char *file, int batch, const char *part1,
                                   const char *part2)
{
    eb_err err;
    void *s = ref_model_open(file, batch, &err);
    if (s) {
        eb_backend_ref.close(s);
        fail_msg("%s opened, but it must be refused", file);
    }
    if (!strstr(err.msg, file) || !strstr(err.msg, part1) || (part2 && !strstr(err.msg, part2)))
        fail_msg("%s: message '%s' lacks the file name, '%s' or '%s'", file, err.msg, part1,
                 part2 ? part2 : "");
    if (strchr(err.msg, '\n'))
        fail_msg("%s: message is not one line: '%s'", file, err.msg);
}

static void test_bad_models(void **state)
{
    (void)state;
    ref_model_expect_error("bad_cycle.onnx", 1, "cycle", "node '");
    ref_model_expect_error("bad_dangling.onnx", 1, "dangling", "'ghost'");
    ref_model_expect_error("bad_init_size.onnx", 1, "initializer 'w'", "16 elements");
    ref_model_expect_error("bad_absurd_dim.onnx", 1, "graph input 'x'", "absurdly large");
    ref_model_expect_error("bad_unsupported_op.onnx", 1,
                           "node 'Det_3' (op Det): operator not supported by ref",
                           "edgebench help ref");
    ref_model_expect_error("bad_domain.onnx", 1, "node 'fused' (op FusedGemm)", "com.microsoft");
    ref_model_expect_error("bad_symbolic.onnx", 1, "dimension 1 is symbolic ('width')", NULL);
    ref_model_expect_error("bad_truncated.onnx", 1, "not a valid ONNX file", NULL);
    ref_model_expect_error("bad_garbage.onnx", 1, "not a valid ONNX file", NULL);
    ref_model_expect_error("no_such_model.onnx", 1, "cannot open", NULL);
    ref_model_expect_error(".", 1, "not a regular file", NULL); /* the directory itself */
    /* a huge batch makes the plan exceed the memory limit while every single value stays
     * under it (with Conv+BN+Relu fused at open, conv1's output is 4 GB of 4.3 and the
     * plan ~5 GB) */
    ref_model_expect_error("cnn.onnx", 4000000, "limit", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_match_numpy), cmocka_unit_test(test_shape_inference),
        cmocka_unit_test(test_fixed_batch),        cmocka_unit_test(test_memory_plan),
        cmocka_unit_test(test_facts),
        cmocka_unit_test(test_run_checks),         cmocka_unit_test(test_bad_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
