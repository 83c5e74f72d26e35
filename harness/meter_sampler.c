/* The sampler: one measured window over one meter (see meter.h).
 *
 * Energy counters: read at start and stop, and polled at 10 Hz in between so that a counter
 * wrapping more than once in a long window is still unwrapped (each part on its own).  Power
 * sensors: read by a thread every update interval (or at 10 Hz when unknown) and integrated
 * with the trapezoid rule, each reading stamped at the middle of its read.  Every reading goes
 * through one mutex, so the thread, eb_meter_sample and eb_meter_stop never read a meter at
 * the same time (callback and command meters are not reentrant).
 */
#include "meter.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLER_DEFAULT_UPDATES 5
#define SAMPLER_ENERGY_POLL_S 0.1

struct eb_meter_session {
    eb_meter *m;
    eb_meter_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int threaded, stopping;
    double poll_s;
    double t0, t_last;
    double prev[EB_METER_MAX_PARTS]; /* energy: last raw reading per part */
    double p_last;                   /* power: last reading */
    double joules;
    long samples;
    int failed;
    char reason[1024];
};

static double sampler_mono(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sampler_now(const eb_meter_session *s)
{
    return s->o.clock(s->o.clock_ctx);
}

/* One reading, folded into the window.  Called with s->mu held. */
static int sampler_take(eb_meter_session *s)
{
    eb_meter *m = s->m;
    double v[EB_METER_MAX_PARTS];
    eb_err e = {{0}};
    if (s->failed)
        return -1;
    double before = sampler_now(s);
    errno = 0;
    int rc = m->read(m, v, &e);
    double t = (before + sampler_now(s)) / 2;
    if (rc != 0) {
        s->failed = 1;
        snprintf(s->reason, sizeof s->reason, "%s", e.msg[0] ? e.msg : "the meter failed");
        return -1;
    }
    for (size_t i = 0; i < m->nparts; i++)
        if (!isfinite(v[i])) {
            s->failed = 1;
            snprintf(s->reason, sizeof s->reason, "%s: read a value that is not a number",
                     m->name);
            return -1;
        }
    if (m->kind == EB_METER_ENERGY) {
        if (s->samples > 0) {
            double add = 0;
            for (size_t i = 0; i < m->nparts; i++) {
                double d = v[i] - s->prev[i];
                if (d < 0 && m->part[i].wrap_j > 0)
                    d += m->part[i].wrap_j; /* wrapped once since the last reading */
                if (d < 0) {
                    s->failed = 1;
                    snprintf(s->reason, sizeof s->reason,
                             "%s: the counter went backwards (%.6f J to %.6f J) and has no "
                             "known wrap: it was reset, so this window's energy is unknown",
                             m->name, s->prev[i], v[i]);
                    return -1;
                }
                add += d;
            }
            s->joules += add;
        }
        memcpy(s->prev, v, sizeof v);
    } else {
        double p = 0;
        for (size_t i = 0; i < m->nparts; i++)
            p += v[i];
        if (s->samples > 0)
            s->joules += (s->p_last + p) / 2 * (t - s->t_last);
        s->p_last = p;
    }
    if (s->samples == 0)
        s->t0 = t;
    s->t_last = t;
    s->samples++;
    return 0;
}

static void *sampler_thread(void *arg)
{
    eb_meter_session *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && !s->failed) {
        long ns = (long)(s->poll_s * 1e9);
        next.tv_sec += ns / 1000000000L;
        next.tv_nsec += ns % 1000000000L;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!s->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
        if (s->stopping)
            break;
        sampler_take(s);
        /* a slow read (a command meter) must not make the thread race to catch up */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
            next = now;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

eb_meter_session *eb_meter_start(eb_meter *m, const eb_meter_opts *opts, eb_err *err)
{
    if (!m->usable) {
        eb_errf(err, "energy: %s is unusable: %.900s", m->name, m->reason);
        return NULL;
    }
    eb_meter_session *s = calloc(1, sizeof *s);
    if (!s) {
        eb_errf(err, "energy: out of memory starting %s", m->name);
        return NULL;
    }
    s->m = m;
    if (opts)
        s->o = *opts;
    if (s->o.min_updates <= 0)
        s->o.min_updates = SAMPLER_DEFAULT_UPDATES;
    if (!s->o.clock)
        s->o.clock = sampler_mono;
    if (s->o.poll_s > 0)
        s->poll_s = s->o.poll_s;
    else if (m->kind == EB_METER_ENERGY)
        s->poll_s = SAMPLER_ENERGY_POLL_S;
    else if (m->interval_s > 0)
        s->poll_s = m->interval_s < 0.01 ? 0.01 : m->interval_s > 1 ? 1 : m->interval_s;
    else
        s->poll_s = 0.1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    pthread_mutex_lock(&s->mu);
    int rc = sampler_take(s);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        eb_errf(err, "energy: %s", s->reason);
        goto fail;
    }
    if (!s->o.manual) {
        if (pthread_create(&s->thread, NULL, sampler_thread, s) != 0) {
            eb_errf(err, "energy: cannot start the sampling thread for %s", m->name);
            goto fail;
        }
        s->threaded = 1;
    }
    return s;
fail:
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
}

int eb_meter_sample(eb_meter_session *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = sampler_take(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The threshold, for a window of `seconds` with `samples` readings and `joules`. */
static int sampler_enough(const eb_meter *m, int need, double seconds, long samples,
                          double joules)
{
    if (samples < 2)
        return 0;
    /* a little slack: readings are stamped mid-read, so n intervals may measure a hair less */
    if (m->interval_s > 0 && seconds < need * m->interval_s * 0.999)
        return 0;
    if (m->kind == EB_METER_POWER)
        return samples - 1 >= need;
    return joules >= need * m->resolution;
}

int eb_meter_enough(const eb_meter_session *s)
{
    eb_meter_session *w = (eb_meter_session *)s; /* the lock, not the data, changes */
    pthread_mutex_lock(&w->mu);
    int ok = s->failed ||
             sampler_enough(s->m, s->o.min_updates, s->t_last - s->t0, s->samples, s->joules);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

int eb_meter_stop(eb_meter_session *s, eb_meter_result *r, eb_err *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->source, sizeof r->source, "%s", s->m->name);
    if (s->threaded) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_lock(&s->mu);
    sampler_take(s);
    pthread_mutex_unlock(&s->mu);

    r->samples = s->samples;
    r->seconds = s->t_last - s->t0;
    if (s->failed) {
        snprintf(r->reason, sizeof r->reason, "%s", s->reason);
    } else if (s->samples < 2 || !(r->seconds > 0)) {
        snprintf(r->reason, sizeof r->reason,
                 "%s: the window was too short for two readings", s->m->name);
    } else {
        r->ok = 1;
        r->joules = s->joules;
        r->watts = s->joules / r->seconds;
        r->updates = s->m->interval_s > 0 ? (long)floor(r->seconds / s->m->interval_s + 1e-9)
                                          : s->samples - 1;
    }
    if (!r->ok) {
        r->seconds = 0;
        r->samples = 0;
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    if (!r->ok)
        return eb_errf(err, "energy: %.1000s", r->reason);
    return 0;
}

int eb_meter_idle(eb_meter *m, double seconds, double *watts, eb_err *err)
{
    eb_meter_session *s = eb_meter_start(m, NULL, err);
    if (!s)
        return eb_err_prefix(err, "idle baseline");
    double t0 = sampler_mono(NULL), cap = seconds * 3 + 1;
    for (;;) {
        double el = sampler_mono(NULL) - t0;
        if ((el >= seconds && eb_meter_enough(s)) || el >= cap)
            break;
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
    }
    int enough = eb_meter_enough(s);
    eb_meter_result r;
    if (eb_meter_stop(s, &r, err) != 0)
        return eb_err_prefix(err, "idle baseline");
    if (!enough)
        return eb_errf(err, "idle baseline: %s gave only %ld updates in %.3g s; measure idle "
                            "for longer", m->name, r.updates, r.seconds);
    *watts = r.watts;
    return 0;
}
