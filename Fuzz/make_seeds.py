#!/usr/bin/env python3
"""Builds Fuzz/Seeds/<target>/: small seed inputs for each libFuzzer target, taken from the
peer-made fixtures under Tests/Fixtures (files, zip members, table blocks, config JSON).

    python3 Fuzz/make_seeds.py      # stdlib only; rerun when fixtures change
"""
import gzip, json, os, shutil, struct, zipfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent
fixtures = root / "Tests" / "Fixtures"
seeds = root / "Fuzz" / "Seeds"
limit = 64 << 10


def put(target, name, data):
    if len(data) > limit:
        return
    directory = seeds / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name.replace("/", "_")).write_bytes(data)


shutil.rmtree(seeds, ignore_errors=True)
for path in sorted((fixtures / "arrays").glob("*.npy")):
    put("npy", path.name, path.read_bytes())
put("npy", "literal.txt", b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
for path in sorted((fixtures / "arrays").glob("*.npz")) + sorted((fixtures / "cli").glob("*.npz")):
    put("zip", path.name, path.read_bytes())
for path in sorted((fixtures / "arrays").glob("*.safetensors")) + sorted((fixtures / "cli").glob("*.safetensors")):
    put("safetensors", path.name, path.read_bytes())
    header = path.read_bytes()
    size = struct.unpack("<Q", header[:8])[0]
    put("json", path.name + ".json", header[8:8 + size])
pickles = [path for path in sorted((fixtures / "torch").iterdir()) if path.suffix in (".pt", ".pth", ".pkl")]
for path in pickles + [fixtures / "torch" / "protocol5.bin"]:
    data = path.read_bytes()
    put("pickle", path.name, data)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith("data.pkl"):
                    put("pickle", path.name + ".data.pkl", archive.read(name))
for path in sorted(fixtures.glob("tf/*/*.index")):
    data = path.read_bytes()
    put("sstable", path.parent.name + "_" + path.name, data)
for path in sorted(fixtures.glob("idx/*")):
    if path.suffix != ".py":
        put("idx", path.name, path.read_bytes())
        if path.suffix == ".gz":
            put("gzip", path.name, path.read_bytes()[2:])
            if path.name != "bad-crc.gz":
                put("idx", path.stem, gzip.decompress(path.read_bytes()))
for path in sorted((fixtures / "keras").glob("*.keras")) + sorted((fixtures / "kerasgraph").glob("*.keras")):
    put("keras", path.name, path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        put("keras-config", path.name + ".config.json", archive.read("config.json"))
        put("json", path.name + ".metadata.json", archive.read("metadata.json"))
for path in sorted((root / "registry" / "train").glob("*/architecture.json")):
    put("keras-config", path.parent.name + ".json", path.read_bytes())
for path in sorted((fixtures / "keras").glob("*.h5")) + sorted((fixtures / "keras").glob("*.weights.h5")) + sorted((fixtures / "kerasgraph").glob("*.h5")):
    put("hdf5", path.name, path.read_bytes())
for path in sorted((fixtures / "integrity").glob("*.h5")) if (fixtures / "integrity").exists() else []:
    if "hang" in path.name:
        continue  # libhdf5 never returns on it: every run would wait for the helper's timeout
    put("hdf5", path.name, path.read_bytes())
for path in sorted((fixtures / "onnx").rglob("*.onnx")):
    put("onnx", str(path.relative_to(fixtures / "onnx")), path.read_bytes())
put("gzip", "npy.gz", gzip.compress((fixtures / "arrays" / "npy_v1.npy").read_bytes(), mtime=0)[2:])

# TensorFlow bundle protos: the values of the index tables' entries, found by a tiny
# SSTable walk (uncompressed data blocks only, which is what TensorFlow writes).
def varint(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at

for path in sorted(fixtures.glob("tf/*/*.index")):
    data = path.read_bytes()
    footer = data[-48:]
    at = 0
    _, at = varint(footer, at)
    _, at = varint(footer, at)
    index_offset, at = varint(footer, at)
    index_size, at = varint(footer, at)
    block = data[:index_offset]  # the data blocks precede the index
    at, count, key = 0, 0, b""
    while at < len(block) - 5 and count < 40:
        try:
            shared, at = varint(block, at)
            unshared, at = varint(block, at)
            length, at = varint(block, at)
        except IndexError:
            break
        if shared > len(key) or at + unshared + length > len(block):
            break
        key = key[:shared] + block[at:at + unshared]
        value = block[at + unshared:at + unshared + length]
        at += unshared + length
        put("tfbundle", f"{path.parent.name}_{count}", value)
        count += 1
print("seeds:", {p.name: len(list(p.iterdir())) for p in sorted(seeds.iterdir())})
