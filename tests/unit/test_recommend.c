/* The recommendation: constraints exclude rows with the right reason, the objective ranks the
 * rest, accuracy drop is measured against the base on the closest row, and the Pareto front. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "recommend.h"

/* A run built in memory: the columns the recommendation reads, rows as literal cells. */
static char *recommend_test_columns[] = {
    "variant", "base",  "backend",        "threads",       "cores",        "batch",
    "mode",    "status", "error",         "latency_p50_ms", "latency_p99_ms", "accuracy_top1",
    "peak_rss_kb", "model_bytes", "energy_mj_per_inference"};
#define RT_NCOL (sizeof recommend_test_columns / sizeof recommend_test_columns[0])

typedef struct recommend_test_run {
    eb_run_data d;
    char **rows[16];
    char *cells[16][RT_NCOL];
    char *keys[8], *values[8];
} recommend_test_run;

static void recommend_test_init(recommend_test_run *t)
{
    memset(t, 0, sizeof *t);
    t->d.dir = "mem";
    t->d.columns = recommend_test_columns;
    t->d.n_columns = RT_NCOL;
    t->d.rows = t->rows;
    t->d.meta_keys = t->keys;
    t->d.meta_values = t->values;
}

/* variant, base, backend, threads, status, p50, p99, acc, rss, bytes, energy ("" = empty) */
static void recommend_test_row(recommend_test_run *t, char *variant, char *base, char *backend,
                               char *threads, char *status, char *p50, char *p99, char *acc,
                               char *rss, char *bytes, char *energy)
{
    size_t i = t->d.n_rows++;
    char *v[RT_NCOL] = {variant, base, backend, threads, "all", "1", "single_stream", status,
                        strcmp(status, "ok") == 0 ? "" : "boom", p50, p99, acc, rss, bytes,
                        energy};
    memcpy(t->cells[i], v, sizeof v);
    t->rows[i] = t->cells[i];
}

static void recommend_test_meta(recommend_test_run *t, char *k, char *v)
{
    t->keys[t->d.n_meta] = k;
    t->values[t->d.n_meta++] = v;
}

static const eb_rec_row *recommend_test_find(const eb_recommendation *rec, size_t row)
{
    for (size_t k = 0; k < rec->n; k++)
        if (rec->rows[k].row == row)
            return &rec->rows[k];
    fail_msg("row %zu missing from the recommendation", row);
    return NULL;
}

/* The canonical case: a base, a quantized variant within budget, a pruned one too inaccurate,
 * a slow one, a failed one. */
static void recommend_test_fixture(recommend_test_run *t)
{
    recommend_test_init(t);
    recommend_test_row(t, "original", "", "ref", "1", "ok", "2.0", "3.0", "0.900", "9000", "400000", "");
    recommend_test_row(t, "int8", "original", "ref", "1", "ok", "1.0", "1.5", "0.895", "7000", "100000", "");
    recommend_test_row(t, "pruned", "original", "ref", "1", "ok", "0.5", "0.8", "0.877", "6000", "200000", "");
    recommend_test_row(t, "original", "", "ref", "2", "ok", "4.0", "7.1", "0.900", "9500", "400000", "");
    recommend_test_row(t, "int8", "original", "ref", "2", "failed", "", "", "", "", "100000", "");
    recommend_test_meta(t, "objective", "latency");
    recommend_test_meta(t, "constraint.accuracy_drop", "0.01");
    recommend_test_meta(t, "constraint.p99_ms", "5");
}

static void test_constraints_pick_and_reasons(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    eb_recommendation rec;
    eb_err err = {{0}};
    assert_int_equal(eb_recommend(&t.d, &rec, &err), 0);
    assert_int_equal(rec.n, 5);
    assert_int_equal(rec.chosen, 0);
    /* pruned is fastest but drops 2.3 points; int8 (0.5 points) wins on p50. */
    assert_int_equal(rec.rows[0].row, 1);
    assert_int_equal(rec.rows[0].state, EB_REC_CHOSEN);
    assert_true(fabs(rec.rows[0].accuracy_drop - 0.005) < 1e-9);
    assert_int_equal(rec.rows[0].base_row, 0);
    assert_int_equal(rec.rows[1].row, 0);
    assert_int_equal(rec.rows[1].state, EB_REC_RUNNER_UP);
    assert_int_equal(rec.rows[1].rank, 2);
    const eb_rec_row *pruned = recommend_test_find(&rec, 2);
    assert_int_equal(pruned->state, EB_REC_EXCLUDED);
    assert_string_equal(pruned->reason, "accuracy drop 2.3 points > 1.0 vs base 'original'");
    const eb_rec_row *slow = recommend_test_find(&rec, 3);
    assert_string_equal(slow->reason, "p99 7.1 ms > 5 ms");
    const eb_rec_row *failed = recommend_test_find(&rec, 4);
    assert_string_equal(failed->reason, "failed: boom");
    eb_recommend_free(&rec);
}

