/* QDQ fusion (issue 4): quantized models exported as QDQ (PyTorch, ONNX Runtime's tools) run
 * their Conv/Gemm/MatMul in float between DequantizeLinear and QuantizeLinear nodes:
 *
 *   q_x -> DequantizeLinear(s_x, z_x) -> Conv/Gemm/MatMul -> [Relu] -> QuantizeLinear(s_y, z_y)
 *                                         ^ weight DequantizeLinear(q_w, s_w[per channel], z_w)
 *
 * At open the weight's DequantizeLinear is already folded (its inputs are constants), so its
 * integer input is still at hand.  The chain becomes one node that reads q_x and writes the
 * QuantizeLinear's output: activations converted to uint8 (int8 + 128), im2col for Conv, an
 * exact int8 x uint8 -> int32 GEMM (gemm_s8.c), then per output channel
 *
 *   y = (acc - z_x' * sum_k w'[m,k]) * (s_x * s_w[m]) + bias[m]      (w' = q_w - z_w)
 *   q = saturate(rint(y / s_y) + z_y), floored at z_y when a Relu was fused,
 *
 * which is the float graph's arithmetic with the products summed exactly (QuantizeLinear's
 * round half to even and saturation included).  The activation DequantizeLinear is dropped
 * when nothing else reads it.  A chain that does not fit (weights whose z_w shift leaves int8,
 * per-tensor activations only) is left to the operators as they are.  The dynamic
 * quantization chains (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul...) fuse in
 * qdq_dyn.c, called at the end of ref_qdq_fuse; their nodes share REF_PREP_QDQ and
 * ref_qdq_exec hands them over. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_s8.h"
#include "gemm_s8.h"
#include "qdq_dyn.h"
#include "ref_internal.h"
#include "threadpool.h"

#define QF_ALIGN 64

typedef struct qf_plan {
    int is_pool;          /* a MaxPool between fused nodes, run on bytes (qf_pool_exec) */
    int in_bytes;         /* input 0 holds uint8 (q + x_offset), not int64 */
    int out_bytes;        /* write uint8 (q + out_offset) for fused readers, not int64 */
    int out_offset;       /* 128 for int8 results stored as bytes, else 0 */
    int64_t pk[2], ps[2], pd[2], pp[2]; /* pool: kernel, strides, dilations, pads (h, w) */
    int is_conv;
    int64_t M, K, N;      /* per group: output channels (or features), reduction, columns */
    int64_t groups;
    int64_t rows;         /* Gemm/MatMul: rows of X (the batch), flattened */
    int8_t *pa;           /* packed weights, one block per group */
    size_t pa_group;      /* bytes per group */
    int32_t *rowsum;      /* [groups * M]: sum_k w' */
    float *mul, *bias;    /* [groups * M]: s_x * s_w[m], float bias */
    int x_offset;         /* 128 for int8 activations (to uint8), else 0 */
    int32_t zx;           /* z_x + x_offset */
    float sy;
    int64_t zy, lo, hi;   /* output zero point and saturation range (lo raised by Relu) */
    int im2col;           /* Conv that needs im2col (not 1x1 / stride 1 / no pad) */
    /* stride-1 Conv "wide": the input padded once (hp x wp per channel), the GEMM over
     * oh x wp columns (wp - ow junk ones per row, skipped at requantization), so column k of
     * B is the padded input shifted by koff[k] and packs with no im2col buffer */
    int wide;
    int64_t hp, wp, Nw;
    int64_t *koff;        /* [K] */
    eb_ref_qkernel_fn kernel;
    eb_ref_qgemv_fn gemv; /* Gemm/MatMul on one row: pa holds eb_ref_qpack_v panels */
    int avx2;             /* requantize with AVX2 */
    int avx512;           /* ... with AVX-512 (F, BW) */
    /* a 2-D MaxPool fused into this Conv (fk x fk window... per axis fk[], stride fs[], no
     * pads): pooled on the int32 accumulators, then only the pooled values requantized (the
     * requantization is monotone non-decreasing when every s_x * s_w[m] >= 0 and s_y > 0, so
     * max then requantize equals requantize then max, bit for bit) */
    int fpool;
    int64_t fk[2], fs[2], foh, fow;
    /* the input's QuantizeLinear fused in: input 0 is the float x, quantized here
     * (rint(x / qx_s) + qx_z saturated to [qx_lo, qx_hi], as ops_quant.c does) to bytes */
    int in_float;
    float qx_s;
    int32_t qx_z, qx_lo, qx_hi;
    /* stride-1 Conv on the pixel-major direct kernel (conv_s8.h, option qdq_direct): weights
     * wd in its layout, corr[m] = zx * rowsum[m]; rows of ow x M int32 at off_drow */
    eb_ref_cs8_row_fn direct;
    int8_t *wd;
    int32_t *corr;
    size_t off_drow;
    /* stride-1 Conv on int16 pairs (conv_s8.h eb_ref_cw_*: AVX2, when the VNNI kernel
     * above does not take the Conv; option qdq_direct): weights cwd and offsets cwkoff in
     * its layout; per run the padded input widened at off_xw, C (cw_n columns a row, the
     * wide path's columns and their room) at off_cw */
    eb_ref_cw_fn cwrun;
    eb_ref_cw cw;
    int32_t *cwd, *cwkoff;
    int64_t cw_n;
    size_t off_xw, off_cw;
    /* scratch layout, byte offsets */
    size_t off_x, off_col, off_pb, off_c, off_row, off_pool, total;
} qf_plan;

static void qf_free(void *p)
{
    qf_plan *q = p;
    if (q)
        free(q->pa), free(q->rowsum), free(q->mul), free(q->bias), free(q->koff),
            free(q->wd), free(q->corr), free(q->cwd), free(q->cwkoff);
    free(q);
}

static size_t qf_up(size_t n)
{
    return (n + QF_ALIGN - 1) / QF_ALIGN * QF_ALIGN;
}

static int qf_option(const eb_config *c, const char *key, int def)
{
    const char *v = NULL;
    for (size_t i = 0; c && c->options && i < c->n_options; i++)
        if (c->options[i].key && strcmp(c->options[i].key, key) == 0)
            v = c->options[i].value;
    if (!v)
        return def;
    return strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
           strcmp(v, "on") == 0;
}

/* A per-tensor (de)quantization node's scale and zero point, if both are constants. */
static int qf_scalar_qparams(const ref_session *s, const ref_node *q, float *scale, int64_t *zp)
{
    if (q->n_in < 2 || q->in[1] < 0)
        return 0;
    const ref_value *sc = &s->vals[q->in[1]];
    const ref_value *z = q->n_in > 2 && q->in[2] >= 0 ? &s->vals[q->in[2]] : NULL;
    if (!ref_value_known(sc) || sc->numel != 1 || (z && (!ref_value_known(z) || z->numel != 1)))
        return 0;
    *scale = *(const float *)sc->data;
    *zp = z ? *(const int64_t *)z->data : 0;
    return *scale > 0.0f && isfinite(*scale);
}

/* The declared 8-bit type of value v (2 uint8, 3 int8), looking through the MaxPool and
 * reshapes PyTorch puts between a QuantizeLinear and the next DequantizeLinear (they keep the
 * type; ops_quant.c only types its own outputs); 0 when unknown. */
static int qf_qtype(const ref_session *s, int v)
{
    for (int hops = 0; v >= 0 && hops < 8; hops++) {
        if (s->vals[v].onnx_type)
            return s->vals[v].onnx_type;
        int p = s->vals[v].producer;
        if (p < 0 || s->nodes[p].folded)
            return 0;
        ref_op op = s->nodes[p].op;
        if (op != REF_OP_MAXPOOL && op != REF_OP_FLATTEN && op != REF_OP_RESHAPE &&
            op != REF_OP_SQUEEZE && op != REF_OP_UNSQUEEZE)
            return 0;
        v = s->nodes[p].in[0];
    }
    return 0;
}

/* The producer node of value v when it is op `op`, else NULL. */
static ref_node *qf_producer(ref_session *s, int v, ref_op op)
{
    int p = v >= 0 ? s->vals[v].producer : -1;
    return p >= 0 && s->nodes[p].op == op ? &s->nodes[p] : NULL;
}

static void qf_retire(ref_session *s, int v)
{
    s->vals[v].producer = -1;
    s->vals[v].kind = REF_VAL_STATIC;
    s->vals[v].data = NULL;
}

