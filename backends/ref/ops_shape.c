/* Data movement: Transpose, Slice, Split, Expand, Tile, DepthToSpace, SpaceToDepth as one
 * strided gather (the output walked as a view of up to 8 axes, each with a source stride
 * planned at open), plus ConstantOfShape, Range, Size, CastLike, GatherElements, Trilu,
 * EyeLike and OneHot.  They work on element sizes, so float32 and int64 go through the same
 * code; sizes that depend on values (Slice's starts, Expand's shape, Range's limits) must be
 * known at open, as ref's shapes are static. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

static void strides_of(const ref_value *v, int64_t *st)
{
    int64_t acc = 1;
    for (int i = v->ndim - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= v->shape[i];
    }
}

/* Plan of the strided gather: mode = view rank, q = view shape, q2 = source strides,
 * q3[0] = source base offset.  The view is simplified first: size-1 axes dropped, and an axis
 * merged into the one before it when the source walks both as one (stride[d] ==
 * stride[d+1] * shape[d+1]), so ShuffleNet's channel shuffle (perm 0,2,1,3,4) becomes
 * 24 x 2 runs of H*W contiguous floats and a channel Slice one contiguous block.  view_exec
 * then copies rows with unit source stride by memcpy and runs a tiled 2-D transpose when
 * the second-innermost axis has it; anything else takes the element walk. */
static void view_plan(ref_node *nd, int rank, const int64_t *shape, const int64_t *src_st,
                      int64_t base)
{
    int64_t sh[2 * EB_MAX_DIMS], st[2 * EB_MAX_DIMS];
    int r = 0, empty = 0;
    for (int d = 0; d < rank; d++)
        empty |= shape[d] == 0;
    for (int d = 0; d < rank; d++) {
        if (!empty && shape[d] == 1)
            continue;
        if (!empty && r > 0 && st[r - 1] == src_st[d] * shape[d]) {
            sh[r - 1] *= shape[d];
            st[r - 1] = src_st[d];
            continue;
        }
        sh[r] = shape[d], st[r] = src_st[d];
        r++;
    }
    nd->mode = r;
    memcpy(nd->q, sh, (size_t)r * sizeof *sh);
    memcpy(nd->q2, st, (size_t)r * sizeof *st);
    nd->q3[0] = base;
}

/* y[i][j] = x[i + j * ld] for i < rows, j < cols (y row-major, rows x cols): the batched 2-D
 * transpose of attention's K^T and of layout changes, in 8 x 8 tiles so both sides stay in
 * cache lines. */
static void transpose_f32(const float *restrict x, int64_t ld, int64_t rows, int64_t cols,
                          float *restrict y)
{
    for (int64_t i0 = 0; i0 < rows; i0 += 8) {
        int64_t i1 = i0 + 8 < rows ? i0 + 8 : rows;
        for (int64_t j0 = 0; j0 < cols; j0 += 8) {
            int64_t j1 = j0 + 8 < cols ? j0 + 8 : cols;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++)
                    y[i * cols + j] = x[i + j * ld];
        }
    }
}

