/* ref's float32 kernels against naive reference loops written straight from the ONNX
 * definitions: GEMM with every transpose flag, convolution with groups, strides, pads and
 * dilations, pooling, softmax in both layouts, broadcasting, batch normalization. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref/ref_internal.h"

/* A small deterministic generator, so failures reproduce. */
static float ref_kernels_rand(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *ref_kernels_fill(size_t n, uint32_t seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = ref_kernels_rand(&seed);
    return p;
}

static void ref_kernels_close(const float *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] - want[i]), scale = fabs(want[i]) > 1 ? fabs(want[i]) : 1;
        if (d > tol * scale)
            fail_msg("element %zu: got %.7g, want %.7g", i, got[i], want[i]);
    }
}

/* ---------------------------------------------------------------- GEMM */

static void test_sgemm_flags(void **state)
{
    (void)state;
    const int64_t sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {4, 8, 16}, {9, 17, 300}, {13, 1030, 5}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++) {
                    int64_t M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
                    float alpha = 0.75f, beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -0.5f;
                    /* padded leading dimensions catch stride mistakes */
                    int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 1;
                    float *A = ref_kernels_fill((size_t)((ta ? K : M) * lda), 1);
                    float *B = ref_kernels_fill((size_t)((tb ? N : K) * ldb), 2);
                    float *C = ref_kernels_fill((size_t)(M * ldc), 3);
                    double *want = malloc((size_t)(M * N) * sizeof *want);
                    for (int64_t i = 0; i < M; i++)
                        for (int64_t j = 0; j < N; j++) {
                            double s = 0;
                            for (int64_t k = 0; k < K; k++)
                                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                                     (tb ? B[j * ldb + k] : B[k * ldb + j]);
                            want[i * N + j] = alpha * s + (beta != 0 ? beta * C[i * ldc + j] : 0);
                        }
                    eb_ref_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                    for (int64_t i = 0; i < M; i++)
                        ref_kernels_close(C + i * ldc, want + i * N, (size_t)N, 1e-4);
                    free(A), free(B), free(C), free(want);
                }
}

/* ---------------------------------------------------------------- convolution */

static void naive_conv(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                       double *y)
{
    int64_t cg = p->c / p->group, mg = p->m / p->group;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++)
            for (int64_t oh = 0; oh < p->oh; oh++)
                for (int64_t ow = 0; ow < p->ow; ow++) {
                    double s = b ? b[m] : 0;
                    int64_t g = m / mg;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t i = 0; i < p->kh; i++)
                            for (int64_t j = 0; j < p->kw; j++) {
                                int64_t ih = oh * p->sh - p->pt + i * p->dh;
                                int64_t iw = ow * p->sw - p->pl + j * p->dw;
                                if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w)
                                    continue;
                                s += (double)x[((n * p->c + g * cg + c) * p->h + ih) * p->w + iw] *
                                     w[((m * cg + c) * p->kh + i) * p->kw + j];
                            }
                    y[((n * p->m + m) * p->oh + oh) * p->ow + ow] = s;
                }
}

static void ref_kernels_conv_case(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m,
                                  int64_t kh, int64_t kw, int64_t s, int64_t d, int64_t pad,
                                  int64_t group, int bias)
{
    eb_ref_conv2d p = {.n = n, .c = c, .h = h, .w = w, .m = m, .kh = kh, .kw = kw, .sh = s,
                       .sw = s + (s > 1 ? 1 : 0), .dh = d, .dw = d, .pt = pad, .pl = pad,
                       .pb = pad ? pad - 1 : 0, .pr = pad, .group = group};
    p.oh = eb_ref_conv_out(h, kh, p.sh, d, p.pt, p.pb, 0);
    p.ow = eb_ref_conv_out(w, kw, p.sw, d, p.pl, p.pr, 0);
    assert_true(p.oh > 0 && p.ow > 0);
    size_t ny = (size_t)(n * m * p.oh * p.ow);
    float *x = ref_kernels_fill((size_t)(n * c * h * w), 11);
    float *wt = ref_kernels_fill((size_t)(m * (c / group) * kh * kw), 12);
    float *b = bias ? ref_kernels_fill((size_t)m, 13) : NULL;
    float *y = malloc(ny * sizeof *y);
    float *scratch = malloc((eb_ref_conv2d_scratch(&p) + 1) * sizeof *scratch);
    double *want = malloc(ny * sizeof *want);
    naive_conv(&p, x, wt, b, want);
    eb_ref_conv2d_run(&p, x, wt, b, y, scratch);
    ref_kernels_close(y, want, ny, 1e-4);
    free(x), free(wt), free(b), free(y), free(scratch), free(want);
}

