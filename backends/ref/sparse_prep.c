/* Sparse kernels (issue 4): pruned models keep their zeros in dense tensors, so at open every
 * Gemm, MatMul (constant 2-D B) and 1x1 Conv (stride 1, no padding, one group) whose
 * constant weight has at least `sparse_threshold` zeros (option; default 0.9, above 1 turns
 * it off; measured on the Fashion-MNIST MLP at batch 1, the CSR kernels beat the packed dense
 * GEMM only past about 90% zeros) is converted to CSR over its outputs (row o: the nonzero weights w(o, k) and their
 * k) and runs here instead of on the packed dense GEMM:
 *
 *   1x1 Conv         Y[o, p] = b[o] + sum w(o,k) X[k, p]     vectorized over the pixels p
 *   Gemm/MatMul      8 rows or more: X transposed once, then the same over the rows;
 *                    fewer: per row, sum w(o,k) x[k] with AVX2 gathers of x
 *
 * so the work is proportional to the nonzeros.  The node's op_type becomes "Gemm[sparse]"
 * (profiles show it) and ref_sparse_nodes() counts them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

enum { SP_ROWS = 1, SP_CONV1 };

typedef struct sp_plan {
    int kind;
    int64_t O, K;      /* outputs, reduction length */
    int64_t rows;      /* SP_ROWS: rows of X; SP_CONV1: images */
    int64_t P;         /* SP_CONV1: pixels per image */
    int32_t *rowptr;   /* [O + 1] */
    int32_t *col;      /* [nnz] */
    float *val;        /* [nnz] */
    float *bias;       /* [O], zeros when none */
    int avx2;
    /* SP_ROWS under 8 rows on AVX-512: the weights as "permute tiles" (sp_tile_build) */
    int tiles;
    int64_t nt;        /* input tiles of SP_T columns */
    int32_t *steps;    /* [groups * nt]: steps of each (16-output group, tile) */
    uint8_t *tidx;     /* [total steps][16]: column within the tile, per output lane */
    float *tval;       /* [total steps][16]: its weight (0 for padding) */
} sp_plan;

/* Columns per permute tile: two zmm of x, indexed by vpermt2ps's five bits. */
#define SP_T 32
#define SP_G 16

static void sp_free(void *p)
{
    sp_plan *q = p;
    if (q)
        free(q->rowptr), free(q->col), free(q->val), free(q->bias), free(q->steps),
            free(q->tidx), free(q->tval);
    free(q);
}

static double sp_threshold(const eb_config *c)
{
    const char *v = NULL;
    for (size_t i = 0; c && c->options && i < c->n_options; i++)
        if (c->options[i].key && strcmp(c->options[i].key, "sparse_threshold") == 0)
            v = c->options[i].value;
    if (!v)
        return 0.9;
    char *end;
    double t = strtod(v, &end);
    return end != v ? t : 0.9;
}

static int sp_static_f32(const ref_value *v)
{
    return (v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC) && v->data &&
           v->dtype == EB_F32;
}

/* Weight element (o, k) of node nd's constant operand, as the node multiplies it. */
typedef struct sp_src {
    const float *w;
    int64_t so, sk; /* strides of o and k */
    float scale;
} sp_src;

/* Batch-1 layout for AVX-512 (sliced ELL over permute tiles): outputs in groups of SP_G (one
 * zmm lane each), inputs in tiles of SP_T columns (two zmm of x).  For group g and tile t,
 * step s holds, per lane, the s-th nonzero of that output within the tile (its column in the
 * tile and its weight; weight 0 past the output's last one).  The kernel then needs no gather
 * and no horizontal sum: per step one vpermt2ps picks each lane's x from registers, one FMA.
 * Unstructured 95% pruning gives about 0.05 * 32 = 1.6 nonzeros per output and tile; the steps
 * pad to the group's most (measured on 256x784: 1600 steps for 10K nonzeros, 4x fewer
 * instructions than gathering them, no reduction per output).  Built from the CSR. */
