/* ref's int8 and sparse paths (issue 4): the integer GEMM (every micro-kernel the CPU runs,
 * edge tiles, extreme operands that would saturate a vpmaddubsw kernel) against a naive
 * loop; the QDQ fusion on a QDQ CNN against numpy's QDQ semantics (tests/data/ref/
 * make_quant_models.py), fused and unfused; the sparse kernels against numpy and against the
 * dense path, and which nodes took each path. */
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
#include "ref/conv_s8.h"
#include "ref/gemm_s8.h"
#include "ref/ref_internal.h"
#include "ref/threadpool.h"

#define REF_QUANT_DIR "tests/data/ref/"

static uint32_t ref_quant_next(uint32_t *st)
{
    *st = *st * 1664525u + 1013904223u;
    return *st >> 8;
}

/* C = A x B by the definition; A int8 [M, K], B uint8 [K, N]. */
static void ref_quant_naive(int64_t M, int64_t N, int64_t K, const int8_t *A, const uint8_t *B,
                            int32_t *C)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int32_t s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (int32_t)A[i * K + k] * (int32_t)B[k * N + j];
            C[i * N + j] = s;
        }
}

static void ref_quant_gemm_case(eb_ref_qkernel_fn kern, int64_t M, int64_t N, int64_t K,
                                int extreme, eb_ref_pool *pool, uint32_t seed)
{
    int8_t *A = malloc((size_t)(M * K));
    uint8_t *B = malloc((size_t)(K * N)), *Bt = malloc((size_t)(K * N));
    int32_t *want = malloc((size_t)(M * N) * 4), *got = malloc((size_t)(M * N) * 4);
    int8_t *pa = malloc(eb_ref_qpack_a_bytes(M, K));
    uint8_t *pb = malloc(eb_ref_qpack_b_bytes(K, N)), *pbt = malloc(eb_ref_qpack_b_bytes(K, N));
    assert_true(A && B && Bt && want && got && pa && pb && pbt);
    for (int64_t i = 0; i < M * K; i++)
        A[i] = extreme ? (int8_t)(i % 3 ? -128 : 127) : (int8_t)(ref_quant_next(&seed) & 0xff);
    for (int64_t i = 0; i < K * N; i++)
        B[i] = extreme ? 255 : (uint8_t)(ref_quant_next(&seed) & 0xff);
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++)
            Bt[j * K + k] = B[k * N + j];
    ref_quant_naive(M, N, K, A, B, want);
    eb_ref_qpack_a(M, K, A, K, pa);
    eb_ref_qpack_b(K, N, B, N, 1, pb);
    eb_ref_qpack_b(K, N, Bt, 1, K, pbt); /* B given transposed packs the same */
    assert_memory_equal(pb, pbt, eb_ref_qpack_b_bytes(K, N));
    { /* rows by offsets (reversed order, slack past each row) pack the same */
        int64_t ld = (N + 15) / 16 * 16 + 16;
        uint8_t *rows = calloc((size_t)(K * ld), 1), *pbo = malloc(eb_ref_qpack_b_bytes(K, N));
        int64_t *koff = malloc((size_t)K * sizeof *koff);
        assert_true(rows && pbo && koff);
        for (int64_t k = 0; k < K; k++) {
            koff[k] = (K - 1 - k) * ld;
            memcpy(rows + koff[k], B + k * N, (size_t)N);
        }
        eb_ref_qpack_b_off(K, N, rows, koff, pbo);
        assert_memory_equal(pb, pbo, eb_ref_qpack_b_bytes(K, N));
        free(rows), free(pbo), free(koff);
    }
    memset(got, 0x55, (size_t)(M * N) * 4);
    eb_ref_qgemm(M, N, K, pa, pb, got, N, kern, pool);
    for (int64_t i = 0; i < M * N; i++)
        if (got[i] != want[i])
            fail_msg("M=%lld N=%lld K=%lld: C[%lld] = %d, want %d", (long long)M, (long long)N,
                     (long long)K, (long long)i, got[i], want[i]);
    free(A), free(B), free(Bt), free(want), free(got), free(pa), free(pb), free(pbt);
}

