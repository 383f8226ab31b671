"""Corner cases where a result or a refusal could go wrong: the y= backward
rules, results that could depend on earlier calls, self-overlapping views,
empty arrays, foreign error messages and the parameters peers accept."""
import math
import os
import pickle
import platform
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import fastact
from fastact import _dispatch, reference as ref
from fastact._table import BY_NAME, REQUIRED, TABLE
from fa_testutil import BWD_LIMIT, CASES, ELEMENTWISE, assert_ulp, in_dtype, kinks, params_id, y_ok

INF = math.inf

# ------------------------------------------------------------------ y= rules

# Beyond CASES: the parameter values where a y= rule could go wrong (clip at
# or below the kink, a threshold that makes f non-injective, zero and
# negative slopes, infinite bounds).
Y_EDGE = {
    "relu": [{"max": 0.0}, {"max": 0.5, "threshold": 0.5}, {"threshold": 0.5, "max": 6.0},
             {"negative_slope": 0.1}, {"negative_slope": -0.1}, {"threshold": -0.5},
             {"max": INF, "negative_slope": 0.2}],
    "leaky_relu": [{"alpha": 0.01, "max": 0.0}, {"alpha": 0.0, "max": 0.0}, {"alpha": 0.0},
                   {"alpha": 0.3, "max": 0.25}],
    "thresholded_relu": [{"theta": 0.0}, {"theta": 2.0}],
    "hardtanh": [{"min": 0.0, "max": 0.0}, {"min": -INF, "max": 1.0}, {"min": -1.0, "max": INF},
                 {"min": 0.5, "max": 0.5}],
    "hard_sigmoid": [{"slope": 0.0}, {"slope": -0.2, "offset": 0.3}],
    "softplus": [{"beta": 3.0, "threshold": 0.2}, {"threshold": INF}, {"beta": 2.0, "threshold": INF},
                 {"beta": 0.5, "threshold": -1.0}],
    "elu": [{"alpha": 0.0}, {"alpha": 2.0}],
    "celu": [{"alpha": 0.5}, {"alpha": -1.0}, {"alpha": -2.5}],
    "squareplus": [{"b": 1e-30}, {"b": 100.0}],
    # scale*x rounds to 0 at the smallest subnormal for scale <= 0.5 (float32)
    "selu": [{"alpha": 0.0}, {"alpha": -0.1}, {"scale": 0.5}, {"scale": 0.25}, {"scale": 0.5000001},
             {"scale": 0.6}, {"scale": -1.0}],
    "shrink": [{"bias": 0.5}, {"bias": 0.6}, {"lambd": 0.0, "bias": 0.0}, {"lambd": 1.0, "bias": -1.0},
               {"lambd": 0.0, "bias": 1e-30}],
    "threshold": [{"threshold": 1.0, "value": 1.0}, {"threshold": 1.0, "value": 1.5},
                  {"threshold": 2.0, "value": -3.0}, {"threshold": -0.0, "value": 0.0}],
}
Y_CASES = [(n, p) for n in ELEMENTWISE for p in CASES[n] + Y_EDGE.get(n, [])]


_README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        "<": lambda a, b: a < b, "=": lambda a, b: a == b}
_TERM = r"[A-Za-z_]\w*|-?\d+(?:\.\d+)?|inf"
_CLAUSE = re.compile(rf"`({_TERM}) ?(>=|<=|>|<|=) ?({_TERM})`|`(\w+)` is None or (>=|<=|>|<) ({_TERM})")


