#!/usr/bin/env bash
# Installs the Debian 12 packages nnc needs to build and test. Idempotent:
# packages already present are left alone and apt is not touched.
set -euo pipefail
pkgs=(cmake ninja-build g++ llvm-16-dev llvm-16-tools libmlir-16-dev mlir-16-tools clang-16
      libomp-16-dev catch2 libfmt-dev python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
