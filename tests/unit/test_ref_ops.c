/* The ref engine's issue-3 operator families on small models from tests/data/ref/ (made by
 * make_test_models.py, expected outputs computed there in numpy), plus kernels driven
 * directly where a model would hide the case (Slice with a negative step, broadcasting of
 * three operands, reductions over inner axes). */
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

#define REF_OPS_DIR "tests/data/ref/"

static void ref_ops_read(const char *file, eb_tensor *t)
{
    char path[256];
    eb_err err;
    snprintf(path, sizeof path, REF_OPS_DIR "%s", file);
    if (eb_npy_read(path, t, &err) != 0)
        fail_msg("%s", err.msg);
}

/* Opens `model` at the batch of x, runs it twice and compares with want (float32 within
 * 1e-4 relative, int64 exactly). */
static void ref_ops_check(const char *model, const char *x_npy, const char *y_npy)
{
    eb_tensor x, want;
    eb_err err = {0};
    char path[256];
    ref_ops_read(x_npy, &x);
    ref_ops_read(y_npy, &want);
    snprintf(path, sizeof path, REF_OPS_DIR "%s", model);
    eb_model m = {.path = path, .format = "onnx"};
    eb_config c = {.threads = 1, .batch = (int)x.shape[0], .cores = "all"};
    void *s = NULL;
    if (eb_backend_ref.open(&m, &c, &s, &err) != 0)
        fail_msg("opening %s: %s", model, err.msg);
    eb_io io;
    assert_int_equal(eb_backend_ref.io(s, &io), 0);
    assert_int_equal(io.outputs[0].dtype, want.dtype == EB_I64 ? EB_I64 : EB_F32);
    assert_int_equal(io.outputs[0].ndim, want.ndim);
    for (int d = 0; d < want.ndim; d++)
        assert_int_equal(io.outputs[0].shape[d], want.shape[d]);
    x.name = io.inputs[0].name;
    eb_tensor y = io.outputs[0];
    y.data = calloc(eb_tensor_numel(&want) + 1, 8);
    for (int rep = 0; rep < 2; rep++) {
        if (eb_backend_ref.run(s, &x, 1, &y, 1, &err) != 0)
            fail_msg("%s: %s", model, err.msg);
        for (size_t i = 0; i < eb_tensor_numel(&want); i++) {
            if (want.dtype == EB_I64) {
                int64_t g = ((int64_t *)y.data)[i], w = ((int64_t *)want.data)[i];
                if (g != w)
                    fail_msg("%s: element %zu: got %lld, want %lld", model, i, (long long)g,
                             (long long)w);
                continue;
            }
            float g = ((float *)y.data)[i], w = ((float *)want.data)[i];
            if (fabs(g - w) > 1e-5 + 1e-4 * fabs(w))
                fail_msg("%s: element %zu: got %.7g, want %.7g", model, i, g, w);
        }
    }
    eb_backend_ref.close(s);
    free(y.data);
    eb_tensor_free(&x);
    eb_tensor_free(&want);
}

static void test_ops_models(void **state)
{
    (void)state;
    ref_ops_check("ops_mix.onnx", "ops_mix_x.npy", "ops_mix_y.npy");
    ref_ops_check("ops_argmax.onnx", "ops_argmax_x.npy", "ops_argmax_y.npy");
}

/* A one-node session built in memory: values 0..n_vals-1, node 0 reading `in` and writing
 * `out`; shapes set by the caller before ref_shape_infer. */
typedef struct ref_ops_fixture {
    ref_session s;
    ref_value vals[8];
    ref_node node;
    int in[6], out[2];
} ref_ops_fixture;

static void ref_ops_value(ref_ops_fixture *f, int i, eb_dtype dt, int ndim, const int64_t *shape,
                          ref_kind kind, void *data)
{
    ref_value *v = &f->vals[i];
    memset(v, 0, sizeof *v);
    v->name = "v";
    v->dtype = dt;
    assert_int_equal(ref_value_set_shape(v, ndim, shape), 0);
    v->shaped = 1;
    v->kind = kind;
    v->producer = -1;
    v->data = data;
}

static void ref_ops_node(ref_ops_fixture *f, ref_op op, int n_in, int n_vals)
{
    memset(&f->node, 0, sizeof f->node);
    f->node.name = "n";
    f->node.op_type = (char *)ref_op_name(op);
    f->node.op = op;
    f->node.n_in = n_in, f->node.n_out = 1;
    for (int i = 0; i < n_in; i++)
        f->in[i] = i;
    f->out[0] = n_vals - 1;
    f->node.in = f->in, f->node.out = f->out;
    f->s.vals = f->vals;
    f->s.n_vals = n_vals;
    f->s.opset = 13;
}

/* Infers and runs the node; the output's data must be set by the caller after inference. */
static int ref_ops_infer(ref_ops_fixture *f)
{
    eb_err err = {0};
    int rc = ref_infer_shapeop(&f->s, &f->node, &err);
    if (rc != 0)
        print_message("%s\n", err.msg);
    return rc;
}

