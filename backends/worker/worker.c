/* The harness side of the worker protocol (PROTOCOL.md): one eb_backend_i for any worker
 * command, and the onnxruntime, pytorch and generic `worker` backends built on it. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WORKER_MAX_FIELDS 96
#define WORKER_MAX_LINE (1u << 20)

/* What differs between the worker backends: how to start the worker. */
typedef struct worker_kind {
    const char *name;
    int needs_model; /* 0: the worker may run without a model file (a test double) */
    /* (may be NULL) can it run here?  When not, open answers EB_UNSUPPORTED with the reason,
     * so a scenario listing every backend runs on a device lacking some. */
    int (*probe)(char *why, size_t n);
    /* Fills argv (at most 8 entries, NULL-terminated) for this config; storage in buf. */
    int (*command)(const eb_config *c, char **argv, char *buf, size_t n, eb_err *err);
} worker_kind;

/* One message: the verb and its key=value fields, decoded, pointing into `line`. */
typedef struct worker_msg {
    char *line;
    const char *verb;
    size_t n;
    const char *key[WORKER_MAX_FIELDS], *val[WORKER_MAX_FIELDS];
} worker_msg;

typedef struct worker_session {
    const worker_kind *kind;
    pid_t pid;
    int to, from; /* the worker's stdin and stdout */
    FILE *errlog; /* the worker's stderr, kept for error messages */
    char *rbuf;   /* bytes read from the worker not yet consumed */
    size_t rlen, rcap;
    double open_timeout_ms, run_timeout_ms;
    char runtime[64], version[64];
    char plan[256]; /* "onnxruntime 1.14.0; " + the open answer's plan field, if any */
    eb_io io;
    char names[2 * EB_MAX_IO][256];
    size_t in_bytes, out_bytes;
    unsigned char *send; /* the run message's payload: inputs, concatenated */
    long base_kb;        /* the worker's VmRSS after hello, before the model */
    /* the worker's own per-run times since the last profile reset */
    double wall_sum_ms;
    long wall_runs;
    eb_op_time prof[2];
    char prof_name[2][64];
    int prof_cached; /* prof holds a fresh answer (-1: none asked) */
} worker_session;

static double worker_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the worker process ------------------------------------------------------------------- */

/* The tail of the worker's stderr (its last line or so), for error messages. */
static const char *worker_stderr_tail(worker_session *s, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!s->errlog || n < 2)
        return buf;
    fflush(s->errlog);
    long end = (fseek(s->errlog, 0, SEEK_END), ftell(s->errlog));
    long from = end > (long)n - 1 ? end - (long)n + 1 : 0;
    fseek(s->errlog, from, SEEK_SET);
    size_t k = fread(buf, 1, n - 1, s->errlog);
    buf[k] = '\0';
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' '))
        buf[--k] = '\0';
    char *last = strrchr(buf, '\n');
    /* Python's traceback ends with the exception's line; node's error with the message. */
    if (last && strlen(last + 1) > 8)
        memmove(buf, last + 1, strlen(last + 1) + 1);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return buf;
}

/* How the worker ended, if it did (waits up to wait_ms for it); "" while it runs. */
static const char *worker_exit_status(worker_session *s, double wait_ms, char *buf, size_t n)
{
    int status;
    double until = worker_now_ms() + wait_ms;
    buf[0] = '\0';
    if (s->pid <= 0)
        return buf;
    for (;;) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) {
            s->pid = -1;
            if (WIFSIGNALED(status))
                snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
            else
                snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
            return buf;
        }
        if (r < 0 && errno != EINTR)
            return buf;
        if (worker_now_ms() >= until)
            return buf;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* A failure talking to the worker: says what it was doing, how it ended, what it printed. */
static int worker_fail(worker_session *s, eb_err *err, const char *doing, const char *what)
{
    char status[128], tail[400];
    worker_exit_status(s, 200, status, sizeof status);
    worker_stderr_tail(s, tail, sizeof tail);
    return eb_errf(err, "%s backend, %s: %s%s%s%s%s", s->kind->name, doing, what,
                   status[0] ? "; the worker " : "", status, tail[0] ? "; its stderr: " : "",
                   tail);
}

