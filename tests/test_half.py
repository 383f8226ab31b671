"""float16 and bfloat16 through the half loops (src/loops/half.h): converted
block by block inside the kernels, bit for bit what the staged computation
gives (widened to float32 by fastact/_arrays.py's _staged, computed in
float32, rounded back by _store), for every one of the 65536 bit patterns of
each format, NaN payloads, signed zeros, subnormals and infinities included;
and no full-size temporary."""
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import fastact
from fastact import _front
from fastact._arrays import _staged_np as _staged, _store_np as _store
from fa_testutil import CASES, ELEMENTWISE, y_ok

ml_dtypes = pytest.importorskip("ml_dtypes")

DTYPES = {"float16": (np.dtype(np.float16), 1), "bfloat16": (np.dtype(ml_dtypes.bfloat16), 2)}
ALL = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
PERM = np.random.default_rng(19).permutation(1 << 16)


def every(dtype):
    """The 65536 bit patterns, and a permutation of them (for grad)."""
    return ALL.view(dtype), ALL[PERM].view(dtype)


def bits(a):
    return np.ascontiguousarray(a).view(np.uint16)


def staged(fn, dtype, *arrays):
    """The result of the staged path: float32 copies, float32 kernels, _store."""
    r = fn(*(_staged(a) for a in arrays))
    out = np.empty(r.shape, dtype)
    _store(out, r)
    return out


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_widening_is_exact_for_every_pattern(fmt):
    dtype, code = DTYPES[fmt]
    got = _front.half_convert(code, ALL, np.empty(ALL.size, np.float32))
    np.testing.assert_array_equal(got.view(np.uint32), _staged(ALL.view(dtype)).view(np.uint32))
    many = np.tile(ALL, 5)[3:]                  # two threads' worth, split off a line boundary
    assert _front.planned_chunks(many.size, 2, 1 << 17) == 2
    got = _front.half_convert(code, many, np.empty(many.size, np.float32), 2)
    np.testing.assert_array_equal(got.view(np.uint32), _staged(many.view(dtype)).view(np.uint32))


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_rounding_equals_store_for_every_kind_of_float32(fmt):
    """Every sign, exponent and top 11 mantissa bits (what the result and
    its rounding bit depend on) with low bits that make ties, just-below and
    just-above ties and sticky bits (NaN payloads of every shape included),
    blocks of odd lengths (the vector tails)."""
    dtype, code = DTYPES[fmt]
    hi = np.arange(1 << 20, dtype=np.uint32) << 12
    rng = np.random.default_rng(5)
    for low in (0, 1, 0x7ff, 0x800, 0x801, 0xfff, None):
        lo = rng.integers(0, 1 << 12, hi.size, dtype=np.uint32) if low is None else np.uint32(low)
        f = (hi | lo).view(np.float32)
        want = np.empty(f.size, dtype)
        with np.errstate(over="ignore"):
            _store(want, f)
        for n, nth in ((f.size, 1), (f.size - 5, 1), (f.size - 5, 2)):   # a multiple of every vector
            got = _front.half_convert(code, f[:n], np.empty(n, np.uint16), nth)   # width, a tail; 2 threads
            bad = np.flatnonzero(got != want.view(np.uint16)[:n])
            assert bad.size == 0, [(hex(f.view(np.uint32)[i]), hex(got[i]), hex(want.view(np.uint16)[i]))
                                   for i in bad[:5]]
        # blocks of 4099: most hold no NaN, so the vector forms' results are kept
        got = np.empty(f.size, np.uint16)
        for i in range(0, f.size, 4099):
            _front.half_convert(code, f[i:i + 4099], got[i:i + 4099])
        bad = np.flatnonzero(got != want.view(np.uint16))
        assert bad.size == 0, [(hex(f.view(np.uint32)[i]), hex(got[i]), hex(want.view(np.uint16)[i]))
                               for i in bad[:5]]


def _forms(name, p, dtype):
    """(label, half call, staged reference call, operands) of every form."""
    f = fastact.get(name)
    x, g = every(dtype)
    yield ("forward", lambda a: f.forward(a, n_threads=1, **p),
           lambda a: f.forward(a, n_threads=1, **p), (x,))
    yield ("backward", lambda a, b: f.backward(a, b, n_threads=1, **p),
           lambda a, b: f.backward(a, b, n_threads=1, **p), (g, x))
    if y_ok(name, p):
        y = f.forward(x, n_threads=1, **p)
        yield ("backward(y=)", lambda a, b: f.backward(a, y=b, n_threads=1, **p),
               lambda a, b: f.backward(a, y=b, n_threads=1, **p), (g, y))


# relu and relu(max=m) run on the bits (loops/half.h's fa__relu_bits): maxima
# that are numbers of the format and maxima between two, rounding to 0 or to
# inf, every pattern, in place, out of place and strided.
RELU_MAXES = [6.0, 6.1, 0.1, 2.0 ** -24, 2.0 ** -26, 2.0 ** -133, 2.0 ** -140, 65504.0, 65519.0, 65520.0,
              70000.0, 3.0e38, 3.4e38, float("inf"), 0.0, -0.0]


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_relu_on_the_bits_equals_the_staged_computation(fmt):
    dtype, _ = DTYPES[fmt]
    x = every(dtype)[0]
    with np.errstate(all="ignore"):
        for m in RELU_MAXES:
            want = bits(staged(lambda a: fastact.relu(a, max=m), dtype, x))
            assert (bits(fastact.relu(x, max=m)) == want).all(), m
            a = x.copy()
            fastact.relu_(a, max=m)
            assert (bits(a) == want).all(), m
            s = np.zeros(2 * x.size, dtype)
            s[::2] = x
            assert (bits(fastact.relu(s[::2], max=m)) == want).all(), m


@pytest.mark.parametrize("fmt", sorted(DTYPES))
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_every_pattern_equals_the_staged_computation(name, fmt):
    dtype, _ = DTYPES[fmt]
    with np.errstate(all="ignore"):
        for p in CASES[name]:
            for label, fn, ref_fn, ops in _forms(name, p, dtype):
                want = bits(staged(ref_fn, dtype, *ops))
                got = fn(*ops)
                assert got.dtype == dtype
                bad = np.flatnonzero(bits(got) != want)
                assert bad.size == 0, (f"{name}{p} {label}: at inputs "
                                       f"{[hex(ops[-1].view(np.uint16)[i]) for i in bad[:4]]} "
                                       f"got {[hex(bits(got)[i]) for i in bad[:4]]}, "
                                       f"want {[hex(want[i]) for i in bad[:4]]}")


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_fused_groups_round_ties_as_the_store(fmt):
    """The contiguous loops round each group of results in registers: at
    ties, just below and just above them, into the subnormals and past the
    largest finite value, the bits of _store.  leaky_relu(x, slope) = x*slope
    for x < 0: a slope of 1 + half an ulp of the format makes the product
    with every power of two an exact tie (round to even tells them from
    round half up), the others just above or below one."""
    dtype, _ = DTYPES[fmt]
    mant = 7 if fmt == "bfloat16" else 10
    x, _g = every(dtype)
    f = fastact.get("leaky_relu")
    with np.errstate(all="ignore"):
        for s in (1 + 2.0 ** -(mant + 1), 1 + 2.0 ** -(mant + 1) + 2.0 ** -22, 1 + 2.0 ** -(mant + 1) - 2.0 ** -22,
                  1 + 3 * 2.0 ** -(mant + 1), -(1 + 2.0 ** -(mant + 1)), 0.7, 1.5):
            want = bits(staged(lambda a: f.forward(a, alpha=s, n_threads=1), dtype, x))
            for sl in (slice(None), slice(1, None), slice(3, -5)):   # group starts and tails move
                got = bits(f.forward(x[sl], alpha=s, n_threads=1))
                bad = np.flatnonzero(got != want[sl])
                assert bad.size == 0, (s, [(hex(bits(x[sl])[i]), hex(got[i]), hex(want[sl][i]))
                                           for i in bad[:4]])


NAN_GROUP_CASES = [("relu", {}), ("relu", {"max": 6.0}), ("gelu", {}), ("sigmoid", {}), ("softplus", {}),
                   ("hardtanh", {}), ("elu", {}), ("leaky_relu", {"alpha": 0.1}), ("threshold", {"threshold": 0.5,
                   "value": -1.0}), ("hard_sigmoid", {}), ("softshrink", {}), ("squareplus", {}), ("tanh", {})]


