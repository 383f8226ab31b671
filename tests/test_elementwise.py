"""Every element-wise activation x form x dtype x layout against the reference."""
import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fa_testutil import (in_dtype, ABS_TOL, BWD_ULP, CASES, DEFAULT_ULP, ELEMENTWISE, FWD_ULP, assert_bwd, assert_ulp,
                         layouts, params_id, y_ok)

DTYPES = [np.float32, np.float64]
CASE_LIST = [(n, p) for n in ELEMENTWISE for p in CASES[n]]
CASE_IDS = [f"{n}[{params_id(p)}]" for n, p in CASE_LIST]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", CASE_LIST, ids=CASE_IDS)
def test_forward_forms_and_layouts(name, params, dtype):
    fns = fastact.get(name)
    rng = np.random.default_rng(1)
    tol = FWD_ULP.get(name, DEFAULT_ULP)
    for label, owner, view in layouts(rng, dtype):
        x = view(owner)
        what = f"{name}({params_id(params)}) {np.dtype(dtype)} {label}"
        expected = ref.forward(name, x, **in_dtype(params, dtype))
        keep = x.copy()
        y = fns.forward(x, **params)
        assert y.shape == x.shape and y.dtype == x.dtype, what
        assert np.array_equal(x, keep), f"{what}: out-of-place form modified x"
        assert_ulp(y, expected, dtype, tol, what + " out-of-place", ABS_TOL.get(name, 0.0))
        out = np.full_like(x, 7.0)
        r = fns.forward(x, **params, out=out)
        assert r is out
        assert np.array_equal(out, y, equal_nan=True), what + " out="
        xi = x.copy()
        fns.forward(xi, **params, out=xi)
        assert np.array_equal(xi, y, equal_nan=True), what + " out=x"
        # in place on the caller's view: the view gets the result, the rest
        # of its memory owner is untouched
        o2 = owner.copy()
        v = view(o2)
        assert fns.forward_(v, **params) is v
        assert np.array_equal(v, y, equal_nan=True), what + " in place (view)"
        mask = np.ones(owner.shape, bool)
        view(mask)[...] = False
        assert np.array_equal(o2[mask], owner[mask]), what + " wrote outside the view"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,params", CASE_LIST, ids=CASE_IDS)
def test_backward_forms_and_layouts(name, params, dtype):
    fns = fastact.get(name)
    rng = np.random.default_rng(2)
    for label, owner, view in layouts(rng, dtype):
        x = view(owner)
        what = f"{name}_backward({params_id(params)}) {np.dtype(dtype)} {label}"
        g = (rng.standard_normal(x.shape)).astype(dtype)
        expected = ref.backward(name, g, x, **in_dtype(params, dtype))
        gk, xk = g.copy(), x.copy()
        d = fns.backward(g, x, **params)
        assert d.shape == x.shape and d.dtype == x.dtype
        assert np.array_equal(g, gk) and np.array_equal(x, xk), what + " modified its inputs"
        assert_bwd(d, expected, g, dtype, BWD_ULP, what)
        out = np.empty_like(g)
        assert fns.backward(g, x, **params, out=out) is out
        assert np.array_equal(out, d, equal_nan=True), what + " out="
        gi = g.copy()
        assert fns.backward_(gi, x, **params) is gi
        assert np.array_equal(gi, d, equal_nan=True), what + " in place"
        if y_ok(name, params):
            y = fns.forward(x, **params)
            dy = fns.backward(g, y=y, **params)
            # from y the tails lose relative accuracy (e.g. sigmoid'(x) = y(1-y)
            # when y rounds to 1): compare with an absolute floor of eps*|g|
            err = np.abs(dy.astype(np.float64) - expected)
            bound = np.maximum(BWD_ULP * np.spacing(np.abs(expected).astype(dtype)).astype(np.float64),
                               4 * np.finfo(dtype).eps * np.abs(g.astype(np.float64)))
            if name == "softplus":
                # from y, the soft region just below the switch to linear
                # reads as linear: off by at most exp(-threshold)
                bound = bound + np.exp(-params.get("threshold", 20.0)) * np.abs(g.astype(np.float64))
            assert np.all((err <= bound) | (np.isnan(dy) & np.isnan(expected))), \
                f"{what} from y: max err {np.nanmax(err - bound)}"
            gi = g.copy()
            fns.backward_(gi, y=y, **params)
            assert np.array_equal(gi, dy, equal_nan=True), what + " from y in place"
        else:
            with pytest.raises(ValueError, match=name):
                fns.backward(g, y=x, **params)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_finite_difference(name):
    """The reference backward agrees with a central difference of the
    reference forward, and the kernel's backward agrees with both."""
    rng = np.random.default_rng(3)
    fns = fastact.get(name)
    for params in CASES[name]:
        x = rng.uniform(-6, 6, 4000)
        h = 1e-6
        fd = (ref.forward(name, x + h, **params) - ref.forward(name, x - h, **params)) / (2 * h)
        an = ref.derivative(name, x, **params)
        # away from kinks the two must agree closely
        smooth = np.abs(fd - (ref.forward(name, x + 2 * h, **params)
                              - ref.forward(name, x - 2 * h, **params)) / (4 * h)) < 1e-6
        assert smooth.sum() > 3000
        np.testing.assert_allclose(an[smooth], fd[smooth], rtol=1e-5, atol=1e-6)
        k = fns.backward(np.ones_like(x), x, **params)
        np.testing.assert_allclose(k[smooth], fd[smooth], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_thread_count_does_not_change_results(name):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(1 << 20) * 5).astype(np.float32)
    g = rng.standard_normal(x.size).astype(np.float32)
    fns = fastact.get(name)
    for params in CASES[name]:
        y1 = fns.forward(x, **params, n_threads=1)
        y2 = fns.forward(x, **params, n_threads=2)
        assert np.array_equal(y1, y2, equal_nan=True)
        d1 = fns.backward(g, x, **params, n_threads=1)
        d2 = fns.backward(g, x, **params, n_threads=2)
        assert np.array_equal(d1, d2, equal_nan=True)


