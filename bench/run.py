#!/usr/bin/env python
"""fastact speed benchmark against NumPy, SciPy, numexpr, PyTorch, JAX and ONNX Runtime (CPU).

    python bench/run.py                      # full grid, ~5 min on 2 cores
    python bench/run.py --quick              # a smaller grid, ~1 min
    python bench/run.py --funcs relu,sigmoid --sizes 1e6,1.6e7 --threads 1 --dtypes float32
    python bench/run.py --targets            # only the project's speed targets (bench/targets.py)

Every cell (function x size x dtype x threads x mode) times fastact and each
installed peer on the same data, interleaved, median of adaptive repeats.
Writes bench/results/results.md (machine, roofline, tables) and bench/results/throughput.png.

Byte convention for GB/s: in place counts read + write = 2 x itemsize per element
(8 B for float32); out of place counts read + write-allocate + write = 3 x itemsize
(12 B for float32); backward in place reads grad and x|y and writes grad (3 x),
out of place 4 x.  Modes: `inplace`; `out`, `y = f(x)` returning a fresh array in every
library (allocation and first-touch page faults included, as a user pays them); `into`
(forward only), the result written into an output allocated and touched once: fastact's
`out=`, PyTorch's `out=` where its function has one, and ONNX Runtime, which writes into an
output bound once through IOBinding (bench/_peers.py).
"""
import argparse
import os
import platform
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")     # every generated benchmark file
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))   # the in-place build of fastact

import numpy as np  # noqa: E402

import fastact  # noqa: E402
import _peers  # noqa: E402
from _timing import Contender, make_input, race, usable_cpus  # noqa: E402

DEFAULT_SIZES = [1_000, 10_000, 100_000, 1_000_000, 16_000_000]
PLOT_FUNCS = ["relu", "sigmoid", "tanh", "gelu(tanh)", "silu", "softmax(rows 1000)"]
MODES = ["inplace", "out", "into"]     # into: forward only, into a preallocated output
ROOF_N = 16_000_000
TARGETS_BEGIN, TARGETS_END = "<!-- targets:begin -->", "<!-- targets:end -->"


def parse_size(s):
    return int(float(s))


def bytes_per_elem(direction, mode, itemsize):
    k = {("fwd", "inplace"): 2, ("fwd", "out"): 3, ("fwd", "into"): 3, ("bwd", "inplace"): 3, ("bwd", "out"): 4}
    return k[(direction, mode)] * itemsize


def budget_for(n):
    """(seconds per contender per cell, min repeats)."""
    if n >= 8_000_000:
        return 0.0, 9
    if n >= 1_000_000:
        return 0.03, 5
    return 0.01, 5


def race_opts(nt, n):
    """Interleaving: 4 rounds on one thread, each block after 2 ms of untimed
    calls: right after another library's block this CPU ran fastact's 64K
    in-place calls about 1.3x slower for the first millisecond or so (relu6
    6.8 against 5.1 us; its block that followed its own block ran at 5.1),
    so without the lead a contender's median depended on its place in the
    round order.  With several threads 2 rounds with a settle pause before
    each block (see _timing.race).  Large arrays: no pause (on this VM any
    idle pause slows the next few 16M passes 1.5-4x, a cost of the pause, not
    of the contender) but 40 ms and at least two untimed calls before each
    block, which also outlast the other runtime's spinning workers; then 3
    timed calls per block."""
    if n >= 8_000_000:
        return {"rounds": 3, "settle": 0.0, "lead": 0.04}
    return {"rounds": 2, "settle": 0.005} if nt > 1 else {"rounds": 4, "settle": 0.0, "lead": 0.002}


# ------------------------------------------------------------------ one cell

