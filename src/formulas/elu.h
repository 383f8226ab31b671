/* formulas/elu.h: elu, selu, celu (alpha > 0) and celu_neg (alpha < 0).
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= elu (p0=alpha) ======================= */
/* float: m from fa__expm1_nabs_f (no compare in the clamp), so a NaN x
 * is selected last (FA_NAN_EXACT_KERNELS; double: m is NaN, the select
 * keeps the bits) */
FA_INLINE T FA_F(fa_elu_fwd)(T x, T alpha, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
#if FA_IS_DOUBLE
    T z = x > 0 ? (T)0 : x;
    T m = FA_F(fa_expm1_neg)(z);
#else
    T m = fa__expm1_nabs_f(x);
#endif
    T r = x > 0 ? x : alpha * m;
    return x != x ? x : r;
}
/* e = exp(-|x|) is exp(x) where it is used (x <= 0); the cheaper form's e
 * is 0 below -104 (float) / -746 (double) like the checked exp's, so
 * alpha * e is too, whatever alpha */
FA_INLINE T FA_F(fa_elu_bwd)(T g, T x, T alpha, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    T e = FA_F(fa_exp_nabs)(x);
    return x > 0 ? g : g * (alpha * e);
}
/* valid for alpha >= 0; y + alpha loses relative accuracy for x << 0
 * (absolute error ~ulp(alpha)). */
FA_INLINE T FA_F(fa_elu_bwdy)(T g, T y, T alpha, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    return y > 0 ? g : g * (y + alpha);
}

/* ============ selu (p0=scale, p1=scale*alpha, rounded once) ============
 * The defaults (fastact/_table.py) pass the product of the exact SELU
 * constants, 0x1.c212cc640f031p+0: one ulp above the product of their
 * float64 roundings. */
/* m and the NaN select as in fa_elu_fwd */
FA_INLINE T FA_F(fa_selu_fwd)(T x, T l, T la, T p2, T p3)
{
    (void)p2; (void)p3;
#if FA_IS_DOUBLE
    T z = x > 0 ? (T)0 : x;
    T m = FA_F(fa_expm1_neg)(z);
#else
    T m = fa__expm1_nabs_f(x);
#endif
    T r = x > 0 ? l * x : la * m;
    return x != x ? x : r;
}
/* e = exp(-|x|) as in fa_elu_bwd */
FA_INLINE T FA_F(fa_selu_bwd)(T g, T x, T l, T la, T p2, T p3)
{
    (void)p2; (void)p3;
    T e = FA_F(fa_exp_nabs)(x);
    return x > 0 ? g * l : g * (la * e);
}
/* valid for alpha >= 0 and scale > 1/2: y > 0 exactly when x > 0 (a
 * smaller scale rounds scale*x to 0 for the smallest subnormal x) */
FA_INLINE T FA_F(fa_selu_bwdy)(T g, T y, T l, T la, T p2, T p3)
{
    (void)p2; (void)p3;
    return y > 0 ? g * l : g * (y + la);
}

/* ======================= celu (p0=alpha, p1=1/alpha) ======================= */
FA_INLINE T FA_F(fa_celu_fwd)(T x, T alpha, T inv_alpha, T p2, T p3)
{
    (void)p2; (void)p3;
    T zl;
    T zh = FA_F(fa__div_hl)(x > 0 ? (T)0 : x, alpha, inv_alpha, &zl);
    T m = FA_F(fa_expm1_neg)(zh);
    m = m + ((T)1 + m) * zl;               /* expm1(zh + zl) */
    m = x == 0 ? x : m;                    /* keep celu(-0) = -0 */
    return x > 0 ? x : alpha * m;
}
FA_INLINE T FA_F(fa_celu_bwd)(T g, T x, T alpha, T inv_alpha, T p2, T p3)
{
    (void)p2; (void)p3;
    T zl, s2;
    T zh = FA_F(fa__div_hl)(x > 0 ? (T)0 : x, alpha, inv_alpha, &zl);
    T a = FA_F(fa_exp_neg_parts)(zh, &s2);
    T e = (a + a * zl) * s2;
    return x > 0 ? g : g * e;
}
FA_INLINE T FA_F(fa_celu_bwdy)(T g, T y, T alpha, T inv_alpha, T p2, T p3)
{
    (void)alpha; (void)p2; (void)p3;
    return y > 0 ? g : g * (y * inv_alpha + (T)1);
}

/* ============== celu_neg (p0=alpha < 0, p1=1/alpha): PyTorch accepts alpha < 0 ==============
 * For x <= 0, z = x/alpha >= 0 and celu = alpha*expm1(z), whose derivative is
 * exp(z), with z = zh + zl (zl the residual of the division), to first order
 * in zl:
 *   zh <= FA__CN_ZMAX: expm1(z) = y + (1 + y)*zl, y = expm1(zh) from
 *     fa_expm1_neg, whose reduction z = n ln2 + t holds for 0 <= z <= 40
 *     too (2^n normal).  Taking expm1(+zh) directly, not -m/(1 + m) from
 *     m = expm1(-zh), keeps the error within 3 ULP (the quotient form reached
 *     3.5 at alpha = -1.7);
 *   beyond, where exp(-zh) is below half an ulp and expm1 is exp:
 *     exp(z) = (1 + zl)/e, e = exp(-zh) = a*s2 (exact power-of-2 scale s2,
 *     so the quotient overflows to inf instead of dividing by a flushed
 *     subnormal).  Dividing by s2 before a keeps tiny results normal; alpha
 *     (g) enters before the division by a so an intermediate overflows only
 *     where the result does.
 * celu(+-0) = +-0; NaN fails zh <= FA__CN_ZMAX and takes the exp form. */
FA_INLINE T FA_F(fa_celu_neg_fwd)(T x, T alpha, T inv_alpha, T p2, T p3)
{
    (void)p2; (void)p3;
    T zl, s2;
    T zh = FA_F(fa__div_hl)(x > 0 ? (T)0 : x, alpha, inv_alpha, &zl);
    T y = FA_F(fa_expm1_neg)(zh < FA__CN_ZMAX ? zh : FA__CN_ZMAX);
    T rs = alpha * FA_F(fa_fma)(y + (T)1, zl, y);
    T a = FA_F(fa_exp_neg_parts)(-zh, &s2);
    T rb = ((alpha * ((T)1 + zl)) / s2) / a;
    T r = zh <= FA__CN_ZMAX ? rs : rb;
    return x > 0 ? x : (x == 0 ? x : r);
}
FA_INLINE T FA_F(fa_celu_neg_bwd)(T g, T x, T alpha, T inv_alpha, T p2, T p3)
{
    (void)p2; (void)p3;
    T zl, s2;
    T zh = FA_F(fa__div_hl)(x > 0 ? (T)0 : x, alpha, inv_alpha, &zl);
    T a = FA_F(fa_exp_neg_parts)(-zh, &s2);
    T ge = ((g * ((T)1 + zl)) / s2) / a;   /* g first: overflow only if the result does */
    return x > 0 ? g : ge;
}
/* exp(x/alpha) = y/alpha + 1 for x <= 0, and y <= 0 exactly there */
FA_INLINE T FA_F(fa_celu_neg_bwdy)(T g, T y, T alpha, T inv_alpha, T p2, T p3)
{
    (void)alpha; (void)p2; (void)p3;
    return y > 0 ? g : g * (y * inv_alpha + (T)1);
}
