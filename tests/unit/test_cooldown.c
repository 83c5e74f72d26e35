/* Tests of harness/cooldown.c with a fake clock (a 120 s wait takes microseconds) and a device
 * that cools at a known rate; then once through telemetry on the fixture board, with the fake
 * sleep rewriting the zone's temp file. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "cooldown.h"
#include "telemetry.h"

/* A device at temp0 that cools by rate C/s down to floor; time only moves when slept. */
typedef struct cooldown_fake {
    double t, temp0, rate, floor;
    int polls, sleeps;
    double longest_sleep;
    double vanish_at; /* temperature becomes unreadable from this time (INFINITY: never) */
} cooldown_fake;

static double cooldown_fake_now(void *ctx)
{
    return ((cooldown_fake *)ctx)->t;
}

static void cooldown_fake_sleep(void *ctx, double s)
{
    cooldown_fake *f = ctx;
    f->t += s;
    f->sleeps++;
    if (s > f->longest_sleep)
        f->longest_sleep = s;
}

static double cooldown_fake_temp(void *ctx)
{
    cooldown_fake *f = ctx;
    f->polls++;
    if (f->t >= f->vanish_at)
        return NAN;
    return fmax(f->floor, f->temp0 - f->rate * f->t);
}

static cooldown_fake cooldown_fake_make(double temp0, double rate, double floor)
{
    cooldown_fake f = {0};
    f.temp0 = temp0;
    f.rate = rate;
    f.floor = floor;
    f.vanish_at = INFINITY;
    return f;
}

static void cooldown_run(const eb_cooldown_cfg *c, double idle, cooldown_fake *f,
                         eb_cooldown_result *r)
{
    eb_cooldown_env env = {cooldown_fake_temp, cooldown_fake_now, cooldown_fake_sleep, f};
    eb_cooldown_wait(c, idle, &env, r);
}

static void test_reaches_the_target(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    /* 70 C cooling 1 C/s: below 55 needs 54.x C, i.e. t = 15.5 s on the 0.5 s grid. */
    cooldown_fake f = cooldown_fake_make(70, 1, 30);
    eb_cooldown_result r;
    cooldown_run(&c, 60, &f, &r); /* idle + 3 = 63 C: below_c binds */
    assert_int_equal(r.status, EB_COOLDOWN_REACHED);
    assert_true(fabs(r.waited_s - 15.5) < 1e-9);
    assert_true(fabs(r.temp_c - 54.5) < 1e-9);
    assert_string_equal(r.reason, "reached 54.5 C after 15.5 s");
    assert_true(fabs(f.longest_sleep - 0.5) < 1e-12); /* polls every 0.5 s */
    assert_int_equal(f.sleeps, 31);
}

static void test_idle_condition_binds_when_lower(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    /* idle 40 + 3 = 43 C is stricter than 55 C: t = 27 s (43.0 C inclusive). */
    cooldown_fake f = cooldown_fake_make(70, 1, 30);
    eb_cooldown_result r;
    cooldown_run(&c, 40, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_REACHED);
    assert_true(fabs(r.waited_s - 27.0) < 1e-9);
    assert_string_equal(r.reason, "reached 43.0 C after 27.0 s");
    char buf[64];
    eb_cooldown_field(&r, "cooldown_wait_s", buf, sizeof buf);
    assert_string_equal(buf, "27.0");
    eb_cooldown_field(&r, "cooldown_temp_c", buf, sizeof buf);
    assert_string_equal(buf, "43.0");
    eb_cooldown_field(&r, "cooldown_note", buf, sizeof buf);
    assert_string_equal(buf, "reached 43.0 C after 27.0 s");
}

static void test_already_cool(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    cooldown_fake f = cooldown_fake_make(48, 1, 30);
    eb_cooldown_result r;
    cooldown_run(&c, 46, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_REACHED);
    assert_true(r.waited_s == 0.0);
    assert_int_equal(f.sleeps, 0);
    assert_string_equal(r.reason, "already at 48.0 C");
}

