/* formulas/gelu.h: gelu with the tanh approximation and the exact (erf) gelu.
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */
#include "ranged.h"

/* ======================= gelu (tanh approximation) ======================= */
/* 0.5x(1+tanh(v)) == x * sigmoid(w), w = 2v (no cancellation).
 * double: x is not clamped before z: a clamp select there makes GCC
 * specialize every later operation for the constant arm (a dozen extra
 * blends per vector); huge |x| give z = -inf or garbage zl, which exp's
 * z < -746 select zeroes.  float clamps |x| on its bits instead (below). */
#if !FA_IS_DOUBLE
/* float: a = min(|x|, 10.8125) by fa_minpos_f (NaN becomes 10.8125 there
 * and returns through the x arm of the final select): below
 * -10.8 gelu_tanh(x) < 2^-150 rounds to -0, above 10.8 to x, and the bound
 * keeps z = -a s >= -108, so the exp needs no range check.  With FMA, -s =
 * -(c1 + c2 a^2) is a float pair from one FMA: c1h lies on the 2^-20 grid,
 * which makes c1h - sh exact for every sh in [1.59, 9.94] (Sterbenz up to
 * 3.19, beyond both are multiples of ulp(sh) and the difference has at most
 * 24 bits), and the FMA's rounding error is fma(c2h, a^2, c1h - sh) to 2^-48.
 * The reduction t = a s - n ln2 takes a*sh exactly inside one FMA and adds
 * the small terms once, so z is never formed as a pair (n comes from the
 * rounded a*sh).  Without FMA, z comes from double arithmetic.  The exp's
 * scale is 2^(n+64) (normal for z >= -131); the x < 0 arm multiplies by
 * -2^-64 last, so results near the underflow threshold are rounded once. */
/* exp(z) 2^64 for z = -a s(a), 0 <= a <= 11.5 (z >= -127) */
FA_INLINE float fa__gelut_ea_f(float a)
{
#if FA_HAVE_FMA
    const float c1h = -0x1.98845p+0f, c1l = -0x1.9ea1b2p-23f;   /* -2 sqrt(2/pi) */
    const float c2h = -0x1.2444f2p-4f, c2l = -0x1.49b16ap-29f;  /* -c1 * 0.044715 */
    float x2h = a * a;
    float x2l = fmaf(a, a, -x2h);
    float sh = fmaf(c2h, x2h, c1h);                             /* -s, rounded once */
    float d = c1h - sh;                                         /* exact */
    float sl = fmaf(c2h, x2h, d) + fmaf(c2h, x2l, fmaf(c2l, x2h, c1l));
    float zh = a * sh;
    float nb = fmaf(zh, FA_F_LOG2E, FA_F_MAGIC_B + 64.0f);     /* n + 191 in the low bits */
    float n = nb - (FA_F_MAGIC_B + 64.0f);
    /* n ln2hi is exact; two roundings, as for the pair z */
    float t = fmaf(a, sh, n * -FA_F_LN2_HI) + fmaf(a, sl, n * -FA_F_LN2_LO);
#else
    double ad = (double)a;
    double z = ad * (-0x1.9884533d43651p+0 + -0x1.2444f2a4d8b4bp-4 * (ad * ad));
    float zh = (float)z;
    float zl = (float)(z - (double)zh);
    float nb = zh * FA_F_LOG2E + (FA_F_MAGIC_B + 64.0f);
    float n = nb - (FA_F_MAGIC_B + 64.0f);
    float t = n * -FA_F_LN2_HI + zh;                            /* exact */
    t = n * -FA_F_LN2_LO + t;
    t = t + zl;
#endif
    float sc = fa_u2f(fa_f2u(nb) << 23);                        /* 2^(n+64) */
    float p = fa_expm1_poly_f(t);
    return fa_fma_f(fa_fma_f(p, t, t), sc, sc);
}

