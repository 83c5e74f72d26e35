/* The backend interface: one versioned table of functions per inference runtime.
 *
 * The pattern is SQLite's sqlite3_io_methods and ggml's ggml_backend_i: methods are only ever
 * appended (bump EB_BACKEND_API when you add some), optional ones are marked, and the harness
 * calls them only through the wrappers in harness/backend.h, which check arguments and supply
 * defaults, so no call site tests for NULL.
 *
 * Built-in backends (ref, mock, the worker backends) register statically in harness/backend.c.
 * External backends are shared objects, backend-NAME.so, found in the colon-separated
 * EDGEBENCH_BACKEND_PATH, then in ../lib/edgebench beside the executable's directory (an
 * install) and ../build/lib/edgebench (the source tree); each exports one function
 *     const eb_backend_i *edgebench_backend(unsigned host_api);
 * which gets the host's EB_BACKEND_API and returns its table (or NULL to decline).  The loader
 * (harness/plugin.h) refuses a plugin built for a newer API, one without that symbol, one that
 * does not dlopen, or one whose name is taken, and `edgebench backends` says why.  plugins/README.md
 * says how to build one.  A backend never calls exit() and never prints: errors come back as -1
 * (or EB_UNSUPPORTED) plus one line in `eb_err`.
 *
 * Life of a session, as the harness drives it in each trial's child process:
 *   probe()                      once, to tell whether the backend can run here at all
 *   open(model, config)          parse, validate, plan every buffer (all allocation happens here)
 *   io()                         describe inputs and outputs with their bound shapes
 *   facts()                      parameters, nonzero parameters, MACs per inference (optional)
 *   plan()                       how it will run the model: kernels, partitions (optional)
 *   run(inputs, outputs) x N     the timed call: must not allocate
 *   close()
 */
#ifndef EB_BACKEND_H
#define EB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "../harness/err.h"
#include "../harness/tensor.h"

/* 2 appended memory(), 3 plan(); a plugin built for an older version still loads (its missing
 * methods read as NULL). */
#define EB_BACKEND_API 3

/* open() returns this (instead of -1, with the reason in `eb_err`) when the backend cannot run
 * the model at all -- a format, an operator or a data type it lacks -- as opposed to failing
 * on it.  The trial becomes a row with status "unsupported" and the scenario goes on; such rows
 * do not make `edgebench run` exit 1.  (Appended contract: hosts older than API 2 treat it as
 * a failure, which is what -2 != 0 means to them.) */
#define EB_UNSUPPORTED (-2)

/* Upper bound on inputs/outputs a session may expose. */
#define EB_MAX_IO 16

/* A model as the harness knows it before any backend looked at it. */
typedef struct eb_model {
    const char *path;   /* file on disk (may be NULL for backends that need no file, e.g. mock) */
    const char *format; /* "onnx", derived from the file name */
} eb_model;

/* One backend option given by the scenario or the CLI, as text; the backend parses it. */
typedef struct eb_option {
    const char *key;
    const char *value;
} eb_option;

/* What an option means, for `edgebench help BACKEND` (sysbench's SB_OPT tables). */
typedef struct eb_option_spec {
    const char *key;
    const char *type; /* "int", "float", "string", "bool" */
    const char *default_value;
    const char *help;
} eb_option_spec;

typedef struct eb_config {
    int threads;       /* worker threads the backend may use (>= 1) */
    int batch;         /* binds the leading symbolic dimension of every input (>= 1) */
    const char *cores; /* the core set the trial is pinned to, as given ("all", "0,2") */
    const eb_option *options;
    size_t n_options;
    /* Optional: the shape the harness will feed as input 0 (batch included), so backends
     * that adapt to their input (mock) can take it; NULL when unknown. */
    const eb_tensor *input_hint;
} eb_config;

/* Inputs and outputs of an open session.  Tensors carry names, dtypes and bound shapes;
 * their data pointers are NULL.  Storage for names is owned by the session. */
typedef struct eb_io {
    size_t n_inputs, n_outputs;
    eb_tensor inputs[EB_MAX_IO];
    eb_tensor outputs[EB_MAX_IO];
} eb_io;

/* Facts about the model as opened (batch bound).  -1 means "not known". */
typedef struct eb_model_facts {
    int64_t params;         /* elements of all weights (initializers) */
    int64_t nonzero_params; /* of which nonzero */
    int64_t macs;           /* multiply-accumulates per inference, from the shapes */
} eb_model_facts;

/* Time spent per node, for profiling (issue 3 fills this in). */
typedef struct eb_op_time {
    const char *node;
    const char *op_type;
    double ms;
} eb_op_time;

typedef struct eb_backend_i {
    unsigned api_version; /* EB_BACKEND_API the backend was built against */
    const char *name;
    const char *description;
    const char *formats;               /* comma-separated model formats: "onnx" */
    const eb_option_spec *options;     /* terminated by an entry with key == NULL; may be NULL */

    /* methods of version 1 */
    int (*probe)(char *why, size_t n); /* (optional) 0: usable here; else why not, in `why` */
    int (*open)(const eb_model *model, const eb_config *config, void **session, eb_err *err);
    int (*io)(void *session, eb_io *io);
    /* in[i] matches io->inputs[i] in dtype and shape; out[i] has data sized for
     * io->outputs[i], which the backend fills. */
    int (*run)(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out, size_t n_out,
               eb_err *err);
    int (*facts)(void *session, eb_model_facts *facts); /* (optional) */
    int (*profile)(void *session, eb_op_time *ops, size_t n); /* (optional) count written */
    void (*close)(void *session);
    /* (optional) the operators the backend runs, comma-separated, for `edgebench help BACKEND`
     * (so an "operator not supported" message can point there instead of listing them all) */
    const char *(*operators)(void);

    /* methods of version 2 */
    /* (optional) memory the session holds outside this process, for backends that run the
     * model in another one (a worker): that process's peak (VmHWM), its resident size now and
     * its resident size before the model was loaded, in kB; -1 where unknown.  The trial adds
     * the peak to peak_rss_kb and takes model_rss_kb from rss - base (memory_note says so). */
    int (*memory)(void *session, long *peak_kb, long *rss_kb, long *base_kb);

    /* methods of version 3 */
    /* (optional) one line on how the backend runs this model, as it decided at open: the
     * kernels it chose where the choice depends on the model or the CPU (ref: "isa=avx2;
     * Gemm[sparse] x2"; xnnpack: its runtimes and the glue between them).  It goes to
     * results.csv's backend_plan column, so two rows that differ in speed also say whether they
     * ran the same code.  Writes at most n bytes including the NUL; 0 on success. */
    int (*plan)(void *session, char *buf, size_t n);
} eb_backend_i;

/* The one symbol a backend plugin exports (see the top of this file). */
#define EB_BACKEND_ENTRY "edgebench_backend"
typedef const eb_backend_i *(*eb_backend_entry_fn)(unsigned host_api);

#endif
