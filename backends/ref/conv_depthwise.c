/* Depthwise convolution (group == Cin == Cout, kh x kw up to 7x7, stride 1 or 2, dilation 1),
 * the bulk of MobileNet-style networks.  im2col + GEMM is a poor fit there (a 1 x k*k by
 * k*k x OHW product per channel), so the outputs are computed directly.
 *
 * Portable and AVX2 kernel: every input row a channel needs is first copied once into a
 * zero-padded segment (a ring of sixteen, indexed by input row; rows in the padding share one
 * zero segment), so the loops that follow have no edges at all: eight outputs per vector,
 * every tap an unconditional load from a segment, two output rows per pass sharing the loads
 * of their common input rows, bias and activation applied before the store.  Only the last
 * vector of a row is stored partially.  A row wider than DW_CHUNK outputs is done in chunks.
 * kh, kw and the stride are constants in the instantiations MobileNet and MnasNet need
 * (3x3 and 5x5, stride 1 and 2), so the taps unroll and the weights stay in registers.
 *
 * The vectors are GCC's generic vector extension (8 floats), portable to every target; on
 * x86-64 the same source is also compiled for AVX2+FMA (a target attribute on one wrapper),
 * which runs when the session's ISA is AVX2, so the default build stays baseline x86-64 and
 * EDGEBENCH_REF_ISA=portable runs the baseline depthwise code (a few other kernels use
 * target_clones, which the loader picks by CPU; their results are the same either way).  AVX-512 has its own kernel
 * (conv_depthwise_avx512.c). */
#include <string.h>

#include "ref_internal.h"

typedef float dw_v8 __attribute__((vector_size(32)));
typedef int dw_i8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__)
#define DW_X86 1
#else
#define DW_X86 0
#endif

#define DW_MAXK 7
#define DW_CHUNK 128 /* output columns per pass (bounds the segments, kept on the stack) */
/* a segment: the chunk's input columns for stride 2, the taps' overhang, and the 16 floats
 * a stride-2 vector reads past its first tap */
#define DW_SEG (DW_CHUNK * 2 + DW_MAXK + 16)
#define DW_RING 16 /* a power of two > DW_MAXK + 2: a pass's rows (kh + stride) never collide */
/* the stack buffer (64 KiB) for a padded plane, or the ring and a zero segment */
#define DW_BUF 16384

int eb_ref_dw3x3_fits(const eb_ref_conv2d *p)
{
    return p->group == p->c && p->m == p->c && p->kh == 3 && p->kw == 3 && p->dh == 1 &&
           p->dw == 1 && (p->sh == 1 || p->sh == 2) && p->sw == p->sh;
}

int eb_ref_dw_fits(const eb_ref_conv2d *p, eb_ref_isa isa)
{
    (void)isa; /* every ISA has a kernel for every such shape */
    return p->group == p->c && p->m == p->c && p->kh >= 1 && p->kh <= DW_MAXK && p->kw >= 1 &&
           p->kw <= DW_MAXK && p->dh == 1 && p->dw == 1 && (p->sh == 1 || p->sh == 2) &&
           p->sw == p->sh;
}

typedef struct dw_ctx {
    const eb_ref_conv2d *p;
    const float *w; /* this channel's kh*kw weights */
    float b, lo, hi;
    eb_ref_act act;
} dw_ctx;

/* Input row xr's taps for output o + i: xr[o*S + kj + S*i]. */
#define DW_TAP(xv, xr, o, kj)                                                                  \
    do {                                                                                       \
        if (S == 1) {                                                                          \
            memcpy(&(xv), (xr) + (o) + (kj), sizeof(xv));                                      \
        } else { /* xr[2o + kj], xr[2o + kj + 2], ..., xr[2o + kj + 14] */                     \
            dw_v8 v0_, v1_;                                                                    \
            memcpy(&v0_, (xr) + 2 * (o) + (kj), sizeof v0_);                                   \
            memcpy(&v1_, (xr) + 2 * (o) + (kj) + 8, sizeof v1_);                               \
            xv = __builtin_shuffle(v0_, v1_, (dw_i8){0, 2, 4, 6, 8, 10, 12, 14});              \
        }                                                                                      \
    } while (0)

