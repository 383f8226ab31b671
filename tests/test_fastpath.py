"""The C-level fast paths of the forward (in place and into a new array) give
the same results as the general path, and only take inputs they can handle."""
import numpy as np
import pytest

import fastact
from fastact._families import elementwise as _elementwise
from fastact._table import BY_NAME


def _fresh(name):
    _elementwise._FAST[name].clear()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_new_array_fast_path_matches_general_path(dtype, order):
    rng = np.random.default_rng(3)
    x = np.asarray(rng.standard_normal((37, 29)) * 4, dtype=dtype, order=order)
    _fresh("sigmoid")
    y_general = fastact.sigmoid(x)                 # validates, fills the cache
    assert _elementwise._FAST["sigmoid"], "the general path did not remember the call"
    y_fast = fastact.sigmoid(x)                    # served by fast_copy
    assert y_fast is not x and y_fast.dtype == x.dtype and y_fast.shape == x.shape
    assert y_fast.flags.f_contiguous == (order == "F") or x.ndim == 1
    assert np.array_equal(y_fast, y_general)
    for nt in (1, 2, -1):
        assert np.array_equal(fastact.sigmoid(x, n_threads=nt), y_general)


def test_new_array_fast_path_leaves_input_and_takes_read_only():
    x = np.linspace(-8, 8, 1001, dtype=np.float32)
    keep = x.copy()
    x.flags.writeable = False
    fastact.relu(x, max=6)
    y = fastact.relu(x, max=6)
    assert np.array_equal(x, keep)
    assert np.array_equal(y, np.clip(keep, 0, 6))


@pytest.mark.parametrize("make", [
    lambda a: a[::2],                                       # strided: general path
    lambda a: a.astype(a.dtype.newbyteorder()),             # byte-swapped: staged
    lambda a: a.astype(np.float16),                         # staged dtype
    lambda a: a.reshape(8, 8)[:, 1:5],                      # non-contiguous 2-D
])
def test_inputs_the_fast_path_declines_are_still_right(make):
    base = np.linspace(-5, 5, 64)
    fastact.tanh(base.astype(np.float32))                   # cache filled
    x = make(base)
    y = fastact.tanh(x)
    # a byte-swapped input gives a native-order result, as NumPy's ufuncs do
    assert y.dtype == x.dtype.newbyteorder("=") and y.shape == x.shape
    tol = 1e-3 if x.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(y.astype(np.float64), np.tanh(x.astype(np.float64)), rtol=tol, atol=tol)


def test_fast_paths_still_validate_n_threads_and_types():
    x = np.ones(8, np.float32)
    fastact.gelu(x)
    with pytest.raises(ValueError, match="n_threads"):
        fastact.gelu(x, n_threads=0)
    with pytest.raises(TypeError):
        fastact.gelu(np.ones(8, np.int32))
    with pytest.raises(TypeError):
        fastact.gelu_(np.ones(8, np.int32))


def test_fast_path_after_kernel_switch():
    """Switching the loop table keeps the cached specs (kernel ids are the
    same in every table) and gives the same results."""
    from fastact import _dispatch
    x = np.linspace(-3, 3, 100, dtype=np.float32)
    before = fastact.silu(x)
    current = _dispatch.state.variant
    try:
        for v in _dispatch.available():
            _dispatch.use(v)
            fastact.silu(x)
            np.testing.assert_allclose(fastact.silu(x), before, rtol=2e-6, atol=1e-7)
            y = x.copy()
            fastact.silu_(y)
            fastact.silu_(y := x.copy())     # second call: the in-place fast path
            np.testing.assert_allclose(y, before, rtol=2e-6, atol=1e-7)
    finally:
        _dispatch.use(current)


