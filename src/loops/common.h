/* loops/common.h: what every loop family shares: the software prefetch of
 * long chunks, the aligned head, the block walk and the NaN rules.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and before the families' loops (src/loops/: elementwise,
 * prelu, softmax, bias, gated, in that order).
 *
 * Each loop is one counted loop over raw pointers whose body is an
 * always-inline formula: this is what the compiler vectorizes.  FA_IVDEP is
 * correct because every loop is a pure element-wise map: out may equal an
 * input exactly (in-place), and Python rejects partial overlap. */

/* Arrays beyond the L2 cache are walked in blocks of FA_PF_BYTES, each block
 * first prefetching (into L1) the block FA_PF_AHEAD blocks ahead.  The
 * hardware prefetcher does not run far enough ahead of a slow, compute-bound
 * loop.  A block is 16 cache lines: a burst of 32 overflows the line-fill
 * buffers.  Below FA_PF_MIN_BYTES the data is in L2 and the prefetches would
 * only cost issue slots. */
#define FA_PF_BYTES 1024
#define FA_PF_BLOCK ((fa_idx)(FA_PF_BYTES / sizeof(T)))
#define FA_PF_AHEAD 2
#define FA_PF_MIN_BYTES (1u << 20)
#define FA_PF_LINE (64 / (fa_idx)sizeof(T))

/* Only the transcendental kernels prefetch: the cheap ones are memory-bound
 * and keep up with the hardware prefetcher, so extra prefetches only cost
 * them issue slots and line-fill buffers. */
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

/* fa__pf_kernel_bwdy(k): kernel k's backward from y prefetches (a
 * transcendental kernel not in FA_CHEAP_BWDY_KERNELS) */
#ifndef FA__PF_KERNEL_BWDY
#define FA__PF_KERNEL_BWDY
static int fa__pf_kernel_bwdy(int k)
{
    switch (k) {
#define FA_CASE(name) case FA_K_##name:
    FA_CHEAP_BWDY_KERNELS(FA_CASE)
#undef FA_CASE
        return 0;
    default:
        return fa__pf_kernel(k);
    }
}
#endif

/* fa__nan_exact[k]: kernel k is one of FA_NAN_EXACT_KERNELS (fa_kernels.h) */
#ifndef FA__NAN_EXACT
#define FA__NAN_EXACT
#define FA__NX_ENTRY(name) [FA_K_##name] = 1,
static const unsigned char fa__nan_exact[FA_K_COUNT] = { FA_NAN_EXACT_KERNELS(FA__NX_ENTRY) };
#undef FA__NX_ENTRY
#endif

/* Software prefetch: *done is the flat index up to which a (and b unless
 * NULL) have been prefetched; bring it to `want` (capped at n); `write`
 * (a constant at every call) prefetches for writing.  The loops call it at
 * the start of each block with the block's start + FA_PF_AHEAD + 1 blocks,
 * so that block FA_PF_AHEAD ahead is prefetched once, also when the blocks
 * are rows shorter than a block or a short aligned head. */
FA_INLINE void FA_F(fa__prefetch_upto)(const T *a, const T *b, fa_idx *done, fa_idx want, fa_idx n, int write)
{
    fa_idx i = *done;
    if (want > n) want = n;
    for (; i < want; i += FA_PF_LINE) {
        if (write) {
            FA_PREFETCH_W(a + i);
            if (b) FA_PREFETCH_W(b + i);
        } else {
            FA_PREFETCH(a + i);
            if (b) FA_PREFETCH(b + i);
        }
    }
    if (i > *done) *done = i;
}

/* Whether a chunk of n elements of kernel k is walked in prefetching blocks
 * (fa_tune.sw_prefetch: not on AMD, fa_defs.h). */
#define FA__PF_ON(k, n) (fa_tune.sw_prefetch && (size_t)(n) * sizeof(T) >= FA_PF_MIN_BYTES && fa__pf_kernel(k))
#define FA__PF_ON_BWD(k, from_y, n) \
    (fa_tune.sw_prefetch && (size_t)(n) * sizeof(T) >= FA_PF_MIN_BYTES \
     && ((from_y) ? fa__pf_kernel_bwdy(k) : fa__pf_kernel(k)))

/* Elements before the first 64-byte boundary of the output: NumPy's large
 * arrays start 16 bytes past a page, so every AVX-512 store (and load, in
 * place) would straddle two cache lines, so this head is peeled first.  Not
 * for short arrays, where the extra loop entry costs more than it saves. */
FA_INLINE fa_idx FA_F(fa__align_head)(const T *y, fa_idx n)
{
    fa_idx h = (fa_idx)((64 - ((uintptr_t)y & 63)) & 63) / (fa_idx)sizeof(T);
    return n < 1024 ? 0 : h;
}

