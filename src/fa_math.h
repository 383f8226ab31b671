/* fa_math.h: branch-free, auto-vectorizable scalar primitives for the
 * transcendental activations (float `_f` and double `_d`).
 *
 * Rules (see shared/reference/math.md, sections 6-8):
 *  - no libm calls; every conditional is a value select `c ? a : b` that GCC
 *    if-converts under -fno-trapping-math; compares are false for NaN, so the
 *    clamps below pass NaN through and NaN propagates arithmetically;
 *  - all exp-type primitives take a NON-POSITIVE argument (0 < e <= 1);
 *  - 2^n is built from the bits of a "magic-biased" float (shift left only:
 *    no float->int conversion, no 64-bit arithmetic shift, works on SSE2);
 *  - exp results in the subnormal range are produced as a * s2 with two normal
 *    factors (one final rounding, no flush); callers that multiply by x apply
 *    s2 last (x * a * s2) so x*sigmoid-type products keep their accuracy;
 *  - error-free transforms use fma()/fmaf() only when the target has FMA,
 *    otherwise a Veltkamp/Dekker split (fmaf would be a libm call on SSE2).
 * Measured accuracy: bench/ulp/RESULTS.md. */
#ifndef FA_MATH_H
#define FA_MATH_H

#include "fa_defs.h"

#if defined(__FMA__) || defined(__AVX2__) || defined(__ARM_FEATURE_FMA)
#  define FA_HAVE_FMA 1
#else
#  define FA_HAVE_FMA 0
#endif

/* a*b + c: one rounding where the target has FMA, else two.  The build uses
 * -ffp-contract=off so that the compiler fuses nothing by itself (results do
 * not depend on the compiler, and the cheap kernels keep PyTorch's twice-
 * rounded a*x + b at their kinks); the math below asks for FMA explicitly. */
#if FA_HAVE_FMA
#  define fa_fma_f(a, b, c) fmaf((a), (b), (c))
#  define fa_fma_d(a, b, c) fma((a), (b), (c))
#else
#  define fa_fma_f(a, b, c) ((a) * (b) + (c))
#  define fa_fma_d(a, b, c) ((a) * (b) + (c))
#endif

/* n/d for normal d > 0 in [2^-120, 2^120] and normal n, without the
 * division unit (one vector division costs as much as ten FMAs, and a
 * square root beside it shares the same unit).  With FMA: a reciprocal
 * guess from the bits (relative error at most 0.0506), Newton steps
 * r += r(1 - dr) (each squares the error: 2^-17 after two in float, 2^-34
 * after three in double), then q = nr corrected once by r(n - qd), whose
 * residual the FMA gives exactly: error ~2^-34 (float) / 2^-68 (double)
 * before the last rounding, so within an ulp of n/d.  Without FMA the
 * residual would not be exact: there it is the division. */
FA_INLINE float fa__div_f(float n, float d)
{
#if FA_HAVE_FMA
    float r = fa_u2f(0x7ef311c0u - fa_f2u(d));
    r = fa_fma_f(r, fa_fma_f(-d, r, 1.0f), r);
    r = fa_fma_f(r, fa_fma_f(-d, r, 1.0f), r);
    float q = n * r;
    return fa_fma_f(fa_fma_f(-q, d, n), r, q);
#else
    return n / d;
#endif
}
FA_INLINE double fa__div_d(double n, double d)
{
#if FA_HAVE_FMA
    double r = fa_u2d(0x7fde623822fc16e6ull - fa_d2u(d));
    r = fa_fma_d(r, fa_fma_d(-d, r, 1.0), r);
    r = fa_fma_d(r, fa_fma_d(-d, r, 1.0), r);
    r = fa_fma_d(r, fa_fma_d(-d, r, 1.0), r);
    double q = n * r;
    return fa_fma_d(fa_fma_d(-q, d, n), r, q);
#else
    return n / d;
#endif
}

