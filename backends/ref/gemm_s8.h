/* Integer GEMM for ref's int8 path (issue 4): C[M, N] (int32) = A[M, K] (int8) x B[K, N]
 * (uint8), exact (every product summed in int32; no intermediate saturation on any path).
 *
 * A is the weight side (packed once at open), B the activation side (packed per run).
 * Packed layouts, shared by every micro-kernel: K is padded to a multiple of 4 (K4 groups of
 * four, zeros beyond K).  Packed A: panels of QMR rows, each K4 groups of QMR x 4 bytes (row
 * r's four k bytes at r * 4, so they load as one int32 to broadcast).  Packed B: panels of
 * QNR columns, each K4 groups of QNR x 4 bytes (column j's four k bytes at j * 4) — the
 * operand order of vpdpbusd (u8 x s8, four products into each int32 lane).
 *
 * Micro-kernels: VNNI (AVX512-VNNI on ymm, one vpdpbusd per 32 products), AVX2 (bytes widened
 * to int16 and vpmaddwd: exact, unlike vpmaddubsw, which saturates at 32767), portable C.
 * eb_ref_qkernel_best picks one at run time like the float GEMM does.
 *
 * Not a public interface: used by backends/ref/ and tests/unit/test_ref_quant.c. */
#ifndef EB_REF_GEMM_S8_H
#define EB_REF_GEMM_S8_H

#include <stddef.h>
#include <stdint.h>

#define EB_REF_QMR 6
#define EB_REF_QNR 16

struct eb_ref_pool;

/* C tile [mr, nr] (row stride ldc) = k4 groups of one packed A panel x one packed B panel. */
typedef void (*eb_ref_qkernel_fn)(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                                  int64_t ldc, int mr, int nr);
void eb_ref_qkernel_c(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c, int64_t ldc,
                      int mr, int nr);
#if defined(__x86_64__)
void eb_ref_qkernel_avx2(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                         int64_t ldc, int mr, int nr);
void eb_ref_qkernel_vnni(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                         int64_t ldc, int mr, int nr);
/* AVX512-VNNI on zmm: one B group (16 columns x 4 bytes) is one register, 6 vpdpbusd per
 * group instead of 12; masked stores at the right edge. */
void eb_ref_qkernel_vnni512(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                            int64_t ldc, int mr, int nr);
#endif
/* The fastest kernel this CPU runs within eb_ref_isa_pick()'s cap (EDGEBENCH_REF_ISA) and its
 * name ("vnni512", "avx2", "c"; the ymm "vnni" kernel is kept for CPUs' tests); name may be
 * NULL. */
eb_ref_qkernel_fn eb_ref_qkernel_best(const char **name);

size_t eb_ref_qpack_a_bytes(int64_t M, int64_t K);
size_t eb_ref_qpack_b_bytes(int64_t K, int64_t N);
/* A[i][k] = A[i * lda + k]. */
void eb_ref_qpack_a(int64_t M, int64_t K, const int8_t *A, int64_t lda, int8_t *pa);
/* B[k][j] = B[k * rs + j * cs] (cs = 1: row-major; rs = 1: B stored transposed). */
void eb_ref_qpack_b(int64_t K, int64_t N, const uint8_t *B, int64_t rs, int64_t cs,
                    uint8_t *pb);

/* B[k][j] = base[koff[k] + j]: rows found at offsets (a convolution's shifted input rows,
 * so no im2col buffer).  Reads base[koff[k] .. koff[k] + N rounded up to 16): the caller
 * keeps those bytes readable (their columns come out in C and are ignored). */
void eb_ref_qpack_b_off(int64_t K, int64_t N, const uint8_t *base, const int64_t *koff,
                        uint8_t *pb);

/* C = packed A x packed B, split over the pool's threads by column panels (NULL pool: the
 * caller alone); kernel NULL picks eb_ref_qkernel_best().  Allocates nothing. */
void eb_ref_qgemm(int64_t M, int64_t N, int64_t K, const int8_t *pa, const uint8_t *pb,
                  int32_t *C, int64_t ldc, eb_ref_qkernel_fn kernel, struct eb_ref_pool *pool);

/* Matrix-vector product for one activation row (batch 1): y[M] (int32) = A[M, K] (int8) x
 * x[K] (uint8), exact.  A packed in blocks of QVB panels of QVR rows (64 rows; the last block
 * has as many panels as rows remain): per block, K4 groups, each the block's panels' QVR x 4
 * bytes in turn (row r's four k bytes at r * 4 of its panel), so one broadcast of four x
 * bytes feeds QVB vpdpbusd from one 256-byte stretch (one panel per zmm, the s8 operand).
 * Rows from a multiple of 64 on are a packed matrix of their own at pv + m0 * K4 * 4 (how
 * callers split the rows over threads).  Kernels: VNNI on zmm (AVX512-VNNI), AVX2 (vpmaddwd
 * on widened bytes, exact), portable C; eb_ref_qgemv_best picks one at run time (capped by
 * EDGEBENCH_REF_ISA like the float kernels). */
#define EB_REF_QVR 16
#define EB_REF_QVB 4
typedef void (*eb_ref_qgemv_fn)(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4,
                                int32_t *y);
size_t eb_ref_qpack_v_bytes(int64_t M, int64_t K);
void eb_ref_qpack_v(int64_t M, int64_t K, const int8_t *A, int64_t lda, int8_t *pv);
/* x4 holds k4 * 4 bytes (zeros or anything past K: the packed weights are zero there). */
void eb_ref_qgemv_c(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y);
#if defined(__x86_64__)
void eb_ref_qgemv_avx2(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y);
void eb_ref_qgemv_vnni(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y);
#endif
eb_ref_qgemv_fn eb_ref_qgemv_best(const char **name);

#endif
