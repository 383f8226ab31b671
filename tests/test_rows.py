"""softmax / log_softmax along any axis and prelu per channel, all forms."""
import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fa_testutil import assert_bwd, assert_ulp

DTYPES = [np.float32, np.float64]


def arrays(rng, dtype):
    yield (rng.standard_normal((7, 33)) * 4).astype(dtype)
    yield np.asfortranarray((rng.standard_normal((6, 5, 17)) * 4).astype(dtype))
    yield (rng.standard_normal((9, 40)) * 4).astype(dtype)[::2, ::-3]
    yield (rng.standard_normal(1000) * 10).astype(dtype)
    yield np.array(1.5, dtype)
    yield np.empty((0, 3), dtype)
    yield (rng.standard_normal((300, 257)) * 3).astype(dtype)   # threaded


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_all_axes_and_forms(name, dtype):
    rng = np.random.default_rng(5)
    fns = fastact.get(name)
    for x in arrays(rng, dtype):
        for axis in range(-max(x.ndim, 1), max(x.ndim, 1)):
            what = f"{name} {x.shape} axis={axis}"
            e = ref.forward(name, x, axis=axis)
            y = fns.forward(x, axis=axis)
            assert y.shape == x.shape and y.dtype == x.dtype
            # 4 ULP + a summation term for float64 (float32 rows sum in double)
            L = x.shape[axis] if x.ndim else 1
            tol = 4 + (0.5 * np.log2(max(L, 2)) if dtype == np.float64 else 0)
            if name == "log_softmax":
                # near 0 the result cancels: absolute error ~ ulp(log(row length))
                a = np.where(np.abs(y.astype(np.float64) - e) <= 4 * np.finfo(dtype).eps *
                             np.log(max(x.shape[axis] if x.ndim else 1, 2)) * 4, e, y)
                assert_ulp(a, e, dtype, tol, what)
            else:
                assert_ulp(y, e, dtype, tol, what)
            xi = x.copy()
            assert fns.forward_(xi, axis=axis) is xi
            assert np.array_equal(xi, y)
            out = np.empty_like(x)
            assert fns.forward(x, axis=axis, out=out) is out and np.array_equal(out, y)
            g = rng.standard_normal(x.shape).astype(dtype)
            eb = ref.backward(name, g, x, axis=axis)
            d = fns.backward(g, y=y, axis=axis)
            scale = np.abs(g).max() if g.size else 1.0
            np.testing.assert_allclose(d, eb, atol=16 * np.finfo(dtype).eps * scale,
                                       rtol=16 * np.finfo(dtype).eps, err_msg=what + " backward from y")
            dx = fns.backward(g, x, axis=axis)
            np.testing.assert_allclose(dx, d, atol=16 * np.finfo(dtype).eps * scale, rtol=1e-5)
            gi = g.copy()
            fns.backward_(gi, y=y, axis=axis)
            assert np.array_equal(gi, d)


# (shape, axis) exercising the column kernel (a non-last axis of C-ordered
# data): L below / between / above the 4, 16 and 64 partial-sum thresholds with
# tails, inner widths below, at and beyond one 64-column strip
COL_CASES = [((5, 3, 70), 1), ((2, 17, 64), 1), ((40, 130), 0), ((515, 3), 0), ((3, 600, 2, 5), 1),
             ((1, 33, 1), 1), ((4, 2, 3, 1), 0), ((2, 9, 70), 1), ((8, 100), 0),
             ((3, 600, 2, 60), 1)]    # 216K elements: split between 2 threads


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", COL_CASES)
def test_softmax_columns_equal_rows(shape, axis, name, dtype):
    """A non-last axis gives bit for bit what the row kernel gives on the
    moved copy (forward and both backwards), at 1 and 2 threads."""
    rng = np.random.default_rng(11)
    fns = fastact.get(name)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xm = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    gm = np.ascontiguousarray(np.moveaxis(g, axis, -1))
    y_rows = np.moveaxis(fns.forward(xm), -1, axis)
    d_rows = np.moveaxis(fns.backward(gm, y=np.ascontiguousarray(np.moveaxis(y_rows, axis, -1))), -1, axis)
    dx_rows = np.moveaxis(fns.backward(gm, xm), -1, axis)
    for nt in (1, 2):
        y = fns.forward(x, axis=axis, n_threads=nt)
        assert np.array_equal(y, y_rows), (shape, axis, nt)
        assert np.array_equal(fns.backward(g, y=y, axis=axis, n_threads=nt), d_rows)
        assert np.array_equal(fns.backward(g, x, axis=axis, n_threads=nt), dx_rows)
    e = ref.forward(name, x, axis=axis)
    if name == "softmax":
        assert_ulp(y, e, dtype, 4 + (0.5 * np.log2(shape[axis]) if dtype == np.float64 else 0), name)


