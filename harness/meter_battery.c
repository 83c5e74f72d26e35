/* Batteries (class/power_supply/<name> with type "Battery"): power_now (µW), or
 * voltage_now (µV) x current_now (µA).  Only while discharging does the battery's draw equal
 * the device's: on AC the same files describe charging, so such a battery is refused, and a
 * charger plugged in mid-window fails the window.  Batteries of peripherals (scope "Device",
 * e.g. a wireless mouse) are skipped.  Fuel gauges refresh slowly, so the sampler assumes one
 * update per second unless told otherwise.
 */
#include "meter_impl.h"
#include "sysfs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BAT_DIR "class/power_supply"
#define BAT_INTERVAL_S 1.0

static int bat_read(eb_meter *m, double *v, eb_err *err)
{
    char status[32];
    if (eb_sysfs_read_str(m->check_rel, status, sizeof status) != 0) {
        char why[600];
        eb_meter_errno_reason(why, sizeof why, m->check_rel, errno);
        return eb_errf(err, "%s: %s", m->name, why);
    }
    if (strcmp(status, "Discharging") != 0)
        return eb_errf(err, "%s: the battery stopped discharging (status \"%s\"): a charger was "
                            "plugged in, so its reading no longer measures the device",
                       m->name, status);
    if (eb_meter_read_sysfs(m, v, err) != 0)
        return -1;
    /* current_now's sign when discharging differs between fuel-gauge drivers */
    for (size_t i = 0; i < m->nparts; i++)
        v[i] = fabs(v[i]);
    return 0;
}

int eb_meter_battery_probe(eb_meter_set *set, eb_err *err)
{
    char ps[32][EB_SYSFS_NAME], root[256];
    size_t n = 0, batteries = 0;
    eb_sysfs_path(root, sizeof root, BAT_DIR);
    if (eb_sysfs_list(BAT_DIR, NULL, ps, 32, &n) != 0)
        n = 0;
    size_t first = set->n;
    for (size_t i = 0; i < n; i++) {
        char rel[256], text[64];
        snprintf(rel, sizeof rel, BAT_DIR "/%s/type", ps[i]);
        if (eb_sysfs_read_str(rel, text, sizeof text) != 0 || strcmp(text, "Battery") != 0)
            continue;
        snprintf(rel, sizeof rel, BAT_DIR "/%s/scope", ps[i]);
        if (eb_sysfs_read_str(rel, text, sizeof text) == 0 && strcmp(text, "Device") == 0)
            continue;
        batteries++;
        eb_meter m;
        eb_meter_init(&m, "battery", ps[i], EB_METER_POWER, EB_METER_RANK_BATTERY);
        m.read = bat_read;
        m.interval_s = BAT_INTERVAL_S;
        m.nparts = 1;
        snprintf(m.check_rel, sizeof m.check_rel, BAT_DIR "/%s/status", ps[i]);
        snprintf(rel, sizeof rel, BAT_DIR "/%s/power_now", ps[i]);
        if (eb_sysfs_exists(rel) == 0) {
            snprintf(m.part[0].rel, sizeof m.part[0].rel, BAT_DIR "/%s/power_now", ps[i]);
            m.part[0].scale = 1e-6;
            snprintf(m.note, sizeof m.note, "power_now");
        } else {
            snprintf(m.part[0].rel, sizeof m.part[0].rel, BAT_DIR "/%s/voltage_now", ps[i]);
            snprintf(m.part[0].rel2, sizeof m.part[0].rel2, BAT_DIR "/%s/current_now", ps[i]);
            m.part[0].scale = 1e-12; /* µV * µA */
            snprintf(m.note, sizeof m.note, "voltage_now x current_now");
        }
        if (eb_sysfs_read_str(m.check_rel, text, sizeof text) != 0) {
            eb_meter_errno_reason(m.reason, sizeof m.reason, m.check_rel, errno);
        } else if (strcmp(text, "Discharging") != 0) {
            snprintf(m.reason, sizeof m.reason,
                     "%s is \"%s\": on AC power the battery does not carry the device's draw, "
                     "so its reading means nothing here; unplug the charger to measure from "
                     "the battery", ps[i], text);
        } else {
            eb_meter_check(&m);
        }
        if (eb_meter_set_add(set, &m, err) != 0)
            return -1;
    }
    if (batteries == 0)
        return eb_meter_add_unusable(set, "battery", EB_METER_POWER, EB_METER_RANK_BATTERY, err,
                                     "no battery under %s", root);
    /* One battery powers the device; with several, which one carries the load is unknown
     * (name one). */
    if (batteries == 1)
        set->m[first].is_total = 1;
    return 0;
}
