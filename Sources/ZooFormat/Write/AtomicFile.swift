#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name beside its destination and renamed
/// over it only by `commit()`: a reader never sees a half-written file, and a
/// killed writer leaves the previous file intact (the temporary is removed on
/// any failure, or left as `.NAME.tmp-XXXXXX` if the process is killed).
final class AtomicFile {
    let destination: String
    private let temporary: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var committed = false
    /// Bytes written so far (the offset of the next write).
    private(set) var position = 0

    private static let bufferLimit = 1 << 20

    /// Creates the temporary file in the destination's directory.
    init(destination: String) throws {
        self.destination = destination
        (temporary, descriptor) = try Self.createTemporary(beside: destination)
        buffer.reserveCapacity(Self.bufferLimit)
    }

    /// Creates `DIR/.NAME.tmp-XXXXXX` beside `destination` (same file system, so a rename is atomic).
    /// - Returns: its path and an open descriptor.
    static func createTemporary(beside destination: String) throws -> (path: String, descriptor: Int32) {
        let slash = destination.lastIndex(of: "/")
        let directory = slash.map { String(destination[..<$0]) } ?? "."
        let base = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        var template = Array("\(directory.isEmpty ? "/" : directory)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FormatError(file: destination, .writeFailed(message: "cannot create a temporary file in \(directory): \(systemMessage(errno))"))
        }
        return (template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }, fd)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporary) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        position += bytes.count
        if buffer.count + bytes.count <= Self.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= Self.bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Overwrites already written bytes at `offset` (for fields known only after the data, like a CRC).
    func patch(_ bytes: [UInt8], at offset: Int) throws {
        try flush()
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == bytes.count else { throw failure("pwrite") }
    }

    /// Flushes, syncs to disk and renames the temporary file over the destination.
    func commit() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw failure("fsync") }
        // mkstemp creates 0600; give the file the usual permissions (0666 less the umask).
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        close(descriptor)
        descriptor = -1
        guard rename(temporary, destination) == 0 else { throw failure("rename") }
        committed = true
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            offset += written
        }
    }

    private func failure(_ operation: String) -> FormatError {
        FormatError(file: destination, .writeFailed(message: "\(operation): \(systemMessage(errno))"))
    }
}

extension FixedWidthInteger {
    /// The value's bytes, little-endian.
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: self.littleEndian) { Array($0) }
    }
}
