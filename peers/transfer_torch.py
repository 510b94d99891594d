"""Exercise-9 transfer protocol, PyTorch peer.  Run: python peers/transfer_torch.py

The tf-keras source model (registry/models/fashion-0to4-dnn/fashion-0to4-dnn.h5) is read
with h5py into an equivalent nn.Sequential (Linear.weight = Keras kernel transposed).
Same data sample, protocol and hyperparameters as transfer_keras.py.  The softmax is
folded into nn.CrossEntropyLoss (logits out), which is the same loss.
"""
import copy
import math
import os
import platform
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist as F

SEEDS = [int(s) for s in os.environ.get("SEEDS", ",".join(map(str, F.SEEDS))).split(",")]
if os.environ.get("TORCH_THREADS"):
    torch.set_num_threads(int(os.environ["TORCH_THREADS"]))


def keras_weights():
    """{layer_name: (kernel[in,out], bias[out])} from a Keras full-model .h5."""
    out = {}
    with h5py.File(F.MODEL_H5, "r") as f:
        g = f["model_weights"]
        for name in g.attrs["layer_names"]:
            name = name.decode() if isinstance(name, bytes) else name
            lg = g[name]
            wn = [w.decode() if isinstance(w, bytes) else w for w in lg.attrs["weight_names"]]
            if not wn:
                continue
            ws = {w.split("/")[-1].split(":")[0]: np.asarray(lg[w]) for w in wn}
            out[name] = (ws["kernel"], ws["bias"])
    return out


def he_normal_(layer):
    # Keras he_normal = VarianceScaling(2, fan_in, truncated_normal): N(0, s) truncated at ±2s,
    # s = sqrt(2/fan_in)/0.8796... so the truncated distribution has variance 2/fan_in.
    s = math.sqrt(2.0 / layer.in_features) / 0.87962566103423978
    nn.init.trunc_normal_(layer.weight, std=s, a=-2 * s, b=2 * s)
    nn.init.zeros_(layer.bias)


def new_head(n_in=100):
    h = nn.Linear(n_in, 5)
    nn.init.xavier_uniform_(h.weight)  # Keras Dense default glorot_uniform, zero bias
    nn.init.zeros_(h.bias)
    return h


def hidden_stack(n=5, pretrained=True):
    w = keras_weights() if pretrained else None
    mods = []
    for i in range(1, n + 1):
        lin = nn.Linear(784 if i == 1 else 100, 100)
        if pretrained:
            k, b = w[f"hidden{i}"]
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(k.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
        else:
            he_normal_(lin)
        mods += [lin, nn.ELU()]
    return mods


def source_model():
    w = keras_weights()
    out = nn.Linear(100, 5)
    with torch.no_grad():
        out.weight.copy_(torch.from_numpy(w["outputs"][0].T.copy()))
        out.bias.copy_(torch.from_numpy(w["outputs"][1]))
    return nn.Sequential(*hidden_stack(5), out)


def build(variant):
    if variant == "f":
        return nn.Sequential(*hidden_stack(5, pretrained=False), new_head())
    mods = hidden_stack(4 if variant == "c" else 5)
    for i, lin in enumerate(mods[0::2], 1):
        lin.requires_grad_({"a": False, "c": False, "d": i >= 4, "e": True}[variant])
    return nn.Sequential(*mods, new_head())


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


def fit(model, xtr, ytr, val, epochs, seed, early=True):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=F.LR, eps=1e-7)  # Keras Adam epsilon
    g = torch.Generator().manual_seed(seed)
    n = len(xtr)
    best, best_state, wait, run = math.inf, None, 0, 0
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, F.BATCH):
            idx = perm[i:i + F.BATCH]
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        run = epoch + 1
        if val is not None:
            vloss, _ = evaluate(model, *val)
            if early:
                if vloss < best:
                    best, wait = vloss, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    wait += 1
                    if wait >= F.PATIENCE:
                        break
    if early and best_state is not None:
        model.load_state_dict(best_state)
    return time.perf_counter() - t0, run


def features(n_layers, *xs):
    """Frozen-stack outputs, computed once; returns (tensors, seconds of the forward passes only)."""
    fx = nn.Sequential(*hidden_stack(n_layers)).eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = [fx(x) for x in xs]
    return out, time.perf_counter() - t0


def run(variant, seed, data):
    (xtr, ytr), (xva, yva), (xte, yte) = data
    torch.manual_seed(seed)
    if variant == "b":
        (ftr, fva), t_feat = features(5, xtr, xva)
        (fte,), _ = features(5, xte)
        model = new_head()
        secs, epochs = fit(model, ftr, ytr, (fva, yva), F.MAX_EPOCHS, seed)
        secs += t_feat
        _, acc = evaluate(model, fte, yte)
    else:
        model = build(variant)
        secs, epochs = fit(model, xtr, ytr, (xva, yva), F.MAX_EPOCHS, seed)
        _, acc = evaluate(model, xte, yte)
    return {"acc": acc, "seconds": secs, "epochs": epochs}


def fixed_100(data, reps=3):
    (xtr, ytr), (xva, yva), _ = data
    out = {}
    for label, use_val in (("with per-epoch validation", True), ("no validation", False)):
        full, cached = [], []
        for r in range(reps):
            torch.manual_seed(r)
            m = build("c")
            full.append(fit(m, xtr, ytr, (xva, yva) if use_val else None, 100, r, early=False)[0])
            torch.manual_seed(r)
            (ftr, fva), t_feat = features(4, xtr, xva)
            h = new_head()
            cached.append(t_feat + fit(h, ftr, ytr, (fva, yva) if use_val else None, 100, r, early=False)[0])
        out[label] = (full, cached)
    return out


def main():
    print(f"# PyTorch {torch.__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"h5py {h5py.__version__}, torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    (xtr, ytr), (xva, yva), (xte, yte) = F.transfer_data()
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    data = ((t(xtr), t(ytr)), (t(xva), t(yva)), (t(xte), t(yte)))
    print(f"# data: train {len(ytr)}, valid {len(yva)}, test {len(yte)}; seeds {SEEDS}")
    xs, ys = F.source_test()
    print(f"# source model (h5 -> nn.Sequential) on 0-4 test set: accuracy "
          f"{evaluate(source_model(), t(xs), t(ys))[1]:.4f}")
    results = F.run_variants(run, data, SEEDS)
    extra = F.fixed_100_lines(fixed_100(data))
    print()
    print(F.table(f"PyTorch {torch.__version__}", results, extra))


if __name__ == "__main__":
    main()