FA_INLINE float fa__gelu_tanh_fwd_f(float x)
{
    const float a = fa_minpos_f(fa_abs_f(x), 10.8125f);
    float ea = fa__gelut_ea_f(fa_maxpos_f(a, FA_F_TINY));       /* exp(z) 2^64 */
    /* the arm by x's sign bit (no compare): +0 and -0 return themselves;
     * a NaN x becomes 10.8125 in a: the caller selects x for it */
    float num = fa_ifneg_f(x, (a * ea) * -0x1p-64f, x);
    return num / fa_fma_f(ea, 0x1p-64f, 1.0f);
}

/* d = s(w) (1 + x w' s(-w)) = num / D^2 with e = exp(-|w|) = ea 2^-64 from
 * fa__gelut_ea_f, D = 1 + e, S = w' = 2k(1 + 3*0.044715 x^2).  |x|
 * is clamped at 11.5 by fa_minpos_f for the exp (below -11.5 the result
 * rounds to -0, above 11.5 to g; a NaN becomes 11.5 there and reaches the
 * result through xa, which the compare-and-select clamp passes).  The x <= 0
 * arm scales by 2^-64 last, so results near the underflow threshold are
 * rounded there once. */
FA_INLINE float fa__gelu_tanh_bwd_f(float g, float x)
{
    /* |x| raised to FA_F_TINY, where the derivative is 1/2 either way */
    float xa = fa_maxpos_f(fa_abs_f(x), FA_F_TINY);
    const float ea = fa__gelut_ea_f(fa_minpos_f(xa, 11.5f));
    const float D = fa_fma_f(ea, 0x1p-64f, 1.0f);
    xa = xa > FA__GT_XMAX ? FA__GT_XMAX : xa;
    const float S = fa_fma_f((float)0x1.b6676bf7450f0p-3, xa * xa, (float)0x1.9884533d43651p+0);
    const float num = x > 0 ? fa_fma_f((xa * S) * 0x1p-64f, ea, D)
                            : (ea * fa_fma_f(-xa, S, D)) * 0x1p-64f;
    return g * (num / (D * D));
}
#endif
/* NaN x: x itself, by the select (FA_NAN_EXACT_KERNELS) */
FA_INLINE T FA_F(fa_gelu_tanh_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if !FA_IS_DOUBLE
    T r = fa__gelu_tanh_fwd_f(x);
#else
    T zl, s2;
    /* z(x) = z(|x|), from |x| raised to FA_D_TINY (exp(z) is 1 there either
     * way): the pair's small terms would be subnormal below it */
    T zh = FA_F(fa__gelut_z)(fa_maxpos_d(FA_F(fa_abs)(x), FA_D_TINY), &zl);
    T a = FA_F(fa_exp_neg_lo_parts)(zh, zl, &s2);
    T xm = FA_F(fa_maxneg)(x, -FA__MAXV);          /* -inf * 0 would be NaN */
    T num = x > 0 ? x : (xm * a) * s2;
    T r = num / FA_F(fa_fma)(a, s2, (T)1);
#endif
    return x != x ? x : r;
}
/* d = s(w) (1 + x w' s(-w)),  w' = 2k(1 + 3*0.044715 x^2) */
FA_INLINE T FA_F(fa_gelu_tanh_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if !FA_IS_DOUBLE
    return fa__gelu_tanh_bwd_f(g, x);
#else
    T zl, s2;
    /* |x| raised to FA_D_TINY, where the derivative is 1/2 either way */
    T xa = fa_maxpos_d(FA_F(fa_abs)(x), FA_D_TINY);
    T zh = FA_F(fa__gelut_z)(xa, &zl);
    T a = FA_F(fa_exp_neg_lo_parts)(zh, zl, &s2);
    T e = a * s2;
    T D = (T)1 + e;
    xa = xa > FA__GT_XMAX ? FA__GT_XMAX : xa;      /* x w' finite (it meets e = 0) */
    T S = FA_F(fa_fma)((T)0x1.b6676bf7450f0p-3, xa * xa, (T)0x1.9884533d43651p+0);
    /* x <= 0: D + x S cancels (by ~2x near x = -1.2): one rounding, not two */
    T num = x > 0 ? FA_F(fa_fma)(xa * S, e, D) : (a * FA_F(fa_fma)(-xa, S, D)) * s2;
    return g * (num / (D * D));
#endif
}

