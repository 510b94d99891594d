/// One member of a zip archive (a Python wheel, an `.npz`) written to a file of its own,
/// CRC-checked, its inflated size bounded by the sizes the directory declares and by a
/// compression-ratio check, atomically.
public enum ZipExtraction {
    /// The archive's member names, in directory order.
    /// - Throws: ``FormatError`` for a file that is not a readable zip.
    public static func memberNames(of archive: String) throws -> [String] {
        let file = try MappedFile(path: archive)
        return try ZipDirectory(ByteReader(file.bytes, file: archive)).entries.map(\.name)
    }

    /// Writes member `name` of `archive` to `destination` (temporary file + rename).
    /// - Returns: the member's size in bytes.
    /// - Throws: ``FormatError`` — `.malformed` at the member's name when the archive has no such
    ///   member (naming a few it has), `.checksumMismatch`, `.truncated`, `.writeFailed`.
    @discardableResult
    public static func extract(member name: String, from archive: String, to destination: String) throws -> Int {
        let file = try MappedFile(path: archive)
        let directory = try ZipDirectory(ByteReader(file.bytes, file: archive))
        guard let entry = directory.entries.first(where: { $0.name == name }) else {
            let names = directory.entries.map(\.name)
            throw FormatError(file: archive, .malformed(
                at: .key(name), expected: "a member named \(name)",
                found: "\(names.count) members: " + names.prefix(6).joined(separator: ", ") + (names.count > 6 ? ", …" : "")))
        }
        let bytes = try entry.bytes(in: file)
        try withExtendedLifetime(file) {
            let output = try AtomicFile(destination: destination)
            try bytes.withUnsafeBytes { try output.write($0) }
            try output.commit()
        }
        return entry.uncompressedSize
    }
}
