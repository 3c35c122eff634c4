# edit-checkpoint.py CKPT OP [ARG...]: damages a checkpoint the way files
# from elsewhere (or from a run that diverged) can be:
#   drop-metadata          removes __metadata__ altogether
#   drop-key KEY           removes one metadata key
#   poison TENSOR VALUE    sets the tensor's first element to VALUE (nan, inf)
#   shape TENSOR D,D,...   gives the tensor another shape in the header
import json
import struct
import sys

path, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path, "rb") as f:
    data = f.read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = bytearray(data[8 + n:])
if op == "drop-metadata":
    del header["__metadata__"]
elif op == "drop-key":
    del header["__metadata__"][args[0]]
elif op == "poison":
    begin = header[args[0]]["data_offsets"][0]
    body[begin:begin + 4] = struct.pack("<f", float(args[1]))
elif op == "shape":
    header[args[0]]["shape"] = [int(d) for d in args[1].split(",")]
else:
    sys.exit("unknown operation " + op)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + bytes(body))
