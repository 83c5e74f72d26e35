/* 2-D convolution.  Two entry points:
 *
 *   ref_conv_prepare / ref_conv_exec   the graph's Conv nodes: the algorithm is chosen per
 *     shape at open.  Depthwise up to 7x7 (stride 1 or 2) runs a direct kernel
 *     (conv_depthwise.c); everything else is a GEMM whose A, the weights [Cout/g, Cin/g*kh*kw],
 *     is packed once at open (a following BatchNormalization folded in by fold_bn.c) and
 *     whose B is the input: im2col'd straight into packed panels (conv_im2col.c), or, for a
 *     1x1 stride-1 unpadded convolution, the input itself packed.  Bias and a fused
 *     Relu/Clip are applied in the GEMM's epilogue.  Work is split over the pool's threads:
 *     packing by panels of output positions, the GEMM by tiles, depthwise by channels.
 *   eb_ref_conv2d_run   any geometry, unpacked weights (constant folding at open, tests):
 *     plain im2col into the scratch buffer, then eb_ref_sgemm. */
#include <stdlib.h>
#include <string.h>

#include "conv_gemm.h"
#include "ref_internal.h"
#include "threadpool.h"

#define CONV_SERIAL_MACS (384.0 * 1024) /* smaller convolutions stay on the caller */

static int conv_is_pointwise(const eb_ref_conv2d *p)
{
    return p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
           p->pb == 0 && p->pr == 0;
}

size_t eb_ref_conv2d_scratch(const eb_ref_conv2d *p)
{
    if (conv_is_pointwise(p))
        return 0;
    return (size_t)(p->c / p->group * p->kh * p->kw * p->oh * p->ow);
}

/* col[(c*kh + ki)*kw + kj, oh*OW + ow] = x[c, oh*sh - pt + ki*dh, ow*sw - pl + kj*dw], 0 in the
 * padding. */
static void im2col(const eb_ref_conv2d *p, int64_t cg, const float *x, float *col)
{
    int64_t ohw = p->oh * p->ow;
    for (int64_t c = 0; c < cg; c++) {
        const float *xc = x + c * p->h * p->w;
        for (int64_t ki = 0; ki < p->kh; ki++)
            for (int64_t kj = 0; kj < p->kw; kj++) {
                float *row = col + ((c * p->kh + ki) * p->kw + kj) * ohw;
                /* ow range whose input column lies inside [0, w) */
                int64_t off = kj * p->dw - p->pl;
                int64_t lo = off >= 0 ? 0 : (-off + p->sw - 1) / p->sw;
                int64_t hi = p->w - 1 - off < 0 ? -1 : (p->w - 1 - off) / p->sw;
                if (hi > p->ow - 1)
                    hi = p->ow - 1;
                for (int64_t oh = 0; oh < p->oh; oh++) {
                    float *r = row + oh * p->ow;
                    int64_t ih = oh * p->sh - p->pt + ki * p->dh;
                    if (ih < 0 || ih >= p->h || lo > hi) {
                        memset(r, 0, (size_t)p->ow * sizeof *r);
                        continue;
                    }
                    const float *xr = xc + ih * p->w; /* input column: ow * sw + off */
                    for (int64_t ow = 0; ow < lo; ow++)
                        r[ow] = 0;
                    if (p->sw == 1)
                        memcpy(r + lo, xr + lo + off, (size_t)(hi - lo + 1) * sizeof *r);
                    else
                        for (int64_t ow = lo; ow <= hi; ow++)
                            r[ow] = xr[ow * p->sw + off];
                    for (int64_t ow = hi + 1; ow < p->ow; ow++)
                        r[ow] = 0;
                }
            }
    }
}

