/* loops/softmax.h: softmax and log_softmax over rows (last axis) and over
 * column strips (a non-last axis), forward and backward.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* softmax / log_softmax over contiguous rows of length L (y may equal x).
 * A row whose max is -inf (all -inf, or L == 0) gives zeros / -inf; NaN or
 * +inf anywhere in a row gives a NaN row (as PyTorch). */
/* Reductions keep FA_ACC partial results (in a fixed order, so results do
 * not depend on threads).  nacc is a compile-time constant at every call
 * (the functions are always inlined): 64 (four 512-bit chains; one chain is
 * latency-bound) for long rows, 16 for short rows, where setting up and
 * folding 64 partials costs more than the row, 4 under 16 (FA_NACC below). */
#define FA_ACC 64
/* The exp-sum loops of float rows on AVX2 and AVX-512 take a row in chunks
 * of FA_SM_CHUNK elements (4 KiB of terms, in L1 from their exps to their
 * sum; a multiple of every block 2 nacc) */
#define FA_SM_CHUNK 1024
/* the vector block of the row tails: one vector of the target (AVX-512: 16
 * floats, 8 doubles; two vectors of doubles cost short rows more) */
#define FA_TV (FA_VEC_BYTES / (int)sizeof(T))
/* The tail of t = L % nacc elements of a row reduction goes into the
 * partials aligned to their end: element k into partial k - L + nacc, each
 * partial getting at most one, as one masked vector step over the block
 * [L - FA_TV, L) or [L - nacc, L).  A serial sum of the tail is a latency
 * chain of t dependent adds (rows of 31: 15), but for short tails, and for
 * float64 on AVX2 and float32 on SSE2, it is cheaper than the vector step,
 * so only tails of at least FA_TAIL_MIN with 16
 * or 64 partials, float32 on AVX2/AVX-512 and float64 on AVX-512, are
 * end-aligned; the others keep the serial sum, added after the fold.  The
 * column kernels follow the same rule, so both give the same bits. */
#define FA_TAIL_MIN (FA_VEC_BYTES < (FA_IS_DOUBLE ? 64 : 32) ? 1 << 30 : FA_IS_DOUBLE ? FA_TV + 1 : FA_TV / 2 + 1)
#define FA_TAIL_SERIAL(nacc, t) ((nacc) < 16 || (t) < FA_TAIL_MIN)
/* The end-aligned step: acc[off + j] += V for the last t lanes j of a block
 * of w lanes ending at the row's end (V may use j).  The lanes before the
 * tail add +0, which leaves a partial as it is (partials start at +0 and
 * are never -0).  The lane test is in TS, the partials' type, so that its
 * mask has their lane width; V is computed before the select, so that GCC
 * does not compute it under the mask. */
#define FA__TAIL_ADD(TS, w, off, t, V) \
    do { \
        const TS j0_ = (TS)((w) - (int)(t)); \
        FA__JLOOP(w, const TS v_ = (TS)(V); acc[(off) + j] += (TS)j >= j0_ ? v_ : (TS)0); \
    } while (0)
/* a serial tail's last r elements take the block ending at the row's end
 * from r = 3 (shorter: scalar, where a vector of exps costs more than r) */
#define FA_OV_MIN 3
#ifndef FA_SMC
#define FA_SMC 64          /* rows per row block; columns per column strip */
#define FA_SMC_ACC 64
#endif
/* BODY for j in [0, nacc): the step over the nacc partials of a row
 * reduction.  Below 64 partials as a loop GCC must not unroll (FA_NOUNROLL):
 * then it vectorizes it with the partials in registers, where the fully
 * unrolled SLP form was scalar or went through the stack.  With 64 the
 * plain loop is the faster one. */
#ifndef FA__JLOOP
#define FA__JLOOP(nacc, BODY) \
    do { \
        if ((nacc) >= 64) { for (int j = 0; j < (nacc); j++) { BODY; } } \
        else { FA_NOUNROLL FA_IVDEP for (int j = 0; j < (nacc); j++) { BODY; } } \
    } while (0)
#endif

/* The tree fold of the nacc partials of a row reduction into acc[0]
 * (BODY for j in [0, w): acc[j] op= acc[j + w]; halving w): fully unrolled,
 * so every level has a constant width.  The wide levels are then vector
 * operations and the narrow ones shuffles in registers (as loops, GCC makes
 * the narrow levels scalar loops through the stack). */
#ifndef FA__FOLD
#define FA__FOLD(nacc, BODY) \
    do { \
        FA_UNROLL_FULL for (int w = (nacc) / 2; w >= 1; w /= 2) \
            for (int j = 0; j < w; j++) { BODY; } \
    } while (0)
#endif

/* The output of every entry of a row whose max is -inf: all its entries are
 * -inf or NaN (the row max never picks NaN).  NaN anywhere makes a NaN row
 * like any other; else zeros (log_softmax: -inf).  Callers take it before
 * they write y (y may be x). */
static T FA_F(fa__softmax_ninf)(const T *x, fa_idx L, int log_form)
{
    int nan = 0;
    for (fa_idx i = 0; i < L; i++) nan |= x[i] != x[i];
    return nan ? FA_F(fa_qnan)() : log_form ? (T)-INFINITY : (T)0;
}

/* The row reductions below take st_in and st_out, both NULL in the row
 * kernels (constants there: the compiler drops them), for a row too long
 * for one buffer, reduced in consecutive pieces (fa_sm_piece_reduce_f):
 * st_in, when given, holds the partials the pieces before left (else they
 * start empty); st_out, when given, takes the partials after the main loop,
 * and nothing else is done (no tail, no fold) -- for a piece that is not
 * the row's last, whose length must be a multiple of 2 nacc.  The last
 * piece then starts at a multiple of 2 nacc, and its tail blocks, placed
 * from its end, are the whole row's: the pieces give the row's bits. */
