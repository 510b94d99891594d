"""Parity fixtures for Tests/ZooKitTests/TorchArchitectureParityTests.swift.

Run from the repository root with the peer venv (torch 2.15, torchvision 0.29, facenet-pytorch 2.6.0):
    /work/venv/peers/bin/python Tests/Fixtures/torcharch/make_fixtures.py
For each architecture below, at a small configuration, it writes next to itself:
  NAME.pt      torch.save(model.state_dict()) (zip format), floating tensors as float16
               (the model computes with the same float16-rounded values, see torcharch.py)
  NAME.x.npy   the input, 2 seeded N(0, 1) images, NCHW float32 as torch takes it
  NAME.y.npz   the forward outputs in forward's order: y0, y1, … (NCHW for pnet's maps)
Weights are seeded random, BN statistics randomized and calibrated (torcharch.py), eval mode.

Configurations (CONFIGS below): the torchvision constructors where the real architecture is small
enough to commit; where it is not (efficientnet_b0, the VGGs, densenet121) the same torchvision
classes with smaller sizes (EfficientNet with width_mult 0.25; VGG via make_layers with channels / 16
and hidden 32; DenseNet(growth_rate=8, block_config=(2, 3, 4, 2), num_init_features=16, bn_size=2)).
The full sizes are checked by `make parity` (scripts/parity/torch_archs.py).
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torcharch  # noqa: E402

# name: (fixture file stem, catalog name, classes, width multiplier, input side, small configuration)
CONFIGS = [
    ("mobilenet_v3_small", "mobilenet_v3_small", 5, 0.25, 48, False),
    ("mobilenet_v3_large", "mobilenet_v3_large", 5, 0.25, 48, False),
    ("efficientnet_b0_w025", "efficientnet_b0", 5, 1.0, 48, True),
    ("vgg11_small", "vgg11", 5, 1.0, 64, True),
    ("vgg11_bn_small", "vgg11_bn", 5, 1.0, 64, True),
    ("vgg16_small", "vgg16", 5, 1.0, 64, True),
    ("squeezenet1_1", "squeezenet1_1", 5, 1.0, 48, False),
    ("densenet_small", "densenet121", 5, 1.0, 48, True),
    ("pnet", "pnet", None, 1.0, 31, False),
    ("rnet", "rnet", None, 1.0, 24, False),
    ("onet", "onet", None, 1.0, 48, False),
]


def main():
    for stem, name, classes, width, size, small in CONFIGS:
        kwargs = {} if classes is None else {"classes": classes, "width": width, "small": small}
        model = torcharch.build(name, **kwargs) if classes is not None else torcharch.build(name)
        torch.manual_seed(7)
        calibration = torch.randn(8, 3, size, size)
        torcharch.randomize(model, calibration, half=True)
        torch.manual_seed(11)
        x = torch.randn(2, 3, size, size)
        ys = torcharch.outputs(model, x)
        torch.save(torcharch.state_dict(model, half=True), os.path.join(HERE, stem + ".pt"))
        np.save(os.path.join(HERE, stem + ".x.npy"), x.numpy())
        np.savez(os.path.join(HERE, stem + ".y.npz"), **{f"y{k}": y for k, y in enumerate(ys)})
        spread = max(float(np.abs(y[0] - y[1]).max()) for y in ys)
        print(f"{stem}: params {torcharch.count(model)}, outputs {[y.shape for y in ys]}, "
              f"max|y| {max(float(np.abs(y).max()) for y in ys):.3g}, max|y0-y1| {spread:.3g}")


if __name__ == "__main__":
    main()
