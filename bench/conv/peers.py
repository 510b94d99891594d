#!/usr/bin/env python3
"""CNN peers of Zoo's conv benchmark: PyTorch eager, torch.compile, ONNX Runtime and Keras 3
on the same CNNs, and the weights, inputs and outputs Zoo checks itself against.

    python bench/conv/peers.py                                   # everything (~25 min on the busy 2-core VM)
    python bench/conv/peers.py --only torch,ort --configs resnet50 --batches 1
    python bench/conv/peers.py --configs train --seconds 2
    python bench/conv/peers.py --export /tmp/conv-weights        # weights + fixtures for Zoo

Inference (float32, eval mode, 224x224 RGB, batch 1 and 32): resnet50, mobilenet_v2
(torchvision), efficientnet_lite0 (efficientnet-lite-pytorch). Training (Adam lr 1e-3, softmax
cross-entropy, 10 classes, train mode): small_cnn at batch 64 on 28x28x1, mobilenet_v2_035
(width 0.35) at batch 32 on 96x96x3; when named, mobilenet_v3_small_96 and efficientnet_b0_96
(torchvision's and Keras Applications' networks, 10 classes) at batch 32 on 96x96x3. Every model is built with seeded weights and randomized
BatchNorm statistics (see build()). bench/conv/README.md says how each peer is configured.

stdout carries only the protocol (the lead's bench script parses it):

    RESULT<TAB><peer><TAB><config><TAB><images per second>   (median over the timed repetitions)
    KERNELS<TAB><peer><TAB><text>                            (what the peer runs on)
    # anything else

with <peer> in torch, compile, ort, keras and <config> in "resnet50 b1", "resnet50 b32",
"mobilenet_v2 b1", ..., "train small_cnn b64", "train mobilenet_v2_035 b32". Library output
and logs go to stderr (the workers point fd 1 at stderr and write the protocol to a dup of it).

The main process imports neither torch nor TensorFlow (they crash when loaded into one process):
per model (and once for the training configs) it runs `peers.py --worker torch` (torch, compile,
ort) and then `peers.py --worker keras`, so the peers of a config run minutes apart at most.
"""
import argparse
import copy
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

MODELS = ["resnet50", "mobilenet_v2", "efficientnet_lite0"]  # inference
# Inference, only when named in --configs: Zoo's other built-in 224x224 architectures, built by
# the torchvision constructor of the same name (Zoo's `Architecture` raw values).
ZOO_MODELS = ["resnet18", "resnet34", "resnet101", "resnet152", "mobilenet_v3_small", "mobilenet_v3_large",
              "efficientnet_b0", "densenet121", "squeezenet1_1", "vgg11", "vgg11_bn", "vgg16"]
# Their Keras Applications counterparts (the same architecture, Keras' own layers and weights), where Keras has one.
KERAS_APPS = {"resnet101": "ResNet101", "resnet152": "ResNet152", "mobilenet_v3_small": "MobileNetV3Small",
              "mobilenet_v3_large": "MobileNetV3Large", "efficientnet_b0": "EfficientNetB0",
              "densenet121": "DenseNet121", "vgg16": "VGG16"}
TRAIN_MODELS = ["small_cnn", "mobilenet_v2_035"]              # training (`train` = these two)
# Training, only when named: the squeeze-excitation networks at 96x96, batch 32, 10 classes (fine-tuning
# a MobileNetV3 / EfficientNet: hard-swish or swish, the SE gate's broadcast product, stochastic depth).
SE_TRAIN_MODELS = ["mobilenet_v3_small_96", "efficientnet_b0_96"]
EXPORT_MODELS = MODELS + ["mobilenet_v2_035", "small_cnn"]
PEERS = ["torch", "compile", "ort", "keras"]
TORCH_PEERS = ["torch", "compile", "ort"]
RESOLUTION = {"resnet50": 224, "mobilenet_v2": 224, "efficientnet_lite0": 224, "mobilenet_v2_035": 96, "small_cnn": 28,
              "mobilenet_v3_small_96": 96, "efficientnet_b0_96": 96}
CHANNELS = {"small_cnn": 1}  # 3 otherwise
TRAIN_BATCH = {"small_cnn": 64, "mobilenet_v2_035": 32, "mobilenet_v3_small_96": 32, "efficientnet_b0_96": 32}
SEED = 0
BN_CALIBRATE = True  # --bn calibrated (default) | literal: see randomize_batchnorm

OUT = sys.stdout  # the protocol stream; a worker replaces it with a dup of fd 1 (see protocol_stream)


