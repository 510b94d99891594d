"""PyTorch → Zoo → Keras: do Keras and tf-keras load the model files Zoo writes, and do they give
PyTorch's outputs? For every NAME.keras / NAME.h5 in DIR that has a reference NAME.x.npy (NCHW
input) and NAME.y.npz (torch's outputs y0, y1, …) in DIR or in a fixture folder, the script loads
NAME.keras with keras.models.load_model (Keras 3) and NAME.h5 with tf_keras.models.load_model,
runs the NHWC-transposed input and compares each output (4-D ones transposed back to NCHW):
    |got − want| ≤ 1e-4 · (1 + max|want|)

Usage (peer venv: keras 3.15, tf-keras 2.21, tensorflow 2.21, torch 2.15):
    # the committed fixtures, written by the Swift tests:
    ZOO_KERAS_EXPORT_DIR=/tmp/rt swift test --filter KerasExportTests
    /work/venv/peers/bin/python scripts/parity/keras_roundtrip.py /tmp/rt
    # full-size architectures through the command line (makes the torch references, runs zoo convert):
    /work/venv/peers/bin/python scripts/parity/keras_roundtrip.py /tmp/rt --zoo .build/debug/zoo \
        --make resnet18 mobilenet_v2 efficientnet_lite0
Exit status 1 when any file fails to load or any output is off.
"""
import argparse
import glob
import os
import subprocess
import sys

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = [os.path.join(ROOT, "Tests", "Fixtures", d) for d in ("torchconvert", "torcharch")]

# name: (zoo convert options, input side) for --make (the torch model: torcharch.build(name, classes=5, width=…)).
MAKE = {
    "resnet18": ([], 64, 1.0),
    "mobilenet_v2": (["--width-multiplier", "0.35"], 64, 0.35),
    "squeezenet1_1": ([], 64, 1.0),
    "efficientnet_lite0": ([], 64, 1.0),
}


def make(directory, names, zoo):
    os.makedirs(directory, exist_ok=True)
    sys.path.insert(0, os.path.join(ROOT, "Tests", "Fixtures", "torcharch"))
    import torch
    import torcharch
    for name in names:
        options, size, width = MAKE[name]
        torch.manual_seed(3)  # PyTorch's initializers run in the constructor (torch seeds itself randomly at startup)
        model = torcharch.build(name, classes=5, width=width)
        torch.manual_seed(7)
        torcharch.randomize(model, torch.randn(8, 3, size, size))
        torch.manual_seed(11)
        x = torch.randn(2, 3, size, size)
        base = os.path.join(directory, name)
        torch.save(model.state_dict(), base + ".pt")
        np.save(base + ".x.npy", x.numpy())
        np.savez(base + ".y.npz", **{f"y{k}": y for k, y in enumerate(torcharch.outputs(model, x))})
        for extension in (".keras", ".h5"):
            command = [zoo, "convert", base + ".pt", "--arch", name, "--classes", "5", "--input-size", str(size), *options, base + extension]
            result = subprocess.run(command, capture_output=True, text=True)
            print(" ".join(command[1:]), "→", (result.stdout or result.stderr).strip())


def reference(directory, name):
    for folder in [directory] + FIXTURES:
        x, y = os.path.join(folder, name + ".x.npy"), os.path.join(folder, name + ".y.npz")
        if os.path.exists(x) and os.path.exists(y):
            return np.load(x), np.load(y)
    return None


def compare(model, x, want):
    got = model.predict(np.transpose(x, (0, 2, 3, 1)), verbose=0)
    got = got if isinstance(got, (list, tuple)) else [got]
    errors = []
    for k, g in enumerate(got):
        w = want[f"y{k}"]
        g = np.asarray(g)
        if g.ndim == 4:
            g = np.transpose(g, (0, 3, 1, 2))
        if g.shape != w.shape:
            return None, f"output {k}: shape {g.shape}, torch {w.shape}"
        errors.append((float(np.abs(g - w).max()), 1e-4 * (1 + float(np.abs(w).max()))))
    if len(got) != len(want.files):
        return None, f"{len(got)} outputs, torch {len(want.files)}"
    return errors, None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--zoo", help="the zoo binary, for --make")
    parser.add_argument("--make", nargs="*", default=[], choices=sorted(MAKE), help="make torch references and convert them with zoo first")
    args = parser.parse_args()
    if args.make:
        make(args.directory, args.make, args.zoo or os.path.join(ROOT, ".build", "debug", "zoo"))
    import keras
    import tf_keras
    rows, failed = [], False
    for path in sorted(glob.glob(os.path.join(args.directory, "*.keras")) + glob.glob(os.path.join(args.directory, "*.h5"))):
        name, extension = os.path.splitext(os.path.basename(path))
        ref = reference(args.directory, name)
        if ref is None:
            continue
        loader = "keras " + keras.__version__ if extension == ".keras" else "tf_keras " + tf_keras.__version__
        try:
            model = (keras.models.load_model if extension == ".keras" else tf_keras.models.load_model)(path, compile=False)
            errors, problem = compare(model, *ref)
        except Exception as error:  # a file Keras refuses is a failure to report, not a crash
            errors, problem = None, f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
        if errors is None:
            failed = True
            rows.append((name, loader, "FAIL", problem))
            continue
        worst, tolerance = max(e for e, _ in errors), min(t for _, t in errors)
        ok = all(e <= t for e, t in errors)
        failed |= not ok
        rows.append((name, loader, "ok" if ok else "FAIL", f"max |keras − torch| {worst:.2e} (tolerance {tolerance:.2e})"))
    for row in rows:
        print(f"{row[0]:<22} {row[1]:<16} {row[2]:<4} {row[3]}")
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
