"""GELU as torch.onnx.export writes it before opset 20 (Div by sqrt 2, Erf, Add 1, Mul x, Mul 0.5)
and ONNX Runtime's outputs: `gelu_erf_op17.onnx`, `gelu_erf.x.npy`, `gelu_erf.y.npy`.

    /work/venv/peers/bin/python Tests/Fixtures/onnximport/make_gelu_fixture.py
"""
import os

import numpy as np
import onnx
import onnxruntime
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.gelu = torch.nn.GELU()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        y = self.gelu(self.conv(x))
        return self.fc(torch.nn.functional.gelu(y.mean((2, 3))))


net = Net().eval()
x = torch.randn(2, 3, 6, 6)
path = os.path.join(here, "gelu_erf_op17.onnx")
torch.onnx.export(net, (x,), path, opset_version=17, dynamo=False, input_names=["x"], output_names=["y"])
model = onnx.load(path)
print(sorted({n.op_type for n in model.graph.node}))
y = onnxruntime.InferenceSession(path).run(None, {"x": x.numpy()})[0]
np.save(os.path.join(here, "gelu_erf.x.npy"), x.numpy())
np.save(os.path.join(here, "gelu_erf.y.npy"), y)
print("max |ort - torch|", np.abs(y - net(x).detach().numpy()).max())
