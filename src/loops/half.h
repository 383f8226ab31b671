/* loops/half.h: the element-wise kernels on float16 and bfloat16 storage
 * (uint16_t bits), computed in float32 two ways:
 *   - fused (fa_fwd_block, fa_bwd_block on contiguous data, AVX2 targets):
 *     groups of 32 elements widened in registers, run through the kernel's
 *     float32 formula and rounded back in the same loop; a group with a NaN
 *     result, and the last elements, go the buffered way (see FA_HG below);
 *   - buffered (fa_fwd_buffered, fa_bwd_buffered): a block of at most
 *     FA_HALF_BLK elements widened into a stack buffer, run through the
 *     float32 block loop (loops/elementwise.h) and rounded back.  The buffers
 *     stay in L1: three of 4 KB for a backward.
 * No group or block is written before it has been read whole, so the output
 * may be an input itself (in place).
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * storage format after the float32 instantiation (FA_H(name) = name##_h for
 * float16, name##_b for bfloat16; FA_H_TO_F / FA_H_FROM_F the scalar
 * conversions of src/fa_half.h; FA_H_F16C: use the F16C block
 * conversions; FA_H_WIDEN_G / FA_H_NARROW_G the group conversions, where
 * the target has them: FA_HAVE_HALF_GROUPS; _GO the same in element order).
 * The results equal the float32 computation on the widened values rounded by
 * fastact/_arrays.py's _store, bit for bit (tests/test_half.py checks every
 * float16 and bfloat16 value). */

/* Elements per block: the float32 loop's per-call cost (kernel switch,
 * parameters) is spread over this many; 4 KB of float32 per buffer. */
#ifndef FA_HALF_BLK
#define FA_HALF_BLK 1024
#endif

/* f[0..n) = the float32 values of h[0..n), exactly (NaN bits kept) */
static void FA_H(fa_widen)(const uint16_t *h, float *f, fa_idx n)
{
#if FA_H_F16C
    if (!fa_f16c_widen(h, f, n))
        return;             /* no NaN: the instruction's bits are the scalar form's */
#endif
    FA_IVDEP for (fa_idx i = 0; i < n; i++) f[i] = FA_H_TO_F(h[i]);
}

/* h[0..n) = f[0..n) rounded to the storage format (fa_half.h's rules) */
static void FA_H(fa_narrow)(const float *f, uint16_t *h, fa_idx n)
{
#if FA_H_F16C
    if (!fa_f16c_narrow(f, h, n))
        return;
#elif FA_H_NARROW_BLK
    if (!fa_bf16_narrow(f, h, n))
        return;             /* no NaN: the rounding by bits is the scalar form's */
#endif
    FA_IVDEP for (fa_idx i = 0; i < n; i++) h[i] = FA_H_FROM_F(f[i]);
}

/* y[i] = f(x[i]) through a float32 buffer; -1 for an unknown kernel id
 * (nothing written) */
static int FA_H(fa_fwd_buffered)(int k, const uint16_t *x, uint16_t *y, fa_idx n, const double *p)
{
    FA_ALIGN64 float buf[FA_HALF_BLK];
    for (fa_idx b = 0; b < n; b += FA_HALF_BLK) {
        const fa_idx m = n - b < FA_HALF_BLK ? n - b : FA_HALF_BLK;
        FA_H(fa_widen)(x + b, buf, m);
        if (fa_fwd_block_f(k, buf, buf, m, p))
            return -1;
        FA_H(fa_narrow)(buf, y + b, m);
    }
    return 0;
}

/* out[i] = g[i] * f'(x[i]) (from_y = 0) or from the saved output s = y,
 * through float32 buffers */
static int FA_H(fa_bwd_buffered)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out,
                                 fa_idx n, const double *p)
{
    FA_ALIGN64 float bg[FA_HALF_BLK];
    FA_ALIGN64 float bs[FA_HALF_BLK];
    FA_ALIGN64 float bo[FA_HALF_BLK];
    for (fa_idx b = 0; b < n; b += FA_HALF_BLK) {
        const fa_idx m = n - b < FA_HALF_BLK ? n - b : FA_HALF_BLK;
        FA_H(fa_widen)(g + b, bg, m);
        FA_H(fa_widen)(s + b, bs, m);
        if (fa_bwd_block_f(k, from_y, bg, bs, bo, m, p))
            return -1;
        FA_H(fa_narrow)(bo, out + b, m);
    }
    return 0;
}

