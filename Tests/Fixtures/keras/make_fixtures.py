"""Fixtures for Zoo's HDF5 and Keras readers and writers (Tests/ZooFormatTests/HDF5*, Keras*).

Run from this folder with tensorflow, tf-keras, keras (3), h5py and numpy installed:

    python make_fixtures.py            # writes the fixtures, prints the values the Swift tests hard-code
    python make_fixtures.py roundtrip DIR
        # loads Zoo-written DIR/seed_rt_k2.h5 into tf-keras and DIR/seed_rt_k3.weights.h5
        # into Keras 3 with model.load_weights(), and compares predictions with the originals

Each Keras framework runs in a subprocess of its own (tf-keras and Keras 3 do not share a process well).
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

N_IN = 20  # the seed's network with 20 inputs instead of 784, to keep the files small


def seed_weights():
    """Deterministic weights for the seed network (hidden1 300 -> hidden2 100 -> outputs 10, BN + ELU)."""
    rng = np.random.default_rng(2017)
    w = {}
    for layer, (n_in, n_out) in {"hidden1": (N_IN, 300), "hidden2": (300, 100), "outputs": (100, 10)}.items():
        w[f"{layer}/kernel"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32)
        w[f"{layer}/bias"] = (rng.standard_normal(n_out) * 0.1).astype(np.float32)
    for bn, n in {"bn1": 300, "bn2": 100}.items():
        w[f"{bn}/gamma"] = (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)
        w[f"{bn}/beta"] = (0.1 * rng.standard_normal(n)).astype(np.float32)
        w[f"{bn}/moving_mean"] = (0.5 * rng.standard_normal(n)).astype(np.float32)
        w[f"{bn}/moving_variance"] = (1 + rng.random(n)).astype(np.float32)
    return w


SEED_ORDER = ["hidden1/kernel", "hidden1/bias", "bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_variance",
              "hidden2/kernel", "hidden2/bias", "bn2/gamma", "bn2/beta", "bn2/moving_mean", "bn2/moving_variance",
              "outputs/kernel", "outputs/bias"]


def seed_model(keras, legacy):
    layers = keras.layers
    first = layers.InputLayer(input_shape=(N_IN,)) if legacy else keras.Input(shape=(N_IN,))
    model = keras.Sequential([
        first,
        layers.Dense(300, name="hidden1"),
        layers.BatchNormalization(momentum=0.9, name="bn1"),
        layers.Activation("elu", name="elu1"),
        layers.Dense(100, name="hidden2"),
        layers.BatchNormalization(momentum=0.9, name="bn2"),
        layers.ELU(name="elu2"),
        layers.Dense(10, activation="softmax", name="outputs"),
    ], name="seed")
    w = seed_weights()
    model.set_weights([w[n] for n in SEED_ORDER])
    return model


def cnn_model(keras, legacy):
    layers = keras.layers
    first = layers.InputLayer(input_shape=(8, 8, 1)) if legacy else keras.Input(shape=(8, 8, 1))
    model = keras.Sequential([
        first,
        layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, activation="softmax", name="outputs"),
    ], name="cnn")
    rng = np.random.default_rng(7)
    model.set_weights([(rng.standard_normal(v.shape) * 0.3).astype(np.float32) for v in model.get_weights()])
    return model


def seed_input():
    return np.random.default_rng(99).standard_normal((4, N_IN)).astype(np.float32)


def digest(a):
    a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def run_tf_keras():
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as keras
    model = seed_model(keras, legacy=True)
    model.save(os.path.join(HERE, "seed_k2_model.h5"))
    model.save_weights(os.path.join(HERE, "seed_k2_weights.h5"))
    np.save(os.path.join(HERE, "seed_input.npy"), seed_input())
    np.save(os.path.join(HERE, "seed_output.npy"), model.predict(seed_input(), verbose=0))
    cnn = cnn_model(keras, legacy=True)
    cnn.save(os.path.join(HERE, "cnn_k2_model.h5"))
    # A compiled model trained for one step: its .h5 carries optimizer weights.
    small = keras.Sequential([keras.layers.InputLayer(input_shape=(3,)), keras.layers.Dense(2, name="dense")])
    small.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    small.fit(np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32), epochs=1, verbose=0)
    small.save(os.path.join(HERE, "compiled_k2_model.h5"))
    print("tf-keras", keras.__version__)


def run_keras3():
    import keras
    model = seed_model(keras, legacy=False)
    model.save_weights(os.path.join(HERE, "seed_k3.weights.h5"))
    model.save(os.path.join(HERE, "seed_k3.keras"))
    cnn = cnn_model(keras, legacy=False)
    cnn.save(os.path.join(HERE, "cnn_k3.keras"))
    # Nested: a Sequential inside a Sequential.
    inner = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="inner_dense")], name="block")
    outer = keras.Sequential([keras.Input(shape=(3,)), inner, keras.layers.Dense(1, name="head")], name="outer")
    rng = np.random.default_rng(5)
    outer.set_weights([rng.standard_normal(v.shape).astype(np.float32) for v in outer.get_weights()])
    outer.save_weights(os.path.join(HERE, "nested_k3.weights.h5"))
    print("keras", keras.__version__)


def make_plain():
    import h5py
    rng = np.random.default_rng(11)
    kernel = rng.standard_normal((5, 4)).astype(np.float32)
    for libver in ["earliest", "latest"]:
        path = os.path.join(HERE, f"plain_{libver}.h5")
        with h5py.File(path, "w", libver=libver) as f:
            f.attrs["title"] = "plain fixture"
            f.attrs["version"] = np.int64(3)
            f["dense/kernel"] = kernel
            f.create_dataset("chunked", data=np.arange(24, dtype=np.int32).reshape(6, 4), chunks=(2, 3))
            f.create_dataset("gzip", data=np.linspace(0, 1, 50, dtype=np.float64).reshape(5, 10),
                             chunks=(5, 5), compression="gzip", compression_opts=6, shuffle=True, fletcher32=True)
            space = h5py.h5s.create_simple((3,))
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_layout(h5py.h5d.COMPACT)
            compact = h5py.h5d.create(f.id, b"compact", h5py.h5t.NATIVE_INT16, space, dcpl=dcpl)
            compact.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([-7, 0, 7], np.int16))
            f["big_endian"] = np.array([1.5, -2.25, 1e300], dtype=">f8")
            f["scalar"] = np.float32(2.5)
            f["empty"] = np.zeros((0, 3), np.float32)
            f["flags"] = np.array([True, False, True])
            f["half"] = np.array([0.5, -1.0, 65504.0], np.float16)
            f["uint64"] = np.array([0, 2**63 + 5], np.uint64)
            f["text"] = "a variable-length string"
            f["fixed_text"] = np.array([b"abc", b"de"], dtype="S5")
            f["record"] = np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])
            f["ref"] = f["dense"].ref
            f["alias"] = h5py.SoftLink("/dense/kernel")
            f["dangling"] = h5py.SoftLink("/nowhere")
            f["outside"] = h5py.ExternalLink("other.h5", "/data")
    print("plain kernel sha256", digest(kernel))


def make_split_layer_names():
    """A Keras 2 weights file whose layer_names attribute is split as Keras splits long ones."""
    import h5py
    import shutil
    path = os.path.join(HERE, "seed_k2_split.h5")
    shutil.copy(os.path.join(HERE, "seed_k2_weights.h5"), path)
    with h5py.File(path, "a") as f:
        names = list(f.attrs["layer_names"])
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.array([n.encode() if isinstance(n, str) else n for n in names[:3]])
        f.attrs["layer_names1"] = np.array([n.encode() if isinstance(n, str) else n for n in names[3:]])


def make_malformed():
    src = open(os.path.join(HERE, "plain_earliest.h5"), "rb").read()
    corrupt = bytearray(src)
    corrupt[8:40] = b"\xff" * 32  # the superblock after the signature
    open(os.path.join(HERE, "bad_superblock.h5"), "wb").write(bytes(corrupt))
    open(os.path.join(HERE, "truncated.h5"), "wb").write(src[: len(src) // 2])


def print_expectations():
    w = seed_weights()
    for name in SEED_ORDER:
        print(f'"{name}": ("{digest(w[name])}", {w[name].ravel()[:2].tolist()}),')
    out = np.load(os.path.join(HERE, "seed_output.npy"))
    print("seed output[0][:3]", out[0][:3].tolist(), "sha256", digest(out))


def roundtrip(directory):
    ok = True
    x = seed_input()
    expected = np.load(os.path.join(HERE, "seed_output.npy"))
    code = f"""
