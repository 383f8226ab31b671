#!/usr/bin/env python
"""Does the dispatched (wheel) kernel module reach the speed of a build for
this very CPU?  Builds src/_kernels.pxi once more with -march=native (in a
temporary folder, same flags otherwise) and times both modules on the same
kernels, one thread, float32, in place, median of interleaved repeats.

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
    from Cython.Build import cythonize
    ext = Extension("_k_native", ["_k_native.pyx"], include_dirs=[{src!r}],
                    extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c11", "-ffp-contract=off",
                                        "-march=native", "-fopenmp"],
                    extra_link_args=["-fopenmp"])
    setup(ext_modules=cythonize([ext], include_path=[{src!r}],
          compiler_directives={{"language_level": "3", "boundscheck": False, "wraparound": False,
                                "cdivision": True}}), script_args=["build_ext", "--inplace"])
""")


def build_native(tmp):
    src = os.path.join(ROOT, "src")
    with open(os.path.join(tmp, "_k_native.pyx"), "w") as f:
        f.write('include "_kernels.pxi"\n')
    with open(os.path.join(tmp, "setup.py"), "w") as f:
        f.write(SETUP.format(src=src))
    subprocess.run([sys.executable, "setup.py"], cwd=tmp, check=True, capture_output=True)
    so = [p for p in os.listdir(tmp) if p.startswith("_k_native") and p.endswith((".so", ".pyd"))][0]
    spec = importlib.util.spec_from_file_location("_k_native", os.path.join(tmp, so))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def time_kernel(mod, k, src, reps=60):
    a = src.copy()
    ts = []
    for _ in range(reps):
        np.copyto(a, src)
        t0 = time.perf_counter()
        mod.elementwise(k, 0, a, None, a, 0.0, 0.0, 0.0, 0.0, 1, 1 << 30)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        native = build_native(tmp)
        disp = _dispatch.state.kernels
        ids = disp.kernel_ids()
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
