/* Depthwise convolution (group == Cin == Cout, kh x kw up to 7x7, stride 1 or 2, dilation 1),
 * the bulk of MobileNet-style networks.  im2col + GEMM is a poor fit there (a 1 x k*k by
 * k*k x OHW product per channel), so the outputs are computed directly.
 *
 * Portable and AVX2 kernel: every input row a channel needs is first copied once into a
 * zero-padded segment (a ring of sixteen, indexed by input row; rows in the padding share one
 * zero segment), so the loops that follow have no edges at all: eight outputs per vector,
 * every tap an unconditional load from a segment, two output rows per pass sharing the loads
 * of their common input rows, bias and activation applied before the store.  Only the last
 * vector of a row is stored partially.  A row wider than DW_CHUNK outputs is done in chunks.
 * kh, kw and the stride are constants in the instantiations MobileNet and MnasNet need
 * (3x3 and 5x5, stride 1 and 2), so the taps unroll and the weights stay in registers.
 *
 * The vectors are GCC's generic vector extension, one source (conv_depthwise_body.h) in two
 * widths: 4 floats for the portable build (one SSE2 xmm or NEON q register: eight
 * accumulators and the taps fit 16 registers) and, on x86-64, 8 floats compiled for AVX2+FMA
 * (a target attribute on one wrapper), which runs when the session's ISA is AVX2, so the
 * default build stays baseline x86-64 and EDGEBENCH_REF_ISA=portable runs the baseline
 * depthwise code (a few other kernels use target_clones, which the loader picks by CPU; their
 * results are the same either way).  AVX-512 has its own kernel (conv_depthwise_avx512.c). */
#include <string.h>

#include "ref_internal.h"

typedef float dw_v4 __attribute__((vector_size(16)));
typedef float dw_v4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef float dw_v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef int dw_i4 __attribute__((vector_size(16)));
typedef float dw_v8 __attribute__((vector_size(32)));
typedef int dw_i8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__)
#define DW_X86 1
#else
#define DW_X86 0
#endif

#define DW_MAXK 7
#define DW_CHUNK 128 /* output columns per pass (bounds the segments, kept on the stack) */
/* a segment: the chunk's input columns for stride 2, the taps' overhang, and the 16 floats
 * a stride-2 vector reads past its first tap */
#define DW_SEG (DW_CHUNK * 2 + DW_MAXK + 16)
#define DW_RING 16 /* a power of two > DW_MAXK + 2: a pass's rows (kh + stride) never collide */
/* the stack buffer (64 KiB) for a padded plane, or the ring and a zero segment */
#define DW_BUF 16384

int eb_ref_dw3x3_fits(const eb_ref_conv2d *p)
{
    return p->group == p->c && p->m == p->c && p->kh == 3 && p->kw == 3 && p->dh == 1 &&
           p->dw == 1 && (p->sh == 1 || p->sh == 2) && p->sw == p->sh;
}

int eb_ref_dw_fits(const eb_ref_conv2d *p, eb_ref_isa isa)
{
    (void)isa; /* every ISA has a kernel for every such shape */
    return p->group == p->c && p->m == p->c && p->kh >= 1 && p->kh <= DW_MAXK && p->kw >= 1 &&
           p->kw <= DW_MAXK && p->dh == 1 && p->dw == 1 && (p->sh == 1 || p->sh == 2) &&
           p->sw == p->sh;
}

typedef struct dw_ctx {
    const eb_ref_conv2d *p;
    const float *w; /* this channel's kh*kw weights */
    float b, lo, hi;
    eb_ref_act act;
} dw_ctx;


