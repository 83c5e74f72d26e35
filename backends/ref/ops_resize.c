/* Resize (opsets 10-17) and Upsample (7-9), any rank: modes nearest (round_prefer_floor,
 * round_prefer_ceil, floor, ceil), linear (n-linear) and cubic (cubic_coeff_a,
 * exclude_outside), coordinate transformations half_pixel, pytorch_half_pixel, align_corners,
 * asymmetric, tf_half_pixel_for_nn and tf_crop_and_resize (roi, extrapolation_value).  The
 * arithmetic follows ONNX's reference implementation (which produced the suite's outputs):
 * the scale of an axis is the given scale, or out/in when sizes are given, and the input
 * coordinate of output x is computed from it; neighbours beyond the edge repeat the edge.
 * Before opset 11 (Resize-10, Upsample) the transformation is asymmetric and nearest floors,
 * as PyTorch's nearest upsampling does.
 *
 * Scales, sizes and roi must be known at open, so the whole interpolation is planned then:
 * per axis and output coordinate, up to four (input index, weight) taps with the zero weights
 * dropped (an axis of scale 1 costs one tap).  run() walks the output once and sums the
 * product of its axes' taps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { RS_HALF_PIXEL, RS_PYTORCH_HALF_PIXEL, RS_ALIGN_CORNERS, RS_ASYMMETRIC,
       RS_TF_HALF_PIXEL_FOR_NN, RS_TF_CROP_AND_RESIZE };
enum { RS_ROUND_PREFER_FLOOR, RS_ROUND_PREFER_CEIL, RS_FLOOR, RS_CEIL };

typedef struct rs_tap {
    int n;           /* taps used, 0 when the coordinate lies outside (tf_crop_and_resize) */
    int64_t idx[4];  /* input index along the axis, times the axis' input stride */
    float w[4];
} rs_tap;

typedef struct rs_plan {
    int ndim;
    int64_t out[EB_MAX_DIMS];
    rs_tap *taps[EB_MAX_DIMS]; /* per axis, out[d] entries */
    float extrapolation;
} rs_plan;

static int rs_pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

/* Reads static float input idx (scales, roi) into out; n = -1 when absent or empty. */
static int rs_static_floats(ref_session *s, ref_node *nd, int idx, const char *what,
                            float *out, int max, int *n, eb_err *err)
{
    *n = -1;
    if (idx >= nd->n_in || nd->in[idx] < 0)
        return 0;
    const ref_value *v = &s->vals[nd->in[idx]];
    if (!ref_is_static(v))
        FAIL("%s '%s' must be known at open (an initializer or a Constant); ref plans the "
             "interpolation at open",
             what, v->name);
    if (v->numel == 0)
        return 0;
    if (v->dtype != EB_F32 || v->ndim != 1 || (int)v->numel > max)
        FAIL("%s '%s' must be a 1-D float tensor of at most %d elements", what, v->name, max);
    memcpy(out, v->data, v->numel * sizeof *out);
    *n = (int)v->numel;
    return 0;
}

