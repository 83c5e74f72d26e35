/* The runner: expands a scenario into trials (variants x backends x threads x cores x batch),
 * runs each trial in a forked child, and appends each finished trial to the result files at
 * once, so a crash, a hang or a kill loses nothing already measured. */
#ifndef EB_RUNNER_H
#define EB_RUNNER_H

#include "err.h"
#include "scenario.h"

typedef struct eb_run_opts {
    const char *out_dir;      /* overrides the scenario's output */
    int quiet;                /* -q: no progress, no summary */
    int progress;             /* 1: progress on stderr even when it is not a terminal or -q */
    const char *command_line; /* recorded in run.csv */
    int quick;                /* recorded in run.csv */
} eb_run_opts;

/* Returns the exit code: 0 when every trial is ok, 1 when some trial failed, crashed or
 * timed out, 2 on an input error (dataset, output directory, hook). */
int eb_runner_run(eb_scenario *s, const eb_run_opts *o, eb_err *err);

#endif
