/// The central directory of a zip archive (PKWARE APPNOTE 6.3.x, section 4.3),
/// with ZIP64 records and data descriptors.
///
///     [local header 1][data 1] … [central directory] [zip64 end record][zip64 locator] [end record]
///
/// Sizes and offsets are taken from the central directory (a member written
/// with a data descriptor has zeros in its local header). Every count and
/// offset is checked against the file before it is used.
struct ZipDirectory {
    /// How a member's bytes are stored.
    enum Method: Equatable {
        case stored
        case deflated
    }

    struct Entry {
        let name: String
        let method: Method
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        /// Offset of the member's data (past its local header) in the archive.
        let dataOffset: Int
    }

    let entries: [Entry]

    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50

    /// Reads the central directory of the archive in `reader`.
    init(_ reader: ByteReader) throws {
        let end = try Self.findEndRecord(reader)
        var entryCount = Int(try reader.uint16(end + 10, "the end record's entry count"))
        var directorySize = Int(try reader.uint32(end + 12, "the end record's directory size"))
        var directoryOffset = Int(try reader.uint32(end + 16, "the end record's directory offset"))

        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the end record.
            let locator = end - 20
            if locator >= 0, try reader.uint32(locator, "the zip64 locator") == Self.zip64LocatorSignature {
                let record = try Self.checkedInt(reader.uint64(locator + 8, "the zip64 end record offset"), reader, locator + 8)
                guard try reader.uint32(record, "the zip64 end record") == Self.zip64EndSignature else {
                    throw reader.malformed(record, expected: "the zip64 end record signature 50 4B 06 06", found: hex(reader.peek(record, 4)))
                }
                entryCount = try Self.checkedInt(reader.uint64(record + 32, "the zip64 entry count"), reader, record + 32)
                directorySize = try Self.checkedInt(reader.uint64(record + 40, "the zip64 directory size"), reader, record + 40)
                directoryOffset = try Self.checkedInt(reader.uint64(record + 48, "the zip64 directory offset"), reader, record + 48)
            }
        }
        try reader.require(directoryOffset, directorySize, "the central directory")
        // Each central header is at least 46 bytes: bound the count before allocating.
        guard entryCount <= directorySize / 46 else {
            throw reader.malformed(end + 10, expected: "at most \(directorySize / 46) entries in a \(directorySize)-byte central directory", found: "\(entryCount)")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        var position = directoryOffset
        for _ in 0..<entryCount {
            let (entry, next) = try Self.readCentralHeader(reader, at: position, directoryEnd: directoryOffset + directorySize)
            entries.append(entry)
            position = next
        }
        self.entries = entries
    }

    /// Registers every stored member with `file.storedMembers`, so that reading its bytes in
    /// place checks its CRC-32 first.
    func registerStoredMembers(of file: MappedFile) {
        for entry in entries where entry.method == .stored {
            file.storedMembers.register(name: entry.name, start: entry.dataOffset, count: entry.compressedSize, crc: entry.crc32)
        }
    }

    private static func checkedInt(_ value: UInt64, _ reader: ByteReader, _ offset: Int) throws -> Int {
        guard value <= UInt64(Int.max / 2) else {
            throw reader.malformed(offset, expected: "a size or offset within the file", found: "\(value)")
        }
        return Int(value)
    }

