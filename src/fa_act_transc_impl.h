/* fa_act_transc_impl.h: TEMPLATE (no include guard) for the transcendental
 * activations.  Included once per type by src/fa_act.h with
 *     #define T float   / double
 *     #define FA_F(name) name##_f / name##_d
 *     #define FA_IS_DOUBLE 0 / 1
 * after fa_defs.h and fa_math.h.
 *
 * Per activation NAME:
 *   FA_F(fa_NAME_fwd)(x, p0..p3)      f(x)
 *   FA_F(fa_NAME_bwd)(g, x, p0..p3)   g * f'(x) from the forward input
 *   FA_F(fa_NAME_bwdy)(g, y, p0..p3)  g * f'(x) from the forward output y
 * Every kernel is branch-free (value selects only) so that the calling loop
 * auto-vectorizes with -O3 -fno-math-errno -fno-trapping-math.
 *
 * Conventions: NaN -> NaN; -0.0 -> -0.0 for the odd-at-zero functions; no
 * inf/NaN for large finite |x|; true limits at +-inf (x*sigmoid-type
 * functions give -0.0 at -inf, derivatives 0 / 1).
 * Accuracy (max ULP, exhaustive f32 / sampled f64): bench/ulp/RESULTS.md. */

#ifndef T
#  error "fa_act_transc_impl.h: define T, FA_F and FA_IS_DOUBLE before including"
#endif

#if FA_IS_DOUBLE
#  define FA__MAXV 0x1.fffffffffffffp+1023
#  define FA__TANH_ZLO (-20.0)          /* tanh(|x|>=19.1) == 1.0 */
#  define FA__GT_XMAX 30.0              /* gelu_tanh: sigma(w) == 0/1 beyond */
#  define FA__GE_AMAX 38.7              /* gelu_erf: exp(-a^2/2) < 2^-1075 beyond */
#  define FA__BIGX 1e6
#  define FA__BIGP 1e290
#  define FA__LOG1P_E(e) fa_log1p_01_d(e)
#else
#  define FA__MAXV 0x1.fffffep+127f
#  define FA__TANH_ZLO (-9.5f)          /* tanh(|x|>=9.01) == 1.0f */
#  define FA__GT_XMAX 15.0f
#  define FA__GE_AMAX 14.5f             /* exp(-a^2/2) < 2^-150 beyond */
#  define FA__BIGX 1e6f
#  define FA__BIGP 1e30f
/* log1p(exp(-|x|)) in softplus/log_sigmoid: reduction-free, ~2x fewer ops;
 * f32 forward max error 1.6 -> 2.3 ULP (2.8 on SSE2), limit 4 */
#  define FA__LOG1P_E(e) fa_log1p_01_fast_f(e)
#endif

#define FA__UNUSED4(a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))

/* ---------------- internal helpers ---------------- */

/* max(x, lo) for lo < 0, for products x * exp(..) that must vanish far out
 * (-inf * 0 would be NaN; lo = -MAXV).  float: one unsigned integer min
 * on the bits (vpminud) instead of a compare and a blend: negative floats
 * grow in bits as they grow in magnitude, positive ones are below them; the
 * NaNs with the sign bit sort last and become lo, but every caller's result
 * is NaN through exp's NaN anyway (tested).  In L1, AVX-512, on silu (which
 * has since lost its clamp): 0.247 -> 0.238 ns/element.  SSE2 has no pminud,
 * double no vpminuq before AVX-512. */
#if FA_IS_DOUBLE || (defined(__SSE2__) && !defined(__SSE4_1__))
FA_INLINE T FA_F(fa__clamp_lo)(T x, T lo) { return x < lo ? lo : x; }
#else
FA_INLINE float fa__clamp_lo_f(float x, float lo)
{
    uint32_t u = fa_f2u(x), l = fa_f2u(lo);
    return fa_u2f(u < l ? u : l);
}
#endif

