/* The recurrent family: RNN, GRU and LSTM (opsets 7-14), forward, reverse and bidirectional,
 * layout 0 ([seq, batch, ...]) and 1 ([batch, seq, ...]), every activation ONNX lists, clip,
 * GRU's linear_before_reset, LSTM's peepholes and input_forget, optional initial states and
 * any optional output omitted.  sequence_lens may be computed at run time: a batch entry
 * shorter than the sequence stops early (its Y rows past the end are zero, its final state is
 * the one at its last step; reverse runs from its own last step), as ONNX Runtime does.
 *
 * Plan (at open, in nd->aux): the sizes, each direction's activations, and scratch for the
 * input projection of every step (one GEMM per direction: X * W^T for all steps at once), the
 * recurrent projection of one step, and the running h and c.  Per step, h * R^T is one GEMM
 * over the batch; the gates are then elementwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)

typedef enum rnn_fn {
    RNN_RELU, RNN_TANH, RNN_SIGMOID, RNN_AFFINE, RNN_LEAKYRELU, RNN_THRESHOLDEDRELU,
    RNN_SCALEDTANH, RNN_HARDSIGMOID, RNN_ELU, RNN_SOFTSIGN, RNN_SOFTPLUS,
} rnn_fn;

typedef struct rnn_act {
    rnn_fn fn;
    float alpha, beta;
} rnn_act;

typedef struct rnn_plan {
    int kind;              /* 0 RNN, 1 GRU, 2 LSTM */
    int64_t seq, batch, in, hid, ndir, gates;
    int layout, reverse_only, lbr, input_forget, has_clip;
    float clip;
    rnn_act act[2][3];     /* per direction: f (, g (, h)) */
    float *xw;             /* [seq*batch, gates*hid]: X * W^T, rows in X's order */
    float *hr;             /* [batch, gates*hid]: h * R^T for one step */
    float *h, *c, *rh;     /* [batch, hid] each */
    int64_t *len;          /* [batch] */
} rnn_plan;

static const struct {
    const char *name;
    rnn_fn fn;
    int n_params; /* alpha, beta consumed from the attribute lists, in order */
    float alpha, beta;
} rnn_fns[] = {
    {"Relu", RNN_RELU, 0, 0, 0},
    {"Tanh", RNN_TANH, 0, 0, 0},
    {"Sigmoid", RNN_SIGMOID, 0, 0, 0},
    {"Affine", RNN_AFFINE, 2, 1.0f, 0.0f},
    {"LeakyRelu", RNN_LEAKYRELU, 1, 0.01f, 0},
    {"ThresholdedRelu", RNN_THRESHOLDEDRELU, 1, 1.0f, 0},
    {"ScaledTanh", RNN_SCALEDTANH, 2, 1.0f, 1.0f},
    {"HardSigmoid", RNN_HARDSIGMOID, 2, 0.2f, 0.5f},
    {"Elu", RNN_ELU, 1, 1.0f, 0},
    {"Softsign", RNN_SOFTSIGN, 0, 0, 0},
    {"Softplus", RNN_SOFTPLUS, 0, 0, 0},
};

static float rnn_apply(const rnn_act *a, float x)
{
    switch (a->fn) {
    case RNN_RELU: return x > 0 ? x : 0;
    case RNN_TANH: return tanhf(x);
    case RNN_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case RNN_AFFINE: return a->alpha * x + a->beta;
    case RNN_LEAKYRELU: return x >= 0 ? x : a->alpha * x;
    case RNN_THRESHOLDEDRELU: return x > a->alpha ? x : 0;
    case RNN_SCALEDTANH: return a->alpha * tanhf(a->beta * x);
    case RNN_HARDSIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case RNN_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1.0f);
    case RNN_SOFTSIGN: return x / (1.0f + fabsf(x));
    case RNN_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    }
    return x;
}

/* Reads `activations` (with activation_alpha/beta consumed in order by the functions that
 * take them) into p->act, or the operator's defaults. */
