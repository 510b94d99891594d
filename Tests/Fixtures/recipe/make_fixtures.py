#!/usr/bin/env python3
"""Fixtures of the transfer recipe's data path (Tests/ZooKitTests/RecipeDataTests.swift):

- fashion-idx3-ubyte / fashion-labels-idx1-ubyte: three Fashion-MNIST training pictures (indices 0, 1, 2: an
  ankle boot, a T-shirt, a T-shirt) and their labels, as IDX files;
- pil_resized.npz: each through PIL as peers/recipe_data.py does for the PyTorch peer (`convert("RGB")`,
  `resize((S, S), BILINEAR)`), uint8 [3, S, S, 3], for S = 96 (upscale) and S = 20 (antialiased downscale);
- selection.json: peers/recipe_data.py's replica of Zoo's DataSelection (SplitMix64, Swift's shuffle) on 300
  labels 0-4 for a few seeds, per_class 10 and val_per_class 5: Zoo's tests check that Zoo selects the same
  indices, so the PyTorch peer trains on exactly the samples `zoo fine-tune --per-class 100 --seed S` does.

    /work/venv/peers/bin/python Tests/Fixtures/recipe/make_fixtures.py
"""
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "peers"))
import recipe_data as D

images, labels = D.load("train")
picked = images[:3]
with open(os.path.join(here, "fashion-images-idx3-ubyte"), "wb") as f:
    f.write(struct.pack(">HBBIII", 0, 8, 3, 3, 28, 28) + picked.tobytes())
with open(os.path.join(here, "fashion-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">HBBI", 0, 8, 1, 3) + labels[:3].astype(np.uint8).tobytes())
resized = {}
for size in (96, 20):
    resized[f"rgb{size}"] = np.stack([np.asarray(Image.fromarray(a, "L").convert("RGB").resize((size, size), Image.BILINEAR))
                                      for a in picked])
np.savez(os.path.join(here, "pil_resized.npz"), **resized)

rng = np.random.default_rng(7)
toy = rng.integers(0, 5, 300)
cases = []
for seed in (0, 1, 42, 12345678901):
    training, validation = D.zoo_selection(toy, 10, seed, val_per_class=5)
    cases.append({"seed": seed, "training": training, "validation": validation})
with open(os.path.join(here, "selection.json"), "w") as f:
    json.dump({"labels": toy.tolist(), "per_class": 10, "val_per_class": 5, "cases": cases}, f)
print("labels", labels[:3].tolist(), {k: v.shape for k, v in resized.items()})
