/* ref's Conv node path (ref_conv_prepare + ref_conv_exec: packed weights, im2col into
 * panels, pointwise, depthwise 3x3, folded BatchNormalization, fused Relu/Clip) against a
 * naive loop over the ONNX definition, for groups, strides, pads, dilations, odd sizes and
 * batches; threaded runs must equal single-threaded ones bit for bit. */
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
#include "ref/threadpool.h"

static float ref_conv_rand(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *ref_conv_fill(size_t n, uint32_t seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = ref_conv_rand(&seed);
    return p;
}

/* y = act(BN(conv(x, w) + b)) straight from the definitions, in double. */
static void ref_conv_naive(const eb_ref_conv2d *p, const float *x, const float *w,
                           const float *b, const float *sc, const float *sh, eb_ref_act act,
                           double *y)
{
    int64_t cg = p->c / p->group, mg = p->m / p->group;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t m = 0; m < p->m; m++)
            for (int64_t oh = 0; oh < p->oh; oh++)
                for (int64_t ow = 0; ow < p->ow; ow++) {
                    double s = b ? b[m] : 0;
                    int64_t g = m / mg;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t ki = 0; ki < p->kh; ki++)
                            for (int64_t kj = 0; kj < p->kw; kj++) {
                                int64_t ih = oh * p->sh - p->pt + ki * p->dh;
                                int64_t iw = ow * p->sw - p->pl + kj * p->dw;
                                if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w)
                                    continue;
                                s += (double)x[((n * p->c + g * cg + c) * p->h + ih) * p->w +
                                               iw] *
                                     w[((m * cg + c) * p->kh + ki) * p->kw + kj];
                            }
                    if (sc)
                        s = s * sc[m] + sh[m];
                    if (act == EB_REF_ACT_RELU)
                        s = s > 0 ? s : 0;
                    else if (act == EB_REF_ACT_CLIP)
                        s = s < 0 ? 0 : s > 0.5 ? 0.5 : s;
                    y[((n * p->m + m) * p->oh + oh) * p->ow + ow] = s;
                }
}

typedef struct ref_conv_shape {
    int64_t n, c, h, w, m, kh, kw, s, d, pad, group;
} ref_conv_shape;

/* Runs the node path on a hand-built session; returns y (caller frees) and its kind. */
static float *ref_conv_node(const eb_ref_conv2d *p, float *x, float *w, float *b,
                            const float *sc, const float *sh, eb_ref_act act, eb_ref_pool *pool,
                            eb_ref_isa isa, int *kind)
{
    ref_value vals[4] = {0};
    vals[0] = (ref_value){.dtype = EB_F32, .kind = REF_VAL_INPUT, .data = x};
    vals[1] = (ref_value){.dtype = EB_F32, .kind = REF_VAL_WEIGHT, .data = w,
                          .numel = (size_t)(p->m * p->c / p->group * p->kh * p->kw)};
    vals[2] = (ref_value){.dtype = EB_F32, .kind = REF_VAL_WEIGHT, .data = b,
                          .numel = (size_t)p->m};
    size_t ny = (size_t)(p->n * p->m * p->oh * p->ow);
    float *y = calloc(ny + 1, sizeof *y);
    vals[3] = (ref_value){.dtype = EB_F32, .kind = REF_VAL_ACT, .data = y, .numel = ny};
    int in[3] = {0, 1, b ? 2 : -1}, out[1] = {3};
    ref_node nd = {.op = REF_OP_CONV, .n_in = 3, .n_out = 1, .in = in, .out = out, .conv = *p};
    ref_session s = {.vals = vals, .n_vals = 4, .pool = pool, .isa = isa,
                     .kernel = eb_ref_ukernel_for(isa, NULL)};
    eb_err err = {0};
    assert_int_equal(ref_conv_prepare(&s, &nd, sc, sh, &err), 0);
    assert_non_null(nd.prep);
    nd.prep->act = act;
    nd.prep->lo = 0.0f, nd.prep->hi = 0.5f;
    *kind = nd.prep->kind;
    s.scratch = malloc((nd.prep->scratch + 1) * sizeof(float));
    ref_conv_exec(&s, &nd);
    free(s.scratch);
    free(nd.prep->packed), free(nd.prep->bias), free(nd.prep);
    return y;
}

