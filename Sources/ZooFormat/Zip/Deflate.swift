import CLibDeflate
import CZlib

/// Raw DEFLATE (RFC 1951): whole buffers inflated by libdeflate; header prefixes
/// inflated and archives written by zlib; CRC-32.
enum Deflate {
    /// DEFLATE's worst-case expansion ratio is 1032:1; a member claiming more is malformed.
    static let maximumRatio = 1032

    /// Inflates `input` into exactly `outputCount` bytes and checks the CRC-32.
    ///
    /// One whole-buffer call to libdeflate (about twice zlib's streaming inflate):
    /// the output size is known from the zip directory, so the stream is decoded
    /// straight into a buffer of that size.
    /// - Throws: `.malformed` naming `member` when the stream is corrupt, ends
    ///   early, yields a different size, or fails the CRC.
    static func inflate(_ input: UnsafeRawBufferPointer, outputCount: Int, crc expected: UInt32, file: String, member: String) throws -> TensorBytes {
        try checkSize(outputCount, from: input.count, file: file, member: member)
        let output = try HeapBuffer(checkedCount: outputCount, file: file, what: "inflating '\(member)'")
        try inflateRaw(input, into: UnsafeMutableRawBufferPointer(start: output.pointer, count: outputCount), file: file, member: member)
        let actual = crc32(UnsafeRawBufferPointer(start: output.pointer, count: outputCount))
        guard actual == expected else {
            throw FormatError(file: file, .checksumMismatch(at: .key(member), expected: crcText(expected), found: crcText(actual)))
        }
        return output.bytes
    }

    /// Refuses a member whose declared size is out of proportion to its compressed bytes (a zip
    /// bomb): more than DEFLATE's 1032:1 can produce, or more than this machine's memory.
    /// - Throws: `.malformed` at the member naming both sizes.
    static func checkSize(_ outputCount: Int, from inputCount: Int, file: String, member: String) throws {
        guard outputCount / maximumRatio <= inputCount + 1 else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "an uncompressed size deflate can reach from \(inputCount) bytes", found: "\(outputCount)"))
        }
        guard outputCount <= physicalMemory else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "an uncompressed size within this machine's memory (\(physicalMemory) bytes)", found: "\(outputCount)"))
        }
    }

    /// Decodes the raw DEFLATE stream `input` into exactly `output.count` bytes with libdeflate.
    static func inflateRaw(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, file: String, member: String) throws {
        try decode(input, into: output, file: file, member: member, what: "a valid deflate stream", libdeflate_deflate_decompress)
    }

    /// Decodes the zlib stream `input` (RFC 1950: HDF5's deflate filter) into exactly `output.count` bytes.
    static func inflateZlib(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, file: String, member: String) throws {
        try decode(input, into: output, file: file, member: member, what: "a valid zlib stream", libdeflate_zlib_decompress)
    }

    private static func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, file: String, member: String, what: String,
        _ decompress: (OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int, UnsafeMutablePointer<Int>?) -> libdeflate_result
    ) throws {
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "a usable libdeflate", found: "libdeflate_alloc_decompressor failed"))
        }
        defer { libdeflate_free_decompressor(decompressor) }
        var spare: UInt8 = 0
        var produced = 0
        // A zero-byte output still needs a valid pointer.
        let status = withUnsafeMutableBytes(of: &spare) { fallback in
            decompress(decompressor, input.baseAddress ?? UnsafeRawPointer(fallback.baseAddress!), input.count,
                       output.baseAddress ?? fallback.baseAddress!, output.count, &produced)
        }
        switch status {
        case LIBDEFLATE_SUCCESS:
            guard produced == output.count else {
                throw FormatError(file: file, .truncated(at: .key(member), needed: output.count, available: produced, what: "the inflated data"))
            }
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            throw FormatError(file: file, .malformed(at: .key(member), expected: "\(output.count) inflated bytes", found: "more"))
        default:
            throw FormatError(file: file, .malformed(at: .key(member), expected: what, found: "libdeflate: corrupt or truncated data"))
        }
    }

    /// Inflates at most `limit` bytes from the start of a stream (no CRC check):
    /// enough to read a header without inflating the whole member.
    static func inflatePrefix(_ input: UnsafeRawBufferPointer, limit: Int, file: String, member: String) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: limit)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "a usable zlib", found: "inflateInit2 failed"))
        }
        defer { inflateEnd(&stream) }
        guard limit > 0, let inputBase = input.baseAddress else { return [] }
        stream.next_in = UnsafeMutablePointer(mutating: inputBase.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(min(input.count, 1 << 30))
        let status = output.withUnsafeMutableBytes { out in
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(limit)
            return CZlib.inflate(&stream, Z_SYNC_FLUSH)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw FormatError(file: file, .malformed(at: .key(member), expected: "a valid deflate stream", found: message))
        }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Compresses `input` as raw DEFLATE at `level` (1 fast … 9 small).
    static func deflate(_ input: UnsafeRawBufferPointer, level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError(file: "", .writeFailed(message: "deflateInit2 failed"))
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        let chunk = 1 << 30
        var consumed = 0
        var status = Z_OK
        output.withUnsafeMutableBytes { out in
            while status == Z_OK || status == Z_BUF_ERROR {
                if stream.avail_in == 0 && consumed < input.count {
                    let size = min(chunk, input.count - consumed)
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = UInt32(size)
                    consumed += size
                }
                let produced = Int(stream.total_out)
                stream.next_out = out.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(min(chunk, out.count - produced))
                status = CZlib.deflate(&stream, consumed >= input.count ? Z_FINISH : Z_NO_FLUSH)
                if status == Z_BUF_ERROR && stream.avail_out != 0 { break }
            }
        }
        guard status == Z_STREAM_END else { throw FormatError(file: "", .writeFailed(message: "deflate failed with status \(status)")) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// CRC-32 (ISO 3309) of `bytes`, continuing from `initial` (libdeflate's, ~5x zlib's).
    static func crc32(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return initial }
        return libdeflate_crc32(initial, base, bytes.count)
    }

    static func crcText(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
