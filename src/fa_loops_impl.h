/* fa_loops_impl.h: TEMPLATE BODY (T, FA_F) of the loops over contiguous
 * blocks.  Each case of a switch is one counted loop over raw pointers whose
 * body is an always-inline formula: this is what the compiler vectorizes.
 * FA_IVDEP is correct because every loop is a pure element-wise map: out may
 * equal an input exactly (in-place), and Python rejects partial overlap. */

/* Arrays beyond the L2 cache are walked in blocks of FA_PF_BYTES, each block
 * first prefetching (into L1) the block FA_PF_AHEAD blocks ahead.  The
 * hardware prefetcher does not run far enough ahead of a slow, compute-bound
 * loop: on the development machine (1 thread, float32, in place) sigmoid ran
 * at 0.28 -> 0.25 ns/element on 1M elements (4 MB) and 0.83 -> 0.36 on 16M,
 * gelu(erf) 0.45 -> 0.34 and 1.23 -> 0.43.  A block is 16 cache lines: with
 * 32 the burst of prefetches overflows the line-fill buffers and loses most
 * of the gain.  Below FA_PF_MIN_BYTES the data is in L2 and the prefetches
 * only cost issue slots (1-3%). */
#define FA_PF_BYTES 1024
#define FA_PF_BLOCK ((fa_idx)(FA_PF_BYTES / sizeof(T)))
#define FA_PF_AHEAD 2
#define FA_PF_MIN_BYTES (1u << 20)
#define FA_PF_LINE (64 / (fa_idx)sizeof(T))

/* Only the transcendental kernels prefetch: the cheap ones are memory-bound
 * and keep up with the hardware prefetcher, where the extra prefetches cost
 * them ~8% (16M float32 relu_(max=6), 2 threads: 2.05 -> 2.2-2.4 ms). */
#ifndef FA__PF_KERNEL
#define FA__PF_KERNEL
static int fa__pf_kernel(int k)
{
    switch (k) {
#define FA_CASE(name) case FA_K_##name:
    FA_TRANSC_KERNELS(FA_CASE)
#undef FA_CASE
        return 1;
    default:
        return 0;
    }
}
#endif

/* Software prefetch: *done is the flat index up to which a (and b unless
 * NULL) have been prefetched; bring it to `want` (capped at n).  The loops
 * call it at the start of each block with the block's start + FA_PF_AHEAD + 1
 * blocks, so that block FA_PF_AHEAD ahead is prefetched once, also when the
 * blocks are rows shorter than a block or a short aligned head. */
FA_INLINE void FA_F(fa__prefetch_upto)(const T *a, const T *b, fa_idx *done, fa_idx want, fa_idx n)
{
    fa_idx i = *done;
    if (want > n) want = n;
    for (; i < want; i += FA_PF_LINE) {
        FA_PREFETCH(a + i);
        if (b) FA_PREFETCH(b + i);
    }
    if (i > *done) *done = i;
}

/* Whether a chunk of n elements of kernel k is walked in prefetching blocks. */
#define FA__PF_ON(k, n) ((size_t)(n) * sizeof(T) >= FA_PF_MIN_BYTES && fa__pf_kernel(k))

/* Elements before the first 64-byte boundary of the output: NumPy's large
 * arrays start 16 bytes past a page, so every AVX-512 store (and load, in
 * place) would straddle two cache lines; peeling this head first gained
 * 2-8% (1M float32 sigmoid 0.30 -> 0.26 ns/element in one run).  Not for
 * short arrays, where the extra loop entry costs more than it saves. */
FA_INLINE fa_idx FA_F(fa__align_head)(const T *y, fa_idx n)
{
    fa_idx h = (fa_idx)((64 - ((uintptr_t)y & 63)) & 63) / (fa_idx)sizeof(T);
    return n < 1024 ? 0 : h;
}

/* The blocks of a chunk: [0, head) (if any), then blocks of blk up to n. */
#define FA__BLOCKS(b, e, head, blk, n) \
    for (fa_idx b = 0, e = (head) ? (head) : ((n) < (blk) ? (n) : (blk)); b < (n); \
         b = e, e = (n) - e < (blk) ? (n) : e + (blk))

/* NaN results are bit-exact and never depend on the thread count, the
 * layout or the position (which instruction a compiler picks for a NaN
 * operand differs between the vector body, the scalar tail and between
 * ISAs, and so does the sign of the NaN it creates):
 *   - an element-wise forward returns its input NaN's exact bits
 *     (fa_nan_in, one select after the formula);
 *   - any other NaN result is the first NaN among the listed operands
 *     (fa_nan_of2, fa_nan_first3: grad, then the saved x or y), else the default quiet
 *     NaN fa_qnan (positive, zero payload);
 *   - reductions (softmax rows, dL/dalpha sums) give fa_qnan (fa_nan_canon).
 * The selects are branch-free, so the loops still vectorize. */