void eb_ref_conv2d_run(const eb_ref_conv2d *p, const float *x, const float *w, const float *bias,
                       float *y, float *scratch)
{
    int64_t cg = p->c / p->group, mg = p->m / p->group;
    int64_t ohw = p->oh * p->ow, kdim = cg * p->kh * p->kw;
    int pointwise = conv_is_pointwise(p);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->group; g++) {
            const float *xg = x + (n * p->c + g * cg) * p->h * p->w;
            float *yg = y + (n * p->m + g * mg) * ohw;
            const float *col = xg;
            if (!pointwise) {
                im2col(p, cg, xg, scratch);
                col = scratch;
            }
            for (int64_t m = 0; m < mg; m++) {
                float b = bias ? bias[g * mg + m] : 0.0f;
                float *r = yg + m * ohw;
                for (int64_t j = 0; j < ohw; j++)
                    r[j] = b;
            }
            eb_ref_sgemm(0, 0, mg, ohw, kdim, 1.0f, w + g * mg * kdim, kdim, col, ohw, 1.0f, yg,
                         ohw);
        }
}

/* ---------------------------------------------------------------- the Conv node */

static int conv_static(const ref_value *v)
{
    return (v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC) && v->dtype == EB_F32;
}

/* Implicit GEMM (AVX-512 and AVX2, stride 1, one group): the input is copied once per image into a
 * zero-padded [C][HP][WP] buffer, and the output is computed on the padded grid of OH x WP
 * positions, where tap (ki, kj) of channel c for position q is simply padded[c][q + ki*dh*WP +
 * kj*dw]: B needs no im2col and no packing, the kernel reads it in place
 * (eb_ref_conv_tile_avx512), and only the OW valid columns of each grid row are stored.  The
 * grid's WP - OW extra columns per row cost FMAs, so the path is taken only where they are
 * no more than im2col's own padding of the last panel would be, plus 15%. */
typedef struct conv_implicit {
    int direct;  /* instead: the direct kernel for few input channels (below) */
    int inplace; /* pointwise: B is the input itself, no padded copy (below) */
    int64_t hp, wp, np, pad_floats; /* padded rows, columns; grid positions (OH*WP); buffer */
    int ntaps;
    int64_t taps[];
} conv_implicit;

/* A strided first layer (1 to 4 input channels): the direct AVX-512 kernel
 * (conv_direct_avx512.c), whose weights are [c][kh][kw][m rounded up to 16].  At stride 1 the
 * implicit GEMM is as fast and wastes nothing on channel counts like 8 (the zoo student's
 * first layer: the whole model 6.7 us so, 7.2 us with the direct kernel). */
#define CONV_DIRECT_MAX_C 4
/* Each 16 output channels re-read the input: beyond 32 the im2col GEMM is faster (SqueezeNet's
 * 3->64 stem 0.47 ms by GEMM, 0.54 direct; MobileNet's 3->32 0.32 -> 0.22, MnasNet's 3->16
 * 0.25 -> 0.10 ms direct) */
#define CONV_DIRECT_MAX_M 32
static int conv_direct_fits(const eb_ref_conv2d *p, eb_ref_isa isa)
{
    return isa == EB_REF_ISA_AVX512 && p->group == 1 && p->c <= CONV_DIRECT_MAX_C &&
           p->m <= CONV_DIRECT_MAX_M && p->kh * p->kw > 1 && p->oh > 0 && p->ow > 0 &&
           (p->sh > 1 || p->sw > 1);
}

static int conv_implicit_fits(const eb_ref_conv2d *p, eb_ref_isa isa)
{
    /* AVX2 runs the same tiles as four 6 x 16 passes (eb_ref_conv_tile_avx2) */
    if (isa == EB_REF_ISA_PORTABLE || p->group != 1 || p->sh != 1 || p->sw != 1 || p->oh < 1 ||
        p->ow < 1)
        return 0;
    /* Pointwise: the same tile reads the input in place (its grid is the output's), so
     * nothing is copied or packed: MobileNet's 1x1 layers on 112x112 and 56x56 maps spent
     * most of their time packing (a 144 -> 24 one at 36 GMAC/s). */
    if (conv_is_pointwise(p))
        return 1;
    if (p->kh * p->kw < 2)
        return 0;
    int64_t wp = p->w + p->pl + p->pr;
    int64_t grid = (p->oh * wp + EB_REF_NR - 1) / EB_REF_NR;
    int64_t dense = (p->oh * p->ow + EB_REF_NR - 1) / EB_REF_NR;
    return (double)grid <= 1.15 * (double)dense;
}