/* Tries node i; 1 when fused, 0 when left alone, -1 on allocation failure. */
static int qf_try(ref_session *s, int i, const int *uses, const int *reader, int direct_ok,
                  eb_err *err)
{
    ref_node *nd = &s->nodes[i];
    if (nd->n_in < 2 || nd->in[0] < 0 || nd->in[1] < 0 || nd->out[0] < 0)
        return 0;
    /* activation side: DequantizeLinear of uint8/int8 at run time, per tensor; Gemm and
     * MatMul see the bytes in row-major order, so a Flatten/Reshape in between changes
     * nothing (the reshape is left without readers and dropped below) */
    int xin = nd->in[0];
    if (nd->op != REF_OP_CONV) {
        int pi = s->vals[xin].producer;
        const ref_node *rs = pi >= 0 ? &s->nodes[pi] : NULL;
        if (rs && !rs->folded && uses[xin] == 1 &&
            (rs->op == REF_OP_FLATTEN || rs->op == REF_OP_RESHAPE ||
             rs->op == REF_OP_SQUEEZE || rs->op == REF_OP_UNSQUEEZE))
            xin = rs->in[0];
    }
    ref_node *dqx = qf_producer(s, xin, REF_OP_DEQUANTIZELINEAR);
    float sx, sy;
    int64_t zx, zy;
    if (!dqx || dqx->folded || !qf_scalar_qparams(s, dqx, &sx, &zx))
        return 0;
    int qxt = qf_qtype(s, dqx->in[0]);
    if (qxt != 2 && qxt != 3)
        return 0;
    /* weight side: a folded DequantizeLinear of 8-bit constants */
    ref_node *dqw = qf_producer(s, nd->in[1], REF_OP_DEQUANTIZELINEAR);
    if (!dqw || !dqw->folded || dqw->fused)
        return 0;
    const ref_value *qw = &s->vals[dqw->in[0]], *sw = &s->vals[dqw->in[1]];
    const ref_value *zw = dqw->n_in > 2 && dqw->in[2] >= 0 ? &s->vals[dqw->in[2]] : NULL;
    if (!ref_value_known(qw) || !ref_value_known(sw) || (zw && !ref_value_known(zw)) ||
        qw->dtype != EB_I64)
        return 0;
    /* output side: [Relu ->] QuantizeLinear, each the only reader */
    int y = nd->out[0], relu = -1;
    if (uses[y] != 1 || nd->n_out > 1)
        return 0;
    int r = reader[y];
    if (s->nodes[r].op == REF_OP_RELU) {
        relu = r;
        if (uses[s->nodes[r].out[0]] != 1)
            return 0;
        r = reader[s->nodes[r].out[0]];
    }
    ref_node *ql = &s->nodes[r];
    if (ql->op != REF_OP_QUANTIZELINEAR || !qf_scalar_qparams(s, ql, &sy, &zy))
        return 0;

    /* geometry: the product as C[M, N] = W'[M, K] x B[K, N] per group */
    qf_plan *p = calloc(1, sizeof *p);
    if (!p)
        return eb_errf(err, "out of memory fusing QDQ nodes");
    const ref_value *xv = &s->vals[nd->in[0]], *bv = NULL;
    int trans_w = 0; /* weight stored [K, N] (MatMul, Gemm transB=0) */
    if (nd->op == REF_OP_CONV) {
        const eb_ref_conv2d *c = &nd->conv;
        p->is_conv = 1, p->groups = c->group, p->M = c->m / c->group;
        p->K = c->c / c->group * c->kh * c->kw, p->N = c->oh * c->ow;
        p->im2col = !(c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->pt == 0 &&
                      c->pl == 0 && c->pb == 0 && c->pr == 0);
        if (nd->n_in > 2 && nd->in[2] >= 0)
            bv = &s->vals[nd->in[2]];
    } else if (nd->op == REF_OP_GEMM) {
        if (nd->a.trans_a || nd->a.alpha != 1.0f)
            goto skip;
        p->groups = 1, p->M = nd->n, p->K = nd->k, p->rows = nd->m, p->N = nd->m;
        trans_w = !nd->a.trans_b;
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            bv = &s->vals[nd->in[2]];
            if (nd->a.beta != 1.0f || bv->numel != (size_t)nd->n ||
                (bv->ndim == 2 && bv->shape[0] != 1))
                goto skip;
        }
    } else { /* MatMul: X [..., K] x W [K, N], W 2-D */
        const ref_value *wv = &s->vals[nd->in[1]];
        if (wv->ndim != 2 || xv->ndim < 2)
            goto skip;
        p->groups = 1, p->M = nd->n, p->K = nd->k;
        p->rows = (int64_t)xv->numel / nd->k, p->N = p->rows;
        trans_w = 1;
    }
    if (bv && (!ref_value_known(bv) || bv->dtype != EB_F32 ||
               bv->numel != (size_t)(p->M * p->groups)))
        goto skip;
    int64_t Mt = p->M * p->groups;
    /* weight scale / zero point per output channel: DequantizeLinear's axis plan must map
     * element (m, k) to channel m */
    int64_t per = dqw->len > 1;
    if (per && !(dqw->len == Mt && dqw->inner == (trans_w ? 1 : p->K)))
        goto skip;
    if (qw->numel != (size_t)(Mt * p->K))
        goto skip;
    int8_t *w = malloc((size_t)(Mt * p->K) + 1);
    p->rowsum = malloc((size_t)Mt * sizeof *p->rowsum);
    p->mul = malloc((size_t)Mt * sizeof *p->mul);
    p->bias = malloc((size_t)Mt * sizeof *p->bias);
    if (!p->is_conv && p->N == 1) /* batch 1: matrix-vector, no per-run packing of x */
        p->gemv = eb_ref_qgemv_best(NULL);
    p->pa_group = p->gemv ? eb_ref_qpack_v_bytes(p->M, p->K) : eb_ref_qpack_a_bytes(p->M, p->K);
    p->pa = malloc(p->pa_group * (size_t)p->groups);
    if (!w || !p->rowsum || !p->mul || !p->bias || !p->pa) {
        free(w);
        qf_free(p);
        return eb_errf(err, "out of memory fusing QDQ nodes");
    }
    const int64_t *qd = qw->data, *zd = zw ? zw->data : NULL;
    const float *sd = sw->data;
    for (int64_t m = 0; m < Mt; m++) {
        int64_t z = zd ? zd[per ? m : 0] : 0, sum = 0;
        for (int64_t k = 0; k < p->K; k++) {
            int64_t v = (trans_w ? qd[k * Mt + m] : qd[m * p->K + k]) - z;
            if (v < -128 || v > 127) {
                free(w);
                goto skip;
            }
            w[m * p->K + k] = (int8_t)v;
            sum += v;
        }
        p->rowsum[m] = (int32_t)sum;
        p->mul[m] = sx * sd[per ? m : 0];
        p->bias[m] = bv ? ((const float *)bv->data)[m] : 0.0f;
    }
    for (int64_t g = 0; g < p->groups; g++)
        if (p->gemv)
            eb_ref_qpack_v(p->M, p->K, w + g * p->M * p->K, p->K, p->pa + g * p->pa_group);
        else
            eb_ref_qpack_a(p->M, p->K, w + g * p->M * p->K, p->K, p->pa + g * p->pa_group);
    if (p->is_conv && direct_ok && p->groups == 1 && nd->conv.sh == 1 && nd->conv.sw == 1 &&
        nd->conv.dh == 1 && nd->conv.dw == 1 && eb_ref_cs8_ok(p->M, nd->conv.kw) &&
        eb_ref_cs8_best() &&
        (p->wd = malloc(eb_ref_cs8_pack_bytes(p->M, nd->conv.c, nd->conv.kh)))) {
        eb_ref_cs8_pack(p->M, nd->conv.c, nd->conv.kh, nd->conv.kw, w, p->wd);
        p->direct = eb_ref_cs8_best();
    }
    if (p->is_conv && direct_ok && !p->direct && p->groups == 1 && nd->conv.sh == 1 &&
        nd->conv.sw == 1 && nd->conv.dh == 1 && nd->conv.dw == 1 && eb_ref_cw_best() &&
        eb_ref_cw_init(&p->cw, p->M, nd->conv.c, nd->conv.kh, nd->conv.kw,
                       nd->conv.h + nd->conv.pt + nd->conv.pb,
                       nd->conv.w + nd->conv.pl + nd->conv.pr) == 0 &&
        (p->cwd = malloc(eb_ref_cw_w_elems(&p->cw, p->M) * sizeof *p->cwd)) &&
        (p->cwkoff = malloc((size_t)p->cw.G * sizeof *p->cwkoff))) {
        eb_ref_cw_pack(&p->cw, p->M, w, p->cwd);
        eb_ref_cw_offsets(&p->cw, p->cwkoff);
        p->cwrun = eb_ref_cw_best();
    }
    free(w);
    p->x_offset = qxt == 3 ? 128 : 0;
    p->zx = (int32_t)(zx + p->x_offset);
    p->sy = sy, p->zy = zy;
    const ref_value *qy = &s->vals[ql->out[0]];
    p->lo = qy->onnx_type == 3 ? -128 : 0, p->hi = qy->onnx_type == 3 ? 127 : 255;
    p->out_offset = qy->onnx_type == 3 ? 128 : 0;
    if (relu >= 0 && p->lo < zy)
        p->lo = zy;
    p->kernel = eb_ref_qkernel_best(NULL);
