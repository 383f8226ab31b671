/* formulas/sigmoid_tanh.h: sigmoid, tanh, softplus, log_sigmoid.
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= sigmoid ======================= */
/* NaN x: x itself, by the select (FA_NAN_EXACT_KERNELS) */
FA_INLINE T FA_F(fa_sigmoid_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T r = FA_F(fa__sigmoid)(x);
    return x != x ? x : r;
}
/* sigma'(x) = e/(1+e)^2, e = exp(-|x|) (no cancellation in either tail) */
FA_INLINE T FA_F(fa_sigmoid_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T e = FA_F(fa_exp_nabs)(x);
    T D = (T)1 + e;
    return g * (e / (D * D));
}
/* from y: y(1-y); loses relative accuracy as y -> 1 (x >> 0): absolute error
 * ~ ulp(1)*y, e.g. sigma'(20) from y is 0 in float. */
FA_INLINE T FA_F(fa_sigmoid_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return g * (y * ((T)1 - y));
}

/* ======================= tanh ======================= */
#if !FA_IS_DOUBLE
/* expm1(-2a) for a = |x|, clamped at 9.5 (-1 exactly from 9.5 on; a NaN a
 * is clamped too, so callers pass a NaN x on themselves): tanh's, with fewer operations than fa__expm1_neg_core_f.  As
 * s*expm1(-2v) + (s - 1) with s = 2^n, n = round(-2a/ln2), v = a + n*ln2/2;
 * the factor 2 is folded into the constants (powers of 2: same roundings as
 * for -2a), v is the negated argument so that |x| feeds the reduction
 * directly.  With FMA one ln2 constant: its error (n*2^-29) only matters
 * where e^-2a << 1. */
FA_INLINE float fa__expm1_m2a_f(float a)
{
    a = fa_minpos_f(a, 9.5f);
    float nb = fa_fma_f(a, -2.0f * FA_F_LOG2E, FA_F_MAGIC_B + 1.0f); /* n + 128 in the low bits */
    float n = nb - (FA_F_MAGIC_B + 1.0f);
    float s2 = fa_u2f(fa_f2u(nb) << 23);                       /* 2^(n+1), n in [-28, 0] */
#if FA_HAVE_FMA
    float v = fa_fma_f(n, 0.5f * 0x1.62E430p-1f, a);
#else
    float v = fa_fma_f(n, 0.5f * FA_F_LN2_HI, a);              /* exact */
    v = fa_fma_f(n, 0.5f * FA_F_LN2_LO, v);
#endif
    /* fa_expm1_poly_f's coefficients, scaled for the argument t = -2v */
    float g = 32.0f * 0x1.6b7338p-10f;
    g = fa_fma_f(g, v, -16.0f * 0x1.12278Ep-7f);
    g = fa_fma_f(g, v, 8.0f * 0x1.555716p-5f);
    g = fa_fma_f(g, v, -4.0f * 0x1.5554B0p-3f);
    g = fa_fma_f(g, v, 2.0f * 0x1.FFFFFEp-2f);
    /* v^2 plus 2^-100: never a subnormal product (for |v| < 2^-63 it would
     * be one, and x86 cores take a microcode assist on every such result,
     * 20x the loop's time); 2^-100 is below half an ulp of v^2 wherever a
     * caller uses the result (tanh: |x| >= 2^-12, tanhshrink: |x| >= 2) */
    float w = fa_fma_f(v, v, 0x1p-100f);
    float nqh = fa_fma_f(-w, g, v);                            /* -expm1(-2v)/2 */
    float sm1 = fa_fma_f(s2, 0.5f, -1.0f);                     /* s - 1 */
    return fa_fma_f(-s2, nqh, sm1);
}
/* r with the sign of x: (r ^ x) & M ^ x is one vpternlogd */
FA_INLINE float fa__sign_of_f(float r, float x)
{
    uint32_t ur = fa_f2u(r), ux = fa_f2u(x);
    return fa_u2f(((ur ^ ux) & 0x7fffffffu) ^ ux);
}
/* fa__tanh_f with fewer operations (bench/ulp exhaustive: 2.50 ULP, FMA and
 * SSE2); a NaN x gives garbage (the clamp drops it) */
FA_INLINE float fa__tanh_fwd_f(float x)
{
    float m = fa__expm1_m2a_f(fa_abs_f(x));                   /* expm1(-2a) <= 0 or +0 */
    return fa__sign_of_f(m / (m + 2.0f), x);
}
#endif
/* NaN x: x itself, by the select (FA_NAN_EXACT_KERNELS): the float clamp is
 * an integer min that drops a NaN, one compare less per vector than a
 * NaN-passing clamp followed by the loop's NaN select */
