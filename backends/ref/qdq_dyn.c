/* Dynamic quantization (issue 4).  PyTorch's quantize_dynamic and ONNX Runtime's
 * quantize_dynamic export a Linear layer as
 *
 *   DynamicQuantizeLinear(x) -> (x_q, s_x, z_x)
 *   MatMulInteger(x_q, W [K, N] constant int8/uint8, z_x, z_w) -> Cast(float)
 *     -> Mul by s_x * s_w (a Mul by Mul(s_x, s_w), or two Muls in either order)
 *     -> [Add bias] -> [Relu]
 *
 * Node by node, ref quantizes into int64 tensors, runs MatMulInteger as int64 loops and walks
 * four float tensors: 25x the float MLP's time.  At open this file turns each such chain into
 * one node (op_type "MatMulInteger[dyn]") that, per run,
 *
 *   1. finds min/max of x (0 included) and quantizes x to bytes exactly as
 *      DynamicQuantizeLinear does: s_x = (max - min) / 255, z_x = rint(-min / s_x) saturated,
 *      q = saturate(rint(x / s_x) + z_x) to [0, 255], rounding half to even, in float32 with
 *      a true division (a reciprocal would round differently);
 *   2. runs the exact uint8 x int8 product on gemm_s8.c's kernels (matrix-vector for one row,
 *      GEMM otherwise) on weights packed at open as w' = W - z_w per column, so only the
 *      activation's zero point is left, a correction by each column's sum:
 *        acc[r, n] = sum_k (q - z_x)(W - z_w) = sum_k q w'[n, k] - z_x * sum_k w'[n, k];
 *   3. applies the graph's float operations in the graph's order — (float)acc * (s_x *
 *      s_w[n]), ((float)acc * s_x) * s_w[n] or ((float)acc * s_w[n]) * s_x as the Muls were
 *      written, + bias[n], then max(., 0) for a Relu — so the node's output equals the
 *      unfused graph's bit for bit (absent bias: -0.0f, which adds nothing, not even to -0).
 *
 * DynamicQuantizeLinear quantizes the whole tensor with one scale (not each row), so the
 * fused node does too.  A chain that does not fit (w' outside int8, K above 32768 where the
 * int32 sums could overflow, a Mul or Add that broadcasts beyond [N], intermediate results
 * read elsewhere) is left to the operators; a DynamicQuantizeLinear whose outputs are still
 * read after fusion keeps running for those readers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_s8.h"
#include "qdq_dyn.h"
#include "threadpool.h"

#define QD_ALIGN 64
#define QD_MAX_K 32768 /* K * 255 * 256 < 2^31: no int32 sum or correction overflows */

enum { QD_PRODUCT = 0, QD_X_THEN_W, QD_W_THEN_X }; /* how the graph multiplies the scales */

typedef struct qd_plan {
    int64_t K, M;        /* reduction; output features (MatMulInteger's N) */
    int64_t rows;        /* rows of x (every batch axis flattened) */
    int8_t *pa;          /* w' packed: eb_ref_qpack_v panels (rows == 1), else qpack_a */
    int32_t *wsum;       /* [M]: sum_k w' */
    float *ws;           /* [M]: the weight scale per column (repeated when per tensor) */
    float *bias;         /* [M]: the Add's bias, or -0.0f */
    int form;            /* QD_* */
    int relu;
    int use_zx;          /* MatMulInteger was given z_x (else it multiplies q as is) */
    eb_ref_qgemv_fn gemv;
    eb_ref_qkernel_fn kernel;
    int avx2;            /* quantize and dequantize with AVX2 */
    size_t off_q, off_pb, off_c, total; /* scratch layout, bytes */
} qd_plan;

static void qd_free(void *ext)
{
    qd_plan *p = ext;
    if (p)
        free(p->pa), free(p->wsum), free(p->ws), free(p->bias);
    free(p);
}

int ref_qdq_dyn_is(const ref_node *nd)
{
    return nd->prep && nd->prep->kind == REF_PREP_QDQ && nd->prep->ext_free == qd_free;
}

