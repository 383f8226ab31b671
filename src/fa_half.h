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
#else
#define FA_HAVE_F16C 0
#endif

#endif /* FA_HALF_H */
