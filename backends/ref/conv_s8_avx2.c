/* Direct int8 convolution on int16 pairs (conv_s8.h, eb_ref_cw_*): geometry, packing, a
 * portable reference and the AVX2 kernel (target-attributed, chosen at run time). */
#include <string.h>

#include "conv_s8.h"
#include "ref_internal.h" /* eb_ref_isa_pick: EDGEBENCH_REF_ISA caps this kernel too */

#define CW_SLACK 64 /* int32 elements past the planes: column blocks read up to kw + 30 */

int eb_ref_cw_init(eb_ref_cw *cw, int64_t M, int64_t cin, int64_t kh, int64_t kw, int64_t hp,
                   int64_t wp)
{
    memset(cw, 0, sizeof *cw);
    if (M <= 0 || M % 4 || cin <= 0 || kh <= 0 || kw <= 0 || kw > CW_SLACK - 32 || hp < kh ||
        wp < kw)
        return -1;
    int64_t g0 = (cin + 1) / 2 * kh * kw, g1 = cin * kh * ((kw + 1) / 2);
    cw->mode = g1 < g0;
    cw->cin = cin, cw->kh = kh, cw->kw = kw, cw->hp = hp, cw->wp = wp;
    cw->planes = cw->mode ? cin : (cin + 1) / 2;
    cw->G = cw->mode ? g1 : g0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    cw->avx2 = eb_ref_isa_pick() != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2");
#endif
    return 0;
}

int64_t eb_ref_cw_cols(const eb_ref_cw *cw, int64_t oh)
{
    return (oh * cw->wp + 15) / 16 * 16;
}

size_t eb_ref_cw_x_elems(const eb_ref_cw *cw, int64_t oh)
{
    (void)oh; /* oh <= hp - kh + 1: the last block's reads stay within the slack */
    return (size_t)(cw->planes * cw->hp * cw->wp + CW_SLACK);
}

size_t eb_ref_cw_w_elems(const eb_ref_cw *cw, int64_t M)
{
    return (size_t)(M * cw->G);
}

/* The two k of group g's pair as (ci, ky, kx) triples (ci -1: a zero weight). */
static void cw_pair(const eb_ref_cw *cw, int64_t g, int64_t *k0, int64_t *k1)
{
    int64_t kwp = cw->mode ? (cw->kw + 1) / 2 : cw->kw;
    int64_t c = g / (cw->kh * kwp), ky = g / kwp % cw->kh, kx = g % kwp;
    if (cw->mode) {
        k0[0] = c, k0[1] = ky, k0[2] = 2 * kx;
        k1[0] = 2 * kx + 1 < cw->kw ? c : -1, k1[1] = ky, k1[2] = 2 * kx + 1;
    } else {
        k0[0] = 2 * c, k0[1] = ky, k0[2] = kx;
        k1[0] = 2 * c + 1 < cw->cin ? 2 * c + 1 : -1, k1[1] = ky, k1[2] = kx;
    }
}

