import Foundation
import Testing
@testable import ZooFormat

/// `ONNXWriter`: fixtures read, written and read again give the same model; external data;
/// the tensors-only models `zoo convert` writes. The `zoo_*.onnx` files beside the fixtures are
/// this writer's output, checked by onnx.checker.check_model(full_check=True) and onnxruntime in
/// make_fixtures.py; `ZOO_WRITE_ONNX_FIXTURES=1 swift test --filter ONNXWriterTests` rewrites them.
@Suite struct ONNXWriterTests {
    static let fixtures = ["tiny_op13.onnx", "tiny_op17.onnx", "tiny_op18_dynamo.onnx", "dtypes_raw.onnx", "dtypes_typed.onnx", "subgraph.onnx", "external/tiny.onnx"]
    static let rewriteFixtures = ProcessInfo.processInfo.environment["ZOO_WRITE_ONNX_FIXTURES"] == "1"

    @Test(arguments: fixtures)
    func readWriteReadGivesTheSameModel(file: String) throws {
        let model = try ONNXReader.read(ONNXReaderTests.path(file))
        let bytes = try ONNXWriter.encode(model)
        let again = try ONNXTestModels.read(bytes)
        #expect(try ONNXDump.text(again) == ONNXDump.text(model))
        #expect(try ONNXWriter.encode(again) == bytes)
    }

    /// A model the TorchScript exporter wrote comes back byte for byte: same fields, same order.
    /// (The dynamo exporter's also carry fields ONNXModel does not keep, such as nodes' metadata_props.)
    @Test(arguments: ["tiny_op13.onnx", "tiny_op17.onnx"])
    func rawDataModelsAreRewrittenByteForByte(file: String) throws {
        let original = try readBytes(ONNXReaderTests.path(file))
        #expect(try ONNXWriter.encode(ONNXTestModels.read(original)) == original)
    }

    /// `.always`: every tensor of at least 1 KiB in NAME.onnx.data at 4096-aligned offsets, the rest inline.
    @Test func externalDataOnRequest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var model = try ONNXReader.read(ONNXReaderTests.path("tiny_op17.onnx"))
        let big = try StoredTensor(name: "big", shape: [3, 300], floats: (0..<900).map { Float($0) / 7 })
        model.graph.initializers.append(try ONNXTensor(name: "big", big))
        model.graph.initializers.append(try ONNXTensor(name: "big2", StoredTensor(name: "big2", shape: [260], floats: (0..<260).map { -Float($0) })))
        let path = directory.file("m.onnx")
        let dataPath = try ONNXWriter.write(model, to: path, externalData: .always)
        #expect(dataPath == directory.path + "/m.onnx.data")
        let read = try ONNXReader.read(path)
        let external = read.graph.initializers.compactMap(\.external)
        #expect(external.map(\.location) == ["m.onnx.data", "m.onnx.data"])
        #expect(external.map(\.offset) == [0, 4096])
        #expect(read.graph.initializers.filter { $0.external == nil }.count == 4)
        #expect(try ONNXDump.text(read, tensorsOnly: true) == ONNXDump.text(model, tensorsOnly: true))
        #expect(try FileManager.default.attributesOfItem(atPath: dataPath!)[.size] as? Int == 4096 + 1040)
        if Self.rewriteFixtures {
            let fixture = ONNXReaderTests.path("zoo_external.onnx")
            try ONNXWriter.write(model, to: fixture, externalData: .always)
        }
        #expect(try ONNXDump.text(ONNXReader.read(ONNXReaderTests.path("zoo_external.onnx"))) == ONNXDump.text(read))
    }

    /// `.automatic` switches to external data when the model would pass the protobuf limit
    /// (here a limit of 4000 bytes stands for 2 GB), and `.never` refuses such a model.
    @Test func automaticExternalDataOverTheLimit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let model = try ONNXModel(weights: [try StoredTensor(name: "w", shape: [1200], floats: (0..<1200).map(Float.init))])
        #expect(try ONNXWriter.write(model, to: directory.file("small.onnx"), externalData: .automatic, limit: 10_000) == nil)
        #expect(try ONNXWriter.write(model, to: directory.file("big.onnx"), externalData: .automatic, limit: 4000) == directory.file("big.onnx.data"))
        #expect(try ONNXReader.read(directory.file("big.onnx")).graph.initializers[0].external?.length == 4800)
        let error = try #require(throws: FormatError.self) { try ONNXWriter.write(model, to: directory.file("never.onnx"), externalData: .never, limit: 4000) }
        #expect(error.exitCode == 64 && error.message.contains("at most 4000 bytes"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("never.onnx")))
    }

    /// What `zoo convert w.npz w.onnx` writes: the tensors as initializers and graph outputs.
    @Test func tensorsOnlyModel() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try TensorArchive.open(Fixtures.path("npz_savez.npz"))
        let path = directory.file("weights.onnx")
        try source.write(to: path, format: .onnx)
        let archive = try TensorArchive.open(path)
        #expect(archive.format == .onnx)
        #expect(archive.tensors.map(\.name) == source.tensors.map(\.name))
        for (written, original) in zip(archive.tensors, source.tensors) {
            #expect(written.shape == original.shape && written.dtype == original.dtype)
            #expect(try written.canonicalBytes().copied() == original.canonicalBytes().copied())
        }
        #expect(archive.metadata["producer_name"] == "zoo")
        let model = try ONNXReader.read(path)
        #expect(model.graph.nodes.isEmpty && model.graph.outputs.map(\.name) == source.tensors.map(\.name))
        #expect(model.defaultOpset == ONNXModel.weightsOpset)
        if Self.rewriteFixtures { try source.write(to: ONNXReaderTests.path("zoo_weights.onnx"), format: .onnx) }
        #expect(try readBytes(path) == readBytes(ONNXReaderTests.path("zoo_weights.onnx")))
    }

    /// The torch export rewritten by Zoo (onnxruntime gives the original's outputs on it: make_fixtures.py).
    @Test func rewrittenTorchExportIsTheCommittedFixture() throws {
        let model = try ONNXReader.read(ONNXReaderTests.path("external/tiny.onnx"))
        let path = ONNXReaderTests.path("zoo_tiny_op17.onnx")
        if Self.rewriteFixtures { try ONNXWriter.write(model, to: path, externalData: .never) }
        #expect(try ONNXWriter.encode(model) == readBytes(path))
    }

    @Test func refusals() throws {
        let float = try StoredTensor(name: "w", shape: [2], floats: [1, 2])
        var tensor = try ONNXTensor(name: "w", float)
        tensor.dims = [3]
        var model = try ONNXModel(weights: [])
        model.graph.initializers = [tensor]
        let shape = try #require(throws: FormatError.self) { try ONNXWriter.encode(model) }
        #expect(shape.message.contains("are not those of a FLOAT tensor of dims [3]"))
        #expect(throws: FormatError.self) { try ONNXModel(weights: [float, float]) }
        model.graph.initializers = []
        model.graph.nodes = [ONNXNode(opType: "X", inputs: [], outputs: [], attributes: [ONNXAttribute(name: "sparse", .unsupported(type: 11))])]
        #expect(throws: FormatError.self) { try ONNXWriter.encode(model) }
    }
}

