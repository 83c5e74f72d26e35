/* NPY reader/writer: numpy-written fixtures (tests/data/datasets/make_fixtures.py), format
 * versions 1-3, every accepted dtype, refusals, and a byte-exact round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"

/* Fixtures live beside this file's directory: tests/unit/../data/datasets. */
static const char *npy_fixture(const char *name, char *buf, size_t n)
{
    const char *f = __FILE__, *slash = strrchr(f, '/');
    if (slash)
        snprintf(buf, n, "%.*s/../data/datasets/%s", (int)(slash - f), f, name);
    else
        snprintf(buf, n, "../data/datasets/%s", name);
    return buf;
}

static char *npy_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int npy_setup_tmp(void **state)
{
    char *dir = strdup("/tmp/eb_test_npy_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int npy_teardown_tmp(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

static void test_read_numpy_float32(void **state)
{
    (void)state;
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};
    assert_int_equal(eb_npy_read(npy_fixture("tiny_x.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_F32);
    assert_int_equal(t.ndim, 3);
    assert_int_equal(t.shape[0], 4);
    assert_int_equal(t.shape[1], 2);
    assert_int_equal(t.shape[2], 3);
    assert_null(t.name);
    const float *x = t.data;
    for (int i = 0; i < 24; i++)
        assert_float_equal(x[i], (float)i, 0);
    eb_tensor_free(&t);
    assert_null(t.data);
}

static void test_read_every_dtype(void **state)
{
    (void)state;
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};

    assert_int_equal(eb_npy_read(npy_fixture("dtype_f8.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_F64);
    assert_int_equal(t.ndim, 2);
    assert_int_equal(t.shape[0], 1);
    assert_int_equal(t.shape[1], 3);
    assert_float_equal(((double *)t.data)[1], -2.25, 0);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_u1.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_U8);
    assert_int_equal(((uint8_t *)t.data)[2], 255);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_i1.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_I8);
    assert_int_equal(((int8_t *)t.data)[0], -128);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_i2.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_I16);
    assert_int_equal(((int16_t *)t.data)[0], -32768);
    assert_int_equal(((int16_t *)t.data)[1], 7);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_i4.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_I32);
    assert_int_equal(((int32_t *)t.data)[2], 2147483647);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_i8.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_I64);
    assert_int_equal(t.ndim, 1);
    assert_int_equal(((int64_t *)t.data)[0], -1);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("dtype_b1.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.dtype, EB_BOOL);
    assert_int_equal(((uint8_t *)t.data)[0], 1);
    assert_int_equal(((uint8_t *)t.data)[1], 0);
    eb_tensor_free(&t);

    assert_int_equal(eb_npy_read(npy_fixture("scalar_f4.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.ndim, 0);
    assert_float_equal(((float *)t.data)[0], 2.5f, 0);
    eb_tensor_free(&t);
}

static void test_read_versions_2_and_3(void **state)
{
    (void)state;
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};
    assert_int_equal(eb_npy_read(npy_fixture("v2_f4.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.ndim, 2);
    assert_float_equal(((float *)t.data)[3], 4.0f, 0);
    eb_tensor_free(&t);
    assert_int_equal(eb_npy_read(npy_fixture("v3_f4.npy", p, sizeof p), &t, &err), 0);
    assert_int_equal(t.ndim, 1);
    assert_int_equal(t.shape[0], 3);
    assert_float_equal(((float *)t.data)[2], 7.0f, 0);
    eb_tensor_free(&t);
}

static void npy_expect_refusal(const char *name, const char *needle)
{
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};
    assert_int_equal(eb_npy_read(npy_fixture(name, p, sizeof p), &t, &err), -1);
    assert_null(t.data);
    if (!strstr(err.msg, needle) || !strstr(err.msg, name))
        fail_msg("%s: message \"%s\" lacks \"%s\" or the file name", name, err.msg, needle);
    assert_null(strchr(err.msg, '\n'));
}

static void test_refusals(void **state)
{
    (void)state;
    npy_expect_refusal("bigendian.npy", "big-endian");
    npy_expect_refusal("fortran.npy", "Fortran");
    npy_expect_refusal("truncated.npy", "truncated");
    npy_expect_refusal("small.csv", "not a .npy");
    npy_expect_refusal("no-such-file.npy", "cannot open");
}

static void npy_write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* A header that claims a huge shape must fail on the size check, not in malloc. */
static void test_absurd_shape_and_bad_dtype(void **state)
{
    char p[512];
    eb_tensor t;
    eb_err err = {{0}};
    char buf[128];
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }";
    size_t hl = strlen(dict);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)hl;
    buf[9] = 0;
    memcpy(buf + 10, dict, hl);
    snprintf(p, sizeof p, "%s/huge.npy", (char *)*state);
    npy_write_bytes(p, buf, 10 + hl);
    assert_int_equal(eb_npy_read(p, &t, &err), -1);
    assert_non_null(strstr(err.msg, "truncated"));

    dict = "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }";
    hl = strlen(dict);
    buf[8] = (char)hl;
    memcpy(buf + 10, dict, hl);
    npy_write_bytes(p, buf, 10 + hl + 8);
    assert_int_equal(eb_npy_read(p, &t, &err), -1);
    assert_non_null(strstr(err.msg, "unsupported dtype '<c8'"));
}

static void test_write_matches_numpy_bytes(void **state)
{
    char p[512], q[512];
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    eb_tensor t = {.dtype = EB_F32, .ndim = 3, .shape = {4, 2, 3}, .data = x};
    eb_err err = {{0}};
    snprintf(p, sizeof p, "%s/mine.npy", (char *)*state);
    assert_int_equal(eb_npy_write(p, &t, &err), 0);
    size_t n1, n2;
    char *a = npy_slurp(p, &n1);
    char *b = npy_slurp(npy_fixture("tiny_x.npy", q, sizeof q), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);

    /* One dimension: numpy writes "(3,)"; a scalar: "()". */
    uint8_t u[3] = {0, 1, 255};
    eb_tensor t1 = {.dtype = EB_U8, .ndim = 1, .shape = {3}, .data = u};
    assert_int_equal(eb_npy_write(p, &t1, &err), 0);
    a = npy_slurp(p, &n1);
    b = npy_slurp(npy_fixture("dtype_u1.npy", q, sizeof q), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    float s = 2.5f;
    eb_tensor t0 = {.dtype = EB_F32, .ndim = 0, .data = &s};
    assert_int_equal(eb_npy_write(p, &t0, &err), 0);
    a = npy_slurp(p, &n1);
    b = npy_slurp(npy_fixture("scalar_f4.npy", q, sizeof q), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
}

static void test_round_trip_every_dtype(void **state)
{
    static const eb_dtype types[] = {EB_F32, EB_F64, EB_I8,  EB_U8,
                                     EB_I16, EB_I32, EB_I64, EB_BOOL};
    char p[512];
    unsigned char data[2 * 5 * 7 * 8];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        if (types[k] == EB_BOOL)
            for (size_t i = 0; i < sizeof data; i++)
                data[i] &= 1;
        eb_tensor t = {.dtype = types[k], .ndim = 3, .shape = {2, 5, 7}, .data = data}, r;
        eb_err err = {{0}};
        snprintf(p, sizeof p, "%s/rt_%s.npy", (char *)*state, eb_dtype_name(types[k]));
        assert_int_equal(eb_npy_write(p, &t, &err), 0);
        assert_int_equal(eb_npy_read(p, &r, &err), 0);
        assert_int_equal(r.dtype, types[k]);
        assert_int_equal(r.ndim, 3);
        assert_int_equal(r.shape[0], 2);
        assert_int_equal(r.shape[1], 5);
        assert_int_equal(r.shape[2], 7);
        assert_memory_equal(r.data, data, eb_tensor_bytes(&t));
        /* Data starts on a 64-byte boundary. */
        size_t n;
        char *all = npy_slurp(p, &n);
        assert_int_equal((n - eb_tensor_bytes(&t)) % 64, 0);
        assert_int_equal(all[n - eb_tensor_bytes(&t) - 1], '\n');
        free(all);
        eb_tensor_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_numpy_float32),
        cmocka_unit_test(test_read_every_dtype),
        cmocka_unit_test(test_read_versions_2_and_3),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test_setup_teardown(test_absurd_shape_and_bad_dtype, npy_setup_tmp,
                                        npy_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_write_matches_numpy_bytes, npy_setup_tmp,
                                        npy_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_round_trip_every_dtype, npy_setup_tmp,
                                        npy_teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