FA_INLINE T FA_F(fa_qnan)(void)
{
#if FA_IS_DOUBLE
    return fa_u2d(0x7ff8000000000000ull);
#else
    return fa_u2f(0x7fc00000u);
#endif
}
FA_INLINE T FA_F(fa_nan_in)(T x, T r) { return x != x ? x : r; }
FA_INLINE T FA_F(fa_nan_canon)(T r) { return r != r ? FA_F(fa_qnan)() : r; }
FA_INLINE T FA_F(fa_nan_of2)(T r, T a, T b)
{
    T n = a != a ? a : b != b ? b : FA_F(fa_qnan)();
    return r != r ? n : r;
}
/* the NaN of fa_nan_of3(r, a, b, c), computed once for two results:
 * r != r ? fa_nan_first3(a, b, c) : r (one chain of selects per element is
 * what GCC still if-converts in the glu backward loop) */
FA_INLINE T FA_F(fa_nan_first3)(T a, T b, T c)
{
    return a != a ? a : b != b ? b : c != c ? c : FA_F(fa_qnan)();
}

/* y[i] = f(x[i]) for i < n.  Returns -1 for an unknown kernel id.  The block
 * loop sits inside each case (one block when not prefetching): a switch per
 * block of 16 cache lines would cost more than the prefetch gains. */
