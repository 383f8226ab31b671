#!/usr/bin/env bash
# Install an LLVM OpenMP runtime (libomp) built for an OLD macOS deployment
# target, for cibuildwheel's macOS before-all step:
#
#   bash .ci/macos_libomp.sh [PREFIX] [ARCH]      (defaults: /tmp/fastact-libomp, uname -m)
#
# Homebrew's libomp is built for the runner's own macOS (14/15), so a wheel
# linked against it could only be tagged for that version (delocate >= 0.11
# refuses a lower tag). Instead this takes the pinned conda-forge llvm-openmp
# 11.1.0 package that scikit-learn's wheels use (min macOS 10.9 on x86_64,
# 11.0 on arm64), unpacks it into PREFIX and gives libomp.dylib an absolute
# install name, so that setup.py's OpenMP probe program runs without an rpath
# and delocate finds the library to vendor into fastact/.dylibs/.
set -euo pipefail

PREFIX=${1:-/tmp/fastact-libomp}
ARCH=${2:-$(uname -m)}
VERSION=11.1.0
case "$ARCH" in
    arm64)  SUBDIR=osx-arm64; BUILD=hf3c4609_1 ;;
    x86_64) SUBDIR=osx-64;    BUILD=hda6cdc1_1 ;;
    *) echo "macos_libomp: unsupported arch $ARCH" >&2; exit 1 ;;
esac
PKG="llvm-openmp-$VERSION-$BUILD.tar.bz2"
URL="https://conda.anaconda.org/conda-forge/$SUBDIR/$PKG"

[[ "$(uname -s)" == Darwin ]] || { echo "macos_libomp: macOS only" >&2; exit 1; }
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
echo "macos_libomp: $URL -> $PREFIX"
curl -fsSL --retry 5 --retry-delay 5 -o "$PREFIX/$PKG" "$URL"
tar -xjf "$PREFIX/$PKG" -C "$PREFIX"
rm -rf "$PREFIX/$PKG" "$PREFIX/info"
# conda-forge also ships libgomp/libiomp5 symlinks to libomp: drop them so
# nothing links them by accident.
rm -f "$PREFIX"/lib/libgomp.* "$PREFIX"/lib/libiomp5.*

LIB="$PREFIX/lib/libomp.dylib"
[[ -f "$LIB" && -f "$PREFIX/include/omp.h" ]] || { echo "macos_libomp: package layout unexpected" >&2; ls -R "$PREFIX" >&2; exit 1; }
install_name_tool -id "$LIB" "$LIB"
codesign --force --sign - "$LIB"    # install_name_tool invalidates the (ad-hoc) signature

echo "macos_libomp: installed:"
ls -l "$PREFIX/lib" "$PREFIX/include"
lipo -info "$LIB"
otool -D "$LIB"
# minimum macOS the library was built for (LC_BUILD_VERSION minos / LC_VERSION_MIN_MACOSX version)
otool -l "$LIB" | grep -A4 -E 'LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX' | grep -E 'minos|version' || true
echo "macos_libomp: MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-<unset>}"
