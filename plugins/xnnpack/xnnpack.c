/* The xnnpack backend's table: open loads the graph with ref's loader, maps it to an XNNPACK
 * subgraph (xnn_map.c), creates the runtime on a pthreadpool and binds it once to staging
 * buffers; run converts the inputs into them (NCHW -> NHWC for 4-D), invokes, converts back. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xnn_internal.h"

static const eb_option_spec xnn_options[] = {
    {"sparse", "string", "0",
     "1: pass XNN_FLAG_SPARSE_INFERENCE (XNNPACK runs a 3x3s2 conv -> 1x1 convs with over 2/3 "
     "zeros -> GlobalAveragePool cluster in sparse NCHW, but only where it marks its CHW "
     "kernels optimized: ARM, not x86-64, in this snapshot); force: call XNNPACK's NCHW rewrite "
     "itself, to measure that path on any CPU; 0: dense"},
    {NULL, NULL, NULL, NULL},
};

static int xnn_probe(char *why, size_t n)
{
    eb_xnn_api api;
    if (eb_xnn_api_open(&api, why, n) != 0)
        return -1;
    eb_xnn_api_close(&api);
    return 0;
}

static void xnn_session_free(xnn_session *x)
{
    if (!x)
        return;
#if EB_XNN_HAVE_HEADER
    for (int i = 0; i < x->n_parts; i++) {
        if (x->parts[i].runtime)
            x->api.xnn_delete_runtime(x->parts[i].runtime);
        if (x->parts[i].subgraph)
            x->api.xnn_delete_subgraph(x->parts[i].subgraph);
        free(x->parts[i].ext);
    }
    if (x->pool)
        x->api.pthreadpool_destroy(x->pool);
#endif
    free(x->parts), free(x->steps), free(x->copies), free(x->want_buf);
    for (int i = 0; i < EB_MAX_IO; i++)
        free(x->in[i].stage), free(x->out[i].stage);
    for (size_t i = 0; i < x->n_owned; i++)
        free(x->owned[i]);
    free(x->owned), free(x->vals), free(x->skip);
    if (x->g)
        ref_session_free(x->g);
    eb_xnn_api_close(&x->api);
    free(x);
}

static void xnn_close(void *session)
{
    xnn_session_free(session);
}

/* Parameters as ref counts them (float initializers), MACs of the nodes that run. */
static void xnn_compute_facts(xnn_session *x)
{
    const ref_session *g = x->g;
    int64_t params = 0, nonzero = 0, macs = 0;
    for (int i = 0; i < g->n_vals; i++) {
        const ref_value *v = &g->vals[i];
        if (v->kind != REF_VAL_WEIGHT || v->dtype != EB_F32)
            continue;
        params += (int64_t)v->numel;
        for (size_t j = 0; j < v->numel; j++)
            nonzero += ((const float *)v->data)[j] != 0.0f;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].folded)
            macs += g->nodes[i].macs;
    x->facts.params = params, x->facts.nonzero_params = nonzero, x->facts.macs = macs;
}

static void xnn_describe(const ref_value *v, eb_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->name = v->name;
    t->dtype = v->dtype;
    t->ndim = v->ndim;
    memcpy(t->shape, v->shape, sizeof t->shape);
}

static int xnn_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
        !strcasecmp(s, "on"))
        return *out = 1, 0;
    if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") ||
        !strcasecmp(s, "off"))
        return *out = 0, 0;
    return -1;
}

