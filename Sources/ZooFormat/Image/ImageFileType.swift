/// The picture formats Zoo decodes, known by their magic bytes (never by the file's extension),
/// and the ones it recognizes only to say what they are.
public enum ImageFileType: String, Sendable, Equatable {
    /// PNG: `89 50 4E 47 0D 0A 1A 0A`.
    case png
    /// JPEG: `FF D8 FF`.
    case jpeg

    /// The decodable type of a file starting with `head`, nil for anything else.
    public static func detect<C: Collection>(_ head: C) -> ImageFileType? where C.Element == UInt8 {
        let bytes = Array(head.prefix(8))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The name of a picture format Zoo recognizes but does not decode (GIF, BMP, WebP, TIFF,
    /// AVIF/HEIF, JPEG 2000, QOI), e.g. `a GIF image`; nil when `head` is none of them.
    public static func unsupportedKind<C: Collection>(_ head: C) -> String? where C.Element == UInt8 {
        let bytes = Array(head.prefix(16))
        func ascii(_ text: String, at offset: Int = 0) -> Bool {
            let want = Array(text.utf8)
            return bytes.count >= offset + want.count && Array(bytes[offset..<offset + want.count]) == want
        }
        if ascii("GIF87a") || ascii("GIF89a") { return "a GIF image" }
        if ascii("BM") && bytes.count >= 14 { return "a BMP image" }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return "a WebP image" }
        if ascii("II*\u{0}") || ascii("MM\u{0}*") { return "a TIFF image" }
        if ascii("ftypavif", at: 4) || ascii("ftypheic", at: 4) || ascii("ftypmif1", at: 4) { return "an AVIF/HEIF image" }
        if bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || bytes.starts(with: [0xFF, 0x4F, 0xFF, 0x51]) {
            return "a JPEG 2000 image"
        }
        if ascii("qoif") { return "a QOI image" }
        return nil
    }
}
