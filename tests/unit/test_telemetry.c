/* Tests of harness/telemetry.c on a fixture board (tests/data/sysfs/telemetry/board), copied
 * to a temporary directory so each test can change temperatures, frequencies, throttle counters
 * and get_throttled's answer between samples, and remove sensors mid-run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "telemetry.h"

typedef struct tele_test {
    char dir[256];  /* the copied board, EDGEBENCH_SYSFS */
    char tmp[64];   /* its parent, removed at teardown */
} tele_test;

static void tele_test_fixture(char *buf, size_t n)
{
    const char *file = __FILE__; /* .../tests/unit/test_telemetry.c */
    const char *unit = strstr(file, "unit/test_telemetry.c");
    int len = unit ? (int)(unit - file) : 0;
    snprintf(buf, n, "%.*s%sdata/sysfs/telemetry/board", len, file, unit ? "" : "tests/");
}

static int tele_test_setup(void **state)
{
    tele_test *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->tmp, sizeof t->tmp, "/tmp/eb_tele_XXXXXX");
    if (!mkdtemp(t->tmp))
        return -1;
    char src[256], cmd[1024];
    tele_test_fixture(src, sizeof src);
    snprintf(t->dir, sizeof t->dir, "%s/sys", t->tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", src, t->dir);
    if (system(cmd) != 0)
        return -1;
    setenv("EDGEBENCH_SYSFS", t->dir, 1);
    *state = t;
    return 0;
}

static int tele_test_teardown(void **state)
{
    tele_test *t = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->tmp);
    if (system(cmd) != 0)
        return -1;
    unsetenv("EDGEBENCH_SYSFS");
    free(t);
    return 0;
}

/* Writes text (plus "\n") to DIR/rel. */
static void tele_test_put(const tele_test *t, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", text);
    fclose(f);
}

static void tele_test_rm(const tele_test *t, const char *rel)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", t->dir, rel);
    assert_int_equal(system(cmd), 0);
}

static eb_telemetry *tele_test_open(const char *throttled_cmd)
{
    eb_telemetry_opts o = {0};
    o.throttled_cmd = throttled_cmd;
    eb_telemetry *tele = NULL;
    eb_err err = {{0}};
    assert_int_equal(eb_telemetry_open(&tele, &o, &err), 0);
    assert_non_null(tele);
    return tele;
}

static void tele_test_field(const eb_telemetry_summary *s, const char *col, const char *want)
{
    char buf[300];
    eb_telemetry_field(s, col, buf, sizeof buf);
    assert_string_equal(buf, want);
}

#define POL0 "devices/system/cpu/cpufreq/policy0/"
#define POL2 "devices/system/cpu/cpufreq/policy2/"
#define ZONE0 "class/thermal/thermal_zone0/temp"

static void test_probe_describes_board(void **state)
{
    (void)state;
    eb_telemetry *tele = tele_test_open("");
    char d[256];
    eb_telemetry_describe(tele, d, sizeof d);
    /* zone2's placeholder reading is not a sensor */
    assert_string_equal(d, "2 thermal zones, 2 cpufreq policies, thermal_throttle on 4 cpus, "
                           "get_throttled: off");
    assert_true(fabs(eb_telemetry_hottest_c(tele) - 45.0) < 1e-9);
    eb_telemetry_close(tele);
}

