/* Quantized operators (issue 4): QuantizeLinear, DequantizeLinear (per tensor and per axis,
 * opsets 10 and 13), DynamicQuantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger.
 *
 * ref stores every integer tensor as int64; the ONNX element type a value was declared with
 * (ref_value.onnx_type) says which range a result saturates to: uint8 [0, 255], int8
 * [-128, 127], int32.  These kernels follow ONNX's reference semantics literally — rounding
 * half to even (rintf in the default rounding mode), saturating, the float arithmetic in
 * float32 as numpy does it — and are plain loops: they run the node tests and unfused graphs.
 * The fast paths for quantized models are the open-time fusions: QDQ chains (qdq_fuse.c) and
 * DynamicQuantizeLinear -> MatMulInteger -> dequantization chains (qdq_dyn.c), whose integer
 * GEMM is in gemm_s8.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

enum { QT_FLOAT = 1, QT_UINT8 = 2, QT_INT8 = 3, QT_INT32 = 6 };

/* The saturation range of ONNX type t (uint8 when unknown: QuantizeLinear's default). */
static void quant_range(int t, int64_t *lo, int64_t *hi)
{
    switch (t) {
    case QT_INT8: *lo = -128, *hi = 127; return;
    case 4: *lo = 0, *hi = 65535; return;        /* uint16 */
    case 5: *lo = -32768, *hi = 32767; return;   /* int16 */
    case QT_INT32: *lo = INT32_MIN, *hi = INT32_MAX; return;
    default: *lo = 0, *hi = 255; return;
    }
}

static int64_t quant_sat(double v, int64_t lo, int64_t hi)
{
    return v < (double)lo ? lo : v > (double)hi ? hi : (int64_t)v;
}

static const ref_value *quant_in(const ref_session *s, const ref_node *nd, int i)
{
    return i < nd->n_in && nd->in[i] >= 0 ? &s->vals[nd->in[i]] : NULL;
}

static int quant_set_out(ref_session *s, ref_node *nd, int i, eb_dtype dt, int onnx_type,
                         int ndim, const int64_t *shape, eb_err *err)
{
    if (ref_set_out(s, nd, i, dt, ndim, shape, err) != 0)
        return -1;
    if (i < nd->n_out && nd->out[i] >= 0)
        s->vals[nd->out[i]].onnx_type = onnx_type;
    return 0;
}

/* Input i must exist (when required), be shaped and of dtype dt. */
static int quant_check(ref_session *s, ref_node *nd, int i, int required, eb_dtype dt,
                       const char *what, eb_err *err)
{
    const ref_value *v = quant_in(s, nd, i);
    if (!v)
        return required ? ref_node_fail(nd, err, "%s (input %d) is required", what, i) : 0;
    if (!v->shaped)
        return ref_node_fail(nd, err, "input '%s' has no known shape", v->name);
    if (v->dtype != dt)
        return ref_node_fail(nd, err, "%s '%s' must be %s (ONNX %s), not %s", what, v->name,
                             dt == EB_F32 ? "float" : "an integer tensor",
                             dt == EB_F32 ? "float" : "int8/uint8/int32",
                             eb_dtype_name(v->dtype));
    return 0;
}

/* Scale / zero point of a per-tensor or per-axis (de)quantization: numel 1, or 1-D with the
 * length of x's axis.  Fills nd->outer/len/inner so element i has channel (i / inner) % len. */
static int quant_axis_plan(ref_session *s, ref_node *nd, const ref_value *x, eb_err *err)
{
    const ref_value *sc = quant_in(s, nd, 1), *zp = quant_in(s, nd, 2);
    nd->outer = 1, nd->len = 1, nd->inner = 1;
    if (sc->numel == 1 && (!zp || zp->numel == 1))
        return 0;
    int64_t axis = ref_attr_i(nd, "axis", 1);
    if (s->opset < 13 || sc->ndim != 1 || ref_norm_axis(axis, x->ndim, &axis) != 0 ||
        (int64_t)sc->numel != x->shape[axis] || (zp && zp->numel != sc->numel))
        return ref_node_fail(nd, err, "scale has %zu elements: it must be a scalar, or (opset "
                                      "13) 1-D with the length of x's axis",
                             sc->numel);
    nd->len = x->shape[axis];
    nd->inner = ref_prod(x->shape, (int)axis + 1, x->ndim);
    return 0;
}

