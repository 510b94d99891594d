"""Fixtures for Tests/ZooKitTests/KerasExportTests.swift (PyTorch → Keras model conversion).

Run from the repository root with the peer venv (torch 2.15, torchvision 0.29):
    /work/venv/peers/bin/python Tests/Fixtures/torchconvert/make_fixtures.py
Writes next to itself, for each configuration below:
  NAME.pt      torch.save(model.state_dict()), floating tensors as float16 (the model computes
               with the same rounded values; see ../torcharch/torcharch.py)
  NAME.x.npy   2 seeded N(0, 1) images, NCHW float32
  NAME.y.npz   the forward outputs y0, … (logits)
Seeded random weights, calibrated random BN statistics (torcharch.randomize), eval mode.

resnet18_w8: torchvision's ResNet forward, BasicBlock and _make_layer with blocks [2, 2, 2, 2] and a
stem of 8 channels instead of 64 (stages 8, 16, 32, 64; torchvision's resnet18 is 11.7M parameters,
too large to commit); module paths are resnet18's. mobilenet_v2_035: torchvision mobilenet_v2
(width_mult=0.35). Both 5 classes, 48 × 48 inputs (stride-2 convolutions on odd sizes: 3 → 2).
log_softmax.keras: a tiny Keras 3 model ending in Activation("log_softmax"), which tf-keras has no
activation for: `zoo convert log_softmax.keras out.h5` must refuse it (exit 65) and write nothing.

Zoo builds them as ResNet.build(width: 8) and Architecture.mobilenetV2.build(classes: 5,
widthMultiplier: 0.35, inputSize: 48). vgg11_bn_small32: ../torcharch's small vgg11_bn (channels / 16,
hidden 32) at 32 × 32, where AdaptiveAvgPool2d((7, 7)) takes a 1 × 1 map (a nearest upsampling,
which tf-keras can express; at 64 × 64 its uneven 2 × 2 → 7 × 7 windows need Keras 3's
AdaptiveAveragePooling2D).
"""
import os
import sys

import numpy as np
import torch
import torchvision
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "torcharch"))
import torcharch  # noqa: E402


class NarrowResNet(torchvision.models.resnet.ResNet):
    """torchvision's ResNet with a `base`-channel stem (torchvision fixes it at 64)."""

    def __init__(self, layers, base, num_classes):
        nn.Module.__init__(self)
        block = torchvision.models.resnet.BasicBlock
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = base, 1, 1, 64
        self.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, base, layers[0])
        self.layer2 = self._make_layer(block, base * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, base * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, base * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base * 8, num_classes)


# stem: (module, input side)
CONFIGS = {
    "resnet18_w8": (lambda: NarrowResNet([2, 2, 2, 2], 8, 5), 48),
    "mobilenet_v2_035": (lambda: torchvision.models.mobilenet_v2(num_classes=5, width_mult=0.35), 48),
    "vgg11_bn_small32": (lambda: torcharch.build("vgg11_bn", classes=5, small=True), 32),
}


def main():
    for stem, (make, SIZE) in CONFIGS.items():
        torch.manual_seed(3)  # PyTorch's initializers run in the constructor
        model = make()
        torch.manual_seed(7)
        torcharch.randomize(model, torch.randn(8, 3, SIZE, SIZE), half=True)
        torch.manual_seed(11)
        x = torch.randn(2, 3, SIZE, SIZE)
        ys = torcharch.outputs(model, x)
        torch.save(torcharch.state_dict(model, half=True), os.path.join(HERE, stem + ".pt"))
        np.save(os.path.join(HERE, stem + ".x.npy"), x.numpy())
        np.savez(os.path.join(HERE, stem + ".y.npz"), **{f"y{k}": y for k, y in enumerate(ys)})
        print(f"{stem}: params {torcharch.count(model)}, outputs {[y.shape for y in ys]}, max|y| {max(float(np.abs(y).max()) for y in ys):.3g}")


def keras_fixture():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    keras.utils.set_random_seed(5)
    x = keras.Input((4, 4, 3), name="image")
    y = keras.layers.Conv2D(3, 1, name="conv")(x)
    y = keras.layers.GlobalAveragePooling2D(name="pool")(y)
    y = keras.layers.Activation("log_softmax", name="log_probabilities")(y)
    keras.Model(x, y, name="log_softmax").save(os.path.join(HERE, "log_softmax.keras"))


if __name__ == "__main__":
    keras_fixture()
    main()
