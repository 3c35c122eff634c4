#!/usr/bin/python3
"""Independent reference for nnc's Iris train_step (tests/numeric/IrisStepTests.cpp).

Run:  /usr/bin/python3 tests/numeric/reference/iris_step.py > tests/numeric/reference/iris_step.txt

The model is examples/iris/iris.nn written directly in PyTorch:
    4 -> Linear 8 + relu -> Linear 8 + relu -> Linear 3, cross-entropy on logits,
    Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-7).
Everything is computed in float64 (the reference is the exact value; nnc computes
in float32). Parameters are fixed formula values, not random; the batch is 8
rows of examples/iris/data/iris.csv, min-max scaled over the whole file.

Two cases:
  full: all 8 rows with weight 1 (the loss is the mean over 8 rows);
  pad:  the last 3 rows are padding with weight 0, i.e. the mean over rows 0..4.
The softmax output `probs` of all 8 rows at the initial parameters. For each
case: the loss, the gradient of every parameter, the parameters after
one and after two Adam steps (on the same batch), and the loss returned by the
second step (the loss at the parameters after the first step).

Output format, one record per line:
    NAME RANK D0 D1 ... : V0 V1 ...
values row-major, in nnc's layout (W is [in, out]; PyTorch's Linear weight is
[out, in] and is transposed on the way in and out).
"""
import csv
import math
import os
import sys

import torch

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "..", "..", "..", "examples", "iris", "data", "iris.csv")
ROWS = [0, 77, 149, 23, 60, 118, 105, 50]  # mixed classes, fixed
CLASSES = {"setosa": 0, "versicolor": 1, "virginica": 2}
LAYERS = [("h1", 4, 8), ("h2", 8, 8), ("logits", 8, 3)]
LR, BETAS, EPS = 0.01, (0.9, 0.999), 1e-7


def load_batch():
    with open(CSV) as f:
        rows = list(csv.DictReader(f))
    feats = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    cols = [[float(r[k]) for r in rows] for k in feats]
    lo = [min(c) for c in cols]
    hi = [max(c) for c in cols]
    x = [[(float(rows[i][k]) - lo[j]) / (hi[j] - lo[j]) for j, k in enumerate(feats)] for i in ROWS]
    y = [CLASSES[rows[i]["species"]] for i in ROWS]
    # Round the inputs to float32 so that nnc sees exactly the same numbers.
    x = torch.tensor(x, dtype=torch.float32).to(torch.float64)
    return x, torch.tensor(y, dtype=torch.int64)


def initial_params():
    """Formula values in nnc's layout ([in, out] weights), rounded to float32."""
    params = {}
    for k, (name, fin, fout) in enumerate(LAYERS):
        w = torch.empty(fin, fout)
        for i in range(fin):
            for j in range(fout):
                w[i, j] = 0.9 * math.sin(1.7 * (i * fout + j) + 0.9 * k + 0.3) / math.sqrt(fin)
        b = torch.tensor([0.1 * math.cos(2.3 * j + k) + 0.05 for j in range(fout)])
        params[name + ".W"] = w.to(torch.float32).to(torch.float64)
        params[name + ".b"] = b.to(torch.float32).to(torch.float64)
    return params


def build(params):
    mods = []
    for name, fin, fout in LAYERS:
        lin = torch.nn.Linear(fin, fout)
        with torch.no_grad():
            lin.weight.copy_(params[name + ".W"].t())
            lin.bias.copy_(params[name + ".b"])
        mods.append(lin)
    net = torch.nn.Sequential(mods[0], torch.nn.ReLU(), mods[1], torch.nn.ReLU(), mods[2])
    return net, mods


def nnc_view(mods):
    """name -> (weight in nnc layout, its .grad in nnc layout or None)."""
    out = {}
    for (name, _, _), lin in zip(LAYERS, mods):
        out[name + ".W"] = (lin.weight.detach().t().clone(),
                            None if lin.weight.grad is None else lin.weight.grad.t().clone())
        out[name + ".b"] = (lin.bias.detach().clone(),
                            None if lin.bias.grad is None else lin.bias.grad.clone())
    return out


def record(name, t):
    t = torch.as_tensor(t)
    dims = list(t.shape)
    vals = t.reshape(-1).tolist()
    print(name, len(dims), *dims, ":", " ".join(repr(float(v)) for v in vals))


def run_case(case, x, y, nreal):
    params = initial_params()
    net, mods = build(params)
    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    xs, ys = x[:nreal], y[:nreal]  # padding rows (weight 0) do not exist for PyTorch
    losses = []
    for step in (1, 2):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xs), ys)  # mean over the real rows
        loss.backward()
        losses.append(loss.item())
        if step == 1:
            record(f"{case}/loss", torch.tensor(loss.item()))
            if case == "full":  # predict's output at the initial parameters, all 8 rows
                record("probs", torch.softmax(net(x), dim=1).detach())
            for n, (_, g) in nnc_view(mods).items():
                record(f"{case}/grad/{n}", g)
            # How many hidden units are active (the data must exercise relu both ways).
            with torch.no_grad():
                z1 = mods[0](xs)
                h1 = torch.relu(z1)
                z2 = mods[1](h1)
                h2 = torch.relu(z2)
                # relu's kink: no pre-activation may be near 0, or float32 rounding
                # in nnc could flip a unit and the comparison would be meaningless.
                print(f"# {case}: active h1 {int((h1 > 0).sum())}/{h1.numel()}, "
                      f"h2 {int((h2 > 0).sum())}/{h2.numel()}, min |pre-activation| "
                      f"{min(z1.abs().min().item(), z2.abs().min().item()):.3g}", file=sys.stderr)
        opt.step()
        for n, (p, _) in nnc_view(mods).items():
            record(f"{case}/step{step}/{n}", p)
    record(f"{case}/loss2", torch.tensor(losses[1]))


def main():
    x, y = load_batch()
    print("# generated by tests/numeric/reference/iris_step.py; do not edit")
    print(f"# torch {torch.__version__}, float64; Adam lr={LR} betas={BETAS} eps={EPS}")
    record("x", x)
    record("y", y.to(torch.float64))
    record("full/weights", torch.ones(8))
    record("pad/weights", torch.tensor([1.0] * 5 + [0.0] * 3))
    for n, p in initial_params().items():
        record(f"params/{n}", p)
    run_case("full", x, y, 8)
    run_case("pad", x, y, 5)


if __name__ == "__main__":
    main()
