"""fastact's element-wise activations as NumPy ufuncs.

For every element-wise activation NAME of fastact (``fastact.get(NAME).kind ==
"elementwise"``):

- ``ufuncs.NAME(x, *params)``: f(x);
- ``ufuncs.NAME_backward(grad, x, *params)``: grad * f'(x);

the numeric parameters are required inputs, in the order of
``fastact.get(NAME).params``, broadcast against x like any ufunc operand (a
per-element or per-channel array works); ``inf`` stands for a ``None`` bound
(relu's ``max``).  A string option is a separate ufunc: ``ufuncs.gelu`` is the
erf form, ``ufuncs.gelu_tanh`` the tanh form.

They are genuine ``numpy.ufunc`` objects: ``out=``, ``where=``, ``dtype=``,
``casting=``, broadcasting and ``__array_ufunc__`` overrides (dask, xarray,
pandas, ...) work as for ``np.exp``.  The loops are float32 and float64 (the
parameters always enter as float64, as in the main API); other dtypes are cast
by NumPy as for any ufunc: float16 or integer x selects the float32 or float64
loop and a new output has that dtype (a float16 ``out=`` holds the main API's
float16 bits), and a bool or integer parameter arrives as its float64 value.
The results are bit for bit those of the main API for the same values.
Parameter values are checked as by the main API (same ValueErrors, naming
``ufuncs.NAME``); with per-element parameters every distinct value is checked.
Contiguous operands with broadcast parameters run on the front's threads under
fastact's thread policy (``n_threads`` is not a ufunc argument: use
``fastact.threads(n)``); buffered or strided inner loops run on one thread.
"""
from . import _front
from ._params import _spec
from ._table import REQUIRED, TABLE

__all__ = []


def _resolver(act, fname, fixed):
    """(*numeric values) -> (kernel id, (p0..p3), grain), through the main
    API's checks and spec cache; `fixed` holds the values of string options."""
    numeric = [i for i, p in enumerate(act.params) if p.kind != "approx"]

    def resolve(*vals):
        full = list(fixed)
        for i, v in zip(numeric, vals):
            full[i] = v
        spec = _spec(act, fname, tuple(full))
        return spec.kernel, spec.params, spec.grain
    return resolve


def _doc(act, fname, numeric, backward, form):
    args = ("grad, x" if backward else "x") + "".join(f", {p.name}" for p in numeric)
    what = f"grad * f'(x) for {act.name}" if backward else f"{act.name}"
    lines = [f"{fname}({args}): {what}{form}, f(x) = {act.formula.strip('`')}", ""]
    if numeric:
        lines.append("Parameters (float64 inputs, broadcast against x; all required):")
        for p in numeric:
            dflt = "" if p.default is None or p.default is REQUIRED else \
                f" (fastact.{act.name}'s default: {p.default!r})"
            none = "; inf for None" if p.default is None else ""
            lines.append(f"    {p.name}: {p.doc}{none}{dflt}")
        lines.append("")
    lines.append(f"NumPy ufunc over fastact's kernels; same bits as fastact.{act.name}"
                 f"{'_backward' if backward else ''}.")
    return "\n".join(lines)


def _build():
    made = {}
    for act in TABLE:
        if act.kind != "elementwise":
            continue
        numeric = [p for p in act.params if p.kind != "approx"]
        if len(numeric) != len(act.params):         # gelu: one ufunc per form
            forms = (("", "none", " (erf form)"), ("_tanh", "tanh", " (tanh form)"))
        else:
            forms = (("", None, ""),)
        for suffix, option, form in forms:
            fixed = tuple(option if p.kind == "approx" else None for p in act.params)
            for backward in (False, True):
                fname = act.name + suffix + ("_backward" if backward else "")
                made[fname] = _front.make_ufunc(
                    fname, _doc(act, fname, numeric, backward, form),
                    _resolver(act, f"ufuncs.{fname}", fixed), int(backward), len(numeric))
    return made


_UFUNCS = _build()
globals().update(_UFUNCS)
__all__ += sorted(_UFUNCS)