static int worker_spawn(worker_session *s, char **argv, eb_err *err)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    s->errlog = tmpfile();
    if (!s->errlog || pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
        }
        return eb_errf(err, "%s worker: cannot create its pipes: %s", s->kind->name, strerror(e));
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(s->errlog), 2);
    int rc = posix_spawnp(&s->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    s->to = in[1];
    s->from = out[0];
    if (rc != 0) {
        s->pid = -1;
        return eb_errf(err, "%s worker: cannot start '%s': %s", s->kind->name, argv[0],
                       strerror(rc));
    }
    return 0;
}

/* Writes all of buf; a dead reader gives EPIPE, never a SIGPIPE that would kill the trial. */
static int worker_write(worker_session *s, const void *buf, size_t n, eb_err *err,
                        const char *doing)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    const char *p = buf;
    int bad = 0;
    while (n > 0) {
        ssize_t w = write(s->to, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            bad = errno ? errno : EIO;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (bad == EPIPE) {
        /* Consume the SIGPIPE now pending, so unblocking does not deliver it. */
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (bad)
        return worker_fail(s, err, doing,
                           bad == EPIPE ? "the worker is gone (its stdin is closed)"
                                        : strerror(bad));
    return 0;
}

/* Reads more bytes into rbuf, waiting until deadline; -1 on EOF, error or timeout (err set). */
static int worker_fill(worker_session *s, double deadline, eb_err *err, const char *doing)
{
    if (s->rcap - s->rlen < 65536) {
        size_t cap = s->rcap ? s->rcap * 2 : 1 << 17;
        char *grown = realloc(s->rbuf, cap);
        if (!grown)
            return eb_errf(err, "%s worker: out of memory reading its answer", s->kind->name);
        s->rbuf = grown;
        s->rcap = cap;
    }
    for (;;) {
        double left = deadline - worker_now_ms();
        if (left <= 0) {
            /* Hung: end it, so close() and the trial's exit do not wait on it. */
            if (s->pid > 0)
                kill(s->pid, SIGKILL);
            return worker_fail(s, err, doing,
                               "no answer in time (options open_timeout, run_timeout); killed");
        }
        struct pollfd pf = {.fd = s->from, .events = POLLIN};
        int r = poll(&pf, 1, left > 1e6 ? 1000000 : (int)ceil(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        ssize_t k = read(s->from, s->rbuf + s->rlen, s->rcap - s->rlen);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return worker_fail(s, err, doing, "the worker died (end of its output)");
        s->rlen += (size_t)k;
        return 0;
    }
}

/* Percent-decodes in place. */
static void worker_decode(char *v)
{
    char *w = v;
    for (char *p = v; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && p[1] && p[2] && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else
            *w++ = *p;
    }
    *w = '\0';
}

/* Reads one message's header line and splits it (msg->line is malloc'd; the caller frees). */
static int worker_read_msg(worker_session *s, worker_msg *m, double deadline, eb_err *err,
                           const char *doing)
{
    char *nl;
    memset(m, 0, sizeof *m);
    while (!(nl = s->rlen ? memchr(s->rbuf, '\n', s->rlen) : NULL)) {
        if (s->rlen > WORKER_MAX_LINE)
            return worker_fail(s, err, doing, "its header line is over 1 MiB");
        if (worker_fill(s, deadline, err, doing) != 0)
            return -1;
    }
    size_t len = (size_t)(nl - s->rbuf);
    m->line = malloc(len + 1);
    if (!m->line)
        return eb_errf(err, "%s worker: out of memory", s->kind->name);
    memcpy(m->line, s->rbuf, len);
    m->line[len] = '\0';
    memmove(s->rbuf, nl + 1, s->rlen - len - 1);
    s->rlen -= len + 1;
    char *save = NULL;
    m->verb = strtok_r(m->line, " ", &save);
    if (!m->verb)
        m->verb = "";
    for (char *tok; (tok = strtok_r(NULL, " ", &save)) && m->n < WORKER_MAX_FIELDS;) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        worker_decode(eq + 1);
        m->key[m->n] = tok;
        m->val[m->n++] = eq + 1;
    }
    return 0;
}

static const char *worker_field(const worker_msg *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0)
            return m->val[i];
    return NULL;
}

static int worker_read_bytes(worker_session *s, void *dst, size_t n, double deadline,
                             eb_err *err, const char *doing)
{
    char *d = dst;
    while (n > 0) {
        if (s->rlen == 0 && worker_fill(s, deadline, err, doing) != 0)
            return -1;
        size_t k = s->rlen < n ? s->rlen : n;
        if (d) {
            memcpy(d, s->rbuf, k);
            d += k;
        }
        memmove(s->rbuf, s->rbuf + k, s->rlen - k);
        s->rlen -= k;
        n -= k;
    }
    return 0;
}

/* Appends " key=value" to buf with the value percent-encoded; -1 when it does not fit. */
static int worker_put(char *buf, size_t n, const char *key, const char *value)
{
    size_t at = strlen(buf);
    int w = snprintf(buf + at, n - at, " %s=", key);
    if (w < 0 || (size_t)w >= n - at)
        return -1;
    at += (size_t)w;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (at + 4 >= n)
            return -1;
        if (*p <= ' ' || *p >= 0x7f || *p == '%' || *p == '=')
            at += (size_t)snprintf(buf + at, n - at, "%%%02X", *p);
        else
            buf[at++] = (char)*p;
    }
    buf[at] = '\0';
    return 0;
}

/* Answers other than ok: error -> -1, unsupported -> EB_UNSUPPORTED (err says why). */
static int worker_check(worker_session *s, const worker_msg *m, eb_err *err, const char *doing)
{
    if (strcmp(m->verb, "ok") == 0)
        return 0;
    const char *why = worker_field(m, "reason");
    if (!why)
        why = worker_field(m, "message");
    if (strcmp(m->verb, "unsupported") == 0) {
        eb_errf(err, "%s: %s", s->kind->name, why ? why : "the runtime cannot run this model");
        return EB_UNSUPPORTED;
    }
    if (strcmp(m->verb, "error") == 0)
        return eb_errf(err, "%s backend, %s: %s", s->kind->name, doing, why ? why : "failed");
    return eb_errf(err, "%s worker %s: unexpected answer '%.40s' (PROTOCOL.md)", s->kind->name,
                   doing, m->verb);
}

/* ---- memory of the worker ------------------------------------------------------------------ */

static long worker_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t n = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = atol(line + n + 1);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* ---- io description ------------------------------------------------------------------------ */

/* "NAME:DTYPE:D0,D1,..." (NAME may hold ':', so split from the right) into t. */
static int worker_parse_tensor(const char *v, eb_tensor *t, char *name, size_t n)
{
    const char *c2 = strrchr(v, ':');
    if (!c2 || c2 == v)
        return -1;
    const char *c1 = c2 - 1;
    while (c1 > v && *c1 != ':')
        c1--;
    if (*c1 != ':')
        return -1;
    char dtype[32];
    snprintf(name, n, "%.*s", (int)(c1 - v), v);
    snprintf(dtype, sizeof dtype, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    memset(t, 0, sizeof *t);
    t->name = name;
    t->dtype = eb_dtype_from_name(dtype);
    if (t->dtype == EB_DTYPE_UNDEFINED)
        return -1;
    for (const char *p = c2 + 1; *p;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || t->ndim == EB_MAX_DIMS)
            return -1;
        t->shape[t->ndim++] = d;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return 0;
}

static int worker_parse_io(worker_session *s, const worker_msg *m, eb_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        int is_in = strcmp(m->key[i], "in") == 0;
        if (!is_in && strcmp(m->key[i], "out") != 0)
            continue;
        size_t *count = is_in ? &s->io.n_inputs : &s->io.n_outputs;
        eb_tensor *t = is_in ? &s->io.inputs[*count] : &s->io.outputs[*count];
        if (*count == EB_MAX_IO || k == 2 * EB_MAX_IO)
            return eb_errf(err, "%s worker: over %d inputs or outputs", s->kind->name,
                           EB_MAX_IO);
        if (worker_parse_tensor(m->val[i], t, s->names[k], sizeof s->names[k]) != 0)
            return eb_errf(err, "%s worker: bad tensor description '%.200s' (NAME:DTYPE:DIMS, "
                                "PROTOCOL.md)",
                           s->kind->name, m->val[i]);
        k++;
        (*count)++;
    }
    if (s->io.n_outputs == 0)
        return eb_errf(err, "%s worker: its open answer describes no outputs", s->kind->name);
    for (size_t i = 0; i < s->io.n_inputs; i++)
        s->in_bytes += eb_tensor_bytes(&s->io.inputs[i]);
    for (size_t i = 0; i < s->io.n_outputs; i++)
        s->out_bytes += eb_tensor_bytes(&s->io.outputs[i]);
    return 0;
}

/* ---- the backend methods --------------------------------------------------------------------- */

static void worker_close(void *session)
{
    worker_session *s = session;
    char status[128];
    if (!s)
        return;
    if (s->pid > 0 && s->to >= 0) {
        eb_err ignored;
        if (worker_write(s, "close\n", 6, &ignored, "closing") == 0) {
            worker_msg m;
            if (worker_read_msg(s, &m, worker_now_ms() + 2000, &ignored, "closing") == 0)
                free(m.line);
        }
    }
    if (s->to >= 0)
        close(s->to); /* end of its stdin: a worker that missed `close` exits on it */
    if (s->pid > 0 && !worker_exit_status(s, 2000, status, sizeof status)[0]) {
        kill(s->pid, SIGKILL);
        worker_exit_status(s, 5000, status, sizeof status);
    }
    if (s->from >= 0)
        close(s->from);
    if (s->errlog)
        fclose(s->errlog);
    free(s->rbuf);
    free(s->send);
    free(s);
}

/* The option's value (the last occurrence wins, as the harness's eb_option_get) or def. */
static const char *worker_option(const eb_config *c, const char *key, const char *def)
{
    const char *v = def;
    for (size_t i = 0; i < c->n_options; i++)
        if (strcmp(c->options[i].key, key) == 0)
            v = c->options[i].value;
    return v;
}

static double worker_seconds_option(const eb_config *c, const char *key, double def)
{
    const char *v = worker_option(c, key, NULL);
    char *end;
    double x = v ? strtod(v, &end) : def;
    if (v && (end == v || x <= 0))
        x = def;
    return x * 1e3;
}

/* Starts the worker, checks its hello, sends open, reads the io description. */
static int worker_open_kind(const worker_kind *kind, const eb_model *model,
                            const eb_config *config, void **session, eb_err *err)
{
    worker_session *s = calloc(1, sizeof *s);
    char *argv[9] = {0}, argbuf[PATH_MAX * 3];
    char header[16384];
    worker_msg m = {0};
    int rc = -1;
    if (!s)
        return eb_errf(err, "%s: out of memory", kind->name);
    s->kind = kind;
    s->to = s->from = -1;
    s->pid = -1;
    s->prof_cached = -1;
    s->open_timeout_ms = worker_seconds_option(config, "open_timeout", 300);
    s->run_timeout_ms = worker_seconds_option(config, "run_timeout", 60);
    if (!model->path && kind->needs_model) {
        eb_errf(err, "%s: needs a model file", kind->name);
        goto fail;
    }
    char why[256];
    if (kind->probe && kind->probe(why, sizeof why) != 0) {
        eb_errf(err, "%s is not available here: %s", kind->name, why);
        rc = EB_UNSUPPORTED;
        goto fail;
    }
    if (kind->command(config, argv, argbuf, sizeof argbuf, err) != 0 ||
        worker_spawn(s, argv, err) != 0)
        goto fail;
    double deadline = worker_now_ms() + s->open_timeout_ms;
    if (worker_read_msg(s, &m, deadline, err, "starting") != 0)
        goto fail;
    const char *proto = worker_field(&m, "protocol");
    if (strcmp(m.verb, "hello") != 0 || !proto) {
        worker_fail(s, err, "starting", "its first line is not `hello protocol=N ...`");
        goto fail;
    }
    if (atoi(proto) != EB_WORKER_PROTOCOL) {
        eb_errf(err, "%s worker speaks protocol %s, this edgebench %d (PROTOCOL.md)", kind->name,
                proto, EB_WORKER_PROTOCOL);
        goto fail;
    }
    snprintf(s->runtime, sizeof s->runtime, "%s",
             worker_field(&m, "runtime") ? worker_field(&m, "runtime") : kind->name);
    snprintf(s->version, sizeof s->version, "%s",
             worker_field(&m, "version") ? worker_field(&m, "version") : "?");
    free(m.line);
    m.line = NULL;
    s->base_kb = worker_status_kb(s->pid, "VmRSS");

    char num[32];
    snprintf(header, sizeof header, "open");
    int bad = model->path ? worker_put(header, sizeof header, "model", model->path) : 0;
    snprintf(num, sizeof num, "%d", config->threads);
    bad |= worker_put(header, sizeof header, "threads", num);
    snprintf(num, sizeof num, "%d", config->batch);
    bad |= worker_put(header, sizeof header, "batch", num);
    for (size_t i = 0; i < config->n_options; i++) {
        char key[96];
        snprintf(key, sizeof key, "opt.%.80s", config->options[i].key);
        bad |= worker_put(header, sizeof header, key, config->options[i].value);
    }
    if (bad) {
        eb_errf(err, "%s: the open message is over %zu bytes (model path, options)", kind->name,
                sizeof header);
        goto fail;
    }
    strcat(header, "\n");
    if (worker_write(s, header, strlen(header), err, "opening the model") != 0 ||
        worker_read_msg(s, &m, deadline, err, "opening the model") != 0)
        goto fail;
    rc = worker_check(s, &m, err, "opening the model");
    if (rc != 0 || (rc = worker_parse_io(s, &m, err)) != 0)
        goto fail;
    const char *plan = worker_field(&m, "plan");
    snprintf(s->plan, sizeof s->plan, "%s %s%s%.200s", s->runtime, s->version, plan ? "; " : "",
             plan ? plan : "");
    free(m.line);
    s->send = malloc(s->in_bytes ? s->in_bytes : 1);
    if (!s->send) {
        rc = eb_errf(err, "%s: out of memory for the inputs", kind->name);
        goto fail;
    }
    *session = s;
    return 0;
fail:
    free(m.line);
    worker_close(s);
    return rc == EB_UNSUPPORTED ? EB_UNSUPPORTED : -1;
}

static int worker_plan(void *session, char *buf, size_t n)
{
    const worker_session *s = session;
    snprintf(buf, n, "%s", s->plan);
    return 0;
}

static int worker_io(void *session, eb_io *io)
{
    worker_session *s = session;
    *io = s->io;
    return 0;
}

static int worker_run(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out,
                      size_t n_out, eb_err *err)
{
    worker_session *s = session;
    char header[96];
    worker_msg m;
    size_t at = 0;
    if (n_in != s->io.n_inputs || n_out != s->io.n_outputs)
        return eb_errf(err, "%s: run with %zu inputs and %zu outputs; the model has %zu and %zu",
                       s->kind->name, n_in, n_out, s->io.n_inputs, s->io.n_outputs);
    for (size_t i = 0; i < n_in; i++) {
        size_t b = eb_tensor_bytes(&s->io.inputs[i]);
        memcpy(s->send + at, in[i].data, b);
        at += b;
    }
    double deadline = worker_now_ms() + s->run_timeout_ms;
    int w = snprintf(header, sizeof header, "run n=1 bytes=%zu\n", s->in_bytes);
    if (worker_write(s, header, (size_t)w, err, "running") != 0 ||
        worker_write(s, s->send, s->in_bytes, err, "running") != 0 ||
        worker_read_msg(s, &m, deadline, err, "running") != 0)
        return -1;
    int rc = worker_check(s, &m, err, "running");
    const char *bytes = worker_field(&m, "bytes"), *times = worker_field(&m, "times");
    if (rc == 0 && (!bytes || strtoull(bytes, NULL, 10) != s->out_bytes))
        rc = eb_errf(err, "%s worker: its run answer carries %s bytes, the outputs take %zu",
                     s->kind->name, bytes ? bytes : "no", s->out_bytes);
    if (rc == 0 && times)
        for (const char *p = times; *p;) {
            char *end;
            double ms = strtod(p, &end);
            if (end == p)
                break;
            s->wall_sum_ms += ms;
            s->wall_runs++;
            p = *end == ',' ? end + 1 : end;
        }
    free(m.line);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_out; i++)
        if (worker_read_bytes(s, out[i].data, eb_tensor_bytes(&s->io.outputs[i]), deadline, err,
                              "sending outputs") != 0)
            return -1;
    return 0;
}

