/* Tests of backends/mock: options, shapes, deterministic outputs, latency and jitter, and the
 * fail/crash/hang switches.  The backend table is called directly (the registry is not under
 * test here). */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock/mock.h"

static double mock_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static eb_config mock_test_config(const eb_option *opts, size_t n, int batch)
{
    eb_config c = {.threads = 1, .batch = batch, .cores = "all", .options = opts,
                   .n_options = n, .input_hint = NULL};
    return c;
}

static void *mock_test_open(const eb_option *opts, size_t n, int batch)
{
    eb_config c = mock_test_config(opts, n, batch);
    eb_model m = {.path = NULL, .format = NULL};
    eb_err err = {{0}};
    void *s = NULL;
    if (eb_backend_mock.open(&m, &c, &s, &err) != 0)
        fail_msg("open failed: %s", err.msg);
    return s;
}

/* Input and output buffers sized from io(); inputs are seeded pseudo-random floats. */
typedef struct mock_test_bufs {
    eb_io io;
    eb_tensor in, out;
} mock_test_bufs;

static void mock_test_bufs_init(mock_test_bufs *b, void *s, unsigned seed)
{
    assert_int_equal(eb_backend_mock.io(s, &b->io), 0);
    b->in = b->io.inputs[0];
    b->out = b->io.outputs[0];
    size_t n = eb_tensor_numel(&b->in);
    b->in.data = malloc(n * sizeof(float));
    b->out.data = calloc(eb_tensor_numel(&b->out), sizeof(float));
    assert_non_null(b->in.data);
    assert_non_null(b->out.data);
    float *x = b->in.data;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)(seed >> 8) / (float)(1u << 24);
    }
}

static void mock_test_bufs_free(mock_test_bufs *b)
{
    free(b->in.data);
    free(b->out.data);
}

static int mock_test_run(void *s, mock_test_bufs *b, eb_err *err)
{
    return eb_backend_mock.run(s, &b->in, 1, &b->out, 1, err);
}

static void test_mock_table(void **state)
{
    (void)state;
    char why[64];
    assert_int_equal(eb_backend_mock.api_version, EB_BACKEND_API);
    assert_string_equal(eb_backend_mock.name, "mock");
    assert_int_equal(eb_backend_mock.probe(why, sizeof why), 0);
    const char *want[] = {"latency_ms", "jitter_ms", "seed", "classes", "input_shape", "fail",
                          "crash", "hang", "params", "macs"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const eb_option_spec *o = eb_backend_mock.options;
        while (o->key && strcmp(o->key, want[i]) != 0)
            o++;
        assert_non_null(o->key);
        assert_non_null(o->type);
        assert_non_null(o->default_value);
        assert_true(o->help && o->help[0]);
    }
}

static void test_mock_defaults(void **state)
{
    (void)state;
    void *s = mock_test_open(NULL, 0, 1);
    eb_io io;
    eb_model_facts f;
    assert_int_equal(eb_backend_mock.io(s, &io), 0);
    assert_int_equal(io.n_inputs, 1);
    assert_int_equal(io.n_outputs, 1);
    assert_string_equal(io.inputs[0].name, "input");
    assert_int_equal(io.inputs[0].dtype, EB_F32);
    assert_int_equal(io.inputs[0].ndim, 2);
    assert_int_equal(io.inputs[0].shape[0], 1);
    assert_int_equal(io.inputs[0].shape[1], 784);
    assert_string_equal(io.outputs[0].name, "scores");
    assert_int_equal(io.outputs[0].dtype, EB_F32);
    assert_int_equal(io.outputs[0].ndim, 2);
    assert_int_equal(io.outputs[0].shape[0], 1);
    assert_int_equal(io.outputs[0].shape[1], 10);
    assert_int_equal(eb_backend_mock.facts(s, &f), 0);
    assert_int_equal(f.params, -1);
    assert_int_equal(f.nonzero_params, -1);
    assert_int_equal(f.macs, -1);
    assert_true(isnan(eb_mock_last_latency_ms(s)));
    eb_backend_mock.close(s);
}

