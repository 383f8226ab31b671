"""python -m fastact: the configuration and a quick speed table against NumPy.

Times a few activations in place on 1M float32 elements (median of repeats)
with fastact and with the equivalent NumPy expression, on this machine.
"""
import sys
import time

import numpy as np

import fastact


def _median_time(fn, arr, repeats):
    times = []
    for _ in range(repeats):
        a = arr.copy()
        t0 = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _numpy_peers():
    def sigmoid(a):
        np.negative(a, out=a)
        np.exp(a, out=a)
        a += 1
        np.reciprocal(a, out=a)

    def gelu_tanh(a):
        v = a * a
        v *= 0.044715 * a
        v += a
        v *= 0.7978845608028654
        np.tanh(v, out=v)
        v += 1
        a *= 0.5
        a *= v

    def silu(a):
        e = np.exp(-a)
        e += 1
        a /= e

    return {
        "relu_": (lambda a: fastact.relu_(a), lambda a: np.maximum(a, 0, out=a)),
        "relu_(max=6)": (lambda a: fastact.relu_(a, max=6), lambda a: np.clip(a, 0, 6, out=a)),
        "sigmoid_": (fastact.sigmoid_, sigmoid),
        "tanh_": (fastact.tanh_, lambda a: np.tanh(a, out=a)),
        "gelu_(tanh)": (lambda a: fastact.gelu_(a, approximate="tanh"), gelu_tanh),
        "silu_": (fastact.silu_, silu),
        "softmax_ (rows of 1024)": (lambda a: fastact.softmax_(a.reshape(-1, 1024)),
                                    lambda a: _np_softmax(a.reshape(-1, 1024))),
    }


def _np_softmax(a):
    a -= a.max(axis=-1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=-1, keepdims=True)


def main(argv=None):
    fastact.show_config()
    n = 1 << 20
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 3
    print(f"\nIn place on {n:,} float32 elements, median of 15 runs, "
          f"{fastact.get_num_threads()} thread(s):")
    print(f"{'function':<26}{'fastact ms':>12}{'NumPy ms':>12}{'speed-up':>10}")
    for name, (fa, npf) in _numpy_peers().items():
        _median_time(fa, x, 2)
        tf = _median_time(fa, x, 15)
        with np.errstate(all="ignore"):
            tn = _median_time(npf, x, 15)
        print(f"{name:<26}{tf * 1e3:>12.3f}{tn * 1e3:>12.3f}{tn / tf:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