static void test_qgemm_kernels(void **state)
{
    (void)state;
    eb_ref_qkernel_fn kerns[4] = {eb_ref_qkernel_c, NULL, NULL, NULL};
    int nk = 1;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        kerns[nk++] = eb_ref_qkernel_avx2;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        kerns[nk++] = eb_ref_qkernel_vnni;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw"))
        kerns[nk++] = eb_ref_qkernel_vnni512;
#endif
    const char *best = NULL;
    assert_non_null(eb_ref_qkernel_best(&best));
    assert_non_null(best);
    static const int64_t sizes[][3] = {{1, 1, 1},   {6, 16, 4},  {7, 17, 5},  {13, 33, 27},
                                       {5, 3, 300}, {64, 49, 72}, {2, 100, 3},
                                       {32, 196, 144}, {16, 784, 9}};
    for (int k = 0; k < nk; k++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            ref_quant_gemm_case(kerns[k], sizes[s][0], sizes[s][1], sizes[s][2], 0, NULL,
                                (uint32_t)(s + 1));
            /* 255 x -128 products, 2 or 4 per int32 lane: beyond int16 */
            ref_quant_gemm_case(kerns[k], sizes[s][0], sizes[s][1], sizes[s][2], 1, NULL, 9);
        }
}

/* Every matrix-vector kernel against ref_quant_naive with N = 1 (x past K padded with 0x77:
 * the packed weights must be zero there). */
