"""Duck arrays through the out-of-place forms: a dask Array stays lazy, an
xarray DataArray keeps its dims, coords, attrs and name, a pandas Series or
DataFrame its index, columns and name.

Only the general paths call in here (the C fast paths take exact ndarrays),
and `kind` reads the type's module name and `sys.modules`: it never imports
dask, xarray or pandas, which cannot be in use unless already imported.

dask: every parameter and shape is checked at call time on zero-stride
proxies of the operands' full shapes (the general path with check=True, which
returns before anything is computed), so a bad call raises before a graph
exists.  The blocks then run the same public function; an axis the function
reduces or splits (softmax's axes, the gated halves, bias_act's last axis, a
per-channel alpha's axes) is rechunked to one chunk first, so every block
holds whole rows and the result equals the NumPy call's bits."""
import sys

import numpy as np

_ROOTS = frozenset(("dask", "xarray", "pandas"))


def kind(a):
    """'dask', 'xarray', 'pandas' or None.  A dask Array, DataArray, Series or
    DataFrame; any other type (a dask DataFrame, an xarray Dataset) keeps the
    ndarray path."""
    root = type(a).__module__.partition(".")[0]
    if root not in _ROOTS:
        return None
    if root == "dask":
        da = sys.modules.get("dask.array")
        return "dask" if da is not None and isinstance(a, da.Array) else None
    if root == "xarray":
        xr = sys.modules.get("xarray")
        return "xarray" if xr is not None and isinstance(a, xr.DataArray) else None
    pd = sys.modules.get("pandas")
    return "pandas" if pd is not None and isinstance(a, (pd.Series, pd.DataFrame)) else None


def first_kind(*arrays):
    for a in arrays:
        if a is not None and type(a) is not np.ndarray:
            k = kind(a)
            if k is not None:
                return k
    return None


class _Block:
    """The per-block call, picklable by reference (dask ships it to workers):
    the public function `fname` on the blocks named `names`; `pick` selects
    one element of a tuple result (1: grad_alpha, reshaped with one leading
    axis of length 1 per block axis for the sum over blocks)."""

    def __init__(self, fname, names, kw, pick=None):
        self.fname, self.names, self.kw, self.pick = fname, tuple(names), dict(kw), pick

    def __call__(self, *blocks):
        import fastact
        r = getattr(fastact, self.fname)(**dict(zip(self.names, blocks)), **self.kw)
        if self.pick == 0:
            return r[0]
        if self.pick == 1:
            return np.asarray(r[1]).reshape((1,) * blocks[0].ndim + (-1,))
        return r


def _proxy(a):
    """A zero-stride stand-in of a dask array's shape and dtype: the checks
    see the real shape without memory."""
    if any(isinstance(n, float) for n in a.shape):     # NaN: chunk sizes unknown
        raise ValueError("fastact: a dask array with unknown chunk sizes; call x.compute_chunk_sizes() first")
    return np.broadcast_to(np.zeros((), a.dtype), a.shape)


def _out_dtype(dt):
    from ._arrays import _compute_dtype, _is_staged_dtype
    return dt if _is_staged_dtype(dt) else _compute_dtype(dt)


def call(fname, inplace, out, arrays, kw, check, template="x", axes=(), half=None, second=None):
    """The out-of-place call `fname(**arrays, **kw)` for duck operands.
    `check(arrays, kw)`: the general path's checks alone (dask); `template`:
    the operand whose shape and labels the result takes; `axes`: the axes a
    block must hold whole; `half`: the axis the result halves (gated);
    `second`: 'bias' or 'alpha' for the (grad_x, grad_param) backwards."""
    k = first_kind(*arrays.values(), kw.get("where"))
    if inplace:
        n, a = next((n, a) for n, a in arrays.items() if a is not None and kind(a) is not None)
        raise TypeError(f"{fname}: {n} is a {type(a).__name__}, which fastact does not modify in place; "
                        f"use {fname[:-1]}(...), which returns a new {type(a).__name__}")
    if out is not None:
        raise TypeError(f"{fname}: out= is for NumPy arrays; with a {k} operand the result is returned "
                        "(drop out=)")
    if k == "dask":
        return _dask(fname, arrays, kw, check, template, axes, half, second)
    data = {n: _unwrap(a) for n, a in arrays.items()}
    if kind(kw.get("where")) is not None:
        kw = dict(kw, where=_unwrap(kw["where"]))
    import fastact
    r = getattr(fastact, fname)(**data, **kw)
    t = arrays[template]
    if kind(t) is None:             # e.g. numpy grad with a DataArray x: the caller's type is grad's
        t = next(a for a in arrays.values() if kind(a) is not None)
    if isinstance(r, tuple):
        return (_rewrap(t, r[0], half),) + r[1:]
    return _rewrap(t, r, half)


