#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in build-fuzz/ (clang-16; our code
# with coverage, ASan and UBSan) and fuzzes each for SECONDS (default 60).
#   scripts/fuzz.sh [SECONDS]        every target
#   scripts/fuzz.sh SECONDS TARGET.. only these (csv, frontend, ...)
# NNC_FUZZ_JOBS: ninja's -j (default 2). The working corpus of each target
# stays in build-fuzz/corpus/<target>/ between runs, seeded from
# fuzz/seeds/, fuzz/regressions/ and the examples' and tests' files.
# Any crash, leak, timeout or out-of-memory fails the run (exit 1), and the
# input that caused it is copied to fuzz/regressions/<target>/, which ctest
# replays in every build from then on: fix the bug, commit the input.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
jobs=${NNC_FUZZ_JOBS:-2}
all=(frontend csv text babi jsonl safetensors json)
targets=("${@:-${all[@]}}")

bash scripts/setup.sh
start=$(date +%s)
CC=clang-16 CXX=clang++-16 cmake -G Ninja -B build-fuzz -S . -DCMAKE_BUILD_TYPE=Release \
  -DNNC_FUZZ=ON > build-fuzz.log 2>&1 || { cat build-fuzz.log; exit 1; }
ninja -C build-fuzz -j"$jobs"
echo "fuzz: built in $(( $(date +%s) - start )) s"

# The inputs that crashed before must not crash now.
ctest --test-dir build-fuzz --output-on-failure -L fuzz

# Seeds: small files from the examples and tests, cut to the first lines of
# the large corpora.
seed() { # seed TARGET FILE...: copies the files into the corpus (names kept unique)
  local t=$1 f; shift
  for f in "$@"; do
    [[ -f $f ]] && cp "$f" "build-fuzz/corpus/$t/seed-$(echo "$f" | tr '/' '_')"
  done
  return 0
}
head_seed() { # head_seed TARGET LINES FILE...
  local t=$1 n=$2 f; shift 2
  for f in "$@"; do
    [[ -f $f ]] && head -n "$n" "$f" > "build-fuzz/corpus/$t/seed-head-$(echo "$f" | tr '/' '_')"
  done
  return 0
}
for t in "${all[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  [[ -d fuzz/seeds/$t ]] && seed "$t" fuzz/seeds/"$t"/*
  seed "$t" $(find fuzz/regressions/"$t" -type f ! -name '.*')
done
seed frontend $(find examples tests/lit tests/e2e dsl/std -name '*.nn')
seed csv $(find examples tests/lit -name '*.csv' -size -8k)
head_seed text 60 examples/textgen/data/*.txt
seed text tests/lit/CLI/Inputs/*.txt
head_seed babi 40 examples/qa/data/*.txt
seed babi tests/lit/CLI/Inputs/*qa*.txt
head_seed jsonl 4 examples/qa/data/*.jsonl

declare -A max_len=([frontend]=8192 [csv]=16384 [text]=16384 [babi]=16384 [jsonl]=16384
                    [safetensors]=8192 [json]=4096)
failed=()
for t in "${targets[@]}"; do
  art=build-fuzz/artifacts/$t
  rm -rf "$art" && mkdir -p "$art"
  log=build-fuzz/fuzz-$t.log
  echo "fuzz: $t for $secs s"
  set +e
  # ASan's leak check stays on (libFuzzer reports leaks per input); the
  # corpus directory is the working corpus, new inputs go there.
  nice -n 19 "build-fuzz/fuzz/fuzz_$t" -max_total_time="$secs" -max_len="${max_len[$t]}" \
    -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
    "build-fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  set -e
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)" "$log" |
    sed "s/^/fuzz: $t: /" || true
  found=$(find "$art" -type f | sort)
  if [[ $rc -ne 0 || -n $found ]]; then
    tail -n 60 "$log"
    mkdir -p "fuzz/regressions/$t"
    for f in $found; do
      cp "$f" "fuzz/regressions/$t/"
      echo "fuzz: $t: kept $(basename "$f") in fuzz/regressions/$t/ (replayed by ctest from now on)"
    done
    failed+=("$t")
  fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (logs in build-fuzz/fuzz-<target>.log)"
  exit 1
fi
echo "fuzz: every target ran $secs s without a crash, leak or timeout"
