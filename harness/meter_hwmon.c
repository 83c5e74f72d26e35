/* hwmon (class/hwmon/hwmon*): energy*_input (µJ, cumulative counters, e.g. amd_energy,
 * PMBus) and power*_input (µW, sampled; power*_average where a driver has no _input, e.g.
 * amdgpu).  Labels come from energy*_label / power*_label; update_interval (ms) says how often
 * the chip refreshes.  A channel is the device's total only when its label says so
 * (socket/package/total/system): a GPU's or a rail's power is not the device's.
 */
#include "meter_impl.h"
#include "sysfs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HWMON_DIR "class/hwmon"
#define HWMON_MAX 64
#define HWMON_FILES 256

int eb_meter_hwmon_base(const char *hwmon, char *base, size_t n, char *name, size_t name_n)
{
    char rel[256];
    snprintf(base, n, HWMON_DIR "/%s", hwmon);
    snprintf(rel, sizeof rel, "%s/name", base);
    if (eb_sysfs_read_str(rel, name, name_n) == 0)
        return 0;
    /* Drivers before Linux 3.x put the attributes in the parent device's directory. */
    snprintf(base, n, HWMON_DIR "/%s/device", hwmon);
    snprintf(rel, sizeof rel, "%s/name", base);
    return eb_sysfs_read_str(rel, name, name_n);
}

static int hwmon_label_is_total(const char *label)
{
    static const char *const words[] = {"socket", "package", "pkg", "total", "system"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(label, words[i]))
            return 1;
    return 0;
}

/* Is `file` "<prefix><digits><suffix>"?  Writes the channel number. */
static int hwmon_channel(const char *file, const char *prefix, const char *suffix, int *ch)
{
    size_t lp = strlen(prefix), ls = strlen(suffix), lf = strlen(file);
    if (lf <= lp + ls || strncmp(file, prefix, lp) != 0 || strcmp(file + lf - ls, suffix) != 0)
        return 0;
    for (size_t i = lp; i < lf - ls; i++)
        if (!isdigit((unsigned char)file[i]))
            return 0;
    *ch = atoi(file + lp);
    return 1;
}

static int hwmon_name_taken(const eb_meter_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].name, name) == 0)
            return 1;
    return 0;
}

/* One channel's meter: kind ENERGY for energyN_input, POWER for powerN_input/_average. */
static int hwmon_add_channel(eb_meter_set *set, const char *hwmon, const char *base,
                             const char *chip, const char *kind_word, int ch,
                             const char *file, double interval_s, eb_err *err)
{
    char rel[256], label[64] = "", domain[64];
    snprintf(rel, sizeof rel, "%s/%s%d_label", base, kind_word, ch);
    if (eb_sysfs_read_str(rel, label, sizeof label) != 0 || !label[0])
        snprintf(label, sizeof label, "%s%d", kind_word, ch);
    snprintf(domain, sizeof domain, "%.24s/%.32s", chip, label);
    int energy = strcmp(kind_word, "energy") == 0;
    eb_meter m;
    eb_meter_init(&m, "hwmon", domain, energy ? EB_METER_ENERGY : EB_METER_POWER,
                  energy ? EB_METER_RANK_HWMON_ENERGY : EB_METER_RANK_HWMON_POWER);
    if (hwmon_name_taken(set, m.name)) { /* two chips of one driver: say which */
        snprintf(domain, sizeof domain, "%.24s.%.12s/%.24s", chip, hwmon, label);
        eb_meter_init(&m, "hwmon", domain, m.kind, m.rank);
    }
    m.is_total = hwmon_label_is_total(label);
    m.interval_s = interval_s;
    m.resolution = 1e-6; /* the files count µJ / µW */
    m.nparts = 1;
    snprintf(m.part[0].rel, sizeof m.part[0].rel, "%s/%s", base, file);
    m.part[0].scale = 1e-6;
    snprintf(m.note, sizeof m.note, "%s", file);
    eb_meter_check(&m);
    return eb_meter_set_add(set, &m, err);
}

int eb_meter_hwmon_probe(eb_meter_set *set, eb_err *err)
{
    char hw[HWMON_MAX][EB_SYSFS_NAME], root[256], seen[256] = "";
    size_t nhw = 0, added = 0;
    eb_sysfs_path(root, sizeof root, HWMON_DIR);
    if (eb_sysfs_list(HWMON_DIR, "hwmon", hw, HWMON_MAX, &nhw) != 0 || nhw == 0)
        return eb_meter_add_unusable(set, "hwmon", EB_METER_ENERGY,
                                     EB_METER_RANK_HWMON_ENERGY, err,
                                     "no hwmon device under %s", root);
    /* 16 KiB of names: on the heap, not on a small board's stack */
    char (*f)[EB_SYSFS_NAME] = malloc(HWMON_FILES * sizeof *f);
    if (!f)
        return eb_errf(err, "hwmon: out of memory");
    for (size_t h = 0; h < nhw; h++) {
        char base[128], chip[64], rel[256];
        size_t nf = 0;
        if (eb_meter_hwmon_base(hw[h], base, sizeof base, chip, sizeof chip) != 0)
            continue;
        size_t used = strlen(seen);
        if (used + strlen(chip) + 3 < sizeof seen)
            snprintf(seen + used, sizeof seen - used, "%s%s", used ? ", " : "", chip);
        long long ms;
        snprintf(rel, sizeof rel, "%s/update_interval", base);
        double interval_s = eb_sysfs_read_ll(rel, &ms) == 0 && ms > 0 ? (double)ms / 1e3 : 0;
        if (eb_sysfs_list(base, NULL, f, HWMON_FILES, &nf) != 0)
            continue;
        for (size_t i = 0; i < nf; i++) {
            int ch;
            if (hwmon_channel(f[i], "energy", "_input", &ch)) {
                if (hwmon_add_channel(set, hw[h], base, chip, "energy", ch, f[i], interval_s,
                                      err) != 0)
                    goto fail;
                added++;
            } else if (hwmon_channel(f[i], "power", "_input", &ch)) {
                if (hwmon_add_channel(set, hw[h], base, chip, "power", ch, f[i], interval_s,
                                      err) != 0)
                    goto fail;
                added++;
            } else if (hwmon_channel(f[i], "power", "_average", &ch)) {
                char input[256];
                snprintf(input, sizeof input, "%s/power%d_input", base, ch);
                if (eb_sysfs_exists(input) == 0)
                    continue; /* _input is the same channel, already taken */
                if (hwmon_add_channel(set, hw[h], base, chip, "power", ch, f[i], interval_s,
                                      err) != 0)
                    goto fail;
                added++;
            }
        }
    }
    free(f);
    if (!added)
        return eb_meter_add_unusable(set, "hwmon", EB_METER_ENERGY,
                                     EB_METER_RANK_HWMON_ENERGY, err,
                                     "no hwmon device under %s offers energy*_input or "
                                     "power*_input (found: %s)", root, seen[0] ? seen : "none");
    return 0;
fail:
    free(f);
    return -1;
}
