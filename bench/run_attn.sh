#!/usr/bin/env bash
# bench/run_attn.sh: builds bench-attn (compile time excluded from every
# timing), runs the attention benchmarks in nnc and in PyTorch and prints a
# table.
#
#   bench/run_attn.sh [--quick] [--gpt2]
#
# Cases: the tiny GPT (examples/gpt/tiny.nn, batch 32, context 128: training
# and batch-1 generation through its key/value-cache step) and the course's
# memory network (examples/qa/memnet.nn, batch 32: training). nnc runs on 1
# and on 2 threads (OMP_NUM_THREADS: its large matrix products and
# elementwise ops are OpenMP loops); PyTorch on 1 thread (torch.set_num_threads(1),
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
# --gpt2: the GPT-2-sized model (examples/gpt/gpt2_small.nn, 85M parameters,
# batch 8, context 256) instead: one step per block (about 1.1 TFLOP each).
quick=0 gpt2=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1; shift ;;
    --gpt2) gpt2=1; shift ;;
    *) echo "usage: bench/run_attn.sh [--quick] [--gpt2]" >&2; exit 1 ;;
  esac
done

# Per case: train steps per block, blocks, generated tokens per block, blocks.
# (memnet has no generation: its two arguments are ignored.) A generation
# block is at most 128 tokens: the context, from position 0 (as PyTorch's).
declare -A nnc_args=([gpt]="2 5 128 7" [memnet]="20 5 1 1")
declare -A torch_args=([gpt]="2 5 128 5" [memnet]="20 5")
if ((quick)); then
  nnc_args=([gpt]="1 3 128 3" [memnet]="5 3 1 1")
  torch_args=([gpt]="1 3 128 3" [memnet]="5 3")
fi
cases=(gpt memnet)
declare -A label_thr=([gpt]="Tiny GPT training, tokens/s" [memnet]="bAbI memnet training, samples/s"
                      [gpt2]="GPT-2 small (85M) training, tokens/s")
declare -A label_gen=([gpt]="Tiny GPT generation, us/token" [gpt2]="GPT-2 small generation, us/token")
if ((gpt2)); then
  cases=(gpt2)
  nnc_args=([gpt2]="1 3 32 3")
  torch_args=([gpt2]="1 3 32 3")
fi
bench_target=bench-attn
torch_script=attn_torch.py
source "$root/bench/run_common.sh"
