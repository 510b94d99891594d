#!/usr/bin/env python3
"""Parity sweep over Zoo's built-in PyTorch architectures at full size (`Architecture` in ZooKit).

For each catalog name (torchvision resnet18…152, mobilenet_v2, mobilenet_v3_small/large, efficientnet_b0, vgg11,
vgg11_bn, vgg16, squeezenet1_1, densenet121; efficientnet-lite-pytorch's efficientnet_lite0; facenet-pytorch's
pnet, rnet, onet): build the peer's module (1000 classes, width 1), randomize it with the scheme of the committed
fixtures (Tests/Fixtures/torcharch/torcharch.py: seeded weights, calibrated random BN statistics; float32 here),
save `OUT/NAME.pt` (state_dict), `OUT/NAME.x.npy` (2 seeded N(0, 1) images, NCHW) and `OUT/NAME.y.npz` (forward's
outputs y0, y1, …); then run `ZOO predict OUT/NAME.pt --arch NAME --input OUT/NAME.x.npy --out OUT/NAME.zoo.npz`
and compare every output: pass when max |zoo - torch| <= 1e-4 * (1 + max |y|). The same torch module run in
float64 on the same weights (`OUT/NAME.y64.npz`) shows how far float32 rounding alone goes: the table gives
max |torch f32 - torch f64| and max |zoo - torch f64| beside the verdict.

    /work/venv/peers/bin/python scripts/parity/torch_archs.py --out /tmp/torcharch --zoo .build/release/zoo \\
        [--only resnet18,vgg16] [--reuse]

Input side 224 for the ImageNet classifiers and pnet, 24 for rnet, 48 for onet. Each torch step and each Zoo run
is a subprocess of its own (nice'd, with a timeout), so a failure is a row of the table, not the end of the sweep.
The Markdown table is printed and written to OUT/results.md, details to OUT/results.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests", "Fixtures", "torcharch"))

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2", "mobilenet_v3_small",
         "mobilenet_v3_large", "efficientnet_b0", "efficientnet_lite0", "vgg11", "vgg11_bn", "vgg16", "squeezenet1_1",
         "densenet121", "pnet", "rnet", "onet"]
SIZES = {"rnet": 24, "onet": 48}


def make(name, out):
    """The torch side (runs in a worker process): model, state dict, input, outputs."""
    import torch
    import torcharch
    mtcnn = name in ("pnet", "rnet", "onet")
    model = torcharch.build(name) if mtcnn else torcharch.build(name, classes=1000)
    size = SIZES.get(name, 224)
    torch.manual_seed(7)
    torcharch.randomize(model, torch.randn(8, 3, size, size))
    torch.manual_seed(11)
    x = torch.randn(2, 3, size, size)
    ys = torcharch.outputs(model, x)
    torch.save(torcharch.state_dict(model), os.path.join(out, name + ".pt"))
    np.save(os.path.join(out, name + ".x.npy"), x.numpy())
    np.savez(os.path.join(out, name + ".y.npz"), **{f"y{k}": y for k, y in enumerate(ys)})
    # The same weights in float64: how far float32 rounding alone takes torch (the "torch f32 vs f64" column).
    with torch.no_grad():
        y64 = model.double()(x.double())
    y64 = list(y64) if isinstance(y64, (tuple, list)) else [y64]
    np.savez(os.path.join(out, name + ".y64.npz"), **{f"y{k}": t.numpy() for k, t in enumerate(y64)})
    params, _ = torcharch.count(model)
    json.dump({"params": params, "size": size}, open(os.path.join(out, name + ".meta.json"), "w"))


def sub(cmd, timeout, log):
    t = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        text, code = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        text, code = f"timeout after {timeout} s", -1
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n{text}\n")
    return code, text, time.time() - t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--zoo", help="the zoo binary; without it only the torch files are made")
    p.add_argument("--only", help="comma-separated catalog names")
    p.add_argument("--reuse", action="store_true", help="keep torch files already in --out")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per step")
    p.add_argument("--nice", type=int, default=10)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.worker:
        make(args.worker, args.out)
        return
    names = args.only.split(",") if args.only else ARCHS
    log = os.path.join(args.out, "sweep.log")
    results = []
    for name in names:
        row = {"model": name}
        files = [os.path.join(args.out, name + s) for s in (".pt", ".x.npy", ".y.npz", ".meta.json", ".y64.npz")]
        if not (args.reuse and all(map(os.path.exists, files))):
            code, text, secs = sub(["nice", "-n", str(args.nice), sys.executable, os.path.abspath(__file__),
                                    "--out", args.out, "--worker", name], args.timeout, log)
            row["torch_seconds"] = round(secs, 1)
            if code != 0:
                row["status"] = "torch failed: " + text.strip().splitlines()[-1][:200] if text.strip() else "torch failed"
                results.append(row)
                print(row, flush=True)
                continue
        row.update(json.load(open(files[3])))
        want = np.load(files[2])
        ys = [want[f"y{k}"] for k in range(len(want.files))]
        row["max_y"] = max(float(np.abs(y).max()) for y in ys)
        row["tolerance"] = 1e-4 * (1 + row["max_y"])
        exact = np.load(files[4])
        y64 = [exact[f"y{k}"] for k in range(len(ys))]
        row["torch_f32_vs_f64"] = max(float(np.abs(y - e).max()) for y, e in zip(ys, y64))
        if args.zoo:
            zoo_out = os.path.join(args.out, name + ".zoo.npz")
            if os.path.exists(zoo_out):
                os.remove(zoo_out)
            code, text, secs = sub(["nice", "-n", str(args.nice), args.zoo, "predict", files[0], "--arch", name,
                                    "--input", files[1], "--out", zoo_out], args.timeout, log)
            row["zoo_seconds"] = round(secs, 1)
            if code != 0 or not os.path.exists(zoo_out):
                row["status"] = f"zoo exit {code}: " + " ".join(text.strip().splitlines()[-2:])[:300]
            else:
                got = np.load(zoo_out)
                errors, errors64 = [], []
                for k, (y, e) in enumerate(zip(ys, y64)):
                    g = got[f"output_{k}"]
                    errors.append(float(np.abs(g - y).max()) if g.shape == y.shape else float("inf"))
                    errors64.append(float(np.abs(g - e).max()) if g.shape == e.shape else float("inf"))
                row["max_error"] = max(errors)
                row["zoo_vs_f64"] = max(errors64)
                row["status"] = "pass" if row["max_error"] <= row["tolerance"] else "FAIL"
        results.append(row)
        print(row, flush=True)
        json.dump(results, open(os.path.join(args.out, "results.json"), "w"), indent=1)
    lines = ["| model | input | params | max\\|y\\| | max \\|zoo − torch\\| | tolerance | status "
             "| torch f32 vs f64 | zoo vs f64 |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|"]

    def fmt(r, key, spec=".2e"):
        return format(r[key], spec) if key in r else "–"
    for r in results:
        params = f"{r['params'] / 1e6:.2f}M" if "params" in r else "–"
        lines.append(f"| {r['model']} | {r.get('size', '–')} | {params} | {fmt(r, 'max_y', '.3g')} | {fmt(r, 'max_error')} "
                     f"| {fmt(r, 'tolerance')} | {r.get('status', 'made')} | {fmt(r, 'torch_f32_vs_f64')} | {fmt(r, 'zoo_vs_f64')} |")
    table = "\n".join(lines)
    print(table)
    open(os.path.join(args.out, "results.md"), "w").write(table + "\n")


if __name__ == "__main__":
    main()
