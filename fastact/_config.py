"""show_config(): what this installation runs on."""
import sys

from . import _dispatch, _openmp, _threads


def config():
    """The configuration as a dict (what show_config prints)."""
    from . import __version__
    k = _dispatch.state.kernels
    info = {
        "version": __version__,
        "python": sys.version.split()[0],
        "kernel variant": _dispatch.state.variant + (" (forced by FASTACT_CPU)" if _dispatch.state.forced else ""),
        "available variants": ", ".join(_dispatch.available()),
        "built variants": ", ".join(v for v in _dispatch.VARIANTS if _dispatch.built(v)),
        "cpu tuning": _tuning(_dispatch.state.variant),
        "openmp": "yes" if k.openmp_enabled() else "no (single-threaded build)",
        "openmp runtime": _openmp_runtime(),
        "openmp wait policy": _openmp.state["policy"],
        "threads (default)": _threads.get_num_threads(),
        "usable cpus": _threads.usable_cpus(),
    }
    return info


def _tuning(variant):
    """The loops' tuning for this CPU (from its vendor; src/fa_defs.h)."""
    loops = _dispatch.loops(variant)
    div = loops.fast_divider()
    parts = ["software prefetch " + ("on" if loops.sw_prefetch() else "off (hardware prefetchers)")]
    if div is not None:
        parts.append("hard_swish divides with " + ("the divider" if div else "FMAs (no divider)"))
    return "; ".join(parts)


def _openmp_runtime():
    """Path of the OpenMP runtime library loaded by the kernel module."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to see it)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "openmp"]
    if not libs:
        return "none found"
    return "; ".join(f"{i.get('internal_api')} {i.get('filepath')}" for i in libs)


def show_config(file=None):
    """Print version, CPU kernel variant (chosen and available), OpenMP
    runtime and thread defaults."""
    file = file or sys.stdout
    for key, val in config().items():
        print(f"{key:>20}: {val}", file=file)