static void view_exec(const ref_node *nd, const ref_value *x, const ref_value *y)
{
    size_t es = eb_dtype_size(x->dtype);
    int r = nd->mode;
    int64_t idx[2 * EB_MAX_DIMS] = {0}, off = nd->q3[0];
    const unsigned char *src = x->data;
    unsigned char *dst = y->data;
    if (r == 0) {
        if (y->numel && dst != src + off * (int64_t)es)
            memcpy(dst, src + off * (int64_t)es, es);
        return;
    }
    int64_t row = nd->q[r - 1], rs = nd->q2[r - 1];
    if (row == 0 || y->numel == 0)
        return;
    size_t rows = y->numel / (size_t)row;
    if (rs == 1) { /* contiguous runs */
        if (r == 1 && dst == src + off * (int64_t)es)
            return; /* the plan placed y on these very bytes (plan.c) */
        size_t bytes = (size_t)row * es;
        for (size_t k = 0; k < rows; k++) {
            memcpy(dst, src + off * (int64_t)es, bytes);
            dst += bytes;
            for (int d = r - 2; d >= 0; d--) {
                off += nd->q2[d];
                if (++idx[d] < nd->q[d])
                    break;
                off -= nd->q2[d] * nd->q[d];
                idx[d] = 0;
            }
        }
        return;
    }
    if (es == 4 && r >= 2 && nd->q2[r - 2] == 1 && rs > 0) { /* batched 2-D transpose */
        int64_t m = nd->q[r - 2];
        size_t mats = rows / (size_t)m;
        for (size_t k = 0; k < mats; k++) {
            transpose_f32((const float *)src + off, rs, m, row, (float *)dst);
            dst += (size_t)(m * row) * es;
            for (int d = r - 3; d >= 0; d--) {
                off += nd->q2[d];
                if (++idx[d] < nd->q[d])
                    break;
                off -= nd->q2[d] * nd->q[d];
                idx[d] = 0;
            }
        }
        return;
    }
    for (size_t k = 0; k < rows; k++) {
        if (es == 4) {
            const float *s4 = (const float *)src + off;
            float *d4 = (float *)dst;
            for (int64_t j = 0; j < row; j++)
                d4[j] = s4[j * rs];
        } else {
            const int64_t *s8 = (const int64_t *)src + off;
            int64_t *d8 = (int64_t *)dst;
            for (int64_t j = 0; j < row; j++)
                d8[j] = s8[j * rs];
        }
        dst += (size_t)row * es;
        for (int d = r - 2; d >= 0; d--) {
            off += nd->q2[d];
            if (++idx[d] < nd->q[d])
                break;
            off -= nd->q2[d] * nd->q[d];
            idx[d] = 0;
        }
    }
}

