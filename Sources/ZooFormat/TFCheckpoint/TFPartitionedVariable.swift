/// Assembles partitioned variables: `tf.compat.v1.get_variable(…, partitioner=…)`
/// saves each part as a slice of the whole.
///
///     tf.compat.v1.get_variable("embedding", [4, 3], partitioner=tf.compat.v1.fixed_size_partitioner(2))
///
///     key "embedding"          BundleEntryProto: dtype, the full shape [4, 3], and the slices
///                              as TensorSliceProto { repeated Extent extent = 1; }
///                              Extent { int64 start = 1; oneof { int64 length = 2; } }  (no length: all)
///     key EncodeTensorNameSlice("embedding", slice)
///                              one BundleEntryProto per slice: its bytes, C order, in a shard
///
/// A slice's key is an OrderedCode (tensorflow/core/lib/strings/ordered_code.cc):
/// NumIncreasing(0), String(name), NumIncreasing(rank), then per dimension
/// SignedNumIncreasing(start), SignedNumIncreasing(length or −1 for "all").
///
/// The slices must tile the variable (in bounds, no overlap, covering it); the
/// whole is copied together when the tensor is read, each slice's CRC-32C checked.
enum TFPartitionedVariable {
    struct Extent: Equatable {
        let start: Int
        /// nil: the whole dimension.
        let length: Int?
    }

    struct Part: Sendable {
        let start: [Int]
        let shape: [Int]
        let shard: MappedFile
        let offset: Int
        let size: Int
        let maskedCRC: UInt32?
    }

    /// Decodes a `TensorSliceProto`.
    static func extents(_ bytes: [UInt8], file: String, name: String) throws -> [Extent] {
        try bytes.withUnsafeBytes { buffer in
            var reader = ProtoReader(buffer, file: file, context: "a slice of '\(name)'")
            var extents: [Extent] = []
            while let (number, wireType) = try reader.nextField() {
                guard number == 1, wireType == 2 else {
                    try reader.skip(wireType)
                    continue
                }
                var extent = ProtoReader(try reader.lengthDelimited(), file: file, context: "a slice extent of '\(name)'")
                var start = 0
                var length: Int?
                while let (field, type) = try extent.nextField() {
                    switch (field, type) {
                    case (1, 0): start = try extent.size("a slice start")
                    case (2, 0): length = try extent.size("a slice length")
                    default: try extent.skip(type)
                    }
                }
                extents.append(Extent(start: start, length: length))
            }
            return extents
        }
    }

    /// The index key TensorFlow gives the slice `extents` of `name`.
    static func key(name: String, extents: [Extent]) -> [UInt8] {
        var key = numIncreasing(0)
        for byte in name.utf8 {
            switch byte {
            case 0x00: key += [0x00, 0xFF]
            case 0xFF: key += [0xFF, 0x00]
            default: key.append(byte)
            }
        }
        key += [0x00, 0x01]
        key += numIncreasing(UInt64(extents.count))
        for extent in extents {
            key += signedNumIncreasing(Int64(extent.start))
            key += signedNumIncreasing(Int64(extent.length ?? -1))
        }
        return key
    }

    /// OrderedCode's unsigned form: a length byte, then the big-endian bytes without leading zeros.
    static func numIncreasing(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [UInt8(bytes.count)] + bytes
    }

    /// OrderedCode's signed form: the length in unary in the leading bits, then the value.
    static func signedNumIncreasing(_ value: Int64) -> [UInt8] {
        let magnitude = UInt64(bitPattern: value < 0 ? ~value : value)
        if magnitude < 64 { return [0x80 ^ UInt8(truncatingIfNeeded: value)] }
        let bits = 64 - magnitude.leadingZeroBitCount
        let length = (bits + 7) / 7  // each length n holds 7n − 1 value bits
        let sign: UInt8 = value < 0 ? 0xFF : 0x00
        var buffer: [UInt8] = [sign, sign] + withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian, Array.init)
        let begin = buffer.count - length
        let header: [(UInt8, UInt8)] = [
            (0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0), (0xFF, 0), (0xFF, 0x80), (0xFF, 0xC0),
        ]
        buffer[begin] ^= header[length].0
        buffer[begin + 1] ^= header[length].1
        return Array(buffer[begin...])
    }

    /// Checks that `parts` tile `shape` exactly; throws naming the variable otherwise.
    static func checkTiling(_ parts: [Part], shape: [Int], name: String, file: String) throws {
        func refuse(_ found: String) -> FormatError {
            FormatError(file: file, .malformed(at: .key(name), expected: "slices that tile the shape \(shape)", found: found))
        }
        var covered = 0
        for part in parts {
            for axis in shape.indices {
                let (end, overflow) = part.start[axis].addingReportingOverflow(part.shape[axis])
                guard !overflow, end <= shape[axis] else { throw refuse("a slice at \(part.start) of shape \(part.shape)") }
            }
            guard let count = checkedElementCount(part.shape) else { throw refuse("a slice of shape \(part.shape)") }
            covered += count
        }
        for (index, first) in parts.enumerated() {
            for second in parts[(index + 1)...] {
                let overlaps = shape.indices.allSatisfy { axis in
                    first.start[axis] < second.start[axis] + second.shape[axis] && second.start[axis] < first.start[axis] + first.shape[axis]
                }
                if overlaps && !first.shape.contains(0) && !second.shape.contains(0) {
                    throw refuse("slices at \(first.start) and \(second.start) that overlap")
                }
            }
        }
        guard covered == checkedElementCount(shape) else { throw refuse("slices covering \(covered) of \(checkedElementCount(shape) ?? 0) elements") }
    }

    /// The whole variable, copied together from its parts (each CRC-checked).
    static func assemble(_ parts: [Part], shape: [Int], itemSize: Int, name: String) throws -> TensorBytes {
        let total = (checkedElementCount(shape) ?? 0) * itemSize
        let output = HeapBuffer(count: total)
        let fullStrides = contiguousStrides(shape)
        for part in parts {
            let bytes = TensorBytes(file: part.shard, offset: part.offset, count: part.size)
            if let masked = part.maskedCRC {
                let actual = bytes.withUnsafeBytes { CRC32C.checksum($0) }
                guard actual == CRC32C.unmask(masked) else {
                    throw FormatError(file: part.shard.path, .checksumMismatch(
                        at: .offset(part.offset), expected: "CRC-32C \(CRC32C.text(CRC32C.unmask(masked))) of a slice of '\(name)'", found: CRC32C.text(actual)))
                }
            }
            guard let count = checkedElementCount(part.shape), count > 0 else { continue }
            let rank = shape.count
            let run = part.shape[rank - 1]
            var index = [Int](repeating: 0, count: rank)
            var copied = 0
            bytes.withUnsafeBytes { source in
                guard let base = source.baseAddress else { return }
                while copied < count {
                    var destination = 0
                    for axis in 0..<rank { destination += (part.start[axis] + index[axis]) * fullStrides[axis] }
                    (output.pointer + destination * itemSize).copyMemory(from: base + copied * itemSize, byteCount: run * itemSize)
                    copied += run
                    var axis = rank - 2
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < part.shape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return output.bytes
    }
}
