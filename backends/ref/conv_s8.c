/* Direct pixel-major int8 convolution rows (conv_s8.h): a portable reference and the
 * AVX512-VNNI kernel (target-attributed, chosen at run time). */
#include "conv_s8.h"

#include <string.h>

#include "ref_internal.h" /* eb_ref_isa_pick: EDGEBENCH_REF_ISA caps this kernel too */

size_t eb_ref_cs8_pack_bytes(int64_t M, int64_t cin, int64_t kh)
{
    return (size_t)(cin * kh * M * 4);
}

void eb_ref_cs8_pack(int64_t M, int64_t cin, int64_t kh, int64_t kw, const int8_t *w,
                     int8_t *wd)
{
    int64_t K = cin * kh * kw;
    memset(wd, 0, eb_ref_cs8_pack_bytes(M, cin, kh));
    for (int64_t g = 0; g < cin * kh; g++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t kx = 0; kx < kw; kx++)
                wd[(g * M + m) * 4 + kx] = w[m * K + g * kw + kx];
}

int eb_ref_cs8_ok(int64_t M, int64_t kw)
{
    return (M == 16 || M == 32) && kw >= 1 && kw <= 4;
}

void eb_ref_cs8_row_c(const uint8_t *xp, int64_t hp, int64_t wp, int64_t cin, int64_t kh,
                      int64_t oy, int64_t ow, const int8_t *wd, int64_t M, int32_t *out)
{
    memset(out, 0, (size_t)(ow * M) * sizeof *out);
    for (int64_t g = 0; g < cin * kh; g++) {
        const uint8_t *row = xp + ((g / kh) * hp + oy + g % kh) * wp;
        const int8_t *wg = wd + g * M * 4;
        for (int64_t ox = 0; ox < ow; ox++)
            for (int64_t m = 0; m < M; m++) {
                int32_t s = 0;
                for (int q = 0; q < 4; q++)
                    s += (int32_t)row[ox + q] * wg[m * 4 + q];
                out[ox * M + m] += s;
            }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define CS8_VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))

static inline int32_t cs8_load4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Eight pixels at a time: per group, one (M = 16) or two (M = 32) weight zmm stay in
 * registers while eight pixel broadcasts feed 8 or 16 independent vpdpbusd chains.  Always
 * eight pixels stored (out has room for ow rounded up to 8), so the accumulators are never
 * indexed by a variable and stay in registers. */
#define CS8_GROUPS(...)                                                                       \
    do {                                                                                      \
        const uint8_t *row = xp + oy * wp + ox0;                                              \
        int64_t ky = 0;                                                                       \
        for (int64_t g = 0; g < G; g++, row += wp) {                                          \
            if (ky == kh)                                                                     \
                row += skip, ky = 0;                                                          \
            ky++;                                                                             \
            __VA_ARGS__                                                                       \
        }                                                                                     \
    } while (0)

void CS8_VNNI eb_ref_cs8_row_vnni(const uint8_t *xp, int64_t hp, int64_t wp, int64_t cin,
                                  int64_t kh, int64_t oy, int64_t ow, const int8_t *wd,
                                  int64_t M, int32_t *out)
{
    /* group g = (ci, ky): its input row advances by wp, and by the rest of a plane after kh
     * of them (no division per group) */
    int64_t G = cin * kh, skip = (hp - kh) * wp;
    for (int64_t ox0 = 0; ox0 < ow; ox0 += 8) {
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                a6 = a0, a7 = a0;
#define CS8_X(P) _mm512_set1_epi32(cs8_load4(row + (P)))
        if (M == 16) {
            CS8_GROUPS({
                __m512i w0 = _mm512_loadu_si512(wd + g * 64);
                a0 = _mm512_dpbusd_epi32(a0, CS8_X(0), w0);
                a1 = _mm512_dpbusd_epi32(a1, CS8_X(1), w0);
                a2 = _mm512_dpbusd_epi32(a2, CS8_X(2), w0);
                a3 = _mm512_dpbusd_epi32(a3, CS8_X(3), w0);
                a4 = _mm512_dpbusd_epi32(a4, CS8_X(4), w0);
                a5 = _mm512_dpbusd_epi32(a5, CS8_X(5), w0);
                a6 = _mm512_dpbusd_epi32(a6, CS8_X(6), w0);
                a7 = _mm512_dpbusd_epi32(a7, CS8_X(7), w0);
            });
            int32_t *o = out + ox0 * 16;
            _mm512_storeu_si512(o, a0), _mm512_storeu_si512(o + 16, a1);
            _mm512_storeu_si512(o + 32, a2), _mm512_storeu_si512(o + 48, a3);
            _mm512_storeu_si512(o + 64, a4), _mm512_storeu_si512(o + 80, a5);
            _mm512_storeu_si512(o + 96, a6), _mm512_storeu_si512(o + 112, a7);
            continue;
        }
        __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0;
        CS8_GROUPS({
            __m512i w0 = _mm512_loadu_si512(wd + g * 128);
            __m512i w1 = _mm512_loadu_si512(wd + g * 128 + 64);
            __m512i x;
            x = CS8_X(0), a0 = _mm512_dpbusd_epi32(a0, x, w0), b0 = _mm512_dpbusd_epi32(b0, x, w1);
            x = CS8_X(1), a1 = _mm512_dpbusd_epi32(a1, x, w0), b1 = _mm512_dpbusd_epi32(b1, x, w1);
            x = CS8_X(2), a2 = _mm512_dpbusd_epi32(a2, x, w0), b2 = _mm512_dpbusd_epi32(b2, x, w1);
            x = CS8_X(3), a3 = _mm512_dpbusd_epi32(a3, x, w0), b3 = _mm512_dpbusd_epi32(b3, x, w1);
            x = CS8_X(4), a4 = _mm512_dpbusd_epi32(a4, x, w0), b4 = _mm512_dpbusd_epi32(b4, x, w1);
            x = CS8_X(5), a5 = _mm512_dpbusd_epi32(a5, x, w0), b5 = _mm512_dpbusd_epi32(b5, x, w1);
            x = CS8_X(6), a6 = _mm512_dpbusd_epi32(a6, x, w0), b6 = _mm512_dpbusd_epi32(b6, x, w1);
            x = CS8_X(7), a7 = _mm512_dpbusd_epi32(a7, x, w0), b7 = _mm512_dpbusd_epi32(b7, x, w1);
        });
#undef CS8_X
        int32_t *o = out + ox0 * 32;
        _mm512_storeu_si512(o, a0), _mm512_storeu_si512(o + 16, b0);
        _mm512_storeu_si512(o + 32, a1), _mm512_storeu_si512(o + 48, b1);
        _mm512_storeu_si512(o + 64, a2), _mm512_storeu_si512(o + 80, b2);
        _mm512_storeu_si512(o + 96, a3), _mm512_storeu_si512(o + 112, b3);
        _mm512_storeu_si512(o + 128, a4), _mm512_storeu_si512(o + 144, b4);
        _mm512_storeu_si512(o + 160, a5), _mm512_storeu_si512(o + 176, b5);
        _mm512_storeu_si512(o + 192, a6), _mm512_storeu_si512(o + 208, b6);
        _mm512_storeu_si512(o + 224, a7), _mm512_storeu_si512(o + 240, b7);
    }
}
#endif

eb_ref_cs8_row_fn eb_ref_cs8_best(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (eb_ref_isa_pick() == EB_REF_ISA_AVX512 && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return eb_ref_cs8_row_vnni;
#endif
    return NULL;
}
