/* Tests of harness/device.c: cores specs, pinning, metadata, fingerprint, the info report on
 * fixture topologies (tests/data/device/biglittle.xml) and sysfs trees (tests/data/device/sysfs).
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"

/* tests/data/device/NAME, found from this file's path so the test runs from the repo root or
 * from anywhere when the compiler was given an absolute path. */
static void device_test_fixture(const char *name, char *buf, size_t n)
{
    const char *file = __FILE__; /* .../tests/unit/test_device.c */
    const char *unit = strstr(file, "unit/test_device.c");
    int len = unit ? (int)(unit - file) : 0;
    snprintf(buf, n, "%.*sdata/device/%s", len, file, unit ? "" : "tests/");
    snprintf(buf + strlen(buf), n - strlen(buf), "%s", name);
}

static int device_test_reset_env(void **state)
{
    (void)state;
    unsetenv("EDGEBENCH_TOPOLOGY_XML");
    unsetenv("EDGEBENCH_SYSFS");
    return 0;
}

/* The report as a string (caller frees). */
static char *device_test_info(int *rc, eb_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    *rc = eb_device_print_info(f, err);
    fclose(f);
    return text;
}

static const char *device_test_meta(const eb_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

static int device_test_ncores(void)
{
    eb_kv kv[32];
    size_t n = eb_device_metadata(kv, 32);
    const char *c = device_test_meta(kv, n, "cores");
    assert_non_null(c);
    return atoi(c);
}

/* The calling process's affinity as the OS reports it, as a list like "0,2-3". */
static void device_test_affinity(char *buf, size_t n)
{
    cpu_set_t set;
    size_t used = 0;
    buf[0] = '\0';
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, &set))
            continue;
        int j = i;
        while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set))
            j++;
        used += (size_t)(j > i ? snprintf(buf + used, n - used, "%s%d-%d", used ? "," : "", i, j)
                               : snprintf(buf + used, n - used, "%s%d", used ? "," : "", i));
        i = j;
    }
}

static void test_device_cores_good(void **state)
{
    (void)state;
    eb_err err = {{0}};
    const char *good[] = {"all", "0", "big", "little", "", NULL};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(eb_device_cores_check(good[i], &err), 0);
    if (device_test_ncores() >= 2) {
        assert_int_equal(eb_device_cores_check("0,1", &err), 0);
        assert_int_equal(eb_device_cores_check("0-1", &err), 0);
        assert_int_equal(eb_device_cores_check("1,0,1", &err), 0);
    }
}

static void test_device_cores_bad(void **state)
{
    (void)state;
    eb_err err = {{0}};
    int nc = device_test_ncores();
    char spec[32], want[128];

    snprintf(spec, sizeof spec, "%d", nc);
    if (nc == 1)
        snprintf(want, sizeof want, "cores '%s': this device has only core 0", spec);
    else
        snprintf(want, sizeof want, "cores '%s': this device has cores 0-%d", spec, nc - 1);
    assert_int_equal(eb_device_cores_check(spec, &err), -1);
    assert_string_equal(err.msg, want);

    snprintf(spec, sizeof spec, "0-%d", nc + 3);
    assert_int_equal(eb_device_cores_check(spec, &err), -1);
    assert_non_null(strstr(err.msg, "this device has"));

    const char *syntax[] = {"x", "0,", ",0", "-1", "0-", "1-x", "0;1", "biggest", " 0", "0 "};
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        err.msg[0] = '\0';
        assert_int_equal(eb_device_cores_check(syntax[i], &err), -1);
        assert_non_null(strstr(err.msg, "expected \"all\""));
        assert_non_null(strstr(err.msg, syntax[i]));
    }
    assert_int_equal(eb_device_cores_check("1-0", &err), -1);
    assert_string_equal(err.msg, "cores '1-0': range 1-0 is backwards; write 0-1");
}

static void test_device_pin_and_read_back(void **state)
{
    (void)state;
    eb_err err = {{0}};
    char bound[256], pus[256], os[256];

    assert_int_equal(eb_device_cores_pus("0", pus, sizeof pus, &err), 0);
    assert_int_equal(eb_device_pin("0", bound, sizeof bound, &err), 0);
    assert_string_equal(bound, pus);
    device_test_affinity(os, sizeof os);
    assert_string_equal(os, bound); /* the OS agrees, not just hwloc */

    if (device_test_ncores() >= 2) {
        assert_int_equal(eb_device_cores_pus("1", pus, sizeof pus, &err), 0);
        assert_int_equal(eb_device_pin("1", bound, sizeof bound, &err), 0);
        assert_string_equal(bound, pus);
        device_test_affinity(os, sizeof os);
        assert_string_equal(os, bound);
    }

    /* Unpin, so later tests (and this binary's exit) run on every core again. */
    assert_int_equal(eb_device_cores_pus("all", pus, sizeof pus, &err), 0);
    assert_int_equal(eb_device_pin("all", bound, sizeof bound, &err), 0);
    assert_string_equal(bound, pus);

    assert_int_equal(eb_device_pin("99999", bound, sizeof bound, &err), -1);
    assert_non_null(strstr(err.msg, "this device has"));
}

