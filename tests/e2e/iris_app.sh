#!/usr/bin/env bash
# iris_app: the app linked against the library nnc generated at build time
# classifies rows of the data set with the checkpoint iris_train wrote, and
# rejects bad input with exit status 1.
#   iris_app.sh IRIS_APP CKPT
set -uo pipefail
app=$1 ckpt=$2
fails=0

expect_class() { # expected-class measurements...
  local want=$1; shift
  local out rc
  out=$("$app" "$ckpt" "$@" 2>&1); rc=$?
  echo "iris-app $* -> $out (exit $rc)"
  if [[ $rc -ne 0 ]]; then echo "FAIL: exit $rc"; fails=$((fails+1)); return; fi
  if [[ ! $out =~ ^([a-z]+)\ (0\.[0-9]{3}|1\.000)$ ]]; then
    echo "FAIL: output is not 'CLASS PROBABILITY'"; fails=$((fails+1)); return
  fi
  if [[ ${BASH_REMATCH[1]} != "$want" ]]; then
    echo "FAIL: expected $want"; fails=$((fails+1)); return
  fi
  # A confident, sane probability for these clear-cut rows.
  if ! awk -v p="${BASH_REMATCH[2]}" 'BEGIN { exit !(p > 0.5 && p <= 1.0) }'; then
    echo "FAIL: probability ${BASH_REMATCH[2]} not in (0.5, 1]"; fails=$((fails+1))
  fi
}

expect_error() { # description args...
  local what=$1; shift
  local out rc
  out=$("$app" "$@" 2>&1); rc=$?
  echo "iris-app $* -> exit $rc: $(echo "$out" | tail -1)"
  if [[ $rc -ne 1 ]]; then echo "FAIL ($what): expected exit status 1"; fails=$((fails+1)); fi
  if [[ $out != *error* ]]; then echo "FAIL ($what): no error message"; fails=$((fails+1)); fi
}

expect_class setosa     5.1 3.5 1.4 0.2   # data row 1
expect_class setosa     4.6 3.4 1.4 0.3   # row 7
expect_class versicolor 5.9 3.0 4.2 1.5   # row 62
expect_class virginica  6.3 3.3 6.0 2.5   # row 101
expect_class virginica  7.7 3.8 6.7 2.2   # row 118

expect_error "no arguments"
expect_error "too few measurements" "$ckpt" 5.1 3.5 1.4
expect_error "too many measurements" "$ckpt" 5.1 3.5 1.4 0.2 9
expect_error "non-numeric" "$ckpt" 5.1 abc 1.4 0.2
expect_error "trailing junk" "$ckpt" 5.1 3.5x 1.4 0.2
expect_error "empty" "$ckpt" 5.1 "" 1.4 0.2
expect_error "missing checkpoint" "$ckpt.does-not-exist" 5.1 3.5 1.4 0.2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'not a safetensors file' > "$tmp/bad.safetensors"
expect_error "garbage checkpoint" "$tmp/bad.safetensors" 5.1 3.5 1.4 0.2
head -c 100 "$ckpt" > "$tmp/truncated.safetensors"
expect_error "truncated checkpoint" "$tmp/truncated.safetensors" 5.1 3.5 1.4 0.2

if [[ $fails -ne 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo PASS
