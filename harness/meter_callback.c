/* A callback meter: the scenario's own meter (a Lua function the scenario engine wraps),
 * returning cumulative joules (ENERGY) or watts (POWER) on each call. */
#include "meter_impl.h"

#include <stdio.h>

static int cb_read(eb_meter *m, double *v, eb_err *err)
{
    eb_err e = {{0}};
    if (m->cb(m->cb_ctx, &v[0], &e) != 0)
        return eb_errf(err, "%s: %s", m->name, e.msg[0] ? e.msg : "the meter function failed");
    if (!(v[0] == v[0]) || (m->kind == EB_METER_POWER && v[0] < 0))
        return eb_errf(err, "%s: the meter function returned %g, not a %s", m->name, v[0],
                       m->kind == EB_METER_POWER ? "power in watts" : "number of joules");
    return 0;
}

int eb_meter_from_callback(eb_meter *out, eb_meter_kind kind, eb_meter_cb fn, void *ctx,
                           const char *name, eb_err *err)
{
    eb_meter_init_named(out, name, "callback", kind);
    if (!fn)
        return eb_errf(err, "meter %s: no function given", out->name);
    out->cb = fn;
    out->cb_ctx = ctx;
    out->read = cb_read;
    out->nparts = 1;
    out->is_total = 1;
    out->interval_s = 0.1;
    double v;
    if (cb_read(out, &v, err) != 0) {
        snprintf(out->reason, sizeof out->reason, "%s", err ? err->msg : "meter failed");
        return -1;
    }
    out->usable = 1;
    return 0;
}
