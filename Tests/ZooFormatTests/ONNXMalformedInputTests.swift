import Foundation
import Testing
@testable import ZooFormat

/// Damaged and hostile ONNX files: each is refused with a `FormatError` naming the file, the
/// place (an offset from the start of the file, or a key such as `graph.initializer[0] 'w'`),
/// what was expected and what was found — before anything large is allocated.
@Suite struct ONNXMalformedInputTests {
    /// A TensorProto: `dims` (unpacked, negative allowed), `data_type`, name, then `body`'s fields.
    static func tensor(name: String = "w", dims: [Int64], type: Int64 = 1, _ body: (inout ProtoWriter) -> Void = { _ in }) -> [UInt8] {
        var writer = ProtoWriter()
        for dim in dims { writer.varintField(1, dim) }
        writer.varintField(2, type)
        writer.string(8, name)
        body(&writer)
        return writer.bytes
    }

    static func floats(_ values: [Float]) -> [UInt8] { values.flatMap(\.bitPattern.littleEndianBytes) }

    static func error(_ bytes: [UInt8], directory: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> FormatError {
        try #require(throws: FormatError.self, sourceLocation: sourceLocation) { try ONNXTestModels.read(bytes, directory: directory) }
    }

    /// Every prefix of a real model: none crashes; every one that cuts the graph is refused.
    @Test func truncatedAnywhere() throws {
        let whole = try readBytes(ONNXReaderTests.path("tiny_op17.onnx"))
        var refused = 0
        for length in 0..<whole.count {
            do {
                _ = try ONNXTestModels.read(Array(whole[..<length]))
            } catch let error as FormatError {
                #expect(error.file == "test.onnx")
                #expect(error.exitCode == 65)
                refused += 1
            }
        }
        // Only cuts after the graph, at a field boundary of the opset_import that follows it, read.
        #expect(refused >= whole.count - 8)
        let half = try Self.error(Array(whole[..<(whole.count / 2)]))
        #expect(half.description.hasPrefix("test.onnx: "))
        guard case .malformed(.offsetIn(_, let offset), _, _) = half.reason, offset > 0, offset <= whole.count / 2 else {
            Issue.record("expected an offset in the file, got \(half)")
            return
        }
    }

    /// A cut `.onnx` file gets the reader's error (the name is the hint); without the name it is not taken for ONNX.
    @Test func truncatedFilesThroughTensorArchive() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cut = Array(try readBytes(ONNXReaderTests.path("tiny_op17.onnx"))[..<600])
        let named = try #require(throws: FormatError.self) { try TensorArchive.open(directory.write(cut, to: "cut.onnx")) }
        #expect(named.message.contains("bytes of a length-delimited field"))
        let unnamed = try #require(throws: FormatError.self) { try TensorArchive.open(directory.write(cut, to: "cut.bin")) }
        guard case .unknownFormat = unnamed.reason else {
            Issue.record("expected an unknown format, got \(unnamed)")
            return
        }
    }

