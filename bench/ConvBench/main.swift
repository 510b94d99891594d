// The CNN benchmark's Swift side (not a test): inference of ResNet-50, MobileNetV2 and
// EfficientNet-Lite0 at 224×224 (batch 1 and 32) and training steps of a small CNN (28×28×1,
// batch 64) and of MobileNetV2 α=0.35 (96×96, batch 32), on the compute backend with
// ZOONET_BENCH_THREADS threads (default 2). bench/conv/run.sh runs it beside the peers
// (bench/conv/peers.py) and prints the ratios.
//
//     swift run -c release zoo-conv-bench [CONFIG …]     # default: all; CONFIG as in RESULT lines
//     swift run -c release zoo-conv-bench densenet121    # another built-in 224×224 architecture, b1 and b32
//     swift run -c release zoo-conv-bench winograd       # 3×3 layers alone, Winograd off / on (LAYER lines)
//     swift run -c release zoo-conv-bench blocked        # ResNet-50's 3×3 layers alone, NHWC / nChw8c (LAYER lines)
//     swift run -c release zoo-conv-bench keras FILE     # a Keras model file, node by node / depth-first (MODEL lines)
//     swift run -c release zoo-conv-bench serve          # measurements on request (stdin), for bench/conv/paired.py
//     swift run -c release zoo-conv-bench profile mobilenet_v2 b1   # each step's time (STEP lines, slowest first)
//
// ZOONET_BENCH_CHUNK=k caps the images per inference pass at k (`predict(_:batchSize:)`; by default the
// engine picks the pass from the cache size, `Network.inferencePassSize`); MEMORY counts one pass's activations.
//
// Output (tab-separated): `RESULT zoonet <config> <images/s>`; `FLOPS zoonet <config>
// <GFLOP/s> <% of PEAK>` (forward convolution and dense FLOP only); `MEMORY zoonet <config>
// <peak RSS MiB> <weights MiB> <largest live activations MiB>` (inference configs, measured
// when the config runs alone in the process); `PARITY zoonet <config> <max |zoo − torch|>
// <max |torch|>` when ZOO_CONV_WEIGHTS names the directory `peers.py --export` wrote (the
// same weights as the peers); `PEAK sgemm <GFLOP/s>`; `KERNELS zoonet <text>`.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import ZooKit

func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Median images/s of `run` (one call processes `images` images) over ≥ `minimumSeconds` and ≥ 5 calls, after warm-up.
func measure(images: Int, minimumSeconds: Double, _ run: () throws -> Void) rethrows -> Double {
    try run()
    try run()
    let clock = ContinuousClock()
    var times: [Double] = []
    let start = clock.now
    while times.count < 5 || seconds(clock.now - start) < minimumSeconds {
        times.append(seconds(try clock.measure(run)))
        if times.count >= 200 { break }
    }
    times.sort()
    return Double(images) / times[times.count / 2]
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_maxrss) / 1024
}

/// NCHW → NHWC (the peers' exported inputs are NCHW).
func nhwc(_ t: ZooNet.Tensor) throws -> ZooNet.Tensor {
    let (n, c, h, w) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
    var out = [Float](repeating: 0, count: t.count)
    for b in 0..<n { for y in 0..<h { for x in 0..<w { for k in 0..<c {
        out[((b * h + y) * w + x) * c + k] = t.scalars[((b * c + k) * h + y) * w + x]
    } } } }
    return try ZooNet.Tensor(shape: [n, h, w, c], scalars: out)
}

func load(_ path: String) throws -> ZooNet.Tensor {
    let stored = try TensorArchive.open(path).tensors[0]
    return try ZooNet.Tensor(shape: stored.shape, scalars: stored.floats())
}

/// The small CNN of the training benchmark (the peers' `small_cnn`).
func smallCNN() throws -> Network {
    let x = Input(shape: [28, 28, 1], name: "input")
    var y = Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, name: "conv1")(x)
    y = MaxPooling2D(name: "pool1")(ActivationLayer(.relu, name: "relu1")(BatchNorm(name: "bn1")(y)))
    y = Conv2D(filters: 64, kernelSize: (3, 3), padding: .same, name: "conv2")(y)
    y = MaxPooling2D(name: "pool2")(ActivationLayer(.relu, name: "relu2")(BatchNorm(name: "bn2")(y)))
    y = Dense(outputCount: 10, name: "fc")(Flatten(name: "flatten")(y))
    return try Network(inputs: [x], outputs: [y], seed: 1)
}

