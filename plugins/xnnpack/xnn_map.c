/* ONNX graph -> XNNPACK subgraph (float32, NHWC inside; see xnn_internal.h for the layout).
 *
 * The graph comes from ref's loader with shapes inferred and constant subgraphs folded, so
 * every Reshape target, Clip bound and weight is a static value here.  Nodes are mapped in
 * topological order; a Conv takes a BatchNormalization after it (folded into its weights) and
 * any producer takes a Relu/Clip after it (as its output range), when it is that value's only
 * consumer.  What cannot be mapped is refused with EB_UNSUPPORTED (-2) and the node named.
 */
#include "xnn_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *xnn_map_operators(void)
{
    return "Abs, Add, AveragePool, BatchNormalization, Ceil, Clip, Concat*, Conv, "
           "DequantizeLinear, Div, Dropout, Flatten, Floor, Gemm, GlobalAveragePool, HardSwish, Identity, LeakyRelu, "
           "MatMul, MaxPool, Mul, Neg, QuantizeLinear, ReduceMean (over H and W), Relu, "
           "Reshape, Sigmoid, Slice*, Softmax, Split*, Sqrt, Squeeze, Sub, Transpose*, Unsqueeze; "
           "QDQ chains (DequantizeLinear -> Conv/Gemm/MatMul -> [Relu] -> QuantizeLinear) as "
           "int8; * (and reshapes that move data in NHWC): run by the plugin as copies between "
           "XNNPACK runtimes (the graph is partitioned)";
}

#if !EB_XNN_HAVE_HEADER
int xnn_map_graph(xnn_session *x, eb_err *err)
{
    (void)x;
    return eb_errf(err, "xnnpack: built without xnnpack.h (install libxnnpack-dev, rebuild)");
}
#else

#define GV(i) (&x->g->vals[(i)])
#define XV(i) (&x->vals[(i)])
#define NONE XNN_INVALID_VALUE_ID

/* EB_UNSUPPORTED: the model needs something the mapping does not do. */
static int xm_unsupported(const ref_node *nd, eb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int xm_unsupported(const ref_node *nd, eb_err *err, const char *fmt, ...)
{
    char what[512], lbl[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    eb_errf(err, "%s: %s is not supported by xnnpack (`edgebench help xnnpack` lists what is)",
            ref_node_label(nd, lbl, sizeof lbl), what);
    return EB_UNSUPPORTED;
}

/* A define call that XNNPACK rejected: parameters it does not take are EB_UNSUPPORTED,
 * anything else is a failure (-1). */
static int xm_status(enum xnn_status st, const ref_node *nd, const char *call, eb_err *err)
{
    char lbl[256];
    if (st == xnn_status_success)
        return 0;
    eb_errf(err, "%s: %s failed (%s)%s", ref_node_label(nd, lbl, sizeof lbl), call,
            eb_xnn_status_name(st),
            st == xnn_status_invalid_parameter || st == xnn_status_unsupported_parameter
                ? ": XNNPACK does not take this node's parameters"
                : "");
    return st == xnn_status_invalid_parameter || st == xnn_status_unsupported_parameter
               ? EB_UNSUPPORTED
               : -1;
}

/* A buffer that lives as long as the session, padded as XNNPACK reads (it may read up to
 * XNN_EXTRA_BYTES beyond a tensor). */
static void *xm_own_bytes(xnn_session *x, size_t bytes)
{
    if (x->n_owned == x->cap_owned) {
        size_t cap = x->cap_owned ? 2 * x->cap_owned : 64;
        void **p = realloc(x->owned, cap * sizeof *p);
        if (!p)
            return NULL;
        x->owned = p, x->cap_owned = cap;
    }
    void *f = calloc(1, bytes + XNN_EXTRA_BYTES);
    if (f)
        x->owned[x->n_owned++] = f;
    return f;
}

static float *xm_own(xnn_session *x, size_t floats)
{
    return xm_own_bytes(x, floats * sizeof(float));
}

/* ONNX dims of v as XNNPACK sees them: NCHW -> NHWC when nhwc. */
static void xm_dims(const ref_value *v, int nhwc, size_t *d)
{
    for (int i = 0; i < v->ndim; i++)
        d[i] = (size_t)v->shape[i];
    if (nhwc) {
        d[1] = (size_t)v->shape[2], d[2] = (size_t)v->shape[3], d[3] = (size_t)v->shape[1];
    }
}

static int xm_is_static(const ref_value *v)
{
    return ref_is_static(v) && v->data;
}

/* Defines ONNX value vi as a runtime value with the given layout, float32 (q 0) or qint8
 * standing for ONNX type q with scale qs and int8-domain zero point qz; a graph output becomes
 * the external value n_in + its index (float32 only: the staging buffers are float). */
static int xm_def_value_q(xnn_session *x, const ref_node *nd, int vi, int nhwc,
                          const int64_t *perm, int q, float qs, int32_t qz, eb_err *err);

static int xm_def_value(xnn_session *x, const ref_node *nd, int vi, int nhwc, const int64_t *perm,
                        eb_err *err)
{
    return xm_def_value_q(x, nd, vi, nhwc, perm, 0, 0.0f, 0, err);
}

/* Buffer bookkeeping for partitions: external value vi of parts[p] is bound to buf. */
static int xm_bind(xnn_session *x, int p, int vi, float *buf, eb_err *err)
{
    xnn_part *pt = &x->parts[p];
    if (pt->n_ext == pt->cap_ext) {
        size_t cap = pt->cap_ext ? 2 * pt->cap_ext : 16;
        struct xnn_external_value *e = realloc(pt->ext, cap * sizeof *e);
        if (!e)
            return eb_errf(err, "xnnpack: out of memory");
        pt->ext = e, pt->cap_ext = cap;
    }
    pt->ext[pt->n_ext].id = (uint32_t)vi;
    pt->ext[pt->n_ext++].data = buf;
    return 0;
}

/* The staging buffer of graph output vi, or NULL when vi is none. */
static float *xm_out_stage(xnn_session *x, int vi)
{
    for (int k = 0; k < x->g->n_out; k++)
        if (x->g->out_vals[k] == vi)
            return x->out[k].stage;
    return NULL;
}

/* A buffer for boundary value vi: its staging buffer when it is a graph output. */
static float *xm_value_buf(xnn_session *x, int vi)
{
    float *b = xm_out_stage(x, vi);
    return b ? b : xm_own(x, GV(vi)->numel ? GV(vi)->numel : 1);
}

static int xm_def_value_q(xnn_session *x, const ref_node *nd, int vi, int nhwc,
                          const int64_t *perm, int q, float qs, int32_t qz, eb_err *err)
{
    const ref_value *v = GV(vi);
    size_t d[EB_MAX_DIMS];
    uint32_t ext = NONE, flags = 0, id = NONE;
    xm_dims(v, nhwc, d);
    if (q && v->is_output)
        return xm_unsupported(nd, err, "a quantized graph output '%s' (xnnpack hands out "
                              "float32; end the graph with a DequantizeLinear)", v->name);
    if (!q && (v->is_output || x->want_buf[vi])) /* its buffer is where the next step reads */
        ext = (uint32_t)vi, flags = XNN_VALUE_FLAG_EXTERNAL_OUTPUT;
    enum xnn_status st =
        q ? x->api.xnn_define_quantized_tensor_value(x->subgraph, xnn_datatype_qint8, qz, qs,
                                                     (size_t)v->ndim, d, NULL, ext, flags, &id)
          : x->api.xnn_define_tensor_value(x->subgraph, xnn_datatype_fp32, (size_t)v->ndim, d,
                                           NULL, ext, flags, &id);
    if (st != xnn_status_success)
        return xm_status(st, nd, q ? "xnn_define_quantized_tensor_value" : "xnn_define_tensor_value",
                         err);
    xnn_val *xv = XV(vi);
    xv->id = id;
    xv->part = x->cur;
    xv->nhwc = nhwc;
    xv->q = q, xv->qs = qs, xv->qz = qz;
    memset(xv->perm, 0, sizeof xv->perm);
    if (perm)
        memcpy(xv->perm, perm, sizeof xv->perm);
    xv->buf = NULL;
    if (ext != NONE) {
        if (!(xv->buf = xm_value_buf(x, vi)))
            return eb_errf(err, "xnnpack: out of memory for '%s'", v->name);
        return xm_bind(x, x->cur, vi, xv->buf, err);
    }
    return 0;
}

/* Value vi, internal to the (earlier or current) subgraph it was defined in, gets a buffer:
 * a copy node there writes it to a new external output.  Values known to cross from the
 * start (want_buf) are defined external instead and need no copy. */
static int xm_materialize(xnn_session *x, const ref_node *nd, int vi, eb_err *err)
{
    xnn_val *xv = XV(vi);
    const ref_value *v = GV(vi);
    xnn_subgraph_t sg = x->parts[xv->part].subgraph;
    size_t d[EB_MAX_DIMS];
    uint32_t id = NONE;
    xm_dims(v, xv->nhwc, d);
    enum xnn_status st = x->api.xnn_define_tensor_value(sg, xnn_datatype_fp32, (size_t)v->ndim, d,
                                                        NULL, (uint32_t)vi,
                                                        XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &id);
    int rc = xm_status(st, nd, "xnn_define_tensor_value", err);
    if (rc)
        return rc;
    st = x->api.xnn_define_static_reshape(sg, (size_t)v->ndim, d, xv->id, id, 0);
    if ((rc = xm_status(st, nd, "xnn_define_static_reshape", err)))
        return rc;
    if (!(xv->buf = xm_value_buf(x, vi)))
        return eb_errf(err, "xnnpack: out of memory for '%s'", v->name);
    return xm_bind(x, xv->part, vi, xv->buf, err);
}

/* Makes activation vi usable in the current subgraph: an external input over its buffer when
 * it was computed before the current partition began. */
static int xm_import(xnn_session *x, const ref_node *nd, int vi, eb_err *err)
{
    xnn_val *xv = XV(vi);
    if (xv->id != NONE && xv->part == x->cur)
        return 0;
    if (xv->q)
        return xm_unsupported(nd, err, "a quantized tensor '%s' across a partition boundary "
                              "(between XNNPACK runtimes tensors are float32)", GV(vi)->name);
    int rc;
    if (!xv->buf && (rc = xm_materialize(x, nd, vi, err)))
        return rc;
    const ref_value *v = GV(vi);
    size_t d[EB_MAX_DIMS];
    uint32_t id = NONE;
    xm_dims(v, xv->nhwc, d);
    enum xnn_status st = x->api.xnn_define_tensor_value(x->subgraph, xnn_datatype_fp32,
                                                        (size_t)v->ndim, d, NULL, (uint32_t)vi,
                                                        XNN_VALUE_FLAG_EXTERNAL_INPUT, &id);
    if ((rc = xm_status(st, nd, "xnn_define_tensor_value", err)))
        return rc;
    xv->id = id, xv->part = x->cur;
    return xm_bind(x, x->cur, vi, xv->buf, err);
}

/* An internal runtime value of the given XNNPACK dims (between two nodes of one ONNX op). */
static int xm_def_temp(xnn_session *x, const ref_node *nd, int ndim, const size_t *d, uint32_t *id,
                       eb_err *err)
{
    enum xnn_status st = x->api.xnn_define_tensor_value(x->subgraph, xnn_datatype_fp32,
                                                        (size_t)ndim, d, NULL, NONE, 0, id);
    return xm_status(st, nd, "xnn_define_tensor_value", err);
}

/* A static tensor of the given XNNPACK dims over data (owned by the session). */
static int xm_def_static(xnn_session *x, const ref_node *nd, const float *data, int ndim,
                         const size_t *d, uint32_t *id, eb_err *err)
{
    enum xnn_status st = x->api.xnn_define_tensor_value(x->subgraph, xnn_datatype_fp32,
                                                        (size_t)ndim, d, data, NONE, 0, id);
    return xm_status(st, nd, "xnn_define_tensor_value", err);
}

/* The runtime value behind input k of nd, which must be an activation already defined:
 * float32, or also a quantized one (held as qint8) when quant. */
static int xm_act_q(xnn_session *x, const ref_node *nd, int k, int quant, eb_err *err)
{
    if (k >= nd->n_in || nd->in[k] < 0)
        return xm_unsupported(nd, err, "a missing input %d", k);
    const ref_value *v = GV(nd->in[k]);
    if (XV(nd->in[k])->q) {
        if (quant)
            return xm_import(x, nd, nd->in[k], err);
        return xm_unsupported(nd, err, "input '%s', a quantized (%s) tensor, here (xnnpack runs "
                              "quantized tensors through DequantizeLinear, MaxPool and reshapes, "
                              "or Conv/Gemm/MatMul chains between DequantizeLinear and "
                              "QuantizeLinear)", v->name, XV(nd->in[k])->q == 2 ? "uint8" : "int8");
    }
    if (v->dtype != EB_F32)
        return xm_unsupported(nd, err, "input '%s' of type %s (xnnpack maps float32)", v->name,
                              eb_dtype_name(v->dtype));
    if (XV(nd->in[k])->id == NONE && !XV(nd->in[k])->buf)
        return xm_unsupported(nd, err, "input '%s' as a constant here", v->name);
    return xm_import(x, nd, nd->in[k], err);
}

static int xm_act(xnn_session *x, const ref_node *nd, int k, eb_err *err)
{
    return xm_act_q(x, nd, k, 0, err);
}

/* Input k of nd as a float32 constant of numel elements (numel 0: any), or NULL. */
static const float *xm_const(xnn_session *x, const ref_node *nd, int k, size_t numel)
{
    if (k >= nd->n_in || nd->in[k] < 0)
        return NULL;
    const ref_value *v = GV(nd->in[k]);
    if (!xm_is_static(v) || v->dtype != EB_F32 || (numel && v->numel != numel))
        return NULL;
    return v->data;
}

/* The only node that reads value vi, when vi is not a graph output either; else -1. */
static int xm_sole_consumer(const xnn_session *x, int vi)
{
    const ref_session *g = x->g;
    if (g->vals[vi].is_output || x->vals[vi].consumers != 1)
        return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const ref_node *nd = &g->nodes[i];
        if (nd->folded || x->skip[i])
            continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] == vi)
                return i;
    }
    return -1;
}

