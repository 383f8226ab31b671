"""NaN bits: an element-wise forward returns its input NaN's exact bits (sign,
payload, signaling or quiet); every other NaN result is the first NaN operand
(grad, then the saved x or y; bias_act: x, then bias) or else the default
quiet NaN (positive, zero payload), and reductions (softmax rows) give the
default quiet NaN.  Every result, NaNs included, is bitwise independent of
the thread count, the layout and the position (NAN_RULES.md).

The arrays are longer than two thread grains (fastact/_table.py GRAIN), so
n_threads=2 really splits them, and NaNs go to random positions as well as to
the ends, the middle (the thread split) and the 512-element blocks of the
strided path."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fastact
from fastact._table import BY_NAME, GRAIN
from fa_testutil import CASES, y_ok

SETTINGS = settings(max_examples=2, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}
# (exponent bits, quiet bit, sign bit) per dtype
LAYOUT_BITS = {np.dtype(np.float32): (0x7f800000, 1 << 22, 1 << 31),
               np.dtype(np.float64): (0x7ff0000000000000, 1 << 51, 1 << 63)}
QNAN = {np.dtype(np.float32): 0x7fc00000, np.dtype(np.float64): 0x7ff8000000000000}
ROWS = 37
# float32: 2 * GRAIN["cheap"] < ROWS * COLS (so also > 2 * GRAIN["transc"]);
# float64 splits at half the elements
COLS = {np.dtype(np.float32): -(-(2 * GRAIN["cheap"] + 1) // ROWS),
        np.dtype(np.float64): -(-(GRAIN["cheap"] + 1) // ROWS)}
ELEMENTWISE = [n for n in fastact.ACTIVATIONS if BY_NAME[n].kind == "elementwise"]
THREADS = (1, 2)
LAYOUTS = ("C", "F", "strided", "reversed")
BWD_LAYOUTS = ("C", "strided")


def nan_bits(dtype):
    """Strategy: the bits of a NaN of dtype (any sign, quiet or signaling, any payload)."""
    e, q, s = LAYOUT_BITS[np.dtype(dtype)]

    def build(sign, quiet, low):
        if not quiet and low == 0:
            low = 1                         # a signaling NaN needs a non-zero payload
        return (s if sign else 0) | e | (q if quiet else 0) | low
    return st.builds(build, st.booleans(), st.booleans(),
                     st.one_of(st.just(0), st.just(1), st.integers(0, q - 1)))


def interesting(n):
    """Positions where the loops change: ends, the middle (2-thread split),
    512-element blocks (strided buffer), 64-byte alignment heads."""
    pos = set(range(0, 20)) | set(range(n - 40, n)) | set(range(n // 2 - 40, n // 2 + 40))
    pos |= {k + d for k in range(512, n, 512 * 37) for d in (-1, 0, 1)}
    return sorted(p for p in pos if 0 <= p < n)


@st.composite
def nan_case(draw, dtype, count=2):
    """count arrays of shape (ROWS, COLS) of finite values with NaNs (given as
    bits) at drawn positions, some shared between the arrays."""
    dtype = np.dtype(dtype)
    n = ROWS * COLS[dtype]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pos_st = st.one_of(st.sampled_from(interesting(n)), st.integers(0, n - 1))
    shared = draw(st.lists(pos_st, min_size=1, max_size=12))
    out = []
    for _ in range(count):
        v = (rng.standard_normal(n) * 3).astype(dtype)
        bits = v.view(UINT[dtype])
        own = draw(st.lists(pos_st, min_size=1, max_size=20))
        for p in own + shared:
            bits[p] = draw(nan_bits(dtype))
        out.append(v.reshape(ROWS, COLS[dtype]))
    return out


def place(v, layout):
    """An array equal to v (bit for bit) in the given memory layout."""
    if layout == "C":
        return v.copy()
    if layout == "F":
        return np.asfortranarray(v)
    if layout == "strided":
        buf = np.empty((v.shape[0], 2 * v.shape[1]), v.dtype)
        a = buf[:, ::2]
        a[...] = v
        return a
    if layout == "reversed":
        return v[::-1, ::-1].copy()[::-1, ::-1]
    raise AssertionError(layout)


def bits(a):
    a = np.asarray(a)
    return np.ascontiguousarray(a).view(UINT[a.dtype])


def nan_pick(ref, *ops):
    """ref's bits, where ref is NaN: the first NaN among ops, else the default quiet NaN."""
    dt = ref.dtype
    want = bits(ref).copy()
    pick = np.full(ref.shape, QNAN[dt], UINT[dt])
    for o in reversed(ops):
        pick = np.where(np.isnan(o), bits(o), pick)
    return np.where(np.isnan(ref), pick, want)


