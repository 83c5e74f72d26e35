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
#include "fidelity.h"
#include "model_facts.h"
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

/* The record on the pipe: the result, the sample count and samples, the op count and ops,
 * then the kept outputs' sample count, width and values (0, 0 when none were kept). */
static void runner_child(const eb_trial *t, eb_result *r, int fd)
{
    double *samples;
    size_t n, n_ops;
    eb_op_record *ops;
    eb_trial_scores none = {0};
    eb_trial_execute(t, r, &samples, &n, &ops, &n_ops);
    const eb_trial_scores *sc = t->scores && t->scores->values ? t->scores : &none;
    int bad = runner_write_all(fd, r, sizeof *r) || runner_write_all(fd, &n, sizeof n) ||
              runner_write_all(fd, samples, n * sizeof *samples) ||
              runner_write_all(fd, &n_ops, sizeof n_ops) ||
              runner_write_all(fd, ops, n_ops * sizeof *ops) ||
              runner_write_all(fd, &sc->n, sizeof sc->n) ||
              runner_write_all(fd, &sc->width, sizeof sc->width) ||
              runner_write_all(fd, sc->values, sc->n * sc->width * sizeof *sc->values);
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

/* Parses the child's record; 0 when it is complete and consistent.  scores (may be NULL:
 * the values are then checked and dropped) receives the kept outputs. */
static int runner_parse_record(const runner_buf *b, eb_result *r, double **samples, size_t *n,
                               eb_op_record **ops, size_t *n_ops, eb_trial_scores *scores)
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
    size_t sc_n, sc_width, sc_at = ops_at + op_count * sizeof **ops;
    if (op_count > (b->len - ops_at) / sizeof **ops || b->len - sc_at < 2 * sizeof(size_t))
        return -1;
    memcpy(&sc_n, b->data + sc_at, sizeof sc_n);
    memcpy(&sc_width, b->data + sc_at + sizeof sc_n, sizeof sc_width);
    sc_at += 2 * sizeof(size_t);
    if ((sc_width && sc_n > (b->len - sc_at) / sizeof(float) / sc_width) ||
        b->len != sc_at + sc_n * sc_width * sizeof(float))
        return -1;
    *samples = malloc(count ? count * sizeof(double) : 1);
    *ops = malloc(op_count ? op_count * sizeof **ops : 1);
    size_t sc_values = sc_n * sc_width;
    float *values = scores && sc_values > 0 ? malloc(sc_values * sizeof(float)) : NULL;
    if (!*samples || !*ops || (scores && sc_values > 0 && !values)) {
        free(*samples);
        free(*ops);
        free(values);
        *samples = NULL;
        *ops = NULL;
        return -1;
    }
    if (values) {
        memcpy(values, b->data + sc_at, sc_values * sizeof(float));
        *scores = (eb_trial_scores){values, sc_n, sc_width};
    }
    memcpy(r, b->data, sizeof *r);
    memcpy(*samples, b->data + at, count * sizeof(double));
    memcpy(*ops, b->data + ops_at, op_count * sizeof **ops);
    *n = count;
    *n_ops = op_count;
    return 0;
}

