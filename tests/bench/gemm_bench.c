/* GEMM throughput of ref's packed kernels against the machine's theoretical peak.
 *
 *   build/bench/gemm_bench [--threads LIST] [--time SECONDS] [--fma-units N]
 *
 * Prints one line "M N K GFLOP/s peak%" per size at the first thread count of LIST (default
 * "1,2"); the other counts follow as note lines ("# 2 threads: M N K GFLOP/s peak%"), so
 * scripts/bench.sh's five-column table stays the 1-thread one.  Sizes: squares 64..1024 and
 * the GEMMs of real models (the zoo's Conv and Gemm layers, resnet18 and mobilenet_v2 convs).
 *
 * What is timed: eb_ref_gemm_packed on operands packed beforehand, i.e. the micro-kernel,
 * blocking and threading, not packing (weights are packed once at open; activations' packing
 * is a K x N or M x K copy, small against the 2MNK flops here).  Each size runs in batches of
 * at least 20 ms for --time seconds (default 0.3); the best batch is reported, since on a
 * shared machine the fastest run is the one least disturbed.
 *
 * Peak = clock x FMA width x 2 flops x FMA units x threads:
 *   clock      the "cpu MHz" of /proc/cpuinfo (the first such line; on hosts where it is
 *              the nominal or a momentary frequency, turbo can make %peak exceed what is
 *              reachable or even 100) or, when absent, cpufreq's cpuinfo_max_freq;
 *   FMA width  8 floats with the AVX2+FMA kernel, 4 with the portable one (128-bit SIMD);
 *   FMA units  2 per core (Haswell and later, Zen; override with --fma-units for cores with
 *              one, e.g. many Arm little cores). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ref/ref_internal.h"
#include "ref/threadpool.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* MHz from /proc/cpuinfo, else cpufreq's maximum; 0 when neither is readable. */
static double bench_mhz(const char **from)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon)
                mhz = atof(colon + 1);
            break;
        }
    if (f)
        fclose(f);
    *from = "/proc/cpuinfo cpu MHz";
    if (mhz > 0)
        return mhz;
    f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (f && fgets(line, sizeof line, f))
        mhz = atof(line) / 1000.0;
    if (f)
        fclose(f);
    *from = "cpufreq cpuinfo_max_freq";
    return mhz;
}

typedef struct bench_size {
    int64_t m, n, k;
    const char *what;
} bench_size;

static const bench_size bench_sizes[] = {
    {64, 64, 64, "square"},
    {128, 128, 128, "square"},
    {256, 256, 256, "square"},
    {512, 512, 512, "square"},
    {1024, 1024, 1024, "square"},
    {16, 784, 9, "zoo cnn conv1 (16 x 28*28 x 1*3*3)"},
    {32, 196, 144, "zoo cnn conv2 (32 x 14*14 x 16*3*3)"},
    {1, 128, 1568, "zoo cnn fc1 (batch 1)"},
    {1, 256, 784, "zoo mlp fc1 (batch 1)"},
    {64, 3136, 576, "resnet18 layer1 conv 3x3"},
    {512, 49, 4608, "resnet18 layer4 conv 3x3"},
    {96, 3136, 16, "mobilenet_v2 expand 1x1"},
    {320, 49, 960, "mobilenet_v2 project 1x1"},
};

