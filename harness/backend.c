/* The registry of backends (built-ins, then plugins) and the wrappers the harness calls them
 * through. */
#include "backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../backends/mock/mock.h"
#include "../backends/ref/ref.h"
#include "../backends/worker/worker.h"

/* Built-in backends register statically; `ref` first, since it is the default.  xnnpack is a
 * plugin (plugins/xnnpack/, build/lib/edgebench/backend-xnnpack.so). */
static const eb_backend_i *const builtin[] = {
    &eb_backend_ref,
    &eb_backend_mock,
    &eb_backend_onnxruntime,
    &eb_backend_pytorch,
    &eb_backend_worker,
};

#define N_BUILTIN (sizeof builtin / sizeof builtin[0])

/* Plugins are loaded once per process, on first use, and never unloaded (harness/plugin.h):
 * the one piece of process-wide state here, as a dynamic loader's registry must be. */
static eb_plugins backend_plugins;
static pthread_once_t backend_plugins_once = PTHREAD_ONCE_INIT;

static void backend_plugins_load(void)
{
    char dirs[4096];
    const char *taken[N_BUILTIN];
    for (size_t i = 0; i < N_BUILTIN; i++)
        taken[i] = builtin[i]->name;
    eb_plugins_scan(&backend_plugins, eb_plugin_dirs(dirs, sizeof dirs), taken, N_BUILTIN);
}

static const eb_plugins *backend_plugins_get(void)
{
    pthread_once(&backend_plugins_once, backend_plugins_load);
    return &backend_plugins;
}

size_t eb_backend_count(void)
{
    return N_BUILTIN + backend_plugins_get()->n;
}

const eb_backend_i *eb_backend_at(size_t i)
{
    const eb_plugins *p = backend_plugins_get();
    if (i < N_BUILTIN)
        return builtin[i];
    return i - N_BUILTIN < p->n ? &p->tables[i - N_BUILTIN] : NULL;
}

const char *eb_backend_path(size_t i)
{
    const eb_plugins *p = backend_plugins_get();
    return i >= N_BUILTIN && i - N_BUILTIN < p->n ? p->paths[i - N_BUILTIN] : NULL;
}

size_t eb_backend_refusal_count(void)
{
    return backend_plugins_get()->n_refused;
}

const eb_plugin_refusal *eb_backend_refusal_at(size_t i)
{
    const eb_plugins *p = backend_plugins_get();
    return i < p->n_refused ? &p->refused[i] : NULL;
}

const eb_backend_i *eb_backend_find(const char *name)
{
    for (size_t i = 0; name && i < eb_backend_count(); i++)
        if (strcmp(eb_backend_at(i)->name, name) == 0)
            return eb_backend_at(i);
    return NULL;
}

const char *eb_backend_names(char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < eb_backend_count() && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", eb_backend_at(i)->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

int eb_backend_probe(const eb_backend_i *b, char *why, size_t n)
{
    if (n)
        why[0] = '\0';
    if (b->api_version != EB_BACKEND_API) {
        snprintf(why, n, "built for backend API %u, this edgebench speaks %u", b->api_version,
                 EB_BACKEND_API);
        return -1;
    }
    return b->probe ? b->probe(why, n) : 0;
}

/* Does a comma-separated format list ("onnx", "any") admit `format`?  An unknown format (NULL)
 * is left to the backend. */
static int backend_takes_format(const char *formats, const char *format)
{
    size_t n = format ? strlen(format) : 0;
    if (!format || !formats)
        return 1;
    for (const char *p = formats; *p;) {
        size_t k = strcspn(p, ",");
        while (*p == ' ' && k > 0)
            p++, k--;
        if ((k == 3 && strncmp(p, "any", 3) == 0) || (k == n && strncmp(p, format, n) == 0))
            return 1;
        p += k;
        p += *p == ',';
    }
    return 0;
}

int eb_backend_open(const eb_backend_i *b, const eb_model *m, const eb_config *c, void **session,
                    eb_err *err)
{
    if (c->threads < 1 || c->batch < 1)
        return eb_errf(err, "backend %s: threads and batch must be >= 1 (got %d, %d)", b->name,
                       c->threads, c->batch);
    *session = NULL;
    err->msg[0] = '\0';
    if (!backend_takes_format(b->formats, m->format)) {
        eb_errf(err, "backend %s takes %s models, not %s", b->name, b->formats, m->format);
        return EB_UNSUPPORTED;
    }
    int rc = b->open(m, c, session, err);
    if (rc != 0) {
        if (!err->msg[0])
            eb_errf(err, "backend %s: could not open %s (no reason given)", b->name,
                    m->path ? m->path : "the model");
        return rc == EB_UNSUPPORTED ? EB_UNSUPPORTED : -1;
    }
    return 0;
}

int eb_backend_memory(const eb_backend_i *b, void *session, long *peak_kb, long *rss_kb,
                      long *base_kb)
{
    *peak_kb = *rss_kb = *base_kb = -1;
    if (!b->memory || !session)
        return -1;
    return b->memory(session, peak_kb, rss_kb, base_kb) == 0 && *peak_kb >= 0 ? 0 : -1;
}

int eb_backend_io(const eb_backend_i *b, void *session, eb_io *io, eb_err *err)
{
    memset(io, 0, sizeof *io);
    if (b->io(session, io) != 0)
        return eb_errf(err, "backend %s: could not describe the model's inputs and outputs",
                       b->name);
    if (io->n_inputs > EB_MAX_IO || io->n_outputs > EB_MAX_IO || io->n_outputs == 0)
        return eb_errf(err, "backend %s: model has %zu inputs and %zu outputs (supported: up to "
                            "%d each, at least one output)",
                       b->name, io->n_inputs, io->n_outputs, EB_MAX_IO);
    return 0;
}

int eb_backend_facts(const eb_backend_i *b, void *session, eb_model_facts *f)
{
    f->params = f->nonzero_params = f->macs = -1;
    return b->facts ? b->facts(session, f) : 0;
}

int eb_backend_plan(const eb_backend_i *b, void *session, char *buf, size_t n)
{
    if (!n)
        return -1;
    buf[0] = '\0';
    if (!b->plan || !session || b->plan(session, buf, n) != 0) {
        buf[0] = '\0';
        return -1;
    }
    buf[n - 1] = '\0'; /* a backend that filled the buffer to the end still ends it */
    for (char *c = buf; *c; c++) /* one line: results.csv's cells and the report */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return 0;
}

int eb_backend_run(const eb_backend_i *b, void *session, const eb_tensor *in, size_t n_in,
                   eb_tensor *out, size_t n_out, eb_err *err)
{
    if (b->run(session, in, n_in, out, n_out, err) != 0) {
        if (!err->msg[0])
            eb_errf(err, "backend %s: inference failed (no reason given)", b->name);
        return -1;
    }
    return 0;
}

int eb_backend_profile(const eb_backend_i *b, void *session, eb_op_time *ops, size_t n)
{
    int k = b->profile && session ? b->profile(session, ops, n) : 0;
    return k < 0 ? 0 : k;
}

void eb_backend_close(const eb_backend_i *b, void *session)
{
    if (session)
        b->close(session);
}

const char *eb_option_get(const eb_config *c, const char *key, const char *def)
{
    /* The last occurrence wins, so the command line can override a scenario. */
    const char *v = def;
    for (size_t i = 0; i < c->n_options; i++)
        if (strcmp(c->options[i].key, key) == 0)
            v = c->options[i].value;
    return v;
}
