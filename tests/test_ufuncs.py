"""fastact.ufuncs: genuine NumPy ufuncs with the main API's bits and checks."""
import pickle
import threading

import numpy as np
import pytest

import fastact
from fastact import ufuncs
from fa_testutil import CASES, ELEMENTWISE, layouts, params_id

DTYPES = (np.float32, np.float64)
ROWS = {n: fastact._table.BY_NAME[n] for n in ELEMENTWISE}


def _ufunc_name(name, params):
    return "gelu_tanh" if name == "gelu" and params.get("approximate") == "tanh" else name


def _numeric(name, params):
    """The ufunc's parameter inputs for the main API's keyword params:
    every numeric parameter in row order, the default where not given, inf for None."""
    out = []
    for p in ROWS[name].params:
        if p.kind == "approx":
            continue
        v = params.get(p.name, p.default)
        out.append(np.inf if v is None else v)
    return out


ALL = [(n, p) for n in ELEMENTWISE for p in CASES[n]]


def _values(rng, dtype, n=4099):
    """Normals over several scales plus the special values (NaN with a
    payload, +-inf, +-0, subnormals, the dtype's extremes)."""
    fi = np.finfo(dtype)
    x = np.concatenate([rng.standard_normal(n) * s for s in (0.5, 3.0, 30.0)]).astype(dtype)
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, fi.tiny, -fi.tiny,
                        fi.smallest_subnormal, -fi.smallest_subnormal, fi.max, -fi.max, 1.0, -1.0,
                        6.0, 0.5, -0.5, 3.0, -3.0], dtype)
    special[0] = np.frombuffer(np.array([0x7FC00123 if dtype == np.float32 else 0x7FF8000000000123],
                                        np.uint32 if dtype == np.float32 else np.uint64).tobytes(), dtype)[0]
    return np.concatenate([x, special])


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_every_elementwise_activation_is_a_ufunc():
    names = []
    for n in ELEMENTWISE:
        names += [n, n + "_backward"]
    names += ["gelu_tanh", "gelu_tanh_backward"]
    assert sorted(names) == sorted(ufuncs.__all__)
    for n in names:
        u = getattr(ufuncs, n)
        assert isinstance(u, np.ufunc) and u.__name__ == n and u.nout == 1
        base = n[: -len("_backward")] if n.endswith("_backward") else n
        npar = len(_numeric("gelu" if base == "gelu_tanh" else base, {}))
        assert u.nin == npar + (2 if n.endswith("_backward") else 1)
        assert sorted(t[-1] for t in u.types) == ["d", "f"]
        assert u.__doc__ and "fastact" in u.__doc__
        assert getattr(fastact.ufuncs, n) is u      # also an attribute of the package


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", ALL, ids=[f"{n}-{params_id(p)}" for n, p in ALL])
def test_same_bits_as_the_main_api(name, params, dtype):
    rng = np.random.default_rng(1)
    x = _values(rng, dtype)
    g = _values(np.random.default_rng(2), dtype)[::-1].copy()
    u = _ufunc_name(name, params)
    vals = _numeric(name, params)
    fwd, bwd = getattr(ufuncs, u), getattr(ufuncs, u + "_backward")
    assert _bits_equal(fwd(x, *vals), getattr(fastact, name)(x, **params))
    assert _bits_equal(bwd(g, x, *vals), getattr(fastact, name + "_backward")(g, x, **params))
    # the threaded contiguous run and a strided view give the same bits
    big = np.tile(x, 60)
    assert _bits_equal(fwd(big, *vals), getattr(fastact, name)(big, **params))
    xs = big[::3]
    assert _bits_equal(fwd(xs, *vals), getattr(fastact, name)(xs, **params))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_layouts(dtype):
    rng = np.random.default_rng(3)
    for label, owner, view in layouts(rng, dtype):
        x = view(owner)
        assert _bits_equal(ufuncs.elu(x, 0.5), fastact.elu(x, alpha=0.5)), label
        assert _bits_equal(ufuncs.sigmoid_backward(x, x), fastact.sigmoid_backward(x, x)), label


