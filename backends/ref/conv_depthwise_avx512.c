/* Depthwise convolution with AVX-512F (contract: eb_ref_dw3x3_avx512 in ref_internal.h).
 * Sixteen outputs per zmm; two kernels, each with kh, kw constant for 3x3 and 5x5:
 *
 * - Stride 1 with "same" padding (output plane as large as the input's): the plane is one
 *   flat array, and output q = oh*W + ow reads input q + (ki - pt)*W + (kj - pl) for every
 *   tap, a constant offset.  So one output vector is any sixteen consecutive outputs, however
 *   many rows they span (a 7x7 plane is 4 vectors, not 7 of 7 lanes), and per tap row two
 *   loads (A = 16 floats at the row's offset, B = the next 16) give every kj by a lane shift
 *   (valignd).  A tap whose column falls off the row's left or right wraps into the
 *   neighbouring row: those lanes are dropped by a masked FMA, with masks that depend only on
 *   the column of lane 0 (a small table built per call).  Rows above and below the plane are
 *   offsets outside [0, H*W): only the first and last few vectors need masked loads (a masked
 *   load never faults on the lanes it leaves out), the rest run without.
 * - Stride 2: every input row is copied once into a zero-padded segment (a ring indexed by
 *   input row), so the loops have no edges; two output rows per pass share their common input
 *   rows; 32 consecutive inputs give the even and odd taps by two-source permutes, the taps
 *   further right by valignd with the next 16 inputs' even/odd lanes.
 *
 * Anything else (rows over DW512_MAXW, outputs too wide for the row path's mask table,
 * stride-2 planes whose padded copy exceeds DW512_BUF) is left to the caller (return -1).
 * Only this file's functions carry the target attribute; the caller checks the CPU first. */
#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#include "ref_internal.h"

#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define DW512_INLINE static inline AVX512 __attribute__((always_inline))

#define DW512_MAXK 7
#define DW512_MAXW 1024 /* widest row the stride-1 mask table serves */
#define DW512_ROWS_W 96 /* stride 1: rows this wide run row by row (narrower: flat is faster) */
#define DW512_BUF 16384 /* floats of stack for padded copies and zero rows (64 KiB) */

/* Lanes i in [0, 16) with 0 <= off + i < n. */
DW512_INLINE __mmask16 dw512_lanes(int64_t off, int64_t n)
{
    int64_t lo = off >= 0 ? 0 : -off, hi = n - off;
    if (hi > 16)
        hi = 16;
    if (hi <= lo)
        return 0;
    return (__mmask16)((0xffffu >> (16 - hi)) & ~((1u << lo) - 1));
}

/* Lanes kj.. of a, then b's: inputs kj + i when a holds inputs i and b inputs 16 + i. */
DW512_INLINE __m512 dw512_shift(__m512 a, __m512 b, int kj)
{
    __m512i ai = _mm512_castps_si512(a), bi = _mm512_castps_si512(b);
    switch (kj) {
    case 0: return a;
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 2));
    case 3: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 3));
    case 4: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 4));
    case 5: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 5));
    default: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 6));
    }
}

DW512_INLINE __m512 dw512_act(__m512 v, eb_ref_act act, __m512 lo, __m512 hi)
{
    if (act == EB_REF_ACT_RELU)
        return _mm512_max_ps(v, _mm512_setzero_ps());
    if (act == EB_REF_ACT_CLIP)
        return _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    return v;
}

typedef struct dw512_ctx {
    const eb_ref_conv2d *p;
    const float *w; /* this channel's kh*kw weights */
    __m512 b, lo, hi;
    eb_ref_act act;
} dw512_ctx;

/* ------------------------------------------------------------------ stride 1, flat plane */

/* NV (1, 2 or 4) output vectors at flat positions q, q + 16, ... (lanes past the plane are
 * not stored); col: the column of q; cm: the column masks [col][kj].  EDGE (only with NV 1):
 * some tap row's loads leave the plane. */
