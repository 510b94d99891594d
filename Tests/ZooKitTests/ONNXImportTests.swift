import Foundation
import Testing
@testable import ZooKit

/// ONNX models on the engine (`ONNXGraphImporter`): torchvision models exported by
/// `torch.onnx.export` (TorchScript exporter at opsets 13 and 17, dynamo exporter at 18) and a
/// Keras Application converted by tf2onnx predict like ONNX Runtime 1.32 to
/// `1e-4 · (1 + max|want|)` (fixtures by `Tests/Fixtures/onnximport/make_fixtures.py` and
/// `make_keras_fixtures.py`); graphs built here and small fixture graphs check the errors.
@Suite struct ONNXImportTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/onnximport").path

    static let fixtures = [
        "mobilenet_v3_large.opset13", "mobilenet_v3_large.opset18", "mobilenet_v2_w025.opset17",
        "efficientnet_b0_w025.opset13", "efficientnet_b0_w025.opset17",
        "densenet_small.opset13", "densenet_small.opset17", "densenet_small.opset18",
        "onet.opset13", "onet.opset17", "keras_mobilenet_v2.opset13", "keras3_mobilenet_v2.opset15",
    ]

    @Test(arguments: fixtures) func predictsLikeONNXRuntime(_ fixture: String) throws {
        let path = Self.directory + "/" + fixture + ".onnx"
        let (network, imported, report) = try ONNXGraphImporter.load(path)
        #expect(report.isComplete)
        let stem = String(fixture.split(separator: ".")[0])
        let worst = try Self.maximumError(network, imported, input: Self.directory + "/" + stem + ".x.npy", want: Self.directory + "/" + fixture + ".y.npz")
        #expect(worst.error <= 1e-4 * worst.scale, "\(fixture): max |zoo − ort| = \(worst.error)")
    }

    /// The largest |zoo − ort| over every output, and 1 + max|ort|.
    static func maximumError(_ network: Network, _ imported: ONNXImportedNetwork, input: String, want: String) throws -> (error: Float, scale: Float) {
        let x = try ZooNet.Tensor(TensorArchive.open(input).tensors[0])
        let outputs = try imported.predict(network, onnxInputs: [x])
        let expected = try TensorArchive.open(want)
        #expect(outputs.count == expected.tensors.count)
        var error: Float = 0, scale: Float = 1
        for (k, output) in outputs.enumerated() {
            let reference = try expected.tensor(named: "y\(k)")
            #expect(output.shape == reference.shape)
            let want = try reference.floats()
            scale = max(scale, 1 + (want.map(abs).max() ?? 0))
            error = max(error, zip(output.scalars, want).map { abs($0 - $1) }.max() ?? .infinity)
        }
        return (error, scale)
    }

    /// A tf2onnx graph takes NHWC images (a Transpose to NCHW first): the engine input stays NHWC.
    @Test func channelsLastInputsStayChannelsLast() throws {
        let imported = try ONNXGraphImporter.convert(ONNXReader.read(Self.directory + "/keras_mobilenet_v2.opset13.onnx"))
        #expect(imported.inputOrders == [[0, 1, 2, 3]])
        #expect(imported.description.inputs[0].shape == [48, 48, 3])
        #expect(!imported.description.nodes.contains { $0.layer.kind == "permute" })
        // A scaling before the Transpose (Zoo's own NHWC exports with preprocessing) does not hide it.
        let scaled = Self.model([
            ONNXNode(name: "scale", opType: "Mul", inputs: ["x", "k"], outputs: ["s"]),
            ONNXNode(name: "nchw", opType: "Transpose", inputs: ["s"], outputs: ["t"], attributes: [ONNXAttribute(name: "perm", .ints([0, 3, 1, 2]))]),
            ONNXNode(name: "conv", opType: "Conv", inputs: ["t", "w"], outputs: ["y"]),
        ], initializers: [try ONNXTensor(name: "k", StoredTensor(name: "k", shape: [], floats: [0.5])), try Self.weight("w", [2, 3, 3, 3])],
           outputs: ["y"], input: [.symbol("batch"), .value(6), .value(6), .value(3)])
        let nhwc = try ONNXGraphImporter.convert(scaled)
        #expect(nhwc.inputOrders == [[0, 1, 2, 3]])
        #expect(nhwc.description.inputs[0].shape == [6, 6, 3])
        #expect(nhwc.description.nodes.map(\.layer.kind) == ["rescaling", "conv2d"])
    }

    /// Registered: `zoo import model.onnx` keeps the file (format `onnx`) and the graph; loading
    /// the entry reads the weights through the graph again and predicts the same.
    @Test func importedModelsLoadFromTheRegistry() throws {
        let registry = try TemporaryRegistry()
        defer { registry.remove() }
        let path = Self.directory + "/onet.opset13.onnx"
        let (entry, report) = try Importer.run(ImportRequest(file: path, name: "onet-onnx"), registry: registry.registry)
        #expect(report.isComplete)
        #expect(entry.manifest.weights.format == .onnx)
        #expect(entry.manifest.weights.provenance.framework == "pytorch")
        #expect(entry.manifest.input.shape == [48, 48, 3])
        let model = try PretrainedModel.load(entry)
        let (network, imported, _) = try ONNXGraphImporter.load(path)
        let x = try ZooNet.Tensor(TensorArchive.open(Self.directory + "/onet.x.npy").tensors[0])
        let direct = try imported.predict(network, onnxInputs: [x])
        let registered = try imported.predict(model.network, onnxInputs: [x])
        #expect(direct.map(\.scalars) == registered.map(\.scalars))
    }

    /// `zoo.labels` and `zoo.preprocessing` in metadata_props become the manifest's labels and
    /// input settings.
    @Test func zooMetadataGivesLabelsAndPreprocessing() throws {
        let registry = try TemporaryRegistry()
        defer { registry.remove() }
        let (entry, _) = try Importer.run(ImportRequest(file: Self.directory + "/labeled.onnx", name: "labeled"), registry: registry.registry)
        #expect(entry.manifest.labels == ["cat", "dog", "eel"])
        #expect(entry.manifest.input.preprocessing == Preprocessing(scale: 1 / 255.0))
        #expect(entry.manifest.architecture.nodes.map(\.layer.kind) == ["conv2d", "global_average_pooling2d", "flatten", "dense", "activation"])
    }

    /// The fixture graphs Zoo must refuse: the unsupported operators listed once, grouped, in
    /// graph order (Erf below an LRN too: an operator Zoo has no conversion for); a cycle.
    @Test func fixtureGraphsAreRefusedWithTypedErrors() throws {
        let unsupported = try ONNXReader.read(Self.directory + "/unsupported.onnx")
        #expect(throws: ZooKitError.unsupportedONNXOps(UnsupportedONNXOps(opset: 17, [
            ("Erf", "erf1", "no engine layer computes it"), ("LRN", "lrn", "no engine layer computes it"),
            ("Erf", "erf2", "no engine layer computes it"), ("TopK", "topk", "no engine layer computes it"),
        ]))) { try ONNXGraphImporter.convert(unsupported) }
        #expect(UnsupportedONNXOps(opset: 17, [("Erf", "erf1", "r"), ("LRN", "lrn", "r"), ("Erf", "erf2", "r")]).description
                == "unsupported ONNX ops: Erf (opset 17) ×2 at nodes erf1, erf2: r; LRN ×1 at node lrn: r")
        let cycle = try ONNXReader.read(Self.directory + "/cycle.onnx")
        #expect(throws: ZooKitError.invalidONNXGraph(nodes: ["p", "q", "r"], problem: "the graph has a cycle through 3 nodes")) {
            try ONNXGraphImporter.convert(cycle)
        }
    }

    // MARK: Graphs built here

    static func weight(_ name: String, _ shape: [Int], seed: Int = 1) throws -> ONNXTensor {
        let count = shape.reduce(1, *)
        return try ONNXTensor(name: name, StoredTensor(name: name, shape: shape, floats: (0..<count).map { Float(($0 * 7 + seed) % 11) / 10 - 0.5 }))
    }

    static func ints(_ name: String, _ values: [Int64]) throws -> ONNXTensor {
        try ONNXTensor(name: name, StoredTensor(name: name, shape: [values.count], int64s: values))
    }

    static func model(_ nodes: [ONNXNode], initializers: [ONNXTensor] = [], outputs: [String], opset: Int64 = 17,
                      input: [ONNXDimension] = [.symbol("batch"), .value(3), .value(6), .value(6)]) -> ONNXModel {
        ONNXModel(irVersion: 8, opsetImports: [ONNXOperatorSet(version: opset)], graph: ONNXGraph(
            name: "g", nodes: nodes, initializers: initializers, inputs: [ONNXValueInfo(name: "x", elementType: .float, shape: input)],
            outputs: outputs.map { ONNXValueInfo(name: $0, elementType: .float, shape: nil) }))
    }

    /// Conv → Flatten → Gemm on a 6×6 map: the flatten is in ONNX's (C, H, W) order, so the
    /// engine permutes its NHWC map first; the result matches a direct computation.
    @Test func flattenOfAMapPermutesToChannelsFirst() throws {
        let m = Self.model([
            ONNXNode(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                     attributes: [ONNXAttribute(name: "pads", .ints([1, 1, 1, 1])), ONNXAttribute(name: "strides", .ints([2, 2]))]),
            ONNXNode(name: "flat", opType: "Flatten", inputs: ["c"], outputs: ["f"]),
            ONNXNode(name: "fc", opType: "Gemm", inputs: ["f", "fw", "fb"], outputs: ["y"], attributes: [ONNXAttribute(name: "transB", .int(1))]),
        ], initializers: [try Self.weight("w", [2, 3, 3, 3]), try Self.weight("b", [2]), try Self.weight("fw", [4, 18], seed: 3), try Self.weight("fb", [4])],
           outputs: ["y"])
        let imported = try ONNXGraphImporter.convert(m)
        #expect(imported.description.inputs[0].shape == [6, 6, 3])
        #expect(imported.description.nodes.map(\.layer.kind) == ["conv2d", "permute", "flatten", "dense"])
        #expect(imported.description.nodes[1].layer == .permute([3, 1, 2]))
        let network = try Network(description: imported.description)
        #expect(try WeightAssigner.assign(imported.mappedTensors(), to: network).isComplete)
        // The same computation in ONNX's NCHW layout, by hand.
        let x = (0..<108).map { Float(($0 * 5) % 13) / 6 - 1 }  // [1, 3, 6, 6]
        let w = try Self.weight("w", [2, 3, 3, 3]).tensor.floats(), b = try Self.weight("b", [2]).tensor.floats()
        let fw = try Self.weight("fw", [4, 18], seed: 3).tensor.floats(), fb = try Self.weight("fb", [4]).tensor.floats()
        var conv = [Float](repeating: 0, count: 18)  // [2, 3, 3]
        for o in 0..<2 { for i in 0..<3 { for j in 0..<3 {
            var s = b[o]
            for c in 0..<3 { for p in 0..<3 { for q in 0..<3 {
                let (r, t) = (i * 2 - 1 + p, j * 2 - 1 + q)
                if (0..<6).contains(r), (0..<6).contains(t) { s += w[((o * 3 + c) * 3 + p) * 3 + q] * x[(c * 6 + r) * 6 + t] }
            } } }
            conv[(o * 3 + i) * 3 + j] = s
        } } }
        let want = (0..<4).map { u in fb[u] + (0..<18).reduce(Float(0)) { $0 + fw[u * 18 + $1] * conv[$1] } }
        let (nhwc, shape) = TorchParameterLayout.permuted(x, shape: [1, 3, 6, 6], to: [0, 2, 3, 1])
        let got = try network.predict([try ZooNet.Tensor(shape: shape, scalars: nhwc)])[0].scalars
        #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-5 }, "\(got) vs \(want)")
    }

    /// Every unsupported node is listed once, grouped by operator, with the opset; a supported
    /// node downstream of one (the Relu) is not.
    @Test func unsupportedOpsAreListedOnceGrouped() throws {
        let m = Self.model([
            ONNXNode(name: "a", opType: "Foo", inputs: ["x"], outputs: ["a"]),
            ONNXNode(name: "r", opType: "Relu", inputs: ["a"], outputs: ["r"]),
            ONNXNode(name: "b", opType: "Foo", inputs: ["x"], outputs: ["b"]),
            ONNXNode(name: "c", opType: "Foo", inputs: ["r"], outputs: ["c"]),
            ONNXNode(name: "d", opType: "Bar", inputs: ["x"], outputs: ["d"]),
            ONNXNode(name: "e", opType: "Clip", inputs: ["x", "lo", "hi"], outputs: ["e"]),
            ONNXNode(name: "s", opType: "Sum", inputs: ["c", "b", "d", "e"], outputs: ["y"]),
        ], initializers: [try ONNXTensor(name: "lo", StoredTensor(name: "lo", shape: [], floats: [-1])),
                          try ONNXTensor(name: "hi", StoredTensor(name: "hi", shape: [], floats: [1]))], outputs: ["y"])
        do {
            _ = try ONNXGraphImporter.convert(m)
            Issue.record("expected unsupportedONNXOps")
        } catch ZooKitError.unsupportedONNXOps(let ops) {
            #expect(ops.groups.map(\.op) == ["Foo", "Bar", "Clip"])
            #expect(ops.groups[0].nodes == ["a", "b", "c"])
            #expect(ops.description.hasPrefix("unsupported ONNX ops: Foo (opset 17) ×3 at nodes a, b, c: no engine layer computes it; Bar ×1 at node d"))
            #expect(ops.description.contains("Clip ×1 at node e: clip to [-1.0, 1.0]"))
            #expect(ZooKitError.unsupportedONNXOps(ops).exitCode == 65)
        }
    }

    @Test func cyclesAndUndefinedInputsNameTheNodes() throws {
        let cycle = Self.model([
            ONNXNode(name: "p", opType: "Relu", inputs: ["q_out"], outputs: ["p_out"]),
            ONNXNode(name: "q", opType: "Relu", inputs: ["p_out"], outputs: ["q_out"]),
            ONNXNode(name: "r", opType: "Add", inputs: ["x", "q_out"], outputs: ["y"]),
        ], outputs: ["y"])
        #expect(throws: ZooKitError.invalidONNXGraph(nodes: ["p", "q", "r"], problem: "the graph has a cycle through 3 nodes")) {
            try ONNXGraphImporter.convert(cycle)
        }
        let undefined = Self.model([
            ONNXNode(name: "p", opType: "Relu", inputs: ["nowhere"], outputs: ["y"]),
        ], outputs: ["y"])
        #expect(throws: ZooKitError.invalidONNXGraph(nodes: ["p"], problem: "the nodes take values no node, input or initializer defines: 'nowhere'")) {
            try ONNXGraphImporter.convert(undefined)
        }
        let twice = Self.model([
            ONNXNode(name: "p", opType: "Relu", inputs: ["x"], outputs: ["y"]),
            ONNXNode(name: "q", opType: "Relu", inputs: ["x"], outputs: ["y"]),
        ], outputs: ["y"])
        #expect(throws: ZooKitError.invalidONNXGraph(nodes: ["q"], problem: "value 'y' is defined twice")) { try ONNXGraphImporter.convert(twice) }
    }

    /// The shape chain of `x.view(x.size(0), -1)` (Shape → Gather → Unsqueeze → Concat → Reshape)
    /// folds with the batch free; `x * sigmoid(x)` becomes one swish, `tanh(softplus(x)) * x` one
    /// mish; Clip(0, 6) relu6.
    @Test func shapeChainsFoldAndActivationsFuse() throws {
        let m = Self.model([
            ONNXNode(name: "clip", opType: "Clip", inputs: ["x", "zero", "six"], outputs: ["c"]),
            ONNXNode(name: "sig", opType: "Sigmoid", inputs: ["c"], outputs: ["s"]),
            ONNXNode(name: "mul", opType: "Mul", inputs: ["c", "s"], outputs: ["m0"]),
            ONNXNode(name: "softplus", opType: "Softplus", inputs: ["m0"], outputs: ["sp"]),
            ONNXNode(name: "tanh", opType: "Tanh", inputs: ["sp"], outputs: ["t"]),
            ONNXNode(name: "mish", opType: "Mul", inputs: ["t", "m0"], outputs: ["m"]),
            ONNXNode(name: "shape", opType: "Shape", inputs: ["m"], outputs: ["sh"]),
            ONNXNode(name: "gather", opType: "Gather", inputs: ["sh", "i0"], outputs: ["n"], attributes: [ONNXAttribute(name: "axis", .int(0))]),
            ONNXNode(name: "unsq", opType: "Unsqueeze", inputs: ["n", "ax0"], outputs: ["n1"]),
            ONNXNode(name: "cat", opType: "Concat", inputs: ["n1", "minus1"], outputs: ["target"], attributes: [ONNXAttribute(name: "axis", .int(0))]),
            ONNXNode(name: "reshape", opType: "Reshape", inputs: ["m", "target"], outputs: ["y"]),
        ], initializers: [try ONNXTensor(name: "zero", StoredTensor(name: "zero", shape: [], floats: [0])),
                          try ONNXTensor(name: "six", StoredTensor(name: "six", shape: [], floats: [6])),
                          try ONNXTensor(name: "i0", StoredTensor(name: "i0", shape: [], int64s: [0])),
                          try Self.ints("ax0", [0]), try Self.ints("minus1", [-1])], outputs: ["y"])
        let imported = try ONNXGraphImporter.convert(m)
        #expect(imported.description.nodes.map(\.layer) == [.activation(.relu6), .activation(.swish), .activation(.mish), .permute([3, 1, 2]), .flatten])
        #expect(imported.outputOrders == [[0, 1]])
    }
    /// Sizes from the file are bounded before any arithmetic: huge strides, scales, pads and
    /// reshape targets are typed errors, not overflow traps or huge allocations.
    @Test func hugeSettingsAreRefusedNotTrapped() throws {
        let huge = Int64(1) << 60
        let m = Self.model([
            ONNXNode(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: [ONNXAttribute(name: "strides", .ints([huge, huge]))]),
            ONNXNode(name: "up", opType: "Resize", inputs: ["x", "", "scales"], outputs: ["u"]),
            ONNXNode(name: "pad", opType: "Pad", inputs: ["x", "pads"], outputs: ["p"]),
            ONNXNode(name: "reshape", opType: "Reshape", inputs: ["x", "target"], outputs: ["r"]),
            ONNXNode(name: "group", opType: "Conv", inputs: ["x", "w"], outputs: ["g"], attributes: [ONNXAttribute(name: "group", .int(huge))]),
            ONNXNode(name: "sum", opType: "Sum", inputs: ["c", "u", "p", "r", "g"], outputs: ["y"]),
        ], initializers: [try Self.weight("w", [2, 3, 3, 3]), try ONNXTensor(name: "scales", StoredTensor(name: "scales", shape: [4], floats: [1, 1, 1e18, 1e18])),
                          try Self.ints("pads", [0, 0, huge, huge, 0, 0, huge, huge]), try Self.ints("target", [-1, huge, huge, 3])], outputs: ["y"])
        do {
            _ = try ONNXGraphImporter.convert(m)
            Issue.record("expected unsupportedONNXOps")
        } catch ZooKitError.unsupportedONNXOps(let ops) {
            #expect(ops.groups.map(\.op) == ["Conv", "Resize", "Pad", "Reshape"])
            #expect(ops.groups[0].nodes == ["conv", "group"])
        }
    }
}