static void test_steady_trial_is_not_throttled_and_rows_are_long_format(void **state)
{
    (void)state;
    eb_telemetry *tele = tele_test_open("");
    char *text = NULL;
    size_t len = 0;
    FILE *csv = open_memstream(&text, &len);
    fputs(eb_telemetry_csv_header(), csv);
    eb_telemetry_begin(tele, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(eb_telemetry_sample(tele, 100.0 * i, csv, "r1", "mlp, ref"), 6);
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    fclose(csv);

    assert_int_equal(s.throttled, 0);
    assert_string_equal(s.reason, "");
    assert_int_equal(s.samples, 5);
    assert_true(fabs(s.freq_mhz_mean - 2100.0) < 1e-9); /* (2400 + 1800) / 2 */
    tele_test_field(&s, "throttled", "false");
    tele_test_field(&s, "throttle_reason", "");
    tele_test_field(&s, "temp_start_c", "45.0");
    tele_test_field(&s, "temp_max_c", "45.0");
    tele_test_field(&s, "freq_mhz_mean", "2100");
    tele_test_field(&s, "no_such_column", "");

    const char *want = "run_id,trial,t_ms,sensor,value,unit\n"
                       "r1,\"mlp, ref\",0.0,thermal_zone0/x86_pkg_temp,45.0,C\n"
                       "r1,\"mlp, ref\",0.0,thermal_zone1/acpitz,40.0,C\n"
                       "r1,\"mlp, ref\",0.0,policy0/cur_freq,2400,MHz\n"
                       "r1,\"mlp, ref\",0.0,policy0/max_freq,2400,MHz\n"
                       "r1,\"mlp, ref\",0.0,policy2/cur_freq,1800,MHz\n"
                       "r1,\"mlp, ref\",0.0,policy2/max_freq,1800,MHz\n"
                       "r1,\"mlp, ref\",100.0,thermal_zone0/x86_pkg_temp,45.0,C\n";
    assert_memory_equal(text, want, strlen(want));
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + 5 * 6);
    free(text);
    eb_telemetry_close(tele);
}

static void test_temperatures_follow_the_files(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    eb_telemetry_sample(tele, 0, NULL, "r", "x");
    tele_test_put(t, ZONE0, "71500");
    eb_telemetry_sample(tele, 100, NULL, "r", "x");
    tele_test_put(t, ZONE0, "60000");
    eb_telemetry_sample(tele, 200, NULL, "r", "x");
    tele_test_put(t, ZONE0, "58250");
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    tele_test_field(&s, "temp_start_c", "45.0");
    tele_test_field(&s, "temp_max_c", "71.5");
    tele_test_field(&s, "temp_end_c", "58.2");
    assert_true(fabs(s.temp_end_c - 58.25) < 1e-9);
    eb_telemetry_close(tele);
}

static void test_frequency_falling_from_its_peak_is_throttling(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    for (int i = 0; i < 6; i++) {
        tele_test_put(t, POL0 "scaling_cur_freq", i < 3 ? "2400000" : "1200000");
        eb_telemetry_sample(tele, 100.0 * i, NULL, "r", "x");
    }
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 1);
    assert_string_equal(s.reason, "policy0 1.2 GHz < 90% of 2.4 GHz");
    tele_test_field(&s, "throttled", "true");
    eb_telemetry_close(tele);
}

static void test_frequency_of_other_cpus_does_not_count(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, "2-3"); /* the trial runs on policy2's CPUs only */
    for (int i = 0; i < 6; i++) {
        tele_test_put(t, POL0 "scaling_cur_freq", i < 3 ? "2400000" : "1200000");
        eb_telemetry_sample(tele, 100.0 * i, NULL, "r", "x");
    }
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0);
    assert_true(fabs(s.freq_mhz_mean - 1800.0) < 1e-9);
    eb_telemetry_close(tele);
}

static void test_one_low_sample_is_not_enough(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    for (int i = 0; i < 4; i++) {
        tele_test_put(t, POL2 "scaling_cur_freq", i == 2 ? "800000" : "1800000");
        eb_telemetry_sample(tele, 100.0 * i, NULL, "r", "x");
    }
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0); /* 1 of 4 samples: a blip, not throttling */
    eb_telemetry_close(tele);
}

static void test_low_share_below_threshold_is_not_throttling(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    for (int i = 0; i < 10; i++) { /* 2 of 10 low: below the default 25% */
        tele_test_put(t, POL2 "scaling_cur_freq", i == 3 || i == 7 ? "800000" : "1800000");
        eb_telemetry_sample(tele, 100.0 * i, NULL, "r", "x");
    }
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0);
    eb_telemetry_close(tele);
}

static void test_capped_max_frequency_is_throttling(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    eb_telemetry_sample(tele, 0, NULL, "r", "x");
    tele_test_put(t, POL2 "scaling_max_freq", "1400000");
    eb_telemetry_sample(tele, 100, NULL, "r", "x");
    tele_test_put(t, POL2 "scaling_max_freq", "1800000"); /* released before the end */
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 1);
    assert_string_equal(s.reason, "policy2 max 1.8 GHz -> 1.4 GHz");
    eb_telemetry_close(tele);
}