/* The plan of an implicit convolution, written at `at` (sizeof(conv_implicit) + taps). */
static size_t conv_implicit_bytes(const eb_ref_conv2d *p)
{
    return sizeof(conv_implicit) + (size_t)(p->kh * p->kw) * sizeof(int64_t);
}

static conv_implicit *conv_implicit_plan(const eb_ref_conv2d *p, void *at)
{
    conv_implicit *ci = at;
    ci->direct = 0;
    ci->inplace = conv_is_pointwise(p);
    ci->hp = p->h + p->pt + p->pb;
    ci->wp = p->w + p->pl + p->pr;
    ci->np = p->oh * ci->wp;
    ci->ntaps = (int)(p->kh * p->kw);
    int64_t tmax = 0;
    for (int64_t ki = 0; ki < p->kh; ki++)
        for (int64_t kj = 0; kj < p->kw; kj++) {
            int64_t t = ki * p->dh * ci->wp + kj * p->dw;
            ci->taps[ki * p->kw + kj] = t;
            tmax = t > tmax ? t : tmax;
        }
    /* the kernel reads whole 64-float tiles of the grid from any tap: zeros after the last
     * channel cover the overhang */
    ci->pad_floats = p->c * ci->hp * ci->wp + tmax + 4 * EB_REF_NR;
    if (ci->inplace) /* only a last, partial column tile is copied: [c][64] */
        ci->pad_floats = p->c * 4 * EB_REF_NR;
    return ci;
}

