/* ref's fast paths for data movement, pooling and elementwise math, each against naive loops:
 * the simplified strided views (every permutation of 3-, 4- and 5-D Transposes with odd
 * sizes and size-1 axes, Slices that become one block or runs), MaxPool k x k stride 2
 * (ops_pool.c; pads, ceil_mode, odd sizes), exp/erf/Softmax (ops_vmath.c) against double
 * precision, and the memory plan's aliases (plan.c: Reshape, Slice and Concat placed on
 * shared bytes) on a graph built in memory, run and checked value by value. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref/ref_internal.h"

/* ---------------------------------------------------------------- a one-node session */

typedef struct fp_fixture {
    ref_session s;
    ref_value vals[8];
    ref_node node;
    ref_attr attr;
    int in[6], out[2];
} fp_fixture;

static void fp_value(fp_fixture *f, int i, eb_dtype dt, int ndim, const int64_t *shape,
                     ref_kind kind, void *data)
{
    ref_value *v = &f->vals[i];
    memset(v, 0, sizeof *v);
    v->name = "v";
    v->dtype = dt;
    assert_int_equal(ref_value_set_shape(v, ndim, shape), 0);
    v->shaped = 1;
    v->kind = kind;
    v->producer = -1;
    v->data = data;
}

static void fp_node(fp_fixture *f, ref_op op, int n_in, int n_vals)
{
    memset(&f->node, 0, sizeof f->node);
    f->node.name = "n";
    f->node.op_type = (char *)ref_op_name(op);
    f->node.op = op;
    f->node.n_in = n_in, f->node.n_out = 1;
    for (int i = 0; i < n_in; i++)
        f->in[i] = i;
    f->out[0] = n_vals - 1;
    f->node.in = f->in, f->node.out = f->out;
    f->s.vals = f->vals;
    f->s.n_vals = n_vals;
    f->s.opset = 13;
}

static void fp_infer(fp_fixture *f)
{
    eb_err err = {0};
    if (ref_infer_shapeop(&f->s, &f->node, &err) != 0)
        fail_msg("%s", err.msg);
}

/* ---------------------------------------------------------------- Transpose */

static int64_t prod(const int64_t *d, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= d[i];
    return p;
}

/* Every permutation of perm[k..r) after perm[0..k) fixed; calls check on each. */
static void permute(int64_t *perm, int k, int r, void (*check)(const int64_t *, int, void *),
                    void *ctx)
{
    if (k == r) {
        check(perm, r, ctx);
        return;
    }
    for (int i = k; i < r; i++) {
        int64_t t = perm[k];
        perm[k] = perm[i], perm[i] = t;
        permute(perm, k + 1, r, check, ctx);
        t = perm[k];
        perm[k] = perm[i], perm[i] = t;
    }
}

typedef struct tr_case {
    const int64_t *shape;
    eb_dtype dt;
} tr_case;

static void check_transpose(const int64_t *perm, int r, void *ctx)
{
    const tr_case *c = ctx;
    int64_t n = prod(c->shape, r), os[EB_MAX_DIMS], xs[EB_MAX_DIMS];
    size_t es = eb_dtype_size(c->dt);
    unsigned char *x = malloc((size_t)n * es), *y = malloc((size_t)n * es + 8);
    for (int64_t i = 0; i < n; i++) {
        if (c->dt == EB_F32)
            ((float *)x)[i] = (float)i * 0.5f - 7.0f;
        else
            ((int64_t *)x)[i] = i * 3 - 11;
    }
    fp_fixture f;
    fp_value(&f, 0, c->dt, r, c->shape, REF_VAL_INPUT, x);
    fp_value(&f, 1, c->dt, 1, (int64_t[]){1}, REF_VAL_ACT, NULL);
    fp_node(&f, REF_OP_TRANSPOSE, 1, 2);
    f.attr = (ref_attr){.name = "perm", .type = 7, .ints = (int64_t *)perm, .n = r};
    f.node.attrs = &f.attr, f.node.n_attrs = 1;
    fp_infer(&f);
    memset(y, 0xab, (size_t)n * es + 8);
    f.vals[1].data = y;
    ref_exec_shapeop(&f.s, &f.node);
    xs[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--)
        xs[d] = xs[d + 1] * c->shape[d + 1];
    for (int d = 0; d < r; d++)
        os[d] = c->shape[perm[d]];
    int64_t idx[EB_MAX_DIMS] = {0};
    for (int64_t o = 0; o < n; o++) {
        int64_t src = 0;
        for (int d = 0; d < r; d++)
            src += idx[d] * xs[perm[d]];
        if (memcmp(y + o * (int64_t)es, x + src * (int64_t)es, es) != 0)
            fail_msg("Transpose rank %d perm %lld%lld%lld...: element %lld wrong", r,
                     (long long)perm[0], (long long)perm[1], (long long)perm[2], (long long)o);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < os[d])
                break;
            idx[d] = 0;
        }
    }
    static const unsigned char guard[8] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
    assert_memory_equal(y + n * (int64_t)es, guard, 8); /* nothing written past the end */
    free(x), free(y);
}

