"""Shared, framework-free data helpers for the transfer peers (numpy only).

Both peers import this so they see exactly the same samples.
"""
import gzip
import os
import struct

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"
MODEL_H5 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "registry",
                        "models", "fashion-0to4-dnn", "fashion-0to4-dnn.h5")
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

DATA_SEED = 42          # fixed sample: identical data for every seed and both frameworks
N_TRAIN_PER_CLASS = 100
N_VALID_PER_CLASS = 30
SEEDS = [0, 1, 2, 3, 4]
LR = 1e-3
BATCH = 50
MAX_EPOCHS = 100
PATIENCE = 20
VARIANTS = {
    "a": "5 hidden frozen, new head",
    "b": "5 hidden frozen, cached hidden5 outputs, head only",
    "c": "hidden1-4 reused+frozen (hidden5 dropped), new head",
    "d": "hidden1-3 frozen, hidden4-5 trainable, new head",
    "e": "all reused layers trainable, new head",
    "f": "from scratch (same arch, fresh He init)",
}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, (path, zero, dtype)
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(shape)), path
    return arr.reshape(shape)


def load(split):
    x = read_idx(os.path.join(DATA, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA, f"{split}-labels-idx1-ubyte.gz"))
    return x.reshape(-1, 784).astype(np.float32) / 255.0, y.astype(np.int64)


def transfer_data():
    """Classes 5-9 remapped to 0-4: 100/class train, 30/class valid (disjoint), full test."""
    x, y = load("train")
    xt, yt = load("t10k")
    rng = np.random.default_rng(DATA_SEED)
    tr, va = [], []
    for c in range(5, 10):
        idx = rng.permutation(np.flatnonzero(y == c))
        tr.append(idx[:N_TRAIN_PER_CLASS])
        va.append(idx[N_TRAIN_PER_CLASS:N_TRAIN_PER_CLASS + N_VALID_PER_CLASS])
    tr = rng.permutation(np.concatenate(tr))
    va = np.concatenate(va)
    assert not set(tr) & set(va)
    keep = yt >= 5
    return ((x[tr], y[tr] - 5), (x[va], y[va] - 5), (xt[keep], yt[keep] - 5))


def source_test():
    """Classes 0-4 test set (to check the loaded model reproduces its recorded accuracy)."""
    xt, yt = load("t10k")
    keep = yt < 5
    return xt[keep], yt[keep]


def table(framework, results, extra_lines=()):
    """results: {variant: [ {acc, seconds, epochs}, ... ]} -> markdown string."""
    lines = [f"### {framework}", "",
             "| variant | description | test accuracy (mean ± std) | train time (median, s) | epochs (median, min–max) | seeds |",
             "|---|---|---|---|---|---|"]
    for v, runs in results.items():
        acc = np.array([r["acc"] for r in runs])
        sec = np.array([r["seconds"] for r in runs])
        ep = np.array([r["epochs"] for r in runs])
        lines.append(f"| ({v}) | {VARIANTS[v]} | {acc.mean():.4f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.4f} "
                     f"| {np.median(sec):.2f} | {np.median(ep):g} ({ep.min()}–{ep.max()}) | {len(runs)} |")
    lines.append("")
    lines.extend(extra_lines)
    return "\n".join(lines)


def run_variants(run, data, seeds):
    """Runs every variant for every seed, printing each result; -> {variant: [result, ...]}."""
    results = {}
    for v in VARIANTS:
        results[v] = []
        for s in seeds:
            r = run(v, s, data)
            results[v].append(r)
            print(f"#   ({v}) seed {s}: acc {r['acc']:.4f}  {r['seconds']:.2f}s  {r['epochs']} epochs", flush=True)
    return results


def fixed_100_lines(fx):
    """The 500 samples x 100 epochs timing lines for `table`, from {label: (full times, cached times)}."""
    extra = ["500 samples × 100 epochs with four frozen layers (variant c, exactly 100 epochs, batch 50 = 1000 steps, "
             "no early stopping; median of 3 runs, cached time includes computing hidden4 outputs once):", ""]
    for label, (full, cached) in fx.items():
        extra.append(f"- {label}: full forward {np.median(full):.2f} s (runs: {', '.join(f'{t:.2f}' for t in full)}); "
                     f"cached {np.median(cached):.2f} s (runs: {', '.join(f'{t:.2f}' for t in cached)})")
    return extra
