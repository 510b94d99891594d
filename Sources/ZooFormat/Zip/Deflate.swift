import CZlib

/// Raw DEFLATE (RFC 1951) through zlib, and CRC-32.
enum Deflate {
    /// DEFLATE's worst-case expansion ratio is 1032:1; a member claiming more is malformed.
    static let maximumRatio = 1032

    /// Inflates `input` into exactly `outputCount` bytes and checks the CRC-32.
    /// - Throws: `.malformed` naming `member` when the stream is corrupt, ends
    ///   early, yields a different size, or fails the CRC.
    static func inflate(_ input: UnsafeRawBufferPointer, outputCount: Int, crc expected: UInt32, file: String, member: String) throws -> TensorBytes {
        let output = HeapBuffer(count: outputCount)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "a usable zlib", found: "inflateInit2 failed"))
        }
        defer { inflateEnd(&stream) }
        var produced = 0
        var consumed = 0
        var status = Z_OK
        // zlib counts in UInt32: feed and drain in chunks of at most 1 GiB.
        let chunk = 1 << 30
        while status == Z_OK {
            if stream.avail_in == 0 && consumed < input.count {
                let size = min(chunk, input.count - consumed)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
                stream.avail_in = UInt32(size)
                consumed += size
            }
            let room = min(chunk, outputCount - produced)
            // One spare byte detects streams longer than announced.
            var spare: UInt8 = 0
            let before = stream.total_out
            if room > 0 {
                stream.next_out = output.pointer.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(room)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
            } else {
                status = withUnsafeMutablePointer(to: &spare) { pointer in
                    stream.next_out = pointer
                    stream.avail_out = 1
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                if stream.total_out > before {
                    throw FormatError(file: file, .malformed(at: .key(member), expected: "\(outputCount) inflated bytes", found: "more"))
                }
            }
            produced += Int(stream.total_out - before)
            if status == Z_BUF_ERROR && stream.avail_in == 0 && consumed >= input.count {
                throw FormatError(file: file, .truncated(at: .key(member), needed: outputCount, available: produced, what: "the inflated data"))
            }
            if status == Z_BUF_ERROR { status = Z_OK }
        }
        guard status == Z_STREAM_END else {
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw FormatError(file: file, .malformed(at: .key(member), expected: "a valid deflate stream", found: message))
        }
        guard produced == outputCount else {
            throw FormatError(file: file, .malformed(at: .key(member), expected: "\(outputCount) inflated bytes", found: "\(produced)"))
        }
        let actual = crc32(UnsafeRawBufferPointer(start: output.pointer, count: outputCount))
        guard actual == expected else {
            throw FormatError(file: file, .checksumMismatch(at: .key(member), expected: crcText(expected), found: crcText(actual)))
        }
        return output.bytes
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

    /// CRC-32 (ISO 3309) of `bytes`, continuing from `initial`.
    static func crc32(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        var crc = UInt(initial)
        var offset = 0
        while offset < bytes.count {
            let size = min(1 << 30, bytes.count - offset)
            crc = CZlib.crc32(crc, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), UInt32(size))
            offset += size
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    static func crcText(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