int ref_conv_prepare(ref_session *s, ref_node *nd, const float *bn_scale, const float *bn_shift,
                     eb_err *err)
{
    const eb_ref_conv2d *p = &nd->conv;
    const ref_value *wv = &s->vals[nd->in[1]];
    const ref_value *bv = nd->n_in > 2 && nd->in[2] >= 0 ? &s->vals[nd->in[2]] : NULL;
    if (!conv_static(wv) || (bv && !conv_static(bv)) || p->group < 1)
        return 0; /* weights computed at run: exec.c's path */
    int64_t mg = p->m / p->group, kdim = p->c / p->group * p->kh * p->kw;
    ref_prep *pr = calloc(1, sizeof *pr);
    if (!pr)
        return eb_errf(err, "out of memory packing Conv weights");
    nd->prep = pr;
    pr->bias = malloc((size_t)(p->m ? p->m : 1) * sizeof *pr->bias);
    /* weights with the BatchNormalization scale applied, [m, kdim] */
    float *w = malloc(((size_t)(p->m * kdim) + 1) * sizeof *w);
    if (!pr->bias || !w) {
        free(w);
        return eb_errf(err, "out of memory packing Conv weights");
    }
    const float *w0 = wv->data, *b0 = bv ? bv->data : NULL;
    for (int64_t m = 0; m < p->m; m++) {
        float sc = bn_scale ? bn_scale[m] : 1.0f;
        for (int64_t k = 0; k < kdim; k++)
            w[m * kdim + k] = w0[m * kdim + k] * sc;
        pr->bias[m] = (b0 ? b0[m] : 0.0f) * sc + (bn_shift ? bn_shift[m] : 0.0f);
    }
    if (eb_ref_dw_fits(p, s->isa)) {
        pr->kind = REF_PREP_CONV_DW;
        pr->packed = w; /* [c][kh*kw] as stored */
        return 0;
    }
    pr->kind = REF_PREP_CONV_GEMM;
    if (conv_direct_fits(p, s->isa)) {
        int64_t mp = (p->m + 15) / 16 * 16;
        size_t wbytes = ((size_t)(mp * kdim) * sizeof(float) + 63) / 64 * 64;
        pr->packed = aligned_alloc(64, wbytes + 64);
        if (!pr->packed) {
            free(w);
            return eb_errf(err, "out of memory packing Conv weights");
        }
        for (int64_t k = 0; k < kdim; k++)
            for (int64_t m = 0; m < mp; m++)
                pr->packed[k * mp + m] = m < p->m ? w[m * kdim + k] : 0.0f;
        conv_implicit *ci = (conv_implicit *)(void *)((char *)pr->packed + wbytes);
        memset(ci, 0, sizeof *ci);
        ci->direct = 1;
        pr->ext = ci;
        free(w);
        return 0;
    }
    if (conv_implicit_fits(p, s->isa)) {
        int64_t mp = (p->m + EB_REF_MR - 1) / EB_REF_MR * EB_REF_MR, khw = p->kh * p->kw;
        /* the plan lives after the weights, in the same block: freed with them, and
         * pr->ext (no ext_free) marks the path */
        size_t wbytes = ((size_t)(mp * kdim) * sizeof(float) + 63) / 64 * 64;
        pr->packed = aligned_alloc(64, (wbytes + conv_implicit_bytes(p) + 63) / 64 * 64);
        if (!pr->packed) {
            free(w);
            return eb_errf(err, "out of memory packing Conv weights");
        }
        conv_implicit *ci = conv_implicit_plan(p, (char *)pr->packed + wbytes);
        pr->ext = ci;
        /* one panel per 6 output channels, k = tap * C + channel */
        for (int64_t m = 0; m < mp; m++)
            for (int64_t t = 0; t < khw; t++)
                for (int64_t c = 0; c < p->c; c++)
                    pr->packed[m / EB_REF_MR * EB_REF_MR * kdim + (t * p->c + c) * EB_REF_MR +
                               m % EB_REF_MR] = m < p->m ? w[m * kdim + c * khw + t] : 0.0f;
        free(w);
        pr->scratch = (size_t)ci->pad_floats;
        return 0;
    }
    size_t per = eb_ref_pack_a_floats(mg, kdim);
    pr->packed = aligned_alloc(64, ((per * (size_t)p->group + 1) * sizeof(float) + 63) / 64 * 64);
    if (!pr->packed) {
        free(w);
        return eb_errf(err, "out of memory packing Conv weights");
    }
    for (int64_t g = 0; g < p->group; g++)
        eb_ref_pack_a(0, mg, kdim, w + g * mg * kdim, kdim, pr->packed + (size_t)g * per);
    free(w);
    pr->scratch = eb_ref_pack_b_floats(kdim, p->oh * p->ow);
    return 0;
}

typedef struct conv_job {
    const eb_ref_conv2d *p;
    const ref_prep *pr;
    const float *x;
    float *y, *pb;
    int64_t cg, n_panels, per_task, pointwise;
    eb_ref_isa isa;
} conv_job;

static void conv_pack_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const conv_job *j = ctx;
    int64_t p0 = task * j->per_task, p1 = p0 + j->per_task;
    if (p1 > j->n_panels)
        p1 = j->n_panels;
    int64_t ohw = j->p->oh * j->p->ow;
    if (j->pointwise)
        eb_ref_pack_b_panels(0, j->cg, ohw, j->x, ohw, j->pb, p0, p1);
    else
        eb_ref_im2col_packed_isa(j->p, j->cg, j->x, j->pb, p0, p1, j->isa);
}

static void conv_dw_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const conv_job *j = ctx;
    int64_t c0 = task * j->per_task, c1 = c0 + j->per_task;
    if (c1 > j->p->c)
        c1 = j->p->c;
    eb_ref_dw3x3(j->p, j->x, j->pr->packed, j->pr->bias, j->pr->act, j->pr->lo, j->pr->hi, j->y,
                 c0, c1, j->isa);
}

/* Tasks of `per` items each covering n items, about 4 per thread. */
static int64_t conv_split(int64_t n, int threads, int64_t *per)
{
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    *per = (n + want - 1) / want;
    if (*per < 1)
        *per = 1;
    return (n + *per - 1) / *per;
}

