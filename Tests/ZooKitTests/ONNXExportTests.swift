import Foundation
import Testing
@testable import ZooKit

/// Zoo → ONNX (`ONNXExporter` + `ONNXWriter`), proved against the real peers without Python in CI.
///
/// `Tests/Fixtures/onnxexport/check_onnx.py` ran `zoo convert SRC OUT.onnx --opset N
/// [--channels-first]` for every model and combination below, checked each file with
/// `onnx.checker.check_model(full_check=True)` and ran it in ONNX Runtime, recording the file's
/// SHA-256 (`expected.json`) and ORT's outputs (`ort_outputs.npz`). Here the same model is
/// written again, in memory: its bytes must hash to the recorded SHA-256 (so this is the file the
/// checker and ORT accepted), and Zoo's own prediction must equal ORT's outputs to
/// `1e-4 · (1 + max|y|)`. A change of the writer or the exporter that changes the bytes fails
/// here until the script is run again (and the checker and ORT accept the new files). The
/// architectures the command line cannot build at their fixture sizes are written by this test
/// instead (`ZOO_ONNX_EXPORT_DIR=DIR swift test --filter ONNXExportTests`, then
/// `check_onnx.py --written DIR`).
@Suite struct ONNXExportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures").path
    static let directory = fixtures + "/onnxexport"

    /// What `check_onnx.py` recorded per file (`MODEL.LAYOUT.OPSET`).
    struct Expected: Decodable {
        let sha256: String
        let checker: String
        let ort_vs_peer_max_abs: Double
    }

    static let expected: [String: Expected] = {
        guard let data = FileManager.default.contents(atPath: directory + "/expected.json") else { return [:] }
        return (try? JSONDecoder().decode([String: Expected].self, from: data)) ?? [:]
    }()

    static let models = ["small_graph", "ops", "mobilenetv2_a035", "mobilenetv3small_a075", "mobilenet_v3_small", "squeezenet1_1", "pnet",
                         "mobilenet_v3_large", "onet", "rnet", "mobilenet_a025", "nested", "nested_sequential", "multi_io", "shared",
                         "operators", "operators_extra", "app_layers", "fer"]

    /// A model as `zoo convert` loads it, with the options it writes and the fixture's inputs (NHWC).
    struct Loaded {
        var network: Network
        var name: String
        var labels: [String] = []
        var input: InputSpec?
        var xs: [ZooNet.Tensor]
    }

    /// Loads `model` the way `zoo convert` does: a Keras file through `ModelReference` (a
    /// manifest: labels and preprocessing), a state dict into its built-in architecture.
    static func load(_ model: String) throws -> Loaded {
        func tensor(_ stored: StoredTensor, fromNCHW: Bool) throws -> ZooNet.Tensor {
            let (values, shape) = fromNCHW ? TorchParameterLayout.permuted(try stored.floats(), shape: stored.shape, to: [0, 2, 3, 1])
                                           : (try stored.floats(), stored.shape)
            return try ZooNet.Tensor(shape: shape, scalars: values)
        }
        func keras(_ path: String, inputs: String) throws -> Loaded {
            let registry = try TemporaryRegistry()
            defer { registry.remove() }
            let loaded = try ModelReference(path).load(registry: registry.registry)
            let archive = try TensorArchive.open(inputs)
            // x, or x0, x1, … in the model's input order (a .npy: its one array).
            let names = archive.tensors.map(\.name).filter { $0 == "x" || $0.hasPrefix("x") && Int($0.dropFirst()) != nil }
                .sorted { ($0.count, $0) < ($1.count, $1) }
            let xs = try (names.isEmpty ? archive.tensors : names.map { try archive.tensor(named: $0) }).map { try tensor($0, fromNCHW: false) }
            return Loaded(network: loaded.network, name: loaded.manifest.name, labels: loaded.manifest.labels, input: loaded.manifest.input, xs: xs)
        }
        func torch(_ stem: String, _ architecture: Architecture, classes: Int?, width: Double = 1, size: Int?) throws -> Loaded {
            let base = fixtures + "/torcharch/" + stem
            let network = try architecture.build(classes: classes, widthMultiplier: width, inputSize: size)
            try Architecture.loadStateDict(try TensorArchive.open(base + ".pt"), into: network, architecture: architecture)
            return Loaded(network: network, name: architecture.rawValue, xs: [try tensor(try TensorArchive.open(base + ".x.npy").tensors[0], fromNCHW: true)])
        }
        switch model {
        case "small_graph": return try keras(directory + "/small_graph.keras", inputs: directory + "/small_graph.x.npy")
        case "mobilenet_v3_small": return try torch(model, .mobilenetV3Small, classes: 5, width: 0.25, size: 48)
        case "mobilenet_v3_large": return try torch(model, .mobilenetV3Large, classes: 5, width: 0.25, size: 48)
        case "squeezenet1_1": return try torch(model, .squeezenet1_1, classes: 5, size: 48)
        case "pnet": return try torch(model, .pnet, classes: nil, size: 31)
        case "onet": return try torch(model, .onet, classes: nil, size: nil)
        case "rnet": return try torch(model, .rnet, classes: nil, size: nil)
        case "fer": return try keras(fixtures + "/kerasapps/fer/emotion_model.hdf5", inputs: fixtures + "/kerasapps/fer/emotion_model.npz")
        default: return try keras(fixtures + "/kerasapps/\(model).keras", inputs: fixtures + "/kerasapps/\(model).npz")
        }
    }

    /// The SHA-256 of the file `zoo convert` writes for `loaded` at `opset`, NCHW or not (written
    /// to a temporary file, or kept in `ZOO_ONNX_EXPORT_DIR` as `KEY.onnx` when that is set).
    static func writtenSHA256(_ loaded: Loaded, key: String, opset: Int, channelsFirst: Bool) throws -> String {
        let options = ONNXExporter.Options(opset: opset, channelsFirst: channelsFirst, labels: loaded.labels, input: loaded.input)
        let kept = ProcessInfo.processInfo.environment["ZOO_ONNX_EXPORT_DIR"]
        let path = kept.map { "\($0)/\(key).onnx" } ?? NSTemporaryDirectory() + "/\(key)-\(UUID().uuidString.prefix(8)).onnx"
        defer { if kept == nil { try? FileManager.default.removeItem(atPath: path) } }
        try ONNXWriter.write(try ONNXExporter.model(of: loaded.network, name: loaded.name, options: options), to: path)
        return try WeightsCache.sha256(ofFile: path)
    }

    @Test(arguments: models) func writesTheFileORTValidatedAndPredictsLikeIt(_ model: String) throws {
        let combinations = Self.expected.keys.filter { $0.hasPrefix(model + ".") }.sorted()
        #expect(!combinations.isEmpty, "no combination of \(model) in expected.json: run check_onnx.py")
        try Self.expectMatchesRecords(try Self.load(model), keys: combinations)
    }

    /// The torcharch configurations `zoo convert` cannot build (custom widths): with
    /// `ZOO_ONNX_EXPORT_DIR` set these files are written there for `check_onnx.py` (which checks
    /// and records them like the command line's); otherwise they are compared with the records.
    @Test(arguments: ["vgg11_bn_small", "vgg16_small", "densenet_small", "efficientnet_b0_w025"])
    func writesArchitecturesTheCommandLineCannotBuild(_ fixture: String) throws {
        let (network, architecture) = try TorchArchitectureParityTests.network(fixture)
        let base = TorchArchitectureParityTests.directory.appendingPathComponent(fixture).path
        try Architecture.loadStateDict(try TensorArchive.open(base + ".pt"), into: network, architecture: architecture)
        let x = try TensorArchive.open(base + ".x.npy").tensors[0]
        let (values, shape) = TorchParameterLayout.permuted(try x.floats(), shape: x.shape, to: [0, 2, 3, 1])
        let loaded = Loaded(network: network, name: fixture, xs: [try ZooNet.Tensor(shape: shape, scalars: values)])
        try Self.expectMatchesRecords(loaded, keys: ["\(fixture).nhwc.17", "\(fixture).nchw.13"])
    }

    /// PyTorch's pooling conventions on a 10 × 8 map (kernel 3, stride 2, padding 1, ceil mode,
    /// whose last window overhangs the padding on both axes): average with `count_include_pad`
    /// (ONNX: the declared pads as zeros, then an average over the rest), max, and average
    /// without it. The peer is `torch.nn.functional` in `check_onnx.py`; the input is written
    /// beside the files (`pooling_conventions.x.npy`) in generation mode.
    @Test func writesPyTorchPoolingConventions() throws {
        let input = Input(shape: [10, 8, 3], name: "x")
        let padding = Padding.symmetric(1)
        let outputs = [
            AveragePooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding, ceilMode: true, countIncludePad: true, name: "avg_include_pad")(input),
            MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding, ceilMode: true, name: "max")(input),
            AveragePooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding, ceilMode: true, countIncludePad: false, name: "avg_exclude_pad")(input),
        ]
        let network = try Network(inputs: [input], outputs: outputs)
        let x = try ZooNet.Tensor(shape: [2, 10, 8, 3], scalars: (0..<480).map { Float(sin(Double($0) * 0.37) * 2 + 0.5) })
        if let kept = ProcessInfo.processInfo.environment["ZOO_ONNX_EXPORT_DIR"] {
            try NPYWriter.write(try StoredTensor(name: "x", shape: x.shape, floats: x.scalars), to: kept + "/pooling_conventions.x.npy")
        }
        #expect(try network.shape(ofNode: "avg_include_pad") == [6, 5, 3])  // ceil mode: one more row and column
        try Self.expectMatchesRecords(Loaded(network: network, name: "pooling_conventions", xs: [x]),
                                      keys: ["pooling_conventions.nhwc.17", "pooling_conventions.nchw.13"])
    }

    /// Every activation on a 4 × 5 × 6 map (softmax and log-softmax over the channels, which
    /// NCHW puts on axis 1), at the opsets where their forms change: HardSwish (14), Mish (18),
    /// Gelu exact and tanh (20). The peer is `torch.nn.functional` in `check_onnx.py`.
    static let activations: [Activation] = [
        .relu, .relu6, .leakyReLU(alpha: 0.2), .elu(alpha: 0.7), .selu, .sigmoid, .tanh, .softmax, .logSoftmax, .hardSigmoid,
        .hardSigmoidKeras2, .hardSwish, .swish, .gelu(approximate: false), .gelu(approximate: true), .softplus, .softsign, .mish, .exponential,
    ]

    @Test func writesEveryActivation() throws {
        let input = Input(shape: [4, 5, 6], name: "x")
        let outputs = Self.activations.enumerated().map { k, activation in ActivationLayer(activation, name: "activation_\(k)")(input) }
        let network = try Network(inputs: [input], outputs: outputs)
        let x = try ZooNet.Tensor(shape: [2, 4, 5, 6], scalars: (0..<240).map { Float(sin(Double($0) * 0.61) * 4.5) })
        if let kept = ProcessInfo.processInfo.environment["ZOO_ONNX_EXPORT_DIR"] {
            try NPYWriter.write(try StoredTensor(name: "x", shape: x.shape, floats: x.scalars), to: kept + "/activations.x.npy")
        }
        try Self.expectMatchesRecords(Loaded(network: network, name: "activations", xs: [x]),
                                      keys: ["activations.nhwc.13", "activations.nchw.14", "activations.nhwc.17", "activations.nchw.18",
                                             "activations.nhwc.20", "activations.nchw.21"])
    }

    /// For each `MODEL.LAYOUT.OPSET` key: the file written now has the recorded SHA-256 and a
    /// checker verdict "ok", and Zoo's prediction equals ORT's recorded outputs to
    /// `1e-4 · (1 + max|y|)`. With `ZOO_ONNX_EXPORT_DIR` set the files are only written there.
    static func expectMatchesRecords(_ loaded: Loaded, keys: [String]) throws {
        if ProcessInfo.processInfo.environment["ZOO_ONNX_EXPORT_DIR"] != nil {
            for key in keys {
                let parts = key.split(separator: ".")
                _ = try writtenSHA256(loaded, key: key, opset: Int(parts[2])!, channelsFirst: parts[1] == "nchw")
            }
            return
        }
        let zoo = try loaded.network.predict(loaded.xs)
        let ort = try TensorArchive.open(directory + "/ort_outputs.npz")
        for key in keys {
            let parts = key.split(separator: ".")
            let channelsFirst = parts[1] == "nchw", opset = Int(parts[2])!
            let recorded = try #require(expected[key], "\(key) is not in expected.json: run check_onnx.py")
            #expect(recorded.checker == "ok", "\(key): the checker said \(recorded.checker)")
            let digest = try writtenSHA256(loaded, key: key, opset: opset, channelsFirst: channelsFirst)
            #expect(digest == recorded.sha256, "\(key): the file written now is not the one check_onnx.py validated")
            for (k, output) in zoo.enumerated() {
                let want = try ort.tensor(named: "\(key).y\(k)")
                let (got, shape) = channelsFirst && output.shape.count == 4
                    ? TorchParameterLayout.permuted(output.scalars, shape: output.shape, to: [0, 3, 1, 2]) : (output.scalars, output.shape)
                #expect(shape == want.shape, "\(key) output \(k)")
                let values = try want.floats()
                let tolerance = 1e-4 * (1 + (values.map(abs).max() ?? 0))
                let worst = zip(got, values).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst <= tolerance, "\(key) output \(k): max |zoo − ORT| = \(worst), tolerance \(tolerance)")
                print("ONNX \(key) y\(k): max |zoo − ORT| = \(worst) (max |y| \(values.map(abs).max() ?? 0)); max |ORT − peer| = \(recorded.ort_vs_peer_max_abs)")
            }
        }
    }

    /// The opset decides the operator forms: HardSwish from 14, LayerNormalization from 17,
    /// ReduceMean's axes an input from 18, Mish from 18, Gelu from 20; the ir_version follows.
    @Test func operatorsFollowTheOpset() throws {
        let loaded = try Self.load("ops")
        func ops(_ opset: Int) throws -> (Set<String>, ONNXModel) {
            let model = try ONNXExporter.model(of: loaded.network, name: "ops", options: .init(opset: opset))
            return (Set(model.graph.nodes.map(\.opType)), model)
        }
        let (at13, model13) = try ops(13), (at17, _) = try ops(17), (at18, model18) = try ops(18), (at20, model20) = try ops(20)
        #expect(!at13.contains("HardSwish") && !at13.contains("LayerNormalization") && !at13.contains("Gelu") && !at13.contains("Mish"))
        #expect(at13.contains("ReduceMean") && at13.contains("Erf"))
        #expect(model13.graph.nodes.filter { $0.opType == "ReduceMean" }.allSatisfy { $0.inputs.count == 1 && $0.attribute("axes") != nil })
        #expect(at17.contains("HardSwish") && at17.contains("LayerNormalization") && !at17.contains("Mish"))
        #expect(at18.contains("Mish") && !at18.contains("Gelu"))
        #expect(model18.graph.nodes.allSatisfy { $0.opType != "ReduceMean" || $0.inputs.count == 2 })
        #expect(at20.contains("Gelu") && !at20.contains("Erf"))
        #expect(model13.irVersion == 7 && model18.irVersion == 8 && model20.irVersion == 9)
        #expect(model20.opsetImports == [ONNXOperatorSet(version: 20)])
    }

    /// NHWC by default (one Transpose after the image input and before each map output), NCHW
    /// with channelsFirst (no layout Transpose at all); metadata: producer, labels, preprocessing.
    @Test func layoutAndMetadata() throws {
        var loaded = try Self.load("small_graph")
        loaded.labels = ["a", "b/c", "d", "e", "f"]
        let nhwc = try ONNXExporter.model(of: loaded.network, name: "small_graph", options: .init(labels: loaded.labels, input: loaded.input))
        let nchw = try ONNXExporter.model(of: loaded.network, name: "small_graph", options: .init(channelsFirst: true))
        #expect(nhwc.graph.inputs.map(\.shape) == [[.symbol("batch"), .value(16), .value(16), .value(3)]])
        #expect(nchw.graph.inputs.map(\.shape) == [[.symbol("batch"), .value(3), .value(16), .value(16)]])
        #expect(nhwc.graph.outputs.map(\.name) == ["probabilities", "concat"])
        #expect(nhwc.graph.outputs[1].shape == [.symbol("batch"), .value(8), .value(8), .value(16)])
        #expect(nchw.graph.outputs[1].shape == [.symbol("batch"), .value(16), .value(8), .value(8)])
        let layoutTransposes = { (model: ONNXModel) in
            model.graph.nodes.filter { node in
                node.opType == "Transpose" && [ONNXLayout.toNCHW, ONNXLayout.toNHWC].contains(node.attribute("perm")?.ints?.map(Int.init) ?? [])
            }.count
        }
        #expect(layoutTransposes(nhwc) == 3)  // the input, the map output, and NHWC before Flatten
        #expect(layoutTransposes(nchw) == 1)  // NHWC before Flatten only
        #expect(nhwc.producerName == "zoo" && nhwc.producerVersion == ZooVersion.current)
        let metadata = Dictionary(uniqueKeysWithValues: nhwc.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["zoo.labels"] == #"["a","b/c","d","e","f"]"#)
        let preprocessing = try #require(metadata["zoo.preprocessing"])
        #expect(try JSONDecoder().decode(InputSpec.self, from: Data(preprocessing.utf8)) == loaded.input)
        #expect(nchw.metadataProps.isEmpty)
    }

    /// A layer the engine runs but ONNX cannot express (here a custom layer, without a
    /// `LayerConfig`) is refused with a typed error naming it and its kind.
    @Test func refusesALayerWithoutAnONNXForm() throws {
        let input = Input(shape: [4], name: "x")
        let hidden = Dense(outputCount: 3, name: "hidden")(input)
        let network = try Network(inputs: [input], outputs: [CustomSquare(name: "square")(hidden)])
        #expect {
            try ONNXExporter.model(of: network, name: "custom")
        } throws: { error in
            guard case .notONNXExpressible(let layers) = error as? ZooKitError else { return false }
            return layers.groups.map(\.className) == ["custom_square"] && layers.groups[0].layers == ["square"]
                && (error as! ZooKitError).description.contains("square") && (error as! ZooKitError).exitCode == 65
        }
        #expect(throws: ZooKitError.invalidRequest("ONNX opset 12 is not supported: Zoo writes opsets 13–21")) {
            try ONNXExporter.model(of: network, name: "custom", options: .init(opset: 12))
        }
    }
}

/// y = x², a layer the engine runs that has no `LayerConfig` (so no ONNX form).
final class CustomSquare: Layer {
    var name: String
    var kind: String { "custom_square" }
    var variables: [Variable] { [] }
    init(name: String) { self.name = name }
    func build(inputShape: [Int], seed: UInt64) throws -> [Int] { inputShape }
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {}
    func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {}
}