static void test_no_constraints_fastest_wins(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    t.d.n_meta = 0; /* an old run.csv: no objective, no constraints */
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_string_equal(rec.objective, "latency");
    assert_int_equal(rec.rows[rec.chosen].row, 2);
    /* 4 ok rows: chosen + 3 runners-up; the failed row is still excluded. */
    assert_int_equal(rec.rows[3].state, EB_REC_RUNNER_UP);
    assert_int_equal(rec.rows[4].state, EB_REC_EXCLUDED);
    eb_recommend_free(&rec);
}

static void test_objective_size_and_energy_fallback(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    t.values[0] = "size";
    t.d.n_meta = 1;
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_string_equal(rec.objective, "size");
    assert_int_equal(rec.rows[0].row, 1); /* 100000 bytes */
    assert_int_equal(rec.rows[1].row, 2); /* 200000 */
    assert_int_equal(rec.rows[2].row, 0); /* 400000 at 9000 kB before 9500 kB */
    assert_int_equal(rec.rows[3].row, 3);
    eb_recommend_free(&rec);

    /* Energy asked, nobody measured it: rank by latency and say so. */
    t.values[0] = "energy";
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_string_equal(rec.objective, "latency");
    assert_non_null(strstr(rec.note, "no trial measured energy"));
    assert_int_equal(rec.rows[0].row, 2);
    eb_recommend_free(&rec);

    /* Energy measured on two rows: those rank, the others are excluded for lacking it. */
    t.cells[0][14] = "3.0";
    t.cells[1][14] = "2.0";
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_string_equal(rec.objective, "energy");
    assert_int_equal(rec.rows[0].row, 1);
    assert_int_equal(rec.rows[1].row, 0);
    assert_int_equal(recommend_test_find(&rec, 2)->state, EB_REC_EXCLUDED);
    assert_string_equal(recommend_test_find(&rec, 2)->reason, "energy not measured (objective energy)");
    eb_recommend_free(&rec);
}

static void test_energy_and_memory_budgets(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    t.d.n_meta = 0;
    recommend_test_meta(&t, "constraint.peak_rss_kb", "8000");
    recommend_test_meta(&t, "constraint.energy_mj", "2.5");
    t.cells[1][14] = "2.0";
    t.cells[2][14] = "2.6";
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_int_equal(rec.rows[0].row, 1);
    assert_int_equal(rec.rows[1].state, EB_REC_EXCLUDED);
    assert_string_equal(recommend_test_find(&rec, 2)->reason, "energy 2.6 mJ > 2.5 mJ");
    assert_string_equal(recommend_test_find(&rec, 0)->reason,
                        "peak memory 9000 kB > 8000 kB; energy not measured (budget 2.5 mJ)");
    eb_recommend_free(&rec);
}

/* The base is taken from the same backend and thread count when the run has it. */
static void test_base_matches_backend(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_init(&t);
    recommend_test_row(&t, "fp32", "", "ort", "1", "ok", "1", "1", "0.95", "", "", "");
    recommend_test_row(&t, "fp32", "", "ref", "1", "ok", "1", "1", "0.90", "", "", "");
    recommend_test_row(&t, "q", "fp32", "ref", "1", "ok", "1", "1", "0.89", "", "", "");
    recommend_test_row(&t, "q", "fp32", "xnn", "1", "ok", "1", "1", "0.89", "", "", "");
    recommend_test_row(&t, "q", "gone", "ref", "1", "ok", "1", "1", "0.89", "", "", "");
    recommend_test_row(&t, "q", "fp32", "ref", "2", "ok", "1", "1", "", "", "", "");
    recommend_test_meta(&t, "constraint.accuracy_drop", "0.01");
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    const eb_rec_row *q = recommend_test_find(&rec, 2);
    assert_int_equal(q->base_row, 1);
    assert_true(fabs(q->accuracy_drop - 0.01) < 1e-9);
    assert_int_equal(q->reason[0], '\0'); /* exactly on the budget passes */
    /* No fp32 on xnn: the first best stand-in (ort, same threads) gives 6 points. */
    assert_string_equal(recommend_test_find(&rec, 3)->reason,
                        "accuracy drop 6.0 points > 1.0 vs base 'fp32'");
    assert_string_equal(recommend_test_find(&rec, 4)->reason,
                        "accuracy drop unknown (its base is not in this run; base 'gone')");
    assert_string_equal(recommend_test_find(&rec, 5)->reason,
                        "accuracy drop unknown (no accuracy measured; base 'fp32')");
    eb_recommend_free(&rec);
}

/* A variant judged on its own dataset (a LoRA adapter on shifted images) is compared with its
 * base on that dataset, not with the base's row on the clean one; labels then name the data. */
