/* MaxPool and AveragePool beyond ops_pool.c's float 1-D/2-D kernels: any spatial rank
 * (3-D pools), MaxPool on integers (ref holds them as int64, so uint8/int8 pools are exact)
 * and MaxPool's Indices output (storage_order 0: row-major flat index into X; 1: the spatial
 * part column-major).  Direct loops over each output's window: these pools are rare.
 *
 * shape.c sends a pool here when ref_pool_nd_wanted() says so; the plan lives in nd->aux
 * and nd->mode = 1 tells exec.c to run ref_exec_pool_nd().  Geometry follows ops_pool.c
 * (and PyTorch): padding never wins a max; an average divides by the window clipped to the
 * input, or, with count_include_pad, to the padded input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

#define FAIL(...) return ref_node_fail(nd, err, __VA_ARGS__)
#define PN_MAXSP (EB_MAX_DIMS - 2)

typedef struct pn_plan {
    int sp, is_max, storage_order, count_include_pad;
    int64_t nc;
    int64_t in[PN_MAXSP], out[PN_MAXSP], k[PN_MAXSP], st[PN_MAXSP], dl[PN_MAXSP];
    int64_t pb[PN_MAXSP], pe[PN_MAXSP];
    int64_t in_sp, out_sp, ksz;
} pn_plan;

int ref_pool_nd_wanted(const ref_session *s, const ref_node *nd)
{
    if (nd->n_in < 1 || nd->in[0] < 0)
        return 0;
    const ref_value *x = &s->vals[nd->in[0]];
    return x->ndim > 4 || nd->a.spatial_rank > 2 || x->dtype != EB_F32 ||
           (nd->n_out > 1 && nd->out[1] >= 0);
}

static int pn_ints(ref_node *nd, const char *name, int n, int64_t def, int64_t *out, eb_err *err)
{
    const ref_attr *a = ref_attr_get(nd, name);
    for (int i = 0; i < n; i++)
        out[i] = def;
    if (!a)
        return 0;
    if (a->type != 7 || a->n != n)
        FAIL("%s has %d values (expected %d for the input's spatial axes)", name, a->n, n);
    for (int i = 0; i < n; i++)
        out[i] = a->ints[i];
    return 0;
}

int ref_infer_pool_nd(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128];
    if (nd->n_in != 1 || nd->in[0] < 0)
        FAIL("has %d inputs (expected 1)", nd->n_in);
    const ref_value *x = &s->vals[nd->in[0]];
    pn_plan p = {.is_max = nd->op == REF_OP_MAXPOOL};
    p.sp = x->ndim - 2;
    if (p.sp < 1 || p.sp > PN_MAXSP)
        FAIL("input %s must be (N, C, spatial...)", ref_shape_str(x, b1, sizeof b1));
    if (!p.is_max && x->dtype != EB_F32)
        FAIL("input '%s' is %s; AveragePool is defined on floats", x->name,
             eb_dtype_name(x->dtype));
    if (nd->n_out > 2 || (!p.is_max && nd->n_out > 1 && nd->out[1] >= 0))
        FAIL("has %d outputs (%s expected)", nd->n_out, p.is_max ? "Y and Indices" : "Y");
    int64_t pads[2 * PN_MAXSP];
    if (!ref_attr_get(nd, "kernel_shape"))
        FAIL("kernel_shape is required");
    if (pn_ints(nd, "kernel_shape", p.sp, 1, p.k, err) || pn_ints(nd, "strides", p.sp, 1, p.st, err) ||
        pn_ints(nd, "dilations", p.sp, 1, p.dl, err) || pn_ints(nd, "pads", 2 * p.sp, 0, pads, err))
        return -1;
    if (!p.is_max) /* AveragePool has no dilations before opset 19 */
        for (int i = 0; i < p.sp; i++)
            p.dl[i] = 1;
    p.storage_order = (int)ref_attr_i(nd, "storage_order", 0);
    p.count_include_pad = (int)ref_attr_i(nd, "count_include_pad", 0);
    int ceil_mode = (int)ref_attr_i(nd, "ceil_mode", 0);
    const char *ap = ref_attr_s(nd, "auto_pad", "NOTSET");
    int upper = strcmp(ap, "SAME_UPPER") == 0, same = upper || strcmp(ap, "SAME_LOWER") == 0;
    int valid = strcmp(ap, "VALID") == 0;
    if (!same && !valid && strcmp(ap, "NOTSET") != 0)
        FAIL("unknown auto_pad '%.40s'", ap);
    const int64_t lim = (int64_t)1 << 30;
    int64_t shp[EB_MAX_DIMS] = {x->shape[0], x->shape[1]};
    p.nc = x->shape[0] * x->shape[1];
    p.in_sp = p.out_sp = p.ksz = 1;
    for (int i = 0; i < p.sp; i++) {
        p.in[i] = x->shape[2 + i];
        if (p.k[i] < 1 || p.k[i] > lim || p.st[i] < 1 || p.st[i] > lim || p.dl[i] < 1 ||
            p.dl[i] > lim || pads[i] < 0 || pads[i] > lim || pads[p.sp + i] < 0 ||
            pads[p.sp + i] > lim)
            FAIL("kernel_shape, strides, dilations or pads are out of range");
        int64_t eff = (p.k[i] - 1) * p.dl[i] + 1;
        if (same) {
            p.out[i] = (p.in[i] + p.st[i] - 1) / p.st[i];
            int64_t total = (p.out[i] - 1) * p.st[i] + eff - p.in[i];
            if (total < 0)
                total = 0;
            p.pb[i] = upper ? total / 2 : total - total / 2;
            p.pe[i] = total - p.pb[i];
        } else {
            p.pb[i] = valid ? 0 : pads[i];
            p.pe[i] = valid ? 0 : pads[p.sp + i];
            p.out[i] = eb_ref_conv_out(p.in[i], p.k[i], p.st[i], p.dl[i], p.pb[i], p.pe[i],
                                       ceil_mode);
        }
        if (p.out[i] < 1)
            FAIL("the window does not fit the input %s (with its padding)",
                 ref_shape_str(x, b1, sizeof b1));
        shp[2 + i] = p.out[i];
        p.in_sp *= p.in[i], p.out_sp *= p.out[i], p.ksz *= p.k[i];
    }
    if (ref_set_out(s, nd, 0, x->dtype, x->ndim, shp, err) != 0 ||
        ref_set_out(s, nd, 1, EB_I64, x->ndim, shp, err) != 0)
        return -1;
    free(nd->aux);
    nd->aux = malloc(sizeof p);
    if (!nd->aux)
        FAIL("out of memory");
    memcpy(nd->aux, &p, sizeof p);
    nd->aux_n = sizeof p;
    nd->mode = 1;
    return 0;
}

