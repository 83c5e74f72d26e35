/* Scenarios: every key read back from a good scenario, defaults, --set typing, quick mode,
 * path resolution, hooks and their errors, no leaked globals, and each bad scenario in
 * tests/data/scenarios failing with one line "FILE:LINE: ..." at the right line.
 *
 * The bad scenarios carry their expectation in their first lines:
 *   -- set: KEY=VALUE         (zero or more: --set options to pass)
 *   -- expect: LINE: TEXT     the message must contain "FILE:LINE: " (or "FILE: " when LINE is
 *                             0) and TEXT
 * Runs from the repository root (tests/run.sh does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
#include "scenario.h"

#define SCN_DIR "tests/data/scenarios/"

/* ---- helpers -------------------------------------------------------------------------- */

static int scenario_test_chdir_root(void **state)
{
    (void)state;
    struct stat st;
    if (stat(SCN_DIR, &st) == 0)
        return 0;
    /* Started elsewhere: find the root from this file's path when it is absolute. */
    const char *file = __FILE__, *unit = strstr(file, "tests/unit/test_scenario.c");
    if (unit && unit > file) {
        char root[1024];
        snprintf(root, sizeof root, "%.*s", (int)(unit - file), file);
        if (chdir(root) == 0)
            return 0;
    }
    return -1;
}

static int scenario_test_load(const char *path, const eb_setting *sets, size_t n, int quick,
                              eb_scenario *s, eb_err *err)
{
    memset(err->msg, 0, sizeof err->msg);
    return eb_scenario_load(path, sets, n, quick, s, err);
}

/* Runs Lua code in the scenario's state and returns its result as a number (NaN if not). */
static double scenario_test_eval_number(eb_scenario *s, const char *expr)
{
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    assert_int_equal(luaL_dostring(s->L, code), LUA_OK);
    double v = lua_type(s->L, -1) == LUA_TNUMBER ? lua_tonumber(s->L, -1) : NAN;
    lua_settop(s->L, 0);
    return v;
}

static void scenario_test_eval_string(eb_scenario *s, const char *expr, char *buf, size_t n)
{
    char code[512];
    snprintf(code, sizeof code, "return %s", expr);
    assert_int_equal(luaL_dostring(s->L, code), LUA_OK);
    const char *v = lua_type(s->L, -1) == LUA_TSTRING ? lua_tostring(s->L, -1) : "(not a string)";
    snprintf(buf, n, "%s", v);
    lua_settop(s->L, 0);
}

static void scenario_test_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- a good scenario, every key ------------------------------------------------------- */