/* Packed B of one image's group, column block by column block: a task packs its panels
 * (im2col or the pointwise copy) and multiplies them at once, while they are still in L2,
 * instead of writing the whole K x OH*OW patch matrix (7 MB for resnet18's first stage, far
 * beyond L2) before the GEMM reads it back.  Tasks are independent (no barrier between
 * packing and the product), which also lets two threads overlap the two phases. */
#define CONV_BLOCK_FLOATS (64 * 1024) /* a column block's packed B: 256 KiB of L2 */

typedef struct conv_fused_job {
    conv_job *j;
    const float *pa;
    float *y;
    const float *bias;
    int64_t mg, kdim, ohw, Np, cb;
    int span;
    eb_ref_ukernel_fn kern;
} conv_fused_job;

static void conv_fused_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const conv_fused_job *f = ctx;
    const conv_job *j = f->j;
    int64_t p0 = task * f->cb, p1 = p0 + f->cb;
    if (p1 > j->n_panels)
        p1 = j->n_panels;
    if (j->pointwise)
        eb_ref_pack_b_panels(0, j->cg, f->ohw, j->x, f->ohw, j->pb, p0, p1);
    else
        eb_ref_im2col_packed_isa(j->p, j->cg, j->x, j->pb, p0, p1, j->isa);
    const ref_prep *pr = j->pr;
    int64_t c0 = p0 * EB_REF_NR, c1 = p1 * EB_REF_NR < f->ohw ? p1 * EB_REF_NR : f->ohw;
    int64_t Mp = (f->mg + EB_REF_MR - 1) / EB_REF_MR * EB_REF_MR, step = f->span * EB_REF_NR;
    for (int64_t k0 = 0; k0 < f->kdim; k0 += EB_REF_KC) {
        int64_t kc = f->kdim - k0 < EB_REF_KC ? f->kdim - k0 : EB_REF_KC;
        eb_ref_tile t = {.alpha = 1.0f, .load = k0 > 0, .last = k0 + kc >= f->kdim,
                         .act = pr->act, .lo = pr->lo, .hi = pr->hi};
        const float *pa = f->pa + k0 * Mp, *pb = j->pb + k0 * f->Np;
        for (int64_t c = c0; c < c1; c += step) {
            int nr = (int)(c1 - c < step ? c1 - c : step);
            for (int64_t i = 0; i < f->mg; i += EB_REF_MR) {
                int mr = (int)(f->mg - i < EB_REF_MR ? f->mg - i : EB_REF_MR);
                t.brow = f->bias + i;
                f->kern(kc, pa + i * kc, pb + c * kc, f->y + i * f->ohw + c, f->ohw, mr, nr, &t);
            }
        }
    }
}

/* Column blocks of `span` panels each (the kernel's width), as many as fit CONV_BLOCK_FLOATS;
 * 0 when the layer has too few columns for blocks to pay (few panels: the old split). */
static int64_t conv_fused_blocks(int64_t n_panels, int64_t kdim, int span, int threads,
                                 int64_t *cb)
{
    int64_t c = CONV_BLOCK_FLOATS / (kdim * EB_REF_NR) / span * span;
    if (c < span)
        c = span;
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 2;
    while (c > span && (n_panels + c - 1) / c < want)
        c -= span;
    int64_t n = (n_panels + c - 1) / c;
    if (n < (threads > 1 ? 2 * (int64_t)threads : 2))
        return 0;
    *cb = c;
    return n;
}

typedef struct conv_implicit_job {
    const eb_ref_conv2d *p;
    const ref_prep *pr;
    const conv_implicit *ci;
    const float *x;
    float *xp, *y;
    int64_t n_cols, n_rows, rows_per, chans_per;
    eb_ref_isa isa;
} conv_implicit_job;

/* Channels [c0, c1) of the input into the padded buffer, borders zeroed (the scratch is shared
 * with other layers, so nothing can be assumed about it). */
