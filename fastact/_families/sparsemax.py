"""sparsemax along any axis: C-contiguous rows along the last axis go to the
front directly; any other axis or layout is computed on a private C-ordered
copy with the axis moved last (float16 / bfloat16 stay in their format),
then stored into out."""
from typing import NamedTuple, Optional

import numpy as np

from .. import _front
from .._arrays import _half_code
from .._params import _check_param
from .._table import GRAIN


class SparsemaxSpec(NamedTuple):
    axis: int                    # normalized, 0 <= axis < max(ndim, 1)
    y_reason: Optional[str]      # always None: y's support determines the backward
    grain: int


def spec(act, fname, vals, x):
    axis = _check_param(fname, act.params[0], vals[0])
    nd = max(x.ndim, 1)
    if not -nd <= axis < nd:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} dimensions")
    return SparsemaxSpec(axis % nd, None, GRAIN[act.cost])


def _call(mode, spec, a, b, out, nt):
    axis, _, grain = spec
    if a.size == 0:
        return
    if a.ndim == 0:
        a, out = a.reshape(1), out.reshape(1)
        b = b.reshape(1) if b is not None else None
    L = a.shape[axis]
    arrs = (a, out) if b is None else (a, out, b)
    h = _half_code(a)               # float16 / bfloat16 (half_direct): blocks of rows staged in the front
    v = (lambda t: t.view(np.uint16) if t is not None else None) if h else (lambda t: t)
    if axis == a.ndim - 1 and all(t.flags.c_contiguous for t in arrs):
        _front.sparsemax_rows(mode, v(a), v(b), v(out), a.size // L, L, nt, grain, h)
        return
    # np.array always copies: the caller's a is never written (half data
    # stay half: the front stages the copy's rows in blocks)
    ta = np.array(np.moveaxis(a, axis, -1), order="C")
    tb = np.ascontiguousarray(np.moveaxis(b, axis, -1)) if b is not None else None
    _front.sparsemax_rows(mode, v(ta), v(tb), v(ta), ta.size // L, L, nt, grain, h)
    np.copyto(out, np.moveaxis(ta, -1, axis))


def fwd(spec, x, out, nt):
    _call(0, spec, x, None, out, nt)


def bwd(spec, g, s, from_y, out, nt):
    if not from_y and _half_code(s):
        _call(1, spec, g, s, out, nt)   # y in float32 per block, never rounded to half
        return
    if not from_y:
        y = np.empty_like(s)
        _call(0, spec, s, None, y, nt)
        s = y
    _call(2, spec, g, s, out, nt)


def half_direct(spec, arrays):
    """float16 / bfloat16 data go to the kernels themselves: the front
    stages blocks of rows (the backward from x computes y in float32 per
    block, mode 1); over another axis than the last or in another layout
    than C order, of a copy with the axis moved last, in the data's format
    (float32 copies too)."""
    return True


def remember(act, vals, spec, forward):
    """No value cache: every call takes the general path."""
