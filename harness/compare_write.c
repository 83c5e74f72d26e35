/* The compare report as a terminal table, JUnit XML and Markdown (see compare.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"

/* ---- cells shared by the three writers -------------------------------------------------- */

static void cw_num(char *buf, size_t n, const char *fmt, double v)
{
    if (isfinite(v))
        snprintf(buf, n, fmt, v);
    else
        snprintf(buf, n, "-");
}

static void cw_p(char *buf, size_t n, double p)
{
    if (!isfinite(p))
        snprintf(buf, n, "-");
    else if (p < 0.001)
        snprintf(buf, n, "<0.001");
    else
        snprintf(buf, n, "%.3f", p);
}

static void cw_ci(char *buf, size_t n, const eb_latency_cmp *l)
{
    if (isfinite(l->ci_lo))
        snprintf(buf, n, "[%.3f, %.3f]", l->ci_lo, l->ci_hi);
    else
        snprintf(buf, n, "-");
}

/* "x1.02", "-0.60pt" and the verdict when it is not "unchanged". */
static void cw_metric(char *buf, size_t n, const eb_metric_cmp *m, int absolute, int loud)
{
    if (m->verdict == EB_VERDICT_NOT_MEASURED || m->verdict == EB_VERDICT_NOT_COMPARABLE ||
        !isfinite(m->change)) {
        snprintf(buf, n, "-");
        return;
    }
    const char *tag = m->verdict == EB_VERDICT_REGRESSED  ? (loud ? " REGRESSED" : " regressed")
                      : m->verdict == EB_VERDICT_IMPROVED ? " improved"
                                                          : "";
    if (absolute)
        snprintf(buf, n, "%+.2fpt%s", m->change * 100, tag);
    else
        snprintf(buf, n, "x%.3f%s", m->change, tag);
}

static const char *cw_side(const eb_run_data *d, const char *key)
{
    const char *v = eb_run_meta(d, key);
    return v[0] ? v : "?";
}

static void cw_rule(char *buf, size_t n, const eb_compare_opts *o)
{
    snprintf(buf, n,
             "latency regressed when p < %g and the whole %g%% CI of the median ratio is above "
             "%.3f; top-1 drop > %g pt, peak memory > x%.2f, energy > x%.2f",
             o->alpha, o->confidence * 100, 1 + o->threshold, o->accuracy_tolerance * 100,
             1 + o->memory_tolerance, 1 + o->energy_tolerance);
}

static void cw_counts(char *buf, size_t n, const eb_compare_report *rep)
{
    snprintf(buf, n, "%zu regressed, %zu improved, %zu unchanged, %zu not comparable",
             rep->regressed, rep->improved, rep->unchanged, rep->not_comparable);
}

/* ---- terminal table --------------------------------------------------------------------- */

