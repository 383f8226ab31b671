"""Bad input raises a clear TypeError/ValueError naming the function and the
argument, before anything is written: the arrays stay byte-for-byte intact."""
import numpy as np
import pytest

import fastact


def snap(*arrays):
    return [a.tobytes() for a in arrays]


def x32(n=50):
    return np.linspace(-3, 3, n).astype(np.float32)


@pytest.mark.parametrize("bad", [np.arange(5), np.arange(5, dtype=np.int8), np.ones(3, bool),
                                 np.ones(3, np.complex64), np.array([1.0, "a"], dtype=object),
                                 [1, 2, 3]])
@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu", "softmax"])
def test_non_float_input_is_type_error(name, bad):
    fns = fastact.get(name)
    with pytest.raises(TypeError, match=name):
        fns.forward(bad)
    if isinstance(bad, np.ndarray):
        before = snap(bad)
        with pytest.raises(TypeError, match=name):
            fns.forward_(bad)
        assert snap(bad) == before


def test_array_likes_of_floats_work_out_of_place():
    np.testing.assert_array_equal(fastact.relu([-1.0, 2.0]), [0.0, 2.0])
    assert fastact.relu(-1.5) == 0.0


@pytest.mark.parametrize("name", ["relu", "tanh", "prelu"])
def test_in_place_needs_a_writable_array(name):
    fns = fastact.get(name)
    kw = {"alpha": 0.1} if name == "prelu" else {}
    with pytest.raises(TypeError, match=f"{name}_: x must be a NumPy array"):
        fns.forward_([1.0, 2.0], **kw)
    x = x32()
    x.flags.writeable = False
    before = snap(x)
    with pytest.raises(ValueError, match=f"{name}_: x is read-only"):
        fns.forward_(x, **kw)
    assert snap(x) == before
    g = x32()
    g.flags.writeable = False
    with pytest.raises(ValueError, match="grad is read-only"):
        fns.backward_(g, x32(), **kw)


def test_zero_stride_views_are_rejected_in_place():
    base = x32(4)
    v = np.broadcast_to(base, (3, 4))
    v2 = np.lib.stride_tricks.as_strided(base, shape=(3, 4), strides=(0, 4))
    before = snap(base)
    with pytest.raises(ValueError, match="zero stride"):
        fastact.relu_(v2)
    with pytest.raises(ValueError, match="(read-only|zero stride)"):
        fastact.relu_(v)
    assert snap(base) == before
    # reading a broadcast view is fine
    np.testing.assert_array_equal(fastact.relu(v), np.maximum(v, 0))


def test_out_checks():
    x = x32()
    for out, err in [(np.empty(49, np.float32), "shape"), (np.empty(50, np.float64), "dtype"),
                     (np.empty((5, 10), np.float32), "shape")]:
        before = snap(x, out)
        with pytest.raises(ValueError, match=f"relu: out has {err}"):
            fastact.relu(x, out=out)
        assert snap(x, out) == before
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="relu: out is read-only"):
        fastact.relu(x, out=ro)
    with pytest.raises(TypeError, match="relu: out must be a NumPy array"):
        fastact.relu(x, out=[0.0] * 50)


def test_partial_overlap_of_out_and_x_is_rejected():
    buf = x32(60)
    before = snap(buf)
    with pytest.raises(ValueError, match="overlaps x partially"):
        fastact.sigmoid(buf[:50], out=buf[5:55])
    with pytest.raises(ValueError, match="overlaps"):
        fastact.relu_backward(buf[:50], buf[10:60], out=buf[5:55])
    assert snap(buf) == before
    # identical memory is allowed (that is the in-place case)
    y = fastact.relu(buf[:50], out=buf[:50])
    assert np.all(y >= 0)


