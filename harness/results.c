/* Result files: results.csv, samples.csv, run.csv (see results.h).
 *
 * One table of column descriptors (results_columns[]) drives the header, the writer and
 * eb_result_field(), which the Lua on_trial hook also uses: a column is added in one place.
 *
 * Number formats, one rule per unit so a column never changes its precision:
 *   *_ms            milliseconds, 6 decimals (1 ns: the resolution of CLOCK_MONOTONIC; 4
 *                   decimals would round the mock backend's sub-microsecond overhead to 0)
 *   throughput_ips  inferences per second, 3 decimals
 *   accuracy_top*   a fraction in 0..1, 6 decimals (also sparsity, agreement_top1)
 *   counts          integers
 *   other numbers   6 significant digits (latency_cv, watts, degrees)
 *   flags           true / false
 * Not measured (NaN, infinite, or a negative count) is an empty field.
 * Fields are quoted (with libcsv's csv_fwrite) only when they hold a comma, a quote, a line
 * break or edge spaces, so plain numbers stay unquoted for gnuplot and cram tests.
 */
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

typedef enum results_ctype {
    RC_STR,    /* char[] member */
    RC_INT,    /* int, negative = not measured */
    RC_LONG,   /* long, negative = not measured */
    RC_I64,    /* int64_t, negative = not measured */
    RC_MS,     /* double, milliseconds */
    RC_IPS,    /* double, per second */
    RC_FRAC,   /* double, fraction 0..1 */
    RC_NUM,    /* double, any other quantity: 6 significant digits */
    RC_BOOL,   /* int: 1 "true", 0 "false", negative = not known */
    RC_SLONG,  /* long that may be negative; LONG_MIN = not measured */
} results_ctype;

/* The documented, stable column set of results.csv, in order: append, never rename or
 * reorder.  One list (an X-macro) expands into both the descriptor table and the
 * NULL-terminated name array that eb_results_columns() returns. */