/* ======================= gelu (erf, exact) ======================= */
/* y = x Phi(x):  x <= 0: x Q(a);  x > 0: x - x Q(a);  a = |x|, Q = upper
 * normal tail, Q(a) = E(a) R(a), E = exp(-a^2/2) with a^2 taken exactly.
 * Phi(x) + x phi(x) (backward):  x <= 0: E (R - a c0);  x > 0: 1 - E (R - a c0),
 * c0 = 1/sqrt(2 pi). */
#if FA_IS_DOUBLE
/* double: a <= 6: R = P/Qd, relative minimax (8,9) on [0,6] (5.9e-19);
 *         a > 6 : a R(a) = c0 h(a), h = 1 - w S(w), w = 1/a^2, S = degree-13
 *         interpolant on [1/38.7^2, 1/36] (|w dS| < 1.2e-18): Horner in the
 *         small w damps the rounding errors a high-degree rational in a
 *         collects at large a (bench/ulp/fit/gelu_split.py).
 *         One division serves both: (num, den) = big ? (1, a^2) : (P, Qd).
 *         exp(-a^2/2) is kept as sc1*sc2*(1+q) and folded as fma(f, q, f). */
FA_INLINE double fa__gelue_P_d(double a)
{
    double p = 0x1.a342f476ad928p-19;
    p = FA_F(fa_fma)(p, a, 0x1.63f559c4a6cbfp-14);
    p = FA_F(fa_fma)(p, a, 0x1.1e5312ef5faa7p-10);
    p = FA_F(fa_fma)(p, a, 0x1.1b30194355dbfp-7);
    p = FA_F(fa_fma)(p, a, 0x1.77da53222ed45p-5);
    p = FA_F(fa_fma)(p, a, 0x1.574e1a693f2f5p-3);
    p = FA_F(fa_fma)(p, a, 0x1.a862d2f90b340p-2);
    p = FA_F(fa_fma)(p, a, 0x1.494cf5e174c59p-1);
    p = FA_F(fa_fma)(p, a, 0x1.0000000000000p-1);
    return p;
}
FA_INLINE double fa__gelue_Q_d(double a)
{
    double q = 0x1.06bbb230d8325p-17;
    q = FA_F(fa_fma)(q, a, 0x1.be20b720171bep-13);
    q = FA_F(fa_fma)(q, a, 0x1.67e1719a0c4a6p-9);
    q = FA_F(fa_fma)(q, a, 0x1.6668cc1cb8e1ap-6);
    q = FA_F(fa_fma)(q, a, 0x1.e2358e4a413d6p-4);
    q = FA_F(fa_fma)(q, a, 0x1.c40633ee31955p-2);
    q = FA_F(fa_fma)(q, a, 0x1.25fbc34927902p+0);
    q = FA_F(fa_fma)(q, a, 0x1.fde95c3b41ea0p+0);
    q = FA_F(fa_fma)(q, a, 0x1.0ac78fc00b3c1p+1);
    q = FA_F(fa_fma)(q, a, 0x1.0000000000000p+0);
    return q;
}
/* S(w) (c0 = 0: h = 1 - w S) or c0 S(w) (c0 = 1) */
FA_INLINE double fa__gelue_S_d(double w, int c0)
{
    double p = c0 ? -0x1.4b1597025d6eep+40 : -0x1.9ef3e2b961844p+41;
    p = fa_fma_d(p, w, (c0 ? 0x1.464c5f4bfd9f0p+38 : 0x1.98f44d95e639ap+39));
    p = fa_fma_d(p, w, (c0 ? -0x1.399e7378227ecp+35 : -0x1.891024e63d7b0p+36));
    p = fa_fma_d(p, w, (c0 ? 0x1.9622b3a49a33ep+31 : 0x1.fd03f349d4668p+32));
    p = fa_fma_d(p, w, (c0 ? -0x1.a55fff2b27e0cp+27 : -0x1.080ebfd07cf5fp+29));
    p = fa_fma_d(p, w, (c0 ? 0x1.9165156a4b371p+23 : 0x1.f712e7d8cc412p+24));
    p = fa_fma_d(p, w, (c0 ? -0x1.87a95735a6759p+19 : -0x1.eadff80c1e86ep+20));
    p = fa_fma_d(p, w, (c0 ? 0x1.a4c4e6bc5f38ap+15 : 0x1.07ad8ec03f65bp+17));
    p = fa_fma_d(p, w, (c0 ? -0x1.032b43b97c7e7p+12 : -0x1.44d1f6f2178fdp+13));
    p = fa_fma_d(p, w, (c0 ? 0x1.78ffd0752e609p+8 : 0x1.d87f9f0b3bfb8p+9));
    p = fa_fma_d(p, w, (c0 ? -0x1.4f1c8ab47a0adp+5 : -0x1.a3fffe05f05fap+6));
    p = fa_fma_d(p, w, (c0 ? 0x1.7efc0e0481930p+2 : 0x1.dffffff9d2cf0p+3));
    p = fa_fma_d(p, w, (c0 ? -0x1.32633e6dee88ap+0 : -0x1.7ffffffffaf8ap+1));
    p = fa_fma_d(p, w, (c0 ? 0x1.9884533d4363cp-2 : 0x1.fffffffffffe7p-1));
    return p;
}
/* exp(-a^2/2) = sc1 * sc2 * (1 + q), returns q; a in [0, 38.7] (both scales
 * normal), a^2 = s + l exactly; *s gets the rounded a^2. */
