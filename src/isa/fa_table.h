/* fa_table.h: the loop table, the one interface between the front module
 * (src/front/_front.pyx, compiled once) and the loops (compiled once per CPU
 * target by src/isa/fa_table_impl.c).
 *
 * A target's extension module (fastact._loops_<target>) exports one
 * fa_loop_table in a PyCapsule named FA_TABLE_CAPSULE; the front calls every
 * loop through the table it was handed last.  The loops are plain C and
 * never touch Python: the front calls them with the GIL released.  Kernel ids
 * index the same catalogue (src/fa_kernels.h) in every target; the front
 * checks that (kernel_count, kernel_names) agree when it loads a table. */
#ifndef FA_TABLE_H
#define FA_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Raised whenever the struct below changes: a table of another layout is
 * refused at load time instead of being called through wrong offsets. */
#define FA_TABLE_ABI 11
#define FA_TABLE_CAPSULE "fastact.loop_table"

/* Constants the front's chunking shares with the loops (fa_table_impl.c
 * static-asserts that the values of src/loops/ equal these). */
#define FA_TABLE_SMC 64                     /* softmax rows per block, columns per strip */
/* sm_piece_reduce_f's ops and piece rule (src/loops/softmax.h FA_SMP_*) */
#define FA_TABLE_SMP_MAX 0
#define FA_TABLE_SMP_EXPSUM 1
#define FA_TABLE_SMP_LOGSUM 2
#define FA_TABLE_SMP_DOT 3
#define FA_TABLE_SMP_SUM 4
#define FA_TABLE_SMP_STEP 128
#define FA_TABLE_SMP_MIN 512                /* rows at least this long: the kernels' 64 partials */
#define FA_TABLE_SMP_STATE 64               /* doubles of a row's state between pieces */
#define FA_TABLE_SMCP_STATE 4160            /* doubles of a column strip's state between pieces */

typedef ptrdiff_t fa_tidx;   /* = fa_idx of fa_defs.h */

