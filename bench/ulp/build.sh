#!/bin/sh
# Standalone accuracy / vectorization / speed harness for src/fa_math.h and
# the exp-based formulas, src/formulas/exp.h (not part of the package build).
# Needs gcc, an AVX2+FMA CPU, libgomp and libquadmath; AVX-512 is optional at
# run time (the _v4 build is compiled everywhere, called only where the CPU has it).
#   sh build.sh            build + vectorization report
#   ./ulp f32 [stride] [,names,]  float32 sweep (stride 1 = every finite float;
#                          optional comma-wrapped kernel names, e.g. ,gelu_tanh,silu,)
#   ./ulp f32same [stride] [,names,]  are the AVX-512 results bitwise those of AVX2+FMA?
#   ./ulp f64 1 "" [n]     float64 sweep (n random inputs + binade sweep)
#   ./bench                ns/element, 4096 elements in cache, one core
set -e
cd "$(dirname "$0")"
MATHH=${MATHH:-../../src/fa_math.h}
IMPL=${IMPL:-../../src/formulas/exp.h}
python3 gen.py
FL="-O3 -fno-math-errno -fno-trapping-math -std=c11 -ffp-contract=off -fopt-info-vec-optimized"
gcc $FL "-DFA_MATHH=\"$MATHH\"" "-DFA_IMPL=\"$IMPL\"" -DVSUF=_base -c vec.c -o vec_base.o 2> vec_base.txt || { cat vec_base.txt; exit 1; }
gcc $FL "-DFA_MATHH=\"$MATHH\"" "-DFA_IMPL=\"$IMPL\"" -mavx2 -mfma -mf16c -DVSUF=_v3 -c vec.c -o vec_v3.o 2> vec_v3.txt || { cat vec_v3.txt; exit 1; }
# the package's x86_64_v4 flags (TARGETS in fastact/_targets.py): the AVX-512 paths of
# the sources (#if defined(__AVX512F__)) and 512-bit vectors, as the package ships them
V4="-mavx2 -mfma -mf16c -mbmi -mbmi2 -mlzcnt -mmovbe -mavx512f -mavx512cd -mavx512bw -mavx512dq -mavx512vl -mprefer-vector-width=512"
gcc $FL "-DFA_MATHH=\"$MATHH\"" "-DFA_IMPL=\"$IMPL\"" $V4 -DVSUF=_v4 -c vec.c -o vec_v4.o 2> vec_v4.txt || { cat vec_v4.txt; exit 1; }
gcc -O2 -fopenmp ulp.c vec_base.o vec_v3.o vec_v4.o -lquadmath -lm -o ulp
gcc -O2 bench.c vec_base.o vec_v3.o vec_v4.o -lm -o bench
python3 vecreport.py > vec_report.md
tail -1 vec_report.md
