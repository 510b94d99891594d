#!/usr/bin/env python3
"""Writes the read benchmark's model to bench/data/ in every format the benchmark reads.

The model: 50 float32 tensors, 512 MiB + 68 KiB of payload, shaped like a small
decoder-only transformer (seeded, so every run writes the same bytes):

    embed.weight                  [32768, 1024]   128 MiB
    layers.{0..7}.attn.qkv.weight  [3072, 1024]    12 MiB each
    layers.{0..7}.attn.out.weight  [1024, 1024]     4 MiB each
    layers.{0..7}.mlp.up.weight    [4096, 1024]    16 MiB each
    layers.{0..7}.mlp.down.weight  [1024, 4096]    16 MiB each
    layers.{0..7}.norm1.weight     [1024]           4 KiB each
    layers.{0..7}.norm2.weight     [1024]           4 KiB each
    norm.weight                    [1024]           4 KiB

Values are N(0, 0.02) (norm weights N(1, 0.02)), like freshly initialised
weights: deflate saves only ~7 % on them, as on real float32 checkpoints.

Files (the same bytes in each):
    model.safetensors     safetensors.numpy.save_file
    model_stored.npz      np.savez            (zip, stored members)
    model_deflated.npz    np.savez_compressed (zip, deflate level 6; 474 MiB, ~45 s to write)
    model.pt              torch.save of the same state dict (torch's zip format), for torch.load
    model_contiguous.h5   h5py, one dataset per tensor named as above (at the root), contiguous,
                          unfiltered (h5py's default layout)
    model_chunked.h5      h5py, chunked, no filter; chunks of whole rows, ~1 MiB (256 rows of
                          1024 floats; 64 rows of 4096; the [1024] norms are one 4 KiB chunk)
    model_gzip.h5         h5py, the same chunks + shuffle + gzip level 4 (the full model,
                          439 MiB, ~30 s to write)
    model.npy             np.save of ONE array: all 50 tensors flattened and concatenated
                          in the order above, reshaped to [131089, 1024]. A .npy holds a
                          single array, so the whole payload in one file is the only way to
                          read the same 512 MiB from one .npy; it measures the same thing
                          (map/read + touch of 512 MiB) as the multi-tensor formats.

Usage: python bench/make_model.py [--out bench/data] [--force]
"""
import argparse
import os
import sys
import time

import numpy as np

HIDDEN = 1024
VOCAB = 32768
LAYERS = 8
CHUNK_BYTES = 1 << 20


def state_dict():
    rng = np.random.default_rng(20261129)

    def normal(shape, mean=0.0):
        a = rng.standard_normal(shape, dtype=np.float32)
        a *= np.float32(0.02)
        a += np.float32(mean)
        return a

    sd = {"embed.weight": normal((VOCAB, HIDDEN))}
    for i in range(LAYERS):
        p = f"layers.{i}."
        sd[p + "attn.qkv.weight"] = normal((3 * HIDDEN, HIDDEN))
        sd[p + "attn.out.weight"] = normal((HIDDEN, HIDDEN))
        sd[p + "mlp.up.weight"] = normal((4 * HIDDEN, HIDDEN))
        sd[p + "mlp.down.weight"] = normal((HIDDEN, 4 * HIDDEN))
        sd[p + "norm1.weight"] = normal((HIDDEN,), 1.0)
        sd[p + "norm2.weight"] = normal((HIDDEN,), 1.0)
    sd["norm.weight"] = normal((HIDDEN,), 1.0)
    return sd


def atomic(path, write):
    tmp = path + ".tmp"
    start = time.perf_counter()
    write(tmp)
    os.replace(tmp, path)
    print(f"  wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB, {time.perf_counter() - start:.1f} s)", file=sys.stderr)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "data"))
    parser.add_argument("--force", action="store_true", help="rewrite files that exist")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = ["model.npy", "model_stored.npz", "model_deflated.npz", "model.safetensors", "model.pt",
             "model_contiguous.h5", "model_chunked.h5", "model_gzip.h5"]
    paths = {n: os.path.join(args.out, n) for n in names}
    missing = [n for n in names if args.force or not os.path.exists(paths[n])]
    if not missing:
        return
    print(f"making {', '.join(missing)} in {args.out}", file=sys.stderr)
    sd = state_dict()
    payload = sum(a.nbytes for a in sd.values())
    print(f"  {len(sd)} tensors, {payload} bytes ({payload / 2**20:.2f} MiB)", file=sys.stderr)

    def save_npy(tmp):
        flat = np.concatenate([a.reshape(-1) for a in sd.values()]).reshape(-1, HIDDEN)
        with open(tmp, "wb") as f:
            np.save(f, flat)

    def save_npz(tmp, compressed):
        with open(tmp, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **sd)

    def save_safetensors(tmp):
        from safetensors.numpy import save_file
        save_file(sd, tmp)

    def save_pt(tmp):
        import torch
        torch.save({k: torch.from_numpy(v) for k, v in sd.items()}, tmp)

    def chunk_shape(shape):
        # Whole rows, ~1 MiB per chunk (a 1-D tensor of up to 256 Ki floats is one chunk).
        row = int(np.prod(shape[1:], dtype=np.int64)) * 4
        rows = max(1, min(shape[0], CHUNK_BYTES // row))
        return (rows,) + tuple(shape[1:])

    def save_h5(tmp, layout):
        import h5py
        with h5py.File(tmp, "w") as f:
            for name, a in sd.items():
                if layout == "contiguous":
                    f.create_dataset(name, data=a)
                elif layout == "chunked":
                    f.create_dataset(name, data=a, chunks=chunk_shape(a.shape))
                else:
                    f.create_dataset(name, data=a, chunks=chunk_shape(a.shape),
                                     compression="gzip", compression_opts=4, shuffle=True)

    writers = {
        "model_contiguous.h5": lambda t: save_h5(t, "contiguous"),
        "model_chunked.h5": lambda t: save_h5(t, "chunked"),
        "model_gzip.h5": lambda t: save_h5(t, "gzip"),
        "model.npy": save_npy,
        "model_stored.npz": lambda t: save_npz(t, False),
        "model_deflated.npz": lambda t: save_npz(t, True),
        "model.safetensors": save_safetensors,
        "model.pt": save_pt,
    }
    for n in missing:
        atomic(paths[n], writers[n])


if __name__ == "__main__":
    main()
