#!/usr/bin/python3
"""Independent references for std.attention (tests/numeric/AttentionReferenceTests.cpp).

Run:  /usr/bin/python3 tests/numeric/reference/attention.py > tests/numeric/reference/attention.txt

Every case is one layer applied to x[T = 5, C = 8] per example, 2 heads of width 4,
a batch of B = 4 rows with row weights (1, 0.5, 0, 2) (row 2 is padding), and
the loss nnc's `mse(y, t)` computes: the weighted mean over rows of each row's
mean of (y - t)^2 over its T * C values.

  causal_attention  CausalSelfAttention(2)  vs torch.nn.MultiheadAttention with a
                                            causal attn_mask
  masked_attention  SelfAttention(2)(x, keep) vs torch.nn.MultiheadAttention with a
                                            key_padding_mask: row b's first b
                                            positions are padding (keep = 0)
  transformer_block TransformerBlock(2)     vs a pre-LayerNorm block made of
                                            torch.nn.LayerNorm, MultiheadAttention,
                                            Linear and GELU(approximate='tanh')

The torch modules give the reference values (forward and autograd, float64).
Their weights map onto ours as docs/language.md says ("Loading PyTorch
weights"): in_proj_weight = [Wq.T; Wk.T; Wv.T], in_proj_bias = [bq; bk; bv],
out_proj = (Wo.T, bo); a Linear is (W.T, b); a LayerNorm is (gamma, beta).
The same function written as our equations with our weights is computed too
and must agree to 1e-12, which checks that mapping from the torch side.

Parameter values come from a fixed formula, rounded to multiples of 2^-12 so
that they are exact in float32; so are the inputs and targets.

Records, one per line (values row-major, nnc's layout):
    NAME RANK D0 D1 ... : V0 V1 ...
  CASE/x [B, T, C], CASE/t [B, T, C], CASE/w [B], CASE/keep [B, T] (masked only)
  CASE/params/P   every parameter of the layer under its nnc name (attn.Wq, ...)
  CASE/y          the layer's output [B, T, C]
  CASE/loss       []
  CASE/grad/P     d loss / d P
  CASE/dx         d loss / d x [B, T, C]
"""
import math

import torch

torch.set_default_dtype(torch.float64)

B, T, C, H = 4, 5, 8, 2
D = C // H
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


def mse(y, t):
    w = torch.tensor(WEIGHTS)
    per_row = ((y - t) ** 2).reshape(B, -1).mean(dim=1)
    return (w * per_row).sum() / w.sum()


def keep_mask():
    """Row b keeps positions b..T-1: pre-padding, as Keras pads."""
    return torch.tensor([[1.0 if j >= b else 0.0 for j in range(T)] for b in range(B)])


# ---- our equations (std.attention), with our weights ------------------------

def heads(z):
    """[B, T, C] -> [B, H, T, D]: reshape(z, -1, H, D) then permute(_, 1, 0, 2)."""
    return z.reshape(B, T, H, D).permute(0, 2, 1, 3)


def our_attention(x, p, pre, causal, keep=None):
    qh = heads(x @ p[pre + "Wq"] + p[pre + "bq"])
    kh = heads(x @ p[pre + "Wk"] + p[pre + "bk"])
    vh = heads(x @ p[pre + "Wv"] + p[pre + "bv"])
    s = (qh @ kh.transpose(-1, -2)) / math.sqrt(D)           # [B, H, T, T]
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), -1e30)
    if keep is not None:
        s = s.masked_fill((keep == 0)[:, None, None, :], -1e30)
    o = torch.softmax(s, dim=-1) @ vh                         # [B, H, T, D]
    o = o.permute(0, 2, 1, 3).reshape(B, T, C)
    return o @ p[pre + "Wo"] + p[pre + "bo"]


def our_layer_norm(x, p, pre):
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * p[pre + "gamma"] + p[pre + "beta"]


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def our_block(x, p):
    h = x + our_attention(our_layer_norm(x, p, "n1."), p, "attn.", causal=True)
    f = gelu_tanh(our_layer_norm(h, p, "n2.") @ p["fc.W"] + p["fc.b"])
    return h + f @ p["proj.W"] + p["proj.b"]


# ---- the torch modules and the docs' mapping --------------------------------

