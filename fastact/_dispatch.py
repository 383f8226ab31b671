"""Choose the kernel module for this CPU, once, at import.

The same kernel source is compiled per CPU target (see setup.py).  A module
built with AVX2 kills the process with SIGILL on an older CPU, already while it
is being imported, so the CPU (and the OS's support for the AVX register
state) is checked BEFORE importing it.  The check uses NumPy's CPU feature
table, which reads CPUID and XCR0 (the OS part a raw CPUID bit misses).

FASTACT_CPU=baseline|x86_64_v3|x86_64_v4 forces a variant; forcing one this machine or
this build cannot run is an ImportError that says why.
"""
import importlib
import importlib.util
import os
import platform

# Best first.
VARIANTS = ("x86_64_v4", "x86_64_v3", "baseline")

# NumPy's names for the features behind setup.py's flags of each variant.
_V3_FEATURES = ("AVX", "AVX2", "FMA3", "F16C", "BMI", "BMI2", "LZCNT", "MOVBE")
_FEATURES = {
    "x86_64_v3": _V3_FEATURES,
    "x86_64_v4": _V3_FEATURES + ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL"),
}


def _cpu_features():
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    return __cpu_features__


def cpu_supports(variant):
    """True when this CPU and OS can execute `variant`'s instructions."""
    if variant == "baseline":
        return True
    if variant in _FEATURES:
        if platform.machine().lower() not in ("x86_64", "amd64", "x64"):
            return False
        feats = _cpu_features()
        return all(feats.get(f, False) for f in _FEATURES[variant])
    return False


def built(variant):
    """True when this installation contains `variant`'s module."""
    return importlib.util.find_spec(f"fastact._k_{variant}") is not None


def available():
    """Variants that are both built and executable here, best first."""
    return [v for v in VARIANTS if built(v) and cpu_supports(v)]


def _load(variant):
    return importlib.import_module(f"fastact._k_{variant}")


def _choose():
    forced = os.environ.get("FASTACT_CPU", "").strip()
    if forced:
        if forced not in VARIANTS:
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} is not one of {', '.join(VARIANTS)}")
        if not built(forced):
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} but this build has no {forced} module")
        if not cpu_supports(forced):
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} but this CPU/OS lacks its instructions "
                              f"(needs {', '.join(_FEATURES[forced])})")
        return forced
    avail = available()
    if not avail:
        pkg = os.path.dirname(os.path.abspath(__file__))
        root = os.path.dirname(pkg)
        if any(os.path.isfile(os.path.join(root, f)) for f in ("setup.py", "pyproject.toml")):
            # a package folder beside the build files is the source checkout;
            # Python picks it over the installed copy when the checkout root is
            # the current directory (sys.path[0] of `python -m` / `python -c`)
            raise ImportError(
                f"fastact: imported the uncompiled source tree {pkg} (no kernel module is built "
                "beside it), not an installed fastact. Install it (`pip install .`), then either "
                "use the `fastact` command or import fastact from another directory than the "
                f"checkout root {root}")
        raise ImportError("fastact: no kernel module is built (was the package compiled?)")
    return avail[0]


class _State:
    """Holds the active kernel module; tests switch it with use()."""
    variant = _choose()
    kernels = _load(variant)
    forced = bool(os.environ.get("FASTACT_CPU", "").strip())


state = _State()


_hooks = []


def on_switch(fn):
    """Call fn() whenever the active kernel module changes."""
    _hooks.append(fn)


def use(variant):
    """Switch the kernel module (tests use this to run every variant)."""
    if variant not in available():
        raise ValueError(f"fastact: kernel variant {variant!r} is not available here "
                         f"(available: {', '.join(available())})")
    state.kernels = _load(variant)
    state.variant = variant
    for fn in _hooks:
        fn()