/* acc + t*w on the lanes of mask m; the tap at kj == PL (the centre column, when the
 * instantiation knows pl) has every lane: no mask to load. */
#define DW512_FMA(t, w, acc, m)                                                                \
    (kj == PL ? _mm512_fmadd_ps(t, w, acc) : _mm512_mask3_fmadd_ps(t, w, acc, m))

DW512_INLINE void dw512_flat_vecs(const dw512_ctx *c, const int KH, const int KW, const int PL,
                                  const int NV, const int EDGE, const float *wl, const float *xc, int64_t q,
                                  int64_t col, const uint16_t *cm, float *yc)
{
    /* written out per vector (named variables, no arrays): GCC keeps them in registers */
    const eb_ref_conv2d *p = c->p;
    const int64_t W = p->w, HW = p->h * p->w, step = 16 % W;
    const uint16_t *m0 = cm + col * KW, *m1 = m0, *m2 = m0, *m3 = m0;
    if (NV > 1)
        col += step, col -= col >= W ? W : 0, m1 = cm + col * KW;
    if (NV > 2) {
        col += step, col -= col >= W ? W : 0, m2 = cm + col * KW;
        col += step, col -= col >= W ? W : 0, m3 = cm + col * KW;
    }
    __m512 a0 = c->b, a1 = c->b, a2 = c->b, a3 = c->b;
    __m512 b0 = _mm512_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
#pragma GCC unroll 7
    for (int ki = 0; ki < KH; ki++) {
        const float *r = xc + q + (ki - p->pt) * W - p->pl;
        int64_t off = r - xc;
        __m512 l0, l1, l2 = l0 = _mm512_setzero_ps(), l3 = l2, l4 = l2;
        if (EDGE) {
            l0 = _mm512_maskz_loadu_ps(dw512_lanes(off, HW), r);
            l1 = _mm512_maskz_loadu_ps(dw512_lanes(off + 16, HW), r + 16);
        } else {
            l0 = _mm512_loadu_ps(r);
            l1 = _mm512_loadu_ps(r + 16);
        }
        if (NV > 1)
            l2 = _mm512_loadu_ps(r + 32);
        if (NV > 2) {
            l3 = _mm512_loadu_ps(r + 48);
            l4 = _mm512_loadu_ps(r + 64);
        }
#pragma GCC unroll 7
        for (int kj = 0; kj < KW; kj++) {
            __m512 wv = _mm512_set1_ps(wl[ki * KW + kj]);
            /* two accumulators per vector (even and odd tap rows): independent FMA chains
             * hide the FMA latency */
            if (ki & 1) {
                b0 = DW512_FMA(dw512_shift(l0, l1, kj), wv, b0, m0[kj]);
                if (NV > 1)
                    b1 = DW512_FMA(dw512_shift(l1, l2, kj), wv, b1, m1[kj]);
                if (NV > 2) {
                    b2 = DW512_FMA(dw512_shift(l2, l3, kj), wv, b2, m2[kj]);
                    b3 = DW512_FMA(dw512_shift(l3, l4, kj), wv, b3, m3[kj]);
                }
            } else {
                a0 = DW512_FMA(dw512_shift(l0, l1, kj), wv, a0, m0[kj]);
                if (NV > 1)
                    a1 = DW512_FMA(dw512_shift(l1, l2, kj), wv, a1, m1[kj]);
                if (NV > 2) {
                    a2 = DW512_FMA(dw512_shift(l2, l3, kj), wv, a2, m2[kj]);
                    a3 = DW512_FMA(dw512_shift(l3, l4, kj), wv, a3, m3[kj]);
                }
            }
        }
    }
    __m512 y[4] = {a0, a1, a2, a3}, z[4] = {b0, b1, b2, b3};
    for (int v = 0; v < NV; v++, q += 16) {
        __m512 r = dw512_act(_mm512_add_ps(y[v], z[v]), c->act, c->lo, c->hi);
        if (q + 16 <= HW)
            _mm512_storeu_ps(yc + q, r);
        else
            _mm512_mask_storeu_ps(yc + q, dw512_lanes(q, HW), r);
    }
}

