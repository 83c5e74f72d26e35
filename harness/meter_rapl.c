/* powercap RAPL (class/powercap/intel-rapl:*): cumulative energy counters in µJ.
 *
 * The kernel's layout: intel-rapl:N is a top-level zone (name "package-N", or "psys" for the
 * platform domain on client parts), intel-rapl:N:M its subzones (name "core", "uncore",
 * "dram").  intel-rapl-mmio:N is a second interface to the same package energy, so it is only
 * used when no MSR zone exists.  psys covers the whole platform and already includes the
 * package: it is its own domain and is never added to package.  AMD (Zen) CPUs appear under
 * the same "intel-rapl" names.  energy_uj wraps at max_energy_range_uj; since Linux 5.10 it is
 * readable by root only.
 */
#include "meter_impl.h"
#include "sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RAPL_DIR "class/powercap"
#define RAPL_MAX_ZONES 64

/* RAPL counters update about every millisecond (Intel SDM, "RAPL interfaces"); powercap does
 * not expose the energy status unit, so the common 2^-14 J is assumed as one counter step. */
#define RAPL_INTERVAL_S 0.001
#define RAPL_RESOLUTION_J 61.0e-6

typedef struct rapl_zone {
    char dir[EB_SYSFS_NAME];     /* "intel-rapl:0:1" */
    char name[32];               /* "dram" */
    char parent[32];             /* the package's name for subzones ("package-0"), else "" */
    int top;                     /* 1: top-level zone */
    double wrap_j;
    int readable;                /* energy_uj could be read */
    char reason[600];
} rapl_zone;

static void rapl_zone_read(rapl_zone *z)
{
    char rel[256];
    long long v;
    snprintf(rel, sizeof rel, RAPL_DIR "/%s/max_energy_range_uj", z->dir);
    z->wrap_j = eb_sysfs_read_ll(rel, &v) == 0 && v > 0 ? (double)v * 1e-6 : 0.0;
    snprintf(rel, sizeof rel, RAPL_DIR "/%s/energy_uj", z->dir);
    if (eb_sysfs_read_ll(rel, &v) == 0) {
        z->readable = 1;
        return;
    }
    int e = errno;
    eb_meter_errno_reason(z->reason, sizeof z->reason, rel, e);
    if (e == EACCES || e == EPERM) /* say why a file in /sys is root-only */
        snprintf(z->reason + strlen(z->reason), sizeof z->reason - strlen(z->reason),
                 " (energy_uj is root-only since Linux 5.10)");
}

static void rapl_add_part(eb_meter *m, const rapl_zone *z)
{
    if (m->nparts >= EB_METER_MAX_PARTS)
        return;
    eb_meter_part *p = &m->part[m->nparts++];
    snprintf(p->rel, sizeof p->rel, RAPL_DIR "/%s/energy_uj", z->dir);
    p->scale = 1e-6;
    p->wrap_j = z->wrap_j;
    if (!z->readable && m->usable) {
        m->usable = 0;
        snprintf(m->reason, sizeof m->reason, "%s: %s", m->name, z->reason);
    }
}

/* A meter over every zone in zones[] whose selector matches; returns how many matched. */
static size_t rapl_build(eb_meter *m, const char *domain, const rapl_zone *zones, size_t n,
                         const char *name_is, const char *parent_is, int top)
{
    eb_meter_init(m, "rapl", domain, EB_METER_ENERGY, EB_METER_RANK_RAPL);
    m->usable = 1;
    m->interval_s = RAPL_INTERVAL_S;
    m->resolution = RAPL_RESOLUTION_J;
    for (size_t i = 0; i < n; i++) {
        const rapl_zone *z = &zones[i];
        if (z->top != top)
            continue;
        if (name_is && strcmp(z->name, name_is) != 0 &&
            !(strcmp(name_is, "package-*") == 0 && strncmp(z->name, "package-", 8) == 0))
            continue;
        if (parent_is && strcmp(z->parent, parent_is) != 0)
            continue;
        rapl_add_part(m, z);
    }
    if (m->nparts > 1)
        snprintf(m->note, sizeof m->note, "sum of %zu zones", m->nparts);
    return m->nparts;
}

static int rapl_add(eb_meter_set *set, eb_meter *m, eb_err *err)
{
    if (m->usable)
        eb_meter_check(m);
    return eb_meter_set_add(set, m, err);
}

