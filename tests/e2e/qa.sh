#!/usr/bin/env bash
# Trains a small QA model on the course's yes/no bAbI set (the stories of at
# most 4 sentences, so that it takes seconds), checks that it learns, then
# asks nnc chat the first test questions through a pipe, written as plain
# text: its answers must have the form "yes (0.97)" and be as accurate as
# the test accuracy says (so chat tokenizes and pads as training did).
# usage: qa.sh NNC MODEL.nn DATA_DIR WORKDIR
set -u
nnc=$1 model=$2 data=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
cp "$model" "$work/model.nn"
# One sentence ends with one "." token: at most 4 sentences is at most 28 tokens.
for f in train test; do
  awk -F'"[.]"' 'NF - 1 <= 4' "$data/${f}_qa.jsonl" > "$work/${f}_qa.jsonl"
done
cd "$work"
fail() { echo "FAIL: $*"; failed=1; }
failed=0

"$nnc" train model.nn --save qa.safetensors --metrics-out qa.json > train.log 2>&1 ||
  fail "training exited non-zero: $(tail -3 train.log)"
head -1 train.log
acc=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' qa.json)
echo "test accuracy after 60 epochs: $acc"
# Half the answers are yes: 0.5 is chance. Training sits near chance for the
# first 15-20 epochs, and when it leaves that plateau depends on rounding: in
# 60 epochs seeds 1-8 reach 0.76-0.91 (40 epochs left seed 1 at 0.69 once
# sums were vectorized). This seed reaches about 0.78.
awk -v a="$acc" 'BEGIN { exit !(a >= 0.7) }' || fail "test accuracy $acc < 0.7"

# The first 60 test examples as text: the story's tokens, the question's,
# an empty line (a new story); the expected answers in expected.txt.
head -60 test_qa.jsonl | sed 's/.*"story": \[\(.*\)\], "question": \[\(.*\)\], "answer": "\(.*\)"}.*/\1\n\2\n/' |
  tr -d '",' > chat.in
head -60 test_qa.jsonl | sed 's/.*"answer": "\(.*\)"}.*/\1/' > expected.txt
# Then one story with two questions (the second truncated at the front to
# the model's 6 tokens, as Keras's pad_sequences does).
printf 'John left the kitchen. Sandra dropped the football in the garden.\nIs Sandra in the garden?\nIs the football in the garden?\n' >> chat.in
"$nnc" chat model.nn --checkpoint qa.safetensors < chat.in > chat.out 2> chat.err ||
  fail "chat exited non-zero: $(head -3 chat.err)"
head -3 chat.out
tail -2 chat.out
n=$(wc -l < chat.out)
[ "$n" -eq 62 ] || fail "expected 62 answers, got $n: $(head -3 chat.err)"
bad=$(grep -cvE '^(yes|no) \((0\.[0-9]{2}|1\.00)\)$' chat.out)
[ "$bad" -eq 0 ] || fail "$bad answers are not of the form 'yes (0.97)'"
right=$(head -60 chat.out | cut -d' ' -f1 | paste -d' ' - expected.txt | awk '$1 == $2' | wc -l)
echo "chat answered $right of 60 test questions right"
[ "$right" -ge 42 ] || fail "chat got only $right of 60 right (training reached $acc)"
grep -q "the question has 7 tokens, the model reads the last 6" chat.err ||
  fail "no note about the long question: $(cat chat.err)"
exit $failed
