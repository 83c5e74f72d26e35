/* Tests of harness/meter_rapl.c and the sampler on energy counters: powercap fixtures of a
 * laptop (package, core, uncore, psys, MMIO twin) and a two-socket server (dram subzones);
 * counters advancing at a known power, wrapping once and several times, vanishing mid-run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "meter_fixture.h"
#include "meter_impl.h"

#define RAPL_TEST_PKG "class/powercap/intel-rapl:0/energy_uj"
#define RAPL_TEST_RANGE 262143328850LL

static int rapl_test_reset(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

static double rapl_test_read(eb_meter *m)
{
    double v[EB_METER_MAX_PARTS], sum = 0;
    eb_err err = {{0}};
    assert_int_equal(m->read(m, v, &err), 0);
    for (size_t i = 0; i < m->nparts; i++)
        sum += v[i];
    return sum;
}

static void rapl_test_laptop_domains(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    meter_fixture_use("rapl-laptop");
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    eb_meter *pkg = meter_fixture_find(&set, "rapl:package");
    assert_non_null(pkg);
    assert_true(pkg->usable);
    assert_true(pkg->is_total);
    assert_int_equal(pkg->kind, EB_METER_ENERGY);
    /* one package: the MSR zone only, not its MMIO twin, and never psys */
    assert_int_equal(pkg->nparts, 1);
    assert_string_equal(pkg->part[0].rel, RAPL_TEST_PKG);
    assert_true(pkg->part[0].wrap_j == (double)RAPL_TEST_RANGE * 1e-6);
    assert_true(rapl_test_read(pkg) == 18446244 * 1e-6);
    eb_meter *psys = meter_fixture_find(&set, "rapl:psys");
    assert_non_null(psys);
    assert_true(psys->usable);
    assert_false(psys->is_total);
    assert_true(rapl_test_read(psys) == 40123456 * 1e-6);
    assert_non_null(meter_fixture_find(&set, "rapl:core"));
    assert_non_null(meter_fixture_find(&set, "rapl:uncore"));
    assert_null(meter_fixture_find(&set, "rapl:package-0")); /* only with several packages */
    eb_meter *m;
    assert_int_equal(eb_meter_choose(&set, NULL, &m, &err), 0);
    assert_ptr_equal(m, pkg);
    assert_int_equal(eb_meter_choose(&set, "rapl", &m, &err), 0);
    assert_ptr_equal(m, pkg);
    assert_int_equal(eb_meter_choose(&set, "rapl:psys", &m, &err), 0);
    assert_ptr_equal(m, psys);
    eb_meter_set_free(&set);
}

