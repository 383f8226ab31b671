/* instantiate the kernels exactly as src/fa_kernels.h does (float, double) */
#ifndef FA_MATHH
#define FA_MATHH "../../src/fa_math.h"
#endif
#ifndef FA_IMPL
#define FA_IMPL "../../src/formulas/exp.h"
#endif
#include "../../src/fa_defs.h"
#include FA_MATHH
#define FA_IS_DOUBLE 0
#define T float
#define FA_F(name) name##_f
#include "../../src/formulas/piecewise.h"   /* squareplus */
#include FA_IMPL
#undef T
#undef FA_F
#undef FA_IS_DOUBLE
#define FA_IS_DOUBLE 1
#define T double
#define FA_F(name) name##_d
#include "../../src/formulas/piecewise.h"   /* squareplus */
#include FA_IMPL
#undef T
#undef FA_F
#undef FA_IS_DOUBLE
#define VCAT2(a, b) a##b
#define VCAT(a, b) VCAT2(a, b)
#define VFN(n) VCAT(n, VSUF)
