/* The mock backend (see mock.h): deterministic, input-dependent outputs after a configurable,
 * reproducible latency, plus switches that make it fail, crash or hang on purpose so the
 * runner's handling of each can be tested. */
#include "mock.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const eb_option_spec mock_options[] = {
    {"latency_ms", "float", "1.0", "time each run() takes, spent busy-waiting (0: return at once)"},
    {"jitter_ms", "float", "0", "uniform jitter in [-jitter, +jitter] added to each run, from a "
                                "PRNG seeded with `seed` (the total is clamped at 0)"},
    {"seed", "int", "1", "seed of the jitter's PRNG: the same seed gives the same latencies"},
    {"classes", "int", "10", "width of the output \"scores\" [batch, classes]"},
    {"input_shape", "string", "the harness's input, else 1x784",
     "shape of the input \"input\" as AxBx...; the first dimension becomes the batch"},
    {"fail", "string", "", "\"open\" or \"run\": return an error there"},
    {"crash", "string", "", "\"open\", \"run\" or \"run:N\" (the N-th run): raise SIGSEGV there"},
    {"hang", "string", "", "\"open\" or \"run\": never return (to test timeouts)"},
    {"params", "int", "-1", "parameter count that facts() reports"},
    {"nonzero_params", "int", "params", "nonzero parameter count that facts() reports"},
    {"macs", "int", "-1", "MACs per inference that facts() reports"},
    {NULL, NULL, NULL, NULL},
};

typedef enum mock_point { MOCK_NEVER = 0, MOCK_AT_OPEN, MOCK_AT_RUN } mock_point;

typedef struct mock_session {
    double latency_ms, jitter_ms;
    uint64_t rng;
    int classes;
    int batch;
    int ndim;
    int64_t shape[EB_MAX_DIMS];
    size_t in_numel;
    mock_point fail_at, crash_at, hang_at;
    long crash_run; /* crash on this run (1-based) when crash_at == MOCK_AT_RUN */
    long runs;
    int64_t params, nonzero_params, macs;
    double last_ms;
} mock_session;

/* ---- option parsing ---------------------------------------------------------------------- */

static int mock_parse_double(const char *key, const char *v, double *out, eb_err *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!v[0] || *end || errno || !isfinite(d) || d < 0)
        return eb_errf(err, "mock: option %s='%s': expected a number >= 0 (ms)", key, v);
    *out = d;
    return 0;
}

static int mock_parse_int(const char *key, const char *v, long long lo, long long hi,
                          long long *out, eb_err *err)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!v[0] || *end || errno || x < lo || x > hi)
        return eb_errf(err, "mock: option %s='%s': expected an integer in [%lld, %lld]", key, v,
                       lo, hi);
    *out = x;
    return 0;
}

/* "" | "open" | "run" (and "run:N" when run_n is not NULL). */
static int mock_parse_point(const char *key, const char *v, mock_point *at, long *run_n,
                            eb_err *err)
{
    if (run_n)
        *run_n = 1;
    if (!v[0]) {
        *at = MOCK_NEVER;
        return 0;
    }
    if (strcmp(v, "open") == 0) {
        *at = MOCK_AT_OPEN;
        return 0;
    }
    if (strcmp(v, "run") == 0) {
        *at = MOCK_AT_RUN;
        return 0;
    }
    if (run_n && strncmp(v, "run:", 4) == 0) {
        char *end;
        errno = 0;
        long n = strtol(v + 4, &end, 10);
        if (v[4] && !*end && !errno && n >= 1) {
            *at = MOCK_AT_RUN;
            *run_n = n;
            return 0;
        }
    }
    return eb_errf(err, "mock: option %s='%s': expected \"\", \"open\", %s", key, v,
                   run_n ? "\"run\" or \"run:N\" (N >= 1)" : "or \"run\"");
}

/* "1x784" -> dims; the first dimension may be "?" since the batch replaces it anyway. */
static int mock_parse_shape(const char *v, int64_t *shape, int *ndim, eb_err *err)
{
    const char *s = v;
    int n = 0;
    for (;;) {
        char *end;
        long long d;
        if (n == EB_MAX_DIMS)
            return eb_errf(err, "mock: option input_shape='%s': at most %d dimensions", v,
                           EB_MAX_DIMS);
        if (n == 0 && *s == '?') {
            d = 1;
            end = (char *)s + 1;
        } else {
            errno = 0;
            d = strtoll(s, &end, 10);
            if (end == s || errno || d < 1 || d > (1ll << 30))
                return eb_errf(err, "mock: option input_shape='%s': expected positive "
                                    "dimensions joined by 'x', such as 1x784 or 1x1x28x28",
                               v);
        }
        shape[n++] = d;
        s = end;
        if (!*s)
            break;
        if (*s++ != 'x')
            return eb_errf(err, "mock: option input_shape='%s': expected positive dimensions "
                                "joined by 'x', such as 1x784 or 1x1x28x28",
                           v);
    }
    *ndim = n;
    return 0;
}

