/* ref's dynamic-quantization fusion (issue 4, qdq_dyn.c): models built here with protobuf-c
 * in the shape PyTorch's and ONNX Runtime's quantize_dynamic export (DynamicQuantizeLinear ->
 * MatMulInteger -> Cast -> Mul(s) -> [Add] -> [Relu], per-tensor and per-column weight scales
 * and zero points, int8 and uint8 weights, the three ways of multiplying the scales, one row
 * and several, a Flatten in front), run fused, unfused (qdq_fuse=0) and by a loop here that
 * follows the ONNX definitions: the three must agree bit for bit, on every kernel
 * (EDGEBENCH_REF_ISA) and at 2 threads, on random data and on the edges (all zeros, all
 * negative, rounding ties of x / scale and of the zero point, saturated sums).  Chains the
 * fusion must not take (w - z_w outside int8, a DynamicQuantizeLinear output read elsewhere)
 * stay correct. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "onnx.pb-c.h"
#include "ref/ref_internal.h"

enum { DQ_PRODUCT = 0, DQ_X_THEN_W, DQ_W_THEN_X };

typedef struct dq_layer {
    int64_t K, N;
    int w_uint8;    /* weights uint8 (else int8) */
    int zw;         /* weight zero point: 0 absent, 1 per tensor, 2 per column */
    int ws_col;     /* weight scale per column (else one) */
    int form;       /* DQ_*: how the scales are multiplied */
    int bias, relu;
    int zx;         /* MatMulInteger gets DynamicQuantizeLinear's zero point */
    int swap;       /* operands of the Muls and the Add the other way round */
    int wide;       /* weights drawn over the whole type, not kept within int8 of z_w */
    /* drawn by dq_fill */
    int64_t *w, *wz;
    float *ws, *b;
} dq_layer;

typedef struct dq_model {
    int n_layers;
    dq_layer *layers;
    int ndim;
    int64_t shape[4];  /* x's shape; rows = numel / layers[0].K */
    int flatten;       /* x is [rows, 1, K], flattened first */
    int expose_scale;  /* layer 0's scale is also a graph output */
} dq_model;

/* ---------------------------------------------------------------- data */

static uint32_t dq_next(uint32_t *st)
{
    *st = *st * 1664525u + 1013904223u;
    return *st >> 8;
}

static int64_t dq_int(uint32_t *st, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(dq_next(st) % (uint32_t)(hi - lo + 1));
}

static float dq_unif(uint32_t *st, float lo, float hi)
{
    return lo + (hi - lo) * (float)dq_next(st) / 16777216.0f;
}

static void dq_fill(dq_layer *l, uint32_t *st)
{
    int64_t K = l->K, N = l->N;
    l->w = malloc((size_t)(K * N) * sizeof *l->w);
    l->wz = malloc((size_t)N * sizeof *l->wz);
    l->ws = malloc((size_t)N * sizeof *l->ws);
    l->b = malloc((size_t)N * sizeof *l->b);
    assert_true(l->w && l->wz && l->ws && l->b);
    int64_t tlo = l->w_uint8 ? 0 : -128, thi = l->w_uint8 ? 255 : 127;
    int64_t z0 = l->zw == 0 ? 0 : l->w_uint8 ? dq_int(st, 120, 136) : dq_int(st, -9, 9);
    for (int64_t n = 0; n < N; n++) {
        l->wz[n] = l->zw == 2 ? (l->w_uint8 ? dq_int(st, 100, 156) : dq_int(st, -20, 20)) : z0;
        l->ws[n] = dq_unif(st, 0.001f, 0.02f);
        l->b[n] = dq_unif(st, -1.0f, 1.0f);
    }
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++) {
            int64_t z = l->wz[n];
            int64_t lo = l->wide ? tlo : (z - 128 > tlo ? z - 128 : tlo);
            int64_t hi = l->wide ? thi : (z + 127 < thi ? z + 127 : thi);
            l->w[k * N + n] = dq_int(st, lo, hi);
        }
}

static void dq_free_layers(dq_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        free(m->layers[i].w), free(m->layers[i].wz), free(m->layers[i].ws), free(m->layers[i].b);
}

