/* Normalizations and row-wise operators: LogSoftmax, Hardmax (same geometry as Softmax),
 * LayerNormalization (with its optional Mean and InvStdDev outputs), InstanceNormalization,
 * GlobalMaxPool, LRN and MeanVarianceNormalization.  Statistics accumulate in double: the
 * rows are short and exactness against the suite matters more than speed here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define NORM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NORM_CLONES
#endif

typedef float norm_v8 __attribute__((vector_size(32), aligned(4)));

/* Sum of f(x[j]) for j < n, f(v) = v or (v - m)^2: eight float lanes (each sums n/8 terms,
 * a few dozen in a transformer's rows), combined in double. */
static inline double norm_sum(const float *x, int64_t n, int sq, float m)
{
    norm_v8 acc = {0}, vm = {m, m, m, m, m, m, m, m};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        norm_v8 v = *(const norm_v8 *)(x + j);
        if (sq) {
            v -= vm;
            v *= v;
        }
        acc += v;
    }
    double t = 0;
    for (int u = 0; u < 8; u++)
        t += acc[u];
    for (; j < n; j++)
        t += sq ? (double)(x[j] - m) * (x[j] - m) : x[j];
    return t;
}

/* LayerNormalization over rows of len: the mean, then the mean of (x - mean)^2 around the
 * float mean (as PyTorch's decomposed export computes it; ops_lnfuse.c turns that chain into
 * this node), then (x - mean) * inv * scale + bias in one pass. */
NORM_CLONES __attribute__((optimize("O3"))) static void
layernorm_rows(int64_t rows, int64_t len, const float *x, const float *sc, int s1,
               const float *bi, int b1, float eps, float *restrict y, float *mean_out,
               float *inv_out)
{
    for (int64_t o = 0; o < rows; o++) {
        const float *xr = x + o * len;
        float *restrict yr = y + o * len;
        float mf = (float)(norm_sum(xr, len, 0, 0.0f) / (double)len);
        double v = norm_sum(xr, len, 1, mf) / (double)len;
        float inv = (float)(1.0 / sqrt(v + eps));
        if (!s1 && bi && !b1) {
            for (int64_t j = 0; j < len; j++)
                yr[j] = (xr[j] - mf) * inv * sc[j] + bi[j];
        } else {
            for (int64_t j = 0; j < len; j++)
                yr[j] = (xr[j] - mf) * inv * sc[s1 ? 0 : j] + (bi ? bi[b1 ? 0 : j] : 0.0f);
        }
        if (mean_out)
            mean_out[o] = mf;
        if (inv_out)
            inv_out[o] = inv;
    }
}

