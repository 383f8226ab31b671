"""The activation table: one row per public activation.

Everything public is derived from this table: the four functions of each
activation (NAME, NAME_, NAME_backward, NAME_backward_), their signatures and
docstrings, argument checks, `fastact.get(name)` and `fastact.ACTIVATIONS`.
A row maps the user's parameters onto one native kernel (src/fa_kernels.h)
and up to four numbers the kernel reads (p0..p3).
"""
import math
import sys
from fractions import Fraction
from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np

INF = math.inf


class Param(NamedTuple):
    name: str
    default: object
    # real: finite; bound: not NaN, +-inf allowed (a one-sided clip); pos: > 0;
    # nonneg: >= 0; nonzero: finite and != 0; max: >= 0, inf or None for none;
    # limit: > 0, inf or None for none; bool: a bool;
    # approx: 'none' | 'tanh'; axis: an int; alpha: prelu's slope (scalar or array);
    # axes: an int or a tuple of ints; where: a boolean mask or None; scale: finite
    kind: str
    doc: str
    kwonly: bool = False        # keyword-only in the public signatures


class Activation(NamedTuple):
    name: str
    params: Tuple[Param, ...]
    kind: str                   # elementwise | softmax | prelu | gated
    # (param values...) -> (kernel name, (p0, p1, p2, p3)); may raise ValueError
    kernel: Optional[Callable]
    # (checked param values...) -> None when the backward may be given y
    # instead of x (y then determines f'(x) for every x), else the reason,
    # naming the parameter that prevents it
    y_ok: Callable
    cost: str                   # cheap (memory-bound) | transc (compute-bound)
    formula: str
    pytorch: str                # the PyTorch equivalent, for users porting models
    # README API table cells: the PyTorch / Keras / JAX equivalents, the
    # backward-from-y= condition in words (empty: "yes"/"no" from y_ok), and
    # the parameters cell when it is more than the defaults
    peers: str = ""
    y_doc: str = ""
    params_doc: str = ""
    # for the tests: max ULP error (float32, float64) of the forward against
    # fastact.reference over the accuracy sweeps, and the parameter sets
    # exercised beyond the defaults
    ulp: Tuple[float, float] = (0.0, 0.0)
    cases: Tuple[dict, ...] = ()
    # for the tests, required of every element-wise row (None: not filled in);
    # each is a constant or a function of the parameter values giving it:
    # kinks: ((x0, f'(x0)), ...), every point where the formula or its kernel
    # switches branch, with the derivative the backward returns there (the
    # one-sided value PyTorch takes); () for one formula on the whole line
    kinks: object = None
    # roots: the isolated points where f' is 0 (crossing or touching), to
    # 1e-9; where relative accuracy of the backward is unattainable
    roots: object = None
    # zero_sign: (f(-0.0), f(+0.0)), signs included (_KEEPS: -0.0, +0.0)
    zero_sign: object = None


class _Required:
    """The default of a parameter the caller must give (as PyTorch's F.threshold)."""
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


def _p(name, default, kind, doc="", kwonly=False):
    return Param(name, default, kind, doc, kwonly)


def _always(*_):
    return None


def _never(*_):
    return "its derivative is not a function of its output"


def _y_if(cond, reason):
    return None if cond else reason


def _max(mx):
    return INF if mx is None else float(mx)


def _relu_kernel(mx, s, t):
    """The one-select kernel for plain relu, the two-instruction one with a
    max, the short leaky one for a nonzero slope at threshold 0 (and max > 0)."""
    if s == 0 and t == 0:
        return "relu_nomax" if _max(mx) == INF else "relu0", (_max(mx), 0.0, 0.0, 0.0)
    if t == 0 and _max(mx) > 0:
        return "leaky", (_max(mx), s, 0.0, 0.0)
    return "relu", (_max(mx), s, t, 0.0)


def _hardtanh_kernel(lo, hi):
    if lo > hi:
        raise ValueError(f"min ({lo}) must be <= max ({hi})")
    return "hardtanh", (lo, hi, 0.0, 0.0)


def _hard_sigmoid_kernel(slope, offset):
    if slope == 0:      # the constant clip(offset, 0, 1), also at +-inf (0*inf is NaN)
        c = min(max(offset, 0.0), 1.0)
        return "hardtanh", (c, c, 0.0, 0.0)
    return "hard_sigmoid", (slope, offset, 0.0, 1.0)     # p2, p3: the clamp's bounds


