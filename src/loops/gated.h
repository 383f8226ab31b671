/* loops/gated.h: the gated activations (glu, swiglu, geglu), forward and
 * backward.
 * TEMPLATE BODY, no include guard: src/fa_kernels.h includes it once per
 * dtype (T = float / double, FA_F(name) = name##_f / name##_d, FA_IS_DOUBLE)
 * after the formulas and loops/common.h, in the order common, elementwise,
 * prelu, softmax, bias, gated. */

/* Gated activations on two halves a, b of n elements each:
 * glu a*sigmoid(b), swiglu silu(a)*b, geglu gelu(a)*b. */
#ifndef FA_GATED_IDS
#define FA_GATED_IDS
enum { FA_G_GLU = 0, FA_G_SWIGLU = 1, FA_G_GEGLU_ERF = 2, FA_G_GEGLU_TANH = 3 };
#endif

static int FA_F(fa_gated_fwd)(int k, const T *a, const T *b, T *out, fa_idx n)
{
    const T z = (T)0;
    switch (k) {
    case FA_G_GLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(a[i] * FA_F(fa_sigmoid_fwd)(b[i], z, z, z, z), a[i], b[i]);
        return 0;
    case FA_G_SWIGLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_silu_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_GEGLU_ERF:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_gelu_erf_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    case FA_G_GEGLU_TANH:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) out[i] = FA_F(fa_nan_of2)(FA_F(fa_gelu_tanh_fwd)(a[i], z, z, z, z) * b[i], a[i], b[i]);
        return 0;
    default: return -1;
    }
}

/* da = dL/da, db = dL/db from the incoming gradient g of the gated output. */
static int FA_F(fa_gated_bwd)(int k, const T *g, const T *a, const T *b, T *da, T *db, fa_idx n)
{
    const T z = (T)0;
    switch (k) {
    case FA_G_GLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = gi * FA_F(fa_sigmoid_fwd)(bi, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = FA_F(fa_sigmoid_bwd)(gi * ai, bi, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_SWIGLU:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_silu_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_silu_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_GEGLU_ERF:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_erf_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_erf_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    case FA_G_GEGLU_TANH:
        FA_IVDEP for (fa_idx i = 0; i < n; i++) {
            T gi = g[i], ai = a[i], bi = b[i];
            T nan = FA_F(fa_nan_first3)(gi, ai, bi);
            { T v = FA_F(fa_gelu_tanh_bwd)(gi * bi, ai, z, z, z, z); da[i] = v != v ? nan : v; }
            { T v = gi * FA_F(fa_gelu_tanh_fwd)(ai, z, z, z, z); db[i] = v != v ? nan : v; }
        }
        return 0;
    default: return -1;
    }
}
