"""Parameter checks: every call's parameter values go through here, and the
element-wise spec a set of values resolves to (kernel id, the four numbers
the kernel reads, the y= rule, the thread grain) is cached on their types
and bits, so a warm call accepts and rejects exactly what a cold one does."""
import difflib
import enum
import math
import operator
from typing import NamedTuple, Optional, Tuple

import numpy as np

from . import _dispatch
from ._table import GRAIN, REQUIRED


class Mode(enum.IntEnum):
    """What a loop computes: f(x), grad*f'(x) from x, or from y = f(x)."""
    FWD = 0
    BWD = 1
    BWDY = 2


class ElementwiseSpec(NamedTuple):
    kernel: int                  # kernel id (src/fa_kernels.h)
    params: Tuple[float, float, float, float]
    y_reason: Optional[str]      # None: y= may stand for x; else why not
    grain: int                   # float32 elements per thread (_table.GRAIN)


_SPEC_CACHE = {}


def _real(fname, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fname}: {name} must be a real number, got {type(v).__name__}")
    try:
        return float(v)
    except OverflowError:       # an int beyond the float range (10**400)
        raise ValueError(f"{fname}: {name} is out of the float range, got {v!r}") from None


def _check_param(fname, p, v):
    if v is REQUIRED:           # a required parameter left out (bias_act's **params)
        raise TypeError(f"{fname}: the parameter {p.name} is required")
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
    if kind == "bool":
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{fname}: {p.name} must be a bool, got {type(v).__name__}")
        return bool(v)
    if kind in ("max", "limit") and v is None:
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
    if kind == "limit":         # inf: no clamp (as None)
        if f <= 0:
            raise ValueError(f"{fname}: {p.name} must be > 0 or None, got {v!r}")
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
    spec = ElementwiseSpec(_kernel_id(kname), tuple(float(v) for v in p), act.y_ok(*clean), GRAIN[act.cost])
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


def _y_refused(fname, name, reason):
    return ValueError(f"{fname}: y= cannot stand for x for {name} here: {reason}; "
                      "pass the forward input x instead")


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
    raise TypeError(msg + _keyword_hint(name, known))


def _keyword_hint(name, known):
    """"; did you mean 'x'?" for a keyword `name` that is not one of `known`:
    its fastact name (_ALIASES) when known, else the closest spelling."""
    hint = _ALIASES.get(name)
    if hint not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = close[0] if close else None
    return f"; did you mean {hint!r}?" if hint else ""


def _did_you_mean(word, names):
    close = difflib.get_close_matches(word, list(names), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