# SELU's constants (Klambauer et al. 2017) as float64, the ONNX Selu defaults
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
# scale*alpha of the exact constants, rounded once: one ulp above the product
# of the float64 values above, and what selu has always used
_SELU_LA = float.fromhex("0x1.c212cc640f031p+0")


def _selu_kernel(alpha, scale):
    """p0 = scale, p1 = scale*alpha rounded once (the exact constants' product
    for the default pair, so the defaults keep their results bit for bit)."""
    if alpha == SELU_ALPHA and scale == SELU_SCALE:
        return "selu", (scale, _SELU_LA, 0.0, 0.0)
    la = Fraction(alpha) * Fraction(scale)
    if abs(la) > Fraction(sys.float_info.max):
        raise ValueError(f"alpha*scale ({alpha!r}*{scale!r}) is out of the float range")
    return "selu", (scale, float(la), 0.0, 0.0)


def _gelu_kernel(approximate):
    return ("gelu_erf" if approximate == "none" else "gelu_tanh"), (0.0, 0.0, 0.0, 0.0)


# The gated rows map their values to (kernel name, gate loop, (p0, p1, p2),
# interleaved); the gate loops are named as in src/fa_kernels.h (FA_GATES).
_NO_GATE_P = (0.0, 0.0, 0.0)


def _swiglu_kernel(ax, alpha, limit, bias, interleaved):
    """Today's silu(a)*b loop for alpha=1 without limit or bias (bit for bit
    what swiglu always computed), else the clamped loop.  bias 0 is passed as
    -0.0, which b + bias leaves exactly b (a -0.0 b included)."""
    if limit == INF:
        limit = None
    if alpha == 1.0 and limit is None and bias == 0:
        return "swiglu", "swiglu", _NO_GATE_P, interleaved
    return "swiglu", "swiglu_clamp", (alpha, INF if limit is None else limit, -0.0 if bias == 0 else bias), interleaved


# zero_sign values: the sign of a zero input kept, or turned (a negative
# factor times x)
_KEEPS = (-0.0, 0.0)
_TURNS = (0.0, -0.0)
_POS0 = (0.0, 0.0)
# the root of silu', 1 + x*(1 - sigmoid(x)) = 0
_SILU_ROOT = -1.278464542761074


def _simple(kernel):
    """A kernel without parameters."""
    return lambda: (kernel, (0.0, 0.0, 0.0, 0.0))


# softmax, log_softmax, softmin: f(where(mask, scale*x, -inf)) along the axes
_SOFTMAX_PARAMS = (
    _p("axis", -1, "axes", "axis of the rows, or a tuple of axes (softmax over their joint extent)"),
    _p("where", None, "where", "boolean array broadcastable to x: the entries that take part "
                               "(others give 0 / -inf; None: all)", kwonly=True),
    _p("scale", 1.0, "scale", "finite factor applied to x first, f(scale*x) (attention's 1/sqrt(d))",
       kwonly=True))
_SOFTMAX_DOC = "`axis=-1` (int or tuple), `where=None`, `scale=1.0`"

