/* fa_half.h: float16 and bfloat16 <-> float32 conversions of one element,
 * and the F16C block conversions of targets that have the instructions.
 *
 * The results are those of fastact's staging through NumPy
 * (fastact/_arrays.py: _staged, _store), bit for bit, for every input:
 *   - widening is exact; a NaN keeps its sign and payload, a signaling NaN
 *     stays signaling (NumPy's float16 cast and bfloat16's shift by 16);
 *   - float32 -> float16 rounds to nearest even, subnormals included, and
 *     overflows to +-inf; a NaN keeps its sign and the top 10 payload bits
 *     and is not quieted, unless those bits are all zero (then 0x7c01: it
 *     must stay a NaN), as NumPy's npy_floatbits_to_halfbits;
 *   - float32 -> bfloat16 rounds to nearest even by bits; a NaN keeps its
 *     sign and top 7 payload bits, quieted only if they are all zero.
 * The scalar forms are value selects: the loops over them vectorize on every
 * target.  They use no floating-point state but the default rounding mode
 * (the subnormal cases use one exact int->float conversion, one float add).
 *
 * vcvtph2ps / vcvtps2ph (F16C) give the same bits for every non-NaN value,
 * but quiet a signaling NaN and never apply NumPy's 0x7c01 rule, so their
 * block forms report whether the block held a NaN and the caller then
 * converts that block again with the scalar forms. */
#ifndef FA_HALF_H
#define FA_HALF_H

#include "fa_defs.h"

FA_INLINE float fa_f16_to_f(uint32_t h)
{
    const uint32_t a = h & 0x7fffu, e = h & 0x7c00u;
    const uint32_t norm = (a << 13) + (112u << 23);          /* rebias 15 -> 127 */
    const uint32_t infnan = (a << 13) | 0x7f800000u;
    /* a subnormal (or zero) is a * 2^-24 exactly */
    const uint32_t sub = fa_f2u((float)(int32_t)a * 5.9604644775390625e-08f);
    const uint32_t r = e == 0 ? sub : e == 0x7c00u ? infnan : norm;
    return fa_u2f(r | ((h & 0x8000u) << 16));
}

FA_INLINE uint16_t fa_f_to_f16(float f)
{
    const uint32_t u = fa_f2u(f), a = u & 0x7fffffffu;
    /* normal results: drop 13 bits, to nearest even (overflow carries into 0x7c00) */
    const uint32_t norm = (a - (112u << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13;
    /* below 2^-14: adding 0.5 rounds |f| to a multiple of 2^-24 (the float16
     * subnormal step), to nearest even; the low bits are then the result */
    const uint32_t sub = fa_f2u(fa_u2f(a) + 0.5f) - 0x3f000000u;
    uint32_t nan = 0x7c00u | ((a >> 13) & 0x3ffu);
    nan |= (uint32_t)(nan == 0x7c00u);
    const uint32_t r = a < 0x38800000u ? sub : a < 0x47800000u ? norm
                     : a > 0x7f800000u ? nan : 0x7c00u;
    return (uint16_t)(r | ((u >> 16) & 0x8000u));
}

FA_INLINE float fa_bf16_to_f(uint32_t b) { return fa_u2f(b << 16); }

FA_INLINE uint16_t fa_f_to_bf16(float f)
{
    const uint32_t u = fa_f2u(f), hi = u >> 16;
    const uint32_t r = (u + 0x7fffu + (hi & 1u)) >> 16;      /* wraps only for NaNs */
    const uint32_t nan = (hi & 0x7fu) ? hi : (hi | 0x40u);
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : r);
}

/* F16C: GCC/clang define __F16C__ (-mf16c, the x86_64_v3/v4 targets); MSVC
 * has no such macro, and its /arch:AVX2 implies the instructions. */
#if defined(__F16C__) || (defined(_MSC_VER) && defined(__AVX2__))
#define FA_HAVE_F16C 1
#include <immintrin.h>

/* f[0..n) = h[0..n) widened; nonzero when a NaN was among them (then the
 * caller converts the block again with fa_f16_to_f). */
static int fa_f16c_widen(const uint16_t *h, float *f, fa_idx n)
{
    __m256 nan = _mm256_setzero_ps();
    fa_idx i = 0;
    unsigned nan16 = 0;
#if defined(__AVX512F__)
    /* the same conversion 16 lanes at a time: half the instructions, which
     * bound a cheap kernel's half-precision loop */
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i)));
        nan16 |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        _mm512_storeu_ps(f + i, v);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i)));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm256_storeu_ps(f + i, v);
    }
    if (i < n) {                    /* the last < 8 elements through a padded vector */
        uint16_t t[8] = {0};
        float o[8];
        memcpy(t, h + i, (size_t)(n - i) * sizeof(uint16_t));
        const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm256_storeu_ps(o, v);
        memcpy(f + i, o, (size_t)(n - i) * sizeof(float));
    }
    return (_mm256_movemask_ps(nan) | nan16) != 0;
}

/* h[0..n) = f[0..n) rounded to nearest even; nonzero when a NaN was among
 * them (then the caller converts the block again with fa_f_to_f16). */