def assert_bits(got, want, what):
    gb, wb = bits(got), want
    bad = np.flatnonzero(gb != wb)
    assert bad.size == 0, (f"{what}: {bad.size} elements differ, first at flat {bad[:5].tolist()}: "
                           f"got {[hex(int(b)) for b in gb.ravel()[bad[:5]]]}, "
                           f"want {[hex(int(b)) for b in wb.ravel()[bad[:5]]]}")


def run_forms(fn, fn_, ops, want, what, layouts=LAYOUTS, **kw):
    """fn(*ops) out of place, with out=, and fn_ in place on ops[0] (if fn_),
    for every thread count and layout: each must give the bits `want`."""
    for t in THREADS:
        for lay in layouts:
            args = [place(o, lay) for o in ops]
            assert_bits(fn(*args, n_threads=t, **kw), want, f"{what} {lay} t={t}")
            o = place(np.zeros(want.shape, ops[0].dtype), lay)
            r = fn(*args, out=o, n_threads=t, **kw)
            assert r is o
            assert_bits(o, want, f"{what} out= {lay} t={t}")
            if fn_ is not None:
                r = fn_(*args, n_threads=t, **kw)
                assert_bits(args[0], want, f"{what} in place {lay} t={t}")
            if len(ops) > 1:            # the result over the second operand (a backward's saved x or y)
                args = [place(o, lay) for o in ops]
                r = fn(*args, out=args[1], n_threads=t, **kw)
                assert r is args[1]
                assert_bits(args[1], want, f"{what} out=<second operand> {lay} t={t}")