static void test_mock_options_parsed(void **state)
{
    (void)state;
    const eb_option opts[] = {{"latency_ms", "0"},   {"classes", "5"}, {"input_shape", "1x3x4"},
                              {"params", "100"},     {"macs", "2000"}, {"classes", "7"},
                              {"jitter_ms", "0.25"}, {"seed", "42"},   {"fail", ""}};
    void *s = mock_test_open(opts, sizeof opts / sizeof opts[0], 3);
    eb_io io;
    eb_model_facts f;
    assert_int_equal(eb_backend_mock.io(s, &io), 0);
    assert_int_equal(io.inputs[0].ndim, 3);
    assert_int_equal(io.inputs[0].shape[0], 3); /* the batch replaces the leading 1 */
    assert_int_equal(io.inputs[0].shape[1], 3);
    assert_int_equal(io.inputs[0].shape[2], 4);
    assert_int_equal(io.outputs[0].shape[0], 3);
    assert_int_equal(io.outputs[0].shape[1], 7); /* the last occurrence wins */
    assert_int_equal(eb_backend_mock.facts(s, &f), 0);
    assert_int_equal(f.params, 100);
    assert_int_equal(f.nonzero_params, 100);
    assert_int_equal(f.macs, 2000);
    eb_backend_mock.close(s);

    /* Without input_shape the harness's hint decides, with the batch bound. */
    eb_tensor hint = {.name = "x", .dtype = EB_F32, .ndim = 4, .shape = {8, 1, 28, 28}};
    eb_config c = mock_test_config(NULL, 0, 4);
    eb_model m = {0};
    eb_err err = {{0}};
    c.input_hint = &hint;
    assert_int_equal(eb_backend_mock.open(&m, &c, &s, &err), 0);
    assert_int_equal(eb_backend_mock.io(s, &io), 0);
    assert_int_equal(io.inputs[0].ndim, 4);
    assert_int_equal(io.inputs[0].shape[0], 4);
    assert_int_equal(io.inputs[0].shape[3], 28);
    eb_backend_mock.close(s);
}

