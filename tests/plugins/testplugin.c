/* A tiny backend plugin for the loader's tests (Makefile: TEST_PLUGINS).  Built several ways:
 *   (default)               backend "testplugin", API EB_BACKEND_API: loads and runs
 *   TESTPLUGIN_API=N        a table claiming API N (99: refused as newer; 1 and 2: load as that
 *                           version, the methods appended later reading NULL)
 *   TESTPLUGIN_NO_ENTRY     no edgebench_backend symbol: refused
 *   TESTPLUGIN_UNRESOLVED   calls a function nobody defines: dlopen refuses it
 * The model: input x float32 [batch, 4], output y = 2 x; option `unsupported=1` makes open
 * answer EB_UNSUPPORTED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#ifndef TESTPLUGIN_NAME
#define TESTPLUGIN_NAME "testplugin"
#endif
#ifndef TESTPLUGIN_API
#define TESTPLUGIN_API EB_BACKEND_API
#endif

typedef struct tp_session {
    int batch;
} tp_session;

#ifdef TESTPLUGIN_UNRESOLVED
int testplugin_nowhere(void);
#endif

static int tp_open(const eb_model *m, const eb_config *c, void **session, eb_err *err)
{
    for (size_t i = 0; i < c->n_options; i++)
        if (strcmp(c->options[i].key, "unsupported") == 0 && strcmp(c->options[i].value, "1") == 0)
            return eb_errf(err, TESTPLUGIN_NAME ": asked to be unsupported"), EB_UNSUPPORTED;
#ifdef TESTPLUGIN_UNRESOLVED
    if (testplugin_nowhere())
        return -1;
#endif
    tp_session *s = calloc(1, sizeof *s);
    if (!s)
        return eb_errf(err, TESTPLUGIN_NAME ": out of memory");
    s->batch = c->batch;
    *session = s;
    return 0;
}

static int tp_io(void *session, eb_io *io)
{
    tp_session *s = session;
    io->n_inputs = io->n_outputs = 1;
    io->inputs[0] = (eb_tensor){.name = "x", .dtype = EB_F32, .ndim = 2, .shape = {s->batch, 4}};
    io->outputs[0] = (eb_tensor){.name = "y", .dtype = EB_F32, .ndim = 2, .shape = {s->batch, 4}};
    return 0;
}

static int tp_run(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out, size_t n_out,
                  eb_err *err)
{
    size_t n = eb_tensor_numel(&in[0]); /* tensor.c, linked into the plugin */
    const float *x = in[0].data;
    float *y = out[0].data;
    for (size_t i = 0; i < n; i++)
        y[i] = 2 * x[i];
    return 0;
}

/* two lines on purpose: the harness flattens a plan to one */
static int tp_plan(void *session, char *buf, size_t n)
{
    const tp_session *s = session;
    snprintf(buf, n, "y = 2x\nbatch=%d", s->batch);
    return 0;
}

static void tp_close(void *session)
{
    free(session);
}

static const eb_option_spec tp_options[] = {
    {"unsupported", "bool", "0", "open answers EB_UNSUPPORTED"},
    {NULL, NULL, NULL, NULL},
};

static const eb_backend_i tp_backend = {
    .api_version = TESTPLUGIN_API,
    .name = TESTPLUGIN_NAME,
    .description = "loader test plugin (y = 2x)",
    .formats = "any",
    .options = tp_options,
    .open = tp_open,
    .io = tp_io,
    .run = tp_run,
    .close = tp_close,
    /* in every build: a table claiming an older API still has it, and the loader must cut the
     * table at that version's end */
    .plan = tp_plan,
};

#ifdef TESTPLUGIN_NO_ENTRY
#define TESTPLUGIN_ENTRY edgebench_backend_misspelled /* the loader must not find it */
#else
#define TESTPLUGIN_ENTRY edgebench_backend
#endif
const eb_backend_i *TESTPLUGIN_ENTRY(unsigned host_api);
const eb_backend_i *TESTPLUGIN_ENTRY(unsigned host_api)
{
    return host_api >= 1 ? &tp_backend : NULL;
}
