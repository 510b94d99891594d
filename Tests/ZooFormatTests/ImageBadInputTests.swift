import Foundation
import Testing
@testable import ZooFormat

/// Truncated, corrupt, unsupported and oversized pictures: a `FormatError` naming the file, never a crash.
@Suite struct ImageBadInputTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: ImageFixtures.path(name))))
    }

    static func decode(_ bytes: [UInt8], _ name: String = "picture") throws -> DecodedImage {
        try bytes.withUnsafeBytes { try ImageReader.decode($0, file: name) }
    }

    static func failure(_ bytes: [UInt8], _ name: String = "picture") -> FormatError? {
        do {
            _ = try decode(bytes, name)
            return nil
        } catch {
            return error as? FormatError
        }
    }

    @Test func truncatedPNG() throws {
        let png = try Self.fixture("rgb.png")
        for length in [20, 40, png.count / 2, png.count - 20] {
            let error = try #require(Self.failure(Array(png.prefix(length)), "cut.png"))
            #expect(error.file == "cut.png")
            guard case .truncatedImage(let format, _) = error.reason else {
                Issue.record("\(length) bytes: \(error)")
                continue
            }
            #expect(format == "PNG")
            #expect(error.exitCode == 65)
        }
    }

    @Test func truncatedJPEG() throws {
        for name in ["baseline.jpg", "progressive.jpg"] {
            let jpeg = try Self.fixture(name)
            for length in [4, 100, jpeg.count / 2, jpeg.count - 10] {
                let error = try #require(Self.failure(Array(jpeg.prefix(length)), "cut.jpg"), "\(name) cut at \(length) decoded")
                guard case .truncatedImage(let format, _) = error.reason else {
                    Issue.record("\(name) cut at \(length): \(error)")
                    continue
                }
                #expect(format == "JPEG")
                #expect(error.description.hasPrefix("cut.jpg: truncated JPEG image: "))
            }
        }
    }

    @Test func corruptPNGData() throws {
        var png = try Self.fixture("rgb.png")
        // The first IDAT's data: after the signature (8), IHDR (25) and the IDAT's length and type (8).
        let idat = try #require((8..<png.count - 4).first { png[$0..<$0 + 4].elementsEqual("IDAT".utf8) })
        png[idat + 10] ^= 0xFF
        let error = try #require(Self.failure(png))
        // zlib fails on the damaged stream before libpng reaches the chunk's CRC.
        #expect(error.description == "picture: corrupt PNG image: libpng: IDAT: invalid code lengths set")
    }

    @Test func corruptJPEGHeader() throws {
        var jpeg = try Self.fixture("baseline.jpg")
        // The start-of-frame's component count, made 0.
        let sof = try #require((2..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 9] = 0
        let error = try #require(Self.failure(jpeg))
        guard case .corruptImage(format: "JPEG", let detail) = error.reason else {
            Issue.record("\(error)")
            return
        }
        #expect(detail.hasPrefix("libjpeg: "))
    }

    @Test func unsupportedTypesAreNamed() {
        let cases: [([UInt8], String)] = [
            (Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0], "unsupported image type: a GIF image (Zoo decodes PNG and JPEG)"),
            (Array("RIFF\u{10}\0\0\0WEBPVP8 ".utf8), "unsupported image type: a WebP image (Zoo decodes PNG and JPEG)"),
            (Array("BM".utf8) + [UInt8](repeating: 0, count: 20), "unsupported image type: a BMP image (Zoo decodes PNG and JPEG)"),
            (Array("II*\0".utf8) + [8, 0, 0, 0], "unsupported image type: a TIFF image (Zoo decodes PNG and JPEG)"),
            (Array("hello, world".utf8), "unsupported image type: not PNG or JPEG (starts with 68 65 6C 6C 6F 2C 20 77) (Zoo decodes PNG and JPEG)"),
        ]
        for (bytes, message) in cases {
            #expect(Self.failure(bytes)?.message == message)
            #expect(Self.failure(bytes)?.exitCode == 65)
        }
        #expect(Self.failure([])?.reason == .empty)
    }

    /// A PNG header announcing 100000 × 100000 RGBA (4·10^10 bytes): refused from the header,
    /// before any pixel buffer is allocated (the file holds no pixel data at all).
    @Test func hugeHeaderRefusedBeforeAllocating() throws {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            let crc = body.withUnsafeBytes { Deflate.crc32($0, initial: 0) }
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
        }
        func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        let header = bigEndian(100_000) + bigEndian(100_000) + [8, 6, 0, 0, 0]
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00])
        let error = try #require(Self.failure(png, "huge.png"))
        #expect(error.reason == .imageTooLarge(width: 100_000, height: 100_000, limit: 1 << 28))
        #expect(error.description == "huge.png: the header announces a 100000×100000 image: 100000·100000·4 bytes is more than Zoo's limit of 268435456 bytes per image (refused before decoding)")
        // The largest picture allowed: 8192 × 8192.
        #expect(8192 * 8192 * 4 == DecodedImage.maximumBytes)
    }

    @Test func missingFile() {
        #expect(throws: FormatError(file: "/nonexistent/cat.jpg", .notFound)) { try ImageReader.read("/nonexistent/cat.jpg") }
    }
}
