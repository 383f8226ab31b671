"""glu / swiglu / geglu: x is split in two halves a, b along an axis; the
output has half of x's length there, the backward x's shape."""
import math

import numpy as np

from .. import _duck, _front, _threads
from .._arrays import (_as_array, _check_out, _check_self_overlap, _contig, _deliver, _half_c, _half_code,
                       _half_ok, _target)
from .._params import _check_param
from .._table import GRAIN
from .elementwise import _remember

_GATE_IDS = _front.gate_ids()      # by name: the C catalogue numbers them


def _gated_setup(act, fname, vals, x):
    """Checks; the gate id, its parameters, the output's shape and the view
    of x the loops walk: (outer, 2, M) halves (stride 1), or for interleaved
    pairs (outer, M, 2) (stride 2) when they are adjacent in memory (nothing
    after the axis), else (outer*H, 2, inner) (stride 1)."""
    clean = tuple(_check_param(fname, p, v) for p, v in zip(act.params, vals))
    _, gate, gp, interleaved = act.kernel(*clean)
    gid = _GATE_IDS[gate]
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
    inner = math.prod(x.shape[axis + 1:])
    M, s = (n // 2) * inner, 1
    if interleaved:
        if inner == 1:
            s = 2
        else:
            outer, M = outer * (n // 2), inner
    return gid, gp, interleaved, half, (outer, M, s)


def _duck_call(act, fname, vals, arrays, out, n_threads, check, template, half):
    kw = dict(zip((p.name for p in act.params), vals), n_threads=n_threads)
    ax = _check_param(fname, act.params[0], vals[0])
    return _duck.call(fname, False, out, arrays, kw, check, template=template, axes=(ax,),
                      half=ax % max(arrays["x"].ndim, 1) if half else None)


def gated_forward(act, fname, vals, x, out, n_threads, check=False):
    """check=True: the checks alone, nothing computed (dask proxies)."""
    if type(x) is not np.ndarray and _duck.kind(x) is not None:
        if x.ndim == 0:
            raise ValueError(f"{fname}: x must have at least one dimension to split")
        return _duck_call(act, fname, vals, {"x": x}, out, n_threads,
                          lambda a, k: gated_forward(act, fname, vals, a["x"], None, n_threads, True), "x", True)
    x = _as_array(fname, "x", x, writable=False)
    gid, gp, interleaved, half, (outer, M, s) = _gated_setup(act, fname, vals, x)
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
    if check:
        return None
    if _half_ok(x, out):
        code = _half_code(x)
        # float16 / bfloat16: the front stages blocks of rows of (outer, 2M) -> (outer, M), one row in
        # pieces; other layouts than C order as C-ordered copies in their format
        res = out if out is not None and out.flags.c_contiguous else np.empty(half, x.dtype)
        _front.gated(gid, 0, None, _half_c(x).view(np.uint16), res.view(np.uint16), outer, M, s, *gp, nt,
                     GRAIN["transc"], code)
        _remember(act, vals, _front.Spec(gid, gp + (1.0 if interleaved else 0.0,), False, GRAIN["transc"], vals))
        return _deliver(res, out, x.dtype)
    xc = _contig(x)
    res = _target(out, half, xc.dtype)
    if x.size:
        _front.gated(gid, 0, None, xc, res, outer, M, s, *gp, nt, GRAIN["transc"])
    # validated: later calls with values of these types and bits may take fast_gated
    _remember(act, vals, _front.Spec(gid, gp + (1.0 if interleaved else 0.0,), False, GRAIN["transc"], vals))
    return _deliver(res, out, x.dtype)


def gated_backward(act, fname, vals, grad, x, out, n_threads, check=False):
    """check=True: the checks alone, nothing computed (dask proxies)."""
    if not (type(grad) is np.ndarray and type(x) is np.ndarray) and _duck.first_kind(grad, x) is not None:
        if np.ndim(x) == 0:
            raise ValueError(f"{fname}: x must have at least one dimension to split")
        return _duck_call(act, fname, vals, {"grad": grad, "x": x}, out, n_threads,
                          lambda a, k: gated_backward(act, fname, vals, a["grad"], a["x"], None, n_threads, True),
                          "x", False)
    grad = _as_array(fname, "grad", grad, writable=False)
    x = _as_array(fname, "x", x, writable=False)
    gid, gp, _, half, (outer, M, s) = _gated_setup(act, fname, vals, x)
    if grad.shape != half:
        raise ValueError(f"{fname}: grad has shape {grad.shape}, expected {half} (half of x on the axis)")
    if grad.dtype != x.dtype:
        raise ValueError(f"{fname}: grad has dtype {grad.dtype} but x has dtype {x.dtype}")
    if out is not None:
        out = _check_out(fname, out, x)
        if np.may_share_memory(out, x) or np.may_share_memory(out, grad):
            raise ValueError(f"{fname}: out overlaps an input")
    nt = _threads.resolve(n_threads, fname)
    if check:
        return None
    if _half_ok(x, grad, out):
        code = _half_code(x)
        gc = _half_c(grad)
        res = out if out is not None and out.flags.c_contiguous else np.empty(x.shape, x.dtype)
        _front.gated(gid, 1, gc.view(np.uint16), _half_c(x).view(np.uint16), res.view(np.uint16), outer, M, s,
                     *gp, nt, GRAIN["transc"], code)
        return _deliver(res, out, x.dtype)
    xc, gc = _contig(x), _contig(grad)
    res = _target(out, x.shape, xc.dtype)
    if x.size:
        _front.gated(gid, 1, gc, xc, res, outer, M, s, *gp, nt, GRAIN["transc"])
    return _deliver(res, out, x.dtype)