static void test_conv2d(void **state)
{
    (void)state;
    /* n, c, h, w, m, kh, kw, stride, dilation, pad, group, bias */
    ref_kernels_conv_case(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 1, 0);
    ref_kernels_conv_case(2, 3, 8, 7, 4, 3, 3, 1, 1, 1, 1, 1);  /* padded, with bias */
    ref_kernels_conv_case(1, 4, 9, 9, 6, 3, 2, 2, 1, 1, 2, 1);  /* groups, strides */
    ref_kernels_conv_case(2, 4, 10, 11, 4, 3, 3, 1, 2, 2, 4, 0); /* depthwise, dilated */
    ref_kernels_conv_case(1, 6, 6, 6, 9, 1, 1, 1, 1, 0, 3, 1);  /* pointwise: no im2col */
    ref_kernels_conv_case(1, 2, 12, 12, 3, 5, 5, 3, 1, 2, 1, 1); /* big stride, asymmetric pad */
}

static void test_conv_out(void **state)
{
    (void)state;
    assert_int_equal(eb_ref_conv_out(28, 3, 1, 1, 1, 1, 0), 28);
    assert_int_equal(eb_ref_conv_out(28, 2, 2, 1, 0, 0, 0), 14);
    assert_int_equal(eb_ref_conv_out(5, 2, 2, 1, 0, 0, 0), 2);
    assert_int_equal(eb_ref_conv_out(5, 2, 2, 1, 0, 0, 1), 3);  /* ceil_mode */
    assert_int_equal(eb_ref_conv_out(4, 3, 2, 1, 1, 1, 1), 3);  /* last window starts inside */
    assert_int_equal(eb_ref_conv_out(5, 2, 2, 1, 1, 1, 1), 3);  /* it would start in the pad */
    assert_int_equal(eb_ref_conv_out(7, 3, 1, 2, 0, 0, 0), 3);  /* dilation 2: effective 5 */
    assert_int_equal(eb_ref_conv_out(2, 5, 1, 1, 0, 0, 0), 0);  /* does not fit */
}

/* ---------------------------------------------------------------- pooling */

