/* AVX-512F micro-kernel, up to 6 x 64: the packed layout stays the one every kernel shares
 * (6-row A panels, 16-column B panels, see ref_internal.h), and this kernel simply consumes up
 * to EB_REF_AVX512_SPAN adjacent B panels of a k block at once (panel q at b + q*16*kc), one
 * zmm per panel and row.  With a span of 4 that is 24 zmm accumulators, four B loads and six
 * embedded broadcasts of A per k step: 24 FMAs for 10 loads, which keeps both of a Zen 4/5
 * core's 512-bit FMA pipes busy where the AVX2 6x16 tile (12 FMAs of half the width for 8
 * loads) reaches at most half of that peak.  No packing layout changes per ISA, so weights
 * packed at open serve every kernel and tests can compare kernels on the same buffers.
 *
 * Like gemm_kernel_avx2.c, only these functions carry a target attribute; ops_gemm.c calls
 * them after __builtin_cpu_supports("avx512f") says the CPU runs them.  Edge tiles use
 * AVX-512 mask registers (nr not a multiple of 16) and per-mr instantiations. */
#if defined(__x86_64__)

#include <immintrin.h>

#include "conv_gemm.h"

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

static inline AVX512 __attribute__((always_inline)) __m512
avx512_epi(__m512 v, float *cr, __mmask16 m, const eb_ref_tile *t, __m512 brow, const float *bc)
{
    if (t->load)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, cr));
    if (t->last) {
        v = _mm512_add_ps(v, brow);
        if (bc)
            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bc));
        if (t->act == EB_REF_ACT_RELU)
            v = _mm512_max_ps(v, _mm512_setzero_ps());
        else if (t->act == EB_REF_ACT_CLIP)
            v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(t->lo)), _mm512_set1_ps(t->hi));
    }
    return v;
}

/* MRC rows (1..6) by NP panels (1..4) of 16 columns; nr in (16*(NP-1), 16*NP]. */
static inline AVX512 __attribute__((always_inline)) void
avx512_tile(const int MRC, const int NP, int64_t kc, const float *a, const float *b, float *c,
            int64_t ldc, int nr, const eb_ref_tile *t)
{
    __m512 acc[EB_REF_MR][EB_REF_AVX512_SPAN];
    const int64_t ps = (int64_t)EB_REF_NR * kc; /* B panel stride */
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++)
            acc[r][q] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++, a += EB_REF_MR, b += EB_REF_NR) {
        __m512 bv[EB_REF_AVX512_SPAN];
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++)
            bv[q] = _mm512_loadu_ps(b + q * ps);
#pragma GCC unroll 6
        for (int r = 0; r < MRC; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
            for (int q = 0; q < NP; q++)
                acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
        }
    }
    __m512 alpha = _mm512_set1_ps(t->alpha);
    int tail = nr - 16 * (NP - 1); /* 1..16 columns in the last panel */
    __mmask16 mlast = (__mmask16)(tail >= 16 ? 0xffff : (1u << tail) - 1u);
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++) {
        float *cr = c + r * ldc;
        __m512 br = _mm512_set1_ps(t->last && t->brow ? t->brow[r] : 0.0f);
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            __mmask16 m = q == NP - 1 ? mlast : (__mmask16)0xffff;
            __m512 v = avx512_epi(_mm512_mul_ps(acc[r][q], alpha), cr + 16 * q, m, t, br,
                                  t->bcol ? t->bcol + 16 * q : NULL);
            _mm512_mask_storeu_ps(cr + 16 * q, m, v);
        }
    }
}

#define AVX512_ROWS(NP)                                                                        \
    switch (mr) {                                                                              \
    case 6: avx512_tile(6, NP, kc, a, b, c, ldc, nr, t); break;                                \
    case 5: avx512_tile(5, NP, kc, a, b, c, ldc, nr, t); break;                                \
    case 4: avx512_tile(4, NP, kc, a, b, c, ldc, nr, t); break;                                \
    case 3: avx512_tile(3, NP, kc, a, b, c, ldc, nr, t); break;                                \
    case 2: avx512_tile(2, NP, kc, a, b, c, ldc, nr, t); break;                                \
    default: avx512_tile(1, NP, kc, a, b, c, ldc, nr, t); break;                               \
    }

