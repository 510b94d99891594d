import Foundation
import Testing
import ZooKit
import ZooNet

@Suite struct ManifestTests {
    static func valid() -> ModelManifest {
        ModelManifest(
            name: "tiny", summary: "a test", task: "classification", license: "MIT",
            input: InputSpec(shape: [4]), labels: ["a", "b"],
            architecture: [.dense("hidden1", units: 3, activation: .relu), .dense("outputs", units: 2, activation: .softmax)],
            head: "outputs",
            weights: WeightsSpec(file: "w.safetensors", format: .safetensors, sha256: String(repeating: "0", count: 64), bytes: 10,
                                 mapping: NameMapping(), provenance: Provenance(framework: "numpy", frameworkVersion: "2.4")))
    }

    @Test func roundTripsThroughJSON() throws {
        let manifest = Self.valid()
        let decoded = try ModelManifest.decode(try manifest.encoded(), file: "m.json")
        #expect(decoded == manifest)
        #expect(try decoded.parameterCount() == 4 * 3 + 3 + 3 * 2 + 2)
    }

    /// Each broken manifest names the file and the key.
    @Test(arguments: [
        ("drop:labels", "labels", "missing"),
        ("set:head=nowhere", "head", "no node named 'nowhere'"),
        ("set:cut=nowhere", "cut", "no node named 'nowhere'"),
        ("set:name=../evil", "name", "not a valid model name"),
        ("set:sha256=xyz", "weights.sha256", "expected 64 hex digits"),
        ("set:file=../../etc/passwd", "weights.file", "plain file name"),
        ("set:layer=transformer", "architecture.nodes[1].kind", "unknown layer kind 'transformer'"),
        ("set:schema=3", "schema", "schema 3 is not one this zoo understands (1, 2)"),
        ("set:units=-3", "architecture.nodes[0]", "units must be positive"),
        ("set:inputs=ghost", "architecture.nodes[1]", "node 'outputs' takes 'ghost', which no node or input defines"),
        ("set:cycle", "architecture.nodes[0]", "node 'hidden1' is on or behind a cycle"),
        ("set:twice", "architecture.nodes[1]", "node 'hidden1' is defined twice"),
        ("set:output=ghost", "architecture", "output 'ghost' is not a node"),
        ("set:shape=5", "input.shape", "[5] differs from the architecture's input 'input_layer' [4]"),
        ("set:layout=jax", "weights.mapping.layout", "invalid String value jax"),
        ("set:format=zip", "weights.format", "invalid String value zip"),
        ("set:mean=3", "input.preprocessing", "mean has 3 values for 4 channels"),
        ("set:std=0", "input.preprocessing", "std values must be finite and > 0"),
        ("set:order=hsv", "input.preprocessing.channel_order", "invalid String value hsv"),
    ])
    func brokenManifests(change: String, key: String, problem: String) throws {
        var object = try #require(JSONSerialization.jsonObject(with: try Self.valid().encoded()) as? [String: Any])
        var weights = object["weights"] as! [String: Any]
        var graph = object["architecture"] as! [String: Any]
        var layers = graph["nodes"] as! [[String: Any]]
        switch change {
        case "drop:labels": object["labels"] = nil
        case "set:head=nowhere": object["head"] = "nowhere"
        case "set:name=../evil": object["name"] = "../evil"
        case "set:sha256=xyz": weights["sha256"] = "xyz"
        case "set:file=../../etc/passwd": weights["file"] = "../../etc/passwd"
        case "set:cut=nowhere": object["cut"] = "nowhere"
        case "set:layer=transformer": layers[1]["kind"] = "transformer"
        case "set:schema=3": object["schema"] = 3
        case "set:units=-3": layers[0]["units"] = -3
        case "set:inputs=ghost": layers[1]["inputs"] = ["ghost"]
        case "set:cycle": layers[0]["inputs"] = ["outputs"]
        case "set:twice": layers[1]["name"] = "hidden1"; graph["outputs"] = ["hidden1"]
        case "set:output=ghost": graph["outputs"] = ["ghost"]
        case "set:shape=5": object["input"] = ["shape": [5], "preprocessing": ["scale": 1, "offset": 0]]
        case "set:layout=jax": weights["mapping"] = ["layout": "jax", "rules": [String]()]
        case "set:format=zip": weights["format"] = "zip"
        case "set:mean=3": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "mean": [1, 2, 3]]]
        case "set:std=0": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "std": [1, 1, 0, 1]]]
        case "set:order=hsv": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "channel_order": "hsv"]]
        default: Issue.record("unknown change")
        }
        object["weights"] = weights
        graph["nodes"] = layers
        object["architecture"] = graph
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(throws: ZooKitError.self) { try ModelManifest.decode(data, file: "reg/tiny/manifest.json") }
        guard case .badManifest(let file, let foundKey, let foundProblem) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == "reg/tiny/manifest.json")
        #expect(foundKey == key)
        #expect(foundProblem.contains(problem), "\(foundProblem)")
        #expect(error.exitCode == 65)
    }

    /// A schema-1 manifest (the layer list of Zoo's first registry, `type` keys, its
    /// `leaky_relu` and `elu` kinds) reads as a chain and is written back as schema 2.
    @Test func schemaOneReadsAsAChain() throws {
        var object = try #require(JSONSerialization.jsonObject(with: try Self.valid().encoded()) as? [String: Any])
        object["schema"] = 1
        object["input"] = ["shape": [8, 8, 1], "preprocessing": ["scale": 1, "offset": 0]]
        object["architecture"] = [
            ["type": "conv2d", "name": "conv", "filters": 4, "kernel_size": [3, 3], "padding": "same", "activation": "relu"],
            ["type": "max_pooling2d", "name": "pool", "pool_size": [2, 2]],
            ["type": "leaky_relu", "name": "leaky", "alpha": 0.01],
            ["type": "elu", "name": "elu"],
            ["type": "flatten", "name": "flat"],
            ["type": "dense", "name": "outputs", "units": 2, "activation": "softmax"],
        ]
        let manifest = try ModelManifest.decode(try JSONSerialization.data(withJSONObject: object), file: "old.json")
        #expect(manifest.schema == 1)
        let layers = try #require(manifest.architecture.chainLayers)
        #expect(layers.map(\.kind) == ["conv2d", "max_pooling2d", "activation", "activation", "flatten", "dense"])
        #expect(layers[2].layer == .activation(.leakyReLU(alpha: 0.01)))
        #expect(layers[3].layer == .activation(.elu(alpha: 1)))
        #expect(manifest.architecture.inputs == [.init(name: "input_layer", shape: [8, 8, 1])])
        #expect(try manifest.parameterCount() == 3 * 3 * 4 + 4 + 64 * 2 + 2)
        let rewritten = try ModelManifest.decode(try manifest.encoded(), file: "new.json")
        #expect(rewritten.schema == 2)
        #expect(rewritten.architecture == manifest.architecture)
        #expect(rewritten.featureNode == "flat")
    }

    /// The manifest Zoo's registry shipped in schema 1 (`fashion-0to4-dnn`, as committed on
    /// 2026-11-29) still reads, and means the same network as its schema-2 rewrite.
    @Test func shippedSchemaOneFileReads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/zookit/manifest_schema1.json").path
        let old = try ModelManifest.decode(try Data(contentsOf: URL(fileURLWithPath: path)), file: path)
        #expect(old.schema == 1)
        let layers = try #require(old.architecture.chainLayers)
        #expect(layers.map(\.name) == ["hidden1", "hidden2", "hidden3", "hidden4", "hidden5", "outputs"])
        #expect(layers[0] == .dense("hidden1", units: 100, activation: .elu(alpha: 1)))
        #expect(layers[5] == .dense("outputs", units: 5, activation: .softmax))
        #expect(try old.parameterCount() == 784 * 100 + 100 + 4 * (100 * 100 + 100) + 100 * 5 + 5)
        let shipped = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("registry/models/fashion-0to4-dnn/manifest.json").path
        let new = try ModelManifest.decode(try Data(contentsOf: URL(fileURLWithPath: shipped)), file: shipped)
        #expect(new.schema == 2)
        var rewritten = old
        rewritten.schema = 2
        #expect(new == rewritten)
    }

    /// A graph (a residual block, a cut node) survives the JSON round trip and builds.
    @Test func graphManifestRoundTrips() throws {
        var manifest = Self.valid()
        manifest.input = InputSpec(shape: [6, 6, 2])
        manifest.architecture = NetworkDescription(
            inputs: [.init(name: "image", shape: [6, 6, 2])],
            nodes: [
                .init(name: "conv", layer: .conv2d({ var s = LayerConfig.ConvolutionSettings(); s.filters = 2; s.kernelSize = [3, 3]; s.padding = .same; return s }()), inputs: ["image"]),
                .init(name: "skip", layer: .merge(.add), inputs: ["image", "conv"]),
                .init(name: "pool", layer: .globalAveragePooling2d(keepDims: false), inputs: ["skip"]),
                .init(name: "outputs", layer: .dense(units: 2, activation: .softmax, useBias: true), inputs: ["pool"]),
            ],
            outputs: ["outputs"])
        manifest.cut = "skip"
        let decoded = try ModelManifest.decode(try manifest.encoded(), file: "graph.json")
        #expect(decoded == manifest)
        #expect(decoded.architecture.chainLayers == nil)
        #expect(decoded.architecture.defaultHead == "outputs")
        #expect(decoded.featureNode == "skip")
        #expect(try decoded.parameterCount() == 3 * 3 * 2 * 2 + 2 + 2 * 2 + 2)
        let network = try decoded.buildNetwork()
        #expect(!(network is Sequential))
        #expect(network.nodeNames == ["image", "conv", "skip", "pool", "outputs"])
    }

    @Test func notJSONAtAll() throws {
        let error = try #require(throws: ZooKitError.self) { try ModelManifest.decode(Data("{oops".utf8), file: "m.json") }
        guard case .badManifest(let file, _, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == "m.json")
    }

    /// Keras' `imagenet_utils.preprocess_input` (Keras 3.15) on the pixels [255, 128, 0] and
    /// [10, 20, 30]: "torch" (x/255, ImageNet mean/std), "caffe" (BGR, mean subtracted) and
    /// "tf" (x/127.5 − 1) as manifest preprocessing give Keras' values.
    @Test(arguments: [
        ("torch", Preprocessing(scale: 1.0 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
         [2.248908281326294, 0.20518219470977783, -1.804444432258606, -1.9466564655303955, -1.6855741739273071, -1.2815686464309692]),
        ("caffe", Preprocessing(mean: [103.939, 116.779, 123.68], channelOrder: .bgr),
         [-103.93900299072266, 11.221000671386719, 131.32000732421875, -73.93900299072266, -96.77899932861328, -113.68000030517578]),
        ("tf", Preprocessing(scale: 1.0 / 127.5, offset: -1),
         [1.0, 0.003921627998352051, -1.0, -0.9215686321258545, -0.843137264251709, -0.7647058963775635]),
    ])
    func preprocessingMatchesKeras(_ mode: String, _ preprocessing: Preprocessing, _ want: [Double]) throws {
        let data = LabeledData(inputs: [255, 128, 0, 10, 20, 30], sampleShape: [1, 2, 3], labels: [0], source: "pixels")
        let got = data.preprocessed(preprocessing).inputs
        #expect(zip(got, want).allSatisfy { abs(Double($0) - $1) <= 1e-5 * (1 + abs($1)) }, "\(mode): \(got)")
        let manifest = try JSONDecoder().decode(Preprocessing.self, from: JSONEncoder().encode(preprocessing))
        #expect(manifest == preprocessing)
    }
}
