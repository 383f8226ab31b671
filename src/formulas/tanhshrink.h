/* formulas/tanhshrink.h: tanhshrink (x - tanh x).
 * TEMPLATE BODY, no include guard: part of the exp-based group that
 * src/formulas/exp.h includes once per dtype, after exp_common.h. */

/* ======================= tanhshrink ======================= */
/* |x| < 2: x^3 P(x^2)/Q(x^2) (relative minimax of (x - tanh x)/x^3 on s in
 * [0,4]); else x - tanh(x) (cancellation factor < 1 there). */
FA_INLINE T FA_F(fa__tanhshrink_small)(T x)
{
    T s = x * x;
#if FA_IS_DOUBLE
    T p = 3.186687298495494948547029e-11;
    p = FA_F(fa_fma)(p, s, 0.000001717478425147870220925872);
    p = FA_F(fa_fma)(p, s, 0.000412129947209324645632238);
    p = FA_F(fa_fma)(p, s, 0.02413051050956017174383912);
    p = FA_F(fa_fma)(p, s, 0.333333333333333333201694);
    T q = 0.000001766535280960298006492463;
    q = FA_F(fa_fma)(q, s, 0.0004464758250990815613931969);
    q = FA_F(fa_fma)(q, s, 0.02828824054833842417580032);
    q = FA_F(fa_fma)(q, s, 0.4723915315286804958439289);
    q = FA_F(fa_fma)(q, s, 1.0);
#else
    T p = 0.000005693429837621079425574195f;
    p = FA_F(fa_fma)(p, s, 0.01599095677199342597493804f);
    p = FA_F(fa_fma)(p, s, 0.3333333322407527815650234f);
    T q = 0.01730159957059246351557917f;
    q = FA_F(fa_fma)(q, s, 0.4479728147163272478316581f);
    q = FA_F(fa_fma)(q, s, 1.0f);
#endif
    return (x * s) * (p / q);
}
FA_INLINE T FA_F(fa_tanhshrink_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T xs = FA_F(fa_abs)(x) < (T)2 ? x : (T)0;      /* keep the small path finite */
    T small = FA_F(fa__tanhshrink_small)(xs);
    T big = x - FA_F(fa__tanh)(x);
    return FA_F(fa_abs)(x) < (T)2 ? small : big;
}
FA_INLINE T FA_F(fa_tanhshrink_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T t = FA_F(fa__tanh)(x);
    return g * (t * t);
}
