"""Check that GCC vectorizes every kernel loop, at full vector width, in each
build target of fastact/_targets.py (baseline SSE2, x86-64-v3 AVX2,
x86-64-v4 AVX-512), compiled with the flags the package ships with.

Compiles src/isa/fa_table_impl.c (the per-target unit that fills the loop
table; it references every loop) with the table's flags and -fopt-info-vec,
and requires, for every loop of the loop headers src/loops/*.h marked
FA_IVDEP (the element-wise maps), one "loop vectorized using <width> byte vectors" report
(full width of the target; half for prelu's float/float64 mixed loops)
per instantiation: per kernel and dtype for the switch-generated loops, per
dtype for the others (one for a static function inside a one-dtype `#if
FA_IS_DOUBLE` block, compiled once).  Exits non-zero and names the loops that
are not.
"""
import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")


def load_targets():
    """fastact/_targets.py by path (the package itself needs its build)."""
    spec = importlib.util.spec_from_file_location("fastact_targets",
                                                  os.path.join(ROOT, "fastact", "_targets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TGT = load_targets()
FLAGS = TGT.GNU_BASE + TGT.GNU_OPT
TARGETS = {name: (TGT.gnu_flags(name, platform.machine()), t["vec_bytes"]) for name, t in TGT.TARGETS.items()}


def count_kernels(macro):
    """The kernels a catalogue macro of src/fa_kernels.h lists: its X(name)
    entries and those of the FA_*_KERNELS(X) lists it names."""
    text = open(os.path.join(SRC, "fa_kernels.h")).read()
    bodies = {m.group(1): m.group(2) for m in
              re.finditer(r"#define (FA_\w+)\(X\)((?:[^\n]*\\\n)*[^\n]*)", text)}

    def names(mac):
        body = bodies[mac]
        found = set(re.findall(r"\bX\((\w+)\)", body))
        for sub in re.findall(r"\b(FA_\w+)\(X\)", body):
            found |= names(sub)
        return found
    return len(names(macro))


LOOPS = os.path.join(SRC, "loops")


def expected_per_line(width):
    """{(header, line): reports wanted} over the loop headers src/loops/*.h,
    for a target of `width`-byte vectors"""
    # loops reported at a catalogue list's expansion: 2 dtypes x the loops
    # of one case.  A backward case of elementwise.h has three copies of each
    # loop (out separate, out = g, out = s: FA__BWD_ALIAS).  A
    # FA_RANGED_KERNELS case has three forms (common, rare, full): forward
    # (FA_RANGED_FWD_CASES) one loop each, the common form twice (out of
    # place; in place, keeping the inputs in a buffer): 4 loops; backward
    # the rare form in the three copies, the others out of place and in the
    # two in-place copies: 3 + 2 x 3 = 9.  A FA_NANX_KERNELS backward case
    # also has three: its F_nx form out of place and in place on g, the full
    # form in place on s (double: the full form's three).  FA_TRANSC_KERNELS and
    # FA_CHEAP_BWDY_KERNELS only list the (not) prefetched kernels, no loop.
    # With AVX-512 a FA_PLAIN_FWD_KERNELS case also walks down (FA__MAP in
    # loops/common.h): its inner loop of one vector is a second report.
    per_case = {"FA_CHEAP_KERNELS": 2, "FA_KERNELS": 2, "FA_PLAIN_KERNELS": 2,
                "FA_BWDY_KERNELS": 2, "FA_BWDY_PLAIN_KERNELS": 2, "FA_NANX_KERNELS": 2,
                "FA_NANX_BWDY_KERNELS": 2, "FA_TRANSC_PLAIN_KERNELS": 2,
                "FA_CHEAP_CALC_KERNELS": 2, "FA_BWDY_CALC_KERNELS": 2,
                "FA_RANGED_KERNELS": 0,     # in the backward only: ranged_bwd below
                "FA_PLAIN_FWD_KERNELS": 4 if width == 64 else 2, "FA_RANGED_FWD_CASES": 8,
                "FA_TRANSC_KERNELS": 0, "FA_CHEAP_BWDY_KERNELS": 0}
    # half.h's fused loops (per format: 2 copies) have one loop per forward
    # or backward case, a common-range kernel two (its common and full
    # forms), and exist under FA_HAVE_HALF_GROUPS only: AVX2 and AVX-512
    # (SSE2 runs the buffered form)
    half_case = {"FA_PLAIN_FWD_KERNELS": 2, "FA_RANGED_FWD_CASES": 4, "FA_RANGED_KERNELS": 4}
    bwd_copies = 3
    ranged_bwd = 2 * (3 + 2 * 3)
    want = {}
    for name in sorted(os.listdir(LOOPS)):
        if not name.endswith(".h"):
            continue
        in_macro = in_bwd = one_copy = False
        groups = 0          # preprocessor depth inside `#if FA_HAVE_HALF_GROUPS` (0: outside)
        dtype_only = []     # per open #if: whether it picks one dtype (FA_IS_DOUBLE)
        for i, line in enumerate(open(os.path.join(LOOPS, name)), 1):
            directive = line.strip().split()[0] if line.lstrip().startswith("#") else ""
            if groups:
                groups += directive in ("#if", "#ifdef", "#ifndef")
                groups -= directive == "#endif"
                if groups == 1 and directive == "#else":
                    groups = 0
            elif line.startswith("#if FA_HAVE_HALF_GROUPS"):
                groups = 1
            if directive in ("#if", "#ifdef", "#ifndef"):
                dtype_only.append("FA_IS_DOUBLE" in line)
            elif directive == "#endif" and dtype_only:
                dtype_only.pop()
            if groups and width < 32:
                continue
            if line.startswith("static "):      # which function the lines belong to
                in_bwd = "fa_bwd_block" in line
            if line.startswith(("static ", "FA_INLINE ")):
                # a static function of one dtype is compiled once: one report
                # per loop (an inline one has a copy per call site)
                one_copy = line.startswith("static ") and any(dtype_only)
            macro_line = in_macro or line.lstrip().startswith("#define")
            in_macro = macro_line and line.rstrip().endswith("\\")
            if macro_line:      # loops in FA_CASE bodies are reported at the expansion
                continue
            lists = re.findall(r"\b(FA_\w+)\(FA_CASE\)", line)
            if len(lists) > 1:
                raise SystemExit(f"src/loops/{name}:{i}: one catalogue list per line, please")
            if lists:
                if lists[0] not in per_case:
                    raise SystemExit(f"src/loops/{name}:{i}: unknown catalogue list {lists[0]}")
                bwd = name == "elementwise.h" and in_bwd
                per = ranged_bwd if bwd and lists[0] == "FA_RANGED_KERNELS" else \
                    half_case.get(lists[0], per_case[lists[0]]) if name == "half.h" else \
                    per_case[lists[0]] * (bwd_copies if bwd else 1)
                want[name, i] = per * count_kernels(lists[0])
            elif "FA_IVDEP for" in line or "FA__GATED_FWD(" in line or "FA__GATED_BWD(" in line:
                # (the gated loops are reported where their macro is used)
                want[name, i] = 1 if one_copy else 2
    return want


def main():
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        tu = os.path.join(SRC, "isa", "fa_table_impl.c")
        for target, (tflags, width) in TARGETS.items():
            want = expected_per_line(width)
            cmd = ["gcc", *FLAGS, *tflags, f"-DFA_TARGET={target}", "-I", SRC,
                   "-I", os.path.join(SRC, "isa"), "-c", tu, "-o", os.path.join(tmp, "tu.o"),
                   "-fopt-info-vec-optimized"]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(out.stderr)
                return 2
            got = {}
            # reports name the header as included: .../src/loops/<name>.h:<line>:<col>
            pat = re.compile(r"[/\\]loops[/\\](\w+\.h):(\d+):\d+: optimized: loop vectorized "
                             r"using (\d+) byte")
            for m in pat.finditer(out.stderr):
                # full width; half width only for prelu's loops, which mix
                # float data with float64 accumulators (dL/dalpha).  A half-width
                # report elsewhere is a vectorized epilogue, which must not count
                # for a main loop that failed.
                if int(m.group(3)) >= (width // 2 if m.group(1) == "prelu.h" else width):
                    key = (m.group(1), int(m.group(2)))
                    got[key] = got.get(key, 0) + 1
            for (name, line), n in sorted(want.items()):
                if got.get((name, line), 0) < n:
                    bad.append(f"{target}: src/loops/{name}:{line}: {got.get((name, line), 0)} of {n} "
                               f"loops vectorized at {width} bytes")
            total = sum(min(got.get(k, 0), n) for k, n in want.items())
            print(f"{target:>10}: {total} of {sum(want.values())} kernel loops vectorized "
                  f"with {width}-byte vectors")
    for b in bad:
        print("NOT VECTORIZED:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
