/* `edgebench history DIR...`: p50/p99 of every configuration over many runs, in time order
 * (run.csv started_at; ties keep the command line's order), with the git commit of each run,
 * step changes flagged (compare.h: eb_compare_steps), and with --out a gnuplot trend plot per
 * configuration.  Exit 0, or 2 on bad input; a step is reported, not an error (use `compare`
 * to gate a build). */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "commands.h"
#include "compare.h"
#include "run_data.h"

extern char **environ;

#define HISTORY_MAX_STEPS 16

typedef struct hist_run {
    eb_run_data d;
    const char *arg; /* the directory as given */
    size_t order;    /* position on the command line */
} hist_run;

/* One configuration: the row of each run that has it (-1 where the run lacks it). */
typedef struct hist_config {
    eb_compare_entry id;
    long *row;
} hist_config;

static int hist_run_cmp(const void *pa, const void *pb)
{
    const hist_run *a = pa, *b = pb;
    int c = strcmp(eb_run_meta(&a->d, "started_at"), eb_run_meta(&b->d, "started_at"));
    if (c)
        return c;
    return (a->order > b->order) - (a->order < b->order);
}

static const char *hist_base(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/')
        s--;
    return s;
}

static const char *hist_meta(const eb_run_data *d, const char *key)
{
    const char *v = eb_run_meta(d, key);
    return v[0] ? v : "?";
}

/* ---- plots ------------------------------------------------------------------------------ */

/* Runs `gnuplot SCRIPT` ($EDGEBENCH_GNUPLOT overrides the program).  Returns 0, 1 when gnuplot
 * is not installed (the caller warns once and skips the rest), -1 when it failed. */
