"""swiglu's alpha, limit, bias, interleaved (GPT-OSS's clamped SwiGLU) and
prelu with a slope array broadcast against x (ONNX PRelu)."""
import numpy as np
import pytest

import fastact
from fastact import reference as ref
from fa_testutil import assert_bwd, assert_ulp

DTYPES = [np.float32, np.float64]
IDS = ["f32", "f64"]
GPT_OSS = {"alpha": 1.702, "limit": 7.0, "bias": 1.0, "interleaved": True}
SWIGLU_CASES = [GPT_OSS, dict(GPT_OSS, interleaved=False), {"alpha": 0.5, "limit": 2.0, "bias": -0.5},
                {"alpha": -1.0, "bias": 2.0}, {"limit": 1.5}, {"bias": 3.0, "interleaved": True},
                {"alpha": 0.0, "limit": 0.25, "interleaved": True}]


def _rounded(params, dtype):
    """The parameters as the kernel sees them: rounded to the array's dtype."""
    ct = np.float64 if dtype == np.float64 else np.float32
    return {k: float(ct(v)) if isinstance(v, float) else v for k, v in params.items()}


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _with_specials(rng, shape, dtype, scale=4.0):
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    flat = x.reshape(-1)
    flat[:12] = [0.0, -0.0, 7.0, -7.0, 1.5, -1.5, 2.0, -2.0, 0.25, -0.25, 1e-30, -1e-30][:min(12, flat.size)]
    return x


# ---------------------------------------------------------------- swiglu