FA_INLINE T FA_F(fa__row_max_st)(const T *x, fa_idx L, int nacc, const T *st_in, T *st_out)
{
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = st_in ? st_in[j] : (T)-INFINITY;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc)
        FA__JLOOP(nacc, acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j]);
    if (st_out) {
        for (int j = 0; j < nacc; j++) st_out[j] = acc[j];
        return 0;
    }
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
    FA__FOLD(nacc, acc[j] = acc[j + w] > acc[j] ? acc[j + w] : acc[j]);
    return acc[0] > m ? acc[0] : m;
}
FA_INLINE T FA_F(fa_row_max)(const T *x, fa_idx L, int nacc)
{
    return FA_F(fa__row_max_st)(x, L, nacc, NULL, NULL);
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

#if !FA_IS_DOUBLE
/* float: the terms of a row's sum, times 2^64 (the output pass multiplies
 * by r = 1/sum, which then carries the 2^-64: subnormal results are rounded
 * once).  Rows with |m| < FA__SM_CW_MAX (the common case) take
 * fa_exp_shift64_f, the others fa_exp_diff64_f; a column strip mixing both
 * kinds of columns picks per column, so each column keeps its row's bits. */
#define FA__SM_CW_MAX 224.0f
#define FA__SM_CW(m) (fa_abs_f(m) < FA__SM_CW_MAX)

/* exp(x - c) * 2^64 with c = nm*ln2 + dm, nm = round(m*log2e) and dm
 * ~ m - nm*ln2 (|dm| <= 0.35): softmax does not change when every term is
 * scaled by exp(m - c), so the exp reduces x itself and needs no rounded
 * x - m to compensate (a TwoSum, 6 operations of ~20).  n = round((x - dm)
 * log2e) (v, then the magic add), t = x - n*ln2 - dm: x - n*ln2_hi is
 * exact (Cody-Waite, |n| < 512: |x| < 354) except for |x| < 0.25 with
 * n = +-1 (|dm| > 0.15), where it rounds by at most 2^-25; -n*ln2_lo - dm,
 * computed beside it (a shorter dependency chain), and the sum of the two
 * round by at most 2^-26 each (both below 1/2); nm is subtracted in the
 * exponent, exactly.  dm is what the same steps give for x = m
 * (FA__SM_DM), so the max entries get |t| <= 2^-25 (dm's rounding and the
 * sum's) and q = expm1(t) >= t >= -2^-25: 1 + q rounds to exactly 1 (a
 * tie at -2^-25 goes to even, 1) and the term is 2^64 exactly:
 * a row of one entry gives 1, a row of equal entries fl(1/L), as exp(x - m)
 * does.  x is first raised to xlo = m - 121 (NaN passes; -inf becomes
 * finite): then n - nm >= -177, 2^(n - nm + 64) is normal and the exp needs
 * no range check; raised entries give at most exp(-115) 2^64, whose y
 * rounds to 0 and which is below the sum's rounding.  kb = -dm*log2e;
 * cb = FA_F_MAGIC_B + 64 - nm puts n - nm + 191 in the low bits of nb (bits
 * 9-21 stay 0: n - nm is in [-177, 1]). */
FA_INLINE float fa_exp_shift64_f(float x, float xlo, float kb, float cb, float dm)
{
    float xc = x < xlo ? xlo : x;
    float nb = fa_fma_f(xc, FA_F_LOG2E, kb) + cb;
    float n = nb - cb;                                         /* round((xc - dm)*log2e) */
    float s = fa_u2f(fa_f2u(nb) << 23);                        /* 2^(n - nm + 64) */
    const float t = fa_fma_f(n, -FA_F_LN2_HI, xc) + fa_fma_f(n, -FA_F_LN2_LO, -dm);
    return fa_fma_f(fa_expm1_estrin_f(t), s, s);
}
/* the per-row constants of fa_exp_shift64_f */
#define FA__SM_XLO(m) ((m) - 121.0f)
#define FA__SM_NM(m) (fa_fma_f((m), FA_F_LOG2E, FA_F_MAGIC) - FA_F_MAGIC)
#define FA__SM_DM(m) fa_fma_f(FA__SM_NM(m), -FA_F_LN2_LO, fa_fma_f(FA__SM_NM(m), -FA_F_LN2_HI, (m)))
#define FA__SM_KB(m) (-FA__SM_DM(m) * FA_F_LOG2E)
#define FA__SM_CB(m) (FA_F_MAGIC_B + 64.0f - FA__SM_NM(m))

/* exp(x - m) * 2^64 for rows with |m| >= FA__SM_CW_MAX, as exp(hi)(1 + d)
 * with TwoSum's hi + d = x - m (exp turns the rounding error d of x - m
 * into a relative one: |x - m| = 20 would cost ~10 ULP).  x is first raised
 * to mlo (NaN passes).  Where |m| < 2^28, mlo = fl(m - 115) lies within 8
 * of m - 115, so hi >= -123; elsewhere (m - 115 may round to m) mlo = -inf
 * raises nothing: a raised -inf would equal m = -FLT_MAX and take the max
 * entry's term.  hi is then bounded at -124 (d dropped there, NaN for
 * x = -inf; hi may even be -inf), where 2^(n+64) stays normal and the
 * result rounds to 0 in y. */
#define FA__SM_MLO(m) (fa_abs_f(m) < 0x1p28f ? (m) - 115.0f : -INFINITY)
FA_INLINE float fa_exp_diff64_f(float x, float m, float mlo)
{
    float xc = x < mlo ? mlo : x;
    float hi = xc - m;
    float bb = hi - xc;
    float d = (xc - (hi - bb)) + (-m - bb);
    d = hi < -124.0f ? 0.0f : d;
    hi = hi < -124.0f ? -124.0f : hi;
    float a = fa__exp_neg_s64_core_f(hi, 0.0f, 0);
    return fa_fma_f(a, d, a);
}
#endif

/* x - m - ls, rounded twice: x - m <= 0 and ls >= 0, so |x - m| <= |result|
 * and the first rounding costs at most half an ULP of the result (a TwoSum
 * of x - m would save that half ULP for 6 more operations per element). */
FA_INLINE T FA_F(fa_logsm)(T x, T m, T ls)
{
    return (x - m) - ls;
}

/* In the sum loops: prefetch the elements of pfp (the same row of the next
 * block) matching the nacc just summed, one step at a time (pfp NULL: none). */
#ifndef FA__PF_STEP
#define FA__PF_STEP(pfp, i, nacc) \
    if (pfp) for (int k_ = 0; k_ < (nacc); k_ += FA_PF_LINE) FA_PREFETCH((pfp) + (i) + k_)
#endif

/* In the same loops: prefetch for writing the output elements 2 nacc
 * ahead of i, as far as the ypf elements after y that may be prefetched
 * (0: none).  The output of a large array is in no cache; without it each
 * line's first store waits for its read for ownership. */
#define FA__PFW_STEP(yp, i, nacc, ypf) \
    if ((i) + 3 * (nacc) <= (ypf)) \
        for (int k_ = 0; k_ < (nacc); k_ += FA_PF_LINE) FA_PREFETCH_W((yp) + (i) + 2 * (nacc) + k_)

/* The chunked exp-sum walk (inside fa_row_expsum, whose i, x, y, pfp, ypf
 * and FA__EXPD it uses) over [i, lm), lm a multiple of step: per chunk, the
 * exps of its blocks of step elements first, then SUMSTEP per block over the
 * terms just stored (in L1), in the same order as an interleaved loop, so
 * the bits do not change.  Interleaved, the sum's loads, conversions and
 * adds wait on each block's exps and crowd the scheduler the exps need for
 * their own latency chains. */
#define FA__CHUNKED_EXPSUM(lm, step, ...) \
    while (i < (lm)) { \
        const fa_idx i0 = i, i1 = (lm) - i0 > FA_SM_CHUNK ? i0 + FA_SM_CHUNK : (lm); \
        for (; i < i1; i += (step)) { \
            FA__PF_STEP(pfp, i, (step)); \
            FA__PFW_STEP(y, i, (step), ypf); \
            FA__JLOOP((step), y[i + j] = FA__EXPD(x[i + j])); \
        } \
        for (i = i0; i < i1; i += (step)) { __VA_ARGS__; } \
    }

/* y[i] = exp(x[i] - m); returns the sum, accumulated in double (FA_ACC
 * partial sums in a fixed order, so the result never depends on threads).
 * float: the terms of blocks 2p and 2p + 1 of nacc elements are added in
 * float before they are widened (the column kernels do the same): half the
 * conversions to double, the sum's main cost, for one rounding per pair,
 * at most 2^-24 of the row sum, which the outputs take on through 1/sum. */
/* form (a constant at every call): 0 fa_exp_diff (double), 1 float's
 * fa_exp_shift64, 2 float's fa_exp_diff64 (the sum then carries 2^64) */
FA_INLINE double FA_F(fa__row_expsum_st)(const T *x, T *y, fa_idx L, T m, int nacc, const T *pfp, fa_idx ypf,
                                         int form, const double *st_in, double *st_out)
{
#if FA_IS_DOUBLE
#define FA__EXPD(v) FA_F(fa_exp_diff)((v), m)
    (void)form;
#else
    const float mlo = form == 1 ? FA__SM_XLO(m) : FA__SM_MLO(m), cb = FA__SM_CB(m);
    const float dm = FA__SM_DM(m), kb = FA__SM_KB(m);
#define FA__EXPD(v) (form == 1 ? fa_exp_shift64_f((v), mlo, kb, cb, dm) \
                     : form ? fa_exp_diff64_f((v), m, mlo) : FA_F(fa_exp_diff)((v), m))
#endif
    double acc[FA_ACC];
    T et[FA_ACC];
    const fa_idx t = L % nacc, r = L % FA_TV;
    const int ser = FA_TAIL_SERIAL(nacc, t);
    /* exps of the block [L - FA_TV, L) (or [L - 16, L)) first, while x is
     * intact (y may be x), stored whole at the end (its lanes before the
     * tail rewrite the values already there: same x, same m): for a serial
     * tail whose last r >= 3 elements fill it (ov), for an end-aligned tail
     * within it (eb), or any longer end-aligned tail: the block [L - nacc, L)
     * of 16 or 64 partials (e16, e64; a whole vector block costs less than
     * the tail's part of it in FA_TV-blocks, scalar exps for the rest and a
     * reload from y, which waits on store forwarding). */
    const int ov = ser && nacc >= FA_TV && r >= FA_OV_MIN && L >= FA_TV;
    const int eb = !ser && t <= FA_TV;
    const int e16 = !ser && !eb && nacc == 16;
    const int e64 = !ser && !eb && nacc == 64;
    if (ov || eb) FA__JLOOP(FA_TV, et[j] = FA__EXPD(x[L - FA_TV + j]));
    if (e16) FA__JLOOP(16, et[j] = FA__EXPD(x[L - 16 + j]));
    if (e64) FA__JLOOP(64, et[j] = FA__EXPD(x[L - 64 + j]));
    fa_idx i = 0;
#if !FA_IS_DOUBLE && defined(__AVX512F__)
    /* AVX-512, 64 float64 partials: eight zmm registers.  As the array
     * below, GCC keeps them on the stack, and every vector of terms then
     * costs two loads and two 512-bit stores besides its own store (Zen 4
     * stores 256 bits per cycle).  The terms are read back from y (written
     * just before, in L1) into the same partials in the same order as the
     * array loop, so the bits do not change. */
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    if (st_in && nacc == FA_ACC) {
        a0 = _mm512_loadu_pd(st_in);      a1 = _mm512_loadu_pd(st_in + 8);
        a2 = _mm512_loadu_pd(st_in + 16); a3 = _mm512_loadu_pd(st_in + 24);
        a4 = _mm512_loadu_pd(st_in + 32); a5 = _mm512_loadu_pd(st_in + 40);
        a6 = _mm512_loadu_pd(st_in + 48); a7 = _mm512_loadu_pd(st_in + 56);
    }
    if (nacc == FA_ACC) {
#define FA__ACC8P(a, k) \
        a = _mm512_add_pd(a, _mm512_cvtps_pd(_mm256_add_ps(_mm256_loadu_ps(y + i + 8 * (k)), \
                                                           _mm256_loadu_ps(y + i + FA_ACC + 8 * (k)))))
#define FA__ACC8(a, k) a = _mm512_add_pd(a, _mm512_cvtps_pd(_mm256_loadu_ps(y + i + 8 * (k))))
        FA__CHUNKED_EXPSUM(L - L % (2 * FA_ACC), 2 * FA_ACC,
                           FA__ACC8P(a0, 0); FA__ACC8P(a1, 1); FA__ACC8P(a2, 2); FA__ACC8P(a3, 3);
                           FA__ACC8P(a4, 4); FA__ACC8P(a5, 5); FA__ACC8P(a6, 6); FA__ACC8P(a7, 7));
        if (i + FA_ACC <= L) {
            FA__PF_STEP(pfp, i, FA_ACC);
            FA__JLOOP(FA_ACC, y[i + j] = FA__EXPD(x[i + j]));
            FA__ACC8(a0, 0); FA__ACC8(a1, 1); FA__ACC8(a2, 2); FA__ACC8(a3, 3);
            FA__ACC8(a4, 4); FA__ACC8(a5, 5); FA__ACC8(a6, 6); FA__ACC8(a7, 7);
            i += FA_ACC;
        }
#undef FA__ACC8
#undef FA__ACC8P
    } else
#endif
    {
        for (int j = 0; j < nacc; j++) acc[j] = st_in ? st_in[j] : 0;
#if !FA_IS_DOUBLE
#if FA_VEC_BYTES == 32
        /* AVX2: as the AVX-512 loop above, the exps of a chunk first, then
         * its sum (the same partials in the same order: the same bits).
         * Rows of 1000, 256, 100 on AMD Zen 4: 12-19% faster; with AVX-512
         * (rows under 512) and SSE2 this form measured slower or the same. */
        FA__CHUNKED_EXPSUM(L - L % (2 * nacc), 2 * nacc,
                           FA__JLOOP(nacc, acc[j] += (double)(y[i + j] + y[i + nacc + j])));
#else
        for (; i + 2 * nacc <= L; i += 2 * nacc) {
            FA__PF_STEP(pfp, i, 2 * nacc);
            FA__PFW_STEP(y, i, 2 * nacc, ypf);
            FA__JLOOP(nacc, const T e0 = FA__EXPD(x[i + j]); const T e1 = FA__EXPD(x[i + nacc + j]);
                      y[i + j] = e0; y[i + nacc + j] = e1; acc[j] += (double)(e0 + e1));
        }
#endif
#endif
        for (; i + nacc <= L; i += nacc) {
            FA__PF_STEP(pfp, i, nacc);
            FA__PFW_STEP(y, i, nacc, ypf);
            FA__JLOOP(nacc, T e = FA__EXPD(x[i + j]); y[i + j] = e; acc[j] += (double)e);
        }
    }
    if (st_out) {
#if !FA_IS_DOUBLE && defined(__AVX512F__)
        if (nacc == FA_ACC) {
            _mm512_storeu_pd(st_out, a0);      _mm512_storeu_pd(st_out + 8, a1);
            _mm512_storeu_pd(st_out + 16, a2); _mm512_storeu_pd(st_out + 24, a3);
            _mm512_storeu_pd(st_out + 32, a4); _mm512_storeu_pd(st_out + 40, a5);
            _mm512_storeu_pd(st_out + 48, a6); _mm512_storeu_pd(st_out + 56, a7);
            return 0;
        }
#endif
        for (int j = 0; j < nacc; j++) st_out[j] = acc[j];
        return 0;
    }
    /* the tail's exps as vectors where possible: a scalar exp per element
     * costs several times a vector lane */
    double s = 0;
    /* FA_TV-blocks: serial tails longer than FA_TV of 64 (double: 16 or 64)
     * partials */
    if (nacc > FA_TV && t > FA_TV - 1 && ser)
        FA_IVDEP for (fa_idx k = i; k < L - r; k++) y[k] = FA__EXPD(x[k]);
    if (ser) {                        /* rows without a tail skip it all */
        if (nacc >= FA_TV && i < L) {
            if (ov) FA__JLOOP(FA_TV, y[L - FA_TV + j] = et[j]);
            const fa_idx ie = ov ? L : L - r;
            for (; i < ie; i++) s += (double)y[i];
        }
        for (; i < L; i++) { T e = FA__EXPD(x[i]); y[i] = e; s += (double)e; }
    } else if (eb) {
        FA__JLOOP(FA_TV, y[L - FA_TV + j] = et[j]);
    } else if (e16) {
        FA__JLOOP(16, y[L - 16 + j] = et[j]);
    } else {                          /* e64 */
        FA__JLOOP(64, y[L - 64 + j] = et[j]);
    }
#if !FA_IS_DOUBLE && defined(__AVX512F__)
    if (nacc == FA_ACC) {
        /* FA__TAIL_ADD and FA__FOLD below on the partials in registers, in
         * the same order: the masked-off lanes of the tail keep their
         * partial, as the +0 added there does */
        if (!ser) {
            const int j0 = (eb ? FA_TV : FA_ACC) - (int)t;     /* the tail's first lane in et */
#define FA__TAIL8(a, off) \
            do { \
                const int d_ = j0 - (off); \
                const __mmask8 k_ = (__mmask8)(d_ >= 8 ? 0 : d_ <= 0 ? 0xff : 0xff << d_); \
                a = _mm512_mask_add_pd(a, k_, a, _mm512_cvtps_pd(_mm256_loadu_ps(et + (off)))); \
            } while (0)
            if (eb) {
                FA__TAIL8(a6, 0); FA__TAIL8(a7, 8);
            } else {
                FA__TAIL8(a0, 0);  FA__TAIL8(a1, 8);  FA__TAIL8(a2, 16); FA__TAIL8(a3, 24);
                FA__TAIL8(a4, 32); FA__TAIL8(a5, 40); FA__TAIL8(a6, 48); FA__TAIL8(a7, 56);
            }
#undef FA__TAIL8
        }
        a0 = _mm512_add_pd(a0, a4); a1 = _mm512_add_pd(a1, a5);
        a2 = _mm512_add_pd(a2, a6); a3 = _mm512_add_pd(a3, a7);
        a0 = _mm512_add_pd(a0, a2); a1 = _mm512_add_pd(a1, a3);
        a0 = _mm512_add_pd(a0, a1);
        const __m256d h4 = _mm256_add_pd(_mm512_castpd512_pd256(a0), _mm512_extractf64x4_pd(a0, 1));
        const __m128d h2 = _mm_add_pd(_mm256_castpd256_pd128(h4), _mm256_extractf128_pd(h4, 1));
        return s + _mm_cvtsd_f64(_mm_add_sd(h2, _mm_unpackhi_pd(h2, h2)));
    }
#endif
    if (eb) FA__TAIL_ADD(double, FA_TV, nacc - FA_TV, t, et[j]);
    else if (e16) FA__TAIL_ADD(double, 16, 0, t, et[j]);
    else if (!ser) FA__TAIL_ADD(double, 64, 0, t, et[j]);
    FA__FOLD(nacc, acc[j] += acc[j + w]);
    return s + acc[0];
#undef FA__EXPD
#undef FA__CHUNKED_EXPSUM
}
FA_INLINE double FA_F(fa_row_expsum)(const T *x, T *y, fa_idx L, T m, int nacc, const T *pfp, fa_idx ypf, int form)
{
    return FA_F(fa__row_expsum_st)(x, y, L, m, nacc, pfp, ypf, form, NULL, NULL);
}

