/* Packing for the blocked GEMM (layout in ref_internal.h): copies A and B into the panel
 * order the micro-kernels stream, zero-padding the last panel, so the kernels read both
 * operands with unit stride and never test for edges inside the k loop. */
#include <string.h>

#include "ref_internal.h"

static int64_t pack_roundup(int64_t x, int64_t r)
{
    return (x + r - 1) / r * r;
}

size_t eb_ref_pack_a_floats(int64_t M, int64_t K)
{
    return (size_t)(pack_roundup(M, EB_REF_MR) * K);
}

size_t eb_ref_pack_b_floats(int64_t K, int64_t N)
{
    return (size_t)(pack_roundup(N, EB_REF_NR) * K);
}

/* Packs rows/columns [x0, x0 + w) (w <= width) of one k block into a panel of `width` floats
 * per step.  get(i, k) reads op(X)[i, k] where i runs along the panel.  `along` is X's
 * stride between consecutive i, `across` between consecutive k. */
static void pack_panel(const float *X, int64_t along, int64_t across, int64_t x0, int64_t w,
                       int64_t k0, int64_t kc, int width, float *dst)
{
    const float *base = X + x0 * along + k0 * across;
    if (along == 1 && w == EB_REF_NR && width == EB_REF_NR) {
        /* a whole B panel row per k step: a copy of constant size, which the compiler inlines
         * as vector moves (a libc call per 64 bytes dominated pointwise packing on the AVX2
         * and portable paths) */
        for (int64_t k = 0; k < kc; k++, dst += EB_REF_NR)
            memcpy(dst, base + k * across, EB_REF_NR * sizeof *dst);
        return;
    }
    if (along == 1 && w == EB_REF_MR && width == EB_REF_MR) {
        for (int64_t k = 0; k < kc; k++, dst += EB_REF_MR)
            memcpy(dst, base + k * across, EB_REF_MR * sizeof *dst);
        return;
    }
    if (along == 1) {
        /* rows of the panel are contiguous in X: copy w floats per k step */
        for (int64_t k = 0; k < kc; k++, dst += width) {
            memcpy(dst, base + k * across, (size_t)w * sizeof *dst);
            for (int64_t i = w; i < width; i++)
                dst[i] = 0.0f;
        }
        return;
    }
    for (int64_t k = 0; k < kc; k++, dst += width) {
        const float *src = base + k * across;
        int64_t i = 0;
        for (; i < w; i++)
            dst[i] = src[i * along];
        for (; i < width; i++)
            dst[i] = 0.0f;
    }
}

void eb_ref_pack_a(int trans, int64_t M, int64_t K, const float *A, int64_t lda, float *pa)
{
    /* op(A)[i, k] = trans ? A[k * lda + i] : A[i * lda + k] */
    int64_t along = trans ? 1 : lda, across = trans ? lda : 1, Mp = pack_roundup(M, EB_REF_MR);
    for (int64_t k0 = 0; k0 < K; k0 += EB_REF_KC) {
        int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
        float *blk = pa + k0 * Mp;
        for (int64_t i0 = 0; i0 < M; i0 += EB_REF_MR) {
            int64_t w = M - i0 < EB_REF_MR ? M - i0 : EB_REF_MR;
            pack_panel(A, along, across, i0, w, k0, kc, EB_REF_MR, blk + i0 * kc);
        }
    }
}

void eb_ref_pack_b_panels(int trans, int64_t K, int64_t N, const float *B, int64_t ldb,
                          float *pb, int64_t p0, int64_t p1)
{
    /* op(B)[k, j] = trans ? B[j * ldb + k] : B[k * ldb + j] */
    int64_t along = trans ? ldb : 1, across = trans ? 1 : ldb, Np = pack_roundup(N, EB_REF_NR);
    for (int64_t k0 = 0; k0 < K; k0 += EB_REF_KC) {
        int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
        float *blk = pb + k0 * Np;
        for (int64_t p = p0; p < p1; p++) {
            int64_t j0 = p * EB_REF_NR, w = N - j0 < EB_REF_NR ? N - j0 : EB_REF_NR;
            pack_panel(B, along, across, j0, w, k0, kc, EB_REF_NR, blk + j0 * kc);
        }
    }
}

void eb_ref_pack_b(int trans, int64_t K, int64_t N, const float *B, int64_t ldb, float *pb)
{
    eb_ref_pack_b_panels(trans, K, N, B, ldb, pb, 0, (N + EB_REF_NR - 1) / EB_REF_NR);
}
