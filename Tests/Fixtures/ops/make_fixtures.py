"""Per-op parity fixtures for ZooNet's graph executor: forward AND backward of every CNN-zoo op,
computed by the real peers, Keras 3 (TensorFlow backend) and PyTorch, on small seeded inputs.

Run from the repository root (README.md beside this file documents the format):

    OMP_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3 KERAS_BACKEND=tensorflow \
        nice -n 10 /work/venv/peers/bin/python Tests/Fixtures/ops/make_fixtures.py

It writes Tests/Fixtures/ops/<case>.npz and cases.json (stale *.npz removed), asserts that Keras and
torch agree on every case both produce, and prints a table plus sha256 sums: re-running reproduces
byte-identical files (every random value comes from numpy, seeded by the case name; both peers run
single-threaded and deterministic).

Conventions, per case:
  * all arrays float32, in the Keras layout: activations NHWC, batch first; kernels HWIO etc.;
  * the loss is L = sum(y * r) with a fixed random r shaped like y, so dL/dy = r: each peer
    back-propagates r (tape.gradient(..., output_gradients=r) / autograd.grad(..., grad_outputs=r));
  * the torch side receives the Keras-layout arrays as autograd leaves and converts them inside the
    graph (NHWC->NCHW, HWIO->OIHW, ...), and converts its output back to the Keras layout, so the
    gradients it reports are already in the Keras layout (the exact inverse permutations).

The driver itself imports numpy only: it draws every input and weight, then runs one worker process per
framework (`make_fixtures.py --worker keras|tf_keras|torch DIR`, internal), which writes its peer's
outputs and gradients to DIR. TensorFlow and torch cannot share a process here (TF's LLVM and the one
triton brings abort with "Option 'bitcode-mdindex-threshold' registered more than once"), and tf-keras
(only for the Keras-2 hard_sigmoid) is kept apart from Keras 3. ZOO_FIXTURES_VERBOSE=1 names each case
as the workers run it.
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zlib

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# The frameworks are imported by the worker processes only: TensorFlow and torch (whose triton brings
# its own LLVM) abort when loaded into one process, and tf-keras is kept apart from Keras 3.
tf = keras = L = torch = F = tf_keras = None

TRAINABLE = {"kernel", "bias", "depthwise_kernel", "pointwise_kernel", "gamma", "beta"}
BOTH = ["keras", "torch"]
KERAS_ONLY = ["keras"]
TORCH_ONLY = ["torch"]


# --------------------------------------------------------------------------------------------------
# The cases.
# --------------------------------------------------------------------------------------------------
CASES = []


def case(name, op, settings, inputs, peers=BOTH, training=False, notes=None, known_differences=None):
    assert all(c["name"] != name for c in CASES), name
    c = {"name": name, "op": op, "settings": settings, "inputs": [list(s) for s in inputs],
         "weights": [], "training": training, "peers": list(peers)}
    if notes:
        c["notes"] = notes
    if known_differences:
        c["known_differences"] = known_differences
    CASES.append(c)


def conv(filters, kernel, strides=(1, 1), dilation=(1, 1), groups=1, padding="same", use_bias=True,
         activation="linear"):
    return {"filters": filters, "kernel": list(kernel), "strides": list(strides), "dilation": list(dilation),
            "groups": groups, "padding": padding, "use_bias": use_bias, "activation": activation}


# conv2d
case("conv2d_same_s1", "conv2d", conv(4, (3, 3)), [[2, 7, 7, 3]])
case("conv2d_same_s2_odd", "conv2d", conv(4, (3, 3), (2, 2)), [[2, 9, 9, 3]],
     notes="TF 'same', stride 2, odd size: symmetric padding 1/1")
case("conv2d_same_s2_even", "conv2d", conv(4, (3, 3), (2, 2)), [[2, 8, 8, 3]],
     notes="TF 'same', stride 2, even size: asymmetric padding 0 top/left, 1 bottom/right")
case("conv2d_1x1_s2", "conv2d", conv(5, (1, 1), (2, 2), padding="valid", use_bias=False), [[2, 8, 8, 3]])
case("conv2d_dilation2_same", "conv2d", conv(4, (3, 3), dilation=(2, 2)), [[2, 7, 7, 3]])
case("conv2d_groups2", "conv2d", conv(6, (3, 3), groups=2), [[2, 6, 6, 4]])
case("conv2d_explicit_pad", "conv2d", conv(4, (3, 3), (2, 2), padding=[[1, 2], [0, 1]]), [[2, 7, 7, 3]],
     notes="keras: ZeroPadding2D(((1,2),(0,1))) + Conv2D(padding='valid'); torch: F.pad + conv2d")
case("conv2d_5x5_valid_s2", "conv2d", conv(4, (5, 5), (2, 2), padding="valid"), [[2, 9, 9, 3]])
case("conv2d_relu", "conv2d", conv(4, (3, 3), activation="relu"), [[2, 6, 6, 3]])
case("conv2d_3x2_s21_same", "conv2d", conv(3, (3, 2), (2, 1)), [[2, 6, 5, 2]],
     notes="non-square kernel and strides: TF 'same' pads H 0/1, W 0/1")


def dw(kernel, strides=(1, 1), dilation=(1, 1), depth_multiplier=1, padding="same", use_bias=True):
    return {"kernel": list(kernel), "strides": list(strides), "dilation": list(dilation),
            "depth_multiplier": depth_multiplier, "padding": padding, "use_bias": use_bias}


case("depthwise_same_s1_m1", "depthwise_conv2d", dw((3, 3)), [[2, 7, 7, 3]])
case("depthwise_same_s2_m2", "depthwise_conv2d", dw((3, 3), (2, 2), depth_multiplier=2), [[2, 8, 8, 3]],
     notes="output channel c*m + j comes from input channel c")
case("depthwise_5x5_valid", "depthwise_conv2d", dw((5, 5), padding="valid"), [[2, 7, 7, 3]])
case("depthwise_dilation2", "depthwise_conv2d", dw((3, 3), dilation=(2, 2), use_bias=False), [[2, 7, 7, 3]])


def sep(filters, kernel, strides=(1, 1), dilation=(1, 1), depth_multiplier=1, padding="same", use_bias=True):
    d = dw(kernel, strides, dilation, depth_multiplier, padding, use_bias)
    return {"filters": filters, **d}


case("separable_same_s1_m1", "separable_conv2d", sep(4, (3, 3)), [[2, 7, 7, 3]])
case("separable_same_s2_m2", "separable_conv2d", sep(5, (3, 3), (2, 2), depth_multiplier=2, use_bias=False),
     [[2, 8, 8, 3]])


def tconv(filters, kernel, strides, padding, use_bias=True):
    return {"filters": filters, "kernel": list(kernel), "strides": list(strides), "padding": padding,
            "use_bias": use_bias}


case("conv2d_transpose_3x3_s2_same", "conv2d_transpose", tconv(4, (3, 3), (2, 2), "same"), [[2, 4, 4, 3]],
     notes="Keras crops the extra row/column at the bottom/right; torch emulated: conv_transpose2d(padding=0)"
           " then crop [0:2n]. Native torch padding=1, output_padding=1 crops top/left instead (differs).")
case("conv2d_transpose_2x2_s2_valid", "conv2d_transpose", tconv(4, (2, 2), (2, 2), "valid"), [[2, 4, 4, 3]])
case("conv2d_transpose_3x3_s1_same", "conv2d_transpose", tconv(4, (3, 3), (1, 1), "same"), [[2, 5, 5, 3]])
case("conv2d_transpose_3x3_s2_valid", "conv2d_transpose", tconv(3, (3, 3), (2, 2), "valid", use_bias=False),
     [[2, 3, 3, 4]])

# reshaping
case("zero_padding2d", "zero_padding2d", {"padding": [[1, 2], [0, 1]]}, [[2, 4, 4, 3]])
case("cropping2d", "cropping2d", {"cropping": [[1, 0], [2, 1]]}, [[2, 6, 6, 3]])
case("upsampling2d_nearest", "upsampling2d", {"size": [2, 2], "interpolation": "nearest"}, [[2, 3, 3, 3]])
case("upsampling2d_nearest_3x2", "upsampling2d", {"size": [3, 2], "interpolation": "nearest"}, [[2, 3, 2, 3]])
case("upsampling2d_bilinear", "upsampling2d", {"size": [2, 2], "interpolation": "bilinear"}, [[2, 3, 3, 3]],
     notes="half-pixel centres (TF resize bilinear / torch align_corners=False), source coordinates clamped at 0")
case("upsampling2d_bilinear_3x2", "upsampling2d", {"size": [3, 2], "interpolation": "bilinear"}, [[2, 3, 4, 2]])
case("reshape", "reshape", {"target_shape": [6, 8]}, [[2, 4, 4, 3]])
case("reshape_4d", "reshape", {"target_shape": [2, 8, 3]}, [[2, 4, 4, 3]])
case("flatten", "flatten", {}, [[2, 3, 3, 4]], notes="Keras order: NHWC, channels fastest")
case("permute_hw", "permute", {"dims": [2, 1, 3]}, [[2, 3, 4, 2]])
case("permute_chw", "permute", {"dims": [3, 1, 2]}, [[2, 3, 4, 2]])


def mp(pool, strides, padding, ceil_mode=False):
    return {"pool": list(pool), "strides": list(strides), "padding": padding, "ceil_mode": ceil_mode}


def ap(pool, strides, padding, ceil_mode=False, count_include_pad=False):
    return {**mp(pool, strides, padding, ceil_mode), "count_include_pad": count_include_pad}


case("max_pool_2x2_s2_valid", "max_pooling2d", mp((2, 2), (2, 2), "valid"), [[2, 8, 8, 3]])
case("max_pool_3x3_s2_same_odd", "max_pooling2d", mp((3, 3), (2, 2), "same"), [[2, 9, 9, 3]])
case("max_pool_3x3_s2_same_even", "max_pooling2d", mp((3, 3), (2, 2), "same"), [[2, 8, 8, 3]],
     notes="TF 'same' pads 0 top/left, 1 bottom/right with -inf; torch emulated with F.pad(value=-inf)")
case("max_pool_3x3_s2_ceil", "max_pooling2d", mp((3, 3), (2, 2), "valid", ceil_mode=True), [[2, 8, 8, 3]],
     peers=TORCH_ONLY, notes="torch ceil_mode: 4x4 output, the last window hangs over the edge (3->2 rows)")
case("max_pool_3x3_s2_pad1", "max_pooling2d", mp((3, 3), (2, 2), [[1, 1], [1, 1]]), [[2, 7, 7, 3]],
     peers=TORCH_ONLY, notes="torch padding=1 pads with -inf (the Keras idiom ZeroPadding2D + MaxPooling2D pads 0)")
case("avg_pool_2x2_s2_valid", "average_pooling2d", ap((2, 2), (2, 2), "valid"), [[2, 8, 8, 3]])
case("avg_pool_3x3_s2_same_odd", "average_pooling2d", ap((3, 3), (2, 2), "same"), [[2, 9, 9, 3]],
     notes="TF 'same' average divides by the number of valid cells")
case("avg_pool_3x3_s2_same_even", "average_pooling2d", ap((3, 3), (2, 2), "same"), [[2, 8, 8, 3]],
     notes="asymmetric 0/1 padding, divides by the number of valid cells; torch emulated (sum / count)")
case("avg_pool_3x3_s1_pad1_cip", "average_pooling2d", ap((3, 3), (1, 1), [[1, 1], [1, 1]], count_include_pad=True),
     [[2, 6, 6, 3]], peers=TORCH_ONLY, notes="divides by 9 everywhere (= Keras ZeroPadding2D + AveragePooling2D)")
case("avg_pool_3x3_s1_pad1_nocip", "average_pooling2d", ap((3, 3), (1, 1), [[1, 1], [1, 1]]),
     [[2, 6, 6, 3]], peers=TORCH_ONLY, notes="divides by the valid cells (= Keras AveragePooling2D 'same' here)")
case("avg_pool_3x3_s2_pad1_ceil_cip", "average_pooling2d",
     ap((3, 3), (2, 2), [[1, 1], [1, 1]], ceil_mode=True, count_include_pad=True), [[2, 8, 8, 3]], peers=TORCH_ONLY,
     notes="torch: divisor = (min(start+k, size+pad) - start) per axis: padding cells count, cells past the"
           " padding (ceil overhang) do not; 5x5 output, last window divides by 2*3 / 3*2 / 2*2")
case("avg_pool_2x2_s2_ceil", "average_pooling2d", ap((2, 2), (2, 2), "valid", ceil_mode=True), [[2, 5, 5, 3]],
     peers=TORCH_ONLY, notes="torch ceil_mode without padding: the overhanging last window divides by its valid cells")
for keep in (False, True):
    k = "keepdims" if keep else "flat"
    case(f"global_avg_pool_{k}", "global_average_pooling2d", {"keepdims": keep}, [[2, 4, 4, 3]])
    case(f"global_max_pool_{k}", "global_max_pooling2d", {"keepdims": keep}, [[2, 4, 4, 3]])
case("adaptive_avg_pool_9to4", "adaptive_average_pooling2d", {"output_size": [4, 4]}, [[2, 9, 9, 3]],
     peers=TORCH_ONLY, notes="window i: [floor(i*n/out), ceil((i+1)*n/out)), overlapping")
case("adaptive_avg_pool_7to3", "adaptive_average_pooling2d", {"output_size": [3, 3]}, [[2, 7, 7, 3]],
     peers=TORCH_ONLY)
case("adaptive_avg_pool_7x5to3x2", "adaptive_average_pooling2d", {"output_size": [3, 2]}, [[2, 7, 5, 2]],
     peers=TORCH_ONLY)

# merges
S = [2, 3, 3, 4]
case("add_2", "add", {}, [S, S])
case("add_3", "add", {}, [S, S, S])
case("add_broadcast_se", "add", {}, [[2, 1, 1, 4], S], notes="[2,1,1,C] + [2,H,W,C]")
case("subtract", "subtract", {}, [S, S])
case("multiply_2", "multiply", {}, [S, S])
case("multiply_3", "multiply", {}, [S, S, S])
case("multiply_broadcast_se", "multiply", {}, [S, [2, 1, 1, 4]], notes="[2,H,W,C] * [2,1,1,C] (squeeze-excitation)")
case("average_2", "average", {}, [S, S])
case("average_3", "average", {}, [S, S, S])
case("maximum_2", "maximum", {}, [S, S])
case("maximum_3", "maximum", {}, [S, S, S])
case("minimum_2", "minimum", {}, [S, S])
case("minimum_3", "minimum", {}, [S, S, S])
case("concatenate_channels", "concatenate", {"axis": -1}, [[2, 3, 3, 2], [2, 3, 3, 4], [2, 3, 3, 1]])
case("concatenate_height", "concatenate", {"axis": 1}, [[2, 2, 3, 3], [2, 4, 3, 3]])
case("concatenate_width", "concatenate", {"axis": 2}, [[2, 3, 2, 3], [2, 3, 1, 3], [2, 3, 3, 3]])

# normalisation
case("rescaling", "rescaling", {"scale": 1 / 127.5, "offset": -1.0}, [[2, 3, 3, 3]])
case("rescaling_scale_only", "rescaling", {"scale": 0.5, "offset": 0.0}, [[2, 3, 3, 3]])
case("normalization", "normalization", {}, [[2, 3, 3, 3]],
     notes="Keras 3: (x - mean) / max(sqrt(variance), 1e-7)")


def bn(center=True, scale=True):
    return {"epsilon": 1e-3, "momentum": 0.9, "center": center, "scale": scale}


BN_VAR = {"moving_variance_after":
          "torch updates running_var with the UNBIASED batch variance (n/(n-1) * biased, n = N*H*W = 50);"
          " Keras 3 with the biased one (the one it normalises with). Both normalise with the biased variance."}
case("batch_norm_inference", "batch_normalization", bn(), [[2, 5, 5, 4]])
case("batch_norm_training", "batch_normalization", bn(), [[2, 5, 5, 4]], training=True, known_differences=BN_VAR)
case("batch_norm_training_noaffine", "batch_normalization", bn(center=False, scale=False), [[2, 5, 5, 3]],
     training=True, known_differences=BN_VAR)
case("batch_norm_inference_scale_only", "batch_normalization", bn(center=False), [[2, 5, 5, 3]])
case("layer_norm_channels", "layer_normalization", {"axis": -1, "epsilon": 1e-3, "center": True, "scale": True},
     [[2, 3, 3, 4]], notes="torch: F.layer_norm over the last axis of the channels-last tensor")
case("layer_norm_chw", "layer_normalization", {"axis": [1, 2, 3], "epsilon": 1e-3, "center": True, "scale": True},
     [[2, 3, 3, 4]], notes="gamma/beta shaped [H,W,C]; torch: F.layer_norm(NCHW, [C,H,W]) with permuted params")
case("layer_norm_channels_noaffine", "layer_normalization",
     {"axis": -1, "epsilon": 1e-5, "center": False, "scale": False}, [[2, 3, 3, 4]])

# activations
ACTIVATIONS = ["relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softmax", "log_softmax", "swish",
               "hard_sigmoid_keras2", "hard_sigmoid", "hard_swish", "gelu", "gelu_tanh", "softplus", "softsign",
               "mish", "exponential"]
for a in ACTIVATIONS:
    settings = {"activation": a}
    if a == "leaky_relu":
        settings["alpha"] = 0.2
    notes = {
        "hard_sigmoid_keras2": "Keras 2 (tf-keras 2.21) hard_sigmoid = clip(0.2 x + 0.5, 0, 1); keras peer is tf-keras",
        "hard_sigmoid": "Keras 3 hard_sigmoid = relu6(x + 3) / 6 = torch F.hardsigmoid",
        "softmax": "over the channel axis (-1 NHWC, dim 1 NCHW)",
        "log_softmax": "over the channel axis (-1 NHWC, dim 1 NCHW)",
        "gelu": "exact (erf): keras.activations.gelu default approximate=False; torch approximate='none'",
        "gelu_tanh": "tanh approximation: keras gelu(approximate=True), torch approximate='tanh'",
        "swish": "x * sigmoid(x) = torch F.silu",
        "softplus": "torch F.softplus is linear above its threshold 20 (inputs here stay below)",
    }.get(a)
    case(f"activation_{a}", "activation", settings, [[2, 3, 3, 4]],
         peers=KERAS_ONLY if a == "hard_sigmoid_keras2" else BOTH, notes=notes)

case("dense_4d", "dense", {"units": 5, "use_bias": True}, [[2, 3, 3, 4]], notes="Keras Dense on the last axis")


# --------------------------------------------------------------------------------------------------
# Inputs and weights (numpy, seeded per case by the case name).
# --------------------------------------------------------------------------------------------------
def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def make_r(c, shape):
    """The upstream gradient r = dL/dy, shaped like y: its own seed, so each worker draws the same r."""
    return f32(np.random.default_rng([zlib.crc32(c["name"].encode()), 1]).standard_normal(tuple(shape)))


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


# Values placed first in every activation input: both sides of the kinks at 0, +-2.5 (Keras 2 hard_sigmoid)
# and +-3 (relu6-based hard ops, relu6 at 6 is out of range), none exactly on one, so derivatives are defined.
KINKS = [-3.05, -2.95, -2.55, -2.45, -0.05, 0.05, 2.45, 2.55, 2.95, 3.05, -4.9, 4.9]


def make_inputs(c, rng):
    xs = []
    for shape in c["inputs"]:
        if c["op"] == "activation":
            x = rng.uniform(-5, 5, size=shape)
            flat = x.reshape(-1)
            flat[:len(KINKS)] = KINKS
        else:
            x = rng.standard_normal(shape)
        xs.append(f32(x))
    return xs


def make_weights(c, rng):
    s, op, shape = c["settings"], c["op"], c["inputs"][0]
    cin = shape[-1]
    w = {}

    def normal(*dims, std=0.5):
        return f32(rng.standard_normal(dims) * std)

    if op == "conv2d":
        w["kernel"] = normal(*s["kernel"], cin // s["groups"], s["filters"])
        if s["use_bias"]:
            w["bias"] = normal(s["filters"])
    elif op == "depthwise_conv2d":
        w["depthwise_kernel"] = normal(*s["kernel"], cin, s["depth_multiplier"])
        if s["use_bias"]:
            w["bias"] = normal(cin * s["depth_multiplier"])
    elif op == "separable_conv2d":
        w["depthwise_kernel"] = normal(*s["kernel"], cin, s["depth_multiplier"])
        w["pointwise_kernel"] = normal(1, 1, cin * s["depth_multiplier"], s["filters"])
        if s["use_bias"]:
            w["bias"] = normal(s["filters"])
    elif op == "conv2d_transpose":
        w["kernel"] = normal(*s["kernel"], s["filters"], cin)
        if s["use_bias"]:
            w["bias"] = normal(s["filters"])
    elif op == "dense":
        w["kernel"] = normal(cin, s["units"])
        if s["use_bias"]:
            w["bias"] = normal(s["units"])
    elif op == "normalization":
        w["mean"] = normal(cin, std=1.0)
        w["variance"] = f32(rng.uniform(0.5, 2.0, cin))
    elif op == "batch_normalization":
        if s["scale"]:
            w["gamma"] = f32(1 + 0.3 * rng.standard_normal(cin))
        if s["center"]:
            w["beta"] = normal(cin)
        w["moving_mean"] = normal(cin)
        w["moving_variance"] = f32(rng.uniform(0.5, 2.0, cin))
    elif op == "layer_normalization":
        pshape = [cin] if s["axis"] == -1 else [shape[a] for a in s["axis"]]
        if s["scale"]:
            w["gamma"] = f32(1 + 0.3 * rng.standard_normal(pshape))
        if s["center"]:
            w["beta"] = normal(*pshape)
    return w


# --------------------------------------------------------------------------------------------------
# Padding arithmetic shared by both sides.
# --------------------------------------------------------------------------------------------------
def tf_same_pads(n, k, s, d=1):
    """TF/Keras 'same': output ceil(n/s); total padding split floor/ceil -> the extra cell goes bottom/right."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return [total // 2, total - total // 2]


