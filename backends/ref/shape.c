/* Static shape inference, run once at open over the sorted graph.  For every node it checks
 * the inputs, computes the output shapes and the geometry the kernels need (so run() only
 * reads plans), counts MACs, and evaluates at once any node whose inputs are all known at
 * open (Constant, Shape and the Gather/Unsqueeze/Concat arithmetic PyTorch emits around
 * Reshape): such values become static and never take arena space. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

int ref_value_set_shape(ref_value *v, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > EB_MAX_DIMS)
        return -1;
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > REF_MAX_BYTES)
            return -1;
        n *= (uint64_t)shape[i];
        if (n > REF_MAX_BYTES / 4)
            return -1;
        v->shape[i] = shape[i];
    }
    v->ndim = ndim;
    v->numel = (size_t)n;
    return 0;
}

int ref_node_fail(const ref_node *nd, eb_err *err, const char *fmt, ...)
{
    char msg[700], lbl[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return eb_errf(err, "%s: %s", ref_node_label(nd, lbl, sizeof lbl), msg);
}

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

int64_t ref_prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= d[i];
    return p;
}

int ref_norm_axis(int64_t axis, int rank, int64_t *out)
{
    if (axis < -rank || axis >= rank)
        return -1;
    *out = axis < 0 ? axis + rank : axis;
    return 0;
}

/* Output of one spatial axis. */
int64_t eb_ref_conv_out(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pad_begin,
                        int64_t pad_end, int ceil_mode)
{
    int64_t eff = (k - 1) * dil + 1;
    int64_t span = in + pad_begin + pad_end - eff;
    if (span < 0)
        return 0;
    int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    /* As PyTorch and ONNX: with ceil_mode the last window must start inside the input or the
     * leading padding. */
    if (ceil_mode && (out - 1) * stride >= in + pad_begin)
        out--;
    return out;
}

/* Fills pads and the output size of a Conv/pool from its attributes and auto_pad. */
static int spatial_plan(ref_node *nd, int64_t h, int64_t w, int64_t kh, int64_t kw, eb_err *err)
{
    const ref_attrs *a = &nd->a;
    eb_ref_conv2d *p = &nd->conv;
    int64_t in[2] = {h, w}, k[2] = {kh, kw}, out[2], pb[2], pe[2];
    for (int i = 0; i < 2; i++) {
        int64_t eff = (k[i] - 1) * a->dilations[i] + 1;
        switch (a->auto_pad) {
        case REF_PAD_SAME_UPPER:
        case REF_PAD_SAME_LOWER: {
            out[i] = (in[i] + a->strides[i] - 1) / a->strides[i];
            int64_t total = (out[i] - 1) * a->strides[i] + eff - in[i];
            if (total < 0)
                total = 0;
            pb[i] = a->auto_pad == REF_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
            break;
        }
        case REF_PAD_VALID:
            pb[i] = pe[i] = 0;
            out[i] = eb_ref_conv_out(in[i], k[i], a->strides[i], a->dilations[i], 0, 0,
                                     a->ceil_mode);
            break;
        default:
            pb[i] = a->pads[i];
            pe[i] = a->pads[i + 2];
            out[i] = eb_ref_conv_out(in[i], k[i], a->strides[i], a->dilations[i], pb[i], pe[i],
                                     a->ceil_mode);
        }
        if (out[i] < 1)
            FAIL("the %lldx%lld window does not fit the %lldx%lld input (with its padding)",
                 (long long)kh, (long long)kw, (long long)h, (long long)w);
    }
    p->h = h, p->w = w, p->kh = kh, p->kw = kw;
    p->sh = a->strides[0], p->sw = a->strides[1];
    p->dh = a->dilations[0], p->dw = a->dilations[1];
    p->pt = pb[0], p->pl = pb[1], p->pb = pe[0], p->pr = pe[1];
    p->oh = out[0], p->ow = out[1];
    return 0;
}

/* Numpy broadcast of two shapes into out (not merged, unlike eb_ref_bcast_plan). */
int ref_bcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *n, int64_t *out)
{
    int nd = na > nb ? na : nb;
    for (int i = 0; i < nd; i++) {
        int64_t da = i < nd - na ? 1 : a[i - (nd - na)];
        int64_t db = i < nd - nb ? 1 : b[i - (nd - nb)];
        if (da != db && da != 1 && db != 1)
            return -1;
        out[i] = da == 1 ? db : da;
    }
    *n = nd;
    return 0;
}

