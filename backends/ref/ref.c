/* The ref backend's table: open runs the pipeline load -> sort -> infer shapes -> plan, and
 * run() walks the sorted nodes over the planned buffers without allocating. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"
#include "threadpool.h"

void ref_session_free(ref_session *s)
{
    if (!s)
        return;
    ref_prepare_free(s); /* packed weights, profiler, thread pool (fold_bn.c) */
    for (int i = 0; i < s->n_vals; i++) {
        ref_value *v = &s->vals[i];
        if (v->kind == REF_VAL_WEIGHT || v->kind == REF_VAL_STATIC)
            free(v->data);
        free(v->name);
    }
    for (int i = 0; i < s->n_nodes; i++) {
        ref_node *nd = &s->nodes[i];
        free(nd->name), free(nd->op_type), free(nd->in), free(nd->out), free(nd->wt);
        for (int j = 0; j < nd->n_attrs; j++) {
            ref_attr *a = &nd->attrs[j];
            for (int k = 0; a->strs && k < a->n; k++)
                free(a->strs[k]);
            free(a->name), free(a->s), free(a->ints), free(a->floats), free(a->strs);
            free(a->t_data);
        }
        free(nd->attrs), free(nd->aux);
    }
    free(s->vals), free(s->nodes), free(s->hash), free(s->arena), free(s->scratch);
    free(s->path);
    free(s);
}

/* Facts as edgebench reports them.  params and nonzero_params count the elements of every
 * float initializer (weights and biases, BatchNormalization statistics included; integer
 * initializers such as Reshape shapes are not parameters).  macs counts only Conv
 * (N*Cout*OH*OW*(Cin/group)*kh*kw), Gemm and MatMul (M*N*K per matrix product) nodes that run
 * per inference: elementwise work, pooling and normalization are left out, as is usual. */
static void compute_facts(ref_session *s)
{
    int64_t params = 0, nonzero = 0, macs = 0;
    for (int i = 0; i < s->n_vals; i++) {
        const ref_value *v = &s->vals[i];
        if (v->kind != REF_VAL_WEIGHT || v->dtype != EB_F32)
            continue;
        params += (int64_t)v->numel;
        const float *f = v->data;
        for (size_t j = 0; j < v->numel; j++)
            nonzero += f[j] != 0.0f;
    }
    for (int i = 0; i < s->n_nodes; i++)
        if (!s->nodes[i].folded)
            macs += s->nodes[i].macs;
    s->facts.params = params;
    s->facts.nonzero_params = nonzero;
    s->facts.macs = macs;
}

/* Names in a corrupt file may hold any byte; a message must stay one printable line. */
static void one_line(eb_err *err)
{
    for (char *c = err ? err->msg : NULL; c && *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static void describe(const ref_value *v, eb_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->name = v->name;
    t->dtype = v->dtype;
    t->ndim = v->ndim;
    memcpy(t->shape, v->shape, sizeof t->shape);
}

static int ref_open(const eb_model *model, const eb_config *config, void **session, eb_err *err)
{
    if (!model || !model->path)
        return eb_errf(err, "backend ref: needs an ONNX model file");
    ref_session *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(model->path))) {
        free(s);
        return eb_errf(err, "%s: out of memory", model->path);
    }
    int batch = config && config->batch > 0 ? config->batch : 1;
    if (ref_load(s, s->path, batch, err) != 0 || ref_graph_sort(s, err) != 0 ||
        ref_shape_infer(s, err) != 0 || ref_prepare(s, config, err) != 0 ||
        ref_fuse_layernorm(s, err) != 0 || ref_plan(s, err) != 0) {
        eb_err_prefix(err, "%s", model->path);
        one_line(err);
        ref_session_free(s);
        /* The loader's refusals (an operator, domain or feature ref lacks) all say this. */
        return err && strstr(err->msg, "not supported by ref") ? EB_UNSUPPORTED : -1;
    }
    s->io.n_inputs = (size_t)s->n_in;
    s->io.n_outputs = (size_t)s->n_out;
    for (int i = 0; i < s->n_in; i++)
        describe(&s->vals[s->in_vals[i]], &s->io.inputs[i]);
    for (int i = 0; i < s->n_out; i++)
        describe(&s->vals[s->out_vals[i]], &s->io.outputs[i]);
    compute_facts(s);
    *session = s;
    return 0;
}