static void test_transpose_every_perm(void **state)
{
    (void)state;
    static const int64_t s3[] = {3, 5, 7}, s4[] = {2, 3, 5, 7}, s4b[] = {1, 9, 1, 13},
                         s5[] = {1, 2, 3, 4, 5}, s5b[] = {2, 1, 3, 1, 17}, s2[] = {19, 23};
    const struct { const int64_t *s; int r; } shapes[] = {
        {s2, 2}, {s3, 3}, {s4, 4}, {s4b, 4}, {s5, 5}, {s5b, 5},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int64_t perm[EB_MAX_DIMS];
        for (int d = 0; d < shapes[k].r; d++)
            perm[d] = d;
        tr_case c = {shapes[k].s, EB_F32};
        permute(perm, 0, shapes[k].r, check_transpose, &c);
        c.dt = EB_I64;
        permute(perm, 0, shapes[k].r, check_transpose, &c);
    }
}

/* ---------------------------------------------------------------- Slice */

static void check_slice(const int64_t *shape, int r, const int64_t *starts, const int64_t *ends,
                        const int64_t *axes, const int64_t *steps, int ns)
{
    int64_t n = prod(shape, r), xs[EB_MAX_DIMS];
    float *x = malloc((size_t)n * sizeof *x), *y = malloc(((size_t)n + 2) * sizeof *y);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i;
    fp_fixture f;
    int64_t nsv[1] = {ns};
    fp_value(&f, 0, EB_F32, r, shape, REF_VAL_INPUT, x);
    fp_value(&f, 1, EB_I64, 1, nsv, REF_VAL_STATIC, (void *)starts);
    fp_value(&f, 2, EB_I64, 1, nsv, REF_VAL_STATIC, (void *)ends);
    fp_value(&f, 3, EB_I64, 1, nsv, REF_VAL_STATIC, (void *)axes);
    fp_value(&f, 4, EB_I64, 1, nsv, REF_VAL_STATIC, (void *)steps);
    fp_value(&f, 5, EB_F32, 1, (int64_t[]){1}, REF_VAL_ACT, NULL);
    fp_node(&f, REF_OP_SLICE, 5, 6);
    fp_infer(&f);
    f.vals[5].data = y;
    y[f.vals[5].numel] = -1.0f;
    ref_exec_shapeop(&f.s, &f.node);
    assert_true(y[f.vals[5].numel] == -1.0f);
    /* naive: per axis, begin and step (positive steps only here) */
    int64_t b[EB_MAX_DIMS] = {0}, st[EB_MAX_DIMS], os[EB_MAX_DIMS], idx[EB_MAX_DIMS] = {0};
    xs[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--)
        xs[d] = xs[d + 1] * shape[d + 1];
    for (int d = 0; d < r; d++)
        st[d] = 1, os[d] = f.vals[5].shape[d];
    for (int i = 0; i < ns; i++)
        b[axes[i]] = starts[i], st[axes[i]] = steps[i];
    for (size_t o = 0; o < f.vals[5].numel; o++) {
        int64_t src = 0;
        for (int d = 0; d < r; d++)
            src += (b[d] + idx[d] * st[d]) * xs[d];
        if (y[o] != x[src])
            fail_msg("Slice: element %zu is %g, want %g", o, y[o], x[src]);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < os[d])
                break;
            idx[d] = 0;
        }
    }
    free(x), free(y);
}

