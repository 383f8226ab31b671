"""Thread-count policy: defaults, set/get, the per-thread/task context
manager, and results that do not depend on the thread count."""
import asyncio
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastact
from fastact import _threads


def test_default_is_usable_cpus_or_omp_num_threads():
    if os.environ.get("OMP_NUM_THREADS"):
        assert fastact.get_num_threads() >= 1
    else:
        assert 1 <= fastact.get_num_threads() <= _threads.usable_cpus()


def test_omp_num_threads_env_is_respected(tmp_path):
    code = "import fastact; print(fastact.get_num_threads())"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # cwd outside the source tree: `python -c` puts the cwd first on sys.path
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == "1"


def test_set_and_get():
    old = fastact.set_num_threads(1)
    try:
        assert fastact.get_num_threads() == 1
        fastact.set_num_threads(-1)
        assert fastact.get_num_threads() == _threads.usable_cpus()
        with pytest.raises(ValueError, match="set_num_threads: n must be >= 1 or -1"):
            fastact.set_num_threads(0)
    finally:
        fastact.set_num_threads(old)


def test_context_manager_is_per_thread():
    seen = {}
    base = fastact.get_num_threads()
    barrier = threading.Barrier(2)

    def inside():
        with fastact.threads(1):
            barrier.wait()
            seen["inside"] = fastact.get_num_threads()
            barrier.wait()

    def outside():
        barrier.wait()
        seen["outside"] = fastact.get_num_threads()
        barrier.wait()

    t1, t2 = threading.Thread(target=inside), threading.Thread(target=outside)
    t1.start(); t2.start(); t1.join(); t2.join()
    assert seen == {"inside": 1, "outside": base}
    assert fastact.get_num_threads() == base


def test_context_manager_is_per_async_task():
    async def task(n):
        with fastact.threads(n):
            await asyncio.sleep(0.01)
            return fastact.get_num_threads()

    async def main():
        return await asyncio.gather(task(1), task(3), task(2))

    assert asyncio.run(main()) == [1, 3, 2]


def test_thread_count_does_not_change_softmax_or_prelu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 1000)).astype(np.float32)
    a = rng.uniform(0, 0.5, 1000).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    for n in (1, 2):
        with fastact.threads(n):
            r = (fastact.softmax(x), fastact.log_softmax(x, axis=0), fastact.prelu(x, a, axis=1),
                 *fastact.prelu_backward(g, x, alpha=a, axis=1), *fastact.prelu_backward(g, x, alpha=0.2))
        if n == 1:
            first = r
    for u, v in zip(first, r):
        assert np.array_equal(u, v)


def test_nothing_parallel_runs_at_import(tmp_path):
    # importing must not start an OpenMP team (fork-safety): libgomp creates
    # its threads at the first parallel region, so the thread count stays 1
    # (NumPy's BLAS may start threads of its own: compare with it imported)
    code = ("import os, numpy; n0 = len(os.listdir('/proc/self/task')); import fastact; "
            "print(n0, len(os.listdir('/proc/self/task')))")
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs /proc (Linux)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    n0, n1 = out.stdout.split()
    assert n0 == n1


@pytest.fixture
def guard():
    """The stall guard of the front module, on and reset (the suite
    runs with FASTACT_STALL_GUARD=0, see conftest.py)."""
    from fastact import _dispatch
    K = _dispatch.state.kernels
    old = K.stall_guard(True)
    try:
        yield K
    finally:
        K.stall_guard(old)


def test_stall_guard_pauses_splits_after_a_late_worker(guard):
    K = guard
    n, grain = 1 << 20, 1 << 16
    assert K.planned_chunks(n, 2, grain) == 2 and K.stall_state() == (0.0, 0.05)
    K.note_region(1e-3, 2e-4)       # last chunk began before the first ended: fine
    K.note_region(2e-5, 1e-5)       # began after, but only 10 us in: noise
    assert K.planned_chunks(n, 2, grain) == 2 and K.stall_state() == (0.0, 0.05)
    K.note_region(1e-4, 3e-4)       # began after the first chunk had ended: a stall,
    assert K.planned_chunks(n, 2, grain) == 2 and K.stall_state() == (0.0, 0.05)   # one alone: no pause
    K.note_region(1e-3, 2e-4)       # a region without a stall forgets it
    K.note_region(1e-4, 3e-4)
    assert K.planned_chunks(n, 2, grain) == 2 and K.stall_state() == (0.0, 0.05)
    K.note_region(1e-4, 3e-4)       # the second stall in a row pauses
    left, nxt = K.stall_state()
    assert 0.0 < left <= 0.05 and nxt == 0.1
    assert K.planned_chunks(n, 2, grain) == 1 and K.planned_chunks(n, 8, grain) == 1
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    assert np.array_equal(fastact.gelu(x, n_threads=2), fastact.gelu(x, n_threads=1))
    # A slow build (ASan) can outlive the 50 ms pause inside the calls above, and
    # a split region that does not stall resets the guard: start the rest clean.
    K.stall_guard(True)
    K.note_region(1e-4, 3e-4)
    K.note_region(1e-4, 3e-4)
    assert K.stall_state()[1] == 0.1
    K.note_region(5e-3, 2e-3)       # 2 ms late (the caller lost its core too): a stall
    assert K.stall_state()[1] == 0.2
    for _ in range(5):
        K.note_region(1e-4, 3e-4)
    assert K.stall_state()[1] == 1.0   # doubling stops at 1 s
    K.note_region(1e-3, 1e-5)          # a region without a stall resets the next pause
    assert K.stall_state()[1] == 0.05
    K.stall_guard(False)               # off: splits whatever was noted
    K.note_region(1e-4, 3e-4)
    assert K.planned_chunks(n, 2, grain) == 2
    K.stall_guard(True)                # on again: a clean state
    assert K.planned_chunks(n, 2, grain) == 2 and K.stall_state() == (0.0, 0.05)
    assert K.planned_chunks(grain, 2, grain) == 1     # below 2 x grain: one thread anyway
    assert K.planned_chunks(grain, 2, grain, 8) == 2  # the cutoff is in bytes: float64 at half


def test_stall_guard_pause_expires(guard):
    import time
    K = guard
    K.note_region(1e-4, 3e-4)
    K.note_region(1e-4, 3e-4)
    assert K.planned_chunks(1 << 20, 2, 1 << 16) == 1
    time.sleep(0.06)                   # the first pause is 50 ms
    assert K.planned_chunks(1 << 20, 2, 1 << 16) == 2


@pytest.mark.parametrize("value,expected", [(None, "True"), ("0", "False"), ("1", "True")])
def test_stall_guard_environment_switch(value, expected, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FASTACT_STALL_GUARD"}
    if value is not None:
        env["FASTACT_STALL_GUARD"] = value
    code = "from fastact import _dispatch; print(_dispatch.state.kernels.stall_guard())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == expected