FA_INLINE T FA_F(fa_tanh_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if FA_IS_DOUBLE
    T r = FA_F(fa__tanh)(x);
    return x != x ? x : r;
#else
    /* |x| < 2^-12: tanh(x) = x - x^3/3 rounds to x, which is returned as
     * is (the formula there is only kept free of subnormal intermediates);
     * a NaN fails the compare too and returns itself, so this is the select
     * the NaN rule needs anyway */
    T r = fa__tanh_fwd_f(x);
    return fa_abs_f(x) >= 0x1p-12f ? r : x;
#endif
}
/* sech^2(x) = 4e/(1+e)^2, e = exp(-2|x|).  exp_nabs (float: 4e rounds to 0
 * where it stops at exp(-110)) saves the checked exp's clamp and select,
 * except with AVX-512, where those are masked operations and the checked
 * form is the faster one. */
FA_INLINE T FA_F(fa_tanh_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if defined(__AVX512F__)
    T ax = FA_F(fa_abs)(x);
    T e = FA_F(fa_exp_neg)(-(ax + ax));
#else
    T e = FA_F(fa_exp_nabs)(x + x);
#endif
    T D = (T)1 + e;
    return g * (((T)4 * e) / (D * D));
}
/* from y: 1 - y^2 as fma(-y, y, 1), rounded once; absolute error ~ulp(1)
 * as |y| -> 1 (tanh'(10) -> 0 in float).  y reaches the loop as one
 * operand: (1-y)(1+y) had GCC fold y's load into both operations, two
 * loads of each vector, which cost a third more in place when y is not
 * aligned like the output (each load splits a cache line).  Without FMA,
 * (1-y)(1+y): 1 - y*y rounded twice would cancel as |y| -> 1. */
FA_INLINE T FA_F(fa_tanh_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if FA_HAVE_FMA
    return g * FA_F(fa_fma)(-y, y, (T)1);
#else
    return g * (((T)1 - y) * ((T)1 + y));
#endif
}

/* ======================= softplus (p0=beta > 0, p1=threshold) ======================= */
FA_INLINE T FA_F(fa_softplus_fwd)(T x, T beta, T thr, T p2, T p3)
{
    (void)p2; (void)p3;
    T bx, s2;
    T e = FA_F(fa__exp_neg_prod)(beta, x, &s2, &bx) * s2;
    /* max(beta*x, 0)/beta is x itself for x > 0: no overflow of beta*x for
     * huge x (threshold=inf), one rounding less; identical bits for beta = 1 */
    T r = (bx > 0 ? x : (T)0) + FA__LOG1P_E(e) / beta;
    return bx > thr ? x : r;
}
FA_INLINE T FA_F(fa_softplus_bwd)(T g, T x, T beta, T thr, T p2, T p3)
{
    (void)p2; (void)p3;
    T bx;
    T s = FA_F(fa__sigmoid_prod)(beta, x, &bx);
    return bx > thr ? g : g * s;
}
/* sigma(beta x) = 1 - exp(-beta y) = -expm1(-beta y): well conditioned in y
 * (relative error ~ that of y).  The linear region is detected as beta*y > thr,
 * which can differ from beta*x > thr by ~exp(-thr) just below the threshold
 * (factor 1 instead of 1-exp(-thr)). */
FA_INLINE T FA_F(fa_softplus_bwdy)(T g, T y, T beta, T thr, T p2, T p3)
{
    (void)p2; (void)p3;
    T by = beta * y;
    T s = -FA_F(fa_expm1_neg)(-by);
    return by > thr ? g : g * s;
}

/* ======================= log_sigmoid ======================= */
/* float: the exp's clamp and the arm on the bits (no compare; -0 takes the
 * x arm, -0 - l = 0 - l), so a NaN x is selected last (FA_NAN_EXACT_KERNELS) */
FA_INLINE T FA_F(fa_log_sigmoid_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if FA_IS_DOUBLE
    T e = FA_F(fa_exp_nabs)(x);
    T r = (x < 0 ? x : (T)0) - FA__LOG1P_E(e);
#else
    T s2, z;
    T e = fa_exp_nabs_z_parts_nn_f(x, &s2, &z) * s2;
    T r = fa_ifneg_f(x, x, 0.0f) - FA__LOG1P_E(e);
#endif
    return x != x ? x : r;
}
/* d/dx = sigma(-x) */
FA_INLINE T FA_F(fa_log_sigmoid_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T e = FA_F(fa_exp_nabs)(x);
    return g * ((x > 0 ? e : (T)1) / ((T)1 + e));
}
/* sigma(-x) = 1 - exp(y) = -expm1(y), y <= 0: well conditioned */
FA_INLINE T FA_F(fa_log_sigmoid_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return g * -FA_F(fa_expm1_neg)(y);
}