static void test_slice_views(void **state)
{
    (void)state;
    const int64_t s4[] = {1, 6, 5, 3}, s3[] = {3, 7, 9};
    /* ShuffleNet's channel halves: one contiguous block */
    check_slice(s4, 4, (int64_t[]){0}, (int64_t[]){3}, (int64_t[]){1}, (int64_t[]){1}, 1);
    check_slice(s4, 4, (int64_t[]){3}, (int64_t[]){6}, (int64_t[]){1}, (int64_t[]){1}, 1);
    /* runs: a middle axis cut, inner axes whole */
    check_slice(s3, 3, (int64_t[]){2}, (int64_t[]){5}, (int64_t[]){1}, (int64_t[]){1}, 1);
    /* the attention's q/k/v split along the last axis */
    check_slice(s3, 3, (int64_t[]){3}, (int64_t[]){6}, (int64_t[]){2}, (int64_t[]){1}, 1);
    /* steps: the element walk */
    check_slice(s3, 3, (int64_t[]){1, 0}, (int64_t[]){7, 9}, (int64_t[]){1, 2},
                (int64_t[]){2, 3}, 2);
    /* a single element */
    check_slice(s3, 3, (int64_t[]){2, 6, 8}, (int64_t[]){3, 7, 9}, (int64_t[]){0, 1, 2},
                (int64_t[]){1, 1, 1}, 3);
}

/* ---------------------------------------------------------------- MaxPool */

static void naive_maxpool(const eb_ref_conv2d *p, const float *x, float *y)
{
    for (int64_t nc = 0; nc < p->n * p->c; nc++)
        for (int64_t oh = 0; oh < p->oh; oh++)
            for (int64_t ow = 0; ow < p->ow; ow++) {
                float mx = -INFINITY;
                for (int64_t ki = 0; ki < p->kh; ki++)
                    for (int64_t kj = 0; kj < p->kw; kj++) {
                        int64_t ih = oh * p->sh - p->pt + ki * p->dh;
                        int64_t iw = ow * p->sw - p->pl + kj * p->dw;
                        if (ih >= 0 && ih < p->h && iw >= 0 && iw < p->w &&
                            x[(nc * p->h + ih) * p->w + iw] > mx)
                            mx = x[(nc * p->h + ih) * p->w + iw];
                    }
                y[(nc * p->oh + oh) * p->ow + ow] = mx;
            }
}

static void test_maxpool_k23s2(void **state)
{
    (void)state;
    unsigned seed = 12345;
    int cases = 0;
    for (int k = 2; k <= 3; k++)
        for (int pad = 0; pad < k; pad++)
            for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++)
                for (int64_t h = 1; h <= 19; h += 3)
                    for (int64_t w = 1; w <= 60; w += (w < 20 ? 1 : 7)) {
                        eb_ref_conv2d p = {.n = 1, .c = 3, .h = h, .w = w, .kh = k, .kw = k,
                                           .sh = 2, .sw = 2, .dh = 1, .dw = 1, .pt = pad,
                                           .pl = pad, .pb = pad, .pr = pad};
                        p.oh = eb_ref_conv_out(h, k, 2, 1, pad, pad, ceil_mode);
                        p.ow = eb_ref_conv_out(w, k, 2, 1, pad, pad, ceil_mode);
                        if (p.oh <= 0 || p.ow <= 0)
                            continue;
                        size_t nx = (size_t)(3 * h * w), ny = (size_t)(3 * p.oh * p.ow);
                        float *x = malloc(nx * sizeof *x), *y = malloc((ny + 1) * sizeof *y);
                        float *want = malloc(ny * sizeof *want);
                        for (size_t i = 0; i < nx; i++) {
                            seed = seed * 1103515245u + 12345u;
                            x[i] = (float)((seed >> 8) % 2001) / 100.0f - 10.0f;
                        }
                        y[ny] = 1234.5f;
                        eb_ref_maxpool2d(&p, x, y);
                        naive_maxpool(&p, x, want);
                        for (size_t i = 0; i < ny; i++)
                            if (y[i] != want[i])
                                fail_msg("MaxPool %dx%d/2 pad %d ceil %d on %lldx%lld: output "
                                         "%zu is %g, want %g",
                                         k, k, pad, ceil_mode, (long long)h, (long long)w, i,
                                         y[i], want[i]);
                        assert_true(y[ny] == 1234.5f);
                        free(x), free(y), free(want);
                        cases++;
                    }
    assert_true(cases > 300);
}