static void test_qgemv_kernels(void **state)
{
    (void)state;
    eb_ref_qgemv_fn kerns[3] = {eb_ref_qgemv_c, NULL, NULL};
    int nk = 1;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        kerns[nk++] = eb_ref_qgemv_avx2;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw"))
        kerns[nk++] = eb_ref_qgemv_vnni;
#endif
    assert_non_null(eb_ref_qgemv_best(NULL));
    /* one panel, partial panels, whole and partial 64-row blocks */
    static const int64_t sizes[][2] = {{1, 1},   {16, 4},  {17, 5},  {10, 128}, {128, 1568},
                                       {33, 31}, {5, 300}, {64, 9},  {65, 13},  {200, 37},
                                       {256, 7}, {112, 21}};
    uint32_t seed = 5;
    for (int k = 0; k < nk; k++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
            for (int extreme = 0; extreme < 2; extreme++) {
                int64_t M = sizes[z][0], K = sizes[z][1], K4 = (K + 3) / 4 * 4;
                int8_t *A = malloc((size_t)(M * K)), *pv = malloc(eb_ref_qpack_v_bytes(M, K));
                uint8_t *x = malloc((size_t)K4);
                int32_t *want = malloc((size_t)M * 4), *got = malloc((size_t)M * 4 + 64);
                assert_true(A && pv && x && want && got);
                for (int64_t i = 0; i < M * K; i++)
                    A[i] = extreme ? (int8_t)(i % 5 ? -128 : 127)
                                   : (int8_t)(ref_quant_next(&seed) & 0xff);
                for (int64_t i = 0; i < K4; i++)
                    x[i] = i >= K ? 0x77 : extreme ? 255 : (uint8_t)(ref_quant_next(&seed) & 0xff);
                ref_quant_naive(M, 1, K, A, x, want);
                eb_ref_qpack_v(M, K, A, K, pv);
                memset(got, 0x55, (size_t)M * 4 + 64);
                kerns[k](M, K4 / 4, pv, x, got);
                for (int64_t i = 0; i < M; i++)
                    if (got[i] != want[i])
                        fail_msg("kernel %d M=%lld K=%lld: y[%lld] = %d, want %d", k,
                                 (long long)M, (long long)K, (long long)i, got[i], want[i]);
                for (int i = 0; i < 64; i++) /* nothing written past y[M) */
                    assert_int_equal(((unsigned char *)got)[M * 4 + i], 0x55);
                free(A), free(pv), free(x), free(want), free(got);
            }
}

/* The direct pixel-major conv row kernel (conv_s8.h) against its portable reference: M 16 and
 * 32, kw 1..4, odd widths (a partial block of eight pixels), several planes and rows, random
 * and extreme (255 x -128) bytes. */
static void test_cs8_rows(void **state)
{
    (void)state;
    eb_ref_cs8_row_fn fast = eb_ref_cs8_best();
    if (!fast)
        skip();
    static const int64_t shapes[][5] = {/* M, cin, kh, kw, ow */
                                        {16, 1, 3, 3, 28}, {32, 16, 3, 3, 14}, {16, 3, 2, 4, 13},
                                        {32, 2, 1, 1, 9},  {16, 5, 3, 2, 7},   {32, 1, 4, 4, 1}};
    uint32_t seed = 77;
    for (int extreme = 0; extreme < 2; extreme++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            int64_t M = shapes[i][0], cin = shapes[i][1], kh = shapes[i][2], kw = shapes[i][3];
            int64_t ow = shapes[i][4], oh = 3, wp = ow + kw - 1, hp = oh + kh - 1;
            int64_t K = cin * kh * kw;
            size_t xbytes = (size_t)(cin * hp * wp + 64);
            uint8_t *xp = malloc(xbytes);
            int8_t *w = malloc((size_t)(M * K)), *wd = malloc(eb_ref_cs8_pack_bytes(M, cin, kh));
            size_t on = (size_t)((ow + 8) * M);
            int32_t *o0 = calloc(on, 4), *o1 = calloc(on, 4);
            assert_true(xp && w && wd && o0 && o1);
            for (size_t j = 0; j < xbytes; j++)
                xp[j] = extreme ? 255 : (uint8_t)(ref_quant_next(&seed) & 0xff);
            for (int64_t j = 0; j < M * K; j++)
                w[j] = extreme ? -128 : (int8_t)(ref_quant_next(&seed) & 0xff);
            eb_ref_cs8_pack(M, cin, kh, kw, w, wd);
            for (int64_t oy = 0; oy < oh; oy++) {
                eb_ref_cs8_row_c(xp, hp, wp, cin, kh, oy, ow, wd, M, o0);
                fast(xp, hp, wp, cin, kh, oy, ow, wd, M, o1);
                assert_memory_equal(o0, o1, (size_t)(ow * M) * 4);
                /* the reference against the convolution's definition */
                for (int64_t ox = 0; ox < ow; ox++)
                    for (int64_t m = 0; m < M; m++) {
                        int32_t want = 0;
                        for (int64_t ci = 0; ci < cin; ci++)
                            for (int64_t ky = 0; ky < kh; ky++)
                                for (int64_t kx = 0; kx < kw; kx++)
                                    want += (int32_t)xp[(ci * hp + oy + ky) * wp + ox + kx] *
                                            w[m * K + (ci * kh + ky) * kw + kx];
                        assert_int_equal(o0[ox * M + m], want);
                    }
            }
            free(xp), free(w), free(wd), free(o0), free(o1);
        }
}

/* Naive stride-1 convolution of the padded input xp (cin planes hp x wp) into want[m][oy * wp
 * + ox] (the wide columns eb_ref_cw_* computes; junk columns left alone). */
static void ref_quant_conv_naive(int64_t M, int64_t cin, int64_t kh, int64_t kw, int64_t hp,
                                 int64_t wp, const uint8_t *xp, const int8_t *w, int32_t *want)
{
    int64_t oh = hp - kh + 1, ow = wp - kw + 1, K = cin * kh * kw;
    for (int64_t m = 0; m < M; m++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int32_t s = 0;
                for (int64_t ci = 0; ci < cin; ci++)
                    for (int64_t ky = 0; ky < kh; ky++)
                        for (int64_t kx = 0; kx < kw; kx++)
                            s += (int32_t)xp[(ci * hp + oy + ky) * wp + ox + kx] *
                                 w[m * K + (ci * kh + ky) * kw + kx];
                want[m * (oh * wp) + oy * wp + ox] = s;
            }
}

/* The int16-pair direct conv (conv_s8.h eb_ref_cw_*, AVX2 without VNNI) against the
 * definition: both pairings (channel pairs, kx pairs for cin 1 and wide kernels), odd
 * channel counts (a zero partner), pads filled with a zero point, random bytes (uint8
 * activations and int8 ones stored + 128 look alike here) and extremes (255 x -128 and
 * 0 x 127), the portable and AVX2 kernels, whole and split in column ranges as threads run
 * it; the AVX2 widening equals the portable one. */
static void test_cw_conv(void **state)
{
    (void)state;
    static const int64_t shapes[][7] = {/* M, cin, kh, kw, oh, ow, pad */
                                        {16, 1, 3, 3, 28, 28, 1}, {32, 16, 3, 3, 14, 14, 1},
                                        {4, 3, 3, 3, 5, 7, 1},    {8, 5, 2, 4, 3, 13, 0},
                                        {12, 2, 1, 1, 4, 9, 0},   {4, 1, 5, 5, 6, 6, 2},
                                        {20, 7, 3, 5, 2, 3, 2},   {32, 1, 1, 4, 1, 1, 0}};
    eb_ref_cw_fn fast = eb_ref_cw_best();
    uint32_t seed = 99;
    int modes = 0;
    for (int form = 0; form < 3; form++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            int64_t M = shapes[i][0], cin = shapes[i][1], kh = shapes[i][2], kw = shapes[i][3];
            int64_t oh = shapes[i][4], ow = shapes[i][5], pad = shapes[i][6];
            int64_t hp = oh + kh - 1, wp = ow + kw - 1, K = cin * kh * kw;
            eb_ref_cw cw;
            assert_int_equal(eb_ref_cw_init(&cw, M, cin, kh, kw, hp, wp), 0);
            /* the pairing with fewer groups (both occur among the shapes) */
            assert_int_equal(cw.mode, cin * kh * ((kw + 1) / 2) < (cin + 1) / 2 * kh * kw);
            modes |= 1 << cw.mode;
            int64_t cols = eb_ref_cw_cols(&cw, oh);
            size_t xbytes = (size_t)(cin * hp * wp + 64);
            uint8_t *xp = malloc(xbytes), zx = (uint8_t)(ref_quant_next(&seed) & 0xff);
            int8_t *w = malloc((size_t)(M * K));
            int32_t *wd = malloc(eb_ref_cw_w_elems(&cw, M) * 4);
            int32_t *koff = malloc((size_t)cw.G * 4);
            size_t xe = eb_ref_cw_x_elems(&cw, oh);
            int32_t *xw = malloc(xe * 4), *xw2 = malloc(xe * 4);
            int32_t *want = calloc((size_t)(M * oh * wp), 4);
            int32_t *got = malloc((size_t)(M * cols) * 4);
            assert_true(xp && w && wd && koff && xw && xw2 && want && got);
            memset(xp, zx, xbytes); /* the padding (and slack) holds the zero point */
            for (int64_t ci = 0; ci < cin; ci++)
                for (int64_t y = pad; y < hp - pad; y++)
                    for (int64_t x = pad; x < wp - pad; x++)
                        xp[(ci * hp + y) * wp + x] =
                            form == 1 ? 255 : form == 2 ? 0 : (uint8_t)(ref_quant_next(&seed));
            for (int64_t j = 0; j < M * K; j++)
                w[j] = form == 1 ? -128 : form == 2 ? 127 : (int8_t)(ref_quant_next(&seed));
            ref_quant_conv_naive(M, cin, kh, kw, hp, wp, xp, w, want);
            eb_ref_cw_pack(&cw, M, w, wd);
            eb_ref_cw_offsets(&cw, koff);
            int avx2 = cw.avx2;
            cw.avx2 = 0;
            eb_ref_cw_widen(&cw, oh, xp, xw);
            if (avx2) {
                cw.avx2 = 1;
                memset(xw2, 0x55, xe * 4);
                eb_ref_cw_widen(&cw, oh, xp, xw2);
                assert_memory_equal(xw, xw2, xe * 4);
            }
            for (int k = 0; k < 3; k++) {
                eb_ref_cw_fn run = k == 0 ? eb_ref_cw_run_c : fast;
                if (!run)
                    continue;
                memset(got, 0x55, (size_t)(M * cols) * 4);
                if (k < 2) {
                    run(&cw, xw, koff, wd, M, 0, cols, got, cols);
                } else { /* column ranges of 16, in reverse, as pool tasks may run them */
                    for (int64_t n0 = (cols - 1) / 16 * 16; n0 >= 0; n0 -= 16)
                        run(&cw, xw, koff, wd, M, n0, n0 + 16 < cols ? n0 + 16 : cols, got,
                            cols);
                }
                for (int64_t m = 0; m < M; m++)
                    for (int64_t oy = 0; oy < oh; oy++)
                        for (int64_t ox = 0; ox < ow; ox++) {
                            int64_t n = oy * wp + ox;
                            if (got[m * cols + n] != want[m * oh * wp + n])
                                fail_msg("shape %zu form %d kernel %d: C[%lld][%lld] = %d, "
                                         "want %d",
                                         i, form, k, (long long)m, (long long)n,
                                         got[m * cols + n], want[m * oh * wp + n]);
                        }
            }
            free(xp), free(w), free(wd), free(koff), free(xw), free(xw2), free(want), free(got);
        }
    assert_int_equal(modes, 3);
}

static void test_qgemm_threads(void **state)
{
    (void)state;
    eb_ref_pool *pool = NULL;
    eb_err err = {0};
    assert_int_equal(eb_ref_pool_create(2, 0, &pool, &err), 0);
    ref_quant_gemm_case(NULL, 30, 77, 50, 0, pool, 3);
    eb_ref_pool_destroy(pool);
}

static void *ref_quant_open_t(const char *file, int threads, int n_opt, const eb_option *opt)
{
    char path[256];
    snprintf(path, sizeof path, REF_QUANT_DIR "%s", file);
    eb_model m = {.path = path, .format = "onnx"};
    eb_config c = {.threads = threads, .batch = 1, .cores = "all", .options = opt,
                   .n_options = (size_t)n_opt};
    void *s = NULL;
    eb_err err = {0};
    if (eb_backend_ref.open(&m, &c, &s, &err) != 0)
        fail_msg("%s: %s", file, err.msg);
    return s;
}

static void *ref_quant_open(const char *file, int n_opt, const eb_option *opt)
{
    return ref_quant_open_t(file, 1, n_opt, opt);
}

/* Runs stem.onnx on stem_x.npy; returns the largest |y - stem_y| and the count above tol. */
static double ref_quant_run(void *s, const char *stem, double tol, int *n_over)
{
    char path[256];
    eb_tensor x = {0}, want = {0};
    eb_err err = {0};
    snprintf(path, sizeof path, REF_QUANT_DIR "%s_x.npy", stem);
    assert_int_equal(eb_npy_read(path, &x, &err), 0);
    snprintf(path, sizeof path, REF_QUANT_DIR "%s_y.npy", stem);
    assert_int_equal(eb_npy_read(path, &want, &err), 0);
    size_t n = eb_tensor_numel(&want);
    eb_tensor y = want;
    y.data = calloc(n, sizeof(float));
    if (eb_backend_ref.run(s, &x, 1, &y, 1, &err) != 0)
        fail_msg("%s: %s", stem, err.msg);
    double worst = 0;
    *n_over = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)((float *)y.data)[i] - ((float *)want.data)[i]);
        worst = d > worst ? d : worst;
        *n_over += d > tol;
    }
    free(y.data);
    eb_tensor_free(&x), eb_tensor_free(&want);
    return worst;
}