def test_variant_fixture_switches_kernels(variant):
    """The `variant` parameter of every test module (tests/conftest.py) must
    switch the loop table, not just name it: as a direct parameter it had
    shadowed the switching fixture, so every variant ran the default one."""
    from fastact import _dispatch
    assert _dispatch.state.variant == variant
    assert _dispatch.state.kernels.__name__ == "fastact._front"
    assert _dispatch.state.kernels.table_target() == variant


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_and_backward_fast_paths_match_general_path(dtype):
    rng = np.random.default_rng(5)
    x = np.asarray(rng.standard_normal((64, 33)) * 4, dtype=dtype)
    g = np.asarray(rng.standard_normal(x.shape), dtype=dtype)
    _fresh("silu")
    first = fastact.silu_backward(g, x)              # general path; fills the cache
    assert np.array_equal(fastact.silu_backward(g, x), first)
    out = np.empty_like(x)
    assert fastact.silu_backward(g, x, out=out) is out and np.array_equal(out, first)
    gi = g.copy()
    assert fastact.silu_backward_(gi, x) is gi and np.array_equal(gi, first)
    y = fastact.silu(x)
    out2 = np.full_like(x, 9.0)
    assert fastact.silu(x, out=out2) is out2 and np.array_equal(out2, y)
    xi = x.copy()
    assert fastact.silu(xi, out=xi) is xi and np.array_equal(xi, y)
    _fresh("sigmoid")
    s = fastact.sigmoid(x)
    by = fastact.sigmoid_backward(g, y=s)
    assert np.array_equal(fastact.sigmoid_backward(g, y=s), by)


def test_fast_paths_leave_the_refusals_to_the_general_path():
    x = np.linspace(-4, 4, 256, dtype=np.float32)
    g = np.ones_like(x)
    fastact.gelu(x)
    fastact.gelu_backward(g, x)                         # cache filled for gelu()
    with pytest.raises(ValueError, match="output"):
        fastact.gelu_backward(g, y=fastact.gelu(x))     # not recoverable from y
    with pytest.raises(ValueError, match="overlaps"):
        fastact.gelu(x[:-1], out=x[1:])
    keep = x.copy()
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastact.gelu(x, out=ro)
    with pytest.raises(ValueError):
        fastact.gelu(x, out=np.empty(255, np.float32))
    with pytest.raises(ValueError):
        fastact.gelu(x, out=np.empty_like(x, dtype=np.float64))
    with pytest.raises(ValueError, match="exactly one"):
        fastact.gelu_backward(g, x, y=x)
    with pytest.raises(ValueError):
        fastact.gelu_backward(g[:-1], x)
    assert np.array_equal(x, keep)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_with_one_slope_takes_leaky_relus_fast_path(dtype):
    """prelu with a Python-number slope is leaky_relu's kernel: after one
    validated call its forward forms are served in C; results as the general
    path's; the backward (which also returns grad_alpha) stays general."""
    x = np.linspace(-5, 5, 1001).astype(dtype)
    g = np.linspace(1, 2, 1001).astype(dtype)
    _fresh("prelu")
    for alpha in (0.25, 0, -3):
        want = np.where(x > 0, x, dtype(alpha) * x)
        y0 = fastact.prelu(x, alpha)
        assert (alpha, 1) in _elementwise._FAST["prelu"]
        y1 = fastact.prelu(x, alpha)
        out = np.empty_like(x)
        assert fastact.prelu(x, alpha, out=out) is out
        x2 = x.copy()
        assert fastact.prelu_(x2, alpha) is x2
        for y in (y0, y1, out, x2, fastact.leaky_relu(x, alpha)):
            np.testing.assert_array_equal(y, want)
        gx, ga = fastact.prelu_backward(g, x, alpha=alpha)
        np.testing.assert_array_equal(gx, np.where(x > 0, g, dtype(alpha) * g))
        assert ga.shape == () and ga.dtype == dtype
        np.testing.assert_allclose(ga, (g * np.minimum(x, 0)).sum(dtype=np.float64), rtol=1e-6)
    # the refusals stay the general path's, with the cache warm
    with pytest.raises(ValueError, match="prelu_backward: y= cannot stand for x"):
        fastact.prelu_backward(g, y=x, alpha=0.25)
    with pytest.raises(TypeError, match="prelu_: axis must be an int, got bool"):
        fastact.prelu_(x.copy(), 0.25, axis=True)
    with pytest.raises(ValueError, match="prelu: alpha must be finite"):
        fastact.prelu(x, float("inf"))
    per_channel = fastact.prelu(x.reshape(1, -1), np.full(1001, 0.5, dtype))
    np.testing.assert_array_equal(per_channel.ravel(), np.where(x > 0, x, dtype(0.5) * x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "gelu", "tanh", "relu"])
