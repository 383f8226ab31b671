/* fa_defs.h: portability macros shared by every native source of fastact.
 *
 * Kernels are plain scalar `static inline` functions over one element; the
 * loops that call them are simple counted loops that the compiler turns into
 * packed SIMD code.  Nothing here may call libm inside a hot loop, and nothing
 * may depend on -ffast-math (we build with -fno-math-errno -fno-trapping-math
 * only, so NaN/inf semantics stay IEEE). */
#ifndef FA_DEFS_H
#define FA_DEFS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#if defined(_MSC_VER) && !defined(__clang__)
#  define FA_INLINE static __forceinline
/* Element-wise maps have no loop-carried dependence even when out == in. */
#  define FA_IVDEP __pragma(loop(ivdep))
#elif defined(__clang__)
#  define FA_INLINE static inline __attribute__((always_inline))
#  define FA_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#  define FA_NOUNROLL _Pragma("clang loop unroll(disable)")
#  define FA_UNROLL_FULL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#  define FA_INLINE static inline __attribute__((always_inline))
#  define FA_IVDEP _Pragma("GCC ivdep")
#  define FA_NOUNROLL _Pragma("GCC unroll 1")
#  define FA_UNROLL_FULL _Pragma("GCC unroll 8")
#else
#  define FA_INLINE static inline
#  define FA_IVDEP
#endif
/* On the short inner loop over the nacc partial sums/maxima of a row
 * reduction: kept as a loop, GCC vectorizes it (acc[] in registers); fully
 * unrolled (its default for 16), SLP gave 16 scalar vmaxss per 16 floats. */
#ifndef FA_NOUNROLL
#  define FA_NOUNROLL
#endif
/* On the element-wise map loops (loops/elementwise.h), GCC with AVX2 or
 * AVX-512: a cheap kernel's vector loop is a handful of instructions, and
 * the increment, compare and branch of every vector weigh on it.  clang
 * interleaves vector loops by itself; the SSE2 build does not gain
 * (bench/ab_loops.py compares the forms). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX2__)
#  define FA_UNROLL_MAP _Pragma("GCC unroll 4")
#else
#  define FA_UNROLL_MAP
#endif
/* a loop of at most 8 iterations with constant bounds, fully unrolled */
#ifndef FA_UNROLL_FULL
#  define FA_UNROLL_FULL
#endif

/* Non-temporal (streaming) stores: every x86-64 target has SSE2's; the
 * wider forms follow the target's vector width.  Elsewhere plain stores. */
#if defined(__x86_64__) || defined(_M_X64) || defined(__SSE2__)
#  include <immintrin.h>
#  define FA_HAVE_STREAM 1
#else
#  define FA_HAVE_STREAM 0
#endif

/* A stack buffer on a cache-line boundary (full-width aligned stores). */
#if defined(_MSC_VER) && !defined(__clang__)
#  define FA_ALIGN64 __declspec(align(64))
#elif defined(__GNUC__) || defined(__clang__)
#  define FA_ALIGN64 __attribute__((aligned(64)))
#else
#  define FA_ALIGN64
#endif

/* Prefetch for reading into the L1 cache (a hint: never faults); into L2
 * only (T1) gained half as much on the development machine.  FA_PREFETCH_W:
 * for a line about to be written (prefetchw where the target has it). */
#if defined(__GNUC__) || defined(__clang__)
#  define FA_PREFETCH(addr) __builtin_prefetch((addr), 0, 3)
#  define FA_PREFETCH_W(addr) __builtin_prefetch((addr), 1, 3)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#  include <xmmintrin.h>
#  define FA_PREFETCH(addr) _mm_prefetch((const char *)(addr), _MM_HINT_T0)
#  define FA_PREFETCH_W(addr) _mm_prefetch((const char *)(addr), _MM_HINT_T0)
#else
#  define FA_PREFETCH(addr) ((void)(addr))
#  define FA_PREFETCH_W(addr) ((void)(addr))
#endif

/* Bytes in one SIMD vector of the build target: softmax row tails are
 * computed in blocks of one vector (two would double the work of a tail of
 * one vector). */
#if defined(__AVX512F__)
#  define FA_VEC_BYTES 64
#elif defined(__AVX__)
#  define FA_VEC_BYTES 32
#else
#  define FA_VEC_BYTES 16
#endif

/* Whether a or b is NaN: one unordered compare where the compiler has the
 * builtin (GCC does not merge the two self-compares into one). */
#if defined(__GNUC__) || defined(__clang__)
#  define FA_UNORD(a, b) __builtin_isunordered((a), (b))
#else
#  define FA_UNORD(a, b) ((a) != (a) || (b) != (b))
#endif

/* Index type for every loop: 64-bit on 64-bit platforms, never int. */
typedef ptrdiff_t fa_idx;

