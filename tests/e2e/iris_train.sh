#!/usr/bin/env bash
# iris_train: nnc trains the Iris example with its train block (150 epochs,
# batch 8, Adam 0.01, test split 0.25, seed 42), saves a checkpoint and the
# metrics; the test accuracy must reach 0.93 and all 150 epochs must run.
#   iris_train.sh NNC MODEL.nn WORKDIR
set -euo pipefail
nnc=$1 model=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
# Run from the work dir: the data path in the .nn file is relative to the
# model file, not to the current directory.
cd "$work"
rc=0
"$nnc" train "$model" --save "$work/iris.safetensors" --metrics-out "$work/m.json" \
  > "$work/train.log" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then cat "$work/train.log"; echo "FAIL: nnc train exited $rc"; exit 1; fi
head -1 "$work/train.log"; tail -4 "$work/train.log"
test -s "$work/iris.safetensors" || { echo "FAIL: no checkpoint written"; exit 1; }
test -s "$work/m.json" || { echo "FAIL: no metrics written"; exit 1; }
cat "$work/m.json"; echo
/usr/bin/python3 - "$work/m.json" <<'PY'
import json, math, sys
m = json.load(open(sys.argv[1]))
errors = []
if m.get("model") != "Iris":
    errors.append(f"model is {m.get('model')!r}, expected 'Iris'")
if m.get("epochs") != 150:
    errors.append(f"epochs is {m.get('epochs')!r}, expected 150")
acc = m.get("test_accuracy")
if not isinstance(acc, (int, float)) or not acc >= 0.93:
    errors.append(f"test_accuracy is {acc!r}, expected >= 0.93")
loss = m.get("test_loss")
if not isinstance(loss, (int, float)) or not math.isfinite(loss) or loss <= 0:
    errors.append(f"test_loss is {loss!r}, expected a finite positive number")
if m.get("parameters") != 139:
    errors.append(f"parameters is {m.get('parameters')!r}, expected 139")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
# The log must agree: one line per epoch and the final test accuracy.
grep -q "^Epoch 150/150" "$work/train.log" || { echo "FAIL: no 'Epoch 150/150' line in the log"; exit 1; }
echo "PASS"
