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
#include "cooldown.h"
#include "device.h"
#include "energy.h"
#include "overhead.h"
#include "results.h"
#include "telemetry.h"
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

/* The record on the pipe: the result, the sample count and samples, the op count and ops. */
static void runner_child(const eb_trial *t, eb_result *r, int fd)
{
    double *samples;
    size_t n, n_ops;
    eb_op_record *ops;
    eb_trial_execute(t, r, &samples, &n, &ops, &n_ops);
    int bad = runner_write_all(fd, r, sizeof *r) || runner_write_all(fd, &n, sizeof n) ||
              runner_write_all(fd, samples, n * sizeof *samples) ||
              runner_write_all(fd, &n_ops, sizeof n_ops) ||
              runner_write_all(fd, ops, n_ops * sizeof *ops);
    /* _exit: the parent's stdio buffers and atexit handlers are not the child's to flush. */
    _exit(bad ? 3 : 0);
}

/* --- the parent's side: read the record with a deadline, then reap the child ------------- */

typedef struct runner_buf {
    char *data;
    size_t len, cap;
} runner_buf;

/* Called about every 100 ms while a trial runs (device telemetry). */
typedef void (*runner_tick_fn)(void *ctx);

/* Reads until EOF or the deadline, calling tick between reads; returns 0 on EOF, 1 on
 * timeout, -1 on error. */
