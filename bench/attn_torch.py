#!/usr/bin/python3
"""The attention models of bench-attn in PyTorch, for bench/run_attn.sh.

Cases (the same networks as bench/attn_bench.cpp):
  gpt     examples/gpt/tiny.nn: a character-level GPT, vocab 65, 4 pre-LayerNorm
          blocks (causal multi-head self-attention with 4 heads, GELU MLP 4x),
          width 128, context 128, learned positions; Adam (lr 0.001), batch 32,
          cross-entropy at every position; tokens/s (4096 per step).
          Both forms of the attention projection run: three [C, C] ones for
          q, k and v (as nnc's TransformerBlock) and nanoGPT's single [C, 3C]
          one; the faster counts, per figure (train_form, gen_form).
          gpt2: the same at GPT-2 small's size (examples/gpt/gpt2_small.nn:
          12 blocks of 12 heads, width 768, context 256, batch 8, lr 0.0003).
          Generation: batch 1, one position per call with a key/value cache
          (the keys and values of earlier positions kept per layer), greedy.
  memnet  examples/qa/memnet.nn: the course's memory network on the bAbI
          yes/no shapes (story 156, question 6, vocab 38; embeddings 64/6/64,
          dot, softmax, permute, concat, LSTM(32), dropout 0.3/0.5, Dense);
          RMSprop (lr 0.001, rho 0.9, eps 1e-7 as Keras), batch 32; samples/s.
Training: random ids in [0, V) as inputs and targets (one batch reused), the
plain loop (zero_grad, forward, loss, backward, step) with no per-step
.item(); one warm-up step, then blocks of steps; the median block gives the
time per step.

Threads come from the environment, set before torch is imported:
NNC_BENCH_THREADS -> torch.set_num_threads (default 1); OPENBLAS_NUM_THREADS
(default: the same). See /work/shared/BASELINES.md for why both matter.

Prints the blocks and one line per case:
  RESULT case=<c> train_step_ms=<median> train_min_ms=<min>
         train_cpu_ms=<median CPU> throughput=<units/s> unit=<samples|tokens>
         [gen_us=<median us/token> gen_min_us=<min>]
"""
import argparse
import math
import os
import resource
import statistics
import time

THREADS = os.environ.get("NNC_BENCH_THREADS", "1")
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

V, T, C, H, L, B = 65, 128, 128, 4, 4, 32
LR = 0.001
# The GPT-2-sized case (examples/gpt/gpt2_small.nn): context, width, heads,
# blocks, batch and learning rate.
GPT2 = dict(T=256, C=768, H=12, L=12, B=8, LR=0.0003)


