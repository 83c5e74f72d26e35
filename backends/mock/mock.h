/* The mock backend: deterministic outputs and a configurable latency, with no model file.
 *
 * It makes the harness testable exactly (hyperfine's MockExecutor) and measures the harness's
 * own overhead per iteration (latency_ms = 0).  Options (see the table in mock.c, or
 * `edgebench help mock`): latency_ms, jitter_ms, seed, classes, input_shape, fail, crash, hang,
 * params, macs.
 *
 * Outputs: one float32 tensor "scores" [batch, classes]; for each sample, score[c] is 1 for
 * c == eb_mock_expected_class(sample) and 0 otherwise, so accuracy against labels computed
 * the same way is exactly 1.
 */
#ifndef EB_BACKEND_MOCK_H
#define EB_BACKEND_MOCK_H

#include <stddef.h>

#include "../backend.h"

extern const eb_backend_i eb_backend_mock;

/* The class the mock predicts for one sample of n floats: FNV-1a (32-bit) of the sample's
 * bytes, modulo `classes` (classes >= 1). */
int eb_mock_expected_class(const float *x, size_t n, int classes);

/* The latency, in ms, that the last run() of this session aimed for (latency_ms plus the seeded
 * jitter, clamped at 0); NaN before the first run.  The sequence depends only on latency_ms,
 * jitter_ms and seed, so tests can check reproducibility without timing anything. */
double eb_mock_last_latency_ms(const void *session);

#endif