static const eb_option_spec *mock_option_find(const char *key)
{
    for (const eb_option_spec *o = mock_options; o->key; o++)
        if (strcmp(o->key, key) == 0)
            return o;
    return NULL;
}

static int mock_parse_options(mock_session *s, const eb_config *c, eb_err *err)
{
    long long x;
    int have_shape = 0, have_nonzero = 0;
    for (size_t i = 0; i < c->n_options; i++) {
        const char *k = c->options[i].key, *v = c->options[i].value ? c->options[i].value : "";
        if (!k || !mock_option_find(k)) {
            char known[512];
            size_t used = 0;
            for (const eb_option_spec *o = mock_options; o->key && used < sizeof known; o++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                                         o == mock_options ? "" : ", ", o->key);
            return eb_errf(err, "mock: unknown option '%s'; known options: %s", k ? k : "(null)",
                           known);
        }
        /* Later occurrences override earlier ones, as eb_option_get does. */
        if (strcmp(k, "latency_ms") == 0) {
            if (mock_parse_double(k, v, &s->latency_ms, err) != 0)
                return -1;
        } else if (strcmp(k, "jitter_ms") == 0) {
            if (mock_parse_double(k, v, &s->jitter_ms, err) != 0)
                return -1;
        } else if (strcmp(k, "seed") == 0) {
            if (mock_parse_int(k, v, 0, INT64_MAX, &x, err) != 0)
                return -1;
            s->rng = (uint64_t)x;
        } else if (strcmp(k, "classes") == 0) {
            if (mock_parse_int(k, v, 1, 1 << 20, &x, err) != 0)
                return -1;
            s->classes = (int)x;
        } else if (strcmp(k, "input_shape") == 0) {
            if (mock_parse_shape(v, s->shape, &s->ndim, err) != 0)
                return -1;
            have_shape = 1;
        } else if (strcmp(k, "fail") == 0) {
            if (mock_parse_point(k, v, &s->fail_at, NULL, err) != 0)
                return -1;
        } else if (strcmp(k, "crash") == 0) {
            if (mock_parse_point(k, v, &s->crash_at, &s->crash_run, err) != 0)
                return -1;
        } else if (strcmp(k, "hang") == 0) {
            if (mock_parse_point(k, v, &s->hang_at, NULL, err) != 0)
                return -1;
        } else if (strcmp(k, "params") == 0 || strcmp(k, "nonzero_params") == 0 ||
                   strcmp(k, "macs") == 0) {
            if (mock_parse_int(k, v, -1, INT64_MAX, &x, err) != 0)
                return -1;
            if (k[0] == 'p')
                s->params = x;
            else if (k[0] == 'n') {
                s->nonzero_params = x;
                have_nonzero = 1;
            } else
                s->macs = x;
        }
    }
    if (!have_nonzero)
        s->nonzero_params = s->params;
    if (!have_shape) {
        const eb_tensor *h = c->input_hint;
        if (h && h->ndim >= 1) {
            s->ndim = h->ndim;
            for (int i = 0; i < h->ndim; i++) {
                if (i > 0 && h->shape[i] < 1)
                    return eb_errf(err, "mock: the input has a symbolic dimension %d; set the "
                                        "option input_shape (e.g. 1x784)",
                                   i);
                s->shape[i] = h->shape[i];
            }
        } else {
            s->ndim = 2;
            s->shape[0] = 1;
            s->shape[1] = 784;
        }
    }
    return 0;
}

/* ---- the backend ------------------------------------------------------------------------- */

/* splitmix64: tiny, good enough for jitter, and the same on every platform. */
static uint64_t mock_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double mock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void mock_hang(void)
{
    for (;;)
        pause(); /* only a signal (the runner's timeout kill) ends this */
}

int eb_mock_expected_class(const float *x, size_t n, int classes)
{
    const unsigned char *b = (const unsigned char *)x;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n * sizeof *x; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return classes > 0 ? (int)(h % (uint32_t)classes) : 0;
}

double eb_mock_last_latency_ms(const void *session)
{
    return session ? ((const mock_session *)session)->last_ms : NAN;
}

static int mock_probe(char *why, size_t n)
{
    (void)why;
    (void)n;
    return 0; /* needs nothing but a clock */
}

