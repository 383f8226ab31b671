"""prelu: one slope (leaky_relu's kernel), one per channel along an axis, or
a slope array broadcast against x (ONNX PRelu); its backward also returns
dL/dalpha, summed in float64 in a fixed order.  A broadcast slope runs on the
per-channel loops: x is viewed as (outer, C, inner) around the span of axes
where alpha is not 1, C the span's size (alpha broadcast over that span)."""
import math
from typing import NamedTuple, Optional

import numpy as np

from .. import _front
from .._params import ElementwiseSpec, Mode, _check_param, _kernel_id
from .._arrays import _c_dest, _half_code, _is_bf16
from .elementwise import _remember_fast
from .._table import GRAIN, _relu_kernel


class PreluSpec(NamedTuple):
    alpha: np.ndarray            # checked, finite: 0-d or 1-D (the C slopes of the channel span)
    axis: Optional[int]          # the first axis of the channel span, None for one slope
    y_reason: Optional[str]      # why y= cannot stand for x (grad_alpha needs x)
    grain: int
    last: Optional[int] = None   # the last axis of the channel span (default: axis)
    ashape: Optional[tuple] = None      # the shape of the user's alpha, grad_alpha's shape
    # a broadcast alpha: the span's shape, and the axes of the span alpha is
    # broadcast over (grad_alpha sums them); None for a 1-D per-axis alpha
    span: Optional[tuple] = None
    summed: tuple = ()


def _prelu_spec(act, fname, vals, x):
    alpha, axis = vals
    if type(alpha) is float and math.isfinite(alpha):
        # the common scalar slope, checked without NumPy reductions: right after a large
        # array the interpreter runs on cold caches, and those checks then cost
        # ~25 us (1M float32), 15% of the kernel's time
        a = np.float64(alpha)
    else:
        a = _prelu_alpha(fname, alpha)
    axis = _check_param(fname, act.params[1], axis)
    if a.ndim >= 2:
        return _prelu_broadcast_spec(fname, a, axis, x)
    if a.ndim == 1 and a.size != 1:
        if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} "
                             "dimensions (a per-channel alpha needs a channel axis)")
        axis %= x.ndim
        if x.shape[axis] != a.size:
            raise ValueError(f"{fname}: alpha has {a.size} values but x has {x.shape[axis]} "
                             f"channels on axis {axis}")
    else:
        _check_scalar_axis(fname, axis, x)
        axis = None
    return PreluSpec(a, axis, _PRELU_Y, GRAIN["cheap"], ashape=a.shape)


_PRELU_Y = "grad_alpha needs x"


def _check_scalar_axis(fname, axis, x):
    """The axis of one slope is unused but still checked, against at least two
    dimensions so the default axis=1 fits 0-d and 1-d x (as F.prelu)."""
    nd = max(x.ndim, 2)
    if not -nd <= axis < nd:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} dimensions")


def _prelu_broadcast_spec(fname, a, axis, x):
    """alpha with ndim >= 2: NumPy broadcasting against x (alpha's trailing
    axes line up with x's), which must leave x's shape unchanged."""
    lead = x.ndim - a.ndim
    if lead < 0 or any(d != 1 and d != xd for d, xd in zip(a.shape, x.shape[lead:])):
        raise ValueError(f"{fname}: alpha of shape {a.shape} does not broadcast to x's shape {x.shape}")
    _check_scalar_axis(fname, axis, x)
    full = (1,) * lead + a.shape
    used = [i for i, d in enumerate(full) if d != 1]
    if not used:                # one slope (every axis 1, x empty or not)
        return PreluSpec(a, None, _PRELU_Y, GRAIN["cheap"], ashape=a.shape)
    first, last = used[0], used[-1]
    span = x.shape[first:last + 1]
    summed = tuple(i for i in range(len(span)) if full[first + i] == 1)
    flat = a.reshape(full[first:last + 1])
    if summed:                  # broadcast inside the span: the slopes of every channel of it
        flat = np.broadcast_to(flat, span)
    flat = np.ascontiguousarray(flat).reshape(-1)
    return PreluSpec(flat, first, _PRELU_Y, GRAIN["cheap"], last=last, ashape=a.shape, span=span,
                     summed=summed)


def _prelu_alpha(fname, alpha):
    """alpha as a checked real array."""
    if alpha is None:
        raise TypeError(f"{fname}: alpha is required")
    if isinstance(alpha, (bool, np.bool_)):
        raise TypeError(f"{fname}: alpha must be a real number or an array, got bool")
    a = np.asarray(alpha)
    if _is_bf16(a.dtype):               # ml_dtypes.bfloat16: widened exactly
        a = a.astype(np.float32)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{fname}: alpha must be real (a number or a float array), got dtype {a.dtype}")
    if not np.isfinite(a).all():      # one reduction when all is well (each costs ~2 us)
        if np.isnan(a).any():
            raise ValueError(f"{fname}: alpha must not contain NaN")
        raise ValueError(f"{fname}: alpha must be finite")
    return a


_PRELU_ROW = 1 << 14   # elements per partial sum of a scalar-alpha gradient


def _prelu_layout(x, spec, C):
    """(outer, C, inner) of a C-contiguous x viewed around the channel axis
    (or span of axes)."""
    last = spec.axis if spec.last is None else spec.last
    outer = math.prod(x.shape[:spec.axis])
    inner = math.prod(x.shape[last + 1:])
    return outer, C, inner