# lengths around every loop boundary: the vector width (4-16 lanes), the
# unrolled vector loop (up to 64 floats), the backward's NaN sub-block (256)
# and the aligned head taken from 1024 elements on
_LENGTHS = sorted(set(range(1, 70)) | {95, 127, 128, 129, 191, 255, 256, 257, 300, 511, 512, 513,
                                      1023, 1024, 1025, 1100})


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_bits_do_not_depend_on_length_or_offset(name, dtype):
    """An element's result is the same bits whether it is computed in the
    vector loop, its unrolled copies, the remainder or the aligned head."""
    rng = np.random.default_rng(5)
    m = max(_LENGTHS) + 8
    x = (rng.standard_normal(m) * 4).astype(dtype)
    x[::97] = np.nan
    x[5::89] = 0.0
    g = rng.standard_normal(m).astype(dtype)
    fns = fastact.get(name)
    for params in CASES[name]:
        y = fns.forward(x, **params, n_threads=1)
        d = fns.backward(g, x, **params, n_threads=1)
        for s in range(4):
            for n in _LENGTHS:
                if s + n > m:
                    continue
                sl = slice(s, s + n)
                what = f"{name}({params_id(params)}) {np.dtype(dtype)} [{s}:{s + n}]"
                assert np.array_equal(fns.forward(x[sl], **params, n_threads=1).view(np.uint8),
                                      y[sl].view(np.uint8)), what
                gi = g[sl].copy()
                fns.backward_(gi, x[sl], **params, n_threads=1)
                assert np.array_equal(gi.view(np.uint8), d[sl].view(np.uint8)), what + " backward_"


def _spread(x, far, at):
    """x with the far values spread over positions at, and the mask of the other positions"""
    x2 = x.copy()
    x2[at] = far[np.arange(at.size) % far.size]
    keep = np.ones(x.size, bool)
    keep[at] = False
    return x2, keep


def _assert_forward_ignores_neighbours(fns, params, x, x2, at, keep, what):
    """forward(x2) keeps forward(x)'s bits where x2 is x, gives the far values'
    bits as they give them alone, and forward_ gives forward's bits"""
    y2 = fns.forward(x2, **params, n_threads=1)
    y = fns.forward(x, **params, n_threads=1)
    assert np.array_equal(y2[keep].view(np.uint8), y[keep].view(np.uint8)), what
    alone = fns.forward(x2[at], **params, n_threads=1)
    assert np.array_equal(y2[at].view(np.uint8), alone.view(np.uint8)), what + " at the far values"
    z = x2.copy()
    fns.forward_(z, **params, n_threads=1)
    assert np.array_equal(z.view(np.uint8), y2.view(np.uint8)), what + " in place"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["squareplus", "gelu"])
