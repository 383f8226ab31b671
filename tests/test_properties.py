"""Property-based tests (hypothesis): random shapes, strides, offsets,
dtypes, parameters and values, every element-wise function and form against
the reference; overlapping and broadcast views; failed calls write nothing."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastact
from fastact import reference as ref
from fa_testutil import (in_dtype, ABS_TOL, BWD_LIMIT, CASES, ELEMENTWISE, F32_LIMITS, F64_LIMITS, assert_bwd,
                         assert_ulp, y_ok)

EXAMPLES = 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = st.sampled_from([np.float32, np.float64])


def floats_for(dtype):
    w = 32 if dtype == np.float32 else 64
    return st.floats(width=w, allow_nan=True, allow_infinity=True, allow_subnormal=True)


@st.composite
def strided_arrays(draw, dtype=None):
    """(owner, view): a view with random shape (0-5 d, sizes incl. 0, 1 and
    primes), random steps (negative too) and offset into a larger owner."""
    dtype = draw(DTYPES) if dtype is None else dtype
    ndim = draw(st.integers(0, 5))
    shape = draw(st.lists(st.sampled_from([0, 1, 2, 3, 5, 7, 13, 31]), min_size=ndim, max_size=ndim))
    if ndim and np.prod(shape) > 4000:
        shape[0] = 1
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in range(ndim)]
    owner_shape = tuple(abs(s) * max(n, 1) + draw(st.integers(0, 2)) for n, s in zip(shape, steps))
    values = draw(hnp.arrays(dtype, owner_shape, elements=floats_for(dtype)))
    if draw(st.booleans()) and ndim > 1:
        values = np.asfortranarray(values)
    idx = []
    for n, s, m in zip(shape, steps, owner_shape):
        if s > 0:
            start = draw(st.integers(0, m - s * max(n - 1, 0) - 1)) if n else 0
            idx.append(slice(start, start + s * n, s))
        else:
            start = m - 1 - draw(st.integers(0, m - 1 - (-s) * max(n - 1, 0)) if n else st.just(0))
            stop = start + s * n
            idx.append(slice(start, stop if stop >= 0 else None, s))
    idx = tuple(idx) if idx else Ellipsis     # a 0-d view, not a NumPy scalar
    view = values[idx]
    assume(view.shape == tuple(shape))
    return values, idx


@st.composite
def params_for(draw, name):
    base = dict(draw(st.sampled_from(CASES[name])))
    # jitter real parameters a little, keeping them valid
    for k, v in list(base.items()):
        if isinstance(v, float) and k not in ("max",):
            base[k] = float(np.float32(v * draw(st.sampled_from([1.0, 0.5, 2.0]))))
    return base


def _fwd_tol(name, dtype):
    return (F32_LIMITS if dtype == np.float32 else F64_LIMITS)[name] + 3


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_forward_property(name, data):
    owner, idx = data.draw(strided_arrays())
    params = data.draw(params_for(name))
    x = owner[idx]
    dtype = x.dtype.type
    fns = fastact.get(name)
    expected = ref.forward(name, x, **in_dtype(params, dtype))
    y = fns.forward(x, **params)
    assert_ulp(y, expected, dtype, _fwd_tol(name, dtype) * (4 if params != CASES[name][0] else 1),
               f"{name}{params}", ABS_TOL.get(name, 0.0) + 2 * bool(params))
    o2 = owner.copy()
    v = o2[idx]
    fns.forward_(v, **params)
    assert np.array_equal(v, y, equal_nan=True)
    mask = np.ones(owner.shape, bool)
    mask[idx] = False
    assert np.array_equal(o2[mask], owner[mask], equal_nan=True)


@pytest.mark.parametrize("name", ELEMENTWISE)
@SETTINGS
@given(data=st.data())
def test_backward_property(name, data):
    owner, idx = data.draw(strided_arrays())
    x = owner[idx]
    dtype = x.dtype.type
    g = data.draw(hnp.arrays(dtype, x.shape, elements=st.floats(-4, 4, width=32 if dtype == np.float32 else 64)))
    params = CASES[name][0]
    fns = fastact.get(name)
    d = fns.backward(g, x, **params)
    assert_bwd(d, ref.backward(name, g, x, **in_dtype(params, dtype)), g, dtype, BWD_LIMIT + 4, f"{name}_backward")
    gi = g.copy()
    fns.backward_(gi, x, **params)
    assert np.array_equal(gi, d, equal_nan=True)
    if y_ok(name, params):
        y = fns.forward(x, **params)
        gy = fns.backward(g, y=y, **params)
        assert gy.shape == g.shape


@SETTINGS
@given(data=st.data(), shift=st.integers(1, 7))
def test_partial_overlap_rejected_exact_alias_allowed(data, shift):
    name = data.draw(st.sampled_from(ELEMENTWISE))
    dtype = data.draw(DTYPES)
    buf = data.draw(hnp.arrays(dtype, 40, elements=st.floats(-5, 5, width=32 if dtype == np.float32 else 64)))
    before = buf.tobytes()
    with pytest.raises(ValueError, match="overlaps"):
        fastact.get(name).forward(buf[:30], out=buf[shift:30 + shift], **CASES[name][0])
    assert buf.tobytes() == before
    y = fastact.get(name).forward(buf[:30], **CASES[name][0])
    fastact.get(name).forward(buf[:30], out=buf[:30], **CASES[name][0])
    assert np.array_equal(buf[:30], y, equal_nan=True)


@SETTINGS
@given(data=st.data())
def test_zero_stride_in_place_rejected(data):
    name = data.draw(st.sampled_from(ELEMENTWISE))
    base = np.linspace(-2, 2, 5).astype(np.float32)
    v = np.lib.stride_tricks.as_strided(base, shape=(data.draw(st.integers(2, 6)), 5), strides=(0, 4))
    before = base.tobytes()
    with pytest.raises(ValueError, match="zero stride"):
        fastact.get(name).forward_(v, **CASES[name][0])
    assert base.tobytes() == before
    np.testing.assert_array_equal(fastact.get(name).forward(v, **CASES[name][0])[0],
                                  fastact.get(name).forward(base, **CASES[name][0]))


BAD = [
    lambda x: fastact.relu_(x, max=-1.0),
    lambda x: fastact.relu_(x, negative_slope=float("nan")),
    lambda x: fastact.hardtanh_(x, min=1.0, max=0.0),
    lambda x: fastact.gelu_(x, approximate="fast"),
    lambda x: fastact.softplus_(x, beta=0.0),
    lambda x: fastact.celu_(x, alpha=0.0),
    # alpha one longer than the axis it applies to (the last one)
    lambda x: fastact.prelu_(x, np.ones((x.shape[-1] if x.ndim else x.size) + 1), axis=-1),
    lambda x: fastact.sigmoid_(x, n_threads=0),
    lambda x: fastact.tanh_backward_(x),
    lambda x: fastact.tanh_backward_(x, x, y=x),
    lambda x: fastact.gelu_backward_(x, y=x),
    lambda x: fastact.relu_backward_(x, x.astype(np.float16)),
    lambda x: fastact.relu_backward_(x, np.ones(x.size + 1, x.dtype)),
    lambda x: fastact.softmax_(x, axis=7),
    lambda x: fastact.sigmoid(x, out=np.empty(x.size + 1, x.dtype)),
    lambda x: fastact.sigmoid(x, out=np.empty(x.shape, np.float16)),
]


@SETTINGS
@given(data=st.data())
def test_rejected_calls_write_nothing(data):
    owner, idx = data.draw(strided_arrays())
    x = owner[idx]
    assume(x.size > 0 and x.ndim >= 1)
    call = data.draw(st.sampled_from(BAD))
    before = owner.tobytes()
    with pytest.raises((ValueError, TypeError)):
        call(x)
    assert owner.tobytes() == before
