/* Integer GEMM (see gemm_s8.h): packing, the portable C, AVX2 and VNNI micro-kernels, and the
 * driver.  Like the float kernels, the SIMD functions carry target attributes and are called
 * only after __builtin_cpu_supports says the CPU has the instructions, so the binary stays
 * portable. */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* baseline on x86-64 */
#endif

#include "gemm_s8.h"
#include "ref_internal.h" /* eb_ref_isa_pick: EDGEBENCH_REF_ISA caps these kernels too */
#include "threadpool.h"

static int64_t qg_k4(int64_t K)
{
    return (K + 3) / 4;
}

size_t eb_ref_qpack_a_bytes(int64_t M, int64_t K)
{
    return (size_t)((M + EB_REF_QMR - 1) / EB_REF_QMR * EB_REF_QMR * qg_k4(K) * 4);
}

size_t eb_ref_qpack_b_bytes(int64_t K, int64_t N)
{
    return (size_t)((N + EB_REF_QNR - 1) / EB_REF_QNR * EB_REF_QNR * qg_k4(K) * 4);
}

void eb_ref_qpack_a(int64_t M, int64_t K, const int8_t *A, int64_t lda, int8_t *pa)
{
    int64_t k4 = qg_k4(K);
    for (int64_t i0 = 0; i0 < M; i0 += EB_REF_QMR)
        for (int64_t g = 0; g < k4; g++)
            for (int r = 0; r < EB_REF_QMR; r++)
                for (int q = 0; q < 4; q++) {
                    int64_t i = i0 + r, k = g * 4 + q;
                    *pa++ = i < M && k < K ? A[i * lda + k] : 0;
                }
}

void eb_ref_qpack_b(int64_t K, int64_t N, const uint8_t *B, int64_t rs, int64_t cs,
                    uint8_t *pb)
{
    int64_t k4 = qg_k4(K);
    for (int64_t j0 = 0; j0 < N; j0 += EB_REF_QNR) {
        int64_t nr = N - j0 < EB_REF_QNR ? N - j0 : EB_REF_QNR;
        for (int64_t g = 0; g < k4; g++) {
            uint8_t *d = pb + ((j0 / EB_REF_QNR) * k4 + g) * EB_REF_QNR * 4;
            if (nr < EB_REF_QNR || g * 4 + 4 > K)
                memset(d, 0, EB_REF_QNR * 4);
            if (g * 4 + 4 <= K && cs == 1) { /* four whole rows: sequential writes */
                const uint8_t *s0 = B + g * 4 * rs + j0, *s1 = s0 + rs, *s2 = s1 + rs,
                              *s3 = s2 + rs;
#if defined(__SSE2__)
                if (nr == EB_REF_QNR) { /* a 4 x 16 byte transpose in registers */
                    __m128i r0 = _mm_loadu_si128((const __m128i *)s0);
                    __m128i r1 = _mm_loadu_si128((const __m128i *)s1);
                    __m128i r2 = _mm_loadu_si128((const __m128i *)s2);
                    __m128i r3 = _mm_loadu_si128((const __m128i *)s3);
                    __m128i a01l = _mm_unpacklo_epi8(r0, r1), a01h = _mm_unpackhi_epi8(r0, r1);
                    __m128i a23l = _mm_unpacklo_epi8(r2, r3), a23h = _mm_unpackhi_epi8(r2, r3);
                    _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(a01l, a23l));
                    _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(a01l, a23l));
                    _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(a01h, a23h));
                    _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(a01h, a23h));
                    continue;
                }
#endif
                for (int64_t j = 0; j < nr; j++) {
                    d[j * 4] = s0[j], d[j * 4 + 1] = s1[j];
                    d[j * 4 + 2] = s2[j], d[j * 4 + 3] = s3[j];
                }
                continue;
            }
            for (int q = 0; q < 4 && g * 4 + q < K; q++) {
                const uint8_t *src = B + (g * 4 + q) * rs + j0 * cs;
                for (int64_t j = 0; j < nr; j++)
                    d[j * 4 + q] = src[j * cs];
            }
        }
    }
}

