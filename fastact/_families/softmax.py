"""softmax / log_softmax / softmin along any axis or axes of any layout, with
an optional mask (where=) and scale."""
import math
import operator
from typing import NamedTuple, Optional, Tuple

import numpy as np

from .. import _front
from .._arrays import _half_code
from .._params import _check_param
from .._table import GRAIN


class SoftmaxSpec(NamedTuple):
    axis: Tuple[int, ...]        # the reduced axes, normalized, ascending, 0 <= a < max(ndim, 1)
    log_form: bool
    y_reason: Optional[str]      # always None: y determines the backward
    grain: int
    where: Optional[np.ndarray]  # a bool array that broadcasts to x, or None
    scale: Optional[float]       # the factor on x (softmin: negated); None: 1, the plain kernels


def _axes(fname, v, ndim):
    """The reduced axes of `axis=` (an int or a tuple/list of ints), ascending."""
    nd = max(ndim, 1)
    many = isinstance(v, (tuple, list))
    items = tuple(v) if many else (v,)
    if many and not items:
        raise ValueError(f"{fname}: axis must name at least one axis, got {v!r}")
    out = []
    for a in items:
        if isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{fname}: axis must be an int or a tuple of ints, got bool")
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"{fname}: axis must be an int or a tuple of ints, got "
                            f"{type(a).__name__}") from None
        if not -nd <= a < nd:
            raise ValueError(f"{fname}: axis {a} is out of range for an array with {ndim} dimensions")
        out.append(a % nd)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: axis {v!r} names an axis twice")
    return tuple(sorted(out))


def _mask(fname, where, shape):
    """`where` as a bool array that broadcasts to `shape` (not expanded)."""
    if where is None:
        return None
    try:
        w = where if isinstance(where, np.ndarray) else np.asarray(where)
    except Exception:           # noqa: BLE001 -- ragged lists and the like: named below
        raise TypeError(f"{fname}: where must be a boolean array, got {type(where).__name__}") from None
    if w.dtype != np.bool_:
        raise TypeError(f"{fname}: where must be a boolean array, got dtype {w.dtype}")
    ok = w.shape == tuple(shape)
    if not ok:
        try:
            ok = np.broadcast_shapes(w.shape, shape) == tuple(shape)
        except ValueError:
            pass
    if not ok:
        raise ValueError(f"{fname}: where of shape {w.shape} does not broadcast to x's shape {tuple(shape)}")
    return w


def _softmax_spec(act, fname, vals, x):
    axis, where, scale = vals
    axes = _axes(fname, axis, x.ndim)
    w = _mask(fname, where, x.shape)
    s = _check_param(fname, act.params[2], scale)
    if act.name == "softmin":
        s = -s
    # scale 1 is the plain kernels: the same bits as a call without it
    return SoftmaxSpec(axes, act.name == "log_softmax", None, GRAIN["transc"], w, None if s == 1.0 else s)


