#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooFormat

// Experiment `x-libdeflate`: reads a deflated .npz the way ZooFormat does (map the
// archive, inflate each member whole into a fresh buffer of its known size, check
// its CRC-32, touch the array bytes), but with libdeflate's whole-buffer
// decompressor and CRC instead of zlib's streaming inflate. libdeflate is loaded
// with dlopen (Debian: libdeflate0; headers not needed), so the bench builds
// without it; the reader fails cleanly where it is missing.

private typealias AllocDecompressor = @convention(c) () -> OpaquePointer?
private typealias Decompress = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, Int, UnsafeMutablePointer<Int>?) -> Int32
private typealias CRC32 = @convention(c) (UInt32, UnsafeRawPointer?, Int) -> UInt32

struct LibDeflate {
    let decompressor: OpaquePointer
    fileprivate let decompress: Decompress
    fileprivate let crc32: CRC32
    /// libdeflate_zlib_decompress: a whole zlib stream (HDF5's deflate filter) in one call.
    fileprivate let zlibDecompress: Decompress

    /// Inflates the zlib stream `input` into exactly `output.count` bytes.
    func inflateZlib(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        var produced = 0
        let status = zlibDecompress(decompressor, input.baseAddress, input.count, output.baseAddress, output.count, &produced)
        guard status == 0, produced == output.count else { throw ReadError(description: "libdeflate status \(status), \(produced) of \(output.count) bytes") }
    }

    static func load() throws -> LibDeflate {
        guard let library = dlopen("libdeflate.so.0", RTLD_NOW) ?? dlopen("libdeflate.so", RTLD_NOW) else {
            throw ReadError(description: "libdeflate.so.0 not found (apt-get install libdeflate0)")
        }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let pointer = dlsym(library, name) else { throw ReadError(description: "libdeflate lacks \(name)") }
            return unsafeBitCast(pointer, to: T.self)
        }
        let alloc = try symbol("libdeflate_alloc_decompressor", AllocDecompressor.self)
        guard let decompressor = alloc() else { throw ReadError(description: "libdeflate_alloc_decompressor failed") }
        return LibDeflate(
            decompressor: decompressor,
            decompress: try symbol("libdeflate_deflate_decompress", Decompress.self),
            crc32: try symbol("libdeflate_crc32", CRC32.self),
            zlibDecompress: try symbol("libdeflate_zlib_decompress", Decompress.self))
    }
}

/// A zip member of a mapped archive, from its central directory record.
private struct Member {
    var method: Int
    var crc: UInt32
    var compressedSize: Int
    var size: Int
    var dataOffset: Int
}

private func members(_ bytes: UnsafeRawBufferPointer) throws -> [Member] {
    func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
    func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
    func u64(_ at: Int) -> Int { Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
    var end = bytes.count - 22
    while end >= 0 && u32(end) != 0x0605_4b50 { end -= 1 }
    guard end >= 0 else { throw ReadError(description: "no end of central directory") }
    var count = u16(end + 10)
    var at = u32(end + 16)
    if at == 0xFFFF_FFFF || count == 0xFFFF, end >= 20, u32(end - 20) == 0x0706_4b50 {
        let record = u64(end - 20 + 8)
        count = u64(record + 32)
        at = u64(record + 48)
    }
    var result: [Member] = []
    for _ in 0..<count {
        guard u32(at) == 0x0201_4b50 else { throw ReadError(description: "bad central directory record") }
        var member = Member(method: u16(at + 10), crc: UInt32(u32(at + 16)), compressedSize: u32(at + 20), size: u32(at + 24), dataOffset: 0)
        var localHeader = u32(at + 42)
        let nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
        // Zip64 extended information: the fields that overflowed, in this order.
        var extra = at + 46 + nameLength
        while extra + 4 <= at + 46 + nameLength + extraLength {
            let id = u16(extra), length = u16(extra + 2)
            if id == 1 {
                var field = extra + 4
                if member.size == 0xFFFF_FFFF { member.size = u64(field); field += 8 }
                if member.compressedSize == 0xFFFF_FFFF { member.compressedSize = u64(field); field += 8 }
                if localHeader == 0xFFFF_FFFF { localHeader = u64(field) }
            }
            extra += 4 + length
        }
        member.dataOffset = localHeader + 30 + u16(localHeader + 26) + u16(localHeader + 28)
        result.append(member)
        at += 46 + nameLength + extraLength + commentLength
    }
    return result
}

func libdeflateNPZ(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let library = try LibDeflate.load()
    return try withMappedFile(path) { archive in try inflateAndTouch(archive, library: library) }
}

/// Inflates every `.npy` member of a mapped `.npz` with libdeflate (CRC checked) and touches its data.
private func inflateAndTouch(_ archive: UnsafeRawBufferPointer, library: LibDeflate) throws -> (bytes: Int, sum: UInt64) {
    var bytes = 0
    var sum: UInt64 = 0
    for member in try members(archive) {
        let output = UnsafeMutableRawPointer.allocate(byteCount: max(member.size, 1), alignment: 64)
        defer { output.deallocate() }
        let input = archive.baseAddress! + member.dataOffset
        if member.method == 8 {
            var produced = 0
            let status = library.decompress(library.decompressor, input, member.compressedSize, output, member.size, &produced)
            guard status == 0, produced == member.size else { throw ReadError(description: "libdeflate status \(status)") }
        } else {
            output.copyMemory(from: input, byteCount: member.size)
        }
        guard library.crc32(0, output, member.size) == member.crc else { throw ReadError(description: "CRC mismatch") }
        // The .npy header: magic, version, header length (2 bytes in 1.0, 4 in 2.0/3.0).
        let major = output.load(fromByteOffset: 6, as: UInt8.self)
        let dataOffset = major == 1
            ? 10 + Int(output.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
            : 12 + Int(output.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        sum &+= touch(UnsafeRawBufferPointer(start: output + dataOffset, count: member.size - dataOffset))
        bytes += member.size - dataOffset
    }
    return (bytes, sum)
}