void eb_ref_dw_zero_borders(float *buf, int64_t size, int64_t pt, int64_t pl, int64_t h,
                            int64_t w, int64_t pitch)
{
    /* rows above and the first row's left margin; then each row's right margin with the next
     * row's left one; then everything after the last row's data */
    int64_t end = pt * pitch + pl;
    memset(buf, 0, (size_t)end * sizeof *buf);
    for (int64_t i = 0; i + 1 < h; i++) {
        int64_t from = (pt + i) * pitch + pl + w;
        memset(buf + from, 0, (size_t)(pitch - w) * sizeof *buf);
    }
    int64_t from = (pt + h - 1) * pitch + pl + w;
    if (h > 0 && from < size)
        memset(buf + from, 0, (size_t)(size - from) * sizeof *buf);
}

/* Plane mode: the whole padded plane in one buffer, rows at `pitch`, row 0 = input row -pt,
 * element 0 of a row = input column -pl; `size` covers the rows a pass reads and the last
 * vectors' overhang (elements past a row's end are the next row's: only outputs past the
 * row's end, never stored, read them).  0 when it does not fit DW_BUF. */
static int64_t dw_plane_geometry(const eb_ref_conv2d *p, int64_t *pitch)
{
    const int64_t S = p->sw;
    int64_t need = S * (p->ow - 1) + p->kw; /* elements a valid output reads */
    *pitch = p->pl + p->w > need ? p->pl + p->w : need;
    int64_t rows = S * (p->oh - 1) + p->kh + S;
    if (rows < p->pt + p->h)
        rows = p->pt + p->h;
    int64_t size = rows * *pitch + S * ((p->ow + 7) / 8 * 8 + 8) + p->kw + 16;
    return size <= DW_BUF ? size : 0;
}

#define DW_L 4
#define DW_V dw_v4
#define DW_VU dw_v4u
#define DW_VI dw_i4
#define DW_EVEN ((dw_i4){0, 2, 4, 6})
#define DW_FN(name) name##_4
#include "conv_depthwise_body.h"
#undef DW_L
#undef DW_V
#undef DW_VU
#undef DW_VI
#undef DW_EVEN
#undef DW_FN

/* contraction back on (ISO C mode turns it off): NEON gets fmla; SSE2 has no FMA */
__attribute__((optimize("fp-contract=fast"))) static void
dw_portable(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
            eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1)
{
    dw_channels_4(p, x, w, b, act, lo, hi, y, c0, c1);
}

#if DW_X86
#define DW_L 8
#define DW_V dw_v8
#define DW_VU dw_v8u
#define DW_VI dw_i8
#define DW_EVEN ((dw_i8){0, 2, 4, 6, 8, 10, 12, 14})
#define DW_FN(name) name##_8
#include "conv_depthwise_body.h"
#undef DW_L
#undef DW_V
#undef DW_VU
#undef DW_VI
#undef DW_EVEN
#undef DW_FN

/* The same source compiled for AVX2 with FMA (the caller checked the CPU); ISO C mode turns
 * contraction off, this function turns it back on so acc += w * x becomes one FMA. */
__attribute__((target("avx2,fma"), optimize("fp-contract=fast"))) static void
dw_avx2(const eb_ref_conv2d *p, const float *x, const float *w, const float *b, eb_ref_act act,
        float lo, float hi, float *y, int64_t c0, int64_t c1)
{
    dw_channels_8(p, x, w, b, act, lo, hi, y, c0, c1);
}
#endif

void eb_ref_dw3x3(const eb_ref_conv2d *p, const float *x, const float *w, const float *b,
                  eb_ref_act act, float lo, float hi, float *y, int64_t c0, int64_t c1,
                  eb_ref_isa isa)
{
#if DW_X86
    if (isa == EB_REF_ISA_AVX512 && eb_ref_dw3x3_avx512(p, x, w, b, act, lo, hi, y, c0, c1) == 0)
        return;
    if (isa == EB_REF_ISA_AVX2 || isa == EB_REF_ISA_AVX512) {
        dw_avx2(p, x, w, b, act, lo, hi, y, c0, c1);
        return;
    }
#else
    (void)isa;
#endif
    dw_portable(p, x, w, b, act, lo, hi, y, c0, c1);
}