static void test_global_avgpool(void **state)
{
    (void)state;
    for (int64_t hw = 1; hw <= 41; hw += 4) {
        float x[3 * 41], y[3];
        for (int64_t i = 0; i < 3 * hw; i++)
            x[i] = (float)((i * 37) % 11) - 4.5f;
        eb_ref_global_avgpool(3, hw, x, y);
        for (int c = 0; c < 3; c++) {
            double want = 0;
            for (int64_t j = 0; j < hw; j++)
                want += x[c * hw + j];
            want /= (double)hw;
            if (fabs(y[c] - want) > 1e-6 * (fabs(want) + 1))
                fail_msg("GlobalAveragePool hw %lld: %g, want %g", (long long)hw, y[c], want);
        }
    }
}

/* ---------------------------------------------------------------- exp, erf, Softmax */

static float ulp_of(double v)
{
    float f = (float)fabs(v);
    return nextafterf(f, INFINITY) - f;
}

static void test_vexp_accuracy(void **state)
{
    (void)state;
    enum { N = 20011 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++)
        x[i] = -110.0f + 200.0f * (float)i / (N - 1); /* past both ends of the float range */
    eb_ref_vexp_sum(N, x, 0.0f, y);
    for (int i = 0; i < N; i++) {
        double want = exp((double)x[i]);
        if (want > 3.4028234e38) {
            assert_true(isinf(y[i]) && y[i] > 0);
        } else if (want < 1.17549435e-38) { /* denormal or zero: absolute */
            assert_true(fabs(y[i] - want) <= 2e-45 * 4 + want * 1e-6);
        } else if (fabs(y[i] - want) > 2.0 * ulp_of(want)) {
            fail_msg("exp(%.9g) = %.9g, want %.9g", x[i], y[i], want);
        }
    }
    /* the sum and the subtraction; odd lengths use the tail */
    for (size_t n = 1; n <= 19; n++) {
        double want = 0;
        for (size_t i = 0; i < n; i++)
            want += exp((double)x[N / 2 + i] - 1.5);
        float got = eb_ref_vexp_sum(n, x + N / 2, 1.5f, y);
        assert_true(fabs(got - want) <= 1e-6 * want);
    }
    float sp[4] = {INFINITY, -INFINITY, NAN, 0.0f};
    eb_ref_vexp_sum(4, sp, 0.0f, y);
    assert_true(isinf(y[0]) && y[1] == 0.0f && isnan(y[2]) && y[3] == 1.0f);
    free(x), free(y);
}

static void test_verf_accuracy(void **state)
{
    (void)state;
    enum { N = 40003 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++)
        x[i] = -6.0f + 12.0f * (float)i / (N - 1);
    x[0] = 1e-30f, x[1] = -3e-8f, x[2] = 0.0f, x[3] = 0.921875f, x[4] = 3.925f;
    eb_ref_verf(N, x, y);
    for (int i = 0; i < N; i++) {
        double want = erf((double)x[i]);
        if (fabs(y[i] - want) > 3e-7 * fabs(want) + 1e-45)
            fail_msg("erf(%.9g) = %.9g, want %.9g", x[i], y[i], want);
    }
    float sp[3] = {INFINITY, -INFINITY, NAN};
    eb_ref_verf(3, sp, y);
    assert_true(y[0] == 1.0f && y[1] == -1.0f && isnan(y[2]));
    free(x), free(y);
}

