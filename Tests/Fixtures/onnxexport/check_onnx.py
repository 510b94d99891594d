"""Checks the ONNX files `zoo convert` writes, with the real peers, and records what the Swift test compares.

Run from the repository root after `swift build --product zoo` (ZOO=path overrides .build/debug/zoo):
    ZOO_ONNX_EXPORT_DIR=/tmp/onnxw swift test --filter ONNXExportTests   (writes the files of the models
        the command line cannot build, see CASES)
    /work/venv/peers/bin/python Tests/Fixtures/onnxexport/check_onnx.py --written /tmp/onnxw [MODEL ...]
        (default: every model)
Needs onnx (pip install onnx; 1.23.2 here) and onnxruntime (1.32) in the peer venv.

For every model in CASES and every (layout, opset) in its combinations it runs
    zoo convert SRC OUT.onnx ARGS --opset N [--channels-first]
into a temporary folder, then
  - onnx.checker.check_model(OUT, full_check=True) (type and shape inference included),
  - ONNX Runtime (CPU, all graph optimizations off so the file's own operators run) on the fixture's input,
    NHWC, or NCHW for --channels-first (maps in the outputs come back in the same layout),
  - compares ORT's outputs with the peer's (Keras' or PyTorch's, from the fixture's npz) as a cross-check.
It writes next to itself:
  expected.json     per combination: the SHA-256 of the file zoo wrote, its size, node count, the checker's
                    verdict, ORT's max |ORT - peer| and the peer's max |y|
  ort_outputs.npz   ORT's outputs, keys "<model>.<layout>.<opset>.y<k>" (float32, as ORT returns them)
The Swift test (ONNXExportTests) writes the same files in memory, checks that their SHA-256 equals the one
recorded here (so the file it writes is the file the checker and ORT validated) and that Zoo's own
prediction equals ORT's stored outputs to 1e-4 (1 + max|y|).
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ZOO = os.environ.get("ZOO", os.path.join(ROOT, ".build", "debug", "zoo"))
FIX = os.path.join(ROOT, "Tests", "Fixtures")

BASE = [("nhwc", 17), ("nchw", 17), ("nhwc", 13), ("nchw", 13)]
EXTRA = BASE + [("nhwc", 14), ("nchw", 18), ("nhwc", 20), ("nchw", 21)]

SMALL = [("nhwc", 17), ("nchw", 13)]


def npz_xs(path):
    """The inputs of a fixture npz: x, or x0, x1, … in the model's input order."""
    def load():
        data = np.load(path)
        keys = ["x"] if "x" in data.files else sorted((k for k in data.files if k.startswith("x")), key=lambda k: (len(k), k))
        return [data[k] for k in keys]
    return load


def npz_ys(path):
    def load():
        data = np.load(path)
        return [data[k] for k in sorted((k for k in data.files if k.startswith("y")), key=lambda k: (len(k), k))]
    return load


def npy_x(path):
    return lambda: [np.load(path)]


def keras_app(stem, combos):
    """A model of Tests/Fixtures/kerasapps (its npz holds the inputs and Keras' outputs)."""
    source = f"{FIX}/kerasapps/{stem}" + ("" if "." in stem else ".keras")
    npz = f"{FIX}/kerasapps/{stem.split('.')[0]}.npz"
    return (source, [], npz_xs(npz), "nhwc", npz_ys(npz), combos)


def torch_arch(stem, args, combos):
    """A state dict of Tests/Fixtures/torcharch with the `--arch` options that build its network."""
    base = f"{FIX}/torcharch/{stem}"
    return (base + ".pt", args, npy_x(base + ".x.npy"), "nchw", npz_ys(base + ".y.npz"), combos)


