"""Argument checking and the calls into the kernel module.

Every public function is generated from the table (fastact/_table.py) by
`_generate`; they all funnel into `forward` / `backward` below.  Everything a
call could reject is checked before the first byte is written, so a failed
call never leaves an array half-modified.
"""
import difflib
import inspect
import math
import operator

import numpy as np

from . import _dispatch, _threads
from ._table import BY_NAME, GRAIN, INF, TABLE

_NATIVE = {np.dtype(np.float32): 4, np.dtype(np.float64): 8}
_STAGED_F32 = {np.dtype(np.float16)}   # + ml_dtypes.bfloat16, detected by name
_MODE_FWD, _MODE_BWD, _MODE_BWDY = 0, 1, 2
_SPEC_CACHE = {}


# ---------------------------------------------------------------- parameters

def _real(fname, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fname}: {name} must be a real number, got {type(v).__name__}")
    try:
        return float(v)
    except OverflowError:       # an int beyond the float range (10**400)
        raise ValueError(f"{fname}: {name} is out of the float range, got {v!r}") from None


def _check_param(fname, p, v):
    kind = p.kind
    if kind == "approx":
        if v not in ("none", "tanh"):
            raise ValueError(f"{fname}: approximate must be 'none' or 'tanh', got {v!r}")
        return v
    if kind == "axis":
        if isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{fname}: axis must be an int, got bool")
        try:
            return operator.index(v)
        except TypeError:
            raise TypeError(f"{fname}: axis must be an int, got {type(v).__name__}") from None
    if kind == "max" and v is None:
        return None
    f = _real(fname, p.name, v)
    if math.isnan(f):
        raise ValueError(f"{fname}: {p.name} must not be NaN")
    if kind == "max":
        if f < 0:
            raise ValueError(f"{fname}: {p.name} must be >= 0 or None, got {v!r}")
        return f
    if kind == "bound":         # +-inf: no bound on that side
        return f
    if math.isinf(f):
        raise ValueError(f"{fname}: {p.name} must be finite, got {v!r}")
    if kind == "pos" and f <= 0:
        raise ValueError(f"{fname}: {p.name} must be > 0, got {v!r}")
    if kind == "nonneg" and f < 0:
        raise ValueError(f"{fname}: {p.name} must be >= 0, got {v!r}")
    if kind == "nonzero" and f == 0:
        raise ValueError(f"{fname}: {p.name} must not be 0, got {v!r}")
    return f


def _value_key(v):
    """What of a parameter value can change a call's outcome: its type, and
    for a float its bits (-0.0 == 0.0 but relu(max=-0.0) keeps -0.0)."""
    if isinstance(v, float):    # np.float64 too
        return (type(v), v, math.copysign(1.0, v))
    return (type(v), v)


def _spec(act, fname, vals):
    """(kernel id, (p0..p3), y_reason, grain) for an element-wise activation;
    y_reason is None when the backward may be given y= instead of x."""
    # keyed on types and bits: True, 1+0j and Fraction(1) equal 1.0 (and
    # hash alike) but are rejected, and -0.0 equals 0.0 but gives -0.0
    key = (act.name, tuple(map(_value_key, vals)))
    try:
        return _SPEC_CACHE[key]
    except (KeyError, TypeError):
        pass
    clean = tuple(_check_param(fname, p, v) for p, v in zip(act.params, vals))
    try:
        kname, p = act.kernel(*clean)
    except ValueError as e:
        raise ValueError(f"{fname}: {e}") from None
    spec = (_kernel_id(kname), tuple(float(v) for v in p), act.y_ok(*clean), GRAIN[act.cost])
    if len(_SPEC_CACHE) > 4096:   # parameters drawn per call must not grow it forever
        _SPEC_CACHE.clear()
    try:
        _SPEC_CACHE[key] = spec
    except TypeError:
        pass
    return spec


# {kernel name: id}: one numbering for every CPU target (the front refuses a
# loop table that numbers them differently), so it is read once.
_IDS = _dispatch.state.kernels.kernel_ids()


def _kernel_id(kname):
    return _IDS[kname]


# -------------------------------------------------------------------- arrays

def _is_staged_dtype(dt):
    r = _STAGED_MEMO.get(dt)
    if r is None:   # dt.name is slow (~4 us): remember the answer per dtype
        r = _STAGED_MEMO[dt] = dt in _STAGED_F32 or dt.name == "bfloat16"
    return r


_STAGED_MEMO = {}


def _compute_dtype(dt):
    """The native dtype the kernel computes in for an array of dtype dt."""
    if _is_staged_dtype(dt):
        return np.dtype(np.float32)
    return np.dtype(dt.newbyteorder("="))


