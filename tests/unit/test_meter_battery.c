/* Tests of harness/meter_battery.c: a battery on AC is refused with the reason; a discharging
 * one is read as voltage x current (sign-agnostic); a peripheral's battery is skipped; a
 * charger plugged in mid-window fails the window. */
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

static int bat_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static void bat_test_on_ac(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    meter_fixture_use("battery-ac");
    assert_int_equal(eb_meter_battery_probe(&set, &err), 0);
    assert_int_equal(set.n, 1); /* AC is Mains, not a battery */
    eb_meter *bat = meter_fixture_find(&set, "battery:BAT0");
    assert_non_null(bat);
    assert_false(bat->usable);
    assert_non_null(strstr(bat->reason, "\"Charging\""));
    assert_non_null(strstr(bat->reason, "unplug the charger"));
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), -1);
    assert_int_equal(eb_meter_choose(&set, "battery:BAT0", &m, &err), -1);
    assert_non_null(strstr(err.msg, "on AC power"));
    eb_meter_set_free(&set);
}

static void bat_test_discharging(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double v[EB_METER_MAX_PARTS];
    eb_meter *m;
    meter_fixture_use("battery-discharging");
    assert_int_equal(eb_meter_battery_probe(&set, &err), 0);
    assert_int_equal(set.n, 1); /* the mouse's battery (scope Device) is not the device's */
    eb_meter *bat = meter_fixture_find(&set, "battery:BAT0");
    assert_non_null(bat);
    assert_true(bat->usable);
    assert_true(bat->is_total);
    assert_int_equal(bat->read(bat, v, &err), 0);
    meter_assert_near(v[0], 11.4 * 1.5, 1e-9); /* current_now is negative in the fixture */
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
    assert_ptr_equal(m, bat);
    eb_meter_set_free(&set);
}

static void bat_test_power_now_and_plug_in(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    assert_int_equal(meter_fixture_copy(tmp, "battery-discharging", NULL), 0);
    assert_int_equal(meter_fixture_write(tmp, "class/power_supply/BAT0/power_now", "8000000"),
                     0);
    assert_int_equal(eb_meter_battery_probe(&set, &err), 0);
    eb_meter *bat = meter_fixture_find(&set, "battery:BAT0");
    assert_non_null(bat);
    assert_string_equal(bat->part[0].rel, "class/power_supply/BAT0/power_now");
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(bat, &o, &err);
    assert_non_null(s);
    t = 1.0;
    assert_int_equal(eb_meter_sample(s), 0);
    assert_int_equal(meter_fixture_write(tmp, "class/power_supply/BAT0/status", "Charging"), 0);
    t = 2.0;
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "stopped discharging"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void bat_test_none(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    meter_fixture_use("hwmon");
    assert_int_equal(eb_meter_battery_probe(&set, &err), 0);
    assert_int_equal(set.n, 1);
    assert_false(set.m[0].usable);
    assert_non_null(strstr(set.m[0].reason, "no battery under"));
    eb_meter_set_free(&set);
}

int main(void)
{
#define BAT_T(f) cmocka_unit_test_setup_teardown(f, bat_test_reset, bat_test_reset)
    const struct CMUnitTest tests[] = {
        BAT_T(bat_test_on_ac), BAT_T(bat_test_discharging),
        BAT_T(bat_test_power_now_and_plug_in), BAT_T(bat_test_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
