"""fastact (or python -m fastact): the configuration and a quick speed table.

Times a few activations in place on float32 elements with fastact and with
the equivalent NumPy expression, on this machine.  The comparison is at equal
thread counts: NumPy's element-wise ufuncs run on one thread, so fastact runs
with n_threads=1 against them; fastact's own multi-threaded time is a separate
column.  Timing on a shared machine is noisy, so the table is measured in
several rounds and reports the median and the min-max range of the ratio.
"""
import argparse
import sys
import time

import numpy as np

import fastact


def _parser():
    p = argparse.ArgumentParser(
        prog="fastact",
        description="Print fastact's configuration (kernel variant, OpenMP, threads) and time "
                    "a few activations in place against the equivalent NumPy expression.",
        epilog="Speed-ups compare equal thread counts (fastact n_threads=1 against NumPy, whose "
               "element-wise ufuncs are single-threaded); the range is the min-max of the ratio "
               "over the rounds.")
    p.add_argument("--quick", action="store_true",
                   help="a small array and few repeats (a smoke test; the figures mean little)")
    p.add_argument("--rounds", type=int, default=None, metavar="R",
                   help="rounds of measurement; the table shows medians and the ratio's "
                        "min-max over them (default 5, --quick 2)")
    p.add_argument("--no-config", action="store_true", help="skip the configuration report")
    return p


def _median_time(fn, arr, runs):
    """Median wall time of fn on a fresh copy of arr (the copy is not timed)."""
    times = []
    for _ in range(runs):
        a = arr.copy()
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _np_sigmoid(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _np_gelu_tanh(a):
    v = a * a
    v *= 0.044715 * a
    v += a
    v *= 0.7978845608028654
    np.tanh(v, out=v)
    v += 1
    a *= 0.5
    a *= v


def _np_silu(a):
    e = np.exp(-a)
    e += 1
    a /= e


def _np_softmax(a):
    a -= a.max(axis=-1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=-1, keepdims=True)


def _cases(row):
    """name -> (fastact call taking (array, n_threads), NumPy equivalent in place)."""
    return {
        "relu_": (lambda a, t: fastact.relu_(a, n_threads=t), lambda a: np.maximum(a, 0, out=a)),
        "relu_(max=6)": (lambda a, t: fastact.relu_(a, max=6, n_threads=t),
                         lambda a: np.clip(a, 0, 6, out=a)),
        "sigmoid_": (lambda a, t: fastact.sigmoid_(a, n_threads=t), _np_sigmoid),
        "tanh_": (lambda a, t: fastact.tanh_(a, n_threads=t), lambda a: np.tanh(a, out=a)),
        "gelu_(tanh)": (lambda a, t: fastact.gelu_(a, approximate="tanh", n_threads=t), _np_gelu_tanh),
        "silu_": (lambda a, t: fastact.silu_(a, n_threads=t), _np_silu),
        f"softmax_ (rows of {row})": (lambda a, t: fastact.softmax_(a.reshape(-1, row), n_threads=t),
                                      lambda a: _np_softmax(a.reshape(-1, row))),
    }


def bench(n, rounds, runs, out=None):
    """Print the speed table for n float32 elements; returns its rows as
    (name, numpy_s, fastact_1t_s, ratio_median, ratio_min, ratio_max, fastact_nt_s or None)."""
    out = sys.stdout if out is None else out
    nt = fastact.get_num_threads()
    row = min(1024, n)
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 3
    print(f"\nIn place on {n:,} float32 elements; each time is the median of {rounds} rounds, "
          f"each the median of {runs} runs.\n"
          "speed-up = NumPy time / fastact time, both on 1 thread (NumPy's element-wise ufuncs are "
          "single-threaded).\n"
          f"(min-max): the speed-up's range over the {rounds} rounds, i.e. how noisy timing is on "
          "this machine right now.", file=out)
    head = f"{'function':<26}{'NumPy 1 thread':>16}{'fastact 1 thread':>18}{'speed-up (min-max)':>22}"
    if nt > 1:
        head += f"{f'fastact {nt} threads':>20}"
    print(head, file=out)
    rows = []
    for name, (fa, npf) in _cases(row).items():
        for t in {1, nt}:   # warm-up: first-call checks, caches and thread start are not timed
            fa(x.copy(), t)
        t_np, t_fa, t_nt, ratios = [], [], [], []
        for _ in range(rounds):
            with np.errstate(all="ignore"):
                tn = _median_time(npf, x, runs)
            tf = _median_time(lambda a: fa(a, 1), x, runs)
            t_np.append(tn)
            t_fa.append(tf)
            ratios.append(tn / tf)
            if nt > 1:
                t_nt.append(_median_time(lambda a: fa(a, nt), x, runs))
        tn, tf, r = float(np.median(t_np)), float(np.median(t_fa)), float(np.median(ratios))
        tm = float(np.median(t_nt)) if nt > 1 else None
        line = (f"{name:<26}{tn * 1e3:>13.3f} ms{tf * 1e3:>15.3f} ms"
                f"{f'{r:.1f}x ({min(ratios):.1f}-{max(ratios):.1f})':>22}")
        if tm is not None:
            line += f"{tm * 1e3:>17.3f} ms"
        print(line, file=out)
        rows.append((name, tn, tf, r, min(ratios), max(ratios), tm))
    return rows


def main(argv=None):
    args = _parser().parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 5)
    if rounds < 1:
        _parser().error(f"--rounds must be >= 1, got {rounds}")
    if not args.no_config:
        fastact.show_config()
    if args.quick:
        bench(1 << 12, rounds, 2)
    else:
        bench(1 << 20, rounds, 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
