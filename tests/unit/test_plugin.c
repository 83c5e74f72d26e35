/* The plugin loader (harness/plugin.c) on the test plugins the Makefile builds into
 * build/tests/plugins (tests/plugins/testplugin.c), and EB_UNSUPPORTED through the wrappers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend.h"
#include "plugin.h"

#define PLUGIN_TEST_DIR "build/tests/plugins"

static void plugin_test_good_loads_and_runs(void **state)
{
    eb_backend_i b;
    char why[384] = "";
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testplugin.so", &b, why, sizeof why),
                     0);
    assert_string_equal(b.name, "testplugin");
    assert_int_equal(b.api_version, EB_BACKEND_API);
    assert_int_equal(eb_backend_probe(&b, why, sizeof why), 0);

    eb_model m = {.path = "none", .format = "onnx"};
    eb_config c = {.threads = 1, .batch = 2};
    eb_err err = {{0}};
    void *s = NULL;
    eb_io io;
    assert_int_equal(eb_backend_open(&b, &m, &c, &s, &err), 0);
    assert_int_equal(eb_backend_io(&b, s, &io, &err), 0);
    assert_int_equal(io.inputs[0].shape[0], 2);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8] = {0};
    eb_tensor in = io.inputs[0], out = io.outputs[0];
    in.data = x;
    out.data = y;
    assert_int_equal(eb_backend_run(&b, s, &in, 1, &out, 1, &err), 0);
    assert_true(y[7] == 16.0f && y[0] == 2.0f);
    long peak, rss, base;
    assert_int_equal(eb_backend_memory(&b, s, &peak, &rss, &base), -1); /* it does not say */
    assert_int_equal(peak, -1);
    char plan[64];
    assert_int_equal(eb_backend_plan(&b, s, plan, sizeof plan), 0);
    assert_string_equal(plan, "y = 2x batch=2"); /* one line for results.csv */
    assert_int_equal(eb_backend_plan(&b, s, plan, 5), 0);
    assert_string_equal(plan, "y = "); /* cut to the buffer, still terminated */
    eb_backend_close(&b, s);
}

static void plugin_test_refusals_say_why(void **state)
{
    eb_backend_i b;
    char why[384];
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testnewer.so", &b, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "built for backend API 99"));
    assert_int_equal(
        eb_plugin_load(PLUGIN_TEST_DIR "/backend-testnoentry.so", &b, why, sizeof why), -1);
    assert_non_null(strstr(why, "no symbol edgebench_backend"));
    assert_int_equal(
        eb_plugin_load(PLUGIN_TEST_DIR "/backend-testunresolved.so", &b, why, sizeof why), -1);
    assert_non_null(strstr(why, "dlopen failed"));
    assert_non_null(strstr(why, "testplugin_nowhere"));
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testjunk.so", &b, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "dlopen failed"));
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-absent.so", &b, why, sizeof why),
                     -1);
}

/* A table built for API 1 loads; what versions 2 and 3 appended reads NULL (the test plugin
 * defines plan() in every build: the loader must not copy past the table's own version). */
static void plugin_test_version1_table(void **state)
{
    eb_backend_i b;
    char why[384];
    memset(&b, 0xff, sizeof b);
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testv1.so", &b, why, sizeof why), 0);
    assert_string_equal(b.name, "testv1");
    assert_null(b.memory);
    assert_null(b.plan);
    assert_int_equal(b.api_version, EB_BACKEND_API);
}

/* A table built for API 2 reads plan() as NULL; the wrapper then leaves the plan empty. */
static void plugin_test_version2_table(void **state)
{
    eb_backend_i b;
    char why[384], plan[32] = "stale";
    memset(&b, 0xff, sizeof b);
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testv2.so", &b, why, sizeof why), 0);
    assert_string_equal(b.name, "testv2");
    assert_null(b.plan);
    int session = 0;
    assert_int_equal(eb_backend_plan(&b, &session, plan, sizeof plan), -1);
    assert_string_equal(plan, "");
}

