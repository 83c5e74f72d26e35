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

/* The window's rows inside the image for output row oh: [*h0, *h1) with dilation 1. */
static inline void rows_in(const eb_ref_conv2d *p, int64_t oh, int64_t *h0, int64_t *h1)
{
    int64_t top = oh * p->sh - p->pt, bot = top + p->kh;
    *h0 = top < 0 ? 0 : top;
    *h1 = bot > p->h ? p->h : bot;
}

/* Vectors (GCC's generic extension: SSE/AVX/NEON as the target has them), unaligned. */
typedef float pool_v8 __attribute__((vector_size(32), aligned(4)));
typedef int pool_i8 __attribute__((vector_size(32), aligned(4)));
typedef float pool_v4 __attribute__((vector_size(16), aligned(4)));
typedef int pool_i4 __attribute__((vector_size(16), aligned(4)));

#define VMAX(T, TI, a, b) ((T)(((TI)(b) & ((b) > (a))) | ((TI)(a) & ~((b) > (a)))))

/* y[o] = max(t[2o], t[2o+1] (, t[2o+2] when k3)) for o < n.  Whole vectors of outputs, the
 * last one overlapping the one before (recomputing a few outputs) rather than a scalar tail:
 * rows here are short (7 to 56 outputs).  Reads t up to 2n+2V+1 floats: the caller's buffer
 * carries that slack. */
static inline void hmax_s2(const float *t, float *y, int64_t n, int k3)
{
    if (n >= 8) {
        for (int64_t o = 0;; o += 8) {
            if (o > n - 8)
                o = n - 8;
            const float *q = t + 2 * o;
            pool_v8 a = *(const pool_v8 *)q, b = *(const pool_v8 *)(q + 8);
            pool_v8 ev = __builtin_shuffle(a, b, (pool_i8){0, 2, 4, 6, 8, 10, 12, 14});
            pool_v8 od = __builtin_shuffle(a, b, (pool_i8){1, 3, 5, 7, 9, 11, 13, 15});
            pool_v8 m = VMAX(pool_v8, pool_i8, ev, od);
            if (k3) {
                pool_v8 c = *(const pool_v8 *)(q + 16); /* c[0] = t[2o + 16] */
                pool_v8 sh = __builtin_shuffle(ev, c, (pool_i8){1, 2, 3, 4, 5, 6, 7, 8});
                m = VMAX(pool_v8, pool_i8, m, sh);
            }
            *(pool_v8 *)(y + o) = m;
            if (o == n - 8)
                return;
        }
    }
    if (n >= 4) {
        for (int64_t o = 0;; o += 4) {
            if (o > n - 4)
                o = n - 4;
            const float *q = t + 2 * o;
            pool_v4 a = *(const pool_v4 *)q, b = *(const pool_v4 *)(q + 4);
            pool_v4 ev = __builtin_shuffle(a, b, (pool_i4){0, 2, 4, 6});
            pool_v4 od = __builtin_shuffle(a, b, (pool_i4){1, 3, 5, 7});
            pool_v4 m = VMAX(pool_v4, pool_i4, ev, od);
            if (k3) {
                pool_v4 c = *(const pool_v4 *)(q + 8); /* c[0] = t[2o + 8] */
                pool_v4 sh = __builtin_shuffle(ev, c, (pool_i4){1, 2, 3, 4});
                m = VMAX(pool_v4, pool_i4, m, sh);
            }
            *(pool_v4 *)(y + o) = m;
            if (o == n - 4)
                return;
        }
    }
    for (int64_t o = 0; o < n; o++) {
        float m = pool_max(t[2 * o], t[2 * o + 1]);
        y[o] = k3 ? pool_max(m, t[2 * o + 2]) : m;
    }
}

/* t[j] = max(a[j], b[j], c[j]) for j < w (rows repeated when the window has fewer), in whole
 * vectors with an overlapping last one: a vectorized loop's scalar tail dominated 28-wide
 * rows. */
static inline void vmax_rows(const float *a, const float *b, const float *c, float *t, int64_t w)
{
    if (w >= 8) {
        for (int64_t j = 0;; j += 8) {
            if (j > w - 8)
                j = w - 8;
            pool_v8 va = *(const pool_v8 *)(a + j), vb = *(const pool_v8 *)(b + j);
            pool_v8 vc = *(const pool_v8 *)(c + j);
            pool_v8 m = VMAX(pool_v8, pool_i8, va, vb);
            *(pool_v8 *)(t + j) = VMAX(pool_v8, pool_i8, m, vc);
            if (j == w - 8)
                return;
        }
    }
    for (int64_t j = 0; j < w; j++)
        t[j] = pool_max(pool_max(a[j], b[j]), c[j]);
}

