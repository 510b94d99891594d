import CZooImage

/// The two calls every C decoder of CZooImage offers (header, then pixels), made safe: the
/// header's size is bounded before the pixel buffer is allocated, and a failure becomes a
/// `FormatError` naming the file. libpng's and libjpeg's longjmp stays inside the C calls.
struct ImageLibraryCall {
    /// `zoo_png_info` or `zoo_jpeg_info`.
    typealias HeaderFunction = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<zoo_image_info>?, UnsafeMutablePointer<CChar>?, Int) -> Int32
    /// `zoo_png_decode` or `zoo_jpeg_decode`.
    typealias DecodeFunction = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>?, Int, UnsafeMutablePointer<CChar>?, Int) -> Int32

    /// `PNG` or `JPEG`, for messages.
    let format: String
    let header: HeaderFunction
    let decode: DecodeFunction

    /// The header of the file in `bytes`.
    /// - Throws: `FormatError` `.corruptImage` or `.truncatedImage` for `file`.
    func info(_ bytes: UnsafeRawBufferPointer, file: String) throws -> zoo_image_info {
        var info = zoo_image_info()
        try call(file) { message, size in
            header(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, message, size)
        }
        return info
    }

    /// The pixels of the file in `bytes` (`info.height × info.width × info.channels` samples),
    /// after checking `width × height × 4 ≤ DecodedImage.maximumBytes`.
    /// - Throws: `FormatError` `.imageTooLarge` before allocating, `.corruptImage`, `.truncatedImage`.
    func pixels(_ bytes: UnsafeRawBufferPointer, info: zoo_image_info, file: String) throws -> [UInt8] {
        let width = Int(info.width), height = Int(info.height), channels = Int(info.channels)
        guard width > 0, height > 0, (1...4).contains(channels) else {
            throw FormatError(file: file, .corruptImage(format: format, detail: "a \(width)×\(height) image with \(channels) channels"))
        }
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, product <= DecodedImage.maximumBytes / 4 else {
            throw FormatError(file: file, .imageTooLarge(width: width, height: height, limit: DecodedImage.maximumBytes))
        }
        let count = product * channels
        var status: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = message.withUnsafeMutableBufferPointer { text in
                decode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, buffer.baseAddress, count, text.baseAddress, text.count)
            }
            // On failure the buffer's contents are not used; zero them so the array is defined.
            if status != ZOO_IMAGE_OK { buffer.initialize(repeating: 0) }
            initialized = count
        }
        try check(status, message, file: file)
        return pixels
    }

    private func call(_ file: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        try check(status, message, file: file)
    }

    private func check(_ status: Int32, _ message: [CChar], file: String) throws {
        guard status != ZOO_IMAGE_OK else { return }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw FormatError(file: file, status == ZOO_IMAGE_TRUNCATED
            ? .truncatedImage(format: format, detail: text)
            : .corruptImage(format: format, detail: text))
    }
}
