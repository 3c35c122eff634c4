#!/usr/bin/env bash
# bench/run.sh: builds bench-iris (compile time excluded from every timing),
# runs it and the same fit in PyTorch, both on 1 thread, and prints a table.
#
#   bench/run.sh [--reps N] [--torch-reps N]
#
# Environment: BUILD_DIR (default build-app: the nnc build to use or make),
# BENCH_BUILD_DIR (default build-bench: used when the top level does not add
# bench/ and bench-iris is built standalone against BUILD_DIR's nnc).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-app}
bench_build=${BENCH_BUILD_DIR:-$root/build-bench}
reps=11 torch_reps=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --torch-reps) torch_reps=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--reps N] [--torch-reps N]" >&2; exit 1 ;;
  esac
done

# One thread everywhere (BASELINES.md): OpenBLAS keeps its own pool otherwise.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NNC_BENCH_THREADS=1

echo "== build" >&2
[[ -f $build/build.ninja ]] || cmake -G Ninja -B "$build" -S "$root" >&2
if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^bench-iris:'; then
  ninja -C "$build" bench-iris >&2
  bench_bin=$build/bin/bench-iris
else
  # The top level does not add bench/ yet: build it standalone with this nnc.
  ninja -C "$build" nnc >&2
  cmake -G Ninja -S "$root/bench" -B "$bench_build" -DCMAKE_BUILD_TYPE=Release \
    -DNNC_EXECUTABLE="$build/bin/nnc" >&2
  ninja -C "$bench_build" bench-iris >&2
  bench_bin=$bench_build/bin/bench-iris
fi

result() { # file key -> value from the RESULT line
  sed -n "s/^RESULT .*$2=\([^ ]*\).*/\1/p" "$1" | tail -1
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "== nnc ($bench_bin --reps $reps)" >&2
"$bench_bin" --reps "$reps" | tee "$tmp/nnc.txt" >&2
echo "== PyTorch (/usr/bin/python3 bench/iris_torch.py --reps $torch_reps)" >&2
/usr/bin/python3 "$root/bench/iris_torch.py" --reps "$torch_reps" | tee "$tmp/torch.txt" >&2

nnc_ms=$(result "$tmp/nnc.txt" iris_fit_ms)
torch_ms=$(result "$tmp/torch.txt" iris_fit_ms)
nnc_min=$(result "$tmp/nnc.txt" min_ms)
torch_min=$(result "$tmp/torch.txt" min_ms)
nnc_cpu=$(result "$tmp/nnc.txt" cpu_ms)
torch_cpu=$(result "$tmp/torch.txt" cpu_ms)
[[ -n $nnc_ms && -n $torch_ms && -n $nnc_cpu && -n $torch_cpu ]] || { echo "run.sh: a benchmark printed no RESULT line" >&2; exit 1; }

echo
echo "1 thread; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-38s | %10s | %10s | %8s |\n' case "nnc ms" "PyTorch ms" ratio
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..40})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..10})"
row() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "| %-38s | %10.2f | %10.1f | %7.1fx |\n", n, a, b, b / a }'; }
row "Iris fit, 150 ep, batch 8: wall median" "$nnc_ms" "$torch_ms"
row "Iris fit: wall min" "$nnc_min" "$torch_min"
row "Iris fit: CPU time median" "$nnc_cpu" "$torch_cpu"
echo "(2100 train steps per fit; target: nnc >= 50x faster than PyTorch's 686 ms, i.e. <= 13.7 ms)"
