#include "energy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Adds the scenario's own meter (a command or a Lua function) to the probed set, and writes
 * the name to choose it by into want. */
static int energy_add_user_meter(eb_energy *e, eb_scenario *s, char *want, size_t n,
                                 eb_err *err)
{
    eb_meter m;
    const char *name = s->energy.meter;
    if (strcmp(name, "command") == 0) {
        if (eb_meter_command(&m, "command", s->energy.command, s->energy.rails, 1.0, err) != 0)
            return eb_err_prefix(err, "%s: energy.command", s->path);
    } else if (strcmp(name, "lua") == 0) {
        eb_meter_kind kind = s->energy.read_joules ? EB_METER_ENERGY : EB_METER_POWER;
        if (eb_meter_from_callback(&m, kind, eb_scenario_meter_read, s, "lua", err) != 0)
            return eb_err_prefix(err, "%s: energy.read", s->path);
    } else {
        return 0;
    }
    snprintf(want, n, "%s", m.name);
    return eb_meter_set_add(&e->set, &m, err);
}

int eb_energy_setup(eb_energy *e, eb_scenario *s, eb_err *err)
{
    char want[96];
    memset(e, 0, sizeof *e);
    snprintf(want, sizeof want, "%s", s->energy.meter ? s->energy.meter : "auto");
    e->idle_s = s->energy.idle_s;
    if (strcmp(want, "none") == 0) {
        snprintf(e->why, sizeof e->why, "energy.meter is \"none\"");
        return 0;
    }
    if (eb_meters_probe_all(&e->set, err) != 0 ||
        energy_add_user_meter(e, s, want, sizeof want, err) != 0)
        return -1;
    eb_err why;
    if (eb_meter_choose(&e->set, want, &e->meter, &why) != 0) {
        e->meter = NULL;
        if (strcmp(want, "auto") != 0)
            return eb_errf(err, "%s: energy.meter '%s' cannot be used here: %s", s->path, want,
                           why.msg);
        snprintf(e->why, sizeof e->why, "no energy meter on this device (%.400s)", why.msg);
    }
    return 0;
}

void eb_energy_free(eb_energy *e)
{
    eb_meter_set_free(&e->set);
    e->meter = NULL;
}

const char *eb_energy_describe(const eb_energy *e)
{
    return e->meter ? e->meter->name : e->why;
}

void eb_energy_idle(eb_energy *e, eb_result *r)
{
    eb_err err;
    if (!e->meter) {
        snprintf(r->energy_note, sizeof r->energy_note, "%s", e->why);
        return;
    }
    if (e->idle_s <= 0)
        return;
    if (eb_meter_idle(e->meter, e->idle_s, &r->power_idle_w, &err) != 0) {
        r->power_idle_w = NAN;
        snprintf(r->energy_note, sizeof r->energy_note, "idle baseline: %.480s", err.msg);
    }
}

eb_meter_session *eb_energy_start(eb_energy *e, eb_result *r)
{
    eb_err err;
    if (!e->meter)
        return NULL;
    eb_meter_session *s = eb_meter_start(e->meter, NULL, &err);
    if (!s)
        snprintf(r->energy_note, sizeof r->energy_note, "%.500s", err.msg);
    return s;
}

void eb_energy_finish(eb_meter_session *s, long inferences, eb_result *r)
{
    eb_meter_result m;
    eb_err err;
    if (!s)
        return;
    if (eb_meter_stop(s, &m, &err) != 0 || inferences <= 0) {
        snprintf(r->energy_note, sizeof r->energy_note, "%.500s", m.reason);
        return;
    }
    snprintf(r->energy_source, sizeof r->energy_source, "%s", m.source);
    r->power_avg_w = m.watts;
    r->energy_mj_per_inference = m.joules * 1e3 / (double)inferences;
    if (!isnan(r->power_idle_w))
        r->energy_net_mj_per_inference =
            (m.joules - r->power_idle_w * m.seconds) * 1e3 / (double)inferences;
    else if (!r->energy_note[0])
        snprintf(r->energy_note, sizeof r->energy_note, "no idle baseline (energy.idle = 0)");
}