/* ---------------------------------------------------------------- the ONNX file */

#define DQ_MAX_PTRS 512
typedef struct dq_build {
    void *ptrs[DQ_MAX_PTRS]; /* everything the message points at, freed after packing */
    int n_ptrs;
    Onnx__NodeProto *nodes[64];
    int n_nodes;
    Onnx__TensorProto *inits[32];
    int n_inits;
} dq_build;

static void *dq_keep(dq_build *b, size_t n)
{
    assert_true(b->n_ptrs < DQ_MAX_PTRS);
    void *p = calloc(1, n ? n : 1);
    assert_non_null(p);
    b->ptrs[b->n_ptrs++] = p;
    return p;
}

static char *dq_str(dq_build *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *s = dq_keep(b, strlen(tmp) + 1);
    strcpy(s, tmp);
    return s;
}

/* A node with up to four inputs ("" for an absent optional one) and up to three outputs. */
static Onnx__NodeProto *dq_node(dq_build *b, const char *op, int n_in, const char *const *in,
                                int n_out, const char *const *out)
{
    Onnx__NodeProto *nd = dq_keep(b, sizeof *nd);
    onnx__node_proto__init(nd);
    nd->op_type = dq_str(b, "%s", op);
    nd->n_input = (size_t)n_in, nd->input = dq_keep(b, (size_t)n_in * sizeof(char *));
    nd->n_output = (size_t)n_out, nd->output = dq_keep(b, (size_t)n_out * sizeof(char *));
    for (int i = 0; i < n_in; i++)
        nd->input[i] = dq_str(b, "%s", in[i]);
    for (int i = 0; i < n_out; i++)
        nd->output[i] = dq_str(b, "%s", out[i]);
    b->nodes[b->n_nodes++] = nd;
    return nd;
}