/* p/6 and p/3 rounded correctly, for every finite float p (p/3: every p
 * but -0, which gives +0), without the division unit: hard_swish divides
 * every element by a constant, and on Intel's AVX-512 cores the divider (one
 * 512-bit vector per ~10-16 cycles) bounds its loops on cache-resident data.
 * Markstein's correction: q0 = p * RN(1/d) is within an ulp of p/d, the
 * residual q0 d - p is exact (FMA), and q0 - res/d is rounded once.  For
 * d = 6, a subnormal quotient can lie exactly halfway between two floats,
 * where RN(1/6) > 1/6 would round away from q0; taking the float just below
 * 1/6 when q0 is even rounds the tie to even.  The residual is negated and
 * multiplied by -1/6, so that p = +-0 keeps its sign (q0 + (-res) would give
 * +0 for p = -0).  Both checked against the division on every finite float
 * (bench/ulp/divconst.c; +-inf gives NaN, which hard_swish never selects).
 * Only with FMA: without it the residual is not exact.
 *
 * fa_tune.fast_divider (fa_defs.h) picks between them and the divider
 * where FA_DIVIDER_CHOICE (the AVX-512 targets). */
#if FA_HAVE_FMA && defined(__AVX512F__)
#  define FA_DIVIDER_CHOICE 1
#else
#  define FA_DIVIDER_CHOICE 0
#endif
#if FA_HAVE_FMA
FA_INLINE float fa__div6_f(float p)
{
    float q0 = p * 0x1.555556p-3f;
    float nres = fa_fma_f(q0, 6.0f, -p);
    float nc = fa_u2f(0xbe2aaaaau + (fa_f2u(q0) & 1u));    /* -(1/6), rounded away from 0 if q0 odd */
    return fa_fma_f(nres, nc, q0);
}
FA_INLINE float fa__div3_f(float p)
{
    float q0 = p * 0x1.555556p-2f;
    return fa_fma_f(fa_fma_f(-q0, 3.0f, p), 0x1.555556p-2f, q0);
}
#endif

/* ======================================================================= */
/* float                                                                   */
/* ======================================================================= */

#define FA_F_MAGIC 0x1.8p23f                 /* 1.5*2^23: round-to-integer */
#define FA_F_MAGIC_B (0x1.8p23f + 127.0f)    /* same, exponent bias folded in */
#define FA_F_LOG2E 0x1.715476p+0f
#define FA_F_LN2_HI 0x1.62E400p-1f           /* 15 significant bits: n*hi exact for |n| < 512 */
#define FA_F_LN2_LO 0x1.7F7D1Cp-20f
#define FA_F_EXP_LO (-104.0f)                /* exp(z) < 2^-150 below: result 0 */
#define FA_F_EXPM1_LO (-20.0f)               /* expm1(z) == -1.0f below -17.33 */

/* expm1(t) - t = t*p, p = t*(c2 + t*(c3 + ...)), |t| <= ln2/2
 * (XNNPACK rr2-p6 coefficients, 0.95 ULP for expm1). */
#define FA_F_EM1_C2 0x1.FFFFFEp-2f
#define FA_F_EM1_C3 0x1.5554B0p-3f
#define FA_F_EM1_C4 0x1.555716p-5f
#define FA_F_EM1_C5 0x1.12278Ep-7f
#define FA_F_EM1_C6 0x1.6b7338p-10f
FA_INLINE float fa_expm1_poly_f(float t)
{
    float p = FA_F_EM1_C6;
    p = fa_fma_f(p, t, FA_F_EM1_C5);
    p = fa_fma_f(p, t, FA_F_EM1_C4);
    p = fa_fma_f(p, t, FA_F_EM1_C3);
    p = fa_fma_f(p, t, FA_F_EM1_C2);
    return p * t;
}
/* expm1(t) with the same polynomial in Estrin's scheme,
 * t + t^2 ((c2 + c3 t) + t^2 ((c4 + c5 t) + t^2 c6)): as many operations as
 * fa_expm1_poly_f and the fma that adds t, a dependency chain of 4 instead
 * of 6.  For loops whose throughput the chain limits (softmax's exps on
 * AMD Zen 4: the scheduler fills with waiting operations); the results
 * differ from Horner's by rounding. */
