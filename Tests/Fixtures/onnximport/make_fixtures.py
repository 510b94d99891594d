"""ONNX import fixtures for Tests/ZooKitTests/ONNXImportParityTests.swift.

Run from the repository root with the peer venv (torch 2.15, torchvision 0.29, onnx, onnxruntime 1.32):
    /work/venv/peers/bin/python Tests/Fixtures/onnximport/make_fixtures.py
For each model below (the torchvision classes of the PyTorch-architecture fixtures, built, randomized
and BN-calibrated by ../torcharch/torcharch.py, eval mode) and each export it writes next to itself:
  NAME.opsetK.onnx   torch.onnx.export at opset K (the opsets per model in CONFIGS):
                     K = 13: the TorchScript exporter (dynamo=False), batch axis dynamic, constant
                             folding on (the Shape/Gather/Unsqueeze/Concat/Reshape chains of
                             x.view(x.size(0), -1) stay in the graph);
                     K = 17: the TorchScript exporter, static shapes (HardSwish, Clip inputs, …);
                     K = 18: the dynamo exporter (torch.export, dynamo=True; its lowest opset:
                             ReduceMean takes its axes as an input).
  NAME.x.npy         the input, 2 seeded N(0, 1) images, NCHW float32
  NAME.opsetK.y.npz  ONNX Runtime's outputs (CPUExecutionProvider) in graph order: y0, y1, …
It prints, per file, the size, the op types and the largest |ORT − torch| (the exporter's own error).
"""
import os
import sys
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "torcharch"))
import torcharch  # noqa: E402

# (fixture stem, catalog name, classes, width multiplier, input side, small configuration, opsets).
# squeezenet1_1 (3 MB a file) is left out to keep the fixtures small; --all adds it with every opset.
CONFIGS = [
    ("mobilenet_v3_large", "mobilenet_v3_large", 5, 0.25, 48, False, (13, 18)),
    ("mobilenet_v2_w025", "mobilenet_v2", 5, 0.25, 48, False, (17,)),
    ("efficientnet_b0_w025", "efficientnet_b0", 5, 1.0, 48, True, (13, 17)),
    ("densenet_small", "densenet121", 5, 1.0, 48, True, (13, 17, 18)),
    ("onet", "onet", None, 1.0, 48, False, (13, 17)),
]
EXTRA = [("squeezenet1_1", "squeezenet1_1", 5, 1.0, 48, False, (13, 17, 18))]


def export(model, x, path, opset):
    names = ["input"]
    if opset < 17:
        torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=False, input_names=names,
                          dynamic_axes={"input": {0: "batch"}}, do_constant_folding=True)
    elif opset == 17:
        torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=False, input_names=names,
                          do_constant_folding=True)
    else:
        torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=True, input_names=names,
                          external_data=False)


def main():
    only = set(sys.argv[1:]) - {"--all"}
    for stem, name, classes, width, size, small, opsets in CONFIGS + (EXTRA if "--all" in sys.argv else []):
        if only and stem not in only:
            continue
        kwargs = {} if classes is None else {"classes": classes, "width": width, "small": small}
        model = torcharch.build(name, **kwargs)
        torch.manual_seed(7)
        calibration = torch.randn(8, 3, size, size)
        torcharch.randomize(model, calibration, half=True)
        torch.manual_seed(11)
        x = torch.randn(2, 3, size, size)
        want = torcharch.outputs(model, x)
        np.save(os.path.join(HERE, stem + ".x.npy"), x.numpy())
        for opset in opsets:
            path = os.path.join(HERE, f"{stem}.opset{opset}.onnx")
            export(model, x, path, opset)
            graph = onnx.load(path)
            onnx.checker.check_model(graph)
            written = next(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx"))
            assert written == opset, f"{path}: written at opset {written}, not {opset}"
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            ys = session.run(None, {session.get_inputs()[0].name: x.numpy()})
            np.savez(os.path.join(HERE, f"{stem}.opset{opset}.y.npz"), **{f"y{k}": y for k, y in enumerate(ys)})
            error = max(float(np.abs(y - w).max()) for y, w in zip(ys, want))
            ops = Counter(n.op_type for n in graph.graph.node)
            print(f"{stem} opset {opset}: {os.path.getsize(path) / 1e6:.2f} MB, |ort - torch| {error:.2e}, "
                  f"outputs {[y.shape for y in ys]}, ops {dict(sorted(ops.items()))}")


if __name__ == "__main__":
    main()