static size_t qd_up(size_t n)
{
    return (n + QD_ALIGN - 1) / QD_ALIGN * QD_ALIGN;
}

/* The only node reading v when it is op `op` (and v is no graph output), else NULL. */
static ref_node *qd_sole(ref_session *s, const int *uses, const int *reader, int v, ref_op op)
{
    if (v < 0 || uses[v] != 1 || s->vals[v].is_output)
        return NULL;
    ref_node *r = &s->nodes[reader[v]];
    return r->op == op && !r->folded && !r->prep ? r : NULL;
}

/* A binary node's operand other than v (-1 when both are v or it has not two inputs). */
static int qd_other(const ref_node *nd, int v)
{
    if (nd->n_in != 2 || nd->in[0] < 0 || nd->in[1] < 0 || (nd->in[0] == v) == (nd->in[1] == v))
        return -1;
    return nd->in[0] == v ? nd->in[1] : nd->in[0];
}

/* A constant float that broadcasts along the last axis of an [..., N] result without
 * growing it: one element, or N elements shaped [1, ..., 1, N]. */
static int qd_colvec(const ref_session *s, int v, int64_t N, int max_ndim)
{
    if (v < 0)
        return 0;
    const ref_value *c = &s->vals[v];
    if (!ref_value_known(c) || c->dtype != EB_F32 || c->ndim > max_ndim)
        return 0;
    if (c->numel == 1)
        return 1;
    if ((int64_t)c->numel != N || c->ndim < 1 || c->shape[c->ndim - 1] != N)
        return 0;
    return 1;
}