#if EB_XNN_HAVE_HEADER
/* Runtime, thread pool and staging buffers for a mapped subgraph. */
static int xnn_make_runtime(xnn_session *x, const eb_config *config, eb_err *err)
{
    int threads = config && config->threads > 0 ? config->threads : 1;
    if (threads > 1 && !(x->pool = x->api.pthreadpool_create((size_t)threads)))
        return eb_errf(err, "xnnpack: pthreadpool_create(%d) failed", threads);
    enum xnn_status st;
    void *opt = NULL, *rw = NULL;
    if (x->sparse == 2) {
        /* sparse=force: XNNPACK rewrites for NCHW only where its CHW kernels are marked
         * optimized for the host (XNN_INIT_FLAG_CHW_OPT: ARM, not x86-64 in this snapshot);
         * its exported but internal rewrite pass is called here to measure what it would do */
        opt = dlsym(x->api.lib, "xnn_subgraph_optimize");
        rw = dlsym(x->api.lib, "xnn_subgraph_rewrite_for_nchw");
        if (!opt || !rw)
            return eb_errf(err, "xnnpack: sparse=force needs xnn_subgraph_optimize and "
                                "xnn_subgraph_rewrite_for_nchw, which this library does not export");
    }
    /* one runtime per partition, all on the session's pool, each bound once to its buffers
     * (staging buffers and the glue buffers between partitions): run() does no setup work */
    for (int i = 0; i < x->n_parts; i++) {
        xnn_part *p = &x->parts[i];
        if (x->sparse == 2) {
            enum xnn_status (*optimize)(xnn_subgraph_t, uint32_t);
            void (*rewrite)(xnn_subgraph_t);
            memcpy(&optimize, &opt, sizeof opt);
            memcpy(&rewrite, &rw, sizeof rw);
            if ((st = optimize(p->subgraph, 0)) != xnn_status_success)
                return eb_errf(err, "xnnpack: xnn_subgraph_optimize failed (%s)",
                               eb_xnn_status_name(st));
            rewrite(p->subgraph);
        }
        st = x->api.xnn_create_runtime_v2(p->subgraph, x->pool,
                                          x->sparse ? XNN_FLAG_SPARSE_INFERENCE : 0, &p->runtime);
        if (st != xnn_status_success)
            return eb_errf(err, "xnnpack: xnn_create_runtime_v2 failed (%s) for partition %d of "
                                "%d", eb_xnn_status_name(st), i + 1, x->n_parts);
        /* the runtime holds what it needs; static data stays in x->owned and x->g */
        x->api.xnn_delete_subgraph(p->subgraph);
        p->subgraph = NULL;
        st = x->api.xnn_setup_runtime(p->runtime, p->n_ext, p->ext);
        if (st != xnn_status_success)
            return eb_errf(err, "xnnpack: xnn_setup_runtime failed (%s) for partition %d of %d",
                           eb_xnn_status_name(st), i + 1, x->n_parts);
    }
    return 0;
}
#endif

static int xnn_open(const eb_model *model, const eb_config *config, void **session, eb_err *err)
{
    if (!model || !model->path)
        return eb_errf(err, "backend xnnpack: needs an ONNX model file");
    xnn_session *x = calloc(1, sizeof *x);
    if (!x)
        return eb_errf(err, "%s: out of memory", model->path);
    for (size_t i = 0; config && i < config->n_options; i++) {
        const eb_option *o = &config->options[i];
        if (o->key && !strcmp(o->key, "sparse") && o->value && !strcasecmp(o->value, "force"))
            x->sparse = 2;
        else if (o->key && !strcmp(o->key, "sparse") &&
                 xnn_bool(o->value ? o->value : "", &x->sparse)) {
            free(x);
            return eb_errf(err, "backend xnnpack: option sparse must be 0, 1 or force, not '%s'",
                           o->value ? o->value : "");
        }
    }
    char why[512];
    if (eb_xnn_api_open(&x->api, why, sizeof why) != 0) {
        free(x);
        return eb_errf(err, "backend xnnpack: %s", why);
    }
    int rc = -1;
    x->g = calloc(1, sizeof *x->g);
    if (!x->g || !(x->g->path = strdup(model->path))) {
        eb_errf(err, "%s: out of memory", model->path);
        goto fail;
    }
    int batch = config && config->batch > 0 ? config->batch : 1;
    if (ref_load(x->g, x->g->path, batch, err) != 0 || ref_graph_sort(x->g, err) != 0 ||
        ref_shape_infer(x->g, err) != 0)
        goto fail_prefixed;
    if ((rc = xnn_map_graph(x, err)) != 0)
        goto fail_prefixed;
    rc = -1;
#if EB_XNN_HAVE_HEADER
    if (xnn_make_runtime(x, config, err) != 0)
        goto fail_prefixed;
#endif
    x->io.n_inputs = (size_t)x->n_in;
    x->io.n_outputs = (size_t)x->n_out;
    for (int i = 0; i < x->n_in; i++)
        xnn_describe(&x->g->vals[x->in[i].val], &x->io.inputs[i]);
    for (int i = 0; i < x->n_out; i++)
        xnn_describe(&x->g->vals[x->out[i].val], &x->io.outputs[i]);
    xnn_compute_facts(x);
    *session = x;
    return 0;
fail_prefixed:
    eb_err_prefix(err, "%s", model->path);
    for (char *c = err->msg; *c; c++) /* names from the file stay one printable line */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
fail:
    xnn_session_free(x);
    return rc;
}

