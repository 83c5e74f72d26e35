/* Energy meters: where joules come from, and the sampler that measures a window.
 *
 * How a trial uses it (the parent process, around the child that runs the timed loop):
 *
 *     eb_meter_set set;                          // once per run
 *     eb_meters_probe_all(&set, &err);           // every source, usable or not + reason
 *     eb_meters_print(stdout, &set);             // `edgebench info`, run.csv notes
 *     eb_meter *m;
 *     if (eb_meter_choose(&set, want, &m, &err) != 0)   // want: NULL/"auto", "rapl",
 *         ...energy columns empty, reason = err.msg      // "rapl:dram", "ina3221:VDD_GPU"...
 *
 *     double idle_w;                             // before each trial
 *     if (eb_meter_idle(m, idle_seconds, &idle_w, &err) != 0) ...idle column empty + reason
 *
 *     eb_meter_session *s = eb_meter_start(m, NULL, &err);   // just before the timed loop
 *     ...timed loop; keep iterating past min_time while !eb_meter_enough(s)...
 *     eb_meter_result r;
 *     eb_meter_stop(s, &r, &err);                // s is freed; r.ok==0 -> r.reason
 *     power_avg_w = r.watts; energy_mj_per_inference = r.joules * 1e3 / iterations;
 *     energy_net = (r.joules - idle_w * r.seconds) * 1e3 / iterations; energy_source = r.source
 *
 *     eb_meter_set_free(&set);                   // end of run (closes perf fds)
 *
 * A scenario's own meters join the set before choosing: eb_meter_command() for a shell
 * command that prints watts, eb_meter_from_callback() for a Lua function, then
 * eb_meter_set_add().  They are only used when named (never picked by "auto").
 *
 * Every sysfs read goes through sysfs.h (EDGEBENCH_SYSFS), so tests use fixture trees.
 * Nothing here prints except eb_meters_print; nothing invents a number: a sensor that cannot
 * be read makes the result not ok with a reason.
 */
#ifndef EB_METER_H
#define EB_METER_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* ENERGY: a cumulative counter read in joules (may wrap).  POWER: an instantaneous reading
 * in watts, sampled by a thread and integrated with the trapezoid rule. */
typedef enum eb_meter_kind { EB_METER_ENERGY = 0, EB_METER_POWER = 1 } eb_meter_kind;

/* Chooser preference, best first (ARCHITECTURE.md: real counters before sampled power). */
enum {
    EB_METER_RANK_RAPL = 1,       /* powercap RAPL package (sum of packages) */
    EB_METER_RANK_PERF = 2,       /* perf_event power/energy-pkg */
    EB_METER_RANK_HWMON_ENERGY = 3,
    EB_METER_RANK_INA3221 = 4,    /* Jetson VDD_IN / POM_5V_IN */
    EB_METER_RANK_HWMON_POWER = 5,
    EB_METER_RANK_BATTERY = 6,
    EB_METER_RANK_USER = 7        /* command and callback meters: only when named */
};

#define EB_METER_MAX_PARTS 8
#define EB_METER_PATH 192

/* One file (or counter) a meter reads; a meter's value is the sum of its parts, and each
 * energy part unwraps on its own (two packages wrap at different times). */
typedef struct eb_meter_part {
    char rel[EB_METER_PATH];   /* sysfs file relative to the root, e.g. ".../energy_uj" */
    char rel2[EB_METER_PATH];  /* second factor (current for V*I), or "" */
    double scale;              /* rel [* rel2] * scale = joules or watts */
    double wrap_j;             /* energy: the counter's modulus in joules; 0 = never wraps */
    int fd;                    /* perf events: the open counter; -1 otherwise */
} eb_meter_part;

struct eb_meter;
/* Reads every part into v[0..nparts) (joules or watts).  -1 with a reason naming the file. */
typedef int (*eb_meter_read_fn)(struct eb_meter *m, double *v, eb_err *err);

/* A callback meter's reader (a Lua function, wired by the scenario engine): writes joules
 * (cumulative, kind ENERGY) or watts (kind POWER) into *value; 0, or -1 with a message. */
typedef int (*eb_meter_cb)(void *ctx, double *value, eb_err *err);

/* One source and domain.  Plain data (copyable) except perf fds and callback contexts, which
 * the set owns; fields are public so reports can show them, but set them only through the
 * constructors below. */
typedef struct eb_meter {
    char source[16];        /* "rapl", "perf_power", "hwmon", "ina3221", "battery",
                               "command", "callback" */
    char domain[64];        /* "package", "package-1:dram", "psys", "VDD_IN", "" when the
                               whole source is unusable */
    char name[96];          /* "source:domain": what energy_source shows and choose() takes */
    eb_meter_kind kind;
    int usable;             /* 1: probed and read once successfully */
    char reason[1024];      /* unusable: why, and what to do */
    char note[256];         /* usable: how it is read ("sum of 2 packages", "V*I") */
    int rank;               /* EB_METER_RANK_* */
    int is_total;           /* covers the device (package, VDD_IN, battery), not a part */
    double interval_s;      /* how often the sensor updates (0: unknown) */
    double resolution;      /* energy: joules per counter step; power: watts per step */
    size_t nparts;
    eb_meter_part part[EB_METER_MAX_PARTS];
    eb_meter_read_fn read;
    void (*release)(struct eb_meter *m);   /* closes what the meter holds; may be NULL */
    char check_rel[EB_METER_PATH];  /* battery: status file that must stay "Discharging" */
    char command[512];              /* command meter: sh -c command */
    char rails[64];                 /* command meter: rail glob (fnmatch), "" = all */
    double timeout_s;               /* command meter: kill after this long */
    eb_meter_cb cb;                 /* callback meter */
    void *cb_ctx;
} eb_meter;