#if defined(__x86_64__)
    p->avx2 = eb_ref_isa_pick() != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2") &&
              __builtin_cpu_supports("fma");
    p->avx512 = p->avx2 && eb_ref_isa_pick() == EB_REF_ISA_AVX512 &&
                __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
    /* scratch: uint8 input, im2col (or the padded input), packed B, int32 C */
    size_t xbytes = p->is_conv ? (size_t)(nd->conv.c * nd->conv.h * nd->conv.w) : xv->numel;
    size_t col = p->im2col ? (size_t)(p->K * p->N) : 0;
    int64_t ncols = p->N;
    if (p->is_conv && p->im2col && nd->conv.sh == 1 && nd->conv.sw == 1) {
        const eb_ref_conv2d *c = &nd->conv;
        int64_t cg = c->c / c->group;
        p->hp = c->h + c->pt + c->pb, p->wp = c->w + c->pl + c->pr;
        if (p->hp == c->oh + (c->kh - 1) * c->dh && p->wp == c->ow + (c->kw - 1) * c->dw &&
            (p->koff = malloc((size_t)p->K * sizeof *p->koff))) {
            p->wide = 1;
            p->Nw = c->oh * p->wp;
            for (int64_t ch = 0, k = 0; ch < cg; ch++)
                for (int64_t ky = 0; ky < c->kh; ky++)
                    for (int64_t kx = 0; kx < c->kw; kx++)
                        p->koff[k++] = (ch * p->hp + ky * c->dh) * p->wp + kx * c->dw;
            /* reads reach (kw - 1) * dw + 15 bytes past the padded input */
            col = (size_t)(cg * p->hp * p->wp + (c->kw - 1) * c->dw + 2 * QF_ALIGN);
            ncols = p->Nw;
        }
    }
    p->off_x = 0;
    p->off_col = qf_up(xbytes);
    p->off_pb = p->off_col + qf_up(col);
    p->off_c = p->off_pb + qf_up(eb_ref_qpack_b_bytes(p->K, ncols));
    p->total = p->off_c + qf_up((size_t)(p->M * ncols) * sizeof(int32_t));
    p->off_row = p->total; /* wide: one requantized row before its junk columns go */
    if (p->wide)
        p->total += qf_up((size_t)ncols * sizeof(int64_t) + 32);
    if (p->direct && (!p->wide || !(p->corr = malloc((size_t)p->M * sizeof *p->corr))))
        p->direct = NULL; /* the direct kernel reads the padded input of the wide path */
    if (p->cwrun && !p->wide)
        p->cwrun = NULL; /* it reads the wide path's padded input */
    if (p->cwrun) {
        p->cw_n = eb_ref_cw_cols(&p->cw, nd->conv.oh);
        p->off_xw = p->total;
        p->total += qf_up(eb_ref_cw_x_elems(&p->cw, nd->conv.oh) * sizeof(int32_t));
        p->off_cw = p->total;
        p->total += qf_up((size_t)(p->M * p->cw_n) * sizeof(int32_t));
    }
    if (p->direct) { /* two output rows (a 2x2 pool's pair) */
        for (int64_t m = 0; m < p->M; m++)
            p->corr[m] = p->zx * p->rowsum[m];
        p->off_drow = p->total;
        p->total += qf_up((size_t)(2 * (nd->conv.ow + 8) * p->M) * sizeof(int32_t));
    }

    ref_prep *pr = calloc(1, sizeof *pr);
    char *name = malloc(strlen(nd->op_type) + 8);
    if (!pr || !name) {
        free(pr), free(name);
        qf_free(p);
        return eb_errf(err, "out of memory fusing QDQ nodes");
    }
    pr->kind = REF_PREP_QDQ;
    pr->ext = p;
    pr->ext_free = qf_free;
    pr->scratch = (p->total + sizeof(float) - 1) / sizeof(float) + QF_ALIGN;
    nd->prep = pr;
    sprintf(name, "%s[int8]", nd->op_type);
    free(nd->op_type);
    nd->op_type = name;
    /* rewire: read q_x, write the QuantizeLinear's output */
    nd->in[0] = dqx->in[0];
    int yq = ql->out[0];
    qf_retire(s, y);
    if (relu >= 0) {
        qf_retire(s, s->nodes[relu].out[0]);
        s->nodes[relu].fused = s->nodes[relu].folded = 1;
    }
    nd->out[0] = yq;
    s->vals[yq].producer = i;
    ql->fused = ql->folded = 1;
    return 1;
skip:
    qf_free(p);
    return 0;
}

static int qf_is_q(const ref_node *nd)
{
    return !nd->folded && nd->prep && nd->prep->kind == REF_PREP_QDQ && !ref_qdq_dyn_is(nd);
}

/* A MaxPool reading a fused node's result (its only reader) becomes a byte pool: max commutes
 * with the monotone uint8 shift, so it runs on the stored bytes.  1 when converted. */
static int qf_pool_try(ref_session *s, ref_node *nd, const int *uses, eb_err *err)
{
    const ref_attrs *a = &nd->a;
    int x = nd->in[0];
    if (nd->n_in < 1 || x < 0 || nd->out[0] < 0 || (nd->n_out > 1 && nd->out[1] >= 0) ||
        uses[x] != 1 || s->vals[x].producer < 0 || !qf_is_q(&s->nodes[s->vals[x].producer]))
        return 0;
    const ref_value *xv = &s->vals[x], *yv = &s->vals[nd->out[0]];
    if (xv->ndim != 4 || yv->ndim != 4 || !a->has_kernel || a->spatial_rank != 2 ||
        (a->auto_pad != REF_PAD_NOTSET && a->auto_pad != REF_PAD_VALID))
        return 0;
    const qf_plan *src = s->nodes[xv->producer].prep->ext;
    qf_plan *p = calloc(1, sizeof *p);
    ref_prep *pr = calloc(1, sizeof *pr);
    char *name = malloc(strlen(nd->op_type) + 8);
    if (!p || !pr || !name) {
        free(p), free(pr), free(name);
        return eb_errf(err, "out of memory fusing QDQ nodes");
    }
    p->is_pool = 1;
    p->out_offset = src->out_offset;
    for (int i = 0; i < 2; i++) {
        p->pk[i] = a->kernel[i], p->ps[i] = a->strides[i] > 0 ? a->strides[i] : 1;
        p->pd[i] = a->dilations[i] > 0 ? a->dilations[i] : 1;
        p->pp[i] = a->auto_pad == REF_PAD_VALID ? 0 : a->pads[i];
    }
    pr->kind = REF_PREP_QDQ;
    pr->ext = p;
    pr->ext_free = qf_free;
    nd->prep = pr;
    sprintf(name, "%s[int8]", nd->op_type);
    free(nd->op_type);
    nd->op_type = name;
    s->vals[nd->out[0]].onnx_type = s->vals[x].onnx_type;
    return 1;
}


/* A 2-D MaxPool reading a fused Conv's result (its only reader) folds into the Conv: the
 * Conv pools its int32 accumulators and requantizes only the pooled values (a quarter of
 * them for 2x2), so neither the MaxPool node nor the Conv's full-size result remains.  Exact
 * because the requantization is monotone non-decreasing (see qf_plan.fpool); windows without
 * padding or dilation only, each inside the input.  1 when fused. */
