"""Shared test helpers: parameter cases per activation, layouts, and the
ULP comparison against the float64 reference."""
import numpy as np

import fastact
from fastact import reference as ref

# Parameter sets exercised for every activation, from the table rows: the
# first is the default ({}), or the row's first case where a parameter is
# required (threshold); tests call with **CASES[name][0] for "the default"
CASES = {a.name: ([] if any(p.default is fastact._table.REQUIRED for p in a.params) else [{}])
         + [dict(c) for c in a.cases] for a in fastact._TABLE if a.kind == "elementwise"}

ELEMENTWISE = [a.name for a in fastact._TABLE if a.kind == "elementwise"]

# Max error in ULP (of the dtype, at the reference value) allowed in the
# layout/form tests; the accuracy sweeps (test_accuracy.py) are the strict ones.
DEFAULT_ULP = 4
FWD_ULP = {n: max(DEFAULT_ULP, u) for n, u in
           ((a.name, a.ulp[0]) for a in fastact._TABLE if a.kind == "elementwise") if u > DEFAULT_ULP}
# Affine forms evaluated in the array's dtype with the parameters rounded to
# it: near the zero crossing of slope*x + offset the error is absolute (about
# one ulp of the offset), not relative.
ABS_TOL = {"hard_sigmoid": 1.0}   # in units of eps of the dtype
BWD_ULP = 8


def in_dtype(params, dtype):
    """Parameters as the kernels see them: real values rounded to the array's
    dtype (float16/bfloat16 compute in float32)."""
    ct = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    return {k: (float(ct(v)) if isinstance(v, float) else v) for k, v in params.items()}


def row_fact(name, field, params):
    """The row's kinks, roots or zero_sign (fastact/_table.py) for these
    parameters: the field itself, or its function of the parameter values."""
    act = fastact._table.BY_NAME[name]
    v = getattr(act, field)
    if callable(v):
        v = v(*(params.get(p.name, p.default) for p in act.params))
    return v


def kinks(name, params):
    """((x0, f'(x0)), ...) at the finite kinks of the row."""
    # a row without kinks (None) fails test_every_elementwise_row_has_kinks_roots_and_zero_sign
    return [(float(x0), float(d)) for x0, d in row_fact(name, "kinks", params) or () if np.isfinite(x0)]


def derivative_roots(name, params):
    """The isolated zeros of f' (the row's roots)."""
    return [float(r) for r in row_fact(name, "roots", params) or ()]


def params_id(p):
    return ",".join(f"{k}={v}" for k, v in p.items()) or "default"


def y_ok(name, params):
    act = fastact._table.BY_NAME[name]
    if act.kind != "elementwise":
        return True
    vals = tuple(params.get(p.name, p.default) for p in act.params)
    return fastact._params._spec(act, name, vals).y_reason is None


def ulp_error(actual, expected, dtype):
    """Error in ULPs of `dtype` at the expected value, with an absolute floor
    at the smallest normal number (results below it count as exact within it).
    Positions must agree on NaN and on infinities."""
    dtype = np.dtype(dtype)
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert np.array_equal(nan_a, nan_e), (
        f"NaN mismatch at {np.argwhere(nan_a != nan_e)[:5].tolist()}: "
        f"got {a[nan_a != nan_e][:5]}, expected {e[nan_a != nan_e][:5]}")
    with np.errstate(over="ignore"):
        e_rounded = e.astype(dtype).astype(np.float64)   # beyond the dtype's max: inf
    inf_e = np.isinf(e_rounded)
    assert np.array_equal(a[inf_e], e_rounded[inf_e]), \
        f"infinities differ: got {a[inf_e][:5]}, expected {e_rounded[inf_e][:5]}"
    ok = ~(nan_e | inf_e)
    a, e = a[ok], e[ok]
    if a.size == 0:
        return 0.0
    assert np.all(np.isfinite(a)), f"got inf/nan where a finite value was expected: {a[~np.isfinite(a)][:5]}"
    tiny = np.finfo(dtype).tiny
    with np.errstate(over="ignore"):
        ulp = np.spacing(np.abs(e).astype(dtype)).astype(np.float64)
    ulp = np.maximum(ulp, np.finfo(dtype).smallest_subnormal)
    err = np.abs(a - e)
    err = np.where(err <= tiny, 0.0, err / ulp)
    return float(err.max())


def assert_ulp(actual, expected, dtype, max_ulp, what="", abs_eps=0.0):
    if abs_eps:
        a = np.asarray(actual, np.float64)
        e = np.asarray(expected, np.float64)
        close = np.abs(a - e) <= abs_eps * np.finfo(dtype).eps
        actual = np.where(close, e, a)
    got = ulp_error(actual, expected, dtype)
    assert got <= max_ulp, f"{what}: max error {got:.2f} ULP > {max_ulp}"


