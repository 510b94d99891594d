/// Reads a LevelDB-format sorted string table, the format of a TensorFlow
/// checkpoint's `.index` file (tensorflow/core/lib/io/table_format.txt; LevelDB's
/// doc/table_format.md).
///
///     [data block 1] … [data block n] [meta blocks] [metaindex block] [index block] [footer]
///
///     footer (48 bytes)  metaindex handle, index handle (each: offset varint, size varint),
///                        zero padding to 40 bytes, magic 0xdb4775248b80fb57 (8 bytes LE)
///     block              contents, then a 5-byte trailer: type (0 none, 1 Snappy) and the
///                        masked CRC-32C of contents + type
///     block contents     entries: shared varint, unshared varint, value length varint,
///                        key[shared…] bytes, value bytes; then restart offsets (UInt32 each)
///                        and their count (UInt32). A key repeats the first `shared` bytes
///                        of the previous key.
///
/// The index block maps the last key of each data block to that block's handle.
/// Every block's CRC is checked; offsets and lengths are checked against the file.
struct SSTable {
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let footerSize = 48
    /// The largest block accepted (TensorFlow writes ~8 KiB blocks; a bundle
    /// entry is small): bounds what a decompressed block may allocate.
    static let maximumBlockSize = 1 << 30

    struct Entry {
        let key: [UInt8]
        let value: [UInt8]
    }

    /// All entries, in key order.
    let entries: [Entry]