FA_INLINE double fa__gauss_q_d(double a, double *s, double *sc1, double *sc2)
{
    double l;
    double h = fa_twoprod_d(a, a, &l);
    double z = -0.5 * h;
    double n = (z * FA_D_LOG2E + FA_D_MAGIC) - FA_D_MAGIC;   /* [-1081, 0] */
    double m1 = FA_F(fa_fma)(n, 0.5, FA_D_MAGIC_B);
    double n1 = m1 - FA_D_MAGIC_B;
    double m2 = (n - n1) + FA_D_MAGIC_B;
    *sc1 = fa_u2d(fa_d2u(m1) << 52);
    *sc2 = fa_u2d(fa_d2u(m2) << 52);
    double t = FA_F(fa_fma)(n, -FA_D_LN2_HI, z);                        /* exact */
    t = t + (n * -FA_D_LN2_LO + -0.5 * l);
    *s = h;
    double p = fa_expm1_poly_d(t);
    return FA_F(fa_fma)(p, t, t);
}
#  define FA__GE_A0 6.0
/* mid branch (2 < a <= 6): L(a) = log h(a) as a (7,7) rational in a
 * (relative 9.7e-17, |L| <= 0.17): x Q(a) = -sign c0 exp(-a^2/2 + L), the
 * rational's rounding enters as an absolute error in the exponent only. */
FA_INLINE double fa__gelue_LN_d(double a)
{
    double p = -0x1.43efb902fac55p-26;
    p = FA_F(fa_fma)(p, a, 0x1.47ddf753e95b6p-20);
    p = FA_F(fa_fma)(p, a, -0x1.6fd3466b5079ap-5);
    p = FA_F(fa_fma)(p, a, -0x1.45555c8b8f0cap-1);
    p = FA_F(fa_fma)(p, a, -0x1.c04e5b86ad6f9p+1);
    p = FA_F(fa_fma)(p, a, -0x1.63c1692fbf2eap+3);
    p = FA_F(fa_fma)(p, a, -0x1.26aaf69a0641ep+4);
    p = FA_F(fa_fma)(p, a, -0x1.d673f016a437ep+1);
    return p;
}
FA_INLINE double fa__gelue_LD_d(double a)
{
    double q = 0x1.6f858a251ad66p-5;
    q = FA_F(fa_fma)(q, a, 0x1.45b0ee8d15a11p-1);
    q = FA_F(fa_fma)(q, a, 0x1.cd7e9b1af8e0cp+1);
    q = FA_F(fa_fma)(q, a, 0x1.996d8bac19057p+3);
    q = FA_F(fa_fma)(q, a, 0x1.a42561473966dp+4);
    q = FA_F(fa_fma)(q, a, 0x1.f102efb029121p+4);
    q = FA_F(fa_fma)(q, a, 0x1.a5f689fba3ddap+3);
    q = FA_F(fa_fma)(q, a, 0x1.0000000000000p+0);
    return q;
}
/* the result for x from xc = x clamped to [-AMAX, AMAX] (or x itself where
 * it lies there: the common form), before the NaN rule */