static int sp_tile_build(sp_plan *p)
{
    int64_t G = (p->O + SP_G - 1) / SP_G;
    p->nt = (p->K + SP_T - 1) / SP_T;
    p->steps = calloc((size_t)(G * p->nt) + 1, sizeof *p->steps);
    int32_t *cur = malloc((size_t)(p->O + 1) * sizeof *cur); /* CSR cursor per output */
    if (!p->steps || !cur) {
        free(cur);
        return -1;
    }
    size_t total = 0;
    for (int64_t o = 0; o < p->O; o++)
        cur[o] = p->rowptr[o];
    /* first pass: steps per (group, tile); the CSR holds each row's columns in order */
    for (int64_t g = 0; g < G; g++)
        for (int64_t t = 0; t < p->nt; t++) {
            int32_t most = 0;
            for (int64_t o = g * SP_G; o < (g + 1) * SP_G && o < p->O; o++) {
                int32_t n = 0;
                while (cur[o] < p->rowptr[o + 1] && p->col[cur[o]] < (t + 1) * SP_T) {
                    n += p->val[cur[o]] != 0.0f; /* the gather padding is not a weight */
                    cur[o]++;
                }
                most = n > most ? n : most;
            }
            p->steps[g * p->nt + t] = most;
            total += (size_t)most;
        }
    p->tidx = calloc(total * SP_G + 1, 1);
    p->tval = calloc(total * SP_G + 1, sizeof *p->tval);
    if (!p->tidx || !p->tval) {
        free(cur);
        return -1;
    }
    for (int64_t o = 0; o < p->O; o++)
        cur[o] = p->rowptr[o];
    size_t at = 0;
    for (int64_t g = 0; g < G; g++)
        for (int64_t t = 0; t < p->nt; t++) {
            for (int64_t o = g * SP_G; o < (g + 1) * SP_G && o < p->O; o++) {
                size_t st = at;
                while (cur[o] < p->rowptr[o + 1] && p->col[cur[o]] < (t + 1) * SP_T) {
                    if (p->val[cur[o]] != 0.0f) {
                        p->tidx[st * SP_G + (size_t)(o - g * SP_G)] =
                            (uint8_t)(p->col[cur[o]] - t * SP_T);
                        p->tval[st * SP_G + (size_t)(o - g * SP_G)] = p->val[cur[o]];
                        st++;
                    }
                    cur[o]++;
                }
            }
            at += (size_t)p->steps[g * p->nt + t];
        }
    free(cur);
    p->tiles = 1;
    return 0;
}