static int runner_read_until(int fd, runner_buf *b, double deadline_ms, runner_tick_fn tick,
                             void *ctx)
{
    double next_tick = eb_now_ms() + 100;
    for (;;) {
        double now = eb_now_ms(), left = deadline_ms - now;
        if (left <= 0)
            return 1;
        if (now >= next_tick) {
            tick(ctx);
            next_tick = now + 100;
        }
        double wait = fmin(left, next_tick - now);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, (int)wait + 1);
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

/* Parses the child's record; 0 when it is complete and consistent. */
static int runner_parse_record(const runner_buf *b, eb_result *r, double **samples, size_t *n,
                               eb_op_record **ops, size_t *n_ops)
{
    size_t at = sizeof *r + sizeof *n, count, op_count;
    if (b->len < at)
        return -1;
    memcpy(&count, b->data + sizeof *r, sizeof count);
    if (count > (b->len - at) / sizeof(double) || b->len - at - count * sizeof(double) <
                                                     sizeof op_count)
        return -1;
    memcpy(&op_count, b->data + at + count * sizeof(double), sizeof op_count);
    size_t ops_at = at + count * sizeof(double) + sizeof op_count;
    if (op_count > (b->len - ops_at) / sizeof **ops ||
        b->len != ops_at + op_count * sizeof **ops)
        return -1;
    *samples = malloc(count ? count * sizeof(double) : 1);
    *ops = malloc(op_count ? op_count * sizeof **ops : 1);
    if (!*samples || !*ops) {
        free(*samples);
        free(*ops);
        *samples = NULL;
        *ops = NULL;
        return -1;
    }
    memcpy(r, b->data, sizeof *r);
    memcpy(*samples, b->data + at, count * sizeof(double));
    memcpy(*ops, b->data + ops_at, op_count * sizeof **ops);
    *n = count;
    *n_ops = op_count;
    return 0;
}

static void runner_fork_trial(const eb_trial *t, eb_result *r, double **samples, size_t *n,
                              eb_op_record **ops, size_t *n_ops, runner_tick_fn tick,
                              void *tick_ctx)
{
    int fds[2];
    runner_buf buf = {0};
    int status = 0;

    *samples = NULL;
    *n = 0;
    *ops = NULL;
    *n_ops = 0;
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
    int timed_out = runner_read_until(fds[0], &buf, eb_now_ms() + t->measure->timeout_s * 1e3,
                                      tick, tick_ctx) == 1;
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;

    if (!timed_out && runner_parse_record(&buf, r, samples, n, ops, n_ops) == 0) {
        free(buf.data);
        return;
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

/* --- the device around each trial: cooldown, idle power, telemetry ---------------------- */

typedef struct runner_monitor {
    eb_telemetry *tele;
    FILE *csv;          /* OUT/telemetry.csv */
    double idle_c;      /* hottest zone at run start */
    double t0;
    const char *run_id;
    char label[16];     /* the trial's number, as in results.csv's trial column */
} runner_monitor;

static void runner_tick(void *ctx)
{
    runner_monitor *m = ctx;
    eb_telemetry_sample(m->tele, eb_now_ms() - m->t0, m->csv, m->run_id, m->label);
}

/* Before the fork: the cooldown gate, the idle power baseline, telemetry's start state. */
static void runner_before_trial(runner_monitor *m, const eb_scenario *s, eb_energy *energy,
                                eb_result *r)
{
    char pus[256] = "";
    eb_err err;
    if (s->has_cooldown) {
        eb_cooldown_env env = {eb_cooldown_telemetry_temp, NULL, NULL, m->tele};
        eb_cooldown_result cr;
        eb_cooldown_wait(&s->cooldown, m->idle_c, &env, &cr);
        r->cooldown_wait_s = cr.waited_s;
        r->cooldown_temp_c = cr.temp_c;
        snprintf(r->cooldown_note, sizeof r->cooldown_note, "%s", cr.reason);
    }
    eb_energy_idle(energy, r);
    snprintf(m->label, sizeof m->label, "%d", r->trial);
    if (eb_device_cores_pus(r->cores, pus, sizeof pus, &err) != 0)
        pus[0] = '\0';
    eb_telemetry_begin(m->tele, pus);
    m->t0 = eb_now_ms();
    runner_tick(m);
}

/* After the child is reaped: the last sample and the verdict on throttling. */
static void runner_after_trial(runner_monitor *m, eb_result *r)
{
    eb_telemetry_summary ts;
    runner_tick(m);
    eb_telemetry_end(m->tele, &ts);
    fflush(m->csv);
    r->throttled = ts.throttled;
    snprintf(r->throttle_reason, sizeof r->throttle_reason, "%s", ts.reason);
    r->temp_start_c = ts.temp_start_c;
    r->temp_end_c = ts.temp_end_c;
    r->temp_max_c = ts.temp_max_c;
    r->freq_mhz_mean = ts.freq_mhz_mean;
}

/* OUT/ops.csv: per node, then per operator type (summed), with each one's share of the
 * trial's profiled time. */
static int runner_write_ops(eb_results *results, const eb_result *r, const eb_op_record *ops,
                            size_t n, eb_err *err)
{
    double total = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        total += ops[i].ms;
    for (size_t i = 0; i < n; i++)
        if (eb_results_append_op(results, r, "node", ops[i].node, ops[i].op_type, ops[i].ms,
                                 total > 0 ? ops[i].ms / total : 0, err) != 0)
            return -1;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        double sum = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(ops[j].op_type, ops[i].op_type) == 0;
        if (seen)
            continue;
        for (size_t j = i; j < n; j++)
            if (strcmp(ops[j].op_type, ops[i].op_type) == 0)
                sum += ops[j].ms;
        if (eb_results_append_op(results, r, "op_type", "", ops[i].op_type, sum,
                                 total > 0 ? sum / total : 0, err) != 0)
            return -1;
    }
    return 0;
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

/* Facts about the run that are not per trial, for run.csv. */
typedef struct runner_facts {
    const char *run_id, *started, *finished;
    size_t trials, not_ok;
    char energy[512];     /* the meter in use, or why none */
    char telemetry[256];  /* what device state can be sampled */
    double overhead_ns;   /* the harness's own cost per timed iteration */
} runner_facts;

static int runner_write_meta(const char *dir, const eb_scenario *s, const eb_run_opts *o,
                             const runner_facts *f, eb_err *err)
{
    eb_kv kv[64];
    size_t n = 0;
    char num[32];
    n = runner_kv(kv, n, 64, "run_id", f->run_id);
    n = runner_kv(kv, n, 64, "scenario", s->name);
    n = runner_kv(kv, n, 64, "scenario_file", s->path);
    n = runner_kv(kv, n, 64, "command_line", o->command_line);
    n = runner_kv(kv, n, 64, "edgebench_version", EB_VERSION);
    n = runner_kv(kv, n, 64, "git_commit", EB_GIT_COMMIT);
    n = runner_kv(kv, n, 64, "quick", o->quick ? "true" : "false");
    n = runner_kv(kv, n, 64, "started_at", f->started);
    n = runner_kv(kv, n, 64, "finished_at", f->finished);
    snprintf(num, sizeof num, "%zu", f->trials);
    n = runner_kv(kv, n, 64, "trials", num);
    snprintf(num, sizeof num, "%zu", f->not_ok);
    n = runner_kv(kv, n, 64, "trials_not_ok", num);
    snprintf(num, sizeof num, "%.1f", f->overhead_ns);
    n = runner_kv(kv, n, 64, "harness_overhead_ns_per_iteration", isnan(f->overhead_ns) ? "" : num);
    n = runner_kv(kv, n, 64, "energy_meter", f->energy);
    /* What the recommendation needs: the scenario's objective and constraints. */
    n = runner_kv(kv, n, 64, "objective", s->objective);
    for (size_t i = 0; i < s->n_constraints; i++) {
        char key[64];
        snprintf(key, sizeof key, "constraint.%s", s->constraints[i].key);
        snprintf(num, sizeof num, "%g", s->constraints[i].value);
        n = runner_kv(kv, n, 64, key, num);
    }
    n = runner_kv(kv, n, 64, "telemetry", f->telemetry);
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
                            const char *cores, int batch, eb_load_mode mode, int trial)
{
    eb_result_init(r);
    snprintf(r->mode, sizeof r->mode, "%s", eb_load_mode_name(mode));
    r->trial = trial;
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

/* The run's shared state, opened before the first trial and closed after the last. */
typedef struct runner_state {
    eb_dataset data;
    int has_data;
    eb_results *results;
    eb_energy energy;
    int has_energy;
    runner_monitor mon;
    runner_facts facts;
    eb_result *rows;
} runner_state;

static int runner_open(runner_state *st, eb_scenario *s, const eb_run_opts *o, const char *dir,
                       size_t total, eb_err *err)
{
    char path[4096];
    st->rows = calloc(total ? total : 1, sizeof *st->rows);
    if (!st->rows)
        return eb_errf(err, "out of memory for %zu trials", total);
    if (s->has_dataset) {
        if (eb_dataset_load(&s->dataset, &st->data, err) != 0)
            return eb_err_prefix(err, "%s: dataset", s->path);
        st->has_data = 1;
    }
    if (eb_energy_setup(&st->energy, s, err) != 0)
        return -1;
    st->has_energy = 1;
    snprintf(st->facts.energy, sizeof st->facts.energy, "%s", eb_energy_describe(&st->energy));
    if (eb_telemetry_open(&st->mon.tele, NULL, err) != 0)
        return -1;
    eb_telemetry_describe(st->mon.tele, st->facts.telemetry, sizeof st->facts.telemetry);
    st->mon.idle_c = eb_telemetry_hottest_c(st->mon.tele);
    st->mon.run_id = st->facts.run_id;
    st->facts.overhead_ns = eb_overhead_ns_per_iteration();
    if (eb_results_open(&st->results, dir, err) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/telemetry.csv", dir);
    if (!(st->mon.csv = fopen(path, "w")))
        return eb_errf(err, "%s: cannot write: %s", path, strerror(errno));
    fputs(eb_telemetry_csv_header(), st->mon.csv);
    return runner_write_meta(dir, s, o, &st->facts, err);
}

static void runner_close(runner_state *st)
{
    if (st->results)
        eb_results_close(st->results);
    if (st->mon.csv)
        fclose(st->mon.csv);
    if (st->mon.tele)
        eb_telemetry_close(st->mon.tele);
    if (st->has_energy)
        eb_energy_free(&st->energy);
    if (st->has_data)
        eb_dataset_free(&st->data);
    free(st->rows);
}

int eb_runner_run(eb_scenario *s, const eb_run_opts *o, eb_err *err)
{
    const char *dir = o->out_dir ? o->out_dir : s->output;
    int show = o->progress || (!o->quiet && isatty(STDERR_FILENO));
    runner_state st = {0};
    char run_id[40], started[32], finished[32] = "";
    size_t total = s->n_variants * s->n_backends * s->n_threads * s->n_cores * s->n_batches *
                   s->n_modes;
    size_t done = 0, not_ok = 0;
    int code = 0;

    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(run_id, sizeof run_id, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(run_id + strlen(run_id), sizeof run_id - strlen(run_id), "-%ld", (long)getpid());
    }
    runner_iso_time(started, sizeof started);
    st.facts = (runner_facts){.run_id = run_id, .started = started, .finished = finished,
                              .trials = total};
    if (runner_open(&st, s, o, dir, total, err) != 0 || eb_scenario_setup(s, err) != 0) {
        code = 2;
        goto out;
    }

    for (size_t v = 0; v < s->n_variants; v++)
        for (size_t b = 0; b < s->n_backends; b++)
            for (size_t t = 0; t < s->n_threads; t++)
                for (size_t c = 0; c < s->n_cores; c++)
                    for (size_t k = 0; k < s->n_batches; k++)
                        for (size_t md = 0; md < s->n_modes; md++) {
                            eb_result *r = &st.rows[done];
                            eb_option opts[64];
                            const eb_backend_i *backend = eb_backend_find(s->backends[b]);
                            eb_trial trial = {
                                .variant = &s->variants[v],
                                .backend = backend,
                                .threads = s->threads[t],
                                .cores = s->cores[c],
                                .batch = s->batches[k],
                                .data = st.has_data ? &st.data : NULL,
                                .measure = &s->measure,
                                .options = opts,
                                .n_options = runner_backend_options(s, s->backends[b], opts, 64),
                                .mode = s->modes[md],
                                .server = &s->server,
                                .energy = &st.energy,
                            };
                            double *samples, t0 = eb_now_ms();
                            size_t n_samples, n_ops;
                            eb_op_record *ops;

                            done++;
                            runner_identity(r, run_id, s, trial.variant, backend->name,
                                            trial.threads, trial.cores, trial.batch, trial.mode,
                                            (int)done);
                            if (show)
                                runner_progress_start(stderr, done, total, r);
                            runner_before_trial(&st.mon, s, &st.energy, r);
                            runner_fork_trial(&trial, r, &samples, &n_samples, &ops, &n_ops,
                                              runner_tick, &st.mon);
                            runner_after_trial(&st.mon, r);
                            not_ok += strcmp(r->status, "ok") != 0;
                            int bad = eb_results_append(st.results, r, samples, n_samples, err) ||
                                      runner_write_ops(st.results, r, ops, n_ops, err);
                            free(samples);
                            free(ops);
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
    if (st.results) {
        eb_err meta_err;
        st.facts.trials = done;
        st.facts.not_ok = not_ok;
        if (runner_write_meta(dir, s, o, &st.facts, &meta_err) != 0 && code == 0) {
            *err = meta_err;
            code = 2;
        }
    }
    if (!o->quiet && done > 0) {
        printf("\n%-16s %-8s %7s %5s %10s %10s %10s %8s %10s  %s\n", "variant", "backend",
               "threads", "batch", "p50_ms", "p99_ms", "ips", "top1", "peak_kb", "status");
        for (size_t i = 0; i < done; i++)
            runner_summary_row(stdout, &st.rows[i]);
        printf("\nresults: %s/results.csv (%zu trial%s, %zu not ok)\n", dir, done,
               done == 1 ? "" : "s", not_ok);
    }
    runner_close(&st);
    return code ? code : not_ok ? 1 : 0;
}
