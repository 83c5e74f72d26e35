/* The cooldown gate: before each trial, wait until the device is cool again, so a trial does
 * not inherit the heat of the one before it.
 *
 * Scenario: cooldown = { below_c = 55, within_c_of_idle = 3, max_wait = "120s" }
 *   below_c           the hottest thermal zone must be below this (degrees C)
 *   within_c_of_idle  ... and at most this far above the idle temperature recorded at run start
 *   max_wait          give up after this long; the trial still runs, and the row says so
 * A condition left out of the table is not checked; the gate polls every 0.5 s.
 *
 * How the runner uses it (with telemetry.h as the temperature source):
 *
 *     eb_cooldown_cfg cd;
 *     eb_cooldown_defaults(&cd);                  // then overwrite from the scenario's table
 *     if (eb_cooldown_check(&cd, &err) != 0) ...  // at scenario load: a line naming the field
 *     double idle_c = eb_telemetry_hottest_c(tele);      // once, at run start
 *     eb_cooldown_env env = { eb_cooldown_telemetry_temp, NULL, NULL, tele };
 *     for each trial:
 *         eb_cooldown_result cr;
 *         eb_cooldown_wait(&cd, idle_c, &env, &cr);      // blocks up to max_wait
 *         columns: eb_cooldown_columns() / eb_cooldown_field(&cr, column, buf, n)
 *         eb_telemetry_begin(...) ...
 *
 * now_s and sleep_s are injectable so tests run a 120 s wait in microseconds.
 */
#ifndef EB_COOLDOWN_H
#define EB_COOLDOWN_H

#include <stddef.h>

#include "err.h"

typedef struct eb_cooldown_cfg {
    double below_c;          /* NAN: not checked */
    double within_c_of_idle; /* NAN: not checked */
    double max_wait_s;       /* >= 0 */
    double poll_s;           /* > 0; 0.5 by default */
} eb_cooldown_cfg;

typedef struct eb_cooldown_env {
    double (*temp_c)(void *ctx);           /* hottest zone now; NAN when none can be read */
    double (*now_s)(void *ctx);            /* NULL: CLOCK_MONOTONIC seconds */
    void (*sleep_s)(void *ctx, double s);  /* NULL: nanosleep */
    void *ctx;
} eb_cooldown_env;

typedef enum eb_cooldown_status {
    EB_COOLDOWN_SKIPPED,  /* no temperature to wait on (or no condition) */
    EB_COOLDOWN_REACHED,  /* the conditions held (perhaps at once) */
    EB_COOLDOWN_GAVE_UP,  /* max_wait passed first */
} eb_cooldown_status;

typedef struct eb_cooldown_result {
    eb_cooldown_status status;
    double waited_s;      /* time spent in the gate */
    double temp_c;        /* the hottest zone when the trial starts; NAN when skipped */
    char reason[160];     /* "no thermal zones: skipped", "reached 54.2 C after 12.0 s",
                           * "already at 48.0 C", "gave up after 120 s at 61.0 C (target
                           * 55.0 C)" */
} eb_cooldown_result;

/* below_c 55, within_c_of_idle 3, max_wait_s 120, poll_s 0.5. */
void eb_cooldown_defaults(eb_cooldown_cfg *c);

/* -1 with a one-line message when a field is out of range (negative max_wait, poll <= 0). */
int eb_cooldown_check(const eb_cooldown_cfg *c, eb_err *err);

/* Waits as configured.  idle_c is the idle temperature recorded at run start (NAN: the idle
 * condition is not checked).  Never fails: every outcome is a status and a reason. */
void eb_cooldown_wait(const eb_cooldown_cfg *c, double idle_c, const eb_cooldown_env *env,
                      eb_cooldown_result *r);

/* env.temp_c for a telemetry source: ctx is an eb_telemetry *. */
double eb_cooldown_telemetry_temp(void *ctx);

/* results.csv columns, NULL-terminated: cooldown_wait_s, cooldown_temp_c, cooldown_note. */
const char *const *eb_cooldown_columns(void);

/* One column's cell ("" when not measured); r NULL (no cooldown configured) gives "". */
void eb_cooldown_field(const eb_cooldown_result *r, const char *column, char *buf, size_t n);

#endif