AVX512 void eb_ref_ukernel_avx512(int64_t kc, const float *a, const float *b, float *c,
                                  int64_t ldc, int mr, int nr, const eb_ref_tile *t)
{
    switch ((nr + EB_REF_NR - 1) / EB_REF_NR) {
#if EB_REF_AVX512_SPAN >= 4
    case 4: AVX512_ROWS(4); break;
    case 3: AVX512_ROWS(3); break;
#endif
    case 2: AVX512_ROWS(2); break;
    default: AVX512_ROWS(1); break;
    }
}

/* ---------------------------------------------------------------- implicit-GEMM convolution
 * One tile of a stride-1 convolution read straight from the zero-padded input (ops_conv.c,
 * conv_gemm.h): B's k step (tap, channel) for 64 consecutive positions of the padded output
 * grid is 64 consecutive floats of the padded input at b + taps[tap] + channel * cstride, so
 * nothing is packed; A is the weights in one panel of ntaps * cin steps of 6 rows.  The whole
 * K stays in the 24 accumulators, and the tile is written once, straight into the unpadded
 * output: vector q of a row goes out as the masked stores segs[seg_q[q] .. seg_q[q+1]) (one
 * per output row it touches; junk columns of the padded grid are never stored). */
static inline AVX512 __attribute__((always_inline)) void
conv_tile(const int MRC, const int NP, const float *a, const float *b, const int64_t *taps,
          int ntaps, int64_t cin, int64_t cstride, float *c, int64_t ldc,
          const eb_ref_conv_seg *segs, const int *seg_q, const eb_ref_tile *t)
{
    __m512 acc[EB_REF_MR][EB_REF_AVX512_SPAN];
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++)
            acc[r][q] = _mm512_setzero_ps();
    for (int tap = 0; tap < ntaps; tap++) {
        const float *bt = b + taps[tap];
        for (int64_t ci = 0; ci < cin; ci++, a += EB_REF_MR, bt += cstride) {
            __m512 bv[EB_REF_AVX512_SPAN];
#pragma GCC unroll 4
            for (int q = 0; q < NP; q++)
                bv[q] = _mm512_loadu_ps(bt + 16 * q);
#pragma GCC unroll 6
            for (int r = 0; r < MRC; r++) {
                __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
                for (int q = 0; q < NP; q++)
                    acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
            }
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++) {
        float *cr = c + r * ldc;
        __m512 br = _mm512_set1_ps(t->brow ? t->brow[r] : 0.0f);
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            __m512 v = avx512_epi(acc[r][q], cr, 0, t, br, NULL);
            for (int g = seg_q[q]; g < seg_q[q + 1]; g++)
                _mm512_mask_storeu_ps(cr + segs[g].off, (__mmask16)segs[g].mask, v);
        }
    }
}

#define CONV_ROWS(NP)                                                                          \
    switch (mr) {                                                                              \
    case 6: conv_tile(6, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;           \
    case 5: conv_tile(5, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;           \
    case 4: conv_tile(4, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;           \
    case 3: conv_tile(3, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;           \
    case 2: conv_tile(2, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;           \
    default: conv_tile(1, NP, a, b, taps, ntaps, cin, cstride, c, ldc, segs, seg_q, t); break;          \
    }

AVX512 void eb_ref_conv_tile_avx512(const float *a, const float *b, const int64_t *taps,
                                    int ntaps, int64_t cin, int64_t cstride, float *c,
                                    int64_t ldc, int mr, int nr, const eb_ref_conv_seg *segs,
                                    const int *seg_q, const eb_ref_tile *t)
{
    switch ((nr + EB_REF_NR - 1) / EB_REF_NR) {
    case 4: CONV_ROWS(4); break;
    case 3: CONV_ROWS(3); break;
    case 2: CONV_ROWS(2); break;
    default: CONV_ROWS(1); break;
    }
}

#endif
