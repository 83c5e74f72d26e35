/* Direct int8 convolution for ref's fused QDQ Conv (qdq_fuse.c, issue 4), pixel-major: each
 * output pixel's channels in zmm lanes, so there is no packed B operand at all.
 *
 * The K of a stride-1 Conv with kw <= 4 is taken in groups g = (ci, ky) of four k: the four
 * input bytes x[ci][oy + ky][ox .. ox + 3] of the padded input (one unaligned 4-byte load,
 * broadcast) against weights [g][m][kx] (kx = kw .. 3 zero), so the same exact int32 sums as
 * the GEMM path: the products of the padding bytes and of the zero weights included. 
 *
 * Not a public interface: used by qdq_fuse.c and tests/unit/test_ref_quant.c. */
#ifndef EB_REF_CONV_S8_H
#define EB_REF_CONV_S8_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the packed weights: cin * kh groups of M x 4. */
size_t eb_ref_cs8_pack_bytes(int64_t M, int64_t cin, int64_t kh);
/* w[m][k], k = (ci * kh + ky) * kw + kx (ONNX's OIHW order, int8) -> wd. */
void eb_ref_cs8_pack(int64_t M, int64_t cin, int64_t kh, int64_t kw, const int8_t *w,
                     int8_t *wd);

/* One output row: out[ox * M + m] (int32) for ox in [0, ow), the padded input xp (cin planes
 * of hp x wp bytes, wp >= ow + kw - 1) read from row oy.  Writes ow rounded up to 8 pixels
 * (out has room for them) and reads up to 11 bytes past xp[(ci * hp + oy + ky) * wp + ow - 1]
 * (pixels past ow: junk, never used): the caller keeps them readable.  M is 16 or 32
 * (eb_ref_cs8_ok). */
typedef void (*eb_ref_cs8_row_fn)(const uint8_t *xp, int64_t hp, int64_t wp, int64_t cin,
                                  int64_t kh, int64_t oy, int64_t ow, const int8_t *wd,
                                  int64_t M, int32_t *out);
void eb_ref_cs8_row_c(const uint8_t *xp, int64_t hp, int64_t wp, int64_t cin, int64_t kh,
                      int64_t oy, int64_t ow, const int8_t *wd, int64_t M, int32_t *out);
#if defined(__x86_64__)
void eb_ref_cs8_row_vnni(const uint8_t *xp, int64_t hp, int64_t wp, int64_t cin, int64_t kh,
                         int64_t oy, int64_t ow, const int8_t *wd, int64_t M, int32_t *out);
#endif
/* The VNNI row kernel when this CPU has AVX512-VNNI within eb_ref_isa_pick()'s cap, else
 * NULL (the GEMM path is faster than eb_ref_cs8_row_c, which is the tests' reference). */
eb_ref_cs8_row_fn eb_ref_cs8_best(void);
/* Shapes the row kernels take: M 16 or 32, kw 1..4. */
int eb_ref_cs8_ok(int64_t M, int64_t kw);

#endif
