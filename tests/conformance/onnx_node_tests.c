/* ONNX's node test suite on the ref engine.
 *
 *   build/conformance/onnx_node_tests [DATA_DIR] [-v] [-k SUBSTRING]
 *
 * DATA_DIR defaults to /usr/share/libonnx-testdata/data/node (Debian's libonnx-testdata).
 * Every test directory holds model.onnx and test_data_set_N/input_K.pb and output_K.pb
 * (TensorProto).  A test whose graph uses an operator ref lacks is listed as unsupported,
 * never counted.  Every other test is run: open (through eb_backend_ref), feed each data set,
 * compare every output with ONNX's backend-test tolerance (rtol 1e-3, atol 1e-7, NaN equal to
 * NaN, shapes exact).  A test ref refuses at open with a "not supported" line is listed under
 * "refused" with that line; any other open failure, run failure or mismatch is a failure.
 *
 * ref's shapes are static, but the suite feeds shape arguments (Slice's starts, Expand's
 * shape, Tile's repeats...) as graph inputs.  When open asks for such a value to be known at
 * open, the test is retried with its integer and scalar inputs bound as constants
 * (ref_open_bound); those tests are counted as passed or failed like the rest and listed on
 * the "bound at open" line.
 *
 * Prints "OP: passed/total" per operator (with failures and refusals), the lists, and closes
 * with "refused: N (listed above)", "unsupported: N" and "N passed, N failed", where failed
 * counts only tests that ran and gave wrong numbers, crashed or failed unexpectedly at open
 * or run; refused and unsupported tests are neither passes nor failures.  Exits 0 when
 * nothing failed.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "ref/ref.h"
#include "ref/ref_internal.h"

#define NT_RTOL 1e-3
#define NT_ATOL 1e-7
#define NT_MAX_OPS 256

typedef struct nt_opstat {
    char name[64];
    int passed, total, refused;
} nt_opstat;

typedef struct nt_state {
    nt_opstat ops[NT_MAX_OPS];
    int n_ops;
    char unsupported[NT_MAX_OPS][64];
    int unsup_tests[NT_MAX_OPS];
    int n_unsup;
    int passed, failed, refused, unsup, bound;
    int verbose;
    char *refused_log, *failed_log, *bound_log;
    size_t rl_len, fl_len, bl_len;
} nt_state;

static void nt_append(char **buf, size_t *len, const char *text)
{
    size_t n = strlen(text);
    char *p = realloc(*buf, *len + n + 1);
    if (!p)
        return;
    memcpy(p + *len, text, n + 1);
    *buf = p;
    *len += n;
}

static nt_opstat *nt_op(nt_state *st, const char *name)
{
    for (int i = 0; i < st->n_ops; i++)
        if (strcmp(st->ops[i].name, name) == 0)
            return &st->ops[i];
    if (st->n_ops == NT_MAX_OPS)
        return &st->ops[NT_MAX_OPS - 1];
    nt_opstat *o = &st->ops[st->n_ops++];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    return o;
}

static void nt_note_unsupported(nt_state *st, const char *op)
{
    for (int i = 0; i < st->n_unsup; i++)
        if (strcmp(st->unsupported[i], op) == 0) {
            st->unsup_tests[i]++;
            return;
        }
    if (st->n_unsup < NT_MAX_OPS) {
        snprintf(st->unsupported[st->n_unsup], 64, "%.60s", op);
        st->unsup_tests[st->n_unsup++] = 1;
    }
}

static unsigned char *nt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* "LayerNormalization" -> "layer_normalization", for matching test names. */
static void nt_snake(const char *op, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; op[i] && j + 2 < n; i++) {
        char c = op[i];
        if (c >= 'A' && c <= 'Z') {
            int prev_lower = i > 0 && !(op[i - 1] >= 'A' && op[i - 1] <= 'Z');
            int next_lower = op[i + 1] >= 'a' && op[i + 1] <= 'z';
            if (i > 0 && (prev_lower || next_lower))
                out[j++] = '_';
            out[j++] = (char)(c - 'A' + 'a');
        } else {
            out[j++] = c;
        }
    }
    out[j] = 0;
}