def emit(*fields):
    OUT.write("\t".join(str(f) for f in fields) + "\n")
    OUT.flush()


def note(text):
    for line in str(text).splitlines() or [""]:
        OUT.write("# " + line + "\n")
    OUT.flush()


def first_line(error):
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text[:240]}"


def protocol_stream():
    """Point fd 1 at stderr (whatever a library prints, in Python or C, goes there) and return a
    line-buffered stream on the original stdout for the protocol lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(saved, "w", buffering=1)


# ---------------------------------------------------------------------------------------------
# Timing


def timed(run, batch, warmup, seconds, min_iters):
    """`warmup` untimed calls, then timed calls until at least `min_iters` calls and `seconds`
    seconds; returns (median images/s, per-call seconds)."""
    for _ in range(warmup):
        run()
    times = Times()
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if len(times) >= min_iters and t1 - start >= seconds:
            break
    times.stop()
    return batch / statistics.median(times), times


class Times(list):
    """Per-call seconds, and the process CPU time (all threads) per wall second from creation to
    stop(): how many cores the peer got (and used) while it was timed."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu, self.cores = time.perf_counter(), time.process_time(), None

    def stop(self):
        self.cores = (time.process_time() - self.cpu) / max(time.perf_counter() - self.wall, 1e-9)


def spread(times):
    ms = sorted(t * 1e3 for t in times)
    cores = f", {times.cores:.2f} cores busy" if getattr(times, "cores", None) is not None else ""
    return (f"{len(ms)} timed, median {statistics.median(ms):.2f} ms, min {ms[0]:.2f}, max {ms[-1]:.2f}{cores}, "
            f"load average {os.getloadavg()[0]:.1f}")


def report(peer, config, rate, times, extra=""):
    note(f"{peer} {config}: {spread(times)}{extra}")
    emit("RESULT", peer, config, f"{rate:.2f}")


# ---------------------------------------------------------------------------------------------
# PyTorch models (shared by the benchmark and --export)


def small_cnn_torch():
    from collections import OrderedDict
    from torch import nn
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 32, 3, padding=1, bias=True)),
        ("bn1", nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(32, 64, 3, padding=1, bias=True)),
        ("bn2", nn.BatchNorm2d(64, eps=1e-3, momentum=0.01)),
        ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),  # NCHW order: feature index c*49 + h*7 + w
        ("fc", nn.Linear(64 * 7 * 7, 10)),
    ]))


def randomize_batchnorm(model, name, seed, calibrate=True):
    """BatchNorm that is not the identity, from a generator seeded with `seed`, in module order:
    gamma ~ 1 + N(0, 0.1²), beta ~ N(0, 0.1²), and per channel m ~ N(0, 0.1²), v ~ U(0.5, 1.5).

    calibrate=False: running_mean = m, running_var = v (the statistics of unit-scale activations).
    calibrate=True (default): running_mean = mu + m·sigma, running_var = v·sigma², where mu and sigma²
    are the channel's mean and variance at that BN's input on a seeded N(0, 1) calibration batch
    (BNs set one after the other in a single eval-mode pass, each seeing the earlier ones already
    set). With the plain draws the input-dependent part of the signal dies out in MobileNetV2 and
    EfficientNet-Lite0 (the two export samples' logits agree to ~5e-8: only the BN offsets reach
    the output) and grows to ~400 in ResNet-50; calibrated, every BN output is unit-scale up to
    the random gamma, beta, m, v, and the logits depend on the input."""
    import torch
    from torch import nn
    g = torch.Generator().manual_seed(seed)
    draws = {}
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                m, v = 0.1 * torch.randn(n, generator=g), 0.5 + torch.rand(n, generator=g)
                module.weight.copy_(1 + 0.1 * torch.randn(n, generator=g))
                module.bias.copy_(0.1 * torch.randn(n, generator=g))
                module.running_mean.copy_(m)
                module.running_var.copy_(v)
                draws[module] = (m, v)
    if not calibrate:
        return model

    def set_statistics(module, inputs):
        x = inputs[0]
        dims = [d for d in range(x.dim()) if d != 1]
        mean, var = x.mean(dims), x.var(dims, unbiased=False).clamp_min(1e-6)
        m, v = draws[module]
        module.running_mean.copy_(mean + m * var.sqrt())
        module.running_var.copy_(v * var)

    hooks = [module.register_forward_pre_hook(set_statistics) for module in draws]
    training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.from_numpy(seeded_input(name, 8, seed + 1)))
    model.train(training)
    for hook in hooks:
        hook.remove()
    return model


