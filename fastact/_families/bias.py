"""Fused bias + activation: act(x + bias) with bias on the last axis, in one
pass over memory, for any element-wise activation, and its backward."""
import numpy as np

from .. import _duck, _front, _threads
from .._arrays import (_as_array, _backward_operands, _c_dest, _compute_dtype, _contig, _deliver, _direct,
                       _half_code, _half_c, _half_ok, _is_bf16, _staged, _store, _written)
from .._params import _did_you_mean, _keyword_hint, _spec, _y_refused
from .._table import BY_NAME

_BIAS_ROW = 1 << 14     # elements per chunk of the grad_bias sums


def _bias_rpc(nrow, C):
    """Rows per chunk of the grad_bias sums: 16384 // C, but no more than
    max(8, 65536 // C) chunks, so that the float64 partial sums of wide rows
    stay small (at most 8 rows of them).  The shape alone fixes it, never
    the thread count."""
    if C == 0 or nrow == 0:
        return 1
    rpc = max(1, _BIAS_ROW // C)
    most = max(8, 4 * _BIAS_ROW // C)
    return rpc if -(-nrow // rpc) <= most else -(-nrow // most)

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
        from .._registry import Functions     # the registry imports the public functions
        name = act.name if isinstance(act, Functions) else act
        if not isinstance(name, str):
            raise TypeError(f"{fname}: act must be an activation name or fastact.get(name), "
                            f"got {type(act).__name__}")
        row = BY_NAME.get(name)
        if row is None:
            raise ValueError(f"{fname}: unknown activation {name!r} for act{_did_you_mean(name, BY_NAME)}; "
                             f"known: {', '.join(sorted(BY_NAME))}")
        if row.kind != "elementwise":
            raise ValueError(f"{fname}: act must be an element-wise activation, got {name!r}")
        names = [p.name for p in row.params]
        unknown = set(params) - set(names)
        if unknown:
            raise TypeError(f"{fname}: unexpected parameter(s) {sorted(unknown)} for {name}"
                            + _keyword_hint(sorted(unknown)[0], names))
        vals = tuple(params.get(p.name, p.default) for p in row.params)
        spec = _spec(row, fname, vals)
        if not params and type(act) is str:
            _BIAS_DEFAULT[act] = (row, spec, _front.Spec(spec.kernel, spec.params, spec.y_reason is None,
                                                         spec.grain))
    if x.ndim == 0:
        raise ValueError(f"{fname}: x must have at least one dimension (bias is on the last axis)")
    ct = _compute_dtype(x.dtype)
    if (type(bias) is np.ndarray and bias.dtype == ct and bias.shape == (x.shape[-1],)
            and bias.flags.c_contiguous and bias.flags.aligned and not np.may_share_memory(bias, x)):
        return row, spec, bias          # already what the kernel reads
    if isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"{fname}: bias must be a 1-D float array")
    b = np.asarray(bias)
    if _is_bf16(b.dtype):               # ml_dtypes.bfloat16: widened exactly
        b = b.astype(np.float32)
    if b.dtype.kind not in "fiu":
        raise TypeError(f"{fname}: bias must be real, got dtype {b.dtype}")
    if b.shape != (x.shape[-1],):
        raise ValueError(f"{fname}: bias has shape {b.shape}, expected ({x.shape[-1]},) (the last axis of x)")
    b = np.ascontiguousarray(b, dtype=ct)
    if np.may_share_memory(b, x):       # e.g. a row of x, in place: read it before x changes
        b = b.copy()
    return row, spec, b


def _act_params(fname, act_params, params):
    """The activation's parameters: the keywords, plus act_params, a dict for
    the names bias_act takes itself (shrink's `bias`)."""
    if act_params is None:
        return params
    if not isinstance(act_params, dict):
        raise TypeError(f"{fname}: act_params must be a dict of the activation's parameters, "
                        f"got {type(act_params).__name__}")
    both = sorted(set(act_params) & set(params))
    if both:
        raise TypeError(f"{fname}: {both[0]!r} given both as a keyword and in act_params")
    return {**params, **act_params}


def bias_act(x, bias, act="linear", *, out=None, n_threads=None, act_params=None, **params):
    """bias_act(x, bias, act, **params): act(x + bias) with bias on the last
    axis, in one pass over memory.  `act` is an element-wise activation name
    (or fastact.get(name)); its parameters are passed as keywords, or in the
    dict act_params (for a name bias_act takes itself, e.g. shrink's bias)."""
    params = _act_params("bias_act", act_params, params)
    if not params and out is None and type(x) is np.ndarray and type(act) is str:
        hit = _BIAS_DEFAULT.get(act)        # validated before: the C path may take it
        if hit is not None:
            y = _front.fast_bias(hit[2], x, bias, None, n_threads, _front.empty_like)
            if y is not None:
                return y
    return _bias_forward("bias_act", x, bias, act, params, out, n_threads, False)


def bias_act_(x, bias, act="linear", *, n_threads=None, act_params=None, **params):
    """bias_act_(x, bias, act, **params): x = act(x + bias), in place."""
    params = _act_params("bias_act_", act_params, params)
    if not params and type(x) is np.ndarray and type(act) is str:
        hit = _BIAS_DEFAULT.get(act)
        if hit is not None and _front.fast_bias(hit[2], x, bias, x, n_threads,
                                                                 None) is not None:
            return x
    return _bias_forward("bias_act_", x, bias, act, params, None, n_threads, True)


def _bias_forward(fname, x, bias, act, params, out, n_threads, inplace, check=False):
    """check=True: the checks alone, nothing computed (dask proxies)."""
    if type(x) is not np.ndarray and _duck.kind(x) is not None:
        return _duck.call(fname, inplace, out, {"x": x}, dict(params, bias=bias, act=act, n_threads=n_threads),
                          lambda a, k: _bias_forward(fname, a["x"], bias, act, params, None, n_threads, False,
                                                     True),
                          axes=(-1,))
    x = _as_array(fname, "x", x, writable=inplace)
    row, spec, b = _bias_setup(fname, x, bias, act, params)
    out = _written(fname, x, "x", out, inplace)
    nt = _threads.resolve(n_threads, fname)
    if check:
        return None
    k, p, _, grain = spec
    if out is None:     # C order, as the row loops need; placed like x when x is C-contiguous
        out = _front.empty_like(x) if x.flags.c_contiguous else np.empty(x.shape, dtype=x.dtype)
    elif out is not x and np.may_share_memory(b, out):
        b = b.copy()                    # written while read otherwise
    C = x.shape[-1]
    K = _front
    if _direct(x) and _direct(out) and x.flags.c_contiguous and out.flags.c_contiguous:
        if x.size:
            K.bias_rows(k, 0, x.reshape(-1, C), None, b, out.reshape(-1, C), x.size // C, C,
                        p[0], p[1], p[2], p[3], nt, grain)
        return out
    if _half_ok(x, out):
        code = _half_code(x)
        # float16 / bfloat16: the front stages blocks of rows (bias in
        # float32); other layouts than C order as C-ordered copies in their
        # format (a copy of x is private: written in place, then stored)
        xc = _half_c(x)
        oc = _c_dest(out, xc, x)
        K.bias_rows(k, 0, xc.view(np.uint16), None, b, oc.view(np.uint16), x.size // C, C,
                    p[0], p[1], p[2], p[3], nt, grain, code)
        if oc is not out:
            np.copyto(out, oc)
        return out
    t = _staged(x, order="C", nt=nt)
    if t.size:
        K.bias_rows(k, 0, t.reshape(-1, C), None, b, t.reshape(-1, C), t.size // C, C,
                    p[0], p[1], p[2], p[3], nt, grain)
    _store(out, t, nt)
    return out


def bias_act_backward(grad, x=None, *, y=None, bias, act="linear", out=None, n_threads=None,
                      act_params=None, **params):
    """(grad_x, grad_bias) of act(x + bias): x is the PRE-bias input, or give
    y= (the forward output) where the activation's backward accepts it."""
    params = _act_params("bias_act_backward", act_params, params)
    return _bias_backward("bias_act_backward", grad, x, y, bias, act, params, out, n_threads, False)


def bias_act_backward_(grad, x=None, *, y=None, bias, act="linear", n_threads=None,
                       act_params=None, **params):
    """In place: writes grad_x into grad, returns (grad, grad_bias)."""
    params = _act_params("bias_act_backward_", act_params, params)
    return _bias_backward("bias_act_backward_", grad, x, y, bias, act, params, None, n_threads, True)


def _bias_backward(fname, grad, x, y, bias, act, params, out, n_threads, inplace, check=False):
    """check=True: the checks alone, nothing computed (dask proxies)."""
    if (not (type(grad) is np.ndarray and type(x if y is None else y) is np.ndarray)
            and _duck.first_kind(grad, x, y) is not None):
        sname = "y" if x is None else "x"
        return _duck.call(fname, inplace, out, {"grad": grad, sname: y if x is None else x},
                          dict(params, bias=bias, act=act, n_threads=n_threads),
                          lambda a, k: _bias_backward(fname, a["grad"], a.get("x"), a.get("y"), bias, act, params,
                                                      None, n_threads, False, True),
                          template="grad", axes=(-1,), second="bias")
    grad, s, from_y, out = _backward_operands(fname, grad, x, y, out, inplace)
    row, spec, b = _bias_setup(fname, s, bias, act, params)
    if from_y and spec.y_reason is not None:
        raise _y_refused(fname, row.name, spec.y_reason)
    nt = _threads.resolve(n_threads, fname)
    if check:
        return None
    k, p, _, grain = spec
    C = s.shape[-1]
    K = _front
    h = _half_code(grad) if _half_ok(grad, s, out) else 0
    if h:       # float16 / bfloat16: the front stages blocks of rows (bias in float32)
        gc, sc = _half_c(grad), _half_c(s)     # other layouts: C-ordered copies in their format
        res = _c_dest(out, gc, grad)         # a copy of grad is private: written, then delivered
    else:
        gc, sc = _contig(grad), _contig(s)
        res = out if (out is not None and _direct(out) and out.flags.c_contiguous and
                      (out is grad or not np.may_share_memory(out, gc))) else np.empty(s.shape, gc.dtype)
    if np.may_share_memory(b, res):
        b = b.copy()                    # written while read otherwise
    # grad_bias: float64 column sums of grad_x (before a half result is
    # rounded) per chunk of _BIAS_ROW // C rows in row order, then over the
    # chunks: a fixed order whatever the thread count
    nrow = s.size // C if C else 0
    rpc = _bias_rpc(nrow, C)
    gsum = np.zeros(((nrow + rpc - 1) // rpc, C), dtype=np.float64)
    if s.size:
        v = (lambda a: a.view(np.uint16).reshape(-1, C)) if h else (lambda a: a.reshape(-1, C))
        K.bias_rows(k, 2 if from_y else 1, v(gc), v(sc), b, v(res), nrow, C, p[0], p[1], p[2], p[3], nt, grain,
                    h, gsum, rpc)
    total = gsum.sum(axis=0)
    total[np.isnan(total)] = np.nan     # a NaN sum: the default quiet NaN (as prelu's grad_alpha)
    gbias = total.astype(grad.dtype)
    return _deliver(res, out, grad.dtype), gbias