/* relu and relu(max=m) on the bits.  The float32 loop's result is x's
 * value, +0 or m, rounded back: x itself, +0, or M = m rounded to the format;
 * for a positive x it is M where x > M and x elsewhere, as no number of the
 * format lies strictly between m and M (max >= 0, so M is +0 to +inf).  As
 * int16, numbers of one sign order like their values (sign and magnitude),
 * -0 is the most negative and the NaNs lie beyond the infinities: x goes
 * to +0 on (-0, -inf] (not -0, not a NaN: `x < 0 ? 0 : x`), to M on
 * (M, +inf], and stays itself elsewhere (a NaN too: the widened NaN rounds
 * back to its own bits in both formats).  Nothing converts, so the loop
 * runs at the memory rate. */
static int FA_H(fa__relu_bits)(int k, const uint16_t *x, uint16_t *y, fa_idx n, const double *p)
{
    const int16_t inf = (int16_t)FA_H_INF, neginf = (int16_t)(0x8000u | FA_H_INF);
    int16_t m = inf;                    /* no max: the clamp never applies */
    if (k == FA_K_relu0)
        m = (int16_t)FA_H_FROM_F((float)p[0]);
    else if (k != FA_K_relu_nomax)
        return 0;
    if (m < 0)                          /* max = -0: its sign is not ordered here */
        return 0;
    FA_IVDEP for (fa_idx i = 0; i < n; i++) {
        const int16_t v = (int16_t)x[i];
        const int16_t c = v > m && v <= inf ? m : v;
        y[i] = (uint16_t)(v > INT16_MIN && v <= neginf ? 0 : c);
    }
    return 1;
}

#if FA_HAVE_HALF_GROUPS
/* The contiguous loops fuse the conversions into the kernel's loop, in
 * groups of FA_HG elements held in registers (two AVX-512 vectors; fewer
 * lanes would let GCC unroll the scalar loop whole before it vectorizes it,
 * and for most kernels it then does not): widened, run through the kernel's
 * full float32 formula and rounded back, with no pass over a buffer (the
 * buffered form spends two extra loads and stores per vector, which a cheap
 * kernel does not hide).  On numbers the formula gives the buffered loop's
 * float32 bits, and the group conversions (F16C's instructions, bfloat16's
 * bit operations) the exact ones; a NaN input gives a NaN result (the
 * forward NaN select), or a number that does not depend on its bits (a
 * backward's flat piece).  So a group with a NaN among its results stores
 * nothing and goes through the buffered form, which applies the NaN rules,
 * together with the rest of its block of FA_HALF_BLK elements (so that
 * NaN-dense data do not pay for both paths group after group), as does the
 * tail of fewer than FA_HG elements.  A group is read whole before it is
 * written (in place is safe).  Targets without AVX2 (SSE2) run the buffered
 * form: with the scalar conversions inside the kernel's loop it measured
 * slower for most kernels there. */
#ifndef FA_HG
#define FA_HG 32
#endif
#if FA_HG % 32 != 0 || FA_HG > FA_HALF_BLK
#error "FA_HG: a multiple of 32 (the bfloat16 group forms), at most FA_HALF_BLK"
#endif

FA_INLINE void FA_H(fa__gwiden)(const uint16_t *h, float *f) { FA_H_WIDEN_G(h, f, FA_HG); }

/* h = f rounded, unless one of f is a NaN: then nothing is stored and the
 * result is nonzero */
FA_INLINE int FA_H(fa__gnarrow)(const float *f, uint16_t *h) { return FA_H_NARROW_G(f, h, FA_HG); }

#ifndef FA__HGROUP_WITHIN
#define FA__HGROUP_WITHIN
/* whether every v[l] of a group lies in [lo, hi] (loops/common.h's test on
 * the bits: fa__range_ok_f) */