@pytest.mark.parametrize("name,fill", [("softmax", 0.0), ("log_softmax", -np.inf)])
def test_softmax_special_columns(name, fill):
    x = np.zeros((3, 4, 5), np.float32)
    x[:, 1, :] = -np.inf                      # axis-0 columns of -inf
    x[1, 2, 3] = np.nan
    x[0, 3, 0] = np.inf
    y = fastact.get(name).forward(x, axis=0)
    assert np.all(y[:, 1, :] == fill)
    assert np.isnan(y[:, 2, 3]).all() and np.isnan(y[:, 3, 0]).all()
    ok = np.ones((4, 5), bool)
    ok[1, :] = ok[2, 3] = ok[3, 0] = False
    want = np.float32(1 / 3) if name == "softmax" else np.float32(-np.log(3))
    np.testing.assert_allclose(y[:, ok], want, rtol=2e-7)


@pytest.mark.parametrize("L", [1, 3, 1000, 100000])
def test_log_softmax_row_sum_log(L):
    """log of the row sum (a vectorizable log, not libm): equal inputs give
    -log(L) to within an ULP in both dtypes, along rows and columns."""
    for dtype in DTYPES:
        x = np.full((L, 2), 0.25, dtype)
        want = -np.log(np.float64(L))
        for y in (fastact.log_softmax(x, axis=0)[:, 0], fastact.log_softmax(x.T.copy())[0]):
            err = np.abs(y.astype(np.float64) - want).max()
            assert err <= np.spacing(np.abs(dtype(want))), (L, dtype, err)


@pytest.mark.parametrize("L", [7, 40, 700])
def test_softmax_far_entries_and_huge_max(L):
    """float32 softmax raises entries more than ~115 below the max to that
    bound (the exp then needs no range check) and takes a second form for rows
    with |max| >= 224 (and |max| >= 2^28 a third): entries far below the
    max, -inf, subnormal outputs and huge maxima against the reference, and
    columns (strips mixing both forms) bit for bit equal to the rows."""
    rng = np.random.default_rng(3)
    # 223.9 / 224 / -224: either side of the bound of the shifted-exp form
    bases = (0.0, 223.9, 224.0, -224.0, -223.9, 350.0, 3e3, -3e3, 2.0**27, 2.0**28, -2.0**28, 3e9, 1e30, -1e30)
    rows = []
    for base in bases:
        for spread in (20.0, 95.0, 130.0, 1e4):
            r = (base + rng.uniform(-spread, 0, L)).astype(np.float32)
            r[0] = np.float32(base)
            if L > 3:
                r[2] = -np.inf
                r[3] = np.float32(base) - np.float32(100.0)   # a subnormal output
            rows.append(r)
    x = np.array(rows, np.float32)
    y = fastact.softmax(x)
    assert_ulp(y, ref.forward("softmax", x, axis=-1), np.float32, 4, "far entries")
    assert np.all(y[:, 2] == 0) if L > 3 else True
    for nt in (1, 2):
        assert np.array_equal(fastact.softmax(np.ascontiguousarray(x.T), axis=0, n_threads=nt).T, y)
    # one huge-max column in a strip of ordinary ones
    x2 = x.copy()
    x2[5] = x[-1]
    assert np.array_equal(fastact.softmax(np.ascontiguousarray(x2.T), axis=0).T, fastact.softmax(x2))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("L", [3, 40, 700])