let threads = Int(environment("ZOONET_BENCH_THREADS") ?? "") ?? 2
ComputeThreads.set(threads)
let minimumSeconds = Double(environment("ZOONET_BENCH_SECONDS") ?? "") ?? 3
let inference: [(String, Architecture, Int)] = [
    ("resnet50", .resnet50, 1), ("resnet50", .resnet50, 32), ("mobilenet_v2", .mobilenetV2, 1),
    ("mobilenet_v2", .mobilenetV2, 32), ("efficientnet_lite0", .efficientnetLite0, 1), ("efficientnet_lite0", .efficientnetLite0, 32),
]
let requested = Array(CommandLine.arguments.dropFirst())
/// The inference models by name (`serve`, `profile`, configs): every built-in 224×224
/// architecture under its PyTorch constructor's name — the three above by default, the others
/// (resnet18 … vgg16, bench/conv/peers.py's ZOO_MODELS) when named.
let architectures = Dictionary(uniqueKeysWithValues: Architecture.allCases.filter { $0.defaultInputSize == 224 }.map { ($0.rawValue, $0) })
let namedInference: [(String, Architecture, Int)] = architectures.keys.sorted()
    .filter { name in !inference.contains { $0.0 == name } && requested.contains { $0 == name || $0.hasPrefix(name + " ") } }
    .flatMap { [($0, architectures[$0]!, 1), ($0, architectures[$0]!, 32)] }

/// The fixed inference input: `[batch, 224, 224, 3]`, values (i mod 255) / 255 − 0.5.
func syntheticInput(batch: Int) throws -> ZooNet.Tensor {
    try ZooNet.Tensor(shape: [batch, 224, 224, 3], scalars: (0..<(batch * 224 * 224 * 3)).map { Float($0 % 255) / 255 - 0.5 })
}

/// One training configuration kept for `serve`: the network, a random batch of 4 steps and its
/// optimizer; `rate` runs epochs of those 4 steps for ≥ `minimumSeconds` (images/s, median).
final class TrainingStep {
    let network: Network
    let data: Dataset
    let optimizer: Adam
    let batch: Int

    init(network: Network, batch: Int, classes: Int) throws {
        let size = network.inputShape.reduce(1, *)
        var rng = SplitMix64(seed: 3)
        let x = try ZooNet.Tensor(shape: [batch * 4] + network.inputShape,
                                  scalars: (0..<(batch * 4 * size)).map { _ in rng.nextUnitFloat() })
        self.network = network
        self.data = try Dataset(inputs: x, labels: .classes((0..<(batch * 4)).map { $0 % classes }))
        self.optimizer = try Adam(learningRate: 1e-3)
        self.batch = batch
    }

    func rate(minimumSeconds: Double) throws -> Double {
        try measure(images: batch * 4, minimumSeconds: minimumSeconds) {
            try network.fit(data, loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: 1, batchSize: batch, shuffleSeed: nil)
        }
    }
}

func wanted(_ config: String) -> Bool { requested.isEmpty || requested.contains { config.hasPrefix($0) } }

/// The training models by `train_` name (the peers' training configs) and their batch sizes: the
/// small CNN and MobileNetV2 α 0.35 of the targets, and (only when named) the squeeze-excitation
/// networks at 96 × 96 with 10 classes.
let trainers: [String: (batch: Int, byDefault: Bool, build: () throws -> Network)] = [
    "train_small_cnn": (64, true, smallCNN),
    "train_mobilenet_v2_035": (32, true, { try Architecture.mobilenetV2.build(classes: 10, widthMultiplier: 0.35, inputSize: 96) }),
    "train_mobilenet_v3_small_96": (32, false, { try Architecture.mobilenetV3Small.build(classes: 10, inputSize: 96) }),
    "train_efficientnet_b0_96": (32, false, { try Architecture.efficientnetB0.build(classes: 10, inputSize: 96) }),
]