/* Asks the worker for the runtime's own per-run time (when it has one) and caches the rows. */
static int worker_profile_query(worker_session *s)
{
    eb_err err;
    worker_msg m;
    int k = 0;
    if (s->wall_runs > 0) {
        snprintf(s->prof_name[k], sizeof s->prof_name[k], "worker");
        s->prof[k] = (eb_op_time){s->prof_name[k], "run (worker wall)",
                                  s->wall_sum_ms / (double)s->wall_runs};
        k++;
    }
    if (worker_write(s, "profile\n", 8, &err, "profiling") == 0 &&
        worker_read_msg(s, &m, worker_now_ms() + s->run_timeout_ms, &err, "profiling") == 0) {
        const char *ms = worker_field(&m, "runtime_ms");
        if (strcmp(m.verb, "ok") == 0 && ms && ms[0]) {
            snprintf(s->prof_name[k], sizeof s->prof_name[k], "%s", s->runtime);
            s->prof[k] = (eb_op_time){s->prof_name[k], "run (runtime's profiler)", atof(ms)};
            k++;
        }
        free(m.line);
    }
    s->prof_cached = k;
    return k;
}

static int worker_profile(void *session, eb_op_time *ops, size_t n)
{
    worker_session *s = session;
    if (!ops) /* count only: ask now, keep the answer for the call that reads it */
        return s->prof_cached >= 0 ? s->prof_cached : worker_profile_query(s);
    int k = 0;
    if (n > 0) {
        if (s->prof_cached < 0)
            worker_profile_query(s);
        for (; k < s->prof_cached && (size_t)k < n; k++)
            ops[k] = s->prof[k];
    } else {
        eb_err err;
        worker_msg m;
        if (worker_write(s, "profile reset=1\n", 16, &err, "profiling") == 0 &&
            worker_read_msg(s, &m, worker_now_ms() + s->run_timeout_ms, &err, "profiling") == 0)
            free(m.line);
    }
    s->wall_sum_ms = 0;
    s->wall_runs = 0;
    s->prof_cached = -1;
    return k;
}