    /// The end-of-central-directory record: searched backwards over the last 64 KiB + 22 bytes.
    private static func findEndRecord(_ reader: ByteReader) throws -> Int {
        let count = reader.count
        guard count >= 22 else {
            throw FormatError(file: reader.file, .truncated(at: .offset(0), needed: 22, available: count, what: "a zip end-of-central-directory record"))
        }
        let lowest = max(0, count - 22 - 0xFFFF)
        var position = count - 22
        while position >= lowest {
            if reader.bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self) == endSignature.littleEndian {
                return position
            }
            position -= 1
        }
        throw reader.malformed(count - 22, expected: "a zip end-of-central-directory record (50 4B 05 06) in the last 64 KiB", found: "none (the archive is truncated or its central directory is broken)")
    }

    private static func readCentralHeader(_ reader: ByteReader, at offset: Int, directoryEnd: Int) throws -> (Entry, Int) {
        guard try reader.uint32(offset, "a central directory header") == centralSignature else {
            throw reader.malformed(offset, expected: "a central directory header (50 4B 01 02)", found: hex(reader.peek(offset, 4)))
        }
        let flags = try reader.uint16(offset + 8, "the flags")
        let methodCode = try reader.uint16(offset + 10, "the compression method")
        let crc = try reader.uint32(offset + 16, "the CRC-32")
        var compressed = Int(try reader.uint32(offset + 20, "the compressed size"))
        var uncompressed = Int(try reader.uint32(offset + 24, "the uncompressed size"))
        let nameLength = Int(try reader.uint16(offset + 28, "the name length"))
        let extraLength = Int(try reader.uint16(offset + 30, "the extra field length"))
        let commentLength = Int(try reader.uint16(offset + 32, "the comment length"))
        var localOffset = Int(try reader.uint32(offset + 42, "the local header offset"))
        let nameBytes = try reader.slice(offset + 46, nameLength, "the member name")
        let next = offset + 46 + nameLength + extraLength + commentLength
        guard next <= directoryEnd else {
            throw reader.malformed(offset, expected: "a central header within the directory", found: "one that ends at \(next), past \(directoryEnd)")
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        // ZIP64 extended information (tag 0x0001): the 64-bit values, in this order, of fields that are 0xFFFFFFFF.
        var extra = offset + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let tag = try reader.uint16(extra, "an extra field tag")
            let size = Int(try reader.uint16(extra + 2, "an extra field size"))
            var field = extra + 4
            guard field + size <= extraEnd else { break }
            if tag == 0x0001 {
                if uncompressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    uncompressed = try checkedInt(reader.uint64(field, "the zip64 uncompressed size"), reader, field)
                    field += 8
                }
                if compressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    compressed = try checkedInt(reader.uint64(field, "the zip64 compressed size"), reader, field)
                    field += 8
                }
                if localOffset == 0xFFFF_FFFF, field + 8 <= extra + 4 + size {
                    localOffset = try checkedInt(reader.uint64(field, "the zip64 local header offset"), reader, field)
                }
            }
            extra += 4 + size
        }
        guard flags & 0x1 == 0 else {
            throw reader.malformed(offset, expected: "an unencrypted member", found: "'\(name)' is encrypted")
        }
        let method: Method
        switch methodCode {
        case 0: method = .stored
        case 8: method = .deflated
        default:
            throw reader.malformed(offset + 10, expected: "compression method 0 (stored) or 8 (deflate) for '\(name)'", found: "method \(methodCode)")
        }
        guard try reader.uint32(localOffset, "the local header of '\(name)'") == localSignature else {
            throw reader.malformed(localOffset, expected: "the local header of '\(name)' (50 4B 03 04)", found: hex(reader.peek(localOffset, 4)))
        }
        let localNameLength = Int(try reader.uint16(localOffset + 26, "the local name length"))
        let localExtraLength = Int(try reader.uint16(localOffset + 28, "the local extra length"))
        let dataOffset = localOffset + 30 + localNameLength + localExtraLength
        try reader.require(dataOffset, compressed, "the data of '\(name)'")
        if method == .stored, compressed != uncompressed {
            throw reader.malformed(offset + 20, expected: "equal sizes for the stored member '\(name)'", found: "\(compressed) compressed, \(uncompressed) uncompressed")
        }
        let entry = Entry(name: name, method: method, crc32: crc, compressedSize: compressed, uncompressedSize: uncompressed, dataOffset: dataOffset)
        return (entry, next)
    }
}