static int fa_f16c_narrow(const float *f, uint16_t *h, fa_idx n)
{
    __m256 nan = _mm256_setzero_ps();
    fa_idx i = 0;
    unsigned nan16 = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(f + i);
        nan16 |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        _mm256_storeu_si256((__m256i *)(h + i), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
#endif
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(f + i);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    }
    if (i < n) {
        float t[8] = {0};
        uint16_t o[8];
        memcpy(t, f + i, (size_t)(n - i) * sizeof(float));
        const __m256 v = _mm256_loadu_ps(t);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm_storeu_si128((__m128i *)o, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        memcpy(h + i, o, (size_t)(n - i) * sizeof(uint16_t));
    }
    return (_mm256_movemask_ps(nan) | nan16) != 0;
}

/* The fused groups of loops/half.h (nh elements, a multiple of 32).
 * _widen_g: f = h widened; _narrow_g: h = f rounded, unless one of f is a
 * NaN: then it stores nothing and returns nonzero (the caller takes the
 * exact path).  GCC keeps f in registers once it inlines them.  They need
 * AVX2's integer forms (AVX-512: BW's word forms); F16C alone (or AVX512F
 * without BW, -march=native builds) keeps the buffered path. */
#if defined(__AVX2__)
#define FA_HAVE_HALF_GROUPS 1
#if defined(__AVX512F__) && defined(__AVX512BW__)
FA_INLINE void fa_f16c_widen_g(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 16)
        _mm512_store_ps(f + q, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + q))));
}
/* bfloat16 groups of 32: the words interleaved with zeros, each 128-bit
 * lane's low and high four into the two vectors (f holds the group in that
 * order, which the element-wise kernels do not see and the narrowing
 * undoes) */
FA_INLINE void fa_bf16_widen_g(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 32) {
        const __m512i w = _mm512_loadu_si512((const void *)(h + q)), z = _mm512_setzero_si512();
        _mm512_store_si512((void *)(f + q), _mm512_unpacklo_epi16(z, w));
        _mm512_store_si512((void *)(f + q + 16), _mm512_unpackhi_epi16(z, w));
    }
}
/* bfloat16 groups in element order, for loops whose lanes meet another
 * array's (prelu's slopes): each word zero-extended and shifted up */
FA_INLINE void fa_bf16_widen_go(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 16)
        _mm512_store_si512((void *)(f + q),
                           _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(h + q))), 16));
}
FA_INLINE int fa__nan_any_g(const float *f, int nh)
{
    __mmask16 m = 0;
    for (int q = 0; q < nh; q += 16) {
        const __m512 v = _mm512_load_ps(f + q);
        m |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    return m != 0;
}
FA_INLINE int fa_f16c_narrow_g(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    for (int q = 0; q < nh; q += 16)
        _mm256_storeu_si256((__m256i *)(h + q),
                            _mm512_cvtps_ph(_mm512_load_ps(f + q), _MM_FROUND_TO_NEAREST_INT));
    return 0;
}
/* the float32 bits u rounded to bfloat16 in the high word of each dword: to
 * nearest even by bits (fa_f_to_bf16 for numbers), u + 0x7fff, plus one
 * where bit 16 is set */
FA_INLINE __m512i fa__bf16_round_hi(__m512i u)
{
    const __m512i r = _mm512_add_epi32(u, _mm512_set1_epi32(0x7fff));
    return _mm512_mask_add_epi32(r, _mm512_test_epi32_mask(u, _mm512_set1_epi32(0x10000)), r,
                                 _mm512_set1_epi32(1));
}
/* the high words of both vectors back in the order fa_bf16_widen_g took them */
FA_INLINE int fa_bf16_narrow_g(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    /* word j of lane l: lo's dword j (j < 4) or hi's dword j - 4, high word
     * (a table rather than _mm512_set_epi16, which not every compiler has) */
    static const uint16_t perm[32] = { 1, 3, 5, 7, 33, 35, 37, 39, 9, 11, 13, 15, 41, 43, 45, 47,
                                       17, 19, 21, 23, 49, 51, 53, 55, 25, 27, 29, 31, 57, 59, 61, 63 };
    const __m512i idx = _mm512_loadu_si512((const void *)perm);
    for (int q = 0; q < nh; q += 32)
        _mm512_storeu_si512((void *)(h + q),
                            _mm512_permutex2var_epi16(fa__bf16_round_hi(_mm512_load_si512((const void *)(f + q))), idx,
                                                      fa__bf16_round_hi(_mm512_load_si512((const void *)(f + q + 16)))));
    return 0;
}
/* the high words of two vectors in element order */
static const uint16_t fa__bf16_seq[32] = { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                           33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63 };
/* fa_bf16_narrow_g for groups in element order (fa_bf16_widen_go) */
FA_INLINE int fa_bf16_narrow_go(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    const __m512i idx = _mm512_loadu_si512((const void *)fa__bf16_seq);
    for (int q = 0; q < nh; q += 32)
        _mm512_storeu_si512((void *)(h + q),
                            _mm512_permutex2var_epi16(fa__bf16_round_hi(_mm512_load_si512((const void *)(f + q))), idx,
                                                      fa__bf16_round_hi(_mm512_load_si512((const void *)(f + q + 16)))));
    return 0;
}
/* h[0..n) = f[0..n) rounded to bfloat16 in element order (fa_f_to_bf16
 * for numbers); nonzero when a NaN was among them (then the caller converts
 * the block again with fa_f_to_bf16) */
FA_INLINE int fa_bf16_narrow(const float *f, uint16_t *h, fa_idx n)
{
    const __m512i idx = _mm512_loadu_si512((const void *)fa__bf16_seq);
    __mmask16 m = 0;
    fa_idx i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_loadu_ps(f + i), b = _mm512_loadu_ps(f + i + 16);
        m |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
        _mm512_storeu_si512((void *)(h + i), _mm512_permutex2var_epi16(fa__bf16_round_hi(_mm512_castps_si512(a)), idx,
                                                                       fa__bf16_round_hi(_mm512_castps_si512(b))));
    }
    for (; i < n; i++) h[i] = fa_f_to_bf16(f[i]);
    return m != 0;
}
#else
/* the float32 bits u rounded to bfloat16, in the low word of each dword (to
 * nearest even by bits, as fa_f_to_bf16 for numbers: u + 0x7fff + bit 16) */