DW512_INLINE void dw512_flat(const dw512_ctx *c, const int KH, const int KW, const int PL,
                             const float *xc, float *yc, const uint16_t *cm, float *pad,
                             int64_t front)
{
    const eb_ref_conv2d *p = c->p;
    const int64_t W = p->w, HW = p->h * p->w, step = 16 % W, step4 = 64 % W;
    /* vectors starting in [qa, qb] read only inside the plane */
    const int64_t qa = p->pt * W + p->pl, qb = HW - 32 - (KH - 1 - p->pt) * W + p->pl;
    /* a local copy: the stores to yc could alias c->w, which would reload every weight */
    float wl[DW512_MAXK * DW512_MAXK];
    for (int k = 0; k < KH * KW; k++)
        wl[k] = c->w[k];
    int64_t col = 0, q = 0;
    if (pad) {
        /* a small plane: copied between zeros (pad[0, front) and pad[front + HW, ...) stay
         * zero from the caller), then every vector runs without load masks */
        memcpy(pad + front, xc, (size_t)HW * sizeof *xc);
        for (; q + 48 < HW; q += 64) {
            dw512_flat_vecs(c, KH, KW, PL, 4, 0, wl, pad + front, q, col, cm, yc);
            col = (col + step4) % W;
        }
        for (; q < HW; q += 16) {
            dw512_flat_vecs(c, KH, KW, PL, 1, 0, wl, pad + front, q, col, cm, yc);
            col += step;
            col -= col >= W ? W : 0;
        }
        return;
    }
    for (; q < HW && (q < qa || q > qb); q += 16) {
        dw512_flat_vecs(c, KH, KW, PL, 1, 1, wl, xc, q, col, cm, yc);
        col += step;
        col -= col >= W ? W : 0;
    }
    for (; q + 48 <= qb; q += 64) {
        dw512_flat_vecs(c, KH, KW, PL, 4, 0, wl, xc, q, col, cm, yc);
        col = (col + step4) % W;
    }
    for (; q <= qb; q += 16) {
        dw512_flat_vecs(c, KH, KW, PL, 1, 0, wl, xc, q, col, cm, yc);
        col += step;
        col -= col >= W ? W : 0;
    }
    for (; q < HW; q += 16) {
        dw512_flat_vecs(c, KH, KW, PL, 1, 1, wl, xc, q, col, cm, yc);
        col += step;
        col -= col >= W ? W : 0;
    }
}

/* Stride 1, rows of 16 or more: NV (1 or 4) output vectors of row y at column ow.  rows[ki]
 * is input row oh - pt + ki (a zero row in the padding); lm[j] masks the loads of input
 * columns ow - pl + 16j.. to [0, W), so taps off the row's ends read zeros and the FMAs need
 * no masks (in the flat layout those lanes would be the neighbouring rows'). */
