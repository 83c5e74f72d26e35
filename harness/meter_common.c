/* Meters: the shared reader, the set, the chooser and the probe report (see meter.h). */
#include "meter_impl.h"
#include "sysfs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void eb_meter_init(eb_meter *m, const char *source, const char *domain, eb_meter_kind kind,
                   int rank)
{
    memset(m, 0, sizeof *m);
    snprintf(m->source, sizeof m->source, "%s", source);
    snprintf(m->domain, sizeof m->domain, "%s", domain ? domain : "");
    if (m->domain[0])
        snprintf(m->name, sizeof m->name, "%s:%s", m->source, m->domain);
    else
        snprintf(m->name, sizeof m->name, "%s", m->source);
    m->kind = kind;
    m->rank = rank;
    m->read = eb_meter_read_sysfs;
    for (size_t i = 0; i < EB_METER_MAX_PARTS; i++)
        m->part[i].fd = -1;
}

/* User meters: "source:domain", or a bare domain under default_source. */
void eb_meter_init_named(eb_meter *m, const char *name, const char *default_source,
                         eb_meter_kind kind)
{
    char source[16], domain[64];
    const char *colon = name ? strchr(name, ':') : NULL;
    if (colon) {
        snprintf(source, sizeof source, "%.*s", (int)(colon - name), name);
        snprintf(domain, sizeof domain, "%s", colon + 1);
    } else {
        snprintf(source, sizeof source, "%s", default_source);
        snprintf(domain, sizeof domain, "%s", name && name[0] ? name : "user");
    }
    eb_meter_init(m, source, domain, kind, EB_METER_RANK_USER);
}

void eb_meter_errno_reason(char *buf, size_t n, const char *rel, int e)
{
    char path[512];
    if (eb_sysfs_path(path, sizeof path, "%s", rel) != 0)
        snprintf(path, sizeof path, "%s", rel);
    switch (e) {
    case EACCES:
    case EPERM:
        snprintf(buf, n, "permission denied reading %s: run as root or chmod o+r it", path);
        break;
    case ENOENT:
    case ENODEV:
    case ENXIO:
        snprintf(buf, n, "%s is missing (the sensor or its driver went away)", path);
        break;
    case EINVAL:
        snprintf(buf, n, "%s does not hold a number", path);
        break;
    default:
        snprintf(buf, n, "cannot read %s: %s", path, strerror(e));
        break;
    }
}

/* One factor of a part: the file's number, or a reason. */
static int meter_read_number(const eb_meter *m, const char *rel, double *x, eb_err *err)
{
    if (eb_sysfs_read_double(rel, x) == 0 && isfinite(*x))
        return 0;
    char why[600];
    eb_meter_errno_reason(why, sizeof why, rel, errno ? errno : EINVAL);
    return eb_errf(err, "%s: %s", m->name, why);
}

int eb_meter_read_sysfs(eb_meter *m, double *v, eb_err *err)
{
    for (size_t i = 0; i < m->nparts; i++) {
        const eb_meter_part *p = &m->part[i];
        double a, b = 1.0;
        errno = 0;
        if (meter_read_number(m, p->rel, &a, err) != 0)
            return -1;
        if (p->rel2[0] && meter_read_number(m, p->rel2, &b, err) != 0)
            return -1;
        v[i] = a * b * p->scale;
    }
    return 0;
}

int eb_meter_check(eb_meter *m)
{
    double v[EB_METER_MAX_PARTS];
    eb_err e = {{0}};
    if (m->nparts == 0 && !m->cb && !m->command[0]) {
        m->usable = 0;
        snprintf(m->reason, sizeof m->reason, "%s: nothing to read", m->name);
        return 0;
    }
    if (m->read(m, v, &e) != 0) {
        m->usable = 0;
        snprintf(m->reason, sizeof m->reason, "%s", e.msg);
        return 0;
    }
    m->usable = 1;
    m->reason[0] = '\0';
    return 1;
}

int eb_meter_set_add(eb_meter_set *set, const eb_meter *m, eb_err *err)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        eb_meter *grown = realloc(set->m, cap * sizeof *grown);
        if (!grown)
            return eb_errf(err, "meters: out of memory listing energy sources");
        set->m = grown;
        set->cap = cap;
    }
    set->m[set->n++] = *m;
    return 0;
}

int eb_meter_add_unusable(eb_meter_set *set, const char *source, eb_meter_kind kind, int rank,
                          eb_err *err, const char *fmt, ...)
{
    eb_meter m;
    eb_meter_init(&m, source, "", kind, rank);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.reason, sizeof m.reason, fmt, ap);
    va_end(ap);
    return eb_meter_set_add(set, &m, err);
}

