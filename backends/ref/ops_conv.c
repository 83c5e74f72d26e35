/* 2-D convolution as im2col + GEMM: each group's input patches are unrolled into a
 * [Cin/g * kh * kw, OH * OW] matrix in the scratch buffer planned at open, and the weights
 * [Cout/g, Cin/g * kh * kw] multiply it straight into the output.  A 1x1, stride 1, unpadded
 * convolution reads its input as that matrix directly. */
#include <string.h>

#include "ref_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

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