/* sigmoid(x) = (x>0 ? 1 : e) / (1+e), e = exp(-|x|): no cancellation, no 1/inf. */
FA_INLINE T FA_F(fa__sigmoid)(T x)
{
    T s2;
    T a = FA_F(fa_exp_nabs_parts)(x, &s2);
#if FA_IS_DOUBLE
    T e = a * s2;
    return (x > 0 ? (T)1 : e) / FA_F(fa_fma)(a, s2, (T)1);
#else
    /* a = e 2^64: numerator and denominator both scaled by 2^64 (exact), one
     * multiplication less per vector; the same bits where e is normal, and
     * subnormal results rounded once instead of twice */
    (void)s2;
    return (x > 0 ? 0x1p64f : a) / (a + 0x1p64f);
#endif
}

/* exp(-|b*x|) = a * s2 with the product b*x taken exactly (twoprod): the
 * rounding of b*x would otherwise cost |b*x| ULP in the tails.  *bx gets the
 * rounded product (its sign and the thresholds are decided on it). */
FA_INLINE T FA_F(fa__exp_neg_prod)(T b, T x, T *s2, T *bx)
{
    T l;
    T h = FA_F(fa_twoprod)(b, x, &l);
    T ah = FA_F(fa_abs)(h);
    T zl = h > 0 ? -l : l;                 /* garbage for huge |h|: exp's z < -104 select drops it */
    *bx = h;
    return FA_F(fa_exp_neg_lo_parts)(-ah, zl, s2);
}

/* sigmoid(b*x) with the exact product */
FA_INLINE T FA_F(fa__sigmoid_prod)(T b, T x, T *bx)
{
    T s2;
    T a = FA_F(fa__exp_neg_prod)(b, x, &s2, bx);
    T e = a * s2;
    return (*bx > 0 ? (T)1 : e) / FA_F(fa_fma)(a, s2, (T)1);
}

/* x/alpha as zh + zl (zl ~ exact residual), for celu */
FA_INLINE T FA_F(fa__div_hl)(T x, T alpha, T inv_alpha, T *zl)
{
    T pl;
    T zh = x * inv_alpha;
    T ph = FA_F(fa_twoprod)(zh, alpha, &pl);
    T r = (x - ph) - pl;
    T c = r * inv_alpha;
    *zl = FA_F(fa_abs)(zh) < FA__BIGP ? c : (T)0;
    return zh;
}

/* tanh(x) = -sign(x) * m/(m+2), m = expm1(-2|x|); -0 -> -0 */
FA_INLINE T FA_F(fa__tanh)(T x)
{
    T z = -FA_F(fa_abs)(x);
    z = z < FA__TANH_ZLO ? FA__TANH_ZLO : z;
#if FA_IS_DOUBLE
    T m = FA_F(fa_expm1_neg)(z + z);
    T t = m / (m + (T)2);                       /* <= 0 (-0 for x = +-0) */
    /* flip the sign of t unless x is negative (bit ops on t only: a copysign
     * here makes GCC 12 push the abs mask through the clamp select, which has
     * no SSE2 V2DI vcond and blocks vectorization of the baseline build) */
    return fa_u2d(fa_d2u(t) ^ (~fa_d2u(x) & 0x8000000000000000ull));
#else
    T m = fa__expm1_neg_core_f(z + z);          /* 2z >= -19; +0 for x = +-0 */
    T t = m / (m + (T)2);                       /* <= 0 or +0 */
    /* |t| with the sign of x: one bitwise select (vpternlogd on AVX-512) */
    return fa_u2f((fa_f2u(t) & 0x7fffffffu) | (fa_f2u(x) & 0x80000000u));
#endif
}

/* silu(x) = x e/(1+e) (x < 0), x/(1+e) (x >= 0), e = exp(-|x|) = a * s2.
 * z = max(-|x|, lo) (lo = -110 float, -752 double) is x itself on [lo, 0),
 * so it stands in for x in the product (no clamp of its own: one operation
 * less per vector); below lo, z a s2 rounds to -0 like silu(x).  x >= 0
 * (not > 0) sends +0 to the x arm: z is -0.  The 2^n scale of exp is
 * applied after the multiplication, so results near the underflow
 * threshold keep their relative accuracy. */
FA_INLINE T FA_F(fa__silu)(T x)
{
    T s2, z;
    T a = FA_F(fa_exp_nabs_z_parts)(x, &s2, &z);
    T num = x >= 0 ? x : (z * a) * s2;
    return num / FA_F(fa_fma)(a, s2, (T)1);
}

