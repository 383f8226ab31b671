#!/usr/bin/env python
"""Element-wise calls on views that are not contiguous, against PyTorch on
the same memory (torch.from_numpy, its thread count matched): a transposed
slice (the N-d walk's contiguous runs), the same into a C-ordered out= (runs
in tiles), every other column (the strided loops).  docs/performance.md,
"Views that are not contiguous".

    python bench/views.py                 # 1024 x 1024 float32, 1 thread, 5 trials
    python bench/views.py --threads 2 --trials 7

Each trial is one interleaved race (_timing.race) of the contenders of a
line; the reported times are the medians over the trials, with their range.
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
from _timing import Contender, race  # noqa: E402

FUNCS = ("relu", "tanh", "gelu")


def _torch():
    try:
        import torch
    except ImportError:     # pragma: no cover
        return None
    return torch


def lines(torch, nt):
    """(label, fastact call, PyTorch call or None) per view and function."""
    a = np.random.default_rng(0).standard_normal((1024, 2048)).astype(np.float32)
    out = np.empty((1024, 1024), np.float32)
    views = {"a[:, :1024].T": a[:, :1024].T, "a[:, ::2]": a[:, ::2]}
    ta = torch.from_numpy(a) if torch else None
    tviews = {"a[:, :1024].T": ta[:, :1024].T, "a[:, ::2]": ta[:, ::2]} if torch else {}
    tout = torch.from_numpy(out) if torch else None
    tfun = {"relu": lambda t, **k: torch.clamp_min(t, 0, **k), "tanh": lambda t, **k: torch.tanh(t, **k),
            "gelu": lambda t, **k: torch.nn.functional.gelu(t) if not k else None} if torch else {}
    for vname, v in views.items():
        for f in FUNCS:
            fa = getattr(fastact, f)
            tv = tviews.get(vname)
            yield (f"{vname}, {f}", lambda fa=fa, v=v: fa(v, n_threads=nt),
                   (lambda f=f, tv=tv: tfun[f](tv)) if torch else None)
    v, tv = views["a[:, :1024].T"], tviews.get("a[:, :1024].T")
    for f in ("relu", "tanh"):
        fa = getattr(fastact, f)
        yield (f"a[:, :1024].T into a C-ordered out, {f}", lambda fa=fa: fa(v, out=out, n_threads=nt),
               (lambda f=f: tfun[f](tv, out=tout)) if torch else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    torch = _torch()
    if torch:
        torch.set_num_threads(args.threads)
    print(f"fastact {fastact.__version__}, loops {fastact._front.table_target()}, 1024 x 1024 float32, "
          f"{args.threads} thread(s), {args.trials} trials (median [min-max] ms)")
    for label, fcall, tcall in lines(torch, args.threads):
        cs = [Contender("fastact", fcall)] + ([Contender("torch", tcall)] if tcall else [])
        got = {c.name: [] for c in cs}
        for _ in range(args.trials):
            for name, t in race(cs).items():
                got[name].append(t * 1e3)
        cells = [f"{n} {statistics.median(ts):.3f} [{min(ts):.3f}-{max(ts):.3f}]" for n, ts in got.items()]
        print(f"  {label:42s} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
