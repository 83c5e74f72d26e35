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

/* Direct int8 convolution on int16 pairs for AVX2 (conv_s8_avx2.c): AVX2 has no exact 4-way
 * u8 x s8 dot product (vpmaddubsw saturates at 32767), so activations are widened once per run
 * to int16 and weights once at open, and vpmaddwd takes 16 exact products per instruction,
 * with no packed B operand and no widening inside the loop.
 *
 * Channel-major and "wide", like qdq_fuse.c's stride-1 GEMM path: the padded input (hp x wp
 * per channel, wp = ow + kw - 1, hp = oh + kh - 1, stride 1, dilation 1) gives output column
 * n = oy * wp + ox of C[m][n] (wp - ow junk columns per row), so the accumulators come out
 * as that path's C, bit for bit (u8 x s8 products summed in int32, the padding's included).
 *
 * K is taken in pairs (one int32 = two int16, low half first), one of two ways chosen at open:
 *   mode 0, channel pairs: xw[cp][i] = (xp[2cp][i], xp[2cp + 1][i]), groups (cp, ky, kx);
 *   mode 1, kx pairs:      xw[ci][i] = (xp[ci][i], xp[ci][i + 1]),   groups (ci, ky, kx even)
 * (a missing channel or kx has zero weights), whichever has fewer groups (mode 1 for cin 1).
 * Group g reads xw[koff[g] + n]. */
typedef struct eb_ref_cw {
    int mode;
    int64_t cin, kh, kw, hp, wp;
    int64_t planes;   /* pair planes in xw: ceil(cin / 2) or cin */
    int64_t G;        /* pair groups */
    int avx2;         /* eb_ref_cw_widen uses AVX2 (set by eb_ref_cw_init from the ISA cap) */
} eb_ref_cw;
/* Fills the geometry; 0, or -1 for a shape the kernel does not take (M not a multiple of 4). */
int eb_ref_cw_init(eb_ref_cw *cw, int64_t M, int64_t cin, int64_t kh, int64_t kw, int64_t hp,
                   int64_t wp);
/* Columns a run computes: N = oh * wp rounded up to 16 (C's row stride, its room). */
int64_t eb_ref_cw_cols(const eb_ref_cw *cw, int64_t oh);
/* int32 elements of xw: the pair planes plus slack the last column block reads (zeroed). */
size_t eb_ref_cw_x_elems(const eb_ref_cw *cw, int64_t oh);
/* Weights w[m][(ci * kh + ky) * kw + kx] (int8) -> wd: blocks of 4 channels, each G groups of
 * 4 int32 pairs (the order the kernel broadcasts them); 4 * M * G int16 pairs. */
size_t eb_ref_cw_w_elems(const eb_ref_cw *cw, int64_t M);
void eb_ref_cw_pack(const eb_ref_cw *cw, int64_t M, const int8_t *w, int32_t *wd);
/* koff[G] (int32 elements into xw). */
void eb_ref_cw_offsets(const eb_ref_cw *cw, int32_t *koff);
/* xp (cin planes of hp x wp bytes, readable one byte past) -> xw, slack zeroed. */
void eb_ref_cw_widen(const eb_ref_cw *cw, int64_t oh, const uint8_t *xp, int32_t *xw);
/* C[m * ldc + n] for m in [0, M), n in [n0, n1) (multiples of 16, n1 <= ldc). */
typedef void (*eb_ref_cw_fn)(const eb_ref_cw *cw, const int32_t *xw, const int32_t *koff,
                             const int32_t *wd, int64_t M, int64_t n0, int64_t n1, int32_t *C,
                             int64_t ldc);
void eb_ref_cw_run_c(const eb_ref_cw *cw, const int32_t *xw, const int32_t *koff,
                     const int32_t *wd, int64_t M, int64_t n0, int64_t n1, int32_t *C,
                     int64_t ldc);
#if defined(__x86_64__)
void eb_ref_cw_run_avx2(const eb_ref_cw *cw, const int32_t *xw, const int32_t *koff,
                        const int32_t *wd, int64_t M, int64_t n0, int64_t n1, int32_t *C,
                        int64_t ldc);
#endif
/* The AVX2 kernel when this CPU has AVX2 within eb_ref_isa_pick()'s cap, else NULL (the
 * portable path keeps the GEMM; with AVX512-VNNI qdq_fuse.c prefers eb_ref_cs8_best). */
eb_ref_cw_fn eb_ref_cw_best(void);

#endif
