# set-classes.py CKPT NAME...: rewrites the checkpoint's class names
# (safetensors metadata "nnc.classes"), as a checkpoint written before
# nnc checked the class count could have them.
import json
import struct
import sys

path, names = sys.argv[1], sys.argv[2:]
with open(path, "rb") as f:
    data = f.read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
header["__metadata__"]["nnc.classes"] = json.dumps(names)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data[8 + n:])
