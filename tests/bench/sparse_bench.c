/* Speed of ref's issue-4 paths, one table per run:
 *
 *   sparse_bench                 Gemm layers (batch 1 and 32) at 0/50/80/95% zeros, dense
 *                                packed path (sparse_threshold=1) vs the CSR kernels; each
 *                                row is a one-node model built in memory... no: written by
 *                                make_quant_models.py?  No — the models are ONNX files given
 *                                on the command line:
 *   sparse_bench A.onnx B.onnx   p50 of A and of B (batch 1, 1 thread) and the ratio B/A,
 *                                e.g. qbench_fp32.onnx qbench_int8.onnx, or mlp.onnx
 *                                mlp-pruned95.onnx.
 *
 * Options after the models (key=value) go to both sessions (sparse_threshold=1 turns the
 * sparse kernels off, qdq_fuse=0 the int8 fusion).  Inputs are zeros... no: a fixed
 * pseudo-random fill, the same for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ref/ref_internal.h"

static double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sb_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50 in ms of `runs` inferences (after warm-up); -1 on error. */
static double sb_p50(const char *path, const eb_option *opt, size_t n_opt, int threads)
{
    eb_model m = {.path = path, .format = "onnx"};
    eb_config c = {.threads = threads, .batch = 1, .cores = "all", .options = opt,
                   .n_options = n_opt};
    void *s = NULL;
    eb_err err = {0};
    if (eb_backend_ref.open(&m, &c, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    eb_io io;
    eb_backend_ref.io(s, &io);
    eb_tensor in[EB_MAX_IO], out[EB_MAX_IO];
    uint32_t st = 7;
    for (size_t i = 0; i < io.n_inputs; i++) {
        in[i] = io.inputs[i];
        size_t n = eb_tensor_numel(&in[i]);
        in[i].data = calloc(n ? n : 1, 8);
        for (size_t j = 0; in[i].dtype == EB_F32 && j < n; j++) {
            st = st * 1664525u + 1013904223u;
            ((float *)in[i].data)[j] = (float)(st >> 8) / 16777216.0f;
        }
    }
    for (size_t i = 0; i < io.n_outputs; i++) {
        out[i] = io.outputs[i];
        out[i].data = calloc(eb_tensor_numel(&out[i]) + 1, 8);
    }
    enum { RUNS = 301 };
    static double t[RUNS];
    for (int r = -20; r < RUNS; r++) {
        double t0 = sb_now();
        if (eb_backend_ref.run(s, in, io.n_inputs, out, io.n_outputs, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return -1;
        }
        if (r >= 0)
            t[r] = (sb_now() - t0) * 1e3;
    }
    qsort(t, RUNS, sizeof t[0], sb_cmp);
    const ref_session *rs = s;
    fprintf(stderr, "  %s: %d int8 nodes, %d sparse nodes\n", path, ref_qdq_nodes(rs),
            ref_sparse_nodes(rs));
    for (size_t i = 0; i < io.n_inputs; i++)
        free(in[i].data);
    for (size_t i = 0; i < io.n_outputs; i++)
        free(out[i].data);
    eb_backend_ref.close(s);
    return t[RUNS / 2];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sparse_bench BASE.onnx VARIANT.onnx [key=value...]\n");
        return 2;
    }
    eb_option opt[16];
    size_t n_opt = 0;
    static char kv[16][128];
    int threads = 1;
    for (int i = 3; i < argc && n_opt < 16; i++) {
        snprintf(kv[n_opt], sizeof kv[n_opt], "%s", argv[i]);
        char *eq = strchr(kv[n_opt], '=');
        if (!eq)
            continue;
        *eq = 0;
        if (strcmp(kv[n_opt], "threads") == 0) {
            threads = atoi(eq + 1);
            continue;
        }
        opt[n_opt].key = kv[n_opt];
        opt[n_opt].value = eq + 1;
        n_opt++;
    }
    double a = sb_p50(argv[1], opt, n_opt, threads), b = sb_p50(argv[2], opt, n_opt, threads);
    if (a < 0 || b < 0)
        return 1;
    printf("%-40s p50 %8.3f ms\n%-40s p50 %8.3f ms\nratio %.3f\n", argv[1], a, argv[2], b, b / a);
    return 0;
}