/* ---------------------------------------------------------------- conv geometry */

static int quant_conv_plan(ref_session *s, ref_node *nd, const ref_value *x, const ref_value *w,
                           eb_err *err)
{
    const ref_attrs *a = &nd->a;
    char b1[64], b2[64];
    int sp = x->ndim - 2;
    if ((sp != 1 && sp != 2) || w->ndim != x->ndim || (a->spatial_rank && a->spatial_rank != sp))
        return ref_node_fail(nd, err, "only 1-D and 2-D convolutions are supported; input %s, "
                                      "weight %s",
                             ref_shape_str(x, b1, sizeof b1), ref_shape_str(w, b2, sizeof b2));
    eb_ref_conv2d *p = &nd->conv;
    memset(p, 0, sizeof *p);
    p->n = x->shape[0], p->c = x->shape[1], p->m = w->shape[0], p->group = a->group;
    p->h = sp == 2 ? x->shape[2] : 1, p->w = x->shape[x->ndim - 1];
    p->kh = sp == 2 ? w->shape[2] : 1, p->kw = w->shape[w->ndim - 1];
    if (p->group < 1 || p->c % p->group || p->m % p->group || w->shape[1] != p->c / p->group)
        return ref_node_fail(nd, err, "input %s, weight %s and group %lld do not agree",
                             ref_shape_str(x, b1, sizeof b1), ref_shape_str(w, b2, sizeof b2),
                             (long long)p->group);
    int64_t in[2] = {p->h, p->w}, k[2] = {p->kh, p->kw}, out[2], pb[2], pe[2];
    for (int i = 0; i < 2; i++) {
        int64_t eff = (k[i] - 1) * a->dilations[i] + 1;
        if (a->auto_pad == REF_PAD_SAME_UPPER || a->auto_pad == REF_PAD_SAME_LOWER) {
            out[i] = (in[i] + a->strides[i] - 1) / a->strides[i];
            int64_t total = (out[i] - 1) * a->strides[i] + eff - in[i];
            total = total < 0 ? 0 : total;
            pb[i] = a->auto_pad == REF_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
        } else {
            pb[i] = a->auto_pad == REF_PAD_VALID ? 0 : a->pads[i];
            pe[i] = a->auto_pad == REF_PAD_VALID ? 0 : a->pads[i + 2];
            out[i] = eb_ref_conv_out(in[i], k[i], a->strides[i], a->dilations[i], pb[i], pe[i], 0);
        }
        if (out[i] < 1)
            return ref_node_fail(nd, err, "the window does not fit the input %s",
                                 ref_shape_str(x, b1, sizeof b1));
    }
    p->sh = a->strides[0], p->sw = a->strides[1], p->dh = a->dilations[0], p->dw = a->dilations[1];
    p->pt = pb[0], p->pl = pb[1], p->pb = pe[0], p->pr = pe[1];
    p->oh = out[0], p->ow = out[1];
    nd->macs = p->n * p->m * p->oh * p->ow * (p->c / p->group) * p->kh * p->kw;
    return 0;
}

/* acc[n, m, oh, ow] = sum (x - xz) * (w - wz[m]) over the window, in int64 (never overflows
 * for 8-bit operands).  wz has wz_n elements (1 or m); xz is a scalar. */
static void quant_conv_acc(const eb_ref_conv2d *p, const int64_t *x, int64_t xz, const int64_t *w,
                           const int64_t *wz, size_t wz_n, int64_t *acc)
{
    int64_t cg = p->c / p->group, mg = p->m / p->group;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++) {
            int64_t g = m / mg, z = wz ? wz[wz_n > 1 ? m : 0] : 0;
            const int64_t *wm = w + m * cg * p->kh * p->kw;
            for (int64_t oy = 0; oy < p->oh; oy++)
                for (int64_t ox = 0; ox < p->ow; ox++) {
                    int64_t sum = 0;
                    for (int64_t c = 0; c < cg; c++) {
                        const int64_t *xc = x + ((n * p->c) + g * cg + c) * p->h * p->w;
                        for (int64_t ky = 0; ky < p->kh; ky++) {
                            int64_t iy = oy * p->sh - p->pt + ky * p->dh;
                            if (iy < 0 || iy >= p->h)
                                continue;
                            for (int64_t kx = 0; kx < p->kw; kx++) {
                                int64_t ix = ox * p->sw - p->pl + kx * p->dw;
                                if (ix < 0 || ix >= p->w)
                                    continue;
                                sum += (xc[iy * p->w + ix] - xz) *
                                       (wm[(c * p->kh + ky) * p->kw + kx] - z);
                            }
                        }
                    }
                    *acc++ = sum;
                }
        }
}