int ref_shapeop_alias(const ref_node *nd, int out, int64_t *elem_off)
{
    if (nd->op == REF_OP_SLICE && out == 0 && (nd->mode == 0 || (nd->mode == 1 && nd->q2[0] == 1))) {
        *elem_off = nd->q3[0];
        return 1;
    }
    if (nd->op == REF_OP_SPLIT && nd->outer == 1 && out >= 0 && out < nd->n_out) {
        const int64_t *sizes = nd->aux;
        int64_t at = 0;
        for (int i = 0; i < out; i++)
            at += sizes[i];
        *elem_off = at * nd->inner;
        return 1;
    }
    return 0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int infer_slice(ref_session *s, ref_node *nd, const ref_value *x, eb_err *err)
{
    int64_t starts[EB_MAX_DIMS], ends[EB_MAX_DIMS], axes[EB_MAX_DIMS], steps[EB_MAX_DIMS];
    int ns, ne, na = -1, nst = -1;
    if (s->opset < 10) {
        const ref_attr *as = ref_attr_get(nd, "starts"), *ae = ref_attr_get(nd, "ends");
        const ref_attr *ax = ref_attr_get(nd, "axes");
        if (!as || !ae || as->n != ae->n || as->n > EB_MAX_DIMS)
            FAIL("starts and ends must be given, of equal length");
        ns = ne = as->n;
        memcpy(starts, as->ints, (size_t)ns * 8);
        memcpy(ends, ae->ints, (size_t)ne * 8);
        if (ax) {
            if (ax->n != ns)
                FAIL("axes must be as long as starts");
            na = ax->n;
            memcpy(axes, ax->ints, (size_t)na * 8);
        }
    } else {
        if (nd->n_in < 3)
            FAIL("starts and ends are required");
        if (ref_static_ints(s, nd, 1, "starts", starts, EB_MAX_DIMS, &ns, err) != 0 ||
            ref_static_ints(s, nd, 2, "ends", ends, EB_MAX_DIMS, &ne, err) != 0)
            return -1;
        if (nd->n_in > 3 && nd->in[3] >= 0 &&
            ref_static_ints(s, nd, 3, "axes", axes, EB_MAX_DIMS, &na, err) != 0)
            return -1;
        if (nd->n_in > 4 && nd->in[4] >= 0 &&
            ref_static_ints(s, nd, 4, "steps", steps, EB_MAX_DIMS, &nst, err) != 0)
            return -1;
        if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
            FAIL("starts, ends, axes and steps differ in length");
    }
    int64_t xs[EB_MAX_DIMS], b[EB_MAX_DIMS], st[EB_MAX_DIMS], o[EB_MAX_DIMS];
    strides_of(x, xs);
    for (int d = 0; d < x->ndim; d++)
        b[d] = 0, st[d] = 1, o[d] = x->shape[d];
    unsigned char seen[EB_MAX_DIMS] = {0};
    for (int i = 0; i < ns; i++) {
        int64_t ax;
        if (ref_norm_axis(na >= 0 ? axes[i] : i, x->ndim, &ax) != 0 || seen[ax])
            FAIL("axis %lld is out of range or repeated", (long long)(na >= 0 ? axes[i] : i));
        seen[ax] = 1;
        int64_t step = nst >= 0 ? steps[i] : 1, dim = x->shape[ax];
        if (step == 0)
            FAIL("a step is 0");
        int64_t s0 = starts[i], e0 = ends[i];
        if (s0 < 0)
            s0 += dim;
        if (e0 < 0)
            e0 += dim;
        int64_t len;
        if (step > 0) {
            s0 = clamp64(s0, 0, dim);
            e0 = clamp64(e0, 0, dim);
            len = e0 > s0 ? (e0 - s0 + step - 1) / step : 0;
        } else {
            s0 = clamp64(s0, -1, dim - 1);
            e0 = clamp64(e0, -1, dim - 1);
            len = s0 > e0 ? (s0 - e0 + (-step) - 1) / (-step) : 0;
        }
        b[ax] = len ? s0 : 0, st[ax] = step, o[ax] = len;
    }
    int64_t base = 0, sst[EB_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        base += b[d] * xs[d], sst[d] = st[d] * xs[d];
    view_plan(nd, x->ndim, o, sst, base);
    return ref_set_out(s, nd, 0, x->dtype, x->ndim, o, err);
}

static int infer_split(ref_session *s, ref_node *nd, const ref_value *x, eb_err *err)
{
    int64_t axis, sizes[64];
    int n = -1;
    if (ref_norm_axis(ref_attr_i(nd, "axis", 0), x->ndim, &axis) != 0)
        FAIL("axis is out of range");
    if (nd->n_in > 1 && nd->in[1] >= 0) {
        if (ref_static_ints(s, nd, 1, "split", sizes, 64, &n, err) != 0)
            return -1;
    } else {
        const ref_attr *a = ref_attr_get(nd, "split");
        if (a && a->n > 0) {
            if (a->n > 64)
                FAIL("too many parts");
            n = a->n;
            memcpy(sizes, a->ints, (size_t)n * 8);
        }
    }
    if (n < 0) {
        n = nd->n_out;
        if (n < 1 || n > 64)
            FAIL("has %d outputs", n);
        int64_t dim = x->shape[axis], part = (dim + n - 1) / n; /* last part may be smaller */
        for (int i = 0; i < n; i++) {
            int64_t left = dim - part * i;
            sizes[i] = left < 0 ? 0 : left < part ? left : part;
        }
    }
    if (n != nd->n_out)
        FAIL("has %d outputs but %d split sizes", nd->n_out, n);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0)
            FAIL("split size %lld is negative", (long long)sizes[i]);
        total += sizes[i];
    }
    if (total != x->shape[axis])
        FAIL("split sizes add up to %lld, axis %lld has %lld", (long long)total,
             (long long)axis, (long long)x->shape[axis]);
    free(nd->aux);
    nd->aux = malloc((size_t)n * sizeof(int64_t));
    if (!nd->aux)
        FAIL("out of memory");
    memcpy(nd->aux, sizes, (size_t)n * sizeof(int64_t));
    nd->outer = ref_prod(x->shape, 0, (int)axis);
    nd->inner = ref_prod(x->shape, (int)axis + 1, x->ndim);
    nd->len = x->shape[axis];
    for (int i = 0; i < n; i++) {
        int64_t o[EB_MAX_DIMS];
        memcpy(o, x->shape, sizeof o);
        o[axis] = sizes[i];
        if (ref_set_out(s, nd, i, x->dtype, x->ndim, o, err) != 0)
            return -1;
    }
    return 0;
}

