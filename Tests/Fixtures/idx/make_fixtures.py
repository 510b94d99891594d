"""IDX fixtures (the MNIST / Fashion-MNIST format) for Tests/ZooFormatTests/IDXReaderTests.swift.

    python make_fixtures.py
"""
import gzip
import hashlib
import struct

import numpy as np

CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(a):
    a = np.asarray(a)
    header = struct.pack(">BBBB", 0, 0, CODES[a.dtype.type], a.ndim) + b"".join(struct.pack(">I", d) for d in a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


rng = np.random.default_rng(3)
images = rng.integers(0, 256, size=(4, 3, 2), dtype=np.uint8)
labels = np.array([3, 0, 9, 5], np.uint8)
with gzip.GzipFile("images-idx3-ubyte.gz", "wb", mtime=0) as f:
    f.write(idx_bytes(images))
open("labels-idx1-ubyte", "wb").write(idx_bytes(labels))
open("int16-idx2", "wb").write(idx_bytes(np.array([[-300, 2], [7, 32000]], np.int16)))
open("float64-idx1", "wb").write(idx_bytes(np.array([1.5, -0.25], np.float64)))
bad = bytearray(open("images-idx3-ubyte.gz", "rb").read())
bad[-8] ^= 0xFF  # the CRC-32 in the trailer
open("bad-crc.gz", "wb").write(bytes(bad))
print("images", images.ravel().tolist())
print("images sha256", hashlib.sha256(images.tobytes()).hexdigest())
