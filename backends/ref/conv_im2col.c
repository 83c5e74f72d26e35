/* im2col straight into packed-B panels: the GEMM's B operand for a convolution is the
 * K x (OH*OW) patch matrix (K = Cin/group * kh * kw), and writing it directly in the panel
 * order of gemm_pack.c saves a second pass over it.  Each panel covers 16 consecutive output
 * positions; when those lie in one output row with unit stride, a k row of the panel is a
 * contiguous slice of one input row (a copy with zeros at the padded ends). */
#include <string.h>

#include "ref_internal.h"

void eb_ref_im2col_packed(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                          int64_t p0, int64_t p1)
{
    int64_t ohw = p->oh * p->ow, K = cg * p->kh * p->kw;
    int64_t Np = (ohw + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
    for (int64_t pn = p0; pn < p1; pn++) {
        int64_t j0 = pn * EB_REF_NR, w = ohw - j0 < EB_REF_NR ? ohw - j0 : EB_REF_NR;
        int64_t ih0[EB_REF_NR], iw0[EB_REF_NR];
        for (int64_t jj = 0; jj < w; jj++) {
            int64_t oh = (j0 + jj) / p->ow, ow = (j0 + jj) % p->ow;
            ih0[jj] = oh * p->sh - p->pt;
            iw0[jj] = ow * p->sw - p->pl;
        }
        /* one output row, unit stride: input columns iw0[0] + jj (+ kj * dw) */
        int row = p->sw == 1 && ih0[0] == ih0[w - 1];
        int64_t k = 0;
        for (int64_t c = 0; c < cg; c++) {
            const float *xc = x + c * p->h * p->w;
            for (int64_t ki = 0; ki < p->kh; ki++)
                for (int64_t kj = 0; kj < p->kw; kj++, k++) {
                    int64_t k0 = k / EB_REF_KC * EB_REF_KC;
                    int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
                    float *dst = pb + k0 * Np + j0 * kc + (k - k0) * EB_REF_NR;
                    int64_t dh = ki * p->dh, dw = kj * p->dw;
                    if (row) {
                        int64_t ih = ih0[0] + dh, iw = iw0[0] + dw;
                        if (ih < 0 || ih >= p->h) {
                            memset(dst, 0, EB_REF_NR * sizeof *dst);
                            continue;
                        }
                        /* jj with 0 <= iw + jj < w_in */
                        int64_t lo = iw < 0 ? -iw : 0, hi = p->w - iw;
                        if (hi > w)
                            hi = w;
                        int64_t jj = 0;
                        for (; jj < lo && jj < EB_REF_NR; jj++)
                            dst[jj] = 0.0f;
                        if (hi > lo) {
                            memcpy(dst + lo, xc + ih * p->w + iw + lo,
                                   (size_t)(hi - lo) * sizeof *dst);
                            jj = hi;
                        }
                        for (; jj < EB_REF_NR; jj++)
                            dst[jj] = 0.0f;
                        continue;
                    }
                    int64_t jj = 0;
                    for (; jj < w; jj++) {
                        int64_t ih = ih0[jj] + dh, iw = iw0[jj] + dw;
                        dst[jj] = ih >= 0 && ih < p->h && iw >= 0 && iw < p->w
                                      ? xc[ih * p->w + iw]
                                      : 0.0f;
                    }
                    for (; jj < EB_REF_NR; jj++)
                        dst[jj] = 0.0f;
                }
        }
    }
}