static void conv_implicit_pad_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const conv_implicit_job *j = ctx;
    const eb_ref_conv2d *p = j->p;
    const conv_implicit *ci = j->ci;
    int64_t c0 = task * j->chans_per, c1 = c0 + j->chans_per;
    if (c1 >= p->c) {
        c1 = p->c;
        float *tail = j->xp + p->c * ci->hp * ci->wp;
        memset(tail, 0, (size_t)(ci->pad_floats - p->c * ci->hp * ci->wp) * sizeof *tail);
    }
    for (int64_t c = c0; c < c1; c++) {
        float *d = j->xp + c * ci->hp * ci->wp;
        const float *xc = j->x + c * p->h * p->w;
        int small = ci->hp * ci->wp <= 4096; /* one memset beats 2 tiny ones per row */
        if (small)
            memset(d, 0, (size_t)(ci->hp * ci->wp) * sizeof *d);
        else
            memset(d, 0, (size_t)(p->pt * ci->wp) * sizeof *d);
        for (int64_t h = 0; h < p->h; h++) {
            float *row = d + (p->pt + h) * ci->wp;
            memcpy(row + p->pl, xc + h * p->w, (size_t)p->w * sizeof *row);
            if (small)
                continue;
            memset(row, 0, (size_t)p->pl * sizeof *row);
            memset(row + p->pl + p->w, 0, (size_t)p->pr * sizeof *row);
        }
        if (!small)
            memset(d + (p->pt + p->h) * ci->wp, 0, (size_t)(p->pb * ci->wp) * sizeof *d);
    }
}

/* Row panels [r0, r1) of 6 output channels by every column tile of 64 grid positions. */
static void conv_implicit_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
#if defined(__x86_64__) /* AVX-512 and AVX2 only (conv_implicit_fits); compiled away elsewhere */
    const conv_implicit_job *j = ctx;
    const eb_ref_conv2d *p = j->p;
    const conv_implicit *ci = j->ci;
    const ref_prep *pr = j->pr;
    int64_t kdim = p->c * ci->ntaps, ohw = p->oh * p->ow, span = 4 * EB_REF_NR;
    int64_t r0 = task / j->n_cols * j->rows_per, col = task % j->n_cols;
    int64_t r1 = r0 + j->rows_per < j->n_rows ? r0 + j->rows_per : j->n_rows;
    int64_t q0 = col * span, nr = ci->np - q0 < span ? ci->np - q0 : span;
    /* the masked stores of this column tile: per vector, one per output row it meets */
    eb_ref_conv_seg segs[4 * (4 * EB_REF_NR + 2)];
    int seg_q[5], n = 0;
    int64_t oh = q0 / ci->wp, ow = q0 - oh * ci->wp; /* grid row and column of lane 0 */
    for (int q = 0; q < 4 && ci->wp == p->ow; q++) { /* dense grid: one store per vector */
        seg_q[q] = n;
        int64_t lanes = nr - q * EB_REF_NR;
        if (lanes > 0) {
            segs[n].off = q0 + q * EB_REF_NR;
            segs[n].mask = lanes >= EB_REF_NR ? 0xffffu : (1u << lanes) - 1u;
            n++;
        }
    }
    for (int q = 0; q < 4 && ci->wp != p->ow; q++) {
        seg_q[q] = n;
        for (int64_t l = 0; l < EB_REF_NR && q * EB_REF_NR + l < nr;) {
            int64_t len = ci->wp - ow < EB_REF_NR - l ? ci->wp - ow : EB_REF_NR - l;
            if (len > nr - q * EB_REF_NR - l)
                len = nr - q * EB_REF_NR - l;
            int64_t valid = ow < p->ow ? (p->ow - ow < len ? p->ow - ow : len) : 0;
            if (valid > 0) {
                segs[n].off = q0 + q * EB_REF_NR - oh * (ci->wp - p->ow);
                segs[n].mask = ((1u << (l + valid)) - 1u) & ~((1u << l) - 1u);
                n++;
            }
            l += len;
            if ((ow += len) == ci->wp)
                ow = 0, oh++;
        }
    }
    seg_q[4] = n;
    /* B: the padded copy; pointwise, the input itself, or for a last partial tile (whose
     * whole-vector loads would run past the input) its copy in the scratch */
    const float *b = j->xp + q0;
    int64_t cstride = ci->hp * ci->wp;
    if (ci->inplace && q0 + span <= ci->np)
        b = j->x + q0, cstride = ohw;
    else if (ci->inplace)
        b = j->xp, cstride = span;
    for (int64_t r = r0; r < r1; r++) {
        int64_t i = r * EB_REF_MR;
        int mr = (int)(p->m - i < EB_REF_MR ? p->m - i : EB_REF_MR);
        eb_ref_tile t = {.alpha = 1.0f, .load = 0, .last = 1, .brow = pr->bias + i,
                         .act = pr->act, .lo = pr->lo, .hi = pr->hi};
        if (j->isa == EB_REF_ISA_AVX512)
            eb_ref_conv_tile_avx512(pr->packed + i * kdim, b, ci->taps, ci->ntaps, p->c,
                                    cstride, j->y + i * ohw, ohw, mr, (int)nr, segs, seg_q, &t);
        else
            eb_ref_conv_tile_avx2(pr->packed + i * kdim, b, ci->taps, ci->ntaps, p->c, cstride,
                                  j->y + i * ohw, ohw, mr, (int)nr, segs, seg_q, &t);
    }
