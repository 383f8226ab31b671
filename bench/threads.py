#!/usr/bin/env python
"""Calibrate the single-thread cutoff (fastact._table.GRAIN): time each kernel
on 1 and 2 threads with the cutoff disabled, over sizes, where the data lives
in two places, and print where two threads start to win.

- hot:   out of place from a read-only input into an output the kernel itself
         wrote last (each thread finds its half in its own cache): the best
         case for threads, and what back-to-back calls on the same buffers see.
- fresh: in place on data the calling thread has just written (np.copyto
         before every call, untimed), as after a NumPy expression: the other
         thread first pulls its half out of the calling core's cache.
- fresh_new: the same input, out of place into a new array (np.empty_like
         inside the timing, as `y = f(x)`).

A kernel splits once it has 2 x GRAIN elements; GRAIN is chosen where the
mean of the three 2t/1t time ratios favours two threads.  A last table shows
the cost of another thread pool busy-waiting on the other core, the kernel
right after a NumPy matmul (OpenBLAS), and what the stall guard of
src/front/_front.pyx makes of it.  Medians of interleaved repeats, float32 (and float64 for two kernels: the
cutoff is in bytes, float64 splits at half the element count).

    python bench/threads.py [--no-write]    # prints the tables, writes bench/results/threads_results.md
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fastact import _dispatch  # noqa: E402

K = _dispatch.state.kernels
IDS = K.kernel_ids()
SIZES = (32768, 65536, 131072, 262144, 524288, 1048576)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "threads_results.md")
_LINES = []


def emit(s=""):
    """Print a line of the report and keep it for the results file."""
    print(s, flush=True)
    _LINES.append(s)


HEAD = """# Single-thread cutoff calibration

`python bench/threads.py` (1 vs 2 threads with the cutoff and the stall guard disabled; machine in results.md). \
*hot*: out of place into a preallocated array, each thread finds its half in its own cache (back-to-back calls \
on the same buffers); *fresh*: in place on data the calling thread has just written (as after a NumPy \
expression), so the other thread first pulls its half out of the calling core's cache; *fresh_new*: the same \
input out of place into a new array (`y = f(x)`). `fastact._table.GRAIN` is set where the mean of the three \
favours two threads: a call splits at 2 x GRAIN float32 elements' worth of bytes; the float64 rows cross at \
half the float32 counts.
"""

TAIL = """
The last table shows a cost no threshold removes: NumPy's OpenBLAS keeps its worker threads busy-waiting \
after a call, and on a 2-core machine a 2-thread region waits milliseconds for a core. The stall guard \
(src/front/_front.pyx, README "Threads") sends calls to one thread for a while after a region whose last chunk \
started late: the median then equals the 1-thread time; the mean includes the probes that find the core \
still taken.
"""


def _time(k, src, work, nt, reps, mode):
    ts = []
    for _ in range(reps):
        if mode == "fresh":
            np.copyto(work, src)                 # the calling thread writes the data
            t0 = time.perf_counter()
            K.elementwise(k, 0, work, None, work, 0.0, 0.0, 0.0, 0.0, nt, 1)   # grain 1: always split
        elif mode == "fresh_new":
            np.copyto(work, src)
            t0 = time.perf_counter()
            out = np.empty_like(work)            # y = f(x): a new array, as the out-of-place form
            K.elementwise(k, 0, work, None, out, 0.0, 0.0, 0.0, 0.0, nt, 1)
            del out
        else:
            t0 = time.perf_counter()
            K.elementwise(k, 0, src, None, work, 0.0, 0.0, 0.0, 0.0, nt, 1)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def ratio(name, n, mode, dtype=np.float32):
    src = np.random.default_rng(0).standard_normal(n).astype(dtype)
    work = src.copy()
    reps = max(6, 400_000 // n)
    r1, r2 = [], []
    for _ in range(5):
        r1.append(_time(IDS[name], src, work, 1, reps, mode))
        r2.append(_time(IDS[name], src, work, 2, reps, mode))
    return np.median(r1) * 1e6, np.median(r2) * 1e6


def after_blas_table(name="sigmoid"):
    """The kernel right after a float32 matmul whose result it overwrites in
    place (a layer: x @ w, then the activation), 1 and 2 threads.  NumPy's
    OpenBLAS keeps its own worker threads busy-waiting for a while after a
    call; on a 2-core machine they hold the core fastact's worker needs."""
    rng = np.random.default_rng(0)
    emit(f"\n{name} in place right after `np.matmul(a, w, out=y)` that made y (median us):")
    emit()
    emit("| y elements | 1 thread | 2 threads, stall guard off | 2 threads, guard on (median) "
         "| guard on (mean) |")
    emit("|---|---|---|---|---|")
    for m in (256, 512, 1024, 4096):
        a = rng.standard_normal((m, 256)).astype(np.float32)
        w = (rng.standard_normal((256, 512)) / 16).astype(np.float32)
        y = np.empty((m, 512), np.float32)
        row = []
        for nt, guard in ((1, False), (2, False), (2, True)):
            K.stall_guard(guard)
            ts = []
            for _ in range(60):
                np.matmul(a, w, out=y)
                t0 = time.perf_counter()
                K.elementwise(IDS[name], 0, y, None, y, 0.0, 0.0, 0.0, 0.0, nt, 1 << 16)
                ts.append(time.perf_counter() - t0)
            row.append(np.median(ts) * 1e6)
        emit(f"| {y.size} | {row[0]:.1f} | {row[1]:.1f} | {row[2]:.1f} | {np.mean(ts) * 1e6:.1f} |")
    K.stall_guard(True)


MODES = ("hot", "fresh", "fresh_new")


def main():
    K.stall_guard(False)      # calibrate the split itself, not the guard's pauses
    emit("| kernel | elements | " + " | ".join(f"{m} 1t us | {m} 2t us | {m} 1t/2t" for m in MODES)
         + " | mean 2t/1t time |")
    emit("|---|---|" + "---|" * (3 * len(MODES) + 1))
    for name, dtype, sizes in [(k, np.float32, SIZES) for k in ("relu0", "sigmoid", "gelu_erf")] + \
            [(k, np.float64, SIZES[:-2]) for k in ("relu0", "sigmoid")]:
        first_win = None
        name_dt = name + (" f64" if dtype == np.float64 else "")
        for n in sizes:
            cells, fracs = [], []
            for m in MODES:
                t1, t2 = ratio(name, n, m, dtype)
                cells.append(f"{t1:.2f} | {t2:.2f} | {t1 / t2:.2f}")
                fracs.append(t2 / t1)
            mean = sum(fracs) / len(fracs)
            if mean < 1 and first_win is None:
                first_win = n
            emit(f"| {name_dt} | {n} | " + " | ".join(cells) + f" | {mean:.2f} |")
        emit(f"| {name_dt}: two threads first win (mean < 1) at | {first_win} |" + " |" * (3 * len(MODES) + 1))
    after_blas_table()
    if "--no-write" not in sys.argv:
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(HEAD + "\n" + "\n".join(_LINES) + "\n" + TAIL)
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