def map_mha(m, pre):
    w, b = m["in_proj_weight"], m["in_proj_bias"]
    p = {}
    for k, g in enumerate("qkv"):
        p[pre + "W" + g] = w[k * C:(k + 1) * C].T
        p[pre + "b" + g] = b[k * C:(k + 1) * C]
    p[pre + "Wo"] = m["out_proj.weight"].T
    p[pre + "bo"] = m["out_proj.bias"]
    return p


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1 = torch.nn.LayerNorm(C)
        self.attn = torch.nn.MultiheadAttention(C, H, batch_first=True)
        self.n2 = torch.nn.LayerNorm(C)
        self.fc = torch.nn.Linear(C, 4 * C)
        self.proj = torch.nn.Linear(4 * C, C)

    def forward(self, x):
        n = self.n1(x)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        a, _ = self.attn(n, n, n, attn_mask=causal, need_weights=False)
        h = x + a
        return h + self.proj(torch.nn.functional.gelu(self.fc(self.n2(h)), approximate="tanh"))


def map_block(m):
    p = {}
    for ln in ("n1", "n2"):
        p[ln + ".gamma"] = m[ln + ".weight"]
        p[ln + ".beta"] = m[ln + ".bias"]
    p.update(map_mha({k[len("attn."):]: v for k, v in m.items() if k.startswith("attn.")},
                     "attn."))
    for lin in ("fc", "proj"):
        p[lin + ".W"] = m[lin + ".weight"].T
        p[lin + ".b"] = m[lin + ".bias"]
    return p


def set_params(module, seed):
    for k, (name, prm) in enumerate(module.named_parameters()):
        with torch.no_grad():
            prm.copy_(formula(list(prm.shape), seed + k, 0.5))
    # LayerNorm scales near 1, as they are in a real model.
    for name, prm in module.named_parameters():
        if name.endswith("weight") and prm.dim() == 1:
            with torch.no_grad():
                prm.add_(1.0)


def run_case(forward, module, mapping, ours, seed, keep=None):
    set_params(module, seed)
    x = formula([B, T, C], 100 + seed, 1.5).requires_grad_(True)
    t = formula([B, T, C], 200 + seed, 1.0)
    y = forward(module, x)
    loss = mse(y, t)
    loss.backward()
    tp = dict(module.named_parameters())
    mapped = {n: v.detach().clone().requires_grad_(True) for n, v in mapping(tp).items()}
    grads = {n: v.detach() for n, v in mapping({n: prm.grad for n, prm in tp.items()}).items()}
    x2 = x.detach().clone().requires_grad_(True)
    y2 = ours(x2, mapped)
    l2 = mse(y2, t)
    l2.backward()
    assert torch.allclose(y2, y, rtol=0, atol=1e-12), "forward: docs mapping vs torch"
    assert abs(l2.item() - loss.item()) < 1e-12
    for n, v in mapped.items():
        assert torch.allclose(v.grad, grads[n], rtol=0, atol=1e-12), "gradient of " + n
    assert torch.allclose(x2.grad, x.grad, rtol=0, atol=1e-12)
    params = {n: v.detach() for n, v in mapping(tp).items()}
    return x.detach(), t, params, y.detach(), loss.item(), grads, x.grad, keep


def write(name, v):
    v = torch.as_tensor(v, dtype=torch.float64)
    shape = list(v.shape)
    vals = " ".join("%.17g" % a for a in v.reshape(-1).tolist())
    print("%s %d%s : %s" % (name, len(shape), "".join(" %d" % d for d in shape), vals))


def emit(case, res):
    x, t, params, y, loss, grads, dx, keep = res
    write(case + "/x", x)
    write(case + "/t", t)
    write(case + "/w", WEIGHTS)
    if keep is not None:
        write(case + "/keep", keep)
    for n in sorted(params):
        write(case + "/params/" + n, params[n])
    write(case + "/y", y)
    write(case + "/loss", loss)
    for n in sorted(grads):
        write(case + "/grad/" + n, grads[n])
    write(case + "/dx", dx)


def main():
    torch.manual_seed(0)  # the modules' own init is overwritten anyway
    print("# generated by tests/numeric/reference/attention.py (torch %s); B %d T %d C %d heads %d"
          % (torch.__version__, B, T, C, H))
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)

    def mha_causal(m, x):
        return m(x, x, x, attn_mask=causal, need_weights=False)[0]

    emit("causal_attention",
         run_case(mha_causal, torch.nn.MultiheadAttention(C, H, batch_first=True),
                  lambda m: map_mha(m, "attn."),
                  lambda x, p: our_attention(x, p, "attn.", causal=True), 1))

    keep = keep_mask()

    def mha_masked(m, x):
        return m(x, x, x, key_padding_mask=(keep == 0), need_weights=False)[0]

    emit("masked_attention",
         run_case(mha_masked, torch.nn.MultiheadAttention(C, H, batch_first=True),
                  lambda m: map_mha(m, "attn."),
                  lambda x, p: our_attention(x, p, "attn.", causal=False, keep=keep), 11, keep))

    emit("transformer_block",
         run_case(lambda m, x: m(x), Block(), map_block, our_block, 21))


if __name__ == "__main__":
    main()
