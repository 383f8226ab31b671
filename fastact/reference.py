"""Plain-NumPy float64 reference implementations (the test oracle).

Written from the mathematical definitions, for clarity and accuracy rather
than speed: every function takes array-likes, computes in float64 and returns
float64.  `forward(name, x, **params)` and `backward(name, grad, x, **params)`
look functions up by the public activation name; the backward is dL/dx =
grad * f'(x) with fastact's kink conventions (those of PyTorch).
"""
import math

import numpy as np

SQRT2 = math.sqrt(2.0)
# Extended precision for the exp/log/tanh-based references where the platform
# has it (x87 80-bit on x86-64 Linux/macOS-Intel), so float64 results can be
# checked to a few ULP; elsewhere it equals float64 (see EXTENDED).
LD = np.longdouble
EXTENDED = np.finfo(LD).eps < np.finfo(np.float64).eps
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_K = math.sqrt(2.0 / math.pi)
# the tanh-GELU constants as exact as the extended type holds them
_LD_PI = np.longdouble("3.14159265358979323846264338327950288")
GELU_K_LD = np.sqrt(np.longdouble(2) / _LD_PI)
GELU_C_LD = np.longdouble("0.044715")
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _ld(x):
    return np.asarray(x, dtype=LD)


def _nan_keep(x, v):
    """NaN wherever x is NaN (derivatives at NaN inputs are NaN)."""
    return np.where(np.isnan(x), np.nan, v)


def erfc(x):
    x = _f(x)
    return _erfc(x).astype(np.float64) if x.ndim else np.float64(math.erfc(float(x)))


def _phi_cdf(x):
    """Phi(x) = erfc(-x/sqrt2)/2.  The argument's rounding error d is put
    back to first order (erfc' = -2/sqrt(pi) exp(-z^2)), which keeps the far
    tail accurate to a few float64 ULP."""
    x = _f(x)
    z_ld = -_ld(x) / LD(2).__pow__(LD(0.5))
    z = z_ld.astype(np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(np.isfinite(z), (z_ld - z).astype(np.float64), 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        e = erfc(z)
        e = e - d * (2.0 / math.sqrt(math.pi)) * np.exp(-z * z)
    return 0.5 * e


def _sigmoid_ld(x):
    x = _ld(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_f(x):
    """1/(1+exp(-x)) without overflow for any sign."""
    return _sigmoid_ld(x).astype(np.float64)


def _limit(x, v, at_minus_inf, at_plus_inf=None):
    v = np.where(x == -np.inf, at_minus_inf, v)
    if at_plus_inf is not None:
        v = np.where(x == np.inf, at_plus_inf, v)
    return v


# ------------------------------------------------------------ relu family

def relu(x, max=None, negative_slope=0.0, threshold=0.0):
    x = _f(x)
    mx = np.inf if max is None else max
    neg = np.zeros_like(x) if negative_slope == 0 else negative_slope * (x - threshold)
    with np.errstate(invalid="ignore"):
        return np.where(x > threshold, np.minimum(x, mx), np.where(x < threshold, neg, x - threshold))


def relu_d(x, max=None, negative_slope=0.0, threshold=0.0):
    x = _f(x)
    mx = np.inf if max is None else max
    below_max = (x < mx) | (mx == np.inf)     # no max: no upper kink, even at +inf
    return _nan_keep(x, np.where(x > threshold, np.where(below_max, 1.0, 0.0), negative_slope))


def relu6(x):
    return relu(x, max=6.0)


def relu6_d(x):
    return relu_d(x, max=6.0)


def leaky_relu(x, alpha=0.01, max=None):
    return relu(x, max=max, negative_slope=alpha)


def leaky_relu_d(x, alpha=0.01, max=None):
    return relu_d(x, max=max, negative_slope=alpha)


def thresholded_relu(x, theta=1.0):
    x = _f(x)
    return np.where(x > theta, x, np.where(np.isnan(x), x, 0.0))


def thresholded_relu_d(x, theta=1.0):
    x = _f(x)
    return _nan_keep(x, np.where(x > theta, 1.0, 0.0))


def hardtanh(x, min=-1.0, max=1.0):
    return np.clip(_f(x), min, max)


def hardtanh_d(x, min=-1.0, max=1.0):
    x = _f(x)
    return _nan_keep(x, np.where((x > min) & (x < max), 1.0, 0.0))


def linear(x):
    return _f(x).copy()


def linear_d(x):
    return np.ones_like(_f(x))


def hard_sigmoid(x, slope=0.2, offset=0.5):
    with np.errstate(invalid="ignore"):
        return np.clip(slope * _f(x) + offset, 0.0, 1.0)


def hard_sigmoid_d(x, slope=0.2, offset=0.5):
    x = _f(x)
    with np.errstate(invalid="ignore"):
        v = slope * x + offset
    return _nan_keep(x, np.where((v > 0) & (v < 1), slope, 0.0))


def softsign(x):
    x = _f(x)
    with np.errstate(invalid="ignore"):
        return _limit(x, x / (1.0 + np.abs(x)), -1.0, 1.0)


def softsign_d(x):
    x = _f(x)
    return 1.0 / (1.0 + np.abs(x)) ** 2


def hard_swish(x):
    x = _f(x)
    with np.errstate(invalid="ignore"):
        return np.where(x < -3, -0.0, np.where(x > 3, x, x * (x + 3.0) / 6.0))


def hard_swish_d(x):
    x = _f(x)
    return _nan_keep(x, np.where(x <= -3, 0.0, np.where(x < 3, x / 3.0 + 0.5, 1.0)))


def softshrink(x, lambd=0.5):
    x = _f(x)
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, x * 0.0))


def softshrink_d(x, lambd=0.5):
    x = _f(x)
    return _nan_keep(x, np.where((x >= -lambd) & (x <= lambd), 0.0, 1.0))


def hardshrink(x, lambd=0.5):
    x = _f(x)
    return np.where((x >= -lambd) & (x <= lambd), 0.0, x)


def hardshrink_d(x, lambd=0.5):
    return softshrink_d(x, lambd)


def shrink(x, lambd=0.5, bias=0.0):
    """ONNX Shrink; x*0 in the dead zone (softshrink's signed zero)."""
    x = _f(x)
    return np.where(x > lambd, x - bias, np.where(x < -lambd, x + bias, x * 0.0))


def shrink_d(x, lambd=0.5, bias=0.0):
    return softshrink_d(x, lambd)


def sparse_plus(x):
    x = _f(x)
    with np.errstate(invalid="ignore", over="ignore"):
        mid = (_ld(x) + 1) ** 2 / 4
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, mid.astype(np.float64)))