/* ---------------------------------------------------------------- matmul geometry */

/* a [..., M, K] x b [..., K, N] with numpy batch broadcasting; nd->q / q2 hold a's and b's
 * matrix strides per output batch axis, q3 the output batch shape, mode its rank. */
static int quant_matmul_plan(ref_session *s, ref_node *nd, const ref_value *a,
                             const ref_value *b, int onnx_type, eb_err *err)
{
    char b1[64], b2[64];
    if (a->ndim < 2 || b->ndim < 2 || a->shape[a->ndim - 1] != b->shape[b->ndim - 2])
        return ref_node_fail(nd, err, "A %s and B %s do not multiply (both must be at least 2-D)",
                             ref_shape_str(a, b1, sizeof b1), ref_shape_str(b, b2, sizeof b2));
    int na = a->ndim - 2, nb = b->ndim - 2, nbat;
    int64_t bat[EB_MAX_DIMS];
    if (ref_bcast_shape(na, a->shape, nb, b->shape, &nbat, bat) != 0)
        return ref_node_fail(nd, err, "batch dimensions of A %s and B %s do not broadcast",
                             ref_shape_str(a, b1, sizeof b1), ref_shape_str(b, b2, sizeof b2));
    nd->m = a->shape[a->ndim - 2], nd->k = a->shape[a->ndim - 1], nd->n = b->shape[b->ndim - 1];
    int64_t sa = 1, sb = 1;
    for (int d = nbat - 1; d >= 0; d--) {
        int da = d - (nbat - na), db = d - (nbat - nb);
        int64_t ea = da >= 0 ? a->shape[da] : 1, eb = db >= 0 ? b->shape[db] : 1;
        nd->q[d] = ea == 1 ? 0 : sa;
        nd->q2[d] = eb == 1 ? 0 : sb;
        nd->q3[d] = bat[d];
        sa *= ea, sb *= eb;
    }
    nd->mode = nbat;
    int64_t shp[EB_MAX_DIMS];
    memcpy(shp, bat, (size_t)nbat * sizeof *shp);
    shp[nbat] = nd->m, shp[nbat + 1] = nd->n;
    nd->macs = ref_prod(bat, 0, nbat) * nd->m * nd->n * nd->k;
    return quant_set_out(s, nd, 0, EB_I64, onnx_type, nbat + 2, shp, err);
}

/* acc[batch, M, N] = sum_k (a - az[row]) * (b - bz[col]); az has az_n elements (1 or M),
 * bz bz_n (1 or N). */
static void quant_matmul_acc(const ref_node *nd, const int64_t *a, const int64_t *az, size_t az_n,
                             const int64_t *b, const int64_t *bz, size_t bz_n, int64_t *acc)
{
    int64_t M = nd->m, N = nd->n, K = nd->k, total = ref_prod(nd->q3, 0, nd->mode);
    int64_t idx[EB_MAX_DIMS] = {0}, oa = 0, ob = 0;
    for (int64_t r = 0; r < total; r++) {
        const int64_t *ar = a + oa * M * K, *br = b + ob * K * N;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int64_t za = az ? az[az_n > 1 ? i : 0] : 0, zb = bz ? bz[bz_n > 1 ? j : 0] : 0;
                int64_t sum = 0;
                for (int64_t k = 0; k < K; k++)
                    sum += (ar[i * K + k] - za) * (br[k * N + j] - zb);
                *acc++ = sum;
            }
        for (int d = nd->mode - 1; d >= 0; d--) {
            oa += nd->q[d], ob += nd->q2[d];
            if (++idx[d] < nd->q3[d])
                break;
            oa -= nd->q[d] * nd->q3[d], ob -= nd->q2[d] * nd->q3[d];
            idx[d] = 0;
        }
    }
}

/* ---------------------------------------------------------------- infer */