/* The rest [i, L) of the rows prefetched in a sum loop's steps. */
#ifndef FA__PF_ROW_REST
#define FA__PF_ROW_REST(pa, pb, i, L) \
    if (pa) for (fa_idx i_ = (i); i_ < (L); i_ += FA_PF_LINE) { FA_PREFETCH((pa) + i_); FA_PREFETCH((pb) + i_); }
#endif

/* sum(a*b) over a row; pa and pb (both NULL: none) are prefetched as the
 * row is summed: see fa__softmax_bwd_row_n. */
/* sum(a*b), or with prod 0 (a constant at every call) sum(a) */
FA_INLINE T FA_F(fa__row_sum_st)(const T *a, const T *b, int prod, fa_idx L, int nacc, const T *pa,
                                  const T *pb, const T *st_in, T *st_out)
{
#define FA__DOT_TERM(k) (prod ? a[k] * b[k] : a[k])
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = st_in ? st_in[j] : 0;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc) {
        FA__PF_STEP(pa, i, nacc);
        FA__PF_STEP(pb, i, nacc);
        FA__JLOOP(nacc, acc[j] += FA__DOT_TERM(i + j));
    }
    if (st_out) {
        for (int j = 0; j < nacc; j++) st_out[j] = acc[j];
        return 0;
    }
    FA__PF_ROW_REST(pa, pb, i, L);
    T s = 0;
    if (FA_TAIL_SERIAL(nacc, L - i)) {
        for (; i < L; i++) s += FA__DOT_TERM(i);
    } else {
        FA__TAIL_ADD(T, nacc, 0, L - i, FA__DOT_TERM(L - nacc + j));
    }
    FA__FOLD(nacc, acc[j] += acc[j + w]);
    return s + acc[0];
