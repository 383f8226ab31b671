/* loops/half.h: the element-wise kernels on float16 and bfloat16 storage
 * (uint16_t bits), computed in float32 block by block: a block of at most
 * FA_HALF_BLK elements is widened into a stack buffer, run through the
 * float32 block loop (loops/elementwise.h) and rounded back into the output.
 * No block is written before it has been read whole, so the output may be
 * an input itself (in place).  The buffers stay in L1: three of 4 KB for a
 * backward.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * storage format after the float32 instantiation (FA_H(name) = name##_h for
 * float16, name##_b for bfloat16; FA_H_TO_F / FA_H_FROM_F the scalar
 * conversions of src/fa_half.h; FA_H_F16C: use the F16C block conversions).
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
#endif
    FA_IVDEP for (fa_idx i = 0; i < n; i++) h[i] = FA_H_FROM_F(f[i]);
}

/* y[i] = f(x[i]); -1 for an unknown kernel id (nothing written) */
static int FA_H(fa_fwd_block)(int k, const uint16_t *x, uint16_t *y, fa_idx n, const double *p)
{
    FA_ALIGN64 float buf[FA_HALF_BLK];
    if (k == FA_K_linear && x == y)     /* widening is exact: identity in place */
        return 0;
    for (fa_idx b = 0; b < n; b += FA_HALF_BLK) {
        const fa_idx m = n - b < FA_HALF_BLK ? n - b : FA_HALF_BLK;
        FA_H(fa_widen)(x + b, buf, m);
        if (fa_fwd_block_f(k, buf, buf, m, p))
            return -1;
        FA_H(fa_narrow)(buf, y + b, m);
    }
    return 0;
}

/* out[i] = g[i] * f'(x[i]) (from_y = 0) or from the saved output s = y */
static int FA_H(fa_bwd_block)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out,
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
