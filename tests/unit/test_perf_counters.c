/* Tests of harness/perf_counters.c on the machine that runs them: software events must count
 * busy work (they work in VMs); hardware events either count or say why they cannot (on this
 * project's VM they are unsupported, on a real board they count: both are accepted, the reason
 * is checked only when unsupported).  Where perf_event_open is refused to the process as a
 * whole (perf_event_paranoid 3 for a non-root user, as Debian's kernels set it; a container's
 * seccomp profile without CAP_PERFMON) there is nothing to count: those tests skip, after
 * checking the reason says so.  Pure helpers (scaling, reasons, column cells) are checked
 * exactly. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cmocka.h>

#include "perf_counters.h"

static double perf_test_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Spins for ms of this thread's CPU time (not wall time: the machine is shared, and a
 * descheduled spin would count less than it waited); the volatile sink keeps the loop. */
static void perf_test_spin(double ms)
{
    volatile uint64_t sink = 0;
    double t0 = perf_test_cpu_ms();
    while (perf_test_cpu_ms() - t0 < ms)
        for (int i = 0; i < 1000; i++)
            sink += (uint64_t)i * 2654435761u;
    (void)sink;
}

static void *perf_test_thread(void *arg)
{
    perf_test_spin(*(double *)arg);
    return NULL;
}

/* Touches fresh anonymous pages so each one faults. */
static void perf_test_fault(size_t pages)
{
    size_t len = pages * 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    for (size_t i = 0; i < len; i += 4096)
        m[i] = 1;
    munmap(m, len);
}

/* 1 when perf_event_open refused every counter for lack of permission (or does not exist):
 * closes p, so the caller can skip().  Any other failure of the software events is a failure. */
static int perf_test_refused(eb_perf *p)
{
    for (int i = 0; i < EB_PERF_N; i++)
        if (p->fd[i] >= 0)
            return 0;
    const char *why = p->why[EB_PERF_TASK_CLOCK];
    int refused = strstr(why, "perf_event_paranoid=") || strstr(why, "not permitted") ||
                  strstr(why, "not available in this kernel");
    if (refused) {
        print_message("perf_event_open refused here (%s): software counters not tested\n", why);
        eb_perf_close(p);
    }
    return refused;
}

static void test_software_counters_count_busy_work(void **state)
{
    (void)state;
    eb_perf p;
    int opened = eb_perf_open(&p);
    if (perf_test_refused(&p))
        skip();
    assert_true(opened >= 4); /* the software events work in VMs and on boards alike */
    eb_perf_start(&p);
    perf_test_spin(30);
    perf_test_fault(64);
    eb_perf_stop(&p);
    /* Work after stop must not count. */
    perf_test_spin(30);
    eb_perf_value v[EB_PERF_N];
    eb_perf_read(&p, v);
    eb_perf_close(&p);

    assert_true(v[EB_PERF_TASK_CLOCK].supported);
    assert_true(v[EB_PERF_TASK_CLOCK].value >= 25.0);
    assert_true(v[EB_PERF_TASK_CLOCK].value < 55.0); /* the 30 ms after stop are excluded */
    assert_true(v[EB_PERF_PAGE_FAULTS].supported);
    assert_true(v[EB_PERF_PAGE_FAULTS].value >= 64.0);
    assert_true(v[EB_PERF_CONTEXT_SWITCHES].supported);
    assert_true(v[EB_PERF_CONTEXT_SWITCHES].value >= 0.0);
    assert_true(v[EB_PERF_CPU_MIGRATIONS].supported);
}

/* Threads created after open are counted (inherit): the main thread only waits. */
static void test_worker_threads_count(void **state)
{
    (void)state;
    eb_perf p;
    eb_perf_open(&p);
    if (perf_test_refused(&p))
        skip();
    double ms = 40;
    eb_perf_start(&p);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, perf_test_thread, &ms), 0);
    pthread_join(th, NULL);
    eb_perf_stop(&p);
    eb_perf_value v[EB_PERF_N];
    eb_perf_read(&p, v);
    eb_perf_close(&p);
    assert_true(v[EB_PERF_TASK_CLOCK].supported);
    assert_true(v[EB_PERF_TASK_CLOCK].value >= 35.0);
}

/* Reset at start: a second window does not carry the first window's count. */
static void test_start_resets(void **state)
{
    (void)state;
    eb_perf p;
    eb_perf_open(&p);
    if (perf_test_refused(&p))
        skip();
    eb_perf_start(&p);
    perf_test_spin(40);
    eb_perf_stop(&p);
    eb_perf_start(&p);
    perf_test_spin(5);
    eb_perf_stop(&p);
    eb_perf_value v[EB_PERF_N];
    eb_perf_read(&p, v);
    eb_perf_close(&p);
    eb_perf_close(&p); /* twice is safe */
    assert_true(v[EB_PERF_TASK_CLOCK].value < 30.0);
}

