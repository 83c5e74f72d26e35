/* Batch-1 fully connected layers: y[1, N] = a[1, K] * B (packed at open) as a GEMV.  The
 * 6-row GEMM tile would pack a into a panel five-sixths zeros (a strided scalar copy that cost
 * more than the product itself: the zoo cnn's 1568 -> 128 layer, 9 us at batch 1) and then
 * multiply those zeros.  Here a is read in place and B's packed panels are streamed once, four
 * adjacent panels (64 columns) at a time, with enough independent FMAs to keep the loads, the
 * limit of a GEMV, busy.
 *
 * The body is written in GCC's generic vectors, in the width of each target's registers: 16
 * floats for AVX-512 (two accumulator sets, even and odd k), 8 for AVX2+FMA and 4 for the
 * baseline target (SSE2 on x86-64, NEON on aarch64).  Vectors wider than the registers are
 * not split well: 16-float vectors on the AVX2 target compiled to stack spills and separate
 * multiplies and adds, slower than the portable build (the zoo mlp's 784 -> 256 layer 79 us
 * vs 5.5 us for AVX-512).  The AVX variants are chosen by the session's isa, so
 * EDGEBENCH_REF_ISA forces each one in tests. */
#include <string.h>

#include "conv_gemm.h"
#include "threadpool.h"

typedef float gemv_v16 __attribute__((vector_size(64)));
/* unaligned, aliasing view of 16 floats (a macro: a function returning a vector would change
 * the ABI between the targets below) */
typedef float gemv_v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define GEMV_LOAD(p) (*(const gemv_v16u *)(const void *)(p))

/* Columns [j0, j0 + 16*NP) of the product, written to acc-summed out[0 .. 16*NP). */
static inline __attribute__((always_inline)) void
gemv_cols(const int NP, int64_t K, int64_t Np, int64_t j0, const float *a, const float *pb,
          float *out)
{
    /* per k block as the GEMM adds its k blocks into C: one running sum over a 1280-deep K
     * drifted further from PyTorch (MobileNet's classifier: 1.3e-6 relative, 1.0e-6 so) */
    gemv_v16 e[4] = {0}, o[4] = {0}, tot[4] = {0};
    for (int64_t k0 = 0; k0 < K; k0 += EB_REF_KC) {
        int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;
        const float *blk = pb + k0 * Np + j0 * kc, *ak = a + k0;
        int64_t k = 0;
        for (; k + 1 < kc; k += 2) {
            float a0 = ak[k], a1 = ak[k + 1];
#pragma GCC unroll 4
            for (int q = 0; q < NP; q++) {
                e[q] += a0 * GEMV_LOAD(blk + q * EB_REF_NR * kc + k * EB_REF_NR);
                o[q] += a1 * GEMV_LOAD(blk + q * EB_REF_NR * kc + (k + 1) * EB_REF_NR);
            }
        }
        if (k < kc)
#pragma GCC unroll 4
            for (int q = 0; q < NP; q++)
                e[q] += ak[k] * GEMV_LOAD(blk + q * EB_REF_NR * kc + k * EB_REF_NR);
#pragma GCC unroll 4
        for (int q = 0; q < NP; q++) {
            tot[q] += e[q] + o[q];
            e[q] = o[q] = (gemv_v16){0};
        }
    }
#pragma GCC unroll 4
    for (int q = 0; q < NP; q++)
        memcpy(out + 16 * q, &tot[q], sizeof tot[q]);
}

/* gemv_cols for targets with narrower registers: vectors of VT (L floats), one accumulator per
 * vector of the NP panels (8 ymm for AVX2 at NP = 4; the baseline target is given at most two
 * panels at a time, 8 of its 16 xmm), each k block's sum added to out as gemv_cols adds tot. */
#define GEMV_COLS_NARROW(NAME, VT, VTU, L)                                                     \
    static inline __attribute__((always_inline)) void NAME(                                   \
        const int NP, int64_t K, int64_t Np, int64_t j0, const float *a, const float *pb,     \
        float *out)                                                                           \
    {                                                                                         \
        enum { PER = EB_REF_NR / (L) };                                                       \
        VT tot[4 * PER] = {0};                                                                \
        for (int64_t k0 = 0; k0 < K; k0 += EB_REF_KC) {                                       \
            int64_t kc = K - k0 < EB_REF_KC ? K - k0 : EB_REF_KC;                             \
            const float *blk = pb + k0 * Np + j0 * kc, *ak = a + k0;                          \
            VT acc[4 * PER] = {0};                                                            \
            for (int64_t k = 0; k < kc; k++) {                                                \
                float ak_k = ak[k];                                                           \
                _Pragma("GCC unroll 16") for (int i = 0; i < NP * PER; i++) acc[i] +=         \
                    ak_k * *(const VTU *)(const void *)(blk + (i / PER) * EB_REF_NR * kc +    \
                                                        k * EB_REF_NR + (i % PER) * (L));     \
            }                                                                                 \
            _Pragma("GCC unroll 16") for (int i = 0; i < NP * PER; i++) tot[i] += acc[i];     \
        }                                                                                     \
        _Pragma("GCC unroll 16") for (int i = 0; i < NP * PER; i++)                           \
            memcpy(out + i * (L), &tot[i], sizeof tot[i]);                                    \
    }

