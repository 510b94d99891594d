#!/usr/bin/env python3
"""Keras graph fixtures (run with the peers' venv: tensorflow 2.21, tf-keras 2.21, keras 3.15).

    python make_fixtures.py k2           # outer_k2.h5 (tf-keras, Keras 2 format) + k2_y0/1.npy
    python make_fixtures.py k3           # outer_k3.keras (Keras 3) + k3_y0/1.npy; x.npy is shared
    python make_fixtures.py unsupported  # unsupported_k3.keras: two Lambda layers and a custom layer

The `outer` model: a nested Functional model (Conv2D → BatchNormalization with randomized moving
statistics → DepthwiseConv2D) called as a layer, a Dense layer called twice (shared), a merge,
operator nodes (x + 1.0, 1.0 − x, multiply by 0.5 — TFOpLambda in Keras 2, ops nodes in Keras
3 — and tensor · tensor) and two outputs.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
KIND = sys.argv[1]
if KIND == "k2":
    import tensorflow as tf
    import tf_keras as keras
    from tf_keras import layers
else:
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    from keras import layers
keras.utils.set_random_seed(1)


def outer():
    i = keras.Input((8, 8, 3), name="img")
    x = layers.Conv2D(4, 3, padding="same", name="c1")(i)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    base = keras.Model(i, x, name="base")
    j = keras.Input((8, 8, 3), name="inp")
    y = base(j)
    d = layers.Dense(4, name="shared")
    a = d(y)
    b = d(layers.ReLU(name="r")(y))
    s = layers.Add(name="my_add")([a, b])
    s = s + 1.0
    s = 1.0 - s
    s = tf.math.multiply(s, 0.5) if KIND == "k2" else keras.ops.multiply(s, 0.5)
    s = s * a
    out = layers.GlobalAveragePooling2D(name="gap")(s)
    m = keras.Model(j, [out, a], name="outer")
    for w in m.weights:
        if "moving" in w.name:
            w.assign(np.random.default_rng(0).uniform(0.5, 1.5, w.shape).astype("float32"))
    x = np.random.default_rng(2).standard_normal((2, 8, 8, 3)).astype("float32")
    ys = m.predict(x, verbose=0)
    m.save(os.path.join(HERE, "outer_" + KIND + (".h5" if KIND == "k2" else ".keras")))
    np.save(os.path.join(HERE, "x.npy"), x)
    for k, y in enumerate(ys):
        np.save(os.path.join(HERE, f"{KIND}_y{k}.npy"), y)


def unsupported():
    @keras.saving.register_keras_serializable(package="zoo_fixtures")
    class MyCustomLayer(layers.Layer):
        def call(self, x):
            return x * 2.0

    k = keras.Input((4,), name="x")
    h = layers.Lambda(lambda t: t + 1.0, name="lambda_1")(k)
    h = layers.Lambda(lambda t: t * 3.0, name="lambda_2")(h)
    h = MyCustomLayer(name="mine")(h)
    keras.Model(k, layers.Dense(2, name="out")(h)).save(os.path.join(HERE, "unsupported_k3.keras"))


if KIND in ("k2", "k3"):
    outer()
elif KIND == "unsupported":
    unsupported()
else:
    sys.exit(__doc__)
