/* ref's packed GEMM against a naive double-precision loop: odd sizes, 1xN and Nx1, k not a
 * multiple of the tile or of the k block, transposed packing, every epilogue (alpha,
 * accumulate, row and column bias, Relu, Clip), every micro-kernel this CPU runs (portable,
 * AVX2, AVX-512), the EDGEBENCH_REF_ISA switch, and threaded runs equal to single-threaded
 * ones bit for bit (the same tiles in the same k order). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref/conv_gemm.h"
#include "ref/ref_internal.h"
#include "ref/threadpool.h"

static float ref_gemm_rand(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *ref_gemm_fill(size_t n, uint32_t seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = ref_gemm_rand(&seed);
    return p;
}

static void ref_gemm_close(const float *got, int64_t ldc, const double *want, int64_t M,
                           int64_t N, double tol, const char *what)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double w = want[i * N + j], d = fabs(got[i * ldc + j] - w);
            if (d > tol * (fabs(w) > 1 ? fabs(w) : 1))
                fail_msg("%s: C[%lld,%lld] = %.7g, want %.7g", what, (long long)i, (long long)j,
                         got[i * ldc + j], w);
        }
}

typedef struct ref_gemm_case {
    int64_t M, N, K;
    int ta, tb;
    float alpha;
    int accumulate, brow, bcol;
    eb_ref_act act;
} ref_gemm_case;

/* Runs one case with kernel `kern` on `pool` into C (ldc = N + 3) and checks it. */
static void ref_gemm_run_case(const ref_gemm_case *c, eb_ref_ukernel_fn kern, eb_ref_pool *pool,
                              float **out)
{
    int64_t M = c->M, N = c->N, K = c->K, ldc = N + 3;
    int64_t lda = c->ta ? M : K, ldb = c->tb ? K : N;
    float *A = ref_gemm_fill((size_t)(M * K), 11), *B = ref_gemm_fill((size_t)(K * N), 12);
    float *C = ref_gemm_fill((size_t)(M * ldc), 13), *br = ref_gemm_fill((size_t)M, 14);
    float *bc = ref_gemm_fill((size_t)N, 15);
    float *pa = malloc((eb_ref_pack_a_floats(M, K) + 1) * sizeof *pa);
    float *pb = malloc((eb_ref_pack_b_floats(K, N) + 1) * sizeof *pb);
    double *want = malloc((size_t)(M * N + 1) * sizeof *want);
    assert_true(pa && pb && want);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)(c->ta ? A[k * lda + i] : A[i * lda + k]) *
                     (c->tb ? B[j * ldb + k] : B[k * ldb + j]);
            double v = (c->accumulate ? C[i * ldc + j] : 0) + c->alpha * s;
            v += (c->brow ? br[i] : 0) + (c->bcol ? bc[j] : 0);
            if (c->act == EB_REF_ACT_RELU)
                v = v > 0 ? v : 0;
            else if (c->act == EB_REF_ACT_CLIP)
                v = v < -0.5 ? -0.5 : v > 0.75 ? 0.75 : v;
            want[i * N + j] = v;
        }
    eb_ref_pack_a(c->ta, M, K, A, lda, pa);
    eb_ref_pack_b(c->tb, K, N, B, ldb, pb);
    eb_ref_epilogue ep = {.alpha = c->alpha, .accumulate = c->accumulate,
                          .bias_row = c->brow ? br : NULL, .bias_col = c->bcol ? bc : NULL,
                          .act = c->act, .lo = -0.5f, .hi = 0.75f, .kernel = kern};
    eb_ref_gemm_packed(M, N, K, pa, pb, C, ldc, &ep, pool);
    char what[160];
    snprintf(what, sizeof what, "M=%lld N=%lld K=%lld ta=%d tb=%d acc=%d act=%d threads=%d",
             (long long)M, (long long)N, (long long)K, c->ta, c->tb, c->accumulate, c->act,
             eb_ref_pool_threads(pool));
    ref_gemm_close(C, ldc, want, M, N, 1e-4 + 2e-6 * (double)K, what);
    /* columns past N (the ldc padding) are never written */
    float *C0 = ref_gemm_fill((size_t)(M * ldc), 13);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = N; j < ldc; j++)
            if (C[i * ldc + j] != C0[i * ldc + j])
                fail_msg("%s: wrote past column N at row %lld", what, (long long)i);
    free(C0);
    if (out)
        *out = C;
    else
        free(C);
    free(A), free(B), free(br), free(bc), free(pa), free(pb), free(want);
}