def test_ranged_forward_bits_in_prefetch_blocks(name, dtype):
    """Arrays of 1 MB and more are walked in prefetch blocks (256 float32
    elements), inside which the ranged forward loops test sub-blocks: out-of-
    range and NaN inputs at and around both boundaries, in place and not,
    give the bits they give alone, and leave their neighbours' bits alone."""
    rng = np.random.default_rng(8)
    n = (1 << 20) // np.dtype(dtype).itemsize + 333
    x = (rng.standard_normal(n) * 4).astype(dtype)
    far = np.array([np.nan, -np.inf, 1e30, -20.0, 40.0, 2.0 ** 31, -1e-30], dtype)
    at = np.unique(np.concatenate([np.arange(0, n, 256), np.arange(255, n, 1024),
                                   np.arange(1023, n, 4096)]))
    x2, keep = _spread(x, far, at)
    fns = fastact.get(name)
    for params in CASES[name]:
        what = f"{name}({params_id(params)}) {np.dtype(dtype)}"
        _assert_forward_ignores_neighbours(fns, params, x, x2, at, keep, what)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_bits_do_not_depend_on_the_neighbours(name, dtype):
    """Kernels with a common-range form (squareplus; gelu (erf) forward) pick
    a form per sub-block of the input; an element's bits must not depend on
    which one its neighbours made the loop take, in place or not.  Inputs of
    a network's range, then the same with huge, tiny, infinite and NaN
    neighbours spread over them."""
    rng = np.random.default_rng(6)
    n = 4000
    x = (rng.standard_normal(n) * 4).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    big = float(np.finfo(dtype).max) / 3
    up = lambda v: float(np.nextafter(dtype(v), dtype(np.inf)))      # noqa: E731
    dn = lambda v: float(np.nextafter(dtype(v), dtype(0)))           # noqa: E731
    # squareplus' common range ends at |x| = 2^30 and y = 2^-40, 2^40: both sides of each end
    # gelu (erf)'s at |x| = 14.5 (float32) and 38.7 (float64)
    far = np.array([big, -big, 1e-30, -1e-30, np.inf, -np.inf, np.nan, 3e12, -3e12,
                    2.0 ** 30, -2.0 ** 30, up(2.0 ** 30), -up(2.0 ** 30),
                    14.5, -14.5, up(14.5), -up(14.5), 38.7, -38.7, up(38.7), -up(38.7)], dtype)
    far_y = np.array([2.0 ** -40, dn(2.0 ** -40), 2.0 ** 40, up(2.0 ** 40), 0.0, np.inf, np.nan, big], dtype)
    at = np.arange(7, n, 263)
    x2, keep = _spread(x, far, at)
    fns = fastact.get(name)
    for params in CASES[name]:
        what = f"{name}({params_id(params)}) {np.dtype(dtype)}"
        _assert_forward_ignores_neighbours(fns, params, x, x2, at, keep, what)
        same = lambda a, b: np.array_equal(a[keep].view(np.uint8), b[keep].view(np.uint8))  # noqa: E731
        # and the far values themselves: among in-range neighbours (x2) and among each other
        same_at = lambda a, b: np.array_equal(a[at].view(np.uint8), b.view(np.uint8))  # noqa: E731
        d_x2 = fns.backward(g, x2, **params, n_threads=1)
        assert same(d_x2, fns.backward(g, x, **params, n_threads=1)), what + " backward"
        assert same_at(d_x2, fns.backward(g[at], x2[at], **params, n_threads=1)), what + " backward at the far values"
        if y_ok(name, params):
            y = fns.forward(x, **params)
            y2 = y.copy()
            y2[at] = far_y[np.arange(at.size) % far_y.size]
            d_y2 = fns.backward(g, y=y2, **params, n_threads=1)
            assert same(d_y2, fns.backward(g, y=y, **params, n_threads=1)), what + " backward from y"
            assert same_at(d_y2, fns.backward(g[at], y=y2[at], **params, n_threads=1)), \
                what + " backward from y at the far values"


# The N-d walk (src/front/elementwise.pxi, _run_nd): runs along the axis where
# out moves fastest, axes merged into the run where they continue it,
# contiguous runs through the block loops, the others through the strided
# loops (which read a contiguous input and write a contiguous output in
# place), in tiles of 16 runs where an array is contiguous across them, the
# runs split over the threads (unevenly: a last tile of fewer runs), a single
# run in pieces.  Every layout gives the bits of
# the same call on C-contiguous copies.
_BIG = (600, 700)           # 420000 elements: two threads' worth of every cost class


