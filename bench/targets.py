#!/usr/bin/env python
"""The project's speed targets, each checked as a ratio measured in this run.

    python bench/targets.py            # prints PASS/FAIL, updates bench/results/results.md
    python bench/targets.py --no-write
    python bench/targets.py --avx2     # AVX-512 off everywhere (section of its own)

Unless a row says otherwise: one thread, float32, 1M (2**20) elements, in place.
Every ratio is measured in TRIALS independent interleaved races (see
_timing.race); the reported ratio is the median over the trials, with the
range of the trials beside it.  A fastact function that does not exist
(yet) is skipped with a note.
"""
import argparse
import os
import sys
import time

# --avx2: the same targets with AVX-512 switched off in every library, as on
# the AVX2-only machines the targets were set for.  The switches are read at
# import time, so the script re-executes itself with them set.
AVX2_ENV = {"FASTACT_CPU": "x86_64_v3", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
AVX2 = "--avx2" in sys.argv[1:]
if AVX2 and os.environ.get("FASTACT_BENCH_AVX2") != "1":
    os.environ.update(AVX2_ENV, FASTACT_BENCH_AVX2="1")
    os.execv(sys.executable, [sys.executable] + sys.argv)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

import fastact  # noqa: E402
import _peers  # noqa: E402
from _timing import Contender, make_input, race, usable_cpus  # noqa: E402

torch = _peers.torch
F = _peers.F
N = 1 << 20
N_BIG = 16_000_000
TRIALS = 3
TAG = "targets-avx2" if AVX2 else "targets"
BEGIN, END = f"<!-- {TAG}:begin -->", f"<!-- {TAG}:end -->"


def _fa(name, **kw):
    """fastact.NAME_ with kw, or None when it does not exist."""
    try:
        f = fastact.get(name)
    except ValueError:
        return None
    return lambda a, nt=1: f.forward_(a, n_threads=nt, **kw)


def inplace_race(fns, n, dtype=np.float32, nt=1, trials=TRIALS, budget=0.1, min_reps=9):
    """fns: {name: (callable(arr_or_tensor), wants_torch)} -> {name: [median per trial]}."""
    src = make_input(n, dtype)
    work = np.empty_like(src)
    tw = torch.from_numpy(work) if torch is not None else None
    out = {k: [] for k in fns}
    for _ in range(trials):
        cs = [Contender(k, (lambda f=f, a=(tw if wt else work): f(a)), lambda: np.copyto(work, src))
              for k, (f, wt) in fns.items()]
        with np.errstate(all="ignore"):
            r = race(cs, budget=budget, min_reps=min_reps, max_reps=200,
                     rounds=2 if nt > 1 or n >= N_BIG else 4, settle=0.005 if nt > 1 else 0.0)
        for k, v in r.items():
            out[k].append(v)
    return out


def ratio(num, den):
    """Per-trial ratios num/den -> (median, lo, hi)."""
    rs = sorted(a / b for a, b in zip(num, den))
    return float(np.median(rs)), rs[0], rs[-1]


class Report:
    def __init__(self):
        self.rows = []

    def add(self, target, measured, need, ok, note=""):
        m = f"{measured[0]:.2f}x (trials {measured[1]:.2f}-{measured[2]:.2f})" if measured else "-"
        status = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        self.rows.append((target, m, need, status, note))
        print(f"{status:<5} {target:<58} {m:<28} need {need} {note}", flush=True)


def np_expr(label):
    """The NumPy user's in-place expression for the 1M targets."""
    return {
        "sigmoid": _peers.np_sigmoid_ip,
        "tanh": lambda a: np.tanh(a, out=a),
        "softplus": _peers.np_softplus_ip,
        "elu": _peers.np_elu_ip,
        "silu": _peers.np_silu_ip,
        "gelu(tanh)": _peers.np_gelu_tanh_ip,
        # NumPy has no erf: NumPy + scipy.special.erf
        "gelu(erf)": (lambda a: np.copyto(a, 0.5 * a * (1 + _peers.sps.erf(a * _peers.SQRT1_2))))
        if _peers.sps is not None else None,
    }[label]


def torch_inplace(label):
    if torch is None:
        return None
    return {
        "sigmoid": torch.sigmoid_,
        "tanh": torch.tanh_,
        "softplus": lambda t: torch._C._nn.softplus(t, 1.0, 20.0, out=t),
        "elu": lambda t: F.elu_(t),
        "silu": lambda t: F.silu(t, inplace=True),
        "gelu(tanh)": lambda t: torch._C._nn.gelu(t, approximate="tanh", out=t),
        "gelu(erf)": lambda t: torch._C._nn.gelu(t, approximate="none", out=t),
    }[label]


FA_OF = {"sigmoid": ("sigmoid", {}), "tanh": ("tanh", {}), "softplus": ("softplus", {}),
         "elu": ("elu", {}), "silu": ("silu", {}), "gelu(tanh)": ("gelu", {"approximate": "tanh"}),
         "gelu(erf)": ("gelu", {"approximate": "none"})}
VS_TORCH = {"sigmoid": 1.5, "tanh": 4.0, "softplus": 2.0, "elu": 3.0, "silu": 1.5,
            "gelu(tanh)": 1.5, "gelu(erf)": 1.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--avx2", action="store_true",
                    help="AVX-512 off in fastact, PyTorch (ATen and oneDNN) and NumPy")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "results.md"))
    args = ap.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(1)
    if _peers.ne is not None:
        _peers.ne.set_num_threads(1)
    rep = Report()
    load0 = open("/proc/loadavg").read().split()[:4]
    t0 = time.perf_counter()
    allc = usable_cpus()

    # ---- 1. one thread, float32, 1M, in place: vs torch and vs NumPy
    for label, need_t in VS_TORCH.items():
        name, kw = FA_OF[label]
        fa = _fa(name, **kw)
        if fa is None:
            rep.add(f"{label} vs torch", None, f">= {need_t}x", None, "fastact function missing")
            continue
        fns = {"fastact": (fa, False)}
        if torch is not None:
            fns["torch"] = (torch_inplace(label), True)
        npf = np_expr(label)
        if npf is not None:
            fns["numpy"] = (npf, False)
        r = inplace_race(fns, N)
        if "torch" in r:
            m = ratio(r["torch"], r["fastact"])
            rep.add(f"{label}: torch time / fastact time (1t f32 1M)", m, f">= {need_t}x", m[0] >= need_t,
                    f"fastact {np.median(r['fastact']) * 1e3:.3f} ms, torch {np.median(r['torch']) * 1e3:.3f} ms")
        else:
            rep.add(f"{label} vs torch", None, f">= {need_t}x", None, "torch not installed")
        if "numpy" in r:
            m = ratio(r["numpy"], r["fastact"])
            rep.add(f"{label}: NumPy expression time / fastact time", m, ">= 5x", m[0] >= 5.0,
                    f"numpy {np.median(r['numpy']) * 1e3:.3f} ms"
                    + (" (NumPy + scipy.special.erf)" if label == "gelu(erf)" else ""))

    # ---- 2. relu_(max=6) on 16M in place, all threads: vs torch and the streaming roofline
    _peers.set_threads(allc)
    fa = _fa("relu", max=6.0)
    # the streaming reference is a true in-place read-modify-write (x *= 1); fastact's
    # linear_ is no reference: in place it is the identity and does nothing
    fns = {"fastact relu_(max=6)": (lambda a: fa(a, allc), False),
           "np.multiply(x,1,out=x)": (lambda a: np.multiply(a, 1.0, out=a), False)}
    if torch is not None:
        fns.update({"torch.clamp_(0,6)": (lambda t: torch.clamp_(t, 0, 6), True),
                    "torch.relu_": (torch.relu_, True),
                    "torch mul_(1)": (lambda t: t.mul_(1.0), True)})
    r = inplace_race(fns, N_BIG, nt=allc, budget=0.3, min_reps=6)
    fr = r["fastact relu_(max=6)"]
    ms = {k: np.median(v) * 1e3 for k, v in r.items()}
    detail = ", ".join(f"{k} {v:.2f} ms" for k, v in ms.items())
    print("   16M in place, all threads:", detail)
    if torch is not None:
        best_torch = [min(a, b) for a, b in zip(r["torch.clamp_(0,6)"], r["torch.relu_"])]
        m = ratio(best_torch, fr)
        rep.add(f"relu_(max=6) 16M {allc}t: best(torch clamp_/relu_) time / fastact", m,
                ">= 0.91x (within 10%)", m[0] >= 1 / 1.1)
        stream = [min(a, b) for a, b in zip(r["torch mul_(1)"], r["np.multiply(x,1,out=x)"])]
    else:
        stream = r["np.multiply(x,1,out=x)"]
    m = ratio(stream, fr)
    rep.add(f"relu_(max=6) 16M {allc}t: streaming kernel time / fastact", m, ">= 0.91x (within 10%)",
            m[0] >= 1 / 1.1, "stream = best of torch mul_(1), np.multiply(x,1,out=x) (1 thread)")

    # ---- 3. thread scaling on 16M float32
    for label, name, kw in (("sigmoid", "sigmoid", {}), ("gelu(erf)", "gelu", {}),
                            ("gelu(tanh)", "gelu", {"approximate": "tanh"}), ("tanh", "tanh", {})):
        fa = _fa(name, **kw)
        if fa is None:
            rep.add(f"{label} 16M scaling", None, ">= 1.8x", None, "fastact function missing")
            continue
        if allc < 2:
            rep.add(f"{label} 16M scaling", None, ">= 1.8x", None, "only one usable CPU")
            continue
        fns = {"1t": (lambda a, f=fa: f(a, 1), False), "2t": (lambda a, f=fa: f(a, 2), False)}
        r = inplace_race(fns, N_BIG, nt=2, budget=0.3, min_reps=4)
        m = ratio(r["1t"], r["2t"])
        rep.add(f"{label} 16M f32: 2-thread / 1-thread throughput", m, ">= 1.8x", m[0] >= 1.8,
                f"1t {np.median(r['1t']) * 1e3:.1f} ms, 2t {np.median(r['2t']) * 1e3:.1f} ms")

    # ---- 3b. fused bias + activation vs the two-pass equivalent, 16M, all threads
    C = 1000
    bias = make_input(C, np.float32)
    for label, act, kw in (("relu", "relu", {}), ("gelu(tanh)", "gelu", {"approximate": "tanh"})):
        two = fastact.get(act).forward_
        fns = {"fused": (lambda a, kw=kw, act=act: fastact.bias_act_(a.reshape(-1, C), bias, act,
                                                                     n_threads=allc, **kw), False),
               "two-pass": (lambda a, kw=kw, two=two: two(np.add(a.reshape(-1, C), bias,
                                                                 out=a.reshape(-1, C)),
                                                          n_threads=allc, **kw), False)}
        r = inplace_race(fns, N_BIG, nt=allc, budget=0.3, min_reps=4)
        m = ratio(r["two-pass"], r["fused"])
        rep.add(f"bias_act_({label}) 16M {allc}t: two-pass (x += b; act_) time / fused", m, ">= 1.3x",
                m[0] >= 1.3, f"fused {np.median(r['fused']) * 1e3:.2f} ms, two-pass "
                             f"{np.median(r['two-pass']) * 1e3:.2f} ms")

    # ---- 4. call overhead: 16 elements
    x = make_input(16, np.float32)
    reps = 2000

    def loop(f):
        def run():
            for _ in range(reps):
                f(x)
        return run

    cs = [Contender("fastact.relu_", loop(fastact.relu_)),
          Contender("np.maximum", loop(lambda a: np.maximum(a, 0, out=a)))]
    if torch is not None:
        tx = torch.from_numpy(x)
        cs.append(Contender("torch.relu_", (lambda: [torch.relu_(tx) for _ in range(reps)])))
    ts = {c.name: [] for c in cs}
    for _ in range(TRIALS):
        r = race(cs, budget=0.05, min_reps=8, max_reps=100, rounds=4)
        for k, v in r.items():
            ts[k].append(v / reps)
    m = ratio(ts["fastact.relu_"], ts["np.maximum"])
    note = ", ".join(f"{k} {np.median(v) * 1e9:.0f} ns/call" for k, v in ts.items())
    rep.add("overhead: relu_(16 f32) time / np.maximum(x,0,out=x) time", m, "<= 0.6x", m[0] <= 0.6, note)

    elapsed = time.perf_counter() - t0
    load1 = open("/proc/loadavg").read().split()[:4]
    print(f"elapsed {elapsed:.0f} s; load average before {load0}, after {load1}")
    if not args.no_write:
        write(args.out, rep, elapsed, load0, load1)
    return 0


