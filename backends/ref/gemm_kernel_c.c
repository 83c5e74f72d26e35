/* Portable micro-kernel: the reference semantics of eb_ref_tile, and the path on CPUs without
 * AVX2/FMA (aarch64 included).  The accumulator is a fixed MR x NR array with constant trip
 * counts, which GCC's -O2 vectorizer turns into SIMD on any target. */
#include "ref_internal.h"

void eb_ref_ukernel_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                      int nr, const eb_ref_tile *t)
{
    float acc[EB_REF_MR][EB_REF_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += EB_REF_MR, b += EB_REF_NR)
        for (int r = 0; r < EB_REF_MR; r++) {
            float av = a[r];
            for (int j = 0; j < EB_REF_NR; j++)
                acc[r][j] += av * b[j];
        }
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        for (int j = 0; j < nr; j++) {
            float v = t->alpha * acc[r][j];
            if (t->load)
                v += cr[j];
            if (t->last) {
                if (t->brow)
                    v += t->brow[r];
                if (t->bcol)
                    v += t->bcol[j];
                if (t->act == EB_REF_ACT_RELU)
                    v = v > 0.0f ? v : 0.0f;
                else if (t->act == EB_REF_ACT_CLIP)
                    v = v < t->lo ? t->lo : v > t->hi ? t->hi : v;
            }
            cr[j] = v;
        }
    }
}
