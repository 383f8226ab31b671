#!/usr/bin/env python
"""A/B of loop code in one process: build the loop table (src/isa/) from two or
more source trees with one target's shipped flags, hand each table in turn to
the installed front and time the element-wise loops, interleaved, on the
calling thread's CPU time (one thread), which other processes on a busy
machine do not inflate.  Median of interleaved rounds, with the spread.

    python bench/ab_loops.py OTHER_SRC [MORE_SRC ...] [--target x86_64_v3] [--n 1048576]
        [--kernels sigmoid,tanh] [--forms fwd,bwdy_] [--dtypes float32] [--params 4,2,0,0]
        [--offset 32]

Each OTHER_SRC is a directory laid out like src/ (e.g. `git archive` of an
older commit's src/, or a patched copy); the first column is this checkout's
src/.  The loop tables must share this front's ABI (src/isa/fa_table.h).
The output starts 16 bytes past a 64-byte boundary (as NumPy's large arrays
do) and the input (x, or y for bwdy) --offset bytes after that.
"""
import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import fastact  # noqa: E402
from fastact import _dispatch, _targets  # noqa: E402

SETUP = textwrap.dedent("""
    from setuptools import Extension, setup
    ext = Extension({name!r}, [{mod!r}], include_dirs=[{src!r}, {isa!r}],
                    define_macros=[("FA_TARGET", {tname!r})], extra_compile_args={flags!r})
    setup(ext_modules=[ext], script_args=["build_ext", "--inplace"])
""")

FORMS = (("fwd", 0, False), ("fwd_", 0, True), ("bwd", 1, False), ("bwd_", 1, True),
         ("bwdy", 2, False), ("bwdy_", 2, True))


def build(src, target, tmp, i):
    d = os.path.join(tmp, f"t{i}")
    os.makedirs(d)
    name = f"_loops_ab{i}"
    flags = _targets.GNU_BASE + _targets.GNU_OPT + _targets.gnu_flags(target, platform.machine())
    isa = os.path.join(src, "isa")
    with open(os.path.join(d, "setup.py"), "w") as f:
        f.write(SETUP.format(name=name, mod=os.path.join(isa, "fa_loops_module.c"), src=src,
                             isa=isa, tname=f"ab{i}", flags=flags))
    subprocess.run([sys.executable, "setup.py"], cwd=d, check=True, capture_output=True)
    so = [p for p in os.listdir(d) if p.startswith(name) and p.endswith((".so", ".pyd"))][0]
    spec = importlib.util.spec_from_file_location(name, os.path.join(d, so))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.table


def placed(n, dtype, offset):
    """An empty array of n elements starting `offset` bytes past a 64-byte boundary."""
    it = np.dtype(dtype).itemsize
    buf = np.empty(n * it + 128, np.uint8)
    a = (-buf.ctypes.data % 64 + offset % 64)
    return buf[a:a + n * it].view(dtype)


def case_runner(front, k, mode, inplace, dtype, n, params, offset=0):
    rng = np.random.default_rng(0)
    x = placed(n, dtype, 16 + offset)
    x[:] = rng.standard_normal(n) * 3
    if mode == 2:   # a saved output: y = tanh(x) is in every from-y kernel's range of interest
        x[:] = np.tanh(x)
    g = placed(n, dtype, 16)
    g[:] = 1
    out = placed(n, dtype, 16)
    if mode == 0:
        def run():
            if inplace:
                np.copyto(out, x)
                front.elementwise(k, 0, out, None, out, *params, 1, 1 << 40)
            else:
                front.elementwise(k, 0, x, None, out, *params, 1, 1 << 40)
    else:
        def run():
            if inplace:
                np.copyto(out, g)
                front.elementwise(k, mode, out, x, out, *params, 1, 1 << 40)
            else:
                front.elementwise(k, mode, g, x, out, *params, 1, 1 << 40)
    return run


def cpu_time(run, reps):
    t0 = time.thread_time()
    for _ in range(reps):
        run()
    return (time.thread_time() - t0) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("others", nargs="+")
    ap.add_argument("--target", default="x86_64_v3")
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--kernels", default="relu0,sigmoid,tanh,silu,gelu_erf,elu,softplus")
    ap.add_argument("--forms", default="fwd,fwd_,bwd,bwd_")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--offset", type=int, default=0,
                    help="bytes from the output's alignment to the input's (0: aligned alike)")
    ap.add_argument("--params", default="0,0,0,0",
                    help="the kernel's four parameters as the loop takes them (e.g. squareplus: b,sqrt(b),0,0)")
    args = ap.parse_args()
    front = _dispatch.state.kernels
    srcs = [os.path.join(ROOT, "src")] + [os.path.abspath(s) for s in args.others]
    with tempfile.TemporaryDirectory() as tmp:
        tables = [build(s, args.target, tmp, i) for i, s in enumerate(srcs)]
        ids = front.kernel_ids()
        print(f"target {args.target}, n={args.n}, thread CPU time, median of {args.rounds} "
              f"interleaved rounds (spread min-max), ns/element; columns: "
              + ", ".join(f"[{i}] {s}" for i, s in enumerate(srcs)))
        hdr = "| kernel | form | dtype | " + " | ".join(f"[{i}]" for i in range(len(srcs))) + \
              " | " + " | ".join(f"[{i}]/[0]" for i in range(1, len(srcs))) + " |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        reps = max(1, (1 << 22) // args.n)
        params = [float(v) for v in args.params.split(",")]
        if len(params) != 4:
            sys.exit(f"ab_loops: --params takes four comma-separated values, got {args.params!r}")
        dtypes = [np.dtype(d) for d in args.dtypes.split(",")]
        for dtype in dtypes:
            for name in args.kernels.split(","):
                for form, mode, inplace in FORMS:
                    if form not in args.forms.split(","):
                        continue
                    run = case_runner(front, ids[name], mode, inplace, dtype, args.n, params, args.offset)
                    try:
                        run()
                    except RuntimeError:    # e.g. no backward from y for this kernel
                        print(f"| {name} | {form} | {np.dtype(dtype).name} | (no such loop) |")
                        continue
                    ts = [[] for _ in tables]
                    for _ in range(args.rounds):
                        for i, t in enumerate(tables):
                            front.set_table(t)
                            run()
                            ts[i].append(cpu_time(run, reps) / args.n * 1e9)
                    med = [float(np.median(t)) for t in ts]
                    cells = [f"{m:.3f} ({min(t):.3f}-{max(t):.3f})" for m, t in zip(med, ts)]
                    ratios = [f"{m / med[0]:.3f}" for m in med[1:]]
                    print(f"| {name} | {form} | {np.dtype(dtype).name} | " + " | ".join(cells)
                          + " | " + " | ".join(ratios) + " |", flush=True)
        _dispatch.use(_dispatch.state.variant)


if __name__ == "__main__":
    main()
