/* Tests of harness/meter_perf_power.c: the sysfs description of the power PMU is parsed from
 * a fixture; this VM has no such PMU, so opening it must fail with a clear reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meter_fixture.h"
#include "meter_impl.h"

#define PERF_TEST_DIR "bus/event_source/devices/power"

static int perf_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static void perf_test_config(void **state)
{
    (void)state;
    unsigned long long c = 99;
    assert_int_equal(eb_meter_perf_parse_config("event=0x02", &c), 0);
    assert_int_equal(c, 2);
    assert_int_equal(eb_meter_perf_parse_config("event=5\n", &c), 0);
    assert_int_equal(c, 5);
    c = 99;
    assert_int_equal(eb_meter_perf_parse_config("event=0x02,umask=0x01", &c), -1);
    assert_int_equal(eb_meter_perf_parse_config("umask=0x01", &c), -1);
    assert_int_equal(eb_meter_perf_parse_config("event=", &c), -1);
    assert_int_equal(c, 99);
}

static void perf_test_describe(void **state)
{
    (void)state;
    eb_meter_perf_event ev;
    eb_err err = {{0}};
    meter_fixture_use("perf-power");
    assert_int_equal(eb_meter_perf_describe("energy-pkg", &ev, &err), 0);
    assert_int_equal(ev.type, 23);
    assert_int_equal(ev.config, 2);
    assert_true(ev.scale == 2.3283064365386962890625e-10);
    assert_string_equal(ev.unit, "Joules");
    assert_int_equal(ev.ncpu, 1);
    assert_int_equal(ev.cpu[0], 0);
    assert_int_equal(eb_meter_perf_describe("energy-psys", &ev, &err), 0);
    assert_int_equal(ev.config, 5);
    assert_int_equal(eb_meter_perf_describe("energy-ram", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "events/energy-ram"));
}

static void perf_test_describe_edits(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_perf_event ev;
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, "perf-power", NULL), 0);
    /* two sockets: one cpu per package */
    assert_int_equal(meter_fixture_write(tmp, PERF_TEST_DIR "/cpumask", "0,28"), 0);
    assert_int_equal(eb_meter_perf_describe("energy-pkg", &ev, &err), 0);
    assert_int_equal(ev.ncpu, 2);
    assert_int_equal(ev.cpu[1], 28);
    assert_int_equal(meter_fixture_write(tmp, PERF_TEST_DIR "/cpumask", "0-3"), 0);
    assert_int_equal(eb_meter_perf_describe("energy-pkg", &ev, &err), 0);
    assert_int_equal(ev.ncpu, 4);
    assert_int_equal(ev.cpu[3], 3);
    assert_int_equal(meter_fixture_write(tmp, PERF_TEST_DIR "/cpumask", "zero"), 0);
    assert_int_equal(eb_meter_perf_describe("energy-pkg", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "cpumask"));
    assert_int_equal(meter_fixture_write(tmp, PERF_TEST_DIR "/cpumask", "0"), 0);
    /* a unit other than joules is refused, not rescaled by guess */
    assert_int_equal(meter_fixture_write(tmp, PERF_TEST_DIR "/events/energy-pkg.unit", "Watts"),
                     0);
    assert_int_equal(eb_meter_perf_describe("energy-pkg", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "expected \"Joules\""));
    assert_int_equal(meter_fixture_unlink(tmp, PERF_TEST_DIR "/events/energy-cores.scale"), 0);
    assert_int_equal(eb_meter_perf_describe("energy-cores", &ev, &err), -1);
    assert_non_null(strstr(err.msg, "energy-cores.scale"));
    meter_fixture_remove(tmp);
}

static void perf_test_probe_here(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    meter_fixture_use("perf-power");
    assert_int_equal(eb_meter_perf_probe(&set, &err), 0);
    assert_int_equal(set.n, 3); /* energy-cores, energy-pkg, energy-psys; no .scale/.unit */
    eb_meter *pkg = meter_fixture_find(&set, "perf_power:pkg");
    eb_meter *psys = meter_fixture_find(&set, "perf_power:psys");
    assert_non_null(pkg);
    assert_non_null(psys);
    assert_non_null(meter_fixture_find(&set, "perf_power:cores"));
    assert_true(pkg->is_total);
    assert_false(psys->is_total);
    assert_int_equal(pkg->rank, EB_METER_RANK_PERF);
    /* no power PMU of type 23 on this machine: the open fails, and says how */
    int usable = pkg->usable;
    size_t nparts = pkg->nparts;
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", pkg->reason);
    eb_meter_set_free(&set);
    if (usable)
        skip();
    assert_int_equal(nparts, 0);
    assert_non_null(strstr(reason, "perf_event_open(power/energy-pkg"));
}

static void perf_test_absent(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, NULL), 0);
    assert_int_equal(eb_meter_perf_probe(&set, &err), 0);
    assert_int_equal(set.n, 1);
    assert_false(set.m[0].usable);
    assert_non_null(strstr(set.m[0].reason, "no power PMU at"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

int main(void)
{
#define PERF_T(f) cmocka_unit_test_setup_teardown(f, perf_test_reset, perf_test_reset)
    const struct CMUnitTest tests[] = {
        PERF_T(perf_test_config),     PERF_T(perf_test_describe),
        PERF_T(perf_test_describe_edits), PERF_T(perf_test_probe_here),
        PERF_T(perf_test_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