@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_swiglu_defaults_keep_the_silu_loop_bit_for_bit(dtype):
    """Without alpha, limit and bias, swiglu is silu(a) * b of the element-wise
    silu kernel, and its backward (g*b)*silu'(a), g*silu(a), bit for bit, with
    the defaults given or not; interleaved pairs give the same bits as the
    halves they are de-interleaved into."""
    rng = np.random.default_rng(3)
    for shape, axis in [((16, 200), -1), ((16, 200), 0), ((4, 6, 10), 1), ((3, 140000), -1)]:
        x = _with_specials(rng, shape, dtype)
        a, b = np.split(x, 2, axis=axis)
        want = fastact.silu(a) * b
        g = rng.standard_normal(want.shape).astype(dtype)
        want_bwd = np.concatenate([fastact.silu_backward(g * b, a), g * fastact.silu(a)], axis=axis)
        for kw in ({}, {"alpha": 1.0, "limit": None, "bias": 0.0, "interleaved": False},
                   {"alpha": 1, "bias": -0.0, "limit": float("inf")}):
            for xv in (x, np.asfortranarray(x)):
                assert np.array_equal(_bits(fastact.swiglu(xv, axis=axis, **kw)), _bits(want)), (shape, kw)
                got = fastact.swiglu_backward(g, xv, axis=axis, **kw)
                assert np.array_equal(_bits(got), _bits(want_bwd)), (shape, kw)
        # interleaved: x[..., 0::2], x[..., 1::2] are the halves
        ax = axis % x.ndim
        xi = np.stack([a, b], axis=ax + 1).reshape(x.shape)
        assert np.array_equal(_bits(fastact.swiglu(xi, axis=axis, interleaved=True)), _bits(want))
        gi = fastact.swiglu_backward(g, xi, axis=axis, interleaved=True)
        da, db = np.split(want_bwd, 2, axis=axis)
        assert np.array_equal(_bits(gi), _bits(np.stack([da, db], axis=ax + 1).reshape(x.shape)))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("params", SWIGLU_CASES, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_swiglu_clamped_matches_reference(params, dtype):
    rng = np.random.default_rng(4)
    rp = _rounded(params, dtype)
    for shape, axis in [((6, 10), -1), ((6, 10), 0), ((3, 8, 5), 1), ((64,), 0), ((140000, 2), 1),
                        ((2, 100002), -1), ((4, 6, 1), 1)]:
        x = _with_specials(rng, shape, dtype)
        for xv in (x, np.asfortranarray(x), x[::-1]):
            what = f"swiglu {params} {shape} axis={axis} {np.dtype(dtype)}"
            y = fastact.swiglu(xv, axis=axis, **params)
            e = ref.swiglu(xv, axis, **rp)
            assert y.shape == e.shape and y.dtype == x.dtype
            assert_ulp(y, e, dtype, 10, what)        # swish (<= 5 ULP) times a rounded (b + bias)
            out = np.empty_like(y)
            assert fastact.swiglu(xv, axis=axis, **params, out=out) is out and np.array_equal(out, y)
            g = rng.standard_normal(y.shape).astype(dtype)
            d = fastact.swiglu_backward(g, xv, axis=axis, **params)
            a_, b_ = ref._split(xv, axis, params.get("interleaved", False))
            scale = ref._join(g * np.maximum(1, np.abs(b_ + rp.get("bias", 0.0))),
                              g * np.maximum(1, np.abs(a_)), axis, params.get("interleaved", False))
            assert_bwd(d, ref.swiglu_backward(g, xv, axis, **rp), scale, dtype, 12, what + " backward")
            for nt in (1, 2):
                assert np.array_equal(fastact.swiglu(xv, axis=axis, **params, n_threads=nt), y)


def _gptoss_numpy(x, alpha=1.702, limit=7.0):
    """GPT-OSS's MLP activation (gpt_oss/torch/model.py, swiglu), transcribed to NumPy float64."""
    x = np.asarray(x, np.float64)
    x_glu, x_linear = x[..., ::2], x[..., 1::2]
    x_glu = np.minimum(x_glu, limit)                # clamp(min=None, max=limit)
    x_linear = np.clip(x_linear, -limit, limit)
    with np.errstate(all="ignore"):             # -inf * 0 at a = -inf: NaN, replaced by the caller
        out_glu = x_glu * (1.0 / (1.0 + np.exp(-alpha * x_glu)))
    return out_glu * (x_linear + 1)


def _assert_near_peer(y, e, z, dtype, what):
    """y within 10 ULP of a peer's e, plus the peer's own error: its
    exp(-alpha*a) carries the rounding of z = alpha*a times |z| (in the
    peer's dtype), which the kernel avoids."""
    z = np.abs(z)
    tol = (10 + 2 * np.where(np.isfinite(z), z, 0)) * np.finfo(dtype).eps * np.abs(e)
    ok = (np.abs(y - e) <= tol + np.finfo(dtype).tiny) | (y == e)
    assert ok.all(), f"GPT-OSS swiglu vs {what}: {np.count_nonzero(~ok)} values beyond 10 + 2|alpha*a| ULP"


def _gptoss_torch(torch, x, alpha=1.702, limit=7.0):
    x_glu, x_linear = x[..., ::2], x[..., 1::2]
    x_glu = x_glu.clamp(min=None, max=limit)
    x_linear = x_linear.clamp(min=-limit, max=limit)
    out_glu = x_glu * torch.sigmoid(alpha * x_glu)
    return out_glu * (x_linear + 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_swiglu_gpt_oss_matches_its_numpy_transcription(dtype):
    rng = np.random.default_rng(5)
    x = _with_specials(rng, (32, 2 * 700), dtype, scale=6.0)
    x.reshape(-1)[12:20] = [8.0, -8.0, 7.0, 100.0, -100.0, np.inf, -np.inf, 6.99]
    y = fastact.swiglu(x, **GPT_OSS)
    alpha = float(np.float32(1.702)) if dtype == np.float32 else 1.702
    e = _gptoss_numpy(x, alpha=alpha)
    # -inf in a: ac*sigmoid(alpha*ac) -> -0 (the limit; the formula's -inf * 0 is NaN)
    e = np.where(np.isneginf(x[..., ::2]), -0.0 * (np.clip(x[..., 1::2], -7, 7) + 1), e)
    assert_ulp(y, e, dtype, 10 if dtype == np.float32 else 1e9, "GPT-OSS swiglu")
    _assert_near_peer(y, e, alpha * np.minimum(x[..., ::2], 7.0), dtype, "the float64 transcription")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_swiglu_gpt_oss_matches_torch(dtype):
    """GPT-OSS's activation in PyTorch: the forward, and its autograd backward
    with inputs on, inside and outside the limits (torch.clamp's gradient
    passes at the limit itself: the mask of the zeros must match)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = _with_specials(rng, (16, 2 * 300), dtype, scale=6.0)
    # pairs (a, b) with a on/around +limit and b on/around +-limit
    edge = np.array([7.0, 7.0, 7.0, -7.0, 7.5, 1.0, 1.0, 7.5, 1.0, -7.5, 6.5, 6.5, -7.0, -7.0, 2.0, 7.0],
                    dtype)
    x.reshape(-1)[:edge.size] = edge
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    xt = torch.tensor(x, dtype=tdt, requires_grad=True)
    yt = _gptoss_torch(torch, xt)
    y = fastact.swiglu(x, **GPT_OSS)
    _assert_near_peer(y, yt.detach().numpy(), 1.702 * np.minimum(x[..., ::2], 7.0), dtype, "torch")
    g = rng.standard_normal(y.shape).astype(dtype)
    yt.backward(torch.tensor(g, dtype=tdt))
    gt = xt.grad.numpy()
    d = fastact.swiglu_backward(g, x, **GPT_OSS)
    assert np.array_equal(d == 0, gt == 0), "the clamps' zero-gradient sets differ from torch's"
    scale = np.abs(np.repeat(g, 2, axis=-1)) * np.maximum(1, np.abs(x)) * 2
    np.testing.assert_array_less(np.abs(d - gt), 16 * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny)
    # at exactly the limit the gradient passes; strictly outside it is 0
    assert d.reshape(-1)[0] != 0 and d.reshape(-1)[1] != 0     # a = 7, b = 7
    assert d.reshape(-1)[3] != 0                                # b = -7
    assert d.reshape(-1)[4] == 0 and d.reshape(-1)[7] == 0 and d.reshape(-1)[9] == 0   # 7.5, -7.5


@pytest.mark.parametrize("dtype", [np.float16, "bfloat16"])
def test_swiglu_half_types_are_float32_rounded(dtype):
    if dtype == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        dtype = ml_dtypes.bfloat16
    rng = np.random.default_rng(7)
    x = _with_specials(rng, (8, 64), np.float32).astype(dtype)
    for kw in (GPT_OSS, {}):
        y = fastact.swiglu(x, **kw)
        assert y.dtype == x.dtype
        assert np.array_equal(_bits(y), _bits(fastact.swiglu(x.astype(np.float32), **kw).astype(dtype)))
        g = rng.standard_normal(y.shape).astype(dtype)
        d = fastact.swiglu_backward(g, x, **kw)
        want = fastact.swiglu_backward(g.astype(np.float32), x.astype(np.float32), **kw).astype(dtype)
        assert np.array_equal(_bits(d), _bits(want))


def test_swiglu_nan_keeps_its_bits():
    x = np.array([[np.nan, 1.0, 8.0, np.nan]], np.float32)
    x.view(np.uint32)[0, 0] = 0x7fc01234
    x.view(np.uint32)[0, 3] = 0xffc00042
    y = fastact.swiglu(x, **GPT_OSS)
    assert y.view(np.uint32)[0, 0] == 0x7fc01234 and y.view(np.uint32)[0, 1] == 0xffc00042


def test_swiglu_checks_come_first():
    x = np.ones((3, 6), np.float32)
    out = np.full((3, 3), 5.0, np.float32)
    g = np.ones((3, 3), np.float32)
    before = (x.tobytes(), out.tobytes(), g.tobytes())
    cases = [({"limit": 0.0}, ValueError, "swiglu: limit must be > 0 or None, got 0.0"),
             ({"limit": -1.0}, ValueError, "limit must be > 0"),
             ({"limit": float("nan")}, ValueError, "limit must not be NaN"),
             ({"limit": True}, TypeError, "limit must be a real number, got bool"),
             ({"limit": "7"}, TypeError, "limit must be a real number"),
             ({"alpha": float("inf")}, ValueError, "alpha must be finite"),
             ({"alpha": float("nan")}, ValueError, "alpha must not be NaN"),
             ({"alpha": 1j}, TypeError, "alpha must be a real number"),
             ({"bias": float("-inf")}, ValueError, "bias must be finite"),
             ({"bias": None}, TypeError, "bias must be a real number"),
             ({"interleaved": 1}, TypeError, "swiglu: interleaved must be a bool, got int"),
             ({"interleaved": "yes"}, TypeError, "interleaved must be a bool")]
    for kw, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fastact.swiglu(x, **kw, out=out)
        with pytest.raises(exc, match=msg.replace("swiglu:", "swiglu_backward:")):
            fastact.swiglu_backward(g, x, **kw, out=x)
    for il in (False, True):
        with pytest.raises(ValueError, match="swiglu: x has odd length 5 on axis 1"):
            fastact.swiglu(np.ones((3, 5), np.float32), interleaved=il, limit=7.0)
        with pytest.raises(ValueError, match="swiglu_backward: x has odd length 3 on axis 0"):
            fastact.swiglu_backward(np.ones((1, 6), np.float32), np.ones((3, 6), np.float32), axis=0,
                                    interleaved=il)
    with pytest.raises(TypeError, match="swiglu.*unexpected keyword argument 'clamp'"):
        fastact.swiglu(x, clamp=7.0)
    assert (x.tobytes(), out.tobytes(), g.tobytes()) == before
    # numpy scalars are accepted, and equal values take the same result
    y = fastact.swiglu(x, alpha=np.float32(1.702), limit=np.float64(7.0), bias=np.int64(1),
                       interleaved=np.True_)
    assert np.array_equal(y, fastact.swiglu(x, alpha=float(np.float32(1.702)), limit=7.0, bias=1.0,
                                            interleaved=True))


def test_swiglu_fast_path_matches_general_path():
    """The C fast path (a new array, C-contiguous x) gives the general path's
    bits for every parameter set, and takes a spec only for the same values."""
    rng = np.random.default_rng(9)
    x = _with_specials(rng, (6, 8, 10), np.float32)
    for params in SWIGLU_CASES:
        for axis in (-1, 0, 1):
            want = fastact.swiglu(np.asfortranarray(x), axis=axis, **params)
            for _ in range(3):
                assert np.array_equal(fastact.swiglu(x, axis=axis, **params), want)
    # warm, then values equal to the cached ones but of another type
    fastact.swiglu(x, limit=7.0, interleaved=True)
    with pytest.raises(TypeError, match="interleaved must be a bool"):
        fastact.swiglu(x, limit=7.0, interleaved=1)
    with pytest.raises(TypeError, match="limit must be a real number, got bool"):
        fastact.swiglu(x, limit=True, alpha=1.0)


# ---------------------------------------------------------------- prelu

def _onnx_prelu(x, slope):
    """ONNX PRelu: slope * x for x < 0, x for x >= 0, slope broadcast to x (float64)."""
    x = np.asarray(x, np.float64)
    return np.where(x < 0, np.asarray(slope, np.float64) * x, x)


def _sum_to(t, shape):
    lead = t.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1)
    return t.sum(axis=axes, keepdims=True).reshape(shape)


BROADCAST = [((4, 3, 5, 6), (3, 1, 1)), ((4, 3, 5, 6), (1, 3, 1, 1)), ((4, 3, 5, 6), (3, 5, 6)),
             ((4, 3, 5, 6), (3, 1, 6)), ((4, 3, 5, 6), (5, 1)), ((4, 3, 5, 6), (4, 1, 1, 6)),
             ((4, 3, 5, 6), (1, 1)), ((7, 9), (7, 1)), ((7, 9), (1, 9)), ((7, 9), (7, 9)),
             ((2, 70000, 2), (70000, 1)), ((3, 2, 50000), (3, 1, 50000))]


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("xs,als", BROADCAST, ids=[f"{x}-{a}" for x, a in BROADCAST])
def test_prelu_broadcast_alpha(xs, als, dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(xs) * 2).astype(dtype)
    x.reshape(-1)[:5] = [0.0, -0.0, np.inf, -np.inf, 1e-30]
    alpha = rng.uniform(-0.5, 0.5, als).astype(dtype)
    g = rng.standard_normal(xs).astype(dtype)
    # one rounding in the dtype: exact; prelu(+-0) = +-0 and alpha*x + 0 (as leaky_relu)
    want = np.where(x > 0, x, np.where(x < 0, alpha * x + dtype(0), x))
    for xv in (x, np.asfortranarray(x)):
        y = fastact.prelu(xv, alpha)
        assert y.dtype == x.dtype and np.array_equal(_bits(y), _bits(want))
        np.testing.assert_array_equal(y, _onnx_prelu(xv, alpha).astype(dtype))   # ONNX (0 == -0)
        xi = xv.copy(order="K")
        assert fastact.prelu_(xi, alpha) is xi and np.array_equal(_bits(xi), _bits(want))
        out = np.empty_like(xv)
        assert fastact.prelu(xv, alpha, out=out) is out and np.array_equal(_bits(out), _bits(want))
    x = np.where(np.isinf(x), dtype(3), x)         # finite grad_alpha sums
    gx_want = np.where(x > 0, g, alpha * g)
    ga_ref = _sum_to(np.where(x > 0, 0.0, x.astype(np.float64) * g), als)
    assert np.allclose(ref.prelu_grad_alpha(g, x, alpha), ga_ref, rtol=1e-12, atol=1e-12)
    results = []
    for nt in (1, 2):
        gx, ga = fastact.prelu_backward(g, x, alpha=alpha, n_threads=nt)
        assert np.array_equal(_bits(gx), _bits(gx_want)) and ga.shape == als and ga.dtype == x.dtype
        assert np.allclose(ga, ga_ref, rtol=4 * np.finfo(dtype).eps,
                           atol=4 * np.finfo(dtype).eps * np.abs(x * g).sum())
        results.append(ga)
        gi = g.copy()
        r = fastact.prelu_backward_(gi, x, alpha=alpha, n_threads=nt)
        assert r[0] is gi and np.array_equal(_bits(gi), _bits(gx_want))
        assert np.array_equal(_bits(r[1]), _bits(ga))
    assert np.array_equal(_bits(results[0]), _bits(results[1])), "grad_alpha depends on the thread count"


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_prelu_channel_broadcast_equals_per_channel(dtype):
    """alpha (C, 1, 1) on NCHW is today's 1-D alpha on axis 1, bit for bit
    (forward, grad_x, grad_alpha); a (1, ..., 1) alpha is the scalar slope."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 4, 33, 7)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    a1 = rng.uniform(0, 0.3, 4).astype(dtype)
    assert np.array_equal(_bits(fastact.prelu(x, a1.reshape(4, 1, 1))), _bits(fastact.prelu(x, a1)))
    gx1, ga1 = fastact.prelu_backward(g, x, alpha=a1)
    gx2, ga2 = fastact.prelu_backward(g, x, alpha=a1.reshape(4, 1, 1))
    assert np.array_equal(_bits(gx1), _bits(gx2)) and np.array_equal(_bits(ga1), _bits(ga2.reshape(4)))
    s = np.array([[0.2]], dtype)
    assert np.array_equal(_bits(fastact.prelu(x, s)), _bits(fastact.prelu(x, 0.2 if dtype == np.float64
                                                                          else float(np.float32(0.2)))))
    gx, ga = fastact.prelu_backward(g, x, alpha=s)
    gx0, ga0 = fastact.prelu_backward(g, x, alpha=s.reshape(()))
    assert ga.shape == (1, 1) and np.array_equal(_bits(gx), _bits(gx0)) and ga[0, 0] == ga0


def test_prelu_broadcast_matches_torch():
    """torch's F.prelu takes one slope per channel (axis 1); the (C, 1, 1)
    broadcast form gives its forward and both gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 4, 5, 6))
    g = rng.standard_normal(x.shape)
    w = rng.uniform(0, 0.5, 4)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.prelu(xt, wt)
    yt.backward(torch.tensor(g))
    y = fastact.prelu(x, w.reshape(4, 1, 1))
    gx, ga = fastact.prelu_backward(g, x, alpha=w.reshape(4, 1, 1))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(gx, xt.grad.numpy())
    np.testing.assert_allclose(ga.reshape(4), wt.grad.numpy(), rtol=1e-13)


def test_prelu_broadcast_checks_come_first():
    x = np.ones((2, 3, 4), np.float32) * -1
    g = np.ones_like(x)
    before = (x.tobytes(), g.tobytes())
    for bad in (np.ones((2, 4)), np.ones((3, 3, 1)), np.ones((1, 2, 3, 4))):
        with pytest.raises(ValueError, match="prelu_: alpha of shape .* does not broadcast to x's shape"):
            fastact.prelu_(x, bad)
        with pytest.raises(ValueError, match="prelu_backward_: alpha of shape"):
            fastact.prelu_backward_(g, x, alpha=bad)
    with pytest.raises(ValueError, match="prelu_: alpha must not contain NaN"):
        fastact.prelu_(x, np.full((3, 1), np.nan))
    with pytest.raises(ValueError, match="prelu_: axis 7 is out of range"):
        fastact.prelu_(x, np.ones((3, 1)), axis=7)
    with pytest.raises(TypeError, match="prelu_: alpha must be real"):
        fastact.prelu_(x, np.ones((3, 1), bool))
    assert (x.tobytes(), g.tobytes()) == before
    # an alpha inside the array written in place is read before it is overwritten
    buf = np.linspace(-2, 2, 24).reshape(2, 3, 4)
    al = buf[0, :, :1]          # (3, 1), a view of buf
    want = fastact.prelu(buf, al.copy())
    assert np.array_equal(fastact.prelu_(buf, al), want)


@pytest.mark.parametrize("dtype", [np.float16, "bfloat16"])
def test_prelu_broadcast_half_types(dtype):
    if dtype == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        dtype = ml_dtypes.bfloat16
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    a = rng.uniform(0, 0.5, (4, 1)).astype(dtype).astype(np.float32)  # bfloat16 alpha arrays: not taken
    want = fastact.prelu(x.astype(np.float32), a.astype(np.float32)).astype(dtype)
    assert np.array_equal(_bits(fastact.prelu(x, a)), _bits(want))
    gx, ga = fastact.prelu_backward(x, x, alpha=a)
    gw, gaw = fastact.prelu_backward(x.astype(np.float32), x.astype(np.float32), alpha=a.astype(np.float32))
    assert np.array_equal(_bits(gx), _bits(gw.astype(dtype))) and ga.shape == (4, 1)
    # grad_alpha as the per-channel form gives it (the float64 sums rounded to float32)
    ga1 = fastact.prelu_backward(x, x, alpha=a.reshape(4))[1]
    assert ga.dtype == ga1.dtype and np.array_equal(_bits(ga.reshape(4)), _bits(ga1))
    assert np.array_equal(_bits(ga), _bits(gaw.astype(ga.dtype)))
