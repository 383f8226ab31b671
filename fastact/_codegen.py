"""Writes fastact/_public.py, the public functions, from the activation table.

    python -m fastact._codegen        # rewrite fastact/_public.py

Each activation's functions are plain `def`s in that file (greppable, steppable,
no exec at import); tests/test_docs.py checks the file is current.  The
templates hold the call fast path: a C-contiguous native array with parameter
values that were validated before (a cached spec, checked again in C for the
same types and bits) goes straight to the front; anything else, or anything
the front declines, takes the general path in fastact/_families, which checks
everything and explains.
"""
import inspect
import os
import re
import sys

from ._table import GRAIN, REQUIRED, TABLE

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


# softmax / log_softmax: the C-contiguous call with an int axis, a float scale
# and, forward, an ndarray mask or none (none and scale 1.0 in the backward)
# is decided and run in C (fast_softmax, which checks the scale is finite and
# the mask's type, shape and memory); anything else, or anything it declines,
# takes the general path.  Backward from x (which needs a forward first)
# always does.
_SOFTMAX_FWD = '''
def {name}(x, axis=-1, *, where=None, scale=1.0, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    if (type(x) is _ndarray and type(axis) is int and (where is None or type(where) is _ndarray)
            and type(scale) is float and (out is None or type(out) is _ndarray)):
        y = _ksoft(0, x, None, out, axis, _LOG, n_threads, _GRAIN, _empty_like, _SCALE, where)
        if y is not None:
            return y
    return _forward(_act, "{name}", (axis, where, scale), x, out, n_threads, False)

def {name}_(x, axis=-1, *, where=None, scale=1.0, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_", _kw)
    if (type(x) is _ndarray and type(axis) is int and (where is None or type(where) is _ndarray)
            and type(scale) is float
            and _ksoft(0, x, None, x, axis, _LOG, n_threads, _GRAIN, _empty_like, _SCALE, where) is not None):
        return x
    return _forward(_act, "{name}_", (axis, where, scale), x, None, n_threads, True)
'''

_SOFTMAX_BWD = '''
def {name}_backward(grad, x=None, *, y=None, axis=-1, where=None, scale=1.0, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    if (x is None and type(grad) is _ndarray and type(y) is _ndarray and type(axis) is int
            and where is None and type(scale) is float and scale == 1.0
            and (out is None or type(out) is _ndarray)):
        r = _ksoft(2, grad, y, out, axis, _LOG, n_threads, _GRAIN, _empty_like)
        if r is not None:
            return r
    return _backward(_act, "{name}_backward", (axis, where, scale), grad, x, y, out, n_threads, False)

def {name}_backward_(grad, x=None, *, y=None, axis=-1, where=None, scale=1.0, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward_", _kw)
    if (x is None and type(grad) is _ndarray and type(y) is _ndarray and type(axis) is int
            and where is None and type(scale) is float and scale == 1.0
            and _ksoft(2, grad, y, grad, axis, _LOG, n_threads, _GRAIN, _empty_like) is not None):
        return grad
    return _backward(_act, "{name}_backward_", (axis, where, scale), grad, x, y, None, n_threads, True)
'''

# softmin's backward (softmax's with the scale negated) takes the general path
_SOFTMIN_BWD = '''
def {name}_backward(grad, x=None, *, y=None, axis=-1, where=None, scale=1.0, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    return _backward(_act, "{name}_backward", (axis, where, scale), grad, x, y, out, n_threads, False)

def {name}_backward_(grad, x=None, *, y=None, axis=-1, where=None, scale=1.0, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward_", _kw)
    return _backward(_act, "{name}_backward_", (axis, where, scale), grad, x, y, None, n_threads, True)
'''

# softmin = softmax with the scale negated (_SCALE is -scale): the forward
# runs in C as softmax's does
_TEMPLATE_SOFTMAX = _SOFTMAX_FWD + _SOFTMAX_BWD
_TEMPLATE_SOFTMIN = _SOFTMAX_FWD + _SOFTMIN_BWD


def _param_list(act, required_ok, kwonly=False):
    """The parameters of a signature: the positional ones, or (kwonly) the
    keyword-only ones that follow the `*`."""
    parts = []
    for p in act.params:
        if p.kwonly != kwonly:
            continue
        if (p.kind == "alpha" or p.default is REQUIRED) and required_ok:
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
    params = "".join(f"\n    {p.name} : {'required' if p.default is REQUIRED else f'default {p.default!r}'}. {p.doc}"
                     for p in act.params)
    heads = {
        "": f"{act.name}(x): out-of-place forward; returns a new array (or fills `out`).",
        "_": f"{act.name}_(x): forward in place; overwrites x and returns it.",
        "_backward": f"{act.name}_backward(grad, x | y=): returns grad * f'(x).",
        "_backward_": f"{act.name}_backward_(grad, x | y=): writes grad * f'(x) into grad, returns it.",
    }
    return (f"{heads[form]}\n\n    f(x) = {act.formula}\n    PyTorch: {act.pytorch}\n"
            f"    Backward from y= (the forward output): {_y_note(act)}.\n"
            f"\n    Parameters{params}\n    n_threads : None (default), an int >= 1, or -1 (all usable CPUs).\n")


