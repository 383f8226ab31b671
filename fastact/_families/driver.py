"""The forward and backward drivers of the element-wise, softmax and prelu
families: check the arrays, get the family's spec (which checks the
parameters), and only then write: a failed call never leaves an array
half-modified."""
import numpy as np

from .. import _duck, _front, _threads
from .._arrays import (_as_array, _backward_operands, _compute_dtype, _direct, _half_code, _half_ok,
                       _is_staged_dtype, _staged, _store, _written)
from .._params import _y_refused
from . import elementwise, prelu, softmax, sparsemax

FAMILY = {"elementwise": elementwise, "softmax": softmax, "prelu": prelu, "sparsemax": sparsemax}


def _duck_axes(act, kw, ndim):
    if act.kind == "softmax" or act.kind == "sparsemax":
        return _duck.softmax_axes(kw["axis"])
    if act.kind == "prelu":
        return _duck.prelu_axes(kw["alpha"], kw["axis"], ndim)
    return ()


def forward(act, fname, vals, x, out, n_threads, inplace, check=False):
    """check=True: the checks alone, nothing computed (dask proxies)."""
    if type(x) is not np.ndarray and _duck.kind(x) is not None:
        kw = dict(zip((p.name for p in act.params), vals), n_threads=n_threads)
        return _duck.call(fname, inplace, out, {"x": x}, kw,
                          lambda a, k: forward(act, fname, vals[:1] + (k.get("where"),) + vals[2:]
                                               if act.kind == "softmax" else vals, a["x"], None, n_threads,
                                               False, True),
                          axes=_duck_axes(act, kw, x.ndim))
    given = x
    x = _as_array(fname, "x", x, writable=inplace)
    out = _written(fname, x, "x", out, inplace)
    fam = FAMILY[act.kind]
    spec = fam.spec(act, fname, vals, x)
    fam.remember(act, vals, spec, True)
    nt = _threads.resolve(n_threads, fname)
    if check:
        return None
    # ---- nothing above writes; everything below is past validation ----
    own_out = out is not None and out is not x
    if out is None:
        out = _front.empty_like(x, dtype=_compute_dtype(x.dtype) if not _is_staged_dtype(x.dtype) else x.dtype)
    if _direct(x) and _direct(out):
        if fam is elementwise:
            fam.fwd(spec, x, out, nt, own_out)      # the caller's out= may be streamed to
        else:
            fam.fwd(spec, x, out, nt)
    elif fam is elementwise and _half_code(x) and _half_code(out):
        elementwise.fwd_half(spec, x, out, nt, _half_code(x))   # converted block by block
    elif _half_ok(x, out) and fam.half_direct(spec, (x, out)):
        fam.fwd(spec, x, out, nt)           # staged by the front in blocks that stay in L1
    else:
        tmp = _staged(x, nt=nt)
        fam.fwd(spec, tmp, tmp, nt)
        _store(out, tmp, nt)
    return given if inplace else out   # in place on a tensor returns the tensor


def backward(act, fname, vals, grad, x, y, out, n_threads, inplace, check=False):
    if (not (type(grad) is np.ndarray and type(x if y is None else y) is np.ndarray)
            and _duck.first_kind(grad, x, y) is not None):
        kw = dict(zip((p.name for p in act.params), vals), n_threads=n_threads)
        s = "y" if x is None else "x"
        return _duck.call(fname, inplace, out, {"grad": grad, s: y if x is None else x}, kw,
                          lambda a, k: backward(act, fname, vals[:1] + (k.get("where"),) + vals[2:]
                                                if act.kind == "softmax" else vals, a["grad"], a.get("x"),
                                                a.get("y"), None, n_threads, False, True),
                          template="grad", axes=_duck_axes(act, kw, np.ndim(grad)),
                          second="alpha" if act.kind == "prelu" else None)
    given = grad
    grad, s, from_y, out = _backward_operands(fname, grad, x, y, out, inplace)
    fam = FAMILY[act.kind]
    spec = fam.spec(act, fname, vals, s)
    fam.remember(act, vals, spec, False)
    if from_y and spec.y_reason is not None:
        raise _y_refused(fname, act.name, spec.y_reason)
    nt = _threads.resolve(n_threads, fname)
    if check:
        return None
    # ---- nothing above writes; everything below is past validation ----
    if out is None:
        out = _front.empty_like(grad, dtype=_compute_dtype(grad.dtype) if not _is_staged_dtype(grad.dtype)
                            else grad.dtype)
    if _direct(grad) and _direct(s) and _direct(out):
        extra = fam.bwd(spec, grad, s, from_y, out, nt)
    elif fam is elementwise and _half_code(grad) and _half_code(s) and _half_code(out):
        extra = elementwise.bwd_half(spec, grad, s, from_y, out, nt, _half_code(grad))
    elif _half_ok(grad, s, out) and fam.half_direct(spec, (grad, s, out)):
        extra = fam.bwd(spec, grad, s, from_y, out, nt)
    else:
        tg = _staged(grad, nt=nt)
        extra = fam.bwd(spec, tg, _staged(s, nt=nt), from_y, tg, nt)
        _store(out, tg, nt)
    if inplace:
        out = given
    return out if extra is None else (out, extra)
