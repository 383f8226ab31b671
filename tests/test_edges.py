"""Edge values: NaN, +-0, +-inf, subnormals, float max, kinks and the roots of
f' (the README's semantics section), from the rows' kinks, roots and zero_sign."""
import os
import re

import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fastact._table import BY_NAME
from fa_testutil import (in_dtype, ABS_TOL, BWD_ULP, CASES, DEFAULT_ULP, ELEMENTWISE, FWD_ULP, assert_bwd, assert_ulp,
                         derivative_roots, kinks, params_id, row_fact, y_ok)

DTYPES = [np.float32, np.float64]


def specials(dtype):
    fi = np.finfo(dtype)
    tiny, sub = fi.tiny, fi.smallest_subnormal
    v = [np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, sub, -sub, 3 * sub, fi.max, -fi.max,
         1e30, -1e30, 1.0, -1.0, 0.5, -0.5, 3.0, -3.0, 6.0, 20.0, -20.0, 88.0, -88.0, 100.0, -100.0,
         700.0, -700.0, -745.0, 1e-20, -1e-20]
    # every decade of magnitude: formulas that split x into parts (celu's
    # x/alpha as high + low) can go wrong between the usual and the extreme
    top = int(np.log10(fi.max))
    v += [s * 10.0 ** k for k in range(2, top + 1) for s in (1, -1)]
    return np.array(v, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_special_values_match_reference(name, dtype):
    x = specials(dtype)
    fns = fastact.get(name)
    for params in CASES[name]:
        y = fns.forward(x, **params)
        assert_ulp(y, ref.forward(name, x, **in_dtype(params, dtype)), dtype, FWD_ULP.get(name, DEFAULT_ULP),
                   f"{name}({params}) at special values", ABS_TOL.get(name, 0.0))
        g = np.ones_like(x)
        d = fns.backward(g, x, **params)
        assert_bwd(d, ref.backward(name, g, x, **in_dtype(params, dtype)), g, dtype, BWD_ULP,
                   f"{name}_backward({params}) at special values")


def _scaled_params(name):
    """The row's numeric parameters one at a time times 1.7, 0.3, -1, -0.45, 3.1
    and 0 (a zero default: those values): what the validation accepts."""
    fns = fastact.get(name)
    base = {p.name: p.default for p in BY_NAME[name].params
            if isinstance(p.default, (int, float)) and not isinstance(p.default, bool)}
    probe = np.ones(1)
    for k, v in base.items():
        for f in (1.7, 0.3, -1.0, -0.45, 3.1, 0.0):
            params = {k: float(v * f) if v else f}
            try:
                fns.forward(probe, **params)
            except ValueError:
                continue
            yield params


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_scaled_parameters_at_every_decade(name, dtype):
    """Parameters away from the tested cases (a swish beta of 0 overflowed, a
    celu alpha of -1.7 flipped sign for large x) against the reference, over
    every decade of magnitude and normal samples."""
    fi = np.finfo(dtype)
    dec = [s * 10.0 ** k for k in range(int(np.log10(fi.tiny)), int(np.log10(fi.max)) + 1) for s in (1, -1)]
    rng = np.random.default_rng(3)
    x = np.concatenate([dec, rng.standard_normal(400) * 5]).astype(dtype)
    fns = fastact.get(name)
    for params in _scaled_params(name):
        assert_ulp(fns.forward(x, **params), ref.forward(name, x, **in_dtype(params, dtype)), dtype,
                   FWD_ULP.get(name, DEFAULT_ULP), f"{name}({params})", ABS_TOL.get(name, 0.0))
        g = np.ones_like(x)
        assert_bwd(fns.backward(g, x, **params), ref.backward(name, g, x, **in_dtype(params, dtype)), g, dtype,
                   BWD_ULP, f"{name}_backward({params})")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_nan_propagates_forward_and_backward(name):
    fns = fastact.get(name)
    for dtype in DTYPES:
        x = np.full(37, np.nan, dtype)     # 37: vector body and scalar tail
        x[1::2] = -x[1::2]                 # NaNs with the sign bit too (their bits sort last)
        assert np.signbit(x).sum() == 18
        for params in CASES[name]:
            assert np.isnan(fns.forward(x, **params)).all(), name
            if name != "linear":   # identity: its derivative 1 never reads x
                assert np.isnan(fns.backward(np.ones_like(x), x, **params)).all(), name + " backward"


def _special_grad_expected(name, params, gv, x, rp, dtype, from_y):
    """What g * f'(x) must be for a grad gv of NaN or +-inf: +0 where f is
    flat (reference.flat), as PyTorch's backward ops; elsewhere the IEEE
    product: NaN for a NaN x or grad, inf * f'(x) otherwise (NaN where f'(x)
    is 0).  None where either is allowed: f'(x) below the normal range, which
    the dtype may round to 0, and (from y) every infinite grad outside the
    flat pieces, since y loses f' where it rounds to its limit."""
    flat = ref.flat(name, x, **rp)
    d = ref.derivative(name, x, **rp)
    want = np.where(np.isnan(d) | np.isnan(gv), np.nan, np.asarray(gv) * np.where(d == 0, np.nan, np.sign(d)))
    # a root of f' is an exact 0 (inf * 0: NaN); elsewhere a tiny f' may round to 0
    tiny = (np.abs(d) < np.finfo(dtype).tiny) & ~np.isin(x, derivative_roots(name, params))
    unsure = ~flat & ~np.isnan(d) & ~np.isnan(gv) & (tiny | from_y)
    # within a few ulps of a kink the dtype's arithmetic may put x on either side
    for k, _ in kinks(name, params):
        near = (x != k) & (np.abs(x - k) <= 4 * np.spacing(np.abs(dtype(k))))
        unsure |= near
    return np.where(flat, 0.0, want), unsure


# parameters whose pieces meet unusually: a max at or below the threshold
# (the slope piece reaches up to the threshold), a max of 0, a zero slope
SPECIAL_GRAD_CASES = {
    "relu": [{"max": 0.5, "threshold": 0.5, "negative_slope": 0.1},
             {"max": 0.3, "threshold": 0.5, "negative_slope": 0.5}, {"max": 2.0, "threshold": 0.5}],
    "leaky_relu": [{"alpha": 0.2, "max": 0.0}, {"alpha": 0.0}],
    "hard_sigmoid": [{"slope": 0.0, "offset": 0.3}],
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_of_special_grads(name, dtype):
    """NaN and infinite grads: +0 in the flat pieces of the piecewise
    activations (relu below 0 and above its max, the clips outside, the
    shrinks' dead zone, ...) whatever the grad is, as PyTorch's backward ops
    select it; NaN or inf * f'(x) elsewhere.  Out of place and in place on g,
    from x and (where y determines f') from y, at the special values and the
    kinks, vector body and tail."""
    fns = fastact.get(name)
    for params in CASES[name] + SPECIAL_GRAD_CASES.get(name, []):
        rp = in_dtype(params, dtype)
        x = np.concatenate([specials(dtype), np.array([k for k, _ in kinks(name, params)], dtype)])
        with np.errstate(over="ignore"):
            x = np.concatenate([x, -x, x * dtype(1.0000001), x * dtype(0.9999999)]).astype(dtype)
        forms = [("x", x)]
        if y_ok(name, params):
            forms.append(("y", fns.forward(x, **params)))
        for gv in (np.nan, np.inf, -np.inf):
            g = np.full(x.shape, gv, dtype)
            want, unsure = _special_grad_expected(name, params, gv, x, rp, dtype, False)
            want_y, unsure_y = _special_grad_expected(name, params, gv, x, rp, dtype, True)
            for form, s in forms:
                w, u = (want, unsure) if form == "x" else (want_y, unsure_y)
                call = (lambda gg: fns.backward(gg, s, **params)) if form == "x" else \
                    (lambda gg: fns.backward(gg, y=s, **params))
                call_ = (lambda gg: fns.backward_(gg, s, **params)) if form == "x" else \
                    (lambda gg: fns.backward_(gg, y=s, **params))
                for how, got in (("out of place", call(g)), ("in place", call_(g.copy()))):
                    ok = u | (np.isnan(got) & np.isnan(w)) | ((got == w) & (np.signbit(got) == np.signbit(w)))
                    bad = np.flatnonzero(~ok)
                    assert bad.size == 0, (f"{name}({params}) backward from {form}, {how}, grad {gv}: "
                                           f"x={x[bad[:6]]} gave {got[bad[:6]]}, want {w[bad[:6]]}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_prelu_backward_of_special_grads(dtype):
    """prelu with a zero slope in some channels: +0 there below 0 for a NaN or
    infinite grad (its flat piece), grad * slope in the others; scalar and
    per-channel slopes, against the reference."""
    x = np.tile(np.concatenate([specials(dtype), -specials(dtype)]), (2, 1)).T.copy()   # (n, 2): channels on axis 1
    for alpha in (np.array([0.0, 0.5], dtype), np.array(0.0, dtype), np.array([-0.25, 0.0], dtype)):
        for gv in (np.nan, np.inf, -np.inf):
            g = np.full(x.shape, gv, dtype)
            got, _ = fastact.prelu_backward(g, x, alpha=alpha)
            with np.errstate(invalid="ignore", over="ignore"):
                want = ref.backward("prelu", g, x, alpha=alpha)[0]
            flat = ref.flat("prelu", x, alpha=alpha)
            assert flat.any()
            ok = (np.isnan(got) & np.isnan(want)) | ((got == want) & (np.signbit(got) == np.signbit(want)))
            assert ok.all(), (alpha, gv, x[~ok][:6], got[~ok][:6], want[~ok][:6])


try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None

# fastact's call and PyTorch's module function, for the piecewise activations
# whose backward PyTorch selects (threshold_backward, hardtanh_backward, ...)
TORCH_FLAT = [
    ("relu", {}, lambda t: TF.relu(t)),
    ("relu6", {}, lambda t: TF.relu6(t)),
    ("relu", {"max": 6.0}, lambda t: TF.hardtanh(t, 0.0, 6.0)),
    ("hardtanh", {"min": -2.0, "max": 0.5}, lambda t: TF.hardtanh(t, -2.0, 0.5)),
    ("threshold", {"threshold": 0.5, "value": -2.0}, lambda t: TF.threshold(t, 0.5, -2.0)),
    ("softshrink", {"lambd": 1.5}, lambda t: TF.softshrink(t, 1.5)),
    ("hardshrink", {"lambd": 1.5}, lambda t: TF.hardshrink(t, 1.5)),
    ("hard_sigmoid", {"slope": 1 / 6, "offset": 0.5}, lambda t: TF.hardsigmoid(t)),
    ("hard_swish", {}, lambda t: TF.hardswish(t)),
]


@pytest.mark.skipif(torch is None, reason="PyTorch is an optional peer, not installed")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params,tf", TORCH_FLAT, ids=[f"{n}-{params_id(p)}" for n, p, _ in TORCH_FLAT])
def test_flat_piece_gradients_are_pytorchs(name, params, tf, dtype):
    """The README's flat-piece rule is PyTorch's: NaN, +-inf and finite grads
    over every piece and at the kinks, against PyTorch's autograd."""
    x = np.array([-np.inf, -1e30, -7.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0,
                  1.5, 2.0, 3.0, 6.0, 7.0, 1e30, np.inf] * 4, dtype)
    for gv in (np.nan, np.inf, -np.inf, 1.5, -0.0):
        g = np.full(x.shape, gv, dtype)
        t = torch.from_numpy(x.copy()).requires_grad_()
        tf(t).backward(torch.from_numpy(g.copy()))
        want = t.grad.numpy()
        got = fastact.get(name).backward(g, x, **params)
        # rtol: PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=f"{name}({params}) backward, grad {gv}")
        assert np.array_equal(np.signbit(got[got == 0]), np.signbit(want[got == 0])), (name, gv)


ZERO_CASES = [(n, p) for n in ELEMENTWISE for p in CASES[n]]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", ZERO_CASES, ids=[f"{n}-{params_id(p)}" for n, p in ZERO_CASES])
def test_signed_zero(name, params, dtype):
    """f(-0.0) and f(+0.0) as the row's zero_sign says, sign included (a -0.0
    where PyTorch keeps it), in the vector body and the scalar tail."""
    fns = fastact.get(name)
    want = row_fact(name, "zero_sign", params)
    x = np.array([-0.0] * 19 + [0.0] * 19, dtype)
    y = fns.forward(x, **params)
    for zero, half, w in ((-0.0, y[:19], want[0]), (0.0, y[19:], want[1])):
        what = f"{name}({params}) at {zero}: expected {w}, got {half}"
        if w == 0:
            assert np.all(half == 0) and np.all(np.signbit(half) == np.signbit(w)), what
        else:
            assert_ulp(half, np.full(19, w), dtype, FWD_ULP.get(name, DEFAULT_ULP), what)
    if want[0] == want[1] and np.signbit(want[0]) == np.signbit(want[1]):   # one value, the same bits
        assert np.unique(y.view(f"u{y.itemsize}")).size == 1, f"{name}({params}): {y}"


def test_relu_of_negative_is_positive_zero():
    y = fastact.relu(np.array([-3.0, -np.inf, -1e-30], np.float32))
    assert np.all(y == 0) and not np.any(np.signbit(y))
    assert fastact.relu6(np.array([-np.inf], np.float32))[0] == 0


@pytest.mark.parametrize("name", ["gelu", "silu", "swish", "mish", "hard_swish"])
def test_true_limits_at_minus_inf(name):
    for dtype in DTYPES:
        y = fastact.get(name).forward(np.array([-np.inf, np.inf], dtype))
        assert y[0] == 0 and np.signbit(y[0]), f"{name}(-inf) must be -0.0, got {y[0]}"
        assert y[1] == np.inf
        d = fastact.get(name).backward(np.ones(2, dtype), np.array([-np.inf, np.inf], dtype))
        assert d[0] == 0 and d[1] == 1, f"{name}' at -inf/+inf must be 0/1, got {d}"


def test_softsign_limits():
    y = fastact.softsign(np.array([-np.inf, np.inf, 3e38], np.float32))
    assert y.tolist() == [-1.0, 1.0, 1.0]
    assert fastact.softsign_backward(np.ones(2, np.float32), np.array([-np.inf, np.inf], np.float32)).tolist() == [0, 0]


KINK_CASES = [(n, p, x0, d) for n in ELEMENTWISE for p in CASES[n] for x0, d in kinks(n, p)]


@pytest.mark.parametrize("name,params,x0,expected", KINK_CASES,
                         ids=[f"{n}-{params_id(p)}-{x0}" for n, p, x0, _ in KINK_CASES])
def test_kink_derivatives_as_pytorch(name, params, x0, expected):
    """At every kink of every parameter set the backward returns the row's
    f'(x0) (the one-sided derivative PyTorch takes)."""
    for dtype in DTYPES:
        d = fastact.get(name).backward(np.ones(3, dtype), np.full(3, x0, dtype), **params)
        np.testing.assert_allclose(d, expected, rtol=2e-7, atol=0, err_msg=f"{name}({params})'({x0})")


def test_softplus_switches_strictly_above_threshold():
    x = np.array([20.0, np.nextafter(20.0, 30.0)])
    y = fastact.softplus(x)
    assert y[0] == pytest.approx(20.0 + np.log1p(np.exp(-20.0)), rel=1e-15) and y[0] != 20.0
    assert y[1] == x[1]


def test_subnormal_inputs_give_linear_behaviour():
    d = np.array([1e-40, -1e-40], np.float32)
    assert np.array_equal(fastact.tanh(d), d)
    assert np.array_equal(fastact.relu(d), np.array([1e-40, 0], np.float32))
    np.testing.assert_array_equal(fastact.sigmoid(d), [0.5, 0.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_x_sigmoid_far_negative_tail(dtype):
    """silu(x) = x * exp(x) / (1 + exp(x)) for x far below 0: silu and
    float32 mish take exp's clamped argument (-110 float32, -752 float64) in
    place of x (src/formulas/silu_mish.h), swish with a small beta must not be
    clamped that way, and all reach -0 at -inf.  Compared with the long-double reference (betas exact in
    float32: the kernel rounds beta to the dtype, which moves exp(beta x))."""
    from fastact import reference
    x = np.array([-np.inf, -3e38, -1e4, -3000, -1000, -400, -300, -299, -150, -111, -110, -109.5,
                  -105, -104, -103, -90, -87.5, -20], dtype)
    for name, params, ref in (("silu", {}, reference.silu(x)), ("mish", {}, reference.mish(x)),
                              ("swish", {"beta": 1 / 64}, reference.swish(x, 1 / 64)),
                              ("swish", {"beta": 0.25}, reference.swish(x, 0.25))):
        got = _assert_tail_close(getattr(fastact, name)(x, **params), ref, x, 4, (name, params))
        assert np.signbit(got[0]) and got[0] == 0, (name, "at -inf")


def _assert_tail_close(got, ref, x, ulps, what):
    """got within `ulps` ULP of the reference rounded to x's dtype, with an
    absolute floor of 2^-20 of the smallest normal number (far tighter than
    the accuracy tests' floor, the smallest normal itself); got as float64."""
    dtype = x.dtype
    floor = np.finfo(dtype).tiny * 2.0 ** -20
    got = np.asarray(got).astype(np.float64)
    want = np.asarray(ref, np.float64).astype(dtype).astype(np.float64)
    ok = np.abs(got - want) <= np.maximum(ulps * np.spacing(np.abs(want).astype(dtype)).astype(np.float64), floor)
    assert ok.all(), (what, x[~ok], got[~ok], want[~ok])
    return got


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_nabs_tails_of_backward_passes(dtype):
    """The backward passes on the cheaper exp(-|x|), whose argument is
    clamped (float32 -110, float64 -752) and whose clamped argument stands in
    for x in silu's derivative: against the long-double reference
    (_assert_tail_close), through the subnormal results near the clamps and
    out to +-inf, on both sides."""
    from fastact import reference
    far = [-np.inf, -3e38, -1e4, -1000, -800, -760, -753, -752, -751.5, -750, -746, -745, -744,
           -740, -720, -709, -708, -400, -300, -150, -111, -110, -109.5, -105, -104, -103, -90,
           -87.5, -60, -20, -1.5, -1e-30, -0.0, 0.0, 1e-30, 1.5, 20, 60, 90, 104, 110, 111, 400,
           745, 752, 753, 1e4, 3e38, np.inf]
    x = np.array(far, dtype)
    g = np.ones_like(x)
    for name, params, ref in (("silu", {}, reference.silu_d(x)), ("selu", {}, reference.selu_d(x)),
                              ("elu", {}, reference.elu_d(x)),
                              ("elu", {"alpha": 2.0}, reference.elu_d(x, alpha=2.0)),
                              ("mish", {}, reference.mish_d(x)),
                              ("tanh", {}, reference.tanh_d(x)), ("sigmoid", {}, reference.sigmoid_d(x)),
                              ("log_sigmoid", {}, reference.log_sigmoid_d(x))):
        got = _assert_tail_close(getattr(fastact, name + "_backward")(g, x, **params), ref, x, 8,
                                 (name, params))
        assert not np.isnan(got).any(), name


# ------------------------------------------- the rows' kinks and roots themselves

@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_elementwise_row_has_kinks_roots_and_zero_sign(name):
    """A new row cannot leave them out: each is given (a constant or a
    function of the parameters) and has its shape for every parameter set."""
    act = BY_NAME[name]
    for field in ("kinks", "roots", "zero_sign"):
        assert getattr(act, field) is not None, f"{name}: the row has no {field}"
    for params in CASES[name]:
        ks = row_fact(name, "kinks", params)
        assert isinstance(ks, tuple) and all(len(k) == 2 for k in ks), (name, params, ks)
        assert all(isinstance(float(x0), float) and np.isfinite(d) for x0, d in ks), (name, params, ks)
        rs = row_fact(name, "roots", params)
        assert isinstance(rs, tuple) and all(np.isfinite(r) for r in rs), (name, params, rs)
        z = row_fact(name, "zero_sign", params)
        assert isinstance(z, tuple) and len(z) == 2 and all(np.isfinite(v) for v in z), (name, params, z)


ROOT_GRID = np.linspace(-8.0, 8.0, 16_001)


@pytest.mark.parametrize("name,params", ZERO_CASES, ids=[f"{n}-{params_id(p)}" for n, p in ZERO_CASES])
def test_rows_list_every_root_and_kink_of_the_reference(name, params):
    """On [-8, 8] (step 1e-3) every sign change of the reference's f' is a
    listed root or kink, every jump of f' (by 5% of it, at least 0.05) a
    listed kink, and each listed root
    is a zero of f' (a sign change, or f' = 0 there)."""
    t = ROOT_GRID
    d = ref.derivative(name, t, **params)
    marks = [x0 for x0, _ in kinks(name, params)] + derivative_roots(name, params)

    def listed(x, among):
        return any(abs(x - m) <= 2e-3 for m in among)
    s = np.sign(d)
    cross = np.nonzero(s[:-1] * s[1:] < 0)[0]
    touch = np.nonzero((s[1:-1] == 0) & (s[:-2] != 0) & (s[2:] != 0))[0] + 1
    for i in list(cross) + list(touch):
        assert listed(t[i], marks), f"{name}({params}): f' changes sign or is 0 at {t[i]}, not a listed root or kink"
    jumps = np.nonzero(np.abs(np.diff(d)) > 0.05 * np.maximum(1, np.maximum(np.abs(d[:-1]), np.abs(d[1:]))))[0]
    for i in jumps:
        assert listed(t[i], [x0 for x0, _ in kinks(name, params)]), \
            f"{name}({params}): f' jumps from {d[i]} to {d[i + 1]} at {t[i]}, not a listed kink"
    for r in derivative_roots(name, params):
        around = ref.derivative(name, np.array([r - 1e-7, r, r + 1e-7]), **params)
        assert around[1] == 0 or around[0] * around[2] < 0, f"{name}({params}): f' at the root {r}: {around}"


def _readme_bullet(title):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^- \*\*" + re.escape(title) + r"\*\*(.*?)(?=^- |^\n|^#)", text, re.S | re.M)
    assert m, f"README has no '{title}' bullet"
    return m.group(1)


def test_readme_derivatives_at_kinks_are_the_rows():
    """Each `NAME'(a)=...=v` of the README's "Derivatives at kinks" is a kink
    of the row at its defaults with that derivative (a, v: numbers or
    parameters, v maybe a product of them)."""
    claims = re.findall(r"`([^`]*'\([^`]*\)=[^`]*)`", _readme_bullet("Derivatives at kinks"))
    assert len(claims) >= 8, claims
    for claim in claims:
        *points, v = claim.split("=")
        for pt in points:
            name, arg = re.fullmatch(r"(\w+)'\((-?[\w.]+)\)", pt).groups()
            act = BY_NAME[name]
            defaults = {p.name: p.default for p in act.params}

            def val(t):
                return float(np.prod([defaults[f] if f in defaults else float(f) for f in t.split("*")]))
            ks = kinks(name, {})
            assert any(x0 == val(arg) and np.isclose(d, val(v), rtol=1e-12, atol=0) for x0, d in ks), \
                f"README says {pt}={v}; the row's kinks at the defaults: {ks}"


def test_readme_signed_zero_names_are_the_rows():
    """The activations the README's "Signed zero" line names keep -0.0."""
    text = _readme_bullet("Signed zero")
    names = re.search(r"where PyTorch keeps it \(([^)]*)\)", text).group(1)
    names = [n.strip() for n in names.split(",") if n.strip() != "..."]
    assert names
    for name in names:
        assert np.signbit(row_fact(name, "zero_sign", {})[0]), f"README: {name}(-0.0) = -0.0; the row says otherwise"