static void test_softmax_last_axis(void **state)
{
    (void)state;
    for (int64_t len = 1; len <= 37; len += 3) {
        int64_t outer = 5;
        float *x = malloc((size_t)(outer * len) * sizeof *x);
        float *y = malloc((size_t)(outer * len) * sizeof *y);
        for (int64_t i = 0; i < outer * len; i++)
            x[i] = (float)((i * 7919) % 23) * 0.7f - 8.0f;
        eb_ref_softmax(outer, len, 1, x, y);
        for (int64_t o = 0; o < outer; o++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < len; j++)
                mx = fmax(mx, x[o * len + j]);
            for (int64_t j = 0; j < len; j++)
                sum += exp(x[o * len + j] - mx);
            for (int64_t j = 0; j < len; j++) {
                double want = exp(x[o * len + j] - mx) / sum;
                if (fabs(y[o * len + j] - want) > 1e-6 * want + 1e-12)
                    fail_msg("softmax len %lld: %g, want %g", (long long)len, y[o * len + j],
                             want);
            }
        }
        free(x), free(y);
    }
}

/* ---------------------------------------------------------------- plan aliases
 *
 *   x [1,4,3,3] (graph input)
 *   a = Relu(x), b = Neg(x)                  -> both placed inside c
 *   c = Concat(a, b) axis 1   [1,8,3,3]
 *   d = Reshape(c)            [1,2,4,9]      -> c's bytes
 *   e = Slice(d, axis 1, 1:2) [1,1,4,9]      -> the second half of c's bytes (= b)
 *   f = Relu(e)               (graph output; e is read by f only)
 *   g = Abs(d)                (graph output, keeps d and so c alive to the end)
 */
enum { AL_X, AL_A, AL_B, AL_C, AL_D, AL_E, AL_F, AL_G, AL_SHAPE, AL_ST, AL_EN, AL_AX, AL_NV };