void ref_exec_pool_nd(ref_session *s, const ref_node *nd)
{
    const pn_plan *p = nd->aux;
    const ref_value *xv = &s->vals[nd->in[0]], *yv = &s->vals[nd->out[0]];
    int64_t *ind = nd->n_out > 1 && nd->out[1] >= 0 ? s->vals[nd->out[1]].data : NULL;
    int f32 = xv->dtype == EB_F32, sp = p->sp;
    /* column-major spatial strides for storage_order 1 */
    int64_t cstride[PN_MAXSP], acc = 1;
    for (int i = 0; i < sp; i++)
        cstride[i] = acc, acc *= p->in[i];
    size_t oi = 0;
    for (int64_t nc = 0; nc < p->nc; nc++) {
        const float *xf = f32 ? (const float *)xv->data + nc * p->in_sp : NULL;
        const int64_t *xi = f32 ? NULL : (const int64_t *)xv->data + nc * p->in_sp;
        int64_t o[PN_MAXSP] = {0};
        for (int64_t q = 0; q < p->out_sp; q++, oi++) {
            /* window bounds per axis, for averages */
            int64_t cnt_pad = 1;
            for (int i = 0; i < sp; i++) {
                int64_t b = o[i] * p->st[i] - p->pb[i], e = b + p->k[i];
                if (e > p->in[i] + p->pe[i])
                    e = p->in[i] + p->pe[i];
                cnt_pad *= e - b;
            }
            double sum = 0;
            float fmax = -INFINITY;
            int64_t imax = INT64_MIN, arg = -1, cnt = 0;
            int64_t kk[PN_MAXSP] = {0};
            for (int64_t t = 0; t < p->ksz; t++) {
                int64_t flat = 0, inside = 1;
                for (int i = 0; i < sp; i++) {
                    int64_t c = o[i] * p->st[i] - p->pb[i] + kk[i] * p->dl[i];
                    if (c < 0 || c >= p->in[i])
                        inside = 0;
                    flat = flat * p->in[i] + c;
                }
                if (inside) {
                    cnt++;
                    if (!p->is_max) {
                        sum += xf[flat];
                    } else if (f32 ? (arg < 0 || xf[flat] > fmax) : (arg < 0 || xi[flat] > imax)) {
                        if (f32)
                            fmax = xf[flat];
                        else
                            imax = xi[flat];
                        arg = flat;
                    }
                }
                for (int i = sp - 1; i >= 0; i--) {
                    if (++kk[i] < p->k[i])
                        break;
                    kk[i] = 0;
                }
            }
            if (!p->is_max) {
                int64_t div = p->count_include_pad ? cnt_pad : cnt;
                ((float *)yv->data)[oi] = div > 0 ? (float)(sum / (double)div) : 0.0f;
            } else {
                if (f32)
                    ((float *)yv->data)[oi] = arg < 0 ? -INFINITY : fmax;
                else
                    ((int64_t *)yv->data)[oi] = arg < 0 ? 0 : imax;
                if (ind) {
                    int64_t idx = arg < 0 ? 0 : arg;
                    if (p->storage_order && arg >= 0) {
                        int64_t rem = arg;
                        idx = 0;
                        for (int i = sp - 1; i >= 0; i--) {
                            idx += (rem % p->in[i]) * cstride[i];
                            rem /= p->in[i];
                        }
                    }
                    ind[oi] = nc * p->in_sp + idx;
                }
            }
            for (int i = sp - 1; i >= 0; i--) {
                if (++o[i] < p->out[i])
                    break;
                o[i] = 0;
            }
        }
    }
}