static void test_device_fingerprint_stable(void **state)
{
    (void)state;
    char a[128], b[128], want_prefix[128];
    eb_kv kv[32];
    eb_device_fingerprint(a, sizeof a);
    eb_device_fingerprint(b, sizeof b);
    assert_string_equal(a, b);

    size_t n = eb_device_metadata(kv, 32);
    const char *arch = device_test_meta(kv, n, "arch"), *cores = device_test_meta(kv, n, "cores"),
               *pus = device_test_meta(kv, n, "pus");
    if (!arch || !cores || !pus)
        fail();
    snprintf(want_prefix, sizeof want_prefix, "%.40s-%.8sc%.8st-", arch, cores, pus);
    assert_memory_equal(a, want_prefix, strlen(want_prefix));
    assert_int_equal(strlen(a), strlen(want_prefix) + 8); /* 8 hex digits of FNV-1a */
    assert_string_equal(device_test_meta(kv, n, "fingerprint"), a);

    /* A different machine (the fixture) has a different fingerprint. */
    char xml[512];
    device_test_fixture("biglittle.xml", xml, sizeof xml);
    setenv("EDGEBENCH_TOPOLOGY_XML", xml, 1);
    eb_device_fingerprint(b, sizeof b);
    assert_string_not_equal(a, b);
    assert_memory_equal(b, "aarch64-8c8t-", 13);
}

static void test_device_metadata_keys(void **state)
{
    (void)state;
    eb_kv kv[32];
    size_t n = eb_device_metadata(kv, 32);
    const char *keys[] = {"cpu_model", "arch",     "packages",      "cores",    "pus",
                          "memory_kb", "os",       "kernel",        "compiler", "hwloc_version",
                          "governor",  "cpu_mhz",  "loadavg",       "fingerprint"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = device_test_meta(kv, n, keys[i]);
        assert_non_null(v);
        assert_true(v[0] != '\0');
    }
    assert_true(atoi(device_test_meta(kv, n, "cores")) >= 1);
    assert_true(atoi(device_test_meta(kv, n, "pus")) >= atoi(device_test_meta(kv, n, "cores")));
    assert_true(atol(device_test_meta(kv, n, "memory_kb")) > 1024);

    /* A short array gets the first pairs only, never an overflow. */
    eb_kv few[3];
    assert_int_equal(eb_device_metadata(few, 3), 3);
    assert_string_equal(few[0].key, "cpu_model");
}

static void test_device_info_homogeneous(void **state)
{
    (void)state;
    eb_err err = {{0}};
    int rc;
    char *text = device_test_info(&rc, &err);
    assert_int_equal(rc, 0);
    const char *lines[] = {"cpu model:", "architecture:", "packages:", "cores:", "PUs:",
                           "L1d cache:", "L2 cache:", "core kinds:", "NUMA nodes:", "memory:",
                           "os:", "kernel:", "compiler:", "hwloc:", "governor:", "load average:"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_non_null(strstr(text, lines[i]));
    free(text);
}

static void test_device_info_biglittle(void **state)
{
    (void)state;
    eb_err err = {{0}};
    char xml[512], pus[64], bound[64];
    int rc;
    device_test_fixture("biglittle.xml", xml, sizeof xml);
    setenv("EDGEBENCH_TOPOLOGY_XML", xml, 1);

    char *text = device_test_info(&rc, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "core kinds:      2 kinds"));
    assert_non_null(strstr(text, "PUs 0-3, efficiency 0, FrequencyMaxMHz=1800, CoreType=ARMCortexA55"));
    assert_non_null(strstr(text, "PUs 4-7, efficiency 1, FrequencyMaxMHz=2400, CoreType=ARMCortexA76"));
    assert_non_null(strstr(text, "cpu model:       Rockchip RK3588 (fixture)"));
    assert_non_null(strstr(text, "cores:           8\n"));
    assert_non_null(strstr(text, "L2 cache:        4 x 128 KiB + 4 x 512 KiB\n"));
    assert_non_null(strstr(text, "L1i cache:       4 x 32 KiB + 4 x 64 KiB\n"));
    assert_non_null(strstr(text, "memory:          8.0 GiB"));
    free(text);

    /* big/little resolve to the ranked kinds; indexes are checked against 8 cores. */
    assert_int_equal(eb_device_cores_pus("big", pus, sizeof pus, &err), 0);
    assert_string_equal(pus, "4-7");
    assert_int_equal(eb_device_cores_pus("little", pus, sizeof pus, &err), 0);
    assert_string_equal(pus, "0-3");
    assert_int_equal(eb_device_cores_pus("1,5-6", pus, sizeof pus, &err), 0);
    assert_string_equal(pus, "1,5-6");
    assert_int_equal(eb_device_cores_check("8", &err), -1);
    assert_string_equal(err.msg, "cores '8': this device has cores 0-7");

    /* Pinning to a machine we are not on must refuse, not pretend. */
    assert_int_equal(eb_device_pin("big", bound, sizeof bound, &err), -1);
    assert_non_null(strstr(err.msg, "EDGEBENCH_TOPOLOGY_XML"));

    eb_kv kv[32];
    size_t n = eb_device_metadata(kv, 32);
    assert_string_equal(device_test_meta(kv, n, "core_kinds"), "2");
    assert_string_equal(device_test_meta(kv, n, "memory_kb"), "8388608");
}

