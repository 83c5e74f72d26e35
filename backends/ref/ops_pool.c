/* Pooling over NCHW.  MaxPool is separable (a max over rows, then along the row), which
 * the vectorizer handles; the other pools are direct loops (a small share of a CNN's time).  Windows are
 * clipped to the input; padding never wins a max and, for averages, counts only when
 * count_include_pad says so, with PyTorch's divisor (the window clipped to the padded input). */
#include <math.h>

#include "ref_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define POOL_CLONES
#endif

/* Widest input row the separable path keeps on the stack; wider rows take the direct loop. */
#define POOL_ROW_MAX 4096

static inline float pool_max(float a, float b)
{
    return b > a ? b : a; /* as the direct loop: a NaN input never wins */
}

/* One output row as two passes: the column-wise max of the window's input rows (contiguous,
 * so vectorized), then the max along each window of that row (kw taps, stride sw).  Every
 * input row of the window is inside the image (the caller clipped them). */
POOL_CLONES __attribute__((optimize("O3"))) static void pool_max_row(const eb_ref_conv2d *p, const float *xc, int64_t h0,
                                     int64_t h1, float *tmp, float *yr)
{
    int64_t w = p->w;
    const float *r0 = xc + h0 * p->w;
    for (int64_t j = 0; j < w; j++)
        tmp[j] = r0[j];
    for (int64_t ih = h0 + p->dh; ih < h1; ih += p->dh) {
        const float *r = xc + ih * p->w;
        for (int64_t j = 0; j < w; j++)
            tmp[j] = pool_max(tmp[j], r[j]);
    }
    for (int64_t ow = 0; ow < p->ow; ow++) {
        int64_t iw0 = ow * p->sw - p->pl;
        float mx = -INFINITY;
        if (iw0 >= 0 && iw0 + (p->kw - 1) * p->dw < w) { /* interior */
            const float *t = tmp + iw0;
            for (int64_t kj = 0; kj < p->kw; kj++)
                mx = pool_max(mx, t[kj * p->dw]);
        } else {
            for (int64_t kj = 0; kj < p->kw; kj++) {
                int64_t iw = iw0 + kj * p->dw;
                if (iw >= 0 && iw < w)
                    mx = pool_max(mx, tmp[iw]);
            }
        }
        yr[ow] = mx;
    }
}

void eb_ref_maxpool2d(const eb_ref_conv2d *p, const float *x, float *y)
{
    float tmp[p->w <= POOL_ROW_MAX ? p->w : 1];
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * p->w;
        float *yc = y + nc * p->oh * p->ow;
        for (int64_t oh = 0; oh < p->oh; oh++) {
            /* the window's rows inside the image: ih = oh*sh - pt + ki*dh, 0 <= ih < h */
            int64_t top = oh * p->sh - p->pt, h0 = -1, h1 = -1;
            for (int64_t ki = 0; ki < p->kh; ki++) {
                int64_t ih = top + ki * p->dh;
                if (ih >= 0 && ih < p->h) {
                    if (h0 < 0)
                        h0 = ih;
                    h1 = ih + 1;
                }
            }
            if (h0 >= 0 && p->w <= POOL_ROW_MAX) {
                pool_max_row(p, xc, h0, h1, tmp, yc + oh * p->ow);
                continue;
            }
            for (int64_t ow = 0; ow < p->ow; ow++) {
                float mx = -INFINITY;
                for (int64_t ki = 0; ki < p->kh; ki++) {
                    int64_t ih = top + ki * p->dh;
                    if (ih < 0 || ih >= p->h)
                        continue;
                    for (int64_t kj = 0; kj < p->kw; kj++) {
                        int64_t iw = ow * p->sw - p->pl + kj * p->dw;
                        if (iw >= 0 && iw < p->w && xc[ih * p->w + iw] > mx)
                            mx = xc[ih * p->w + iw];
                    }
                }
                yc[oh * p->ow + ow] = mx;
            }
        }
    }
}

/* AveragePool has no dilations before opset 19; p->dh and p->dw are ignored here. */
void eb_ref_avgpool2d(const eb_ref_conv2d *p, const float *x, float *y)
{
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * p->w;
        float *yc = y + nc * p->oh * p->ow;
        for (int64_t oh = 0; oh < p->oh; oh++) {
            int64_t h0 = oh * p->sh - p->pt, h1 = h0 + p->kh;
            if (h1 > p->h + p->pb)
                h1 = p->h + p->pb;
            int64_t ph = h1 - h0;
            if (h0 < 0)
                h0 = 0;
            if (h1 > p->h)
                h1 = p->h;
            for (int64_t ow = 0; ow < p->ow; ow++) {
                int64_t w0 = ow * p->sw - p->pl, w1 = w0 + p->kw;
                if (w1 > p->w + p->pr)
                    w1 = p->w + p->pr;
                int64_t pw = w1 - w0;
                if (w0 < 0)
                    w0 = 0;
                if (w1 > p->w)
                    w1 = p->w;
                float sum = 0;
                for (int64_t ih = h0; ih < h1; ih++)
                    for (int64_t iw = w0; iw < w1; iw++)
                        sum += xc[ih * p->w + iw];
                int64_t cnt = p->count_include_pad ? ph * pw : (h1 - h0) * (w1 - w0);
                yc[oh * p->ow + ow] = cnt > 0 ? sum / (float)cnt : 0.0f;
            }
        }
    }
}

void eb_ref_global_avgpool(int64_t nc, int64_t hw, const float *x, float *y)
{
    for (int64_t i = 0; i < nc; i++) {
        const float *xc = x + i * hw;
        float sum = 0;
        for (int64_t j = 0; j < hw; j++)
            sum += xc[j];
        y[i] = sum / (float)hw;
    }
}
