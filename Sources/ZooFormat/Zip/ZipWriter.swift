/// Writes a zip archive member by member (stored or deflated), with ZIP64
/// records where sizes or offsets need them, into an `AtomicFile`.
final class ZipWriter {
    private struct Written {
        let name: [UInt8]
        let method: UInt16
        let crc: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localOffset: Int
    }

    private let file: AtomicFile
    private var members: [Written] = []
    private static let limit32 = 0xFFFF_FFFF
    /// 1980-01-01 00:00, so archives are reproducible.
    private static let dosDate: UInt16 = 0x21
    private static let dosTime: UInt16 = 0

    init(file: AtomicFile) {
        self.file = file
    }

    /// Adds a member whose content is `parts` concatenated, stored uncompressed, its data
    /// starting at a multiple of `alignment` bytes in the file (padding in the local header's
    /// extra field, as PyTorch's writer does, so that the data can be memory-mapped).
    /// The CRC is computed while writing and patched into the local header.
    func addStored(name: String, parts: [UnsafeRawBufferPointer], alignment: Int = 1) throws {
        let size = parts.reduce(0) { $0 + $1.count }
        let offset = file.position
        let nameBytes = Array(name.utf8)
        let zip64 = size >= Self.limit32
        var header = localHeader(name: nameBytes, method: 0, crc: 0, compressed: size, uncompressed: size, zip64: zip64)
        if alignment > 1 {
            // An extra field "FB" of filler bytes: 4 bytes of field header, then enough to reach the boundary.
            let start = offset + header.count + 4
            let padding = (alignment - start % alignment) % alignment
            header += [0x46, 0x42] + UInt16(padding).littleEndianBytes + [UInt8](repeating: 0x5A, count: padding)
            let extraLength = (zip64 ? 20 : 0) + 4 + padding
            header[28] = UInt8(extraLength & 0xFF)
            header[29] = UInt8(extraLength >> 8)
        }
        try file.write(header)
        var crc: UInt32 = 0
        for part in parts {
            crc = Deflate.crc32(part, initial: crc)
            try file.write(part)
        }
        try file.patch(crc.littleEndianBytes, at: offset + 14)
        members.append(Written(name: nameBytes, method: 0, crc: crc, compressedSize: size, uncompressedSize: size, localOffset: offset))
    }

    /// Adds a member whose content is `parts` concatenated, deflated.
    func addDeflated(name: String, parts: [UnsafeRawBufferPointer], level: Int32 = 6) throws {
        var whole: [UInt8] = []
        whole.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { whole.append(contentsOf: part) }
        let crc = whole.withUnsafeBytes { Deflate.crc32($0) }
        let compressed = try whole.withUnsafeBytes { try Deflate.deflate($0, level: level) }
        let offset = file.position
        let nameBytes = Array(name.utf8)
        let zip64 = whole.count >= Self.limit32 || compressed.count >= Self.limit32
        try file.write(localHeader(name: nameBytes, method: 8, crc: crc, compressed: compressed.count, uncompressed: whole.count, zip64: zip64))
        try file.write(compressed)
        members.append(Written(name: nameBytes, method: 8, crc: crc, compressedSize: compressed.count, uncompressedSize: whole.count, localOffset: offset))
    }

