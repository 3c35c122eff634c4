#!/usr/bin/env bash
# iris_predict: `nnc predict` reads rows from stdin (without and with a
# header naming the label column, which is skipped) and prints the right
# class for known rows of the data set, argmax first.
#   iris_predict.sh NNC MODEL.nn CKPT
set -uo pipefail
nnc=$1 model=$2 ckpt=$3
fails=0

check() { # what expected-classes-space-separated input
  local what=$1 want=$2 input=$3 out rc
  out=$(printf '%b' "$input" | "$nnc" predict "$model" --checkpoint "$ckpt" 2>&1); rc=$?
  echo "--- $what (exit $rc)"; echo "$out"
  if [[ $rc -ne 0 ]]; then echo "FAIL ($what): exit $rc"; fails=$((fails+1)); return; fi
  local got
  got=$(echo "$out" | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')
  if [[ $got != "$want" ]]; then
    echo "FAIL ($what): classes '$got', expected '$want'"; fails=$((fails+1))
  fi
  # Each line: "class  (setosa p, versicolor p, virginica p)".
  if echo "$out" | grep -Evq '^[a-z]+ +\(setosa [01]\.[0-9]{3}, versicolor [01]\.[0-9]{3}, virginica [01]\.[0-9]{3}\)$'; then
    echo "FAIL ($what): unexpected line format"; fails=$((fails+1))
  fi
}

rows='5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5\n5.9,3.0,4.2,1.5\n4.9,3.0,1.4,0.2\n6.7,3.1,4.4,1.4\n7.2,3.6,6.1,2.5\n'
check "no header" "setosa virginica versicolor setosa versicolor virginica" "$rows"
check "header with the label column" "versicolor setosa virginica" \
  'sepal_length,sepal_width,petal_length,petal_width,species\n5.7,2.8,4.5,1.3,versicolor\n5.0,3.6,1.4,0.2,setosa\n6.5,3.0,5.8,2.2,virginica\n'

# A row with the wrong number of features is an error, not a guess.
out=$(printf '5.1,3.5,1.4\n' | "$nnc" predict "$model" --checkpoint "$ckpt" 2>&1); rc=$?
echo "--- 3 features (exit $rc)"; echo "$out"
if [[ $rc -eq 0 ]]; then echo "FAIL: 3-feature row accepted"; fails=$((fails+1)); fi

if [[ $fails -ne 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo PASS