static int rnn_acts(ref_node *nd, rnn_plan *p, eb_err *err)
{
    static const rnn_fn defaults[3][3] = {
        {RNN_TANH}, {RNN_SIGMOID, RNN_TANH}, {RNN_SIGMOID, RNN_TANH, RNN_TANH}};
    int per = p->kind + 1;
    const ref_attr *names = ref_attr_get(nd, "activations");
    const ref_attr *al = ref_attr_get(nd, "activation_alpha");
    const ref_attr *be = ref_attr_get(nd, "activation_beta");
    int ia = 0, ib = 0;
    for (int d = 0; d < p->ndir; d++)
        for (int k = 0; k < per; k++) {
            rnn_act *a = &p->act[d][k];
            a->fn = defaults[p->kind][k];
            if (!names || names->type != 8)
                continue;
            /* one list for all directions; a single direction's list serves both */
            int idx = d * per + k;
            if (idx >= names->n)
                idx = k;
            if (idx >= names->n)
                FAIL("activations lists %d functions; %s needs %d per direction", names->n,
                     nd->op_type, per);
            size_t f;
            for (f = 0; f < sizeof rnn_fns / sizeof rnn_fns[0]; f++)
                if (strcasecmp(names->strs[idx], rnn_fns[f].name) == 0)
                    break;
            if (f == sizeof rnn_fns / sizeof rnn_fns[0])
                FAIL("activation '%.40s' is not supported (Relu, Tanh, Sigmoid, Affine, "
                     "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                     "Softplus)",
                     names->strs[idx]);
            a->fn = rnn_fns[f].fn;
            a->alpha = rnn_fns[f].alpha, a->beta = rnn_fns[f].beta;
            if (rnn_fns[f].n_params >= 1 && al && al->type == 6 && ia < al->n)
                a->alpha = al->floats[ia++];
            if (rnn_fns[f].n_params >= 2 && be && be->type == 6 && ib < be->n)
                a->beta = be->floats[ib++];
        }
    return 0;
}

/* Checks that optional input idx, when given, is float32 of exactly the shape `want`. */
static int rnn_check(ref_session *s, ref_node *nd, int idx, const char *what, int nd_want,
                     const int64_t *want, eb_err *err)
{
    if (idx >= nd->n_in || nd->in[idx] < 0)
        return 0;
    const ref_value *v = &s->vals[nd->in[idx]];
    char b1[128];
    if (v->dtype != EB_F32)
        FAIL("%s '%s' must be float32", what, v->name);
    int ok = v->ndim == nd_want;
    for (int i = 0; ok && i < nd_want; i++)
        ok = v->shape[i] == want[i];
    if (!ok) {
        char b2[128] = "[";
        for (int i = 0; i < nd_want; i++)
            snprintf(b2 + strlen(b2), sizeof b2 - strlen(b2), "%s%lld", i ? "," : "",
                     (long long)want[i]);
        FAIL("%s '%s' is %s, expected %s]", what, v->name, ref_shape_str(v, b1, sizeof b1),
             b2);
    }
    return 0;
}