#define RESULTS_COLUMNS(X)                                                                     \
    X("run_id", RC_STR, run_id)                                                                \
    X("scenario", RC_STR, scenario)                                                            \
    X("variant", RC_STR, variant)                                                              \
    X("kind", RC_STR, kind)                                                                    \
    X("base", RC_STR, base)                                                                    \
    X("backend", RC_STR, backend)                                                              \
    X("threads", RC_INT, threads)                                                              \
    X("cores", RC_STR, cores)                                                                  \
    X("batch", RC_INT, batch)                                                                  \
    X("status", RC_STR, status)                                                                \
    X("error", RC_STR, error)                                                                  \
    X("iterations", RC_LONG, iterations)                                                       \
    X("load_ms", RC_MS, load_ms)                                                               \
    X("first_ms", RC_MS, first_ms)                                                             \
    X("latency_mean_ms", RC_MS, latency.mean)                                                  \
    X("latency_std_ms", RC_MS, latency.std)                                                    \
    X("latency_min_ms", RC_MS, latency.min)                                                    \
    X("latency_p50_ms", RC_MS, latency.p50)                                                    \
    X("latency_p90_ms", RC_MS, latency.p90)                                                    \
    X("latency_p99_ms", RC_MS, latency.p99)                                                    \
    X("latency_max_ms", RC_MS, latency.max)                                                    \
    X("throughput_ips", RC_IPS, throughput_ips)                                                \
    X("peak_rss_kb", RC_LONG, peak_rss_kb)                                                     \
    X("base_rss_kb", RC_LONG, base_rss_kb)                                                     \
    X("model_bytes", RC_I64, model_bytes)                                                      \
    X("params", RC_I64, params)                                                                \
    X("nonzero_params", RC_I64, nonzero_params)                                                \
    X("macs", RC_I64, macs)                                                                    \
    X("accuracy_top1", RC_FRAC, accuracy_top1)                                                 \
    X("accuracy_top5", RC_FRAC, accuracy_top5)                                                 \
    X("accuracy_samples", RC_LONG, accuracy_samples)                                           \
    X("latency_p50_lo_ms", RC_MS, p50_lo)                                                      \
    X("latency_p50_hi_ms", RC_MS, p50_hi)                                                      \
    X("latency_p90_lo_ms", RC_MS, p90_lo)                                                      \
    X("latency_p90_hi_ms", RC_MS, p90_hi)                                                      \
    X("latency_p99_lo_ms", RC_MS, p99_lo)                                                      \
    X("latency_p99_hi_ms", RC_MS, p99_hi)                                                      \
    X("latency_ci_note", RC_STR, ci_note)                                                      \
    X("latency_cv", RC_NUM, latency_cv)                                                        \
    X("latency_outliers", RC_LONG, outliers)                                                   \
    X("first_run_slow", RC_BOOL, first_run_slow)                                               \
    X("stats_warning", RC_STR, stats_warning)                                                  \
    X("cycles_per_inference", RC_NUM, perf[EB_PERF_CYCLES])                                    \
    X("instructions_per_inference", RC_NUM, perf[EB_PERF_INSTRUCTIONS])                        \
    X("cache_references_per_inference", RC_NUM, perf[EB_PERF_CACHE_REFERENCES])               \
    X("cache_misses_per_inference", RC_NUM, perf[EB_PERF_CACHE_MISSES])                        \
    X("branch_misses_per_inference", RC_NUM, perf[EB_PERF_BRANCH_MISSES])                      \
    X("task_clock_ms_per_inference", RC_MS, perf[EB_PERF_TASK_CLOCK])                          \
    X("context_switches", RC_NUM, perf[EB_PERF_CONTEXT_SWITCHES])                              \
    X("page_faults", RC_NUM, perf[EB_PERF_PAGE_FAULTS])                                        \
    X("cpu_migrations", RC_NUM, perf[EB_PERF_CPU_MIGRATIONS])                                  \
    X("perf_unsupported", RC_STR, perf_unsupported)                                            \
    X("model_rss_kb", RC_SLONG, model_rss_kb)                                                  \
    X("pss_kb", RC_LONG, pss_kb)                                                               \
    X("memory_note", RC_STR, memory_note)                                                      \
    X("power_avg_w", RC_NUM, power_avg_w)                                                      \
    X("power_idle_w", RC_NUM, power_idle_w)                                                    \
    X("energy_mj_per_inference", RC_NUM, energy_mj_per_inference)                              \
    X("energy_net_mj_per_inference", RC_NUM, energy_net_mj_per_inference)                      \
    X("energy_source", RC_STR, energy_source)                                                  \
    X("energy_note", RC_STR, energy_note)                                                      \
    X("throttled", RC_BOOL, throttled)                                                         \
    X("throttle_reason", RC_STR, throttle_reason)                                              \
    X("temp_start_c", RC_NUM, temp_start_c)                                                    \
    X("temp_end_c", RC_NUM, temp_end_c)                                                        \
    X("temp_max_c", RC_NUM, temp_max_c)                                                        \
    X("freq_mhz_mean", RC_NUM, freq_mhz_mean)                                                  \
    X("cooldown_wait_s", RC_NUM, cooldown_wait_s)                                              \
    X("cooldown_temp_c", RC_NUM, cooldown_temp_c)                                              \
    X("cooldown_note", RC_STR, cooldown_note)                                                  \
    X("mode", RC_STR, mode)                                                                    \
    X("trial", RC_INT, trial)                                                                  \
    X("target_qps", RC_NUM, target_qps)                                                        \
    X("achieved_qps", RC_NUM, achieved_qps)                                                    \
    X("p99_bound_ms", RC_NUM, p99_bound_ms)                                                    \
    X("p99_bound_met", RC_BOOL, p99_bound_met)                                                 \
    X("max_qps_within_bound", RC_NUM, max_qps_within_bound)                                    \
    X("weight_bytes", RC_I64, weight_bytes)                                                    \
    X("weight_bits", RC_INT, weight_bits)                                                      \
    X("sparsity", RC_FRAC, sparsity)                                                           \
    X("dataset", RC_STR, dataset)                                                              \
    X("agreement_top1", RC_FRAC, agreement_top1)                                               \
    X("max_abs_diff", RC_NUM, max_abs_diff)                                                    \
    X("mean_abs_diff", RC_NUM, mean_abs_diff)                                                  \
    X("fidelity_samples", RC_LONG, fidelity_samples)                                           \
    X("fidelity_trial", RC_INT, fidelity_trial)                                                \
    X("threads_seen", RC_INT, threads_seen)                                                    \
    X("binding_ok", RC_BOOL, binding_ok)                                                       \
    X("thread_binding", RC_STR, thread_binding)                                                \
    X("agreement_vs_ref", RC_FRAC, agreement_vs_ref)                                           \
    X("max_abs_diff_vs_ref", RC_NUM, max_abs_diff_vs_ref)                                      \
    X("crosscheck_note", RC_STR, crosscheck_note)                                              \
    X("backend_plan", RC_STR, backend_plan)

typedef struct results_column {
    const char *name;
    results_ctype type;
    size_t offset;
} results_column;

#define RESULTS_DESCRIPTOR(name, type, member) {name, type, offsetof(eb_result, member)},
#define RESULTS_NAME(name, type, member) name,

static const results_column results_columns[] = {RESULTS_COLUMNS(RESULTS_DESCRIPTOR)};
static const char *const results_names[] = {RESULTS_COLUMNS(RESULTS_NAME) NULL};
#define RESULTS_NCOL (sizeof results_columns / sizeof results_columns[0])