static int hist_gnuplot(const char *script)
{
    const char *prog = getenv("EDGEBENCH_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    char *argv[] = {(char *)prog, (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, NULL, NULL, argv, environ);
    if (rc == ENOENT)
        return 1;
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    /* a shell-less spawn of a missing program may also surface as the child's exit 127 */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void hist_slug(const char *label, char *buf, size_t n)
{
    size_t k = 0;
    int dash = 0;
    for (const char *s = label; *s && k + 1 < n; s++) {
        char ch = *s;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_';
        if (ok) {
            buf[k++] = ch;
            dash = 0;
        } else if (!dash && k > 0) {
            buf[k++] = '-';
            dash = 1;
        }
    }
    while (k > 0 && buf[k - 1] == '-')
        k--;
    buf[k] = '\0';
}

/* gnuplot single-quoted string: only the quote itself needs doubling. */
static void hist_gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

/* Writes OUT/history-N-SLUG.{dat,gp} and renders .png/.svg.  Returns hist_gnuplot's code, or
 * -1 with a message when the files cannot be written. */
static int hist_plot(const char *out, const char *format, size_t index, const char *label,
                     const hist_run *runs, size_t m, const hist_config *c, const eb_step *steps,
                     size_t n_steps, char *made, size_t made_n)
{
    char slug[200], dat[4400], gp[4400], img[4400];
    hist_slug(label, slug, sizeof slug);
    snprintf(dat, sizeof dat, "%s/history-%zu-%s.dat", out, index, slug);
    snprintf(gp, sizeof gp, "%s/history-%zu-%s.gp", out, index, slug);
    snprintf(img, sizeof img, "%s/history-%zu-%s.%s", out, index, slug, format);
    FILE *f = fopen(dat, "w");
    if (!f) {
        fprintf(stderr, "edgebench: history: %s: cannot write: %s\n", dat, strerror(errno));
        return -1;
    }
    /* gnuplot reads NaN as a missing point: a failed trial leaves a gap in the line */
    fprintf(f, "# x p50_ms p99_ms commit run\n");
    for (size_t r = 0; r < m; r++) {
        if (c->row[r] < 0)
            continue;
        size_t row = (size_t)c->row[r];
        double p50 = eb_run_num(&runs[r].d, row, "latency_p50_ms");
        double p99 = eb_run_num(&runs[r].d, row, "latency_p99_ms");
        fprintf(f, "%zu ", r);
        fprintf(f, isfinite(p50) ? "%.6f " : "NaN ", p50);
        fprintf(f, isfinite(p99) ? "%.6f " : "NaN ", p99);
        fprintf(f, "\"%s\" \"%s\"\n", hist_meta(&runs[r].d, "git_commit"),
                hist_base(runs[r].arg));
    }
    if (fclose(f) != 0)
        return -1;

    f = fopen(gp, "w");
    if (!f) {
        fprintf(stderr, "edgebench: history: %s: cannot write: %s\n", gp, strerror(errno));
        return -1;
    }
    /* two panels sharing the runs axis: p50 (where steps are judged) above, p99 below, each
     * on its own scale so a tail ten times the median does not flatten the step */
    if (strcmp(format, "svg") == 0)
        fprintf(f, "set terminal svg size 900,600 noenhanced background rgb 'white'\n");
    else
        fprintf(f, "set terminal pngcairo size 900,600 noenhanced\n");
    fprintf(f, "set output ");
    hist_gp_str(f, img);
    fprintf(f, "\nset multiplot layout 2,1 title ");
    hist_gp_str(f, label);
    fprintf(f, "\nset grid ytics\nset key off\nset offsets 0.3, 0.3, 0, 0\n"
               "set xtics rotate by -30\nset lmargin 10\n");
    for (size_t s = 0; s < n_steps; s++) {
        double at = (double)steps[s].at - 0.5;
        fprintf(f, "set arrow from %.1f, graph 0 to %.1f, graph 1 nohead dt 2 lw 2 lc rgb "
                   "'#c0392b'\n",
                at, at);
        fprintf(f, "set label 'step %+.1f%%' at %.1f, graph 0.9 right offset -0.5,0 tc rgb "
                   "'#c0392b'\n",
                (steps[s].after / steps[s].before - 1) * 100, at);
    }
    fprintf(f, "set ylabel 'p50 latency (ms)'\nset format x ''\nplot ");
    hist_gp_str(f, dat);
    fprintf(f, " using 1:2:xtic(4) with linespoints pt 7 lc rgb '#2c3e50'\n");
    fprintf(f, "unset label\nset format x '%%g'\nset ylabel 'p99 latency (ms)'\n"
               "set xlabel 'run (git commit), oldest first'\nplot ");
    hist_gp_str(f, dat);
    fprintf(f, " using 1:3:xtic(4) with linespoints pt 5 lc rgb '#8e44ad'\n");
    fprintf(f, "unset multiplot\n");
    if (fclose(f) != 0)
        return -1;
    int rc = hist_gnuplot(gp);
    if (rc == 0)
        snprintf(made, made_n, "%s", img);
    else if (rc < 0)
        fprintf(stderr, "edgebench: history: gnuplot failed on %s; run `gnuplot %s` to see why\n",
                gp, gp);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

int eb_cmd_history(int argc, char **argv)
{
    const char *out = NULL, *format = "png";
    double threshold = 0.05, alpha = 0.01;
    hist_run *runs = calloc(argc > 0 ? (size_t)argc : 1, sizeof *runs);
    size_t m = 0;
    int rc = 0;
    if (!runs)
        return eb_cmd_fail("history: out of memory");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--out") == 0 || strcmp(a, "--format") == 0 ||
            strcmp(a, "--threshold") == 0) {
            if (!v) {
                rc = eb_cmd_fail("history: %s needs a value", a);
                goto out;
            }
            if (a[2] == 'o')
                out = v;
            else if (a[2] == 'f')
                format = v;
            else if (eb_compare_parse_percent(v, &threshold) != 0) {
                rc = eb_cmd_fail("history: --threshold '%s' is not a percentage; write e.g. 5%%",
                                 v);
                goto out;
            }
            i++;
        } else if (a[0] == '-' && a[1]) {
            rc = eb_cmd_fail("history: unknown option '%s'; see 'edgebench help history'", a);
            goto out;
        } else {
            runs[m].arg = a;
            runs[m].order = m;
            m++;
        }
    }
    if (strcmp(format, "png") != 0 && strcmp(format, "svg") != 0) {
        rc = eb_cmd_fail("history: --format '%s': use png or svg", format);
        goto out;
    }
    if (m == 0) {
        rc = eb_cmd_fail("history: usage: edgebench history DIR... [--out DIR] [--threshold 5%%] "
                         "[--format png|svg]");
        goto out;
    }
    size_t loaded = 0;
    for (size_t i = 0; i < m; i++, loaded++) {
        eb_err err;
        if (eb_run_read(runs[i].arg, &runs[i].d, &err) != 0) {
            rc = eb_cmd_fail("history: %s", err.msg);
            m = loaded;
            goto out;
        }
    }
    qsort(runs, m, sizeof *runs, hist_run_cmp);
    if (out && mkdir(out, 0777) != 0 && errno != EEXIST) {
        rc = eb_cmd_fail("history: --out %s: cannot create the directory: %s", out,
                         strerror(errno));
        goto out;
    }

    /* configurations in order of first appearance */
    size_t n_cfg = 0, cap = 0;
    hist_config *cfg = NULL;
    for (size_t r = 0; r < m && rc == 0; r++)
        for (size_t row = 0; row < runs[r].d.n_rows; row++) {
            eb_compare_entry id;
            eb_compare_identity(&runs[r].d, row, &id);
            size_t k = 0;
            while (k < n_cfg && !eb_compare_same_identity(&cfg[k].id, &id))
                k++;
            if (k == n_cfg) {
                if (n_cfg == cap) {
                    cap = cap ? 2 * cap : 8;
                    hist_config *g = realloc(cfg, cap * sizeof *g);
                    if (!g) {
                        rc = eb_cmd_fail("history: out of memory");
                        break;
                    }
                    cfg = g;
                }
                cfg[n_cfg].id = id;
                cfg[n_cfg].row = malloc(m * sizeof(long));
                if (!cfg[n_cfg].row) {
                    rc = eb_cmd_fail("history: out of memory");
                    break;
                }
                for (size_t q = 0; q < m; q++)
                    cfg[n_cfg].row[q] = -1;
                n_cfg++;
            }
            if (cfg[k].row[r] < 0) /* a repeated configuration: its first trial stands */
                cfg[k].row[r] = (long)row;
        }

    int gnuplot_missing = 0;
    const double **samples = malloc((m ? m : 1) * sizeof *samples);
    size_t *ns = malloc((m ? m : 1) * sizeof *ns), *index = malloc((m ? m : 1) * sizeof *index);
    double *single = malloc((m ? m : 1) * sizeof *single);
    if (rc == 0 && (!samples || !ns || !index || !single))
        rc = eb_cmd_fail("history: out of memory");
    printf("history: %zu runs, oldest first; steps: p < %g (Mann-Whitney on the pooled samples "
           "either side) and median change > %g%%\n",
           m, alpha, threshold * 100);
    for (size_t k = 0; k < n_cfg && rc == 0; k++) {
        hist_config *c = &cfg[k];
        char label[400];
        eb_compare_entry_label(&c->id, label, sizeof label);
        /* the series: runs where this configuration finished ok */
        size_t s = 0;
        for (size_t r = 0; r < m; r++) {
            if (c->row[r] < 0 || strcmp(eb_run_cell(&runs[r].d, (size_t)c->row[r], "status"),
                                        "ok") != 0)
                continue;
            eb_run_samples(&runs[r].d, (size_t)c->row[r], &samples[s], &ns[s]);
            if (ns[s] == 0) { /* no samples.csv: the run's p50 stands in */
                single[s] = eb_run_num(&runs[r].d, (size_t)c->row[r], "latency_p50_ms");
                samples[s] = &single[s];
                ns[s] = isfinite(single[s]) ? 1 : 0;
            }
            index[s++] = r;
        }
        eb_step steps[HISTORY_MAX_STEPS];
        size_t n_steps = 0;
        eb_err err;
        if (eb_compare_steps(samples, ns, s, threshold, alpha, steps, HISTORY_MAX_STEPS,
                             &n_steps, &err) != 0) {
            rc = eb_cmd_fail("%s", err.msg);
            break;
        }
        /* step positions as run indices (the series skipped failed runs) */
        for (size_t q = 0; q < n_steps; q++)
            steps[q].at = index[steps[q].at];

        printf("\n%s  (%s)\n", label, c->id.scenario);
        printf("  %-24s %-20s %-10s %7s %10s %10s  %s\n", "run", "started_at", "commit", "n",
               "p50_ms", "p99_ms", "status");
        for (size_t r = 0; r < m; r++) {
            const eb_run_data *d = &runs[r].d;
            if (c->row[r] < 0) {
                printf("  %-24s %-20s %-10s %7s %10s %10s  %s\n", hist_base(runs[r].arg),
                       hist_meta(d, "started_at"), hist_meta(d, "git_commit"), "-", "-", "-",
                       "absent");
                continue;
            }
            size_t row = (size_t)c->row[r];
            const double *x;
            size_t n;
            eb_run_samples(d, row, &x, &n);
            double p50 = eb_run_num(d, row, "latency_p50_ms");
            double p99 = eb_run_num(d, row, "latency_p99_ms");
            char b50[32], b99[32];
            snprintf(b50, sizeof b50, isfinite(p50) ? "%.4f" : "-", p50);
            snprintf(b99, sizeof b99, isfinite(p99) ? "%.4f" : "-", p99);
            printf("  %-24s %-20s %-10s %7zu %10s %10s  %s", hist_base(runs[r].arg),
                   hist_meta(d, "started_at"), hist_meta(d, "git_commit"), n, b50, b99,
                   eb_run_cell(d, row, "status"));
            for (size_t q = 0; q < n_steps; q++)
                if (steps[q].at == r)
                    printf("  <- step began: median %.4f -> %.4f ms (%+.1f%%, p=%.2g)",
                           steps[q].before, steps[q].after,
                           (steps[q].after / steps[q].before - 1) * 100, steps[q].p_value);
            printf("\n");
        }
        if (n_steps == 0)
            printf("  no step change\n");

        if (out && !gnuplot_missing) {
            char made[4400] = "";
            int prc = hist_plot(out, format, k + 1, label, runs, m, c, steps, n_steps, made,
                                sizeof made);
            if (prc == 1) {
                gnuplot_missing = 1;
                fprintf(stderr, "edgebench: history: warning: gnuplot not found; trend plots "
                                "skipped (install gnuplot-nox)\n");
            } else if (prc == 0) {
                printf("  plot: %s\n", made);
            }
        }
    }
    free(samples), free(ns), free(index), free(single);
    for (size_t k = 0; k < n_cfg; k++)
        free(cfg[k].row);
    free(cfg);
out:
    for (size_t i = 0; i < m; i++)
        eb_run_free(&runs[i].d);
    free(runs);
    return rc;
}
