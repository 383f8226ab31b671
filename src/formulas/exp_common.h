/* formulas/exp_common.h: the start of the exp-based (transcendental)
 * activations: the type-dependent constants and the shared helpers (sigmoid,
 * tanh and silu cores, exact products, the gelu_tanh argument).
 * TEMPLATE (no include guard): src/formulas/exp.h includes it, then the
 * activations (sigmoid_tanh.h, elu.h, silu_mish.h, gelu.h, tanhshrink.h),
 * then undefines the constants; src/fa_kernels.h includes exp.h once per type
 * with
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
#  error "formulas/exp_common.h: define T, FA_F and FA_IS_DOUBLE before including"
#endif

#if FA_IS_DOUBLE
#  define FA__MAXV 0x1.fffffffffffffp+1023
#  define FA__TANH_ZLO (-20.0)          /* tanh(|x|>=19.1) == 1.0 */
#  define FA__GT_XMAX 30.0              /* gelu_tanh: sigma(w) == 0/1 beyond */
#  define FA__GE_AMAX 38.7              /* gelu_erf: exp(-a^2/2) < 2^-1075 beyond */
#  define FA__BIGX 1e6
#  define FA__BIGP 0x1p49               /* fa__div_hl: see there */
#  define FA__PROD_D 0x1p-600           /* fa__exp_neg_prod: see there */
#  define FA__CN_ZMAX 40.0              /* celu_neg: exp(-40) < 2^-54 */
#  define FA__LOG1P_E(e) fa_log1p_01_d(e)
#else
#  define FA__MAXV 0x1.fffffep+127f
#  define FA__TANH_ZLO (-9.5f)          /* tanh(|x|>=9.01) == 1.0f */
#  define FA__GT_XMAX 15.0f
#  define FA__GE_AMAX 14.5f             /* exp(-a^2/2) < 2^-150 beyond */
#  define FA__BIGX 1e6f
#  define FA__BIGP 0x1p20f
#  define FA__PROD_D 0x1p-110f
#  define FA__CN_ZMAX 20.0f             /* exp(-20) < 2^-25 */
/* log1p(exp(-|x|)) in softplus/log_sigmoid: reduction-free, about half the
 * operations, within the float32 bound of 4 ULP (bench/ulp) */
#  define FA__LOG1P_E(e) fa_log1p_01_fast_f(e)
#endif

#define FA__UNUSED4(a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))

/* ---------------- internal helpers ---------------- */

/* sigmoid(x) = (x>0 ? 1 : e) / (1+e), e = exp(-|x|): no cancellation, no 1/inf.
 * float: a NaN x gives garbage (the caller selects x for it). */
FA_INLINE T FA_F(fa__sigmoid)(T x)
{
    T s2;
#if FA_IS_DOUBLE
    T a = FA_F(fa_exp_nabs_parts)(x, &s2);
    T e = a * s2;
    return (x > 0 ? (T)1 : e) / FA_F(fa_fma)(a, s2, (T)1);
#else
    /* a = e 2^64: numerator and denominator both scaled by 2^64 (exact), one
     * multiplication less per vector; the same bits where e is normal, and
     * subnormal results rounded once instead of twice.  The arm is chosen
     * on the sign bit (no compare): at +-0 both arms are 2^64. */
    T z;
    T a = fa_exp_nabs_z_parts_nn_f(x, &s2, &z);
    return fa_ifneg_f(x, a, 0x1p64f) / (a + 0x1p64f);
#endif
}

/* exp(-|b*x|) = a * s2 with the product b*x taken exactly (twoprod): the
 * rounding of b*x would otherwise cost |b*x| ULP in the tails.  *bx gets the
 * rounded product (its sign and the thresholds are decided on it). */
FA_INLINE T FA_F(fa__exp_neg_prod)(T b, T x, T *s2, T *bx)
{
    T l;
#if FA_HAVE_FMA
    /* the twoprod's low part against h - d, d far below half an ulp of
     * any h that matters (it rounds to h there, so l is exact): for a tiny
     * h, b*x - h itself would be subnormal, which x86 runs through a
     * microcode assist (swish(beta=1.5) at |x| = 1e-36: 10x), where l ~ d
     * is normal and exp(-|h| + l) rounds to 1 all the same */
    T h = b * x;
    l = FA_F(fa_fma)(b, x, -(h - (T)FA__PROD_D));
#else
    T h = FA_F(fa_twoprod)(b, x, &l);
#endif
    T ah = FA_F(fa_abs)(h);
    T zl = h > 0 ? -l : l;                 /* garbage for huge |h|: exp's z < -104 select drops it */
    /* without FMA the split of a huge x overflows (l = NaN) also where h
     * is small (b = 0); a NaN x still gives a NaN h */
    zl = zl == zl ? zl : (T)0;
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

/* x/alpha as zh + zl (zl ~ exact residual), for celu.  |zl| is up to about
 * 1.5 ulp(zh) (zh rounds x times a rounded 1/alpha), which reaches 1 near
 * |zh| = 2^22 (float) / 2^51 (double): there celu_neg's 1 + zl and zl - m
 * change sign.  Beyond FA__BIGP = 2^20 / 2^49 every celu result is
 * saturated (exp(|zh|) overflows times any alpha, exp(-|zh|) is 0), so zl is
 * dropped there; this also keeps the product zh*alpha from overflowing. */
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
#if FA_IS_DOUBLE
    T a = FA_F(fa_exp_nabs_z_parts)(x, &s2, &z);
    T num = x >= 0 ? x : (z * a) * s2;
#else
    /* a NaN x gives garbage (the caller selects x for it); the arm is chosen
     * on the sign bit: -0 takes z a s2 = -0, as x would give */
    T a = fa_exp_nabs_z_parts_nn_f(x, &s2, &z);
    T num = fa_ifneg_f(x, (z * a) * s2, x);
#endif
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

/* x * sigmoid(beta*x), any real beta, with the product b = beta*x taken
 * exactly; the 2^n scale as in fa__silu; the limits at +-inf (-0 or +0 where
 * x*sigmoid -> 0, x where it is x).  b = +-0 (beta = 0,
 * or an underflow) takes the x branch: e = 1 there, and x * a would overflow
 * for |x| > 2^64 below FLT_MAX / DBL_MAX. */
FA_INLINE T FA_F(fa__x_sigmoid)(T x, T beta)
{
    T s2, b;
    T a = FA_F(fa__exp_neg_prod)(beta, x, &s2, &b);
    T xm = FA_F(fa_maxneg)(x, -FA__MAXV);         /* +-inf * 0 would be NaN */
    xm = xm > FA__MAXV ? FA__MAXV : xm;           /* +inf with beta < 0 */
    T num = b >= 0 ? x : (xm * a) * s2;
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
 * cvtpd2ps is 2 uops and halves the vector width).
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
