"""fastact.get(name): the four functions of an activation, by name."""
from . import _public
from ._table import TABLE


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


_FUNCTIONS = {}
for _act in TABLE:
    _fns = [getattr(_public, _act.name + f, None) for f in ("", "_", "_backward", "_backward_")]
    _FUNCTIONS[_act.name] = Functions(_act, _fns)
del _act, _fns


def get(name):
    """The activation `name` (like keras.activations.get): an object with
    .name, .params (defaults), .formula and .forward/.forward_/.backward/.backward_."""
    if isinstance(name, Functions):
        return name
    try:
        return _FUNCTIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"fastact.get: unknown activation {name!r}; known: {', '.join(sorted(_FUNCTIONS))}") from None
