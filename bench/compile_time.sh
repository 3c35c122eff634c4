#!/usr/bin/env bash
# bench/compile_time.sh: the compile time of the examples (docs/compiler.md's
# table) and how it grows with depth: examples/gpt/gpt2_small.nn at 4 and 12
# blocks (its `repeat(12, ...)` edited to 4), as a loop and written out
# (NNC_UNROLL_REPEATS=1). `nnc compile M.nn -o DIR` with the compile cache
# off; wall time, median of RUNS (default 3, alternating), and peak resident
# memory. A benchmark, not a test: issue 14's bar is +20% from 4 to 12.
#   bench/compile_time.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs=${1:-3}
nnc="$root/build/bin/nnc"
ninja -C "$root/build" nnc > /dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# gpt2_small.nn reads its data relative to its directory: the copies sit there too.
sed 's/repeat(12,/repeat(4,/' "$root/examples/gpt/gpt2_small.nn" > "$root/examples/gpt/.depth4.nn"
trap 'rm -rf "$tmp" "$root/examples/gpt/.depth4.nn"' EXIT

declare -A times mems
run() { # key file env...
  local key=$1 file=$2 out
  shift 2
  out=$(/usr/bin/time -f "%e %M" env NNC_CACHE=0 "$@" "$nnc" compile "$file" -o "$tmp/out" \
    2>&1 > /dev/null | tail -n 1)
  times[$key]+="${out% *} "
  mems[$key]+="${out#* } "
}
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

keys=()
for ((i = 0; i < runs; ++i)); do
  for m in iris/iris qa/memnet textgen/moby gpt/tiny; do
    run "$m" "$root/examples/$m.nn" NNC_UNROLL_REPEATS=0
    [[ $i -eq 0 ]] && keys+=("$m")
  done
  for u in 0 1; do
    run "depth4 unroll=$u" "$root/examples/gpt/.depth4.nn" NNC_UNROLL_REPEATS=$u
    run "depth12 unroll=$u" "$root/examples/gpt/gpt2_small.nn" NNC_UNROLL_REPEATS=$u
  done
done
keys+=("depth4 unroll=0" "depth12 unroll=0" "depth4 unroll=1" "depth12 unroll=1")
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
for k in "${keys[@]}"; do
  printf '%-20s %6s s  %4d MB   (runs: %s)\n' "$k" "$(median "${times[$k]}")" \
    $(( $(median "${mems[$k]}") / 1024 )) "${times[$k]% }"
done
for u in 0 1; do
  a=$(median "${times[depth4 unroll=$u]}")
  b=$(median "${times[depth12 unroll=$u]}")
  echo "4 -> 12 blocks ($([[ $u == 0 ]] && echo loop || echo written out)): $a -> $b s," \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.0f%%", (b / a - 1) * 100 }')"
done