FA_INLINE float fa_expm1_estrin_f(float t)
{
    const float t2 = t * t;
    const float a = fa_fma_f(FA_F_EM1_C3, t, FA_F_EM1_C2);
    const float b = fa_fma_f(FA_F_EM1_C5, t, FA_F_EM1_C4);
    return fa_fma_f(t2, fa_fma_f(fa_fma_f(FA_F_EM1_C6, t2, b), t2, a), t);
}

/* exp(z) * 2^64 for z <= 0 (0 for z < -104, NaN -> NaN): 2^(n+64) is a
 * normal number for every n in [-150, 0], so one scale built from exponent
 * bits covers the whole range; multiplying by 2^-64 at the end rounds
 * subnormal results once (3 operations for the scaling instead of 7 for a
 * split 2^n = 2^n1 * 2^(n-n1)). */
FA_INLINE float fa__exp_neg_s64_core_f(float z, float mzl, int checked)
{
    float nb = fa_fma_f(z, FA_F_LOG2E, FA_F_MAGIC_B + 64.0f);  /* n + 191 in the low bits */
    /* clamp n (in nb), not z: the scale stays finite in every lane; lanes
     * with z < -104 compute garbage t (even NaN) and get 0 below.  Callers
     * that bound z to [-110, 0] themselves pass checked = 0 (2^(n+64) is
     * then normal and a = exp(z) * 2^64; no clamp, no select). */
    if (checked)
        nb = nb < FA_F_MAGIC_B - 86.0f ? FA_F_MAGIC_B - 86.0f : nb;  /* n >= -150 */
    float n = nb - (FA_F_MAGIC_B + 64.0f);
    float s = fa_u2f(fa_f2u(nb) << 23);                        /* 2^(n+64) */
    float t = fa_fma_f(n, -FA_F_LN2_HI, z);                    /* exact */
    t = fa_fma_f(n, -FA_F_LN2_LO, t);
    t = t - mzl;                                               /* folded away for mzl = 0 */
    float p = fa_expm1_poly_f(t);
    float q = fa_fma_f(p, t, t);                               /* expm1(t) */
    float a = fa_fma_f(q, s, s);
    return checked && z < FA_F_EXP_LO ? 0.0f : a;
}

FA_INLINE float fa_exp_neg_s64_f(float z)
{
    return fa__exp_neg_s64_core_f(z, 0.0f, 1);
}

/* exp(z), z <= 0, as a product a * (*s2): a = exp(z) * 2^64 (normal, or 0
 * for z < -104), *s2 = 2^-64.  Callers multiply by s2 last (x * a * s2), so
 * products that end subnormal are rounded once.  z = NaN -> a = NaN.
 * Max error of a*s2 ~ 1 ULP. */
FA_INLINE float fa_exp_neg_parts_f(float z, float *s2)
{
    *s2 = 0x1p-64f;
    return fa_exp_neg_s64_f(z);
}

/* exp(z + zl) as a * (*s2) like fa_exp_neg_parts_f, for z <= 0 given as a
 * pair with |zl| <= 2^-12 |z| (or anything when z < -104: the result is 0
 * whatever zl is, even inf or NaN).  zl joins the reduced argument, so it
 * costs one addition and needs no sanitizing by the caller. */
FA_INLINE float fa_exp_neg_lo_parts_f(float z, float zl, float *s2)
{
    *s2 = 0x1p-64f;
    return fa__exp_neg_s64_core_f(z, -zl, 1);
}

/* exp(-|x|) as a * (*s2), like fa_exp_neg_parts_f(-|x|, s2), but cheaper:
 * z = -|x| is made by setting the sign bit and clamped to -110 up front, one
 * compare and one masked OR on AVX-512, instead of the clamp of n and the
 * final select (sigmoid 25 -> 22 vector operations per 16 floats).  Written
 * as -fa_abs_f(x), GCC folds the clamp into a compare of |x| with negated
 * arms (three operations).  NaN fails the compare: NaN out.
 * For |x| >= 110, a is exp(-110) * 2^64, not 0: e = a * s2 < 2^-158 rounds
 * to 0 like the exact exp(-|x|), and so does z * a * s2 (silu's product).
 * *z gets the clamped argument max(-|x|, -110) (NaN -> NaN). */
