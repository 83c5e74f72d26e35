/* ConvTranspose, 1-D to 3-D (any spatial rank ref holds): group, strides, dilations, pads,
 * output_padding, output_shape and auto_pad, as the ONNX spec defines them.
 *
 * Per image and group, one GEMM gives every kernel tap's contribution at every input
 * position, col[Mg*K, in] = W_g^T [Mg*K, Cg] * X_g [Cg, in] (W is stored [C, M/group, k...],
 * so W_g is already a row-major [Cg, Mg*K] matrix), and col2im scatters and sums those into
 * the output, whose bias was written first.  The plan and the col buffer are made at open
 * (nd->aux); weights may be computed at run time. */
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)
#define CT_MAXSP (EB_MAX_DIMS - 2)

typedef struct ct_plan {
    int sp;
    int64_t n, c, m, group;
    int64_t in[CT_MAXSP], out[CT_MAXSP], k[CT_MAXSP], st[CT_MAXSP], dl[CT_MAXSP], pb[CT_MAXSP];
    int64_t in_sp, out_sp, ksz;
    float *col; /* [m/group * ksz, in_sp] */
} ct_plan;

/* Reads an ints attribute of exactly n values (or 2n for pads) into out, else def. */
static int ct_ints(ref_node *nd, const char *name, int n, int64_t def, int64_t *out, eb_err *err)
{
    const ref_attr *a = ref_attr_get(nd, name);
    for (int i = 0; i < n; i++)
        out[i] = def;
    if (!a)
        return 0;
    if (a->type != 7 || a->n != n)
        FAIL("%s has %d values; the input has %d spatial axes (expected %d)", name, a->n,
             n / (strcmp(name, "pads") == 0 ? 2 : 1), n);
    for (int i = 0; i < n; i++)
        out[i] = a->ints[i];
    return 0;
}

static int64_t ct_floordiv2(int64_t v)
{
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

int ref_infer_convt(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128], b2[128];
    if (nd->n_in < 2 || nd->n_in > 3 || nd->in[0] < 0 || nd->in[1] < 0)
        FAIL("has %d inputs (X, W and an optional B expected)", nd->n_in);
    for (int i = 1; i < nd->n_out; i++)
        if (nd->out[i] >= 0)
            FAIL("has %d outputs (1 expected)", nd->n_out);
    const ref_value *x = &s->vals[nd->in[0]], *w = &s->vals[nd->in[1]];
    const ref_value *bv = nd->n_in > 2 && nd->in[2] >= 0 ? &s->vals[nd->in[2]] : NULL;
    if (x->dtype != EB_F32 || w->dtype != EB_F32 || (bv && bv->dtype != EB_F32))
        FAIL("inputs must be float32");
    int sp = x->ndim - 2;
    if (sp < 1 || sp > CT_MAXSP || w->ndim != x->ndim)
        FAIL("input %s and weight %s must both be N-D with N >= 3",
             ref_shape_str(x, b1, sizeof b1), ref_shape_str(w, b2, sizeof b2));
    ct_plan p = {.sp = sp, .n = x->shape[0], .c = x->shape[1]};
    p.group = ref_attr_i(nd, "group", 1);
    if (p.group < 1 || p.c % p.group || w->shape[0] != p.c)
        FAIL("input %s, weight %s and group %lld do not agree", ref_shape_str(x, b1, sizeof b1),
             ref_shape_str(w, b2, sizeof b2), (long long)p.group);
    p.m = w->shape[1] * p.group;
    if (bv && (bv->ndim != 1 || bv->numel != (size_t)p.m))
        FAIL("bias %s does not match %lld output channels", ref_shape_str(bv, b1, sizeof b1),
             (long long)p.m);
    int64_t ks[CT_MAXSP], pads[2 * CT_MAXSP], op[CT_MAXSP], os[CT_MAXSP + 2];
    if (ct_ints(nd, "kernel_shape", sp, 0, ks, err) || ct_ints(nd, "strides", sp, 1, p.st, err) ||
        ct_ints(nd, "dilations", sp, 1, p.dl, err) || ct_ints(nd, "pads", 2 * sp, 0, pads, err) ||
        ct_ints(nd, "output_padding", sp, 0, op, err))
        return -1;
    const ref_attr *osa = ref_attr_get(nd, "output_shape");
    int has_os = osa != NULL;
    if (osa) {
        if (osa->type != 7 || (osa->n != sp && osa->n != sp + 2))
            FAIL("output_shape has %d values; expected %d", osa ? osa->n : 0, sp);
        for (int i = 0; i < sp; i++)
            os[i] = osa->ints[osa->n - sp + i];
    }
    const char *ap = ref_attr_s(nd, "auto_pad", "NOTSET");
    int upper = strcmp(ap, "SAME_UPPER") == 0, same = upper || strcmp(ap, "SAME_LOWER") == 0;
    int valid = strcmp(ap, "VALID") == 0;
    if (!same && !valid && strcmp(ap, "NOTSET") != 0)
        FAIL("unknown auto_pad '%.40s'", ap);
    const int64_t lim = (int64_t)1 << 30;
    p.in_sp = p.out_sp = p.ksz = 1;
    int64_t shp[EB_MAX_DIMS] = {p.n, p.m};
    for (int i = 0; i < sp; i++) {
        p.in[i] = x->shape[2 + i];
        p.k[i] = w->shape[2 + i];
        if (ks[i] && ks[i] != p.k[i])
            FAIL("kernel_shape does not match the weight %s", ref_shape_str(w, b2, sizeof b2));
        if (p.st[i] < 1 || p.st[i] > lim || p.dl[i] < 1 || p.dl[i] > lim || op[i] < 0 ||
            op[i] > lim || pads[i] < 0 || pads[i] > lim || pads[sp + i] < 0 ||
            pads[sp + i] > lim)
            FAIL("strides, dilations, pads or output_padding are out of range");
        int64_t eff = (p.k[i] - 1) * p.dl[i] + 1;
        int64_t full = p.st[i] * (p.in[i] - 1) + op[i] + eff;
        if (has_os || same) {
            int64_t want = has_os ? os[i] : p.in[i] * p.st[i];
            int64_t total = full - want, half = ct_floordiv2(total);
            p.pb[i] = upper ? half : total - half;
            p.out[i] = want;
        } else {
            int64_t b = valid ? 0 : pads[i], e = valid ? 0 : pads[sp + i];
            p.pb[i] = b;
            p.out[i] = full - b - e;
        }
        if (p.out[i] < 1 || p.out[i] > lim)
            FAIL("output size %lld of spatial axis %d is out of range", (long long)p.out[i], i);
        shp[2 + i] = p.out[i];
        p.in_sp *= p.in[i], p.out_sp *= p.out[i], p.ksz *= p.k[i];
    }
    if (ref_set_out(s, nd, 0, EB_F32, x->ndim, shp, err) != 0)
        return -1;
    uint64_t colf = (uint64_t)(p.m / p.group) * (uint64_t)p.ksz * (uint64_t)p.in_sp;
    if (colf > REF_MAX_BYTES / 4)
        FAIL("needs an absurdly large column buffer");
    free(nd->aux);
    nd->aux = calloc(1, sizeof p + (size_t)colf * sizeof(float) + 64);
    if (!nd->aux)
        FAIL("out of memory");
    nd->aux_n = sizeof p + (size_t)colf * sizeof(float);
    ct_plan *q = nd->aux;
    *q = p;
    q->col = (float *)(q + 1);
    nd->macs = p.n * p.c / p.group * p.m * p.ksz * p.in_sp;
    return 0;
}

