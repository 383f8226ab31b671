"""The README's API table, rendered from the activation table.

`python -m fastact._docs` rewrites the part of README.md between the
`<!-- api-table -->` and `<!-- /api-table -->` markers; tests/test_docs.py
checks that the README is current.
"""
import os
import sys

from ._table import TABLE

BEGIN, END = "<!-- api-table -->", "<!-- /api-table -->"
HEAD = ("| function | parameters (defaults) | f(x) | backward from `y=` | PyTorch / Keras / JAX |\n"
        "|---|---|---|---|---|")


def _params_cell(act):
    if act.params_doc:
        return act.params_doc
    ps = ", ".join(f"{p.name}={p.default!r}" for p in act.params)
    return f"`{ps}`" if ps else ""


def _y_cell(act):
    if act.y_doc:
        return act.y_doc
    if act.kind in ("prelu", "gated"):
        return "no"
    if act.kind in ("softmax", "sparsemax"):
        return "yes"
    default = tuple(p.default for p in act.params)
    return "yes" if act.y_ok(*default) is None else "no"


def api_table():
    rows = [HEAD]
    for act in TABLE:
        cells = [f"`{act.name}`", _params_cell(act), act.formula, _y_cell(act), act.peers]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def render(readme):
    """readme with its API table replaced by the current one."""
    i, j = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:i] + "\n" + api_table() + "\n" + readme[j:]


def main(path=None):
    path = path or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = render(text)
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