/* Every kernel set this CPU runs (portable, AVX2, AVX-512) on geometry p against the naive
 * loop; with a pool, 2 threads must give the bytes 1 thread gives.  what names the case. */
static void ref_conv_check_p(const eb_ref_conv2d *p0, const char *what, int bn, eb_ref_act act,
                             int want_kind, eb_ref_pool *pool)
{
    eb_ref_conv2d p = *p0;
    p.oh = eb_ref_conv_out(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, 0);
    p.ow = eb_ref_conv_out(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, 0);
    assert_true(p.oh > 0 && p.ow > 0);
    float *x = ref_conv_fill((size_t)(p.n * p.c * p.h * p.w), 1);
    float *w = ref_conv_fill((size_t)(p.m * p.c / p.group * p.kh * p.kw), 2);
    float *b = ref_conv_fill((size_t)p.m, 3);
    float *sc = ref_conv_fill((size_t)p.m, 4), *sh = ref_conv_fill((size_t)p.m, 5);
    size_t ny = (size_t)(p.n * p.m * p.oh * p.ow);
    double *want = malloc(ny * sizeof *want);
    ref_conv_naive(&p, x, w, b, bn ? sc : NULL, sh, act, want);
    for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++) {
        if (!eb_ref_isa_supported((eb_ref_isa)isa))
            continue;
        int kind = 0;
        float *y = ref_conv_node(&p, x, w, b, bn ? sc : NULL, bn ? sh : NULL, act, NULL,
                                 (eb_ref_isa)isa, &kind);
        if (want_kind && kind != want_kind)
            fail_msg("%s: c=%lld group=%lld: algorithm %d, want %d", what, (long long)p.c,
                     (long long)p.group, kind, want_kind);
        for (size_t i = 0; i < ny; i++)
            if (fabs(y[i] - want[i]) > 1e-4 * (fabs(want[i]) > 1 ? fabs(want[i]) : 1))
                fail_msg("%s: %s: bn%d act%d: y[%zu] = %.7g, want %.7g",
                         eb_ref_isa_name((eb_ref_isa)isa), what, bn, act, i, y[i], want[i]);
        if (pool) {
            float *y2 = ref_conv_node(&p, x, w, b, bn ? sc : NULL, bn ? sh : NULL, act, pool,
                                      (eb_ref_isa)isa, &kind);
            assert_memory_equal(y, y2, ny * sizeof *y);
            free(y2);
        }
        free(y);
    }
    free(x), free(w), free(b), free(sc), free(sh), free(want);
}

static void ref_conv_check(const ref_conv_shape *cs, int bn, eb_ref_act act, int want_kind,
                           eb_ref_pool *pool)
{
    eb_ref_conv2d p = {.n = cs->n, .c = cs->c, .h = cs->h, .w = cs->w, .m = cs->m, .kh = cs->kh,
                       .kw = cs->kw, .sh = cs->s, .sw = cs->s, .dh = cs->d, .dw = cs->d,
                       .pt = cs->pad, .pl = cs->pad, .pb = cs->pad, .pr = cs->pad,
                       .group = cs->group};
    char what[160];
    snprintf(what, sizeof what, "n%lld c%lld %lldx%lld m%lld k%lldx%lld s%lld d%lld pad%lld g%lld",
             (long long)cs->n, (long long)cs->c, (long long)cs->h, (long long)cs->w,
             (long long)cs->m, (long long)cs->kh, (long long)cs->kw, (long long)cs->s,
             (long long)cs->d, (long long)cs->pad, (long long)cs->group);
    ref_conv_check_p(&p, what, bn, act, want_kind, pool);
}

static void test_conv_gemm_shapes(void **state)
{
    (void)state;
    const ref_conv_shape shapes[] = {
        /* n  c   h   w   m  kh kw s d pad g */
        {1, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1}, /* the zoo's first layer */
        {1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1},
        {2, 3, 7, 6, 5, 3, 2, 2, 1, 1, 1},
        {1, 4, 9, 11, 6, 3, 3, 1, 2, 2, 2}, /* dilation, groups */
        {1, 6, 5, 5, 6, 1, 1, 1, 1, 0, 3},  /* grouped pointwise */
        {2, 37, 5, 7, 13, 1, 1, 1, 1, 0, 1}, /* pointwise, odd sizes */
        {1, 8, 1, 40, 7, 1, 5, 1, 1, 2, 1},  /* 1-D as height 1 */
        {1, 3, 23, 23, 8, 7, 7, 2, 1, 3, 1}, /* resnet's stem, smaller */
        {1, 300, 3, 3, 4, 3, 3, 1, 1, 1, 1}, /* K beyond one k block */
        {1, 4, 6, 6, 4, 3, 3, 3, 1, 0, 4},   /* depthwise but stride 3: GEMM path */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int e = 0; e < 4; e++)
            ref_conv_check(&shapes[i], e & 1, (eb_ref_act)(e >> 1), REF_PREP_CONV_GEMM, NULL);
    ref_conv_check(&shapes[0], 1, EB_REF_ACT_CLIP, REF_PREP_CONV_GEMM, NULL);
}

