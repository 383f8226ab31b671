"""The type stubs (fastact/__init__.pyi) under `mypy --strict` and pyright (strict mode;
basedpyright, the pip-installable build of pyright that needs no npm download): a float array keeps its dtype
through every function (NDArray[float32] in, NDArray[float32] out), the in-place forms return
the object they were given with its own type (an ndarray, or a tensor whose methods stay
usable), and a wrong dtype in user code is reported.  mypy is in the `typing` extra; CI
installs it."""
import os
import subprocess
import sys
import textwrap

import pytest

import fastact

mypy = pytest.importorskip("mypy", reason="mypy is in fastact's `typing` extra (CI installs it)")
pytest.importorskip("basedpyright", reason="basedpyright is in fastact's `typing` extra (CI installs it)")
KERNEL_INDEPENDENT = True       # the stubs do not depend on the loop variant: run once

GOOD = '''
from typing import Any

import numpy as np
from numpy.typing import NDArray

import fastact


def f64(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return fastact.relu(x)


def f32_inplace(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.gelu_(x, approximate="tanh")


def bwd(g: NDArray[np.float32], x: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.sigmoid_backward(g, x)


def bwd_(g: NDArray[np.float32], y: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.softmax_backward_(g, y=y, axis=-1)


def gated(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.swiglu(x, alpha=1.702, limit=7.0, bias=1.0, interleaved=True)


class Tensor:
    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def add_(self, other: float) -> "Tensor":
        return self


def tensor_inplace(t: Tensor) -> Tensor:
    return fastact.relu_(t, max=6.0).add_(1.0)


def pair(g: NDArray[np.float32], x: NDArray[np.float32]) -> NDArray[np.float32]:
    gx, _ = fastact.prelu_backward(g, x, alpha=0.25)
    return gx


def fused(x: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.bias_act_(x, b, "gelu")


def lists() -> NDArray[np.float64]:
    return fastact.tanh([[0.5, 1.0], [2.0, 3.0]])


def needed_ignore(x: NDArray[np.float32]) -> None:
    # an ignore that must stay needed: both checkers report unused ones
    fastact.relu(x, maxx=6.0)  # type: ignore[call-overload]


def functions(x: NDArray[np.float64]) -> NDArray[np.floating[Any]]:
    return fastact.get("tanh").forward(x)


def ufunc(x: NDArray[np.float32]) -> Any:
    return fastact.ufuncs.relu(x, np.inf, 0.0, 0.0)
'''

# each line marked `# E` must be reported, and nothing else
BAD = '''
import numpy as np
from numpy.typing import NDArray

import fastact


def not_a_string(x: NDArray[np.float64]) -> None:
    s: str = fastact.relu(x)  # E


def not_an_array() -> None:
    fastact.relu_(3.0)  # E


def unknown_keyword(x: NDArray[np.float32]) -> None:
    fastact.relu(x, maxx=6.0)  # E
'''


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory):
    """One mypy --strict run over the three snippets: {name: (error lines, revealed types)}."""
    tmp = tmp_path_factory.mktemp("mypy")
    for name, text in (("good.py", GOOD), ("bad.py", BAD), ("reveal.py", REVEAL)):
        (tmp / name).write_text(textwrap.dedent(text))
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastact.__file__)))
    if os.path.basename(root) not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = root          # a checkout (editable install): mypy sees no import hook
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", str(tmp / "cache"), "good.py", "bad.py", "reveal.py"],
                       capture_output=True, text=True, env=env, cwd=str(tmp))
    out = {}
    for name in ("good.py", "bad.py", "reveal.py"):
        mine = [line for line in r.stdout.splitlines() if line.split(":")[0] == name]
        out[name] = ([line for line in mine if ": error:" in line],
                     [line.split("Revealed type is ")[1] for line in mine if "Revealed type is" in line])
    out["stdout"] = r.stdout
    return out


def test_stubs_keep_dtypes_and_types(mypy_run):
    errors, _ = mypy_run["good.py"]
    assert not errors, "\n".join(errors) + "\n" + mypy_run["stdout"][-2000:]


def test_stubs_report_wrong_use(mypy_run):
    errors, _ = mypy_run["bad.py"]
    lines = textwrap.dedent(BAD).splitlines()
    want = {i + 1 for i, line in enumerate(lines) if line.endswith("# E")}
    got = {int(e.split(":")[1]) for e in errors}
    assert got == want, mypy_run["stdout"][-3000:]


REVEAL = '''
import numpy as np
from numpy.typing import NDArray

import fastact


def f(x32: NDArray[np.float32], x64: NDArray[np.float64]) -> None:
    reveal_type(fastact.sigmoid(x32))
    reveal_type(fastact.sigmoid_backward_(x64, x64))
    reveal_type(fastact.softmax(x64, where=x64 > 0, scale=0.125))
'''


def test_stubs_infer_the_dtype(mypy_run):
    errors, notes = mypy_run["reveal.py"]
    assert len(notes) == 3, mypy_run["stdout"]
    # numpy spells float32 as floating[_32Bit] and float64 as float64
    assert "32Bit" in notes[0] and all("float64" in n or "64Bit" in n for n in notes[1:]), notes


def _pyright(tmp_path, name, text):
    import json
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    cfg = {"typeCheckingMode": "strict", "include": [name], "reportUnnecessaryTypeIgnoreComment": "error"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastact.__file__)))
    if os.path.basename(root) not in ("site-packages", "dist-packages"):
        cfg["extraPaths"] = [root]
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(cfg))
    exe = os.path.join(os.path.dirname(sys.executable), "basedpyright")
    r = subprocess.run([exe, "--pythonpath", sys.executable], capture_output=True, text=True,
                       cwd=str(tmp_path))
    errors = [line.strip() for line in r.stdout.splitlines() if " - error:" in line]
    return path, errors, r


def test_pyright_accepts_good_code(tmp_path):
    path, errors, r = _pyright(tmp_path, "good.py", GOOD)
    assert not errors, r.stdout[-3000:]
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_pyright_reports_wrong_use(tmp_path):
    path, errors, r = _pyright(tmp_path, "bad.py", BAD)
    lines = textwrap.dedent(BAD).splitlines()
    want = {i + 1 for i, line in enumerate(lines) if line.endswith("# E")}
    got = {int(e.split(":")[1]) for e in errors}
    assert got == want, r.stdout[-3000:]
