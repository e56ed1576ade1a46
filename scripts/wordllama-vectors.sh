#!/usr/bin/env bash
# Real embeddings for vector benchmarks: the 32,000 x 256 token-embedding table that the
# PyPI package wordllama (MIT licence) ships inside its wheel, written as a float32 .npy
# file (C order) that stormbench's vector-file reader takes.
#
# Usage: scripts/wordllama-vectors.sh OUT.npy
#
# Needs python3 with its venv module and access to PyPI (19 MB download); numpy is not
# needed. The wheel goes into a temporary folder that is removed on exit.
set -euo pipefail

VERSION=0.4.0.post1
# The table is the same in every wheel of the release; pinning one wheel (any platform
# will do, it is only unzipped) keeps the script independent of the local Python and CPU.
PLATFORM=(--platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311)
MEMBER=wordllama/weights/l2_supercat_256.safetensors
SHA256=64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5

if [ $# -ne 1 ] || [[ "$1" != *.npy ]]; then
    echo "usage: $0 OUT.npy   (writes wordllama's 32000 x 256 token embeddings as float32)" >&2
    exit 2
fi
OUT=$1
if ! command -v python3 >/dev/null; then
    echo "wordllama-vectors: python3 is not installed; install it (Debian/Ubuntu: apt-get install python3 python3-venv)" >&2
    exit 1
fi
if ! mkdir -p "$(dirname "$OUT")"; then
    echo "wordllama-vectors: cannot make the folder of $OUT" >&2
    exit 1
fi

TMP=$(mktemp -d)
PARTIAL="$OUT.partial.$$"
trap 'rm -rf "$TMP"; rm -f "$PARTIAL"' EXIT

# A throwaway venv brings a pip of its own, whatever the system Python lacks.
if ! python3 -m venv "$TMP/venv" >"$TMP/venv.log" 2>&1; then
    cat "$TMP/venv.log" >&2
    echo "wordllama-vectors: python3 -m venv failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
fi
"$TMP/venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: "${PLATFORM[@]}" --dest "$TMP/wheel" "wordllama==$VERSION"
WHEELS=("$TMP"/wheel/wordllama-"$VERSION"-*.whl)
WHEEL=${WHEELS[0]}

"$TMP/venv/bin/python" - "$WHEEL" "$MEMBER" "$SHA256" "$PARTIAL" "$OUT" <<'PY'
"""Unzips the safetensors table from the wheel and writes it as a float32 .npy file."""
import array
import hashlib
import json
import math
import os
import struct
import sys
import zipfile

wheel, member, sha256, partial, out = sys.argv[1:]


def fail(msg):
    sys.exit(f"wordllama-vectors: {msg}")


with zipfile.ZipFile(wheel) as z:
    try:
        raw = z.read(member)
    except KeyError:
        fail(f"{os.path.basename(wheel)} has no {member}; the wheel's layout changed")
if hashlib.sha256(raw).hexdigest() != sha256:
    fail(f"{member} differs from the tested file (sha256); the release was replaced")

# safetensors: an 8-byte little-endian header length, a JSON header, then the tensors.
(n,) = struct.unpack_from("<Q", raw, 0)
header = json.loads(raw[8 : 8 + n])
tensors = {k: v for k, v in header.items() if k != "__metadata__"}
if len(tensors) != 1:
    fail(f"expected one tensor in {member}, found {sorted(tensors)}")
name, t = tensors.popitem()
dtype, shape, (begin, end) = t["dtype"], t["shape"], t["data_offsets"]
if len(shape) != 2:
    fail(f"tensor {name} has shape {shape}, not (rows, dims)")
rows, dims = shape
size = {"F32": 4, "F16": 2, "BF16": 2}.get(dtype)
if size is None:
    fail(f"tensor {name} has dtype {dtype}; only F32, F16 and BF16 are converted")
body = memoryview(raw)[8 + n + begin : 8 + n + end]
if len(body) != rows * dims * size:
    fail(f"tensor {name}: {len(body)} bytes for shape {shape} of {dtype}")

little = sys.byteorder == "little"
values = array.array("f")
for r in range(rows):
    chunk = body[r * dims * size : (r + 1) * dims * size]
    if dtype == "F32":
        row = struct.unpack(f"<{dims}f", chunk)
    elif dtype == "F16":
        row = struct.unpack(f"<{dims}e", chunk)
    else:
        # bfloat16 is the top half of a float32: shift it left 16 bits.
        bits = struct.unpack(f"<{dims}H", chunk)
        row = struct.unpack(f"<{dims}f", struct.pack(f"<{dims}I", *(b << 16 for b in bits)))
    if not all(math.isfinite(x) for x in row):
        fail(f"row {r} of tensor {name} holds NaN or infinity")
    values.extend(row)
if not little:
    values.byteswap()

# .npy 1.0: magic, version, header length, a dict literal padded to 64 bytes, the data.
dict_text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dims}), }}"
pad = -(10 + len(dict_text) + 1) % 64
npy_header = (dict_text + " " * pad + "\n").encode("ascii")
with open(partial, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(npy_header)) + npy_header)
    values.tofile(f)
os.replace(partial, out)
print(f"wordllama-vectors: {rows} rows x {dims} dims ({dtype} in {os.path.basename(wheel)}) -> {out}, {os.path.getsize(out)} bytes")
PY