static int mock_open(const eb_model *model, const eb_config *config, void **session,
                     eb_err *err)
{
    mock_session tmp = {
        .latency_ms = 1.0,
        .jitter_ms = 0.0,
        .rng = 1,
        .classes = 10,
        .params = -1,
        .macs = -1,
        .last_ms = NAN,
    };
    (void)model; /* the mock reads no model file */
    if (config->batch < 1)
        return eb_errf(err, "mock: batch must be >= 1 (got %d)", config->batch);
    if (mock_parse_options(&tmp, config, err) != 0)
        return -1;
    if (tmp.fail_at == MOCK_AT_OPEN)
        return eb_errf(err, "mock: open failed on purpose (option fail=open)");
    if (tmp.crash_at == MOCK_AT_OPEN)
        raise(SIGSEGV);
    if (tmp.hang_at == MOCK_AT_OPEN)
        mock_hang();
    tmp.batch = config->batch;
    tmp.shape[0] = config->batch;
    tmp.in_numel = 1;
    for (int i = 0; i < tmp.ndim; i++)
        tmp.in_numel *= (size_t)tmp.shape[i];

    mock_session *s = malloc(sizeof *s);
    if (!s)
        return eb_errf(err, "mock: out of memory");
    *s = tmp;
    *session = s;
    return 0;
}

static int mock_io(void *session, eb_io *io)
{
    mock_session *s = session;
    memset(io, 0, sizeof *io);
    io->n_inputs = 1;
    io->inputs[0].name = "input";
    io->inputs[0].dtype = EB_F32;
    io->inputs[0].ndim = s->ndim;
    memcpy(io->inputs[0].shape, s->shape, sizeof s->shape);
    io->n_outputs = 1;
    io->outputs[0].name = "scores";
    io->outputs[0].dtype = EB_F32;
    io->outputs[0].ndim = 2;
    io->outputs[0].shape[0] = s->batch;
    io->outputs[0].shape[1] = s->classes;
    return 0;
}

static int mock_run(void *session, const eb_tensor *in, size_t n_in, eb_tensor *out,
                    size_t n_out, eb_err *err)
{
    mock_session *s = session;
    double start = mock_now_ms();

    s->runs++;
    if (s->crash_at == MOCK_AT_RUN && s->runs == s->crash_run)
        raise(SIGSEGV);
    if (s->hang_at == MOCK_AT_RUN)
        mock_hang();
    if (s->fail_at == MOCK_AT_RUN)
        return eb_errf(err, "mock: run %ld failed on purpose (option fail=run)", s->runs);
    if (n_in < 1 || !in[0].data || in[0].dtype != EB_F32 || eb_tensor_numel(&in[0]) != s->in_numel)
        return eb_errf(err, "mock: input 0 must be float32 with %zu elements (got %s with %zu)",
                       s->in_numel, n_in ? eb_dtype_name(in[0].dtype) : "no input",
                       n_in ? eb_tensor_numel(&in[0]) : 0);
    if (n_out < 1 || !out[0].data)
        return eb_errf(err, "mock: output 0 (\"scores\") has no buffer");

    /* The jitter draw advances once per call, whatever happens, so the sequence of target
     * latencies depends only on the seed and the call count. */
    double u = (double)(mock_rng_next(&s->rng) >> 11) * 0x1.0p-53; /* [0, 1) */
    double target = s->latency_ms + (2.0 * u - 1.0) * s->jitter_ms;
    s->last_ms = target > 0 ? target : 0;

    size_t per = s->in_numel / (size_t)s->batch;
    const float *x = in[0].data;
    float *y = out[0].data;
    for (int b = 0; b < s->batch; b++) {
        float *row = y + (size_t)b * (size_t)s->classes;
        memset(row, 0, (size_t)s->classes * sizeof *row);
        row[eb_mock_expected_class(x + (size_t)b * per, per, s->classes)] = 1.0f;
    }

    /* Busy-wait rather than sleep: a sleep adds the scheduler's wake-up latency, which is
     * exactly the noise a mock that measures harness overhead must not have. */
    while (mock_now_ms() - start < s->last_ms)
        ;
    return 0;
}

static int mock_facts(void *session, eb_model_facts *f)
{
    mock_session *s = session;
    f->params = s->params;
    f->nonzero_params = s->nonzero_params;
    f->macs = s->macs;
    return 0;
}

static void mock_close(void *session)
{
    free(session);
}

const eb_backend_i eb_backend_mock = {
    .api_version = EB_BACKEND_API,
    .name = "mock",
    .description = "deterministic outputs after a configurable latency; reads no model file "
                   "(for tests and for measuring the harness's own overhead)",
    .formats = "any",
    .options = mock_options,
    .probe = mock_probe,
    .open = mock_open,
    .io = mock_io,
    .run = mock_run,
    .facts = mock_facts,
    .profile = NULL,
    .close = mock_close,
};