/* act(acc) into y[0, n) (n <= 8). */
#define DW_STORE(y, acc, n)                                                                    \
    do {                                                                                       \
        dw_v8 v_ = (acc);                                                                      \
        if (c->act == EB_REF_ACT_RELU) {                                                       \
            v_ = (dw_v8)((dw_i8)v_ & (v_ > zero));                                             \
        } else if (c->act == EB_REF_ACT_CLIP) {                                                \
            dw_i8 under_ = v_ < vlo, over_ = v_ > vhi;                                         \
            v_ = (dw_v8)(((dw_i8)v_ & ~under_) | ((dw_i8)vlo & under_));                       \
            v_ = (dw_v8)(((dw_i8)v_ & ~over_) | ((dw_i8)vhi & over_));                         \
        }                                                                                      \
        memcpy((y), &v_, (size_t)((n) < 8 ? (n) : 8) * sizeof(float));                         \
    } while (0)

/* Output rows oh0 (and oh0 + 1 when TWO) of columns [o, o + 8*NV) (NV 1 or 2) of a chunk of
 * n: rows[r] is the padded segment of input row oh0*S - pt + r, whose element 0 is the
 * chunk's first input column.  Each output row and vector sums into two accumulators (even
 * and odd tap rows): up to eight independent FMA chains hide the FMA latency.  Written out
 * with named variables (no arrays), which GCC keeps in registers. */
static inline __attribute__((always_inline)) void
dw_vecs(const dw_ctx *c, const int KH, const int KW, const int S, const int TWO, const int NV,
        const float *wl, const float *const *rows, int64_t o, int64_t n, float *y0, float *y1)
{
    const dw_v8 vb = {c->b, c->b, c->b, c->b, c->b, c->b, c->b, c->b};
    const dw_v8 vlo = {c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo, c->lo};
    const dw_v8 vhi = {c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi, c->hi}, zero = {0};
    dw_v8 a0 = vb, a0o = zero, a1 = vb, a1o = zero; /* row oh0: vector 0, 1; even, odd r */
    dw_v8 b0 = vb, b0o = zero, b1 = vb, b1o = zero; /* row oh0 + 1 */
    for (int r = 0; r < KH + (TWO ? S : 0); r++) {
        const float *xr = rows[r];
#pragma GCC unroll 7
        for (int kj = 0; kj < KW; kj++) {
            /* vectors are never passed to or returned from functions here: 32-byte vector
             * arguments have no stable ABI without AVX */
            dw_v8 t, u = zero;
            DW_TAP(t, xr, o, kj);
            if (NV > 1)
                DW_TAP(u, xr, o + 8, kj);
            if (r < KH) {
                float wv = wl[r * KW + kj];
                if (r & 1) {
                    a0o += wv * t;
                    if (NV > 1)
                        a1o += wv * u;
                } else {
                    a0 += wv * t;
                    if (NV > 1)
                        a1 += wv * u;
                }
            }
            if (TWO && r >= S) {
                float wv = wl[(r - S) * KW + kj];
                if (r & 1) {
                    b0o += wv * t;
                    if (NV > 1)
                        b1o += wv * u;
                } else {
                    b0 += wv * t;
                    if (NV > 1)
                        b1 += wv * u;
                }
            }
        }
    }
    DW_STORE(y0 + o, a0 + a0o, n - o);
    if (NV > 1)
        DW_STORE(y0 + o + 8, a1 + a1o, n - o - 8);
    if (TWO) {
        DW_STORE(y1 + o, b0 + b0o, n - o);
        if (NV > 1)
            DW_STORE(y1 + o + 8, b1 + b1o, n - o - 8);
    }
}

static inline __attribute__((always_inline)) void
dw_pass(const dw_ctx *c, const int KH, const int KW, const int S, const int TWO, const float *wl,
        const float *const *rows, int64_t n, float *y0, float *y1)
{
    int64_t o = 0;
    for (; o + 8 < n; o += 16)
        dw_vecs(c, KH, KW, S, TWO, 2, wl, rows, o, n, y0, y1);
    if (o < n)
        dw_vecs(c, KH, KW, S, TWO, 1, wl, rows, o, n, y0, y1);
}