static void test_base_on_same_dataset(void **state)
{
    (void)state;
    static char *cols[] = {"variant", "base", "backend", "threads", "status", "latency_p50_ms",
                           "latency_p99_ms", "accuracy_top1", "dataset"};
    static char *cells[3][9] = {
        {"cnn", "", "ref", "1", "ok", "1", "1", "0.90", "clean"},
        {"cnn", "", "ref", "1", "ok", "1", "1", "0.20", "shifted"},
        {"lora", "cnn", "ref", "1", "ok", "1", "1", "0.88", "shifted"},
    };
    char **rows[3] = {cells[0], cells[1], cells[2]};
    char *keys[1] = {"constraint.accuracy_drop"}, *values[1] = {"0.01"};
    eb_run_data d = {.dir = "mem", .n_columns = 9, .columns = cols, .n_rows = 3, .rows = rows,
                     .n_meta = 1, .meta_keys = keys, .meta_values = values};
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&d, &rec, NULL), 0);
    const eb_rec_row *lora = recommend_test_find(&rec, 2);
    assert_int_equal(lora->base_row, 1);
    assert_true(fabs(lora->accuracy_drop - (0.20 - 0.88)) < 1e-9); /* a gain, not a 2-point drop */
    assert_int_equal(lora->reason[0], '\0');
    char label[128];
    eb_recommend_label(&d, 2, label, sizeof label);
    assert_string_equal(label, "lora on ref, 1 thread, on shifted");
    eb_recommend_free(&rec);
}

static void test_bad_meta(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    eb_recommendation rec;
    eb_err err = {{0}};
    t.values[2] = "fast";
    assert_int_equal(eb_recommend(&t.d, &rec, &err), -1);
    assert_non_null(strstr(err.msg, "constraint.p99_ms is 'fast'"));
    t.values[2] = "5";
    t.values[0] = "speed";
    assert_int_equal(eb_recommend(&t.d, &rec, &err), -1);
    assert_non_null(strstr(err.msg, "objective 'speed'"));
    t.values[0] = "latency";
    t.keys[2] = "constraint.watts";
    assert_int_equal(eb_recommend(&t.d, &rec, &err), 0);
    assert_non_null(strstr(rec.note, "constraint 'watts' not known here"));
    eb_recommend_free(&rec);
}

static void test_nothing_meets(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    t.values[2] = "0.1";
    eb_recommendation rec;
    assert_int_equal(eb_recommend(&t.d, &rec, NULL), 0);
    assert_int_equal(rec.chosen, -1);
    for (size_t k = 0; k < rec.n; k++)
        assert_int_equal(rec.rows[k].state, EB_REC_EXCLUDED);
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_int_equal(eb_recommend_print(f, &t.d, NULL), 0);
    fclose(f);
    assert_non_null(strstr(buf, "no configuration meets the constraints"));
    assert_non_null(strstr(buf, "excluded:  int8 on ref, 1 thread: p99 1.5 ms > 0.1 ms"));
    eb_recommend_free(&rec);
}

static void test_pareto(void **state)
{
    (void)state;
    /* (acc, p99): a dominates c (more accurate and faster); b trades; d is a duplicate of a;
     * e has no accuracy. */
    double acc[] = {0.9, 0.8, 0.85, 0.9, NAN, 0.95};
    double lat[] = {1.0, 0.5, 2.0, 1.0, 0.1, 3.0};
    int front[6];
    eb_recommend_pareto(acc, lat, 6, front);
    int want[] = {1, 1, 0, 1, 0, 1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(front[i], want[i]);
    /* Equal accuracy, slower: dominated. */
    double acc2[] = {0.9, 0.9};
    double lat2[] = {1.0, 1.1};
    eb_recommend_pareto(acc2, lat2, 2, front);
    assert_int_equal(front[0], 1);
    assert_int_equal(front[1], 0);
}

static void test_label(void **state)
{
    (void)state;
    recommend_test_run t;
    recommend_test_fixture(&t);
    char buf[128];
    eb_recommend_label(&t.d, 3, buf, sizeof buf);
    assert_string_equal(buf, "original on ref, 2 threads");
    t.cells[0][4] = "0-1";
    t.cells[0][5] = "8";
    t.cells[0][6] = "offline";
    eb_recommend_label(&t.d, 0, buf, sizeof buf);
    assert_string_equal(buf, "original on ref, 1 thread, cores 0-1, batch 8, offline");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constraints_pick_and_reasons),
        cmocka_unit_test(test_no_constraints_fastest_wins),
        cmocka_unit_test(test_objective_size_and_energy_fallback),
        cmocka_unit_test(test_energy_and_memory_budgets),
        cmocka_unit_test(test_base_matches_backend),
        cmocka_unit_test(test_base_on_same_dataset),
        cmocka_unit_test(test_bad_meta),
        cmocka_unit_test(test_nothing_meets),
        cmocka_unit_test(test_pareto),
        cmocka_unit_test(test_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
