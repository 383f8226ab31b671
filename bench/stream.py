"""Non-temporal stores: element-wise forwards into a preallocated out= of 16M
elements (beyond the last-level cache), with fastact's streaming loops and with
them switched off, beside PyTorch's out= and a NumPy copy, in one run.  Median
of interleaved repeats over 5 runs (spread), ms.  Writes
bench/results/stream.md.

    python bench/stream.py
"""
import os
import statistics
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import fastact  # noqa: E402
from fastact import _front, _dispatch  # noqa: E402
from _timing import Contender, race, usable_cpus  # noqa: E402

N = 16 << 20


def main():
    try:
        import torch
    except ImportError:
        torch = None
    llc = _dispatch.LLC_BYTES
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal(N) * 4).astype(dtype)
        y = np.empty_like(x)
        y[...] = 0                                   # pages faulted once, as a reused buffer's are
        # the cheap kernels stream (the exp/tanh/erf ones are not memory-bound)
        for name, kw, tfn in (("relu6", {}, lambda t, o: torch.clamp(t, 0, 6, out=o)),
                              ("relu", {}, lambda t, o: torch.clamp(t, min=0, out=o))):
            f = getattr(fastact, name)
            for th in sorted({1, usable_cpus()}):
                fastact.set_num_threads(th)
                cs = [Contender("stream", lambda: f(x, out=y, **kw), lambda: _front.set_stream_min(llc)),
                      Contender("plain", lambda: f(x, out=y, **kw), lambda: _front.set_stream_min(0))]
                if torch is not None:
                    torch.set_num_threads(th)
                    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
                    cs.append(Contender("torch", lambda: tfn(tx, ty)))
                cs.append(Contender("np.copyto", lambda: np.copyto(y, x)))
                runs = [race(cs, budget=0.3, settle=0.01) for _ in range(5)]
                _front.set_stream_min(llc)
                med = {c.name: statistics.median(r[c.name] for r in runs) * 1e3 for c in cs}
                spread = {c.name: (min(r[c.name] for r in runs) * 1e3, max(r[c.name] for r in runs) * 1e3)
                          for c in cs}
                sp = [r["plain"] / r["stream"] for r in runs]
                rows.append((name, np.dtype(dtype).name, th, med, spread, statistics.median(sp), min(sp), max(sp)))
                print(rows[-1][:3], {k: round(v, 2) for k, v in med.items()}, flush=True)
    names = ["stream", "plain", "torch", "np.copyto"]
    out = ["# Non-temporal stores (16M elements, out= preallocated)", "",
           f"`python bench/stream.py`; last-level cache {llc >> 20} MiB (sysfs); ms, median of 5 runs of "
           "interleaved repeats (min-max). *stream*: fastact as shipped; *plain*: its streaming "
           "switched off (`_front.set_stream_min(0)`); *torch*: the same function with `out=`.", "",
           "| function | dtype | threads | " + " | ".join(n for n in names) + " | plain / stream |",
           "|---|---|---|" + "---|" * len(names) + "---|"]
    for name, dt, th, med, spread, s, lo, hi in rows:
        cells = [f"{med[n]:.2f} ({spread[n][0]:.2f}-{spread[n][1]:.2f})" if n in med else "-" for n in names]
        out.append(f"| {name} | {dt} | {th} | " + " | ".join(cells) + f" | {s:.2f}x ({lo:.2f}-{hi:.2f}) |")
    path = os.path.join(ROOT, "bench", "results", "stream.md")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