static void test_conv_depthwise(void **state)
{
    (void)state;
    /* widths around the 8- and 16-wide vector bodies and their borders, both strides, pads */
    for (int64_t w = 1; w <= 41; w += 2)
        for (int64_t s = 1; s <= 2; s++)
            for (int64_t pad = 0; pad <= 2; pad++) {
                if (w + 2 * pad < 3)
                    continue;
                ref_conv_shape cs = {2, 5, w > 5 ? w - 3 : 3, w, 5, 3, 3, s, 1, pad, 5};
                ref_conv_check(&cs, (int)(w & 2) >> 1, (eb_ref_act)(w % 3), REF_PREP_CONV_DW,
                               NULL);
            }
}

/* Depthwise kh x kw up to 7x7 takes the direct kernels on every ISA; all against the naive
 * loop (ref_conv_check runs every ISA). */
static void test_conv_depthwise_kxk(void **state)
{
    (void)state;
    const int64_t ks[][2] = {{5, 5}, {7, 7}, {3, 5}, {1, 1}, {5, 3}, {2, 2}, {7, 1}};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        for (int64_t w = 4; w <= 40; w += 9)
            for (int64_t s = 1; s <= 2; s++) {
                int64_t pad = ks[i][1] / 2;
                ref_conv_shape cs = {1, 6, w > 8 ? w - 5 : w, w, 6, ks[i][0], ks[i][1], s, 1, pad,
                                     6};
                if (w + 2 * pad < ks[i][1] || cs.h + 2 * pad < ks[i][0])
                    continue;
                ref_conv_check(&cs, (int)(w & 1), (eb_ref_act)(w % 3), REF_PREP_CONV_DW, NULL);
            }
    eb_ref_conv2d p = {.n = 1, .c = 8, .h = 9, .w = 9, .m = 8, .kh = 5, .kw = 5, .sh = 1,
                       .sw = 1, .dh = 1, .dw = 1, .group = 8};
    for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++)
        assert_int_equal(eb_ref_dw_fits(&p, (eb_ref_isa)isa), 1);
    p.dh = p.dw = 2; /* dilated, stride 3, 9x9: the GEMM path */
    assert_int_equal(eb_ref_dw_fits(&p, EB_REF_ISA_AVX512), 0);
    p.dh = p.dw = 1, p.sh = p.sw = 3;
    assert_int_equal(eb_ref_dw_fits(&p, EB_REF_ISA_AVX2), 0);
    p.sh = p.sw = 1, p.kh = p.kw = 9;
    assert_int_equal(eb_ref_dw_fits(&p, EB_REF_ISA_PORTABLE), 0);
}

/* The shapes of MobileNetV2 and MnasNet (3x3 and 5x5, stride 1 and 2, maps 7 to 112, fused
 * Relu/Clip), a few channels each: every kernel and every path through it (AVX-512: the flat
 * stride-1 kernel with a padded copy for small planes and masked edges for large ones, the
 * stride-2 padded plane; AVX2/portable: padded plane). */
static void test_conv_depthwise_models(void **state)
{
    (void)state;
    const int64_t maps[] = {7, 14, 28, 56, 112};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        for (int64_t k = 3; k <= 5; k += 2)
            for (int64_t s = 1; s <= 2; s++) {
                ref_conv_shape cs = {1, 3, maps[i], maps[i], 3, k, k, s, 1, k / 2, 3};
                ref_conv_check(&cs, 1, (eb_ref_act)((i + (size_t)k + (size_t)s) % 3),
                               REF_PREP_CONV_DW, NULL);
            }
}

