/* formulas/piecewise.h: per-element formulas of the piecewise-linear /
 * rational activations.  TEMPLATE BODY, no include guard: src/fa_kernels.h
 * includes it once per dtype with T = float / double and FA_F(name) =
 * name##_f / name##_d.
 *
 * Every activation NAME provides
 *   fa_NAME_fwd (x,    p0..p3) -> f(x)
 *   fa_NAME_bwd (g, x, p0..p3) -> g * f'(x)          (from the forward input)
 *   fa_NAME_bwdy(g, y, p0..p3) -> g * f'(x)          (from the forward output,
 *                                                      where y determines f')
 * and the kernels of FA_NANX_KERNELS (src/fa_kernels.h) fa_NAME_bwd_nx and
 * fa_NAME_bwdy_nx: the same for every x (y) that is not NaN.
 * Parameters arrive already cast to T; their meaning is fixed by the table in
 * fastact/_table.py.  Bodies are written as selects (`c ? a : b`) on values so
 * that GCC if-converts and vectorizes them; comparisons are false for NaN,
 * which is how NaN propagates.  Kink derivatives follow PyTorch. */

#include "ranged.h"

/* The full backward form F of a FA_NANX_KERNELS kernel whose F_nx is F
 * without its NaN select: the select around F_nx (s is x or y). */