static const int64_t ref_gemm_sizes[][3] = {
    {1, 1, 1},   {1, 37, 5},   {37, 1, 5},    {5, 16, 6},    {6, 17, 7},   {7, 15, 256},
    {13, 33, 257}, {1, 300, 600}, {130, 45, 70}, {64, 64, 64}, {121, 530, 3}, {2, 1030, 9},
};

static void test_gemm_packed_shapes(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof ref_gemm_sizes / sizeof ref_gemm_sizes[0]; si++)
        for (int t = 0; t < 4; t++) {
            ref_gemm_case c = {ref_gemm_sizes[si][0], ref_gemm_sizes[si][1],
                               ref_gemm_sizes[si][2], t & 1, t >> 1, 1.0f, 0, 0, 0,
                               EB_REF_ACT_NONE};
            ref_gemm_run_case(&c, NULL, NULL, NULL);
        }
}

/* The kernels of every ISA this CPU runs; returns how many. */
static int ref_gemm_kernels(eb_ref_ukernel_fn *k, const char **names)
{
    int n = 0;
    for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++)
        if (eb_ref_isa_supported((eb_ref_isa)isa)) {
            k[n] = eb_ref_ukernel_for((eb_ref_isa)isa, &names[n]);
            n++;
        }
    return n;
}

static void test_gemm_epilogues(void **state)
{
    (void)state;
    eb_ref_ukernel_fn kernels[3];
    const char *names[3];
    int nk = ref_gemm_kernels(kernels, names);
    for (int kk = 0; kk < nk; kk++)
        for (int e = 0; e < 16; e++)
            for (int si = 3; si < 12; si += 2) {
                ref_gemm_case c = {ref_gemm_sizes[si][0], ref_gemm_sizes[si][1],
                                   ref_gemm_sizes[si][2], 0, 1, e & 1 ? 0.75f : 1.0f,
                                   (e >> 1) & 1, (e >> 2) & 1, (e >> 3) & 1,
                                   (eb_ref_act)(e % 3)};
                ref_gemm_run_case(&c, kernels[kk], NULL, NULL);
            }
}

/* Every tile shape of every kernel against the portable one: mr 1..6, nr 1..the kernel's
 * widest (64 for AVX-512, which reads several B panels), with masked edges. */
static void test_gemm_kernels_agree(void **state)
{
    (void)state;
    eb_ref_ukernel_fn kernels[3];
    const char *names[3];
    int nk = ref_gemm_kernels(kernels, names);
    assert_true(nk >= 1);
#if defined(__x86_64__)
    /* this test is meant to cover the SIMD paths on the machines the project targets */
    if (__builtin_cpu_supports("avx512f"))
        assert_int_equal(nk, 3);
#endif
    enum { KC = 19, LDC = 70, SPAN = 4 * EB_REF_NR };
    float *a = ref_gemm_fill((size_t)(KC * EB_REF_MR), 21);
    float *b = ref_gemm_fill((size_t)(KC * SPAN), 22);
    float *bias = ref_gemm_fill(SPAN, 23);
    for (int kk = 1; kk < nk; kk++) {
        int maxnr = eb_ref_ukernel_nr(kernels[kk]);
        assert_true(maxnr <= SPAN);
        for (int mr = 1; mr <= EB_REF_MR; mr++)
            for (int nr = 1; nr <= maxnr; nr++)
                for (int load = 0; load < 2; load++) {
                    float c1[EB_REF_MR * LDC], c2[EB_REF_MR * LDC];
                    for (int i = 0; i < EB_REF_MR * LDC; i++)
                        c1[i] = c2[i] = (float)i * 0.01f;
                    eb_ref_tile t = {.alpha = 1.5f, .load = load, .last = 1, .brow = bias,
                                     .bcol = bias, .act = EB_REF_ACT_RELU};
                    /* the portable kernel, one 16-column panel at a time */
                    for (int j = 0; j < nr; j += EB_REF_NR) {
                        eb_ref_tile tj = t;
                        tj.bcol = bias + j;
                        eb_ref_ukernel_c(KC, a, b + j * KC, c1 + j, LDC, mr,
                                         nr - j < EB_REF_NR ? nr - j : EB_REF_NR, &tj);
                    }
                    kernels[kk](KC, a, b, c2, LDC, mr, nr, &t);
                    for (int i = 0; i < EB_REF_MR * LDC; i++) {
                        int inside = i / LDC < mr && i % LDC < nr;
                        if (!inside && (c1[i] != (float)i * 0.01f || c2[i] != (float)i * 0.01f))
                            fail_msg("%s mr=%d nr=%d: element %d outside the tile written",
                                     names[kk], mr, nr, i);
                        if (fabsf(c1[i] - c2[i]) > 1e-5f * (1 + fabsf(c1[i])))
                            fail_msg("%s mr=%d nr=%d: element %d: c %g, simd %g", names[kk], mr,
                                     nr, i, c1[i], c2[i]);
                    }
                }
    }
    free(a), free(b), free(bias);
}

