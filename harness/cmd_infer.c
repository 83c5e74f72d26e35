/* `edgebench infer --backend NAME MODEL [--input [NAME=]X.npy]... [--output Y.npy]...`:
 * one inference on given inputs, outputs written as NPY — for numerical debugging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "commands.h"
#include "feed.h"
#include "npy.h"

typedef struct infer_args {
    const char *backend, *model;
    const char *inputs[EB_MAX_IO], *input_names[EB_MAX_IO];
    const char *outputs[EB_MAX_IO];
    size_t n_inputs, n_outputs;
    eb_option options[32];
    size_t n_options;
    int threads;
    int profile; /* --profile: time every node over PROFILE_RUNS more runs, print the table */
} infer_args;

#define PROFILE_RUNS 20

static int infer_parse(int argc, char **argv, infer_args *a)
{
    memset(a, 0, sizeof *a);
    a->backend = "ref";
    a->threads = 1;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(o, "--backend") == 0 || strcmp(o, "-b") == 0) {
            if (!has_value)
                return eb_cmd_fail("infer: --backend needs a name");
            a->backend = argv[++i];
        } else if (strcmp(o, "--input") == 0 || strcmp(o, "-i") == 0) {
            if (!has_value)
                return eb_cmd_fail("infer: --input needs a .npy file");
            if (a->n_inputs == EB_MAX_IO)
                return eb_cmd_fail("infer: at most %d inputs", EB_MAX_IO);
            char *v = argv[++i], *eq = strchr(v, '=');
            if (eq) {
                *eq = '\0';
                a->input_names[a->n_inputs] = v;
                v = eq + 1;
            }
            a->inputs[a->n_inputs++] = v;
        } else if (strcmp(o, "--output") == 0 || strcmp(o, "-o") == 0) {
            if (!has_value)
                return eb_cmd_fail("infer: --output needs a .npy file");
            if (a->n_outputs == EB_MAX_IO)
                return eb_cmd_fail("infer: at most %d outputs", EB_MAX_IO);
            a->outputs[a->n_outputs++] = argv[++i];
        } else if (strcmp(o, "--threads") == 0) {
            if (!has_value || (a->threads = atoi(argv[++i])) < 1)
                return eb_cmd_fail("infer: --threads needs a number >= 1");
        } else if (strcmp(o, "--profile") == 0) {
            a->profile = 1;
        } else if (strcmp(o, "--set") == 0) {
            char *eq;
            if (!has_value || !(eq = strchr(argv[i + 1], '=')))
                return eb_cmd_fail("infer: --set needs KEY=VALUE");
            if (a->n_options == sizeof a->options / sizeof a->options[0] - 1) /* room for profile */
                return eb_cmd_fail("infer: too many --set options");
            *eq = '\0';
            a->options[a->n_options++] = (eb_option){argv[++i], eq + 1};
        } else if (o[0] == '-' && o[1]) {
            return eb_cmd_fail("infer: unknown option '%s'; see 'edgebench help infer'", o);
        } else if (a->model) {
            return eb_cmd_fail("infer: one model at a time (got '%s' and '%s')", a->model, o);
        } else {
            a->model = o;
        }
    }
    if (!a->model)
        return eb_cmd_fail("infer: which model? usage: edgebench infer --backend NAME MODEL "
                           "--input X.npy --output Y.npy");
    return 0;
}

/* Finds which model input the i-th --input feeds: by name when given, else by position. */
static int infer_match(const infer_args *a, size_t i, const eb_io *io)
{
    if (!a->input_names[i])
        return i < io->n_inputs ? (int)i : -1;
    for (size_t j = 0; j < io->n_inputs; j++)
        if (strcmp(io->inputs[j].name, a->input_names[i]) == 0)
            return (int)j;
    return -1;
}

static int infer_check(const char *file, const eb_tensor *got, const eb_tensor *want)
{
    char g[96], w[96];
    int same = got->dtype == want->dtype && got->ndim == want->ndim;
    for (int d = 0; same && d < got->ndim; d++)
        same = got->shape[d] == want->shape[d];
    if (same)
        return 0;
    return eb_cmd_fail("%s: input '%s' must be %s %s, the file holds %s %s", file, want->name,
                       eb_dtype_name(want->dtype), eb_shape_str(want, w, sizeof w),
                       eb_dtype_name(got->dtype), eb_shape_str(got, g, sizeof g));
}