void eb_ref_qpack_b_off(int64_t K, int64_t N, const uint8_t *base, const int64_t *koff,
                        uint8_t *pb)
{
    static const uint8_t zero[EB_REF_QNR] = {0};
    int64_t k4 = qg_k4(K);
    for (int64_t j0 = 0; j0 < N; j0 += EB_REF_QNR)
        for (int64_t g = 0; g < k4; g++, pb += EB_REF_QNR * 4) {
            const uint8_t *s[4];
            for (int q = 0; q < 4; q++)
                s[q] = g * 4 + q < K ? base + koff[g * 4 + q] + j0 : zero;
#if defined(__SSE2__)
            __m128i r0 = _mm_loadu_si128((const __m128i *)s[0]);
            __m128i r1 = _mm_loadu_si128((const __m128i *)s[1]);
            __m128i r2 = _mm_loadu_si128((const __m128i *)s[2]);
            __m128i r3 = _mm_loadu_si128((const __m128i *)s[3]);
            __m128i a01l = _mm_unpacklo_epi8(r0, r1), a01h = _mm_unpackhi_epi8(r0, r1);
            __m128i a23l = _mm_unpacklo_epi8(r2, r3), a23h = _mm_unpackhi_epi8(r2, r3);
            _mm_storeu_si128((__m128i *)pb, _mm_unpacklo_epi16(a01l, a23l));
            _mm_storeu_si128((__m128i *)(pb + 16), _mm_unpackhi_epi16(a01l, a23l));
            _mm_storeu_si128((__m128i *)(pb + 32), _mm_unpacklo_epi16(a01h, a23h));
            _mm_storeu_si128((__m128i *)(pb + 48), _mm_unpackhi_epi16(a01h, a23h));
#else
            for (int j = 0; j < EB_REF_QNR; j++)
                for (int q = 0; q < 4; q++)
                    pb[j * 4 + q] = s[q][j];
#endif
        }
}

void eb_ref_qkernel_c(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c, int64_t ldc,
                      int mr, int nr)
{
    int32_t acc[EB_REF_QMR][EB_REF_QNR] = {{0}};
    for (int64_t g = 0; g < k4; g++, a += EB_REF_QMR * 4, b += EB_REF_QNR * 4)
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < EB_REF_QNR; j++)
                for (int q = 0; q < 4; q++)
                    acc[r][j] += (int32_t)a[r * 4 + q] * (int32_t)b[j * 4 + q];
    for (int r = 0; r < mr; r++)
        memcpy(c + r * ldc, acc[r], (size_t)nr * sizeof *c);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define QG_AVX2 __attribute__((target("avx2")))
#define QG_VNNI __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512vnni")))

static inline void qg_store(int32_t *c, int64_t ldc, int r, int nr, const int32_t *tile)
{
    memcpy(c + r * ldc, tile, (size_t)nr * sizeof *c);
}

/* Four columns' pair sums (lanes c0 c0 c1 c1 ...) of x (columns 0-3) and y (4-7) into the
 * eight column totals in order. */
static inline QG_AVX2 __attribute__((always_inline)) __m256i qg_fold(__m256i x, __m256i y)
{
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(x, y), 0xd8);
}

