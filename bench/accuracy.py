#!/usr/bin/env python
"""Measured accuracy: max error in ULP per activation, forward and backward,
float32 (1e6 inputs over every binade + special values) and float64 (2e5
inputs against extended precision), for every kernel variant this machine
runs.  The same sweep and limits as tests/test_accuracy.py.

    python bench/accuracy.py            # markdown table on stdout
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import numpy as np  # noqa: E402

from fastact import _dispatch  # noqa: E402
from fa_testutil import (ACCURACY_CASES, BWD_LIMIT, F32_LIMITS, F64_LIMITS, measure,  # noqa: E402
                         params_id, sweep_inputs)


def main():
    x32 = sweep_inputs(np.float32, 1_000_000)
    x64 = sweep_inputs(np.float64, 200_000, lo_exp=-1022, hi_exp=10)
    variants = _dispatch.available()
    rows = {}
    for v in variants:
        _dispatch.use(v)
        for name, p in ACCURACY_CASES:
            rows.setdefault((name, params_id(p)), []).append((
                measure(name, p, np.float32, x32), measure(name, p, np.float32, x32, True),
                measure(name, p, np.float64, x64), measure(name, p, np.float64, x64, True)))
    print(f"Max error in ULP (worst over kernel variants {', '.join(variants)}); "
          f"limits asserted by tests/test_accuracy.py in brackets.\n")
    print("| function | float32 forward | float32 backward | float64 forward | float64 backward |")
    print("|---|---|---|---|---|")
    for (name, pid), r in rows.items():
        w = np.max(np.array(r), axis=0)
        label = name if pid == "default" else f"{name}({pid})"
        print(f"| {label} | {w[0]:.2f} [{F32_LIMITS[name]}] | {w[1]:.2f} [{BWD_LIMIT}] | "
              f"{w[2]:.2f} [{F64_LIMITS[name]}] | {w[3]:.2f} [{BWD_LIMIT}] |")


if __name__ == "__main__":
    main()