static void rs_cubic(float r, float A, float *c)
{
    float r1 = r + 1, q = 1 - r, q1 = q + 1;
    c[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
    c[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
}

typedef struct rs_cfg {
    int mode, coord, nearest, exclude_outside;
    float cubic_a;
} rs_cfg;

/* The taps of output coordinate x along an axis of in -> out elements at `scale`; roi0/1
 * for tf_crop_and_resize. */
static void rs_axis_tap(const rs_cfg *c, int64_t x, int64_t in, int64_t out, double scale,
                        double roi0, double roi1, int64_t stride, rs_tap *t)
{
    double xo, ow = scale * (double)in; /* the reference's "output width" */
    switch (c->coord) {
    case RS_ALIGN_CORNERS: xo = ow == 1 ? 0 : (double)x * (double)(in - 1) / (ow - 1); break;
    case RS_ASYMMETRIC: xo = (double)x / scale; break;
    case RS_TF_HALF_PIXEL_FOR_NN: xo = ((double)x + 0.5) / scale; break;
    case RS_PYTORCH_HALF_PIXEL: xo = ow == 1 ? -0.5 : ((double)x + 0.5) / scale - 0.5; break;
    case RS_TF_CROP_AND_RESIZE:
        xo = ow == 1 ? (roi1 - roi0) * (double)(in - 1) / 2
                     : (double)x * (roi1 - roi0) * (double)(in - 1) / (ow - 1);
        xo += roi0 * (double)(in - 1);
        if (xo < 0 || xo > (double)(in - 1)) {
            t->n = 0;
            return;
        }
        break;
    default: xo = ((double)x + 0.5) / scale - 0.5; break;
    }
    (void)out;
    /* The reference prefers the left pixel: an integral coordinate is the right-hand tap of
     * the interval below it, at ratio 1. */
    double fl = floor(xo);
    int64_t x0 = (int64_t)fl;
    double ratio = xo - fl;
    if (ratio == 0)
        x0 -= 1, ratio = 1;
    float cw[4];
    int64_t ci[4];
    int n;
    if (c->mode == RS_NEAREST) {
        int right;
        if (ratio == 1)
            right = 1;
        else if (c->nearest == RS_ROUND_PREFER_FLOOR)
            right = ratio > 0.5;
        else if (c->nearest == RS_ROUND_PREFER_CEIL)
            right = ratio >= 0.5;
        else
            right = c->nearest == RS_CEIL;
        n = 1, ci[0] = x0 + right, cw[0] = 1;
    } else if (c->mode == RS_LINEAR) {
        n = 2, ci[0] = x0, ci[1] = x0 + 1;
        cw[0] = (float)(1 - ratio), cw[1] = (float)ratio;
    } else {
        n = 4;
        for (int k = 0; k < 4; k++)
            ci[k] = x0 - 1 + k;
        rs_cubic((float)ratio, c->cubic_a, cw);
        if (c->exclude_outside) {
            float sum = 0;
            for (int k = 0; k < 4; k++) {
                if (ci[k] < 0 || ci[k] >= in)
                    cw[k] = 0;
                sum += cw[k];
            }
            for (int k = 0; k < 4; k++)
                cw[k] = sum != 0 ? cw[k] / sum : 0;
        }
    }
    t->n = 0;
    for (int k = 0; k < n; k++) {
        if (cw[k] == 0 && !(n == 1))
            continue;
        int64_t i = ci[k] < 0 ? 0 : ci[k] >= in ? in - 1 : ci[k];
        t->idx[t->n] = i * stride;
        t->w[t->n++] = cw[k];
    }
    if (t->n == 0) { /* every weight zero: keep one tap so the sum is 0, not extrapolation */
        t->idx[0] = 0, t->w[0] = 0, t->n = 1;
    }
}

int ref_infer_resize(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128];
    if (nd->n_in < 1 || nd->in[0] < 0)
        FAIL("input X is required");
    for (int i = 1; i < nd->n_out; i++)
        if (nd->out[i] >= 0)
            FAIL("has %d outputs (1 expected)", nd->n_out);
    const ref_value *x = &s->vals[nd->in[0]];
    int r = x->ndim, legacy = nd->op == REF_OP_UPSAMPLE || s->opset < 11;
    if (r < 1)
        FAIL("input X must have at least one dimension");
    if (ref_attr_get(nd, "axes") || ref_attr_i(nd, "antialias", 0) ||
        strcmp(ref_attr_s(nd, "keep_aspect_ratio_policy", "stretch"), "stretch") != 0)
        FAIL("the opset-18 attributes axes, antialias and keep_aspect_ratio_policy are not "
             "supported");
    rs_cfg c = {0};
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                         "asymmetric", "tf_half_pixel_for_nn",
                                         "tf_crop_and_resize"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil"};
    const char *mv = ref_attr_s(nd, "mode", "nearest");
    c.mode = rs_pick(mv, modes, 4);
    if (c.mode == 3)
        c.mode = RS_LINEAR;
    if (c.mode < 0 || (legacy && c.mode == RS_CUBIC))
        FAIL("mode '%.40s' is not supported (nearest, linear%s)", mv, legacy ? "" : ", cubic");
    const char *cv = ref_attr_s(nd, "coordinate_transformation_mode", "half_pixel");
    c.coord = legacy ? RS_ASYMMETRIC : rs_pick(cv, coords, 6);
    if (c.coord < 0)
        FAIL("coordinate_transformation_mode '%.40s' is not supported", cv);
    const char *nv = ref_attr_s(nd, "nearest_mode", "round_prefer_floor");
    c.nearest = legacy ? RS_FLOOR : rs_pick(nv, nearests, 4);
    if (c.nearest < 0)
        FAIL("nearest_mode '%.40s' is not supported", nv);
    c.cubic_a = ref_attr_f(nd, "cubic_coeff_a", -0.75f);
    c.exclude_outside = (int)ref_attr_i(nd, "exclude_outside", 0);
    if (x->dtype != EB_F32 && c.mode != RS_NEAREST)
        FAIL("input '%s' is %s; ref interpolates float32 only (nearest also copies integers)",
             x->name, eb_dtype_name(x->dtype));

    /* scales / sizes / roi by operator and opset */
    float scales[EB_MAX_DIMS], roi[2 * EB_MAX_DIMS];
    int64_t sizes[EB_MAX_DIMS];
    int n_scales = -1, n_sizes = -1, n_roi = -1;
    if (nd->op == REF_OP_UPSAMPLE && s->opset < 9) {
        const ref_attr *sa = ref_attr_get(nd, "scales");
        if (!sa || sa->type != 6 || sa->n > EB_MAX_DIMS)
            FAIL("the scales attribute is required");
        n_scales = sa->n;
        memcpy(scales, sa->floats, (size_t)sa->n * sizeof *scales);
    } else if (legacy) {
        if (nd->n_in < 2 || nd->in[1] < 0)
            FAIL("scales (input 1) is required");
        if (rs_static_floats(s, nd, 1, "scales", scales, EB_MAX_DIMS, &n_scales, err) != 0)
            return -1;
    } else {
        if (rs_static_floats(s, nd, 1, "roi", roi, 2 * EB_MAX_DIMS, &n_roi, err) != 0 ||
            rs_static_floats(s, nd, 2, "scales", scales, EB_MAX_DIMS, &n_scales, err) != 0)
            return -1;
        if (nd->n_in > 3 && nd->in[3] >= 0 && s->vals[nd->in[3]].numel > 0) {
            int n;
            if (ref_static_ints(s, nd, 3, "sizes", sizes, EB_MAX_DIMS, &n, err) != 0)
                return -1;
            n_sizes = n;
        }
    }
    if ((n_scales < 0) == (n_sizes < 0))
        FAIL("exactly one of scales and sizes must be given");
    if ((n_scales >= 0 && n_scales != r) || (n_sizes >= 0 && n_sizes != r))
        FAIL("has %d %s for the %d-D input %s", n_scales >= 0 ? n_scales : n_sizes,
             n_scales >= 0 ? "scales" : "sizes", r, ref_shape_str(x, b1, sizeof b1));
    if (c.coord == RS_TF_CROP_AND_RESIZE && n_roi != 2 * r)
        FAIL("tf_crop_and_resize needs a roi of %d values", 2 * r);

    rs_plan p = {.ndim = r, .extrapolation = ref_attr_f(nd, "extrapolation_value", 0.0f)};
    double sc[EB_MAX_DIMS];
    size_t total_taps = 0;
    for (int d = 0; d < r; d++) {
        int64_t in = x->shape[d];
        if (n_sizes >= 0) {
            p.out[d] = sizes[d];
            sc[d] = in ? (double)sizes[d] / (double)in : 1;
        } else {
            if (!(scales[d] > 0) || scales[d] > 1e6f)
                FAIL("scale %g of axis %d must be positive", (double)scales[d], d);
            sc[d] = scales[d];
            p.out[d] = (int64_t)floor((double)in * (double)scales[d]);
        }
        if (p.out[d] < 0 || p.out[d] > ((int64_t)1 << 31) || (p.out[d] > 0 && in == 0))
            FAIL("output size %lld of axis %d is out of range", (long long)p.out[d], d);
        total_taps += (size_t)p.out[d];
    }
    if (ref_set_out(s, nd, 0, x->dtype, r, p.out, err) != 0)
        return -1;
    size_t bytes = sizeof p + total_taps * sizeof(rs_tap) + 16;
    if (bytes > REF_MAX_BYTES)
        FAIL("output %s is absurdly large", ref_shape_str(x, b1, sizeof b1));
    free(nd->aux);
    nd->aux = calloc(1, bytes);
    if (!nd->aux)
        FAIL("out of memory");
    nd->aux_n = bytes;
    rs_plan *q = nd->aux;
    *q = p;
    rs_tap *t = (rs_tap *)(q + 1);
    int64_t stride = 1;
    for (int d = r - 1; d >= 0; d--) {
        q->taps[d] = t;
        double r0 = n_roi == 2 * r ? roi[d] : 0, r1 = n_roi == 2 * r ? roi[r + d] : 1;
        for (int64_t o = 0; o < p.out[d]; o++)
            rs_axis_tap(&c, o, x->shape[d], p.out[d], sc[d], r0, r1, stride, &t[o]);
        t += p.out[d];
        stride *= x->shape[d];
    }
    return 0;
}

/* Weighted sum over the taps of axes [d, ndim) at input offset base, for output position
 * pos[]; 0 outside when any axis is outside (the caller substitutes extrapolation). */
static double rs_sum(const rs_plan *p, const int64_t *pos, int d, int64_t base,
                     const void *x, int is_f32, int *outside)
{
    const rs_tap *t = &p->taps[d][pos[d]];
    if (t->n == 0) {
        *outside = 1;
        return 0;
    }
    double acc = 0;
    for (int k = 0; k < t->n; k++) {
        int64_t off = base + t->idx[k];
        double v = d + 1 == p->ndim ? (is_f32 ? ((const float *)x)[off]
                                              : (double)((const int64_t *)x)[off])
                                    : rs_sum(p, pos, d + 1, off, x, is_f32, outside);
        acc += (double)t->w[k] * v;
    }
    return acc;
}

void ref_exec_resize(ref_session *s, const ref_node *nd)
{
    const rs_plan *p = nd->aux;
    const ref_value *xv = &s->vals[nd->in[0]], *yv = &s->vals[nd->out[0]];
    int is_f32 = xv->dtype == EB_F32;
    int64_t pos[EB_MAX_DIMS] = {0};
    for (size_t i = 0; i < yv->numel; i++) {
        int outside = 0;
        double v = rs_sum(p, pos, 0, 0, xv->data, is_f32, &outside);
        if (is_f32)
            ((float *)yv->data)[i] = outside ? p->extrapolation : (float)v;
        else /* nearest on integers: one tap of weight 1 per axis */
            ((int64_t *)yv->data)[i] = outside ? (int64_t)p->extrapolation : (int64_t)llround(v);
        for (int d = p->ndim - 1; d >= 0; d--) {
            if (++pos[d] < p->out[d])
                break;
            pos[d] = 0;
        }
    }
}
