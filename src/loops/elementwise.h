/* loops/elementwise.h: the element-wise kernels, forward and backward, on
 * contiguous blocks (one switch case per kernel, each a vectorized loop) and
 * on strided 1-D views (gathered into stack buffers).
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* y[i] = f(x[i]) for i < n.  Returns -1 for an unknown kernel id.  The block
 * loop sits inside each case (one block when not prefetching): a switch per
 * block of 16 cache lines would cost more than the prefetch gains. */
static int FA_F(fa_fwd_block)(int k, const T *x, T *y, fa_idx n, const double *p)
{
    if (k == FA_K_linear && x == y)     /* identity in place: nothing to do (and GCC would */
        return 0;                       /* turn the copy loop into memcpy(x, x, n)) */
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const int pf = FA__PF_ON(k, n), down = fa__walk_down(y, x);
    const fa_idx blk = pf ? FA_PF_BLOCK : n, head = FA_F(fa__align_head)(y, n);
    fa_idx done = FA_PF_AHEAD * blk;                /* blocks 0 .. AHEAD-1: not prefetched */
    FA_ALIGN64 T rtmp[FA_RANGE_SUB];                /* a ranged kernel's inputs, per sub-block */
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        FA__BLOCKS(b, e, head, blk, n) { \
            if (pf) FA_F(fa__prefetch_upto)(x, NULL, &done, b + (FA_PF_AHEAD + 1) * blk, n, 0); \
            FA__MAP(down, i, b, e, FA__FWD_MAP(name, i)) \
        } \
        return 0;
#define FA__FWD_MAP(name, i) y[i] = FA__FWD_NAN(name, x[i], FA_F(fa_##name##_fwd)(x[i], p0, p1, p2, p3))
    FA_PLAIN_FWD_KERNELS(FA_CASE)
#undef FA__FWD_MAP
#undef FA_CASE
/* per sub-block of FA_RANGE_SUB: the common form when all its inputs are in
 * the common range, else the full form (which is the common form in range,
 * so the bits do not depend on the sub-block); the rare form alone when the
 * parameters leave no common range (fa_kernels.h).  The common form runs
 * first and tests the range in the same loop, which in place also keeps
 * the inputs in an L1 buffer (they are overwritten): the full form rewrites
 * a sub-block that fails from there, or from x out of place.  The buffer
 * costs a store per vector, a pass of its own to test the range first two
 * vector operations.  A NaN input fails the test, so only the full and rare
 * forms apply the NaN rule. */
#define FA__FWD_C_LOOP(name, SAVE) \
    FA_IVDEP FA_UNROLL_MAP for (fa_idx i = c; i < ce; i++) { \
        const T xi = x[i];  /* one load: y may be x */ \
        SAVE; \
        y[i] = FA_F(fa_##name##_fwd_c)(xi, p0, p1, p2, p3); \
        FA__RANGE_ACC(st, xi, lo, hi); \
    }
#define FA_CASE(name) case FA_K_##name: { \
        T lo, hi; \
        const int rg = FA_F(fa_##name##_fwd_range)(p0, p1, p2, p3, &lo, &hi); \
        FA__BLOCKS(b, e, head, blk, n) { \
            if (pf) FA_F(fa__prefetch_upto)(x, NULL, &done, b + (FA_PF_AHEAD + 1) * blk, n, 0); \
            for (fa_idx c = b; c < e; c += FA_RANGE_SUB) { \
                const fa_idx ce = e - c < FA_RANGE_SUB ? e : c + FA_RANGE_SUB; \
                if (!rg) { \
                    FA_IVDEP FA_UNROLL_MAP for (fa_idx i = c; i < ce; i++) \
                        y[i] = FA__FWD_NAN(name, x[i], FA_F(fa_##name##_fwd_rare)(x[i], p0, p1, p2, p3)); \
                    continue; \
                } \
                FA__RANGE_INIT(st); \
                if (x != y) { \
                    FA__FWD_C_LOOP(name, (void)0) \
                } else { \
                    FA__FWD_C_LOOP(name, rtmp[i - c] = xi) \
                } \
                if (!FA__RANGE_OK(st, lo, hi)) { \
                    const T *xs = x != y ? x + c : rtmp; \
                    FA_IVDEP FA_UNROLL_MAP for (fa_idx i = c; i < ce; i++) \
                        y[i] = FA__FWD_NAN(name, xs[i - c], \
                                           FA_F(fa_##name##_fwd)(xs[i - c], p0, p1, p2, p3)); \
                } \
            } \
        } \
        return 0; }
    FA_RANGED_FWD_CASES(FA_CASE)
#undef FA_CASE
#undef FA__FWD_C_LOOP
    default: return -1;
    }
}

/* fa_fwd_block for an output that is not read again soon (the front takes it
 * for out-of-place results larger than the last-level cache): blocks of
 * FA_NT_SUB elements of a cheap (not exp/tanh/erf-based) kernel are computed
 * into an L1 buffer by the same vectorized
 * formula and written with non-temporal stores, which skip reading y's lines
 * before writing them.  Blocks this short keep the loads and the streaming
 * stores interleaved (long blocks alternate read and write bursts).  Same
 * bits as fa_fwd_block. */
#define FA_NT_SUB 64
static int FA_F(fa_fwd_block_nt)(int k, const T *x, T *y, fa_idx n, const double *p)
{
    /* the exp/tanh/erf kernels are not memory-bound, so skipping the
     * write-allocate does not pay: only FA_CHEAP_KERNELS stream */
    if (!FA_HAVE_STREAM || x == y || n < 2 * FA_NT_SUB || (uintptr_t)y % sizeof(T) || fa__pf_kernel(k))
        return FA_F(fa_fwd_block)(k, x, y, n, p);
    /* y[0..h) with plain stores, so every streamed block starts 64-byte aligned */
    const fa_idx h = (fa_idx)((64 - ((uintptr_t)y & 63)) & 63) / (fa_idx)sizeof(T);
    if (h && FA_F(fa_fwd_block)(k, x, y, h, p))
        return -1;
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    FA_ALIGN64 T tmp[FA_NT_SUB];
    switch (k) {
#define FA_CASE(name) case FA_K_##name: \
        for (fa_idx c = h; c < n; c += FA_NT_SUB) { \
            const fa_idx m = n - c < FA_NT_SUB ? n - c : FA_NT_SUB; \
            const T *xc = x + c; \
            FA_IVDEP for (fa_idx j = 0; j < m; j++) \
                tmp[j] = FA__FWD_NAN(name, xc[j], FA_F(fa_##name##_fwd)(xc[j], p0, p1, p2, p3)); \
            FA_F(fa__stream)(y + c, tmp, m); \
        } \
        break;
    FA_CHEAP_KERNELS(FA_CASE)
#undef FA_CASE
    default: return -1;
    }
#if FA_HAVE_STREAM
    _mm_sfence();       /* the streamed lines reach memory before another thread reads them */
#endif
    return 0;
}

/* One backward block [b, e) of kernel `name`'s FORM (bwd or bwdy), walked in
 * sub-blocks of FA_NAN_SUB elements with the NaN rule applied only to a
 * sub-block that has a NaN result (FA_NANX_KERNELS: or a NaN s; see
 * FA__BWD_RANGE_NX) (loops/common.h; the rule in the loop cost a tenth to a
 * quarter of a backward pass).  The fix-up needs the inputs as
 * they were where the result is NaN, so when out is g or s (in place) the
 * same loop keeps the overwritten input in a stack buffer (FA__BWD_KEEP):
 * with AVX-512 only where the result is NaN, a masked store that with an
 * empty mask costs almost nothing, where keeping every element cost a third
 * of the in-place pass on AMD Zen 4 (two full-width stores per vector
 * instead of one). */
#define FA__BWD_SUB(name, FORM, KEEP, NOTE) \
            FA_IVDEP FA_UNROLL_MAP for (fa_idx j = 0; j < m; j++) { \
                const T r = FA_F(fa_##name##_##FORM)(gc[j], sc[j], p0, p1, p2, p3); \
                KEEP; \
                d[j] = r; \
                NOTE(bad, r); \
            }
#define FA__BWD_ALIAS(name, FORM) \
            if (!alias) { FA__BWD_SUB(name, FORM, (void)0, FA__NAN_NOTE) } \
            else { FA__BWD_ALIASED(name, FORM) }
#define FA__BWD_ALIASED(name, FORM) \
            if (out == g) { FA__BWD_SUB(name, FORM, FA__BWD_KEEP(tmp[j], gc[j], r), FA__BWD_NOTE) } \
            else { FA__BWD_SUB(name, FORM, FA__BWD_KEEP(tmp[j], sc[j], r), FA__BWD_NOTE) }
/* keep the input v where the result r is NaN: a masked store with AVX-512;
 * elsewhere every element (SSE2 has no masked store, and AVX2's vmaskmovps
 * store is microcoded on AMD Zen 2/3) */
#if defined(__AVX512F__)
#define FA__BWD_KEEP(dst, v, r) if ((r) != (r)) (dst) = (v)
#define FA__BWD_NOTE FA__NAN_NOTE_CMP
#else
#define FA__BWD_KEEP(dst, v, r) (dst) = (v)
#define FA__BWD_NOTE FA__NAN_NOTE
#endif
#define FA__BWD_SUBBLOCKS(...) FA__BWD_SUBBLOCKS_FIX(fa__nan_fix2, __VA_ARGS__)
#define FA__BWD_SUBBLOCKS_FIX(FIX, ...) do { \
        for (fa_idx c = b; c < e; c += FA_NAN_SUB) { \
            const fa_idx m = e - c < FA_NAN_SUB ? e - c : FA_NAN_SUB; \
            const T *gc = g + c, *sc = s + c; \
            T *d = out + c; \
            uint32_t bad = 0; \
            __VA_ARGS__ \
            if (FA__NAN_SEEN(bad, d, m)) \
                FA_F(FIX)(d, out == g ? tmp : gc, out == s ? tmp : sc, m); \
        } \
    } while (0)
#define FA__BWD_RANGE(name, FORM) FA__BWD_SUBBLOCKS(FA__BWD_ALIAS(name, FORM))
/* a FA_NANX_KERNELS kernel (fa_kernels.h): FORM_nx, noting a NaN result or
 * a NaN s in one unordered compare, which in place on g also keeps g where
 * either is NaN, and fixed up by fa__nan_fix2x; in place on s the full FORM,
 * whose NaN results alone mark the lanes to fix (the kept s is stale
 * elsewhere).  Double notes NaNs by looking at the results (FA__NAN_SEEN),
 * so it runs the full FORM. */
#undef FA__BWD_RANGE_NX
#if FA_IS_DOUBLE
#define FA__BWD_RANGE_NX(name, FORM) FA__BWD_RANGE(name, FORM)
#else
#define FA__BWD_SUB_NX(name, FORM, KEEP) \
            FA_IVDEP FA_UNROLL_MAP for (fa_idx j = 0; j < m; j++) { \
                const T v = sc[j], r = FA_F(fa_##name##_##FORM##_nx)(gc[j], v, p0, p1, p2, p3); \
                const int u = FA_UNORD(r, v); \
                KEEP; \
                d[j] = r; \
                bad |= u; \
            }
#define FA__BWD_RANGE_NX(name, FORM) \
        if (out == s) { FA__BWD_SUBBLOCKS(FA__BWD_SUB(name, FORM, FA__BWD_KEEP(tmp[j], sc[j], r), FA__BWD_NOTE)); } \
        else { \
            FA__BWD_SUBBLOCKS_FIX(fa__nan_fix2x, \
                if (!alias) { FA__BWD_SUB_NX(name, FORM, (void)0) } \
                else { FA__BWD_SUB_NX(name, FORM, FA__NANX_KEEP(tmp[j], gc[j], u)) }); \
        }
#if defined(__AVX512F__)
#define FA__NANX_KEEP(dst, v, u) if (u) (dst) = (v)
#else
#define FA__NANX_KEEP(dst, v, u) (dst) = (v)
#endif
#endif
/* a FA_RANGED_KERNELS kernel: FORM_c on the sub-blocks whose s all lie in
 * [lo, hi], the full FORM elsewhere, FORM_rare throughout when there is no
 * such range (rg = 0); the range tested as in fa_fwd_block (out of place:
 * in the common form's loop, whose NaN notes a failed sub-block drops) */
#define FA__BWD_RANGE_C(name, FORM) FA__BWD_SUBBLOCKS( \
        if (!rg) { FA__BWD_ALIAS(name, FORM##_rare) } \
        else if (!alias) { \
            FA__RANGE_INIT(st); \
            FA__BWD_SUB(name, FORM##_c, FA__RANGE_ACC(st, sc[j], lo, hi), FA__NAN_NOTE) \
            if (!FA__RANGE_OK(st, lo, hi)) { \
                bad = 0; \
                FA__BWD_SUB(name, FORM, (void)0, FA__NAN_NOTE) \
            } \
        } \
        else if (FA_F(fa__all_within)(sc, m, lo, hi)) { FA__BWD_ALIASED(name, FORM##_c) } \
        else { FA__BWD_ALIASED(name, FORM) })

/* d[j] = the NaN rule applied to d[j] = f(g[j], s[j]); g[j] and s[j] are read
 * only where d[j] is NaN (an in-place loop keeps the overwritten input only
 * there) */
static void FA_F(fa__nan_fix2)(T *d, const T *g, const T *s, fa_idx m)
{
    for (fa_idx j = 0; j < m; j++)
        if (d[j] != d[j]) d[j] = FA_F(fa_nan_of2)(d[j], g[j], s[j]);
}

/* fa__nan_fix2 where F_nx ran: the rule's NaN also where s is NaN and the
 * result is not (g and s are at hand wherever either is NaN) */
#if !FA_IS_DOUBLE
static void FA_F(fa__nan_fix2x)(T *d, const T *g, const T *s, fa_idx m)
{
    for (fa_idx j = 0; j < m; j++)
        if (d[j] != d[j] || s[j] != s[j])
            d[j] = FA_F(fa_nan_of2)(FA_F(fa_qnan)(), g[j], s[j]);
}
#endif

/* out[i] = g[i] * f'(x[i]) (from_y = 0) or from the saved output s = y. */
static int FA_F(fa_bwd_block)(int k, int from_y, const T *g, const T *s, T *out,
                              fa_idx n, const double *p)
{
    if (k == FA_K_linear && g == out)   /* linear' = 1: grad in place is the answer */
        return 0;
    const T p0 = (T)p[0], p1 = (T)p[1], p2 = (T)p[2], p3 = (T)p[3];
    const int pf = FA__PF_ON_BWD(k, from_y, n), alias = out == g || out == s;
    /* The aligned head (fa__align_head) aligns the output, except for an
     * exp/tanh/erf-based kernel, whose formula reads its input s several
     * times (GCC folds the load into each operation): there split loads of
     * s cost more than a split store, so the head aligns s (or g when out
     * is s) from x, and from y in place, where the overwritten array's
     * lines were just read.  From y out of place (a few operations per
     * element) the store stays aligned. */
    const T *al = !fa__pf_kernel(k) ? out : out == s ? g : (from_y && out != g) ? out : s;
    const fa_idx blk = pf ? FA_PF_BLOCK : n, head = FA_F(fa__align_head)(al, n);
    fa_idx done = FA_PF_AHEAD * blk;
    FA_ALIGN64 T tmp[FA_NAN_SUB];
    T lo, hi;
    int rg;
/* one case: kernel `name`, FORM (bwd or bwdy) over the blocks with RANGE
 * (FA__BWD_RANGE or, after setting rg, lo and hi, FA__BWD_RANGE_C) */
#define FA__BWD_CASE(name, FORM, RANGE) \
            FA__BLOCKS(b, e, head, blk, n) { \
                if (pf) FA_F(fa__prefetch_upto)(g, s, &done, b + (FA_PF_AHEAD + 1) * blk, n, 0); \
                RANGE(name, FORM); \
            } \
            return 0;
    if (!from_y) {
        switch (k) {
#define FA_CASE(name) case FA_K_##name: FA__BWD_CASE(name, bwd, FA__BWD_RANGE)
        FA_PLAIN_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) case FA_K_##name: FA__BWD_CASE(name, bwd, FA__BWD_RANGE_NX)
        FA_NANX_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) case FA_K_##name: \
            rg = FA_F(fa_##name##_bwd_range)(p0, p1, p2, p3, &lo, &hi); \
            FA__BWD_CASE(name, bwd, FA__BWD_RANGE_C)
        FA_RANGED_KERNELS(FA_CASE)
#undef FA_CASE
        default: return -1;
        }
    }
    switch (k) {
#define FA_CASE(name) case FA_K_##name: FA__BWD_CASE(name, bwdy, FA__BWD_RANGE)
    FA_BWDY_PLAIN_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) case FA_K_##name: FA__BWD_CASE(name, bwdy, FA__BWD_RANGE_NX)
    FA_NANX_BWDY_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) case FA_K_##name: \
        rg = FA_F(fa_##name##_bwdy_range)(p0, p1, p2, p3, &lo, &hi); \
        FA__BWD_CASE(name, bwdy, FA__BWD_RANGE_C)
    FA_RANGED_KERNELS(FA_CASE)
#undef FA_CASE
#undef FA__BWD_CASE
    default: return -1;
    }
}

/* Strided 1-D versions (strides in bytes, any sign): gather a block into a
 * stack buffer, run the vectorized contiguous kernel, scatter it back; a
 * contiguous input is read in place and a contiguous output written in
 * place (no copy through the buffer).  Every block is read completely
 * before any of it is written, so out may be the same view as an input. */
static int FA_F(fa_fwd_strided)(int k, const char *x, fa_idx sx, char *y, fa_idx sy,
                                fa_idx n, const double *p)
{
    T buf[FA_STRIDED_BUF];
    int rc = 0;
    for (fa_idx s = 0; s < n; s += FA_STRIDED_BUF) {
        fa_idx m = n - s < FA_STRIDED_BUF ? n - s : FA_STRIDED_BUF;
        const T *src = buf;
        T *dst = sy == (fa_idx)sizeof(T) ? (T *)(y + s * sy) : buf;
        if (sx == (fa_idx)sizeof(T))
            src = (const T *)(x + s * sx);
        else
            for (fa_idx i = 0; i < m; i++) buf[i] = *(const T *)(x + (s + i) * sx);
        rc |= FA_F(fa_fwd_block)(k, src, dst, m, p);
        if (dst == buf)
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
        const T *pg = bg, *px = bx;
        T *dst = so == (fa_idx)sizeof(T) ? (T *)(out + s * so) : bg;
        if (sg == (fa_idx)sizeof(T))
            pg = (const T *)(g + s * sg);
        else
            for (fa_idx i = 0; i < m; i++) bg[i] = *(const T *)(g + (s + i) * sg);
        if (sx == (fa_idx)sizeof(T))
            px = (const T *)(x + s * sx);
        else
            for (fa_idx i = 0; i < m; i++) bx[i] = *(const T *)(x + (s + i) * sx);
        rc |= FA_F(fa_bwd_block)(k, from_y, pg, px, dst, m, p);
        if (dst == bg)
            for (fa_idx i = 0; i < m; i++) *(T *)(out + (s + i) * so) = bg[i];
    }
    return rc;
}

