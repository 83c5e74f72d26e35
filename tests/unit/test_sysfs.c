/* Tests of harness/sysfs.c: the root, paths, readers and listing, on the committed fixture
 * trees and on files written into a temp dir. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meter_fixture.h"
#include "sysfs.h"

static int sysfs_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static void sysfs_test_root(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(eb_sysfs_root(), "/sys");
    setenv("EDGEBENCH_SYSFS", "", 1);
    assert_string_equal(eb_sysfs_root(), "/sys"); /* empty means unset */
    setenv("EDGEBENCH_SYSFS", "/x/y", 1);
    assert_string_equal(eb_sysfs_root(), "/x/y");
    assert_int_equal(eb_sysfs_path(buf, sizeof buf, "class/%s/%d", "hwmon", 3), 0);
    assert_string_equal(buf, "/x/y/class/hwmon/3");
    errno = 0;
    assert_int_equal(eb_sysfs_path(buf, 12, "class/hwmon"), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void sysfs_test_readers(void **state)
{
    (void)state;
    char tmp[64], s[64];
    long long v;
    double d;
    assert_int_equal(meter_fixture_copy(tmp, "perf-power", NULL), 0);
    assert_int_equal(eb_sysfs_read_str("bus/event_source/devices/power/events/energy-pkg", s,
                                       sizeof s), 0);
    assert_string_equal(s, "event=0x02"); /* the kernel's "\n" is gone */
    assert_int_equal(eb_sysfs_read_ll("bus/event_source/devices/power/type", &v), 0);
    assert_int_equal(v, 23);
    assert_int_equal(eb_sysfs_read_double(
                         "bus/event_source/devices/power/events/energy-pkg.scale", &d), 0);
    assert_true(d == 2.3283064365386962890625e-10);

    assert_int_equal(meter_fixture_write(tmp, "hex", "0x1f"), 0);
    assert_int_equal(eb_sysfs_read_ll("hex", &v), 0);
    assert_int_equal(v, 31);
    assert_int_equal(meter_fixture_write(tmp, "big", "262143328850"), 0);
    assert_int_equal(eb_sysfs_read_ll("big", &v), 0);
    assert_true(v == 262143328850LL);
    /* not a number: EINVAL, and the value is left alone */
    assert_int_equal(meter_fixture_write(tmp, "word", "12 apples"), 0);
    v = 7;
    errno = 0;
    assert_int_equal(eb_sysfs_read_ll("word", &v), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(v, 7);
    assert_int_equal(eb_sysfs_read_double("word", &d), -1);
    assert_int_equal(meter_fixture_write(tmp, "empty", "%s", ""), 0);
    assert_int_equal(eb_sysfs_read_str("empty", s, sizeof s), 0);
    assert_string_equal(s, "");
    assert_int_equal(eb_sysfs_read_ll("empty", &v), -1);
    /* missing: ENOENT, so meters can say "missing" rather than guess */
    errno = 0;
    assert_int_equal(eb_sysfs_read_str("no/such/file", s, sizeof s), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(eb_sysfs_exists("no/such/file"), -1);
    assert_int_equal(eb_sysfs_exists("bus/event_source/devices/power"), 0);
    /* a small buffer keeps the start */
    assert_int_equal(eb_sysfs_read_str("bus/event_source/devices/power/events/energy-pkg", s,
                                       6), 0);
    assert_string_equal(s, "event");
    meter_fixture_remove(tmp);
}

static void sysfs_test_list(void **state)
{
    (void)state;
    char names[8][EB_SYSFS_NAME];
    size_t n = 99;
    meter_fixture_use("hwmon");
    assert_int_equal(eb_sysfs_list("class/hwmon", "hwmon", names, 8, &n), 0);
    assert_int_equal(n, 4);
    /* natural order: hwmon10 last, not between hwmon1 and hwmon2 */
    assert_string_equal(names[0], "hwmon0");
    assert_string_equal(names[1], "hwmon1");
    assert_string_equal(names[2], "hwmon2");
    assert_string_equal(names[3], "hwmon10");
    assert_int_equal(eb_sysfs_list("class/hwmon/hwmon1", "energy1", names, 8, &n), 0);
    assert_int_equal(n, 4); /* a prefix, not a channel: energy1_* and energy17_* */
    assert_string_equal(names[0], "energy1_input");
    assert_string_equal(names[1], "energy1_label");
    assert_string_equal(names[2], "energy17_input");
    assert_int_equal(eb_sysfs_list("class/hwmon", NULL, names, 2, &n), 0);
    assert_int_equal(n, 2); /* capped at max */
    errno = 0;
    assert_int_equal(eb_sysfs_list("class/nothing", NULL, names, 8, &n), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sysfs_test_root, sysfs_test_reset, sysfs_test_reset),
        cmocka_unit_test_setup_teardown(sysfs_test_readers, sysfs_test_reset, sysfs_test_reset),
        cmocka_unit_test_setup_teardown(sysfs_test_list, sysfs_test_reset, sysfs_test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
