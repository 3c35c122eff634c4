#!/usr/bin/env bash
# Sets up, builds and runs every test: unit (Catch2), lit + FileCheck,
# numerical checks and end-to-end trainings, through ctest.
#   scripts/test.sh              the release build in build/
#   scripts/test.sh --sanitize   our code (front end, compiler, nnrt, tests)
#                                with AddressSanitizer (leaks included) and
#                                UndefinedBehaviorSanitizer in build-sanitize/,
#                                then the unit, lit and numeric tests (the
#                                end-to-end trainings are left to the release
#                                build: under the sanitizers they take long)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --sanitize ]]; then
  bash scripts/setup.sh
  cmake -G Ninja -B build-sanitize -S . -DCMAKE_BUILD_TYPE=Release -DNNC_SANITIZE=ON \
    > build-sanitize.log 2>&1 || { cat build-sanitize.log; exit 1; }
  ninja -C build-sanitize -j2
  # --repeat until-pass:2: LeakSanitizer's own tracer sometimes crashes at exit
  # ("Tracer caught signal 11", after every assertion had passed: seen once
  # in two CI runs of the same code); a report of ours fails both tries.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j2 -LE e2e --repeat until-pass:2
  exit
fi
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
