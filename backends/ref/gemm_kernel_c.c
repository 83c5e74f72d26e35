/* Portable micro-kernel: the path on CPUs without AVX2/FMA (baseline x86-64, aarch64).
 *
 * Written with GCC's generic vectors of 4 floats (one SSE2 xmm or NEON q register), never
 * wider: a vector wider than the target's registers is lowered to pieces that GCC spills.
 * The earlier form (a float acc[6][16] array with a plain loop nest) kept the accumulators in
 * memory: every k step loaded and stored all 96 of them (10-30x the AVX2 kernel's time).
 * Register budget per target:
 *   - aarch64 (32 q registers): the whole 6 x 16 tile in one pass, 24 accumulators, 4 B
 *     vectors, A's six values in two vectors (fmla by element);
 *   - x86-64 baseline (16 xmm): two passes of 6 x 8 (12 accumulators, 2 B vectors, the
 *     broadcast A), A's six floats read twice from L1.
 * ISO C mode turns contraction off; the kernel turns it back on so NEON gets fmla (SSE2 has
 * no FMA: mulps + addps either way). */
#include <string.h>

#include "ref_internal.h"

typedef float gk_v4 __attribute__((vector_size(16)));
typedef int32_t gk_i4 __attribute__((vector_size(16)));
typedef float gk_v4u __attribute__((vector_size(16), aligned(4), may_alias)); /* unaligned */

#if defined(__aarch64__)
#define GK_NV 4 /* vectors of 4 columns per pass */
#else
#define GK_NV 2
#endif

/* act(alpha * acc (+ C) (+ biases)) into 4 columns, in the scalar order of the reference */
static inline __attribute__((always_inline)) void gk_store4(gk_v4 acc, float *cr, int n, int r,
                                                            int j, const eb_ref_tile *t)
{
    if (n < 4) { /* edge columns: scalar, same arithmetic */
        float v4[4];
        memcpy(v4, &acc, sizeof v4);
        for (int q = 0; q < n; q++) {
            float v = t->alpha * v4[q];
            if (t->load)
                v += cr[q];
            if (t->last) {
                if (t->brow)
                    v += t->brow[r];
                if (t->bcol)
                    v += t->bcol[j + q];
                if (t->act == EB_REF_ACT_RELU)
                    v = v > 0.0f ? v : 0.0f;
                else if (t->act == EB_REF_ACT_CLIP)
                    v = v < t->lo ? t->lo : v > t->hi ? t->hi : v;
            }
            cr[q] = v;
        }
        return;
    }
    gk_v4 v = t->alpha * acc;
    if (t->load) {
        gk_v4 cv;
        memcpy(&cv, cr, sizeof cv);
        v += cv;
    }
    if (t->last) {
        if (t->brow)
            v += t->brow[r];
        if (t->bcol) {
            gk_v4 bc;
            memcpy(&bc, t->bcol + j, sizeof bc);
            v += bc;
        }
        if (t->act == EB_REF_ACT_RELU) {
            const gk_v4 zero = {0};
            v = (gk_v4)((gk_i4)v & (v > zero)); /* NaN -> 0 as the scalar v > 0 ? v : 0 */
        } else if (t->act == EB_REF_ACT_CLIP) {
            gk_v4 lo = {t->lo, t->lo, t->lo, t->lo}, hi = {t->hi, t->hi, t->hi, t->hi};
            gk_i4 under = v < lo, over = v > hi;
            v = (gk_v4)(((gk_i4)v & ~under) | ((gk_i4)lo & under));
            v = (gk_v4)(((gk_i4)v & ~over) | ((gk_i4)hi & over));
        }
    }
    memcpy(cr, &v, sizeof v);
}

/* Rows [0, MRC) x columns [j0, j0 + 4 * GK_NV) of the tile. */
static inline __attribute__((always_inline)) void
gk_pass(const int MRC, int j0, int64_t kc, const float *a, const float *b, float *c,
        int64_t ldc, int nr, const eb_ref_tile *t)
{
    gk_v4 acc[EB_REF_MR][GK_NV];
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
#pragma GCC unroll 4
        for (int v = 0; v < GK_NV; v++)
            acc[r][v] = (gk_v4){0};
    b += j0;
    for (int64_t k = 0; k < kc; k++, a += EB_REF_MR, b += EB_REF_NR) {
        gk_v4 bv[GK_NV];
#pragma GCC unroll 4
        for (int v = 0; v < GK_NV; v++)
            memcpy(&bv[v], b + 4 * v, sizeof bv[v]);
#if defined(__aarch64__)
        /* A's six floats in two vectors (0-3, 2-5): each row's value is a lane, which fmla
         * multiplies by element; six scalar loads would take six more registers (the tile
         * spilled).  On SSE2 the held vectors cost more than movss + shufps from L1. */
        gk_v4 alo = *(const gk_v4u *)a, ahi = *(const gk_v4u *)(a + 2);
#endif
#pragma GCC unroll 6
        for (int r = 0; r < MRC; r++) {
#if defined(__aarch64__)
            float av = r < 4 ? alo[r] : ahi[r - 2];
#else
            float av = a[r];
#endif
#pragma GCC unroll 4
            for (int v = 0; v < GK_NV; v++)
                acc[r][v] += av * bv[v];
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < MRC; r++)
#pragma GCC unroll 4
        for (int v = 0; v < GK_NV; v++) {
            int j = j0 + 4 * v;
            if (j < nr)
                gk_store4(acc[r][v], c + r * ldc + j, nr - j, r, j, t);
        }
}

static inline __attribute__((always_inline)) void gk_tile(const int MRC, int64_t kc,
                                                          const float *a, const float *b,
                                                          float *c, int64_t ldc, int nr,
                                                          const eb_ref_tile *t)
{
    for (int j0 = 0; j0 < nr; j0 += 4 * GK_NV)
        gk_pass(MRC, j0, kc, a, b, c, ldc, nr, t);
}

__attribute__((optimize("fp-contract=fast"))) void
eb_ref_ukernel_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr,
                 int nr, const eb_ref_tile *t)
{
    /* short tiles get their own instantiation: no work on padding rows */
    switch (mr) {
    case 6: gk_tile(6, kc, a, b, c, ldc, nr, t); break;
    case 5: gk_tile(5, kc, a, b, c, ldc, nr, t); break;
    case 4: gk_tile(4, kc, a, b, c, ldc, nr, t); break;
    case 3: gk_tile(3, kc, a, b, c, ldc, nr, t); break;
    case 2: gk_tile(2, kc, a, b, c, ldc, nr, t); break;
    default: gk_tile(1, kc, a, b, c, ldc, nr, t); break;
    }
}
