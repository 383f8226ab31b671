#!/usr/bin/env python
"""An output just after an input modulo 4 KB: forward calls into `out=` with
the output d bytes (mod 4096) after the input, and backward calls in place
on a grad d bytes after x (or y), for several d, one thread.

A load whose low 12 address bits match a still-pending store's waits for it
(4K aliasing), so a loop walking up slows down when the output starts a
little after the input modulo 4 KB.  fastact's AVX-512 forward loops then
walk their vectors down (src/fa_defs.h, fa__walk_down); the backwards walk
up, so their two fastact columns run the same loop.  Contenders, raced in
one process (bench/_timing.py): fastact as shipped (`auto`), fastact forced
to walk up (`up`, the loops before the down walk), and PyTorch's `out=` (or
aten's backward op into the grad) where installed.  Times in us: median over --repeats races of each
race's median, with the min-max of those medians.  The input starts 16
bytes past a 4 KB boundary, as NumPy's large arrays do.

    python bench/offsets.py [--n 1000000] [--repeats 5] [--out FILE.md]
"""
import argparse
import os
import statistics
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import fastact  # noqa: E402
from fastact import _dispatch  # noqa: E402
from _timing import Contender, make_input, race  # noqa: E402

OFFSETS = (0, 16, 32, 48, 64, 112, 192, 256, 512, 2048, 4032)
FUNCS = ("relu", "tanh", "sigmoid", "silu")
# backward in place on the grad: (function, from y)
BWD_FUNCS = (("relu", False), ("tanh", False), ("sigmoid", True))


def placed(n, dtype, at):
    """An empty array of n elements starting `at` bytes past a 4 KB boundary."""
    it = np.dtype(dtype).itemsize
    buf = np.empty(n * it + 8192, np.uint8)
    s = (at - buf.ctypes.data) % 4096
    return buf[s:s + n * it].view(dtype)


def torch_out(name, tx, ty):
    """PyTorch's `out=` form of the function, or None (its silu has none)."""
    import torch
    return {"relu": lambda: torch.clamp_min(tx, 0.0, out=ty), "tanh": lambda: torch.tanh(tx, out=ty),
            "sigmoid": lambda: torch.sigmoid(tx, out=ty)}.get(name)


def torch_bwd(name, tg, ts):
    """PyTorch's backward of the function in place on the grad (aten's
    backward ops with grad_input=), from x (relu) or y (tanh's from x has
    none: None)."""
    import torch
    a = torch.ops.aten
    return {"relu": lambda: a.threshold_backward.grad_input(tg, ts, 0.0, grad_input=tg),
            "sigmoid": lambda: a.sigmoid_backward.grad_input(tg, ts, grad_input=tg)}.get(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    loops = _dispatch.loops(_dispatch.state.variant)
    if loops.walk() is None:
        sys.exit(f"the {_dispatch.state.variant} loops walk one way only (the down walk is AVX-512's)")
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    x = placed(a.n, np.float32, 16)
    x[:] = make_input(a.n, np.float32)
    lines = [f"{a.n} float32 elements into `out=`, one thread, variant {_dispatch.state.variant}; "
             f"us, median (min-max) of {a.repeats} races", "",
             "| function | out - x mod 4096 (bytes) | fastact (auto) | fastact (walk up) | PyTorch | auto / up |",
             "|---|---|---|---|---|---|"]

    def measure(label, calls, prep):
        """calls: {contender: callable}; one table row"""
        cs = [Contender(k, c, prep) for k, c in calls.items()]
        meds = {c.name: [] for c in cs}
        try:
            for _ in range(a.repeats):
                for k, v in race(cs, budget=0.05).items():
                    meds[k].append(v * 1e6)
        finally:
            loops.walk("auto")

        def cell(k):
            v = meds.get(k)
            return "-" if not v else f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
        ratio = statistics.median(meds["auto"]) / statistics.median(meds["up"])
        row = f"| {label} | {cell('auto')} | {cell('up')} | {cell('torch')} | {ratio:.2f} |"
        print(row, flush=True)
        lines.append(row)

    def walked(mode, call):
        def run():
            loops.walk(mode)
            return call()
        return run

    for name in FUNCS:
        f = getattr(fastact, name)
        for d in OFFSETS:
            y = placed(a.n, np.float32, 16 + d)
            call = (lambda f=f, y=y: f(x, out=y, n_threads=1))
            calls = {"auto": walked("auto", call), "up": walked("up", call)}
            t = torch_out(name, torch.from_numpy(x), torch.from_numpy(y)) if torch is not None else None
            if t is not None:
                calls["torch"] = t
            measure(f"{name} | {d}", calls, None)
    lines += ["", "Backward in place on the grad, the grad d bytes (mod 4096) after x (or y); "
              "the grad refilled (untimed) before every call; the backwards walk up (both fastact "
              "columns run the same loop)", "",
              "| function | grad - x mod 4096 (bytes) | fastact (auto) | fastact (walk up) | PyTorch | auto / up |",
              "|---|---|---|---|---|---|"]
    g0 = make_input(a.n, np.float32, seed=1, scale=1.0)
    for name, from_y in BWD_FUNCS:
        s = x if not from_y else placed(a.n, np.float32, 16)
        if from_y:
            getattr(fastact, name)(x, out=s)
        b_ = getattr(fastact, name + "_backward_")
        kw = {"y": s} if from_y else {"x": s}
        for d in OFFSETS:
            g = placed(a.n, np.float32, 16 + d)
            call = (lambda b_=b_, g=g, kw=kw: b_(g, n_threads=1, **kw))
            calls = {"auto": walked("auto", call), "up": walked("up", call)}
            t = torch_bwd(name, torch.from_numpy(g), torch.from_numpy(s)) if torch is not None else None
            if t is not None:
                calls["torch"] = t
            measure(f"{name}{' from y' if from_y else ''} | {d}", calls, (lambda g=g: np.copyto(g, g0)))
    if a.out:
        with open(a.out, "w") as fh:
            fh.write("# Output offset modulo 4 KB (bench/offsets.py)\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