/* EDGEBENCH_REF_ISA caps the choice; an unknown value leaves the best. */
static void test_gemm_isa_switch(void **state)
{
    (void)state;
    const char *old = getenv("EDGEBENCH_REF_ISA");
    char *saved = old ? strdup(old) : NULL;
    unsetenv("EDGEBENCH_REF_ISA");
    eb_ref_isa best = eb_ref_isa_pick();
    assert_true(eb_ref_isa_supported(best));
    setenv("EDGEBENCH_REF_ISA", "portable", 1);
    assert_int_equal(eb_ref_isa_pick(), EB_REF_ISA_PORTABLE);
    assert_ptr_equal(eb_ref_ukernel_best(NULL), eb_ref_ukernel_c);
    setenv("EDGEBENCH_REF_ISA", "avx2", 1);
    assert_int_equal(eb_ref_isa_pick(), best < EB_REF_ISA_AVX2 ? best : EB_REF_ISA_AVX2);
    setenv("EDGEBENCH_REF_ISA", "avx512", 1);
    assert_int_equal(eb_ref_isa_pick(), best);
    setenv("EDGEBENCH_REF_ISA", "bogus", 1);
    assert_int_equal(eb_ref_isa_pick(), best);
    if (saved)
        setenv("EDGEBENCH_REF_ISA", saved, 1);
    else
        unsetenv("EDGEBENCH_REF_ISA");
    free(saved);
}

static void test_gemm_threads_equal(void **state)
{
    (void)state;
    eb_ref_pool *pool = NULL;
    eb_err err = {0};
    assert_int_equal(eb_ref_pool_create(2, 0, &pool, &err), 0);
    /* small products stay on the caller; the rest are split over both threads */
    const int64_t sizes[][3] = {{1, 300, 600}, {130, 45, 70}, {121, 530, 300}, {7, 1030, 9},
                                {1, 1000, 1280}, {3, 700, 200}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        ref_gemm_case c = {sizes[si][0], sizes[si][1], sizes[si][2], 0, 0, 1.0f, 1, 1, 0,
                           EB_REF_ACT_RELU};
        eb_ref_ukernel_fn kernels[3];
        const char *names[3];
        int nk = ref_gemm_kernels(kernels, names);
        for (int kk = 0; kk < nk; kk++) {
            float *one, *two;
            ref_gemm_run_case(&c, kernels[kk], NULL, &one);
            ref_gemm_run_case(&c, kernels[kk], pool, &two);
            assert_memory_equal(one, two, (size_t)(c.M * (c.N + 3)) * sizeof *one);
            free(one), free(two);
        }
    }
    eb_ref_pool_destroy(pool);
}

/* eb_ref_sgemm across its stack blocks (M > MC, N > its B block, K > KC), every flag. */
static void test_sgemm_blocks(void **state)
{
    (void)state;
    const int64_t sizes[][3] = {{125, 131, 300}, {1, 260, 513}, {250, 3, 40}};
    for (size_t si = 0; si < 3; si++)
        for (int f = 0; f < 8; f++) {
            int ta = f & 1, tb = (f >> 1) & 1;
            float beta = f >> 2 ? 0.5f : 0.0f;
            int64_t M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
            int64_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
            float *A = ref_gemm_fill((size_t)((ta ? K : M) * lda), 1);
            float *B = ref_gemm_fill((size_t)((tb ? N : K) * ldb), 2);
            float *C = ref_gemm_fill((size_t)(M * ldc), 3);
            double *want = malloc((size_t)(M * N) * sizeof *want);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                             (tb ? B[j * ldb + k] : B[k * ldb + j]);
                    want[i * N + j] = 0.25 * s + beta * C[i * ldc + j];
                }
            eb_ref_sgemm(ta, tb, M, N, K, 0.25f, A, lda, B, ldb, beta, C, ldc);
            ref_gemm_close(C, ldc, want, M, N, 1e-4, "eb_ref_sgemm");
            free(A), free(B), free(C), free(want);
        }
}