    /// Writes the central directory and end records.
    func finish() throws {
        let directoryOffset = file.position
        for member in members {
            try file.write(centralHeader(member))
        }
        let directorySize = file.position - directoryOffset
        let needsZip64 = members.count >= 0xFFFF || directoryOffset >= Self.limit32 || directorySize >= Self.limit32
        if needsZip64 {
            let recordOffset = file.position
            var record: [UInt8] = ZipDirectory.zip64EndSignature.littleEndianBytes
            record += UInt64(44).littleEndianBytes
            record += UInt16(45).littleEndianBytes + UInt16(45).littleEndianBytes
            record += UInt32(0).littleEndianBytes + UInt32(0).littleEndianBytes
            record += UInt64(members.count).littleEndianBytes + UInt64(members.count).littleEndianBytes
            record += UInt64(directorySize).littleEndianBytes + UInt64(directoryOffset).littleEndianBytes
            try file.write(record)
            var locator: [UInt8] = ZipDirectory.zip64LocatorSignature.littleEndianBytes
            locator += UInt32(0).littleEndianBytes + UInt64(recordOffset).littleEndianBytes + UInt32(1).littleEndianBytes
            try file.write(locator)
        }
        var end: [UInt8] = ZipDirectory.endSignature.littleEndianBytes
        end += UInt16(0).littleEndianBytes + UInt16(0).littleEndianBytes
        let count16 = UInt16(min(members.count, 0xFFFF))
        end += count16.littleEndianBytes + count16.littleEndianBytes
        end += UInt32(min(directorySize, Self.limit32)).littleEndianBytes
        end += UInt32(min(directoryOffset, Self.limit32)).littleEndianBytes
        end += UInt16(0).littleEndianBytes
        try file.write(end)
    }

    private func localHeader(name: [UInt8], method: UInt16, crc: UInt32, compressed: Int, uncompressed: Int, zip64: Bool) -> [UInt8] {
        var header: [UInt8] = ZipDirectory.localSignature.littleEndianBytes
        header += UInt16(zip64 ? 45 : 20).littleEndianBytes
        header += flags(name).littleEndianBytes + method.littleEndianBytes
        header += Self.dosTime.littleEndianBytes + Self.dosDate.littleEndianBytes
        header += crc.littleEndianBytes
        header += UInt32(zip64 ? Self.limit32 : compressed).littleEndianBytes
        header += UInt32(zip64 ? Self.limit32 : uncompressed).littleEndianBytes
        header += UInt16(name.count).littleEndianBytes
        header += UInt16(zip64 ? 20 : 0).littleEndianBytes
        header += name
        if zip64 {
            header += UInt16(1).littleEndianBytes + UInt16(16).littleEndianBytes
            header += UInt64(uncompressed).littleEndianBytes + UInt64(compressed).littleEndianBytes
        }
        return header
    }

    private func centralHeader(_ member: Written) -> [UInt8] {
        var extra: [UInt8] = []
        if member.uncompressedSize >= Self.limit32 { extra += UInt64(member.uncompressedSize).littleEndianBytes }
        if member.compressedSize >= Self.limit32 { extra += UInt64(member.compressedSize).littleEndianBytes }
        if member.localOffset >= Self.limit32 { extra += UInt64(member.localOffset).littleEndianBytes }
        if !extra.isEmpty { extra = UInt16(1).littleEndianBytes + UInt16(extra.count).littleEndianBytes + extra }
        let version: UInt16 = extra.isEmpty ? 20 : 45
        var header: [UInt8] = ZipDirectory.centralSignature.littleEndianBytes
        header += (version | 0x0300).littleEndianBytes  // made by: Unix
        header += version.littleEndianBytes
        header += flags(member.name).littleEndianBytes + member.method.littleEndianBytes
        header += Self.dosTime.littleEndianBytes + Self.dosDate.littleEndianBytes
        header += member.crc.littleEndianBytes
        header += UInt32(min(member.compressedSize, Self.limit32)).littleEndianBytes
        header += UInt32(min(member.uncompressedSize, Self.limit32)).littleEndianBytes
        header += UInt16(member.name.count).littleEndianBytes
        header += UInt16(extra.count).littleEndianBytes
        header += UInt16(0).littleEndianBytes  // comment length
        header += UInt16(0).littleEndianBytes  // disk number
        header += UInt16(0).littleEndianBytes  // internal attributes
        header += UInt32(0o100644 << 16).littleEndianBytes  // external attributes: a regular file, rw-r--r--
        header += UInt32(min(member.localOffset, Self.limit32)).littleEndianBytes
        header += member.name + extra
        return header
    }

    /// Bit 11 marks a UTF-8 name.
    private func flags(_ name: [UInt8]) -> UInt16 {
        name.contains { $0 >= 0x80 } ? 0x0800 : 0
    }
}
