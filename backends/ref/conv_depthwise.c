/* Depthwise 3x3 convolution (group == Cin == Cout, stride 1 or 2, dilation 1), the bulk of
 * MobileNet-style networks.  im2col + GEMM is a poor fit there (a 1 x 9 by 9 x OHW product per
 * channel), so each output row is computed directly: eight outputs at a time in a vector
 * register, the nine taps loaded once each, bias and activation applied before the store.
 * Border outputs (whose window crosses the padding) take a scalar path.
 *
 * The vectors are GCC's generic vector extension (8 floats), portable to every target; on
 * x86-64 the row kernel is also cloned for AVX2 (target_clones, chosen once by the loader),
 * so the default build stays baseline x86-64. */
#include <string.h>

#include "ref_internal.h"

typedef float dw_v8 __attribute__((vector_size(32)));
typedef int dw_i8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DW_CLONES
#endif

int eb_ref_dw3x3_fits(const eb_ref_conv2d *p)
{
    return p->group == p->c && p->m == p->c && p->kh == 3 && p->kw == 3 && p->dh == 1 &&
           p->dw == 1 && (p->sh == 1 || p->sh == 2) && p->sw == p->sh;
}

int eb_ref_dw_fits(const eb_ref_conv2d *p, eb_ref_isa isa)
{
    if (eb_ref_dw3x3_fits(p))
        return 1;
    return isa == EB_REF_ISA_AVX512 && p->group == p->c && p->m == p->c && p->kh >= 1 &&
           p->kh <= 7 && p->kw >= 1 && p->kw <= 7 && p->dh == 1 && p->dw == 1 &&
           (p->sh == 1 || p->sh == 2) && p->sw == p->sh;
}

static inline float dw_act(float v, eb_ref_act act, float lo, float hi)
{
    if (act == EB_REF_ACT_RELU)
        return v > 0.0f ? v : 0.0f;
    if (act == EB_REF_ACT_CLIP)
        return v < lo ? lo : v > hi ? hi : v;
    return v;
}

/* One output row: rows[ki] is the input row for tap row ki (NULL in the padding). */
DW_CLONES static void dw_row(const eb_ref_conv2d *p, const float *const rows[3], const float *w,
                             float b, eb_ref_act act, float lo, float hi, float *yr)
{
    int64_t s = p->sw, ow_n = p->ow, win = p->w;
    /* interior: input columns ow*s - pl + {0,1,2} all inside [0, win), and the vector load of
     * the last tap (8 outputs, so up to 8*s floats from the first) inside the row too */
    int64_t lo_ow = (p->pl + s - 1) / s;
    int64_t hi_ow = lo_ow; /* first ow past the vectorizable interior */
    while (hi_ow + 8 <= ow_n && (hi_ow + 8) * s - p->pl + 2 <= win)
        hi_ow += 8;
    for (int64_t ow = 0; ow < ow_n; ow++) {
        if (ow == lo_ow && hi_ow > lo_ow) {
            dw_v8 vlo = {lo, lo, lo, lo, lo, lo, lo, lo}, vhi = {hi, hi, hi, hi, hi, hi, hi, hi};
            dw_v8 zero = {0};
            for (; ow < hi_ow; ow += 8) {
                dw_v8 acc = {b, b, b, b, b, b, b, b};
                int64_t iw = ow * s - p->pl;
                for (int ki = 0; ki < 3; ki++) {
                    if (!rows[ki])
                        continue;
                    const float *xr = rows[ki] + iw;
                    for (int kj = 0; kj < 3; kj++) {
                        /* vectors are never passed to or returned from functions here:
                         * 32-byte vector arguments have no stable ABI without AVX */
                        dw_v8 xv;
                        if (s == 1) {
                            memcpy(&xv, xr + kj, sizeof xv);
                        } else { /* xr[kj], xr[kj + 2], ..., xr[kj + 14] */
                            dw_v8 v0, v1;
                            memcpy(&v0, xr + kj, sizeof v0);
                            memcpy(&v1, xr + kj + 8, sizeof v1);
                            xv = __builtin_shuffle(v0, v1, (dw_i8){0, 2, 4, 6, 8, 10, 12, 14});
                        }
                        acc += w[ki * 3 + kj] * xv;
                    }
                }
                if (act == EB_REF_ACT_RELU) {
                    acc = (dw_v8)((dw_i8)acc & (acc > zero));
                } else if (act == EB_REF_ACT_CLIP) {
                    dw_i8 under = acc < vlo, over = acc > vhi;
                    acc = (dw_v8)(((dw_i8)acc & ~under) | ((dw_i8)vlo & under));
                    acc = (dw_v8)(((dw_i8)acc & ~over) | ((dw_i8)vhi & over));
                }
                memcpy(yr + ow, &acc, sizeof acc);
            }
            if (ow >= ow_n)
                break;
        }
        float acc = b;
        int64_t iw = ow * s - p->pl;
        for (int ki = 0; ki < 3; ki++) {
            if (!rows[ki])
                continue;
            for (int kj = 0; kj < 3; kj++)
                if (iw + kj >= 0 && iw + kj < win)
                    acc += w[ki * 3 + kj] * rows[ki][iw + kj];
        }
        yr[ow] = dw_act(acc, act, lo, hi);
    }
}

void eb_ref_dw3x3(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                  eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1,
                  eb_ref_isa isa)
{
#if defined(__x86_64__)
    if (isa == EB_REF_ISA_AVX512) {
        eb_ref_dw3x3_avx512(p, x, w, b, act, lo, hi, y, c0, c1);
        return;
    }
#else
    (void)isa;
#endif
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = x + c * p->h * p->w;
        float *yc = y + c * p->oh * p->ow;
        for (int64_t oh = 0; oh < p->oh; oh++) {
            const float *rows[3];
            for (int ki = 0; ki < 3; ki++) {
                int64_t ih = oh * p->sh - p->pt + ki;
                rows[ki] = ih >= 0 && ih < p->h ? xc + ih * p->w : NULL;
            }
            dw_row(p, rows, w + c * 9, b ? b[c] : 0.0f, act, lo, hi, yc + oh * p->ow);
        }
    }
}
