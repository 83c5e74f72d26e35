/* Single-precision GEMM: BLIS-style blocking over packed operands (gemm_pack.c) and a
 * register-tiled micro-kernel chosen at run time (gemm_kernel_avx2.c on x86-64 CPUs with
 * AVX2+FMA, gemm_kernel_c.c elsewhere).
 *
 *   eb_ref_gemm_packed  both operands already packed (weights are packed once at open):
 *                       tiles of C are spread over the thread pool; bias and activation are
 *                       applied in the kernel's epilogue while the tile is in registers.
 *   eb_ref_sgemm        any strides and transposes (MatMul, folding at open, tests): packs
 *                       blocks of A and B on the stack as it goes, so it needs no scratch.
 *   ref_gemm_*          the Gemm node with a constant B: packed at open, A packed per run.
 *
 * Blocking: KC = 256 steps keep one B panel (16 KiB) in L1 while an MC-row block of A
 * (MC x KC, 120 KiB) stays in L2; the C tile of a task is MC x NC. */
#include <stdlib.h>
#include <string.h>

#include "conv_gemm.h"
#include "ref_internal.h"
#include "threadpool.h"

#define GEMM_MC 120 /* multiple of MR */
#define GEMM_NC 512 /* multiple of NR */
#define GEMM_NB 128 /* eb_ref_sgemm's B block width on the stack */
#define GEMM_SERIAL_MACS (256.0 * 1024) /* below this, eb_ref_gemm_packed stays on the caller */

