/* `edgebench help [COMMAND|BACKEND]` */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "commands.h"

static const struct {
    const char *name, *usage, *text;
} help_topics[] = {
    {"run", "edgebench run SCENARIO.lua [--out DIR] [--quick] [--set KEY=VALUE]... [-q] [--progress]",
     "Runs every trial of a scenario (variants x backends x threads x cores x batch), each in\n"
     "its own process, and writes OUT/results.csv, OUT/samples.csv and OUT/run.csv.\n"
     "  --out DIR        where results go (default: the scenario's output, results/NAME)\n"
     "  --quick          shrink warm-up, iterations and dataset so a scenario takes seconds\n"
     "  --set KEY=VALUE  set an option the scenario declares with option(KEY, default, help)\n"
     "  -q, --quiet      no progress and no summary\n"
     "  --progress       progress on stderr even when it is not a terminal\n"
     "Exit: 0 every trial ok (or unsupported: a backend lacking a format or operator the variant\n"
     "needs), 1 some trial failed/crashed/timed out, 2 usage or input error."},
    {"infer", "edgebench infer --backend NAME MODEL [--input [NAME=]X.npy]... [--output Y.npy]... [--set KEY=VALUE]... [--threads N] [--profile]",
     "Runs a model once on the given inputs and writes its outputs as .npy files, in the\n"
     "model's output order (numerical debugging).  Without --output, prints each output's\n"
     "name, shape and first values.  Without --input, feeds seeded uniform [0,1) values.\n"
     "The batch size is taken from the first input's leading dimension.\n"
     "  --set KEY=VALUE  a backend option (see 'edgebench help BACKEND')\n"
     "  --threads N      worker threads the backend may use\n"
     "  --profile        time every node over 20 more runs and print the table (ref)\n"
     "Exit: 0 ok, 1 the backend failed to run the model, 2 usage or input error."},
    {"backends", "edgebench backends",
     "Lists each backend, its model formats, and whether it is available here (and why not):\n"
     "the built-ins, then plugins (backend-NAME.so from $EDGEBENCH_BACKEND_PATH, colon-separated,\n"
     "then ../lib/edgebench and ../build/lib/edgebench beside the executable's directory), then\n"
     "the plugins it refused and why (dlopen error, missing symbol, backend API version)."},
    {"info", "edgebench info", "Describes this device as hwloc and the OS see it: CPU, cores, caches, core kinds,\nmemory, OS, compiler, frequency governor, load."},
    {"report", "edgebench report RESULTS_DIR [--out DIR] [--format png|svg]",
     "Reads a finished run (results.csv, samples.csv, run.csv) and writes OUT/index.html (one\n"
     "self-contained page: recommendation, trials with confidence intervals, plots, device),\n"
     "OUT/report.md (the same, short, for a CI comment) and OUT/plots/*.gp with their images.\n"
     "Prints the recommendation: the scenario's constraints (run.csv constraint.*) and objective\n"
     "pick one configuration; every other one is ranked or excluded with its reason.\n"
     "  --out DIR        where to write (default: RESULTS_DIR itself)\n"
     "  --format FMT     png (default) or svg plots; gnuplot missing: plots skipped, one warning\n"
     "Exit: 0 written, 2 usage error or RESULTS_DIR missing or not a run."},
    {"compare", "edgebench compare BASE_DIR CURRENT_DIR [--threshold 5%] [--junit FILE] [--markdown FILE] [--force]",
     "Did the current run regress against the base?  Trials are matched by identity (scenario,\n"
     "variant, backend, threads, cores, batch, mode).  Latency: the ratio of medians\n"
     "current/base with a seeded bootstrap 95% CI from the raw samples and a Mann-Whitney U\n"
     "p-value; regressed only when p < 0.05 AND the whole CI is above 1 + threshold (improved:\n"
     "below 1 - threshold).  Not comparable: missing on one side, a status other than ok, fewer\n"
     "than 20 samples.  Runs from different devices (run.csv fingerprint) are refused.\n"
     "  --threshold P            practical latency threshold, percent (default 5%)\n"
     "  --accuracy-tolerance P   top-1 drop that regresses, in points (default 0.5)\n"
     "  --memory-tolerance P     peak RSS growth that regresses, percent (default 10%)\n"
     "  --energy-tolerance P     energy per inference growth that regresses (default 10%)\n"
     "  --junit FILE             JUnit XML: one testcase per trial and metric (- : stdout)\n"
     "  --markdown FILE          Markdown summary, for a CI comment (- : stdout)\n"
     "  --force                  compare runs from different devices anyway\n"
     "  -q, --quiet              no table on stdout\n"
     "Exit: 0 no regression, 1 some metric regressed, 2 usage or input error."},
    {"history", "edgebench history DIR... [--out DIR] [--threshold 5%] [--format png|svg]",
     "p50/p99 of every configuration over many runs, oldest first (run.csv started_at), with\n"
     "each run's git commit, and where a step change began: binary segmentation over the runs,\n"
     "each split pooling the raw samples either side; flagged when the pooled medians differ by\n"
     "more than the threshold and a Mann-Whitney test between the pools gives p < 0.01.\n"
     "  --out DIR       write a gnuplot trend plot per configuration there (gnuplot is run as\n"
     "                  a program; without it the plots are skipped with a warning)\n"
     "  --threshold P   smallest step worth flagging, percent (default 5%)\n"
     "  --format F      png (default) or svg\n"
     "Exit: 0 (a step is reported, not an error: gate builds with compare), 2 bad input."},
    {"help", "edgebench help [COMMAND|BACKEND]", "Shows help for a command, or a backend's options."},
};

#define N_TOPICS (sizeof help_topics / sizeof help_topics[0])

static int help_backend(const eb_backend_i *b)
{
    printf("backend %s: %s\nformats: %s\n", b->name, b->description, b->formats);
    if (b->operators)
        printf("operators: %s\n", b->operators());
    if (!b->options || !b->options[0].key) {
        printf("options: none\n");
        return 0;
    }
    printf("options (scenario: backend_options = { %s = { KEY = VALUE } }):\n", b->name);
    for (const eb_option_spec *o = b->options; o->key; o++)
        printf("  %-14s %-7s default %-8s %s\n", o->key, o->type,
               o->default_value && o->default_value[0] ? o->default_value : "\"\"", o->help);
    return 0;
}

int eb_cmd_help(int argc, char **argv)
{
    if (argc >= 1) {
        for (size_t i = 0; i < N_TOPICS; i++)
            if (strcmp(argv[0], help_topics[i].name) == 0) {
                printf("usage: %s\n\n%s\n", help_topics[i].usage, help_topics[i].text);
                return 0;
            }
        const eb_backend_i *b = eb_backend_find(argv[0]);
        if (b)
            return help_backend(b);
        return eb_cmd_fail("no help for '%s'; try a command (run, infer, backends, info) or a "
                           "backend name",
                           argv[0]);
    }
    printf("edgebench %s: benchmark and evaluate small AI models on the device itself.\n\n"
           "usage:\n",
           EB_VERSION);
    for (size_t i = 0; i < N_TOPICS; i++)
        printf("  %s\n", help_topics[i].usage);
    printf("  edgebench --version\n\n'edgebench help COMMAND' says more; README.md has the "
           "scenario API and the result columns.\n");
    return 0;
}