/* Every meter found, usable or not.  m[] may move on add; do not keep pointers across adds. */
typedef struct eb_meter_set {
    eb_meter *m;
    size_t n, cap;
} eb_meter_set;

/* Probes every built-in source under eb_sysfs_root(): RAPL (powercap), perf power PMU,
 * hwmon energy/power, INA3221 (hwmon and iio), batteries.  Each usable domain becomes one
 * entry; a source with nothing usable becomes one entry with usable=0 and the reason (so the
 * report names every source).  Missing hardware is not an error: -1 only when out of memory.
 * The caller frees with eb_meter_set_free. */
int eb_meters_probe_all(eb_meter_set *set, eb_err *err);

/* Appends a copy of *m (ownership of its fds/context moves to the set). */
int eb_meter_set_add(eb_meter_set *set, const eb_meter *m, eb_err *err);

/* Releases every meter (closes perf fds) and the array. */
void eb_meter_set_free(eb_meter_set *set);

/* Picks a meter.  want NULL, "" or "auto": the best usable total by rank (RAPL package >
 * perf energy-pkg > hwmon energy > INA3221 VDD_IN > hwmon power > battery); psys and user
 * meters are never picked automatically.  Otherwise want is "source" (that source's total)
 * or "source:domain" (exact; a domain like "dram" also matches the sum over packages).
 * -1 with the reason when nothing fits or the named meter is unusable (its reason). */
int eb_meter_choose(const eb_meter_set *set, const char *want, eb_meter **out, eb_err *err);

/* One line per entry: "rapl:package  energy  usable  sum of 2 packages" or
 * "hwmon  -  unusable  no hwmon device ...". */
void eb_meters_print(FILE *f, const eb_meter_set *set);

/* A command meter: `command` (run with sh -c, killed after timeout_s, default 1 s) prints
 * either one number (watts) or Raspberry Pi 5 `vcgencmd pmic_read_adc` lines
 * ("NAME_A current(N)=XA", "NAME_V volt(N)=YV"); then power is the sum of V*I over rails
 * whose NAME (without _A/_V) matches the glob `rails` (NULL or "" = all).  Probes by running
 * it once: -1 with the reason (timeout, exit status, unparsable output) when unusable. */
int eb_meter_command(eb_meter *out, const char *name, const char *command, const char *rails,
                     double timeout_s, eb_err *err);

/* A callback meter (the scenario's Lua meter).  kind ENERGY: fn returns cumulative joules;
 * POWER: fn returns watts, sampled every interval_s (default 0.1 s; set out->interval_s to
 * change).  fn is called from the sampler thread while a session runs: the owner must not use
 * ctx (e.g. the Lua state) concurrently, or start the session with opts.manual = 1 and call
 * eb_meter_sample itself.  Probes by calling fn once: -1 with its message when it fails. */
int eb_meter_from_callback(eb_meter *out, eb_meter_kind kind, eb_meter_cb fn, void *ctx,
                           const char *name, eb_err *err);

/* ---- the sampler: one measured window ------------------------------------------------------ */

typedef struct eb_meter_opts {
    int min_updates;        /* eb_meter_enough's threshold; 0 = 5 */
    double poll_s;          /* sampling period; 0 = the sensor's interval (clamped to
                               10 ms..1 s) or 10 Hz; energy counters 10 Hz (catches wraps) */
    int manual;             /* 1: no thread; the caller calls eb_meter_sample (tests, or a
                               callback that must run on the caller's thread) */
    double (*clock)(void *ctx);   /* seconds, monotonic; NULL = CLOCK_MONOTONIC */
    void *clock_ctx;
} eb_meter_opts;

typedef struct eb_meter_result {
    int ok;                 /* 0: joules/watts are not valid; reason says why */
    char reason[1024];
    double joules;          /* gross energy over the window */
    double seconds;         /* window length (first to last reading) */
    double watts;           /* joules / seconds */
    long samples;           /* readings taken (start and stop included) */
    long updates;           /* sensor update periods the window spans (seconds/interval) */
    char source[96];        /* meter name, e.g. "rapl:package" */
} eb_meter_result;

typedef struct eb_meter_session eb_meter_session;

/* Takes the first reading and (unless opts->manual) starts the sampling thread.  opts may
 * be NULL.  The meter must outlive the session.  NULL with a reason when the first reading
 * fails or the meter is unusable. */
eb_meter_session *eb_meter_start(eb_meter *m, const eb_meter_opts *opts, eb_err *err);

/* Takes one reading now (manual sessions; harmless on threaded ones).  -1 once the sensor
 * failed (the failure is kept and reported by eb_meter_stop). */
int eb_meter_sample(eb_meter_session *s);

/* 1 once the window holds enough to trust: at least min_updates sensor intervals and
 * readings (power), or min_updates intervals and counter steps (energy), as of the latest
 * reading.  1 also after a failure (stretching the loop would not help).  Cheap: no I/O. */
int eb_meter_enough(const eb_meter_session *s);

/* Takes the last reading, stops the thread, fills *r and frees s.  Returns 0 when r->ok, else
 * -1 with r->reason (also in err).  A sensor that vanished mid-window gives -1, never a
 * number. */
int eb_meter_stop(eb_meter_session *s, eb_meter_result *r, eb_err *err);

/* Idle baseline: measures for `seconds` (stretched until enough, at most 3x + 1 s) with
 * nothing else started, and writes the average watts. */
int eb_meter_idle(eb_meter *m, double seconds, double *watts, eb_err *err);

#endif
