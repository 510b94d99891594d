/// Decoding `TensorProto` (onnx.proto) into `ONNXTensor`:
///
///     1 dims (repeated int64)   2 data_type   3 segment (refused)   8 name
///     9 raw_data: the elements, little-endian, C order — a view of the mapped file
///     4 float_data  5 int32_data  6 string_data  7 int64_data  10 double_data  11 uint64_data
///       (the typed fields, packed or not: decoded into a buffer of the declared dtype)
///     13 external_data + 14 data_location = EXTERNAL: the bytes in a file next to the model
///
/// Two passes over the message: the first reads the scalars and counts the typed values
/// (nothing is allocated), the second decodes the one typed field once its count is known to
/// equal the shape's: the buffer is never larger than the values the file holds.
extension ONNXDecoder {
    /// Most dimensions a tensor may have (NumPy's limit).
    static let maximumRank = 64
    /// Most elements of a `STRING` tensor.
    static let maximumStrings = 1 << 20

    /// The tensor in `body` (a `TensorProto`), located by `key` (`graph.initializer[3]`) in messages.
    func tensor(_ body: ProtoReader, key: String) throws -> ONNXTensor {
        var reader = body
        var dims: [Int64] = []
        var dataType: Int32 = 0
        var name = ""
        var raw: (offset: Int, count: Int)?
        var typedCounts: [Int: Int] = [:]
        var entries: [ONNXStringPair] = []
        var location: Int64 = 0
        var segmented = false
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try reader.repeated(field, element: 0, "TensorProto.dims") { element in
                    guard dims.count < Self.maximumRank else {
                        throw element.malformed("at most \(Self.maximumRank) dims", "more")
                    }
                    dims.append(Int64(bitPattern: try element.varint()))
                }
            case 2: dataType = Int32(truncatingIfNeeded: try reader.int64(field, "TensorProto.data_type"))
            case 3:
                try reader.require(field, 2, "TensorProto.segment")
                try reader.skip(2)
                segmented = true
            case 4, 5, 7, 10, 11:
                let fieldName = "TensorProto." + ONNXElementLayout.fieldNames[field.number]!
                typedCounts[field.number, default: 0] += try reader.countRepeated(field, element: ONNXElementLayout.fieldWireTypes[field.number]!, fieldName)
            case 6:
                try budget.spend(reader)
                try reader.require(field, 2, "TensorProto.string_data")
                try reader.skip(2)
                typedCounts[6, default: 0] += 1
            case 8: name = try reader.string(field, "TensorProto.name")
            case 9:
                try reader.require(field, 2, "TensorProto.raw_data")
                let bytes = try reader.lengthDelimited()
                raw = (reader.fileOffset - bytes.count, bytes.count)
            case 13:
                try budget.spend(reader)
                try reader.require(field, 2, "TensorProto.external_data")
                var entry = try reader.embedded(key + ".external_data")
                entries.append(try stringPair(&entry))
            case 14: location = try reader.int64(field, "TensorProto.data_location")
            default: try reader.skip(field.wireType)
            }
        }
        let label = "\(key) '\(name)'"
        func malformed(_ expected: String, _ found: String) -> FormatError {
            FormatError(file: file.path, .malformed(at: .key(label), expected: expected, found: found))
        }
        guard !segmented else { throw malformed("a whole tensor", "a segment of a split tensor (TensorProto.segment)") }
        guard let layout = ONNXElementLayout(dataType) else {
            if dataType == 0 { throw malformed("a data_type", "UNDEFINED (0)") }
            throw FormatError(file: file.path, .refusedDType(at: .key(label), dtype: "data_type \(dataType)", why: "not an element type of onnx.proto (1–26)"))
        }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw malformed("non-negative dims", "\(dims)") }
        let shape = dims.map { $0 > Int64(Int.max) ? Int.max : Int($0) }
        guard let count = checkedElementCount(shape) else {
            throw FormatError(file: file.path, .shapeOverflow(at: .key(label), shape: shape))
        }
        let stored = layout.storedCount(count)
        let (byteCount, overflow) = stored.multipliedReportingOverflow(by: layout.dtype.byteCount)
        guard !overflow else { throw FormatError(file: file.path, .shapeOverflow(at: .key(label), shape: shape)) }
        let typed = typedCounts.filter { $0.value > 0 }.keys.sorted()
        let typedNames = typed.map { ONNXElementLayout.fieldNames[$0]! }

        var source: TensorSource
        var storage: String
        var external: ONNXTensor.External?
        var strings: [[UInt8]] = []
        if location == 1 {
            guard raw == nil, typed.isEmpty else {
                throw malformed("the data only in external_data (data_location is EXTERNAL)", "also " + ((raw == nil ? [] : ["raw_data"]) + typedNames).joined(separator: " and "))
            }
            guard layout.number != 8 else { throw malformed("a STRING tensor in string_data", "external data") }
            let found = try self.external.parse(entries, at: label)
            source = try self.external.source(found, byteCount: byteCount, at: label)
            external = found
            storage = "external"
        } else if location != 0 {
            throw malformed("a data_location of 0 (DEFAULT) or 1 (EXTERNAL)", "\(location)")
        } else if let raw {
            guard typed.isEmpty else { throw malformed("the data in one field", "raw_data and " + typedNames.joined(separator: " and ")) }
            guard layout.number != 8 else { throw malformed("a STRING tensor in string_data", "raw_data") }
            guard raw.count == byteCount else {
                throw malformed("raw_data of \(byteCount) bytes (\(count) \(layout.name) elements of dims \(shape))", "\(raw.count) bytes")
            }
            source = .mapped(file, offset: raw.offset, count: raw.count)
            storage = "raw_data"
        } else if let field = typed.first {
            guard typed.count == 1 else { throw malformed("the data in one field", typedNames.joined(separator: " and ")) }
            let fieldName = ONNXElementLayout.fieldNames[field]!
            guard field == layout.typedField else {
                throw malformed("a \(layout.name) tensor's values in raw_data or \(ONNXElementLayout.fieldNames[layout.typedField]!)", fieldName)
            }
            let values = stored * layout.valuesPerElement
            guard typedCounts[field] == values else {
                throw malformed("\(values) values in \(fieldName) (dims \(shape))", "\(typedCounts[field] ?? 0)")
            }
            if field == 6 {
                guard count <= Self.maximumStrings else { throw malformed("a STRING tensor of at most \(Self.maximumStrings) elements", "\(count)") }
                strings = try decodeStrings(body)
                source = .loader(byteCount: 0) { .empty }
            } else {
                let buffer = try HeapBuffer(checkedCount: byteCount, file: file.path, what: "the \(fieldName) of \(label)")
                try decodeTyped(body, field: field, layout: layout, into: buffer)
                source = .loader(byteCount: byteCount) { buffer.bytes }
            }
            storage = fieldName
        } else {
            guard count == 0 else { throw malformed("\(count) elements in raw_data, a typed field or external data", "no data") }
            source = .loader(byteCount: 0) { .empty }
            storage = "none"
        }
        let tensor = try StoredTensor(
            name: name, dtype: layout.dtype, shape: layout.storedShape(shape, count: count), source: source,
            file: file.path, path: key, attributes: ["onnx_data": storage])
        return ONNXTensor(name: name, layout: layout, dims: shape, tensor: tensor, external: external, strings: strings)
    }

    /// Second pass: the values of typed `field` written into `buffer` as `layout`'s stored
    /// elements, little-endian (int32_data keeps each value's low bytes; a BOOL is 0 or 1).
    private func decodeTyped(_ body: ProtoReader, field: Int, layout: ONNXElementLayout, into buffer: HeapBuffer) throws {
        var reader = body
        let width = field == 4 ? 4 : field == 10 || field == 7 ? 8 : layout.dtype.byteCount
        let isBool = layout.dtype == .bool
        let output = buffer.pointer
        let capacity = buffer.count
        var at = 0
        let name = "TensorProto." + ONNXElementLayout.fieldNames[field]!
        while let next = try reader.nextField() {
            guard next.number == field else {
                try reader.skip(next.wireType)
                continue
            }
            try reader.repeated(next, element: ONNXElementLayout.fieldWireTypes[field]!, name) { element in
                var value: UInt64
                switch field {
                case 4: value = UInt64(try element.fixed32())
                case 10: value = try element.fixed64()
                default: value = try element.varint()
                }
                if isBool { value = value & 0xFFFF_FFFF == 0 ? 0 : 1 }
                guard capacity - at >= width else { throw element.malformed("no more values than the shape holds", "more") }
                switch width {
                case 1: output.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: at, as: UInt8.self)
                case 2: output.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, toByteOffset: at, as: UInt16.self)
                case 4: output.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: at, as: UInt32.self)
                default: output.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt64.self)
                }
                at += width
            }
        }
    }

    /// Second pass of a `STRING` tensor: its `string_data` values, copied.
    private func decodeStrings(_ body: ProtoReader) throws -> [[UInt8]] {
        var reader = body
        var strings: [[UInt8]] = []
        while let field = try reader.nextField() {
            if field.number == 6 {
                strings.append(try reader.byteArray(field, "TensorProto.string_data"))
            } else {
                try reader.skip(field.wireType)
            }
        }
        return strings
    }

    /// A `StringStringEntryProto`: key (1) and value (2).
    func stringPair(_ reader: inout ProtoReader) throws -> ONNXStringPair {
        var pair = ONNXStringPair(key: "", value: "")
        while let field = try reader.nextField() {
            switch field.number {
            case 1: pair.key = try reader.string(field, "StringStringEntryProto.key")
            case 2: pair.value = try reader.string(field, "StringStringEntryProto.value")
            default: try reader.skip(field.wireType)
            }
        }
        return pair
    }
}

extension ONNXTensor {
    /// A tensor as read: `dims` the ONNX shape, `tensor` its stored elements as `layout` stores them.
    init(name: String, layout: ONNXElementLayout, dims: [Int], tensor: StoredTensor, external: External?, strings: [[UInt8]]) {
        self.name = name
        self.dataType = ONNXDataType(rawValue: layout.number) ?? .undefined
        self.dataTypeNumber = layout.number
        self.dims = dims
        self.tensor = tensor
        self.external = external
        self.strings = strings
    }
}