/// `serve` (only when named): answers requests on stdin, one per line, `<model> b<batch> <seconds>`
/// (e.g. `mobilenet_v2 b1 1.5`, `train_small_cnn b64 2`), with `RATE <model> b<batch> <images/s>`
/// (median of ≥ seconds of calls, or of training steps for the `train_` models); each model is
/// built once (with ZOO_CONV_WEIGHTS' weights when set) and kept, so a training model goes on
/// from the previous request's weights and Adam state. `bench/conv/paired.py` alternates these
/// with a peer's measurements a few seconds apart.
if requested.first == "serve" {
    var networks: [String: Network] = [:]
    var inputs: [String: ZooNet.Tensor] = [:]
    var trainings: [String: TrainingStep] = [:]
    print("READY\tzoonet\t\(ComputeBackend.summary)")
    fflush(nil)
    while let line = readLine() {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count == 3, architectures[fields[0]] != nil || trainers[fields[0]] != nil, fields[1].hasPrefix("b"),
              let batch = Int(fields[1].dropFirst()), batch > 0, let seconds = Double(fields[2]) else {
            let models = (Array(architectures.keys) + Array(trainers.keys)).sorted()
            print("ERROR\texpected '<model> b<batch> <seconds>' with a model of \(models), got '\(line)'")
            fflush(nil)
            continue
        }
        let model = fields[0]
        if let make = trainers[model]?.build {
            let key = "\(model) b\(batch)"
            let training = try trainings[key] ?? TrainingStep(network: make(), batch: batch, classes: 10)
            trainings[key] = training
            let rate = try training.rate(minimumSeconds: seconds)
            print("RATE\t\(key)\t\(String(format: "%.2f", rate))")
            fflush(nil)
            continue
        }
        let architecture = architectures[model]!
        let net: Network
        if let built = networks[model] {
            net = built
        } else {
            net = try architecture.build()
            if let directory = environment("ZOO_CONV_WEIGHTS") {
                try Architecture.loadStateDict(TensorArchive.open("\(directory)/\(model).safetensors"), into: net)
            }
            networks[model] = net
        }
        let key = "\(model) b\(batch)"
        let x = try inputs[key] ?? syntheticInput(batch: batch)
        inputs[key] = x
        let rate = try measure(images: batch, minimumSeconds: seconds) { _ = try net.predict(x) }
        print("RATE\t\(key)\t\(String(format: "%.2f", rate))")
        fflush(nil)
    }
    exit(0)
}

/// `profile MODEL bN [REPEATS]` (only when named): the steps of the inference plan of `MODEL`
/// (any of `architectures`) at batch N, timed one by one
/// (`Network.profileInference`, median of REPEATS runs, default 20), slowest first:
/// `STEP <µs per image> <% of the sum> <kind> <first node> … <last node>` (a fused convolution's kind
/// names its kernel: `fused convolution (Winograd)`, `(own direct)`, `(oneDNN jit:avx2)`, …; where
/// tuning picked it, `tuned: <candidate> <µs per image>, …` follows, fastest first, as timed alone
/// when the plan was prepared), then `TOTAL <µs per image>`.
/// With a training model (`train_small_cnn`, … of `trainers`), the forward and backward steps of
/// its training step (`Network.profileTraining`, on uniform [0, 1) inputs), kinds prefixed
/// `forward:` / `backward:`.
if requested.first == "profile", requested.count >= 3, requested[2].hasPrefix("b"), let batch = Int(requested[2].dropFirst()) {
    let repeats = requested.count > 3 ? Int(requested[3]) ?? 20 : 20
    let steps: [StepProfile]
    if let trainer = trainers[requested[1]] {
        let net = try trainer.build()
        var rng = SplitMix64(seed: 3)
        let size = net.inputShape.reduce(1, *)
        let x = try ZooNet.Tensor(shape: [batch] + net.inputShape, scalars: (0..<(batch * size)).map { _ in rng.nextUnitFloat() })
        steps = try net.profileTraining([x], repeats: repeats)
    } else if let architecture = architectures[requested[1]] {
        steps = try architecture.build().profileInference([syntheticInput(batch: batch)], repeats: repeats)
    } else {
        print("ERROR\tunknown model '\(requested[1])'; known: \((architectures.keys.sorted() + trainers.keys.sorted()))")
        exit(2)
    }
    let total = steps.map(\.seconds).reduce(0, +)
    let training = trainers[requested[1]] != nil
    print("KERNELS\tzoonet\t\(ComputeBackend.summary)")
    for step in steps.sorted(by: { $0.seconds > $1.seconds }) {
        let span = step.nodes.count > 1 ? "\(step.nodes[0]) … \(step.nodes[step.nodes.count - 1])" : step.nodes[0]
        print("STEP\t\(String(format: "%.1f", step.seconds * 1e6 / Double(batch)))\t\(String(format: "%.1f", 100 * step.seconds / total))"
              + "\t\(training ? "\(step.pass.rawValue): " : "")\(step.kind.rawValue)\(step.kernel.map { " (\($0))" } ?? "")\t\(span)"
              + (step.tuningSeconds.map { times in
                  "\ttuned: " + times.sorted { $0.value < $1.value }.map { "\($0.key) \(String(format: "%.1f", $0.value * 1e6))" }
                      .joined(separator: ", ")
              } ?? ""))
    }
    for pass in training ? [StepProfile.Pass.forward, .backward] : [] {
        let sum = steps.filter { $0.pass == pass }.map(\.seconds).reduce(0, +)
        print("PASS\t\(pass.rawValue)\t\(String(format: "%.1f", sum * 1e6 / Double(batch)))")
    }
    print("TOTAL\t\(String(format: "%.1f", total * 1e6 / Double(batch)))")
    exit(0)
}