def test_per_element_parameters_broadcast():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((64, 5)) * 3).astype(np.float32)
    alpha = np.array([0.1, 0.5, 1.0, 2.0, -0.3])          # per channel (last axis)
    got = ufuncs.elu(x, alpha)
    assert got.dtype == np.float32
    want = np.stack([fastact.elu(x[:, c], alpha=alpha[c]) for c in range(5)], axis=1)
    assert _bits_equal(got, want)
    lo = np.array([[-1.0], [-2.0], [-np.inf]])             # per row, broadcast (3, 1) vs (3, 64)
    x2 = x.T[:3].copy()
    got = ufuncs.hardtanh(x2, lo, 0.5)
    want = np.stack([fastact.hardtanh(x2[r], min=lo[r, 0], max=0.5) for r in range(3)])
    assert _bits_equal(got, want)
    # a per-element array with runs and changes
    a = np.repeat(np.array([1.0, 2.0, 1.0, -1.0]), [7, 1, 3, 9])
    xe = x.reshape(-1)[:20].astype(np.float64)
    want = np.array([fastact.celu(xe[i:i + 1], alpha=a[i])[0] for i in range(20)])
    assert _bits_equal(ufuncs.celu(xe, a), want)
    want_b = np.array([fastact.celu_backward(xe[i:i + 1], xe[i:i + 1], alpha=a[i])[0] for i in range(20)])
    assert _bits_equal(ufuncs.celu_backward(xe, xe, a), want_b)


def test_no_floating_point_warnings():
    """The kernels' intermediate overflows are theirs: no RuntimeWarning (the
    main API never warns), even under np.errstate(all='raise')."""
    x = np.array([-1e30, -800.0, -100.0, 0.0, 100.0, 1e30, np.inf, -np.inf], np.float32)
    with np.errstate(all="raise"):
        for name in ("silu", "elu", "softplus", "mish", "gelu", "sigmoid"):
            vals = _numeric(name, CASES[name][0])
            assert _bits_equal(getattr(ufuncs, name)(x, *vals), getattr(fastact, name)(x))
            assert _bits_equal(getattr(ufuncs, name + "_backward")(x, x, *vals),
                               getattr(fastact, name + "_backward")(x, x))


def test_inf_stands_for_none():
    x = np.linspace(-9, 9, 101)
    assert _bits_equal(ufuncs.relu(x, np.inf, 0.0, 0.0), fastact.relu(x))
    assert _bits_equal(ufuncs.leaky_relu(x, 0.2, np.inf), fastact.leaky_relu(x, alpha=0.2, max=None))


@pytest.mark.parametrize("shape", [(5,), (300, 2000)], ids=["small", "big"])
def test_parameter_errors_are_the_main_apis(shape):
    x = np.ones(shape, np.float32)
    cases = [(ufuncs.celu, (0.0,), "alpha must not be 0"),
             (ufuncs.softplus, (-1.0, 20.0), "beta must be > 0"),
             (ufuncs.hardtanh, (1.0, -1.0), "min (1.0) must be <= max (-1.0)"),
             (ufuncs.elu, (np.nan,), "alpha must not be NaN"),
             (ufuncs.elu, (np.inf,), "alpha must be finite"),
             (ufuncs.relu, (-1.0, 0.0, 0.0), "max must be >= 0"),
             (ufuncs.squareplus_backward, (-4.0,), "b must be >= 0")]
    for uf, vals, msg in cases:
        args = (x, x) if uf.__name__.endswith("_backward") else (x,)
        with pytest.raises(ValueError, match=f"ufuncs.{uf.__name__}: {msg}".replace("(", r"\(").replace(")", r"\)")):
            uf(*args, *vals)
    # one bad value among good per-element ones (on a strided view: NumPy's
    # iterator calls the loop several times; it raises once, stops computing)
    alpha = np.ones(shape[-1])
    alpha[-1] = 0.0
    with pytest.raises(ValueError, match="ufuncs.celu: alpha must not be 0"):
        ufuncs.celu(x, alpha)
    with pytest.raises(ValueError, match="ufuncs.celu: alpha must not be 0"):
        ufuncs.celu(np.ones(shape, np.float16)[..., ::-1], alpha)
    # the next call is clean
    assert _bits_equal(ufuncs.celu(x, 1.0), fastact.celu(x))