static void rapl_test_psys_never_total(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    eb_meter *m;
    /* psys alone (no package zone, no MMIO): named, it works; "auto" does not take it */
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    assert_int_equal(system("cd /tmp && rm -rf \"$EDGEBENCH_SYSFS\"/class/powercap/intel-rapl:0 "
                            "\"$EDGEBENCH_SYSFS\"/class/powercap/intel-rapl:0:* "
                            "\"$EDGEBENCH_SYSFS\"/class/powercap/intel-rapl-mmio*"), 0);
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    assert_null(meter_fixture_find(&set, "rapl:package"));
    assert_non_null(meter_fixture_find(&set, "rapl:psys"));
    assert_int_equal(eb_meter_choose(&set, "auto", &m, &err), -1);
    assert_non_null(strstr(err.msg, "no usable meter covers this device"));
    assert_int_equal(eb_meter_choose(&set, "rapl:psys", &m, &err), 0);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_mmio_fallback(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    assert_int_equal(system("rm -rf \"$EDGEBENCH_SYSFS\"/class/powercap/intel-rapl:0 "
                            "\"$EDGEBENCH_SYSFS\"/class/powercap/intel-rapl:0:*"), 0);
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    eb_meter *pkg = meter_fixture_find(&set, "rapl:package");
    assert_non_null(pkg);
    assert_int_equal(pkg->nparts, 1);
    assert_string_equal(pkg->part[0].rel, "class/powercap/intel-rapl-mmio:0/energy_uj");
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_two_sockets(void **state)
{
    (void)state;
    eb_meter_set set = {0};
    eb_err err = {{0}};
    meter_fixture_use("rapl-2socket");
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    eb_meter *pkg = meter_fixture_find(&set, "rapl:package");
    assert_non_null(pkg);
    assert_int_equal(pkg->nparts, 2);
    assert_true(rapl_test_read(pkg) == 300.0);
    eb_meter *dram = meter_fixture_find(&set, "rapl:dram");
    assert_non_null(dram);
    assert_int_equal(dram->nparts, 2);
    assert_true(rapl_test_read(dram) == 50.0);
    assert_true(dram->part[0].wrap_j == 65712999613 * 1e-6);
    eb_meter *p1 = meter_fixture_find(&set, "rapl:package-1");
    assert_non_null(p1);
    assert_true(rapl_test_read(p1) == 200.0);
    eb_meter *d1 = meter_fixture_find(&set, "rapl:package-1:dram");
    assert_non_null(d1);
    assert_true(rapl_test_read(d1) == 30.0);
    eb_meter_set_free(&set);
}

/* Writes energy_uj of package 0 and takes a reading at fake time t. */
static void rapl_test_step(eb_meter_session *s, const char *tmp, double *t, double at,
                           long long uj)
{
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "%lld", uj), 0);
    *t = at;
    assert_int_equal(eb_meter_sample(s), 0);
}

static eb_meter *rapl_test_package(eb_meter_set *set)
{
    eb_err err = {{0}};
    assert_int_equal(eb_meter_rapl_probe(set, &err), 0);
    eb_meter *pkg = meter_fixture_find(set, "rapl:package");
    assert_non_null(pkg);
    assert_true(pkg->usable);
    return pkg;
}