import os, sys, numpy as np
sys.path.insert(0, {HERE!r})
import make_fixtures as m
legacy = sys.argv[1] == "k2"
if legacy:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as keras
else:
    import keras
model = m.seed_model(keras, legacy)
for v in model.weights: v.assign(np.zeros(v.shape, np.float32))
model.load_weights(sys.argv[2])
y = model.predict(m.seed_input(), verbose=0)
np.save(sys.argv[3], y)
print(sys.argv[1], keras.__version__, "loaded", sys.argv[2])
"""
    for flavour, name in [("k2", "seed_rt_k2.h5"), ("k3", "seed_rt_k3.weights.h5")]:
        out = os.path.join(directory, f"pred_{flavour}.npy")
        subprocess.run([sys.executable, "-c", code, flavour, os.path.join(directory, name), out], check=True)
        diff = float(np.abs(np.load(out) - expected).max())
        print(f"{flavour}: max |prediction - original| = {diff}")
        ok = ok and diff == 0.0
    print("ROUNDTRIP", "OK" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "roundtrip":
        sys.exit(0 if roundtrip(sys.argv[2]) else 1)
    if len(sys.argv) > 1 and sys.argv[1] in ("tf_keras", "keras3"):
        run_tf_keras() if sys.argv[1] == "tf_keras" else run_keras3()
        sys.exit(0)
    subprocess.run([sys.executable, __file__, "tf_keras"], check=True)
    subprocess.run([sys.executable, __file__, "keras3"], check=True)
    make_plain()
    make_split_layer_names()
    make_malformed()
    print_expectations()