void ref_bcast_strides(const ref_value *v, int rank, int64_t *st)
{
    int64_t acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int j = i - (rank - v->ndim);
        if (j < 0 || v->shape[j] == 1) {
            st[i] = 0;
        } else {
            st[i] = acc;
        }
        if (j >= 0)
            acc *= v->shape[j];
    }
}

const char *ref_shape_str(const ref_value *v, char *buf, size_t n)
{
    eb_tensor t = {.ndim = v->ndim};
    memcpy(t.shape, v->shape, sizeof t.shape);
    return eb_shape_str(&t, buf, n);
}

/* Sets output `i` of nd; fails on absurd sizes. */
int ref_set_out(ref_session *s, ref_node *nd, int i, eb_dtype dt, int ndim,
                const int64_t *shape, eb_err *err)
{
    if (i >= nd->n_out || nd->out[i] < 0)
        return 0;
    ref_value *v = &s->vals[nd->out[i]];
    v->dtype = dt;
    if (ref_value_set_shape(v, ndim, shape) != 0)
        FAIL("output '%s' would be absurdly large (over %llu bytes); check the input shapes",
             v->name, (unsigned long long)REF_MAX_BYTES);
    v->shaped = 1;
    return 0;
}

int ref_is_static(const ref_value *v)
{
    return v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC;
}

/* Reads a static int64 input (Reshape's shape, Unsqueeze's axes) into out. */
int ref_static_ints(ref_session *s, ref_node *nd, int idx, const char *what, int64_t *out,
                    int max, int *n, eb_err *err)
{
    if (idx >= nd->n_in || nd->in[idx] < 0)
        FAIL("%s (input %d) is required", what, idx);
    const ref_value *v = &s->vals[nd->in[idx]];
    if (!ref_is_static(v))
        FAIL("%s '%s' must be known at open (an initializer or a Constant); ref does not "
             "compute shapes at run time",
             what, v->name);
    if (v->dtype != EB_I64 || v->ndim > 1 || (int)v->numel > max)
        FAIL("%s '%s' must be a 1-D int64 tensor of at most %d elements", what, v->name, max);
    memcpy(out, v->data, v->numel * sizeof *out);
    *n = (int)v->numel;
    return 0;
}