static void test_pooling(void **state)
{
    (void)state;
    for (int incl = 0; incl < 2; incl++) {
        eb_ref_conv2d p = {.n = 2, .c = 3, .h = 7, .w = 6, .kh = 3, .kw = 2, .sh = 2, .sw = 2,
                           .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 0,
                           .count_include_pad = incl};
        p.oh = eb_ref_conv_out(p.h, p.kh, p.sh, 1, p.pt, p.pb, 1);
        p.ow = eb_ref_conv_out(p.w, p.kw, p.sw, 1, p.pl, p.pr, 1);
        size_t ny = (size_t)(p.n * p.c * p.oh * p.ow);
        float *x = ref_kernels_fill((size_t)(p.n * p.c * p.h * p.w), 21);
        float *ymax = malloc(ny * sizeof *ymax), *yavg = malloc(ny * sizeof *yavg);
        double *wmax = malloc(ny * sizeof *wmax), *wavg = malloc(ny * sizeof *wavg);
        for (int64_t nc = 0; nc < p.n * p.c; nc++)
            for (int64_t oh = 0; oh < p.oh; oh++)
                for (int64_t ow = 0; ow < p.ow; ow++) {
                    double mx = -INFINITY, sum = 0;
                    int cnt = 0, cnt_pad = 0;
                    for (int64_t i = 0; i < p.kh; i++)
                        for (int64_t j = 0; j < p.kw; j++) {
                            int64_t ih = oh * p.sh - p.pt + i, iw = ow * p.sw - p.pl + j;
                            /* positions inside the padded input count with count_include_pad */
                            if (ih < p.h + p.pb && iw < p.w + p.pr)
                                cnt_pad++;
                            if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w)
                                continue;
                            double v = x[(nc * p.h + ih) * p.w + iw];
                            mx = v > mx ? v : mx;
                            sum += v;
                            cnt++;
                        }
                    size_t o = (size_t)((nc * p.oh + oh) * p.ow + ow);
                    wmax[o] = mx;
                    wavg[o] = sum / (incl ? cnt_pad : cnt);
                }
        eb_ref_maxpool2d(&p, x, ymax);
        eb_ref_avgpool2d(&p, x, yavg);
        ref_kernels_close(ymax, wmax, ny, 1e-6);
        ref_kernels_close(yavg, wavg, ny, 1e-5);
        free(x), free(ymax), free(yavg), free(wmax), free(wavg);
    }
    float gx[2 * 3] = {1, 2, 3, -4, 0, 10}, gy[2];
    eb_ref_global_avgpool(2, 3, gx, gy);
    assert_float_equal(gy[0], 2.0f, 1e-6);
    assert_float_equal(gy[1], 2.0f, 1e-6);
}

/* ---------------------------------------------------------------- softmax, BN, relu */

static void test_softmax(void **state)
{
    (void)state;
    /* [2, 3, 4]: softmax over axis 1 (len 3, inner 4) and over the last axis (len 4) */
    float *x = ref_kernels_fill(24, 31), y[24];
    double want[24];
    x[5] = 80.0f; /* large values must not overflow */
    eb_ref_softmax(2, 3, 4, x, y);
    for (int o = 0; o < 2; o++)
        for (int in = 0; in < 4; in++) {
            double mx = -INFINITY, s = 0;
            for (int j = 0; j < 3; j++)
                mx = fmax(mx, x[(o * 3 + j) * 4 + in]);
            for (int j = 0; j < 3; j++)
                s += exp(x[(o * 3 + j) * 4 + in] - mx);
            for (int j = 0; j < 3; j++)
                want[(o * 3 + j) * 4 + in] = exp(x[(o * 3 + j) * 4 + in] - mx) / s;
        }
    ref_kernels_close(y, want, 24, 1e-5);
    eb_ref_softmax(6, 4, 1, x, y);
    for (int r = 0; r < 6; r++) {
        double s = 0;
        for (int j = 0; j < 4; j++)
            s += y[r * 4 + j];
        assert_float_equal(s, 1.0, 1e-5);
        assert_true(y[r * 4] > 0);
    }
    free(x);
}

static void test_batchnorm_relu(void **state)
{
    (void)state;
    float x[2 * 3 * 2] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
    float sc[3] = {1, 2, 0.5f}, b[3] = {0, 1, -1}, mean[3] = {1, 0, 2}, var[3] = {4, 1, 0.25f};
    float y[12], r[12];
    eb_ref_batchnorm(2, 3, 2, x, sc, b, mean, var, 0.0f, y);
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 2; i++) {
                int k = (n * 3 + c) * 2 + i;
                double want = (x[k] - mean[c]) / sqrt(var[c]) * sc[c] + b[c];
                assert_float_equal(y[k], want, 1e-5);
            }
    eb_ref_relu(12, x, r);
    for (int i = 0; i < 12; i++)
        assert_float_equal(r[i], x[i] > 0 ? x[i] : 0, 0);
}

/* ---------------------------------------------------------------- broadcasting */