static int FA_F(fa_fwd_block)(int k, const T *x, T *y, fa_idx n, const double *p)
{
    if (k == FA_K_linear && x == y)     /* identity in place: nothing to do (and GCC would */
        return 0;                       /* turn the copy loop into memcpy(x, x, n)) */
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const int pf = FA__PF_ON(k, n);
    const fa_idx blk = pf ? FA_PF_BLOCK : n, head = FA_F(fa__align_head)(y, n);
    fa_idx done = FA_PF_AHEAD * blk;                /* blocks 0 .. AHEAD-1: not prefetched */
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        FA__BLOCKS(b, e, head, blk, n) { \
            if (pf) FA_F(fa__prefetch_upto)(x, NULL, &done, b + (FA_PF_AHEAD + 1) * blk, n); \
            FA_IVDEP for (fa_idx i = b; i < e; i++) \
                y[i] = FA_F(fa_nan_in)(x[i], FA_F(fa_##name##_fwd)(x[i], p0, p1, p2, p3)); \
        } \
        return 0;
    FA_KERNELS(FA_CASE)
#undef FA_CASE
    default: return -1;
    }
}

/* out[i] = g[i] * f'(x[i]) (from_y = 0) or from the saved output s = y. */
static int FA_F(fa_bwd_block)(int k, int from_y, const T *g, const T *s, T *out,
                              fa_idx n, const double *p)
{
    if (k == FA_K_linear && g == out)   /* linear' = 1: grad in place is the answer */
        return 0;
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const int pf = FA__PF_ON(k, n);
    const fa_idx blk = pf ? FA_PF_BLOCK : n, head = FA_F(fa__align_head)(out, n);
    fa_idx done = FA_PF_AHEAD * blk;
    if (!from_y) {
        switch (k) {
#define FA_CASE(name) case FA_K_##name: \
            FA__BLOCKS(b, e, head, blk, n) { \
                if (pf) FA_F(fa__prefetch_upto)(g, s, &done, b + (FA_PF_AHEAD + 1) * blk, n); \
                FA_IVDEP for (fa_idx i = b; i < e; i++) \
                    out[i] = FA_F(fa_nan_of2)(FA_F(fa_##name##_bwd)(g[i], s[i], p0, p1, p2, p3), g[i], s[i]); \
            } \
            return 0;
        FA_KERNELS(FA_CASE)
#undef FA_CASE
        default: return -1;
        }
    }
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        FA__BLOCKS(b, e, head, blk, n) { \
            if (pf) FA_F(fa__prefetch_upto)(g, s, &done, b + (FA_PF_AHEAD + 1) * blk, n); \
            FA_IVDEP for (fa_idx i = b; i < e; i++) \
                out[i] = FA_F(fa_nan_of2)(FA_F(fa_##name##_bwdy)(g[i], s[i], p0, p1, p2, p3), g[i], s[i]); \
        } \
        return 0;
    FA_BWDY_KERNELS(FA_CASE)
#undef FA_CASE
    default: return -1;
    }
}

/* Strided 1-D versions (strides in bytes, any sign): gather a block into a
 * stack buffer, run the vectorized contiguous kernel, scatter it back.  Every
 * block is read completely before any of it is written, so out may be the
 * same view as an input. */
static int FA_F(fa_fwd_strided)(int k, const char *x, fa_idx sx, char *y, fa_idx sy,
                                fa_idx n, const double *p)
{
    T buf[FA_STRIDED_BUF];
    int rc = 0;
    for (fa_idx s = 0; s < n; s += FA_STRIDED_BUF) {
        fa_idx m = n - s < FA_STRIDED_BUF ? n - s : FA_STRIDED_BUF;
        for (fa_idx i = 0; i < m; i++) buf[i] = *(const T *)(x + (s + i) * sx);
        rc |= FA_F(fa_fwd_block)(k, buf, buf, m, p);
        for (fa_idx i = 0; i < m; i++) *(T *)(y + (s + i) * sy) = buf[i];
    }
    return rc;
}

static int FA_F(fa_bwd_strided)(int k, int from_y, const char *g, fa_idx sg,
                                const char *x, fa_idx sx, char *out, fa_idx so,
                                fa_idx n, const double *p)
{
    T bg[FA_STRIDED_BUF], bx[FA_STRIDED_BUF];
    int rc = 0;
    for (fa_idx s = 0; s < n; s += FA_STRIDED_BUF) {
        fa_idx m = n - s < FA_STRIDED_BUF ? n - s : FA_STRIDED_BUF;
        for (fa_idx i = 0; i < m; i++) {
            bg[i] = *(const T *)(g + (s + i) * sg);
            bx[i] = *(const T *)(x + (s + i) * sx);
        }
        rc |= FA_F(fa_bwd_block)(k, from_y, bg, bx, bg, m, p);
        for (fa_idx i = 0; i < m; i++) *(T *)(out + (s + i) * so) = bg[i];
    }
    return rc;
}

/* prelu with the channel axis last: rows of length ncol, slope alpha[j] per
 * column (the relu formula with a per-column negative slope). */
static void FA_F(fa_prelu_cols)(const T *x, T *y, fa_idx nrow, fa_idx ncol, const T *alpha)
{
    for (fa_idx r = 0; r < nrow; r++) {
        const T *xr = x + r * ncol;
        T *yr = y + r * ncol;
        FA_IVDEP for (fa_idx j = 0; j < ncol; j++)
            yr[j] = FA_F(fa_nan_in)(xr[j], FA_F(fa_relu_fwd)(xr[j], (T)INFINITY, alpha[j], (T)0, (T)0));
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
    FA_IVDEP for (fa_idx i = 0; i < n; i++)
        y[i] = FA_F(fa_nan_in)(x[i], FA_F(fa_relu_fwd)(x[i], (T)INFINITY, a, (T)0, (T)0));
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

/* softmax / log_softmax over contiguous rows of length L (y may equal x).
 * A row whose max is -inf (all -inf, or L == 0) gives zeros / -inf; NaN or
 * +inf anywhere in a row gives a NaN row (as PyTorch). */
/* Reductions keep FA_ACC partial results (in a fixed order, so results do
 * not depend on threads).  nacc is a compile-time constant at every call
 * (the functions are always inlined): 64 (four 512-bit chains; one chain is
 * latency-bound) for long rows, 16 for short rows, where setting up and
 * folding 64 partials costs more than the row, 4 under 16 (FA_NACC below). */
#define FA_ACC 64
/* the vector block of the row tails: one vector of the target (AVX-512: 16
 * floats, 8 doubles; 16 doubles made float64 rows of 24 14% slower) */
#define FA_TV (FA_VEC_BYTES / (int)sizeof(T))
/* The tail of t = L % nacc elements of a row reduction goes into the
 * partials aligned to their end: element k into partial k - L + nacc, each
 * partial getting at most one, as one masked vector step over the block
 * [L - FA_TV, L) or [L - nacc, L).  A serial sum of the tail is a latency
 * chain of t dependent adds (rows of 31: 15), but for short tails it is
 * cheaper than the vector step (in-process A/B, 1M elements: t = 1 rows of
 * 17 10% slower, float64 t = 4..8 9-28%; float64 on AVX2 and float32 on
 * SSE2 rows of 24 13-26%), so only tails of at least FA_TAIL_MIN with 16
 * or 64 partials, float32 on AVX2/AVX-512 and float64 on AVX-512, are
 * end-aligned; the others keep the serial sum, added after the fold.  The
 * column kernels follow the same rule, so both give the same bits. */
#define FA_TAIL_MIN (FA_VEC_BYTES < (FA_IS_DOUBLE ? 64 : 32) ? 1 << 30 : FA_IS_DOUBLE ? FA_TV + 1 : FA_TV / 2 + 1)
#define FA_TAIL_SERIAL(nacc, t) ((nacc) < 16 || (t) < FA_TAIL_MIN)
/* The end-aligned step: acc[off + j] += V for the last t lanes j of a block
 * of w lanes ending at the row's end (V may use j).  The lanes before the
 * tail add +0, which leaves a partial as it is (partials start at +0 and
 * are never -0).  The lane test is in TS, the partials' type, so that its
 * mask has their lane width; V is computed before the select (inside it,
 * log_softmax rows of 31 ran 5% slower). */
#define FA__TAIL_ADD(TS, w, off, t, V) \
    do { \
        const TS j0_ = (TS)((w) - (int)(t)); \
        FA__JLOOP(w, const TS v_ = (TS)(V); acc[(off) + j] += (TS)j >= j0_ ? v_ : (TS)0); \
    } while (0)
/* a serial tail's last r elements take the block ending at the row's end
 * from r = 3 (shorter: scalar; rows of 17: 16 exps cost 7% more than 1) */
#define FA_OV_MIN 3
#ifndef FA_SMC
#define FA_SMC 64          /* rows per row block; columns per column strip */
#define FA_SMC_ACC 64
#endif
/* BODY for j in [0, nacc): the step over the nacc partials of a row
 * reduction.  Below 64 partials as a loop GCC must not unroll (FA_NOUNROLL):
 * then it vectorizes it with the partials in registers, where the fully
 * unrolled SLP form was scalar or went through the stack (1M float32 in rows
 * of 64, 1 thread: softmax 0.82 -> 0.59 ns/element, rows of 16 1.29 -> 1.07).
 * With 64 the plain loop is faster (rows of 1024: 0.45 vs 0.47). */
#ifndef FA__JLOOP
#define FA__JLOOP(nacc, BODY) \
    do { \
        if ((nacc) >= 64) { for (int j = 0; j < (nacc); j++) { BODY; } } \
        else { FA_NOUNROLL FA_IVDEP for (int j = 0; j < (nacc); j++) { BODY; } } \
    } while (0)
#endif

FA_INLINE T FA_F(fa_row_max)(const T *x, fa_idx L, int nacc)
{
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = (T)-INFINITY;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc)
        FA__JLOOP(nacc, acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j]);
    T m = (T)-INFINITY;
    if (nacc >= FA_TV && i < L && L >= FA_TV) {
        /* the tail: FA_TV-blocks, then the block x[L-FA_TV, L), which
         * overlaps what came before (max does not mind): no serial chain */
        if (nacc > FA_TV)
            for (; i + FA_TV <= L; i += FA_TV) FA__JLOOP(FA_TV, acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j]);
        if (i < L) FA__JLOOP(FA_TV, acc[j] = x[L - FA_TV + j] > acc[j] ? x[L - FA_TV + j] : acc[j]);
        i = L;
    }
    for (; i < L; i++) m = x[i] > m ? x[i] : m;
    for (int w = nacc / 2; w >= 1; w /= 2)      /* tree fold: vector ops, not a serial chain */
        for (int j = 0; j < w; j++) acc[j] = acc[j + w] > acc[j] ? acc[j + w] : acc[j];
    return acc[0] > m ? acc[0] : m;
}

/* exp(x - m) for x <= m.  x - m is rounded (it is exact only when x and m
 * are within a factor 2), and exp turns an absolute argument error d into a
 * relative one: |x - m| = 20 would cost ~10 ULP.  TwoSum recovers the
 * rounding error d exactly and exp(hi + d) = exp(hi)*(1 + d) to first order. */
FA_INLINE T FA_F(fa_exp_diff)(T x, T m)
{
    T hi = x - m;
    T bb = hi - x;
    T d = (x - (hi - bb)) + (-m - bb);
    d = d == d ? d : (T)0;            /* x = -inf: hi = -inf, d = NaN */
    T e = FA_F(fa_exp_neg)(hi);
    return e + e * d;
}

/* x - m - ls with the rounding error of x - m put back. */
FA_INLINE T FA_F(fa_logsm)(T x, T m, T ls)
{
    T hi = x - m;
    T bb = hi - x;
    T d = (x - (hi - bb)) + (-m - bb);
    d = d == d ? d : (T)0;
    return (hi - ls) + d;
}

/* In the sum loops: prefetch the elements of pfp (the same row of the next
 * block) matching the nacc just summed, one step at a time (pfp NULL: none). */
#ifndef FA__PF_STEP
#define FA__PF_STEP(pfp, i, nacc) \
    if (pfp) for (int k_ = 0; k_ < (nacc); k_ += FA_PF_LINE) FA_PREFETCH((pfp) + (i) + k_)
#endif

/* y[i] = exp(x[i] - m); returns the sum, accumulated in double (FA_ACC
 * partial sums in a fixed order, so the result never depends on threads). */
FA_INLINE double FA_F(fa_row_expsum)(const T *x, T *y, fa_idx L, T m, int nacc, const T *pfp)
{
    double acc[FA_ACC];
    T et[16];
    const fa_idx t = L % nacc, r = L % FA_TV;
    const int ser = FA_TAIL_SERIAL(nacc, t);
    /* exps of the block [L - FA_TV, L) (or [L - 16, L)) first, while x is
     * intact (y may be x), stored whole at the end (its lanes before the
     * tail rewrite the values already there: same x, same m): for a serial
     * tail whose last r >= 3 elements fill it (ov), for an end-aligned tail
     * within it (eb), or any end-aligned tail of 16 partials (e16).  Longer
     * tails (64 partials) reload their exps from y (with 16 partials that
     * made float64 rows of 31 54% slower). */
    const int ov = ser && nacc >= FA_TV && r >= FA_OV_MIN && L >= FA_TV;
    const int eb = !ser && t <= FA_TV;
    const int e16 = !ser && !eb && nacc == 16;
    if (ov || eb) FA__JLOOP(FA_TV, et[j] = FA_F(fa_exp_diff)(x[L - FA_TV + j], m));
    if (e16) FA__JLOOP(16, et[j] = FA_F(fa_exp_diff)(x[L - 16 + j], m));
    for (int j = 0; j < nacc; j++) acc[j] = 0;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc) {
        FA__PF_STEP(pfp, i, nacc);
        FA__JLOOP(nacc, T e = FA_F(fa_exp_diff)(x[i + j], m); y[i + j] = e; acc[j] += (double)e);
    }
    /* the tail's exps as vectors where possible (a scalar exp per element
     * made rows of 31 cost 2.3 ns/element against 0.8 for rows of 32) */
    double s = 0;
    /* FA_TV-blocks: tails of 64 (double: 16 or 64) partials, serial or
     * longer than FA_TV; one loop for both, so it exists in every build */
    if (nacc > FA_TV && t > FA_TV - 1 && !eb && !e16)
        FA_IVDEP for (fa_idx k = i; k < L - r; k++) y[k] = FA_F(fa_exp_diff)(x[k], m);
    if (ser) {                        /* (rows without a tail skip it all: rows of 16 8% faster) */
        if (nacc >= FA_TV && i < L) {
            if (ov) FA__JLOOP(FA_TV, y[L - FA_TV + j] = et[j]);
            const fa_idx ie = ov ? L : L - r;
            for (; i < ie; i++) s += (double)y[i];
        }
        for (; i < L; i++) { T e = FA_F(fa_exp_diff)(x[i], m); y[i] = e; s += (double)e; }
    } else if (eb) {
        FA__JLOOP(FA_TV, y[L - FA_TV + j] = et[j]);
        FA__TAIL_ADD(double, FA_TV, nacc - FA_TV, t, et[j]);
    } else if (e16) {
        FA__JLOOP(16, y[L - 16 + j] = et[j]);
        FA__TAIL_ADD(double, 16, 0, t, et[j]);
    } else {                          /* 64 partials, t > FA_TV: FA_TV-blocks, the rest, one add */
        for (fa_idx k = L - r; k < L; k++) y[k] = FA_F(fa_exp_diff)(x[k], m);
        FA__TAIL_ADD(double, nacc, 0, t, y[L - nacc + j]);
    }
    for (int w = nacc / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return s + acc[0];
}

FA_INLINE T FA_F(fa_row_dot)(const T *a, const T *b, fa_idx L, int nacc)
{
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = 0;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc)
        FA__JLOOP(nacc, acc[j] += a[i + j] * b[i + j]);
    T s = 0;
    if (FA_TAIL_SERIAL(nacc, L - i)) {
        for (; i < L; i++) s += a[i] * b[i];
    } else {
        FA__TAIL_ADD(T, nacc, 0, L - i, a[L - nacc + j] * b[L - nacc + j]);
    }
    for (int w = nacc / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return s + acc[0];
}

/* sum(exp(x - m)) for log_softmax: the values are only needed for the sum,
 * so they are not stored (y may be x; x is read again in the final pass);
 * the sum only enters through log, where argument errors average out. */
FA_INLINE T FA_F(fa_row_logsum)(const T *x, fa_idx L, T m, int nacc, const T *pfp)
{
    T s = 0;
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = 0;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc) {
        FA__PF_STEP(pfp, i, nacc);
        FA__JLOOP(nacc, acc[j] += FA_F(fa_exp_neg)(x[i + j] - m));
    }
    /* the tail as in fa_row_expsum (FA_TAIL_SERIAL) */
    if (FA_TAIL_SERIAL(nacc, L - i)) {
        if (nacc >= FA_TV && i < L) {
            T et[FA_TV];
            if (nacc > FA_TV) for (; i + FA_TV <= L; i += FA_TV) {
                FA__JLOOP(FA_TV, et[j] = FA_F(fa_exp_neg)(x[i + j] - m));
                for (int j = 0; j < FA_TV; j++) s += et[j];
            }
            if (L - i >= FA_OV_MIN && L >= FA_TV) {
                FA__JLOOP(FA_TV, et[j] = FA_F(fa_exp_neg)(x[L - FA_TV + j] - m));
                for (int j = FA_TV - (int)(L - i); j < FA_TV; j++) s += et[j];
                i = L;
            }
        }
        for (; i < L; i++) s += FA_F(fa_exp_neg)(x[i] - m);
    } else if (L - i <= FA_TV) {    /* end-aligned */
        FA__TAIL_ADD(T, FA_TV, nacc - FA_TV, L - i, FA_F(fa_exp_neg)(x[L - FA_TV + j] - m));
    } else {
        FA__TAIL_ADD(T, nacc, 0, L - i, FA_F(fa_exp_neg)(x[L - nacc + j] - m));
    }
    for (int w = nacc / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return s + acc[0];
}

/* nr <= FA_SMC consecutive rows in phases (all maxima, all sums, then the
 * per-row log or reciprocal as one vector loop, then the outputs): rows
 * are independent in each phase, so short rows overlap instead of each
 * waiting on its own reduce -> divide/log -> scale chain (1M float32 in
 * rows of 16: 1.85 -> 1.33 ms, log_softmax 3.9 -> 1.4 ms).  A row with max
 * -inf is all zeros / all -inf.
 * pf: elements after the block (the next block's rows, a multiple of L)
 * that may be prefetched.  The sum phase, the compute-bound one, prefetches
 * each row's counterpart in the next block as it goes, so the next block's
 * maxima do not wait for memory: the hardware prefetcher stops while the
 * phases work on cached rows (16M float32 in rows of 64, 1 thread:
 * 1.14 -> 0.89 ns/element).  Rows under one cache line per nacc step
 * prefetch their counterpart before the sum instead. */
FA_INLINE void FA_F(fa__softmax_rows_n)(const T *x, T *y, fa_idx nr, fa_idx L, int log_form, int nacc,
                                        fa_idx pf)
{
    T m[FA_SMC], v[FA_SMC];
    const int in_loop = nacc >= FA_PF_LINE;
#define FA__SM_PFP(r) ((r + 1) * L <= pf ? x + (nr + r) * L : NULL)
#define FA__SM_PF(r, p) \
    if (p && !in_loop) for (fa_idx i_ = 0; i_ < L; i_ += FA_PF_LINE) FA_PREFETCH(p + i_)
    for (fa_idx r = 0; r < nr; r++) m[r] = FA_F(fa_row_max)(x + r * L, L, nacc);
    if (log_form) {
        T s[FA_SMC];
        for (fa_idx r = 0; r < nr; r++) {
            const T *p = FA__SM_PFP(r);
            FA__SM_PF(r, p);
            s[r] = m[r] == (T)-INFINITY ? (T)1 : FA_F(fa_row_logsum)(x + r * L, L, m[r], nacc, in_loop ? p : NULL);
        }
        for (fa_idx r = 0; r < nr; r++) v[r] = (T)fa_log_ge1_d((double)s[r]);
        for (fa_idx r = 0; r < nr; r++) {
            const T *xr = x + r * L;
            T *yr = y + r * L;
            const T mr = m[r], ls = v[r];
            if (mr == (T)-INFINITY)
                for (fa_idx i = 0; i < L; i++) yr[i] = (T)-INFINITY;
            else
                FA_IVDEP for (fa_idx i = 0; i < L; i++) yr[i] = FA_F(fa_nan_canon)(FA_F(fa_logsm)(xr[i], mr, ls));
        }
        return;
    }
    /* multiply by the reciprocal: a vector division per element cost more
     * than the max pass (rows of 1024: 0.94 -> 0.82 ms per 1M); the extra
     * rounding of r adds at most 0.5 ULP */
    double s[FA_SMC];
    for (fa_idx r = 0; r < nr; r++) {
        const T *p = FA__SM_PFP(r);
        FA__SM_PF(r, p);
        s[r] = m[r] == (T)-INFINITY ? 1.0 : FA_F(fa_row_expsum)(x + r * L, y + r * L, L, m[r], nacc,
                                                                in_loop ? p : NULL);
    }
    for (fa_idx r = 0; r < nr; r++) v[r] = (T)(1.0 / s[r]);
    for (fa_idx r = 0; r < nr; r++) {
        T *yr = y + r * L;
        const T rr = v[r];
        if (m[r] == (T)-INFINITY)
            for (fa_idx i = 0; i < L; i++) yr[i] = (T)0;
        else
            FA_IVDEP for (fa_idx i = 0; i < L; i++) yr[i] = FA_F(fa_nan_canon)(yr[i] * rr);
    }
}

#undef FA__SM_PF
#undef FA__SM_PFP

/* softmax: out = y*(g - sum(g*y)); log_softmax: out = g - exp(y)*sum(g). */
FA_INLINE void FA_F(fa__softmax_bwd_row_n)(const T *g, const T *y, T *out, fa_idx L, int log_form, int nacc)
{
    if (log_form) {
        T acc[FA_ACC];
        for (int j = 0; j < nacc; j++) acc[j] = 0;
        fa_idx i = 0;
        for (; i + nacc <= L; i += nacc)
            FA__JLOOP(nacc, acc[j] += g[i + j]);
        T s = 0;
        if (FA_TAIL_SERIAL(nacc, L - i)) {
            for (; i < L; i++) s += g[i];
        } else {
            FA__TAIL_ADD(T, nacc, 0, L - i, g[L - nacc + j]);
        }
        for (int w = nacc / 2; w >= 1; w /= 2)
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];
        s += acc[0];
        FA_IVDEP for (fa_idx i2 = 0; i2 < L; i2++)
            out[i2] = FA_F(fa_nan_canon)(g[i2] - FA_F(fa_exp_neg)(y[i2]) * s);
        return;
    }
    T d = FA_F(fa_row_dot)(g, y, L, nacc);
    FA_IVDEP for (fa_idx i = 0; i < L; i++) out[i] = FA_F(fa_nan_canon)(y[i] * (g[i] - d));
}
/* The number of partial sums by row length (FA_NACC, also used by the
 * column kernels so that both sum in the same order); each call below
 * passes it as a constant, which is what lets the reductions vectorize.
 * Rows under 16 (e.g. softmax over 8 experts) would be all tail with 16. */
#define FA_NACC(L) ((L) >= 512 ? 64 : (L) >= 16 ? 16 : 4)

/* nr <= FA_SMC rows of length L; pf: see fa__softmax_rows_n */
static void FA_F(fa_softmax_rows)(const T *x, T *y, fa_idx nr, fa_idx L, int log_form, fa_idx pf)
{
    if (L >= 512) FA_F(fa__softmax_rows_n)(x, y, nr, L, log_form, 64, pf);
    else if (L >= 16) FA_F(fa__softmax_rows_n)(x, y, nr, L, log_form, 16, pf);
    else FA_F(fa__softmax_rows_n)(x, y, nr, L, log_form, 4, pf);
}

static void FA_F(fa_softmax_bwd_row)(const T *g, const T *y, T *out, fa_idx L, int log_form)
{
    if (L >= 512) FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 64);
    else if (L >= 16) FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 16);
    else FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 4);
}
#undef FA_ACC

