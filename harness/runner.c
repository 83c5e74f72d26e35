#include "runner.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "device.h"
#include "results.h"
#include "trial.h"

/* --- the child's side: measure, then send one record and the samples over a pipe --------- */

static int runner_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void runner_child(const eb_trial *t, eb_result *r, int fd)
{
    double *samples;
    size_t n;
    eb_trial_execute(t, r, &samples, &n);
    int bad = runner_write_all(fd, r, sizeof *r) || runner_write_all(fd, &n, sizeof n) ||
              runner_write_all(fd, samples, n * sizeof *samples);
    /* _exit: the parent's stdio buffers and atexit handlers are not the child's to flush. */
    _exit(bad ? 3 : 0);
}

/* --- the parent's side: read the record with a deadline, then reap the child ------------- */

typedef struct runner_buf {
    char *data;
    size_t len, cap;
} runner_buf;

/* Reads until EOF or the deadline; returns 0 on EOF, 1 on timeout, -1 on error. */
static int runner_read_until(int fd, runner_buf *b, double deadline_ms)
{
    for (;;) {
        double left = deadline_ms - eb_now_ms();
        if (left <= 0)
            return 1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, left > 1e9 ? 1000000000 : (int)left + 1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return -1;
        if (ready == 0)
            continue;
        if (b->len == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 1 << 16;
            char *grown = realloc(b->data, cap);
            if (!grown)
                return -1;
            b->data = grown;
            b->cap = cap;
        }
        ssize_t got = read(fd, b->data + b->len, b->cap - b->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return 0;
        b->len += (size_t)got;
    }
}

static void runner_fork_trial(const eb_trial *t, eb_result *r, double **samples, size_t *n)
{
    int fds[2];
    runner_buf buf = {0};
    int status = 0;

    *samples = NULL;
    *n = 0;
    if (pipe(fds) != 0) {
        snprintf(r->status, sizeof r->status, "failed");
        snprintf(r->error, sizeof r->error, "cannot create a pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(r->status, sizeof r->status, "failed");
        snprintf(r->error, sizeof r->error, "cannot fork the trial: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        runner_child(t, r, fds[1]);
    }
    close(fds[1]);
    int timed_out = runner_read_until(fds[0], &buf, eb_now_ms() + t->measure->timeout_s * 1e3) == 1;
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;

    size_t header = sizeof *r + sizeof *n;
    if (!timed_out && buf.len >= header) {
        size_t count;
        memcpy(&count, buf.data + sizeof *r, sizeof count);
        if (buf.len == header + count * sizeof(double)) {
            memcpy(r, buf.data, sizeof *r);
            *n = count;
            *samples = malloc(count ? count * sizeof(double) : 1);
            if (*samples)
                memcpy(*samples, buf.data + header, count * sizeof(double));
            free(buf.data);
            return;
        }
    }
    free(buf.data);
    /* The child died or hung before it could report: that is the trial's result. */
    if (timed_out) {
        snprintf(r->status, sizeof r->status, "timeout");
        snprintf(r->error, sizeof r->error, "the trial did not finish within %.0f s (measure.timeout)",
                 t->measure->timeout_s);
    } else if (WIFSIGNALED(status)) {
        snprintf(r->status, sizeof r->status, "crashed");
        snprintf(r->error, sizeof r->error, "the trial's process was killed by signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        snprintf(r->status, sizeof r->status, "crashed");
        snprintf(r->error, sizeof r->error, "the trial's process exited with status %d before "
                 "reporting", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* --- progress and summary ---------------------------------------------------------------- */

static void runner_progress_start(FILE *f, size_t i, size_t n, const eb_result *r)
{
    fprintf(f, "[%zu/%zu] %s on %s, %d thread%s, cores %s, batch %d ...\n", i, n, r->variant,
            r->backend, r->threads, r->threads == 1 ? "" : "s", r->cores, r->batch);
    fflush(f);
}

static void runner_progress_end(FILE *f, const eb_result *r, double elapsed_ms)
{
    if (strcmp(r->status, "ok") != 0)
        fprintf(f, "        %s: %s (%.1f s)\n", r->status, r->error, elapsed_ms / 1e3);
    else if (!isnan(r->accuracy_top1))
        fprintf(f, "        ok: p50 %.3f ms, p99 %.3f ms, top-1 %.2f%% (%.1f s)\n",
                r->latency.p50, r->latency.p99, 100 * r->accuracy_top1, elapsed_ms / 1e3);
    else
        fprintf(f, "        ok: p50 %.3f ms, p99 %.3f ms (%.1f s)\n", r->latency.p50,
                r->latency.p99, elapsed_ms / 1e3);
    fflush(f);
}

static void runner_summary_row(FILE *f, const eb_result *r)
{
    char top1[16] = "-";
    if (!isnan(r->accuracy_top1))
        snprintf(top1, sizeof top1, "%.2f%%", 100 * r->accuracy_top1);
    if (strcmp(r->status, "ok") == 0)
        fprintf(f, "%-16s %-8s %7d %5d %10.3f %10.3f %10.1f %8s %10ld  ok\n", r->variant,
                r->backend, r->threads, r->batch, r->latency.p50, r->latency.p99,
                r->throughput_ips, top1, r->peak_rss_kb);
    else
        fprintf(f, "%-16s %-8s %7d %5d %10s %10s %10s %8s %10s  %s\n", r->variant, r->backend,
                r->threads, r->batch, "-", "-", "-", "-", "-", r->status);
}

/* --- run metadata ------------------------------------------------------------------------ */

static size_t runner_kv(eb_kv *kv, size_t i, size_t max, const char *key, const char *value)
{
    if (i < max) {
        snprintf(kv[i].key, sizeof kv[i].key, "%s", key);
        snprintf(kv[i].value, sizeof kv[i].value, "%s", value ? value : "");
    }
    return i + 1;
}

static void runner_iso_time(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int runner_write_meta(const char *dir, const eb_scenario *s, const eb_run_opts *o,
                             const char *run_id, const char *started, const char *finished,
                             size_t trials, size_t failed, eb_err *err)
{
    eb_kv kv[64];
    size_t n = 0;
    char num[32];
    n = runner_kv(kv, n, 64, "run_id", run_id);
    n = runner_kv(kv, n, 64, "scenario", s->name);
    n = runner_kv(kv, n, 64, "scenario_file", s->path);
    n = runner_kv(kv, n, 64, "command_line", o->command_line);
    n = runner_kv(kv, n, 64, "edgebench_version", EB_VERSION);
    n = runner_kv(kv, n, 64, "git_commit", EB_GIT_COMMIT);
    n = runner_kv(kv, n, 64, "quick", o->quick ? "true" : "false");
    n = runner_kv(kv, n, 64, "started_at", started);
    n = runner_kv(kv, n, 64, "finished_at", finished);
    snprintf(num, sizeof num, "%zu", trials);
    n = runner_kv(kv, n, 64, "trials", num);
    snprintf(num, sizeof num, "%zu", failed);
    n = runner_kv(kv, n, 64, "trials_not_ok", num);
    n += eb_device_metadata(kv + n, 64 - n);
    return eb_results_write_run(dir, kv, n < 64 ? n : 64, err);
}

/* --- the plan ---------------------------------------------------------------------------- */

static size_t runner_backend_options(const eb_scenario *s, const char *backend, eb_option *opts,
                                     size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_options && n < max; i++)
        if (strcmp(s->options[i].backend, backend) == 0)
            opts[n++] = (eb_option){s->options[i].key, s->options[i].value};
    return n;
}

static void runner_identity(eb_result *r, const char *run_id, const eb_scenario *s,
                            const eb_variant *v, const char *backend, int threads,
                            const char *cores, int batch)
{
    eb_result_init(r);
    snprintf(r->run_id, sizeof r->run_id, "%s", run_id);
    snprintf(r->scenario, sizeof r->scenario, "%s", s->name);
    snprintf(r->variant, sizeof r->variant, "%s", v->name);
    snprintf(r->kind, sizeof r->kind, "%s", v->kind);
    snprintf(r->base, sizeof r->base, "%s", v->base ? v->base : "");
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    snprintf(r->cores, sizeof r->cores, "%s", cores);
    r->threads = threads;
    r->batch = batch;
}

int eb_runner_run(eb_scenario *s, const eb_run_opts *o, eb_err *err)
{
    const char *dir = o->out_dir ? o->out_dir : s->output;
    int show = o->progress || (!o->quiet && isatty(STDERR_FILENO));
    eb_dataset data = {0};
    eb_results *results = NULL;
    char run_id[40], started[32], finished[32];
    size_t total = s->n_variants * s->n_backends * s->n_threads * s->n_cores * s->n_batches;
    size_t done = 0, not_ok = 0;
    eb_result *rows = calloc(total ? total : 1, sizeof *rows);
    int code = 0;

    if (!rows)
        return eb_errf(err, "out of memory for %zu trials", total), 2;
    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(run_id, sizeof run_id, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(run_id + strlen(run_id), sizeof run_id - strlen(run_id), "-%ld", (long)getpid());
    }
    runner_iso_time(started, sizeof started);

    if (s->has_dataset && eb_dataset_load(&s->dataset, &data, err) != 0) {
        eb_err_prefix(err, "%s: dataset", s->path);
        free(rows);
        return 2;
    }
    if (eb_results_open(&results, dir, err) != 0 ||
        runner_write_meta(dir, s, o, run_id, started, "", total, 0, err) != 0 ||
        eb_scenario_setup(s, err) != 0) {
        code = 2;
        goto out;
    }

    for (size_t v = 0; v < s->n_variants; v++)
        for (size_t b = 0; b < s->n_backends; b++)
            for (size_t t = 0; t < s->n_threads; t++)
                for (size_t c = 0; c < s->n_cores; c++)
                    for (size_t k = 0; k < s->n_batches; k++) {
                        eb_result *r = &rows[done];
                        eb_option opts[64];
                        const eb_backend_i *backend = eb_backend_find(s->backends[b]);
                        eb_trial trial = {
                            .variant = &s->variants[v],
                            .backend = backend,
                            .threads = s->threads[t],
                            .cores = s->cores[c],
                            .batch = s->batches[k],
                            .data = s->has_dataset ? &data : NULL,
                            .measure = &s->measure,
                            .options = opts,
                            .n_options = runner_backend_options(s, s->backends[b], opts, 64),
                        };
                        double *samples, t0 = eb_now_ms();
                        size_t n_samples;

                        runner_identity(r, run_id, s, trial.variant, backend->name, trial.threads,
                                        trial.cores, trial.batch);
                        done++;
                        if (show)
                            runner_progress_start(stderr, done, total, r);
                        runner_fork_trial(&trial, r, &samples, &n_samples);
                        not_ok += strcmp(r->status, "ok") != 0;
                        int bad = eb_results_append(results, r, samples, n_samples, err);
                        free(samples);
                        if (bad) {
                            code = 2;
                            goto out;
                        }
                        if (show)
                            runner_progress_end(stderr, r, eb_now_ms() - t0);
                        if (eb_scenario_on_trial(s, r, err) != 0) {
                            code = 2;
                            goto out;
                        }
                    }
    if (eb_scenario_done(s, err) != 0)
        code = 2;
out:
    runner_iso_time(finished, sizeof finished);
    if (results) {
        eb_err meta_err;
        eb_results_close(results);
        if (runner_write_meta(dir, s, o, run_id, started, finished, done, not_ok, &meta_err) != 0 &&
            code == 0) {
            *err = meta_err;
            code = 2;
        }
    }
    if (!o->quiet && done > 0) {
        printf("\n%-16s %-8s %7s %5s %10s %10s %10s %8s %10s  %s\n", "variant", "backend",
               "threads", "batch", "p50_ms", "p99_ms", "ips", "top1", "peak_kb", "status");
        for (size_t i = 0; i < done; i++)
            runner_summary_row(stdout, &rows[i]);
        printf("\nresults: %s/results.csv (%zu trial%s, %zu not ok)\n", dir, done,
               done == 1 ? "" : "s", not_ok);
    }
    if (s->has_dataset)
        eb_dataset_free(&data);
    free(rows);
    return code ? code : not_ok ? 1 : 0;
}
