/* formulas/silu_mish.h: silu, swish (x * sigmoid(beta x)), mish.
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= silu / swish (p0=beta > 0) ======================= */
/* NaN x: x itself, by the select (FA_NAN_EXACT_KERNELS) */
FA_INLINE T FA_F(fa_silu_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T r = FA_F(fa__silu)(x);
    return x != x ? x : r;
}
FA_INLINE T FA_F(fa_silu_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return g * FA_F(fa__silu_d)(x);
}
FA_INLINE T FA_F(fa_swish_fwd)(T x, T beta, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    return FA_F(fa__x_sigmoid)(x, beta);
}
FA_INLINE T FA_F(fa_swish_bwd)(T g, T x, T beta, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    return g * FA_F(fa__x_sigmoid_d)(x, beta);
}

/* ======================= mish ======================= */
/* t = tanh(softplus(x)) with e = exp(-|x|):
 *   x <= 0: n = e(e+2), t = n/(n+2);   x > 0: t = (1+2e)/(1+2e+2e^2). */
FA_INLINE T FA_F(fa_mish_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T s2;
#if FA_IS_DOUBLE
    T a = FA_F(fa_exp_neg_parts)(-FA_F(fa_abs)(x), &s2);   /* 0 below -746: x * a must vanish */
    T xm = FA_F(fa_maxneg)(x, -FA__MAXV);
#else
    /* as silu: z = max(-|x|, -110) stands in for x where x <= 0 (below, the
     * product rounds to -0); the arms by x's sign bit (no compare): +0
     * stays +0, -0 gives -0 * a e2 s2 = -0.  The clamp may drop a NaN,
     * which is selected last (FA_NAN_EXACT_KERNELS). */
    T xm;
    T a = fa_exp_nabs_z_parts_nn_f(x, &s2, &xm);
#endif
    T e = a * s2;
    T e2 = e + (T)2;
    T u = (T)1 + (e + e);
#if FA_IS_DOUBLE || !defined(__AVX512F__)
    /* SSE2/AVX2: the float compare; the integer one cost SSE2 5% here */
    T num = x >= 0 ? x * u : (xm * (a * e2)) * s2;
    T den = x >= 0 ? u + (T)2 * (e * e) : e * e2 + (T)2;
#else
    T num = fa_ifneg_f(x, (xm * (a * e2)) * s2, x * u);
    T den = fa_ifneg_f(x, e * e2 + (T)2, u + (T)2 * (e * e));
#endif
    T r = num / den;
    return x != x ? x : r;
}
/* mish' = t + x sigma(x) (1 - t^2):
 *   x <= 0: e((e+2)D + 4x(1+e)) / D^2,      D = e(e+2) + 2
 *   x > 0 : ((1+2e)D + 4x e^2 (1+e)) / D^2,  D = 1 + 2e + 2e^2 */
FA_INLINE T FA_F(fa_mish_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T s2;
#if FA_IS_DOUBLE
    T a = FA_F(fa_exp_neg_parts)(-FA_F(fa_abs)(x), &s2);
    T xc = x < -FA__BIGX ? -FA__BIGX : (x > FA__BIGX ? FA__BIGX : x);
    T x4 = (T)4 * xc, x4p = x4;
#else
    /* z = max(-|x|, -110) for the clamped x: x on [-110, 0], and -z =
     * min(x, 110) for x > 0, where e^2 = 0 already (no +-BIGX clamps) */
    T z;
    T a = fa_exp_nabs_z_parts_f(x, &s2, &z);
    T x4 = (T)4 * z, x4p = -x4;
#endif
    T e = a * s2;
    T e2 = e + (T)2, e1 = (T)1 + e;
    T u = (T)1 + (e + e);
    T Dn = FA_F(fa_fma)(e, e2, (T)2);
    T Dp = u + (T)2 * (e * e);
    /* x <= 0: (e+2)(e^2+2e+2) + 4x(1+e) as a polynomial in e, Horner form
     * e^3 + 4e^2 + (6+4x)e + (4+4x): the constant 4+4x dominates, so the
     * cancellation between the two products (factor ~2.5 near x = -1.8,
     * 8.9 ULP) no longer amplifies their rounding */
    T Pn = ((e + (T)4) * e + ((T)6 + x4)) * e + ((T)4 + x4);
    T numn = (a * Pn) * s2;
    T nump = FA_F(fa_fma)(u, Dp, x4p * ((e * e) * e1));
    T D = x > 0 ? Dp : Dn;
    T num = x > 0 ? nump : numn;
    return g * (num / (D * D));
}