#define FA_F_NABS_LO (-110.0f)
FA_INLINE float fa_exp_nabs_z_parts_f(float x, float *s2, float *z)
{
    float zc = fa_u2f(fa_f2u(x) | 0x80000000u);
    zc = zc < FA_F_NABS_LO ? FA_F_NABS_LO : zc;   /* 2^(n+64) >= 2^-95: still normal */
    *z = zc;
    *s2 = 0x1p-64f;
    return fa__exp_neg_s64_core_f(zc, 0.0f, 0);
}
FA_INLINE float fa_exp_nabs_parts_f(float x, float *s2)
{
    float z;
    return fa_exp_nabs_z_parts_f(x, s2, &z);
}

/* fa_exp_nabs_z_parts_f for formulas that select x itself for a NaN x: the
 * clamp is one integer min on the bits (fa_maxneg_f, no compare), which
 * sends a NaN to -110 with the rest (SSE2: passes it on). */
FA_INLINE float fa_exp_nabs_z_parts_nn_f(float x, float *s2, float *z)
{
    float zc = fa_maxneg_f(fa_u2f(fa_f2u(x) | 0x80000000u), FA_F_NABS_LO);
    *z = zc;
    *s2 = 0x1p-64f;
    return fa__exp_neg_s64_core_f(zc, 0.0f, 0);
}

/* exp(z) as a * (*s2) for callers that bound z to [-131, 0] themselves (or
 * NaN): 2^(n+64) stays normal there, so no clamp and no select. */
FA_INLINE float fa_exp_negb_parts_f(float z, float *s2)
{
    *s2 = 0x1p-64f;
    return fa__exp_neg_s64_core_f(z, 0.0f, 0);
}

/* exp(z) for z <= 0: z=-inf -> +0, NaN -> NaN, subnormal results not flushed. */
FA_INLINE float fa_exp_neg_f(float z)
{
    float s2;
    float a = fa_exp_neg_parts_f(z, &s2);
    return a * s2;
}

/* exp(-|x|) */
FA_INLINE float fa_exp_nabs_f(float x)
{
    float s2;
    float a = fa_exp_nabs_parts_f(x, &s2);
    return a * s2;
}

/* expm1(z) for z in [-20, 0] or NaN, except that -0 gives +0: the core of
 * fa_expm1_neg_f for callers that bound z themselves and fix the sign of
 * zero anyway (tanh); each select saved is a compare and a blend per vector. */
FA_INLINE float fa__expm1_neg_core_f(float z)
{
    float nb = fa_fma_f(z, FA_F_LOG2E, FA_F_MAGIC_B);                  /* n + 127 in the low bits */
    float n = nb - FA_F_MAGIC_B;
    float s = fa_u2f(fa_f2u(nb) << 23);                        /* 2^n, n in [-29, 0] */
    float t = fa_fma_f(n, -FA_F_LN2_HI, z);
    t = fa_fma_f(n, -FA_F_LN2_LO, t);
    float p = fa_expm1_poly_f(t);
    float ts = t * s;
    float sm1 = s - 1.0f;
    float y = fa_fma_f(p, ts, ts);
    return y + sm1;
}

/* expm1(z) for z <= 0: -inf -> -1, -0 -> -0, NaN -> NaN. ~1 ULP. */
FA_INLINE float fa_expm1_neg_f(float z)
{
    float zc = z < FA_F_EXPM1_LO ? FA_F_EXPM1_LO : z;
    float y = fa__expm1_neg_core_f(zc);
    /* expm1(+-0) = +-0 (the sum above gives +0); a select, not bit ops on z:
     * GCC 12 pushes such masks through an earlier clamp select of the caller
     * and SSE2 has no 64-bit vcond (the double loop then stays scalar) */
    return z == 0.0f ? z : y;
}

/* expm1(max(-|x|, -20)) with x's sign on a zero result (expm1(+-0) =
 * +-0), for formulas that use it where x <= 0 only and select x itself
 * for a NaN x: the clamp is integer bit operations (fa_maxneg_f, no
 * compare; a NaN becomes -20, or stays NaN on SSE2), and x's sign bit is
 * ORed into the result, which is <= -0 wherever x is negative: that gives
 * back the -0 the core's sum loses at x = -0 and keeps +0 at x = +0. */