static void test_plan_aliases(void **state)
{
    (void)state;
    ref_session s = {0};
    ref_value v[AL_NV];
    ref_node nodes[7];
    memset(v, 0, sizeof v), memset(nodes, 0, sizeof nodes);
    static const int64_t sx[] = {1, 4, 3, 3}, sc[] = {1, 8, 3, 3}, sd[] = {1, 2, 4, 9},
                         se[] = {1, 1, 4, 9}, one[] = {1}, four[] = {4};
    int64_t shape_v[4] = {1, 2, 4, 9}, st_v[1] = {1}, en_v[1] = {2}, ax_v[1] = {1};
    struct { int ndim; const int64_t *shape; ref_kind kind; eb_dtype dt; void *data; } def[] = {
        [AL_X] = {4, sx, REF_VAL_INPUT, EB_F32, NULL},
        [AL_A] = {4, sx, REF_VAL_ACT, EB_F32, NULL},
        [AL_B] = {4, sx, REF_VAL_ACT, EB_F32, NULL},
        [AL_C] = {4, sc, REF_VAL_ACT, EB_F32, NULL},
        [AL_D] = {4, sd, REF_VAL_ACT, EB_F32, NULL},
        [AL_E] = {4, se, REF_VAL_ACT, EB_F32, NULL},
        [AL_F] = {4, se, REF_VAL_ACT, EB_F32, NULL},
        [AL_G] = {4, sd, REF_VAL_ACT, EB_F32, NULL},
        [AL_SHAPE] = {1, four, REF_VAL_STATIC, EB_I64, shape_v},
        [AL_ST] = {1, one, REF_VAL_STATIC, EB_I64, st_v},
        [AL_EN] = {1, one, REF_VAL_STATIC, EB_I64, en_v},
        [AL_AX] = {1, one, REF_VAL_STATIC, EB_I64, ax_v},
    };
    for (int i = 0; i < AL_NV; i++) {
        v[i].name = "v";
        v[i].dtype = def[i].dt;
        assert_int_equal(ref_value_set_shape(&v[i], def[i].ndim, def[i].shape), 0);
        v[i].shaped = 1, v[i].kind = def[i].kind, v[i].producer = -1, v[i].data = def[i].data;
    }
    v[AL_F].is_output = v[AL_G].is_output = 1;
    int ins[7][5] = {{AL_X}, {AL_X}, {AL_A, AL_B}, {AL_C, AL_SHAPE}, {AL_D, AL_ST, AL_EN, AL_AX},
                     {AL_E}, {AL_D}};
    int n_in[7] = {1, 1, 2, 2, 4, 1, 1};
    int outs[7] = {AL_A, AL_B, AL_C, AL_D, AL_E, AL_F, AL_G};
    ref_op ops[7] = {REF_OP_RELU, REF_OP_NEG, REF_OP_CONCAT, REF_OP_RESHAPE, REF_OP_SLICE,
                     REF_OP_RELU, REF_OP_ABS};
    for (int i = 0; i < 7; i++) {
        nodes[i].name = "n";
        nodes[i].op = ops[i];
        nodes[i].op_type = (char *)ref_op_name(ops[i]);
        nodes[i].n_in = n_in[i], nodes[i].n_out = 1;
        nodes[i].in = ins[i], nodes[i].out = &outs[i];
        v[outs[i]].producer = i;
    }
    nodes[2].outer = 1, nodes[2].inner = 9; /* Concat along axis 1 at batch 1 */
    s.vals = v, s.n_vals = AL_NV, s.nodes = nodes, s.n_nodes = 7, s.opset = 13;
    eb_err err = {0};
    if (ref_infer_shapeop(&s, &nodes[4], &err) != 0) /* the Slice's view */
        fail_msg("%s", err.msg);
    if (ref_plan(&s, &err) != 0)
        fail_msg("%s", err.msg);
    /* a, b, d, e live in c's bytes */
    assert_int_equal(v[AL_A].kind, REF_VAL_ALIAS);
    assert_int_equal(v[AL_B].kind, REF_VAL_ALIAS);
    assert_int_equal(v[AL_D].kind, REF_VAL_ALIAS);
    assert_int_equal(v[AL_E].kind, REF_VAL_ALIAS);
    assert_int_equal(v[AL_C].kind, REF_VAL_ACT);
    unsigned char *c = v[AL_C].data;
    assert_ptr_equal(v[AL_A].data, c);
    assert_ptr_equal(v[AL_B].data, c + 36 * 4);
    assert_ptr_equal(v[AL_D].data, c);
    assert_ptr_equal(v[AL_E].data, c + 36 * 4);
    /* c lives from a's producer to the end (g is an output read through d) */
    assert_int_equal(v[AL_C].first, 0);
    assert_true(v[AL_C].last >= 6);
    /* places of values that own one never overlap while live together */
    for (int i = 0; i < AL_NV; i++)
        for (int j = i + 1; j < AL_NV; j++) {
            const ref_value *p = &v[i], *q = &v[j];
            if (p->kind != REF_VAL_ACT || q->kind != REF_VAL_ACT || p->last < q->first ||
                q->last < p->first)
                continue;
            size_t sp = p->numel * 4, sq = q->numel * 4;
            if (p->offset < q->offset + sq && q->offset < p->offset + sp)
                fail_msg("values %d and %d overlap", i, j);
        }
    /* run it: the numbers are what copies would give */
    float x[36];
    for (int i = 0; i < 36; i++)
        x[i] = (float)(i % 7) - 3.0f;
    v[AL_X].data = x;
    for (int i = 0; i < 7; i++)
        ref_exec_node(&s, &nodes[i]);
    const float *f = v[AL_F].data, *g = v[AL_G].data;
    for (int i = 0; i < 36; i++) {
        assert_true(f[i] == (-x[i] > 0 ? -x[i] : 0.0f)); /* Relu(Neg(x)) */
        assert_true(g[i] == fabsf(x[i] > 0 ? x[i] : 0.0f));
        assert_true(g[36 + i] == fabsf(x[i]));
    }
    free(s.arena), free(s.scratch);
}