/* Geometry the models do not have: asymmetric and missing pads ("same" padding off centre
 * takes the AVX-512 flat kernel's generic instantiation, no "same" padding its row path),
 * rows wider than the 16-wide vectors by odd amounts, planes too large for the stack buffers
 * (ring of row segments, columns in chunks; AVX-512 hands those to AVX2), one-row and
 * one-column planes. */
static void test_conv_depthwise_geometry(void **state)
{
    (void)state;
    const struct {
        int64_t h, w, k, s, pt, pl, pb, pr;
    } g[] = {
        {9, 20, 3, 1, 0, 0, 0, 0},    {9, 20, 3, 1, 1, 0, 0, 1},  {11, 33, 5, 1, 2, 1, 2, 3},
        {10, 21, 3, 2, 0, 1, 1, 0},   {12, 37, 5, 2, 2, 2, 1, 1}, {13, 18, 5, 2, 0, 0, 0, 0},
        {1, 50, 3, 1, 1, 1, 1, 1},    {50, 1, 3, 1, 1, 1, 1, 1},  {1, 1, 3, 2, 1, 1, 1, 1},
        {3, 4000, 3, 1, 1, 1, 1, 1},  {5, 3000, 5, 2, 2, 2, 2, 2}, {4, 1100, 3, 1, 1, 1, 1, 1},
        {140, 140, 3, 2, 1, 1, 1, 1}, {17, 47, 7, 2, 3, 3, 3, 3}, {33, 16, 5, 1, 2, 2, 2, 2},
        {9, 20, 3, 1, 2, 0, 0, 2},    {11, 10, 5, 1, 1, 3, 3, 1}, {20, 130, 5, 1, 0, 2, 1, 3},
        {6, 200, 3, 1, 1, 1, 1, 1},   {7, 97, 7, 1, 3, 3, 3, 3},  {5, 96, 3, 1, 1, 1, 1, 1},
        /* pads a model may declare: 120014 outputs per row from a 16-wide input (the AVX-512
         * row path's stack mask table must not be sized by the input's width alone) */
        {3, 16, 3, 1, 1, 60000, 1, 60000},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        eb_ref_conv2d p = {.n = 1, .c = 3, .h = g[i].h, .w = g[i].w, .m = 3, .kh = g[i].k,
                           .kw = g[i].k, .sh = g[i].s, .sw = g[i].s, .dh = 1, .dw = 1,
                           .pt = g[i].pt, .pl = g[i].pl, .pb = g[i].pb, .pr = g[i].pr,
                           .group = 3};
        char what[96];
        snprintf(what, sizeof what, "%lldx%lld k%lld s%lld pads %lld,%lld,%lld,%lld",
                 (long long)g[i].h, (long long)g[i].w, (long long)g[i].k, (long long)g[i].s,
                 (long long)g[i].pt, (long long)g[i].pl, (long long)g[i].pb, (long long)g[i].pr);
        ref_conv_check_p(&p, what, (int)(i & 1), (eb_ref_act)(i % 3), REF_PREP_CONV_DW, NULL);
    }
#if defined(__x86_64__)
    /* The last case above is too wide for the AVX-512 row path's stack table: it must be left
     * to the AVX2 kernel before anything is read or written (hence the NULL buffers). */
    if (eb_ref_isa_supported(EB_REF_ISA_AVX512)) {
        eb_ref_conv2d p = {.n = 1, .c = 3, .h = 3, .w = 16, .m = 3, .kh = 3, .kw = 3, .sh = 1,
                           .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pl = 60000, .pb = 1,
                           .pr = 60000, .group = 3};
        p.oh = eb_ref_conv_out(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, 0);
        p.ow = eb_ref_conv_out(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, 0);
        assert_int_equal(eb_ref_dw3x3_avx512(&p, NULL, NULL, NULL, EB_REF_ACT_NONE, 0, 0, NULL, 0,
                                             3),
                         -1);
    }
#endif
}