/* A map loop over [lo, hi): i from lo up, or, when `down`
 * (fa__walk_down, fa_defs.h) on an AVX-512 target, its vectors of FA_VL
 * lanes from the last to the first, the lanes of each ascending (an inner
 * loop of FA_VL, which GCC vectorizes into one vector and then drops), and
 * the first (hi - lo) % FA_VL elements last.  Not on narrower targets: the
 * AVX2 down walk measured no faster than the up walk there. */
#define FA_VL (FA_VEC_BYTES / (int)sizeof(T))
#if FA_HAVE_DOWN
#define FA__MAP(down, i, lo, hi, BODY) \
    if (down) { \
        fa_idx fa_c_ = (hi) - FA_VL; \
        for (; fa_c_ >= (lo); fa_c_ -= FA_VL) { \
            FA_IVDEP for (int fa_l_ = 0; fa_l_ < FA_VL; fa_l_++) { const fa_idx i = fa_c_ + fa_l_; BODY; } \
        } \
        for (fa_idx i = (lo); i < fa_c_ + FA_VL; i++) { BODY; } \
    } else { \
        FA_IVDEP FA_UNROLL_MAP for (fa_idx i = (lo); i < (hi); i++) { BODY; } \
    }
#else
#define FA__MAP(down, i, lo, hi, BODY) \
    (void)(down); \
    FA_IVDEP FA_UNROLL_MAP for (fa_idx i = (lo); i < (hi); i++) { BODY; }
#endif

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
/* r = f(x) with the forward NaN rule: fa_nan_in unless kernel `name` keeps
 * a NaN x's bits by itself (FA_NAN_EXACT_KERNELS; the table index is a
 * constant, so the compiler drops the select or keeps it) */