static int ref_quant_count_op(const ref_session *s, const char *op_type)
{
    int n = 0;
    for (int i = 0; i < s->n_nodes; i++)
        n += !s->nodes[i].folded && strcmp(s->nodes[i].op_type, op_type) == 0;
    return n;
}

static void test_qdq_cnn(void **state)
{
    (void)state;
    /* fused: three Convs and the Gemm on integers; every QuantizeLinear after them and the
     * activation DequantizeLinear before them gone */
    ref_session *s = ref_quant_open("q_cnn.onnx", 0, NULL);
    assert_int_equal(ref_qdq_nodes(s), 4);
    assert_int_equal(ref_quant_count_op(s, "Conv[int8]"), 3);
    assert_int_equal(ref_quant_count_op(s, "Gemm[int8]"), 1);
    assert_int_equal(ref_quant_count_op(s, "Relu"), 0);
    int over = 0;
    /* the output's quantum is 0.05: a result one step off (a rounding tie decided the other
     * way by float summation order) is tolerated on at most one of the ten outputs */
    double worst = ref_quant_run(s, "q_cnn", 1e-6, &over);
    assert_true(worst < 0.05 + 1e-6);
    assert_true(over <= 1);
    eb_backend_ref.close(s);
    /* unfused: the operators one by one */
    eb_option off = {"qdq_fuse", "0"};
    s = ref_quant_open("q_cnn.onnx", 1, &off);
    assert_int_equal(ref_qdq_nodes(s), 0);
    worst = ref_quant_run(s, "q_cnn", 1e-6, &over);
    assert_true(worst < 0.05 + 1e-6);
    assert_true(over <= 1);
    eb_backend_ref.close(s);
}