def param_sets(name):
    """The default and one other parameter set (all of them would take minutes)."""
    return CASES.get(name, [{}])[:2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_elementwise_forward_keeps_input_nan(dtype, data):
    (x,) = data.draw(nan_case(dtype, count=1))
    for name in ELEMENTWISE:
        f = fastact.get(name)
        for p in param_sets(name):
            ref = f.forward(x, n_threads=1, **p)
            want = np.where(np.isnan(x), bits(x), bits(ref))
            run_forms(f.forward, f.forward_, [x], want, f"{name}({p})", **p)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_elementwise_backward_nan_rule(dtype, data):
    g, x = data.draw(nan_case(dtype, count=2))
    for name in ELEMENTWISE:
        f = fastact.get(name)
        for p in param_sets(name):
            ref = f.backward(g, x, n_threads=1, **p)
            want = nan_pick(ref, g, x)
            run_forms(lambda g_, x_, **k: f.backward(g_, x_, **k),
                      lambda g_, x_, **k: f.backward_(g_, x_, **k),
                      [g, x], want, f"{name}_backward({p})", layouts=BWD_LAYOUTS, **p)
            y = f.forward(x, n_threads=1, **p)
            try:
                ref = f.backward(g, y=y, n_threads=1, **p)
            except ValueError:
                continue                    # y does not determine the derivative here
            want = nan_pick(ref, g, y)
            run_forms(lambda g_, y_, **k: f.backward(g_, y=y_, **k),
                      lambda g_, y_, **k: f.backward_(g_, y=y_, **k),
                      [g, y], want, f"{name}_backward(y=, {p})", layouts=BWD_LAYOUTS, **p)


# The backward loops of the piecewise kernels (float) compute a form that is
# exact only for an x that is not NaN and find NaN inputs with their results
# (FA_NANX_KERNELS in src/fa_kernels.h): so here the values and the NaN
# positions come from an oracle of their own, not from fastact's own
# out-of-place result as above.  Each case: the public call, its parameters,
# and the kernel's derivative rule in NumPy (float32 arithmetic, as the loop's).
INF = float("inf")
NANX_CASES = [
    ("relu", {}, ("relu", INF, 0.0, 0.0)),
    ("relu", {"max": 6.0}, ("relu", 6.0, 0.0, 0.0)),
    ("relu6", {}, ("relu", 6.0, 0.0, 0.0)),
    ("relu", {"max": 0.5}, ("relu", 0.5, 0.0, 0.0)),
    ("leaky_relu", {}, ("relu", INF, 0.01, 0.0)),
    ("relu", {"max": 6.0, "negative_slope": 0.1}, ("relu", 6.0, 0.1, 0.0)),
    ("relu", {"negative_slope": 0.2, "threshold": 0.5}, ("relu", INF, 0.2, 0.5)),
    ("relu", {"max": 6.0, "negative_slope": 0.2, "threshold": 0.5}, ("relu", 6.0, 0.2, 0.5)),
    ("relu", {"max": 3.0, "negative_slope": -0.2, "threshold": -1.0}, ("relu", 3.0, -0.2, -1.0)),
    ("thresholded_relu", {}, ("relu", INF, 0.0, 1.0)),
    ("hardtanh", {}, ("inside", -1.0, 1.0)),
    ("hard_sigmoid", {"slope": 0.0, "offset": 0.3}, ("inside", 0.3, 0.3)),
    ("hard_sigmoid", {}, ("hard_sigmoid", 0.2, 0.5)),
    ("softshrink", {}, ("shrink", 0.5)),
    ("hardshrink", {}, ("shrink", 0.5)),
    ("threshold", {"threshold": 0.5, "value": -1.0}, ("above", 0.5)),
]


def piecewise_backward_oracle(rule, g, x):
    """the bits of g * f'(x) by the NaN rule (the first NaN of g, x; else the
    value below, the default NaN where it is NaN): relu with max, slope s and
    threshold t: g for t < x < max (no max, inf: also at +inf), 0 at and above
    max, g * s + 0 at and below t (0 when s = 0, whatever g is); the clips
    (hardtanh, hard_sigmoid, shrink, threshold): g (hard_sigmoid: g * slope)
    inside, 0 outside, whatever g is"""
    dt = g.dtype
    z = dt.type(0)
    kind, *p = rule
    with np.errstate(invalid="ignore", over="ignore"):
        if kind == "relu":
            mx, s, t = (dt.type(v) for v in p)
            up = np.where((x < mx) | (mx == np.inf), g, z)
            v = np.where(x > t, up, g * s + z if s != 0 else np.full_like(g, z))
        elif kind == "inside":
            v = np.where((x > dt.type(p[0])) & (x < dt.type(p[1])), g, z)
        elif kind == "hard_sigmoid":
            a, b = dt.type(p[0]), dt.type(p[1])
            u = a * x + b
            v = np.where((u > 0) & (u < 1), g * a, z)
        elif kind == "shrink":
            v = np.where(np.abs(x) <= dt.type(p[0]), z, g)
        else:
            v = np.where(x > dt.type(p[0]), g, z)
    return nan_pick(np.where(np.isnan(x), x, v).astype(dt), g, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,p,rule", NANX_CASES)
def test_piecewise_backward_nan_and_special_pairs(name, p, rule, dtype):
    """Every pairing of special grads (NaN of each kind, +-inf, +-0, tiny)
    with special x (the same NaNs, +-inf, +-0, tiny, values around the kinks),
    tiled over several NaN sub-blocks at four offsets, each sub-block also clean
    or with a lone NaN: from x and (where y determines it) from y, out of place,
    into out=, in place on the grad and on x or y, 1 and 2 threads.  A run of
    NaN grads is followed 256 elements (one NaN sub-block) later by NaN x with
    finite grads in the same lanes: in place, the fix-up reads the grad kept
    in those lanes, which must be this sub-block's, not the NaN the lane kept
    in the sub-block before."""
    dt = np.dtype(dtype)
    u = UINT[dt]
    e, q, sb = LAYOUT_BITS[dt]
    nans = np.array([e | q, sb | e | q, e | q | 5, e | 1, sb | e | 7], u).view(dt)   # quiet, signaling
    tiny = np.finfo(dt).smallest_subnormal
    gs = np.concatenate([nans, np.array([np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, 1.5, -2.0], dt)])
    xs = np.concatenate([nans, np.array([np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, 0.5, 0.3, 1.0, -1.0,
                                         6.0, 7.0, -0.5, -3.0, 2.0], dt)])
    gg, xx = (a.ravel() for a in np.meshgrid(gs, xs))
    rng = np.random.default_rng(7)
    n = 2 * GRAIN["cheap"] + 4099
    g = rng.standard_normal(n).astype(dt)
    x = (rng.standard_normal(n) * 3).astype(dt)
    for at in (3, 700, 1500, n // 2 - len(gg) // 2, n - len(gg)):
        g[at:at + len(gg)], x[at:at + len(gg)] = gg, xx
    g[3000], x[3600] = nans[3], nans[1]          # a sub-block with one NaN grad, one with one NaN x
    g[5000:5040] = nans[2]
    x[5256:5296] = nans[4]
    f = fastact.get(name)
    want = piecewise_backward_oracle(rule, g, x)
    y = f.forward(x, n_threads=1, **p)
    forms = [(x, "x", f.backward, f.backward_)]
    if y_ok(name, p):
        forms.append((y, "y", lambda g_, s_, **k: f.backward(g_, y=s_, **k),
                      lambda g_, s_, **k: f.backward_(g_, y=s_, **k)))
    else:
        with pytest.raises(ValueError, match=name):
            f.backward(g, y=y, **p)
    for t in THREADS:
        for s, label, call, call_ in forms:
            what = f"{name}({p}) from {label} t={t}"
            for off in range(4):
                sl = slice(off, n)
                assert_bits(call(g[sl], s[sl], n_threads=t, **p), want[sl], what + f" [{off}:]")
                o = np.full(n - off, 9, dt)
                call(g[sl], s[sl], out=o, n_threads=t, **p)
                assert_bits(o, want[sl], what + f" out= [{off}:]")
                gi = g[sl].copy()
                call_(gi, s[sl], n_threads=t, **p)
                assert_bits(gi, want[sl], what + f" in place on the grad [{off}:]")
                si = s[sl].copy()
                call(g[sl], si, out=si, n_threads=t, **p)
                assert_bits(si, want[sl], what + f" out=<{label}> [{off}:]")


# bfloat16 is staged by its bits (fastact/_arrays.py): ml_dtypes' casts would
# turn every NaN into 0x7fc0/0xffc0
@pytest.mark.parametrize("dtype", [np.float16, "bfloat16"])
@SETTINGS
@given(data=st.data())
def test_staged_forward_keeps_input_nan(dtype, data):
    """float16/bfloat16 compute in float32 and are rounded back."""
    if dtype == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        dtype, e, q = np.dtype(ml_dtypes.bfloat16), 0x7f80, 0x40
    else:
        dtype, e, q = np.dtype(np.float16), 0x7c00, 0x200
    n = 2 * GRAIN["cheap"] + 37
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(n) * 3).astype(dtype)
    xb = x.view(np.uint16)
    pos = data.draw(st.lists(st.one_of(st.sampled_from(interesting(n)), st.integers(0, n - 1)),
                             min_size=1, max_size=30))
    for p in pos:
        sign, quiet, low = data.draw(st.tuples(st.booleans(), st.booleans(), st.integers(0, q - 1)))
        xb[p] = (0x8000 if sign else 0) | e | (q if quiet else 0) | (low if quiet or low else 1)
    isnan = np.isnan(x.astype(np.float32))
    for name in ("relu", "tanh", "gelu", "sigmoid", "hardtanh", "softsign"):
        f = fastact.get(name)
        ref = f.forward(x, n_threads=1)
        want = np.where(isnan, xb, ref.view(np.uint16))
        for t in THREADS:
            for a in (x.copy(), x.copy()[::-1].copy()[::-1]):
                r = f.forward(a, n_threads=t)
                np.testing.assert_array_equal(np.ascontiguousarray(r).view(np.uint16), want, f"{name} t={t}")
                f.forward_(a, n_threads=t)
                np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint16), want,
                                              f"{name}_ t={t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data())
def test_softmax_nan_is_default_quiet_nan(name, dtype, data):
    g, x = data.draw(nan_case(dtype, count=2))
    f = fastact.get(name)
    for axis in (-1, 0):
        ref = f.forward(x, axis=axis, n_threads=1)
        want = nan_pick(ref)
        assert np.isnan(ref).any()
        run_forms(f.forward, f.forward_, [x], want, f"{name}(axis={axis})", layouts=BWD_LAYOUTS,
                  axis=axis)
        y = ref
        for kw in ({"y": y}, {"x": x}):
            ref_b = f.backward(g, n_threads=1, axis=axis, **kw)
            want_b = nan_pick(ref_b)
            (key, val), = kw.items()
            run_forms(lambda g_, s_, **k: f.backward(g_, **{key: s_}, **k),
                      lambda g_, s_, **k: f.backward_(g_, **{key: s_}, **k),
                      [g, val], want_b, f"{name}_backward({key}=, axis={axis})",
                      layouts=BWD_LAYOUTS, axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["glu", "swiglu", "geglu"])
@SETTINGS
@given(data=st.data())
def test_gated_nan_rule(name, dtype, data):
    g2, x = data.draw(nan_case(dtype, count=2))
    x = np.concatenate([x, x[:, ::-1]], axis=1)         # NaNs in both halves, some in both
    f = fastact.get(name)
    cases = {"geglu": ({}, {"approximate": "tanh"}), "swiglu": ({}, {"alpha": 1.702, "limit": 7.0, "bias": 1.0})}
    for p in cases.get(name, ({},)):
        for axis in (-1, 0):
            xa = x if axis == -1 else np.ascontiguousarray(x.T)
            h = xa.shape[axis] // 2
            a, b = np.split(xa, 2, axis=axis)
            ref = f.forward(xa, axis=axis, n_threads=1, **p)
            want = nan_pick(ref, a, b)
            run_forms(f.forward, None, [xa], want, f"{name}(axis={axis}, {p})",
                      layouts=BWD_LAYOUTS, axis=axis, **p)
            g = g2 if axis == -1 else np.ascontiguousarray(g2.T)
            g = np.ascontiguousarray(g[:, :h] if axis == -1 else g[:h, :])
            ref_b = f.backward(g, xa, axis=axis, n_threads=1, **p)
            want_b = nan_pick(ref_b, np.concatenate([g, g], axis=axis), np.concatenate([a, a], axis=axis),
                              np.concatenate([b, b], axis=axis))
            for t in THREADS:
                for lay in BWD_LAYOUTS:
                    r = f.backward(place(g, lay), place(xa, lay), axis=axis, n_threads=t, **p)
                    assert_bits(r, want_b, f"{name}_backward(axis={axis}, {p}) {lay} t={t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_bias_act_nan_rule(dtype, data):
    g, x, bias2 = data.draw(nan_case(dtype, count=3))
    bias = bias2[0].copy()                             # NaNs in some columns
    bias[data.draw(st.lists(st.integers(0, bias.size - 1), max_size=6))] = np.nan
    bias_full = np.broadcast_to(bias, x.shape)
    for act in ("linear", "relu", "tanh", "gelu", "sigmoid", "elu"):
        ref = fastact.bias_act(x, bias, act, n_threads=1)
        want = nan_pick(ref, x, bias_full)
        run_forms(lambda x_, **k: fastact.bias_act(x_, bias, act, **k),
                  lambda x_, **k: fastact.bias_act_(x_, bias, act, **k), [x], want, f"bias_act({act})")
        ref_gx, ref_gb = fastact.bias_act_backward(g, x, bias=bias, act=act, n_threads=1)
        t = nan_pick(x + bias_full, x, bias_full).view(x.dtype)     # x + bias as the rule picks it
        want_gx = nan_pick(ref_gx, g, t)
        for th in THREADS:
            for lay in BWD_LAYOUTS:
                gx, gb = fastact.bias_act_backward(place(g, lay), place(x, lay), bias=bias, act=act,
                                                   n_threads=th)
                assert_bits(gx, want_gx, f"bias_act_backward({act}) {lay} t={th}")
                assert_bits(gb, bits(ref_gb), f"bias_act_backward({act}) grad_bias {lay} t={th}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@SETTINGS
@given(data=st.data())
def test_prelu_nan_rule(dtype, data):
    g, x = data.draw(nan_case(dtype, count=2))
    for alpha, axis in ((0.25, 1), (np.linspace(-0.5, 0.5, ROWS).astype(dtype), 0),
                        (np.linspace(-0.5, 0.5, x.shape[1]).astype(dtype), 1)):
        ref = fastact.prelu(x, alpha, axis, n_threads=1)
        want = np.where(np.isnan(x), bits(x), bits(ref))
        run_forms(lambda x_, **k: fastact.prelu(x_, alpha, axis, **k),
                  lambda x_, **k: fastact.prelu_(x_, alpha, axis, **k), [x], want, f"prelu(axis={axis})")
        ref_gx, ref_ga = fastact.prelu_backward(g, x, alpha=alpha, axis=axis, n_threads=1)
        want_gx = nan_pick(ref_gx, g, x)
        for th in THREADS:
            for lay in BWD_LAYOUTS:
                gx, ga = fastact.prelu_backward(place(g, lay), place(x, lay), alpha=alpha, axis=axis,
                                                n_threads=th)
                assert_bits(gx, want_gx, f"prelu_backward(axis={axis}) {lay} t={th}")
                assert_bits(ga, nan_pick(np.asarray(ref_ga)), f"prelu_backward(axis={axis}) grad_alpha {lay} t={th}")