void eb_compare_print_table(FILE *f, const eb_compare_report *rep, const eb_run_data *base,
                            const eb_run_data *cur)
{
    char rule[320], counts[128];
    cw_rule(rule, sizeof rule, &rep->opts);
    cw_counts(counts, sizeof counts, rep);
    fprintf(f, "base:    %s (commit %s, %s)\ncurrent: %s (commit %s, %s)\n", base->dir,
            cw_side(base, "git_commit"), cw_side(base, "started_at"), cur->dir,
            cw_side(cur, "git_commit"), cw_side(cur, "started_at"));
    fprintf(f, "rule:    %s\n\n", rule);
    size_t w = 5;
    char label[400];
    for (size_t i = 0; i < rep->n; i++) {
        eb_compare_entry_label(&rep->entries[i], label, sizeof label);
        if (strlen(label) > w)
            w = strlen(label);
    }
    fprintf(f, "%-*s %9s %9s %7s %-16s %7s  %-14s %-9s %-9s %s\n", (int)w, "trial",
            "base_p50", "cur_p50", "ratio", "95% CI", "p", "latency", "top1", "memory", "energy");
    for (size_t i = 0; i < rep->n; i++) {
        const eb_compare_entry *e = &rep->entries[i];
        const eb_latency_cmp *l = &e->latency;
        char mb[32], mc[32], ratio[32], ci[48], p[16], acc[48], mem[48], en[48];
        eb_compare_entry_label(e, label, sizeof label);
        cw_num(mb, sizeof mb, "%.4f", l->median_base);
        cw_num(mc, sizeof mc, "%.4f", l->median_cur);
        cw_num(ratio, sizeof ratio, "%.3f", l->ratio);
        cw_ci(ci, sizeof ci, l);
        cw_p(p, sizeof p, l->p_value);
        cw_metric(acc, sizeof acc, &e->accuracy, 1, 1);
        cw_metric(mem, sizeof mem, &e->memory, 0, 1);
        cw_metric(en, sizeof en, &e->energy, 0, 1);
        const char *lv = l->verdict == EB_VERDICT_REGRESSED ? "REGRESSED"
                                                            : eb_verdict_name(l->verdict);
        fprintf(f, "%-*s %9s %9s %7s %-16s %7s  %-14s %-9s %-9s %s\n", (int)w, label, mb, mc,
                ratio, ci, p, lv, acc, mem, en);
    }
    for (size_t i = 0; i < rep->n; i++) {
        const eb_compare_entry *e = &rep->entries[i];
        if (e->latency.verdict == EB_VERDICT_NOT_COMPARABLE) {
            eb_compare_entry_label(e, label, sizeof label);
            fprintf(f, "  %s: not comparable: %s\n", label, e->latency.note);
        }
    }
    /* A change in speed may be a change of code: another kernel set (a different CPU or
     * EDGEBENCH_REF_ISA), sparse or int8 kernels switched on or off, another runtime version.
     * Said beside the verdict, never instead of it. */
    for (size_t i = 0; i < rep->n; i++) {
        const eb_compare_entry *e = &rep->entries[i];
        if (e->base_row < 0 || e->cur_row < 0)
            continue;
        const char *pb = eb_run_cell(base, (size_t)e->base_row, "backend_plan");
        const char *pc = eb_run_cell(cur, (size_t)e->cur_row, "backend_plan");
        if (pb[0] && pc[0] && strcmp(pb, pc) != 0) { /* older runs recorded none */
            eb_compare_entry_label(e, label, sizeof label);
            fprintf(f, "  %s: ran other code: '%s' in base, '%s' in current\n", label, pb,
                    pc);
        }
    }
    fprintf(f, "\n%s\n", counts);
}

/* ---- files: a temporary beside the target, renamed when complete ------------------------ */

/* "-" is stdout; a path that exists and is not a regular file (/dev/stdout, a FIFO) is
 * written in place: renaming over it would replace the device or the pipe with a file.  A
 * regular file (or a new one) gets a temporary beside it, renamed when complete, so a reader
 * never sees half a report. */
typedef struct cw_file {
    FILE *f;
    char tmp[4200]; /* "" when written in place */
    int is_stdout;
} cw_file;

static int cw_open(const char *path, cw_file *w, eb_err *err)
{
    struct stat st;
    w->tmp[0] = '\0';
    w->is_stdout = strcmp(path, "-") == 0;
    if (w->is_stdout) {
        w->f = stdout;
        return 0;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return eb_errf(err, "%s: is a directory; give a file name", path);
        w->f = fopen(path, "w");
    } else {
        snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", path, (long)getpid());
        w->f = fopen(w->tmp, "w");
    }
    if (!w->f)
        return eb_errf(err, "%s: cannot write: %s; check the directory exists and is writable",
                       path, strerror(errno));
    return 0;
}

static int cw_close(cw_file *w, const char *path, eb_err *err)
{
    int bad = ferror(w->f);
    if (w->is_stdout)
        return fflush(stdout) != 0 || bad ? eb_errf(err, "stdout: write failed") : 0;
    if (fclose(w->f) != 0 || bad) {
        if (w->tmp[0])
            unlink(w->tmp);
        return eb_errf(err, "%s: write failed (disk full?)", path);
    }
    if (w->tmp[0] && rename(w->tmp, path) != 0) {
        int e = errno;
        unlink(w->tmp);
        return eb_errf(err, "%s: cannot rename the finished file into place: %s", path,
                       strerror(e));
    }
    return 0;
}

/* ---- JUnit XML -------------------------------------------------------------------------- */

static void cw_xml(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                fputc(' ', f);
            else
                fputc(*s, f);
        }
    }
}

typedef struct cw_case {
    const char *metric;
    eb_verdict verdict;
    char detail[400];
} cw_case;