/* Clip's bounds: inputs 1 and 2 (opset 11 on, optional) or attributes min/max (before). */
static int xm_clip_bounds(xnn_session *x, const ref_node *nd, float *lo, float *hi)
{
    *lo = -INFINITY, *hi = INFINITY;
    if (x->g->opset < 11) {
        *lo = ref_attr_f(nd, "min", -INFINITY);
        *hi = ref_attr_f(nd, "max", INFINITY);
        return 0;
    }
    for (int k = 1; k <= 2 && k < nd->n_in; k++) {
        if (nd->in[k] < 0)
            continue;
        const float *c = xm_const(x, nd, k, 1);
        if (!c)
            return -1;
        *(k == 1 ? lo : hi) = c[0];
    }
    return 0;
}

/* When the sole consumer of *vo is a Relu or Clip, takes it: narrows [lo, hi], marks it
 * skipped and moves *vo to its output. */
static void xm_fuse_act(xnn_session *x, int *vo, float *lo, float *hi)
{
    *lo = -INFINITY, *hi = INFINITY;
    int c = xm_sole_consumer(x, *vo);
    if (c < 0)
        return;
    const ref_node *cn = &x->g->nodes[c];
    float a = -INFINITY, b = INFINITY;
    if (cn->op == REF_OP_RELU)
        a = 0.0f;
    else if (cn->op != REF_OP_CLIP || xm_clip_bounds(x, cn, &a, &b) != 0 || !(a < b))
        return;
    *lo = a, *hi = b;
    x->skip[c] = 1;
    *vo = cn->out[0];
}

/* ---------------------------------------------------------------- QDQ (int8) */

/* A static scale (float32, one element, positive and finite) and zero point (an integer of one
 * element, or absent: 0) at inputs 1 and 2 of a (De)QuantizeLinear; *type is the ONNX type
 * the zero point declares (2 uint8, 3 int8; uint8 when it is absent, as ONNX says).  0 when
 * they are not that (per-axis parameters, parameters computed at run time). */
static int xm_qparams(xnn_session *x, const ref_node *nd, float *scale, int64_t *zp, int *type)
{
    if (nd->n_in < 2 || nd->in[1] < 0)
        return 0;
    const ref_value *sc = GV(nd->in[1]);
    const ref_value *z = nd->n_in > 2 && nd->in[2] >= 0 ? GV(nd->in[2]) : NULL;
    if (!xm_is_static(sc) || sc->dtype != EB_F32 || sc->numel != 1)
        return 0;
    if (z && (!xm_is_static(z) || z->dtype != EB_I64 || z->numel != 1))
        return 0;
    *scale = *(const float *)sc->data;
    *zp = z ? *(const int64_t *)z->data : 0;
    *type = z && z->onnx_type ? z->onnx_type : 2;
    return *scale > 0.0f && isfinite(*scale);
}

/* The int8-domain zero point of an ONNX 8-bit type's zero point (uint8: minus 128), or
 * INT32_MIN when z is out of the type's range or the type is not 8-bit. */
static int32_t xm_qz(int type, int64_t z)
{
    if (type == 2 && z >= 0 && z <= 255)
        return (int32_t)(z - 128);
    if (type == 3 && z >= -128 && z <= 127)
        return (int32_t)z;
    return INT32_MIN;
}

/* DequantizeLinear node dq reads a value held as qint8 and dequantizes it with the very
 * parameters it was quantized with (XNNPACK's values carry one scale and zero point). */
static int xm_dq_matches(xnn_session *x, const ref_node *dq)
{
    float s;
    int64_t z;
    int t;
    if (dq->op != REF_OP_DEQUANTIZELINEAR || dq->folded || dq->in[0] < 0)
        return 0;
    const xnn_val *xv = XV(dq->in[0]);
    return xv->q && xv->id != NONE && xm_qparams(x, dq, &s, &z, &t) && t == xv->q &&
           s == xv->qs && xm_qz(t, z) == xv->qz;
}

/* A Conv/Gemm/MatMul that runs as one XNNPACK signed 8-bit node:
 *
 *   q_x -> DequantizeLinear -> Conv/Gemm/MatMul -> [Relu] -> QuantizeLinear -> q_y
 *          weight: DequantizeLinear(int8 constant, scale per tensor or per output channel)
 *          bias: a float constant (a folded DequantizeLinear of int32)
 *
 * as ref's qdq_fuse.c finds it.  The DequantizeLinear of the weight is folded at load, so its
 * integer input is at hand. */
typedef struct xm_qchain {
    int xin;                    /* the qint8 value the activation DequantizeLinear reads */
    const ref_value *qw, *sw, *zw; /* integer weights, their scales, zero points (or NULL) */
    int per;                    /* scales per output channel */
    int wt;                     /* weights stored [K][M] (Gemm transB=0, MatMul), else [M][K] */
    int64_t M, K;               /* output channels, reduction (per group for Conv) */
    const float *bias;          /* [M * groups] or NULL */
    int relu, ql;               /* node indices: the Relu (or -1), the QuantizeLinear */
    float sy;
    int qy;                     /* 2 or 3 */
    int32_t zy;                 /* int8 domain */
} xm_qchain;

static int xm_sole_consumer(const xnn_session *x, int vi);

/* 1 and fills *c when nd heads such a chain, 0 when it runs in float32.  Pure: the
 * DequantizeLinear before it asks the same question (xm_dequantize) before nd is mapped. */
static int xm_qchain_of(xnn_session *x, const ref_node *nd, xm_qchain *c)
{
    const ref_session *g = x->g;
    memset(c, 0, sizeof *c);
    if ((nd->op != REF_OP_CONV && nd->op != REF_OP_GEMM && nd->op != REF_OP_MATMUL) ||
        nd->n_in < 2 || nd->in[0] < 0 || nd->in[1] < 0 || nd->n_out < 1 || nd->out[0] < 0)
        return 0;
    /* the activation */
    int pa = GV(nd->in[0])->producer;
    if (pa < 0 || !xm_dq_matches(x, &g->nodes[pa]))
        return 0;
    c->xin = g->nodes[pa].in[0];
    const ref_value *a = GV(nd->in[0]), *wv = GV(nd->in[1]);
    /* the weight: a folded DequantizeLinear of an integer constant */
    int pw = wv->producer;
    if (!xm_is_static(wv) || pw < 0 || g->nodes[pw].op != REF_OP_DEQUANTIZELINEAR ||
        !g->nodes[pw].folded)
        return 0;
    const ref_node *dqw = &g->nodes[pw];
    c->qw = GV(dqw->in[0]);
    c->sw = dqw->n_in > 1 && dqw->in[1] >= 0 ? GV(dqw->in[1]) : NULL;
    c->zw = dqw->n_in > 2 && dqw->in[2] >= 0 ? GV(dqw->in[2]) : NULL;
    if (!xm_is_static(c->qw) || c->qw->dtype != EB_I64 || !c->sw || !xm_is_static(c->sw) ||
        c->sw->dtype != EB_F32 || (c->zw && (!xm_is_static(c->zw) || c->zw->dtype != EB_I64)))
        return 0;
    int64_t G = 1;
    int bi = -1;
    if (nd->op == REF_OP_CONV) {
        if (a->ndim != 4)
            return 0;
        G = nd->conv.group;
        c->M = nd->conv.m / G, c->K = nd->conv.c / G * nd->conv.kh * nd->conv.kw;
        bi = 2;
    } else if (nd->op == REF_OP_GEMM) {
        if (a->ndim != 2 || nd->a.trans_a || nd->a.alpha != 1.0f)
            return 0;
        c->M = nd->n, c->K = nd->k, c->wt = !nd->a.trans_b;
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            if (nd->a.beta != 1.0f || GV(nd->in[2])->numel != (size_t)c->M)
                return 0;
            bi = 2;
        }
    } else {
        if (a->ndim != 2 || wv->ndim != 2)
            return 0;
        c->M = nd->n, c->K = nd->k, c->wt = 1;
    }
    int64_t Mt = c->M * G;
    if (c->qw->numel != (size_t)(Mt * c->K))
        return 0;
    /* scales: one, or one per output channel (DequantizeLinear's axis plan: element i is in
     * channel i / inner % len) */
    c->per = c->sw->numel > 1;
    if (c->per && !(dqw->len == Mt && dqw->inner == (c->wt ? 1 : c->K)))
        return 0;
    if (c->zw && c->zw->numel != c->sw->numel)
        return 0;
    const float *sd = c->sw->data;
    for (int64_t m = 0; m < (c->per ? Mt : 1); m++)
        if (!(sd[m] > 0.0f) || !isfinite(sd[m]))
            return 0;
    /* XNNPACK's int8 weights have no zero point: q - z must be int8 */
    const int64_t *qd = c->qw->data, *zd = c->zw ? c->zw->data : NULL;
    for (size_t i = 0; i < c->qw->numel; i++) {
        int64_t ch = c->wt ? (int64_t)i % Mt : (int64_t)i / c->K;
        int64_t v = qd[i] - (zd ? zd[c->per ? ch : 0] : 0);
        if (v < -128 || v > 127)
            return 0;
    }
    if (bi > 0 && nd->n_in > bi && nd->in[bi] >= 0) {
        const ref_value *bv = GV(nd->in[bi]);
        if (!xm_is_static(bv) || bv->dtype != EB_F32 || bv->numel != (size_t)Mt)
            return 0;
        c->bias = bv->data;
    }
    /* the output: [Relu ->] QuantizeLinear, each the only reader */
    c->relu = -1;
    int r = xm_sole_consumer(x, nd->out[0]);
    if (r >= 0 && g->nodes[r].op == REF_OP_RELU) {
        c->relu = r;
        r = xm_sole_consumer(x, g->nodes[r].out[0]);
    }
    int64_t zy;
    int t;
    if (r < 0 || g->nodes[r].op != REF_OP_QUANTIZELINEAR ||
        !xm_qparams(x, &g->nodes[r], &c->sy, &zy, &t))
        return 0;
    const ref_value *qv = GV(g->nodes[r].out[0]);
    c->qy = qv->onnx_type ? qv->onnx_type : t;
    c->zy = xm_qz(c->qy, zy);
    if (c->zy == INT32_MIN || qv->is_output)
        return 0;
    c->ql = r;
    return 1;
}

