#!/usr/bin/env python
"""Accuracy of the float16 and bfloat16 forwards of fastact and PyTorch, beside the times of
`bench/half.py --torch`: over every one of the 65536 bit patterns of each format (the finite
ones whose result is finite), the results that differ from the float64 oracle
(fastact.reference) cast to the format, and the largest distance from it in units of the
format's last place.

    python bench/half_ulp.py [--funcs relu,sigmoid,tanh,silu,gelu]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
from fastact import reference  # noqa: E402

try:
    import ml_dtypes
except ImportError:  # pragma: no cover
    ml_dtypes = None


def ordered(h):
    """uint16 bits -> integers in the order of the values (-0 and +0 both 0)"""
    v = h.astype(np.int32)
    return np.where(v >= 0x8000, 0x8000 - v, v)


def torch_forward(name):
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu,
            "gelu": F.gelu}.get(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--funcs", default="relu,sigmoid,tanh,silu,gelu")
    args = ap.parse_args()
    fmts = [("float16", np.dtype(np.float16))]
    if ml_dtypes is not None:
        fmts.append(("bfloat16", np.dtype(ml_dtypes.bfloat16)))
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    print("| function | format | fastact: results off the oracle, max ulp | PyTorch: results off the oracle, max ulp |")
    print("|---|---|---|---|")
    for name in args.funcs.split(","):
        for label, dt in fmts:
            x = bits.view(dt)
            with np.errstate(all="ignore"):
                x64 = x.astype(np.float64)
                want = reference.forward(name, x64).astype(dt)      # the format's cast of float64
            keep = np.isfinite(x64) & np.isfinite(want.astype(np.float64))
            cells = []
            got = {"fastact": fastact.get(name).forward(x, n_threads=1)}
            tf = torch_forward(name)
            if tf is not None:
                import torch
                tdt = torch.float16 if label == "float16" else torch.bfloat16
                t = torch.from_numpy(bits.view(np.int16).copy()).view(tdt)
                got["PyTorch"] = tf(t).view(torch.int16).numpy().view(np.uint16).view(dt)
            for who in ("fastact", "PyTorch"):
                if who not in got:
                    cells.append("-")
                    continue
                g = got[who].view(np.uint16)[keep]
                w = want.view(np.uint16)[keep]
                d = np.abs(ordered(g) - ordered(w))
                cells.append(f"{int((d > 0).sum())} of {int(keep.sum())}, {int(d.max())}")
            print(f"| {name} | {label} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
