/* formulas/tanhshrink.h: tanhshrink (x - tanh x).
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= tanhshrink ======================= */
/* |x| < 2: x^3 P(x^2)/Q(x^2) (relative minimax of (x - tanh x)/x^3 on s in
 * [0,4]); else x - tanh(x) (cancellation factor < 1 there).  Returns P(s),
 * and Q(s) in *q. */
FA_INLINE T FA_F(fa__tanhshrink_pq)(T s, T *q)
{
#if FA_IS_DOUBLE
    T p = 3.186687298495494948547029e-11;
    p = FA_F(fa_fma)(p, s, 0.000001717478425147870220925872);
    p = FA_F(fa_fma)(p, s, 0.000412129947209324645632238);
    p = FA_F(fa_fma)(p, s, 0.02413051050956017174383912);
    p = FA_F(fa_fma)(p, s, 0.333333333333333333201694);
    T qq = 0.000001766535280960298006492463;
    qq = FA_F(fa_fma)(qq, s, 0.0004464758250990815613931969);
    qq = FA_F(fa_fma)(qq, s, 0.02828824054833842417580032);
    qq = FA_F(fa_fma)(qq, s, 0.4723915315286804958439289);
    qq = FA_F(fa_fma)(qq, s, 1.0);
#else
    T p = 0.000005693429837621079425574195f;
    p = FA_F(fa_fma)(p, s, 0.01599095677199342597493804f);
    p = FA_F(fa_fma)(p, s, 0.3333333322407527815650234f);
    T qq = 0.01730159957059246351557917f;
    qq = FA_F(fa_fma)(qq, s, 0.4479728147163272478316581f);
    qq = FA_F(fa_fma)(qq, s, 1.0f);
#endif
    *q = qq;
    return p;
}
FA_INLINE T FA_F(fa__tanhshrink_small)(T x)
{
    T q, s = x * x;
    T p = FA_F(fa__tanhshrink_pq)(s, &q);
    return (x * s) * (p / q);
}
#if !FA_IS_DOUBLE && FA_HAVE_FMA
/* float with FMA: one division for both branches.  With m = expm1(-2a) as
 * tanh computes it (fa__expm1_m2a_f), a - tanh(a) = a + m/(m + 2)
 * = (a d + m)/d, d = m + 2 in [1, 1.02]: the fma rounds a d + m once, and
 * m's error moves the result by at most twice its absolute error (the
 * result is >= 1.03 there); the small branch divides a^3 P by Q, and x's
 * sign goes on last.  Where tanh clamps a, m is -1 exactly, so d = 1 and
 * a d + m cannot overflow.  Without FMA (where a select and an fma cost
 * 2-3 instructions each) and in double (latency-bound loops) the form
 * below is the faster one. */
FA_INLINE float fa__tanhshrink_fwd_f(float x)
{
    float a = fa_abs_f(x);
    float ac = fa_minpos_f(a, 2.0f);                /* keeps the small branch finite */
    float q, s = ac * ac;
    float p = fa__tanhshrink_pq_f(s, &q);
    float m = fa__expm1_m2a_f(a);
    float d = m + 2.0f;
    float ns = (ac * s) * p, nb = fa_fma_f(a, d, m);
    return fa__sign_of_f((a < 2.0f ? ns : nb) / (a < 2.0f ? q : d), x);   /* NaN: nb/d (a in nb) */
}
#endif
FA_INLINE T FA_F(fa_tanhshrink_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if !FA_IS_DOUBLE && FA_HAVE_FMA
    return fa__tanhshrink_fwd_f(x);
#else
    T xs = FA_F(fa_abs)(x) < (T)2 ? x : (T)0;      /* keep the small path finite */
    T small = FA_F(fa__tanhshrink_small)(xs);
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