static int qf_conv_pool_try(ref_session *s, ref_node *nd, const int *uses)
{
    const ref_attrs *a = &nd->a;
    int x = nd->in[0];
    if (nd->n_in < 1 || x < 0 || nd->out[0] < 0 || (nd->n_out > 1 && nd->out[1] >= 0) ||
        uses[x] != 1 || s->vals[x].is_output || s->vals[x].producer < 0)
        return 0;
    ref_node *cv = &s->nodes[s->vals[x].producer];
    if (!qf_is_q(cv))
        return 0;
    qf_plan *p = cv->prep->ext;
    const ref_value *xv = &s->vals[x], *yv = &s->vals[nd->out[0]];
    if (!p->is_conv || p->fpool || xv->ndim != 4 || yv->ndim != 4 || !a->has_kernel ||
        a->spatial_rank != 2 || (a->auto_pad != REF_PAD_NOTSET && a->auto_pad != REF_PAD_VALID))
        return 0;
    if (a->auto_pad == REF_PAD_NOTSET && (a->pads[0] || a->pads[1] || a->pads[2] || a->pads[3]))
        return 0;
    if (!(p->sy > 0.0f))
        return 0;
    for (int64_t m = 0; m < p->M * p->groups; m++)
        if (!(p->mul[m] >= 0.0f))
            return 0;
    const eb_ref_conv2d *c = &cv->conv;
    if (yv->shape[0] != c->n || yv->shape[1] != c->m)
        return 0;
    int64_t foh = yv->shape[2], fow = yv->shape[3];
    for (int i = 0; i < 2; i++) {
        int64_t k = a->kernel[i], st = a->strides[i] > 0 ? a->strides[i] : 1;
        int64_t d = a->dilations[i] > 0 ? a->dilations[i] : 1;
        int64_t in = i ? c->ow : c->oh, out = i ? fow : foh;
        if (d != 1 || k < 1 || out < 1 || (out - 1) * st + k > in)
            return 0;
        p->fk[i] = k, p->fs[i] = st;
    }
    p->fpool = 1, p->foh = foh, p->fow = fow;
    /* one channel's pooled accumulators */
    size_t off_pool = p->total;
    p->total += qf_up((size_t)(foh * fow + 16) * sizeof(int32_t));
    p->off_pool = off_pool;
    cv->prep->scratch = (p->total + sizeof(float) - 1) / sizeof(float) + QF_ALIGN;
    int y = nd->out[0];
    s->vals[y].onnx_type = xv->onnx_type;
    qf_retire(s, x);
    cv->out[0] = y;
    s->vals[y].producer = (int)(cv - s->nodes);
    nd->fused = nd->folded = 1;
    return 1;
}

/* A fused node reading a per-tensor QuantizeLinear of a float value (the model's input
 * quantization; the QuantizeLinear's only reader) quantizes the floats itself into its
 * byte scratch: one node and one int64 tensor less.  1 when fused. */
static int qf_quant_in_try(ref_session *s, ref_node *nd, const int *uses)
{
    qf_plan *p = nd->prep->ext;
    int v = nd->in[0];
    if (p->is_pool || p->in_float || v < 0 || uses[v] != 1 || s->vals[v].is_output)
        return 0;
    ref_node *ql = qf_producer(s, v, REF_OP_QUANTIZELINEAR);
    float sc;
    int64_t zp;
    if (!ql || ql->folded || ql->in[0] < 0 || !qf_scalar_qparams(s, ql, &sc, &zp))
        return 0;
    const ref_value *xf = &s->vals[ql->in[0]];
    int t = s->vals[v].onnx_type;
    if (xf->dtype != EB_F32 || xf->numel != s->vals[v].numel || (t != 2 && t != 3))
        return 0;
    if ((t == 3 && (zp < -128 || zp > 127)) || (t == 2 && (zp < 0 || zp > 255)))
        return 0;
    p->in_float = 1, p->qx_s = sc, p->qx_z = (int32_t)zp;
    p->qx_lo = t == 3 ? -128 : 0, p->qx_hi = t == 3 ? 127 : 255;
    nd->in[0] = ql->in[0];
    qf_retire(s, v);
    ql->fused = ql->folded = 1;
    return 1;
}

/* After fusion: Gemm/MatMul read through a Flatten/Reshape directly (row-major bytes are the
 * same), MaxPools between fused nodes run on bytes, and every fused result read only by fused
 * nodes (as their input 0) is stored as one byte per element (dtype EB_U8, so the arena plans
 * an eighth of the int64 bytes) instead of int64. */
static int qf_bytes(ref_session *s, const eb_config *config, int *uses, int *reader,
                    eb_err *err)
{
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (!qf_is_q(nd) || ((const qf_plan *)nd->prep->ext)->is_conv)
            continue;
        int pi = s->vals[nd->in[0]].producer;
        ref_node *rs = pi >= 0 ? &s->nodes[pi] : NULL;
        if (rs && !rs->folded && !rs->prep && uses[nd->in[0]] == 1 &&
            !s->vals[nd->in[0]].is_output &&
            (rs->op == REF_OP_FLATTEN || rs->op == REF_OP_RESHAPE || rs->op == REF_OP_SQUEEZE ||
             rs->op == REF_OP_UNSQUEEZE) &&
            rs->in[0] >= 0 && s->vals[rs->in[0]].numel == s->vals[nd->in[0]].numel) {
            int old = nd->in[0];
            nd->in[0] = rs->in[0];
            qf_retire(s, old);
            rs->fused = rs->folded = 1;
            ref_graph_count_readers(s, uses, reader);
        }
    }
    for (int i = 0; i < s->n_nodes && qf_option(config, "qdq_conv_pool", 1); i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep || nd->op != REF_OP_MAXPOOL)
            continue;
        if (qf_conv_pool_try(s, nd, uses))
            ref_graph_count_readers(s, uses, reader);
    }
    for (int i = 0; i < s->n_nodes && qf_option(config, "qdq_quant_in", 1); i++) {
        ref_node *nd = &s->nodes[i];
        if (qf_is_q(nd) && qf_quant_in_try(s, nd, uses))
            ref_graph_count_readers(s, uses, reader);
    }
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep || nd->op != REF_OP_MAXPOOL)
            continue;
        int rc = qf_pool_try(s, nd, uses, err);
        if (rc < 0)
            return -1;
    }
    ref_graph_count_readers(s, uses, reader);
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (!qf_is_q(nd))
            continue;
        int v = nd->out[0], ok = uses[v] > 0 && !s->vals[v].is_output;
        for (int j = 0; ok && j < s->n_nodes; j++) {
            const ref_node *r = &s->nodes[j];
            if (r->folded)
                continue;
            for (int k = 0; k < r->n_in; k++)
                if (r->in[k] == v && (k != 0 || !qf_is_q(r)))
                    ok = 0;
        }
        if (ok) {
            ((qf_plan *)nd->prep->ext)->out_bytes = 1;
            s->vals[v].dtype = EB_U8;
        }
    }
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (qf_is_q(nd))
            ((qf_plan *)nd->prep->ext)->in_bytes =
                !((qf_plan *)nd->prep->ext)->in_float && s->vals[nd->in[0]].dtype == EB_U8;
    }
    return 0;
}

