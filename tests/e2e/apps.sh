#!/usr/bin/env bash
# apps: the course's two other models as C apps linked with their generated
# libraries and nnrt (examples/textgen/app.c, examples/qa/app.c) give what
# nnc gives for the same checkpoint: textgen-app the text of nnc generate
# (greedy, and sampled with a temperature and a seed), qa-app the answers
# of nnc chat. Short trainings: the checks compare, they do not grade.
#   apps.sh NNC TEXTGEN_APP QA_APP SOURCE_DIR WORK_DIR
set -uo pipefail
nnc=$1 textgen=$2 qa=$3 src=$4 work=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
same() { # what file1 file2
  if cmp -s "$2" "$3"; then echo "$1: the same ($(wc -l < "$2") lines)"; else
    fail "$1 differs:"; diff "$2" "$3" | head -10; fi
}

moby=$src/examples/textgen/moby_small.nn
"$nnc" train "$moby" --epochs 2 --quiet --save moby.st > /dev/null || fail "training moby_small"
"$nnc" generate "$moby" --checkpoint moby.st --prompt "call me ishmael" --tokens 30 > gen.txt ||
  fail "nnc generate"
"$textgen" moby.st "call me ishmael" 30 > app.txt || fail "textgen-app"
same "greedy text" gen.txt app.txt
"$nnc" generate "$moby" --checkpoint moby.st --prompt "it was" --tokens 40 --temperature 0.8 \
  --seed 7 > gen2.txt || fail "nnc generate sampled"
"$textgen" moby.st "it was" 40 0.8 7 > app2.txt || fail "textgen-app sampled"
same "sampled text" gen2.txt app2.txt
cmp -s gen.txt gen2.txt && fail "greedy and sampled texts are the same: the check has no teeth"
head -c 120 app2.txt; echo
"$textgen" moby.st > /dev/null 2>&1 && fail "textgen-app without a prompt exits 0"
"$textgen" moby.st "call me" x > /dev/null 2>&1 && fail "textgen-app with TOKENS x exits 0"
"$textgen" moby.st "call me zzyzx" 3 > /dev/null 2> err.txt && fail "an unknown word exits 0"
grep -q zzyzx err.txt || fail "the unknown word is not named: $(cat err.txt)"

memnet=$src/examples/qa/memnet.nn
# 20 epochs (10 s): enough for answers that differ (test accuracy ~0.8).
"$nnc" train "$memnet" --epochs 20 --quiet --save memnet.st > /dev/null || fail "training memnet"
{
  printf 'Mary moved to the bathroom.\nJohn went to the hallway.\nIs Mary in the bathroom?\n'
  printf 'Is John in the kitchen?\n\nSandra journeyed to the garden. Is Sandra in the garden?\n'
  printf 'Daniel travelled to the office.\nIs Daniel in the office?\nIs Mary in the office?\n'
} > dialogue.txt
"$nnc" chat "$memnet" --checkpoint memnet.st < dialogue.txt > chat.txt || fail "nnc chat"
"$qa" memnet.st < dialogue.txt > qa.txt || fail "qa-app"
same "answers" chat.txt qa.txt
[[ $(wc -l < qa.txt) -eq 5 ]] || fail "expected 5 answers, got $(wc -l < qa.txt)"
grep -q '^yes' qa.txt && grep -q '^no' qa.txt || fail "the answers are all alike: $(cat qa.txt)"
grep -Eqv '^(yes|no) \(0\.[0-9]{2}|1\.00\)$' qa.txt && fail "an answer is not 'yes|no (p)': $(cat qa.txt)"
printf 'Mary moved to the moon.\nIs Mary on the moon?\n' | "$qa" memnet.st > /dev/null 2> err.txt &&
  fail "qa-app answers about an unknown word"
grep -q "'moon', 'on' are not in the vocabulary" err.txt || fail "qa-app's error: $(cat err.txt)"

if [[ $fails -ne 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo PASS
