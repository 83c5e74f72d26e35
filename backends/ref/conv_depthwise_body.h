/* The body of the depthwise kernels (conv_depthwise.c), included once per vector width:
 * before including, define DW_L (floats per vector), DW_V / DW_VI (GCC generic float / int
 * vectors of DW_L lanes; DW_VU the float one at 4-byte alignment, may_alias), DW_EVEN (the int vector 0, 2, ..., 2*DW_L - 2) and DW_FN(name) (the
 * instantiation's function names).  A vector must not be wider than the target's registers:
 * 8 floats on baseline x86-64 (SSE2) or NEON are two registers each, and GCC spilled the
 * sixteen halves of the eight accumulators and built stride-2 shuffles lane by lane (the
 * portable depthwise ran 15-30x slower than the AVX2 one).  No include guard, on purpose. */


/* Input row xr's taps for output o + i: xr[o*S + kj + S*i].  Loads through DW_VU (the
 * vector type at float alignment), not memcpy: aarch64 GCC lowered memcpy-then-shuffle to
 * two 8-byte GPR loads, stores to the stack and a 16-byte reload per vector. */
#define DW_TAP(xv, xr, o, kj)                                                                  \
    do {                                                                                       \
        if (S == 1) {                                                                          \
            xv = *(const DW_VU *)((xr) + (o) + (kj));                                          \
        } else { /* xr[2o + kj], xr[2o + kj + 2], ... (DW_L of them) */                        \
            DW_V v0_ = *(const DW_VU *)((xr) + 2 * (o) + (kj));                                \
            DW_V v1_ = *(const DW_VU *)((xr) + 2 * (o) + (kj) + DW_L);                         \
            xv = __builtin_shuffle(v0_, v1_, DW_EVEN);                                         \
        }                                                                                      \
    } while (0)

/* act(acc) into y[0, min(n, DW_L)). */
#define DW_STORE(y, acc, n)                                                                    \
    do {                                                                                       \
        DW_V v_ = (acc);                                                                      \
        if (c->act == EB_REF_ACT_RELU) {                                                       \
            v_ = (DW_V)((DW_VI)v_ & (v_ > zero));                                             \
        } else if (c->act == EB_REF_ACT_CLIP) {                                                \
            DW_VI under_ = v_ < vlo, over_ = v_ > vhi;                                         \
            v_ = (DW_V)(((DW_VI)v_ & ~under_) | ((DW_VI)vlo & under_));                       \
            v_ = (DW_V)(((DW_VI)v_ & ~over_) | ((DW_VI)vhi & over_));                         \
        }                                                                                      \
        memcpy((y), &v_, (size_t)((n) < DW_L ? (n) : DW_L) * sizeof(float));                         \
    } while (0)

/* Output rows oh0 (and oh0 + 1 when TWO) of columns [o, o + DW_L*NV) (NV 1 or 2) of a chunk of
 * n: rows[r] is the padded segment of input row oh0*S - pt + r, whose element 0 is the
 * chunk's first input column.  Each output row and vector sums into two accumulators (even
 * and odd tap rows): up to eight independent FMA chains hide the FMA latency.  Written out
 * with named variables (no arrays), which GCC keeps in registers. */
static inline __attribute__((always_inline)) void
DW_FN(dw_vecs)(const dw_ctx *c, const int KH, const int KW, const int S, const int TWO, const int NV,
        const float *wl, const float *const *rows, int64_t o, int64_t n, float *y0, float *y1)
{
    const DW_V zero = {0}, vb = zero + c->b, vlo = zero + c->lo, vhi = zero + c->hi;
    DW_V a0 = vb, a0o = zero, a1 = vb, a1o = zero; /* row oh0: vector 0, 1; even, odd r */
    DW_V b0 = vb, b0o = zero, b1 = vb, b1o = zero; /* row oh0 + 1 */
    for (int r = 0; r < KH + (TWO ? S : 0); r++) {
        const float *xr = rows[r];
#pragma GCC unroll 7
        for (int kj = 0; kj < KW; kj++) {
            /* vectors are never passed to or returned from functions here: 32-byte vector
             * arguments have no stable ABI without AVX */
            DW_V t, u = zero;
            DW_TAP(t, xr, o, kj);
            if (NV > 1)
                DW_TAP(u, xr, o + DW_L, kj);
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
        DW_STORE(y0 + o + DW_L, a1 + a1o, n - o - DW_L);
    if (TWO) {
        DW_STORE(y1 + o, b0 + b0o, n - o);
        if (NV > 1)
            DW_STORE(y1 + o + DW_L, b1 + b1o, n - o - DW_L);
    }
}

static inline __attribute__((always_inline)) void
DW_FN(dw_pass)(const dw_ctx *c, const int KH, const int KW, const int S, const int TWO, const float *wl,
        const float *const *rows, int64_t n, float *y0, float *y1)
{
    int64_t o = 0;
    for (; o + DW_L < n; o += 2 * DW_L)
        DW_FN(dw_vecs)(c, KH, KW, S, TWO, 2, wl, rows, o, n, y0, y1);
    if (o < n)
        DW_FN(dw_vecs)(c, KH, KW, S, TWO, 1, wl, rows, o, n, y0, y1);
}


/* One channel, rows two at a time: from the padded plane (plane mode, pitch > 0: buf's
 * borders are zero from the caller) or, for planes too large, from a ring of padded row
 * segments, columns in chunks. */
static inline __attribute__((always_inline)) void
DW_FN(dw_channel)(const dw_ctx *c, const int KH, const int KW, const int S, const float *xc, float *yc,
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
                DW_FN(dw_pass)(c, KH, KW, S, 1, wl, rows, OW, y0, y0 + OW);
            else
                DW_FN(dw_pass)(c, KH, KW, S, 0, wl, rows, OW, y0, y0);
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
                DW_FN(dw_pass)(c, KH, KW, S, 1, wl, rows, n, y0, y0 + OW);
            else
                DW_FN(dw_pass)(c, KH, KW, S, 0, wl, rows, n, y0, y0);
        }
    }
}

/* Every channel of [c0, c1), with kh, kw and the stride constant where MobileNet and MnasNet
 * need them. */
static inline __attribute__((always_inline)) void
DW_FN(dw_channels)(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
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
            DW_FN(dw_channel)(&c, 3, 3, 1, xc, yc, buf, pitch);
        else if (kh == 3 && kw == 3)
            DW_FN(dw_channel)(&c, 3, 3, 2, xc, yc, buf, pitch);
        else if (kh == 5 && kw == 5 && s == 1)
            DW_FN(dw_channel)(&c, 5, 5, 1, xc, yc, buf, pitch);
        else if (kh == 5 && kw == 5)
            DW_FN(dw_channel)(&c, 5, 5, 2, xc, yc, buf, pitch);
        else if (s == 1)
            DW_FN(dw_channel)(&c, kh, kw, 1, xc, yc, buf, pitch);
        else
            DW_FN(dw_channel)(&c, kh, kw, 2, xc, yc, buf, pitch);
    }
}


#undef DW_TAP
#undef DW_STORE
