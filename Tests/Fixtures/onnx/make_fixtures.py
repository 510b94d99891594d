#!/usr/bin/env python3
"""Makes the ONNX fixtures of Tests/ZooFormatTests/ONNX*.swift, and checks the files Zoo's
ONNX writer made with onnx's own checker.

    /work/venv/peers/bin/python Tests/Fixtures/onnx/make_fixtures.py

Needs torch, onnx (pip install onnx; 1.23 was used), onnxscript and numpy. Files:

  tiny_op13.onnx, tiny_op17.onnx   a small CNN (conv, batch norm, relu, pool, linear) exported
                                   by torch.onnx.export (TorchScript exporter) at opsets 13, 17
  tiny_op18_dynamo.onnx            the same model through the dynamo exporter (opset 18)
  tiny.expected.npz                the initializers of tiny_op17.onnx as numpy_helper.to_array reads them
  tiny_op13.expected.npz           the same for tiny_op13.onnx (the exporter names them differently)
  dtypes_raw.onnx, dtypes_typed.onnx   one initializer per element type, made by
                                   onnx.helper.make_tensor with raw=True (raw_data) and raw=False
                                   (float_data / int32_data / int64_data / double_data / uint64_data)
  dtypes.expected.npz              their values: the numpy array, or for types numpy lacks
                                   (bfloat16, float8, 4-bit) the stored bits as uint8/uint16
  external/tiny.onnx + tiny.onnx.data   tiny_op17 saved with save_as_external_data=True,
                                   all_tensors_to_one_file=True, size_threshold=0
  subgraph.onnx                    an If node whose branches hold graphs (and a tensor attribute)

Then every Tests/Fixtures/onnx/zoo_*.onnx (written by Zoo's ONNXWriter: ONNXWriterTests writes
them when ZOO_WRITE_ONNX_FIXTURES=1) is checked with onnx.checker.check_model(full_check=True)
and run by onnxruntime (see check_zoo_files); `--check-only` does only that. Last run (onnx 1.23.2,
onnxruntime 1.32):
  zoo_external.onnx: onnx.checker.check_model(full_check=True) passed; onnxruntime gives tiny_op17.onnx's logits exactly
  zoo_tiny_op17.onnx: onnx.checker.check_model(full_check=True) passed; onnxruntime gives tiny_op17.onnx's logits exactly
  zoo_weights.onnx: onnx.checker.check_model(full_check=True) passed; onnxruntime returns its 4 initializers
"""
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

here = Path(__file__).resolve().parent
torch.manual_seed(0)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def initializers(path):
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t, base_dir=str(path.parent)) for t in model.graph.initializer}


