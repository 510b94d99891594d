/// A minimal encoder of the protocol buffer wire format
/// (https://protobuf.dev/programming-guides/encoding/), the counterpart of `ProtoReader`:
/// enough to write TensorBoard's `Event`, `Summary` and `HistogramProto` without generated code.
///
/// Fields are appended in the order the caller writes them; callers write them in field-number
/// order, and leave out proto3 fields that hold their default (zero, empty), as the reference
/// encoders do, so the bytes equal Python's `SerializeToString()`.
struct ProtoWriter {
    var bytes: [UInt8] = []

    /// Base-128 varint, least significant group first.
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A field key: number << 3 | wire type.
    mutating func key(_ number: Int, wireType: Int) {
        varint(UInt64(number) << 3 | UInt64(wireType))
    }

    /// A `double` field (wire type 1, 8 bytes little-endian); left out when it is +0.0 (proto3).
    mutating func double(_ number: Int, _ value: Double, always: Bool = false) {
        guard always || value.bitPattern != 0 else { return }
        key(number, wireType: 1)
        bytes += value.bitPattern.littleEndianBytes
    }

    /// A `float` field (wire type 5, 4 bytes little-endian); left out when it is +0.0 unless `always`
    /// (members of a `oneof` are written whatever their value).
    mutating func float(_ number: Int, _ value: Float, always: Bool = false) {
        guard always || value.bitPattern != 0 else { return }
        key(number, wireType: 5)
        bytes += value.bitPattern.littleEndianBytes
    }

    /// An `int64` or enum field (wire type 0; negative values take ten bytes); left out when zero.
    mutating func int64(_ number: Int, _ value: Int64) {
        guard value != 0 else { return }
        key(number, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A `string` or `bytes` field (wire type 2).
    mutating func bytes(_ number: Int, _ value: [UInt8]) {
        key(number, wireType: 2)
        varint(UInt64(value.count))
        bytes += value
    }

    /// A `string` field, UTF-8.
    mutating func string(_ number: Int, _ value: String) {
        bytes(number, Array(value.utf8))
    }

    /// An embedded message.
    mutating func message(_ number: Int, _ body: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        body(&inner)
        bytes(number, inner.bytes)
    }

    /// A packed `repeated double` field; left out when empty.
    mutating func packedDoubles(_ number: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        key(number, wireType: 2)
        varint(UInt64(values.count * 8))
        for value in values { bytes += value.bitPattern.littleEndianBytes }
    }
}