static void scenario_test_good_full(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    const char *path = SCN_DIR "good_full.lua";
    if (scenario_test_load(path, NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.path, path);
    assert_string_equal(s.name, "good-full");
    assert_string_equal(s.description, "all keys");

    /* dataset */
    assert_int_equal(s.has_dataset, 1);
    assert_int_equal(s.dataset.kind, EB_DATASET_IDX);
    assert_string_equal(s.dataset.name, "fashion-full");
    assert_string_equal(s.dataset.images,
                        "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    assert_string_equal(s.dataset.labels,
                        "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
    assert_true(fabs(s.dataset.scale - 1.0 / 255) < 1e-12);
    assert_int_equal(s.dataset.n_mean, 1);
    assert_true(s.dataset.mean[0] == 0.25);
    assert_int_equal(s.dataset.n_std, 1);
    assert_true(s.dataset.std[0] == 0.5);
    assert_int_equal(s.dataset.reshape_ndim, 3);
    assert_int_equal(s.dataset.reshape[0], 1);
    assert_int_equal(s.dataset.reshape[1], 28);
    assert_int_equal(s.dataset.reshape[2], 28);
    assert_int_equal(s.dataset.limit, 300);

    /* variants: scenario-relative, variant{} and cwd-relative model paths */
    assert_int_equal(s.n_variants, 3);
    const char *model = "tests/data/scenarios/files/stand_in.onnx";
    assert_string_equal(s.variants[0].name, "orig");
    assert_string_equal(s.variants[0].kind, "original");
    assert_string_equal(s.variants[0].model, model);
    assert_null(s.variants[0].base);
    assert_string_equal(s.variants[1].name, "int8");
    assert_string_equal(s.variants[1].kind, "quantized");
    assert_string_equal(s.variants[1].model, model);
    assert_string_equal(s.variants[1].base, "orig");
    assert_string_equal(s.variants[2].kind, "lora");
    assert_string_equal(s.variants[2].model, model);

    assert_int_equal(s.n_backends, 2);
    assert_string_equal(s.backends[0], "ref");
    assert_string_equal(s.backends[1], "mock");
    assert_int_equal(s.n_threads, 2);
    assert_int_equal(s.threads[0], 1);
    assert_int_equal(s.threads[1], 2);
    assert_int_equal(s.n_cores, 2);
    assert_string_equal(s.cores[0], "all");
    assert_string_equal(s.cores[1], "0");
    assert_int_equal(s.n_batches, 2);
    assert_int_equal(s.batches[0], 1);
    assert_int_equal(s.batches[1], 8);

    assert_true(s.measure.warmup_s == 0.25);
    assert_int_equal(s.measure.min_iterations, 50);
    assert_true(s.measure.min_time_s == 1.5);
    assert_true(s.measure.max_time_s == 120);
    assert_int_equal(s.measure.accuracy, 0);
    assert_true(s.measure.timeout_s == 90);
    assert_string_equal(s.output, "out/full");

    /* backend options: text, sorted by backend then key */
    assert_int_equal(s.n_options, 3);
    assert_string_equal(s.options[0].backend, "mock");
    assert_string_equal(s.options[0].key, "input_shape");
    assert_string_equal(s.options[0].value, "1x28x28");
    assert_string_equal(s.options[1].key, "jitter_ms");
    assert_string_equal(s.options[1].value, "0.5");
    assert_string_equal(s.options[2].key, "latency_ms");
    assert_string_equal(s.options[2].value, "2");

    assert_int_equal(s.n_constraints, 2);
    assert_string_equal(s.constraints[0].key, "accuracy_drop");
    assert_true(s.constraints[0].value == 0.01);
    assert_string_equal(s.constraints[1].key, "p99_ms");
    assert_true(s.constraints[1].value == 5);

    /* declared options, in order, with their defaults */
    assert_int_equal(s.n_params, 3);
    assert_string_equal(s.params[0].name, "limit");
    assert_string_equal(s.params[0].type, "number");
    assert_string_equal(s.params[0].default_value, "300");
    assert_string_equal(s.params[0].value, "300");
    assert_string_equal(s.params[0].help, "how many test images to use");
    assert_string_equal(s.params[1].name, "accuracy");
    assert_string_equal(s.params[1].type, "boolean");
    assert_string_equal(s.params[1].default_value, "false");
    assert_string_equal(s.params[2].type, "string");
    assert_string_equal(s.params[2].value, "full");

    /* hooks: setup and done from the table, on_trial a global function */
    assert_int_not_equal(s.ref_setup, LUA_NOREF);
    assert_int_not_equal(s.ref_on_trial, LUA_NOREF);
    assert_int_not_equal(s.ref_done, LUA_NOREF);
    eb_scenario_free(&s);
    assert_null(s.L);
    assert_null(s.name);
}

static void scenario_test_defaults(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(SCN_DIR "good_minimal.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.has_dataset, 0);
    assert_null(s.description);
    assert_int_equal(s.n_variants, 1);
    assert_null(s.variants[0].model); /* mock-only: no model needed */
    assert_int_equal(s.n_backends, 1);
    assert_string_equal(s.backends[0], "mock"); /* a string stands for a one-item list */
    assert_int_equal(s.n_threads, 1);
    assert_int_equal(s.threads[0], 1);
    assert_int_equal(s.n_cores, 1);
    assert_string_equal(s.cores[0], "all");
    assert_int_equal(s.n_batches, 1);
    assert_int_equal(s.batches[0], 1);
    assert_true(s.measure.warmup_s == 0.5);
    assert_int_equal(s.measure.min_iterations, 100);
    assert_true(s.measure.min_time_s == 1);
    assert_true(s.measure.max_time_s == 30);
    assert_int_equal(s.measure.accuracy, 1);
    assert_true(s.measure.timeout_s == 150);
    assert_string_equal(s.output, "results/minimal");
    assert_int_equal(s.n_options, 0);
    assert_int_equal(s.n_params, 0);
    assert_int_equal(s.ref_setup, LUA_NOREF);
    assert_int_equal(s.ref_on_trial, LUA_NOREF);
    assert_int_equal(s.ref_done, LUA_NOREF);
    /* Absent hooks succeed. */
    eb_result row;
    eb_result_init(&row);
    assert_int_equal(eb_scenario_setup(&s, &err), 0);
    assert_int_equal(eb_scenario_on_trial(&s, &row, &err), 0);
    assert_int_equal(eb_scenario_done(&s, &err), 0);
    eb_scenario_free(&s);
}

static void scenario_test_declared(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(SCN_DIR "good_declared.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.name, "declared");
    assert_int_equal(s.n_threads, 1);
    assert_int_equal(s.threads[0], 2);
    assert_int_equal(s.batches[0], 4);
    assert_string_equal(s.cores[0], "0-1");
    eb_scenario_free(&s);
}

/* ---- --set ---------------------------------------------------------------------------- */

static void scenario_test_set_typing(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    const eb_setting sets[] = {{"limit", "123"}, {"accuracy", "yes"}, {"label", "x"}};
    if (scenario_test_load(SCN_DIR "good_full.lua", sets, 3, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.dataset.limit, 123);
    assert_int_equal(s.measure.accuracy, 1);
    assert_string_equal(s.dataset.name, "fashion-x");
    assert_string_equal(s.params[0].value, "123");
    assert_string_equal(s.params[0].default_value, "300");
    assert_string_equal(s.params[1].value, "true");
    assert_string_equal(s.params[2].value, "x");
    eb_scenario_free(&s);

    /* "off" is a boolean too; a number that is not one is an error at option()'s line */
    const eb_setting off[] = {{"accuracy", "off"}};
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", off, 1, 0, &s, &err), 0);
    assert_int_equal(s.measure.accuracy, 0);
    eb_scenario_free(&s);
    const eb_setting bad_bool[] = {{"accuracy", "maybe"}};
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", bad_bool, 1, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, SCN_DIR "good_full.lua:3: --set accuracy=maybe: option "
                                    "'accuracy' takes a boolean"));
    assert_null(s.L); /* a failed load leaves nothing to free */
    const eb_setting bad_num[] = {{"limit", "12x"}};
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", bad_num, 1, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, "good_full.lua:2: --set limit=12x: option 'limit' takes a "
                                    "number"));
    /* an undeclared key lists the declared ones */
    const eb_setting typo[] = {{"limt", "1"}};
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", typo, 1, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, "no option 'limt'; its options: limit, accuracy, label"));
    /* a scenario without options says so */
    assert_int_equal(scenario_test_load(SCN_DIR "good_minimal.lua", typo, 1, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, "good_minimal.lua: --set limt: this scenario declares no "
                                    "options"));
}

/* ---- quick mode ----------------------------------------------------------------------- */

static void scenario_test_quick(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(SCN_DIR "good_full.lua", NULL, 0, 1, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(s.measure.warmup_s == 0.05);
    assert_int_equal(s.measure.min_iterations, 20); /* min(50, 20) */
    assert_true(s.measure.min_time_s == 0.2);
    assert_true(s.measure.max_time_s == 2); /* min(120 s, 2 s) */
    assert_int_equal(s.dataset.limit, 300); /* min(300, 500) */
    assert_true(s.measure.timeout_s == 90); /* explicit: kept */
    eb_scenario_free(&s);

    const eb_setting big[] = {{"limit", "10000"}};
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", big, 1, 1, &s, &err), 0);
    assert_int_equal(s.dataset.limit, 500);
    eb_scenario_free(&s);
    const eb_setting all[] = {{"limit", "0"}}; /* 0: every sample, so quick caps it */
    assert_int_equal(scenario_test_load(SCN_DIR "good_full.lua", all, 1, 1, &s, &err), 0);
    assert_int_equal(s.dataset.limit, 500);
    eb_scenario_free(&s);

    assert_int_equal(scenario_test_load(SCN_DIR "good_minimal.lua", NULL, 0, 1, &s, &err), 0);
    assert_int_equal(s.measure.min_iterations, 20);
    assert_true(s.measure.max_time_s == 2);
    assert_true(s.measure.timeout_s == 122); /* default: max_time + 120, after quick */
    eb_scenario_free(&s);
}

/* ---- datasets of each kind ------------------------------------------------------------ */

static void scenario_test_datasets(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    eb_setting kind[] = {{"kind", "npy"}};
    if (scenario_test_load(SCN_DIR "good_datasets.lua", kind, 1, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.dataset.kind, EB_DATASET_NPY);
    assert_string_equal(s.dataset.x, SCN_DIR "../datasets/tiny_x.npy");
    assert_string_equal(s.dataset.y, SCN_DIR "../datasets/tiny_y.npy");
    assert_int_equal(s.dataset.n_mean, 3);
    assert_true(s.dataset.mean[2] == 0.3);
    assert_int_equal(s.dataset.n_std, 3);
    assert_true(s.dataset.std[1] == 2);
    eb_scenario_free(&s);

    kind[0].value = "csv";
    assert_int_equal(scenario_test_load(SCN_DIR "good_datasets.lua", kind, 1, 0, &s, &err), 0);
    assert_int_equal(s.dataset.kind, EB_DATASET_CSV);
    assert_string_equal(s.dataset.path, SCN_DIR "../datasets/small.csv");
    assert_string_equal(s.dataset.label_column, "0");
    assert_int_equal(s.dataset.header, 0);
    eb_scenario_free(&s);

    kind[0].value = "csvname";
    assert_int_equal(scenario_test_load(SCN_DIR "good_datasets.lua", kind, 1, 0, &s, &err), 0);
    assert_string_equal(s.dataset.label_column, "species");
    assert_int_equal(s.dataset.header, 1);
    eb_scenario_free(&s);

    kind[0].value = "random";
    assert_int_equal(scenario_test_load(SCN_DIR "good_datasets.lua", kind, 1, 0, &s, &err), 0);
    assert_int_equal(s.dataset.kind, EB_DATASET_RANDOM);
    assert_int_equal(s.dataset.ndim, 2);
    assert_int_equal(s.dataset.shape[0], 3);
    assert_int_equal(s.dataset.shape[1], 4);
    assert_int_equal(s.dataset.count, 10);
    assert_int_equal(s.dataset.seed, 42);
    assert_int_equal(s.dataset.limit, 7);
    assert_true(s.dataset.scale == 1);
    eb_scenario_free(&s);

    kind[0].value = "idx";
    assert_int_equal(scenario_test_load(SCN_DIR "good_datasets.lua", kind, 1, 0, &s, &err), 0);
    assert_int_equal(s.dataset.kind, EB_DATASET_IDX);
    assert_null(s.dataset.labels);
    eb_scenario_free(&s);
}

/* ---- durations, paths, long names: scenarios written to a temporary directory ---------- */

static void scenario_test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double seconds; /* < 0: an error */
    } cases[] = {{"2s", 2},       {"500ms", 0.5}, {"1.5s", 1.5},  {"2m", 120},  {"3", 3},
                 {" 250 ms ", 0.25}, {"100us", 1e-4}, {"1h", 3600}, {"2 seconds", -1},
                 {"-1s", -1},     {"s", -1},      {"", -1},       {"1.5x", -1}};
    char dir[] = "/tmp/eb_scenario_test_XXXXXX", path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/d.lua", dir);
    scenario_test_write(path, "return scenario { name = 'd', variants = { { name = 'a', kind = "
                              "'original' } },\n"
                              "  backends = { 'mock' },\n"
                              "  measure = { warmup = option('w', '1s') } }\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eb_scenario s;
        eb_err err;
        eb_setting set = {"w", cases[i].text};
        int rc = scenario_test_load(path, &set, 1, 0, &s, &err);
        if (cases[i].seconds < 0) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.msg, ":3: measure.warmup is '"));
            assert_non_null(strstr(err.msg, "expected a duration"));
        } else {
            if (rc != 0)
                fail_msg("'%s': %s", cases[i].text, err.msg);
            assert_true(fabs(s.measure.warmup_s - cases[i].seconds) < 1e-12);
            eb_scenario_free(&s);
        }
    }
    unlink(path);
    rmdir(dir);
}