/* silu'(x) = s(x) (1 + x s(-x)).  z as above stands in for the clamped x:
 * it is x on [lo, 0] and -z = min(x, -lo) for x > 0, where 1 - z e rounds
 * to 1 beyond -lo as 1 + x e does; below lo, a (D + z) s2 rounds to -0.
 * The unchecked exp and no clamps: 5 operations less per vector. */
FA_INLINE T FA_F(fa__silu_d)(T x)
{
    T s2, z;
    T a = FA_F(fa_exp_nabs_z_parts)(x, &s2, &z);
    T e = a * s2;
    T D = (T)1 + e;
    T num = x > 0 ? FA_F(fa_fma)(-z, e, D) : (a * (D + z)) * s2;
    return num / (D * D);
}

/* x * sigmoid(beta*x) (sign(beta*x) == sign(x) for beta > 0), with the
 * product beta*x taken exactly; the 2^n scale as in fa__silu; x = -inf -> -0. */
FA_INLINE T FA_F(fa__x_sigmoid)(T x, T beta)
{
    T s2, b;
    T a = FA_F(fa__exp_neg_prod)(beta, x, &s2, &b);
    T xm = FA_F(fa__clamp_lo)(x, -FA__MAXV);      /* -inf * 0 would be NaN */
    T num = b > 0 ? x : (xm * a) * s2;
    return num / FA_F(fa_fma)(a, s2, (T)1);
}

/* d/dx [x sigmoid(beta x)] = s(b) (1 + b s(-b)), b = beta*x. */
FA_INLINE T FA_F(fa__x_sigmoid_d)(T x, T beta)
{
    T s2, b;
    T a = FA_F(fa__exp_neg_prod)(beta, x, &s2, &b);
    T e = a * s2;
    T D = (T)1 + e;
    T bc = b < -FA__MAXV ? -FA__MAXV : (b > FA__MAXV ? FA__MAXV : b);
    T num = b > 0 ? D + bc * e : (a * (D + bc)) * s2;
    return num / (D * D);
}

/* gelu_tanh: z = -|w| (w = 2*sqrt(2/pi)*(x + 0.044715 x^3)) as zh + zl with
 * about 2^-50 relative accuracy (the error of exp(w) is |w| * err(w)). */
#if FA_IS_DOUBLE
FA_INLINE double fa__gelut_z_d(double x, double *zl)
{
    double x2l, pl, sl, wl;
    double x2h = fa_twoprod_d(x, x, &x2l);
    double ph = fa_twoprod_d(0x1.2444f2a4d8b4bp-4, x2h, &pl);
    pl = pl + (0x1.2444f2a4d8b4bp-4 * x2l + -0x1.6c843a29d1c70p-61 * x2h);
    double sh = fa_twosum_d(0x1.9884533d43651p+0, ph, &sl);
    sl = sl + (-0x1.cbc0d30ebfd15p-54 + pl);
    double wh = fa_twoprod_d(x, sh, &wl);
    wl = wl + x * sl;
    *zl = wh > 0 ? -wl : wl;
    return -fa_abs_d(wh);
}
#elif FA_HAVE_FMA
/* float with FMA: w as a float pair, no double conversions (each cvtps2pd /
 * cvtpd2ps is 2 uops and halves the vector width): 0.65 -> 0.4 ns/elem.
 * w is odd, so w(-|x|) = -|w(x)| = z directly.  s = c1 + c2 x^2 is kept as
 * sh + sl (TwoSum: c2 x^2 can exceed c1), then z = x s with the exact
 * product; every neglected term is below 2^-40 |z|. */