FA_INLINE __m256i fa__bf16_round_lo(__m256i u)
{
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), odd), 16);
}
FA_INLINE int fa_bf16_narrow(const float *f, uint16_t *h, fa_idx n)
{
    __m256 nan = _mm256_setzero_ps();
    fa_idx i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i r[2];
        for (int w = 0; w < 2; w++) {
            const __m256 v = _mm256_loadu_ps(f + i + 8 * w);
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            r[w] = fa__bf16_round_lo(_mm256_castps_si256(v));
        }
        /* packus interleaves the 128-bit lanes: the 64-bit permute restores the order */
        _mm256_storeu_si256((__m256i *)(h + i),
                            _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xd8));
    }
    for (; i < n; i++) h[i] = fa_f_to_bf16(f[i]);
    return _mm256_movemask_ps(nan) != 0;
}
FA_INLINE void fa_f16c_widen_g(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 8)
        _mm256_store_ps(f + q, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + q))));
}
/* as with AVX-512: each 128-bit lane's low and high four words into the two
 * vectors, which packus_epi32 puts back in order */
FA_INLINE void fa_bf16_widen_g(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 16) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(h + q)), z = _mm256_setzero_si256();
        _mm256_store_si256((__m256i *)(f + q), _mm256_unpacklo_epi16(z, w));
        _mm256_store_si256((__m256i *)(f + q + 8), _mm256_unpackhi_epi16(z, w));
    }
}
FA_INLINE void fa_bf16_widen_go(const uint16_t *h, float *f, int nh)
{
    for (int q = 0; q < nh; q += 8)
        _mm256_store_si256((__m256i *)(f + q),
                           _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + q))), 16));
}
FA_INLINE int fa__nan_any_g(const float *f, int nh)
{
    __m256 nan = _mm256_setzero_ps();
    for (int q = 0; q < nh; q += 8) {
        const __m256 v = _mm256_load_ps(f + q);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    return _mm256_movemask_ps(nan) != 0;
}
FA_INLINE int fa_f16c_narrow_g(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    for (int q = 0; q < nh; q += 8)
        _mm_storeu_si128((__m128i *)(h + q),
                         _mm256_cvtps_ph(_mm256_load_ps(f + q), _MM_FROUND_TO_NEAREST_INT));
    return 0;
}
/* f[0..16) rounded into 16 halves in packus order: each 128-bit lane holds
 * four of the first vector's, then four of the second's (the results are
 * below 2^16: packus keeps them) */
FA_INLINE __m256i fa__bf16_pack2(const float *f)
{
    return _mm256_packus_epi32(fa__bf16_round_lo(_mm256_load_si256((const __m256i *)f)),
                               fa__bf16_round_lo(_mm256_load_si256((const __m256i *)(f + 8))));
}
FA_INLINE int fa_bf16_narrow_g(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    for (int q = 0; q < nh; q += 16)        /* the order fa_bf16_widen_g took them in */
        _mm256_storeu_si256((__m256i *)(h + q), fa__bf16_pack2(f + q));
    return 0;
}
FA_INLINE int fa_bf16_narrow_go(const float *f, uint16_t *h, int nh)
{
    if (fa__nan_any_g(f, nh))
        return 1;
    for (int q = 0; q < nh; q += 16)        /* the 64-bit permute restores element order */
        _mm256_storeu_si256((__m256i *)(h + q), _mm256_permute4x64_epi64(fa__bf16_pack2(f + q), 0xd8));
    return 0;
}
#endif
#else
#define FA_HAVE_HALF_GROUPS 0
#endif /* __AVX2__ */
#else
#define FA_HAVE_F16C 0
#define FA_HAVE_HALF_GROUPS 0
#endif

#endif /* FA_HALF_H */