/* The operator a test is about: the one whose snake_case name is the longest prefix of the
 * test's name (test_layer_normalization_... -> LayerNormalization), among the graph's own
 * operators and ref's; else the graph's first operator that is not a Constant. */
static void nt_attribute(const Onnx__GraphProto *g, const char *test, char *out, size_t n)
{
    const char *t = strncmp(test, "test_", 5) == 0 ? test + 5 : test;
    size_t best = 0;
    out[0] = 0;
    for (size_t i = 0; i < g->n_node; i++) {
        char sn[128];
        const char *op = g->node[i]->op_type ? g->node[i]->op_type : "";
        nt_snake(op, sn, sizeof sn);
        size_t l = strlen(sn);
        if (l > best && strncmp(t, sn, l) == 0 && (t[l] == 0 || t[l] == '_')) {
            best = l;
            snprintf(out, n, "%s", op);
        }
    }
    for (int op = 1; op < REF_OP_EXT_END; op++) {
        const char *name = ref_op_name((ref_op)op);
        char sn[128];
        if (!name || name[0] == '?')
            continue;
        nt_snake(name, sn, sizeof sn);
        size_t l = strlen(sn);
        if (l > best && strncmp(t, sn, l) == 0 && (t[l] == 0 || t[l] == '_')) {
            best = l;
            snprintf(out, n, "%s", name);
        }
    }
    if (best)
        return;
    for (size_t i = 0; i < g->n_node; i++)
        if (g->node[i]->op_type && strcmp(g->node[i]->op_type, "Constant") != 0) {
            snprintf(out, n, "%s", g->node[i]->op_type);
            return;
        }
    snprintf(out, n, "%s", g->n_node ? g->node[0]->op_type : "?");
}

/* A TensorProto's values as doubles; -1 for types the runner does not read.  This repeats
 * the element decoding of ref's loader (onnx_load.c) on purpose: the expected outputs must not
 * be decoded by the code under test, or a decoding bug would cancel itself out. */