print("KERNELS\tzoonet\t\(ComputeBackend.summary)")
let peak = GEMMProbe.gflops(m: 1024, n: 1024, k: 1024, threading: .oneDNN, repeats: 10, trials: 5)
print("PEAK\tsgemm\t\(String(format: "%.1f", peak))")

for (model, architecture, batch) in inference + namedInference where wanted("\(model) b\(batch)") {
    let config = "\(model) b\(batch)"
    let net = try architecture.build()
    if let directory = environment("ZOO_CONV_WEIGHTS") {
        try Architecture.loadStateDict(TensorArchive.open("\(directory)/\(model).safetensors"), into: net)
        let input = try nhwc(load("\(directory)/\(model)_input.npy"))
        let want = try load("\(directory)/\(model)_output.npy")
        let got = try net.predict(input)
        let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
        print("PARITY\tzoonet\t\(model)\t\(worst)\t\(want.scalars.map(abs).max() ?? 0)")
    }
    let x = try syntheticInput(batch: batch)
    let chunk = Int(environment("ZOONET_BENCH_CHUNK") ?? "") ?? batch
    let rate = try measure(images: batch, minimumSeconds: minimumSeconds) { _ = try net.predict(x, batchSize: chunk) }
    let gflops = rate * Double(net.forwardFLOPPerSample) / 1e9
    let (activations, _) = try net.inferenceActivationFloats()
    let weights = net.variables.reduce(0) { $0 + $1.count }
    print("RESULT\tzoonet\t\(config)\t\(String(format: "%.2f", rate))")
    print("FLOPS\tzoonet\t\(config)\t\(String(format: "%.1f", gflops))\t\(String(format: "%.0f", 100 * gflops / peak))")
    print("MEMORY\tzoonet\t\(config)\t\(String(format: "%.0f", peakRSSMiB()))\t\(String(format: "%.1f", Double(weights) * 4 / 1_048_576))"
          + "\t\(String(format: "%.1f", Double(activations * net.inferencePassSize(batchSize: chunk)) * 4 / 1_048_576))")
    fflush(nil)
}

