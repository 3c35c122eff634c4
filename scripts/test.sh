#!/usr/bin/env bash
# Sets up, builds and runs every test: unit (Catch2), lit + FileCheck,
# numerical checks and end-to-end trainings, through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