/* Bit casts that GCC turns into register reinterprets (no memory traffic). */
FA_INLINE uint32_t fa_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
FA_INLINE float fa_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
FA_INLINE uint64_t fa_d2u(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
FA_INLINE double fa_u2d(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* A float's NaN key: its bits shifted left by one (the sign dropped).  The
 * NaNs of either sign are the only floats whose key exceeds FA_NAN_KEY_INF,
 * the key of +-inf, so an unsigned max of keys notes a NaN with integer
 * operations, no compare into a mask. */
FA_INLINE uint32_t fa_nan_key_f(float r) { return fa_f2u(r) << 1; }
#define FA_NAN_KEY_INF 0xFF000000u

/* |x| and copysign by bit operations: branch-free, vectorize on every ISA. */
FA_INLINE float fa_abs_f(float x) { return fa_u2f(fa_f2u(x) & 0x7fffffffu); }
FA_INLINE double fa_abs_d(double x) { return fa_u2d(fa_d2u(x) & 0x7fffffffffffffffull); }
/* magnitude of a with the sign of b */
FA_INLINE float fa_copysign_f(float a, float b) {
    return fa_u2f((fa_f2u(a) & 0x7fffffffu) | (fa_f2u(b) & 0x80000000u));
}
FA_INLINE double fa_copysign_d(double a, double b) {
    return fa_u2d((fa_d2u(a) & 0x7fffffffffffffffull) | (fa_d2u(b) & 0x8000000000000000ull));
}

/* A clamp and a select on the bits (float), for formulas whose inputs have
 * a known sign there: with AVX-512 a float compare writes a mask register,
 * and AMD Zen 4 runs those at one per cycle on its two FMA pipes, the pipes
 * the exp/tanh kernels are bound by; integer min, shifts and bitwise
 * selects run on the other pipes.
 * fa_minpos_f(a, hi) = min(a, hi) for a with the sign bit clear (+0 .. +inf)
 * and hi >= +0: such floats order as their bits (one pminud; SSE2 has none,
 * the float select there gives the same results).  A NaN a gives hi, so a
 * formula that clamps with it selects x itself for a NaN x at its end. */
#if defined(__SSE4_1__) || defined(__AVX__) || defined(__aarch64__)
#define FA_CLAMP_BITS 1         /* fa_minpos_f, fa_maxneg_f: integer forms */
#else
#define FA_CLAMP_BITS 0
#endif
#if FA_CLAMP_BITS
FA_INLINE float fa_minpos_f(float a, float hi)
{
    uint32_t u = fa_f2u(a), h = fa_f2u(hi);
    return fa_u2f(u < h ? u : h);
}
#else
FA_INLINE float fa_minpos_f(float a, float hi) { return a < hi ? a : hi; }
#endif
/* The least |x| a float formula feeds to the parts that square it: x86
 * cores take a microcode assist, some 100 cycles, for every subnormal
 * result or operand of a multiply (no FTZ/DAZ here: subnormal results are
 * part of the accuracy contract): gelu on |x| near 1e-20 would run 50x
 * slower than on |x| near 1.  Below 2^-40 those parts round to their value
 * at 0 anyway (exp(-x^2) to 1), so the formulas raise |x| to it there.
 * double: the same, for squares and for the products of x with the small
 * corrections of the double-double steps (x * 2^-60 and below). */
#define FA_F_TINY 0x1p-40f
#define FA_D_TINY 0x1p-300
/* fa_maxpos_f/_d(a, lo) = max(a, lo) for a and lo with the sign bit clear,
 * by the same argument (one pmaxud / vpmaxuq); a NaN a stays a NaN in both
 * forms.  double too is on the bits: GCC threads a float compare-and-select
 * into a copy of every later operation, and that copy squares the raw a. */
#if FA_CLAMP_BITS
FA_INLINE float fa_maxpos_f(float a, float lo)
{
    uint32_t u = fa_f2u(a), l = fa_f2u(lo);
    return fa_u2f(u > l ? u : l);
}
FA_INLINE double fa_maxpos_d(double a, double lo)
{
    uint64_t u = fa_d2u(a), l = fa_d2u(lo);
    return fa_u2d(u > l ? u : l);
}
#else
FA_INLINE float fa_maxpos_f(float a, float lo) { return a < lo ? lo : a; }
FA_INLINE double fa_maxpos_d(double a, double lo) { return a < lo ? lo : a; }
#endif
/* fa_maxneg_f(z, lo) = max(z, lo) for lo <= -0 and any non-NaN z: negative
 * floats grow in bits as they grow in magnitude and every float with the
 * sign bit clear has smaller bits than lo, so it is one unsigned min of the
 * bits.  A NaN z gives lo or stays a NaN, by its sign bit and the build
 * (the SSE2 fallback passes it, as maxps(lo, z) does): every caller either
 * selects x itself for a NaN x at its end or has the NaN reach its result
 * through another operand, so none depends on which.  double: the compare
 * (a 64-bit unsigned min needs AVX-512). */
#if FA_CLAMP_BITS
FA_INLINE float fa_maxneg_f(float z, float lo)
{
    uint32_t u = fa_f2u(z), l = fa_f2u(lo);
    return fa_u2f(u < l ? u : l);
}
#else
FA_INLINE float fa_maxneg_f(float z, float lo) { return z < lo ? lo : z; }
#endif
FA_INLINE double fa_maxneg_d(double z, double lo) { return z < lo ? lo : z; }
/* x's sign bit set (-0, negative, a NaN with the sign bit) ? a : b.  With
 * AVX-512 an arithmetic shift and one vpternlogd; elsewhere an integer
 * compare and a blend (GCC 12, AVX2: vpcmpgtd and vblendvps), no cheaper
 * than a float compare there. */
FA_INLINE float fa_ifneg_f(float x, float a, float b)
{
#if defined(__AVX512F__)
    uint32_t m = (uint32_t)((int32_t)fa_f2u(x) >> 31);
    return fa_u2f((fa_f2u(a) & m) | (fa_f2u(b) & ~m));
#else
    return (int32_t)fa_f2u(x) < 0 ? a : b;
#endif
}

/* Correctly rounded IEEE square root: one instruction (packed in vector
 * loops) under -fno-math-errno, never a libm call with errno. */
#if defined(__GNUC__) || defined(__clang__)
FA_INLINE float fa_sqrt_f(float x) { return __builtin_sqrtf(x); }
FA_INLINE double fa_sqrt_d(double x) { return __builtin_sqrt(x); }
#else
FA_INLINE float fa_sqrt_f(float x) { return sqrtf(x); }
FA_INLINE double fa_sqrt_d(double x) { return sqrt(x); }
#endif

/* How the loops use this CPU, set once when the loop module loads
 * (fa_tune_init in src/isa/fa_loops_module.c, from the CPU's vendor; the
 * module's fast_divider(), sw_prefetch() and walk() read and set them).
 * None changes a result bit.
 *  - fast_divider: hard_swish's float AVX-512 loops divide with the 512-bit
 *    divider (AMD's cores: one vector per ~5 cycles) instead of
 *    fa__div6_f/fa__div3_f (Intel's: ~10-16 cycles).  A formula selects on
 *    it; it is loop-invariant, so GCC unswitches each loop into a copy per
 *    value.
 *  - sw_prefetch: the element-wise loops prefetch their inputs on arrays
 *    beyond L2 (loops/common.h), and softmax's backward the next row
 *    (loops/softmax.h); AMD's hardware prefetchers keep up without it, and
 *    the prefetches only cost issue slots there.  softmax's forward keeps
 *    its prefetch, which also helps there, except for an out-of-place
 *    output beyond the last-level cache: with sw_prefetch off, the front
 *    (src/front/softmax.pxi, _sm_far) takes smaller row blocks without it
 *    (the loop table's sw_prefetch points here).
 *  - walk: below. */
/* The direction of an element-wise loop (fa_tune.walk; the loop module's
 * walk() reads and sets it, so that the tests run both loops everywhere).
 * A load whose address matches a still-pending store's in the low 12 bits
 * waits for that store ("4K aliasing": Intel documents it for its cores,
 * and AMD's Zen 4 shows it): when an output starts a little after an input
 * modulo 4 KB, the loads of a loop walking up meet the stores they run
 * ahead of, and the loop slows by up to a half (docs/performance.md).
 * Walking the vectors from the last to the first (the lanes of each still
 * ascending) puts every pending store above the loads, so the loops take
 * that walk when the output lies FA_ALIAS_LO to FA_ALIAS_HI bytes after the
 * input modulo 4096 (the down walk has its own window: the input just after
 * the output).  Above 192 bytes the down walk gained the exp-based kernels
 * little and cost relu more.  Each element is computed alone, so the bits
 * are the same.  The element-wise forward loops of the plain kernels on
 * AVX-512 targets (FA_HAVE_DOWN; loops/common.h, FA__MAP) walk down; all
 * other loops walk up. */
enum { FA_WALK_AUTO = 0, FA_WALK_UP = 1, FA_WALK_DOWN = 2 };
#define FA_HAVE_DOWN (FA_VEC_BYTES == 64)
typedef struct fa_tuning { int fast_divider, sw_prefetch, walk; } fa_tuning;
static fa_tuning fa_tune = {0, 1, FA_WALK_AUTO};
#define FA_ALIAS_LO 40
#define FA_ALIAS_HI 192
FA_INLINE int fa__near_after(const void *a, const void *b)
{
    const unsigned d = (unsigned)(((uintptr_t)a - (uintptr_t)b) & 4095u);
    return d >= FA_ALIAS_LO && d < FA_ALIAS_HI;
}
/* whether a loop loading `in` and storing to `out` walks down */
FA_INLINE int fa__walk_down(const void *out, const void *in)
{
    if (fa_tune.walk != FA_WALK_AUTO)
        return fa_tune.walk == FA_WALK_DOWN;
    return fa__near_after(out, in);
}

#endif /* FA_DEFS_H */
