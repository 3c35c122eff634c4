#!/usr/bin/env bash
# Formats nnc's C and C++ sources with clang-format-16 (.clang-format; the
# runtime's own runtime/.clang-format keeps one-line guards).
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  list the files that differ and exit 1 (the
#                              ctest "hygiene: clang-format")
# Generated and lit input files are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format-16 > /dev/null; then
  echo "format.sh: clang-format-16 is missing (apt-get install clang-format-16, or scripts/setup.sh)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.c' '*.cpp' '*.h' | grep -v '^tests/lit/')
if [[ ${1:-} == --check ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format-16 --dry-run --Werror "$f" > /dev/null 2>&1; then
      echo "not formatted: $f (scripts/format.sh rewrites it)"
      bad=1
    fi
  done
  [[ $bad == 0 ]] && echo "format.sh: ${#files[@]} files formatted"
  exit $bad
fi
clang-format-16 -i "${files[@]}"
