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
 *         exp(-a^2/2) is kept as sc1*sc2*(1+q) and folded as f + f*q. */
FA_INLINE double fa__gelue_P_d(double a)
{
    double p = 0x1.a342f476ad928p-19;
    p = p * a + 0x1.63f559c4a6cbfp-14;
    p = p * a + 0x1.1e5312ef5faa7p-10;
    p = p * a + 0x1.1b30194355dbfp-7;
    p = p * a + 0x1.77da53222ed45p-5;
    p = p * a + 0x1.574e1a693f2f5p-3;
    p = p * a + 0x1.a862d2f90b340p-2;
    p = p * a + 0x1.494cf5e174c59p-1;
    p = p * a + 0x1.0000000000000p-1;
    return p;
}
FA_INLINE double fa__gelue_Q_d(double a)
{
    double q = 0x1.06bbb230d8325p-17;
    q = q * a + 0x1.be20b720171bep-13;
    q = q * a + 0x1.67e1719a0c4a6p-9;
    q = q * a + 0x1.6668cc1cb8e1ap-6;
    q = q * a + 0x1.e2358e4a413d6p-4;
    q = q * a + 0x1.c40633ee31955p-2;
    q = q * a + 0x1.25fbc34927902p+0;
    q = q * a + 0x1.fde95c3b41ea0p+0;
    q = q * a + 0x1.0ac78fc00b3c1p+1;
    q = q * a + 0x1.0000000000000p+0;
    return q;
}
/* S(w) (c0 = 0: h = 1 - w S) or c0 S(w) (c0 = 1) */
FA_INLINE double fa__gelue_S_d(double w, int c0)
{
    double p = c0 ? -0x1.4b1597025d6eep+40 : -0x1.9ef3e2b961844p+41;
    p = p * w + (c0 ? 0x1.464c5f4bfd9f0p+38 : 0x1.98f44d95e639ap+39);
    p = p * w + (c0 ? -0x1.399e7378227ecp+35 : -0x1.891024e63d7b0p+36);
    p = p * w + (c0 ? 0x1.9622b3a49a33ep+31 : 0x1.fd03f349d4668p+32);
    p = p * w + (c0 ? -0x1.a55fff2b27e0cp+27 : -0x1.080ebfd07cf5fp+29);
    p = p * w + (c0 ? 0x1.9165156a4b371p+23 : 0x1.f712e7d8cc412p+24);
    p = p * w + (c0 ? -0x1.87a95735a6759p+19 : -0x1.eadff80c1e86ep+20);
    p = p * w + (c0 ? 0x1.a4c4e6bc5f38ap+15 : 0x1.07ad8ec03f65bp+17);
    p = p * w + (c0 ? -0x1.032b43b97c7e7p+12 : -0x1.44d1f6f2178fdp+13);
    p = p * w + (c0 ? 0x1.78ffd0752e609p+8 : 0x1.d87f9f0b3bfb8p+9);
    p = p * w + (c0 ? -0x1.4f1c8ab47a0adp+5 : -0x1.a3fffe05f05fap+6);
    p = p * w + (c0 ? 0x1.7efc0e0481930p+2 : 0x1.dffffff9d2cf0p+3);
    p = p * w + (c0 ? -0x1.32633e6dee88ap+0 : -0x1.7ffffffffaf8ap+1);
    p = p * w + (c0 ? 0x1.9884533d4363cp-2 : 0x1.fffffffffffe7p-1);
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
    double m1 = n * 0.5 + FA_D_MAGIC_B;
    double n1 = m1 - FA_D_MAGIC_B;
    double m2 = (n - n1) + FA_D_MAGIC_B;
    *sc1 = fa_u2d(fa_d2u(m1) << 52);
    *sc2 = fa_u2d(fa_d2u(m2) << 52);
    double t = n * -FA_D_LN2_HI + z;                        /* exact */
    t = t + (n * -FA_D_LN2_LO + -0.5 * l);
    *s = h;
    double p = fa_expm1_poly_d(t);
    return p * t + t;
}
#  define FA__GE_A0 6.0
FA_INLINE double fa_gelu_erf_fwd_d(double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    double xc = x < -FA__GE_AMAX ? -FA__GE_AMAX : (x > FA__GE_AMAX ? FA__GE_AMAX : x);
    double a = fa_abs_d(xc);
    double s, sc1, sc2;
    double q = fa__gauss_q_d(a, &s, &sc1, &sc2);
    int big = a > FA__GE_A0;
    double d = (big ? 1.0 : fa__gelue_P_d(a)) / (big ? s : fa__gelue_Q_d(a));
    /* big: c0 h = c0 - w c0 S(w), c0 = c0hi + c0lo */
    double c0h = 0x1.9884533d43651p-2 + (-0x1.cbc0d30ebfd15p-56 - d * fa__gelue_S_d(d, 1));
    double f = big ? (xc < 0 ? -c0h : c0h) : xc * d;       /* x R(a) */
    double tail = ((f + f * q) * sc1) * sc2;
    return x > 0 ? x - tail : tail;
}
FA_INLINE double fa_gelu_erf_bwd_d(double g, double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    double xc = x < -FA__GE_AMAX ? -FA__GE_AMAX : (x > FA__GE_AMAX ? FA__GE_AMAX : x);
    double a = fa_abs_d(xc);
    double s, sc1, sc2;
    double q = fa__gauss_q_d(a, &s, &sc1, &sc2);
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
