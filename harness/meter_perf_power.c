/* perf_event's power PMU (bus/event_source/devices/power): the same RAPL counters as
 * powercap, read through perf_event_open.  Useful where powercap is absent or root-only but
 * perf_event_paranoid allows system-wide events (or on AMD kernels that only offer this).
 *
 * sysfs describes each event: type (the PMU number), events/energy-pkg ("event=0x02"),
 * events/energy-pkg.scale (joules per count, "2.3283064365386962890625e-10"),
 * events/energy-pkg.unit ("Joules"), and cpumask (one cpu per package, "0" or "0,28").  The
 * events are system-wide: opened with pid -1 on each cpu of cpumask; the kernel keeps a 64-bit
 * count, so there is no wrap to handle here.
 */
#include "meter_impl.h"
#include "sysfs.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PERF_DIR "bus/event_source/devices/power"
#define PERF_INTERVAL_S 0.001     /* RAPL's update period, as in meter_rapl.c */
#define PERF_RESOLUTION_J 61.0e-6 /* assumed 2^-14 J energy unit */

int eb_meter_perf_parse_config(const char *text, unsigned long long *config)
{
    const char *p = text;
    char *end;
    if (strncmp(p, "event=", 6) != 0)
        return -1;
    p += 6;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 0);
    if (errno || end == p)
        return -1;
    while (*end == ' ' || *end == '\n' || *end == '\t')
        end++;
    if (*end) /* umask=, config1= ...: not what the power PMU uses; refuse rather than guess */
        return -1;
    *config = v;
    return 0;
}

/* "0", "0,28", "0-1" into cpu[]. */
static int perf_parse_cpus(const char *text, int *cpu, size_t max, size_t *n)
{
    const char *p = text;
    *n = 0;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0)
            return -1;
        b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        for (long c = a; c <= b && *n < max; c++)
            cpu[(*n)++] = (int)c;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return *n ? 0 : -1;
}

int eb_meter_perf_describe(const char *event, eb_meter_perf_event *ev, eb_err *err)
{
    char rel[256], text[256], path[512];
    long long type;
    memset(ev, 0, sizeof *ev);
    snprintf(ev->event, sizeof ev->event, "%s", event);
    eb_sysfs_path(path, sizeof path, PERF_DIR);

    if (eb_sysfs_read_ll(PERF_DIR "/type", &type) != 0 || type < 0)
        return eb_errf(err, "%s/type: cannot read the PMU type: %s", path, strerror(errno));
    ev->type = (unsigned)type;

    snprintf(rel, sizeof rel, PERF_DIR "/events/%s", event);
    if (eb_sysfs_read_str(rel, text, sizeof text) != 0)
        return eb_errf(err, "%s/events/%s: %s", path, event, strerror(errno));
    if (eb_meter_perf_parse_config(text, &ev->config) != 0)
        return eb_errf(err, "%s/events/%s: expected \"event=0x..\", found \"%s\"", path, event,
                       text);

    snprintf(rel, sizeof rel, PERF_DIR "/events/%s.scale", event);
    if (eb_sysfs_read_double(rel, &ev->scale) != 0 || !(ev->scale > 0))
        return eb_errf(err, "%s/events/%s.scale: missing or not a positive number", path,
                       event);

    snprintf(rel, sizeof rel, PERF_DIR "/events/%s.unit", event);
    if (eb_sysfs_read_str(rel, ev->unit, sizeof ev->unit) != 0)
        return eb_errf(err, "%s/events/%s.unit: %s", path, event, strerror(errno));
    if (strcmp(ev->unit, "Joules") != 0)
        return eb_errf(err, "%s/events/%s.unit is \"%s\", expected \"Joules\"", path, event,
                       ev->unit);

    /* Without cpumask the PMU is counted from cpu 0 (one package). */
    if (eb_sysfs_read_str(PERF_DIR "/cpumask", text, sizeof text) != 0) {
        ev->cpu[0] = 0;
        ev->ncpu = 1;
    } else if (perf_parse_cpus(text, ev->cpu, EB_METER_MAX_PARTS, &ev->ncpu) != 0) {
        return eb_errf(err, "%s/cpumask: cannot parse \"%s\"", path, text);
    }
    return 0;
}

static int perf_read(eb_meter *m, double *v, eb_err *err)
{
    for (size_t i = 0; i < m->nparts; i++) {
        uint64_t count;
        if (m->part[i].fd < 0 || read(m->part[i].fd, &count, sizeof count) != sizeof count)
            return eb_errf(err, "%s: reading the perf counter failed: %s", m->name,
                           strerror(errno ? errno : EIO));
        v[i] = (double)count * m->part[i].scale;
    }
    return 0;
}