def test_block_loops_match_short_calls(name, dtype):
    """Chunks of >= 1 MB run the element-wise loops in prefetching blocks
    after a head up to the output's 64-byte boundary (src/loops/elementwise.h);
    every element must come out bit for bit as in short calls (one plain
    loop each), at each start offset within a cache line, in the last partial
    block, with 2 threads (two such chunks), in place and backward."""
    fns = fastact.get(name)
    n = (3 << 20) // np.dtype(dtype).itemsize + 1237                # 3 MB + a partial block
    base = np.linspace(-12, 12, n + 16, dtype=dtype)
    gbase = np.linspace(1, 2, n + 16, dtype=dtype)

    def pieces(f, *a):
        return np.concatenate([f(*(v[i:i + 1000] for v in a)) for i in range(0, n, 1000)])

    for off in (0, 3, 5):
        x, g = base[off:off + n], gbase[off:off + n]
        want, dwant = pieces(fns.forward, x), pieces(fns.backward, g, x)
        for nt in (1, 2):
            assert np.array_equal(fns.forward(x, n_threads=nt), want)
            assert np.array_equal(fns.backward(g, x, n_threads=nt), dwant)
            w = base.copy()
            fns.forward_(w[off:off + n], n_threads=nt)
            assert np.array_equal(w[off:off + n], want)
            assert np.array_equal(w[:off], base[:off]) and np.array_equal(w[off + n:], base[off + n:])


