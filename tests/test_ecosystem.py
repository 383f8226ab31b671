"""Half precision, tensors through DLPack, threadpoolctl, torch in the same
process, fork."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastact
from fa_testutil import CASES, ELEMENTWISE

HALF = [np.float16]
try:
    import ml_dtypes
    HALF.append(ml_dtypes.bfloat16)
except ImportError:  # optional dependency
    ml_dtypes = None


def test_bfloat16_is_tested_when_ml_dtypes_is_installed():
    # ml_dtypes is in the test extras: its absence would silently drop bfloat16
    assert ml_dtypes is not None, "install the test extras (ml_dtypes) to test bfloat16"


@pytest.mark.parametrize("half", HALF, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_half_precision_is_float32_rounded(name, half):
    rng = np.random.default_rng(10)
    x = (rng.standard_normal(1001) * 4).astype(half)
    g = rng.standard_normal(1001).astype(half)
    fns = fastact.get(name)
    for params in CASES[name]:
        expect = fns.forward(x.astype(np.float32), **params).astype(half)
        y = fns.forward(x, **params)
        assert y.dtype == np.dtype(half)
        # computed in float32, then rounded once to the storage type
        np.testing.assert_array_equal(y.view(np.uint16), expect.view(np.uint16))
        xi = x.copy()
        assert fastact.get(name).forward_(xi, **params) is xi
        np.testing.assert_array_equal(xi.view(np.uint16), expect.view(np.uint16))
        d = fns.backward(g, x, **params)
        de = fns.backward(g.astype(np.float32), x.astype(np.float32), **params).astype(half)
        np.testing.assert_array_equal(d.view(np.uint16), de.view(np.uint16))


@pytest.mark.parametrize("half", HALF, ids=lambda t: np.dtype(t).name)
def test_half_precision_rows(half):
    x = (np.random.default_rng(11).standard_normal((5, 64)) * 3).astype(half)
    np.testing.assert_array_equal(fastact.softmax(x).view(np.uint16),
                                  fastact.softmax(x.astype(np.float32)).astype(half).view(np.uint16))


try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is an optional peer, not installed")


@needs_torch
def test_torch_tensors_in_place_and_out_of_place():
    t = torch.linspace(-3, 3, 1001)
    ref = torch.relu(t).numpy().copy()
    r = fastact.relu_(t)
    assert r is t and np.array_equal(t.numpy(), ref)
    t2 = torch.randn(64, 33)
    y = fastact.gelu(t2)
    np.testing.assert_allclose(y, torch.nn.functional.gelu(t2).numpy(), rtol=1e-5, atol=1e-6)
    tt = t2.t()                      # a strided view: written in place through it
    before = t2.clone()
    fastact.sigmoid_(tt)
    np.testing.assert_allclose(t2.numpy(), torch.sigmoid(before).numpy(), rtol=1e-6, atol=1e-7)
    h = torch.randn(100).half()
    fastact.tanh_(h)
    assert h.dtype == torch.float16
    g = torch.ones(100)
    x = torch.linspace(-2, 2, 100)
    fastact.relu_backward_(g, x)
    assert np.array_equal(g.numpy(), (x.numpy() > 0).astype(np.float32))


@needs_torch
def test_torch_tensor_errors():
    t = torch.randn(10, requires_grad=True)
    with pytest.raises(ValueError, match="relu_: x could not be shared through DLPack"):
        fastact.relu_(t)
    with pytest.raises(TypeError, match="relu_: x must be a floating-point array"):
        fastact.relu_(torch.arange(10))


def test_threadpoolctl_limits_fastact():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not fastact._dispatch.state.kernels.openmp_enabled():
        pytest.skip("built without OpenMP")
    n = fastact.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert fastact.get_num_threads() == 1
    assert fastact.get_num_threads() == n


def _run(code, tmp_path, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=tmp_path)


@needs_torch
@pytest.mark.parametrize("first", ["torch", "fastact"])
def test_torch_and_fastact_in_one_process(first, tmp_path):
    second = "fastact" if first == "torch" else "torch"
    code = f"""
        import numpy as np
        import {first}, {second}
        import fastact, torch
        x = np.random.rand(1 << 21).astype(np.float32)
        for _ in range(5):
            fastact.sigmoid_(x, n_threads=2)
            torch.sigmoid_(torch.from_numpy(x))
            fastact.gelu_(x)
        print("ok")
    """
    r = _run(code, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
    assert "OMP: Error" not in r.stderr and "OMP: Warning" not in r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork_after_parallel_call_does_not_hang(tmp_path):
    code = """
        import os, numpy as np, fastact
        x = np.random.rand(1 << 21).astype(np.float32)
        fastact.sigmoid_(x, n_threads=2)          # the parent runs a parallel region
        pid = os.fork()
        if pid == 0:
            y = np.random.rand(1 << 21).astype(np.float32)
            fastact.sigmoid_(y, n_threads=2)      # single-threaded in the child (documented)
            ok = bool(np.all((y >= 0.5) & (y < 0.75)))  # sigmoid of [0, 1)
            os._exit(0 if ok else 3)
        _, st = os.waitpid(pid, 0)
        fastact.sigmoid_(x, n_threads=2)          # the parent still runs in parallel
        print(os.waitstatus_to_exitcode(st))
    """
    r = _run(code, tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_fork_after_import_keeps_threads(tmp_path):
    code = """
        import os, numpy as np, fastact
        pid = os.fork()
        if pid == 0:
            y = np.random.rand(1 << 21).astype(np.float32)
            fastact.sigmoid_(y, n_threads=2)
            os._exit(0)
        _, st = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(st))
    """
    r = _run(code, tmp_path, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr


# ------------------------------------------------------------------ OpenMP wait policy

_SPIN = """
    import os
    if os.environ.get("FIRST") == "torch":
        import torch                                 # its libgomp.so.1 in the global scope first
    import time, numpy as np, fastact
    assert "GOMP_SPINCOUNT" not in os.environ or os.environ.get("KEEP") == "1"   # restored after import
    x = np.random.rand(1 << 22).astype(np.float32)
    cpu = []
    for _ in range(5):
        fastact.sigmoid_(x, n_threads=2)            # a parallel region, then its workers idle
        c0 = time.process_time(); time.sleep(0.1); cpu.append(time.process_time() - c0)
    print(sorted(cpu)[2] * 1e3, fastact._openmp._private_runtime() is not None)