int ref_qdq_fuse(ref_session *s, const eb_config *config, eb_err *err)
{
    if (!qf_option(config, "qdq_fuse", 1))
        return 0;
    int *uses = calloc((size_t)s->n_vals + 1, sizeof *uses);
    int *reader = calloc((size_t)s->n_vals + 1, sizeof *reader);
    int rc = 0, fused = 0;
    if (!uses || !reader) {
        free(uses), free(reader);
        return eb_errf(err, "out of memory fusing QDQ nodes");
    }
    ref_graph_count_readers(s, uses, reader);
    for (int i = 0; i < s->n_nodes && rc >= 0; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->prep ||
            (nd->op != REF_OP_CONV && nd->op != REF_OP_GEMM && nd->op != REF_OP_MATMUL))
            continue;
        rc = qf_try(s, i, uses, reader, qf_option(config, "qdq_direct", 1), err);
        if (rc > 0) {
            fused++;
            ref_graph_count_readers(s, uses, reader);
        }
    }
    /* activation DequantizeLinear nodes (and reshapes after them) nothing reads any more,
     * last first so a reshape's retirement frees its DequantizeLinear */
    for (int i = s->n_nodes - 1; fused && rc >= 0 && i >= 0; i--) {
        ref_node *nd = &s->nodes[i];
        if ((nd->op == REF_OP_DEQUANTIZELINEAR || nd->op == REF_OP_FLATTEN ||
             nd->op == REF_OP_RESHAPE || nd->op == REF_OP_SQUEEZE ||
             nd->op == REF_OP_UNSQUEEZE) &&
            !nd->folded && nd->n_out == 1 && uses[nd->out[0]] == 0) {
            qf_retire(s, nd->out[0]);
            nd->fused = nd->folded = 1;
            ref_graph_count_readers(s, uses, reader);
        }
    }
    if (fused && rc >= 0)
        rc = qf_bytes(s, config, uses, reader, err);
    /* dynamically quantized MatMulIntegers (qdq_dyn.c), which share this node kind */
    if (rc >= 0)
        rc = ref_qdq_dyn_fuse(s, err);
    free(uses), free(reader);
    return rc < 0 ? -1 : 0;
}

/* One group's cg channels into hp x wp planes, the border (and the slack after the last
 * plane, which packing reads) set to the zero point. */
static void qf_pad(const eb_ref_conv2d *c, int64_t cg, int64_t hp, int64_t wp, const uint8_t *x,
                   uint8_t pad, uint8_t *xp)
{
    memset(xp, pad, (size_t)(cg * hp * wp + (c->kw - 1) * c->dw + 2 * QF_ALIGN));
    for (int64_t ch = 0; ch < cg; ch++)
        for (int64_t iy = 0; iy < c->h; iy++) {
            memcpy(xp + (ch * hp + iy + c->pt) * wp + c->pl, x + (ch * c->h + iy) * c->w,
                   (size_t)c->w);
        }
}

/* im2col of one group's cg channels (uint8, padding = the zero point) into col[K, OH*OW]:
 * per output row, the valid span of ox is computed once, the rest is padding. */
static void qf_im2col(const eb_ref_conv2d *c, int64_t cg, const uint8_t *x, uint8_t pad,
                      uint8_t *col)
{
    for (int64_t ch = 0; ch < cg; ch++)
        for (int64_t ky = 0; ky < c->kh; ky++)
            for (int64_t kx = 0; kx < c->kw; kx++) {
                const uint8_t *xc = x + ch * c->h * c->w;
                int64_t off = kx * c->dw - c->pl; /* ix = ox * sw + off */
                int64_t ox0 = off >= 0 ? 0 : (-off + c->sw - 1) / c->sw;
                int64_t ox1 = c->w - off <= 0 ? 0 : (c->w - off + c->sw - 1) / c->sw;
                ox1 = ox1 > c->ow ? c->ow : ox1;
                ox0 = ox0 > ox1 ? ox1 : ox0;
                for (int64_t oy = 0; oy < c->oh; oy++, col += c->ow) {
                    int64_t iy = oy * c->sh - c->pt + ky * c->dh;
                    if (iy < 0 || iy >= c->h) {
                        memset(col, pad, (size_t)c->ow);
                        continue;
                    }
                    const uint8_t *xr = xc + iy * c->w + off;
                    memset(col, pad, (size_t)ox0);
                    if (c->sw == 1)
                        memcpy(col + ox0, xr + ox0, (size_t)(ox1 - ox0));
                    else
                        for (int64_t ox = ox0; ox < ox1; ox++)
                            col[ox] = xr[ox * c->sw];
                    memset(col + ox1, pad, (size_t)(c->ow - ox1));
                }
            }
}

#if defined(__x86_64__)
#include <immintrin.h>
/* One row of qf_requant, eight at a time: cvtps rounds half to even (the default MXCSR).
 * Writes int64 (y64) or, when y8 is set, bytes q + off. */
__attribute__((target("avx2,fma"))) static void
qf_requant_row_avx2(const int32_t *cr, int64_t n, int32_t corr, float mul, float b, float sy,
                    int32_t zy, int32_t lo, int32_t hi, int64_t *y64, uint8_t *y8, int32_t off)
{
    __m256i vc = _mm256_set1_epi32(corr), vz = _mm256_set1_epi32(zy);
    __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    __m256i voff = _mm256_set1_epi32(off);
    __m256 vm = _mm256_set1_ps(mul), vb = _mm256_set1_ps(b), vs = _mm256_set1_ps(sy);
    __m256 flo = _mm256_set1_ps(-2e9f), fhi = _mm256_set1_ps(2e9f);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i a = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(cr + j)), vc);
        __m256 v = _mm256_div_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), vm), vb), vs);
        v = _mm256_min_ps(_mm256_max_ps(v, flo), fhi);
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
        q = _mm256_min_epi32(_mm256_max_epi32(q, vlo), vhi);
        if (y8) { /* q + off is in [0, 255]: the unsigned packs are exact */
            q = _mm256_add_epi32(q, voff);
            __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            _mm_storel_epi64((__m128i *)(y8 + j), _mm_packus_epi16(w, w));
            continue;
        }
        _mm256_storeu_si256((__m256i *)(y64 + j), _mm256_cvtepi32_epi64(_mm256_castsi256_si128(q)));
        _mm256_storeu_si256((__m256i *)(y64 + j + 4),
                            _mm256_cvtepi32_epi64(_mm256_extracti128_si256(q, 1)));
    }
    if (j < n) { /* the tail through a padded copy, the same arithmetic */
        int32_t t[8] = {0};
        memcpy(t, cr + j, (size_t)(n - j) * sizeof *t);
        __m256i a = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)t), vc);
        __m256 v = _mm256_div_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), vm), vb), vs);
        v = _mm256_min_ps(_mm256_max_ps(v, flo), fhi);
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
        q = _mm256_min_epi32(_mm256_max_epi32(q, vlo), vhi);
        if (y8)
            q = _mm256_add_epi32(q, voff);
        _mm256_storeu_si256((__m256i *)t, q);
        for (int64_t i = j; i < n; i++) {
            if (y8)
                y8[i] = (uint8_t)t[i - j];
            else
                y64[i] = t[i - j];
        }
    }
}

/* qf_requant_row_avx2 on zmm, sixteen at a time, the tail under a mask: the same operations
 * (cvtps rounds half to even), so the same bytes. */
__attribute__((target("avx512f,avx512bw"))) static void
qf_requant_row_avx512(const int32_t *cr, int64_t n, int32_t corr, float mul, float b, float sy,
                      int32_t zy, int32_t lo, int32_t hi, int64_t *y64, uint8_t *y8, int32_t off)
{
    __m512i vc = _mm512_set1_epi32(corr), vz = _mm512_set1_epi32(zy);
    __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    __m512i voff = _mm512_set1_epi32(off);
    __m512 vm = _mm512_set1_ps(mul), vb = _mm512_set1_ps(b), vs = _mm512_set1_ps(sy);
    __m512 flo = _mm512_set1_ps(-2e9f), fhi = _mm512_set1_ps(2e9f);
    for (int64_t j = 0; j < n; j += 16) {
        __mmask16 k = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        __m512i a = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, cr + j), vc);
        __m512 v = _mm512_div_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), vm), vb), vs);
        v = _mm512_min_ps(_mm512_max_ps(v, flo), fhi);
        __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), vz);
        q = _mm512_min_epi32(_mm512_max_epi32(q, vlo), vhi);
        if (y8) {
            _mm512_mask_cvtepi32_storeu_epi8(y8 + j, k, _mm512_add_epi32(q, voff));
            continue;
        }
        _mm512_mask_storeu_epi64(y64 + j, (__mmask8)k,
                                 _mm512_cvtepi32_epi64(_mm512_castsi512_si256(q)));
        _mm512_mask_storeu_epi64(y64 + j + 8, (__mmask8)(k >> 8),
                                 _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(q, 1)));
    }
}
#endif

/* Requantizes C[m, j] for m in [0, M) into y at element m * ys_m + j * ys_j: int64 q, or
 * uint8 q + out_offset when the plan stores bytes.  rint by the 1.5 * 2^23 trick (round half
 * to even in the default rounding mode, exact below 2^22; v is clamped first), so the loop
 * vectorizes instead of calling libm's rintf. */
