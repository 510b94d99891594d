import CZooImage

/// JPEG through libjpeg(-turbo), baseline or progressive, with libjpeg's defaults (integer slow
/// DCT, fancy upsampling; what PIL uses): gray stays gray, YCbCr and RGB become RGB, CMYK and
/// YCCK become CMYK (Adobe's inverted samples turned back, 255 = full ink). The EXIF orientation
/// is applied after decoding (``ExifOrientation``).
enum JPEGDecoder {
    static var library: ImageLibraryCall { ImageLibraryCall(format: "JPEG", header: zoo_jpeg_info, decode: zoo_jpeg_decode) }

    /// Decodes the JPEG in `bytes`, upright.
    /// - Throws: `FormatError` for `file`: `.imageTooLarge` (before allocating), `.unsupportedImage`
    ///   (a precision other than 8 bits), `.corruptImage`, `.truncatedImage`.
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> DecodedImage {
        let info = try library.info(bytes, file: file)
        guard info.bit_depth == 8 else { throw FormatError(file: file, .unsupportedImage(kind: "a \(info.bit_depth)-bit JPEG")) }
        let layout: DecodedImage.Layout
        switch info.channels {
        case 1: layout = .gray
        case 3: layout = .rgb
        case 4: layout = .cmyk
        default: throw FormatError(file: file, .unsupportedImage(kind: "a JPEG with \(info.channels) components"))
        }
        var pixels = try library.pixels(bytes, info: info, file: file)
        if layout == .cmyk, info.inverted_cmyk != 0 {
            for index in pixels.indices { pixels[index] = 255 - pixels[index] }
        }
        let image = DecodedImage(width: Int(info.width), height: Int(info.height), layout: layout, pixels: pixels)
        return ExifOrientation.read(jpeg: bytes).map { image.oriented($0) } ?? image
    }
}
