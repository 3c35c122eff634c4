#!/usr/bin/env bash
# Installs what nnc needs (scripts/setup.sh) and builds it in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# NNC_WERROR=ON (CI): warnings in our code are errors.
cmake -G Ninja -B build -S . -DCMAKE_BUILD_TYPE=Release -DNNC_WERROR=${NNC_WERROR:-OFF} > build.log 2>&1 || { cat build.log; exit 1; }
# Two jobs: the machines have two cores, and MLIR translation units are heavy.
ninja -C build -j2
