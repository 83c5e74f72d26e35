/* index.html: one self-contained page (inline CSS, images as base64 data: URIs) that opens
 * anywhere, offline, and can be attached to a CI run as a single file. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Streams a file as base64 (RFC 4648, no line breaks: a data: URI). */
static int html_base64_file(FILE *f, const char *path)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *in = fopen(path, "rb");
    if (!in)
        return -1;
    unsigned char b[3 * 1024];
    size_t n;
    while ((n = fread(b, 1, sizeof b, in)) > 0) {
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned)b[i] << 16;
            size_t left = n - i;
            if (left > 1)
                v |= (unsigned)b[i + 1] << 8;
            if (left > 2)
                v |= b[i + 2];
            fputc(tab[v >> 18 & 63], f);
            fputc(tab[v >> 12 & 63], f);
            fputc(left > 1 ? tab[v >> 6 & 63] : '=', f);
            fputc(left > 2 ? tab[v & 63] : '=', f);
        }
        /* A short read mid-file is only possible at EOF for regular files; 3*1024 keeps
         * groups aligned otherwise. */
    }
    int bad = ferror(in);
    fclose(in);
    return bad ? -1 : 0;
}

static const char html_css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}"
    "main{max-width:1200px;margin:0 auto;padding:24px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d8dce3;padding-bottom:4px}"
    ".sub{color:#5b6474;margin:0 0 16px}"
    "table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}"
    "th,td{border:1px solid #d8dce3;padding:4px 8px;text-align:left;vertical-align:top}"
    "th{background:#eef1f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "tr.chosen td{background:#e5f6e8}tr.bad td{color:#9a2a2a}"
    ".wrap{overflow-x:auto}td.note{min-width:380px;font-size:12px;color:#5b6474}"
    ".rec{background:#fff;border:1px solid #9ccaa5;border-left:6px solid #2f9e44;padding:12px 16px;border-radius:4px}"
    ".rec.none{border-color:#e0a0a0;border-left-color:#c92a2a}"
    ".pick{font-size:17px;font-weight:600;margin:4px 0}"
    ".muted{color:#5b6474}.warn{background:#fff4e0;border:1px solid #f0c070;padding:8px 12px;border-radius:4px}"
    "figure{background:#fff;border:1px solid #d8dce3;margin:12px 0;padding:8px;display:inline-block;max-width:100%}"
    "figure img{max-width:100%;height:auto;display:block}figcaption{color:#5b6474;font-size:13px}"
    ".tag{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;background:#e7ebf3;margin-left:4px}"
    ".tag.p{background:#fde8c8}";

/* A number cell, "" when not measured. */
static void html_num(FILE *f, double v, const char *fmt)
{
    fputs("<td class=n>", f);
    if (isfinite(v))
        fprintf(f, fmt, v);
    fputs("</td>", f);
}

/* "0.201 [0.199, 0.204]": a percentile with its 95% interval (either bound may be missing). */
static void html_ci(FILE *f, const eb_run_data *d, size_t i, const char *p)
{
    char col[64];
    snprintf(col, sizeof col, "latency_%s_ms", p);
    double v = eb_run_num(d, i, col);
    snprintf(col, sizeof col, "latency_%s_lo_ms", p);
    double lo = eb_run_num(d, i, col);
    snprintf(col, sizeof col, "latency_%s_hi_ms", p);
    double hi = eb_run_num(d, i, col);
    fputs("<td class=n>", f);
    if (isfinite(v)) {
        fprintf(f, "%.4g", v);
        if (isfinite(lo) || isfinite(hi)) {
            fputs(" <span class=muted>[", f);
            isfinite(lo) ? fprintf(f, "%.4g", lo) : fputs("?", f);
            fputs(", ", f);
            isfinite(hi) ? fprintf(f, "%.4g", hi) : fputs("?", f);
            fputs("]</span>", f);
        }
    }
    fputs("</td>", f);
}

static void html_label(FILE *f, const eb_run_data *d, size_t row)
{
    char label[256];
    eb_recommend_label(d, row, label, sizeof label);
    html_text(f, label);
}

static void html_recommendation(FILE *f, const eb_run_data *d, const eb_recommendation *rec)
{
    char cons[256];
    eb_recommend_constraints_text(rec, cons, sizeof cons);
    fprintf(f, "<h2 id=recommendation>Recommendation</h2>\n<div class=\"rec%s\">\n",
            rec->chosen < 0 ? " none" : "");
    fputs("<div class=muted>objective: ", f);
    html_text(f, eb_recommend_objective_text(rec));
    fputs(" &middot; constraints: ", f);
    html_text(f, cons);
    fputs("</div>\n", f);
    if (rec->note[0]) {
        fputs("<div class=muted>note: ", f);
        html_text(f, rec->note);
        fputs("</div>\n", f);
    }
    if (rec->chosen < 0) {
        fputs("<div class=pick>No configuration meets the constraints.</div>\n", f);
    } else {
        const eb_rec_row *r = &rec->rows[rec->chosen];
        fputs("<div class=pick>Ship: ", f);
        html_label(f, d, r->row);
        fputs("</div>\n<div>", f);
        fprintf(f, "p50 %.4g ms, p99 %.4g ms", eb_run_num(d, r->row, "latency_p50_ms"),
                eb_run_num(d, r->row, "latency_p99_ms"));
        double acc = eb_run_num(d, r->row, "accuracy_top1");
        if (isfinite(acc))
            fprintf(f, ", top-1 %.2f%%", acc * 100);
        if (isfinite(r->accuracy_drop) && r->base_row >= 0 && (size_t)r->base_row != r->row) {
            fprintf(f, " (%+.2f points vs ", -r->accuracy_drop * 100);
            html_text(f, eb_run_cell(d, (size_t)r->base_row, "variant"));
            fputs(")", f);
        }
        double rss = eb_run_num(d, r->row, "peak_rss_kb");
        if (isfinite(rss))
            fprintf(f, ", peak memory %.0f kB", rss);
        double e = eb_run_num(d, r->row, "energy_mj_per_inference");
        if (isfinite(e))
            fprintf(f, ", %.3g mJ per inference", e);
        fputs("</div>\n", f);
    }
    fputs("<div class=wrap><table>\n<tr><th>#</th><th>configuration</th><th>verdict</th><th>why</th></tr>\n", f);
    for (size_t k = 0; k < rec->n; k++) {
        const eb_rec_row *r = &rec->rows[k];
        const char *cls = r->state == EB_REC_CHOSEN ? " class=chosen" : r->state == EB_REC_EXCLUDED ? " class=bad" : "";
        fprintf(f, "<tr%s><td class=n>", cls);
        if (r->rank)
            fprintf(f, "%d", r->rank);
        fputs("</td><td>", f);
        html_label(f, d, r->row);
        fputs("</td><td>", f);
        switch (r->state) {
        case EB_REC_CHOSEN:
            fputs("recommended</td><td>best by the objective among rows that meet every constraint", f);
            break;
        case EB_REC_RUNNER_UP:
        case EB_REC_ELIGIBLE:
            fprintf(f, "%s (rank %d)</td><td>", r->state == EB_REC_RUNNER_UP ? "runner-up" : "eligible", r->rank);
            if (rec->chosen >= 0 && isfinite(r->key) && rec->rows[rec->chosen].key > 0)
                fprintf(f, "%+.1f%% on the objective", (r->key / rec->rows[rec->chosen].key - 1) * 100);
            break;
        case EB_REC_EXCLUDED:
            fputs("excluded</td><td>", f);
            html_text(f, r->reason);
            break;
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n</div>\n", f);
}

static const char *const html_device_keys[][2] = {
    {"cpu_model", "CPU"},       {"arch", "architecture"},  {"packages", "packages"},
    {"cores", "cores"},         {"pus", "hardware threads"}, {"core_kinds", "core kinds"},
    {"memory_kb", "memory (kB)"}, {"os", "OS"},             {"kernel", "kernel"},
    {"compiler", "compiler"},   {"governor", "governor"},  {"cpu_mhz", "CPU MHz"},
    {"loadavg", "load average"}, {"fingerprint", "fingerprint"}, {"energy_meter", "energy meter"},
    {"telemetry", "telemetry"}, {"harness_overhead_ns_per_iteration", "harness overhead (ns/iteration)"},
};

static void html_device(FILE *f, const eb_run_data *d)
{
    fputs("<h2 id=device>Device</h2>\n<table>\n", f);
    int any = 0;
    for (size_t k = 0; k < sizeof html_device_keys / sizeof html_device_keys[0]; k++) {
        const char *v = eb_run_meta(d, html_device_keys[k][0]);
        if (!v[0])
            continue;
        any = 1;
        fprintf(f, "<tr><th>%s</th><td>", html_device_keys[k][1]);
        html_text(f, v);
        fputs("</td></tr>\n", f);
    }
    if (!any)
        fputs("<tr><td>run.csv has no device description</td></tr>\n", f);
    fputs("</table>\n", f);
}

static void html_trials(FILE *f, const eb_run_data *d, const eb_recommendation *rec)
{
    const eb_rec_row **by_row = calloc(d->n_rows ? d->n_rows : 1, sizeof *by_row);
    if (by_row)
        for (size_t k = 0; k < rec->n; k++)
            by_row[rec->rows[k].row] = &rec->rows[k];
    fputs("<h2 id=trials>Trials</h2>\n<p class=muted>Latencies in ms with their 95% "
          "distribution-free intervals [lo, hi] (? = more samples needed). Accuracy drop is "
          "against the variant's base. <span class=\"tag p\">pareto</span> marks the accuracy/p99 front.</p>\n"
          "<div class=wrap><table>\n<tr><th>trial</th><th>variant</th><th>kind</th><th>base</th>"
          "<th>backend</th><th>threads</th><th>cores</th><th>batch</th><th>mode</th><th>status</th>"
          "<th>iterations</th><th>p50</th><th>p90</th><th>p99</th><th>CV</th><th>inferences/s</th>"
          "<th>top-1</th><th>drop (points)</th><th>peak RSS (kB)</th><th>model (kB)</th>"
          "<th>energy (mJ)</th><th>throttled</th><th>notes</th></tr>\n",
          f);
    for (size_t i = 0; i < d->n_rows; i++) {
        const eb_rec_row *r = by_row ? by_row[i] : NULL;
        const char *status = eb_run_cell(d, i, "status");
        const char *cls = r && r->state == EB_REC_CHOSEN ? " class=chosen"
                          : strcmp(status, "ok") != 0    ? " class=bad"
                                                         : "";
        fprintf(f, "<tr%s>", cls);
        static const char *const text_cols[] = {"trial", "variant", "kind", "base", "backend",
                                                "threads", "cores", "batch", "mode", "status",
                                                "iterations"};
        for (size_t k = 0; k < sizeof text_cols / sizeof text_cols[0]; k++) {
            fputs("<td>", f);
            html_text(f, eb_run_cell(d, i, text_cols[k]));
            if (k == 1 && r && r->state == EB_REC_CHOSEN)
                fputs("<span class=tag>pick</span>", f);
            if (k == 1 && r && r->pareto)
                fputs("<span class=\"tag p\">pareto</span>", f);
            fputs("</td>", f);
        }
        html_ci(f, d, i, "p50");
        html_ci(f, d, i, "p90");
        html_ci(f, d, i, "p99");
        html_num(f, eb_run_num(d, i, "latency_cv"), "%.3f");
        html_num(f, eb_run_num(d, i, "throughput_ips"), "%.1f");
        html_num(f, eb_run_num(d, i, "accuracy_top1") * 100, "%.2f%%");
        html_num(f, r && r->base_row >= 0 && (size_t)r->base_row != i ? r->accuracy_drop * 100 : NAN, "%.2f");
        html_num(f, eb_run_num(d, i, "peak_rss_kb"), "%.0f");
        html_num(f, eb_run_num(d, i, "model_bytes") / 1024, "%.1f");
        html_num(f, eb_run_num(d, i, "energy_mj_per_inference"), "%.3g");
        fputs("<td>", f);
        html_text(f, eb_run_cell(d, i, "throttled"));
        fputs("</td><td class=note>", f);
        /* Everything that qualifies the row's numbers, in one cell, ending with the code the
         * backend ran (backend_plan: why two rows of one variant may differ). */
        static const char *const note_cols[] = {"error",         "stats_warning",
                                                "latency_ci_note", "throttle_reason",
                                                "memory_note",   "crosscheck_note",
                                                "backend_plan"};
        int first = 1;
        for (size_t k = 0; k < sizeof note_cols / sizeof note_cols[0]; k++) {
            const char *v = eb_run_cell(d, i, note_cols[k]);
            if (!v[0])
                continue;
            if (!first)
                fputs("<br>", f);
            html_text(f, v);
            first = 0;
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table></div>\n", f);
    free(by_row);
}

static void html_plots(FILE *f, const eb_report_plots *plots)
{
    fputs("<h2 id=plots>Plots</h2>\n", f);
    if (plots->warning[0]) {
        fputs("<p class=warn>", f);
        html_text(f, plots->warning);
        fputs("</p>\n", f);
    }
    const char *mime = strcmp(plots->format, "svg") == 0 ? "image/svg+xml" : "image/png";
    for (size_t k = 0; k < plots->n; k++) {
        const eb_report_plot *p = &plots->plot[k];
        if (!p->ok)
            continue;
        fprintf(f, "<figure id=\"plot-%s\"><img alt=\"", p->name);
        html_text(f, p->title);
        fprintf(f, "\" src=\"data:%s;base64,", mime);
        html_base64_file(f, p->image); /* unreadable: a broken image the self-check flags */
        fputs("\"><figcaption>", f);
        html_text(f, p->title);
        if (p->note[0]) {
            fputs(" &middot; ", f);
            html_text(f, p->note);
        }
        fprintf(f, " &middot; plots/%s.gp</figcaption></figure>\n", p->name);
    }
    int missing = 0;
    for (size_t k = 0; k < plots->n; k++)
        if (!plots->plot[k].ok) {
            if (!missing++)
                fputs("<ul class=muted>\n", f);
            fputs("<li>", f);
            html_text(f, plots->plot[k].title);
            fputs(": ", f);
            html_text(f, plots->plot[k].note);
            fputs("</li>\n", f);
        }
    if (missing)
        fputs("</ul>\n", f);
}

static void html_meta(FILE *f, const eb_run_data *d)
{
    fputs("<h2 id=run>Run</h2>\n<details><summary>every key of run.csv</summary>\n<table>\n", f);
    for (size_t k = 0; k < d->n_meta; k++) {
        fputs("<tr><th>", f);
        html_text(f, d->meta_keys[k]);
        fputs("</th><td>", f);
        html_text(f, d->meta_values[k]);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</details>\n", f);
}

int eb_report_write_html(const eb_run_data *d, const eb_recommendation *rec,
                         const eb_report_plots *plots, const char *path, eb_err *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return eb_errf(err, "%s: cannot write (%s); check the --out directory", path, strerror(errno));
    const char *scenario = eb_run_meta(d, "scenario");
    if (!scenario[0] && d->n_rows)
        scenario = eb_run_cell(d, 0, "scenario");
    fputs("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
          "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n<title>edgebench report: ",
          f);
    html_text(f, scenario);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<h1>edgebench report: ", html_css);
    html_text(f, scenario);
    fputs("</h1>\n<p class=sub>", f);
    static const char *const sub[][2] = {{"run_id", "run "},        {"started_at", "started "},
                                         {"git_commit", "commit "}, {"edgebench_version", "edgebench "},
                                         {"scenario_file", ""},     {"quick", "quick: "}};
    int first = 1;
    for (size_t k = 0; k < sizeof sub / sizeof sub[0]; k++) {
        const char *v = eb_run_meta(d, sub[k][0]);
        if (!v[0])
            continue;
        fprintf(f, "%s%s", first ? "" : " &middot; ", sub[k][1]);
        html_text(f, v);
        first = 0;
    }
    fprintf(f, "%s%zu trials</p>\n", first ? "" : " &middot; ", d->n_rows);
    html_recommendation(f, d, rec);
    html_trials(f, d, rec);
    html_plots(f, plots);
    html_device(f, d);
    html_meta(f, d);
    /* A self-check a headless browser can read from the DOM: "ok N" when all N images
     * decoded, "broken K/N" otherwise (tests/cli/report.t renders the page in Chromium). */
    fputs("</main>\n<script>\nwindow.addEventListener('load', function () {\n"
          "  var imgs = document.images, bad = 0;\n"
          "  for (var i = 0; i < imgs.length; i++) if (!imgs[i].complete || !(imgs[i].naturalWidth > 0)) bad++;\n"
          "  document.body.setAttribute('data-check', bad ? 'broken ' + bad + '/' + imgs.length : 'ok ' + imgs.length);\n"
          "});\n</script>\n</body>\n</html>\n",
          f);
    if (ferror(f) | (fclose(f) != 0))
        return eb_errf(err, "%s: write failed; check free space", path);
    return 0;
}
