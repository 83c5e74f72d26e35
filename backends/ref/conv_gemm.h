/* Declarations shared by the GEMM convolution and fully connected paths beyond
 * ref_internal.h's interface: the AVX-512 im2col (conv_im2col_avx512.c), the implicit-GEMM
 * convolution tile (gemm_kernel_avx512.c) and the batch-1 GEMV over packed weights
 * (gemm_gemv.c). */
#ifndef EB_REF_CONV_GEMM_H
#define EB_REF_CONV_GEMM_H

#include "ref_internal.h"

/* Implicit-GEMM tile of a stride-1 convolution (gemm_kernel_avx512.c; gemm_kernel_avx2.c
 * the same on AVX2): for rows r < mr and lanes j < nr (nr <= 64) of vectors q = j / 16, S[r, j] = sum over tap < ntaps, ci < cin of
 * a[(tap*cin + ci)*6 + r] * b[taps[tap] + ci*cstride + j]; then v = act(S + brow[r]) (t->load
 * 0, t->last 1, alpha 1) and vector q of row r is stored as c[r*ldc + off + lane] for every
 * segment of segs[seg_q[q] .. seg_q[q+1]) and lane set in its mask. */
typedef struct eb_ref_conv_seg {
    int64_t off;
    unsigned mask;
} eb_ref_conv_seg;

#if defined(__x86_64__)
void eb_ref_conv_tile_avx512(const float *a, const float *b, const int64_t *taps, int ntaps,
                             int64_t cin, int64_t cstride, float *c, int64_t ldc, int mr, int nr,
                             const eb_ref_conv_seg *segs, const int *seg_q, const eb_ref_tile *t);
/* The same tile on AVX2+FMA (gemm_kernel_avx2.c): four 6 x 16 passes. */
void eb_ref_conv_tile_avx2(const float *a, const float *b, const int64_t *taps, int ntaps,
                           int64_t cin, int64_t cstride, float *c, int64_t ldc, int mr, int nr,
                           const eb_ref_conv_seg *segs, const int *seg_q, const eb_ref_tile *t);
/* eb_ref_im2col_packed with the panel row built in a zmm register: each run of a panel is
 * one load (stride 1), two loads and a permute (stride 2) or a gather, the padding left out
 * by a mask, and one 64-byte store per k row.  Same output bytes. */
void eb_ref_im2col_packed_avx512(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                                 int64_t p0, int64_t p1);
#endif
#if defined(__x86_64__)
/* Direct convolution for a handful of input channels (conv_direct_avx512.c), group 1, any
 * stride, dilation and pads: output rows [r0, r1) of one image, all channels; wt holds the
 * weights as [c][kh][kw][mp] (mp = m rounded up to 16, zeros beyond m); y = act(conv + bias). */
void eb_ref_conv_direct_avx512(const eb_ref_conv2d *p, const float *x, const float *wt,
                               int64_t mp, const float *bias, eb_ref_act act, float lo, float hi,
                               float *y, int64_t r0, int64_t r1);
#endif
/* The im2col of isa (the AVX-512 one when isa says so). */
void eb_ref_im2col_packed_isa(const eb_ref_conv2d *p, int64_t cg, const float *x, float *pb,
                              int64_t p0, int64_t p1, eb_ref_isa isa);

/* y[1, N] = epilogue(a[1, K] * B) with B packed (eb_ref_pack_b layout) and a read in place:
 * the batch-1 Gemm / MatMul (gemm_gemv.c).  Kernels of isa; products of at least
 * EB_REF_GEMV_SERIAL_MACS are split by columns over the pool. */
#define EB_REF_GEMV_SERIAL_MACS (512.0 * 1024)
struct eb_ref_pool;
void eb_ref_gemv_packed(int64_t N, int64_t K, const float *a, const float *pb, float *y,
                        const eb_ref_epilogue *ep, eb_ref_isa isa, struct eb_ref_pool *pool);

#endif