    @Test func wrongWireTypes() throws {
        let irAsBytes = try Self.error([0x0A, 0x01, 0x00])
        #expect(irAsBytes.reason == .malformed(at: .offsetIn("ModelProto", 1), expected: "ModelProto.ir_version (field 1) as wire type 0 (varint)", found: "wire type 2 (length-delimited)"))
        var tensor = ProtoWriter()
        tensor.varintField(1, 2)
        tensor.key(2, wireType: 5)
        tensor.bytes += [1, 0, 0, 0]
        let typeAsFixed = try Self.error(ONNXTestModels.model(initializers: [tensor.bytes]))
        #expect(typeAsFixed.message.contains("in 'graph.initializer[0]'"))
        #expect(typeAsFixed.message.contains("expected TensorProto.data_type (field 2) as wire type 0 (varint), found wire type 5 (32-bit)"))
        let floatDataAsVarint = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1]) { $0.varintField(4, 1) }]))
        #expect(floatDataAsVarint.message.contains("expected TensorProto.float_data (field 4) as wire type 5 (32-bit) or packed (wire type 2), found wire type 0 (varint)"))
        let group = try Self.error([0x08, 0x08, 0x3B])  // field 7 as a start-group
        #expect(group.message.contains("expected ModelProto.graph (field 7) as wire type 2 (length-delimited), found wire type 3"))
    }

    @Test func negativeAndOverflowingDims() throws {
        let negative = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [-1, 3])]))
        #expect(negative.reason == .malformed(at: .key("graph.initializer[0] 'w'"), expected: "non-negative dims", found: "[-1, 3]"))
        let huge: Int64 = 1 << 40
        let overflow = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [huge, huge, huge])]))
        #expect(overflow.reason == .shapeOverflow(at: .key("graph.initializer[0] 'w'"), shape: [1 << 40, 1 << 40, 1 << 40]))
        let rank = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [Int64](repeating: 1, count: 65))]))
        #expect(rank.message.contains("expected at most 64 dims"))
    }

    @Test func byteSizeDisagreeingWithShape() throws {
        let short = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [2, 3]) { $0.bytes(9, Self.floats([1, 2, 3, 4, 5])) }]))
        #expect(short.reason == .malformed(at: .key("graph.initializer[0] 'w'"), expected: "raw_data of 24 bytes (6 FLOAT elements of dims [2, 3])", found: "20 bytes"))
        let typed = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [2, 3], type: 6) { w in
            w.key(5, wireType: 2)
            w.varint(5)
            w.bytes += [1, 2, 3, 4, 5]
        }]))
        #expect(typed.reason == .malformed(at: .key("graph.initializer[0] 'w'"), expected: "6 values in int32_data (dims [2, 3])", found: "5"))
        let wrongField = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1]) { $0.varintField(7, 5) }]))
        #expect(wrongField.message.contains("expected a FLOAT tensor's values in raw_data or float_data, found int64_data"))
        let both = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1]) { w in
            w.float(4, 1, always: true)
            w.bytes(9, Self.floats([1]))
        }]))
        #expect(both.message.contains("expected the data in one field, found raw_data and float_data"))
        let none = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [4])]))
        #expect(none.message.contains("expected 4 elements in raw_data, a typed field or external data, found no data"))
        let undefined = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1], type: 0)]))
        #expect(undefined.message.contains("expected a data_type, found UNDEFINED (0)"))
        let unknown = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1], type: 99)]))
        #expect(unknown.reason == .refusedDType(at: .key("graph.initializer[0] 'w'"), dtype: "data_type 99", why: "not an element type of onnx.proto (1–26)"))
        let segment = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1]) { $0.message(3) { $0.int64(1, 0) } }]))
        #expect(segment.message.contains("a segment of a split tensor"))
    }

    /// Lengths and counts far beyond the file are refused from the header alone (nothing allocated).
    @Test func hugeDeclaredLengths() throws {
        var model = ProtoWriter()
        model.int64(1, 8)
        model.key(7, wireType: 2)
        model.varint(1 << 62)
        let graph = try Self.error(model.bytes + [0x0A, 0x00])
        #expect(graph.reason == .malformed(at: .offsetIn("ModelProto", 12), expected: "4611686018427387904 bytes of a length-delimited field", found: "2 bytes left"))
        var over = ProtoWriter()
        over.key(7, wireType: 2)
        over.varint(UInt64.max)
        #expect(try Self.error(over.bytes).message.contains("a length that fits in 63 bits"))
        let raw = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1 << 30, 1 << 30]) { w in
            w.key(9, wireType: 2)
            w.varint(1 << 62)
        }]))
        #expect(raw.message.contains("bytes of a length-delimited field"))
        let dims = try Self.error(ONNXTestModels.model(initializers: [Self.tensor(dims: [1 << 30, 1 << 25]) { w in
            w.float(4, 1, always: true)
        }]))
        #expect(dims.message.contains("expected 36028797018963968 values in float_data (dims [1073741824, 33554432]), found 1"))
    }

    /// If bodies nested 40 deep: refused at depth 33.
    @Test func deeplyNestedGraphs() throws {
        var graph = ProtoWriter()
        graph.string(2, "leaf")
        for _ in 0..<40 {
            var node = ProtoWriter()
            node.string(4, "If")
            var attribute = ProtoWriter()
            attribute.string(1, "then_branch")
            attribute.bytes(6, graph.bytes)
            attribute.varintField(20, 5)
            node.bytes(5, attribute.bytes)
            graph = ProtoWriter()
            graph.bytes(1, node.bytes)
        }
        let error = try Self.error(ONNXTestModels.model(initializers: [], graphExtra: graph.bytes))
        #expect(error.message.contains("expected graphs nested at most 32 deep, found a graph at depth 33"))
    }

    /// A model of more items than the budget (here 100 in place of 2²³).
    @Test func itemBudget() throws {
        var nodes = ProtoWriter()
        for _ in 0..<101 { nodes.message(1) { $0.string(4, "Relu") } }
        let bytes = ONNXTestModels.model(initializers: [], graphExtra: nodes.bytes)
        let file = try FuzzInput.inMemory(bytes, "many.onnx")
        let error = try #require(throws: FormatError.self) { try ONNXReader.read(file, externalDataDirectory: nil, maximumItems: 100) }
        #expect(error.message.contains("expected at most 100 nodes, attributes, tensors"))
        #expect(try ONNXReader.read(file, externalDataDirectory: nil, maximumItems: 200).graph.nodes.count == 101)
    }

    /// External data stays in the model's directory: absolute paths, `..` and symbolic links
    /// out are refused, and offset and length must fit the file and the tensor.
    @Test func externalDataLeavingTheDirectory() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.file("model"), withIntermediateDirectories: true)
        _ = try root.write(Self.floats([1, 2, 3, 4]), to: "secret.bin")
        _ = try root.write(Self.floats([5, 6, 7, 8]) + [0, 0], to: "model/w.bin")
        try FileManager.default.createSymbolicLink(atPath: root.file("model/link.bin"), withDestinationPath: "../secret.bin")
        try FileManager.default.createSymbolicLink(atPath: root.file("model/inside.bin"), withDestinationPath: "w.bin")
        func external(_ entries: [(String, String)], dims: [Int64] = [4]) -> [UInt8] {
            ONNXTestModels.model(initializers: [Self.tensor(dims: dims) { w in
                for (key, value) in entries { w.message(13) { $0.pair(ONNXStringPair(key: key, value: value)) } }
                w.varintField(14, 1)
            }])
        }
        let directory = root.file("model")
        for location in ["../secret.bin", "../../etc/passwd", "/etc/passwd", "link.bin", "sub/../../secret.bin"] {
            let error = try Self.error(external([("location", location)]), directory: directory)
            #expect(error.message.contains("expected an external data location inside the model's directory"), "\(location): \(error)")
            #expect(error.message.contains("at 'graph.initializer[0] 'w''"), "\(error)")
        }
        let link = try Self.error(external([("location", "link.bin")]), directory: directory)
        #expect(link.message.contains("a symbolic link to '") && link.message.contains("secret.bin' outside"))
        let missing = try Self.error(external([("location", "none.bin")]), directory: directory)
        #expect(missing.message.contains("cannot be opened: No such file or directory"))
        // Inside: through a link, at an offset, with the length given.
        let inside = try ONNXTestModels.read(external([("location", "inside.bin"), ("offset", "0"), ("length", "16")]), directory: directory)
        #expect(try inside.graph.initializers[0].tensor.floats() == [5, 6, 7, 8])
        let shifted = try ONNXTestModels.read(external([("location", "w.bin"), ("offset", "4"), ("length", "8")], dims: [2]), directory: directory)
        #expect(try shifted.graph.initializers[0].tensor.floats() == [6, 7])
        // Bounds.
        let past = try Self.error(external([("location", "w.bin"), ("offset", "100")]), directory: directory)
        #expect(past.message.contains("expected an external data offset within 'w.bin' (18 bytes), found offset 100"))
        let long = try Self.error(external([("location", "w.bin"), ("offset", "8"), ("length", "16")]), directory: directory)
        #expect(long.reason == .truncated(at: .key("graph.initializer[0] 'w'"), needed: 16, available: 10, what: "external data at offset 8 of 'w.bin'"))
        let rest = try Self.error(external([("location", "w.bin")]), directory: directory)
        #expect(rest.message.contains("expected 16 bytes of external data (dims × itemsize), found 18 bytes (from offset 0 to the end of 'w.bin')"))
        let words = try Self.error(external([("location", "w.bin"), ("offset", "-4")]), directory: directory)
        #expect(words.message.contains("an external_data offset of at most 18 decimal digits, found '-4'"))
        let noLocation = try Self.error(external([("offset", "0")]), directory: directory)
        #expect(noLocation.message.contains("external_data with a 'location'"))
        let inMemory = try Self.error(external([("location", "w.bin")]))
        #expect(inMemory.message.contains("the model is not read from a file"))
    }
}