int eb_meter_rapl_probe(eb_meter_set *set, eb_err *err)
{
    char dirs[RAPL_MAX_ZONES][EB_SYSFS_NAME];
    size_t nlist = 0;
    char root[256];
    eb_sysfs_path(root, sizeof root, RAPL_DIR);
    if (eb_sysfs_list(RAPL_DIR, "intel-rapl", dirs, RAPL_MAX_ZONES, &nlist) != 0)
        return eb_meter_add_unusable(set, "rapl", EB_METER_ENERGY, EB_METER_RANK_RAPL, err,
                                     "no powercap under %s (not an x86 CPU, a VM, or the "
                                     "intel_rapl_msr module is not loaded)", root);

    rapl_zone zones[RAPL_MAX_ZONES];
    size_t nz = 0, msr_packages = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: MSR zones; pass 1: MMIO zones, only if MSR gave no package */
        if (pass == 1 && msr_packages > 0)
            break;
        const char *prefix = pass == 0 ? "intel-rapl:" : "intel-rapl-mmio:";
        for (size_t i = 0; i < nlist; i++) {
            if (strncmp(dirs[i], prefix, strlen(prefix)) != 0)
                continue;
            rapl_zone *z = &zones[nz];
            memset(z, 0, sizeof *z);
            snprintf(z->dir, sizeof z->dir, "%s", dirs[i]);
            char rel[256];
            snprintf(rel, sizeof rel, RAPL_DIR "/%s/name", z->dir);
            if (eb_sysfs_read_str(rel, z->name, sizeof z->name) != 0 || !z->name[0])
                continue;
            const char *tail = dirs[i] + strlen(prefix);
            z->top = strchr(tail, ':') == NULL;
            if (!z->top) {
                /* the parent zone is the same directory name up to the last ':' */
                char pdir[EB_SYSFS_NAME];
                snprintf(pdir, sizeof pdir, "%s", dirs[i]);
                *strrchr(pdir, ':') = '\0';
                snprintf(rel, sizeof rel, RAPL_DIR "/%s/name", pdir);
                if (eb_sysfs_read_str(rel, z->parent, sizeof z->parent) != 0)
                    continue;
            }
            rapl_zone_read(z);
            if (z->top && strncmp(z->name, "package-", 8) == 0 && pass == 0)
                msr_packages++;
            if (++nz == RAPL_MAX_ZONES)
                break;
        }
    }
    if (nz == 0)
        return eb_meter_add_unusable(set, "rapl", EB_METER_ENERGY, EB_METER_RANK_RAPL, err,
                                     "no intel-rapl zone under %s (powercap without RAPL)",
                                     root);

    eb_meter m;
    size_t packages = 0;
    for (size_t i = 0; i < nz; i++)
        packages += zones[i].top && strncmp(zones[i].name, "package-", 8) == 0;

    /* The total: every package, never psys. */
    if (packages > 0) {
        rapl_build(&m, "package", zones, nz, "package-*", NULL, 1);
        m.is_total = 1;
        if (rapl_add(set, &m, err) != 0)
            return -1;
    }
    /* Per package, and per package subzone, when there are several packages. */
    for (size_t i = 0; packages > 1 && i < nz; i++) {
        const rapl_zone *z = &zones[i];
        if (z->top && strncmp(z->name, "package-", 8) == 0) {
            rapl_build(&m, z->name, zones, nz, z->name, NULL, 1);
            if (rapl_add(set, &m, err) != 0)
                return -1;
        } else if (!z->top) {
            char domain[64];
            snprintf(domain, sizeof domain, "%s:%s", z->parent, z->name);
            rapl_build(&m, domain, z, 1, z->name, z->parent, 0);
            if (rapl_add(set, &m, err) != 0)
                return -1;
        }
    }
    /* Subzone kinds summed over packages ("dram" = every package's dram), and the other
     * top-level zones (psys) on their own. */
    for (size_t i = 0; i < nz; i++) {
        const rapl_zone *z = &zones[i];
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= zones[j].top == z->top && strcmp(zones[j].name, z->name) == 0;
        if (seen || (z->top && strncmp(z->name, "package-", 8) == 0))
            continue;
        rapl_build(&m, z->name, zones, nz, z->name, NULL, z->top);
        if (strcmp(z->name, "psys") == 0)
            snprintf(m.note, sizeof m.note, "platform energy (includes the package; only "
                                            "used when named)");
        if (rapl_add(set, &m, err) != 0)
            return -1;
    }
    return 0;
}
