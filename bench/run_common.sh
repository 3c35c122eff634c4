# bench/run_common.sh: the body that bench/run_rnn.sh and bench/run_attn.sh
# share, sourced after they have set: root, build, bench_build, quick (from
# their options), bench_target (the bench executable), torch_script (under
# bench/), cases, nnc_args and torch_args per case ("train-steps blocks
# gen-tokens gen-blocks"; PyTorch may leave out the last two), label_thr and
# label_gen per case (a case without label_gen has no generation row).
# Builds the bench, runs nnc at 1 and 2 threads and PyTorch in the four
# configurations of BASELINES.md, and prints the table.

echo "== build" >&2
[[ -f $build/build.ninja ]] || cmake -G Ninja -B "$build" -S "$root" >&2
if ninja -C "$build" -t targets all 2>/dev/null | grep -q "^$bench_target:"; then
  ninja -C "$build" "$bench_target" >&2
  bench_bin=$build/bin/$bench_target
else
  ninja -C "$build" nnc >&2
  cmake -G Ninja -S "$root/bench" -B "$bench_build" -DCMAKE_BUILD_TYPE=Release \
    -DNNC_EXECUTABLE="$build/bin/nnc" >&2
  ninja -C "$bench_build" "$bench_target" >&2
  bench_bin=$bench_build/bin/$bench_target
fi


tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The machine, and OpenBLAS's best kernels for the PyTorch side (bench/machine.py).
echo "== machine: /usr/bin/python3 bench/machine.py" >&2
/usr/bin/python3 "$root/bench/machine.py" | tee "$tmp/machine.txt" >&2
machine() { sed -n "s/^MACHINE .*$1=\([^ ]*\).*/\1/p" "$tmp/machine.txt"; }
blas_core=$(machine core)
peak1=$(machine sgemm1); peak2=$(machine sgemm2)
unset OMP_WAIT_POLICY OPENBLAS_THREAD_TIMEOUT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NNC_BENCH_THREADS=1
# nnc's large matrix products run on OpenMP threads: OMP_NUM_THREADS=1 and 2.
for n in 1 2; do
  for c in "${cases[@]}"; do
    read -r s b gt gb <<<"${nnc_args[$c]}"
    echo "== nnc [$n thread(s)]: OMP_NUM_THREADS=$n $bench_bin --case $c --train-steps $s --train-blocks $b --gen-tokens $gt --gen-blocks $gb" >&2
    OMP_NUM_THREADS=$n NNC_BENCH_THREADS=$n "$bench_bin" --case "$c" --train-steps "$s" \
      --train-blocks "$b" --gen-tokens "$gt" --gen-blocks "$gb" | tee -a "$tmp/nnc$n.txt" >&2
  done
done

torch_case_args=()
for c in "${cases[@]}"; do
  read -r s b gt gb <<<"${torch_args[$c]}"
  torch_case_args+=(--case-args "$c:$s:$b${gt:+:$gt}${gb:+:$gb}")
done
torch_run() { # name, then environment assignments
  local name=$1; shift
  echo "== PyTorch [$name]: env OPENBLAS_CORETYPE=$blas_core $* /usr/bin/python3 bench/$torch_script --cases $(IFS=,; echo "${cases[*]}") ${torch_case_args[*]}" >&2
  env -u OPENBLAS_L2_SIZE -u OPENBLAS_CORETYPE ${blas_core:+OPENBLAS_CORETYPE=$blas_core} "$@" \
    /usr/bin/python3 "$root/bench/$torch_script" --cases "$(IFS=,; echo "${cases[*]}")" \
    "${torch_case_args[@]}" | tee "$tmp/torch_$name.txt" >&2
}
torch_run t1 NNC_BENCH_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
torch_run t2a NNC_BENCH_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4
torch_run t2b NNC_BENCH_THREADS=1 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=1
torch_run t2c NNC_BENCH_THREADS=2 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2

