/* loops/sparsemax.h: sparsemax over contiguous rows (Martins & Astudillo
 * 2016), forward and backward from y.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype after loops/softmax.h (it uses fa_row_max and FA__JLOOP).
 *
 * sparsemax(x) = max(x - tau, 0) with tau such that the result sums to 1.
 * tau is found by Michelot's iteration in z = x - max(x): from the lower
 * bound tau = -1, tau <- (sum of z over z > tau - 1) / count, which rises
 * monotonically to the answer and stops when the support no longer
 * shrinks (at most L steps, a few in practice).  Every pass is a reduction
 * over FA_SPM_ACC partials in double in a fixed order, so results do not
 * depend on threads or layout. */
#define FA_SPM_ACC 16

/* sum and count of z = x - m over z > tau */
FA_INLINE double FA_F(fa__spm_sum)(const T *x, fa_idx L, T m, T tau, double *count)
{
    double acc[FA_SPM_ACC], cnt[FA_SPM_ACC];
    for (int j = 0; j < FA_SPM_ACC; j++) { acc[j] = 0; cnt[j] = 0; }
    fa_idx i = 0;
    for (; i + FA_SPM_ACC <= L; i += FA_SPM_ACC)
        FA__JLOOP(FA_SPM_ACC, const T z = x[i + j] - m; const int in = z > tau;
                  acc[j] += in ? (double)z : 0.0; cnt[j] += in ? 1.0 : 0.0);
    for (int w = FA_SPM_ACC / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) { acc[j] += acc[j + w]; cnt[j] += cnt[j + w]; }
    double s = acc[0], c = cnt[0];
    for (; i < L; i++) {
        const T z = x[i] - m;
        s += z > tau ? (double)z : 0.0;
        c += z > tau ? 1.0 : 0.0;
    }
    *count = c;
    return s;
}

/* 1 when the row holds a NaN or +inf (its result is a NaN row, as softmax) */
FA_INLINE int FA_F(fa__spm_bad)(const T *x, fa_idx L)
{
    T bad[FA_SPM_ACC];
    for (int j = 0; j < FA_SPM_ACC; j++) bad[j] = 0;
    fa_idx i = 0;
    for (; i + FA_SPM_ACC <= L; i += FA_SPM_ACC)
        FA__JLOOP(FA_SPM_ACC, const T v = x[i + j]; bad[j] = (v == v && v != (T)INFINITY) ? bad[j] : (T)1);
    int b = 0;
    for (int j = 0; j < FA_SPM_ACC; j++) b |= bad[j] != 0;
    for (; i < L; i++) b |= !(x[i] == x[i] && x[i] != (T)INFINITY);
    return b;
}

/* nr rows of length L (y may equal x).  A row of all -inf gives zeros. */
static void FA_F(fa_sparsemax_rows)(const T *x, T *y, fa_idx nr, fa_idx L)
{
    for (fa_idx r = 0; r < nr; r++, x += L, y += L) {
        const T m = FA_F(fa_row_max)(x, L, 16);
        if (FA_F(fa__spm_bad)(x, L) || m == (T)-INFINITY) {
            const T fill = m == (T)-INFINITY && !FA_F(fa__spm_bad)(x, L) ? (T)0 : (T)NAN;
            FA_IVDEP for (fa_idx i = 0; i < L; i++) y[i] = fill;
            continue;
        }
        double tau = -1.0, prev = (double)L + 1.0, c;
        for (;;) {
            const double s = FA_F(fa__spm_sum)(x, L, m, (T)tau, &c);
            if (c >= prev)
                break;
            prev = c;
            tau = (s - 1.0) / c;
        }
        const T t = (T)tau;
        /* z - t > 0 exactly when z > t: the support the sums were taken over */
        FA_IVDEP for (fa_idx i = 0; i < L; i++) {
            const T v = (x[i] - m) - t;
            y[i] = v > (T)0 ? v : (T)0;
        }
    }
}

/* out = s*(g - sum(s*g)/|S|), s = [y > 0] the support; NaN y or g give NaN
 * (grad first, then y); the support's sum is taken in double. */
static void FA_F(fa_sparsemax_bwd_rows)(const T *g, const T *y, T *out, fa_idx nr, fa_idx L)
{
    for (fa_idx r = 0; r < nr; r++, g += L, y += L, out += L) {
        double acc[FA_SPM_ACC], cnt[FA_SPM_ACC];
        for (int j = 0; j < FA_SPM_ACC; j++) { acc[j] = 0; cnt[j] = 0; }
        fa_idx i = 0;
        for (; i + FA_SPM_ACC <= L; i += FA_SPM_ACC)
            FA__JLOOP(FA_SPM_ACC, const int in = y[i + j] > (T)0;
                      acc[j] += in ? (double)g[i + j] : 0.0; cnt[j] += in ? 1.0 : 0.0);
        for (int w = FA_SPM_ACC / 2; w >= 1; w /= 2)
            for (int j = 0; j < w; j++) { acc[j] += acc[j + w]; cnt[j] += cnt[j + w]; }
        double s = acc[0], c = cnt[0];
        for (; i < L; i++) {
            s += y[i] > (T)0 ? (double)g[i] : 0.0;
            c += y[i] > (T)0 ? 1.0 : 0.0;
        }
        const T v = (T)(c > 0 ? s / c : 0.0);
        FA_IVDEP for (fa_idx k = 0; k < L; k++) {
            T o = y[k] > (T)0 ? g[k] - v : (T)0;
            o = y[k] != y[k] ? y[k] : o;
            out[k] = g[k] != g[k] ? g[k] : o;
        }
    }
}