static void scenario_test_paths(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_scenario_test_XXXXXX", path[300], model[300], abs_model[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/p.lua", dir);
    snprintf(model, sizeof model, "%s/m.onnx", dir);
    snprintf(abs_model, sizeof abs_model, "%s/abs.onnx", dir);
    scenario_test_write(model, "x");
    scenario_test_write(abs_model, "x");
    char text[1024];
    snprintf(text, sizeof text,
             "return scenario { name = 'p', variants = {\n"
             "  { name = 'rel', kind = 'original', model = 'm.onnx' },\n"
             "  { name = 'abs', kind = 'original', model = '%s' },\n"
             "  { name = 'cwd', kind = 'original', model = '" SCN_DIR "files/stand_in.onnx' },\n"
             "} }\n",
             abs_model);
    scenario_test_write(path, text);
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(path, NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.variants[0].model, model);     /* scenario-relative */
    assert_string_equal(s.variants[1].model, abs_model); /* absolute */
    assert_string_equal(s.variants[2].model, SCN_DIR "files/stand_in.onnx"); /* cwd first */
    assert_string_equal(s.backends[0], "ref");
    eb_scenario_free(&s);

    /* A missing model names both places it looked, at the model's line. */
    unlink(model);
    assert_int_equal(scenario_test_load(path, NULL, 0, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, ":2: variants[1].model: no such file: m.onnx"));
    assert_non_null(strstr(err.msg, model));

    /* A scenario file that does not exist. */
    snprintf(text, sizeof text, "%s/none.lua", dir);
    assert_int_equal(scenario_test_load(text, NULL, 0, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, "none.lua: cannot read the scenario"));

    unlink(abs_model);
    unlink(path);
    rmdir(dir);
}

