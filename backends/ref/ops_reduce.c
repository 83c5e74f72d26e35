/* Reductions (ReduceMean/Sum/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare) over any set of
 * axes, and ArgMax/ArgMin.  The input is walked once in order; each element adds into its
 * output's accumulator (a double per output, planned at open in nd->aux), whose stride is 0
 * along reduced axes.  The common case of reducing trailing axes (LayerNorm's ReduceMean over
 * the last axis) takes a contiguous fast path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

int ref_infer_reduce(ref_session *s, ref_node *nd, eb_err *err)
{
    if (nd->n_in < 1 || nd->in[0] < 0)
        FAIL("input 0 is required");
    const ref_value *x = &s->vals[nd->in[0]];
    int keep = (int)ref_attr_i(nd, "keepdims", 1);
    unsigned char red[EB_MAX_DIMS] = {0};
    int64_t o[EB_MAX_DIMS];
    int no = 0;
    if (nd->op == REF_OP_ARGMAX || nd->op == REF_OP_ARGMIN) {
        int64_t axis;
        if (nd->n_in != 1 || ref_norm_axis(ref_attr_i(nd, "axis", 0), x->ndim, &axis) != 0)
            FAIL("axis is out of range (or extra inputs)");
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->len = x->shape[axis];
        nd->inner = ref_prod(x->shape, (int)axis + 1, x->ndim);
        nd->mode = (int)ref_attr_i(nd, "select_last_index", 0);
        if (nd->len == 0)
            FAIL("cannot take the arg of an empty axis");
        for (int d = 0; d < x->ndim; d++)
            if (d != axis || keep)
                o[no++] = d == axis ? 1 : x->shape[d];
        return ref_set_out(s, nd, 0, EB_I64, no, o, err);
    }
    int64_t axes[EB_MAX_DIMS];
    int na = -1;
    if (nd->n_in > 1 && nd->in[1] >= 0) {
        if (ref_static_ints(s, nd, 1, "axes", axes, EB_MAX_DIMS, &na, err) != 0)
            return -1;
    } else {
        const ref_attr *a = ref_attr_get(nd, "axes");
        if (a) {
            if (a->n > EB_MAX_DIMS)
                FAIL("too many axes");
            na = a->n;
            memcpy(axes, a->ints, (size_t)na * 8);
        }
    }
    int noop = na <= 0 && ref_attr_i(nd, "noop_with_empty_axes", 0);
    if (na <= 0 && !noop)
        for (int d = 0; d < x->ndim; d++)
            red[d] = 1;
    for (int i = 0; i < na; i++) {
        int64_t ax;
        if (ref_norm_axis(axes[i], x->ndim, &ax) != 0)
            FAIL("axis %lld is out of range", (long long)axes[i]);
        red[ax] = 1;
    }
    /* accumulator strides: the output's strides with keepdims, 0 on reduced axes */
    int64_t acc = 1;
    nd->mode = noop;
    for (int d = x->ndim - 1; d >= 0; d--) {
        nd->q[d] = red[d] ? 0 : acc;
        if (!red[d])
            acc *= x->shape[d];
    }
    for (int d = 0; d < x->ndim; d++)
        if (!red[d] || keep)
            o[no++] = red[d] ? 1 : x->shape[d];
    /* trailing-axes fast path: outer (kept) x len (reduced), contiguous */
    int split = x->ndim;
    while (split > 0 && red[split - 1])
        split--;
    int tail = 1;
    for (int d = 0; d < split; d++)
        if (red[d])
            tail = 0;
    nd->mode2 = tail;
    nd->outer = ref_prod(x->shape, 0, split);
    nd->len = ref_prod(x->shape, split, x->ndim);
    nd->inner = 1;
    if (!tail) { /* one block of reduced axes with kept axes after it: mode2 = 2 */
        int a = 0;
        while (a < x->ndim && !red[a])
            a++;
        int b = a;
        while (b < x->ndim && red[b])
            b++;
        int block = 1;
        for (int d = b; d < x->ndim; d++)
            if (red[d])
                block = 0;
        if (block) {
            nd->mode2 = 2;
            nd->outer = ref_prod(x->shape, 0, a);
            nd->len = ref_prod(x->shape, a, b);
            nd->inner = ref_prod(x->shape, b, x->ndim);
        }
    }
    if (ref_set_out(s, nd, 0, x->dtype, no, o, err) != 0)
        return -1;
    const ref_value *y = &s->vals[nd->out[0]];
    free(nd->aux);
    nd->aux = malloc((y->numel + 1) * 2 * sizeof(double));
    if (!nd->aux)
        FAIL("out of memory");
    return 0;
}

static double init_of(ref_op op)
{
    switch (op) {
    case REF_OP_REDUCEMAX: return -INFINITY;
    case REF_OP_REDUCEMIN: return INFINITY;
    case REF_OP_REDUCEPROD: return 1.0;
    default: return 0.0;
    }
}

static inline double step(ref_op op, double a, double v, double mx)
{
    switch (op) {
    case REF_OP_REDUCEMAX: return v > a || v != v ? v : a;
    case REF_OP_REDUCEMIN: return v < a || v != v ? v : a;
    case REF_OP_REDUCEPROD: return a * v;
    case REF_OP_REDUCEL1: return a + fabs(v);
    case REF_OP_REDUCEL2:
    case REF_OP_REDUCESUMSQUARE: return a + v * v;
    case REF_OP_REDUCELOGSUMEXP: return a + exp(v - mx);
    default: return a + v;
    }
}