#define FA__FWD_NAN(name, x, r) \
    (fa__nan_exact[FA_K_##name] ? (r) : FA_F(fa_nan_in)((x), (r)))
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

/* The NaN rule outside the vectorized loop, for loops that store a bare
 * formula: per sub-block of FA_NAN_SUB elements the loop notes a NaN
 * (FA__NAN_NOTE: float keeps a flag in the same loop; double looks again,
 * FA__NAN_SEEN, because GCC vectorizes neither an int flag beside double
 * lanes on SSE2 nor a flag in the same loop as some double formulas), and
 * only a sub-block that has one is fixed up.  The rule in the loop itself
 * costs three compares and three selects per element. */
#define FA_NAN_SUB 256
#undef FA__NAN_NOTE
#undef FA__NAN_NOTE_CMP
#undef FA__NAN_SEEN
#if FA_IS_DOUBLE
#define FA__NAN_NOTE(bad, r) ((void)(bad))
#define FA__NAN_NOTE_CMP(bad, r) ((void)(bad))
#define FA__NAN_SEEN(bad, d, m) FA_F(fa__any_nan)(d, m)
#elif defined(__AVX512F__)
/* AVX-512: bad is the unsigned max of the results' NaN keys (fa_nan_key_f):
 * a shift and an integer max beside the FMA pipes, where a compare into a
 * mask would take an FMA pipe slot (AMD Zen 4).  FA__NAN_NOTE_CMP, for
 * loops that compare r != r anyway (FA__BWD_KEEP), ORs that compare into
 * bit 0 instead, which keys never set. */
#define FA__NAN_NOTE(bad, r) \
    do { const uint32_t fa_nb_ = fa_nan_key_f(r); (bad) = fa_nb_ > (bad) ? fa_nb_ : (bad); } while (0)
#define FA__NAN_NOTE_CMP(bad, r) ((bad) |= (r) != (r))
#define FA__NAN_SEEN(bad, d, m) ((bad) > FA_NAN_KEY_INF || ((bad) & 1u))
#else
#define FA__NAN_NOTE(bad, r) ((bad) |= (r) != (r))
#define FA__NAN_NOTE_CMP(bad, r) FA__NAN_NOTE(bad, r)
#define FA__NAN_SEEN(bad, d, m) ((bad) != 0)
#endif

/* dst[0..m) = src[0..m) with non-temporal stores where the target has
 * them (dst 64-byte aligned, src the L1 buffer of fa_fwd_block_nt); the
 * caller fences once after its last block. */
FA_INLINE void FA_F(fa__stream)(T *dst, const T *src, fa_idx m)
{
    fa_idx j = 0;
#if FA_HAVE_STREAM && FA_IS_DOUBLE
#  if defined(__AVX512F__)
    for (; j + 8 <= m; j += 8) _mm512_stream_pd(dst + j, _mm512_load_pd(src + j));
#  elif defined(__AVX__)
    for (; j + 4 <= m; j += 4) _mm256_stream_pd(dst + j, _mm256_load_pd(src + j));
#  else
    for (; j + 2 <= m; j += 2) _mm_stream_pd(dst + j, _mm_load_pd(src + j));
#  endif
#elif FA_HAVE_STREAM
#  if defined(__AVX512F__)
    for (; j + 16 <= m; j += 16) _mm512_stream_ps(dst + j, _mm512_load_ps(src + j));
#  elif defined(__AVX__)
    for (; j + 8 <= m; j += 8) _mm256_stream_ps(dst + j, _mm256_load_ps(src + j));
#  else
    for (; j + 4 <= m; j += 4) _mm_stream_ps(dst + j, _mm_load_ps(src + j));
#  endif
#endif
    for (; j < m; j++) dst[j] = src[j];
}

/* The test of the FA_RANGED_KERNELS' common range [lo, hi] on a sub-block's
 * inputs: FA__RANGE_INIT declares its state, FA__RANGE_ACC adds an input
 * (inside the loop that computes the common form, or in fa__all_within's
 * pass of its own) and FA__RANGE_OK says whether all were inside.  A NaN
 * fails it, so the common form's loops need no NaN rule: a sub-block with a
 * NaN input runs the full form, which applies it.  A test may also fail
 * where all are inside (below): the full form is correct everywhere.
 * float: on the bits, no compare into a mask register (AMD Zen 4 runs those
 * on the FMA pipes, one per cycle): the signed minimum of the bits (negative
 * for any input with the sign bit) and the maximum of |x|'s bits (ordered as
 * |x|, a NaN's above inf's); every input lies in [lo, hi]
 *   - for lo with the sign bit clear: when min bits >= bits(lo) and
 *     max |x| bits <= bits(hi);
 *   - otherwise: when max |x| bits <= bits(min(-lo, hi)), exact for a
 *     symmetric range, a narrower test for any other.
 * double: compares, written to fail for a NaN (a 64-bit integer min or
 * max needs AVX-512). */
/* The ranged forward loops' sub-block: each costs the fold of the test and
 * a loop entry (about 80 instructions), and one that fails is recomputed,
 * from an L1 buffer in place (4 or 8 KB) */
#define FA_RANGE_SUB 1024
#undef FA__RANGE_INIT
#undef FA__RANGE_ACC
#undef FA__RANGE_OK
#if FA_IS_DOUBLE
#define FA__RANGE_INIT(st) T st = 0
#define FA__RANGE_ACC(st, v, lo, hi) st = (v) >= (lo) && (v) <= (hi) ? st : (T)1
#define FA__RANGE_OK(st, lo, hi) (st == 0)
#else
#define FA__RANGE_INIT(st) int32_t st##_mn = INT32_MAX, st##_mx = 0
#define FA__RANGE_ACC(st, v, lo, hi) do { \
        const int32_t b_ = (int32_t)fa_f2u(v), a_ = b_ & 0x7fffffff; \
        st##_mn = b_ < st##_mn ? b_ : st##_mn; \
        st##_mx = a_ > st##_mx ? a_ : st##_mx; \
    } while (0)
#define FA__RANGE_OK(st, lo, hi) fa__range_ok_f(st##_mn, st##_mx, lo, hi)
#ifndef FA__RANGE_OK_F
#define FA__RANGE_OK_F
FA_INLINE int fa__range_ok_f(int32_t mn, int32_t mx, float lo, float hi)
{
    if ((int32_t)fa_f2u(lo) >= 0)
        return mn >= (int32_t)fa_f2u(lo) && mx <= (int32_t)fa_f2u(hi);
    const float h = -lo < hi ? -lo : hi;
    return mx <= (int32_t)fa_f2u(h);
}
#endif
#endif
/* whether every x[j] of x[0..m) lies in [lo, hi] (FA__RANGE_OK) */
FA_INLINE int FA_F(fa__all_within)(const T *x, fa_idx m, T lo, T hi)
{
    FA__RANGE_INIT(st);
    FA_IVDEP for (fa_idx j = 0; j < m; j++) FA__RANGE_ACC(st, x[j], lo, hi);
    return FA__RANGE_OK(st, lo, hi);
}

/* whether any of d[0..m) is NaN */
FA_INLINE int FA_F(fa__any_nan)(const T *d, fa_idx m)
{
    T seen = 0;
    FA_IVDEP for (fa_idx j = 0; j < m; j++) seen = d[j] != d[j] ? (T)1 : seen;
    return seen != 0;
}