TABLE = (
    Activation("relu", (_p("max", None, "max", "upper clip (None: none)"),
                        _p("negative_slope", 0.0, "real", "slope below threshold"),
                        _p("threshold", 0.0, "real", "values at or below it take the slope branch")),
               "elementwise",
               _relu_kernel,
               lambda mx, s, t: _y_if(s >= 0 and t >= 0 and _max(mx) > t,
                                      "y= needs negative_slope >= 0, threshold >= 0 and max > threshold"),
               "cheap", '`x > threshold ? min(x, max) : negative_slope*(x - threshold)`',
               "F.relu / Keras relu(max_value, negative_slope, threshold)",
               peers='`F.relu` / `relu(negative_slope, max_value, threshold)` / `jax.nn.relu`',
               y_doc='if `negative_slope >= 0`, `threshold >= 0`, `max > threshold`',
               ulp=(2, 1),
               cases=({'max': 6.0}, {'negative_slope': 0.1, 'threshold': 0.5},
                      {'max': 3.0, 'negative_slope': -0.2, 'threshold': -1.0}),
               kinks=lambda mx, s, t: ((t, s), (_max(mx), 0.0)), roots=(),
               zero_sign=lambda mx, s, t: _KEEPS if t <= 0 else (s * -t + 0.0,) * 2),
    Activation("relu6", (), "elementwise", lambda: ("relu0", (6.0, 0.0, 0.0, 0.0)), _always,
               "cheap", '`min(max(x, 0), 6)`', "F.relu6",
               peers='`F.relu6` / `relu6` / `jax.nn.relu6`',
               ulp=(1, 1),
               kinks=((0.0, 0.0), (6.0, 0.0)), roots=(),
               zero_sign=_KEEPS),
    Activation("leaky_relu", (_p("alpha", 0.01, "real", "slope for x <= 0"),
                              _p("max", None, "max", "upper clip (None: none)")),
               "elementwise", lambda a, mx: _relu_kernel(mx, a, 0.0),
               lambda a, mx: _y_if(a >= 0 and _max(mx) > 0, "y= needs alpha >= 0 and max > 0 (or None)"),
               "cheap", '`x > 0 ? min(x, max) : alpha*x`',
               "F.leaky_relu(negative_slope=0.01); Keras default 0.2/0.3!",
               peers='`F.leaky_relu` / `leaky_relu` / `jax.nn.leaky_relu`',
               y_doc='if `alpha >= 0` and `max` is None or > 0',
               ulp=(1, 1),
               cases=({'alpha': 0.2, 'max': 4.0}, {'alpha': -0.5}),
               kinks=lambda a, mx: ((0.0, a), (_max(mx), 0.0)), roots=(),
               zero_sign=_KEEPS),
    Activation("thresholded_relu", (_p("theta", 1.0, "real", "threshold"),), "elementwise",
               lambda th: ("relu", (INF, 0.0, th, 0.0)), lambda th: _y_if(th >= 0, "y= needs theta >= 0"),
               "cheap", '`x > theta ? x : 0`', "Keras ThresholdedReLU",
               peers='`F.threshold(x, theta, 0)` / `ThresholdedReLU` / -',
               y_doc='if `theta >= 0`',
               ulp=(1, 1),
               cases=({'theta': -0.5},),
               kinks=lambda th: ((th, 0.0),), roots=(),
               zero_sign=lambda th: _KEEPS if th <= 0 else _POS0),
    Activation("hardtanh", (_p("min", -1.0, "bound", "lower bound (-inf: none)"),
                            _p("max", 1.0, "bound", "upper bound (inf: none)")),
               "elementwise", _hardtanh_kernel, lambda lo, hi: _y_if(lo < hi, "y= needs min < max"), "cheap",
               '`min(max(x, min), max)`', "F.hardtanh(min_val, max_val)",
               peers='`F.hardtanh` / `hard_tanh` / `jax.nn.hard_tanh`',
               y_doc='if `min < max`',
               ulp=(1, 1),
               cases=({'min': -2.0, 'max': 0.5},),
               kinks=lambda lo, hi: ((lo, 0.0), (hi, 0.0)), roots=(),
               zero_sign=lambda lo, hi: _KEEPS if lo < 0 < hi else (min(max(0.0, lo), hi),) * 2),
    Activation("linear", (), "elementwise", _simple("linear"), _always, "cheap", '`x`', "nn.Identity",
               peers='`nn.Identity` / `linear` / -',
               ulp=(0, 0),
               kinks=(), roots=(),
               zero_sign=_KEEPS),
    Activation("hard_sigmoid", (_p("slope", 0.2, "real", "slope"), _p("offset", 0.5, "real", "offset")),
               "elementwise", _hard_sigmoid_kernel, _always, "cheap",
               '`clip(slope*x + offset, 0, 1)`',
               "Keras 2 / ONNX default; slope=1/6 gives F.hardsigmoid",
               peers='`F.hardsigmoid` / `hard_sigmoid` / `jax.nn.hard_sigmoid` (slope 1/6)',
               ulp=(1, 1),
               cases=({'slope': 0.16666666666666666, 'offset': 0.5},),
               kinks=lambda a, b: () if a == 0 else ((-b / a, 0.0), ((1 - b) / a, 0.0)), roots=(),
               zero_sign=lambda a, b: (min(max(b, 0.0), 1.0),) * 2),
    Activation("softsign", (), "elementwise", _simple("softsign"), _never, "cheap",
               '`x / (1 + \\|x\\|)`', "F.softsign",
               peers='`F.softsign` / `soft_sign` / `jax.nn.soft_sign`',
               ulp=(2, 2),
               kinks=((0.0, 1.0),), roots=(),
               zero_sign=_KEEPS),
    Activation("hard_swish", (), "elementwise", _simple("hard_swish"), _never, "cheap",
               '`x * min(max(x + 3, 0), 6) / 6`', "F.hardswish",
               peers='`F.hardswish` / `hard_silu` / `jax.nn.hard_silu`',
               ulp=(2, 2),
               kinks=((-3.0, 0.0), (3.0, 1.0)), roots=(-1.5,),
               zero_sign=_KEEPS),
    Activation("softshrink", (_p("lambd", 0.5, "nonneg", "half-width of the dead zone"),),
               "elementwise", lambda l: ("shrink", (l, l, 0.0, 0.0)), _always, "cheap",
               '`x > l ? x - l : x < -l ? x + l : 0`', "F.softshrink",
               peers='`F.softshrink` / `soft_shrink` / -',
               ulp=(1, 1),
               cases=({'lambd': 1.5},),
               kinks=lambda l: ((-l, 0.0), (l, 0.0)), roots=(),
               zero_sign=_KEEPS),
    Activation("hardshrink", (_p("lambd", 0.5, "real", "half-width of the dead zone"),),
               "elementwise", lambda l: ("hardshrink", (l, 0.0, 0.0, 0.0)), _never, "cheap",
               '`\\|x\\| > l ? x : 0`', "F.hardshrink",
               peers='`F.hardshrink` / `hard_shrink` / -',
               ulp=(0, 0),
               cases=({'lambd': 1.5},),
               kinks=lambda l: ((-l, 0.0), (l, 0.0)), roots=(),
               zero_sign=lambda l: _POS0 if l >= 0 else _KEEPS),
    Activation("shrink", (_p("lambd", 0.5, "nonneg", "half-width of the dead zone"),
                          _p("bias", 0.0, "real", "subtracted above lambd, added below -lambd")),
               "elementwise", lambda l, b: ("shrink", (l, b, 0.0, 0.0)),
               lambda l, b: _y_if(b <= l, "y= needs bias <= lambd (else y = x - bias is 0 "
                                          "for x = bias, outside the dead zone)"), "cheap",
               '`x > l ? x - bias : x < -l ? x + bias : 0`', "ONNX Shrink; bias=lambd: F.softshrink",
               peers='`F.softshrink` (bias=lambd) / - / - (ONNX `Shrink`)',
               y_doc='if `bias <= lambd`',
               ulp=(1, 1),
               cases=({'lambd': 1.5, 'bias': 0.25}, {'lambd': 0.0}, {'bias': 2.0}),
               kinks=lambda l, b: ((-l, 0.0), (l, 0.0)), roots=(),
               zero_sign=_KEEPS),
    Activation("sparse_plus", (), "elementwise", _simple("sparse_plus"), _always, "cheap",
               '`x <= -1 ? 0 : x >= 1 ? x : (x + 1)^2 / 4`', "no PyTorch op; jax.nn.sparse_plus",
               peers='- / `sparse_plus` / `jax.nn.sparse_plus`',
               ulp=(2, 2),
               kinks=((-1.0, 0.0), (1.0, 1.0)), roots=(),
               zero_sign=(0.25, 0.25)),
    Activation("threshold", (_p("threshold", REQUIRED, "real", "x at or below it becomes value"),
                             _p("value", REQUIRED, "real", "the output at or below threshold")),
               "elementwise", lambda t, v: ("threshold", (t, v, 0.0, 0.0)),
               lambda t, v: _y_if(v <= t, "y= needs value <= threshold (else y = value is also "
                                          "the output of an x above threshold)"), "cheap",
               '`x > threshold ? x : value`', "F.threshold(x, threshold, value)",
               peers='`F.threshold` / `ops.threshold` / -',
               y_doc='if `value <= threshold`',
               params_doc='`threshold, value` (required)',
               ulp=(0, 0),
               cases=({'threshold': 0.5, 'value': -2.0}, {'threshold': -1.0, 'value': 3.0},
                      {'threshold': 0.0, 'value': 0.0}),
               kinks=lambda t, v: ((t, 0.0),), roots=(),
               zero_sign=lambda t, v: _KEEPS if t < 0 else (v, v)),
    Activation("prelu", (_p("alpha", None, "alpha", "slope for x <= 0: scalar, 1-D per channel, or "
                                                    "ndim >= 2 broadcast against x"),
                         _p("axis", 1, "axis", "channel axis of a per-channel alpha")),
               "prelu", None, _never, "cheap", '`x > 0 ? x : alpha[c]*x`',
               "F.prelu(x, weight) (channels on axis 1)",
               peers='`F.prelu` / `PReLU` / -',
               params_doc='`alpha` (scalar, 1-D per channel or broadcast), `axis=1`'),
    # exp-based activations (src/formulas/)
    Activation("sigmoid", (), "elementwise", _simple("sigmoid"), _always, "transc",
               '`1 / (1 + exp(-x))`', "torch.sigmoid",
               peers='`torch.sigmoid` / `sigmoid` / `jax.nn.sigmoid`',
               ulp=(4, 4),
               kinks=(), roots=(),
               zero_sign=(0.5, 0.5)),
    Activation("tanh", (), "elementwise", _simple("tanh"), _always, "transc", '`tanh(x)`', "torch.tanh",
               peers='`torch.tanh` / `tanh` / `jnp.tanh`',
               ulp=(3, 3),
               kinks=(), roots=(),
               zero_sign=_KEEPS),
    Activation("softplus", (_p("beta", 1.0, "pos", "sharpness"),
                            _p("threshold", 20.0, "bound", "linear where beta*x > threshold (inf: never)")),
               "elementwise", lambda b, t: ("softplus", (b, t, 0.0, 0.0)),
               # a finite threshold makes softplus non-injective: just above the
               # switch, y = x (slope 1) is also the value of a smaller x whose
               # slope is sigmoid(beta*x) < 1
               lambda b, t: _y_if(t == INF, "y= needs threshold=inf (with a finite threshold, "
                                            "y near the switch does not determine x)"), "transc",
               '`beta*x > threshold ? x : log1p(exp(beta*x))/beta`', "F.softplus(beta, threshold)",
               peers='`F.softplus` / `softplus` / `jax.nn.softplus` (no threshold)',
               y_doc='if `threshold=inf`',
               ulp=(4, 4),
               cases=({'beta': 2.0, 'threshold': 5.0}, {'beta': 3.0, 'threshold': INF}),
               kinks=lambda b, t: ((t / b, 1 / (1 + math.exp(-t))),) if math.isfinite(t) else (), roots=(),
               zero_sign=lambda b, t: _KEEPS if t < 0 else (math.log(2) / b,) * 2),
    Activation("log_sigmoid", (), "elementwise", _simple("log_sigmoid"), _always, "transc",
               '`-softplus(-x)`', "F.logsigmoid",
               peers='`F.logsigmoid` / `log_sigmoid` / `jax.nn.log_sigmoid`',
               ulp=(4, 4),
               kinks=(), roots=(),
               zero_sign=(-math.log(2),) * 2),
    Activation("elu", (_p("alpha", 1.0, "real", "scale of the negative part"),), "elementwise",
               lambda a: ("elu", (a, 0.0, 0.0, 0.0)), lambda a: _y_if(a >= 0, "y= needs alpha >= 0"), "transc",
               '`x > 0 ? x : alpha*expm1(x)`', "F.elu",
               peers='`F.elu` / `elu` / `jax.nn.elu`',
               y_doc='if `alpha >= 0`',
               ulp=(3, 3),
               cases=({'alpha': 0.5}, {'alpha': -0.3}),
               kinks=lambda a: ((0.0, a),), roots=(),
               zero_sign=lambda a: _KEEPS if math.copysign(1, a) > 0 else _TURNS),
    Activation("selu", (_p("alpha", SELU_ALPHA, "real", "scale of the negative part (before scale)"),
                        _p("scale", SELU_SCALE, "real", "overall scale")), "elementwise",
               _selu_kernel,
               # y > 0 exactly when x > 0 needs alpha >= 0 and scale*x > 0 for
               # every x > 0: scale, rounded to float32 (float16/bfloat16 compute
               # there), above 1/2, else scale*x rounds to 0 at the smallest subnormal
               lambda a, sc: _y_if(a >= 0 and (sc >= 1 or float(np.float32(sc)) > 0.5),
                                   "y= needs alpha >= 0 and scale > 0.5 (a smaller scale rounds "
                                   "scale*x to 0 for the smallest subnormal x > 0)"), "transc",
               '`x > 0 ? scale*x : scale*alpha*expm1(x)`', "F.selu (fixed constants); ONNX Selu",
               peers='`F.selu` / `selu` / `jax.nn.selu`',
               y_doc='if `alpha >= 0` and `scale > 0.5`',
               params_doc='`alpha=1.6733, scale=1.0507` (ONNX Selu)',
               ulp=(3, 3),
               cases=({'alpha': 1.0, 'scale': 2.0}, {'alpha': -0.5, 'scale': 0.75}),
               kinks=lambda a, sc: ((0.0, a * sc),), roots=(),
               zero_sign=lambda a, sc: _KEEPS if math.copysign(1, a * sc) > 0 else _TURNS),
    Activation("celu", (_p("alpha", 1.0, "nonzero", "scale (!= 0; < 0 as PyTorch)"),), "elementwise",
               lambda a: ("celu" if a > 0 else "celu_neg", (a, 1.0 / a, 0.0, 0.0)), _always, "transc",
               '`x > 0 ? x : alpha*expm1(x/alpha)`', "F.celu",
               peers='`F.celu` / `celu` / `jax.nn.celu`',
               params_doc='`alpha=1.0` (not 0)',
               ulp=(3, 3),
               cases=({'alpha': 2.0}, {'alpha': -1.0}, {'alpha': -1.7}, {'alpha': 0.3}),
               kinks=((0.0, 1.0),), roots=(),
               zero_sign=_KEEPS),
    Activation("gelu", (_p("approximate", "none", "approx", "'none' (erf) or 'tanh'"),), "elementwise",
               _gelu_kernel, _never, "transc",
               '`x*Phi(x)`; tanh form `0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))`',
               "F.gelu(approximate=) (JAX/keras.ops default to tanh!)",
               peers='`F.gelu` / `gelu` / `jax.nn.gelu` (tanh default!)',
               params_doc="`approximate='none'` or `'tanh'`",
               ulp=(8, 8),
               cases=({'approximate': 'tanh'},),
               kinks=(), roots=lambda ap: (-0.7517915246935646,) if ap == 'none' else (-0.7524614220710163,),
               zero_sign=_KEEPS),
    Activation("silu", (), "elementwise", _simple("silu"), _never, "transc", '`x * sigmoid(x)`', "F.silu",
               peers='`F.silu` / `silu` / `jax.nn.silu`',
               ulp=(5, 4),
               kinks=(), roots=(_SILU_ROOT,),
               zero_sign=_KEEPS),
    Activation("swish", (_p("beta", 1.0, "real", "sharpness"),), "elementwise",
               lambda b: ("swish", (b, 0.0, 0.0, 0.0)), _never, "transc", '`x * sigmoid(beta*x)`',
               "tf.nn.silu(beta) / oneDNN swish",
               peers='- / - / - (`tf.nn.silu(x, beta)`)',
               ulp=(5, 4),
               cases=({'beta': 1.702}, {'beta': 0.0}, {'beta': -0.5}),
               kinks=(), roots=lambda b: (_SILU_ROOT / b,) if b != 0 else (),
               zero_sign=_KEEPS),
    Activation("mish", (), "elementwise", _simple("mish"), _never, "transc",
               '`x * tanh(softplus(x))`', "F.mish",
               peers='`F.mish` / `mish` / -',
               ulp=(6, 4),
               kinks=(), roots=(-1.1924312145154954,),
               zero_sign=_KEEPS),
    Activation("tanhshrink", (), "elementwise", _simple("tanhshrink"), _never, "transc",
               '`x - tanh(x)`', "F.tanhshrink",
               peers='`F.tanhshrink` / `tanh_shrink` / -',
               ulp=(8, 8),
               kinks=(), roots=(0.0,),
               zero_sign=_KEEPS),
    Activation("squareplus", (_p("b", 4.0, "nonneg", "smoothness (b = 0: relu)"),), "elementwise",
               # sqrt(b) once per call (correctly rounded for a b exact in the dtype)
               lambda b: ("squareplus", (b, math.sqrt(b), 0.0, 0.0)), _always, "transc",
               '`(x + sqrt(x^2 + b)) / 2`', "no PyTorch op; jax.nn.squareplus",
               peers='- / `squareplus` / `jax.nn.squareplus`',
               ulp=(3, 3),
               cases=({'b': 0.0}, {'b': 0.25}, {'b': 1e6}),
               kinks=lambda b: ((0.0, 0.5 if b > 0 else 0.0),), roots=(),
               zero_sign=lambda b: (math.sqrt(b) / 2,) * 2),
    # gated: x is split in two halves a, b along `axis`; output has half the length
    Activation("glu", (_p("axis", -1, "axis", "axis split into the halves a, b"),), "gated",
               lambda ax: ("glu", "glu", _NO_GATE_P, False), _never, "transc", '`a * sigmoid(b)`, `a, b` = the halves of `x` along `axis`', "F.glu(dim=)",
               peers='`F.glu(dim=)` / `glu` / `jax.nn.glu`'),
    Activation("swiglu", (_p("axis", -1, "axis", "axis split into the halves a, b"),
                          _p("alpha", 1.0, "real", "a * sigmoid(alpha * a)", kwonly=True),
                          _p("limit", None, "limit", "clamps a <= limit, -limit <= b <= limit (None: none)",
                             kwonly=True),
                          _p("bias", 0.0, "real", "added to b after the clamp", kwonly=True),
                          _p("interleaved", False, "bool", "a = x[0::2], b = x[1::2] along axis", kwonly=True)),
               "gated", _swiglu_kernel, _never, "transc",
               '`a*sigmoid(alpha*a) * (b + bias)`, `a, b` clamped to `limit`', "F.silu(a) * b",
               peers='`F.silu(a) * b`; GPT-OSS: `alpha=1.702, limit=7, bias=1, interleaved=True`',
               params_doc='`axis=-1, *, alpha=1.0, limit=None, bias=0.0, interleaved=False`'),
    Activation("geglu", (_p("axis", -1, "axis", "axis split into the halves a, b"),
                         _p("approximate", "none", "approx", "gelu form: 'none' (erf) or 'tanh'")),
               "gated", lambda ax, ap: ("geglu", "geglu_erf" if ap == "none" else "geglu_tanh", _NO_GATE_P, False), _never, "transc",
               '`gelu(a) * b`', "F.gelu(a) * b",
               peers='`F.gelu(a) * b`'),
    Activation("softmax", _SOFTMAX_PARAMS, "softmax", None, _always,
               "transc", '`exp(x - max) / sum(exp(x - max))` along `axis`', "F.softmax(dim=)",
               peers='`F.softmax(dim=)` / `softmax` / `jax.nn.softmax`',
               params_doc=_SOFTMAX_DOC, ulp=(4, 4)),
    Activation("log_softmax", _SOFTMAX_PARAMS, "softmax", None, _always,
               "transc", '`x - max - log(sum(exp(x - max)))`', "F.log_softmax(dim=)",
               peers='`F.log_softmax(dim=)` / `log_softmax` / `jax.nn.log_softmax`',
               params_doc=_SOFTMAX_DOC, ulp=(4, 4)),
    Activation("softmin", _SOFTMAX_PARAMS, "softmax", None, _always,
               "transc", '`softmax(-x)`', "F.softmin(dim=)",
               peers='`F.softmin(dim=)` / - / -',
               params_doc=_SOFTMAX_DOC, ulp=(4, 4)),
    Activation("sparsemax", (_p("axis", -1, "axis", "axis of the rows"),), "sparsemax", None, _always,
               "transc", '`max(x - tau, 0)`, `tau` making each row sum to 1', "no PyTorch op; Keras sparsemax",
               peers='- / `sparsemax` / -'),
)

BY_NAME = {a.name: a for a in TABLE}

# Minimum float32 elements per thread (float64: the same bytes, half the
# elements): a call splits once it has 2 x GRAIN.  Set by bench/threads.py
# (bench/results/threads_results.md) where the mean over three placements of
# the data favours two threads: "hot" (each thread finds its half in its own
# cache), "fresh" (in place on data the calling thread has just written, so
# the other thread first pulls its half across cores) and "fresh_new" (the
# same, out of place into a new array).  Splitting below the cutoff costs
# more than it saves on fresh data.
GRAIN = {"cheap": 1 << 17, "transc": 1 << 16}
