#!/usr/bin/env python3
"""Parity sweep over every Keras Application in Keras 3.15: build, randomize, save, (optionally) run Zoo, compare.

For each application: build it with weights=None in Keras 3 at the smallest input it allows (or --size),
seeded, with BatchNormalization made non-trivial (see README.md), save `NAME.keras` and `NAME.npz` (x, y);
then build the same application with tf_keras.applications, copy the weights layer by layer and save
`NAME_k2.h5` and `NAME_k2.npz`. With --zoo, run `ZOO predict FILE --input x.npy --out y.npy` on both files and
compare with the peer's y: a file passes when max |zoo - keras| <= 1e-4 * (1 + max |y|), and is marked
"pass (peer spread)" when it misses that but stays within twice the distance between Keras 3's and tf-keras's own
outputs on the same weights (deep randomized BN networks amplify float32 rounding; see README.md).

    KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 python scripts/parity/keras_apps.py --out /tmp/apps \\
        --only MobileNetV2,ResNet50,EfficientNetB0 [--zoo .build/release/zoo] [--reuse]

Every framework step runs in a subprocess of its own (one per model and framework), so one model failing,
crashing or running out of memory does not stop the sweep. The table is printed at the end and written to
OUT/results.md, the details to OUT/results.json.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

SEED = 1234
N_CALIBRATION = 32  # images for the BN statistics; with 4 or 8, networks ending on 1x1 maps blow up (see README)

# name: (module holding preprocess_input, smallest input side Keras allows with weights=None, notes)
# preprocess_input is the identity for the applications whose preprocessing layers are inside the model
# (MobileNetV3*, EfficientNet*, EfficientNetV2*, ConvNeXt*): their x is raw pixels 0..255.
APPS = {
    "MobileNet": ("mobilenet", 32), "MobileNetV2": ("mobilenet_v2", 32),
    "MobileNetV3Small": ("mobilenet_v3", 32), "MobileNetV3Large": ("mobilenet_v3", 32),
    "ResNet50": ("resnet", 32), "ResNet101": ("resnet", 32), "ResNet152": ("resnet", 32),
    "ResNet50V2": ("resnet_v2", 32), "ResNet101V2": ("resnet_v2", 32), "ResNet152V2": ("resnet_v2", 32),
    **{f"EfficientNetB{i}": ("efficientnet", 32) for i in range(8)},
    **{f"EfficientNetV2{v}": ("efficientnet_v2", 32) for v in ["B0", "B1", "B2", "B3", "S", "M", "L"]},
    "Xception": ("xception", 71), "VGG16": ("vgg16", 32), "VGG19": ("vgg19", 32),
    "InceptionV3": ("inception_v3", 75), "InceptionResNetV2": ("inception_resnet_v2", 75),
    "DenseNet121": ("densenet", 32), "DenseNet169": ("densenet", 32), "DenseNet201": ("densenet", 32),
    "NASNetMobile": ("nasnet", 32), "NASNetLarge": ("nasnet", 32),
    **{f"ConvNeXt{v}": ("convnext", 32) for v in ["Tiny", "Small", "Base", "Large", "XLarge"]},
}


# ----------------------------------------------------------------------------------------------------
# The randomization scheme of Tests/Fixtures/kerasapps/make_fixtures.py: its layer walk, BN calibration and
# weight dump are used as they are; randomize() and load_weights() here add what only the full applications
# need (LayerScale, adapted Normalization, the literal BN mode, copying by name).

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "kerasapps"))
from make_fixtures import calibrate_bn, dump_weights, walk, weighted_layers  # noqa: E402


def var_name(var):
    return var.name.split("/")[-1].split(":")[0]


def randomize(model, x_calibration, rng, bn_mode="calibrated"):
    """biases ~ N(0, 0.05); BN/LN gamma ~ 1 + N(0, 0.1), beta ~ N(0, 0.1); ConvNeXt LayerScale gamma ~ U(0.1, 0.5);
    Normalization layers holding mean/variance as weights (EfficientNet) get ImageNet statistics;
    BN moving stats: 'calibrated' = calibrate_bn() on x_calibration (statistics of each BN's actual input, then
    mean += N(0, 0.1) * std, variance *= U(0.5, 1.5)); 'literal' = mean ~ N(0, 0.1), variance ~ U(0.5, 1.5)."""
    bns = []
    for layer in walk(model):
        if hasattr(layer, "layers") or not layer.weights:
            continue
        cls = type(layer).__name__
        new = []
        for v, var in zip(layer.get_weights(), layer.weights):
            name = var_name(var)
            if cls in ("BatchNormalization", "LayerNormalization") and name == "gamma":
                v = 1 + 0.1 * rng.standard_normal(v.shape)
            elif cls in ("BatchNormalization", "LayerNormalization") and name == "beta":
                v = 0.1 * rng.standard_normal(v.shape)
            elif cls == "LayerScale":
                v = rng.uniform(0.1, 0.5, v.shape)
            elif name == "bias":
                v = 0.05 * rng.standard_normal(v.shape)
            elif cls == "Normalization" and name in ("mean", "variance"):
                n = v.shape[-1]
                base = [0.485, 0.456, 0.406] if name == "mean" else [0.229 ** 2, 0.224 ** 2, 0.225 ** 2]
                v = np.resize(np.array(base), n)
            new.append(np.asarray(v, dtype=v.dtype if v.dtype != np.float64 else np.float32))
        layer.set_weights(new)
        if cls == "Normalization":
            layer.finalize_state()
        if cls == "BatchNormalization":
            bns.append(layer)
    if bn_mode == "literal":
        for l in bns:
            w = l.get_weights()
            mean = 0.1 * rng.standard_normal(w[-2].shape)
            var = rng.uniform(0.5, 1.5, w[-1].shape)
            l.set_weights(w[:-2] + [mean.astype(np.float32), var.astype(np.float32)])
        return len(bns)
    calibrate_bn(model, bns, x_calibration, rng)
    return len(bns)


def load_weights(model, path):
    """Copy dumped weights: by layer name when every name matches, else by order; classes and shapes checked."""
    data = np.load(path)
    dumped = {}
    for key in data.files:
        i, cls, name, j = key.split("|")
        dumped.setdefault(int(i), [cls, name, {}])[2][int(j)] = key
    dumped = [dumped[i] for i in sorted(dumped)]
    layers = weighted_layers(model)
    if len(layers) != len(dumped):
        raise RuntimeError(f"{len(layers)} weighted layers in tf-keras, {len(dumped)} in Keras 3")
    by_name = {d[1]: d for d in dumped}
    use_names = all(l.name in by_name and by_name[l.name][0] == type(l).__name__ for l in layers)
    for i, layer in enumerate(layers):
        cls, name, keys = by_name[layer.name] if use_names else dumped[i]
        if cls != type(layer).__name__:
            raise RuntimeError(f"layer {i}: {type(layer).__name__} '{layer.name}' in tf-keras, {cls} '{name}' in Keras 3")
        values = [data[keys[j]] for j in range(len(keys))]
        shapes = [tuple(v.shape) for v in layer.get_weights()]
        if shapes != [tuple(v.shape) for v in values]:
            raise RuntimeError(f"layer {i} '{layer.name}': shapes {shapes} in tf-keras vs {[v.shape for v in values]}")
        layer.set_weights(values)
        if cls == "Normalization":
            layer.finalize_state()
    return "names" if use_names else "order"


# ----------------------------------------------------------------------------------------------------
# Workers (each in its own process).

def inputs_for(keras, app, size, rng, n):
    module, _ = APPS[app]
    x = rng.integers(0, 256, size=(n, size, size, 3)).astype(np.float32)
    return np.asarray(getattr(keras.applications, module).preprocess_input(x), np.float32)


def build(keras, app, size):
    return getattr(keras.applications, app)(input_shape=(size, size, 3), weights=None, classes=10,
                                            classifier_activation=None)


def worker_k3(app, size, out, bn_mode):
    import keras
    info = {"framework": f"keras {keras.__version__}"}
    t = time.time()
    keras.utils.set_random_seed(SEED)
    model = build(keras, app, size)
    rng = np.random.default_rng(SEED)
    xcal = inputs_for(keras, app, size, rng, N_CALIBRATION)
    x = inputs_for(keras, app, size, rng, 2)
    info["bn_layers"] = randomize(model, xcal, rng, bn_mode)
    info["params"] = int(model.count_params())
    path = os.path.join(out, app + ".keras")
    model.save(path)
    y = model.predict(x, verbose=0)
    np.savez(os.path.join(out, app + ".npz"), x=x, y=y)
    dump_weights(model, os.path.join(out, app + ".weights-transfer.npz"))
    info.update(seconds=round(time.time() - t, 1), bytes=os.path.getsize(path))
    return info


def worker_k2(app, size, out):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as keras
    info = {"framework": f"tf-keras {keras.__version__}"}
    if not hasattr(keras.applications, app):
        raise RuntimeError(f"tf_keras.applications has no {app}")
    t = time.time()
    keras.utils.set_random_seed(SEED)
    model = build(keras, app, size)
    transfer = os.path.join(out, app + ".weights-transfer.npz")
    info["copied_by"] = load_weights(model, transfer)
    x = np.load(os.path.join(out, app + ".npz"))["x"]
    path = os.path.join(out, app + "_k2.h5")
    model.save(path, save_format="h5")
    y = model.predict(x, verbose=0)
    np.savez(os.path.join(out, app + "_k2.npz"), x=x, y=y)
    info.update(seconds=round(time.time() - t, 1), bytes=os.path.getsize(path))
    return info


def run_worker(args):
    try:
        if args.worker == "k3":
            info = worker_k3(args.model, args.size, args.out, args.bn)
        else:
            info = worker_k2(args.model, args.size, args.out)
        info["status"] = "ok"
    except Exception as e:  # reported in the table
        info = {"status": "error", "error": f"{type(e).__name__}: {e}"[:2000]}
    with open(os.path.join(args.out, f"{args.model}.{args.worker}.json"), "w") as f:
        json.dump(info, f)


# ----------------------------------------------------------------------------------------------------
# Driver.

def sub(cmd, timeout, log):
    t = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        with open(log, "a") as f:
            f.write(f"$ {shlex.join(cmd)}\n{p.stdout}{p.stderr}\n")
        return p.returncode, p.stdout + p.stderr, time.time() - t
    except subprocess.TimeoutExpired as e:
        return -1, f"timeout after {timeout} s", time.time() - t


def gist(text, n=4000):
    """The error lines of a failed step (first the lines that say error), for the table and results.json."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    errors = [l for l in lines if "rror" in l or "xception" in l]
    return " / ".join(errors or lines[-3:])[:n]