DW512_INLINE void dw512_row_vecs(const dw512_ctx *c, const int KH, const int KW, const int NV,
                                 const int EDGE, const float *wl, const float *const *rows,
                                 int64_t ow, int64_t pl, const uint16_t *lm, float *y,
                                 int64_t OW)
{
    __m512 a0 = c->b, a1 = c->b, a2 = c->b, a3 = c->b;
    __m512 b0 = _mm512_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
    const __mmask16 k0 = lm[0], k1 = lm[1], k2 = NV > 1 ? lm[2] : 0;
    const __mmask16 k3 = NV > 1 ? lm[3] : 0, k4 = NV > 1 ? lm[4] : 0;
#pragma GCC unroll 7
    for (int ki = 0; ki < KH; ki++) {
        const float *r = rows[ki] + ow - pl;
        __m512 l0, l1, l2, l3, l4;
        if (EDGE) {
            l0 = _mm512_maskz_loadu_ps(k0, r);
            l1 = _mm512_maskz_loadu_ps(k1, r + 16);
            l2 = l3 = l4 = l0;
            if (NV > 1) {
                l2 = _mm512_maskz_loadu_ps(k2, r + 32);
                l3 = _mm512_maskz_loadu_ps(k3, r + 48);
                l4 = _mm512_maskz_loadu_ps(k4, r + 64);
            }
        } else { /* (masked loads, even with every lane set, ran slower) */
            l0 = _mm512_loadu_ps(r);
            l1 = _mm512_loadu_ps(r + 16);
            l2 = l3 = l4 = l0;
            if (NV > 1) {
                l2 = _mm512_loadu_ps(r + 32);
                l3 = _mm512_loadu_ps(r + 48);
                l4 = _mm512_loadu_ps(r + 64);
            }
        }
#pragma GCC unroll 7
        for (int kj = 0; kj < KW; kj++) {
            __m512 wv = _mm512_set1_ps(wl[ki * KW + kj]);
            /* two accumulators per vector (even and odd tap rows), as in dw512_flat_vecs */
            if (ki & 1) {
                b0 = _mm512_fmadd_ps(dw512_shift(l0, l1, kj), wv, b0);
                if (NV > 1) {
                    b1 = _mm512_fmadd_ps(dw512_shift(l1, l2, kj), wv, b1);
                    b2 = _mm512_fmadd_ps(dw512_shift(l2, l3, kj), wv, b2);
                    b3 = _mm512_fmadd_ps(dw512_shift(l3, l4, kj), wv, b3);
                }
            } else {
                a0 = _mm512_fmadd_ps(dw512_shift(l0, l1, kj), wv, a0);
                if (NV > 1) {
                    a1 = _mm512_fmadd_ps(dw512_shift(l1, l2, kj), wv, a1);
                    a2 = _mm512_fmadd_ps(dw512_shift(l2, l3, kj), wv, a2);
                    a3 = _mm512_fmadd_ps(dw512_shift(l3, l4, kj), wv, a3);
                }
            }
        }
    }
    __m512 v[4] = {a0, a1, a2, a3}, u[4] = {b0, b1, b2, b3};
    for (int j = 0; j < (NV > 1 ? 4 : 1); j++, ow += 16) {
        __m512 r = dw512_act(_mm512_add_ps(v[j], u[j]), c->act, c->lo, c->hi);
        if (ow + 16 <= OW)
            _mm512_storeu_ps(y + ow, r);
        else
            _mm512_mask_storeu_ps(y + ow, dw512_lanes(ow, OW), r);
    }
}

/* lm[j] for the row path: lanes of input columns 16j - pl.. inside [0, W). */
DW512_INLINE void dw512_row_masks(const eb_ref_conv2d *p, uint16_t *lm)
{
    for (int64_t j = 0; j * 16 < p->ow + 64 + 16; j++)
        lm[j] = dw512_lanes(16 * j - p->pl, p->w);
}