FA_INLINE float fa__expm1_nabs_f(float x)
{
    float z = fa_maxneg_f(fa_u2f(fa_f2u(x) | 0x80000000u), FA_F_EXPM1_LO);
    return fa_u2f(fa_f2u(fa__expm1_neg_core_f(z)) | (fa_f2u(x) & 0x80000000u));
}

/* log1p(u) for u in [0, 1] (also fine for NaN -> NaN).
 * 1+u = 2^k (1+f), f in [sqrt(1/2)-1, sqrt(2)-1], f computed exactly as
 * hi + lo (Fast2Sum), log1p(f) = f + f^2 P(f), P: degree-8 fit (0.9 ULP). */
FA_INLINE float fa_log1p_01_f(float u)
{
    int big = u > 0x1.a82799p-2f;                              /* 1+u > sqrt(2) */
    float a = 0.5f * u;
    float fh1 = a - 0.5f;                                      /* (1+u)/2 - 1, |.| <= 0.293 */
    float fl1 = a - (fh1 + 0.5f);                              /* exact rounding error */
    float f = big ? fh1 : u;
    float fl = big ? fl1 : 0.0f;
    float k = big ? 1.0f : 0.0f;
    float p = -0.07673641501674025f;                           /* deg-8 Chebyshev fit, see bench/ulp/fit/l1pfit.py */
    p = fa_fma_f(p, f, 0.1272267278801096f);
    p = fa_fma_f(p, f, -0.1312755565128765f);
    p = fa_fma_f(p, f, 0.14204855952571013f);
    p = fa_fma_f(p, f, -0.16626645629127462f);
    p = fa_fma_f(p, f, 0.20001234461093456f);
    p = fa_fma_f(p, f, -0.25000781239812697f);
    p = fa_fma_f(p, f, 0.33333330028354796f);
    p = fa_fma_f(p, f, -0.4999999764977098f);
    float f2 = f * f;
    float r = fa_fma_f(f2, p, f);                                      /* log1p(f) */
    float corr = fa_fma_f(fl, 1.0f - f, k * -2.12194440e-4f);        /* fl/(1+f) + k*(ln2 - 0.693359375) */
    return fa_fma_f(k, 0.693359375f, (r + corr));
}

/* log1p(u) for u in [0, 1] (NaN -> NaN) without range reduction, for
 * log1p(exp(-|x|)) in softplus/log_sigmoid: u + u^2 P(u), P a degree-7
 * relative-minimax fit of (log1p(u) - u)/u^2 on [0, 1] (approximation error
 * 2^-24.8).  Max 1.6 ULP with FMA, 2.0 without (exhaustive, u >= 2^-40),
 * vs 0.9 for fa_log1p_01_f, at about half its instructions. */
FA_INLINE float fa_log1p_01_fast_f(float u)
{
    float p = 0x1.5f96b8p-8f;
    p = fa_fma_f(p, u, -0x1.ec98fap-6f);
    p = fa_fma_f(p, u, 0x1.446bf0p-4f);
    p = fa_fma_f(p, u, -0x1.19ad84p-3f);
    p = fa_fma_f(p, u, 0x1.88444ep-3f);
    p = fa_fma_f(p, u, -0x1.fd1320p-3f);
    p = fa_fma_f(p, u, 0x1.5535dap-2f);
    p = fa_fma_f(p, u, -0x1.ffff14p-2f);
    float u2 = u * u;
    return fa_fma_f(u2, p, u);                                         /* u2 = 0 for tiny u: exact u */
}

/* Error-free product: hi + lo == a * b exactly (no over/underflow assumed). */
FA_INLINE float fa_twoprod_f(float a, float b, float *lo)
{
    float h = a * b;
#if FA_HAVE_FMA
    *lo = fmaf(a, b, -h);
#else
    float ca = 4097.0f * a, cb = 4097.0f * b;
    float ah = ca - (ca - a), al = a - ah;
    float bh = cb - (cb - b), bl = b - bh;
    *lo = ((ah * bh - h) + ah * bl + al * bh) + al * bl;
#endif
    return h;
}

/* ======================================================================= */
/* double                                                                  */
/* ======================================================================= */