void eb_ref_dw_zero_borders(float *buf, int64_t size, int64_t pt, int64_t pl, int64_t h,
                            int64_t w, int64_t pitch)
{
    /* rows above and the first row's left margin; then each row's right margin with the next
     * row's left one; then everything after the last row's data */
    int64_t end = pt * pitch + pl;
    memset(buf, 0, (size_t)end * sizeof *buf);
    for (int64_t i = 0; i + 1 < h; i++) {
        int64_t from = (pt + i) * pitch + pl + w;
        memset(buf + from, 0, (size_t)(pitch - w) * sizeof *buf);
    }
    int64_t from = (pt + h - 1) * pitch + pl + w;
    if (h > 0 && from < size)
        memset(buf + from, 0, (size_t)(size - from) * sizeof *buf);
}

/* Plane mode: the whole padded plane in one buffer, rows at `pitch`, row 0 = input row -pt,
 * element 0 of a row = input column -pl; `size` covers the rows a pass reads and the last
 * vectors' overhang (elements past a row's end are the next row's: only outputs past the
 * row's end, never stored, read them).  0 when it does not fit DW_BUF. */
static int64_t dw_plane_geometry(const eb_ref_conv2d *p, int64_t *pitch)
{
    const int64_t S = p->sw;
    int64_t need = S * (p->ow - 1) + p->kw; /* elements a valid output reads */
    *pitch = p->pl + p->w > need ? p->pl + p->w : need;
    int64_t rows = S * (p->oh - 1) + p->kh + S;
    if (rows < p->pt + p->h)
        rows = p->pt + p->h;
    int64_t size = rows * *pitch + S * ((p->ow + 7) / 8 * 8 + 8) + p->kw + 16;
    return size <= DW_BUF ? size : 0;
}

/* One channel, rows two at a time: from the padded plane (plane mode, pitch > 0: buf's
 * borders are zero from the caller) or, for planes too large, from a ring of padded row
 * segments, columns in chunks. */
static inline __attribute__((always_inline)) void
dw_channel(const dw_ctx *c, const int KH, const int KW, const int S, const float *xc, float *yc,
           float *buf, int64_t pitch)
{
    const eb_ref_conv2d *p = c->p;
    const int64_t H = p->h, W = p->w, OH = p->oh, OW = p->ow;
    /* a local copy: the stores to yc could alias c->w, which would reload every weight */
    float wl[DW_MAXK * DW_MAXK];
    for (int k = 0; k < KH * KW; k++)
        wl[k] = c->w[k];
    if (pitch > 0) {
        for (int64_t ih = 0; ih < H; ih++)
            memcpy(buf + (ih + p->pt) * pitch + p->pl, xc + ih * W, (size_t)W * sizeof *xc);
        for (int64_t oh = 0; oh < OH; oh += 2) {
            const float *rows[DW_MAXK + 2];
            for (int r = 0; r < KH + S; r++)
                rows[r] = buf + (oh * S + r) * pitch;
            float *y0 = yc + oh * OW;
            if (oh + 1 < OH)
                dw_pass(c, KH, KW, S, 1, wl, rows, OW, y0, y0 + OW);
            else
                dw_pass(c, KH, KW, S, 0, wl, rows, OW, y0, y0);
        }
        return;
    }
    float (*ring)[DW_SEG] = (float (*)[DW_SEG])buf;
    const float *zeros = buf + DW_RING * DW_SEG;
    for (int64_t ow0 = 0; ow0 < OW; ow0 += DW_CHUNK) {
        int64_t n = OW - ow0 < DW_CHUNK ? OW - ow0 : DW_CHUNK;
        int64_t col0 = ow0 * S - p->pl; /* input column of segment element 0 */
        /* elements a pass reads: whole vectors of n, the taps, and 8 more for stride 2 */
        int64_t len = (n + 7) / 8 * 8 * S + KW + (S == 2 ? 8 : 0);
        int64_t lo = col0 < 0 ? -col0 : 0, hi = W - col0 < len ? W - col0 : len;
        int64_t have[DW_RING];
        for (int i = 0; i < DW_RING; i++)
            have[i] = INT64_MIN;
        for (int64_t oh = 0; oh < OH; oh += 2) {
            int two = oh + 1 < OH;
            const float *rows[DW_MAXK + 2];
            int nr = KH + (two ? S : 0);
            for (int r = 0; r < nr; r++) {
                int64_t ih = oh * S - p->pt + r;
                if (ih < 0 || ih >= H || hi <= lo) {
                    rows[r] = zeros;
                    continue;
                }
                float *seg = ring[ih & (DW_RING - 1)];
                if (have[ih & (DW_RING - 1)] != ih) {
                    have[ih & (DW_RING - 1)] = ih;
                    memset(seg, 0, (size_t)lo * sizeof *seg);
                    memcpy(seg + lo, xc + ih * W + col0 + lo, (size_t)(hi - lo) * sizeof *seg);
                    memset(seg + hi, 0, (size_t)(len - hi) * sizeof *seg);
                }
                rows[r] = seg;
            }
            float *y0 = yc + oh * OW + ow0;
            if (two)
                dw_pass(c, KH, KW, S, 1, wl, rows, n, y0, y0 + OW);
            else
                dw_pass(c, KH, KW, S, 0, wl, rows, n, y0, y0);
        }
    }
}