def resolve_pads(padding, hw, kernel, strides, dilation=(1, 1)):
    if padding == "valid":
        return [[0, 0], [0, 0]]
    if padding == "same":
        return [tf_same_pads(hw[i], kernel[i], strides[i], dilation[i]) for i in range(2)]
    return [list(p) for p in padding]


def tuple2(p):
    return tuple(tuple(q) for q in p)


# --------------------------------------------------------------------------------------------------
# Keras 3 side: each builder returns (call(xs, training) -> y, {npz weight name: keras variable}).
# --------------------------------------------------------------------------------------------------
def kbuild(layer, shape):
    layer.build(tuple([None] + list(shape[1:])))
    return layer


def keras_conv2d(s, shapes):
    explicit = isinstance(s["padding"], list)
    layer = L.Conv2D(s["filters"], tuple(s["kernel"]), strides=tuple(s["strides"]),
                     padding="valid" if explicit else s["padding"], dilation_rate=tuple(s["dilation"]),
                     groups=s["groups"], use_bias=s["use_bias"], activation=s["activation"])
    shape = list(shapes[0])
    pad = None
    if explicit:  # Keras has no explicit conv padding: the Keras idiom is ZeroPadding2D + 'valid'
        pad = L.ZeroPadding2D(tuple2(s["padding"]))
        shape[1] += sum(s["padding"][0])
        shape[2] += sum(s["padding"][1])
    kbuild(layer, shape)
    v = {"kernel": layer.kernel}
    if s["use_bias"]:
        v["bias"] = layer.bias
    return (lambda xs, tr: layer(pad(xs[0]) if pad else xs[0])), v, [layer]