#else
    (void)ctx, (void)task;
#endif
}

static void conv_direct_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const conv_implicit_job *j = ctx;
    const eb_ref_conv2d *p = j->p;
    int64_t r0 = task * j->rows_per, r1 = r0 + j->rows_per < p->oh ? r0 + j->rows_per : p->oh;
#if defined(__x86_64__)
    eb_ref_conv_direct_avx512(p, j->x, j->pr->packed, (p->m + 15) / 16 * 16, j->pr->bias,
                              j->pr->act, j->pr->lo, j->pr->hi, j->y, r0, r1);
#else
    (void)p, (void)r0, (void)r1;
#endif
}

static void conv_implicit_exec(ref_session *s, const ref_node *nd, struct eb_ref_pool *pool,
                               int threads)
{
    const eb_ref_conv2d *p = &nd->conv;
    const ref_prep *pr = nd->prep;
    conv_implicit_job j = {.p = p, .pr = pr, .ci = pr->ext, .xp = s->scratch, .isa = s->isa};
    if (j.ci->direct) { /* output rows split over the pool */
        int64_t tasks = conv_split(p->oh, threads, &j.rows_per);
        for (int64_t n = 0; n < p->n; n++) {
            j.x = (const float *)s->vals[nd->in[0]].data + n * p->c * p->h * p->w;
            j.y = (float *)s->vals[nd->out[0]].data + n * p->m * p->oh * p->ow;
            eb_ref_pool_run(pool, tasks, conv_direct_task, &j);
        }
        return;
    }
    j.n_cols = (j.ci->np + 4 * EB_REF_NR - 1) / (4 * EB_REF_NR);
    j.n_rows = (p->m + EB_REF_MR - 1) / EB_REF_MR;
    /* about 4 tasks per thread: whole column tiles, row panels split as needed */
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    int64_t splits = (want + j.n_cols - 1) / j.n_cols;
    if (splits > j.n_rows)
        splits = j.n_rows;
    j.rows_per = (j.n_rows + splits - 1) / splits;
    int64_t row_tasks = (j.n_rows + j.rows_per - 1) / j.rows_per;
    int64_t ohw = p->oh * p->ow;
    int64_t pad_tasks = conv_split(p->c, threads, &j.chans_per);
    for (int64_t n = 0; n < p->n; n++) {
        j.x = (const float *)s->vals[nd->in[0]].data + n * p->c * p->h * p->w;
        j.y = (float *)s->vals[nd->out[0]].data + n * p->m * p->oh * p->ow;
        if (!j.ci->inplace) {
            eb_ref_pool_run(pool, pad_tasks, conv_implicit_pad_task, &j);
        } else if (ohw % (4 * EB_REF_NR)) {
            int64_t q0 = ohw / (4 * EB_REF_NR) * (4 * EB_REF_NR);
            for (int64_t c = 0; c < p->c; c++) {
                float *d = j.xp + c * 4 * EB_REF_NR;
                memcpy(d, j.x + c * ohw + q0, (size_t)(ohw - q0) * sizeof *d);
                memset(d + ohw - q0, 0, (size_t)(4 * EB_REF_NR - (ohw - q0)) * sizeof *d);
            }
        }
        eb_ref_pool_run(pool, row_tasks * j.n_cols, conv_implicit_task, &j);
    }
}