def _merged_stride(shape, strides):
    """The one byte stride that walks dims `shape` (C order) of a view with
    `strides`, or None when they do not merge (e.g. a zero stride over a
    nonzero one)."""
    dims = [(n, s) for n, s in zip(shape, strides) if n != 1]
    if not dims:
        return 0
    for (n0, s0), (n1, s1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return None
    return dims[-1][1]


def _run(mode, a, b, out, k0, k1, mask, spec, nt):
    """The kernels on C-contiguous a, b, out reduced over the dims [k0, k1);
    mask: None or a bool view of a's shape (zero strides allowed)."""
    shape = a.shape
    nouter, L, inner = math.prod(shape[:k0]), math.prod(shape[k0:k1]), math.prod(shape[k1:])
    h = _half_code(a)
    if h:           # float16 / bfloat16: staged by the front in blocks of outer rows
        a, out = a.view(np.uint16), out.view(np.uint16)
        b = b.view(np.uint16) if b is not None else None
    if mask is None and spec.scale is None:
        _front.softmax_blocks(mode, a, b, out, nouter, L, inner, spec.log_form, nt, spec.grain, h)
        return
    mbase, oshape, ostride, ml, mi = 0, (), (), 0, 0
    if mask is not None:
        if np.may_share_memory(mask, out):     # out is written before the mask is read
            mask = mask.copy()
        ml = _merged_stride(shape[k0:k1], mask.strides[k0:k1])
        mi = _merged_stride(shape[k1:], mask.strides[k1:])
        if ml is None or mi is None:       # a broadcast inside the reduced or inner dims
            mask = np.ascontiguousarray(mask)
            ml = _merged_stride(shape[k0:k1], mask.strides[k0:k1])
            mi = _merged_stride(shape[k1:], mask.strides[k1:])
        outer = [(n, s) for n, s in zip(shape[:k0], mask.strides[:k0]) if n != 1]
        oshape, ostride = tuple(n for n, _ in outer), tuple(s for _, s in outer)
        mbase = mask.__array_interface__["data"][0]
    scale = 1.0 if spec.scale is None else spec.scale
    _front.softmax_masked(mode, a, b, out, mbase, oshape, ostride, ml, mi, nouter, L, inner, spec.log_form,
                          scale, nt, spec.grain, h)


def _layout(axes, arrs):
    """How _softmax_call runs arrays reduced over `axes` (ascending): "c" on
    them over dims [k0, k1); "f" on their transposes; "copy" on C-ordered
    copies transposed by perm.  The kernels walk C order with any axis (a
    non-last axis is vectorized along the contiguous inner axes, no
    transpose); an F-ordered set is the C-ordered transpose with the axis
    mirrored.  Several axes reduce over their joint extent in C order of the
    ascending axes: direct when they are adjacent in a C-ordered set, else
    copied with them last."""
    n = arrs[0].ndim
    k0, k1 = axes[0], axes[-1] + 1
    if k1 - k0 == len(axes) and all(t.flags.c_contiguous for t in arrs):
        return "c", None, k0, k1
    if len(axes) == 1 and all(t.flags.f_contiguous for t in arrs):
        return "f", None, n - 1 - k0, n - k0
    perm = tuple(range(n)) if len(axes) == 1 else tuple(i for i in range(n) if i not in axes) + axes
    j0 = perm.index(axes[0])
    return "copy", perm, j0, j0 + len(axes)


def _softmax_call(mode, spec, a, b, out, nt):
    axes = spec.axis
    if a.size == 0:
        return
    mask = spec.where
    if mask is not None and mask.shape != a.shape:
        mask = np.broadcast_to(mask, a.shape)      # a zero-stride view, not a copy
    if a.ndim == 0:
        a, out = a.reshape(1), out.reshape(1)
        b = b.reshape(1) if b is not None else None
        mask = mask.reshape(1) if mask is not None else None
    how, perm, k0, k1 = _layout(axes, (a, out) if b is None else (a, out, b))
    if (mask is not None or spec.scale is not None) and b is not None and np.may_share_memory(out, b):
        # grad is y: the prologue writes out before y is read; the copy in
        # the layout taken (half_direct asked it of the arrays as given)
        b = b.copy(order="F" if how == "f" else "C")
    if how == "c":
        _run(mode, a, b, out, k0, k1, mask, spec, nt)
        return
    if how == "f":
        _run(mode, a.T, b.T if b is not None else None, out.T, k0, k1,
             mask.T if mask is not None else None, spec, nt)
        return
    # staged path: compute on a private C-ordered copy (np.array always copies,
    # so the caller's `a` is never written; half data stay half), then store
    # into out
    ta = np.array(a.transpose(perm), order="C")
    tb = np.ascontiguousarray(b.transpose(perm)) if b is not None else None
    tm = mask.transpose(perm) if mask is not None else None
    _run(mode, ta, tb, ta, k0, k1, tm, spec, nt)
    np.copyto(out.transpose(perm), ta)


def _softmax_fwd(spec, x, out, nt):
    _softmax_call(0, spec, x, None, out, nt)


def _softmax_bwd(spec, g, s, from_y, out, nt):
    if not from_y and _half_code(s):
        _softmax_call(1, spec, g, s, out, nt)   # y in float32 per block, never rounded to half
        return
    if not from_y:
        y = np.empty_like(s)
        _softmax_call(0, spec, s, None, y, nt)
        s = y
    _softmax_call(2, spec, g, s, out, nt)


def half_direct(spec, arrays):
    """float16 / bfloat16 data go to the kernels themselves, in the layout
    _softmax_call gives them: the front stages them in blocks of outer rows,
    or long rows in pieces (mode 1 there: the backward from x, y in float32),
    or column strips (tall strips in pieces of rows)."""
    return True


spec = _softmax_spec
fwd, bwd = _softmax_fwd, _softmax_bwd


def remember(act, vals, spec, forward):
    """No value cache: the C path takes a plain int axis and checks it itself."""