def _as_array(fname, argname, a, writable):
    """A float ndarray from `a`; `writable` means it will be written in place."""
    if not isinstance(a, np.ndarray):
        if hasattr(a, "__dlpack__") and hasattr(a, "__dlpack_device__"):
            a = _from_dlpack(fname, argname, a, writable)
        elif writable:
            raise TypeError(f"{fname}: {argname} must be a NumPy array (or a CPU tensor with "
                            f"__dlpack__) to be modified in place, got {type(a).__name__}")
        else:
            try:
                a = np.asarray(a)
            except ValueError as e:   # a ragged nested sequence, in NumPy's words
                raise ValueError(f"{fname}: {argname} must be a rectangular array of numbers "
                                 f"(nested sequences of equal lengths); NumPy: {e}") from None
    dt = a.dtype
    if dt not in _NATIVE and not (dt.kind == "f" and dt.itemsize in (4, 8)) and not _is_staged_dtype(dt):
        raise TypeError(f"{fname}: {argname} must be a floating-point array (float32, float64, "
                        f"float16 or bfloat16), got dtype {dt}")
    if writable:
        if not a.flags.writeable:
            if argname == "out" or not fname.endswith("_"):
                raise ValueError(f"{fname}: {argname} is read-only; pass a writable array")
            # the in-place forms end in "_"; the same name without it returns a new array
            raise ValueError(f"{fname}: {argname} is read-only; use {fname[:-1]}({argname}, ...) for a "
                             "new array, or pass a writable copy (JAX arrays are immutable; pandas' "
                             "to_numpy() may be read-only)")
        for n, s in zip(a.shape, a.strides) if a.size else ():
            if s == 0 and n > 1:
                raise ValueError(f"{fname}: {argname} has a zero stride (a broadcast view): "
                                 "writing to it in place is ill-defined")
    return a


def _check_self_overlap(fname, argname, a):
    """ValueError when elements of the array to be written alias each other
    (as_strided views with overlapping strides): writing f(x) element by
    element would apply f more than once to the shared memory."""
    if a.size < 2 or a.flags.c_contiguous or a.flags.f_contiguous:
        return
    # sufficient: with the axes sorted by |stride|, each stride steps past
    # everything the smaller ones reach
    extent = a.itemsize
    for st, n in sorted((abs(st), n) for n, st in zip(a.shape, a.strides) if n > 1):
        if st < extent:
            break
        extent += st * (n - 1)
    else:
        return
    # exact, for the rare layouts the quick test cannot clear
    offs = np.zeros((), np.int64)
    for n, st in zip(a.shape, a.strides):
        offs = np.add.outer(offs, np.arange(n, dtype=np.int64) * st)
    offs = np.sort(offs, axis=None)
    if (np.diff(offs) < a.itemsize).any():
        raise ValueError(f"{fname}: {argname} is a view whose elements overlap in memory; writing "
                         "to it would apply the function more than once to the shared elements. "
                         "Pass a copy (np.array(view)) and write back what you need")


def _from_dlpack(fname, argname, t, writable):
    dev = t.__dlpack_device__()
    if int(dev[0]) != 1:  # kDLCPU
        raise ValueError(f"{fname}: {argname} lives on a non-CPU device {tuple(dev)}; fastact runs on the CPU")
    if str(getattr(t, "dtype", "")) == "torch.bfloat16" and not t.requires_grad:
        # NumPy's DLPack import has no bfloat16: share the tensor's memory as
        # int16 and reinterpret it as ml_dtypes.bfloat16 (same bits), which
        # then takes the float32 staging of any bfloat16 array; in place
        # writes land in the tensor's own memory.  A tensor that requires grad
        # goes to from_dlpack as it is, which refuses it as for any dtype (an
        # int16 view would slip past autograd).
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError(f"{fname}: {argname} is a torch.bfloat16 tensor, which needs the "
                            f"ml_dtypes package (pip install ml_dtypes); or pass {argname}.float() and "
                            "convert the result back") from None
        import torch   # already imported: t is one of its tensors
        bf16 = np.dtype(ml_dtypes.bfloat16)
    else:
        bf16 = None
    try:
        a = np.from_dlpack(t if bf16 is None else t.view(torch.int16))
    except (BufferError, TypeError, RuntimeError) as e:
        raise ValueError(f"{fname}: {argname} could not be shared through DLPack: {e}") from None
    if bf16 is not None:
        a = a.view(bf16)
    if writable and not a.flags.writeable:
        try:
            a.flags.writeable = True   # DLPack < 1.0 exports carry no read-only flag
        except ValueError:
            pass   # truly read-only: _as_array says so and how to fix it
    return a


def _direct(a):
    """True when the kernel can run on `a` itself (native float32/64, aligned)."""
    return a.dtype in _NATIVE and a.flags.aligned