/* Like ref_open, with some graph inputs given values now: they become constants, so shapes
 * that depend on them resolve at open.  For the conformance runner, whose node tests feed
 * shape arguments (Slice's starts, Expand's shape) as graph inputs. */
int ref_open_bound(const char *path, int n_bound, const eb_tensor *bound, void **session,
                   eb_err *err)
{
    ref_session *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return eb_errf(err, "%s: out of memory", path);
    }
    int rc = ref_load(s, s->path, 1, err);
    for (int b = 0; rc == 0 && b < n_bound; b++) {
        int idx = ref_value_find(s, bound[b].name);
        ref_value *v = idx >= 0 ? &s->vals[idx] : NULL;
        if (!v || v->kind != REF_VAL_INPUT || v->dtype != bound[b].dtype ||
            eb_tensor_numel(&bound[b]) != v->numel) {
            rc = eb_errf(err, "cannot bind '%s': not a graph input of that type", bound[b].name);
            break;
        }
        size_t bytes = v->numel * eb_dtype_size(v->dtype);
        v->data = malloc(bytes ? bytes : 8);
        if (!v->data) {
            rc = eb_errf(err, "out of memory");
            break;
        }
        memcpy(v->data, bound[b].data, bytes);
        v->kind = REF_VAL_STATIC;
        for (int i = 0; i < s->n_in; i++)
            if (s->in_vals[i] == idx) {
                memmove(&s->in_vals[i], &s->in_vals[i + 1],
                        (size_t)(s->n_in - i - 1) * sizeof s->in_vals[0]);
                s->n_in--;
                break;
            }
    }
    if (rc != 0 || ref_graph_sort(s, err) != 0 || ref_shape_infer(s, err) != 0 ||
        ref_fuse_layernorm(s, err) != 0 || ref_plan(s, err) != 0) {
        eb_err_prefix(err, "%s", path);
        one_line(err);
        ref_session_free(s);
        return -1;
    }
    s->io.n_inputs = (size_t)s->n_in;
    s->io.n_outputs = (size_t)s->n_out;
    for (int i = 0; i < s->n_in; i++)
        describe(&s->vals[s->in_vals[i]], &s->io.inputs[i]);
    for (int i = 0; i < s->n_out; i++)
        describe(&s->vals[s->out_vals[i]], &s->io.outputs[i]);
    compute_facts(s);
    *session = s;
    return 0;
}

static int ref_io(void *session, eb_io *io)
{
    const ref_session *s = session;
    *io = s->io;
    return 0;
}

static int ref_facts(void *session, eb_model_facts *f)
{
    const ref_session *s = session;
    *f = s->facts;
    return 0;
}

/* "isa=avx2 threads=2 nodes=7 merged=3; Conv[int8] x2, Gemm[sparse] x1": the kernel set, the
 * nodes that run and those merged into others at open (BatchNormalization, activations, QDQ
 * chains), and every node whose kernel depends on its weights (the op_types with a [suffix]:
 * int8, sparse, dynamic quantization), so a row says which code it measured. */
static int ref_kernel_plan(void *session, char *buf, size_t n)
{
    const ref_session *s = session;
    int runs = 0, merged = 0;
    for (int i = 0; i < s->n_nodes; i++) {
        runs += !s->nodes[i].folded;
        merged += s->nodes[i].fused;
    }
    size_t k = (size_t)snprintf(buf, n, "isa=%s threads=%d nodes=%d merged=%d",
                                eb_ref_isa_name(s->isa), eb_ref_pool_threads(s->pool), runs,
                                merged);
    const char *sep = "; ";
    for (int i = 0; i < s->n_nodes && k < n; i++) {
        const char *t = s->nodes[i].op_type;
        if (s->nodes[i].folded || !strchr(t, '['))
            continue;
        int first = 1, count = 0;
        for (int j = 0; j < s->n_nodes; j++) {
            if (s->nodes[j].folded || strcmp(s->nodes[j].op_type, t) != 0)
                continue;
            first = first && j >= i; /* listed once, at its first occurrence */
            count++;
        }
        if (!first)
            continue;
        k += (size_t)snprintf(buf + k, n - k, "%s%s x%d", sep, t, count);
        sep = ", ";
    }
    return 0;
}