static float *bench_fill(size_t n)
{
    float *p = aligned_alloc(64, ((n + 16) * sizeof *p + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "gemm_bench: out of memory\n");
        return NULL;
    }
    uint32_t s = 12345;
    for (size_t i = 0; i < n + 16; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* Best GFLOP/s of one size on `pool`; < 0 on allocation failure. */
static double bench_one(const bench_size *z, eb_ref_pool *pool, double seconds)
{
    float *A = bench_fill((size_t)(z->m * z->k)), *B = bench_fill((size_t)(z->k * z->n));
    float *pa = bench_fill(eb_ref_pack_a_floats(z->m, z->k));
    float *pb = bench_fill(eb_ref_pack_b_floats(z->k, z->n));
    float *C = bench_fill((size_t)(z->m * z->n));
    double best = -1;
    if (A && B && pa && pb && C) {
        eb_ref_pack_a(0, z->m, z->k, A, z->k, pa);
        eb_ref_pack_b(0, z->k, z->n, B, z->n, pb);
        eb_ref_epilogue ep = {.alpha = 1.0f};
        double flop = 2.0 * (double)z->m * (double)z->n * (double)z->k;
        eb_ref_gemm_packed(z->m, z->n, z->k, pa, pb, C, z->n, &ep, pool); /* warm caches */
        double end = bench_now() + seconds;
        best = 0;
        do {
            int reps = 0;
            double t0 = bench_now(), t1;
            do {
                eb_ref_gemm_packed(z->m, z->n, z->k, pa, pb, C, z->n, &ep, pool);
                reps++;
                t1 = bench_now();
            } while (t1 - t0 < 0.02);
            double g = flop * reps / (t1 - t0) / 1e9;
            if (g > best)
                best = g;
        } while (bench_now() < end);
    }
    free(A), free(B), free(pa), free(pb), free(C);
    return best;
}

int main(int argc, char **argv)
{
    const char *list = "1,2";
    double seconds = 0.3;
    int units = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            list = argv[++i];
        else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--fma-units") == 0 && i + 1 < argc)
            units = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: gemm_bench [--threads LIST] [--time SECONDS] "
                            "[--fma-units N]\n");
            return 2;
        }
    }
    const char *kname = NULL, *from = NULL;
    eb_ref_ukernel_best(&kname);
    int width = strcmp(kname, "avx512f") == 0 ? 16 : strcmp(kname, "avx2-fma") == 0 ? 8 : 4;
    double mhz = bench_mhz(&from);
    double core_peak = mhz * 1e-3 * width * 2 * units; /* GFLOP/s of one core */
    printf("# kernel %s (%dx%d tiles), %d-float FMA x %d units at %.0f MHz (%s): peak %.1f "
           "GFLOP/s per thread\n",
           kname, EB_REF_MR, eb_ref_ukernel_nr(eb_ref_ukernel_best(NULL)), width, units, mhz,
           from, core_peak);
    printf("# timed: eb_ref_gemm_packed on prepacked operands, best %g s batch of >= 20 ms\n",
           seconds);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    int first = 1;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int threads = atoi(tok);
        if (threads < 1)
            continue;
        eb_ref_pool *pool = NULL;
        eb_err err = {0};
        if (threads > 1 && eb_ref_pool_create(threads, 1, &pool, &err) != 0) {
            fprintf(stderr, "gemm_bench: %s\n", err.msg);
            return 1;
        }
        if (pool) {
            char where[128];
            printf("# %d threads pinned: %s\n", threads,
                   eb_ref_pool_binding(pool, where, sizeof where));
        }
        for (size_t i = 0; i < sizeof bench_sizes / sizeof bench_sizes[0]; i++) {
            const bench_size *z = &bench_sizes[i];
            double g = bench_one(z, pool, seconds);
            if (g < 0)
                return 1;
            double pct = core_peak > 0 ? 100.0 * g / (core_peak * threads) : 0;
            printf("%s%lld %lld %lld %.2f %.1f\n", first ? "" : "# ", (long long)z->m,
                   (long long)z->n, (long long)z->k, g, pct);
            if (first == 0 && i == 0)
                fflush(stdout);
        }
        if (first)
            printf("# (rows above: 1st thread count of --threads, %s)\n", list);
        printf("# %s above: %d thread%s\n", first ? "rows" : "notes", threads,
               threads > 1 ? "s" : "");
        fflush(stdout);
        eb_ref_pool_destroy(pool);
        first = 0;
    }
    return 0;
}
