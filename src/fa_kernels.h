/* fa_kernels.h: the kernel catalogue (X-macro lists, ids) and the loops.
 *
 * Python looks kernels up by id (FA_K_<name>); fastact/_table.py maps every
 * public activation and its parameters onto one of these ids.  The formulas
 * (src/formulas/) and the loops (src/loops/, one header per family) are
 * template bodies instantiated here once per dtype, in this order: a loop
 * header uses the formulas and loops/common.h. */
#ifndef FA_KERNELS_H
#define FA_KERNELS_H

#include "fa_defs.h"
#include "fa_math.h"

/* Every element-wise kernel with fwd and bwd (from x): the cheap ones
 * (piecewise and rational: memory-bound on large arrays), then the
 * exp/tanh/erf/log-based ones. */
#define FA_KERNELS(X) FA_CHEAP_KERNELS(X) FA_TRANSC_KERNELS(X)
#define FA_CHEAP_KERNELS(X) FA_NANX_KERNELS(X) FA_CHEAP_PLAIN_KERNELS(X)
#define FA_CHEAP_PLAIN_KERNELS(X) X(linear) FA_CHEAP_CALC_KERNELS(X)
/* FA_CHEAP_PLAIN_KERNELS and FA_BWDY_PLAIN_KERNELS without linear, whose
 * backward is the grad itself: the half loops copy it (loops/half.h) */
#define FA_CHEAP_CALC_KERNELS(X) X(softsign) X(hard_swish) X(sparse_plus)
/* Kernels whose derivative can be computed from the forward output. */
#define FA_BWDY_KERNELS(X) FA_BWDY_PLAIN_KERNELS(X) FA_RANGED_KERNELS(X) FA_NANX_BWDY_KERNELS(X)

#define FA_TRANSC_KERNELS(X) FA_TRANSC_PLAIN_KERNELS(X) FA_RANGED_KERNELS(X)
#define FA_TRANSC_PLAIN_KERNELS(X) FA_TRANSC_FWD_PLAIN_KERNELS(X) FA_FWD_RANGED_KERNELS(X)
#define FA_TRANSC_FWD_PLAIN_KERNELS(X) \
    X(sigmoid) X(tanh) X(softplus) X(log_sigmoid) X(elu) X(selu) X(celu) X(celu_neg) \
    X(gelu_tanh) X(silu) X(swish) X(mish) X(tanhshrink)

/* Kernels with a common-range form.  Each of the three forms F = fwd, bwd,
 * bwdy comes as F_c (cheaper, for inputs in the common range), F_rare
 * (correct for every input) and F_range (the interval of inputs, x or y for
 * bwdy, where F_c applies for the call's parameters; returns 0 when there is
 * none).  FA__RANGED_FULL_FORMS(name) (formulas/ranged.h), after them, makes the full forms F
 * the rest of the package calls (bias_act, the ULP harness): F_c in range,
 * F_rare outside, selected per element, so a result never depends on which
 * form a loop ran.  The loops (loops/elementwise.h) keep F_c's results on a
 * sub-block whose inputs all lie in the range (out of place F_c runs first
 * and tests them itself), F_rare's on all of a call with no range, F's
 * elsewhere.  A ranged kernel has all three forms (it is one of
 * FA_BWDY_KERNELS) and is one of FA_TRANSC_KERNELS (prefetched). */
#define FA_RANGED_KERNELS(X) X(squareplus)
/* Kernels whose forward alone has a common-range form: fwd_c and fwd_range
 * as above, the full form fwd written by hand (the common form with the
 * clamps and the NaN rule it needs outside the range, so the common form's
 * bits inside it) and fwd_rare = fwd (FA__RANGED_FWD_RARE); their backward
 * is plain.  gelu_erf's common form drops a clamp and the NaN select, 3 of
 * its 39 vector instructions per 16 floats; the range test costs one. */
#define FA_FWD_RANGED_KERNELS(X) X(gelu_erf)