static int sp_try(ref_session *s, ref_node *nd, double thr, eb_err *err)
{
    if (nd->n_in < 2 || nd->in[1] < 0 || nd->out[0] < 0)
        return 0;
    const ref_value *wv = &s->vals[nd->in[1]], *xv = &s->vals[nd->in[0]];
    const ref_value *bv = nd->n_in > 2 && nd->in[2] >= 0 ? &s->vals[nd->in[2]] : NULL;
    if (!sp_static_f32(wv) || xv->dtype != EB_F32 || (bv && !sp_static_f32(bv)))
        return 0;
    sp_src src = {wv->data, 0, 0, 1.0f};
    float bscale = 1.0f;
    sp_plan pl = {0};
    if (nd->op == REF_OP_CONV) {
        const eb_ref_conv2d *c = &nd->conv;
        if (c->group != 1 || c->kh != 1 || c->kw != 1 || c->sh != 1 || c->sw != 1 || c->pt ||
            c->pl || c->pb || c->pr)
            return 0;
        pl.kind = SP_CONV1, pl.O = c->m, pl.K = c->c, pl.rows = c->n, pl.P = c->h * c->w;
        src.so = c->c, src.sk = 1;
    } else if (nd->op == REF_OP_GEMM) {
        if (nd->a.trans_a)
            return 0;
        pl.kind = SP_ROWS, pl.O = nd->n, pl.K = nd->k, pl.rows = nd->m;
        src.so = nd->a.trans_b ? nd->k : 1, src.sk = nd->a.trans_b ? 1 : nd->n;
        src.scale = nd->a.alpha;
        bscale = nd->a.beta;
        if (bv && bv->numel != 1 && !(bv->numel == (size_t)nd->n &&
                                      (bv->ndim == 1 || (bv->ndim == 2 && bv->shape[0] == 1))))
            return 0;
    } else { /* MatMul with a constant 2-D B */
        if (wv->ndim != 2 || xv->ndim < 2 || nd->n_in != 2)
            return 0;
        pl.kind = SP_ROWS, pl.O = nd->n, pl.K = nd->k, pl.rows = (int64_t)xv->numel / nd->k;
        src.so = 1, src.sk = nd->n;
    }
    if ((int64_t)wv->numel != pl.O * pl.K || pl.O * pl.K == 0 || pl.O * pl.K > INT32_MAX)
        return 0;
    int64_t nnz = 0;
    for (size_t i = 0; i < wv->numel; i++)
        nnz += ((const float *)wv->data)[i] != 0.0f;
    if (1.0 - (double)nnz / (double)wv->numel < thr)
        return 0;
    sp_plan *p = malloc(sizeof *p);
    if (!p)
        return eb_errf(err, "out of memory preparing sparse kernels");
    *p = pl;
    p->rowptr = malloc((size_t)(pl.O + 1) * sizeof *p->rowptr);
    /* the gather kernel (fewer than 8 rows) takes rows padded to a multiple of 8 entries
     * (weight 0 at column 0): no scalar tail per output */
    int pad = pl.kind == SP_ROWS && pl.rows < 8 ? 8 : 1;
    size_t cap = (size_t)nnz + (size_t)pl.O * (size_t)(pad - 1) + 1;
    p->col = malloc(cap * sizeof *p->col);
    p->val = malloc(cap * sizeof *p->val);
    p->bias = calloc((size_t)pl.O, sizeof *p->bias);
    ref_prep *pr = calloc(1, sizeof *pr);
    char *name = malloc(strlen(nd->op_type) + 10);
    if (!p->rowptr || !p->col || !p->val || !p->bias || !pr || !name) {
        sp_free(p), free(pr), free(name);
        return eb_errf(err, "out of memory preparing sparse kernels");
    }
    int32_t at = 0;
    for (int64_t o = 0; o < pl.O; o++) {
        p->rowptr[o] = at;
        for (int64_t k = 0; k < pl.K; k++) {
            float w = src.w[o * src.so + k * src.sk];
            if (w != 0.0f) {
                p->col[at] = (int32_t)k;
                p->val[at++] = w * src.scale;
            }
        }
        while ((at - p->rowptr[o]) % pad) {
            p->col[at] = 0;
            p->val[at++] = 0.0f;
        }
        if (bv)
            p->bias[o] = ((const float *)bv->data)[bv->numel == 1 ? 0 : o] * bscale;
    }
    p->rowptr[pl.O] = at;
#if defined(__x86_64__)
    __builtin_cpu_init();
    p->avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    if (pl.kind == SP_ROWS && pl.rows < 8 && eb_ref_isa_pick() == EB_REF_ISA_AVX512) {
        if (sp_tile_build(p) != 0) {
            sp_free(p), free(pr), free(name);
            return eb_errf(err, "out of memory preparing sparse kernels");
        }
        pr->scratch = (size_t)(p->nt * SP_T) + 32; /* x padded to whole tiles, aligned */
    }
    pr->kind = REF_PREP_SPARSE;
    pr->ext = p;
    pr->ext_free = sp_free;
    if (pl.kind == SP_ROWS && pl.rows >= 8)
        pr->scratch = (size_t)(pl.K * pl.rows + pl.rows) + 16;
    nd->prep = pr;
    sprintf(name, "%s[sparse]", nd->op_type);
    free(nd->op_type);
    nd->op_type = name;
    return 1;
}