FA_INLINE int fa__hgroup_within(const float *v, float lo, float hi)
{
    int32_t mn = INT32_MAX, mx = 0;
    FA_IVDEP for (int l = 0; l < FA_HG; l++) {
        const int32_t b = (int32_t)fa_f2u(v[l]), a = b & 0x7fffffff;
        mn = b < mn ? b : mn;
        mx = a > mx ? a : mx;
    }
    return fa__range_ok_f(mn, mx, lo, hi);
}
#endif

/* y[i] = f(x[i]); -1 for an unknown kernel id (nothing written) */
static int FA_H(fa_fwd_block)(int k, const uint16_t *x, uint16_t *y, fa_idx n, const double *p)
{
    const float p0 = (float)p[0], p1 = (float)p[1], p2 = (float)p[2], p3 = (float)p[3];
    const fa_idx ng = n - n % FA_HG;    /* whole groups; the rest through the buffered form */
    fa_idx i = 0;
    if (k == FA_K_linear && x == y)     /* widening is exact: identity in place */
        return 0;
    if (FA_H(fa__relu_bits)(k, x, y, n, p))
        return 0;
    /* one case: kernel `name`, SETUP, then each group's results by GROUP
     * (v widened) */
#define FA__HFWD(name, SETUP, GROUP) case FA_K_##name: \
        SETUP; \
        for (; i < ng; i += FA_HALF_BLK) { \
            const fa_idx e = ng - i < FA_HALF_BLK ? ng : i + FA_HALF_BLK; \
            fa_idx j = i; \
            for (; j < e; j += FA_HG) { \
                FA_ALIGN64 float v[FA_HG]; \
                FA_H(fa__gwiden)(x + j, v); \
                GROUP(name) \
                if (FA_H(fa__gnarrow)(v, y + j)) \
                    break; \
            } \
            if (j < e && FA_H(fa_fwd_buffered)(k, x + j, y + j, e - j, p)) \
                return -1; \
        } \
        break;
#define FA__HFULL(name) \
        FA_IVDEP for (int l = 0; l < FA_HG; l++) { \
            const float r = fa_##name##_fwd_f(v[l], p0, p1, p2, p3); \
            v[l] = fa__nan_exact[FA_K_##name] ? r : fa_nan_in_f(v[l], r); \
        }
    /* a common-range kernel: its common form on a group whose inputs all lie
     * in the range (as loops/elementwise.h's sub-blocks; a NaN fails the
     * test), the full form on the others: the same bits either way */
#define FA__HRANGED(name) \
        if (rg && fa__hgroup_within(v, lo, hi)) { \
            FA_IVDEP for (int l = 0; l < FA_HG; l++) v[l] = fa_##name##_fwd_c_f(v[l], p0, p1, p2, p3); \
        } else FA__HFULL(name)
    float lo = 0, hi = 0;
    int rg = 0;
    switch (k) {
#define FA_CASE(name) FA__HFWD(name, (void)0, FA__HFULL)
    FA_PLAIN_FWD_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) FA__HFWD(name, rg = fa_##name##_fwd_range_f(p0, p1, p2, p3, &lo, &hi), FA__HRANGED)
    FA_RANGED_FWD_CASES(FA_CASE)
#undef FA_CASE
#undef FA__HRANGED
#undef FA__HFULL
#undef FA__HFWD
    default: return -1;
    }
    return ng < n ? FA_H(fa_fwd_buffered)(k, x + ng, y + ng, n - ng, p) : 0;
}

/* out[i] = g[i] * f'(x[i]) (from_y = 0) or from the saved output s = y */
static int FA_H(fa_bwd_block)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out,
                              fa_idx n, const double *p)
{
    const float p0 = (float)p[0], p1 = (float)p[1], p2 = (float)p[2], p3 = (float)p[3];
    const fa_idx ng = n - n % FA_HG;
    fa_idx i = 0;
    if (k == FA_K_linear) {             /* linear' = 1 and widening is exact: out = g */
        if (out != g)
            memmove(out, g, (size_t)n * sizeof *g);
        return 0;
    }
    /* one case: kernel `name`'s backward FORM (bwd or bwdy), SETUP, then
     * each group's results by GROUP (vg, vs widened) */
#define FA__HBWD(name, FORM, SETUP, GROUP) case FA_K_##name: \
        SETUP; \
        for (; i < ng; i += FA_HALF_BLK) { \
            const fa_idx e = ng - i < FA_HALF_BLK ? ng : i + FA_HALF_BLK; \
            fa_idx j = i; \
            for (; j < e; j += FA_HG) { \
                FA_ALIGN64 float vg[FA_HG]; \
                FA_ALIGN64 float vs[FA_HG]; \
                FA_H(fa__gwiden)(g + j, vg); \
                FA_H(fa__gwiden)(s + j, vs); \
                GROUP(name, FORM) \
                if (FA_H(fa__gnarrow)(vg, out + j)) \
                    break; \
            } \
            if (j < e && FA_H(fa_bwd_buffered)(k, from_y, g + j, s + j, out + j, e - j, p)) \
                return -1; \
        } \
        break;
#define FA__HBFULL(name, FORM) \
        FA_IVDEP for (int l = 0; l < FA_HG; l++) \
            vg[l] = fa_##name##_##FORM##_f(vg[l], vs[l], p0, p1, p2, p3);
    /* a common-range kernel: the common form on a group whose saved inputs
     * (x or y) all lie in the range, as the forward above */
#define FA__HBRANGED(name, FORM) \
        if (rg && fa__hgroup_within(vs, lo, hi)) { \
            FA_IVDEP for (int l = 0; l < FA_HG; l++) \
                vg[l] = fa_##name##_##FORM##_c_f(vg[l], vs[l], p0, p1, p2, p3); \
        } else FA__HBFULL(name, FORM)
    float lo = 0, hi = 0;
    int rg = 0;
    if (!from_y) {
        switch (k) {
#define FA_CASE(name) FA__HBWD(name, bwd, (void)0, FA__HBFULL)
        FA_NANX_KERNELS(FA_CASE)
        FA_CHEAP_CALC_KERNELS(FA_CASE)
        FA_TRANSC_PLAIN_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) FA__HBWD(name, bwd, rg = fa_##name##_bwd_range_f(p0, p1, p2, p3, &lo, &hi), FA__HBRANGED)
        FA_RANGED_KERNELS(FA_CASE)
#undef FA_CASE
        default: return -1;
        }
    } else {
        switch (k) {
#define FA_CASE(name) FA__HBWD(name, bwdy, (void)0, FA__HBFULL)
        FA_BWDY_CALC_KERNELS(FA_CASE)
        FA_NANX_BWDY_KERNELS(FA_CASE)
#undef FA_CASE
#define FA_CASE(name) FA__HBWD(name, bwdy, rg = fa_##name##_bwdy_range_f(p0, p1, p2, p3, &lo, &hi), FA__HBRANGED)
        FA_RANGED_KERNELS(FA_CASE)
#undef FA_CASE
        default: return -1;
        }
    }
#undef FA__HBRANGED
#undef FA__HBFULL
#undef FA__HBWD
    return ng < n ? FA_H(fa_bwd_buffered)(k, from_y, g + ng, s + ng, out + ng, n - ng, p) : 0;
}