void ref_conv_exec(ref_session *s, const ref_node *nd)
{
    const eb_ref_conv2d *p = &nd->conv;
    const ref_prep *pr = nd->prep;
    const float *x = s->vals[nd->in[0]].data;
    float *y = s->vals[nd->out[0]].data;
    int threads = eb_ref_pool_threads(s->pool);
    /* A small layer (a few microseconds of work) runs on the caller: waking the workers would
     * cost more than it saves. */
    struct eb_ref_pool *pool = s->pool;
    if ((double)p->m * (double)p->oh * (double)p->ow * (double)(p->c / p->group) *
            (double)(p->kh * p->kw) < CONV_SERIAL_MACS)
        pool = NULL, threads = 1;
    int64_t cg = p->c / p->group, mg = p->m / p->group, ohw = p->oh * p->ow;
    conv_job j = {.p = p, .pr = pr, .cg = cg, .pointwise = conv_is_pointwise(p), .isa = s->isa};
    if (pr->kind == REF_PREP_CONV_DW) {
        int64_t tasks = conv_split(p->c, threads, &j.per_task);
        for (int64_t n = 0; n < p->n; n++) {
            j.x = x + n * p->c * p->h * p->w;
            j.y = y + n * p->m * ohw;
            eb_ref_pool_run(pool, tasks, conv_dw_task, &j);
        }
        return;
    }
    if (pr->ext) {
        conv_implicit_exec(s, nd, pool, threads);
        return;
    }
    int64_t kdim = cg * p->kh * p->kw;
    size_t per = eb_ref_pack_a_floats(mg, kdim);
    j.pb = s->scratch;
    j.n_panels = (ohw + EB_REF_NR - 1) / EB_REF_NR;
    eb_ref_ukernel_fn kern = s->kernel ? s->kernel : eb_ref_ukernel_best(NULL);
    conv_fused_job f = {.j = &j, .mg = mg, .kdim = kdim, .ohw = ohw, .kern = kern,
                        .Np = j.n_panels * EB_REF_NR, .span = eb_ref_ukernel_nr(kern) / EB_REF_NR};
    int64_t blocks = conv_fused_blocks(j.n_panels, kdim, f.span, threads, &f.cb);
    if (blocks > 0) {
        for (int64_t n = 0; n < p->n; n++)
            for (int64_t g = 0; g < p->group; g++) {
                j.x = x + (n * p->c + g * cg) * p->h * p->w;
                f.pa = pr->packed + (size_t)g * per;
                f.y = y + (n * p->m + g * mg) * ohw;
                f.bias = pr->bias + g * mg;
                eb_ref_pool_run(pool, blocks, conv_fused_task, &f);
            }
        return;
    }
    int64_t tasks = conv_split(j.n_panels, threads, &j.per_task);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->group; g++) {
            j.x = x + (n * p->c + g * cg) * p->h * p->w;
            eb_ref_pool_run(pool, tasks, conv_pack_task, &j);
            eb_ref_epilogue ep = {.alpha = 1.0f, .bias_row = pr->bias + g * mg, .act = pr->act,
                                  .lo = pr->lo, .hi = pr->hi, .kernel = s->kernel};
            eb_ref_gemm_packed(mg, ohw, kdim, pr->packed + (size_t)g * per, j.pb,
                               y + (n * p->m + g * mg) * ohw, ohw, &ep, pool);
        }
}
