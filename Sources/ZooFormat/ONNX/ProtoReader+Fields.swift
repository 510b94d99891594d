/// Typed field reading on top of `ProtoReader`, for messages decoded field by field (ONNX):
/// wire types checked against the schema, embedded messages as readers of their own whose
/// error offsets still count from the start of the file, and repeated scalars read whether
/// the writer packed them or not (the protobuf rule: a parser accepts both encodings).
extension ProtoReader {
    /// `wire type 2 (length-delimited)`, for messages.
    static func wireTypeName(_ wireType: Int) -> String {
        switch wireType {
        case 0: "wire type 0 (varint)"
        case 1: "wire type 1 (64-bit)"
        case 2: "wire type 2 (length-delimited)"
        case 5: "wire type 5 (32-bit)"
        default: "wire type \(wireType)"
        }
    }

    /// Throws unless `field` has `wireType`; `name` is the schema's (`TensorProto.dims`).
    func require(_ field: (number: Int, wireType: Int), _ wireType: Int, _ name: String) throws {
        guard field.wireType == wireType else {
            throw malformed("\(name) (field \(field.number)) as \(Self.wireTypeName(wireType))", Self.wireTypeName(field.wireType))
        }
    }

    /// The absolute offset in the file of the reader's current position.
    var fileOffset: Int { origin + position }

    /// A length-delimited field (an embedded message, a packed run) as a reader of its own
    /// for `context`; its offsets still count from the start of the file.
    mutating func embedded(_ context: String) throws -> ProtoReader {
        let body = try lengthDelimited()
        var reader = ProtoReader(body, file: file, context: context)
        reader.origin = origin + position - body.count
        return reader
    }

    /// A `string` field (bytes, decoded as UTF-8 with replacement characters for bad sequences).
    mutating func string(_ field: (number: Int, wireType: Int), _ name: String) throws -> String {
        try require(field, 2, name)
        return String(decoding: try lengthDelimited(), as: UTF8.self)
    }

    /// A `bytes` field, copied.
    mutating func byteArray(_ field: (number: Int, wireType: Int), _ name: String) throws -> [UInt8] {
        try require(field, 2, name)
        return Array(try lengthDelimited())
    }

    /// An `int64` (or `int32`, enum) field: the varint as two's complement.
    mutating func int64(_ field: (number: Int, wireType: Int), _ name: String) throws -> Int64 {
        try require(field, 0, name)
        return Int64(bitPattern: try varint())
    }

    /// A `float` field (wire type 5).
    mutating func float(_ field: (number: Int, wireType: Int), _ name: String) throws -> Float {
        try require(field, 5, name)
        return Float(bitPattern: try fixed32())
    }

    /// Reads one occurrence of a repeated scalar field whose elements have wire type `element`
    /// (0, 1 or 5): a single unpacked element, or a packed run (wire type 2) of any number of
    /// them. `body` reads each element from the reader it is handed.
    mutating func repeated(
        _ field: (number: Int, wireType: Int), element: Int, _ name: String, _ body: (inout ProtoReader) throws -> Void
    ) throws {
        if field.wireType == element {
            try body(&self)
            return
        }
        guard field.wireType == 2 else {
            throw malformed("\(name) (field \(field.number)) as \(Self.wireTypeName(element)) or packed (wire type 2)", Self.wireTypeName(field.wireType))
        }
        var run = try embedded(context)
        while !run.isAtEnd { try body(&run) }
    }

    /// The number of elements in one occurrence of a repeated scalar field (see `repeated`),
    /// without decoding them: packed varints are counted by their last bytes, fixed-width
    /// runs by their length (which must be a whole number of elements).
    mutating func countRepeated(_ field: (number: Int, wireType: Int), element: Int, _ name: String) throws -> Int {
        if field.wireType == element {
            try skip(element)
            return 1
        }
        guard field.wireType == 2 else {
            throw malformed("\(name) (field \(field.number)) as \(Self.wireTypeName(element)) or packed (wire type 2)", Self.wireTypeName(field.wireType))
        }
        let start = fileOffset
        let run = try lengthDelimited()
        switch element {
        case 0:
            guard let last = run.last else { return 0 }
            guard last & 0x80 == 0 else {
                throw FormatError(file: file, .malformed(at: .offsetIn(context, start), expected: "a packed run of whole varints in \(name)", found: "a run whose last varint is unterminated"))
            }
            return run.reduce(0) { $0 + ($1 & 0x80 == 0 ? 1 : 0) }
        default:
            let width = element == 1 ? 8 : 4
            guard run.count % width == 0 else {
                throw FormatError(file: file, .malformed(at: .offsetIn(context, start), expected: "a packed run of \(width)-byte elements in \(name)", found: "\(run.count) bytes"))
            }
            return run.count / width
        }
    }
}
