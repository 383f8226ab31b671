"""Check that GCC vectorizes every kernel loop, at full vector width, in each
build target (baseline SSE2, x86-64-v3 AVX2, x86-64-v4 AVX-512).

Compiles src/fa_kernels.h with the package's flags and -fopt-info-vec, and
requires, for every loop of src/fa_loops_impl.h marked FA_IVDEP (the
element-wise maps), one "loop vectorized using <width> byte vectors" report
(full width of the target; half for the float/float64 mixed prelu loop)
per instantiation: per kernel and dtype for the switch-generated loops, per
dtype for the others.  Exits non-zero and names the loops that are not.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c11", "-ffp-contract=off"]
TARGETS = {
    "baseline": ([], 16),
    "x86_64_v3": (["-mavx2", "-mfma", "-mf16c"], 32),
    "x86_64_v4": (["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512cd", "-mavx512bw",
                   "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512"], 64),
}
FUNCS = ["fa_fwd_block", "fa_bwd_block", "fa_bias_fwd_rows", "fa_bias_bwd_rows", "fa_gated_fwd",
         "fa_gated_bwd", "fa_prelu_cols", "fa_prelu_cols_bwd", "fa_prelu_row", "fa_softmax_rows",
         "fa_softmax_bwd_row", "fa_softmax_cols", "fa_softmax_bwd_cols"]


def count_kernels(macro):
    text = open(os.path.join(SRC, "fa_kernels.h")).read()
    names = set()
    for m in re.finditer(r"#define (%s|FA_TRANSC%s)\(X\)((?:[^\n]*\\\n)*[^\n]*)" % (macro, macro[2:]), text):
        names.update(re.findall(r"X\((\w+)\)", m.group(2)))
    return len(names)


def expected_per_line():
    n_all, n_y = count_kernels("FA_KERNELS"), count_kernels("FA_BWDY_KERNELS")
    want = {}
    in_macro = False
    for i, line in enumerate(open(os.path.join(SRC, "fa_loops_impl.h")), 1):
        macro_line = in_macro or line.lstrip().startswith("#define")
        in_macro = macro_line and line.rstrip().endswith("\\")
        if macro_line:      # loops in FA_CASE bodies are reported at the expansion
            continue
        if "FA_KERNELS(FA_CASE)" in line:
            want[i] = 2 * n_all
        elif "FA_BWDY_KERNELS(FA_CASE)" in line:
            want[i] = 2 * n_y
        elif "FA_IVDEP for" in line:
            want[i] = 2
    return want


def main():
    want = expected_per_line()
    refs = ", ".join(f"(void *){f}_{s}" for f in FUNCS for s in "fd")
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        tu = os.path.join(tmp, "tu.c")
        with open(tu, "w") as f:
            f.write('#include "fa_kernels.h"\nvoid *fa_vec_refs[] = {%s};\n' % refs)
        for target, (tflags, width) in TARGETS.items():
            cmd = ["gcc", *FLAGS, *tflags, "-I", SRC, "-c", tu, "-o", os.path.join(tmp, "tu.o"),
                   "-fopt-info-vec-optimized"]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(out.stderr)
                return 2
            got = {}
            pat = re.compile(r"fa_loops_impl\.h:(\d+):\d+: optimized: loop vectorized using (\d+) byte")
            for m in pat.finditer(out.stderr):
                # full width; half width is accepted for the loops that mix
                # float data with float64 accumulators (prelu's dL/dalpha)
                if int(m.group(2)) >= width // 2:
                    got[int(m.group(1))] = got.get(int(m.group(1)), 0) + 1
            for line, n in sorted(want.items()):
                if got.get(line, 0) < n:
                    bad.append(f"{target}: src/fa_loops_impl.h:{line}: {got.get(line, 0)} of {n} "
                               f"loops vectorized at {width} bytes")
            total = sum(min(got.get(k, 0), n) for k, n in want.items())
            print(f"{target:>10}: {total} of {sum(want.values())} kernel loops vectorized "
                  f"with {width}-byte vectors")
    for b in bad:
        print("NOT VECTORIZED:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