void QG_AVX2 eb_ref_qkernel_avx2(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                                 int64_t ldc, int mr, int nr)
{
    /* Two rows at a time: eight pair-sum accumulators (4 column groups x 2 rows), four widened
     * B registers, the broadcast A. */
    for (int r0 = 0; r0 < mr; r0 += 2) {
        __m256i x0 = _mm256_setzero_si256(), x1 = x0, x2 = x0, x3 = x0;
        __m256i y0 = x0, y1 = x0, y2 = x0, y3 = x0;
        const int8_t *ap = a + r0 * 4;
        const uint8_t *bp = b;
        for (int64_t g = 0; g < k4; g++, ap += EB_REF_QMR * 4, bp += EB_REF_QNR * 4) {
            __m256i braw0 = _mm256_loadu_si256((const __m256i *)bp);
            __m256i braw1 = _mm256_loadu_si256((const __m256i *)(bp + 32));
            __m256i b0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(braw0));
            __m256i b1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(braw0, 1));
            __m256i b2 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(braw1));
            __m256i b3 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(braw1, 1));
            int32_t w0, w1;
            memcpy(&w0, ap, 4);
            memcpy(&w1, ap + 4, 4);
            __m256i a0 = _mm256_cvtepi8_epi16(_mm_set1_epi32(w0));
            __m256i a1 = _mm256_cvtepi8_epi16(_mm_set1_epi32(w1));
            x0 = _mm256_add_epi32(x0, _mm256_madd_epi16(b0, a0));
            x1 = _mm256_add_epi32(x1, _mm256_madd_epi16(b1, a0));
            x2 = _mm256_add_epi32(x2, _mm256_madd_epi16(b2, a0));
            x3 = _mm256_add_epi32(x3, _mm256_madd_epi16(b3, a0));
            y0 = _mm256_add_epi32(y0, _mm256_madd_epi16(b0, a1));
            y1 = _mm256_add_epi32(y1, _mm256_madd_epi16(b1, a1));
            y2 = _mm256_add_epi32(y2, _mm256_madd_epi16(b2, a1));
            y3 = _mm256_add_epi32(y3, _mm256_madd_epi16(b3, a1));
        }
        int32_t t[2][EB_REF_QNR];
        _mm256_storeu_si256((__m256i *)t[0], qg_fold(x0, x1));
        _mm256_storeu_si256((__m256i *)(t[0] + 8), qg_fold(x2, x3));
        _mm256_storeu_si256((__m256i *)t[1], qg_fold(y0, y1));
        _mm256_storeu_si256((__m256i *)(t[1] + 8), qg_fold(y2, y3));
        qg_store(c, ldc, r0, nr, t[0]);
        if (r0 + 1 < mr)
            qg_store(c, ldc, r0 + 1, nr, t[1]);
    }
}

void QG_VNNI eb_ref_qkernel_vnni(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
                                 int64_t ldc, int mr, int nr)
{
    __m256i acc0[EB_REF_QMR], acc1[EB_REF_QMR];
    for (int r = 0; r < EB_REF_QMR; r++)
        acc0[r] = acc1[r] = _mm256_setzero_si256();
    for (int64_t g = 0; g < k4; g++, a += EB_REF_QMR * 4, b += EB_REF_QNR * 4) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32));
#pragma GCC unroll 6
        for (int r = 0; r < EB_REF_QMR; r++) {
            int32_t w;
            memcpy(&w, a + r * 4, 4);
            __m256i av = _mm256_set1_epi32(w);
            acc0[r] = _mm256_dpbusd_epi32(acc0[r], b0, av);
            acc1[r] = _mm256_dpbusd_epi32(acc1[r], b1, av);
        }
    }
    for (int r = 0; r < mr; r++) {
        if (nr == EB_REF_QNR) {
            _mm256_storeu_si256((__m256i *)(c + r * ldc), acc0[r]);
            _mm256_storeu_si256((__m256i *)(c + r * ldc + 8), acc1[r]);
        } else {
            int32_t t[EB_REF_QNR];
            _mm256_storeu_si256((__m256i *)t, acc0[r]);
            _mm256_storeu_si256((__m256i *)(t + 8), acc1[r]);
            qg_store(c, ldc, r, nr, t);
        }
    }
}

