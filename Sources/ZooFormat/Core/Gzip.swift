import CZlib

/// gzip (RFC 1952) files: Zoo reads any supported format gzipped
/// (`train-images-idx3-ubyte.gz`, `weights.npy.gz`) by inflating it into memory.
enum Gzip {
    static let magic: [UInt8] = [0x1F, 0x8B]

    /// The decompressed contents of a gzip file, as an in-memory `MappedFile` named like the file.
    /// The size comes from the trailer's ISIZE (the size modulo 2^32), checked against
    /// deflate's maximum ratio before anything is allocated; zlib checks the trailer's CRC-32.
    static func decompress(_ file: MappedFile) throws -> MappedFile {
        let reader = ByteReader(file.bytes, file: file.path)
        try reader.require(0, 18, "a gzip header and trailer")
        guard try reader.uint8(2, "the compression method") == 8 else {
            throw reader.malformed(2, expected: "gzip method 8 (deflate)", found: "\(file.bytes[2])")
        }
        let declared = Int(try reader.uint32(file.count - 4, "the gzip size trailer"))
        guard declared / Deflate.maximumRatio <= file.count else {
            throw reader.malformed(file.count - 4, expected: "an uncompressed size deflate can reach from \(file.count) bytes", found: "\(declared)")
        }
        let output = try HeapBuffer(checkedCount: declared, file: file.path, what: "the decompressed file")
        var stream = z_stream()
        // 16 + 15: a gzip wrapper around a 32 KiB-window deflate stream.
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw reader.malformed(0, expected: "a usable zlib", found: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: file.bytes.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(min(file.count, Int(UInt32.max)))
        stream.next_out = output.pointer.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(min(declared, Int(UInt32.max)))
        let status = CZlib.inflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END, Int(stream.total_out) == declared else {
            let message = stream.msg.map { String(cString: $0) } ?? (status == Z_BUF_ERROR ? "the data ends early or is longer than the trailer says" : "zlib status \(status)")
            throw reader.malformed(Int(stream.total_in), expected: "a gzip stream of \(declared) bytes", found: message)
        }
        return MappedFile(path: file.path, buffer: output)
    }
}