static void test_hardware_counters_count_or_say_why(void **state)
{
    (void)state;
    eb_perf p;
    eb_perf_open(&p);
    eb_perf_start(&p);
    perf_test_spin(10);
    eb_perf_stop(&p);
    eb_perf_value v[EB_PERF_N];
    eb_perf_read(&p, v);
    eb_perf_close(&p);
    for (int i = EB_PERF_CYCLES; i <= EB_PERF_BRANCH_MISSES; i++) {
        if (v[i].supported) {
            if (i == EB_PERF_CYCLES || i == EB_PERF_INSTRUCTIONS)
                assert_true(v[i].value > 1000.0);
        } else {
            assert_true(strlen(v[i].why) > 0);
            assert_true(strstr(v[i].why, "not supported") || strstr(v[i].why, "paranoid") ||
                        strstr(v[i].why, "PMU") || strstr(v[i].why, "perf_event_open"));
        }
    }
    char cell[64];
    size_t n;
    const eb_perf_column *cols = eb_perf_columns(&n);
    eb_perf_column_format(&cols[0], v, 10, cell, sizeof cell);
    assert_true(v[EB_PERF_CYCLES].supported ? cell[0] != '\0' : cell[0] == '\0');
}

static void test_scale(void **state)
{
    (void)state;
    assert_true(eb_perf_scale(100, 10, 10) == 100.0);
    assert_true(eb_perf_scale(100, 10, 5) == 200.0);   /* ran half the time */
    assert_true(eb_perf_scale(100, 10, 0) < 0);        /* never on the PMU */
    assert_true(eb_perf_scale(0, 0, 0) == 0.0);        /* never enabled: nothing happened */
}

static void test_errno_reasons(void **state)
{
    (void)state;
    char buf[96]; /* eb_perf's own reason buffers: every reason must fit */
    eb_perf_errno_reason(ENOENT, 2, 0, buf, sizeof buf);
    assert_string_equal(buf, "not supported by this CPU/VM");
    eb_perf_errno_reason(EOPNOTSUPP, 2, 0, buf, sizeof buf);
    assert_string_equal(buf, "not supported by this CPU/VM");
    eb_perf_errno_reason(EACCES, 3, 0, buf, sizeof buf);
    assert_string_equal(buf, "perf_event_paranoid=3: run as root or lower it");
    /* refused where the level (or being root) allows it: a policy, not the level */
    eb_perf_errno_reason(EPERM, 3, 1, buf, sizeof buf);
    assert_string_equal(buf, "perf_event_open refused although running as root: seccomp, LSM "
                             "or a user namespace");
    eb_perf_errno_reason(EPERM, -99, 1, buf, sizeof buf); /* the level unread: not quoted */
    assert_null(strstr(buf, "-99"));
    eb_perf_errno_reason(EACCES, 2, 0, buf, sizeof buf);
    assert_non_null(strstr(buf, "refused (perf_event_paranoid=2 allows it)"));
    eb_perf_errno_reason(EINVAL, 2, 0, buf, sizeof buf);
    assert_non_null(strstr(buf, "perf_event_open: "));
}

static void test_columns_and_cells(void **state)
{
    (void)state;
    size_t n = 0;
    const eb_perf_column *c = eb_perf_columns(&n);
    assert_int_equal(n, 9);
    assert_string_equal(c[0].column, "cycles_per_inference");
    assert_string_equal(c[5].column, "task_clock_ms_per_inference");
    assert_string_equal(c[8].column, "cpu_migrations");
    /* every counter appears once */
    int seen[EB_PERF_N] = {0};
    for (size_t i = 0; i < n; i++)
        seen[c[i].counter]++;
    for (int i = 0; i < EB_PERF_N; i++)
        assert_int_equal(seen[i], 1);

    eb_perf_value v[EB_PERF_N];
    memset(v, 0, sizeof v);
    v[EB_PERF_INSTRUCTIONS].supported = 1;
    v[EB_PERF_INSTRUCTIONS].value = 5000;
    v[EB_PERF_PAGE_FAULTS].supported = 1;
    v[EB_PERF_PAGE_FAULTS].value = 42;
    for (int i = 0; i < EB_PERF_N; i++)
        if (!v[i].supported)
            snprintf(v[i].why, sizeof v[i].why, "%s",
                     i < EB_PERF_TASK_CLOCK ? "not supported by this CPU/VM" : "other");
    char cell[64];
    eb_perf_column_format(&c[1], v, 100, cell, sizeof cell);
    assert_string_equal(cell, "50");
    eb_perf_column_format(&c[1], v, 0, cell, sizeof cell);
    assert_string_equal(cell, "");
    eb_perf_column_format(&c[7], v, 100, cell, sizeof cell); /* a total, not divided */
    assert_string_equal(cell, "42");
    eb_perf_column_format(&c[0], v, 100, cell, sizeof cell);
    assert_string_equal(cell, "");

    char why[256];
    eb_perf_unsupported(v, why, sizeof why);
    assert_string_equal(why, "cycles, cache-references, cache-misses, branch-misses: not "
                             "supported by this CPU/VM; task-clock, context-switches, "
                             "cpu-migrations: other");
    for (int i = 0; i < EB_PERF_N; i++)
        v[i].supported = 1;
    eb_perf_unsupported(v, why, sizeof why);
    assert_string_equal(why, "");
    /* truncation stays terminated */
    v[0].supported = 0;
    eb_perf_unsupported(v, why, 10);
    assert_int_equal(strlen(why), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_software_counters_count_busy_work),
        cmocka_unit_test(test_worker_threads_count),
        cmocka_unit_test(test_start_resets),
        cmocka_unit_test(test_hardware_counters_count_or_say_why),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_errno_reasons),
        cmocka_unit_test(test_columns_and_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
