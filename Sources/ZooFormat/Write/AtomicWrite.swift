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