def test_out_where_dtype_casting():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 30)) * 3).astype(np.float32)
    out = np.full_like(x, 7.0)
    m = x > 0.3
    r = ufuncs.gelu_tanh(x, out=out, where=m)
    assert r is out
    assert _bits_equal(out[m], fastact.gelu(x, approximate="tanh")[m]) and (out[~m] == 7.0).all()
    # in place: out is x
    y = x.copy()
    ufuncs.silu(y, out=y)
    assert _bits_equal(y, fastact.silu(x))
    # dtype= picks the float64 loop
    assert _bits_equal(ufuncs.tanh(x, dtype=np.float64), fastact.tanh(x.astype(np.float64)))
    # a float64 parameter keeps a float32 x in float32
    assert ufuncs.elu(x, np.float64(0.5)).dtype == np.float32
    # casting= is NumPy's: float64 into a float32 out is refused by 'safe'
    with pytest.raises(TypeError):
        ufuncs.sigmoid(x.astype(np.float64), out=np.empty_like(x), casting="safe")
    # float16: NumPy casts to the float32 loop; into a float16 out the bits
    # are the main API's float16 result (float32 rounded once)
    h = x.astype(np.float16)
    oh = np.empty_like(h)
    ufuncs.mish(h, out=oh)
    assert _bits_equal(oh, fastact.mish(h))
    assert _bits_equal(ufuncs.mish(h).astype(np.float16), fastact.mish(h))
    # 0-d and Python scalars
    assert ufuncs.sigmoid(0.0) == 0.5
    assert _bits_equal(ufuncs.relu6(np.float32(7.5)), np.float32(6.0))


class Tagged:
    """A minimal duck array: ufuncs reach it through __array_ufunc__."""

    def __init__(self, a, tag):
        self.a, self.tag = np.asarray(a), tag

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raw = [i.a if isinstance(i, Tagged) else i for i in inputs]
        return Tagged(getattr(ufunc, method)(*raw, **kwargs), (self.tag, ufunc.__name__))


def test_array_ufunc_override():
    x = np.linspace(-3, 3, 13, dtype=np.float32)
    r = ufuncs.elu(Tagged(x, "t"), 0.5)
    assert isinstance(r, Tagged) and r.tag == ("t", "elu")
    assert _bits_equal(r.a, fastact.elu(x, alpha=0.5))
    # an override in a parameter position is found too
    r = ufuncs.elu(x, Tagged(0.5, "p"))
    assert isinstance(r, Tagged) and _bits_equal(r.a, fastact.elu(x, alpha=0.5))


def test_pickle_and_threads():
    assert pickle.loads(pickle.dumps(ufuncs.gelu_tanh)) is ufuncs.gelu_tanh
    x = np.random.default_rng(6).standard_normal(300_000).astype(np.float32)
    want = fastact.softplus(x, beta=2.0, threshold=5.0)
    errs = []

    def run():
        try:
            for _ in range(5):
                assert _bits_equal(ufuncs.softplus(x, 2.0, 5.0), want)
                with pytest.raises(ValueError):
                    ufuncs.softplus(x, 0.0, 5.0)
        except BaseException as e:      # pragma: no cover - reported below
            errs.append(e)
    ts = [threading.Thread(target=run) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs
    with fastact.threads(2):
        assert _bits_equal(ufuncs.softplus(x, 2.0, 5.0), want)


def test_dask_xarray_pandas():
    """The duck arrays of the [dask] extra (item 3 of issue 18 installs it in
    CI); Tagged above covers __array_ufunc__ without them."""
    da = pytest.importorskip("dask.array")
    xr = pytest.importorskip("xarray")
    pd = pytest.importorskip("pandas")
    x = np.random.default_rng(8).standard_normal((400, 60)).astype(np.float32)
    d = da.from_array(x, chunks=(100, 30))
    r = ufuncs.gelu_tanh(d)
    assert isinstance(r, da.Array) and r.chunks == d.chunks       # lazy, chunked
    assert _bits_equal(r.compute(), fastact.gelu(x, approximate="tanh"))
    alpha = np.linspace(0.1, 2.0, 60)
    rb = ufuncs.elu_backward(d, d, da.from_array(alpha, chunks=30))
    want = np.stack([fastact.elu_backward(x[:, j], x[:, j], alpha=alpha[j]) for j in range(60)], 1)
    assert _bits_equal(rb.compute(), want)
    X = xr.DataArray(x, dims=("b", "f"), coords={"f": np.arange(60)}, attrs={"units": "m"})
    rx = ufuncs.relu(X, 6.0, 0.0, 0.0)
    assert isinstance(rx, xr.DataArray) and rx.dims == ("b", "f") and rx.coords["f"].equals(X.coords["f"])
    assert _bits_equal(rx.values, fastact.relu(x, max=6.0))
    s = pd.Series(x[0], index=[f"i{i}" for i in range(60)])
    rs = ufuncs.sigmoid(s)
    assert isinstance(rs, pd.Series) and rs.index.equals(s.index)
    assert _bits_equal(rs.to_numpy(), fastact.sigmoid(x[0]))
