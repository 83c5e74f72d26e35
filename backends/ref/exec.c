/* Operator dispatch: runs one node on the buffers its values point at.  The same code runs a
 * node folded at open (outputs in owned memory) and at run (outputs in the arena), so what
 * the shape pass folds is computed exactly as it would be per inference.  Data-movement
 * operators (Reshape, Concat, Gather, ...) work on element sizes and so serve int64 shape
 * arithmetic and float32 tensors alike. */
#include <string.h>

#include "ref_internal.h"

static void copy_value(const ref_value *src, ref_value *dst)
{
    if (dst->data != src->data)
        memcpy(dst->data, src->data, src->numel * eb_dtype_size(src->dtype));
}

static void exec_concat(const ref_session *s, const ref_node *nd)
{
    const ref_value *y = &s->vals[nd->out[0]];
    size_t es = eb_dtype_size(y->dtype);
    int64_t ax_out = y->numel ? (int64_t)y->numel / (nd->outer * nd->inner) : 0;
    unsigned char *dst = y->data;
    int64_t at = 0; /* position along the axis */
    for (int i = 0; i < nd->n_in; i++) {
        const ref_value *x = &s->vals[nd->in[i]];
        int64_t ax = x->numel ? (int64_t)x->numel / (nd->outer * nd->inner) : 0;
        size_t chunk = (size_t)(ax * nd->inner) * es;
        if (nd->outer == 1 && x->data == dst + (size_t)(at * nd->inner) * es)
            chunk = 0; /* written in place by its producer (plan.c placed it there) */
        for (int64_t o = 0; chunk && o < nd->outer; o++)
            memcpy(dst + ((size_t)(o * ax_out + at) * (size_t)nd->inner) * es,
                   (const unsigned char *)x->data + (size_t)o * chunk, chunk);
        at += ax;
    }
}

static void exec_gather(const ref_session *s, const ref_node *nd)
{
    const ref_value *x = &s->vals[nd->in[0]], *iv = &s->vals[nd->in[1]];
    const ref_value *y = &s->vals[nd->out[0]];
    size_t es = eb_dtype_size(x->dtype), chunk = (size_t)nd->inner * es;
    const int64_t *ix = iv->data;
    unsigned char *dst = y->data;
    for (int64_t o = 0; o < nd->outer; o++)
        for (size_t i = 0; i < iv->numel; i++) {
            int64_t k = ix[i] < 0 ? ix[i] + nd->len : ix[i];
            if (k < 0 || k >= nd->len) /* only possible for indices computed at run time */
                memset(dst, 0, chunk);
            else
                memcpy(dst,
                       (const unsigned char *)x->data + ((size_t)(o * nd->len + k)) * chunk,
                       chunk);
            dst += chunk;
        }
}

/* An int64 (ref's integer representation) narrowed as a cast to ONNX type `to` would. */
static int64_t narrow(int to, int64_t v)
{
    switch (to) {
    case 2: return (uint8_t)v;   /* UINT8 */
    case 3: return (int8_t)v;    /* INT8 */
    case 4: return (uint16_t)v;  /* UINT16 */
    case 5: return (int16_t)v;   /* INT16 */
    case 6: return (int32_t)v;   /* INT32 */
    case 9: return v != 0;       /* BOOL */
    case 12: return (uint32_t)v; /* UINT32 */
    default: return v;
    }
}

/* `to` is the ONNX target type (Cast's attribute), 0 for "same representation". */
void ref_exec_cast(const ref_value *x, const ref_value *y, int to)
{
    for (size_t i = 0; i < x->numel; i++) {
        if (x->dtype == EB_F32 && y->dtype == EB_F32) {
            ((float *)y->data)[i] = ((const float *)x->data)[i];
        } else if (x->dtype == EB_F32) {
            float f = ((const float *)x->data)[i];
            int64_t v = to == 9 ? f != 0.0f : f != f ? 0 : f >= 9.2e18f ? INT64_MAX
                                                      : f <= -9.2e18f ? INT64_MIN : (int64_t)f;
            ((int64_t *)y->data)[i] = narrow(to, v);
        } else if (y->dtype == EB_F32) {
            ((float *)y->data)[i] = (float)((const int64_t *)x->data)[i];
        } else {
            ((int64_t *)y->data)[i] = narrow(to, ((const int64_t *)x->data)[i]);
        }
    }
}

