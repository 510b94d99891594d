/// Bounds-checked little-endian reads from untrusted bytes.
///
/// Every read checks `offset + size <= count` with overflow-safe arithmetic and
/// throws `.truncated` naming the structure being read. `base` is added to
/// offsets in error messages (the position of these bytes within the file).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Where `bytes` starts in the file, or which member it is, for messages.
    let member: String?
    let base: Int

    init(_ bytes: UnsafeRawBufferPointer, file: String, member: String? = nil, base: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.member = member
        self.base = base
    }

    var count: Int { bytes.count }

    func location(_ offset: Int) -> FileLocation {
        if let member { return .offsetIn(member, offset) }
        return .offset(base + offset)
    }

    /// Throws unless `size` bytes are available at `offset`.
    func require(_ offset: Int, _ size: Int, _ what: String) throws {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard offset >= 0, size >= 0, !overflow, end <= bytes.count else {
            let available = max(0, bytes.count - max(offset, 0))
            throw FormatError(file: file, .truncated(at: location(offset), needed: size, available: available, what: what))
        }
    }

    func uint8(_ offset: Int, _ what: String) throws -> UInt8 {
        try require(offset, 1, what)
        return bytes[offset]
    }

    func uint16(_ offset: Int, _ what: String) throws -> UInt16 {
        try require(offset, 2, what)
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func uint32(_ offset: Int, _ what: String) throws -> UInt32 {
        try require(offset, 4, what)
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func uint64(_ offset: Int, _ what: String) throws -> UInt64 {
        try require(offset, 8, what)
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A view of `size` bytes at `offset`.
    func slice(_ offset: Int, _ size: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        try require(offset, size, what)
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size])
    }

    /// Up to `limit` bytes at `offset` (fewer near the end), for messages.
    func peek(_ offset: Int, _ limit: Int) -> [UInt8] {
        guard offset >= 0, offset < bytes.count else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + limit)])
    }

    func malformed(_ offset: Int, expected: String, found: String) -> FormatError {
        FormatError(file: file, .malformed(at: location(offset), expected: expected, found: found))
    }
}
