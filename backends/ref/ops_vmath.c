/* Vectorized exp and erf for Softmax, Exp and Erf (the transformer's attention and GELU),
 * where libm's scalar expf/erff were most of those nodes' time.  GCC's generic vectors of
 * VM_L floats (SSE/AVX/NEON as the target has them), cloned for AVX2+FMA on x86-64 (chosen once
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

/* Lanes per vector: 8 on x86-64 (the AVX2 clone's ymm; the baseline clone runs only on CPUs
 * without AVX2), 4 elsewhere (one NEON register).  8-float vectors on aarch64 had every
 * comparison of the select steps split into scalar fcmp + csel per lane: erf took 387
 * instructions per 8 floats. */
#if defined(__x86_64__)
#define VM_L 8
#else
#define VM_L 4
#endif
typedef float vm_fv __attribute__((vector_size(VM_L * 4)));
typedef int32_t vm_iv __attribute__((vector_size(VM_L * 4)));
typedef float vm_fvu __attribute__((vector_size(VM_L * 4), aligned(4)));

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

#define VM_SPLAT(v) ((vm_fv){0} + (v))
#define VM_ISPLAT(v) ((vm_iv){0} + (v))

/* mask ? a : b, lane-wise (mask lanes all ones or all zeros, as comparisons give). */
static inline __attribute__((always_inline)) vm_fv vm_sel(vm_iv mask, vm_fv a, vm_fv b)
{
    return (vm_fv)((mask & (vm_iv)a) | (~mask & (vm_iv)b));
}

static inline __attribute__((always_inline)) vm_fv vm_exp(vm_fv x)
{
    x = vm_sel(x < VM_SPLAT(-104.0f), VM_SPLAT(-104.0f), x); /* NaN passes through */
    x = vm_sel(x > VM_SPLAT(89.0f), VM_SPLAT(89.0f), x);
    /* round to nearest by the 1.5 * 2^23 trick: n sits in the low mantissa bits of t */
    const vm_fv magic = VM_SPLAT(12582912.0f);
    vm_fv t = x * VM_SPLAT(1.44269504088896341f) + magic;
    vm_fv nf = t - magic;
    vm_iv n = (vm_iv)t - (vm_iv)magic;
    vm_fv r = x - nf * VM_SPLAT(0.693359375f);
    r = r - nf * VM_SPLAT(-2.12194440e-4f);
    vm_fv p = VM_SPLAT(0.00137514085508883f);
    p = p * r + VM_SPLAT(0.008368918672204018f);
    p = p * r + VM_SPLAT(0.04166953265666962f);
    p = p * r + VM_SPLAT(0.166665181517601f);
    p = p * r + VM_SPLAT(0.49999988079071045f);
    p = p * (r * r) + r + VM_SPLAT(1.0f);
    vm_iv h = n >> 1, h2 = n - h;
    vm_fv s1 = (vm_fv)((h + VM_ISPLAT(127)) << 23), s2 = (vm_fv)((h2 + VM_ISPLAT(127)) << 23);
    return p * s1 * s2;
}

static inline __attribute__((always_inline)) vm_fv vm_erf(vm_fv x)
{
    const vm_iv sign = (vm_iv)x & VM_ISPLAT(INT32_MIN);
    vm_fv a = (vm_fv)((vm_iv)x & VM_ISPLAT(INT32_MAX));
    vm_fv t = x * x;
    vm_fv p = VM_SPLAT(-0.0006024587200954556f);
    p = p * t + VM_SPLAT(0.005000893026590347f);
    p = p * t + VM_SPLAT(-0.026772955432534218f);
    p = p * t + VM_SPLAT(0.11282039433717728f);
    p = p * t + VM_SPLAT(-0.3761252462863922f);
    p = p * t + VM_SPLAT(1.1283791065216064f);
    vm_fv small = x * p;
    vm_fv b = vm_sel(a > VM_SPLAT(3.925f), VM_SPLAT(3.925f), a);
    vm_fv q = VM_SPLAT(-1.4283559721661732e-05f);
    q = q * b + VM_SPLAT(0.0003343865682836622f);
    q = q * b + VM_SPLAT(-0.0035579686518758535f);
    q = q * b + VM_SPLAT(0.023092685267329216f);
    q = q * b + VM_SPLAT(-0.10438286513090134f);
    q = q * b + VM_SPLAT(-0.6376981735229492f);
    q = q * b + VM_SPLAT(-1.1269068717956543f);
    q = q * b + VM_SPLAT(-0.0004721175937447697f);
    vm_fv big = VM_SPLAT(1.0f) - vm_exp(q);
    big = vm_sel(a >= VM_SPLAT(3.925f), VM_SPLAT(1.0f), big);
    big = (vm_fv)((vm_iv)big | sign);
    return vm_sel(a < VM_SPLAT(0.921875f), small, big);
}

/* Loads/stores of n < VM_L trailing floats through a padded buffer. */
static inline __attribute__((always_inline)) vm_fv vm_load_part(const float *x, size_t n,
                                                                float fill)
{
    float b[VM_L];
    for (int j = 0; j < VM_L; j++)
        b[j] = fill;
    memcpy(b, x, n * sizeof *x);
    vm_fv v;
    memcpy(&v, b, sizeof v);
    return v;
}

VM_CLONES float eb_ref_vexp_sum(size_t n, const float *x, float sub, float *y)
{
    vm_fv acc = VM_SPLAT(0.0f), vs = VM_SPLAT(sub);
    size_t i = 0;
    for (; i + VM_L <= n; i += VM_L) {
        vm_fv e = vm_exp(*(const vm_fvu *)(x + i) - vs);
        *(vm_fvu *)(y + i) = e;
        acc += e;
    }
    float sum = 0.0f;
    if (i < n) {
        vm_fv e = vm_exp(vm_load_part(x + i, n - i, sub) - vs);
        float b[VM_L];
        memcpy(b, &e, sizeof b);
        memcpy(y + i, b, (n - i) * sizeof *y);
        for (size_t j = 0; j < n - i; j++)
            sum += b[j];
    }
    for (int j = 0; j < VM_L; j++)
        sum += acc[j];
    return sum;
}

VM_CLONES void eb_ref_verf(size_t n, const float *x, float *y)
{
    size_t i = 0;
    for (; i + VM_L <= n; i += VM_L)
        *(vm_fvu *)(y + i) = vm_erf(*(const vm_fvu *)(x + i));
    if (i < n) {
        vm_fv e = vm_erf(vm_load_part(x + i, n - i, 0.0f));
        memcpy(y + i, &e, (n - i) * sizeof *y);
    }
}

/* The largest of x[0..n) (n >= 1); a NaN never wins, as in the scalar loops it replaces,
 * unless every element is NaN (then -inf, as those loops give too). */
VM_CLONES float eb_ref_vmax(size_t n, const float *x)
{
    vm_fv m = VM_SPLAT(-INFINITY);
    size_t i = 0;
    for (; i + VM_L <= n; i += VM_L) {
        vm_fv v = *(const vm_fvu *)(x + i);
        m = vm_sel(v > m, v, m);
    }
    float mx = -INFINITY;
    for (int j = 0; j < VM_L; j++)
        if (m[j] > mx)
            mx = m[j];
    for (; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    return mx;
}
