/* model_facts: weight bytes and bit width from an ONNX model built here with protobuf-c
 * (int8 weights, int32 bias, float scales, a Constant node, a string), from a file, from the
 * CNN in tests/data/ref, and refusing what is not ONNX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_facts.h"
#include "onnx.pb-c.h"

/* Packs a model with these initializers (dims, type) and one Constant node holding a float16
 * [3] tensor; *n gets the size. */
static uint8_t *model_facts_t_pack(size_t *n)
{
    static int64_t w_dims[] = {4, 3, 3, 3}, b_dims[] = {4}, s_dims[] = {4}, str_dims[] = {2},
                   c_dims[] = {3};
    Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT, b = ONNX__TENSOR_PROTO__INIT,
                      sc = ONNX__TENSOR_PROTO__INIT, st = ONNX__TENSOR_PROTO__INIT,
                      c = ONNX__TENSOR_PROTO__INIT;
    w.name = "w", w.n_dims = 4, w.dims = w_dims, w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    b.name = "b", b.n_dims = 1, b.dims = b_dims, b.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    sc.name = "s", sc.n_dims = 1, sc.dims = s_dims,
    sc.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    st.name = "names", st.n_dims = 1, st.dims = str_dims,
    st.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
    c.name = "c", c.n_dims = 1, c.dims = c_dims,
    c.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    w.has_data_type = b.has_data_type = sc.has_data_type = st.has_data_type = 1;
    c.has_data_type = 1; /* onnx.proto is proto2: optional fields carry a has_ flag */
    Onnx__TensorProto *inits[] = {&w, &b, &sc, &st};

    Onnx__AttributeProto value = ONNX__ATTRIBUTE_PROTO__INIT;
    value.name = "value";
    value.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    value.has_type = 1;
    value.t = &c;
    Onnx__AttributeProto *attrs[] = {&value};
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT, relu = ONNX__NODE_PROTO__INIT;
    node.op_type = "Constant", node.n_attribute = 1, node.attribute = attrs;
    relu.op_type = "Relu"; /* other nodes' attributes are not weights */
    Onnx__NodeProto *nodes[] = {&node, &relu};

    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "g", g.n_initializer = 4, g.initializer = inits, g.n_node = 2, g.node = nodes;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1, m.ir_version = 7, m.graph = &g;
    *n = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(*n);
    assert_non_null(buf);
    onnx__model_proto__pack(&m, buf);
    return buf;
}

static void test_int8_model_counts_each_width(void **state)
{
    (void)state;
    size_t n;
    uint8_t *buf = model_facts_t_pack(&n);
    eb_weight_facts f;
    eb_err err = {{0}};
    assert_int_equal(eb_weight_facts_parse(buf, n, &f, &err), 0);
    /* 108 int8 + 4 int32 + 4 float + 3 float16 (the Constant); strings count nothing */
    assert_int_equal(f.weight_bytes, 108 + 16 + 16 + 6);
    assert_int_equal(f.elements, 108 + 4 + 4 + 3);
    assert_int_equal(f.elements_by_bits[8], 108);
    assert_int_equal(f.elements_by_bits[16], 3);
    assert_int_equal(f.elements_by_bits[32], 8);
    assert_int_equal(f.weight_bits, 8); /* the int8 weights outnumber everything else */
    free(buf);
}

static void test_read_from_file_and_cnn(void **state)
{
    (void)state;
    size_t n;
    uint8_t *buf = model_facts_t_pack(&n);
    char path[] = "/tmp/test_model_facts_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    eb_weight_facts f;
    eb_err err = {{0}};
    assert_int_equal(eb_weight_facts_read(path, &f, &err), 0);
    assert_int_equal(f.weight_bytes, 146);
    unlink(path);
    free(buf);

    /* The small float CNN: 205 float weights (numpy-counted) and a Constant's int64 shape. */
    assert_int_equal(eb_weight_facts_read("tests/data/ref/cnn.onnx", &f, &err), 0);
    assert_int_equal(f.weight_bits, 32);
    assert_int_equal(f.elements_by_bits[32], 205);
    assert_int_equal(f.weight_bytes, 4 * f.elements_by_bits[32] + 8 * f.elements_by_bits[64]);
}

static void test_not_onnx_is_refused(void **state)
{
    (void)state;
    eb_weight_facts f;
    eb_err err = {{0}};
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(eb_weight_facts_parse(junk, sizeof junk, &f, &err), -1);
    assert_int_equal(f.weight_bits, -1);
    assert_int_equal(eb_weight_facts_read("/nonexistent/model.onnx", &f, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/model.onnx"));
    assert_int_equal(eb_weight_facts_read("tests/data/ref/bad_garbage.onnx", &f, &err), -1);
    assert_non_null(strstr(err.msg, "bad_garbage.onnx"));
}

static void test_dtype_bits(void **state)
{
    (void)state;
    assert_int_equal(eb_onnx_dtype_bits(ONNX__TENSOR_PROTO__DATA_TYPE__UINT8), 8);
    assert_int_equal(eb_onnx_dtype_bits(ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16), 16);
    assert_int_equal(eb_onnx_dtype_bits(ONNX__TENSOR_PROTO__DATA_TYPE__INT64), 64);
    assert_int_equal(eb_onnx_dtype_bits(ONNX__TENSOR_PROTO__DATA_TYPE__STRING), 0);
    assert_int_equal(eb_onnx_dtype_bits(999), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_model_counts_each_width),
        cmocka_unit_test(test_read_from_file_and_cnn),
        cmocka_unit_test(test_not_onnx_is_refused),
        cmocka_unit_test(test_dtype_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