static void rapl_test_known_power(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 100.0;
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "%lld", 1000000LL), 0);
    eb_meter *pkg = rapl_test_package(&set);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(pkg, &o, &err);
    assert_non_null(s);
    assert_false(eb_meter_enough(s));
    /* 12.5 W for 2 s, read every 0.1 s */
    for (int i = 1; i <= 20; i++)
        rapl_test_step(s, tmp, &t, 100.0 + 0.1 * i, 1000000LL + 1250000LL * i);
    assert_true(eb_meter_enough(s));
    eb_meter_result r;
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    assert_true(r.ok);
    meter_assert_near(r.joules, 25.0, 1e-9);
    meter_assert_near(r.seconds, 2.0, 1e-9);
    meter_assert_near(r.watts, 12.5, 1e-9);
    assert_int_equal(r.samples, 22); /* start, 20 polls, stop */
    assert_int_equal(r.updates, 2000); /* 1 ms RAPL updates in 2 s */
    assert_string_equal(r.source, "rapl:package");
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_wrap_once(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    /* 1 J before the end of the range, then 2 J past its start: 3 J */
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "%lld", RAPL_TEST_RANGE - 1000000),
                     0);
    eb_meter *pkg = rapl_test_package(&set);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(pkg, &o, &err);
    assert_non_null(s);
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "%d", 2000000), 0);
    t = 1.0;
    eb_meter_result r;
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 3.0, 1e-6);
    meter_assert_near(r.watts, 3.0, 1e-6);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_wrap_many(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    /* a 10 J range, 4 J per reading, 10 readings: 40 J across four wraps, each caught by a
     * periodic reading (a start/stop pair alone would see 0 J) */
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    assert_int_equal(meter_fixture_write(tmp, "class/powercap/intel-rapl:0/max_energy_range_uj",
                                         "10000000"), 0);
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "0"), 0);
    eb_meter *pkg = rapl_test_package(&set);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(pkg, &o, &err);
    assert_non_null(s);
    for (int i = 1; i <= 10; i++)
        rapl_test_step(s, tmp, &t, 0.5 * i, (4000000LL * i) % 10000000LL);
    eb_meter_result r;
    assert_int_equal(eb_meter_stop(s, &r, &err), 0);
    meter_assert_near(r.joules, 40.0, 1e-9);
    meter_assert_near(r.watts, 8.0, 1e-9);
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_vanishes(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    double t = 0;
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    eb_meter *pkg = rapl_test_package(&set);
    eb_meter_opts o = {.manual = 1, .clock = meter_fixture_clock, .clock_ctx = &t};
    eb_meter_session *s = eb_meter_start(pkg, &o, &err);
    assert_non_null(s);
    rapl_test_step(s, tmp, &t, 1.0, 20000000);
    assert_int_equal(meter_fixture_unlink(tmp, RAPL_TEST_PKG), 0);
    t = 2.0;
    assert_int_equal(eb_meter_sample(s), -1);
    assert_true(eb_meter_enough(s)); /* waiting longer would not help */
    /* it coming back does not make the window whole again */
    assert_int_equal(meter_fixture_write(tmp, RAPL_TEST_PKG, "30000000"), 0);
    eb_meter_result r;
    assert_int_equal(eb_meter_stop(s, &r, &err), -1);
    assert_false(r.ok);
    assert_true(r.joules == 0 && r.watts == 0);
    assert_non_null(strstr(r.reason, "energy_uj is missing"));
    assert_non_null(strstr(err.msg, "rapl:package"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_permission(void **state)
{
    (void)state;
    char why[512];
    setenv("EDGEBENCH_SYSFS", "/sys", 1);
    eb_meter_errno_reason(why, sizeof why, "class/powercap/intel-rapl:0/energy_uj", EACCES);
    assert_string_equal(why, "permission denied reading /sys/class/powercap/intel-rapl:0/"
                             "energy_uj: run as root or chmod o+r it");
    if (geteuid() == 0) /* root reads a mode-000 file anyway: the probe part cannot be shown */
        skip();
    char tmp[64], path[256];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, "rapl-laptop", NULL), 0);
    snprintf(path, sizeof path, "%s/%s", tmp, RAPL_TEST_PKG);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    eb_meter *pkg = meter_fixture_find(&set, "rapl:package");
    assert_non_null(pkg);
    assert_false(pkg->usable);
    assert_non_null(strstr(pkg->reason, "permission denied"));
    assert_non_null(strstr(pkg->reason, "root-only since Linux 5.10"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

static void rapl_test_absent(void **state)
{
    (void)state;
    char tmp[64];
    eb_meter_set set = {0};
    eb_err err = {{0}};
    assert_int_equal(meter_fixture_copy(tmp, NULL), 0);
    assert_int_equal(eb_meter_rapl_probe(&set, &err), 0);
    assert_int_equal(set.n, 1);
    assert_false(set.m[0].usable);
    assert_string_equal(set.m[0].name, "rapl");
    assert_non_null(strstr(set.m[0].reason, "no powercap under"));
    eb_meter *m;
    assert_int_equal(eb_meter_choose(&set, "rapl", &m, &err), -1);
    assert_non_null(strstr(err.msg, "no powercap under"));
    eb_meter_set_free(&set);
    meter_fixture_remove(tmp);
}

int main(void)
{
#define RAPL_T(f) cmocka_unit_test_setup_teardown(f, rapl_test_reset, rapl_test_reset)
    const struct CMUnitTest tests[] = {
        RAPL_T(rapl_test_laptop_domains), RAPL_T(rapl_test_psys_never_total),
        RAPL_T(rapl_test_mmio_fallback),  RAPL_T(rapl_test_two_sockets),
        RAPL_T(rapl_test_known_power),    RAPL_T(rapl_test_wrap_once),
        RAPL_T(rapl_test_wrap_many),      RAPL_T(rapl_test_vanishes),
        RAPL_T(rapl_test_permission),     RAPL_T(rapl_test_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