FA_INLINE float fa__gelut_z_f(float x, float *zl)
{
    const float c1h = 0x1.988454p+0f, c1l = -0x1.857936p-25f;  /* 2 sqrt(2/pi) */
    const float c2h = 0x1.2444f2p-4f, c2l = 0x1.49b16ap-29f;   /* c1 * 0.044715 */
    float xn = fa_u2f(fa_f2u(x) | 0x80000000u);                /* -|x|: one op */
    float x2h = x * x;
    float x2l = fmaf(x, x, -x2h);
    float ph = c2h * x2h;
    float pl = fmaf(c2h, x2h, -ph);
    pl = fmaf(c2h, x2l, pl);
    pl = fmaf(c2l, x2h, pl);
    float sh = c1h + ph;
    float bb = sh - c1h;
    float sl = ((c1h - (sh - bb)) + (ph - bb)) + (pl + c1l);
    float zh = xn * sh;
    *zl = fmaf(xn, sl, fmaf(xn, sh, -zh));
    return zh;
}
#else
/* float without FMA (SSE2 baseline): w in double, where the product is
 * exact enough without error-free transforms */
FA_INLINE float fa__gelut_z_f(float x, float *zl)
{
    double xd = (double)x;
    double w = xd * (0x1.9884533d43651p+0 + 0x1.2444f2a4d8b4bp-4 * (xd * xd));
    double z = -fa_abs_d(w);
    float zh = (float)z;
    *zl = (float)(z - (double)zh);
    return zh;
}
#endif

