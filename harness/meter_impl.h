/* Internals shared by the meter sources (harness/meter_*.c) and their tests; not for callers
 * outside the meters, who use meter.h. */
#ifndef EB_METER_IMPL_H
#define EB_METER_IMPL_H

#include "meter.h"

/* Each built-in source appends its entries to set (zeroed, or already holding entries): one
 * per usable domain, or one unusable entry with the reason.  -1 only when out of memory. */
int eb_meter_rapl_probe(eb_meter_set *set, eb_err *err);
int eb_meter_perf_probe(eb_meter_set *set, eb_err *err);
int eb_meter_hwmon_probe(eb_meter_set *set, eb_err *err);
int eb_meter_ina3221_probe(eb_meter_set *set, eb_err *err);
int eb_meter_battery_probe(eb_meter_set *set, eb_err *err);

/* Clears *m and fills identity: name becomes "source:domain" (or "source" when domain is
 * empty); fds are -1, read is the sysfs reader. */
void eb_meter_init(eb_meter *m, const char *source, const char *domain, eb_meter_kind kind,
                   int rank);

/* eb_meter_init for user meters (rank USER): name is "source:domain", or a bare domain put
 * under default_source ("command", "callback"). */
void eb_meter_init_named(eb_meter *m, const char *name, const char *default_source,
                         eb_meter_kind kind);

/* The common reader: each part is rel [* rel2] * scale, read through sysfs.h. */
int eb_meter_read_sysfs(eb_meter *m, double *v, eb_err *err);

/* Reads once; on failure marks m unusable with the reason.  Returns m->usable. */
int eb_meter_check(eb_meter *m);

/* Why a sysfs file could not be read, from errno, with what to do:
 * "permission denied reading /sys/...: run as root or chmod o+r it". */
void eb_meter_errno_reason(char *buf, size_t n, const char *rel, int e);

/* Appends an unusable entry for a whole source (domain ""), reason formatted. */
int eb_meter_add_unusable(eb_meter_set *set, const char *source, eb_meter_kind kind, int rank,
                          eb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* hwmon: the directory holding hwmonN's attributes ("class/hwmon/hwmonN", or its device/
 * subdirectory on old drivers) and its name file's content.  -1 when it has no name. */
int eb_meter_hwmon_base(const char *hwmon, char *base, size_t n, char *name, size_t name_n);

/* perf power PMU: one event as sysfs describes it. */
typedef struct eb_meter_perf_event {
    char event[32];              /* "energy-pkg" */
    unsigned type;               /* bus/event_source/devices/power/type */
    unsigned long long config;   /* from events/<event>: "event=0x02" */
    double scale;                /* events/<event>.scale: joules per count */
    char unit[16];               /* events/<event>.unit: "Joules" */
    int cpu[EB_METER_MAX_PARTS]; /* from cpumask: one cpu per package */
    size_t ncpu;
} eb_meter_perf_event;

/* Parses "event=0x02" (the only term the power PMU uses) into config.  -1 on other terms. */
int eb_meter_perf_parse_config(const char *text, unsigned long long *config);

/* Reads the sysfs description of power/<event> (type, config, scale, unit, cpumask). */
int eb_meter_perf_describe(const char *event, eb_meter_perf_event *ev, eb_err *err);

/* Command meter pieces.  run: output (stdout) into out, killed (whole process group) after
 * timeout_s; -1 with the reason on timeout, spawn failure or non-zero exit.  parse: watts from
 * that output (one number, or vcgencmd pmic_read_adc lines summed over rails matching glob). */
int eb_meter_command_run(const char *command, double timeout_s, char *out, size_t n,
                         eb_err *err);
int eb_meter_command_parse(const char *out, const char *rails, double *watts, eb_err *err);

#endif
