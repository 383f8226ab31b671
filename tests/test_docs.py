"""The README is current and stays a user's document."""
import os
import re

from fastact import _docs

KERNEL_INDEPENDENT = True       # documents, not loops: run once

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def _readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def test_api_table_is_generated_from_the_table():
    text = _readme()
    assert _docs.render(text) == text, "README's API table is stale: run `python -m fastact._docs`"


def test_readme_is_short_and_undated():
    text = _readme()
    assert len(text.splitlines()) <= 250
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "dated sentence in README.md"


def test_readme_has_the_two_ci_commands():
    text = _readme()
    blocks = re.findall(r"<!-- ci-command -->\n```[^\n]*\n([^\n]+)\n```", text)
    assert blocks == ["pip install . && fastact", 'pip install ".[test]" && pytest']


def test_public_functions_file_is_current():
    from fastact import _codegen
    with open(_codegen.path(), encoding="utf-8") as f:
        assert f.read() == _codegen.render(), "fastact/_public.py is stale: run `python -m fastact._codegen`"


def test_no_exec_or_eval_in_the_package():
    import fastact
    pkg = os.path.dirname(fastact.__file__)
    for name in os.listdir(pkg):
        if name.endswith(".py"):
            with open(os.path.join(pkg, name), encoding="utf-8") as f:
                assert not re.search(r"\b(exec|eval)\(", f.read()), name


def test_readme_examples_run(tmp_path):
    # the README's Python blocks, in order, as one program (the scaling-out
    # block reuses the first block's arrays); in its own process: the dask
    # block starts a local cluster
    import subprocess
    import sys
    import importlib.util
    blocks = re.findall(r"```python\n(.*?)```", _readme(), re.S)
    assert len(blocks) == 2, len(blocks)
    # the scaling-out block needs the `dask` extra (CI installs it; a wheel test without it
    # still runs the first block)
    dask = importlib.util.find_spec("dask") is not None and importlib.util.find_spec("distributed") is not None
    code = blocks[0]
    if dask:
        code += 'if __name__ == "__main__":\n' + "".join("    " + l + "\n" for l in blocks[1].splitlines())
    (tmp_path / "readme_example.py").write_text(code)
    r = subprocess.run([sys.executable, "readme_example.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    if dask:
        means = [float(v) for v in r.stdout.strip().strip("[]").split()]
        assert len(means) == 4 and all(0 < m < 1 for m in means), r.stdout    # softmax rows: probabilities