def test_softmax_row_max_at_the_most_negative_float(L, dtype):
    """A row whose max is the most negative finite float and whose other
    entries are -inf or masked out (padding filled with finfo.min beside a
    -inf mask): the max entry takes the whole row, as in every other row;
    rows, columns, `where=`, softmin of the negated row, log_softmax, and the
    backwards from x and y."""
    lo = np.finfo(dtype).min
    x = np.full((3, L), -np.inf, dtype)
    x[:, 0] = lo
    x[1, 1] = lo / 2                                # the max; lo lies far below it
    x[2, 1] = lo                                    # two equal maxima: 1/2 each
    m = np.ones(x.shape, bool)
    m[:, 2:] = False
    want = ref.forward("softmax", x, axis=-1)
    assert want[0, 0] == 1 and want[1, 1] == 1 and want[2, 0] == 0.5
    g = np.linspace(-1, 1, x.size).reshape(x.shape).astype(dtype)
    for name, xs in (("softmax", x), ("softmin", -x), ("log_softmax", x)):
        f = fastact.get(name)
        exp = ref.forward(name, xs, axis=-1)
        y = f.forward(xs)
        assert_ulp(y, exp, dtype, 4, name)
        np.testing.assert_array_equal(f.forward(np.ascontiguousarray(xs.T), axis=0).T, y)
        xm = xs.copy()
        xm[:, 2:] = 7.0                             # masked out: never read
        assert_ulp(f.forward(xm, where=m), exp, dtype, 4, f"{name}(where=)")
        eb = ref.backward(name, g, xs, axis=-1)
        # the row's sum of g (in log_softmax's backward) rounds by up to ~L eps max|g|
        tol = {"atol": 4 * L * np.finfo(dtype).eps * np.abs(g).max(), "rtol": 16 * np.finfo(dtype).eps}
        np.testing.assert_allclose(f.backward(g, xs), eb, **tol, err_msg=f"{name}_backward")
        np.testing.assert_allclose(f.backward(g, y=y), eb, **tol, err_msg=f"{name}_backward(y=)")
        np.testing.assert_allclose(f.backward(g, xm, where=m), ref.backward(name, g, xm, axis=-1, where=m), **tol,
                                   err_msg=f"{name}_backward(where=)")


def test_softmax_special_rows():
    x = np.array([[-np.inf, -np.inf, -np.inf], [-np.inf, 0, 0], [1000, 0, -1000],
                  [np.nan, 0, 1], [np.inf, 0, 1]], np.float32)
    y = fastact.softmax(x)
    np.testing.assert_array_equal(y[:3], [[0, 0, 0], [0, .5, .5], [1, 0, 0]])
    assert np.isnan(y[3:]).all()
    ly = fastact.log_softmax(x)
    assert np.all(ly[0] == -np.inf)
    np.testing.assert_allclose(ly[1], [-np.inf, -np.log(2), -np.log(2)], rtol=1e-7)
    assert np.isnan(ly[3:]).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape,axis", [((4, 6, 5), 1), ((8, 7), 1), ((3, 5, 7), -1), ((5, 3, 2, 2), 0),
                                        ((20000, 3), 1), ((2, 3, 40000), 1), ((10,), 0)])
