"""softmax / log_softmax along any axis of any layout."""
import math
from typing import NamedTuple, Optional

import numpy as np

from .. import _front
from .._params import _check_param
from .._table import GRAIN


class SoftmaxSpec(NamedTuple):
    axis: int                    # normalized, 0 <= axis < max(ndim, 1)
    log_form: bool
    y_reason: Optional[str]      # always None: y determines the backward
    grain: int


def _softmax_spec(act, fname, vals, x):
    axis = _check_param(fname, act.params[0], vals[0])
    nd = max(x.ndim, 1)
    if not -nd <= axis < nd:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} dimensions")
    return SoftmaxSpec(axis % nd, act.name == "log_softmax", None, GRAIN["transc"])


def _blocks(shape, axis):
    """(nouter, L, inner) of a C-ordered array of `shape` reduced over `axis`."""
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


def _softmax_call(mode, spec, a, b, out, nt):
    axis, log_form, _, grain = spec
    if a.size == 0:
        return
    if a.ndim == 0:
        a, out = a.reshape(1), out.reshape(1)
        b = b.reshape(1) if b is not None else None
    arrs = (a, out) if b is None else (a, out, b)
    K = _front
    # the kernels walk C order with any axis (a non-last axis is vectorized
    # along the contiguous inner axes, no transpose); an F-ordered set is
    # the C-ordered transpose with the axis mirrored
    if all(t.flags.c_contiguous for t in arrs):
        K.softmax_blocks(mode, a, b, out, *_blocks(a.shape, axis), log_form, nt, grain)
        return
    if all(t.flags.f_contiguous for t in arrs):
        K.softmax_blocks(mode, a.T, b.T if b is not None else None, out.T,
                         *_blocks(a.shape[::-1], a.ndim - 1 - axis), log_form, nt, grain)
        return
    # staged path: compute on a private C-ordered copy (np.array always copies,
    # so the caller's `a` is never written), then store into out
    ta = np.array(a, order="C")
    tb = np.ascontiguousarray(b) if b is not None else None
    K.softmax_blocks(mode, ta, tb, ta, *_blocks(ta.shape, axis), log_form, nt, grain)
    np.copyto(out, ta)


def _softmax_fwd(spec, x, out, nt):
    _softmax_call(0, spec, x, None, out, nt)


def _softmax_bwd(spec, g, s, from_y, out, nt):
    if not from_y:
        y = np.empty_like(s)
        _softmax_call(0, spec, s, None, y, nt)
        s = y
    _softmax_call(2, spec, g, s, out, nt)


spec = _softmax_spec
fwd, bwd = _softmax_fwd, _softmax_bwd


def remember(act, vals, spec, forward):
    """No value cache: the C path takes a plain int axis and checks it itself."""
