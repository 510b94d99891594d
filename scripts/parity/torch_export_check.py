#!/usr/bin/env python3
"""Checks .pt files Zoo writes with `zoo convert MODEL out.pt --layout pytorch` against PyTorch itself:
`torch.load(weights_only=True)` (and with mmap=True), `load_state_dict(strict=True)` into the matching torch
module, and the module's outputs against the source framework's.

    # the seed MLP (tf-keras full model) -> .pt -> a torch module with the same layer names
    zoo convert Tests/Fixtures/keras/seed_k2_model.h5 /tmp/seed.pt --layout pytorch
    python scripts/parity/torch_export_check.py seed Tests/Fixtures/keras/seed_k2_model.h5 /tmp/seed.pt
    # a torchvision architecture: Zoo's .pt against the state dict it came from (same module, same input)
    python scripts/parity/torch_export_check.py torchvision resnet18 original.pt zoo.pt
    # the whole round trip for torchvision resnet18 and mobilenet_v2 (random weights, random BN statistics):
    # torch .pt -> zoo convert --arch -> .keras -> zoo convert --layout pytorch -> .pt -> torch strict load,
    # its outputs against Keras 3's on the .keras file
    python scripts/parity/torch_export_check.py keras-roundtrip .build/release/zoo
"""
import os
import sys

import numpy as np
import torch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def seed(keras_file, pt_file):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras
    model = tf_keras.models.load_model(keras_file, compile=False)

    class Seed(torch.nn.Module):  # the fixture's layers, named as in the Keras model
        def __init__(self):
            super().__init__()
            self.hidden1, self.bn1 = torch.nn.Linear(20, 300), torch.nn.BatchNorm1d(300, eps=1e-3)
            self.hidden2, self.bn2 = torch.nn.Linear(300, 100), torch.nn.BatchNorm1d(100, eps=1e-3)
            self.outputs = torch.nn.Linear(100, 10)

        def forward(self, x):
            x = torch.nn.functional.elu(self.bn1(self.hidden1(x)))
            x = torch.nn.functional.elu(self.bn2(self.hidden2(x)))
            return torch.softmax(self.outputs(x), -1)

    module = Seed().eval()
    x = np.random.default_rng(0).standard_normal((8, 20)).astype(np.float32)
    return module, pt_file, torch.from_numpy(x), model.predict(x, verbose=0)


def torchvision_arch(name, original, pt_file):
    import torchvision
    module = getattr(torchvision.models, name)().eval()
    module.load_state_dict(torch.load(original, weights_only=True), strict=True)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        want = module(x).numpy()
    return getattr(torchvision.models, name)().eval(), pt_file, x, want


def keras_roundtrip(zoo):
    import subprocess
    import tempfile
    import torchvision
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    failed = False
    for name, kwargs, flags in [("resnet18", {"num_classes": 5}, ["--classes", "5"]),
                                ("mobilenet_v2", {"num_classes": 5, "width_mult": 0.35}, ["--classes", "5", "--width-multiplier", "0.35"])]:
        torch.manual_seed(0)
        module = getattr(torchvision.models, name)(**kwargs).eval()
        with torch.no_grad():
            for m in module.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.normal_(0, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.normal_(1, 0.1)
                    m.bias.normal_(0, 0.1)
        with tempfile.TemporaryDirectory() as folder:
            original, model, back = (os.path.join(folder, f) for f in ("original.pt", "model.keras", "back.pt"))
            torch.save(module.state_dict(), original)
            subprocess.run([zoo, "convert", original, "--arch", name, *flags, "--input-size", "64", model], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([zoo, "convert", model, back, "--layout", "pytorch"], check=True, stdout=subprocess.DEVNULL)
            x = np.random.default_rng(1).standard_normal((2, 64, 64, 3)).astype(np.float32)
            want = np.asarray(keras.models.load_model(model, compile=False).predict(x, verbose=0))
            fresh = getattr(torchvision.models, name)(**kwargs).eval()
            result = fresh.load_state_dict(torch.load(back, weights_only=True), strict=True)
            with torch.no_grad():
                got = fresh(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
        error, tolerance = float(np.abs(got - want).max()), 1e-4 * (1 + float(np.abs(want).max()))
        failed |= error > tolerance
        print(f"{name}: .pt -> .keras -> .pt: {result}; max |torch - keras| = {error:.3g} ({'pass' if error <= tolerance else 'FAIL'}, tolerance {tolerance:.3g})")
    sys.exit(1 if failed else 0)


def main():
    kind = sys.argv[1]
    if kind == "keras-roundtrip":
        keras_roundtrip(sys.argv[2])
    module, pt_file, x, want = seed(*sys.argv[2:4]) if kind == "seed" else torchvision_arch(*sys.argv[2:5])
    state = torch.load(pt_file, weights_only=True)
    torch.load(pt_file, weights_only=True, mmap=True)
    result = module.load_state_dict(state, strict=True)
    with torch.no_grad():
        got = module(x).numpy()
    error = float(np.max(np.abs(got - want)))
    tolerance = 1e-4 * (1 + float(np.max(np.abs(want))))
    print(f"{pt_file}: {result}; {len(state)} tensors; max |torch - reference| = {error:.3g} "
          f"({'pass' if error <= tolerance else 'FAIL'}, tolerance {tolerance:.3g})")
    sys.exit(0 if error <= tolerance else 1)


if __name__ == "__main__":
    main()
