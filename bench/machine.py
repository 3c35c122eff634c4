#!/usr/bin/python3
"""What a benchmark table must say about the machine, and a fair OpenBLAS.

Prints the CPU model, its widest vector ISA, and OpenBLAS's kernels: the core
the environment asks for (OPENBLAS_CORETYPE), the core OpenBLAS detects on its
own, and the fastest correct one among those the CPU can run, with its
sgemm 1024^3 GFLOP/s at 1 and 2 threads (the machine's practical peak).
Debian's OpenBLAS 0.3.21 may not know a newer CPU and fall back to old
kernels, and some machines set OPENBLAS_CORETYPE to an older core (see
/work/shared/BASELINES.md): PyTorch must run with the best core, or it looks
slower than it is.

The last line is for scripts:
  MACHINE cpu=<model with _ for spaces> isa=<avx512|avx2|sse> env_core=<...>
          detected_core=<...> core=<best> sgemm1=<GFLOP/s> sgemm2=<GFLOP/s>
Run a command with the best core: OPENBLAS_CORETYPE=<core>, OPENBLAS_L2_SIZE unset.
"""
import json
import os
import subprocess
import sys

LIB = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"

# One sgemm measurement in a fresh process (the core is chosen at load time).
PROBE = r"""
import ctypes, json, os, sys, time
import numpy as np
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
lib.openblas_set_num_threads(int(sys.argv[2]))
n = 1024
rng = np.random.default_rng(0)
a = rng.random((n, n), dtype=np.float32); b = rng.random((n, n), dtype=np.float32)
c = a @ b
ref = a.astype(np.float64) @ b.astype(np.float64)
err = float(np.abs(c - ref).max() / np.abs(ref).max())
ts = []
for _ in range(7):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
ts.sort()
print(json.dumps({"core": lib.openblas_get_corename().decode(), "gflops": 2 * n**3 / ts[3] / 1e9,
                  "err": err}))
"""


def probe(core, threads):
    env = dict(os.environ)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.pop("OPENBLAS_CORETYPE", None)
    if core:
        env["OPENBLAS_CORETYPE"] = core
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    try:
        out = subprocess.run([sys.executable, "-c", PROBE, LIB, str(threads)], env=env,
                             capture_output=True, text=True, timeout=120)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        return r if r["err"] < 1e-5 else None  # wrong results: not a candidate
    except Exception:
        return None  # crashed or absent


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def isa():
    flags = set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "sse"


def main():
    model, vec = cpu_model(), isa()
    env_core = os.environ.get("OPENBLAS_CORETYPE", "")
    detected = probe("", 1)
    candidates = {"avx512": ["SkylakeX", "Cooperlake"], "avx2": ["Haswell", "Zen"]}.get(vec, [])
    if vec == "avx512":
        candidates += ["Haswell", "Zen"]
    results = {}
    if detected:
        results[detected["core"]] = detected
    for core in candidates + ([env_core] if env_core else []):
        if core and core not in results:
            r = probe(core, 1)
            if r:
                results[core] = r
    if not results:
        print("OpenBLAS (numpy) is not usable here: install python3-numpy libopenblas0-pthread")
        print("MACHINE cpu=%s isa=%s env_core=%s detected_core=none core=none sgemm1=0 sgemm2=0"
              % (model.replace(" ", "_"), vec, env_core or "none"))
        return
    best = max(results, key=lambda c: results[c]["gflops"])
    two = probe(best, 2)
    print("CPU: %s, %d cores, vector ISA %s" % (model, os.cpu_count(), vec))
    for core, r in sorted(results.items(), key=lambda kv: -kv[1]["gflops"]):
        print("  OpenBLAS %-11s sgemm 1024^3, 1 thread: %6.1f GFLOP/s" % (core, r["gflops"]))
    print("OpenBLAS core: environment %s, detected %s, best %s"
          % (env_core or "(unset)", detected["core"] if detected else "(failed)", best))
    if env_core and env_core.lower() != best.lower():
        print("note: the environment's OPENBLAS_CORETYPE=%s is not the best core here; "
              "PyTorch runs with OPENBLAS_CORETYPE=%s" % (env_core, best))
    print("practical peak (sgemm 1024^3, %s): %.1f GFLOP/s at 1 thread, %.1f at 2"
          % (best, results[best]["gflops"], two["gflops"] if two else 0))
    print("MACHINE cpu=%s isa=%s env_core=%s detected_core=%s core=%s sgemm1=%.1f sgemm2=%.1f"
          % (model.replace(" ", "_"), vec, env_core or "none",
             detected["core"] if detected else "none", best, results[best]["gflops"],
             two["gflops"] if two else 0))


if __name__ == "__main__":
    main()