static void ref_kernels_bcast_case(int na, const int64_t *sa, int nb, const int64_t *sb)
{
    eb_ref_bcast p;
    assert_int_equal(eb_ref_bcast_plan(na, sa, nb, sb, &p), 0);
    int nd = na > nb ? na : nb;
    int64_t out[EB_MAX_DIMS], total = 1, numa = 1, numb = 1;
    for (int i = 0; i < nd; i++) {
        int64_t da = i < nd - na ? 1 : sa[i - (nd - na)];
        int64_t db = i < nd - nb ? 1 : sb[i - (nd - nb)];
        out[i] = da > db ? da : db;
        total *= out[i];
    }
    for (int i = 0; i < na; i++)
        numa *= sa[i];
    for (int i = 0; i < nb; i++)
        numb *= sb[i];
    float *a = ref_kernels_fill((size_t)numa, 41), *b = ref_kernels_fill((size_t)numb, 42);
    for (int64_t i = 0; i < numb; i++)
        b[i] += 3.0f; /* keep divisors away from 0 */
    float *y = malloc((size_t)total * sizeof *y);
    double *want = malloc((size_t)total * sizeof *want);
    for (eb_ref_binop op = EB_REF_ADD; op <= EB_REF_DIV; op++) {
        for (int64_t flat = 0; flat < total; flat++) {
            /* unravel the output index, then ravel it into each operand */
            int64_t rem = flat, ia = 0, ib = 0, mula = 1, mulb = 1;
            for (int i = nd - 1; i >= 0; i--) {
                int64_t idx = rem % out[i];
                rem /= out[i];
                int ka = i - (nd - na), kb = i - (nd - nb);
                if (ka >= 0) {
                    ia += (sa[ka] == 1 ? 0 : idx) * mula;
                    mula *= sa[ka];
                }
                if (kb >= 0) {
                    ib += (sb[kb] == 1 ? 0 : idx) * mulb;
                    mulb *= sb[kb];
                }
            }
            double u = a[ia], v = b[ib];
            want[flat] = op == EB_REF_ADD ? u + v : op == EB_REF_SUB ? u - v
                         : op == EB_REF_MUL ? u * v : u / v;
        }
        eb_ref_binary(op, &p, a, b, y);
        ref_kernels_close(y, want, (size_t)total, 1e-6);
    }
    free(a), free(b), free(y), free(want);
}

static void test_broadcast(void **state)
{
    (void)state;
    const int64_t s234[] = {2, 3, 4}, s4[] = {4}, s1[] = {1}, s31[] = {3, 1}, s2134[] = {2, 1, 3, 4};
    const int64_t s5134[] = {5, 1, 3, 1}, s1x[] = {1, 1, 1}, s2314[] = {2, 3, 1, 4};
    const int64_t sc[] = {1, 3, 1, 1}, sn[] = {2, 3, 5, 5};
    ref_kernels_bcast_case(3, s234, 3, s234); /* same shape */
    ref_kernels_bcast_case(3, s234, 1, s4);   /* row vector */
    ref_kernels_bcast_case(3, s234, 0, s1);   /* scalar (rank 0) */
    ref_kernels_bcast_case(1, s1, 3, s234);   /* scalar first */
    ref_kernels_bcast_case(2, s31, 3, s234);  /* column */
    ref_kernels_bcast_case(4, s2134, 4, s2314); /* both broadcast */
    ref_kernels_bcast_case(4, s5134, 3, s234);  /* 5x2x3x4 */
    ref_kernels_bcast_case(3, s1x, 1, s4);
    ref_kernels_bcast_case(4, sn, 4, sc); /* NCHW + per-channel bias */
    eb_ref_bcast p;
    const int64_t s5[] = {5};
    assert_int_equal(eb_ref_bcast_plan(3, s234, 1, s5, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_flags), cmocka_unit_test(test_conv2d),
        cmocka_unit_test(test_conv_out),    cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_softmax),     cmocka_unit_test(test_batchnorm_relu),
        cmocka_unit_test(test_broadcast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