int ref_infer_rnn(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128];
    if (nd->n_in < 3 || nd->in[0] < 0 || nd->in[1] < 0 || nd->in[2] < 0)
        FAIL("X, W and R are required");
    int max_in = nd->op == REF_OP_LSTM ? 8 : 6;
    if (nd->n_in > max_in)
        FAIL("has %d inputs (at most %d)", nd->n_in, max_in);
    if (nd->n_out > (nd->op == REF_OP_LSTM ? 3 : 2))
        FAIL("has %d outputs (at most %d)", nd->n_out, nd->op == REF_OP_LSTM ? 3 : 2);
    const ref_value *x = &s->vals[nd->in[0]], *w = &s->vals[nd->in[1]], *r = &s->vals[nd->in[2]];
    rnn_plan p = {0};
    p.kind = nd->op == REF_OP_RNN ? 0 : nd->op == REF_OP_GRU ? 1 : 2;
    p.gates = p.kind == 0 ? 1 : p.kind == 1 ? 3 : 4;
    p.layout = (int)ref_attr_i(nd, "layout", 0);
    if (p.layout != 0 && p.layout != 1)
        FAIL("layout %d is not defined (0 or 1)", p.layout);
    const char *dir = ref_attr_s(nd, "direction", "forward");
    if (strcmp(dir, "forward") == 0)
        p.ndir = 1;
    else if (strcmp(dir, "reverse") == 0)
        p.ndir = 1, p.reverse_only = 1;
    else if (strcmp(dir, "bidirectional") == 0)
        p.ndir = 2;
    else
        FAIL("direction '%.40s' is not defined (forward, reverse, bidirectional)", dir);
    if (x->dtype != EB_F32 || w->dtype != EB_F32 || r->dtype != EB_F32)
        FAIL("X, W and R must be float32");
    if (x->ndim != 3 || w->ndim != 3 || r->ndim != 3)
        FAIL("X %s, W and R must be 3-D", ref_shape_str(x, b1, sizeof b1));
    p.seq = x->shape[p.layout ? 1 : 0];
    p.batch = x->shape[p.layout ? 0 : 1];
    p.in = x->shape[2];
    p.hid = ref_attr_i(nd, "hidden_size", w->shape[1] / p.gates);
    if (p.hid < 1 || p.hid > (1 << 24))
        FAIL("hidden_size %lld is out of range", (long long)p.hid);
    int64_t gh = p.gates * p.hid;
    int64_t ws[3] = {p.ndir, gh, p.in}, rs[3] = {p.ndir, gh, p.hid}, bs[2] = {p.ndir, 2 * gh};
    int64_t hs[3] = {p.layout ? p.batch : p.ndir, p.layout ? p.ndir : p.batch, p.hid};
    int64_t ps[2] = {p.ndir, 3 * p.hid};
    if (rnn_check(s, nd, 1, "W", 3, ws, err) || rnn_check(s, nd, 2, "R", 3, rs, err) ||
        rnn_check(s, nd, 3, "B", 2, bs, err) || rnn_check(s, nd, 5, "initial_h", 3, hs, err) ||
        (p.kind == 2 && (rnn_check(s, nd, 6, "initial_c", 3, hs, err) ||
                         rnn_check(s, nd, 7, "P", 2, ps, err))))
        return -1;
    if (nd->n_in > 4 && nd->in[4] >= 0) {
        const ref_value *sl = &s->vals[nd->in[4]];
        if (sl->dtype != EB_I64 || sl->numel != (size_t)p.batch)
            FAIL("sequence_lens '%s' must hold %lld integers", sl->name, (long long)p.batch);
    }
    const ref_attr *clip = ref_attr_get(nd, "clip");
    if (clip) {
        p.has_clip = 1;
        p.clip = clip->f;
    }
    p.lbr = (int)ref_attr_i(nd, "linear_before_reset", 0);
    p.input_forget = (int)ref_attr_i(nd, "input_forget", 0);
    if (rnn_acts(nd, &p, err) != 0)
        return -1;

    /* scratch, one allocation after the plan */
    size_t fl = (size_t)(p.seq * p.batch * gh) + (size_t)(p.batch * gh) + 3 * (size_t)(p.batch * p.hid);
    size_t bytes = sizeof(rnn_plan) + fl * sizeof(float) + (size_t)p.batch * sizeof(int64_t) + 64;
    if (bytes > REF_MAX_BYTES)
        FAIL("needs absurdly large scratch for X %s", ref_shape_str(x, b1, sizeof b1));
    free(nd->aux);
    nd->aux = calloc(1, bytes);
    if (!nd->aux)
        FAIL("out of memory");
    nd->aux_n = bytes;
    rnn_plan *q = nd->aux;
    *q = p;
    q->len = (int64_t *)(q + 1);
    q->xw = (float *)(q->len + p.batch);
    q->hr = q->xw + p.seq * p.batch * gh;
    q->h = q->hr + p.batch * gh;
    q->c = q->h + p.batch * p.hid;
    q->rh = q->c + p.batch * p.hid;
    nd->macs = p.ndir * p.seq * p.batch * gh * (p.in + p.hid);

    int64_t ys[4];
    if (p.layout)
        ys[0] = p.batch, ys[1] = p.seq, ys[2] = p.ndir, ys[3] = p.hid;
    else
        ys[0] = p.seq, ys[1] = p.ndir, ys[2] = p.batch, ys[3] = p.hid;
    if (ref_set_out(s, nd, 0, EB_F32, 4, ys, err) != 0 ||
        ref_set_out(s, nd, 1, EB_F32, 3, hs, err) != 0 ||
        ref_set_out(s, nd, 2, EB_F32, 3, hs, err) != 0)
        return -1;
    return 0;
}