static void test_conv_threads_equal(void **state)
{
    (void)state;
    eb_ref_pool *pool = NULL;
    eb_err err = {0};
    assert_int_equal(eb_ref_pool_create(2, 0, &pool, &err), 0);
    const ref_conv_shape shapes[] = {
        {1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1},
        {2, 32, 15, 15, 32, 3, 3, 2, 1, 1, 32},
        {1, 24, 10, 10, 40, 1, 1, 1, 1, 0, 1},
        /* big enough to be split (smaller layers stay on the caller) */
        {1, 64, 40, 40, 64, 3, 3, 2, 1, 1, 64},
        {1, 48, 28, 28, 48, 5, 5, 1, 1, 2, 48},
        {1, 96, 30, 30, 96, 3, 3, 1, 1, 1, 96},
        {1, 64, 24, 24, 80, 1, 1, 1, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        ref_conv_check(&shapes[i], 1, EB_REF_ACT_RELU, 0, pool);
    eb_ref_pool_destroy(pool);
}

/* Whole model: tests/data/ref/cnn.onnx has Conv->BN->Relu and Conv->Relu.  The BN and both
 * Relus are merged at open, the profiler lists only what runs, and 2 threads give the same
 * bytes as 1. */
static void *ref_conv_open_model(int threads, const char *profile)
{
    eb_model m = {.path = "tests/data/ref/cnn.onnx", .format = "onnx"};
    eb_option opt = {"profile", profile};
    eb_config c = {.threads = threads, .batch = 3, .cores = "all", .options = &opt,
                   .n_options = 1};
    void *s = NULL;
    eb_err err = {0};
    if (eb_backend_ref.open(&m, &c, &s, &err) != 0)
        fail_msg("opening cnn.onnx: %s", err.msg);
    return s;
}

static void test_conv_model_fusion_profile(void **state)
{
    (void)state;
    void *one = ref_conv_open_model(1, "0"), *two = ref_conv_open_model(2, "1");
    const ref_session *rs = two;
    int fused = 0, adds = 0;
    for (int i = 0; i < rs->n_nodes; i++)
        if (rs->nodes[i].fused) {
            fused++;
            /* the classifier's MatMul -> Add (bias) is merged too */
            adds += strcmp(rs->nodes[i].op_type, "Add") == 0;
            assert_true(strcmp(rs->nodes[i].op_type, "BatchNormalization") == 0 ||
                        strcmp(rs->nodes[i].op_type, "Relu") == 0 ||
                        strcmp(rs->nodes[i].op_type, "Add") == 0);
        }
    assert_int_equal(fused - adds, 3);
    assert_int_equal(adds, 1);
    eb_io io;
    eb_backend_ref.io(one, &io);
    size_t nx = 1, ny = 1;
    for (int d = 0; d < io.inputs[0].ndim; d++)
        nx *= (size_t)io.inputs[0].shape[d];
    for (int d = 0; d < io.outputs[0].ndim; d++)
        ny *= (size_t)io.outputs[0].shape[d];
    float *x = ref_conv_fill(nx, 7), *y1 = calloc(ny, sizeof *y1), *y2 = calloc(ny, sizeof *y2);
    eb_tensor in = io.inputs[0], o1 = {.data = y1}, o2 = {.data = y2};
    in.data = x;
    eb_err err = {0};
    for (int r = 0; r < 3; r++) {
        assert_int_equal(eb_backend_ref.run(one, &in, 1, &o1, 1, &err), 0);
        assert_int_equal(eb_backend_ref.run(two, &in, 1, &o2, 1, &err), 0);
        assert_memory_equal(y1, y2, ny * sizeof *y1);
    }
    /* unprofiled session: nothing; profiled: every node that runs, none merged away */
    eb_op_time ops[32];
    assert_int_equal(eb_backend_ref.profile(one, ops, 32), 0);
    int n = eb_backend_ref.profile(two, ops, 32);
    assert_int_equal(n, 8); /* 13 nodes - Constant (folded) - BN - 2 Relu - MatMul's Add */
    double total = 0;
    for (int i = 0; i < n; i++) {
        assert_non_null(ops[i].node);
        assert_string_not_equal(ops[i].op_type, "Relu");
        assert_string_not_equal(ops[i].op_type, "BatchNormalization");
        assert_string_not_equal(ops[i].op_type, "Add");
        assert_true(ops[i].ms >= 0);
        total += ops[i].ms;
    }
    assert_true(total > 0);
    /* read resets: no runs since, so all zero */
    n = eb_backend_ref.profile(two, ops, 32);
    for (int i = 0; i < n; i++)
        assert_true(ops[i].ms == 0);
    eb_backend_ref.close(one);
    eb_backend_ref.close(two);
    free(x), free(y1), free(y2);
}

/* The GEMM convolution's newer paths: the implicit GEMM over a padded copy of the input
 * (AVX-512, stride 1: its grid's extra columns, tiles of up to 64 positions, 6-row channel
 * edges, dilation, kh != kw, batches), the AVX-512 im2col (masked runs, stride 2 by permute,
 * stride 3 by gather, asymmetric pads), the direct kernel of strided first layers (1 to 4
 * input channels), and the column blocks that pack and multiply in one task (threads split
 * them: the bytes must equal one thread's). */
static void test_conv_gemm_paths(void **state)
{
    (void)state;
    eb_ref_pool *pool = NULL;
    eb_err err = {0};
    assert_int_equal(eb_ref_pool_create(2, 0, &pool, &err), 0);
    const ref_conv_shape shapes[] = {
        /* n  c   h   w   m  kh kw s d pad g */
        {1, 5, 7, 7, 13, 3, 3, 1, 1, 1, 1},    /* 7x7 grid of 9-wide rows, 6-row edge */
        {2, 3, 9, 21, 7, 3, 5, 1, 1, 2, 1},    /* kh != kw, batch */
        {1, 6, 12, 10, 8, 3, 3, 1, 2, 2, 1},   /* dilation */
        {1, 4, 17, 17, 6, 2, 2, 1, 1, 0, 1},   /* no padding, even kernel */
        {1, 32, 30, 30, 24, 3, 3, 1, 1, 1, 1}, /* big enough for the pool */
        {1, 300, 5, 5, 8, 3, 3, 1, 1, 1, 1},   /* K over one k block */
        {1, 3, 40, 38, 16, 3, 3, 2, 1, 1, 1},  /* stride 2 im2col, column blocks */
        {1, 16, 64, 64, 32, 3, 3, 2, 1, 1, 1}, /* stride 2, split over threads */
        {1, 5, 31, 29, 6, 5, 5, 3, 1, 2, 1},   /* stride 3 (gather) */
        {1, 2, 19, 17, 20, 3, 3, 2, 2, 2, 1},  /* direct first layer: dilation, 20 channels */
        {2, 3, 33, 35, 16, 3, 3, 2, 1, 1, 1},  /* direct, batch, rows split over threads */
        {1, 32, 40, 40, 48, 1, 1, 1, 1, 0, 1}, /* pointwise, column blocks */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        ref_conv_check(&shapes[i], (int)(i & 1), (eb_ref_act)(i % 3), REF_PREP_CONV_GEMM, pool);
    /* asymmetric pads (auto_pad SAME_UPPER and friends) on both new paths */
    const int64_t geo[][6] = {
        /* stride, pt, pl, pb, pr, kernel */
        {1, 0, 1, 2, 0, 3}, {1, 2, 0, 0, 1, 3}, {2, 0, 0, 1, 1, 3}, {2, 3, 2, 3, 2, 7},
        {3, 1, 0, 2, 1, 3},
    };
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
        eb_ref_conv2d p = {.n = 1, .c = 3, .h = 23, .w = 19, .m = 10, .kh = geo[g][5],
                           .kw = geo[g][5], .sh = geo[g][0], .sw = geo[g][0], .dh = 1, .dw = 1,
                           .pt = geo[g][1], .pl = geo[g][2], .pb = geo[g][3], .pr = geo[g][4],
                           .group = 1};
        p.oh = eb_ref_conv_out(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, 0);
        p.ow = eb_ref_conv_out(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, 0);
        float *x = ref_conv_fill((size_t)(p.c * p.h * p.w), 7);
        float *w = ref_conv_fill((size_t)(p.m * p.c * p.kh * p.kw), 8);
        float *b = ref_conv_fill((size_t)p.m, 9);
        size_t ny = (size_t)(p.m * p.oh * p.ow);
        double *want = malloc(ny * sizeof *want);
        ref_conv_naive(&p, x, w, b, NULL, NULL, EB_REF_ACT_NONE, want);
        for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++) {
            if (!eb_ref_isa_supported((eb_ref_isa)isa))
                continue;
            int kind = 0;
            float *y = ref_conv_node(&p, x, w, b, NULL, NULL, EB_REF_ACT_NONE, NULL,
                                     (eb_ref_isa)isa, &kind);
            assert_int_equal(kind, REF_PREP_CONV_GEMM);
            for (size_t i = 0; i < ny; i++)
                if (fabs(y[i] - want[i]) > 1e-4 * (fabs(want[i]) > 1 ? fabs(want[i]) : 1))
                    fail_msg("%s: pads %lld %lld %lld %lld stride %lld: y[%zu] = %.7g, want %.7g",
                             eb_ref_isa_name((eb_ref_isa)isa), (long long)p.pt, (long long)p.pl,
                             (long long)p.pb, (long long)p.pr, (long long)p.sh, i, y[i],
                             want[i]);
            free(y);
        }
        free(x), free(w), free(b), free(want);
    }
    eb_ref_pool_destroy(pool);
}

/* Which path ref_conv_prepare chose: the implicit GEMM (prep->ext set) or not. */
static int ref_conv_is_implicit(const eb_ref_conv2d *p0, eb_ref_isa isa)
{
    eb_ref_conv2d p = *p0;
    p.oh = eb_ref_conv_out(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, 0);
    p.ow = eb_ref_conv_out(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, 0);
    float *w = ref_conv_fill((size_t)(p.m * p.c / p.group * p.kh * p.kw), 2);
    ref_value vals[4] = {0};
    vals[1] = (ref_value){.dtype = EB_F32, .kind = REF_VAL_WEIGHT, .data = w,
                          .numel = (size_t)(p.m * p.c / p.group * p.kh * p.kw)};
    int in[3] = {0, 1, -1}, out[1] = {3};
    ref_node nd = {.op = REF_OP_CONV, .n_in = 3, .n_out = 1, .in = in, .out = out, .conv = p};
    ref_session s = {.vals = vals, .n_vals = 4, .isa = isa};
    eb_err err = {0};
    assert_int_equal(ref_conv_prepare(&s, &nd, NULL, NULL, &err), 0);
    assert_non_null(nd.prep);
    int implicit = nd.prep->ext != NULL;
    free(nd.prep->packed), free(nd.prep->bias), free(nd.prep), free(w);
    return implicit;
}

/* AVX2 runs stride-1 convolutions as the implicit GEMM too (eb_ref_conv_tile_avx2; its
 * numbers are checked against the naive loop with every other ISA by the tests above):
 * the zoo cnn's 3x3 layers and a pointwise one take it, strided and grouped ones do not,
 * and the portable build never does. */
static void test_conv_implicit_isa(void **state)
{
    (void)state;
    const ref_conv_shape yes[] = {
        {1, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1},  {1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1},
        {1, 37, 9, 11, 13, 1, 1, 1, 1, 0, 1},
    };
    const ref_conv_shape no[] = {
        {1, 16, 14, 14, 32, 3, 3, 2, 1, 1, 1}, {1, 4, 9, 11, 6, 3, 3, 1, 2, 2, 2},
    };
    for (int isa = EB_REF_ISA_PORTABLE; isa <= EB_REF_ISA_AVX512; isa++) {
        if (!eb_ref_isa_supported((eb_ref_isa)isa))
            continue;
        for (size_t i = 0; i < sizeof yes / sizeof yes[0] + sizeof no / sizeof no[0]; i++) {
            int want_yes = i < sizeof yes / sizeof yes[0];
            const ref_conv_shape *cs = want_yes ? &yes[i] : &no[i - sizeof yes / sizeof yes[0]];
            eb_ref_conv2d p = {.n = cs->n, .c = cs->c, .h = cs->h, .w = cs->w, .m = cs->m,
                               .kh = cs->kh, .kw = cs->kw, .sh = cs->s, .sw = cs->s,
                               .dh = cs->d, .dw = cs->d, .pt = cs->pad, .pl = cs->pad,
                               .pb = cs->pad, .pr = cs->pad, .group = cs->group};
            int want = want_yes && isa != EB_REF_ISA_PORTABLE;
            if (ref_conv_is_implicit(&p, (eb_ref_isa)isa) != want)
                fail_msg("%s: case %zu: implicit %d, want %d", eb_ref_isa_name((eb_ref_isa)isa),
                         i, !want, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_gemm_shapes),
        cmocka_unit_test(test_conv_depthwise),
        cmocka_unit_test(test_conv_depthwise_kxk),
        cmocka_unit_test(test_conv_depthwise_models),
        cmocka_unit_test(test_conv_depthwise_geometry),
        cmocka_unit_test(test_conv_threads_equal),
        cmocka_unit_test(test_conv_model_fusion_profile),
        cmocka_unit_test(test_conv_gemm_paths),
        cmocka_unit_test(test_conv_implicit_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
