/* `edgebench report RESULTS_DIR [--out DIR] [--format png|svg]`: plots, index.html and
 * report.md from a finished run, and the recommendation on stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "recommend.h"
#include "report.h"
#include "run_data.h"

/* mkdir -p: the --out directory and its parents. */
static int report_mkdirs(const char *dir, eb_err *err)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return eb_errf(err, "%.100s...: --out path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return eb_errf(err, "%s: cannot create (%s); give --out a writable directory", path,
                           strerror(errno));
        *p = c;
        if (!c)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return eb_errf(err, "%s: not a directory; give --out a directory", dir);
    return 0;
}

int eb_cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *format = "png";
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "--format") == 0) && i + 1 >= argc)
            return eb_cmd_fail("report: %s needs a value; see 'edgebench help report'", argv[i]);
        if (strcmp(argv[i], "--out") == 0)
            out = argv[++i];
        else if (strcmp(argv[i], "--format") == 0)
            format = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return eb_cmd_fail("report: unknown option '%s'; see 'edgebench help report'", argv[i]);
        else if (!dir)
            dir = argv[i];
        else
            return eb_cmd_fail("report: one RESULTS_DIR only ('%s' is extra)", argv[i]);
    }
    if (!dir)
        return eb_cmd_fail("report: which run? usage: edgebench report RESULTS_DIR [--out DIR] "
                           "[--format png|svg]");
    if (strcmp(format, "png") != 0 && strcmp(format, "svg") != 0)
        return eb_cmd_fail("report: --format is '%s'; use png or svg", format);
    if (!out)
        out = dir;

    eb_err err = {{0}};
    eb_run_data d;
    if (eb_run_read(dir, &d, &err) != 0)
        return eb_cmd_fail("%s", err.msg);
    static const char *const need[] = {"variant", "backend", "status"};
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
        if (eb_run_column(&d, need[k]) < 0) {
            eb_run_free(&d);
            return eb_cmd_fail("%s/results.csv: no '%s' column, not a results file of edgebench "
                               "run; give the directory `edgebench run` wrote",
                               dir, need[k]);
        }
    if (d.n_rows == 0) {
        eb_run_free(&d);
        return eb_cmd_fail("%s/results.csv: no trials; run the scenario to the end first", dir);
    }
    eb_recommendation rec;
    if (eb_recommend(&d, &rec, &err) != 0) {
        eb_run_free(&d);
        return eb_cmd_fail("%s", err.msg);
    }
    int rc = 0;
    eb_report_plots plots;
    char html[1100], md[1100];
    snprintf(html, sizeof html, "%s/index.html", out);
    snprintf(md, sizeof md, "%s/report.md", out);
    if (report_mkdirs(out, &err) != 0 ||
        eb_report_make_plots(&d, &rec, out, format, &plots, &err) != 0) {
        rc = eb_cmd_fail("%s", err.msg);
        goto done;
    }
    if (plots.warning[0])
        fprintf(stderr, "edgebench: warning: %s\n", plots.warning);
    if (eb_report_write_html(&d, &rec, &plots, html, &err) != 0 ||
        eb_report_write_md(&d, &rec, &plots, md, &err) != 0 ||
        eb_recommend_print(stdout, &d, &err) != 0) {
        rc = eb_cmd_fail("%s", err.msg);
        goto done;
    }
    size_t drawn = 0;
    for (size_t k = 0; k < plots.n; k++)
        drawn += plots.plot[k].ok != 0;
    printf("\nreport: %s, %s (%zu plots in %s/plots)\n", html, md, drawn, out);
done:
    eb_recommend_free(&rec);
    eb_run_free(&d);
    return rc;
}