#else
static int FA_H(fa_fwd_block)(int k, const uint16_t *x, uint16_t *y, fa_idx n, const double *p)
{
    if (k == FA_K_linear && x == y)     /* widening is exact: identity in place */
        return 0;
    if (FA_H(fa__relu_bits)(k, x, y, n, p))
        return 0;
    return FA_H(fa_fwd_buffered)(k, x, y, n, p);
}
static int FA_H(fa_bwd_block)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out,
                              fa_idx n, const double *p)
{
    if (k == FA_K_linear) {             /* linear' = 1 and widening is exact: out = g */
        if (out != g)
            memmove(out, g, (size_t)n * sizeof *g);
        return 0;
    }
    return FA_H(fa_bwd_buffered)(k, from_y, g, s, out, n, p);
}
#endif

/* Strided 1-D versions (byte strides, any sign): gather a block, run the
 * contiguous loop on it in place, scatter it (as loops/elementwise.h). */
static int FA_H(fa_fwd_strided)(int k, const char *x, fa_idx sx, char *y, fa_idx sy, fa_idx n,
                                const double *p)
{
    uint16_t buf[FA_HALF_BLK];
    for (fa_idx s = 0; s < n; s += FA_HALF_BLK) {
        const fa_idx m = n - s < FA_HALF_BLK ? n - s : FA_HALF_BLK;
        for (fa_idx i = 0; i < m; i++) memcpy(buf + i, x + (s + i) * sx, sizeof(uint16_t));
        if (FA_H(fa_fwd_block)(k, buf, buf, m, p))
            return -1;
        for (fa_idx i = 0; i < m; i++) memcpy(y + (s + i) * sy, buf + i, sizeof(uint16_t));
    }
    return 0;
}

