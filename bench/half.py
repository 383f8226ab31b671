#!/usr/bin/env python
"""float16 and bfloat16 against float32: the half loops (src/loops/half.h)
convert block by block inside the kernels.  Target: gelu_ on 1M (2**20)
float16 at most 1.5x the float32 time, one thread.

    python bench/half.py                  # gelu_, relu_, sigmoid_ and gelu_backward_, 1M, 1 thread
    python bench/half.py --funcs gelu --n 16e6 --trials 7

Each trial is one interleaved race (_timing.race) of every dtype on the same
values; the reported time and ratio are the medians over the trials, with the
range of the trials beside them.  "staged" is what a half array cost before:
a full-size float32 copy, the float32 kernel, a full-size rounding back.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
from fastact._arrays import _staged, _store  # noqa: E402
from _timing import Contender, make_input, race  # noqa: E402

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:     # pragma: no cover
    BF16 = None

TARGET = 1.5


def contenders(name, n, backward):
    f = fastact.get(name)
    src32 = make_input(n, np.float32)
    out = []
    dtypes = [("float32", np.dtype(np.float32)), ("float16", np.dtype(np.float16))]
    if BF16 is not None:
        dtypes.append(("bfloat16", BF16))
    for label, dt in dtypes:
        src = src32.astype(dt)
        a = src.copy()
        x = src.copy()

        def prep(a=a, src=src):
            np.copyto(a, src)
        if backward:
            call = (lambda a=a, x=x: f.backward_(a, x, n_threads=1))
        else:
            call = (lambda a=a: f.forward_(a, n_threads=1))
        out.append(Contender(label, call, prep))
    if not backward:
        a16 = src32.astype(np.float16)
        s16 = a16.copy()

        def staged(a=a16):
            t = _staged(a)
            f.forward_(t, n_threads=1)
            _store(a, t)
        out.append(Contender("float16 staged", staged, lambda a=a16, s=s16: np.copyto(a, s)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--funcs", default="gelu,relu,sigmoid,gelu_backward")
    ap.add_argument("--n", default="1048576")
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    n = int(float(args.n))
    print(f"fastact {fastact.__version__}, loops {fastact._front.table_target()}, n={n}, 1 thread, "
          f"{args.trials} trials (median [min-max] over trials)")
    worst = 0.0
    for spec in args.funcs.split(","):
        backward = spec.endswith("_backward")
        name = spec[:-len("_backward")] if backward else spec
        times = {}
        for _ in range(args.trials):
            cs = contenders(name, n, backward)
            for k, v in race(cs, budget=0.15, min_reps=9).items():
                times.setdefault(k, []).append(v)
        base = np.array(times["float32"])
        print(f"\n{name}{'_backward' if backward else ''}_:")
        for k, ts in times.items():
            ts = np.array(ts)
            r = ts / base
            print(f"  {k:>15}: {np.median(ts) * 1e3:7.3f} ms [{ts.min() * 1e3:.3f}-{ts.max() * 1e3:.3f}]"
                  f"   x{np.median(r):.2f} of float32 [{r.min():.2f}-{r.max():.2f}]")
            if name == "gelu" and not backward and k == "float16":
                worst = np.median(r)
    if "gelu" in args.funcs.split(","):
        print(f"\ntarget: gelu_ float16 <= {TARGET}x float32: {'PASS' if worst <= TARGET else 'FAIL'} "
              f"(x{worst:.2f})")
        return 0 if worst <= TARGET else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