"""


def _idle_cpu_ms(tmp_path, **env):
    """CPU time (ms, median of 5) the process burns in a 100 ms sleep right
    after a 2-thread region: what its idle OpenMP workers spin."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "FASTACT_WAIT_POLICY")}
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(_SPIN)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, env=dict(base, FASTACT_STALL_GUARD="0", **env))
    assert r.returncode == 0, r.stderr
    ms, private = r.stdout.split()
    return float(ms), private == "True"


@pytest.mark.skipif(fastact._threads.usable_cpus() < 2 or not fastact._dispatch.state.kernels.openmp_enabled(),
                    reason="needs 2 CPUs and an OpenMP build")
def test_wait_policy_of_the_bundled_runtime_only(tmp_path):
    ms_default, private = _idle_cpu_ms(tmp_path)
    ms_active, _ = _idle_cpu_ms(tmp_path, FASTACT_WAIT_POLICY="active")
    ms_user_active, _ = _idle_cpu_ms(tmp_path, OMP_WAIT_POLICY="active", KEEP="1")
    assert ms_user_active > 50, ms_user_active           # the user's setting reaches the runtime
    try:
        import torch  # noqa: F401
        ms_torch_first, _ = _idle_cpu_ms(tmp_path, FIRST="torch")
    except ImportError:
        ms_torch_first = None
    if private:
        # a wheel's own libgomp: a ~0.1 ms spin by default (not libgomp's ~9 ms that
        # would take the cores from OpenBLAS or PyTorch), FASTACT_WAIT_POLICY=active spins; with
        # torch imported first too (fastact binds to its own copy, not torch's)
        assert ms_default < 2, ms_default
        assert ms_active > 50, ms_active
        assert ms_torch_first is None or ms_torch_first < 2, ms_torch_first
    else:
        # the system's libgomp (a source build), which PyTorch's libgomp.so.1 then
        # shares: fastact leaves its policy alone (libgomp's own spin, ~ms), and
        # FASTACT_WAIT_POLICY does not reach it
        assert ms_active < 50, ms_active
        assert abs(ms_active - ms_default) < 40


def test_wait_policy_decision(monkeypatch):
    from fastact import _openmp
    monkeypatch.setattr(_openmp, "_private_runtime", lambda: "/x/fastact.libs/libgomp-0.so")
    assert _openmp.decide({})[0] == "3000"
    assert _openmp.decide({"FASTACT_WAIT_POLICY": "passive"})[0] == "0"
    assert _openmp.decide({"FASTACT_WAIT_POLICY": "active"})[0] == "infinity"
    assert _openmp.decide({"FASTACT_WAIT_POLICY": " 20000 "})[0] == "20000"
    assert _openmp.decide({"FASTACT_WAIT_POLICY": "runtime"})[0] is None
    assert _openmp.decide({"OMP_WAIT_POLICY": "active"})[0] is None      # the user's, for every runtime
    assert _openmp.decide({"GOMP_SPINCOUNT": "10"})[0] is None
    with pytest.raises(ImportError, match="FASTACT_WAIT_POLICY='often'"):
        _openmp.decide({"FASTACT_WAIT_POLICY": "often"})
    monkeypatch.setattr(_openmp, "_private_runtime", lambda: None)
    assert _openmp.decide({"FASTACT_WAIT_POLICY": "active"})[0] is None
