/* LayerNorm as PyTorch exports it below opset 17: nine nodes per normalization,
 *
 *   m = ReduceMean(x, last axis, keepdims)   d = Sub(x, m)      p = Pow(d, 2) or Mul(d, d)
 *   v = ReduceMean(p, last axis, keepdims)   e = Add(v, eps)    s = Sqrt(e)
 *   n = Div(d, s)                             o = Mul(n, gamma)  y = Add(o, beta)
 *
 * each a pass over the tensor and a node's fixed cost (the encoder's five LayerNorms were 45 of
 * its ~110 nodes).  Matched at open, after shapes are known, the last Add becomes one
 * LayerNormalization node (ops_norm.c's kernel, epsilon from the Add's constant) reading x,
 * gamma and beta; the eight others are marked fused (never run, not planned).  Only the exact
 * chain is taken: every intermediate read once (d twice), none a graph output, eps/gamma/beta
 * constants of the right shapes, the reductions over exactly the last axis.  ONNX Runtime's
 * LayerNormFusion does the same. */
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

typedef struct lnf_ctx {
    ref_session *s;
    int *uses;     /* per value: reads by nodes that run, +1 for a graph output */
    int *producer; /* per value: the node writing it (non-folded), or -1 */
} lnf_ctx;

/* The running node producing value v with op `op`, or NULL. */
static ref_node *lnf_prod(const lnf_ctx *c, int v, ref_op op)
{
    if (v < 0 || c->producer[v] < 0)
        return NULL;
    ref_node *nd = &c->s->nodes[c->producer[v]];
    return nd->op == op && !nd->prep && nd->n_out >= 1 && nd->out[0] == v ? nd : NULL;
}

static int lnf_static_f32(const ref_session *s, int v)
{
    return v >= 0 && ref_is_static(&s->vals[v]) && s->vals[v].dtype == EB_F32 &&
           s->vals[v].data;
}

/* A ReduceMean over exactly the last axis with keepdims, of value x. */
static int lnf_mean_last(const lnf_ctx *c, const ref_node *r, int x)
{
    const ref_value *xv = &c->s->vals[x], *yv = &c->s->vals[r->out[0]];
    return r->in[0] == x && r->n_out == 1 && r->mode == 0 && r->mode2 == 1 && xv->ndim >= 1 &&
           r->len == xv->shape[xv->ndim - 1] && yv->ndim == xv->ndim && xv->dtype == EB_F32;
}

/* gamma/beta: a constant of C elements laid along the last axis (shape [.., 1, C]). */
static int lnf_affine(const ref_session *s, int v, int64_t c)
{
    if (!lnf_static_f32(s, v))
        return 0;
    const ref_value *p = &s->vals[v];
    return p->ndim >= 1 && p->shape[p->ndim - 1] == c && p->numel == (size_t)c;
}

static int lnf_add_attr(ref_node *nd, const char *name, int type, int64_t i, float f)
{
    ref_attr *a = realloc(nd->attrs, (size_t)(nd->n_attrs + 1) * sizeof *a);
    if (!a)
        return -1;
    nd->attrs = a;
    a = &nd->attrs[nd->n_attrs];
    memset(a, 0, sizeof *a);
    if (!(a->name = strdup(name)))
        return -1;
    a->type = type, a->i = i, a->f = f;
    nd->n_attrs++;
    return 0;
}

