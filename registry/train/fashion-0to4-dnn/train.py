"""Train the Zoo registry model `fashion-0to4-dnn` with tf-keras.

Exercise network from the seed chapter: 5 hidden Dense(100) layers,
He-normal init, ELU, Dense(5, softmax) output, Adam, early stopping.
Trained on Fashion-MNIST classes 0-4. Run with python.
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

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
import numpy as np
import tensorflow as tf
import tf_keras as keras

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
WEIGHTS = "fashion-0to4-dnn.h5"
SEED = 42
LR = 1e-3
BATCH = 32
MAX_EPOCHS = 100
PATIENCE = 5
N_VALID = 5000


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


def main():
    keras.utils.set_random_seed(SEED)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:
        pass

    x_train_full, y_train_full = load("train")
    x_test, y_test = load("t10k")
    keep = y_train_full < 5
    x_a = x_train_full[keep].reshape(-1, 784).astype("float32") / 255.0
    y_a = y_train_full[keep].astype("int64")
    keep_t = y_test < 5
    x_test = x_test[keep_t].reshape(-1, 784).astype("float32") / 255.0
    y_test = y_test[keep_t].astype("int64")
    # validation = last N_VALID of the class 0-4 training images (file order)
    x_train, y_train = x_a[:-N_VALID], y_a[:-N_VALID]
    x_valid, y_valid = x_a[-N_VALID:], y_a[-N_VALID:]
    print("train", x_train.shape, "valid", x_valid.shape, "test", x_test.shape)

    model = keras.Sequential([keras.layers.InputLayer(input_shape=(784,), name="input")])
    for i in range(1, 6):
        model.add(keras.layers.Dense(100, activation="elu",
                                     kernel_initializer="he_normal",
                                     name=f"hidden{i}"))
    model.add(keras.layers.Dense(5, activation="softmax", name="outputs"))
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=LR),
                  metrics=["accuracy"])
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE,
                                          restore_best_weights=True)
    t0 = time.time()
    hist = model.fit(x_train, y_train, epochs=MAX_EPOCHS, batch_size=BATCH,
                     validation_data=(x_valid, y_valid), callbacks=[early],
                     shuffle=True, verbose=2)
    train_seconds = time.time() - t0
    epochs_run = len(hist.history["loss"])
    best_epoch = int(np.argmin(hist.history["val_loss"])) + 1

    val_loss, val_acc = model.evaluate(x_valid, y_valid, verbose=0)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"val_acc={val_acc:.4f} test_acc={test_acc:.4f} test_loss={test_loss:.4f}")

    out = os.path.join(HERE, WEIGHTS)
    model.save(out, include_optimizer=False)

    # sanity: reload and compare predictions
    reloaded = keras.models.load_model(out)
    diff = float(np.max(np.abs(reloaded.predict(x_test[:256], verbose=0)
                               - model.predict(x_test[:256], verbose=0))))
    assert diff < 1e-6, diff

    counts = {NAMES[c]: int((y_a == c).sum()) for c in range(5)}
    prov = {
        "name": "fashion-0to4-dnn",
        "description": "Seed-chapter exercise DNN: 5x Dense(100, ELU, he_normal) + Dense(5, softmax), "
                       "trained on Fashion-MNIST classes 0-4.",
        "framework": {"name": "tf-keras", "version": keras.__version__,
                      "tensorflow": tf.__version__, "h5py": __import__("h5py").__version__,
                      "numpy": np.__version__},
        "python": platform.python_version(),
        "script": "train.py",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "format": "Keras full-model HDF5 (model.save(..., include_optimizer=False)); "
                  "architecture in the model_config attribute, no optimizer state",
        "training_set": {
            "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)",
            "classes": [0, 1, 2, 3, 4],
            "per_class_counts_train_plus_valid": counts,
            "train_count": int(len(x_train)),
            "validation_count": int(len(x_valid)),
            "validation_split": f"last {N_VALID} of the class 0-4 training images in file order",
            "test_count": int(len(x_test)),
        },
        "architecture": {
            "layers": [{"name": f"hidden{i}", "type": "Dense", "units": 100,
                        "activation": "elu", "kernel_initializer": "he_normal"} for i in range(1, 6)]
                      + [{"name": "outputs", "type": "Dense", "units": 5, "activation": "softmax"}],
            "parameters": int(model.count_params()),
        },
        "hyperparameters": {
            "optimizer": "Adam", "learning_rate": LR, "batch_size": BATCH,
            "loss": "sparse_categorical_crossentropy", "max_epochs": MAX_EPOCHS,
            "early_stopping": {"monitor": "val_loss", "patience": PATIENCE,
                               "restore_best_weights": True},
            "seed": SEED, "shuffle": True,
        },
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "train_seconds": round(train_seconds, 1),
        "metrics": {"test_accuracy": round(float(test_acc), 6), "test_loss": round(float(test_loss), 6),
                    "val_accuracy": round(float(val_acc), 6), "val_loss": round(float(val_loss), 6)},
        "files": [{"path": WEIGHTS, "sha256": sha256(out), "bytes": os.path.getsize(out)}],
        "labels": [NAMES[c] for c in range(5)],
        "preprocessing": {"scale": "1/255", "flatten": True, "dtype": "float32"},
        "input_shape": [784],
        "output": "softmax probabilities over 5 classes",
        "license": "Fashion-MNIST (Zalando Research) is MIT-licensed; weights produced by this script, MIT.",
    }
    with open(os.path.join(HERE, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print(json.dumps(prov["metrics"]), prov["files"])


if __name__ == "__main__":
    main()