static void cw_cases(const eb_compare_entry *e, const eb_compare_opts *o, cw_case c[4])
{
    const eb_latency_cmp *l = &e->latency;
    c[0].metric = "latency";
    c[0].verdict = l->verdict;
    if (l->verdict == EB_VERDICT_NOT_COMPARABLE)
        snprintf(c[0].detail, sizeof c[0].detail, "not comparable: %s", l->note);
    else
        snprintf(c[0].detail, sizeof c[0].detail,
                 "median %.4f -> %.4f ms, ratio %.3f, %g%% CI [%.3f, %.3f], Mann-Whitney p=%.3g "
                 "(regressed when p < %g and CI above %.3f)",
                 l->median_base, l->median_cur, l->ratio, o->confidence * 100, l->ci_lo,
                 l->ci_hi, l->p_value, o->alpha, 1 + o->threshold);
    const struct {
        const char *name;
        const eb_metric_cmp *m;
        int absolute;
        double tol;
        const char *unit;
    } one[3] = {
        {"accuracy", &e->accuracy, 1, o->accuracy_tolerance, "top-1"},
        {"memory", &e->memory, 0, o->memory_tolerance, "peak RSS kB"},
        {"energy", &e->energy, 0, o->energy_tolerance, "mJ per inference"},
    };
    for (int i = 0; i < 3; i++) {
        cw_case *k = &c[i + 1];
        k->metric = one[i].name;
        k->verdict = one[i].m->verdict;
        if (k->verdict == EB_VERDICT_NOT_COMPARABLE)
            snprintf(k->detail, sizeof k->detail, "not comparable: %s", l->note);
        else if (k->verdict == EB_VERDICT_NOT_MEASURED)
            snprintf(k->detail, sizeof k->detail, "%s not measured on both sides", one[i].unit);
        else if (one[i].absolute)
            snprintf(k->detail, sizeof k->detail,
                     "%s %.4f -> %.4f (%+.2f points; tolerance %.2f)", one[i].unit,
                     one[i].m->base, one[i].m->cur, one[i].m->change * 100, one[i].tol * 100);
        else
            snprintf(k->detail, sizeof k->detail, "%s %g -> %g (x%.3f; tolerance x%.2f)",
                     one[i].unit, one[i].m->base, one[i].m->cur, one[i].m->change,
                     1 + one[i].tol);
    }
}

int eb_compare_write_junit(const char *path, const eb_compare_report *rep,
                           const eb_run_data *base, const eb_run_data *cur, eb_err *err)
{
    cw_file w;
    if (cw_open(path, &w, err) != 0)
        return -1;
    FILE *f = w.f;
    size_t tests = 0, failures = 0, skipped = 0;
    cw_case c[4];
    for (size_t i = 0; i < rep->n; i++) {
        cw_cases(&rep->entries[i], &rep->opts, c);
        for (int k = 0; k < 4; k++) {
            tests++;
            failures += c[k].verdict == EB_VERDICT_REGRESSED;
            skipped += c[k].verdict == EB_VERDICT_NOT_COMPARABLE ||
                       c[k].verdict == EB_VERDICT_NOT_MEASURED;
        }
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites name=\"edgebench compare\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"0\" skipped=\"%zu\">\n",
            tests, failures, skipped);
    fprintf(f, "  <testsuite name=\"edgebench.compare\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"0\" skipped=\"%zu\" time=\"0\">\n",
            tests, failures, skipped);
    fprintf(f, "    <properties>\n");
    const struct {
        const char *k;
        const char *v;
    } props[] = {
        {"base", base->dir},
        {"base_commit", cw_side(base, "git_commit")},
        {"current", cur->dir},
        {"current_commit", cw_side(cur, "git_commit")},
        {"fingerprint", cw_side(cur, "fingerprint")},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        fprintf(f, "      <property name=\"%s\" value=\"", props[i].k);
        cw_xml(f, props[i].v);
        fprintf(f, "\"/>\n");
    }
    fprintf(f, "    </properties>\n");
    char label[400];
    for (size_t i = 0; i < rep->n; i++) {
        const eb_compare_entry *e = &rep->entries[i];
        eb_compare_entry_label(e, label, sizeof label);
        cw_cases(e, &rep->opts, c);
        for (int k = 0; k < 4; k++) {
            fprintf(f, "    <testcase classname=\"");
            cw_xml(f, e->scenario[0] ? e->scenario : "edgebench");
            fprintf(f, "\" name=\"");
            cw_xml(f, label);
            fprintf(f, " %s\" time=\"0\">\n", c[k].metric);
            if (c[k].verdict == EB_VERDICT_REGRESSED) {
                fprintf(f, "      <failure type=\"regression\" message=\"%s regressed: ",
                        c[k].metric);
                cw_xml(f, c[k].detail);
                fprintf(f, "\">");
                cw_xml(f, c[k].detail);
                fprintf(f, "</failure>\n");
            } else if (c[k].verdict == EB_VERDICT_NOT_COMPARABLE ||
                       c[k].verdict == EB_VERDICT_NOT_MEASURED) {
                fprintf(f, "      <skipped message=\"");
                cw_xml(f, c[k].detail);
                fprintf(f, "\"/>\n");
            } else {
                fprintf(f, "      <system-out>%s: ", eb_verdict_name(c[k].verdict));
                cw_xml(f, c[k].detail);
                fprintf(f, "</system-out>\n");
            }
            fprintf(f, "    </testcase>\n");
        }
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return cw_close(&w, path, err);
}

/* ---- Markdown --------------------------------------------------------------------------- */

static void cw_md(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '*' || *s == '_' || *s == '`' || *s == '\\')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
}