static float rnn_clip(const rnn_plan *p, float v)
{
    if (!p->has_clip)
        return v;
    return v < -p->clip ? -p->clip : v > p->clip ? p->clip : v;
}

/* Offset of state/Y row (direction d, batch b) in layout p->layout; Y adds step t. */
static size_t rnn_state_at(const rnn_plan *p, int64_t d, int64_t b)
{
    return (size_t)((p->layout ? b * p->ndir + d : d * p->batch + b) * p->hid);
}

static size_t rnn_y_at(const rnn_plan *p, int64_t t, int64_t d, int64_t b)
{
    return (size_t)((p->layout ? (b * p->seq + t) * p->ndir + d : (t * p->ndir + d) * p->batch + b) *
                    p->hid);
}

static const float *rnn_in(const ref_session *s, const ref_node *nd, int i)
{
    return i < nd->n_in && nd->in[i] >= 0 ? s->vals[nd->in[i]].data : NULL;
}

static float *rnn_out(const ref_session *s, const ref_node *nd, int i)
{
    return i < nd->n_out && nd->out[i] >= 0 ? s->vals[nd->out[i]].data : NULL;
}

void ref_exec_rnn(ref_session *s, const ref_node *nd)
{
    rnn_plan *p = nd->aux;
    int64_t H = p->hid, gh = p->gates * H, B = p->batch, T = p->seq;
    const float *X = rnn_in(s, nd, 0), *W = rnn_in(s, nd, 1), *R = rnn_in(s, nd, 2);
    const float *Bias = rnn_in(s, nd, 3), *h0 = rnn_in(s, nd, 5);
    const float *c0 = p->kind == 2 ? rnn_in(s, nd, 6) : NULL;
    const float *P = p->kind == 2 ? rnn_in(s, nd, 7) : NULL;
    const int64_t *sl = nd->n_in > 4 && nd->in[4] >= 0 ? s->vals[nd->in[4]].data : NULL;
    float *Y = rnn_out(s, nd, 0), *Yh = rnn_out(s, nd, 1), *Yc = rnn_out(s, nd, 2);
    for (int64_t b = 0; b < B; b++) {
        int64_t l = sl ? sl[b] : T;
        p->len[b] = l < 0 ? 0 : l > T ? T : l;
    }
    if (Y)
        memset(Y, 0, (size_t)(T * p->ndir * B * H) * sizeof *Y);
    for (int64_t d = 0; d < p->ndir; d++) {
        int rev = p->reverse_only || d == 1;
        const float *Wd = W + d * gh * p->in, *Rd = R + d * gh * H;
        const float *wb = Bias ? Bias + d * 2 * gh : NULL, *rb = wb ? wb + gh : NULL;
        const float *pd = P ? P + d * 3 * H : NULL;
        const rnn_act *f = &p->act[d][0], *g = &p->act[d][1], *hf = &p->act[d][2];
        /* rows of X in memory order: (t, b) for layout 0, (b, t) for layout 1 */
        eb_ref_sgemm(0, 1, T * B, gh, p->in, 1.0f, X, p->in, Wd, p->in, 0.0f, p->xw, gh);
        for (int64_t b = 0; b < B; b++) {
            for (int64_t j = 0; j < H; j++) {
                p->h[b * H + j] = h0 ? h0[rnn_state_at(p, d, b) + j] : 0.0f;
                p->c[b * H + j] = c0 ? c0[rnn_state_at(p, d, b) + j] : 0.0f;
            }
        }
        for (int64_t step = 0; step < T; step++) {
            /* h * R^T for every gate but GRU's candidate when the reset gate comes first */
            int64_t nr = p->kind == 1 && !p->lbr ? 2 * H : gh;
            eb_ref_sgemm(0, 1, B, nr, H, 1.0f, p->h, H, Rd, H, 0.0f, p->hr, gh);
            for (int64_t b = 0; b < B; b++) {
                int64_t L = p->len[b];
                if (step >= L)
                    continue;
                int64_t t = rev ? L - 1 - step : step;
                const float *xw = p->xw + (p->layout ? b * T + t : t * B + b) * gh;
                float *hr = p->hr + b * gh, *h = p->h + b * H, *c = p->c + b * H;
                float *rh = p->rh + b * H;
                for (int64_t j = 0; j < H; j++) {
                    float pre[4];
                    for (int k = 0; k < p->gates; k++) {
                        int64_t o = k * H + j;
                        pre[k] = xw[o] + hr[o] + (wb ? wb[o] + rb[o] : 0.0f);
                    }
                    if (p->kind == 0) {
                        rh[j] = rnn_apply(f, rnn_clip(p, pre[0]));
                    } else if (p->kind == 1) {
                        /* z, r now; the candidate below once every r is known */
                        hr[j] = rnn_apply(f, rnn_clip(p, pre[0]));         /* z */
                        rh[j] = rnn_apply(f, rnn_clip(p, pre[1]));         /* r */
                    } else {
                        /* i, o, f, c; peepholes i, o, f */
                        float cp = c[j];
                        float it = pre[0] + (pd ? pd[j] * cp : 0.0f);
                        float ft = pre[2] + (pd ? pd[2 * H + j] * cp : 0.0f);
                        it = rnn_apply(f, rnn_clip(p, it));
                        ft = p->input_forget ? 1.0f - it : rnn_apply(f, rnn_clip(p, ft));
                        float ct = rnn_apply(g, rnn_clip(p, pre[3]));
                        float cn = ft * cp + it * ct;
                        float ot = pre[1] + (pd ? pd[H + j] * cn : 0.0f);
                        ot = rnn_apply(f, rnn_clip(p, ot));
                        c[j] = cn;
                        rh[j] = ot * rnn_apply(hf, cn);
                    }
                }
                if (p->kind == 1) {
                    /* candidate: g(x Wh^T + r (.) (h Rh^T + Rbh) + Wbh) with linear_before_reset,
                     * else g(x Wh^T + (r (.) h) Rh^T + Rbh + Wbh) */
                    const float *Rh = Rd + 2 * H * H;
                    for (int64_t j = 0; j < H; j++) {
                        float z = hr[j], rg = rh[j], acc;
                        float wbh = wb ? wb[2 * H + j] : 0.0f, rbh = rb ? rb[2 * H + j] : 0.0f;
                        if (p->lbr) {
                            acc = xw[2 * H + j] + rg * (hr[2 * H + j] + rbh) + wbh;
                        } else {
                            acc = xw[2 * H + j] + rbh + wbh;
                            const float *row = Rh + j * H;
                            for (int64_t k = 0; k < H; k++)
                                acc += rh[k] * h[k] * row[k];
                        }
                        float ht = rnn_apply(g, rnn_clip(p, acc));
                        /* keep the old h until the row is done: stash the new one in z's slot */
                        hr[j] = (1.0f - z) * ht + z * h[j];
                    }
                    memcpy(h, hr, (size_t)H * sizeof *h);
                } else {
                    memcpy(h, rh, (size_t)H * sizeof *h);
                }
                if (Y)
                    memcpy(Y + rnn_y_at(p, t, d, b), h, (size_t)H * sizeof *h);
            }
        }
        for (int64_t b = 0; b < B; b++) {
            if (Yh)
                memcpy(Yh + rnn_state_at(p, d, b), p->h + b * H, (size_t)H * sizeof *Yh);
            if (Yc)
                memcpy(Yc + rnn_state_at(p, d, b), p->c + b * H, (size_t)H * sizeof *Yc);
        }
    }
}
