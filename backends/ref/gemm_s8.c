/* Integer GEMM (see gemm_s8.h): packing, the portable C, AVX2 and VNNI micro-kernels, and the
 * driver.  Like the float kernels, the SIMD functions carry target attributes and are called
 * only after __builtin_cpu_supports says the CPU has the instructions, so the binary stays
 * portable. */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* baseline on x86-64 */
#elif defined(__aarch64__)
#include <arm_neon.h> /* baseline on aarch64 */
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

/* The portable kernel.  A scalar loop nest (one multiply per product, the 6 x 16 int32 tile
 * in memory) ran 20-60x slower than the AVX2 kernel, so the two baseline vector ISAs get
 * their own bodies, exact like every kernel here (products fit int16, sums int32):
 *   - x86-64 (SSE2): pmaddwd on bytes widened to int16 (two columns x four k per register,
 *     pair sums), rows two at a time and eight columns per pass: 8 accumulators, 4 widened B
 *     registers, 2 A registers of the 16 xmm;
 *   - aarch64 (NEON): ld4 splits each k group's 64 bytes into the four k rows, widened to
 *     int16 once per group; smlal by lane of A, three rows per pass: 12 accumulators and 8
 *     widened B registers of the 32;
 *   - anything else: the plain loops. */
#if defined(__SSE2__)
/* Pair sums x = (c0: k01, k23, c1: k01, k23), y likewise for c2, c3 -> the four totals. */
static inline __m128i qg_fold_sse2(__m128i x, __m128i y)
{
    __m128 a = _mm_castsi128_ps(x), b = _mm_castsi128_ps(y);
    __m128i even = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    __m128i odd = _mm_castps_si128(_mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm_add_epi32(even, odd);
}

/* Row r's four k bytes (signed) as int16, twice: (a0 a1 a2 a3 a0 a1 a2 a3). */
static inline __m128i qg_a16_sse2(const int8_t *ap)
{
    int32_t w;
    memcpy(&w, ap, 4);
    __m128i v = _mm_cvtsi32_si128(w);
    v = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
    return _mm_unpacklo_epi64(v, v);
}

void eb_ref_qkernel_c(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c, int64_t ldc,
                      int mr, int nr)
{
    const __m128i zero = _mm_setzero_si128();
    for (int h = 0; h < 2 && h * 8 < nr; h++)
        for (int r0 = 0; r0 < mr; r0 += 2) {
            __m128i x0 = zero, x1 = zero, x2 = zero, x3 = zero; /* row r0, columns 8h + 0..7 */
            __m128i y0 = zero, y1 = zero, y2 = zero, y3 = zero; /* row r0 + 1 */
            const int8_t *ap = a + r0 * 4;
            const uint8_t *bp = b + h * 32;
            for (int64_t g = 0; g < k4; g++, ap += EB_REF_QMR * 4, bp += EB_REF_QNR * 4) {
                __m128i braw0 = _mm_loadu_si128((const __m128i *)bp);
                __m128i braw1 = _mm_loadu_si128((const __m128i *)(bp + 16));
                __m128i b0 = _mm_unpacklo_epi8(braw0, zero), b1 = _mm_unpackhi_epi8(braw0, zero);
                __m128i b2 = _mm_unpacklo_epi8(braw1, zero), b3 = _mm_unpackhi_epi8(braw1, zero);
                __m128i a0 = qg_a16_sse2(ap), a1 = qg_a16_sse2(ap + 4);
                x0 = _mm_add_epi32(x0, _mm_madd_epi16(b0, a0));
                x1 = _mm_add_epi32(x1, _mm_madd_epi16(b1, a0));
                x2 = _mm_add_epi32(x2, _mm_madd_epi16(b2, a0));
                x3 = _mm_add_epi32(x3, _mm_madd_epi16(b3, a0));
                y0 = _mm_add_epi32(y0, _mm_madd_epi16(b0, a1));
                y1 = _mm_add_epi32(y1, _mm_madd_epi16(b1, a1));
                y2 = _mm_add_epi32(y2, _mm_madd_epi16(b2, a1));
                y3 = _mm_add_epi32(y3, _mm_madd_epi16(b3, a1));
            }
            int32_t t[2][8];
            _mm_storeu_si128((__m128i *)t[0], qg_fold_sse2(x0, x1));
            _mm_storeu_si128((__m128i *)(t[0] + 4), qg_fold_sse2(x2, x3));
            _mm_storeu_si128((__m128i *)t[1], qg_fold_sse2(y0, y1));
            _mm_storeu_si128((__m128i *)(t[1] + 4), qg_fold_sse2(y2, y3));
            int n = nr - h * 8 < 8 ? nr - h * 8 : 8;
            memcpy(c + r0 * ldc + h * 8, t[0], (size_t)n * sizeof *c);
            if (r0 + 1 < mr)
                memcpy(c + (r0 + 1) * ldc + h * 8, t[1], (size_t)n * sizeof *c);
        }
}
#elif defined(__aarch64__)
static inline __attribute__((always_inline)) void
qg_rows_neon(const int RC, int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c,
             int64_t ldc, int nr)
{
    int32x4_t acc[3][4];
#pragma GCC unroll 3
    for (int r = 0; r < RC; r++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            acc[r][v] = vdupq_n_s32(0);
    for (int64_t g = 0; g < k4; g++, a += EB_REF_QMR * 4, b += EB_REF_QNR * 4) {
        uint8x16x4_t bq = vld4q_u8(b); /* bq.val[q][j] = column j's byte k = 4g + q */
        int16x8_t lo[4], hi[4];
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            lo[q] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(bq.val[q])));
            hi[q] = vreinterpretq_s16_u16(vmovl_high_u8(bq.val[q]));
        }
#pragma GCC unroll 3
        for (int r = 0; r < RC; r++) {
            int32_t w;
            memcpy(&w, a + r * 4, 4);
            int16x4_t av = vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w))));
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(lo[0]), av, 0);
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], lo[0], av, 0);
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(hi[0]), av, 0);
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], hi[0], av, 0);
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(lo[1]), av, 1);
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], lo[1], av, 1);
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(hi[1]), av, 1);
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], hi[1], av, 1);
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(lo[2]), av, 2);
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], lo[2], av, 2);
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(hi[2]), av, 2);
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], hi[2], av, 2);
            acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(lo[3]), av, 3);
            acc[r][1] = vmlal_high_lane_s16(acc[r][1], lo[3], av, 3);
            acc[r][2] = vmlal_lane_s16(acc[r][2], vget_low_s16(hi[3]), av, 3);
            acc[r][3] = vmlal_high_lane_s16(acc[r][3], hi[3], av, 3);
        }
    }