def test_prelu_per_channel(shape, axis, dtype):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    C = shape[axis]
    alpha = rng.uniform(-0.5, 0.5, C)
    for xv in (x, np.asfortranarray(x)):
        y = fastact.prelu(xv, alpha, axis=axis)
        # alpha is rounded to the dtype: up to 1.5 ULP from the float64 product
        assert_ulp(y, ref.prelu(xv, alpha, axis=axis), dtype, 2)
        xi = xv.copy()
        assert fastact.prelu_(xi, alpha, axis=axis) is xi and np.array_equal(xi, y)
        g = rng.standard_normal(shape).astype(dtype)
        gx, ga = fastact.prelu_backward(g, xv, alpha=alpha, axis=axis)
        egx, ega = ref.backward("prelu", g, xv, alpha=alpha, axis=axis)
        assert_bwd(gx, egx, g, dtype, 2)
        assert ga.shape == (C,) and ga.dtype == dtype
        np.testing.assert_allclose(ga, ega, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 * np.sqrt(x.size))
        gi = g.copy()
        r = fastact.prelu_backward_(gi, xv, alpha=alpha, axis=axis)
        assert r[0] is gi and np.array_equal(gi, gx) and np.array_equal(r[1], ga)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_prelu_scalar_alpha(dtype):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((50, 1001)) * 3).astype(dtype)
    for alpha in (0.25, np.array(0.25), np.array([0.25])):
        y = fastact.prelu(x, alpha)
        assert_ulp(y, ref.prelu(x, alpha), dtype, 2)
        g = rng.standard_normal(x.shape).astype(dtype)
        gx, ga = fastact.prelu_backward(g, x, alpha=alpha)
        assert np.shape(ga) == np.shape(alpha)
        np.testing.assert_allclose(ga, ref.prelu_grad_alpha(g, x, alpha), rtol=1e-5)
        assert_bwd(gx, ref.backward("prelu", g, x, alpha=alpha)[0], g, dtype, 2)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_row_tails(name, dtype):
    """Row tails (L mod 4, 16 or 64) get their exps from vector blocks, the
    last few from an overlapping block computed before an in-place row is
    overwritten, and go into end-aligned partial sums or a serial sum by
    tail length (src/loops/softmax.h, FA_TAIL_SERIAL): every tail length
    gives the bits of the column kernel (which sums in the same order with
    its own loops), forward and backward, in place as out of place, within
    the ULP limit."""
    rng = np.random.default_rng(3)
    fns = fastact.get(name)
    for L in list(range(1, 82)) + [509, 515, 521, 528, 1013, 1023, 1025, 1100]:
        x = (rng.standard_normal((3, L)) * 6).astype(dtype)
        x[1, -1] = 40.0                      # the max in the overlapping block only
        y = fns.forward(x)
        cols = fns.forward(np.ascontiguousarray(x.T), axis=0).T
        assert np.array_equal(y, cols), (name, L)
        xi = x.copy()
        fns.forward_(xi)
        assert np.array_equal(xi, y), (name, L)
        e = ref.forward(name, x)
        tol = 4 + (0.5 * np.log2(L) if dtype == np.float64 else 0)
        if name == "log_softmax":
            e = np.where(np.abs(y.astype(np.float64) - e) <= 16 * np.finfo(dtype).eps * np.log(L), y, e)
        assert_ulp(y, e, dtype, tol, f"{name} L={L}")
        # the backward's row sums (sum(g*y), sum(g)) have the same tails
        g = rng.standard_normal(x.shape).astype(dtype)
        d = fns.backward(g, y=y)
        dc = fns.backward(np.ascontiguousarray(g.T), y=np.ascontiguousarray(y.T), axis=0).T
        assert np.array_equal(d, dc), (name, L, "backward")
        np.testing.assert_allclose(d, ref.backward(name, g, x), rtol=16 * np.finfo(dtype).eps,
                                   atol=16 * np.finfo(dtype).eps * np.abs(g).max(), err_msg=f"{name} L={L}")


