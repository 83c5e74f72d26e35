/* Broadcasting operators beyond the four hot ones in ops_elementwise.c: Pow, Min, Max, Sum,
 * Mean (variadic), Mod, PRelu, the comparisons, the logical operators, Where and BitShift.
 * One odometer walks the output; every input has its own broadcast strides (planned at open,
 * kept in nd->aux).  Float32 inputs compute in double and round once; integer inputs (int64
 * inside ref, bool as 0/1) compute in int64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

static int is_cmp(ref_op op)
{
    return op == REF_OP_EQUAL || op == REF_OP_LESS || op == REF_OP_LESSOREQUAL ||
           op == REF_OP_GREATER || op == REF_OP_GREATEROREQUAL;
}

static int is_variadic(ref_op op)
{
    return op == REF_OP_MIN || op == REF_OP_MAX || op == REF_OP_SUM || op == REF_OP_MEAN;
}

int ref_infer_binary(ref_session *s, ref_node *nd, eb_err *err)
{
    char b1[128], b2[128];
    int want = nd->op == REF_OP_WHERE ? 3 : 2;
    if (is_variadic(nd->op) ? nd->n_in < 1 || nd->n_in > 64 : nd->n_in != want)
        return ref_node_fail(nd, err, "has %d inputs (expected %s)", nd->n_in,
                             is_variadic(nd->op) ? "1 to 64" : want == 3 ? "3" : "2");
    int rank = 0;
    int64_t shp[EB_MAX_DIMS];
    for (int i = 0; i < nd->n_in; i++) {
        if (nd->in[i] < 0)
            return ref_node_fail(nd, err, "input %d is required but empty", i);
        const ref_value *v = &s->vals[nd->in[i]];
        if (i == 0) {
            rank = v->ndim;
            memcpy(shp, v->shape, sizeof shp);
            continue;
        }
        int64_t tmp[EB_MAX_DIMS];
        int r2;
        if (ref_bcast_shape(rank, shp, v->ndim, v->shape, &r2, tmp) != 0 || r2 > EB_MAX_DIMS)
            return ref_node_fail(nd, err, "input '%s' %s does not broadcast with %s", v->name,
                                 ref_shape_str(v, b1, sizeof b1),
                                 ref_shape_str(&s->vals[nd->in[0]], b2, sizeof b2));
        rank = r2;
        memcpy(shp, tmp, sizeof tmp);
    }
    /* types: Where's data inputs and everything else's inputs agree (Pow's exponent may
     * differ); logical operators and Where's condition are bool (int64 0/1 here) */
    const ref_value *x = &s->vals[nd->in[0]];
    int first_data = nd->op == REF_OP_WHERE ? 1 : 0;
    eb_dtype dt = s->vals[nd->in[first_data]].dtype;
    for (int i = first_data; i < nd->n_in; i++) {
        const ref_value *v = &s->vals[nd->in[i]];
        if (v->dtype != dt && nd->op != REF_OP_POW)
            return ref_node_fail(nd, err, "inputs '%s' (%s) and '%s' (%s) differ in type",
                                 s->vals[nd->in[first_data]].name, eb_dtype_name(dt), v->name,
                                 eb_dtype_name(v->dtype));
    }
    if ((nd->op == REF_OP_WHERE || nd->op == REF_OP_AND || nd->op == REF_OP_OR ||
         nd->op == REF_OP_XOR || nd->op == REF_OP_BITSHIFT) &&
        x->dtype != EB_I64)
        return ref_node_fail(nd, err, "input '%s' must be %s", x->name,
                             nd->op == REF_OP_BITSHIFT ? "an unsigned integer" : "bool");
    if (nd->op == REF_OP_PRELU && dt != EB_F32)
        return ref_node_fail(nd, err, "input '%s' must be float32", x->name);
    if (nd->op == REF_OP_PRELU) { /* the slope broadcasts to X, never the other way */
        for (int d = 0; d < rank; d++)
            if (rank != x->ndim || shp[d] != x->shape[d])
                return ref_node_fail(nd, err, "slope does not broadcast to X %s",
                                     ref_shape_str(x, b1, sizeof b1));
    }
    nd->mode = (int)ref_attr_i(nd, "fmod", 0);
    if (nd->op == REF_OP_BITSHIFT) {
        const char *dir = ref_attr_s(nd, "direction", "");
        if (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)
            return ref_node_fail(nd, err, "direction must be LEFT or RIGHT");
        nd->mode = dir[0] == 'L';
    }
    free(nd->aux);
    nd->aux = calloc((size_t)nd->n_in * EB_MAX_DIMS, sizeof(int64_t));
    if (!nd->aux)
        return ref_node_fail(nd, err, "out of memory");
    nd->aux_n = (size_t)nd->n_in;
    int64_t *st = nd->aux;
    for (int i = 0; i < nd->n_in; i++)
        ref_bcast_strides(&s->vals[nd->in[i]], rank, st + i * EB_MAX_DIMS);
    nd->bnd = rank;
    memcpy(nd->bshape, shp, sizeof shp);
    eb_dtype out = is_cmp(nd->op) || nd->op == REF_OP_AND || nd->op == REF_OP_OR ||
                           nd->op == REF_OP_XOR
                       ? EB_I64
                       : dt;
    if (nd->op == REF_OP_POW)
        out = x->dtype;
    return ref_set_out(s, nd, 0, out, rank, shp, err);
}