#define FA_D_MAGIC 0x1.8p52
#define FA_D_MAGIC_B (0x1.8p52 + 1023.0)
#define FA_D_LOG2E 0x1.71547652b82fep+0
#define FA_D_LN2_HI 6.93147180369123816490e-01  /* 32 significant bits (fdlibm) */
#define FA_D_LN2_LO 1.90821492927058770002e-10
#define FA_D_EXP_LO (-746.0)                     /* exp(z) < 2^-1075 below */
#define FA_D_EXPM1_LO (-45.0)

/* expm1(t) - t = t^2 * P(t), |t| <= ln2/2 (AOR advsimd expm1 coefficients). */
FA_INLINE double fa_expm1_poly_d(double t)
{
    double p = 0x1.1f143d060a28ap-29;
    p = fa_fma_d(p, t, 0x1.af5eedae67435p-26);
    p = fa_fma_d(p, t, 0x1.27e517fc0d54bp-22);
    p = fa_fma_d(p, t, 0x1.71ddf82db5bb4p-19);
    p = fa_fma_d(p, t, 0x1.a01a018b4ecbbp-16);
    p = fa_fma_d(p, t, 0x1.a01a01affa35dp-13);
    p = fa_fma_d(p, t, 0x1.6c16c16c1b5f3p-10);
    p = fa_fma_d(p, t, 0x1.111111110f663p-7);
    p = fa_fma_d(p, t, 0x1.555555555554bp-5);
    p = fa_fma_d(p, t, 0x1.5555555555559p-3);
    p = fa_fma_d(p, t, 0.5);
    return p * t;                                              /* expm1(t) ~ t + t*p */
}

/* checked = 0: for z in [-752, 0] or NaN only (fa_exp_nabs_z_parts_d); n
 * then stays >= -1085, where both halves of the split scale are normal. */
FA_INLINE double fa__exp_neg_parts_core_d(double z, double mzl, double *s2, int checked)
{
    double n = fa_fma_d(z, FA_D_LOG2E, FA_D_MAGIC) - FA_D_MAGIC;
    if (checked)
        n = n < -1076.0 ? -1076.0 : n;                         /* clamp n, not z: see the float version */
    double m1 = fa_fma_d(n, 0.5, FA_D_MAGIC_B);
    double n1 = m1 - FA_D_MAGIC_B;
    double m2 = (n - n1) + FA_D_MAGIC_B;
    double sc1 = fa_u2d(fa_d2u(m1) << 52);
    double sc2 = fa_u2d(fa_d2u(m2) << 52);
    double t = fa_fma_d(n, -FA_D_LN2_HI, z);
    t = fa_fma_d(n, -FA_D_LN2_LO, t);
    t = t - mzl;
    double p = fa_expm1_poly_d(t);
    double q = fa_fma_d(p, t, t);
    double a = fa_fma_d(q, sc1, sc1);
    *s2 = sc2;
    return checked && z < FA_D_EXP_LO ? 0.0 : a;
}

FA_INLINE double fa_exp_neg_parts_d(double z, double *s2)
{
    return fa__exp_neg_parts_core_d(z, 0.0, s2, 1);
}

/* exp(-|x|) as a * (*s2) like the float version, also cheaper than the
 * checked exp: *z = max(-|x|, -752) (NaN -> NaN) by setting the sign bit
 * and one clamp, then the unchecked core.  Below -746, a * s2 rounds to 0
 * like exp(-|x|), and so does z * a * s2 (752 e^-752 < 2^-1075). */
#define FA_D_NABS_LO (-752.0)
FA_INLINE double fa_exp_nabs_z_parts_d(double x, double *s2, double *z)
{
    double zc = fa_u2d(fa_d2u(x) | 0x8000000000000000ull);
    zc = zc < FA_D_NABS_LO ? FA_D_NABS_LO : zc;
    *z = zc;
    return fa__exp_neg_parts_core_d(zc, 0.0, s2, 0);
}
FA_INLINE double fa_exp_nabs_parts_d(double x, double *s2)
{
#if defined(__AVX512F__)
    /* AVX-512 makes the checked exp's clamp and select masked operations,
     * which makes it the faster form there; elsewhere the form below is */
    return fa_exp_neg_parts_d(-fa_abs_d(x), s2);
#else
    double z;
    return fa_exp_nabs_z_parts_d(x, s2, &z);
#endif
}

