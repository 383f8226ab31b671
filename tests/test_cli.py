"""The `fastact` command / `python -m fastact`: usage, the speed table, and
running from a source checkout's root."""
import io
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import fastact
from fastact import __main__ as cli


def _script():
    """The installed `fastact` console script (beside this interpreter's other scripts)."""
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        for name in ("fastact", "fastact.exe"):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p
    return None


def test_help_prints_usage_without_timing(capsys, monkeypatch):
    def no_bench(*a, **k):
        raise AssertionError("--help ran the benchmark")
    monkeypatch.setattr(cli, "bench", no_bench)
    monkeypatch.setattr(fastact, "show_config", no_bench)
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: fastact")
    assert "--quick" in out and "n_threads=1" in out


def test_quick_table_labels_thread_counts(capsys):
    assert cli.main(["--quick", "--no-config"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("function"))
    assert "NumPy 1 thread" in header and "fastact 1 thread" in header
    assert "speed-up (min-max)" in header
    assert "both on 1 thread" in out and "range over the 2 rounds" in out
    nt = fastact.get_num_threads()
    assert (f"fastact {nt} threads" in header) == (nt > 1)
    rows = [line for line in out.splitlines() if line.startswith(("relu_", "softmax_"))]
    assert len(rows) == 3


def test_bench_compares_equal_thread_counts(monkeypatch):
    """The fastact figure the speed-up is computed from runs with n_threads=1."""
    seen = []
    real = fastact.relu_

    def spy(a, *args, **kw):
        seen.append(kw.get("n_threads"))
        return real(a, *args, **kw)
    monkeypatch.setattr(fastact, "relu_", spy)
    with fastact.threads(2):
        rows = cli.bench(256, 2, 2, out=io.StringIO())
    assert set(seen) == {1, 2}
    for name, tn, tf, r, rmin, rmax, tm in rows:
        assert rmin <= r <= rmax and tn > 0 and tf > 0 and tm > 0


def test_console_script_is_installed():
    from importlib.metadata import entry_points
    eps = entry_points()
    group = eps.select(group="console_scripts") if hasattr(eps, "select") else eps["console_scripts"]
    assert any(ep.name == "fastact" and ep.value == "fastact.__main__:main" for ep in group)


def _source_tree(tmp_path):
    """A copy of the package's Python files without its compiled modules, beside
    a pyproject.toml: what the root of a source checkout looks like."""
    pkg = Path(fastact.__file__).parent
    (tmp_path / "fastact").mkdir()
    for f in pkg.glob("*.py"):
        shutil.copy(f, tmp_path / "fastact" / f.name)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'fastact'\n")
    return tmp_path


def test_source_tree_import_says_why_and_how_to_fix(tmp_path):
    root = _source_tree(tmp_path)
    r = subprocess.run([sys.executable, "-c", "import fastact"], cwd=root, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0
    assert "ImportError: fastact: imported the uncompiled source tree" in r.stderr
    assert "use the `fastact` command" in r.stderr and "from another directory" in r.stderr


def test_console_script_runs_from_a_checkout_root(tmp_path):
    script = _script()
    assert script is not None, "the fastact console script is not installed"
    root = _source_tree(tmp_path)
    r = subprocess.run([script, "--quick"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "fastact 1 thread" in r.stdout