static int xnn_io(void *session, eb_io *io)
{
    *io = ((const xnn_session *)session)->io;
    return 0;
}

static int xnn_facts(void *session, eb_model_facts *f)
{
    *f = ((const xnn_session *)session)->facts;
    return 0;
}

static int xnn_same(const eb_tensor *t, const eb_tensor *want)
{
    if (t->dtype != want->dtype || t->ndim != want->ndim || !t->data)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != want->shape[d])
            return 0;
    return 1;
}

/* [n][c][hw] -> [n][hw][c] (to_nhwc) or back. */
static void xnn_transpose(const xnn_port *p, const float *src, float *dst, int to_nhwc)
{
    int64_t c = p->c, hw = p->hw;
    for (int64_t n = 0; n < p->n; n++) {
        const float *s = src + n * c * hw;
        float *d = dst + n * c * hw;
        for (int64_t ci = 0; ci < c; ci++)
            for (int64_t i = 0; i < hw; i++) {
                if (to_nhwc)
                    d[i * c + ci] = s[ci * hw + i];
                else
                    d[ci * hw + i] = s[i * c + ci];
            }
    }
}

/* A glue node's strided copy (see xnn_copy): an odometer over the outer dims, the innermost
 * one a memcpy when contiguous on both sides. */
static void xnn_copy_run(const xnn_copy *c)
{
    int64_t idx[EB_MAX_DIMS + 1] = {0};
    int k = c->nd - 1;
    int64_t n = c->n[k], a = c->ss[k], b = c->ds[k];
    const float *s = c->src;
    float *d = c->dst;
    for (;;) {
        if (a == 1 && b == 1)
            memcpy(d, s, (size_t)n * sizeof *d);
        else
            for (int64_t i = 0; i < n; i++)
                d[i * b] = s[i * a];
        int j = k - 1;
        for (; j >= 0; j--) {
            s += c->ss[j], d += c->ds[j];
            if (++idx[j] < c->n[j])
                break;
            s -= c->ss[j] * c->n[j], d -= c->ds[j] * c->n[j];
            idx[j] = 0;
        }
        if (j < 0)
            return;
    }
}