static int nt_tensor_values(const Onnx__TensorProto *t, double **vals, size_t *n, int *ndim,
                            int64_t *dims)
{
    size_t cnt = 1;
    if (t->n_dims > EB_MAX_DIMS)
        return -1;
    for (size_t i = 0; i < t->n_dims; i++)
        cnt *= (size_t)t->dims[i], dims[i] = t->dims[i];
    *ndim = (int)t->n_dims;
    *n = cnt;
    double *v = malloc((cnt + 1) * sizeof *v);
    if (!v)
        return -1;
    const unsigned char *raw = t->has_raw_data && t->raw_data.len ? t->raw_data.data : NULL;
    for (size_t i = 0; i < cnt; i++) {
        switch (t->data_type) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
            float f;
            if (raw)
                memcpy(&f, raw + 4 * i, 4);
            else
                f = t->float_data[i];
            v[i] = f;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
            double d;
            if (raw)
                memcpy(&d, raw + 8 * i, 8);
            else
                d = t->double_data[i];
            v[i] = d;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
            int64_t q;
            if (raw)
                memcpy(&q, raw + 8 * i, 8);
            else
                q = t->int64_data[i];
            v[i] = (double)q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: {
            uint64_t q;
            if (raw)
                memcpy(&q, raw + 8 * i, 8);
            else
                q = t->uint64_data[i];
            v[i] = (double)q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
            int32_t q;
            if (raw)
                memcpy(&q, raw + 4 * i, 4);
            else
                q = t->int32_data[i];
            v[i] = q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: {
            uint32_t q;
            if (raw)
                memcpy(&q, raw + 4 * i, 4);
            else
                q = (uint32_t)t->uint64_data[i];
            v[i] = q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: {
            int16_t q;
            if (raw)
                memcpy(&q, raw + 2 * i, 2);
            else
                q = (int16_t)t->int32_data[i];
            v[i] = q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: {
            uint16_t q;
            if (raw)
                memcpy(&q, raw + 2 * i, 2);
            else
                q = (uint16_t)t->int32_data[i];
            v[i] = q;
            break;
        }
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: v[i] = raw ? (int8_t)raw[i] : (int8_t)t->int32_data[i]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: v[i] = raw ? raw[i] : (uint8_t)t->int32_data[i]; break;
        default: free(v); return -1;
        }
    }
    *vals = v;
    return 0;
}

static Onnx__TensorProto *nt_read_pb(const char *path)
{
    size_t len;
    unsigned char *buf = nt_read_file(path, &len);
    if (!buf)
        return NULL;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    return t;
}

typedef struct nt_data {
    int n_in, n_out;
    Onnx__TensorProto *in[EB_MAX_IO], *out[EB_MAX_IO];
} nt_data;

static void nt_data_free(nt_data *d)
{
    for (int i = 0; i < d->n_in; i++)
        onnx__tensor_proto__free_unpacked(d->in[i], NULL);
    for (int i = 0; i < d->n_out; i++)
        onnx__tensor_proto__free_unpacked(d->out[i], NULL);
    d->n_in = d->n_out = 0;
}

static int nt_data_load(const char *dir, nt_data *d)
{
    char p[4200];
    memset(d, 0, sizeof *d);
    for (int i = 0; i < EB_MAX_IO; i++) {
        snprintf(p, sizeof p, "%s/input_%d.pb", dir, i);
        Onnx__TensorProto *t = nt_read_pb(p);
        if (!t)
            break;
        d->in[d->n_in++] = t;
    }
    for (int i = 0; i < EB_MAX_IO; i++) {
        snprintf(p, sizeof p, "%s/output_%d.pb", dir, i);
        Onnx__TensorProto *t = nt_read_pb(p);
        if (!t)
            break;
        d->out[d->n_out++] = t;
    }
    return d->n_out > 0 ? 0 : -1;
}

/* Fills tensor t (dtype as ref declares it) from a TensorProto; data malloc'd. */
static int nt_to_tensor(const Onnx__TensorProto *pb, eb_dtype dt, const char *name, eb_tensor *t)
{
    double *v;
    size_t n;
    memset(t, 0, sizeof *t);
    if (nt_tensor_values(pb, &v, &n, &t->ndim, t->shape) != 0)
        return -1;
    t->name = name;
    t->dtype = dt;
    t->data = malloc((n + 1) * 8);
    if (!t->data) {
        free(v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (dt == EB_F32)
            ((float *)t->data)[i] = (float)v[i];
        else
            ((int64_t *)t->data)[i] = (int64_t)v[i];
    }
    free(v);
    return 0;
}

/* Compares ref's output with the expected TensorProto; 0 when within tolerance, else a
 * reason in why. */
static int nt_compare(const eb_tensor *got, const Onnx__TensorProto *want, char *why, size_t n)
{
    double *ev;
    size_t cnt;
    int nd;
    int64_t dims[EB_MAX_DIMS];
    if (nt_tensor_values(want, &ev, &cnt, &nd, dims) != 0) {
        snprintf(why, n, "expected output has ONNX type %d, which the runner cannot read",
                 want->data_type);
        return -1;
    }
    int rc = 0;
    if (nd != got->ndim) {
        snprintf(why, n, "output rank %d, expected %d", got->ndim, nd);
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < nd; i++)
        if (dims[i] != got->shape[i]) {
            snprintf(why, n, "output dimension %d is %lld, expected %lld", i,
                     (long long)got->shape[i], (long long)dims[i]);
            rc = -1;
        }
    for (size_t i = 0; rc == 0 && i < cnt; i++) {
        double g = got->dtype == EB_F32 ? ((const float *)got->data)[i]
                                        : (double)((const int64_t *)got->data)[i];
        double e = ev[i];
        int ok = (isnan(e) && isnan(g)) || g == e ||
                 (!isinf(e) && fabs(g - e) <= NT_ATOL + NT_RTOL * fabs(e));
        if (!ok) {
            snprintf(why, n, "element %zu is %.9g, expected %.9g", i, g, e);
            rc = -1;
        }
    }
    free(ev);
    return rc;
}

/* Runs one data set on an open session; 0 when every output matches. */
static int nt_run_set(void *sess, const nt_data *d, int skip_bound, const int *bound_mask,
                      char *why, size_t n)
{
    eb_io io;
    eb_backend_ref.io(sess, &io);
    eb_tensor in[EB_MAX_IO], out[EB_MAX_IO];
    eb_err err = {0};
    int rc = -1, n_in = 0;
    memset(out, 0, sizeof out);
    if ((size_t)d->n_out != io.n_outputs) {
        snprintf(why, n, "the test has %d outputs, ref's session %zu", d->n_out,
                 io.n_outputs);
        return -1;
    }
    for (int i = 0; i < d->n_in; i++) {
        if (skip_bound && bound_mask[i])
            continue;
        if ((size_t)n_in >= io.n_inputs ||
            nt_to_tensor(d->in[i], io.inputs[n_in].dtype, io.inputs[n_in].name, &in[n_in]) != 0) {
            snprintf(why, n, "cannot feed input %d", i);
            goto done;
        }
        n_in++;
    }
    for (size_t i = 0; i < io.n_outputs; i++) {
        out[i] = io.outputs[i];
        out[i].data = malloc(eb_tensor_numel(&io.outputs[i]) * 8 + 8);
    }
    if (eb_backend_ref.run(sess, in, (size_t)n_in, out, io.n_outputs, &err) != 0) {
        snprintf(why, n, "run: %.900s", err.msg);
        goto done;
    }
    rc = 0;
    for (int i = 0; rc == 0 && i < d->n_out; i++)
        rc = nt_compare(&out[i], d->out[i], why, n);
done:
    for (int i = 0; i < n_in; i++)
        free(in[i].data);
    for (size_t i = 0; i < io.n_outputs; i++)
        free(out[i].data);
    return rc;
}

static int nt_set_dirs(const char *dir, char sets[][4200], int max)
{
    int n = 0;
    for (int i = 0; i < max; i++) {
        snprintf(sets[n], 4200, "%s/test_data_set_%d", dir, i);
        DIR *d = opendir(sets[n]);
        if (!d)
            break;
        closedir(d);
        n++;
    }
    return n;
}

/* One test: returns 1 passed, 0 failed, 2 refused, 3 unsupported. */
static int nt_test(nt_state *st, const char *root, const char *name, char *op_out, size_t op_n,
                   char *why, size_t wn)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t len;
    unsigned char *buf = nt_read_file(path, &len);
    Onnx__ModelProto *m = buf ? onnx__model_proto__unpack(NULL, len, buf) : NULL;
    free(buf);
    if (!m || !m->graph) {
        snprintf(op_out, op_n, "?");
        snprintf(why, wn, "cannot read %.900s", path);
        if (m)
            onnx__model_proto__free_unpacked(m, NULL);
        return 0;
    }
    const Onnx__GraphProto *g = m->graph;
    nt_attribute(g, name, op_out, op_n);
    int missing = 0;
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *np = g->node[i];
        const char *dom = np->domain ? np->domain : "";
        if ((dom[0] && strcmp(dom, "ai.onnx") != 0) || ref_op_from_name(np->op_type) == REF_OP_UNKNOWN) {
            char q[128];
            snprintf(q, sizeof q, "%s%s%s", dom, dom[0] ? "." : "", np->op_type);
            /* note each missing op once per test */
            int seen = 0;
            for (size_t j = 0; j < i; j++)
                if (strcmp(g->node[j]->op_type, np->op_type) == 0)
                    seen = 1;
            if (!seen)
                nt_note_unsupported(st, q);
            missing = 1;
        }
    }
    /* inputs that are integers or scalars may be bound at open (see the header) */
    int bound_mask[EB_MAX_IO] = {0}, n_graph_in = 0;
    for (size_t i = 0; i < g->n_input && n_graph_in < EB_MAX_IO; i++) {
        int is_init = 0;
        for (size_t j = 0; j < g->n_initializer; j++)
            if (strcmp(g->initializer[j]->name, g->input[i]->name) == 0)
                is_init = 1;
        if (is_init)
            continue;
        const Onnx__TypeProto *tp = g->input[i]->type;
        if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            tp = NULL;
        int et = tp && tp->tensor_type ? tp->tensor_type->elem_type : 0;
        int scalar = tp && tp->tensor_type && tp->tensor_type->shape &&
                     tp->tensor_type->shape->n_dim == 0;
        /* Resize's roi and scales are float vectors that decide the output shape */
        int shape_arg = 0;
        for (size_t k = 0; k < g->n_node; k++) {
            const Onnx__NodeProto *np = g->node[k];
            if (strcmp(np->op_type, "Resize") != 0 && strcmp(np->op_type, "Upsample") != 0)
                continue;
            for (size_t j = 1; j < np->n_input; j++)
                shape_arg |= strcmp(np->input[j], g->input[i]->name) == 0;
        }
        bound_mask[n_graph_in++] = et != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
                                           et != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
                                       ? 1
                                       : scalar || shape_arg;
    }
    char names[EB_MAX_IO][256];
    for (int i = 0, k = 0; i < (int)g->n_input && k < n_graph_in; i++) {
        int is_init = 0;
        for (size_t j = 0; j < g->n_initializer; j++)
            if (strcmp(g->initializer[j]->name, g->input[i]->name) == 0)
                is_init = 1;
        if (!is_init)
            snprintf(names[k++], 256, "%s", g->input[i]->name);
    }
    onnx__model_proto__free_unpacked(m, NULL);
    if (missing)
        return 3;

    static char sets[64][4200];
    int n_sets = nt_set_dirs(dir, sets, 64);
    if (n_sets == 0) {
        snprintf(why, wn, "no test_data_set_0");
        return 0;
    }
    eb_model model = {.path = path, .format = "onnx"};
    eb_config cfg = {.threads = 1, .batch = 1, .cores = "all"};
    eb_err err = {0};
    void *sess = NULL;
    if (eb_backend_ref.open(&model, &cfg, &sess, &err) == 0) {
        int rc = 1;
        for (int k = 0; k < n_sets && rc == 1; k++) {
            nt_data d;
            if (nt_data_load(sets[k], &d) != 0) {
                snprintf(why, wn, "cannot read %.900s", sets[k]);
                rc = 0;
            } else if (nt_run_set(sess, &d, 0, bound_mask, why, wn) != 0) {
                rc = 0;
            }
            nt_data_free(&d);
        }
        eb_backend_ref.close(sess);
        return rc;
    }
    if (!strstr(err.msg, "known at open")) {
        snprintf(why, wn, "%.1000s", err.msg);
        return strstr(err.msg, "not supported") ? 2 : 0;
    }
    /* shapes depend on input values: bind them, per data set */
    int rc = 1;
    for (int k = 0; k < n_sets && rc == 1; k++) {
        nt_data d;
        if (nt_data_load(sets[k], &d) != 0) {
            snprintf(why, wn, "cannot read %.900s", sets[k]);
            return 0;
        }
        eb_tensor bt[EB_MAX_IO];
        int nb = 0;
        for (int i = 0; i < d.n_in && i < n_graph_in; i++) {
            if (!bound_mask[i])
                continue;
            const Onnx__TensorProto *t = d.in[i];
            int flt = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
                      t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
            if (nt_to_tensor(t, flt ? EB_F32 : EB_I64, names[i], &bt[nb]) == 0)
                nb++;
        }
        eb_err e2 = {0};
        void *bs = NULL;
        if (ref_open_bound(path, nb, bt, &bs, &e2) != 0) {
            snprintf(why, wn, "%.1000s", e2.msg);
            rc = strstr(e2.msg, "not supported") ? 2 : 0;
        } else {
            if (nt_run_set(bs, &d, 1, bound_mask, why, wn) != 0)
                rc = 0;
            eb_backend_ref.close(bs);
        }
        for (int i = 0; i < nb; i++)
            free(bt[i].data);
        nt_data_free(&d);
    }
    if (rc == 1) {
        char line[512];
        snprintf(line, sizeof line, " %s", name + (strncmp(name, "test_", 5) ? 0 : 5));
        nt_append(&st->bound_log, &st->bl_len, line);
        st->bound++;
    }
    return rc;
}

static int nt_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int nt_cmp_op(const void *a, const void *b)
{
    return strcmp(((const nt_opstat *)a)->name, ((const nt_opstat *)b)->name);
}

int main(int argc, char **argv)
{
    const char *root = "/usr/share/libonnx-testdata/data/node", *filter = NULL;
    static nt_state st;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            st.verbose = 1;
        else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc)
            filter = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [DATA_DIR] [-v] [-k SUBSTRING]\n", argv[0]);
            return 2;
        } else
            root = argv[i];
    }
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "onnx_node_tests: cannot open %s (install libonnx-testdata: "
                        "scripts/deps.sh)\n",
                root);
        return 2;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "test_", 5) != 0 || (filter && !strstr(e->d_name, filter)))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **p = realloc(names, cap * sizeof *names);
            if (!p)
                return 2;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, nt_cmp_str);
    for (size_t i = 0; i < n; i++) {
        char op[64], why[1024] = "";
        int r = nt_test(&st, root, names[i], op, sizeof op, why, sizeof why);
        char line[1400];
        if (r == 3) {
            st.unsup++;
        } else {
            nt_opstat *o = nt_op(&st, op);
            o->total++;
            if (r == 1) {
                o->passed++, st.passed++;
            } else if (r == 2) {
                o->refused++, st.refused++;
                snprintf(line, sizeof line, "  %s: %s\n", names[i], why);
                nt_append(&st.refused_log, &st.rl_len, line);
            } else {
                st.failed++;
                snprintf(line, sizeof line, "  %s: %s\n", names[i], why);
                nt_append(&st.failed_log, &st.fl_len, line);
            }
        }
        free(names[i]);
    }
    free(names);
    qsort(st.ops, (size_t)st.n_ops, sizeof st.ops[0], nt_cmp_op);
    for (int i = 0; i < st.n_ops; i++) {
        const nt_opstat *o = &st.ops[i];
        printf("%s: %d/%d", o->name, o->passed, o->total);
        if (o->refused)
            printf(" (%d refused)", o->refused);
        if (o->total - o->passed - o->refused)
            printf(" (%d FAILED)", o->total - o->passed - o->refused);
        printf("\n");
    }
    if (st.refused_log)
        printf("refused (%d):\n%s", st.refused, st.refused_log);
    if (st.failed_log)
        printf("failed (%d):\n%s", st.failed, st.failed_log);
    if (st.bound_log)
        printf("bound at open (%d; shape inputs given as constants):%s\n", st.bound,
               st.bound_log);
    printf("unsupported (%d tests, not counted):", st.unsup);
    for (int i = 0; i < st.n_unsup; i++)
        printf(" %s", st.unsupported[i]);
    printf("\n");
    /* Honesty apart from correctness: refusals and missing operators are counted on their
     * own lines, never as passes; "failed" is wrong numbers, crashes and unexpected errors. */
    printf("refused: %d (listed above)\n", st.refused);
    printf("unsupported: %d\n", st.unsup);
    printf("%d passed, %d failed\n", st.passed, st.failed);
    free(st.refused_log), free(st.failed_log), free(st.bound_log);
    return st.failed ? 1 : 0;
}
