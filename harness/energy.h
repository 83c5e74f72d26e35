/* A run's energy meter: chosen once from the scenario's energy = { ... } (see meter.h for the
 * sources), with the idle baseline taken by the parent before each trial and the measured
 * window taken by the trial's child around its timed loop.
 *
 *   eb_energy e;
 *   eb_energy_setup(&e, scenario, &err);   // -1 (exit 2) only when a NAMED meter is unusable
 *   per trial, in the parent:  eb_energy_idle(&e, &row);        // power_idle_w or a note
 *   in the child:              eb_energy_start(&e, &err) ... eb_energy_enough() ...
 *                              eb_energy_finish(&e, session, iterations, &row)
 *   eb_energy_free(&e);
 * Without a usable meter (this VM), every energy column stays empty and energy_note says why.
 */
#ifndef EB_ENERGY_H
#define EB_ENERGY_H

#include "meter.h"
#include "result.h"
#include "scenario.h"

typedef struct eb_energy {
    eb_meter_set set;
    eb_meter *meter;  /* NULL: energy is not measured (why says why) */
    char why[512];
    double idle_s;
} eb_energy;

int eb_energy_setup(eb_energy *e, eb_scenario *s, eb_err *err);
void eb_energy_free(eb_energy *e);

/* One line naming the meter in use or why there is none, for run.csv. */
const char *eb_energy_describe(const eb_energy *e);

/* Idle baseline into r->power_idle_w (or r->energy_note). */
void eb_energy_idle(eb_energy *e, eb_result *r);

/* Starts the window; NULL (with the reason in r->energy_note) when there is no meter or its
 * first reading fails. */
eb_meter_session *eb_energy_start(eb_energy *e, eb_result *r);

/* Ends the window and fills power_avg_w, energy_mj_per_inference, energy_net_mj_per_inference
 * (gross minus idle power over the same window) and energy_source; s may be NULL. */
void eb_energy_finish(eb_meter_session *s, long inferences, eb_result *r);

#endif
