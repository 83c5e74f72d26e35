/* Hardware and software event counters of the calling process (perf_event_open), for one trial.
 *
 * How a trial uses it (in the trial's child process, which is the process being measured):
 *
 *     eb_perf perf;
 *     eb_perf_open(&perf);            // BEFORE the backend opens: `inherit` only follows threads
 *                                     // created after this call, so a backend's thread pool
 *                                     // made in open() is counted only if we open first
 *     ... open backend, load model, warm up ...
 *     eb_perf_start(&perf);           // reset + enable, right before the timed loop
 *     ... timed loop: `iterations` inferences ...
 *     eb_perf_stop(&perf);            // disable, right after it
 *     eb_perf_value v[EB_PERF_N];
 *     eb_perf_read(&perf, v);
 *     eb_perf_close(&perf);
 *     // per column of eb_perf_columns(): eb_perf_column_format(col, v, iterations, buf, n)
 *     // and one companion column: eb_perf_unsupported(v, buf, n)
 *
 * Counters are individual fds (no groups: `inherit` forbids group reads), each read with
 * TOTAL_TIME_ENABLED/RUNNING so a counter the PMU multiplexed is scaled to the whole window.
 * Counts include every thread of the process (inherit), user and kernel mode where the
 * kernel allows kernel mode (perf_event_paranoid), else user mode only (noted in `why`).
 * task-clock is CPU time summed over threads, so it can exceed wall time with threads > 1.
 * None of this fails the trial: a counter that cannot be opened is "unsupported" with a reason.
 */
#ifndef EB_PERF_COUNTERS_H
#define EB_PERF_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

typedef enum eb_perf_id {
    EB_PERF_CYCLES,           /* hardware */
    EB_PERF_INSTRUCTIONS,
    EB_PERF_CACHE_REFERENCES,
    EB_PERF_CACHE_MISSES,
    EB_PERF_BRANCH_MISSES,
    EB_PERF_TASK_CLOCK,       /* software: milliseconds of CPU time */
    EB_PERF_CONTEXT_SWITCHES,
    EB_PERF_PAGE_FAULTS,
    EB_PERF_CPU_MIGRATIONS,
    EB_PERF_N
} eb_perf_id;

typedef struct eb_perf {
    int fd[EB_PERF_N];            /* -1 when unsupported */
    int user_only[EB_PERF_N];     /* 1: opened with exclude_kernel (paranoid) */
    char why[EB_PERF_N][96];      /* reason when fd is -1 */
} eb_perf;

typedef struct eb_perf_value {
    int supported;                /* 1: value holds a count */
    double value;                 /* scaled count; task-clock in ms */
    int multiplexed;              /* 1: scaled up because the PMU ran it part of the time */
    char why[96];                 /* reason when not supported */
} eb_perf_value;

/* One results.csv column: counter value divided by the iteration count (per_inference) or the
 * total over the timed window. */
typedef struct eb_perf_column {
    const char *column;
    eb_perf_id counter;
    int per_inference;
} eb_perf_column;

/* Opens every counter, disabled.  Never fails as a whole; returns how many counters opened. */
int eb_perf_open(eb_perf *p);
/* Resets and enables every open counter (and the inherited ones of existing threads). */
void eb_perf_start(eb_perf *p);
/* Disables every open counter. */
void eb_perf_stop(eb_perf *p);
/* Reads every counter into out[EB_PERF_N]; a counter whose read fails becomes unsupported. */
void eb_perf_read(const eb_perf *p, eb_perf_value *out);
/* Closes the fds; safe to call twice. */
void eb_perf_close(eb_perf *p);

/* perf's own name of a counter ("cycles", "task-clock", ...). */
const char *eb_perf_name(eb_perf_id id);

/* The results.csv columns, in order; *n receives their count. */
const eb_perf_column *eb_perf_columns(size_t *n);

/* Formats one column's cell: "%.6g" of value (divided by iterations when per_inference), or ""
 * when the counter is unsupported or iterations <= 0. */
void eb_perf_column_format(const eb_perf_column *c, const eb_perf_value *v, long iterations,
                           char *buf, size_t n);

/* The companion column "perf_unsupported": unsupported counters grouped by reason,
 * e.g. "cycles, instructions: not supported by this CPU/VM"; "" when every counter worked. */
void eb_perf_unsupported(const eb_perf_value *v, char *buf, size_t n);

/* Reason text for an errno from perf_event_open (after the user-mode-only retry), given
 * perf_event_paranoid (-99 unknown) and whether the process is root.  A refusal that neither
 * explains (root, or a level that allows user-mode counting) comes from a policy: a container's
 * seccomp filter or a security module. */
void eb_perf_errno_reason(int errnum, int paranoid, int root, char *buf, size_t n);

/* Count scaled for multiplexing: raw * enabled / running; -1 when running is 0 (the counter
 * never got onto the PMU, so there is nothing to scale). */
double eb_perf_scale(uint64_t raw, uint64_t enabled, uint64_t running);

#endif
