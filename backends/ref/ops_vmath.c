/* Vectorized exp and erf for Softmax, Exp and Erf (the transformer's attention and GELU),
 * where libm's scalar expf/erff were most of those nodes' time.  GCC's generic vectors of 8
 * floats (SSE/AVX/NEON as the target has them), cloned for AVX2+FMA on x86-64 (chosen once
 * by the loader).  Accuracy, measured against double precision over the whole float range
 * (tests/unit/test_ref_fastpaths.c checks it): exp within 2 ulp, erf within 3e-7 relative;
 * ONNX's node suite allows 1e-3.
 *
 * exp(x) = 2^n * e^r, n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two so r is exact),
 * e^r = 1 + r + r^2 P(r) on |r| <= ln2/2; 2^n applied as two halves so that n from -150 to
 * 128 gives denormals, zero and infinity as expf does.  erf(x) = x P(x^2) for |x| < 0.921875,
 * else sign(x) (1 - exp(Q(|x|))) with Q fitted to log(erfc), and 1 from |x| >= 3.925.  The
 * coefficients are least-squares fits computed for this file (numpy, Chebyshev nodes). */
#include <math.h>
#include <string.h>

#include "ref_internal.h"

typedef float vm_f8 __attribute__((vector_size(32)));
typedef int32_t vm_i8 __attribute__((vector_size(32)));
typedef float vm_f8u __attribute__((vector_size(32), aligned(4)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VM_CLONES
#endif

/* The helpers below pass 32-byte vectors by value; GCC notes that their ABI differs with and
 * without AVX, which cannot matter for static functions inlined into each clone. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define VM_SPLAT(v) ((vm_f8){v, v, v, v, v, v, v, v})
#define VM_ISPLAT(v) ((vm_i8){v, v, v, v, v, v, v, v})

/* mask ? a : b, lane-wise (mask lanes all ones or all zeros, as comparisons give). */
static inline __attribute__((always_inline)) vm_f8 vm_sel(vm_i8 mask, vm_f8 a, vm_f8 b)
{
    return (vm_f8)((mask & (vm_i8)a) | (~mask & (vm_i8)b));
}

static inline __attribute__((always_inline)) vm_f8 vm_exp(vm_f8 x)
{
    x = vm_sel(x < VM_SPLAT(-104.0f), VM_SPLAT(-104.0f), x); /* NaN passes through */
    x = vm_sel(x > VM_SPLAT(89.0f), VM_SPLAT(89.0f), x);
    /* round to nearest by the 1.5 * 2^23 trick: n sits in the low mantissa bits of t */
    const vm_f8 magic = VM_SPLAT(12582912.0f);
    vm_f8 t = x * VM_SPLAT(1.44269504088896341f) + magic;
    vm_f8 nf = t - magic;
    vm_i8 n = (vm_i8)t - (vm_i8)magic;
    vm_f8 r = x - nf * VM_SPLAT(0.693359375f);
    r = r - nf * VM_SPLAT(-2.12194440e-4f);
    vm_f8 p = VM_SPLAT(0.00137514085508883f);
    p = p * r + VM_SPLAT(0.008368918672204018f);
    p = p * r + VM_SPLAT(0.04166953265666962f);
    p = p * r + VM_SPLAT(0.166665181517601f);
    p = p * r + VM_SPLAT(0.49999988079071045f);
    p = p * (r * r) + r + VM_SPLAT(1.0f);
    vm_i8 h = n >> 1, h2 = n - h;
    vm_f8 s1 = (vm_f8)((h + VM_ISPLAT(127)) << 23), s2 = (vm_f8)((h2 + VM_ISPLAT(127)) << 23);
    return p * s1 * s2;
}

static inline __attribute__((always_inline)) vm_f8 vm_erf(vm_f8 x)
{
    const vm_i8 sign = (vm_i8)x & VM_ISPLAT(INT32_MIN);
    vm_f8 a = (vm_f8)((vm_i8)x & VM_ISPLAT(INT32_MAX));
    vm_f8 t = x * x;
    vm_f8 p = VM_SPLAT(-0.0006024587200954556f);
    p = p * t + VM_SPLAT(0.005000893026590347f);
    p = p * t + VM_SPLAT(-0.026772955432534218f);
    p = p * t + VM_SPLAT(0.11282039433717728f);
    p = p * t + VM_SPLAT(-0.3761252462863922f);
    p = p * t + VM_SPLAT(1.1283791065216064f);
    vm_f8 small = x * p;
    vm_f8 b = vm_sel(a > VM_SPLAT(3.925f), VM_SPLAT(3.925f), a);
    vm_f8 q = VM_SPLAT(-1.4283559721661732e-05f);
    q = q * b + VM_SPLAT(0.0003343865682836622f);
    q = q * b + VM_SPLAT(-0.0035579686518758535f);
    q = q * b + VM_SPLAT(0.023092685267329216f);
    q = q * b + VM_SPLAT(-0.10438286513090134f);
    q = q * b + VM_SPLAT(-0.6376981735229492f);
    q = q * b + VM_SPLAT(-1.1269068717956543f);
    q = q * b + VM_SPLAT(-0.0004721175937447697f);
    vm_f8 big = VM_SPLAT(1.0f) - vm_exp(q);
    big = vm_sel(a >= VM_SPLAT(3.925f), VM_SPLAT(1.0f), big);
    big = (vm_f8)((vm_i8)big | sign);
    return vm_sel(a < VM_SPLAT(0.921875f), small, big);
}

/* Loads/stores of n < 8 trailing floats through a padded buffer. */
static inline __attribute__((always_inline)) vm_f8 vm_load_part(const float *x, size_t n,
                                                                float fill)
{
    float b[8] = {fill, fill, fill, fill, fill, fill, fill, fill};
    memcpy(b, x, n * sizeof *x);
    vm_f8 v;
    memcpy(&v, b, sizeof v);
    return v;
}

VM_CLONES float eb_ref_vexp_sum(size_t n, const float *x, float sub, float *y)
{
    vm_f8 acc = VM_SPLAT(0.0f), vs = VM_SPLAT(sub);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vm_f8 e = vm_exp(*(const vm_f8u *)(x + i) - vs);
        *(vm_f8u *)(y + i) = e;
        acc += e;
    }
    float sum = 0.0f;
    if (i < n) {
        vm_f8 e = vm_exp(vm_load_part(x + i, n - i, sub) - vs);
        float b[8];
        memcpy(b, &e, sizeof b);
        memcpy(y + i, b, (n - i) * sizeof *y);
        for (size_t j = 0; j < n - i; j++)
            sum += b[j];
    }
    for (int j = 0; j < 8; j++)
        sum += acc[j];
    return sum;
}

VM_CLONES void eb_ref_verf(size_t n, const float *x, float *y)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        *(vm_f8u *)(y + i) = vm_erf(*(const vm_f8u *)(x + i));
    if (i < n) {
        vm_f8 e = vm_erf(vm_load_part(x + i, n - i, 0.0f));
        memcpy(y + i, &e, (n - i) * sizeof *y);
    }
}

/* The largest of x[0..n) (n >= 1); a NaN never wins, as in the scalar loops it replaces,
 * unless every element is NaN (then -inf, as those loops give too). */
VM_CLONES float eb_ref_vmax(size_t n, const float *x)
{
    vm_f8 m = VM_SPLAT(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vm_f8 v = *(const vm_f8u *)(x + i);
        m = vm_sel(v > m, v, m);
    }
    float mx = -INFINITY;
    for (int j = 0; j < 8; j++)
        if (m[j] > mx)
            mx = m[j];
    for (; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    return mx;
}
