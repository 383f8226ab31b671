/* loops/prelu.h: prelu with a per-channel slope, channel axis last (columns)
 * or not (a scalar slope per contiguous row), forward and backward (with the
 * dL/dalpha sums).
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* prelu with the channel axis last: rows of length ncol, slope alpha[j] per
 * column (the short form when no slope is 0, the usual case). */
/* fa_leaky_fwd without its max: a compare, a product and a select per element
 * (an underflowed product is +0, as there); a NaN x is not < 0 and passes as
 * itself.  Not for s = 0, where 0*(-inf) would be NaN (fa_relu_fwd). */
FA_INLINE T FA_F(fa__prelu_fwd)(T x, T s)
{
    return x < (T)0 ? s * x + (T)0 : x;
}
/* the same for any s: a zero slope gives +0 below 0, -inf included */
FA_INLINE T FA_F(fa__prelu_fwd0)(T x, T s)
{
    return x < (T)0 ? (s != (T)0 ? s * x : (T)0) + (T)0 : x;
}

/* whether no slope is 0: the rows then take fa__prelu_fwd (also the half
 * loops' choice, loops/half.h) */
FA_INLINE int FA_F(fa__prelu_nonzero)(const T *alpha, fa_idx ncol)
{
    int nonzero = 1;
    for (fa_idx j = 0; j < ncol; j++)
        nonzero &= alpha[j] != (T)0;
    return nonzero;
}

static void FA_F(fa_prelu_cols)(const T *x, T *y, fa_idx nrow, fa_idx ncol, const T *alpha)
{
    const int nonzero = FA_F(fa__prelu_nonzero)(alpha, ncol);
    for (fa_idx r = 0; r < nrow; r++) {
        const T *xr = x + r * ncol;
        T *yr = y + r * ncol;
        if (nonzero) {
            FA_IVDEP for (fa_idx j = 0; j < ncol; j++)
                yr[j] = FA_F(fa__prelu_fwd)(xr[j], alpha[j]);
        } else {
            FA_IVDEP for (fa_idx j = 0; j < ncol; j++)
                yr[j] = FA_F(fa__prelu_fwd0)(xr[j], alpha[j]);
        }
    }
}

/* Its backward: grad_x as relu's backward with slope alpha[j]; gsum[j] (double)
 * accumulates dL/dalpha_j = sum of (x > 0 ? 0 : x*g) over the rows.  Reads all
 * of g and x for an element before writing out, so out may be g. */
static void FA_F(fa_prelu_cols_bwd)(const T *g, const T *x, T *out, fa_idx nrow, fa_idx ncol,
                                    const T *alpha, double *gsum)
{
    for (fa_idx r = 0; r < nrow; r++) {
        const T *gr = g + r * ncol, *xr = x + r * ncol;
        T *orow = out + r * ncol;
        /* two loops: the float->double accumulate and the float select
         * vectorize separately (together GCC 12 gives up on SSE2); the
         * first reads g before the second may overwrite it (out may be g) */
        FA_IVDEP for (fa_idx j = 0; j < ncol; j++) {
            T p = xr[j] * gr[j];            /* outside the select: GCC if-converts */
            gsum[j] += (double)(xr[j] > (T)0 ? (T)0 : p);
        }
        FA_IVDEP for (fa_idx j = 0; j < ncol; j++)
            orow[j] = FA_F(fa_nan_of2)(FA_F(fa_relu_bwd)(gr[j], xr[j], (T)INFINITY, alpha[j], (T)0, (T)0),
                                       gr[j], xr[j]);
    }
    for (fa_idx j = 0; j < ncol; j++)       /* a NaN sum: the default quiet NaN */
        gsum[j] = gsum[j] != gsum[j] ? fa_u2d(0x7ff8000000000000ull) : gsum[j];
}

/* prelu with a scalar slope on a contiguous row (channel axis not last). */
static void FA_F(fa_prelu_row)(const T *x, T *y, fa_idx n, T a)
{
    if (a != (T)0) {
        FA_IVDEP for (fa_idx i = 0; i < n; i++)
            y[i] = FA_F(fa__prelu_fwd)(x[i], a);
        return;
    }
    FA_IVDEP for (fa_idx i = 0; i < n; i++)
        y[i] = FA_F(fa__prelu_fwd0)(x[i], a);
}

/* Its backward: returns sum(x > 0 ? 0 : x*g) in double, 8 partial sums in a fixed order. */
static double FA_F(fa_prelu_row_bwd)(const T *g, const T *x, T *out, fa_idx n, T a)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    fa_idx i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            T gj = g[i + j], xj = x[i + j];
            acc[j] += (double)(xj > (T)0 ? (T)0 : xj * gj);
            out[i + j] = FA_F(fa_nan_of2)(FA_F(fa_relu_bwd)(gj, xj, (T)INFINITY, a, (T)0, (T)0), gj, xj);
        }
    double s = 0;
    for (; i < n; i++) {
        T gj = g[i], xj = x[i];
        s += (double)(xj > (T)0 ? (T)0 : xj * gj);
        out[i] = FA_F(fa_nan_of2)(FA_F(fa_relu_bwd)(gj, xj, (T)INFINITY, a, (T)0, (T)0), gj, xj);
    }
    for (int j = 0; j < 8; j++) s += acc[j];
    return s != s ? fa_u2d(0x7ff8000000000000ull) : s;     /* a NaN sum: the default quiet NaN */
}
