/// A minimal, bounded reader of the protocol buffer wire format
/// (https://protobuf.dev/programming-guides/encoding/): enough to decode
/// TensorFlow's `BundleHeaderProto` and `BundleEntryProto` without generated code.
///
///     tag     varint: field number << 3 | wire type
///     0 VARINT   base-128 varint, at most 10 bytes
///     1 I64      8 bytes little-endian
///     2 LEN      varint length, then that many bytes (strings, sub-messages, packed repeated)
///     5 I32      4 bytes little-endian
///
/// Every length is checked against the bytes left; groups (wire types 3, 4) are refused.
struct ProtoReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// What is being decoded, for messages (`the index entry 'hidden1/kernel'`).
    let context: String
    private(set) var position = 0
    /// Where `bytes` starts in the file, added to positions in messages (0: offsets within `context`).
    var origin = 0

    init(_ bytes: UnsafeRawBufferPointer, file: String, context: String) {
        self.bytes = bytes
        self.file = file
        self.context = context
    }

    var isAtEnd: Bool { position >= bytes.count }

    func malformed(_ expected: String, _ found: String) -> FormatError {
        FormatError(file: file, .malformed(at: .offsetIn(context, origin + position), expected: expected, found: found))
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: Int)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        guard number > 0, number < 1 << 29 else { throw malformed("a protobuf field number", "\(number)") }
        return (number, Int(key & 7))
    }

    mutating func varint() throws -> UInt64 {
        guard let (value, next) = ProtoReader.varint(bytes, at: position) else {
            throw malformed("a varint of at most 10 bytes", position < bytes.count ? "a longer or unterminated one" : "the end of the message")
        }
        position = next
        return value
    }

    /// A varint that must fit a non-negative `Int` (sizes, offsets, dimensions).
    mutating func size(_ what: String) throws -> Int {
        let start = position
        let value = try varint()
        guard value <= UInt64(Int.max) else {
            position = start
            throw malformed("\(what) that fits in 63 bits", "\(value)")
        }
        return Int(value)
    }

    mutating func fixed32() throws -> UInt32 {
        guard bytes.count - position >= 4 else { throw malformed("4 bytes of a fixed32 field", "\(bytes.count - position) bytes") }
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func fixed64() throws -> UInt64 {
        guard bytes.count - position >= 8 else { throw malformed("8 bytes of a fixed64 field", "\(bytes.count - position) bytes") }
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A length-delimited field's bytes (a view).
    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try size("a length")
        guard length <= bytes.count - position else {
            throw malformed("\(length) bytes of a length-delimited field", "\(bytes.count - position) bytes left")
        }
        defer { position += length }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
    }

    /// Skips a field of `wireType`.
    mutating func skip(_ wireType: Int) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1:
            guard bytes.count - position >= 8 else { throw malformed("8 bytes of a fixed64 field", "\(bytes.count - position) bytes") }
            position += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw malformed("a protobuf wire type 0, 1, 2 or 5", "\(wireType)")
        }
    }

    /// Decodes a varint at `offset`: the value and the offset past it, or nil
    /// if it runs past the end or over 10 bytes.
    static func varint(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (UInt64, Int)? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var at = offset
        while at < bytes.count, shift < 64 {
            let byte = bytes[at]
            value |= UInt64(byte & 0x7F) << shift
            at += 1
            if byte & 0x80 == 0 { return (value, at) }
            shift += 7
        }
        return nil
    }
}
