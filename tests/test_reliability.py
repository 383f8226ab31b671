"""Concurrency, memory and scale."""
import gc
import os
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import fastact

CONCURRENCY_SECONDS = 3.0
CALLS = [("relu", {"max": 6.0}), ("sigmoid", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
         ("tanh", {}), ("softplus", {}), ("elu", {}), ("leaky_relu", {})]


def test_eight_python_threads_match_sequential_results():
    rng = np.random.default_rng(12)
    inputs = [(rng.standard_normal(s) * 3).astype(np.float32) for s in (100, 5000, 70_000, 300_001)]
    expected = {(n, i): fastact.get(n).forward(x, **p) for n, p in CALLS for i, x in enumerate(inputs)}
    errors, counts = [], [0] * 8
    stop = time.perf_counter() + CONCURRENCY_SECONDS

    def worker(w):
        r = np.random.default_rng(w)
        try:
            while time.perf_counter() < stop:
                n, p = CALLS[r.integers(len(CALLS))]
                i = int(r.integers(len(inputs)))
                nt = [None, 1, 2][int(r.integers(3))]
                fns = fastact.get(n)
                if r.integers(2):
                    y = inputs[i].copy()
                    with fastact.threads(int(r.integers(1, 3))):
                        fns.forward_(y, **p, n_threads=nt)
                else:
                    y = fns.forward(inputs[i], **p, n_threads=nt)
                if not np.array_equal(y, expected[(n, i)], equal_nan=True):
                    errors.append((w, n, i))
                counts[w] += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    default = fastact.get_num_threads()
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:5]
    assert min(counts) > 10, counts
    assert fastact.get_num_threads() == default     # no setting leaked out of threads()


def test_no_leak_over_many_calls():
    x = np.linspace(-3, 3, 257).astype(np.float32)
    g = np.ones_like(x)
    out = np.empty_like(x)

    def burst(n):
        for _ in range(n):
            fastact.relu_(x)
            fastact.sigmoid(x, out=out)
            fastact.gelu_backward_(g, x)
            fastact.softmax(x)
            fastact.prelu_backward(g, x, alpha=0.1)

    burst(2000)
    gc.collect()
    b0 = sys.getallocatedblocks()
    burst(20_000)                   # x 5 calls = 1e5 calls
    gc.collect()
    grown = sys.getallocatedblocks() - b0
    assert grown < 200, f"{grown} Python memory blocks more after 1e5 calls"


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_rss_flat_over_many_calls():
    x = np.linspace(-3, 3, 4096).astype(np.float32)
    for _ in range(3000):
        fastact.tanh_(x)
        fastact.elu(x)
    r0 = _rss()
    for _ in range(30_000):
        fastact.tanh_(x)
        fastact.elu(x)
        fastact.relu_backward(x, y=x)
    assert _rss() - r0 < 4 << 20


def test_allocations_out_of_place_one_output_in_place_none():
    x = np.random.default_rng(13).standard_normal(1 << 20).astype(np.float32)   # 4 MiB
    fastact.sigmoid_(x.copy())
    tracemalloc.start()
    tracemalloc.reset_peak()
    y = fastact.sigmoid(x)
    _, peak = tracemalloc.get_traced_memory()
    assert x.nbytes <= peak < x.nbytes + (64 << 10), peak        # exactly one output
    del y
    tracemalloc.reset_peak()
    fastact.sigmoid_(x)
    fastact.gelu_backward_(x, x)             # grad and x may be the same array
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 << 10, f"in-place forms allocated {peak} bytes"


def _available_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@pytest.mark.skipif(_available_bytes() < (14 << 30), reason="needs ~9 GiB of free memory")
def test_more_than_2_to_the_31_elements():
    n = (1 << 31) + 4099                       # past int32 indexing
    x = np.empty(n, np.float32)
    x[: 1 << 20] = -1.0
    x[1 << 20:] = 2.0
    x[-5:] = [-3.0, 7.0, -0.0, 1.0, -8.0]
    fastact.relu_(x, max=6)
    assert x[0] == 0 and x[(1 << 20) + 5] == 2.0 and x[1 << 31] == 2.0
    np.testing.assert_array_equal(x[-5:], [0.0, 6.0, -0.0, 1.0, 0.0])
    # the strided path walks with 64-bit byte offsets too: 2 rows 4 GiB apart
    v = x[: 2 * (1 << 30)].reshape(2, 1 << 30)[:, -4096::7]
    w = v.copy()
    fastact.relu_(v, negative_slope=0.5)
    np.testing.assert_array_equal(v, np.where(w > 0, w, 0.5 * w))
    del x, v