FA_INLINE double fa__gelu_erf_of_d(double x, double xc)
{
    double a = fa_abs_d(xc);
    double l;
    /* a^2 from a raised to FA_D_TINY (E rounds to 1 there either way) */
    double s = fa_twoprod_d(fa_maxpos_d(a, FA_D_TINY), fa_maxpos_d(a, FA_D_TINY), &l);
    int big = a > FA__GE_A0, small = a <= 2.0;
    double num = small ? fa__gelue_P_d(a) : (big ? 1.0 : fa__gelue_LN_d(a));
    double den = small ? fa__gelue_Q_d(a) : (big ? s : fa__gelue_LD_d(a));
    double d = num / den;              /* small: R(a); mid: L(a); big: 1/a^2 */
    double L = small ? 0.0 : (big ? 0.0 : d);
    /* exp(-a^2/2 + L) = sc1 * sc2 * (1 + q) */
    double z = -0.5 * s;
    double n = ((z + L) * FA_D_LOG2E + FA_D_MAGIC) - FA_D_MAGIC;   /* [-1081, 0] */
    double m1 = FA_F(fa_fma)(n, 0.5, FA_D_MAGIC_B);
    double n1 = m1 - FA_D_MAGIC_B;
    double m2 = (n - n1) + FA_D_MAGIC_B;
    double sc1 = fa_u2d(fa_d2u(m1) << 52);
    double sc2 = fa_u2d(fa_d2u(m2) << 52);
    double t = FA_F(fa_fma)(n, -FA_D_LN2_HI, z);                                /* exact */
    t = t + (n * -FA_D_LN2_LO + (L - 0.5 * l));
    double q = fa_expm1_poly_d(t);
    q = FA_F(fa_fma)(q, t, t);
    /* big: c0 h = c0 - w c0 S(w), c0 = c0hi + c0lo */
    double c0h = 0x1.9884533d43651p-2 + (-0x1.cbc0d30ebfd15p-56 - (big ? d : 0.0) * fa__gelue_S_d(d, 1));
    double f = small ? xc * d : (xc < 0 ? -c0h : c0h);
    double tail = (FA_F(fa_fma)(f, q, f) * sc1) * sc2;   /* f q unrounded: it is below
                                                        * the normal range for tiny x */
    /* q < 0 even at x = 0 (E from the raised a): tail(+-0) = +0, and the
     * x - tail arm gives the zero x's sign */
    return x >= 0 ? x - tail : tail;
}
FA_INLINE double fa_gelu_erf_fwd_c_d(double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return fa__gelu_erf_of_d(x, x);
}
FA_INLINE double fa_gelu_erf_fwd_d(double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    double xc = x < -FA__GE_AMAX ? -FA__GE_AMAX : (x > FA__GE_AMAX ? FA__GE_AMAX : x);
    double r = fa__gelu_erf_of_d(x, xc);
    return x != x ? x : r;                     /* NaN: x (FA_NAN_EXACT_KERNELS) */
}
FA_INLINE int fa_gelu_erf_fwd_range_d(double p0, double p1, double p2, double p3,
                                      double *lo, double *hi)
{
    FA__UNUSED4(p0, p1, p2, p3);
    *lo = -FA__GE_AMAX;
    *hi = FA__GE_AMAX;
    return 1;
}
FA_INLINE double fa_gelu_erf_bwd_d(double g, double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    double xc = x < -FA__GE_AMAX ? -FA__GE_AMAX : (x > FA__GE_AMAX ? FA__GE_AMAX : x);
    double a = fa_abs_d(xc);
    double s, sc1, sc2;
    /* E from a raised to FA_D_TINY, where it rounds to 1 either way */
    double q = fa__gauss_q_d(fa_maxpos_d(a, FA_D_TINY), &s, &sc1, &sc2);
    int big = a > FA__GE_A0;
    double d = (big ? 1.0 : fa__gelue_P_d(a)) / (big ? s : fa__gelue_Q_d(a));
    /* big: R - a c0 = -(a c0)(1 - w h) */
    double hh = 1.0 - d * fa__gelue_S_d(d, 0);
    double v = 1.0 - d * hh;
    double ac0 = a * 0x1.9884533d43651p-2;
    double r = big ? -ac0 * v : d - ac0;
    double u = ((r + r * q) * sc1) * sc2;
    return g * (x > 0 ? 1.0 - u : u);
}
#  undef FA__GE_A0
#else
/* gelu_erf: upper normal tail Q(a) = exp(-a^2/2) * P(a)/Qd(a), a >= 0.
 * P/Qd: relative minimax fit of exp(a^2/2) Q(a) on [0, AMAX]
 * (bench/ulp/fit/ratfit.py; float (4,5) 6.0e-9, double (9,10) 5.5e-17). */