static int FA_H(fa_bwd_strided)(int k, int from_y, const char *g, fa_idx sg, const char *x, fa_idx sx,
                                char *out, fa_idx so, fa_idx n, const double *p)
{
    uint16_t bg[FA_HALF_BLK], bx[FA_HALF_BLK];
    for (fa_idx s = 0; s < n; s += FA_HALF_BLK) {
        const fa_idx m = n - s < FA_HALF_BLK ? n - s : FA_HALF_BLK;
        for (fa_idx i = 0; i < m; i++) {
            memcpy(bg + i, g + (s + i) * sg, sizeof(uint16_t));
            memcpy(bx + i, x + (s + i) * sx, sizeof(uint16_t));
        }
        if (FA_H(fa_bwd_block)(k, from_y, bg, bx, bg, m, p))
            return -1;
        for (fa_idx i = 0; i < m; i++) memcpy(out + (s + i) * so, bg + i, sizeof(uint16_t));
    }
    return 0;
}

/* prelu with the channel axis last (loops/prelu.h's fa_prelu_cols) on rows
 * of ncol half elements, float32 slopes alpha[j].  On x[0..n) of one row,
 * block by block through an L1 buffer: the exact widening (NaN bits kept),
 * the float32 loop, the rounding with the NaN rules. */
static void FA_H(fa__prelu_buffered)(const uint16_t *x, uint16_t *y, fa_idx n, const float *alpha)
{
    FA_ALIGN64 float buf[FA_HALF_BLK];
    for (fa_idx b = 0; b < n; b += FA_HALF_BLK) {
        const fa_idx m = n - b < FA_HALF_BLK ? n - b : FA_HALF_BLK;
        FA_H(fa_widen)(x + b, buf, m);
        fa_prelu_cols_f(buf, buf, 1, m, alpha + b);
        FA_H(fa_narrow)(buf, y + b, m);
    }
}

/* Each group of FA_HG widened in registers in element order (FA_H_WIDEN_GO:
 * its lanes meet the slopes'), through fa__prelu_fwd (fa__prelu_fwd0 when a
 * slope is 0) and rounded back, as the element-wise groups: a group with a
 * NaN result stores nothing and goes through the buffer (the group
 * widening quiets a signalling NaN), as do the rest of a row and every row
 * on targets without the group forms.  The float32 loop's formulas, so the
 * staged computation's bits; a group is read whole before it is written (in
 * place is safe). */
static void FA_H(fa_prelu_cols)(const uint16_t *x, uint16_t *y, fa_idx nrow, fa_idx ncol, const float *alpha)
{
#if FA_HAVE_HALF_GROUPS
    const int nonzero = fa__prelu_nonzero_f(alpha, ncol);
#endif
    for (fa_idx r = 0; r < nrow; r++) {
        const uint16_t *xr = x + r * ncol;
        uint16_t *yr = y + r * ncol;
        fa_idx j = 0;
#if FA_HAVE_HALF_GROUPS
        for (; j + FA_HG <= ncol; j += FA_HG) {
            FA_ALIGN64 float v[FA_HG];
            FA_H_WIDEN_GO(xr + j, v, FA_HG);
            if (nonzero) {
                FA_IVDEP for (int l = 0; l < FA_HG; l++) v[l] = fa__prelu_fwd_f(v[l], alpha[j + l]);
            } else {
                FA_IVDEP for (int l = 0; l < FA_HG; l++) v[l] = fa__prelu_fwd0_f(v[l], alpha[j + l]);
            }
            if (FA_H_NARROW_GO(v, yr + j, FA_HG))
                FA_H(fa__prelu_buffered)(xr + j, yr + j, FA_HG, alpha + j);
        }
#endif
        if (j < ncol)
            FA_H(fa__prelu_buffered)(xr + j, yr + j, ncol - j, alpha + j);
    }
}