static int same_shape(const eb_tensor *t, const eb_tensor *want)
{
    if (t->ndim != want->ndim)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != want->shape[d])
            return 0;
    return 1;
}

static int run_checked(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out,
                       size_t n_out, eb_err *err)
{
    ref_session *s = session;
    char b1[128], b2[128];
    if (n_in != (size_t)s->n_in || n_out != (size_t)s->n_out)
        return eb_errf(err, "%s: the model takes %d inputs and gives %d outputs, but %zu and %zu "
                            "were passed",
                       s->path, s->n_in, s->n_out, n_in, n_out);
    for (int i = 0; i < s->n_in; i++) {
        const eb_tensor *want = &s->io.inputs[i];
        if (in[i].dtype != want->dtype || !same_shape(&in[i], want) || !in[i].data)
            return eb_errf(err, "%s: input '%s' must be %s %s, got %s %s%s", s->path,
                           want->name, eb_dtype_name(want->dtype),
                           eb_shape_str(want, b1, sizeof b1), eb_dtype_name(in[i].dtype),
                           eb_shape_str(&in[i], b2, sizeof b2),
                           in[i].data ? "" : " without data");
        /* Kernels only read inputs, so the caller's buffer is used in place. */
        s->vals[s->in_vals[i]].data = in[i].data;
    }
    for (int i = 0; i < s->n_out; i++)
        if (!out[i].data)
            return eb_errf(err, "%s: output %d ('%s') has no buffer to write to", s->path, i,
                           s->io.outputs[i].name);
    ref_run_nodes(s); /* profile.c: every node not folded, timed when profiling */
    for (int i = 0; i < s->n_out; i++) {
        const ref_value *v = &s->vals[s->out_vals[i]];
        memcpy(out[i].data, v->data, v->numel * eb_dtype_size(v->dtype));
        void *data = out[i].data;
        describe(v, &out[i]);
        out[i].data = data;
    }
    for (int i = 0; i < s->n_in; i++)
        s->vals[s->in_vals[i]].data = NULL; /* never keep a pointer to the caller's memory */
    return 0;
}

static int ref_run(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out, size_t n_out,
                   eb_err *err)
{
    if (run_checked(session, in, n_in, out, n_out, err) != 0) {
        one_line(err);
        return -1;
    }
    return 0;
}

static void ref_close(void *session)
{
    ref_session_free(session);
}

static int ref_probe(char *why, size_t n)
{
    (void)why, (void)n;
    return 0; /* portable C: runs wherever edgebench builds */
}

static const eb_option_spec ref_options[] = {
    {"profile", "bool", "0", "time every node (per node and per operator type, for ops.csv)"},
    {"sparse_threshold", "float", "0.9",
     "share of zero weights from which Gemm/MatMul/1x1 Conv run on CSR kernels (>1: never)"},
    {"qdq_fuse", "bool", "1", "fuse QDQ Conv/Gemm/MatMul chains into int8 kernels at open"},
    {NULL, NULL, NULL, NULL},
};

const eb_backend_i eb_backend_ref = {
    .api_version = EB_BACKEND_API,
    .name = "ref",
    .description = "built-in ONNX engine (float32, portable C; the embedded default)",
    .formats = "onnx",
    .options = ref_options,
    .probe = ref_probe,
    .open = ref_open,
    .io = ref_io,
    .run = ref_run,
    .facts = ref_facts,
    .profile = ref_profile,
    .close = ref_close,
    .operators = ref_supported_ops,
    .plan = ref_kernel_plan,
};