/* samples.csv: identity columns taken from the result row, then the per-sample ones. */
/* "trial" (appended after the first version) is the trial's number in the run, the key that
 * joins samples.csv to results.csv when variant/backend/threads repeat (cores, batch, mode). */
static const char *const samples_header[] = {"run_id", "variant", "backend", "threads",
                                             "iteration", "latency_ms", "trial", NULL};

struct eb_results {
    char *dir;
    char *results_path, *samples_path;
    FILE *results, *samples;
    FILE *ops; /* opened on the first profiled trial */
    char ops_path[4096];
};

const char *const *eb_results_columns(void)
{
    return results_names;
}

static const results_column *results_find(const char *name)
{
    for (size_t i = 0; i < RESULTS_NCOL; i++)
        if (strcmp(results_columns[i].name, name) == 0)
            return &results_columns[i];
    return NULL;
}

static void results_format_double(double v, const char *fmt, char *buf, size_t n)
{
    if (!isfinite(v))
        buf[0] = '\0';
    else
        snprintf(buf, n, fmt, v);
}

static void results_format(const eb_result *row, const results_column *c, char *buf, size_t n)
{
    const char *base = (const char *)row + c->offset;
    long long iv;
    double dv;
    buf[0] = '\0';
    switch (c->type) {
    case RC_STR:
        snprintf(buf, n, "%s", base);
        return;
    case RC_INT:
        iv = *(const int *)(const void *)base;
        break;
    case RC_LONG:
        iv = *(const long *)(const void *)base;
        break;
    case RC_I64:
        iv = *(const int64_t *)(const void *)base;
        break;
    case RC_MS:
        dv = *(const double *)(const void *)base;
        results_format_double(dv, "%.6f", buf, n);
        return;
    case RC_IPS:
        dv = *(const double *)(const void *)base;
        results_format_double(dv, "%.3f", buf, n);
        return;
    case RC_FRAC:
        dv = *(const double *)(const void *)base;
        results_format_double(dv, "%.6f", buf, n);
        return;
    case RC_NUM:
        dv = *(const double *)(const void *)base;
        results_format_double(dv, "%.6g", buf, n);
        return;
    case RC_SLONG:
        iv = *(const long *)(const void *)base;
        if (iv != LONG_MIN)
            snprintf(buf, n, "%lld", iv);
        return;
    case RC_BOOL:
        iv = *(const int *)(const void *)base;
        if (iv >= 0)
            snprintf(buf, n, "%s", iv ? "true" : "false");
        return;
    default:
        return;
    }
    if (iv >= 0)
        snprintf(buf, n, "%lld", iv);
}

void eb_result_field(const eb_result *row, const char *column, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    const results_column *c = results_find(column);
    if (c)
        results_format(row, c, buf, n);
}

/* Writes one field, quoted through libcsv only when CSV needs it. */
static void results_put_field(FILE *f, const char *s, int first)
{
    if (!first)
        fputc(',', f);
    size_t len = strlen(s);
    int quote = len && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
                        s[len - 1] == '\t' || strpbrk(s, ",\"\r\n") != NULL);
    if (quote)
        csv_fwrite(f, s, len);
    else
        fwrite(s, 1, len, f);
}

static void results_put_row(FILE *f, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        results_put_field(f, fields[i], i == 0);
    fputc('\n', f);
}

/* mkdir -p: creates every missing component of `dir`. */
static int results_mkdirs(const char *dir, eb_err *err)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p)
        return eb_errf(err, "%s: out of memory", dir);
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            eb_errf(err, "%s: cannot create directory %s: %s; choose another --out", dir, p,
                    strerror(e));
            free(p);
            return -1;
        }
        p[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        free(p);
        return eb_errf(err, "%s: exists and is not a directory; choose another --out", dir);
    }
    free(p);
    return 0;
}

static char *results_join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, file);
    return s;
}

/* Checks a stream after a write + flush; reports the path and errno. */
static int results_check(FILE *f, const char *path, eb_err *err)
{
    if (fflush(f) != 0 || ferror(f))
        return eb_errf(err, "%s: write failed: %s (disk full?)", path, strerror(errno));
    return 0;
}