/// A model as text, every field and every tensor's bytes (their SHA-256), for comparisons.
enum ONNXDump {
    static func text(_ model: ONNXModel, tensorsOnly: Bool = false) throws -> String {
        var lines: [String] = []
        if !tensorsOnly {
            lines.append("ir \(model.irVersion) producer \(model.producerName) \(model.producerVersion) domain \(model.domain) version \(model.modelVersion) doc \(model.docString)")
            lines.append("opsets \(model.opsetImports.map { "\($0.domain)=\($0.version)" })")
            lines.append("props \(model.metadataProps.map { "\($0.key)=\($0.value)" })")
        }
        try graph(model.graph, into: &lines, indent: "", tensorsOnly: tensorsOnly)
        return lines.joined(separator: "\n")
    }

    static func graph(_ graph: ONNXGraph, into lines: inout [String], indent: String, tensorsOnly: Bool) throws {
        if !tensorsOnly {
            lines.append(indent + "graph \(graph.name) doc \(graph.docString)")
            for (label, infos) in [("input", graph.inputs), ("output", graph.outputs), ("value_info", graph.valueInfo)] {
                for info in infos { lines.append(indent + "\(label) \(info.name) \(info.elementType) \(String(describing: info.shape))") }
            }
            for node in graph.nodes {
                lines.append(indent + "node \(node.name) \(node.domain):\(node.opType) \(node.inputs) -> \(node.outputs)")
                for attribute in node.attributes {
                    switch attribute.value {
                    case .graph(let inner):
                        lines.append(indent + "  attribute \(attribute.name) graph")
                        try self.graph(inner, into: &lines, indent: indent + "    ", tensorsOnly: false)
                    case .tensor(let tensor): lines.append(indent + "  attribute \(attribute.name) " + (try self.tensor(tensor)))
                    case .tensors(let tensors): lines.append(indent + "  attribute \(attribute.name) " + (try tensors.map(self.tensor).joined(separator: "; ")))
                    default: lines.append(indent + "  attribute \(attribute.name) \(attribute.value)")
                    }
                }
            }
        }
        for initializer in graph.initializers { lines.append(indent + "initializer " + (try tensor(initializer))) }
    }

    static func tensor(_ tensor: ONNXTensor) throws -> String {
        "\(tensor.name) \(tensor.dataType) \(tensor.dataTypeNumber) \(tensor.dims) \(tensor.tensor.dtype) \(tensor.tensor.shape) \(try tensor.tensor.sha256()) \(tensor.strings)"
    }
}