def _addr(a):
    return a.__array_interface__["data"][0]


def _check_alias(fname, out, outname, a, aname):
    """out may be `a` itself (same memory, same layout) or disjoint from it."""
    if out is a or not np.may_share_memory(out, a):
        return
    if (out.shape == a.shape and out.strides == a.strides and out.dtype == a.dtype
            and _addr(out) == _addr(a)):
        return
    if np.shares_memory(out, a, max_work=10**6):
        raise ValueError(f"{fname}: {outname} overlaps {aname} partially; pass the same array "
                         "or a separate one")


def _check_out(fname, out, x):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != x.shape:
        raise ValueError(f"{fname}: out has shape {out.shape}, expected {x.shape}")
    if out.dtype != x.dtype:
        raise ValueError(f"{fname}: out has dtype {out.dtype}, expected {x.dtype}")
    out = _as_array(fname, "out", out, writable=True)
    _check_self_overlap(fname, "out", out)
    return out


def _check_same(fname, a, aname, b, bname):
    if a.shape != b.shape:
        raise ValueError(f"{fname}: {aname} has shape {a.shape} but {bname} has shape {b.shape}")
    if a.dtype != b.dtype:
        raise ValueError(f"{fname}: {aname} has dtype {a.dtype} but {bname} has dtype {b.dtype}")


def _staged(a):
    """A native, aligned copy in the compute dtype (same memory order)."""
    return a.astype(_compute_dtype(a.dtype), order="K")


def _store(dst, src):
    """Write the computed values back into `dst`, rounding to its dtype."""
    np.copyto(dst, src, casting="unsafe")


# ----------------------------------------------------------------- forward

def forward(act, fname, vals, x, out, n_threads, inplace):
    given = x
    x = _as_array(fname, "x", x, writable=inplace)
    if inplace:
        _check_self_overlap(fname, "x", x)
        out = x
    elif out is not None:
        out = _check_out(fname, out, x)
        _check_alias(fname, out, "out", x, "x")
    if act.kind == "elementwise":
        spec = _spec(act, fname, vals)
        run = _elementwise_fwd
        _remember_fast(act, vals, spec)
    elif act.kind == "softmax":
        spec = _softmax_spec(act, fname, vals, x)
        run = _softmax_fwd
    else:
        spec = _prelu_spec(act, fname, vals, x)
        run = _prelu_fwd
        if (spec[1] is None and type(vals[0]) in (float, int) and type(vals[1]) is int
                and -2 <= vals[1] <= 1):
            # one slope: leaky_relu's kernel, so the forward gets its fast paths too
            _remember_fast(act, vals, (_kernel_id("relu"), (INF, float(spec[0]), 0.0, 0.0), spec[2], spec[3]))
    nt = _threads.resolve(n_threads, fname)
    # ---- nothing above writes; everything below is past validation ----
    if out is None:
        out = np.empty_like(x, dtype=_compute_dtype(x.dtype) if not _is_staged_dtype(x.dtype) else x.dtype)
    if _direct(x) and _direct(out):
        run(spec, x, out, nt)
    else:
        tmp = _staged(x)
        run(spec, tmp, tmp, nt)
        _store(out, tmp)
    return given if inplace else out   # in place on a tensor returns the tensor


# Per activation: {parameter values: kernel-module Spec} for the fast paths
# (forward and backward; prelu's forward only, with a Python-number slope;
# the gated ones: {values: gate kernel id} for the forward into a new array).
# Filled by the general path once a call with those values has been fully
# validated.  A Spec holds a kernel id and parameters, valid for every CPU
# variant (switching variants swaps only the front's loop table).
_FAST = {a.name: {} for a in TABLE if a.kind in ("elementwise", "prelu", "gated")}


def _remember_fast(act, vals, spec):
    _remember(act, vals, _dispatch.state.kernels.Spec(spec[0], spec[1], spec[2] is None, spec[3], vals))


def _remember(act, vals, value):
    """_FAST[act.name][vals] = value, for validated parameter values."""
    cache = _FAST[act.name]
    if len(cache) > 256:
        cache.clear()
    try:
        cache[vals] = value
    except TypeError:   # unhashable parameter values: no fast path
        pass


def _elementwise_fwd(spec, x, out, nt):
    k, p, _, grain = spec
    _dispatch.state.kernels.elementwise(k, _MODE_FWD, x, None, out, p[0], p[1], p[2], p[3], nt, grain)


# ---------------------------------------------------------------- backward

