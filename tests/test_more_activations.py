"""squareplus, sparse_plus, threshold, selu(alpha, scale) and shrink: the
identities they promise (selu's defaults, softshrink == shrink(bias=lambd)),
large |x|, and agreement with PyTorch and JAX where they have the function,
kinks and +-inf included (NaN is fastact's rule, tested with the rest)."""
import math

import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fastact._table import SELU_ALPHA, SELU_SCALE, _SELU_LA
from fa_testutil import BWD_LIMIT, assert_bwd, assert_ulp, in_dtype

try:
    import torch
except ImportError:
    torch = None
try:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
except ImportError:
    jax = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is an optional peer, not installed")
needs_jax = pytest.mark.skipif(jax is None, reason="JAX is an optional peer, not installed")

INF = math.inf
DTYPES = [np.float32, np.float64]


def _grid(dtype, extra=()):
    """-30..30 densely, the kinks -1, 0, 1 and +-0.5 with their neighbours, +-inf."""
    k = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 3.0, -3.0] + list(extra), dtype)
    pts = [k, np.nextafter(k, dtype(INF)), np.nextafter(k, dtype(-INF))]
    return np.concatenate(pts + [np.linspace(-30, 30, 6001, dtype=dtype),
                                 np.array([INF, -INF, -0.0], dtype)])


def _forms(name, x, g, **params):
    fns = fastact.get(name)
    y = fns.forward(x, **params)
    xi = x.copy()
    fns.forward_(xi, **params)
    gi = g.copy()
    fns.backward_(gi, x, **params)
    return [y, xi, fns.backward(g, x, **params), gi, fns.backward(g, y=y, **params)]


# ------------------------------------------------------------ identities

@pytest.mark.parametrize("dtype", DTYPES)
def test_selu_defaults_keep_the_fixed_constant_kernel_bit_for_bit(dtype):
    """The default call, the explicit defaults and the fixed-constant kernel
    selu was before it took parameters (x > 0: scale*x, else elu with alpha =
    scale*alpha of the exact constants, whose kernel did not change) agree
    bit for bit in every form, on every binade, +-0, +-inf and NaN."""
    from fa_testutil import sweep_inputs
    x = sweep_inputs(dtype, 200_000)
    g = np.random.default_rng(5).uniform(0.5, 2.0, x.size).astype(dtype)
    default = _forms("selu", x, g)
    explicit = _forms("selu", x, g, alpha=1.6732632423543772, scale=1.0507009873554805)
    scale = dtype(SELU_SCALE)
    with np.errstate(over="ignore"):
        y_old = np.where(x > 0, scale * x, fastact.elu(x, alpha=_SELU_LA))
    bwd_old = np.where(x > 0, g * scale, fastact.elu_backward(g, x, alpha=_SELU_LA))
    bwdy_old = np.where(y_old > 0, g * scale, fastact.elu_backward(g, y=y_old, alpha=_SELU_LA))
    old = [y_old, y_old, bwd_old, bwd_old, bwdy_old]
    for i, (a, b, c) in enumerate(zip(default, explicit, old)):
        assert a.tobytes() == b.tobytes(), f"form {i}: default != explicit defaults"
        assert a.tobytes() == c.tobytes(), f"form {i}: default != the fixed-constant kernel"
    assert SELU_ALPHA == 1.6732632423543772 and SELU_SCALE == 1.0507009873554805


def test_selu_parameters_do_what_onnx_says():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0, -INF, INF])
    got = fastact.selu(x, alpha=2.0, scale=3.0)
    np.testing.assert_allclose(got, np.where(x > 0, 3.0 * x, 6.0 * np.expm1(np.minimum(x, 0))), rtol=1e-15)
    with pytest.raises(ValueError, match="selu: alpha\\*scale .* out of the float range"):
        fastact.selu(x, alpha=1e300, scale=1e300)
    with pytest.raises(ValueError, match="selu_backward: y= cannot stand for x .*scale > 0.5"):
        fastact.selu_backward(np.ones(7), y=x, scale=0.5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lambd", [0.5, 1.5, 0.0, 1e-3])
def test_softshrink_is_shrink_with_bias_lambd_bit_for_bit(dtype, lambd):
    x = _grid(dtype, (lambd, -lambd))
    g = np.random.default_rng(6).uniform(0.5, 2.0, x.size).astype(dtype)
    a = _forms("softshrink", x, g, lambd=lambd)
    b = _forms("shrink", x, g, lambd=lambd, bias=lambd)
    for i, (u, v) in enumerate(zip(a, b)):
        assert u.tobytes() == v.tobytes(), f"form {i}"


def test_shrink_is_onnx_shrink():
    x = np.array([-3.0, -1.5, -1.0, -0.2, 0.0, 0.7, 1.0, 1.5, 4.0, -INF, INF])
    got = fastact.shrink(x, lambd=1.0, bias=0.5)
    want = np.where(x < -1.0, x + 0.5, np.where(x > 1.0, x - 0.5, 0.0))
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="shrink: lambd must be >= 0"):
        fastact.shrink(x, lambd=-1.0)
    with pytest.raises(ValueError, match="shrink_backward: y= cannot stand for x .*bias <= lambd"):
        fastact.shrink_backward(np.ones(11), y=got, lambd=0.25, bias=0.5)


