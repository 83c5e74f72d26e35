/* Tests of harness/meter_hwmon.c: energy*_input counters and power*_input/_average sensors
 * from a fixture (amd_energy, amdgpu, plus chips without either), integration of sampled
 * power at a known profile, update_interval and the enough rule, a sensor removed mid-run. */
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

#define HWMON_TEST_GPU "class/hwmon/hwmon2/power1_average"

static int hwmon_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static void hwmon_test_probe(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double v[EB_METER_MAX_PARTS];
    meter_fixture_use("hwmon");
    assert_int_equal(eb_meter_hwmon_probe(&set, &err), 0);
    assert_int_equal(set.n, 3); /* acpitz and nvme offer neither energy nor power */
    eb_meter *sock = meter_fixture_find(&set, "hwmon:amd_energy/Esocket0");
    eb_meter *core = meter_fixture_find(&set, "hwmon:amd_energy/Ecore000");
    eb_meter *gpu = meter_fixture_find(&set, "hwmon:amdgpu/PPT");
    assert_non_null(sock);
    assert_non_null(core);
    assert_non_null(gpu);
    assert_int_equal(sock->kind, EB_METER_ENERGY);
    assert_int_equal(sock->rank, EB_METER_RANK_HWMON_ENERGY);
    assert_true(sock->is_total);
    assert_false(core->is_total);
    assert_int_equal(gpu->kind, EB_METER_POWER);
    assert_int_equal(gpu->rank, EB_METER_RANK_HWMON_POWER);
    assert_false(gpu->is_total); /* a GPU's power is not the device's */
    assert_int_equal(sock->read(sock, v, &err), 0);
    meter_assert_near(v[0], 60218.291003, 1e-9);
    assert_int_equal(gpu->read(gpu, v, &err), 0);
    meter_assert_near(v[0], 15.0, 1e-12);
    eb_meter *m;
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
    assert_ptr_equal(m, sock);
    assert_int_equal(eb_meter_choose(&set, "hwmon", &m, &err), 0);
    assert_ptr_equal(m, sock);
    assert_int_equal(eb_meter_choose(&set, "hwmon:amdgpu/PPT", &m, &err), 0);
    assert_ptr_equal(m, gpu);
    eb_meter_set_free(&set);
}

static void hwmon_test_power_profiles(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 10.0;
    eb_meter_result r;
    assert_int_equal(meter_fixture_copy(tmp, "hwmon", NULL), 0);
    assert_int_equal(eb_meter_hwmon_probe(&set, &err), 0);
    eb_meter *gpu = meter_fixture_find(&set, "hwmon:amdgpu/PPT");
    assert_non_null(gpu);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};

    /* constant 15 W for 1 s */
    eb_meter_session *s = eb_meter_start(gpu, &o, &err);
    assert_non_null(s);
    for (int i = 1; i <= 9; i++) {
        t = 10.0 + 0.1 * i;
        assert_int_equal(eb_meter_sample(s), 0);
    }
    t = 11.0;
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 15.0, 1e-9);
    meter_assert_near(r.watts, 15.0, 1e-9);
    assert_int_equal(r.samples, 11);

    /* a ramp 0 -> 10 W over 2 s, read at uneven times: the trapezoid rule is exact, 10 J */
    assert_int_equal(meter_fixture_write(tmp, HWMON_TEST_GPU, "0"), 0);
    t = 0;
    s = eb_meter_start(gpu, &o, &err);
    assert_non_null(s);
    const double at[] = {0.05, 0.4, 0.45, 1.3, 1.9};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        assert_int_equal(meter_fixture_write(tmp, HWMON_TEST_GPU, "%.0f", at[i] * 5e6), 0);
        t = at[i];
        assert_int_equal(eb_meter_sample(s), 0);
    }
    assert_int_equal(meter_fixture_write(tmp, HWMON_TEST_GPU, "10000000"), 0);
    t = 2.0;
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 10.0, 1e-9);
    meter_assert_near(r.watts, 5.0, 1e-9);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void hwmon_test_enough(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    assert_int_equal(meter_fixture_copy(tmp, "hwmon", NULL), 0);
    assert_int_equal(meter_fixture_write(tmp, "class/hwmon/hwmon2/update_interval", "200"), 0);
    assert_int_equal(eb_meter_hwmon_probe(&set, &err), 0);
    eb_meter *gpu = meter_fixture_find(&set, "hwmon:amdgpu/PPT");
    assert_non_null(gpu);
    meter_assert_near(gpu->interval_s, 0.2, 1e-12);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(gpu, &o, &err);
    assert_non_null(s);
    /* five updates of 0.2 s: not before t = 1.0 */
    for (int i = 1; i <= 4; i++) {
        t = 0.2 * i;
        assert_int_equal(eb_meter_sample(s), 0);
        assert_false(eb_meter_enough(s));
    }
    /* many readings in a short time do not count as sensor updates */
    for (int i = 0; i < 20; i++) {
        t = 0.8 + 0.005 * i;
        assert_int_equal(eb_meter_sample(s), 0);
    }
    assert_false(eb_meter_enough(s));
    t = 1.0;
    assert_int_equal(eb_meter_sample(s), 0);
    assert_true(eb_meter_enough(s));
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    assert_int_equal(r.updates, 5);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void hwmon_test_vanishes(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    assert_int_equal(meter_fixture_copy(tmp, "hwmon", NULL), 0);
    assert_int_equal(eb_meter_hwmon_probe(&set, &err), 0);
    eb_meter *gpu = meter_fixture_find(&set, "hwmon:amdgpu/PPT");
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(gpu, &o, &err);
    assert_non_null(s);
    t = 0.5;
    assert_int_equal(eb_meter_sample(s), 0);
    /* the driver unbinds: the whole hwmon directory goes */
    assert_int_equal(system("rm -rf \"$EDGEBENCH_SYSFS\"/class/hwmon/hwmon2"), 0);
    t = 1.0;
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_false(r.ok);
    assert_true(r.joules == 0);
    assert_non_null(strstr(r.reason, "power1_average is missing"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void hwmon_test_nothing(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, "hwmon", NULL), 0);
    assert_int_equal(system("rm -rf \"$EDGEBENCH_SYSFS\"/class/hwmon/hwmon1 "
                            "\"$EDGEBENCH_SYSFS\"/class/hwmon/hwmon2"), 0);
    assert_int_equal(eb_meter_hwmon_probe(&set, &err), 0);
    assert_int_equal(set.n, 1);
    assert_false(set.m[0].usable);
    assert_non_null(strstr(set.m[0].reason, "offers energy*_input or power*_input (found: "
                                            "acpitz, nvme)"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

int main(void)
{
#define HWMON_T(f) cmocka_unit_test_setup_teardown(f, hwmon_test_reset, hwmon_test_reset)
    const struct CMUnitTest tests[] = {
        HWMON_T(hwmon_test_probe),    HWMON_T(hwmon_test_power_profiles),
        HWMON_T(hwmon_test_enough),   HWMON_T(hwmon_test_vanishes),
        HWMON_T(hwmon_test_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