/// Training: `steps` Adam steps on one random batch repeated (images/s of the steps).
/// With ZOONET_BENCH_STEPS=N, one epoch of N steps and nothing else (for counting allocations:
/// run with two values of N under `perf stat -e probe_libc:malloc`).
func train(_ config: String, _ net: Network, batch: Int, classes: Int) throws {
    if let steps = environment("ZOONET_BENCH_STEPS").flatMap({ Int($0) }) {
        let size = net.inputShape.reduce(1, *)
        let x = try ZooNet.Tensor(shape: [batch * steps] + net.inputShape, scalars: [Float](repeating: 0.5, count: batch * steps * size))
        let data = try Dataset(inputs: x, labels: .classes((0..<(batch * steps)).map { $0 % classes }))
        try net.fit(data, loss: .softmaxCrossEntropy, optimizer: try Adam(learningRate: 1e-3), epochs: 1, batchSize: batch)
        print("STEPS\tzoonet\t\(config)\t\(steps)")
        return
    }
    let rate = try TrainingStep(network: net, batch: batch, classes: classes).rate(minimumSeconds: minimumSeconds)
    print("RESULT\tzoonet\t\(config)\t\(String(format: "%.2f", rate))")
    fflush(nil)
}

for (name, trainer) in trainers.sorted(by: { $0.key < $1.key }) {
    let model = String(name.dropFirst("train_".count)), config = "train \(model) b\(trainer.batch)"
    let named = requested.contains { $0 == config || $0 == "train \(model)" }
    guard trainer.byDefault ? wanted(config) : named else { continue }
    try train(config, trainer.build(), batch: trainer.batch, classes: 10)
}

/// `keras FILE` (only when named): the Keras model file (e.g. `keras.applications.Xception`
/// saved as `.keras`) on seeded uniform [−1, 1) inputs at batch 1 and 32, node by node
/// (`ComputeBackend.depthFirst` off) and depth-first in alternation, 5 pairs of ≥ 1 s each:
/// `MODEL depth-first <file> b<batch> <node-by-node img/s> <depth-first img/s> <ratio>` (medians).
if let at = requested.firstIndex(of: "keras"), at + 1 < requested.count {
    let path = requested[at + 1]
    let net = try KerasModelImporter.load(path).network
    let saved = ComputeBackend.depthFirst
    defer { ComputeBackend.depthFirst = saved }
    for batch in [1, 32] {
        var rng = SplitMix64(seed: 5)
        let input = try ZooNet.Tensor(shape: [batch] + net.inputShape,
                                      scalars: (0..<(batch * net.inputShape.reduce(1, *))).map { _ in 2 * rng.nextUnitFloat() - 1 })
        var rates: [Bool: [Double]] = [false: [], true: []]
        for _ in 0..<5 {
            for on in [false, true] {
                ComputeBackend.depthFirst = on
                rates[on]!.append(try measure(images: batch, minimumSeconds: 1) { _ = try net.predict(input) })
            }
        }
        let nodeByNode = rates[false]!.sorted()[2], depthFirst = rates[true]!.sorted()[2]
        print("MODEL\tdepth-first\t\((path as NSString).lastPathComponent) b\(batch)\t\(String(format: "%.2f", nodeByNode))\t"
              + "\(String(format: "%.2f", depthFirst))\t\(String(format: "%.2f", depthFirst / nodeByNode))")
        fflush(nil)
    }
}