static int qd_same_shape(const ref_value *a, const ref_value *b)
{
    if (a->ndim != b->ndim || a->numel != b->numel)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

static void qd_retire(ref_session *s, ref_node *nd)
{
    for (int j = 0; j < nd->n_out; j++) {
        int v = nd->out[j];
        if (v < 0)
            continue;
        s->vals[v].producer = -1;
        s->vals[v].kind = REF_VAL_STATIC;
        s->vals[v].data = NULL;
    }
    nd->fused = nd->folded = 1;
}

/* Tries MatMulInteger node i; 1 when fused, 0 when left alone, -1 out of memory. */
static int qd_try(ref_session *s, int i, int *uses, int *reader, eb_err *err)
{
    ref_node *mm = &s->nodes[i];
    if (mm->n_in < 2 || mm->in[0] < 0 || mm->in[1] < 0 || mm->n_out != 1 || mm->out[0] < 0)
        return 0;
    int pd = s->vals[mm->in[0]].producer;
    ref_node *dq = pd >= 0 ? &s->nodes[pd] : NULL;
    if (!dq || dq->op != REF_OP_DYNAMICQUANTIZELINEAR || dq->folded || dq->n_in != 1 ||
        dq->in[0] < 0 || dq->n_out < 2 || dq->out[0] != mm->in[0] || dq->out[1] < 0 ||
        s->vals[dq->in[0]].dtype != EB_F32)
        return 0;
    int xs = dq->out[1], xz = dq->n_out > 2 ? dq->out[2] : -1;
    int use_zx = mm->n_in > 2 && mm->in[2] >= 0;
    if (use_zx && (xz < 0 || mm->in[2] != xz))
        return 0;
    /* weights [K, N] and their zero point (one, or one per column) */
    const ref_value *wv = &s->vals[mm->in[1]];
    const ref_value *zv = mm->n_in > 3 && mm->in[3] >= 0 ? &s->vals[mm->in[3]] : NULL;
    if (!ref_value_known(wv) || wv->dtype != EB_I64 || wv->ndim != 2 ||
        (zv && (!ref_value_known(zv) || zv->dtype != EB_I64 ||
                (zv->numel != 1 && (int64_t)zv->numel != wv->shape[1]))))
        return 0;
    int64_t K = wv->shape[0], M = wv->shape[1];
    const ref_value *xv = &s->vals[dq->in[0]], *y0 = &s->vals[mm->out[0]];
    if (K < 1 || M < 1 || K > QD_MAX_K || mm->k != K || mm->n != M || xv->numel % (size_t)K ||
        y0->numel != xv->numel / (size_t)K * (size_t)M)
        return 0;

    /* Cast(float) -> Mul ... */
    ref_node *cast = qd_sole(s, uses, reader, mm->out[0], REF_OP_CAST);
    if (!cast || cast->a.to != 1 || cast->n_out != 1)
        return 0;
    int v = cast->out[0];
    ref_node *m1 = qd_sole(s, uses, reader, v, REF_OP_MUL), *m2 = NULL, *ps = NULL;
    if (!m1 || m1->n_out != 1)
        return 0;
    int o1 = qd_other(m1, v), ws_v = -1, form;
    int max_nd = y0->ndim;
    if (o1 < 0)
        return 0;
    if (o1 == xs || qd_colvec(s, o1, M, max_nd)) { /* two Muls: by s_x and by s_w */
        m2 = qd_sole(s, uses, reader, m1->out[0], REF_OP_MUL);
        int o2 = m2 && m2->n_out == 1 ? qd_other(m2, m1->out[0]) : -1;
        if (o1 == xs && qd_colvec(s, o2, M, max_nd))
            form = QD_X_THEN_W, ws_v = o2;
        else if (o1 != xs && o2 == xs)
            form = QD_W_THEN_X, ws_v = o1;
        else
            return 0;
        v = m2->out[0];
    } else { /* one Mul by Mul(s_x, s_w) */
        int pp = s->vals[o1].producer;
        ps = pp >= 0 ? &s->nodes[pp] : NULL;
        if (!ps || ps->op != REF_OP_MUL || ps->folded || ps->prep || ps->n_out != 1)
            return 0;
        ws_v = qd_other(ps, xs);
        if (!qd_colvec(s, ws_v, M, max_nd))
            return 0;
        form = QD_PRODUCT;
        v = m1->out[0];
    }
    /* [Add bias] -> [Relu] */
    ref_node *add = qd_sole(s, uses, reader, v, REF_OP_ADD), *relu = NULL;
    int bias_v = -1;
    if (add) {
        bias_v = qd_other(add, v);
        if (add->n_out != 1 || !qd_colvec(s, bias_v, M, max_nd))
            add = NULL;
        else
            v = add->out[0];
    }
    relu = qd_sole(s, uses, reader, v, REF_OP_RELU);
    if (relu && relu->n_out == 1)
        v = relu->out[0];
    else
        relu = NULL;
    /* every float result of the chain has MatMulInteger's shape (nothing broadcast wider) */
    ref_node *chain[] = {cast, m1, m2, add, relu};
    for (size_t c = 0; c < sizeof chain / sizeof chain[0]; c++)
        if (chain[c] && (s->vals[chain[c]->out[0]].dtype != EB_F32 ||
                         !qd_same_shape(&s->vals[chain[c]->out[0]], y0)))
            return 0;

    /* the plan: w' = W - z_w, transposed to [M, K] rows, packed */
    qd_plan *p = calloc(1, sizeof *p);
    int8_t *w = malloc((size_t)(M * K));
    if (!p || !w) {
        free(p), free(w);
        return eb_errf(err, "out of memory fusing a dynamically quantized MatMulInteger");
    }
    p->K = K, p->M = M, p->rows = (int64_t)(xv->numel / (size_t)K);
    p->form = form, p->relu = relu != NULL, p->use_zx = use_zx;
    p->wsum = malloc((size_t)M * sizeof *p->wsum);
    p->ws = malloc((size_t)M * sizeof *p->ws);
    p->bias = malloc((size_t)M * sizeof *p->bias);
    if (p->rows == 1)
        p->gemv = eb_ref_qgemv_best(NULL);
    else
        p->kernel = eb_ref_qkernel_best(NULL);
    size_t pa_bytes = p->gemv ? eb_ref_qpack_v_bytes(M, K) : eb_ref_qpack_a_bytes(M, K);
    p->pa = malloc(pa_bytes);
    if (!p->wsum || !p->ws || !p->bias || !p->pa) {
        free(w);
        qd_free(p);
        return eb_errf(err, "out of memory fusing a dynamically quantized MatMulInteger");
    }
    const int64_t *wd = wv->data, *zd = zv ? zv->data : NULL;
    const ref_value *wsv = &s->vals[ws_v], *bv = bias_v >= 0 ? &s->vals[bias_v] : NULL;
    for (int64_t n = 0; n < M; n++) {
        int64_t z = zd ? zd[zv->numel > 1 ? n : 0] : 0, sum = 0;
        for (int64_t k = 0; k < K; k++) {
            int64_t q = wd[k * M + n] - z;
            if (q < -128 || q > 127) {
                free(w);
                qd_free(p);
                return 0;
            }
            w[n * K + k] = (int8_t)q;
            sum += q;
        }
        p->wsum[n] = (int32_t)sum;
        p->ws[n] = ((const float *)wsv->data)[wsv->numel > 1 ? n : 0];
        p->bias[n] = bv ? ((const float *)bv->data)[bv->numel > 1 ? n : 0] : -0.0f;
    }
    if (p->gemv)
        eb_ref_qpack_v(M, K, w, K, p->pa);
    else
        eb_ref_qpack_a(M, K, w, K, p->pa);
    free(w);
#if defined(__x86_64__)
    __builtin_cpu_init();
    p->avx2 = eb_ref_isa_pick() != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2");
#endif
    /* scratch: x's bytes (a whole group of four past K for the matrix-vector kernel), packed
     * B, int32 C [M, rows] */
    int64_t k4 = (K + 3) / 4;
    p->off_q = 0;
    p->off_pb = qd_up((size_t)(p->rows * K > k4 * 4 ? p->rows * K : k4 * 4) + 32);
    p->off_c = p->off_pb + (p->gemv ? 0 : qd_up(eb_ref_qpack_b_bytes(K, p->rows)));
    p->total = p->off_c + qd_up((size_t)((M + EB_REF_QVR) * p->rows) * sizeof(int32_t));

    ref_prep *pr = calloc(1, sizeof *pr);
    char *name = malloc(strlen(mm->op_type) + 8);
    if (!pr || !name) {
        free(pr), free(name);
        qd_free(p);
        return eb_errf(err, "out of memory fusing a dynamically quantized MatMulInteger");
    }
    pr->kind = REF_PREP_QDQ;
    pr->ext = p;
    pr->ext_free = qd_free;
    pr->scratch = (p->total + sizeof(float) - 1) / sizeof(float) + QD_ALIGN;
    mm->prep = pr;
    sprintf(name, "%s[dyn]", mm->op_type);
    free(mm->op_type);
    mm->op_type = name;
    /* rewire: read x, write the chain's last output; the chain's nodes never run */
    mm->in[0] = dq->in[0];
    if (mm->n_in > 2)
        mm->in[2] = -1;
    /* every value the chain made before its last one leaves the arena; the last one (maybe
     * a graph output) is now this node's */
    ref_node *gone[] = {cast, m1, m2, add, relu};
    int y = mm->out[0];
    s->vals[y].producer = -1, s->vals[y].kind = REF_VAL_STATIC, s->vals[y].data = NULL;
    for (size_t c = 0; c < sizeof gone / sizeof gone[0]; c++)
        if (gone[c]) {
            if (gone[c]->out[0] != v)
                qd_retire(s, gone[c]);
            gone[c]->fused = gone[c]->folded = 1;
        }
    mm->out[0] = v;
    s->vals[v].producer = i;
    ref_graph_count_readers(s, uses, reader);
    /* the scale product, when only this chain read it */
    if (ps && uses[ps->out[0]] == 0)
        qd_retire(s, ps);
    return 1;
}

int ref_qdq_dyn_fuse(ref_session *s, eb_err *err)
{
    int *uses = calloc((size_t)s->n_vals + 1, sizeof *uses);
    int *reader = calloc((size_t)s->n_vals + 1, sizeof *reader);
    int rc = 0, fused = 0;
    if (!uses || !reader) {
        free(uses), free(reader);
        return eb_errf(err, "out of memory fusing dynamically quantized nodes");
    }
    ref_graph_count_readers(s, uses, reader);
    for (int i = 0; i < s->n_nodes && rc >= 0; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep || nd->op != REF_OP_MATMULINTEGER)
            continue;
        rc = qd_try(s, i, uses, reader, err);
        if (rc > 0) {
            fused++;
            ref_graph_count_readers(s, uses, reader);
        }
    }
    /* DynamicQuantizeLinear nodes nothing reads any more, then a Flatten/Reshape between x and
     * a fused node (the bytes are read in row-major order either way) */
    for (int i = 0; fused && rc >= 0 && i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->op != REF_OP_DYNAMICQUANTIZELINEAR)
            continue;
        int read = 0;
        for (int j = 0; j < nd->n_out; j++)
            read += nd->out[j] >= 0 && uses[nd->out[j]] > 0;
        if (!read) {
            qd_retire(s, nd);
            ref_graph_count_readers(s, uses, reader);
        }
    }
    for (int i = 0; fused && rc >= 0 && i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (!ref_qdq_dyn_is(nd) || nd->folded)
            continue;
        int x = nd->in[0], pi = s->vals[x].producer;
        ref_node *rs = pi >= 0 ? &s->nodes[pi] : NULL;
        if (rs && !rs->folded && !rs->prep && uses[x] == 1 && !s->vals[x].is_output &&
            rs->n_in >= 1 && rs->in[0] >= 0 && rs->n_out == 1 &&
            (rs->op == REF_OP_FLATTEN || rs->op == REF_OP_RESHAPE || rs->op == REF_OP_SQUEEZE ||
             rs->op == REF_OP_UNSQUEEZE) &&
            s->vals[rs->in[0]].dtype == EB_F32 && s->vals[rs->in[0]].numel == s->vals[x].numel) {
            nd->in[0] = rs->in[0];
            qd_retire(s, rs);
            ref_graph_count_readers(s, uses, reader);
        }
    }
    free(uses), free(reader);
    return rc < 0 ? -1 : fused;
}