/* Rows m0 .. m0 + nm of C (ldc apart), each as nseg segments of seglen columns cstride
 * apart, into y at m * ys_m + (sg * seglen + j) * ys_j. */
static void qf_requant_seg(const qf_plan *p, int64_t m0, int64_t nm, const int32_t *C,
                           int64_t ldc, int64_t nseg, int64_t seglen, int64_t cstride, void *y,
                           int64_t ys_m, int64_t ys_j)
{
    const float magic = 12582912.0f;
    float lo = (float)(p->lo - p->zy), hi = (float)(p->hi - p->zy), zy = (float)p->zy;
    int64_t *y64 = p->out_bytes ? NULL : y;
    uint8_t *y8 = p->out_bytes ? y : NULL;
    for (int64_t m = 0; m < nm; m++)
        for (int64_t sg = 0; sg < nseg; sg++) {
            const int32_t *cr = C + m * ldc + sg * cstride;
            int64_t at = m * ys_m + sg * seglen * ys_j;
            int32_t corr = p->zx * p->rowsum[m0 + m];
            float mul = p->mul[m0 + m], b = p->bias[m0 + m], sy = p->sy;
#if defined(__x86_64__)
            if (ys_j == 1 && p->avx512) {
                qf_requant_row_avx512(cr, seglen, corr, mul, b, sy, (int32_t)p->zy,
                                      (int32_t)p->lo, (int32_t)p->hi, y64 ? y64 + at : NULL,
                                      y8 ? y8 + at : NULL, p->out_offset);
                continue;
            }
            if (ys_j == 1 && p->avx2) {
                qf_requant_row_avx2(cr, seglen, corr, mul, b, sy, (int32_t)p->zy,
                                    (int32_t)p->lo, (int32_t)p->hi, y64 ? y64 + at : NULL,
                                    y8 ? y8 + at : NULL, p->out_offset);
                continue;
            }
#endif
            for (int64_t j = 0; j < seglen; j++) {
                float v = ((float)(cr[j] - corr) * mul + b) / sy;
                v = v < lo - 1.0f ? lo - 1.0f : v > hi + 1.0f ? hi + 1.0f : v;
                v = (v + magic) - magic;
                v = v < lo ? lo : v > hi ? hi : v;
                int32_t q = (int32_t)(v + zy);
                if (y8)
                    y8[at + j * ys_j] = (uint8_t)(q + p->out_offset);
                else
                    y64[at + j * ys_j] = q;
            }
        }
}

/* C [M, N] (rows N apart) -> y, one segment per row. */
static void qf_requant(const qf_plan *p, int64_t m0, const int32_t *C, void *y, int64_t ys_m,
                       int64_t ys_j)
{
    qf_requant_seg(p, m0, p->M, C, p->N, 1, p->N, 0, y, ys_m, ys_j);
}

/* MaxPool on the stored bytes (uint8 q + offset, same order as q); padding never wins. */
static void qf_pool_exec(ref_session *s, const ref_node *nd, const qf_plan *p)
{
    const ref_value *xv = &s->vals[nd->in[0]], *yv = &s->vals[nd->out[0]];
    int64_t nc = xv->shape[0] * xv->shape[1], h = xv->shape[2], w = xv->shape[3];
    int64_t oh = yv->shape[2], ow = yv->shape[3];
    const uint8_t *x8 = p->in_bytes ? xv->data : NULL;
    const int64_t *x64 = xv->data;
    uint8_t *y8 = p->out_bytes ? yv->data : NULL;
    int64_t *y64 = yv->data;
    if (x8 && y8 && p->pk[0] == 2 && p->pk[1] == 2 && p->ps[0] == 2 && p->ps[1] == 2 &&
        p->pd[0] == 1 && p->pd[1] == 1 && p->pp[0] == 0 && p->pp[1] == 0 && 2 * oh <= h &&
        2 * ow <= w) { /* PyTorch's 2x2 pool: a row pair's max, then adjacent pairs */
        for (int64_t c = 0; c < nc; c++)
            for (int64_t oy = 0; oy < oh; oy++) {
                const uint8_t *r0 = x8 + (c * h + 2 * oy) * w, *r1 = r0 + w;
                uint8_t *yr = y8 + (c * oh + oy) * ow;
                for (int64_t ox = 0; ox < ow; ox++) {
                    uint8_t a = r0[2 * ox] > r1[2 * ox] ? r0[2 * ox] : r1[2 * ox];
                    uint8_t b = r0[2 * ox + 1] > r1[2 * ox + 1] ? r0[2 * ox + 1] : r1[2 * ox + 1];
                    yr[ox] = a > b ? a : b;
                }
            }
        return;
    }
    for (int64_t c = 0; c < nc; c++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int m = -1;
                for (int64_t ky = 0; ky < p->pk[0]; ky++) {
                    int64_t iy = oy * p->ps[0] - p->pp[0] + ky * p->pd[0];
                    if (iy < 0 || iy >= h)
                        continue;
                    for (int64_t kx = 0; kx < p->pk[1]; kx++) {
                        int64_t ix = ox * p->ps[1] - p->pp[1] + kx * p->pd[1];
                        if (ix < 0 || ix >= w)
                            continue;
                        int64_t at = (c * h + iy) * w + ix;
                        int v = x8 ? x8[at] : (int)(x64[at] + p->out_offset);
                        m = v > m ? v : m;
                    }
                }
                int64_t at = (c * oh + oy) * ow + ox;
                if (y8)
                    y8[at] = (uint8_t)m;
                else
                    y64[at] = m - p->out_offset;
            }
}

#if defined(__x86_64__)
/* qf_quant_bytes on eight floats at a time: the division and cvtps (round half to even in
 * the default MXCSR) are rintf(x / s) exactly; clamped in float first so cvtps stays in
 * range. */
__attribute__((target("avx2"))) static void qf_quant_bytes_avx2(const qf_plan *p, const float *x,
                                                                 int64_t n, uint8_t *u)
{
    __m256 vs = _mm256_set1_ps(p->qx_s), flo = _mm256_set1_ps(-2e9f), fhi = _mm256_set1_ps(2e9f);
    __m256i vz = _mm256_set1_epi32(p->qx_z), vlo = _mm256_set1_epi32(p->qx_lo);
    __m256i vhi = _mm256_set1_epi32(p->qx_hi), voff = _mm256_set1_epi32(p->x_offset);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + j), vs);
        v = _mm256_min_ps(_mm256_max_ps(v, flo), fhi);
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), vz);
        q = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, vlo), vhi), voff);
        __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(u + j), _mm_packus_epi16(w, w));
    }
    for (; j < n; j++) {
        float v = x[j] / p->qx_s;
        v = v < -2e9f ? -2e9f : v > 2e9f ? 2e9f : v;
        int32_t q = (int32_t)rintf(v) + p->qx_z;
        q = q < p->qx_lo ? p->qx_lo : q > p->qx_hi ? p->qx_hi : q;
        u[j] = (uint8_t)(q + p->x_offset);
    }
}

/* 2x2 stride-2 pooling of one channel's accumulators, eight outputs per step: the row pair's
 * max, then even and odd columns apart (shuffle_ps picks them per 128-bit lane, permute4x64
 * puts the lanes back in order). */
__attribute__((target("avx2"))) static void qf_pool22_avx2(const int32_t *cm, int64_t rs,
                                                           int64_t foh, int64_t fow, int32_t *t)
{
    for (int64_t oy = 0; oy < foh; oy++, t += fow) {
        const int32_t *r0 = cm + 2 * oy * rs, *r1 = r0 + rs;
        /* eight outputs at ox read 16 columns from 2 * ox: within the row's stride rs (its
         * junk columns, then the next row: rows are written in order, t has 16 of slack);
         * the last eight of a row of at least eight overlap the ones before */
        int64_t ox = 0;
        for (int64_t o = 0; o < fow; o += 8) {
            ox = o;
            if (2 * ox + 16 > rs && fow >= 8)
                ox = fow - 8;
            if (2 * ox + 16 > rs)
                break;
            __m256i a = _mm256_max_epi32(_mm256_loadu_si256((const __m256i *)(r0 + 2 * ox)),
                                         _mm256_loadu_si256((const __m256i *)(r1 + 2 * ox)));
            __m256i b = _mm256_max_epi32(_mm256_loadu_si256((const __m256i *)(r0 + 2 * ox + 8)),
                                         _mm256_loadu_si256((const __m256i *)(r1 + 2 * ox + 8)));
            __m256 fa = _mm256_castsi256_ps(a), fb = _mm256_castsi256_ps(b);
            __m256i ev = _mm256_castps_si256(_mm256_shuffle_ps(fa, fb, 0x88));
            __m256i od = _mm256_castps_si256(_mm256_shuffle_ps(fa, fb, 0xDD));
            __m256i mx = _mm256_permute4x64_epi64(_mm256_max_epi32(ev, od), 0xD8);
            _mm256_storeu_si256((__m256i *)(t + ox), mx);
            ox += 8;
        }
        for (; ox < fow; ox++) {
            int32_t a = r0[2 * ox] > r1[2 * ox] ? r0[2 * ox] : r1[2 * ox];
            int32_t b = r0[2 * ox + 1] > r1[2 * ox + 1] ? r0[2 * ox + 1] : r1[2 * ox + 1];
            t[ox] = a > b ? a : b;
        }
    }
}
#endif