/* Tries the chain ending at node `last` (an Add); 1 when fused, 0 when not, -1 on error. */
static int lnf_try(lnf_ctx *c, int last, eb_err *err)
{
    ref_session *s = c->s;
    ref_node *add2 = &s->nodes[last];
    if (add2->op != REF_OP_ADD || add2->prep || add2->n_in != 2 || add2->n_out != 1)
        return 0;
    ref_node *mul = NULL, *div = NULL, *sq = NULL, *add1 = NULL, *rv = NULL, *pw = NULL;
    ref_node *sub = NULL, *rm = NULL;
    int beta = -1, gamma = -1;
    for (int k = 0; k < 2 && !mul; k++)
        if ((mul = lnf_prod(c, add2->in[k], REF_OP_MUL)))
            beta = add2->in[1 - k];
    if (!mul || c->uses[mul->out[0]] != 1)
        return 0;
    for (int k = 0; k < 2 && !div; k++)
        if ((div = lnf_prod(c, mul->in[k], REF_OP_DIV)))
            gamma = mul->in[1 - k];
    if (!div || c->uses[div->out[0]] != 1 || div->n_in != 2)
        return 0;
    int d = div->in[0];
    if (!(sq = lnf_prod(c, div->in[1], REF_OP_SQRT)) || c->uses[sq->out[0]] != 1 ||
        !(add1 = lnf_prod(c, sq->in[0], REF_OP_ADD)) || c->uses[add1->out[0]] != 1)
        return 0;
    int eps_v = -1;
    for (int k = 0; k < 2 && !rv; k++)
        if ((rv = lnf_prod(c, add1->in[k], REF_OP_REDUCEMEAN)))
            eps_v = add1->in[1 - k];
    if (!rv || c->uses[rv->out[0]] != 1 || !lnf_static_f32(s, eps_v) || s->vals[eps_v].numel != 1)
        return 0;
    int p = rv->in[0];
    if (c->uses[p] != 1)
        return 0;
    if ((pw = lnf_prod(c, p, REF_OP_POW))) {
        if (pw->n_in != 2 || pw->in[0] != d || !lnf_static_f32(s, pw->in[1]) ||
            s->vals[pw->in[1]].numel != 1 || *(const float *)s->vals[pw->in[1]].data != 2.0f)
            return 0;
    } else if ((pw = lnf_prod(c, p, REF_OP_MUL))) {
        if (pw->n_in != 2 || pw->in[0] != d || pw->in[1] != d)
            return 0;
    } else {
        return 0;
    }
    /* d read by the square and the Div only (Mul(d, d) counts twice) */
    if (c->uses[d] != (pw->op == REF_OP_MUL ? 3 : 2))
        return 0;
    if (!(sub = lnf_prod(c, d, REF_OP_SUB)) || sub->n_in != 2)
        return 0;
    int x = sub->in[0];
    if (!(rm = lnf_prod(c, sub->in[1], REF_OP_REDUCEMEAN)) || c->uses[rm->out[0]] != 1 ||
        !lnf_mean_last(c, rm, x) || !lnf_mean_last(c, rv, p))
        return 0;
    const ref_value *xv = &s->vals[x], *yv = &s->vals[add2->out[0]];
    int64_t ch = xv->shape[xv->ndim - 1];
    if (xv->dtype != EB_F32 || yv->numel != xv->numel || yv->ndim != xv->ndim ||
        !lnf_affine(s, gamma, ch) || !lnf_affine(s, beta, ch))
        return 0;
    for (int k = 0; k < xv->ndim; k++)
        if (yv->shape[k] != xv->shape[k])
            return 0;
    /* rewrite: the last Add becomes LayerNormalization(x, gamma, beta) */
    float eps = *(const float *)s->vals[eps_v].data;
    int *in = malloc(3 * sizeof *in);
    char *name = strdup("LayerNormalization");
    if (!in || !name) {
        free(in), free(name);
        return eb_errf(err, "out of memory fusing LayerNorm");
    }
    in[0] = x, in[1] = gamma, in[2] = beta;
    free(add2->in), free(add2->op_type);
    add2->in = in, add2->n_in = 3, add2->op_type = name;
    add2->op = REF_OP_LAYERNORM;
    if (lnf_add_attr(add2, "epsilon", 1, 0, eps) != 0 || lnf_add_attr(add2, "axis", 2, -1, 0) != 0)
        return eb_errf(err, "out of memory fusing LayerNorm");
    if (ref_infer_norm(s, add2, err) != 0)
        return -1;
    ref_node *gone[8] = {rm, sub, pw, rv, add1, sq, div, mul};
    for (int k = 0; k < 8; k++) {
        gone[k]->fused = gone[k]->folded = 1;
        c->producer[gone[k]->out[0]] = -1;
        s->vals[gone[k]->out[0]].producer = -1;
    }
    return 1;
}

int ref_fuse_layernorm(ref_session *s, eb_err *err)
{
    lnf_ctx c = {s, calloc((size_t)s->n_vals + 1, sizeof(int)),
                 malloc(((size_t)s->n_vals + 1) * sizeof(int))};
    if (!c.uses || !c.producer) {
        free(c.uses), free(c.producer);
        return eb_errf(err, "out of memory");
    }
    for (int v = 0; v < s->n_vals; v++)
        c.producer[v] = -1;
    for (int i = 0; i < s->n_nodes; i++) {
        const ref_node *nd = &s->nodes[i];
        if (nd->folded)
            continue;
        for (int j = 0; j < nd->n_in; j++)
            if (nd->in[j] >= 0)
                c.uses[nd->in[j]]++;
        for (int j = 0; j < nd->n_out; j++)
            if (nd->out[j] >= 0)
                c.producer[nd->out[j]] = i;
    }
    for (int v = 0; v < s->n_vals; v++)
        if (s->vals[v].is_output)
            c.uses[v]++;
    int rc = 0;
    for (int i = 0; i < s->n_nodes && rc >= 0; i++)
        if (!s->nodes[i].folded)
            rc = lnf_try(&c, i, err);
    free(c.uses), free(c.producer);
    return rc < 0 ? -1 : 0;
}