int eb_ref_isa_supported(eb_ref_isa isa)
{
#if defined(__x86_64__)
    if (isa == EB_REF_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("fma");
    if (isa == EB_REF_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == EB_REF_ISA_PORTABLE;
}

const char *eb_ref_isa_name(eb_ref_isa isa)
{
    return isa == EB_REF_ISA_AVX512 ? "avx512" : isa == EB_REF_ISA_AVX2 ? "avx2" : "portable";
}

eb_ref_isa eb_ref_isa_pick(void)
{
    eb_ref_isa cap = EB_REF_ISA_AVX512;
    const char *env = getenv("EDGEBENCH_REF_ISA");
    if (env && strcmp(env, "portable") == 0)
        cap = EB_REF_ISA_PORTABLE;
    else if (env && strcmp(env, "avx2") == 0)
        cap = EB_REF_ISA_AVX2;
    for (int isa = cap; isa > EB_REF_ISA_PORTABLE; isa--)
        if (eb_ref_isa_supported((eb_ref_isa)isa))
            return (eb_ref_isa)isa;
    return EB_REF_ISA_PORTABLE;
}

eb_ref_ukernel_fn eb_ref_ukernel_for(eb_ref_isa isa, const char **name)
{
    const char *n = "c";
    eb_ref_ukernel_fn k = eb_ref_ukernel_c;
#if defined(__x86_64__)
    if (isa == EB_REF_ISA_AVX512)
        n = "avx512f", k = eb_ref_ukernel_avx512;
    else if (isa == EB_REF_ISA_AVX2)
        n = "avx2-fma", k = eb_ref_ukernel_avx2;
#else
    (void)isa;
#endif
    if (name)
        *name = n;
    return k;
}

int eb_ref_ukernel_nr(eb_ref_ukernel_fn k)
{
#if defined(__x86_64__)
    if (k == eb_ref_ukernel_avx512)
        return EB_REF_AVX512_SPAN * EB_REF_NR;
#else
    (void)k;
#endif
    return EB_REF_NR;
}

eb_ref_ukernel_fn eb_ref_ukernel_best(const char **name)
{
    return eb_ref_ukernel_for(eb_ref_isa_pick(), name);
}

static int64_t gemm_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* One block: mc x nc of C against one k block of packed A (mc rows from its panel start)
 * and packed B (nc columns from its panel start). */
static void gemm_block(eb_ref_ukernel_fn kern, int64_t mc, int64_t nc, int64_t kc,
                       const float *pa, const float *pb, float *c, int64_t ldc,
                       const eb_ref_tile *t0, const float *brow, const float *bcol)
{
    eb_ref_tile t = *t0;
    int64_t span = eb_ref_ukernel_nr(kern);
    for (int64_t j = 0; j < nc; j += span) {
        int nr = (int)gemm_min(span, nc - j);
        t.bcol = bcol ? bcol + j : NULL;
        for (int64_t i = 0; i < mc; i += EB_REF_MR) {
            int mr = (int)gemm_min(EB_REF_MR, mc - i);
            t.brow = brow ? brow + i : NULL;
            kern(kc, pa + i * kc, pb + j * kc, c + i * ldc + j, ldc, mr, nr, &t);
        }
    }
}

typedef struct gemm_job {
    int64_t M, N, K, Mp, Np, mc, nc, n_mb, n_nb;
    const float *pa, *pb;
    float *C;
    int64_t ldc;
    const eb_ref_epilogue *ep;
    eb_ref_ukernel_fn kern;
} gemm_job;

static void gemm_task(void *ctx, int64_t task, int thread)
{
    (void)thread;
    const gemm_job *g = ctx;
    const eb_ref_epilogue *ep = g->ep;
    int64_t i0 = task % g->n_mb * g->mc, j0 = task / g->n_mb * g->nc;
    int64_t mc = gemm_min(g->mc, g->M - i0), nc = gemm_min(g->nc, g->N - j0);
    for (int64_t k0 = 0; k0 < g->K; k0 += EB_REF_KC) {
        int64_t kc = gemm_min(EB_REF_KC, g->K - k0);
        eb_ref_tile t = {.alpha = ep->alpha, .load = ep->accumulate || k0 > 0,
                         .last = k0 + kc >= g->K, .act = ep->act, .lo = ep->lo, .hi = ep->hi};
        gemm_block(g->kern, mc, nc, kc, g->pa + k0 * g->Mp + i0 * kc,
                   g->pb + k0 * g->Np + j0 * kc, g->C + i0 * g->ldc + j0, g->ldc, &t,
                   ep->bias_row ? ep->bias_row + i0 : NULL,
                   ep->bias_col ? ep->bias_col + j0 : NULL);
    }
}

/* C = epilogue only (K == 0): no product to add. */
static void gemm_no_k(int64_t M, int64_t N, float *C, int64_t ldc, const eb_ref_epilogue *ep)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float v = ep->accumulate ? C[i * ldc + j] : 0.0f;
            if (ep->bias_row)
                v += ep->bias_row[i];
            if (ep->bias_col)
                v += ep->bias_col[j];
            if (ep->act == EB_REF_ACT_RELU)
                v = v > 0.0f ? v : 0.0f;
            else if (ep->act == EB_REF_ACT_CLIP)
                v = v < ep->lo ? ep->lo : v > ep->hi ? ep->hi : v;
            C[i * ldc + j] = v;
        }
}

void eb_ref_gemm_packed(int64_t M, int64_t N, int64_t K, const float *pa, const float *pb,
                        float *C, int64_t ldc, const eb_ref_epilogue *ep,
                        struct eb_ref_pool *pool)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        gemm_no_k(M, N, C, ldc, ep);
        return;
    }
    gemm_job g = {.M = M, .N = N, .K = K, .pa = pa, .pb = pb, .C = C, .ldc = ldc, .ep = ep,
                  .mc = GEMM_MC, .nc = GEMM_NC};
    g.Mp = (M + EB_REF_MR - 1) / EB_REF_MR * EB_REF_MR;
    g.Np = (N + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
    g.kern = ep->kernel ? ep->kernel : eb_ref_ukernel_best(NULL);
    /* Enough tiles that threads balance (4 per thread), shrinking NC first (a narrower C
     * tile costs nothing), then MC; one tile when single-threaded. */
    int threads = eb_ref_pool_threads(pool);
    /* A product this small (about 2 us on one core) is done before a sleeping worker would
     * even wake up: run it on the caller. */
    if ((double)M * (double)N * (double)K < GEMM_SERIAL_MACS)
        threads = 1;
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
    for (;;) {
        g.n_mb = (M + g.mc - 1) / g.mc;
        g.n_nb = (N + g.nc - 1) / g.nc;
        if (g.n_mb * g.n_nb >= want)
            break;
        if (g.nc > EB_REF_NR)
            g.nc = (g.nc / 2 + EB_REF_NR - 1) / EB_REF_NR * EB_REF_NR;
        else if (g.mc > EB_REF_MR)
            g.mc = (g.mc / 2 + EB_REF_MR - 1) / EB_REF_MR * EB_REF_MR;
        else
            break;
    }
    eb_ref_pool_run(threads > 1 ? pool : NULL, g.n_mb * g.n_nb, gemm_task, &g);
}