def test_threshold_needs_both_parameters():
    x = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(fastact.threshold(x, 0.5, -7.0), [-7.0, -7.0, 2.0])
    np.testing.assert_array_equal(fastact.threshold(x, threshold=0.5, value=9.0), [9.0, 9.0, 2.0])
    with pytest.raises(TypeError, match="value"):
        fastact.threshold(x, 0.5)
    with pytest.raises(TypeError, match="threshold"):
        fastact.threshold_backward(np.ones(3), x, value=1.0)
    with pytest.raises(TypeError, match="bias_act: the parameter threshold is required"):
        fastact.bias_act(x.reshape(1, 3), np.zeros(3), "threshold")
    got = fastact.bias_act(x.reshape(1, 3), np.ones(3), "threshold", threshold=0.5, value=0.0)
    np.testing.assert_array_equal(got, [[0.0, 1.5, 3.0]])
    with pytest.raises(ValueError, match="threshold_backward: y= cannot stand for x .*value <= threshold"):
        fastact.threshold_backward(np.ones(3), y=x, threshold=0.5, value=1.0)
    with pytest.raises(TypeError, match="did you mean 'value'"):
        fastact.threshold(x, 0.5, 1.0, default_value=0.0)


# ------------------------------------------------------------- squareplus

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b", [4.0, 0.25, 1e-30, 1e30, 0.0, 2.0 ** -60, 2.0 ** 60, 2.0 ** -61, 2.0 ** 61])
def test_squareplus_over_the_whole_range(dtype, b):
    """No overflow of x^2 up to the largest float, no cancellation for
    x << 0 (b/(4|x|) there), no underflow of x^2 for tiny x (b = 0: relu).
    2^-60 and 2^60 are the ends of the b range of the common-range form
    (src/formulas/piecewise.h), 2^-61 and 2^61 just outside it."""
    fi = np.finfo(dtype)
    mags = np.geomspace(float(fi.smallest_subnormal), float(fi.max), 4001)
    mags = np.clip(mags, fi.smallest_subnormal, fi.max).astype(dtype)
    x = np.concatenate([mags, -mags, [fi.max, -fi.max, 0.0, -0.0, INF, -INF]]).astype(dtype)
    rp = in_dtype({"b": b}, dtype)
    assert_ulp(fastact.squareplus(x, b=b), ref.squareplus(x, **rp), dtype, 3, f"squareplus(b={b})")
    g = np.ones_like(x)
    assert_bwd(fastact.squareplus_backward(g, x, b=b), ref.backward("squareplus", g, x, **rp), g, dtype,
               BWD_LIMIT, f"squareplus_backward(b={b})")
    y = fastact.squareplus(x, b=b)
    assert fastact.squareplus(np.array([-INF, INF], dtype), b=b).tolist() == [0.0, INF]
    assert fastact.squareplus_backward(np.ones(2, dtype), np.array([-INF, INF], dtype), b=b).tolist() == [0, 1]
    assert np.all(np.isfinite(fastact.squareplus_backward(g, y=y, b=b)))


def test_squareplus_refuses_negative_b():
    with pytest.raises(ValueError, match="squareplus: b must be >= 0"):
        fastact.squareplus(np.ones(3), b=-1.0)
    with pytest.raises(ValueError, match="squareplus_backward_: b must be >= 0"):
        fastact.squareplus_backward_(np.ones(3), np.ones(3), b=-0.5)


# ------------------------------------------------------------------ peers

def _peer_grid(dtype, kinks):
    return _grid(dtype, kinks)


