import Foundation
import Testing
@testable import ZooFormat

/// `Tests/Fixtures/onnx` (made by its make_fixtures.py: torch.onnx.export, onnx.helper, onnx.save
/// with external data) read by `ONNXReader`, each tensor compared with the array
/// `onnx.numpy_helper.to_array` read, stored in the `*.expected.npz` beside them.
@Suite struct ONNXReaderTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx").path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// Every tensor of `expected` (an .npz of numpy arrays, or their bits) has the bytes of the model's tensor of that name.
    static func expectSameBytes(_ tensors: [String: StoredTensor], as expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = try TensorArchive.open(path(expected))
        #expect(Set(tensors.keys).isSuperset(of: want.tensors.map(\.name)), sourceLocation: sourceLocation)
        for reference in want.tensors {
            let tensor = try #require(tensors[reference.name], sourceLocation: sourceLocation)
            #expect(try tensor.canonicalBytes().copied() == reference.canonicalBytes().copied(), "\(reference.name)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        ("tiny_op13.onnx", "tiny_op13.expected.npz", Int64(13)), ("tiny_op17.onnx", "tiny.expected.npz", 17),
        ("tiny_op18_dynamo.onnx", "tiny_op18_dynamo.expected.npz", 18),
    ])
    func torchExportsMatchNumpy(file: String, expected: String, opset: Int64) throws {
        let model = try ONNXReader.read(Self.path(file))
        #expect(model.producerName == "pytorch")
        #expect(model.defaultOpset == opset)
        #expect(model.graph.inputs.first?.name == "input")
        #expect(model.graph.inputs.first?.elementType == .float)
        #expect(model.graph.outputs.map(\.name) == ["logits"])
        #expect(model.graph.nodes.contains { $0.opType == "Conv" })
        #expect(model.graph.nodes.contains { $0.opType == "Gemm" })
        let conv = try #require(model.graph.nodes.first { $0.opType == "Conv" })
        #expect(conv.attribute("kernel_shape")?.ints == [3, 3])
        #expect(conv.attribute("pads")?.ints == [1, 1, 1, 1])
        var byName: [String: StoredTensor] = [:]
        for initializer in model.graph.initializers {
            byName[initializer.name] = initializer.tensor
            #expect(initializer.dims == initializer.tensor.shape)
            guard case .mapped = initializer.tensor.source else {
                Issue.record("\(initializer.name): raw_data should be a view of the file")
                continue
            }
        }
        try Self.expectSameBytes(byName, as: expected)

        let archive = try TensorArchive.open(Self.path(file))
        #expect(archive.format == .onnx)
        #expect(archive.tensors.map(\.name) == model.graph.initializers.map(\.name))
        #expect(archive.metadata["producer_name"] == "pytorch")
        #expect(archive.metadata["opset_import"]?.hasPrefix("ai.onnx=\(opset)") == true)
        #expect(archive.metadata["ir_version"] == String(model.irVersion))
        #expect(archive.modelConfig == nil)
        #expect(try archive.tensor(named: "fc.weight").shape == [3, 4])
    }

    /// The first tensor input of the TorchScript export is symbolic in its batch dimension.
    @Test func valueInfoShapes() throws {
        let model = try ONNXReader.read(Self.path("tiny_op17.onnx"))
        #expect(model.graph.inputs[0].shape == [.symbol("batch"), .value(3), .value(8), .value(8)])
        #expect(model.graph.outputs[0].shape == [.symbol("batch"), .value(3)])
        #expect(model.irVersion == 8)
    }

    /// raw_data (views) and the typed fields (decoded) give numpy's values for every element type.
    @Test(arguments: ["dtypes_raw.onnx", "dtypes_typed.onnx"])
    func everyDTypeMatchesNumpy(file: String) throws {
        let model = try ONNXReader.read(Self.path(file))
        let raw = file == "dtypes_raw.onnx"
        var byName: [String: StoredTensor] = [:]
        for initializer in model.graph.initializers { byName[initializer.name] = initializer.tensor }
        try Self.expectSameBytes(byName, as: "dtypes.expected.npz")
        func tensor(_ name: String) throws -> ONNXTensor { try #require(model.graph.initializers.first { $0.name == name }) }
        let expectedTypes: [(String, ONNXDataType, DType)] = [
            ("float32", .float, .float32), ("uint8", .uint8, .uint8), ("int8", .int8, .int8), ("uint16", .uint16, .uint16),
            ("int16", .int16, .int16), ("int32", .int32, .int32), ("int64", .int64, .int64), ("bool", .bool, .bool),
            ("float16", .float16, .float16), ("float64", .double, .float64), ("uint32", .uint32, .uint32),
            ("uint64", .uint64, .uint64), ("bfloat16", .bfloat16, .bfloat16),
        ]
        for (name, type, dtype) in expectedTypes {
            let found = try tensor(name)
            #expect(found.dataType == type, "\(name)")
            #expect(found.tensor.dtype == dtype, "\(name)")
            #expect(found.tensor.attributes["onnx_data"] != nil)
            if raw, case .loader = found.tensor.source { Issue.record("\(name): raw_data copied") }
        }
        #expect(try tensor("bool").tensor.canonicalBytes().copied() == [1, 0, 1])
        #expect(try tensor("bfloat16").tensor.floats() == [1.0, -0.5, 3.140625, 1.00025555e30])
        #expect(try tensor("float16").tensor.floats() == [0.5, -2.25, 65504, Float(Float16(bitPattern: 1))])
        #expect(try tensor("scalar").tensor.shape == [] && tensor("scalar").tensor.floats() == [1.5])
        #expect(try tensor("empty").tensor.shape == [0, 3])
        if !raw {
            #expect(try tensor("int8").tensor.attributes["onnx_data"] == "int32_data")
            #expect(try tensor("uint64").tensor.attributes["onnx_data"] == "uint64_data")
            #expect(try tensor("float64").tensor.attributes["onnx_data"] == "double_data")
        }
        // Types Zoo has no dtype for keep their number and bytes.
        let float8 = try tensor("float8e4m3fn")
        #expect(float8.dataType == .undefined && float8.dataTypeNumber == 17)
        #expect(float8.tensor.dtype.name == "float8_e4m3fn")
        let int4 = try tensor("int4")
        #expect(int4.dims == [3] && int4.tensor.shape == [2] && int4.dataTypeNumber == 22)
        #expect(try tensor("complex64").tensor.dtype.name == "complex64")

        let archive = try TensorArchive.open(Self.path(file))
        if raw {
            #expect(archive.skipped.isEmpty)
        } else {
            let labels = try tensor("labels")
            #expect(labels.dataType == .string && labels.dims == [2])
            #expect(labels.strings == [Array("cat".utf8), Array("chat é".utf8)])
            #expect(archive.skipped.map(\.path) == ["graph.initializer[\(model.graph.initializers.count - 1)]"])
        }
        #expect(archive.tensors.count == model.graph.initializers.count - (raw ? 0 : 1))
    }

    /// onnx.save(…, save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=0):
    /// every initializer a view of tiny.onnx.data, equal to the model saved inline.
    @Test func externalDataIsMappedFromTheModelsDirectory() throws {
        let model = try ONNXReader.read(Self.path("external/tiny.onnx"))
        var byName: [String: StoredTensor] = [:]
        for initializer in model.graph.initializers {
            byName[initializer.name] = initializer.tensor
            let external = try #require(initializer.external, "\(initializer.name)")
            #expect(external.location == "tiny.onnx.data")
            #expect(external.length == initializer.tensor.byteCount)
            guard case .mapped(let file, let offset, _) = initializer.tensor.source else {
                Issue.record("external data should be mapped")
                continue
            }
            #expect(file.path.hasSuffix("/tiny.onnx.data") && offset == external.offset)
        }
        #expect(model.graph.initializers.count == 4)
        try Self.expectSameBytes(byName, as: "tiny.expected.npz")
        #expect(try TensorArchive.open(Self.path("external/tiny.onnx")).tensors.count == 4)
    }

    /// An If node's branches (graph attributes), a Constant's tensor attribute, a floats
    /// attribute and the model's metadata_props.
    @Test func subgraphsAndAttributes() throws {
        let model = try ONNXReader.read(Self.path("subgraph.onnx"))
        #expect(model.metadataProps == [ONNXStringPair(key: "labels", value: "cat,dog"), ONNXStringPair(key: "author", value: "zoo")])
        let node = try #require(model.graph.nodes.first)
        #expect(node.opType == "If" && node.name == "choose" && node.inputs == ["cond"] && node.outputs == ["y"])
        guard case .graph(let thenBranch) = node.attribute("then_branch"), case .graph(let elseBranch) = node.attribute("else_branch") else {
            Issue.record("expected two graph attributes")
            return
        }
        #expect(thenBranch.name == "then")
        let value = try #require(thenBranch.nodes.first?.attribute("value")?.tensor)
        #expect(try value.tensor.floats() == [1, 2])
        #expect(elseBranch.nodes.first?.attribute("value_floats")?.floats == [3, 4])
        #expect(model.graph.inputs.first?.elementType == .bool && model.graph.inputs.first?.shape == [])
        let archive = try TensorArchive.open(Self.path("subgraph.onnx"))
        #expect(archive.tensors.isEmpty)
        #expect(archive.metadata["labels"] == "cat,dog" && archive.metadata["graph_name"] == "subgraph")
    }

    /// ONNX is recognized by its structure without its name, and no other fixture is taken for it
    /// (the other topics' `.onnx` models, e.g. `onnximport/`, are ONNX indeed).
    @Test func detection() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let renamed = try directory.write(readBytes(Self.path("tiny_op17.onnx")), to: "weights.bin")
        #expect(try TensorArchive.open(renamed).format == .onnx)
        let fixtures = URL(fileURLWithPath: Self.directory).deletingLastPathComponent()
        let enumerator = try #require(FileManager.default.enumerator(atPath: fixtures.path))
        var checked = 0
        for case let relative as String in enumerator where !relative.hasPrefix("onnx/") && !relative.hasSuffix(".onnx") {
            let path = fixtures.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let file = try? MappedFile(path: path), file.count > 0 else { continue }
            #expect(!ONNXReader.looksLikeModel(file.bytes), "\(relative)")
            #expect((try? FormatDetector.detect(file)) != .onnx, "\(relative)")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// Repeated scalars written unpacked (one key per element, as proto2 without [packed] does)
    /// read the same as the packed ones onnx writes.
    @Test func unpackedRepeatedFieldsReadLikePacked() throws {
        var tensor = ProtoWriter()
        for dim in [2, 3] { tensor.int64(1, Int64(dim)) }
        tensor.int64(2, 3)  // INT8
        for value in [-128, -1, 0, 1, 100, 127] as [Int64] {
            tensor.key(5, wireType: 0)
            tensor.varint(UInt64(bitPattern: value))
        }
        tensor.string(8, "int8")
        var floats = ProtoWriter()
        floats.int64(1, 2)
        floats.int64(2, 1)
        for value: Float in [1.5, -2] {
            floats.key(4, wireType: 5)
            floats.bytes += value.bitPattern.littleEndianBytes
        }
        floats.string(8, "f")
        let bytes = ONNXTestModels.model(initializers: [tensor.bytes, floats.bytes])
        let model = try ONNXTestModels.read(bytes)
        #expect(model.graph.initializers[0].dims == [2, 3])
        #expect(try model.graph.initializers[0].tensor.floats() == [-128, -1, 0, 1, 100, 127])
        #expect(try model.graph.initializers[1].tensor.floats() == [1.5, -2])
    }
}

/// Hand-built ONNX bytes for tests.
enum ONNXTestModels {
    /// A ModelProto (ir_version 8, opset 17) whose graph holds `initializers` (TensorProto bytes) and `extra` graph fields.
    static func model(initializers: [[UInt8]], graphExtra: [UInt8] = []) -> [UInt8] {
        var graph = ProtoWriter()
        graph.string(2, "g")
        for initializer in initializers { graph.bytes(5, initializer) }
        var model = ProtoWriter()
        model.int64(1, 8)
        model.bytes(7, graph.bytes + graphExtra)
        model.message(8) { $0.int64(2, 17) }
        return model.bytes
    }

    /// `bytes` read from memory as `test.onnx` (external data refused, or relative to `directory`).
    static func read(_ bytes: [UInt8], directory: String? = nil) throws -> ONNXModel {
        let file = try FuzzInput.inMemory(bytes, "test.onnx")
        return try ONNXReader.read(file, externalDataDirectory: directory)
    }
}

/// Bytes held in memory as a `MappedFile`, for tests.
enum FuzzInput {
    static func inMemory(_ bytes: [UInt8], _ name: String) throws -> MappedFile {
        let buffer = HeapBuffer(count: bytes.count)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { buffer.pointer.copyMemory(from: base, byteCount: $0.count) } }
        return MappedFile(path: name, buffer: buffer)
    }
}