@pytest.mark.parametrize("fmt", sorted(DTYPES))
@pytest.mark.parametrize("name,p", NAN_GROUP_CASES, ids=[f"{n}{p or ''}" for n, p in NAN_GROUP_CASES])
def test_a_nan_result_sends_its_block_to_the_exact_path(name, p, fmt):
    """A NaN result in a group of the contiguous loops (a NaN input, a NaN grad, an inf grad
    times a zero derivative) sends that group and the block it starts through the buffered
    path; the groups before it and after that block, and a NaN grad in a flat piece (a
    number), stay on the fused path: everywhere the staged computation's bits.  NaNs at the
    first and last lane of a group, mid-group, in the tail; group starts shifted by one
    element; forward, backward from x and from y, out of place, in place, into out=, and in
    place on the saved input."""
    dtype, _ = DTYPES[fmt]
    f = fastact.get(name)
    rng = np.random.default_rng(23)
    n = 2301                                  # groups after a block of 1024 that starts at a NaN
    base = (rng.standard_normal(n) * 3).astype(np.float32)
    gbase = rng.standard_normal(n).astype(np.float32)
    snan = 0x7d01 if fmt == "float16" else 0x7f81
    specials = [snan, snan | 0x8000, 0x7e00 if fmt == "float16" else 0x7fc0,
                0x7c00 if fmt == "float16" else 0x7f80]
    yok = y_ok(name, p)
    with np.errstate(all="ignore"):
        for pos in (0, 15, 16, 31, 32, 63, 150, 1300, 2299):
            for sv in specials:
                x = np.empty(n, dtype)
                _store(x, base)
                g = np.empty(n, dtype)
                _store(g, gbase)
                xs, gs = x.copy(), g.copy()
                xs.view(np.uint16)[pos] = sv
                gs.view(np.uint16)[pos] = sv
                for xx, gg in ((xs, g), (x, gs)):
                    for sl in (slice(None), slice(1, None)):
                        xv, gv = xx[sl], gg[sl]
                        where = (name, p, pos, hex(sv), sl.start)
                        want_f = bits(staged(lambda a: f.forward(a, n_threads=1, **p), dtype, xv))
                        want_b = bits(staged(lambda a, b: f.backward(a, b, n_threads=1, **p), dtype, gv, xv))
                        assert (bits(f.forward(xv, n_threads=1, **p)) == want_f).all(), where
                        a = xv.copy()
                        f.forward_(a, n_threads=1, **p)
                        assert (bits(a) == want_f).all(), where
                        out = np.zeros_like(xv)
                        f.backward(gv, xv, out=out, n_threads=1, **p)
                        assert (bits(out) == want_b).all(), where
                        b = gv.copy()
                        f.backward_(b, xv, n_threads=1, **p)
                        assert (bits(b) == want_b).all(), where
                        c = xv.copy()
                        f.backward(gv, c, out=c, n_threads=1, **p)     # in place on the saved input
                        assert (bits(c) == want_b).all(), where
                        if yok:
                            y = f.forward(xv, n_threads=1, **p)
                            want_y = bits(staged(lambda a, b: f.backward(a, y=b, n_threads=1, **p), dtype, gv, y))
                            assert (bits(f.backward(gv, y=y, n_threads=1, **p)) == want_y).all(), where


def _place(a, how):
    """a's values in the layout `how` (a 1-D array of 65536 elements)."""
    if how == "F":
        return np.asfortranarray(a.reshape(256, 256))
    if how == "strided":
        buf = np.empty(2 * a.size, a.dtype)
        buf[::2] = a
        return buf[::2]
    if how == "reversed":
        return a[::-1].copy()[::-1]
    if how == "3d":                           # no contiguous axis order: the N-d walk
        return np.ascontiguousarray(a.reshape(16, 64, 64).transpose(1, 0, 2))
    return a.copy()


def _flat(a, how):
    """The values of _place(a, how)'s layout back in a's order."""
    return a.transpose(1, 0, 2).reshape(-1) if how == "3d" else np.ravel(a)


@pytest.mark.parametrize("fmt", sorted(DTYPES))
@pytest.mark.parametrize("name", ["gelu", "relu", "sigmoid", "elu", "softplus", "hardtanh", "linear"])
def test_layouts_forms_and_threads(name, fmt):
    """In place, out of place, out=, C/F/strided/reversed/N-d layouts, and
    two threads over more than one chunk: the bits of the 1-D call."""
    dtype, _ = DTYPES[fmt]
    f = fastact.get(name)
    x, g = every(dtype)
    with np.errstate(all="ignore"):
        want_f = bits(staged(lambda a: f.forward(a, n_threads=1), dtype, x))
        want_b = bits(staged(lambda a, b: f.backward(a, b, n_threads=1), dtype, g, x))
        for how in ("C", "F", "strided", "reversed", "3d"):
            xa, ga = _place(x, how), _place(g, how)
            assert (bits(_flat(f.forward(xa, n_threads=1), how)) == want_f).all(), how
            out = _place(np.zeros_like(x), how)
            f.forward(xa, out=out, n_threads=1)
            assert (bits(_flat(out, how)) == want_f).all(), how
            a = xa.copy(order="K") if how != "strided" else _place(x, how)
            f.forward_(a, n_threads=1)
            assert (bits(_flat(a, how)) == want_f).all(), how
            assert (bits(_flat(f.backward(ga, xa, n_threads=1), how)) == want_b).all(), how
            gg = _place(g, how)
            f.backward_(gg, xa, n_threads=1)
            assert (bits(_flat(gg, how)) == want_b).all(), how
        # 2 threads: 8 copies of the patterns are more than one chunk of every cost class
        big, bigg = np.tile(x, 8), np.tile(g, 8)
        assert fastact._front.planned_chunks(big.size, 2, fastact._table.GRAIN["transc"]) == 2
        assert fastact._front.planned_chunks(big.size, 2, fastact._table.GRAIN["cheap"]) == 2
        assert (bits(f.forward(big, n_threads=2)) == np.tile(want_f, 8)).all()
        assert (bits(f.backward(bigg, big, n_threads=2)) == np.tile(want_b, 8)).all()
        c = big.copy()
        f.forward_(c, n_threads=2)
        assert (bits(c) == np.tile(want_f, 8)).all()


def test_torch_bfloat16_tensor_in_place():
    torch = pytest.importorskip("torch")
    x = torch.linspace(-4, 4, 1001, dtype=torch.bfloat16)
    want = staged(lambda a: fastact.gelu(a), np.dtype(ml_dtypes.bfloat16),
                  x.view(torch.int16).numpy().view(ml_dtypes.bfloat16))
    assert fastact.gelu_(x) is x
    assert (x.view(torch.int16).numpy().view(np.uint16) == want.view(np.uint16)).all()


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_no_full_size_temporary(fmt):
    """tracemalloc sees NumPy's allocations: in place nothing but small
    objects, out of place the result alone."""
    dtype, _ = DTYPES[fmt]
    x = np.random.default_rng(3).standard_normal(1 << 20).astype(np.float32).astype(dtype)   # 2 MiB
    g = x.copy()
    fastact.gelu_(x.copy())
    fastact.gelu_backward(g, x)             # warm: specs cached, modules loaded
    small = 16 << 10
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fastact.gelu_(x)
        fastact.gelu_backward_(g, x)
        fastact.sigmoid_backward_(g, y=x)
        _, peak = tracemalloc.get_traced_memory()
        assert peak < small, f"in place allocated {peak} bytes"
        tracemalloc.reset_peak()
        y = fastact.gelu(x)
        _, peak = tracemalloc.get_traced_memory()
        assert x.nbytes <= peak < x.nbytes + small, peak          # exactly one output
        del y
        tracemalloc.reset_peak()
        y = fastact.gelu_backward(g, x)
        _, peak = tracemalloc.get_traced_memory()
        assert x.nbytes <= peak < x.nbytes + small, peak
    finally:
        tracemalloc.stop()


def test_half_formats_take_the_c_fast_paths_with_the_same_bits():
    """float16 and bfloat16 arrays run the fast paths' half loops (bfloat16,
    a dtype ml_dtypes numbers when it registers it, once the general path has
    seen one), with the staged computation's bits; a 2-byte dtype that is
    neither is left to the general path."""
    from fastact._families.elementwise import _FAST
    for fmt, (dtype, _) in sorted(DTYPES.items()):
        x, g = every(dtype)
        with np.errstate(all="ignore"):
            want = bits(staged(lambda a: fastact.gelu(a, n_threads=1), dtype, x))
            want_b = bits(staged(lambda a, b: fastact.gelu_backward(a, b, n_threads=1), dtype, g, x))
            fastact.gelu(x[:4])                               # a validated spec for the defaults
            spec = _FAST["gelu"][("none",)]
            a = x.copy()
            assert _front.fast_inplace(spec, ("none",), a, None) is a, fmt
            assert (bits(a) == want).all()
            y = _front.fast_call(spec, ("none",), 0, x, None, None, None, np.empty_like)
            assert y.dtype == dtype and (bits(y) == want).all()
            gb = _front.fast_call(spec, ("none",), 1, g, x, None, None, np.empty_like)
            assert gb.dtype == dtype and (bits(gb) == want_b).all()
            assert _front.fast_call(spec, ("none",), 1, g, x.view(np.int16), None, None, np.empty_like) is None
            for other in (np.int16, np.uint16, "V2", ">f2"):
                assert _front.fast_inplace(spec, ("none",), x.view(other), None) is None, other
            c = x.copy()
            fastact.gelu_(c)                                  # whichever path: the same bits
            assert (bits(c) == want).all() and (bits(fastact.gelu(x)) == want).all()
            assert (bits(fastact.gelu_backward(g, x)) == want_b).all()


