"""Build of fastact's native modules.

fastact._front (src/front/_front.pyx, Cython) is compiled once, for the
architecture's baseline, with OpenMP when it works: buffers, chunking and
threads, the fast paths.  The loops (src/*.h) are compiled once per CPU target
of fastact/_targets.py, each into a tiny C module fastact._loops_<target>
(src/isa/fa_loops_module.c) that exports only its loop table; the front runs
whichever table fastact._dispatch hands it after checking the CPU.  On other
architectures than x86-64 only the baseline is built.  OpenMP is probed with a
compile-link-run test; the package builds (single-threaded) without it.

Environment switches:
  FASTACT_NO_OPENMP=1       build without OpenMP
  FASTACT_FAIL_NO_OPENMP=1  make a missing OpenMP a build error (wheels set it)
  FASTACT_DEBUG=1           Cython bounds checking, C asserts and -O1 -g (test-only builds)
  FASTACT_SANITIZE=address  also compile with -fsanitize=... (run with libasan preloaded;
                            see .ci/debug_check.sh)
  FASTACT_NO_DISPATCH=1     build the baseline loops only
"""
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

from Cython.Build import cythonize
import numpy


def env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def load_targets():
    """fastact/_targets.py, loaded by path: importing the package would need
    its compiled modules."""
    spec = importlib.util.spec_from_file_location(
        "fastact_targets", os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastact", "_targets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TGT = load_targets()
DEBUG = env_flag("FASTACT_DEBUG")
SANITIZE = os.environ.get("FASTACT_SANITIZE", "").strip()
GNU_BASE = TGT.GNU_BASE + (["-O1", "-g", "-UNDEBUG", "-fno-omit-frame-pointer"] if DEBUG else TGT.GNU_OPT) + (
    [f"-fsanitize={SANITIZE}"] if SANITIZE else [])

TARGETS = TGT.targets_for(platform.machine())
if env_flag("FASTACT_NO_DISPATCH"):
    TARGETS = ["baseline"]

OPENMP_PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    printf("nthreads=%d\n", n);
    return n > 0 ? 0 : 1;
}
"""


class BuildExt(build_ext):
    def openmp_flags(self):
        """(compile_args, link_args) that give a working OpenMP, or None."""
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            candidates = [(["/openmp"], [])]
        elif sys.platform == "darwin":
            # Apple clang has no -fopenmp driver flag: preprocess with it and
            # link libomp (found through CPPFLAGS/LDFLAGS, e.g. Homebrew's).
            candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
        else:
            candidates = [(["-fopenmp"], ["-fopenmp"])]
        for cflags, lflags in candidates:
            if self.try_openmp(cflags, lflags):
                return cflags, lflags
        return None

    def try_openmp(self, cflags, lflags):
        tmp = tempfile.mkdtemp(prefix="fastact_omp_")
        try:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write(OPENMP_PROBE)
            # CPPFLAGS/LDFLAGS carry the libomp location on macOS; the
            # distutils executable link does not read them by itself
            env_c = os.environ.get("CPPFLAGS", "").split()
            env_l = os.environ.get("LDFLAGS", "").split()
            objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=cflags + env_c)
            exe = os.path.join(tmp, "probe")
            self.compiler.link_executable(objs, exe, extra_postargs=lflags + env_l)
            if sys.platform == "win32":
                exe += ".exe"
            out = subprocess.run([exe], capture_output=True, text=True, timeout=60)
            return out.returncode == 0 and "nthreads=" in out.stdout
        except Exception:
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        omp = None if env_flag("FASTACT_NO_OPENMP") else self.openmp_flags()
        if omp is None:
            if env_flag("FASTACT_FAIL_NO_OPENMP"):
                raise RuntimeError("fastact: OpenMP was required (FASTACT_FAIL_NO_OPENMP) "
                                   "but the compiler could not build an OpenMP program")
            print("fastact: building WITHOUT OpenMP (kernels will run on one thread)")
            omp = ([], [])
        san_link = [f"-fsanitize={SANITIZE}"] if SANITIZE and not msvc else []
        for ext in self.extensions:
            base = TGT.MSVC_BASE if msvc else GNU_BASE
            if ext.name == "fastact._front":
                # the front: baseline code, the one place with OpenMP
                ext.extra_compile_args = base + omp[0]
                ext.extra_link_args = omp[1] + san_link
            else:
                # a target's loops: no OpenMP, no Python beyond the module init
                target = ext.name.rsplit("_loops_", 1)[-1]
                ext.extra_compile_args = base + (TGT.TARGETS[target]["msvc"] if msvc
                                                  else TGT.gnu_flags(target, platform.machine()))
                ext.extra_link_args = san_link
        # the loop modules are independent and each a long compile: one per
        # core (pip install runs build_ext without -j)
        if not self.parallel:
            self.parallel = os.cpu_count() or 1
        super().build_extensions()


# every C source and header the loop modules are built from (src/, src/isa/,
# src/formulas/, src/loops/): a change to any of them rebuilds the loops
SRC_HEADERS = [os.path.join(d, f)
               for d in ("src", *(os.path.join("src", sub) for sub in ("isa", "formulas", "loops")))
               if os.path.isdir(d)
               for f in sorted(os.listdir(d)) if f.endswith((".h", ".c"))]

FRONT_PARTS = [os.path.join("src", "front", f) for f in sorted(os.listdir(os.path.join("src", "front")))
               if f.endswith(".pxi")]

# the front module: _front.pyx and its Cython include files (src/front/*.pxi)
# (NumPy's headers: src/front/ufuncs.pxi builds the ufuncs with its C API)
front = Extension("fastact._front", [os.path.join("src", "front", "_front.pyx")],
                  include_dirs=[os.path.join("src", "isa"), numpy.get_include()],
                  depends=[os.path.join("src", "isa", "fa_table.h")] + FRONT_PARTS)
loops = [
    Extension(TGT.module_name(t), [os.path.join("src", "isa", "fa_loops_module.c")],
              include_dirs=["src", os.path.join("src", "isa")],
              define_macros=[("FA_TARGET", t)], depends=SRC_HEADERS)
    for t in TARGETS
]

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

setup(
    # Cython's C goes to the build directory, never into src/
    ext_modules=cythonize([front], compiler_directives=directives,
                          build_dir=os.path.join("build", "cython")) + loops,
    cmdclass={"build_ext": BuildExt},
)
