#!/usr/bin/env python3
"""Compare a float32 sweep of ./ulp (f32_out.md) with the limits the package's
tests assert: the forward limit of each row of fastact/_table.py (float32) and
8 ULP for the backward from x (tests/fa_testutil.py BWD_ULP).  The backward
from y has no ULP limit (it loses relative accuracy where y saturates); its
rows are listed as such.  Any bad special value fails a row.

    python bench/ulp/check_limits.py [bench/ulp/f32_out.md]   # needs NumPy

Prints a Markdown table and exits 1 if a row exceeds its limit."""
import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BWD_LIMIT = 8.0
# harness kernel name -> fastact activation
ROW = {"celu_neg": "celu", "gelu_erf": "gelu", "gelu_tanh": "gelu"}


def table():
    spec = importlib.util.spec_from_file_location("fa_table", os.path.join(ROOT, "fastact", "_table.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)      # stdlib + NumPy only: no compiled module
    return mod.BY_NAME


def main(path):
    by_name = table()
    text = open(path).read()
    head = text.splitlines()[0] if text else ""
    rows, failed = [], 0
    for line in text.splitlines():
        m = re.match(r"\| ((\w+) (fwd|bwdy|bwd)[^|]*?) \| ([^|]+) \|[^|]*\| ([^|]+) \|[^|]*\| ([^|]+) \|[^|]*\|[^|]*\| (\d+)/(\d+)/(\d+) \|", line)
        if not m:
            continue
        label, kern, kind = m.group(1).strip(), m.group(2), m.group(3)
        cols = [m.group(i).strip() for i in (4, 5, 6)]
        errs = [float(c) for c in cols if not c.startswith("n/a")]
        bad = sum(int(m.group(i)) for i in (7, 8, 9))
        worst = max(errs)
        if kind == "bwdy":
            limit, ok = "none (from y)", bad == 0
        else:
            lim = by_name[ROW.get(kern, kern)].ulp[0] if kind == "fwd" else BWD_LIMIT
            limit, ok = f"{lim:g}", worst <= lim and bad == 0
        failed += not ok
        rows.append(f"| {label} | {' / '.join(cols)} | {limit} | {bad} | {'yes' if ok else 'NO'} |")
    print(f"## float32 limits: {os.path.basename(path)} ({head.lstrip('# ').strip()})")
    print()
    print("Max ULP of the baseline / AVX2+FMA / AVX-512 builds against the limit the package's tests")
    print("assert (forward: the row's float32 limit in fastact/_table.py; backward from x: 8).")
    print()
    print("| kernel | max ULP (base / v3 / v4) | limit | bad specials | within |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(f"{len(rows) - failed} of {len(rows)} rows within their limits.")
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "f32_out.md")))
