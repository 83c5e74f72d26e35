/* Unary elementwise operators: math functions and activations on float32, and the few that
 * ONNX defines on integers too (Abs, Neg, Sign, Clip, Not) on int64.  Each kernel is a plain
 * loop with the operator chosen outside it, so the compiler vectorizes what it can. */
#include <math.h>
#include <string.h>

#include "ref_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

static int int_ok(ref_op op)
{
    return op == REF_OP_ABS || op == REF_OP_NEG || op == REF_OP_SIGN || op == REF_OP_CLIP ||
           op == REF_OP_NOT;
}

int ref_infer_unary(ref_session *s, ref_node *nd, eb_err *err)
{
    int max_in = nd->op == REF_OP_CLIP ? 3 : 1;
    if (nd->n_in < 1 || nd->n_in > max_in || nd->in[0] < 0)
        return ref_node_fail(nd, err, "has %d inputs (expected %s)", nd->n_in,
                             max_in == 1 ? "1" : "1 to 3");
    const ref_value *x = &s->vals[nd->in[0]];
    if (x->dtype != EB_F32 && !int_ok(nd->op))
        return ref_node_fail(nd, err, "input '%s' is %s; ref runs %s on float32 only", x->name,
                             eb_dtype_name(x->dtype), nd->op_type);
    if (nd->op == REF_OP_NOT && x->dtype != EB_I64)
        return ref_node_fail(nd, err, "input '%s' must be bool", x->name);
    for (int i = 1; i < nd->n_in; i++) {
        const ref_value *v = nd->in[i] >= 0 ? &s->vals[nd->in[i]] : NULL;
        if (v && (v->numel != 1 || v->dtype != x->dtype))
            return ref_node_fail(nd, err, "%s '%s' must be a scalar of the input's type",
                                 i == 1 ? "min" : "max", v->name);
    }
    float *f = nd->fq;
    switch (nd->op) {
    case REF_OP_CELU: f[0] = ref_attr_f(nd, "alpha", 1.0f); break;
    case REF_OP_ELU: f[0] = ref_attr_f(nd, "alpha", 1.0f); break;
    case REF_OP_HARDSIGMOID:
        f[0] = ref_attr_f(nd, "alpha", 0.2f), f[1] = ref_attr_f(nd, "beta", 0.5f);
        break;
    case REF_OP_LEAKYRELU: f[0] = ref_attr_f(nd, "alpha", 0.01f); break;
    case REF_OP_SELU:
        f[0] = ref_attr_f(nd, "alpha", 1.67326319217681884765625f);
        f[1] = ref_attr_f(nd, "gamma", 1.05070102214813232421875f);
        break;
    case REF_OP_SHRINK:
        f[0] = ref_attr_f(nd, "lambd", 0.5f), f[1] = ref_attr_f(nd, "bias", 0.0f);
        break;
    case REF_OP_THRESHOLDEDRELU: f[0] = ref_attr_f(nd, "alpha", 1.0f); break;
    case REF_OP_CLIP: /* before opset 11: attributes */
        f[0] = ref_attr_f(nd, "min", -INFINITY), f[1] = ref_attr_f(nd, "max", INFINITY);
        break;
    case REF_OP_ISINF:
        nd->mode = (int)ref_attr_i(nd, "detect_positive", 1);
        nd->mode2 = (int)ref_attr_i(nd, "detect_negative", 1);
        break;
    default: break;
    }
    eb_dtype dt = nd->op == REF_OP_ISINF || nd->op == REF_OP_ISNAN ? EB_I64 : x->dtype;
    return ref_set_out(s, nd, 0, dt, x->ndim, x->shape, err);
}

static float erf_like(float v) { return erff(v); }

#define MAP(EXPR)                                                                              \
    for (size_t i = 0; i < n; i++) {                                                           \
        float v = x[i];                                                                        \
        y[i] = (EXPR);                                                                         \
    }                                                                                          \
    return;