/* x (float) -> u (uint8 q + x_offset), q = saturate(rint(x / qx_s) + qx_z) as QuantizeLinear
 * computes it (ops_quant.c: rintf of the float quotient, zero point, clip). */
static void qf_quant_bytes(const qf_plan *p, const float *x, int64_t n, uint8_t *u)
{
#if defined(__x86_64__)
    if (p->avx2) {
        qf_quant_bytes_avx2(p, x, n, u);
        return;
    }
#endif
    for (int64_t j = 0; j < n; j++) {
        float v = x[j] / p->qx_s;
        v = v < -2e9f ? -2e9f : v > 2e9f ? 2e9f : v;
        int32_t q = (int32_t)rintf(v) + p->qx_z;
        q = q < p->qx_lo ? p->qx_lo : q > p->qx_hi ? p->qx_hi : q;
        u[j] = (uint8_t)(q + p->x_offset);
    }
}

/* One channel's accumulators (output rows rs apart) max-pooled into t[foh * fow]. */
static void qf_pool_acc(const qf_plan *p, const int32_t *cm, int64_t rs, int32_t *t)
{
#if defined(__x86_64__)
    if (p->avx2 && p->fk[0] == 2 && p->fk[1] == 2 && p->fs[0] == 2 && p->fs[1] == 2) {
        qf_pool22_avx2(cm, rs, p->foh, p->fow, t);
        return;
    }
#endif
    for (int64_t oy = 0; oy < p->foh; oy++)
        for (int64_t ox = 0; ox < p->fow; ox++) {
            const int32_t *w = cm + oy * p->fs[0] * rs + ox * p->fs[1];
            int32_t m = w[0];
            for (int64_t ky = 0; ky < p->fk[0]; ky++)
                for (int64_t kx = 0; kx < p->fk[1]; kx++)
                    m = w[ky * rs + kx] > m ? w[ky * rs + kx] : m;
            t[oy * p->fow + ox] = m;
        }
}

/* A Conv's channels m0 .. m0 + nm of C (ldc apart, output rows rs apart, ow valid columns
 * each) into y (nout elements per channel): pooled first when a MaxPool is fused. */
static void qf_conv_store(const qf_plan *p, unsigned char *base, int64_t m0, int64_t nm,
                          const int32_t *C, int64_t ldc, int64_t rs, int64_t oh, int64_t ow,
                          char *y, size_t ysz)
{
    if (p->fpool) {
        int32_t *t = (int32_t *)(base + p->off_pool);
        int64_t nout = p->foh * p->fow;
        for (int64_t m = 0; m < nm; m++) {
            qf_pool_acc(p, C + m * ldc, rs, t);
            qf_requant_seg(p, m0 + m, 1, t, nout, 1, nout, 0, y + (size_t)(m * nout) * ysz, 0,
                           1);
        }
        return;
    }
    if (rs == ow) { /* dense rows: each channel in one segment */
        qf_requant_seg(p, m0, nm, C, ldc, 1, oh * ow, 0, y, oh * ow, 1);
        return;
    }
    /* wide rows: each channel's oh x rs row requantized whole (the vector loop runs on),
     * then its ow valid columns per output row kept */
    unsigned char *row = base + p->off_row;
    for (int64_t m = 0; m < nm; m++) {
        qf_requant_seg(p, m0 + m, 1, C + m * ldc, ldc, 1, oh * rs, 0, row, 0, 1);
        char *ym = y + (size_t)(m * oh * ow) * ysz;
        for (int64_t oy = 0; oy < oh; oy++)
            memcpy(ym + (size_t)(oy * ow) * ysz, row + (size_t)(oy * rs) * ysz,
                   (size_t)ow * ysz);
    }
}

#if defined(__x86_64__)
/* The direct kernel's output rows (pixel-major: channel lanes) requantized 16 channels at a
 * time with the operations of qf_requant_row_avx512 per lane (so the same bytes), pooled 2x2
 * first when a MaxPool is fused (r1 the second row), and stored channel-major: y[m * nout +
 * pos + j] for the n outputs j of this row. */
/* r[16] (row i: pixel i's 16 channels) transposed in place (row l: channel l's 16 pixels):
 * 32-bit unpacks, 64-bit unpacks, then two rounds of 128-bit lane shuffles. */
__attribute__((target("avx512f,avx512bw"))) static void qf_tr16(__m512i *r)
{
    __m512i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    }
}

/* The direct kernel's output rows (pixel-major: channel lanes) requantized 16 channels at a
 * time with the operations of qf_requant_row_avx512 per lane (so the same bytes), pooled 2x2
 * first when a MaxPool is fused (r1 the second row), and stored channel-major: y[m * nout +
 * pos + j] for the n outputs j of this row, 16 pixels x 16 channels transposed at a time. */
__attribute__((target("avx512f,avx512bw"))) static void
qf_direct_out(const qf_plan *p, const int32_t *r0, const int32_t *r1, int64_t n, char *y,
              int64_t nout, int64_t pos, size_t ysz)
{
    int64_t M = p->M;
    __m512 vs = _mm512_set1_ps(p->sy), flo = _mm512_set1_ps(-2e9f), fhi = _mm512_set1_ps(2e9f);
    __m512i vz = _mm512_set1_epi32((int32_t)p->zy), vlo = _mm512_set1_epi32((int32_t)p->lo);
    __m512i vhi = _mm512_set1_epi32((int32_t)p->hi), voff = _mm512_set1_epi32(p->out_offset);
    for (int64_t m0 = 0; m0 < M; m0 += 16) {
        __m512i vc = _mm512_loadu_si512(p->corr + m0);
        __m512 vm = _mm512_loadu_ps(p->mul + m0), vb = _mm512_loadu_ps(p->bias + m0);
        for (int64_t j0 = 0; j0 < n; j0 += 16) {
            int nj = n - j0 < 16 ? (int)(n - j0) : 16;
            __m512i q[16];
            for (int j = 0; j < 16; j++) {
                if (j >= nj) {
                    q[j] = vz;
                    continue;
                }
                __m512i acc;
                if (r1) {
                    const int32_t *a0 = r0 + 2 * (j0 + j) * M + m0, *a1 = r1 + 2 * (j0 + j) * M + m0;
                    acc = _mm512_max_epi32(
                        _mm512_max_epi32(_mm512_loadu_si512(a0), _mm512_loadu_si512(a0 + M)),
                        _mm512_max_epi32(_mm512_loadu_si512(a1), _mm512_loadu_si512(a1 + M)));
                } else {
                    acc = _mm512_loadu_si512(r0 + (j0 + j) * M + m0);
                }
                __m512i a = _mm512_sub_epi32(acc, vc);
                __m512 v = _mm512_div_ps(
                    _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), vm), vb), vs);
                v = _mm512_min_ps(_mm512_max_ps(v, flo), fhi);
                __m512i t = _mm512_add_epi32(_mm512_cvtps_epi32(v), vz);
                q[j] = _mm512_min_epi32(_mm512_max_epi32(t, vlo), vhi);
            }
            qf_tr16(q);
            __mmask16 k = (__mmask16)((1u << nj) - 1);
            for (int l = 0; l < 16; l++) {
                int64_t at = (m0 + l) * nout + pos + j0;
                if (ysz == 1) {
                    _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)y + at, k,
                                                     _mm512_add_epi32(q[l], voff));
                    continue;
                }
                int64_t *y64 = (int64_t *)y + at;
                _mm512_mask_storeu_epi64(y64, (__mmask8)k,
                                         _mm512_cvtepi32_epi64(_mm512_castsi512_si256(q[l])));
                _mm512_mask_storeu_epi64(y64 + 8, (__mmask8)(k >> 8),
                                         _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(q[l], 1)));
            }
        }
    }
}
#endif

