"""Gated (glu, swiglu, geglu) and fused bias + activation kernels."""
import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fa_testutil import CASES, ELEMENTWISE, assert_bwd, assert_ulp

DTYPES = [np.float32, np.float64]
GATED = [("glu", {}), ("swiglu", {}), ("geglu", {}), ("geglu", {"approximate": "tanh"})]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", GATED)
def test_gated_forward_backward(name, params, dtype):
    rng = np.random.default_rng(8)
    fns = fastact.get(name)
    for shape, axis in [((6, 10), -1), ((6, 10), 0), ((3, 8, 5), 1), ((64,), 0), ((140000, 2), 1),
                        ((2, 100002), -1)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        for xv in (x, np.asfortranarray(x)):
            y = fns.forward(xv, axis=axis, **params)
            e = ref.gated(name, xv, axis=axis, **params)
            assert y.shape == e.shape and y.dtype == x.dtype
            # a product of an activation (<= 8 ULP) and a rounding
            assert_ulp(y, e, dtype, 10, f"{name} {shape} axis={axis} {np.dtype(dtype)}")
            out = np.empty_like(y)
            assert fns.forward(xv, axis=axis, **params, out=out) is out and np.array_equal(out, y)
            g = rng.standard_normal(y.shape).astype(dtype)
            d = fns.backward(g, xv, axis=axis, **params)
            assert d.shape == x.shape
            # the scale of each half's gradient: |g*b| for a, |g*a| for b
            a_, b_ = np.split(xv.astype(np.float64), 2, axis=axis)
            gg = np.concatenate([g * np.maximum(1, np.abs(b_)), g * np.maximum(1, np.abs(a_))], axis=axis)
            assert_bwd(d, ref.gated_backward(name, g, xv, axis=axis, **params), gg, dtype, 12,
                       f"{name}_backward {shape} axis={axis}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_glu_backward_of_huge_factors(dtype):
    """glu's b-gradient g a sigmoid'(b) where g*a alone would overflow but the
    result does not (sigmoid' <= 1/4), and where one factor is tiny or
    infinite: the reference's values (a vector body and a tail)."""
    big = np.finfo(dtype).max
    sub = np.finfo(dtype).smallest_subnormal
    # (a, b, g); the last two: g*a alone underflows / a*sigmoid'(b) alone underflows
    cases = [(big, 0.0, -2.5), (big / 2, 1.0, 4.0), (-big, -2.0, 3.0), (1e30, 0.5, 1e20), (3.0, 0.0, big),
             (4 * sub, 0.0, np.inf), (np.inf, 0.0, sub), (big, -30.0, 1e-20), (1e-20, -30.0, big), (2.0, 0.0, 0.5),
             (1e-30, -60.0, 3e38), (3e38, -60.0, 1e-30)]
    a, b, g = (np.array([c[k] for c in cases] * 7, dtype) for k in range(3))
    x = np.concatenate([a, b])
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        want = ref.gated_backward("glu", g, x)
    got = fastact.glu_backward(g, x)
    n = a.size
    assert_ulp(got[n:], want[n:], dtype, 4, "glu_backward, b half")
    assert np.isfinite(got[n:][:3]).all() and (got[n:][10:12] != 0).all(), got[n:]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", GATED + [("swiglu", {"alpha": 1.702, "limit": 7.0, "bias": 1.0})])
def test_gated_rows_are_the_flat_formula(name, params, dtype):
    """Short rows (each one's halves in one page, prefetched a row ahead in
    short sub-blocks) give the same bits, NaN payloads included, as one long
    pair of halves (the transposed layout, split along axis 0), forward and
    backward."""
    rng = np.random.default_rng(5)
    f = fastact.get(name)
    u = np.uint32 if dtype == np.float32 else np.uint64
    for M in (1, 63, 64, 65, 200, 1000, 5000):
        x = (rng.standard_normal((40, 2 * M)) * 4).astype(dtype)
        flat = x.reshape(-1)
        flat[rng.integers(0, flat.size, 25)] = np.nan
        xb = flat.view(u)
        idx = rng.integers(0, flat.size, 9)
        xb[idx] = xb[idx] | np.array(0x7f800001 if dtype == np.float32 else 0x7ff0000000000001, u)
        rows = f.forward(x, axis=-1, **params)
        cols = f.forward(np.ascontiguousarray(x.T), axis=0, **params).T
        assert (rows.view(u) == np.ascontiguousarray(cols).view(u)).all(), M
        out = np.empty_like(rows)
        f.forward(x, axis=-1, out=out, n_threads=2, **params)
        assert (out.view(u) == rows.view(u)).all(), M
        g = (rng.standard_normal(rows.shape) * 2).astype(dtype)
        g.reshape(-1)[rng.integers(0, g.size, 7)] = np.nan
        d_rows = f.backward(g, x, axis=-1, n_threads=2, **params)
        d_cols = f.backward(np.ascontiguousarray(g.T), np.ascontiguousarray(x.T), axis=0, **params).T
        assert (d_rows.view(u) == np.ascontiguousarray(d_cols).view(u)).all(), M


def test_gated_errors():
    x = np.ones((3, 5), np.float32)
    with pytest.raises(ValueError, match="glu: x has odd length 5 on axis 1"):
        fastact.glu(x)
    with pytest.raises(ValueError, match="swiglu_backward: grad has shape"):
        fastact.swiglu_backward(np.ones((3, 5), np.float32), np.ones((3, 6), np.float32))
    with pytest.raises(ValueError, match="geglu: approximate must be"):
        fastact.geglu(np.ones(4), approximate="x")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", ELEMENTWISE)
def test_bias_act_matches_two_pass(act, dtype):
    rng = np.random.default_rng(9)
    # the parameters go in act_params, where shrink's bias= reaches the activation
    params = dict(CASES[act][-1])
    ap = {"act_params": params}
    for shape in [(7, 13), (3, 4, 129), (50000, 4), (16,)]:
        x = (rng.standard_normal(shape) * 2).astype(dtype)
        b = rng.standard_normal(shape[-1]).astype(dtype)
        two_pass = fastact.get(act).forward(x + b, **params)
        y = fastact.bias_act(x, b, act, **ap)
        assert np.array_equal(y, two_pass, equal_nan=True), f"bias_act({act}) {shape}"
        xi = x.copy()
        assert fastact.bias_act_(xi, b, act, **ap) is xi and np.array_equal(xi, y, equal_nan=True)
        xf = np.asfortranarray(x.copy()) if x.ndim > 1 else x.copy()
        fastact.bias_act_(xf, b, act, **ap)
        assert np.array_equal(xf, y, equal_nan=True)
        g = rng.standard_normal(shape).astype(dtype)
        gx, gb = fastact.bias_act_backward(g, x, bias=b, act=act, **ap)
        assert np.array_equal(gx, fastact.get(act).backward(g, x + b, **params), equal_nan=True)
        # grad_bias: float64 sums in chunks of rows, in row order (NumPy may
        # sum pairwise): within the bound of recursive summation, rows * eps
        # * sum |gx|, and of float32's rounding
        g2 = gx.reshape(-1, shape[-1]).astype(np.float64)
        np.testing.assert_allclose(gb, g2.sum(0), rtol=1e-6 if dtype == np.float32 else 0,
                                   atol=g2.shape[0] * 2.0 ** -53 * np.abs(g2).sum(0).max())
        gi = g.copy()
        r = fastact.bias_act_backward_(gi, x, bias=b, act=act, **ap)
        assert r[0] is gi and np.array_equal(gi, gx, equal_nan=True)
        from fa_testutil import y_ok
        if y_ok(act, params):
            gy, _ = fastact.bias_act_backward(g, y=y, bias=b, act=act, **ap)
            assert np.array_equal(gy, fastact.get(act).backward(g, y=y, **params), equal_nan=True)


def test_bias_act_errors():
    x = np.ones((3, 4), np.float32)
    before = x.tobytes()
    with pytest.raises(ValueError, match="bias_act_: bias has shape"):
        fastact.bias_act_(x, np.ones(3), "relu")
    with pytest.raises(ValueError, match="bias_act_: act must be an element-wise"):
        fastact.bias_act_(x, np.ones(4), "softmax")
    with pytest.raises(TypeError, match="unexpected parameter"):
        fastact.bias_act_(x, np.ones(4), "relu", alpha=3)
    with pytest.raises(ValueError, match="bias_act_: max must be >= 0"):
        fastact.bias_act_(x, np.ones(4), "relu", max=-1)
    assert x.tobytes() == before


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("act", ["relu", "gelu", "silu", "linear", "tanh"])
def test_bias_act_fast_path(act, dtype):
    """bias_act / bias_act_ by name without parameters run from C after one
    validated call (fastact._families.bias._BIAS_DEFAULT, fast_bias): the same bits as
    the two-pass form; what the C path declines is still done (or refused)
    by the general path with the cache warm."""
    from fastact._families import bias as _bias
    _bias._BIAS_DEFAULT.clear()
    rng = np.random.default_rng(10)
    f = fastact.get(act).forward
    for shape in [(7, 13), (3, 4, 129), (1, 4096), (300_001,)]:
        x = (rng.standard_normal(shape) * 2).astype(dtype)
        b = rng.standard_normal(shape[-1]).astype(dtype)
        want = f(x + b)
        assert np.array_equal(fastact.bias_act(x, b, act), want)        # general, fills the cache
        assert act in _bias._BIAS_DEFAULT
        for nt in (None, 1, 2):
            assert np.array_equal(fastact.bias_act(x, b, act, n_threads=nt), want)
            xi = x.copy()
            assert fastact.bias_act_(xi, b, act, n_threads=nt) is xi and np.array_equal(xi, want)
        # declined by the C path: other bias dtype, a strided x, a bias inside x (in place)
        b64 = b.astype(np.float64 if dtype == np.float32 else np.float32)
        assert np.array_equal(fastact.bias_act(x, b64, act), f(x + b64.astype(dtype)))
    x = (rng.standard_normal((5, 6)) * 2).astype(dtype)
    keep = x.copy()
    fastact.bias_act_(x, x[2], act)                                     # bias aliases a row of x
    assert np.array_equal(x, f(keep + keep[2]))
    x = keep.copy()
    out = np.empty((6, 6), dtype)
    out[5] = keep[1]
    fastact.bias_act(x, out[5], act, out=out[:5])                       # bias just after out
    assert np.array_equal(out[:5], f(keep + keep[1]))
    xs = keep[:, ::2]
    np.testing.assert_array_equal(fastact.bias_act(xs, keep[0, :3], act), f(xs + keep[0, :3]))
    with pytest.raises(ValueError, match="bias_act_: bias has shape"):
        fastact.bias_act_(keep.copy(), keep[0, :5], act)
    with pytest.raises(ValueError, match="bias_act: n_threads must be >= 1"):
        fastact.bias_act(keep, keep[0], act, n_threads=0)
    with pytest.raises(TypeError, match="bias_act: bias must be real"):
        fastact.bias_act(keep, keep[0].astype(np.complex64), act)


def test_bias_act_act_params():
    """act_params carries parameters named like bias_act's own arguments."""
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    b = np.full(4, 0.25, np.float32)
    want = fastact.shrink(x + b, lambd=0.5, bias=0.125)
    assert np.array_equal(fastact.bias_act(x, b, "shrink", act_params={"bias": 0.125}), want)
    assert np.array_equal(fastact.bias_act(x, b, "shrink", lambd=0.5, act_params={"bias": 0.125}), want)
    with pytest.raises(TypeError, match="bias_act: 'lambd' given both as a keyword and in act_params"):
        fastact.bias_act(x, b, "shrink", lambd=0.5, act_params={"lambd": 0.5})
    with pytest.raises(TypeError, match="bias_act_: act_params must be a dict"):
        fastact.bias_act_(x, b, "shrink", act_params=[("bias", 0.1)])