static void plugin_test_scan_orders_and_refuses_taken(void **state)
{
    static eb_plugins p; /* big: not on the stack */
    const char *taken[] = {"ref", "testv1"};
    memset(&p, 0, sizeof p);
    /* The same directory twice is scanned once; a missing one is skipped quietly. */
    eb_plugins_scan(&p, PLUGIN_TEST_DIR ":/nonexistent/dir:" PLUGIN_TEST_DIR, taken, 2);
    assert_non_null(strstr(p.paths[0], "backend-testplugin.so"));
    assert_int_equal(p.n, 2);
    assert_string_equal(p.tables[0].name, "testplugin");
    assert_string_equal(p.tables[1].name, "testv2");
    assert_int_equal(p.n_refused, 5); /* junk, newer, noentry, unresolved, v1 (name taken) */
    assert_non_null(strstr(p.refused[0].path, "backend-testjunk.so"));
    assert_non_null(strstr(p.refused[4].path, "backend-testv1.so"));
    assert_non_null(strstr(p.refused[4].why, "already taken by a built-in backend"));
}

static void plugin_test_unsupported_passes_through(void **state)
{
    eb_backend_i b;
    char why[384];
    assert_int_equal(eb_plugin_load(PLUGIN_TEST_DIR "/backend-testplugin.so", &b, why, sizeof why),
                     0);
    eb_option opt = {"unsupported", "1"};
    eb_model m = {.path = "none", .format = "onnx"};
    eb_config c = {.threads = 1, .batch = 1, .options = &opt, .n_options = 1};
    eb_err err = {{0}};
    void *s = NULL;
    assert_int_equal(eb_backend_open(&b, &m, &c, &s, &err), EB_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "asked to be unsupported"));
    assert_null(s);
    /* A format the backend does not list is unsupported before open is called. */
    b.formats = "tflite,pte";
    c.n_options = 0;
    assert_int_equal(eb_backend_open(&b, &m, &c, &s, &err), EB_UNSUPPORTED);
    assert_string_equal(err.msg, "backend testplugin takes tflite,pte models, not onnx");
    b.formats = "tflite, onnx";
    assert_int_equal(eb_backend_open(&b, &m, &c, &s, &err), 0);
    eb_backend_close(&b, s);
}

/* The registry lists built-ins first and finds plugins by name (EDGEBENCH_BACKEND_PATH is read
 * on first use, so it is set before any registry call in this process). */
static void plugin_test_registry(void **state)
{
    setenv("EDGEBENCH_BACKEND_PATH", PLUGIN_TEST_DIR, 1);
    assert_string_equal(eb_backend_at(0)->name, "ref");
    const eb_backend_i *b = eb_backend_find("testplugin");
    assert_non_null(b);
    /* ..., testplugin, testv1 (file name order within the directory; the plugins built into
     * build/lib/edgebench, found beside build/tests/, come after them) */
    size_t n = eb_backend_count(), at = n;
    for (size_t i = 0; i < n; i++)
        if (eb_backend_at(i) == b)
            at = i;
    assert_true(at > 0 && at + 1 < n);
    assert_string_equal(eb_backend_at(at + 1)->name, "testv1");
    assert_non_null(strstr(eb_backend_path(at), "backend-testplugin.so"));
    assert_null(eb_backend_path(0));
    assert_int_equal(eb_backend_refusal_count(), 4);
    assert_null(eb_backend_find("testnewer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plugin_test_good_loads_and_runs),
        cmocka_unit_test(plugin_test_refusals_say_why),
        cmocka_unit_test(plugin_test_version1_table),
        cmocka_unit_test(plugin_test_version2_table),
        cmocka_unit_test(plugin_test_scan_orders_and_refuses_taken),
        cmocka_unit_test(plugin_test_unsupported_passes_through),
        cmocka_unit_test(plugin_test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
