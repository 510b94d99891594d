#!/usr/bin/env python3
"""Fixtures for the layers Keras Applications define themselves: ConvNeXt's `LayerScale` (Keras 3 and
tf-keras) and InceptionResNetV2's `CustomScaleLayer` (tf-keras, saved as `Custom>CustomScaleLayer`).

    KERAS_BACKEND=tensorflow python Tests/Fixtures/kerasapps/make_app_layers.py

Writes app_layers.keras + app_layers.npz (Keras 3: conv -> LayerScale -> add the input -> global pooling)
and app_layers_k2.h5 + app_layers_k2.npz (tf-keras: the same weights, the add as CustomScaleLayer(0.17)).
Each .npz holds x (2 seeded inputs) and y (the framework's own prediction). Measured with keras 3.15.1 and
tf-keras 2.21.0 on tensorflow 2.21.0.
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 1234


def build(keras, legacy):
    L = keras.layers
    if legacy:
        from tf_keras.src.applications.convnext import LayerScale
        from tf_keras.src.applications.inception_resnet_v2 import CustomScaleLayer
    else:
        from keras.src.applications.convnext import LayerScale
    inp = keras.Input((6, 5, 8), name="x")
    h = L.Conv2D(8, 3, padding="same", name="conv")(inp)
    h = LayerScale(1e-6, 8, name="layer_scale")(h)
    h = CustomScaleLayer(0.17, name="custom_scale")([inp, h]) if legacy else L.Add(name="add")([inp, h])
    return keras.Model(inp, L.GlobalAveragePooling2D(name="gap")(h), name="app_layers")


def worker(which):
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(2, 6, 5, 8)).astype(np.float32)
    kernel = rng.normal(scale=0.3, size=(3, 3, 8, 8)).astype(np.float32)
    bias = rng.normal(scale=0.1, size=(8,)).astype(np.float32)
    gamma = rng.uniform(0.1, 0.5, size=(8,)).astype(np.float32)  # Keras starts it at 1e-6
    if which == "k3":
        import keras
        model = build(keras, legacy=False)
        path = os.path.join(HERE, "app_layers.keras")
    else:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tf_keras as keras
        model = build(keras, legacy=True)
        path = os.path.join(HERE, "app_layers_k2.h5")
    model.get_layer("conv").set_weights([kernel, bias])
    model.get_layer("layer_scale").set_weights([gamma])
    if which == "k3":
        model.save(path)
    else:
        model.save(path, save_format="h5")
    y = model.predict(x, verbose=0)
    np.savez(path[: path.rindex(".")] + ".npz", x=x, y=y)
    print(which, keras.__version__, path, y.shape, float(np.abs(y).max()))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        worker(sys.argv[1])
    else:
        env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
        for which in ("k3", "k2"):  # Keras 3 and tf-keras in separate processes
            subprocess.run([sys.executable, __file__, which], check=True, env=env)