static int scalar_static(ref_session *s, ref_node *nd, int i, const char *what, double *out,
                         eb_err *err)
{
    if (i >= nd->n_in || nd->in[i] < 0)
        FAIL("%s is required", what);
    const ref_value *v = &s->vals[nd->in[i]];
    if (!ref_is_static(v))
        FAIL("%s '%s' must be known at open (an initializer or a Constant); ref's shapes are "
             "static",
             what, v->name);
    if (v->numel != 1)
        FAIL("%s '%s' must be a scalar", what, v->name);
    *out = v->dtype == EB_F32 ? *(const float *)v->data : (double)*(const int64_t *)v->data;
    return 0;
}

int ref_infer_shapeop(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128], b2[128];
    if (nd->n_in < 1 || nd->in[0] < 0)
        FAIL("input 0 is required");
    const ref_value *x = &s->vals[nd->in[0]];
    int64_t xs[EB_MAX_DIMS], o[2 * EB_MAX_DIMS] = {0}, st[2 * EB_MAX_DIMS];
    strides_of(x, xs);
    for (int i = 1; i < nd->n_out; i++)
        if (nd->out[i] >= 0 && nd->op != REF_OP_SPLIT)
            FAIL("output %d is not supported", i);
    switch (nd->op) {
    case REF_OP_TRANSPOSE: {
        const ref_attr *p = ref_attr_get(nd, "perm");
        int64_t perm[EB_MAX_DIMS];
        unsigned char seen[EB_MAX_DIMS] = {0};
        if (p && p->n != x->ndim)
            FAIL("perm has %d entries for a %d-D input", p->n, x->ndim);
        for (int i = 0; i < x->ndim; i++) {
            perm[i] = p ? p->ints[i] : x->ndim - 1 - i;
            if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]])
                FAIL("perm is not a permutation of the input's axes");
            seen[perm[i]] = 1;
            o[i] = x->shape[perm[i]];
            st[i] = xs[perm[i]];
        }
        view_plan(nd, x->ndim, o, st, 0);
        return ref_set_out(s, nd, 0, x->dtype, x->ndim, o, err);
    }
    case REF_OP_SLICE: return infer_slice(s, nd, x, err);
    case REF_OP_SPLIT: return infer_split(s, nd, x, err);
    case REF_OP_EXPAND: {
        int64_t shp[EB_MAX_DIMS];
        int n, r;
        if (ref_static_ints(s, nd, 1, "shape", shp, EB_MAX_DIMS, &n, err) != 0)
            return -1;
        if (ref_bcast_shape(x->ndim, x->shape, n, shp, &r, o) != 0 || r > EB_MAX_DIMS)
            FAIL("input %s does not broadcast to the requested shape",
                 ref_shape_str(x, b1, sizeof b1));
        ref_bcast_strides(x, r, st);
        if (ref_set_out(s, nd, 0, x->dtype, r, o, err) != 0)
            return -1;
        view_plan(nd, r, o, st, 0);
        return 0;
    }
    case REF_OP_TILE: {
        int64_t rep[EB_MAX_DIMS];
        int n;
        if (ref_static_ints(s, nd, 1, "repeats", rep, EB_MAX_DIMS, &n, err) != 0)
            return -1;
        if (n != x->ndim)
            FAIL("repeats has %d entries for a %d-D input", n, x->ndim);
        if (2 * x->ndim > 2 * EB_MAX_DIMS)
            FAIL("input has too many dimensions");
        int64_t out[EB_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) {
            if (rep[d] < 0)
                FAIL("repeats must not be negative");
            out[d] = x->shape[d] * rep[d];
            o[2 * d] = rep[d], st[2 * d] = 0;          /* the copy */
            o[2 * d + 1] = x->shape[d], st[2 * d + 1] = xs[d];
        }
        if (ref_set_out(s, nd, 0, x->dtype, x->ndim, out, err) != 0)
            return -1;
        view_plan(nd, 2 * x->ndim, o, st, 0);
        return 0;
    }
    case REF_OP_DEPTHTOSPACE:
    case REF_OP_SPACETODEPTH: {
        int64_t b = ref_attr_i(nd, "blocksize", 0);
        if (x->ndim != 4 || b < 1)
            FAIL("needs a 4-D input and a positive blocksize");
        int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
        int64_t out[4];
        if (nd->op == REF_OP_DEPTHTOSPACE) {
            if (C % (b * b))
                FAIL("channels %lld are not a multiple of blocksize^2", (long long)C);
            int64_t c = C / (b * b), hw = H * W;
            int crd = strcmp(ref_attr_s(nd, "mode", "DCR"), "CRD") == 0;
            int64_t v[6] = {N, c, H, b, W, b};
            int64_t sv[6] = {C * hw, crd ? b * b * hw : hw, W, crd ? b * hw : b * c * hw, 1,
                             crd ? hw : c * hw};
            memcpy(o, v, sizeof v), memcpy(st, sv, sizeof sv);
            out[0] = N, out[1] = c, out[2] = H * b, out[3] = W * b;
        } else {
            if (H % b || W % b)
                FAIL("height and width must be multiples of blocksize");
            int64_t v[6] = {N, b, b, C, H / b, W / b};
            int64_t sv[6] = {C * H * W, W, 1, H * W, b * W, b};
            memcpy(o, v, sizeof v), memcpy(st, sv, sizeof sv);
            out[0] = N, out[1] = C * b * b, out[2] = H / b, out[3] = W / b;
        }
        if (ref_set_out(s, nd, 0, x->dtype, 4, out, err) != 0)
            return -1;
        view_plan(nd, 6, o, st, 0);
        return 0;
    }
    case REF_OP_CONSTANTOFSHAPE: {
        int64_t shp[EB_MAX_DIMS];
        int n;
        if (ref_static_ints(s, nd, 0, "shape", shp, EB_MAX_DIMS, &n, err) != 0)
            return -1;
        const ref_attr *v = ref_attr_get(nd, "value");
        eb_dtype dt = v && v->t_data ? v->t_dtype : EB_F32;
        if (v && v->t_data && v->t_numel != 1)
            FAIL("value must hold one element");
        for (int i = 0; i < n; i++)
            if (shp[i] < 0)
                FAIL("shape entry %d is negative", i);
        return ref_set_out(s, nd, 0, dt, n, shp, err);
    }
    case REF_OP_RANGE: {
        double st0, lim, dl;
        if (scalar_static(s, nd, 0, "start", &st0, err) != 0 ||
            scalar_static(s, nd, 1, "limit", &lim, err) != 0 ||
            scalar_static(s, nd, 2, "delta", &dl, err) != 0)
            return -1;
        if (dl == 0)
            FAIL("delta is 0");
        double cnt = ceil((lim - st0) / dl);
        int64_t len = cnt > 0 ? (int64_t)cnt : 0;
        if (cnt > 1e9)
            FAIL("would produce %g elements", cnt);
        return ref_set_out(s, nd, 0, x->dtype, 1, &len, err);
    }
    case REF_OP_SIZE: return ref_set_out(s, nd, 0, EB_I64, 0, o, err);
    case REF_OP_CASTLIKE: {
        if (nd->n_in != 2 || nd->in[1] < 0)
            FAIL("needs 2 inputs");
        return ref_set_out(s, nd, 0, s->vals[nd->in[1]].dtype, x->ndim, x->shape, err);
    }
    case REF_OP_GATHERELEMENTS: {
        if (nd->n_in != 2 || nd->in[1] < 0)
            FAIL("needs 2 inputs");
        const ref_value *iv = &s->vals[nd->in[1]];
        int64_t axis;
        if (iv->dtype != EB_I64 || iv->ndim != x->ndim)
            FAIL("indices %s must be integers of the input's rank %s",
                 ref_shape_str(iv, b1, sizeof b1), ref_shape_str(x, b2, sizeof b2));
        if (ref_norm_axis(ref_attr_i(nd, "axis", 0), x->ndim, &axis) != 0)
            FAIL("axis is out of range");
        nd->mode = (int)axis;
        return ref_set_out(s, nd, 0, x->dtype, iv->ndim, iv->shape, err);
    }
    case REF_OP_TRILU:
        if (x->ndim < 2)
            FAIL("input %s must be at least 2-D", ref_shape_str(x, b1, sizeof b1));
        if (nd->n_in > 1 && nd->in[1] >= 0 && s->vals[nd->in[1]].numel != 1)
            FAIL("k must be a scalar");
        nd->mode = (int)ref_attr_i(nd, "upper", 1);
        return ref_set_out(s, nd, 0, x->dtype, x->ndim, x->shape, err);
    case REF_OP_EYELIKE: {
        if (x->ndim != 2)
            FAIL("input %s must be 2-D", ref_shape_str(x, b1, sizeof b1));
        int64_t dt = ref_attr_i(nd, "dtype", 0);
        eb_dtype t = dt == 0 ? x->dtype : dt == 1 || dt == 11 ? EB_F32 : EB_I64;
        if (dt == 10 || dt == 8 || dt > 13)
            FAIL("dtype %lld is not supported", (long long)dt);
        nd->q[0] = ref_attr_i(nd, "k", 0);
        return ref_set_out(s, nd, 0, t, 2, x->shape, err);
    }
    case REF_OP_ONEHOT: {
        double depth;
        int64_t axis;
        if (nd->n_in != 3 || scalar_static(s, nd, 1, "depth", &depth, err) != 0)
            return nd->n_in != 3 ? ref_node_fail(nd, err, "needs 3 inputs") : -1;
        const ref_value *vals = &s->vals[nd->in[2]];
        if (vals->numel != 2)
            FAIL("values must hold [off, on]");
        if (x->ndim + 1 > EB_MAX_DIMS ||
            ref_norm_axis(ref_attr_i(nd, "axis", -1), x->ndim + 1, &axis) != 0)
            FAIL("axis is out of range");
        if (depth < 1 || depth > 1e8)
            FAIL("depth %g is out of range", depth);
        int n = 0;
        for (int i = 0; i <= x->ndim; i++)
            o[n++] = i == axis ? (int64_t)depth : x->shape[i < axis ? i : i - 1];
        nd->outer = ref_prod(x->shape, 0, (int)axis);
        nd->len = (int64_t)depth;
        nd->inner = ref_prod(x->shape, (int)axis, x->ndim);
        return ref_set_out(s, nd, 0, vals->dtype, n, o, err);
    }
    default: FAIL("operator not supported by ref");
    }
}