/* t->scores, when set, receives the kept outputs in the parent (values NULL when none). */
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
    if (t->scores)
        *t->scores = (eb_trial_scores){0};
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

    if (!timed_out && runner_parse_record(&buf, r, samples, n, ops, n_ops, t->scores) == 0) {
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

/* own_data: the row is measured on a variant's own dataset, which the line then names. */
static void runner_progress_start(FILE *f, size_t i, size_t n, const eb_result *r, int own_data)
{
    fprintf(f, "[%zu/%zu] %s on %s, %d thread%s, cores %s, batch %d%s%s ...\n", i, n,
            r->variant, r->backend, r->threads, r->threads == 1 ? "" : "s", r->cores, r->batch,
            own_data ? ", dataset " : "", own_data ? r->dataset : "");
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

static void runner_summary_row(FILE *f, const eb_result *r, const char *scenario_data)
{
    char top1[16] = "-", label[300];
    /* A row on a variant's own dataset names it, so a base's two rows tell apart. */
    if (r->dataset[0] && strcmp(r->dataset, scenario_data) != 0)
        snprintf(label, sizeof label, "%s [%s]", r->variant, r->dataset);
    else
        snprintf(label, sizeof label, "%s", r->variant);
    if (!isnan(r->accuracy_top1))
        snprintf(top1, sizeof top1, "%.2f%%", 100 * r->accuracy_top1);
    if (strcmp(r->status, "ok") == 0)
        fprintf(f, "%-16s %-8s %7d %5d %10.3f %10.3f %10.1f %8s %10ld  ok\n", label,
                r->backend, r->threads, r->batch, r->latency.p50, r->latency.p99,
                r->throughput_ips, top1, r->peak_rss_kb);
    else
        fprintf(f, "%-16s %-8s %7d %5d %10s %10s %10s %8s %10s  %s\n", label, r->backend,
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

/* The scenario's options for this backend, then the variant's own (later ones win). */
static size_t runner_backend_options(const eb_scenario *s, const eb_variant *v,
                                     const char *backend, eb_option *opts, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_options && n < max; i++)
        if (strcmp(s->options[i].backend, backend) == 0)
            opts[n++] = (eb_option){s->options[i].key, s->options[i].value};
    for (size_t i = 0; i < v->n_options && n < max; i++)
        if (strcmp(v->options[i].backend, backend) == 0)
            opts[n++] = (eb_option){v->options[i].key, v->options[i].value};
    return n;
}

static void runner_identity(eb_result *r, const char *run_id, const eb_scenario *s,
                            const eb_variant *v, const char *backend, int threads,
                            const char *cores, int batch, eb_load_mode mode, int trial,
                            const char *dataset)
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
    snprintf(r->dataset, sizeof r->dataset, "%s", dataset ? dataset : "");
    r->threads = threads;
    r->batch = batch;
}

static int runner_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Two descriptions of the same data (then it loads once). */
static int runner_spec_equal(const eb_dataset_spec *a, const eb_dataset_spec *b)
{
    return a->kind == b->kind && runner_str_eq(a->name, b->name) &&
           runner_str_eq(a->images, b->images) && runner_str_eq(a->labels, b->labels) &&
           runner_str_eq(a->x, b->x) && runner_str_eq(a->y, b->y) &&
           runner_str_eq(a->path, b->path) && runner_str_eq(a->label_column, b->label_column) &&
           a->header == b->header && a->ndim == b->ndim &&
           memcmp(a->shape, b->shape, sizeof a->shape) == 0 && a->count == b->count &&
           a->seed == b->seed && a->scale == b->scale && a->n_mean == b->n_mean &&
           a->n_std == b->n_std && memcmp(a->mean, b->mean, sizeof a->mean) == 0 &&
           memcmp(a->std, b->std, sizeof a->std) == 0 && a->reshape_ndim == b->reshape_ndim &&
           memcmp(a->reshape, b->reshape, sizeof a->reshape) == 0 && a->limit == b->limit;
}

/* The dataset column: the description's name, else its file's name, else its kind. */
static void runner_dataset_name(const eb_dataset_spec *d, char *buf, size_t n)
{
    const char *file = d->images ? d->images : d->x ? d->x : d->path;
    if (d->name)
        snprintf(buf, n, "%s", d->name);
    else if (file)
        snprintf(buf, n, "%s", strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
    else
        snprintf(buf, n, "random");
}

/* A dataset of the run: loaded once in the parent, shared by the trials measured on it. */
typedef struct runner_data {
    const eb_dataset_spec *spec;
    eb_dataset data;
    int loaded;
    char name[128];
} runner_data;

/* One row of the plan before the sweep over backends, threads, cores, batches and modes. */
typedef struct runner_entry {
    size_t variant;
    long data; /* index into the run's datasets, -1 none */
} runner_entry;

/* The run's shared state, opened before the first trial and closed after the last. */
typedef struct runner_state {
    runner_data *data;
    size_t n_data;
    runner_entry *plan;
    size_t n_plan;
    eb_weight_facts *weights; /* per variant; weight_bits -1 when unknown */
    eb_results *results;
    eb_energy energy;
    int has_energy;
    runner_monitor mon;
    runner_facts facts;
    eb_result *rows;
    runner_entry *row_entry;   /* per trial: what it measured */
    eb_trial_scores *scores;   /* per trial: kept outputs (only a base's are kept past its
                                * own fidelity) */
} runner_state;

/* The index of v's dataset among the run's (adding it when new), or -1 without one. */
static long runner_data_index(runner_state *st, const eb_dataset_spec *spec)
{
    for (size_t i = 0; i < st->n_data; i++)
        if (runner_spec_equal(st->data[i].spec, spec))
            return (long)i;
    st->data[st->n_data].spec = spec;
    runner_dataset_name(spec, st->data[st->n_data].name, sizeof st->data[st->n_data].name);
    return (long)st->n_data++;
}

static int runner_plan_has(const runner_state *st, size_t v, long data)
{
    for (size_t i = 0; i < st->n_plan; i++)
        if (st->plan[i].variant == v && st->plan[i].data == data)
            return 1;
    return 0;
}

static long runner_base_index(const eb_scenario *s, size_t v)
{
    for (size_t j = 0; s->variants[v].base && j < s->n_variants; j++)
        if (strcmp(s->variants[j].name, s->variants[v].base) == 0)
            return (long)j;
    return -1;
}

/* Variants in a stable topological order by base (every base before the variants derived
 * from it); each on its own dataset or the scenario's, and a base also on the own dataset of
 * every variant derived from it, so the two compare on the same inputs. */
static int runner_plan(runner_state *st, const eb_scenario *s, eb_err *err)
{
    size_t n = s->n_variants, at = 0;
    long *base_of = calloc(n, sizeof *base_of);
    size_t *order = calloc(n, sizeof *order);
    st->data = calloc(n + 1, sizeof *st->data);
    st->plan = calloc(2 * n, sizeof *st->plan);
    if (!base_of || !order || !st->data || !st->plan) {
        free(base_of);
        free(order);
        return eb_errf(err, "out of memory planning %zu variants", n);
    }
    for (size_t v = 0; v < n; v++)
        base_of[v] = runner_base_index(s, v);
    if (eb_fidelity_order(base_of, n, order, &at) != 0) {
        free(base_of);
        free(order);
        return eb_errf(err, "%s: the bases of the variants form a cycle through '%s'; a base "
                       "must lead back to a variant without one", s->path, s->variants[at].name);
    }
    long scenario_data = s->has_dataset ? runner_data_index(st, &s->dataset) : -1;
    for (size_t k = 0; k < n; k++) {
        size_t v = order[k];
        const eb_variant *var = &s->variants[v];
        long own = var->has_dataset ? runner_data_index(st, &var->dataset) : scenario_data;
        if (!runner_plan_has(st, v, own))
            st->plan[st->n_plan++] = (runner_entry){v, own};
        for (size_t w = 0; w < n; w++) {
            if (base_of[w] != (long)v || !s->variants[w].has_dataset)
                continue;
            long theirs = runner_data_index(st, &s->variants[w].dataset);
            if (!runner_plan_has(st, v, theirs))
                st->plan[st->n_plan++] = (runner_entry){v, theirs};
        }
    }
    free(base_of);
    free(order);
    return 0;
}

/* Is variant v the base of another (so its outputs are kept for comparison)? */
static int runner_is_base(const eb_scenario *s, size_t v)
{
    for (size_t w = 0; w < s->n_variants; w++)
        if (s->variants[w].base && strcmp(s->variants[w].base, s->variants[v].name) == 0)
            return 1;
    return 0;
}

/* Fidelity of trial i against its base's trial on the same backend, threads, cores, batch,
 * mode and dataset; else the base's trial on that dataset and backend; else any of the base's
 * on that dataset.  Rows stay empty when the base has no outputs to compare with. */
static void runner_fidelity(runner_state *st, const eb_scenario *s, size_t i)
{
    eb_result *r = &st->rows[i];
    const eb_trial_scores *mine = &st->scores[i];
    long base = runner_base_index(s, st->row_entry[i].variant);
    long best = -1;
    int best_score = -1;
    if (base < 0 || !mine->values)
        return;
    for (size_t j = 0; j < i; j++) {
        const eb_result *b = &st->rows[j];
        if (st->row_entry[j].variant != (size_t)base ||
            st->row_entry[j].data != st->row_entry[i].data || !st->scores[j].values)
            continue;
        int score = strcmp(b->backend, r->backend) == 0 ? 1 : 0;
        if (score && b->threads == r->threads && strcmp(b->cores, r->cores) == 0 &&
            b->batch == r->batch && strcmp(b->mode, r->mode) == 0)
            score = 2;
        if (score > best_score) {
            best_score = score;
            best = (long)j;
        }
    }
    if (best < 0)
        return;
    const eb_trial_scores *theirs = &st->scores[best];
    eb_fidelity f;
    if (eb_fidelity_compare(mine->values, mine->n, mine->width, theirs->values, theirs->n,
                            theirs->width, &f) != 0)
        return;
    r->agreement_top1 = f.agreement_top1;
    r->max_abs_diff = f.max_abs_diff;
    r->mean_abs_diff = f.mean_abs_diff;
    r->fidelity_samples = f.samples;
    r->fidelity_trial = st->rows[best].trial;
}

/* Cross-backend check of trial i (on a backend other than ref) against ref's trial of the same
 * variant, dataset, threads, cores, batch and mode, run before it (ref's backends come first in
 * the plan).  Rows stay empty without such a trial or without outputs on either side. */
static void runner_crosscheck(runner_state *st, size_t i)
{
    eb_result *r = &st->rows[i];
    const eb_trial_scores *mine = &st->scores[i];
    if (!mine->values || strcmp(r->backend, "ref") == 0)
        return;
    for (size_t j = 0; j < i; j++) {
        const eb_result *b = &st->rows[j];
        if (strcmp(b->backend, "ref") != 0 || st->row_entry[j].variant != st->row_entry[i].variant ||
            st->row_entry[j].data != st->row_entry[i].data || !st->scores[j].values ||
            b->threads != r->threads || strcmp(b->cores, r->cores) != 0 || b->batch != r->batch ||
            strcmp(b->mode, r->mode) != 0)
            continue;
        eb_fidelity f;
        const eb_trial_scores *theirs = &st->scores[j];
        if (eb_fidelity_compare(mine->values, mine->n, mine->width, theirs->values, theirs->n,
                                theirs->width, &f) != 0)
            return;
        r->agreement_vs_ref = f.agreement_top1;
        r->max_abs_diff_vs_ref = f.max_abs_diff;
        if (f.agreement_top1 < 0.99)
            snprintf(r->crosscheck_note, sizeof r->crosscheck_note,
                     "disagrees with ref on %.1f%% of samples", 100.0 * (1.0 - f.agreement_top1));
        return;
    }
}

/* The order the backends run in: ref first (its trials are what the others are checked
 * against), the others as declared.  Returns whether the outputs are cross-checked: ref and
 * at least one other backend. */
static int runner_backend_order(const eb_scenario *s, size_t *order)
{
    size_t k = 0, has_ref = 0;
    for (size_t b = 0; b < s->n_backends; b++)
        if (strcmp(s->backends[b], "ref") == 0) {
            order[k++] = b;
            has_ref = 1;
        }
    for (size_t b = 0; b < s->n_backends; b++)
        if (strcmp(s->backends[b], "ref") != 0)
            order[k++] = b;
    return has_ref && s->n_backends > 1;
}

static int runner_open(runner_state *st, eb_scenario *s, const eb_run_opts *o, const char *dir,
                       size_t total, eb_err *err)
{
    char path[4096];
    st->rows = calloc(total ? total : 1, sizeof *st->rows);
    st->row_entry = calloc(total ? total : 1, sizeof *st->row_entry);
    st->scores = calloc(total ? total : 1, sizeof *st->scores);
    st->weights = calloc(s->n_variants ? s->n_variants : 1, sizeof *st->weights);
    if (!st->rows || !st->row_entry || !st->scores || !st->weights)
        return eb_errf(err, "out of memory for %zu trials", total);
    for (size_t i = 0; i < st->n_data; i++) {
        if (eb_dataset_load(st->data[i].spec, &st->data[i].data, err) != 0)
            return eb_err_prefix(err, "%s: dataset %s", s->path, st->data[i].name);
        st->data[i].loaded = 1;
    }
    /* Read here, not in the trial: parsing the model would count in the trial's memory. */
    for (size_t v = 0; v < s->n_variants; v++) {
        eb_err ignored;
        if (!s->variants[v].model ||
            eb_weight_facts_read(s->variants[v].model, &st->weights[v], &ignored) != 0) {
            st->weights[v].weight_bytes = -1; /* not ONNX (or no file): the columns stay empty */
            st->weights[v].weight_bits = -1;
        }
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

static void runner_close(runner_state *st, size_t trials)
{
    if (st->results)
        eb_results_close(st->results);
    if (st->mon.csv)
        fclose(st->mon.csv);
    if (st->mon.tele)
        eb_telemetry_close(st->mon.tele);
    if (st->has_energy)
        eb_energy_free(&st->energy);
    for (size_t i = 0; st->data && i < st->n_data; i++)
        if (st->data[i].loaded)
            eb_dataset_free(&st->data[i].data);
    for (size_t i = 0; st->scores && i < trials; i++)
        free(st->scores[i].values);
    free(st->scores);
    free(st->row_entry);
    free(st->weights);
    free(st->data);
    free(st->plan);
    free(st->rows);
}

/* The facts the parent adds to a trial's row: the model's weights and the sparsity. */
static void runner_model_facts(const runner_state *st, size_t v, eb_result *r)
{
    r->weight_bytes = st->weights[v].weight_bytes;
    r->weight_bits = st->weights[v].weight_bits;
    if (r->params > 0 && r->nonzero_params >= 0 && r->nonzero_params <= r->params)
        r->sparsity = 1.0 - (double)r->nonzero_params / (double)r->params;
}

int eb_runner_run(eb_scenario *s, const eb_run_opts *o, eb_err *err)
{
    const char *dir = o->out_dir ? o->out_dir : s->output;
    int show = o->progress || (!o->quiet && isatty(STDERR_FILENO));
    runner_state st = {0};
    char run_id[40], started[32], finished[32] = "";
    size_t total = 0, done = 0, not_ok = 0;
    size_t *border = NULL; /* the backends' order: ref first */
    int code = 0;

    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(run_id, sizeof run_id, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(run_id + strlen(run_id), sizeof run_id - strlen(run_id), "-%ld", (long)getpid());
    }
    runner_iso_time(started, sizeof started);
    if (runner_plan(&st, s, err) != 0) {
        runner_close(&st, 0);
        return 2;
    }
    total = st.n_plan * s->n_backends * s->n_threads * s->n_cores * s->n_batches * s->n_modes;
    st.facts = (runner_facts){.run_id = run_id, .started = started, .finished = finished,
                              .trials = total};
    if (runner_open(&st, s, o, dir, total, err) != 0 || eb_scenario_setup(s, err) != 0) {
        code = 2;
        goto out;
    }

    border = calloc(s->n_backends ? s->n_backends : 1, sizeof *border);
    if (!border) {
        code = 2;
        eb_errf(err, "out of memory ordering %zu backends", s->n_backends);
        goto out;
    }
    int crosscheck = runner_backend_order(s, border);
    for (size_t e = 0; e < st.n_plan; e++)
        for (size_t bo = 0; bo < s->n_backends; bo++)
            for (size_t t = 0; t < s->n_threads; t++)
                for (size_t c = 0; c < s->n_cores; c++)
                    for (size_t k = 0; k < s->n_batches; k++)
                        for (size_t md = 0; md < s->n_modes; md++) {
                            size_t b = border[bo];
                            const runner_entry *entry = &st.plan[e];
                            const eb_variant *var = &s->variants[entry->variant];
                            runner_data *data = entry->data >= 0 ? &st.data[entry->data] : NULL;
                            eb_result *r = &st.rows[done];
                            eb_trial_scores *kept = &st.scores[done];
                            int is_base = runner_is_base(s, entry->variant);
                            int is_ref = strcmp(s->backends[b], "ref") == 0;
                            eb_option opts[64];
                            const eb_backend_i *backend = eb_backend_find(s->backends[b]);
                            eb_trial trial = {
                                .variant = var,
                                .backend = backend,
                                .threads = s->threads[t],
                                .cores = s->cores[c],
                                .batch = s->batches[k],
                                .data = data ? &data->data : NULL,
                                .measure = &s->measure,
                                .options = opts,
                                .n_options = runner_backend_options(s, var, s->backends[b],
                                                                    opts, 64),
                                .mode = s->modes[md],
                                .server = &s->server,
                                .energy = &st.energy,
                                .scores = var->base || is_base || crosscheck ? kept : NULL,
                            };
                            double *samples, t0 = eb_now_ms();
                            size_t n_samples, n_ops;
                            eb_op_record *ops;

                            st.row_entry[done] = *entry;
                            done++;
                            runner_identity(r, run_id, s, var, backend->name, trial.threads,
                                            trial.cores, trial.batch, trial.mode, (int)done,
                                            data ? data->name : NULL);
                            if (show)
                                runner_progress_start(stderr, done, total, r,
                                                      entry->data >= 0 &&
                                                          !(s->has_dataset && entry->data == 0));
                            runner_before_trial(&st.mon, s, &st.energy, r);
                            runner_fork_trial(&trial, r, &samples, &n_samples, &ops, &n_ops,
                                              runner_tick, &st.mon);
                            runner_after_trial(&st.mon, r);
                            runner_model_facts(&st, entry->variant, r);
                            runner_fidelity(&st, s, done - 1);
                            if (crosscheck)
                                runner_crosscheck(&st, done - 1);
                            if (!is_base && !(crosscheck && is_ref)) {
                                /* nothing will compare with it */
                                free(kept->values);
                                *kept = (eb_trial_scores){0};
                            }
                            /* unsupported: the backend lacks what the variant needs, not a
                             * failure (backends/backend.h, EB_UNSUPPORTED) */
                            not_ok += strcmp(r->status, "ok") != 0 &&
                                      strcmp(r->status, "unsupported") != 0;
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
    free(border);
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
            runner_summary_row(stdout, &st.rows[i], s->has_dataset ? st.data[0].name : "");
        printf("\nresults: %s/results.csv (%zu trial%s, %zu not ok)\n", dir, done,
               done == 1 ? "" : "s", not_ok);
    }
    runner_close(&st, done);
    return code ? code : not_ok ? 1 : 0;
}
