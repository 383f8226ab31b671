/* loops/gated.h: the gated activations (glu, swiglu, geglu), forward and
 * backward.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* Gated activations on two halves a, b of n elements each:
 * glu a*sigmoid(b), swiglu silu(a)*b, geglu gelu(a)*b, and the clamped,
 * offset swiglu (GPT-OSS) with p = (alpha, limit, bias):
 *   ac = min(a, limit), bc = clip(b, -limit, limit),
 *   out = ac*sigmoid(alpha*ac) * (bc + bias).
 * The gate ids come from the catalogue (FA_GATES in src/fa_kernels.h);
 * Python finds them by name (_front.gate_ids()).
 * a[i*s], b[i*s] (and da, db) are read and written with the element stride
 * s: 1 for halves, 2 for interleaved pairs (a = x[0::2], b = x[1::2]); the
 * stride-2 loops exist for the swiglu gates only (the one interleaved gate),
 * a constant stride the compiler vectorizes with shuffles.  Returns -1 for
 * an unknown (k, s). */
/* The clamped swiglu of one pair.  limit = inf clamps nothing; the selects
 * keep a NaN a or b (NaN > limit is false), so the NaN reaches the result.
 * bias = -0.0 stands for no bias: b + -0.0 is b exactly, -0.0 included. */
FA_INLINE T FA_F(fa__swiglu_cl_fwd)(T a, T b, T alpha, T lim, T bias)
{
    T ac = a > lim ? lim : a;
    T bc = b > lim ? lim : (b < -lim ? -lim : b);
    return FA_F(fa_nan_of2)(FA_F(fa_swish_fwd)(ac, alpha, 0, 0, 0) * (bc + bias), a, b);
}
/* Its derivatives; a clamp passes the gradient at the limit itself and
 * zeroes it strictly outside (torch.clamp's backward: +0.0 there). */
FA_INLINE void FA_F(fa__swiglu_cl_bwd)(T g, T a, T b, T alpha, T lim, T bias, T *da, T *db)
{
    T ac = a > lim ? lim : a;
    T bc = b > lim ? lim : (b < -lim ? -lim : b);
    T nan = FA_F(fa_nan_first3)(g, a, b);
    T va = FA_F(fa_swish_bwd)(g * (bc + bias), ac, alpha, 0, 0, 0);
    T vb = g * FA_F(fa_swish_fwd)(ac, alpha, 0, 0, 0);
    va = a > lim ? (T)0 : va;
    vb = (b > lim || b < -lim) ? (T)0 : vb;
    *da = va != va ? nan : va;
    *db = vb != vb ? nan : vb;
}

/* out[i] = EXPR for i < n, the NaN rule (fa_nan_of2 with operands A, B)
 * applied as fa_bwd_block applies it: the vectorized loop stores the bare
 * product and notes a NaN, and only a sub-block with one is fixed up.  out
 * never overlaps a or b (the callers refuse it), so the fix-up reads them as
 * they were.
 * pfrow: a and b are the halves of one short row, and the next row follows
 * (b == a + n): each 4 KB page then holds two streams that restart at every
 * row, which the hardware prefetcher does not follow, so each sub-block
 * prefetches the same span of the next row.  Sub-blocks of FA_GATED_PF_SUB
 * elements spread those prefetches (a longer burst fills the line-fill
 * buffers, loops/common.h). */
#define FA_GATED_PF_SUB 64
#define FA_GATED_PF_ROW 65536   /* bytes of a row (both halves) up to which pfrow holds */
#define FA__GATED_FWD(EXPR, A, B) do { \
        const fa_idx sub_ = pfrow ? FA_GATED_PF_SUB : FA_NAN_SUB; \
        fa_idx done_ = 0; \
        for (fa_idx c = 0; c < n; c += sub_) { \
            const fa_idx e_ = n - c < sub_ ? n : c + sub_; \
            uint32_t bad = 0; \
            if (pfrow) FA_F(fa__prefetch_upto)(a + 2 * n, b + 2 * n, &done_, e_, n, 0); \
            FA_IVDEP for (fa_idx i = c; i < e_; i++) { \
                const T r_ = (EXPR); \
                out[i] = r_; \
                FA__NAN_NOTE(bad, r_); \
            } \
            if (FA__NAN_SEEN(bad, out + c, e_ - c)) \
                for (fa_idx i = c; i < e_; i++) out[i] = FA_F(fa_nan_of2)(out[i], A, B); \
        } \
    } while (0)

/* The backward's loop (BODY per i < n) in the forward's sub-blocks, when
 * pfrow prefetching the next row of g (g + n), a and b, and of da and db,
 * whose halves share each page the same way. */