def keras_depthwise_conv2d(s, shapes):
    layer = kbuild(L.DepthwiseConv2D(tuple(s["kernel"]), strides=tuple(s["strides"]), padding=s["padding"],
                                     depth_multiplier=s["depth_multiplier"], dilation_rate=tuple(s["dilation"]),
                                     use_bias=s["use_bias"]), shapes[0])
    v = {"depthwise_kernel": layer.kernel}  # Keras 3 names it "kernel", Keras 2 "depthwise_kernel"
    if s["use_bias"]:
        v["bias"] = layer.bias
    return (lambda xs, tr: layer(xs[0])), v, [layer]


def keras_separable_conv2d(s, shapes):
    layer = kbuild(L.SeparableConv2D(s["filters"], tuple(s["kernel"]), strides=tuple(s["strides"]),
                                     padding=s["padding"], depth_multiplier=s["depth_multiplier"],
                                     dilation_rate=tuple(s["dilation"]), use_bias=s["use_bias"]), shapes[0])
    v = {"depthwise_kernel": layer.depthwise_kernel, "pointwise_kernel": layer.pointwise_kernel}
    if s["use_bias"]:
        v["bias"] = layer.bias
    return (lambda xs, tr: layer(xs[0])), v, [layer]


def keras_conv2d_transpose(s, shapes):
    layer = kbuild(L.Conv2DTranspose(s["filters"], tuple(s["kernel"]), strides=tuple(s["strides"]),
                                     padding=s["padding"], use_bias=s["use_bias"]), shapes[0])
    v = {"kernel": layer.kernel}
    if s["use_bias"]:
        v["bias"] = layer.bias
    return (lambda xs, tr: layer(xs[0])), v, [layer]