BAD_PARAMS = [
    ("relu", {"max": -1.0}, ValueError, "max must be >= 0"),
    ("relu", {"negative_slope": float("nan")}, ValueError, "negative_slope must not be NaN"),
    ("relu", {"threshold": float("inf")}, ValueError, "threshold must be finite"),
    ("relu", {"max": True}, TypeError, "max must be a real number"),
    ("relu", {"negative_slope": "0.1"}, TypeError, "negative_slope must be a real number"),
    ("leaky_relu", {"alpha": float("nan")}, ValueError, "alpha must not be NaN"),
    ("hardtanh", {"min": 2.0, "max": 1.0}, ValueError, "min .* must be <= max"),
    ("gelu", {"approximate": "sigmoid"}, ValueError, "approximate must be 'none' or 'tanh'"),
    ("softplus", {"beta": 0.0}, ValueError, "beta must be > 0"),
    ("softplus", {"beta": -1.0}, ValueError, "beta must be > 0"),
    ("celu", {"alpha": 0.0}, ValueError, "alpha must not be 0"),
    ("celu", {"alpha": float("inf")}, ValueError, "alpha must be finite"),
    ("softplus", {"threshold": float("nan")}, ValueError, "threshold must not be NaN"),
    ("softshrink", {"lambd": -0.5}, ValueError, "lambd must be >= 0"),
    ("elu", {"alpha": float("nan")}, ValueError, "alpha must not be NaN"),
    ("softmax", {"axis": 3}, ValueError, "axis 3 is out of range"),
    ("softmax", {"axis": 1.0}, TypeError, "axis must be an int"),
]


@pytest.mark.parametrize("name,params,exc,msg", BAD_PARAMS)
def test_bad_parameters_raise_before_writing(name, params, exc, msg):
    fns = fastact.get(name)
    x = x32()
    g = x32()
    for form, call in [("", lambda: fns.forward(x, **params)),
                       ("_", lambda: fns.forward_(x, **params)),
                       ("_backward", lambda: fns.backward(g, x, **params)),
                       ("_backward_", lambda: fns.backward_(g, x, **params))]:
        before = snap(x, g)
        with pytest.raises(exc, match=f"{name}{form}: {msg}"):
            call()
        assert snap(x, g) == before


def test_backward_needs_exactly_one_of_x_and_y():
    g, x = x32(), x32()
    before = snap(g, x)
    with pytest.raises(ValueError, match="relu_backward_: pass exactly one of x"):
        fastact.relu_backward_(g)
    with pytest.raises(ValueError, match="relu_backward: pass exactly one of x"):
        fastact.relu_backward(g, x, y=x)
    with pytest.raises(ValueError, match="gelu_backward_: y= cannot stand for x for gelu here: its "
                                         "derivative is not a function of its output"):
        fastact.gelu_backward_(g, y=x)
    with pytest.raises(ValueError, match="leaky_relu_backward_: y= cannot stand for x .* alpha >= 0"):
        fastact.leaky_relu_backward_(g, y=x, alpha=-0.1)   # a negative slope loses the sign
    with pytest.raises(ValueError, match="grad has shape"):
        fastact.relu_backward_(g, x[:10])
    with pytest.raises(ValueError, match="grad has dtype"):
        fastact.relu_backward_(g, x.astype(np.float64))
    assert snap(g, x) == before


@pytest.mark.parametrize("n", [0, -2, -100])
def test_bad_thread_counts(n):
    x = x32()
    before = snap(x)
    with pytest.raises(ValueError, match="relu_: n_threads must be >= 1 or -1"):
        fastact.relu_(x, n_threads=n)
    assert snap(x) == before