def _backward_operands(fname, grad, x, y, out, inplace):
    """Check the operands every backward takes: exactly one of x / y, grad of
    the same shape and dtype, and the output (grad itself in place).
    Returns (grad, saved input or output, from_y, out)."""
    if (x is None) == (y is None):
        raise ValueError(f"{fname}: pass exactly one of x (the forward input) or y= (the forward output)")
    from_y = y is not None
    sname = "y" if from_y else "x"
    grad = _as_array(fname, "grad", grad, writable=inplace)
    s = _as_array(fname, sname, y if from_y else x, writable=False)
    _check_same(fname, grad, "grad", s, sname)
    if inplace:
        _check_self_overlap(fname, "grad", grad)
        out = grad
    elif out is not None:
        out = _check_out(fname, out, grad)
        _check_alias(fname, out, "out", grad, "grad")
    if out is not None:
        _check_alias(fname, out, "out" if not inplace else "grad", s, sname)
    return grad, s, from_y, out


def _y_refused(fname, name, reason):
    return ValueError(f"{fname}: y= cannot stand for x for {name} here: {reason}; "
                      "pass the forward input x instead")


def backward(act, fname, vals, grad, x, y, out, n_threads, inplace):
    given = grad
    grad, s, from_y, out = _backward_operands(fname, grad, x, y, out, inplace)
    if act.kind == "elementwise":
        spec = _spec(act, fname, vals)
        run = _elementwise_bwd
        _remember_fast(act, vals, spec)
    elif act.kind == "softmax":
        spec = _softmax_spec(act, fname, vals, s)
        run = _softmax_bwd
    else:
        spec = _prelu_spec(act, fname, vals, s)
        run = _prelu_bwd
    if from_y and spec[2] is not None:
        raise _y_refused(fname, act.name, spec[2])
    nt = _threads.resolve(n_threads, fname)
    # ---- nothing above writes; everything below is past validation ----
    if out is None:
        out = np.empty_like(grad, dtype=_compute_dtype(grad.dtype) if not _is_staged_dtype(grad.dtype)
                            else grad.dtype)
    if _direct(grad) and _direct(s) and _direct(out):
        extra = run(spec, grad, s, from_y, out, nt)
    else:
        tg = _staged(grad)
        extra = run(spec, tg, _staged(s), from_y, tg, nt)
        _store(out, tg)
    if inplace:
        out = given
    return out if extra is None else (out, extra)


def _elementwise_bwd(spec, g, s, from_y, out, nt):
    k, p, _, grain = spec
    _dispatch.state.kernels.elementwise(k, _MODE_BWDY if from_y else _MODE_BWD, g, s, out,
                                        p[0], p[1], p[2], p[3], nt, grain)


# ------------------------------------------------------------------ softmax

def _softmax_spec(act, fname, vals, x):
    axis = _check_param(fname, act.params[0], vals[0])
    nd = max(x.ndim, 1)
    if not -nd <= axis < nd:
        raise ValueError(f"{fname}: axis {axis} is out of range for an array with {x.ndim} dimensions")
    return (axis % nd, act.name == "log_softmax", None, GRAIN["transc"])


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
    K = _dispatch.state.kernels
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