def keras_dense(s, shapes):
    layer = kbuild(L.Dense(s["units"], use_bias=s["use_bias"]), shapes[0])
    v = {"kernel": layer.kernel}
    if s["use_bias"]:
        v["bias"] = layer.bias
    return (lambda xs, tr: layer(xs[0])), v, [layer]


def keras_single(make):
    def build(s, shapes):
        layer = make(s)
        return (lambda xs, tr: layer(xs[0])), {}, [layer]
    return build


def keras_merge(cls):
    def build(s, shapes):
        layer = cls(**s)
        return (lambda xs, tr: layer(list(xs))), {}, [layer]
    return build


def keras_pool(cls):
    def build(s, shapes):
        assert s["padding"] in ("valid", "same") and not s["ceil_mode"], "not a Keras pooling"
        layer = cls(tuple(s["pool"]), strides=tuple(s["strides"]), padding=s["padding"])
        return (lambda xs, tr: layer(xs[0])), {}, [layer]
    return build


def keras_normalization(s, shapes, ws):
    layer = L.Normalization(axis=-1, mean=ws["mean"], variance=ws["variance"])
    return (lambda xs, tr: layer(xs[0])), {}, [layer]


def keras_batch_normalization(s, shapes):
    layer = kbuild(L.BatchNormalization(epsilon=s["epsilon"], momentum=s["momentum"], center=s["center"],
                                        scale=s["scale"]), shapes[0])
    v = {}
    if s["scale"]:
        v["gamma"] = layer.gamma
    if s["center"]:
        v["beta"] = layer.beta
    v["moving_mean"] = layer.moving_mean
    v["moving_variance"] = layer.moving_variance
    return (lambda xs, tr: layer(xs[0], training=tr)), v, [layer]


def keras_layer_normalization(s, shapes):
    layer = kbuild(L.LayerNormalization(axis=s["axis"], epsilon=s["epsilon"], center=s["center"],
                                        scale=s["scale"]), shapes[0])
    v = {}
    if s["scale"]:
        v["gamma"] = layer.gamma
    if s["center"]:
        v["beta"] = layer.beta
    return (lambda xs, tr: layer(xs[0])), v, [layer]


def keras_activations():
    return {
        "relu": keras.activations.relu,
        "relu6": keras.activations.relu6,
        "leaky_relu": lambda x: keras.activations.leaky_relu(x, negative_slope=0.2),
        "elu": keras.activations.elu,
        "selu": keras.activations.selu,
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "softmax": keras.activations.softmax,
        "log_softmax": keras.activations.log_softmax,
        "swish": keras.activations.swish,
        "hard_sigmoid": keras.activations.hard_sigmoid,
        "hard_swish": keras.activations.hard_swish,
        "gelu": keras.activations.gelu,  # approximate=False by default here (keras.ops.gelu defaults to True!)
        "gelu_tanh": lambda x: keras.activations.gelu(x, approximate=True),
        "softplus": keras.activations.softplus,
        "softsign": keras.activations.softsign,
        "mish": keras.activations.mish,
        "exponential": keras.activations.exponential,
    }


def keras_activation(s, shapes):
    layer = L.Activation(keras_activations()[s["activation"]])
    return (lambda xs, tr: layer(xs[0])), {}, [layer]