int eb_results_open(eb_results **out, const char *dir, eb_err *err)
{
    *out = NULL;
    if (!dir || !*dir)
        return eb_errf(err, "results: empty output directory; pass --out DIR");
    if (results_mkdirs(dir, err))
        return -1;
    eb_results *r = calloc(1, sizeof *r);
    if (!r)
        return eb_errf(err, "%s: out of memory", dir);
    r->dir = strdup(dir);
    r->results_path = results_join(dir, "results.csv");
    r->samples_path = results_join(dir, "samples.csv");
    if (!r->dir || !r->results_path || !r->samples_path) {
        eb_results_close(r);
        return eb_errf(err, "%s: out of memory", dir);
    }
    r->results = fopen(r->results_path, "w");
    if (!r->results) {
        eb_errf(err, "%s: cannot create: %s", r->results_path, strerror(errno));
        eb_results_close(r);
        return -1;
    }
    r->samples = fopen(r->samples_path, "w");
    if (!r->samples) {
        eb_errf(err, "%s: cannot create: %s", r->samples_path, strerror(errno));
        eb_results_close(r);
        return -1;
    }
    /* A run's files are all fresh: an ops.csv left by an earlier profiled run into the same
     * directory would otherwise pass for this run's. */
    snprintf(r->ops_path, sizeof r->ops_path, "%s/ops.csv", r->dir);
    unlink(r->ops_path);
    results_put_row(r->results, results_names, RESULTS_NCOL);
    results_put_row(r->samples, samples_header, 7);
    if (results_check(r->results, r->results_path, err) ||
        results_check(r->samples, r->samples_path, err)) {
        eb_results_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int eb_results_append(eb_results *r, const eb_result *row, const double *samples, size_t n,
                      eb_err *err)
{
    char buf[RESULTS_NCOL][640];
    const char *fields[RESULTS_NCOL];
    for (size_t i = 0; i < RESULTS_NCOL; i++) {
        results_format(row, &results_columns[i], buf[i], sizeof buf[i]);
        fields[i] = buf[i];
    }
    results_put_row(r->results, fields, RESULTS_NCOL);
    if (results_check(r->results, r->results_path, err))
        return -1;

    /* The identity columns of samples.csv are formatted exactly as in results.csv, so the
     * two files join on them. */
    char id[4][640], iter[32], lat[64], trial[32];
    const char *sf[7] = {id[0], id[1], id[2], id[3], iter, lat, trial};
    for (int i = 0; i < 4; i++)
        eb_result_field(row, samples_header[i], id[i], sizeof id[i]);
    eb_result_field(row, "trial", trial, sizeof trial);
    for (size_t i = 0; i < n; i++) {
        snprintf(iter, sizeof iter, "%zu", i + 1);
        results_format_double(samples[i], "%.6f", lat, sizeof lat);
        results_put_row(r->samples, sf, 7);
    }
    return results_check(r->samples, r->samples_path, err);
}

int eb_results_append_op(eb_results *r, const eb_result *row, const char *level,
                         const char *node, const char *op_type, double ms, double share,
                         eb_err *err)
{
    static const char *const header[] = {"run_id", "trial",   "variant", "backend",
                                         "threads", "level",  "node",    "op_type",
                                         "ms_per_run", "share"};
    char trial[32], threads[32], msbuf[64], sharebuf[64];
    if (!r->ops) {
        snprintf(r->ops_path, sizeof r->ops_path, "%s/ops.csv", r->dir);
        if (!(r->ops = fopen(r->ops_path, "w")))
            return eb_errf(err, "%s: cannot write: %s", r->ops_path, strerror(errno));
        results_put_row(r->ops, header, 10);
    }
    eb_result_field(row, "trial", trial, sizeof trial);
    eb_result_field(row, "threads", threads, sizeof threads);
    results_format_double(ms, "%.6f", msbuf, sizeof msbuf);
    results_format_double(share, "%.4f", sharebuf, sizeof sharebuf);
    const char *f[10] = {row->run_id, trial, row->variant, row->backend, threads,
                         level,       node,  op_type,      msbuf,        sharebuf};
    results_put_row(r->ops, f, 10);
    return results_check(r->ops, r->ops_path, err);
}

void eb_results_close(eb_results *r)
{
    if (!r)
        return;
    if (r->ops)
        fclose(r->ops);
    if (r->results)
        fclose(r->results);
    if (r->samples)
        fclose(r->samples);
    free(r->dir);
    free(r->results_path);
    free(r->samples_path);
    free(r);
}

int eb_results_write_run(const char *dir, const eb_kv *kv, size_t n, eb_err *err)
{
    if (results_mkdirs(dir, err))
        return -1;
    char *path = results_join(dir, "run.csv");
    if (!path)
        return eb_errf(err, "%s: out of memory", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        eb_errf(err, "%s: cannot create: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    static const char *const header[] = {"key", "value"};
    results_put_row(f, header, 2);
    for (size_t i = 0; i < n; i++) {
        const char *row[2] = {kv[i].key, kv[i].value};
        results_put_row(f, row, 2);
    }
    int rc = results_check(f, path, err);
    if (fclose(f) != 0 && rc == 0)
        rc = eb_errf(err, "%s: write failed: %s", path, strerror(errno));
    free(path);
    return rc;
}