static void test_gives_up_at_max_wait(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    cooldown_fake f = cooldown_fake_make(70, 0.1, 61); /* never gets below 61 C */
    eb_cooldown_result r;
    double wall0 = eb_now_ms();
    cooldown_run(&c, 40, &f, &r);
    assert_true(eb_now_ms() - wall0 < 1000.0); /* the fake clock, not a real 120 s */
    assert_int_equal(r.status, EB_COOLDOWN_GAVE_UP);
    assert_true(fabs(r.waited_s - 120.0) < 1e-9);
    assert_string_equal(r.reason, "gave up after 120 s at 61.0 C (target 43.0 C)");
    assert_int_equal(f.sleeps, 240);

    /* max_wait not a multiple of the poll: the last sleep is shortened to land on it */
    c.max_wait_s = 1.2;
    f = cooldown_fake_make(70, 0, 70);
    cooldown_run(&c, NAN, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_GAVE_UP);
    assert_true(fabs(r.waited_s - 1.2) < 1e-9);
    assert_int_equal(f.sleeps, 3);
    assert_string_equal(r.reason, "gave up after 1.2 s at 70.0 C (target 55.0 C)");

    /* max_wait 0: one look, no wait */
    c.max_wait_s = 0;
    f = cooldown_fake_make(70, 0, 70);
    cooldown_run(&c, NAN, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_GAVE_UP);
    assert_int_equal(f.sleeps, 0);
}

static void test_skips_without_temperatures_or_conditions(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    cooldown_fake f = cooldown_fake_make(70, 1, 30);
    f.vanish_at = 0; /* no zones at all */
    eb_cooldown_result r;
    cooldown_run(&c, NAN, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_SKIPPED);
    assert_string_equal(r.reason, "no thermal zones: skipped");
    assert_int_equal(f.sleeps, 0);
    char buf[64];
    eb_cooldown_field(&r, "cooldown_temp_c", buf, sizeof buf);
    assert_string_equal(buf, "");

    /* zones vanish mid-wait */
    f = cooldown_fake_make(70, 1, 30);
    f.vanish_at = 3.0;
    cooldown_run(&c, NAN, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_SKIPPED);
    assert_string_equal(r.reason, "thermal zones vanished after 3.0 s: skipped");

    /* only the idle condition, and no idle temperature */
    c.below_c = NAN;
    f = cooldown_fake_make(70, 1, 30);
    cooldown_run(&c, NAN, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_SKIPPED);
    assert_string_equal(r.reason, "no idle temperature recorded: skipped");
    assert_int_equal(f.polls, 0);

    /* only the idle condition, with one */
    f = cooldown_fake_make(70, 1, 30);
    cooldown_run(&c, 60, &f, &r);
    assert_int_equal(r.status, EB_COOLDOWN_REACHED);
    assert_true(fabs(r.temp_c - 63.0) < 1e-9);

    c.within_c_of_idle = NAN;
    cooldown_run(&c, 60, &f, &r);
    assert_string_equal(r.reason, "no condition: skipped");
    eb_cooldown_field(NULL, "cooldown_note", buf, sizeof buf);
    assert_string_equal(buf, "");
}

static void test_check(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_err err = {{0}};
    eb_cooldown_defaults(&c);
    assert_int_equal(eb_cooldown_check(&c, &err), 0);
    c.max_wait_s = -1;
    assert_int_equal(eb_cooldown_check(&c, &err), -1);
    assert_non_null(strstr(err.msg, "max_wait"));
    eb_cooldown_defaults(&c);
    c.poll_s = 0;
    assert_int_equal(eb_cooldown_check(&c, &err), -1);
    eb_cooldown_defaults(&c);
    c.within_c_of_idle = -2;
    assert_int_equal(eb_cooldown_check(&c, &err), -1);
    const char *const *cols = eb_cooldown_columns();
    assert_string_equal(cols[0], "cooldown_wait_s");
    assert_string_equal(cols[1], "cooldown_temp_c");
    assert_string_equal(cols[2], "cooldown_note");
    assert_null(cols[3]);
}

/* ---- through telemetry on the fixture board ---------------------------------------------- */

typedef struct cooldown_board {
    char path[512]; /* thermal_zone0/temp in the copy */
    double t, c;    /* fake time and the zone's temperature */
} cooldown_board;