void __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))
eb_ref_qkernel_vnni512(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c, int64_t ldc,
                       int mr, int nr)
{
    __m512i acc[EB_REF_QMR];
    for (int r = 0; r < EB_REF_QMR; r++)
        acc[r] = _mm512_setzero_si512();
    for (int64_t g = 0; g < k4; g++, a += EB_REF_QMR * 4, b += EB_REF_QNR * 4) {
        __m512i bv = _mm512_loadu_si512(b);
#pragma GCC unroll 6
        for (int r = 0; r < EB_REF_QMR; r++) {
            int32_t w;
            memcpy(&w, a + r * 4, 4);
            acc[r] = _mm512_dpbusd_epi32(acc[r], bv, _mm512_set1_epi32(w));
        }
    }
    __mmask16 m = (__mmask16)((1u << nr) - 1);
    for (int r = 0; r < mr; r++)
        _mm512_mask_storeu_epi32(c + r * ldc, m, acc[r]);
}
#endif

eb_ref_qkernel_fn eb_ref_qkernel_best(const char **name)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    eb_ref_isa isa = eb_ref_isa_pick();
    if (isa == EB_REF_ISA_AVX512 && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        if (name)
            *name = "vnni512";
        return eb_ref_qkernel_vnni512;
    }
    if (isa != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2")) {
        if (name)
            *name = "avx2";
        return eb_ref_qkernel_avx2;
    }
#endif
    if (name)
        *name = "c";
    return eb_ref_qkernel_c;
}

size_t eb_ref_qpack_v_bytes(int64_t M, int64_t K)
{
    return (size_t)((M + EB_REF_QVR - 1) / EB_REF_QVR * EB_REF_QVR * qg_k4(K) * 4);
}

/* Panels in the block of rows starting at b0 (EB_REF_QVB, fewer in the last block). */
static int qg_vpanels(int64_t M, int64_t b0)
{
    int64_t np = (M - b0 + EB_REF_QVR - 1) / EB_REF_QVR;
    return np > EB_REF_QVB ? EB_REF_QVB : (int)np;
}

void eb_ref_qpack_v(int64_t M, int64_t K, const int8_t *A, int64_t lda, int8_t *pv)
{
    int64_t k4 = qg_k4(K);
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        for (int64_t g = 0; g < k4; g++)
            for (int p = 0; p < np; p++)
                for (int r = 0; r < EB_REF_QVR; r++)
                    for (int q = 0; q < 4; q++) {
                        int64_t i = b0 + p * EB_REF_QVR + r, k = g * 4 + q;
                        *pv++ = i < M && k < K ? A[i * lda + k] : 0;
                    }
    }
}

/* Rows of panel p of the block at b0 that exist. */
static int qg_vrows(int64_t M, int64_t b0, int p)
{
    int64_t n = M - b0 - p * EB_REF_QVR;
    return n < EB_REF_QVR ? (int)n : EB_REF_QVR;
}

void eb_ref_qgemv_c(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y)
{
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        int32_t acc[EB_REF_QVB][EB_REF_QVR] = {{0}};
        for (int64_t g = 0; g < k4; g++)
            for (int p = 0; p < np; p++, pv += EB_REF_QVR * 4)
                for (int r = 0; r < EB_REF_QVR; r++)
                    for (int q = 0; q < 4; q++)
                        acc[p][r] += (int32_t)pv[r * 4 + q] * (int32_t)x4[g * 4 + q];
        for (int p = 0; p < np; p++)
            memcpy(y + b0 + p * EB_REF_QVR, acc[p], (size_t)qg_vrows(M, b0, p) * sizeof *y);
    }
}

#if defined(__x86_64__)
/* One panel's 16 rows x 4 k (64 bytes at w) against the widened x pair xb, into a0-a3 (rows
 * 0-3, 4-7, 8-11, 12-15, pair sums k01, k23 per row).  vpmovsxbw reads and widens 16 bytes
 * in one instruction. */