int ref_infer_quant(ref_session *s, ref_node *nd, eb_err *err)
{
    const ref_value *x = quant_in(s, nd, 0);
    char b1[64];
    for (int i = 0; i < nd->n_in; i++)
        if (nd->in[i] >= 0 && !s->vals[nd->in[i]].shaped)
            return ref_node_fail(nd, err, "input '%s' has no known shape",
                                 s->vals[nd->in[i]].name);
    if (!x)
        return ref_node_fail(nd, err, "input 0 is required");
    switch (nd->op) {
    case REF_OP_QUANTIZELINEAR: {
        if (nd->n_in < 2 || nd->n_in > 3 || quant_check(s, nd, 0, 1, EB_F32, "x", err) ||
            quant_check(s, nd, 1, 1, EB_F32, "y_scale", err) ||
            quant_check(s, nd, 2, 0, EB_I64, "y_zero_point", err))
            return nd->n_in < 2 || nd->n_in > 3 ? ref_node_fail(nd, err, "needs 2 or 3 inputs")
                                                : -1;
        const ref_value *zp = quant_in(s, nd, 2);
        int t = zp && zp->onnx_type ? zp->onnx_type : QT_UINT8;
        if (t != QT_UINT8 && t != QT_INT8)
            return ref_node_fail(nd, err, "y_zero_point must be uint8 or int8 (ONNX type %d)", t);
        if (quant_axis_plan(s, nd, x, err) != 0)
            return -1;
        return quant_set_out(s, nd, 0, EB_I64, t, x->ndim, x->shape, err);
    }
    case REF_OP_DEQUANTIZELINEAR: {
        if (nd->n_in < 2 || nd->n_in > 3)
            return ref_node_fail(nd, err, "needs 2 or 3 inputs");
        if (quant_check(s, nd, 0, 1, EB_I64, "x", err) ||
            quant_check(s, nd, 1, 1, EB_F32, "x_scale", err) ||
            quant_check(s, nd, 2, 0, EB_I64, "x_zero_point", err) ||
            quant_axis_plan(s, nd, x, err) != 0)
            return -1;
        return quant_set_out(s, nd, 0, EB_F32, QT_FLOAT, x->ndim, x->shape, err);
    }
    case REF_OP_DYNAMICQUANTIZELINEAR: {
        if (nd->n_in != 1 || quant_check(s, nd, 0, 1, EB_F32, "x", err))
            return nd->n_in != 1 ? ref_node_fail(nd, err, "needs 1 input") : -1;
        if (quant_set_out(s, nd, 0, EB_I64, QT_UINT8, x->ndim, x->shape, err) ||
            quant_set_out(s, nd, 1, EB_F32, QT_FLOAT, 0, NULL, err))
            return -1;
        return quant_set_out(s, nd, 2, EB_I64, QT_UINT8, 0, NULL, err);
    }
    case REF_OP_MATMULINTEGER: {
        if (nd->n_in < 2 || nd->n_in > 4)
            return ref_node_fail(nd, err, "needs 2 to 4 inputs");
        for (int i = 0; i < nd->n_in; i++)
            if (quant_check(s, nd, i, i < 2, EB_I64, i < 2 ? "operand" : "zero point", err))
                return -1;
        return quant_matmul_plan(s, nd, x, quant_in(s, nd, 1), QT_INT32, err);
    }
    case REF_OP_QLINEARMATMUL: {
        if (nd->n_in != 8)
            return ref_node_fail(nd, err, "needs 8 inputs");
        for (int i = 0; i < 8; i++)
            if (quant_check(s, nd, i, 1, i == 1 || i == 4 || i == 6 ? EB_F32 : EB_I64,
                            i == 1 || i == 4 || i == 6 ? "scale" : "tensor or zero point", err))
                return -1;
        const ref_value *yz = quant_in(s, nd, 7);
        return quant_matmul_plan(s, nd, x, quant_in(s, nd, 3),
                                 yz->onnx_type ? yz->onnx_type : QT_UINT8, err);
    }
    case REF_OP_CONVINTEGER:
    case REF_OP_QLINEARCONV: {
        int qc = nd->op == REF_OP_QLINEARCONV;
        if (qc ? nd->n_in < 8 || nd->n_in > 9 : nd->n_in < 2 || nd->n_in > 4)
            return ref_node_fail(nd, err, "needs %s inputs", qc ? "8 or 9" : "2 to 4");
        for (int i = 0; i < nd->n_in; i++)
            if (quant_check(s, nd, i, qc ? i < 8 : i < 2,
                            qc && (i == 1 || i == 4 || i == 6) ? EB_F32 : EB_I64, "input", err))
                return -1;
        const ref_value *w = quant_in(s, nd, qc ? 3 : 1);
        if (quant_conv_plan(s, nd, x, w, err) != 0)
            return -1;
        const eb_ref_conv2d *p = &nd->conv;
        if (qc && nd->n_in > 8 && nd->in[8] >= 0 && s->vals[nd->in[8]].numel != (size_t)p->m)
            return ref_node_fail(nd, err, "bias must have %lld elements", (long long)p->m);
        const ref_value *wz = quant_in(s, nd, qc ? 5 : 3), *ws = qc ? quant_in(s, nd, 4) : NULL;
        if ((wz && wz->numel != 1 && wz->numel != (size_t)p->m) ||
            (ws && ws->numel != 1 && ws->numel != (size_t)p->m))
            return ref_node_fail(nd, err, "w's scale and zero point must be scalars or have "
                                          "one element per output channel (%lld)",
                                 (long long)p->m);
        int64_t o[4] = {p->n, p->m, p->oh, p->ow};
        if (x->ndim == 3)
            o[2] = p->ow;
        const ref_value *yz = qc ? quant_in(s, nd, 7) : NULL;
        return quant_set_out(s, nd, 0, EB_I64,
                             qc ? (yz->onnx_type ? yz->onnx_type : QT_UINT8) : QT_INT32,
                             x->ndim, o, err);
    }
    default:
        return ref_node_fail(nd, err, "not a quantized operator (%s)",
                             ref_shape_str(x, b1, sizeof b1));
    }
}

