/* im2col straight into packed-B panels: the GEMM's B operand for a convolution is the
 * K x (OH*OW) patch matrix (K = Cin/group * kh * kw), and writing it directly in the panel
 * order of gemm_pack.c saves a second pass over it.  A panel covers 16 consecutive output
 * positions, which fall into at most a few runs along output rows; within a run, one k row
 * reads one input row at a fixed stride (a plain copy at stride 1), with zeros where the
 * window hangs over the padding. */
#include <string.h>

#include "conv_gemm.h"

/* The copies below are plain C; on x86-64 the driver is also cloned for AVX2 and AVX-512 (the
 * loader picks once), where a 16-float panel row is one or two vector moves. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define IM2COL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IM2COL_CLONES
#endif

typedef struct im2col_run {
    int j0, j1;       /* panel positions [j0, j1) */
    int64_t ih, iw;   /* input row and column of position j0 at tap (0, 0) */
} im2col_run;

/* d[0, n) = s[0, n) for the short runs (under a panel row) that maps narrower than 16 make:
 * fixed-size pieces of 8, 4, 2 and 1 (one or two moves each).  The plain element loop ran scalar, 2-3 instructions per float, and was most of
 * im2col's time on the zoo cnn's 14- and 28-wide maps (callgrind, AVX2 path). */
static inline __attribute__((always_inline)) void im2col_copy(float *d, const float *s,
                                                              int64_t n)
{
    for (; n >= 8; n -= 8, d += 8, s += 8)
        memcpy(d, s, 8 * sizeof *d);
    if (n & 4) {
        memcpy(d, s, 4 * sizeof *d);
        d += 4, s += 4;
    }
    if (n & 2) {
        memcpy(d, s, 2 * sizeof *d);
        d += 2, s += 2;
    }
    if (n & 1)
        *d = *s;
}

/* One run of one k row: dst[j0..j1) from input row xr (NULL: all padding).  Called once per
 * run, k row and panel (hundreds of thousands of times per layer), so the common cases avoid
 * what dominated here: integer divisions for the in-bounds range and libc calls for 64 bytes.
 * A run wholly inside the row at stride 1 is one fixed-size copy (a single vector move where
 * the compiler may use one), stride 2 is a fixed-count loop. */
static inline __attribute__((always_inline)) void
im2col_fill(const eb_ref_conv2d *p, const im2col_run *r, const float *xr, int64_t dw, float *dst)
{
    int n = r->j1 - r->j0;
    float *d = dst + r->j0;
    if (!xr) {
        memset(d, 0, (size_t)n * sizeof *d);
        return;
    }
    int64_t iw = r->iw + dw, s = p->sw, lo, hi;
    if (s == 1) {
        if (iw >= 0 && iw + n <= p->w) {
            if (n == EB_REF_NR)
                memcpy(d, xr + iw, EB_REF_NR * sizeof *d);
            else
                im2col_copy(d, xr + iw, n);
            return;
        }
        lo = iw >= 0 ? 0 : -iw;
        hi = p->w - iw;
    } else if (s == 2) {
        if (iw >= 0 && iw + 2 * (n - 1) < p->w) {
            if (n == EB_REF_NR)
                for (int j = 0; j < EB_REF_NR; j++)
                    d[j] = xr[iw + 2 * j];
            else
                for (int j = 0; j < n; j++)
                    d[j] = xr[iw + 2 * j];
            return;
        }
        lo = iw >= 0 ? 0 : (-iw + 1) >> 1;
        hi = iw >= p->w ? 0 : ((p->w - 1 - iw) >> 1) + 1;
    } else {
        /* positions j with 0 <= iw + j*s < w */
        lo = iw >= 0 ? 0 : (-iw + s - 1) / s;
        hi = iw >= p->w ? 0 : (p->w - 1 - iw) / s + 1;
    }
    if (lo > n)
        lo = n;
    if (hi > n)
        hi = n;
    if (hi < lo)
        hi = lo;
    for (int64_t j = 0; j < lo; j++)
        d[j] = 0.0f;
    if (s == 1)
        im2col_copy(d + lo, xr + iw + lo, hi - lo);
    else
        for (int64_t j = lo; j < hi; j++)
            d[j] = xr[iw + j * s];
    for (int64_t j = hi; j < n; j++)
        d[j] = 0.0f;
}

IM2COL_CLONES static void im2col_packed(const eb_ref_conv2d *p, int64_t cg, const float *x,
                                        float *pb, int64_t p0, int64_t p1)
{
    int64_t ohw = p->oh * p->ow, K = cg * p->kh * p->kw;
    int64_t Np = (ohw + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
    for (int64_t pn = p0; pn < p1; pn++) {
        int64_t j0 = pn * EB_REF_NR, w = ohw - j0 < EB_REF_NR ? ohw - j0 : EB_REF_NR;
        im2col_run runs[EB_REF_NR + 1];
        int n_runs = 0;
        for (int64_t j = 0; j < w;) {
            int64_t oh = (j0 + j) / p->ow, ow = (j0 + j) % p->ow;
            int64_t len = p->ow - ow < w - j ? p->ow - ow : w - j;
            runs[n_runs++] = (im2col_run){(int)j, (int)(j + len), oh * p->sh - p->pt,
                                          ow * p->sw - p->pl};
            j += len;
        }
        if (w < EB_REF_NR) /* padding columns of the last panel: zeros */
            runs[n_runs++] = (im2col_run){(int)w, EB_REF_NR, -1 - p->h - p->kh * p->dh, 0};
        int64_t k = 0, k0 = 0, kc = K < EB_REF_KC ? K : EB_REF_KC;
        float *dst = pb + j0 * kc;
        for (int64_t c = 0; c < cg; c++) {
            const float *xc = x + c * p->h * p->w;
            for (int64_t ki = 0; ki < p->kh; ki++)
                for (int64_t kj = 0; kj < p->kw; kj++) {
                    for (int r = 0; r < n_runs; r++) {
                        int64_t ih = runs[r].ih + ki * p->dh;
                        const float *xr = ih >= 0 && ih < p->h ? xc + ih * p->w : NULL;
                        im2col_fill(p, &runs[r], xr, kj * p->dw, dst);
                    }
                    dst += EB_REF_NR;
                    if (++k == k0 + kc && k < K) { /* next k block */
                        k0 = k;
                        kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
                        dst = pb + k0 * Np + j0 * kc;
                    }
                }
        }
    }
}

void eb_ref_im2col_packed(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                          int64_t p0, int64_t p1)
{
    im2col_packed(p, cg, x, pb, p0, p1);
}

void eb_ref_im2col_packed_isa(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                              int64_t p0, int64_t p1, eb_ref_isa isa)
{
#if defined(__x86_64__)
    if (isa == EB_REF_ISA_AVX512) {
        eb_ref_im2col_packed_avx512(p, cg, x, pb, p0, p1);
        return;
    }
#else
    (void)isa;
#endif
    im2col_packed(p, cg, x, pb, p0, p1);
}
