/* AVX2 + FMA micro-kernel, 6 x 16: twelve ymm accumulators, two loads of B and six broadcasts
 * of A per k step (the classic Haswell-to-Zen register budget: 12 + 2 + 1 of 16 registers).
 * The file is compiled for the baseline target like every other; only these functions carry
 * target("avx2,fma"), and ops_gemm.c calls them after __builtin_cpu_supports says the CPU
 * has both, so the binary stays portable.  Edge tiles (nr < 16) use masked loads and stores;
 * short tiles (mr < 6) get their own instantiation so no FMA is wasted on padding rows. */
#if defined(__x86_64__)

#include <immintrin.h>

#include "conv_gemm.h"
#include "ref_internal.h"

#define AVX2 __attribute__((target("avx2,fma")))

static inline AVX2 __attribute__((always_inline)) __m256 avx2_epi(__m256 v, const float *cr,
                                                                  int full, __m256i m,
                                                                  const eb_ref_tile *t,
                                                                  __m256 brow, const float *bc)
{
    if (t->load)
        v = _mm256_add_ps(v, full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m));
    if (t->last) {
        v = _mm256_add_ps(v, brow);
        if (t->bcol)
            v = _mm256_add_ps(v, full ? _mm256_loadu_ps(bc) : _mm256_maskload_ps(bc, m));
        if (t->act == EB_REF_ACT_RELU)
            v = _mm256_max_ps(v, _mm256_setzero_ps());
        else if (t->act == EB_REF_ACT_CLIP)
            v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(t->lo)), _mm256_set1_ps(t->hi));
    }
    return v;
}

static inline AVX2 __attribute__((always_inline)) void
avx2_tile(const int MRC, int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
          int nr, const eb_ref_tile *t)
{
    __m256 acc0[EB_REF_MR], acc1[EB_REF_MR];
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
        acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++, a += EB_REF_MR, b += EB_REF_NR) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MRC; r++) {
            __m256 av = _mm256_broadcast_ss(a + r);
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
    }
    __m256 alpha = _mm256_set1_ps(t->alpha);
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), idx);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), idx);
    int full = nr == EB_REF_NR;
    const float *bc = t->bcol;
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++) {
        float *cr = c + r * ldc;
        __m256 br = _mm256_set1_ps(t->last && t->brow ? t->brow[r] : 0.0f);
        __m256 v0 = avx2_epi(_mm256_mul_ps(acc0[r], alpha), cr, full, m0, t, br, bc);
        __m256 v1 = avx2_epi(_mm256_mul_ps(acc1[r], alpha), cr + 8, full, m1, t, br,
                             bc ? bc + 8 : bc);
        if (full) {
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            _mm256_maskstore_ps(cr, m0, v0);
            _mm256_maskstore_ps(cr + 8, m1, v1);
        }
    }
}

AVX2 void eb_ref_ukernel_avx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                              int mr, int nr, const eb_ref_tile *t)
{
    switch (mr) {
    case 6: avx2_tile(6, kc, a, b, c, ldc, nr, t); break;
    case 5: avx2_tile(5, kc, a, b, c, ldc, nr, t); break;
    case 4: avx2_tile(4, kc, a, b, c, ldc, nr, t); break;
    case 3: avx2_tile(3, kc, a, b, c, ldc, nr, t); break;
    case 2: avx2_tile(2, kc, a, b, c, ldc, nr, t); break;
    default: avx2_tile(1, kc, a, b, c, ldc, nr, t); break;
    }
}

/* ---------------------------------------------------------------- implicit-GEMM convolution
 * eb_ref_conv_tile_avx512's contract (conv_gemm.h) on AVX2: the padded input read in place,
 * no im2col and no packing.  A 64-position tile is four passes of 6 x 16 (12 ymm accumulators,
 * the whole K each; A's panel stays in L1 between them), each stored through the segments'
 * 16-lane masks split into two 8-lane maskstores.  im2col was 36% of the zoo cnn's AVX2
 * instructions and its 16 -> 32 3x3 layer ran 3.4x the AVX-512 time. */
static inline AVX2 __attribute__((always_inline)) void
conv_pass_avx2(const int MRC, const float *a, const float *b, const int64_t *taps, int ntaps,
               int64_t cin, int64_t cstride, float *c, int64_t ldc, const eb_ref_conv_seg *sg,
               int nseg, const eb_ref_tile *t)
{
    __m256 acc0[EB_REF_MR], acc1[EB_REF_MR];
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
        acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int tap = 0; tap < ntaps; tap++) {
        const float *bt = b + taps[tap];
        for (int64_t ci = 0; ci < cin; ci++, a += EB_REF_MR, bt += cstride) {
            __m256 b0 = _mm256_loadu_ps(bt), b1 = _mm256_loadu_ps(bt + 8);
#pragma GCC unroll 6
            for (int r = 0; r < MRC; r++) {
                __m256 av = _mm256_broadcast_ss(a + r);
                acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
                acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
            }
        }
    }
    const __m256i lo_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i hi_bits = _mm256_setr_epi32(256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
    __m256i m0[4 * EB_REF_NR + 2], m1[4 * EB_REF_NR + 2]; /* at most 17 segments per vector */
    for (int g = 0; g < nseg; g++) {
        __m256i mv = _mm256_set1_epi32((int)sg[g].mask);
        m0[g] = _mm256_cmpeq_epi32(_mm256_and_si256(mv, lo_bits), lo_bits);
        m1[g] = _mm256_cmpeq_epi32(_mm256_and_si256(mv, hi_bits), hi_bits);
    }
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++) {
        float *cr = c + r * ldc;
        __m256 br = _mm256_set1_ps(t->brow ? t->brow[r] : 0.0f);
        __m256 v0 = avx2_epi(acc0[r], cr, 1, m0[0], t, br, NULL);
        __m256 v1 = avx2_epi(acc1[r], cr, 1, m0[0], t, br, NULL);
        for (int g = 0; g < nseg; g++) {
            if (sg[g].mask & 0xffu)
                _mm256_maskstore_ps(cr + sg[g].off, m0[g], v0);
            if (sg[g].mask & 0xff00u)
                _mm256_maskstore_ps(cr + sg[g].off + 8, m1[g], v1);
        }
    }
}

AVX2 void eb_ref_conv_tile_avx2(const float *a, const float *b, const int64_t *taps, int ntaps,
                                int64_t cin, int64_t cstride, float *c, int64_t ldc, int mr,
                                int nr, const eb_ref_conv_seg *segs, const int *seg_q,
                                const eb_ref_tile *t)
{
    for (int q = 0; q * EB_REF_NR < nr; q++) {
        const eb_ref_conv_seg *sg = segs + seg_q[q];
        int nseg = seg_q[q + 1] - seg_q[q];
        const float *bq = b + q * EB_REF_NR;
        switch (mr) {
        case 6: conv_pass_avx2(6, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        case 5: conv_pass_avx2(5, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        case 4: conv_pass_avx2(4, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        case 3: conv_pass_avx2(3, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        case 2: conv_pass_avx2(2, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        default: conv_pass_avx2(1, a, bq, taps, ntaps, cin, cstride, c, ldc, sg, nseg, t); break;
        }
    }
}

#endif