/* Slack after tmp's w floats for hmax_s2's whole-vector reads. */
#define POOL_TMP_SLACK 24

/* MaxPool k x k (k = 2 or 3), stride 2, no dilation: ShuffleNet's and SqueezeNet's 3x3/2
 * (SqueezeNet with ceil_mode), the zoo cnn's 2x2/2.  Per output row: the max of the window's
 * 2-3 input rows (contiguous, vectorized), then the stride-2 horizontal max written with
 * constant strides so the compiler vectorizes it with permutes; only the columns whose window
 * crosses the left or right edge (padding, ceil_mode) take the clipped scalar loop.  One call
 * per tensor, so the ISA dispatch of the clones costs once, not per row. */
POOL_CLONES __attribute__((optimize("O3"))) static void
maxpool_k23s2(const eb_ref_conv2d *p, const float *x, float *y, float *restrict tmp)
{
    const int64_t w = p->w, ow_n = p->ow, k = p->kw, pl = p->pl;
    /* interior columns: 0 <= 2*ow - pl and 2*ow - pl + k - 1 < w */
    int64_t lo = (pl + 1) / 2, hi = w - k + pl < 0 ? 0 : (w - k + pl) / 2 + 1;
    if (hi > ow_n)
        hi = ow_n;
    if (lo > hi)
        lo = hi;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xc = x + nc * p->h * w;
        float *yc = y + nc * p->oh * ow_n;
        for (int64_t oh = 0; oh < p->oh; oh++, yc += ow_n) {
            int64_t h0, h1;
            rows_in(p, oh, &h0, &h1);
            const float *r0 = xc + h0 * w;
            vmax_rows(r0, h1 - h0 > 1 ? r0 + w : r0, h1 - h0 > 2 ? r0 + 2 * w : r0, tmp, w);
            hmax_s2(tmp + 2 * lo - pl, yc + lo, hi - lo, k == 3);
            for (int64_t o = 0; o < ow_n; o++) {
                if (o == lo)
                    o = hi; /* skip the interior */
                if (o >= ow_n)
                    break;
                float mx = -INFINITY;
                for (int64_t kj = 0; kj < k; kj++) {
                    int64_t iw = 2 * o - pl + kj;
                    if (iw >= 0 && iw < w)
                        mx = pool_max(mx, tmp[iw]);
                }
                yc[o] = mx;
            }
        }
    }
}

/* Whether maxpool_k23s2 takes p: every output row's window has at least one row inside. */
static int k23s2_fits(const eb_ref_conv2d *p)
{
    if (p->kh != p->kw || (p->kw != 2 && p->kw != 3) || p->sh != 2 || p->sw != 2 ||
        p->dh != 1 || p->dw != 1 || p->w > POOL_ROW_MAX || p->pt >= p->kh || p->pl >= p->kw)
        return 0;
    int64_t h0, h1;
    rows_in(p, p->oh - 1, &h0, &h1);
    return h1 > h0;
}

static void maxpool2d_generic(const eb_ref_conv2d *p, const float *x, float *y);

void eb_ref_maxpool2d(const eb_ref_conv2d *p, const float *x, float *y)
{
    float tmp[(p->w <= POOL_ROW_MAX ? p->w : 1) + POOL_TMP_SLACK];
    if (p->oh > 0 && p->ow > 0 && k23s2_fits(p)) {
        maxpool_k23s2(p, x, y, tmp);
        return;
    }
    maxpool2d_generic(p, x, y);
}

/* The separable path for any window (and the direct loop for rows wider than the stack
 * buffer); the fast path above is tested against it. */
static void maxpool2d_generic(const eb_ref_conv2d *p, const float *x, float *y)
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

/* Eight partial sums in one vector (SqueezeNet's 1000 x 13x13 head: the scalar sum chain was
 * most of the node). */
void eb_ref_global_avgpool(int64_t nc, int64_t hw, const float *x, float *y)
{
    for (int64_t i = 0; i < nc; i++) {
        const float *xc = x + i * hw;
        pool_v8 part = {0};
        int64_t j = 0;
        for (; j + 8 <= hw; j += 8)
            part += *(const pool_v8 *)(xc + j);
        float sum = ((part[0] + part[1]) + (part[2] + part[3])) +
                    ((part[4] + part[5]) + (part[6] + part[7]));
        for (; j < hw; j++)
            sum += xc[j];
        y[i] = sum / (float)hw;
    }
}
