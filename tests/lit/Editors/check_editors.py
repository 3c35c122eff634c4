"""Checks editors/ against the language: the VS Code grammar is valid JSON
whose patterns compile, and it and the Vim syntax name every keyword, train
setting, optimizer, schedule and elementwise function that nnc knows.
The lists come from nnc itself (its messages and help) and from
dsl/include/nnc/dsl/Ops.def, so a new one that the editors lack fails here.
Usage: check_editors.py NNC SOURCE_DIR WORKDIR"""
import json
import os
import re
import subprocess
import sys

nnc, src, work = sys.argv[1:4]
editors = os.path.join(src, "editors")


def run(*args):
    p = subprocess.run([nnc, *args], capture_output=True, text=True)
    return p.stdout + p.stderr


def words_after(text, marker):
    m = re.search(re.escape(marker) + r'(.*?)(?: \(did you mean|"|$)', text, re.M)
    if not m:
        sys.exit(f"no '{marker}' in: {text}")
    return re.findall(r"[a-z_]+", m.group(1).replace(" or ", ", "))


# Train settings, from the message for an unknown one.
model = os.path.join(work, "m.nn")
with open(model, "w") as f:
    f.write("model M {\n  input x: float[1]\n  loss mse(x, x)\n}\ntrain M {\n  bogus 1\n}\n")
settings = words_after(run("summary", model), "expected one of ")
optimizers = re.search(r"--optimizer ([a-z|]+)", run("train", "--help")).group(1).split("|")
schedules = words_after(run("completion"), '--schedule) COMPREPLY=($(compgen -W "')
with open(os.path.join(src, "dsl/include/nnc/dsl/Ops.def")) as f:
    unary = re.findall(r'^NN_UNARY_OP\(\w+, "(\w+)"', f.read(), re.M)
keywords = ["import", "model", "layer", "cell", "train", "input", "target", "param", "output",
            "loss", "state", "call", "step", "float", "int"]
want = {"keyword": keywords, "train setting": settings, "optimizer": optimizers,
        "schedule": schedules, "function": unary + ["softmax", "log_softmax"]}
assert len(settings) >= 15 and len(optimizers) >= 5 and len(schedules) >= 5 and unary, want

with open(os.path.join(editors, "vscode/syntaxes/nn.tmLanguage.json")) as f:
    grammar = json.load(f)
for path in ("vscode/package.json", "vscode/language-configuration.json"):
    with open(os.path.join(editors, path)) as f:
        json.load(f)
patterns = [r["match"] for r in grammar["repository"].values() if "match" in r]
for p in patterns:
    re.compile(p)
tm_words = set(re.findall(r"[a-z_]+", " ".join(patterns)))
with open(os.path.join(editors, "vim/syntax/nn.vim")) as f:
    vim_words = set(re.findall(r"[a-z_]+", f.read()))

missing = []
for kind, words in want.items():
    for w in words:
        for editor, have in (("vscode", tm_words), ("vim", vim_words)):
            if w not in have:
                missing.append(f"{editor} lacks {kind} '{w}'")
if missing:
    sys.exit("\n".join(missing))
print(f"editors: {sum(len(w) for w in want.values())} words in both grammars")
