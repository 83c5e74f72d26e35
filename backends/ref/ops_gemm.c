/* Single-precision GEMM, portable C.  The inner loop always runs along a row of C with unit
 * stride (C[i, j..] += a * B[k, j..]), four rows of C at a time so each row of B loaded from
 * cache feeds four FMAs; blocks over k and j keep a panel of B in L2.  A packed, threaded,
 * AVX2 kernel is a later issue; this one is correct for every stride and flag first. */
#include <string.h>

#include "ref_internal.h"

/* Vectorizing these loops at -O2 needs GCC's full cost model; the flag is local to this
 * file so the Makefile stays uniform. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

#define KB 256
#define NB 1024

static void axpy_rows4(int64_t n, const float *restrict b, float a0, float a1, float a2,
                       float a3, float *restrict c0, float *restrict c1, float *restrict c2,
                       float *restrict c3)
{
    for (int64_t j = 0; j < n; j++) {
        float bj = b[j];
        c0[j] += a0 * bj;
        c1[j] += a1 * bj;
        c2[j] += a2 * bj;
        c3[j] += a3 * bj;
    }
}

static void axpy_row(int64_t n, const float *restrict b, float a, float *restrict c)
{
    for (int64_t j = 0; j < n; j++)
        c[j] += a * b[j];
}

static float dot(int64_t n, const float *restrict x, const float *restrict y)
{
    float acc[8] = {0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (int u = 0; u < 8; u++)
            acc[u] += x[j + u] * y[j + u];
    float s = 0;
    for (; j < n; j++)
        s += x[j] * y[j];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void eb_ref_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f)
            for (int64_t j = 0; j < N; j++)
                c[j] *= beta;
    }
    if (K == 0 || alpha == 0.0f)
        return;
#define AT(i, k) (trans_a ? A[(k) * lda + (i)] : A[(i) * lda + (k)])
    if (trans_b) {
        /* B stored [N, K]: C[i, j] is a dot product of two rows when A is not transposed. */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float s;
                if (!trans_a) {
                    s = dot(K, A + i * lda, B + j * ldb);
                } else {
                    s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += AT(i, k) * B[j * ldb + k];
                }
                C[i * ldc + j] += alpha * s;
            }
        return;
    }
    for (int64_t j0 = 0; j0 < N; j0 += NB) {
        int64_t nb = N - j0 < NB ? N - j0 : NB;
        for (int64_t k0 = 0; k0 < K; k0 += KB) {
            int64_t kb = K - k0 < KB ? K - k0 : KB;
            int64_t i = 0;
            for (; i + 4 <= M; i += 4) {
                float *c0 = C + i * ldc + j0, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
                for (int64_t k = k0; k < k0 + kb; k++)
                    axpy_rows4(nb, B + k * ldb + j0, alpha * AT(i, k), alpha * AT(i + 1, k),
                               alpha * AT(i + 2, k), alpha * AT(i + 3, k), c0, c1, c2, c3);
            }
            for (; i < M; i++) {
                float *c = C + i * ldc + j0;
                for (int64_t k = k0; k < k0 + kb; k++)
                    axpy_row(nb, B + k * ldb + j0, alpha * AT(i, k), c);
            }
        }
    }
#undef AT
}