/* Every channel of [c0, c1), with kh, kw and the stride constant where MobileNet and MnasNet
 * need them. */
static inline __attribute__((always_inline)) void
dw_channels(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
            eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1)
{
    float buf[DW_BUF];
    int64_t pitch = 0, size = dw_plane_geometry(p, &pitch);
    if (size > 0) {
        /* the borders only: every channel overwrites the rest */
        eb_ref_dw_zero_borders(buf, size, p->pt, p->pl, p->h, p->w, pitch);
    } else {
        pitch = 0;
        memset(buf + DW_RING * DW_SEG, 0, DW_SEG * sizeof *buf); /* the zero segment */
    }
    const int kh = (int)p->kh, kw = (int)p->kw, s = (int)p->sw;
    for (int64_t ch = c0; ch < c1; ch++) {
        dw_ctx c = {.p = p, .w = w + ch * kh * kw, .b = b ? b[ch] : 0.0f, .lo = lo, .hi = hi,
                    .act = act};
        const float *xc = x + ch * p->h * p->w;
        float *yc = y + ch * p->oh * p->ow;
        if (kh == 3 && kw == 3 && s == 1)
            dw_channel(&c, 3, 3, 1, xc, yc, buf, pitch);
        else if (kh == 3 && kw == 3)
            dw_channel(&c, 3, 3, 2, xc, yc, buf, pitch);
        else if (kh == 5 && kw == 5 && s == 1)
            dw_channel(&c, 5, 5, 1, xc, yc, buf, pitch);
        else if (kh == 5 && kw == 5)
            dw_channel(&c, 5, 5, 2, xc, yc, buf, pitch);
        else if (s == 1)
            dw_channel(&c, kh, kw, 1, xc, yc, buf, pitch);
        else
            dw_channel(&c, kh, kw, 2, xc, yc, buf, pitch);
    }
}

static void dw_portable(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                        eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1)
{
    dw_channels(p, x, w, b, act, lo, hi, y, c0, c1);
}

#if DW_X86
/* The same source compiled for AVX2 with FMA (the caller checked the CPU); ISO C mode turns
 * contraction off, this function turns it back on so acc += w * x becomes one FMA. */
__attribute__((target("avx2,fma"), optimize("fp-contract=fast"))) static void
dw_avx2(const eb_ref_conv2d *p, const float *x, const float *w, const float *b, eb_ref_act act,
        float lo, float hi, float *y, int64_t c0, int64_t c1)
{
    dw_channels(p, x, w, b, act, lo, hi, y, c0, c1);
}
#endif

void eb_ref_dw3x3(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                  eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1,
                  eb_ref_isa isa)
{
#if DW_X86
    if (isa == EB_REF_ISA_AVX512 && eb_ref_dw3x3_avx512(p, x, w, b, act, lo, hi, y, c0, c1) == 0)
        return;
    if (isa == EB_REF_ISA_AVX2 || isa == EB_REF_ISA_AVX512) {
        dw_avx2(p, x, w, b, act, lo, hi, y, c0, c1);
        return;
    }
#else
    (void)isa;
#endif
    dw_portable(p, x, w, b, act, lo, hi, y, c0, c1);
}
