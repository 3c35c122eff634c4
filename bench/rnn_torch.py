#!/usr/bin/python3
"""The recurrent models of bench-rnn in PyTorch, for bench/run_rnn.sh.

Cases (the same networks as bench/rnn_bench.cpp):
  word     nn.Embedding(2728, 25) -> nn.LSTM(25, 150) (every step) ->
           nn.LSTM(150, 150) (last step) -> Linear(150, 150) + relu ->
           Linear(150, 2728); window 25, batch 128; samples/s.
  char128  nn.Embedding(65, 64) -> nn.LSTM(64, 128) -> nn.LSTM(128, 128) ->
           Linear(128, 65) at every step, cross-entropy over all 100 steps;
           window 100, batch 32; tokens/s (3200 per step).
  char512  the same with hidden 512.
Training: Adam (lr 0.001), CrossEntropyLoss, random ids in [0, V) as inputs
and targets (one batch reused), the plain loop (zero_grad, forward, loss,
backward, step) with no per-step .item(); one warm-up step, then blocks of
steps; the median block gives the time per step.
Generation: torch.no_grad(), batch 1, one token per call through the same
nn.LSTM modules with their (h, c) carried between calls, the next token the
argmax of the previous step's logits (greedy), softmax included as in nnc.

Threads come from the environment, set before torch is imported:
NNC_BENCH_THREADS -> torch.set_num_threads (default 1); OPENBLAS_NUM_THREADS
(default: the same). See /work/shared/BASELINES.md for why both matter.

Prints the blocks and one line per case:
  RESULT case=<c> train_step_ms=<median> train_min_ms=<min>
         train_cpu_ms=<median CPU> throughput=<units/s> unit=<samples|tokens>
         gen_us=<median us/token> gen_min_us=<min>
"""
import argparse
import os
import resource
import statistics
import sys
import time

THREADS = os.environ.get("NNC_BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

import torch  # noqa: E402
from torch import nn  # noqa: E402

CASES = {  # vocab, embedding, hidden, window, batch, per-token targets
    "word": (2728, 25, 150, 25, 128, False),
    "char128": (65, 64, 128, 100, 32, True),
    "char512": (65, 64, 512, 100, 32, True),
}


class Net(nn.Module):
    def __init__(self, V, E, H, per_token):
        super().__init__()
        self.per_token = per_token
        self.emb = nn.Embedding(V, E)
        self.l1 = nn.LSTM(E, H, batch_first=True)
        self.l2 = nn.LSTM(H, H, batch_first=True)
        if per_token:
            self.head = nn.Linear(H, V)
        else:
            self.head = nn.Sequential(nn.Linear(H, H), nn.ReLU(), nn.Linear(H, V))

    def forward(self, x):
        h1, _ = self.l1(self.emb(x))
        h2, _ = self.l2(h1)
        if self.per_token:
            return self.head(h2)              # [B, T, V]
        return self.head(h2[:, -1])           # [B, V]

    def step(self, tok, s1, s2):
        """One token (shape [1, 1]) with the states carried: (probs, s1, s2)."""
        h1, s1 = self.l1(self.emb(tok), s1)
        h2, s2 = self.l2(h1, s2)
        return torch.softmax(self.head(h2[:, -1]), -1), s1, s2


def run(case, steps, blocks, gen_tokens, gen_blocks):
    V, E, H, T, B, per_token = CASES[case]
    torch.manual_seed(42)
    net = Net(V, E, H, per_token)
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(42)
    x = torch.randint(0, V, (B, T), generator=g)
    y = torch.randint(0, V, (B, T) if per_token else (B,), generator=g)
    units = B * (T if per_token else 1)
    unit = "tokens" if per_token else "samples"

    def train_once():
        opt.zero_grad(set_to_none=True)
        out = net(x)
        loss = lossf(out.reshape(-1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    first = train_once().item()
    ms, cpu = [], []
    for b in range(blocks):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            loss = train_once()
        t = (time.perf_counter() - t0) * 1e3 / steps
        c = (time.process_time() - c0) * 1e3 / steps
        ms.append(t)
        cpu.append(c)
        print(f"  {case} train block {b + 1}: {t:.2f} ms/step wall, {c:.2f} ms CPU "
              f"({units / t * 1e3:.0f} {unit}/s), loss {loss.item():.4f}")
    if not loss.item() < first:
        raise SystemExit(f"rnn_torch: error: {case}: the training loss did not go down")

    us = []
    with torch.no_grad():
        def generate(n, start):
            tok = torch.tensor([[start]])
            s1 = s2 = None  # zero states
            for _ in range(n):
                p, s1, s2 = net.step(tok, s1, s2)
                tok = p.argmax(-1, keepdim=True)
        generate(20, 1)  # warm-up
        for b in range(gen_blocks):
            t0 = time.perf_counter()
            generate(gen_tokens, 1 + b)
            us.append((time.perf_counter() - t0) * 1e6 / gen_tokens)
            print(f"  {case} gen block {b + 1}: {us[-1]:.2f} us/token")
    med = statistics.median(ms)
    print(f"RESULT case={case} train_step_ms={med:.3f} train_min_ms={min(ms):.3f} "
          f"train_cpu_ms={statistics.median(cpu):.3f} throughput={units / med * 1e3:.1f} "
          f"unit={unit} gen_us={statistics.median(us):.2f} gen_min_us={min(us):.2f} "
          f"maxrss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="word,char128",
                    help="comma-separated: word, char128, char512")
    ap.add_argument("--train-steps", type=int, default=3)
    ap.add_argument("--train-blocks", type=int, default=5)
    ap.add_argument("--gen-tokens", type=int, default=200)
    ap.add_argument("--gen-blocks", type=int, default=7)
    ap.add_argument("--case-args", action="append", default=[],
                    help="CASE:STEPS:BLOCKS:GEN_TOKENS:GEN_BLOCKS for one case")
    a = ap.parse_args()
    torch.set_num_threads(int(THREADS))
    per_case = {}
    for s in a.case_args:
        c, *v = s.split(":")
        per_case[c] = [int(n) for n in v]
    print(f"PyTorch {torch.__version__}, torch threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}", flush=True)
    for case in a.cases.split(","):
        if case not in CASES:
            print(f"rnn_torch: error: unknown case '{case}'", file=sys.stderr)
            return 1
        args = per_case.get(case, [a.train_steps, a.train_blocks, a.gen_tokens, a.gen_blocks])
        run(case, *args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