static void test_mock_bad_options(void **state)
{
    (void)state;
    const eb_option bad[] = {
        {"latency_ms", "abc"}, {"latency_ms", "-1"},  {"latency_ms", ""},
        {"jitter_ms", "1ms"},  {"seed", "-3"},        {"seed", "x"},
        {"classes", "0"},      {"classes", "1.5"},    {"input_shape", "1x0"},
        {"input_shape", "a"},  {"input_shape", "1x"}, {"input_shape", "1x2x3x4x5x6x7x8x9"},
        {"fail", "boom"},      {"crash", "run:0"},    {"crash", "run:x"},
        {"hang", "always"},    {"params", "-2"},      {"macs", "many"},
        {"latency_msx", "1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eb_config c = mock_test_config(&bad[i], 1, 1);
        eb_model m = {0};
        eb_err err = {{0}};
        void *s = NULL;
        if (eb_backend_mock.open(&m, &c, &s, &err) != -1)
            fail_msg("option %s='%s' was accepted", bad[i].key, bad[i].value);
        assert_null(s);
        if (!strstr(err.msg, bad[i].key))
            fail_msg("error for %s='%s' does not name the option: %s", bad[i].key,
                     bad[i].value, err.msg);
    }
}

static void test_mock_expected_class(void **state)
{
    (void)state;
    /* FNV-1a 32 of the float bytes, computed independently (Python). */
    const float zero[1] = {0.0f}, one_two[2] = {1.0f, 2.0f};
    assert_int_equal(eb_mock_expected_class(zero, 1, 10), 1268118805u % 10);
    assert_int_equal(eb_mock_expected_class(one_two, 2, 10), 3090132184u % 10);
    assert_int_equal(eb_mock_expected_class(one_two, 2, 7), 3090132184u % 7);
    assert_int_equal(eb_mock_expected_class(one_two, 2, 1), 0);
}

static void test_mock_outputs_deterministic(void **state)
{
    (void)state;
    const eb_option opts[] = {{"latency_ms", "0"}, {"input_shape", "1x16"}, {"classes", "10"}};
    const int batch = 32;
    void *s = mock_test_open(opts, 3, batch);
    mock_test_bufs b;
    eb_err err = {{0}};
    mock_test_bufs_init(&b, s, 7);
    float *first = malloc(batch * 10 * sizeof(float));
    assert_non_null(first);

    assert_int_equal(mock_test_run(s, &b, &err), 0);
    memcpy(first, b.out.data, batch * 10 * sizeof(float));
    assert_int_equal(mock_test_run(s, &b, &err), 0);
    assert_memory_equal(first, b.out.data, batch * 10 * sizeof(float));

    /* One-hot at the hash class of each sample; the classes vary with the input. */
    const float *x = b.in.data, *y = b.out.data;
    int seen[10] = {0}, distinct = 0;
    for (int i = 0; i < batch; i++) {
        int want = eb_mock_expected_class(x + i * 16, 16, 10);
        for (int c = 0; c < 10; c++)
            assert_true(y[i * 10 + c] == (c == want ? 1.0f : 0.0f));
        distinct += !seen[want]++;
    }
    assert_true(distinct >= 3);

    /* A different session with the same input gives the same answer. */
    void *s2 = mock_test_open(opts, 3, batch);
    memset(b.out.data, 0, batch * 10 * sizeof(float));
    assert_int_equal(eb_backend_mock.run(s2, &b.in, 1, &b.out, 1, &err), 0);
    assert_memory_equal(first, b.out.data, batch * 10 * sizeof(float));

    /* Changing one input value changes (at least the hash of) that sample only. */
    ((float *)b.in.data)[0] += 1.0f;
    assert_int_equal(mock_test_run(s, &b, &err), 0);
    assert_memory_equal(first + 10, (float *)b.out.data + 10, (batch - 1) * 10 * sizeof(float));

    free(first);
    mock_test_bufs_free(&b);
    eb_backend_mock.close(s);
    eb_backend_mock.close(s2);
}

static void test_mock_wrong_input(void **state)
{
    (void)state;
    const eb_option opts[] = {{"latency_ms", "0"}, {"input_shape", "1x16"}};
    void *s = mock_test_open(opts, 2, 2);
    mock_test_bufs b;
    eb_err err = {{0}};
    mock_test_bufs_init(&b, s, 1);
    b.in.shape[1] = 8;
    assert_int_equal(mock_test_run(s, &b, &err), -1);
    assert_non_null(strstr(err.msg, "32 elements"));
    b.in.shape[1] = 16;
    b.in.dtype = EB_I32;
    assert_int_equal(mock_test_run(s, &b, &err), -1);
    assert_non_null(strstr(err.msg, "int32"));
    mock_test_bufs_free(&b);
    eb_backend_mock.close(s);
}

static void test_mock_latency(void **state)
{
    (void)state;
    const eb_option opts[] = {{"latency_ms", "2"}, {"input_shape", "1x4"}};
    void *s = mock_test_open(opts, 2, 1);
    mock_test_bufs b;
    eb_err err = {{0}};
    double fastest = 1e300;
    const int n = 25;
    mock_test_bufs_init(&b, s, 3);
    for (int i = 0; i < n; i++) {
        double t0 = mock_test_now_ms();
        assert_int_equal(mock_test_run(s, &b, &err), 0);
        double dt = mock_test_now_ms() - t0;
        assert_true(dt >= 2.0 * 0.999); /* it busy-waits at least the target, by construction */
        fastest = dt < fastest ? dt : fastest;
    }
    /* Only a gross bound above (a unit mix-up would wait 2 s, not 2 ms): a shared machine can
     * stretch any single run, and speed is for benchmarks, so the fastest of 25 is checked. */
    assert_true(fastest < 100.0);
    assert_true(eb_mock_last_latency_ms(s) == 2.0);
    mock_test_bufs_free(&b);
    eb_backend_mock.close(s);
}

/* Runs `n` times and records the target latencies. */
static void mock_test_sequence(const char *seed, const char *latency, const char *jitter,
                               double *seq, int n)
{
    const eb_option opts[] = {
        {"latency_ms", latency}, {"jitter_ms", jitter}, {"seed", seed}, {"input_shape", "1x4"}};
    void *s = mock_test_open(opts, 4, 1);
    mock_test_bufs b;
    eb_err err = {{0}};
    mock_test_bufs_init(&b, s, 5);
    for (int i = 0; i < n; i++) {
        assert_int_equal(mock_test_run(s, &b, &err), 0);
        seq[i] = eb_mock_last_latency_ms(s);
    }
    mock_test_bufs_free(&b);
    eb_backend_mock.close(s);
}

static void test_mock_jitter_reproducible(void **state)
{
    (void)state;
    enum { N = 40 };
    double a[N], b[N], c[N], z[N];
    double lo = 1e9, hi = -1e9;
    mock_test_sequence("7", "0.1", "0.05", a, N);
    mock_test_sequence("7", "0.1", "0.05", b, N);
    mock_test_sequence("8", "0.1", "0.05", c, N);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    for (int i = 0; i < N; i++) {
        assert_true(a[i] >= 0.05 && a[i] <= 0.15);
        lo = fmin(lo, a[i]);
        hi = fmax(hi, a[i]);
    }
    assert_true(hi - lo > 0.03); /* it does jitter, and spreads over most of the range */

    /* Jitter larger than the latency is clamped at 0, never negative. */
    int zeros = 0;
    mock_test_sequence("1", "0.01", "1", z, N);
    for (int i = 0; i < N; i++) {
        assert_true(z[i] >= 0.0 && z[i] <= 1.01);
        zeros += z[i] == 0.0;
    }
    assert_true(zeros > 0);
}

static void test_mock_fail(void **state)
{
    (void)state;
    const eb_option open_opt[] = {{"fail", "open"}};
    eb_config c = mock_test_config(open_opt, 1, 1);
    eb_model m = {0};
    eb_err err = {{0}};
    void *s = NULL;
    assert_int_equal(eb_backend_mock.open(&m, &c, &s, &err), -1);
    assert_non_null(strstr(err.msg, "fail=open"));

    const eb_option run_opt[] = {{"fail", "run"}, {"latency_ms", "0"}};
    s = mock_test_open(run_opt, 2, 1);
    mock_test_bufs b;
    mock_test_bufs_init(&b, s, 1);
    err.msg[0] = '\0';
    assert_int_equal(mock_test_run(s, &b, &err), -1);
    assert_non_null(strstr(err.msg, "fail=run"));
    mock_test_bufs_free(&b);
    eb_backend_mock.close(s);
}

/* Forks a child that opens the mock with `opts` and runs it `runs` times, writing one byte to a
 * pipe after each run that returns; returns the child's wait status and the byte count. */
static int mock_test_child(const eb_option *opts, size_t n, int runs, int kill_after_ms,
                           int *bytes)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches SIGSEGV in the test process; the child must die of it for real. */
        signal(SIGSEGV, SIG_DFL);
        close(fd[0]);
        eb_config c = mock_test_config(opts, n, 1);
        eb_model m = {0};
        eb_err err;
        void *s = NULL;
        if (eb_backend_mock.open(&m, &c, &s, &err) != 0)
            _exit(3);
        eb_io io;
        eb_backend_mock.io(s, &io);
        static float in[4], out[10];
        eb_tensor ti = io.inputs[0], to = io.outputs[0];
        ti.data = in;
        to.data = out;
        for (int i = 0; i < runs; i++) {
            if (eb_backend_mock.run(s, &ti, 1, &to, 1, &err) != 0)
                _exit(4);
            if (write(fd[1], "r", 1) != 1)
                _exit(5);
        }
        _exit(0);
    }
    close(fd[1]);
    if (kill_after_ms > 0) {
        struct timespec ts = {0, kill_after_ms * 1000000L};
        nanosleep(&ts, NULL);
        int st;
        assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* still running: it hangs */
        kill(pid, SIGKILL);
    }
    char buf[64];
    ssize_t r;
    *bytes = 0;
    while ((r = read(fd[0], buf, sizeof buf)) > 0)
        *bytes += (int)r;
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_mock_crash(void **state)
{
    (void)state;
    int bytes, st;
    const eb_option at_run3[] = {{"crash", "run:3"}, {"latency_ms", "0"}, {"input_shape", "1x4"}};
    st = mock_test_child(at_run3, 3, 5, 0, &bytes);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    assert_int_equal(bytes, 2); /* runs 1 and 2 returned, run 3 crashed */

    const eb_option at_open[] = {{"crash", "open"}, {"input_shape", "1x4"}};
    st = mock_test_child(at_open, 2, 1, 0, &bytes);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    assert_int_equal(bytes, 0);

    const eb_option none[] = {{"latency_ms", "0"}, {"input_shape", "1x4"}};
    st = mock_test_child(none, 2, 3, 0, &bytes);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(bytes, 3);
}

static void test_mock_hang(void **state)
{
    (void)state;
    int bytes;
    const eb_option hang[] = {{"hang", "run"}, {"input_shape", "1x4"}};
    int st = mock_test_child(hang, 2, 1, 150, &bytes);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    assert_int_equal(bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mock_table),
        cmocka_unit_test(test_mock_defaults),
        cmocka_unit_test(test_mock_options_parsed),
        cmocka_unit_test(test_mock_bad_options),
        cmocka_unit_test(test_mock_expected_class),
        cmocka_unit_test(test_mock_outputs_deterministic),
        cmocka_unit_test(test_mock_wrong_input),
        cmocka_unit_test(test_mock_latency),
        cmocka_unit_test(test_mock_jitter_reproducible),
        cmocka_unit_test(test_mock_fail),
        cmocka_unit_test(test_mock_crash),
        cmocka_unit_test(test_mock_hang),
    };
    return cmocka_run_group_tests_name("mock", tests, NULL, NULL);
}