static int worker_memory(void *session, long *peak_kb, long *rss_kb, long *base_kb)
{
    worker_session *s = session;
    *peak_kb = worker_status_kb(s->pid, "VmHWM");
    *rss_kb = worker_status_kb(s->pid, "VmRSS");
    *base_kb = s->base_kb;
    return *peak_kb >= 0 ? 0 : -1;
}

/* ---- finding the workers ------------------------------------------------------------------- */

static int worker_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The executable's directory, "" when unknown. */
static const char *worker_exe_dir(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    buf[k > 0 ? k : 0] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return buf;
}

/* A worker script: $EDGEBENCH_WORKER_DIR, then EXEDIR/../lib/edgebench/workers (an install),
 * then EXEDIR/../backends/worker (the source tree).  0 with the path in buf, -1 if absent. */
static int worker_script(const char *file, char *buf, size_t n)
{
    char exe[PATH_MAX];
    const char *env = getenv("EDGEBENCH_WORKER_DIR");
    worker_exe_dir(exe, sizeof exe);
    if (env && env[0]) {
        snprintf(buf, n, "%s/%s", env, file);
        if (worker_exists(buf))
            return 0;
    }
    snprintf(buf, n, "%.3000s/../lib/edgebench/workers/%s", exe, file);
    if (worker_exists(buf))
        return 0;
    snprintf(buf, n, "%.3000s/../backends/worker/%s", exe, file);
    return worker_exists(buf) ? 0 : -1;
}