/* PyTorch's layout (MaxPool and Flatten on the integers between QuantizeLinear and
 * DequantizeLinear): the whole chain fused, the MaxPools run on bytes, every activation
 * between fused nodes stored as one byte; the same numbers as numpy and as the operators
 * run one by one. */
static void test_qdq_chain(void **state)
{
    (void)state;
    int over = 0;
    ref_session *s = ref_quant_open("q_chain.onnx", 0, NULL);
    assert_int_equal(ref_quant_count_op(s, "Conv[int8]"), 2);
    assert_int_equal(ref_quant_count_op(s, "MaxPool[int8]"), 0); /* pooled inside the Convs */
    assert_int_equal(ref_quant_count_op(s, "QuantizeLinear"), 0); /* the input's: in conv 1 */
    assert_int_equal(ref_quant_count_op(s, "Gemm[int8]"), 1);
    assert_int_equal(ref_quant_count_op(s, "Flatten"), 0);
    assert_int_equal(ref_quant_count_op(s, "DequantizeLinear"), 1); /* the output's */
    int bytes = 0;
    for (int i = 0; i < s->n_vals; i++)
        bytes += s->vals[i].dtype == EB_U8;
    assert_int_equal(bytes, 2); /* the two pooled conv results */
    eb_backend_ref.close(s);
    /* the MaxPools as nodes of their own (qdq_conv_pool=0), on bytes */
    eb_option sep[] = {{"qdq_conv_pool", "0"}, {"qdq_quant_in", "0"}};
    s = ref_quant_open("q_chain.onnx", 2, sep);
    assert_int_equal(ref_quant_count_op(s, "MaxPool[int8]"), 2);
    assert_int_equal(ref_quant_count_op(s, "QuantizeLinear"), 1);
    bytes = 0;
    for (int i = 0; i < s->n_vals; i++)
        bytes += s->vals[i].dtype == EB_U8;
    assert_int_equal(bytes, 4); /* conv, pool, conv, pool results */
    double worst = ref_quant_run(s, "q_chain", 1e-6, &over);
    assert_true(worst < 0.05 + 1e-6);
    assert_true(over <= 1);
    eb_backend_ref.close(s);
    eb_option off = {"qdq_fuse", "0"};
    s = ref_quant_open("q_chain.onnx", 1, &off);
    assert_int_equal(ref_qdq_nodes(s), 0);
    double worst0 = ref_quant_run(s, "q_chain", 1e-6, &over);
    assert_true(worst0 < 0.05 + 1e-6);
    eb_backend_ref.close(s);
}