#undef FA__DOT_TERM
}
FA_INLINE T FA_F(fa_row_dot)(const T *a, const T *b, fa_idx L, int nacc, const T *pa, const T *pb)
{
    return FA_F(fa__row_sum_st)(a, b, 1, L, nacc, pa, pb, NULL, NULL);
}

/* The terms of log_softmax's sum, exp(z) for z = x - m <= 0 (x - m rounded:
 * the sum only enters through log, where argument errors average out).
 * float: exp(z)*2^64, z first raised to -110 (NaN passes), where 2^(n+64)
 * stays normal: the exp needs no range check, and neither the final select
 * nor the scaling by 2^-64 per term of the checked exp (a compare into a
 * mask and a masked multiply per vector); the sum is scaled once
 * (fa__lsm_unscale: exact, the max entry's term alone is 2^64).  A raised
 * term is below 2^-94, against a sum of at least 2^64.  The column
 * kernels use it (their m keeps a NaN, which must reach the sum); the rows
 * take fa__lsm_term_nn, equal for every z but NaN, so their bits agree. */
FA_INLINE T FA_F(fa__lsm_term)(T z)
{
#if FA_IS_DOUBLE
    return FA_F(fa_exp_neg)(z);
#else
    z = z < -110.0f ? -110.0f : z;
    return fa__exp_neg_s64_core_f(z, 0.0f, 0);
#endif
}
/* The row kernels' terms (float): the clamp is one integer min on the bits
 * (fa_maxneg_f; z <= +0 unless NaN), no compare into a mask, which on
 * AMD Zen 4 takes a slot of the FMA pipes the exp is bound by.  A NaN z
 * (an x that is NaN, or +inf where m is) may become -110 there (SSE2's
 * fallback passes it), so the sum may not carry it: fa__lsm_out_f finds it
 * in the outputs. */
FA_INLINE T FA_F(fa__lsm_term_nn)(T z)
{
#if FA_IS_DOUBLE
    return FA_F(fa__lsm_term)(z);
#else
    return fa__exp_neg_s64_core_f(fa_maxneg_f(z, -110.0f), 0.0f, 0);
#endif
}
FA_INLINE T FA_F(fa__lsm_unscale)(T s)
{
#if FA_IS_DOUBLE
    return s;
#else
    return s * 0x1p-64f;
#endif
}

/* sum(exp(x - m)) for log_softmax: the values are only needed for the sum,
 * so they are not stored (y may be x; x is read again in the final pass);
 * the sum only enters through log, where argument errors average out.  y
 * (the row's output) is only prefetched for the final pass (ypf).  float:
 * a NaN term may be dropped (fa__lsm_term_nn), so a NaN sum means a NaN
 * row, but a finite one does not mean a row without NaN. */
FA_INLINE T FA_F(fa__row_logsum_st)(const T *x, T *y, fa_idx L, T m, int nacc, const T *pfp, fa_idx ypf,
                                     const T *st_in, T *st_out)
{
    T s = 0;
    T acc[FA_ACC];
    for (int j = 0; j < nacc; j++) acc[j] = st_in ? st_in[j] : 0;
    fa_idx i = 0;
    for (; i + nacc <= L; i += nacc) {
        FA__PF_STEP(pfp, i, nacc);
        FA__PFW_STEP(y, i, nacc, ypf);
        FA__JLOOP(nacc, acc[j] += FA_F(fa__lsm_term_nn)(x[i + j] - m));
    }
    if (st_out) {
        for (int j = 0; j < nacc; j++) st_out[j] = acc[j];
        return 0;
    }
    /* the tail as in fa_row_expsum (FA_TAIL_SERIAL) */
    if (FA_TAIL_SERIAL(nacc, L - i)) {
        if (nacc >= FA_TV && i < L) {
            T et[FA_TV];
            if (nacc > FA_TV) for (; i + FA_TV <= L; i += FA_TV) {
                FA__JLOOP(FA_TV, et[j] = FA_F(fa__lsm_term_nn)(x[i + j] - m));
                for (int j = 0; j < FA_TV; j++) s += et[j];
            }
            if (L - i >= FA_OV_MIN && L >= FA_TV) {
                FA__JLOOP(FA_TV, et[j] = FA_F(fa__lsm_term_nn)(x[L - FA_TV + j] - m));
                for (int j = FA_TV - (int)(L - i); j < FA_TV; j++) s += et[j];
                i = L;
            }
        }
        for (; i < L; i++) s += FA_F(fa__lsm_term_nn)(x[i] - m);
    } else if (L - i <= FA_TV) {    /* end-aligned */
        FA__TAIL_ADD(T, FA_TV, nacc - FA_TV, L - i, FA_F(fa__lsm_term_nn)(x[L - FA_TV + j] - m));
    } else {
        FA__TAIL_ADD(T, nacc, 0, L - i, FA_F(fa__lsm_term_nn)(x[L - nacc + j] - m));
    }
    FA__FOLD(nacc, acc[j] += acc[j + w]);
    return FA_F(fa__lsm_unscale)(s + acc[0]);
}
FA_INLINE T FA_F(fa_row_logsum)(const T *x, T *y, fa_idx L, T m, int nacc, const T *pfp, fa_idx ypf)
{
    return FA_F(fa__row_logsum_st)(x, y, L, m, nacc, pfp, ypf, NULL, NULL);
}

