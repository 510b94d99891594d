"""The transfer recipe's data, exactly as `zoo fine-tune` selects it (numpy and Pillow only).

- Training: `--per-class 100 --seed SEED` on Fashion-MNIST's train split, through Zoo's DataSelection:
  one SplitMix64 generator seeded with SEED, each class's indices (in file order) shuffled in turn with
  Swift's `MutableCollection.shuffle(using:)` (Fisher-Yates from the front, `Int.random(in: 0..<n)` =
  Lemire's `next(upperBound:)`), the first 100 kept; the union sorted by index.
- Test: `--test-per-class 100`: the first 100 test images of each class, in file order.
- Pictures: each 28x28 gray image through PIL: `convert("RGB")`, `resize((S, S), BILINEAR)`, then the
  manifest's preprocessing `x * 0.0078125 - 0.9921875` ((x - 127) / 128) in float32.

Tests/Fixtures/recipe/make_fixtures.py checks the selection against Zoo (a fixture Zoo's tests compare to).
"""
import gzip
import os
import struct

import numpy as np
from PIL import Image

DATA = os.environ.get("DATA", "/usr/share/datasets/fashion-mnist")
MASK = (1 << 64) - 1


class SplitMix64:
    """ZooNet's SplitMix64 (Sources/ZooNet/Core/Random.swift)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, upper):
        """Swift's RandomNumberGenerator.next(upperBound:) (Lemire's multiply-shift with rejection)."""
        m = self.next() * upper
        if (m & MASK) < upper:
            t = ((1 << 64) - upper) % upper
            while (m & MASK) < t:
                m = self.next() * upper
        return m >> 64


def swift_shuffle(values, generator):
    """Swift's MutableCollection.shuffle(using:)."""
    values = list(values)
    amount, index = len(values), 0
    while amount > 1:
        offset = generator.below(amount)
        amount -= 1
        values[index], values[index + offset] = values[index + offset], values[index]
        index += 1
    return values


def zoo_selection(labels, per_class, seed, val_per_class=None):
    """DataSelection(perClass:validationPerClass:seed:).apply over all classes: (training, validation) indices."""
    generator = SplitMix64(seed)
    training, validation = [], []
    for c in range(int(labels.max()) + 1):
        indices = [int(i) for i in np.flatnonzero(labels == c)]
        if not indices:
            continue
        shuffled = swift_shuffle(indices, generator)
        start = val_per_class or 0
        validation += shuffled[:start]
        training += shuffled[start:start + per_class]
    return sorted(training), sorted(validation)


def first_per_class(labels, n):
    """LabeledData.firstPerClass(n): the first n samples of each class, in file order."""
    taken, indices = {}, []
    for i, label in enumerate(labels):
        if taken.get(int(label), 0) < n:
            taken[int(label)] = taken.get(int(label), 0) + 1
            indices.append(i)
    return indices


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, (path, zero, dtype)
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(split):
    """(images uint8 [N, 28, 28], labels int64) of 'train' or 't10k'."""
    def find(stem):
        for name in (stem, stem + ".gz"):
            if os.path.exists(os.path.join(DATA, name)):
                return os.path.join(DATA, name)
        raise FileNotFoundError(os.path.join(DATA, stem))
    return read_idx(find(f"{split}-images-idx3-ubyte")), read_idx(find(f"{split}-labels-idx1-ubyte")).astype(np.int64)


def pictures(images, size):
    """uint8 [N, 28, 28] -> float32 [N, 3, size, size]: PIL RGB, bilinear resize, (x - 127) / 128."""
    out = np.empty((len(images), size, size, 3), np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image, "L").convert("RGB").resize((size, size), Image.BILINEAR), np.float32)
    out = out * np.float32(0.0078125) + np.float32(-0.9921875)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))