static double cooldown_board_now(void *ctx)
{
    return ((cooldown_board *)((void **)ctx)[1])->t;
}

/* Sleeping cools zone0 by 2 C per second, written to its file as the kernel would. */
static void cooldown_board_sleep(void *ctx, double s)
{
    cooldown_board *b = ((void **)ctx)[1];
    b->t += s;
    b->c -= 2 * s;
    FILE *f = fopen(b->path, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n", (long)lround(b->c * 1000));
    fclose(f);
}

static double cooldown_board_temp(void *ctx)
{
    return eb_cooldown_telemetry_temp(((void **)ctx)[0]);
}

static void test_through_telemetry(void **state)
{
    (void)state;
    char tmp[] = "/tmp/eb_cool_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    const char *file = __FILE__;
    const char *unit = strstr(file, "unit/test_cooldown.c");
    char cmd[1024], dir[256];
    snprintf(dir, sizeof dir, "%s/sys", tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%.*s%sdata/sysfs/telemetry/board' '%s'",
             unit ? (int)(unit - file) : 0, file, unit ? "" : "tests/", dir);
    assert_int_equal(system(cmd), 0);
    setenv("EDGEBENCH_SYSFS", dir, 1);

    cooldown_board b = {.t = 0, .c = 45};
    snprintf(b.path, sizeof b.path, "%s/class/thermal/thermal_zone0/temp", dir);
    eb_telemetry *tele = NULL;
    eb_telemetry_opts o = {.throttled_cmd = ""};
    assert_int_equal(eb_telemetry_open(&tele, &o, NULL), 0);
    double idle = eb_telemetry_hottest_c(tele);
    assert_true(fabs(idle - 45) < 1e-9);

    b.c = 60; /* the last trial heated it */
    cooldown_board_sleep((void *[]){tele, &b}, 0);
    void *ctx[2] = {tele, &b};
    eb_cooldown_env env = {cooldown_board_temp, cooldown_board_now, cooldown_board_sleep, ctx};
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    eb_cooldown_result r;
    eb_cooldown_wait(&c, idle, &env, &r);
    /* 60 C cooling 2 C/s reaches 45 + 3 = 48 C at 6 s. */
    assert_int_equal(r.status, EB_COOLDOWN_REACHED);
    assert_string_equal(r.reason, "reached 48.0 C after 6.0 s");
    eb_telemetry_close(tele);

    /* a board without thermal zones */
    setenv("EDGEBENCH_SYSFS", tmp, 1);
    assert_int_equal(eb_telemetry_open(&tele, &o, NULL), 0);
    eb_cooldown_env env2 = {eb_cooldown_telemetry_temp, NULL, NULL, tele};
    eb_cooldown_wait(&c, NAN, &env2, &r);
    assert_string_equal(r.reason, "no thermal zones: skipped");
    eb_telemetry_close(tele);

    unsetenv("EDGEBENCH_SYSFS");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    assert_int_equal(system(cmd), 0);
}

/* The real clock and sleep, briefly: 0.2 s of waiting really takes about 0.2 s. */
static void test_real_clock(void **state)
{
    (void)state;
    eb_cooldown_cfg c;
    eb_cooldown_defaults(&c);
    c.max_wait_s = 0.2;
    c.poll_s = 0.05;
    cooldown_fake f = cooldown_fake_make(90, 0, 90);
    eb_cooldown_env env = {cooldown_fake_temp, NULL, NULL, &f};
    eb_cooldown_result r;
    double t0 = eb_now_ms();
    eb_cooldown_wait(&c, NAN, &env, &r);
    double ms = eb_now_ms() - t0;
    assert_int_equal(r.status, EB_COOLDOWN_GAVE_UP);
    assert_true(ms >= 190.0 && ms < 1500.0);
    assert_true(r.waited_s >= 0.19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reaches_the_target),
        cmocka_unit_test(test_idle_condition_binds_when_lower),
        cmocka_unit_test(test_already_cool),
        cmocka_unit_test(test_gives_up_at_max_wait),
        cmocka_unit_test(test_skips_without_temperatures_or_conditions),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_through_telemetry),
        cmocka_unit_test(test_real_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
