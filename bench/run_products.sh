#!/usr/bin/env bash
# bench/run_products.sh: nnc's generated matrix products against OpenBLAS's
# sgemm on one thread (bench-products), OpenBLAS on its best core for this
# CPU (bench/machine.py), for 512^3, 1024^3 and the examples' product shapes.
#   bench/run_products.sh [--seconds S]     (default 1 s per shape and side)
# Environment: BUILD_DIR (default build: a top-level build; bench-products
# compiles in process, so it needs the compiler's libraries).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ -f $build/build.ninja ]] || cmake -G Ninja -B "$build" -S "$root" >&2
ninja -C "$build" bench-products >&2
machine=$(/usr/bin/python3 "$root/bench/machine.py")
echo "$machine" | grep -v '^MACHINE'
core=$(echo "$machine" | sed -n 's/^MACHINE .*core=\([^ ]*\) .*/\1/p' | tail -1)
env -u OPENBLAS_L2_SIZE -u OPENBLAS_CORETYPE ${core:+OPENBLAS_CORETYPE=$core} OMP_NUM_THREADS=1 \
  OPENBLAS_NUM_THREADS=1 "$build/bin/bench-products" "$@" | grep -v '^RESULT'
