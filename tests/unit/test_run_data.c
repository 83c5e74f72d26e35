/* run_data: what eb_results writes, eb_run_read reads back — cells, metadata, and samples
 * joined to the right row even when two trials share variant/backend/threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "run_data.h"

static void run_data_write(const char *dir)
{
    eb_results *r;
    eb_err err;
    eb_result row;
    eb_kv kv[2] = {{"fingerprint", "x86_64-2c2t-abc"}, {"scenario", "s, with comma"}};
    double a[] = {1.0, 2.0, 3.0}, b[] = {10.0, 20.0};
    assert_int_equal(eb_results_open(&r, dir, &err), 0);
    for (int t = 1; t <= 2; t++) {
        eb_result_init(&row);
        snprintf(row.run_id, sizeof row.run_id, "run1");
        snprintf(row.variant, sizeof row.variant, "v");
        snprintf(row.backend, sizeof row.backend, "mock");
        snprintf(row.error, sizeof row.error, "%s", t == 2 ? "a \"quoted\", line\nbreak" : "");
        row.threads = 1;
        row.batch = t == 1 ? 1 : 4; /* same variant/backend/threads: only trial tells */
        row.trial = t;
        row.latency.p99 = t * 1.5;
        assert_int_equal(eb_results_append(r, &row, t == 1 ? a : b, t == 1 ? 3 : 2, &err), 0);
    }
    eb_results_close(r);
    assert_int_equal(eb_results_write_run(dir, kv, 2, &err), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_run_data_XXXXXX";
    assert_non_null(mkdtemp(dir));
    run_data_write(dir);
    eb_run_data d;
    eb_err err;
    assert_int_equal(eb_run_read(dir, &d, &err), 0);
    assert_int_equal(d.n_rows, 2);
    assert_string_equal(eb_run_cell(&d, 0, "variant"), "v");
    assert_string_equal(eb_run_cell(&d, 1, "batch"), "4");
    assert_string_equal(eb_run_cell(&d, 1, "error"), "a \"quoted\", line\nbreak");
    assert_string_equal(eb_run_cell(&d, 0, "no_such_column"), "");
    assert_true(fabs(eb_run_num(&d, 1, "latency_p99_ms") - 3.0) < 1e-9);
    assert_true(isnan(eb_run_num(&d, 0, "accuracy_top1")));
    assert_string_equal(eb_run_meta(&d, "fingerprint"), "x86_64-2c2t-abc");
    assert_string_equal(eb_run_meta(&d, "scenario"), "s, with comma");
    assert_string_equal(eb_run_meta(&d, "absent"), "");
    const double *s;
    size_t n;
    eb_run_samples(&d, 0, &s, &n);
    assert_int_equal(n, 3);
    assert_true(s[2] == 3.0);
    eb_run_samples(&d, 1, &s, &n);
    assert_int_equal(n, 2);
    assert_true(s[0] == 10.0 && s[1] == 20.0);
    eb_run_free(&d);
    /* Without samples.csv: the same rows and metadata, no samples. */
    assert_int_equal(eb_run_read_summary(dir, &d, &err), 0);
    assert_int_equal(d.n_rows, 2);
    assert_string_equal(eb_run_cell(&d, 1, "batch"), "4");
    assert_string_equal(eb_run_meta(&d, "fingerprint"), "x86_64-2c2t-abc");
    eb_run_samples(&d, 0, &s, &n);
    assert_int_equal(n, 0);
    eb_run_free(&d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_missing_dir(void **state)
{
    (void)state;
    eb_run_data d;
    eb_err err;
    assert_int_equal(eb_run_read("/nonexistent/run", &d, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/run: no results.csv here"));
    assert_null(strchr(err.msg, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_missing_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