static double rdv(const ref_value *v, size_t i)
{
    return v->dtype == EB_F32 ? ((const float *)v->data)[i] : (double)((const int64_t *)v->data)[i];
}

static void wrv(const ref_value *v, size_t i, double d)
{
    if (v->dtype == EB_F32)
        ((float *)v->data)[i] = (float)d;
    else
        ((int64_t *)v->data)[i] = (int64_t)d;
}

void ref_exec_shapeop(ref_session *s, const ref_node *nd)
{
    const ref_value *x = &s->vals[nd->in[0]];
    const ref_value *y = &s->vals[nd->out[0]];
    size_t es = eb_dtype_size(x->dtype);
    switch (nd->op) {
    case REF_OP_TRANSPOSE:
    case REF_OP_SLICE:
    case REF_OP_EXPAND:
    case REF_OP_TILE:
    case REF_OP_DEPTHTOSPACE:
    case REF_OP_SPACETODEPTH: view_exec(nd, x, y); return;
    case REF_OP_SPLIT: {
        const int64_t *sizes = nd->aux;
        int64_t at = 0;
        for (int i = 0; i < nd->n_out; i++) {
            if (nd->out[i] >= 0) {
                unsigned char *dst = s->vals[nd->out[i]].data;
                size_t chunk = (size_t)(sizes[i] * nd->inner) * es;
                if (nd->outer == 1 &&
                    dst == (const unsigned char *)x->data + (size_t)(at * nd->inner) * es)
                    chunk = 0; /* planned on the input's bytes (plan.c): nothing to move */
                for (int64_t o = 0; chunk && o < nd->outer; o++)
                    memcpy(dst + (size_t)o * chunk,
                           (const unsigned char *)x->data +
                               ((size_t)(o * nd->len + at) * (size_t)nd->inner) * es,
                           chunk);
            }
            at += sizes[i];
        }
        return;
    }
    case REF_OP_CONSTANTOFSHAPE: {
        const ref_attr *v = ref_attr_get(nd, "value");
        for (size_t i = 0; i < y->numel; i++) {
            if (y->dtype == EB_F32)
                ((float *)y->data)[i] = v && v->t_data ? *(const float *)v->t_data : 0.0f;
            else
                ((int64_t *)y->data)[i] = v && v->t_data ? *(const int64_t *)v->t_data : 0;
        }
        return;
    }
    case REF_OP_RANGE: {
        const ref_value *dv = &s->vals[nd->in[2]];
        if (x->dtype == EB_F32) {
            float a = *(const float *)x->data, d = *(const float *)dv->data;
            for (size_t i = 0; i < y->numel; i++)
                ((float *)y->data)[i] = a + (float)i * d;
        } else {
            int64_t a = *(const int64_t *)x->data, d = *(const int64_t *)dv->data;
            for (size_t i = 0; i < y->numel; i++)
                ((int64_t *)y->data)[i] = a + (int64_t)i * d;
        }
        return;
    }
    case REF_OP_SIZE: *(int64_t *)y->data = (int64_t)x->numel; return;
    case REF_OP_CASTLIKE: ref_exec_cast(x, y, 0); return;
    case REF_OP_GATHERELEMENTS: {
        const ref_value *iv = &s->vals[nd->in[1]];
        const int64_t *ix = iv->data;
        int64_t xs[EB_MAX_DIMS], idx[EB_MAX_DIMS] = {0};
        strides_of(x, xs);
        int ax = nd->mode, r = iv->ndim;
        for (size_t e = 0; e < y->numel; e++) {
            int64_t k = ix[e] < 0 ? ix[e] + x->shape[ax] : ix[e], off = 0;
            int ok = k >= 0 && k < x->shape[ax];
            for (int d = 0; d < r; d++)
                off += (d == ax ? k : idx[d]) * xs[d];
            if (ok)
                memcpy((unsigned char *)y->data + e * es,
                       (const unsigned char *)x->data + (size_t)off * es, es);
            else
                memset((unsigned char *)y->data + e * es, 0, es);
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < iv->shape[d])
                    break;
                idx[d] = 0;
            }
        }
        return;
    }
    case REF_OP_TRILU: {
        int64_t k = 0;
        if (nd->n_in > 1 && nd->in[1] >= 0)
            k = (int64_t)rdv(&s->vals[nd->in[1]], 0);
        int64_t R = x->shape[x->ndim - 2], C = x->shape[x->ndim - 1];
        size_t mats = R > 0 && C > 0 ? x->numel / (size_t)(R * C) : 0;
        for (size_t m = 0; m < mats; m++)
            for (int64_t i = 0; i < R; i++)
                for (int64_t j = 0; j < C; j++) {
                    size_t e = m * (size_t)(R * C) + (size_t)(i * C + j);
                    int keep = nd->mode ? j - i >= k : j - i <= k;
                    if (keep)
                        memcpy((unsigned char *)y->data + e * es,
                               (const unsigned char *)x->data + e * es, es);
                    else
                        memset((unsigned char *)y->data + e * es, 0, es);
                }
        return;
    }
    case REF_OP_EYELIKE: {
        int64_t R = y->shape[0], C = y->shape[1];
        for (int64_t i = 0; i < R; i++)
            for (int64_t j = 0; j < C; j++)
                wrv(y, (size_t)(i * C + j), j - i == nd->q[0]);
        return;
    }
    case REF_OP_ONEHOT: {
        const ref_value *vals = &s->vals[nd->in[2]];
        double off = rdv(vals, 0), on = rdv(vals, 1);
        for (int64_t o = 0; o < nd->outer; o++)
            for (int64_t d = 0; d < nd->len; d++)
                for (int64_t i = 0; i < nd->inner; i++) {
                    int64_t k = (int64_t)rdv(x, (size_t)(o * nd->inner + i));
                    if (k < 0)
                        k += nd->len;
                    wrv(y, (size_t)((o * nd->len + d) * nd->inner + i), k == d ? on : off);
                }
        return;
    }
    default: return;
    }
}