/* The output pass of a row first writes the elements before y's next
 * 64-byte boundary, so that its vector stores do not straddle two cache
 * lines (NumPy's large arrays start 16 bytes past one; Zen 4 takes 3.3
 * cycles for such a 512-bit store, 2 for an aligned one).  Rows under 256
 * elements skip it: the extra loop entry costs more. */
#ifndef FA__SM_HEAD
#define FA__SM_HEAD(yp, L) \
    ((L) < 256 ? (fa_idx)0 : (fa_idx)(((64 - ((uintptr_t)(yp) & 63)) & 63) / sizeof(*(yp))))
/* yp[i] = V (an expression of i) for i < L, the head first */
#define FA__SM_OUT(yp, L, V) \
    do { \
        const fa_idx h_ = FA__SM_HEAD(yp, L); \
        for (fa_idx i = 0; i < h_; i++) (yp)[i] = (V); \
        FA_IVDEP for (fa_idx i = h_; i < (L); i++) (yp)[i] = (V); \
    } while (0)
#endif

#if !FA_IS_DOUBLE
/* log_softmax's output pass of a row, float: y = x - m - ls for a finite
 * ls; returns whether an output is NaN, which is how a NaN x (or +inf,
 * with m = +inf) shows there (fa__lsm_term_nn): the unsigned max of the
 * outputs' NaN keys (fa_nan_key_f), integer operations beside the two
 * subtractions: no compare.
 * SSE2's fa_maxneg_f passes a NaN on to the sum, and SSE2 has no unsigned
 * max: the pass only writes there. */
#if FA_CLAMP_BITS
#define FA__LSM_NOTE(v) \
    do { const uint32_t fa_lb_ = fa_nan_key_f(v); mx = fa_lb_ > mx ? fa_lb_ : mx; } while (0)
#else
#define FA__LSM_NOTE(v) ((void)(v))
#endif
FA_INLINE int fa__lsm_out_f(const float *xr, float *yr, fa_idx L, float mr, float ls)
{
    uint32_t mx = 0;
    const fa_idx h = FA__SM_HEAD(yr, L);
#define FA__LSM_OUT1(i) \
    do { \
        const float v_ = FA_F(fa_logsm)(xr[i], mr, ls); \
        yr[i] = v_; \
        FA__LSM_NOTE(v_); \
    } while (0)
    for (fa_idx i = 0; i < h; i++) FA__LSM_OUT1(i);
    FA_IVDEP for (fa_idx i = h; i < L; i++) FA__LSM_OUT1(i);
#undef FA__LSM_OUT1
#undef FA__LSM_NOTE
    return mx > FA_NAN_KEY_INF;
}
#endif

/* nr <= FA_SMC consecutive rows in phases (all maxima, all sums, then the
 * per-row log or reciprocal as one vector loop, then the outputs): rows
 * are independent in each phase, so short rows overlap instead of each
 * waiting on its own reduce -> divide/log -> scale chain.  A row with max
 * -inf is all zeros / all -inf.
 * pf: elements after the block (the next block's rows, a multiple of L)
 * that may be prefetched.  The sum phase, the compute-bound one, prefetches
 * each row's counterpart in the next block as it goes, so the next block's
 * maxima do not wait for memory: the hardware prefetcher stops while the
 * phases work on cached rows.  Rows under one cache line per nacc step
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
            const fa_idx ypf = p && in_loop ? (nr - r) * L + pf : 0;
            s[r] = m[r] == (T)-INFINITY ? (T)1
                 : FA_F(fa_row_logsum)(x + r * L, y + r * L, L, m[r], nacc, in_loop ? p : NULL, ypf);
        }
        for (fa_idx r = 0; r < nr; r++) v[r] = (T)fa_log_ge1_d((double)s[r]);
        for (fa_idx r = 0; r < nr; r++) {
            const T *xr = x + r * L;
            T *yr = y + r * L;
            const T mr = m[r], ls = v[r];
            if (mr == (T)-INFINITY) {
                const T f = FA_F(fa__softmax_ninf)(xr, L, 1);
                for (fa_idx i = 0; i < L; i++) yr[i] = f;
            } else if (ls == ls) {
#if FA_IS_DOUBLE
                /* a NaN or +inf entry makes the sum NaN: without one, every
                 * output is finite or -inf (x = -inf), none to canonicalize */
                FA__SM_OUT(yr, L, FA_F(fa_logsm)(xr[i], mr, ls));
#else
                /* a NaN sum is a NaN row; a NaN output is too (its x is NaN,
                 * or +inf = m): every output then is the quiet NaN, as a
                 * NaN sum gives them (y may be x: x is not needed) */
                if (fa__lsm_out_f(xr, yr, L, mr, ls))
                    for (fa_idx i = 0; i < L; i++) yr[i] = FA_F(fa_qnan)();
#endif
            } else
                FA_IVDEP for (fa_idx i = 0; i < L; i++) yr[i] = FA_F(fa_nan_canon)(FA_F(fa_logsm)(xr[i], mr, ls));
        }
        return;
    }
    /* multiply by the reciprocal: a vector division per element costs more
     * than the whole max pass; the extra rounding of r adds at most 0.5 ULP */
    double s[FA_SMC];
    for (fa_idx r = 0; r < nr; r++) {
        const T *p = FA__SM_PFP(r);
        FA__SM_PF(r, p);
        const T *xr = x + r * L, *pr = in_loop ? p : NULL;
        T *yr = y + r * L;
        const fa_idx ypf = pr ? (nr - r) * L + pf : 0;
#if FA_IS_DOUBLE
        s[r] = m[r] == (T)-INFINITY ? 1.0 : FA_F(fa_row_expsum)(xr, yr, L, m[r], nacc, pr, ypf, 0);
#else
        s[r] = m[r] == (T)-INFINITY ? 1.0
             : FA__SM_CW(m[r]) ? FA_F(fa_row_expsum)(xr, yr, L, m[r], nacc, pr, ypf, 1)
             : FA_F(fa_row_expsum)(xr, yr, L, m[r], nacc, pr, ypf, 2);
#endif
    }
    for (fa_idx r = 0; r < nr; r++) v[r] = (T)(1.0 / s[r]);
    for (fa_idx r = 0; r < nr; r++) {
        T *yr = y + r * L;
        const T rr = v[r];
        if (m[r] == (T)-INFINITY) {
            const T f = FA_F(fa__softmax_ninf)(x + r * L, L, 0);
            for (fa_idx i = 0; i < L; i++) yr[i] = f;
        }
#if !FA_IS_DOUBLE
        /* a finite m and sum: every y is finite, no NaN to canonicalize */
        else if (FA__SM_CW(m[r]) && s[r] == s[r])
            FA__SM_OUT(yr, L, yr[i] * rr);
#endif
        else
            FA_IVDEP for (fa_idx i = 0; i < L; i++) yr[i] = FA_F(fa_nan_canon)(yr[i] * rr);
    }
}

#undef FA__SM_PF
#undef FA__SM_PFP

/* softmax: out = y*(g - sum(g*y)); log_softmax: out = g - exp(y)*sum(g).
 * pf: elements after the row that may be prefetched.  When the next row is
 * among them and a sum step covers a cache line, the sum pass prefetches
 * the next row's g and y: the sums read memory in short bursts between
 * output passes over cached rows, during which the hardware prefetcher
 * idles.  Not with fa_tune.sw_prefetch off (AMD, fa_defs.h): Zen 4's
 * prefetchers keep up with the two streams alone, and the prefetches cost
 * 1M-element calls 10-20%. */