/* Softmax over a non-last axis of C-ordered data: w <= FA_SMC adjacent
 * columns of an (L, inner) block, element (l, c) at x[l*inner + c].  Every
 * pass runs along the contiguous c, so it vectorizes without a transposed
 * copy (PyTorch does the same).  Per column, the sums replay the row
 * kernels' order exactly (nacc partial sums, tail, tree fold), so a result
 * is bit-identical whatever the memory layout or thread count. */

/* Column sums in the order of the row reductions: acc[l % nacc] over the
 * first L - L % nacc rows, the rest into acc[l - L + nacc] or serially
 * into tail (FA_TAIL_SERIAL), tree fold, tail + acc[0].  TS is
 * the accumulator type (double for softmax, T elsewhere). */
#define FA__COLSUM(TS, nacc, L, w, out, TERM)                                          \
    do {                                                                              \
        TS acc_[FA_SMC_ACC][FA_SMC], tail_[FA_SMC];                                   \
        fa_idx Lm_ = (L) - (L) % (nacc);                                              \
        int na_ = Lm_ > 0 ? (nacc) : 0;        /* L < nacc: all zero partials */     \
        for (int j_ = 0; j_ < na_; j_++)                                              \
            for (fa_idx c = 0; c < (w); c++) acc_[j_][c] = 0;                         \
        for (fa_idx c = 0; c < (w); c++) tail_[c] = 0;                                \
        for (fa_idx l = 0; l < (L); l++) {                                            \
            TS *a_ = l < Lm_ ? acc_[l % (nacc)]                                       \
                   : FA_TAIL_SERIAL(nacc, (L) - Lm_) ? tail_ : acc_[l - (L) + (nacc)]; \
            FA_IVDEP for (fa_idx c = 0; c < (w); c++) a_[c] += (TS)(TERM);            \
        }                                                                             \
        for (int h_ = na_ / 2; h_ >= 1; h_ /= 2)                                      \
            for (int j_ = 0; j_ < h_; j_++)                                           \
                for (fa_idx c = 0; c < (w); c++) acc_[j_][c] += acc_[j_ + h_][c];     \
        for (fa_idx c = 0; c < (w); c++) (out)[c] = tail_[c] + (na_ ? acc_[0][c] : (TS)0); \
    } while (0)

