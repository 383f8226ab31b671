"""The type stubs (fastact/__init__.pyi) under `mypy --strict`: a float array keeps its dtype
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
    gx, ga = fastact.prelu_backward(g, x, alpha=0.25)
    return gx


def fused(x: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    return fastact.bias_act_(x, b, "gelu")


def lists() -> NDArray[np.floating[Any]]:
    return fastact.tanh([0.5, 1.0])


def functions(x: NDArray[np.float64]) -> NDArray[np.floating[Any]]:
    return fastact.get("tanh").forward(x)
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


def _mypy(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastact.__file__)))
    if os.path.basename(root) not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = root          # a checkout (editable install): mypy sees no import hook
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", str(tmp_path / "cache"), str(path)],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path))
    errors = [line for line in r.stdout.splitlines()
              if line.split(":")[0] in (str(path), path.name) and ": error:" in line]
    return path, errors, r


def test_stubs_keep_dtypes_and_types(tmp_path):
    path, errors, r = _mypy(tmp_path, "good.py", GOOD)
    assert not errors, "\n".join(errors) + "\n" + r.stdout[-2000:]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_stubs_report_wrong_use(tmp_path):
    path, errors, r = _mypy(tmp_path, "bad.py", BAD)
    lines = textwrap.dedent(BAD).splitlines()
    want = {i + 1 for i, line in enumerate(lines) if line.endswith("# E")}
    got = {int(e.split(":")[1]) for e in errors}
    assert got == want, r.stdout[-3000:]


REVEAL = '''
import numpy as np
from numpy.typing import NDArray

import fastact


def f(x32: NDArray[np.float32], x64: NDArray[np.float64]) -> None:
    reveal_type(fastact.sigmoid(x32))
    reveal_type(fastact.sigmoid_backward_(x64, x64))
    reveal_type(fastact.softmax(x64, where=x64 > 0, scale=0.125))
'''


def test_stubs_infer_the_dtype(tmp_path):
    path, errors, r = _mypy(tmp_path, "reveal.py", REVEAL)
    notes = [line.split("Revealed type is ")[1] for line in r.stdout.splitlines() if "Revealed type is" in line]
    assert len(notes) == 3, r.stdout
    # numpy spells float32 as floating[_32Bit] and float64 as float64
    assert "32Bit" in notes[0] and all("float64" in n or "64Bit" in n for n in notes[1:]), notes