@pytest.mark.parametrize("n", [2**31, 10**30])
def test_thread_counts_beyond_a_c_int(n):
    """Counts the kernels' C int cannot hold: a ValueError naming the
    function, from every form and fast path (was an OverflowError without it)."""
    x, g = x32(), x32()
    relu, sm = fastact.get("relu"), fastact.get("softmax")
    calls = [("relu", lambda: relu.forward(x, n_threads=n)), ("relu_", lambda: relu.forward_(x, n_threads=n)),
             ("relu_backward", lambda: relu.backward(g, x, n_threads=n)),
             ("relu_backward_", lambda: relu.backward_(g, x, n_threads=n)),
             ("softmax", lambda: sm.forward(x, n_threads=n)), ("softmax_", lambda: sm.forward_(x, n_threads=n)),
             ("softmax_backward", lambda: sm.backward(g, y=x, n_threads=n)),
             ("set_num_threads", lambda: fastact.set_num_threads(n))]
    for fname, call in calls:
        fastact.relu_(x32())              # the caches are warm: the fast paths are tried first
        before = snap(x, g)
        with pytest.raises(ValueError, match=f"{fname}: n(_threads)? must be at most 2147483647"):
            call()
        assert snap(x, g) == before
    with pytest.raises(ValueError, match="threads: n must be at most"):
        with fastact.threads(n):
            pass


def test_thread_count_type():
    with pytest.raises(TypeError, match="n_threads must be an int"):
        fastact.relu(x32(), n_threads=1.5)
    with pytest.raises(TypeError, match="n_threads must be an int"):
        fastact.relu(x32(), n_threads=True)


def test_prelu_alpha_checks():
    x = np.ones((2, 3, 4), np.float32)
    g = np.ones_like(x)
    before = snap(x, g)
    with pytest.raises(ValueError, match="prelu_: alpha has 4 values but x has 3 channels on axis 1"):
        fastact.prelu_(x, np.ones(4))
    with pytest.raises(ValueError, match="prelu_backward_: alpha has 2 values"):
        fastact.prelu_backward_(g, x, alpha=np.ones(2))
    with pytest.raises(ValueError, match=r"prelu: alpha of shape \(3, 2\) does not broadcast to x's shape"):
        fastact.prelu(x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="prelu_backward_: alpha of shape"):
        fastact.prelu_backward_(g, x, alpha=np.ones((1, 2, 3, 4)))
    with pytest.raises(ValueError, match="alpha must not contain NaN"):
        fastact.prelu_(x, np.array([0.1, np.nan, 0.2]))
    with pytest.raises(TypeError, match="prelu: alpha must be real"):
        fastact.prelu(x, "a")
    with pytest.raises(ValueError, match="axis 5 is out of range"):
        fastact.prelu(x, np.ones(3), axis=5)
    # a Python-float slope takes a NumPy-free check (fastact/_families/prelu.py): same errors
    for bad, exc, msg in ((np.nan, ValueError, "prelu_: alpha must not contain NaN"),
                          (np.inf, ValueError, "prelu_: alpha must be finite"),
                          (-np.inf, ValueError, "prelu_: alpha must be finite")):
        with pytest.raises(exc, match=msg):
            fastact.prelu_(x, float(bad))
    with pytest.raises(TypeError, match="prelu_: axis must be an int, got float"):
        fastact.prelu_(x, 0.25, axis=1.5)
    with pytest.raises(TypeError, match="prelu_backward_: axis must be an int, got str"):
        fastact.prelu_backward_(g, x, alpha=0.25, axis="1")
    assert snap(x, g) == before


def test_get_and_activations():
    assert "relu" in fastact.ACTIVATIONS and "gelu" in fastact.ACTIVATIONS
    a = fastact.get("leaky_relu")
    assert a.name == "leaky_relu" and a.params == {"alpha": 0.01, "max": None}
    assert a.forward is fastact.leaky_relu and a.backward_ is fastact.leaky_relu_backward_
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        fastact.get("nope")
    gated = {"glu", "swiglu", "geglu"}      # output is half the input: no in-place forms
    for name in fastact.ACTIVATIONS:
        for form in (("", "_backward") if name in gated else ("", "_", "_backward", "_backward_")):
            assert callable(getattr(fastact, name + form))
        if name in gated:
            assert not hasattr(fastact, name + "_")


