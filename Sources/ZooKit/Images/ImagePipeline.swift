import ZooFormat

/// A picture → the model's input: PIL/torchvision's steps, in their order and to their bit:
///
/// 1. decode (PNG/JPEG, upright: `ImageReader` (ZooFormat));
/// 2. convert to RGB, or to gray for a 1-channel model (``ImageConversion``);
/// 3. resize with PIL's antialiased bilinear filter (``BilinearResampler``): the shorter side to
///    `S` and the longer to `⌊S · long / short⌋` (torchvision `Resize(S)`), or to `[H, W]`;
/// 4. center-crop `[h, w]` at `top = round((H − h) / 2)`, `left = round((W − w) / 2)`
///    (Python's round: halves to even; torchvision `CenterCrop`);
/// 5. floats 0…255, `H × W × C` (NHWC per sample). The manifest's ``Preprocessing`` comes after
///    (``LabeledData/preprocessed(_:)``).
public struct ImagePipeline: Sendable, Equatable {
    /// RGB or gray.
    public var colors: ImageConversion.Target
    /// The resize step (nil: none).
    public var resize: ImageSpec.Resize?
    /// The center crop `(height, width)` after the resize (nil: none).
    public var crop: (height: Int, width: Int)?

    /// The pipeline of a model input: its shape `[H, W, 3]`, `[H, W, 1]` or `[H, W]` picks the
    /// colors and the final size; `input.image` the resize and crop (absent: resize to `H × W`).
    /// A flat input `[N]` (an MLP) takes pictures when `input.image` gives the final size `h × w`
    /// (a crop, or a `[h, w]` resize) and `N` is `h·w` (gray) or `h·w·3` (RGB).
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for an input that is not an image shape, or
    ///   image settings that do not reach it.
    public init(input: InputSpec) throws {
        guard let (height, width, channels) = Self.imageSize(input.shape, image: input.image) else {
            throw ZooKitError.invalidRequest("the model's input \(input.shape) is not a picture's shape ([H, W, 3], [H, W, 1] or [H, W]; "
                + "[N] with input.image giving h × w, N = h·w or h·w·3): it cannot take images")
        }
        colors = channels == 3 ? .rgb : .gray
        if let image = input.image {
            if let problem = Self.problem(image, inputShape: input.shape) { throw ZooKitError.invalidRequest("input.image: \(problem)") }
            resize = image.resize
            crop = image.crop.map { ($0[0], $0[1]) }
        } else {
            resize = .size(height: height, width: width)
            crop = nil
        }
    }

    /// A pipeline from its steps.
    /// - Parameters:
    ///   - colors: RGB or gray.
    ///   - resize: the resize (nil: none).
    ///   - crop: the center crop after it (nil: none).
    public init(colors: ImageConversion.Target, resize: ImageSpec.Resize?, crop: (height: Int, width: Int)? = nil) {
        self.colors = colors
        self.resize = resize
        self.crop = crop
    }

    /// `(H, W, C)` of an image input shape `[H, W, 3]`, `[H, W, 1]` or `[H, W]` (C 1), or of a
    /// flat `[N]` whose `image` settings end at `h × w` with `N = h·w` (C 1) or `h·w·3` (C 3).
    static func imageSize(_ shape: [Int], image: ImageSpec?) -> (Int, Int, Int)? {
        switch shape.count {
        case 1:
            let final = image?.crop ?? image.flatMap { spec -> [Int]? in
                if case .size(let h, let w)? = spec.resize { return [h, w] }
                return nil
            }
            guard let final, final.count == 2 else { return nil }
            if shape[0] == final[0] * final[1] { return (final[0], final[1], 1) }
            if shape[0] == final[0] * final[1] * 3 { return (final[0], final[1], 3) }
            return nil
        case 2: return (shape[0], shape[1], 1)
        case 3 where shape[2] == 1 || shape[2] == 3: return (shape[0], shape[1], shape[2])
        default: return nil
        }
    }

