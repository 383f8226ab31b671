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


def __getattr__(name):
    # fastact.reference (the float64 test oracle) is imported on first use, so
    # `import fastact` does not pay for it; import_module binds it as an
    # attribute, after which this hook is no longer consulted for it.
    if name == "reference":
        import importlib
        return importlib.import_module(".reference", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = (["ACTIVATIONS", "get", "get_num_threads", "set_num_threads", "threads", "show_config",
            "bias_act", "bias_act_", "bias_act_backward", "bias_act_backward_"] + list(_FORMS))
