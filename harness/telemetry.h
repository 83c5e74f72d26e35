/* Device state over time: thermal zones, cpufreq policies, thermal_throttle counters and
 * Raspberry Pi's get_throttled, sampled into OUT/telemetry.csv during each trial, and a
 * per-trial verdict on whether the device throttled.
 *
 * How the runner (the parent, which waits for the trial child on a pipe with poll) uses it:
 *
 *     eb_telemetry *tele;
 *     eb_telemetry_open(&tele, NULL, &err);          // once per run: probes what exists
 *     FILE *csv = fopen("OUT/telemetry.csv", "w");
 *     fputs(eb_telemetry_csv_header(), csv);
 *     double idle_c = eb_telemetry_hottest_c(tele);  // idle temperature, for the cooldown gate
 *     for each trial:
 *         (cooldown gate: eb_cooldown_wait with eb_telemetry_hottest_c as the temperature)
 *         eb_telemetry_begin(tele, pus);             // pus: the trial's CPUs ("0-3"), or NULL
 *         double t0 = eb_now_ms();
 *         eb_telemetry_sample(tele, 0, csv, run_id, label);
 *         fork the child; in the poll loop, every ~100 ms (poll timeout):
 *             eb_telemetry_sample(tele, eb_now_ms() - t0, csv, run_id, label);
 *         after the child is reaped:
 *         eb_telemetry_sample(tele, eb_now_ms() - t0, csv, run_id, label);
 *         eb_telemetry_summary s;
 *         eb_telemetry_end(tele, &s);
 *         for each c in eb_telemetry_columns(): eb_telemetry_field(&s, c, buf, n) -> results.csv
 *     eb_telemetry_close(tele);
 *
 * eb_telemetry_sample is cheap: one small read per thermal zone and two per policy (tens of
 * microseconds on a board), plus, at most once per second and only where get_throttled is
 * configured, one run of that command (a fork+exec, a few ms on a Pi).  Throttle counters are
 * read only at begin and end (they are cumulative).
 *
 * Every sysfs read goes through sysfs.h's root (EDGEBENCH_SYSFS).  A sensor that vanishes
 * mid-run (a zone unbound, a CPU hot-unplugged) just stops producing rows.
 *
 * telemetry.csv, long format, one row per sensor per sample:
 *     run_id   the run's id (as in results.csv)
 *     trial    the trial's label (as the runner names it in results.csv)
 *     t_ms     milliseconds since the trial started (the caller's clock, CLOCK_MONOTONIC)
 *     sensor   "thermal_zone0/x86_pkg_temp" (zone/type), "policy0/cur_freq",
 *              "policy0/max_freq"
 *     value    the reading, in `unit`
 *     unit     "C" (degrees Celsius) or "MHz"
 *
 * Throttling verdict (eb_telemetry_end), any of:
 *   - a thermal_throttle counter grew during the trial: core_throttle_count of the trial's
 *     CPUs, package_throttle_count of any CPU ("cpu0 core_throttle_count +3");
 *   - a policy's scaling_max_freq fell below its value at begin (a thermal cooling device
 *     capping it: "policy0 max 2.4 GHz -> 1.8 GHz");
 *   - a policy covering the trial's CPUs ran below freq_drop_pct of the highest frequency it had
 *     reached so far in the trial, in at least low_share of the samples and at least 2 of them
 *     ("policy0 1.2 GHz < 90% of 2.4 GHz").  The reference is the running peak, not
 *     scaling_max_freq, because under load x86 runs all-core turbo well below the single-core
 *     maximum that scaling_max_freq reports, and that is not throttling;
 *   - get_throttled's "currently" bits (0-3) were set at any poll, or its "has occurred" bits
 *     (16-19) became set during the trial ("rpi: under-voltage, throttled").
 * throttled is -1 (unknown: the column stays empty) when the device has none of these sources.
 *
 * get_throttled bits (Raspberry Pi firmware, `vcgencmd get_throttled` -> "throttled=0x50005"):
 *   0 under-voltage now, 1 ARM frequency capped now, 2 throttled now, 3 soft temperature limit
 *   now; 16-19: the same conditions have occurred since boot.
 */
#ifndef EB_TELEMETRY_H
#define EB_TELEMETRY_H

#include <stdio.h>

#include "err.h"

typedef struct eb_telemetry eb_telemetry;

typedef struct eb_telemetry_opts {
    /* Command printing "throttled=0x..." (stderr is discarded).  NULL: "vcgencmd
     * get_throttled" when vcgencmd is on PATH, else none; "": none. */
    const char *throttled_cmd;
    double freq_drop_pct;   /* 0: 90 (percent of the running peak frequency) */
    double low_share;       /* 0: 0.25 (share of samples that must be low) */
    double cmd_every_ms;    /* 0: 1000 (how often sample() may run throttled_cmd) */
} eb_telemetry_opts;

typedef struct eb_telemetry_summary {
    int throttled;        /* 1 yes, 0 no, -1 nothing on this device can tell */
    char reason[256];     /* why throttled; why unknown when -1; "" when 0 */
    double temp_start_c;  /* hottest zone at begin; NAN without readable zones */
    double temp_end_c;    /* hottest zone at end */
    double temp_max_c;    /* hottest reading at begin, any sample, or end */
    double freq_mhz_mean; /* mean scaling_cur_freq over samples and the trial's policies; NAN
                           * without cpufreq or samples */
    int samples;          /* sample() calls since begin */
} eb_telemetry_summary;

/* Probes thermal zones, cpufreq policies, throttle counters and the get_throttled command.
 * Finding none of them is not an error (a VM has none); fails only on bad options or memory.
 * opts may be NULL (defaults). */
int eb_telemetry_open(eb_telemetry **t, const eb_telemetry_opts *opts, eb_err *err);
void eb_telemetry_close(eb_telemetry *t);

/* One line for run.csv / `info`: "2 thermal zones, 4 cpufreq policies, thermal_throttle on 4
 * cpus, get_throttled: none". */
void eb_telemetry_describe(const eb_telemetry *t, char *buf, size_t n);

/* "run_id,trial,t_ms,sensor,value,unit\n": the caller writes it once at the top of the file. */
const char *eb_telemetry_csv_header(void);

/* Starts a trial: records the start state (temperatures, frequencies, max frequencies, throttle
 * counters, get_throttled).  cpus ("0-3,6" or "0 1 2"; NULL or "" for all) restricts the
 * frequency checks, freq_mhz_mean and core throttle counters to the trial's CPUs. */
void eb_telemetry_begin(eb_telemetry *t, const char *cpus);

/* Reads zones and policies, appends one row per reading to csv (NULL: no rows, only the
 * statistics), and updates the trial's statistics.  Returns the number of rows written, or -1
 * if writing csv failed. */
int eb_telemetry_sample(eb_telemetry *t, double t_ms, FILE *csv, const char *run_id,
                        const char *trial_label);

/* Ends the trial: reads the end state and fills s with the verdict and statistics. */
void eb_telemetry_end(eb_telemetry *t, eb_telemetry_summary *s);

/* The hottest readable zone now, in degrees C; NAN when no zone can be read. */
double eb_telemetry_hottest_c(eb_telemetry *t);

/* The results.csv columns this module fills, NULL-terminated: throttled, throttle_reason,
 * temp_start_c, temp_end_c, temp_max_c, freq_mhz_mean. */
const char *const *eb_telemetry_columns(void);

/* Formats one column's cell ("" when not measured; throttled is "true"/"false"/"").  An unknown
 * column gives "". */
void eb_telemetry_field(const eb_telemetry_summary *s, const char *column, char *buf, size_t n);

#endif
