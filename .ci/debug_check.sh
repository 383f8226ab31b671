#!/usr/bin/env bash
# The test suite once against a DEBUG build: Cython bounds checking, C
# asserts, and AddressSanitizer around every native kernel, so an
# out-of-bounds read or write in a loop fails loudly instead of corrupting
# memory.  Linux + GCC only (libasan is preloaded into the Python process).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "$(uname -s)" != Linux ]] || ! command -v gcc >/dev/null; then
    echo "debug_check: SKIP: needs Linux and GCC"; exit 0
fi
asan=$(gcc -print-file-name=libasan.so)
[[ -f "$asan" ]] || { echo "debug_check: FAIL: libasan not found"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
# shellcheck disable=SC1091
source "$tmp/venv/bin/activate"
python -m pip install -q --upgrade pip
# Build from a copy of the tracked tree: setuptools reuses the objects of an
# earlier build in ./build (the README's `pip install .`) whenever they are
# newer than the sources, whatever the flags, so an in-place install would
# test the release loops under ASan instead of an instrumented debug build.
mkdir "$tmp/src"
git ls-files -z | tar --null --no-recursion -T - -cf - | tar -C "$tmp/src" -xf -
FASTACT_DEBUG=1 FASTACT_SANITIZE=address pip install -q --no-cache-dir "$tmp/src[test]"
cp -r tests pyproject.toml README.md "$tmp/"
cd "$tmp"
# ... and prove it: every compiled module must be instrumented.
python - <<'PY'
import glob, importlib.util, os, subprocess
pkg = importlib.util.find_spec("fastact").submodule_search_locations[0]   # located, not imported
mods = glob.glob(os.path.join(pkg, "_*.so"))
bare = [m for m in mods if "__asan_init" not in subprocess.run(["nm", "-D", m], capture_output=True, text=True).stdout]
assert mods and not bare, f"debug_check: not built with AddressSanitizer: {bare or 'no modules'}"
print("debug_check: instrumented:", sorted(os.path.basename(m).split(".")[0] for m in mods))
PY
# leaks in the interpreter itself are not ours: only memory errors fail
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
# Left to the normal run: the >2^31-element test (9 GiB, more under ASan's shadow
# memory) and the flat-RSS test (ASan's quarantine keeps freed blocks by design).
LD_PRELOAD="$asan" python -m pytest -q -p no:cacheprovider -x -k "not 2_to_the_31 and not rss_flat" "$@" tests