static int xnn_run(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out, size_t n_out,
                   eb_err *err)
{
    xnn_session *x = session;
    char b1[128], b2[128];
    if (n_in != (size_t)x->n_in || n_out != (size_t)x->n_out)
        return eb_errf(err, "%s: the model takes %d inputs and gives %d outputs, but %zu and %zu "
                            "were passed",
                       x->g->path, x->n_in, x->n_out, n_in, n_out);
    for (int i = 0; i < x->n_in; i++) {
        const eb_tensor *want = &x->io.inputs[i];
        if (!xnn_same(&in[i], want))
            return eb_errf(err, "%s: input '%s' must be %s %s, got %s %s", x->g->path, want->name,
                           eb_dtype_name(want->dtype), eb_shape_str(want, b1, sizeof b1),
                           eb_dtype_name(in[i].dtype), eb_shape_str(&in[i], b2, sizeof b2));
    }
    for (int i = 0; i < x->n_out; i++)
        if (!xnn_same(&out[i], &x->io.outputs[i]))
            return eb_errf(err, "%s: output %d must be %s %s with data", x->g->path, i,
                           eb_dtype_name(x->io.outputs[i].dtype),
                           eb_shape_str(&x->io.outputs[i], b1, sizeof b1));
    for (int i = 0; i < x->n_in; i++) {
        const xnn_port *p = &x->in[i];
        if (p->c > 0)
            xnn_transpose(p, in[i].data, p->stage, 1);
        else
            memcpy(p->stage, in[i].data, p->numel * sizeof(float));
    }
#if EB_XNN_HAVE_HEADER
    for (int i = 0; i < x->n_steps; i++) {
        const xnn_step *s = &x->steps[i];
        if (s->part < 0) {
            for (size_t c = 0; c < s->nc; c++)
                xnn_copy_run(&x->copies[s->c0 + c]);
            continue;
        }
        enum xnn_status st = x->api.xnn_invoke_runtime(x->parts[s->part].runtime);
        if (st != xnn_status_success)
            return eb_errf(err, "%s: xnn_invoke_runtime failed (%s) in partition %d of %d",
                           x->g->path, eb_xnn_status_name(st), s->part + 1, x->n_parts);
    }
#endif
    for (int i = 0; i < x->n_out; i++) {
        const xnn_port *p = &x->out[i];
        if (p->c > 0)
            xnn_transpose(p, p->stage, out[i].data, 0);
        else
            memcpy(out[i].data, p->stage, p->numel * sizeof(float));
    }
    return 0;
}

/* "runtimes=3 nodes=52 qs8=0 sparse=off; glue: Concat x2, Transpose x1": how the graph was
 * split (one XNNPACK runtime per part), the XNNPACK nodes defined and how many are int8, and
 * the ONNX nodes run as the plugin's copies between the runtimes. */
static int xnn_plan(void *session, char *buf, size_t n)
{
    const xnn_session *x = session;
    static const char *const sparse_mode[] = {"off", "on", "force"};
    size_t k = (size_t)snprintf(buf, n, "runtimes=%d nodes=%d qs8=%d sparse=%s", x->n_parts,
                                x->n_xnn_nodes, x->n_qs8_nodes,
                                sparse_mode[x->sparse >= 0 && x->sparse <= 2 ? x->sparse : 0]);
    const char *sep = "; glue: ";
    for (int i = 0; i < x->n_steps && k < n; i++) {
        if (x->steps[i].part >= 0)
            continue;
        const char *t = x->g->nodes[x->steps[i].node].op_type;
        int first = 1, count = 0;
        for (int j = 0; j < x->n_steps; j++) {
            if (x->steps[j].part >= 0 || strcmp(x->g->nodes[x->steps[j].node].op_type, t) != 0)
                continue;
            first = first && j >= i; /* listed once, at its first step */
            count++;
        }
        if (first) {
            k += (size_t)snprintf(buf + k, n - k, "%s%s x%d", sep, t, count);
            sep = ", ";
        }
    }
    return 0;
}

const eb_backend_i eb_backend_xnnpack = {
    .api_version = EB_BACKEND_API,
    .name = "xnnpack",
    .description = "Google's XNNPACK (Debian's libxnnpack0, 2022 snapshot) through its subgraph "
                   "API: float32 and int8 QDQ ONNX models mapped at open, NHWC inside, "
                   "pthreadpool threads",
    .formats = "onnx",
    .options = xnn_options,
    .probe = xnn_probe,
    .open = xnn_open,
    .io = xnn_io,
    .run = xnn_run,
    .facts = xnn_facts,
    .close = xnn_close,
    .operators = xnn_map_operators,
    .plan = xnn_plan,
};