/* Runs session s on x (float, numel n) into y (n_out floats). */
static void ref_quant_run_raw(void *s, const eb_tensor *x, float *y, size_t n_out)
{
    eb_tensor out = {.dtype = EB_F32, .ndim = 2, .shape = {1, (int64_t)n_out}, .data = y};
    eb_err err = {0};
    if (eb_backend_ref.run(s, x, 1, &out, 1, &err) != 0)
        fail_msg("run: %s", err.msg);
}

/* The int8 fast paths (MaxPool folded into the Conv's accumulators, the input's
 * QuantizeLinear folded into the first Conv, the AVX-512 requantization) give
 * the bytes the separate nodes give, on every ISA: the models' own inputs, inputs far
 * beyond the quantization range (saturation at both ends), exact rounding ties (x = (k + 0.5)
 * * scale) and zeros. */
static void ref_quant_fast_case(const char *file, const int64_t *shape, int ndim, size_t n_out,
                                int threads)
{
    static const char *isas[] = {NULL, "avx2", "portable"};
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= (size_t)shape[d];
    float *xs = malloc(n * sizeof *xs), *y0 = calloc(n_out, sizeof *y0);
    float *y1 = calloc(n_out, sizeof *y1);
    assert_non_null(xs), assert_non_null(y0), assert_non_null(y1);
    eb_tensor x = {.dtype = EB_F32, .ndim = ndim, .data = xs};
    memcpy(x.shape, shape, (size_t)ndim * sizeof *shape);
    eb_option slow[] = {{"qdq_conv_pool", "0"}, {"qdq_quant_in", "0"}, {"qdq_direct", "0"}};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (isas[i])
            setenv("EDGEBENCH_REF_ISA", isas[i], 1);
        void *fast = ref_quant_open_t(file, threads, 0, NULL);
        void *ref = ref_quant_open(file, 3, slow);
        for (int form = 0; form < 5; form++) {
            uint32_t r = 12345u + (uint32_t)form;
            for (size_t j = 0; j < n; j++) {
                r = r * 1664525u + 1013904223u;
                float u = (float)(r >> 8) / 16777216.0f; /* [0, 1) */
                xs[j] = form == 0 ? u : form == 1 ? (u - 0.5f) * 40.0f
                      : form == 2 ? (float)((int)(u * 64) - 32) * 0.5f / 127.5f
                      : form == 3 ? 0.0f : (j % 2 ? 1e30f : -1e30f);
            }
            ref_quant_run_raw(fast, &x, y0, n_out);
            ref_quant_run_raw(ref, &x, y1, n_out);
            if (memcmp(y0, y1, n_out * sizeof *y0) != 0)
                fail_msg("%s isa %s input form %d threads %d: fast int8 path differs", file,
                         isas[i] ? isas[i] : "best", form, threads);
        }
        eb_backend_ref.close(fast);
        eb_backend_ref.close(ref);
        unsetenv("EDGEBENCH_REF_ISA");
    }
    free(xs), free(y0), free(y1);
}