#pragma GCC unroll 3
    for (int r = 0; r < RC; r++) {
        int32_t t[EB_REF_QNR];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            vst1q_s32(t + 4 * v, acc[r][v]);
        memcpy(c + r * ldc, t, (size_t)nr * sizeof *c);
    }
}

void eb_ref_qkernel_c(int64_t k4, const int8_t *a, const uint8_t *b, int32_t *c, int64_t ldc,
                      int mr, int nr)
{
    for (int r0 = 0; r0 < mr; r0 += 3) {
        int rc = mr - r0 < 3 ? mr - r0 : 3;
        if (rc == 3)
            qg_rows_neon(3, k4, a + r0 * 4, b, c + r0 * ldc, ldc, nr);
        else if (rc == 2)
            qg_rows_neon(2, k4, a + r0 * 4, b, c + r0 * ldc, ldc, nr);
        else
            qg_rows_neon(1, k4, a + r0 * 4, b, c + r0 * ldc, ldc, nr);
    }
}
#else
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
#endif

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
            /* vpmovzxbw straight from memory: no 32-byte load and vextracti128 per half */
            __m256i b0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)bp));
            __m256i b1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 16)));
            __m256i b2 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 32)));
            __m256i b3 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 48)));
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

/* The portable matrix-vector kernel, per target as eb_ref_qkernel_c (the scalar loops ran
 * 20x the AVX2 kernel's time): one panel (16 rows) at a time over all k groups; SSE2 widens
 * the weights (signed) to int16 and pmaddwd's them with x, NEON splits each group's 64 bytes
 * by k (ld4) and smlal's them by x's lanes. */