/* ---------------------------------------------------------------- run */

/* DynamicQuantizeLinear's scale and zero point from x's range (0 included), exactly as
 * ops_quant.c computes them. */
static float qd_qparams(float mn, float mx, int32_t *zp)
{
    float scale = (mx - mn) / 255.0f;
    *zp = 0;
    if (scale > 0.0f) {
        float z = 0.0f - mn / scale;
        z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
        *zp = (int32_t)rintf(z);
    }
    return scale;
}

/* q = saturate(rint(x / scale) + zp) to [0, 255].  x / scale is clamped to +-512 first
 * (everything beyond saturates anyway), so rint can be the 1.5 * 2^23 trick (round half to
 * even in the default rounding mode, exact below 2^22) instead of a libm call. */
static void qd_quant_c(const float *x, size_t i0, size_t n, float scale, int32_t zp, uint8_t *q)
{
    const float magic = 12582912.0f;
    for (size_t i = i0; i < n; i++) {
        float v = x[i] / scale;
        v = v < -512.0f ? -512.0f : v > 512.0f ? 512.0f : v;
        v = (v + magic) - magic;
        int32_t r = (int32_t)v + zp;
        q[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
}

static void qd_minmax_c(const float *x, size_t i0, size_t n, float *mn, float *mx)
{
    for (size_t i = i0; i < n; i++) {
        *mn = x[i] < *mn ? x[i] : *mn;
        *mx = x[i] > *mx ? x[i] : *mx;
    }
}

/* y[m] = the graph's scale Muls on (float)(c[m] - zx * wsum[m]), + bias[m], max with 0 for a
 * Relu. */
static void qd_dequant_c(const qd_plan *p, int64_t m0, int64_t m1, const int32_t *c,
                         int64_t cs, int32_t zx, float sx, float *y)
{
    for (int64_t m = m0; m < m1; m++) {
        float f = (float)(c[m * cs] - zx * p->wsum[m]), w = p->ws[m], v;
        if (p->form == QD_PRODUCT) {
            float sw = sx * w;
            v = f * sw;
        } else if (p->form == QD_X_THEN_W) {
            v = f * sx;
            v = v * w;
        } else {
            v = f * w;
            v = v * sx;
        }
        v = v + p->bias[m];
        y[m] = p->relu ? (v > 0.0f ? v : 0.0f) : v;
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define QD_AVX2 __attribute__((target("avx2")))

/* Min and max over every lane: the order does not matter (no NaN, and -0.0 never replaces the
 * starting +0.0 since only strictly smaller/larger values do). */
static QD_AVX2 void qd_minmax_avx2(const float *x, size_t n, float *mn, float *mx)
{
    __m256 lo = _mm256_setzero_ps(), hi = lo, lo1 = lo, hi1 = lo;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        lo = _mm256_min_ps(v0, lo), hi = _mm256_max_ps(v0, hi);
        lo1 = _mm256_min_ps(v1, lo1), hi1 = _mm256_max_ps(v1, hi1);
    }
    lo = _mm256_min_ps(lo1, lo), hi = _mm256_max_ps(hi1, hi);
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
    for (int j = 0; j < 8; j++) {
        *mn = l[j] < *mn ? l[j] : *mn;
        *mx = h[j] > *mx ? h[j] : *mx;
    }
    qd_minmax_c(x, i, n, mn, mx);
}

/* qd_quant_c eight at a time: cvtps rounds half to even (the default MXCSR). */
static QD_AVX2 void qd_quant_avx2(const float *x, size_t n, float scale, int32_t zp, uint8_t *q)
{
    __m256 vs = _mm256_set1_ps(scale), lo = _mm256_set1_ps(-512.0f), hi = _mm256_set1_ps(512.0f);
    __m256i vz = _mm256_set1_epi32(zp);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 v0 = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
        __m256 v1 = _mm256_div_ps(_mm256_loadu_ps(x + i + 8), vs);
        v0 = _mm256_min_ps(_mm256_max_ps(v0, lo), hi);
        v1 = _mm256_min_ps(_mm256_max_ps(v1, lo), hi);
        __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(v0), vz);
        __m256i q1 = _mm256_add_epi32(_mm256_cvtps_epi32(v1), vz);
        /* the signed 32 -> 16 pack saturates to [-512 + zp, 512 + zp], then the unsigned
         * 16 -> 8 pack to [0, 255]: saturate(q) exactly; packs work per 128-bit lane, so
         * the permute puts the eight 4-byte groups back in order */
        __m256i w = _mm256_packs_epi32(q0, q1);
        __m256i b = _mm256_packus_epi16(w, w);
        b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
        _mm_storeu_si128((__m128i *)(q + i), _mm256_castsi256_si128(b));
    }
    qd_quant_c(x, i, n, scale, zp, q);
}

static QD_AVX2 void qd_dequant_avx2(const qd_plan *p, int64_t m0, int64_t m1, const int32_t *c,
                                    int32_t zx, float sx, float *y)
{
    __m256i vz = _mm256_set1_epi32(zx);
    __m256 zero = _mm256_setzero_ps(), vs = _mm256_set1_ps(sx);
    int64_t m = m0;
    for (; m + 8 <= m1; m += 8) {
        __m256i acc = _mm256_sub_epi32(
            _mm256_loadu_si256((const __m256i *)(c + m)),
            _mm256_mullo_epi32(vz, _mm256_loadu_si256((const __m256i *)(p->wsum + m))));
        __m256 f = _mm256_cvtepi32_ps(acc), w = _mm256_loadu_ps(p->ws + m), v;
        if (p->form == QD_PRODUCT)
            v = _mm256_mul_ps(f, _mm256_mul_ps(vs, w));
        else if (p->form == QD_X_THEN_W)
            v = _mm256_mul_ps(_mm256_mul_ps(f, vs), w);
        else
            v = _mm256_mul_ps(_mm256_mul_ps(f, w), vs);
        v = _mm256_add_ps(v, _mm256_loadu_ps(p->bias + m));
        if (p->relu)
            v = _mm256_max_ps(v, zero); /* v > 0 ? v : 0, as Relu */
        _mm256_storeu_ps(y + m, v);
    }
    qd_dequant_c(p, m, m1, c, 1, zx, sx, y);
}
#endif

typedef struct qd_gemv_job {
    const qd_plan *p;
    const uint8_t *x4;
    int32_t *c;
    int64_t per; /* rows of W per task, a multiple of EB_REF_QVB * EB_REF_QVR */
} qd_gemv_job;

static void qd_gemv_task(void *ctx, int64_t t, int thread)
{
    (void)thread;
    const qd_gemv_job *j = ctx;
    int64_t m0 = t * j->per, m1 = m0 + j->per > j->p->M ? j->p->M : m0 + j->per;
    int64_t k4 = (j->p->K + 3) / 4;
    if (m0 < m1)
        j->p->gemv(m1 - m0, k4, j->p->pa + m0 * k4 * 4, j->x4, j->c + m0);
}

void ref_qdq_dyn_exec(ref_session *s, const ref_node *nd)
{
    const qd_plan *p = nd->prep->ext;
    unsigned char *base = (unsigned char *)s->scratch;
    base += (QD_ALIGN - (uintptr_t)base % QD_ALIGN) % QD_ALIGN;
    uint8_t *q = base + p->off_q, *pb = base + p->off_pb;
    int32_t *c = (int32_t *)(base + p->off_c);
    const ref_value *xv = &s->vals[nd->in[0]];
    const float *x = xv->data;
    float *y = s->vals[nd->out[0]].data;
    size_t n = xv->numel;
    int64_t M = p->M, K = p->K, rows = p->rows;

    /* 1. DynamicQuantizeLinear over the whole tensor */
    float mn = 0.0f, mx = 0.0f;
#if defined(__x86_64__)
    if (p->avx2)
        qd_minmax_avx2(x, n, &mn, &mx);
    else
#endif
        qd_minmax_c(x, 0, n, &mn, &mx);
    int32_t zp;
    float sx = qd_qparams(mn, mx, &zp);
    if (!(sx > 0.0f))
        memset(q, (int)zp, n);
#if defined(__x86_64__)
    else if (p->avx2)
        qd_quant_avx2(x, n, sx, zp, q);
#endif
    else
        qd_quant_c(x, 0, n, sx, zp, q);

    /* 2. the integer product, C [M, rows] */
    if (p->gemv) {
        memset(q + K, 0, (size_t)(4 - K % 4) % 4); /* the last group of four meets zero weights */
        /* split by whole blocks of packed rows (gemm_s8.h), one share per thread */
        const int64_t blk = EB_REF_QVB * EB_REF_QVR;
        int threads = eb_ref_pool_threads(s->pool);
        int64_t blocks = (M + blk - 1) / blk;
        int64_t tasks = threads > 1 && blocks >= threads ? threads : 1;
        qd_gemv_job j = {p, q, c, (blocks + tasks - 1) / tasks * blk};
        if (tasks > 1)
            eb_ref_pool_run(s->pool, tasks, qd_gemv_task, &j);
        else
            qd_gemv_task(&j, 0, 0);
    } else {
        eb_ref_qpack_b(K, rows, q, 1, K, pb);
        eb_ref_qgemm(M, rows, K, p->pa, pb, c, rows, p->kernel, s->pool);
    }

    /* 3. the graph's float operations, in its order */
    int32_t zx = p->use_zx ? zp : 0;
    if (rows == 1) {
#if defined(__x86_64__)
        if (p->avx2) {
            qd_dequant_avx2(p, 0, M, c, zx, sx, y);
            return;
        }
#endif
        qd_dequant_c(p, 0, M, c, 1, zx, sx, y);
        return;
    }
    for (int64_t r = 0; r < rows; r++) /* C's column r is y's row r */
        qd_dequant_c(p, 0, M, c + r, rows, zx, sx, y + r * M);
}