# name: (source, extra convert args, inputs loader, input layout, peer outputs loader, combinations)
CASES = {
    "small_graph": (f"{HERE}/small_graph.keras", [], npy_x(f"{HERE}/small_graph.x.npy"), "nhwc",
                    npz_ys(f"{HERE}/small_graph.y.npz"), EXTRA),
    "ops": keras_app("ops", EXTRA),
    "mobilenetv2_a035": keras_app("mobilenetv2_a035", BASE),
    "mobilenetv3small_a075": keras_app("mobilenetv3small_a075", BASE),
    "mobilenet_v3_small": torch_arch("mobilenet_v3_small", ["--arch", "mobilenet_v3_small", "--classes", "5",
                                                            "--width-multiplier", "0.25", "--input-size", "48"], BASE),
    "squeezenet1_1": torch_arch("squeezenet1_1", ["--arch", "squeezenet1_1", "--classes", "5", "--input-size", "48"], BASE),
    "pnet": torch_arch("pnet", ["--arch", "pnet", "--input-size", "31"], BASE),
    # One NHWC file at the default opset and one NCHW file at 13 for the other fixtures the CLI can load.
    "mobilenet_v3_large": torch_arch("mobilenet_v3_large", ["--arch", "mobilenet_v3_large", "--classes", "5",
                                                            "--width-multiplier", "0.25", "--input-size", "48"], SMALL),
    "onet": torch_arch("onet", ["--arch", "onet"], SMALL),
    "rnet": torch_arch("rnet", ["--arch", "rnet"], SMALL),
    "mobilenet_a025": keras_app("mobilenet_a025", SMALL),
    "nested": keras_app("nested", SMALL),
    "nested_sequential": keras_app("nested_sequential", SMALL),
    "multi_io": keras_app("multi_io", SMALL),
    "shared": keras_app("shared", SMALL),
    "operators": keras_app("operators", SMALL),
    "operators_extra": keras_app("operators_extra", SMALL),
    "app_layers": keras_app("app_layers", SMALL),
    "fer": keras_app("fer/emotion_model.hdf5", SMALL),
    # Configurations the command line cannot build (custom widths): the files ONNXExportTests wrote (--written DIR).
    "vgg11_bn_small": torch_arch("vgg11_bn_small", None, SMALL),
    "vgg16_small": torch_arch("vgg16_small", None, SMALL),
    "densenet_small": torch_arch("densenet_small", None, SMALL),
    "efficientnet_b0_w025": torch_arch("efficientnet_b0_w025", None, SMALL),
    # PyTorch's pooling conventions (ceil mode overhanging the padding, count_include_pad), a network the Swift
    # test builds and writes with its input; the peer is torch.nn.functional on the same input.
    "pooling_conventions": (None, None, lambda: [np.load(os.path.join(WRITTEN[0], "pooling_conventions.x.npy"))], "nhwc",
                            lambda: torch_pools(np.load(os.path.join(WRITTEN[0], "pooling_conventions.x.npy"))), SMALL),
    # Every activation (ONNXExportTests.activations) on a map, at the opsets where their ONNX forms change.
    "activations": (None, None, lambda: [np.load(os.path.join(WRITTEN[0], "activations.x.npy"))], "nhwc",
                    lambda: torch_activations(np.load(os.path.join(WRITTEN[0], "activations.x.npy"))),
                    [("nhwc", 13), ("nchw", 14), ("nhwc", 17), ("nchw", 18), ("nhwc", 20), ("nchw", 21)]),
}
WRITTEN = [None]


def torch_activations(x):
    """ONNXExportTests.activations in its order, channels last."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(x)
    ys = [F.relu(t), F.relu6(t), F.leaky_relu(t, 0.2), F.elu(t, 0.7), F.selu(t), torch.sigmoid(t), torch.tanh(t),
          F.softmax(t, -1), F.log_softmax(t, -1), F.hardsigmoid(t), torch.clamp(0.2 * t + 0.5, 0, 1), F.hardswish(t),
          F.silu(t), F.gelu(t), F.gelu(t, approximate="tanh"), F.softplus(t), F.softsign(t), F.mish(t), torch.exp(t)]
    return [y.numpy() for y in ys]


def torch_pools(x):
    """avg (count_include_pad), max, avg (not) of kernel 3, stride 2, padding 1, ceil mode, NHWC in and out."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    ys = [F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=True), F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
          F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False)]
    return [y.numpy().transpose(0, 2, 3, 1) for y in ys]