    /// Whether `bytes` ends with the table magic.
    static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= footerSize && UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) == magic
    }

    init(_ reader: ByteReader) throws {
        guard reader.count >= SSTable.footerSize else {
            throw FormatError(file: reader.file, .truncated(at: .offset(0), needed: SSTable.footerSize, available: reader.count, what: "a table footer"))
        }
        let footer = reader.count - SSTable.footerSize
        let magic = try reader.uint64(reader.count - 8, "the table magic")
        guard magic == SSTable.magic else {
            throw reader.malformed(reader.count - 8, expected: "the table magic 57 FB 80 8B 24 75 47 DB", found: hex(reader.peek(reader.count - 8, 8)))
        }
        var at = footer
        _ = try SSTable.handle(reader, at: &at, limit: reader.count - 8, fileSize: reader.count, what: "the metaindex handle")
        let index = try SSTable.handle(reader, at: &at, limit: reader.count - 8, fileSize: reader.count, what: "the index handle")
        let indexBlock = try SSTable.block(reader, index, what: "the index block")
        var entries: [Entry] = []
        var previousLast: [UInt8]?
        for (blockNumber, indexEntry) in try SSTable.parseBlock(indexBlock, file: reader.file, what: "the index block").enumerated() {
            let handle = try indexEntry.value.withUnsafeBytes { value -> (offset: Int, size: Int) in
                var at = 0
                let inner = ByteReader(value, file: reader.file, member: "the index block entry \(blockNumber)")
                return try SSTable.handle(inner, at: &at, limit: value.count, fileSize: reader.count, what: "a data block handle")
            }
            guard handle.offset < footer else {
                throw reader.malformed(footer, expected: "data block \(blockNumber) before the footer", found: "a block at offset \(handle.offset)")
            }
            let what = "data block \(blockNumber) at offset \(handle.offset)"
            let contents = try SSTable.block(reader, handle, what: what)
            for entry in try SSTable.parseBlock(contents, file: reader.file, what: what) {
                if let previous = previousLast, !previous.lexicographicallyPrecedes(entry.key) {
                    throw reader.malformed(handle.offset, expected: "keys in increasing order", found: "'\(String(decoding: entry.key, as: UTF8.self))' after '\(String(decoding: previous, as: UTF8.self))'")
                }
                previousLast = entry.key
                entries.append(entry)
            }
        }
        self.entries = entries
    }

    /// A block handle: two varints, each a non-negative size within the file.
    private static func handle(_ reader: ByteReader, at: inout Int, limit: Int, fileSize: Int, what: String) throws -> (offset: Int, size: Int) {
        var values: [Int] = []
        for part in ["offset", "size"] {
            guard let (value, next) = ProtoReader.varint(UnsafeRawBufferPointer(rebasing: reader.bytes[0..<limit]), at: at) else {
                throw reader.malformed(at, expected: "the \(part) varint of \(what)", found: hex(reader.peek(at, 10)))
            }
            guard value <= UInt64(fileSize) else {
                throw reader.malformed(at, expected: "the \(part) of \(what) within the \(fileSize)-byte file", found: "\(value)")
            }
            values.append(Int(value))
            at = next
        }
        return (values[0], values[1])
    }

    /// A block's contents after checking its trailer's CRC and undoing its compression.
    private static func block(_ reader: ByteReader, _ handle: (offset: Int, size: Int), what: String) throws -> [UInt8] {
        let (withTrailer, overflow) = handle.size.addingReportingOverflow(5)
        guard !overflow else { throw reader.malformed(handle.offset, expected: "a block size", found: "\(handle.size)") }
        let stored = try reader.slice(handle.offset, withTrailer, what + " and its 5-byte trailer")
        let contents = UnsafeRawBufferPointer(rebasing: stored[0..<handle.size])
        let type = stored[handle.size]
        let masked = UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: handle.size + 1, as: UInt32.self))
        var crc = CRC32C.checksum(contents)
        crc = CRC32C.checksum([type], initial: crc)
        guard CRC32C.unmask(masked) == crc else {
            throw FormatError(file: reader.file, .checksumMismatch(at: .offset(handle.offset), expected: "CRC-32C \(CRC32C.text(CRC32C.unmask(masked))) of \(what)", found: CRC32C.text(crc)))
        }
        switch type {
        case 0: return Array(contents)
        case 1:
            let inflated = try Snappy.decompress(contents, file: reader.file, what: what)
            guard inflated.count <= maximumBlockSize else {
                throw reader.malformed(handle.offset, expected: "a block of at most \(maximumBlockSize) bytes", found: "\(inflated.count)")
            }
            return inflated
        default:
            throw reader.malformed(handle.offset + handle.size, expected: "block compression type 0 (none) or 1 (Snappy) for \(what)", found: "\(type)")
        }
    }

    /// The key/value entries of a block's contents.
    static func parseBlock(_ contents: [UInt8], file: String, what: String) throws -> [Entry] {
        try contents.withUnsafeBytes { bytes in
            func malformed(_ offset: Int, _ expected: String, _ found: String) -> FormatError {
                FormatError(file: file, .malformed(at: .offsetIn(what, offset), expected: expected, found: found))
            }
            guard bytes.count >= 4 else {
                throw FormatError(file: file, .truncated(at: .key(what), needed: 4, available: bytes.count, what: "the restart count"))
            }
            let restarts = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)))
            guard restarts <= (bytes.count - 4) / 4 else {
                throw malformed(bytes.count - 4, "at most \((bytes.count - 4) / 4) restart points in a \(bytes.count)-byte block", "\(restarts)")
            }
            let end = bytes.count - 4 - 4 * restarts
            var entries: [Entry] = []
            var key: [UInt8] = []
            var at = 0
            while at < end {
                let start = at
                var fields: [Int] = []
                for field in ["shared", "unshared", "value length"] {
                    guard let (value, next) = ProtoReader.varint(UnsafeRawBufferPointer(rebasing: bytes[0..<end]), at: at), value <= UInt64(end) else {
                        throw malformed(at, "the \(field) varint of an entry", hex(Array(bytes[at..<min(end, at + 5)])))
                    }
                    fields.append(Int(value))
                    at = next
                }
                let (shared, unshared, valueLength) = (fields[0], fields[1], fields[2])
                guard shared <= key.count else {
                    throw malformed(start, "a shared key prefix of at most \(key.count) bytes", "\(shared)")
                }
                guard unshared <= end - at, valueLength <= end - at - unshared else {
                    throw FormatError(file: file, .truncated(at: .offsetIn(what, start), needed: unshared + valueLength, available: end - at, what: "an entry's key and value"))
                }
                key.removeSubrange(shared...)
                key.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[at..<at + unshared]))
                at += unshared
                entries.append(Entry(key: key, value: Array(UnsafeRawBufferPointer(rebasing: bytes[at..<at + valueLength]))))
                at += valueLength
            }
            return entries
        }
    }
}