/* Kernels whose forward returns a NaN input's exact bits through its
 * selects alone (a NaN x is selected as x itself, never passed through
 * arithmetic, which would quiet a signalling NaN): the loops skip the
 * fa_nan_in select after their formula (loops/common.h).  That select is a
 * compare into a mask and a masked move per vector, which on AMD Zen 4 nearly
 * doubled relu's time even in L1.  The exp/tanh forwards listed end with
 * that select themselves: their float clamps are integer min/max on the
 * bits (fa_minpos_f, fa_maxneg_f), which may drop a NaN where a
 * compare-and-select clamp would pass it, one compare less each.
 * tests/test_nan_bits.py checks every forward's NaN bits, signaling NaNs
 * included, so a kernel listed here that computes with a NaN fails it. */
#define FA_NAN_EXACT_KERNELS(X) X(relu0) X(relu_nomax) X(leaky) X(hardtanh) X(linear) X(hard_sigmoid) X(hardshrink) \
    X(threshold) X(sigmoid) X(tanh) X(log_sigmoid) X(elu) X(selu) X(silu) X(mish) X(gelu_erf) X(gelu_tanh)

/* Kernels whose backward (bwd and bwdy) also comes as F_nx, the full form's
 * values for every s (x or y) that is not NaN, in fewer instructions: with a
 * NaN s it may give a number.  The float loops (loops/elementwise.h) run
 * F_nx, note a NaN result or a NaN s in one unordered compare of the two,
 * and apply the NaN rule where either is NaN; double, which notes NaNs by
 * looking at the results again, and in place on s, where the fix-up no
 * longer has s, run F.  relu's
 * full backward (relu0, relu_nomax) spends a max, a multiply and an add on a
 * NaN x alone, which kept its in-place pass from the memory rate. */
#define FA_NANX_KERNELS(X) FA_NANX_BWDY_KERNELS(X) X(hardshrink)
#define FA_NANX_BWDY_KERNELS(X) X(relu0) X(relu_nomax) X(relu) X(leaky) X(hardtanh) X(hard_sigmoid) X(shrink) \
    X(threshold)

/* FA_TRANSC_KERNELS whose bwdy (from y) is a polynomial or a select: memory-
 * bound like the cheap kernels, so those loops do not prefetch (the software
 * prefetch cost tanh's and sigmoid's backward from y a quarter of their time
 * at 1M float32 on AMD Zen 4: the hardware prefetcher keeps up with them). */
#define FA_CHEAP_BWDY_KERNELS(X) X(sigmoid) X(tanh) X(elu) X(selu) X(celu) X(celu_neg)

/* The loops' switch lists: every kernel not in FA_RANGED_KERNELS or
 * FA_NANX_KERNELS (the backward), and the forward's plain and common-range
 * cases */
#define FA_PLAIN_KERNELS(X) FA_CHEAP_PLAIN_KERNELS(X) FA_TRANSC_PLAIN_KERNELS(X)
#define FA_PLAIN_FWD_KERNELS(X) FA_CHEAP_KERNELS(X) FA_TRANSC_FWD_PLAIN_KERNELS(X)
#define FA_RANGED_FWD_CASES(X) FA_RANGED_KERNELS(X) FA_FWD_RANGED_KERNELS(X)
#define FA_BWDY_PLAIN_KERNELS(X) X(linear) FA_BWDY_CALC_KERNELS(X)
#define FA_BWDY_CALC_KERNELS(X) \
    X(sparse_plus) \
    X(sigmoid) X(tanh) X(softplus) X(log_sigmoid) X(elu) X(selu) X(celu) X(celu_neg)

#define FA_ENUM_ENTRY(name) FA_K_##name,
enum fa_kernel_id { FA_KERNELS(FA_ENUM_ENTRY) FA_K_COUNT };
#undef FA_ENUM_ENTRY