DW512_INLINE void dw512_rows(const dw512_ctx *c, const int KH, const int KW, const float *xc,
                             float *yc, const uint16_t *lm, const float *zeros)
{
    const eb_ref_conv2d *p = c->p;
    const int64_t H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    float wl[DW512_MAXK * DW512_MAXK]; /* as in dw512_flat */
    for (int k = 0; k < KH * KW; k++)
        wl[k] = c->w[k];
    const float *rows[DW512_MAXK];
    for (int64_t oh = 0; oh < OH; oh++) {
        for (int ki = 0; ki < KH; ki++) {
            int64_t ih = oh - p->pt + ki;
            rows[ki] = ih >= 0 && ih < H ? xc + ih * W : zeros;
        }
        float *y = yc + oh * OW;
        int64_t ow = 0;
        /* the first vectors (left padding) and those reading past the row's end mask */
        for (; ow < OW && ow < p->pl; ow += 16)
            dw512_row_vecs(c, KH, KW, 1, 1, wl, rows, ow, p->pl, lm + ow / 16, y, OW);
        for (; ow + 48 < OW && ow - p->pl + 80 <= W; ow += 64)
            dw512_row_vecs(c, KH, KW, 4, 0, wl, rows, ow, p->pl, lm + ow / 16, y, OW);
        for (; ow < OW && ow - p->pl + 32 <= W; ow += 16)
            dw512_row_vecs(c, KH, KW, 1, 0, wl, rows, ow, p->pl, lm + ow / 16, y, OW);
        for (; ow < OW; ow += 16)
            dw512_row_vecs(c, KH, KW, 1, 1, wl, rows, ow, p->pl, lm + ow / 16, y, OW);
    }
}

/* cm[col*kw + kj]: lanes i whose column ((col + i) mod W) + kj - pl lies in [0, W), for the
 * columns a vector can start at (multiples of 16 mod W). */
static AVX512 void dw512_col_masks(const eb_ref_conv2d *p, uint16_t *cm)
{
    const int64_t W = p->w;
    int64_t col = 0;
    do {
        for (int64_t kj = 0; kj < p->kw; kj++) {
            int64_t d = kj - p->pl, cc = col;
            unsigned m = 0;
            for (int i = 0; i < 16; i++) {
                if (cc + d >= 0 && cc + d < W)
                    m |= 1u << i;
                cc = cc + 1 == W ? 0 : cc + 1;
            }
            cm[col * p->kw + kj] = (uint16_t)m;
        }
        col = (col + 16) % W;
    } while (col != 0);
}

/* ------------------------------------------------------------------ stride 2, padded plane */

/* The taps of one input row for NV (1 or 2) output vectors: xr holds the row's padded
 * inputs from the vectors' first window on; t(kj) for vector v is inputs 2i + kj of window v. */
#define DW512_S2_LOAD(e, od, e2, o2, xr)                                                          \
    do {                                                                                       \
        __m512 x0_ = _mm512_loadu_ps(xr), x1_ = _mm512_loadu_ps((xr) + 16);                    \
        __m512 x2_ = _mm512_loadu_ps((xr) + 32);                                               \
        e = _mm512_permutex2var_ps(x0_, even, x1_);                                            \
        od = _mm512_permutex2var_ps(x0_, odd, x1_);                                            \
        e2 = KW > 3 ? _mm512_permutexvar_ps(even, x2_) : x2_;                                  \
        o2 = KW > 3 ? _mm512_permutexvar_ps(odd, x2_) : x2_;                                   \
    } while (0)

/* Output rows oh and oh + 1 (TWO) of NV vectors at column o; row(r): padded input row
 * 2*oh - pt + r, whose element 0 is input column -pl.  Two accumulators per output row and
 * vector (even and odd tap rows) keep enough FMA chains in flight. */
DW512_INLINE void dw512_s2_vecs(const dw512_ctx *c, const int KH, const int KW, const int TWO,
                                const int NV, const float *wl, const float *row0, int64_t pitch,
                                int64_t o, int64_t n, float *y0, float *y1)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29,
                                          31);
    const __m512 zero = _mm512_setzero_ps();
    __m512 a00 = c->b, a01 = zero, a10 = c->b, a11 = zero; /* [vector][parity], row oh */
    __m512 b00 = c->b, b01 = zero, b10 = c->b, b11 = zero; /* row oh + 1 */
