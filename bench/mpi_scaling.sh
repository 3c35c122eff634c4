#!/usr/bin/env bash
# bench/mpi_scaling.sh: data-parallel training on this machine's cores: one
# process on 1 and 2 threads against two processes of 1 thread each
# (mpirun -np 2, shared memory), for the word LSTM (examples/textgen/moby.nn
# on its four chapters, batch 128) and the tiny GPT (examples/gpt/tiny.nn on
# the first 200 KB of Shakespeare, batch 32). Prints rows per second
# (medians of RUNS runs, default 3) and the all-reduce's time per step.
#   bench/mpi_scaling.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nnc=${NNC:-$root/build/bin/nnc}
runs=${1:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export NNC_CACHE_DIR=$work/cache
echo "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
mkdir -p "$work/textgen/data" "$work/gpt"
cp "$root/examples/textgen/moby.nn" "$work/textgen/"
cp "$root/examples/textgen/data/moby_dick_four_chapters.txt" "$work/textgen/data/"
cp "$root/examples/gpt/tiny.nn" "$work/gpt/"
head -c 200000 "$root/examples/textgen/data/tinyshakespeare.txt" > "$work/textgen/data/tinyshakespeare.txt"

# run LABEL DIR MODEL PROCS THREADS: one training epoch; prints rows/s and
# the all-reduce ms per step.
run() {
  local dir=$1 model=$2 procs=$3 threads=$4 out
  cd "$work/$dir"
  if (( procs > 1 )); then
    out=$(OMP_NUM_THREADS=$threads mpirun --allow-run-as-root --oversubscribe -np "$procs" \
      -x OMP_NUM_THREADS -x NNC_CACHE_DIR "$nnc" train "$model" --epochs 1 --sample-every 0)
  else
    out=$(OMP_NUM_THREADS=$threads "$nnc" train "$model" --epochs 1 --sample-every 0)
  fi
  local rows secs ms
  rows=$(echo "$out" | sed -n 's/.*parameters, compiled in .* ms; \([0-9]*\) training rows.*/\1/p')
  secs=$(echo "$out" | sed -n 's/^trained 1 epochs in \([0-9.]*\) s/\1/p')
  ms=$(echo "$out" | sed -n 's/.*floats: \([0-9.]*\) ms per step.*/\1/p')
  awk -v r="$rows" -v s="$secs" -v m="${ms:-0}" 'BEGIN { print r / s, m }'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-12s %-22s %12s %16s\n' model configuration "rows/s" "all-reduce/step"
for spec in "word-LSTM textgen moby.nn" "tiny-GPT gpt tiny.nn"; do
  set -- $spec
  name=$1 dir=$2 model=$3
  run "$dir" "$model" 1 1 > /dev/null # compile once, outside the timings
  run "$dir" "$model" 2 1 > /dev/null
  for cfg in "1 1" "1 2" "2 1"; do
    set -- $cfg
    results=()
    for _ in $(seq "$runs"); do results+=("$(run "$dir" "$model" "$1" "$2")"); done
    rate=$(printf '%s\n' "${results[@]}" | awk '{print $1}' | median)
    ms=$(printf '%s\n' "${results[@]}" | awk '{print $2}' | median)
    printf '%-12s %-22s %12.0f %13s ms\n' "$name" "$1 process x $2 thread" "$rate" \
      "$([[ $1 == 1 ]] && echo - || echo "$ms")"
  done
done