/* One image's group through the direct kernel (p->direct set: x86 with AVX512-VNNI): per
 * output row (pair, when a 2x2 MaxPool is fused) the kernel's rows, then qf_direct_out. */
static void qf_direct(const qf_plan *p, const eb_ref_conv2d *c, const uint8_t *xp,
                      unsigned char *base, char *y, size_t ysz)
{
#if defined(__x86_64__)
    int32_t *r0 = (int32_t *)(base + p->off_drow), *r1 = r0 + (c->ow + 8) * p->M;
    if (p->fpool) {
        for (int64_t py = 0; py < p->foh; py++) {
            p->direct(xp, p->hp, p->wp, c->c, c->kh, 2 * py, c->ow, p->wd, p->M, r0);
            p->direct(xp, p->hp, p->wp, c->c, c->kh, 2 * py + 1, c->ow, p->wd, p->M, r1);
            qf_direct_out(p, r0, r1, p->fow, y, p->foh * p->fow, py * p->fow, ysz);
        }
        return;
    }
    for (int64_t oy = 0; oy < c->oh; oy++) {
        p->direct(xp, p->hp, p->wp, c->c, c->kh, oy, c->ow, p->wd, p->M, r0);
        qf_direct_out(p, r0, NULL, c->ow, y, c->oh * c->ow, oy * c->ow, ysz);
    }
#else
    (void)p, (void)c, (void)xp, (void)base, (void)y, (void)ysz;
#endif
}

typedef struct qf_cw_job {
    const qf_plan *p;
    const int32_t *xw;
    int32_t *C;
    int64_t blocks; /* of 16 columns per task */
} qf_cw_job;

static void qf_cw_task(void *ctx, int64_t t, int thread)
{
    (void)thread;
    const qf_cw_job *j = ctx;
    const qf_plan *p = j->p;
    int64_t n0 = t * j->blocks * 16, n1 = n0 + j->blocks * 16;
    n1 = n1 < p->cw_n ? n1 : p->cw_n;
    p->cwrun(&p->cw, j->xw, p->cwkoff, p->cwd, p->M, n0, n1, j->C, p->cw_n);
}

/* One image's group on the int16-pair kernel: the padded input widened, the accumulators
 * of the wide path's C computed in column blocks over the pool's threads. */
static void qf_cw(const qf_plan *p, const uint8_t *xp, unsigned char *base,
                  struct eb_ref_pool *pool)
{
    qf_cw_job j = {p, (const int32_t *)(base + p->off_xw), (int32_t *)(base + p->off_cw), 1};
    eb_ref_cw_widen(&p->cw, 0, xp, (int32_t *)(base + p->off_xw));
    int64_t blocks = p->cw_n / 16;
    int threads = eb_ref_pool_threads(pool);
    if (threads < 2 || blocks < 2) {
        j.blocks = blocks;
        qf_cw_task(&j, 0, 0);
        return;
    }
    /* about four tasks a thread: a descheduled worker delays the job by one small task */
    j.blocks = (blocks + 4 * threads - 1) / (4 * threads);
    eb_ref_pool_run(pool, (blocks + j.blocks - 1) / j.blocks, qf_cw_task, &j);
}

void ref_qdq_exec(ref_session *s, const ref_node *nd)
{
    if (ref_qdq_dyn_is(nd)) {
        ref_qdq_dyn_exec(s, nd);
        return;
    }
    const qf_plan *p = nd->prep->ext;
    if (p->is_pool) {
        qf_pool_exec(s, nd, p);
        return;
    }
    unsigned char *base = (unsigned char *)s->scratch;
    base += (QF_ALIGN - (uintptr_t)base % QF_ALIGN) % QF_ALIGN;
    uint8_t *xu = base + p->off_x, *col = base + p->off_col, *pb = base + p->off_pb;
    int32_t *C = (int32_t *)(base + p->off_c);
    const ref_value *xv = &s->vals[nd->in[0]];
    const int64_t *xq = xv->data;
    void *yd = s->vals[nd->out[0]].data;
    size_t ysz = p->out_bytes ? 1 : sizeof(int64_t);
    if (p->is_conv) {
        const eb_ref_conv2d *c = &nd->conv;
        int64_t img = c->c * c->h * c->w, cg = c->c / c->group;
        int64_t nout = p->fpool ? p->foh * p->fow : p->N;
        for (int64_t n = 0; n < c->n; n++) {
            const uint8_t *xn = xu;
            if (p->in_bytes)
                xn = (const uint8_t *)xv->data + n * img;
            else if (p->in_float)
                qf_quant_bytes(p, (const float *)xv->data + n * img, img, xu);
            else
                for (int64_t i = 0; i < img; i++)
                    xu[i] = (uint8_t)(xq[n * img + i] + p->x_offset);
            for (int64_t g = 0; g < p->groups; g++) {
                const uint8_t *xg = xn + g * cg * c->h * c->w;
                char *yg = (char *)yd + (size_t)((n * c->m + g * p->M) * nout) * ysz;
                if (p->wide) {
                    qf_pad(c, cg, p->hp, p->wp, xg, (uint8_t)p->zx, col);
                    if (p->direct && (!p->fpool || (p->fk[0] == 2 && p->fk[1] == 2 &&
                                                    p->fs[0] == 2 && p->fs[1] == 2))) {
                        qf_direct(p, c, col, base, yg, ysz);
                        continue;
                    }
                    if (p->cwrun) {
                        qf_cw(p, col, base, s->pool);
                        qf_conv_store(p, base, g * p->M, p->M, (int32_t *)(base + p->off_cw),
                                      p->cw_n, p->wp, c->oh, c->ow, yg, ysz);
                        continue;
                    }
                    eb_ref_qpack_b_off(p->K, p->Nw, col, p->koff, pb);
                    eb_ref_qgemm(p->M, p->Nw, p->K, p->pa + g * p->pa_group, pb, C, p->Nw,
                                 p->kernel, s->pool);
                    qf_conv_store(p, base, g * p->M, p->M, C, p->Nw, p->wp, c->oh, c->ow, yg,
                                  ysz);
                    continue;
                }
                if (p->im2col) {
                    qf_im2col(c, cg, xg, (uint8_t)p->zx, col);
                    eb_ref_qpack_b(p->K, p->N, col, p->N, 1, pb);
                } else {
                    eb_ref_qpack_b(p->K, p->N, xg, p->N, 1, pb);
                }
                eb_ref_qgemm(p->M, p->N, p->K, p->pa + g * p->pa_group, pb, C, p->N, p->kernel,
                             s->pool);
                qf_conv_store(p, base, g * p->M, p->M, C, p->N, c->ow, c->oh, c->ow, yg, ysz);
            }
        }
        return;
    }
    /* Gemm / MatMul: B[k][row] = X[row][k], C[feature][row] -> y[row][feature] */
    const uint8_t *xb = xu;
    if (p->in_bytes)
        xb = xv->data;
    else if (p->in_float)
        qf_quant_bytes(p, xv->data, (int64_t)xv->numel, xu);
    else
        for (size_t i = 0; i < xv->numel; i++)
            xu[i] = (uint8_t)(xq[i] + p->x_offset);
    if (p->gemv) { /* x's bytes past K meet zero weights (values and scratch are padded) */
        p->gemv(p->M, (p->K + 3) / 4, p->pa, xb, C);
        qf_requant(p, 0, C, yd, 1, p->M);
        return;
    }
    eb_ref_qpack_b(p->K, p->N, xb, 1, p->K, pb);
    eb_ref_qgemm(p->M, p->N, p->K, p->pa, pb, C, p->N, p->kernel, s->pool);
    qf_requant(p, 0, C, yd, 1, p->M);
}

int ref_qdq_nodes(const ref_session *s)
{
    int n = 0;
    for (int i = 0; i < s->n_nodes; i++)
        n += s->nodes[i].prep && s->nodes[i].prep->kind == REF_PREP_QDQ;
    return n;
}