/* Int8 weights of chain c as XNNPACK reads them: OHWI for Conv ([1][kh][kw][M] depthwise),
 * [N][K] for a product (columns permuted when x arrives flattened in HWC order); per-channel
 * scales (one per output channel even when the file has one), int32 bias over s_x * s_w[m]. */
static int xm_qweights(xnn_session *x, const ref_node *nd, const xm_qchain *c, int dw,
                       int8_t **w8, float **wsc, int32_t **b32, float **bsc, eb_err *err)
{
    int64_t G = nd->op == REF_OP_CONV ? nd->conv.group : 1, Mt = c->M * G, K = c->K;
    *w8 = xm_own_bytes(x, (size_t)(Mt * K));
    *wsc = xm_own(x, (size_t)Mt), *bsc = xm_own(x, (size_t)Mt);
    *b32 = xm_own_bytes(x, (size_t)Mt * sizeof(int32_t));
    if (!*w8 || !*wsc || !*bsc || !*b32)
        return eb_errf(err, "xnnpack: out of memory for the int8 weights of '%s'", nd->name);
    const int64_t *qd = c->qw->data, *zd = c->zw ? c->zw->data : NULL;
    const float *sd = c->sw->data;
    float sx = XV(c->xin)->qs;
    const int64_t *pm = XV(c->xin)->perm;
    int64_t kh = 1, kw = 1, cg = K;
    if (nd->op == REF_OP_CONV)
        kh = nd->conv.kh, kw = nd->conv.kw, cg = K / (kh * kw);
    for (int64_t m = 0; m < Mt; m++) {
        int64_t z = zd ? zd[c->per ? m : 0] : 0;
        (*wsc)[m] = sd[c->per ? m : 0];
        (*bsc)[m] = sx * (*wsc)[m];
        /* ONNX adds the float bias to the float product; XNNPACK adds it to the int32
         * accumulator before scaling: exact when the file's bias is int32 over s_x*s_w */
        double b = c->bias ? rint((double)c->bias[m] / ((double)sx * (*wsc)[m])) : 0.0;
        if (!(fabs(b) <= 2147483647.0))
            return xm_unsupported(nd, err, "a bias that does not fit int32 at scale s_x*s_w");
        (*b32)[m] = (int32_t)b;
        for (int64_t k = 0; k < K; k++) {
            int64_t v = (c->wt ? qd[k * Mt + m] : qd[m * K + k]) - z;
            int64_t dst;
            if (nd->op == REF_OP_CONV) { /* k = (ci * kh + i) * kw + j */
                int64_t ci = k / (kh * kw), i = k / kw % kh, j = k % kw;
                dst = dw ? (i * kw + j) * Mt + m : ((m * kh + i) * kw + j) * cg + ci;
            } else {
                dst = m * K + k;
                if (pm[0]) {
                    int64_t ci = k / (pm[1] * pm[2]), hw = k % (pm[1] * pm[2]);
                    dst = m * K + hw * pm[0] + ci;
                }
            }
            (*w8)[dst] = (int8_t)v;
        }
    }
    return 0;
}

/* Chain c as one XNNPACK node: a signed 8-bit convolution with per-channel weights (qcint8)
 * and int32 bias, the Relu as its output minimum, writing the QuantizeLinear's output; a
 * Gemm/MatMul as a fully connected (one weight scale) or as a 1x1 convolution over
 * [rows, 1, 1, K] (per-channel scales: this snapshot's fully connected takes one). */
static int xm_qchain_map(xnn_session *x, const ref_node *nd, const xm_qchain *c, eb_err *err)
{
    const xnn_val xi = *XV(c->xin);
    int conv = nd->op == REF_OP_CONV;
    const eb_ref_conv2d *p = &nd->conv;
    int64_t G = conv ? p->group : 1, C = conv ? p->c : c->K, Mt = c->M * G;
    int dw = conv && G == C && C / G == 1 && G > 1;
    if (conv ? !xi.nhwc : (xi.nhwc || GV(c->xin)->ndim != 2))
        return xm_unsupported(nd, err, "a quantized input laid out as this snapshot cannot take");
    int8_t *w8;
    float *wsc, *bsc;
    int32_t *b32;
    int rc = xm_qweights(x, nd, c, dw, &w8, &wsc, &b32, &bsc, err);
    if (rc)
        return rc;
    const float sd0 = wsc[0];
    int per = 0;
    for (int64_t m = 1; m < Mt; m++)
        per |= wsc[m] != sd0;
    float lo = c->relu >= 0 ? 0.0f : -INFINITY, hi = INFINITY;
    int vo = x->g->nodes[c->ql].out[0];
    if (c->relu >= 0)
        x->skip[c->relu] = 1;
    x->skip[c->ql] = 1;
    if ((rc = xm_def_value_q(x, nd, vo, conv, conv ? NULL : (const int64_t[3]){0, 0, 0}, c->qy,
                             c->sy, c->zy, err)))
        return rc;
    uint32_t fid, bid, yo = XV(vo)->id, xid = xi.id;
    enum xnn_status st;
    x->n_qs8_nodes++;
    if (!conv && !per) { /* one scale: XNNPACK's qs8 fully connected */
        size_t fd[2] = {(size_t)Mt, (size_t)c->K}, bd[1] = {(size_t)Mt};
        st = x->api.xnn_define_quantized_tensor_value(x->subgraph, xnn_datatype_qint8, 0, sd0, 2,
                                                      fd, w8, NONE, 0, &fid);
        if ((rc = xm_status(st, nd, "xnn_define_quantized_tensor_value", err)))
            return rc;
        st = x->api.xnn_define_quantized_tensor_value(x->subgraph, xnn_datatype_qint32, 0,
                                                      bsc[0], 1, bd, b32, NONE, 0, &bid);
        if ((rc = xm_status(st, nd, "xnn_define_quantized_tensor_value", err)))
            return rc;
        st = x->api.xnn_define_fully_connected(x->subgraph, lo, hi, xid, fid, bid, yo, 0);
        return xm_status(st, nd, "xnn_define_fully_connected", err);
    }
    int64_t kh = conv ? p->kh : 1, kw = conv ? p->kw : 1;
    size_t fd[4] = {dw ? 1 : (size_t)Mt, (size_t)kh, (size_t)kw, dw ? (size_t)Mt : (size_t)(C / G)};
    size_t bd[1] = {(size_t)Mt};
    st = x->api.xnn_define_channelwise_quantized_tensor_value(
        x->subgraph, xnn_datatype_qcint8, wsc, 4, dw ? 3 : 0, fd, w8, NONE, 0, &fid);
    if ((rc = xm_status(st, nd, "xnn_define_channelwise_quantized_tensor_value", err)))
        return rc;
    st = x->api.xnn_define_channelwise_quantized_tensor_value(
        x->subgraph, xnn_datatype_qcint32, bsc, 1, 0, bd, b32, NONE, 0, &bid);
    if ((rc = xm_status(st, nd, "xnn_define_channelwise_quantized_tensor_value", err)))
        return rc;
    if (conv) {
        if (dw)
            st = x->api.xnn_define_depthwise_convolution_2d(
                x->subgraph, (uint32_t)p->pt, (uint32_t)p->pr, (uint32_t)p->pb, (uint32_t)p->pl,
                (uint32_t)kh, (uint32_t)kw, (uint32_t)p->sh, (uint32_t)p->sw, (uint32_t)p->dh,
                (uint32_t)p->dw, (uint32_t)(Mt / C), (size_t)C, lo, hi, xid, fid, bid, yo, 0);
        else
            st = x->api.xnn_define_convolution_2d(
                x->subgraph, (uint32_t)p->pt, (uint32_t)p->pr, (uint32_t)p->pb, (uint32_t)p->pl,
                (uint32_t)kh, (uint32_t)kw, (uint32_t)p->sh, (uint32_t)p->sw, (uint32_t)p->dh,
                (uint32_t)p->dw, (uint32_t)G, (size_t)(C / G), (size_t)c->M, lo, hi, xid, fid,
                bid, yo, 0);
        return xm_status(st, nd, dw ? "xnn_define_depthwise_convolution_2d"
                                    : "xnn_define_convolution_2d", err);
    }
    /* [rows, K] -> [rows, 1, 1, K] -> 1x1 convolution -> [rows, 1, 1, M] -> [rows, M] */
    size_t rows = (size_t)GV(c->xin)->shape[0];
    size_t d4[4] = {rows, 1, 1, (size_t)c->K}, o4[4] = {rows, 1, 1, (size_t)Mt},
           o2[2] = {rows, (size_t)Mt};
    uint32_t x4, y4;
    st = x->api.xnn_define_quantized_tensor_value(x->subgraph, xnn_datatype_qint8, xi.qz, xi.qs,
                                                  4, d4, NULL, NONE, 0, &x4);
    if ((rc = xm_status(st, nd, "xnn_define_quantized_tensor_value", err)))
        return rc;
    st = x->api.xnn_define_quantized_tensor_value(x->subgraph, xnn_datatype_qint8, c->zy, c->sy,
                                                  4, o4, NULL, NONE, 0, &y4);
    if ((rc = xm_status(st, nd, "xnn_define_quantized_tensor_value", err)))
        return rc;
    st = x->api.xnn_define_static_reshape(x->subgraph, 4, d4, xid, x4, 0);
    if ((rc = xm_status(st, nd, "xnn_define_static_reshape", err)))
        return rc;
    st = x->api.xnn_define_convolution_2d(x->subgraph, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1,
                                          (size_t)c->K, (size_t)Mt, lo, hi, x4, fid, bid, y4, 0);
    if ((rc = xm_status(st, nd, "xnn_define_convolution_2d", err)))
        return rc;
    st = x->api.xnn_define_static_reshape(x->subgraph, 2, o2, y4, yo, 0);
    return xm_status(st, nd, "xnn_define_static_reshape", err);
}

/* QuantizeLinear of a float32 activation (the graph's input, or a value no chain took): an
 * XNNPACK Convert to qint8, uint8 shifted to int8 (the same grid and saturation). */
static int xm_quantize(xnn_session *x, const ref_node *nd, eb_err *err)
{
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;
    float s;
    int64_t z;
    int t;
    if (!xm_qparams(x, nd, &s, &z, &t))
        return xm_unsupported(nd, err, "a QuantizeLinear whose scale/zero point are per axis or "
                              "computed at run time (XNNPACK's qint8 values have one scale and "
                              "zero point)");
    const ref_value *out = GV(nd->out[0]);
    int qt = out->onnx_type ? out->onnx_type : t;
    int32_t qz = xm_qz(qt, z);
    if (qz == INT32_MIN)
        return xm_unsupported(nd, err, "quantizing to ONNX type %d with zero point %lld (xnnpack "
                              "maps uint8 and int8)", qt, (long long)z);
    const xnn_val xi = *XV(nd->in[0]);
    if ((rc = xm_def_value_q(x, nd, nd->out[0], xi.nhwc, xi.perm, qt, s, qz, err)))
        return rc;
    enum xnn_status st = x->api.xnn_define_convert(x->subgraph, xi.id, XV(nd->out[0])->id, 0);
    return xm_status(st, nd, "xnn_define_convert", err);
}

/* DequantizeLinear of a quantized activation: nothing when every reader is a chain that reads
 * the int8 value itself; else an XNNPACK Convert to float32. */
static int xm_dequantize(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_session *g = x->g;
    int rc = xm_act_q(x, nd, 0, 1, err);
    if (rc)
        return rc;
    const xnn_val xi = *XV(nd->in[0]);
    if (!xi.q)
        return xm_unsupported(nd, err, "a DequantizeLinear of float32 data");
    if (!xm_dq_matches(x, nd))
        return xm_unsupported(nd, err, "a DequantizeLinear with another scale or zero point "
                              "than its input was quantized with (XNNPACK's values carry one)");
    int vo = nd->out[0], all = !GV(vo)->is_output, readers = 0;
    for (int i = 0; all && i < g->n_nodes; i++) {
        const ref_node *c = &g->nodes[i];
        if (c->folded || x->skip[i])
            continue;
        for (int j = 0; j < c->n_in; j++) {
            if (c->in[j] != vo)
                continue;
            xm_qchain q;
            readers++;
            if (j != 0 || !xm_qchain_of(x, c, &q))
                all = 0;
        }
    }
    if (all && readers > 0)
        return 0;
    if ((rc = xm_def_value(x, nd, vo, xi.nhwc, xi.perm, err)))
        return rc;
    enum xnn_status st = x->api.xnn_define_convert(x->subgraph, xi.id, XV(vo)->id, 0);
    return xm_status(st, nd, "xnn_define_convert", err);
}