def keras_table():
    return {
        "conv2d": keras_conv2d,
        "depthwise_conv2d": keras_depthwise_conv2d,
        "separable_conv2d": keras_separable_conv2d,
        "conv2d_transpose": keras_conv2d_transpose,
        "dense": keras_dense,
        "zero_padding2d": keras_single(lambda s: L.ZeroPadding2D(tuple2(s["padding"]))),
        "cropping2d": keras_single(lambda s: L.Cropping2D(tuple2(s["cropping"]))),
        "upsampling2d": keras_single(lambda s: L.UpSampling2D(tuple(s["size"]), interpolation=s["interpolation"])),
        "reshape": keras_single(lambda s: L.Reshape(tuple(s["target_shape"]))),
        "flatten": keras_single(lambda s: L.Flatten()),
        "permute": keras_single(lambda s: L.Permute(tuple(s["dims"]))),
        "max_pooling2d": keras_pool(L.MaxPooling2D),
        "average_pooling2d": keras_pool(L.AveragePooling2D),
        "global_average_pooling2d": keras_single(lambda s: L.GlobalAveragePooling2D(keepdims=s["keepdims"])),
        "global_max_pooling2d": keras_single(lambda s: L.GlobalMaxPooling2D(keepdims=s["keepdims"])),
        "add": keras_merge(L.Add),
        "subtract": keras_merge(L.Subtract),
        "multiply": keras_merge(L.Multiply),
        "average": keras_merge(L.Average),
        "maximum": keras_merge(L.Maximum),
        "minimum": keras_merge(L.Minimum),
        "concatenate": keras_merge(L.Concatenate),
        "rescaling": keras_single(lambda s: L.Rescaling(s["scale"], offset=s["offset"])),
        "batch_normalization": keras_batch_normalization,
        "layer_normalization": keras_layer_normalization,
        "activation": keras_activation,
    }


def run_keras(c, xs, ws):
    if c["op"] == "normalization":  # mean/variance are constructor arguments, not variables
        call, variables, layers = keras_normalization(c["settings"], c["inputs"], ws)
    else:
        call, variables, layers = keras_table()[c["op"]](c["settings"], c["inputs"])
    n_layer_weights = sum(len(layer.weights) for layer in layers)
    assert n_layer_weights == len(variables), (c["name"], [w.path for layer in layers for w in layer.weights])
    for name, var in variables.items():
        assert tuple(var.shape) == ws[name].shape, (c["name"], name, var.shape, ws[name].shape)
        var.assign(ws[name])
    trainable = {n: v for n, v in variables.items() if v.trainable}
    assert set(trainable) == {n for n in ws if n in TRAINABLE}, (c["name"], list(trainable))
    xt = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = call(xt, c["training"])  # the one forward (moves the BN statistics in training mode)
    out = {"y": y.numpy()}
    if c["op"] == "batch_normalization" and c["training"]:
        out["moving_mean_after"] = variables["moving_mean"].numpy()
        out["moving_variance_after"] = variables["moving_variance"].numpy()
    out["r"] = make_r(c, out["y"].shape)
    names = [f"dx{i}" for i in range(len(xt))] + [f"d{n}" for n in trainable]
    # dL/d(sources) for L = sum(y * r): back-propagate r
    g = tape.gradient(y, xt + list(trainable.values()), output_gradients=tf.constant(out["r"]))
    assert all(t is not None for t in g), c["name"]
    out.update({n: t.numpy() for n, t in zip(names, g)})
    return out