#pragma GCC unroll 9
    for (int r = 0; r < KH + 2 * TWO; r++) {
        const float *xr = row0 + r * pitch + 2 * o;
        __m512 e, od, e2, o2, f = zero, fo = zero, f2 = zero, fo2 = zero;
        DW512_S2_LOAD(e, od, e2, o2, xr);
        if (NV > 1)
            DW512_S2_LOAD(f, fo, f2, fo2, xr + 32);
#pragma GCC unroll 7
        for (int kj = 0; kj < KW; kj++) {
            __m512 t = kj & 1 ? dw512_shift(od, o2, kj / 2) : dw512_shift(e, e2, kj / 2);
            __m512 u = zero;
            if (NV > 1)
                u = kj & 1 ? dw512_shift(fo, fo2, kj / 2) : dw512_shift(f, f2, kj / 2);
            if (r < KH) {
                __m512 wv = _mm512_set1_ps(wl[r * KW + kj]);
                if (r & 1) {
                    a01 = _mm512_fmadd_ps(t, wv, a01);
                    if (NV > 1)
                        a11 = _mm512_fmadd_ps(u, wv, a11);
                } else {
                    a00 = _mm512_fmadd_ps(t, wv, a00);
                    if (NV > 1)
                        a10 = _mm512_fmadd_ps(u, wv, a10);
                }
            }
            if (TWO && r >= 2) {
                __m512 wv = _mm512_set1_ps(wl[(r - 2) * KW + kj]);
                if (r & 1) {
                    b01 = _mm512_fmadd_ps(t, wv, b01);
                    if (NV > 1)
                        b11 = _mm512_fmadd_ps(u, wv, b11);
                } else {
                    b00 = _mm512_fmadd_ps(t, wv, b00);
                    if (NV > 1)
                        b10 = _mm512_fmadd_ps(u, wv, b10);
                }
            }
        }
    }
    __mmask16 m0 = dw512_lanes(o, n), m1 = dw512_lanes(o + 16, n);
    _mm512_mask_storeu_ps(y0 + o, m0, dw512_act(_mm512_add_ps(a00, a01), c->act, c->lo, c->hi));
    if (NV > 1)
        _mm512_mask_storeu_ps(y0 + o + 16, m1,
                              dw512_act(_mm512_add_ps(a10, a11), c->act, c->lo, c->hi));
    if (TWO) {
        _mm512_mask_storeu_ps(y1 + o, m0,
                              dw512_act(_mm512_add_ps(b00, b01), c->act, c->lo, c->hi));
        if (NV > 1)
            _mm512_mask_storeu_ps(y1 + o + 16, m1,
                                  dw512_act(_mm512_add_ps(b10, b11), c->act, c->lo, c->hi));
    }
}

/* Geometry of the padded plane: a row holds input columns -pl.. (what every valid output
 * reads, zeros past the input), rows follow each other at `pitch`, row 0 is input row -pt;
 * `size` covers every row a pass reads and the last vector's overhang. */
static void dw512_s2_geometry(const eb_ref_conv2d *p, int64_t *pitch, int64_t *size)
{
    int64_t need = 2 * p->ow + p->kw; /* elements a valid output may read */
    *pitch = p->pl + p->w > need ? p->pl + p->w : need;
    int64_t rows = 2 * p->oh + p->kh + 2;
    if (rows < p->pt + p->h)
        rows = p->pt + p->h;
    *size = rows * *pitch + 2 * ((p->ow + 31) / 32 * 32) + 64;
}