/* ---------------------------------------------------------------- Conv (+BN, +act) */

static int xm_conv(xnn_session *x, const ref_node *nd, eb_err *err)
{
    xm_qchain qc;
    if (xm_qchain_of(x, nd, &qc))
        return xm_qchain_map(x, nd, &qc, err);
    const ref_value *in = GV(nd->in[0]);
    if (in->ndim != 4)
        return xm_unsupported(nd, err, "a %d-D convolution (xnnpack maps 2-D)", in->ndim - 2);
    const eb_ref_conv2d *p = &nd->conv;
    int64_t M = p->m, C = p->c, G = p->group, cg = C / G, mg = M / G, kh = p->kh, kw = p->kw;
    const float *w = xm_const(x, nd, 1, (size_t)(M * cg * kh * kw));
    const float *b = nd->n_in > 2 && nd->in[2] >= 0 ? xm_const(x, nd, 2, (size_t)M) : NULL;
    if (!w || (nd->n_in > 2 && nd->in[2] >= 0 && !b))
        return xm_unsupported(nd, err, "a weight or bias computed at run time");
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;

    /* BatchNormalization after it: y = (conv - mean) * gamma / sqrt(var + eps) + beta */
    int vo = nd->out[0];
    const float *bn[4] = {NULL, NULL, NULL, NULL};
    float eps = 0;
    int c = xm_sole_consumer(x, vo);
    if (c >= 0 && x->g->nodes[c].op == REF_OP_BATCHNORM) {
        const ref_node *bnd = &x->g->nodes[c];
        int ok = 1;
        for (int k = 0; k < 4; k++)
            ok &= (bn[k] = xm_const(x, bnd, k + 1, (size_t)M)) != NULL;
        if (ok) {
            eps = bnd->a.epsilon;
            x->skip[c] = 1;
            vo = bnd->out[0];
        } else {
            bn[0] = NULL;
        }
    }
    float lo, hi;
    xm_fuse_act(x, &vo, &lo, &hi);

    int dw = G == C && cg == 1 && G > 1;
    float *fw = xm_own(x, (size_t)(M * cg * kh * kw)), *fb = xm_own(x, (size_t)M);
    if (!fw || !fb)
        return eb_errf(err, "xnnpack: out of memory for the weights of '%s'", nd->name);
    for (int64_t m = 0; m < M; m++) {
        float scale = 1.0f, shift = 0.0f;
        if (bn[0]) {
            scale = bn[0][m] / sqrtf(bn[3][m] + eps);
            shift = bn[1][m] - bn[2][m] * scale;
        }
        fb[m] = (b ? b[m] : 0.0f) * scale + shift;
        /* OIHW -> OHWI ([M][kh][kw][cg]); depthwise: [1][kh][kw][M] */
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t i = 0; i < kh; i++)
                for (int64_t j = 0; j < kw; j++) {
                    float v = w[((m * cg + ci) * kh + i) * kw + j] * scale;
                    if (dw)
                        fw[(i * kw + j) * M + m] = v;
                    else
                        fw[((m * kh + i) * kw + j) * cg + ci] = v;
                }
    }
    size_t fd[4] = {dw ? 1 : (size_t)M, (size_t)kh, (size_t)kw, dw ? (size_t)M : (size_t)cg};
    size_t bd[1] = {(size_t)M};
    uint32_t fid, bid;
    if ((rc = xm_def_static(x, nd, fw, 4, fd, &fid, err)) ||
        (rc = xm_def_static(x, nd, fb, 1, bd, &bid, err)) ||
        (rc = xm_def_value(x, nd, vo, 1, NULL, err)))
        return rc;
    uint32_t xi = XV(nd->in[0])->id, yo = XV(vo)->id;
    enum xnn_status st;
    if (dw)
        st = x->api.xnn_define_depthwise_convolution_2d(
            x->subgraph, (uint32_t)p->pt, (uint32_t)p->pr, (uint32_t)p->pb, (uint32_t)p->pl,
            (uint32_t)kh, (uint32_t)kw, (uint32_t)p->sh, (uint32_t)p->sw, (uint32_t)p->dh,
            (uint32_t)p->dw, (uint32_t)(M / C), (size_t)C, lo, hi, xi, fid, bid, yo, 0);
    else
        st = x->api.xnn_define_convolution_2d(
            x->subgraph, (uint32_t)p->pt, (uint32_t)p->pr, (uint32_t)p->pb, (uint32_t)p->pl,
            (uint32_t)kh, (uint32_t)kw, (uint32_t)p->sh, (uint32_t)p->sw, (uint32_t)p->dh,
            (uint32_t)p->dw, (uint32_t)G, (size_t)cg, (size_t)mg, lo, hi, xi, fid, bid, yo, 0);
    return xm_status(st, nd, dw ? "xnn_define_depthwise_convolution_2d" : "xnn_define_convolution_2d",
                     err);
}

/* ---------------------------------------------------------------- Gemm, MatMul */

/* Fully connected: y = x * W^T + b with W [N][K] built from B (and alpha, and the column
 * permutation when x carries one). */
static int xm_fc(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *a = GV(nd->in[0]), *bv = nd->n_in > 1 && nd->in[1] >= 0 ? GV(nd->in[1]) : NULL;
    int gemm = nd->op == REF_OP_GEMM;
    xm_qchain qc;
    if (xm_qchain_of(x, nd, &qc))
        return xm_qchain_map(x, nd, &qc, err);
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;
    const xnn_val *xa = XV(nd->in[0]);
    if (!bv || !xm_is_static(bv) || bv->dtype != EB_F32 || bv->ndim != 2)
        return xm_unsupported(nd, err, "a second operand that is not a constant 2-D matrix");
    if (gemm && nd->a.trans_a)
        return xm_unsupported(nd, err, "transA=1");
    if (xa->nhwc)
        return xm_unsupported(nd, err, "a product over the width of an NCHW tensor");
    if (a->ndim < (gemm ? 2 : 1) || (gemm && a->ndim != 2))
        return xm_unsupported(nd, err, "a %d-D first operand", a->ndim);
    int tb = gemm && nd->a.trans_b;
    int64_t K = a->shape[a->ndim - 1], N = tb ? bv->shape[0] : bv->shape[1];
    if ((tb ? bv->shape[1] : bv->shape[0]) != K)
        return xm_unsupported(nd, err, "operands that do not agree");
    float alpha = gemm ? nd->a.alpha : 1.0f, beta = gemm ? nd->a.beta : 0.0f;
    const float *cb = NULL;
    int64_t cstep = 0;
    if (gemm && nd->n_in > 2 && nd->in[2] >= 0 && beta != 0.0f) {
        const ref_value *cv = GV(nd->in[2]);
        cb = xm_const(x, nd, 2, 0);
        int row = cv->numel == (size_t)N && cv->shape[cv->ndim - 1] == N;
        if (!cb || (!row && cv->numel != 1))
            return xm_unsupported(nd, err, "a C that is not a constant of N elements (or one)");
        cstep = row ? 1 : 0;
    }
    int vo = nd->out[0];
    float lo, hi;
    xm_fuse_act(x, &vo, &lo, &hi);
    float *fw = xm_own(x, (size_t)(N * K)), *fb = xm_own(x, (size_t)N);
    if (!fw || !fb)
        return eb_errf(err, "xnnpack: out of memory for the weights of '%s'", nd->name);
    const float *B = bv->data;
    const int64_t *pm = xa->perm; /* columns arrive in HWC order: k_hwc <- k_chw */
    for (int64_t n = 0; n < N; n++) {
        fb[n] = cb ? beta * cb[n * cstep] : 0.0f;
        for (int64_t k = 0; k < K; k++) {
            int64_t dst = k;
            if (pm[0]) {
                int64_t ci = k / (pm[1] * pm[2]), hw = k % (pm[1] * pm[2]);
                dst = hw * pm[0] + ci;
            }
            fw[n * K + dst] = alpha * (tb ? B[n * K + k] : B[k * N + n]);
        }
    }
    size_t fd[2] = {(size_t)N, (size_t)K}, bd[1] = {(size_t)N};
    uint32_t fid, bid = NONE;
    if ((rc = xm_def_static(x, nd, fw, 2, fd, &fid, err)) ||
        (cb && (rc = xm_def_static(x, nd, fb, 1, bd, &bid, err))) ||
        (rc = xm_def_value(x, nd, vo, 0, NULL, err)))
        return rc;
    enum xnn_status st = x->api.xnn_define_fully_connected(x->subgraph, lo, hi, xa->id, fid, bid,
                                                           XV(vo)->id, 0);
    return xm_status(st, nd, "xnn_define_fully_connected", err);
}

/* ---------------------------------------------------------------- pools */

/* XNNPACK has no ceil_mode: extra bottom/right padding gives the same windows (the extra
 * ones start inside the input, and padding never wins a max nor counts in an average that
 * excludes padding). */