/* `prog` on $PATH (or as given when it holds a '/'). */
static int worker_on_path(const char *prog, char *buf, size_t n)
{
    if (strchr(prog, '/')) {
        snprintf(buf, n, "%s", prog);
        return access(buf, X_OK);
    }
    const char *path = getenv("PATH");
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, n, "%s/%s", d, prog);
        if (access(buf, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* onnxruntime-node's directory: $EDGEBENCH_ORT_MODULES, EXEDIR/../lib/edgebench/node_modules,
 * EXEDIR/../scripts/ort/node_modules (ort_worker.js looks in the same places). */
static int worker_ort_module(char *buf, size_t n)
{
    char exe[PATH_MAX];
    const char *env = getenv("EDGEBENCH_ORT_MODULES");
    worker_exe_dir(exe, sizeof exe);
    if (env && env[0]) {
        snprintf(buf, n, "%s/onnxruntime-node/package.json", env);
        if (worker_exists(buf))
            return 0;
    }
    snprintf(buf, n, "%.3000s/../lib/edgebench/node_modules/onnxruntime-node/package.json", exe);
    if (worker_exists(buf))
        return 0;
    snprintf(buf, n, "%.3000s/../scripts/ort/node_modules/onnxruntime-node/package.json", exe);
    return worker_exists(buf) ? 0 : -1;
}

/* ---- onnxruntime ----------------------------------------------------------------------------- */

static int ort_probe(char *why, size_t n)
{
    char buf[PATH_MAX];
    if (worker_on_path("node", buf, sizeof buf) != 0)
        return snprintf(why, n, "node not found on PATH (apt install nodejs)"), -1;
    if (worker_script("ort_worker.js", buf, sizeof buf) != 0)
        return snprintf(why, n, "ort_worker.js not found (EDGEBENCH_WORKER_DIR)"), -1;
    if (worker_ort_module(buf, sizeof buf) != 0)
        return snprintf(why, n, "onnxruntime-node not installed (run scripts/deps.sh)"), -1;
    return 0;
}

static int ort_command(const eb_config *c, char **argv, char *buf, size_t n, eb_err *err)
{
    if (worker_script("ort_worker.js", buf, n) != 0)
        return eb_errf(err, "onnxruntime: ort_worker.js not found (EDGEBENCH_WORKER_DIR)");
    argv[0] = "node";
    argv[1] = buf;
    return 0;
}

static const worker_kind ort_kind = {"onnxruntime", 1, ort_probe, ort_command};

static int ort_open(const eb_model *m, const eb_config *c, void **s, eb_err *err)
{
    return worker_open_kind(&ort_kind, m, c, s, err);
}

static const eb_option_spec ort_options[] = {
    {"profile", "bool", "0",
     "ONNX Runtime's profiler: its own per-run time in ops.csv (measure.profile sets it; slows "
     "ORT, up to 4x on many-node models)"},
    {"spin", "bool", "1", "intra-op threads spin between parallel sections (0: they sleep)"},
    {"optimization", "string", "all", "graph optimization level: disabled, basic, extended, all"},
    {"open_timeout", "float", "300", "seconds to start the worker and load the model"},
    {"run_timeout", "float", "60", "seconds one run may take before the worker counts as hung"},
    {NULL, NULL, NULL, NULL},
};

const eb_backend_i eb_backend_onnxruntime = {
    .api_version = EB_BACKEND_API,
    .name = "onnxruntime",
    .description = "ONNX Runtime (CPU) in a node worker, npm onnxruntime-node",
    .formats = "onnx",
    .options = ort_options,
    .probe = ort_probe,
    .open = ort_open,
    .io = worker_io,
    .run = worker_run,
    .profile = worker_profile,
    .close = worker_close,
    .memory = worker_memory,
    .plan = worker_plan,
};

/* ---- pytorch --------------------------------------------------------------------------------- */

#define TORCH_PYTHON "/usr/bin/python3"

static int torch_probe(char *why, size_t n)
{
    char buf[PATH_MAX];
    glob_t g;
    if (access(TORCH_PYTHON, X_OK) != 0)
        return snprintf(why, n, TORCH_PYTHON " not found"), -1;
    if (worker_script("torch_worker.py", buf, sizeof buf) != 0)
        return snprintf(why, n, "torch_worker.py not found (EDGEBENCH_WORKER_DIR)"), -1;
    /* Looking for the package's files: importing torch takes seconds. */
    int found = glob("/usr/lib/python3/dist-packages/torch/__init__.py", 0, NULL, &g) == 0 ||
                glob("/usr/local/lib/python3*/dist-packages/torch/__init__.py", 0, NULL, &g) == 0 ||
                glob("/usr/lib/python3*/site-packages/torch/__init__.py", 0, NULL, &g) == 0;
    globfree(&g);
    if (!found)
        return snprintf(why, n, "PyTorch not installed for " TORCH_PYTHON
                                " (apt install python3-torch)"), -1;
    return 0;
}

static int torch_command(const eb_config *c, char **argv, char *buf, size_t n, eb_err *err)
{
    if (worker_script("torch_worker.py", buf, n) != 0)
        return eb_errf(err, "pytorch: torch_worker.py not found (EDGEBENCH_WORKER_DIR)");
    argv[0] = TORCH_PYTHON;
    argv[1] = buf;
    /* OpenMP reads its wait policy when torch loads, before the open message: so on the
     * command line.  Spinning threads stall 2-thread runs for ~100 ms on a busy machine. */
    const char *spin = worker_option(c, "spin", "1");
    if (strcmp(spin, "0") == 0 || strcmp(spin, "false") == 0 || strcmp(spin, "no") == 0 ||
        strcmp(spin, "off") == 0)
        argv[2] = "--no-spin";
    return 0;
}

static const worker_kind torch_kind = {"pytorch", 1, torch_probe, torch_command};

static int torch_open(const eb_model *m, const eb_config *c, void **s, eb_err *err)
{
    return worker_open_kind(&torch_kind, m, c, s, err);
}

static const eb_option_spec torch_options[] = {
    {"torchscript_dir", "string", "",
     "where NAME.pt is looked for first (else $EDGEBENCH_TORCHSCRIPT_DIR); then beside "
     "NAME.onnx, then ../build/torchscript from the model's directory (make torchscript writes "
     "every variant there); a file exported from another NAME.onnx (sha256) is passed over"},
    {"optimize", "bool", "1",
     "torch.jit.freeze + optimize_for_inference at open, as PyTorch prescribes for inference "
     "(0: the module as exported)"},
    {"spin", "bool", "1",
     "intra-op OpenMP threads spin between parallel sections as PyTorch's default does (0: "
     "OMP_WAIT_POLICY=PASSIVE, they sleep; for a machine other jobs keep busy)"},
    {"qengine", "string", "",
     "quantized engine for int8 modules (fbgemm, onednn, qnnpack; default: the one the file "
     "was exported for)"},
    {"open_timeout", "float", "300", "seconds to start the worker and load the model"},
    {"run_timeout", "float", "60", "seconds one run may take before the worker counts as hung"},
    {NULL, NULL, NULL, NULL},
};

const eb_backend_i eb_backend_pytorch = {
    .api_version = EB_BACKEND_API,
    .name = "pytorch",
    .description = "PyTorch (TorchScript NAME.pt for NAME.onnx, from make torchscript; "
                   "option torchscript_dir) in a python3 worker",
    .formats = "onnx",
    .options = torch_options,
    .probe = torch_probe,
    .open = torch_open,
    .io = worker_io,
    .run = worker_run,
    .profile = worker_profile,
    .close = worker_close,
    .memory = worker_memory,
    .plan = worker_plan,
};

/* ---- worker: any command ------------------------------------------------------------------- */

static int any_command(const eb_config *c, char **argv, char *buf, size_t n, eb_err *err)
{
    const char *cmd = worker_option(c, "command", NULL);
    if (!cmd || !cmd[0])
        return eb_errf(err, "worker: needs option command (backend_options = { worker = { "
                            "command = \"python3 my_worker.py\" } }); PROTOCOL.md says what it "
                            "must answer");
    /* Through the shell, so the command may quote; exec so the pid is the worker's own. */
    snprintf(buf, n, "exec %s", cmd);
    argv[0] = "/bin/sh";
    argv[1] = "-c";
    argv[2] = buf;
    return 0;
}

static const worker_kind any_kind = {"worker", 0, NULL, any_command};

static int any_open(const eb_model *m, const eb_config *c, void **s, eb_err *err)
{
    return worker_open_kind(&any_kind, m, c, s, err);
}

static const eb_option_spec any_options[] = {
    {"command", "string", "", "the worker to start, run by /bin/sh (PROTOCOL.md)"},
    {"open_timeout", "float", "300", "seconds to start the worker and load the model"},
    {"run_timeout", "float", "60", "seconds one run may take before the worker counts as hung"},
    {NULL, NULL, NULL, NULL},
};

const eb_backend_i eb_backend_worker = {
    .api_version = EB_BACKEND_API,
    .name = "worker",
    .description = "any runtime behind the worker protocol (option command)",
    .formats = "any",
    .options = any_options,
    .open = any_open,
    .io = worker_io,
    .run = worker_run,
    .profile = worker_profile,
    .close = worker_close,
    .memory = worker_memory,
    .plan = worker_plan,
};