static int infer_node(ref_session *s, ref_node *nd, eb_err *err)
{
    const ref_attrs *a = &nd->a;
    ref_value *x = nd->n_in > 0 && nd->in[0] >= 0 ? &s->vals[nd->in[0]] : NULL;
    int64_t shp[EB_MAX_DIMS];
    char b1[128], b2[128];
    int n_in_min = 1, n_in_max = 1, float_in = 1;
    switch (ref_family_of(nd->op)) {
    case REF_FAM_UNARY: return ref_infer_unary(s, nd, err);
    case REF_FAM_BINARY: return ref_infer_binary(s, nd, err);
    case REF_FAM_SHAPE: return ref_infer_shapeop(s, nd, err);
    case REF_FAM_REDUCE: return ref_infer_reduce(s, nd, err);
    case REF_FAM_NORM: return ref_infer_norm(s, nd, err);
    case REF_FAM_RESIZE: return ref_infer_resize(s, nd, err);
    case REF_FAM_CONVT: return ref_infer_convt(s, nd, err);
    case REF_FAM_RNN: return ref_infer_rnn(s, nd, err);
    case REF_FAM_QUANT: return ref_infer_quant(s, nd, err);
    default: break;
    }
    if ((nd->op == REF_OP_MAXPOOL || nd->op == REF_OP_AVGPOOL) && ref_pool_nd_wanted(s, nd))
        return ref_infer_pool_nd(s, nd, err);
    switch (nd->op) {
    case REF_OP_CONSTANT: return 0;
    case REF_OP_CONV: n_in_min = 2, n_in_max = 3; break;
    case REF_OP_GEMM: n_in_min = 2, n_in_max = 3; break;
    case REF_OP_BATCHNORM: n_in_min = n_in_max = 5; break;
    case REF_OP_ADD: case REF_OP_SUB: case REF_OP_MUL: case REF_OP_DIV:
        n_in_min = n_in_max = 2, float_in = 0; break;
    case REF_OP_MATMUL: n_in_min = n_in_max = 2; break;
    case REF_OP_RESHAPE: n_in_min = n_in_max = 2, float_in = 0; break;
    case REF_OP_GATHER: n_in_min = n_in_max = 2, float_in = 0; break;
    case REF_OP_UNSQUEEZE: case REF_OP_SQUEEZE: n_in_max = 2, float_in = 0; break;
    case REF_OP_PAD: n_in_max = 3, float_in = 0; break;
    case REF_OP_CONCAT: n_in_max = 1 << 20, float_in = 0; break;
    case REF_OP_DROPOUT: n_in_max = 3, float_in = 0; break;
    case REF_OP_SHAPE: case REF_OP_CAST: case REF_OP_FLATTEN: case REF_OP_IDENTITY:
        float_in = 0; break;
    default: break;
    }
    if (nd->n_in < n_in_min || nd->n_in > n_in_max) {
        if (n_in_min == n_in_max)
            FAIL("has %d inputs (expected %d)", nd->n_in, n_in_min);
        FAIL("has %d inputs (expected %d to %d)", nd->n_in, n_in_min,
             n_in_max > 64 ? 64 : n_in_max);
    }
    for (int i = 0; i < nd->n_in; i++) {
        if (nd->in[i] < 0) {
            if (i < n_in_min || nd->op == REF_OP_CONCAT)
                FAIL("input %d is required but empty", i);
            continue;
        }
        const ref_value *v = &s->vals[nd->in[i]];
        if (!v->shaped)
            FAIL("input '%s' has no known shape (internal order error)", v->name);
        if (float_in && v->dtype != EB_F32)
            FAIL("input '%s' is %s; ref computes in float32 only", v->name,
                 eb_dtype_name(v->dtype));
    }
    if (!x)
        FAIL("input 0 is required but empty");
    for (int i = 1; i < nd->n_out; i++)
        if (nd->out[i] >= 0 && nd->op != REF_OP_DROPOUT)
            FAIL("output %d ('%s') is not supported by ref (only the first output is)", i,
                 s->vals[nd->out[i]].name);

    switch (nd->op) {
    case REF_OP_CONV: {
        const ref_value *w = &s->vals[nd->in[1]];
        /* 1-D runs as 2-D with height 1: [N, C, W] has the layout of [N, C, 1, W] */
        int sp = x->ndim - 2;
        if ((sp != 1 && sp != 2) || w->ndim != x->ndim || (a->spatial_rank && a->spatial_rank != sp))
            FAIL("this convolution is not supported by ref (1-D and 2-D are, with attributes "
                 "of that rank); input is %s, weight %s",
                 ref_shape_str(x, b1, sizeof b1), ref_shape_str(w, b2, sizeof b2));
        int64_t g = a->group, c = x->shape[1], m = w->shape[0];
        int64_t kh = sp == 2 ? w->shape[2] : 1, kw = w->shape[x->ndim - 1];
        if (g < 1 || c % g || m % g || w->shape[1] != c / g)
            FAIL("input %s, weight %s and group %lld do not agree", ref_shape_str(x, b1, sizeof b1),
                 ref_shape_str(w, b2, sizeof b2), (long long)g);
        if (a->has_kernel && (a->kernel[0] != kh || a->kernel[1] != kw))
            FAIL("kernel_shape does not match the weight %s", ref_shape_str(w, b2, sizeof b2));
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            const ref_value *b = &s->vals[nd->in[2]];
            if (b->numel != (size_t)m || b->ndim != 1)
                FAIL("bias %s does not match %lld output channels", ref_shape_str(b, b1, sizeof b1),
                     (long long)m);
        }
        if (spatial_plan(nd, sp == 2 ? x->shape[2] : 1, x->shape[x->ndim - 1], kh, kw, err) != 0)
            return -1;
        nd->conv.n = x->shape[0], nd->conv.c = c, nd->conv.m = m, nd->conv.group = g;
        int64_t o[4] = {x->shape[0], m, nd->conv.oh, nd->conv.ow};
        if (sp == 1)
            o[2] = nd->conv.ow;
        nd->macs = o[0] * m * nd->conv.oh * nd->conv.ow * (c / g) * kh * kw;
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, o, err);
    }
    case REF_OP_MAXPOOL:
    case REF_OP_AVGPOOL: {
        int sp = x->ndim - 2;
        if ((sp != 1 && sp != 2) || (a->spatial_rank && a->spatial_rank != sp))
            FAIL("only 1-D and 2-D pooling is supported, with attributes of that rank; input "
                 "is %s",
                 ref_shape_str(x, b1, sizeof b1));
        if (!a->has_kernel)
            FAIL("kernel_shape is required");
        if (spatial_plan(nd, sp == 2 ? x->shape[2] : 1, x->shape[x->ndim - 1], a->kernel[0],
                         a->kernel[1], err) != 0)
            return -1;
        nd->conv.n = x->shape[0], nd->conv.c = nd->conv.m = nd->conv.group = x->shape[1];
        nd->conv.count_include_pad = a->count_include_pad;
        int64_t o[4] = {x->shape[0], x->shape[1], nd->conv.oh, nd->conv.ow};
        if (sp == 1)
            o[2] = nd->conv.ow;
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, o, err);
    }
    case REF_OP_GLOBALAVGPOOL: {
        if (x->ndim < 3)
            FAIL("input %s must have spatial dimensions (N, C, ...)",
                 ref_shape_str(x, b1, sizeof b1));
        nd->outer = x->shape[0] * x->shape[1];
        nd->len = ref_prod(x->shape, 2, x->ndim);
        for (int i = 0; i < x->ndim; i++)
            shp[i] = i < 2 ? x->shape[i] : 1;
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, shp, err);
    }
    case REF_OP_GEMM: {
        const ref_value *bv = &s->vals[nd->in[1]];
        if (x->ndim != 2 || bv->ndim != 2)
            FAIL("A %s and B %s must be 2-D", ref_shape_str(x, b1, sizeof b1),
                 ref_shape_str(bv, b2, sizeof b2));
        int64_t m = a->trans_a ? x->shape[1] : x->shape[0];
        int64_t k = a->trans_a ? x->shape[0] : x->shape[1];
        int64_t kb = a->trans_b ? bv->shape[1] : bv->shape[0];
        int64_t n = a->trans_b ? bv->shape[0] : bv->shape[1];
        if (k != kb)
            FAIL("A %s (transA=%d) and B %s (transB=%d) do not multiply",
                 ref_shape_str(x, b1, sizeof b1), a->trans_a, ref_shape_str(bv, b2, sizeof b2),
                 a->trans_b);
        nd->m = m, nd->n = n, nd->k = k;
        nd->c_rows = nd->c_cols = 0;
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            const ref_value *c = &s->vals[nd->in[2]];
            nd->c_rows = c->ndim == 2 ? c->shape[0] : 1;
            nd->c_cols = c->ndim >= 1 ? c->shape[c->ndim - 1] : 1;
            if (c->ndim > 2 || (nd->c_rows != 1 && nd->c_rows != m) ||
                (nd->c_cols != 1 && nd->c_cols != n))
                FAIL("C %s does not broadcast to %lldx%lld", ref_shape_str(c, b1, sizeof b1),
                     (long long)m, (long long)n);
        }
        /* PyTorch's Linear is Gemm(transB=1) on a weight: transposing it once here lets the
         * kernel stream rows of B in its inner loop. */
        if (a->trans_b && ref_is_static(bv) && !nd->wt) {
            nd->wt = malloc(((size_t)(k * n) + 1) * sizeof *nd->wt);
            if (!nd->wt)
                FAIL("out of memory");
            const float *src = bv->data;
            for (int64_t i = 0; i < n; i++)
                for (int64_t j = 0; j < k; j++)
                    nd->wt[j * n + i] = src[i * k + j];
        }
        nd->macs = m * n * k;
        int64_t o[2] = {m, n};
        return ref_set_out(s, nd, 0, EB_F32, 2, o, err);
    }
    case REF_OP_MATMUL: {
        const ref_value *bv = &s->vals[nd->in[1]];
        if (x->ndim < 1 || bv->ndim < 1)
            FAIL("MatMul of a scalar is not defined");
        int64_t as[EB_MAX_DIMS + 1], bs[EB_MAX_DIMS + 1];
        int na = x->ndim, nb = bv->ndim;
        memcpy(as, x->shape, sizeof x->shape);
        memcpy(bs, bv->shape, sizeof bv->shape);
        if (na == 1) /* [K] -> [1, K] */
            as[1] = as[0], as[0] = 1, na = 2;
        if (nb == 1) /* [K] -> [K, 1] */
            bs[1] = 1, nb = 2;
        int64_t m = as[na - 2], k = as[na - 1], n = bs[nb - 1];
        if (bs[nb - 2] != k)
            FAIL("A %s and B %s do not multiply", ref_shape_str(x, b1, sizeof b1),
                 ref_shape_str(bv, b2, sizeof b2));
        int nbd;
        int64_t bshape[EB_MAX_DIMS];
        if (ref_bcast_shape(na - 2, as, nb - 2, bs, &nbd, bshape) != 0)
            FAIL("batch dimensions of A %s and B %s do not broadcast",
                 ref_shape_str(x, b1, sizeof b1), ref_shape_str(bv, b2, sizeof b2));
        int64_t batch = ref_prod(bshape, 0, nbd);
        nd->macs = batch * m * n * k;
        if (nb == 2) {
            /* B has no batch: all of A's rows form one GEMM. */
            nd->m = ref_prod(as, 0, na - 1), nd->n = n, nd->k = k;
            nd->bc.ndim = 0;
        } else {
            nd->m = m, nd->n = n, nd->k = k;
            if (eb_ref_bcast_plan(na - 2, as, nb - 2, bs, &nd->bc) != 0)
                FAIL("batch dimensions do not broadcast");
        }
        int no = 0;
        for (int i = 0; i < nbd; i++)
            shp[no++] = bshape[i];
        if (x->ndim > 1)
            shp[no++] = m;
        if (bv->ndim > 1)
            shp[no++] = n;
        return ref_set_out(s, nd, 0, EB_F32, no, shp, err);
    }
    case REF_OP_ADD:
    case REF_OP_SUB:
    case REF_OP_MUL:
    case REF_OP_DIV: {
        const ref_value *bv = &s->vals[nd->in[1]];
        if (x->dtype != bv->dtype)
            FAIL("inputs '%s' (%s) and '%s' (%s) differ in type", x->name,
                 eb_dtype_name(x->dtype), bv->name, eb_dtype_name(bv->dtype));
        int no;
        if (ref_bcast_shape(x->ndim, x->shape, bv->ndim, bv->shape, &no, shp) != 0 ||
            eb_ref_bcast_plan(x->ndim, x->shape, bv->ndim, bv->shape, &nd->bc) != 0)
            FAIL("shapes %s and %s do not broadcast", ref_shape_str(x, b1, sizeof b1),
                 ref_shape_str(bv, b2, sizeof b2));
        return ref_set_out(s, nd, 0, x->dtype, no, shp, err);
    }
    case REF_OP_RELU:
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    case REF_OP_BATCHNORM: {
        if (x->ndim < 2)
            FAIL("input %s must be at least 2-D (N, C, ...)", ref_shape_str(x, b1, sizeof b1));
        for (int i = 1; i < 5; i++)
            if (s->vals[nd->in[i]].numel != (size_t)x->shape[1])
                FAIL("parameter '%s' has %zu elements, expected %lld (the channels)",
                     s->vals[nd->in[i]].name, s->vals[nd->in[i]].numel,
                     (long long)x->shape[1]);
        nd->outer = x->shape[0], nd->len = x->shape[1], nd->inner = ref_prod(x->shape, 2, x->ndim);
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    }
    case REF_OP_SOFTMAX: {
        int64_t axis;
        int legacy = s->opset < 13;
        if (ref_norm_axis(a->has_axis ? a->axis : legacy ? 1 : -1, x->ndim, &axis) != 0)
            FAIL("axis %lld is out of range for %s", (long long)a->axis,
                 ref_shape_str(x, b1, sizeof b1));
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        /* Before opset 13 Softmax works on the input coerced to 2-D at `axis`. */
        nd->len = legacy ? ref_prod(x->shape, (int)axis, x->ndim) : x->shape[axis];
        nd->inner = legacy ? 1 : ref_prod(x->shape, (int)axis + 1, x->ndim);
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    }
    case REF_OP_FLATTEN: {
        int64_t axis = a->axis;
        if (!a->has_axis)
            axis = 1;
        if (axis < 0)
            axis += x->ndim;
        if (axis < 0 || axis > x->ndim)
            FAIL("axis %lld is out of range for %s", (long long)a->axis,
                 ref_shape_str(x, b1, sizeof b1));
        int64_t o[2] = {ref_prod(x->shape, 0, (int)axis), ref_prod(x->shape, (int)axis, x->ndim)};
        return ref_set_out(s, nd, 0, x->dtype, 2, o, err);
    }
    case REF_OP_RESHAPE: {
        int n, infer = -1;
        if (ref_static_ints(s, nd, 1, "shape", shp, EB_MAX_DIMS, &n, err) != 0)
            return -1;
        int64_t known = 1;
        for (int i = 0; i < n; i++) {
            if (shp[i] == 0 && !a->allowzero) {
                if (i >= x->ndim)
                    FAIL("shape entry %d is 0 (copy) but the input %s has no such dimension", i,
                         ref_shape_str(x, b1, sizeof b1));
                shp[i] = x->shape[i];
            }
            if (shp[i] == -1) {
                if (infer >= 0)
                    FAIL("shape has more than one -1");
                infer = i;
            } else if (shp[i] < 0 || shp[i] > (int64_t)REF_MAX_BYTES) {
                FAIL("shape entry %d is %lld", i, (long long)shp[i]);
            } else {
                known *= shp[i];
                if (known > (int64_t)REF_MAX_BYTES)
                    FAIL("cannot reshape %s (%zu elements) into more than %llu elements",
                         ref_shape_str(x, b1, sizeof b1), x->numel,
                         (unsigned long long)REF_MAX_BYTES);
            }
        }
        if (infer >= 0) {
            if (known == 0 || (int64_t)x->numel % known)
                FAIL("cannot reshape %s (%zu elements) with a -1 entry",
                     ref_shape_str(x, b1, sizeof b1), x->numel);
            shp[infer] = (int64_t)x->numel / known;
            known *= shp[infer];
        }
        if (known != (int64_t)x->numel)
            FAIL("cannot reshape %s (%zu elements) into %lld elements",
                 ref_shape_str(x, b1, sizeof b1), x->numel, (long long)known);
        return ref_set_out(s, nd, 0, x->dtype, n, shp, err);
    }
    case REF_OP_IDENTITY:
        return ref_set_out(s, nd, 0, x->dtype, x->ndim, x->shape, err);
    case REF_OP_DROPOUT: {
        /* Inference: the identity, and a mask of ones.  training_mode (input 2, opset 12)
         * must be known to be false. */
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            const ref_value *t = &s->vals[nd->in[2]];
            if (!ref_is_static(t) || t->numel != 1 ||
                (t->dtype == EB_I64 ? *(int64_t *)t->data : *(float *)t->data) != 0)
                FAIL("training_mode is not supported (only inference: training_mode must be "
                     "a constant false)");
        }
        if (ref_set_out(s, nd, 0, x->dtype, x->ndim, x->shape, err) != 0)
            return -1;
        return ref_set_out(s, nd, 1, EB_I64, x->ndim, x->shape, err);
    }
    case REF_OP_SHAPE: {
        /* start and end (opset 15) slice the shape; out-of-range values clamp */
        int64_t r = x->ndim, b = a->start, e = a->has_end ? a->end : r;
        b = b < 0 ? b + r : b;
        e = e < 0 ? e + r : e;
        b = b < 0 ? 0 : b > r ? r : b;
        e = e < 0 ? 0 : e > r ? r : e;
        nd->outer = b;
        nd->len = e > b ? e - b : 0;
        int64_t o[1] = {nd->len};
        return ref_set_out(s, nd, 0, EB_I64, 1, o, err);
    }
    case REF_OP_CAST: {
        /* FLOAT(1) and DOUBLE(11) are computed as float32, integer and bool types as int64;
         * the 16-bit floats and strings would round differently or not at all: refused. */
        eb_dtype to = a->to == 1 || a->to == 11 ? EB_F32 : EB_I64;
        if (a->to < 1 || a->to == 8 || a->to == 10 || a->to > 13)
            FAIL("cast to ONNX type %lld is not supported (ref computes float32 and int64; "
                 "16-bit floats and strings are not supported)",
                 (long long)a->to);
        nd->mode = (int)a->to;
        return ref_set_out(s, nd, 0, to, x->ndim, x->shape, err);
    }
    case REF_OP_GATHER: {
        const ref_value *iv = &s->vals[nd->in[1]];
        int64_t axis;
        if (ref_norm_axis(a->axis, x->ndim, &axis) != 0)
            FAIL("axis %lld is out of range for %s", (long long)a->axis,
                 ref_shape_str(x, b1, sizeof b1));
        if (iv->dtype != EB_I64)
            FAIL("indices '%s' must be integers", iv->name);
        if (x->ndim - 1 + iv->ndim > EB_MAX_DIMS)
            FAIL("output would have too many dimensions");
        const int64_t *ix = iv->data;
        /* Indices known at open are checked now; at run time an out-of-range one gives 0. */
        for (size_t i = 0; ref_is_static(iv) && i < iv->numel; i++)
            if (ix[i] < -x->shape[axis] || ix[i] >= x->shape[axis])
                FAIL("index %lld is out of range for axis %lld of %s", (long long)ix[i],
                     (long long)axis, ref_shape_str(x, b1, sizeof b1));
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->len = x->shape[axis];
        nd->inner = ref_prod(x->shape, (int)axis + 1, x->ndim);
        int no = 0;
        for (int i = 0; i < axis; i++)
            shp[no++] = x->shape[i];
        for (int i = 0; i < iv->ndim; i++)
            shp[no++] = iv->shape[i];
        for (int i = (int)axis + 1; i < x->ndim; i++)
            shp[no++] = x->shape[i];
        return ref_set_out(s, nd, 0, x->dtype, no, shp, err);
    }
    case REF_OP_PAD: {
        int64_t pads[2 * EB_MAX_DIMS];
        int n = 0;
        if (nd->n_in > 1 && nd->in[1] >= 0) {
            if (ref_static_ints(s, nd, 1, "pads", pads, 2 * EB_MAX_DIMS, &n, err) != 0)
                return -1;
        } else if (a->n_pads_attr >= 0) { /* before opset 11 */
            n = a->n_pads_attr;
            memcpy(pads, a->pads_attr, sizeof pads);
        }
        if (n != 2 * x->ndim)
            FAIL("has %d pads for a %d-D input (expected %d)", n, x->ndim, 2 * x->ndim);
        nd->pad_value = a->pad_value;
        if (nd->n_in > 2 && nd->in[2] >= 0) {
            const ref_value *cv = &s->vals[nd->in[2]];
            if (!ref_is_static(cv) || cv->dtype != x->dtype || cv->numel != 1)
                FAIL("constant_value '%s' must be a scalar of the input's type known at open",
                     cv->name);
            /* an integer constant rides in q[0]; pad_value stays the float one */
            if (x->dtype == EB_I64)
                nd->q[0] = *(const int64_t *)cv->data;
            else
                nd->pad_value = *(const float *)cv->data;
        } else if (x->dtype == EB_I64) {
            nd->q[0] = (int64_t)a->pad_value;
        }
        for (int d = 0; d < x->ndim; d++) {
            const int64_t lim = (int64_t)REF_MAX_BYTES;
            if (pads[d] < -lim || pads[d] > lim || pads[x->ndim + d] < -lim ||
                pads[x->ndim + d] > lim)
                FAIL("pads of axis %d are absurdly large", d);
            nd->pad_b[d] = pads[d];
            nd->pad_e[d] = pads[x->ndim + d];
            shp[d] = x->shape[d] + pads[d] + pads[x->ndim + d];
            if (shp[d] < 0)
                FAIL("pads remove more than axis %d of %s has", d, ref_shape_str(x, b1, sizeof b1));
            if (a->pad_mode != REF_PADMODE_CONSTANT && (pads[d] > 0 || pads[x->ndim + d] > 0) &&
                (x->shape[d] == 0 ||
                 (a->pad_mode == REF_PADMODE_REFLECT &&
                  (pads[d] >= x->shape[d] || pads[x->ndim + d] >= x->shape[d]))))
                FAIL("pads of axis %d are too large for mode %s on %s", d,
                     a->pad_mode == REF_PADMODE_REFLECT ? "reflect" : "edge",
                     ref_shape_str(x, b1, sizeof b1));
        }
        return ref_set_out(s, nd, 0, x->dtype, x->ndim, shp, err);
    }
    case REF_OP_UNSQUEEZE:
    case REF_OP_SQUEEZE: {
        int64_t axes[EB_MAX_DIMS];
        int n = 0;
        if (nd->n_in > 1 && nd->in[1] >= 0) {
            if (ref_static_ints(s, nd, 1, "axes", axes, EB_MAX_DIMS, &n, err) != 0)
                return -1;
        } else if (a->has_axes) {
            n = a->n_axes;
            memcpy(axes, a->axes, sizeof axes);
        } else if (nd->op == REF_OP_UNSQUEEZE) {
            FAIL("axes are required");
        }
        int unsq = nd->op == REF_OP_UNSQUEEZE;
        int rank = unsq ? x->ndim + n : x->ndim;
        if (rank > EB_MAX_DIMS)
            FAIL("output would have more than %d dimensions", EB_MAX_DIMS);
        unsigned char mark[EB_MAX_DIMS] = {0};
        for (int i = 0; i < n; i++) {
            int64_t ax;
            if (ref_norm_axis(axes[i], rank, &ax) != 0 || mark[ax])
                FAIL("axis %lld is out of range or repeated", (long long)axes[i]);
            if (!unsq && x->shape[ax] != 1)
                FAIL("cannot squeeze axis %lld of %s (not 1)", (long long)ax,
                     ref_shape_str(x, b1, sizeof b1));
            mark[ax] = 1;
        }
        int no = 0, j = 0;
        for (int i = 0; i < rank; i++) {
            if (unsq)
                shp[no++] = mark[i] ? 1 : x->shape[j++];
            else if (!(n ? mark[i] : x->shape[i] == 1))
                shp[no++] = x->shape[i];
        }
        return ref_set_out(s, nd, 0, x->dtype, no, shp, err);
    }
    case REF_OP_CONCAT: {
        int64_t axis;
        if (!a->has_axis || ref_norm_axis(a->axis, x->ndim, &axis) != 0)
            FAIL("axis is missing or out of range for %s", ref_shape_str(x, b1, sizeof b1));
        memcpy(shp, x->shape, sizeof shp);
        shp[axis] = 0;
        for (int i = 0; i < nd->n_in; i++) {
            const ref_value *v = &s->vals[nd->in[i]];
            if (v->ndim != x->ndim || v->dtype != x->dtype)
                FAIL("input '%s' differs from the first in rank or type", v->name);
            for (int d = 0; d < x->ndim; d++)
                if (d != axis && v->shape[d] != x->shape[d])
                    FAIL("input shapes %s and %s differ outside axis %lld",
                         ref_shape_str(x, b1, sizeof b1), ref_shape_str(v, b2, sizeof b2),
                         (long long)axis);
            shp[axis] += v->shape[axis];
        }
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->inner = ref_prod(x->shape, (int)axis + 1, x->ndim);
        return ref_set_out(s, nd, 0, x->dtype, x->ndim, shp, err);
    }
    default:
        FAIL("operator not supported by ref (`edgebench help ref` lists the operators it runs)");
    }
}

