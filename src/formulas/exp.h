/* formulas/exp.h: the exp-based (transcendental) activations, one group of
 * files included in this order (the later ones use the helpers and constants
 * of exp_common.h; the order is also the order of the definitions in the
 * unit).  TEMPLATE (no include guard): src/fa_kernels.h includes it once
 * per type, after formulas/piecewise.h; bench/ulp includes it alone. */
#include "exp_common.h"
#include "sigmoid_tanh.h"
#include "elu.h"
#include "silu_mish.h"
#include "gelu.h"
#include "tanhshrink.h"

/* the constants of exp_common.h end with the group */
#undef FA__UNUSED4
#undef FA__MAXV
#undef FA__TANH_ZLO
#undef FA__GT_XMAX
#undef FA__GE_AMAX
#undef FA__BIGX
#undef FA__BIGP
#undef FA__PROD_D
#undef FA__CN_ZMAX
#undef FA__LOG1P_E
