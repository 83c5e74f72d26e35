/* Open-time rewrites for speed, run once between shape inference and planning:
 *
 *   Conv -> BatchNormalization   when the Conv's output feeds only the BN, the BN's affine
 *                                map y = x * s + t (s = gamma / sqrt(var + eps),
 *                                t = beta - mean * s, per channel) is folded into the Conv's
 *                                packed weights and bias; the BN disappears.
 *   Conv/Gemm -> Relu or Clip    when the producer's output feeds only the activation, it is
 *                                applied in the GEMM's (or depthwise kernel's) epilogue.
 *   MatMul -> Add                a MatMul with a constant 2-D B is packed at open; an Add of
 *                                a constant [N] vector after it becomes the column bias.
 *
 * The initializers themselves are never modified (they may be shared, and facts count them
 * as the file has them): the folded weights live only in the node's packed copy.  A node
 * merged away gets fused = folded = 1, so every pass that skips folded nodes skips it, and
 * its output value is written directly by the producer.  Also here: the thread pool and the
 * "profile" option, which belong to the same open-time step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"
#include "threadpool.h"

static int fold_static(const ref_value *v)
{
    return (v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC) && v->dtype == EB_F32 &&
           v->data;
}

/* The producer now writes the consumer's output; the consumer never runs. */
static void fold_merge(ref_session *s, ref_node *prod, int prod_index, ref_node *cons)
{
    int old = prod->out[0], now = cons->out[0];
    prod->out[0] = now;
    s->vals[now].producer = prod_index;
    /* The producer's old output is now written by no one and read by no one: it leaves the
     * arena (kind STATIC without data, so plans and checks over run-time values skip it). */
    s->vals[old].producer = -1;
    s->vals[old].kind = REF_VAL_STATIC;
    s->vals[old].data = NULL;
    cons->fused = cons->folded = 1;
}

/* The only node reading value v, or -1 when it has several readers or is a graph output. */
static int fold_sole_consumer(const ref_session *s, const int *uses, const int *reader, int v)
{
    return uses[v] == 1 && !s->vals[v].is_output ? reader[v] : -1;
}

/* BN's per-channel scale and shift when node b can fold into a Conv of m channels. */
static int fold_bn_params(const ref_session *s, const ref_node *b, int64_t m, float *scale,
                          float *shift)
{
    if (b->op != REF_OP_BATCHNORM || b->n_in < 5 || b->len != m)
        return 0;
    for (int j = 1; j < b->n_out; j++)
        if (b->out[j] >= 0)
            return 0; /* training-mode outputs */
    const ref_value *v[4];
    for (int j = 0; j < 4; j++) {
        if (b->in[1 + j] < 0)
            return 0;
        v[j] = &s->vals[b->in[1 + j]];
        if (!fold_static(v[j]) || (int64_t)v[j]->numel != m)
            return 0;
    }
    const float *g = v[0]->data, *bb = v[1]->data, *mean = v[2]->data, *var = v[3]->data;
    for (int64_t c = 0; c < m; c++) {
        double sc = (double)g[c] / sqrt((double)var[c] + (double)b->a.epsilon);
        scale[c] = (float)sc;
        shift[c] = (float)((double)bb[c] - (double)mean[c] * sc);
    }
    return 1;
}

/* Relu, or Clip with constant bounds given as inputs (opset 11+); 0 when not fusable. */
static int fold_act(const ref_session *s, const ref_node *a, eb_ref_act *act, float *lo,
                    float *hi)
{
    if (a->op == REF_OP_RELU) {
        *act = EB_REF_ACT_RELU;
        return 1;
    }
    if (strcmp(a->op_type, "Clip") != 0 || a->n_in < 1 || a->n_in > 3)
        return 0;
    if (s->opset < 11 && a->n_in == 1)
        return 0; /* bounds in attributes (opset 6-10): left to the Clip kernel */
    float b[2] = {-INFINITY, INFINITY};
    for (int j = 1; j < a->n_in; j++) {
        if (a->in[j] < 0)
            continue;
        const ref_value *v = &s->vals[a->in[j]];
        if (!fold_static(v) || v->numel != 1)
            return 0;
        b[j - 1] = ((const float *)v->data)[0];
    }
    *act = EB_REF_ACT_CLIP;
    *lo = b[0], *hi = b[1];
    return 1;
}

/* MatMul -> Add of a constant [N] (or [1, N], ...) vector: the Add becomes the GEMM's
 * column bias (nd->prep->bias), when the Add's output has the MatMul's shape.  1 when folded
 * (bias set), 0 when not foldable, -1 out of memory. */
static int fold_bias_add(const ref_session *s, ref_node *nd, const ref_node *add, eb_err *err)
{
    if (add->op != REF_OP_ADD || add->n_in != 2 || add->out[0] < 0)
        return 0;
    int other = add->in[0] == nd->out[0] ? add->in[1] : add->in[0];
    if (other < 0 || other == nd->out[0])
        return 0;
    const ref_value *bv = &s->vals[other], *mv = &s->vals[nd->out[0]],
                    *yv = &s->vals[add->out[0]];
    if (!fold_static(bv) || (int64_t)bv->numel != nd->n || bv->ndim < 1 ||
        bv->shape[bv->ndim - 1] != nd->n || yv->ndim != mv->ndim || yv->numel != mv->numel)
        return 0;
    for (int d = 0; d < mv->ndim; d++)
        if (yv->shape[d] != mv->shape[d])
            return 0;
    nd->prep->bias = malloc((size_t)(nd->n + 1) * sizeof(float));
    if (!nd->prep->bias)
        return eb_errf(err, "out of memory preparing kernels");
    memcpy(nd->prep->bias, bv->data, (size_t)nd->n * sizeof(float));
    return 1;
}

