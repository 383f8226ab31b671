"""fastact: fast, accurate, in-place neural-network activations for NumPy.

Every activation NAME comes in four forms (see the README / shared API):
    NAME(x, ...)                      out-of-place forward (out= accepted)
    NAME_(x, ...)                     forward in place
    NAME_backward(grad, x | y=, ...)  grad * f'(x)
    NAME_backward_(grad, x | y=, ...) the same, written into grad

The functions are written out in fastact/_public.py (generated from the
activation table by fastact/_codegen.py).
"""
from . import _dispatch  # noqa: F401  (chooses the CPU's loop table before anything runs)
from ._config import show_config
from ._families.bias import bias_act, bias_act_, bias_act_backward, bias_act_backward_
from ._public import *  # noqa: F401,F403  (every activation's forms; _public.__all__)
from ._public import __all__ as _FORMS
from ._registry import get
from ._table import TABLE as _TABLE
from ._threads import get_num_threads, set_num_threads, threads

__version__ = "0.1.0"

ACTIVATIONS = tuple(a.name for a in _TABLE)


def _lazy_module(name):
    """The module `name`, executed on its first attribute access (the float64
    oracles of fastact.reference are for tests; `import fastact` should not pay
    for them).  A lazy module rather than a module-level __getattr__: CPython
    does not specialize attribute loads on a module that defines __getattr__,
    which made every `fastact.NAME` lookup 15 ns slower."""
    import importlib.util
    import sys
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


reference = _lazy_module(__name__ + ".reference")
ufuncs = _lazy_module(__name__ + ".ufuncs")      # NumPy ufuncs, built on first use


__all__ = (["ACTIVATIONS", "get", "get_num_threads", "set_num_threads", "threads", "show_config",
            "bias_act", "bias_act_", "bias_act_backward", "bias_act_backward_"] + list(_FORMS))
