"""Small API gaps: fastact.reference after `import fastact`, torch half
tensors in place, get_num_threads() in a forked child, and the messages for a
read-only in-place target and a ragged list."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastact

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is an optional peer, not installed")


def _run(code, cwd, timeout=120):
    # cwd outside the source tree: `python -c` puts the cwd first on sys.path
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def test_reference_is_a_lazy_attribute(tmp_path):
    r = _run("""
        import sys, types, fastact
        # import fastact does not execute it: a lazy module until first used
        assert type(sys.modules["fastact.reference"]) is not types.ModuleType
        ref = fastact.reference
        assert ref is sys.modules["fastact.reference"]
        print(float(ref.forward("relu", [-1.0, 2.0])[1]))
        assert type(ref) is types.ModuleType
        import fastact.reference as again
        assert again is ref
        try:
            fastact.no_such_name
        except AttributeError as e:
            print(e)
    """, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["2.0", "module 'fastact' has no attribute 'no_such_name'"]


@needs_torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_torch_half_tensor_in_place(dtype):
    """In place on a torch bfloat16/float16 tensor: computed in float32 and
    rounded once, like the same values as an ml_dtypes/NumPy array."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    tdt = getattr(torch, dtype)
    ndt = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(np.float16)
    t = torch.linspace(-4, 4, 301).to(tdt)
    bits = t.view(torch.int16).numpy().copy()
    want = fastact.gelu_(bits.view(ndt).copy())           # the NumPy route for the same values
    r = fastact.gelu_(t)
    assert r is t and t.dtype == tdt
    assert np.array_equal(t.view(torch.int16).numpy(), want.view(np.int16))
    # a strided view is written through
    m = torch.linspace(-3, 3, 64).to(tdt).reshape(8, 8)
    before = m.clone()
    fastact.relu_(m.t())
    assert torch.equal(m, torch.relu(before))
    # the backward in place, and the out-of-place form (a NumPy array of the same dtype)
    g = torch.ones(5, dtype=tdt)
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0], dtype=tdt)
    fastact.relu_backward_(g, x)
    assert torch.equal(g, torch.tensor([0.0, 0.0, 0.0, 1.0, 1.0], dtype=tdt))
    y = fastact.relu(x)
    assert isinstance(y, np.ndarray) and y.dtype == ndt
    assert np.array_equal(y.astype(np.float32), [0, 0, 0, 1, 2])


@needs_torch
def test_torch_bfloat16_requiring_grad_is_refused_like_float32():
    """Autograd cannot see fastact's writes: a tensor that requires grad is
    refused whatever its dtype, and left untouched."""
    for dt in (torch.float32, torch.bfloat16):
        t = torch.linspace(-1, 1, 5, dtype=dt).requires_grad_()
        before = t.detach().clone()
        with pytest.raises(ValueError, match="relu_: x could not be shared through DLPack"):
            fastact.relu_(t)
        assert torch.equal(t.detach(), before)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_get_num_threads_in_forked_child(tmp_path):
    """A forked child runs every call on one thread; get_num_threads says so,
    whatever set_num_threads / threads() ask for."""
    r = _run("""
        import os, numpy as np, fastact
        fastact.set_num_threads(2)
        x = np.random.rand(1 << 21).astype(np.float32)
        fastact.sigmoid_(x)                       # the parent runs a parallel region
        print(fastact.get_num_threads())
        pid = os.fork()
        if pid == 0:
            seen = [fastact.get_num_threads()]
            with fastact.threads(2):
                seen.append(fastact.get_num_threads())
            fastact.set_num_threads(2)
            seen.append(fastact.get_num_threads())
            os._exit(0 if seen == [1, 1, 1] else 10 + seen[0])
        _, st = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(st))
        print(fastact.get_num_threads())          # the parent keeps its setting
    """, tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "0", "2"]


@pytest.mark.parametrize("fname, args, argname, new", [
    ("relu_", (), "x", "relu"),
    ("leaky_relu_", (), "x", "leaky_relu"),
    ("softmax_", (), "x", "softmax"),
    ("relu_backward_", ("x",), "grad", "relu_backward"),
    ("bias_act_", ("b",), "x", "bias_act"),
])
def test_read_only_in_place_says_how_to_fix(fname, args, argname, new):
    x = np.linspace(-1, 1, 8, dtype=np.float32)
    ro = x.copy()
    ro.flags.writeable = False
    extra = {"x": x.copy(), "b": np.float32(0.5)}
    with pytest.raises(ValueError) as e:
        getattr(fastact, fname)(ro, *(extra[a] for a in args))
    msg = str(e.value)
    assert msg.startswith(f"{fname}: {argname} is read-only; use {new}({argname}, ...) for a new array")
    assert "writable copy" in msg and "JAX" in msg and "to_numpy()" in msg


def test_read_only_out_says_so():
    x = np.ones(4, np.float32)
    out = np.empty_like(x)
    out.flags.writeable = False
    with pytest.raises(ValueError, match=r"^relu: out is read-only; pass a writable array$"):
        fastact.relu(x, out=out)


@pytest.mark.parametrize("fname, argname, call", [
    ("relu", "x", lambda f, r: f(r)),
    ("softmax", "x", lambda f, r: f(r)),
    ("relu_backward", "grad", lambda f, r: f(r, np.ones(2))),
    ("relu_backward", "x", lambda f, r: f(np.ones(2), r)),
    ("glu", "x", lambda f, r: f(r)),
    ("bias_act", "x", lambda f, r: f(r, 0.5)),
])
def test_ragged_list_names_function_and_argument(fname, argname, call):
    with pytest.raises(ValueError) as e:
        call(getattr(fastact, fname), [[1.0, 2.0], [3.0]])
    assert str(e.value).startswith(f"{fname}: {argname} must be a rectangular array of numbers")


@needs_torch
def test_torch_tensor_in_place_fast_path():
    """relu_(tensor) on a plain CPU tensor takes the C fast path through Tensor.numpy():
    same bits as on the NumPy array, the tensor itself returned, every layout and refusal as
    on the general path."""
    import torch
    x = np.linspace(-8, 8, 1001, dtype=np.float32)
    want = fastact.gelu(x, approximate="tanh")
    for _ in range(2):              # the first call learns the tensor type, the second is fast
        t = torch.from_numpy(x.copy())
        assert fastact.gelu_(t, approximate="tanh") is t
        assert np.array_equal(t.numpy(), want)
    s = torch.from_numpy(x.copy())[::2]          # strided: the general path, same bits
    fastact.gelu_(s, approximate="tanh")
    assert np.array_equal(s.numpy(), want[::2])
    g = torch.from_numpy(x.copy()).requires_grad_()
    with pytest.raises(ValueError, match="gelu_: x could not be shared through DLPack"):
        fastact.gelu_(g, approximate="tanh")
    h = torch.from_numpy(x.copy()).half()        # no fast path for float16: staged, rounded once
    fastact.gelu_(h, approximate="tanh")
    x16 = x.astype(np.float16).astype(np.float32)
    assert np.array_equal(h.numpy(), fastact.gelu(x16, approximate="tanh").astype(np.float16))
