#!/usr/bin/env bash
# install: `cmake --install` into a fresh prefix gives a working nnc, and
# apps outside the tree build against it. The Iris app, two ways, each
# classifying as `nnc predict` does with the same checkpoint:
#  - CMake: find_package(nnc CONFIG), nnc_add_model, nnc::nnrt
#    (tests/e2e/install/CMakeLists.txt builds examples/iris/app.cpp, and
#    the text-generation and QA apps, which must write what the installed
#    nnc generate and nnc chat write);
#  - a plain compiler line with pkg-config --cflags --libs nnc and the
#    library `nnc compile` writes (linked with the shared libnnrt, so with
#    a run path to this prefix's lib/, which /usr needs not).
# The prefix is then moved: the installed nnc still finds its std library
# and headers beside itself.
#   install.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -uo pipefail
build=$1 src=$2 work=$3
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
rm -rf "$work" && mkdir -p "$work"
export NNC_CACHE_DIR=$work/cache

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "FAIL: cmake --install"; exit 1; }
for f in bin/nnc lib/libnnrt.a lib/libnnrt.so include/nnrt/nnrt.h include/nnrt/nnrt_abi.h \
         share/nnc/std/layers.nn lib/cmake/nnc/nncConfig.cmake lib/pkgconfig/nnc.pc; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done

# The installed nnc, run from elsewhere, with the installed std library.
cd "$work"
cp "$src/examples/iris/iris.nn" "$work/"
mkdir -p "$work/data" && cp "$src/examples/iris/data/iris.csv" "$work/data/"
"$prefix/bin/nnc" train iris.nn --epochs 60 --quiet --save iris.safetensors ||
  fail "installed nnc train"

rows=("5.1 3.5 1.4 0.2" "5.9 3.0 4.2 1.5" "6.3 3.3 6.0 2.5")
expected=()
for r in "${rows[@]}"; do
  expected+=("$(echo "${r// /,}" | "$prefix/bin/nnc" predict iris.nn --checkpoint iris.safetensors |
                awk '{print $1}')")
done
echo "nnc predict: ${expected[*]}"

check_app() { # name app
  local i out
  for i in "${!rows[@]}"; do
    # shellcheck disable=SC2086
    out=$("$2" iris.safetensors ${rows[$i]} 2>&1) || { fail "$1: ${rows[$i]}: $out"; continue; }
    echo "$1 ${rows[$i]} -> $out"
    [[ ${out%% *} == "${expected[$i]}" ]] || fail "$1 says $out, nnc predict ${expected[$i]}"
  done
}

# 1. CMake, find_package.
cmake -G Ninja -S "$src/tests/e2e/install" -B "$work/app-build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLES="$src/examples" > "$work/app-cmake.log" 2>&1 &&
  cmake --build "$work/app-build" > "$work/app-build.log" 2>&1 ||
  { cat "$work/app-cmake.log" "$work/app-build.log"; fail "find_package build"; }
grep -q "$prefix/bin/nnc" "$work/app-build/build.ninja" || fail "the app did not use the installed nnc"
check_app find_package "$work/app-build/iris-app"
moby=$src/examples/textgen/moby_small.nn memnet=$src/examples/qa/memnet.nn
"$prefix/bin/nnc" train "$moby" --epochs 1 --quiet --save moby.st > /dev/null || fail "train moby"
"$prefix/bin/nnc" generate "$moby" --checkpoint moby.st --prompt "call me" --tokens 12 > gen.txt
"$work/app-build/textgen-app" moby.st "call me" 12 > app.txt || fail "installed textgen-app"
cmp -s gen.txt app.txt || fail "textgen-app wrote '$(cat app.txt)', nnc generate '$(cat gen.txt)'"
echo "textgen-app: $(cat app.txt)"
"$prefix/bin/nnc" generate "$moby" --checkpoint moby.st --prompt "it was" --tokens 12 \
  --temperature 0.9 --seed 4 > gen2.txt
"$work/app-build/textgen-app" moby.st "it was" 12 0.9 4 > app2.txt || fail "sampling textgen-app"
cmp -s gen2.txt app2.txt || fail "sampled: textgen-app '$(cat app2.txt)', nnc '$(cat gen2.txt)'"
echo "textgen-app, sampled: $(cat app2.txt)"
"$prefix/bin/nnc" train "$memnet" --epochs 2 --quiet --save memnet.st > /dev/null || fail "train memnet"
printf 'Mary moved to the bathroom.\nIs Mary in the bathroom?\n' > q.txt
"$prefix/bin/nnc" chat "$memnet" --checkpoint memnet.st < q.txt > chat.txt
"$work/app-build/qa-app" memnet.st < q.txt > qa.txt || fail "installed qa-app"
cmp -s chat.txt qa.txt || fail "qa-app answered '$(cat qa.txt)', nnc chat '$(cat chat.txt)'"
echo "qa-app: $(cat qa.txt)"

# 2. pkg-config and a plain compiler line.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
"$prefix/bin/nnc" compile iris.nn -o "$work/out" || fail "installed nnc compile"
# shellcheck disable=SC2046
c++ -std=c++17 -O1 -I"$work/out" $(pkg-config --cflags nnc) "$src/examples/iris/app.cpp" \
  "$work/out/libiris.a" $(pkg-config --libs nnc) -Wl,-rpath,"$prefix/lib" -o "$work/iris-app-pc" ||
  fail "pkg-config build"
check_app pkg-config "$work/iris-app-pc"

# 3. The prefix moves: nnc finds share/nnc/std and include/ beside itself.
mv "$prefix" "$work/moved"
"$work/moved/bin/nnc" compile iris.nn -o "$work/out2" > /dev/null || fail "moved nnc compile"
cmp "$work/out/iris.h" "$work/out2/iris.h" || fail "moved nnc wrote another header"

if [[ $fails -ne 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo PASS