def build(name, seed=SEED, calibrate=None):
    """The PyTorch model `name` with the library's own initialisation under torch.manual_seed(seed),
    then random BatchNorm parameters and statistics (randomize_batchnorm with seed + 1, calibrated
    on seeded_input(name, 8, seed + 2)). Contiguous (NCHW) parameters."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    if name == "resnet50":
        model = torchvision.models.resnet50()
    elif name == "mobilenet_v2":
        model = torchvision.models.mobilenet_v2()
    elif name == "mobilenet_v2_035":
        model = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10)
    elif name == "efficientnet_lite0":
        from efficientnet_lite_pytorch import EfficientNet
        # Lite: ReLU6, no squeeze-excite, TF "same" padding as static ZeroPad2d (image_size 224).
        # Its set_swish() would replace the ReLU6 with swish, so it is not called; nothing else is
        # needed for export (the static padding is what makes it exportable).
        model = EfficientNet.from_name("efficientnet-lite0")
    elif name == "small_cnn":
        model = small_cnn_torch()
    elif name in SE_TRAIN_MODELS:
        model = getattr(torchvision.models, name[:-len("_96")])(num_classes=10)
    elif name in ZOO_MODELS:
        model = getattr(torchvision.models, name)()
    else:
        raise ValueError(name)
    return randomize_batchnorm(model, name, seed + 1, BN_CALIBRATE if calibrate is None else calibrate)


def seeded_input(name, batch, seed=SEED):
    """A fixed N(0, 1) NCHW float32 input at the model's resolution."""
    import numpy as np
    r, c = RESOLUTION.get(name, 224), CHANNELS.get(name, 3)
    return np.random.default_rng(seed).standard_normal((batch, c, r, r), dtype=np.float32)


def seeded_labels(batch, seed=SEED):
    import numpy as np
    return np.random.default_rng(seed + 7).integers(0, 10, batch).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# torch worker: torch, compile, ort


def torch_setup(threads):
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    warnings.filterwarnings("ignore")
    return torch


def conv_kernel_names(fn, *args):
    """The convolution ops the profiler sees in one call of fn (aten's dispatch wrappers dropped)."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn(*args)
    from collections import Counter
    wrappers = {"aten::conv2d", "aten::convolution", "aten::_convolution"}
    counts = Counter(e.name for e in prof.events()
                     if re.search(r"conv|mkldnn|onednn", e.name, re.I) and e.name not in wrappers)
    return ", ".join(f"{name}×{n}" for name, n in sorted(counts.items())) or "(no convolution op seen)"


def omp_wait_policy():
    return f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset (spin, then sleep)')}"


def onednn_version():
    import torch
    m = re.search(r"MKL-DNN (v[\d.]+)", torch.__config__.show())
    return f"oneDNN {m.group(1)}" if m else "oneDNN version unknown"


def torch_kernels(torch, model, x):
    capability = torch.backends.cpu.get_cpu_capability()
    mkldnn = f"mkldnn available={torch.backends.mkldnn.is_available()} enabled={torch.backends.mkldnn.enabled}"
    emit("KERNELS", "torch", f"torch {torch.__version__}, cpu capability {capability}, {mkldnn} ({onednn_version()}), "
                             f"{torch.get_num_threads()} threads, {omp_wait_policy()}; "
                             f"conv ops in one call: {conv_kernel_names(model, x)}")


def compile_kernels(torch, compiled, x):
    import torch._inductor.config as inductor_config
    try:
        from torch._inductor import cpu_vec_isa
        isa = str(cpu_vec_isa.pick_vec_isa())
    except Exception:  # private API; informative only
        isa = "?"
    cxx = subprocess.run(["sh", "-c", "${CXX:-g++} --version | head -1"], capture_output=True, text=True).stdout.strip()
    emit("KERNELS", "compile", f"torch {torch.__version__} inductor, C++ backend ({cxx}), vec isa {isa}, "
                               f"freezing={inductor_config.freezing}, {omp_wait_policy()}; "
                               f"conv ops in one call: {conv_kernel_names(compiled, x)}")


def export_onnx(torch, model, path, name):
    """torch.onnx.export, opset 17, dynamic batch axis. The TorchScript exporter (dynamo=False) is
    the one that can write opset 17 here: the default dynamo exporter builds opset 18 and its down-
    conversion to 17 fails on these models; it is only the fallback (at its own opset)."""
    r = RESOLUTION.get(name, 224)
    x = torch.zeros(1, CHANNELS.get(name, 3), r, r)
    kwargs = dict(input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    try:
        torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False, **kwargs)
        return "TorchScript exporter, opset 17"
    except Exception as error:
        note(f"ort {name}: opset-17 TorchScript export failed ({first_line(error)}); trying the dynamo exporter")
        torch.onnx.export(model, (x,), path, dynamo=True, verbose=False, **kwargs)
        import onnx
        opset = next(o.version for o in onnx.load(path, load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
        return f"dynamo exporter, opset {opset}"


def ort_session(path, threads, optimized_path=None):
    import onnxruntime as ort
    so = ort.SessionOptions()
    if os.environ.get("CONV_PEERS_SPIN") != "1":  # see --spin
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if optimized_path:
        so.optimized_model_filepath = optimized_path
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def optimized_ops(path):
    """Op types of ORT's optimized graph, e.g. 'com.microsoft.nchwc:Conv×52, ...'."""
    import onnx
    from collections import Counter
    graph = onnx.load(path, load_external_data=False).graph
    counts = Counter((f"{n.domain}:" if n.domain else "") + n.op_type for n in graph.node)
    return ", ".join(f"{op}×{k}" for op, k in counts.most_common())