static void unary_f32(const ref_node *nd, size_t n, const float *restrict x, float *restrict y,
                      float lo, float hi)
{
    const float a = nd->fq[0], b = nd->fq[1];
    switch (nd->op) {
    case REF_OP_ABS: MAP(fabsf(v))
    case REF_OP_ACOS: MAP(acosf(v))
    case REF_OP_ACOSH: MAP(acoshf(v))
    case REF_OP_ASIN: MAP(asinf(v))
    case REF_OP_ASINH: MAP(asinhf(v))
    case REF_OP_ATAN: MAP(atanf(v))
    case REF_OP_ATANH: MAP(atanhf(v))
    case REF_OP_CEIL: MAP(ceilf(v))
    case REF_OP_CELU: MAP(v > 0 ? v : a * expm1f(v / a))
    case REF_OP_CLIP: MAP(v < lo ? lo : v > hi ? hi : v)
    case REF_OP_COS: MAP(cosf(v))
    case REF_OP_COSH: MAP(coshf(v))
    case REF_OP_ELU: MAP(v >= 0 ? v : a * expm1f(v))
    case REF_OP_ERF: MAP(erf_like(v))
    case REF_OP_EXP: MAP(expf(v))
    case REF_OP_FLOOR: MAP(floorf(v))
    case REF_OP_HARDSIGMOID: MAP(fmaxf(0.0f, fminf(1.0f, a * v + b)))
    case REF_OP_HARDSWISH: MAP(v * fmaxf(0.0f, fminf(1.0f, v / 6.0f + 0.5f)))
    case REF_OP_LEAKYRELU: MAP(v >= 0 ? v : a * v)
    case REF_OP_LOG: MAP(logf(v))
    case REF_OP_NEG: MAP(-v)
    case REF_OP_RECIPROCAL: MAP(1.0f / v)
    case REF_OP_ROUND: MAP(nearbyintf(v)) /* half to even in the default rounding mode */
    case REF_OP_SELU: MAP(v > 0 ? b * v : b * a * expm1f(v))
    case REF_OP_SHRINK: MAP(v < -a ? v + b : v > a ? v - b : 0.0f)
    case REF_OP_SIGMOID: MAP(v >= 0 ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v)))
    case REF_OP_SIGN: MAP(v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f)
    case REF_OP_SIN: MAP(sinf(v))
    case REF_OP_SINH: MAP(sinhf(v))
    case REF_OP_SOFTPLUS: MAP(v > 20.0f ? v : log1pf(expf(v)))
    case REF_OP_SOFTSIGN: MAP(v / (1.0f + fabsf(v)))
    case REF_OP_SQRT: MAP(sqrtf(v))
    case REF_OP_TAN: MAP(tanf(v))
    case REF_OP_TANH: MAP(tanhf(v))
    case REF_OP_THRESHOLDEDRELU: MAP(v > a ? v : 0.0f)
    default: return;
    }
}

#undef MAP

void ref_exec_unary(ref_session *s, const ref_node *nd)
{
    const ref_value *xv = &s->vals[nd->in[0]];
    const ref_value *yv = &s->vals[nd->out[0]];
    size_t n = xv->numel;
    const void *lo_p = nd->n_in > 1 && nd->in[1] >= 0 ? s->vals[nd->in[1]].data : NULL;
    const void *hi_p = nd->n_in > 2 && nd->in[2] >= 0 ? s->vals[nd->in[2]].data : NULL;
    if (nd->op == REF_OP_ISINF || nd->op == REF_OP_ISNAN) {
        const float *x = xv->data;
        int64_t *y = yv->data;
        for (size_t i = 0; i < n; i++)
            y[i] = nd->op == REF_OP_ISNAN ? isnan(x[i]) != 0
                                          : (isinf(x[i]) && ((x[i] > 0 && nd->mode) ||
                                                             (x[i] < 0 && nd->mode2)));
        return;
    }
    if (xv->dtype == EB_I64) {
        const int64_t *x = xv->data;
        int64_t *y = yv->data;
        int64_t lo = lo_p ? *(const int64_t *)lo_p : INT64_MIN;
        int64_t hi = hi_p ? *(const int64_t *)hi_p : INT64_MAX;
        for (size_t i = 0; i < n; i++) {
            int64_t v = x[i];
            switch (nd->op) {
            case REF_OP_ABS: y[i] = v < 0 ? -v : v; break;
            case REF_OP_NEG: y[i] = -v; break;
            case REF_OP_SIGN: y[i] = (v > 0) - (v < 0); break;
            case REF_OP_NOT: y[i] = !v; break;
            default: y[i] = v < lo ? lo : v > hi ? hi : v; break; /* Clip */
            }
        }
        return;
    }
    float lo = nd->fq[0], hi = nd->fq[1];
    if (nd->op == REF_OP_CLIP && nd->n_in > 1) { /* opset 11+: optional inputs */
        lo = lo_p ? *(const float *)lo_p : -INFINITY;
        hi = hi_p ? *(const float *)hi_p : INFINITY;
    }
    if (nd->op == REF_OP_ERF) { /* vectorized (ops_vmath.c): GELU's share of a transformer */
        eb_ref_verf(n, xv->data, yv->data);
        return;
    }
    if (nd->op == REF_OP_EXP) {
        eb_ref_vexp_sum(n, xv->data, 0.0f, yv->data);
        return;
    }
    unary_f32(nd, n, xv->data, yv->data, lo, hi);
}
