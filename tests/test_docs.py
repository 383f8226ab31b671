"""The README is current and stays a user's document."""
import os
import re

from fastact import _docs

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