FA_INLINE T FA_F(fa__gelue_P)(T a)
{
#if FA_IS_DOUBLE
    T p = 0.000001385284150689920197207422;
    p = FA_F(fa_fma)(p, a, 0.00003724255719748781519239876);
    p = FA_F(fa_fma)(p, a, 0.0004902712314090737391783674);
    p = FA_F(fa_fma)(p, a, 0.004088198328255942650113992);
    p = FA_F(fa_fma)(p, a, 0.02361674965377641224270173);
    p = FA_F(fa_fma)(p, a, 0.09767952947951915280899417);
    p = FA_F(fa_fma)(p, a, 0.2892859111875767508546182);
    p = FA_F(fa_fma)(p, a, 0.5939773722735688075896376);
    p = FA_F(fa_fma)(p, a, 0.7748237626106052417890334);
    p = FA_F(fa_fma)(p, a, 0.499999999999999975397033);
#else
    T p = 0.004116430643740512515421585f;
    p = FA_F(fa_fma)(p, a, 0.04063465688860659397498382f);
    p = FA_F(fa_fma)(p, a, 0.1832402418157799227976901f);
    p = FA_F(fa_fma)(p, a, 0.438303121585168523989307f);
    p = FA_F(fa_fma)(p, a, 0.5000000029182239207925738f);
#endif
    return p;
}
FA_INLINE T FA_F(fa__gelue_Q)(T a)
{
#if FA_IS_DOUBLE
    T q = 0.000003472392420528070370371227;
    q = FA_F(fa_fma)(q, a, 0.00009335324688861384331783332);
    q = FA_F(fa_fma)(q, a, 0.001232400123510730661836343);
    q = FA_F(fa_fma)(q, a, 0.01034094675748377117940445);
    q = FA_F(fa_fma)(q, a, 0.06042039581228978102162696);
    q = FA_F(fa_fma)(q, a, 0.2549071456760092460191298);
    q = FA_F(fa_fma)(q, a, 0.7819077707196660794485315);
    q = FA_F(fa_fma)(q, a, 1.714161111062338926025692);
    q = FA_F(fa_fma)(q, a, 2.561014351975417510961332);
    q = FA_F(fa_fma)(q, a, 2.347532086024065397330834);
    q = FA_F(fa_fma)(q, a, 1.0);
#else
    T q = 0.01031824183874297410328319f;
    q = FA_F(fa_fma)(q, a, 0.1018624212837659330963377f);
    q = FA_F(fa_fma)(q, a, 0.4694838206366525440175965f);
    q = FA_F(fa_fma)(q, a, 1.202526410440833035793274f);
    q = FA_F(fa_fma)(q, a, 1.674491220490159457997195f);
    q = FA_F(fa_fma)(q, a, 1.0f);
#endif
    return q;
}

