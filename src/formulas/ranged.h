/* formulas/ranged.h: the full forms of a kernel of FA_RANGED_KERNELS and
 * the rare form of one of FA_FWD_RANGED_KERNELS (src/fa_kernels.h says what
 * their _c, _rare and _range forms are).
 * Included by the formula headers that define such kernels; the macros
 * expand inside their template bodies (T, FA_F). */
#ifndef FA_FORMULAS_RANGED_H
#define FA_FORMULAS_RANGED_H

/* the full forms of a FA_RANGED_KERNELS kernel, from its _c, _rare and
 * _range forms (inside the template bodies: T, FA_F) */
#define FA__RANGED_FULL_FORMS(name) \
    FA_INLINE T FA_F(fa_##name##_fwd)(T x, T p0, T p1, T p2, T p3) \
    { \
        T lo, hi; \
        FA_F(fa_##name##_fwd_range)(p0, p1, p2, p3, &lo, &hi); \
        T r = FA_F(fa_##name##_fwd_rare)(x, p0, p1, p2, p3); \
        T v = FA_F(fa_##name##_fwd_c)(x, p0, p1, p2, p3); \
        return x >= lo && x <= hi ? v : r; \
    } \
    FA__RANGED_FULL_BWD(name, bwd) \
    FA__RANGED_FULL_BWD(name, bwdy)
#define FA__RANGED_FULL_BWD(name, FORM) \
    FA_INLINE T FA_F(fa_##name##_##FORM)(T g, T s, T p0, T p1, T p2, T p3) \
    { \
        T lo, hi; \
        FA_F(fa_##name##_##FORM##_range)(p0, p1, p2, p3, &lo, &hi); \
        T r = FA_F(fa_##name##_##FORM##_rare)(g, s, p0, p1, p2, p3); \
        T v = FA_F(fa_##name##_##FORM##_c)(g, s, p0, p1, p2, p3); \
        return s >= lo && s <= hi ? v : r; \
    }

/* the rare form of a FA_FWD_RANGED_KERNELS kernel: its full form, written
 * by hand (the common form with a clamp and the NaN rule), correct for every
 * input and the common form's bits in range */
#define FA__RANGED_FWD_RARE(name) \
    FA_INLINE T FA_F(fa_##name##_fwd_rare)(T x, T p0, T p1, T p2, T p3) \
    { \
        return FA_F(fa_##name##_fwd)(x, p0, p1, p2, p3); \
    }

#endif /* FA_FORMULAS_RANGED_H */