def _prelu_fwd(spec, x, out, nt):
    a, axis, _, grain = spec[:4]
    K = _front
    ct = x.dtype
    h = _half_code(x)       # float16 / bfloat16: float32 slopes, the front stages blocks of rows
    if axis is None:
        k, p = _relu_kernel(None, float(a.reshape(-1)[0]), 0.0)
        xk, ok = (x.view(np.uint16), out.view(np.uint16)) if h else (x, out)
        K.elementwise(_kernel_id(k), Mode.FWD, xk, None, ok, *p, nt, grain, h)
        return
    xc = np.ascontiguousarray(x)        # half data: a copy in their own format
    oc = _c_dest(out, xc, x)         # a copy of x is private: written in place, then stored into out
    al = np.ascontiguousarray(a, dtype=np.float32 if h else ct)
    if np.may_share_memory(al, oc):     # alpha inside the output (in place): read a copy
        al = al.copy()
    outer, C, inner = _prelu_layout(xc, spec, a.size)
    xk, ok = (xc.view(np.uint16), oc.view(np.uint16)) if h else (xc, oc)
    if xc.size:
        if inner == 1:
            rpc = max(1, _PRELU_ROW // C)
            K.prelu_cols(0, xk, None, ok, al, None, outer, C, rpc, nt, grain, h)
        else:
            K.prelu_rows(0, xk, None, ok, al, None, outer * C, C, inner, nt, grain, h)
    if oc is not out:
        np.copyto(out, oc)


def _prelu_bwd(spec, g, x, from_y, out, nt):
    a, axis, _, grain = spec[:4]
    K = _front
    # float16 / bfloat16 (half_direct): the front stages blocks of rows
    # through the float32 loops, with float32 slopes and the float32 path's
    # sums and grad_alpha dtype
    h = _half_code(g)
    ct = np.dtype(np.float32) if h else g.dtype
    gc, xc = np.ascontiguousarray(g), np.ascontiguousarray(x)
    oc = _c_dest(out, gc, g)
    al = np.ascontiguousarray(a, dtype=ct).reshape(-1)
    if np.may_share_memory(al, oc):     # alpha inside the output (in place): read a copy
        al = al.copy()
    n = gc.size
    if n == 0:                          # nothing to compute, nothing to sum
        return np.zeros(spec.ashape, dtype=ct)
    gk, xk, ok = (gc.view(np.uint16), xc.view(np.uint16), oc.view(np.uint16)) if h else (gc, xc, oc)
    if axis is None:
        L = _PRELU_ROW
        nfull, tail = divmod(n, L)
        gsum = np.zeros(nfull + (1 if tail else 0), dtype=np.float64)
        gf, xf, of = gk.reshape(-1), xk.reshape(-1), ok.reshape(-1)
        if nfull:
            K.prelu_rows(1, gf[:nfull * L], xf[:nfull * L], of[:nfull * L], al, gsum[:nfull],
                         nfull, 1, L, nt, grain, h)
        if tail:
            K.prelu_rows(1, gf[nfull * L:], xf[nfull * L:], of[nfull * L:], al, gsum[nfull:],
                         1, 1, tail, 1, grain, h)
        galpha = np.asarray(gsum.sum(), dtype=ct).reshape(spec.ashape)
    else:
        outer, C, inner = _prelu_layout(gc, spec, a.size)
        if inner == 1:
            rpc = max(1, _PRELU_ROW // C)
            nch = (outer + rpc - 1) // rpc
            gsum = np.zeros((max(nch, 1), C), dtype=np.float64)
            if n:
                K.prelu_cols(1, gk, xk, ok, al, gsum, outer, C, rpc, nt, grain, h)
            galpha = gsum.sum(axis=0)
        else:
            gsum = np.zeros(max(outer * C, 1), dtype=np.float64)
            if n:
                K.prelu_rows(1, gk, xk, ok, al, gsum, outer * C, C, inner, nt, grain, h)
            galpha = gsum[:outer * C].reshape(outer, C).sum(axis=0)
        if spec.span is not None:       # a broadcast alpha: its own shape, the broadcast axes summed
            galpha = galpha.reshape(spec.span)
            if spec.summed:
                galpha = galpha.sum(axis=spec.summed, keepdims=True)
            galpha = galpha.reshape(spec.ashape)
        galpha = galpha.astype(ct)
    if oc is not out:
        np.copyto(out, oc)
    return galpha


def half_direct(spec, arrays):
    """float16 / bfloat16 data go to the kernels themselves (other layouts
    than C order as C-ordered copies in their format, as float32 data): the
    front stages them in blocks of rows (the forward with one slope: the
    element-wise half loops; the backward's dL/dalpha sums in the float32
    path's order, _front.prelu_cols / prelu_rows)."""
    return True


spec = _prelu_spec
fwd, bwd = _prelu_fwd, _prelu_bwd


def remember(act, vals, spec, forward):
    """One Python-number slope with an axis valid for any ndim: leaky_relu's
    kernel, so the forward forms get the element-wise fast paths too (the
    backward also returns grad_alpha and stays here)."""
    if (forward and spec.axis is None and type(vals[0]) in (float, int) and type(vals[1]) is int
            and -2 <= vals[1] <= 1):
        k, p = _relu_kernel(None, float(spec.alpha), 0.0)
        _remember_fast(act, vals, ElementwiseSpec(_kernel_id(k), p, spec.y_reason, spec.grain))