/* ---------------------------------------------------------------- LayerNorm fusion
 *
 * PyTorch's decomposed LayerNorm over the last axis of x [2,3,13], eps 1e-3 (not the default,
 * so its plumbing shows), built in memory, inferred, fused (ops_lnfuse.c), planned and run;
 * against a double-precision LayerNorm.  With `keep_mean_output` the mean is also a graph
 * output: the chain must then stay as it is (and still compute the same). */
enum { LN_X, LN_M, LN_D, LN_TWO, LN_P, LN_V, LN_EPS, LN_E, LN_S, LN_N, LN_G, LN_O, LN_B, LN_Y,
       LN_NV };

static void run_ln_chain(int keep_mean_output)
{
    ref_session s = {0};
    ref_value v[LN_NV];
    ref_node nodes[9];
    memset(v, 0, sizeof v), memset(nodes, 0, sizeof nodes);
    static const int64_t sx[] = {2, 3, 13}, sm[] = {2, 3, 1}, sc[] = {13};
    float two = 2.0f, eps = 1e-3f, gamma[13], beta[13], x[78];
    for (int i = 0; i < 13; i++)
        gamma[i] = 0.5f + 0.1f * (float)i, beta[i] = (float)i * 0.25f - 1.0f;
    for (int i = 0; i < 78; i++)
        x[i] = (float)((i * 29) % 17) * 0.3f - 2.0f + (float)(i / 13);
    struct { int ndim; const int64_t *shape; ref_kind kind; void *data; } def[LN_NV] = {
        [LN_X] = {3, sx, REF_VAL_INPUT, NULL},     [LN_M] = {3, sm, REF_VAL_ACT, NULL},
        [LN_D] = {3, sx, REF_VAL_ACT, NULL},       [LN_TWO] = {0, NULL, REF_VAL_STATIC, &two},
        [LN_P] = {3, sx, REF_VAL_ACT, NULL},       [LN_V] = {3, sm, REF_VAL_ACT, NULL},
        [LN_EPS] = {0, NULL, REF_VAL_STATIC, &eps}, [LN_E] = {3, sm, REF_VAL_ACT, NULL},
        [LN_S] = {3, sm, REF_VAL_ACT, NULL},       [LN_N] = {3, sx, REF_VAL_ACT, NULL},
        [LN_G] = {1, sc, REF_VAL_WEIGHT, gamma},   [LN_O] = {3, sx, REF_VAL_ACT, NULL},
        [LN_B] = {1, sc, REF_VAL_WEIGHT, beta},    [LN_Y] = {3, sx, REF_VAL_ACT, NULL},
    };
    for (int i = 0; i < LN_NV; i++) {
        v[i].name = "v";
        v[i].dtype = EB_F32;
        assert_int_equal(ref_value_set_shape(&v[i], def[i].ndim, def[i].shape), 0);
        v[i].kind = def[i].kind, v[i].producer = -1, v[i].data = def[i].data;
        v[i].shaped = def[i].kind != REF_VAL_ACT;
    }
    v[LN_Y].is_output = 1;
    v[LN_M].is_output = keep_mean_output;
    static const int ins[9][2] = {{LN_X}, {LN_X, LN_M}, {LN_D, LN_TWO}, {LN_P}, {LN_V, LN_EPS},
                                  {LN_E}, {LN_D, LN_S}, {LN_N, LN_G}, {LN_O, LN_B}};
    static const int n_in[9] = {1, 2, 2, 1, 2, 1, 2, 2, 2};
    static const int outs[9] = {LN_M, LN_D, LN_P, LN_V, LN_E, LN_S, LN_N, LN_O, LN_Y};
    static const ref_op ops[9] = {REF_OP_REDUCEMEAN, REF_OP_SUB, REF_OP_POW,
                                  REF_OP_REDUCEMEAN, REF_OP_ADD, REF_OP_SQRT,
                                  REF_OP_DIV, REF_OP_MUL, REF_OP_ADD};
    int64_t last_axis[1] = {-1};
    for (int i = 0; i < 9; i++) {
        ref_node *nd = &nodes[i];
        nd->name = "n";
        nd->op = ops[i];
        nd->op_type = strdup(ref_op_name(ops[i]));
        nd->n_in = n_in[i], nd->n_out = 1;
        nd->in = malloc(2 * sizeof(int)), nd->out = malloc(sizeof(int));
        memcpy(nd->in, ins[i], 2 * sizeof(int));
        nd->out[0] = outs[i];
        v[outs[i]].producer = i;
        if (ops[i] == REF_OP_REDUCEMEAN) {
            nd->attrs = calloc(1, sizeof *nd->attrs);
            nd->attrs[0] = (ref_attr){.name = strdup("axes"), .type = 7, .n = 1};
            nd->attrs[0].ints = malloc(sizeof(int64_t));
            nd->attrs[0].ints[0] = last_axis[0];
            nd->n_attrs = 1;
        }
    }
    s.vals = v, s.n_vals = LN_NV, s.nodes = nodes, s.n_nodes = 9, s.opset = 13;
    eb_err err = {0};
    if (ref_shape_infer(&s, &err) != 0 || ref_fuse_layernorm(&s, &err) != 0 ||
        ref_plan(&s, &err) != 0)
        fail_msg("%s", err.msg);
    int running = 0;
    for (int i = 0; i < 9; i++)
        running += !nodes[i].folded;
    if (keep_mean_output) {
        assert_int_equal(running, 9);
        assert_int_equal(nodes[8].op, REF_OP_ADD);
    } else {
        assert_int_equal(running, 1);
        assert_int_equal(nodes[8].op, REF_OP_LAYERNORM);
        assert_string_equal(nodes[8].op_type, "LayerNormalization");
    }
    v[LN_X].data = x;
    ref_run_nodes(&s);
    const float *y = v[LN_Y].data;
    for (int r = 0; r < 6; r++) {
        double m = 0, var = 0;
        for (int j = 0; j < 13; j++)
            m += x[r * 13 + j];
        m /= 13;
        for (int j = 0; j < 13; j++)
            var += (x[r * 13 + j] - m) * (x[r * 13 + j] - m);
        var /= 13;
        for (int j = 0; j < 13; j++) {
            double want = (x[r * 13 + j] - m) / sqrt(var + 1e-3) * gamma[j] + beta[j];
            if (fabs(y[r * 13 + j] - want) > 1e-5 * (fabs(want) + 1))
                fail_msg("LayerNorm (mean output %d) row %d col %d: %g, want %g",
                         keep_mean_output, r, j, y[r * 13 + j], want);
        }
    }
    for (int i = 0; i < 9; i++) {
        ref_node *nd = &nodes[i];
        for (int j = 0; j < nd->n_attrs; j++)
            free(nd->attrs[j].name), free(nd->attrs[j].ints);
        free(nd->attrs), free(nd->in), free(nd->out), free(nd->op_type), free(nd->aux);
    }
    free(s.arena), free(s.scratch);
}

static void test_layernorm_fusion(void **state)
{
    (void)state;
    run_ln_chain(0);
    run_ln_chain(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_every_perm), cmocka_unit_test(test_slice_views),
        cmocka_unit_test(test_maxpool_k23s2),        cmocka_unit_test(test_global_avgpool),
        cmocka_unit_test(test_vexp_accuracy),
        cmocka_unit_test(test_verf_accuracy),        cmocka_unit_test(test_softmax_last_axis),
        cmocka_unit_test(test_plan_aliases),          cmocka_unit_test(test_layernorm_fusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