def torch_worker_infer(args, name, peers, kernels):
    onnx_dir = tempfile.mkdtemp(prefix="conv-peers-")
    try:
        torch_worker_infer_in(args, name, peers, kernels, onnx_dir)
    finally:
        shutil.rmtree(onnx_dir, ignore_errors=True)  # ResNet-50: ~200 MB of .onnx


def torch_worker_infer_in(args, name, peers, kernels, onnx_dir):
    torch = torch_setup(args.threads)
    model = build(name).eval()
    sess = None
    if "ort" in peers:
        import onnxruntime as ort
        path = os.path.join(onnx_dir, f"{name}.onnx")
        try:
            t = time.perf_counter()
            how = export_onnx(torch, model, path, name)
            opt_path = os.path.join(onnx_dir, f"{name}.opt.onnx")
            sess = ort_session(path, args.threads, opt_path)
            note(f"ort {name}: {how}, exported + session in {time.perf_counter() - t:.1f} s; "
                 f"optimized graph: {optimized_ops(opt_path)}")
            if "ort" in kernels:
                kernels.discard("ort")
                spin = "default (spinning)" if os.environ.get("CONV_PEERS_SPIN") == "1" else "0"
                emit("KERNELS", "ort", f"onnxruntime {ort.__version__}, CPUExecutionProvider (MLAS), "
                                       f"graph optimizations ALL, intra_op {args.threads} / inter_op 1, sequential, "
                                       f"intra_op.allow_spinning {spin}")
        except Exception as error:
            note(f"ort skipped: {first_line(error)}")
    model = model.to(memory_format=torch.channels_last)
    compiled = None
    if "compile" in peers:
        compiled = torch.compile(model, dynamic=False)  # specialised per batch size (recompiled for b32)
    for batch in args.batches:
        config = f"{name} b{batch}"
        x_np = seeded_input(name, batch)
        x = torch.from_numpy(x_np).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            reference = model(x)
            for peer in peers:
                if peer == "torch":
                    if "torch" in kernels:
                        kernels.discard("torch")
                        torch_kernels(torch, model, x)
                    rate, times = timed(lambda: model(x), batch, args.warmup, args.seconds, args.min_iters)
                    report("torch", config, rate, times)
                elif peer == "compile" and compiled is not None:
                    try:
                        t = time.perf_counter()
                        out = compiled(x)
                        compile_s = time.perf_counter() - t
                    except Exception as error:
                        note(f"compile skipped: {first_line(error)}")
                        compiled = None
                        continue
                    diff = (out - reference).abs().max().item()
                    if "compile" in kernels:
                        kernels.discard("compile")
                        compile_kernels(torch, compiled, x)
                    rate, times = timed(lambda: compiled(x), batch, args.warmup, args.seconds, args.min_iters)
                    report("compile", config, rate, times, f"; first call (compilation) {compile_s:.1f} s, "
                                                           f"max |compile - eager| {diff:.2e}")
                elif peer == "ort" and sess is not None:
                    feed = {"input": x_np}
                    diff = abs(sess.run(None, feed)[0] - reference.numpy()).max()
                    rate, times = timed(lambda: sess.run(None, feed), batch, args.warmup, args.seconds, args.min_iters)
                    report("ort", config, rate, times, f"; max |ort - eager| {diff:.2e}")