#undef FA__NANX_FULL
#define FA__NANX_FULL(name, FORM) \
    FA_INLINE T FA_F(fa_##name##_##FORM)(T g, T s, T p0, T p1, T p2, T p3) \
    { return s != s ? s : FA_F(fa_##name##_##FORM##_nx)(g, s, p0, p1, p2, p3); }

/* relu(max=p0, negative_slope=p1, threshold=p2) (Keras semantics):
 *   x > t ? min(x, max) : s*(x - t).
 * The `+ 0` turns the -0.0 of s*(negative) into +0.0 (relu(-3) = +0 as in
 * PyTorch), x == t keeps x - t so relu(-0.0) stays -0.0, and s == 0 selects
 * 0 outright because 0*(-inf) would be NaN. */
FA_INLINE T FA_F(fa_relu_fwd)(T x, T mx, T s, T t, T p3)
{
    (void)p3;
    T hi = x < mx ? x : mx;
    T neg = s != (T)0 ? s * (x - t) + (T)0 : (T)0;
    T lo = x < t ? neg : x - t;
    return x > t ? hi : lo;
}
/* d/dx: 1 on (t, max), 0 at and above max (unless there is no max: +inf),
 * slope at and below t (left derivative at the kink, as PyTorch relu'(0)=0
 * and leaky'(0)=slope).  Where f is flat (at and above max; at and below t
 * when s = 0) the result is +0 whatever g is, NaN and +-inf too: a select,
 * as PyTorch's threshold_backward and JAX's relu JVP (g * 0 would be NaN
 * there).  _nx is the loops' form for an x that is not NaN
 * (FA_NANX_KERNELS), the full form adds the NaN select.  In fa__relu_up, m
 * is NaN when there is no max (x >= NaN is false: the grad passes, also at
 * +inf) and is hoisted out of the loop: one compare where
 * `x < mx || mx == inf` is two. */
/* the backward above the threshold: g below max, 0 at and above it */
FA_INLINE T FA_F(fa__relu_up)(T g, T x, T mx)
{
    const T m = mx == (T)INFINITY ? (T)NAN : mx;
    return x >= m ? (T)0 : g;
}
FA_INLINE T FA_F(fa_relu_bwd_nx)(T g, T x, T mx, T s, T t, T p3)
{
    (void)p3;
    T up = FA_F(fa__relu_up)(g, x, mx);
    T dn = s != (T)0 ? g * s + (T)0 : (T)0;
    return x > t ? up : dn;
}
FA__NANX_FULL(relu, bwd)
/* From y (valid when s >= 0, t >= 0 and max > t): y > t exactly when x > t. */
FA_INLINE T FA_F(fa_relu_bwdy)(T g, T y, T mx, T s, T t, T p3)
{
    return FA_F(fa_relu_bwd)(g, y, mx, s, t, p3);
}
FA_INLINE T FA_F(fa_relu_bwdy_nx)(T g, T y, T mx, T s, T t, T p3)
{
    return FA_F(fa_relu_bwd_nx)(g, y, mx, s, t, p3);
}

/* relu0: relu with threshold 0, slope 0 and a finite max (relu6,
 * relu(max=)), p0 = max.  Two selects (a compare, a masked move and a min):
 * memory-bound relu6 stays at streaming speed with 512-bit vectors, where
 * the general formula above is nearly compute-bound.
 * `x < 0 ? 0 : x` keeps NaN and -0.0; -inf gives +0. */
FA_INLINE T FA_F(fa_relu0_fwd)(T x, T mx, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    T v = x < (T)0 ? (T)0 : x;
    return v > mx ? mx : v;
}
/* relu0's backward: fa_relu_bwd's values with s = t = 0 (+0 at and below
 * 0 whatever g is), with fa__relu_up, and without a NaN select:
 * (x < 0 ? 0 : x) * 0 + 0 is one max instruction, a multiply and an add,
 * +0 for x <= 0 and NaN for NaN x (the loop's NaN rule then picks the NaN).
 * The float loops run _nx (below); this form runs in double, in place on x
 * and in bias_act. */
FA_INLINE T FA_F(fa_relu0_bwd)(T g, T x, T mx, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    T up = FA_F(fa__relu_up)(g, x, mx);
    T dn = (x < (T)0 ? (T)0 : x) * (T)0 + (T)0;
    return x > (T)0 ? up : dn;
}
/* From y = min(max(x, 0), max): y > 0 exactly when x > 0, y = max exactly
 * when x >= max, y is NaN exactly when x is. */
FA_INLINE T FA_F(fa_relu0_bwdy)(T g, T y, T mx, T p1, T p2, T p3)
{
    return FA_F(fa_relu0_bwd)(g, y, mx, p1, p2, p3);
}
/* The contiguous loops' form for an x that is not NaN (FA_NANX_KERNELS):
 * the +0 at and below 0 is the select's zero-masking, where the full form
 * spends a max, a multiply and an add to make a NaN x give NaN.  Here a NaN
 * x gives a number; the loop notes it and applies the NaN rule there. */
FA_INLINE T FA_F(fa_relu0_bwd_nx)(T g, T x, T mx, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    T up = FA_F(fa__relu_up)(g, x, mx);
    return x > (T)0 ? up : (T)0;
}
FA_INLINE T FA_F(fa_relu0_bwdy_nx)(T g, T y, T mx, T p1, T p2, T p3)
{
    return FA_F(fa_relu0_bwd_nx)(g, y, mx, p1, p2, p3);
}

/* relu_nomax: relu0 without a max (plain relu), one select: `x < 0 ? 0 : x`
 * is a compare and a zero-masking move.  The min against an infinite max is
 * not free even where the loop is memory-bound: on an L2-resident array it
 * cost relu 5-10% on Intel (Sapphire Rapids), and with its input and output
 * apart by a multiple of 16 bytes other than 64 its loads' line splits cost
 * another 10%, where the single select loses nothing. */
FA_INLINE T FA_F(fa_relu_nomax_fwd)(T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    return x < (T)0 ? (T)0 : x;
}
/* fa_relu0_bwd without the max's compare (x >= NaN is false: the grad passes) */
FA_INLINE T FA_F(fa_relu_nomax_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    /* +0 for x <= 0 whatever g is, x's NaN for a NaN x */
    T dn = (x < (T)0 ? (T)0 : x) * (T)0 + (T)0;
    return x > (T)0 ? g : dn;
}
FA_INLINE T FA_F(fa_relu_nomax_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    return FA_F(fa_relu_nomax_bwd)(g, y, p0, p1, p2, p3);
}
/* the loops' form for an x that is not NaN: see fa_relu0_bwd_nx */
FA_INLINE T FA_F(fa_relu_nomax_bwd_nx)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    return x > (T)0 ? g : (T)0;
}
FA_INLINE T FA_F(fa_relu_nomax_bwdy_nx)(T g, T y, T p0, T p1, T p2, T p3)
{
    return FA_F(fa_relu_nomax_bwd_nx)(g, y, p0, p1, p2, p3);
}

/* leaky: relu with threshold 0 and a nonzero slope p1 (leaky_relu, prelu),
 * p0 = max > 0.  Same values as fa_relu_fwd with t = 0 in a third of its
 * instructions: the general formula keeps the memory-bound leaky_relu and
 * prelu off streaming speed.  x = -0.0 is not < 0 and keeps its sign; s == 0
 * is excluded because 0*(-inf) would be NaN (relu0 takes it). */
FA_INLINE T FA_F(fa_leaky_fwd)(T x, T mx, T s, T p2, T p3)
{
    (void)p2; (void)p3;
    T hi = x > mx ? mx : x;             /* NaN x: x (FA_NAN_EXACT_KERNELS) */
    T neg = s * x + (T)0;
    return x < (T)0 ? neg : hi;
}
FA_INLINE T FA_F(fa_leaky_bwd)(T g, T x, T mx, T s, T p2, T p3)
{
    (void)p2;
    return FA_F(fa_relu_bwd)(g, x, mx, s, (T)0, p3);
}
FA_INLINE T FA_F(fa_leaky_bwdy)(T g, T y, T mx, T s, T p2, T p3)
{
    (void)p2;
    return FA_F(fa_relu_bwdy)(g, y, mx, s, (T)0, p3);
}
/* s != 0 here: fa_relu_bwd_nx without the select of its flat lower piece */
FA_INLINE T FA_F(fa_leaky_bwd_nx)(T g, T x, T mx, T s, T p2, T p3)
{
    (void)p2; (void)p3;
    T up = FA_F(fa__relu_up)(g, x, mx);
    return x > (T)0 ? up : g * s + (T)0;
}
FA_INLINE T FA_F(fa_leaky_bwdy_nx)(T g, T y, T mx, T s, T p2, T p3)
{
    return FA_F(fa_leaky_bwd_nx)(g, y, mx, s, p2, p3);
}

/* hardtanh(min=p0, max=p1) = clamp; NaN passes through both compares. */
FA_INLINE T FA_F(fa_hardtanh_fwd)(T x, T lo, T hi, T p2, T p3)
{
    (void)p2; (void)p3;
    T v = x < lo ? lo : x;
    return v > hi ? hi : v;
}
/* its backward's form for an x that is not NaN (FA_NANX_KERNELS), and the
 * full form: that with the NaN select */
FA_INLINE T FA_F(fa_hardtanh_bwd_nx)(T g, T x, T lo, T hi, T p2, T p3)
{
    (void)p2; (void)p3;
    return (x > lo && x < hi) ? g : (T)0;
}
FA__NANX_FULL(hardtanh, bwd)
/* lo < y < hi exactly when lo < x < hi (for lo < hi). */
FA_INLINE T FA_F(fa_hardtanh_bwdy)(T g, T y, T lo, T hi, T p2, T p3)
{
    return FA_F(fa_hardtanh_bwd)(g, y, lo, hi, p2, p3);
}
FA_INLINE T FA_F(fa_hardtanh_bwdy_nx)(T g, T y, T lo, T hi, T p2, T p3)
{
    return FA_F(fa_hardtanh_bwd_nx)(g, y, lo, hi, p2, p3);
}

/* linear: identity. */
FA_INLINE T FA_F(fa_linear_fwd)(T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    return x;
}
FA_INLINE T FA_F(fa_linear_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)x; (void)p0; (void)p1; (void)p2; (void)p3;
    return g;
}
FA_INLINE T FA_F(fa_linear_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    (void)y; (void)p0; (void)p1; (void)p2; (void)p3;
    return g;
}

/* hard_sigmoid(slope=a, offset=b) = clamp(a*x + b, lo, hi) with lo = p2 = 0
 * and hi = p3 = 1 (fastact/_table.py passes them).  The bounds are parameters
 * because with constant ones GCC merges the two selects and a NaN select into
 * five compares into mask registers per vector (Zen 4 runs one per cycle);
 * with parameter bounds the clamp is one max and one min instruction.  The
 * NaN select comes first, so a NaN x reaches the result with its bits
 * (FA_NAN_EXACT_KERNELS). */
FA_INLINE T FA_F(fa_hard_sigmoid_fwd)(T x, T a, T b, T lo, T hi)
{
    T v = x != x ? x : a * x + b;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}
/* slope strictly inside (0, 1), 0 at the edges (PyTorch hardsigmoid'(+-3)=0). */
FA_INLINE T FA_F(fa_hard_sigmoid_bwd_nx)(T g, T x, T a, T b, T p2, T p3)
{
    (void)p2; (void)p3;
    T v = a * x + b;
    return (v > (T)0 && v < (T)1) ? g * a : (T)0;
}
FA__NANX_FULL(hard_sigmoid, bwd)
FA_INLINE T FA_F(fa_hard_sigmoid_bwdy_nx)(T g, T y, T a, T b, T p2, T p3)
{
    (void)b; (void)p2; (void)p3;
    return (y > (T)0 && y < (T)1) ? g * a : (T)0;
}
FA__NANX_FULL(hard_sigmoid, bwdy)

/* softsign = x / (1 + |x|); the true limit +-1 at +-inf (inf/inf is NaN). */
FA_INLINE T FA_F(fa_softsign_fwd)(T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T ax = FA_F(fa_abs)(x);
    T y = x / ((T)1 + ax);
    return ax == (T)INFINITY ? FA_F(fa_copysign)((T)1, x) : y;
}
/* g / (1+|x|)^2 as g*r*r with r = 1/(1+|x|): no overflow for huge |x|. */
FA_INLINE T FA_F(fa_softsign_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T r = (T)1 / ((T)1 + FA_F(fa_abs)(x));
    return (g * r) * r;
}

/* hard_swish = x * relu6(x + 3) / 6; exact x above 3, the limit -0.0 below -3
 * (PyTorch gives x*0 = -0.0 there and NaN at -inf).  The divisions by 6 and
 * 3 are PyTorch's, rounded correctly.  float with AVX-512: the division
 * where the 512-bit divider is fast (fa_tune.fast_divider: AMD), else fa__div6_f
 * and fa__div3_f, the same bits without the divider, which bounds these
 * loops on Intel's cores on cache-resident data (bench/ab_loops.py); AVX2
 * and float64 keep the division. */
#if !FA_IS_DOUBLE && FA_DIVIDER_CHOICE
#  define FA__HS_DIV6(p) (fa_tune.fast_divider ? (p) / (T)6 : fa__div6_f(p))
#  define FA__HS_DIV3(p) (fa_tune.fast_divider ? (p) / (T)3 : fa__div3_f(p))
#else
#  define FA__HS_DIV6(p) ((p) / (T)6)
#  define FA__HS_DIV3(p) ((p) / (T)3)
#endif
FA_INLINE T FA_F(fa_hard_swish_fwd)(T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T mid = FA__HS_DIV6(x * (x + (T)3));
    T v = x < (T)-3 ? (T)-0.0 : mid;
    return x > (T)3 ? x : v;
}
/* 0 at and below -3, x/3 + 1/2 in between, 1 at and above 3 (PyTorch). */
FA_INLINE T FA_F(fa_hard_swish_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T mid = g * (FA__HS_DIV3(x) + (T)0.5);     /* x = -0 gives +0: the same sum */
    T v = x < (T)3 ? mid : g;
    v = x <= (T)-3 ? (T)0 : v;
    return x != x ? x : v;
}
#undef FA__HS_DIV6
#undef FA__HS_DIV3

/* shrink(lambd=p0, bias=p1) (ONNX Shrink): x - bias above lambd, x + bias
 * below -lambd, x*0 between (softshrink is bias = lambd, hardshrink's zone). */
FA_INLINE T FA_F(fa_shrink_fwd)(T x, T l, T b, T p2, T p3)
{
    (void)p2; (void)p3;
    T v = x < -l ? x + b : x * (T)0;
    return x > l ? x - b : v;
}
FA_INLINE T FA_F(fa_shrink_bwd_nx)(T g, T x, T l, T b, T p2, T p3)
{
    (void)b; (void)p2; (void)p3;
    return FA_F(fa_abs)(x) <= l ? (T)0 : g;   /* -l <= x <= l in one compare */
}
FA__NANX_FULL(shrink, bwd)
/* From y (valid when bias <= lambd): outside the zone y = x -+ bias is
 * non-zero (x > lambd >= bias, x < -lambd <= -bias), inside y = +-0. */
FA_INLINE T FA_F(fa_shrink_bwdy_nx)(T g, T y, T l, T b, T p2, T p3)
{
    (void)l; (void)b; (void)p2; (void)p3;
    return y == (T)0 ? (T)0 : g;
}
FA__NANX_FULL(shrink, bwdy)
/* hardshrink(lambd=p0): 0 on [-lambd, lambd], x elsewhere. */
FA_INLINE T FA_F(fa_hardshrink_fwd)(T x, T l, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    return FA_F(fa_abs)(x) <= l ? (T)0 : x;  /* NaN: x (FA_NAN_EXACT_KERNELS) */
}
FA_INLINE T FA_F(fa_hardshrink_bwd)(T g, T x, T l, T p1, T p2, T p3)
{
    return FA_F(fa_shrink_bwd)(g, x, l, p1, p2, p3);
}
FA_INLINE T FA_F(fa_hardshrink_bwd_nx)(T g, T x, T l, T p1, T p2, T p3)
{
    return FA_F(fa_shrink_bwd_nx)(g, x, l, p1, p2, p3);
}

/* squareplus(b=p0, c=p1=sqrt(b)) = (x + sqrt(x^2 + b)) / 2 (jax.nn.squareplus),
 * b >= 0, in three forms:
 *   - the common form (_c), for b in [2^-60, 2^60] and |x| <= 2^30 (y in
 *     [2^-40, 2^40] from the output): x^2 + b needs no scaling there, and
 *     it takes one square root and one fa__div (FMA-port operations: the
 *     square root and a division would share the divider, the bottleneck);
 *   - the rare form (_rare), correct for every input: x and c scaled;
 *   - the full form (FA__RANGED_FULL_FORMS): the common form inside the
 *     range, the rare form outside it, selected per element.
 * The loops (loops/elementwise.h, FA_RANGED_KERNELS) test a sub-block's
 * inputs against the range (fa_squareplus_*_range) and keep the common
 * form's results when all of them are inside (out of place the common form
 * runs first, the full form rewriting a sub-block that fails); a result
 * never depends on its neighbours, since the full form gives the common
 * form's bits in range.
 *
 * The rare form: with s = sqrt(x^2 + c^2), x and c are scaled by sc = 2^-E,
 * E the exponent of m = max(|x|, c) clamped to the normal range below 2^MAXE
 * (bit operations, no select of constants: GCC would split one sqrt into
 * three), so that x' = x*sc, c' = c*sc are below 4 and the larger is at least
 * 2^-23: their squares neither overflow nor underflow, and every ratio below
 * is scale-free:
 *   x > 0:  (x + s) / 2 = ((x' + s')/2) / sc,
 *   x <= 0: b / (2(s - x)) = c*q/2 with q = c/(s - x) = (c/(s' - x'))*sc in
 *           [0, 1]: s - x adds two non-negative terms, no cancellation for
 *           x << 0.
 * b = 0 is relu: q = 0 for x <= 0 (0/0 at x = 0 is not taken). */
#if FA_IS_DOUBLE
#  define FA__SQP_LO 0x1p-1022
#  define FA__SQP_HI 0x1p+1022
#  define FA__SQP_EXP 0x7ff0000000000000ull
#  define FA__SQP_K 0x7fe0000000000000ull    /* bits of 2^(1023 - E) = K - bits of 2^E */
#  define FA__SQP_U(v) fa_d2u(v)
#  define FA__SQP_F(u) fa_u2d(u)
#else
#  define FA__SQP_LO 0x1p-126f
#  define FA__SQP_HI 0x1p+126f
#  define FA__SQP_EXP 0x7f800000u
#  define FA__SQP_K 0x7f000000u
#  define FA__SQP_U(v) fa_f2u(v)
#  define FA__SQP_F(u) fa_u2f(u)
#endif
/* s' = sqrt(x'^2 + c'^2) of x' = x*sc, c' = c*sc; returns sc, *inv = 1/sc. */
FA_INLINE T FA_F(fa__sqp_scaled)(T x, T c, T *xs, T *ss, T *inv)
{
    T ax = FA_F(fa_abs)(x);
    T m = ax > c ? ax : c;
    m = m < FA__SQP_LO ? FA__SQP_LO : m;
    m = m > FA__SQP_HI ? FA__SQP_HI : m;     /* +inf too: x' = inf, s' = inf */
    T sc = FA__SQP_F(FA__SQP_K - (FA__SQP_U(m) & FA__SQP_EXP));
    *inv = FA__SQP_F(FA__SQP_U(m) & FA__SQP_EXP);
    T xv = x * sc, cv = c * sc;
    *xs = xv;
    *ss = FA_F(fa_sqrt)(xv * xv + cv * cv);
    return sc;
}
/* q = c/(s - x) = (c/(s' - x'))*sc, in [0, 1] for x <= 0 (0 when b = 0) */
FA_INLINE T FA_F(fa__sqp_q)(T c, T xs, T ss, T sc)
{
    T q = (c / (ss - xs)) * sc;
    return c == (T)0 ? (T)0 : q;
}
FA_INLINE T FA_F(fa_squareplus_fwd_rare)(T x, T b, T c, T p2, T p3)
{
    (void)b; (void)p2; (void)p3;
    T xs, ss, inv;
    T sc = FA_F(fa__sqp_scaled)(x, c, &xs, &ss, &inv);
    T pos = ((xs + ss) * (T)0.5) * inv;
    T neg = (c * FA_F(fa__sqp_q)(c, xs, ss, sc)) * (T)0.5;
    return x > (T)0 ? pos : neg;
}
/* f' = (1 + x/s)/2: x > 0 as written (both terms >= 0; 1 at +inf);
 * x <= 0: b/(2 s (s - x)) = q*p/2 with p = c/s = (c/s')*sc (0 when b = 0). */
FA_INLINE T FA_F(fa_squareplus_bwd_rare)(T g, T x, T b, T c, T p2, T p3)
{
    (void)b; (void)p2; (void)p3;
    T xs, ss, inv;
    T sc = FA_F(fa__sqp_scaled)(x, c, &xs, &ss, &inv);
    (void)inv;
    T pos = x == (T)INFINITY ? (T)1 : ((T)1 + xs / ss) * (T)0.5;
    T p = (c / ss) * sc;
    T neg = c == (T)0 ? (T)0 : (FA_F(fa__sqp_q)(c, xs, ss, sc) * p) * (T)0.5;
    T d = g * (x > (T)0 ? pos : neg);
    return x != x ? x : d;              /* b = 0 would select 0 for NaN */
}
/* y > 0 determines x = y - b/(4y), and f' = y/s = 1/(1 + b/(4y^2)): no
 * square of y (no overflow); 1 at y = inf; 0 at y = 0 (x <= 0 when b = 0,
 * the underflowed tail otherwise). */
FA_INLINE T FA_F(fa_squareplus_bwdy_rare)(T g, T y, T b, T c, T p2, T p3)
{
    (void)c; (void)p2; (void)p3;
    T u = ((b / y) / y) * (T)0.25;
    T d = (T)1 / ((T)1 + u);
    return g * (y == (T)0 ? (T)0 : d);
}

/* The common range of x (fwd, bwd) and of y (bwdy) for these parameters:
 * [*lo, *hi], empty (returns 0, *lo > *hi) when b is outside [2^-60, 2^60].
 * In it: t = x^2 + b in [2^-60, 2^61], s - x >= sqrt(b) >= 2^-30, and every
 * denominator below lies in [2^-60, 2^81], within fa__div's range; the
 * quotients are normal except bwdy's for y < 2^-34 with b near 2^60 (down
 * to 2^-138 in float), which fa__div still rounds within half an ulp. */
FA_INLINE int FA_F(fa__sqp_range)(T b, T lim_lo, T lim_hi, T *lo, T *hi)
{
    const int ok = b >= (T)0x1p-60 && b <= (T)0x1p60;
    *lo = ok ? lim_lo : (T)1;
    *hi = ok ? lim_hi : (T)-1;
    return ok;
}
FA_INLINE int FA_F(fa_squareplus_fwd_range)(T b, T c, T p2, T p3, T *lo, T *hi)
{
    (void)c; (void)p2; (void)p3;
    return FA_F(fa__sqp_range)(b, (T)-0x1p30, (T)0x1p30, lo, hi);
}
FA_INLINE int FA_F(fa_squareplus_bwd_range)(T b, T c, T p2, T p3, T *lo, T *hi)
{
    (void)c; (void)p2; (void)p3;
    return FA_F(fa__sqp_range)(b, (T)-0x1p30, (T)0x1p30, lo, hi);
}
FA_INLINE int FA_F(fa_squareplus_bwdy_range)(T b, T c, T p2, T p3, T *lo, T *hi)
{
    (void)c; (void)p2; (void)p3;
    return FA_F(fa__sqp_range)(b, (T)0x1p-40, (T)0x1p40, lo, hi);
}

/* x > 0: (x + s)/2; x <= 0: (b/2)/(s - x), s - x the sum of two
 * non-negative terms. */
FA_INLINE T FA_F(fa_squareplus_fwd_c)(T x, T b, T c, T p2, T p3)
{
    (void)c; (void)p2; (void)p3;
    T s = FA_F(fa_sqrt)(FA_F(fa_fma)(x, x, b));
    T pos = (x + s) * (T)0.5;
    T neg = FA_F(fa__div)(b * (T)0.5, s - x);
    return x > (T)0 ? pos : neg;
}
/* f' = (s + x)/(2s) for x > 0 and (b/2)/(s (s - x)) for x <= 0: one
 * quotient of selected terms, each a sum or product of non-negative ones. */
FA_INLINE T FA_F(fa_squareplus_bwd_c)(T g, T x, T b, T c, T p2, T p3)
{
    (void)c; (void)p2; (void)p3;
    T s = FA_F(fa_sqrt)(FA_F(fa_fma)(x, x, b));
    T num = x > (T)0 ? (s + x) * (T)0.5 : b * (T)0.5;
    T den = x > (T)0 ? s : s * (s - x);
    return g * FA_F(fa__div)(num, den);
}
/* f' = 1/(1 + b/(4y^2)) = y^2/(y^2 + b/4) */
FA_INLINE T FA_F(fa_squareplus_bwdy_c)(T g, T y, T b, T c, T p2, T p3)
{
    (void)c; (void)p2; (void)p3;
    return g * FA_F(fa__div)(y * y, FA_F(fa_fma)(y, y, b * (T)0.25));
}

FA__RANGED_FULL_FORMS(squareplus)
#undef FA__SQP_LO
#undef FA__SQP_HI
#undef FA__SQP_EXP
#undef FA__SQP_K
#undef FA__SQP_U
#undef FA__SQP_F

/* sparse_plus = 0 for x <= -1, (x + 1)^2/4 for -1 < x < 1, x for x >= 1
 * (jax.nn.sparse_plus).  f' = 0, (x + 1)/2, 1 is continuous: the kinks need
 * no convention.  x + 1 is exact on [-1, -1/2] (the small results). */
FA_INLINE T FA_F(fa_sparse_plus_fwd)(T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T u = x + (T)1;
    T v = x <= (T)-1 ? (T)0 : (u * u) * (T)0.25;
    return x >= (T)1 ? x : v;
}
/* NaN x reaches the middle branch: (x + 1)/2 is NaN */
FA_INLINE T FA_F(fa_sparse_plus_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T v = x <= (T)-1 ? (T)0 : g * ((x + (T)1) * (T)0.5);
    return x >= (T)1 ? g : v;
}
/* y = 0 exactly for x <= -1 ((x + 1)^2/4 >= 2^-50 (float) above -1): the
 * flat piece, +0 whatever g is, as from x; (x + 1)/2 = sqrt(y) in between;
 * 1 from y >= 1 */
FA_INLINE T FA_F(fa_sparse_plus_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    (void)p0; (void)p1; (void)p2; (void)p3;
    T r = FA_F(fa_sqrt)(y);
    T v = g * (y >= (T)1 ? (T)1 : r);
    return y == (T)0 ? (T)0 : v;
}

/* threshold(threshold=p0, value=p1) (PyTorch F.threshold): x > t ? x : v;
 * f' = 1 above t, 0 at and below it (PyTorch threshold_backward). */
FA_INLINE T FA_F(fa_threshold_fwd)(T x, T t, T v, T p2, T p3)
{
    (void)p2; (void)p3;
    return x <= t ? v : x;              /* NaN x: x (FA_NAN_EXACT_KERNELS) */
}
FA_INLINE T FA_F(fa_threshold_bwd_nx)(T g, T x, T t, T v, T p2, T p3)
{
    (void)v; (void)p2; (void)p3;
    return x > t ? g : (T)0;
}
FA__NANX_FULL(threshold, bwd)
/* From y (valid when value <= t): y > t exactly when x > t. */
FA_INLINE T FA_F(fa_threshold_bwdy)(T g, T y, T t, T v, T p2, T p3)
{
    return FA_F(fa_threshold_bwd)(g, y, t, v, p2, p3);
}
FA_INLINE T FA_F(fa_threshold_bwdy_nx)(T g, T y, T t, T v, T p2, T p3)
{
    return FA_F(fa_threshold_bwd_nx)(g, y, t, v, p2, p3);
}