int ref_sparse_prepare(ref_session *s, const eb_config *config, eb_err *err)
{
    double thr = sp_threshold(config);
    if (thr > 1.0 || thr != thr)
        return 0;
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep ||
            (nd->op != REF_OP_CONV && nd->op != REF_OP_GEMM && nd->op != REF_OP_MATMUL))
            continue;
        if (sp_try(s, nd, thr, err) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- kernels */

/* y[0..n) += w * x[0..n) */
static void sp_axpy_c(int64_t n, float w, const float *x, float *y)
{
    for (int64_t j = 0; j < n; j++)
        y[j] += w * x[j];
}

/* sum_i val[i] * x[col[i]] for i in [a, b) */
static float sp_dot_c(const float *val, const int32_t *col, int32_t a, int32_t b, const float *x)
{
    float s = 0.0f;
    for (int32_t i = a; i < b; i++)
        s += val[i] * x[col[i]];
    return s;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define SP_AVX2 __attribute__((target("avx2,fma")))

static SP_AVX2 void sp_axpy_avx2(int64_t n, float w, const float *x, float *y)
{
    __m256 vw = _mm256_set1_ps(w);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        _mm256_storeu_ps(y + j, _mm256_fmadd_ps(vw, _mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
        _mm256_storeu_ps(y + j + 8, _mm256_fmadd_ps(vw, _mm256_loadu_ps(x + j + 8),
                                                    _mm256_loadu_ps(y + j + 8)));
    }
    for (; j < n; j++)
        y[j] += w * x[j];
}

static SP_AVX2 float sp_dot_avx2(const float *val, const int32_t *col, int32_t a, int32_t b,
                                 const float *x)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int32_t i = a;
    for (; i + 16 <= b; i += 16) {
        __m256i i0 = _mm256_loadu_si256((const __m256i *)(col + i));
        __m256i i1 = _mm256_loadu_si256((const __m256i *)(col + i + 8));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + i), _mm256_i32gather_ps(x, i0, 4), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(val + i + 8), _mm256_i32gather_ps(x, i1, 4),
                               acc1);
    }
    for (; i + 8 <= b; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + i),
                               _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i *)(col + i)), 4),
                               acc0);
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float s = _mm_cvtss_f32(h);
    for (; i < b; i++)
        s += val[i] * x[col[i]];
    return s;
}
#endif

#if defined(__x86_64__)
/* y[0..O) = bias + W x on the permute tiles (sp_tile_build); xp is x padded with zeros to
 * nt * SP_T floats, 64-byte aligned.  Activation applied by the caller. */
static __attribute__((target("avx512f"))) void sp_tiles_avx512(const sp_plan *p, const float *xp,
                                                                float *y)
{
    const uint8_t *ib = p->tidx;
    const float *vb = p->tval;
    const int32_t *steps = p->steps;
    for (int64_t o0 = 0; o0 < p->O; o0 += SP_G) {
        __mmask16 m = (__mmask16)(p->O - o0 >= SP_G ? 0xffff : (1u << (p->O - o0)) - 1);
        __m512 a0 = _mm512_maskz_loadu_ps(m, p->bias + o0), a1 = _mm512_setzero_ps();
        for (int64_t t = 0; t < p->nt; t++) {
            __m512 xa = _mm512_load_ps(xp + t * SP_T), xb = _mm512_load_ps(xp + t * SP_T + 16);
            int32_t L = *steps++, s = 0;
            for (; s + 2 <= L; s += 2, ib += 2 * SP_G, vb += 2 * SP_G) { /* two FMA chains */
                __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)ib));
                __m512i i1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ib + SP_G)));
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(vb), _mm512_permutex2var_ps(xa, i0, xb), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(vb + SP_G),
                                     _mm512_permutex2var_ps(xa, i1, xb), a1);
            }
            if (s < L) {
                __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)ib));
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(vb), _mm512_permutex2var_ps(xa, i0, xb), a0);
                ib += SP_G, vb += SP_G;
            }
        }
        _mm512_mask_storeu_ps(y + o0, m, _mm512_add_ps(a0, a1));
    }
}
#endif

static void sp_axpy(const sp_plan *p, int64_t n, float w, const float *x, float *y)
{
#if defined(__x86_64__)
    if (p->avx2) {
        sp_axpy_avx2(n, w, x, y);
        return;
    }
#endif
    sp_axpy_c(n, w, x, y);
}