def step(args, app, worker, size):
    out = args.out
    result_file = os.path.join(out, f"{app}.{worker}.json")
    if os.path.exists(result_file):
        os.remove(result_file)
    cmd = ["nice", "-n", str(args.nice), sys.executable, os.path.abspath(__file__), "--worker", worker,
           "--model", app, "--size", str(size), "--out", out, "--bn", args.bn]
    code, text, _ = sub(cmd, args.timeout, os.path.join(out, "sweep.log"))
    if os.path.exists(result_file):
        with open(result_file) as f:
            return json.load(f)
    return {"status": "crashed", "error": f"exit {code}: {gist(text)}"}


def reused(out, app, worker):
    info = {}
    path = os.path.join(out, f"{app}.{worker}.json")
    if os.path.exists(path):
        with open(path) as f:
            info = json.load(f)
    info.update(status="ok", reused=True)
    return info


def compare_with_zoo(args, model_file, npz_file, peer_spread=None):
    data = np.load(npz_file)
    x, y = data["x"], data["y"]
    tol = 1e-4 * (1 + float(np.abs(y).max()))
    res = {"tolerance": tol}
    xin = npz_file[:-4] + ".x.npy"
    yout = npz_file[:-4] + ".zoo.npy"
    np.save(xin, x)
    if os.path.exists(yout):
        os.remove(yout)
    cmd = [args.zoo, "predict", model_file, "--input", xin, "--out", yout]
    code, text, secs = sub(cmd, args.timeout, os.path.join(args.out, "sweep.log"))
    res["zoo_seconds"] = round(secs, 2)
    if code != 0 or not os.path.exists(yout):
        res.update(status="zoo error", error=gist(text) or f"exit {code}")
        return res
    z = np.load(yout)
    if z.shape != y.shape:
        res.update(status="shape", error=f"zoo {z.shape} vs keras {y.shape}")
        return res
    diff = float(np.abs(z.astype(np.float64) - y.astype(np.float64)).max())
    if diff <= tol:
        status = "pass"
    elif peer_spread is not None and diff <= 2 * peer_spread:
        status = "pass (peer spread)"  # no further from Keras 3 than twice tf-keras's distance to it
    else:
        status = "FAIL"
    res.update(max_diff=diff, status=status)
    return res