void eb_meter_set_free(eb_meter_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->m[i].release)
            set->m[i].release(&set->m[i]);
    free(set->m);
    set->m = NULL;
    set->n = set->cap = 0;
}

int eb_meters_probe_all(eb_meter_set *set, eb_err *err)
{
    int (*const probes[])(eb_meter_set *, eb_err *) = {
        eb_meter_rapl_probe, eb_meter_perf_probe, eb_meter_hwmon_probe,
        eb_meter_ina3221_probe, eb_meter_battery_probe,
    };
    memset(set, 0, sizeof *set);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        if (probes[i](set, err) != 0) {
            eb_meter_set_free(set);
            return -1;
        }
    return 0;
}

/* Appends sep + text to the message, cut where the message is full (truncation is the
 * intent: the first reasons matter most). */
static void meter_msg_append(eb_err *err, const char *sep, const char *text)
{
    if (!err)
        return;
    size_t used = strlen(err->msg), room = sizeof err->msg - 1 - used;
    size_t ls = strlen(sep), lt = strlen(text);
    if (ls >= room)
        return;
    memcpy(err->msg + used, sep, ls);
    used += ls;
    room -= ls;
    if (lt > room)
        lt = room;
    memcpy(err->msg + used, text, lt);
    err->msg[used + lt] = '\0';
}

/* Appends "; reason" for each unusable entry, as far as the message has room. */
static void meter_append_reasons(eb_err *err, const eb_meter_set *set, const char *source)
{
    if (!err)
        return;
    for (size_t i = 0; i < set->n; i++) {
        const eb_meter *m = &set->m[i];
        if (!m->usable && (!source || strcmp(m->source, source) == 0))
            meter_msg_append(err, "; ", m->reason);
    }
}

int eb_meter_choose(const eb_meter_set *set, const char *want, eb_meter **out, eb_err *err)
{
    eb_meter *best = NULL;
    *out = NULL;
    if (!want || !want[0] || strcmp(want, "auto") == 0) {
        for (size_t i = 0; i < set->n; i++) {
            eb_meter *m = &set->m[i];
            if (m->usable && m->is_total && m->rank < EB_METER_RANK_USER &&
                (!best || m->rank < best->rank))
                best = m;
        }
        if (!best) {
            eb_errf(err, "energy: no usable meter covers this device (see `edgebench info`; "
                         "name one with energy = { meter = \"source:domain\" })");
            meter_append_reasons(err, set, NULL);
            return -1;
        }
        *out = best;
        return 0;
    }
    /* Exact name first ("rapl:dram", "ina3221:VDD_GPU"). */
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].name, want) == 0 && set->m[i].domain[0]) {
            if (!set->m[i].usable) {
                eb_errf(err, "energy: meter %s is unusable: ", want);
                meter_msg_append(err, "", set->m[i].reason);
                return -1;
            }
            *out = &set->m[i];
            return 0;
        }
    /* A source name: its best total, else its only usable domain. */
    size_t usable = 0, known = 0;
    eb_meter *only = NULL;
    for (size_t i = 0; i < set->n; i++) {
        eb_meter *m = &set->m[i];
        if (strcmp(m->source, want) != 0)
            continue;
        known++;
        if (!m->usable)
            continue;
        usable++;
        only = m;
        if (m->is_total && (!best || m->rank < best->rank))
            best = m;
    }
    if (!best && usable == 1)
        best = only;
    if (best) {
        *out = best;
        return 0;
    }
    if (usable > 1) {
        eb_errf(err, "energy: %s has several domains and none is the device's total; name one:",
                want);
        for (size_t i = 0; i < set->n; i++)
            if (set->m[i].usable && strcmp(set->m[i].source, want) == 0)
                meter_msg_append(err, " ", set->m[i].name);
        return -1;
    }
    if (known) {
        eb_errf(err, "energy: meter %s is unusable", want);
        meter_append_reasons(err, set, want);
        return -1;
    }
    eb_errf(err, "energy: no meter named %s; known:", want);
    for (size_t i = 0; i < set->n; i++)
        meter_msg_append(err, " ", set->m[i].name);
    return -1;
}

void eb_meters_print(FILE *f, const eb_meter_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        const eb_meter *m = &set->m[i];
        fprintf(f, "%-28s %-6s %-8s %s%s\n", m->name,
                m->kind == EB_METER_ENERGY ? "energy" : "power",
                m->usable ? "usable" : "unusable", m->usable ? m->note : m->reason,
                m->usable && m->is_total ? (m->note[0] ? " (total)" : "total") : "");
    }
}
