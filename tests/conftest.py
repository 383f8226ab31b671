import os
import sys

import pytest

# Shared helpers live beside the tests; only this folder is put on sys.path,
# never the repository root, so `import fastact` is the INSTALLED package.
sys.path.insert(0, os.path.dirname(__file__))

# The stall guard (src/front/_front.pyx) stops splitting for a while after a
# worker arrived late, which on a loaded machine would quietly turn the
# 2-thread tests into 1-thread ones; test_threads.py turns it on where tested.
os.environ.setdefault("FASTACT_STALL_GUARD", "0")

import fastact  # noqa: E402
from fastact import _dispatch  # noqa: E402

if not any(_dispatch.built(v) for v in _dispatch.VARIANTS):  # pragma: no cover
    raise RuntimeError(f"fastact at {fastact.__file__} has no compiled kernels: install it first")


def pytest_addoption(parser):
    parser.addoption("--fastact-variant", default="all",
                     help="kernel variant(s) to test: 'all' (every variant this CPU runs), "
                          "'chosen' (the one fastact picks at import here), "
                          "or a comma list such as baseline,x86_64_v3")


def _variants(config):
    opt = config.getoption("--fastact-variant")
    avail = _dispatch.available()
    if opt == "all":
        return avail
    if opt == "chosen":
        return [_dispatch._choose()]
    wanted = [v.strip() for v in opt.split(",") if v.strip()]
    missing = [v for v in wanted if v not in avail]
    if missing:
        raise pytest.UsageError(f"variant(s) {missing} not available here (available: {avail})")
    return wanted


def pytest_generate_tests(metafunc):
    # indirect: the value goes to the `variant` fixture below, which switches
    # the kernels; a direct parameter shadows the fixture, and every variant
    # ran the default module (tests/test_fastpath.py checks the switch)
    # (a module that sets KERNEL_INDEPENDENT = True tests nothing the loops compute: once)
    if "variant" in metafunc.fixturenames and not getattr(metafunc.module, "KERNEL_INDEPENDENT", False):
        metafunc.parametrize("variant", _variants(metafunc.config), scope="module", indirect=True)


@pytest.fixture(scope="module", autouse=True)
def variant(request):
    """Every test module runs once per kernel variant this machine can execute."""
    name = getattr(request, "param", None)
    if name is None:
        yield _dispatch.state.variant
        return
    old = _dispatch.state.variant
    _dispatch.use(name)
    try:
        yield name
    finally:
        _dispatch.use(old)


def pytest_report_header(config):
    return [f"fastact {fastact.__version__} from {os.path.dirname(fastact.__file__)}",
            f"fastact kernel variants under test: {', '.join(_variants(config))}"]
