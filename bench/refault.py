"""Fresh 16M outputs after an idle pause: why out-of-place 16M cells of the
grid (bench/run.py) sometimes take four times their usual time on a VM.

An out-of-place call allocates its result.  At 64 MB NumPy's allocator asks
Linux for huge pages, and fastact's results are NumPy's; PyTorch's allocator
takes 4 KiB pages.  A guest whose balloon device reports free pages to the
host (virtio-balloon free page reporting, blocks of 2^order pages, a couple
of seconds after they are freed) gets those blocks back unbacked, and the
next first touch of them faults on the host as well.  This script times one
call right after the previous call freed its result, and one after a pause
longer than the reporting delay, interleaved.  ms, median (min-max) of
`--repeats` pairs.  Writes bench/results/refault.md.

    python bench/refault.py
"""
import argparse
import glob
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import fastact  # noqa: E402
from _timing import usable_cpus  # noqa: E402

N = 16_000_000


def balloon_reporting():
    """'yes'/'no' for a virtio balloon with free page reporting (feature bit 5), or 'no balloon'."""
    for dev in glob.glob("/sys/bus/virtio/devices/*"):
        try:
            with open(os.path.join(dev, "device")) as f:
                if int(f.read(), 16) != 5:
                    continue
            with open(os.path.join(dev, "features")) as f:
                bits = f.read().strip()
        except OSError:
            continue
        return "yes" if len(bits) > 5 and bits[5] == "1" else "no"
    return "no balloon"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def timed(f):
    t = time.perf_counter()
    y = f()
    dt = time.perf_counter() - t
    del y
    return dt * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--pause", type=float, default=4.0, help="idle seconds before the second call")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "refault.md"))
    args = ap.parse_args()
    th = usable_cpus()
    fastact.set_num_threads(th)
    x = (np.random.default_rng(0).standard_normal(N) * 3).astype(np.float32)
    cs = [("fastact.relu(x)", lambda: fastact.relu(x)), ("x.copy()", lambda: x.copy())]
    try:
        import torch
        torch.set_num_threads(th)
        tx = torch.from_numpy(x)
        cs.append(("torch.relu(t)", lambda: torch.relu(tx)))
    except ImportError:
        pass
    res = {name: ([], []) for name, _ in cs}
    for _ in range(args.repeats):
        for name, f in cs:
            f()                                     # frees a fresh result: the next call reuses its pages
            res[name][0].append(timed(f))
            time.sleep(args.pause)
            res[name][1].append(timed(f))
            print(name, round(res[name][0][-1], 1), round(res[name][1][-1], 1), flush=True)

    def cell(v):
        return f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
    lines = ["# Fresh 16M outputs after an idle pause", "",
             "`python bench/refault.py` (method: its docstring). 16M float32, "
             f"{th} thread(s), ms per call, median (min-max) of {args.repeats} pairs.", "",
             f"- virtio balloon free page reporting: {balloon_reporting()}; "
             f"reporting order: {read('/sys/module/page_reporting/parameters/page_reporting_order')}",
             f"- transparent huge pages: {read('/sys/kernel/mm/transparent_hugepage/enabled')}", "",
             f"| call | right after a call | after {args.pause:g} s idle |", "|---|---|---|"]
    lines += [f"| `{name}` | {cell(a)} | {cell(b)} |" for name, (a, b) in res.items()]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
