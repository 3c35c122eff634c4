#!/usr/bin/python3
"""Independent references for std.rnn's cells (tests/numeric/RecurrentReferenceTests.cpp).

Run:  /usr/bin/python3 tests/numeric/reference/rnn_cells.py > tests/numeric/reference/rnn_cells.txt

Every case is one cell of `units` H = 4 run with `.sequence` over x[T = 6, in = 3]
per example, a batch of B = 4 rows with row weights (1, 0.5, 0, 2) (row 2 is
padding), and the loss nnc's `mse(h, t)` computes: the weighted mean over rows
of each row's mean of (h - t)^2 over its T * H values.

  lstm             LSTM           vs torch.nn.LSTM, its weights mapped onto ours as
                                  docs/language.md says ("Loading PyTorch weights")
  gru_reset_after  GRUResetAfter  vs torch.nn.GRU, mapped likewise
  simple_rnn       SimpleRNN      vs torch.nn.RNN (tanh), mapped likewise
  gru              GRU            the course's GRU, its equations written here
  peephole_lstm    PeepholeLSTM   the peephole LSTM, its equations written here

For the three torch cases the reference values are torch's (its module's forward
and autograd); the same function written as our equations (with our weights) is
computed too and must agree to 1e-12, which checks the mapping of the docs from
the torch side. The hand-written cases use torch only for autograd, in float64.

Parameter values come from a fixed formula, rounded to multiples of 2^-12 so
that they are exact in float32 and the sums of two PyTorch biases (our b) are
exact too; so are the inputs and targets. Everything else is float64.

Records, one per line (values row-major, nnc's layout):
    NAME RANK D0 D1 ... : V0 V1 ...
  CASE/x [B, T, in], CASE/t [B, T, H], CASE/w [B]
  CASE/params/P   every parameter of the cell under its nnc name (h.Wf, ...)
  CASE/h          the cell's output sequence [B, T, H]
  CASE/loss       []
  CASE/grad/P     d loss / d P
  CASE/dx         d loss / d x [B, T, in]
"""
import math
import sys

import torch

torch.set_default_dtype(torch.float64)

B, T, IN, H = 4, 6, 3, 4
WEIGHTS = [1.0, 0.5, 0.0, 2.0]


def q(v):
    """Round to a multiple of 2^-12 (exact in float32)."""
    return round(v * 4096.0) / 4096.0


