/* Result files: write two rows with hostile strings and read them back with libcsv's own
 * parser, checking every field; the header is the documented column set; samples.csv and
 * run.csv; eb_result_field's number formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results.h"

/* ---- a tiny table read back with libcsv ---- */
#define RESULTS_T_MAXF 256
#define RESULTS_T_MAXR 16

typedef struct results_t_table {
    char *f[RESULTS_T_MAXR][RESULTS_T_MAXF];
    size_t nf[RESULTS_T_MAXR];
    size_t nr;
} results_t_table;

static void results_t_field(void *s, size_t len, void *data)
{
    results_t_table *t = data;
    assert_true(t->nr < RESULTS_T_MAXR && t->nf[t->nr] < RESULTS_T_MAXF);
    t->f[t->nr][t->nf[t->nr]++] = strndup(s ? s : "", len);
}

static void results_t_record(int c, void *data)
{
    (void)c;
    results_t_table *t = data;
    t->nr++;
}

static void results_t_read(const char *path, results_t_table *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct csv_parser p;
    assert_int_equal(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    /* libcsv trims spaces around unquoted fields by default, so a field with edge spaces
     * reads back intact only if the writer quoted it. */
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        assert_int_equal(csv_parse(&p, buf, n, results_t_field, results_t_record, t), n);
    assert_int_equal(csv_fini(&p, results_t_field, results_t_record, t), 0);
    csv_free(&p);
    fclose(f);
}

static void results_t_free(results_t_table *t)
{
    for (size_t r = 0; r < RESULTS_T_MAXR; r++)
        for (size_t i = 0; i < t->nf[r]; i++)
            free(t->f[r][i]);
}

static int results_t_col(const char *name)
{
    const char *const *cols = eb_results_columns();
    for (int i = 0; cols[i]; i++)
        if (strcmp(cols[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

static int results_setup_tmp(void **state)
{
    char *dir = strdup("/tmp/eb_test_results_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int results_teardown_tmp(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

static void test_columns_are_the_documented_set(void **state)
{
    (void)state;
    static const char *const want[] = {
        "run_id", "scenario", "variant", "kind", "base", "backend", "threads", "cores",
        "batch", "status", "error", "iterations", "load_ms", "first_ms", "latency_mean_ms",
        "latency_std_ms", "latency_min_ms", "latency_p50_ms", "latency_p90_ms",
        "latency_p99_ms", "latency_max_ms", "throughput_ips", "peak_rss_kb", "base_rss_kb",
        "model_bytes", "params", "nonzero_params", "macs", "accuracy_top1", "accuracy_top5",
        "accuracy_samples", NULL};
    /* The set is append-only: the first columns never change, later ones only follow them,
     * and no name appears twice. */
    const char *const *cols = eb_results_columns();
    size_t i = 0;
    for (; want[i]; i++) {
        assert_non_null(cols[i]);
        assert_string_equal(cols[i], want[i]);
    }
    for (; cols[i]; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(cols[i], cols[j]);
}

static void test_init_and_field_formats(void **state)
{
    (void)state;
    eb_result r;
    char b[600];
    memset(&r, 0x5a, sizeof r);
    eb_result_init(&r);
    assert_string_equal(r.status, "ok");
    /* Every column of a fresh row is empty except status. */
    for (const char *const *c = eb_results_columns(); *c; c++) {
        eb_result_field(&r, *c, b, sizeof b);
        if (strcmp(*c, "status") == 0)
            assert_string_equal(b, "ok");
        else if (b[0])
            fail_msg("column %s of an initialised row is \"%s\", not empty", *c, b);
    }
    r.threads = 4;
    r.latency.p99 = 1.23456789;
    r.load_ms = 0.0000004; /* rounds to 0 at 1 ns */
    r.throughput_ips = 812.34567;
    r.accuracy_top1 = 0.9;
    r.accuracy_top5 = 1.0;
    r.macs = 12345678901LL;
    r.peak_rss_kb = 0;
    r.iterations = 200;
    eb_result_field(&r, "threads", b, sizeof b);
    assert_string_equal(b, "4");
    eb_result_field(&r, "latency_p99_ms", b, sizeof b);
    assert_string_equal(b, "1.234568");
    eb_result_field(&r, "load_ms", b, sizeof b);
    assert_string_equal(b, "0.000000");
    eb_result_field(&r, "throughput_ips", b, sizeof b);
    assert_string_equal(b, "812.346");
    eb_result_field(&r, "accuracy_top1", b, sizeof b);
    assert_string_equal(b, "0.900000");
    eb_result_field(&r, "accuracy_top5", b, sizeof b);
    assert_string_equal(b, "1.000000");
    eb_result_field(&r, "macs", b, sizeof b);
    assert_string_equal(b, "12345678901");
    eb_result_field(&r, "peak_rss_kb", b, sizeof b);
    assert_string_equal(b, "0");
    eb_result_field(&r, "iterations", b, sizeof b);
    assert_string_equal(b, "200");
    r.latency.p50 = INFINITY;
    eb_result_field(&r, "latency_p50_ms", b, sizeof b);
    assert_string_equal(b, "");
    strcpy(b, "junk");
    eb_result_field(&r, "no_such_column", b, sizeof b);
    assert_string_equal(b, "");
    /* Truncation is safe. */
    char small[4];
    eb_result_field(&r, "macs", small, sizeof small);
    assert_string_equal(small, "123");
}

static void results_fill(eb_result *r, int k)
{
    eb_result_init(r);
    snprintf(r->run_id, sizeof r->run_id, "run-%d", k);
    strcpy(r->scenario, "fashion, \"cnn\"");
    strcpy(r->variant, k ? " int8 " : "orig");
    strcpy(r->kind, k ? "quantized" : "original");
    strcpy(r->base, k ? "orig" : "");
    strcpy(r->backend, "ref");
    r->threads = k + 1;
    strcpy(r->cores, "0,1");
    r->batch = 1;
    if (k) {
        strcpy(r->status, "failed");
        strcpy(r->error, "line one, with comma\nline \"two\"\r\nend");
    } else {
        r->iterations = 3;
        r->load_ms = 12.5;
        r->first_ms = 3.25;
        r->latency = (eb_summary){3, 2.0, 0.5, 1.5, 2.0, 2.4, 2.49, 2.5};
        r->throughput_ips = 500;
        r->peak_rss_kb = 4096;
        r->base_rss_kb = 1024;
        r->model_bytes = 1 << 20;
        r->params = 100000;
        r->nonzero_params = 99999;
        r->macs = 5000000;
        r->accuracy_top1 = 0.875;
        r->accuracy_top5 = 0.99;
        r->accuracy_samples = 2000;
    }
}

static void test_write_and_read_back(void **state)
{
    char dir[512], path[600];
    /* Parents are created. */
    snprintf(dir, sizeof dir, "%s/a/b/c", (char *)*state);
    eb_results *w;
    eb_err err = {{0}};
    assert_int_equal(eb_results_open(&w, dir, &err), 0);

    eb_result r0, r1;
    results_fill(&r0, 0);
    results_fill(&r1, 1);
    const double s0[] = {1.5, 2.5, 2.0};
    assert_int_equal(eb_results_append(w, &r0, s0, 3, &err), 0);

    /* Flushed per trial: the first row is on disk before the second is written. */
    snprintf(path, sizeof path, "%s/results.csv", dir);
    results_t_table t;
    results_t_read(path, &t);
    assert_int_equal(t.nr, 2);
    results_t_free(&t);

    assert_int_equal(eb_results_append(w, &r1, NULL, 0, &err), 0);
    eb_results_close(w);

    results_t_read(path, &t);
    assert_int_equal(t.nr, 3);
    const char *const *cols = eb_results_columns();
    size_t ncol = 0;
    while (cols[ncol])
        ncol++;
    for (size_t i = 0; i < ncol; i++)
        assert_string_equal(t.f[0][i], cols[i]);
    const eb_result *rows[2] = {&r0, &r1};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(t.nf[k + 1], ncol);
        for (size_t i = 0; i < ncol; i++) {
            char want[600];
            eb_result_field(rows[k], cols[i], want, sizeof want);
            if (strcmp(t.f[k + 1][i], want) != 0)
                fail_msg("row %d column %s: read \"%s\", wrote \"%s\"", k, cols[i],
                         t.f[k + 1][i], want);
        }
    }
    /* Spot checks with literal expectations, independent of eb_result_field. */
    assert_string_equal(t.f[1][results_t_col("scenario")], "fashion, \"cnn\"");
    assert_string_equal(t.f[2][results_t_col("variant")], " int8 ");
    assert_string_equal(t.f[2][results_t_col("error")], "line one, with comma\nline \"two\"\r\nend");
    assert_string_equal(t.f[2][results_t_col("status")], "failed");
    assert_string_equal(t.f[2][results_t_col("latency_p99_ms")], "");
    assert_string_equal(t.f[2][results_t_col("accuracy_samples")], "");
    assert_string_equal(t.f[1][results_t_col("latency_p99_ms")], "2.490000");
    assert_string_equal(t.f[1][results_t_col("accuracy_top1")], "0.875000");
    assert_string_equal(t.f[1][results_t_col("model_bytes")], "1048576");
    assert_string_equal(t.f[1][results_t_col("base")], "");
    assert_string_equal(t.f[1][results_t_col("threads")], "1");
    results_t_free(&t);

    snprintf(path, sizeof path, "%s/samples.csv", dir);
    results_t_read(path, &t);
    assert_int_equal(t.nr, 4); /* header + 3 samples of row 0, none of row 1 */
    static const char *const sh[] = {"run_id", "variant", "backend", "threads", "iteration",
                                     "latency_ms", "trial"};
    for (int i = 0; i < 7; i++)
        assert_string_equal(t.f[0][i], sh[i]);
    static const char *const lat[] = {"1.500000", "2.500000", "2.000000"};
    for (int k = 0; k < 3; k++) {
        char it[8];
        snprintf(it, sizeof it, "%d", k + 1);
        assert_int_equal(t.nf[k + 1], 7);
        assert_string_equal(t.f[k + 1][0], "run-0");
        assert_string_equal(t.f[k + 1][1], "orig");
        assert_string_equal(t.f[k + 1][2], "ref");
        assert_string_equal(t.f[k + 1][3], "1");
        assert_string_equal(t.f[k + 1][4], it);
        assert_string_equal(t.f[k + 1][5], lat[k]);
    }
    results_t_free(&t);
}

static void test_plain_numbers_unquoted(void **state)
{
    char path[600];
    eb_results *w;
    eb_err err = {{0}};
    assert_int_equal(eb_results_open(&w, (char *)*state, &err), 0);
    eb_result r;
    results_fill(&r, 0);
    assert_int_equal(eb_results_append(w, &r, NULL, 0, &err), 0);
    eb_results_close(w);
    snprintf(path, sizeof path, "%s/results.csv", (char *)*state);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    assert_non_null(fgets(line, sizeof line, f));
    assert_null(strchr(line, '"')); /* the header needs no quotes */
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    /* Only the scenario field (comma and quotes) is quoted, with doubled inner quotes. */
    assert_non_null(strstr(line, "run-0,\"fashion, \"\"cnn\"\"\",orig,original,,ref,1,\"0,1\",1,ok,,3,"));
}

static void test_run_csv(void **state)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/new", (char *)*state);
    eb_kv kv[3] = {{"git_commit", "abc123"}, {"command", "edgebench run \"x y.lua\", --quick"},
                   {"cpu", ""}};
    eb_err err = {{0}};
    assert_int_equal(eb_results_write_run(dir, kv, 3, &err), 0);
    snprintf(path, sizeof path, "%s/run.csv", dir);
    results_t_table t;
    results_t_read(path, &t);
    assert_int_equal(t.nr, 4);
    assert_string_equal(t.f[0][0], "key");
    assert_string_equal(t.f[0][1], "value");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t.nf[i + 1], 2);
        assert_string_equal(t.f[i + 1][0], kv[i].key);
        assert_string_equal(t.f[i + 1][1], kv[i].value);
    }
    results_t_free(&t);
}

static void test_open_errors(void **state)
{
    char path[600];
    eb_results *w = (eb_results *)1;
    eb_err err = {{0}};
    /* A file where a directory should be. */
    snprintf(path, sizeof path, "%s/file", (char *)*state);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(eb_results_open(&w, path, &err), -1);
    assert_null(w);
    assert_non_null(strstr(err.msg, path));
    snprintf(path, sizeof path, "%s/file/sub", (char *)*state);
    assert_int_equal(eb_results_open(&w, path, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create directory"));
    assert_int_equal(eb_results_open(&w, "", &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_columns_are_the_documented_set),
        cmocka_unit_test(test_init_and_field_formats),
        cmocka_unit_test_setup_teardown(test_write_and_read_back, results_setup_tmp,
                                        results_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_plain_numbers_unquoted, results_setup_tmp,
                                        results_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_run_csv, results_setup_tmp, results_teardown_tmp),
        cmocka_unit_test_setup_teardown(test_open_errors, results_setup_tmp,
                                        results_teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
