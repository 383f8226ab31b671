"""The one table of CPU build targets: compiler flags, the vector width the
loops must reach, and the CPU features a target's code needs.

Read by setup.py (flags), .ci/check_vectorized.py (flags and widths) and
fastact._dispatch (features, checked before a target's module is imported).
It lives inside the package because _dispatch needs it at run time in an
installed copy, where no file of the source tree exists; setup.py and the CI
script load this file by path (importlib), so it imports nothing but the
standard library: no NumPy, setuptools or compiled code.
"""
import sys

# Flags every target shares, by compiler family.  Never -ffast-math/-Ofast:
# they break NaN/inf handling and (GCC 12) set flush-to-zero for the whole
# process.  -fno-trapping-math lets GCC if-convert and vectorize the selects.
# -ffp-contract=off: the compiler fuses no multiply-add by itself (clang would
# by default), so results do not depend on the compiler and the cheap kernels
# keep PyTorch's twice-rounded a*x + b at their kinks; the transcendental math
# asks for FMA explicitly (fa_fma_f/_d in src/fa_math.h).
GNU_BASE = ["-fno-math-errno", "-fno-trapping-math", "-std=c11", "-ffp-contract=off"]
GNU_OPT = ["-O3"]
MSVC_BASE = ["/O2", "/fp:precise"]

_V3_GNU = ["-mavx2", "-mfma", "-mf16c", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe"]
_V3_FEATURES = ("AVX", "AVX2", "FMA3", "F16C", "BMI", "BMI2", "LZCNT", "MOVBE")

# name -> gnu: GCC/clang flags; msvc: MSVC flags; vec_bytes: the SIMD width
# (bytes) check_vectorized requires of every element-wise loop; features:
# NumPy's __cpu_features__ names the CPU and OS must report (the baseline
# needs none: it is the compiler's default target of the architecture).
TARGETS = {
    "baseline": {
        "gnu": [],
        "msvc": [],
        "vec_bytes": 16,
        "features": (),
    },
    "x86_64_v3": {
        "gnu": _V3_GNU,
        "msvc": ["/arch:AVX2"],
        "vec_bytes": 32,
        "features": _V3_FEATURES,
    },
    "x86_64_v4": {
        # 512-bit vectors: GCC otherwise prefers 256-bit ones with AVX-512
        "gnu": _V3_GNU + ["-mavx512f", "-mavx512cd", "-mavx512bw", "-mavx512dq", "-mavx512vl",
                          "-mprefer-vector-width=512"],
        "msvc": ["/arch:AVX512"],
        "vec_bytes": 64,
        "features": _V3_FEATURES + ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL"),
    },
}

# Targets beyond the baseline exist on x86-64 only; elsewhere (aarch64, ...)
# the baseline is the one target built.
X86_64_ONLY = ("x86_64_v3", "x86_64_v4")

# Best first: the order in which _dispatch tries them.
PREFERENCE = ("x86_64_v4", "x86_64_v3", "baseline")

X86_64_MACHINES = ("x86_64", "amd64", "x64")


def targets_for(machine):
    """The targets built on a machine (platform.machine()), baseline first."""
    if machine.lower() in X86_64_MACHINES:
        return list(TARGETS)
    return ["baseline"]


# x86-64 loops never touch the x87 unit.  GCC may otherwise keep a float in
# an x87 register where it runs out of SSE ones (seen at -O1, the debug
# build), and an x87 load quiets a signalling NaN, breaking the NaN rule's
# promise to return the input NaN's bits.  The release loops hold no x87
# instruction either way; the flag makes that independent of the optimizer.
X86_64_GNU = ["-mno-80387"]


def gnu_flags(target, machine):
    """GCC/clang flags of `target`'s loops on `machine` (platform.machine()),
    beyond GNU_BASE and the optimization level."""
    # (a 32-bit Python on an x86-64 kernel returns floats in x87 registers)
    extra = X86_64_GNU if machine.lower() in X86_64_MACHINES and sys.maxsize > 2**32 else []
    return extra + TARGETS[target]["gnu"]


def module_name(target):
    """The extension module that holds `target`'s loop table."""
    return f"fastact._loops_{target}"