FA_INLINE void FA_F(fa__softmax_bwd_row_n)(const T *g, const T *y, T *out, fa_idx L, int log_form, int nacc,
                                           fa_idx pf)
{
    const int on = fa_tune.sw_prefetch && nacc >= FA_PF_LINE && pf >= L;
    const T *pg = on ? g + L : NULL, *py = on ? y + L : NULL;
    if (log_form) {
        const T s = FA_F(fa__row_sum_st)(g, NULL, 0, L, nacc, pg, py, NULL, NULL);
        FA_IVDEP for (fa_idx i2 = 0; i2 < L; i2++)
            out[i2] = FA_F(fa_nan_canon)(g[i2] - FA_F(fa_exp_neg)(y[i2]) * s);
        return;
    }
    T d = FA_F(fa_row_dot)(g, y, L, nacc, pg, py);
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

static void FA_F(fa_softmax_bwd_row)(const T *g, const T *y, T *out, fa_idx L, int log_form, fa_idx pf)
{
    if (L >= 512) FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 64, pf);
    else if (L >= 16) FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 16, pf);
    else FA_F(fa__softmax_bwd_row_n)(g, y, out, L, log_form, 4, pf);
}

#if !FA_IS_DOUBLE
/* A float row too long for the front's staging blocks (float16 / bfloat16
 * rows, src/front/smlong.pxi) goes through the row kernels' steps piece by
 * piece: the reductions resumed over consecutive pieces (their st_in /
 * st_out), 64 partials (FA_NACC of every such row), then the outputs of
 * each piece.  The same formulas in the same order: the row kernels' bits. */
#ifndef FA_SMP_MAX
#define FA_SMP_MAX 0        /* the row max */
#define FA_SMP_EXPSUM 1     /* 1/sum(exp(x - m)), softmax */
#define FA_SMP_LOGSUM 2     /* log(sum(exp(x - m))), log_softmax */
#define FA_SMP_DOT 3        /* sum(a*b), softmax's backward */
#define FA_SMP_SUM 4        /* sum(a), log_softmax's backward */
#define FA_SMP_STEP 128     /* 2 nacc: every piece but the last a multiple of it, the last at least it */
#endif

/* Rows of at least 512 (FA_NACC 64) only.  op's reduction over the piece a[0..n) (b[0..n): the dot's other operand);
 * st: the partials between pieces (FA_ACC doubles; float partials in its
 * first half); first / last: the row's first / last piece.  The last
 * returns op's value (above; m: the row max, tmp: n floats for the exps,
 * may be a), the others 0. */
static double fa_sm_piece_reduce_f(int op, const float *a, const float *b, float *tmp, fa_idx n, float m,
                                   double *st, int first, int last)
{
    const float *fin = first ? NULL : (const float *)st;
    float *fout = last ? NULL : (float *)st;
    const double *din = first ? NULL : st;
    double *dout = last ? NULL : st;
    double s;
    switch (op) {
    case FA_SMP_MAX:
        return fa__row_max_st_f(a, n, 64, fin, fout);
    case FA_SMP_EXPSUM:
        s = FA__SM_CW(m) ? fa__row_expsum_st_f(a, tmp, n, m, 64, NULL, 0, 1, din, dout)
                         : fa__row_expsum_st_f(a, tmp, n, m, 64, NULL, 0, 2, din, dout);
        return last ? (float)(1.0 / s) : 0;
    case FA_SMP_LOGSUM:
        s = fa__row_logsum_st_f(a, tmp, n, m, 64, NULL, 0, fin, fout);
        return last ? (float)fa_log_ge1_d((double)(float)s) : 0;
    case FA_SMP_DOT:
        return fa__row_sum_st_f(a, b, 1, n, 64, NULL, NULL, fin, fout);
    default:
        return fa__row_sum_st_f(a, NULL, 0, n, 64, NULL, NULL, fin, fout);
    }
}

/* The outputs of a piece, as fa__softmax_rows_n's output pass for a row of
 * max m > -inf (-inf rows are the caller's): softmax y = exp(x - m)*v, v =
 * 1/sum, the exps computed again by the sum's formula; log_softmax y = x -
 * m - v, v = log(sum).  Returns whether a log_softmax output is NaN, which
 * makes the whole row NaN: the caller then writes it so. */
static int fa_sm_piece_out_f(const float *x, float *y, fa_idx n, float m, float v, int log_form)
{
    if (log_form) {
        if (v == v)
            return fa__lsm_out_f(x, y, n, m, v);
        FA_IVDEP for (fa_idx i = 0; i < n; i++) y[i] = fa_nan_canon_f(fa_logsm_f(x[i], m, v));
        return 0;
    }
    if (FA__SM_CW(m)) {
        const float xlo = FA__SM_XLO(m), cb = FA__SM_CB(m), dm = FA__SM_DM(m), kb = FA__SM_KB(m);
        if (v == v)
            FA__SM_OUT(y, n, fa_exp_shift64_f(x[i], xlo, kb, cb, dm) * v);
        else
            FA_IVDEP for (fa_idx i = 0; i < n; i++)
                y[i] = fa_nan_canon_f(fa_exp_shift64_f(x[i], xlo, kb, cb, dm) * v);
    } else {
        const float mlo = FA__SM_MLO(m);
        FA_IVDEP for (fa_idx i = 0; i < n; i++) y[i] = fa_nan_canon_f(fa_exp_diff64_f(x[i], m, mlo) * v);
    }
    return 0;
}

/* fa__softmax_bwd_row_n's output pass on a piece: d = the row's dot
 * (softmax) or sum of g (log_softmax) */
static void fa_sm_piece_bwd_out_f(const float *g, const float *y, float *out, fa_idx n, float d, int log_form)
{
    if (log_form)
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = fa_nan_canon_f(g[i] - fa_exp_neg_f(y[i]) * d);
    else
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = fa_nan_canon_f(y[i] * (g[i] - d));
}
#endif
#undef FA_ACC
#undef FA_SM_CHUNK

/* Softmax over a non-last axis of C-ordered data: w <= FA_SMC adjacent
 * columns of an (L, inner) block, element (l, c) at x[l*inner + c].  Every
 * pass runs along the contiguous c, so it vectorizes without a transposed
 * copy (PyTorch does the same).  Per column, the sums replay the row
 * kernels' order exactly (nacc partial sums, tail, tree fold), so a result
 * is bit-identical whatever the memory layout or thread count. */

/* Column sums in the order of the row reductions: acc[l % nacc] over the
 * first L - L % nacc rows, the rest into acc[l - L + nacc] or serially
 * into tail (FA_TAIL_SERIAL), tree fold, tail + acc[0].  TS is
 * the accumulator type (double for softmax, T elsewhere); TERM(l) the
 * term of row l (an expression also of the column c).  PAIR (float
 * softmax, as fa_row_expsum): the terms of rows l and l + nacc of blocks
 * 2p and 2p + 1 of nacc rows are added in T first.  Rows [l0, l1) of the L
 * rows, into the partials acc (FA_SMC_ACC rows of FA_SMC) and tail: zeroed
 * first when init, folded into out[0..w) when fin.  The whole strip is
 * l0 = 0, l1 = L, init and fin; a strip in pieces of rows (fa_sm_cols_piece_*)
 * starts every piece but the first at a multiple of 2 nacc (a pair block
 * never straddles two pieces), which gives the whole strip's bits. */