static void FA_F(fa_softmax_cols)(const T *x, T *y, fa_idx L, fa_idx inner, fa_idx w, int log_form)
{
    const int nacc = FA_NACC(L);
    T m[FA_SMC];
    for (fa_idx c = 0; c < w; c++) m[c] = (T)-INFINITY;
    for (fa_idx l = 0; l < L; l++) {
        const T *xr = x + l * inner;
        for (fa_idx c = 0; c < w; c++) m[c] = xr[c] > m[c] ? xr[c] : m[c];
    }
    if (log_form) {
        T s[FA_SMC], ls[FA_SMC];
        FA__COLSUM(T, nacc, L, w, s, FA_F(fa_exp_neg)(x[l * inner + c] - m[c]));
        for (fa_idx c = 0; c < w; c++) ls[c] = (T)fa_log_ge1_d((double)s[c]);
        for (fa_idx l = 0; l < L; l++) {
            const T *xr = x + l * inner;
            T *yr = y + l * inner;
            FA_IVDEP for (fa_idx c = 0; c < w; c++) yr[c] = FA_F(fa_nan_canon)(FA_F(fa_logsm)(xr[c], m[c], ls[c]));
        }
    } else {
        double s[FA_SMC];
        T r[FA_SMC];
        /* y = exp(x - m) is stored by the summing pass itself */
        FA__COLSUM(double, nacc, L, w, s, (y[l * inner + c] = FA_F(fa_exp_diff)(x[l * inner + c], m[c])));
        for (fa_idx c = 0; c < w; c++) r[c] = (T)(1.0 / s[c]);
        for (fa_idx l = 0; l < L; l++) {
            T *yr = y + l * inner;
            FA_IVDEP for (fa_idx c = 0; c < w; c++) yr[c] = FA_F(fa_nan_canon)(yr[c] * r[c]);
        }
    }
    for (fa_idx c = 0; c < w; c++)
        if (m[c] == (T)-INFINITY)
            for (fa_idx l = 0; l < L; l++) y[l * inner + c] = log_form ? (T)-INFINITY : (T)0;
}

