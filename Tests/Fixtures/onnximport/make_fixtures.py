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
It also writes, with onnx.helper, small graphs:
  unsupported.onnx   Conv → Erf → LRN → Erf, and TopK (opset 17): Erf ×2, LRN ×1 and TopK ×1 unsupported
  cycle.onnx         two Relu nodes taking each other's output (written unchecked: the checker refuses it)
  labeled.onnx       Conv → GlobalAveragePool → Flatten → Gemm → Softmax (3 classes) whose metadata_props
                     carry Zoo's zoo.labels and zoo.preprocessing (as `zoo convert --to onnx` writes them)
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


def small_graph_fixtures():
    from onnx import TensorProto, helper, numpy_helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, 8, 2])
    w = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Erf", ["c"], ["e1"], name="erf1"),
        helper.make_node("LRN", ["e1"], ["l"], name="lrn", size=3),
        helper.make_node("Erf", ["l"], ["e2"], name="erf2"),
        helper.make_node("TopK", ["c", "k"], ["y", "i"], name="topk"),
    ]
    graph = helper.make_graph(nodes, "unsupported", [x], [y, helper.make_tensor_value_info("e2", TensorProto.FLOAT, ["batch", 4, 8, 8])], [w, k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_fixtures.py")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "unsupported.onnx"))
    cycle = helper.make_graph([
        helper.make_node("Relu", ["b"], ["a"], name="p"),
        helper.make_node("Relu", ["a"], ["b"], name="q"),
        helper.make_node("Add", ["x", "b"], ["y"], name="r"),
    ], "cycle", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 8, 8])])
    onnx.save(helper.make_model(cycle, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(HERE, "cycle.onnx"))
    rng = np.random.default_rng(5)
    labeled = helper.make_graph([
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["z"], name="fc", transB=1),
        helper.make_node("Softmax", ["z"], ["y"], name="softmax", axis=1),
    ], "labeled", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])], [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "cw"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "cb"),
        numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "fw"),
        numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "fb"),
    ])
    model = helper.make_model(labeled, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_fixtures.py")
    helper.set_model_props(model, {
        "zoo.labels": '["cat", "dog", "eel"]',
        "zoo.preprocessing": '{"shape": [8, 8, 3], "preprocessing": {"scale": 0.00392156862745098, "offset": 0}}',
    })
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "labeled.onnx"))


def main():
    small_graph_fixtures()
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
