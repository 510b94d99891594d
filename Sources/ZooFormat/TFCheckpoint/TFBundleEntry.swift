/// The protocol buffers of a TensorFlow bundle index
/// (tensorflow/core/protobuf/tensor_bundle.proto, tensorflow/core/framework/tensor_shape.proto):
///
///     message BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2;  // LITTLE = 0, BIG = 1
///                                 VersionDef version = 3; }                      // producer = 1
///     message BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
///                                 int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
///                                 repeated TensorSliceProto slices = 7; }
///     message TensorShapeProto  { repeated Dim dim = 2; bool unknown_rank = 3; }   // Dim { int64 size = 1; }

/// The entry under the empty key: how many shards, which byte order.
struct TFBundleHeader: Equatable {
    var shardCount = 1
    var bigEndian = false
    var producerVersion = 0

    init() {}

    init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        var reader = ProtoReader(bytes, file: file, context: "the bundle header")
        while let (number, wireType) = try reader.nextField() {
            switch (number, wireType) {
            case (1, 0): shardCount = try reader.size("num_shards")
            case (2, 0):
                let value = try reader.varint()
                guard value <= 1 else { throw reader.malformed("endianness LITTLE (0) or BIG (1)", "\(value)") }
                bigEndian = value == 1
            case (3, 2):
                var version = ProtoReader(try reader.lengthDelimited(), file: file, context: "the bundle version")
                while let (field, type) = try version.nextField() {
                    if field == 1, type == 0 { producerVersion = Int(truncatingIfNeeded: try version.varint()) } else { try version.skip(type) }
                }
            default: try reader.skip(wireType)
            }
        }
    }
}

/// One variable's entry: dtype, shape and where its bytes are.
struct TFBundleEntry: Equatable {
    var dtypeCode = 0
    var shape: [Int] = []
    var unknownRank = false
    var shardID = 0
    var offset = 0
    var size = 0
    /// The masked CRC-32C of the bytes, if stored.
    var maskedCRC: UInt32?
    /// The serialized `TensorSliceProto`s of a partitioned variable.
    var slices: [[UInt8]] = []
    var sliceCount: Int { slices.count }

    init() {}

    init(_ bytes: UnsafeRawBufferPointer, file: String, key: String) throws {
        var reader = ProtoReader(bytes, file: file, context: "the index entry '\(key)'")
        while let (number, wireType) = try reader.nextField() {
            switch (number, wireType) {
            case (1, 0): dtypeCode = Int(truncatingIfNeeded: try reader.varint())
            case (2, 2): try readShape(try reader.lengthDelimited(), file: file, key: key)
            case (3, 0): shardID = try reader.size("shard_id")
            case (4, 0): offset = try reader.size("offset")
            case (5, 0): size = try reader.size("size")
            case (6, 5): maskedCRC = try reader.fixed32()
            case (7, 2):
                slices.append(Array(try reader.lengthDelimited()))
            default: try reader.skip(wireType)
            }
        }
    }

    private mutating func readShape(_ bytes: UnsafeRawBufferPointer, file: String, key: String) throws {
        var reader = ProtoReader(bytes, file: file, context: "the shape of '\(key)'")
        while let (number, wireType) = try reader.nextField() {
            switch (number, wireType) {
            case (2, 2):
                var dim = ProtoReader(try reader.lengthDelimited(), file: file, context: "a dimension of '\(key)'")
                var extent = 0
                while let (field, type) = try dim.nextField() {
                    if field == 1, type == 0 {
                        let raw = Int64(bitPattern: try dim.varint())
                        guard raw >= 0 else { throw dim.malformed("a non-negative dimension", "\(raw)") }
                        extent = Int(raw)
                    } else {
                        try dim.skip(type)
                    }
                }
                shape.append(extent)
            case (3, 0): unknownRank = try reader.varint() != 0
            default: try reader.skip(wireType)
            }
        }
    }
}

/// TensorFlow's `DataType` enum (tensorflow/core/framework/types.proto) as Zoo dtypes.
enum TFDataType {
    static let string = 7

    /// The Zoo dtype of a numeric code; nil for strings, resources, variants and quantized types.
    static func dtype(_ code: Int) -> DType? {
        switch code {
        case 1: .float32
        case 2: .float64
        case 3: .int32
        case 4: .uint8
        case 5: .int16
        case 6: .int8
        case 8: .opaque(name: "complex64", byteCount: 8, swapUnit: 4)
        case 9: .int64
        case 10: .bool
        case 14: .bfloat16
        case 17: .uint16
        case 18: .opaque(name: "complex128", byteCount: 16, swapUnit: 8)
        case 19: .float16
        case 22: .uint32
        case 23: .uint64
        default: nil
        }
    }

    /// `DT_STRING`, …: the name TensorFlow gives a code.
    static func name(_ code: Int) -> String {
        let names = [
            1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16", 6: "DT_INT8", 7: "DT_STRING",
            8: "DT_COMPLEX64", 9: "DT_INT64", 10: "DT_BOOL", 11: "DT_QINT8", 12: "DT_QUINT8", 13: "DT_QINT32",
            14: "DT_BFLOAT16", 15: "DT_QINT16", 16: "DT_QUINT16", 17: "DT_UINT16", 18: "DT_COMPLEX128", 19: "DT_HALF",
            20: "DT_RESOURCE", 21: "DT_VARIANT", 22: "DT_UINT32", 23: "DT_UINT64",
        ]
        return names[code] ?? "DataType \(code)"
    }
}