# sparsemax: every form takes the general path (the family moves the axis last).
_TEMPLATE_PLAIN = '''
def {name}(x, {pos}*, out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    return _forward(_act, "{name}", ({vals}), x, out, n_threads, False)

def {name}_(x, {pos}*, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_", _kw)
    return _forward(_act, "{name}_", ({vals}), x, None, n_threads, True)

def {name}_backward(grad, x=None, *, y=None, {kw}out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    return _backward(_act, "{name}_backward", ({vals}), grad, x, y, out, n_threads, False)

def {name}_backward_(grad, x=None, *, y=None, {kw}n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward_", _kw)
    return _backward(_act, "{name}_backward_", ({vals}), grad, x, y, None, n_threads, True)
'''


_TEMPLATE_GATED = '''
def {name}(x, {pos}*, {kwo}out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}", _kw)
    if out is None and type(x) is _ndarray:
        v = ({vals})
        try:
            spec = _fc.get(v)
        except TypeError:       # unhashable: the general path names it
            spec = None
        if spec is not None:
            y = _kgated(spec, v, x, v[0], n_threads, _empty)
            if y is not None:
                return y
    return _gated_forward(_act, "{name}", ({vals}), x, out, n_threads)

def {name}_backward(grad, x, *, {kw}out=None, n_threads=None, **_kw):
    if _kw:
        _unexpected(_act, "{name}_backward", _kw)
    return _gated_backward(_act, "{name}_backward", ({vals}), grad, x, out, n_threads)
'''



_HEAD = '''"""The public functions of fastact, generated by fastact/_codegen.py from the
activation table (fastact/_table.py): `python -m fastact._codegen` rewrites
this file; tests/test_docs.py checks that it is current.  Do not edit."""
import inspect as _inspect

import numpy as _np

from . import _front
from ._families.driver import backward as _backward, forward as _forward
from ._families.elementwise import _FAST
from ._families.gated import gated_backward as _gated_backward, gated_forward as _gated_forward
from ._families.prelu import _PRELU_ROW
from ._params import _unexpected
from ._table import BY_NAME as _ROWS

_ndarray, _empty, _empty_like = _np.ndarray, _np.empty, _front.empty_like
_kfast, _kcall, _ksoft = _front.fast_inplace, _front.fast_call, _front.fast_softmax
_kgated, _kprelu = _front.fast_gated, _front.fast_prelu
'''

_TAIL = '''

def _hide_keyword_catcher():
    """The signatures without the **_kw that only catches misspelled keywords."""
    for name in __all__:
        f = globals()[name]
        sig = _inspect.signature(f)
        f.__signature__ = sig.replace(
            parameters=[p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD])


_hide_keyword_catcher()
'''


def _forms(act):
    return ("", "_backward") if act.kind == "gated" else ("", "_", "_backward", "_backward_")


def _with_docstrings(src, act):
    """Put each form's docstring under its def line."""
    out = []
    lines = src.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = re.match(r"def (\w+)\(", line)
        if m:
            while not lines[i].endswith(":"):       # a signature over several lines
                i += 1
                out.append(lines[i])
            form = m.group(1)[len(act.name):]
            doc = inspect.cleandoc(_doc(act, form)).replace("\\", "\\\\")
            out.append('    """' + doc.replace("\n", "\n    ").replace("\n    \n", "\n\n") + '\n    """')
        i += 1
    return "\n".join(out)


def render():
    """The text of fastact/_public.py."""
    parts = [_HEAD]
    names = []
    for act in TABLE:
        a = "_" + act.name
        vals = "".join(p.name + ", " for p in act.params)
        pos = _param_list(act, True)
        if act.kind == "gated":
            kwo = _param_list(act, True, kwonly=True)
            src = _TEMPLATE_GATED.format(name=act.name, pos=pos, kwo=kwo, kw=pos + kwo, vals=vals)
            grain = GRAIN["transc"]
        else:
            template = (_TEMPLATE_SOFTMIN if act.name == "softmin" else
                        {"softmax": _TEMPLATE_SOFTMAX, "sparsemax": _TEMPLATE_PLAIN}.get(act.kind, _TEMPLATE))
            pre = _PRELU_PRE if act.kind == "prelu" else {"pre_fwd": "", "pre_ip": ""}
            src = template.format(name=act.name, pos=pos, kw=pos, vals=vals, **pre)
            grain = GRAIN["cheap"] if act.kind == "prelu" else GRAIN["transc"]
        src = (src.replace("_act,", a + ",").replace("_fcb.get", a + "_fcb.get").replace("_fc.get", a + "_fc.get")
               .replace("_LOG", str(act.name == "log_softmax")).replace("_GRAIN", str(grain))
               .replace("_SCALE", "-scale" if act.name == "softmin" else "scale"))
        head = f"\n# {'-' * (70 - len(act.name))} {act.name}\n\n{a} = _ROWS[{act.name!r}]\n"
        if act.kind in ("elementwise", "prelu", "gated"):
            head += f"{a}_fc = _FAST[{act.name!r}]\n"
        if act.kind == "elementwise":
            head += f"{a}_fcb = {a}_fc\n"
        elif act.kind == "prelu":
            head += f"{a}_fcb = {{}}      # its backward returns a pair: no fast path\n"
        parts.append(head + _with_docstrings(src, act).rstrip("\n") + "\n")
        names += [act.name + f for f in _forms(act)]
    parts.append("\n__all__ = [\n" + "".join(f"    {n!r},\n" for n in names) + "]\n")
    parts.append(_TAIL)
    return "\n".join(parts).replace("\n\n\n\n", "\n\n\n")


def path():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_public.py")


def main():
    with open(path(), "w", encoding="utf-8") as f:
        f.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
