#!/usr/bin/env bash
# bench/run_rnn.sh: builds bench-rnn (compile time excluded from every timing),
# runs the recurrent benchmarks in nnc and in PyTorch and prints a table.
#
#   bench/run_rnn.sh [--h512] [--quick]
#
# Cases: the course's word LSTM (examples/textgen/moby.nn, batch 128) and the
# char LSTM H=128 (bench/models/char_lstm.nn, batch 32, window 100); --h512
# adds the char LSTM H=512 (slow: ~4 s per nnc train step here). nnc runs on
# 1 and on 2 threads (OMP_NUM_THREADS: its large matrix products are OpenMP
# loops); PyTorch on 1 thread (torch.set_num_threads(1),
# OPENBLAS_NUM_THREADS=1) and in the three 2-thread configurations of
# /work/shared/BASELINES.md, of which the best is shown.
#
# Environment: BUILD_DIR (default build: the nnc build whose top level adds
# bench/; else bench/ is built standalone in BENCH_BUILD_DIR, default
# build-bench, against BUILD_DIR's nnc).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
bench_build=${BENCH_BUILD_DIR:-$root/build-bench}
h512=0 quick=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --h512) h512=1; shift ;;
    --quick) quick=1; shift ;;
    *) echo "usage: bench/run_rnn.sh [--h512] [--quick]" >&2; exit 1 ;;
  esac
done

# Per case: train steps per block, blocks, generated tokens per block, blocks.
declare -A nnc_args=([word]="2 5 200 7" [char128]="3 5 300 7" [char512]="2 3 50 5")
declare -A torch_args=([word]="1 3 100 5" [char128]="1 3 100 5" [char512]="1 2 30 3")
if ((quick)); then
  nnc_args=([word]="1 3 100 3" [char128]="1 3 100 3" [char512]="1 2 30 3")
  torch_args=([word]="1 2 50 3" [char128]="1 2 50 3" [char512]="1 1 20 2")
fi
cases=(word char128)
((h512)) && cases+=(char512)
declare -A label_thr=([word]="Word LSTM training, samples/s" [char128]="Char LSTM H=128 training, tokens/s" [char512]="Char LSTM H=512 training, tokens/s")
declare -A label_gen=([word]="Word LSTM generation, us/word" [char128]="Char LSTM H=128 generation, us/char" [char512]="Char LSTM H=512 generation, us/char")
bench_target=bench-rnn
torch_script=rnn_torch.py
source "$root/bench/run_common.sh"
