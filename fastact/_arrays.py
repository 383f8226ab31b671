"""Array arguments: coercion (ndarray, DLPack tensors, array-likes), dtype
rules, half-precision staging, and the checks on what a call writes (shape,
dtype, writability, aliasing, self-overlap)."""
import numpy as np

from . import _front

_NATIVE = {np.dtype(np.float32): 4, np.dtype(np.float64): 8}


_STAGED_F32 = {np.dtype(np.float16)}   # + ml_dtypes.bfloat16, detected by name


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


_HALF_F16 = np.dtype(np.float16)


def _half_code(a):
    """1 (float16) or 2 (bfloat16) when the element-wise half loops can run on
    `a` itself (native byte order, aligned; _front.elementwise's half=), else 0."""
    dt = a.dtype
    if dt.itemsize != 2 or not a.flags.aligned:
        return 0
    if dt == _HALF_F16:
        return 1
    return 2 if _is_bf16(dt) else 0


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


_BF16 = set()       # the bfloat16 dtypes seen, each told to the front's fast paths once


def _is_bf16(dt):
    if dt in _BF16:
        return True
    if dt.itemsize == 2 and dt.kind == "V" and dt.name == "bfloat16":
        _BF16.add(dt)
        _front.set_bfloat16(dt)
        return True
    return False


def _staged(a, order="K", nt=1):
    """A native, aligned copy in the compute dtype (memory order `order`;
    nt: threads for a conversion in the front)."""
    code = _half_code(a)
    if code and a.flags.c_contiguous:
        # the loop table's block conversions (F16C where the CPU has it):
        # _staged_np's bits, several times faster
        f = np.empty(a.shape, np.float32)
        _front.half_convert(code, a.reshape(-1).view(np.uint16), f.reshape(-1), nt)
        return f
    return _staged_np(a, order)


def _staged_np(a, order="K"):
    """_staged in NumPy, the definition the loop table's conversions meet.
    bfloat16 widens by its bits (exact for every value, NaN payloads and
    signaling NaNs included, which ml_dtypes' cast turns into one NaN)."""
    if _is_bf16(a.dtype):
        u = a.view(np.uint16).astype(np.uint32, order=order)
        u <<= 16
        return u.view(np.float32)
    return a.astype(_compute_dtype(a.dtype), order=order)


def _store(dst, src, nt=1):
    """Write the computed values back into `dst`, rounding to its dtype
    (nt: threads for a conversion in the front)."""
    if type(src) is np.ndarray and src.dtype == dst.dtype:
        np.copyto(dst, src)         # bit for bit (a bfloat16 signaling NaN too)
        return
    code = _half_code(dst)
    if (code and dst.flags.c_contiguous and type(src) is np.ndarray and src.dtype == np.float32
            and src.flags.c_contiguous and src.shape == dst.shape):
        _front.half_convert(code, src.reshape(-1), dst.reshape(-1).view(np.uint16), nt)
        return
    _store_np(dst, src)


def _store_np(dst, src):
    """_store in NumPy, the definition the loop table's conversions meet
    (bfloat16: to nearest even by bits; a NaN keeps its sign and top payload
    bits, quieted only if they would read as infinity)."""
    if _is_bf16(dst.dtype):
        u = np.asarray(src, dtype=np.float32).view(np.uint32)
        hi = u >> 16
        r = (u + 0x7FFF + (hi & 1)) >> 16                 # wraps only for NaNs, replaced below
        nan = (u & 0x7FFFFFFF) > 0x7F800000
        r = np.where(nan, np.where(hi & 0x7F, hi, hi | 0x40), r)
        np.copyto(dst.view(np.uint16), r.astype(np.uint16))
        return
    np.copyto(dst, src, casting="unsafe")


def _half_ok(*arrays):
    """float16 or bfloat16 arrays of one format, not empty, at least 1-D
    (None: no array): the row families run them in their own format, the
    front staging blocks of rows of C-ordered data (_half_c)."""
    code = _half_code(arrays[0])
    a0 = arrays[0]
    return bool(code) and a0.ndim > 0 and a0.size > 0 and all(
        a is None or _half_code(a) == code for a in arrays[1:])


def _half_c(a):
    """`a` itself when C-contiguous, else a C-ordered copy in its own format
    (bit for bit: a half copy, never a float32 one)."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _c_dest(out, copy, src):
    """Where a path that needs C order writes: `out` when C-contiguous, else
    `copy` when it is a private C-ordered copy of `src` (written in place,
    then stored into out), else a new C-ordered array of src's shape and
    dtype."""
    if out is not None and out.flags.c_contiguous:
        return out
    return copy if copy is not src else np.empty(src.shape, src.dtype)


def _contig(a):
    """C-contiguous, aligned, native compute-dtype array with a's values
    (a itself when it already is one)."""
    if _is_staged_dtype(a.dtype):
        return _staged(a, order="C")
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
        if res.dtype == dtype:
            return res
        out = np.empty(res.shape, dtype)
    if res is not out:
        _store(out, res)
    return out


def _written(fname, a, aname, out, inplace):
    """What a call writes: `a` itself in place (no self-overlapping view),
    else `out` (checked, and `a` itself or apart from it), or None for a new
    array."""
    if inplace:
        _check_self_overlap(fname, aname, a)
        return a
    if out is not None:
        out = _check_out(fname, out, a)
        _check_alias(fname, out, "out", a, aname)
    return out


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
    out = _written(fname, grad, "grad", out, inplace)
    if out is not None:
        _check_alias(fname, out, "out" if not inplace else "grad", s, sname)
    return grad, s, from_y, out