def _walks(rng, dtype):
    """(label, x, g, out or None): views whose walk is not one flat run."""
    a = (rng.standard_normal((2 * _BIG[0] + 1, 2 * _BIG[1] + 3)) * 4).astype(dtype)
    a.reshape(-1)[::97] = np.nan                    # NaN inputs: the blocks' exact paths
    b = rng.standard_normal(a.shape).astype(dtype)
    cube = (rng.standard_normal((10, 70, 601)) * 4).astype(dtype)
    cube.reshape(-1)[::89] = np.inf
    gcube = rng.standard_normal(cube.shape).astype(dtype)
    sl = (slice(0, _BIG[0]), slice(0, _BIG[1]))
    n = _BIG[0] * _BIG[1]
    return [
        ("transposed slice (contiguous runs)", a[sl].T, b[sl].T, None),
        ("rows of a wider array", a[sl], b[sl], None),
        ("strided into contiguous out", a[:_BIG[0], ::2], b[:_BIG[0], ::2], np.zeros((_BIG[0], a.shape[1] // 2 + 1),
                                                                                       dtype)),
        ("contiguous into strided out", np.ascontiguousarray(a[sl]), np.ascontiguousarray(b[sl]),
         np.zeros((_BIG[0], 2 * _BIG[1] + 2), dtype)[:, ::2]),      # out's rows do not continue each other
        ("every other block: axes merged", cube[::2], gcube[::2], None),
        ("reversed both axes", a[::-1, ::-1], b[::-1, ::-1], None),
        # one run: split in pieces over the threads
        ("every other element, 1-d", a.reshape(-1)[:2 * n:2], b.reshape(-1)[:2 * n:2], None),
        ("reversed 1-d", a.reshape(-1)[n:0:-1], b.reshape(-1)[n:0:-1], None),
        ("3-d moved axes, strided", np.moveaxis(cube, 0, 2)[:, ::3], np.moveaxis(gcube, 0, 2)[:, ::3], None),
        ("grad strided, x contiguous", np.ascontiguousarray(a[:_BIG[0], ::2]), b[:_BIG[0], ::2], None),
        # x contiguous across the runs of a C-ordered out: runs in tiles
        ("transposed into C-ordered out", a[sl].T, b[sl].T, np.zeros((_BIG[1], _BIG[0] + 1), dtype)),
        ("grad C-ordered, x transposed", a[sl].T, np.ascontiguousarray(b[sl].T), None),
        ("grad transposed 3-d, x C-ordered", np.ascontiguousarray(cube[:, :, :600].transpose(2, 1, 0)),
         gcube[:, :, :600].transpose(2, 1, 0), None),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16], ids=["f32", "f64", "f16"])
@pytest.mark.parametrize("name", ["gelu", "relu", "sigmoid", "elu"])
def test_strided_walks_give_the_contiguous_bits(name, dtype):
    f = fastact.get(name)
    rng = np.random.default_rng(8)
    bits = (lambda v: np.ascontiguousarray(v).view(np.uint16 if dtype == np.float16 else
                                                   np.uint32 if dtype == np.float32 else np.uint64))
    assert fastact._front.planned_chunks(_BIG[0] * _BIG[1], 2, fastact._table.GRAIN["cheap"]) == 2
    with np.errstate(all="ignore"):
        for label, x, g, out in _walks(rng, dtype):
            xc, gc = np.ascontiguousarray(x), np.ascontiguousarray(g)
            want_f = bits(f.forward(xc, n_threads=1))
            want_b = bits(f.backward(gc, xc, n_threads=1))
            for nt in (1, 2):
                what = f"{label}, {nt} threads"
                assert (bits(f.forward(x, n_threads=nt)) == want_f).all(), what
                assert (bits(f.backward(g, x, n_threads=nt)) == want_b).all(), what + " backward"
                if out is not None:
                    o = out[:, :x.shape[1]]
                    assert f.forward(x, out=o, n_threads=nt) is o and (bits(o) == want_f).all(), what + " out="
                    o[...] = 0
                    f.backward(g, x, out=o, n_threads=nt)
                    assert (bits(o) == want_b).all(), what + " backward out="
                keep = x.copy()
                v = _view_like(x)
                f.forward_(v, n_threads=nt)
                assert (bits(v) == want_f).all(), what + " in place"
                gv = _view_like(g)
                f.backward_(gv, x, n_threads=nt)
                assert (bits(gv) == want_b).all(), what + " backward in place"
                assert np.array_equal(x, keep, equal_nan=True)


def _view_like(v):
    """A fresh copy of v's memory owner, viewed with v's shape and strides."""
    base = v
    while base.base is not None:
        base = base.base
    own = base.copy()
    off = v.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return np.ndarray(v.shape, v.dtype, buffer=own, offset=off, strides=v.strides)
