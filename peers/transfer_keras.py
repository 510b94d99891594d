"""Exercise-9 transfer protocol, tf-keras peer.  Run: python peers/transfer_keras.py

Source model: registry/models/fashion-0to4-dnn/fashion-0to4-dnn.h5 (classes 0-4).
Target: classes 5-9 (remapped 0-4), 100 train + 30 valid per class, full 5-9 test set.
"""
import os
import platform
import sys
import time

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf
import tf_keras as keras

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist as F

SEEDS = [int(s) for s in os.environ.get("SEEDS", ",".join(map(str, F.SEEDS))).split(",")]
if os.environ.get("TF_THREADS"):  # must be set before TensorFlow runs any op
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["TF_THREADS"]))
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ["TF_THREADS"]))


def load_source():
    return keras.models.load_model(F.MODEL_H5, compile=False)


def head(n_in=None):
    return keras.layers.Dense(5, activation="softmax", name="new_outputs")


def build(variant):
    if variant == "f":
        model = keras.Sequential([keras.layers.InputLayer(input_shape=(784,))])
        for i in range(1, 6):
            model.add(keras.layers.Dense(100, activation="elu", kernel_initializer="he_normal",
                                         name=f"hidden{i}"))
        model.add(head())
        return model
    src = load_source()
    hidden = [l for l in src.layers if l.name.startswith("hidden")]
    if variant == "c":
        hidden = hidden[:4]
    for i, layer in enumerate(hidden, 1):
        layer.trainable = {"a": False, "c": False, "d": i >= 4, "e": True}[variant]
    return keras.Sequential([keras.layers.InputLayer(input_shape=(784,)), *hidden, head()])


def compile_(model):
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=F.LR), metrics=["accuracy"])


def fit(model, xtr, ytr, val, epochs, early=True):
    cbs = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=F.PATIENCE,
                                         restore_best_weights=True)] if early else []
    t0 = time.perf_counter()
    hist = model.fit(xtr, ytr, epochs=epochs, batch_size=F.BATCH, validation_data=val,
                     callbacks=cbs, shuffle=True, verbose=0)
    return time.perf_counter() - t0, len(hist.history["loss"])


def features(n_layers, *xs):
    """Frozen-stack outputs, computed once; returns (arrays, seconds of the forward passes only)."""
    src = load_source()
    fx = keras.Sequential([keras.layers.InputLayer(input_shape=(784,)),
                           *[l for l in src.layers if l.name.startswith("hidden")][:n_layers]])
    t0 = time.perf_counter()
    out = [fx(x, training=False).numpy() for x in xs]
    return out, time.perf_counter() - t0


def run(variant, seed, data):
    (xtr, ytr), (xva, yva), (xte, yte) = data
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    if variant == "b":
        (ftr, fva), t_feat = features(5, xtr, xva)
        (fte,), _ = features(5, xte)
        model = keras.Sequential([keras.layers.InputLayer(input_shape=(100,)), head()])
        compile_(model)
        secs, epochs = fit(model, ftr, ytr, (fva, yva), F.MAX_EPOCHS)
        secs += t_feat
        _, acc = model.evaluate(fte, yte, verbose=0, batch_size=1000)
    else:
        model = build(variant)
        compile_(model)
        secs, epochs = fit(model, xtr, ytr, (xva, yva), F.MAX_EPOCHS)
        _, acc = model.evaluate(xte, yte, verbose=0, batch_size=1000)
    return {"acc": float(acc), "seconds": secs, "epochs": epochs}


def fixed_100(data, reps=3):
    """Exactly 100 epochs of variant (c) on the 500 training samples, and its cached version."""
    (xtr, ytr), (xva, yva), _ = data
    out = {}
    for label, use_val in (("with per-epoch validation", True), ("no validation", False)):
        full, cached = [], []
        for r in range(reps):
            keras.backend.clear_session(); keras.utils.set_random_seed(r)
            m = build("c"); compile_(m)
            full.append(fit(m, xtr, ytr, (xva, yva) if use_val else None, 100, early=False)[0])
            keras.backend.clear_session(); keras.utils.set_random_seed(r)
            (ftr, fva), t_feat = features(4, xtr, xva)
            h = keras.Sequential([keras.layers.InputLayer(input_shape=(100,)), head()]); compile_(h)
            cached.append(t_feat + fit(h, ftr, ytr, (fva, yva) if use_val else None, 100, early=False)[0])
        out[label] = (full, cached)
    return out


def main():
    print(f"# tf-keras {keras.__version__} (TensorFlow {tf.__version__}), Python {platform.python_version()}, "
          f"numpy {np.__version__}, intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()} "
          f"(0 = all), cpus {os.cpu_count()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    data = F.transfer_data()
    print(f"# data: train {len(data[0][1])}, valid {len(data[1][1])}, test {len(data[2][1])}; seeds {SEEDS}")
    xs, ys = F.source_test()
    src = load_source(); compile_(src)
    print(f"# source model on 0-4 test set: accuracy {src.evaluate(xs, ys, verbose=0)[1]:.4f}")
    results = F.run_variants(run, data, SEEDS)
    extra = F.fixed_100_lines(fixed_100(data))
    print()
    print(F.table(f"tf-keras {keras.__version__} / TensorFlow {tf.__version__}", results, extra))


if __name__ == "__main__":
    main()