@pytest.mark.parametrize("shape", [(3, (3 << 20) // 12 + 77), (3000, 263)])
def test_bias_act_beyond_the_prefetch_threshold(shape):
    """bias_act over >= 1 MB walks rows in prefetching segments: rows longer
    than a segment (with a partial one) and rows much shorter; both threads."""
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    z = x + b
    want = fastact.silu(z)
    dwant = fastact.silu_backward(g, z)
    for nt in (1, 2):
        assert np.array_equal(fastact.bias_act(x, b, "silu", n_threads=nt), want)
        gx, gb = fastact.bias_act_backward(g, x, bias=b, act="silu", n_threads=nt)
        assert np.array_equal(gx, dwant)
        np.testing.assert_allclose(gb, dwant.sum(axis=0, dtype=np.float64), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_fast_path_matches_general_path(name, dtype):
    """A plain-int axis on C-contiguous arrays runs in C (fast_softmax); a
    NumPy-integer axis takes the general path: both give the same bits."""
    rng = np.random.default_rng(9)
    fns = fastact.get(name)
    for shape in [(1000,), (10, 100), (3, 5, 70), (600, 3)]:
        x = np.asarray(rng.standard_normal(shape) * 4, dtype=dtype)
        g = np.asarray(rng.standard_normal(shape), dtype=dtype)
        for axis in range(-len(shape), len(shape)):
            y_gen = fns.forward(x, axis=np.int64(axis))
            y = fns.forward(x, axis=axis)
            assert y is not x and np.array_equal(y, y_gen)
            out = np.full_like(x, 7.0)
            assert fns.forward(x, axis=axis, out=out) is out and np.array_equal(out, y_gen)
            xi = x.copy()
            assert fns.forward_(xi, axis=axis) is xi and np.array_equal(xi, y_gen)
            d_gen = fns.backward(g, y=y_gen, axis=np.int64(axis))
            assert np.array_equal(fns.backward(g, y=y_gen, axis=axis), d_gen)
            assert np.array_equal(fns.backward(g, x, axis=axis), fns.backward(g, x, axis=np.int64(axis)))
            gi = g.copy()
            assert fns.backward_(gi, y=y_gen, axis=axis) is gi and np.array_equal(gi, d_gen)
            for nt in (1, 2, -1):
                assert np.array_equal(fns.forward(x, axis=axis, n_threads=nt), y_gen)


def _every_forward_form(fns, x, want, **kw):
    """fns' forward out of place, into out=, in place and on 1 and 2 threads:
    each gives want's bits."""
    assert np.array_equal(fns.forward(x, **kw), want, equal_nan=True), kw
    out = np.full_like(x, 7.0)
    assert fns.forward(x, out=out, **kw) is out and np.array_equal(out, want, equal_nan=True)
    xi = x.copy()
    assert fns.forward_(xi, **kw) is xi and np.array_equal(xi, want, equal_nan=True)
    for nt in (1, 2):
        assert np.array_equal(fns.forward(x, n_threads=nt, **kw), want, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, scale", [("softmin", 1.0), ("softmin", 0.5), ("softmin", -1.0),
                                         ("softmax", 0.125), ("log_softmax", -2.0), ("softmax", 0.0)])
def test_scaled_softmax_fast_path_matches_general_path(name, scale, dtype):
    """softmin and a float scale run in C too (the masked kernels without a
    mask); a NumPy-integer axis takes the general path: the same bits."""
    rng = np.random.default_rng(11)
    fns = fastact.get(name)
    for shape in [(1000,), (10, 100), (3, 5, 70), (600, 3)]:
        x = np.asarray(rng.standard_normal(shape) * 4, dtype=dtype)
        for axis in range(-len(shape), len(shape)):
            want = fns.forward(x, axis=np.int64(axis), scale=scale)
            _every_forward_form(fns, x, want, axis=axis, scale=scale)
    x = np.ones((4, 8), dtype)
    for bad in (np.inf, -np.inf, np.nan):     # refused by the C path, explained by the general one
        with pytest.raises(ValueError, match="scale"):
            fns.forward(x, scale=bad)
        with pytest.raises(ValueError, match="scale"):
            fns.forward_(x.copy(), scale=bad)
    if name == "softmin":                      # softmin(x) is softmax(-x)
        assert np.array_equal(fastact.softmin(x * 3), fastact.softmax(x * 3, scale=-1.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_broadcast_slope_fast_path(dtype):
    """An ONNX-style slope with one axis of extent > 1 ((1, C), (C, 1), (1, C, 1), ...)
    runs as the per-channel C path: the general path's bits (an F-ordered x takes
    that one), in place and out of place; other slopes stay on the general path."""
    rng = np.random.default_rng(5)
    for xshape, ashape in [((7, 1000), (1, 1000)), ((1, 1000), (1, 1000)), ((6, 5, 40), (1, 5, 1)),
                           ((6, 5, 40), (5, 1)), ((3, 4, 9), (1, 1, 9)), ((8, 3), (8, 1)),
                           ((4, 6), (4, 6)), ((4, 6), (1, 1)), ((2, 3, 4), (3, 1))]:
        x = np.asarray(rng.standard_normal(xshape) * 3, dtype=dtype)
        a = np.asarray(rng.uniform(-0.5, 0.5, ashape), dtype=dtype)
        want = fastact.prelu(np.asfortranarray(x), a)          # the general path
        assert np.array_equal(fastact.prelu(x, a), want), (xshape, ashape)
        out = np.full_like(x, 7.0)
        assert fastact.prelu(x, a, out=out) is out and np.array_equal(out, want)
        xi = x.copy()
        assert fastact.prelu_(xi, a) is xi and np.array_equal(xi, want)
        x64 = x.astype(np.float64)
        np.testing.assert_allclose(want, np.where(x64 > 0, x64, a.astype(np.float64) * x64), rtol=1e-6)
    with pytest.raises(ValueError, match="broadcast"):
        fastact.prelu(np.ones((4, 6), dtype), np.ones((1, 5), dtype))
    with pytest.raises(ValueError):
        fastact.prelu(np.ones((4, 6), dtype), np.full((1, 6), np.nan, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_masked_softmax_fast_path_matches_general_path(name, dtype):
    """A bool ndarray mask (any broadcast against x, over the last axis) runs
    in C; a NumPy-integer axis takes the general path: the same bits, rows
    with no entry left included; masks that do not qualify still work."""
    rng = np.random.default_rng(13)
    fns = fastact.get(name)
    cases = [((6, 40), (40,)), ((6, 40), (6, 40)), ((6, 40), (6, 1)), ((6, 40), ()), ((6, 40), (1, 40)),
             ((2, 3, 8, 8), (8, 8)), ((2, 3, 8, 8), (3, 1, 8)), ((2, 3, 8, 8), (2, 1, 8, 1)), ((1000,), (1000,))]
    for xshape, mshape in cases:
        x = np.asarray(rng.standard_normal(xshape) * 4, dtype=dtype)
        m = rng.random(mshape) < 0.7
        if m.ndim:
            m[(0,) * m.ndim] = False
        for scale in (1.0, 0.125):
            want = fns.forward(x, axis=np.int64(-1), where=m, scale=scale)
            _every_forward_form(fns, x, want, where=m, scale=scale)
    for xshape, axis in (((5, 1), 0), ((3, 7, 1), 1), ((4, 1, 1), 0)):   # trailing axes of extent 1
        x = np.asarray(rng.standard_normal(xshape), dtype=dtype)
        m = rng.random(xshape) < 0.6
        want = fns.forward(x, axis=np.int64(axis), where=m)
        assert np.array_equal(fns.forward(x, axis=axis, where=m), want, equal_nan=True)
        flat = fns.forward(np.moveaxis(x, axis, -1).copy(), where=np.moveaxis(m, axis, -1).copy())
        assert np.array_equal(np.moveaxis(flat, -1, axis), want, equal_nan=True)
    x = np.asarray(rng.standard_normal((4, 16)), dtype=dtype)
    m = rng.random((4, 32)) < 0.5
    want = fns.forward(x, axis=np.int64(-1), where=np.ascontiguousarray(m[:, ::2]))
    assert np.array_equal(fns.forward(x, where=m[:, ::2]), want, equal_nan=True)   # a strided mask
    buf = np.zeros(x.nbytes, np.uint8)                       # a mask inside the output's memory
    o = buf.view(dtype).reshape(4, 16)
    mo = buf[:64].view(bool).reshape(4, 16)
    mo[...] = m[:, :16]
    want = fns.forward(x, axis=np.int64(-1), where=mo.copy())
    assert np.array_equal(fns.forward(x, where=mo, out=o), want, equal_nan=True)
    with pytest.raises(TypeError, match="where"):
        fns.forward(x, where=np.ones((4, 16), np.int8))
    with pytest.raises(ValueError, match="where"):
        fns.forward(x, where=np.ones((4, 15), bool))


def test_softmax_fast_path_leaves_the_refusals_to_the_general_path():
    x = np.linspace(-4, 4, 256, dtype=np.float32).reshape(16, 16)
    keep = x.copy()
    with pytest.raises(ValueError, match="axis"):
        fastact.softmax(x, axis=2)
    with pytest.raises(TypeError):
        fastact.softmax(x, axis=True)
    with pytest.raises(ValueError, match="overlaps"):
        fastact.softmax(x.ravel()[:-1], out=x.ravel()[1:])
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fastact.softmax_(ro)
    with pytest.raises(ValueError):
        fastact.softmax(x, out=np.empty((16, 15), np.float32))
    with pytest.raises(ValueError):
        fastact.log_softmax_backward(x, y=x[:, :15])
    with pytest.raises(ValueError, match="n_threads"):
        fastact.softmax(x, n_threads=0)
    assert np.array_equal(x, keep)
    # declined (strided, float16, empty, 0-d) but right
    np.testing.assert_allclose(fastact.softmax(x[:, ::2]), fastact.softmax(np.ascontiguousarray(x[:, ::2])))
    np.testing.assert_allclose(fastact.softmax(x.astype(np.float16)), fastact.softmax(x), rtol=2e-3)
    assert fastact.softmax(np.empty((0, 3), np.float32)).shape == (0, 3)
    assert fastact.softmax(np.float32(2.0) * np.ones((), np.float32)) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", [("glu", {}), ("swiglu", {}), ("geglu", {}),
                                         ("geglu", {"approximate": "tanh"})])
def test_gated_fast_path_matches_general_path(name, params, dtype):
    """After one validated call, the gated forward into a new array runs from C
    (fast_gated): the same bits as the general path on every axis, and the
    general path still takes (and explains) everything it declines."""
    fns = fastact.get(name)
    _fresh(name)
    x = (np.random.default_rng(5).standard_normal((6, 8, 10)) * 3).astype(dtype)
    for axis in (-1, 0, 1, 2, -3):
        want = fns.forward(np.asfortranarray(x), axis=axis, **params)   # general path (F order)
        first = fns.forward(x, axis=axis, **params)                     # general, fills the cache
        key = (axis,) + tuple(params.get(p.name, p.default) for p in BY_NAME[name].params[1:])
        assert key in _elementwise._FAST[name]
        for nt in (None, 1, 2):
            y = fns.forward(x, axis=axis, **params, n_threads=nt)      # fast
            assert y.dtype == x.dtype and y.shape == want.shape
            assert np.array_equal(y, want) and np.array_equal(first, want)
    with pytest.raises(ValueError, match=f"{name}: x has odd length 7"):
        fns.forward(np.ones((4, 7), dtype), **params)
    with pytest.raises(ValueError, match=f"{name}: axis 3 is out of range"):
        fns.forward(x, axis=3, **params)
    with pytest.raises(TypeError, match=f"{name}: axis must be an int, got bool"):
        fns.forward(x, axis=True, **params)
    with pytest.raises(ValueError, match=f"{name}: n_threads must be >= 1"):
        fns.forward(x, **params, n_threads=0)
    big = (np.random.default_rng(6).standard_normal((3, 300_000)) * 3).astype(dtype)
    np.testing.assert_array_equal(fns.forward(big, **params, n_threads=2),
                                  fns.forward(big, **params, n_threads=1))
    assert fns.forward(np.empty((0, 4), dtype), **params).shape == (0, 2)
    strided = x[:, ::2]
    np.testing.assert_array_equal(fns.forward(strided, axis=1, **params),
                                  fns.forward(np.ascontiguousarray(strided), axis=1, **params))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prelu_per_channel_fast_path(dtype):
    """prelu's forward forms with a per-channel alpha array run from C
    (fast_prelu checks x, alpha and axis itself): results as the formula on
    every axis, in place and out of place; what it declines goes to the
    general path, which still refuses bad alphas by name."""
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((3, 5, 4, 6)) * 3).astype(dtype)
    for axis in (0, 1, 2, 3, -1, -3):
        C = x.shape[axis]
        al = np.linspace(-0.5, 0.75, C).astype(dtype)
        shape = [1] * x.ndim
        shape[axis] = C
        want = np.where(x > 0, x, al.reshape(shape) * x)
        for nt in (None, 1, 2):
            assert np.array_equal(fastact.prelu(x, al, axis=axis, n_threads=nt), want)
            out = np.empty_like(x)
            assert fastact.prelu(x, al, axis=axis, out=out) is out and np.array_equal(out, want)
            xi = x.copy()
            assert fastact.prelu_(xi, al, axis=axis, n_threads=nt) is xi and np.array_equal(xi, want)
        # slopes of the other float dtype (float64 slopes on float32 data): converted
        # in C as the general path (an F-ordered x takes it) converts them
        other = al.astype(np.float64) + 1e-9 if dtype == np.float32 else al.astype(np.float32)
        want = np.where(x > 0, x, other.astype(dtype).reshape(shape) * x)
        for got in (fastact.prelu(x, other, axis=axis), fastact.prelu(np.asfortranarray(x), other, axis=axis),
                    fastact.prelu_(x.copy(), other, axis=axis)):
            assert np.array_equal(got, want)
    if dtype == np.float32:         # a float64 slope beyond float32: the general path's cast (inf, warned)
        big = np.linspace(0.1, 0.4, 6)
        big[2] = 1e300
        with np.errstate(over="ignore"):
            want = np.where(x > 0, x, big.astype(np.float32) * x)
        for f in (lambda: fastact.prelu(x, big, axis=-1), lambda: fastact.prelu_(x.copy(), big, axis=-1)):
            with pytest.warns(RuntimeWarning, match="overflow"):
                assert np.array_equal(f(), want, equal_nan=True)
    big = (rng.standard_normal((4, 64, 1000)) * 3).astype(dtype)
    al = np.linspace(0.1, 0.4, 64).astype(dtype)
    np.testing.assert_array_equal(fastact.prelu(big, al, n_threads=2), fastact.prelu(big, al, n_threads=1))
    y = x.reshape(-1, 6).copy()                         # alpha aliases a row being written
    keep = y.copy()
    fastact.prelu_(y, y[1], axis=1)
    assert np.array_equal(y, np.where(keep > 0, keep, keep[1] * keep))
    al5 = np.linspace(0.1, 0.5, 5).astype(dtype)
    od = np.float64 if dtype == np.float32 else np.float32
    for bad, exc, msg in [(np.array([0.1, np.nan, 0.2, 0.3, 0.4], dtype), ValueError, "must not contain NaN"),
                          (np.array([0.1, np.inf, 0.2, 0.3, 0.4], dtype), ValueError, "must be finite"),
                          (np.array([0.1, np.nan, 0.2, 0.3, 0.4], od), ValueError, "must not contain NaN"),
                          (np.array([0.1, 0.2, 0.3, 0.4, -np.inf], od), ValueError, "must be finite"),
                          (al5[:4], ValueError, "alpha has 4 values but x has 5 channels")]:
        before = x.tobytes()
        with pytest.raises(exc, match=f"prelu_: alpha {msg}" if "alpha has" not in msg else f"prelu_: {msg}"):
            fastact.prelu_(x, bad, axis=1)
        assert x.tobytes() == before
    with pytest.raises(TypeError, match="prelu: axis must be an int, got bool"):
        fastact.prelu(x, al5, axis=True)
    ro = x.copy()
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="prelu_: x is read-only"):
        fastact.prelu_(ro, al5, axis=1)
    with pytest.raises(ValueError, match="prelu: n_threads must be >= 1"):
        fastact.prelu(x, al5, axis=1, n_threads=0)


class _Sub(np.ndarray):
    pass


def _misaligned(a):
    """a's values in a writable array whose data is not aligned to its itemsize."""
    buf = bytearray(a.nbytes + 1)
    m = np.ndarray(a.shape, dtype=a.dtype, buffer=buf, offset=1)
    m[...] = a
    return m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda a: a.copy(),                          # the struct read
    lambda a: a.view(_Sub),                      # subclass: the buffer protocol
    _misaligned,                                 # declined: the general path
    lambda a: np.asfortranarray(a),              # F order: element-wise flat, softmax general
    lambda a: a.astype(a.dtype.newbyteorder()),  # byte-swapped: declined
])
def test_fast_paths_read_every_ndarray_layout_right(dtype, make):
    # the fast paths read plain ndarrays from their structs and anything else
    # through the buffer protocol; each kind gives the plain array's results
    x0 = np.linspace(-4, 4, 8 * 64).reshape(8, 64).astype(dtype)
    b = np.linspace(-1, 1, 64).astype(dtype)
    alpha = np.linspace(0.1, 0.3, 8).astype(dtype)
    calls = {
        "relu": lambda x: fastact.relu(x, max=6.0),
        "relu_": lambda x: fastact.relu_(x, max=6.0),
        "relu_backward": lambda x: fastact.relu_backward(x, x, max=6.0),
        "softmax": lambda x: fastact.softmax(x),
        "softmax_": lambda x: fastact.softmax_(x),
        "glu": lambda x: fastact.glu(x),
        "bias_act_": lambda x: fastact.bias_act_(x, b, "gelu"),
        "prelu_": lambda x: fastact.prelu_(x, alpha, 0),
    }
    for name, f in calls.items():
        f(x0.copy())                             # the fast path's cache filled
        f(x0.copy())
        want = np.asarray(f(x0.copy()), np.float64)
        x = make(x0)
        got = f(x)
        assert np.array_equal(np.asarray(got, np.float64), want), name
        if name.endswith("_"):
            assert got is x and np.array_equal(np.asarray(x, np.float64), want), name


def test_fast_paths_refuse_read_only_and_take_empty_arrays():
    x = np.linspace(-4, 4, 64, dtype=np.float32).reshape(4, 16)
    for f in (fastact.relu_, fastact.softmax_, lambda a: fastact.bias_act_(a, np.ones(16, np.float32), "relu"),
              lambda a: fastact.prelu_(a, np.full(4, 0.25, np.float32), 0)):
        f(x.copy())
        ro = x.copy()
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            f(ro)
        assert np.array_equal(ro, x)
    e = np.empty((0,), np.float32)
    fastact.relu_(e)
    assert fastact.relu_(e) is e and fastact.relu(e).shape == (0,)
    assert fastact.relu_backward(e, e).shape == (0,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_streamed_out_gives_the_same_bits(variant, dtype):
    # out-of-place forwards into the caller's out= of at least the stream
    # threshold (the last-level cache's size) take the non-temporal-store loops;
    # a tiny threshold sends every kernel there, on every variant, from the
    # fast path and the general path, with heads that are not 64-byte aligned
    from fastact import _front
    rng = np.random.default_rng(5)
    n = 3000
    x = (rng.standard_normal(n + 8) * 4).astype(dtype)
    x[[3, 100, 2000]] = [np.nan, np.inf, -np.inf]
    x = x[5:5 + n]
    big = np.empty(n + 16, dtype)
    names = [a.name for a in fastact._TABLE if a.kind == "elementwise"]
    for shift in (0, 3):
        out = big[shift:shift + n]
        want = {}
        old = _front.set_stream_min(0)
        try:
            for name in names:
                if any(p.default is fastact._table.REQUIRED for p in BY_NAME[name].params):
                    continue
                f = getattr(fastact, name)
                want[name] = f(x).copy()
            _front.set_stream_min(64)
            for name, w in want.items():
                f = getattr(fastact, name)
                _fresh(name)
                for _ in range(2):                  # the general path, then the fast path
                    out[...] = 0
                    assert f(x, out=out) is out
                    assert np.array_equal(out.view(np.uint8), w.view(np.uint8)), (name, shift)
        finally:
            _front.set_stream_min(old)


def _placed(a):
    try:
        from numpy._core.multiarray import get_handler_name
    except ImportError:                                 # NumPy 1.x
        from numpy.core.multiarray import get_handler_name
    return get_handler_name(a) == "fastact_placed"


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_new_results_start_at_their_inputs_address_modulo_64(dtype):
    """A new result of 4 KiB to 4 MiB starts where its input does modulo 64
    (so a kernel's aligned stores also align its loads), owns its memory,
    keeps the input's memory order, survives a resize and gives the same
    values as elsewhere; shorter and longer results take NumPy's allocator."""
    rng = np.random.default_rng(5)
    isz = np.dtype(dtype).itemsize
    base = (rng.standard_normal(8192 + 64) * 3).astype(dtype)
    seen = set()
    calls = [lambda x: fastact.relu(x), lambda x: fastact.gelu(x), lambda x: fastact.tanh(x),
             lambda x: fastact.softmax(x.reshape(32, -1)), lambda x: fastact.sigmoid_backward(x, x),
             lambda x: fastact.bias_act(x.reshape(32, -1), np.ones(x.size // 32, dtype), "relu")]
    for k in range(0, 64 // isz):
        x = base[k:k + 4096]
        for i, f in enumerate(calls):
            for _ in range(2):                          # general path, then the fast path
                y = f(x)
                assert y.ctypes.data % 64 == x.ctypes.data % 64, (k, i)
                assert y.flags.owndata and _placed(y), (k, i)
            seen.add(x.ctypes.data % 64)
            other = np.empty(4096 + 64, dtype)[1:4097]     # the same values elsewhere
            other[...] = x
            assert np.array_equal(f(other), y, equal_nan=True), (k, i)
    assert len(seen) == 64 // isz                      # every offset of an aligned dtype
    x = np.asfortranarray(base[:4096].reshape(64, 64))
    y = fastact.relu(x)
    assert y.flags.f_contiguous and _placed(y) and np.array_equal(y, np.maximum(x, 0))
    keep = y.ravel(order="K").copy()                   # the bytes in memory order
    y.resize(8192, refcheck=False)                     # NumPy resizes through the same allocator
    assert np.array_equal(y[:4096], keep) and (y[4096:] == 0).all()
    small = fastact.relu(base[:4096 // 8 - 1])         # under 4 KiB: NumPy's allocator
    assert not _placed(small)
    assert not _placed(fastact.relu(np.zeros((1 << 22) // isz, dtype)))   # 4 MiB: NumPy's (huge pages)
    assert not _placed(fastact.relu(base[:8192:2]))    # strided: NumPy's


def test_placed_results_are_traced_and_freed():
    """A placed result shows in tracemalloc (NumPy's domain) while it lives and
    goes with it: 200 calls leave no traced block behind."""
    import tracemalloc
    x = np.ones(16384, np.float32)
    y = fastact.relu(x)
    assert _placed(y)
    tracemalloc.start()
    try:
        y = fastact.relu(x)
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)])
        assert sum(t.size for t in snap.traces) >= y.nbytes
        del y
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            fastact.relu(x)
        assert tracemalloc.get_traced_memory()[0] - before < x.nbytes
    finally:
        tracemalloc.stop()