/* Backward of fa_softmax_cols from y, as fa_softmax_bwd_row: softmax
 * out = y*(g - sum(g*y)), log_softmax out = g - exp(y)*sum(g). */
static void FA_F(fa_softmax_bwd_cols)(const T *g, const T *y, T *out, fa_idx L, fa_idx inner, fa_idx w,
                                      int log_form)
{
    const int nacc = FA_NACC(L);
    T d[FA_SMC];
    if (log_form)
        FA__COLSUM(T, nacc, L, w, d, g[l * inner + c]);
    else
        FA__COLSUM(T, nacc, L, w, d, g[l * inner + c] * y[l * inner + c]);
    for (fa_idx l = 0; l < L; l++) {
        const T *gr = g + l * inner, *yr = y + l * inner;
        T *orow = out + l * inner;
        if (log_form)
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = FA_F(fa_nan_canon)(gr[c] - FA_F(fa_exp_neg)(yr[c]) * d[c]);
        else
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = FA_F(fa_nan_canon)(yr[c] * (gr[c] - d[c]));
    }
}
#undef FA__COLSUM

/* ------------------------------------------------------------------ fused */

/* y = f(x + bias[j]) over rows of length ncol (bias on the last axis): the
 * add and the activation in one pass over memory.  y may be x.  Beyond the
 * caches it prefetches like fa_fwd_block (16M float32 gelu(tanh), AVX2, 2
 * threads: 20 -> 9.3 ms; the hardware prefetcher falls behind slow kernels). */
