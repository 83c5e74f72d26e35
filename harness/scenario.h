/* Scenarios: a Lua 5.4 file that returns scenario{...}, read into a plan the runner executes.
 * See README.md ("Scenarios") for the API.  The Lua state stays open while the scenario runs,
 * because hooks (setup, on_trial, done) are Lua functions called between trials.
 */
#ifndef EB_SCENARIO_H
#define EB_SCENARIO_H

#include <stddef.h>

#include "cooldown.h"
#include "dataset.h"
#include "err.h"
#include "loadgen.h"
#include "result.h"

struct lua_State;

extern const char *const eb_variant_kinds[]; /* "original", "quantized", ..., NULL */

/* A backend option from the scenario: backend_options = { mock = { latency_ms = 2 } }. */
typedef struct eb_scenario_option {
    char *backend, *key, *value;
} eb_scenario_option;


typedef struct eb_variant {
    char *name;
    char *kind;  /* one of eb_variant_kinds */
    char *model; /* path: absolute as given; else as given when it exists from the current
                  * directory, else joined to the scenario's directory; NULL only for variants
                  * of mock-only scenarios */
    char *base;  /* name of another variant, or NULL; bases form no cycle (checked at load) */
    /* appended for issue 4 */
    int has_dataset;         /* dataset = dataset.idx { ... }: the variant is measured on its
                              * own data (e.g. a shifted test set) instead of the scenario's,
                              * and its base is measured there too, for comparison */
    eb_dataset_spec dataset;
    eb_scenario_option *options; /* backend_options = { mock = { ... } }: applied after the
                                  * scenario's for this variant (later ones win) */
    size_t n_options;
} eb_variant;

typedef struct eb_measure {
    double warmup_s;      /* default 0.5 */
    long min_iterations;  /* default 100 */
    double min_time_s;    /* default 1 */
    double max_time_s;    /* default 30; caps the timed loop */
    int accuracy;         /* run the accuracy pass when the dataset has labels (default 1) */
    double timeout_s;     /* a trial's child is killed after this (default max_time + 120) */
    double precision;     /* > 0: stop early once p99's 95% interval is within this fraction
                             of p99 (after min_iterations and min_time); 0: off */
    int profile;          /* time every node (backends that can: ref) into OUT/ops.csv; the
                             per-node timers add a little to the trial's own latencies */
} eb_measure;

/* energy = { meter = "auto", idle = "1s", ... }: which meter reads joules (see meter.h). */
typedef struct eb_energy_spec {
    char *meter;     /* "auto" (default: the best usable source, none is fine), "none", a
                        source ("rapl", "hwmon", ...) or "source:domain", "command", "lua" */
    char *command;   /* meter = "command": prints watts (or Pi 5 pmic_read_adc lines) */
    char *rails;     /* command: glob of the rails to sum; NULL: all */
    int ref_read;    /* meter = "lua": function returning watts or cumulative joules */
    int read_joules; /* unit = "joules" (cumulative counter) rather than "watts" */
    double idle_s;   /* idle baseline before each trial (default 1 s, 0.2 s quick; 0: none) */
} eb_energy_spec;

/* server = { target_qps = 200, p99_ms = 10, duration = "5s", search = true } */
typedef struct eb_server_spec {
    double target_qps;  /* 0: not given (then search must be true) */
    double p99_ms;      /* 0: no latency bound */
    double duration_s;  /* arrival window of one server run (default 5 s) */
    int search;         /* also search the highest rate whose p99 keeps p99_ms */
} eb_server_spec;

/* An option the scenario declares with option(name, default, help), so `edgebench help
 * SCENARIO` can list what --set accepts.  All fields are text. */
typedef struct eb_scenario_param {
    char *name;
    char *type;          /* "number", "boolean" or "string" */
    char *default_value;
    char *help;          /* "" when none */
    char *value;         /* the value in effect: the --set one, else the default */
} eb_scenario_param;

/* A limit for choosing a configuration: constraints = { accuracy_drop = 0.01, p99_ms = 5 }
 * (also p50_ms, p90_ms, peak_rss_kb, energy_mj per inference); written to run.csv as
 * constraint.KEY so `edgebench report` can apply them. */
typedef struct eb_scenario_constraint {
    char *key;
    double value;
} eb_scenario_constraint;

typedef struct eb_scenario {
    char *path; /* the scenario file as given */
    char *name;
    int has_dataset;
    eb_dataset_spec dataset;
    eb_variant *variants;
    size_t n_variants;
    char **backends;
    size_t n_backends;
    int *threads;
    size_t n_threads;
    char **cores;
    size_t n_cores;
    int *batches;
    size_t n_batches;
    eb_measure measure;
    char *output; /* default output dir: "results/<name>" */
    eb_scenario_option *options;
    size_t n_options;

    struct lua_State *L;
    int ref_setup, ref_on_trial, ref_done; /* LUA_NOREF when absent */

    /* appended after the first version */
    char *description;               /* or NULL */
    eb_scenario_param *params;       /* declared options, in declaration order */
    size_t n_params;
    eb_scenario_constraint *constraints;
    size_t n_constraints;
    eb_load_mode *modes;   /* mode = "single_stream" | "offline" | "server", or a list */
    size_t n_modes;
    eb_server_spec server;
    int has_cooldown;      /* cooldown = { below_c = 55, within_c_of_idle = 3, max_wait = "120s" } */
    eb_cooldown_cfg cooldown;
    eb_energy_spec energy;
    char *objective; /* "latency" (default), "energy" or "size": what the recommendation minimises */
} eb_scenario;

/* A --set KEY=VALUE from the command line. */
typedef struct eb_setting {
    const char *key, *value;
} eb_setting;

/* Runs the scenario file and validates everything it names (kinds, backends, files, types).
 * On error: -1 and one line "FILE:LINE: what is wrong; what to do" in err ("FILE: ..." when no
 * line applies, e.g. an undeclared --set key); nothing is left to free, and eb_scenario_free
 * on `s` is still safe.  `quick` shrinks measurement and dataset (see scenarios/README.md,
 * "Quick mode"). */
int eb_scenario_load(const char *path, const eb_setting *sets, size_t n_sets, int quick,
                     eb_scenario *s, eb_err *err);
void eb_scenario_free(eb_scenario *s); /* also on a zeroed or already freed scenario */

/* Hooks, each called under lua_pcall; absent hooks succeed.  setup(scenario) gets the scenario
 * table; on_trial(row) the result row as a Lua table keyed by column name (numbers where the
 * field is numeric, nil where empty); done(rows) every row passed to on_trial so far.  A Lua
 * error returns -1 with "FILE:LINE: message" and leaves the state usable. */
int eb_scenario_setup(eb_scenario *s, eb_err *err);
int eb_scenario_on_trial(eb_scenario *s, const eb_result *row, eb_err *err);
int eb_scenario_done(eb_scenario *s, eb_err *err);

/* The Lua meter (energy.meter = "lua"): calls energy.read() under pcall and returns its number
 * in *value (watts or joules, as energy.unit says).  ctx is the eb_scenario.  Matches
 * meter.h's eb_meter_cb. */
int eb_scenario_meter_read(void *ctx, double *value, eb_err *err);

#endif
