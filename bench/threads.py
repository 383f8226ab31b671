#!/usr/bin/env python
"""Calibrate the single-thread cutoff (fastact._table.GRAIN): time each kernel
on 1 and 2 threads with the cutoff disabled, over sizes, and print where two
threads start to win.  Medians of interleaved repeats, float32, out of place
into a preallocated array (in cache for the small sizes).

    python bench/threads.py
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fastact import _dispatch  # noqa: E402

K = _dispatch.state.kernels
IDS = K.kernel_ids()


def t(k, a, nt, reps):
    ts = []
    out = np.empty_like(a)      # out of place: the input never drifts into subnormals
    for _ in range(reps):
        t0 = time.perf_counter()
        K.elementwise(k, 0, a, None, out, 0.0, 0.0, 0.0, 0.0, nt, 1)   # grain 1: always split
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    print("| kernel | elements | 1 thread us | 2 threads us | 1t/2t |")
    print("|---|---|---|---|---|")
    for name in ("relu0", "sigmoid", "gelu_erf"):
        for n in (2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144):
            a = np.random.default_rng(0).standard_normal(n).astype(np.float32)
            reps = max(50, 2_000_000 // n)
            r1, r2 = [], []
            for _ in range(5):
                r1.append(t(IDS[name], a, 1, reps // 5))
                r2.append(t(IDS[name], a, 2, reps // 5))
            m1, m2 = np.median(r1) * 1e6, np.median(r2) * 1e6
            print(f"| {name} | {n} | {m1:.2f} | {m2:.2f} | {m1 / m2:.2f} |")


if __name__ == "__main__":
    main()
