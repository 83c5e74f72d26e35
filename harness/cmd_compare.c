/* `edgebench compare BASE_DIR CURRENT_DIR`: did the current run regress against the base?
 * Exit 1 on any regression, 0 otherwise, 2 on bad input (compare.h has the rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "compare.h"
#include "run_data.h"

static int compare_percent_arg(const char *flag, const char *value, double *out)
{
    if (!value)
        return eb_cmd_fail("compare: %s needs a value, e.g. %s 5%%", flag, flag);
    if (eb_compare_parse_percent(value, out) != 0)
        return eb_cmd_fail("compare: %s '%s' is not a percentage; write e.g. 5%% or 0.5", flag,
                           value);
    return 0;
}

int eb_cmd_compare(int argc, char **argv)
{
    eb_compare_opts o;
    eb_compare_opts_default(&o);
    const char *dirs[2] = {NULL, NULL}, *junit = NULL, *markdown = NULL;
    int n_dirs = 0, force = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--threshold") == 0) {
            if (compare_percent_arg(a, v, &o.threshold))
                return 2;
            i++;
        } else if (strcmp(a, "--accuracy-tolerance") == 0) {
            if (compare_percent_arg(a, v, &o.accuracy_tolerance))
                return 2;
            i++;
        } else if (strcmp(a, "--memory-tolerance") == 0) {
            if (compare_percent_arg(a, v, &o.memory_tolerance))
                return 2;
            i++;
        } else if (strcmp(a, "--energy-tolerance") == 0) {
            if (compare_percent_arg(a, v, &o.energy_tolerance))
                return 2;
            i++;
        } else if (strcmp(a, "--junit") == 0 || strcmp(a, "--markdown") == 0) {
            if (!v)
                return eb_cmd_fail("compare: %s needs a file name", a);
            *(a[2] == 'j' ? &junit : &markdown) = v;
            i++;
        } else if (strcmp(a, "--force") == 0) {
            force = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return eb_cmd_fail("compare: unknown option '%s'; see 'edgebench help compare'", a);
        } else if (n_dirs < 2) {
            dirs[n_dirs++] = a;
        } else {
            return eb_cmd_fail("compare: takes two directories (BASE CURRENT), got a third: '%s'",
                               a);
        }
    }
    if (n_dirs != 2)
        return eb_cmd_fail("compare: usage: edgebench compare BASE_DIR CURRENT_DIR [--threshold "
                           "5%%] [--junit FILE] [--markdown FILE] [--force]");

    eb_run_data base, cur;
    eb_err err;
    if (eb_run_read(dirs[0], &base, &err) != 0)
        return eb_cmd_fail("compare: base: %s", err.msg);
    if (eb_run_read(dirs[1], &cur, &err) != 0) {
        eb_run_free(&base);
        return eb_cmd_fail("compare: current: %s", err.msg);
    }

    int rc = 0;
    const char *fb = eb_run_meta(&base, "fingerprint"), *fc = eb_run_meta(&cur, "fingerprint");
    if (fb[0] && fc[0] && strcmp(fb, fc) != 0) {
        if (!force) {
            rc = eb_cmd_fail("compare: %s ran on device %s but %s on %s; latencies from two "
                             "devices are not comparable (pass --force to compare anyway)",
                             dirs[0], fb, dirs[1], fc);
            goto out;
        }
        fprintf(stderr, "edgebench: compare: warning: different devices (%s, %s), compared "
                        "because of --force\n",
                fb, fc);
    } else if (!fb[0] || !fc[0]) {
        fprintf(stderr, "edgebench: compare: warning: %s has no device fingerprint in run.csv; "
                        "cannot check both runs are from one device\n",
                !fb[0] ? dirs[0] : dirs[1]);
    }

    eb_compare_report rep;
    if (eb_compare_runs(&base, &cur, &o, &rep, &err) != 0) {
        rc = eb_cmd_fail("compare: %s", err.msg);
        goto out;
    }
    if (!quiet)
        eb_compare_print_table(stdout, &rep, &base, &cur);
    fflush(stdout);
    if (junit && eb_compare_write_junit(junit, &rep, &base, &cur, &err) != 0)
        rc = eb_cmd_fail("compare: %s", err.msg);
    else if (markdown && eb_compare_write_markdown(markdown, &rep, &base, &cur, &err) != 0)
        rc = eb_cmd_fail("compare: %s", err.msg);
    else
        rc = rep.regressed ? 1 : 0;
    eb_compare_report_free(&rep);
out:
    eb_run_free(&cur);
    eb_run_free(&base);
    return rc;
}