def test_stubs_are_current():
    import os
    from fastact import _stubs
    path = os.path.join(os.path.dirname(fastact.__file__), "__init__.pyi")
    with open(path) as f:
        assert f.read() == _stubs.render(), "regenerate: python -m fastact._stubs > fastact/__init__.pyi"
    with open(os.path.join(os.path.dirname(fastact.__file__), "ufuncs.pyi")) as f:
        assert f.read() == _stubs.render_ufuncs(), \
            "regenerate: python -m fastact._stubs --ufuncs > fastact/ufuncs.pyi"
    from fastact import ufuncs
    assert sorted(_stubs.ufunc_names()) == sorted(ufuncs.__all__)
    assert os.path.exists(os.path.join(os.path.dirname(fastact.__file__), "py.typed"))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu"])
def test_byteswapped_and_unaligned_arrays(name):
    fns = fastact.get(name)
    x = np.linspace(-4, 4, 101).astype(np.float32)
    expect = fns.forward(x)
    be = x.astype(">f4")                               # non-native byte order
    np.testing.assert_array_equal(fns.forward(be), expect)
    fns.forward_(be)
    assert be.dtype == np.dtype(">f4")
    np.testing.assert_array_equal(be.astype(np.float32), expect)
    raw = np.zeros(x.nbytes + 1, np.uint8)
    un = np.ndarray(x.shape, np.float32, buffer=raw, offset=1)      # misaligned
    assert not un.flags.aligned
    un[...] = x
    fns.forward_(un)
    np.testing.assert_array_equal(un, expect)
    np.testing.assert_array_equal(fns.forward(un), fns.forward(expect))


def _impostors(v):
    """Values of types the parameter checks reject that still compare (and
    hash) equal to the accepted float v, so a cache keyed by value alone would
    take them for v; and unhashable ones, which a cache lookup must not choke on."""
    from fractions import Fraction
    out = [complex(v, 0.0), np.complex128(v), Fraction(v), [v], np.array(v)]
    if v in (0.0, 1.0):
        out += [bool(v), np.bool_(v)]
    return out


# the parameters a call needs besides the one under test (threshold's are required)
_BASE = {a.name: dict(a.cases[0]) if any(p.default is fastact._table.REQUIRED for p in a.params) else {}
         for a in fastact._table.TABLE}
_REAL_PARAMS = [(a.name, p.name, 6.0 if p.default is None else float(_BASE[a.name].get(p.name, p.default)))
                for a in fastact._table.TABLE if a.kind in ("elementwise", "gated", "softmax")
                for p in a.params if p.kind in ("real", "bound", "pos", "nonneg", "nonzero", "max", "limit", "scale")]


@pytest.mark.parametrize("name,param,value", _REAL_PARAMS)
def test_rejections_do_not_depend_on_earlier_calls(name, param, value):
    """A call with a valid parameter value fills the spec and fast-path caches;
    a later call with a bool, complex or Fraction equal to that value must
    still raise TypeError, exactly as it does on a fresh start (before the fix
    it went through the cache: leaky_relu_(x, alpha=True) raised once, then
    ran as alpha=1.0 after any call with alpha=1.0; a list raised "unhashable
    type" instead of naming the function and the parameter)."""
    fns = fastact.get(name)
    x = np.linspace(-3, 3, 64).astype(np.float32)
    g = np.ones_like(x[:32] if fastact._table.BY_NAME[name].kind == "gated" else x)    # gated: half of x
    forms = [("", lambda **kw: fns.forward(x, **kw)), ("_backward", lambda **kw: fns.backward(g, x, **kw))]
    if fns.forward_ is not None:
        forms += [("_", lambda **kw: fns.forward_(x, **kw)),
                  ("_backward_", lambda **kw: fns.backward_(g, x, **kw))]
    base = _BASE[name]
    for bad in _impostors(value):
        for form, call in forms:
            call(**{**base, param: value})
            call(**{**base, param: value})  # the second call takes the fast path where there is one
            before = snap(x, g)
            with pytest.raises(TypeError, match=f"{name}{form}: {param} must be a real number"):
                call(**{**base, param: bad})
            assert snap(x, g) == before