def write(path, rep, elapsed, load0, load1):
    lines = [BEGIN, "",
             f"`python bench/targets.py{' --avx2' if AVX2 else ''}` (single thread, float32, 1M = 2^20 elements, in place unless said "
             f"otherwise; each ratio is the median of {TRIALS} interleaved trials, range in parentheses; "
             f"{elapsed:.0f} s; load average before {' '.join(load0[:3])}, after {' '.join(load1[:3])}).", "",
             "| target | measured | need | result | note |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | **{d}** | {e} |" for a, b, c, d, e in rep.rows]
    lines += ["", END]
    block = "\n".join(lines)
    try:
        with open(path) as f:
            txt = f.read()
    except OSError:
        txt = "# fastact benchmark results\n"
    i, j = txt.find(BEGIN), txt.find(END)
    if i >= 0 and j > i:
        txt = txt[:i] + block + txt[j + len(END):]
    else:
        marker = "## Summary"
        k = txt.find(marker)
        title = ("## Speed targets with AVX-512 off in every library (`--avx2`: "
                 + ", ".join(f"{k}={v}" for k, v in AVX2_ENV.items()) + ")") if AVX2 else "## Speed targets"
        sec = title + "\n\n" + block + "\n\n"
        txt = txt[:k] + sec + txt[k:] if k >= 0 else txt + "\n" + sec
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(txt)
    print(f"updated {path}")


if __name__ == "__main__":
    sys.exit(main())