get() { # file case key -> value
  grep "^RESULT case=$2 " "$1" | sed -n "s/.* $3=\([^ ]*\).*/\1/p" | tail -1
}
best2() { # case key max|min -> best over the 2-thread configurations
  for n in t2a t2b t2c; do get "$tmp/torch_$n.txt" "$1" "$2"; done |
    awk -v m="$3" 'NF { if (!seen || (m == "max" ? $1 > b : $1 < b)) b = $1; seen = 1 } END { print b }'
}

echo
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc --all) cores, $(machine isa); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PyTorch's OpenBLAS core: $blas_core (environment: $(machine env_core), detected: $(machine detected_core)); same-run sgemm 1024^3: $peak1 GFLOP/s at 1 thread, $peak2 at 2"
echo "nnc and PyTorch on 1 thread, and on 2 (PyTorch: the best of the three 2-thread configurations of BASELINES.md)."
printf '| %-36s | %9s | %10s | %8s | %9s | %10s | %8s |\n' case "nnc 1t" "PyTorch 1t" "ratio 1t" "nnc 2t" "PyTorch 2t" "ratio 2t"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "$(printf -- '-%.0s' {1..11})" \
  "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..11})" \
  "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..10})"
row() { # label nnc1 torch1 nnc2 torch2 kind(thr|time)
  awk -v l="$1" -v a="$2" -v b="$3" -v c="$4" -v d="$5" -v k="$6" 'BEGIN {
    # throughput: nnc / PyTorch; time: PyTorch / nnc. Above 1: nnc is faster.
    r1 = (k == "thr") ? a / b : b / a; r2 = (k == "thr") ? c / d : d / c
    printf "| %-36s | %9.1f | %10.1f | %7.2fx | %9.1f | %10.1f | %7.2fx |\n", l, a, b, r1, c, d, r2 }'
}
for c in "${cases[@]}"; do
  row "${label_thr[$c]}" "$(get "$tmp/nnc1.txt" "$c" throughput)" "$(get "$tmp/torch_t1.txt" "$c" throughput)" \
    "$(get "$tmp/nnc2.txt" "$c" throughput)" "$(best2 "$c" throughput max)" thr
  [[ -n ${label_gen[$c]:-} ]] || continue
  row "${label_gen[$c]}" "$(get "$tmp/nnc1.txt" "$c" gen_us)" "$(get "$tmp/torch_t1.txt" "$c" gen_us)" \
    "$(get "$tmp/nnc2.txt" "$c" gen_us)" "$(best2 "$c" gen_us min)" time
done
echo "(ratio: nnc/PyTorch for throughput, PyTorch/nnc for time; above 1x nnc is faster)"
echo "nnc generation path: $(sed -n 's/^RESULT case=\([^ ]*\) .*gen_path=\([^ ]*\).*/\1 \2/p' "$tmp/nnc1.txt" | tr '\n' ' ')"
echo "nnc 1t train-step CPU ms (median): $(sed -n 's/^RESULT case=\([^ ]*\) .*train_cpu_ms=\([^ ]*\).*/\1 \2/p' "$tmp/nnc1.txt" | tr '\n' ' ')"
echo "PyTorch 1t train-step CPU ms (median): $(sed -n 's/^RESULT case=\([^ ]*\) .*train_cpu_ms=\([^ ]*\).*/\1 \2/p' "$tmp/torch_t1.txt" | tr '\n' ' ')"
pct() { awk -v g="$1" -v p="$2" 'BEGIN { if (p > 0 && g != "") printf "%.1f GFLOP/s (%.0f%% of peak)", g, 100 * g / p; else printf "n/a" }'; }
for c in "${cases[@]}"; do
  echo "nnc $c training: 1t $(pct "$(get "$tmp/nnc1.txt" "$c" train_gflops)" "$peak1"), 2t $(pct "$(get "$tmp/nnc2.txt" "$c" train_gflops)" "$peak2");" \
    "per steady-state step: $(get "$tmp/nnc1.txt" "$c" allocs_per_step) allocations, $(get "$tmp/nnc1.txt" "$c" faults_per_step) page faults;" \
    "peak memory $(get "$tmp/nnc1.txt" "$c" maxrss_mb) MB (PyTorch $(get "$tmp/torch_t1.txt" "$c" maxrss_mb) MB)"
done