class Block(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.n1 = nn.LayerNorm(C)
        # nanoGPT's form: one [C, 3C] projection for q, k and v; else three.
        self.fused = fused
        if fused:
            self.qkv = nn.Linear(C, 3 * C)
        else:
            self.q, self.k, self.v = (nn.Linear(C, C) for _ in range(3))
        self.o = nn.Linear(C, C)
        self.n2 = nn.LayerNorm(C)
        self.fc = nn.Linear(C, 4 * C)
        self.proj = nn.Linear(4 * C, C)

    def heads(self, z):
        b, t, _ = z.shape
        return z.reshape(b, t, H, C // H).permute(0, 2, 1, 3)   # [B, H, T, D]

    def attend(self, q, k, v, mask):
        s = q @ k.transpose(-1, -2) / math.sqrt(C // H)
        if mask is not None:
            s = s.masked_fill(mask, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v                        # [B, H, T, D]
        b, _, t, _ = o.shape
        return self.o(o.permute(0, 2, 1, 3).reshape(b, t, C))

    def mlp(self, h):
        return self.proj(F.gelu(self.fc(self.n2(h)), approximate="tanh"))

    def project(self, n):
        if self.fused:
            return (self.heads(z) for z in self.qkv(n).split(C, dim=-1))
        return self.heads(self.q(n)), self.heads(self.k(n)), self.heads(self.v(n))

    def forward(self, x, mask):
        q, k, v = self.project(self.n1(x))
        h = x + self.attend(q, k, v, mask)
        return h + self.mlp(h)

    def step(self, x, cache):
        """x [1, 1, C]; cache: (keys, values) [1, H, t, D] of earlier positions or None."""
        q, k, v = self.project(self.n1(x))
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        h = x + self.attend(q, k, v, None)
        return h + self.mlp(h), (k, v)


class GPT(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.emb = nn.Embedding(V, C)
        self.pos = nn.Parameter(torch.randn(T, C) * 0.02)
        self.blocks = nn.ModuleList(Block(fused) for _ in range(L))
        self.norm = nn.LayerNorm(C)
        self.head = nn.Linear(C, V)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, x):
        h = self.emb(x) + self.pos[: x.shape[1]]
        for b in self.blocks:
            h = b(h, self.mask)
        return self.head(self.norm(h))

    def step(self, tok, pos, caches):
        h = self.emb(tok) + self.pos[pos: pos + 1]
        new = []
        for b, c in zip(self.blocks, caches):
            h, c = b.step(h, c)
            new.append(c)
        return torch.softmax(self.head(self.norm(h))[:, -1], -1), new


class MemNet(nn.Module):
    S, Q, VQ = 156, 6, 38

    def __init__(self):
        super().__init__()
        self.m = nn.Embedding(self.VQ, 64)
        self.c = nn.Embedding(self.VQ, self.Q)
        self.u = nn.Embedding(self.VQ, 64)
        self.lstm = nn.LSTM(self.S + 64, 32, batch_first=True)
        self.out = nn.Linear(32, self.VQ)

    def forward(self, story, question):
        m = F.dropout(self.m(story), 0.3, self.training)        # [B, S, 64]
        c = F.dropout(self.c(story), 0.3, self.training)        # [B, S, Q]
        u = F.dropout(self.u(question), 0.3, self.training)     # [B, Q, 64]
        match = torch.softmax(m @ u.transpose(1, 2), dim=-1)    # [B, S, Q]
        resp = (match + c).permute(0, 2, 1)                     # [B, Q, S]
        h, _ = self.lstm(torch.cat([resp, u], dim=-1))
        return self.out(F.dropout(h[:, -1], 0.5, self.training))


def train_blocks(case, step, steps, blocks, units, unit):
    first = step().item()
    ms, cpu = [], []
    for b in range(blocks):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            loss = step()
        t = (time.perf_counter() - t0) * 1e3 / steps
        c = (time.process_time() - c0) * 1e3 / steps
        ms.append(t)
        cpu.append(c)
        print(f"  {case} train block {b + 1}: {t:.2f} ms/step wall, {c:.2f} ms CPU "
              f"({units / t * 1e3:.0f} {unit}/s), loss {loss.item():.4f}", flush=True)
    if not loss.item() < first:
        raise SystemExit(f"attn_torch: error: {case}: the training loss did not go down")
    med = statistics.median(ms)
    return (f"RESULT case={case} train_step_ms={med:.3f} train_min_ms={min(ms):.3f} "
            f"train_cpu_ms={statistics.median(cpu):.3f} throughput={units / med * 1e3:.1f} unit={unit} "
            f"maxrss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def run_gpt(steps, blocks, gen_tokens, gen_blocks, case="gpt"):
    """Both forms of the q/k/v projection; the faster one counts (per figure)."""
    if case == "gpt2":
        globals().update(GPT2)
    best = {}
    for form in ("separate", "fused"):
        line = run_gpt_form(form == "fused", steps, blocks, gen_tokens, gen_blocks, case)
        fields = dict(kv.split("=") for kv in line.split()[1:])
        print(f"  {case} ({form} q/k/v): {line}", flush=True)
        for key, better in (("throughput", max), ("gen_us", min)):
            v = float(fields[key])
            if key not in best or better(v, best[key][0]) == v:
                best[key] = (v, form, fields)
    fields = dict(best["throughput"][2])
    fields["gen_us"] = best["gen_us"][2]["gen_us"]
    fields["gen_min_us"] = best["gen_us"][2]["gen_min_us"]
    fields["train_form"], fields["gen_form"] = best["throughput"][1], best["gen_us"][1]
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def run_gpt_form(fused, steps, blocks, gen_tokens, gen_blocks, case):
    torch.manual_seed(42)
    net = GPT(fused)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    g = torch.Generator().manual_seed(42)
    x = torch.randint(0, V, (B, T), generator=g)
    y = torch.randint(0, V, (B, T), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    line = train_blocks(case, step, steps, blocks, B * T, "tokens")
    net.eval()
    us = []
    with torch.no_grad():
        def generate(n, start):
            tok = torch.tensor([[start]])
            caches = [None] * L
            for pos in range(n):
                p, caches = net.step(tok, pos, caches)
                tok = p.argmax(-1, keepdim=True)
        generate(20, 1)  # warm-up
        for b in range(gen_blocks):
            t0 = time.perf_counter()
            generate(gen_tokens, 1 + b)
            us.append((time.perf_counter() - t0) * 1e6 / gen_tokens)
            print(f"  {case} gen block {b + 1}: {us[-1]:.2f} us/token", flush=True)
    return f"{line} gen_us={statistics.median(us):.2f} gen_min_us={min(us):.2f}"


def run_memnet(steps, blocks):
    torch.manual_seed(42)
    net = MemNet()
    opt = torch.optim.RMSprop(net.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    g = torch.Generator().manual_seed(42)
    story = torch.randint(0, MemNet.VQ, (B, MemNet.S), generator=g)
    question = torch.randint(0, MemNet.VQ, (B, MemNet.Q), generator=g)
    answer = torch.randint(0, MemNet.VQ, (B,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(story, question), answer)
        loss.backward()
        opt.step()
        return loss

    print(train_blocks("memnet", step, steps, blocks, B, "samples"), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="gpt,memnet", help="comma-separated: gpt, gpt2, memnet")
    ap.add_argument("--case-args", action="append", default=[],
                    help="CASE:STEPS:BLOCKS[:GEN_TOKENS:GEN_BLOCKS] for one case")
    a = ap.parse_args()
    torch.set_num_threads(int(THREADS))
    per_case = {"gpt": [2, 5, 128, 5], "gpt2": [1, 3, 32, 3], "memnet": [20, 5]}
    for s in a.case_args:
        c, *v = s.split(":")
        per_case[c] = [int(n) for n in v]
    print(f"PyTorch {torch.__version__}, torch threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}", flush=True)
    for case in a.cases.split(","):
        if case in ("gpt", "gpt2"):
            run_gpt(*per_case[case], case=case)
        elif case == "memnet":
            run_memnet(*per_case["memnet"][:2])
        else:
            raise SystemExit(f"attn_torch: error: unknown case '{case}'")


if __name__ == "__main__":
    main()
