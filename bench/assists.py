#!/usr/bin/env python
"""Speed on tiny inputs: does an element-wise kernel slow down when |x| is small?

x86 cores run an operation whose result or operand is subnormal through a microcode
assist (on the order of 100 cycles instead of 1), unless the thread flushes subnormals
to zero (FTZ/DAZ), which fastact does not: subnormal results are part of its accuracy
contract.  A formula that squares x, or multiplies it by a small correction, meets
subnormal intermediates for |x| far above the subnormal range (x^2 is subnormal for
|x| < 1.1e-19 in float32), and then runs tens of times slower on inputs whose results
are ordinary numbers.

For every element-wise activation of the benchmark (bench/_peers.py) with PyTorch beside
it where PyTorch has the function, float32 and float64, one thread, this times

- `fwd`: the forward on x = +-10^-k (alternating signs),
- `bwd x`: the backward from x at that x with grad = +-1 (PyTorch's backward takes y =
  f(x) where PyTorch computes it from y),
- `bwd g`: the backward from x with grad = +-10^-k at x = 3 N(0, 1),

for k from 0 down to the subnormal range, and reports each one's time per element
relative to its own time at k = 0.  Each k is classed by what the exact result needs:

- **normal**: the inputs are normal and every exact result is normal or exactly zero
  (the reference `fastact.reference`, at this x and at x = 1e-30, 0 both times: a true
  zero such as relu(-x), not an underflow).  Here a kernel has no reason to slow down.
- **subnormal**: a subnormal input, or an exact result below the normal range (nonzero,
  under the smallest normal).  Every library that keeps IEEE subnormals pays the
  assists here.

The pass line: no fastact row is more than 2x its own k = 0 time at any `normal` k.

    python bench/assists.py [--out bench/results/assists.md] [--n 16384]
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _peers  # noqa: E402
from _timing import make_input  # noqa: E402
import fastact  # noqa: E402
from fastact import reference  # noqa: E402

LIMIT = 2.0
KS = {"float32": [0, 5, 10, 15, 17, 18, 19, 20, 21, 22, 23, 25, 28, 30, 33, 36, 37, 38, 40, 44],
      "float64": [0, 20, 50, 77, 100, 103, 104, 150, 152, 154, 155, 156, 158, 160, 162, 200, 230,
                  270, 300, 305, 306, 307, 308, 310, 320]}


def per_elem(fn, n, rounds=5, target=2e-3):
    """Median over rounds of the time per element (ns) of fn(), each round ~target s."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(target / one))
    ts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        ts.append((time.perf_counter() - t0) / reps / n * 1e9)
    return float(np.median(ts))


def confirm(base_fn, fn, n, pairs=5):
    """A slowdown above LIMIT, measured again: the median ratio of `pairs` back-to-back
    (baseline, this k) timings, so that a pause of the machine is not taken for one."""
    return float(np.median([per_elem(fn, n, rounds=3) / per_elem(base_fn, n, rounds=3)
                            for _ in range(pairs)]))


def alternating(v, n, dtype):
    a = np.full(n, v, dtype=dtype)
    a[1::2] *= -1
    return a


def ref_fwd(entry, x):
    return np.asarray(reference.forward(entry.fa, x, **entry.kw), dtype=np.float64)


def ref_bwd(entry, g, x):
    r = reference.backward(entry.fa, g, x, **entry.kw)
    if isinstance(r, tuple):    # prelu: (dx, dalpha); dalpha sums the terms g*x, x < 0
        g64, x64 = np.broadcast_arrays(np.asarray(g, np.float64), np.asarray(x, np.float64))
        return np.concatenate([np.ravel(r[0]), (g64 * x64)[x64 < 0]])
    return np.asarray(r, dtype=np.float64)


def classify(dtype, inputs, results_at, results_at_1e30):
    """'normal' or 'subnormal' (see the module docstring)."""
    tiny = np.finfo(dtype).tiny
    for a in inputs:
        a = np.abs(a.astype(np.float64))
        if np.any((a > 0) & (a < tiny)):
            return "subnormal"
    r = np.abs(results_at)
    if np.any((r > 0) & (r < tiny)):
        return "subnormal"
    zero_now = r == 0
    if np.any(zero_now & (np.abs(results_at_1e30) > 0)):
        return "subnormal"                  # an underflow to 0, not a true zero
    return "normal"


def torch_fns(entry):
    im = entry.peers.get("torch")
    if im is None:
        return None, None
    tf = (lambda a: im.oop(_peers.torch.from_numpy(a))) if im.oop else None
    tb = (lambda g, s: im.boop(_peers.torch.from_numpy(g), _peers.torch.from_numpy(s))) if im.boop else None
    return tf, tb


