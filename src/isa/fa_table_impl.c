/* fa_table_impl.c: the loop table of one CPU target.  Compiled once per
 * target with that target's flags (fastact/_targets.py), as part of its
 * extension module (fa_loops_module.c); .ci/check_vectorized.py compiles this
 * file alone to check that the loops vectorize at the target's width.
 *
 * FA_TARGET (a -D define: baseline, x86_64_v3, ...) names the target; the
 * table is the one non-static object, fa_loop_table_<FA_TARGET>, so every
 * target's table has its own symbol. */
#include "fa_kernels.h"
#include "fa_table.h"

#ifndef FA_TARGET
#  error "define FA_TARGET (the build target's name)"
#endif
#define FA__STR2(x) #x
#define FA__STR(x) FA__STR2(x)
#define FA__CAT2(a, b) a##b
#define FA__CAT(a, b) FA__CAT2(a, b)
#define FA_TABLE_SYMBOL FA__CAT(fa_loop_table_, FA_TARGET)

/* The front chunks with these values; the loops must agree. */
typedef char fa__smc_agrees[(FA_SMC == FA_TABLE_SMC) ? 1 : -1];
typedef char fa__idx_agrees[(sizeof(fa_idx) == sizeof(fa_tidx)) ? 1 : -1];
typedef char fa__smp_agrees[(FA_SMP_MAX == FA_TABLE_SMP_MAX && FA_SMP_EXPSUM == FA_TABLE_SMP_EXPSUM &&
                             FA_SMP_LOGSUM == FA_TABLE_SMP_LOGSUM && FA_SMP_DOT == FA_TABLE_SMP_DOT &&
                             FA_SMP_SUM == FA_TABLE_SMP_SUM && FA_SMP_STEP == FA_TABLE_SMP_STEP &&
                             FA_TABLE_SMP_STATE == 64 && FA_NACC(FA_TABLE_SMP_MIN) == 64 &&
                             FA_NACC(FA_TABLE_SMP_MIN - 1) < 64) ? 1 : -1];
typedef char fa__smcp_agrees[(FA_SMCP_STATE == FA_TABLE_SMCP_STATE) ? 1 : -1];

const fa_loop_table FA_TABLE_SYMBOL = {
    FA_TABLE_ABI,
    FA__STR(FA_TARGET),
    FA_K_COUNT,
    fa_kernel_names,
    FA_G_COUNT,
    fa_gate_names,
    fa_fwd_block_f, fa_fwd_block_d,
    fa_bwd_block_f, fa_bwd_block_d,
    fa_fwd_strided_f, fa_fwd_strided_d,
    fa_bwd_strided_f, fa_bwd_strided_d,
    fa_softmax_rows_f, fa_softmax_rows_d,
    fa_softmax_bwd_row_f, fa_softmax_bwd_row_d,
    fa_softmax_cols_f, fa_softmax_cols_d,
    fa_softmax_bwd_cols_f, fa_softmax_bwd_cols_d,
    fa_sm_piece_reduce_f, fa_sm_piece_out_f, fa_sm_piece_bwd_out_f,
    fa_sm_cols_piece_reduce_f, fa_sm_cols_piece_out_f, fa_sm_cols_piece_bwd_out_f,
    fa_softmax_prep_f, fa_softmax_prep_d,
    fa_prelu_cols_f, fa_prelu_cols_d,
    fa_prelu_cols_bwd_f, fa_prelu_cols_bwd_d,
    fa_prelu_row_f, fa_prelu_row_d,
    fa_prelu_row_bwd_f, fa_prelu_row_bwd_d,
    fa_bias_fwd_rows_f, fa_bias_fwd_rows_d,
    fa_bias_bwd_rows_f, fa_bias_bwd_rows_d,
    fa_colsum_f, fa_colsum_d,
    fa_gated_fwd_f, fa_gated_fwd_d,
    fa_gated_bwd_f, fa_gated_bwd_d,
    fa_sparsemax_rows_f, fa_sparsemax_rows_d,
    fa_sparsemax_bwd_rows_f, fa_sparsemax_bwd_rows_d,
    fa_fwd_block_h, fa_fwd_block_b,
    fa_bwd_block_h, fa_bwd_block_b,
    fa_fwd_strided_h, fa_fwd_strided_b,
    fa_bwd_strided_h, fa_bwd_strided_b,
    fa_widen_h, fa_widen_b,
    fa_narrow_h, fa_narrow_b,
    fa_prelu_cols_h, fa_prelu_cols_b,
    fa_fwd_block_nt_f, fa_fwd_block_nt_d,
    &fa_tune.sw_prefetch,
};