/* ======================= sigmoid ======================= */
FA_INLINE T FA_F(fa_sigmoid_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return FA_F(fa__sigmoid)(x);
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
/* fa__tanh_f with fewer operations (bench/ulp exhaustive: 2.50 ULP, FMA and
 * SSE2): expm1(-2a), a = min(|x|, 9.5), as s*expm1(-2v) + (s - 1) with
 * s = 2^n, n = round(-2a/ln2), v = a + n*ln2/2; the factor 2 is folded into
 * the constants (powers of 2: same roundings as for -2a), v is the negated
 * argument so that |x| feeds the reduction directly.  With FMA one ln2
 * constant: its error (n*2^-29) only matters where e^-2a << 1. */
FA_INLINE float fa__tanh_fwd_f(float x)
{
    float a = fa_abs_f(x);
    a = a > 9.5f ? 9.5f : a;                                   /* NaN passes */
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
    float w = v * v;
    float nqh = fa_fma_f(-w, g, v);                            /* -expm1(-2v)/2 */
    float sm1 = fa_fma_f(s2, 0.5f, -1.0f);                     /* s - 1 */
    float m = fa_fma_f(-s2, nqh, sm1);                         /* expm1(-2a) <= 0 or +0 */
    float t = m / (m + 2.0f);
    /* |t| with the sign of x: (t ^ x) & M ^ x is one vpternlogd */
    uint32_t ut = fa_f2u(t), ux = fa_f2u(x);
    return fa_u2f(((ut ^ ux) & 0x7fffffffu) ^ ux);
}
#endif
FA_INLINE T FA_F(fa_tanh_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
#if FA_IS_DOUBLE
    return FA_F(fa__tanh)(x);
#else
    return fa__tanh_fwd_f(x);
#endif
}
/* sech^2(x) = 4e/(1+e)^2, e = exp(-2|x|).  exp_nabs (float: 4e rounds to 0
 * where it stops at exp(-110)) is 17% faster with AVX2, but 5% slower with
 * AVX-512, where the checked exp's clamp and select are masked operations. */
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
/* from y: (1-y)(1+y); absolute error ~ulp(1) as |y| -> 1 (tanh'(10) -> 0 in float) */
FA_INLINE T FA_F(fa_tanh_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return g * (((T)1 - y) * ((T)1 + y));
}

/* ======================= softplus (p0=beta > 0, p1=threshold) ======================= */
FA_INLINE T FA_F(fa_softplus_fwd)(T x, T beta, T thr, T p2, T p3)
{
    (void)p2; (void)p3;
    T bx, s2;
    T e = FA_F(fa__exp_neg_prod)(beta, x, &s2, &bx) * s2;
    T sp = (bx > 0 ? bx : (T)0) + FA__LOG1P_E(e);
    T r = sp / beta;
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
FA_INLINE T FA_F(fa_log_sigmoid_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T e = FA_F(fa_exp_nabs)(x);
    return (x < 0 ? x : (T)0) - FA__LOG1P_E(e);
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

/* ======================= elu (p0=alpha) ======================= */
FA_INLINE T FA_F(fa_elu_fwd)(T x, T alpha, T p1, T p2, T p3)
{
    (void)p1; (void)p2; (void)p3;
    T z = x > 0 ? (T)0 : x;
    T m = FA_F(fa_expm1_neg)(z);
    return x > 0 ? x : alpha * m;
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

/* ======================= selu ======================= */
#if FA_IS_DOUBLE
#  define FA__SELU_L 0x1.0cfabd6a91132p+0      /* 1.0507009873554804934... */
#  define FA__SELU_LA 0x1.c212cc640f031p+0     /* scale*alpha = 1.7580993408473766 */
#else
#  define FA__SELU_L ((float)0x1.0cfabd6a91132p+0)
#  define FA__SELU_LA ((float)0x1.c212cc640f031p+0)
#endif
FA_INLINE T FA_F(fa_selu_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T z = x > 0 ? (T)0 : x;
    T m = FA_F(fa_expm1_neg)(z);
    return x > 0 ? FA__SELU_L * x : FA__SELU_LA * m;
}
/* e = exp(-|x|) as in fa_elu_bwd */
FA_INLINE T FA_F(fa_selu_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T e = FA_F(fa_exp_nabs)(x);
    return x > 0 ? g * FA__SELU_L : g * (FA__SELU_LA * e);
}
FA_INLINE T FA_F(fa_selu_bwdy)(T g, T y, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return y > 0 ? g * FA__SELU_L : g * (y + FA__SELU_LA);
}
#undef FA__SELU_L
#undef FA__SELU_LA

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
 * exp(z): both from e = exp(-zh) = a*s2 (exact power-of-2 scale s2, so the
 * quotients overflow to inf instead of dividing by a flushed subnormal) and
 * m = expm1(-zh): expm1(zh + zl) = (zl - m)/e, exp(zh + zl) = (1 + zl)/e to
 * first order in the residual zl of the division.  Dividing by s2 before a
 * keeps tiny results normal; alpha (g) enters before the division by a so
 * an intermediate overflows only where the result does.  celu(+-0) = +-0. */
FA_INLINE T FA_F(fa_celu_neg_fwd)(T x, T alpha, T inv_alpha, T p2, T p3)
{
    (void)p2; (void)p3;
    T zl, s2;
    T zh = FA_F(fa__div_hl)(x > 0 ? (T)0 : x, alpha, inv_alpha, &zl);
    T m = FA_F(fa_expm1_neg)(-zh);
    T a = FA_F(fa_exp_neg_parts)(-zh, &s2);
    T r = ((alpha * (zl - m)) / s2) / a;  /* alpha first: overflow only if the result does */
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

/* ======================= silu / swish (p0=beta > 0) ======================= */
FA_INLINE T FA_F(fa_silu_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    return FA_F(fa__silu)(x);
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
    T xm = FA_F(fa__clamp_lo)(x, -FA__MAXV);
#else
    /* as silu: z = max(-|x|, -110) stands in for x where x <= 0 (below, the
     * product rounds to -0); x >= 0 takes the other arm, so +0 stays +0 */
    T xm;
    T a = fa_exp_nabs_z_parts_f(x, &s2, &xm);
#endif
    T e = a * s2;
    T e2 = e + (T)2;
    T u = (T)1 + (e + e);
    T num = x >= 0 ? x * u : (xm * (a * e2)) * s2;
    T den = x >= 0 ? u + (T)2 * (e * e) : e * e2 + (T)2;
    return num / den;
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

/* ======================= gelu (tanh approximation) ======================= */
/* 0.5x(1+tanh(v)) == x * sigmoid(w), w = 2v (no cancellation).
 * x is not clamped before z: a clamp select there makes GCC specialize every
 * later operation for the constant arm (a dozen extra blends per vector);
 * huge |x| give z = -inf or garbage zl, which exp's z < -104 select zeroes. */
FA_INLINE T FA_F(fa_gelu_tanh_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T zl, s2;
    T zh = FA_F(fa__gelut_z)(x, &zl);
    T a = FA_F(fa_exp_neg_lo_parts)(zh, zl, &s2);
    T xm = FA_F(fa__clamp_lo)(x, -FA__MAXV);          /* -inf * 0 would be NaN */
    T num = x > 0 ? x : (xm * a) * s2;
    return num / FA_F(fa_fma)(a, s2, (T)1);
}
/* d = s(w) (1 + x w' s(-w)),  w' = 2k(1 + 3*0.044715 x^2) */
FA_INLINE T FA_F(fa_gelu_tanh_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    T zl, s2;
    T zh = FA_F(fa__gelut_z)(x, &zl);
    T a = FA_F(fa_exp_neg_lo_parts)(zh, zl, &s2);
    T e = a * s2;
    T D = (T)1 + e;
    T xa = FA_F(fa_abs)(x);
    xa = xa > FA__GT_XMAX ? FA__GT_XMAX : xa;      /* x w' finite (it meets e = 0) */
    T S = FA_F(fa_fma)((T)0x1.b6676bf7450f0p-3, xa * xa, (T)0x1.9884533d43651p+0);
    /* x <= 0: D + x S cancels (by ~2x near x = -1.2): one rounding, not two */
    T num = x > 0 ? FA_F(fa_fma)(xa * S, e, D) : (a * FA_F(fa_fma)(-xa, S, D)) * s2;
    return g * (num / (D * D));
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
 *         exp(-a^2/2) is kept as sc1*sc2*(1+q) and folded as f + f*q. */
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
FA_INLINE double fa_gelu_erf_fwd_d(double x, double p0, double p1, double p2, double p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    double xc = x < -FA__GE_AMAX ? -FA__GE_AMAX : (x > FA__GE_AMAX ? FA__GE_AMAX : x);
    double a = fa_abs_d(xc);
    double l;
    double s = fa_twoprod_d(a, a, &l);
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
 *   one division rounds subnormal results once.
 * |x| is clamped on its bits (an unsigned min): a float select would be
 * threaded by GCC into constant-folded copies of every polynomial. */
FA_INLINE T FA_F(fa_gelu_erf_fwd)(T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    uint32_t ub = fa_f2u(x) & 0x7fffffffu;
    ub = ub < 0x41680000u ? ub : 0x41680000u;                  /* 14.5f */
    float a = fa_u2f(ub);
    float h = a * a;
    float m = FA_F(fa_fma)(h, -0x1.715476p-1f, FA_F_MAGIC);
#if FA_HAVE_FMA
    float k = fmaf(m, 0x1.62E4p+0f, -FA_F_MAGIC * 0x1.62E4p+0f); /* 2 n ln2hi, exact */
    float v = fmaf(a, a, k);
#else
    float l;
    (void)fa_twoprod_f(a, a, &l);
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
    float t = ((a * FA_F(fa__gelue_P)(a)) * e) / q;
    /* x < 0 (not <=): +0 -> 0 + -0 = +0, -0 -> -0 + -0 = -0; NaN -> x + t */
    return x < 0 ? t : x + t;
}
/* Phi(x) + x phi(x):  x <= 0: E (R - a c0);  x > 0: 1 - E (R - a c0),
 * E = exp(-a^2/2), R = P/Qd, c0 = 1/sqrt(2 pi). */
FA_INLINE T FA_F(fa_gelu_erf_bwd)(T g, T x, T p0, T p1, T p2, T p3)
{
    FA__UNUSED4(p0, p1, p2, p3);
    /* clamped at 15, not 14.5: the derivative there must round to 0, as it
     * does beyond (the exp is unchecked; at 14.5 it is still -1.4e-45, and
     * the fit's extrapolation to 15 only moves values that round to 0) */
    T xc = x < (T)-15 ? (T)-15 : (x > (T)15 ? (T)15 : x);
    T a = FA_F(fa_abs)(xc);
    T s2;
    T ea = FA_F(fa__gauss_parts)(a, &s2);
    T Qd = FA_F(fa__gelue_Q)(a);
    T r = FA_F(fa__gelue_P)(a) - (a * (T)0x1.9884533d43651p-2) * Qd;
    T u = ((ea * r) * s2) / Qd;
    return g * (x > 0 ? (T)1 - u : u);
}
#endif

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

#undef FA__UNUSED4
#undef FA__MAXV
#undef FA__TANH_ZLO
#undef FA__GT_XMAX
#undef FA__GE_AMAX
#undef FA__BIGX
#undef FA__BIGP
#undef FA__LOG1P_E