DW512_INLINE void dw512_s2(const dw512_ctx *c, const int KH, const int KW, const float *xc,
                           float *yc, float *pad, int64_t pitch)
{
    const eb_ref_conv2d *p = c->p;
    const int64_t H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    float wl[DW512_MAXK * DW512_MAXK]; /* as in dw512_flat */
    for (int k = 0; k < KH * KW; k++)
        wl[k] = c->w[k];
    /* copy the plane in; the borders stay zero from the caller */
    for (int64_t ih = 0; ih < H; ih++) {
        float *dst = pad + (ih + p->pt) * pitch + p->pl;
        const float *src = xc + ih * W;
        int64_t j = 0;
        for (; j + 16 <= W; j += 16)
            _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
        if (j < W) {
            __mmask16 m = dw512_lanes(j, W);
            _mm512_mask_storeu_ps(dst + j, m, _mm512_maskz_loadu_ps(m, src + j));
        }
    }
    for (int64_t oh = 0; oh < OH; oh += 2) {
        const float *row0 = pad + 2 * oh * pitch;
        float *y0 = yc + oh * OW;
        int64_t o = 0;
        if (oh + 1 < OH) {
            for (; o + 16 < OW; o += 32)
                dw512_s2_vecs(c, KH, KW, 1, 2, wl, row0, pitch, o, OW, y0, y0 + OW);
            for (; o < OW; o += 16)
                dw512_s2_vecs(c, KH, KW, 1, 1, wl, row0, pitch, o, OW, y0, y0 + OW);
        } else {
            for (; o + 16 < OW; o += 32)
                dw512_s2_vecs(c, KH, KW, 0, 2, wl, row0, pitch, o, OW, y0, y0);
            for (; o < OW; o += 16)
                dw512_s2_vecs(c, KH, KW, 0, 1, wl, row0, pitch, o, OW, y0, y0);
        }
    }
}

/* ------------------------------------------------------------------ entry */

static int dw512_takes(const eb_ref_conv2d *p)
{
    if (p->kh > DW512_MAXK || p->kw > DW512_MAXK)
        return 0;
    /* the row path's mask table (dw512_row_masks) has an entry per 16 outputs plus 5: a model's
     * pads, not only its width, decide how many, and the table lives on the stack */
    if (p->sw == 1)
        return p->sh == 1 && p->w <= DW512_MAXW && p->ow + 96 <= 16 * DW512_MAXW * DW512_MAXK;
    int64_t pitch, size;
    dw512_s2_geometry(p, &pitch, &size);
    return p->sh == 2 && size <= DW512_BUF;
}

/* Channels [c0, c1) of one kernel instantiation; each is its own function (GCC allocates
 * registers per function: one function holding every instantiation ran the 5x5 ones 1.6x
 * slower). */
typedef struct dw512_args {
    const eb_ref_conv2d *p;
    const float *x, *w, *b;
    float *y;
    eb_ref_act act;
    float lo, hi;
    const uint16_t *cm; /* stride 1: column masks (flat) or load masks (rows) */
    float *buf;         /* padded copies (their borders zeroed) */
    float *pad;         /* stride 1: small-plane copy, or NULL */
    int64_t front;      /* stride 1: pad's leading zeros */
    int64_t pitch;      /* stride 2: the copy's row pitch */
} dw512_args;

#define DW512_INSTANCE(name, KH, KW, BODY)                                                    \
    static AVX512 __attribute__((noinline)) void name(const dw512_args *a, int64_t c0,        \
                                                      int64_t c1)                             \
    {                                                                                          \
        const eb_ref_conv2d *p = a->p;                                                         \
        for (int64_t ch = c0; ch < c1; ch++) {                                                 \
            dw512_ctx c = {.p = p, .w = a->w + ch * (KH) * (KW),                               \
                           .b = _mm512_set1_ps(a->b ? a->b[ch] : 0.0f),                        \
                           .lo = _mm512_set1_ps(a->lo), .hi = _mm512_set1_ps(a->hi),           \
                           .act = a->act};                                                     \
            const float *xc = a->x + ch * p->h * p->w;                                         \
            float *yc = a->y + ch * p->oh * p->ow;                                             \
            BODY;                                                                              \
        }                                                                                      \
    }

