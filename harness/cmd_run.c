/* `edgebench run SCENARIO.lua [--out DIR] [--quick] [--set KEY=VALUE]... [-q] [--progress]` */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "recommend.h"
#include "run_data.h"
#include "runner.h"
#include "scenario.h"

#define RUN_MAX_SETS 64

/* The command line as typed, for run.csv (quoting words that hold spaces). */
static void run_command_line(int argc, char **argv, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "edgebench run");
    for (int i = 0; i < argc && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, strchr(argv[i], ' ') ? " '%s'" : " %s",
                                 argv[i]);
}

int eb_cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    eb_setting sets[RUN_MAX_SETS];
    size_t n_sets = 0;
    eb_run_opts opts = {0};
    char cmdline[1024];
    eb_scenario s;
    eb_err err = {{0}};

    run_command_line(argc, argv, cmdline, sizeof cmdline); /* before --set splits its words */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (++i == argc)
                return eb_cmd_fail("run: %s needs a directory", a);
            opts.out_dir = argv[i];
        } else if (strcmp(a, "--quick") == 0) {
            opts.quick = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            opts.quiet = 1;
        } else if (strcmp(a, "--progress") == 0) {
            opts.progress = 1;
        } else if (strcmp(a, "--set") == 0) {
            char *eq;
            if (++i == argc || !(eq = strchr(argv[i], '=')) || eq == argv[i])
                return eb_cmd_fail("run: --set needs KEY=VALUE");
            if (n_sets == RUN_MAX_SETS)
                return eb_cmd_fail("run: at most %d --set options", RUN_MAX_SETS);
            *eq = '\0';
            sets[n_sets++] = (eb_setting){argv[i], eq + 1};
        } else if (a[0] == '-' && a[1]) {
            return eb_cmd_fail("run: unknown option '%s'; see 'edgebench help run'", a);
        } else if (path) {
            return eb_cmd_fail("run: one scenario at a time (got '%s' and '%s')", path, a);
        } else {
            path = a;
        }
    }
    if (!path)
        return eb_cmd_fail("run: which scenario? usage: edgebench run SCENARIO.lua");

    opts.command_line = cmdline;

    if (eb_scenario_load(path, sets, n_sets, opts.quick, &s, &err) != 0)
        return eb_cmd_fail("%s", err.msg);
    int code = eb_runner_run(&s, &opts, &err);
    if (code == 2)
        eb_cmd_fail("%s", err.msg);
    /* What to ship, by the scenario's objective and constraints (as `edgebench report`). */
    eb_run_data d;
    if (code != 2 && !opts.quiet &&
        eb_run_read_summary(opts.out_dir ? opts.out_dir : s.output, &d, &err) == 0) {
        printf("\n");
        eb_recommend_print(stdout, &d, &err);
        eb_run_free(&d);
    }
    eb_scenario_free(&s);
    return code;
}
