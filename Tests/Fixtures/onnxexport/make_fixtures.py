"""Fixtures for Tests/ZooKitTests/ONNXExportTests.swift: a small Keras 3 graph to write as ONNX.

Run from the repository root with the peer venv (keras 3.15, TensorFlow 2.21 backend):
    KERAS_BACKEND=tensorflow /work/venv/peers/bin/python Tests/Fixtures/onnxexport/make_fixtures.py
It writes next to itself:
  small_graph.keras   a Keras 3 functional model: Rescaling, Conv2D (stride 2, same, no bias) + BN + ReLU6,
                      DepthwiseConv2D + BN + swish, a squeeze-and-excitation gate (GlobalAveragePooling2D
                      keepdims, two 1x1 Conv2D, hard_sigmoid) multiplied in, a residual Add, a Concatenate,
                      MaxPooling2D (same) and AveragePooling2D (valid), Flatten, Dense (gelu), Dropout,
                      Dense (softmax); outputs [probabilities (N, 5), the concatenated map (N, 8, 8, 16)]
  small_graph.x.npy   the input, 2 seeded images (N, 16, 16, 3) of pixels 0..255, NHWC float32
  small_graph.y.npz   Keras' outputs y0 (N, 5), y1 (N, 8, 8, 16)
Weights are seeded random (biases N(0, 0.05), BN gamma 1 + N(0, 0.1), beta N(0, 0.1), moving mean N(0, 0.5),
moving variance U(0.5, 1.5)) so that no term can go unseen.

The ONNX files Zoo writes from this and the other fixtures are checked by check_onnx.py (onnx.checker +
ONNX Runtime), which records what the Swift test compares against in expected.json and ort_outputs.npz.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def build():
    keras.utils.set_random_seed(1234)
    image = keras.Input((16, 16, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1, name="rescale")(image)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    d = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
    d = layers.BatchNormalization(name="dw_bn")(d)
    d = layers.Activation("swish", name="dw_swish")(d)
    se = layers.GlobalAveragePooling2D(keepdims=True, name="se_pool")(d)
    se = layers.Conv2D(4, 1, activation="relu", name="se_reduce")(se)
    se = layers.Conv2D(16, 1, activation="hard_sigmoid", name="se_expand")(se)
    d = layers.Multiply(name="se_multiply")([d, se])
    d = layers.Conv2D(8, 1, name="project")(d)
    b = layers.Conv2D(8, 1, name="shortcut")(x)
    r = layers.Add(name="residual")([d, b])
    m = layers.Concatenate(name="concat")([r, b])
    p = layers.MaxPooling2D(3, strides=2, padding="same", name="max_pool")(m)
    p = layers.AveragePooling2D(2, name="avg_pool")(p)
    f = layers.Flatten(name="flatten")(p)
    h = layers.Dense(12, activation="gelu", name="hidden")(f)
    h = layers.Dropout(0.3, name="dropout")(h)
    y = layers.Dense(5, activation="softmax", name="probabilities")(h)
    return keras.Model(image, [y, m], name="small_graph")


def randomize(model):
    rng = np.random.default_rng(1234)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = weights
            weights = [1 + rng.normal(0, 0.1, gamma.shape), rng.normal(0, 0.1, beta.shape),
                       rng.normal(0, 0.5, mean.shape), rng.uniform(0.5, 1.5, var.shape)]
        else:
            names = [w.path.split("/")[-1] for w in layer.weights]
            weights = [rng.normal(0, 0.05, w.shape) if n == "bias" else w for n, w in zip(names, weights)]
        layer.set_weights([np.asarray(w, np.float32) for w in weights])


def main():
    model = build()
    randomize(model)
    x = np.random.default_rng(1234).uniform(0, 255, (2, 16, 16, 3)).astype(np.float32)
    y0, y1 = model(x, training=False)
    model.save(os.path.join(HERE, "small_graph.keras"))
    np.save(os.path.join(HERE, "small_graph.x.npy"), x)
    np.savez(os.path.join(HERE, "small_graph.y.npz"), y0=np.asarray(y0), y1=np.asarray(y1))
    print("small_graph:", model.count_params(), "parameters; y0", y0.shape, "y1", y1.shape,
          "max|y0[0]-y0[1]|", float(np.abs(y0[0] - y0[1]).max()))


if __name__ == "__main__":
    main()