def sparse_plus_d(x):
    x = _f(x)
    return _nan_keep(x, np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, ((_ld(x) + 1) / 2).astype(np.float64))))


def threshold(x, threshold, value):
    x = _f(x)
    return np.where(x > threshold, x, np.where(np.isnan(x), x, value))


def threshold_d(x, threshold, value):
    x = _f(x)
    return _nan_keep(x, np.where(x > threshold, 1.0, 0.0))


def _alpha_b(x, alpha, axis):
    """The slope broadcast against x: ndim >= 2 by NumPy's rule, else one
    slope or one per channel along axis."""
    a = _f(alpha)
    if a.ndim >= 2:
        return a
    if a.ndim == 0 or a.size == 1:
        return a.reshape(())
    shape = [1] * x.ndim
    shape[axis] = a.size
    return a.reshape(shape)


def prelu(x, alpha, axis=1):
    x = _f(x)
    return np.where(x > 0, x, _alpha_b(x, alpha, axis) * x)


def prelu_d(x, alpha, axis=1):
    x = _f(x)
    return _nan_keep(x, np.where(x > 0, 1.0, _alpha_b(x, alpha, axis) * np.ones_like(x)))


def prelu_grad_alpha(grad, x, alpha, axis=1):
    """dL/dalpha: sum of grad*x over x <= 0, per channel, per slope of a
    broadcast alpha (or in total)."""
    x, g, a = _f(x), _f(grad), _f(alpha)
    t = np.where(x > 0, 0.0, x * g)
    if a.ndim >= 2:             # summed over the axes alpha is broadcast along
        lead = x.ndim - a.ndim
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(a.shape) if d == 1)
        return t.sum(axis=axes, keepdims=True).reshape(a.shape)
    if a.ndim == 0 or a.size == 1:
        return t.sum().reshape(a.shape)
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return t.sum(axis=axes)