/* ---------------------------------------------------------------- exec */

static void exec_quantize(const ref_session *s, const ref_node *nd)
{
    const ref_value *x = quant_in(s, nd, 0), *sc = quant_in(s, nd, 1), *zp = quant_in(s, nd, 2);
    const ref_value *y = &s->vals[nd->out[0]];
    int64_t lo, hi;
    quant_range(y->onnx_type, &lo, &hi);
    const float *xf = x->data, *scf = sc->data;
    const int64_t *zq = zp ? zp->data : NULL;
    int64_t *yq = y->data;
    for (size_t i = 0; i < x->numel; i++) {
        size_t c = nd->len > 1 ? (size_t)((int64_t)i / nd->inner % nd->len) : 0;
        /* numpy: rint(x / scale) in float32, then + zero point, then clip */
        float q = rintf(xf[i] / scf[c]);
        yq[i] = quant_sat((double)q + (double)(zq ? zq[c] : 0), lo, hi);
    }
}

static void exec_dequantize(const ref_session *s, const ref_node *nd)
{
    const ref_value *x = quant_in(s, nd, 0), *sc = quant_in(s, nd, 1), *zp = quant_in(s, nd, 2);
    const ref_value *y = &s->vals[nd->out[0]];
    const int64_t *xq = x->data, *zq = zp ? zp->data : NULL;
    const float *scf = sc->data;
    float *yf = y->data;
    for (size_t i = 0; i < x->numel; i++) {
        size_t c = nd->len > 1 ? (size_t)((int64_t)i / nd->inner % nd->len) : 0;
        yf[i] = (float)(xq[i] - (zq ? zq[c] : 0)) * scf[c];
    }
}

static void exec_dynamic(const ref_session *s, const ref_node *nd)
{
    const ref_value *x = quant_in(s, nd, 0);
    const float *xf = x->data;
    float mn = 0.0f, mx = 0.0f;
    for (size_t i = 0; i < x->numel; i++) {
        mn = xf[i] < mn ? xf[i] : mn;
        mx = xf[i] > mx ? xf[i] : mx;
    }
    float scale = (mx - mn) / 255.0f;
    int64_t zp = 0;
    if (scale > 0.0f) {
        float z = 0.0f - mn / scale; /* qmin - min / scale */
        z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
        zp = (int64_t)rintf(z);
    }
    int64_t *yq = s->vals[nd->out[0]].data;
    for (size_t i = 0; i < x->numel; i++)
        yq[i] = scale > 0.0f ? quant_sat((double)rintf(xf[i] / scale) + (double)zp, 0, 255) : zp;
    if (nd->n_out > 1 && nd->out[1] >= 0)
        *(float *)s->vals[nd->out[1]].data = scale;
    if (nd->n_out > 2 && nd->out[2] >= 0)
        *(int64_t *)s->vals[nd->out[2]].data = zp;
}