DW512_INSTANCE(dw512_flat_3x3, 3, 3, dw512_flat(&c, 3, 3, 1, xc, yc, a->cm, a->pad, a->front))
DW512_INSTANCE(dw512_flat_5x5, 5, 5, dw512_flat(&c, 5, 5, 2, xc, yc, a->cm, a->pad, a->front))
DW512_INSTANCE(dw512_flat_kxk, p->kh, p->kw,
               dw512_flat(&c, (int)p->kh, (int)p->kw, -1, xc, yc, a->cm, a->pad, a->front))
DW512_INSTANCE(dw512_rows_3x3, 3, 3, dw512_rows(&c, 3, 3, xc, yc, a->cm, a->buf))
DW512_INSTANCE(dw512_rows_5x5, 5, 5, dw512_rows(&c, 5, 5, xc, yc, a->cm, a->buf))
DW512_INSTANCE(dw512_rows_kxk, p->kh, p->kw,
               dw512_rows(&c, (int)p->kh, (int)p->kw, xc, yc, a->cm, a->buf))
DW512_INSTANCE(dw512_s2_3x3, 3, 3, dw512_s2(&c, 3, 3, xc, yc, a->buf, a->pitch))
DW512_INSTANCE(dw512_s2_5x5, 5, 5, dw512_s2(&c, 5, 5, xc, yc, a->buf, a->pitch))
DW512_INSTANCE(dw512_s2_kxk, p->kh, p->kw,
               dw512_s2(&c, (int)p->kh, (int)p->kw, xc, yc, a->buf, a->pitch))

AVX512 int eb_ref_dw3x3_avx512(const eb_ref_conv2d *p, const float *x, const float *w,
                               const float *b, eb_ref_act act, float lo, float hi, float *y,
                               int64_t c0, int64_t c1)
{
    if (!dw512_takes(p))
        return -1;
    uint16_t cm[DW512_MAXW * DW512_MAXK];
    float buf[DW512_BUF];
    dw512_args a = {.p = p, .x = x, .w = w, .b = b, .y = y, .act = act, .lo = lo, .hi = hi,
                    .cm = cm, .buf = buf};
    int k3 = p->kh == 3 && p->kw == 3, k5 = p->kh == 5 && p->kw == 5;
    /* the flat plane needs "same" padding (the output plane as large as the input's) */
    int flat = p->oh == p->h && p->ow == p->w && p->pl < p->kw && p->pt < p->kh;
    if (p->sw == 1 && (p->w >= DW512_ROWS_W || !flat)) {
        /* wide rows: row by row, load masks per column only (cm), a zero row (buf) */
        dw512_row_masks(p, cm);
        memset(buf, 0, (size_t)p->w * sizeof *buf);
        (k3 ? dw512_rows_3x3 : k5 ? dw512_rows_5x5 : dw512_rows_kxk)(&a, c0, c1);
    } else if (p->sw == 1) {
        dw512_col_masks(p, cm);
        /* small planes: zeros, the plane, zeros (what the last vectors read past it); larger
         * planes have few edge vectors, and the copy would cost more than it saves */
        a.front = (p->pt * p->w + p->pl + 15) / 16 * 16;
        int64_t size = a.front + p->h * p->w + (p->kh - 1 - p->pt) * p->w + 128;
        if (p->h * p->w <= 256 && size <= DW512_BUF) {
            a.pad = buf;
            memset(buf, 0, (size_t)size * sizeof *buf);
        }
        (k3 && p->pl == 1   ? dw512_flat_3x3
         : k5 && p->pl == 2 ? dw512_flat_5x5
                            : dw512_flat_kxk)(&a, c0, c1);
    } else {
        int64_t size;
        dw512_s2_geometry(p, &a.pitch, &size);
        /* the borders only: every channel overwrites the rest */
        eb_ref_dw_zero_borders(buf, size, p->pt, p->pl, p->h, p->w, a.pitch);
        (k3 ? dw512_s2_3x3 : k5 ? dw512_s2_5x5 : dw512_s2_kxk)(&a, c0, c1);
    }
    return 0;
}

#endif