def run(n, dtypes, out, funcs=None):
    warnings.simplefilter("ignore")
    _peers.set_threads(1)
    rows = []
    entries = [e for e in _peers.entries() if not e.rows and e.fa not in ("glu", "swiglu", "geglu", "linear")
               and (not funcs or e.label in funcs or e.fa in funcs)]
    for dtype in dtypes:
        dt = np.dtype(dtype)
        xs = make_input(n, dt)
        for e in entries:
            act = fastact.get(e.fa)
            fa_f = (lambda act, kw: lambda a: act.forward(a, n_threads=1, **kw))(act, dict(e.kw))
            fa_b = (lambda act, kw: lambda g, a: act.backward(g, a, n_threads=1, **kw))(act, dict(e.kw))
            tf, tb = torch_fns(e)
            if e.peers.get("torch") is not None and e.peers["torch"].dtypes is not None \
                    and dt.name not in e.peers["torch"].dtypes:
                tf = tb = None
            forms = ["fwd", "bwd x", "bwd g"]
            for form in forms:
                base = {}
                worst = {"fastact": {"normal": (1.0, None), "subnormal": (1.0, None)},
                         "torch": {"normal": (1.0, None), "subnormal": (1.0, None)}}
                for k in KS[dtype]:
                    v = dt.type(10.0 ** -k)
                    if v == 0:
                        continue
                    small = alternating(v, n, dt)
                    with np.errstate(all="ignore"):
                        if form == "fwd":
                            cls = classify(dt, [small], ref_fwd(e, small[:2]),
                                           ref_fwd(e, alternating(1e-30, 2, np.float64)))
                            fns = {"fastact": lambda a=small: fa_f(a), "torch": (lambda a=small: tf(a)) if tf else None}
                        elif form == "bwd x":
                            g1 = alternating(1.0, n, dt)
                            s = small if e.bwd_from != "y" else e.reference_forward(small)
                            cls = classify(dt, [small], ref_bwd(e, g1[:2], small[:2]),
                                           ref_bwd(e, g1[:2], alternating(1e-30, 2, np.float64)))
                            fns = {"fastact": lambda g=g1, a=small: fa_b(g, a),
                                   "torch": (lambda g=g1, a=s: tb(g, a)) if tb else None}
                        else:
                            s = xs if e.bwd_from != "y" else e.reference_forward(xs)
                            cls = classify(dt, [small], ref_bwd(e, small, xs),
                                           ref_bwd(e, alternating(1e-30, n, np.float64), xs))
                            fns = {"fastact": lambda g=small: fa_b(g, xs),
                                   "torch": (lambda g=small, a=s: tb(g, a)) if tb else None}
                        for lib, fn in fns.items():
                            if fn is None:
                                continue
                            t = per_elem(fn, n)
                            if k == 0:
                                base[lib] = (t, fn)
                                continue
                            r = t / base[lib][0]
                            if r > LIMIT:
                                r = confirm(base[lib][1], fn, n)
                            if r > worst[lib][cls][0]:
                                worst[lib][cls] = (r, k)
                base = {lib: t for lib, (t, _) in base.items()}
                rows.append((dtype, e.label, form, base, worst))
                w = worst["fastact"]
                print(f"{dtype} {e.label:18s} {form:6s} base {base['fastact']:.3f} ns/elem; worst: "
                      f"normal {_cell(w['normal'])}, subnormal {_cell(w['subnormal'])}", flush=True)
    write(rows, n, out)
    bad = [r for r in rows if r[4]["fastact"]["normal"][0] > LIMIT]
    return bad


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _cell(w):
    r, k = w
    return "-" if k is None else f"{r:.1f}x (1e-{k})"


def write(rows, n, out):
    lines = ["# Speed on tiny inputs", "",
             "Written by `python bench/assists.py` (method: its docstring). One thread, "
             f"{n:,} elements, out of place; each row's time at x = +-10^-k relative to its own "
             "time at k = 0, the worst k of each class.  *normal*: normal inputs, every exact "
             "result normal or exactly zero; *subnormal*: a subnormal input or an exact result "
             "below the normal range (x86 microcode assists, in every library that keeps "
             "subnormals).  fastact's pass line: at most "
             f"{LIMIT:g}x in the normal class.", "",
             f"- CPU: {_cpu()}; fastact {fastact.__version__}, kernel variant "
             f"{fastact._dispatch.state.variant}; "
             + ", ".join(f"{k} {v}" for k, v in _peers.versions().items()), ""]
    for dtype in sorted({r[0] for r in rows}):
        lines += [f"## {dtype}", "",
                  "| function | form | fastact ns/elem at 10^0 | fastact worst, normal | torch worst, normal "
                  "| fastact worst, subnormal | torch worst, subnormal |",
                  "|---|---|---|---|---|---|---|"]
        for dt, label, form, base, worst in rows:
            if dt != dtype:
                continue
            lines.append(f"| {label} | {form} | {base['fastact']:.3f} | {_cell(worst['fastact']['normal'])} | "
                         f"{_cell(worst['torch']['normal']) if 'torch' in base else 'n/a'} | "
                         f"{_cell(worst['fastact']['subnormal'])} | "
                         f"{_cell(worst['torch']['subnormal']) if 'torch' in base else 'n/a'} |")
        lines.append("")
    bad = [r for r in rows if r[4]["fastact"]["normal"][0] > LIMIT]
    lines.append(f"fastact rows above {LIMIT:g}x in the normal class: "
                 + (", ".join(f"{r[0]} {r[1]} {r[2]}" for r in bad) if bad else "none") + ".")
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results", "assists.md"))
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--funcs", default=None, help="comma-separated labels or fastact names (default: all)")
    a = ap.parse_args()
    bad = run(a.n, a.dtypes.split(","), a.out, a.funcs.split(",") if a.funcs else None)
    print(f"wrote {a.out}; fastact rows above {LIMIT:g}x on normal inputs: {len(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