static void test_throttle_counters(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    eb_telemetry_sample(tele, 0, NULL, "r", "x");
    tele_test_put(t, "devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "3");
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 1);
    assert_string_equal(s.reason, "cpu1 core_throttle_count +3");

    /* cpu1 is not the trial's: its core counter does not count, the package one does */
    eb_telemetry_begin(tele, "2,3");
    tele_test_put(t, "devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "9");
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0);
    eb_telemetry_begin(tele, "2 3");
    tele_test_put(t, "devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "7");
    tele_test_put(t, "devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", "7");
    tele_test_put(t, "devices/system/cpu/cpu2/thermal_throttle/core_throttle_count", "1");
    tele_test_put(t, "devices/system/cpu/cpu3/thermal_throttle/core_throttle_count", "4");
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 1);
    assert_string_equal(s.reason, "cpu2 core_throttle_count +1 (and 1 more cpus); "
                                  "cpu0 package_throttle_count +2");
    eb_telemetry_close(tele);
}

static void test_sensors_vanishing_mid_run(void **state)
{
    tele_test *t = *state;
    eb_telemetry *tele = tele_test_open("");
    eb_telemetry_begin(tele, NULL);
    assert_int_equal(eb_telemetry_sample(tele, 0, NULL, "r", "x"), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *csv = open_memstream(&text, &len);
    assert_int_equal(eb_telemetry_sample(tele, 0, csv, "r", "x"), 6);
    tele_test_rm(t, "class/thermal/thermal_zone1");
    tele_test_rm(t, "devices/system/cpu/cpufreq/policy2");
    tele_test_rm(t, "devices/system/cpu/cpu3");
    assert_int_equal(eb_telemetry_sample(tele, 100, csv, "r", "x"), 3);
    tele_test_rm(t, "class/thermal/thermal_zone0");
    assert_int_equal(eb_telemetry_sample(tele, 200, csv, "r", "x"), 2);
    fclose(csv);
    free(text);
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0);
    assert_true(isnan(s.temp_end_c));
    tele_test_field(&s, "temp_end_c", "");
    tele_test_field(&s, "temp_start_c", "45.0");
    assert_true(isnan(eb_telemetry_hottest_c(tele)));
    eb_telemetry_close(tele);
}

static void test_nothing_can_tell(void **state)
{
    tele_test *t = *state;
    setenv("EDGEBENCH_SYSFS", t->tmp, 1); /* a root with none of the kernel's files */
    eb_telemetry *tele = tele_test_open("");
    char d[256];
    eb_telemetry_describe(tele, d, sizeof d);
    assert_string_equal(d, "0 thermal zones, 0 cpufreq policies, thermal_throttle on 0 cpus, "
                           "get_throttled: off");
    eb_telemetry_begin(tele, NULL);
    assert_int_equal(eb_telemetry_sample(tele, 0, stdout, "r", "x"), 0);
    eb_telemetry_summary s;
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, -1);
    assert_non_null(strstr(s.reason, "no thermal_throttle counters"));
    tele_test_field(&s, "throttled", "");
    tele_test_field(&s, "temp_max_c", "");
    tele_test_field(&s, "freq_mhz_mean", "");
    assert_true(isnan(eb_telemetry_hottest_c(tele)));
    eb_telemetry_close(tele);
}

/* get_throttled through a command that prints a file the test rewrites. */
static void tele_test_rpi_cmd(const tele_test *t, char *cmd, size_t n)
{
    snprintf(cmd, n, "cat %s/get_throttled", t->dir);
}