/* y = saturate(rint(acc * (sa * sb[c] / sy)) + zy), c the output channel (per-channel sb). */
static void quant_requant(const int64_t *acc, size_t n, int64_t inner, int64_t channels,
                          const ref_value *sa_v, const ref_value *sb_v, const ref_value *sy_v,
                          const ref_value *zy_v, const ref_value *y, const int64_t *bias)
{
    int64_t lo, hi;
    quant_range(y->onnx_type, &lo, &hi);
    const float *sa = sa_v->data, *sb = sb_v->data, *sy = sy_v->data;
    int64_t zy = *(const int64_t *)zy_v->data, *yq = y->data;
    for (size_t i = 0; i < n; i++) {
        int64_t c = channels > 1 ? (int64_t)i / inner % channels : 0;
        float scb = sb[sb_v->numel > 1 ? c : 0];
        int64_t a = acc[i] + (bias ? bias[c] : 0);
        /* the reference computes the real multiplier in float32 */
        float mul = sa[0] * scb / sy[0];
        yq[i] = quant_sat(rint((double)a * (double)mul) + (double)zy, lo, hi);
    }
}

static void exec_qlinearconv(const ref_session *s, const ref_node *nd, int qc)
{
    const ref_value *x = quant_in(s, nd, 0), *w = quant_in(s, nd, qc ? 3 : 1);
    const ref_value *xz = quant_in(s, nd, 2), *wz = quant_in(s, nd, qc ? 5 : 3);
    const ref_value *y = &s->vals[nd->out[0]];
    if (!qc) {
        xz = quant_in(s, nd, 2);
        quant_conv_acc(&nd->conv, x->data, xz ? *(const int64_t *)xz->data : 0, w->data,
                       wz ? wz->data : NULL, wz ? wz->numel : 0, y->data);
        return;
    }
    /* the int64 output buffer holds the accumulators first, then the requantized values */
    int64_t *acc = y->data;
    quant_conv_acc(&nd->conv, x->data, *(const int64_t *)xz->data, w->data, wz->data, wz->numel,
                   acc);
    const ref_value *b = quant_in(s, nd, 8);
    quant_requant(acc, y->numel, nd->conv.oh * nd->conv.ow, nd->conv.m, quant_in(s, nd, 1),
                  quant_in(s, nd, 4), quant_in(s, nd, 6), quant_in(s, nd, 7), y,
                  b ? b->data : NULL);
}

static void exec_qlinearmatmul(const ref_session *s, const ref_node *nd, int ql)
{
    const ref_value *a = quant_in(s, nd, 0), *b = quant_in(s, nd, ql ? 3 : 1);
    const ref_value *az = quant_in(s, nd, 2), *bz = quant_in(s, nd, ql ? 5 : 3);
    const ref_value *y = &s->vals[nd->out[0]];
    int64_t *acc = y->data;
    quant_matmul_acc(nd, a->data, az ? az->data : NULL, az ? az->numel : 0, b->data,
                     bz ? bz->data : NULL, bz ? bz->numel : 0, acc);
    if (ql) /* per-column b scale: channel = column */
        quant_requant(acc, y->numel, 1, nd->n, quant_in(s, nd, 1), quant_in(s, nd, 4),
                      quant_in(s, nd, 6), quant_in(s, nd, 7), y, NULL);
}

void ref_exec_quant(ref_session *s, const ref_node *nd)
{
    switch (nd->op) {
    case REF_OP_QUANTIZELINEAR: exec_quantize(s, nd); break;
    case REF_OP_DEQUANTIZELINEAR: exec_dequantize(s, nd); break;
    case REF_OP_DYNAMICQUANTIZELINEAR: exec_dynamic(s, nd); break;
    case REF_OP_CONVINTEGER: exec_qlinearconv(s, nd, 0); break;
    case REF_OP_QLINEARCONV: exec_qlinearconv(s, nd, 1); break;
    case REF_OP_MATMULINTEGER: exec_qlinearmatmul(s, nd, 0); break;
    case REF_OP_QLINEARMATMUL: exec_qlinearmatmul(s, nd, 1); break;
    default: break;
    }
}