def _shape(entry, n):
    if entry.rows:
        L = min(_peers.SOFTMAX_ROW, n)
        return (n // L, L)
    return (n,)


def _torch(a):
    return _peers.torch.from_numpy(a)


def _jax(a):
    """A JAX device array of a (copied once, outside the timing)."""
    return _peers.jnp.asarray(a)


def run_cell(entry, n, dtype, nt, direction, mode, libs, cache):
    """{lib: median seconds} for one cell (libs already filtered)."""
    shape = _shape(entry, n)
    src = make_input(int(np.prod(shape)), dtype).reshape(shape)
    fa = entry.fastact_impl(nt)
    impls = {"fastact": fa}
    impls.update(entry.peers)
    key = (entry.label, n, np.dtype(dtype).name, direction, mode)
    out = {}
    contenders = []
    if direction == "fwd":
        work = np.empty_like(src)
        refill = (lambda: np.copyto(work, src)) if mode == "inplace" else None
        if mode == "into":      # the output, allocated and touched once, outside the timing
            dst = np.array(fa.oop(src))
        for lib in libs:
            im = impls.get(lib)
            fn = getattr(im, {"inplace": "ip", "out": "oop", "into": "into"}[mode], None) if im else None
            if fn is None or (im.dtypes is not None and np.dtype(dtype).name not in im.dtypes):
                continue
            if lib in _peers.SINGLE_THREADED and nt != 1 and (key, lib) in cache:
                out[lib] = cache[(key, lib)]
                continue
            if lib == "jax" and nt != _peers.JAX_THREADS:
                continue
            arg = work if mode == "inplace" else src
            if mode == "into":
                a, o = (_torch(src), _torch(dst)) if lib == "torch" else (src, dst)
                contenders.append(Contender(lib, (lambda f=fn, a=a, o=o: f(a, o)), None))
                continue
            if lib == "torch":
                arg = _torch(arg)
            elif lib == "jax":
                arg = _jax(arg)
            contenders.append(Contender(lib, (lambda f=fn, a=arg: f(a)), refill))
    else:
        s = src if entry.bwd_from == "x" else entry.reference_forward(src)
        gsrc = make_input(src.size, dtype, seed=1, scale=1.0).reshape(shape)
        gwork = np.empty_like(gsrc)
        refill = (lambda: np.copyto(gwork, gsrc)) if mode == "inplace" else None
        for lib in libs:
            im = impls.get(lib)
            fn = getattr(im, {"inplace": "bip", "out": "boop"}.get(mode, ""), None) if im else None
            if fn is None or (im.dtypes is not None and np.dtype(dtype).name not in im.dtypes):
                continue
            if lib in _peers.SINGLE_THREADED and nt != 1 and (key, lib) in cache:
                out[lib] = cache[(key, lib)]
                continue
            if lib == "jax" and nt != _peers.JAX_THREADS:
                continue
            g = gwork if mode == "inplace" else gsrc
            ss = s
            if lib == "torch":
                g, ss = _torch(g), _torch(s)
            elif lib == "jax":     # no backward from y in JAX: the VJP at x
                g, ss = _jax(g), _jax(src)
            contenders.append(Contender(lib, (lambda f=fn, a=g, b=ss: f(a, b)), refill))
    budget, min_reps = budget_for(n)
    with np.errstate(all="ignore"):
        res = race(contenders, budget=budget, min_reps=min_reps, **race_opts(nt, n))
    for lib, t in res.items():
        out[lib] = t
        if lib in _peers.SINGLE_THREADED and nt == 1:
            cache[(key, lib)] = t
    return out


# ------------------------------------------------------------------ roofline

def roofline(thread_list, n=ROOF_N):
    """Streaming kernels on n float32: {(kind, nt): (name, seconds, GB/s)}.
    kind 'inplace' (8 B/elem), 'out' (12 B/elem: an allocating copy) or 'into' (12 B/elem:
    a copy into a preallocated array)."""
    torch = _peers.torch
    x = make_input(n, np.float32)
    w = np.empty_like(x)
    dst = np.empty_like(x)
    res = {}
    rows = []
    for nt in thread_list:
        _peers.set_threads(nt)
        # (fastact.linear_ is no streaming kernel: in place it is the identity, a no-op)
        # In place on an input refilled (untimed) before every call, as the in-place cells
        # are timed: the refill leaves the array in the calling core's caches, and with two
        # threads the other one pulls its half from there.  The bound of a cell is a
        # streaming pass under the same conditions.
        refill = lambda: np.copyto(w, x)  # noqa: E731
        cs = [Contender("fastact.relu_", lambda: fastact.relu_(w, n_threads=nt), refill),
              Contender("np.copyto (prealloc)", lambda: np.copyto(dst, x)),
              Contender("x.copy() (allocating)", lambda: x.copy()),
              Contender("np.multiply(x,1,out=x)", lambda: np.multiply(w, 1.0, out=w), refill)]
        if torch is not None:
            tw, tx, td = torch.from_numpy(w), torch.from_numpy(x), torch.from_numpy(dst)
            cs += [Contender("torch mul_(1)", lambda: tw.mul_(1.0), refill),
                   Contender("torch relu_", lambda: torch.relu_(tw), refill),
                   Contender("torch copy_ (prealloc)", lambda: td.copy_(tx)),
                   Contender("torch clone (allocating)", lambda: tx.clone())]
        np.copyto(w, x)
        t = race(cs, budget=0.15, min_reps=7, max_reps=40, **race_opts(nt, n))
        for name, sec in t.items():
            kind = ("into" if "prealloc" in name else "out") if ("copy" in name or "clone" in name) else "inplace"
            bpe = 8 if kind == "inplace" else 12
            rows.append((name, nt, kind, sec, n * bpe / sec / 1e9))
        # the roofline per kind = the best of the plain streaming kernels
        for kind in ("inplace", "out", "into"):
            cand = [(r[4], r[0]) for r in rows if r[1] == nt and r[2] == kind
                    and not r[0].endswith("relu_")]
            gbs, name = max(cand)
            res[(kind, nt)] = (name, gbs)
    return res, rows


# ------------------------------------------------------------------ output

def fmt_t(sec):
    if sec is None:
        return "-"
    us = sec * 1e6
    if us < 10:
        return f"{us:.2f}"
    if us < 1000:
        return f"{us:.1f}"
    return f"{us:,.0f}"


def fmt_n(n):
    if n >= 1_000_000:
        return f"{n / 1e6:g}M"
    if n >= 1000:
        return f"{n / 1e3:g}k"
    return str(n)


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        m = re.search(r"model name\s*:\s*(.*)", txt)
        cpu = m.group(1).strip() if m else cpu
        flags = re.search(r"flags\s*:\s*(.*)", txt)
        simd = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_fp16") if flags and f in flags.group(1).split()]
        cpu += f" ({', '.join(simd)})"
    except OSError:
        pass
    import io
    buf = io.StringIO()
    fastact.show_config(file=buf)
    info = {"cpu": cpu, "cores (usable)": f"{os.cpu_count()} ({usable_cpus()})",
            "python": platform.python_version(), "platform": platform.platform()}
    info.update(_peers.versions())
    for k in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        if os.environ.get(k):
            info[k] = os.environ[k]
    return info, buf.getvalue()


def _peer_ulp():
    """{label: {dir: {lib: [max ULP, specials]}}} of bench/peer_ulp.py, if it was run."""
    import json
    path = os.path.join(RESULTS, "peer_ulp.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _cell(t, u):
    """A time, with the contender's max ULP on the same sweep (bench/peer_ulp.py) beside it."""
    if u is None or t is None:
        return fmt_t(t)
    return f"{fmt_t(t)} ({u[0]:.3g}{'+' if u[1] else ''})"


def table_lines(results, libs, roof):
    ulps = _peer_ulp()
    hdr = ("| function | n | dtype | thr | dir | mode | " + " | ".join(f"{l} µs (ULP)" for l in libs)
           + " | fastact GB/s | % of stream | best peer | fastact speed-up |")
    sep = "|" + "---|" * (6 + len(libs) + 4)
    lines = [hdr, sep]
    for r in results:
        times = r["times"]
        fa = times.get("fastact")
        peers = {l: t for l, t in times.items() if l != "fastact"}
        best = min(peers.items(), key=lambda kv: kv[1]) if peers else None
        gbs = r["n"] * r["bpe"] / fa / 1e9 if fa else None
        frac = ""
        if gbs and r["n"] >= ROOF_N and roof and r["dir"] == "fwd":
            ref = roof.get((r["mode"], r["thr"]))
            if ref:
                frac = f"{100 * gbs / ref[1]:.0f}%"
        cells = [r["func"], fmt_n(r["n"]), r["dtype"].replace("float", "f"), str(r["thr"]), r["dir"], r["mode"]]
        u = ulps.get(r["func"], {}).get(r["dir"], {}) if r["dtype"] == "float32" else {}
        cells += [_cell(times.get(l), u.get(l)) for l in libs]
        cells += [f"{gbs:.1f}" if gbs else "-", frac,
                  best[0] if best else "-",
                  f"{best[1] / fa:.2f}x" if (best and fa) else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_plot(results, libs, path, threads):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return False
    funcs = [f for f in PLOT_FUNCS if any(r["func"] == f for r in results)]
    if not funcs:
        return False
    ncol = 3
    nrow = (len(funcs) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.8 * nrow), squeeze=False)
    colors = {"fastact": "C3", "numpy": "C0", "scipy": "C2", "numexpr": "C4", "torch": "C1", "jax": "C5",
              "onnxruntime": "C6"}
    for ax, f in zip(axes.flat, funcs):
        for lib in libs:
            for nt, ls in zip(sorted(threads), ("-", "--", ":")):
                pts = sorted((r["n"], r["n"] / r["times"][lib]) for r in results
                             if r["func"] == f and r["dtype"] == "float32" and r["mode"] == "inplace"
                             and r["dir"] == "fwd" and r["thr"] == nt and lib in r["times"])
                if lib in _peers.SINGLE_THREADED and nt != 1:
                    continue
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, marker="o", ms=3,
                            color=colors.get(lib), label=f"{lib} {nt}t")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{f} (float32, in place)")
        ax.set_xlabel("elements")
        ax.set_ylabel("elements / s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(funcs):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def preserved_targets(path):
    try:
        with open(path) as f:
            txt = f.read()
    except OSError:
        return None
    i, j = txt.find(TARGETS_BEGIN), txt.find(TARGETS_END)
    if i >= 0 and j > i:
        return txt[i:j + len(TARGETS_END)]
    return None


# ------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--funcs", help="comma-separated labels or fastact names (default: all)")
    ap.add_argument("--sizes", help="comma-separated element counts, e.g. 1e3,1e6,1.6e7")
    ap.add_argument("--threads", help="comma-separated thread counts; 'all' = usable CPUs (default: 1,all)")
    ap.add_argument("--dtypes", help="float32,float64 (default both)")
    ap.add_argument("--modes", help="inplace,out,into (default all three)")
    ap.add_argument("--big-all", action="store_true",
                    help="also out-of-place and backward rows at sizes >= 8M (slow: page faults)")
    ap.add_argument("--no-backward", action="store_true", help="skip the backward rows")
    ap.add_argument("--libs", help="restrict peers, e.g. numpy,torch")
    ap.add_argument("--quick", action="store_true", help="sizes 1e4,1e6; float32; key functions")
    ap.add_argument("--targets", action="store_true", help="run bench/targets.py instead")
    ap.add_argument("--out", default=os.path.join(RESULTS, "results.md"))
    ap.add_argument("--plot", default=os.path.join(RESULTS, "throughput.png"))
    args = ap.parse_args(argv)

    if args.targets:
        import targets
        return targets.main([])

    allc = usable_cpus()
    entries = _peers.entries()
    if args.funcs:
        want = [w.strip() for w in args.funcs.split(",")]
        entries = [e for e in entries if e.label in want or e.fa in want]
    elif args.quick:
        entries = [e for e in entries if e.label in PLOT_FUNCS + ["relu(max=6)", "gelu(erf)", "elu", "softplus"]]
    sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else (
        [10_000, 1_000_000] if args.quick else DEFAULT_SIZES)
    threads = []
    for t in (args.threads.split(",") if args.threads else ["1", "all"]):
        v = allc if t.strip() == "all" else int(t)
        if v not in threads:
            threads.append(v)
    dtypes = args.dtypes.split(",") if args.dtypes else (["float32"] if args.quick else ["float32", "float64"])
    modes = args.modes.split(",") if args.modes else MODES
    libs = [l for l in _peers.LIBS if _peers.AVAILABLE[l]]
    if args.libs:
        libs = ["fastact"] + [l for l in args.libs.split(",") if l in libs and l != "fastact"]

    for path in (args.out, args.plot):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    info, cfg = machine_info()
    print("\n".join(f"{k}: {v}" for k, v in info.items()))
    print(cfg)
    t_start = time.perf_counter()

    roof, roof_rows = roofline(threads)
    print("memory roofline (16M float32):")
    for name, nt, kind, sec, gbs in roof_rows:
        print(f"  {name:<28} {nt}t  {sec * 1e3:8.2f} ms  {gbs:6.1f} GB/s  ({kind})")

    results = []
    cache = {}
    hdr = f"{'function':<24}{'n':>6} {'dtype':<8}{'thr':>3} {'dir':<4}{'mode':<8}" + "".join(
        f"{l:>12}" for l in libs) + f"{'GB/s':>8}{'vs best':>9}"
    print("\ntimes in µs (median); 'vs best' = best peer time / fastact time")
    print(hdr)
    for nt in threads:
        _peers.set_threads(nt)
        for e in entries:
            for n in sizes:
                for dt in dtypes:
                    for direction in (["fwd"] + ([] if (args.no_backward or e.bwd_from is None) else ["bwd"])):
                        for mode in modes:
                            if n >= 8_000_000 and (mode == "out" or direction == "bwd") and not args.big_all:
                                continue   # default grid: 16M rows are forward, in place and into
                            times = run_cell(e, n, dt, nt, direction, mode, libs, cache)
                            if not times:
                                continue
                            r = {"func": e.label, "n": n, "dtype": dt, "thr": nt, "dir": direction,
                                 "mode": mode, "times": times,
                                 "bpe": bytes_per_elem(direction, mode, np.dtype(dt).itemsize)}
                            results.append(r)
                            fa = times.get("fastact")
                            peers = [t for l, t in times.items() if l != "fastact"]
                            gbs = n * r["bpe"] / fa / 1e9 if fa else float("nan")
                            vs = f"{min(peers) / fa:8.2f}x" if (peers and fa) else "       -"
                            print(f"{e.label[:24]:<24}{fmt_n(n):>6} {dt:<8}{nt:>3} {direction:<4}{mode:<8}"
                                  + "".join(f"{fmt_t(times.get(l)):>12}" for l in libs)
                                  + f"{gbs:8.1f}{vs}", flush=True)
    elapsed = time.perf_counter() - t_start
    print(f"\nelapsed {elapsed:.0f} s")

    # ---- markdown
    cmdline = "python bench/run.py" + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(
        argv if argv is not None else sys.argv[1:]))
    md = ["# fastact benchmark results", "",
          "Reproduce (from the repository root, after `python setup.py build_ext --inplace`):", "",
          "```", cmdline, "python bench/targets.py      # the project's speed targets (section below)",
          "```", "",
          "Peers (only when installed): NumPy ufunc expressions, SciPy (scipy.special), numexpr "
          "(`evaluate(..., out=)`), PyTorch CPU (in place through `torch.X_` / `inplace=True` / `out=` "
          "on `torch.from_numpy` views of the same memory, `torch.set_num_threads` matched), JAX "
          f"(`jax.jit`, out of place, {_peers.JAX_THREADS} thread(s): only the cells of that thread count), "
          "ONNX Runtime (a one-node ONNX model per operator ONNX defines, in the *into* cells only: "
          "into an output bound once through IOBinding; `intra_op_num_threads` matched). "
          "NumPy and SciPy are single-threaded: their 1-thread time is repeated in the all-threads rows.", "",
          f"Input: standard normal x 3; softmax rows of {_peers.SOFTMAX_ROW}. Times are medians (µs) of "
          "adaptive repeats, interleaved round-robin between libraries; in-place inputs are refilled "
          "(untimed) before every call. *speed-up* = best peer time / fastact time (> 1: fastact faster).",
          "",
          "GB/s convention: forward in place 2 x itemsize per element (read + write: 8 B for float32), "
          "out of place 3 x itemsize (read + write-allocate + write: 12 B); backward in place 3 x, "
          "out of place 4 x. Modes: *out* is `y = f(x)` returning a fresh array in every library, so "
          "it includes allocation and page faults; *into* (forward) writes into an output allocated "
          "and touched once (fastact `out=`, PyTorch `out=` where it has one, ONNX Runtime's bound "
          "output; 12 B per float32 element). *% of stream* (16M rows, forward) = fastact GB/s / "
          "the roofline below for the same thread count and mode (its in-place kernels, like the "
          "in-place cells, run on an input refilled before every call).", "",
          f"Full grid: {elapsed:.0f} s.", "",
          "## Machine", ""]
    md += [f"- {k}: {v}" for k, v in info.items()]
    md += ["", "fastact.show_config():", "", "```", cfg.rstrip(), "```", "",
           "## Memory roofline (16M float32, streaming kernels)", "",
           "| kernel | threads | kind | ms | GB/s |", "|---|---|---|---|---|"]
    md += [f"| {name} | {nt} | {kind} | {sec * 1e3:.2f} | {gbs:.1f} |" for name, nt, kind, sec, gbs in roof_rows]
    md += ["", "Roofline used for *% of stream*: " + "; ".join(
        f"{kind} {nt}t = {gbs:.1f} GB/s ({name})" for (kind, nt), (name, gbs) in sorted(roof.items())), ""]
    if os.path.exists(args.plot) or True:
        if write_plot(results, libs, args.plot, threads):
            rel = os.path.relpath(os.path.abspath(args.plot), os.path.dirname(os.path.abspath(args.out)))
            md += [f"![throughput]({rel.replace(os.sep, '/')})", ""]
    tsec = preserved_targets(args.out)
    if tsec:
        md += ["## Speed targets", "", tsec, ""]
    # summary per function: geometric-mean speed-up vs best peer, f32 1M in place, per thread count
    md += ["## Summary: fastact speed-up vs the best peer (forward, in place)", "",
           "| function | " + " | ".join(f"{fmt_n(n)} {nt}t" for nt in threads for n in sizes) + " |",
           "|---|" + "---|" * (len(threads) * len(sizes))]
    for e in entries:
        cells = []
        for nt in threads:
            for n in sizes:
                rs = [r for r in results if r["func"] == e.label and r["n"] == n and r["thr"] == nt
                      and r["dir"] == "fwd" and r["mode"] == "inplace" and r["dtype"] == dtypes[0]]
                if rs and len(rs[0]["times"]) > 1:
                    t = rs[0]["times"]
                    best = min((v, l) for l, v in t.items() if l != "fastact")
                    cells.append(f"{best[0] / t['fastact']:.2f} ({best[1]})")
                else:
                    cells.append("-")
        md.append(f"| {e.label} | " + " | ".join(cells) + " |")
    md += ["", f"(dtype {dtypes[0]}; in parentheses the fastest peer)", "", "## All cells", "",
           "Beside each float32 time: that contender's max ULP on the accuracy sweep of "
           "bench/peer_ulp.py (`+`: it also returns NaN/inf where the true result is finite, or the "
           "reverse; see bench/results/peer_ulp.md).", ""]
    md += table_lines(results, libs, roof)
    with open(args.out, "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
