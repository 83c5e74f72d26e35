/* AVX-512 im2col into packed-B panels (see conv_im2col.c for the layout and the runs): the
 * portable version spends most of a small layer's time on edge arithmetic and short copies
 * (the zoo cnn's 16->32 conv on 14x14 maps: 56% of its time in im2col, panels of 16 positions
 * spanning two output rows).  Here a panel's k row is assembled in one register: each run is a
 * masked load (stride 1) or a masked gather (stride 2 and up) whose mask drops the lanes that
 * fall into the padding, and the row is stored once.  Masked-off lanes are never read, so the
 * loads may start before the input row.  Only this function carries a target attribute;
 * ops_conv.c calls it when the session's isa is AVX-512. */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#include "conv_gemm.h"

typedef struct im2col_run512 {
    int j0, j1;     /* panel lanes [j0, j1) */
    int64_t ih, iw; /* input row and column of lane j0 at tap (0, 0) */
} im2col_run512;

#define IM2COL_CHUNK 32 /* panels whose runs are planned at once */

/* v with lanes m (a contiguous range [a, b)) replaced by base[j * s]. */
static inline __attribute__((target("avx512f"), always_inline)) __m512
im2col_lanes(__m512 v, __mmask16 m, unsigned a, unsigned b, const float *base, int64_t s,
             const float *x, const float *xend, __m512i vstride, __m512i even)
{
    /* A masked load waits for older stores (AMD Zen 4/5: it was 80% of this function's
     * time), so read whole vectors wherever they stay inside the input and drop the extra
     * lanes with a blend (the empty asm keeps GCC from folding it back into a masked load). */
    int inside = base >= x && base + 32 <= xend;
    if (s == 1 && inside) {
        __m512 l = _mm512_loadu_ps(base);
        __asm__("" : "+v"(l));
        return _mm512_mask_mov_ps(v, m, l);
    }
    if (s == 1)
        return _mm512_mask_loadu_ps(v, m, base);
    if (s == 2) {
        __m512 l0, l1;
        if (inside) {
            l0 = _mm512_loadu_ps(base);
            l1 = _mm512_loadu_ps(base + 16);
        } else {
            /* floats [2a, 2b - 1) of base: the columns read and the ones between them, all
             * inside the row */
            uint64_t fm = ((1ull << (2 * b - 1)) - 1u) & ~((1ull << (2 * a)) - 1u);
            l0 = _mm512_maskz_loadu_ps((__mmask16)fm, base);
            l1 = _mm512_maskz_loadu_ps((__mmask16)(fm >> 16), base + 16);
        }
        return _mm512_mask_mov_ps(v, m, _mm512_permutex2var_ps(l0, even, l1));
    }
    return _mm512_mask_i32gather_ps(v, m, vstride, base, 4);
}

__attribute__((target("avx512f"))) void
eb_ref_im2col_packed_avx512(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                            int64_t p0, int64_t p1)
{
    int64_t ohw = p->oh * p->ow, K = cg * p->kh * p->kw, s = p->sw, W = p->w, H = p->h;
    int64_t Np = (ohw + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
    const float *xend = x + cg * H * W;
    const __m512i vstride = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)s));
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    /* k rows outer, panels inner: one k row of consecutive panels reads one stretch of an
     * input row, a stream the prefetcher follows (panel by panel, a first convolution's
     * 9..49 rows per panel missed the caches on nearly every load: 65% of its time) */
    for (int64_t c0p = p0; c0p < p1; c0p += IM2COL_CHUNK) {
        int64_t c1p = c0p + IM2COL_CHUNK < p1 ? c0p + IM2COL_CHUNK : p1;
        im2col_run512 runs[IM2COL_CHUNK][EB_REF_NR];
        int n_runs[IM2COL_CHUNK];
        for (int64_t pn = c0p; pn < c1p; pn++) {
            int64_t j0 = pn * EB_REF_NR, w = ohw - j0 < EB_REF_NR ? ohw - j0 : EB_REF_NR;
            im2col_run512 *rp = runs[pn - c0p];
            int n = 0;
            for (int64_t j = 0; j < w;) {
                int64_t oh = (j0 + j) / p->ow, ow = (j0 + j) % p->ow;
                int64_t len = p->ow - ow < w - j ? p->ow - ow : w - j;
                rp[n++] = (im2col_run512){(int)j, (int)(j + len), oh * p->sh - p->pt,
                                          ow * s - p->pl};
                j += len;
            }
            n_runs[pn - c0p] = n;
        }
        int64_t k = 0;
        for (int64_t c = 0; c < cg; c++) {
            const float *xc = x + c * H * W;
            for (int64_t ki = 0; ki < p->kh; ki++)
                for (int64_t kj = 0; kj < p->kw; kj++, k++) {
                    int64_t k0 = k / EB_REF_KC * EB_REF_KC;
                    int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
                    float *row = pb + k0 * Np + (k - k0) * EB_REF_NR;
                    for (int64_t pn = c0p; pn < c1p; pn++) {
                        const im2col_run512 *rp = runs[pn - c0p];
                        __m512 v = _mm512_setzero_ps();
                        for (int r = 0; r < n_runs[pn - c0p]; r++) {
                            int64_t ih = rp[r].ih + ki * p->dh;
                            if (ih < 0 || ih >= H)
                                continue;
                            int64_t iw = rp[r].iw + kj * p->dw, n = rp[r].j1 - rp[r].j0;
                            /* lanes j0 + [lo, hi) read columns 0 <= iw + j*s < W */
                            int64_t lo, hi;
                            if (s == 1) {
                                lo = iw >= 0 ? 0 : -iw;
                                hi = W - iw;
                            } else if (s == 2) { /* no division in the hot loop */
                                lo = iw >= 0 ? 0 : (-iw + 1) >> 1;
                                hi = iw >= W ? 0 : ((W - 1 - iw) >> 1) + 1;
                            } else {
                                lo = iw >= 0 ? 0 : (-iw + s - 1) / s;
                                hi = iw >= W ? 0 : (W - 1 - iw) / s + 1;
                            }
                            if (hi > n)
                                hi = n;
                            if (lo >= hi)
                                continue;
                            unsigned a = (unsigned)(rp[r].j0 + lo), b = (unsigned)(rp[r].j0 + hi);
                            __mmask16 m = (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
                            /* lane j reads base[j * s]; lane j0 is column iw */
                            const float *base = xc + ih * W + iw - (int64_t)rp[r].j0 * s;
                            v = im2col_lanes(v, m, a, b, base, s, x, xend, vstride, even);
                        }
                        _mm512_storeu_ps(row + pn * EB_REF_NR * kc, v);
                    }
                }
        }
    }
}

#endif