def torch_train_step(torch, name, peer):
    """A training step of config `train <name>` for peer `torch` (eager) or `compile`: the seeded
    channels_last model in train mode, Adam (lr 1e-3, Keras' epsilon 1e-7), cross-entropy on the
    seeded batch; returns (step → loss, forward, x). `compile` compiles on the first calls."""
    from torch import nn
    batch = TRAIN_BATCH[name]
    x = torch.from_numpy(seeded_input(name, batch)).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(seeded_labels(batch))
    loss_fn = nn.CrossEntropyLoss()
    model = build(name).train().to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    forward, step = (torch.compile(model), torch.compile(opt.step)) if peer == "compile" else (model, opt.step)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward(x), y)
        loss.backward()
        step()
        return loss
    return train_step, forward, x


def torch_worker_train(args, name, peers, kernels):
    torch = torch_setup(args.threads)
    batch = TRAIN_BATCH[name]
    config = f"train {name} b{batch}"
    for peer in peers:
        if peer == "ort":
            continue
        train_step, forward, x = torch_train_step(torch, name, peer)
        extra = ""
        if peer == "compile":
            try:
                t = time.perf_counter()
                train_step()
                train_step()  # Adam's first step takes another path (state creation): compile both
                extra = f"; first two steps (compilation) {time.perf_counter() - t:.1f} s"
            except Exception as error:
                note(f"compile skipped: {first_line(error)}")
                continue
        if peer in kernels:
            kernels.discard(peer)
            (torch_kernels if peer == "torch" else compile_kernels)(torch, forward, x)
        rate, times = timed(train_step, batch, args.train_warmup, args.seconds, args.train_steps)
        loss = train_step().item()
        report(peer, config, rate, times, f"{extra}; loss after {len(times) + args.train_warmup + 1} steps {loss:.3f}")


# ---------------------------------------------------------------------------------------------
# keras worker


def keras_setup(threads):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    keras.utils.set_random_seed(SEED)
    return tf, keras


def keras_kernels(tf, keras, threads):
    try:  # private API (IsMKLEnabled in tensorflow/core/util/util.cc); informative only
        from tensorflow.python.util import _pywrap_util_port
        onednn = "on" if _pywrap_util_port.IsMklEnabled() else "off"
    except Exception:
        onednn = "?"
    flag = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    why = (f"TF_ENABLE_ONEDNN_OPTS={flag}" if flag is not None else
           "TF_ENABLE_ONEDNN_OPTS unset: TF's default, on only for CPUs with AVX512_VNNI/BF16/AMX-class features")
    emit("KERNELS", "keras", f"keras {keras.__version__} on tensorflow {tf.__version__} (CPU), oneDNN custom ops {onednn} "
                             f"({why}), intra_op {threads} / inter_op 1; "
                             f"Keras' jit_compile='auto' resolves to no XLA on a CPU-only machine")


def keras_randomize_batchnorm(keras, model, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([(1 + 0.1 * rng.standard_normal(n)).astype(np.float32),
                               (0.1 * rng.standard_normal(n)).astype(np.float32),
                               (0.1 * rng.standard_normal(n)).astype(np.float32),
                               rng.uniform(0.5, 1.5, n).astype(np.float32)])
    return model


def keras_model(keras, name):
    keras.utils.set_random_seed(SEED)
    apps, layers = keras.applications, keras.layers
    if name == "resnet50":
        model = apps.ResNet50(weights=None)
    elif name == "mobilenet_v2":
        model = apps.MobileNetV2(weights=None)
    elif name == "mobilenet_v2_035":
        model = apps.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None, classes=10,
                                 classifier_activation=None)
    elif name == "small_cnn":
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, padding="same", use_bias=True),
            layers.BatchNormalization(epsilon=1e-3, momentum=0.99),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", use_bias=True),
            layers.BatchNormalization(epsilon=1e-3, momentum=0.99),
            layers.ReLU(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10),
        ])
    elif name in SE_TRAIN_MODELS:
        application = getattr(apps, KERAS_APPS[name[:-len("_96")]])
        model = application(input_shape=(96, 96, 3), weights=None, classes=10, classifier_activation=None)
    elif name in KERAS_APPS:
        model = getattr(apps, KERAS_APPS[name])(weights=None)
    else:
        raise ValueError(name)
    return keras_randomize_batchnorm(keras, model, SEED + 1)


