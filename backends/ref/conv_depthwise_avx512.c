/* Depthwise convolution with AVX-512F (contract: eb_ref_dw3x3 in ref_internal.h): 3x3 as
 * the other ISAs, and any kh x kw up to 7x7 (MnasNet's 5x5) that only this kernel takes.
 * Sixteen outputs of a row per zmm; every edge is handled with mask registers instead of a
 * scalar border path: a masked load never faults on the lanes it leaves out, so the loads
 * that hang over the padding (or past the row's end) just read zeros, and the last chunk of
 * a row is a masked store.  Stride 2 loads 32 consecutive inputs and keeps their even lanes
 * with a two-source permute (for 3x3: even lanes for tap 0, odd for tap 1, even lanes of the
 * window two further on for tap 2).  Only this file's functions carry the target attribute; the
 * caller checks the CPU (eb_ref_isa_supported) first. */
#if defined(__x86_64__)

#include <immintrin.h>

#include "ref_internal.h"

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

/* Lanes i in [0, n) (n <= 32 lanes) with 0 <= off + i < w. */
static inline AVX512 __attribute__((always_inline)) uint32_t dw512_lanes(int64_t off, int64_t w,
                                                                         int n)
{
    int64_t lo = off >= 0 ? 0 : -off, hi = w - off;
    if (hi > n)
        hi = n;
    if (hi <= lo)
        return 0;
    uint64_t m = hi >= 32 ? 0xffffffffu : (1ull << hi) - 1;
    return (uint32_t)(m & ~((1ull << lo) - 1));
}

/* One channel, KH x KW taps (constants when inlined from the 3x3 instantiation). */
static inline AVX512 __attribute__((always_inline)) void
dw512_channel(const eb_ref_conv2d *p, const int KH, const int KW, const float *xc,
              const float *wc, float bias, eb_ref_act act, float lo, float hi, float *yc)
{
    const int64_t W = p->w, H = p->h, OW = p->ow, OH = p->oh, s = p->sw;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29,
                                          31);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi), zero = _mm512_setzero_ps();
    const __m512 bv = _mm512_set1_ps(bias);
    for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = yc + oh * OW;
        int64_t ih0 = oh * p->sh - p->pt;
        for (int64_t ow = 0; ow < OW; ow += 16) {
            int n = OW - ow < 16 ? (int)(OW - ow) : 16;
            __m512 acc = bv;
            for (int ki = 0; ki < KH; ki++) {
                int64_t ih = ih0 + ki;
                if (ih < 0 || ih >= H)
                    continue;
                const float *row = xc + ih * W;
                const float *wr = wc + ki * KW;
                if (s == 1) {
                    for (int kj = 0; kj < KW; kj++) {
                        int64_t off = ow - p->pl + kj;
                        __mmask16 m = (__mmask16)dw512_lanes(off, W, n);
                        __m512 v = _mm512_maskz_loadu_ps(m, row + off);
                        acc = _mm512_fmadd_ps(v, _mm512_set1_ps(wr[kj]), acc);
                    }
                } else if (KW == 3) {
                    /* taps 0 and 1 share one 32-float window (even and odd lanes) */
                    int64_t off = 2 * ow - p->pl;
                    uint32_t m0 = dw512_lanes(off, W, 2 * n);
                    uint32_t m2 = dw512_lanes(off + 2, W, 2 * n);
                    const float *r = row + off;
                    __m512 a0 = _mm512_maskz_loadu_ps((__mmask16)m0, r);
                    __m512 a1 = _mm512_maskz_loadu_ps((__mmask16)(m0 >> 16), r + 16);
                    __m512 b0 = _mm512_maskz_loadu_ps((__mmask16)m2, r + 2);
                    __m512 b1 = _mm512_maskz_loadu_ps((__mmask16)(m2 >> 16), r + 18);
                    acc = _mm512_fmadd_ps(_mm512_permutex2var_ps(a0, even, a1),
                                          _mm512_set1_ps(wr[0]), acc);
                    acc = _mm512_fmadd_ps(_mm512_permutex2var_ps(a0, odd, a1),
                                          _mm512_set1_ps(wr[1]), acc);
                    acc = _mm512_fmadd_ps(_mm512_permutex2var_ps(b0, even, b1),
                                          _mm512_set1_ps(wr[2]), acc);
                } else {
                    for (int kj = 0; kj < KW; kj++) {
                        int64_t off = 2 * ow - p->pl + kj;
                        uint32_t m0 = dw512_lanes(off, W, 2 * n);
                        __m512 a0 = _mm512_maskz_loadu_ps((__mmask16)m0, row + off);
                        __m512 a1 = _mm512_maskz_loadu_ps((__mmask16)(m0 >> 16), row + off + 16);
                        acc = _mm512_fmadd_ps(_mm512_permutex2var_ps(a0, even, a1),
                                              _mm512_set1_ps(wr[kj]), acc);
                    }
                }
            }
            if (act == EB_REF_ACT_RELU)
                acc = _mm512_max_ps(acc, zero);
            else if (act == EB_REF_ACT_CLIP)
                acc = _mm512_min_ps(_mm512_max_ps(acc, vlo), vhi);
            _mm512_mask_storeu_ps(yr + ow, (__mmask16)((1u << n) - 1), acc);
        }
    }
}

AVX512 void eb_ref_dw3x3_avx512(const eb_ref_conv2d *p, const float *x, const float *w,
                                const float *b, eb_ref_act act, float lo, float hi, float *y,
                                int64_t c0, int64_t c1)
{
    int kh = (int)p->kh, kw = (int)p->kw;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = x + c * p->h * p->w;
        float *yc = y + c * p->oh * p->ow;
        const float *wc = w + c * kh * kw;
        float bias = b ? b[c] : 0.0f;
        if (kh == 3 && kw == 3)
            dw512_channel(p, 3, 3, xc, wc, bias, act, lo, hi, yc);
        else if (kh == 5 && kw == 5)
            dw512_channel(p, 5, 5, xc, wc, bias, act, lo, hi, yc);
        else
            dw512_channel(p, kh, kw, xc, wc, bias, act, lo, hi, yc);
    }
}

#endif
