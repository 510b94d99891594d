#!/usr/bin/env python3
"""How close Zoo and Keras each come to the exact answer, where the parity sweep's 1e-4 criterion fails.

For each application of a finished sweep (OUT holds NAME.keras, NAME.npz and NAME_k2.npz with x and the peers'
y, NAME.zoo.npy and NAME_k2.zoo.npy from `keras_apps.py --zoo`), build the same application in Keras 3 with
float64 variables and computation (`keras.config.set_floatx("float64")`), copy the saved float32 weights layer by
layer (exactly representable), and run it on the same x: the float64 output is the reference the float32 runs approximate.
Prints, per model, max |y - y64| for Keras 3 (float32), tf-keras (float32) and Zoo on both files, and Zoo's
error divided by Keras 3's: a ratio near 1 means Zoo is as exact as Keras on that network.

    KERAS_BACKEND=tensorflow python scripts/parity/float64_reference.py --out /work/parity \\
        --only ResNet152,ResNet152V2,EfficientNetB3 [--json results64.json]
"""
import argparse
import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_apps import APPS, build, weighted_layers  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="the sweep's output directory")
    parser.add_argument("--only", required=True, help="comma-separated application names")
    parser.add_argument("--json", help="write the rows here too")
    args = parser.parse_args()
    import keras
    keras.config.set_floatx("float64")
    rows = []
    for app in args.only.split(","):
        if app not in APPS:
            raise SystemExit(f"unknown application {app}")
        path = lambda suffix: os.path.join(args.out, app + suffix)  # noqa: E731
        k3, k2 = np.load(path(".npz")), np.load(path("_k2.npz"))
        x = k3["x"]
        saved = keras.models.load_model(path(".keras"), compile=False)  # float32, as its config says
        keras.utils.set_random_seed(1234)
        model = build(keras, app, x.shape[1])
        pairs = list(zip(weighted_layers(saved), weighted_layers(model)))
        if len(pairs) != len(weighted_layers(model)) or any(a.name != b.name for a, b in pairs):
            raise SystemExit(f"{app}: the float64 build's layers differ from the saved model's")
        for source, target in pairs:
            target.set_weights([np.asarray(v, np.float64) for v in source.get_weights()])
            if type(target).__name__ == "Normalization":
                target.finalize_state()
        y64 = np.asarray(model.predict(x.astype(np.float64), verbose=0), np.float64)
        def error(y):
            return float(np.max(np.abs(np.asarray(y, np.float64) - y64)))
        row = {"model": app, "max_abs_y": float(np.max(np.abs(y64))),
               "keras3": error(k3["y"]), "tf_keras": error(k2["y"]),
               "zoo_keras3_file": error(np.load(path(".zoo.npy"))), "zoo_tf_keras_file": error(np.load(path("_k2.zoo.npy")))}
        row["zoo_over_keras3"] = row["zoo_keras3_file"] / max(row["keras3"], 1e-30)
        rows.append(row)
        print(f"{app:20s} max|y| {row['max_abs_y']:9.3g}  keras3 {row['keras3']:9.2e}  tf-keras {row['tf_keras']:9.2e}  "
              f"zoo(.keras) {row['zoo_keras3_file']:9.2e}  zoo(.h5) {row['zoo_tf_keras_file']:9.2e}  "
              f"zoo/keras3 {row['zoo_over_keras3']:5.2f}", flush=True)
        keras.backend.clear_session()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