/* The batch-1 GEMV (gemm_gemv.c) on packed B, every ISA this CPU runs: widths around the
 * 16- and 64-column groups, K odd, around and beyond the k block, every epilogue field, and
 * two threads equal to one bit for bit (columns are split, each sum is computed alike). */
static void test_gemv_packed(void **state)
{
    (void)state;
    eb_ref_pool *pool = NULL;
    eb_err err = {0};
    assert_int_equal(eb_ref_pool_create(2, 0, &pool, &err), 0);
    const int64_t ns[] = {1, 10, 16, 63, 64, 65, 130, 1000};
    const int64_t ks[] = {1, 7, 256, 257, 1568};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (int e = 0; e < 4; e++) {
                int64_t N = ns[ni], K = ks[ki];
                float *a = ref_gemm_fill((size_t)K, 1), *B = ref_gemm_fill((size_t)(K * N), 2);
                float *bc = ref_gemm_fill((size_t)N, 3), *y0 = ref_gemm_fill((size_t)N, 4);
                float br = 0.5f;
                float *pb = aligned_alloc(64, (eb_ref_pack_b_floats(K, N) * sizeof(float) + 63) /
                                                  64 * 64);
                assert_non_null(pb);
                eb_ref_pack_b(e & 1, K, N, B, e & 1 ? K : N, pb);
                eb_ref_epilogue ep = {.alpha = e == 2 ? 0.5f : 1.0f, .accumulate = e == 3,
                                      .bias_col = e & 1 ? bc : NULL, .bias_row = e == 2 ? &br : NULL,
                                      .act = (eb_ref_act)(e % 3), .lo = -0.25f, .hi = 0.75f};
                double *want = malloc((size_t)N * sizeof *want);
                for (int64_t j = 0; j < N; j++) {
                    double sum = 0;
                    for (int64_t k = 0; k < K; k++)
                        sum += (double)a[k] * (e & 1 ? B[j * K + k] : B[k * N + j]);
                    double v = ep.alpha * sum + (ep.accumulate ? y0[j] : 0) +
                               (ep.bias_col ? bc[j] : 0) + (ep.bias_row ? br : 0);
                    if (ep.act == EB_REF_ACT_RELU)
                        v = v > 0 ? v : 0;
                    else if (ep.act == EB_REF_ACT_CLIP)
                        v = v < -0.25 ? -0.25 : v > 0.75 ? 0.75 : v;
                    want[j] = v;
                }
                for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++) {
                    if (!eb_ref_isa_supported((eb_ref_isa)isa))
                        continue;
                    float *y1 = malloc((size_t)N * sizeof *y1), *y2 = malloc((size_t)N * sizeof *y2);
                    memcpy(y1, y0, (size_t)N * sizeof *y1);
                    memcpy(y2, y0, (size_t)N * sizeof *y2);
                    eb_ref_gemv_packed(N, K, a, pb, y1, &ep, (eb_ref_isa)isa, NULL);
                    eb_ref_gemv_packed(N, K, a, pb, y2, &ep, (eb_ref_isa)isa, pool);
                    char what[64];
                    snprintf(what, sizeof what, "gemv %s N%lld K%lld e%d",
                             eb_ref_isa_name((eb_ref_isa)isa), (long long)N, (long long)K, e);
                    ref_gemm_close(y1, N, want, 1, N, 1e-4, what);
                    assert_memory_equal(y1, y2, (size_t)N * sizeof *y1);
                    free(y1), free(y2);
                }
                free(a), free(B), free(bc), free(y0), free(pb), free(want);
            }
    eb_ref_pool_destroy(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_packed_shapes), cmocka_unit_test(test_gemm_epilogues),
        cmocka_unit_test(test_gemm_kernels_agree), cmocka_unit_test(test_gemm_isa_switch),
        cmocka_unit_test(test_gemm_threads_equal),
        cmocka_unit_test(test_sgemm_blocks),
        cmocka_unit_test(test_gemv_packed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