static int xm_pool_pads(const eb_ref_conv2d *p, int64_t *pb, int64_t *pr)
{
    int64_t in[2] = {p->h, p->w}, k[2] = {p->kh, p->kw}, s[2] = {p->sh, p->sw},
            d[2] = {p->dh, p->dw}, b[2] = {p->pt, p->pl}, e[2] = {p->pb, p->pr},
            want[2] = {p->oh, p->ow};
    for (int i = 0; i < 2; i++) {
        int64_t got = (in[i] + b[i] + e[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
        if (got < want[i])
            e[i] += (want[i] - got) * s[i];
        got = (in[i] + b[i] + e[i] - d[i] * (k[i] - 1) - 1) / s[i] + 1;
        if (got != want[i])
            return -1;
    }
    *pb = e[0], *pr = e[1];
    return 0;
}

/* A 2-D pool's geometry as shape.c's spatial_plan makes it.  ref plans an integer MaxPool
 * (the quantized ones) in ops_pool_nd.c and leaves nd->conv empty, so it is derived here
 * from the attributes and the inferred output shape. */
static void xm_pool_geom(const xnn_session *x, const ref_node *nd, eb_ref_conv2d *p)
{
    *p = nd->conv;
    if (p->kh > 0)
        return;
    const ref_attrs *a = &nd->a;
    const ref_value *in = GV(nd->in[0]), *out = GV(nd->out[0]);
    int64_t io[2] = {in->shape[2], in->shape[3]}, oo[2] = {out->shape[2], out->shape[3]};
    int64_t pb[2], pe[2];
    for (int i = 0; i < 2; i++) {
        if (a->auto_pad == REF_PAD_SAME_UPPER || a->auto_pad == REF_PAD_SAME_LOWER) {
            int64_t total = (oo[i] - 1) * a->strides[i] + (a->kernel[i] - 1) * a->dilations[i] +
                            1 - io[i];
            total = total < 0 ? 0 : total;
            pb[i] = a->auto_pad == REF_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
        } else if (a->auto_pad == REF_PAD_VALID) {
            pb[i] = pe[i] = 0;
        } else {
            pb[i] = a->pads[i], pe[i] = a->pads[i + 2];
        }
    }
    p->n = in->shape[0], p->c = p->m = p->group = in->shape[1];
    p->h = io[0], p->w = io[1], p->kh = a->kernel[0], p->kw = a->kernel[1];
    p->sh = a->strides[0], p->sw = a->strides[1];
    p->dh = a->dilations[0], p->dw = a->dilations[1];
    p->pt = pb[0], p->pl = pb[1], p->pb = pe[0], p->pr = pe[1];
    p->oh = oo[0], p->ow = oo[1];
}

static int xm_pool(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *in = GV(nd->in[0]);
    int max = nd->op == REF_OP_MAXPOOL;
    /* MaxPool of a quantized tensor: XNNPACK's s8 max pooling (uint8 shifted to int8 keeps
     * the order, so the same element wins) */
    int rc = xm_act_q(x, nd, 0, max, err);
    if (rc)
        return rc;
    const xnn_val xq = *XV(nd->in[0]);
    if (in->ndim != 4)
        return xm_unsupported(nd, err, "%d-D pooling (xnnpack maps 2-D)", in->ndim - 2);
    if (nd->n_out > 1 && nd->out[1] >= 0)
        return xm_unsupported(nd, err, "MaxPool's Indices output");
    eb_ref_conv2d geom;
    xm_pool_geom(x, nd, &geom);
    const eb_ref_conv2d *p = &geom;
    int64_t pb, pr;
    if (p->sh < 1 || p->sw < 1 || xm_pool_pads(p, &pb, &pr) != 0)
        return xm_unsupported(nd, err, "this ceil_mode geometry");
    int extra = pb != p->pb || pr != p->pr;
    int vo = nd->out[0];
    float lo = -INFINITY, hi = INFINITY;
    if (!xq.q) /* a Relu after a quantized pool would read integers: left as it is */
        xm_fuse_act(x, &vo, &lo, &hi);
    uint32_t xi = XV(nd->in[0])->id;
    int64_t pt = p->pt, pl = p->pl;
    if (!max) {
        if (p->dh != 1 || p->dw != 1)
            return xm_unsupported(nd, err, "a dilated AveragePool");
        if (nd->a.count_include_pad && (pt || pl || pb || pr)) {
            /* padding that counts: pad with zeros first, then pool without padding */
            if (extra)
                return xm_unsupported(nd, err, "count_include_pad=1 with ceil_mode=1");
            size_t pre[4] = {0, (size_t)pt, (size_t)pl, 0}, post[4] = {0, (size_t)pb, (size_t)pr, 0};
            size_t d[4] = {(size_t)p->n, (size_t)(p->h + pt + pb), (size_t)(p->w + pl + pr),
                           (size_t)p->c};
            uint32_t padded;
            if ((rc = xm_def_temp(x, nd, 4, d, &padded, err)))
                return rc;
            enum xnn_status st =
                x->api.xnn_define_static_constant_pad(x->subgraph, pre, post, 0.0f, xi, padded, 0);
            if ((rc = xm_status(st, nd, "xnn_define_static_constant_pad", err)))
                return rc;
            xi = padded;
            pt = pl = pb = pr = 0;
        }
    }
    if ((rc = xm_def_value_q(x, nd, vo, 1, NULL, xq.q, xq.qs, xq.qz, err)))
        return rc;
    x->n_qs8_nodes += xq.q != 0;
    enum xnn_status st;
    if (max)
        st = x->api.xnn_define_max_pooling_2d(
            x->subgraph, (uint32_t)pt, (uint32_t)pr, (uint32_t)pb, (uint32_t)pl,
            (uint32_t)p->kh, (uint32_t)p->kw, (uint32_t)p->sh, (uint32_t)p->sw, (uint32_t)p->dh,
            (uint32_t)p->dw, lo, hi, xi, XV(vo)->id, 0);
    else
        st = x->api.xnn_define_average_pooling_2d(
            x->subgraph, (uint32_t)pt, (uint32_t)pr, (uint32_t)pb, (uint32_t)pl,
            (uint32_t)p->kh, (uint32_t)p->kw, (uint32_t)p->sh, (uint32_t)p->sw, lo, hi, xi,
            XV(vo)->id, 0);
    return xm_status(st, nd, max ? "xnn_define_max_pooling_2d" : "xnn_define_average_pooling_2d",
                     err);
}

/* GlobalAveragePool, and ReduceMean over H and W (how mnasnet ends). */
static int xm_global_avg(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *in = GV(nd->in[0]), *out = GV(nd->out[0]);
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;
    if (in->ndim != 4 || !XV(nd->in[0])->nhwc)
        return xm_unsupported(nd, err, "a mean over other than the H and W of a 4-D tensor");
    int keep = 1;
    if (nd->op == REF_OP_REDUCEMEAN) {
        int64_t ax[EB_MAX_DIMS];
        int n = 0;
        const ref_attr *at = ref_attr_get(nd, "axes");
        if (at && at->ints) {
            n = at->n < EB_MAX_DIMS ? at->n : EB_MAX_DIMS;
            memcpy(ax, at->ints, (size_t)n * sizeof *ax);
        } else if (nd->n_in > 1 && nd->in[1] >= 0 && xm_is_static(GV(nd->in[1])) &&
                   GV(nd->in[1])->dtype == EB_I64 && GV(nd->in[1])->numel <= EB_MAX_DIMS) {
            n = (int)GV(nd->in[1])->numel;
            memcpy(ax, GV(nd->in[1])->data, (size_t)n * sizeof *ax);
        }
        int seen = 0;
        for (int i = 0; i < n; i++) {
            int64_t a = ax[i] < 0 ? ax[i] + 4 : ax[i];
            seen |= a == 2 ? 1 : a == 3 ? 2 : 4;
        }
        if (seen != 3)
            return xm_unsupported(nd, err, "ReduceMean over axes other than {2, 3}");
        keep = (int)ref_attr_i(nd, "keepdims", 1);
    }
    int vo = nd->out[0];
    float lo, hi;
    xm_fuse_act(x, &vo, &lo, &hi);
    uint32_t pooled;
    if (keep) {
        if ((rc = xm_def_value(x, nd, vo, 1, NULL, err)))
            return rc;
        pooled = XV(vo)->id;
    } else {
        size_t d[4] = {(size_t)in->shape[0], 1, 1, (size_t)in->shape[1]};
        if ((rc = xm_def_temp(x, nd, 4, d, &pooled, err)))
            return rc;
    }
    enum xnn_status st = x->api.xnn_define_global_average_pooling_2d(
        x->subgraph, lo, hi, XV(nd->in[0])->id, pooled, 0);
    if ((rc = xm_status(st, nd, "xnn_define_global_average_pooling_2d", err)) || keep)
        return rc;
    /* [N, 1, 1, C] -> the ONNX output ([N, C]): the same memory */
    if ((rc = xm_def_value(x, nd, vo, 0, NULL, err)))
        return rc;
    size_t d[EB_MAX_DIMS];
    xm_dims(out, 0, d);
    st = x->api.xnn_define_static_reshape(x->subgraph, (size_t)out->ndim, d, pooled, XV(vo)->id, 0);
    return xm_status(st, nd, "xnn_define_static_reshape", err);
}

/* ---------------------------------------------------------------- reshapes */

/* Flatten, Reshape, Squeeze, Unsqueeze: the output shape is known; allowed when the data
 * need not move in the layouts the values have (see xnn_internal.h). */
static int xm_reshape(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *in = GV(nd->in[0]), *out = GV(nd->out[0]);
    int rc = xm_act_q(x, nd, 0, 1, err); /* the bytes of a quantized tensor reshape as floats do */
    if (rc)
        return rc;
    const xnn_val *xi = XV(nd->in[0]);
    int nhwc = 0;
    int64_t perm[3] = {0, 0, 0};
    const int64_t *os = out->shape;
    if (xi->nhwc) {
        int64_t N = in->shape[0], C = in->shape[1], HW = in->shape[2] * in->shape[3];
        if (out->ndim == 2 && os[0] == N) {
            if (C > 1 && HW > 1)
                perm[0] = C, perm[1] = in->shape[2], perm[2] = in->shape[3];
        } else if (out->ndim == 4 && os[0] == N &&
                   ((HW == 1 && os[2] * os[3] == 1) || (C == 1 && os[1] == 1))) {
            nhwc = 1;
        } else if (!(out->ndim != 4 && (HW == 1 || C == 1))) {
            return xm_unsupported(nd, err, "reshaping an NCHW tensor %lldx%lldx%lldx%lld this "
                                  "way (XNNPACK runs NHWC, and this snapshot has no Transpose)",
                                  (long long)N, (long long)C, (long long)in->shape[2],
                                  (long long)in->shape[3]);
        }
    } else if (xi->perm[0]) {
        const int64_t *p = xi->perm;
        if (out->ndim == 2 && os[0] == in->shape[0] && os[1] == in->shape[1])
            memcpy(perm, p, sizeof perm);
        else if (out->ndim == 4 && os[0] == in->shape[0] && os[1] == p[0] && os[2] == p[1] &&
                 os[3] == p[2])
            nhwc = 1; /* HWC order is NHWC's */
        else
            return xm_unsupported(nd, err, "reshaping a flattened NCHW tensor this way");
    } else if (out->ndim == 4) {
        if (!(os[1] == 1 || os[2] * os[3] == 1))
            return xm_unsupported(nd, err, "reshaping to a 4-D NCHW tensor (XNNPACK runs NHWC, "
                                  "and this snapshot has no Transpose)");
        nhwc = 1;
    }
    int vo = nd->out[0];
    if ((rc = xm_def_value_q(x, nd, vo, nhwc, perm, xi->q, xi->qs, xi->qz, err)))
        return rc;
    size_t d[EB_MAX_DIMS];
    xm_dims(out, nhwc, d);
    enum xnn_status st = x->api.xnn_define_static_reshape(x->subgraph, (size_t)out->ndim, d,
                                                          xi->id, XV(vo)->id, 0);
    return xm_status(st, nd, "xnn_define_static_reshape", err);
}

/* ---------------------------------------------------------------- elementwise */

/* Static operand v of a binary op whose output has rank r (and is NHWC when nhwc), as an
 * XNNPACK constant: right-aligned to rank r, permuted to NHWC when it has to be. */
static int xm_bin_static(xnn_session *x, const ref_node *nd, const ref_value *v, int r, int nhwc,
                         uint32_t *id, eb_err *err)
{
    if (v->dtype != EB_F32)
        return xm_unsupported(nd, err, "a %s constant operand", eb_dtype_name(v->dtype));
    int64_t s[EB_MAX_DIMS];
    for (int i = 0; i < r; i++)
        s[i] = i < r - v->ndim ? 1 : v->shape[i - (r - v->ndim)];
    float *f = xm_own(x, v->numel ? v->numel : 1);
    if (!f)
        return eb_errf(err, "xnnpack: out of memory for a constant of '%s'", nd->name);
    const float *src = v->data;
    size_t d[EB_MAX_DIMS];
    if (nhwc) { /* [s0][s1][s2][s3] -> [s0][s2][s3][s1] */
        for (int64_t a = 0; a < s[0]; a++)
            for (int64_t c = 0; c < s[1]; c++)
                for (int64_t h = 0; h < s[2]; h++)
                    for (int64_t w = 0; w < s[3]; w++)
                        f[((a * s[2] + h) * s[3] + w) * s[1] + c] =
                            src[((a * s[1] + c) * s[2] + h) * s[3] + w];
        d[0] = (size_t)s[0], d[1] = (size_t)s[2], d[2] = (size_t)s[3], d[3] = (size_t)s[1];
    } else {
        memcpy(f, src, v->numel * sizeof *f);
        for (int i = 0; i < r; i++)
            d[i] = (size_t)s[i];
    }
    return xm_def_static(x, nd, f, r, d, id, err);
}

static int xm_binary(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *out = GV(nd->out[0]);
    int r = out->ndim, nhwc = 0, n_act = 0;
    const int64_t *perm = NULL;
    for (int k = 0; k < 2; k++) {
        const ref_value *v = GV(nd->in[k]);
        if (xm_is_static(v))
            continue;
        int rc = xm_act(x, nd, k, err);
        if (rc)
            return rc;
        const xnn_val *xv = XV(nd->in[k]);
        n_act++;
        nhwc |= xv->nhwc;
        if (xv->perm[0]) {
            if (perm && memcmp(perm, xv->perm, sizeof xv->perm) != 0)
                return xm_unsupported(nd, err, "operands flattened from different shapes");
            perm = xv->perm;
        }
    }
    for (int k = 0; k < 2; k++) {
        const ref_value *v = GV(nd->in[k]);
        int st = xm_is_static(v);
        if (nhwc && !st && (v->ndim != 4 || !XV(nd->in[k])->nhwc))
            return xm_unsupported(nd, err, "broadcasting a %d-D tensor against an NCHW one",
                                  v->ndim);
        if (perm && (st ? v->numel != 1 : !XV(nd->in[k])->perm[0]))
            return xm_unsupported(nd, err, "broadcasting against a flattened NCHW tensor");
    }
    if (nhwc && r != 4)
        return xm_unsupported(nd, err, "a %d-D result of an NCHW operand", r);
    uint32_t ids[2];
    for (int k = 0; k < 2; k++) {
        const ref_value *v = GV(nd->in[k]);
        int rc = xm_is_static(v) ? xm_bin_static(x, nd, v, r, nhwc, &ids[k], err) : 0;
        if (rc)
            return rc;
        if (!xm_is_static(v))
            ids[k] = XV(nd->in[k])->id;
    }
    int vo = nd->out[0];
    float lo, hi;
    xm_fuse_act(x, &vo, &lo, &hi);
    int64_t pz[3] = {0, 0, 0};
    int rc = xm_def_value(x, nd, vo, nhwc, perm ? perm : pz, err);
    if (rc)
        return rc;
    uint32_t y = XV(vo)->id;
    enum xnn_status st;
    const char *call;
    switch (nd->op) {
    case REF_OP_ADD:
        st = x->api.xnn_define_add2(x->subgraph, lo, hi, ids[0], ids[1], y, 0), call = "xnn_define_add2";
        break;
    case REF_OP_MUL:
        st = x->api.xnn_define_multiply2(x->subgraph, lo, hi, ids[0], ids[1], y, 0),
        call = "xnn_define_multiply2";
        break;
    case REF_OP_SUB:
        st = x->api.xnn_define_subtract(x->subgraph, lo, hi, ids[0], ids[1], y, 0),
        call = "xnn_define_subtract";
        break;
    default:
        st = x->api.xnn_define_divide(x->subgraph, lo, hi, ids[0], ids[1], y, 0),
        call = "xnn_define_divide";
        break;
    }
    (void)n_act;
    return xm_status(st, nd, call, err);
}

/* One-input operators whose output keeps the input's layout. */
static int xm_unary(xnn_session *x, const ref_node *nd, eb_err *err)
{
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;
    const xnn_val xi = *XV(nd->in[0]);
    int vo = nd->out[0];
    float lo = -INFINITY, hi = INFINITY;
    if (nd->op == REF_OP_CLIP && xm_clip_bounds(x, nd, &lo, &hi) != 0)
        return xm_unsupported(nd, err, "Clip bounds computed at run time");
    if (nd->op == REF_OP_RELU)
        lo = 0.0f;
    if (nd->op == REF_OP_SOFTMAX) {
        const ref_value *in = GV(nd->in[0]);
        int r = in->ndim;
        int64_t axis = ref_attr_i(nd, "axis", x->g->opset >= 13 ? -1 : 1);
        if (axis < 0)
            axis += r;
        /* XNNPACK's softmax runs over the innermost axis: ONNX's channels when NHWC; before
         * opset 13 ONNX's runs over every axis from `axis` on, the same only when H*W is 1 */
        int last = xi.nhwc ? axis == 1 && (x->g->opset >= 13 || in->shape[2] * in->shape[3] == 1)
                           : axis == r - 1;
        if (!last)
            return xm_unsupported(nd, err, "Softmax over axis %lld of a %d-D tensor (xnnpack "
                                  "maps the channel or last axis)", (long long)axis, r);
    }
    if ((nd->op == REF_OP_DROPOUT || nd->op == REF_OP_IDENTITY)) {
        if (nd->n_out > 1 && nd->out[1] >= 0 && XV(nd->out[1])->consumers > 0)
            return xm_unsupported(nd, err, "Dropout's mask output");
        if (!GV(vo)->is_output) { /* no node: the output is the input */
            XV(vo)->id = xi.id, XV(vo)->nhwc = xi.nhwc;
            XV(vo)->part = xi.part, XV(vo)->buf = xi.buf;
            memcpy(XV(vo)->perm, xi.perm, sizeof xi.perm);
            return 0;
        }
    }
    if (nd->op == REF_OP_RELU || nd->op == REF_OP_CLIP) {
        float l2, h2;
        xm_fuse_act(x, &vo, &l2, &h2); /* Relu then Clip: one clamp */
        lo = fmaxf(lo, l2), hi = fminf(hi, h2);
    }
    if ((rc = xm_def_value(x, nd, vo, xi.nhwc, xi.perm, err)))
        return rc;
    uint32_t y = XV(vo)->id;
    enum xnn_status st;
    const char *call;
    switch (nd->op) {
    case REF_OP_SIGMOID:
        st = x->api.xnn_define_sigmoid(x->subgraph, xi.id, y, 0), call = "xnn_define_sigmoid";
        break;
    case REF_OP_HARDSWISH:
        st = x->api.xnn_define_hardswish(x->subgraph, xi.id, y, 0), call = "xnn_define_hardswish";
        break;
    case REF_OP_LEAKYRELU:
        st = x->api.xnn_define_leaky_relu(x->subgraph, ref_attr_f(nd, "alpha", 0.01f), xi.id, y, 0),
        call = "xnn_define_leaky_relu";
        break;
    case REF_OP_ABS:
        st = x->api.xnn_define_abs(x->subgraph, xi.id, y, 0), call = "xnn_define_abs";
        break;
    case REF_OP_NEG:
        st = x->api.xnn_define_negate(x->subgraph, xi.id, y, 0), call = "xnn_define_negate";
        break;
    case REF_OP_FLOOR:
        st = x->api.xnn_define_floor(x->subgraph, xi.id, y, 0), call = "xnn_define_floor";
        break;
    case REF_OP_CEIL:
        st = x->api.xnn_define_ceiling(x->subgraph, xi.id, y, 0), call = "xnn_define_ceiling";
        break;
    case REF_OP_SQRT:
        st = x->api.xnn_define_square_root(x->subgraph, xi.id, y, 0), call = "xnn_define_square_root";
        break;
    case REF_OP_SOFTMAX:
        st = x->api.xnn_define_softmax(x->subgraph, xi.id, y, 0), call = "xnn_define_softmax";
        break;
    default: /* Relu, Clip; Identity/Dropout as a graph output: a copy */
        st = x->api.xnn_define_clamp(x->subgraph, lo, hi, xi.id, y, 0), call = "xnn_define_clamp";
        break;
    }
    return xm_status(st, nd, call, err);
}

/* BatchNormalization not after a Conv: y = x * scale + shift, per channel. */
static int xm_batchnorm(xnn_session *x, const ref_node *nd, eb_err *err)
{
    const ref_value *in = GV(nd->in[0]);
    int rc = xm_act(x, nd, 0, err);
    if (rc)
        return rc;
    const xnn_val xi = *XV(nd->in[0]);
    int64_t C = in->ndim >= 2 ? in->shape[1] : 0;
    const float *p[4];
    for (int k = 0; k < 4; k++)
        if (!(p[k] = xm_const(x, nd, k + 1, (size_t)C)))
            return xm_unsupported(nd, err, "statistics computed at run time");
    if (xi.perm[0] || (!xi.nhwc && in->ndim > 3) || in->ndim < 2)
        return xm_unsupported(nd, err, "BatchNormalization of a %d-D tensor here", in->ndim);
    float *sc = xm_own(x, (size_t)C), *sh = xm_own(x, (size_t)C);
    if (!sc || !sh)
        return eb_errf(err, "xnnpack: out of memory for '%s'", nd->name);
    for (int64_t c = 0; c < C; c++) {
        sc[c] = p[0][c] / sqrtf(p[3][c] + nd->a.epsilon);
        sh[c] = p[1][c] - p[2][c] * sc[c];
    }
    /* channel last in NHWC and in [N, C]; [N, C, L] broadcasts against [C, 1] */
    size_t d[2] = {(size_t)C, 1};
    int nd_c = in->ndim == 3 ? 2 : 1;
    uint32_t sid, hid, tmp;
    size_t td[EB_MAX_DIMS];
    xm_dims(in, xi.nhwc, td);
    int vo = nd->out[0];
    float lo, hi;
    xm_fuse_act(x, &vo, &lo, &hi);
    if ((rc = xm_def_static(x, nd, sc, nd_c, d, &sid, err)) ||
        (rc = xm_def_static(x, nd, sh, nd_c, d, &hid, err)) ||
        (rc = xm_def_temp(x, nd, in->ndim, td, &tmp, err)) ||
        (rc = xm_def_value(x, nd, vo, xi.nhwc, NULL, err)))
        return rc;
    enum xnn_status st = x->api.xnn_define_multiply2(x->subgraph, -INFINITY, INFINITY, xi.id, sid,
                                                     tmp, 0);
    if ((rc = xm_status(st, nd, "xnn_define_multiply2", err)))
        return rc;
    st = x->api.xnn_define_add2(x->subgraph, lo, hi, tmp, hid, XV(vo)->id, 0);
    return xm_status(st, nd, "xnn_define_add2", err);
}

/* ---------------------------------------------------------------- glue (partitions) */

/* Pure data movement that this snapshot's subgraph API cannot express (Concat, Split, Slice,
 * Transpose, a Reshape that moves data in NHWC) ends the current subgraph: its inputs become
 * external outputs of the runtime before, it runs here as strided copies between buffers, and
 * its outputs are external inputs of the runtime after.  The copies address each buffer in its
 * own layout (NHWC for 4-D values), so a channel Concat or Split in NHWC is a copy of C-runs per
 * pixel and no layout conversion happens at the boundary. */

static int xm_is_glue_op(const ref_node *nd)
{
    return nd->op == REF_OP_CONCAT || nd->op == REF_OP_SPLIT || nd->op == REF_OP_SLICE ||
           nd->op == REF_OP_TRANSPOSE;
}

/* A Flatten/Reshape/Squeeze/Unsqueeze that xm_reshape would refuse because data moves
 * between NCHW and NHWC order (the conditions mirror xm_reshape's). */
static int xm_reshape_moves(xnn_session *x, const ref_node *nd)
{
    if ((nd->op != REF_OP_FLATTEN && nd->op != REF_OP_RESHAPE && nd->op != REF_OP_SQUEEZE &&
         nd->op != REF_OP_UNSQUEEZE) ||
        nd->n_in < 1 || nd->in[0] < 0 || nd->out[0] < 0)
        return 0;
    const ref_value *in = GV(nd->in[0]), *out = GV(nd->out[0]);
    const xnn_val *xi = XV(nd->in[0]);
    const int64_t *os = out->shape;
    if (xi->q || xi->perm[0] || in->dtype != EB_F32 || (xi->id == NONE && !xi->buf))
        return 0;
    if (xi->nhwc) {
        int64_t N = in->shape[0], C = in->shape[1], HW = in->shape[2] * in->shape[3];
        if (out->ndim == 2 && os[0] == N)
            return 0;
        if (out->ndim == 4 && os[0] == N &&
            ((HW == 1 && os[2] * os[3] == 1) || (C == 1 && os[1] == 1)))
            return 0;
        return !(out->ndim != 4 && (HW == 1 || C == 1));
    }
    return out->ndim == 4 && !(os[1] == 1 || os[2] * os[3] == 1);
}

/* Strides (in floats) of v's ONNX axes in its buffer: row-major, or NHWC when nhwc. */
static void xm_strides(const ref_value *v, int nhwc, int64_t *st)
{
    int64_t m = 1;
    for (int i = v->ndim - 1; i >= 0; i--)
        st[i] = m, m *= v->shape[i];
    if (nhwc && v->ndim == 4) {
        int64_t C = v->shape[1], H = v->shape[2], W = v->shape[3];
        st[0] = H * W * C, st[1] = 1, st[2] = W * C, st[3] = C;
    }
}

static void xm_rowmajor(int r, const int64_t *shape, int64_t *st)
{
    int64_t m = 1;
    for (int i = r - 1; i >= 0; i--)
        st[i] = m, m *= shape[i];
}

/* Appends a copy of the r-D block `shape` from src (strides ss) to dst (strides ds), with its
 * axes ordered by the destination's strides and contiguous neighbours merged. */
static int xm_copy(xnn_session *x, const float *src, const int64_t *ss, float *dst,
                   const int64_t *ds, int r, const int64_t *shape, eb_err *err)
{
    int64_t n[EB_MAX_DIMS + 1], a[EB_MAX_DIMS + 1], b[EB_MAX_DIMS + 1];
    int k = 0;
    for (int i = 0; i < r; i++) {
        if (shape[i] == 0)
            return 0; /* nothing to copy */
        if (shape[i] == 1)
            continue;
        int j = k++;
        while (j > 0 && b[j - 1] < ds[i]) /* insertion: outermost (largest dst stride) first */
            n[j] = n[j - 1], a[j] = a[j - 1], b[j] = b[j - 1], j--;
        n[j] = shape[i], a[j] = ss[i], b[j] = ds[i];
    }
    if (k == 0)
        n[0] = 1, a[0] = 1, b[0] = 1, k = 1;
    int m = 0; /* merge axis i into the one before when both sides are contiguous across them */
    for (int i = 1; i < k; i++) {
        if (a[m] == a[i] * n[i] && b[m] == b[i] * n[i])
            n[m] *= n[i], a[m] = a[i], b[m] = b[i];
        else
            ++m, n[m] = n[i], a[m] = a[i], b[m] = b[i];
    }
    k = m + 1;
    if (x->n_copies == x->cap_copies) {
        size_t cap = x->cap_copies ? 2 * x->cap_copies : 32;
        xnn_copy *c = realloc(x->copies, cap * sizeof *c);
        if (!c)
            return eb_errf(err, "xnnpack: out of memory");
        x->copies = c, x->cap_copies = cap;
    }
    xnn_copy *c = &x->copies[x->n_copies++];
    memset(c, 0, sizeof *c);
    c->src = src, c->dst = dst, c->nd = k;
    memcpy(c->n, n, (size_t)k * sizeof *n);
    memcpy(c->ss, a, (size_t)k * sizeof *a);
    memcpy(c->ds, b, (size_t)k * sizeof *b);
    return 0;
}

/* The buffer and strides of glue input k of nd (a constant is row-major in place). */
static int xm_glue_in(xnn_session *x, const ref_node *nd, int k, const float **buf, int64_t *st,
                      eb_err *err)
{
    if (k >= nd->n_in || nd->in[k] < 0)
        return xm_unsupported(nd, err, "a missing input %d", k);
    int vi = nd->in[k];
    const ref_value *v = GV(vi);
    xnn_val *xv = XV(vi);
    if (v->dtype != EB_F32)
        return xm_unsupported(nd, err, "input '%s' of type %s (xnnpack maps float32)", v->name,
                              eb_dtype_name(v->dtype));
    if (xm_is_static(v)) {
        *buf = v->data;
        xm_strides(v, 0, st);
        return 0;
    }
    if (xv->q || xv->perm[0])
        return xm_unsupported(nd, err, "input '%s', a %s tensor, here", v->name,
                              xv->q ? "quantized" : "flattened NHWC");
    if (xv->id == NONE && !xv->buf)
        return xm_unsupported(nd, err, "input '%s' computed by nothing mapped", v->name);
    int rc;
    if (!xv->buf && (rc = xm_materialize(x, nd, vi, err)))
        return rc;
    *buf = xv->buf;
    xm_strides(v, xv->nhwc, st);
    return 0;
}

/* Output k of glue node nd: a buffer, NHWC when 4-D. */
static int xm_glue_out(xnn_session *x, const ref_node *nd, int k, float **buf, int64_t *st,
                       eb_err *err)
{
    int vo = nd->out[k];
    xnn_val *xv = XV(vo);
    if (!(xv->buf = xm_value_buf(x, vo)))
        return eb_errf(err, "xnnpack: out of memory for '%s'", nd->name);
    xv->id = NONE, xv->part = -1, xv->q = 0;
    xv->nhwc = GV(vo)->ndim == 4;
    memset(xv->perm, 0, sizeof xv->perm);
    *buf = xv->buf;
    xm_strides(GV(vo), xv->nhwc, st);
    return 0;
}

static int xm_push_step(xnn_session *x, xnn_step s, eb_err *err)
{
    if (x->n_steps == x->cap_steps) {
        int cap = x->cap_steps ? 2 * x->cap_steps : 16;
        xnn_step *p = realloc(x->steps, (size_t)cap * sizeof *p);
        if (!p)
            return eb_errf(err, "xnnpack: out of memory");
        x->steps = p, x->cap_steps = cap;
    }
    x->steps[x->n_steps++] = s;
    return 0;
}

static int xm_shuffle_match(xnn_session *x, int ni, int *ti_, int *ri_, int64_t *g,
                            int64_t *cg);

static int xm_glue(xnn_session *x, int ni, eb_err *err)
{
    ref_node *nd = &x->g->nodes[ni];
    const float *ib[64];
    int64_t is[64][EB_MAX_DIMS], os[EB_MAX_DIMS], sst[EB_MAX_DIMS];
    float *ob;
    int n_data = nd->op == REF_OP_CONCAT ? nd->n_in : 1, rc;
    if (n_data > 64)
        return xm_unsupported(nd, err, "a Concat of %d inputs", n_data);
    for (int k = 0; k < n_data; k++)
        if ((rc = xm_glue_in(x, nd, k, &ib[k], is[k], err)))
            return rc;
    x->cur = -1; /* the next mapped node starts a new subgraph */
    x->subgraph = NULL;
    size_t c0 = x->n_copies;
    const ref_value *in = GV(nd->in[0]);
    switch (nd->op) {
    case REF_OP_CONCAT: {
        const ref_value *out = GV(nd->out[0]);
        int64_t ax, off = 0;
        if (ref_norm_axis(ref_attr_i(nd, "axis", 0), out->ndim, &ax) != 0)
            return xm_unsupported(nd, err, "its axis");
        /* A channel Concat of g inputs of C/g channels each, read only by a channel shuffle
         * of g groups (ShuffleNet's block ends): input k's channel j is output channel
         * j * g + k, so the concat writes the shuffled tensor and the shuffle does nothing. */
        int r1 = xm_sole_consumer(x, nd->out[0]), ti, ri;
        int64_t g, cg;
        if (ax == 1 && out->ndim == 4 && r1 >= 0 && xm_shuffle_match(x, r1, &ti, &ri, &g, &cg) &&
            g == n_data) {
            int fits = 1;
            for (int k = 0; k < n_data; k++)
                fits &= GV(nd->in[k])->ndim == 4 && GV(nd->in[k])->shape[1] == cg;
            if (fits) {
                if ((rc = xm_glue_out(x, &x->g->nodes[ri], 0, &ob, os, err)))
                    return rc;
                int64_t ds[4] = {os[0], os[1] * g, os[2], os[3]};
                for (int k = 0; k < n_data; k++)
                    if ((rc = xm_copy(x, ib[k], is[k], ob + k * os[1], ds, 4,
                                      GV(nd->in[k])->shape, err)))
                        return rc;
                x->skip[r1] = x->skip[ti] = x->skip[ri] = 1;
                x->n_glue += 3;
                break;
            }
        }
        if ((rc = xm_glue_out(x, nd, 0, &ob, os, err)))
            return rc;
        for (int k = 0; k < n_data; k++) {
            const ref_value *v = GV(nd->in[k]);
            if (v->ndim != out->ndim)
                return xm_unsupported(nd, err, "inputs of different ranks");
            if ((rc = xm_copy(x, ib[k], is[k], ob + off * os[ax], os, v->ndim, v->shape, err)))
                return rc;
            off += v->shape[ax];
        }
        break;
    }
    case REF_OP_SPLIT: {
        int64_t ax, off = 0;
        if (ref_norm_axis(ref_attr_i(nd, "axis", 0), in->ndim, &ax) != 0 || !nd->aux)
            return xm_unsupported(nd, err, "its axis or sizes");
        for (int k = 0; k < nd->n_out; k++) {
            int64_t size = ((const int64_t *)nd->aux)[k];
            if (nd->out[k] >= 0) {
                if ((rc = xm_glue_out(x, nd, k, &ob, os, err)) ||
                    (rc = xm_copy(x, ib[0] + off * is[0][ax], is[0], ob, os, in->ndim,
                                  GV(nd->out[k])->shape, err)))
                    return rc;
            }
            off += size;
        }
        break;
    }
    case REF_OP_TRANSPOSE: {
        const ref_attr *p = ref_attr_get(nd, "perm");
        const ref_value *out = GV(nd->out[0]);
        if ((rc = xm_glue_out(x, nd, 0, &ob, os, err)))
            return rc;
        for (int j = 0; j < in->ndim; j++)
            sst[j] = is[0][p ? p->ints[j] : in->ndim - 1 - j];
        if ((rc = xm_copy(x, ib[0], sst, ob, os, out->ndim, out->shape, err)))
            return rc;
        break;
    }
    case REF_OP_SLICE: {
        int64_t starts[EB_MAX_DIMS], ends[EB_MAX_DIMS], axes[EB_MAX_DIMS], steps[EB_MAX_DIMS];
        int ns = 0, ne = 0, na = -1, nst = -1;
        if (x->g->opset < 10) {
            const ref_attr *as = ref_attr_get(nd, "starts"), *ax = ref_attr_get(nd, "axes");
            if (!as || as->n > EB_MAX_DIMS || (ax && ax->n != as->n))
                return xm_unsupported(nd, err, "its starts");
            ns = as->n;
            memcpy(starts, as->ints, (size_t)ns * 8);
            if (ax)
                na = ax->n, memcpy(axes, ax->ints, (size_t)na * 8);
        } else {
            eb_err e2;
            if (ref_static_ints(x->g, nd, 1, "starts", starts, EB_MAX_DIMS, &ns, &e2) != 0 ||
                ref_static_ints(x->g, nd, 2, "ends", ends, EB_MAX_DIMS, &ne, &e2) != 0 ||
                (nd->n_in > 3 && nd->in[3] >= 0 &&
                 ref_static_ints(x->g, nd, 3, "axes", axes, EB_MAX_DIMS, &na, &e2) != 0) ||
                (nd->n_in > 4 && nd->in[4] >= 0 &&
                 ref_static_ints(x->g, nd, 4, "steps", steps, EB_MAX_DIMS, &nst, &e2) != 0))
                return xm_unsupported(nd, err, "starts/ends/axes/steps computed at run time");
        }
        const ref_value *out = GV(nd->out[0]);
        int64_t base = 0;
        memcpy(sst, is[0], sizeof sst);
        for (int i = 0; i < ns; i++) {
            int64_t a;
            if (ref_norm_axis(na >= 0 ? axes[i] : i, in->ndim, &a) != 0)
                return xm_unsupported(nd, err, "its axes");
            int64_t step = nst >= 0 ? steps[i] : 1, dim = in->shape[a], s0 = starts[i];
            if (s0 < 0)
                s0 += dim;
            s0 = step > 0 ? (s0 < 0 ? 0 : s0 > dim ? dim : s0)
                          : (s0 < -1 ? -1 : s0 > dim - 1 ? dim - 1 : s0);
            if (out->shape[a] > 0)
                base += s0 * is[0][a];
            sst[a] = is[0][a] * step;
        }
        if ((rc = xm_glue_out(x, nd, 0, &ob, os, err)) ||
            (rc = xm_copy(x, ib[0] + base, sst, ob, os, out->ndim, out->shape, err)))
            return rc;
        break;
    }
    default: { /* a reshape that moves data: through ONNX (row-major) order */
        const ref_value *out = GV(nd->out[0]);
        int in_nhwc = XV(nd->in[0])->nhwc && in->ndim == 4;
        if ((rc = xm_glue_out(x, nd, 0, &ob, os, err)))
            return rc;
        int out_nhwc = XV(nd->out[0])->nhwc;
        if (in_nhwc && out_nhwc) { /* NHWC -> row-major scratch -> NHWC */
            float *t = xm_own(x, in->numel);
            if (!t)
                return eb_errf(err, "xnnpack: out of memory for '%s'", nd->name);
            xm_rowmajor(in->ndim, in->shape, sst);
            if ((rc = xm_copy(x, ib[0], is[0], t, sst, in->ndim, in->shape, err)))
                return rc;
            xm_rowmajor(out->ndim, out->shape, sst);
            rc = xm_copy(x, t, sst, ob, os, out->ndim, out->shape, err);
        } else if (in_nhwc) {
            xm_rowmajor(in->ndim, in->shape, sst);
            rc = xm_copy(x, ib[0], is[0], ob, sst, in->ndim, in->shape, err);
        } else {
            xm_rowmajor(out->ndim, out->shape, sst);
            rc = xm_copy(x, ib[0], sst, ob, os, out->ndim, out->shape, err);
        }
        if (rc)
            return rc;
        break;
    }
    }
    return xm_push_step(x, (xnn_step){.part = -1, .node = ni, .c0 = c0, .nc = x->n_copies - c0},
                        err);
}

/* ShuffleNet's channel shuffle, Reshape [N, C, H, W] -> [N, g, C/g, H, W] -> Transpose
 * (0, 2, 1, 3, 4) -> Reshape [N, C, H, W], each the sole reader of the one before: in NHWC a
 * permutation of the channels of every pixel, out[j * g + i] = in[i * C/g + j], one strided copy
 * instead of three (two of them through ONNX order).  1 when nodes ni.. were taken, 0 when
 * they are not that, -1/EB_UNSUPPORTED as xm_glue. */
/* Whether Reshape node ni heads such a shuffle: *ti, *ri the Transpose and last Reshape,
 * *g the groups, *cg the channels per group. */
static int xm_shuffle_match(xnn_session *x, int ni, int *ti_, int *ri_, int64_t *g, int64_t *cg)
{
    ref_node *r1 = &x->g->nodes[ni];
    if (r1->op != REF_OP_RESHAPE || r1->n_in < 1 || r1->in[0] < 0 || r1->out[0] < 0)
        return 0;
    const ref_value *in = GV(r1->in[0]), *v5 = GV(r1->out[0]);
    if (in->ndim != 4 || v5->ndim != 5 || v5->shape[0] != in->shape[0] ||
        v5->shape[1] * v5->shape[2] != in->shape[1] || v5->shape[3] != in->shape[2] ||
        v5->shape[4] != in->shape[3])
        return 0;
    int ti = xm_sole_consumer(x, r1->out[0]);
    if (ti < 0 || x->g->nodes[ti].op != REF_OP_TRANSPOSE)
        return 0;
    const ref_node *t = &x->g->nodes[ti];
    const ref_attr *p = ref_attr_get(t, "perm");
    static const int64_t want[5] = {0, 2, 1, 3, 4};
    if (!p || p->n != 5 || memcmp(p->ints, want, sizeof want) != 0)
        return 0;
    int ri = xm_sole_consumer(x, t->out[0]);
    if (ri < 0 || x->g->nodes[ri].op != REF_OP_RESHAPE)
        return 0;
    const ref_value *out = GV(x->g->nodes[ri].out[0]);
    if (out->ndim != 4 || memcmp(out->shape, in->shape, 4 * sizeof *in->shape) != 0)
        return 0;
    *ti_ = ti, *ri_ = ri, *g = v5->shape[1], *cg = v5->shape[2];
    return 1;
}

static int xm_shuffle(xnn_session *x, int ni, eb_err *err)
{
    ref_node *r1 = &x->g->nodes[ni];
    int ti, ri;
    int64_t g, cg;
    if (!xm_shuffle_match(x, ni, &ti, &ri, &g, &cg))
        return 0;
    const ref_value *in = GV(r1->in[0]);
    const xnn_val *xi = XV(r1->in[0]);
    if (!xi->nhwc || xi->q)
        return 0;
    ref_node *r2 = &x->g->nodes[ri];
    const float *ib;
    float *ob;
    int64_t is[EB_MAX_DIMS], os[EB_MAX_DIMS];
    int rc = xm_glue_in(x, r1, 0, &ib, is, err);
    if (rc)
        return rc;
    x->cur = -1;
    x->subgraph = NULL;
    size_t c0 = x->n_copies;
    if ((rc = xm_glue_out(x, r2, 0, &ob, os, err)))
        return rc;
    int64_t C = in->shape[1];
    int64_t shape[3] = {in->shape[0] * in->shape[2] * in->shape[3], g, cg};
    int64_t ss[3] = {C, cg, 1}, ds[3] = {C, 1, g};
    if ((rc = xm_copy(x, ib, ss, ob, ds, 3, shape, err)))
        return rc;
    x->skip[ti] = x->skip[ri] = 1;
    rc = xm_push_step(x, (xnn_step){.part = -1, .node = ni, .c0 = c0, .nc = x->n_copies - c0},
                      err);
    return rc ? rc : 1;
}

/* Opens a new subgraph when the last node was glue (or none was mapped yet). */
static int xm_open_part(xnn_session *x, eb_err *err)
{
    if (x->cur >= 0)
        return 0;
    if (x->n_parts == x->cap_parts) {
        int cap = x->cap_parts ? 2 * x->cap_parts : 8;
        xnn_part *p = realloc(x->parts, (size_t)cap * sizeof *p);
        if (!p)
            return eb_errf(err, "xnnpack: out of memory");
        x->parts = p, x->cap_parts = cap;
    }
    xnn_part *p = &x->parts[x->n_parts];
    memset(p, 0, sizeof *p);
    /* external ids are ONNX value indices, so any value can cross any boundary */
    enum xnn_status st = x->api.xnn_create_subgraph((uint32_t)x->g->n_vals, 0, &p->subgraph);
    if (st != xnn_status_success)
        return eb_errf(err, "xnnpack: xnn_create_subgraph failed (%s)", eb_xnn_status_name(st));
    x->cur = x->n_parts++;
    x->subgraph = p->subgraph;
    return xm_push_step(x, (xnn_step){.part = x->cur, .node = -1}, err);
}

/* ---------------------------------------------------------------- the graph */

static int xm_node(xnn_session *x, const ref_node *nd, eb_err *err)
{
    switch (nd->op) {
    case REF_OP_CONV:
        return xm_conv(x, nd, err);
    case REF_OP_GEMM:
    case REF_OP_MATMUL:
        return xm_fc(x, nd, err);
    case REF_OP_MAXPOOL:
    case REF_OP_AVGPOOL:
        return xm_pool(x, nd, err);
    case REF_OP_GLOBALAVGPOOL:
    case REF_OP_REDUCEMEAN:
        return xm_global_avg(x, nd, err);
    case REF_OP_FLATTEN:
    case REF_OP_RESHAPE:
    case REF_OP_SQUEEZE:
    case REF_OP_UNSQUEEZE:
        return xm_reshape(x, nd, err);
    case REF_OP_ADD:
    case REF_OP_MUL:
    case REF_OP_SUB:
    case REF_OP_DIV:
        return xm_binary(x, nd, err);
    case REF_OP_RELU:
    case REF_OP_CLIP:
    case REF_OP_SIGMOID:
    case REF_OP_HARDSWISH:
    case REF_OP_LEAKYRELU:
    case REF_OP_ABS:
    case REF_OP_NEG:
    case REF_OP_FLOOR:
    case REF_OP_CEIL:
    case REF_OP_SQRT:
    case REF_OP_SOFTMAX:
    case REF_OP_DROPOUT:
    case REF_OP_IDENTITY:
        return xm_unary(x, nd, err);
    case REF_OP_BATCHNORM:
        return xm_batchnorm(x, nd, err);
    case REF_OP_QUANTIZELINEAR:
        return xm_quantize(x, nd, err);
    case REF_OP_DEQUANTIZELINEAR:
        return xm_dequantize(x, nd, err);
    case REF_OP_DYNAMICQUANTIZELINEAR:
        return xm_unsupported(nd, err, "DynamicQuantizeLinear (activations quantized with a "
                              "scale computed at every run: XNNPACK 0.0~git20220216 has no "
                              "dynamically quantized fully connected, its qd8 operators came "
                              "in 2023, and no subgraph node computes a scale)");
    case REF_OP_MATMULINTEGER:
    case REF_OP_CONVINTEGER:
    case REF_OP_QLINEARCONV:
    case REF_OP_QLINEARMATMUL:
        return xm_unsupported(nd, err, "%s (xnnpack maps the QDQ form: DequantizeLinear -> "
                              "Conv/Gemm/MatMul -> QuantizeLinear)", nd->op_type);
    default:
        return xm_unsupported(nd, err, "operator %s", nd->op_type);
    }
}

int xnn_map_graph(xnn_session *x, eb_err *err)
{
    ref_session *g = x->g;
    x->vals = calloc((size_t)g->n_vals + 1, sizeof *x->vals);
    x->skip = calloc((size_t)g->n_nodes + 1, sizeof *x->skip);
    x->want_buf = calloc((size_t)g->n_vals + 1, sizeof *x->want_buf);
    if (!x->vals || !x->skip || !x->want_buf)
        return eb_errf(err, "xnnpack: out of memory");
    x->cur = -1;
    for (int i = 0; i < g->n_vals; i++) {
        x->vals[i].id = NONE;
        x->vals[i].part = -1;
        x->vals[i].consumers = g->vals[i].is_output;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; !g->nodes[i].folded && j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) {
                x->vals[g->nodes[i].in[j]].consumers++;
                x->want_buf[g->nodes[i].in[j]] |= xm_is_glue_op(&g->nodes[i]);
            }
    /* staging buffers first: graph inputs and outputs are buffers any partition may bind */
    for (int i = 0; i < g->n_in + g->n_out; i++) {
        xnn_port *pt = i < g->n_in ? &x->in[i] : &x->out[i - g->n_in];
        const ref_value *v = GV(i < g->n_in ? g->in_vals[i] : g->out_vals[i - g->n_in]);
        pt->stage = calloc(1, v->numel * sizeof(float) + XNN_EXTRA_BYTES);
        if (!pt->stage)
            return eb_errf(err, "xnnpack: out of memory for the staging buffers");
    }
    for (int i = 0; i < g->n_in; i++) {
        const ref_value *v = GV(g->in_vals[i]);
        if (v->dtype != EB_F32)
            return eb_errf(err, "input '%s' is %s: xnnpack maps float32 models", v->name,
                           eb_dtype_name(v->dtype)),
                   EB_UNSUPPORTED;
        int nhwc = v->ndim == 4;
        xnn_port *pt = &x->in[i];
        x->vals[g->in_vals[i]].nhwc = nhwc;
        x->vals[g->in_vals[i]].buf = pt->stage; /* an external input where it is read */
        pt->val = g->in_vals[i];
        pt->numel = v->numel;
        if (nhwc)
            pt->n = v->shape[0], pt->c = v->shape[1], pt->hw = v->shape[2] * v->shape[3];
    }
    x->n_in = g->n_in;
    for (int i = 0; i < g->n_nodes; i++) {
        const ref_node *nd = &g->nodes[i];
        if (nd->folded || x->skip[i])
            continue;
        int rc;
        if ((rc = xm_shuffle(x, i, err)) != 0) {
            if (rc < 0)
                return rc;
            x->n_glue += 3;
            continue;
        }
        if (xm_is_glue_op(nd) || xm_reshape_moves(x, nd)) {
            if ((rc = xm_glue(x, i, err)))
                return rc;
            x->n_glue++;
            continue;
        }
        if ((rc = xm_open_part(x, err)) || (rc = xm_node(x, nd, err)))
            return rc;
        x->n_xnn_nodes++;
    }
    x->subgraph = NULL;
    for (int i = 0; i < g->n_out; i++) {
        int vi = g->out_vals[i];
        const ref_value *v = GV(vi);
        const xnn_val *xv = XV(vi);
        if (v->kind != REF_VAL_ACT || xv->buf != x->out[i].stage)
            return eb_errf(err, "output '%s' is %s: xnnpack runs outputs computed from the "
                                "inputs",
                           v->name, v->kind == REF_VAL_INPUT ? "a graph input" : "a constant"),
                   EB_UNSUPPORTED;
        xnn_port *pt = &x->out[i];
        pt->val = vi;
        pt->numel = v->numel;
        if (xv->nhwc)
            pt->n = v->shape[0], pt->c = v->shape[1], pt->hw = v->shape[2] * v->shape[3];
        else if (xv->perm[0])
            pt->n = v->shape[0], pt->c = xv->perm[0], pt->hw = xv->perm[1] * xv->perm[2];
    }
    x->n_out = g->n_out;
    return 0;
}
#endif
