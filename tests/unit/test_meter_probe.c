/* Tests of eb_meters_probe_all, the chooser's order and the report: on the real /sys (this VM
 * has no meter: every source unusable with a reason, no crash) and on unions of fixtures that
 * remove the best source one at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "meter_fixture.h"
#include "meter_impl.h"

static int probe_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static const char *const probe_test_sources[] = {"rapl", "perf_power", "hwmon", "ina3221",
                                                 "battery"};

static void probe_test_real_sys(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(eb_meters_probe_all(&set, &err), 0);
    /* every source is named, and every unusable entry says why */
    for (size_t k = 0; k < sizeof probe_test_sources / sizeof probe_test_sources[0]; k++) {
        int seen = 0;
        for (size_t i = 0; i < set.n; i++)
            seen |= strcmp(set.m[i].source, probe_test_sources[k]) == 0;
        assert_true(seen);
    }
    for (size_t i = 0; i < set.n; i++)
        assert_true(set.m[i].usable || set.m[i].reason[0]);
    if (access("/sys/class/powercap", F_OK) != 0) {
        eb_meter *rapl = meter_fixture_unusable(&set, "rapl");
        assert_non_null(rapl);
        assert_non_null(strstr(rapl->reason, "no powercap under /sys/class/powercap"));
    }
    if (access("/sys/bus/event_source/devices/power", F_OK) != 0)
        assert_non_null(meter_fixture_unusable(&set, "perf_power"));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    eb_meters_print(f, &set);
    fclose(f);
    assert_non_null(strstr(text, "rapl"));
    assert_non_null(strstr(text, "battery"));
    free(text);
    eb_meter *m;
    int rc = eb_meter_choose(&set, NULL, &m, &err);
    assert_true(rc == 0 || strstr(err.msg, "no usable meter covers this device") != NULL);
    eb_meter_set_free(&set);
}

/* The auto choice over a union of fixtures. */
static void probe_test_expect(const char *want, const char *f1, const char *f2, const char *f3,
                              const char *f4)
{
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    assert_int_equal(meter_fixture_copy(tmp, f1, f2, f3, f4, NULL), 0);
    assert_int_equal(eb_meters_probe_all(&set, &err), 0);
    if (want) {
        assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
        assert_string_equal(m->name, want);
    } else {
        assert_int_equal(eb_meter_choose(&set, "auto", &m, &err), -1);
    }
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void probe_test_order(void **state)
{
    (void)state;
    /* RAPL package > perf power > hwmon energy > INA3221 VDD_IN > hwmon power > battery */
    probe_test_expect("rapl:package", "rapl-laptop", "hwmon", "ina3221-hwmon",
                      "battery-discharging");
    probe_test_expect("hwmon:amd_energy/Esocket0", "hwmon", "ina3221-iio",
                      "battery-discharging", NULL);
    probe_test_expect("ina3221:POM_5V_IN", "ina3221-iio", "battery-discharging", NULL, NULL);
    probe_test_expect("battery:BAT0", "battery-discharging", NULL, NULL, NULL);
    probe_test_expect("rapl:package", "battery-discharging", "rapl-2socket", NULL, NULL);
    probe_test_expect(NULL, "battery-ac", "perf-power", NULL, NULL); /* nothing usable */
}

static void probe_test_hwmon_power_before_battery(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    /* a hwmon power channel labelled as the system's total beats a battery */
    assert_int_equal(meter_fixture_copy(tmp, "hwmon", "battery-discharging", NULL), 0);
    assert_int_equal(system("rm -rf \"$EDGEBENCH_SYSFS\"/class/hwmon/hwmon1"), 0);
    assert_int_equal(meter_fixture_write(tmp, "class/hwmon/hwmon2/power1_label", "System"), 0);
    assert_int_equal(eb_meters_probe_all(&set, &err), 0);
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
    assert_string_equal(m->name, "hwmon:amdgpu/System");
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void probe_test_named(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    meter_fixture_use("rapl-laptop");
    assert_int_equal(eb_meters_probe_all(&set, &err), 0);
    assert_int_equal(eb_meter_choose(&set, "rapl:dram", &m, &err), -1);
    assert_non_null(strstr(err.msg, "no meter named rapl:dram; known: rapl:package"));
    assert_int_equal(eb_meter_choose(&set, "hwmon", &m, &err), -1);
    assert_non_null(strstr(err.msg, "meter hwmon is unusable; no hwmon device under"));
    assert_int_equal(eb_meter_choose(&set, "rapl:uncore", &m, &err), 0);
    assert_string_equal(m->domain, "uncore");
    eb_meter_set_free(&set);
}

int main(void)
{
#define PROBE_T(f) cmocka_unit_test_setup_teardown(f, probe_test_reset, probe_test_reset)
    const struct CMUnitTest tests[] = {
        PROBE_T(probe_test_real_sys), PROBE_T(probe_test_order),
        PROBE_T(probe_test_hwmon_power_before_battery), PROBE_T(probe_test_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
