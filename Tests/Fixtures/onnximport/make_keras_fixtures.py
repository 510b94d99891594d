"""Keras Applications through tf2onnx, for Tests/ZooKitTests/ONNXImportTests.swift.

Run from the repository root with the peer venv (tensorflow-cpu 2.21, tf-keras 2.21, tf2onnx 1.17,
onnxruntime 1.32; `pip install tf2onnx` adds it):
    /work/venv/peers/bin/python Tests/Fixtures/onnximport/make_keras_fixtures.py
tf2onnx converts tf.keras (Keras 2) models, so TF_USE_LEGACY_KERAS=1 selects tf-keras. It writes:
  keras_mobilenet_v2.opset13.onnx   MobileNetV2(alpha=0.35, 48×48, 5 classes, weights=None) with seeded
                                    random weights (kernels He-normal, BN γ ~ 1 + N(0, 0.1), β ~ N(0, 0.1),
                                    moving mean ~ N(0, 0.1), moving variance ~ U(0.5, 1.5)), converted by
                                    tf2onnx.convert.from_keras at opset 13 (input NHWC, batch free;
                                    tf2onnx folds BN into the convolutions, writes ReLU6 as Clip and pads
                                    the stride-2 depthwise convolutions with explicit Pad nodes)
  keras_mobilenet_v2.x.npy          the input, 2 seeded N(0, 1) images, NHWC float32
  keras_mobilenet_v2.opset13.y.npz  ONNX Runtime's output y0 (the softmax probabilities)
  keras3_mobilenet_v2.opset15.onnx  the same architecture in Keras 3.15 (TensorFlow backend), randomized the same
                                    way, written by Keras 3's own `model.export(path, format="onnx")` (tf2onnx
                                    inside, opset 15: BN left as Mul/Add by constants); its .x.npy and .y.npz
It prints the largest |ORT − Keras|. Keras 3 runs in a second process (TF_USE_LEGACY_KERAS must be unset there).
"""
import os
import subprocess
import sys

KERAS3 = "--keras3" in sys.argv
if not KERAS3:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
else:
    os.environ.pop("TF_USE_LEGACY_KERAS", None)
    os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize(model, rng):
    for layer in model.layers:
        weights = []
        for w in layer.weights:
            name, shape = w.name, tuple(w.shape)
            if "gamma" in name:
                v = 1 + 0.1 * rng.standard_normal(shape)
            elif "beta" in name or "moving_mean" in name:
                v = 0.1 * rng.standard_normal(shape)
            elif "moving_variance" in name:
                v = rng.uniform(0.5, 1.5, shape)
            elif "bias" in name:
                v = 0.05 * rng.standard_normal(shape)
            else:
                fan_in = int(np.prod(shape[:-1])) if "depthwise" not in name else int(np.prod(shape[:2]))
                v = rng.standard_normal(shape) * np.sqrt(2 / max(fan_in, 1))
            weights.append(v.astype(np.float32))
        if weights:
            layer.set_weights(weights)


def keras3():
    import keras
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(input_shape=(48, 48, 3), alpha=0.35, weights=None, classes=5)
    randomize(model, np.random.default_rng(1234))
    x = np.random.default_rng(11).standard_normal((2, 48, 48, 3)).astype(np.float32)
    want = np.asarray(model(x, training=False))
    stem = "keras3_mobilenet_v2"
    path = os.path.join(HERE, f"{stem}.opset15.onnx")
    model.export(path, format="onnx")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.save(os.path.join(HERE, f"{stem}.x.npy"), x)
    np.savez(os.path.join(HERE, f"{stem}.opset15.y.npz"), y0=y)
    print(f"{stem}: {os.path.getsize(path) / 1e6:.2f} MB, |ort - keras| {float(np.abs(y - want).max()):.2e}, "
          f"max y {float(y.max()):.3f}, outputs {y.shape}")


def main():
    if KERAS3:
        keras3()
        return
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.applications.MobileNetV2(input_shape=(48, 48, 3), alpha=0.35, weights=None, classes=5)
    randomize(model, np.random.default_rng(1234))
    x = np.random.default_rng(11).standard_normal((2, 48, 48, 3)).astype(np.float32)
    want = model(x, training=False).numpy()
    stem = "keras_mobilenet_v2"
    path = os.path.join(HERE, f"{stem}.opset13.onnx")
    spec = (tf.TensorSpec((None, 48, 48, 3), tf.float32, name="input"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=13, output_path=path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x})[0]
    np.save(os.path.join(HERE, f"{stem}.x.npy"), x)
    np.savez(os.path.join(HERE, f"{stem}.opset13.y.npz"), y0=y)
    print(f"{stem}: {os.path.getsize(path) / 1e6:.2f} MB, |ort - keras| {float(np.abs(y - want).max()):.2e}, "
          f"max y {float(y.max()):.3f}, outputs {y.shape}")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--keras3"], check=True)


if __name__ == "__main__":
    main()
