"""Thread-count policy.

Order of precedence for a call's thread count: the call's `n_threads`, then a
`threads(n)` block active in the calling thread / asyncio task (a ContextVar,
so it never leaks into other threads or tasks), then `set_num_threads(n)`,
then the OpenMP default of the calling thread.  The OpenMP default already
honours OMP_NUM_THREADS, the process affinity mask and
threadpoolctl.threadpool_limits(user_api="openmp"); without OMP_NUM_THREADS it
is capped at the number of CPUs this process may run on.
"""
import contextlib
import contextvars
import operator
import os

from . import _dispatch

_scoped = contextvars.ContextVar("fastact_threads", default=None)
_process_default = None


def usable_cpus():
    """CPUs this process may run on (affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_INT_MAX = 2**31 - 1


def _check(n, fname, argname="n_threads"):
    if isinstance(n, bool):
        raise TypeError(f"{fname}: {argname} must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{fname}: {argname} must be an int >= 1 or -1, got {type(n).__name__}") from None
    if n == -1:
        return usable_cpus()
    if n < 1:
        raise ValueError(f"{fname}: {argname} must be >= 1 or -1 (all usable CPUs), got {n}")
    if n > _INT_MAX:    # the kernels take a C int (this used to surface as OverflowError)
        raise ValueError(f"{fname}: {argname} must be at most {_INT_MAX}, got {n}")
    return n


# Read once: the affinity mask and the environment do not change under a
# running program in practice, and a syscall per call would dominate small
# arrays.  omp_get_max_threads() is still asked on every call because
# threadpoolctl changes it at run time.
_CPUS = usable_cpus()
_OMP_ENV = bool(os.environ.get("OMP_NUM_THREADS"))


def _openmp_default():
    omp = _dispatch.state.kernels.omp_max_threads()
    if _OMP_ENV:
        return omp if omp > 1 else 1
    return max(1, min(omp, _CPUS))


def get_num_threads():
    """Threads a call with n_threads=None uses in this thread/task."""
    if _single_after_fork:   # resolve() and the C fast path run every call on 1 thread there
        return 1
    n = _scoped.get()
    if n is not None:
        return n
    if _process_default is not None:
        return _process_default
    return _openmp_default()


def set_num_threads(n):
    """Set the process-wide default thread count (-1: all usable CPUs,
    None: back to the OpenMP default).  Returns the previous setting."""
    global _process_default
    old = _process_default
    _process_default = None if n is None else _check(n, "set_num_threads", "n")
    sync()
    return old


@contextlib.contextmanager
def threads(n):
    """Use `n` threads for calls in this block (this thread / task only)."""
    token = _scoped.set(_check(n, "threads", "n"))
    try:
        yield
    finally:
        _scoped.reset(token)


# GNU OpenMP cannot start threads in a child forked after the parent ran a
# parallel region (the child hangs: GCC bug 58378).  A forked child therefore
# runs single-threaded (its kernels never open a parallel region).
_single_after_fork = False


def _after_fork_in_child():
    global _single_after_fork
    _single_after_fork = True
    sync()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def sync():
    """Push this policy to the front module (its fast paths decide thread
    counts in C); it holds one copy whatever the CPU variant."""
    _dispatch.state.kernels.sync_thread_policy(_process_default or 0, _CPUS, _OMP_ENV,
                                              _single_after_fork, _scoped)


def resolve(n_threads, fname):
    n = get_num_threads() if n_threads is None else _check(n_threads, fname)
    return 1 if _single_after_fork else n


sync()