#if defined(__SSE2__)
void eb_ref_qgemv_c(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y)
{
    const __m128i zero = _mm_setzero_si128();
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        int64_t stride = (int64_t)np * EB_REF_QVR * 4; /* one k group of the whole block */
        for (int p = 0; p < np; p++) {
            __m128i acc[8];
            for (int v = 0; v < 8; v++)
                acc[v] = zero;
            const int8_t *w = pv + p * EB_REF_QVR * 4;
            for (int64_t g = 0; g < k4; g++, w += stride) {
                int32_t xw;
                memcpy(&xw, x4 + g * 4, 4);
                __m128i xv = _mm_unpacklo_epi8(_mm_cvtsi32_si128(xw), zero);
                xv = _mm_unpacklo_epi64(xv, xv); /* x0 x1 x2 x3 x0 x1 x2 x3 as int16 */
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) { /* rows 4v .. 4v + 3 */
                    __m128i raw = _mm_loadu_si128((const __m128i *)(w + 16 * v));
                    __m128i lo = _mm_srai_epi16(_mm_unpacklo_epi8(raw, raw), 8);
                    __m128i hi = _mm_srai_epi16(_mm_unpackhi_epi8(raw, raw), 8);
                    acc[2 * v] = _mm_add_epi32(acc[2 * v], _mm_madd_epi16(lo, xv));
                    acc[2 * v + 1] = _mm_add_epi32(acc[2 * v + 1], _mm_madd_epi16(hi, xv));
                }
            }
            int32_t t[EB_REF_QVR];
            for (int v = 0; v < 4; v++)
                _mm_storeu_si128((__m128i *)(t + 4 * v), qg_fold_sse2(acc[2 * v], acc[2 * v + 1]));
            memcpy(y + b0 + p * EB_REF_QVR, t, (size_t)qg_vrows(M, b0, p) * sizeof *y);
        }
        pv += k4 * stride;
    }
}
#elif defined(__aarch64__)
void eb_ref_qgemv_c(int64_t M, int64_t k4, const int8_t *pv, const uint8_t *x4, int32_t *y)
{
    for (int64_t b0 = 0; b0 < M; b0 += EB_REF_QVB * EB_REF_QVR) {
        int np = qg_vpanels(M, b0);
        int64_t stride = (int64_t)np * EB_REF_QVR * 4;
        for (int p = 0; p < np; p++) {
            int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0; /* rows 0-3 ... 12-15 */
            const int8_t *w = pv + p * EB_REF_QVR * 4;
            for (int64_t g = 0; g < k4; g++, w += stride) {
                int32_t xw;
                memcpy(&xw, x4 + g * 4, 4);
                int16x4_t xv = vget_low_s16(
                    vreinterpretq_s16_u16(vmovl_u8(vreinterpret_u8_s32(vdup_n_s32(xw)))));
                int8x16x4_t wq = vld4q_s8(w); /* wq.val[q][r] = row r's byte k = 4g + q */
                int16x8_t l0 = vmovl_s8(vget_low_s8(wq.val[0])), h0 = vmovl_high_s8(wq.val[0]);
                int16x8_t l1 = vmovl_s8(vget_low_s8(wq.val[1])), h1 = vmovl_high_s8(wq.val[1]);
                int16x8_t l2 = vmovl_s8(vget_low_s8(wq.val[2])), h2 = vmovl_high_s8(wq.val[2]);
                int16x8_t l3 = vmovl_s8(vget_low_s8(wq.val[3])), h3 = vmovl_high_s8(wq.val[3]);
                a0 = vmlal_lane_s16(a0, vget_low_s16(l0), xv, 0);
                a1 = vmlal_high_lane_s16(a1, l0, xv, 0);
                a2 = vmlal_lane_s16(a2, vget_low_s16(h0), xv, 0);
                a3 = vmlal_high_lane_s16(a3, h0, xv, 0);
                a0 = vmlal_lane_s16(a0, vget_low_s16(l1), xv, 1);
                a1 = vmlal_high_lane_s16(a1, l1, xv, 1);
                a2 = vmlal_lane_s16(a2, vget_low_s16(h1), xv, 1);
                a3 = vmlal_high_lane_s16(a3, h1, xv, 1);
                a0 = vmlal_lane_s16(a0, vget_low_s16(l2), xv, 2);
                a1 = vmlal_high_lane_s16(a1, l2, xv, 2);
                a2 = vmlal_lane_s16(a2, vget_low_s16(h2), xv, 2);
                a3 = vmlal_high_lane_s16(a3, h2, xv, 2);
                a0 = vmlal_lane_s16(a0, vget_low_s16(l3), xv, 3);
                a1 = vmlal_high_lane_s16(a1, l3, xv, 3);
                a2 = vmlal_lane_s16(a2, vget_low_s16(h3), xv, 3);
                a3 = vmlal_high_lane_s16(a3, h3, xv, 3);
            }
            int32_t t[EB_REF_QVR];
            vst1q_s32(t, a0), vst1q_s32(t + 4, a1), vst1q_s32(t + 8, a2), vst1q_s32(t + 12, a3);
            memcpy(y + b0 + p * EB_REF_QVR, t, (size_t)qg_vrows(M, b0, p) * sizeof *y);
        }
        pv += k4 * stride;
    }
}
#else
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
#endif

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
