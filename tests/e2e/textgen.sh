#!/usr/bin/env bash
# Trains a small word LSTM on the start of Moby Dick, checks that it learns,
# that a resumed run continues exactly where the first one stopped, and that
# nnc generate writes text from a prompt (and refuses unknown words).
# usage: textgen.sh NNC MODEL.nn CORPUS WORKDIR
set -u
nnc=$1 model=$2 corpus=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
cp "$model" "$work/model.nn"
head -c 3000 "$corpus" > "$work/corpus.txt"
cd "$work"
fail() { echo "FAIL: $*"; failed=1; }
failed=0

"$nnc" train model.nn --save full.safetensors --metrics-out full.json > full.log 2>&1 ||
  fail "training exited non-zero: $(tail -3 full.log)"
acc=$(sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' full.json)
echo "training accuracy after 30 epochs: $acc"
# Chance is about 1/300 and the most frequent word is ~6% of the text: a
# model that reaches 50% has learned the sequences.
awk -v a="$acc" 'BEGIN { exit !(a >= 0.5) }' || fail "accuracy $acc < 0.5"

# 15 epochs, then --resume for the other 15: the same final loss, to the digit.
"$nnc" train model.nn --epochs 15 --save half.safetensors > half.log 2>&1 ||
  fail "first half exited non-zero"
"$nnc" train model.nn --resume half.safetensors --save resumed.safetensors \
  --metrics-out resumed.json > resumed.log 2>&1 || fail "resume exited non-zero: $(tail -3 resumed.log)"
grep -q "^Epoch 16/30" resumed.log || fail "the resumed run did not start at epoch 16"
l1=$(sed -n 's/.*"loss": \([0-9.e-]*\).*/\1/p' full.json)
l2=$(sed -n 's/.*"loss": \([0-9.e-]*\).*/\1/p' resumed.json)
echo "final loss: straight $l1, resumed $l2"
[ "$l1" = "$l2" ] || fail "resumed loss $l2 differs from the straight run's $l1"

out=$("$nnc" generate model.nn --checkpoint full.safetensors \
  --prompt "call me ishmael some years ago" --tokens 12 2>&1) || fail "generate exited non-zero: $out"
echo "generated: $out"
case "$out" in
  "call me ishmael some years ago "*) ;;
  *) fail "the text does not continue the prompt" ;;
esac
n=$(echo "$out" | wc -w)
[ "$n" -eq 18 ] || fail "expected 6 + 12 words, got $n"
same=$("$nnc" generate model.nn --checkpoint full.safetensors \
  --prompt "call me ishmael" --tokens 10 --temperature 0.9 --top-k 5 --seed 3 2>&1)
again=$("$nnc" generate model.nn --checkpoint full.safetensors \
  --prompt "call me ishmael" --tokens 10 --temperature 0.9 --top-k 5 --seed 3 2>&1)
[ "$same" = "$again" ] || fail "the same seed gave different samples"

err=$("$nnc" generate model.nn --checkpoint full.safetensors --prompt "call me zorglub" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "an unknown word was accepted"
case "$err" in
  *"'zorglub' is not in the vocabulary"*) ;;
  *) fail "unclear message for an unknown word: $err" ;;
esac

printf '' > empty.txt
err=$("$nnc" train model.nn --data empty.txt 2>&1) && fail "an empty corpus was accepted"
echo "empty corpus: $err"
printf 'too short' > short.txt
err=$("$nnc" train model.nn --data short.txt 2>&1) && fail "a corpus shorter than a window was accepted"
echo "short corpus: $err"
printf 'bad \xff byte\n' > bad.txt
err=$("$nnc" train model.nn --data bad.txt 2>&1) && fail "invalid UTF-8 was accepted"
case "$err" in *UTF-8*) ;; *) fail "unclear message for invalid UTF-8: $err" ;; esac
echo "invalid UTF-8: $err"
exit $failed