#define FA__GATED_BWD(...) do { \
        const fa_idx sub_ = pfrow ? FA_GATED_PF_SUB : n; \
        fa_idx done_ = 0, gdone_ = 0, wdone_ = 0; \
        for (fa_idx c = 0; c < n; c += sub_) { \
            const fa_idx e_ = n - c < sub_ ? n : c + sub_; \
            if (pfrow) { \
                FA_F(fa__prefetch_upto)(a + 2 * n, b + 2 * n, &done_, e_, n, 0); \
                FA_F(fa__prefetch_upto)(g + n, NULL, &gdone_, e_, n, 0); \
                FA_F(fa__prefetch_upto)(da + 2 * n, db + 2 * n, &wdone_, e_, n, 1); \
            } \
            FA_IVDEP for (fa_idx i = c; i < e_; i++) __VA_ARGS__ \
        } \
    } while (0)

static int FA_F(fa_gated_fwd)(int k, const T *a, const T *b, T *out, fa_idx n, fa_idx s, const double *p)
{
    const T z = (T)0;
    const T alpha = (T)p[0], lim = (T)p[1], bias = (T)p[2];
    if (s == 2) {
        const int pfrow = 0;
        switch (k) {
        case FA_G_swiglu:
            FA__GATED_FWD(FA_F(fa_silu_fwd)(a[2 * i], z, z, z, z) * b[2 * i], a[2 * i], b[2 * i]);
            return 0;
        case FA_G_swiglu_clamp:
            FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa__swiglu_cl_fwd)(a[2 * i], b[2 * i], alpha, lim, bias);
            return 0;
        default: return -1;
        }
    }
    if (s != 1)
        return -1;
    const int pfrow = b == a + n && 2 * n * (fa_idx)sizeof(T) <= FA_GATED_PF_ROW;
    switch (k) {
    case FA_G_glu:
        FA__GATED_FWD(a[i] * FA_F(fa_sigmoid_fwd)(b[i], z, z, z, z), a[i], b[i]);
        return 0;
    case FA_G_swiglu:
        FA__GATED_FWD(FA_F(fa_silu_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_geglu_erf:
        FA__GATED_FWD(FA_F(fa_gelu_erf_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_geglu_tanh:
        FA__GATED_FWD(FA_F(fa_gelu_tanh_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_swiglu_clamp:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa__swiglu_cl_fwd)(a[i], b[i], alpha, lim, bias);
        return 0;
    default: return -1;
    }
}

/* da = dL/da, db = dL/db from the incoming gradient g of the gated output. */
static int FA_F(fa_gated_bwd)(int k, const T *g, const T *a, const T *b, T *da, T *db, fa_idx n, fa_idx s,
                              const double *p)
{
    const T z = (T)0;
    const T alpha = (T)p[0], lim = (T)p[1], bias = (T)p[2];
    if (s == 2) {
        switch (k) {
        case FA_G_swiglu:
            FA_IVDEP for (fa_idx i = 0; i < n; i++) {
                T gi = g[i], ai = a[2 * i], bi = b[2 * i];
                T nan = FA_F(fa_nan_first3)(gi, ai, bi);
                { T v = FA_F(fa_silu_bwd)(gi * bi, ai, z, z, z, z); da[2 * i] = v != v ? nan : v; }
                { T v = gi * FA_F(fa_silu_fwd)(ai, z, z, z, z); db[2 * i] = v != v ? nan : v; }
            }
            return 0;
        case FA_G_swiglu_clamp:
            FA_IVDEP for (fa_idx i = 0; i < n; i++)
                FA_F(fa__swiglu_cl_bwd)(g[i], a[2 * i], b[2 * i], alpha, lim, bias, &da[2 * i], &db[2 * i]);
            return 0;
        default: return -1;
        }
    }
    if (s != 1)
        return -1;
    const int pfrow = b == a + n && 2 * n * (fa_idx)sizeof(T) <= FA_GATED_PF_ROW;
    switch (k) {
    case FA_G_glu:
        FA__GATED_BWD({
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = gi * FA_F(fa_sigmoid_fwd)(bi, z, z, z, z); da[i] = v != v ? nan : v; }
            /* g a s'(b), s'(b) <= 1/4 taken into the larger of g and a first:
             * g*a first overflows for a huge pair whose result is finite, a
             * fixed (a s'(b)) g underflows for a tiny a, a far b and a huge g */
            const int ga = FA_F(fa_abs)(gi) >= FA_F(fa_abs)(ai);
            const T big = ga ? gi : ai, small = ga ? ai : gi;
            { T v = FA_F(fa_sigmoid_bwd)(big, bi, z, z, z, z) * small; db[i] = v != v ? nan : v; }
        });
        return 0;
    case FA_G_swiglu:
        FA__GATED_BWD({
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_silu_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_silu_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        });
        return 0;
    case FA_G_geglu_erf:
        FA__GATED_BWD({
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_erf_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_erf_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        });
        return 0;
    case FA_G_geglu_tanh:
        FA__GATED_BWD({
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_tanh_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_tanh_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        });
        return 0;
    case FA_G_swiglu_clamp:
        FA_IVDEP for (fa_idx i = 0; i < n; i++)
            FA_F(fa__swiglu_cl_bwd)(g[i], a[i], b[i], alpha, lim, bias, &da[i], &db[i]);
        return 0;
    default: return -1;
    }
}
