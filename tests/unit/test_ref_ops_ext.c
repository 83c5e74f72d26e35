/* ref's RNN/GRU/LSTM, Resize/Upsample, ConvTranspose and N-D/integer pools on the models of
 * tests/data/ref/make_ops_ext_models.py (expected outputs from PyTorch or numpy written from
 * the ONNX spec), plus the refusals those operators owe: every output of each model is
 * compared. */
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

#define OPS_EXT_DIR "tests/data/ref/"

static void ops_ext_read(const char *name, const char *suffix, eb_tensor *t)
{
    char path[256];
    eb_err err;
    snprintf(path, sizeof path, OPS_EXT_DIR "%s%s", name, suffix);
    if (eb_npy_read(path, t, &err) != 0)
        fail_msg("%s", err.msg);
}

/* Opens NAME.onnx, feeds NAME_x.npy, compares every output with NAME_y<i>.npy (float32
 * within 1e-4 relative, int64 exactly), twice (the arena is reused). */
static void ops_ext_check(const char *name)
{
    eb_tensor x, want[EB_MAX_IO];
    eb_err err = {0};
    char path[256];
    ops_ext_read(name, "_x.npy", &x);
    snprintf(path, sizeof path, OPS_EXT_DIR "%s.onnx", name);
    eb_model m = {.path = path, .format = "onnx"};
    eb_config c = {.threads = 1, .batch = (int)x.shape[0], .cores = "all"};
    void *s = NULL;
    if (eb_backend_ref.open(&m, &c, &s, &err) != 0)
        fail_msg("opening %s: %s", name, err.msg);
    eb_io io;
    assert_int_equal(eb_backend_ref.io(s, &io), 0);
    assert_int_equal(io.inputs[0].dtype, x.dtype);
    eb_tensor y[EB_MAX_IO];
    for (size_t k = 0; k < io.n_outputs; k++) {
        char suf[32];
        snprintf(suf, sizeof suf, "_y%zu.npy", k);
        ops_ext_read(name, suf, &want[k]);
        assert_int_equal(io.outputs[k].dtype, want[k].dtype);
        assert_int_equal(io.outputs[k].ndim, want[k].ndim);
        for (int d = 0; d < want[k].ndim; d++)
            assert_int_equal(io.outputs[k].shape[d], want[k].shape[d]);
        y[k] = io.outputs[k];
        y[k].data = calloc(eb_tensor_numel(&want[k]) + 1, 8);
    }
    x.name = io.inputs[0].name;
    for (int rep = 0; rep < 2; rep++) {
        if (eb_backend_ref.run(s, &x, 1, y, io.n_outputs, &err) != 0)
            fail_msg("%s: %s", name, err.msg);
        for (size_t k = 0; k < io.n_outputs; k++)
            for (size_t i = 0; i < eb_tensor_numel(&want[k]); i++) {
                if (want[k].dtype == EB_I64) {
                    int64_t g = ((int64_t *)y[k].data)[i], w = ((int64_t *)want[k].data)[i];
                    if (g != w)
                        fail_msg("%s output %zu element %zu: got %lld, want %lld", name, k, i,
                                 (long long)g, (long long)w);
                    continue;
                }
                float g = ((float *)y[k].data)[i], w = ((float *)want[k].data)[i];
                if (!(fabs(g - w) <= 1e-5 + 1e-4 * fabs(w)))
                    fail_msg("%s output %zu element %zu: got %.7g, want %.7g", name, k, i, g, w);
            }
    }
    size_t n_out = io.n_outputs;
    eb_backend_ref.close(s);
    for (size_t k = 0; k < n_out; k++) {
        free(y[k].data);
        eb_tensor_free(&want[k]);
    }
    eb_tensor_free(&x);
}

static void test_ops_ext_recurrent(void **state)
{
    (void)state;
    ops_ext_check("ext_lstm_bidi");   /* peepholes, initial states, uneven sequence_lens */
    ops_ext_check("ext_gru_lbr0");    /* reset gate before the recurrent product */
    ops_ext_check("ext_gru_lbr1");    /* Y omitted: only Y_h */
    ops_ext_check("ext_rnn_reverse"); /* Relu activation and clip */
}

static void test_ops_ext_resize(void **state)
{
    (void)state;
    ops_ext_check("ext_resize_linear");
    ops_ext_check("ext_resize_align");
    ops_ext_check("ext_resize_cubic");
    ops_ext_check("ext_upsample");
}

static void test_ops_ext_convtranspose(void **state)
{
    (void)state;
    ops_ext_check("ext_convt2d"); /* groups, strides, pads, output_padding, dilations, bias */
    ops_ext_check("ext_convt3d");
}

static void test_ops_ext_pools(void **state)
{
    (void)state;
    ops_ext_check("ext_maxpool3d");   /* dilations and asymmetric padding */
    ops_ext_check("ext_avgpool3d");   /* count_include_pad with ceil_mode */
    ops_ext_check("ext_maxpool_int"); /* int64 values and Indices */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_ext_recurrent),
        cmocka_unit_test(test_ops_ext_resize),
        cmocka_unit_test(test_ops_ext_convtranspose),
        cmocka_unit_test(test_ops_ext_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