def keras_training_model(keras, name, jit="auto"):
    """keras_model(name) compiled for config `train <name>`: Adam 1e-3 (Keras' default epsilon
    1e-7), sparse cross-entropy from logits."""
    model = keras_model(keras, name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    return model


def nhwc(name, batch):
    import numpy as np
    return np.ascontiguousarray(seeded_input(name, batch).transpose(0, 2, 3, 1))


def timed_alternating(candidates, batch, warmup, seconds, min_iters):
    """Each candidate (label, run): `warmup` untimed calls (tracing included); then the candidates
    are timed in turn, one call each per round, until each has >= min_iters calls and the rounds
    took >= seconds per candidate. Returns [(median images/s, label, times)], fastest first."""
    for _, run in candidates:
        for _ in range(warmup):
            run()
    times = [Times() for _ in candidates]  # cores busy: over the whole alternation
    start = time.perf_counter()
    while True:
        for i, (_, run) in enumerate(candidates):
            t0 = time.perf_counter()
            run()
            times[i].append(time.perf_counter() - t0)
        if len(times[0]) >= min_iters and time.perf_counter() - start >= seconds * len(candidates):
            break
    for t in times:
        t.stop()
    results = [(batch / statistics.median(t), label, t) for (label, _), t in zip(candidates, times)]
    return sorted(results, key=lambda r: -r[0])


def keras_worker_infer(args, name, kernels):
    tf, keras = keras_setup(args.threads)
    if "keras" in kernels:
        kernels.discard("keras")
        keras_kernels(tf, keras, args.threads)
    if name == "efficientnet_lite0" or (name in ZOO_MODELS and name not in KERAS_APPS):
        note(f"keras {name}: not in keras.applications")
        return
    model = keras_model(keras, name)
    graph_fn = tf.function(lambda x: model(x, training=False), jit_compile=False)
    xla_fn = tf.function(lambda x: model(x, training=False), jit_compile=True)
    for batch in args.batches:
        config = f"{name} b{batch}"
        x_np = nhwc(name, batch)
        x = tf.constant(x_np)
        candidates = [
            # Keras' own path: a tf.function of predict_step (no XLA: jit_compile 'auto' is off on CPU)
            ("predict_on_batch", lambda: model.predict_on_batch(x_np)),
            # the model called in a tf.function of our own: a TF graph (Grappler), no Keras data handling
            ("tf.function", lambda: graph_fn(x).numpy()),
        ]
        if args.keras_xla:
            candidates.append(("tf.function(jit_compile=True)", lambda: xla_fn(x).numpy()))
        results = timed_alternating(candidates, batch, args.warmup, args.seconds, args.min_iters)
        for rate, label, times in results:
            note(f"keras {config} via {label}: {rate:.2f} images/s, {spread(times)}")
        rate, label, times = results[0]
        report("keras", config, rate, times, f"; the faster: {label}")


class StepTimes:
    """A Keras callback recording the end time of every training batch; a step's time is the
    interval between two batch ends (data fetch and callback overhead included, setup not)."""

    def __new__(cls, keras):
        class Callback(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.ends = []

            def on_train_batch_end(self, batch, logs=None):
                self.ends.append(time.perf_counter())

            def step_times(self):
                return [b - a for a, b in zip(self.ends, self.ends[1:])]
        return Callback()


def keras_worker_train(args, name, kernels):
    tf, keras = keras_setup(args.threads)
    if "keras" in kernels:
        kernels.discard("keras")
        keras_kernels(tf, keras, args.threads)
    batch = TRAIN_BATCH[name]
    config = f"train {name} b{batch}"
    x_np, y_np = nhwc(name, batch), seeded_labels(batch)
    x, y = tf.constant(x_np), tf.constant(y_np)
    results = []
    modes = [("train_on_batch", "auto"), ("fit", "auto")]  # 'auto' = no XLA on a CPU-only machine
    if args.keras_xla:
        modes += [("train_on_batch", True), ("fit", True)]
    for mode, jit in modes:
        model = keras_training_model(keras, name, jit)
        if mode == "train_on_batch":
            t = time.perf_counter()
            model.train_on_batch(x, y)
            first = time.perf_counter() - t
            rate, times = timed(lambda: model.train_on_batch(x, y), batch, args.train_warmup,
                                args.seconds, args.train_steps)
            loss = float(model.train_on_batch(x, y))
        else:
            data = tf.data.Dataset.from_tensors((x, y)).repeat()
            t = time.perf_counter()
            model.fit(data, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
            first = time.perf_counter() - t
            model.fit(data, steps_per_epoch=args.train_warmup, epochs=1, verbose=0, shuffle=False)
            # Enough steps for the time budget, estimated from a short run.
            probe = StepTimes(keras)
            model.fit(data, steps_per_epoch=5, epochs=1, verbose=0, shuffle=False, callbacks=[probe])
            steps = 1 + max(args.train_steps, math.ceil(args.seconds / statistics.median(probe.step_times())))
            timer, times = StepTimes(keras), Times()
            history = model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
            times.stop()
            times.extend(timer.step_times())
            rate, loss = batch / statistics.median(times), history.history["loss"][-1]
        label = mode + (" (XLA)" if model.jit_compile else "")
        results.append((rate, label, times, f"; first call (tracing{' + XLA' if model.jit_compile else ''}) "
                                            f"{first:.1f} s, jit_compile={model.jit_compile}, loss {loss:.3f}"))
    for rate, mode, times, extra in results:
        note(f"keras {config} via {mode}: {rate:.2f} images/s, {spread(times)}{extra}")
    rate, mode, times, extra = max(results, key=lambda r: r[0])
    report("keras", config, rate, times, f"; the faster: {mode}")


def worker(args):
    global OUT
    OUT = protocol_stream()
    kernels = set(args.only)  # peers that still owe their KERNELS line (the main process drops repeats)
    for item in args.configs:
        if args.worker == "torch":
            peers = [p for p in args.only if p in TORCH_PEERS]
            if item in TRAIN_MODELS + SE_TRAIN_MODELS:
                torch_worker_train(args, item, peers, kernels)
            else:
                torch_worker_infer(args, item, peers, kernels)
        else:
            if item in TRAIN_MODELS + SE_TRAIN_MODELS:
                keras_worker_train(args, item, kernels)
            else:
                keras_worker_infer(args, item, kernels)


# ---------------------------------------------------------------------------------------------
# --export


def export(args):
    import numpy as np
    torch = torch_setup(args.threads)
    from safetensors.torch import save_file
    os.makedirs(args.export, exist_ok=True)
    manifest = {"seed": SEED, "batchnorm_statistics": "calibrated" if BN_CALIBRATE else "literal",
                "torch": torch.__version__, "models": {}}
    for name in EXPORT_MODELS + [c for c in args.configs if c in ZOO_MODELS]:
        model = build(name).eval()
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()
                 if not k.endswith("num_batches_tracked")}
        x = seeded_input(name, 2)
        with torch.inference_mode():
            y = model(torch.from_numpy(x)).numpy().astype(np.float32)
            # The same model in float64: how far float32 evaluation order alone moves the output.
            y64 = copy.deepcopy(model).double()(torch.from_numpy(x).double()).numpy()
        error64 = float(np.abs(y - y64).max())
        files = {f"{name}.safetensors": None, f"{name}_input.npy": x, f"{name}_output.npy": y}
        save_file(state, os.path.join(args.export, f"{name}.safetensors"),
                  metadata={"model": name, "seed": str(SEED), "layout": "PyTorch (NCHW, OIHW)"})
        np.save(os.path.join(args.export, f"{name}_input.npy"), x)
        np.save(os.path.join(args.export, f"{name}_output.npy"), y)
        sizes = {f: os.path.getsize(os.path.join(args.export, f)) for f in files}
        max_abs = float(np.abs(y).max())
        manifest["models"][name] = {"input_shape": list(x.shape), "output_shape": list(y.shape),
                                    "max_abs_output": max_abs, "mean_abs_output": float(np.abs(y).mean()),
                                    "max_abs_diff_float64": error64,
                                    "tensors": len(state), "elements": int(sum(v.numel() for v in state.values())),
                                    "files": sizes}
        note(f"export {name}: {len(state)} tensors, input {list(x.shape)}, output {list(y.shape)}, "
             f"max|output| {max_abs:.6g}, mean|output| {np.abs(y).mean():.6g}, max|output - float64 output| "
             f"{error64:.3g}; "
             + ", ".join(f"{f} {s:,} B" for f, s in sizes.items()))
    with open(os.path.join(args.export, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    note(f"wrote {args.export}/manifest.json")


# ---------------------------------------------------------------------------------------------
# main


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PEERS), help="peers, comma-separated (default: all)")
    parser.add_argument("--configs", default=",".join(MODELS + ["train"]),
                        help="models, comma-separated: resnet50, mobilenet_v2, efficientnet_lite0, "
                             "train (= small_cnn,mobilenet_v2_035), or one training model (also "
                             + ", ".join(SE_TRAIN_MODELS) + "); also, for inference, "
                             "Zoo's other built-in architectures: " + ", ".join(ZOO_MODELS)
                             + " (--export writes these only when named)")
    parser.add_argument("--batches", default="1,32", help="inference batch sizes (default 1,32)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="minimum timed seconds per measurement (default 3)")
    parser.add_argument("--min-iters", type=int, default=10, help="minimum timed inference calls (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed inference calls first (default 3)")
    parser.add_argument("--train-steps", type=int, default=20, help="minimum timed training steps (default 20)")
    parser.add_argument("--train-warmup", type=int, default=5, help="untimed training steps first (default 5)")
    parser.add_argument("--spin", action="store_true",
                        help="keep the libraries' spin-waiting threads (default: OMP_WAIT_POLICY=PASSIVE and "
                             "ORT allow_spinning=0, much faster when the other core is busy; see README)")
    parser.add_argument("--keras-xla", action="store_true",
                        help="also time Keras under XLA (tf.function(jit_compile=True), compile(jit_compile=True))")
    parser.add_argument("--bn", choices=["calibrated", "literal"], default="calibrated",
                        help="BatchNorm statistics of the torch models (see randomize_batchnorm; default calibrated)")
    parser.add_argument("--export", metavar="DIR", help="write weights, inputs and outputs for Zoo to DIR")
    parser.add_argument("--worker", choices=["torch", "keras"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.only = [p for p in args.only.split(",") if p]
    unknown = set(args.only) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; known: {PEERS}")
    configs = []
    for item in (c for c in args.configs.split(",") if c):
        for name in (TRAIN_MODELS if item == "train" else [item]):
            known = MODELS + TRAIN_MODELS + SE_TRAIN_MODELS + ZOO_MODELS
            if name not in known:
                parser.error(f"unknown config {name!r}; known: {MODELS + ['train'] + known[len(MODELS):]}")
            if name not in configs:
                configs.append(name)
    args.configs = configs
    args.batches = [int(b) for b in args.batches.split(",") if b]
    return args


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "?"


def main():
    args = parse_args()
    threads = str(args.threads)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = threads
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not args.worker:  # the workers inherit both
        os.environ["CONV_PEERS_SPIN"] = "1" if args.spin else "0"
        if not args.spin:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    global BN_CALIBRATE
    BN_CALIBRATE = args.bn == "calibrated"
    if args.worker:
        return worker(args)
    if args.export:
        global OUT
        OUT = protocol_stream()
        return export(args)
    note(f"conv peers: {', '.join(args.only)} on {', '.join(args.configs)}; {args.threads} threads, "
         f">= {args.seconds:g} s and >= {args.min_iters} calls (training: {args.train_steps} steps) per measurement")
    note(f"cpu: {cpu_model()}, {os.cpu_count()} logical cpus, load average {os.getloadavg()[0]:.2f}; "
         f"python {sys.version.split()[0]}")
    note("idle threads: " + ("the libraries' defaults (--spin)" if args.spin else
                             f"no spinning: OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']} (torch, compile), "
                             "ORT session.intra_op.allow_spinning=0; --spin for the libraries' defaults"))
    common = ["--threads", threads, "--seconds", str(args.seconds), "--min-iters", str(args.min_iters),
              "--warmup", str(args.warmup), "--train-steps", str(args.train_steps),
              "--train-warmup", str(args.train_warmup), "--bn", args.bn,
              *(["--keras-xla"] if args.keras_xla else []), "--batches", ",".join(map(str, args.batches))]
    seen_kernels = set()
    start = time.perf_counter()
    for name in args.configs:
        for kind in ("torch", "keras"):
            peers = [p for p in args.only if (p == "keras") == (kind == "keras")]
            if not peers:
                continue
            command = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--configs", name,
                       "--only", ",".join(peers)] + common
            t = time.perf_counter()
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as child:
                for line in child.stdout:  # forwarded as they come; KERNELS once per peer
                    fields = line.split("\t")
                    if fields[0] == "KERNELS":
                        if fields[1] in seen_kernels:
                            continue
                        seen_kernels.add(fields[1])
                    sys.stdout.write(line)
                    sys.stdout.flush()
            if child.returncode != 0:
                note(f"{kind} worker for {name} failed with exit status {child.returncode}")
            note(f"{kind} worker for {name}: {time.perf_counter() - t:.0f} s")
    note(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