def _close(got, want, dtype, ulps, what):
    """Equal NaN/inf positions and values within `ulps` ULP (absolute floor
    eps of the dtype: the peers round differently near zero crossings)."""
    assert_ulp(got, want, dtype, ulps, what, abs_eps=1.0)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_as_pytorch(dtype):
    F = torch.nn.functional
    cases = [
        ("threshold", {"threshold": 0.5, "value": -2.0}, lambda t: F.threshold(t, 0.5, -2.0), 0),
        ("threshold", {"threshold": -1.0, "value": 3.0}, lambda t: F.threshold(t, -1.0, 3.0), 0),
        ("selu", {}, F.selu, 4),
        ("softshrink", {"lambd": 0.5}, lambda t: F.softshrink(t, 0.5), 0),
        ("shrink", {"lambd": 0.5, "bias": 0.5}, lambda t: F.softshrink(t, 0.5), 0),
        ("shrink", {"lambd": 1.0, "bias": 1.0}, lambda t: F.softshrink(t, 1.0), 0),
    ]
    for name, params, tf, ulps in cases:
        x = _peer_grid(dtype, [v for v in params.values()] + [-v for v in params.values()])
        g = np.random.default_rng(7).uniform(0.5, 2.0, x.size).astype(dtype)
        t = torch.from_numpy(x.copy()).requires_grad_()
        ty = tf(t)
        ty.backward(torch.from_numpy(g))
        what = f"{name}{params} vs PyTorch"
        _close(fastact.get(name).forward(x, **params), ty.detach().numpy(), dtype, ulps, what)
        _close(fastact.get(name).backward(g, x, **params), t.grad.numpy(), dtype, max(ulps, 2),
               what + " backward")


def _jax_grad(f, x, g):
    _, vjp = jax.vjp(f, jnp.asarray(x))
    return np.asarray(vjp(jnp.asarray(g))[0])


@needs_jax
@pytest.mark.parametrize("dtype", DTYPES)
def test_as_jax(dtype):
    """Where JAX is accurate.  Its squareplus is the plain formula: it cancels
    for x << 0 and gives NaN at -inf (fastact: the limit 0), and its
    derivative is NaN at +inf (fastact: 1); sparse_plus' is NaN at +-inf
    (fastact: the limits 0 and 1); its selu' is alpha*(expm1(x) + 1),
    which cancels for x << 0.  So squareplus is compared above -2 (and at
    +inf forward), selu' above -1; elsewhere both are checked against the
    extended reference.  XLA on the CPU flushes subnormal inputs to 0: the
    grid has none besides +-0."""
    above = lambda lo: (lambda x: (x > lo) & np.isfinite(x))    # noqa: E731
    cases = [   # name, params, JAX function, ULP, forward domain, backward domain
        ("squareplus", {}, lambda t: jax.nn.squareplus(t), 3, lambda x: (x > -2) | (x == INF), above(-2)),
        ("squareplus", {"b": 0.5}, lambda t: jax.nn.squareplus(t, b=0.5), 3,
         lambda x: (x > -2) | (x == INF), above(-2)),
        ("sparse_plus", {}, jax.nn.sparse_plus, 2, None, np.isfinite),
        ("selu", {}, jax.nn.selu, 4, None, above(-1)),
    ]
    for name, params, jf, ulps, keep, keep_bwd in cases:
        x = _peer_grid(dtype, [])
        x = x[(np.abs(x) >= np.finfo(dtype).tiny) | (x == 0)]
        if keep is not None:
            x = x[keep(x)]
        g = np.random.default_rng(8).uniform(0.5, 2.0, x.size).astype(dtype)
        what = f"{name}{params} vs JAX"
        _close(fastact.get(name).forward(x, **params), np.asarray(jf(jnp.asarray(x))), dtype, ulps, what)
        m = np.ones(x.size, bool) if keep_bwd is None else keep_bwd(x)
        _close(fastact.get(name).backward(g, x, **params)[m], _jax_grad(jf, x, g)[m], dtype, ulps + 2,
               what + " backward")
    x = np.array([-INF, -1.0, 1.0, INF], dtype)
    g = np.ones_like(x)
    assert fastact.sparse_plus_backward(g, x).tolist() == [0, 0, 1, 1]
    assert np.array_equal(_jax_grad(jax.nn.sparse_plus, x, g), [np.nan, 0, 1, np.nan], equal_nan=True)
    assert np.isnan(np.asarray(jax.nn.squareplus(jnp.asarray(x[:1]))))[0]   # fastact: 0
    assert fastact.squareplus(x[:1])[0] == 0


# -------------------------------------------------------------- sparsemax

