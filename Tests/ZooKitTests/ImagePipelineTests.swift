import Foundation
import Testing
import ZooFormat
@testable import ZooKit

/// The image pipeline against PIL 13.0 and torchvision 0.29 on the same files
/// (`Tests/Fixtures/images/make_fixtures.py`; a real photo: scikit-image's `chelsea`, CC0).
@Suite struct ImagePipelineTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let expected: TensorArchive? = try? TensorArchive.open(path("expected.npz"))

    /// PIL's samples for `name`, and their shape `[H, W, C]`.
    static func pil(_ name: String) throws -> (samples: [UInt8], shape: [Int]) {
        let tensor = try #require(expected).tensor(named: name)
        return (try tensor.floats().map { UInt8($0) }, tensor.shape)
    }

    static func maxDifference(_ buffer: PixelBuffer, _ name: String) throws -> Int {
        let (samples, shape) = try pil(name)
        #expect([buffer.height, buffer.width, buffer.channels] == shape)
        guard buffer.samples.count == samples.count else { return .max }
        return zip(buffer.samples, samples).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    /// torchvision `Resize(256)` + `CenterCrop(224)` (PIL bilinear, antialiased): chelsea 451×300
    /// → 384×256 → 224×224; rocket 640×427 → 383×256 → 224×224. Measured maximum difference: 0.
    @Test(arguments: [("chelsea.png", "chelsea_tv"), ("rocket.jpg", "rocket_tv")])
    func torchvisionResizeAndCenterCrop(_ file: String, _ name: String) throws {
        let pipeline = ImagePipeline(colors: .rgb, resize: .shorterSide(256), crop: (224, 224))
        let buffer = pipeline.pixels(try ImageReader.read(Self.path(file)))
        #expect(try Self.maxDifference(buffer, name) == 0)
    }

    /// `Image.resize((W, H), BILINEAR)`: a downscale (support widened), a gray one after
    /// `convert("L")`, and an upscale (support 1). Measured maximum difference: 0.
    @Test func pilBilinearResize() throws {
        let chelsea = try ImageReader.read(Self.path("chelsea.png"))
        let rgb = ImagePipeline(colors: .rgb, resize: .size(height: 64, width: 64)).pixels(chelsea)
        #expect(try Self.maxDifference(rgb, "chelsea_64") == 0)
        let gray = ImagePipeline(colors: .gray, resize: .size(height: 48, width: 40)).pixels(chelsea)
        #expect(try Self.maxDifference(gray, "chelsea_L_48x40") == 0)
        let small = try ImageReader.read(Self.path("rgb.png"))
        let up = ImagePipeline(colors: .rgb, resize: .size(height: 50, width: 70)).pixels(small)
        #expect(try Self.maxDifference(up, "small_up_50x70") == 0)
    }

    /// `convert("RGB")` and `convert("L")` from RGBA, palette and CMYK, to the bit.
    @Test func pilConversions() throws {
        let rgba = try ImageReader.read(Self.path("rgba.png"))
        #expect(try Self.maxDifference(ImageConversion.convert(rgba, to: .gray), "rgba.png_L") == 0)
        #expect(try Self.maxDifference(ImageConversion.convert(rgba, to: .rgb), "rgba.png_RGB") == 0)
        let palette = try ImageReader.read(Self.path("palette.png"))
        #expect(try Self.maxDifference(ImageConversion.convert(palette, to: .gray), "palette.png_L") == 0)
        let cmyk = try ImageReader.read(Self.path("cmyk.jpg"))
        #expect(try Self.maxDifference(ImageConversion.convert(cmyk, to: .rgb), "cmyk.jpg_rgb") == 0)
    }

    @Test func centerCropRoundsHalvesToEven() {
        // 5 − 2 = 3 rows over: top = round(1.5) = 2; 4 − 2 = 2 columns over: left = 1.
        let buffer = PixelBuffer(width: 4, height: 5, channels: 1, samples: (0..<20).map(UInt8.init))
        let crop = ImagePipeline.centerCrop(buffer, height: 2, width: 2)
        #expect(crop.samples == [9, 10, 13, 14])
        #expect(ImagePipeline.shorterSideSize(width: 451, height: 300, side: 256) == (384, 256))
        #expect(ImagePipeline.shorterSideSize(width: 427, height: 640, side: 256) == (256, 383))
    }

    @Test func manifestImageSettings() throws {
        let torchvision = try JSONDecoder().decode(ImageSpec.self, from: Data(#"{"resize": 256, "crop": 224, "interpolation": "bilinear"}"#.utf8))
        #expect(torchvision == ImageSpec(resize: .shorterSide(256), crop: [224, 224], interpolation: .bilinear))
        let fixed = try JSONDecoder().decode(ImageSpec.self, from: Data(#"{"resize": [64, 48]}"#.utf8))
        #expect(fixed == ImageSpec(resize: .size(height: 64, width: 48)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(torchvision), as: UTF8.self) == #"{"crop":224,"interpolation":"bilinear","resize":256}"#)
        #expect(String(decoding: try encoder.encode(fixed), as: UTF8.self) == #"{"resize":[64,48]}"#)

        let pipeline = try ImagePipeline(input: InputSpec(shape: [224, 224, 3], image: torchvision))
        #expect(pipeline == ImagePipeline(colors: .rgb, resize: .shorterSide(256), crop: (224, 224)))
        // Without image settings: straight to the input's height × width; one channel is gray.
        #expect(try ImagePipeline(input: InputSpec(shape: [28, 28, 1])) == ImagePipeline(colors: .gray, resize: .size(height: 28, width: 28)))
        #expect(ImagePipeline.problem(torchvision, inputShape: [128, 128, 3]) == "crop [224, 224] differs from the input's [height, width] [128, 128]")
        #expect(ImagePipeline.problem(ImageSpec(resize: .shorterSide(200), crop: [224, 224]), inputShape: [224, 224, 3])
                == "crop [224, 224] is larger than the resized shorter side 200")
        #expect(ImagePipeline.problem(fixed, inputShape: [784])
                == "the input [784] is not a picture's shape ([H, W, 3], [H, W, 1] or [H, W]; [N] with a final h × w, N = h·w or h·w·3)")
        #expect(throws: ZooKitError.self) { try ImagePipeline(input: InputSpec(shape: [784])) }
        // A flat input (an MLP on 28×28 gray pictures) with its final size given.
        let mlp = try ImagePipeline(input: InputSpec(shape: [784], image: ImageSpec(resize: .size(height: 28, width: 28))))
        #expect(mlp == ImagePipeline(colors: .gray, resize: .size(height: 28, width: 28)))
        let rgbMLP = try ImagePipeline(input: InputSpec(shape: [192], image: ImageSpec(resize: .shorterSide(10), crop: [8, 8])))
        #expect(rgbMLP == ImagePipeline(colors: .rgb, resize: .shorterSide(10), crop: (8, 8)))
    }
}