def export_tiny():
    model = Tiny().eval()
    with torch.no_grad():  # non-trivial batch norm statistics
        model.bn.running_mean.copy_(torch.randn(4) * 0.1)
        model.bn.running_var.copy_(torch.rand(4) + 0.5)
    x = torch.randn(1, 3, 8, 8)
    for opset in (13, 17):
        path = here / f"tiny_op{opset}.onnx"
        torch.onnx.export(model, (x,), str(path), opset_version=opset, dynamo=False,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    torch.onnx.export(model, (x,), str(here / "tiny_op18_dynamo.onnx"), opset_version=18, dynamo=True,
                      input_names=["input"], output_names=["logits"], external_data=False)
    np.savez(here / "tiny.expected.npz", **initializers(here / "tiny_op17.onnx"))
    np.savez(here / "tiny_op13.expected.npz", **initializers(here / "tiny_op13.onnx"))
    np.savez(here / "tiny_op18_dynamo.expected.npz", **initializers(here / "tiny_op18_dynamo.onnx"))
    external = here / "external"
    external.mkdir(exist_ok=True)
    onnx.save(onnx.load(str(here / "tiny_op17.onnx")), str(external / "tiny.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="tiny.onnx.data", size_threshold=0)


def dtype_values():
    """name -> (TensorProto type, numpy values, expected array as stored in dtypes.expected.npz)."""
    rng = np.random.default_rng(1)
    floats = (rng.standard_normal(6) * 3).astype(np.float32)
    values = {
        "float32": (TensorProto.FLOAT, floats.reshape(2, 3)),
        "uint8": (TensorProto.UINT8, np.array([0, 1, 127, 128, 254, 255], np.uint8).reshape(2, 3)),
        "int8": (TensorProto.INT8, np.array([-128, -1, 0, 1, 100, 127], np.int8).reshape(3, 2)),
        "uint16": (TensorProto.UINT16, np.array([0, 1, 65535, 300], np.uint16)),
        "int16": (TensorProto.INT16, np.array([-32768, -2, 7, 32767], np.int16)),
        "int32": (TensorProto.INT32, np.array([-2**31, -5, 0, 2**31 - 1], np.int32)),
        "int64": (TensorProto.INT64, np.array([-2**63, -1, 3, 2**63 - 1], np.int64).reshape(2, 2)),
        "bool": (TensorProto.BOOL, np.array([True, False, True], np.bool_)),
        "float16": (TensorProto.FLOAT16, np.array([0.5, -2.25, 65504, 6e-8], np.float16)),
        "float64": (TensorProto.DOUBLE, np.array([np.pi, -1e300, 5e-324], np.float64)),
        "uint32": (TensorProto.UINT32, np.array([0, 1, 2**32 - 1], np.uint32)),
        "uint64": (TensorProto.UINT64, np.array([0, 2**63, 2**64 - 1], np.uint64)),
        "scalar": (TensorProto.FLOAT, np.array(1.5, np.float32)),
        "empty": (TensorProto.FLOAT, np.zeros((0, 3), np.float32)),
    }
    return values


def make_dtypes():
    import ml_dtypes
    expected = {}
    for raw in (True, False):
        tensors = []
        for name, (kind, array) in dtype_values().items():
            tensors.append(helper.make_tensor(name, kind, array.shape, array.flatten().tolist() if not raw else array.tobytes(), raw=raw))
            expected[name] = array
        # Types numpy lacks: bfloat16, float8 e4m3fn, int4 (packed two per byte), complex64.
        bf16 = np.array([1.0, -0.5, 3.140625, 1e30], np.float32)
        tensors.append(helper.make_tensor("bfloat16", TensorProto.BFLOAT16, [4], bf16.astype(ml_dtypes.bfloat16).tobytes() if raw else bf16.tolist(), raw=raw))
        expected["bfloat16"] = bf16.astype(ml_dtypes.bfloat16).view(np.uint16)
        f8 = np.array([0.5, -2.0, 448.0], np.float32)
        tensors.append(helper.make_tensor("float8e4m3fn", TensorProto.FLOAT8E4M3FN, [3], f8.astype(ml_dtypes.float8_e4m3fn).tobytes() if raw else f8.tolist(), raw=raw))
        expected["float8e4m3fn"] = f8.astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
        i4 = np.array([-8, 7, 1], np.int8)
        packed = np.array([(-8 & 0xF) | (7 << 4), 1], np.uint8)
        tensors.append(helper.make_tensor("int4", TensorProto.INT4, [3], packed.tobytes() if raw else i4.tolist(), raw=raw))
        expected["int4"] = packed
        c64 = np.array([1 + 2j, -3.5 - 0.25j], np.complex64)
        tensors.append(helper.make_tensor("complex64", TensorProto.COMPLEX64, [2], c64.tobytes() if raw else c64.tolist(), raw=raw))
        expected["complex64"] = c64.view(np.float32)
        if not raw:
            tensors.append(helper.make_tensor("labels", TensorProto.STRING, [2], [b"cat", "chat \u00e9".encode()]))
        out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3])
        node = helper.make_node("Identity", ["float32"], ["out"], name="copy")
        graph = helper.make_graph([node], "dtypes", [], [out], initializer=tensors)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], producer_name="make_fixtures.py")
        model.ir_version = 10
        onnx.checker.check_model(model, full_check=True)
        path = here / ("dtypes_raw.onnx" if raw else "dtypes_typed.onnx")
        onnx.save(model, str(path))
        # The values as onnx reads them back equal what was written.
        for tensor in onnx.load(str(path)).graph.initializer:
            if tensor.data_type in (TensorProto.STRING,):
                continue
            got = numpy_helper.to_array(tensor)
            want = expected[tensor.name]
            if tensor.data_type == TensorProto.BFLOAT16:
                got = got.view(np.uint16)
            elif tensor.data_type == TensorProto.FLOAT8E4M3FN:
                got = got.view(np.uint8)
            elif tensor.data_type == TensorProto.INT4:
                got = np.frombuffer(tensor.raw_data, np.uint8) if raw else want
            elif tensor.data_type == TensorProto.COMPLEX64:
                got = got.view(np.float32)
            assert np.array_equal(got.reshape(-1).view(np.uint8), np.ascontiguousarray(want).reshape(-1).view(np.uint8)), tensor.name
    np.savez(here / "dtypes.expected.npz", **expected)


def make_subgraph():
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    then_const = helper.make_node("Constant", [], ["a"], value=helper.make_tensor("a", TensorProto.FLOAT, [2], [1.0, 2.0]))
    else_const = helper.make_node("Constant", [], ["b"], value_floats=[3.0, 4.0])
    then_graph = helper.make_graph([then_const], "then", [], [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])])
    else_graph = helper.make_graph([else_const], "else", [], [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2])])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_graph, else_branch=else_graph, name="choose")
    graph = helper.make_graph([node], "subgraph", [cond], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_fixtures.py")
    model.ir_version = 8
    helper.set_model_props(model, {"labels": "cat,dog", "author": "zoo"})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(here / "subgraph.onnx"))


def check_zoo_files():
    """Zoo's writer's files: onnx's checker; onnxruntime runs them and gives what the originals give
    (the tensors-only model: its initializers; the rewritten torch exports: tiny_op17's logits)."""
    import onnxruntime as ort
    reference = ort.InferenceSession(str(here / "tiny_op17.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 8)).astype(np.float32)
    for path in sorted(here.glob("zoo_*.onnx")):
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
        note = f"{path.name}: onnx.checker.check_model(full_check=True) passed"
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        if not model.graph.input:
            outputs = session.run(None, {})
            expected = initializers(path)
            assert all(np.array_equal(got, expected[o.name]) for got, o in zip(outputs, model.graph.output))
            note += f"; onnxruntime returns its {len(outputs)} initializers"
        else:
            got = session.run(None, {"input": x})[0]
            want = reference.run(None, {"input": x})[0]
            assert np.array_equal(got, want), (got, want)
            note += "; onnxruntime gives tiny_op17.onnx's logits exactly"
        print(note)


if __name__ == "__main__":
    if "--check-only" not in sys.argv:
        export_tiny()
        make_dtypes()
        make_subgraph()
    check_zoo_files()
    for path in sorted(here.rglob("*.onnx*")):
        print(f"{path.relative_to(here)}: {path.stat().st_size} bytes")