def formula(shape, seed, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    vals = [q(scale * math.sin(0.731 * k + 1.37 * seed + 0.3) * math.cos(0.213 * k - 0.5 * seed))
            for k in range(n)]
    return torch.tensor(vals).reshape(shape)


def inputs(seed):
    x = formula([B, T, IN], 100 + seed, 1.5)
    t = formula([B, T, H], 200 + seed, 1.0)
    return x, t


def mse(h, t):
    w = torch.tensor(WEIGHTS)
    per_row = ((h - t) ** 2).reshape(B, -1).mean(dim=1)
    return (w * per_row).sum() / w.sum()


def scan(step, x, states):
    """Runs `step(x_t, *states) -> states` over time; the output is states[0]."""
    hs = []
    for k in range(T):
        states = step(x[:, k, :], *states)
        hs.append(states[0])
    return torch.stack(hs, dim=1)


sig, tanh = torch.sigmoid, torch.tanh


# ---- our equations (std.rnn), with our weights -----------------------------

def our_lstm(x, p):
    def step(xt, h, c):
        z = torch.cat([h, xt], dim=1)
        f = sig(z @ p["Wf"] + p["bf"])
        i = sig(z @ p["Wi"] + p["bi"])
        g = tanh(z @ p["Wc"] + p["bc"])
        c = f * c + i * g
        o = sig(z @ p["Wo"] + p["bo"])
        return tanh(c) * o, c
    return scan(step, x, (torch.zeros(B, H), torch.zeros(B, H)))


def our_peephole_lstm(x, p):
    def step(xt, h, c):
        z = torch.cat([h, xt], dim=1)
        f = sig(z @ p["Wf"] + p["pf"] * c + p["bf"])
        i = sig(z @ p["Wi"] + p["pi"] * c + p["bi"])
        g = tanh(z @ p["Wc"] + p["bc"])
        c = f * c + i * g
        o = sig(z @ p["Wo"] + p["po"] * c + p["bo"])
        return o * tanh(c), c
    return scan(step, x, (torch.zeros(B, H), torch.zeros(B, H)))


def our_gru(x, p):
    def step(xt, h):
        hx = torch.cat([h, xt], dim=1)
        z = sig(hx @ p["Wz"] + p["bz"])
        r = sig(hx @ p["Wr"] + p["br"])
        hc = tanh(torch.cat([r * h, xt], dim=1) @ p["Wh"] + p["bh"])
        return ((1 - z) * h + z * hc,)
    return scan(step, x, (torch.zeros(B, H),))


def our_gru_reset_after(x, p):
    def step(xt, h):
        r = sig(xt @ p["Wr"] + h @ p["Ur"] + p["br"])
        z = sig(xt @ p["Wz"] + h @ p["Uz"] + p["bz"])
        n = tanh(xt @ p["Wn"] + p["bn"] + r * (h @ p["Un"] + p["bun"]))
        return ((1 - z) * n + z * h,)
    return scan(step, x, (torch.zeros(B, H),))


def our_simple_rnn(x, p):
    def step(xt, h):
        return (tanh(torch.cat([h, xt], dim=1) @ p["W"] + p["b"]),)
    return scan(step, x, (torch.zeros(B, H),))


# ---- the docs' mapping of PyTorch's weights --------------------------------

def blk(w, k):
    return w[k * H:(k + 1) * H]


def map_lstm(m):
    """docs/language.md: gate blocks i, f, g, o; W = [hh.T; ih.T], b = b_ih + b_hh."""
    p = {}
    for k, (wn, bn) in enumerate([("Wi", "bi"), ("Wf", "bf"), ("Wc", "bc"), ("Wo", "bo")]):
        p[wn] = torch.cat([blk(m["weight_hh_l0"], k).T, blk(m["weight_ih_l0"], k).T], dim=0)
        p[bn] = blk(m["bias_ih_l0"], k) + blk(m["bias_hh_l0"], k)
    return p


def map_gru(m):
    """docs/language.md: blocks r, z, n; W = ih.T, U = hh.T; bn, bun apart."""
    p = {}
    for k, g in enumerate("rzn"):
        p["W" + g] = blk(m["weight_ih_l0"], k).T
        p["U" + g] = blk(m["weight_hh_l0"], k).T
    p["br"] = blk(m["bias_ih_l0"], 0) + blk(m["bias_hh_l0"], 0)
    p["bz"] = blk(m["bias_ih_l0"], 1) + blk(m["bias_hh_l0"], 1)
    p["bn"] = blk(m["bias_ih_l0"], 2)
    p["bun"] = blk(m["bias_hh_l0"], 2)
    return p


def map_rnn(m):
    """docs/language.md: W = [hh.T; ih.T], b = b_ih + b_hh."""
    return {"W": torch.cat([m["weight_hh_l0"].T, m["weight_ih_l0"].T], dim=0),
            "b": m["bias_ih_l0"] + m["bias_hh_l0"]}


def torch_case(module, mapping, ours, seed):
    """torch's module gives the reference; our equations with the docs' mapping must agree."""
    for k, (name, prm) in enumerate(module.named_parameters()):
        with torch.no_grad():
            prm.copy_(formula(list(prm.shape), seed + k))
    x, t = inputs(seed)
    x.requires_grad_(True)
    out, _ = module(x)
    loss = mse(out, t)
    loss.backward()
    tp = {n: prm for n, prm in module.named_parameters()}
    mapped = {n: v.detach().clone().requires_grad_(True) for n, v in mapping(tp).items()}
    # The gradient of each of our parameters, from torch's gradients, by the
    # same mapping (a sum of two torch biases has the gradient of either).
    grads = {n: v.detach() for n, v in mapping({n: prm.grad for n, prm in tp.items()}).items()}
    for n in grads:
        if n.startswith("b") and n not in ("bn", "bun"):
            grads[n] = grads[n] / 2  # mapping added the two equal bias gradients
    # Cross-check with our equations.
    x2 = x.detach().clone().requires_grad_(True)
    h2 = ours(x2, mapped)
    l2 = mse(h2, t)
    l2.backward()
    assert torch.allclose(h2, out, rtol=0, atol=1e-12), "forward: docs mapping vs torch"
    assert abs(l2.item() - loss.item()) < 1e-12
    for n, v in mapped.items():
        assert torch.allclose(v.grad, grads[n], rtol=0, atol=1e-12), "gradient of " + n
    assert torch.allclose(x2.grad, x.grad, rtol=0, atol=1e-12)
    # Each pair of summed biases really has equal gradients.
    gi, gh = tp["bias_ih_l0"].grad, tp["bias_hh_l0"].grad
    summed = range(0, 4) if isinstance(module, torch.nn.LSTM) else (
        range(0, 2) if isinstance(module, torch.nn.GRU) else range(0, 1))
    for k in summed:
        assert torch.allclose(blk(gi, k), blk(gh, k), rtol=0, atol=1e-15)
    params = {n: v.detach() for n, v in mapping(tp).items()}
    return x.detach(), t, params, out.detach(), loss.item(), grads, x.grad


def own_case(names_shapes, ours, seed):
    p = {n: formula(s, seed + k).requires_grad_(True) for k, (n, s) in enumerate(names_shapes)}
    x, t = inputs(seed)
    x.requires_grad_(True)
    h = ours(x, p)
    loss = mse(h, t)
    loss.backward()
    return (x.detach(), t, {n: v.detach() for n, v in p.items()}, h.detach(), loss.item(),
            {n: v.grad for n, v in p.items()}, x.grad)


def write(name, v):
    v = torch.as_tensor(v, dtype=torch.float64)
    shape = list(v.shape)
    vals = " ".join("%.17g" % a for a in v.reshape(-1).tolist())
    print("%s %d%s : %s" % (name, len(shape), "".join(" %d" % d for d in shape), vals))


def emit(case, res):
    x, t, params, h, loss, grads, dx = res
    write(case + "/x", x)
    write(case + "/t", t)
    write(case + "/w", WEIGHTS)
    for n in sorted(params):
        write(case + "/params/h." + n, params[n])
    write(case + "/h", h)
    write(case + "/loss", loss)
    for n in sorted(grads):
        write(case + "/grad/h." + n, grads[n])
    write(case + "/dx", dx)


def main():
    torch.manual_seed(0)  # the modules' own init is overwritten anyway
    print("# generated by tests/numeric/reference/rnn_cells.py (torch %s); B %d T %d in %d H %d"
          % (torch.__version__, B, T, IN, H))
    emit("lstm", torch_case(torch.nn.LSTM(IN, H, batch_first=True), map_lstm, our_lstm, 1))
    emit("gru_reset_after",
         torch_case(torch.nn.GRU(IN, H, batch_first=True), map_gru, our_gru_reset_after, 11))
    emit("simple_rnn",
         torch_case(torch.nn.RNN(IN, H, nonlinearity="tanh", batch_first=True), map_rnn,
                    our_simple_rnn, 21))
    hx = [H + IN, H]
    emit("gru", own_case([("Wz", hx), ("bz", [H]), ("Wr", hx), ("br", [H]), ("Wh", hx),
                          ("bh", [H])], our_gru, 31))
    emit("peephole_lstm",
         own_case([("Wf", hx), ("pf", [H]), ("bf", [H]), ("Wi", hx), ("pi", [H]), ("bi", [H]),
                   ("Wc", hx), ("bc", [H]), ("Wo", hx), ("po", [H]), ("bo", [H])],
                  our_peephole_lstm, 41))


if __name__ == "__main__":
    main()