typedef struct fa_loop_table {
    int abi;                        /* FA_TABLE_ABI */
    const char *target;             /* "baseline", "x86_64_v3", ... */
    int kernel_count;               /* FA_K_COUNT */
    const char *const *kernel_names;    /* by id, kernel_count entries */
    int gate_count;                 /* FA_G_COUNT */
    const char *const *gate_names;      /* gate loops by id, gate_count entries */

    /* element-wise, contiguous blocks: 0 on success, nonzero for an unknown k */
    int (*fwd_block_f)(int k, const float *x, float *y, fa_tidx n, const double *p);
    int (*fwd_block_d)(int k, const double *x, double *y, fa_tidx n, const double *p);
    int (*bwd_block_f)(int k, int from_y, const float *g, const float *s, float *out, fa_tidx n,
                       const double *p);
    int (*bwd_block_d)(int k, int from_y, const double *g, const double *s, double *out, fa_tidx n,
                       const double *p);
    /* element-wise, one strided axis (byte strides) */
    int (*fwd_strided_f)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                         const double *p);
    int (*fwd_strided_d)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                         const double *p);
    int (*bwd_strided_f)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                         char *out, fa_tidx so, fa_tidx n, const double *p);
    int (*bwd_strided_d)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                         char *out, fa_tidx so, fa_tidx n, const double *p);
    /* softmax over rows (last axis) and over column strips (a middle axis) */
    void (*softmax_rows_f)(const float *x, float *y, fa_tidx nr, fa_tidx L, int log_form, fa_tidx pf);
    void (*softmax_rows_d)(const double *x, double *y, fa_tidx nr, fa_tidx L, int log_form, fa_tidx pf);
    void (*softmax_bwd_row_f)(const float *g, const float *y, float *out, fa_tidx L, int log_form, fa_tidx pf);
    void (*softmax_bwd_row_d)(const double *g, const double *y, double *out, fa_tidx L, int log_form,
                              fa_tidx pf);
    void (*softmax_cols_f)(const float *x, float *y, fa_tidx L, fa_tidx inner, fa_tidx w, int log_form);
    void (*softmax_cols_d)(const double *x, double *y, fa_tidx L, fa_tidx inner, fa_tidx w, int log_form);
    void (*softmax_bwd_cols_f)(const float *g, const float *y, float *out, fa_tidx L, fa_tidx inner,
                               fa_tidx w, int log_form);
    void (*softmax_bwd_cols_d)(const double *g, const double *y, double *out, fa_tidx L, fa_tidx inner,
                               fa_tidx w, int log_form);
    /* a float row softmax in pieces (float16 / bfloat16 rows longer than a
     * staging block): op's reduction over one piece, resumed through st
     * (FA_TABLE_SMP_STATE doubles); every piece's outputs; the backward's */
    double (*sm_piece_reduce_f)(int op, const float *a, const float *b, float *tmp, fa_tidx n, float m,
                                double *st, int first, int last);
    int (*sm_piece_out_f)(const float *x, float *y, fa_tidx n, float m, float v, int log_form);
    void (*sm_piece_bwd_out_f)(const float *g, const float *y, float *out, fa_tidx n, float d, int log_form);
    /* a float column strip in pieces of rows (float16 / bfloat16 strips
     * taller than a staging block), the same steps: op's reduction over the
     * rows [l0, l0 + r) of L, resumed through st (FA_TABLE_SMCP_STATE
     * doubles), m the column maxes, v the columns' values at the last
     * piece; every piece's outputs; the backward's */
    void (*sm_cols_piece_reduce_f)(int op, float *a, const float *b, fa_tidx r, fa_tidx w, fa_tidx l0, fa_tidx L,
                                   float *m, float *v, double *st);
    void (*sm_cols_piece_out_f)(const float *x, float *y, fa_tidx r, fa_tidx w, const float *m, const float *v,
                                int log_form);
    void (*sm_cols_piece_bwd_out_f)(const float *g, const float *y, float *out, fa_tidx r, fa_tidx w,
                                    const float *d, int log_form);
    /* the masked / scaled softmax's prologue: y[i] = keep ? s*x[i] : fill */
    void (*softmax_prep_f)(const float *x, float *y, const unsigned char *m, fa_tidx ms, fa_tidx n, float s,
                           float fill);
    void (*softmax_prep_d)(const double *x, double *y, const unsigned char *m, fa_tidx ms, fa_tidx n, double s,
                           double fill);
    /* prelu with a per-channel alpha: channels last (cols) or one channel per row */
    void (*prelu_cols_f)(const float *x, float *y, fa_tidx nrow, fa_tidx ncol, const float *alpha);
    void (*prelu_cols_d)(const double *x, double *y, fa_tidx nrow, fa_tidx ncol, const double *alpha);
    void (*prelu_cols_bwd_f)(const float *g, const float *x, float *out, fa_tidx nrow, fa_tidx ncol,
                             const float *alpha, double *gsum);
    void (*prelu_cols_bwd_d)(const double *g, const double *x, double *out, fa_tidx nrow, fa_tidx ncol,
                             const double *alpha, double *gsum);
    void (*prelu_row_f)(const float *x, float *y, fa_tidx n, float a);
    void (*prelu_row_d)(const double *x, double *y, fa_tidx n, double a);
    double (*prelu_row_bwd_f)(const float *g, const float *x, float *out, fa_tidx n, float a);
    double (*prelu_row_bwd_d)(const double *g, const double *x, double *out, fa_tidx n, double a);
    /* fused bias (on the columns of (nrow, ncol) rows) + activation */
    int (*bias_fwd_rows_f)(int k, const float *x, const float *bias, float *y, fa_tidx nrow,
                           fa_tidx ncol, const double *p);
    int (*bias_fwd_rows_d)(int k, const double *x, const double *bias, double *y, fa_tidx nrow,
                           fa_tidx ncol, const double *p);
    int (*bias_bwd_rows_f)(int k, int from_y, const float *g, const float *s, const float *bias,
                           float *out, fa_tidx nrow, fa_tidx ncol, const double *p);
    int (*bias_bwd_rows_d)(int k, int from_y, const double *g, const double *s, const double *bias,
                           double *out, fa_tidx nrow, fa_tidx ncol, const double *p);
    /* acc[j] += x[r, j] over rows (the bias gradient's float64 sums) */
    void (*colsum_f)(const float *x, double *acc, fa_tidx nrow, fa_tidx ncol);
    void (*colsum_d)(const double *x, double *acc, fa_tidx nrow, fa_tidx ncol);
    /* gated activations: out = gate(a, b) and its backward into (da, db); a, b,
     * da, db with element stride s (1, or 2 for interleaved pairs), p the
     * gate's parameters (clamped swiglu: alpha, limit, bias) */
    int (*gated_fwd_f)(int k, const float *a, const float *b, float *out, fa_tidx n, fa_tidx s,
                       const double *p);
    int (*gated_fwd_d)(int k, const double *a, const double *b, double *out, fa_tidx n, fa_tidx s,
                       const double *p);
    int (*gated_bwd_f)(int k, const float *g, const float *a, const float *b, float *da, float *db,
                       fa_tidx n, fa_tidx s, const double *p);
    int (*gated_bwd_d)(int k, const double *g, const double *a, const double *b, double *da,
                       double *db, fa_tidx n, fa_tidx s, const double *p);
    /* sparsemax over nr contiguous rows of length L; backward from y */
    void (*sparsemax_rows_f)(const float *x, float *y, fa_tidx nr, fa_tidx L);
    void (*sparsemax_rows_d)(const double *x, double *y, fa_tidx nr, fa_tidx L);
    void (*sparsemax_bwd_rows_f)(const float *g, const float *y, float *out, fa_tidx nr, fa_tidx L);
    void (*sparsemax_bwd_rows_d)(const double *g, const double *y, double *out, fa_tidx nr, fa_tidx L);
    /* element-wise on float16 (_h) and bfloat16 (_b) storage, as uint16_t
     * bits: computed in float32 blocks that stay in L1 (src/loops/half.h),
     * rounded as fastact/_arrays.py's staging rounds; the same forms and
     * return values as the float32 loops above */
    int (*fwd_block_h)(int k, const uint16_t *x, uint16_t *y, fa_tidx n, const double *p);
    int (*fwd_block_b)(int k, const uint16_t *x, uint16_t *y, fa_tidx n, const double *p);
    int (*bwd_block_h)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out, fa_tidx n,
                       const double *p);
    int (*bwd_block_b)(int k, int from_y, const uint16_t *g, const uint16_t *s, uint16_t *out, fa_tidx n,
                       const double *p);
    int (*fwd_strided_h)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                         const double *p);
    int (*fwd_strided_b)(int k, const char *x, fa_tidx sx, char *y, fa_tidx sy, fa_tidx n,
                         const double *p);
    int (*bwd_strided_h)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                         char *out, fa_tidx so, fa_tidx n, const double *p);
    int (*bwd_strided_b)(int k, int from_y, const char *g, fa_tidx sg, const char *x, fa_tidx sx,
                         char *out, fa_tidx so, fa_tidx n, const double *p);
    /* the conversions alone (the tests compare them with NumPy's) */
    void (*widen_h)(const uint16_t *h, float *f, fa_tidx n);
    void (*widen_b)(const uint16_t *h, float *f, fa_tidx n);
    void (*narrow_h)(const float *f, uint16_t *h, fa_tidx n);
    void (*narrow_b)(const float *f, uint16_t *h, fa_tidx n);
    /* prelu_cols on float16 / bfloat16 rows, float32 slopes */
    void (*prelu_cols_h)(const uint16_t *x, uint16_t *y, fa_tidx nrow, fa_tidx ncol, const float *alpha);
    void (*prelu_cols_b)(const uint16_t *x, uint16_t *y, fa_tidx nrow, fa_tidx ncol, const float *alpha);
    /* element-wise forward, out of place, with non-temporal stores: for
     * results larger than the last-level cache (the front decides) */
    int (*fwd_block_nt_f)(int k, const float *x, float *y, fa_tidx n, const double *p);
    int (*fwd_block_nt_d)(int k, const double *x, double *y, fa_tidx n, const double *p);
    /* &fa_tune.sw_prefetch (fa_defs.h): the front's softmax row blocks
     * follow the loops' prefetch choice, which tests may switch */
    const int *sw_prefetch;
} fa_loop_table;

#endif /* FA_TABLE_H */
