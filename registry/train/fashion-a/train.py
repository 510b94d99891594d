"""Train the Zoo registry model `fashion-a` with Keras 3.

"Model A" of the second edition's transfer-learning example: Dense
300-100-50-50-50 (SELU, lecun_normal) + Dense(8, softmax), SGD(lr=1e-3),
20 epochs, trained on the 8 Fashion-MNIST classes other than sandal (5)
and shirt (6), labels remapped 0,1,2,3,4,7,8,9 -> 0..7.
Run with python (TensorFlow backend).
"""
import datetime
import gzip
import hashlib
import json
import os
import platform
import struct
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
KEPT = [0, 1, 2, 3, 4, 7, 8, 9]  # output order
WEIGHTS = "fashion-a.weights.h5"
SEED = 42
LR = 1e-3
BATCH = 32
EPOCHS = 20
N_VALID = 5000
UNITS = [300, 100, 50, 50, 50]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, (path, zero, dtype)
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(shape)), path
    return arr.reshape(shape)


def load(split):
    images = read_idx(os.path.join(DATA, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA, f"{split}-labels-idx1-ubyte.gz"))
    return images, labels


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def select(x, y):
    remap = np.full(10, -1, dtype=np.int64)
    remap[KEPT] = np.arange(len(KEPT))
    keep = remap[y] >= 0
    return x[keep].reshape(-1, 784).astype("float32") / 255.0, remap[y[keep]]


def build():
    model = keras.Sequential([keras.Input(shape=(784,), name="input")], name="fashion_a")
    for i, units in enumerate(UNITS, 1):
        model.add(keras.layers.Dense(units, activation="selu",
                                     kernel_initializer="lecun_normal",
                                     name=f"hidden{i}"))
    model.add(keras.layers.Dense(len(KEPT), activation="softmax", name="outputs"))
    return model