void eb_ref_cw_pack(const eb_ref_cw *cw, int64_t M, const int8_t *w, int32_t *wd)
{
    int64_t K = cw->cin * cw->kh * cw->kw;
    for (int64_t m = 0; m < M; m++)
        for (int64_t g = 0; g < cw->G; g++) {
            int64_t k0[3], k1[3];
            cw_pair(cw, g, k0, k1);
            int16_t lo = w[m * K + (k0[0] * cw->kh + k0[1]) * cw->kw + k0[2]];
            int16_t hi = k1[0] < 0 ? 0 : w[m * K + (k1[0] * cw->kh + k1[1]) * cw->kw + k1[2]];
            wd[(m / 4 * cw->G + g) * 4 + m % 4] =
                (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
        }
}

void eb_ref_cw_offsets(const eb_ref_cw *cw, int32_t *koff)
{
    for (int64_t g = 0; g < cw->G; g++) {
        int64_t k0[3], k1[3];
        cw_pair(cw, g, k0, k1);
        int64_t plane = cw->mode ? k0[0] : k0[0] / 2;
        koff[g] = (int32_t)((plane * cw->hp + k0[1]) * cw->wp + k0[2]);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

/* 16 pixels at a time: the two byte rows interleaved (a0 b0 a1 b1 ...) and zero-extended to
 * int16, so each int32 is one pair, low half first.  Reads and writes up to 15 past the
 * plane (the next plane, written after, or the slack). */
__attribute__((target("avx2"))) static void cw_widen_avx2(const uint8_t *a, const uint8_t *b,
                                                           int64_t n, int32_t *o)
{
    for (int64_t i = 0; i < n; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i vb = b ? _mm_loadu_si128((const __m128i *)(b + i)) : _mm_setzero_si128();
        _mm256_storeu_si256((__m256i *)(o + i), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(va, vb)));
        _mm256_storeu_si256((__m256i *)(o + i + 8),
                            _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(va, vb)));
    }
}
#endif

void eb_ref_cw_widen(const eb_ref_cw *cw, int64_t oh, const uint8_t *xp, int32_t *xw)
{
    (void)oh;
    int64_t plane = cw->hp * cw->wp;
    for (int64_t p = 0; p < cw->planes; p++) {
        const uint8_t *a = xp + (cw->mode ? p : 2 * p) * plane;
        const uint8_t *b = cw->mode ? a + 1 : 2 * p + 1 < cw->cin ? a + plane : NULL;
        int32_t *o = xw + p * plane;
#if defined(__x86_64__)
        if (cw->avx2) {
            cw_widen_avx2(a, b, plane, o);
            continue;
        }
#endif
        for (int64_t i = 0; i < plane; i++)
            o[i] = (int32_t)((uint32_t)a[i] | (uint32_t)(b ? b[i] : 0) << 16);
    }
    memset(xw + cw->planes * plane, 0, CW_SLACK * sizeof *xw);
}

void eb_ref_cw_run_c(const eb_ref_cw *cw, const int32_t *xw, const int32_t *koff,
                     const int32_t *wd, int64_t M, int64_t n0, int64_t n1, int32_t *C,
                     int64_t ldc)
{
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = n0; n < n1; n++) {
            int32_t s = 0;
            for (int64_t g = 0; g < cw->G; g++) {
                uint32_t x = (uint32_t)xw[koff[g] + n];
                uint32_t w = (uint32_t)wd[(m / 4 * cw->G + g) * 4 + m % 4];
                s += (int32_t)(int16_t)(x & 0xffff) * (int16_t)(w & 0xffff) +
                     (int32_t)(int16_t)(x >> 16) * (int16_t)(w >> 16);
            }
            C[m * ldc + n] = s;
        }
}

#if defined(__x86_64__)
/* Four channels x 8 * NV columns per block: 4 * NV accumulators; per group NV column loads
 * and four weight-pair broadcasts feed 4 * NV vpmaddwd (each 16 exact products into 8 int32
 * lanes).  NV 2 keeps the accumulators, the loaded columns, a weight and a product in the 16
 * ymm registers (NV 3 spills and ran 35% slower); groups unrolled by two. */
#define CW_MADD(a, x, w) a = _mm256_add_epi32(a, _mm256_madd_epi16(x, w))
#define CW_BLOCK(NV)                                                                          \
    do {                                                                                      \
        __m256i acc[4][NV];                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                  \
            acc[i][v] = _mm256_setzero_si256();                                               \
        const int32_t *xb = xw + n;                                                           \
        _Pragma("GCC unroll 2") for (int64_t g = 0; g < G; g++)                               \
        {                                                                                     \
            const int32_t *xg = xb + koff[g];                                                 \
            __m256i x[NV];                                                                    \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                              \
                x[v] = _mm256_loadu_si256((const __m256i *)(xg + 8 * v));                     \
            const int32_t *wg = wb + g * 4;                                                   \
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)                               \
            {                                                                                 \
                __m256i w = _mm256_set1_epi32(wg[i]);                                         \
                _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                          \
                    CW_MADD(acc[i][v], x[v], w);                                              \
            }                                                                                 \
        }                                                                                     \
        int32_t *c = C + m0 * ldc + n;                                                        \
        _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                  \
            _mm256_storeu_si256((__m256i *)(c + i * ldc + 8 * v), acc[i][v]);                 \
    } while (0)

__attribute__((target("avx2"))) void
eb_ref_cw_run_avx2(const eb_ref_cw *cw, const int32_t *xw, const int32_t *koff,
                   const int32_t *wd, int64_t M, int64_t n0, int64_t n1, int32_t *C,
                   int64_t ldc)
{
    int64_t G = cw->G;
    for (int64_t m0 = 0; m0 < M; m0 += 4) {
        const int32_t *wb = wd + m0 * G;
        for (int64_t n = n0; n < n1; n += 16)
            CW_BLOCK(2);
    }
}
#endif

eb_ref_cw_fn eb_ref_cw_best(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (eb_ref_isa_pick() != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2"))
        return eb_ref_cw_run_avx2;
#endif
    return NULL;
}