FA_INLINE double fa_exp_neg_lo_parts_d(double z, double zl, double *s2)
{
    return fa__exp_neg_parts_core_d(z, -zl, s2, 1);
}

FA_INLINE double fa_exp_neg_d(double z)
{
    double s2;
    double a = fa_exp_neg_parts_d(z, &s2);
    return a * s2;
}

/* exp(-|x|) */
FA_INLINE double fa_exp_nabs_d(double x)
{
    double s2;
    double a = fa_exp_nabs_parts_d(x, &s2);
    return a * s2;
}

FA_INLINE double fa_expm1_neg_d(double z)
{
    double zc = z < FA_D_EXPM1_LO ? FA_D_EXPM1_LO : z;
    double nb = fa_fma_d(zc, FA_D_LOG2E, FA_D_MAGIC_B);
    double n = nb - FA_D_MAGIC_B;
    double s = fa_u2d(fa_d2u(nb) << 52);
    double t = fa_fma_d(n, -FA_D_LN2_HI, zc);
    t = fa_fma_d(n, -FA_D_LN2_LO, t);
    double p = fa_expm1_poly_d(t);
    double ts = t * s;
    double sm1 = s - 1.0;
    double y = fa_fma_d(p, ts, ts);
    y = y + sm1;
    return z == 0.0 ? z : y;
}

/* log1p(u), u in [0,1]: same reduction as the float version, then fdlibm
 * log1p core: s = f/(2+f), R(s^2) with Lg1..Lg7 (< 1 ULP). */
FA_INLINE double fa_log1p_01_d(double u)
{
    int big = u > 0x1.a827999fcef32p-2;             /* 1+u > sqrt(2) */
    double a = 0.5 * u;
    double fh1 = a - 0.5;
    double fl1 = a - (fh1 + 0.5);
    double f = big ? fh1 : u;
    double fl = big ? fl1 : 0.0;
    double k = big ? 1.0 : 0.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double R = t2 + t1;
    double hfsq = 0.5 * f * f;
    double corr = fa_fma_d(fl, 1.0 - f, k * FA_D_LN2_LO);
    return fa_fma_d(k, FA_D_LN2_HI, ((f - (hfsq - (s * (hfsq + R) + corr)))));
}

/* log(s) for s >= 1 (a softmax row sum), NaN -> NaN: s = 2^k m, m in
 * [1, 2), log1p(m - 1) + k ln2 (< 1.5 ULP).  Vectorizes, unlike log(): the
 * log_softmax of many short columns needs one per column.  k is read as a
 * double from the exponent bits with the 2^52 trick (no int64 -> double
 * conversion, which AVX2 lacks). */
FA_INLINE double fa_log_ge1_d(double s)
{
    uint64_t u = fa_d2u(s);
    double m = fa_u2d((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    double k = fa_u2d(0x4330000000000000ull | (u >> 52)) - (0x1p52 + 1023.0);
    double r = fa_fma_d(k, FA_D_LN2_HI, fa_fma_d(k, FA_D_LN2_LO, fa_log1p_01_d(m - 1.0)));
    return s == s ? r : s;
}

FA_INLINE double fa_twoprod_d(double a, double b, double *lo)
{
    double h = a * b;
#if FA_HAVE_FMA
    *lo = fma(a, b, -h);
#else
    double ca = 134217729.0 * a, cb = 134217729.0 * b;
    double ah = ca - (ca - a), al = a - ah;
    double bh = cb - (cb - b), bl = b - bh;
    *lo = ((ah * bh - h) + ah * bl + al * bh) + al * bl;
#endif
    return h;
}

/* hi + lo == a + b exactly (Knuth TwoSum, no magnitude precondition). */
FA_INLINE double fa_twosum_d(double a, double b, double *lo)
{
    double s = a + b;
    double bb = s - a;
    *lo = (a - (s - bb)) + (b - bb);
    return s;
}

#endif /* FA_MATH_H */