def main():
    keras.utils.set_random_seed(SEED)
    try:
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()
    except Exception:
        pass

    x_full, y_full = load("train")
    x_test, y_test = load("t10k")
    x_a, y_a = select(x_full, y_full)
    x_test, y_test = select(x_test, y_test)
    # validation = last N_VALID of the 8-class training images (file order)
    x_train, y_train = x_a[:-N_VALID], y_a[:-N_VALID]
    x_valid, y_valid = x_a[-N_VALID:], y_a[-N_VALID:]
    print("train", x_train.shape, "valid", x_valid.shape, "test", x_test.shape)

    model = build()
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.SGD(learning_rate=LR),
                  metrics=["accuracy"])
    t0 = time.time()
    hist = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH,
                     validation_data=(x_valid, y_valid), shuffle=True, verbose=2)
    train_seconds = time.time() - t0

    val_loss, val_acc = model.evaluate(x_valid, y_valid, verbose=0)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"val_acc={val_acc:.4f} test_acc={test_acc:.4f} test_loss={test_loss:.4f}")

    out = os.path.join(HERE, WEIGHTS)
    model.save_weights(out)
    arch = model.to_json()
    with open(os.path.join(HERE, "architecture.json"), "w") as f:
        json.dump(json.loads(arch), f, indent=2)
        f.write("\n")

    # sanity: rebuild from architecture.json, load weights, compare predictions
    with open(os.path.join(HERE, "architecture.json")) as f:
        rebuilt = keras.models.model_from_json(f.read())
    rebuilt.load_weights(out)
    diff = float(np.max(np.abs(rebuilt.predict(x_test[:256], verbose=0)
                               - model.predict(x_test[:256], verbose=0))))
    assert diff < 1e-6, diff

    # Keras 3 .weights.h5 keys layers by auto-generated object paths (dense, dense_1, ...),
    # not by layer name; record the mapping so non-Keras readers need not guess.
    import h5py
    with h5py.File(out, "r") as f:
        groups = sorted(f["layers"].keys(), key=lambda k: (len(k), k))
        assert len(groups) == len(model.layers), groups
        layout = {}
        for g, layer in zip(groups, model.layers):
            k, b = f[f"layers/{g}/vars/0"], f[f"layers/{g}/vars/1"]
            assert k.shape == tuple(layer.kernel.shape) and b.shape == tuple(layer.bias.shape)
            assert np.array_equal(k[()], layer.kernel.numpy()), g
            layout[f"layers/{g}/vars/0"] = f"{layer.name}.kernel {list(k.shape)} (in, out)"
            layout[f"layers/{g}/vars/1"] = f"{layer.name}.bias {list(b.shape)}"
        optimizer_vars = sorted(f["optimizer/vars"].keys()) if "optimizer" in f else []

    counts = {NAMES[c]: int((y_a == i).sum()) for i, c in enumerate(KEPT)}
    prov = {
        "name": "fashion-a",
        "description": "Second-edition transfer example 'model A': Dense 300-100-50-50-50 (SELU, lecun_normal) "
                       "+ Dense(8, softmax), trained on the 8 Fashion-MNIST classes other than sandal and shirt.",
        "framework": {"name": "keras", "version": keras.__version__,
                      "backend": keras.backend.backend(),
                      "tensorflow": __import__("tensorflow").__version__,
                      "h5py": __import__("h5py").__version__, "numpy": np.__version__},
        "python": platform.python_version(),
        "script": "train.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "format": "Keras 3 weights file (model.save_weights, .weights.h5) + architecture.json (model.to_json())",
        "training_set": {
            "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)",
            "classes": KEPT,
            "excluded_classes": {"5": "Sandal", "6": "Shirt"},
            "label_remap": {str(c): i for i, c in enumerate(KEPT)},
            "per_class_counts_train_plus_valid": counts,
            "train_count": int(len(x_train)),
            "validation_count": int(len(x_valid)),
            "validation_split": f"last {N_VALID} of the 8-class training images in file order",
            "test_count": int(len(x_test)),
        },
        "architecture": {
            "layers": [{"name": f"hidden{i}", "type": "Dense", "units": u, "activation": "selu",
                        "kernel_initializer": "lecun_normal"} for i, u in enumerate(UNITS, 1)]
                      + [{"name": "outputs", "type": "Dense", "units": len(KEPT), "activation": "softmax"}],
            "parameters": int(model.count_params()),
        },
        "hyperparameters": {
            "optimizer": "SGD", "learning_rate": LR, "momentum": 0.0, "batch_size": BATCH,
            "loss": "sparse_categorical_crossentropy", "epochs": EPOCHS, "early_stopping": None,
            "seed": SEED, "shuffle": True,
        },
        "epochs_run": len(hist.history["loss"]),
        "train_seconds": round(train_seconds, 1),
        "metrics": {"test_accuracy": round(float(test_acc), 6), "test_loss": round(float(test_loss), 6),
                    "val_accuracy": round(float(val_acc), 6), "val_loss": round(float(val_loss), 6)},
        "weights_layout": layout,
        "weights_file_note": "model.save_weights also stores the optimizer's variables under optimizer/vars "
                             f"({len(optimizer_vars)} scalars for plain SGD: iteration count, learning rate); "
                             "they are not needed for inference.",
        "files": [{"path": name, "sha256": sha256(os.path.join(HERE, name)),
                   "bytes": os.path.getsize(os.path.join(HERE, name))}
                  for name in (WEIGHTS, "architecture.json")],
        "labels": [NAMES[c] for c in KEPT],
        "preprocessing": {"scale": "1/255", "flatten": True, "dtype": "float32"},
        "input_shape": [784],
        "output": "softmax probabilities over 8 classes",
        "license": "Fashion-MNIST (Zalando Research) is MIT-licensed; weights produced by this script, MIT.",
    }
    with open(os.path.join(HERE, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print(json.dumps(prov["metrics"]), prov["files"])


if __name__ == "__main__":
    main()