def _readme_y_rules():
    """name -> the README API table's "backward from `y=`" cell ("yes", "no"
    or "if <clauses>"), read from the README text."""
    with open(_README, encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("<!-- api-table -->"):text.index("<!-- /api-table -->")]
    rules = {}
    for line in table.splitlines()[3:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rules[cells[0].strip("`")] = cells[3]
    return rules


_Y_RULES = _readme_y_rules()


def y_documented(name, p):
    """Where the README says y= is accepted: its API table's cell, "yes",
    "no" or "if" clauses joined by "," / "and" (`a OP b` over the
    parameters, None read as inf; `name` is None or OP b), evaluated on the
    parameters.  An independent check of the rows' y_ok against the words."""
    act = BY_NAME[name]
    cell = _Y_RULES[name]
    if cell in ("yes", "no"):
        return cell == "yes"
    assert cell.startswith("if "), (name, cell)
    vals = {q.name: p.get(q.name, q.default) for q in act.params}

    def term(t):
        if t in vals:
            return INF if vals[t] is None else vals[t]
        return float(t)
    rest, ok = cell[3:], True
    for m in _CLAUSE.finditer(rest):
        if m.group(1):
            ok &= _OPS[m.group(2)](term(m.group(1)), term(m.group(3)))
        else:
            ok &= vals[m.group(4)] is None or _OPS[m.group(5)](vals[m.group(4)], term(m.group(6)))
    leftover = _CLAUSE.sub("", rest).replace(",", "").replace("and", "").strip()
    assert not leftover, f"{name}: README y= rule {cell!r} has words this test cannot read: {leftover!r}"
    return ok


def kink_grid(dtype, name, params):
    """A dense grid over [-30, 30] plus the row's kinks and every point the
    parameters could make one (and their neighbours), +-inf."""
    pts = {0.0, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0}
    pts.update(x0 for x0, _ in kinks(name, params))
    for v in params.values():
        if isinstance(v, float) and math.isfinite(v):
            pts.update({v, -v, v / 3, -v / 3, v / 2, -v / 2})   # beta*x thresholds too
    k = np.array(sorted(pts), dtype=dtype)
    near = [k]
    up, dn = k, k
    for _ in range(3):
        up, dn = np.nextafter(up, dtype(INF)), np.nextafter(dn, dtype(-INF))
        near += [up, dn]
    grid = np.linspace(-30, 30, 12001, dtype=dtype)
    return np.concatenate(near + [grid, np.array([INF, -INF, -0.0], dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", Y_CASES, ids=[f"{n}-{params_id(p)}" for n, p in Y_CASES])
def test_y_form_equals_x_form_or_is_refused(name, params, dtype):
    """Where y= is accepted it gives the x= result (within the backward ULP
    bound, or eps*|grad| times the largest |f'| absolute: y carries the
    forward's rounding); elsewhere it raises ValueError saying why."""
    fns = fastact.get(name)
    x = kink_grid(dtype, name, params)
    g = np.random.default_rng(3).uniform(0.5, 2.0, x.size).astype(dtype)
    y = fns.forward(x, **params)
    bx = fns.backward(g, x, **params)
    act = BY_NAME[name]
    if not y_documented(name, params):
        with pytest.raises(ValueError, match=f"{name}_backward: y= cannot stand for x") as e:
            fns.backward(g, y=y, **params)
        if _Y_RULES[name].startswith("if "):   # names the parameter that prevents it
            assert any(p.name in str(e.value) for p in act.params), str(e.value)
        return
    by = fns.backward(g, y=y, **params)
    b64, y64 = bx.astype(np.float64), by.astype(np.float64)
    assert np.array_equal(np.isnan(b64), np.isnan(y64))
    fin = np.isfinite(b64) & np.isfinite(y64)
    assert np.array_equal(b64[~fin & ~np.isnan(b64)], y64[~fin & ~np.isnan(b64)])
    slope = np.abs(b64[fin] / g[fin].astype(np.float64))
    floor = 4 * np.finfo(dtype).eps * max(1.0, float(slope.max())) * np.abs(g[fin].astype(np.float64))
    far = np.abs(b64[fin] - y64[fin]) > floor
    bad = np.flatnonzero(far)
    if bad.size:
        assert_ulp(y64[fin][far], b64[fin][far], dtype, BWD_LIMIT,
                   f"{name} {params} y= vs x= at x={x[fin][bad[:4]]}: {y64[fin][bad[:4]]} vs {b64[fin][bad[:4]]}")


def test_issue_examples_of_wrong_y_results():
    x = np.array([2.0, 0.5, -1.0])
    g = np.ones(3)
    with pytest.raises(ValueError, match="alpha >= 0 and max > 0"):
        fastact.leaky_relu_backward(g, y=fastact.leaky_relu(x, alpha=0.01, max=0.0), alpha=0.01, max=0.0)
    np.testing.assert_array_equal(fastact.leaky_relu_backward(g, x, alpha=0.01, max=0.0), [0, 0, 0.01])
    with pytest.raises(ValueError, match="bias_act_backward: y= cannot stand for x for leaky_relu"):
        fastact.bias_act_backward(g.reshape(1, 3), y=np.zeros((1, 3)), bias=np.zeros(3), act="leaky_relu",
                                  alpha=0.01, max=0.0)
    with pytest.raises(ValueError, match="threshold=inf"):
        fastact.softplus_backward(g, y=fastact.softplus(x, beta=3, threshold=0.2), beta=3, threshold=0.2)
    xs = np.array([-0.4])
    y = fastact.softplus(xs, beta=3.0, threshold=INF)
    np.testing.assert_allclose(fastact.softplus_backward(np.ones(1), y=y, beta=3.0, threshold=INF),
                               1 / (1 + np.exp(1.2)), rtol=1e-14)


# ------------------------------------------- results never depend on history

_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

# A process that has imported fastact and never called it; every request is
# run in a fork of it, so each call there is the first of its process.
_COLD_SERVER = r"""
import os, pickle, struct, sys
sys.path.insert(0, sys.argv[1])
import fastact
from test_corners import run_case
rd, wr = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = rd.read(8)
    if len(head) < 8:
        break
    req = rd.read(struct.unpack("<Q", head)[0])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        data = pickle.dumps(run_case(pickle.loads(req)))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    wr.write(struct.pack("<Q", len(data)) + data)
    wr.flush()
"""


class ColdServer:
    def __init__(self, variant):
        env = dict(os.environ, FASTACT_CPU=variant)
        # cwd: tests/, so `python -c` cannot import a source checkout's fastact/
        self.p = subprocess.Popen([sys.executable, "-c", _COLD_SERVER, _TESTS_DIR], env=env, cwd=_TESTS_DIR,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, case):
        data = pickle.dumps(case)
        self.p.stdin.write(struct.pack("<Q", len(data)) + data)
        self.p.stdin.flush()
        n = struct.unpack("<Q", self.p.stdout.read(8))[0]
        return pickle.loads(self.p.stdout.read(n))

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def _case_input(name, dtype):
    base = np.array([-7.0, -3.0, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, 3.0, 6.0, 7.0, INF, -INF])
    x = np.concatenate([base, np.linspace(-8, 8, 50)]).astype(dtype)
    if BY_NAME[name].kind in ("softmax", "gated", "prelu"):
        x = x[:64].reshape(4, 16)
    return x


def run_case(case):
    """Call fastact as the case says; the bytes of every result, or the
    exception's type and message."""
    name, form, kwargs, dtype = case
    x = _case_input(name, dtype)
    g = np.linspace(0.5, 2.0, x.size).astype(dtype).reshape(x.shape)
    try:
        if form in ("", "_"):
            r = getattr(fastact, name + form)(x, **kwargs)
        elif form == "_backward":
            r = getattr(fastact, name + form)(g, x, **kwargs)
        else:               # "y": the backward from the forward output
            y = getattr(fastact, name)(x, **kwargs)
            r = getattr(fastact, name + "_backward")(g, y=y, **kwargs)
        rs = r if isinstance(r, tuple) else (r,)
        return ("ok", [(a.dtype.str, a.shape, a.tobytes()) for a in rs])
    except Exception as e:      # noqa: BLE001 -- compared as data
        return ("err", type(e).__name__, str(e))


def _twins():
    """(name, parameter, value a, value b): a and b are equal (==) but differ
    in type or bits, or are both ints of which one is out of range."""
    out = []
    for act in TABLE:
        for p in act.params:
            if p.kind == "where":       # an array, checked by test_masked_softmax.py
                continue
            if p.kind in ("real", "bound", "pos", "nonneg", "nonzero", "max", "limit", "scale"):
                pairs = [(0.0, -0.0), (-0.0, 0.0), (1.0, 1), (1, 1.0), (1.0, True), (0.5, np.float64(0.5)),
                         (np.float64(-0.0), np.float64(0.0))]
            elif p.kind in ("axis", "axes"):
                pairs = [(1, 1.0), (1, True), (-1, np.int64(-1)), (1, 7), (1, -9), (0, -0.0)]
                if p.kind == "axes":
                    pairs += [((0, 1), (1, 0)), ((1,), 1), ((0, 1), [0, 1]), ((0, 1), (0, 1.0))]
            elif p.kind == "bool":
                pairs = [(True, 1), (False, 0), (True, np.True_), (False, np.False_), (False, True)]
            elif p.kind == "alpha":
                pairs = [(0.0, -0.0), (-0.0, 0.0), (0.25, np.float32(0.25)), (1, 1.0), (1.0, True)]
            else:
                pairs = [("none", "tanh"), ("tanh", np.str_("tanh"))]
            out += [(act.name, p.name, a, b) for a, b in pairs]
    return out


_TWINS = _twins()


@pytest.fixture(scope="module")
def cold(variant):
    server = ColdServer(variant)
    yield server
    server.close()


def _forms(act):
    if act.kind == "gated":
        return ["", "_backward"]
    forms = ["", "_", "_backward"]
    return forms + ["y"] if act.kind != "prelu" else forms


def _base_kwargs(act, pname):
    kw = {}
    if act.kind == "prelu" and pname != "alpha":
        kw["alpha"] = 0.25
    for p in act.params:        # the other required parameters (threshold's), from the row's first case
        if p.default is REQUIRED and p.name != pname:
            kw[p.name] = act.cases[0][p.name]
    return kw


@pytest.mark.parametrize("name,param,a,b", _TWINS,
                         ids=[f"{n}-{p}-{a!r}-then-{b!r}" for n, p, a, b in _TWINS])
def test_results_do_not_depend_on_earlier_calls(cold, name, param, a, b):
    """The call with b after one with a gives what b gives in a fresh process,
    bit for bit (or the same error), in every form and both dtypes."""
    act = BY_NAME[name]
    for dtype in (np.float32, np.float64):
        for form in _forms(act):
            kw_a = dict(_base_kwargs(act, param), **{param: a})
            kw_b = dict(_base_kwargs(act, param), **{param: b})
            run_case((name, form, kw_a, dtype))           # warm every cache with a
            warm = run_case((name, form, kw_b, dtype))
            assert warm == cold.run((name, form, kw_b, dtype)), (name, form, param, a, b, dtype)


def test_issue_examples_of_history():
    x = np.array([1.0, -2.0])
    fastact.relu(x, max=0.0)
    assert math.copysign(1, fastact.relu(x, max=-0.0)[0]) == -1.0
    fastact.relu(x, max=-0.0)
    assert math.copysign(1, fastact.relu(x, max=0.0)[0]) == 1.0
    x2 = np.ones((2, 3))
    fastact.prelu(x2, 0.25)
    with pytest.raises(TypeError, match="prelu: axis must be an int"):
        fastact.prelu(x2, 0.25, axis=1.0)
    for ax in (7, -9):
        with pytest.raises(ValueError, match=f"prelu: axis {ax} is out of range"):
            fastact.prelu(x2, 0.25, axis=ax)
    for nd in (0, 1):       # the default axis fits arrays without a channel axis
        fastact.prelu(np.ones((3,) * nd), 0.25)


# -------------------------------------------------------- self-overlapping

def _callers(x):
    """(label, call) for every form that writes into x (in place or out=x-like)."""
    out = []
    for name in ELEMENTWISE + ["softmax", "log_softmax"]:
        fns, kw = fastact.get(name), CASES[name][0] if name in CASES else {}
        out.append((f"{name}_", lambda f=fns, kw=kw: f.forward_(x, **kw)))
        out.append((f"{name} out=", lambda f=fns, kw=kw: f.forward(np.ones(x.shape, x.dtype), out=x, **kw)))
        out.append((f"{name}_backward_", lambda f=fns, kw=kw: f.backward_(x, np.ones(x.shape, x.dtype), **kw)))
        out.append((f"{name}_backward out=",
                    lambda f=fns, kw=kw: f.backward(np.ones(x.shape, x.dtype), np.ones(x.shape, x.dtype), out=x,
                                                    **kw)))
    out.append(("prelu_", lambda: fastact.prelu_(x, np.array([0.1, 0.2, 0.3], x.dtype), axis=1)))
    out.append(("bias_act_", lambda: fastact.bias_act_(x, np.ones(3, x.dtype), "gelu")))
    out.append(("glu out=", lambda: fastact.glu(np.ones((3, 6), x.dtype), out=x)))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_self_overlapping_views_are_refused(dtype):
    isz = np.dtype(dtype).itemsize
    buf = np.linspace(-2, 2, 16).astype(dtype)
    v = np.lib.stride_tricks.as_strided(buf, (3, 3), (isz, isz))   # v[i, j] = buf[i + j]
    before = buf.tobytes()
    for label, call in _callers(v):
        with pytest.raises(ValueError, match="overlap in memory"):
            call()
        assert buf.tobytes() == before, label


def test_overlap_check_clears_interleaved_layouts():
    """Strides that interleave without aliasing pass the exact check."""
    buf = np.linspace(-2, 2, 8).astype(np.float32)
    v = np.lib.stride_tricks.as_strided(buf, (3, 2), (8, 12))     # offsets 0, 12, 8, 20, 16, 28
    expect = np.maximum(v, 0)
    fastact.relu_(v)
    np.testing.assert_array_equal(v, expect)


# ------------------------------------------------------------------- empty

EMPTY_SHAPES = [(0,), (0, 5), (5, 0), (2, 0, 3), (0, 0)]


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_every_function_on_empty_arrays(shape):
    x = np.zeros(shape, np.float32)
    for name in ELEMENTWISE:
        fns, kw = fastact.get(name), CASES[name][0]
        assert fns.forward(x, **kw).shape == shape
        assert fns.forward_(x.copy(), **kw).shape == shape
        assert fns.backward(x, x, **kw).shape == shape
        assert fns.backward_(x.copy(), x, **kw).shape == shape
    for name in ("softmax", "log_softmax"):
        fns = fastact.get(name)
        for ax in range(-len(shape), len(shape)):
            assert fns.forward(x, axis=ax).shape == shape
            assert fns.forward_(x.copy(), axis=ax).shape == shape
            assert fns.backward(x, x, axis=ax).shape == shape
            assert fns.backward_(x.copy(), y=x, axis=ax).shape == shape
    for name in ("glu", "swiglu", "geglu"):
        fns = fastact.get(name)
        for ax in range(len(shape)):
            if shape[ax] % 2:
                continue
            half = shape[:ax] + (shape[ax] // 2,) + shape[ax + 1:]
            assert fns.forward(x, axis=ax).shape == half
            assert fns.backward(np.zeros(half, np.float32), x, axis=ax).shape == shape
    for ax in range(len(shape)):
        alpha = np.zeros(shape[ax], np.float32)
        if alpha.size == 1:
            continue
        assert fastact.prelu(x, alpha, axis=ax).shape == shape
        assert fastact.prelu_(x.copy(), alpha, axis=ax).shape == shape
        gx, ga = fastact.prelu_backward(x, x, alpha=alpha, axis=ax)
        assert gx.shape == shape and ga.shape == alpha.shape and not ga.any()
        gx, ga = fastact.prelu_backward_(x.copy(), x, alpha=alpha, axis=ax)
        assert gx.shape == shape and ga.shape == alpha.shape
    gx, ga = fastact.prelu_backward(x, x, alpha=0.5)
    assert gx.shape == shape and ga.shape == ()
    b = np.zeros(shape[-1], np.float32)
    assert fastact.bias_act(x, b, "gelu").shape == shape
    assert fastact.bias_act_(x.copy(), b, "relu").shape == shape
    gx, gb = fastact.bias_act_backward(x, x, bias=b, act="sigmoid")
    assert gx.shape == shape and gb.shape == b.shape
    gx, gb = fastact.bias_act_backward_(x.copy(), y=x, bias=b, act="sigmoid")
    assert gx.shape == shape and gb.shape == b.shape


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("axis", [2**31, 2**40, -2**63, 10**30])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_huge_axis_is_a_value_error(name, axis):
    fns = fastact.get(name)
    x = np.ones((2, 3), np.float32)
    for call in (lambda: fns.forward(x, axis=axis), lambda: fns.forward_(x, axis=axis),
                 lambda: fns.backward(x, x, axis=axis), lambda: fns.backward(x, y=x, axis=axis),
                 lambda: fns.backward_(x.copy(), y=x, axis=axis)):
        with pytest.raises(ValueError, match=f"{name}(_backward)?_?: axis .* out of range"):
            call()


_REAL_PARAMS = [(a.name, p.name) for a in TABLE for p in a.params
                if p.kind in ("real", "bound", "pos", "nonneg", "nonzero", "max", "limit", "scale")]


@pytest.mark.parametrize("name,param", _REAL_PARAMS)
def test_parameters_beyond_the_float_range(name, param):
    fns, kw = fastact.get(name), CASES[name][0] if name in CASES else {}
    x = np.ones(4, np.float32)
    calls = [lambda: fns.forward(x, **{**kw, param: 10**400})]
    if fns.forward_ is not None:        # the gated activations have no in-place form
        calls.append(lambda: fns.forward_(x, **{**kw, param: -10**400}))
    for call in calls:
        with pytest.raises(ValueError, match=f"{name}_?: {param} is out of the float range"):
            call()


def test_bias_act_unknown_activation_names_bias_act():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"^bias_act: unknown activation 'nope' for act"):
        fastact.bias_act(x, np.ones(3), act="nope")
    with pytest.raises(ValueError, match=r"bias_act_: unknown activation 'sigmod'.*did you mean 'sigmoid'"):
        fastact.bias_act_(x, np.ones(3), act="sigmod")
    with pytest.raises(TypeError, match=r"bias_act: act must be"):
        fastact.bias_act(x, np.ones(3), act=3)
    with pytest.raises(TypeError, match=r"did you mean 'alpha'"):
        fastact.bias_act(x, np.ones(3), act="leaky_relu", negative_slope=0.1)


@pytest.mark.parametrize("call,hint", [
    (lambda x: fastact.leaky_relu_(x, negative_slope=0.1), "'alpha'"),
    (lambda x: fastact.softmax_(x, dim=-1), "'axis'"),
    (lambda x: fastact.hardtanh_(x, min_val=-2.0), "'min'"),
    (lambda x: fastact.hardtanh(x, max_val=2.0), "'max'"),
    (lambda x: fastact.relu_(x, max_value=6), "'max'"),
    (lambda x: fastact.relu(x, inplace=True), "use relu_"),
    (lambda x: fastact.prelu(x, weight=0.2), "'alpha'"),
    (lambda x: fastact.softshrink(x, lambda_=0.2), "'lambd'"),
    (lambda x: fastact.elu_backward(x, x, alhpa=1.0), "'alpha'"),
    (lambda x: fastact.glu(x, dim=0), "'axis'"),
])
def test_wrong_keywords_get_a_hint(call, hint):
    x = np.ones((2, 4), np.float32)
    before = x.tobytes()
    with pytest.raises(TypeError, match=f"unexpected keyword argument .*did you mean {hint}|{hint}"):
        call(x)
    assert x.tobytes() == before


def test_signatures_hide_the_keyword_catcher():
    import inspect
    sig = inspect.signature(fastact.relu_)
    assert list(sig.parameters) == ["x", "max", "negative_slope", "threshold", "n_threads"]


# -------------------------------------------- parameters that peers accept

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infinite_bounds_are_one_sided_clips(dtype):
    x = np.array([-INF, -5.0, -1.5, -0.0, 0.0, 0.5, 2.0, 7.0, INF], dtype)
    np.testing.assert_array_equal(fastact.hardtanh(x, min=-INF, max=1.0), np.minimum(x, 1.0))
    np.testing.assert_array_equal(fastact.hardtanh(x, min=-1.0, max=INF), np.maximum(x, -1.0))
    np.testing.assert_array_equal(fastact.hardtanh(x, min=-INF, max=INF), x)
    assert fastact.relu(x, max=INF).tobytes() == fastact.relu(x).tobytes()
    g = np.ones_like(x)
    # strictly inside the bounds, as PyTorch: 0 at x = -inf = min
    np.testing.assert_array_equal(fastact.hardtanh_backward(g, x, min=-INF, max=1.0), (x > -INF) & (x < 1.0))
    with pytest.raises(ValueError, match=r"hardtanh: min \(2.0\) must be <= max \(1.0\)"):
        fastact.hardtanh(x, min=2.0, max=1.0)
    with pytest.raises(ValueError, match="hardtanh: min must not be NaN"):
        fastact.hardtanh(x, min=math.nan)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [1.0, 3.0, 0.5])
def test_softplus_without_threshold(dtype, beta):
    x = np.concatenate([np.linspace(-120, 120, 4001), [-INF, INF, 1e30, -1e30]]).astype(dtype)
    got = fastact.softplus(x, beta=beta, threshold=INF)
    exp = ref.forward("softplus", x, **in_dtype({"beta": beta, "threshold": INF}, dtype))
    assert_ulp(got, exp, dtype, 4, f"softplus(beta={beta}, threshold=inf)")
    g = np.ones_like(x)
    exp_d = ref.backward("softplus", g, x, **in_dtype({"beta": beta, "threshold": INF}, dtype))
    assert_ulp(fastact.softplus_backward(g, x, beta=beta, threshold=INF), exp_d, dtype, BWD_LIMIT,
               "softplus backward, threshold=inf")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [-1.0, -0.5, -3.0])
def test_celu_negative_alpha(dtype, alpha):
    """As PyTorch, which accepts alpha < 0: alpha*expm1(x/alpha) for x <= 0."""
    x = np.concatenate([np.linspace(-200, 5, 20001), [-0.0, 0.0, -INF, INF, -1e-30]]).astype(dtype)
    rp = in_dtype({"alpha": alpha}, dtype)
    with np.errstate(over="ignore"):
        exp = ref.forward("celu", x, **rp)
        exp_d = ref.backward("celu", np.ones_like(x), x, **rp)
    assert_ulp(fastact.celu(x, alpha=alpha), exp, dtype, 4, f"celu(alpha={alpha})")
    assert_ulp(fastact.celu_backward(np.ones_like(x), x, alpha=alpha), exp_d, dtype, BWD_LIMIT,
               f"celu backward (alpha={alpha})")
    y = fastact.celu(x, alpha=alpha)
    assert math.copysign(1, y[x.size - 5]) == -1.0 and math.copysign(1, y[x.size - 4]) == 1.0
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        fastact.celu(x, alpha=0.0)


# ------------------------------- the short kernels agree with the general one

def _relu_bits(kname, mode, x, g, p, dtype):
    from fastact import _front
    from fastact._params import _kernel_id
    out = np.empty_like(x)
    _front.elementwise(_kernel_id(kname), mode, x if mode == 0 else g, None if mode == 0 else x, out,
                       *p, 1, 1 << 30)
    return out.view(np.uint32 if dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_kernel_is_the_general_relu_formula(dtype):
    """leaky_relu, relu(negative_slope=) and prelu take a short kernel when the
    threshold is 0, the slope nonzero and max > 0: the same bits as the general
    relu formula (-0.0, -inf, NaN payloads, products that underflow to -0)."""
    from fastact._table import _relu_kernel
    fi = np.finfo(dtype)
    rng = np.random.default_rng(7)
    special = [-INF, INF, -0.0, 0.0, fi.max, -fi.max, fi.tiny, -fi.tiny, fi.smallest_subnormal,
               -fi.smallest_subnormal, -1e-30, -3.0, 5.0, 4.0]
    x = np.concatenate([special, rng.standard_normal(1000) * 10, -rng.random(60) * float(fi.tiny)])
    x = x.astype(dtype)
    x[7::97] = np.array([np.nan], dtype)
    bits = x.view(np.uint32 if dtype == np.float32 else np.uint64)
    bits[11::131] ^= 1 << (fi.nmant - 1) | 5          # signalling NaNs and payloads
    bits[11::131] |= np.array(0xff800000 if dtype == np.float32 else 0xfff0000000000000, bits.dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    slopes = [0.01, 0.25, -0.5, 1.0, 3.0, INF, -INF, math.nan, float(fi.smallest_subnormal), 1e30, -1e-30]
    for s in slopes:
        for mx in (INF, 4.0, 1e-30, float(fi.max)):
            k, p = _relu_kernel(mx, s, 0.0)
            assert k == "leaky", (s, mx)
            for mode in (0, 1):
                got = _relu_bits("leaky", mode, x, g, p, dtype)
                exp = _relu_bits("relu", mode, x, g, p, dtype)
                bad = np.flatnonzero(got != exp)
                assert bad.size == 0, (s, mx, mode, x[bad[:4]], got[bad[:4]], exp[bad[:4]])
            if s >= 0:                                    # y= is offered for slope >= 0
                y = _relu_bits("relu", 0, x, None, p, dtype).view(dtype)
                got = _relu_bits("leaky", 2, y, g, p, dtype)
                exp = _relu_bits("relu", 2, y, g, p, dtype)
                assert (got == exp).all(), (s, mx)
    assert _relu_kernel(None, 0.0, 0.0)[0] == "relu_nomax"
    assert _relu_kernel(INF, 0.0, 0.0)[0] == "relu_nomax"
    assert _relu_kernel(6.0, 0.0, 0.0)[0] == "relu0"
    assert _relu_kernel(0.0, 0.3, 0.0)[0] == "relu"       # max <= 0: -0.0 would become +0
    assert _relu_kernel(None, 0.3, 0.5)[0] == "relu"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_relu_kernels_are_the_general_relu_formula(dtype):
    """relu takes the one-select relu_nomax kernel, relu6 and relu(max=) the
    short relu0 kernel (threshold and slope 0): forward, backward from x and
    from y give the general relu formula's bits for every pairing of special
    grads and inputs (+-0, +-inf, the max itself, subnormals, NaN payloads,
    signalling NaNs), with and without a max."""
    from fastact._table import _relu_kernel
    fi = np.finfo(dtype)
    udt = np.uint32 if dtype == np.float32 else np.uint64
    special = np.array([-INF, INF, -0.0, 0.0, fi.max, -fi.max, fi.tiny, -fi.tiny,
                        fi.smallest_subnormal, -fi.smallest_subnormal, -3.0, 6.0, 4.0, 0.5,
                        np.nan, np.nan, np.nan], dtype)
    sb = special.view(udt)
    sb[-2] = 0xff800001 if dtype == np.float32 else 0xfff0000000000001     # signalling
    sb[-1] |= 5                                                             # payload
    gg, xx = (a.ravel() for a in np.meshgrid(special, special))
    rng = np.random.default_rng(11)
    x = np.concatenate([xx, (rng.standard_normal(1000) * 8).astype(dtype)])
    g = np.concatenate([gg, rng.standard_normal(1000).astype(dtype)])
    for mx in (None, 6.0, 0.5, 4.0, float(fi.max)):
        k, p = _relu_kernel(mx, 0.0, 0.0)
        assert k == ("relu_nomax" if mx is None else "relu0"), mx
        full = (INF if mx is None else mx, 0.0, 0.0, 0.0)
        for mode in (0, 1):
            got = _relu_bits(k, mode, x, g, p, dtype)
            exp = _relu_bits("relu", mode, x, g, full, dtype)
            bad = np.flatnonzero(got != exp)
            assert bad.size == 0, (mx, mode, x[bad[:4]], g[bad[:4]], got[bad[:4]], exp[bad[:4]])
        y = _relu_bits("relu", 0, x, None, full, dtype).view(dtype)
        got = _relu_bits(k, 2, y, g, p, dtype)
        exp = _relu_bits("relu", 2, y, g, full, dtype)
        bad = np.flatnonzero(got != exp)
        assert bad.size == 0, (mx, y[bad[:4]], g[bad[:4]], got[bad[:4]], exp[bad[:4]])


def test_hard_swish_divides_like_pytorch(variant):
    """hard_swish's x(x+3)/6 and x/3 + 1/2 are PyTorch's divisions, rounded
    correctly (the AVX-512 float loops divide with the divider or without it,
    by the CPU: both ways are run here): the bits of NumPy's float32 formula
    for every subnormal input, where p/6 can be a tie (p = 3x, x an odd
    multiple of the smallest subnormal), every 4099th other bit pattern, the
    zeros, the kinks and their neighbours."""
    sub = np.arange(1, 1 << 23, dtype=np.uint32)
    rest = np.arange(1 << 23, 0x7f800000, 4099, dtype=np.uint32)
    bits = np.concatenate([sub, rest, np.array([0, 0x7f800000], np.uint32)])
    x = np.concatenate([bits, bits | np.uint32(0x80000000)]).view(np.float32)
    kinks = np.array([3.0, -3.0, 1.5, -1.5], np.float32)
    x = np.concatenate([x, kinks, np.nextafter(kinks, np.float32(INF)),
                        np.nextafter(kinks, np.float32(-INF))])
    g = np.random.default_rng(11).standard_normal(x.size).astype(np.float32)
    with np.errstate(all="ignore"):
        mid = x * (x + np.float32(3)) / np.float32(6)
        fwd = np.where(x > 3, x, np.where(x < -3, np.float32(-0.0), mid))
        dmid = g * (x / np.float32(3) + np.float32(0.5))
        bwd = np.where(x <= -3, np.float32(0), np.where(x < 3, dmid, g))
    loops = _dispatch.loops(variant)
    was = loops.fast_divider()
    try:
        for divider in ([was] if was is None else [False, True]):
            if divider is not None:
                loops.fast_divider(divider)
            for got, exp in ((fastact.hard_swish(x), fwd), (fastact.hard_swish_backward(g, x), bwd)):
                bad = np.flatnonzero(got.view(np.uint32) != exp.view(np.uint32))
                assert bad.size == 0, (divider, x[bad[:4]], got[bad[:4]], exp[bad[:4]])
    finally:
        if was is not None:
            loops.fast_divider(was)


def _amd():
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            return any(ln.startswith("vendor_id") and "AuthenticAMD" in ln for ln in f)
    return "AuthenticAMD" in platform.processor()     # Windows: "... Family 25 ..., AuthenticAMD"


def test_the_tuning_is_chosen_by_the_cpu_vendor(variant):
    """AMD's cores divide with the 512-bit divider (fast there; Intel's take
    fa__div6_f) and skip the element-wise software prefetch (their hardware
    prefetchers keep up); only the AVX-512 loops have the divider choice."""
    loops = _dispatch.loops(variant)
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
    amd = x86 and _amd()
    if variant == "x86_64_v4":
        assert loops.fast_divider() is amd
    else:
        assert loops.fast_divider() is None
    assert loops.sw_prefetch() is (not amd)
    shown = fastact._config.config()["cpu tuning"]       # show_config() names it
    assert shown.startswith("software prefetch " + ("off" if amd else "on")), shown
    assert ("the divider" in shown) is (variant == "x86_64_v4" and amd), shown


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prefetching_changes_no_bits(variant, dtype):
    """The element-wise loops prefetch arrays beyond L2 or not, by the CPU,
    and so does softmax's backward the next row: the same bits both ways,
    forward and backward (from x and from y), in place and out of place,
    plain and ranged kernels, softmax and log_softmax rows (one thread, so
    that the chunk is beyond the prefetch threshold)."""
    loops = _dispatch.loops(variant)
    rng = np.random.default_rng(5)
    n = (3 << 20) // np.dtype(dtype).itemsize + 7
    x = (rng.standard_normal(n) * 4).astype(dtype)
    x[::1001] = 20.0                 # gelu (erf)'s ranged form: sub-blocks outside the common range
    g = rng.standard_normal(n).astype(dtype)
    y = np.tanh(x)

    def run():
        out = []
        for name in ("sigmoid", "gelu", "squareplus", "selu", "tanh"):
            f, b = getattr(fastact, name), getattr(fastact, name + "_backward")
            w = x.copy()
            getattr(fastact, name + "_")(w, n_threads=1)
            out += [f(x, n_threads=1), w, b(g, x, n_threads=1)]
        out.append(fastact.tanh_backward(g, y=y, n_threads=1))
        rows, grows = x[:n // 1000 * 1000].reshape(-1, 1000), g[:n // 1000 * 1000].reshape(-1, 1000)
        for name in ("softmax", "log_softmax"):
            yr = getattr(fastact, name)(rows, n_threads=1)
            w = grows.copy()
            getattr(fastact, name + "_backward_")(w, y=yr, n_threads=1)
            out += [getattr(fastact, name + "_backward")(grows, y=yr, n_threads=1), w]
        return out
    was = loops.sw_prefetch()
    try:
        loops.sw_prefetch(False)
        off = run()
        loops.sw_prefetch(True)
        on = run()
    finally:
        loops.sw_prefetch(was)
    for i, (a, b) in enumerate(zip(off, on)):
        assert a.tobytes() == b.tobytes(), i


def _placed(n, dtype, at):
    """An empty array of n elements whose data starts `at` bytes past a 4 KB boundary."""
    it = np.dtype(dtype).itemsize
    buf = np.empty(n * it + 8192, np.uint8)
    s = (at - buf.ctypes.data) % 4096
    return buf[s:s + n * it].view(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_walk_direction_changes_no_bits(variant, dtype):
    """The AVX-512 element-wise forward loops walk their vectors down where an
    output lies just after the input modulo 4 KB (src/fa_defs.h, 4K
    aliasing): walked up, down, or as chosen by the offsets (in the window
    and outside it), every element-wise function and parameter set gives the
    same bits, at lengths with a head, a tail and both, with NaN, infinite
    and subnormal inputs, out of place and in place, on 1 and 2 threads; the
    backwards (from x, and from y where the table allows it; out of place and
    in place on a grad placed after x), which walk up, are unchanged by the
    mode."""
    loops = _dispatch.loops(variant)
    was = loops.walk()
    if was is None:                    # one direction only: the narrower targets
        assert variant != "x86_64_v4"
        return
    assert was == "auto"
    rng = np.random.default_rng(8)
    specials = np.array([np.nan, -np.nan, INF, -INF, 0.0, -0.0, 1e-310, -1e-40, 3.0, -3.0], dtype)
    runs = []
    for n in (37, 1029, 2 * 4096 + 13):
        x = _placed(n, dtype, 16)
        x[:] = rng.standard_normal(n) * 4
        x[rng.integers(0, n, 12)] = specials[rng.integers(0, specials.size, 12)]
        x[-3:] = specials[:3]                       # in the tail of a down walk
        g = rng.standard_normal(n).astype(dtype)
        g[rng.integers(0, n, 12)] = specials[rng.integers(0, specials.size, 12)]
        g[-6:-3] = specials[:3]
        runs.append((x, g, [_placed(n, dtype, 16 + d) for d in (0, 64, 200, 4032)]))

    def run():
        out = []
        for name in ELEMENTWISE:
            f, f_, b = (getattr(fastact, name + s) for s in ("", "_", "_backward"))
            b_ = getattr(fastact, name + "_backward_")
            for p in CASES[name]:
                p = in_dtype(p, dtype)
                for x, g, ys in runs:
                    y = f(x, **p)
                    for t in (1, 2):
                        for o in ys:
                            f(x, out=o, n_threads=t, **p)
                            out.append(o.tobytes())
                        w = ys[0]
                        w[:] = x
                        f_(w, n_threads=t, **p)
                        out.append(w.tobytes())
                        for kw in ([{"x": x}, {"y": y}] if y_ok(name, p) else [{"x": x}]):
                            for o in ys:
                                b(g, out=o, n_threads=t, **kw, **p)
                                out.append(o.tobytes())
                                o[:] = g             # in place on a grad placed after x (or y)
                                b_(o, n_threads=t, **kw, **p)
                                out.append(o.tobytes())
        return out
    try:
        got = {}
        for mode in ("up", "down", "auto"):
            assert loops.walk(mode) == mode
            got[mode] = run()
    finally:
        loops.walk(was)
    for mode in ("down", "auto"):
        bad = [i for i, (a, b) in enumerate(zip(got["up"], got[mode])) if a != b]
        assert not bad, (mode, bad[:5])
    with pytest.raises(ValueError, match="walk: mode must be"):
        loops.walk("sideways")


def test_softmax_far_output_plan(variant):
    """A float32 softmax over rows into an output of at least the last-level
    cache, with the loops' software prefetch off (AMD), takes row blocks of
    at most 4 KB and no prefetch for rows up to 8 KB (log_softmax: 4 KB); in
    place, float64, a smaller output or the prefetch on keep the 8 KB blocks
    and the prefetch."""
    from fastact import _front
    loops = _dispatch.loops(variant)
    plan = _front.softmax_row_plan
    was, old = loops.sw_prefetch(), _front.set_stream_min(1 << 20)
    try:
        loops.sw_prefetch(False)
        n = 1 << 20                                     # elements: 4 MB of float32
        assert plan(n // 1000, 1000, False, False, True, 2) == (1, False)
        assert plan(n // 256, 256, False, False, True, 2) == (4, False)
        assert plan(n // 16, 16, False, False, True, 1) == (64, False)
        assert plan(n // 2048, 2048, False, False, True, 2) == (1, False)
        assert plan(n // 3000, 3000, False, False, True, 2) == (1, True)     # 12 KB rows prefetch
        assert plan(n // 1000, 1000, False, False, False, 2) == (2, True)    # in place
        assert plan(n // 1000, 1000, True, False, True, 2) == (1, True)      # float64
        assert plan(n // 1000, 1000, False, True, True, 2) == (1, False)     # log_softmax
        assert plan(n // 256, 256, False, True, True, 1) == (4, False)
        assert plan(n // 2048, 2048, False, True, True, 2) == (1, True)      # its 8 KB rows prefetch
        assert plan(200, 1000, False, False, True, 1) == (2, True)           # within the cache
        loops.sw_prefetch(True)
        assert plan(n // 1000, 1000, False, False, True, 2) == (2, True)
        assert plan(n // 256, 256, False, False, True, 2) == (8, True)
        _front.set_stream_min(0)                         # the cache size unknown: never far
        loops.sw_prefetch(False)
        assert plan(n // 1000, 1000, False, False, True, 2) == (2, True)
    finally:
        loops.sw_prefetch(was)
        _front.set_stream_min(old)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("L", [7, 16, 100, 1000, 2048])
def test_softmax_far_output_changes_no_bits(variant, L, log):
    """The far output's row blocks (test above) give the same bits as the
    near ones: rows are independent.  Rows of specials included (all -inf,
    a NaN, +inf, a huge spread), one and two threads."""
    from fastact import _front
    loops = _dispatch.loops(variant)
    rng = np.random.default_rng(L)
    x = (rng.standard_normal(((300 << 10) // L + 3, L)) * 6).astype(np.float32)
    x[1] = -INF
    x[2, L // 2] = np.nan
    x[3, -1] = INF
    x[4, ::3] = -INF
    x[5] *= 1e4
    f = fastact.log_softmax if log else fastact.softmax
    was, old = loops.sw_prefetch(), _front.set_stream_min(64)
    try:
        loops.sw_prefetch(False)
        if not (log and L == 2048):     # log_softmax's rows of 8 KB: the near plan
            assert _front.softmax_row_plan(x.shape[0], L, False, log, True, 2) != \
                (max(1, min(64, 8192 // (4 * L))), True)
        far = [f(x, out=np.empty_like(x), n_threads=t) for t in (1, 2)]
        _front.set_stream_min(0)
        near = [f(x, out=np.empty_like(x), n_threads=t) for t in (1, 2)]
    finally:
        loops.sw_prefetch(was)
        _front.set_stream_min(old)
    for a, b in zip(far + near, near + far):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zero", [False, True])
def test_prelu_per_column_is_the_general_relu_formula(dtype, zero):
    """prelu's per-column loop takes the short formula unless a slope is 0
    (0 * -inf would be NaN): per column, the same bits as the general kernel."""
    rng = np.random.default_rng(3)
    C = 37
    x = (rng.standard_normal((29, C)) * 5).astype(dtype)
    x[0, :6] = [-INF, INF, -0.0, 0.0, np.nan, -1e-30]
    x[1, :6] = -INF
    alpha = rng.uniform(-2, 2, C).astype(dtype)
    alpha[:3] = [float(np.finfo(dtype).max), -1e-30, float(np.finfo(dtype).smallest_subnormal)]
    if zero:
        alpha[5] = 0.0
    got = fastact.prelu(x, alpha, axis=1).view(np.uint32 if dtype == np.float32 else np.uint64)
    for j in range(C):
        col = np.ascontiguousarray(x[:, j])
        exp = _relu_bits("relu", 0, col, None, (INF, float(alpha[j]), 0.0, 0.0), dtype)
        assert (got[:, j] == exp).all(), (j, alpha[j], col, got[:, j], exp)


def _tiny(dtype, lo, hi, n=4001):
    """n normal magnitudes spread over [2^lo, 2^hi], both signs."""
    m = np.exp2(np.linspace(lo, hi, n)).astype(dtype)
    return np.concatenate([m, -m])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_tiny_inputs_give_the_limit_values(dtype, approximate):
    """The gelu and tanh formulas raise |x| to a floor (FA_F_TINY / FA_D_TINY,
    src/fa_defs.h) where x would otherwise square to a subnormal, which x86
    runs through microcode assists (bench/assists.py).  Below the point where
    the result rounds to its limit, the results stay those limits, bit for
    bit: gelu(x) = x/2 (x/2 normal, so exact), gelu'(x) = 1/2, tanh(x) = x."""
    fi = np.finfo(dtype)
    x = _tiny(dtype, fi.minexp + 1, -30 if dtype == np.float32 else -60)
    got = fastact.gelu(x, approximate=approximate)
    assert np.array_equal(got, x * dtype(0.5)), x[got != x * dtype(0.5)][:4]
    d = fastact.gelu_backward(np.ones_like(x), x, approximate=approximate)
    assert (d == 0.5).all(), (x[d != 0.5][:4], d[d != 0.5][:4])
    if dtype == np.float32:
        t = _tiny(dtype, fi.minexp, -12)
        assert np.array_equal(fastact.tanh(t), t)