int ref_infer_norm(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128];
    if (nd->n_in < 1 || nd->in[0] < 0)
        FAIL("input 0 is required");
    const ref_value *x = &s->vals[nd->in[0]];
    if (x->dtype != EB_F32)
        FAIL("input '%s' is %s; ref normalizes float32 only", x->name, eb_dtype_name(x->dtype));
    for (int i = 1; i < nd->n_in; i++)
        if (nd->in[i] >= 0 && s->vals[nd->in[i]].dtype != EB_F32)
            FAIL("input %d must be float32", i);
    for (int i = 1; i < nd->n_out; i++)
        if (nd->out[i] >= 0 && nd->op != REF_OP_LAYERNORM)
            FAIL("output %d is not supported", i);
    int64_t axis, o[EB_MAX_DIMS];
    switch (nd->op) {
    case REF_OP_LOGSOFTMAX:
    case REF_OP_HARDMAX: {
        int legacy = s->opset < 13;
        if (ref_norm_axis(ref_attr_i(nd, "axis", legacy ? 1 : -1), x->ndim, &axis) != 0)
            FAIL("axis is out of range for %s", ref_shape_str(x, b1, sizeof b1));
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->len = legacy ? ref_prod(x->shape, (int)axis, x->ndim) : x->shape[axis];
        nd->inner = legacy ? 1 : ref_prod(x->shape, (int)axis + 1, x->ndim);
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    }
    case REF_OP_LAYERNORM: {
        if (nd->n_in < 2 || nd->in[1] < 0)
            FAIL("scale is required");
        if (ref_norm_axis(ref_attr_i(nd, "axis", -1), x->ndim, &axis) != 0)
            FAIL("axis is out of range for %s", ref_shape_str(x, b1, sizeof b1));
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->len = ref_prod(x->shape, (int)axis, x->ndim);
        nd->fq[0] = ref_attr_f(nd, "epsilon", 1e-5f);
        for (int i = 1; i < nd->n_in; i++) {
            const ref_value *p = nd->in[i] >= 0 ? &s->vals[nd->in[i]] : NULL;
            /* scale and bias broadcast to the normalized shape; ref takes the full shape or
             * a scalar */
            if (p && p->numel != (size_t)nd->len && p->numel != 1)
                FAIL("%s '%s' %s must cover the normalized axes (%lld elements)",
                     i == 1 ? "scale" : "bias", p->name, ref_shape_str(p, b1, sizeof b1),
                     (long long)nd->len);
        }
        if (ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err) != 0)
            return -1;
        for (int d = 0; d < x->ndim; d++)
            o[d] = d < axis ? x->shape[d] : 1;
        if (ref_set_out(s, nd, 1, EB_F32, x->ndim, o, err) != 0)
            return -1;
        return ref_set_out(s, nd, 2, EB_F32, x->ndim, o, err);
    }
    case REF_OP_INSTANCENORM:
        if (nd->n_in != 3 || x->ndim < 3)
            FAIL("needs input (N, C, ...), scale and B");
        for (int i = 1; i < 3; i++)
            if (nd->in[i] < 0 || s->vals[nd->in[i]].numel != (size_t)x->shape[1])
                FAIL("scale and B must have one element per channel");
        nd->outer = x->shape[0] * x->shape[1];
        nd->len = ref_prod(x->shape, 2, x->ndim);
        nd->inner = x->shape[1];
        nd->fq[0] = ref_attr_f(nd, "epsilon", 1e-5f);
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    case REF_OP_GLOBALMAXPOOL:
        if (x->ndim < 3)
            FAIL("input %s must have spatial dimensions", ref_shape_str(x, b1, sizeof b1));
        nd->outer = x->shape[0] * x->shape[1];
        nd->len = ref_prod(x->shape, 2, x->ndim);
        for (int d = 0; d < x->ndim; d++)
            o[d] = d < 2 ? x->shape[d] : 1;
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, o, err);
    case REF_OP_LRN: {
        int64_t size = ref_attr_i(nd, "size", 0);
        if (x->ndim < 3 || size < 1)
            FAIL("needs an (N, C, ...) input and a positive size");
        nd->q[0] = size;
        nd->fq[0] = ref_attr_f(nd, "alpha", 1e-4f);
        nd->fq[1] = ref_attr_f(nd, "beta", 0.75f);
        nd->fq[2] = ref_attr_f(nd, "bias", 1.0f);
        nd->outer = x->shape[0], nd->len = x->shape[1];
        nd->inner = ref_prod(x->shape, 2, x->ndim);
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    }
    case REF_OP_MVN: {
        const ref_attr *a = ref_attr_get(nd, "axes");
        int64_t def[3] = {0, 2, 3};
        const int64_t *ax = a ? a->ints : def;
        int n = a ? a->n : 3;
        memset(nd->q3, 0, sizeof nd->q3);
        for (int i = 0; i < n; i++) {
            int64_t d;
            if (ref_norm_axis(ax[i], x->ndim, &d) != 0)
                FAIL("axis %lld is out of range", (long long)ax[i]);
            nd->q3[d] = 1;
        }
        /* strides of the statistics (0 on normalized axes) */
        int64_t acc = 1;
        for (int d = x->ndim - 1; d >= 0; d--) {
            nd->q[d] = nd->q3[d] ? 0 : acc;
            if (!nd->q3[d])
                acc *= x->shape[d];
        }
        nd->aux_n = (size_t)acc;
        free(nd->aux);
        nd->aux = calloc((size_t)acc * 2 + 1, sizeof(double));
        if (!nd->aux)
            FAIL("out of memory");
        return ref_set_out(s, nd, 0, EB_F32, x->ndim, x->shape, err);
    }
    default: FAIL("operator not supported by ref");
    }
}

static void exec_mvn(const ref_node *nd, const ref_value *xv, const ref_value *yv)
{
    const float *x = xv->data;
    float *y = yv->data;
    size_t ns = nd->aux_n;
    double *sum = nd->aux, *sq = sum + ns;
    memset(sum, 0, 2 * ns * sizeof *sum);
    double cnt = ns ? (double)xv->numel / (double)ns : 1;
    for (int pass = 0; pass < 2; pass++) {
        int64_t idx[EB_MAX_DIMS] = {0}, off = 0;
        for (size_t e = 0; e < xv->numel; e++) {
            if (pass == 0) {
                sum[off] += x[e], sq[off] += (double)x[e] * x[e];
            } else {
                double m = sum[off] / cnt, var = sq[off] / cnt - m * m;
                y[e] = (float)((x[e] - m) / (sqrt(var > 0 ? var : 0) + 1e-9));
            }
            for (int d = xv->ndim - 1; d >= 0; d--) {
                off += nd->q[d];
                if (++idx[d] < xv->shape[d])
                    break;
                off -= nd->q[d] * xv->shape[d];
                idx[d] = 0;
            }
        }
    }
}

