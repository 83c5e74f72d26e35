/* `edgebench report`: plots (gnuplot, an external process), index.html and report.md from a
 * finished run (eb_run_read) and its recommendation (recommend.h).
 *
 *   eb_report_plots plots;
 *   eb_report_make_plots(&run, &rec, "OUT", "png", &plots, &err);  // OUT/plots/NAME.{gp,png}
 *   eb_report_write_html(&run, &rec, &plots, "OUT/index.html", &err);
 *   eb_report_write_md(&run, &rec, &plots, "OUT/report.md", &err);
 *
 * A missing gnuplot is not an error: plots.warning says so once and the pages say which plots
 * are absent.  A plot that does not apply (no accuracy measured, one thread count) has ok 0
 * and a note saying why.
 */
#ifndef EB_REPORT_H
#define EB_REPORT_H

#include <stddef.h>

#include "err.h"
#include "recommend.h"
#include "run_data.h"

#define EB_REPORT_MAX_PLOTS 8

typedef struct eb_report_plot {
    char name[32];    /* file stem: "latency_cdf" */
    char title[128];  /* what it shows, one line */
    char image[1024]; /* the image written (OUT/plots/NAME.png or .svg); "" when none */
    int ok;           /* 1: image written */
    char note[512];   /* why there is no image, or "" */
} eb_report_plot;

typedef struct eb_report_plots {
    eb_report_plot plot[EB_REPORT_MAX_PLOTS];
    size_t n;
    char format[8];     /* "png" or "svg" */
    char warning[512];  /* "" or one line: gnuplot missing or failing */
} eb_report_plots;

/* Writes OUT/plots/NAME.gp (self-contained gnuplot scripts, data inline) and runs gnuplot on
 * each to make NAME.png (pngcairo, else png) or NAME.svg.  format is "png" or "svg".
 * Returns -1 only when OUT/plots cannot be created or written; gnuplot's own absence or
 * failure is reported in plots->warning / a plot's note. */
int eb_report_make_plots(const eb_run_data *d, const eb_recommendation *rec, const char *out_dir,
                         const char *format, eb_report_plots *plots, eb_err *err);

/* The one self-contained page: inline CSS, images as data: URIs, tables and recommendation. */
int eb_report_write_html(const eb_run_data *d, const eb_recommendation *rec,
                         const eb_report_plots *plots, const char *path, eb_err *err);

/* The same in Markdown, at most about 60 lines (a CI comment). */
int eb_report_write_md(const eb_run_data *d, const eb_recommendation *rec,
                       const eb_report_plots *plots, const char *path, eb_err *err);

/* A short series name for plots and tables: "int8/ref/2t", plus "/c0-1", "/b8", "/offline"
 * when cores, batch or mode are not the defaults. */
void eb_report_short_label(const eb_run_data *d, size_t row, char *buf, size_t n);

#endif