@pytest.mark.parametrize("L", [8, 13, 64, 1000, 5000])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_prefetching_rows_match_short_calls(name, L):
    """Row blocks of arrays >= 64 KB per thread prefetch the next block while
    summing (src/loops/softmax.h, fa__softmax_rows_n), and the backward the
    next row (fa__softmax_bwd_row_n): the results must be the bits of calls
    on slices too small to prefetch, also for the last partial block and
    the last row, with 1 and 2 threads, in place and not."""
    fns = fastact.get(name)
    nrow = (5 << 20) // (4 * L) + 3
    rng = np.random.default_rng(L)
    x = (rng.standard_normal((nrow, L)) * 5).astype(np.float32)
    g = rng.standard_normal((nrow, L)).astype(np.float32)
    step = max(1, (32 << 10) // (4 * L))
    want = np.concatenate([fns.forward(x[i:i + step]) for i in range(0, nrow, step)])
    gwant = np.concatenate([fns.backward(g[i:i + step], y=want[i:i + step]) for i in range(0, nrow, step)])
    for nt in (1, 2):
        assert np.array_equal(fns.forward(x, n_threads=nt), want)
        w = x.copy()
        fns.forward_(w, n_threads=nt)
        assert np.array_equal(w, want)
        assert np.array_equal(fns.backward(g, y=want, n_threads=nt), gwant)
        w = g.copy()
        fns.backward_(w, y=want, n_threads=nt)
        assert np.array_equal(w, gwant)


@pytest.mark.parametrize("L", [1, 2, 3, 4, 7, 16, 1000])
def test_softmax_equal_entries_exact(L):
    """A row of L equal entries gives fl(1/L) exactly (1 for one entry), as
    exp(x - max) does, at every magnitude of the entries (both float32 forms:
    |max| below and above 224), along rows and columns, in both dtypes."""
    rng = np.random.default_rng(L)
    for dtype in DTYPES:
        v = np.concatenate([rng.uniform(-300, 300, 400), [0.0, 223.99, -223.99, 224.0, 1e5, -1e30]])
        x = np.repeat(v.astype(dtype)[:, None], L, axis=1)
        want = dtype(1) / dtype(L)
        assert np.all(fastact.softmax(x) == want), (dtype, L)
        assert np.all(fastact.softmax(np.ascontiguousarray(x.T), axis=0) == want), (dtype, L)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_nan_among_neg_inf(name):
    """A row whose only other entries are -inf, or all NaN, is a NaN row like
    any row with a NaN (its max is -inf: the max never picks NaN), along rows
    and columns, in place too; an all -inf row stays zeros / -inf."""
    fill = 0.0 if name == "softmax" else -np.inf
    for dtype in DTYPES:
        for L in (2, 3, 17, 70, 600):
            x = np.full((4, L), -np.inf, dtype)
            x[0, L // 2] = np.nan
            x[1, :] = np.nan
            x[3, 0] = np.nan
            want_nan = np.array([True, True, False, True])
            for y in (fastact.get(name).forward(x),
                      fastact.get(name).forward(np.ascontiguousarray(x.T), axis=0).T,
                      fastact.get(name).forward_(x.copy())):
                assert np.isnan(y[want_nan]).all(), (dtype, L)
                assert np.all(y[2] == fill), (dtype, L)
            assert np.isnan(ref.forward(name, x.astype(np.float64), axis=-1)[want_nan]).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_nan_of_either_sign_or_inf_makes_a_quiet_nan_row(name, dtype):
    """A NaN of either sign, quiet or signaling, or +inf anywhere in a row
    (head, body, tail of every row length class) makes every output of that
    row the default quiet NaN and leaves the other rows alone, along rows and
    columns, out of place and in place (float32 log_softmax's rows find a
    NaN with the sign bit in their outputs, not in their sum)."""
    f = fastact.get(name)
    ut = np.uint32 if dtype == np.float32 else np.uint64
    sh = 32 if dtype == np.float32 else 64
    exp_bits = 0xff if dtype == np.float32 else 0x7ff
    man = 23 if dtype == np.float32 else 52
    qnan = (exp_bits << man) | (1 << (man - 1))
    nans = [qnan | (1 << (sh - 1)), (exp_bits << man) | 1 | (1 << (sh - 1)), qnan, (exp_bits << man) | 5]
    rng = np.random.default_rng(3)
    for L in (3, 17, 100, 1000, 1024, 4099):
        for pos in (0, L // 2, L - 1):
            for nb in nans + [None]:
                x = (rng.standard_normal((3, L)) * 3).astype(dtype)
                if nb is None:
                    x[1, pos] = np.inf
                else:
                    x[1].view(ut)[pos] = nb
                what = (L, pos, nb)
                for y in (f.forward(x), f.forward(np.ascontiguousarray(x.T), axis=0).T,
                          f.forward_(x.copy())):
                    assert (y[1].view(ut) == qnan).all(), what
                    assert np.isfinite(y[[0, 2]]).all(), what
                    assert np.array_equal(y[[0, 2]], f.forward(x[[0, 2]])), what


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_output_alignment_does_not_change_bits(name, dtype):
    """The output pass of rows of 256+ elements first writes up to the next
    64-byte boundary of y (src/loops/softmax.h, FA__SM_HEAD): every offset of
    y within a cache line, out of place and in place, and rows with NaN or
    +inf (the canonicalizing pass), give the bits of the aligned call."""
    fns = fastact.get(name)
    rng = np.random.default_rng(5)
    isz = np.dtype(dtype).itemsize
    for L in (255, 256, 300, 1000):
        x = (rng.standard_normal((3, L)) * 6).astype(dtype)
        x[1, 7] = np.nan
        x[2, L - 1] = np.inf
        want = fns.forward(x)
        for off in range(64 // isz):
            buf = np.empty(3 * L + 64 // isz, dtype)
            y = buf[off:off + 3 * L].reshape(3, L)
            fns.forward(x, out=y)
            assert np.array_equal(y, want, equal_nan=True), (L, off)
            y[...] = x
            fns.forward_(y)
            assert np.array_equal(y, want, equal_nan=True), (L, off)
            assert np.array_equal(y.view(np.uint8), want.view(np.uint8)), (L, off)
