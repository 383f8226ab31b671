#!/usr/bin/env python
"""softmax / log_softmax against PyTorch (when installed) over row lengths and
over non-last axes, forward out of place into a preallocated array, float32,
1 thread and all threads; medians of interleaved races (bench/_timing.race).
Prints a markdown table and writes it to bench/results/softmax_results.md.

    python bench/softmax.py [--no-write]
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fastact  # noqa: E402
from _timing import Contender, race, usable_cpus  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

# (shape, axis): 1M-element rows of several lengths (31 and 100 with tails
# beyond the 16 partial sums), then non-last axes
# (channels of NCHW images, columns of a matrix), then two small calls
CASES = [((131072, 8), -1), ((65536, 16), -1), ((33825, 31), -1), ((16384, 64), -1),
         ((10486, 100), -1), ((8192, 128), -1), ((1024, 1024), -1), ((256, 4096), -1),
         ((8, 21, 128, 128), 1), ((32, 3, 224, 224), 1), ((4096, 256), 0),
         ((1000,), -1), ((10, 100), 0)]


def one(name, shape, axis, nt):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    y = np.empty_like(x)
    fa = getattr(fastact, name)
    cs = [Contender("fastact", lambda: fa(x, axis=axis, out=y, n_threads=nt))]
    if torch is not None:
        tx, ty = torch.from_numpy(x), torch.from_numpy(np.empty_like(x))
        tf = getattr(torch, name)
        cs.append(Contender("torch", lambda: tf(tx, axis, out=ty)))
    budget = 0.3 if x.size > 10000 else 0.05
    return race(cs, budget=budget, min_reps=9, max_reps=2000)


def main():
    write = "--no-write" not in sys.argv
    t0 = time.time()
    ncpu = usable_cpus()
    lines = ["| shape | axis | threads | softmax fastact | torch | speed-up | log_softmax fastact | torch | speed-up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for nt in sorted({1, ncpu}):
        if torch is not None:
            torch.set_num_threads(nt)
        for shape, axis in CASES:
            if x_small(shape) and nt > 1:
                continue
            cells = []
            for name in ("softmax", "log_softmax"):
                r = one(name, shape, axis, nt)
                f = r["fastact"]
                if "torch" in r:
                    cells += [fmt(f), fmt(r["torch"]), f"{r['torch'] / f:.2f}x"]
                else:
                    cells += [fmt(f), "-", "-"]
            lines.append(f"| {shape} | {axis} | {nt} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    head = (f"`python bench/softmax.py` ({time.time() - t0:.0f} s): float32, out of place into a "
            "preallocated array (`out=`), medians of interleaved races; times per call; "
            "speed-up = torch time / fastact time."
            + ("" if torch is not None else " PyTorch not installed: fastact only."))
    text = "# softmax / log_softmax vs PyTorch\n\n" + head + "\n\n" + "\n".join(lines) + "\n"
    from fastact import _dispatch
    text += (f"\nfastact kernel variant {_dispatch.state.variant}"
             + (f", PyTorch {torch.__version__}" if torch is not None else "") + f", {ncpu} usable CPUs.\n")
    print()
    print(head)
    if write:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        with open(os.path.join(HERE, "results", "softmax_results.md"), "w") as f:
            f.write(text)


def x_small(shape):
    return int(np.prod(shape)) < 100000


def fmt(s):
    return f"{s * 1e3:.3f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} us"


if __name__ == "__main__":
    main()
