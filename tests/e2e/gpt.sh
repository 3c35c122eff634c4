#!/usr/bin/env bash
# Trains a small character-level GPT on the start of Moby Dick, checks that
# it learns, that `nnc generate` through the step (one position per token,
# keys and values kept in a cache) writes exactly the tokens that running the
# whole window again for every token (--recompute) writes, for the same seed,
# and that a prompt longer than the context still generates.
# usage: gpt.sh NNC MODEL.nn CORPUS WORKDIR
set -u
nnc=$1 model=$2 corpus=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
cp "$model" "$work/model.nn"
head -c 12000 "$corpus" > "$work/corpus.txt"
cd "$work"
fail() { echo "FAIL: $*"; failed=1; }
failed=0

"$nnc" train model.nn --save gpt.safetensors --metrics-out gpt.json > train.log 2>&1 ||
  fail "training exited non-zero: $(tail -3 train.log)"
cat train.log
loss=$(sed -n 's/.*"loss": \([0-9.e-]*\).*/\1/p' gpt.json)
acc=$(sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' gpt.json)
echo "after 5 epochs: loss $loss, accuracy $acc"
# Uniform guessing over the ~60 characters is a loss of ln 60 = 4.1 and
# accuracy 0.02; always the space is ~0.17.
awk -v l="$loss" -v a="$acc" 'BEGIN { exit !(l < 2.9 && a > 0.22) }' ||
  fail "loss $loss / accuracy $acc: the model did not learn"

# 5 + 11 = 16 positions: all within the context, so the cache never refills
# and the two ways compute the same distributions.
for args in "" "--temperature 0.8 --top-k 10 --seed 11"; do
  a=$("$nnc" generate model.nn --checkpoint gpt.safetensors --prompt "Call " --tokens 11 $args 2>&1) ||
    fail "generate ($args) exited non-zero: $a"
  b=$("$nnc" generate model.nn --checkpoint gpt.safetensors --prompt "Call " --tokens 11 $args \
      --recompute 2>&1) || fail "generate --recompute ($args) exited non-zero: $b"
  echo "step      ($args): $a"
  echo "recompute ($args): $b"
  [ "$a" = "$b" ] || fail "the KV-cache step and recomputation differ ($args)"
  [ ${#a} -eq 16 ] || fail "expected 5 + 11 characters, got ${#a}: '$a'"
done

# Past the context the cache starts again from the last half of it.
long=$("$nnc" generate model.nn --checkpoint gpt.safetensors \
  --prompt "Call me Ishmael. Some years ago" --tokens 40 2>&1) || fail "a long prompt failed: $long"
echo "long: $long"
[ ${#long} -eq 71 ] || fail "expected 31 + 40 characters, got ${#long}"
exit $failed
