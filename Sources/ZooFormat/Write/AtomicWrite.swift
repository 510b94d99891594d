#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that a reader never sees half done: the bytes go to a temporary file
/// beside the destination (`.NAME.tmp-XXXXXX`, same file system), are flushed to disk with
/// `fsync`, and the temporary is renamed over the destination. A process killed at any point
/// leaves either the previous file or the new one, never a mix; a failure removes the temporary.
///
/// Every writer of Zoo goes through this (the format writers, the registry's manifests, the
/// digest cache, checkpoints), so there is one rule for durability.
public enum AtomicWrite {
    /// Writes `bytes` to `path` atomically.
    /// - Parameters:
    ///   - bytes: the file's whole content.
    ///   - path: the destination; its folder must exist.
    /// - Throws: ``FormatError`` with ``FormatError/Reason/writeFailed(message:)`` naming the
    ///   failed operation (`mkstemp`, `write`, `fsync`, `rename`) and the system's message.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try AtomicFile(destination: path)
        try file.write(bytes)
        try file.commit()
    }

    /// Puts a finished file in place: syncs `temporary` to disk and renames it over `destination`
    /// (for files written piecewise elsewhere, such as a resumable download's `.part` file).
    /// - Parameters:
    ///   - temporary: the complete file, on the same file system as `destination`.
    ///   - destination: where it goes.
    /// - Throws: ``FormatError`` with `.writeFailed` naming `open`, `fsync` or `rename`.
    public static func commit(_ temporary: String, to destination: String) throws {
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FormatError(file: destination, .writeFailed(message: "open \(temporary): \(systemMessage(errno))")) }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard synced else { throw FormatError(file: destination, .writeFailed(message: "fsync: \(systemMessage(code))")) }
        guard rename(temporary, destination) == 0 else {
            throw FormatError(file: destination, .writeFailed(message: "rename: \(systemMessage(errno))"))
        }
    }

    /// Copies the file at `source` to `destination` atomically (read through a mapping, synced before the rename).
    /// - Throws: ``FormatError`` for a source that cannot be read or a destination that cannot be written.
    public static func copy(_ source: String, to destination: String) throws {
        let mapped = try MappedFile(path: source)
        mapped.adviseSequential()
        let file = try AtomicFile(destination: destination)
        try file.write(mapped.bytes)
        try file.commit()
    }
}
