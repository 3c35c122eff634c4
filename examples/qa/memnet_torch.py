#!/usr/bin/python3
"""The course's memory network (examples/qa/memnet.nn) in PyTorch, on the same
yes/no bAbI files, vocabulary, padding, dropout and optimizer: the independent
check that its test accuracy levels off at 0.80-0.85 (docs/qa.md), not because
of nnc.

    /usr/bin/python3 examples/qa/memnet_torch.py [--seed N] [--epochs N]
        [--keras-init | --nnc-init] [--eps-inside no|all|embeddings]
        [--task yesno|qa1]

Prints the test accuracy every 10 epochs. --keras-init gives the LSTM Keras's
initialisation (glorot-uniform kernel, orthogonal recurrent kernel, forget
bias 1) instead of PyTorch's; --nnc-init std.rnn's (each gate's [H + in, H]
matrix glorot-uniform, forget bias 1). --eps-inside puts RMSprop's epsilon
inside the square root, as Keras 3 does for every parameter (all) and
tf.keras 2.11-2.15 for embedding tables, whose gradients are sparse
(embeddings). --task qa1 trains Keras's babi_memnn network (dropout 0.3 after
the LSTM) on bAbI task 1 (10k) instead of the course's on the yes/no set.
One thread, about 6 s per epoch here (qa1: 5 s).
"""
import argparse
import json
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=0)
p.add_argument("--epochs", type=int, default=120)
p.add_argument("--keras-init", action="store_true")
p.add_argument("--nnc-init", action="store_true")
p.add_argument("--eps-inside", choices=["no", "all", "embeddings"], default="no")
p.add_argument("--task", choices=["yesno", "qa1"], default="yesno")
args = p.parse_args()
torch.set_num_threads(1)


def load(name):
    with open(os.path.join(here, "data", name)) as f:
        return [json.loads(line) for line in f if line.strip()]


def tokenize(s):
    """Keras babi_memnn's tokenize: words and runs of punctuation."""
    return [t.strip() for t in re.split(r"(\W+)", s) if t.strip()]


def load_babi(name):
    """Original bAbI: every question's story is its story's sentences so far."""
    data, story = [], []
    with open(os.path.join(here, "data", name)) as f:
        for line in f:
            nid, text = line.strip().split(" ", 1)
            if nid == "1":
                story = []
            if "\t" in text:
                q, a, _ = text.split("\t")
                data.append({"story": list(story), "question": tokenize(q), "answer": a})
            else:
                story += tokenize(text)
    return data


if args.task == "qa1":
    train = load_babi("qa1_single-supporting-fact_train.txt")
    test = load_babi("qa1_single-supporting-fact_test.txt")
else:
    train, test = load("train_qa.jsonl"), load("test_qa.jsonl")
# Keras's Tokenizer over every word of both sets, ids from 1 (0 pads).
vocab = set()
for d in train + test:
    vocab |= {w.lower() for w in d["story"] + d["question"]}
    vocab.add(d["answer"])
index = {w: i + 1 for i, w in enumerate(sorted(vocab))}
V = len(index) + 1
S = max(len(d["story"]) for d in train + test)
Q = max(len(d["question"]) for d in train + test)


def encode(data):
    """Pre-padded id tensors, as Keras's pad_sequences."""
    s = torch.zeros(len(data), S, dtype=torch.long)
    q = torch.zeros(len(data), Q, dtype=torch.long)
    a = torch.zeros(len(data), dtype=torch.long)
    for i, d in enumerate(data):
        x = [index[w.lower()] for w in d["story"]]
        s[i, S - len(x):] = torch.tensor(x)
        y = [index[w.lower()] for w in d["question"]]
        q[i, Q - len(y):] = torch.tensor(y)
        a[i] = index[d["answer"]]
    return s, q, a


class MemNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.m, self.c, self.u = nn.Embedding(V, 64), nn.Embedding(V, Q), nn.Embedding(V, 64)
        for e in (self.m, self.c, self.u):
            nn.init.uniform_(e.weight, -0.05, 0.05)  # Keras's Embedding default
        self.lstm = nn.LSTM(S + 64, 32, batch_first=True)
        self.out = nn.Linear(32, V)
        nn.init.xavier_uniform_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        if args.keras_init:
            for g in range(4):
                nn.init.xavier_uniform_(self.lstm.weight_ih_l0.data[g * 32:(g + 1) * 32])
                nn.init.orthogonal_(self.lstm.weight_hh_l0.data[g * 32:(g + 1) * 32])
            nn.init.zeros_(self.lstm.bias_ih_l0)
            nn.init.zeros_(self.lstm.bias_hh_l0)
            self.lstm.bias_ih_l0.data[32:64] = 1.0  # PyTorch's gate order: i, f, g, o
        if args.nnc_init:
            # std.rnn's LSTM: each gate's [H + in, H] matrix glorot-uniform.
            n_in = self.lstm.input_size
            lim = (6.0 / (32 + n_in + 32)) ** 0.5
            nn.init.uniform_(self.lstm.weight_ih_l0, -lim, lim)
            nn.init.uniform_(self.lstm.weight_hh_l0, -lim, lim)
            nn.init.zeros_(self.lstm.bias_ih_l0)
            nn.init.zeros_(self.lstm.bias_hh_l0)
            self.lstm.bias_ih_l0.data[32:64] = 1.0

    def forward(self, story, question):
        drop = lambda x, r: F.dropout(x, r, self.training)
        m = drop(self.m(story), 0.3)                   # [B, S, 64]
        c = drop(self.c(story), 0.3)                   # [B, S, Q]
        u = drop(self.u(question), 0.3)                # [B, Q, 64]
        match = torch.softmax(m @ u.transpose(1, 2), -1)  # [B, S, Q], Keras: over Q
        response = (match + c).permute(0, 2, 1)        # [B, Q, S]
        h, _ = self.lstm(torch.cat([response, u], -1))  # [B, Q, 32]
        return self.out(drop(h[:, -1], 0.3 if args.task == "qa1" else 0.5))           # [B, V]


torch.manual_seed(args.seed)
trs, trq, tra = encode(train)
tes, teq, tea = encode(test)
net = MemNet()
# Keras's RMSprop: rho 0.9, epsilon 1e-7 outside the square root.
opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)


class RMSpropInside:
    """Keras 3's RMSprop, g / sqrt(ms + eps), for the parameters in `inside`;
    Keras 2's g / (sqrt(ms) + eps) for the rest."""
    def __init__(self, params, inside):
        self.p = list(params)
        self.inside = [any(x is y for y in inside) for x in self.p]
        self.ms = [torch.zeros_like(x) for x in self.p]
    def zero_grad(self):
        for x in self.p:
            x.grad = None
    @torch.no_grad()
    def step(self):
        for x, ms, inside in zip(self.p, self.ms, self.inside):
            ms.mul_(0.9).add_(0.1 * x.grad * x.grad)
            den = torch.sqrt(ms + 1e-7) if inside else torch.sqrt(ms) + 1e-7
            x.sub_(1e-3 * x.grad / den)


if args.eps_inside == "all":
    opt = RMSpropInside(net.parameters(), list(net.parameters()))
elif args.eps_inside == "embeddings":
    opt = RMSpropInside(net.parameters(), [net.m.weight, net.c.weight, net.u.weight])
print(f"vocabulary {V}, story {S}, question {Q}, {len(tra)} training, {len(tea)} test")
for epoch in range(1, args.epochs + 1):
    net.train()
    perm = torch.randperm(len(tra))
    for i in range(0, len(perm), 32):
        b = perm[i:i + 32]
        opt.zero_grad()
        F.cross_entropy(net(trs[b], trq[b]), tra[b]).backward()
        opt.step()
    if epoch % 10 == 0:
        net.eval()
        with torch.no_grad():
            acc = (net(tes, teq).argmax(-1) == tea).float().mean().item()
        print(f"epoch {epoch}: test accuracy {acc:.3f}", flush=True)