#define QG_V_AVX2_STEP(w, a0, a1, a2, a3)                                                       \
    do {                                                                                        \
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xb, _mm256_cvtepi8_epi16(                  \
                                                            _mm_loadu_si128((const __m128i *)(w)))));      \
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xb, _mm256_cvtepi8_epi16(                  \
                                                            _mm_loadu_si128((const __m128i *)((w) + 16))))); \
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xb, _mm256_cvtepi8_epi16(                  \
                                                            _mm_loadu_si128((const __m128i *)((w) + 32))))); \
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xb, _mm256_cvtepi8_epi16(                  \
                                                            _mm_loadu_si128((const __m128i *)((w) + 48))))); \
    } while (0)

static inline QG_AVX2 __attribute__((always_inline)) void
qg_v_store_avx2(int32_t *y, int n, __m256i a0, __m256i a1, __m256i a2, __m256i a3)
{
    int32_t t[EB_REF_QVR];
    _mm256_storeu_si256((__m256i *)t, qg_fold(a0, a1));
    _mm256_storeu_si256((__m256i *)(t + 8), qg_fold(a2, a3));
    memcpy(y, t, (size_t)n * sizeof *y);
}

void QG_AVX2 eb_ref_qgemv_avx2(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4,
                               int32_t *y)
{
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        int64_t stride = (int64_t)np * EB_REF_QVR * 4; /* one k group of the whole block */
        int p = 0;
        for (; p + 2 <= np; p += 2) { /* two panels share each widened x */
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            __m256i c0 = a0, c1 = a0, c2 = a0, c3 = a0;
            const int8_t *w = pv + p * EB_REF_QVR * 4;
            for (int64_t g = 0; g < k4; g++, w += stride) {
                int32_t xw;
                memcpy(&xw, x4 + g * 4, 4);
                __m256i xb = _mm256_cvtepu8_epi16(_mm_set1_epi32(xw));
                QG_V_AVX2_STEP(w, a0, a1, a2, a3);
                QG_V_AVX2_STEP(w + 64, c0, c1, c2, c3);
            }
            qg_v_store_avx2(y + b0 + p * EB_REF_QVR, qg_vrows(M, b0, p), a0, a1, a2, a3);
            qg_v_store_avx2(y + b0 + (p + 1) * EB_REF_QVR, qg_vrows(M, b0, p + 1), c0, c1, c2,
                            c3);
        }
        if (p < np) {
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            const int8_t *w = pv + p * EB_REF_QVR * 4;
            for (int64_t g = 0; g < k4; g++, w += stride) {
                int32_t xw;
                memcpy(&xw, x4 + g * 4, 4);
                __m256i xb = _mm256_cvtepu8_epi16(_mm_set1_epi32(xw));
                QG_V_AVX2_STEP(w, a0, a1, a2, a3);
            }
            qg_v_store_avx2(y + b0 + p * EB_REF_QVR, qg_vrows(M, b0, p), a0, a1, a2, a3);
        }
        pv += k4 * stride;
    }
}