void ref_exec_norm(ref_session *s, const ref_node *nd)
{
    const ref_value *xv = &s->vals[nd->in[0]];
    const ref_value *yv = &s->vals[nd->out[0]];
    const float *x = xv->data;
    float *y = yv->data;
    switch (nd->op) {
    case REF_OP_LOGSOFTMAX:
    case REF_OP_HARDMAX:
        for (int64_t o = 0; o < nd->outer; o++)
            for (int64_t i = 0; i < nd->inner; i++) {
                const float *xr = x + o * nd->len * nd->inner + i;
                float *yr = y + o * nd->len * nd->inner + i;
                float mx = -INFINITY;
                int64_t at = 0;
                for (int64_t j = 0; j < nd->len; j++)
                    if (xr[j * nd->inner] > mx)
                        mx = xr[j * nd->inner], at = j;
                if (nd->op == REF_OP_HARDMAX) {
                    for (int64_t j = 0; j < nd->len; j++)
                        yr[j * nd->inner] = j == at ? 1.0f : 0.0f;
                    continue;
                }
                double sum = 0;
                for (int64_t j = 0; j < nd->len; j++)
                    sum += exp((double)xr[j * nd->inner] - mx);
                float lse = (float)log(sum) + mx;
                for (int64_t j = 0; j < nd->len; j++)
                    yr[j * nd->inner] = xr[j * nd->inner] - lse;
            }
        return;
    case REF_OP_LAYERNORM: {
        const ref_value *sv = &s->vals[nd->in[1]];
        const ref_value *bv = nd->n_in > 2 && nd->in[2] >= 0 ? &s->vals[nd->in[2]] : NULL;
        const float *sc = sv->data, *bi = bv ? bv->data : NULL;
        int s1 = sv->numel == 1, b1 = bv && bv->numel == 1;
        float *mean_out = nd->n_out > 1 && nd->out[1] >= 0 ? s->vals[nd->out[1]].data : NULL;
        float *inv_out = nd->n_out > 2 && nd->out[2] >= 0 ? s->vals[nd->out[2]].data : NULL;
        layernorm_rows(nd->outer, nd->len, x, sc, s1, bi, b1, nd->fq[0], y, mean_out, inv_out);
        return;
    }
    case REF_OP_INSTANCENORM: {
        const float *sc = s->vals[nd->in[1]].data, *bi = s->vals[nd->in[2]].data;
        for (int64_t o = 0; o < nd->outer; o++) {
            const float *xr = x + o * nd->len;
            float *yr = y + o * nd->len;
            double m = 0, v = 0;
            for (int64_t j = 0; j < nd->len; j++)
                m += xr[j];
            m /= (double)nd->len;
            for (int64_t j = 0; j < nd->len; j++)
                v += (xr[j] - m) * (xr[j] - m);
            v /= (double)nd->len;
            int64_t c = o % nd->inner;
            float a = (float)(sc[c] / sqrt(v + nd->fq[0])), b = bi[c] - (float)m * a;
            for (int64_t j = 0; j < nd->len; j++)
                yr[j] = xr[j] * a + b;
        }
        return;
    }
    case REF_OP_GLOBALMAXPOOL:
        for (int64_t o = 0; o < nd->outer; o++) {
            float mx = -INFINITY;
            for (int64_t j = 0; j < nd->len; j++)
                mx = x[o * nd->len + j] > mx ? x[o * nd->len + j] : mx;
            y[o] = mx;
        }
        return;
    case REF_OP_LRN: {
        int64_t size = nd->q[0], lo = (size - 1) / 2, hi = size - 1 - lo;
        for (int64_t n = 0; n < nd->outer; n++)
            for (int64_t c = 0; c < nd->len; c++)
                for (int64_t i = 0; i < nd->inner; i++) {
                    double sq = 0;
                    for (int64_t k = c - lo; k <= c + hi; k++)
                        if (k >= 0 && k < nd->len) {
                            double v = x[(n * nd->len + k) * nd->inner + i];
                            sq += v * v;
                        }
                    size_t e = (size_t)((n * nd->len + c) * nd->inner + i);
                    y[e] = (float)(x[e] /
                                   pow(nd->fq[2] + nd->fq[0] / (double)size * sq, nd->fq[1]));
                }
        return;
    }
    case REF_OP_MVN: exec_mvn(nd, xv, yv); return;
    default: return;
    }
}