static float sp_dot(const sp_plan *p, int32_t a, int32_t b, const float *x)
{
#if defined(__x86_64__)
    if (p->avx2)
        return sp_dot_avx2(p->val, p->col, a, b, x);
#endif
    return sp_dot_c(p->val, p->col, a, b, x);
}

static float sp_act(const ref_prep *pr, float v)
{
    if (pr->act == EB_REF_ACT_RELU)
        return v > 0.0f ? v : 0.0f;
    if (pr->act == EB_REF_ACT_CLIP)
        return v < pr->lo ? pr->lo : v > pr->hi ? pr->hi : v;
    return v;
}

/* Y[o, 0..n) = act(b[o] + sum w(o,k) X[k, 0..n)), X rows ldx apart, Y rows ldy apart. */
static void sp_spmm(const sp_plan *p, const ref_prep *pr, int64_t n, const float *X, int64_t ldx,
                    float *Y, int64_t ldy)
{
    for (int64_t o = 0; o < p->O; o++) {
        float *y = Y + o * ldy;
        for (int64_t j = 0; j < n; j++)
            y[j] = p->bias[o];
        for (int32_t i = p->rowptr[o]; i < p->rowptr[o + 1]; i++)
            sp_axpy(p, n, p->val[i], X + (int64_t)p->col[i] * ldx, y);
        if (pr->act != EB_REF_ACT_NONE)
            for (int64_t j = 0; j < n; j++)
                y[j] = sp_act(pr, y[j]);
    }
}

void ref_sparse_exec(ref_session *s, const ref_node *nd)
{
    const ref_prep *pr = nd->prep;
    const sp_plan *p = pr->ext;
    const float *x = s->vals[nd->in[0]].data;
    float *y = s->vals[nd->out[0]].data;
    if (p->kind == SP_CONV1) {
        for (int64_t n = 0; n < p->rows; n++)
            sp_spmm(p, pr, p->P, x + n * p->K * p->P, p->P, y + n * p->O * p->P, p->P);
        return;
    }
    if (p->rows >= 8) { /* transpose X, run over the rows, write Y transposed back */
        float *xt = s->scratch, *acc = xt + p->K * p->rows;
        for (int64_t r = 0; r < p->rows; r++)
            for (int64_t k = 0; k < p->K; k++)
                xt[k * p->rows + r] = x[r * p->K + k];
        for (int64_t o = 0; o < p->O; o++) {
            for (int64_t r = 0; r < p->rows; r++)
                acc[r] = p->bias[o];
            for (int32_t i = p->rowptr[o]; i < p->rowptr[o + 1]; i++)
                sp_axpy(p, p->rows, p->val[i], xt + (int64_t)p->col[i] * p->rows, acc);
            for (int64_t r = 0; r < p->rows; r++)
                y[r * p->O + o] = sp_act(pr, acc[r]);
        }
        return;
    }
#if defined(__x86_64__)
    if (p->tiles) {
        float *xp = (float *)s->scratch;
        xp += (16 - (uintptr_t)xp / sizeof(float) % 16) % 16; /* 64-byte aligned */
        memset(xp + p->K, 0, (size_t)(p->nt * SP_T - p->K) * sizeof *xp);
        for (int64_t r = 0; r < p->rows; r++) {
            float *yr = y + r * p->O;
            memcpy(xp, x + r * p->K, (size_t)p->K * sizeof *xp);
            sp_tiles_avx512(p, xp, yr);
            if (pr->act != EB_REF_ACT_NONE)
                for (int64_t o = 0; o < p->O; o++)
                    yr[o] = sp_act(pr, yr[o]);
        }
        return;
    }
#endif
    for (int64_t r = 0; r < p->rows; r++) {
        const float *xr = x + r * p->K;
        float *yr = y + r * p->O;
        for (int64_t o = 0; o < p->O; o++)
            yr[o] = sp_act(pr, p->bias[o] + sp_dot(p, p->rowptr[o], p->rowptr[o + 1], xr));
    }
}

int ref_sparse_nodes(const ref_session *s)
{
    int n = 0;
    for (int i = 0; i < s->n_nodes; i++)
        n += s->nodes[i].prep && s->nodes[i].prep->kind == REF_PREP_SPARSE;
    return n;
}