def _sparsemax_inputs(rng, dtype):
    """(x, axis): rows of several lengths (vector body and tails), every axis
    of a 3-d array, F order, a view with negative steps, ties, -inf entries,
    large offsets."""
    out = []
    for L in (1, 2, 3, 15, 16, 17, 33, 64, 100, 1000):
        out.append(((rng.standard_normal((7, L)) * 3).astype(dtype), -1))
    cube = (rng.standard_normal((5, 6, 7)) * 2).astype(dtype)
    out += [(cube, 0), (cube, 1), (cube, 2), (np.asfortranarray(cube), 1), (cube[::-1, :, ::-2], 2)]
    ties = np.array([[1.0, 1.0, 1.0, 0.0], [2.0, 2.0, -5.0, 2.0], [0.3, 0.3, 0.3, 0.3]], dtype)
    out.append((ties, -1))
    mixed = (rng.standard_normal((4, 40)) * 5).astype(dtype)
    mixed[:, ::3] = -np.inf
    out.append((mixed, -1))
    out.append(((rng.standard_normal((3, 50)) + 1e4).astype(dtype), -1))
    out.append((np.array(2.5, dtype), 0))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparsemax_matches_the_sorting_reference(dtype):
    """Against the extended-precision sort-based reference: results within a
    few eps of the row (they are in [0, 1]), rows summing to 1, the support
    exact away from ties with tau, the backward from x and from y the same."""
    rng = np.random.default_rng(11)
    eps = np.finfo(dtype).eps
    for x, axis in _sparsemax_inputs(rng, dtype):
        y = fastact.sparsemax(x, axis=axis)
        r = ref.sparsemax(x, axis)
        tol = 4 * eps * max(1.0, float(np.abs(x[np.isfinite(x)]).max(initial=0.0)))
        np.testing.assert_allclose(y, r, rtol=0, atol=tol, err_msg=f"{x.shape} axis={axis}")
        np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=0, atol=tol * max(x.shape or (1,)))
        g = rng.standard_normal(x.shape).astype(dtype)
        b = fastact.sparsemax_backward(g, x, axis=axis)
        np.testing.assert_allclose(b, ref.sparsemax_backward(g, x, axis), rtol=0, atol=8 * eps)
        assert fastact.sparsemax_backward(g, y=y, axis=axis).tobytes() == b.tobytes()
        xi = x.copy()
        assert fastact.sparsemax_(xi, axis=axis) is xi and xi.tobytes() == np.ascontiguousarray(y).tobytes()
        gi = g.copy()
        assert fastact.sparsemax_backward_(gi, y=y, axis=axis) is gi and gi.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparsemax_special_rows_and_threads(dtype):
    x = np.array([[1, 2, np.nan], [1, np.inf, 0], [-INF, -INF, -INF], [-INF, 0, 3], [0, 0, 0],
                  [0.1, 0.2, 0.3]], dtype)
    y = fastact.sparsemax(x)
    np.testing.assert_array_equal(np.isnan(y), [[1] * 3, [1] * 3, [0] * 3, [0] * 3, [0] * 3, [0] * 3])
    np.testing.assert_array_equal(y[2:5], [[0, 0, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3]] if dtype == np.float64
                                  else np.array([[0, 0, 0], [0, 0, 1], [1 / 3] * 3], dtype))
    g = np.ones_like(x)
    d = fastact.sparsemax_backward(g, x)
    assert np.isnan(d[:2]).all() and not np.isnan(d[2:]).any()
    big = (np.random.default_rng(12).standard_normal((3000, 97)) * 2).astype(dtype)
    one = fastact.sparsemax(big, n_threads=1)
    assert fastact.sparsemax(big, n_threads=2).tobytes() == one.tobytes()
    assert fastact.sparsemax(np.ascontiguousarray(big.T), axis=0, n_threads=2).T.tobytes() == one.tobytes()
    assert fastact.sparsemax(np.empty((0, 4), dtype)).shape == (0, 4)
    assert fastact.sparsemax(np.empty((4, 0), dtype)).shape == (4, 0)
    with pytest.raises(ValueError, match="sparsemax: axis 2 is out of range"):
        fastact.sparsemax(big, axis=2)


def test_sparsemax_half_precision_is_the_float32_result_rounded():
    x = (np.random.default_rng(13).standard_normal((9, 21)) * 2).astype(np.float16)
    want = fastact.sparsemax(x.astype(np.float32)).astype(np.float16)
    assert fastact.sparsemax(x).tobytes() == want.tobytes()
