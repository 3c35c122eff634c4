#!/usr/bin/env bash
# The main job: set up, build, train the Iris classifier from its .nn file
# and classify two flowers with the checkpoint it wrote; then train a word
# LSTM on the first chapters of Moby Dick and let it write.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p out
./build/bin/nnc summary examples/iris/iris.nn
./build/bin/nnc train examples/iris/iris.nn --save out/iris.safetensors \
  --metrics-out out/iris-metrics.json
printf '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n' |
  ./build/bin/nnc predict examples/iris/iris.nn --checkpoint out/iris.safetensors
./build/bin/nnc train examples/textgen/moby_small.nn --save out/moby_small.safetensors
./build/bin/nnc generate examples/textgen/moby_small.nn --checkpoint out/moby_small.safetensors \
  --prompt "call me ishmael some years ago" --tokens 30
./build/bin/nnc generate examples/textgen/moby_small.nn --checkpoint out/moby_small.safetensors \
  --prompt "the whale" --tokens 30 --temperature 0.8 --top-k 20 --seed 1
