/// Reads safetensors files (https://github.com/huggingface/safetensors#format).
///
///     offset 0   N: UInt64 little-endian, the header size (at most 100 MB)
///     offset 8   N bytes of JSON: {"__metadata__": {"k": "v"},
///                                  "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, …}
///                starting with '{', possibly padded with spaces
///     offset 8+N the data: each tensor's bytes, little-endian, C order, at
///                [begin, end) relative to this point; together the offsets
///                cover the data exactly, without gaps or overlaps
///
/// Produced by `safetensors.numpy.save_file({"w": np.zeros((2, 3), np.float32)}, "w.safetensors")`.
/// Tensors are zero-copy views into the mapped file, listed in data order.
enum SafetensorsReader {
    /// The format's own cap on the header size.
    static let maximumHeaderSize = 100_000_000

    static func open(_ file: MappedFile) throws -> TensorArchive {
        let reader = ByteReader(file.bytes, file: file.path)
        let declared = try reader.uint64(0, "the header size")
        guard declared <= UInt64(maximumHeaderSize) else {
            throw reader.malformed(0, expected: "a header size of at most \(maximumHeaderSize) bytes", found: "\(declared)")
        }
        let headerSize = Int(declared)
        let headerBytes = try reader.slice(8, headerSize, "the JSON header")
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw reader.malformed(8, expected: "a JSON header starting with '{'", found: hex(headerBytes.prefix(4)))
        }
        let header: JSONValue
        do {
            header = try JSONParser.parse(headerBytes)
        } catch {
            throw reader.malformed(8 + error.offset, expected: error.expected + " in the JSON header", found: error.found)
        }
        guard let members = header.objectMembers else {
            throw reader.malformed(8, expected: "a JSON object", found: "another JSON value")
        }
        let dataStart = 8 + headerSize
        let dataSize = file.count - dataStart

        var metadata: [String: String] = [:]
        var pending: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        var seen: Set<String> = []
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw FormatError(file: file.path, .duplicateName(name)) }
            if name == "__metadata__" {
                metadata = try readMetadata(value, reader: reader)
                continue
            }
            pending.append(try readEntry(name: name, value, reader: reader))
        }
        // The offsets must tile [0, dataSize) exactly.
        pending.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expectedBegin = 0
        for entry in pending {
            guard entry.begin == expectedBegin else {
                let what = entry.begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after byte \(expectedBegin)"
                throw FormatError(file: file.path, .malformed(at: .key(entry.name), expected: "data_offsets starting at \(expectedBegin)", found: "[\(entry.begin), \(entry.end)], which \(what)"))
            }
            expectedBegin = entry.end
        }
        guard expectedBegin == dataSize else {
            if expectedBegin > dataSize {
                throw FormatError(file: file.path, .truncated(at: .offset(dataStart), needed: expectedBegin, available: dataSize, what: "the tensor data the header describes"))
            }
            throw FormatError(file: file.path, .malformed(at: .offset(dataStart + expectedBegin), expected: "the tensor data to end the file", found: "\(dataSize - expectedBegin) trailing bytes"))
        }
        let tensors = try pending.map { entry in
            try StoredTensor(
                name: entry.name, dtype: entry.dtype, shape: entry.shape,
                source: .mapped(file, offset: dataStart + entry.begin, count: entry.end - entry.begin), file: file.path)
        }
        return TensorArchive(file: file.path, format: .safetensors, metadata: metadata, tensors: tensors)
    }

    private static func readMetadata(_ value: JSONValue, reader: ByteReader) throws -> [String: String] {
        guard let members = value.objectMembers else {
            throw FormatError(file: reader.file, .malformed(at: .key("__metadata__"), expected: "an object of strings", found: "another JSON value"))
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard let text = value.stringValue else {
                throw FormatError(file: reader.file, .malformed(at: .key("__metadata__." + key), expected: "a string value", found: value.compactText))
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func readEntry(name: String, _ value: JSONValue, reader: ByteReader) throws -> (name: String, dtype: DType, shape: [Int], begin: Int, end: Int) {
        func fail(_ expected: String, _ found: String) -> FormatError {
            FormatError(file: reader.file, .malformed(at: .key(name), expected: expected, found: found))
        }
        guard let members = value.objectMembers else { throw fail("an object with dtype, shape, data_offsets", value.compactText) }
        let keys = Set(members.map(\.key))
        guard keys == ["dtype", "shape", "data_offsets"], members.count == 3 else {
            throw fail("exactly the keys dtype, shape, data_offsets", members.map(\.key).joined(separator: ", "))
        }
        guard let code = value["dtype"]?.stringValue else { throw fail("a dtype string", value["dtype"]?.compactText ?? "nothing") }
        guard let dtype = SafetensorsDType.dtype(forCode: code) else {
            throw fail("a safetensors dtype (BOOL, U8, I8, …, F16, BF16, F32, F64, F8_E4M3, F8_E5M2)", "'\(code)'")
        }
        guard let dimensions = value["shape"]?.arrayValue else { throw fail("a shape array", value["shape"]?.compactText ?? "nothing") }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let extent = dimension.intValue, extent >= 0 else { throw fail("a shape of non-negative integers", value["shape"]!.compactText) }
            shape.append(extent)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, begin <= end
        else {
            throw fail("data_offsets [begin, end] with 0 <= begin <= end", value["data_offsets"]?.compactText ?? "nothing")
        }
        guard let count = checkedElementCount(shape) else {
            throw FormatError(file: reader.file, .shapeOverflow(at: .key(name), shape: shape))
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow else { throw FormatError(file: reader.file, .shapeOverflow(at: .key(name), shape: shape)) }
        guard end - begin == byteCount else {
            throw fail("\(byteCount) bytes for shape \(shape) \(code) (elements × \(dtype.byteCount))", "data_offsets [\(begin), \(end)] spanning \(end - begin) bytes")
        }
        return (name, dtype, shape, begin, end)
    }
}
