#!/usr/bin/python3
"""Weights between PyTorch and nnc: a state_dict of nn.Linear, nn.Embedding,
nn.LSTM, nn.GRU, nn.LayerNorm and nn.MultiheadAttention modules to an nnc
checkpoint for a named model, and an nnc checkpoint back to a state_dict.

  torch_weights.py to-nnc STATE_DICT.pt OUT.safetensors --model NAME \\
      --map TORCH_PREFIX=NNC_LAYER ... [--template CKPT.safetensors]
  torch_weights.py to-torch CKPT.safetensors OUT.pt --map TORCH_PREFIX=NNC_LAYER ...

Each --map pairs a module of the state_dict (its key prefix, e.g. `lstm`)
with a layer or cell of the .nn model (its instance name, e.g. `h`, as
`nnc summary` and the checkpoint name it: `h.Wf`). The kind of each pair is
the torch module's, read from its keys:

  nn.Linear             weight [out, in], bias    -> Dense: W = weight.T, b
  nn.Embedding          weight [V, E]             -> Embedding: table
  nn.LSTM (1 layer)     weight_ih_l0 [4H, in], weight_hh_l0 [4H, H], biases
                                                  -> LSTM: Wi Wf Wc Wo [H + in, H]
                                                     (recurrent rows on top), bi bf bc bo
  nn.GRU (1 layer)      weight_ih_l0 [3H, in], weight_hh_l0 [3H, H], biases
                                                  -> GRUResetAfter: Wr Wz Wn, Ur Uz Un,
                                                     br bz bn bun
  nn.LayerNorm          weight, bias              -> LayerNorm: gamma, beta
  nn.MultiheadAttention in_proj_weight [3C, C], in_proj_bias, out_proj.weight, out_proj.bias
                                                  -> CausalSelfAttention or SelfAttention:
                                                     Wq Wk Wv Wo [C, C], bq bk bv bo

(docs/language.md, "Loading PyTorch (and Keras) weights", says why.) An
LSTM's or GRU's two biases add up into nnc's one where nnc has one; back in
PyTorch the sum is bias_ih and bias_hh is zero, which computes the same.
With --template (any checkpoint of the model, e.g. nnc train --epochs 1
--save), every tensor is checked against the template's names and shapes,
none may be missing, and its metadata (vocabulary, class names, ...) is
kept, so that nnc generate and nnc predict can use the result.

The checkpoint is safetensors, read and written here without the
safetensors package; PyTorch (Debian's python3-torch) is needed only to
read or write the .pt file. tests/numeric/reference/convert_lm.py uses this
to make the fixtures of tests/numeric/ConvertTests.cpp.
"""
import argparse
import json
import struct
import sys

import numpy as np


def die(msg):
    sys.exit(f"torch_weights.py: error: {msg}")


# ---- safetensors (F32 only: nnc's checkpoints) ----

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        die(f"{path}: not a safetensors file")
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    base = 8 + n
    for name, t in header.items():
        if t["dtype"] != "F32":
            die(f"{path}: tensor {name} is {t['dtype']}, expected F32")
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[base + b:base + e], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---- one module each way: torch arrays (by suffix) <-> nnc arrays (by name) ----

def kind_of(keys):
    if "in_proj_weight" in keys:
        return "attention"
    if "weight_ih_l0" in keys:
        return "rnn"
    if keys == {"weight"}:
        return "embedding"
    if keys == {"weight", "bias"}:
        return "linear"  # or layer norm: told apart by the weight's rank
    die(f"cannot tell the module from its keys {sorted(keys)}")


LSTM_GATES = ["Wi", "Wf", "Wc", "Wo"]  # PyTorch's blocks i, f, g, o
GRU_GATES = ["r", "z", "n"]


def to_nnc(t):
    """nnc tensors (name -> array) of one torch module (suffix -> array)."""
    kind = kind_of(set(t))
    if kind == "embedding":
        return {"table": t["weight"]}
    if kind == "linear" and t["weight"].ndim == 1:
        return {"gamma": t["weight"], "beta": t["bias"]}
    if kind == "linear":
        return {"W": t["weight"].T, "b": t["bias"]}
    if kind == "attention":
        c = t["in_proj_weight"].shape[1]
        w, b = t["in_proj_weight"], t["in_proj_bias"]
        out = {}
        for k, n in enumerate("qkv"):
            out["W" + n] = w[k * c:(k + 1) * c].T
            out["b" + n] = b[k * c:(k + 1) * c]
        out["Wo"], out["bo"] = t["out_proj.weight"].T, t["out_proj.bias"]
        return out
    wih, whh = t["weight_ih_l0"], t["weight_hh_l0"]
    bih = t.get("bias_ih_l0", np.zeros(wih.shape[0], np.float32))
    bhh = t.get("bias_hh_l0", np.zeros(wih.shape[0], np.float32))
    h = whh.shape[1]
    if any(k.endswith("_l1") or k.endswith("_reverse") for k in t):
        die("only one-layer, one-direction LSTMs and GRUs map onto an nnc cell")
    if wih.shape[0] == 4 * h:  # LSTM
        out = {}
        for k, g in enumerate(LSTM_GATES):
            blk = slice(k * h, (k + 1) * h)
            out[g] = np.concatenate([whh[blk].T, wih[blk].T])
            out["b" + g[1]] = bih[blk] + bhh[blk]
        return out
    out = {}
    for k, g in enumerate(GRU_GATES):  # GRU: GRUResetAfter
        blk = slice(k * h, (k + 1) * h)
        out["W" + g], out["U" + g] = wih[blk].T, whh[blk].T
        out["b" + g] = bih[blk] + (0 if g == "n" else bhh[blk])
    out["bun"] = bhh[2 * h:3 * h]
    return out


