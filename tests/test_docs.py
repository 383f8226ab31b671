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