static int FA_F(fa_bias_fwd_rows)(int k, const T *x, const T *bias, T *y, fa_idx nrow, fa_idx ncol,
                                  const double *p)
{
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const fa_idx n = nrow * ncol;
    const int pf = FA__PF_ON(k, n);
    fa_idx done = 0;
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        for (fa_idx r = 0; r < nrow; r++) { \
            const T *xr = x + r * ncol; T *yr = y + r * ncol; \
            for (fa_idx j0 = 0; j0 < ncol; j0 += FA_PF_BLOCK) { \
                fa_idx je = ncol - j0 < FA_PF_BLOCK ? ncol : j0 + FA_PF_BLOCK; \
                if (pf) FA_F(fa__prefetch_upto)(x, NULL, &done, r * ncol + j0 + (FA_PF_AHEAD + 1) * FA_PF_BLOCK, n); \
                FA_IVDEP for (fa_idx j = j0; j < je; j++) { \
                    const T t_ = FA_F(fa_nan_of2)(xr[j] + bias[j], xr[j], bias[j]); \
                    yr[j] = FA_F(fa_nan_in)(t_, FA_F(fa_##name##_fwd)(t_, p0, p1, p2, p3)); \
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
                if (pf) FA_F(fa__prefetch_upto)(g, s, &done, r * ncol + j0 + (FA_PF_AHEAD + 1) * FA_PF_BLOCK, n); \
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

/* Gated activations on two halves a, b of n elements each:
 * glu a*sigmoid(b), swiglu silu(a)*b, geglu gelu(a)*b. */
#ifndef FA_GATED_IDS
#define FA_GATED_IDS
enum { FA_G_GLU = 0, FA_G_SWIGLU = 1, FA_G_GEGLU_ERF = 2, FA_G_GEGLU_TANH = 3 };
#endif

static int FA_F(fa_gated_fwd)(int k, const T *a, const T *b, T *out, fa_idx n)
{
    const T z = (T)0;
    switch (k) {
    case FA_G_GLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(a[i] * FA_F(fa_sigmoid_fwd)(b[i], z, z, z, z), a[i], b[i]);
        return 0;
    case FA_G_SWIGLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_silu_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_GEGLU_ERF:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_gelu_erf_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_GEGLU_TANH:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_gelu_tanh_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    default: return -1;
    }
}

/* da = dL/da, db = dL/db from the incoming gradient g of the gated output. */
static int FA_F(fa_gated_bwd)(int k, const T *g, const T *a, const T *b, T *da, T *db, fa_idx n)
{
    const T z = (T)0;
    switch (k) {
    case FA_G_GLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = gi * FA_F(fa_sigmoid_fwd)(bi, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = FA_F(fa_sigmoid_bwd)(gi * ai, bi, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_SWIGLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_silu_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_silu_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_GEGLU_ERF:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_erf_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_erf_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_GEGLU_TANH:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_tanh_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_tanh_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    default: return -1;
    }
}