def run_tf_keras(c, xs, ws):
    """Keras 2's hard_sigmoid, from tf-keras 2.21 (its own worker process)."""
    assert c["settings"] == {"activation": "hard_sigmoid_keras2"}, c["name"]
    x = tf.constant(xs[0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf_keras.activations.hard_sigmoid(x)  # tf_keras.backend.hard_sigmoid: clip(0.2 x + 0.5, 0, 1)
    r = make_r(c, y.shape)
    dx = tape.gradient(y, x, output_gradients=tf.constant(r))
    # Cross-check the definition (kinks at +-2.5) with numpy.
    ref = np.clip(np.float32(0.2) * xs[0] + np.float32(0.5), 0, 1)
    assert np.abs(ref - y.numpy()).max() <= 1e-6, np.abs(ref - y.numpy()).max()
    assert np.array_equal(dx.numpy(), np.where(np.abs(xs[0]) < 2.5, np.float32(0.2) * r, 0).astype(np.float32))
    return {"y": y.numpy(), "r": r, "dx0": dx.numpy()}


# --------------------------------------------------------------------------------------------------
# PyTorch side: each function gets the inputs as NCHW tensors (converted from the Keras-layout
# leaves inside the autograd graph), the weights as Keras-layout leaves, and returns y in the Keras
# layout. Emulations of TF semantics are marked EMULATION.
# --------------------------------------------------------------------------------------------------
# The converted tensors are made contiguous, as a torch model's inputs (NCHW) and parameters (OIHW) are.
# (Besides, torch 2.15's oneDNN path corrupts the heap in the backward of a 1x1 stride-2 conv2d whose input
# is a channels-last view and whose weight is the raw permuted HWIO view: abort/segfault in most runs.)
def nchw(x):
    return x.permute(0, 3, 1, 2).contiguous()


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def oihw(k):  # Keras HWIO [kh, kw, cin/groups, cout] -> torch [cout, cin/groups, kh, kw]
    return k.permute(3, 2, 0, 1).contiguous()


def depthwise_weight(dk):  # Keras [kh, kw, C, m] -> torch [C*m, 1, kh, kw]; channel c*m + j in both
    kh, kw, ch, m = dk.shape
    return dk.reshape(kh, kw, ch * m).permute(2, 0, 1).unsqueeze(1).contiguous()


def torch_padded(x, pads, value=0.0):
    """Returns (x, torch symmetric padding): symmetric pads stay torch's own padding argument; asymmetric
    ones (TF 'same' with the extra cell at the bottom/right, or explicit) are an EMULATION via F.pad."""
    (t, b), (l, r) = pads
    if t == b and l == r:
        return x, (t, l)
    return F.pad(x, (l, r, t, b), value=value), (0, 0)


def torch_activations():
    return {
        "linear": lambda x: x,
        "relu": F.relu,
        "relu6": F.relu6,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
        "elu": F.elu,
        "selu": F.selu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda x: F.softmax(x, dim=1),
        "log_softmax": lambda x: F.log_softmax(x, dim=1),
        "swish": F.silu,
        "hard_sigmoid": F.hardsigmoid,
        "hard_swish": F.hardswish,
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "softplus": F.softplus,
        "softsign": F.softsign,
        "mish": F.mish,
        "exponential": torch.exp,
    }


def torch_conv2d(s, xs, w, training, state):
    x = xs[0]
    pads = resolve_pads(s["padding"], x.shape[2:], s["kernel"], s["strides"], s["dilation"])
    x, padding = torch_padded(x, pads)
    y = F.conv2d(x, oihw(w["kernel"]), w.get("bias"), tuple(s["strides"]), padding, tuple(s["dilation"]),
                 s["groups"])
    return nhwc(torch_activations()[s["activation"]](y))


def torch_depthwise_conv2d(s, xs, w, training, state):
    x = xs[0]
    pads = resolve_pads(s["padding"], x.shape[2:], s["kernel"], s["strides"], s["dilation"])
    x, padding = torch_padded(x, pads)
    y = F.conv2d(x, depthwise_weight(w["depthwise_kernel"]), w.get("bias"), tuple(s["strides"]), padding,
                 tuple(s["dilation"]), x.shape[1])
    return nhwc(y)


def torch_separable_conv2d(s, xs, w, training, state):
    x = xs[0]
    pads = resolve_pads(s["padding"], x.shape[2:], s["kernel"], s["strides"], s["dilation"])
    x, padding = torch_padded(x, pads)
    y = F.conv2d(x, depthwise_weight(w["depthwise_kernel"]), None, tuple(s["strides"]), padding,
                 tuple(s["dilation"]), x.shape[1])
    y = F.conv2d(y, oihw(w["pointwise_kernel"]), w.get("bias"))
    return nhwc(y)


def torch_conv2d_transpose(s, xs, w, training, state):
    x = xs[0]
    # Keras [kh, kw, filters, cin] -> torch [cin, filters, kh, kw]
    weight = w["kernel"].permute(3, 2, 0, 1).contiguous()
    full_shape = []
    crops = []
    for i in range(2):
        n, k, st = x.shape[2 + i], s["kernel"][i], s["strides"][i]
        full = (n - 1) * st + k  # the uncropped transposed-convolution length
        out = n * st if s["padding"] == "same" else n * st + max(k - st, 0)  # Keras' output length
        assert full >= out, "Keras pads a 'valid' transpose with k < stride: not covered"
        total = full - out
        crops.append((total // 2, total - total // 2))  # Keras/TF: the forward conv's 'same' pads
        full_shape.append(full)
    if all(a == b for a, b in crops):  # torch's symmetric `padding` expresses it
        y = F.conv_transpose2d(x, weight, w.get("bias"), tuple(s["strides"]), (crops[0][0], crops[1][0]))
    else:
        # EMULATION: TF crops the odd extra row/column at the bottom/right; torch's padding=p,
        # output_padding=1 would crop it at the top/left instead. Transpose uncropped, then slice.
        y = F.conv_transpose2d(x, weight, w.get("bias"), tuple(s["strides"]))
        (t, b), (l, r) = crops
        y = y[:, :, t:full_shape[0] - b, l:full_shape[1] - r]
    return nhwc(y)


def torch_dense(s, xs, w, training, state):
    return F.linear(nhwc(xs[0]), w["kernel"].t(), w.get("bias"))


def torch_zero_padding2d(s, xs, w, training, state):
    (t, b), (l, r) = s["padding"]
    return nhwc(F.pad(xs[0], (l, r, t, b)))


def torch_cropping2d(s, xs, w, training, state):
    (t, b), (l, r) = s["cropping"]
    x = xs[0]
    return nhwc(x[:, :, t:x.shape[2] - b, l:x.shape[3] - r])


def torch_upsampling2d(s, xs, w, training, state):
    mode = s["interpolation"]
    kw = {"align_corners": False} if mode == "bilinear" else {}
    return nhwc(F.interpolate(xs[0], scale_factor=tuple(float(f) for f in s["size"]), mode=mode, **kw))


def torch_reshape(s, xs, w, training, state):
    # Keras reshapes the NHWC tensor: back to channels-last first (a torch view of NCHW has another order).
    return nhwc(xs[0]).reshape(xs[0].shape[0], *s["target_shape"])


def torch_flatten(s, xs, w, training, state):
    # Keras order (channels fastest); torch.flatten on NCHW would put channels slowest.
    return nhwc(xs[0]).reshape(xs[0].shape[0], -1)


def torch_permute(s, xs, w, training, state):
    return nhwc(xs[0]).permute(0, *s["dims"])


def torch_max_pooling2d(s, xs, w, training, state):
    x = xs[0]
    pool, strides, padding = tuple(s["pool"]), tuple(s["strides"]), s["padding"]
    if padding == "same":
        # EMULATION of TF 'same' max pooling: padded cells never win (-inf), extra cell bottom/right.
        pads = resolve_pads("same", x.shape[2:], pool, strides)
        x, tp = torch_padded(x, pads, value=float("-inf"))
        return nhwc(F.max_pool2d(x, pool, strides, tp))
    pads = resolve_pads(padding, x.shape[2:], pool, strides)
    assert pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1], "torch pooling padding is symmetric"
    return nhwc(F.max_pool2d(x, pool, strides, (pads[0][0], pads[1][0]), ceil_mode=s["ceil_mode"]))


def torch_average_pooling2d(s, xs, w, training, state):
    x = xs[0]
    pool, strides, padding = tuple(s["pool"]), tuple(s["strides"]), s["padding"]
    if padding == "same":
        # EMULATION of TF 'same' average pooling: the sum over the window of the zero-padded input
        # divided by the number of valid (unpadded) cells in the window.
        (t, b), (l, r) = resolve_pads("same", x.shape[2:], pool, strides)
        total = F.avg_pool2d(F.pad(x, (l, r, t, b)), pool, strides, divisor_override=1)
        ones = F.pad(torch.ones((1, 1) + tuple(x.shape[2:])), (l, r, t, b))
        count = F.avg_pool2d(ones, pool, strides, divisor_override=1)
        return nhwc(total / count)
    pads = resolve_pads(padding, x.shape[2:], pool, strides)
    assert pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1], "torch pooling padding is symmetric"
    return nhwc(F.avg_pool2d(x, pool, strides, (pads[0][0], pads[1][0]), ceil_mode=s["ceil_mode"],
                             count_include_pad=s["count_include_pad"]))


def torch_global(reduce):
    def fn(s, xs, w, training, state):
        y = reduce(xs[0], 1)
        return nhwc(y) if s["keepdims"] else y.flatten(1)
    return fn


def torch_adaptive_average_pooling2d(s, xs, w, training, state):
    return nhwc(F.adaptive_avg_pool2d(xs[0], tuple(s["output_size"])))


def torch_fold(op):
    def fn(s, xs, w, training, state):
        y = xs[0]
        for x in xs[1:]:
            y = op(y, x)
        return nhwc(y)
    return fn


def torch_average(s, xs, w, training, state):
    y = xs[0]
    for x in xs[1:]:
        y = y + x
    return nhwc(y / len(xs))


def torch_concatenate(s, xs, w, training, state):
    dim = {-1: 1, 3: 1, 1: 2, 2: 3}[s["axis"]]  # NHWC axis -> NCHW dim
    return nhwc(torch.cat(xs, dim))


def torch_rescaling(s, xs, w, training, state):
    return nhwc(xs[0] * s["scale"] + s["offset"])


def torch_normalization(s, xs, w, training, state):
    # Keras 3 Normalization: (x - mean) / max(sqrt(variance), epsilon 1e-7)
    mean = w["mean"].view(1, -1, 1, 1)
    std = torch.clamp(torch.sqrt(w["variance"]), min=1e-7).view(1, -1, 1, 1)
    return nhwc((xs[0] - mean) / std)


def torch_batch_normalization(s, xs, w, training, state):
    state["running_mean"] = w["moving_mean"].detach().clone()
    state["running_var"] = w["moving_variance"].detach().clone()
    y = F.batch_norm(xs[0], state["running_mean"], state["running_var"], w.get("gamma"), w.get("beta"),
                     training=training, momentum=1 - s["momentum"], eps=s["epsilon"])
    return nhwc(y)


def torch_layer_normalization(s, xs, w, training, state):
    x = xs[0]
    if s["axis"] == -1:  # over channels: the channels-last tensor's last axis
        return F.layer_norm(nhwc(x), (x.shape[1],), w.get("gamma"), w.get("beta"), s["epsilon"])
    assert s["axis"] == [1, 2, 3]
    gamma = w["gamma"].permute(2, 0, 1) if "gamma" in w else None  # Keras [H, W, C] -> [C, H, W]
    beta = w["beta"].permute(2, 0, 1) if "beta" in w else None
    return nhwc(F.layer_norm(x, tuple(x.shape[1:]), gamma, beta, s["epsilon"]))


def torch_activation(s, xs, w, training, state):
    return nhwc(torch_activations()[s["activation"]](xs[0]))


def torch_table():
    return {
        "conv2d": torch_conv2d,
        "depthwise_conv2d": torch_depthwise_conv2d,
        "separable_conv2d": torch_separable_conv2d,
        "conv2d_transpose": torch_conv2d_transpose,
        "dense": torch_dense,
        "zero_padding2d": torch_zero_padding2d,
        "cropping2d": torch_cropping2d,
        "upsampling2d": torch_upsampling2d,
        "reshape": torch_reshape,
        "flatten": torch_flatten,
        "permute": torch_permute,
        "max_pooling2d": torch_max_pooling2d,
        "average_pooling2d": torch_average_pooling2d,
        "global_average_pooling2d": torch_global(F.adaptive_avg_pool2d),
        "global_max_pooling2d": torch_global(F.adaptive_max_pool2d),
        "adaptive_average_pooling2d": torch_adaptive_average_pooling2d,
        "add": torch_fold(torch.add),
        "subtract": torch_fold(torch.sub),
        "multiply": torch_fold(torch.mul),
        "average": torch_average,
        "maximum": torch_fold(torch.maximum),
        "minimum": torch_fold(torch.minimum),
        "concatenate": torch_concatenate,
        "rescaling": torch_rescaling,
        "normalization": torch_normalization,
        "batch_normalization": torch_batch_normalization,
        "layer_normalization": torch_layer_normalization,
        "activation": torch_activation,
    }


def run_torch(c, xs, ws):
    xl = [torch.tensor(x, requires_grad=True) for x in xs]
    wl = {n: torch.tensor(a, requires_grad=n in TRAINABLE) for n, a in ws.items()}
    trainable = {n: t for n, t in wl.items() if n in TRAINABLE}
    state = {}
    y = torch_table()[c["op"]](c["settings"], [nchw(x) for x in xl], wl, c["training"], state)
    out = {"y": y.detach().numpy()}
    if c["op"] == "batch_normalization" and c["training"]:
        out["moving_mean_after"] = state["running_mean"].numpy()
        out["moving_variance_after"] = state["running_var"].numpy()
    out["r"] = make_r(c, out["y"].shape)
    names = [f"dx{i}" for i in range(len(xl))] + [f"d{n}" for n in trainable]
    # dL/d(leaves) for L = sum(y * r); the leaves are Keras-layout arrays, so are their gradients
    g = torch.autograd.grad(y, xl + list(trainable.values()), grad_outputs=torch.tensor(out["r"]))
    out.update({n: t.detach().numpy() for n, t in zip(names, g)})
    return out


# --------------------------------------------------------------------------------------------------
# Workers: one process per framework.
# --------------------------------------------------------------------------------------------------
def worker(peer, folder):
    global tf, keras, L, torch, F, tf_keras
    if peer in ("keras", "tf_keras"):
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.experimental.enable_op_determinism()
        tf.random.set_seed(0)  # no initializer value survives (every weight is assigned), but seed anyway
        if peer == "keras":
            import keras
            assert keras.backend.backend() == "tensorflow"
            L = keras.layers
            versions = {"keras": keras.__version__, "tensorflow": tf.__version__}
        else:
            import tf_keras
            versions = {"tf_keras": tf_keras.__version__}
        run = run_keras if peer == "keras" else run_tf_keras
    else:
        import torch
        import torch.nn.functional as F
        torch.manual_seed(0)
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.set_default_dtype(torch.float32)
        versions = {"torch": torch.__version__}
        run = run_torch
    os.makedirs(os.path.join(folder, peer), exist_ok=True)
    with open(os.path.join(folder, "cases.json")) as f:
        cases = json.load(f)  # as the driver completed them (weight names)
    for c in cases:
        if peer_of(c, peer):
            with np.load(os.path.join(folder, "in", c["name"] + ".npz")) as z:
                xs = [z[f"x{i}"] for i in range(len(c["inputs"]))]
                ws = {n: z[n] for n in c["weights"]}
            if os.environ.get("ZOO_FIXTURES_VERBOSE"):
                print(f"  {peer}: {c['name']}", file=sys.stderr, flush=True)
            out = run(c, xs, ws)
            np.savez(os.path.join(folder, peer, c["name"] + ".npz"), **{n: f32(a) for n, a in out.items()})
    with open(os.path.join(folder, peer, "versions.json"), "w") as f:
        json.dump(versions, f)


def peer_of(c, peer):
    """Which worker produces a case's peer: the Keras-2 hard_sigmoid's "keras" values come from tf-keras."""
    k2 = c["settings"].get("activation") == "hard_sigmoid_keras2"
    if peer == "tf_keras":
        return k2
    return peer in c["peers"] and not (peer == "keras" and k2)


# --------------------------------------------------------------------------------------------------
# Driver.
# --------------------------------------------------------------------------------------------------
def npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # stored (uncompressed) members, fixed 1980 timestamps: reproducible bytes
    return buf.getvalue()


def compare(c, arrays):
    """Asserts Keras and torch agree on every array both produced; returns the max |keras - torch|."""
    known = set(c.get("known_differences", {}))
    keys = sorted({n[:-len("_keras")] for n in arrays if n.endswith("_keras")})
    assert keys == sorted({n[:-len("_torch")] for n in arrays if n.endswith("_torch")}), c["name"]
    worst = 0.0
    for k in keys:
        a, b = arrays[f"{k}_keras"], arrays[f"{k}_torch"]
        assert a.shape == b.shape, (c["name"], k, a.shape, b.shape)
        d = float(np.abs(a.astype(np.float64) - b).max())
        if k in known:
            assert d > 1e-5, (c["name"], k, "listed as a known difference but agrees")
            c.setdefault("known_differences_max_diff", {})[k] = d
            continue
        tol = 1e-5 * (1 + float(np.abs(a).max()))
        assert d <= tol, f"{c['name']}: keras and torch disagree on {k}: {d:.3g} > {tol:.3g}"
        worst = max(worst, d)
    return worst


def torch_windows(n, k, s, pad, ceil_mode):
    """torch's pooling windows along one axis: (start, end, divisor-with-padding), in unpadded coordinates."""
    span = n + 2 * pad - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + pad:  # the last window must start inside the input or left padding
        out -= 1
    windows = []
    for i in range(out):
        start = i * s - pad
        end = min(start + k, n + pad)  # the ceil overhang past the padding is never counted
        windows.append((max(start, 0), min(end, n), end - start))
    return windows


def numpy_reference(c, x):
    """Independent numpy forward values for the torch-only cases, to pin down the semantics README.md states."""
    s, op = c["settings"], c["op"]
    n, h, w, ch = x.shape
    if op == "adaptive_average_pooling2d":
        oh, ow = s["output_size"]
        rows = [(i * h // oh, -(-(i + 1) * h // oh)) for i in range(oh)]
        cols = [(j * w // ow, -(-(j + 1) * w // ow)) for j in range(ow)]
        return np.array([[[x[b, r0:r1, c0:c1].mean(axis=(0, 1)) for c0, c1 in cols] for r0, r1 in rows]
                         for b in range(n)])
    if op in ("max_pooling2d", "average_pooling2d"):
        pads = resolve_pads(s["padding"], (h, w), s["pool"], s["strides"])
        rows = torch_windows(h, s["pool"][0], s["strides"][0], pads[0][0], s["ceil_mode"])
        cols = torch_windows(w, s["pool"][1], s["strides"][1], pads[1][0], s["ceil_mode"])
        y = np.zeros((n, len(rows), len(cols), ch))
        for i, (r0, r1, rdiv) in enumerate(rows):
            for j, (c0, c1, cdiv) in enumerate(cols):
                cells = x[:, r0:r1, c0:c1].astype(np.float64)
                if op == "max_pooling2d":  # -inf padding: only real cells compete
                    y[:, i, j] = cells.max(axis=(1, 2))
                else:
                    div = rdiv * cdiv if s["count_include_pad"] else (r1 - r0) * (c1 - c0)
                    y[:, i, j] = cells.sum(axis=(1, 2)) / div
        return y
    return None


def check_semantics(c, arrays):
    """Checks the documented semantics with numpy where only one peer speaks, or where the peers differ."""
    if c["peers"] == ["torch"]:
        ref = numpy_reference(c, arrays["x0"])
        assert ref is not None, c["name"]
        d = np.abs(ref - arrays["y_torch"]).max()
        assert d <= 1e-6 * (1 + np.abs(ref).max()), (c["name"], d)
    if "moving_variance_after" in c.get("known_differences", {}):
        m, mv, x = c["settings"]["momentum"], arrays["moving_variance"], arrays["x0"].astype(np.float64)
        count = x.size // x.shape[-1]
        biased = x.var(axis=(0, 1, 2))
        for peer, var in (("keras", biased), ("torch", biased * count / (count - 1))):
            expected = m * mv + (1 - m) * var
            d = np.abs(expected - arrays[f"moving_variance_after_{peer}"]).max()
            assert d <= 1e-5, (c["name"], peer, d)
    if c["settings"].get("activation") in ("hard_sigmoid", "hard_sigmoid_keras2"):
        x = arrays["x0"].astype(np.float64)
        keras3 = c["settings"]["activation"] == "hard_sigmoid"
        ref = np.clip(x + 3, 0, 6) / 6 if keras3 else np.clip(0.2 * x + 0.5, 0, 1)
        for peer in c["peers"]:
            assert np.abs(ref - arrays[f"y_{peer}"]).max() <= 1e-6, (c["name"], peer)


def main():
    written = {}
    versions = {}
    with tempfile.TemporaryDirectory(prefix="zoo-op-fixtures-") as tmp:
        os.makedirs(os.path.join(tmp, "in"))
        inputs = {}
        for c in CASES:
            rng = rng_for(c["name"])
            xs = make_inputs(c, rng)
            ws = make_weights(c, rng)
            c["weights"] = list(ws)
            inputs[c["name"]] = {**{f"x{i}": x for i, x in enumerate(xs)}, **ws}
            np.savez(os.path.join(tmp, "in", c["name"] + ".npz"), **inputs[c["name"]])
        with open(os.path.join(tmp, "cases.json"), "w") as f:
            json.dump(CASES, f)
        for peer in ("keras", "tf_keras", "torch"):
            print(f"running the {peer} worker", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", peer, tmp], check=True)
            with open(os.path.join(tmp, peer, "versions.json")) as f:
                versions.update(json.load(f))
        for c in CASES:
            arrays = dict(inputs[c["name"]])
            r = None
            for worker_peer, peer in (("keras", "keras"), ("tf_keras", "keras"), ("torch", "torch")):
                if not peer_of(c, worker_peer):
                    continue
                with np.load(os.path.join(tmp, worker_peer, c["name"] + ".npz")) as z:
                    out = {n: z[n] for n in z.files}
                if r is None:
                    r = out["r"]
                    arrays["r"] = r
                assert np.array_equal(r, out.pop("r")), c["name"]
                for n, a in out.items():
                    arrays[f"{n}_{peer}"] = a
            c["max_diff_keras_torch"] = compare(c, arrays) if len(c["peers"]) == 2 else None
            check_semantics(c, arrays)
            written[c["name"] + ".npz"] = npz_bytes({n: f32(a) for n, a in arrays.items()})

    versions = {"keras": versions["keras"], "tensorflow": versions["tensorflow"], "torch": versions["torch"],
                "numpy": np.__version__, "tf_keras": versions["tf_keras"]}
    cases = []
    for c in CASES:
        ordered = {k: c[k] for k in ("name", "op", "settings", "inputs", "weights", "training", "peers",
                                     "max_diff_keras_torch")}
        for k in ("known_differences", "known_differences_max_diff", "notes"):
            if k in c:
                ordered[k] = c[k]
        cases.append(ordered)
    # One case per line: {"generator": ..., "versions": {...}, "cases": [CASE, ...]}
    head = json.dumps({"generator": "make_fixtures.py", "versions": versions})[:-1]
    body = ",\n  ".join(json.dumps(c) for c in cases)
    written["cases.json"] = f'{head},\n "cases": [\n  {body}\n ]\n}}\n'.encode()

    for f in sorted(os.listdir(HERE)):
        if f.endswith(".npz") and f not in written:
            os.remove(os.path.join(HERE, f))
    for f, data in written.items():
        with open(os.path.join(HERE, f), "wb") as out:
            out.write(data)

    print(f"{'case':36} {'op':28} {'peers':12} {'max|keras-torch|':>16}  sha256")
    for c in CASES:
        d = c["max_diff_keras_torch"]
        sha = hashlib.sha256(written[c["name"] + ".npz"]).hexdigest()[:16]
        extra = "".join(f"  ({k} differs by {v:.3g}: known)"
                        for k, v in c.get("known_differences_max_diff", {}).items())
        print(f"{c['name']:36} {c['op']:28} {'+'.join(c['peers']):12} {'-' if d is None else f'{d:.3g}':>16}"
              f"  {sha}{extra}")
    total = sum(len(b) for b in written.values())
    summary = hashlib.sha256()
    for f in sorted(written):
        summary.update(f.encode() + b"\0" + hashlib.sha256(written[f]).digest())
    both = [c["max_diff_keras_torch"] for c in CASES if c["max_diff_keras_torch"] is not None]
    print(f"{len(CASES)} cases ({len(both)} with both peers, worst max|keras-torch| {max(both):.3g}), "
          f"{len(written)} files, {total} bytes")
    print(f"sha256 summary (over each file's sorted name + sha256): {summary.hexdigest()}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        import faulthandler
        faulthandler.enable()
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