def assert_bwd(actual, expected, grad, dtype, max_ulp=BWD_ULP, what=""):
    """Backward: ULP error, plus an absolute floor of eps*|grad| where the
    derivative crosses zero (relative accuracy is unattainable there)."""
    a = np.asarray(actual, np.float64)
    e = np.asarray(expected, np.float64)
    floor = np.finfo(dtype).eps * np.abs(np.asarray(grad, np.float64))
    with np.errstate(invalid="ignore"):      # inf - inf where both overflowed
        close = np.abs(a - e) <= floor
    a = np.where(close & np.isfinite(e), e, a)
    assert_ulp(a, e, dtype, max_ulp, what)


def layouts(rng, dtype, shape=(37, 29)):
    """(label, owner, view) triples: the layouts every function must handle.
    `view(owner)` gives the array under test as a view of `owner`, so tests
    can redo it on a copy of owner and check writes land in the view only."""
    big = (rng.standard_normal((2 * shape[0] + 3, 2 * shape[1] + 5)) * 3).astype(dtype)
    c = np.ascontiguousarray(big[: shape[0], : shape[1]])
    f = np.asfortranarray(c)
    cube = (rng.standard_normal((4, 9, 27)) * 3).astype(dtype)
    yield "c", c, lambda a: a
    yield "f", f, lambda a: a
    yield "transposed", c, lambda a: a.T
    yield "sliced", big, lambda a: a[1::2, ::-2]
    yield "1d", c.reshape(-1), lambda a: a
    yield "0d", np.array(c[0, 0]), lambda a: a
    yield "empty", np.empty((0, 5), dtype), lambda a: a
    yield "3d-noncontig", cube, lambda a: np.moveaxis(a, 0, 2)[:, ::3]
    yield "big", (rng.standard_normal(200_003) * 4).astype(dtype), lambda a: a   # threaded path


def rand(rng, shape, dtype, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


# ----------------------------------------------------------- accuracy sweeps

# Max error (ULP of the dtype, absolute floor at its smallest normal number)
# that the accuracy sweeps assert, forward and backward, per dtype.
F32_LIMITS = {a.name: a.ulp[0] for a in fastact._TABLE if a.kind == "elementwise"}
F64_LIMITS = {a.name: a.ulp[1] for a in fastact._TABLE if a.kind == "elementwise"}
BWD_LIMIT = 8

# (name, params) swept for accuracy: every activation at every parameter set
# of its row, the ones its limits are promised for
ACCURACY_CASES = [(n, p) for n in ELEMENTWISE for p in CASES[n]]


def sweep_inputs(dtype, n=1_000_000, lo_exp=None, hi_exp=None, seed=0):
    """~n inputs spread evenly over every binade of [2^lo_exp, 2^hi_exp) of
    both signs (random mantissas), plus the special values."""
    fi = np.finfo(dtype)
    lo_exp = fi.minexp if lo_exp is None else lo_exp
    hi_exp = 10 if hi_exp is None else hi_exp
    exps = np.arange(lo_exp, hi_exp)
    per = max(1, n // (2 * exps.size))
    rng = np.random.default_rng(seed)
    m = rng.uniform(1.0, 2.0, (exps.size, per))
    mag = np.ldexp(m, exps[:, None]).reshape(-1)
    x = np.concatenate([mag, -mag]).astype(dtype)
    sub = np.array([fi.smallest_subnormal, 3 * fi.smallest_subnormal, fi.tiny / 3], dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, -fi.tiny],
                        dtype)
    return np.concatenate([x, specials, sub, -sub])


def measure(name, params, dtype, x, backward=False):
    """Max ULP error of fastact's forward (or backward with a random grad)
    over the inputs x, against the float64/extended reference."""
    fns = fastact.get(name)
    rp = in_dtype(params, dtype)
    if not backward:
        got = fns.forward(x, **params).astype(np.float64)
        exp = ref.forward(name, x, **rp)
        if name in ABS_TOL:
            got = np.where(np.abs(got - exp) <= ABS_TOL[name] * np.finfo(dtype).eps, exp, got)
        return ulp_error(got, exp, dtype)
    g = np.random.default_rng(1).uniform(0.5, 2.0, x.size).astype(dtype)
    got = fns.backward(g, x, **params).astype(np.float64)
    exp = ref.backward(name, g, x, **rp)
    # where the derivative crosses zero relative accuracy is unattainable:
    # absolute floor of eps * |grad| (2^-23 for float32), but only within
    # 0.25 of a root of f' -- everywhere else the error is relative
    near = np.zeros(x.shape, bool)
    for r in derivative_roots(name, rp):
        near |= np.abs(x.astype(np.float64) - r) < 0.25
    floor = np.where(near, np.finfo(dtype).eps * np.abs(g.astype(np.float64)), 0.0)
    got = np.where(np.abs(got - exp) <= floor, exp, got)
    return ulp_error(got, exp, dtype)