/* The gate loops of src/loops/gated.h (out = gate(a, b) on two halves). */
#define FA_GATES(X) X(glu) X(swiglu) X(geglu_erf) X(geglu_tanh) X(swiglu_clamp)
#define FA_GATE_ENTRY(name) FA_G_##name,
enum fa_gate_id { FA_GATES(FA_GATE_ENTRY) FA_G_COUNT };
#undef FA_GATE_ENTRY

/* Names by id: Python reads the kernel and gate ids by name (the loop table
 * carries these arrays; fastact/_params.py, fastact/_families/gated.py),
 * never by number. */
#define FA_NAME_ENTRY(name) #name,
static const char *const fa_kernel_names[] = { FA_KERNELS(FA_NAME_ENTRY) "" };
static const char *const fa_gate_names[] = { FA_GATES(FA_NAME_ENTRY) "" };
#undef FA_NAME_ENTRY

/* Elements per stack buffer on the strided path (gather, contiguous kernel,
 * scatter): small enough for the stack, big enough to amortize the switch. */
#define FA_STRIDED_BUF 512

#define FA_IS_DOUBLE 0
#define T float
#define FA_F(name) name##_f
#include "formulas/piecewise.h"
#include "formulas/exp.h"
#include "loops/common.h"
#include "loops/elementwise.h"
#include "loops/prelu.h"
#include "loops/softmax.h"
#include "loops/sparsemax.h"
#include "loops/bias.h"
#include "loops/gated.h"
#undef T
#undef FA_F
#undef FA_IS_DOUBLE

#define FA_IS_DOUBLE 1
#define T double
#define FA_F(name) name##_d
#include "formulas/piecewise.h"
#include "formulas/exp.h"
#include "loops/common.h"
#include "loops/elementwise.h"
#include "loops/prelu.h"
#include "loops/softmax.h"
#include "loops/sparsemax.h"
#include "loops/bias.h"
#include "loops/gated.h"
#undef T
#undef FA_F
#undef FA_IS_DOUBLE

/* float16 and bfloat16 storage (uint16_t bits), computed through the float32
 * loops above block by block (loops/half.h, conversions in fa_half.h). */
#include "fa_half.h"
#define FA_H(name) name##_h
#define FA_H_TO_F fa_f16_to_f
#define FA_H_FROM_F fa_f_to_f16
#define FA_H_F16C FA_HAVE_F16C
#define FA_H_INF 0x7c00u
#define FA_H_NARROW_BLK 0
#define FA_H_WIDEN_G fa_f16c_widen_g
#define FA_H_NARROW_G fa_f16c_narrow_g
#define FA_H_WIDEN_GO fa_f16c_widen_g      /* in element order already */
#define FA_H_NARROW_GO fa_f16c_narrow_g
#include "loops/half.h"
#undef FA_H
#undef FA_H_TO_F
#undef FA_H_FROM_F
#undef FA_H_F16C
#undef FA_H_INF
#undef FA_H_NARROW_BLK
#undef FA_H_WIDEN_G
#undef FA_H_NARROW_G
#undef FA_H_WIDEN_GO
#undef FA_H_NARROW_GO

#define FA_H(name) name##_b
#define FA_H_TO_F fa_bf16_to_f
#define FA_H_FROM_F fa_f_to_bf16
#define FA_H_F16C 0
#define FA_H_INF 0x7f80u
#define FA_H_NARROW_BLK FA_HAVE_HALF_GROUPS     /* fa_bf16_narrow */
#define FA_H_WIDEN_G fa_bf16_widen_g
#define FA_H_NARROW_G fa_bf16_narrow_g
#define FA_H_WIDEN_GO fa_bf16_widen_go
#define FA_H_NARROW_GO fa_bf16_narrow_go
#include "loops/half.h"
#undef FA_H
#undef FA_H_TO_F
#undef FA_H_FROM_F
#undef FA_H_F16C
#undef FA_H_INF
#undef FA_H_NARROW_BLK
#undef FA_H_WIDEN_G
#undef FA_H_NARROW_G
#undef FA_H_WIDEN_GO
#undef FA_H_NARROW_GO

#endif /* FA_KERNELS_H */