/* y[mg-channel block] += col2im(col) for one image and group. */
static void ct_col2im(const ct_plan *p, int64_t mg, const float *col, float *y)
{
    int sp = p->sp, last = sp - 1;
    for (int64_t m = 0; m < mg; m++) {
        float *ym = y + m * p->out_sp;
        for (int64_t kk = 0; kk < p->ksz; kk++) {
            int64_t kidx[CT_MAXSP];
            int64_t rem = kk;
            for (int i = last; i >= 0; i--) {
                kidx[i] = rem % p->k[i];
                rem /= p->k[i];
            }
            const float *c = col + (m * p->ksz + kk) * p->in_sp;
            /* the innermost axis: input positions whose output lands inside */
            int64_t off = kidx[last] * p->dl[last] - p->pb[last], S = p->st[last];
            int64_t lo = off >= 0 ? 0 : (-off + S - 1) / S;
            int64_t hi = p->out[last] - 1 - off < 0 ? -1 : (p->out[last] - 1 - off) / S;
            if (hi > p->in[last] - 1)
                hi = p->in[last] - 1;
            int64_t rows = p->in_sp / p->in[last];
            int64_t ip[CT_MAXSP] = {0};
            for (int64_t r = 0; r < rows; r++) {
                int64_t base = 0, inside = 1;
                for (int i = 0; i < last; i++) {
                    int64_t o = ip[i] * p->st[i] - p->pb[i] + kidx[i] * p->dl[i];
                    if (o < 0 || o >= p->out[i])
                        inside = 0;
                    base = base * p->out[i] + o;
                }
                if (inside && lo <= hi) {
                    float *yr = ym + base * p->out[last];
                    const float *cr = c + r * p->in[last];
                    for (int64_t j = lo; j <= hi; j++)
                        yr[j * S + off] += cr[j];
                }
                for (int i = last - 1; i >= 0; i--) {
                    if (++ip[i] < p->in[i])
                        break;
                    ip[i] = 0;
                }
            }
        }
    }
}

void ref_exec_convt(ref_session *s, const ref_node *nd)
{
    const ct_plan *p = nd->aux;
    const float *x = s->vals[nd->in[0]].data, *w = s->vals[nd->in[1]].data;
    const float *b = nd->n_in > 2 && nd->in[2] >= 0 ? s->vals[nd->in[2]].data : NULL;
    float *y = s->vals[nd->out[0]].data;
    int64_t cg = p->c / p->group, mg = p->m / p->group, rows = mg * p->ksz;
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->group; g++) {
            float *yg = y + (n * p->m + g * mg) * p->out_sp;
            for (int64_t m = 0; m < mg; m++) {
                float bias = b ? b[g * mg + m] : 0.0f;
                for (int64_t j = 0; j < p->out_sp; j++)
                    yg[m * p->out_sp + j] = bias;
            }
            eb_ref_sgemm(1, 0, rows, p->in_sp, cg, 1.0f, w + g * cg * rows, rows,
                         x + (n * p->c + g * cg) * p->in_sp, p->in_sp, 0.0f, p->col, p->in_sp);
            ct_col2im(p, mg, p->col, yg);
        }
}
