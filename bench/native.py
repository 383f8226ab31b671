#!/usr/bin/env python
"""Do the dispatched (wheel) loops reach the speed of a build for this very
CPU?  Builds the loop table (src/isa/) once more with -march=native (in a
temporary folder, same flags otherwise), hands each table in turn to the
front and times the same kernels, one thread, float32, in place, median of
interleaved repeats.

    python bench/native.py [--no-write]     # prints the table, writes bench/results/native_results.md
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import fastact  # noqa: E402
from fastact import _dispatch  # noqa: E402

OUT = os.path.join(ROOT, "bench", "results", "native_results.md")

SETUP = textwrap.dedent("""
    from setuptools import Extension, setup
    ext = Extension("_loops_native", [{mod!r}], include_dirs=[{src!r}, {isa!r}],
                    define_macros=[("FA_TARGET", "native")],
                    extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c11",
                                        "-ffp-contract=off", "-march=native"])
    setup(ext_modules=[ext], script_args=["build_ext", "--inplace"])
""")


def build_native(tmp):
    src = os.path.join(ROOT, "src")
    isa = os.path.join(src, "isa")
    with open(os.path.join(tmp, "setup.py"), "w") as f:
        f.write(SETUP.format(src=src, isa=isa, mod=os.path.join(isa, "fa_loops_module.c")))
    subprocess.run([sys.executable, "setup.py"], cwd=tmp, check=True, capture_output=True)
    so = [p for p in os.listdir(tmp) if p.startswith("_loops_native") and p.endswith((".so", ".pyd"))][0]
    spec = importlib.util.spec_from_file_location("fastact._loops_native", os.path.join(tmp, so))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_kernel(table, k, src, reps=60):
    front = _dispatch.state.kernels
    front.set_table(table)
    a = src.copy()
    ts = []
    for _ in range(reps):
        np.copyto(a, src)
        t0 = time.perf_counter()
        front.elementwise(k, 0, a, None, a, 0.0, 0.0, 0.0, 0.0, 1, 1 << 30)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        native = build_native(tmp).table
        disp = importlib.import_module(f"fastact._loops_{_dispatch.state.variant}").table
        ids = _dispatch.state.kernels.kernel_ids()
        print(f"dispatched variant: {_dispatch.state.variant}; native: -march=native\n")
        lines = ["| kernel | n | dispatched ns/elem | native ns/elem | dispatched / native |",
                 "|---|---|---|---|---|"]
        print("\n".join(lines))
        worst = 0.0
        warm = np.ones(1 << 20, np.float32)
        for _ in range(20):     # let the clock and the page tables settle first
            time_kernel(disp, ids["sigmoid"], warm, reps=5)
            time_kernel(native, ids["sigmoid"], warm, reps=5)
        for n in (16384, 1 << 20):
            src = (np.random.default_rng(0).standard_normal(n) * 3).astype(np.float32)
            for name in ("relu0", "sigmoid", "tanh", "silu", "gelu_erf", "gelu_tanh", "elu",
                         "softplus", "mish"):
                k = ids[name]
                td, tn = [], []
                for _ in range(3):      # interleave to share the machine's noise
                    td.append(time_kernel(disp, k, src))
                    tn.append(time_kernel(native, k, src))
                d, nv = np.median(td) / n * 1e9, np.median(tn) / n * 1e9
                worst = max(worst, d / nv)
                lines.append(f"| {name} | {n} | {d:.3f} | {nv:.3f} | {d / nv:.2f} |")
                print(lines[-1], flush=True)
        _dispatch.state.kernels.set_table(disp)
        lines += ["", f"worst dispatched/native: {worst:.2f} (target <= 1.05)"]
        print(lines[-1])
    if "--no-write" not in sys.argv:
        head = ("# Dispatched module vs a -march=native build\n\n"
                "`python bench/native.py` on the machine described in results.md (one thread, float32, "
                "in place, median of interleaved repeats). "
                f"The dispatched module is {_dispatch.state.variant}.\n\n")
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(head + "\n".join(lines) + "\n")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