static void test_device_homogeneous_big_is_all(void **state)
{
    (void)state;
    eb_err err = {{0}};
    char all[256], big[256], little[256];
    eb_kv kv[32];
    size_t n = eb_device_metadata(kv, 32);
    if (strcmp(device_test_meta(kv, n, "core_kinds"), "1") != 0)
        skip(); /* this machine is heterogeneous: the fixture test covers big/little */
    assert_int_equal(eb_device_cores_pus("all", all, sizeof all, &err), 0);
    assert_int_equal(eb_device_cores_pus("big", big, sizeof big, &err), 0);
    assert_int_equal(eb_device_cores_pus("little", little, sizeof little, &err), 0);
    assert_string_equal(big, all);
    assert_string_equal(little, all);
}

static void test_device_bad_xml(void **state)
{
    (void)state;
    eb_err err = {{0}};
    int rc;
    setenv("EDGEBENCH_TOPOLOGY_XML", "/nonexistent/topology.xml", 1);
    char *text = device_test_info(&rc, &err);
    free(text);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "EDGEBENCH_TOPOLOGY_XML=/nonexistent/topology.xml"));
    assert_int_equal(eb_device_cores_check("0", &err), -1);
}

static void test_device_sysfs_fixture(void **state)
{
    (void)state;
    eb_err err = {{0}};
    char root[512];
    int rc;
    device_test_fixture("sysfs", root, sizeof root);
    setenv("EDGEBENCH_SYSFS", root, 1);

    char *text = device_test_info(&rc, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "governor:        schedutil,performance\n"));
    assert_non_null(strstr(text, "cpu MHz:         1416,2400\n"));
    assert_non_null(strstr(text, "policy4:       cpus 4 5 6 7, governor performance, 2400 MHz "
                                 "(min 408, max 2400)"));
    free(text);

    eb_kv kv[32];
    size_t n = eb_device_metadata(kv, 32);
    assert_string_equal(device_test_meta(kv, n, "governor"), "schedutil,performance");
    assert_string_equal(device_test_meta(kv, n, "cpu_mhz"), "1416,2400");

    /* No cpufreq at all (most VMs): "n/a", not an error. */
    setenv("EDGEBENCH_SYSFS", "/nonexistent-sysfs", 1);
    n = eb_device_metadata(kv, 32);
    assert_string_equal(device_test_meta(kv, n, "governor"), "n/a");
    assert_string_equal(device_test_meta(kv, n, "cpu_mhz"), "n/a");
    text = device_test_info(&rc, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(text, "governor:        n/a"));
    free(text);
}

static void test_device_memory(void **state)
{
    (void)state;
    long rss0, hwm0, rss1, hwm1;
    eb_device_memory(&rss0, &hwm0);
    assert_true(rss0 > 0);
    assert_true(hwm0 >= rss0);

    size_t bytes = 32u << 20;
    volatile char *p = malloc(bytes);
    assert_non_null((void *)p);
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = (char)i; /* touch every page so it is resident */
    eb_device_memory(&rss1, &hwm1);
    assert_true(rss1 >= rss0 + 30 * 1024);
    assert_true(hwm1 >= rss1);
    free((void *)p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_device_cores_good, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_cores_bad, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_pin_and_read_back, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_fingerprint_stable, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_metadata_keys, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_info_homogeneous, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_info_biglittle, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_homogeneous_big_is_all,
                                        device_test_reset_env, device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_bad_xml, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_sysfs_fixture, device_test_reset_env,
                                        device_test_reset_env),
        cmocka_unit_test_setup_teardown(test_device_memory, device_test_reset_env,
                                        device_test_reset_env),
    };
    return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
