"""prelu: one slope (leaky_relu's kernel) or one per channel along an axis;
its backward also returns dL/dalpha, summed in float64 in a fixed order."""
import math
from typing import NamedTuple, Optional

import numpy as np

from .. import _front
from .._params import ElementwiseSpec, Mode, _check_param, _kernel_id
from .elementwise import _remember_fast
from .._table import GRAIN, INF


class PreluSpec(NamedTuple):
    alpha: np.ndarray            # checked: finite, 0-d or 1-D
    axis: Optional[int]          # the channel axis, None for one slope
    y_reason: Optional[str]      # why y= cannot stand for x (grad_alpha needs x)
    grain: int


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
    if a.ndim == 1 and a.size != 1:
        if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} "
                             "dimensions (a per-channel alpha needs a channel axis)")
        axis %= x.ndim
        if x.shape[axis] != a.size:
            raise ValueError(f"{fname}: alpha has {a.size} values but x has {x.shape[axis]} "
                             f"channels on axis {axis}")
    else:
        # one slope: the axis is unused but still checked, against at least two
        # dimensions so the default axis=1 fits 0-d and 1-d x (as F.prelu)
        nd = max(x.ndim, 2)
        if not -nd <= axis < nd:
            raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} "
                             "dimensions")
        axis = None
    return PreluSpec(a, axis, _PRELU_Y, GRAIN["cheap"])


_PRELU_Y = "grad_alpha needs x"


def _prelu_alpha(fname, alpha):
    """alpha as a checked real array of at most one dimension."""
    if alpha is None:
        raise TypeError(f"{fname}: alpha is required")
    if isinstance(alpha, (bool, np.bool_)):
        raise TypeError(f"{fname}: alpha must be a real number or a 1-D array, got bool")
    a = np.asarray(alpha)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{fname}: alpha must be real (a number or a 1-D float array), got dtype {a.dtype}")
    if a.ndim > 1:
        raise ValueError(f"{fname}: alpha must be a scalar or 1-D, got shape {a.shape}")
    if not np.isfinite(a).all():      # one reduction when all is well (each costs ~2 us)
        if np.isnan(a).any():
            raise ValueError(f"{fname}: alpha must not contain NaN")
        raise ValueError(f"{fname}: alpha must be finite")
    return a


_PRELU_ROW = 1 << 14   # elements per partial sum of a scalar-alpha gradient


def _prelu_layout(x, axis, C):
    """(outer, C, inner) of a C-contiguous x viewed around the channel axis."""
    outer = math.prod(x.shape[:axis])
    inner = math.prod(x.shape[axis + 1:])
    return outer, C, inner


def _prelu_fwd(spec, x, out, nt):
    a, axis, _, grain = spec
    K = _front
    ct = x.dtype
    if axis is None:
        K.elementwise(_kernel_id("relu"), Mode.FWD, x, None, out, INF, float(a.reshape(())
                      if a.ndim == 0 else a[0]), 0.0, 0.0, nt, grain)
        return
    xc = np.ascontiguousarray(x)
    oc = out if out.flags.c_contiguous else np.empty_like(xc)
    al = np.ascontiguousarray(a, dtype=ct)
    if np.may_share_memory(al, oc):     # alpha inside the output (in place): read a copy
        al = al.copy()
    outer, C, inner = _prelu_layout(xc, axis, a.size)
    if xc.size:
        if inner == 1:
            rpc = max(1, _PRELU_ROW // C)
            K.prelu_cols(0, xc, None, oc, al, None, outer, C, rpc, nt, grain)
        else:
            K.prelu_rows(0, xc, None, oc, al, None, outer * C, C, inner, nt, grain)
    if oc is not out:
        np.copyto(out, oc)


def _prelu_bwd(spec, g, x, from_y, out, nt):
    a, axis, _, grain = spec
    K = _front
    ct = g.dtype
    gc = np.ascontiguousarray(g)
    xc = np.ascontiguousarray(x)
    oc = out if out.flags.c_contiguous else np.empty_like(gc)
    al = np.ascontiguousarray(a, dtype=ct).reshape(-1)
    if np.may_share_memory(al, oc):     # alpha inside the output (in place): read a copy
        al = al.copy()
    n = gc.size
    if n == 0:                          # nothing to compute, nothing to sum
        return np.zeros(a.shape, dtype=ct)
    if axis is None:
        L = _PRELU_ROW
        nfull, tail = divmod(n, L)
        gsum = np.zeros(nfull + (1 if tail else 0), dtype=np.float64)
        gf, xf, of = gc.reshape(-1), xc.reshape(-1), oc.reshape(-1)
        if nfull:
            K.prelu_rows(1, gf[:nfull * L], xf[:nfull * L], of[:nfull * L], al, gsum[:nfull],
                         nfull, 1, L, nt, grain)
        if tail:
            K.prelu_rows(1, gf[nfull * L:], xf[nfull * L:], of[nfull * L:], al, gsum[nfull:],
                         1, 1, tail, 1, grain)
        galpha = np.asarray(gsum.sum(), dtype=ct).reshape(a.shape)
    else:
        outer, C, inner = _prelu_layout(gc, axis, a.size)
        if inner == 1:
            rpc = max(1, _PRELU_ROW // C)
            nch = (outer + rpc - 1) // rpc
            gsum = np.zeros((max(nch, 1), C), dtype=np.float64)
            if n:
                K.prelu_cols(1, gc, xc, oc, al, gsum, outer, C, rpc, nt, grain)
            galpha = gsum.sum(axis=0).astype(ct)
        else:
            gsum = np.zeros(max(outer * C, 1), dtype=np.float64)
            if n:
                K.prelu_rows(1, gc, xc, oc, al, gsum, outer * C, C, inner, nt, grain)
            galpha = gsum[:outer * C].reshape(outer, C).sum(axis=0).astype(ct)
    if oc is not out:
        np.copyto(out, oc)
    return galpha


spec = _prelu_spec
fwd, bwd = _prelu_fwd, _prelu_bwd


def remember(act, vals, spec, forward):
    """One Python-number slope with an axis valid for any ndim: leaky_relu's
    kernel, so the forward forms get the element-wise fast paths too (the
    backward also returns grad_alpha and stays here)."""
    if (forward and spec.axis is None and type(vals[0]) in (float, int) and type(vals[1]) is int
            and -2 <= vals[1] <= 1):
        _remember_fast(act, vals, ElementwiseSpec(_kernel_id("relu"), (INF, float(spec.alpha), 0.0, 0.0),
                                                  spec.y_reason, spec.grain))
