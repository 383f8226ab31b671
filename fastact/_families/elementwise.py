"""Element-wise activations: the spec comes from fastact._params; the loops
run in the front; validated parameter values are remembered so later calls
with the same values (same types and bits, checked again in C) go straight
to the front's fast paths."""
import numpy as np

from .. import _front
from .._params import Mode, _spec
from .._table import TABLE

# Per activation: {parameter values: kernel-module Spec} for the fast paths
# (forward and backward; prelu's forward only, with a Python-number slope;
# the gated ones: {values: gate kernel id} for the forward into a new array).
# Filled by the general path once a call with those values has been fully
# validated.  A Spec holds a kernel id and parameters, valid for every CPU
# variant (switching variants swaps only the front's loop table).
_FAST = {a.name: {} for a in TABLE if a.kind in ("elementwise", "prelu", "gated")}


def _remember_fast(act, vals, spec):
    _remember(act, vals, _front.Spec(spec.kernel, spec.params, spec.y_reason is None, spec.grain, vals))


def _remember(act, vals, value):
    """_FAST[act.name][vals] = value, for validated parameter values."""
    cache = _FAST[act.name]
    if len(cache) > 256:
        cache.clear()
    try:
        cache[vals] = value
    except TypeError:   # unhashable parameter values: no fast path
        pass



def spec(act, fname, vals, x):
    return _spec(act, fname, vals)


def _elementwise_fwd(spec, x, out, nt, stream=False):
    """stream: out is the caller's own array (non-temporal stores when large)."""
    k, p, _, grain = spec
    _front.elementwise(k, Mode.FWD, x, None, out, p[0], p[1], p[2], p[3], nt, grain, 0, stream)


def _elementwise_bwd(spec, g, s, from_y, out, nt):
    k, p, _, grain = spec
    _front.elementwise(k, Mode.BWDY if from_y else Mode.BWD, g, s, out,
                                        p[0], p[1], p[2], p[3], nt, grain)


def fwd_half(spec, x, out, nt, half):
    """float16 (half=1) / bfloat16 (2) arrays of one dtype, on their own memory."""
    k, p, _, grain = spec
    _front.elementwise(k, Mode.FWD, x.view(np.uint16), None, out.view(np.uint16), p[0], p[1], p[2], p[3],
                       nt, grain, half)


def bwd_half(spec, g, s, from_y, out, nt, half):
    k, p, _, grain = spec
    _front.elementwise(k, Mode.BWDY if from_y else Mode.BWD, g.view(np.uint16), s.view(np.uint16),
                       out.view(np.uint16), p[0], p[1], p[2], p[3], nt, grain, half)


def half_direct(spec, arrays):
    """Never asked: fwd_half and bwd_half convert block by block in C."""
    return False


def remember(act, vals, spec, forward):
    _remember_fast(act, vals, spec)


fwd, bwd = _elementwise_fwd, _elementwise_bwd
