/* formulas/tanhshrink.h: tanhshrink (x - tanh x).
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= tanhshrink ======================= */
/* |x| < 2: x^3 P(x^2)/Q(x^2) (relative minimax of (x - tanh x)/x^3 on s in
 * [0,4]); else x - tanh(x) (cancellation factor < 1 there). */
#if FA_IS_DOUBLE
FA_INLINE double fa__tanhshrink_small_d(double x)
{
    double s = x * x;
    double p = 3.186687298495494948547029e-11;
    p = fa_fma_d(p, s, 0.000001717478425147870220925872);
    p = fa_fma_d(p, s, 0.000412129947209324645632238);
    p = fa_fma_d(p, s, 0.02413051050956017174383912);
    p = fa_fma_d(p, s, 0.333333333333333333201694);
    double q = 0.000001766535280960298006492463;
    q = fa_fma_d(q, s, 0.0004464758250990815613931969);
    q = fa_fma_d(q, s, 0.02828824054833842417580032);
    q = fa_fma_d(q, s, 0.4723915315286804958439289);
    q = fa_fma_d(q, s, 1.0);
    return (x * s) * (p / q);
}
#else
/* float: one division for both branches.  With a = |x| and m = expm1(-2a)
 * (fa__expm1_m2a_f, tanh's), a - tanh(a) = a + m/(m + 2) = (a d + m)/d,
 * d = m + 2 in [1, 1.02]: the fma rounds a d + m once, and m's error moves
 * the result by at most twice its absolute error (the result is >= 1.03
 * there).  The small branch divides a^3 P by Q; x's sign goes on last. */
FA_INLINE float fa__tanhshrink_fwd_f(float x)
{
    float a = fa_abs_f(x);
    float ac = a > 2.0f ? 2.0f : a;                 /* keeps the small branch finite */
    float s = ac * ac;
    float p = 0.000005693429837621079425574195f;
    p = fa_fma_f(p, s, 0.01599095677199342597493804f);
    p = fa_fma_f(p, s, 0.3333333322407527815650234f);
    float q = 0.01730159957059246351557917f;
    q = fa_fma_f(q, s, 0.4479728147163272478316581f);
    q = fa_fma_f(q, s, 1.0f);
    float m = fa__expm1_m2a_f(a);                   /* -1 exactly for a >= 9.5: d = 1 */
    float d = m + 2.0f;
    int small = a < 2.0f;                           /* NaN: the big branch, NaN */
    float num = small ? (ac * s) * p : fa_fma_f(a, d, m);
    float r = num / (small ? q : d);
    uint32_t ur = fa_f2u(r), ux = fa_f2u(x);
    return fa_u2f(((ur ^ ux) & 0x7fffffffu) ^ ux);
}
#endif
FA_INLINE T FA_F(fa_tanhshrink_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if !FA_IS_DOUBLE
    return fa__tanhshrink_fwd_f(x);
#else
    T xs = FA_F(fa_abs)(x) < (T)2 ? x : (T)0;      /* keep the small path finite */
    T small = fa__tanhshrink_small_d(xs);
    T big = x - FA_F(fa__tanh)(x);
    return FA_F(fa_abs)(x) < (T)2 ? small : big;
#endif
}
FA_INLINE T FA_F(fa_tanhshrink_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T t = FA_F(fa__tanh)(x);
    return g * (t * t);
}
