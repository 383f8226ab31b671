"""softmax / log_softmax / softmin with where= (a mask), scale= and a tuple
axis, all forms, against fastact.reference, JAX (where=) and PyTorch (softmin)."""
import itertools
import tracemalloc

import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fastact._table import BY_NAME
from fa_testutil import assert_ulp

DTYPES = [np.float32, np.float64]
NAMES = ["softmax", "log_softmax", "softmin"]


def arrays(rng, dtype):
    yield (rng.standard_normal((7, 33)) * 4).astype(dtype)
    yield np.asfortranarray((rng.standard_normal((6, 5, 17)) * 4).astype(dtype))
    yield (rng.standard_normal((9, 40)) * 4).astype(dtype)[::2, ::-3]
    yield (rng.standard_normal((2, 3, 4, 5)) * 4).astype(dtype)
    yield (rng.standard_normal(1000) * 10).astype(dtype)
    yield np.array(1.5, dtype)
    yield np.empty((0, 3), dtype)
    yield (rng.standard_normal((300, 257)) * 3).astype(dtype)   # threaded


def axes_of(x):
    nd = max(x.ndim, 1)
    out = list(range(-nd, nd))
    if x.ndim >= 2:
        out += [tuple(range(x.ndim)), (0, x.ndim - 1), (-2, -1)]
    if x.ndim >= 3:
        out += [(1, 2), (2, 0)]
    return out


def masks(rng, x, axis):
    """None, a full random mask with some rows wholly masked out, a mask over
    the reduced axes only (broadcast over the rest), one flag per row
    (broadcast over the reduced axes), and a 0-d True."""
    nd = x.ndim
    red = {a % max(nd, 1) for a in (axis if isinstance(axis, tuple) else (axis,))}
    yield None
    full = rng.random(x.shape) < 0.7
    if nd >= 2 and x.size:
        idx = tuple(slice(None) if i in red else 0 for i in range(nd))
        full[idx] = False                          # a row with every entry masked out
    yield full
    if nd >= 2:
        yield rng.random(tuple(n if i in red else 1 for i, n in enumerate(x.shape))) < 0.7
        yield rng.random(tuple(1 if i in red else n for i, n in enumerate(x.shape))) < 0.7
    yield np.bool_(True)


def _limit(name, dtype, x, axis):
    """The row's ulp bound, plus a summation term for float64 (float32 rows
    sum in double), as the plain softmax tests."""
    u = BY_NAME[name].ulp[0 if dtype == np.float32 else 1]
    ax = axis if isinstance(axis, tuple) else (axis,)
    L = int(np.prod([x.shape[a] for a in ax])) if x.ndim else 1
    return u + (0.5 * np.log2(max(L, 2)) if dtype == np.float64 else 0), L


def check_forward(name, x, y, e, dtype, axis, what):
    tol, L = _limit(name, dtype, x, axis)
    if name == "log_softmax":
        # near 0 the result cancels: absolute error ~ ulp(log(row length))
        with np.errstate(invalid="ignore"):     # -inf - -inf where masked
            near = np.abs(y.astype(np.float64) - e) <= 16 * np.finfo(dtype).eps * np.log(max(L, 2))
        y = np.where(near, e, y)
    assert_ulp(y, e, dtype, tol, what)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", NAMES)
