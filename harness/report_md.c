/* report.md: the report in Markdown, short enough for a CI comment (about 60 lines): the
 * device in one line, the recommendation, one compact table; index.html has the rest. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Table rows beyond which the Markdown points at index.html instead. */
#define MD_MAX_ROWS 40

/* A table cell: pipes escaped, newlines flattened. */
static void md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void md_num(FILE *f, double v, const char *fmt)
{
    fputs(" | ", f);
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fputs("-", f);
}

int eb_report_write_md(const eb_run_data *d, const eb_recommendation *rec,
                       const eb_report_plots *plots, const char *path, eb_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return eb_errf(err, "%s: cannot write (%s); check the --out directory", path, strerror(errno));
    const char *scenario = eb_run_meta(d, "scenario");
    if (!scenario[0] && d->n_rows)
        scenario = eb_run_cell(d, 0, "scenario");
    fprintf(f, "## edgebench report: ");
    md_cell(f, scenario);
    fputs("\n\n", f);

    /* The device in one line. */
    const char *cpu = eb_run_meta(d, "cpu_model"), *arch = eb_run_meta(d, "arch");
    fprintf(f, "**Device:** %s%s%s, %s cores / %s threads, %s, governor %s, fingerprint `%s`\n\n",
            cpu[0] ? cpu : "unknown CPU", arch[0] ? " " : "", arch, eb_run_meta(d, "cores"),
            eb_run_meta(d, "pus"), eb_run_meta(d, "os"), eb_run_meta(d, "governor"),
            eb_run_meta(d, "fingerprint"));
    fprintf(f, "**Run:** %s, commit %s, %zu trials%s\n\n", eb_run_meta(d, "run_id"),
            eb_run_meta(d, "git_commit"), d->n_rows,
            strcmp(eb_run_meta(d, "quick"), "true") == 0 ? " (quick)" : "");

    char cons[256], label[256];
    eb_recommend_constraints_text(rec, cons, sizeof cons);
    fprintf(f, "### Recommendation\n\nObjective: %s. Constraints: %s.\n", eb_recommend_objective_text(rec), cons);
    if (rec->note[0])
        fprintf(f, "Note: %s.\n", rec->note);
    if (rec->chosen < 0) {
        fputs("\n**No configuration meets the constraints.**\n", f);
    } else {
        const eb_rec_row *r = &rec->rows[rec->chosen];
        eb_recommend_label(d, r->row, label, sizeof label);
        fprintf(f, "\n**Ship: %s** — p50 %.4g ms, p99 %.4g ms", label,
                eb_run_num(d, r->row, "latency_p50_ms"), eb_run_num(d, r->row, "latency_p99_ms"));
        double acc = eb_run_num(d, r->row, "accuracy_top1");
        if (isfinite(acc))
            fprintf(f, ", top-1 %.2f%%", acc * 100);
        double rss = eb_run_num(d, r->row, "peak_rss_kb");
        if (isfinite(rss))
            fprintf(f, ", peak %.0f kB", rss);
        fputs("\n", f);
        int first = 1;
        for (size_t k = 0; k < rec->n; k++)
            if (rec->rows[k].state == EB_REC_RUNNER_UP) {
                eb_recommend_label(d, rec->rows[k].row, label, sizeof label);
                fprintf(f, "%s%s", first ? "Runners-up: " : "; ", label);
                first = 0;
            }
        if (!first)
            fputs(".\n", f);
    }

    fputs("\n| configuration | status | p50 ms | p99 ms | top-1 | peak kB | verdict |\n"
          "|---|---|--:|--:|--:|--:|---|\n", f);
    size_t shown = 0;
    for (size_t k = 0; k < rec->n && shown < MD_MAX_ROWS; k++, shown++) {
        const eb_rec_row *r = &rec->rows[k];
        eb_report_short_label(d, r->row, label, sizeof label);
        fputs("| ", f);
        md_cell(f, label);
        fputs(" | ", f);
        md_cell(f, eb_run_cell(d, r->row, "status"));
        md_num(f, eb_run_num(d, r->row, "latency_p50_ms"), "%.4g");
        md_num(f, eb_run_num(d, r->row, "latency_p99_ms"), "%.4g");
        md_num(f, eb_run_num(d, r->row, "accuracy_top1") * 100, "%.2f%%");
        md_num(f, eb_run_num(d, r->row, "peak_rss_kb"), "%.0f");
        fputs(" | ", f);
        switch (r->state) {
        case EB_REC_CHOSEN:
            fputs("**pick**", f);
            break;
        case EB_REC_RUNNER_UP:
            fprintf(f, "runner-up (%d)", r->rank);
            break;
        case EB_REC_ELIGIBLE:
            fprintf(f, "eligible (%d)", r->rank);
            break;
        case EB_REC_EXCLUDED:
            fputs("excluded: ", f);
            /* Long reasons (a crash's message) would wreck the table. */
            char reason[160];
            snprintf(reason, sizeof reason, "%.159s", r->reason);
            if (strlen(r->reason) >= sizeof reason)
                memcpy(reason + sizeof reason - 4, "...", 4);
            md_cell(f, reason);
            break;
        }
        fputs(" |\n", f);
    }
    if (rec->n > shown)
        fprintf(f, "\n%zu more trials in index.html.\n", rec->n - shown);
    size_t drawn = 0;
    for (size_t k = 0; k < plots->n; k++)
        drawn += plots->plot[k].ok != 0;
    fprintf(f, "\nPlots (%zu) and full statistics with confidence intervals: index.html.", drawn);
    if (plots->warning[0])
        fprintf(f, " Warning: %s.", plots->warning);
    fputs("\n", f);
    if (ferror(f) | (fclose(f) != 0))
        return eb_errf(err, "%s: write failed; check free space", path);
    return 0;
}