# -------------------------------------------------------------- exp-based

def sigmoid(x):
    return sigmoid_f(x)


def sigmoid_d(x):
    x = _ld(x)
    e = np.exp(-np.abs(x))
    return (e / (1 + e) ** 2).astype(np.float64)


def tanh(x):
    return np.tanh(_ld(x)).astype(np.float64)


def tanh_d(x):
    x = _ld(x)
    e = np.exp(-2 * np.abs(x))   # sech^2 = 4e/(1+e)^2 keeps the tails accurate
    return (4 * e / (1 + e) ** 2).astype(np.float64)


def softplus(x, beta=1.0, threshold=20.0):
    x = _f(x)
    bx = _ld(x) * LD(beta)
    with np.errstate(invalid="ignore"):
        soft = ((np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / LD(beta)).astype(np.float64)
    return np.where(beta * x > threshold, x, soft)


def softplus_d(x, beta=1.0, threshold=20.0):
    x = _f(x)
    # beta*x in extended precision: its float64 rounding is a relative error of
    # ~|beta*x| ulp in sigmoid(beta*x) far out in the tail (threshold=inf)
    return _nan_keep(x, np.where(beta * x > threshold, 1.0, _sigmoid_ld(LD(beta) * _ld(x)).astype(np.float64)))


def log_sigmoid(x):
    x = _ld(x)
    with np.errstate(invalid="ignore"):
        return (np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))).astype(np.float64)


def log_sigmoid_d(x):
    return sigmoid_f(-_f(x))


def _elu_ld(x, alpha, scale, inv):
    x = _ld(x)
    neg = LD(alpha) * LD(scale) * np.expm1(np.minimum(x, 0) * LD(inv))
    return np.where(x > 0, LD(scale) * x, neg).astype(np.float64)


def _elu_d_ld(x, alpha, scale, inv):
    x = _ld(x)
    neg = LD(alpha) * LD(scale) * LD(inv) * np.exp(np.minimum(x, 0) * LD(inv))
    return _nan_keep(_f(x), np.where(x > 0, LD(scale), neg).astype(np.float64))


def elu(x, alpha=1.0):
    return _elu_ld(x, alpha, 1, 1)


def elu_d(x, alpha=1.0):
    return _elu_d_ld(x, alpha, 1, 1)


_SELU_ALPHA_LD = LD("1.6732632423543772848170429916717")
_SELU_SCALE_LD = LD("1.0507009873554804934193349852946")


def selu(x, alpha=_SELU_ALPHA_LD, scale=_SELU_SCALE_LD):
    """scale*x for x > 0, scale*alpha*expm1(x) else; the defaults are the
    exact constants (fastact's default pair stands for them)."""
    return _elu_ld(x, alpha, scale, 1)


def selu_d(x, alpha=_SELU_ALPHA_LD, scale=_SELU_SCALE_LD):
    return _elu_d_ld(x, alpha, scale, 1)


def celu(x, alpha=1.0):
    return _elu_ld(x, alpha, 1, 1 / LD(alpha))


def celu_d(x, alpha=1.0):
    return _elu_d_ld(x, alpha, 1, 1 / LD(alpha))


def _phi_pdf(x):
    xl = _ld(x)   # x*x exactly enough: exp turns its rounding into relative error
    return (np.exp(-xl * xl / 2) / np.sqrt(2 * _LD_PI)).astype(np.float64)


