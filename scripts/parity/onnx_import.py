#!/usr/bin/env python3
"""Parity of Zoo's ONNX import at full size (not run in CI; the files are too large to commit).

For each torchvision model below (1000 classes, width 1, 224 × 224; seeded weights and calibrated random BN
statistics as Tests/Fixtures/torcharch/torcharch.py, float32) and each export:
  opset 13  torch.onnx.export(dynamo=False), batch axis dynamic (Shape/Gather/Unsqueeze/Concat chains kept)
  opset 17  torch.onnx.export(dynamo=False), static shapes
  opset 18  torch.onnx.export(dynamo=True)
it writes OUT/NAME.opsetK.onnx, OUT/NAME.x.npy (2 seeded N(0, 1) images, NCHW) and ONNX Runtime's outputs, runs
`ZOO predict OUT/NAME.opsetK.onnx --input OUT/NAME.x.npy --out OUT/NAME.opsetK.zoo.npy` and compares:
pass when max |zoo − ort| <= 1e-4 · (1 + max |y|). The Markdown table is printed and written to OUT/results.md.

    /work/venv/peers/bin/python scripts/parity/onnx_import.py --out /tmp/onnximport --zoo .build/release/zoo \\
        [--only resnet18,vgg11_bn] [--opsets 13,18]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "Fixtures", "torcharch"))

MODELS = ["resnet18", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "densenet121", "squeezenet1_1", "vgg11_bn"]


def make(name, opsets, out):
    import onnxruntime as ort
    import torch
    import torcharch
    model = torcharch.build(name, classes=1000)
    torch.manual_seed(7)
    torcharch.randomize(model, torch.randn(8, 3, 224, 224))
    torch.manual_seed(11)
    x = torch.randn(2, 3, 224, 224)
    np.save(os.path.join(out, name + ".x.npy"), x.numpy())
    for opset in opsets:
        path = os.path.join(out, f"{name}.opset{opset}.onnx")
        if opset == 13:
            torch.onnx.export(model, (x,), path, opset_version=13, dynamo=False, input_names=["input"],
                              dynamic_axes={"input": {0: "batch"}})
        elif opset == 17:
            torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False, input_names=["input"])
        else:
            torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=True, input_names=["input"], external_data=False)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        np.save(os.path.join(out, f"{name}.opset{opset}.ort.npy"), session.run(None, {"input": x.numpy()})[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--zoo", required=True)
    p.add_argument("--only")
    p.add_argument("--opsets", default="13,17,18")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    opsets = [int(o) for o in args.opsets.split(",")]
    rows = []
    for name in args.only.split(",") if args.only else MODELS:
        make(name, opsets, args.out)
        for opset in opsets:
            stem = os.path.join(args.out, f"{name}.opset{opset}")
            want = np.load(stem + ".ort.npy")
            t = time.time()
            run = subprocess.run([args.zoo, "predict", stem + ".onnx", "--input", os.path.join(args.out, name + ".x.npy"),
                                  "--out", stem + ".zoo.npy"], capture_output=True, text=True)
            seconds = time.time() - t
            if run.returncode != 0:
                rows.append((name, opset, os.path.getsize(stem + ".onnx"), float(np.abs(want).max()), None, f"zoo exit {run.returncode}: {run.stderr.strip()[:200]}", seconds))
            else:
                error = float(np.abs(np.load(stem + ".zoo.npy") - want).max())
                ok = error <= 1e-4 * (1 + float(np.abs(want).max()))
                rows.append((name, opset, os.path.getsize(stem + ".onnx"), float(np.abs(want).max()), error, "pass" if ok else "FAIL", seconds))
            print(rows[-1], flush=True)
    lines = ["| model | opset | file | max\\|y\\| | max \\|zoo − ort\\| | status | zoo seconds |", "|---|---:|---:|---:|---:|---|---:|"]
    for name, opset, size, top, error, status, seconds in rows:
        lines.append(f"| {name} | {opset} | {size / 1e6:.1f} MB | {top:.3g} | {'–' if error is None else format(error, '.2e')} | {status} | {seconds:.1f} |")
    table = "\n".join(lines)
    print(table)
    open(os.path.join(args.out, "results.md"), "w").write(table + "\n")


if __name__ == "__main__":
    main()
