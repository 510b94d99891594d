"""Fixtures of the registered MTCNN stages (mtcnn-pnet, mtcnn-rnet, mtcnn-onet) on a real face.

Weights: the same networks' torch fixtures (`../torcharch/{pnet,rnet,onet}.pt`, what the Swift
test imports `--like` the shipped entries); `--real` uses the wheel's pretrained weights instead
(prints the face probabilities quoted in the README; not saved).

The face: scikit-image's `astronaut.png` (Eileen Collins, NASA, public domain), the square
around her face, saved as PNG. Each stage's expected outputs come from facenet-pytorch 2.6.0's
own PNet/RNet/ONet (weights from its wheel) on the picture as Zoo prepares it for the registry
entry (the resized pixels saved too, `astronaut_face_S.npy`, for `zoo predict --input --preprocess`): PIL's bilinear resize (antialiased) to the stage's size, RGB, (x - 127.5) / 128 — the
normalization facenet-pytorch's `detect_face` applies.

    /work/venv/peers/bin/python Tests/Fixtures/mtcnn/make_fixtures.py
"""
import os
import sys

import numpy as np
import torch
from PIL import Image
from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
from skimage import data

here = os.path.dirname(os.path.abspath(__file__))
face = data.astronaut()[20:180, 150:310]  # 160x160 RGB around the face
Image.fromarray(face).save(os.path.join(here, "astronaut_face.png"), optimize=True)

torch.set_grad_enabled(False)
outputs = {}
for name, net, size in [("pnet", PNet(), 12), ("rnet", RNet(), 24), ("onet", ONet(), 48)]:
    if "--real" not in sys.argv:
        net.load_state_dict(torch.load(os.path.join(here, "..", "torcharch", f"{name}.pt")))
    net.eval()
    picture = Image.open(os.path.join(here, "astronaut_face.png")).convert("RGB").resize((size, size), Image.BILINEAR)
    pixels = np.asarray(picture, dtype=np.float32)
    np.save(os.path.join(here, f"astronaut_face_{size}.npy"), pixels[None])  # [1, s, s, 3] RGB 0..255
    x = (pixels - 127.5) * 0.0078125
    result = net(torch.from_numpy(x).permute(2, 0, 1)[None])
    for k, tensor in enumerate(result):
        value = tensor.numpy()
        if value.ndim == 4:  # PNet's maps, NCHW -> NHWC
            value = value.transpose(0, 2, 3, 1)
        outputs[f"{name}_{k}"] = value.astype(np.float32)
        print(name, k, value.reshape(-1)[:10])
if "--real" not in sys.argv:
    np.savez(os.path.join(here, "astronaut_face_expected.npz"), **outputs)
