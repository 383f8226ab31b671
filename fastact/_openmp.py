"""The wait policy of fastact's own OpenMP runtime.

After a parallel region an OpenMP runtime keeps its idle workers spinning for
a while (GNU libgomp: GOMP_SPINCOUNT, 300,000 spins by default), so that a
region right after it starts without a wake-up.  In a process where another
thread pool (OpenBLAS, PyTorch's own libgomp) needs the same cores next,
those spinners take the cores from it: a neighbour's matmul waits for them
(bench/coexist.py measures it).

libgomp reads its wait policy from the environment once, when it is loaded.
The Linux wheels bundle a private copy of libgomp (fastact.libs/libgomp-<hash>,
renamed by auditwheel, so no other library loads it): the policy is set for
that copy alone by putting GOMP_SPINCOUNT into the environment just while the
front module (which loads it) is imported, then restoring the environment.

Nothing is changed when:
- the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT (they apply to every runtime);
- the runtime is not a private copy (a source build links the system's
  libgomp.so.1, which PyTorch's wheel, also named libgomp.so.1, then shares:
  setting it would change how the neighbours wait);
- FASTACT_WAIT_POLICY=runtime (the runtime's own default).

FASTACT_WAIT_POLICY=short (the default), passive, active, or a spin count
selects the policy of the private copy.  The front binds to its private copy even when
another library has put its own libgomp's symbols in the global scope first.
"""
import contextlib
import glob
import os
import sys

# Spin counts for GOMP_SPINCOUNT.  passive: sleep at once (a futex wake-up, ~15-20 us
# on 2 cores, for every region); short: spin ~0.1 ms (3000 spins), so back-to-back
# calls find their workers awake while a neighbour's next call loses at most that;
# active: spin without end.  bench/coexist.py chose short: neighbours' loops within
# 4% of their own activation's, back-to-back fastact calls as fast as libgomp's
# default 300,000 spins (~9 ms, which cost OpenBLAS's loops up to 2x).
_POLICIES = {"passive": "0", "short": "3000", "active": "infinity"}
DEFAULT = "short"


def _private_runtime():
    """The bundled libgomp of a repaired Linux wheel, or None."""
    here = os.path.dirname(os.path.abspath(__file__))
    libs = glob.glob(os.path.join(os.path.dirname(here), "fastact.libs", "libgomp*"))
    return libs[0] if libs else None


def decide(environ=os.environ):
    """(spin count to set or None, a sentence saying why)."""
    if environ.get("OMP_WAIT_POLICY") or environ.get("GOMP_SPINCOUNT"):
        return None, "OMP_WAIT_POLICY / GOMP_SPINCOUNT from the environment (every OpenMP runtime)"
    if _private_runtime() is None:
        return None, "the runtime's default (the system's OpenMP runtime, which other libraries may share)"
    want = environ.get("FASTACT_WAIT_POLICY", "").strip().lower() or DEFAULT
    if want == "runtime":
        return None, "the runtime's default (FASTACT_WAIT_POLICY=runtime)"
    spin = _POLICIES.get(want)
    if spin is None:
        if not want.isdigit():
            raise ImportError(f"fastact: FASTACT_WAIT_POLICY={want!r} is not one of short, passive, "
                              "active, runtime or a spin count (a non-negative integer)")
        spin = want
    return spin, f"{want} (bundled libgomp, GOMP_SPINCOUNT={spin} for it alone)"


state = {"policy": None}


@contextlib.contextmanager
def loading():
    """Around the import of the module that loads the OpenMP runtime."""
    spin, why = decide()
    state["policy"] = why
    if _private_runtime() is None:
        yield
        return
    # A library loaded earlier with RTLD_GLOBAL (PyTorch loads its libgomp.so.1 so)
    # would otherwise provide the GOMP_* symbols the front calls: fastact's regions would
    # run on that runtime's threads under its wait policy.  RTLD_DEEPBIND makes the front
    # resolve them in its own dependencies first, the bundled copy.
    flags = sys.getdlopenflags()
    deep = getattr(os, "RTLD_DEEPBIND", 0)
    if spin is not None:
        os.environ["GOMP_SPINCOUNT"] = spin
    try:
        sys.setdlopenflags(flags | deep)
        yield
    finally:
        sys.setdlopenflags(flags)
        if spin is not None:
            os.environ.pop("GOMP_SPINCOUNT", None)
