#!/usr/bin/env bash
# Shows that nnc's .deb installs on a clean Debian 12 machine with
#   apt-get install ./nnc_*.deb
# and that the installed nnc trains and predicts, and builds an app
# against the installed package (find_package(nnc) and pkg-config).
#
#   scripts/deb_clean_install.sh [DEB]
#
# DEB defaults to the one `cpack -G DEB` writes in build/ (made here when
# missing). The clean machine is a minimal Debian 12 (bookworm) made by
# debootstrap in a temporary folder and entered with chroot: nothing of
# this machine's packages is in it. Needs root and the Debian mirror
# (deb.debian.org); takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
deb=${1:-}
if [[ -z $deb ]]; then
  cmake --build build > /dev/null
  (cd build && cpack -G DEB > /dev/null)
  deb=$(ls build/nnc_*_amd64.deb | head -1)
fi
deb=$(realpath "$deb")
command -v debootstrap > /dev/null || apt-get install -y -q debootstrap > /dev/null

root=$(mktemp -d /tmp/nnc-clean-XXXXXX)
cleanup() {
  for m in proc dev/pts dev sys; do umount -l "$root/$m" 2> /dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT
echo "clean machine: debootstrap bookworm (minbase) in $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian > "$root.log" 2>&1 ||
  { tail -20 "$root.log"; exit 1; }
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t sysfs sys "$root/sys"
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

mkdir -p "$root/work/data"
cp "$deb" "$root/work/"
cp "$src/examples/iris/iris.nn" "$src/examples/iris/app.cpp" "$root/work/"
cp "$src/examples/iris/data/iris.csv" "$root/work/data/"
cp "$src/tests/e2e/install/CMakeLists.txt" "$root/work/"
cp -r "$src/examples" "$root/work/examples"

echo "--- apt-get install ./$(basename "$deb")"
in_root apt-get update -q > /dev/null
in_root sh -c "cd /work && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$(basename "$deb")" |
  tail -3
in_root dpkg -s nnc | grep -E '^(Status|Version):'

echo "--- the installed nnc trains and predicts"
in_root sh -c 'cd /work && nnc train iris.nn --epochs 60 --quiet --save iris.safetensors &&
               echo 6.3,3.3,6.0,2.5 | nnc predict iris.nn --checkpoint iris.safetensors'

echo "--- an app built against the installed package (cmake find_package, pkg-config)"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                 g++ cmake ninja-build pkg-config > /dev/null'
in_root sh -c 'cd /work && cmake -G Ninja -S . -B app -DEXAMPLES=/work/examples > /dev/null &&
               cmake --build app > /dev/null && ./app/iris-app iris.safetensors 6.3 3.3 6.0 2.5'
in_root sh -c 'cd /work && nnc compile iris.nn -o out && c++ -std=c++17 -Iout app.cpp out/libiris.a \
                 $(pkg-config --cflags --libs nnc) -o iris-app-pc &&
               ./iris-app-pc iris.safetensors 6.3 3.3 6.0 2.5'
echo "deb_clean_install: $(basename "$deb") installs on a clean Debian 12 and works"