    /// The problem with `image` settings for a model input of `inputShape`, if any (the manifest's check).
    static func problem(_ image: ImageSpec, inputShape: [Int]) -> String? {
        guard let (height, width, _) = imageSize(inputShape, image: image) else {
            return "the input \(inputShape) is not a picture's shape ([H, W, 3], [H, W, 1] or [H, W]; [N] with a final h × w, N = h·w or h·w·3)"
        }
        return image.problem(height: height, width: width)
    }

    /// The output's `(height, width)` for a picture of `width × height`.
    public func outputSize(width: Int, height: Int) -> (height: Int, width: Int) {
        if let crop { return crop }
        switch resize {
        case .shorterSide(let side)?:
            let size = Self.shorterSideSize(width: width, height: height, side: side)
            return (size.height, size.width)
        case .size(let h, let w)?: return (h, w)
        case nil: return (height, width)
        }
    }

    /// torchvision's `_compute_resized_output_size`: `(width, height)` with the shorter side
    /// `side` and the longer `Int(side · long / short)` (truncated).
    static func shorterSideSize(width: Int, height: Int, side: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(side * long) / Double(short))
        return width <= height ? (side, newLong) : (newLong, side)
    }

    /// The picture's pixels through steps 2–4, 8-bit.
    public func pixels(_ image: DecodedImage) -> PixelBuffer {
        var buffer = ImageConversion.convert(image, to: colors)
        switch resize {
        case .shorterSide(let side)?:
            let size = Self.shorterSideSize(width: buffer.width, height: buffer.height, side: side)
            buffer = BilinearResampler.resize(buffer, width: size.width, height: size.height)
        case .size(let h, let w)?:
            buffer = BilinearResampler.resize(buffer, width: w, height: h)
        case nil: break
        }
        if let crop { buffer = Self.centerCrop(buffer, height: crop.height, width: crop.width) }
        return buffer
    }

    /// The picture as floats 0…255, `H × W × C` row-major.
    public func floats(_ image: DecodedImage) -> [Float] {
        pixels(image).samples.map(Float.init)
    }

    /// The picture in the file at `path` as floats 0…255, `H × W × C`.
    /// - Throws: `FormatError` naming the file (see `ImageReader` (ZooFormat)); ``ZooKitError/invalidRequest(_:)``
    ///   for a picture smaller than the crop.
    public func load(_ path: String) throws -> (values: [Float], height: Int, width: Int) {
        let image = try ImageReader.read(path)
        let result = pixels(image)
        if let crop, result.height != crop.height || result.width != crop.width {
            throw ZooKitError.invalidRequest("\(path): a \(image.width)×\(image.height) picture is smaller than the crop \(crop.width)×\(crop.height)")
        }
        return (result.samples.map(Float.init), result.height, result.width)
    }

    /// The center `height × width` of `buffer` (torchvision `CenterCrop`: offsets rounded half to
    /// even); a crop larger than the buffer keeps the whole buffer along that axis.
    static func centerCrop(_ buffer: PixelBuffer, height: Int, width: Int) -> PixelBuffer {
        let h = min(height, buffer.height), w = min(width, buffer.width)
        let top = Int((Double(buffer.height - h) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(buffer.width - w) / 2).rounded(.toNearestOrEven))
        let channels = buffer.channels
        var out = [UInt8]()
        out.reserveCapacity(h * w * channels)
        for row in top..<top + h {
            let start = (row * buffer.width + left) * channels
            out.append(contentsOf: buffer.samples[start..<start + w * channels])
        }
        return PixelBuffer(width: w, height: h, channels: channels, samples: out)
    }

    /// Compares steps (the crop tuple is not Equatable by itself).
    public static func == (a: ImagePipeline, b: ImagePipeline) -> Bool {
        a.colors == b.colors && a.resize == b.resize && a.crop?.height == b.crop?.height && a.crop?.width == b.crop?.width
    }
}
