#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the last reference goes.
///
/// Tensors read from formats that store raw little-endian bytes (`.npy`,
/// safetensors, stored `.npz` members) are views into this mapping: no copy is
/// made until a conversion is asked for.
public final class MappedFile: @unchecked Sendable {
    /// The path, as the user gave it.
    public let path: String
    /// The mapped bytes. Empty for an empty file (nothing is mapped then).
    public let bytes: UnsafeRawBufferPointer
    /// Set when the bytes are a buffer Zoo filled (a decompressed `.gz`), not a mapping.
    private let buffer: HeapBuffer?
    /// The open file behind the mapping (for `read(into:offset:)`), or -1.
    private let descriptor: Int32
    /// The zip CRC-32s of stored members read in place from this file (see `StoredMemberChecks`).
    let storedMembers = StoredMemberChecks()

    /// Maps `path` read-only.
    /// - Throws: `FormatError` `.notFound` or `.unreadable` with the OS's message.
    public init(path: String) throws {
        self.path = path
        buffer = nil
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw FormatError(file: path, code == ENOENT ? .notFound : .unreadable(message: systemMessage(code)))
        }
        var keep = false
        defer { if !keep { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FormatError(file: path, .unreadable(message: systemMessage(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError(file: path, .unreadable(message: "not a regular file"))
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            descriptor = -1
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw FormatError(file: path, .unreadable(message: "mmap: " + systemMessage(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
        descriptor = fd
        keep = true
    }

    /// Bytes held in memory under the name `path` (for example a decompressed `.gz` file).
    init(path: String, buffer: HeapBuffer) {
        self.path = path
        self.buffer = buffer
        descriptor = -1
        bytes = UnsafeRawBufferPointer(start: buffer.pointer, count: buffer.count)
    }

    deinit {
        if buffer == nil, let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
        if descriptor >= 0 { close(descriptor) }
    }

    /// Copies `destination.count` bytes at `offset` of the mapped file into
    /// `destination` with `pread`, without faulting the mapping's pages into this
    /// process (what a copy out of the mapping would do): one write of each byte,
    /// and the process holds one copy of the data instead of two. False (nothing
    /// guaranteed about `destination`) when the bytes are not a file mapping or a
    /// read fails; the caller then copies from `bytes`.
    func read(into destination: UnsafeMutableRawBufferPointer, offset: Int) -> Bool {
        var ignored: UInt32 = 0
        return read(into: destination, offset: offset, crc: &ignored, summing: false)
    }

    /// `read(into:offset:)` that also continues the CRC-32 `crc` over the bytes read, a
    /// block at a time while the block is still in cache (one pass over memory, not two).
    func read(into destination: UnsafeMutableRawBufferPointer, offset: Int, crc: inout UInt32) -> Bool {
        read(into: destination, offset: offset, crc: &crc, summing: true)
    }

    private func read(into destination: UnsafeMutableRawBufferPointer, offset: Int, crc: inout UInt32, summing: Bool) -> Bool {
        guard descriptor >= 0, offset >= 0, offset <= bytes.count - destination.count, let base = destination.baseAddress else { return false }
        // Blocks of 256 KiB: read, then summed while they sit in L2.
        let block = summing ? 256 << 10 : destination.count
        var done = 0
        while done < destination.count {
            let wanted = min(block, destination.count - done)
            var got = 0
            while got < wanted {
                let step = pread(descriptor, base + done + got, wanted - got, off_t(offset + done + got))
                if step < 0 && errno == EINTR { continue }
                guard step > 0 else { return false }
                got += step
            }
            if summing { crc = Deflate.crc32(UnsafeRawBufferPointer(start: base + done, count: wanted), initial: crc) }
            done += wanted
        }
        return true
    }

    /// The file's size in bytes.
    public var count: Int { bytes.count }

    /// Whether the bytes are held in memory (a decompressed `.gz`) rather than mapped from `path`.
    var isInMemory: Bool { buffer != nil }

    /// Drops the pages of `count` bytes at `offset` from this process's
    /// mapping (the data stays in the page cache and is faulted back in on
    /// the next access); for bytes read once, like compressed zip members.
    public func release(offset: Int, count: Int) {
        guard let base = bytes.baseAddress, offset >= 0, count > 0, offset <= bytes.count - count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + offset + page - 1) / page * page
        let end = (Int(bitPattern: base) + offset + count) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    /// Tells the kernel the whole file will be read in order (a hint; failures are ignored).
    public func adviseSequential() {
        if let base = bytes.baseAddress {
            _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL)
            _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_WILLNEED)
        }
    }
}

/// The C library's text for an `errno` value.
func systemMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}