/* Input index feeding output index o along an axis of n elements, or -1 for the constant. */
static int64_t pad_source(int mode, int64_t o, int64_t begin, int64_t n)
{
    int64_t i = o - begin;
    if (i >= 0 && i < n)
        return i;
    if (mode == REF_PADMODE_EDGE)
        return i < 0 ? 0 : n - 1;
    if (mode == REF_PADMODE_REFLECT) /* pads < n (checked at open), so one bounce suffices */
        return n == 1 ? 0 : i < 0 ? -i : 2 * (n - 1) - i;
    return -1;
}

/* Pad is rare and small in the models this engine is for: a plain per-element walk, on
 * float32 or int64 (the integer constant is in nd->q[0]). */
static void exec_pad(const ref_session *s, const ref_node *nd)
{
    const ref_value *x = &s->vals[nd->in[0]];
    const ref_value *y = &s->vals[nd->out[0]];
    int r = x->ndim, mode = nd->a.pad_mode, i64 = x->dtype == EB_I64;
    const float *xp = x->data;
    float *yp = y->data;
    const int64_t *xq = x->data;
    int64_t *yq = y->data;
    if (r == 0) {
        memcpy(y->data, x->data, eb_dtype_size(x->dtype));
        return;
    }
    int64_t xs[EB_MAX_DIMS], idx[EB_MAX_DIMS] = {0};
    xs[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--)
        xs[d] = xs[d + 1] * x->shape[d + 1];
    int64_t row = y->shape[r - 1], rows = row ? (int64_t)y->numel / row : 0;
    for (int64_t k = 0; k < rows; k++, yp += i64 ? 0 : row, yq += i64 ? row : 0) {
        int64_t base = 0;
        int inside = 1;
        for (int d = 0; d < r - 1; d++) {
            int64_t si = pad_source(mode, idx[d], nd->pad_b[d], x->shape[d]);
            if (si < 0)
                inside = 0;
            else
                base += si * xs[d];
        }
        for (int64_t j = 0; j < row; j++) {
            int64_t si = pad_source(mode, j, nd->pad_b[r - 1], x->shape[r - 1]);
            if (i64)
                yq[j] = inside && si >= 0 ? xq[base + si] : nd->q[0];
            else
                yp[j] = inside && si >= 0 ? xp[base + si] : nd->pad_value;
        }
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < y->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

static void exec_matmul(const ref_node *nd, const float *a, const float *b, float *y)
{
    const eb_ref_bcast *p = &nd->bc;
    int64_t m = nd->m, n = nd->n, k = nd->k;
    if (p->ndim == 0) {
        eb_ref_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, y, n);
        return;
    }
    int64_t idx[EB_MAX_DIMS] = {0}, total = 1, oa = 0, ob = 0;
    for (int i = 0; i < p->ndim; i++)
        total *= p->shape[i];
    for (int64_t r = 0; r < total; r++) {
        eb_ref_sgemm(0, 0, m, n, k, 1.0f, a + oa * m * k, k, b + ob * k * n, n, 0.0f,
                     y + r * m * n, n);
        for (int i = p->ndim - 1; i >= 0; i--) {
            oa += p->sa[i], ob += p->sb[i];
            if (++idx[i] < p->shape[i])
                break;
            oa -= p->sa[i] * p->shape[i], ob -= p->sb[i] * p->shape[i];
            idx[i] = 0;
        }
    }
}

static void exec_gemm(const ref_session *s, const ref_node *nd, const float *a, const float *b,
                      float *y)
{
    const ref_attrs *at = &nd->a;
    int64_t m = nd->m, n = nd->n, k = nd->k;
    float beta = 0.0f;
    if (nd->n_in > 2 && nd->in[2] >= 0 && at->beta != 0.0f) {
        /* Broadcast C into Y, then accumulate the product on top with beta = 1. */
        const float *c = s->vals[nd->in[2]].data;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                y[i * n + j] = at->beta * c[(nd->c_rows == 1 ? 0 : i) * nd->c_cols +
                                            (nd->c_cols == 1 ? 0 : j)];
        beta = 1.0f;
    }
    int64_t lda = at->trans_a ? m : k;
    if (nd->wt)
        eb_ref_sgemm(at->trans_a, 0, m, n, k, at->alpha, a, lda, nd->wt, n, beta, y, n);
    else
        eb_ref_sgemm(at->trans_a, at->trans_b, m, n, k, at->alpha, a, lda, b,
                     at->trans_b ? k : n, beta, y, n);
}

void ref_exec_node(ref_session *s, const ref_node *nd)
{
    if (nd->prep) { /* packed kernels and fusions chosen at open (fold_bn.c) */
        ref_prep_exec(s, nd);
        return;
    }
    switch (ref_family_of(nd->op)) {
    case REF_FAM_UNARY: ref_exec_unary(s, nd); return;
    case REF_FAM_BINARY: ref_exec_binary(s, nd); return;
    case REF_FAM_SHAPE: ref_exec_shapeop(s, nd); return;
    case REF_FAM_REDUCE: ref_exec_reduce(s, nd); return;
    case REF_FAM_NORM: ref_exec_norm(s, nd); return;
    case REF_FAM_RESIZE: ref_exec_resize(s, nd); return;
    case REF_FAM_CONVT: ref_exec_convt(s, nd); return;
    case REF_FAM_RNN: ref_exec_rnn(s, nd); return;
    case REF_FAM_QUANT: ref_exec_quant(s, nd); return;
    default: break;
    }
    if ((nd->op == REF_OP_MAXPOOL || nd->op == REF_OP_AVGPOOL) && nd->mode == 1) {
        ref_exec_pool_nd(s, nd); /* 3-D, integer or with Indices: ops_pool_nd.c */
        return;
    }
    const ref_value *x = &s->vals[nd->in[0]];
    ref_value *y = &s->vals[nd->out[0]];
    const void *b = nd->n_in > 1 && nd->in[1] >= 0 ? s->vals[nd->in[1]].data : NULL;
    switch (nd->op) {
    case REF_OP_CONV:
        eb_ref_conv2d_run(&nd->conv, x->data, b,
                          nd->n_in > 2 && nd->in[2] >= 0 ? s->vals[nd->in[2]].data : NULL,
                          y->data, s->scratch);
        break;
    case REF_OP_MAXPOOL: eb_ref_maxpool2d(&nd->conv, x->data, y->data); break;
    case REF_OP_AVGPOOL: eb_ref_avgpool2d(&nd->conv, x->data, y->data); break;
    case REF_OP_GLOBALAVGPOOL: eb_ref_global_avgpool(nd->outer, nd->len, x->data, y->data); break;
    case REF_OP_GEMM: exec_gemm(s, nd, x->data, b, y->data); break;
    case REF_OP_MATMUL: exec_matmul(nd, x->data, b, y->data); break;
    case REF_OP_ADD:
    case REF_OP_SUB:
    case REF_OP_MUL:
    case REF_OP_DIV: {
        eb_ref_binop op = nd->op == REF_OP_ADD   ? EB_REF_ADD
                          : nd->op == REF_OP_SUB ? EB_REF_SUB
                          : nd->op == REF_OP_MUL ? EB_REF_MUL
                                                 : EB_REF_DIV;
        if (x->dtype == EB_I64)
            eb_ref_binary_i64(op, &nd->bc, x->data, b, y->data);
        else
            eb_ref_binary(op, &nd->bc, x->data, b, y->data);
        break;
    }
    case REF_OP_RELU: eb_ref_relu(x->numel, x->data, y->data); break;
    case REF_OP_BATCHNORM:
        eb_ref_batchnorm(nd->outer, nd->len, nd->inner, x->data, b, s->vals[nd->in[2]].data,
                         s->vals[nd->in[3]].data, s->vals[nd->in[4]].data, nd->a.epsilon,
                         y->data);
        break;
    case REF_OP_SOFTMAX: eb_ref_softmax(nd->outer, nd->len, nd->inner, x->data, y->data); break;
    case REF_OP_SHAPE:
        for (int64_t i = 0; i < nd->len; i++)
            ((int64_t *)y->data)[i] = x->shape[nd->outer + i];
        break;
    case REF_OP_CAST: ref_exec_cast(x, y, nd->mode); break;
    case REF_OP_DROPOUT:
        copy_value(x, y);
        if (nd->n_out > 1 && nd->out[1] >= 0) {
            const ref_value *mk = &s->vals[nd->out[1]];
            for (size_t i = 0; i < mk->numel; i++)
                ((int64_t *)mk->data)[i] = 1;
        }
        break;
    case REF_OP_CONCAT: exec_concat(s, nd); break;
    case REF_OP_GATHER: exec_gather(s, nd); break;
    case REF_OP_PAD: exec_pad(s, nd); break;
    case REF_OP_CONSTANT: break; /* data set at load */
    default: /* Reshape, Flatten, Identity, Dropout, Squeeze, Unsqueeze: same bytes */
        copy_value(x, y);
        break;
    }
}