def to_torch(n):
    """torch tensors (suffix -> array) of one nnc layer (name -> array)."""
    names = set(n)
    if names == {"table"}:
        return {"weight": n["table"]}
    if names == {"gamma", "beta"}:
        return {"weight": n["gamma"], "bias": n["beta"]}
    if names == {"W", "b"}:
        return {"weight": n["W"].T, "bias": n["b"]}
    if {"Wq", "Wk", "Wv", "Wo"} <= names:
        return {"in_proj_weight": np.concatenate([n["Wq"].T, n["Wk"].T, n["Wv"].T]),
                "in_proj_bias": np.concatenate([n["bq"], n["bk"], n["bv"]]),
                "out_proj.weight": n["Wo"].T, "out_proj.bias": n["bo"]}
    if set(LSTM_GATES) <= names:
        h = n["Wi"].shape[1]
        whh = np.concatenate([n[g][:h].T for g in LSTM_GATES])
        wih = np.concatenate([n[g][h:].T for g in LSTM_GATES])
        bih = np.concatenate([n["b" + g[1]] for g in LSTM_GATES])
        return {"weight_ih_l0": wih, "weight_hh_l0": whh, "bias_ih_l0": bih,
                "bias_hh_l0": np.zeros_like(bih)}
    if {"Wr", "Ur", "bun"} <= names:
        wih = np.concatenate([n["W" + g].T for g in GRU_GATES])
        whh = np.concatenate([n["U" + g].T for g in GRU_GATES])
        bih = np.concatenate([n["b" + g] for g in GRU_GATES])
        bhh = np.concatenate([np.zeros_like(n["br"]), np.zeros_like(n["bz"]), n["bun"]])
        return {"weight_ih_l0": wih, "weight_hh_l0": whh, "bias_ih_l0": bih, "bias_hh_l0": bhh}
    die(f"no PyTorch module has the parameters {sorted(names)} (an nnc layer of another kind?)")


def pairs(maps):
    out = []
    for m in maps:
        if "=" not in m:
            die(f"--map expects TORCH_PREFIX=NNC_LAYER, got '{m}'")
        out.append(tuple(m.split("=", 1)))
    return out


def group(tensors, prefix):
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}


def cmd_to_nnc(a):
    import torch
    sd = {k: v.detach().float().numpy() for k, v in torch.load(a.state_dict).items()}
    out, used = {}, set()
    for tp, nl in pairs(a.map):
        mod = group(sd, tp)
        if not mod:
            die(f"the state_dict has no keys under '{tp}.' (it has {sorted(sd)[:8]} ...)")
        used |= {tp + "." + k for k in mod}
        for name, arr in to_nnc(mod).items():
            out[f"{nl}.{name}"] = arr.astype(np.float32)
    left = sorted(set(sd) - used)
    if left:
        die(f"state_dict keys in no --map: {left}")
    meta = {}
    if a.template:
        tmpl, meta = read_safetensors(a.template)
        params = {k: v for k, v in tmpl.items() if not k.startswith("__")}
        for k, v in out.items():
            if k not in params:
                die(f"{k} is not a parameter of the template (its layers: "
                    f"{sorted({p.rsplit('.', 1)[0] for p in params})})")
            if tuple(params[k].shape) != v.shape:
                die(f"{k}: PyTorch gives {list(v.shape)}, the model has {list(params[k].shape)}")
        missing = sorted(set(params) - set(out))
        if missing:
            die(f"no PyTorch tensor for {missing}: add a --map for their layer")
        out = {k: out[k] for k in params}
        meta = {k: v for k, v in meta.items() if k not in ("nnc.step", "nnc.epochs", "nnc.fit_state")}
    meta["nnc.model"] = a.model
    write_safetensors(a.out, out, meta)
    print(f"wrote {a.out}: {len(out)} tensors of model {a.model}")


def cmd_to_torch(a):
    import torch
    ck, _ = read_safetensors(a.checkpoint)
    sd = {}
    for tp, nl in pairs(a.map):
        layer = group(ck, nl)
        if not layer:
            die(f"the checkpoint has no layer '{nl}'")
        for k, v in to_torch(layer).items():
            sd[f"{tp}.{k}"] = torch.from_numpy(np.array(v, dtype=np.float32))
    torch.save(sd, a.out)
    print(f"wrote {a.out}: {len(sd)} tensors")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("to-nnc")
    t.add_argument("state_dict")
    t.add_argument("out")
    t.add_argument("--model", required=True, help="the .nn model's name (nnc.model)")
    t.add_argument("--map", action="append", required=True)
    t.add_argument("--template", help="a checkpoint of the model: names, shapes, metadata")
    b = sub.add_parser("to-torch")
    b.add_argument("checkpoint")
    b.add_argument("out")
    b.add_argument("--map", action="append", required=True)
    a = p.parse_args()
    (cmd_to_nnc if a.cmd == "to-nnc" else cmd_to_torch)(a)


if __name__ == "__main__":
    main()