def test_where_scale_and_tuple_axis_all_forms(name, dtype):
    rng = np.random.default_rng(11)
    fns = fastact.get(name)
    for x in arrays(rng, dtype):
        scales = (1.0, 0.125, -2.0) if x.size < 10000 else (0.125,)
        for axis in axes_of(x):
            for where, scale in itertools.product(list(masks(rng, x, axis)), scales):
                kw = dict(axis=axis, where=where, scale=scale)
                what = f"{name} {x.shape} axis={axis} where={getattr(where, 'shape', None)} scale={scale}"
                e = ref.forward(name, x, **kw)
                y = fns.forward(x, **kw)
                assert y.shape == x.shape and y.dtype == x.dtype
                check_forward(name, x, y, e, dtype, axis, what)
                if where is not None:
                    w = np.broadcast_to(where, x.shape)
                    dead = -np.inf if name == "log_softmax" else 0.0
                    assert np.all(y[~w] == dead), what
                xi = x.copy()
                assert fns.forward_(xi, **kw) is xi
                assert np.array_equal(xi, y, equal_nan=True), what
                out = np.empty_like(x)
                assert fns.forward(x, out=out, **kw) is out and np.array_equal(out, y, equal_nan=True)
                g = rng.standard_normal(x.shape).astype(dtype)
                eb = ref.backward(name, g, x, **kw)
                d = fns.backward(g, y=y, **kw)
                gs = (np.abs(g).max() if g.size else 1.0) * abs(scale)
                np.testing.assert_allclose(d, eb, atol=16 * np.finfo(dtype).eps * gs,
                                           rtol=16 * np.finfo(dtype).eps, err_msg=what + " backward from y")
                dx = fns.backward(g, x, **kw)
                np.testing.assert_allclose(dx, d, atol=16 * np.finfo(dtype).eps * gs, rtol=1e-5,
                                           err_msg=what + " backward from x")
                gi = g.copy()
                assert fns.backward_(gi, y=y, **kw) is gi
                assert np.array_equal(gi, d), what
                if where is not None:
                    assert np.all(d[~np.broadcast_to(where, x.shape)] == 0), what


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_all_true_mask_and_scale_one_give_the_plain_bits(name, dtype):
    """The masked kernel runs the plain kernel on where(mask, 1*x, -inf): with
    every entry kept and scale 1 the bits are those of the plain call."""
    rng = np.random.default_rng(3)
    fns = fastact.get(name)
    for shape, axis in [((64, 100), -1), ((5, 40, 70), 1), ((3, 1000), -1), ((17,), 0)]:
        x = (rng.standard_normal(shape) * 5).astype(dtype)
        x.flat[::13] = -np.inf
        g = rng.standard_normal(shape).astype(dtype)
        plain = fns.forward(x, axis=axis)
        for kw in ({"where": np.ones(shape, bool)}, {"where": np.True_}, {"scale": np.float64(1.0)},
                   {"scale": 1}, {"where": np.ones(shape[-1], bool), "scale": 1.0}):
            assert np.array_equal(fns.forward(x, axis=axis, **kw), plain), kw
            assert np.array_equal(fns.backward(g, y=plain, axis=axis, **kw),
                                  fns.backward(g, y=plain, axis=axis)), kw