def to_layout(a, have, want):
    if a.ndim != 4 or have == want:
        return a
    return a.transpose(0, 3, 1, 2) if want == "nchw" else a.transpose(0, 2, 3, 1)


def main():
    arguments = sys.argv[1:]
    written = None
    if "--written" in arguments:
        k = arguments.index("--written")
        written = os.path.abspath(arguments[k + 1])
        WRITTEN[0] = written
        del arguments[k:k + 2]
    only = set(arguments)  # model names: re-check only these, keeping the others' records
    expected, outputs = {}, {}
    if only and os.path.exists(os.path.join(HERE, "expected.json")):
        expected = {k: v for k, v in json.load(open(os.path.join(HERE, "expected.json"))).items() if k.split(".")[0] not in only}
        stored = np.load(os.path.join(HERE, "ort_outputs.npz"))
        outputs = {k: stored[k] for k in stored.files if k.split(".")[0] not in only}
    failures = 0
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    with tempfile.TemporaryDirectory() as tmp:
        for name, (source, args, load_x, x_layout, load_ys, combos) in CASES.items():
            if only and name not in only:
                continue
            if args is None and written is None:
                print(f"{name}: skipped (give --written DIR, the ZOO_ONNX_EXPORT_DIR of the Swift test)")
                failures += 1
                continue
            xs, ys = [x.astype(np.float32) for x in load_x()], load_ys()
            for layout, opset in combos:
                key = f"{name}.{layout}.{opset}"
                if args is None:  # written by ONNXExportTests
                    path = os.path.join(written, key + ".onnx")
                else:
                    path = os.path.join(tmp, key + ".onnx")
                    command = [ZOO, "convert", source, path, *args, "--opset", str(opset)] + (["--channels-first"] if layout == "nchw" else [])
                    run = subprocess.run(command, capture_output=True, text=True)
                    if run.returncode != 0:
                        print(f"{key}: zoo convert failed ({run.returncode}): {run.stderr.strip()}")
                        failures += 1
                        continue
                data = open(path, "rb").read()
                model = onnx.load(path)
                try:
                    onnx.checker.check_model(path, full_check=True)
                    verdict = "ok"
                except Exception as error:  # noqa: BLE001 (report every checker failure)
                    verdict = f"failed: {error}"
                    failures += 1
                session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                got = session.run(None, {i.name: to_layout(x, x_layout, layout) for i, x in zip(session.get_inputs(), xs)})
                worst, scale = 0.0, 0.0
                for k, (g, want) in enumerate(zip(got, ys)):
                    outputs[f"{key}.y{k}"] = g.astype(np.float32)
                    g_peer = to_layout(g, layout, x_layout)
                    if g_peer.shape != want.shape:
                        print(f"{key}: output {k} shape {g_peer.shape}, the peer's {want.shape}")
                        failures += 1
                        continue
                    worst = max(worst, float(np.abs(g_peer - want).max()))
                    scale = max(scale, float(np.abs(want).max()))
                expected[key] = {
                    "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "nodes": len(model.graph.node),
                    "ir_version": model.ir_version, "checker": verdict, "ort_vs_peer_max_abs": worst, "peer_max_abs": scale,
                    "metadata": {p.key: p.value for p in model.metadata_props},
                }
                print(f"{key}: {len(data)} bytes, {len(model.graph.node)} nodes, checker {verdict}, "
                      f"max|ORT - peer| {worst:.3g} (max|y| {scale:.3g})")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    np.savez(os.path.join(HERE, "ort_outputs.npz"), **outputs)
    print(f"{len(expected)} files checked, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
