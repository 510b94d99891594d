import CZooImage

/// PNG through libpng: every color type (gray, gray+alpha, RGB, RGBA, palette) and bit depth
/// (1, 2, 4, 8, 16), interlaced or not, decoded to 8-bit gray, gray+alpha, RGB or RGBA.
///
/// libpng transforms: palettes expanded to RGB (RGBA with a tRNS chunk), gray below 8 bits
/// expanded, a tRNS color key turned into alpha, 16-bit samples reduced to their high byte. No
/// gamma correction (as PIL).
enum PNGDecoder {
    static var library: ImageLibraryCall { ImageLibraryCall(format: "PNG", header: zoo_png_info, decode: zoo_png_decode) }

    /// Decodes the PNG in `bytes`.
    /// - Throws: `FormatError` for `file`: `.imageTooLarge` (before allocating), `.corruptImage`, `.truncatedImage`.
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> DecodedImage {
        let info = try library.info(bytes, file: file)
        let layout: DecodedImage.Layout
        switch info.channels {
        case 1: layout = .gray
        case 2: layout = .grayAlpha
        case 3: layout = .rgb
        case 4: layout = .rgba
        default: throw FormatError(file: file, .corruptImage(format: "PNG", detail: "\(info.channels) channels after decoding"))
        }
        let pixels = try library.pixels(bytes, info: info, file: file)
        return DecodedImage(width: Int(info.width), height: Int(info.height), layout: layout, pixels: pixels)
    }
}
