/* Direct convolution for very few input channels (a network's first layer: RGB or one gray
 * channel, any stride): im2col + GEMM spends most of such a layer building a K = 27..147 row
 * patch matrix that is read once (60% of MnasNet's 3->16 stride-2 stem).  Here 16 output
 * positions of one output row sit in a zmm, read straight from the input (a load, two loads
 * and a permute at stride 2, a gather otherwise; the padding masked out), and 16 output
 * channels accumulate in 16 registers, each tap one broadcast FMA per channel.  Weights are
 * transposed at open to [c][kh][kw][m], output channels padded to 16.  Only this file's
 * function carries the target attribute; ops_conv.c calls it when the session's isa is
 * AVX-512. */
#if defined(__x86_64__)

#include <immintrin.h>

#include "conv_gemm.h"

#define AVX512 __attribute__((target("avx512f")))

/* Lanes j < 16 (mask m) of input row xr at columns iw + j*s; zero elsewhere. */
static inline AVX512 __attribute__((always_inline)) __m512
direct_lanes(const float *xr, int64_t iw, int64_t s, __mmask16 m, const float *x,
             const float *xend, __m512i vstride, __m512i even)
{
    const float *base = xr + iw;
    if (s == 1) {
        if (base >= x && base + 16 <= xend) {
            __m512 l = _mm512_loadu_ps(base);
            __asm__("" : "+v"(l)); /* a blend, not a (slow) masked load */
            return _mm512_maskz_mov_ps(m, l);
        }
        return _mm512_maskz_loadu_ps(m, base);
    }
    if (s == 2 && base >= x && base + 32 <= xend)
        return _mm512_maskz_mov_ps(
            m, _mm512_permutex2var_ps(_mm512_loadu_ps(base), even, _mm512_loadu_ps(base + 16)));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, vstride, base, 4);
}

AVX512 void eb_ref_conv_direct_avx512(const eb_ref_conv2d *p, const float *x, const float *wt,
                                      int64_t mp, const float *bias, eb_ref_act act, float lo,
                                      float hi, float *y, int64_t r0, int64_t r1)
{
    const int64_t s = p->sw, W = p->w, H = p->h, ohw = p->oh * p->ow;
    const float *xend = x + p->c * H * W;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i vstride = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)s));
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    for (int64_t oh = r0; oh < r1; oh++)
        for (int64_t ow0 = 0; ow0 < p->ow; ow0 += 16) {
            int nv = (int)(p->ow - ow0 < 16 ? p->ow - ow0 : 16);
            __mmask16 mout = (__mmask16)(nv == 16 ? 0xffff : (1u << nv) - 1u);
            for (int64_t m0 = 0; m0 < p->m; m0 += 16) {
                __m512 acc[16];
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++)
                    acc[i] = _mm512_setzero_ps();
                for (int64_t c = 0; c < p->c; c++)
                    for (int64_t ki = 0; ki < p->kh; ki++) {
                        int64_t ih = oh * p->sh - p->pt + ki * p->dh;
                        if (ih < 0 || ih >= H)
                            continue;
                        const float *xr = x + (c * H + ih) * W;
                        const float *wk = wt + ((c * p->kh + ki) * p->kw) * mp + m0;
                        for (int64_t kj = 0; kj < p->kw; kj++, wk += mp) {
                            int64_t iw = ow0 * s - p->pl + kj * p->dw;
                            /* lanes j < nv with 0 <= iw + j*s < W */
                            int64_t a, b;
                            if (s == 1) {
                                a = iw >= 0 ? 0 : -iw;
                                b = W - iw;
                            } else if (s == 2) { /* no division per tap */
                                a = iw >= 0 ? 0 : (-iw + 1) >> 1;
                                b = iw >= W ? 0 : ((W - 1 - iw) >> 1) + 1;
                            } else {
                                a = iw >= 0 ? 0 : (-iw + s - 1) / s;
                                b = iw >= W ? 0 : (W - 1 - iw) / s + 1;
                            }
                            if (b > nv)
                                b = nv;
                            if (a >= b)
                                continue;
                            __mmask16 m = (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
                            __m512 v = direct_lanes(xr, iw, s, m, x, xend, vstride, even);
#pragma GCC unroll 16
                            for (int i = 0; i < 16; i++)
                                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(wk[i]), v, acc[i]);
                        }
                    }
                int64_t mn = p->m - m0 < 16 ? p->m - m0 : 16;
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++) {
                    if (i >= mn)
                        break;
                    __m512 v = _mm512_add_ps(acc[i], _mm512_set1_ps(bias[m0 + i]));
                    if (act == EB_REF_ACT_RELU)
                        v = _mm512_max_ps(v, _mm512_setzero_ps());
                    else if (act == EB_REF_ACT_CLIP)
                        v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)),
                                          _mm512_set1_ps(hi));
                    _mm512_mask_storeu_ps(y + (m0 + i) * ohw + oh * p->ow + ow0, mout, v);
                }
            }
        }
}

#endif
