#!/usr/bin/env python3
"""Checks the size limits of product code (docs/architecture.md): no source
file under dsl/, compiler/ or runtime/ longer than 800 lines, and no function
there longer than 150. Tests, benchmarks, fuzz targets and examples are not
product code; build folders (generated files) are skipped.

    python3 scripts/check_sizes.py [REPO_ROOT]

Functions are found with Universal Ctags (`ctags-universal`, Debian package
universal-ctags), which knows where a C or C++ function ends. Exits 0 when
every file and function is within the limits, 1 naming each offender
(file:line, name, length), and 2 when it cannot check (no ctags-universal):
a missing tool must never read as a pass.
"""
import os
import shutil
import subprocess
import sys

PRODUCT_DIRS = ("dsl", "compiler", "runtime")
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 150
# Source files: C, C++, TableGen, the op table (Ops.def), the .nn library.
SOURCE_EXTENSIONS = (".c", ".cc", ".cpp", ".cxx", ".h", ".hpp", ".inc", ".td", ".def", ".nn")
# Only C and C++ functions are measured.
CODE_EXTENSIONS = (".c", ".cc", ".cpp", ".cxx", ".h", ".hpp")


def skipped_dir(name):
    """Generated or hidden folders: build trees (build, build-asan, ...)."""
    return name.startswith(".") or name.startswith("build") or name in ("__pycache__", "CMakeFiles")


def product_files(root):
    files = []
    for top in PRODUCT_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not skipped_dir(d))
            for f in sorted(filenames):
                if f.endswith(SOURCE_EXTENSIONS):
                    files.append(os.path.relpath(os.path.join(dirpath, f), root))
    return files


def cannot_check(message):
    print("check_sizes.py: " + message, file=sys.stderr)
    sys.exit(2)


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def functions(root, files):
    """(file, first line, last line, name) of every C and C++ function."""
    ctags = shutil.which("ctags-universal")
    if not ctags:
        cannot_check("ctags-universal not found; install universal-ctags "
                     "(apt-get install universal-ctags, or scripts/setup.sh) to check function sizes")
    code = [f for f in files if f.endswith(CODE_EXTENSIONS)]
    result = subprocess.run(
        [ctags, "-x", "--_xformat=%n\t%e\t%K\t%F\t%N\t%s", "--fields=+ne", "--kinds-c++=f",
         "--kinds-c=f", "--sort=no", "-L", "-"],
        cwd=root, input="\n".join(code) + "\n", capture_output=True, text=True)
    if result.returncode != 0:
        cannot_check("ctags-universal failed:\n" + result.stderr)
    found = []
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 6 or parts[2] != "function" or not parts[0].isdigit() or not parts[1].isdigit():
            continue  # no end line: ctags could not tell where it ends
        first, last, _, path, name, scope = parts[:6]
        if name.startswith("__anon"):
            name = "a lambda in " + (scope or "?")
        elif scope and not scope.startswith("__anon"):
            name = scope + "::" + name
        found.append((path, int(first), int(last), name))
    return found


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = product_files(root)
    if not files:
        cannot_check("no product source files under %s (wrong root?)" % root)
    offenders = []
    for f in files:
        n = count_lines(os.path.join(root, f))
        if n > MAX_FILE_LINES:
            offenders.append("%s:1: file has %d lines (limit %d)" % (f, n, MAX_FILE_LINES))
    funcs = functions(root, files)
    for path, first, last, name in sorted(funcs):
        n = last - first + 1
        if n > MAX_FUNCTION_LINES:
            offenders.append("%s:%d: function %s has %d lines (limit %d)"
                             % (path, first, name, n, MAX_FUNCTION_LINES))
    if offenders:
        print("Product code over the size limits (docs/architecture.md: files under %d lines, "
              "functions under %d; split them into named steps):" % (MAX_FILE_LINES, MAX_FUNCTION_LINES))
        for o in offenders:
            print("  " + o)
        return 1
    longest_file = max(files, key=lambda f: count_lines(os.path.join(root, f)))
    path, first, last, name = max(funcs, key=lambda fn: fn[2] - fn[1])
    print("check_sizes.py: %d product files and %d functions within the limits (%d and %d lines); "
          "longest file %s (%d lines), longest function %s at %s:%d (%d lines)"
          % (len(files), len(funcs), MAX_FILE_LINES, MAX_FUNCTION_LINES, longest_file,
             count_lines(os.path.join(root, longest_file)), name, path, first, last - first + 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