@pytest.mark.parametrize("name", NAMES)
def test_tuple_axis_bits_do_not_depend_on_the_layout(name):
    """Several axes reduce over their joint extent in C order: the same bits
    from a C-ordered, an F-ordered and a strided array, and equal to the
    softmax of the axes moved last and merged."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((4, 6, 5, 7)) * 4).astype(np.float32)
    m = rng.random((6, 1, 7)) < 0.8
    fns = fastact.get(name)
    for axis in [(1, 2), (1, 3), (0, 2, 3), (-1, 1)]:
        kw = dict(axis=axis, where=m, scale=0.5)
        y = fns.forward(x, **kw)
        assert np.array_equal(fns.forward(np.asfortranarray(x), **kw), y)
        big = np.zeros((4, 6, 5, 14), np.float32)
        big[..., ::2] = x
        assert np.array_equal(fns.forward(big[..., ::2], **kw), y)
        ax = tuple(sorted(a % 4 for a in axis))
        rest = tuple(i for i in range(4) if i not in ax)
        xt = np.ascontiguousarray(x.transpose(rest + ax)).reshape([x.shape[i] for i in rest] + [-1])
        mt = np.ascontiguousarray(np.broadcast_to(m, x.shape).transpose(rest + ax)).reshape(xt.shape)
        yt = fns.forward(xt, axis=-1, where=mt, scale=0.5)
        assert np.array_equal(yt, np.ascontiguousarray(y.transpose(rest + ax)).reshape(xt.shape))


@pytest.mark.parametrize("name", NAMES)
def test_masked_threads_do_not_change_bits(name):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((512, 384)).astype(np.float32)
    m = np.tril(np.ones((512, 384), bool))
    fns = fastact.get(name)
    for axis in (-1, 0):
        r1 = fns.forward(x, axis=axis, where=m, scale=0.3, n_threads=1)
        r2 = fns.forward(x, axis=axis, where=m, scale=0.3, n_threads=2)
        assert np.array_equal(r1, r2)
        g = rng.standard_normal(x.shape).astype(np.float32)
        assert np.array_equal(fns.backward(g, x, axis=axis, where=m, n_threads=1),
                              fns.backward(g, x, axis=axis, where=m, n_threads=2))


def test_broadcast_mask_is_not_expanded():
    """A (T, T) causal mask over (B, H, T, T) scores is read through a
    zero-stride view: the call allocates far less than one byte per element."""
    B, H, T = 4, 8, 256
    x = np.random.default_rng(6).standard_normal((B, H, T, T)).astype(np.float32)
    causal = np.tril(np.ones((T, T), bool))
    fastact.softmax_(x.copy(), where=causal, scale=0.125)      # warm
    tracemalloc.start()
    try:
        fastact.softmax_(x, where=causal, scale=0.125)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.size // 16, peak


@pytest.mark.parametrize("name", NAMES)
def test_masked_backward_is_zero_where_masked(name):
    """Gradient 0 at masked entries from x and from y=, whatever grad holds
    there (inf, NaN) and whatever x holds there."""
    rng = np.random.default_rng(7)
    fns = fastact.get(name)
    x = rng.standard_normal((6, 10)).astype(np.float32)
    m = rng.random((6, 10)) < 0.6
    m[2] = False
    x[~m] = np.where(rng.random((~m).sum()) < 0.5, np.inf, np.nan)
    g = rng.standard_normal((6, 10)).astype(np.float32)
    g[~m] = np.inf
    y = fns.forward(x, where=m, scale=2.0)
    assert np.all(np.isfinite(y[m]))
    for d in (fns.backward(g, x, where=m, scale=2.0), fns.backward(g, y=y, where=m, scale=2.0)):
        assert np.all(d[~m] == 0) and not np.signbit(d[~m]).any()
        assert np.all(np.isfinite(d))
        np.testing.assert_allclose(d, ref.backward(name, g, x, where=m, scale=2.0), rtol=1e-5, atol=1e-6)
    # in place with grad given as y itself (grad aliases y)
    yy = y.copy()
    e = fns.backward(yy.copy(), y=yy, where=m, scale=2.0)
    assert np.array_equal(fns.backward_(yy, y=yy, where=m, scale=2.0), e)


def test_softmin_is_softmax_of_minus_x():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 9)).astype(np.float32)
    for kw in ({}, {"axis": 0}, {"where": rng.random(9) < 0.5, "scale": 0.5}):
        s = dict(kw, scale=-kw.get("scale", 1.0))
        assert np.array_equal(fastact.softmin(x, **kw), fastact.softmax(x, **s))
        g = rng.standard_normal(x.shape).astype(np.float32)
        assert np.array_equal(fastact.softmin_backward(g, x, **kw), fastact.softmax_backward(g, x, **s))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_half_dtypes_equal_the_float32_result_rounded(name, dtype):
    if dtype == "bfloat16":
        import ml_dtypes
        dt = np.dtype(ml_dtypes.bfloat16)
    else:
        dt = np.dtype(np.float16)
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((8, 24)) * 3).astype(dt)
    m = np.tril(np.ones((8, 24), bool))
    fns = fastact.get(name)
    y = fns.forward(x, where=m, scale=0.7)
    y32 = fns.forward(x.astype(np.float32), where=m, scale=0.7)
    assert np.array_equal(y.view(np.uint16), y32.astype(dt).view(np.uint16))
    g = rng.standard_normal(x.shape).astype(dt)
    d = fns.backward(g, x, where=m, scale=0.7)
    d32 = fns.backward(g.astype(np.float32), x.astype(np.float32), where=m, scale=0.7)
    assert np.array_equal(d.view(np.uint16), d32.astype(dt).view(np.uint16))


def test_scale_zero_and_negative_are_just_the_math():
    x = np.array([[1.0, 2.0, -3.0, np.inf], [1.0, 2.0, 3.0, 4.0]], np.float32)
    y = fastact.softmax(x, scale=0.0)
    assert np.isnan(y[0]).all()                  # 0*inf is NaN: a NaN row
    assert np.array_equal(y[1], np.full(4, 0.25, np.float32))
    assert np.array_equal(fastact.softmax(x[1:], scale=-1.0), fastact.softmin(x[1:]))


# ---- errors: named, raised before anything is written ----------------------

@pytest.mark.parametrize("form", ["", "_", "_backward", "_backward_"])
@pytest.mark.parametrize("name", NAMES)
def test_invalid_where_scale_axis_raise_and_write_nothing(name, form):
    f = getattr(fastact, name + form)
    fname = name + form
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    bad = [({"where": np.ones((3, 4), np.uint8)}, TypeError, "where must be a boolean array"),
           ({"where": [[1, 0, 1, 1]]}, TypeError, "where must be a boolean array"),
           ({"where": np.ones((4, 3), bool)}, ValueError, r"where of shape \(4, 3\) does not broadcast to "
                                                          r"x's shape \(3, 4\)"),
           ({"where": np.ones((2, 3, 4), bool)}, ValueError, "where of shape"),
           ({"axis": (0, 0)}, ValueError, "axis .* names an axis twice"),
           ({"axis": (1, -1)}, ValueError, "axis .* names an axis twice"),
           ({"axis": (0, 2)}, ValueError, "axis 2 is out of range"),
           ({"axis": ()}, ValueError, "axis must name at least one axis"),
           ({"axis": (0, 1.0)}, TypeError, "axis must be an int"),
           ({"scale": np.inf}, ValueError, "scale must be finite"),
           ({"scale": np.nan}, ValueError, "scale must not be NaN"),
           ({"scale": True}, TypeError, "scale must be a real number"),
           ({"scale": "2"}, TypeError, "scale must be a real number")]
    for kw, exc, msg in bad:
        a = x.copy()
        g = np.ones_like(x)
        with pytest.raises(exc, match=f"{fname}: {msg}"):
            if "backward" in form:
                f(g, a, **kw)
            else:
                f(a, **kw)
        assert np.array_equal(a, x) and np.array_equal(g, np.ones_like(x)), kw


# ---- peers -------------------------------------------------------------------

def test_where_matches_jax():
    """jax.nn.softmax / log_softmax(where=): masked entries 0 / -inf, fully
    masked rows 0 / -inf, -inf entries, and the gradient (0 where masked).
    JAX gives NaN for a row whose kept entries are all -inf; fastact gives
    0 / -inf there (as for an all -inf row without a mask)."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((4, 6, 24)) * 3).astype(np.float32)
    x[0, 0, :5] = -np.inf                       # -inf entries in a row with finite ones
    x[1, 2, 3] = np.nan                         # NaN and +inf where masked: ignored
    x[1, 2, 4] = np.inf
    m = rng.random((4, 6, 24)) < 0.6
    m[1, 2, 3:5] = False
    m[2, 1] = False                             # every entry masked
    m[0, 0, :5] = True
    g = rng.standard_normal(x.shape).astype(np.float32)
    for name, jf in (("softmax", jax.nn.softmax), ("log_softmax", jax.nn.log_softmax)):
        for axis, scale in ((-1, 1.0), (1, 0.25), ((1, 2), 0.5), (0, 2.0)):
            y = getattr(fastact, name)(x, axis=axis, where=m, scale=scale)
            xs = x * np.float32(scale)
            j, vjp = jax.vjp(lambda v: jf(v, axis=axis, where=jnp.asarray(m)), jnp.asarray(xs))
            j = np.asarray(j)
            assert np.array_equal(np.isinf(y), np.isinf(j)) and not np.isnan(y).any(), (name, axis)
            fin = np.isfinite(j)
            np.testing.assert_allclose(y[fin], j[fin], rtol=2e-6, atol=2e-7, err_msg=f"{name} {axis}")
            d = getattr(fastact, name + "_backward")(g, x, axis=axis, where=m, scale=scale)
            dj = scale * np.asarray(vjp(jnp.asarray(g))[0])
            np.testing.assert_allclose(d, dj, rtol=1e-5, atol=1e-5, err_msg=f"{name} {axis} backward")
            assert np.all(d[~m] == 0)
    # kept entries all -inf: JAX NaN, fastact 0 / -inf
    r = np.full((1, 4), -np.inf, np.float32)
    w = np.array([[True, True, False, False]])
    assert np.isnan(np.asarray(jax.nn.softmax(jnp.asarray(r), where=jnp.asarray(w)))[0, :2]).all()
    assert np.array_equal(fastact.softmax(r, where=w), np.zeros((1, 4), np.float32))
    assert np.isneginf(fastact.log_softmax(r, where=w)).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_softmin_matches_torch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((3, 7, 20)) * 3).astype(dtype)
    x[0, 0, 0] = np.inf                          # softmin: exp(-inf) = 0 there
    g = rng.standard_normal(x.shape).astype(dtype)
    tol = dict(rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)
    for dim in (-1, 0, 1):
        t = torch.tensor(x, requires_grad=True)
        r = torch.nn.functional.softmin(t, dim=dim)
        r.backward(torch.tensor(g))
        np.testing.assert_allclose(fastact.softmin(x, axis=dim), r.detach().numpy(), **tol)
        np.testing.assert_allclose(fastact.softmin_backward(g, x, axis=dim), t.grad.numpy(),
                                   rtol=16 * np.finfo(dtype).eps, atol=16 * np.finfo(dtype).eps * 4)
        y = fastact.softmin(x, axis=dim)
        np.testing.assert_allclose(fastact.softmin_backward(g, y=y, axis=dim), t.grad.numpy(),
                                   rtol=16 * np.finfo(dtype).eps, atol=16 * np.finfo(dtype).eps * 4)