void eb_ref_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (beta != 0.0f && beta != 1.0f)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] *= beta;
    eb_ref_epilogue ep = {.alpha = alpha, .accumulate = beta != 0.0f};
    if (K <= 0 || alpha == 0.0f) {
        gemm_no_k(M, N, C, ldc, &ep);
        return;
    }
    eb_ref_ukernel_fn kern = eb_ref_ukernel_best(NULL);
    /* Blocks packed here, on the stack (120 KiB + 128 KiB): no scratch, no allocation. */
    float pa[GEMM_MC * EB_REF_KC] __attribute__((aligned(64)));
    float pb[EB_REF_KC * GEMM_NB] __attribute__((aligned(64)));
    for (int64_t k0 = 0; k0 < K; k0 += EB_REF_KC) {
        int64_t kc = gemm_min(EB_REF_KC, K - k0);
        eb_ref_tile t = {.alpha = alpha, .load = ep.accumulate || k0 > 0,
                         .last = k0 + kc >= K};
        for (int64_t i0 = 0; i0 < M; i0 += GEMM_MC) {
            int64_t mc = gemm_min(GEMM_MC, M - i0);
            /* A's rows [i0, i0+mc) and k block as an mc x kc matrix */
            const float *ab = trans_a ? A + k0 * lda + i0 : A + i0 * lda + k0;
            eb_ref_pack_a(trans_a, mc, kc, ab, lda, pa);
            for (int64_t j0 = 0; j0 < N; j0 += GEMM_NB) {
                int64_t nc = gemm_min(GEMM_NB, N - j0);
                const float *bb = trans_b ? B + j0 * ldb + k0 : B + k0 * ldb + j0;
                eb_ref_pack_b(trans_b, kc, nc, bb, ldb, pb);
                gemm_block(kern, mc, nc, kc, pa, pb, C + i0 * ldc + j0, ldc, &t, NULL, NULL);
            }
        }
    }
}

/* ---------------------------------------------------------------- the Gemm node */

int ref_gemm_prepare(ref_session *s, ref_node *nd, eb_err *err)
{
    const ref_attrs *at = &nd->a;
    ref_value *bv = &s->vals[nd->in[1]];
    if (bv->kind != REF_VAL_WEIGHT && bv->kind != REF_VAL_STATIC)
        return 0; /* B computed at run: exec.c's path */
    if (bv->dtype != EB_F32)
        return 0;
    int64_t n = nd->n, k = nd->k;
    const ref_value *cv = nd->n_in > 2 && nd->in[2] >= 0 ? &s->vals[nd->in[2]] : NULL;
    int c_static = cv && (cv->kind == REF_VAL_WEIGHT || cv->kind == REF_VAL_STATIC);
    if (cv && at->beta != 0.0f && !c_static)
        return 0; /* a C computed at run: rare, exec.c's path */
    ref_prep *p = calloc(1, sizeof *p);
    if (!p)
        return eb_errf(err, "out of memory packing Gemm weights");
    nd->prep = p;
    p->kind = REF_PREP_GEMM;
    p->packed = aligned_alloc(64, ((eb_ref_pack_b_floats(k, n) + 1) * sizeof(float) + 63) / 64 * 64);
    if (!p->packed)
        return eb_errf(err, "out of memory packing Gemm weights");
    eb_ref_pack_b(at->trans_b, k, n, bv->data, at->trans_b ? k : n, p->packed);
    /* shape.c's transposed copy is not needed any more */
    free(nd->wt);
    nd->wt = NULL;
    if (cv && at->beta != 0.0f) {
        const float *c = cv->data;
        if (nd->c_rows == 1 || nd->c_cols == 1) {
            /* a vector (or a scalar) C: a bias in the epilogue, beta folded in */
            int64_t len = nd->c_rows == 1 ? n : nd->m;
            p->bias_is_row = nd->c_rows != 1;
            p->bias = malloc((size_t)(len ? len : 1) * sizeof *p->bias);
            if (!p->bias)
                return eb_errf(err, "out of memory packing Gemm weights");
            int64_t clen = p->bias_is_row ? nd->c_rows : nd->c_cols;
            for (int64_t i = 0; i < len; i++)
                p->bias[i] = at->beta * c[clen == 1 ? 0 : i];
        } else {
            p->c_into_y = 1;
        }
    }
    p->scratch = eb_ref_pack_a_floats(nd->m, k);
    return 0;
}