/* Lua shortens chunk names longer than 60 characters; messages must keep the whole path. */
static void scenario_test_long_path(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_scenario_test_XXXXXX", sub[300], path[400];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/a-directory-name-long-enough-to-be-shortened-by-lua", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/runtime.lua", sub);
    scenario_test_write(path, "local x = 1\nlocal y = nothing.here\n");
    eb_scenario s;
    eb_err err;
    assert_int_equal(scenario_test_load(path, NULL, 0, 0, &s, &err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s:2: attempt to index a nil value (global 'nothing')", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

/* ---- hooks ---------------------------------------------------------------------------- */

static void scenario_test_hooks(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    char buf[256];
    if (scenario_test_load(SCN_DIR "good_full.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(eb_scenario_setup(&s, &err), 0);
    scenario_test_eval_string(&s, "setup_saw", buf, sizeof buf);
    assert_string_equal(buf, "good-full"); /* setup gets the scenario table */

    eb_result row;
    eb_result_init(&row);
    snprintf(row.variant, sizeof row.variant, "%s", "42"); /* text even when it looks numeric */
    snprintf(row.backend, sizeof row.backend, "%s", "mock");
    row.threads = 2;
    row.iterations = 250;
    row.latency.p99 = 1.25;
    assert_int_equal(eb_scenario_on_trial(&s, &row, &err), 0);
    assert_int_equal(eb_scenario_on_trial(&s, &row, &err), 0);
    assert_true(scenario_test_eval_number(&s, "#calls") == 2);
    scenario_test_eval_string(&s, "calls[1].variant", buf, sizeof buf);
    assert_string_equal(buf, "42");
    scenario_test_eval_string(&s, "calls[1].status", buf, sizeof buf);
    assert_string_equal(buf, "ok");
    assert_true(scenario_test_eval_number(&s, "calls[1].threads") == 2);
    assert_true(scenario_test_eval_number(&s, "calls[1].iterations") == 250);
    assert_true(scenario_test_eval_number(&s, "calls[1].latency_p99_ms") == 1.25);
    /* not measured: nil, not 0 */
    assert_true(scenario_test_eval_number(&s, "calls[1].peak_rss_kb == nil and 1 or 0") == 1);
    assert_true(scenario_test_eval_number(&s, "calls[1].load_ms == nil and 1 or 0") == 1);

    assert_int_equal(eb_scenario_done(&s, &err), 0);
    assert_true(scenario_test_eval_number(&s, "done_saw") == 2); /* done gets every row */
    eb_scenario_free(&s);
}

static void scenario_test_hook_error(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(SCN_DIR "bad_hook.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(eb_scenario_setup(&s, &err), 0);
    eb_result row;
    eb_result_init(&row);
    snprintf(row.variant, sizeof row.variant, "%s", "a");
    assert_int_equal(eb_scenario_on_trial(&s, &row, &err), -1);
    assert_string_equal(err.msg, SCN_DIR "bad_hook.lua:9: on_trial failed for variant a");
    /* the state stays usable after a hook error */
    assert_int_equal(lua_gettop(s.L), 0);
    assert_int_equal(eb_scenario_done(&s, &err), 0);
    eb_scenario_free(&s);
}

/* Multi-line error messages and errors thrown as tables still come back as one line. */
static void scenario_test_hook_error_shapes(void **state)
{
    (void)state;
    char dir[] = "/tmp/eb_scenario_test_XXXXXX", path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/h.lua", dir);
    scenario_test_write(path, "return scenario { name = 'h', backends = 'mock',\n"
                              "  variants = { { name = 'a', kind = 'original' } },\n"
                              "  setup = function() error('two\\nlines') end,\n"
                              "  done = function() error({}) end,\n"
                              "}\n");
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(path, NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(eb_scenario_setup(&s, &err), -1);
    assert_null(strchr(err.msg, '\n'));
    assert_non_null(strstr(err.msg, "h.lua:3: two lines"));
    assert_int_equal(eb_scenario_done(&s, &err), -1);
    assert_non_null(strstr(err.msg, "h.lua:4: error object is a table value"));
    eb_scenario_free(&s);
    unlink(path);
    rmdir(dir);
}

/* ---- the prelude leaks no globals beyond the documented ones -------------------------- */

static void scenario_test_globals(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load(SCN_DIR "good_minimal.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    lua_State *fresh = luaL_newstate();
    luaL_openlibs(fresh);
    static const char *const documented[] = {"scenario", "variant", "dataset", "option", NULL};
    lua_pushglobaltable(s.L);
    lua_pushnil(s.L);
    while (lua_next(s.L, -2)) {
        lua_pop(s.L, 1);
        const char *name = lua_tostring(s.L, -1);
        int ok = lua_getglobal(fresh, name) != LUA_TNIL;
        lua_pop(fresh, 1);
        for (size_t i = 0; !ok && documented[i]; i++)
            ok = strcmp(name, documented[i]) == 0;
        if (!ok)
            fail_msg("the prelude leaks the global '%s'", name);
    }
    lua_close(fresh);
    for (size_t i = 0; documented[i]; i++)
        assert_int_not_equal(lua_getglobal(s.L, documented[i]), LUA_TNIL);
    eb_scenario_free(&s);
}

/* ---- the shipped scenarios load ------------------------------------------------------- */

static void scenario_test_shipped(void **state)
{
    (void)state;
    eb_scenario s;
    eb_err err;
    if (scenario_test_load("scenarios/mock.lua", NULL, 0, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.name, "mock");
    assert_int_equal(s.dataset.kind, EB_DATASET_RANDOM);
    assert_int_equal(s.n_params, 3);
    eb_scenario_free(&s);

    struct stat st;
    if (stat("models/mlp.onnx", &st) != 0 || stat("models/cnn.onnx", &st) != 0)
        skip(); /* the model zoo is not built */
    const eb_setting limit[] = {{"limit", "1000"}};
    if (scenario_test_load("scenarios/quickstart.lua", limit, 1, 0, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.name, "quickstart");
    assert_int_equal(s.n_variants, 2);
    assert_string_equal(s.variants[0].model, "models/mlp.onnx");
    assert_string_equal(s.variants[1].model, "models/cnn.onnx");
    assert_int_equal(s.dataset.limit, 1000);
    assert_true(fabs(s.dataset.scale - 1.0 / 255) < 1e-12);
    assert_int_equal(s.dataset.n_mean, 0);
    eb_scenario_free(&s);
}

/* ---- bad scenarios -------------------------------------------------------------------- */

/* Loads tests/data/scenarios/NAME with the file's "-- set:" settings and checks the error
 * against its "-- expect:" line. */
static void scenario_test_bad(const char *name)
{
    char path[256], line[512], expect[512] = "", setbuf[8][512];
    eb_setting sets[8];
    size_t n_sets = 0;
    int want_line = -1;
    snprintf(path, sizeof path, SCN_DIR "%s", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) && strncmp(line, "--", 2) == 0) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "-- set: ", 8) == 0 && n_sets < 8) {
            snprintf(setbuf[n_sets], sizeof setbuf[n_sets], "%s", line + 8);
            char *eq = strchr(setbuf[n_sets], '=');
            assert_non_null(eq);
            *eq = '\0';
            sets[n_sets] = (eb_setting){setbuf[n_sets], eq + 1};
            n_sets++;
        } else if (sscanf(line, "-- expect: %d: %511[^\n]", &want_line, expect) == 2) {
            break;
        }
    }
    fclose(f);
    assert_true(want_line >= 0);

    eb_scenario s;
    eb_err err;
    int rc = scenario_test_load(path, sets, n_sets, 0, &s, &err);
    if (rc == 0) {
        eb_scenario_free(&s);
        fail_msg("%s loaded, but should fail with '%s'", name, expect);
    }
    assert_int_equal(rc, -1);
    char where[300];
    if (want_line > 0)
        snprintf(where, sizeof where, "%s:%d: ", path, want_line);
    else
        snprintf(where, sizeof where, "%s: ", path);
    if (strncmp(err.msg, where, strlen(where)) != 0 || !strstr(err.msg, expect))
        fail_msg("%s:\n  got:  %s\n  want: %s...%s", name, err.msg, where, expect);
    assert_null(strchr(err.msg, '\n'));
    assert_null(s.L);
}

#define SCENARIO_BAD(id)                                                                        \
    static void scenario_test_##id(void **state)                                                 \
    {                                                                                            \
        (void)state;                                                                             \
        scenario_test_bad(#id ".lua");                                                           \
    }
SCENARIO_BAD(bad_missing_variants)
SCENARIO_BAD(bad_kind)
SCENARIO_BAD(bad_backend)
SCENARIO_BAD(bad_model_missing)
SCENARIO_BAD(bad_type)
SCENARIO_BAD(bad_syntax)
SCENARIO_BAD(bad_runtime_error)
SCENARIO_BAD(bad_hook_type)
SCENARIO_BAD(bad_set_unknown)
SCENARIO_BAD(bad_set_type)
SCENARIO_BAD(bad_unknown_key)
SCENARIO_BAD(bad_duration)
SCENARIO_BAD(bad_dataset_missing)
SCENARIO_BAD(bad_dataset_key)
SCENARIO_BAD(bad_plain_dataset)
SCENARIO_BAD(bad_base)
SCENARIO_BAD(bad_duplicate_variant)
SCENARIO_BAD(bad_return)
SCENARIO_BAD(bad_error_level0)
SCENARIO_BAD(bad_option_key)
SCENARIO_BAD(bad_variant_fn)
SCENARIO_BAD(bad_constructor_arg)
SCENARIO_BAD(bad_tail_constructor)

/* Every bad_*.lua in the directory must have a test above (so new ones are not forgotten). */
static void scenario_test_bad_all_listed(void **state)
{
    (void)state;
    static const char *const listed =
        " bad_missing_variants bad_kind bad_backend bad_model_missing bad_type bad_syntax"
        " bad_runtime_error bad_hook_type bad_set_unknown bad_set_type bad_unknown_key"
        " bad_duration bad_dataset_missing bad_dataset_key bad_plain_dataset bad_base"
        " bad_duplicate_variant bad_return bad_error_level0 bad_option_key bad_variant_fn"
        " bad_constructor_arg bad_tail_constructor bad_hook ";
    FILE *p = popen("ls " SCN_DIR, "r");
    assert_non_null(p);
    char name[256];
    while (fgets(name, sizeof name, p)) {
        name[strcspn(name, "\n")] = '\0';
        size_t len = strlen(name);
        if (strncmp(name, "bad_", 4) != 0 || len < 5 || strcmp(name + len - 4, ".lua") != 0)
            continue;
        char word[260];
        snprintf(word, sizeof word, " %.*s ", (int)(len - 4), name);
        if (!strstr(listed, word))
            fail_msg("%s has no test in test_scenario.c", name);
    }
    pclose(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scenario_test_good_full),
        cmocka_unit_test(scenario_test_defaults),
        cmocka_unit_test(scenario_test_declared),
        cmocka_unit_test(scenario_test_set_typing),
        cmocka_unit_test(scenario_test_quick),
        cmocka_unit_test(scenario_test_datasets),
        cmocka_unit_test(scenario_test_durations),
        cmocka_unit_test(scenario_test_paths),
        cmocka_unit_test(scenario_test_long_path),
        cmocka_unit_test(scenario_test_hooks),
        cmocka_unit_test(scenario_test_hook_error),
        cmocka_unit_test(scenario_test_hook_error_shapes),
        cmocka_unit_test(scenario_test_globals),
        cmocka_unit_test(scenario_test_shipped),
        cmocka_unit_test(scenario_test_bad_missing_variants),
        cmocka_unit_test(scenario_test_bad_kind),
        cmocka_unit_test(scenario_test_bad_backend),
        cmocka_unit_test(scenario_test_bad_model_missing),
        cmocka_unit_test(scenario_test_bad_type),
        cmocka_unit_test(scenario_test_bad_syntax),
        cmocka_unit_test(scenario_test_bad_runtime_error),
        cmocka_unit_test(scenario_test_bad_hook_type),
        cmocka_unit_test(scenario_test_bad_set_unknown),
        cmocka_unit_test(scenario_test_bad_set_type),
        cmocka_unit_test(scenario_test_bad_unknown_key),
        cmocka_unit_test(scenario_test_bad_duration),
        cmocka_unit_test(scenario_test_bad_dataset_missing),
        cmocka_unit_test(scenario_test_bad_dataset_key),
        cmocka_unit_test(scenario_test_bad_plain_dataset),
        cmocka_unit_test(scenario_test_bad_base),
        cmocka_unit_test(scenario_test_bad_duplicate_variant),
        cmocka_unit_test(scenario_test_bad_return),
        cmocka_unit_test(scenario_test_bad_error_level0),
        cmocka_unit_test(scenario_test_bad_option_key),
        cmocka_unit_test(scenario_test_bad_variant_fn),
        cmocka_unit_test(scenario_test_bad_constructor_arg),
        cmocka_unit_test(scenario_test_bad_tail_constructor),
        cmocka_unit_test(scenario_test_bad_all_listed),
    };
    return cmocka_run_group_tests(tests, scenario_test_chdir_root, NULL);
}
