#!/usr/bin/env bash
# Installs the Debian 12 packages nnc needs to build and test. Idempotent:
# packages already present are left alone and apt is not touched.
set -euo pipefail
# libclang-rt-16-dev: clang-16's sanitizer and libFuzzer runtimes
# (libclang_rt.fuzzer-x86_64.a, for -fsanitize=fuzzer in scripts/fuzz.sh);
# libfuzzer-16-dev is the standalone libFuzzer.a, which the build does not use.
# universal-ctags: ctags-universal, which scripts/check_sizes.py (the ctest
# "hygiene: file and function sizes") uses to find where functions end.
# clang-format-16: scripts/format.sh and the ctest "hygiene: clang-format".
# openmpi-bin, libopenmpi-dev: data-parallel training (mpirun -np N nnc
# train) and its test; nnc builds without them, on one process.
# pkg-config: the install test builds an app with pkg-config --libs nnc;
# dpkg-dev: dpkg-shlibdeps, which lists the .deb's dependencies (cpack).
pkgs=(cmake ninja-build g++ llvm-16-dev llvm-16-tools libmlir-16-dev mlir-16-tools clang-16
      libclang-rt-16-dev libomp-16-dev catch2 libfmt-dev python3 universal-ctags
      clang-format-16 git openmpi-bin libopenmpi-dev pkg-config dpkg-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
