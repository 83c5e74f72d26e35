/* The cooldown gate; see cooldown.h for the contract. */
#include "cooldown.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "telemetry.h"

void eb_cooldown_defaults(eb_cooldown_cfg *c)
{
    c->below_c = 55;
    c->within_c_of_idle = 3;
    c->max_wait_s = 120;
    c->poll_s = 0.5;
}

int eb_cooldown_check(const eb_cooldown_cfg *c, eb_err *err)
{
    if (!(c->max_wait_s >= 0) || isinf(c->max_wait_s))
        return eb_errf(err, "cooldown: max_wait must be a duration >= 0 (e.g. \"120s\")");
    if (!(c->poll_s > 0))
        return eb_errf(err, "cooldown: the poll interval must be > 0 s (default 0.5)");
    if (!isnan(c->within_c_of_idle) && c->within_c_of_idle < 0)
        return eb_errf(err, "cooldown: within_c_of_idle must be >= 0 degrees C (e.g. 3)");
    return 0;
}

static double cooldown_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cooldown_sleep(void *ctx, double s)
{
    (void)ctx;
    if (!(s > 0))
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double eb_cooldown_telemetry_temp(void *ctx)
{
    return eb_telemetry_hottest_c((eb_telemetry *)ctx);
}

void eb_cooldown_wait(const eb_cooldown_cfg *c, double idle_c, const eb_cooldown_env *env,
                      eb_cooldown_result *r)
{
    double (*now)(void *) = env->now_s ? env->now_s : cooldown_now;
    void (*nap)(void *, double) = env->sleep_s ? env->sleep_s : cooldown_sleep;
    memset(r, 0, sizeof *r);
    r->status = EB_COOLDOWN_SKIPPED;
    r->temp_c = NAN;

    /* The effective target: below below_c (strict) and at most idle + within (inclusive). */
    int has_below = !isnan(c->below_c);
    int has_idle = !isnan(c->within_c_of_idle) && !isnan(idle_c);
    if (!has_below && !has_idle) {
        snprintf(r->reason, sizeof r->reason, "%s",
                 isnan(idle_c) && !isnan(c->within_c_of_idle)
                     ? "no idle temperature recorded: skipped"
                     : "no condition: skipped");
        return;
    }
    double idle_limit = has_idle ? idle_c + c->within_c_of_idle : INFINITY;
    double target = has_below ? fmin(c->below_c, idle_limit) : idle_limit;

    double t0 = now(env->ctx);
    double temp = env->temp_c(env->ctx);
    if (isnan(temp)) {
        snprintf(r->reason, sizeof r->reason, "no thermal zones: skipped");
        return;
    }
    for (;;) {
        double elapsed = now(env->ctx) - t0;
        int ok = (!has_below || temp < c->below_c) && temp <= idle_limit;
        if (ok) {
            r->status = EB_COOLDOWN_REACHED;
            r->waited_s = elapsed;
            r->temp_c = temp;
            if (elapsed <= 0)
                snprintf(r->reason, sizeof r->reason, "already at %.1f C", temp);
            else
                snprintf(r->reason, sizeof r->reason, "reached %.1f C after %.1f s", temp,
                         elapsed);
            return;
        }
        if (elapsed >= c->max_wait_s) {
            r->status = EB_COOLDOWN_GAVE_UP;
            r->waited_s = elapsed;
            r->temp_c = temp;
            snprintf(r->reason, sizeof r->reason, "gave up after %g s at %.1f C (target %.1f C)",
                     round(elapsed * 10) / 10, temp, target);
            return;
        }
        double step = c->poll_s > 0 ? c->poll_s : 0.5;
        if (step > c->max_wait_s - elapsed)
            step = c->max_wait_s - elapsed;
        nap(env->ctx, step);
        temp = env->temp_c(env->ctx);
        if (isnan(temp)) {
            r->waited_s = now(env->ctx) - t0;
            snprintf(r->reason, sizeof r->reason,
                     "thermal zones vanished after %.1f s: skipped", r->waited_s);
            return;
        }
    }
}

static const char *const cooldown_columns[] = {
    "cooldown_wait_s", "cooldown_temp_c", "cooldown_note", NULL,
};

const char *const *eb_cooldown_columns(void)
{
    return cooldown_columns;
}

void eb_cooldown_field(const eb_cooldown_result *r, const char *column, char *buf, size_t n)
{
    if (n == 0)
        return;
    buf[0] = '\0';
    if (!r)
        return;
    if (strcmp(column, "cooldown_wait_s") == 0)
        snprintf(buf, n, "%.1f", r->waited_s);
    else if (strcmp(column, "cooldown_temp_c") == 0) {
        if (!isnan(r->temp_c))
            snprintf(buf, n, "%.1f", r->temp_c);
    } else if (strcmp(column, "cooldown_note") == 0)
        snprintf(buf, n, "%s", r->reason);
}