#define QG_VNNI512 __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))
void QG_VNNI512 eb_ref_qgemv_vnni(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4,
                                  int32_t *y)
{
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        __m512i a[EB_REF_QVB];
        for (int p = 0; p < EB_REF_QVB; p++)
            a[p] = _mm512_setzero_si512();
        const int8_t *w = pv;
        if (np == EB_REF_QVB) { /* one x broadcast feeds four panels: four independent chains */
            for (int64_t g = 0; g < k4; g++, w += EB_REF_QVB * EB_REF_QVR * 4) {
                int32_t xw;
                memcpy(&xw, x4 + g * 4, 4);
                __m512i xb = _mm512_set1_epi32(xw);
#pragma GCC unroll 4
                for (int p = 0; p < EB_REF_QVB; p++)
                    a[p] = _mm512_dpbusd_epi32(a[p], xb, _mm512_loadu_si512(w + p * 64));
            }
        } else { /* the last, partial block: per panel, four chains over the k groups */
            int64_t stride = (int64_t)np * EB_REF_QVR * 4;
            for (int p = 0; p < np; p++) {
                __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
                const int8_t *wp = w + p * EB_REF_QVR * 4;
                int64_t g = 0;
                for (; g + 4 <= k4; g += 4, wp += 4 * stride) {
                    int32_t x[4];
                    memcpy(x, x4 + g * 4, 16);
                    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(x[0]), _mm512_loadu_si512(wp));
                    c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(x[1]),
                                             _mm512_loadu_si512(wp + stride));
                    c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(x[2]),
                                             _mm512_loadu_si512(wp + 2 * stride));
                    c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(x[3]),
                                             _mm512_loadu_si512(wp + 3 * stride));
                }
                for (; g < k4; g++, wp += stride) {
                    int32_t x;
                    memcpy(&x, x4 + g * 4, 4);
                    c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(x), _mm512_loadu_si512(wp));
                }
                a[p] = _mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3));
            }
        }
        for (int p = 0; p < np; p++)
            _mm512_mask_storeu_epi32(y + b0 + p * EB_REF_QVR,
                                     (__mmask16)((1u << qg_vrows(M, b0, p)) - 1), a[p]);
        pv += k4 * (int64_t)np * EB_REF_QVR * 4;
    }
}
#endif

eb_ref_qgemv_fn eb_ref_qgemv_best(const char **name)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    eb_ref_isa isa = eb_ref_isa_pick();
    if (isa == EB_REF_ISA_AVX512 && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512bw")) {
        if (name)
            *name = "vnni";
        return eb_ref_qgemv_vnni;
    }
    if (isa != EB_REF_ISA_PORTABLE && __builtin_cpu_supports("avx2")) {
        if (name)
            *name = "avx2";
        return eb_ref_qgemv_avx2;
    }
#endif
    if (name)
        *name = "c";
    return eb_ref_qgemv_c;
}

typedef struct qg_job {
    int64_t M, N, k4;
    const int8_t *pa;
    const uint8_t *pb;
    int32_t *C;
    int64_t ldc;
    eb_ref_qkernel_fn kernel;
} qg_job;

/* One column panel of C, every row panel. */
static void qg_task(void *ctx, int64_t jp, int thread)
{
    (void)thread;
    const qg_job *j = ctx;
    int64_t j0 = jp * EB_REF_QNR;
    int nr = (int)(j->N - j0 < EB_REF_QNR ? j->N - j0 : EB_REF_QNR);
    const uint8_t *pb = j->pb + jp * j->k4 * EB_REF_QNR * 4;
    for (int64_t i0 = 0; i0 < j->M; i0 += EB_REF_QMR) {
        int mr = (int)(j->M - i0 < EB_REF_QMR ? j->M - i0 : EB_REF_QMR);
        j->kernel(j->k4, j->pa + (i0 / EB_REF_QMR) * j->k4 * EB_REF_QMR * 4, pb,
                  j->C + i0 * j->ldc + j0, j->ldc, mr, nr);
    }
}

void eb_ref_qgemm(int64_t M, int64_t N, int64_t K, const int8_t *pa, const uint8_t *pb,
                  int32_t *C, int64_t ldc, eb_ref_qkernel_fn kernel, struct eb_ref_pool *pool)
{
    qg_job j = {M, N, qg_k4(K), pa, pb, C, ldc, kernel ? kernel : eb_ref_qkernel_best(NULL)};
    int64_t panels = (N + EB_REF_QNR - 1) / EB_REF_QNR;
    if (M <= 0 || N <= 0)
        return;
    if (!pool || panels < 2)
        for (int64_t p = 0; p < panels; p++)
            qg_task(&j, p, 0);
    else
        eb_ref_pool_run(pool, panels, qg_task, &j);
}