static void test_qdq_fast_exact(void **state)
{
    (void)state;
    static const int64_t chain[] = {1, 2, 10, 10}, qcnn[] = {1, 3, 12, 12}, cnn[] = {1, 1, 28, 28};
    for (int t = 1; t <= 2; t++) { /* 2: the AVX2 direct conv splits its columns */
        ref_quant_fast_case("q_chain.onnx", chain, 4, 6, t);
        ref_quant_fast_case("q_cnn.onnx", qcnn, 4, 10, t);
    }
    FILE *f = fopen("models/cnn_int8.onnx", "rb"); /* the zoo's, when built */
    if (f) {
        fclose(f);
        ref_quant_fast_case("../../../models/cnn_int8.onnx", cnn, 4, 10, 1);
        ref_quant_fast_case("../../../models/cnn_int8.onnx", cnn, 4, 10, 2);
        ref_session *s = ref_quant_open("../../../models/cnn_int8.onnx", 0, NULL);
        assert_int_equal(ref_quant_count_op(s, "MaxPool[int8]"), 0);
        assert_int_equal(ref_quant_count_op(s, "QuantizeLinear"), 0);
        eb_backend_ref.close(s);
    }
}

/* Runs stem on the sparse kernels (n_sparse nodes expected) and on the dense path; both
 * against numpy, and against each other. */