static void perf_release(eb_meter *m)
{
    for (size_t i = 0; i < m->nparts; i++)
        if (m->part[i].fd >= 0) {
            close(m->part[i].fd);
            m->part[i].fd = -1;
        }
}

/* Why perf_event_open refused, with what to do. */
static void perf_open_reason(eb_meter *m, const eb_meter_perf_event *ev, int cpu, int e)
{
    char paranoid[32] = "?";
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r"); /* /proc, not sysfs */
    if (f) {
        if (!fgets(paranoid, sizeof paranoid, f))
            snprintf(paranoid, sizeof paranoid, "?");
        paranoid[strcspn(paranoid, "\n")] = '\0';
        fclose(f);
    }
    if (e == EACCES || e == EPERM)
        snprintf(m->reason, sizeof m->reason,
                 "perf_event_open(power/%s, cpu %d) denied: system-wide events need "
                 "perf_event_paranoid <= 0 (it is %s): run as root, or "
                 "sysctl kernel.perf_event_paranoid=0", ev->event, cpu, paranoid);
    else
        snprintf(m->reason, sizeof m->reason,
                 "perf_event_open(power/%s: type %u, config 0x%llx, cpu %d) failed: %s "
                 "(the kernel does not offer this event here)", ev->event, ev->type,
                 ev->config, cpu, strerror(e));
}

/* Builds and opens one event's meter. */
static void perf_open_event(eb_meter *m, const char *event)
{
    eb_meter_perf_event ev;
    eb_err e = {{0}};
    const char *domain = strncmp(event, "energy-", 7) == 0 ? event + 7 : event;
    eb_meter_init(m, "perf_power", domain, EB_METER_ENERGY, EB_METER_RANK_PERF);
    m->read = perf_read;
    m->release = perf_release;
    m->interval_s = PERF_INTERVAL_S;
    m->resolution = PERF_RESOLUTION_J;
    m->is_total = strcmp(domain, "pkg") == 0;
    if (eb_meter_perf_describe(event, &ev, &e) != 0) {
        snprintf(m->reason, sizeof m->reason, "%s", e.msg);
        return;
    }
    /* psys is one platform-wide counter: counting it on every package would multiply it. */
    size_t ncpu = strcmp(domain, "psys") == 0 ? 1 : ev.ncpu;
    for (size_t i = 0; i < ncpu; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = ev.type;
        attr.config = ev.config;
        long fd = syscall(SYS_perf_event_open, &attr, -1, ev.cpu[i], -1,
                          PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            perf_open_reason(m, &ev, ev.cpu[i], errno);
            perf_release(m);
            m->nparts = 0;
            return;
        }
        m->part[m->nparts].fd = (int)fd;
        m->part[m->nparts].scale = ev.scale;
        snprintf(m->part[m->nparts].rel, sizeof m->part[0].rel, PERF_DIR "/events/%.64s",
                 event);
        m->nparts++;
    }
    if (m->nparts > 1)
        snprintf(m->note, sizeof m->note, "sum of %zu packages", m->nparts);
    eb_meter_check(m);
    if (!m->usable)
        perf_release(m);
}

int eb_meter_perf_probe(eb_meter_set *set, eb_err *err)
{
    char names[32][EB_SYSFS_NAME], root[256];
    size_t n = 0, added = 0;
    eb_sysfs_path(root, sizeof root, PERF_DIR);
    if (eb_sysfs_exists(PERF_DIR) != 0)
        return eb_meter_add_unusable(set, "perf_power", EB_METER_ENERGY, EB_METER_RANK_PERF,
                                     err, "no power PMU at %s (no RAPL on this CPU, or a VM)",
                                     root);
    if (eb_sysfs_list(PERF_DIR "/events", "energy-", names, 32, &n) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr(names[i], '.')) /* .scale / .unit companions */
            continue;
        eb_meter m;
        perf_open_event(&m, names[i]);
        if (eb_meter_set_add(set, &m, err) != 0) {
            perf_release(&m);
            return -1;
        }
        added++;
    }
    if (!added)
        return eb_meter_add_unusable(set, "perf_power", EB_METER_ENERGY, EB_METER_RANK_PERF,
                                     err, "the power PMU at %s lists no energy-* event", root);
    return 0;
}
