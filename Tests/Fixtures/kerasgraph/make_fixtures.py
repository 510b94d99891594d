#!/usr/bin/env python3
"""Keras 2 (tf-keras 2.21) and Keras 3 (3.15) Functional models with a nested model, a shared
layer, a depthwise convolution, batch norm with randomized moving statistics, and operator
nodes (x + 1.0, 1.0 - x, multiply by a constant, tensor * tensor); two outputs.

    python make_fixtures.py k2    # writes outer_k2.h5 and k2_*.npy
    python make_fixtures.py k3    # writes outer_k3.keras and k3_*.npy (x.npy is shared)
"""
import os, sys, json
HERE = os.path.dirname(os.path.abspath(__file__))
import numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"
if sys.argv[1] == "k2":
    import tf_keras as keras
    import tensorflow as tf
    from tf_keras import layers
else:
    os.environ["KERAS_BACKEND"]="tensorflow"
    import keras
    from keras import layers
keras.utils.set_random_seed(1)
i = keras.Input((8, 8, 3), name="img")
x = layers.Conv2D(4, 3, padding="same", name="c1")(i)
x = layers.BatchNormalization(name="bn")(x)
x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
base = keras.Model(i, x, name="base")
j = keras.Input((8, 8, 3), name="inp")
y = base(j)
d = layers.Dense(4, name="shared")
a = d(y); b = d(layers.ReLU(name="r")(y))
s = layers.Add(name="my_add")([a, b])
s = s + 1.0
s = 1.0 - s
if sys.argv[1] == "k2":
    s = tf.math.multiply(s, 0.5)
else:
    s = keras.ops.multiply(s, 0.5)
s = s * a
out = layers.GlobalAveragePooling2D(name="gap")(s)
m = keras.Model(j, [out, a], name="outer")
for w in m.weights:
    if "moving" in w.name: w.assign(np.random.default_rng(0).uniform(0.5, 1.5, w.shape).astype("float32"))
x = np.random.default_rng(2).standard_normal((2, 8, 8, 3)).astype("float32")
ys = m.predict(x, verbose=0)
path = HERE + "/outer_" + sys.argv[1] + (".h5" if sys.argv[1] == "k2" else ".keras")
m.save(path)
np.save(HERE + "/x.npy", x)
np.save(HERE + "/" + sys.argv[1] + "_y0.npy", ys[0]); np.save(HERE + "/" + sys.argv[1] + "_y1.npy", ys[1])
print([w.name for w in m.weights] if sys.argv[1]=="k2" else [w.path for w in m.weights])