void eb_compare_markdown(FILE *f, const eb_compare_report *rep, const eb_run_data *base,
                         const eb_run_data *cur)
{
    char rule[320], counts[128], label[400];
    cw_rule(rule, sizeof rule, &rep->opts);
    cw_counts(counts, sizeof counts, rep);
    fprintf(f, "### edgebench compare: %s%s\n\n", rep->regressed ? "REGRESSION — " : "",
            counts);
    fprintf(f, "Base `%s` (commit %s, %s) → current `%s` (commit %s, %s).  \n", base->dir,
            cw_side(base, "git_commit"), cw_side(base, "started_at"), cur->dir,
            cw_side(cur, "git_commit"), cw_side(cur, "started_at"));
    fprintf(f, "Rule: %s.\n\n", rule);
    fprintf(f, "| trial | base p50 ms | current p50 ms | ratio [95%% CI] | p | latency | top-1 "
               "| peak memory | energy |\n");
    fprintf(f, "|---|---:|---:|---|---:|---|---|---|---|\n");
    for (size_t i = 0; i < rep->n; i++) {
        const eb_compare_entry *e = &rep->entries[i];
        const eb_latency_cmp *l = &e->latency;
        char mb[32], mc[32], ratio[32], ci[48], p[16], acc[48], mem[48], en[48];
        eb_compare_entry_label(e, label, sizeof label);
        cw_num(mb, sizeof mb, "%.4f", l->median_base);
        cw_num(mc, sizeof mc, "%.4f", l->median_cur);
        cw_num(ratio, sizeof ratio, "%.3f", l->ratio);
        cw_ci(ci, sizeof ci, l);
        cw_p(p, sizeof p, l->p_value);
        cw_metric(acc, sizeof acc, &e->accuracy, 1, 0);
        cw_metric(mem, sizeof mem, &e->memory, 0, 0);
        cw_metric(en, sizeof en, &e->energy, 0, 0);
        fprintf(f, "| ");
        cw_md(f, label);
        fprintf(f, " | %s | %s | %s %s | %s | ", mb, mc, ratio, ci, p);
        if (l->verdict == EB_VERDICT_REGRESSED)
            fprintf(f, "**regressed**");
        else if (l->verdict == EB_VERDICT_NOT_COMPARABLE) {
            fprintf(f, "not comparable: ");
            cw_md(f, l->note);
        } else
            fprintf(f, "%s", eb_verdict_name(l->verdict));
        fprintf(f, " | %s | %s | %s |\n", acc, mem, en);
    }
}

int eb_compare_write_markdown(const char *path, const eb_compare_report *rep,
                              const eb_run_data *base, const eb_run_data *cur, eb_err *err)
{
    cw_file w;
    if (cw_open(path, &w, err) != 0)
        return -1;
    eb_compare_markdown(w.f, rep, base, cur);
    return cw_close(&w, path, err);
}