/* Per-node times over PROFILE_RUNS runs, slowest first, with each node's share. */
static int infer_profile(const eb_backend_i *b, void *session, const eb_tensor *in, size_t n_in,
                         eb_tensor *out, size_t n_out, eb_err *err)
{
    eb_op_time discard, *t;
    eb_backend_profile(b, session, &discard, 0); /* forget the first (cold) run */
    for (int i = 0; i < PROFILE_RUNS; i++)
        if (eb_backend_run(b, session, in, n_in, out, n_out, err) != 0)
            return -1;
    int n = eb_backend_profile(b, session, NULL, 0);
    if (n <= 0)
        return eb_errf(err, "backend %s does not profile nodes", b->name);
    if (!(t = calloc((size_t)n, sizeof *t)))
        return eb_errf(err, "out of memory");
    n = eb_backend_profile(b, session, t, (size_t)n);
    double total = 0;
    for (int i = 0; i < n; i++)
        total += t[i].ms;
    for (int i = 1; i < n; i++) /* insertion sort, slowest first: n is a graph's node count */
        for (int j = i; j > 0 && t[j].ms > t[j - 1].ms; j--) {
            eb_op_time x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    printf("%-40s %-20s %10s %7s\n", "node", "op_type", "ms_per_run", "share");
    for (int i = 0; i < n; i++)
        printf("%-40.40s %-20.20s %10.4f %6.1f%%\n", t[i].node, t[i].op_type, t[i].ms,
               total > 0 ? 100 * t[i].ms / total : 0);
    printf("%-40s %-20s %10.4f (mean of %d runs)\n", "total", "", total, PROFILE_RUNS);
    free(t);
    return 0;
}

static void infer_print(const eb_tensor *t)
{
    char s[96];
    size_t n = eb_tensor_numel(t);
    printf("%s %s %s:", t->name, eb_dtype_name(t->dtype), eb_shape_str(t, s, sizeof s));
    for (size_t i = 0; i < n && i < 10 && t->dtype == EB_F32; i++)
        printf(" %.6g", ((const float *)t->data)[i]);
    printf("%s\n", n > 10 ? " ..." : "");
}

int eb_cmd_infer(int argc, char **argv)
{
    infer_args a;
    eb_tensor given[EB_MAX_IO] = {{0}}, in[EB_MAX_IO] = {{0}}, out[EB_MAX_IO] = {{0}};
    eb_io io;
    eb_feed feed = {0};
    eb_err err = {{0}};
    void *session = NULL;
    int code = 2;

    if (infer_parse(argc, argv, &a) != 0)
        return 2;
    const eb_backend_i *b = eb_backend_find(a.backend);
    char names[256], why[256];
    if (!b)
        return eb_cmd_fail("infer: unknown backend '%s' (known: %s)", a.backend,
                           eb_backend_names(names, sizeof names));
    if (eb_backend_probe(b, why, sizeof why) != 0)
        return eb_cmd_fail("infer: backend '%s' is not available here: %s", b->name, why);
    for (size_t i = 0; i < a.n_inputs; i++)
        if (eb_npy_read(a.inputs[i], &given[i], &err) != 0) {
            eb_cmd_fail("%s", err.msg);
            goto out;
        }

    if (a.profile) {
        int declared = 0;
        for (const eb_option_spec *o = b->options; o && o->key; o++)
            declared |= strcmp(o->key, "profile") == 0;
        if (!declared)
            return eb_cmd_fail("infer: backend '%s' cannot profile nodes", b->name);
        a.options[a.n_options++] = (eb_option){"profile", "1"};
    }
    eb_config config = {.threads = a.threads,
                        .batch = a.n_inputs && given[0].ndim ? (int)given[0].shape[0] : 1,
                        .cores = "all",
                        .options = a.options,
                        .n_options = a.n_options,
                        .input_hint = a.n_inputs ? &given[0] : NULL};
    eb_model model = {.path = a.model, .format = "onnx"};
    if (config.batch < 1) {
        eb_cmd_fail("%s: the leading dimension (batch) is 0", a.inputs[0]);
        goto out;
    }
    if (eb_backend_open(b, &model, &config, &session, &err) != 0 ||
        eb_backend_io(b, session, &io, &err) != 0) {
        eb_cmd_fail("%s", err.msg);
        goto out;
    }
    if (a.n_inputs == 0) {
        if (eb_feed_init(&feed, &io, NULL, config.batch, &err) != 0) {
            eb_cmd_fail("%s: %s", a.model, err.msg);
            goto out;
        }
        memcpy(in, feed.slots[0], sizeof in);
    } else {
        if (a.n_inputs != io.n_inputs) {
            eb_cmd_fail("%s: the model has %zu input%s, %zu given with --input", a.model,
                        io.n_inputs, io.n_inputs == 1 ? "" : "s", a.n_inputs);
            goto out;
        }
        for (size_t i = 0; i < a.n_inputs; i++) {
            int j = infer_match(&a, i, &io);
            if (j < 0) {
                eb_cmd_fail("%s: the model has no input named '%s'", a.inputs[i],
                            a.input_names[i]);
                goto out;
            }
            if (infer_check(a.inputs[i], &given[i], &io.inputs[j]) != 0)
                goto out;
            in[j] = io.inputs[j];
            in[j].data = given[i].data;
        }
    }
    if (a.n_outputs > io.n_outputs) {
        eb_cmd_fail("%s: the model has %zu output%s, %zu --output files given", a.model,
                    io.n_outputs, io.n_outputs == 1 ? "" : "s", a.n_outputs);
        goto out;
    }
    for (size_t i = 0; i < io.n_outputs; i++) {
        out[i] = io.outputs[i];
        if (!(out[i].data = calloc(1, eb_tensor_bytes(&out[i]) + 1))) {
            eb_cmd_fail("out of memory for output '%s'", out[i].name);
            goto out;
        }
    }
    if (eb_backend_run(b, session, in, io.n_inputs, out, io.n_outputs, &err) != 0) {
        eb_cmd_fail("%s: %s", a.model, err.msg);
        code = 1;
        goto out;
    }
    if (a.profile && infer_profile(b, session, in, io.n_inputs, out, io.n_outputs, &err) != 0) {
        eb_cmd_fail("%s: %s", a.model, err.msg);
        code = 1;
        goto out;
    }
    for (size_t i = 0; i < io.n_outputs; i++) {
        if (i < a.n_outputs) {
            if (eb_npy_write(a.outputs[i], &out[i], &err) != 0) {
                eb_cmd_fail("%s", err.msg);
                goto out;
            }
        } else if (a.n_outputs == 0) {
            infer_print(&out[i]);
        }
    }
    code = 0;
out:
    eb_backend_close(b, session);
    eb_feed_free(&feed);
    for (size_t i = 0; i < EB_MAX_IO; i++) {
        eb_tensor_free(&given[i]);
        eb_tensor_free(&out[i]);
    }
    return code;
}