/// `blocked` (only when named): ResNet-50's 3×3 convolutions alone (conv + ReLU, padding 1, Winograd
/// off) at batch 1 and 6, one network made with `ComputeBackend.blockedDirect` on (nChw8c between two
/// reorders) and one with it off (NHWC), alternating, 7 pairs of ≥ 0.2 s each: `LAYER blocked <shape>
/// <NHWC ms> <blocked ms> <median of the pairs' NHWC / blocked>`.
if requested.contains("blocked") {
    let (savedBlocked, savedWinograd) = (ComputeBackend.blockedDirect, ComputeBackend.winograd)
    defer { (ComputeBackend.blockedDirect, ComputeBackend.winograd) = (savedBlocked, savedWinograd) }
    ComputeBackend.winograd = false
    let shapes = [(56, 128, 2), (28, 256, 2), (14, 512, 2), (56, 64, 1), (28, 128, 1), (14, 256, 1), (7, 512, 1)]
    for (size, channels, stride) in shapes {
        for batch in [1, 6] {
            let input = try ZooNet.Tensor(shape: [batch, size, size, channels],
                                          scalars: (0..<(batch * size * size * channels)).map { Float($0 % 251) / 251 - 0.5 })
            var networks: [Network] = []
            for on in [false, true] {
                let x = Input(shape: [size, size, channels], name: "x")
                let padded = ZeroPadding2D(top: 1, bottom: 1, left: 1, right: 1)(x)
                let y = Conv2D(filters: channels, kernelSize: (3, 3), strides: (stride, stride), activation: .relu, name: "conv")(padded)
                let net = try Network(inputs: [x], outputs: [y], seed: 1)
                ComputeBackend.blockedDirect = on
                _ = try net.predict(input, batchSize: batch)  // the plan (and its primitives) made now
                networks.append(net)
            }
            let same = try networks[0].predict(input, batchSize: batch).scalars == networks[1].predict(input, batchSize: batch).scalars
            var medians: [[Double]] = [[], []]
            for _ in 0..<7 {
                for (index, net) in networks.enumerated() {
                    let clock = ContinuousClock()
                    var calls: [Double] = []
                    let start = clock.now
                    while calls.count < 3 || seconds(clock.now - start) < 0.2 {
                        calls.append(seconds(try clock.measure { _ = try net.predict(input, batchSize: batch) }))
                    }
                    medians[index].append(calls.sorted()[calls.count / 2])
                }
            }
            let ratios = zip(medians[0], medians[1]).map { $0 / $1 }.sorted()
            let nhwc = medians[0].sorted()[3] * 1e3, blocked = medians[1].sorted()[3] * 1e3
            print("LAYER\tblocked\t\(size)x\(size)x\(channels) s\(stride) b\(batch)\t\(String(format: "%.3f", nhwc))\t"
                  + "\(String(format: "%.3f", blocked))\t\(String(format: "%.2f", ratios[3]))\(same ? "" : "\t(outputs differ)")")
            fflush(nil)
        }
    }
}

/// `winograd` (only when named): each 3×3 stride-1 convolution shape of ResNet-50 and VGG's
/// first block alone (conv + ReLU, TF same padding), at batch 1 and 6 (ResNet-50's pass at 224
/// on a 32 MiB L3), with Winograd F(2×2, 3×3) off and on in alternation, 5 pairs of ≥ 0.3 s
/// each: `LAYER winograd <shape> <direct ms> <winograd ms> <direct / winograd>` (medians). Shapes
/// with fewer than 24 tiles per thread run direct both ways (ratio ≈ 1).
if requested.contains("winograd") {
    let saved = ComputeBackend.winograd
    defer { ComputeBackend.winograd = saved }
    for (size, channels, filters) in [(56, 64, 64), (28, 128, 128), (14, 256, 256), (7, 512, 512), (224, 64, 64), (112, 128, 128)] {
        let x = Input(shape: [size, size, channels], name: "x")
        let y = Conv2D(filters: filters, kernelSize: (3, 3), padding: .same, activation: .relu, name: "conv")(x)
        let net = try Network(inputs: [x], outputs: [y], seed: 1)
        for batch in size >= 112 ? [1] : [1, 6] {
            let input = try ZooNet.Tensor(shape: [batch, size, size, channels],
                                          scalars: (0..<(batch * size * size * channels)).map { Float($0 % 251) / 251 - 0.5 })
            var times: [Bool: [Double]] = [false: [], true: []]
            for _ in 0..<5 {
                for on in [false, true] {
                    ComputeBackend.winograd = on
                    _ = try net.predict(input, batchSize: batch)
                    let clock = ContinuousClock()
                    var calls: [Double] = []
                    let start = clock.now
                    while calls.count < 3 || seconds(clock.now - start) < 0.3 {
                        calls.append(seconds(try clock.measure { _ = try net.predict(input, batchSize: batch) }))
                    }
                    times[on]!.append(calls.sorted()[calls.count / 2])
                }
            }
            let direct = times[false]!.sorted()[2] * 1e3, winograd = times[true]!.sorted()[2] * 1e3
            print("LAYER\twinograd\t\(size)x\(size)x\(channels)→\(filters) b\(batch)\t\(String(format: "%.3f", direct))\t"
                  + "\(String(format: "%.3f", winograd))\t\(String(format: "%.2f", direct / winograd))")
            fflush(nil)
        }
    }
}