static double f_op(ref_op op, int fmod_, double a, double b)
{
    switch (op) {
    case REF_OP_POW: return pow(a, b);
    case REF_OP_MIN: return a != a || b != b ? NAN : a < b ? a : b;
    case REF_OP_MAX: return a != a || b != b ? NAN : a > b ? a : b;
    case REF_OP_SUM:
    case REF_OP_MEAN: return a + b;
    case REF_OP_MOD: {
        double r = fmod(a, b);
        if (!fmod_ && r != 0 && ((r < 0) != (b < 0)))
            r += b;
        return r;
    }
    case REF_OP_PRELU: return a < 0 ? a * b : a;
    case REF_OP_EQUAL: return a == b;
    case REF_OP_LESS: return a < b;
    case REF_OP_LESSOREQUAL: return a <= b;
    case REF_OP_GREATER: return a > b;
    case REF_OP_GREATEROREQUAL: return a >= b;
    default: return 0;
    }
}

static int64_t i_op(ref_op op, int mode, int64_t a, int64_t b)
{
    switch (op) {
    case REF_OP_POW: {
        if (b < 0)
            return a == 1 ? 1 : 0;
        int64_t r = 1;
        while (b-- > 0)
            r *= a;
        return r;
    }
    case REF_OP_MIN: return a < b ? a : b;
    case REF_OP_MAX: return a > b ? a : b;
    case REF_OP_SUM:
    case REF_OP_MEAN: return a + b;
    case REF_OP_MOD: {
        if (b == 0)
            return 0;
        int64_t r = a % b;
        if (!mode && r != 0 && ((r < 0) != (b < 0)))
            r += b;
        return r;
    }
    case REF_OP_EQUAL: return a == b;
    case REF_OP_LESS: return a < b;
    case REF_OP_LESSOREQUAL: return a <= b;
    case REF_OP_GREATER: return a > b;
    case REF_OP_GREATEROREQUAL: return a >= b;
    case REF_OP_AND: return a && b;
    case REF_OP_OR: return a || b;
    case REF_OP_XOR: return !a != !b;
    case REF_OP_BITSHIFT:
        if (b < 0 || b > 63)
            return 0;
        return mode ? (int64_t)((uint64_t)a << b) : (int64_t)((uint64_t)a >> b);
    default: return 0;
    }
}

static inline double rd(const ref_value *v, int64_t off)
{
    return v->dtype == EB_F32 ? (double)((const float *)v->data)[off]
                              : (double)((const int64_t *)v->data)[off];
}

void ref_exec_binary(ref_session *s, const ref_node *nd)
{
    const ref_value *y = &s->vals[nd->out[0]];
    const int64_t *st = nd->aux;
    int rank = nd->bnd, n_in = nd->n_in;
    int64_t off[64] = {0}, idx[EB_MAX_DIMS] = {0};
    if (n_in > 64)
        return; /* never planned: variadic inputs beyond 64 are refused at load by size */
    const ref_value *in[64];
    for (int i = 0; i < n_in; i++)
        in[i] = &s->vals[nd->in[i]];
    if (nd->op == REF_OP_POW && n_in == 2 && in[0]->dtype == EB_F32 &&
        in[1]->dtype == EB_F32 && in[1]->numel == 1 && in[0]->numel == y->numel) {
        /* x ** scalar (LayerNorm's variance is Pow(x - mean, 2)): no index walk, and the
         * common exponents without pow(); each gives what pow() in double, rounded, does */
        const float *xa = in[0]->data;
        float *ya = y->data, e = ((const float *)in[1]->data)[0];
        if (e == 2.0f)
            for (size_t i = 0; i < y->numel; i++)
                ya[i] = (float)((double)xa[i] * xa[i]);
        else if (e == 1.0f)
            memmove(ya, xa, y->numel * sizeof *ya);
        else
            for (size_t i = 0; i < y->numel; i++)
                ya[i] = (float)pow(xa[i], e);
        return;
    }
    int ints = 1; /* integer arithmetic when every data input is integer */
    for (int i = nd->op == REF_OP_WHERE ? 1 : 0; i < n_in; i++)
        if (in[i]->dtype != EB_I64)
            ints = 0;
    for (size_t e = 0; e < y->numel; e++) {
        if (nd->op == REF_OP_WHERE) {
            int c = ((const int64_t *)in[0]->data)[off[0]] != 0;
            const ref_value *src = in[c ? 1 : 2];
            int64_t o = off[c ? 1 : 2];
            if (y->dtype == EB_F32)
                ((float *)y->data)[e] = ((const float *)src->data)[o];
            else
                ((int64_t *)y->data)[e] = ((const int64_t *)src->data)[o];
        } else if (ints) {
            int64_t acc = ((const int64_t *)in[0]->data)[off[0]];
            for (int i = 1; i < n_in; i++)
                acc = i_op(nd->op, nd->mode, acc, ((const int64_t *)in[i]->data)[off[i]]);
            if (nd->op == REF_OP_MEAN)
                acc /= n_in;
            ((int64_t *)y->data)[e] = acc;
        } else {
            double acc = rd(in[0], off[0]);
            for (int i = 1; i < n_in; i++)
                acc = f_op(nd->op, nd->mode, acc, rd(in[i], off[i]));
            if (nd->op == REF_OP_MEAN)
                acc /= n_in;
            if (y->dtype == EB_F32)
                ((float *)y->data)[e] = (float)acc;
            else
                ((int64_t *)y->data)[e] = (int64_t)acc;
        }
        for (int d = rank - 1; d >= 0; d--) {
            for (int i = 0; i < n_in; i++)
                off[i] += st[i * EB_MAX_DIMS + d];
            if (++idx[d] < nd->bshape[d])
                break;
            for (int i = 0; i < n_in; i++)
                off[i] -= st[i * EB_MAX_DIMS + d] * nd->bshape[d];
            idx[d] = 0;
        }
    }
}