def gelu(x, approximate="none"):
    x = _f(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if approximate == "tanh":
            xl = _ld(x)
            v = GELU_K_LD * (xl + GELU_C_LD * xl ** 3)
            y = (xl * _sigmoid_ld(2 * v)).astype(np.float64)   # == 0.5x(1+tanh(v)), no cancellation
        else:
            y = x * _phi_cdf(x)
    return _limit(x, y, -0.0)


def gelu_d(x, approximate="none"):
    x = _f(x)
    with np.errstate(invalid="ignore", over="ignore"):
        if approximate == "tanh":
            xl = _ld(x)
            v = GELU_K_LD * (xl + GELU_C_LD * xl ** 3)
            s = _sigmoid_ld(2 * v)           # 0.5(1+tanh v)
            sech2 = 4 * s * _sigmoid_ld(-2 * v)
            d = (s + xl / 2 * sech2 * GELU_K_LD * (1 + 3 * GELU_C_LD * xl * xl)).astype(np.float64)
        else:
            d = _phi_cdf(x) + x * _phi_pdf(x)
    return _limit(x, d, 0.0, 1.0)


def silu(x):
    return swish(x, 1.0)


def silu_d(x):
    return swish_d(x, 1.0)


def swish(x, beta=1.0):
    x = _f(x)
    xl = _ld(x)
    with np.errstate(invalid="ignore"):
        y = (xl * _sigmoid_ld(LD(beta) * xl)).astype(np.float64)
    if beta > 0:
        y = _limit(x, y, -0.0)
    elif beta < 0:
        y = _limit(x, y, -np.inf, 0.0)
    return y


def swish_d(x, beta=1.0):
    x = _f(x)
    bx = LD(beta) * _ld(x)
    with np.errstate(invalid="ignore"):
        d = (_sigmoid_ld(bx) + bx * _sigmoid_ld(bx) * _sigmoid_ld(-bx)).astype(np.float64)
    if beta > 0:
        d = _limit(x, d, 0.0, 1.0)
    elif beta < 0:
        d = _limit(x, d, 1.0, 0.0)
    return d


def _tanh_softplus_ld(xl):
    sp = np.maximum(xl, 0) + np.log1p(np.exp(-np.abs(xl)))
    return np.tanh(sp)


def mish(x):
    x = _f(x)
    xl = _ld(x)
    with np.errstate(invalid="ignore"):
        return _limit(x, (xl * _tanh_softplus_ld(xl)).astype(np.float64), -0.0)


def mish_d(x):
    x = _f(x)
    xl = _ld(x)
    with np.errstate(invalid="ignore"):
        tsp = _tanh_softplus_ld(xl)
        d = (tsp + xl * _sigmoid_ld(xl) * (1 - tsp * tsp)).astype(np.float64)
    return _limit(x, d, 0.0, 1.0)


def _tanh_series_coeffs(n):
    """Coefficients c_k of x - tanh(x) = sum_k c_k x^(2k+3), from the
    Bernoulli numbers (exact fractions, then rounded)."""
    from fractions import Fraction
    B = [Fraction(1)]
    for m in range(1, 2 * n + 4):
        B.append(-sum(math.comb(m + 1, j) * B[j] for j in range(m)) / (m + 1))
    out = []
    for k in range(2, n + 2):           # tanh term x^(2k-1), k >= 2
        c = Fraction(2 ** (2 * k) * (2 ** (2 * k) - 1)) * B[2 * k] / math.factorial(2 * k)
        out.append(float(-c))
    return out


_TS = _tanh_series_coeffs(24)


def tanhshrink(x):
    x = _f(x)
    # x - tanh(x) cancels for small |x|: sum its Taylor series there (24 terms
    # reach float64 accuracy for |x| < 0.5), extended precision elsewhere
    x2 = x * x
    series = np.zeros_like(x)
    for c in reversed(_TS):
        series = series * x2 + c
    series = series * x * x2
    xl = _ld(x)
    with np.errstate(invalid="ignore"):
        direct = (xl - np.tanh(xl)).astype(np.float64)
    return np.where(np.abs(x) < 0.5, series, direct)


def tanhshrink_d(x):
    t = np.tanh(_ld(x))
    return (t * t).astype(np.float64)


def squareplus(x, b=4.0):
    """(x + sqrt(x^2 + b))/2 in extended precision (x^2 does not overflow
    there); b/(2(s - x)) for x <= 0, free of cancellation; relu when b = 0."""
    x = _f(x)
    xl, bl = _ld(x), LD(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(xl * xl + bl)
        v = np.where(x > 0, (xl + s) / 2, bl / (2 * (s - xl)))
    v = np.where(x <= 0, 0.0, v) if b == 0 else v
    return v.astype(np.float64)


def squareplus_d(x, b=4.0):
    """(1 + x/s)/2, as b/(2 s (s - x)) for x <= 0; 1 at +inf; relu's when b = 0."""
    x = _f(x)
    xl, bl = _ld(x), LD(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(xl * xl + bl)
        d = np.where(x > 0, (1 + xl / s) / 2, bl / (2 * s * (s - xl))).astype(np.float64)
    d = _limit(x, d, 0.0, 1.0)
    return _nan_keep(x, np.where(x <= 0, 0.0, d) if b == 0 else d)


# ---------------------------------------------------------------- softmax

def _scaled(x, scale):
    """scale*x rounded to the dtype the kernels compute in (float32 for
    float32, float16 and bfloat16 input, as `F.softmax(x * scale)` does),
    in extended precision."""
    if scale == 1.0:
        return _ld(x)
    a = np.asarray(x)
    ct = np.float64 if a.dtype == np.float64 or a.dtype.kind not in "fV" else np.float32
    if a.dtype.kind == "V":         # ml_dtypes.bfloat16 reports kind 'V'
        a = a.astype(np.float32)
    with np.errstate(all="ignore"):
        return _ld(a.astype(ct) * ct(scale))


def _sm_in(x, axis, where, scale):
    """(where(mask, scale*x, -inf), axis as NumPy takes it, the mask or None)."""
    z = _scaled(x, scale)
    axis = tuple(axis) if isinstance(axis, list) else axis
    w = None
    if where is not None:
        w = np.broadcast_to(np.asarray(where, dtype=bool), z.shape)
        z = np.where(w, z, LD(-np.inf))
    return z, axis, w


def softmax(x, axis=-1, where=None, scale=1.0):
    """softmax(scale*x) over `axis` (an int or a tuple: their joint extent);
    masked-out entries take no part and give 0, a row without entries 0."""
    x, axis, _ = _sm_in(x, axis, where, scale)
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    dead = m == -np.inf                    # all -inf (or empty) rows give 0
    with np.errstate(invalid="ignore"):
        e = np.exp(x - np.where(dead, 0, m))
        s = e.sum(axis=axis, keepdims=True)
        return np.where(dead, 0, e / s).astype(np.float64)


def log_softmax(x, axis=-1, where=None, scale=1.0):
    x, axis, _ = _sm_in(x, axis, where, scale)
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    dead = m == -np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        mm = np.where(dead, 0, m)
        lse = np.log(np.exp(x - mm).sum(axis=axis, keepdims=True))
        return np.where(dead, -np.inf, x - mm - lse).astype(np.float64)


def softmin(x, axis=-1, where=None, scale=1.0):
    """softmax(-x) (PyTorch F.softmin)."""
    return softmax(x, axis, where, -scale)


def softmax_backward(grad, x, axis=-1, where=None, scale=1.0):
    """scale * J^T grad, J the softmax Jacobian at scale*x; 0 where masked."""
    y = softmax(x, axis, where, scale)
    _, axis, w = _sm_in(x, axis, where, scale)
    g = _f(grad) if w is None else np.where(w, _f(grad), 0.0)
    r = scale * (y * (g - (g * y).sum(axis=axis, keepdims=True)))
    return r if w is None else np.where(w, r, 0.0)


def log_softmax_backward(grad, x, axis=-1, where=None, scale=1.0):
    y = softmax(x, axis, where, scale)
    _, axis, w = _sm_in(x, axis, where, scale)
    g = _f(grad) if w is None else np.where(w, _f(grad), 0.0)
    r = scale * (g - y * g.sum(axis=axis, keepdims=True))
    return r if w is None else np.where(w, r, 0.0)


def softmin_backward(grad, x, axis=-1, where=None, scale=1.0):
    return softmax_backward(grad, x, axis, where, -scale)


def sparsemax(x, axis=-1):
    """Euclidean projection of each row onto the simplex (Martins & Astudillo
    2016), by sorting in extended precision: tau = (cumsum(z_sorted)[k] - 1)/k
    for the largest k with z_sorted[k] > tau.  A NaN or +inf in a row gives
    a NaN row; a row of all -inf gives zeros; 0-d x is one row."""
    if np.ndim(x) == 0:
        return sparsemax(np.reshape(x, 1)).reshape(())
    x = np.moveaxis(_ld(x), axis, -1)
    shape = x.shape
    r = x.reshape(-1, shape[-1]) if x.ndim else x.reshape(1, 1)
    out = np.zeros(r.shape, LD)
    for i, row in enumerate(r):
        if np.isnan(row).any() or (row == np.inf).any():
            out[i] = np.nan
            continue
        if row.size == 0 or (row == -np.inf).all():
            continue
        z = row - row.max()
        zs = np.sort(z[np.isfinite(z)])[::-1]
        k = np.arange(1, zs.size + 1)
        cs = np.cumsum(zs)
        ok = 1 + k * zs > cs
        kk = k[ok][-1]
        tau = (cs[kk - 1] - 1) / kk
        out[i] = np.maximum(z - tau, 0)
    return np.moveaxis(out.reshape(shape), -1, axis).astype(np.float64)


def sparsemax_backward(grad, x, axis=-1):
    """s*(g - sum(s*g)/|S|), s = the support; NaN rows stay NaN."""
    if np.ndim(x) == 0:
        return sparsemax_backward(np.reshape(grad, 1), np.reshape(x, 1)).reshape(())
    y = sparsemax(x, axis)
    s = y > 0
    g = _f(grad)
    gs = np.where(s, g, 0.0)
    n = s.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = gs.sum(axis=axis, keepdims=True) / np.where(n > 0, n, 1)
    return np.where(np.isnan(y), np.nan, np.where(s, g - v, 0.0))


# ------------------------------------------------------------ gated, fused

_GATES = {
    "glu": (lambda a, b: a * sigmoid(b), lambda a, b: (sigmoid(b), a * sigmoid_d(b))),
    "swiglu": (lambda a, b: silu(a) * b, lambda a, b: (silu_d(a) * b, silu(a))),
}


def _split(x, axis, interleaved=False):
    """The halves a, b of x along axis, or (interleaved) its even and odd entries."""
    x = _f(x)
    if interleaved:
        ax = axis % x.ndim
        return (x[(slice(None),) * ax + (slice(0, None, 2),)], x[(slice(None),) * ax + (slice(1, None, 2),)])
    a, b = np.split(x, 2, axis=axis)
    return a, b


def _join(da, db, axis, interleaved):
    """The inverse of _split: da, db back into x's layout."""
    if not interleaved:
        return np.concatenate([da, db], axis=axis)
    ax = axis % da.ndim
    return np.stack([da, db], axis=ax + 1).reshape(da.shape[:ax] + (2 * da.shape[ax],) + da.shape[ax + 1:])


def _swiglu_clamped(a, b, alpha, limit, bias):
    """ac = min(a, limit), bc = clip(b, -limit, limit), kept NaN; and the
    masks where the clamps pass the gradient (torch.clamp: at the limit too)."""
    if limit is None:
        return a, b, np.ones(a.shape, bool), np.ones(b.shape, bool)
    ac = np.where(a > limit, limit, a)
    bc = np.where(b > limit, limit, np.where(b < -limit, -limit, b))
    return ac, bc, ~(a > limit), ~((b > limit) | (b < -limit))


def swiglu(x, axis=-1, alpha=1.0, limit=None, bias=0.0, interleaved=False):
    """swiglu with GPT-OSS's options: ac*sigmoid(alpha*ac) * (bc + bias)."""
    a, b = _split(x, axis, interleaved)
    ac, bc, _, _ = _swiglu_clamped(a, b, alpha, limit, bias)
    with np.errstate(all="ignore"):
        return swish(ac, alpha) * (bc + bias)


def swiglu_backward(grad, x, axis=-1, alpha=1.0, limit=None, bias=0.0, interleaved=False):
    """dL/dx of swiglu: zero where a clamp cuts its input off (strictly outside the limits)."""
    a, b = _split(x, axis, interleaved)
    ac, bc, ma, mb = _swiglu_clamped(a, b, alpha, limit, bias)
    g = _f(grad)
    with np.errstate(all="ignore"):
        da = np.where(ma, g * swish_d(ac, alpha) * (bc + bias), 0.0)
        db = np.where(mb, g * swish(ac, alpha), 0.0)
    return _join(da, db, axis, interleaved)


def gated(name, x, axis=-1, approximate="none", **swiglu_params):
    """glu / swiglu / geglu of the two halves of x along axis (swiglu: also
    its alpha, limit, bias, interleaved)."""
    if name == "swiglu" and swiglu_params:
        return swiglu(x, axis, **swiglu_params)
    a, b = _split(x, axis)
    with np.errstate(all="ignore"):
        if name == "geglu":
            return gelu(a, approximate) * b
        return _GATES[name][0](a, b)


def gated_backward(name, grad, x, axis=-1, approximate="none", **swiglu_params):
    """dL/dx (the shape of x) of a gated activation."""
    if name == "swiglu" and swiglu_params:
        return swiglu_backward(grad, x, axis, **swiglu_params)
    a, b = _split(x, axis)
    g = _f(grad)
    with np.errstate(all="ignore"):
        if name == "geglu":
            da, db = gelu_d(a, approximate) * b, gelu(a, approximate)
        else:
            da, db = _GATES[name][1](a, b)
        return np.concatenate([g * da, g * db], axis=axis)


def bias_act(x, bias, act, **params):
    return forward(act, _f(x) + _f(bias), **params)


def bias_act_backward(grad, x, bias, act, **params):
    """(grad_x, grad_bias) for act(x + bias), bias on the last axis."""
    gx = backward(act, grad, _f(x) + _f(bias), **params)
    return gx, gx.reshape(-1, gx.shape[-1]).sum(axis=0)


# ------------------------------------------------------------ look-ups

def forward(name, x, **params):
    """The reference f(x) of activation `name` in float64."""
    with np.errstate(all="ignore"):    # overflow to inf and inf*0 are expected at the edges
        return globals()[name](x, **params)


def derivative(name, x, **params):
    """f'(x) for an element-wise activation."""
    with np.errstate(all="ignore"):
        return globals()[name + "_d"](x, **params)


def _relu_flat(x, max=None, negative_slope=0.0, threshold=0.0):
    """relu's flat pieces: at and above max (above the threshold), at and
    below the threshold when the slope there is 0 (relu_d's pieces)."""
    above = (x >= max) if max is not None and max != np.inf else np.zeros(x.shape, bool)
    return (above & (x > threshold)) | ((x <= threshold) & (negative_slope == 0))


# Where a piecewise activation is flat (constant on the piece that holds x,
# with the derivatives at the kinks as relu'(0) = 0): the gradient there is
# +0 whatever the grad is, NaN and +-inf included, as PyTorch's backward ops
# and JAX's JVPs select it (grad * 0 would be NaN).  Masks are False at NaN x.
_FLAT = {
    "relu": _relu_flat,
    "relu6": lambda x: _relu_flat(x, max=6.0),
    "leaky_relu": lambda x, alpha=0.01, max=None: _relu_flat(x, max, alpha),
    "thresholded_relu": lambda x, theta=1.0: x <= theta,
    "hardtanh": lambda x, min=-1.0, max=1.0: (x <= min) | (x >= max),
    "hard_sigmoid": lambda x, slope=0.2, offset=0.5: ((slope * x + offset <= 0) | (slope * x + offset >= 1)
                                                      | ((slope == 0) & ~np.isnan(x))),
    "hard_swish": lambda x: x <= -3,
    "softshrink": lambda x, lambd=0.5: np.abs(x) <= lambd,
    "hardshrink": lambda x, lambd=0.5: np.abs(x) <= lambd,
    "shrink": lambda x, lambd=0.5, bias=0.0: np.abs(x) <= lambd,
    "sparse_plus": lambda x: x <= -1,
    "threshold": lambda x, threshold, value: x <= threshold,
    "prelu": lambda x, alpha, axis=1: (x <= 0) & (_alpha_b(x, alpha, axis) == 0),
}


def flat(name, x, **params):
    """Where the element-wise activation `name` is flat (see _FLAT): its
    backward gives +0 there for any grad.  All False for the smooth ones."""
    x = _f(x)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.broadcast_to(_FLAT[name](x, **params), x.shape) if name in _FLAT else np.zeros(x.shape, bool)


def backward(name, grad, x, **params):
    """grad * f'(x) in float64, +0 where f is flat (`flat`) whatever the grad
    is (softmax rows: the row-wise backward; prelu: (grad_x, grad_alpha))."""
    if name in ("softmax", "log_softmax", "softmin", "sparsemax"):
        with np.errstate(all="ignore"):
            return globals()[name + "_backward"](grad, x, **params)
    g = _f(grad)
    d = derivative(name, x, **params)
    with np.errstate(invalid="ignore"):
        gx = np.where(flat(name, x, **params), 0.0, g * d)
    if name == "prelu":
        return gx, prelu_grad_alpha(grad, x, **params)
    return gx
