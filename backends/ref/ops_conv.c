/* 2-D convolution.  Two entry points:
 *
 *   ref_conv_prepare / ref_conv_exec   the graph's Conv nodes: the algorithm is chosen per
 *     shape at open.  Depthwise 3x3 (stride 1 or 2) runs a direct kernel
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

#include "ref_internal.h"
#include "threadpool.h"

#define CONV_SERIAL_MACS (128.0 * 1024) /* smaller convolutions stay on the caller */

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
        eb_ref_im2col_packed(j->p, j->cg, j->x, j->pb, p0, p1);
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
    int64_t kdim = cg * p->kh * p->kw;
    size_t per = eb_ref_pack_a_floats(mg, kdim);
    j.pb = s->scratch;
    j.n_panels = (ohw + EB_REF_NR - 1) / EB_REF_NR;
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
