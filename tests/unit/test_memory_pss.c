/* Tests of harness/memory_pss.c: the smaps formats from fixtures (tests/data/sysfs/telemetry/
 * proc), the fallback order, and PSS of this very process growing with touched memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "memory_pss.h"

static void pss_test_fixture(const char *name, char *buf, size_t n)
{
    const char *file = __FILE__; /* .../tests/unit/test_memory_pss.c */
    const char *unit = strstr(file, "unit/test_memory_pss.c");
    int len = unit ? (int)(unit - file) : 0;
    snprintf(buf, n, "%.*s%sdata/sysfs/telemetry/proc/%s", len, file, unit ? "" : "tests/",
             name);
}

static void test_rollup_first(void **state)
{
    (void)state;
    char rollup[512], smaps[512], note[160];
    pss_test_fixture("smaps_rollup", rollup, sizeof rollup);
    pss_test_fixture("smaps", smaps, sizeof smaps);
    assert_int_equal(eb_memory_pss_kb_from(rollup, smaps, note, sizeof note), 250);
    assert_string_equal(note, "smaps_rollup");
}

static void test_smaps_summed_when_no_rollup(void **state)
{
    (void)state;
    char rollup[512], smaps[512], note[160];
    pss_test_fixture("no_such_smaps_rollup", rollup, sizeof rollup);
    pss_test_fixture("smaps", smaps, sizeof smaps);
    /* 100 + 20 + 5; Pss_Dirty and SwapPss are not Pss */
    assert_int_equal(eb_memory_pss_kb_from(rollup, smaps, note, sizeof note), 125);
    assert_string_equal(note, "smaps");
    assert_int_equal(eb_memory_pss_kb_from(NULL, smaps, note, sizeof note), 125);
}

static void test_neither_or_malformed(void **state)
{
    (void)state;
    char a[512], b[512], note[160];
    pss_test_fixture("no_such_smaps_rollup", a, sizeof a);
    pss_test_fixture("no_such_smaps", b, sizeof b);
    assert_int_equal(eb_memory_pss_kb_from(a, b, note, sizeof note), -1);
    assert_non_null(strstr(note, "no smaps_rollup or smaps"));

    pss_test_fixture("smaps_no_pss", b, sizeof b);
    assert_int_equal(eb_memory_pss_kb_from(a, b, note, sizeof note), -1);
    assert_non_null(strstr(note, "has no Pss: line"));

    /* a directory where the file should be: an error, not a silent 0 */
    pss_test_fixture("", b, sizeof b);
    long kb = eb_memory_pss_kb_from(b, NULL, note, sizeof note);
    assert_int_equal(kb, -1);
}

/* This process: the kernel here has smaps_rollup (Linux >= 4.14); touching 16 MiB of private
 * memory raises PSS by about that much. */
static void test_this_process(void **state)
{
    (void)state;
    char note[160];
    long before = eb_memory_pss_kb(note, sizeof note);
    assert_true(before > 0);
    if (access("/proc/self/smaps_rollup", R_OK) == 0)
        assert_string_equal(note, "smaps_rollup");
    else
        assert_string_equal(note, "smaps");
    size_t len = 16u << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    memset(m, 1, len);
    long after = eb_memory_pss_kb(note, sizeof note);
    munmap(m, len);
    assert_true(after - before >= 15 * 1024);
    assert_true(after - before <= 18 * 1024);
    /* the smaps fallback agrees with the rollup within a few pages */
    long summed = eb_memory_pss_kb_from(NULL, "/proc/self/smaps", note, sizeof note);
    long rolled = eb_memory_pss_kb(note, sizeof note);
    assert_true(summed > 0);
    assert_true(labs(summed - rolled) < 512);
}

static void test_model_share(void **state)
{
    (void)state;
    long kb = 12345;
    assert_int_equal(eb_memory_model_kb(1000, 5000, &kb), 0);
    assert_int_equal(kb, 4000);
    assert_int_equal(eb_memory_model_kb(5000, 4000, &kb), 0);
    assert_int_equal(kb, -1000); /* as measured, not clamped */
    kb = 7;
    assert_int_equal(eb_memory_model_kb(-1, 4000, &kb), -1);
    assert_int_equal(eb_memory_model_kb(1000, -1, &kb), -1);
    assert_int_equal(kb, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollup_first),
        cmocka_unit_test(test_smaps_summed_when_no_rollup),
        cmocka_unit_test(test_neither_or_malformed),
        cmocka_unit_test(test_this_process),
        cmocka_unit_test(test_model_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
