/* fidelity: agreement of top-1s, max and mean absolute differences, arg-max ties and NaN,
 * unequal sample counts and widths, and the bases-first order (with cycles refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "fidelity.h"

static void test_identical_outputs_agree_fully(void **state)
{
    (void)state;
    const float a[] = {0.1f, 0.7f, 0.2f, 0.5f, 0.4f, 0.1f};
    eb_fidelity f;
    assert_int_equal(eb_fidelity_compare(a, 2, 3, a, 2, 3, &f), 0);
    assert_true(f.agreement_top1 == 1.0);
    assert_true(f.max_abs_diff == 0.0);
    assert_true(f.mean_abs_diff == 0.0);
    assert_int_equal(f.samples, 2);
}

static void test_differences_are_measured(void **state)
{
    (void)state;
    /* sample 0: same top-1 (1); sample 1: 0 vs 2; sample 2: same (2) */
    const float a[] = {0.0f, 1.0f, 0.0f, 0.9f, 0.0f, 0.1f, 0.0f, 0.0f, 1.0f};
    const float b[] = {0.0f, 0.5f, 0.0f, 0.1f, 0.0f, 0.9f, 0.0f, 0.0f, 1.0f};
    eb_fidelity f;
    assert_int_equal(eb_fidelity_compare(a, 3, 3, b, 3, 3, &f), 0);
    assert_float_equal(f.agreement_top1, 2.0 / 3.0, 1e-12);
    assert_float_equal(f.max_abs_diff, 0.8, 1e-6);
    assert_float_equal(f.mean_abs_diff, (0.5 + 0.8 + 0.8) / 9.0, 1e-6);
}

static void test_prefix_and_widths(void **state)
{
    (void)state;
    /* 3 samples against 2: only the first 2 count */
    const float a[] = {1, 0, 0, 1, 1, 0};
    const float b[] = {1, 0, 1, 0};
    eb_fidelity f;
    assert_int_equal(eb_fidelity_compare(a, 3, 2, b, 2, 2, &f), 0);
    assert_int_equal(f.samples, 2);
    assert_float_equal(f.agreement_top1, 0.5, 1e-12);
    /* different widths: agreement on class indices, no diffs */
    const float c[] = {0, 0, 1, 0, 1, 0};
    assert_int_equal(eb_fidelity_compare(c, 2, 3, b, 2, 2, &f), 0);
    assert_float_equal(f.agreement_top1, 0.0, 1e-12);
    assert_true(isnan(f.max_abs_diff) && isnan(f.mean_abs_diff));
    /* nothing to compare */
    assert_int_equal(eb_fidelity_compare(a, 0, 2, b, 2, 2, &f), -1);
    assert_true(isnan(f.agreement_top1));
    assert_int_equal(f.samples, 0);
}

static void test_argmax_ties_and_nan(void **state)
{
    (void)state;
    const float ties[] = {0.2f, 0.5f, 0.5f};
    const float nan_first[] = {NAN, 0.1f, 0.3f};
    const float all_nan[] = {NAN, NAN};
    assert_int_equal(eb_fidelity_argmax(ties, 3), 1);
    assert_int_equal(eb_fidelity_argmax(nan_first, 3), 2);
    assert_int_equal(eb_fidelity_argmax(all_nan, 2), 0);
    /* a NaN against a number is the largest difference there is */
    const float a[] = {NAN, 1.0f};
    const float b[] = {0.0f, 1.0f};
    eb_fidelity f;
    assert_int_equal(eb_fidelity_compare(a, 1, 2, b, 1, 2, &f), 0);
    assert_true(isinf(f.max_abs_diff));
}

static void test_order_puts_bases_first(void **state)
{
    (void)state;
    /* 0 <- 2 (0's base is 2), 1 has none, 2's base is 3, 3 has none */
    const long base_of[] = {2, -1, 3, -1};
    size_t order[4], at = 99;
    assert_int_equal(eb_fidelity_order(base_of, 4, order, &at), 0);
    /* declaration order where possible: 1, then 3, then 2, then 0 */
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 2);
    assert_int_equal(order[3], 0);
    const long none[] = {-1, -1, -1};
    assert_int_equal(eb_fidelity_order(none, 3, order, &at), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[2], 2);
}

static void test_order_refuses_cycles(void **state)
{
    (void)state;
    /* 0 is fine; 1 -> 2 -> 3 -> 1 is a cycle; 4 hangs off it */
    const long base_of[] = {-1, 2, 3, 1, 1};
    size_t order[5], at = 99;
    assert_int_equal(eb_fidelity_order(base_of, 5, order, &at), -1);
    assert_true(at >= 1 && at <= 3);
    const long self[] = {0};
    assert_int_equal(eb_fidelity_order(self, 1, order, &at), -1);
    assert_int_equal(at, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_outputs_agree_fully),
        cmocka_unit_test(test_differences_are_measured),
        cmocka_unit_test(test_prefix_and_widths),
        cmocka_unit_test(test_argmax_ties_and_nan),
        cmocka_unit_test(test_order_puts_bases_first),
        cmocka_unit_test(test_order_refuses_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