static void ref_quant_sparse_case(const char *stem, int n_sparse)
{
    char file[64];
    snprintf(file, sizeof file, "%s.onnx", stem);
    ref_session *s = ref_quant_open(file, 0, NULL);
    assert_int_equal(ref_sparse_nodes(s), n_sparse);
    int over = 0;
    double worst = ref_quant_run(s, stem, 1e-4, &over);
    if (over)
        fail_msg("%s sparse: %d outputs off by up to %g", stem, over, worst);
    eb_backend_ref.close(s);
    eb_option dense = {"sparse_threshold", "1.5"};
    s = ref_quant_open(file, 1, &dense);
    assert_int_equal(ref_sparse_nodes(s), 0);
    worst = ref_quant_run(s, stem, 1e-4, &over);
    assert_int_equal(over, 0);
    eb_backend_ref.close(s);
    /* a threshold above the model's sparsity keeps it dense */
    eb_option high = {"sparse_threshold", "0.99"};
    s = ref_quant_open(file, 1, &high);
    assert_int_equal(ref_sparse_nodes(s), 0);
    eb_backend_ref.close(s);
}

static void test_sparse_models(void **state)
{
    (void)state;
    /* Gemm (+ fused Relu) and MatMul under 8 rows: the permute tiles on AVX-512 (48 and 12
     * outputs: a whole and a partial 16-lane group; 40 and 48 inputs: partial tiles), the
     * gather kernel on AVX2, scalar dots on the portable path */
    static const char *isas[] = {NULL, "avx2", "portable"};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (isas[i])
            setenv("EDGEBENCH_REF_ISA", isas[i], 1);
        ref_quant_sparse_case("sp_mlp", 2);
        unsetenv("EDGEBENCH_REF_ISA");
    }
    ref_quant_sparse_case("sp_mlp9", 2); /* 9 rows: the transposed kernel */
    ref_quant_sparse_case("sp_conv", 1); /* 1x1 Conv over the pixels */
    ref_session *s = ref_quant_open("sp_mlp.onnx", 0, NULL);
    assert_int_equal(ref_quant_count_op(s, "Gemm[sparse]"), 1);
    assert_int_equal(ref_quant_count_op(s, "MatMul[sparse]"), 1);
    assert_int_equal(ref_quant_count_op(s, "Relu"), 0); /* merged into the sparse Gemm */
    eb_backend_ref.close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qgemm_kernels),
        cmocka_unit_test(test_qgemv_kernels),
        cmocka_unit_test(test_qgemm_threads),
        cmocka_unit_test(test_cs8_rows),
        cmocka_unit_test(test_cw_conv),
        cmocka_unit_test(test_qdq_cnn),
        cmocka_unit_test(test_qdq_chain),
        cmocka_unit_test(test_qdq_fast_exact),
        cmocka_unit_test(test_sparse_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