void ref_gemm_exec(ref_session *s, const ref_node *nd)
{
    const ref_prep *p = nd->prep;
    const ref_attrs *at = &nd->a;
    int64_t m = nd->m, n = nd->n, k = nd->k;
    const float *a = s->vals[nd->in[0]].data;
    float *y = s->vals[nd->out[0]].data;
    if (p->c_into_y) {
        const float *c = s->vals[nd->in[2]].data;
        for (int64_t i = 0; i < m * n; i++)
            y[i] = at->beta * c[i];
    }
    eb_ref_epilogue ep = {.alpha = at->alpha, .accumulate = p->c_into_y,
                          .bias_row = p->bias_is_row ? p->bias : NULL,
                          .bias_col = p->bias_is_row ? NULL : p->bias, .act = p->act,
                          .lo = p->lo, .hi = p->hi, .kernel = s->kernel};
    if (m == 1) { /* batch 1: a GEMV, A read in place (transposed or not, it is contiguous) */
        eb_ref_gemv_packed(n, k, a, p->packed, y, &ep, s->isa, s->pool);
        return;
    }
    eb_ref_pack_a(at->trans_a, m, k, a, at->trans_a ? m : k, s->scratch);
    eb_ref_gemm_packed(m, n, k, s->scratch, p->packed, y, n, &ep, s->pool);
}

/* ---------------------------------------------------------------- MatMul, constant B */

int ref_matmul_prepare(ref_session *s, ref_node *nd, eb_err *err)
{
    const ref_value *bv = &s->vals[nd->in[1]];
    const ref_value *av = &s->vals[nd->in[0]];
    if (bv->kind != REF_VAL_WEIGHT && bv->kind != REF_VAL_STATIC)
        return 0;
    if (bv->dtype != EB_F32 || av->dtype != EB_F32 || !bv->data || bv->ndim != 2 ||
        nd->bc.ndim != 0)
        return 0; /* batched B: exec.c's path */
    ref_prep *p = calloc(1, sizeof *p);
    if (!p)
        return eb_errf(err, "out of memory packing MatMul weights");
    nd->prep = p;
    p->kind = REF_PREP_MATMUL;
    int64_t n = nd->n, k = nd->k;
    p->packed = aligned_alloc(64, ((eb_ref_pack_b_floats(k, n) + 1) * sizeof(float) + 63) / 64 * 64);
    if (!p->packed)
        return eb_errf(err, "out of memory packing MatMul weights");
    eb_ref_pack_b(0, k, n, bv->data, n, p->packed);
    p->scratch = eb_ref_pack_a_floats(nd->m, k);
    return 0;
}

void ref_matmul_exec(ref_session *s, const ref_node *nd)
{
    const ref_prep *p = nd->prep;
    int64_t m = nd->m, n = nd->n, k = nd->k;
    eb_ref_epilogue ep = {.alpha = 1.0f, .bias_col = p->bias, .act = p->act, .lo = p->lo,
                          .hi = p->hi, .kernel = s->kernel};
    if (m == 1) {
        eb_ref_gemv_packed(n, k, s->vals[nd->in[0]].data, p->packed, s->vals[nd->out[0]].data,
                           &ep, s->isa, s->pool);
        return;
    }
    eb_ref_pack_a(0, m, k, s->vals[nd->in[0]].data, k, s->scratch);
    eb_ref_gemm_packed(m, n, k, s->scratch, p->packed, s->vals[nd->out[0]].data, n, &ep,
                       s->pool);
}