static void dq_attr_int(dq_build *b, Onnx__NodeProto *nd, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = dq_keep(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = dq_str(b, "%s", name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_type = 1;
    a->i = v, a->has_i = 1;
    nd->attribute = dq_keep(b, sizeof(Onnx__AttributeProto *));
    nd->attribute[0] = a, nd->n_attribute = 1;
}

/* An initializer from n int64 (stored as int8/uint8) or float values. */
static void dq_init(dq_build *b, const char *name, int type, int ndim, const int64_t *dims,
                    const int64_t *iv, const float *fv, size_t n)
{
    Onnx__TensorProto *t = dq_keep(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = dq_str(b, "%s", name);
    t->data_type = type, t->has_data_type = 1;
    t->n_dims = (size_t)ndim, t->dims = dq_keep(b, (size_t)ndim * sizeof(int64_t));
    memcpy(t->dims, dims, (size_t)ndim * sizeof(int64_t));
    int fl = type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    uint8_t *raw = dq_keep(b, n * (fl ? 4 : 1));
    for (size_t i = 0; i < n; i++) {
        if (fl)
            memcpy(raw + 4 * i, &fv[i], 4);
        else
            raw[i] = (uint8_t)(iv[i] & 0xff); /* int8 two's complement, or uint8 */
    }
    t->raw_data.data = raw, t->raw_data.len = n * (fl ? 4 : 1), t->has_raw_data = 1;
    b->inits[b->n_inits++] = t;
}

static Onnx__ValueInfoProto *dq_vinfo(dq_build *b, const char *name, int ndim,
                                      const int64_t *shape)
{
    Onnx__ValueInfoProto *v = dq_keep(b, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = dq_str(b, "%s", name);
    Onnx__TypeProto *t = dq_keep(b, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = dq_keep(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, tt->has_elem_type = 1;
    if (ndim >= 0) {
        Onnx__TensorShapeProto *sh = dq_keep(b, sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->n_dim = (size_t)ndim;
        sh->dim = dq_keep(b, (size_t)ndim * sizeof(Onnx__TensorShapeProto__Dimension *));
        for (int d = 0; d < ndim; d++) {
            Onnx__TensorShapeProto__Dimension *dim = dq_keep(b, sizeof *dim);
            onnx__tensor_shape_proto__dimension__init(dim);
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = shape[d];
            sh->dim[d] = dim;
        }
        tt->shape = sh;
    }
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tensor_type = tt;
    v->type = t;
    return v;
}

/* Writes the model to a temporary file; returns its path (caller frees and unlinks). */
static char *dq_write(const dq_model *m)
{
    dq_build *b = calloc(1, sizeof *b);
    assert_non_null(b);
    char cur[32] = "x";
    if (m->flatten) {
        const char *in[] = {"x"}, *out[] = {"xf"};
        dq_attr_int(b, dq_node(b, "Flatten", 1, in, 1, out), "axis", 1);
        strcpy(cur, "xf");
    }
    for (int li = 0; li < m->n_layers; li++) {
        const dq_layer *l = &m->layers[li];
        int last = li == m->n_layers - 1;
        int64_t kn[2] = {l->K, l->N}, one = 1;
        int wt = l->w_uint8 ? ONNX__TENSOR_PROTO__DATA_TYPE__UINT8
                            : ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
        char q[16], s[16], z[16], w[16], wz[16], ws[16], c[16], t1[16], t2[16], bb[16], a[16];
        snprintf(q, sizeof q, "l%d_q", li), snprintf(s, sizeof s, "l%d_s", li);
        snprintf(z, sizeof z, "l%d_z", li), snprintf(w, sizeof w, "l%d_w", li);
        snprintf(wz, sizeof wz, "l%d_wz", li), snprintf(ws, sizeof ws, "l%d_ws", li);
        snprintf(c, sizeof c, "l%d_c", li), snprintf(t1, sizeof t1, "l%d_t1", li);
        snprintf(t2, sizeof t2, "l%d_t2", li), snprintf(bb, sizeof bb, "l%d_b", li);
        snprintf(a, sizeof a, "l%d_a", li);
        dq_init(b, w, wt, 2, kn, l->w, NULL, (size_t)(l->K * l->N));
        if (l->zw)
            dq_init(b, wz, wt, 1, l->zw == 2 ? &l->N : &one, l->wz, NULL,
                    l->zw == 2 ? (size_t)l->N : 1);
        dq_init(b, ws, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, l->ws_col ? &l->N : &one, NULL,
                l->ws, l->ws_col ? (size_t)l->N : 1);
        if (l->bias)
            dq_init(b, bb, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &l->N, NULL, l->b,
                    (size_t)l->N);
        {
            const char *in[] = {cur}, *out[] = {q, s, z};
            dq_node(b, "DynamicQuantizeLinear", 1, in, 3, out);
        }
        {
            const char *in[] = {q, w, l->zx ? z : "", wz};
            const char *out[] = {c};
            dq_node(b, "MatMulInteger", l->zw ? 4 : l->zx ? 3 : 2, in, 1, out);
        }
        char cf[16];
        snprintf(cf, sizeof cf, "l%d_cf", li);
        {
            const char *in[] = {c}, *out[] = {cf};
            dq_attr_int(b, dq_node(b, "Cast", 1, in, 1, out), "to", 1);
        }
        char mid[16], rr[16];
        snprintf(mid, sizeof mid, "l%d_m", li);
        snprintf(rr, sizeof rr, "l%d_r", li);
        /* scale multiplications */
        const char *mul_out = l->bias || l->relu || !last ? mid : "y";
        if (l->form == DQ_PRODUCT) {
            const char *in1[] = {l->swap ? ws : s, l->swap ? s : ws}, *o1[] = {t1};
            dq_node(b, "Mul", 2, in1, 1, o1);
            const char *in2[] = {l->swap ? t1 : cf, l->swap ? cf : t1}, *o2[] = {mul_out};
            dq_node(b, "Mul", 2, in2, 1, o2);
        } else {
            const char *first = l->form == DQ_X_THEN_W ? s : ws;
            const char *second = l->form == DQ_X_THEN_W ? ws : s;
            const char *in1[] = {l->swap ? first : cf, l->swap ? cf : first}, *o1[] = {t2};
            dq_node(b, "Mul", 2, in1, 1, o1);
            const char *in2[] = {l->swap ? second : t2, l->swap ? t2 : second}, *o2[] = {mul_out};
            dq_node(b, "Mul", 2, in2, 1, o2);
        }
        const char *v = mul_out;
        if (l->bias) {
            const char *o = l->relu || !last ? a : "y";
            const char *in[] = {l->swap ? bb : v, l->swap ? v : bb}, *out[] = {o};
            dq_node(b, "Add", 2, in, 1, out);
            v = o;
        }
        if (l->relu) {
            const char *o = last ? "y" : rr;
            const char *in[] = {v}, *out[] = {o};
            dq_node(b, "Relu", 1, in, 1, out);
            v = o;
        }
        snprintf(cur, sizeof cur, "%s", v);
    }
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "dq";
    g.n_node = (size_t)b->n_nodes, g.node = b->nodes;
    g.n_initializer = (size_t)b->n_inits, g.initializer = b->inits;
    Onnx__ValueInfoProto *ins[1], *outs[2];
    int64_t xshape[4];
    memcpy(xshape, m->shape, sizeof xshape);
    ins[0] = dq_vinfo(b, "x", m->ndim, xshape);
    outs[0] = dq_vinfo(b, "y", -1, NULL);
    outs[1] = dq_vinfo(b, "l0_s", -1, NULL);
    g.n_input = 1, g.input = ins;
    g.n_output = m->expose_scale ? 2 : 1, g.output = outs;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[] = {&opset};
    opset.domain = "", opset.version = 13, opset.has_version = 1;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mp.has_ir_version = 1, mp.ir_version = 7, mp.graph = &g;
    mp.n_opset_import = 1, mp.opset_import = opsets;
    size_t n = onnx__model_proto__get_packed_size(&mp);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    onnx__model_proto__pack(&mp, buf);
    char *path = strdup("/tmp/test_ref_quant_dyn_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    free(buf);
    for (int i = 0; i < b->n_ptrs; i++)
        free(b->ptrs[i]);
    free(b);
    return path;
}

/* ---------------------------------------------------------------- the definition */

/* The model by the ONNX definitions, float32 arithmetic in the graph's order; y gets
 * rows x N (last layer). */
static void dq_forward(const dq_model *m, const float *x0, int64_t rows, float *y)
{
    int64_t K0 = m->layers[0].K;
    float *x = malloc((size_t)(rows * K0) * sizeof *x);
    assert_non_null(x);
    memcpy(x, x0, (size_t)(rows * K0) * sizeof *x);
    for (int li = 0; li < m->n_layers; li++) {
        const dq_layer *l = &m->layers[li];
        int64_t K = l->K, N = l->N, n = rows * K;
        float mn = 0.0f, mx = 0.0f;
        for (int64_t i = 0; i < n; i++) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        float s = (mx - mn) / 255.0f;
        int64_t zp = 0;
        if (s > 0.0f) {
            float zf = 0.0f - mn / s;
            zf = zf < 0.0f ? 0.0f : zf > 255.0f ? 255.0f : zf;
            zp = (int64_t)rintf(zf);
        }
        int64_t *q = malloc((size_t)n * sizeof *q);
        float *o = malloc((size_t)(rows * N) * sizeof *o);
        assert_true(q && o);
        for (int64_t i = 0; i < n; i++) {
            double v = s > 0.0f ? (double)rintf(x[i] / s) + (double)zp : (double)zp;
            q[i] = v < 0 ? 0 : v > 255 ? 255 : (int64_t)v;
        }
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < N; j++) {
                int64_t acc = 0, za = l->zx ? zp : 0, zb = l->zw ? l->wz[l->zw == 2 ? j : 0] : 0;
                for (int64_t k = 0; k < K; k++)
                    acc += (q[r * K + k] - za) * (l->w[k * N + j] - zb);
                float f = (float)acc, wsj = l->ws[l->ws_col ? j : 0], v;
                if (l->form == DQ_PRODUCT) {
                    float sw = s * wsj;
                    v = f * sw;
                } else if (l->form == DQ_X_THEN_W) {
                    v = f * s;
                    v = v * wsj;
                } else {
                    v = f * wsj;
                    v = v * s;
                }
                if (l->bias)
                    v = v + l->b[j];
                if (l->relu)
                    v = v > 0.0f ? v : 0.0f;
                o[r * N + j] = v;
            }
        free(q), free(x);
        x = o;
    }
    memcpy(y, x, (size_t)(rows * m->layers[m->n_layers - 1].N) * sizeof *y);
    free(x);
}

/* ---------------------------------------------------------------- running */

static int dq_count_op(const ref_session *s, const char *op_type)
{
    int n = 0;
    for (int i = 0; i < s->n_nodes; i++)
        n += !s->nodes[i].folded && strcmp(s->nodes[i].op_type, op_type) == 0;
    return n;
}

static void *dq_open(const char *path, int fuse, int threads)
{
    eb_option opt = {"qdq_fuse", fuse ? "1" : "0"};
    eb_model mo = {.path = path, .format = "onnx"};
    eb_config c = {.threads = threads, .batch = 1, .cores = "all", .options = &opt,
                   .n_options = 1};
    void *s = NULL;
    eb_err err = {0};
    if (eb_backend_ref.open(&mo, &c, &s, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    return s;
}

static void dq_run(void *s, const dq_model *m, const float *x, size_t nx, float *y, size_t ny)
{
    eb_tensor in = {0}, out[2] = {{0}, {0}};
    eb_io io;
    eb_backend_ref.io(s, &io);
    in = io.inputs[0];
    assert_int_equal(eb_tensor_numel(&in), nx);
    in.data = (void *)x;
    float sc = 0.0f;
    out[0] = io.outputs[0];
    assert_int_equal(eb_tensor_numel(&out[0]), ny);
    out[0].data = y;
    if (m->expose_scale) {
        out[1] = io.outputs[1];
        out[1].data = &sc;
    }
    eb_err err = {0};
    if (eb_backend_ref.run(s, &in, 1, out, m->expose_scale ? 2 : 1, &err) != 0)
        fail_msg("run: %s", err.msg);
}

/* The inputs every model sees: random, zeros, all negative, ties of x / scale (scale 1, then
 * scale 2 with the zero point itself a tie, 127.5), and large values. */
static void dq_input(int kind, float *x, size_t n, uint32_t *st)
{
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: x[i] = dq_unif(st, -1.0f, 3.0f); break;
        case 1: x[i] = 0.0f; break;
        case 2: x[i] = dq_unif(st, -2.0f, -0.1f); break;
        case 3: x[i] = i == 0 ? 255.0f : (float)(i % 255) + 0.5f; break;
        case 4: x[i] = i == 0 ? -255.0f : i == 1 ? 255.0f : (float)(2 * (int)(i % 127) - 125); break;
        default: x[i] = dq_unif(st, -3e6f, 1e6f); break;
        }
    }
}

/* Fused (on the kernels of `isa`, 1 and 2 threads) = unfused = dq_forward, bit for bit, on
 * every input kind; n_fused chains expected to fuse. */
static void dq_check(dq_model *m, uint32_t seed, int n_fused)
{
    uint32_t st = seed;
    for (int i = 0; i < m->n_layers; i++)
        dq_fill(&m->layers[i], &st);
    char *path = dq_write(m);
    size_t nx = 1;
    for (int d = 0; d < m->ndim; d++)
        nx *= (size_t)m->shape[d];
    int64_t rows = (int64_t)nx / m->layers[0].K;
    size_t ny = (size_t)(rows * m->layers[m->n_layers - 1].N);
    float *x = malloc(nx * sizeof *x), *want = malloc(ny * sizeof *want);
    float *y0 = malloc(ny * sizeof *y0), *y1 = malloc(ny * sizeof *y1);
    assert_true(x && want && y0 && y1);
    void *off = dq_open(path, 0, 1);
    assert_int_equal(ref_qdq_nodes(off), 0);
    static const char *isas[] = {NULL, "avx2", "portable"};
    for (size_t ii = 0; ii < sizeof isas / sizeof isas[0]; ii++) {
        if (isas[ii])
            setenv("EDGEBENCH_REF_ISA", isas[ii], 1);
        for (int threads = 1; threads <= 2; threads++) {
            ref_session *on = dq_open(path, 1, threads);
            assert_int_equal(dq_count_op(on, "MatMulInteger[dyn]"), n_fused);
            assert_int_equal(dq_count_op(on, "MatMulInteger"), m->n_layers - n_fused);
            for (int kind = 0; kind < 6; kind++) {
                dq_input(kind, x, nx, &st);
                dq_forward(m, x, rows, want);
                dq_run(on, m, x, nx, y1, ny);
                dq_run(off, m, x, nx, y0, ny);
                for (size_t i = 0; i < ny; i++)
                    if (memcmp(&y0[i], &want[i], 4) || memcmp(&y1[i], &want[i], 4))
                        fail_msg("isa %s, %d threads, input kind %d, y[%zu]: unfused %.9g, "
                                 "fused %.9g, definition %.9g",
                                 isas[ii] ? isas[ii] : "best", threads, kind, i, (double)y0[i],
                                 (double)y1[i], (double)want[i]);
            }
            eb_backend_ref.close(on);
        }
        unsetenv("EDGEBENCH_REF_ISA");
    }
    eb_backend_ref.close(off);
    unlink(path);
    free(path), free(x), free(want), free(y0), free(y1);
    dq_free_layers(m);
}

/* ---------------------------------------------------------------- tests */

/* PyTorch's export (models/mlp_int8_dyn.onnx in small): Flatten, then per Linear the
 * product of the scales, bias, Relu but on the last; one row: the matrix-vector kernel. */
static void test_dyn_pytorch_mlp(void **state)
{
    (void)state;
    dq_layer l[3] = {
        {.K = 196, .N = 64, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .relu = 1, .zx = 1},
        {.K = 64, .N = 32, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .relu = 1, .zx = 1},
        {.K = 32, .N = 10, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .zx = 1},
    };
    dq_model m = {.n_layers = 3, .layers = l, .ndim = 3, .shape = {1, 1, 196}, .flatten = 1};
    dq_check(&m, 1, 3);
    /* the Flatten and every DynamicQuantizeLinear, Cast, Mul, Add and Relu are gone */
    dq_layer one = {.K = 20, .N = 8, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .relu = 1, .zx = 1};
    dq_model m1 = {.n_layers = 1, .layers = &one, .ndim = 3, .shape = {1, 1, 20}, .flatten = 1};
    uint32_t st = 5;
    dq_fill(&one, &st);
    char *path = dq_write(&m1);
    ref_session *s = dq_open(path, 1, 1);
    for (int i = 0; i < s->n_nodes; i++)
        if (!s->nodes[i].folded)
            assert_string_equal(s->nodes[i].op_type, "MatMulInteger[dyn]");
    assert_int_equal(ref_qdq_nodes(s), 1);
    eb_backend_ref.close(s);
    unlink(path);
    free(path);
    dq_free_layers(&m1);
}

/* Per-column scales and zero points, the two-Mul forms, swapped operands, no bias, no Relu,
 * K and N off every kernel's tile (K % 4 != 0, N % 16 != 0), M large enough to split over
 * 2 threads. */
static void test_dyn_forms(void **state)
{
    (void)state;
    dq_layer a[2] = {
        {.K = 37, .N = 100, .zw = 2, .ws_col = 1, .form = DQ_X_THEN_W, .bias = 1, .relu = 1,
         .zx = 1, .swap = 1},
        {.K = 100, .N = 19, .zw = 2, .ws_col = 1, .form = DQ_W_THEN_X, .zx = 1},
    };
    dq_model ma = {.n_layers = 2, .layers = a, .ndim = 2, .shape = {1, 37}};
    dq_check(&ma, 2, 2);
    dq_layer b[2] = {
        {.K = 50, .N = 33, .zw = 0, .ws_col = 1, .form = DQ_W_THEN_X, .relu = 1, .zx = 1,
         .swap = 1},
        {.K = 33, .N = 7, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .zx = 0, .swap = 1},
    };
    dq_model mb = {.n_layers = 2, .layers = b, .ndim = 2, .shape = {1, 50}};
    dq_check(&mb, 3, 2);
}

/* uint8 weights around a zero point (ONNX Runtime's asymmetric option), several rows: the
 * GEMM kernels and one scale for the whole tensor, not per row; a 3-D input. */
static void test_dyn_rows_uint8(void **state)
{
    (void)state;
    dq_layer a[2] = {
        {.K = 64, .N = 33, .w_uint8 = 1, .zw = 1, .form = DQ_W_THEN_X, .relu = 1, .zx = 1},
        {.K = 33, .N = 20, .w_uint8 = 1, .zw = 2, .ws_col = 1, .form = DQ_PRODUCT, .bias = 1,
         .zx = 1},
    };
    dq_model ma = {.n_layers = 2, .layers = a, .ndim = 2, .shape = {3, 64}};
    dq_check(&ma, 4, 2);
    dq_layer b = {.K = 20, .N = 17, .zw = 2, .ws_col = 1, .form = DQ_X_THEN_W, .bias = 1,
                  .zx = 1};
    dq_model mb = {.n_layers = 1, .layers = &b, .ndim = 3, .shape = {2, 3, 20}};
    dq_check(&mb, 6, 1);
}

/* Saturated sums: K = 4096, weights at the ends of int8 and x at the ends of uint8 (the
 * large input kind puts most of x at 0 or 255). */
static void test_dyn_extremes(void **state)
{
    (void)state;
    dq_layer l = {.K = 4096, .N = 24, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .zx = 1};
    dq_model m = {.n_layers = 1, .layers = &l, .ndim = 2, .shape = {1, 4096}};
    uint32_t st = 7;
    dq_fill(&l, &st);
    l.wz[0] = 0;
    for (int64_t i = 0; i < l.K * l.N; i++)
        l.w[i] = i % 3 ? -128 : 127;
    char *path = dq_write(&m);
    float *x = malloc(4096 * sizeof *x), want[24], y0[24], y1[24];
    assert_non_null(x);
    void *off = dq_open(path, 0, 1), *on = dq_open(path, 1, 1);
    assert_int_equal(ref_qdq_nodes(on), 1);
    for (int kind = 0; kind < 6; kind++) {
        dq_input(kind, x, 4096, &st);
        dq_forward(&m, x, 1, want);
        dq_run(on, &m, x, 4096, y1, 24);
        dq_run(off, &m, x, 4096, y0, 24);
        for (int i = 0; i < 24; i++)
            if (memcmp(&y0[i], &want[i], 4) || memcmp(&y1[i], &want[i], 4))
                fail_msg("input kind %d, y[%d]: unfused %.9g, fused %.9g, definition %.9g", kind,
                         i, (double)y0[i], (double)y1[i], (double)want[i]);
    }
    eb_backend_ref.close(on), eb_backend_ref.close(off);
    unlink(path);
    free(path), free(x);
    dq_free_layers(&m);
}

/* Left to the operators: uint8 weights with no zero point (w up to 255, outside int8); and a
 * DynamicQuantizeLinear whose scale is also a graph output keeps running beside the fused
 * node. */
static void test_dyn_not_fused(void **state)
{
    (void)state;
    dq_layer a = {.K = 24, .N = 9, .w_uint8 = 1, .zw = 0, .wide = 1, .form = DQ_PRODUCT,
                  .bias = 1, .zx = 1};
    dq_model ma = {.n_layers = 1, .layers = &a, .ndim = 2, .shape = {1, 24}};
    dq_check(&ma, 8, 0);
    dq_layer b = {.K = 24, .N = 9, .zw = 1, .form = DQ_PRODUCT, .bias = 1, .relu = 1, .zx = 1};
    dq_model mb = {.n_layers = 1, .layers = &b, .ndim = 2, .shape = {1, 24}, .expose_scale = 1};
    dq_check(&mb, 9, 1);
    uint32_t st = 9;
    dq_fill(&b, &st);
    char *path = dq_write(&mb);
    ref_session *s = dq_open(path, 1, 1);
    assert_int_equal(dq_count_op(s, "DynamicQuantizeLinear"), 1);
    assert_int_equal(dq_count_op(s, "Cast"), 0);
    eb_backend_ref.close(s);
    unlink(path);
    free(path);
    dq_free_layers(&mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dyn_pytorch_mlp), cmocka_unit_test(test_dyn_forms),
        cmocka_unit_test(test_dyn_rows_uint8),  cmocka_unit_test(test_dyn_extremes),
        cmocka_unit_test(test_dyn_not_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
