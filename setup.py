"""Build of fastact's kernel modules.

One kernel source (src/_kernels.pxi) is compiled once per CPU target: a
baseline module that runs on every CPU of the architecture and, on x86-64,
x86-64-v3 (AVX2 + FMA + F16C) and x86-64-v4 (AVX-512) modules that
fastact._dispatch imports only after checking the CPU.  OpenMP is probed with a compile-link-run test and used when
it works; the package builds (single-threaded) without it.

Environment switches:
  FASTACT_NO_OPENMP=1       build without OpenMP
  FASTACT_FAIL_NO_OPENMP=1  make a missing OpenMP a build error (wheels set it)
  FASTACT_DEBUG=1           Cython bounds checking, C asserts and -O1 -g (test-only builds)
  FASTACT_SANITIZE=address  also compile with -fsanitize=... (run with libasan preloaded;
                            see .ci/debug_check.sh)
  FASTACT_NO_DISPATCH=1     build the baseline module only
"""
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

from Cython.Build import cythonize


def env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


DEBUG = env_flag("FASTACT_DEBUG")
IS_X86_64 = platform.machine().lower() in ("x86_64", "amd64", "x64")

# Per-target flags by compiler family.  Never -ffast-math/-Ofast: they break
# NaN/inf handling and (GCC 12) set flush-to-zero for the whole process.
# -fno-trapping-math is what lets GCC if-convert and vectorize the selects.
SANITIZE = os.environ.get("FASTACT_SANITIZE", "").strip()
# -ffp-contract=off: the compiler fuses no multiply-add by itself (clang would
# by default), so results do not depend on the compiler and the cheap kernels
# keep PyTorch's twice-rounded a*x + b at their kinks; the transcendental math
# asks for FMA explicitly (fa_fma_f/_d in src/fa_math.h), which took sigmoid
# from 0.46 to 0.30 ns/element.
GNU_BASE = ["-fno-math-errno", "-fno-trapping-math", "-std=c11", "-ffp-contract=off"] + (
    ["-O1", "-g", "-UNDEBUG", "-fno-omit-frame-pointer"] if DEBUG else ["-O3"]) + (
    [f"-fsanitize={SANITIZE}"] if SANITIZE else [])
_V3 = ["-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe"]
GNU_TARGET = {
    "baseline": [],
    "x86_64_v3": _V3,
    # AVX-512 with 512-bit vectors: GCC otherwise prefers 256-bit ones
    "x86_64_v4": _V3 + ["-mavx512f", "-mavx512cd", "-mavx512bw", "-mavx512dq", "-mavx512vl",
                        "-mprefer-vector-width=512"],
}
MSVC_BASE = ["/O2", "/fp:precise"]
MSVC_TARGET = {"baseline": [], "x86_64_v3": ["/arch:AVX2"], "x86_64_v4": ["/arch:AVX512"]}

TARGETS = ["baseline"] + (["x86_64_v3", "x86_64_v4"]
                          if IS_X86_64 and not env_flag("FASTACT_NO_DISPATCH") else [])

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
        for ext in self.extensions:
            target = ext.name.rsplit("_k_", 1)[-1]
            base, tflags = (MSVC_BASE, MSVC_TARGET) if msvc else (GNU_BASE, GNU_TARGET)
            ext.extra_compile_args = base + tflags[target] + omp[0]
            ext.extra_link_args = omp[1] + ([f"-fsanitize={SANITIZE}"] if SANITIZE and not msvc else [])
        super().build_extensions()


extensions = [
    Extension(f"fastact._k_{t}", [f"src/_k_{t}.pyx"], include_dirs=["src"],
              depends=[os.path.join("src", f) for f in os.listdir("src")])
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
    ext_modules=cythonize(extensions, compiler_directives=directives, include_path=["src"]),
    cmdclass={"build_ext": BuildExt},
)