def _unwrap(a):
    k = kind(a) if a is not None and type(a) is not np.ndarray else None
    if k == "xarray":
        return a.data
    if k == "pandas":
        return a.to_numpy()
    return a


def _rewrap(t, r, half):
    k = kind(t)
    if k == "xarray":
        if half is None:
            return t.copy(deep=False, data=r)
        import xarray as xr
        dim = t.dims[half]          # the halved dim keeps no coordinates (a, b are its halves)
        return xr.DataArray(r, dims=t.dims, coords={n: c for n, c in t.coords.items() if dim not in c.dims},
                            name=t.name, attrs=dict(t.attrs))
    import pandas as pd
    if isinstance(t, pd.Series):
        res = pd.Series(r, index=t.index if half is None else None, name=t.name)
    else:
        res = pd.DataFrame(r, index=t.index if half != 0 else None, columns=t.columns if half != 1 else None)
    res.attrs = dict(t.attrs)
    return res


def _dask(fname, arrays, kw, check, template, axes, half, second):
    import dask.array as da
    for pname in ("alpha", "bias"):
        if kind(kw.get(pname)) is not None:
            raise TypeError(f"{fname}: {pname} must be a NumPy array or a number with a dask operand "
                            f"(it goes to every block), got {type(kw[pname]).__name__}")
    ops = {n: a for n, a in arrays.items() if a is not None}
    where = kw.get("where")
    check({n: _proxy(a) if kind(a) == "dask" else a for n, a in ops.items()},
          dict(kw, where=_proxy(where)) if kind(where) == "dask" else kw)
    # ---- validated: below only builds the graph ----
    t = da.asarray(ops[template])
    nd = t.ndim
    whole = {ax % nd: -1 for ax in axes}
    t = t.rechunk(whole) if whole else t
    chunks = t.chunks

    # map_blocks pairs the operands' blocks by index without aligning them:
    # every operand takes t's chunks (one chunk on an axis of another length)
    def like(a):
        a = da.asarray(a)
        return a.rechunk(tuple(chunks[i] if a.shape[i] == t.shape[i] else (a.shape[i],) for i in range(nd)))

    names, blocks = [], []
    for n, a in ops.items():
        names.append(n)
        blocks.append(t if n == template else like(a))
    kw = dict(kw)
    if where is not None:
        names.append("where")
        blocks.append(like(da.broadcast_to(da.asarray(where), t.shape)))
        del kw["where"]
    out_chunks = tuple((t.shape[i] // 2,) if i == half else chunks[i] for i in range(nd))
    dtype = _out_dtype(blocks[0].dtype)
    meta = np.empty((0,) * nd, dtype)
    first = da.map_blocks(_Block(fname, names, kw, 0 if second else None), *blocks, chunks=out_chunks,
                          dtype=dtype, meta=meta)
    if second is None:
        return first
    if second == "bias":            # the float64 column sum of grad_x, as the NumPy call
        gb = first.astype(np.float64).sum(axis=tuple(range(nd - 1))).astype(arrays["grad"].dtype)
        return first, gb
    alpha = np.asarray(kw["alpha"])
    nb = tuple((1,) * len(c) for c in chunks)
    parts = da.map_blocks(_Block(fname, names, kw, 1), *blocks, chunks=nb + ((max(alpha.size, 1),),),
                          new_axis=[nd], dtype=dtype, meta=np.empty((0,) * (nd + 1), dtype))
    ga = parts.sum(axis=tuple(range(nd)), dtype=np.float64).reshape(alpha.shape).astype(dtype)
    return first, ga


def prelu_axes(alpha, axis, ndim):
    """The axes of x a prelu block must hold whole: the channel axis of a
    per-channel alpha, the axes where a broadcast alpha is not 1."""
    a = np.asarray(alpha) if kind(alpha) is None else alpha
    if a.ndim == 1 and a.size != 1:
        return (axis,)
    return tuple(ndim - a.ndim + i for i, d in enumerate(a.shape) if d != 1)


def softmax_axes(axis):
    return tuple(axis) if isinstance(axis, tuple) else (axis,)
