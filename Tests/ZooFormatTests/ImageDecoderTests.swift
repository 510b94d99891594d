import Foundation
import Testing
@testable import ZooFormat

/// Shared by the image tests: the fixtures of `Tests/Fixtures/images` and PIL's pixels for them
/// (`expected.npz`, written by `make_fixtures.py` with Pillow 13.0).
enum ImageFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let expected: TensorArchive? = try? TensorArchive.open(path("expected.npz"))

    /// PIL's samples for `name` and their shape (`[H, W, C]`).
    static func pil(_ name: String) throws -> (samples: [UInt8], shape: [Int]) {
        let tensor = try #require(expected).tensor(named: name)
        return (try tensor.floats().map { UInt8($0) }, tensor.shape)
    }

    /// The largest absolute difference between two sample arrays of one length.
    static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        precondition(a.count == b.count)
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }
}

/// PNG and JPEG decoding against PIL's decode of the same files.
@Suite struct ImageDecoderTests {
    @Test(arguments: [
        ("gray.png", DecodedImage.Layout.gray), ("gray_alpha.png", .grayAlpha), ("rgb.png", .rgb), ("rgba.png", .rgba),
        ("palette.png", .rgb), ("palette_transparent.png", .rgba), ("bilevel.png", .gray), ("gray16.png", .gray), ("rgb16.png", .rgb),
        ("interlaced.png", .rgb), ("interlaced16_rgba.png", .rgba),
    ])
    func pngMatchesPILExactly(_ name: String, _ layout: DecodedImage.Layout) throws {
        let image = try ImageReader.read(ImageFixtures.path(name))
        let (samples, shape) = try ImageFixtures.pil(name)
        #expect(image.layout == layout)
        #expect([image.height, image.width, image.channels] == shape)
        #expect(image.pixels == samples, "max difference \(ImageFixtures.maxDifference(image.pixels, samples))")
    }

    /// libjpeg-turbo 2.1.5 (Debian) and Pillow's bundled libjpeg-turbo decode to the same bytes:
    /// the same integer slow DCT and fancy upsampling. Measured maximum difference: 0.
    @Test(arguments: ["baseline.jpg", "progressive.jpg", "gray.jpg", "cmyk.jpg"] + (2...8).map { "orientation\($0).jpg" })
    func jpegMatchesPIL(_ name: String) throws {
        let image = try ImageReader.read(ImageFixtures.path(name))
        let (samples, shape) = try ImageFixtures.pil(name)
        #expect([image.height, image.width, image.channels] == shape)
        #expect(ImageFixtures.maxDifference(image.pixels, samples) == 0)
    }

    @Test func cmykJPEGIsInk() throws {
        let image = try ImageReader.read(ImageFixtures.path("cmyk.jpg"))
        #expect(image.layout == .cmyk)
    }

    /// Orientations 5–8 swap width and height; every one is PIL's `exif_transpose` of the same picture.
    @Test func exifOrientationIsRead() throws {
        for value in 2...8 {
            let file = try MappedFile(path: ImageFixtures.path("orientation\(value).jpg"))
            #expect(ExifOrientation.read(jpeg: file.bytes)?.rawValue == value)
            let image = try ImageReader.read(file.path)
            #expect(value >= 5 ? (image.width, image.height) == (30, 40) : (image.width, image.height) == (40, 30))
        }
        let plain = try MappedFile(path: ImageFixtures.path("baseline.jpg"))
        #expect(ExifOrientation.read(jpeg: plain.bytes) == nil)
    }

    /// A big-endian (Motorola) TIFF header, the orientation after another entry.
    @Test func exifBigEndian() {
        var tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02]
        tiff += [0x01, 0x0F, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x41, 0x42, 0x43, 0x00]  // Make, ASCII
        tiff += [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00]  // Orientation 6
        let segment: [UInt8] = Array("Exif\0\0".utf8) + tiff
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8((segment.count + 2) >> 8), UInt8((segment.count + 2) & 0xFF)] + segment + [0xFF, 0xD9]
        #expect(jpeg.withUnsafeBytes { ExifOrientation.read(jpeg: $0) } == .rotate270)
        // The IFD offset pointing past the segment: no orientation, no crash.
        var broken = jpeg
        broken[6 + 6 + 7] = 0xF0
        #expect(broken.withUnsafeBytes { ExifOrientation.read(jpeg: $0) } == nil)
        // A segment length past the file's end.
        var long = jpeg
        long[4] = 0x7F
        #expect(long.withUnsafeBytes { ExifOrientation.read(jpeg: $0) } == nil)
    }

    /// A real photo (scikit-image's `rocket`, public domain): a 96×96 window and the sum of all samples.
    @Test func photoJPEGMatchesPIL() throws {
        let image = try ImageReader.read(ImageFixtures.path("rocket.jpg"))
        #expect((image.width, image.height, image.layout) == (640, 427, .rgb))
        var window: [UInt8] = []
        for row in 150..<246 { window += image.pixels[(row * 640 + 250) * 3..<(row * 640 + 346) * 3] }
        let (samples, _) = try ImageFixtures.pil("rocket.jpg_crop")
        #expect(ImageFixtures.maxDifference(window, samples) == 0)
        let sum = try #require(ImageFixtures.expected).tensor(named: "rocket.jpg_sum").doubles()[0]
        #expect(Double(image.pixels.reduce(0) { $0 + Int($1) }) == sum)
    }

    @Test func detectionIsByMagicNotName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let misnamed = directory.appendingPathComponent("picture.jpg").path
        try FileManager.default.copyItem(atPath: ImageFixtures.path("rgb.png"), toPath: misnamed)
        #expect(ImageReader.isImage(misnamed))
        #expect(try ImageReader.read(misnamed).pixels == ImageReader.read(ImageFixtures.path("rgb.png")).pixels)
    }
}
