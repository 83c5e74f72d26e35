/* Elementwise kernels: broadcasting binary arithmetic, Relu, inference BatchNormalization and
 * Softmax.  Broadcasting is planned once at open (eb_ref_bcast_plan) so run() only walks an
 * odometer over the merged outer axes and runs a unit- or zero-stride inner loop. */
#include <math.h>
#include <string.h>

#include "ref_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

int eb_ref_bcast_plan(int na, const int64_t *a, int nb, const int64_t *b, eb_ref_bcast *out)
{
    int nd = na > nb ? na : nb;
    if (nd > EB_MAX_DIMS)
        return -1;
    /* per axis: output size and whether a / b broadcast along it */
    int64_t dim[EB_MAX_DIMS];
    unsigned char ba[EB_MAX_DIMS], bb[EB_MAX_DIMS];
    int m = 0;
    for (int i = 0; i < nd; i++) {
        int64_t da = i < nd - na ? 1 : a[i - (nd - na)];
        int64_t db = i < nd - nb ? 1 : b[i - (nd - nb)];
        if (da != db && da != 1 && db != 1)
            return -1;
        int64_t d = da == 1 ? db : da;
        if (d == 1)
            continue; /* size-1 output axes change no offsets */
        unsigned char fa = da == 1, fb = db == 1;
        if (m > 0 && ba[m - 1] == fa && bb[m - 1] == fb) {
            dim[m - 1] *= d; /* same pattern as the previous axis: merge */
            continue;
        }
        dim[m] = d, ba[m] = fa, bb[m] = fb;
        m++;
    }
    if (m == 0) {
        dim[0] = 1, ba[0] = bb[0] = 1;
        m = 1;
    }
    out->ndim = m;
    int64_t acc_a = 1, acc_b = 1;
    for (int i = m - 1; i >= 0; i--) {
        out->shape[i] = dim[i];
        out->sa[i] = ba[i] ? 0 : acc_a;
        out->sb[i] = bb[i] ? 0 : acc_b;
        if (!ba[i])
            acc_a *= dim[i];
        if (!bb[i])
            acc_b *= dim[i];
    }
    return 0;
}

static inline float binop(eb_ref_binop op, float a, float b)
{
    switch (op) {
    case EB_REF_ADD: return a + b;
    case EB_REF_SUB: return a - b;
    case EB_REF_MUL: return a * b;
    default: return a / b;
    }
}

/* The inner loop, with the operator and the strides as compile-time constants per call. */
#define INNER(OP, EXPR_A, EXPR_B)                                                               \
    for (int64_t j = 0; j < len; j++)                                                          \
        y[j] = (EXPR_A) OP (EXPR_B);

static void inner(eb_ref_binop op, int64_t len, const float *restrict a, int64_t ia,
                  const float *restrict b, int64_t ib, float *restrict y)
{
    if (ia && ib) {
        switch (op) {
        case EB_REF_ADD: INNER(+, a[j], b[j]) return;
        case EB_REF_SUB: INNER(-, a[j], b[j]) return;
        case EB_REF_MUL: INNER(*, a[j], b[j]) return;
        default: INNER(/, a[j], b[j]) return;
        }
    }
    if (ia) {
        float s = b[0];
        switch (op) {
        case EB_REF_ADD: INNER(+, a[j], s) return;
        case EB_REF_SUB: INNER(-, a[j], s) return;
        case EB_REF_MUL: INNER(*, a[j], s) return;
        default: INNER(/, a[j], s) return;
        }
    }
    if (ib) {
        float s = a[0];
        switch (op) {
        case EB_REF_ADD: INNER(+, s, b[j]) return;
        case EB_REF_SUB: INNER(-, s, b[j]) return;
        case EB_REF_MUL: INNER(*, s, b[j]) return;
        default: INNER(/, s, b[j]) return;
        }
    }
    float v = binop(op, a[0], b[0]);
    for (int64_t j = 0; j < len; j++)
        y[j] = v;
}

void eb_ref_binary(eb_ref_binop op, const eb_ref_bcast *p, const float *a, const float *b,
                   float *y)
{
    int last = p->ndim - 1;
    int64_t len = p->shape[last];
    int64_t idx[EB_MAX_DIMS] = {0};
    int64_t oa = 0, ob = 0, rows = 1;
    for (int i = 0; i < last; i++)
        rows *= p->shape[i];
    for (int64_t r = 0; r < rows; r++) {
        inner(op, len, a + oa, p->sa[last], b + ob, p->sb[last], y + r * len);
        /* odometer over the outer axes */
        for (int i = last - 1; i >= 0; i--) {
            oa += p->sa[i], ob += p->sb[i];
            if (++idx[i] < p->shape[i])
                break;
            oa -= p->sa[i] * p->shape[i], ob -= p->sb[i] * p->shape[i];
            idx[i] = 0;
        }
    }
}

void eb_ref_binary_i64(eb_ref_binop op, const eb_ref_bcast *p, const int64_t *a,
                       const int64_t *b, int64_t *y)
{
    int64_t idx[EB_MAX_DIMS] = {0}, total = 1;
    for (int i = 0; i < p->ndim; i++)
        total *= p->shape[i];
    for (int64_t r = 0; r < total; r++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < p->ndim; i++)
            oa += idx[i] * p->sa[i], ob += idx[i] * p->sb[i];
        int64_t u = a[oa], v = b[ob];
        y[r] = op == EB_REF_ADD ? u + v : op == EB_REF_SUB ? u - v : op == EB_REF_MUL ? u * v
                                                                  : v ? u / v : 0;
        for (int i = p->ndim - 1; i >= 0; i--) {
            if (++idx[i] < p->shape[i])
                break;
            idx[i] = 0;
        }
    }
}

void eb_ref_relu(size_t n, const float *restrict x, float *restrict y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void eb_ref_batchnorm(int64_t n, int64_t c, int64_t spatial, const float *x, const float *scale,
                      const float *bias, const float *mean, const float *var, float eps, float *y)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++) {
            float a = scale[ch] / sqrtf(var[ch] + eps);
            float b = bias[ch] - mean[ch] * a;
            const float *xr = x + (i * c + ch) * spatial;
            float *yr = y + (i * c + ch) * spatial;
            for (int64_t j = 0; j < spatial; j++)
                yr[j] = xr[j] * a + b;
        }
}

void eb_ref_softmax(int64_t outer, int64_t len, int64_t inner_n, const float *x, float *y)
{
    if (inner_n == 1 && len > 0) { /* over the last axis (attention): contiguous rows */
        for (int64_t o = 0; o < outer; o++) {
            const float *xr = x + o * len;
            float *yr = y + o * len;
            float inv = 1.0f / eb_ref_vexp_sum((size_t)len, xr, eb_ref_vmax((size_t)len, xr), yr);
            for (int64_t j = 0; j < len; j++)
                yr[j] *= inv;
        }
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner_n; in++) {
            const float *xr = x + o * len * inner_n + in;
            float *yr = y + o * len * inner_n + in;
            float mx = -INFINITY;
            for (int64_t j = 0; j < len; j++)
                if (xr[j * inner_n] > mx)
                    mx = xr[j * inner_n];
            float sum = 0;
            for (int64_t j = 0; j < len; j++) {
                float e = expf(xr[j * inner_n] - mx);
                yr[j * inner_n] = e;
                sum += e;
            }
            float inv = 1.0f / sum;
            for (int64_t j = 0; j < len; j++)
                yr[j * inner_n] *= inv;
        }
}