static void test_rpi_get_throttled(void **state)
{
    tele_test *t = *state;
    char cmd[400];
    tele_test_rpi_cmd(t, cmd, sizeof cmd);
    tele_test_put(t, "get_throttled", "throttled=0x0");
    eb_telemetry *tele = tele_test_open(cmd);
    char d[256];
    eb_telemetry_describe(tele, d, sizeof d);
    assert_non_null(strstr(d, "get_throttled: 0x0 at start"));

    eb_telemetry_summary s;
    eb_telemetry_begin(tele, NULL);
    eb_telemetry_sample(tele, 0, NULL, "r", "x");
    tele_test_put(t, "get_throttled", "throttled=0x50005");
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 1);
    assert_string_equal(s.reason, "rpi: under-voltage, throttled");

    /* Only a "has occurred" bit that appeared during the trial. */
    tele_test_put(t, "get_throttled", "throttled=0x10000");
    eb_telemetry_begin(tele, NULL);
    tele_test_put(t, "get_throttled", "throttled=0x50000");
    eb_telemetry_end(tele, &s);
    assert_string_equal(s.reason, "rpi: throttled");

    /* Sticky bits already set at begin, nothing now: not throttled. */
    eb_telemetry_begin(tele, NULL);
    eb_telemetry_end(tele, &s);
    assert_int_equal(s.throttled, 0);

    /* Seen by a poll during the trial, gone by the end. */
    eb_telemetry_begin(tele, NULL);
    tele_test_put(t, "get_throttled", "throttled=0x50008");
    eb_telemetry_sample(tele, 0, NULL, "r", "x");
    tele_test_put(t, "get_throttled", "throttled=0x50000");
    eb_telemetry_sample(tele, 100, NULL, "r", "x"); /* too soon to run the command again */
    eb_telemetry_end(tele, &s);
    assert_string_equal(s.reason, "rpi: soft temperature limit");
    eb_telemetry_close(tele);
}

static void test_rpi_command_absent_or_wrong(void **state)
{
    tele_test *t = *state;
    char d[256];
    eb_telemetry *tele = tele_test_open("/nonexistent/vcgencmd get_throttled");
    eb_telemetry_describe(tele, d, sizeof d);
    assert_non_null(strstr(d, "get_throttled: command not found"));
    eb_telemetry_close(tele);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "cat %s/class/thermal/thermal_zone0/type", t->dir);
    tele = tele_test_open(cmd);
    eb_telemetry_describe(tele, d, sizeof d);
    assert_non_null(strstr(d, "printed no throttled=0x"));
    eb_telemetry_close(tele);

    /* The default: vcgencmd only when on PATH (it is not on this test machine's PATH). */
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", t->tmp, 1);
    tele = tele_test_open(NULL);
    eb_telemetry_describe(tele, d, sizeof d);
    assert_non_null(strstr(d, "get_throttled: none"));
    eb_telemetry_close(tele);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
}

static void test_bad_options(void **state)
{
    (void)state;
    eb_telemetry_opts o = {0};
    o.freq_drop_pct = 150;
    eb_telemetry *tele = NULL;
    eb_err err = {{0}};
    assert_int_equal(eb_telemetry_open(&tele, &o, &err), -1);
    assert_null(tele);
    assert_non_null(strstr(err.msg, "freq_drop_pct"));
    o.freq_drop_pct = 0;
    o.low_share = -1;
    assert_int_equal(eb_telemetry_open(&tele, &o, &err), -1);
    assert_non_null(strstr(err.msg, "low_share"));
}

static void test_columns(void **state)
{
    (void)state;
    const char *const *c = eb_telemetry_columns();
    const char *want[] = {"throttled", "throttle_reason", "temp_start_c", "temp_end_c",
                          "temp_max_c", "freq_mhz_mean"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(c[i], want[i]);
    assert_null(c[6]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tele_test_setup, tele_test_teardown)
    const struct CMUnitTest tests[] = {
        T(test_probe_describes_board),
        T(test_steady_trial_is_not_throttled_and_rows_are_long_format),
        T(test_temperatures_follow_the_files),
        T(test_frequency_falling_from_its_peak_is_throttling),
        T(test_frequency_of_other_cpus_does_not_count),
        T(test_one_low_sample_is_not_enough),
        T(test_low_share_below_threshold_is_not_throttling),
        T(test_capped_max_frequency_is_throttling),
        T(test_throttle_counters),
        T(test_sensors_vanishing_mid_run),
        T(test_nothing_can_tell),
        T(test_rpi_get_throttled),
        T(test_rpi_command_absent_or_wrong),
        T(test_bad_options),
        T(test_columns),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