/* exp(-a^2/2) = ea * s2 with a^2 = h + l exact (twoprod): exp(-h/2)(1 - l/2).
 * The caller's a <= 15 bounds the exp's argument (>= -112.5): the unchecked
 * exp. */
FA_INLINE T FA_F(fa__gauss_parts)(T a, T *s2)
{
    T l;
    T h = FA_F(fa_twoprod)(a, a, &l);
    T ea = fa_exp_negb_parts_f((T)-0.5 * h, s2);
    return ea - ea * ((T)0.5 * l);
}

/* y = x Phi(x) = x + t (x >= 0), t (x < 0), t = -a Q(a) = -a E(a) P/Qd,
 * a = min(|x|, 14.5).  Division-free exp (one reduction of the exact a^2),
 * all scalings folded into constants or integer adds:
 *   n = round(-a^2/2 log2e) read from the low bits of m = 1.5*2^23 + n;
 *   v = a^2 + 2n ln2 (fma(a, a, .) keeps a^2 exact; |v| <= ln2);
 *   E = 2^n p(v), p ~ 2^64 exp(-v/2) (deg-6 fit), the 2^n by an
 *   exponent add (p's exponent stays in [38, 191]);
 *   Qd scaled by -2^64: the bias cancels and the sign comes for free;
 *   t = (a e)(P / q), e = 2^64 exp(-a^2/2), q = -2^64 Qd: the division
 *   waits only for the two short polynomials, so it runs beside the exp
 *   instead of after it, and the last multiply rounds a subnormal t once
 *   (a e and P/q are normal for every a in (0, 14.5]; a (P/q) first would
 *   underflow for tiny a).
 * E is computed from a raised to FA_F_TINY (fa_maxpos_f), where E rounds
 * to 1 anyway: a^2 and v would be subnormal below it (FA_F_TINY).
 * |x| is clamped by fa_minpos_f, an unsigned min of the bits: a compare
 * and a select of x would be threaded by GCC into constant-folded copies
 * of every polynomial.  (SSE2's fallback selects on |x| and is not: GCC 12
 * emits one compare and blend there, checked in the baseline build.) */