# -------------------------------------------------------------------- prelu

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
    return (a, axis, _PRELU_Y, GRAIN["cheap"])


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
    K = _dispatch.state.kernels
    ct = x.dtype
    if axis is None:
        K.elementwise(_kernel_id("relu"), _MODE_FWD, x, None, out, INF, float(a.reshape(())
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
    K = _dispatch.state.kernels
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


# ------------------------------------------------------------------ gated

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


def _contig(a):
    """C-contiguous, aligned, native compute-dtype array with a's values
    (a itself when it already is one)."""
    return np.ascontiguousarray(a, dtype=_compute_dtype(a.dtype))


def _target(out, shape, dtype):
    """Where a kernel writes: `out` itself when it can (native, aligned,
    C-contiguous), else a new C-contiguous array of the compute dtype."""
    if out is not None and _direct(out) and out.flags.c_contiguous:
        return out
    return np.empty(shape, dtype=dtype)


def _deliver(res, out, dtype):
    """The call's result: `res` in the caller's dtype, or `out` filled from it."""
    if out is None:
        return res if res.dtype == dtype else res.astype(dtype)
    if res is not out:
        _store(out, res)
    return out


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
        _dispatch.state.kernels.gated(gid, 0, None, xc, res, outer, M, nt, GRAIN["transc"])
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
        _dispatch.state.kernels.gated(gid, 1, gc, xc, res, outer, M, nt, GRAIN["transc"])
    return _deliver(res, out, x.dtype)


# ------------------------------------------------------------ fused bias

# bias_act's activation by name, without parameters: (table row, spec, kernel
# Spec for fast_bias); the resolution below costs ~3 us, a third of a small
# call.  Emptied with _FAST when the kernel module changes (specs hold kernel
# ids; Spec objects belong to one module).
_BIAS_DEFAULT = {}


def _bias_setup(fname, x, bias, act, params):
    hit = _BIAS_DEFAULT.get(act) if not params and type(act) is str else None
    if hit is not None:
        row, spec = hit[0], hit[1]
    else:
        if isinstance(act, Functions):
            fns = act
        elif type(act) is str and act in _FUNCTIONS:
            fns = _FUNCTIONS[act]
        elif isinstance(act, str):
            raise ValueError(f"{fname}: unknown activation {act!r} for act{_did_you_mean(act, _FUNCTIONS)}; "
                             f"known: {', '.join(sorted(_FUNCTIONS))}")
        else:
            raise TypeError(f"{fname}: act must be an activation name or fastact.get(name), "
                            f"got {type(act).__name__}")
        row = BY_NAME[fns.name]
        if row.kind != "elementwise":
            raise ValueError(f"{fname}: act must be an element-wise activation, got {fns.name!r}")
        unknown = set(params) - set(fns.params)
        if unknown:
            bad = sorted(unknown)[0]
            hint = _ALIASES.get(bad)
            hint = hint if hint in fns.params else (difflib.get_close_matches(bad, list(fns.params), n=1)
                                                    or [None])[0]
            raise TypeError(f"{fname}: unexpected parameter(s) {sorted(unknown)} for {fns.name}"
                            + (f"; did you mean {hint!r}?" if hint else ""))
        vals = tuple(params.get(p.name, p.default) for p in row.params)
        spec = _spec(row, fname, vals)
        if not params and type(act) is str:
            _BIAS_DEFAULT[act] = (row, spec, _dispatch.state.kernels.Spec(spec[0], spec[1], spec[2] is None,
                                                                          spec[3]))
    if x.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension (bias is on the last axis)")
    ct = _compute_dtype(x.dtype)
    if (type(bias) is np.ndarray and bias.dtype == ct and bias.shape == (x.shape[-1],)
            and bias.flags.c_contiguous and bias.flags.aligned and not np.may_share_memory(bias, x)):
        return row, spec, bias          # already what the kernel reads
    if isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"{fname}: bias must be a 1-D float array")
    b = np.asarray(bias)
    if b.dtype.kind not in "fiu":
        raise TypeError(f"{fname}: bias must be real, got dtype {b.dtype}")
    if b.shape != (x.shape[-1],):
        raise ValueError(f"{fname}: bias has shape {b.shape}, expected ({x.shape[-1]},) (the last axis of x)")
    b = np.ascontiguousarray(b, dtype=ct)
    if np.may_share_memory(b, x):       # e.g. a row of x, in place: read it before x changes
        b = b.copy()
    return row, spec, b


def bias_act(x, bias, act="linear", *, out=None, n_threads=None, **params):
    """bias_act(x, bias, act, **params): act(x + bias) with bias on the last
    axis, in one pass over memory.  `act` is an element-wise activation name
    (or fastact.get(name)); its parameters are passed as keywords."""
    if not params and out is None and type(x) is np.ndarray and type(act) is str:
        hit = _BIAS_DEFAULT.get(act)        # validated before: the C path may take it
        if hit is not None:
            y = _dispatch.state.kernels.fast_bias(hit[2], x, bias, None, n_threads, np.empty_like)
            if y is not None:
                return y
    return _bias_forward("bias_act", x, bias, act, params, out, n_threads, False)


def bias_act_(x, bias, act="linear", *, n_threads=None, **params):
    """bias_act_(x, bias, act, **params): x = act(x + bias), in place."""
    if not params and type(x) is np.ndarray and type(act) is str:
        hit = _BIAS_DEFAULT.get(act)
        if hit is not None and _dispatch.state.kernels.fast_bias(hit[2], x, bias, x, n_threads,
                                                                 None) is not None:
            return x
    return _bias_forward("bias_act_", x, bias, act, params, None, n_threads, True)


def _bias_forward(fname, x, bias, act, params, out, n_threads, inplace):
    x = _as_array(fname, "x", x, writable=inplace)
    row, spec, b = _bias_setup(fname, x, bias, act, params)
    if inplace:
        _check_self_overlap(fname, "x", x)
        out = x
    elif out is not None:
        out = _check_out(fname, out, x)
        _check_alias(fname, out, "out", x, "x")
    nt = _threads.resolve(n_threads, fname)
    k, p, _, grain = spec
    if out is None:
        out = np.empty(x.shape, dtype=x.dtype if not _is_staged_dtype(x.dtype) else x.dtype)
    elif out is not x and np.may_share_memory(b, out):
        b = b.copy()                    # written while read otherwise
    C = x.shape[-1]
    K = _dispatch.state.kernels
    if _direct(x) and _direct(out) and x.flags.c_contiguous and out.flags.c_contiguous:
        if x.size:
            K.bias_rows(k, 0, x.reshape(-1, C), None, b, out.reshape(-1, C), x.size // C, C,
                        p[0], p[1], p[2], p[3], nt, grain)
        return out
    t = np.array(x, dtype=_compute_dtype(x.dtype), order="C")
    if t.size:
        K.bias_rows(k, 0, t.reshape(-1, C), None, b, t.reshape(-1, C), t.size // C, C,
                    p[0], p[1], p[2], p[3], nt, grain)
    _store(out, t)
    return out


def bias_act_backward(grad, x=None, *, y=None, bias, act="linear", out=None, n_threads=None, **params):
    """(grad_x, grad_bias) of act(x + bias): x is the PRE-bias input, or give
    y= (the forward output) where the activation's backward accepts it."""
    return _bias_backward("bias_act_backward", grad, x, y, bias, act, params, out, n_threads, False)


def bias_act_backward_(grad, x=None, *, y=None, bias, act="linear", n_threads=None, **params):
    """In place: writes grad_x into grad, returns (grad, grad_bias)."""
    return _bias_backward("bias_act_backward_", grad, x, y, bias, act, params, None, n_threads, True)


def _bias_backward(fname, grad, x, y, bias, act, params, out, n_threads, inplace):
    grad, s, from_y, out = _backward_operands(fname, grad, x, y, out, inplace)
    row, spec, b = _bias_setup(fname, s, bias, act, params)
    if from_y and spec[2] is not None:
        raise _y_refused(fname, row.name, spec[2])
    nt = _threads.resolve(n_threads, fname)
    k, p, _, grain = spec
    C = s.shape[-1]
    K = _dispatch.state.kernels
    gc, sc = _contig(grad), _contig(s)
    res = out if (out is not None and _direct(out) and out.flags.c_contiguous and
                  (out is grad or not np.may_share_memory(out, gc))) else np.empty(s.shape, gc.dtype)
    if np.may_share_memory(b, res):
        b = b.copy()                    # written while read otherwise
    if s.size:
        K.bias_rows(k, 2 if from_y else 1, gc.reshape(-1, C), sc.reshape(-1, C), b, res.reshape(-1, C),
                    s.size // C, C, p[0], p[1], p[2], p[3], nt, grain)
    gbias = (res.reshape(-1, C).sum(axis=0, dtype=np.float64) if C else np.zeros(0)).astype(grad.dtype)
    return _deliver(res, out, grad.dtype), gbias


# ------------------------------------------------------------- generation

class Functions:
    """What fastact.get(name) returns: the four functions of one activation."""

    def __init__(self, act, fns):
        self.name = act.name
        self.params = {p.name: p.default for p in act.params}
        self.formula = act.formula
        self.forward, self.forward_, self.backward, self.backward_ = fns

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"<fastact activation {self.name}({ps})>"


_TEMPLATE = '''
def {name}(x, {pos}*, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    if type(x) is _ndarray and (out is None or type(out) is _ndarray):{pre_fwd}
        v = ({vals})
        try:
            spec = _fc.get(v)
        except TypeError:       # unhashable (a list, an array): the general path names it
            spec = None
        if spec is not None:
            y = _kcall(spec, v, 0, x, None, out, n_threads, _empty_like)
            if y is not None:
                return y
    return _forward(_act, "{name}", ({vals}), x, out, n_threads, False)

def {name}_(x, {pos}*, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_", _kw){pre_ip}
    v = ({vals})
    try:
        spec = _fc.get(v)
    except TypeError:
        spec = None
    if spec is not None and _kfast(spec, v, x, n_threads) is not None:
        return x
    return _forward(_act, "{name}_", ({vals}), x, None, n_threads, True)

def {name}_backward(grad, x=None, *, y=None, {kw}out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    if type(grad) is _ndarray and (out is None or type(out) is _ndarray):
        v = ({vals})
        try:
            spec = _fcb.get(v)
        except TypeError:       # unhashable (a list, an array): the general path names it
            spec = None
        if spec is not None and (x is None) != (y is None) and type(y if x is None else x) is _ndarray:
            r = _kcall(spec, v, 1 if y is None else 2, grad, y if x is None else x, out, n_threads, _empty_like)
            if r is not None:
                return r
    return _backward(_act, "{name}_backward", ({vals}), grad, x, y, out, n_threads, False)

def {name}_backward_(grad, x=None, *, y=None, {kw}n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward_", _kw)
    if type(grad) is _ndarray:
        v = ({vals})
        try:
            spec = _fcb.get(v)
        except TypeError:       # unhashable (a list, an array): the general path names it
            spec = None
        if (spec is not None and (x is None) != (y is None) and type(y if x is None else x) is _ndarray
                and _kcall(spec, v, 1 if y is None else 2, grad, y if x is None else x, grad, n_threads,
                           _empty_like) is not None):
            return grad
    return _backward(_act, "{name}_backward_", ({vals}), grad, x, y, None, n_threads, True)
'''


# prelu's forward forms first offer a per-channel alpha array to fast_prelu,
# which checks x, alpha (finite, x's dtype, one per channel) and axis itself;
# a Python-number slope then takes leaky_relu's path through _fc.
_PRELU_PRE = {
    "pre_fwd": """
        if type(alpha) is _ndarray:
            y = _kprelu(x, alpha, axis, out, n_threads, _GRAIN, _PRELU_ROW, _empty_like)
            if y is not None:
                return y""",
    "pre_ip": """
    if (type(alpha) is _ndarray and type(x) is _ndarray
            and _kprelu(x, alpha, axis, x, n_threads, _GRAIN, _PRELU_ROW, None) is not None):
        return x""",
}


# softmax / log_softmax: the C-contiguous call with an int axis is decided and
# run in C (fast_softmax); anything else, or anything it declines, takes the
# general path.  Backward from x (which needs a forward first) always does.
_TEMPLATE_SOFTMAX = '''
def {name}(x, axis=-1, *, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    if type(x) is _ndarray and type(axis) is int and (out is None or type(out) is _ndarray):
        y = _ksoft(0, x, None, out, axis, _LOG, n_threads, _GRAIN, _empty_like)
        if y is not None:
            return y
    return _forward(_act, "{name}", (axis, ), x, out, n_threads, False)

def {name}_(x, axis=-1, *, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_", _kw)
    if (type(x) is _ndarray and type(axis) is int
            and _ksoft(0, x, None, x, axis, _LOG, n_threads, _GRAIN, _empty_like) is not None):
        return x
    return _forward(_act, "{name}_", (axis, ), x, None, n_threads, True)

def {name}_backward(grad, x=None, *, y=None, axis=-1, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    if (x is None and type(grad) is _ndarray and type(y) is _ndarray and type(axis) is int
            and (out is None or type(out) is _ndarray)):
        r = _ksoft(2, grad, y, out, axis, _LOG, n_threads, _GRAIN, _empty_like)
        if r is not None:
            return r
    return _backward(_act, "{name}_backward", (axis, ), grad, x, y, out, n_threads, False)

def {name}_backward_(grad, x=None, *, y=None, axis=-1, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward_", _kw)
    if (x is None and type(grad) is _ndarray and type(y) is _ndarray and type(axis) is int
            and _ksoft(2, grad, y, grad, axis, _LOG, n_threads, _GRAIN, _empty_like) is not None):
        return grad
    return _backward(_act, "{name}_backward_", (axis, ), grad, x, y, None, n_threads, True)
'''


# Keyword names that users bring from other frameworks -> fastact's name
_ALIASES = {"dim": "axis", "negative_slope": "alpha", "min_val": "min", "max_val": "max",
            "max_value": "max", "weight": "alpha", "lambda_": "lambd", "lamb": "lambd",
            "default_value": "value"}


def _unexpected(act, fname, kw):
    """TypeError for keyword arguments fname does not take, with the right name
    where the intent is clear."""
    name = next(iter(kw))
    msg = f"{fname}() got an unexpected keyword argument {name!r}"
    if name == "inplace":
        if act.kind == "gated" or fname.endswith("_"):
            raise TypeError(f"{msg}; {fname} has no in-place switch")
        raise TypeError(f"{msg}; use {fname}_ to work in place")
    known = [p.name for p in act.params] + ["out", "n_threads"]
    if "backward" in fname:
        known += ["grad", "x", "y"]
    hint = _ALIASES.get(name)
    if hint not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = close[0] if close else None
    raise TypeError(msg + (f"; did you mean {hint!r}?" if hint else ""))


def _param_list(act, required_ok):
    parts = []
    for p in act.params:
        if p.kind == "alpha" and required_ok:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={p.default!r}")
    return "".join(s + ", " for s in parts)


def _y_note(act):
    if act.kind in ("prelu", "gated"):
        return "no (pass x)"
    if not act.params:
        return "yes" if act.y_ok() is None else "no (pass x)"
    return "depends on the parameters (see the README)"


def _doc(act, form):
    params = "".join(f"\n    {p.name} : default {p.default!r}. {p.doc}" for p in act.params)
    heads = {
        "": f"{act.name}(x): out-of-place forward; returns a new array (or fills `out`).",
        "_": f"{act.name}_(x): forward in place; overwrites x and returns it.",
        "_backward": f"{act.name}_backward(grad, x | y=): returns grad * f'(x).",
        "_backward_": f"{act.name}_backward_(grad, x | y=): writes grad * f'(x) into grad, returns it.",
    }
    return (f"{heads[form]}\n\n    f(x) = {act.formula}\n    PyTorch: {act.pytorch}\n"
            f"    Backward from y= (the forward output): {_y_note(act)}.\n"
            f"\n    Parameters{params}\n    n_threads : None (default), an int >= 1, or -1 (all usable CPUs).\n")


_TEMPLATE_GATED = '''
def {name}(x, {pos}*, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    if out is None and type(x) is _ndarray:
        v = ({vals})
        try:
            gid = _fc.get(v)
        except TypeError:       # unhashable: the general path names it
            gid = None
        if gid is not None:
            y = _kgated(gid, v, x, v[0], n_threads, _GRAIN, _empty)
            if y is not None:
                return y
    return _gated_forward(_act, "{name}", ({vals}), x, out, n_threads)

def {name}_backward(grad, x, *, {kw}out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    return _gated_backward(_act, "{name}_backward", ({vals}), grad, x, out, n_threads)
'''


def _public_signature(f):
    """f's signature without the **_kw that only catches misspelled keywords."""
    sig = inspect.signature(f)
    return sig.replace(parameters=[p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD])


def _generate():
    """Build the public functions of every table row (four forms; two for the
    gated ones, whose output has half the input's size)."""
    out = {}
    for act in TABLE:
        if act.kind == "gated":
            ns = {"_gated_forward": gated_forward, "_gated_backward": gated_backward, "_act": act,
                  "_fc": _FAST[act.name], "_kgated": _dispatch.state.kernels.fast_gated,
                  "_ndarray": np.ndarray, "_empty": np.empty, "_GRAIN": GRAIN["transc"],
                  "_unexpected": _unexpected}
            vals = "".join(p.name + ", " for p in act.params)
            src = _TEMPLATE_GATED.format(name=act.name, pos=_param_list(act, True),
                                         kw=_param_list(act, True), vals=vals)
            exec(compile(src, f"<fastact generated: {act.name}>", "exec"), ns)
            fns = []
            for form in ("", "_backward"):
                f = ns[act.name + form]
                f.__module__ = "fastact"
                f.__qualname__ = f.__name__
                f.__doc__ = _doc(act, form)
                f.__signature__ = _public_signature(f)
                out[f.__name__] = f
                fns.append(f)
            _FUNCTIONS[act.name] = Functions(act, [fns[0], None, fns[1], None])
            continue
        K = _dispatch.state.kernels
        ns = {"_forward": forward, "_backward": backward, "_act": act,
              "_fc": _FAST.get(act.name, {}),
              "_fcb": {} if act.kind == "prelu" else _FAST.get(act.name, {}),   # prelu's returns a pair
              "_kfast": K.fast_inplace, "_kcall": K.fast_call, "_ksoft": K.fast_softmax,
              "_ndarray": np.ndarray, "_empty_like": np.empty_like, "_unexpected": _unexpected,
              "_LOG": act.name == "log_softmax", "_GRAIN": GRAIN["transc"]}
        vals = "".join(p.name + ", " for p in act.params)
        template = _TEMPLATE_SOFTMAX if act.kind == "softmax" else _TEMPLATE
        pre = {"pre_fwd": "", "pre_ip": ""}
        if act.kind == "prelu":     # a per-channel alpha array: fast_prelu checks it all itself
            pre = _PRELU_PRE
            ns.update(_kprelu=K.fast_prelu, _PRELU_ROW=_PRELU_ROW, _GRAIN=GRAIN["cheap"])
        src = template.format(name=act.name, pos=_param_list(act, True), kw=_param_list(act, True),
                              vals=vals, **pre)
        exec(compile(src, f"<fastact generated: {act.name}>", "exec"), ns)
        fns = []
        for form in ("", "_", "_backward", "_backward_"):
            f = ns[act.name + form]
            f.__module__ = "fastact"
            f.__qualname__ = f.__name__
            f.__doc__ = _doc(act, form)
            f.__signature__ = _public_signature(f)
            out[f.__name__] = f
            fns.append(f)
        out[act.name] = ns[act.name]
        _FUNCTIONS[act.name] = Functions(act, fns)
    return out


_FUNCTIONS = {}


def _did_you_mean(word, names):
    close = difflib.get_close_matches(word, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def get(name):
    """The activation `name` (like keras.activations.get): an object with
    .name, .params (defaults), .formula and .forward/.forward_/.backward/.backward_."""
    if isinstance(name, Functions):
        return name
    try:
        return _FUNCTIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"fastact.get: unknown activation {name!r}; known: {', '.join(sorted(_FUNCTIONS))}") from None
