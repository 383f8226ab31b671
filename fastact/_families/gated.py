"""glu / swiglu / geglu: x is split in two halves a, b along an axis; the
output has half of x's length there, the backward x's shape."""
import math

import numpy as np

from .. import _front, _threads
from .._arrays import _as_array, _check_out, _check_self_overlap, _contig, _deliver, _target
from .._params import _check_param
from .._table import GRAIN
from .elementwise import _remember

def _gated_setup(act, fname, vals, x):
    clean = tuple(_check_param(fname, p, v) for p, v in zip(act.params, vals))
    _, gid = act.kernel(*clean)
    axis = clean[0]
    if x.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension to split")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} dimensions")
    axis %= x.ndim
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"{fname}: x has odd length {n} on axis {axis}; it is split into two halves")
    half = x.shape[:axis] + (n // 2,) + x.shape[axis + 1:]
    outer = math.prod(x.shape[:axis])
    M = (n // 2) * math.prod(x.shape[axis + 1:])
    return gid, half, outer, M


def gated_forward(act, fname, vals, x, out, n_threads):
    x = _as_array(fname, "x", x, writable=False)
    gid, half, outer, M = _gated_setup(act, fname, vals, x)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{fname}: out must be a NumPy array, got {type(out).__name__}")
        if out.shape != half or out.dtype != x.dtype:
            raise ValueError(f"{fname}: out must have shape {half} and dtype {x.dtype}, "
                             f"got {out.shape} {out.dtype}")
        out = _as_array(fname, "out", out, writable=True)
        _check_self_overlap(fname, "out", out)
        if np.may_share_memory(out, x):
            raise ValueError(f"{fname}: out overlaps x")
    nt = _threads.resolve(n_threads, fname)
    xc = _contig(x)
    res = _target(out, half, xc.dtype)
    if x.size:
        _front.gated(gid, 0, None, xc, res, outer, M, nt, GRAIN["transc"])
    _remember(act, vals, gid)    # validated: later calls with these values may take fast_gated
    return _deliver(res, out, x.dtype)


def gated_backward(act, fname, vals, grad, x, out, n_threads):
    grad = _as_array(fname, "grad", grad, writable=False)
    x = _as_array(fname, "x", x, writable=False)
    gid, half, outer, M = _gated_setup(act, fname, vals, x)
    if grad.shape != half:
        raise ValueError(f"{fname}: grad has shape {grad.shape}, expected {half} (half of x on the axis)")
    if grad.dtype != x.dtype:
        raise ValueError(f"{fname}: grad has dtype {grad.dtype} but x has dtype {x.dtype}")
    if out is not None:
        out = _check_out(fname, out, x)
        if np.may_share_memory(out, x) or np.may_share_memory(out, grad):
            raise ValueError(f"{fname}: out overlaps an input")
    nt = _threads.resolve(n_threads, fname)
    xc, gc = _contig(x), _contig(grad)
    res = _target(out, x.shape, xc.dtype)
    if x.size:
        _front.gated(gid, 1, gc, xc, res, outer, M, nt, GRAIN["transc"])
    return _deliver(res, out, x.dtype)