#define FA__COLSUM(TS, nacc, L, l0, l1, init, fin, w, acc_, tail_, out, TERM, PAIR)      \
    do {                                                                              \
        fa_idx Lm_ = (L) - (L) % (nacc);                                              \
        fa_idx Lp_ = (PAIR) ? Lm_ - Lm_ % (2 * (nacc)) : 0;                           \
        fa_idx lp_ = (fin) || (l1) > Lp_ ? Lp_ : (l1);  /* fin: l1 = L >= Lp_ */      \
        int na_ = Lm_ > 0 ? (nacc) : 0;        /* L < nacc: all zero partials */     \
        if (init) {                                                                   \
            for (int j_ = 0; j_ < na_; j_++)                                          \
                for (fa_idx c = 0; c < (w); c++) acc_[j_][c] = 0;                     \
            for (fa_idx c = 0; c < (w); c++) tail_[c] = 0;                            \
        }                                                                             \
        for (fa_idx l0_ = (l0); l0_ < lp_; l0_ += 2 * (nacc))                         \
            for (int k_ = 0; k_ < (nacc); k_++) {                                     \
                TS *a_ = acc_[k_];                                                    \
                FA_IVDEP for (fa_idx c = 0; c < (w); c++) {                           \
                    const T t0_ = TERM(l0_ + k_), t1_ = TERM(l0_ + k_ + (nacc));      \
                    a_[c] += (TS)(t0_ + t1_);                                         \
                }                                                                     \
            }                                                                         \
        for (fa_idx l = (init) || (l0) < Lp_ ? Lp_ : (l0); l < (l1); l++) {           \
            TS *a_ = l < Lm_ ? acc_[l % (nacc)]                                       \
                   : FA_TAIL_SERIAL(nacc, (L) - Lm_) ? tail_ : acc_[l - (L) + (nacc)]; \
            FA_IVDEP for (fa_idx c = 0; c < (w); c++) a_[c] += (TS)(TERM(l));         \
        }                                                                             \
        if (fin) {                                                                    \
            for (int h_ = na_ / 2; h_ >= 1; h_ /= 2)                                  \
                for (int j_ = 0; j_ < h_; j_++)                                       \
                    for (fa_idx c = 0; c < (w); c++) acc_[j_][c] += acc_[j_ + h_][c]; \
            for (fa_idx c = 0; c < (w); c++) (out)[c] = tail_[c] + (na_ ? acc_[0][c] : (TS)0); \
        }                                                                             \
    } while (0)
/* FA__COLSUM over a whole strip, its partials on the stack */
#define FA__COLSUM_ALL(TS, nacc, L, w, out, TERM, PAIR)                               \
    do {                                                                              \
        TS acc_a_[FA_SMC_ACC][FA_SMC], tail_a_[FA_SMC];                               \
        FA__COLSUM(TS, nacc, L, 0, L, 1, 1, w, acc_a_, tail_a_, out, TERM, PAIR);     \
    } while (0)

/* ncw = the number of columns of the strip's maxes m[0..w) in the shifted
 * form; xlo, kb, cb, dm, mlo (arrays in scope) the float exps' constants
 * per column (FA__SM_*, each column in the form of its row).  A macro, so
 * that the column kernel compiles as its own loop. */
#define FA__SM_COL_CONSTS(m, w, ncw)              \
    do {                                          \
        ncw = 0;                                  \
        for (fa_idx c_ = 0; c_ < (w); c_++) {     \
            xlo[c_] = FA__SM_XLO((m)[c_]);        \
            kb[c_] = FA__SM_KB((m)[c_]);          \
            cb[c_] = FA__SM_CB((m)[c_]);          \
            dm[c_] = FA__SM_DM((m)[c_]);          \
            mlo[c_] = FA__SM_MLO((m)[c_]);        \
            ncw += FA__SM_CW((m)[c_]);            \
        }                                         \
    } while (0)