def test_bfloat16_takes_the_fast_path_after_the_first_general_call(tmp_path):
    """In a fresh process no bfloat16 number is known: the first bfloat16
    call takes the general path, which records ml_dtypes' number; the next
    takes the fast path.  set_bfloat16 refuses a dtype that is not a 2-byte
    user dtype (the fast paths would run bfloat16 loops on it)."""
    code = textwrap.dedent("""
        import numpy as np, ml_dtypes, fastact
        from fastact import _front
        from fastact._families.elementwise import _FAST
        fastact.gelu(np.ones(4, np.float32))            # a validated spec; no bfloat16 seen
        spec = _FAST["gelu"][("none",)]
        x = np.linspace(-3, 3, 64).astype(ml_dtypes.bfloat16)
        assert _front.fast_inplace(spec, ("none",), x.copy(), None) is None
        fastact.gelu_(x.copy())
        a = x.copy()
        assert _front.fast_inplace(spec, ("none",), a, None) is a
        for bad in (np.int16, np.float16, "V2", np.float32):
            try:
                _front.set_bfloat16(bad)
            except ValueError:
                pass
            else:
                raise AssertionError(bad)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


class _Sub(np.ndarray):
    """Not an exact ndarray: the C fast paths leave it to the general path."""


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_half_fast_paths_refuse_a_parameter_before_they_allocate(fmt):
    """prelu's and bias_act's half fast paths check the slopes / the bias
    (float64 here: the general path converts it) before making the output."""
    from fastact._families.bias import _BIAS_DEFAULT
    from fastact._families.prelu import _PRELU_ROW
    dtype, _ = DTYPES[fmt]
    x = np.ones((8, 16), dtype)
    made = []
    empty_like = lambda a: made.append(a) or np.empty_like(a)   # noqa: E731
    fastact.bias_act(x, np.zeros(16, np.float32), act="gelu")   # validated: its fast spec
    spec = _BIAS_DEFAULT["gelu"][2]
    for p in (np.zeros(16), np.zeros(15, np.float32)):
        assert _front.fast_prelu(x, p, 1, None, None, 1024, _PRELU_ROW, empty_like) is None
        assert _front.fast_bias(spec, x, p, None, None, empty_like) is None
    assert not made
    assert _front.fast_prelu(x, np.zeros(16, np.float32), 1, None, None, 1024, _PRELU_ROW, empty_like) is not None
    assert _front.fast_bias(spec, x, np.zeros(16, dtype), None, None, empty_like) is not None
    assert len(made) == 2


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_half_row_fast_paths_equal_the_general_path(fmt, monkeypatch):
    """Plain float16/bfloat16 ndarrays take fast_softmax and fast_gated, which
    stage blocks of rows as the general path does (an ndarray subclass takes
    that path): the same bits for the forms with and without mask and scale,
    inner axes, interleaved pairs, in place, into out= and the backward from
    y, a gated function of one row, 1-D softmax rows (staged whole, and
    long enough to go in pieces), a softmax over axis 0 with strips of
    more than 4096 rows (tall strips in pieces of rows)."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 37)) * 3).astype(dtype)
    x.reshape(-1)[::11] = every(dtype)[1][:x.size // 11 + 1]
    g = rng.standard_normal((40, 37)).astype(dtype)
    mask = rng.random(37) > 0.3
    x3, g3 = x.reshape(8, 5, 37), g.reshape(8, 5, 37)
    cases = {
        "softmax": (lambda a, b: fastact.softmax(a), x, g),
        "log_softmax axis 1 of 3": (lambda a, b: fastact.log_softmax(a, axis=1), x3, g3),
        "softmin scale": (lambda a, b: fastact.softmin(a, scale=0.5), x, g),
        "softmax where scale": (lambda a, b: fastact.softmax(a, where=mask, scale=2.0), x, g),
        "softmax_ in place": (lambda a, b: fastact.softmax_(a.copy()), x, g),
        "log_softmax into out": (lambda a, b: fastact.log_softmax(a, out=np.empty_like(a)), x, g),
        "softmax_backward y": (lambda a, b: fastact.softmax_backward(b, y=a), x, g),
        "log_softmax_backward_ y axis 1 of 3": (lambda a, b: fastact.log_softmax_backward_(b.copy(), y=a, axis=1),
                                                 x3, g3),
        "glu": (lambda a, b: fastact.glu(a[:, :36].copy()), x, g),
        "swiglu interleaved, clamped": (lambda a, b: fastact.swiglu(a[:, :36].copy(), alpha=1.702, limit=7.0, bias=1.0,
                                                                    interleaved=True), x, g),
        "geglu tanh axis 1 of 3": (lambda a, b: fastact.geglu(a[:, :4].copy(), axis=1, approximate="tanh"), x3, g3),
        "swiglu interleaved axis 1 of 3": (lambda a, b: fastact.swiglu(a[:, :4].copy(), axis=1, interleaved=True), x3, g3),
        "glu of one row": (lambda a, b: fastact.glu(a[0, :36].copy()), x, g),
        "swiglu interleaved, one row of 2-D": (lambda a, b: fastact.swiglu(a[:1, :36].copy(), interleaved=True),
                                               x, g),
    }
    x1 = (rng.standard_normal(140001) * 3).astype(dtype)       # log_softmax, backwards from y: pieces
    x1[::13] = every(dtype)[1][:len(x1[::13])]
    g1 = rng.standard_normal(140001).astype(dtype)
    cases["softmax 1-D"] = (lambda a, b: fastact.softmax(a[0]), x, g)
    cases["log_softmax 1-D, in pieces"] = (lambda a, b: fastact.log_softmax(a), x1, g1)
    cases["softmax_backward_ 1-D y, in pieces"] = (lambda a, b: fastact.softmax_backward_(b.copy(), y=a), x1, g1)
    cases["softmax small (one thread, the GIL held)"] = (lambda a, b: fastact.softmax(a[:4].copy(), scale=3.0), x, g)
    xt = (rng.standard_normal((4200, 20)) * 3).astype(dtype)   # tall strips
    xt.reshape(-1)[::5] = every(dtype)[1][:xt.size // 5]
    gt = rng.standard_normal(xt.shape).astype(dtype)
    cases["softmax axis 0, tall strips"] = (lambda a, b: fastact.softmax(a, axis=0), xt, gt)
    cases["log_softmax_backward_ y axis 0, tall strips"] = (
        lambda a, b: fastact.log_softmax_backward_(b.copy(), y=a, axis=0), xt, gt)
    bh, b32 = x[3].copy(), x[5].astype(np.float32)       # NaNs among them
    cases["bias_act, bias of the format"] = (lambda a, b: fastact.bias_act(a, bh, act="gelu"), x, g)
    cases["bias_act_ in place, float32 bias"] = (lambda a, b: fastact.bias_act_(a.copy(), b32, act="silu"), x, g)
    cases["bias_act 3-D, relu"] = (lambda a, b: fastact.bias_act(a, bh, act="relu"), x3, g3)
    ah, a32 = np.linspace(-0.5, 0.5, 37).astype(dtype), np.linspace(0, 0.5, 37).astype(np.float32)
    ah[::6] = 0                                   # zero slopes: the other form
    cases["prelu, slopes of the format"] = (lambda a, b: fastact.prelu(a, ah, axis=-1), x, g)
    cases["prelu_ in place, float32 slopes"] = (lambda a, b: fastact.prelu_(a.copy(), a32, axis=1), x, g)
    cases["prelu into out="] = (lambda a, b: fastact.prelu(a, a32, axis=1, out=np.empty_like(a)), x, g)
    cases["prelu channel axis 1 of 3"] = (lambda a, b: fastact.prelu(a, ah[:5].copy(), axis=1), x3, g3)
    # every plain-ndarray call below must be answered by its fast path
    import fastact._public as public
    taken = []
    for mod, hook in ((public, "_ksoft"), (public, "_kgated"), (public, "_kprelu"), (_front, "fast_bias")):
        real = getattr(mod, hook)
        monkeypatch.setattr(mod, hook, lambda *a, _real=real, **k: taken.append(_real(*a, **k)) or taken[-1])
    with np.errstate(all="ignore"):
        for name, (fn, a, b) in cases.items():
            want = bits(np.asarray(fn(a.view(_Sub), b.view(_Sub))))
            del taken[:]
            got = fn(a, b)
            assert taken and all(r is not None for r in taken), f"{name}: not the fast path"
            assert type(got) is np.ndarray and got.dtype == dtype and (bits(got) == want).all(), name
        assert _front.fast_softmax(0, x, None, None, -1, False, None, 65536, np.empty_like) is not None
        assert _front.fast_softmax(2, g, x, None, 1, False, None, 65536, np.empty_like) is not None
        assert _front.fast_softmax(0, x, None, None, 0, False, None, 65536, np.empty_like) is not None
        assert _front.fast_softmax(0, np.zeros((4100, 20), dtype), None, None, 0, False, None, 65536,
                                   np.empty_like) is not None
        assert _front.fast_softmax(0, x[0], None, None, 0, False, None, 65536, np.empty_like) is not None
        from fastact._families.elementwise import _FAST
        spec = _FAST["glu"][(-1,)]                    # validated by the glu call above
        x36 = np.ascontiguousarray(x[:, :36])
        assert _front.fast_gated(spec, (-1,), x36, -1, None, np.empty) is not None
        assert _front.fast_gated(spec, (-1,), x36[:1], -1, None, np.empty) is not None


# softmax, the gated functions, bias_act and the prelu forward stage C-contiguous
# float16/bfloat16 data by blocks of rows in the front (src/front/halfrows.pxi):
# every form equal bit for bit to the staged computation, and nothing larger
# than a row staged whole.
ROWS = (23, 37)
W37 = np.arange(37) % 3 != 0


def _row_cases(dtype, rng):
    b = rng.standard_normal(37).astype(dtype)
    al = rng.uniform(0, 0.5, 37).astype(dtype)
    x3 = lambda x: np.ascontiguousarray(x[:, :36]).reshape(23, 4, 9)  # noqa: E731
    return {
        "softmax": (lambda x: fastact.softmax(x), lambda x: fastact.softmax_(x)),
        "log_softmax": (lambda x: fastact.log_softmax(x), lambda x: fastact.log_softmax_(x)),
        "softmax axis 1 of 3": (lambda x: fastact.softmax(x3(x), axis=1), None),
        "softmax where, scale": (lambda x: fastact.softmax(x, where=W37, scale=0.5),
                                 lambda x: fastact.softmax_(x, where=W37, scale=0.5)),
        "glu": (lambda x: fastact.glu(np.concatenate([x, x[:, ::-1]], axis=1)), None),
        "swiglu gpt-oss": (lambda x: fastact.swiglu(np.concatenate([x, x[:, ::-1]], axis=1), alpha=1.702,
                                                    limit=7.0, bias=1.0, interleaved=True), None),
        "geglu tanh": (lambda x: fastact.geglu(np.concatenate([x, x[:, ::-1]], axis=1), approximate="tanh"),
                       None),
        "bias_act gelu": (lambda x: fastact.bias_act(x, b, act="gelu"),
                          lambda x: fastact.bias_act_(x, b, act="gelu")),
        "prelu per column": (lambda x: fastact.prelu(x, al, axis=1), lambda x: fastact.prelu_(x, al, axis=1)),
        "sparsemax": (lambda x: fastact.sparsemax(x), lambda x: fastact.sparsemax_(x)),
        "sparsemax axis 0": (lambda x: fastact.sparsemax(x, axis=0), lambda x: fastact.sparsemax_(x, axis=0)),
    }


_c = np.ascontiguousarray


def _row_backward_cases(dtype, rng):
    return {
        "softmax_backward y": lambda g, x: fastact.softmax_backward(g, y=x),
        "log_softmax_backward x": lambda g, x: fastact.log_softmax_backward(g, x),
        "softmax_backward where": lambda g, x: fastact.softmax_backward(g, x, where=W37, scale=0.5),
        "glu_backward": lambda g, x: fastact.glu_backward(_c(g[:, :18]), _c(x[:, :36])),
        "swiglu_backward": lambda g, x: fastact.swiglu_backward(_c(g[:, :18]), _c(x[:, :36]), alpha=1.702,
                                                                limit=7.0, bias=1.0, interleaved=True),
        "sparsemax_backward x": lambda g, x: fastact.sparsemax_backward(g, x),
        "sparsemax_backward_ y": lambda g, x: fastact.sparsemax_backward_(g.copy(), y=x),
        "sparsemax_backward axis 0, x": lambda g, x: fastact.sparsemax_backward(g, x, axis=0),
        "sparsemax_backward_ axis 0, y": lambda g, x: fastact.sparsemax_backward_(g.copy(), y=x, axis=0),
    }


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_staged_families_equal_the_staged_computation(fmt, monkeypatch):
    import fastact._arrays as arrays
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(23)
    # what is staged whole: nothing larger than a row (the bias, the slopes)
    staged_sizes = []
    real = arrays._staged
    monkeypatch.setattr(arrays, "_staged", lambda a, *r, **k: (staged_sizes.append(a.size), real(a, *r, **k))[1])
    import fastact._families.driver as driver
    import fastact._families.gated as gated
    import fastact._families.bias as bias
    for mod in (driver, gated, bias):
        if hasattr(mod, "_staged"):
            monkeypatch.setattr(mod, "_staged", arrays._staged)
    # values of every kind: normal ones, and a slice of every bit pattern
    # (NaN payloads, infinities, subnormals, signed zeros)
    x = (rng.standard_normal(ROWS) * 3).astype(dtype)
    x.reshape(-1)[::7] = every(dtype)[1][:x.size // 7 + 1]
    g = (rng.standard_normal(ROWS)).astype(dtype)
    with np.errstate(all="ignore"):
        for name, (fn, fn_) in _row_cases(dtype, rng).items():
            want = bits(staged(fn, dtype, x))
            del staged_sizes[:]
            got = fn(x)
            assert got.dtype == dtype and (bits(got) == want).all(), name
            assert max(staged_sizes, default=0) <= 2 * ROWS[1], f"{name}: staged whole"
            if fn_ is not None:
                a = x.copy()
                fn_(a)
                assert (bits(a) == want).all(), name + " in place"
        for name, fn in _row_backward_cases(dtype, rng).items():
            want = bits(staged(fn, dtype, g, x))
            del staged_sizes[:]
            got = fn(g, x)
            assert got.dtype == dtype and (bits(got) == want).all(), name
            assert max(staged_sizes, default=0) <= 2 * ROWS[1], f"{name}: staged whole"


# The front stages C-contiguous half data of these families itself, in blocks
# of rows of at most 4096 float32 elements over all of a call's arrays
# (src/front/halfrows.pxi), one run of blocks per thread: many blocks with a
# short last one (and enough for two threads), rows longer than a block, one row.
FRONT_SHAPES = [(300, 37), (1101, 240), (3, 5000), (1, 700), (7,)]


def _front_cases(shape, rng, dtype):
    C = shape[-1]
    al = rng.uniform(-0.5, 0.5, C).astype(dtype)
    al[::5] = 0                                   # zero slopes: the other prelu form
    al0 = np.linspace(-0.5, 0.5, shape[0]).astype(dtype)
    mask = rng.random(shape) < 0.8
    b = rng.standard_normal(C).astype(dtype)
    x2 = lambda x: np.concatenate([x, x[..., ::-1]], axis=-1)   # noqa: E731
    out = {
        "softmax": lambda x, g, n: fastact.softmax(x, n_threads=n),
        "log_softmax_ in place": lambda x, g, n: fastact.log_softmax_(x.copy(), n_threads=n),
        "softmax_backward y": lambda x, g, n: fastact.softmax_backward(g, y=x, n_threads=n),
        "log_softmax_backward x": lambda x, g, n: fastact.log_softmax_backward(g, x, n_threads=n),
        "softmax_backward_ x in place": lambda x, g, n: fastact.softmax_backward_(g.copy(), x, n_threads=n),
        "prelu last axis": lambda x, g, n: fastact.prelu(x, al, axis=-1, n_threads=n),
        "prelu_ axis 0": lambda x, g, n: fastact.prelu_(x.copy(), al0, axis=0, n_threads=n),
        "glu": lambda x, g, n: fastact.glu(x2(x), n_threads=n),
        "swiglu interleaved": lambda x, g, n: fastact.swiglu(x2(x), alpha=1.702, limit=7.0, bias=1.0,
                                                             interleaved=True, n_threads=n),
        "glu_backward": lambda x, g, n: fastact.glu_backward(g, x2(x), n_threads=n),
        "geglu_backward tanh": lambda x, g, n: fastact.geglu_backward(g, x2(x), approximate="tanh",
                                                                      n_threads=n),
        "bias_act_ silu": lambda x, g, n: fastact.bias_act_(x.copy(), b, act="silu", n_threads=n),
        "sparsemax": lambda x, g, n: fastact.sparsemax(x, n_threads=n),
        "sparsemax_backward x": lambda x, g, n: fastact.sparsemax_backward(g, x, n_threads=n),
        "sparsemax_backward_ y in place": lambda x, g, n: fastact.sparsemax_backward_(g.copy(), y=x, n_threads=n),
        "softmax where (per row), scale": lambda x, g, n: fastact.softmax(x, where=mask, scale=0.5,
                                                                          n_threads=n),
        "softmin_ where (broadcast)": lambda x, g, n: fastact.softmin_(x.copy(), where=mask[..., :1, :]
                                                                       if x.ndim > 1 else mask, n_threads=n),
        "log_softmax_backward where, x": lambda x, g, n: fastact.log_softmax_backward(g, x, where=mask,
                                                                                      n_threads=n),
        "softmax_backward where, y": lambda x, g, n: fastact.softmax_backward(g, y=x, where=mask, scale=2.0,
                                                                              n_threads=n),
    }
    if len(shape) == 2:
        x3 = lambda x: x[:, :x.shape[1] // 4 * 4].reshape(x.shape[0], 4, -1)   # noqa: E731
        out.update({
            "softmax axis 1 of 3": lambda x, g, n: fastact.softmax(np.ascontiguousarray(x3(x)), axis=1,
                                                                   n_threads=n),
            "softmax_backward axis 1 of 3, x": lambda x, g, n: fastact.softmax_backward(
                np.ascontiguousarray(x3(g)), np.ascontiguousarray(x3(x)), axis=1, n_threads=n),
            "prelu channel axis 1 of 3": lambda x, g, n: fastact.prelu(np.ascontiguousarray(x3(x)),
                                                                       al[:4], axis=1, n_threads=n),
            "softmax axis 0": lambda x, g, n: fastact.softmax(x, axis=0, n_threads=n),
            "softmax axis 1 of 3, where, scale": lambda x, g, n: fastact.softmax(
                np.ascontiguousarray(x3(x)), axis=1, where=np.ascontiguousarray(x3(mask)), scale=0.75,
                n_threads=n),
            "softmax_backward axis 1 of 3, where, x": lambda x, g, n: fastact.softmax_backward(
                np.ascontiguousarray(x3(g)), np.ascontiguousarray(x3(x)), axis=1,
                where=np.ascontiguousarray(x3(mask)), n_threads=n),
        })
    return out


@pytest.mark.parametrize("shape", FRONT_SHAPES, ids=str)
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_front_staged_rows_equal_the_staged_computation(fmt, shape):
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(31)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    xs = x.reshape(-1)[:x.size // 3:11]               # NaNs, infinities, subnormals, zeros in the
    xs[:] = every(dtype)[1][:xs.size]                 # first third: the later blocks hold no NaN
    g = rng.standard_normal(shape).astype(dtype)
    with np.errstate(all="ignore"):
        for name, fn in _front_cases(shape, rng, dtype).items():
            want = bits(staged(lambda a, b: fn(a, b, 1), dtype, x, g))
            for n in (1, 2):
                got = fn(x, g, n)
                assert got.dtype == dtype and (bits(got) == want).all(), (name, n)


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_staged_families_make_no_full_size_temporary(fmt):
    """At most the output and a block of float32 rows per thread (16 KB;
    a full float32 copy of x would be twice x's size)."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1024, 1024)).astype(dtype)            # 2 MiB
    b = rng.standard_normal(1024).astype(np.float32)
    al = rng.uniform(0, 0.5, 1024).astype(np.float32)
    g = x[:, :512].copy()
    inplace = [lambda a: fastact.softmax_(a), lambda a: fastact.bias_act_(a, b, act="gelu"),
               lambda a: fastact.prelu_(a, al, axis=1), lambda a: fastact.softmax_backward_(a, y=x)]
    outof = [(lambda: fastact.softmax(x), x.nbytes), (lambda: fastact.glu(x), x.nbytes // 2),
             (lambda: fastact.glu_backward(g, x), x.nbytes)]
    blocks = 64 << 10       # the blocks, a float32 copy of the slopes or the bias
    assert blocks < x.nbytes
    for f in inplace:
        f(x.copy())
    for f, _ in outof:
        f()
    tracemalloc.start()
    try:
        for i, f in enumerate(inplace):
            a = x.copy()
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            f(a)
            _, peak = tracemalloc.get_traced_memory()
            assert peak - base < blocks, (i, peak - base)
            del a
        for i, (f, size) in enumerate(outof):
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            y = f()
            _, peak = tracemalloc.get_traced_memory()
            assert size <= peak - base < size + blocks, (i, peak - base)
            del y
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_gated_one_row_goes_in_pieces_over_the_threads(fmt):
    """A gated function of one row (1-D, or one row of a 2-D array) is staged
    in pieces of its columns that the threads split: the staged
    computation's bits on one and two threads (pieces with a short rest,
    every bit pattern among the values), and no temporary beyond the result
    and the blocks."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(8)
    M = 2 * 65536 + 4 * 64 + 37               # two threads' worth (GRAIN["transc"]), a short last piece
    x = (rng.standard_normal(2 * M) * 3).astype(dtype)
    x[:3 * 65536:3] = every(dtype)[1]
    g = rng.standard_normal(M).astype(dtype)
    cases = {
        "glu": (lambda x, g, n: fastact.glu(x, n_threads=n), M),
        "glu axis 0 of (2M, 1)": (lambda x, g, n: fastact.glu(x.reshape(-1, 1), axis=0, n_threads=n), M),
        "swiglu interleaved": (lambda x, g, n: fastact.swiglu(x, alpha=1.702, limit=7.0, bias=1.0,
                                                              interleaved=True, n_threads=n), M),
        "geglu_backward tanh, one row of 2-D": (lambda x, g, n: fastact.geglu_backward(
            g[None], x[None], approximate="tanh", n_threads=n), 2 * M),
        "swiglu_backward interleaved": (lambda x, g, n: fastact.swiglu_backward(
            g, x, interleaved=True, n_threads=n), 2 * M),
    }
    blocks = 64 << 10
    with np.errstate(all="ignore"):
        for name, (fn, size) in cases.items():
            want = bits(staged(lambda a, b: fn(a, b, 1), dtype, x, g)).reshape(-1)
            for n in (1, 2):
                tracemalloc.start()
                try:
                    base, _ = tracemalloc.get_traced_memory()
                    got = fn(x, g, n)
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
                assert got.dtype == dtype and (bits(got).reshape(-1) == want).all(), (name, n)
                assert 2 * size <= peak - base < 2 * size + blocks, (name, n, peak - base)


# softmax rows too long to stage whole go through the float32 row kernel's
# steps in pieces (src/front/smlong.pxi): the reductions resumed from piece
# to piece, the outputs per piece (softmax's exps computed again).  With
# every row of at least 512 (the row kernel's 64 partials) in pieces of 512
# floats (256 per array in the backwards), rows of 512 to 1300 cover one
# piece, several, a last piece that would be under 128 (the one before
# gives it a step), and every kind of tail of the 64 partials.
LONG_L = [512, 513, 575, 576, 639, 640, 700, 767, 768, 769, 1000, 1023, 1024, 1025, 1100, 1151, 1153, 1300]


def _long_cases(mask):
    return {
        "softmax": lambda x, g, n: fastact.softmax(x, n_threads=n),
        "log_softmax_ in place": lambda x, g, n: fastact.log_softmax_(x.copy(), n_threads=n),
        "softmin where, scale": lambda x, g, n: fastact.softmin(x, where=mask, scale=0.5, n_threads=n),
        "log_softmax where": lambda x, g, n: fastact.log_softmax(x, where=mask, n_threads=n),
        "softmax_backward y": lambda x, g, n: fastact.softmax_backward(g, y=x, n_threads=n),
        "log_softmax_backward_ y in place": lambda x, g, n: fastact.log_softmax_backward_(g.copy(), y=x,
                                                                                          n_threads=n),
        "softmax_backward_ x in place": lambda x, g, n: fastact.softmax_backward_(g.copy(), x, n_threads=n),
        "log_softmax_backward x": lambda x, g, n: fastact.log_softmax_backward(g, x, n_threads=n),
        "softmax_backward x, where, scale": lambda x, g, n: fastact.softmax_backward(
            g, x, where=mask, scale=2.0, n_threads=n),
        "log_softmax_backward y, where": lambda x, g, n: fastact.log_softmax_backward(g, y=x, where=mask,
                                                                                      n_threads=n),
    }


def _long_rows(dtype, L, rng):
    """9 rows of L: normal values; every kind of bit pattern; all -inf; -inf
    and a NaN; a +inf; signed zeros; a large max; a NaN at the end; one large
    entry among small ones (the sums' order shows)."""
    x = (rng.standard_normal((9, L)) * 3).astype(dtype)
    x[1] = every(dtype)[1][rng.integers(0, 1 << 16, L)]
    x[2] = -np.inf
    x[3] = -np.inf
    x[3, L // 2] = np.nan
    x[4, 7] = np.inf
    x[5] = 0
    x[5, ::2] = -0.0
    x[6] *= 30
    x[6, 100] = 60000 if dtype == np.float16 else 1e30
    x[7, -1] = np.nan
    x[8] = -12
    x[8, L - 3] = 0
    return x


@pytest.mark.parametrize("piece", [512, 256], ids=lambda p: f"piece{p}")
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_long_softmax_rows_go_in_pieces_with_the_same_bits(fmt, piece):
    """(piece 256: pieces of 256 floats, the least the front takes, also in
    the backwards, whose arrays would share it)"""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(77)
    old = _front.sml_tune((0, 0, 0), piece)
    try:
        with np.errstate(all="ignore"):
            for L in LONG_L:
                x = _long_rows(dtype, L, rng)
                g = rng.standard_normal(x.shape).astype(dtype)
                g[0, :5] = np.inf                    # (row 4: x has +inf, g finite)
                mask = rng.random(x.shape) < 0.7
                mask[0] = False                     # a row all masked
                for name, fn in _long_cases(mask).items():
                    want = bits(staged(lambda a, b: fn(a, b, 1), dtype, x, g))
                    for n in (1, 2):
                        got = fn(x, g, n)
                        assert got.dtype == dtype and (bits(got) == want).all(), (name, L, n)
    finally:
        _front.sml_tune(*old)


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_long_softmax_rows_make_no_full_size_temporary(fmt):
    """1-D and two rows of 2^19 at the default thresholds: no float32 copy,
    at most a piece per array per thread besides the result; the staged
    computation's bits."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(1 << 20) * 3).astype(dtype)     # 2 MiB
    x[::4099] = every(dtype)[1][:len(x[::4099])]
    g = rng.standard_normal(x.shape).astype(dtype)
    calls = {
        "softmax_": lambda a, b: fastact.softmax_(a),
        "log_softmax_ (2, 2^19)": lambda a, b: fastact.log_softmax_(a.reshape(2, -1)),
        "softmax_backward_ y": lambda a, b: fastact.softmax_backward_(a, y=b),
        "softmax_backward_ x": lambda a, b: fastact.softmax_backward_(a, b),
        "log_softmax_backward_ x": lambda a, b: fastact.log_softmax_backward_(a, b),
    }
    blocks = 64 << 10
    assert blocks < x.nbytes
    with np.errstate(all="ignore"):
        for name, f in calls.items():
            want = bits(staged(lambda a, b: (f(a, b), a)[1], dtype, g if "backward" in name else x, x))
            a = (g if "backward" in name else x).copy()
            tracemalloc.start()
            try:
                base, _ = tracemalloc.get_traced_memory()
                f(a, x)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak - base < blocks, (name, peak - base)
            assert (bits(a) == want).all(), name


# A softmax over a middle axis whose outer blocks hold more than 65536
# elements goes in column strips of 64 (src/front/smlong.pxi), fewer for
# strips of more than 2048 rows (2500 rows: 48; 3000 and 4000 rows: 32), each
# gathered packed, through the float32 column kernel and back: full strips
# and a narrower last one (or one joined to the strip before it: 32 + 6,
# 48 + 4; 32 + 1 would not fit), over axis 0 and a middle axis, split
# unevenly over two threads.  Strips of more than 4096 rows (tall) go
# through the column kernel's steps in pieces of 256 rows: 4097 rows (a last
# piece of one row, the 64 partials' pairs ending at 4096), 4200 (serial rows
# after the pairs, then an end-aligned tail), 64 + 64 + 2 columns; one strip
# of 40 columns made two (32 + 8) for two threads.
STRIP_SHAPES = [((340, 400), 0), ((2000, 33), 0), ((5, 210, 130), 1), ((2, 2100, 40), 1), ((2100, 40), 0),
                ((3000, 70), 0), ((2500, 100), 0), ((2, 4000, 33), 1), ((1, 4096, 20), 1), ((2, 4100, 17), 1),
                ((4097, 130), 0), ((4200, 70), 0), ((2, 5000, 20), 1), ((4200, 40), 0)]


@pytest.mark.parametrize("shape,ax", STRIP_SHAPES, ids=str)
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_softmax_column_strips_with_the_same_bits(fmt, shape, ax):
    _column_strips_same_bits(fmt, shape, ax)


@pytest.mark.parametrize("rows", [128, 384], ids=lambda r: f"rows{r}")
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_tall_strips_in_other_pieces_with_the_same_bits(fmt, rows):
    """Pieces of 128 rows (one block pair of the 64 partials) and of 384
    (a pair of blocks is never split between two pieces)."""
    old = _front.smt_tune(rows)
    try:
        for shape, ax in (((4200, 70), 0), ((2, 4100, 17), 1)):
            _column_strips_same_bits(fmt, shape, ax)
    finally:
        _front.smt_tune(old)
    with pytest.raises(ValueError, match="multiple of 128"):
        _front.smt_tune(200)


def _column_strips_same_bits(fmt, shape, ax):
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(91)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    xs = x.reshape(-1)[::7]
    xs[:] = np.resize(every(dtype)[1], xs.size)
    x[(slice(None),) * ax + (slice(None), 3)] = -np.inf        # a column all -inf
    g = rng.standard_normal(shape).astype(dtype)
    mask = rng.random(shape) < 0.7
    cases = {
        "softmax": lambda x, g, n: fastact.softmax(x, axis=ax, n_threads=n),
        "log_softmax_ in place": lambda x, g, n: fastact.log_softmax_(x.copy(), axis=ax, n_threads=n),
        "softmin where, scale": lambda x, g, n: fastact.softmin(x, axis=ax, where=mask, scale=0.5, n_threads=n),
        "softmax_backward y": lambda x, g, n: fastact.softmax_backward(g, y=x, axis=ax, n_threads=n),
        "log_softmax_backward x": lambda x, g, n: fastact.log_softmax_backward(g, x, axis=ax, n_threads=n),
        "softmax_backward_ x in place": lambda x, g, n: fastact.softmax_backward_(g.copy(), x, axis=ax,
                                                                                  n_threads=n),
        "softmax_backward x, where, scale": lambda x, g, n: fastact.softmax_backward(
            g, x, axis=ax, where=mask, scale=2.0, n_threads=n),
    }
    with np.errstate(all="ignore"):
        for name, fn in cases.items():
            want = bits(staged(lambda a, b: fn(a, b, 1), dtype, x, g))
            for n in (1, 2):
                got = fn(x, g, n)
                assert got.dtype == dtype and (bits(got) == want).all(), (name, n)


@pytest.mark.parametrize("fmt", sorted(DTYPES))
@pytest.mark.parametrize("shape", [(1024, 1024), (4096, 256), (8192, 256)], ids=str)
def test_softmax_column_strips_make_no_full_size_temporary(fmt, shape):
    """Over axis 0: at most a strip of 512 KB per array per thread (1024 x
    64 floats; 4096 x 32), tall strips a piece of 256 x 64 floats per array
    and 33 KB of partials, where a float32 copy of x would be 4 or 8 MiB."""
    dtype, _ = DTYPES[fmt]
    x = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    strip = 512 << 10
    for f, narr in ((lambda a: fastact.softmax_(a, axis=0), 1),
                    (lambda a: fastact.log_softmax_backward_(a, x, axis=0), 2)):
        f(x.copy())
        a = x.copy()
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            f(a)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # tall strips: a piece of 256 x 64 floats per array and 33 KB of partials per thread
        per = narr * (64 << 10) + (34 << 10) if shape[0] > 4096 else narr * strip
        assert peak - base <= 2 * per + (16 << 10), (narr, peak - base)


# prelu's backward stages blocks of rows too; its dL/dalpha sums keep the
# float32 path's order: per chunk of 16384 // C rows (the channel axis last),
# whose blocks one thread takes in order, per row (a channel axis before
# others), per 16384 elements (one slope).  (1101, 240): 17 chunks of 68 rows
# in blocks of 5, two threads' worth.
PRELU_BWD = [((1101, 240), {"axis": 1}), ((300, 37), {"axis": -1}), ((3, 5000), {"axis": 1}),
             ((40, 7, 33), {"axis": 1}), ((1101, 240), {"axis": 0}), ((70000,), {}), ((5, 3), {})]


@pytest.mark.parametrize("case", range(len(PRELU_BWD)), ids=lambda i: f"{PRELU_BWD[i][0]}-{PRELU_BWD[i][1]}")
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_prelu_backward_stages_blocks_with_the_same_sums(fmt, case, monkeypatch):
    import fastact._arrays as arrays
    import fastact._families.driver as driver
    dtype, _ = DTYPES[fmt]
    shape, kw = PRELU_BWD[case]
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    xs = x.reshape(-1)[:x.size // 2:7]
    xs[:] = every(dtype)[1][:xs.size]           # NaNs, infinities, subnormals, zeros
    g = rng.standard_normal(shape).astype(dtype)
    C = shape[kw["axis"]] if kw else 1
    if len(shape) == 2 and kw.get("axis") in (1, -1):
        # column 0 sums the order itself: per chunk a product of 3.6e9 and its
        # negation, then tiny ones (2^-48), which only count after the pair
        # has cancelled; a chunk split between threads would lose some
        r = np.arange(shape[0]) % (16384 // C)
        x[:, 0] = np.where(r < 2, -60000.0, -2.0 ** -24)
        g[:, 0] = np.where(r == 0, 60000.0, np.where(r == 1, -60000.0, 2.0 ** -24))
    al = rng.uniform(-0.5, 0.5, C).astype(dtype) if kw else 0.25
    with np.errstate(all="ignore"):
        want_x, want_a = fastact.prelu_backward(_staged(g), _staged(x), alpha=_staged(np.asarray(al)) if kw
                                                else al, n_threads=1, **kw)
        want = np.empty(shape, dtype)
        _store(want, want_x)
        staged_sizes = []
        real = arrays._staged
        monkeypatch.setattr(driver, "_staged", lambda a, *r, **k: (staged_sizes.append(a.size), real(a, *r, **k))[1])
        for n in (1, 2):
            gx, ga = fastact.prelu_backward(g, x, alpha=al, n_threads=n, **kw)
            gi = g.copy()
            gi_, ga_ = fastact.prelu_backward_(gi, x, alpha=al, n_threads=n, **kw)
            assert gi_ is gi
            for got, gota in ((gx, ga), (gi, ga_)):
                assert got.dtype == dtype and (bits(got) == bits(want)).all(), n
                assert gota.dtype == want_a.dtype == np.float32
                assert gota.shape == np.shape(want_a) and (np.asarray(gota).view(np.uint32)
                                                           == np.asarray(want_a).view(np.uint32)).all(), n
        assert not staged_sizes, "staged whole"


@pytest.mark.parametrize("shape", [(1101, 240), (300, 37), (3, 5000), (7,), (40, 20000)], ids=str)
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_bias_act_backward_stages_blocks_with_the_same_sums(fmt, shape, monkeypatch):
    """bias_act's backward stages blocks of rows; grad_bias sums the float32
    grad_x in float64 per chunk of 16384 // C rows in row order, then over the
    chunks, whatever the thread count (the float32 path's definition)."""
    import fastact._arrays as arrays
    import fastact._families.bias as bias_mod
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(14)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    xs = x.reshape(-1)[:x.size // 2:7]
    xs[:] = every(dtype)[1][:xs.size]
    g = rng.standard_normal(shape).astype(dtype)
    C = shape[-1]
    rpc = bias_mod._bias_rpc(x.size // C, C)
    b = rng.standard_normal(C).astype(dtype)
    if len(shape) == 2:
        # column 0 sums the order itself (as in the prelu test above): per
        # chunk gelu's grad_x 60000 and its negation (x = 10), then tiny ones
        # (x = -13: about 1e-36), which only count after the pair cancelled
        r = np.arange(shape[0]) % rpc
        g[:, 0] = np.where(r == 0, 60000.0, np.where(r == 1, -60000.0, 1.0))
        x[:, 0] = np.where(r < 2, 10.0, -13.0)
        b[0] = 0
    staged_sizes = []
    real = arrays._staged
    monkeypatch.setattr(bias_mod, "_staged", lambda a, *r, **k: (staged_sizes.append(a.size), real(a, *r, **k))[1])
    with np.errstate(all="ignore"):
        for act, kw in (("linear", {}), ("gelu", {}), ("sigmoid", {"y": True})):
            if kw:
                y = fastact.bias_act(x, b, act=act)
                args32, args = dict(y=_staged(y)), dict(y=y)
            else:
                args32, args = dict(x=_staged(x)), dict(x=x)
            gx32, _ = fastact.bias_act_backward(_staged(g), bias=_staged(b), act=act, n_threads=1, **args32)
            want = np.empty(shape, dtype)
            _store(want, gx32)
            rows = gx32.reshape(-1, C).astype(np.float64)
            total = np.zeros(C)
            for c0 in range(0, rows.shape[0], rpc):
                acc = np.zeros(C)
                for row in rows[c0:c0 + rpc]:
                    acc += row
                total += acc
            total[np.isnan(total)] = np.nan         # the default quiet NaN
            want_b = total.astype(dtype)
            for n in (1, 2):
                del staged_sizes[:]
                gx, gb = fastact.bias_act_backward(g, bias=b, act=act, n_threads=n, **args)
                gi = g.copy()
                gi_, gbi = fastact.bias_act_backward_(gi, bias=b, act=act, n_threads=n, **args)
                assert gi_ is gi and not staged_sizes, (act, n)
                for got, gotb in ((gx, gb), (gi, gbi)):
                    assert got.dtype == gotb.dtype == dtype and (bits(got) == bits(want)).all(), (act, n)
                    assert (bits(gotb) == bits(want_b)).all(), (act, n)


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_slopes_and_bias_of_the_half_formats_are_taken(fmt):
    """A bias or alpha array of x's half format is widened exactly, as
    PyTorch takes them in the tensor's own dtype."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 8)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype)
    al = rng.uniform(0, 0.5, 8).astype(dtype)
    assert (bits(fastact.bias_act(x, b, act="silu")) ==
            bits(fastact.bias_act(x, _staged(b), act="silu"))).all()
    assert (bits(fastact.prelu(x, al, axis=1)) == bits(fastact.prelu(x, _staged(al), axis=1))).all()
    gx, ga = fastact.prelu_backward(x, x, alpha=al, axis=1)
    gx32, ga32 = fastact.prelu_backward(x, x, alpha=_staged(al), axis=1)
    assert (bits(gx) == bits(gx32)).all() and (bits(ga) == bits(ga32)).all()


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_staged_parameters_inside_the_output_are_read_before_it_is_written(fmt):
    """A prelu slope or a softmax mask that is a view of the output: every
    block sees the values from before the call (as float32 arrays do):
    blocks of 64 rows of 32."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((210, 32)).astype(dtype)
    x[0] = -np.abs(x[0]) / 4           # slopes in (-1, 0]: row 0 changes when written
    want = bits(staged(lambda a: fastact.prelu(a, a[0].copy(), axis=1), dtype, x))
    a = x.copy()
    fastact.prelu_(a, a[0], axis=1)
    assert (bits(a) == want).all()
    a = x.copy()
    fastact.prelu_(a, a[0, :1])
    assert (bits(a) == bits(staged(lambda v: fastact.prelu(v, v[0, :1].copy()), dtype, x))).all()
    o = np.zeros_like(x)
    o[0] = x[0]
    fastact.prelu(x, o[0], axis=1, out=o)
    assert (bits(o) == want).all()
    a = x.copy()
    mask = a.view(np.uint8)[0, :32]     # the bytes of row 0's first 16 elements
    mask[:] = rng.integers(0, 2, 32)
    mask[0] = 1
    want = bits(staged(lambda v: fastact.softmax(v, where=mask.astype(bool)), dtype, a))
    fastact.softmax_(a, where=mask.view(bool))
    assert (bits(a) == want).all()


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_staged_out_and_layouts(fmt):
    """out= given, interleaved pairs with inner axes, a broadcast prelu
    slope, and an unaligned out (staged whole, same bits); blocks of 51 rows
    of (8, 5) and 102 of (4, 5)."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((130, 8, 5)) * 3).astype(dtype)
    cases = [
        (lambda v, **k: fastact.softmax(v, axis=(1, 2), **k), x.shape),
        (lambda v, **k: fastact.log_softmax(v, axis=1, **k), x.shape),
        (lambda v, **k: fastact.glu(v, axis=1, **k), (130, 4, 5)),
        (lambda v, **k: fastact.swiglu(v, axis=1, interleaved=True, limit=2.0, **k), (130, 4, 5)),
        (lambda v, **k: fastact.bias_act(v, np.linspace(-1, 1, 5).astype(dtype), act="elu", **k), x.shape),
        (lambda v, **k: fastact.prelu(v, np.linspace(0, 0.5, 8).astype(np.float32).reshape(8, 1), **k),
         x.shape),
    ]
    with np.errstate(all="ignore"):
        for i, (fn, shape) in enumerate(cases):
            want = bits(staged(fn, dtype, x))
            assert (bits(fn(x)) == want).all(), i
            o = np.empty(shape, dtype)
            assert fn(x, out=o) is o and (bits(o) == want).all(), i
            raw = np.zeros(o.nbytes + 1, np.uint8)[1:].view(dtype).reshape(shape)   # unaligned
            assert not raw.flags.aligned
            fn(x, out=raw)
            assert (bits(raw) == want).all(), i
        g = rng.standard_normal((130, 4, 5)).astype(dtype)
        f = lambda gg, xx, **k: fastact.swiglu_backward(gg, xx, axis=1, interleaved=True, **k)  # noqa: E731
        want = bits(staged(f, dtype, g, x))
        o = np.empty(x.shape, dtype)
        assert f(g, x, out=o) is o and (bits(o) == want).all()


# Other layouts than C order (F order, strided views, a permuted axis order):
# the row families copy them in their own format, as float32 data are copied,
# never widen them whole (softmax over one axis of F-ordered data runs on the
# transpose, no copy).
SHAPE3 = (12, 10, 8)


def _lay(a, how):
    """a's values (C-contiguous, 3-D) in the layout `how`."""
    if how == "F":
        return np.asfortranarray(a)
    if how == "strided":
        buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        buf[..., ::2] = a
        return buf[..., ::2]
    return np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2)     # "permuted"


def _layout_cases(dtype, rng):
    C = SHAPE3[-1]
    b = rng.standard_normal(C).astype(dtype)
    al = rng.uniform(-0.5, 0.5, SHAPE3[1]).reshape(-1, 1).astype(np.float32)
    mask = rng.random(SHAPE3) < 0.8
    f = fastact
    # (name, forward or backward on (x, g) with **out, the in-place form writing its first argument, out shape)
    half = SHAPE3[:2] + (C // 2,)
    return [
        ("softmax", lambda x, g, **k: f.softmax(x, **k), lambda x, g: f.softmax_(x), SHAPE3),
        ("log_softmax axis 0", lambda x, g, **k: f.log_softmax(x, axis=0, **k),
         lambda x, g: f.log_softmax_(x, axis=0), SHAPE3),
        ("softmax axes (0, 2)", lambda x, g, **k: f.softmax(x, axis=(0, 2), **k),
         lambda x, g: f.softmax_(x, axis=(0, 2)), SHAPE3),
        ("softmax where, scale", lambda x, g, **k: f.softmax(x, axis=1, where=mask, scale=0.5, **k),
         lambda x, g: f.softmax_(x, axis=1, where=mask, scale=0.5), SHAPE3),
        ("softmax_backward y", lambda x, g, **k: f.softmax_backward(g, y=x, **k),
         lambda g, x: f.softmax_backward_(g, y=x), SHAPE3),
        ("log_softmax_backward x axis 1", lambda x, g, **k: f.log_softmax_backward(g, x, axis=1, **k),
         lambda g, x: f.log_softmax_backward_(g, x, axis=1), SHAPE3),
        ("glu", lambda x, g, **k: f.glu(x, **k), None, half),
        ("swiglu interleaved axis 1", lambda x, g, **k: f.swiglu(x, axis=1, interleaved=True, limit=2.0, **k),
         None, (12, 5, 8)),
        ("glu_backward", lambda x, g, **k: f.glu_backward(np.ascontiguousarray(g[..., ::2]), x, **k), None,
         SHAPE3),
        ("geglu_backward (grad in the layout)", lambda x, g, **k: f.geglu_backward(g[..., :C // 2], x, **k),
         None, SHAPE3),
        ("bias_act gelu", lambda x, g, **k: f.bias_act(x, b, act="gelu", **k),
         lambda x, g: f.bias_act_(x, b, act="gelu"), SHAPE3),
        ("bias_act_backward elu", lambda x, g, **k: f.bias_act_backward(g, x, bias=b, act="elu", **k)[0],
         lambda g, x: f.bias_act_backward_(g, x, bias=b, act="elu"), SHAPE3),
        ("bias_act_backward grad_bias", lambda x, g, **k: f.bias_act_backward(g, x, bias=b, act="elu",
                                                                              **k)[1][None, None], None, None),
        ("prelu axis 1", lambda x, g, **k: f.prelu(x, al, axis=1, **k), lambda x, g: f.prelu_(x, al, axis=1),
         SHAPE3),
        ("prelu_backward axis 1", lambda x, g, **k: f.prelu_backward(g, x, alpha=al, axis=1, **k)[0],
         lambda g, x: f.prelu_backward_(g, x, alpha=al, axis=1), SHAPE3),
        ("prelu_backward grad_alpha", lambda x, g, **k: f.prelu_backward(g, x, alpha=al, axis=1,
                                                                        **k)[1].astype(dtype)[None], None, None),
        ("sparsemax axis 1", lambda x, g, **k: f.sparsemax(x, axis=1, **k), lambda x, g: f.sparsemax_(x, axis=1),
         SHAPE3),
        ("sparsemax_backward x", lambda x, g, **k: f.sparsemax_backward(g, x, **k),
         lambda g, x: f.sparsemax_backward_(g, x), SHAPE3),
    ]


@pytest.mark.parametrize("how", ["F", "strided", "permuted"])
@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_families_in_other_layouts_stay_in_their_format(fmt, how, monkeypatch):
    """Out of place, out= in the layout, in place: the staged computation's
    bits, and nothing staged whole in float32."""
    import fastact._arrays as arrays
    import fastact._families.bias as bias
    import fastact._families.driver as driver
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(41)
    x = (rng.standard_normal(SHAPE3) * 3).astype(dtype)
    x.reshape(-1)[::13] = every(dtype)[1][:x.size // 13 + 1]
    g = rng.standard_normal(SHAPE3).astype(dtype)
    staged_sizes = []
    real = arrays._staged
    spy = lambda a, *r, **k: (staged_sizes.append(a.size), real(a, *r, **k))[1]     # noqa: E731
    with np.errstate(all="ignore"):
        cases = _layout_cases(dtype, rng)
        wants = {name: bits(staged(fn, dtype, x, g)) for name, fn, _, _ in cases}
        for mod in (arrays, driver, bias):
            monkeypatch.setattr(mod, "_staged", spy)
        xl, gl = _lay(x, how), _lay(g, how)
        assert not xl.flags.c_contiguous and not gl.flags.c_contiguous
        for name, fn, fn_, oshape in cases:
            want = wants[name]
            got = fn(xl, gl)
            assert got.dtype == dtype and (bits(got) == want).all(), name
            if oshape is not None:
                o = _lay(np.zeros(oshape, dtype), how)
                assert fn(xl, gl, out=o) is o and (bits(o) == want).all(), name + " out="
            if fn_ is not None:
                a, other = (_lay(x, how), gl) if fn_.__code__.co_varnames[0] == "x" else (_lay(g, how), xl)
                fn_(a, other)
                assert (bits(a) == want).all(), name + " in place"
        assert max(staged_sizes, default=0) <= SHAPE3[-1], "staged whole"


@pytest.mark.parametrize("fmt", sorted(DTYPES))
def test_row_families_in_other_layouts_make_no_float32_copy(fmt):
    """A strided view of 1024x1024 half data: a copy in its format and the
    result at most; F order over one axis of softmax: the result alone."""
    dtype, _ = DTYPES[fmt]
    rng = np.random.default_rng(5)
    buf = rng.standard_normal((1024, 2048)).astype(dtype)
    S, F = buf[:, ::2], np.asfortranarray(buf[:, :1024])
    T = np.asfortranarray(buf.reshape(8192, 256)[:, :128])
    n = S.size * 2                                              # bytes of one copy
    bsum = np.zeros(1024, np.float32)
    cases = [(lambda: fastact.softmax(F, axis=1), n), (lambda: fastact.log_softmax(F, axis=0), n),
             (lambda: fastact.softmax(S), 2 * n), (lambda: fastact.bias_act(S, bsum, act="gelu"), 2 * n),
             (lambda: fastact.glu(S), n + n // 2), (lambda: fastact.sparsemax(S, axis=0), 2 * n),
             (lambda: fastact.prelu(S, bsum, axis=1), 2 * n),
             (lambda: fastact.softmax_backward(S, y=S), 3 * n),
             # grad is y with a scale: y copied in the F layout it runs in (8192 rows over axis 0
             # of a C copy would go whole through float32)
             (lambda: fastact.softmax_backward_(T.copy(order="F"), y=T, axis=0, scale=0.5), 2 * n),
             (lambda: (lambda c: fastact.softmax_backward_(c, y=c, axis=0, scale=0.5))(T.copy(order="F")),
              2 * n)]
    for f, _ in cases:
        f()
    slack = 600 << 10       # blocks and strip buffers of two threads, float32 slopes, sums
    tracemalloc.start()
    try:
        for i, (f, size) in enumerate(cases):
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            y = f()
            _, peak = tracemalloc.get_traced_memory()
            assert peak - base < size + slack, (i, peak - base, size)
            del y
    finally:
        tracemalloc.stop()