FA_INLINE float fa__gelu_erf_of_f(float x, float a)
{
    float ae = fa_maxpos_f(a, FA_F_TINY);                      /* for E only */
    float h = ae * ae;
    float m = FA_F(fa_fma)(h, -0x1.715476p-1f, FA_F_MAGIC);
#if FA_HAVE_FMA
    float k = fmaf(m, 0x1.62E4p+0f, -FA_F_MAGIC * 0x1.62E4p+0f); /* 2 n ln2hi, exact */
    float v = fmaf(ae, ae, k);
#else
    float l;
    (void)fa_twoprod_f(ae, ae, &l);
    float k = (m - FA_F_MAGIC) * 0x1.62E4p+0f;
    float v = (h + k) + l;                                     /* h + k exact */
#endif
    v = fa_fma_f(k, 0x1.7F7D1Cp-19f / 0x1.62E4p+0f, v);         /* + 2 n ln2lo */
    float p = 0x1.6ae724p-16f * 0x1p64f;                       /* deg 6: 1.7e-8 (deg 5: 9.5e-8) */
    p = FA_F(fa_fma)(p, v, -0x1.12678ep-12f * 0x1p64f);
    p = FA_F(fa_fma)(p, v, 0x1.555822p-9f * 0x1p64f);
    p = FA_F(fa_fma)(p, v, -0x1.55541ap-6f * 0x1p64f);
    p = FA_F(fa_fma)(p, v, 0x1.fffffcp-4f * 0x1p64f);
    p = FA_F(fa_fma)(p, v, -0x1p-1f * 0x1p64f);
    p = FA_F(fa_fma)(p, v, 0x1p64f);
    float e = fa_u2f(fa_f2u(p) + (fa_f2u(m) << 23));          /* 2^64 E(a) */
    float q = -0.01031824183874297410328319f * 0x1p64f;        /* -2^64 fa__gelue_Q */
    q = FA_F(fa_fma)(q, a, -0.1018624212837659330963377f * 0x1p64f);
    q = FA_F(fa_fma)(q, a, -0.4694838206366525440175965f * 0x1p64f);
    q = FA_F(fa_fma)(q, a, -1.202526410440833035793274f * 0x1p64f);
    q = FA_F(fa_fma)(q, a, -1.674491220490159457997195f * 0x1p64f);
    q = FA_F(fa_fma)(q, a, -0x1p64f);
    float t = (a * e) * (FA_F(fa__gelue_P)(a) / q);
    /* x + t for x >= 0, t for x < 0, as max(-0, x) + t: on AVX-512 one
     * compare into a mask and a masked add.  t = -0 at x = +-0 (+0 + -0 =
     * +0, -0 + -0 = -0); x < 0 adds -0 to t, which keeps an underflowed
     * t's -0.  A NaN x was clamped to 14.5 with the rest, so it is
     * selected last (FA_NAN_EXACT_KERNELS). */
    return ((T)-0.0f > x ? (T)-0.0f : x) + t;
}
/* the common form (|x| <= 14.5, not NaN: FA_FWD_RANGED_KERNELS) needs
 * neither the clamp nor the NaN select: 3 of the 39 vector instructions per
 * 16 floats */
FA_INLINE float fa_gelu_erf_fwd_c_f(float x, float p0, float p1, float p2, float p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return fa__gelu_erf_of_f(x, fa_abs_f(x));
}
FA_INLINE float fa_gelu_erf_fwd_f(float x, float p0, float p1, float p2, float p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    float r = fa__gelu_erf_of_f(x, fa_minpos_f(fa_abs_f(x), 14.5f));
    return x != x ? x : r;
}
FA_INLINE int fa_gelu_erf_fwd_range_f(float p0, float p1, float p2, float p3,
                                      float *lo, float *hi)
{
    FA__UNUSED4(p0, p1, p2, p3);
    *lo = -14.5f;
    *hi = 14.5f;
    return 1;
}
/* Phi(x) + x phi(x):  x <= 0: E (R - a c0);  x > 0: 1 - E (R - a c0),
 * E = exp(-a^2/2), R = P/Qd, c0 = 1/sqrt(2 pi).  R - a c0 is one fma
 * (a c0 exact inside it where the target has FMA; SSE2 rounds it), and
 * the division R = P/Qd waits only for the two polynomials, beside the
 * exp; the scaling by s2 comes last, so a subnormal result is rounded
 * once. */
FA_INLINE T FA_F(fa_gelu_erf_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    /* clamped at 15, not 14.5: the derivative there must round to 0, as it
     * does beyond (the exp is unchecked; at 14.5 it is still -1.4e-45, and
     * the fit's extrapolation to 15 only moves values that round to 0) */
    T xc = x < (T)-15 ? (T)-15 : (x > (T)15 ? (T)15 : x);
    /* raised to FA_F_TINY: the derivative there is 1/2 either way */
    T a = fa_maxpos_f(FA_F(fa_abs)(xc), FA_F_TINY);
    T s2;
    T ea = FA_F(fa__gauss_parts)(a, &s2);
    T Qd = FA_F(fa__gelue_Q)(a);
    T r = FA_F(fa_fma)(-a, (T)0x1.9884533d43651p-2, FA_F(fa__gelue_P)(a) / Qd);
    T u = (ea * r) * s2;
    return g * (x > 0 ? (T)1 - u : u);
}
#endif
FA__RANGED_FWD_RARE(gelu_erf)