static int fold_read_bool(const eb_config *c, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; c && c->options && i < c->n_options; i++)
        if (c->options[i].key && strcmp(c->options[i].key, key) == 0)
            v = c->options[i].value; /* the last one wins, as everywhere */
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
                 strcmp(v, "on") == 0);
}

int ref_prepare(ref_session *s, const eb_config *config, eb_err *err)
{
    int n = s->n_nodes, rc = -1;
    s->isa = eb_ref_isa_pick();
    s->kernel = eb_ref_ukernel_for(s->isa, NULL);
    int *uses = calloc((size_t)s->n_vals + 1, sizeof *uses);
    int *reader = calloc((size_t)s->n_vals + 1, sizeof *reader);
    float *scale = NULL, *shift = NULL;
    if (!uses || !reader) {
        eb_errf(err, "out of memory preparing kernels");
        goto done;
    }
    /* issue 4: integer (QDQ) and sparse kernels take their nodes first, rewiring the graph,
     * so the counts below see the result */
    if (ref_qdq_fuse(s, config, err) != 0 || ref_sparse_prepare(s, config, err) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] >= 0) {
                uses[nd->in[j]]++;
                reader[nd->in[j]] = i;
            }
    }
    for (int i = 0; i < n; i++) {
        ref_node *nd = &s->nodes[i];
        if (nd->folded || nd->n_out < 1 || nd->out[0] < 0)
            continue;
        if (nd->prep) {
            if (nd->prep->kind == REF_PREP_QDQ)
                continue; /* writes integers: no float activation to merge */
        } else if (nd->op == REF_OP_CONV) {
            int64_t m = nd->conv.m;
            int bn = fold_sole_consumer(s, uses, reader, nd->out[0]);
            int fold = 0;
            if (bn >= 0) {
                free(scale), free(shift);
                scale = malloc((size_t)(m + 1) * sizeof *scale);
                shift = malloc((size_t)(m + 1) * sizeof *shift);
                if (!scale || !shift) {
                    eb_errf(err, "out of memory preparing kernels");
                    goto done;
                }
                fold = fold_bn_params(s, &s->nodes[bn], m, scale, shift);
            }
            if (ref_conv_prepare(s, nd, fold ? scale : NULL, fold ? shift : NULL, err) != 0)
                goto done;
            if (nd->prep && fold)
                fold_merge(s, nd, i, &s->nodes[bn]);
        } else if (nd->op == REF_OP_GEMM) {
            if (ref_gemm_prepare(s, nd, err) != 0)
                goto done;
        } else if (nd->op == REF_OP_MATMUL) {
            if (ref_matmul_prepare(s, nd, err) != 0)
                goto done;
            int a = nd->prep ? fold_sole_consumer(s, uses, reader, nd->out[0]) : -1;
            if (a >= 0 && fold_bias_add(s, nd, &s->nodes[a], err) < 0)
                goto done;
            if (a >= 0 && nd->prep->bias)
                fold_merge(s, nd, i, &s->nodes[a]);
        }
        if (!nd->prep)
            continue;
        int a = fold_sole_consumer(s, uses, reader, nd->out[0]);
        if (a >= 0 && fold_act(s, &s->nodes[a], &nd->prep->act, &nd->prep->lo, &nd->prep->hi))
            fold_merge(s, nd, i, &s->nodes[a]);
    }
    s->profiling = fold_read_bool(config, "profile");
    if (s->profiling && !(s->prof_ns = calloc((size_t)n + 1, sizeof *s->prof_ns))) {
        eb_errf(err, "out of memory for the profiler");
        goto done;
    }
    int threads = config && config->threads > 1 ? config->threads : 1;
    /* One thread needs no pool: the process binding the harness set applies as is. */
    if (threads > 1 && eb_ref_pool_create(threads, 1, &s->pool, err) != 0)
        goto done;
    rc = 0;
done:
    free(uses), free(reader), free(scale), free(shift);
    return rc;
}

void ref_prep_exec(ref_session *s, const ref_node *nd)
{
    if (nd->prep->kind == REF_PREP_QDQ)
        ref_qdq_exec(s, nd);
    else if (nd->prep->kind == REF_PREP_SPARSE)
        ref_sparse_exec(s, nd);
    else if (nd->prep->kind == REF_PREP_GEMM)
        ref_gemm_exec(s, nd);
    else if (nd->prep->kind == REF_PREP_MATMUL)
        ref_matmul_exec(s, nd);
    else
        ref_conv_exec(s, nd);
}

void ref_prepare_free(ref_session *s)
{
    for (int i = 0; i < s->n_nodes; i++) {
        ref_prep *p = s->nodes[i].prep;
        if (p && p->ext_free)
            p->ext_free(p->ext);
        if (p)
            free(p->packed), free(p->bias), free(p);
        s->nodes[i].prep = NULL;
    }
    free(s->prof_ns);
    s->prof_ns = NULL;
    eb_ref_pool_destroy(s->pool);
    s->pool = NULL;
}
