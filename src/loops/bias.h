/* loops/bias.h: the fused bias + activation rows, forward and backward.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* y = f(x + bias[j]) over rows of length ncol (bias on the last axis): the
 * add and the activation in one pass over memory.  y may be x.  Beyond the
 * caches it prefetches like fa_fwd_block (the hardware prefetcher falls
 * behind slow kernels).
 * The NaN rule (loops/common.h: a NaN sum gives the first NaN of x and bias,
 * else fa_qnan) is applied as fa_bwd_block applies it: the vectorized loop
 * stores the bare formula and notes a NaN sum, and only a sub-block with one
 * is fixed up (the rule in the loop costs more than a cheap activation).
 * The fix-up reads x as it was, so in place the loop also keeps x in a stack
 * buffer: one store per element, less than computing into the buffer and
 * copying out or looking for a NaN sum before the loop. */
#undef FA__SUM_NAN_SEEN
#if FA_IS_DOUBLE
#define FA__SUM_NAN_SEEN(bad, x, b, m) FA_F(fa__any_nan_sum)(x, b, m)
#else
#define FA__SUM_NAN_SEEN(bad, x, b, m) FA__NAN_SEEN(bad, x, m)
#endif

/* whether any x[j] + b[j], j < m, is NaN */
FA_INLINE int FA_F(fa__any_nan_sum)(const T *x, const T *b, fa_idx m)
{
    T seen = 0;
    FA_IVDEP for (fa_idx j = 0; j < m; j++) {
        const T t = x[j] + b[j];
        seen = t != t ? (T)1 : seen;
    }
    return seen != 0;
}

/* d[j] = the NaN rule's result where x[j] + b[j] is NaN (d[j] elsewhere) */
static void FA_F(fa__nan_fix_sum)(T *d, const T *x, const T *b, fa_idx m)
{
    for (fa_idx j = 0; j < m; j++) {
        const T t = x[j] + b[j];
        if (t != t)
            d[j] = FA_F(fa_nan_of2)(t, x[j], b[j]);
    }
}

/* one sub-block yc[j] = f(xc[j] + bc[j]), j < m, noting a NaN sum in bad;
 * KEEP runs in each iteration before yc[j] is written (in place it keeps
 * xc[j] in tmp for the fix-up) */
#define FA__BIAS_SUB(name, KEEP) \
    FA_IVDEP for (fa_idx j = 0; j < m; j++) { \
        const T t_ = xc[j] + bc[j]; \
        KEEP; \
        yc[j] = FA_F(fa_##name##_fwd)(t_, p0, p1, p2, p3); \
        FA__NAN_NOTE(bad, t_); \
    }

static int FA_F(fa_bias_fwd_rows)(int k, const T *x, const T *bias, T *y, fa_idx nrow, fa_idx ncol,
                                  const double *p)
{
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const fa_idx n = nrow * ncol;
    const int pf = FA__PF_ON(k, n), alias = x == y;
    fa_idx done = 0;
    FA_ALIGN64 T tmp[FA_NAN_SUB];
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        for (fa_idx r = 0; r < nrow; r++) { \
            const T *xr = x + r * ncol; T *yr = y + r * ncol; \
            for (fa_idx j0 = 0; j0 < ncol; j0 += FA_PF_BLOCK) { \
                fa_idx je = ncol - j0 < FA_PF_BLOCK ? ncol : j0 + FA_PF_BLOCK; \
                if (pf) FA_F(fa__prefetch_upto)(x, NULL, &done, r * ncol + j0 + (FA_PF_AHEAD + 1) * FA_PF_BLOCK, n, 0); \
                for (fa_idx c = j0; c < je; c += FA_NAN_SUB) { \
                    const fa_idx m = je - c < FA_NAN_SUB ? je - c : FA_NAN_SUB; \
                    const T *xc = xr + c, *bc = bias + c; \
                    T *yc = yr + c; \
                    uint32_t bad = 0; \
                    const T *xs = alias ? tmp : xc;     /* x as it was */ \
                    if (alias) { \
                        FA__BIAS_SUB(name, tmp[j] = xc[j]) \
                    } else { \
                        FA__BIAS_SUB(name, (void)0) \
                    } \
                    if (FA__SUM_NAN_SEEN(bad, xs, bc, m)) FA_F(fa__nan_fix_sum)(yc, xs, bc, m); \
                } \
            } \
        } \
        return 0;
    FA_KERNELS(FA_CASE)
#undef FA_CASE
    default: return -1;
    }
}

/* out = g * f'(x + bias[j]) (from_y = 0: s = the pre-bias input x) or
 * g * f'(.) from the forward output (from_y = 1: s = y, bias unused). */
static int FA_F(fa_bias_bwd_rows)(int k, int from_y, const T *g, const T *s, const T *bias, T *out,
                                  fa_idx nrow, fa_idx ncol, const double *p)
{
    if (from_y)
        return FA_F(fa_bwd_block)(k, 1, g, s, out, nrow * ncol, p);
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const fa_idx n = nrow * ncol;
    const int pf = FA__PF_ON(k, n);
    fa_idx done = 0;
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        for (fa_idx r = 0; r < nrow; r++) { \
            const T *gr = g + r * ncol, *sr = s + r * ncol; T *orow = out + r * ncol; \
            for (fa_idx j0 = 0; j0 < ncol; j0 += FA_PF_BLOCK) { \
                fa_idx je = ncol - j0 < FA_PF_BLOCK ? ncol : j0 + FA_PF_BLOCK; \
                if (pf) FA_F(fa__prefetch_upto)(g, s, &done, r * ncol + j0 + (FA_PF_AHEAD + 1) * FA_PF_BLOCK, n, 0); \
                FA_IVDEP for (fa_idx j = j0; j < je; j++) { \
                    const T t_ = FA_F(fa_nan_of2)(sr[j] + bias[j], sr[j], bias[j]); \
                    orow[j] = FA_F(fa_nan_of2)(FA_F(fa_##name##_bwd)(gr[j], t_, p0, p1, p2, p3), gr[j], t_); \
                } \
            } \
        } \
        return 0;
    FA_KERNELS(FA_CASE)
#undef FA_CASE
    default: return -1;
    }
}
#undef FA__BIAS_SUB

/* acc[j] += x[r * ncol + j] over nrow rows, in row order: the bias gradient
 * (float64 sums) of a block of fa_bias_bwd_rows' output, summed while it is
 * in L1 */
static void FA_F(fa_colsum)(const T *x, double *acc, fa_idx nrow, fa_idx ncol)
{
    for (fa_idx r = 0; r < nrow; r++) {
        const T *xr = x + r * ncol;
        FA_IVDEP for (fa_idx j = 0; j < ncol; j++)
            acc[j] += (double)xr[j];
    }
}
