#!/usr/bin/env python3
"""Generate Keras 3 reference numbers for ZooNet parity tests.

Run:  python Tests/Fixtures/zoonet/make_fixtures.py
Writes fixtures.json next to this script (committed; CI never runs Python).

Networks (TF scope names, Keras layouts):
  mlp: the seed's 784-300-100-10 network shrunk to 12 inputs:
       hidden1 Dense(10) -> bn1 BatchNormalization(momentum=0.9) -> ELU
       -> hidden2 Dense(8) -> bn2 BatchNormalization(momentum=0.9) -> ELU -> outputs Dense(10)
  variety: Dense(6, selu, L2 0.01) -> PReLU -> Dense(5) -> LeakyReLU(0.2) -> Dense(4, tanh)
       -> outputs Dense(3, L1 0.01, MaxNorm 1) on 7 inputs
  cnn: conv1 Conv2D(4, 3x3, same, relu) on 6x6x2 -> pool1 MaxPooling2D(2)
       -> conv2 Conv2D(3, 2x2, strides 2, valid) -> flatten -> outputs Dense(3)
Recorded: initial variables, inputs, labels, inference logits, training-mode logits, loss,
and for each optimizer the losses and all variables after 3 train_on_batch steps
(sparse softmax cross-entropy from logits).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import keras
from keras import layers

HERE = os.path.dirname(os.path.abspath(__file__))


def mlp():
    return keras.Sequential([
        keras.Input((12,)),
        layers.Dense(10, name="hidden1"),
        layers.BatchNormalization(momentum=0.9, name="bn1"),
        layers.Activation("elu", name="elu1"),
        layers.Dense(8, name="hidden2"),
        layers.BatchNormalization(momentum=0.9, name="bn2"),
        layers.Activation("elu", name="elu2"),
        layers.Dense(10, name="outputs"),
    ])


def cnn():
    return keras.Sequential([
        keras.Input((6, 6, 2)),
        layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(3, 2, strides=2, padding="valid", name="conv2"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, name="outputs"),
    ])


def variety():
    return keras.Sequential([
        keras.Input((7,)),
        layers.Dense(6, activation="selu", kernel_regularizer=keras.regularizers.L2(0.01), name="dense_selu"),
        layers.PReLU(name="prelu"),
        layers.Dense(5, name="dense_plain"),
        layers.LeakyReLU(negative_slope=0.2, name="leaky"),
        layers.Dense(4, activation="tanh", name="dense_tanh"),
        layers.Dense(3, kernel_regularizer=keras.regularizers.L1(0.01),
                     kernel_constraint=keras.constraints.MaxNorm(1.0), name="outputs"),
    ])


def variables(model):
    out = []
    for layer in model.layers:
        for w in layer.weights:
            out.append({"name": f"{layer.name}/{w.name}", "shape": list(w.shape),
                        "values": flat(w.numpy())})
    return out


def flat(a):
    return [float("%.9g" % v) for v in np.asarray(a, dtype=np.float32).ravel()]


OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.1),
    "momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
    "nesterov": lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "sgd_clipnorm": lambda: keras.optimizers.SGD(0.1, clipnorm=0.05),
    "sgd_global_clipnorm": lambda: keras.optimizers.SGD(0.1, global_clipnorm=0.1),
    "sgd_clipvalue": lambda: keras.optimizers.SGD(0.1, clipvalue=0.01),
    "sgd_exponential_decay": lambda: keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)),
    "adagrad": lambda: keras.optimizers.Adagrad(0.1),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam": lambda: keras.optimizers.Adam(0.01),
    "adam_amsgrad": lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1),
    "nadam": lambda: keras.optimizers.Nadam(0.01),
}


def record(build, x_shape, classes, seed, optimizer_names, steps=3):
    rng = np.random.default_rng(seed)
    model = build()
    # Non-default starting values so inference differs from training mode.
    for layer in model.layers:
        new = []
        for w in layer.weights:
            if w.name == "moving_variance":
                new.append(rng.uniform(0.5, 2.0, w.shape))
            elif w.name in ("moving_mean", "bias", "beta"):
                new.append(rng.normal(0, 0.3, w.shape))
            elif w.name == "gamma":
                new.append(rng.uniform(0.5, 1.5, w.shape))
            else:
                new.append(rng.normal(0, 0.5, w.shape))
        layer.set_weights([a.astype(np.float32) for a in new])
    initial = [w.numpy().copy() for w in model.weights]
    x = rng.normal(0, 1, x_shape).astype(np.float32)
    y = rng.integers(0, classes, x_shape[0]).astype(np.int32)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    result = {
        "input_shape": list(x_shape), "inputs": flat(x), "labels": [int(v) for v in y],
        "variables": variables(model),
        "inference": flat(model(x, training=False)),
    }
    training_logits = model(x, training=True)
    result["training_output"] = flat(training_logits)
    result["loss"] = float(loss_fn(y, training_logits))
    result["optimizers"] = {}
    for name in optimizer_names:
        m = build()
        m.set_weights(initial)
        m.compile(optimizer=OPTIMIZERS[name](), loss=loss_fn, jit_compile=False)
        losses = [float(m.train_on_batch(x, y)) for _ in range(steps)]
        result["optimizers"][name] = {
            "steps": steps, "losses": losses,
            "variables": {v["name"]: v["values"] for v in variables(m)},
        }
    return result


def schedules():
    """Keras learning-rate schedules evaluated at steps 0..11."""
    S = keras.optimizers.schedules
    table = {
        "exponential": S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5),
        "exponential_staircase": S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True),
        "piecewise": S.PiecewiseConstantDecay([2, 5, 8], [1.0, 0.5, 0.25, 0.125]),
        "inverse_time": S.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5),
        "inverse_time_staircase": S.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True),
    }
    return {k: [float(f(step)) for step in range(12)] for k, f in table.items()}


def main():
    keras.utils.set_random_seed(0)
    fixtures = {
        "keras_version": keras.__version__,
        "mlp": record(mlp, (4, 12), 10, 1, list(OPTIMIZERS)),
        "cnn": record(cnn, (2, 6, 6, 2), 3, 2, ["sgd", "adam"]),
        "variety": record(variety, (5, 7), 3, 3, ["sgd", "adam"]),
        "schedules": schedules(),
    }
    with open(os.path.join(HERE, "fixtures.json"), "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
