#!/usr/bin/env python3
"""Training-throughput peers for ZooNet: PyTorch eager, PyTorch with torch.compile, Keras 3, NumPy.

Run:  python bench/net/peers.py [--samples 60000] [--only torch,compile,keras,numpy]
Configs (one timed epoch after a warm-up, 60000x784 random data, 10 classes, Adam lr 1e-3,
sparse softmax cross-entropy, 2 threads):
  mlp   784-300-BN-ELU-100-BN-ELU-10, batch 64 and 256
  deep  784-5x100 He-normal ELU-10, batch 64
Prints samples/s (wall) and samples per CPU-second (all threads; robust to other load on a
shared machine when run with --threads=1) per framework and config.
"""
import argparse
import os
import sys
import time

THREADS = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--threads=")), "2"))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

CONFIGS = [("mlp", 64), ("mlp", 256), ("deep", 64)]


def data(n):
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


class Timer:
    """Wall and process CPU time (all threads) of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


# Training FLOP per sample: the dense layers' GEMMs (see bench/net/README.md).
FLOP_PER_SAMPLE = {"mlp": 1_126_800, "deep": 559_600}


def report(framework, kind, batch, n, timer):
    name = "784-300-100-10 BN+ELU Adam" if kind == "mlp" else "5x100 He ELU Adam"
    rate = n / timer.wall
    print(f"{framework:13s} {name} batch {batch}: {rate:,.0f} samples/s = "
          f"{rate * FLOP_PER_SAMPLE[kind] / 1e9:.1f} GFLOP/s ({n / timer.cpu:,.0f} samples per CPU-second)", flush=True)


def bench_torch(x, y, compiled=False):
    """PyTorch eager, or with `torch.compile` on the model and on the optimizer step
    (inductor's C++ CPU backend; needs a C++ compiler)."""
    import torch
    from torch import nn
    torch.set_num_threads(THREADS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for kind, batch in CONFIGS:
        if kind == "mlp":
            model = nn.Sequential(nn.Linear(784, 300), nn.BatchNorm1d(300, eps=1e-3, momentum=0.1), nn.ELU(),
                                  nn.Linear(300, 100), nn.BatchNorm1d(100, eps=1e-3, momentum=0.1), nn.ELU(),
                                  nn.Linear(100, 10))
        else:
            layers, width = [], 784
            for _ in range(5):
                lin = nn.Linear(width, 100)
                nn.init.kaiming_normal_(lin.weight)
                layers += [lin, nn.ELU()]
                width = 100
            model = nn.Sequential(*layers, nn.Linear(100, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        loss_fn = nn.CrossEntropyLoss()
        forward = torch.compile(model) if compiled else model
        step = torch.compile(opt.step) if compiled else opt.step

        def epoch(count):
            perm = torch.randperm(count)
            for start in range(0, count, batch):
                idx = perm[start:start + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(forward(xt[idx]), yt[idx])
                loss.backward()
                step()

        model.train()
        epoch(batch * 20)
        with Timer() as t:
            epoch(len(x))
        report("torch.compile" if compiled else "torch", kind, batch, len(x), t)


def bench_keras(x, y):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    import keras
    from keras import layers
    for kind, batch in CONFIGS:
        if kind == "mlp":
            model = keras.Sequential([keras.Input((784,)), layers.Dense(300), layers.BatchNormalization(momentum=0.9),
                                      layers.Activation("elu"), layers.Dense(100),
                                      layers.BatchNormalization(momentum=0.9), layers.Activation("elu"),
                                      layers.Dense(10)])
        else:
            model = keras.Sequential([keras.Input((784,))]
                                     + [layers.Dense(100, activation="elu", kernel_initializer="he_normal")
                                        for _ in range(5)] + [layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x[:batch * 20], y[:batch * 20], batch_size=batch, epochs=1, verbose=0)
        with Timer() as t:
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        report("keras", kind, batch, len(x), t)


class NumpyNet:
    """Hand-written NumPy forward/backward (BN + ELU, Adam with Keras epsilon placement)."""

    def __init__(self, kind, rng):
        widths = [784, 300, 100, 10] if kind == "mlp" else [784, 100, 100, 100, 100, 100, 10]
        self.bn = kind == "mlp"
        self.params = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            w = (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
            self.params += [w, np.zeros(b, np.float32)]
            if self.bn and i < len(widths) - 2:
                self.params += [np.ones(b, np.float32), np.zeros(b, np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.layers = len(widths) - 1

    def step(self, x, y, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        p, cache, h, k = self.params, [], x, 0
        for i in range(self.layers):
            w, b = p[k], p[k + 1]
            k += 2
            z = h @ w + b
            if i == self.layers - 1:
                cache.append((h, None, None, None, None))
                break
            xhat = inv = None
            if self.bn:
                g, beta = p[k], p[k + 1]
                k += 2
                mu, var = z.mean(0), z.var(0)
                inv = 1.0 / np.sqrt(var + 1e-3)
                xhat = (z - mu) * inv
                z = g * xhat + beta
            out = np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
            cache.append((h, xhat, inv, out, z))
            h = out
        z = z - z.max(1, keepdims=True)
        e = np.exp(z)
        s = e / e.sum(1, keepdims=True)
        n = len(x)
        s[np.arange(n), y] -= 1
        d = s / n
        grads = [None] * len(p)
        k = len(p)
        for i in reversed(range(self.layers)):
            h, xhat, inv, out, zpre = cache[i]
            if i < self.layers - 1:
                d = d * np.where(out > 0, 1, out + 1)
                if self.bn:
                    k -= 2
                    g = p[k]
                    dg, db = (d * xhat).sum(0), d.sum(0)
                    grads[k], grads[k + 1] = dg, db
                    d = g * inv / n * (n * d - db - xhat * dg)
            k -= 2
            grads[k], grads[k + 1] = h.T @ d, d.sum(0)
            if i > 0:
                d = d @ p[k].T
        self.t += 1
        alpha = lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for j, gj in enumerate(grads):
            self.m[j] += (gj - self.m[j]) * (1 - b1)
            self.v[j] += (gj * gj - self.v[j]) * (1 - b2)
            p[j] -= alpha * self.m[j] / (np.sqrt(self.v[j]) + eps)


def bench_numpy(x, y):
    rng = np.random.default_rng(1)
    for kind, batch in CONFIGS:
        net = NumpyNet(kind, rng)

        def epoch(count):
            perm = rng.permutation(count)
            for start in range(0, count, batch):
                idx = perm[start:start + batch]
                net.step(x[idx], y[idx])

        epoch(batch * 20)
        with Timer() as t:
            epoch(len(x))
        report("numpy", kind, batch, len(x), t)


def sgemm_peaks():
    """The SGEMM rates the peers' own BLAS reach on 1024^3 (THREADS threads), and a KERNELS line
    naming the kernels: numpy's bundled OpenBLAS core (via threadpoolctl) and torch's CPU capability."""
    def rate(mm, a, b, repeats=20, trials=5):
        mm(a, b)
        best = float("inf")
        for _ in range(trials):
            start = time.perf_counter()
            for _ in range(repeats):
                mm(a, b)
            best = min(best, time.perf_counter() - start)
        return 2 * 1024 ** 3 * repeats / best / 1e9
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    kernels = []
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("internal_api") == "openblas":
                kernels.append(f"numpy: OpenBLAS {pool.get('version')} {pool.get('architecture')}")
    except ImportError:
        kernels.append("numpy: (pip install threadpoolctl to name its BLAS kernels)")
    print(f"PEER_PEAK\tnumpy\t{rate(np.matmul, a, a):.1f} GFLOP/s", flush=True)
    try:
        import torch
        torch.set_num_threads(THREADS)
        t = torch.from_numpy(a)
        kernels.append(f"torch {torch.__version__}: {torch.backends.cpu.get_cpu_capability()}")
        print(f"PEER_PEAK\ttorch\t{rate(torch.mm, t, t):.1f} GFLOP/s", flush=True)
    except ImportError:
        pass
    print("KERNELS\tpeers\t" + "\t".join(kernels), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--only", default="torch,compile,keras,numpy")
    parser.add_argument("--threads", default="2", help="use --threads=N (read before imports)")
    args = parser.parse_args()
    x, y = data(args.samples)
    sgemm_peaks()
    for name in args.only.split(","):
        if name == "compile":
            try:
                bench_torch(x, y, compiled=True)
            except Exception as error:  # inductor needs a C++ compiler (g++): report, do not stop the others
                first_line = (str(error).splitlines() or [""])[0][:200]
                print(f"# torch.compile skipped: {type(error).__name__}: {first_line}", flush=True)
            continue
        {"torch": bench_torch, "keras": bench_keras, "numpy": bench_numpy}[name](x, y)


if __name__ == "__main__":
    main()