static double finish(ref_op op, double a, double n, double mx)
{
    switch (op) {
    case REF_OP_REDUCEMEAN: return a / n;
    case REF_OP_REDUCEL2: return sqrt(a);
    case REF_OP_REDUCELOGSUM: return log(a);
    case REF_OP_REDUCELOGSUMEXP: return log(a) + mx;
    default: return a;
    }
}

static inline double rd(const ref_value *v, size_t i)
{
    return v->dtype == EB_F32 ? ((const float *)v->data)[i] : (double)((const int64_t *)v->data)[i];
}

static void exec_arg(const ref_node *nd, const ref_value *x, const ref_value *y)
{
    int64_t *out = y->data;
    int is_max = nd->op == REF_OP_ARGMAX;
    for (int64_t o = 0; o < nd->outer; o++)
        for (int64_t i = 0; i < nd->inner; i++) {
            size_t base = (size_t)(o * nd->len * nd->inner + i);
            double best = rd(x, base);
            int64_t at = 0;
            for (int64_t j = 1; j < nd->len; j++) {
                double v = rd(x, base + (size_t)(j * nd->inner));
                int better = is_max ? v > best : v < best;
                if (better || (nd->mode && v == best))
                    best = v, at = j;
            }
            out[o * nd->inner + i] = at;
        }
}

void ref_exec_reduce(ref_session *s, const ref_node *nd)
{
    const ref_value *x = &s->vals[nd->in[0]];
    const ref_value *y = &s->vals[nd->out[0]];
    if (nd->op == REF_OP_ARGMAX || nd->op == REF_OP_ARGMIN) {
        exec_arg(nd, x, y);
        return;
    }
    size_t ny = y->numel;
    double *acc = nd->aux, *mx = acc + ny + 1;
    double n_red = ny ? (double)x->numel / (double)ny : 0;
    ref_op op = nd->op;
    if (nd->mode) { /* noop_with_empty_axes */
        for (size_t i = 0; i < ny; i++)
            acc[i] = rd(x, i);
        op = REF_OP_REDUCESUM;
        n_red = 1;
        goto out;
    }
    for (size_t i = 0; i < ny; i++)
        acc[i] = init_of(op), mx[i] = op == REF_OP_REDUCELOGSUMEXP ? -INFINITY : 0;
    if (nd->mode2 == 2 && x->dtype == EB_F32 &&
        (op == REF_OP_REDUCESUM || op == REF_OP_REDUCEMEAN)) {
        /* a middle block (a transformer's mean over the sequence): whole rows of the kept
         * inner axes added at once, instead of the per-element walk below */
        const float *xf = x->data;
        for (int64_t o = 0; o < nd->outer; o++)
            for (int64_t j = 0; j < nd->len; j++) {
                const float *r = xf + (o * nd->len + j) * nd->inner;
                double *a = acc + o * nd->inner;
                for (int64_t i = 0; i < nd->inner; i++)
                    a[i] += r[i];
            }
        goto out;
    }
    if (nd->mode2 == 1 && x->dtype == EB_F32) { /* reduced axes are trailing: contiguous rows */
        const float *xf = x->data;
        for (int64_t o = 0; o < nd->outer; o++) {
            const float *r = xf + o * nd->len;
            if (op == REF_OP_REDUCELOGSUMEXP)
                for (int64_t j = 0; j < nd->len; j++)
                    mx[o] = r[j] > mx[o] ? r[j] : mx[o];
            double a = acc[o];
            if (op == REF_OP_REDUCESUM || op == REF_OP_REDUCEMEAN) {
                float part[8] = {0};
                int64_t j = 0;
                for (; j + 8 <= nd->len; j += 8)
                    for (int u = 0; u < 8; u++)
                        part[u] += r[j + u];
                for (int u = 0; u < 8; u++)
                    a += part[u];
                for (; j < nd->len; j++)
                    a += r[j];
            } else {
                for (int64_t j = 0; j < nd->len; j++)
                    a = step(op, a, r[j], mx[o]);
            }
            acc[o] = a;
        }
        goto out;
    }
    {
        int64_t idx[EB_MAX_DIMS] = {0}, off = 0;
        int r = x->ndim;
        for (int pass = op == REF_OP_REDUCELOGSUMEXP ? 0 : 1; pass < 2; pass++) {
            memset(idx, 0, sizeof idx);
            off = 0;
            for (size_t e = 0; e < x->numel; e++) {
                double v = rd(x, e);
                if (pass == 0)
                    mx[off] = v > mx[off] ? v : mx[off];
                else
                    acc[off] = step(op, acc[off], v, mx[off]);
                for (int d = r - 1; d >= 0; d--) {
                    off += nd->q[d];
                    if (++idx[d] < x->shape[d])
                        break;
                    off -= nd->q[d] * x->shape[d];
                    idx[d] = 0;
                }
            }
        }
    }
out:
    for (size_t i = 0; i < ny; i++) {
        double v = finish(op, acc[i], n_red, mx[i]);
        if (y->dtype == EB_F32)
            ((float *)y->data)[i] = (float)v;
        else
            ((int64_t *)y->data)[i] = (int64_t)v;
    }
}
