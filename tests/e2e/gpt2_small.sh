#!/usr/bin/env bash
# examples/gpt/gpt2_small.nn (12 blocks, width 768, 85M parameters) compiles
# and trains: three epochs of five steps at batch 2 on 3,000 characters of
# Moby Dick. Uniform guessing over its 51 characters is a loss of
# ln 51 = 3.93; the model must beat that on held-out text and its training
# loss must fall every epoch.
# usage: gpt2_small.sh NNC MODEL.nn CORPUS WORKDIR
set -u
nnc=$1 model=$2 corpus=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
sed 's#"../textgen/data/tinyshakespeare.txt"#"corpus.txt"#' "$model" > "$work/model.nn"
head -c 3000 "$corpus" > "$work/corpus.txt"
cd "$work"
fail() { echo "FAIL: $*"; failed=1; }
failed=0

NNC_CACHE=0 "$nnc" train model.nn --batch 2 --epochs 3 --sample-every 100 \
  --metrics-out m.json > train.log 2>&1 || fail "training exited non-zero: $(tail -3 train.log)"
cat train.log
grep -q "85352513 parameters" train.log || fail "expected 85,352,513 parameters"
# The 12 blocks are one repeat(12, ...): twelve copies named as a ModuleList's.
"$nnc" summary model.nn > summary.txt 2>&1 || fail "summary exited non-zero"
grep -q "^ blocks.0 (TransformerBlock)" summary.txt && grep -q "^ blocks.11 (TransformerBlock)" summary.txt ||
  fail "summary does not show blocks.0 ... blocks.11: $(cat summary.txt)"
losses=$(sed -n 's/^Epoch [0-9]*\/3 .* loss: \([0-9.]*\) .*/\1/p' train.log | tr '\n' ' ')
val=$(sed -n 's/.*"val_loss": \([0-9.e-]*\).*/\1/p' m.json)
echo "training losses: $losses; validation loss after 3 epochs: $val"
echo "$losses" | awk '{ exit !(NF == 3 && $2 < $1 && $3 < $2) }' ||
  fail "the training loss did not fall every epoch: $losses"
awk -v v="$val" 'BEGIN { exit !(v < 3.9) }' || fail "validation loss $val is no better than guessing"
exit $failed
