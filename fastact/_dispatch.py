"""Choose the loop table for this CPU, once, at import.

The loops are compiled once per CPU target (fastact/_targets.py) into tiny
modules fastact._loops_<target> that export `table`, a capsule of function
pointers, and the CPU tuning their loops read (fast_divider(), sw_prefetch(), walk();
src/fa_defs.h); everything else runs in fastact._front, compiled once, which
calls the loops through the table set with _front.set_table.  A module
built with AVX2 kills the process with SIGILL on an older CPU, already while
it is being imported, so the CPU (and the OS's support for the AVX register
state) is checked BEFORE importing it.  The check uses NumPy's CPU feature
table, which reads CPUID and XCR0 (the OS part a raw CPUID bit misses).

FASTACT_CPU=baseline|x86_64_v3|x86_64_v4 forces a variant; forcing one this machine or
this build cannot run is an ImportError that says why.
"""
import importlib
import importlib.util
import os
import platform

from . import _openmp, _targets

try:
    with _openmp.loading():     # the front loads the OpenMP runtime: its wait policy
        from . import _front
except ImportError:         # not compiled: _choose says why (an uncompiled source tree?)
    _front = None

# Best first.
VARIANTS = _targets.PREFERENCE


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
    if variant in _targets.X86_64_ONLY:
        if platform.machine().lower() not in _targets.X86_64_MACHINES:
            return False
        feats = _cpu_features()
        return all(feats.get(f, False) for f in _targets.TARGETS[variant]["features"])
    return False


def built(variant):
    """True when this installation contains `variant`'s loop module."""
    return variant in _targets.TARGETS and importlib.util.find_spec(_targets.module_name(variant)) is not None


def available():
    """Variants that are both built and executable here, best first."""
    return [v for v in VARIANTS if built(v) and cpu_supports(v)]


def loops(variant):
    """`variant`'s loop module (imports it: check the CPU first)."""
    return importlib.import_module(_targets.module_name(variant))


def _table(variant):
    """The loop table capsule of `variant` (imports its module: check the CPU first)."""
    return loops(variant).table


def _choose():
    forced = os.environ.get("FASTACT_CPU", "").strip()
    if forced:
        if forced not in VARIANTS:
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} is not one of {', '.join(VARIANTS)}")
        if not built(forced):
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} but this build has no {forced} module")
        if not cpu_supports(forced):
            raise ImportError(f"fastact: FASTACT_CPU={forced!r} but this CPU/OS lacks its instructions "
                              f"(needs {', '.join(_targets.TARGETS[forced]['features'])})")
        return forced
    avail = available() if _front is not None else []
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
        raise ImportError("fastact: no loop module is built (was the package compiled?)")
    return avail[0]


class _State:
    """The active variant; `kernels` is the front module, the same object
    whatever the variant (only its loop table changes)."""
    variant = _choose()
    kernels = _front
    forced = bool(os.environ.get("FASTACT_CPU", "").strip())


state = _State()
_front.set_table(_table(state.variant))


def _last_level_cache():
    """The last-level cache's size in bytes, from Linux's sysfs (0 where it
    does not say: other systems, or a sandbox without it)."""
    best = (0, 0)
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for name in names:
        try:
            with open(os.path.join(base, name, "level")) as f:
                level = int(f.read())
            with open(os.path.join(base, name, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(base, name, "size")) as f:
                text = f.read().strip()
        except (OSError, ValueError):
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        try:
            size = int(text.rstrip("KMG")) * scale
        except ValueError:
            continue
        if kind != "Instruction" and (level, size) > best:
            best = (level, size)
    return best[1]


# out-of-place forward results that outgrow the last-level cache are streamed
# past it (non-temporal stores); where its size is unknown, never
LLC_BYTES = _last_level_cache()
_front.set_stream_min(LLC_BYTES)


def use(variant):
    """Switch the loop table the front runs (tests use this to run every
    variant).  Nothing else changes: caches, thread policy and stall guard
    live once, in the front."""
    if variant not in available():
        raise ValueError(f"fastact: kernel variant {variant!r} is not available here "
                         f"(available: {', '.join(available())})")
    _front.set_table(_table(variant))
    state.variant = variant
