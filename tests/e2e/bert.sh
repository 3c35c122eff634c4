#!/usr/bin/env bash
# The BERT-style flow of examples/bert on a tiny budget: a small encoder is
# pretrained with masked tokens on short yes/no stories (its loss must go
# down), then a classifier of the same encoder starts from those weights
# (nnc train --init: every encoder parameter is loaded, the head is fresh)
# and trains for a few epochs.
# usage: bert.sh NNC EXAMPLES_BERT_DIR DATA_DIR WORKDIR
set -u
nnc=$1 src=$2 data=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; failed=1; }
failed=0
# Stories of at most 2 sentences (at most 14 tokens), the first 600 questions.
for f in train test; do
  awk -F'"[.]"' 'NF - 1 <= 2' "$data/${f}_qa.jsonl" | head -600 > "$work/${f}_qa.jsonl"
done
cp "$src/encoder.nn" "$work/"
# The example's models, made small: width 16, 2 heads, story 14.
sed -e 's/story S = 156/story S = 14/' -e 's/Encoder(V)/Encoder(V, 16, 2)/' \
    -e 's|"../qa/data/|"|g' -e 's/epochs    3/epochs    4/' "$src/pretrain.nn" > "$work/pretrain.nn"
sed -e 's/story S = 156/story S = 14/' -e 's/Encoder(V)/Encoder(V, 16, 2)/' \
    -e 's|"../qa/data/|"|g' -e 's/epochs    3/epochs    3/' "$src/classify.nn" > "$work/classify.nn"
cd "$work"
"$nnc" train pretrain.nn --save pre.safetensors --metrics-out pre.json > pre.log 2>&1 ||
  fail "pretraining exited non-zero: $(tail -3 pre.log)"
grep Epoch pre.log
first=$(sed -n 's/^Epoch 1\/.* loss: \([0-9.]*\).*/\1/p' pre.log)
last=$(sed -n 's/.*"loss": \([0-9.]*\).*/\1/p' pre.json)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.2) }' ||
  fail "the masked-token loss did not go down: $first -> $last"
"$nnc" train classify.nn --init pre.safetensors --save qa.safetensors --metrics-out qa.json > qa.log 2>&1 ||
  fail "fine-tuning exited non-zero: $(tail -3 qa.log)"
grep -E '^(init|Epoch|test)' qa.log | cut -c1-160
grep -q "init: 2 parameters start fresh: logits.W, logits.b" qa.log || fail "the head should start fresh"
grep -q "parameters loaded: enc.P, enc.tok.table" qa.log || fail "the encoder was not loaded"
acc=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' qa.json)
awk -v a="$acc" 'BEGIN { exit !(a > 0.3) }' || fail "test accuracy $acc is not a number of a classifier"
exit $failed
