/* Tests of harness/meter_sampler.c and meter_callback.c: callback meters (the scenario's own),
 * energy and power windows under a test-driven clock, the enough rule for counters, failures
 * mid-window, the sampling thread and the idle baseline (constant power, so exact whatever
 * the thread's timing). */
#include <math.h>
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

/* What a callback returns, set by each test. */
typedef struct sampler_test_src {
    double value;
    int fail;
    int calls;
} sampler_test_src;

static int sampler_test_cb(void *ctx, double *value, eb_err *err)
{
    sampler_test_src *src = ctx;
    src->calls++;
    if (src->fail)
        return eb_errf(err, "the board's meter stopped answering");
    *value = src->value;
    return 0;
}

static void sampler_test_callback_energy(void **state)
{
    (void)state;
    sampler_test_src src = {.value = 100.0};
    eb_meter m;
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_ENERGY, sampler_test_cb, &src,
                                            "lua:board", &err), 0);
    assert_string_equal(m.name, "lua:board");
    assert_true(m.usable);
    m.resolution = 1.0; /* one joule per step: enough needs 5 J */
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(&m, &o, &err);
    assert_non_null(s);
    /* 7 W: 0.7 J per 0.1 s */
    for (int i = 1; i <= 7; i++) {
        src.value = 100.0 + 0.7 * i;
        t = 0.1 * i;
        assert_int_equal(eb_meter_sample(s), 0);
        /* 5 intervals of 0.1 s by t=0.5 but 5 J only by t=0.8 */
        assert_false(eb_meter_enough(s));
    }
    src.value = 100.0 + 0.7 * 8;
    t = 0.8;
    assert_int_equal(eb_meter_sample(s), 0);
    assert_true(eb_meter_enough(s));
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 5.6, 1e-9);
    meter_assert_near(r.watts, 7.0, 1e-9);
    assert_string_equal(r.source, "lua:board");
}

static void sampler_test_callback_failures(void **state)
{
    (void)state;
    sampler_test_src src = {.value = 3.0};
    eb_meter m;
    eb_err err = {{0}};
    double t = 0;
    eb_meter_result r;
    /* failing at probe: unusable, with the callback's message */
    src.fail = 1;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_POWER, sampler_test_cb, &src, "w",
                                            &err), -1);
    assert_false(m.usable);
    assert_non_null(strstr(m.reason, "stopped answering"));
    assert_null(eb_meter_start(&m, NULL, &err));
    assert_non_null(strstr(err.msg, "callback:w is unusable"));
    /* failing mid-window: no number */
    src.fail = 0;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_POWER, sampler_test_cb, &src, "w",
                                            &err), 0);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(&m, &o, &err);
    assert_non_null(s);
    t = 1;
    assert_int_equal(eb_meter_sample(s), 0);
    src.fail = 1;
    t = 2;
    assert_int_equal(eb_meter_sample(s), -1);
    src.fail = 0;
    t = 3;
    assert_int_equal(eb_meter_sample(s), -1); /* a failed window stays failed */
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "stopped answering"));
    /* NaN and negative watts are refused */
    s = eb_meter_start(&m, &o, &err);
    assert_non_null(s);
    src.value = NAN;
    assert_int_equal(eb_meter_sample(s), -1);
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_non_null(strstr(r.reason, "not a power in watts"));
    /* an energy counter going backwards without a known wrap: reset, not negative joules */
    src.value = 50;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_ENERGY, sampler_test_cb, &src, "e",
                                            &err), 0);
    s = eb_meter_start(&m, &o, &err);
    assert_non_null(s);
    src.value = 10;
    t = 4;
    assert_int_equal(eb_meter_sample(s), -1);
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_non_null(strstr(r.reason, "went backwards"));
}

static void sampler_test_too_short(void **state)
{
    (void)state;
    sampler_test_src src = {.value = 3.0};
    eb_meter m;
    eb_err err = {{0}};
    double t = 5;
    eb_meter_result r;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_POWER, sampler_test_cb, &src, "w",
                                            &err), 0);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(&m, &o, &err);
    assert_non_null(s);
    assert_int_equal(eb_meter_stop(s, &r, &err), -1); /* two readings at one instant */
    assert_non_null(strstr(r.reason, "too short"));
}

static double sampler_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sampler_test_thread(void **state)
{
    (void)state;
    sampler_test_src src = {.value = 3.0};
    eb_meter m;
    eb_err err = {{0}};
    eb_meter_result r;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_POWER, sampler_test_cb, &src, "w",
                                            &err), 0);
    m.interval_s = 0.02;
    int calls0 = src.calls;
    eb_meter_session *s = eb_meter_start(&m, NULL, &err);
    assert_non_null(s);
    /* the loop a trial runs: stretched until enough (5 updates of 20 ms) */
    double t0 = sampler_test_now();
    while (!eb_meter_enough(s) && sampler_test_now() - t0 < 3.0) {
        struct timespec nap = {0, 5 * 1000000L};
        nanosleep(&nap, NULL);
    }
    assert_true(eb_meter_enough(s));
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    assert_true(r.ok);
    assert_true(src.calls - calls0 >= 7); /* start, >= 5 by the thread, stop */
    assert_true(r.samples >= 7);
    assert_true(r.seconds >= 0.1 * 0.999);
    assert_true(r.updates >= 5);
    meter_assert_near(r.watts, 3.0, 1e-9); /* constant power: exact */
    meter_assert_near(r.joules, 3.0 * r.seconds, 1e-9);
}

static void sampler_test_idle(void **state)
{
    (void)state;
    sampler_test_src src = {.value = 2.5};
    eb_meter m;
    eb_err err = {{0}};
    double w = -1;
    assert_int_equal(eb_meter_from_callback(&m, EB_METER_POWER, sampler_test_cb, &src, "w",
                                            &err), 0);
    m.interval_s = 0.02;
    double t0 = sampler_test_now();
    assert_int_equal(eb_meter_idle(&m, 0.2, &w, &err), 0);
    double took = sampler_test_now() - t0;
    meter_assert_near(w, 2.5, 1e-9);
    assert_true(took >= 0.2 && took < 1.5);
    /* a meter that fails during the baseline gives no number */
    src.fail = 0;
    eb_meter bad = m;
    src.value = -1; /* negative watts: refused at the first reading */
    w = -7;
    assert_int_equal(eb_meter_idle(&bad, 0.1, &w, &err), -1);
    assert_true(w == -7);
    assert_non_null(strstr(err.msg, "idle baseline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sampler_test_callback_energy),
        cmocka_unit_test(sampler_test_callback_failures),
        cmocka_unit_test(sampler_test_too_short),
        cmocka_unit_test(sampler_test_thread),
        cmocka_unit_test(sampler_test_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