/* Evaluates a node whose inputs are all known, now, into owned static outputs. */
static int fold_node(ref_session *s, ref_node *nd, eb_err *err)
{
    for (int i = 0; i < nd->n_out; i++) {
        if (nd->out[i] < 0)
            continue;
        ref_value *v = &s->vals[nd->out[i]];
        v->data = calloc(v->numel ? v->numel : 1, 8);
        if (!v->data)
            FAIL("out of memory");
        v->kind = REF_VAL_STATIC;
    }
    float *saved = s->scratch;
    float *tmp = NULL;
    if (nd->op == REF_OP_CONV) {
        tmp = malloc(eb_ref_conv2d_scratch(&nd->conv) * sizeof *tmp + 4);
        if (!tmp)
            FAIL("out of memory");
        s->scratch = tmp;
    }
    ref_exec_node(s, nd);
    s->scratch = saved;
    free(tmp);
    nd->folded = 1;
    nd->macs = 0; /* costs nothing per inference */
    return 0;
}

int ref_shape_infer(ref_session *s, eb_err *err)
{
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue; /* Constant: done at load */
        if (infer_node(s, nd, err) != 0)
            return -1;
        int all_static = 1;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] >= 0 && !ref_is_static(&s->vals[nd->in[j]]))
                all_static = 0;
        if (all_static || nd->op == REF_OP_SHAPE || nd->op == REF_OP_SIZE) {
            if (fold_node(s, nd, err) != 0)
                return -1;
            continue;
        }
    }
    return 0;
}
