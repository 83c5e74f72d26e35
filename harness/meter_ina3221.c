/* Jetson's INA3221 power monitors: one rail per channel, named by label; VDD_IN (or
 * POM_5V_IN on Nano / TX1) is the module's input and so the total.
 *
 * Two layouts, by L4T generation:
 *  - hwmon (mainline driver, L4T 32.5+ / Orin): class/hwmon/hwmonN with name "ina3221",
 *    inK_label (rail), inK_input (bus mV), currK_input (mA), K = 1..3; power = V * I.
 *  - iio (L4T 28/32 up to 32.4): bus/i2c/drivers/ina3221x/<addr>/iio:deviceN with rail_name_K
 *    and in_powerK_input (mW), K = 0..2.
 */
#include "meter_impl.h"
#include "sysfs.h"

#include <stdio.h>
#include <string.h>

#define INA_IIO_DIR "bus/i2c/drivers/ina3221x"

static int ina_is_total(const char *rail)
{
    return strcmp(rail, "VDD_IN") == 0 || strcmp(rail, "POM_5V_IN") == 0;
}

static int ina_name_taken(const eb_meter_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].name, name) == 0)
            return 1;
    return 0;
}

static void ina_meter(eb_meter *m, const eb_meter_set *set, const char *rail, const char *where)
{
    eb_meter_init(m, "ina3221", rail, EB_METER_POWER, EB_METER_RANK_INA3221);
    if (ina_name_taken(set, m->name)) { /* Xavier has two chips; labels rarely collide */
        char domain[64];
        snprintf(domain, sizeof domain, "%.40s@%.20s", rail, where);
        eb_meter_init(m, "ina3221", domain, EB_METER_POWER, EB_METER_RANK_INA3221);
    }
    m->is_total = ina_is_total(rail);
    m->nparts = 1;
}

static int ina_probe_hwmon(eb_meter_set *set, size_t *added, eb_err *err)
{
    char hw[64][EB_SYSFS_NAME];
    size_t nhw = 0;
    if (eb_sysfs_list("class/hwmon", "hwmon", hw, 64, &nhw) != 0)
        return 0;
    for (size_t h = 0; h < nhw; h++) {
        char base[128], chip[64], rel[256];
        if (eb_meter_hwmon_base(hw[h], base, sizeof base, chip, sizeof chip) != 0 ||
            strcmp(chip, "ina3221") != 0)
            continue;
        long long ms;
        snprintf(rel, sizeof rel, "%s/update_interval", base);
        double interval_s = eb_sysfs_read_ll(rel, &ms) == 0 && ms > 0 ? (double)ms / 1e3 : 0;
        for (int k = 1; k <= 3; k++) {
            char rail[48];
            snprintf(rel, sizeof rel, "%s/in%d_label", base, k);
            if (eb_sysfs_read_str(rel, rail, sizeof rail) != 0 || !rail[0])
                continue; /* unlabelled channels are not wired to a rail */
            eb_meter m;
            ina_meter(&m, set, rail, hw[h]);
            m.interval_s = interval_s;
            snprintf(m.part[0].rel, sizeof m.part[0].rel, "%s/in%d_input", base, k);
            snprintf(m.part[0].rel2, sizeof m.part[0].rel2, "%s/curr%d_input", base, k);
            m.part[0].scale = 1e-6; /* mV * mA = µW */
            snprintf(m.note, sizeof m.note, "in%d_input x curr%d_input (%s)", k, k, hw[h]);
            eb_meter_check(&m);
            if (eb_meter_set_add(set, &m, err) != 0)
                return -1;
            (*added)++;
        }
    }
    return 0;
}

static int ina_probe_iio(eb_meter_set *set, size_t *added, eb_err *err)
{
    char dev[32][EB_SYSFS_NAME];
    size_t ndev = 0;
    if (eb_sysfs_list(INA_IIO_DIR, NULL, dev, 32, &ndev) != 0)
        return 0;
    for (size_t d = 0; d < ndev; d++) {
        char sub[128], iio[8][EB_SYSFS_NAME];
        size_t niio = 0;
        snprintf(sub, sizeof sub, INA_IIO_DIR "/%s", dev[d]);
        if (eb_sysfs_list(sub, "iio:device", iio, 8, &niio) != 0)
            continue; /* bind, unbind, uevent, module: not devices */
        for (size_t i = 0; i < niio; i++) {
            for (int k = 0; k < 8; k++) {
                char rel[256], rail[48];
                snprintf(rel, sizeof rel, "%s/%s/rail_name_%d", sub, iio[i], k);
                if (eb_sysfs_read_str(rel, rail, sizeof rail) != 0)
                    break;
                if (!rail[0])
                    continue;
                eb_meter m;
                ina_meter(&m, set, rail, dev[d]);
                snprintf(m.part[0].rel, sizeof m.part[0].rel, "%s/%s/in_power%d_input", sub,
                         iio[i], k);
                m.part[0].scale = 1e-3; /* mW */
                snprintf(m.note, sizeof m.note, "in_power%d_input (%s)", k, dev[d]);
                eb_meter_check(&m);
                if (eb_meter_set_add(set, &m, err) != 0)
                    return -1;
                (*added)++;
            }
        }
    }
    return 0;
}

int eb_meter_ina3221_probe(eb_meter_set *set, eb_err *err)
{
    size_t added = 0;
    if (ina_probe_hwmon(set, &added, err) != 0 || ina_probe_iio(set, &added, err) != 0)
        return -1;
    if (added)
        return 0;
    char hw[256], iio[256];
    eb_sysfs_path(hw, sizeof hw, "class/hwmon");
    eb_sysfs_path(iio, sizeof iio, INA_IIO_DIR);
    return eb_meter_add_unusable(set, "ina3221", EB_METER_POWER, EB_METER_RANK_INA3221, err,
                                 "no INA3221 rail (no hwmon named ina3221 under %s, no %s): "
                                 "not a Jetson", hw, iio);
}