def fmt(v, spec=".2e"):
    return "" if v is None else format(v, spec)


def table(rows, with_zoo):
    head = ["model", "input", "params", "max\\|y\\|", "max\\|y0−y1\\|", "k3 vs k2"]
    for tag in ("keras3 .keras", "keras2 .h5"):
        head += [f"{tag} status"] + ([f"{tag} max\\|zoo−keras\\|", f"{tag} tol"] if with_zoo else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], str(r["size"]), f"{r.get('params', 0) / 1e6:.2f}M" if r.get("params") else "",
                 fmt(r.get("max_abs_y"), ".3g"), fmt(r.get("y_batch_spread"), ".3g"), fmt(r.get("cross_diff"))]
        for key in ("k3", "k2"):
            f = r[key]
            status = f.get("zoo", {}).get("status") if with_zoo and f.get("status") == "ok" else f.get("status")
            err = f.get("zoo", {}).get("error") if with_zoo and f.get("status") == "ok" else f.get("error")
            if err:
                status = f"{status}: {err}".replace("|", "\\|").replace("\n", " ")[:200]
            cells.append(status or "")
            if with_zoo:
                cells += [fmt(f.get("zoo", {}).get("max_diff")), fmt(f.get("zoo", {}).get("tolerance"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output folder (model files, npz, results)")
    p.add_argument("--only", help="comma-separated application names (default: all)")
    p.add_argument("--zoo", help="Zoo binary; runs ZOO predict FILE --input x.npy --out y.npy")
    p.add_argument("--size", type=int, help="input side (default: the smallest each application allows); "
                                             "raised to an application's minimum when below it")
    p.add_argument("--bn", choices=["calibrated", "literal"], default="calibrated",
                   help="BN statistics scheme (see README.md)")
    p.add_argument("--reuse", action="store_true", help="keep model files already in OUT (only run Zoo)")
    p.add_argument("--skip-k2", action="store_true", help="Keras 3 files only")
    p.add_argument("--timeout", type=int, default=3600, help="seconds per step")
    p.add_argument("--nice", type=int, default=10)
    p.add_argument("--worker", choices=["k3", "k2"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    if args.worker:
        run_worker(args)
        return
    names = list(APPS) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in APPS]
    if unknown:
        sys.exit(f"unknown application(s): {', '.join(unknown)}; known: {', '.join(APPS)}")
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for app in names:
        size = max(APPS[app][1], args.size or 0)
        row = {"model": app, "size": size}
        print(f"== {app} ({size}x{size})", flush=True)
        k3_file, k2_file = os.path.join(args.out, app + ".keras"), os.path.join(args.out, app + "_k2.h5")
        if args.reuse and os.path.exists(k3_file) and os.path.exists(os.path.join(args.out, app + ".npz")):
            row["k3"] = reused(args.out, app, "k3")
        else:
            row["k3"] = step(args, app, "k3", size)
        print(f"   keras3: {row['k3'].get('status')} {row['k3'].get('error', '')}", flush=True)
        if args.skip_k2:
            row["k2"] = {"status": "skipped"}
        elif row["k3"].get("status") != "ok":
            row["k2"] = {"status": "skipped (no Keras 3 weights)"}
        elif args.reuse and os.path.exists(k2_file) and os.path.exists(os.path.join(args.out, app + "_k2.npz")):
            row["k2"] = reused(args.out, app, "k2")
        else:
            row["k2"] = step(args, app, "k2", size)
        print(f"   tf-keras: {row['k2'].get('status')} {row['k2'].get('error', '')}", flush=True)
        transfer = os.path.join(args.out, app + ".weights-transfer.npz")
        if os.path.exists(transfer):
            os.remove(transfer)
        row["params"] = row["k3"].get("params")
        if row["k3"].get("status") == "ok":
            y3 = np.load(os.path.join(args.out, app + ".npz"))["y"]
            row["max_abs_y"] = float(np.abs(y3).max())
            row["y_batch_spread"] = float(np.abs(y3[0] - y3[1]).max())
            if row["k2"].get("status") == "ok":
                y2 = np.load(os.path.join(args.out, app + "_k2.npz"))["y"]
                row["cross_diff"] = float(np.abs(y3 - y2).max())
        if args.zoo:
            for key, model_file, npz in [("k3", k3_file, app + ".npz"), ("k2", k2_file, app + "_k2.npz")]:
                if row[key].get("status") == "ok":
                    row[key]["zoo"] = compare_with_zoo(args, model_file, os.path.join(args.out, npz),
                                                       row.get("cross_diff"))
                    z = row[key]["zoo"]
                    print(f"   zoo {os.path.basename(model_file)}: {z['status']} {fmt(z.get('max_diff'))} "
                          f"(tol {fmt(z['tolerance'])}) {z.get('error', '')}", flush=True)
        rows.append(row)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump({"seed": SEED, "bn": args.bn, "rows": rows}, f, indent=1)
    md = table(rows, bool(args.zoo))
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md + "\n")
    print()
    print(md)


if __name__ == "__main__":
    main()
