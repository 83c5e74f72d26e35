/* AVX2 + FMA micro-kernel, 6 x 16: twelve ymm accumulators, two loads of B and six broadcasts
 * of A per k step (the classic Haswell-to-Zen register budget: 12 + 2 + 1 of 16 registers).
 * The file is compiled for the baseline target like every other; only these functions carry
 * target("avx2,fma"), and ops_gemm.c calls them after __builtin_cpu_supports says the CPU
 * has both, so the binary stays portable.  Edge tiles (nr < 16) use masked loads and stores;
 * short tiles (mr < 6) get their own instantiation so no FMA is wasted on padding rows. */
#if defined(__x86_64__)

#include <immintrin.h>

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

#endif