static void test_slice_negative_step(void **state)
{
    (void)state;
    ref_ops_fixture f;
    float x[12], y[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    int64_t xs[2] = {3, 4}, one[1] = {1}, two[1] = {2};
    int64_t st[2] = {-1, 1}, en[2] = {-100, 4}, ax[2] = {1, 0}, sp[2] = {-2, 2};
    ref_ops_value(&f, 0, EB_F32, 2, xs, REF_VAL_INPUT, x);
    ref_ops_value(&f, 1, EB_I64, 1, two, REF_VAL_WEIGHT, st);
    ref_ops_value(&f, 2, EB_I64, 1, two, REF_VAL_WEIGHT, en);
    ref_ops_value(&f, 3, EB_I64, 1, two, REF_VAL_WEIGHT, ax);
    ref_ops_value(&f, 4, EB_I64, 1, two, REF_VAL_WEIGHT, sp);
    ref_ops_value(&f, 5, EB_F32, 1, one, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_SLICE, 5, 6);
    assert_int_equal(ref_ops_infer(&f), 0);
    /* rows 1, 3 (step 2 from 1: 1 only, 3 is out), columns 3, 1 (step -2 from the last) */
    assert_int_equal(f.vals[5].ndim, 2);
    assert_int_equal(f.vals[5].shape[0], 1);
    assert_int_equal(f.vals[5].shape[1], 2);
    f.vals[5].data = y;
    ref_exec_shapeop(&f.s, &f.node);
    assert_true(y[0] == 7.0f && y[1] == 5.0f);
}

static void test_transpose_and_expand(void **state)
{
    (void)state;
    ref_ops_fixture f;
    float x[6] = {0, 1, 2, 3, 4, 5}, y[12];
    int64_t xs[2] = {2, 3}, ys[1] = {1};
    ref_ops_value(&f, 0, EB_F32, 2, xs, REF_VAL_INPUT, x);
    ref_ops_value(&f, 1, EB_F32, 1, ys, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_TRANSPOSE, 1, 2);
    assert_int_equal(ref_ops_infer(&f), 0); /* no perm: reversed axes */
    f.vals[1].data = y;
    ref_exec_shapeop(&f.s, &f.node);
    const float want[6] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == want[i]);
    free(f.node.aux);

    /* Expand [3, 1] to [2, 3, 2]: numpy broadcasting */
    float col[3] = {1, 2, 3};
    int64_t cs[2] = {3, 1}, ss[1] = {3}, to[3] = {2, 1, 2};
    ref_ops_value(&f, 0, EB_F32, 2, cs, REF_VAL_INPUT, col);
    ref_ops_value(&f, 1, EB_I64, 1, ss, REF_VAL_WEIGHT, to);
    ref_ops_value(&f, 2, EB_F32, 1, ys, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_EXPAND, 2, 3);
    assert_int_equal(ref_ops_infer(&f), 0);
    assert_int_equal(f.vals[2].numel, 12);
    f.vals[2].data = y;
    ref_exec_shapeop(&f.s, &f.node);
    for (int i = 0; i < 12; i++)
        assert_true(y[i] == col[(i / 2) % 3]);
}

static void test_where_broadcasts_three(void **state)
{
    (void)state;
    ref_ops_fixture f;
    int64_t cond[2] = {1, 0};
    float a[3] = {1, 2, 3}, b = -1.0f, y[6];
    int64_t cs[2] = {2, 1}, as[1] = {3}, one[1] = {1};
    ref_ops_value(&f, 0, EB_I64, 2, cs, REF_VAL_INPUT, cond);
    ref_ops_value(&f, 1, EB_F32, 1, as, REF_VAL_INPUT, a);
    ref_ops_value(&f, 2, EB_F32, 0, NULL, REF_VAL_INPUT, &b);
    ref_ops_value(&f, 3, EB_F32, 1, one, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_WHERE, 3, 4);
    eb_err err = {0};
    assert_int_equal(ref_infer_binary(&f.s, &f.node, &err), 0);
    assert_int_equal(f.vals[3].numel, 6);
    f.vals[3].data = y;
    ref_exec_binary(&f.s, &f.node);
    const float want[6] = {1, 2, 3, -1, -1, -1};
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == want[i]);
    free(f.node.aux);
}

static void test_reduce_inner_axis(void **state)
{
    (void)state;
    ref_ops_fixture f;
    float x[24], y[8];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    int64_t xs[3] = {2, 3, 4}, one[1] = {1};
    ref_ops_value(&f, 0, EB_F32, 3, xs, REF_VAL_INPUT, x);
    ref_ops_value(&f, 1, EB_F32, 1, one, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_REDUCEMAX, 1, 2);
    ref_attr at = {.name = "axes", .type = 7, .n = 1};
    int64_t axes[1] = {1};
    at.ints = axes;
    f.node.attrs = &at, f.node.n_attrs = 1;
    eb_err err = {0};
    assert_int_equal(ref_infer_reduce(&f.s, &f.node, &err), 0);
    assert_int_equal(f.vals[1].ndim, 3); /* keepdims defaults to 1 */
    assert_int_equal(f.vals[1].shape[1], 1);
    f.vals[1].data = y;
    ref_exec_reduce(&f.s, &f.node);
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 4; k++)
            assert_true(y[n * 4 + k] == (float)(n * 12 + 8 + k));
    free(f.node.aux);
}

static void test_shape_needs_known_values(void **state)
{
    (void)state;
    ref_ops_fixture f;
    float x[4] = {0};
    int64_t xs[1] = {4}, one[1] = {1}, rep[1] = {2};
    ref_ops_value(&f, 0, EB_F32, 1, xs, REF_VAL_INPUT, x);
    ref_ops_value(&f, 1, EB_I64, 1, one, REF_VAL_INPUT, rep); /* a graph input: unknown */
    ref_ops_value(&f, 2, EB_F32, 1, one, REF_VAL_ACT, NULL);
    ref_ops_node(&f, REF_OP_TILE, 2, 3);
    eb_err err = {0};
    assert_int_equal(ref_infer_shapeop(&f.s, &f.node, &err), -1);
    assert_non_null(strstr(err.msg, "must be known at open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_models),
        cmocka_unit_test(test_slice_negative_step),
        cmocka_unit_test(test_transpose_and_expand),
        cmocka_unit_test(test_where_broadcasts_three),
        cmocka_unit_test(test_reduce_inner_axis),
        cmocka_unit_test(test_shape_needs_known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
