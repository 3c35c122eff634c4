#!/usr/bin/env bash
# Makes docs/training-curves.svg and its headless-Chromium screenshot
# docs/training-curves.png: the Iris classifier with a validation split
# (100 epochs), drawn by nnc plot. Needs Debian's chromium
# (apt-get install chromium).
#   scripts/curves_screenshot.sh [NNC]
set -euo pipefail
cd "$(dirname "$0")/.."
nnc=${1:-build/bin/nnc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s#data/iris.csv#$PWD/examples/iris/data/iris.csv#" \
    -e 's/^  seed .*/&\n  validation_split 0.2/' examples/iris/iris.nn > "$tmp/iris_val.nn"
"$nnc" train "$tmp/iris_val.nn" --epochs 100 --quiet --metrics-out "$tmp/metrics.json"
"$nnc" plot "$tmp/metrics.json" -o docs/training-curves.svg
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=880,320 \
  --screenshot="$PWD/docs/training-curves.png" "file://$PWD/docs/training-curves.svg" 2> /dev/null
echo "wrote docs/training-curves.svg and docs/training-curves.png"