static void FA_F(fa_softmax_cols)(const T *x, T *y, fa_idx L, fa_idx inner, fa_idx w, int log_form)
{
    const int nacc = FA_NACC(L);
    T m[FA_SMC];
    for (fa_idx c = 0; c < w; c++) m[c] = (T)-INFINITY;
    for (fa_idx l = 0; l < L; l++) {
        const T *xr = x + l * inner;
        /* NaN sticks in m (the rows' fa__softmax_ninf): a column of NaN and
         * -inf only is then a NaN column, not an all -inf one */
        for (fa_idx c = 0; c < w; c++) m[c] = xr[c] > m[c] || xr[c] != xr[c] ? xr[c] : m[c];
    }
    if (log_form) {
        T s[FA_SMC], ls[FA_SMC];
#define FA__TERM(l) FA_F(fa__lsm_term)(x[(l) * inner + c] - m[c])
        FA__COLSUM_ALL(T, nacc, L, w, s, FA__TERM, 0);
#undef FA__TERM
        for (fa_idx c = 0; c < w; c++) ls[c] = (T)fa_log_ge1_d((double)FA_F(fa__lsm_unscale)(s[c]));
        for (fa_idx l = 0; l < L; l++) {
            const T *xr = x + l * inner;
            T *yr = y + l * inner;
            FA_IVDEP for (fa_idx c = 0; c < w; c++) yr[c] = FA_F(fa_nan_canon)(FA_F(fa_logsm)(xr[c], m[c], ls[c]));
        }
    } else {
        double s[FA_SMC];
        T r[FA_SMC];
        /* y = exp(x - m) is stored by the summing pass itself (float: times
         * 2^64, each column in the form of its row: one form for the strip
         * where all columns take it, else a per-column choice of both) */
#if FA_IS_DOUBLE
#define FA__TERM(l) (y[(l) * inner + c] = FA_F(fa_exp_diff)(x[(l) * inner + c], m[c]))
        FA__COLSUM_ALL(double, nacc, L, w, s, FA__TERM, 0);
#undef FA__TERM
#else
        T xlo[FA_SMC], kb[FA_SMC], cb[FA_SMC], dm[FA_SMC], mlo[FA_SMC];
        int ncw;
        FA__SM_COL_CONSTS(m, w, ncw);
#define FA__TSH(l) (y[(l) * inner + c] = fa_exp_shift64_f(x[(l) * inner + c], xlo[c], kb[c], cb[c], dm[c]))
#define FA__TDF(l) (y[(l) * inner + c] = fa_exp_diff64_f(x[(l) * inner + c], m[c], mlo[c]))
#define FA__TMIX(l) (FA__SM_CW(m[c]) ? FA__TSH(l) : FA__TDF(l))
        if (ncw == w)
            FA__COLSUM_ALL(double, nacc, L, w, s, FA__TSH, 1);
        else if (ncw == 0)
            FA__COLSUM_ALL(double, nacc, L, w, s, FA__TDF, 1);
        else
            FA__COLSUM_ALL(double, nacc, L, w, s, FA__TMIX, 1);
#undef FA__TSH
#undef FA__TDF
#undef FA__TMIX
#endif
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
#define FA__TG(l) g[(l) * inner + c]
#define FA__TGY(l) (g[(l) * inner + c] * y[(l) * inner + c])
    if (log_form)
        FA__COLSUM_ALL(T, nacc, L, w, d, FA__TG, 0);
    else
        FA__COLSUM_ALL(T, nacc, L, w, d, FA__TGY, 0);
#undef FA__TG
#undef FA__TGY
    for (fa_idx l = 0; l < L; l++) {
        const T *gr = g + l * inner, *yr = y + l * inner;
        T *orow = out + l * inner;
        if (log_form)
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = FA_F(fa_nan_canon)(gr[c] - FA_F(fa_exp_neg)(yr[c]) * d[c]);
        else
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = FA_F(fa_nan_canon)(yr[c] * (gr[c] - d[c]));
    }
}

#if !FA_IS_DOUBLE
/* A column strip too tall for the front's staging blocks (float16 /
 * bfloat16 strips of more than 4096 rows, src/front/smlong.pxi) goes
 * through the column kernels' steps in pieces of rows, each piece packed
 * (row stride w): the column max and sums resumed from piece to piece
 * (FA__COLSUM's partials kept in st), every piece but the last a multiple
 * of FA_SMP_STEP rows, then the outputs of each piece, the exps computed
 * again by the sum's formula.  The same formulas in the same order: the
 * bits of fa_softmax_cols_f / fa_softmax_bwd_cols_f on the whole strip. */
#define FA_SMCP_STATE ((FA_SMC_ACC + 1) * FA_SMC)   /* doubles of a strip's partials */

/* op (FA_SMP_*) over rows [l0, l0 + r) of a strip of L rows: a, b (the
 * dot's other operand) those rows, w columns; m the column maxes (MAX:
 * their running max, started at l0 = 0; the other ops read them); st the
 * partials between pieces (FA_SMCP_STATE doubles).  At the last piece
 * (l0 + r == L) v[c] = 1/sum (EXPSUM), log(sum) (LOGSUM), the dot (DOT) or
 * the sum of a (SUM).  EXPSUM stores its exps over a. */
static void fa_sm_cols_piece_reduce_f(int op, float *a, const float *b, fa_idx r, fa_idx w, fa_idx l0,
                                      fa_idx L, float *m, float *v, double *st)
{
    const int nacc = FA_NACC(L);
    const fa_idx l1 = l0 + r;
    const int first = l0 == 0, last = l1 == L;
    double (*double_acc)[FA_SMC] = (double (*)[FA_SMC])st;     /* the partials by type (FA__PCS) */
    double *double_tail = st + FA_SMC_ACC * FA_SMC;
    float (*float_acc)[FA_SMC] = (float (*)[FA_SMC])st;
    float *float_tail = (float *)double_tail;
    float s[FA_SMC];
    if (op == FA_SMP_MAX) {     /* NaN sticks in m, as in fa_softmax_cols_f */
        if (first)
            for (fa_idx c = 0; c < w; c++) m[c] = -INFINITY;
        for (fa_idx l = 0; l < r; l++) {
            const float *ar = a + l * w;
            for (fa_idx c = 0; c < w; c++) m[c] = ar[c] > m[c] || ar[c] != ar[c] ? ar[c] : m[c];
        }
        return;
    }
#define FA__X(l) a[((l) - l0) * w + c]
    /* this piece's rows of the sums, TS partials in st */
#define FA__PCS(TS, out, TERM, PAIR) \
    FA__COLSUM(TS, nacc, L, l0, l1, first, last, w, (TS##_acc), (TS##_tail), out, TERM, PAIR)
    if (op == FA_SMP_EXPSUM) {
        float xlo[FA_SMC], kb[FA_SMC], cb[FA_SMC], dm[FA_SMC], mlo[FA_SMC];
        double ds[FA_SMC];
        int ncw;
        FA__SM_COL_CONSTS(m, w, ncw);
#define FA__TSH(l) (FA__X(l) = fa_exp_shift64_f(FA__X(l), xlo[c], kb[c], cb[c], dm[c]))
#define FA__TDF(l) (FA__X(l) = fa_exp_diff64_f(FA__X(l), m[c], mlo[c]))
#define FA__TMIX(l) (FA__SM_CW(m[c]) ? FA__TSH(l) : FA__TDF(l))
        if (ncw == w)
            FA__PCS(double, ds, FA__TSH, 1);
        else if (ncw == 0)
            FA__PCS(double, ds, FA__TDF, 1);
        else
            FA__PCS(double, ds, FA__TMIX, 1);
#undef FA__TSH
#undef FA__TDF
#undef FA__TMIX
        if (last)
            for (fa_idx c = 0; c < w; c++) v[c] = (float)(1.0 / ds[c]);
        return;
    }
#define FA__TLS(l) fa__lsm_term_f(FA__X(l) - m[c])
#define FA__TG(l) FA__X(l)
#define FA__TGY(l) (FA__X(l) * b[((l) - l0) * w + c])
    if (op == FA_SMP_LOGSUM)
        FA__PCS(float, s, FA__TLS, 0);
    else if (op == FA_SMP_DOT)
        FA__PCS(float, s, FA__TGY, 0);
    else
        FA__PCS(float, s, FA__TG, 0);
#undef FA__TLS
#undef FA__TG
#undef FA__TGY
#undef FA__PCS
#undef FA__X
    if (last)
        for (fa_idx c = 0; c < w; c++)
            v[c] = op == FA_SMP_LOGSUM ? (float)fa_log_ge1_d((double)fa__lsm_unscale_f(s[c])) : s[c];
}

/* The forward's outputs of a piece of r rows (y may be x), as
 * fa_softmax_cols_f's: softmax exp(x - m)*v, the exps by the sum's
 * formula; log_softmax x - m - v; columns of max -inf all 0 / -inf. */
static void fa_sm_cols_piece_out_f(const float *x, float *y, fa_idx r, fa_idx w, const float *m,
                                   const float *v, int log_form)
{
    if (log_form) {
        for (fa_idx l = 0; l < r; l++)
            FA_IVDEP for (fa_idx c = 0; c < w; c++) y[l * w + c] = fa_nan_canon_f(fa_logsm_f(x[l * w + c], m[c], v[c]));
    } else {
        float xlo[FA_SMC], kb[FA_SMC], cb[FA_SMC], dm[FA_SMC], mlo[FA_SMC];
        int ncw;
        FA__SM_COL_CONSTS(m, w, ncw);
#define FA__OUT(E)                                                                           \
        for (fa_idx l = 0; l < r; l++) {                                                     \
            const float *xr = x + l * w;                                                     \
            float *yr = y + l * w;                                                           \
            FA_IVDEP for (fa_idx c = 0; c < w; c++) yr[c] = fa_nan_canon_f((E) * v[c]);      \
        }
#define FA__ESH fa_exp_shift64_f(xr[c], xlo[c], kb[c], cb[c], dm[c])
#define FA__EDF fa_exp_diff64_f(xr[c], m[c], mlo[c])
        if (ncw == w)
            FA__OUT(FA__ESH)
        else if (ncw == 0)
            FA__OUT(FA__EDF)
        else
            FA__OUT(FA__SM_CW(m[c]) ? FA__ESH : FA__EDF)
#undef FA__OUT
#undef FA__ESH
#undef FA__EDF
    }
    for (fa_idx c = 0; c < w; c++)
        if (m[c] == -INFINITY)
            for (fa_idx l = 0; l < r; l++) y[l * w + c] = log_form ? -INFINITY : 0.0f;
}

/* fa_softmax_bwd_cols_f's outputs of a piece of r rows (out may be g) */
static void fa_sm_cols_piece_bwd_out_f(const float *g, const float *y, float *out, fa_idx r, fa_idx w,
                                       const float *d, int log_form)
{
    for (fa_idx l = 0; l < r; l++) {
        const float *gr = g + l * w, *yr = y + l * w;
        float *orow = out + l * w;
        if (log_form)
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = fa_nan_canon_f(gr[c] - fa_exp_neg_f(yr[c]) * d[c]);
        else
            FA_IVDEP for (fa_idx c = 0; c < w; c++) orow[c] = fa_nan_canon_f(yr[c] * (gr[c] - d[c]));
    }
}
#endif
#undef FA__COLSUM
#undef FA__COLSUM_ALL
#undef FA__SM_COL_CONSTS

/* The masked / scaled softmax's prologue (and the backward's epilogue) over
 * one row or one line of a column strip, n elements:
 *     y[i] = keep_i ? s*x[i] : fill,   keep_i = m == NULL || m[i*ms] != 0.
 * The forward fills -inf, so a masked entry takes no part in the max or the
 * sum and the unmasked kernels then give 0 (softmax) / -inf (log_softmax)
 * there and, for a row with every entry masked, their all--inf-row result
 * (zeros / -inf): masked softmax is the plain kernel on
 * where(mask, fl(s*x), -inf).  The backward fills 0 (masked entries then
 * add nothing to the row sums), and the same call with s = 1 (exact) zeroes
 * the masked outputs afterwards.  The caller runs it on a block that the
 * kernel reads next while it is in cache; y may be x.  ms == 1 (a mask
 * contiguous along the line) and ms == 0 (one mask value for the line)
 * are the vectorized cases; other strides are gathered element by element. */
#if FA_IS_DOUBLE
typedef long long FA_F(fa__mk_t);
#else
typedef int FA_F(fa__mk_t);
#endif
static void FA_F(fa_softmax_prep)(const T *x, T *y, const unsigned char *m, fa_idx ms, fa_idx n, T s, T fill)
{
    if (m == NULL || (ms == 0 && m[0])) {
        FA_IVDEP for (fa_idx i = 0; i < n; i++) y[i] = s * x[i];
    } else if (ms == 0) {
        FA_IVDEP for (fa_idx i = 0; i < n; i++) y[i] = fill;
    } else if (ms == 1) {
        /* the product before the select and the mask byte widened to T's
         * width: SSE2 if-converts and vectorizes only this form */
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            const T v = s * x[i];
            const FA_F(fa__mk_t) k = m[i];
            y[i] = k != 0 ? v : fill;
        }
    } else {
        for (fa_idx i = 0; i < n; i++) y[i] = m[i * ms] ? s * x[i] : fill;
    }
}
