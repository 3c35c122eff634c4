#!/usr/bin/python3
"""The Iris fit of bench-iris in PyTorch, for the comparison in bench/run.sh.

Same model and training as examples/iris/iris.nn: 4 -> Dense(8, relu) ->
Dense(8, relu) -> Dense(3), softmax cross-entropy, Adam lr 0.01, 150 epochs
at batch 8 over 112 training rows (shuffled every epoch, last batch of 0
rows... 112 = 14 x 8), min-max scaled features; the split is a seeded
75/25 shuffle like nnc's (the rows differ, the work does not).

Run with the Debian interpreter (/usr/bin/python3, python3-torch), one
thread as in /work/shared/BASELINES.md: OPENBLAS_NUM_THREADS=1 in the
environment (set here before torch is imported) and torch.set_num_threads(1).
The timed loop is the plain one (index, forward, loss, backward, step) with
no per-step .item() syncs; --metrics adds Keras-like running loss/accuracy
(what nnrt_fit computes) for reference.

Prints each repetition, the median, and
  RESULT iris_fit_ms=<wall median> min_ms=<wall min> cpu_ms=<CPU median>
         step_us=<wall median/steps> test_accuracy=<acc>
(CPU time = time.process_time(): all threads of the process.)
"""
import argparse
import os
import statistics
import sys
import time

THREADS = os.environ.get("NNC_BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.join(HERE, "..", "examples", "iris", "data", "iris.csv")


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    label = header.index("species")
    classes = sorted({r[label] for r in rows})
    x = np.array([[float(v) for i, v in enumerate(r) if i != label] for r in rows],
                 dtype=np.float32)
    y = np.array([classes.index(r[label]) for r in rows], dtype=np.int64)
    return x, y


def fit(xtr, ytr, epochs, batch, lr, seed, metrics):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 3))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss()
    n = xtr.shape[0]
    g = torch.Generator().manual_seed(seed)
    steps = 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        if metrics:
            tot = torch.zeros(())
            correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = lossf(logits, yb)
            loss.backward()
            opt.step()
            steps += 1
            if metrics:
                with torch.no_grad():
                    tot += loss.detach() * xb.shape[0]
                    correct += (logits.argmax(1) == yb).sum()
        if metrics:
            _ = (tot / n).item(), correct.item() / n  # per-epoch log values
    return model, steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--data", default=DEFAULT_CSV)
    ap.add_argument("--metrics", action="store_true",
                    help="also keep Keras-like running loss and accuracy")
    a = ap.parse_args()
    torch.set_num_threads(int(THREADS))

    x, y = load(a.data)
    rng = np.random.default_rng(42)
    perm = rng.permutation(len(x))
    ntest = int(round(len(x) * 0.25))
    te, tr = perm[:ntest], perm[ntest:]
    lo, hi = x[tr].min(0), x[tr].max(0)
    scale = np.where(hi > lo, hi - lo, 1.0).astype(np.float32)
    xs = (x - lo) / scale
    xtr, ytr = torch.from_numpy(xs[tr]), torch.from_numpy(y[tr])
    xte, yte = torch.from_numpy(xs[te]), torch.from_numpy(y[te])
    assert xtr.shape[0] == 112, xtr.shape

    print(f"PyTorch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"metrics={'on' if a.metrics else 'off'}; {a.reps} reps + 1 warm-up")
    times, cpu, acc = [], [], float("nan")
    for r in range(-1, a.reps):
        c0, t0 = time.process_time(), time.perf_counter()
        model, steps = fit(xtr, ytr, 150, 8, 0.01, 42 + max(r, 0), a.metrics)
        t = (time.perf_counter() - t0) * 1e3
        c = (time.process_time() - c0) * 1e3
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        if r >= 0:
            times.append(t)
            cpu.append(c)
            print(f"  rep {r + 1}: {t:.1f} ms wall, {c:.1f} ms CPU "
                  f"(test accuracy {acc:.4f})")
    med, cmed = statistics.median(times), statistics.median(cpu)
    print(f"median {med:.1f} ms wall (min {min(times):.1f}, max {max(times):.1f}), "
          f"{cmed:.1f} ms CPU; {med * 1e3 / steps:.1f} us per train step ({steps} steps)")
    print(f"RESULT iris_fit_ms={med:.3f} min_ms={min(times):.3f} cpu_ms={cmed:.3f} "
          f"step_us={med * 1e3 / steps:.3f} test_accuracy={acc:.4f}")
    if not acc >= 0.85:
        print("iris_torch: error: the fit did not learn", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
