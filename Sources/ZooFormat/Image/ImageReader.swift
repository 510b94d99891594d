/// Reads PNG and JPEG files into ``DecodedImage``s, the format known by the magic bytes.
///
///     let image = try ImageReader.read("cat.jpg")   // upright, 8-bit samples
///
/// Every problem is a ``FormatError`` naming the file: `.notFound`/`.unreadable`/`.empty`,
/// `.unsupportedImage` (GIF, BMP, WebP, … or any other bytes), `.imageTooLarge` (a header
/// announcing more than ``DecodedImage/maximumBytes``, refused before allocating),
/// `.corruptImage`, `.truncatedImage`.
public enum ImageReader {
    /// The decoded picture in the file at `path`.
    /// - Throws: `FormatError` (see the type's documentation).
    public static func read(_ path: String) throws -> DecodedImage {
        let file = try MappedFile(path: path)
        return try decode(file.bytes, file: path)
    }

    /// The decoded picture in `bytes` (a whole PNG or JPEG file); `file` names it in errors.
    /// - Throws: `FormatError` (see the type's documentation).
    public static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> DecodedImage {
        guard bytes.count > 0 else { throw FormatError(file: file, .empty) }
        switch ImageFileType.detect(bytes) {
        case .png: return try PNGDecoder.decode(bytes, file: file)
        case .jpeg: return try JPEGDecoder.decode(bytes, file: file)
        case nil:
            let head = Array(bytes.prefix(8))
            throw FormatError(file: file, .unsupportedImage(kind: ImageFileType.unsupportedKind(bytes) ?? "not PNG or JPEG (starts with \(hex(head)))"))
        }
    }

    /// Whether the file at `path` starts with the magic of a PNG or JPEG (false when it cannot be read).
    public static func isImage(_ path: String) -> Bool {
        guard let file = try? MappedFile(path: path) else { return false }
        return ImageFileType.detect(file.bytes) != nil
    }
}
