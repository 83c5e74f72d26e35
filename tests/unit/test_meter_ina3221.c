/* Tests of harness/meter_ina3221.c: Jetson rails from the hwmon layout (two chips, V x I) and
 * the older iio layout (mW), VDD_IN / POM_5V_IN as the total. */
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

static int ina_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static double ina_test_watts(eb_meter *m)
{
    double v[EB_METER_MAX_PARTS];
    eb_err err = {{0}};
    assert_int_equal(m->read(m, v, &err), 0);
    return v[0];
}

static void ina_test_hwmon_layout(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    meter_fixture_use("ina3221-hwmon");
    assert_int_equal(eb_meter_ina3221_probe(&set, &err), 0);
    assert_int_equal(set.n, 6); /* two chips, three labelled rails each */
    eb_meter *in = meter_fixture_find(&set, "ina3221:VDD_IN");
    assert_non_null(in);
    assert_true(in->usable);
    assert_true(in->is_total);
    assert_int_equal(in->kind, EB_METER_POWER);
    meter_assert_near(in->interval_s, 0.14, 1e-12);
    meter_assert_near(ina_test_watts(in), 5.056 * 1.8, 1e-9); /* in1_input mV x curr1 mA */
    eb_meter *soc = meter_fixture_find(&set, "ina3221:VDD_SOC");
    assert_non_null(soc);
    assert_false(soc->is_total);
    meter_assert_near(ina_test_watts(soc), 5.064 * 0.56, 1e-9);
    for (size_t i = 0; i < set.n; i++)
        assert_true(set.m[i].is_total == (strcmp(set.m[i].domain, "VDD_IN") == 0));
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
    assert_ptr_equal(m, in);
    assert_int_equal(eb_meter_choose(&set, "ina3221", &m, &err), 0);
    assert_ptr_equal(m, in);
    assert_int_equal(eb_meter_choose(&set, "ina3221:VDD_SOC", &m, &err), 0);
    assert_ptr_equal(m, soc);
    /* the generic hwmon source finds nothing of its own on these chips */
    eb_meter_set hw = {0};
    assert_int_equal(eb_meter_hwmon_probe(&hw, &err), 0);
    assert_int_equal(hw.n, 1);
    assert_false(hw.m[0].usable);
    eb_meter_set_free(&hw);
    eb_meter_set_free(&set);
}

static void ina_test_iio_layout(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    meter_fixture_use("ina3221-iio");
    assert_int_equal(eb_meter_ina3221_probe(&set, &err), 0);
    assert_int_equal(set.n, 3);
    eb_meter *in = meter_fixture_find(&set, "ina3221:POM_5V_IN");
    assert_non_null(in);
    assert_true(in->is_total);
    meter_assert_near(ina_test_watts(in), 2.384, 1e-12); /* in_power0_input is mW */
    eb_meter *gpu = meter_fixture_find(&set, "ina3221:POM_5V_GPU");
    assert_non_null(gpu);
    assert_false(gpu->is_total);
    meter_assert_near(ina_test_watts(gpu), 0.039, 1e-12);
    assert_int_equal(eb_meter_choose(&set, "auto", &m, &err), 0);
    assert_ptr_equal(m, in);
    eb_meter_set_free(&set);
}

static void ina_test_window(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    const char *rel = "bus/i2c/drivers/ina3221x/6-0040/iio:device0/in_power0_input";
    assert_int_equal(meter_fixture_copy(tmp, "ina3221-iio", NULL), 0);
    assert_int_equal(eb_meter_ina3221_probe(&set, &err), 0);
    eb_meter *in = meter_fixture_find(&set, "ina3221:POM_5V_IN");
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    assert_int_equal(meter_fixture_write(tmp, rel, "2000"), 0);
    eb_meter_session *s = eb_meter_start(in, &o, &err);
    assert_non_null(s);
    /* 2 W for 1 s, then 4 W for 1 s, read every 0.1 s: steps integrate to 6 J plus half a
     * step's trapezoid at the edge (0.1 s x 2 W / 2) */
    for (int i = 1; i <= 20; i++) {
        if (i == 11)
            assert_int_equal(meter_fixture_write(tmp, rel, "4000"), 0);
        t = 0.1 * i;
        assert_int_equal(eb_meter_sample(s), 0);
    }
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 6.0 - 0.1, 1e-9);
    meter_assert_near(r.seconds, 2.0, 1e-12);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void ina_test_absent(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    meter_fixture_use("hwmon");
    assert_int_equal(eb_meter_ina3221_probe(&set, &err), 0);
    assert_int_equal(set.n, 1);
    assert_false(set.m[0].usable);
    assert_non_null(strstr(set.m[0].reason, "not a Jetson"));
    eb_meter_set_free(&set);
}

int main(void)
{
#define INA_T(f) cmocka_unit_test_setup_teardown(f, ina_test_reset, ina_test_reset)
    const struct CMUnitTest tests[] = {
        INA_T(ina_test_hwmon_layout), INA_T(ina_test_iio_layout),
        INA_T(ina_test_window),       INA_T(ina_test_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