typedef float gemv_v8 __attribute__((vector_size(32)));
typedef float gemv_v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float gemv_v4 __attribute__((vector_size(16)));
typedef float gemv_v4u __attribute__((vector_size(16), aligned(4), may_alias));
GEMV_COLS_NARROW(gemv_cols_v8, gemv_v8, gemv_v8u, 8)
GEMV_COLS_NARROW(gemv_cols_v4, gemv_v4, gemv_v4u, 4)

/* NP panels from column j0 in the target's vector width (a constant once inlined) */
static inline __attribute__((always_inline)) void
gemv_group(const int width, const int NP, int64_t K, int64_t Np, int64_t j0, const float *a,
           const float *pb, float *out)
{
    if (width == 16) {
        gemv_cols(NP, K, Np, j0, a, pb, out);
    } else if (width == 8) {
        gemv_cols_v8(NP, K, Np, j0, a, pb, out);
    } else {
        gemv_cols_v4(NP < 2 ? NP : 2, K, Np, j0, a, pb, out);
        if (NP > 2)
            gemv_cols_v4(NP - 2, K, Np, j0 + 2 * EB_REF_NR, a, pb, out + 2 * EB_REF_NR);
    }
}

static inline __attribute__((always_inline)) void
gemv_body(const int width, int64_t K, int64_t N, const float *a, const float *pb, float *y,
          const eb_ref_epilogue *ep, int64_t g0, int64_t g1)
{
    int64_t Np = (N + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
    float sum[4 * EB_REF_NR];
    for (int64_t g = g0; g < g1; g++) {
        int64_t j0 = g * 4 * EB_REF_NR, w = N - j0 < 4 * EB_REF_NR ? N - j0 : 4 * EB_REF_NR;
        switch ((w + EB_REF_NR - 1) / EB_REF_NR) {
        case 4: gemv_group(width, 4, K, Np, j0, a, pb, sum); break;
        case 3: gemv_group(width, 3, K, Np, j0, a, pb, sum); break;
        case 2: gemv_group(width, 2, K, Np, j0, a, pb, sum); break;
        default: gemv_group(width, 1, K, Np, j0, a, pb, sum); break;
        }
        float brow = ep->bias_row ? ep->bias_row[0] : 0.0f;
        for (int64_t j = 0; j < w; j++) {
            float v = ep->alpha * sum[j] + (ep->accumulate ? y[j0 + j] : 0.0f) + brow;
            if (ep->bias_col)
                v += ep->bias_col[j0 + j];
            if (ep->act == EB_REF_ACT_RELU)
                v = v > 0.0f ? v : 0.0f;
            else if (ep->act == EB_REF_ACT_CLIP)
                v = v < ep->lo ? ep->lo : v > ep->hi ? ep->hi : v;
            y[j0 + j] = v;
        }
    }
}

static void gemv_c(int64_t K, int64_t N, const float *a, const float *pb, float *y,
                   const eb_ref_epilogue *ep, int64_t g0, int64_t g1)
{
    gemv_body(4, K, N, a, pb, y, ep, g0, g1);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void
gemv_avx2(int64_t K, int64_t N, const float *a, const float *pb, float *y,
          const eb_ref_epilogue *ep, int64_t g0, int64_t g1)
{
    gemv_body(8, K, N, a, pb, y, ep, g0, g1);
}

__attribute__((target("avx512f,avx2,fma"))) static void
gemv_avx512(int64_t K, int64_t N, const float *a, const float *pb, float *y,
            const eb_ref_epilogue *ep, int64_t g0, int64_t g1)
{
    gemv_body(16, K, N, a, pb, y, ep, g0, g1);
}
#endif

typedef struct gemv_job {
    int64_t K, N, per;
    const float *a, *pb;
    float *y;
    const eb_ref_epilogue *ep;
    eb_ref_isa isa;
} gemv_job;

static void gemv_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const gemv_job *j = ctx;
    int64_t groups = (j->N + 4 * EB_REF_NR - 1) / (4 * EB_REF_NR);
    int64_t g0 = task * j->per, g1 = g0 + j->per < groups ? g0 + j->per : groups;
#if defined(__x86_64__)
    if (j->isa == EB_REF_ISA_AVX512) {
        gemv_avx512(j->K, j->N, j->a, j->pb, j->y, j->ep, g0, g1);
        return;
    }
    if (j->isa == EB_REF_ISA_AVX2) {
        gemv_avx2(j->K, j->N, j->a, j->pb, j->y, j->ep, g0, g1);
        return;
    }
#endif
    gemv_c(j->K, j->N, j->a, j->pb, j->y, j->ep, g0, g1);
}

void eb_ref_gemv_packed(int64_t N, int64_t K, const float *a, const float *pb, float *y,
                        const eb_ref_epilogue *ep, eb_ref_isa isa, struct eb_ref_pool *pool)
{
    if (N <= 0)
        return;
    gemv_job j = {.K = K, .N = N, .a = a, .pb = pb, .y = y, .ep = ep, .isa = isa};
    int64_t groups = (N + 4 * EB_REF_NR - 1) / (4 * EB_REF_NR);
    int threads = eb_ref_pool_threads(pool);
    /* the weights' stream is what takes time: split it when there is enough of it */
    if ((double)N * (double)K < EB_REF_GEMV_SERIAL_MACS || groups < 2)
        threads = 1;
    int64_t tasks = threads > 1 ? (groups < 2 * (int64_t)threads ? groups : 2 * threads) : 1;
    j.per = (groups + tasks - 1) / tasks;
    tasks = (groups + j.per - 1) / j.per;
    eb_ref_pool_run(threads > 1 ? pool : NULL, tasks, gemv_task, &j);
}
