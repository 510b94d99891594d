"""Fixtures for the `zoo` command-line tests (Tests/ZooCLITests).

Run from this folder with numpy, safetensors and torch installed:
    python make_cli_fixtures.py
It writes the seed network's first layers (scaled down: 8 -> hidden1 6 -> hidden2 4)
as safetensors, .npz and a big-endian Fortran .npy, and prints the values the
Swift tests hard-code (SHA-256 digests, statistics, float16/bfloat16 casts).
"""
import hashlib

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

rng = np.random.default_rng(42)
weights = {
    "hidden1/kernel": rng.standard_normal((8, 6)).astype(np.float32),
    "hidden1/bias": rng.standard_normal(6).astype(np.float32),
    "hidden2/kernel": rng.standard_normal((6, 4)).astype(np.float32),
    "hidden2/bias": np.zeros(4, np.float32),
    "global_step": np.array(1234, np.int64),
}

safetensors.numpy.save_file(weights, "seed_small.safetensors", metadata={"framework": "numpy", "note": "cli fixture"})
np.savez("seed_small.npz", **weights)
np.save("kernel_be_fortran.npy", np.asfortranarray(weights["hidden1/kernel"].astype(">f4")))


def digest(array):
    little = np.ascontiguousarray(array, array.dtype.newbyteorder("<"))
    return hashlib.sha256(little.tobytes()).hexdigest()


for name, array in weights.items():
    print(f"{name}: sha256 {digest(array)}")
    print(f"  min {array.min()!r} max {array.max()!r} mean {array.astype(np.float64).mean()!r} std {array.astype(np.float64).std()!r}")
kernel = weights["hidden1/kernel"]
print("hidden1/kernel float16 sha256", digest(kernel.astype(np.float16)))
bf16 = torch.from_numpy(kernel).to(torch.bfloat16).view(torch.int16).numpy()
print("hidden1/kernel bfloat16 sha256", hashlib.sha256(bf16.astype("<i2").tobytes()).hexdigest())
