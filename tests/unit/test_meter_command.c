/* Tests of harness/meter_command.c: parsing one number of watts and Raspberry Pi 5's
 * `vcgencmd pmic_read_adc` lines (V x I per rail, rail globs), running a command with a
 * timeout that kills a hung one (and its children), exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "meter_fixture.h"
#include "meter_impl.h"

/* The Pi 5 sample: sum of V*I over rails with both is 2.725 W (EXT5V_V has no current). */
static char *command_test_pi5(void)
{
    char path[1024];
    meter_fixture_path("commands/pi5_pmic_read_adc.txt", path, sizeof path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static double command_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void command_test_parse_number(void **state)
{
    (void)state;
    double w = -1;
    eb_err err = {{0}};
    assert_int_equal(eb_meter_command_parse("4.25\n", NULL, &w, &err), 0);
    meter_assert_near(w, 4.25, 1e-12);
    assert_int_equal(eb_meter_command_parse("  3.5 W\n", "", &w, &err), 0);
    meter_assert_near(w, 3.5, 1e-12);
    assert_int_equal(eb_meter_command_parse("-2\n", NULL, &w, &err), -1);
    assert_int_equal(eb_meter_command_parse("power: high\n", NULL, &w, &err), -1);
    assert_non_null(strstr(err.msg, "\"power: high\""));
    assert_int_equal(eb_meter_command_parse("", NULL, &w, &err), -1);
}

static void command_test_parse_pi5(void **state)
{
    (void)state;
    double w = -1;
    eb_err err = {{0}};
    const char *text = command_test_pi5();
    assert_int_equal(eb_meter_command_parse(text, NULL, &w, &err), 0);
    meter_assert_near(w, 2.725, 1e-9);
    assert_int_equal(eb_meter_command_parse(text, "*", &w, &err), 0);
    meter_assert_near(w, 2.725, 1e-9);
    assert_int_equal(eb_meter_command_parse(text, "VDD_CORE", &w, &err), 0);
    meter_assert_near(w, 0.75 * 2.0, 1e-9);
    assert_int_equal(eb_meter_command_parse(text, "3V3*", &w, &err), 0);
    meter_assert_near(w, 3.3 * 0.05, 1e-9); /* 3V3_SYS; DAC and ADC draw 0 */
    assert_int_equal(eb_meter_command_parse(text, "EXT5V", &w, &err), -1);
    assert_non_null(strstr(err.msg, "no rail with both current and volt matches \"EXT5V\""));
}

static void command_test_meter(void **state)
{
    (void)state;
    eb_meter m;
    eb_err err = {{0}};
    double v[EB_METER_MAX_PARTS];
    char cmd[1200], path[1024];
    assert_int_equal(eb_meter_command(&m, "pi5:pmic", "echo 3.5", NULL, 0, &err), 0);
    assert_true(m.usable);
    assert_string_equal(m.name, "pi5:pmic");
    assert_int_equal(m.rank, EB_METER_RANK_USER);
    assert_true(m.interval_s >= 0.1);
    assert_int_equal(m.read(&m, v, &err), 0);
    meter_assert_near(v[0], 3.5, 1e-12);
    meter_fixture_path("commands/pi5_pmic_read_adc.txt", path, sizeof path);
    snprintf(cmd, sizeof cmd, "cat '%s'", path);
    assert_int_equal(eb_meter_command(&m, "pmic", cmd, "VDD_CORE", 0, &err), 0);
    assert_string_equal(m.name, "command:pmic");
    assert_int_equal(m.read(&m, v, &err), 0);
    meter_assert_near(v[0], 1.5, 1e-9);
    /* a named command meter joins a set and is chosen by name, never by "auto" */
    eb_meter_set set = {0};
    eb_meter *got;
    assert_int_equal(eb_meter_set_add(&set, &m, &err), 0);
    assert_int_equal(eb_meter_choose(&set, NULL, &got, &err), -1);
    assert_int_equal(eb_meter_choose(&set, "command:pmic", &got, &err), 0);
    assert_string_equal(got->command, cmd);
    eb_meter_set_free(&set);
}

static void command_test_failures(void **state)
{
    (void)state;
    eb_meter m;
    eb_err err = {{0}};
    char out[256];
    assert_int_equal(eb_meter_command(&m, "x", "echo oops >&2; exit 3", NULL, 0, &err), -1);
    assert_false(m.usable);
    assert_non_null(strstr(err.msg, "exit status 3: oops"));
    assert_non_null(strstr(m.reason, "exit status 3"));
    assert_int_equal(eb_meter_command(&m, "x", "echo not-watts", NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read watts"));
    assert_int_equal(eb_meter_command_run("kill -9 $$", 1, out, sizeof out, &err), -1);
    assert_non_null(strstr(err.msg, "killed by signal 9"));
}

static void command_test_timeout(void **state)
{
    (void)state;
    eb_err err = {{0}};
    char out[256];
    /* a hung command; and one that answers but keeps stdout open through a child */
    const char *hung[] = {"sleep 5", "echo 2; sleep 4.321 & wait", "exec >&-; sleep 5"};
    for (size_t i = 0; i < sizeof hung / sizeof hung[0]; i++) {
        double t0 = command_test_now();
        assert_int_equal(eb_meter_command_run(hung[i], 0.2, out, sizeof out, &err), -1);
        double took = command_test_now() - t0;
        assert_non_null(strstr(err.msg, "no answer within 0.2 s, killed"));
        assert_true(took >= 0.2 && took < 1.5);
    }
    /* the whole group went, the background child too (it may take a moment to die) */
    assert_int_equal(system("for i in 1 2 3 4 5 6 7 8 9 10; do "
                            "pgrep -f '^sleep 4[.]321$' >/dev/null || exit 0; sleep 0.05; "
                            "done; exit 1"), 0);
    /* the default timeout is 1 s */
    double t0 = command_test_now();
    eb_meter m;
    assert_int_equal(eb_meter_command(&m, "slow", "sleep 3; echo 1", NULL, 0, &err), -1);
    double took = command_test_now() - t0;
    assert_true(took >= 1.0 && took < 2.5);
    assert_non_null(strstr(err.msg, "no answer within 1 s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_test_parse_number), cmocka_unit_test(command_test_parse_pi5),
        cmocka_unit_test(command_test_meter),        cmocka_unit_test(command_test_failures),
        cmocka_unit_test(command_test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
