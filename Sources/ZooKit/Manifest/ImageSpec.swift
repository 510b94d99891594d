/// How a picture becomes the model's input (the manifest's optional `input.image`), before
/// ``Preprocessing``: converted to RGB (or to gray for a 1-channel model), resized with PIL's
/// antialiased bilinear filter, then center-cropped:
///
///     {"resize": 256, "crop": 224}                 // torchvision: shorter side to 256, center 224×224
///     {"resize": [64, 64], "interpolation": "bilinear"}   // straight to 64×64 (height, width)
///
/// Without it a picture is resized straight to the model's input height × width. The final
/// size (the crop, or the resize without a crop) must be the input shape's `[H, W]`.
public struct ImageSpec: Codable, Sendable, Equatable {
    /// The first step's target.
    public enum Resize: Codable, Sendable, Equatable {
        /// The shorter side to this many pixels, the longer one `⌊S · long / short⌋` (torchvision's `Resize(S)`).
        case shorterSide(Int)
        /// Exactly `height × width` (JSON `[height, width]`), the aspect ratio not kept.
        case size(height: Int, width: Int)

        /// Decodes a number (shorter side) or `[height, width]`.
        /// - Throws: `DecodingError` for anything else.
        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let side = try? container.decode(Int.self) {
                self = .shorterSide(side)
                return
            }
            let pair = try container.decode([Int].self)
            guard pair.count == 2 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number or [height, width], found \(pair.count) numbers")
            }
            self = .size(height: pair[0], width: pair[1])
        }

        /// Encodes a number or `[height, width]`.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .shorterSide(let side): try container.encode(side)
            case .size(let height, let width): try container.encode([height, width])
            }
        }
    }

    /// The resampling filter; only PIL's `BILINEAR` (a triangle filter whose support grows with
    /// the reduction factor, so a downscale is antialiased).
    public enum Interpolation: String, Codable, Sendable {
        /// PIL's `Image.BILINEAR`, torchvision's `InterpolationMode.BILINEAR` with `antialias=True`.
        case bilinear
    }

    /// The resize (nil: straight to the crop, or to the model's input size).
    public var resize: Resize?
    /// The center crop `[height, width]` taken after the resize (JSON: a number for a square, or
    /// `[height, width]`); nil: no crop.
    public var crop: [Int]?
    /// The resampling filter (nil: bilinear).
    public var interpolation: Interpolation?

    enum CodingKeys: String, CodingKey {
        case resize, crop, interpolation
    }

    /// Image settings.
    /// - Parameters:
    ///   - resize: the resize target.
    ///   - crop: the center crop `[height, width]` after it.
    ///   - interpolation: the filter (bilinear).
    public init(resize: Resize? = nil, crop: [Int]? = nil, interpolation: Interpolation? = nil) {
        self.resize = resize
        self.crop = crop
        self.interpolation = interpolation
    }

    /// Decodes `resize`, `crop` (a number or `[height, width]`) and `interpolation`.
    /// - Throws: `DecodingError` for a value of the wrong kind.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resize = try c.decodeIfPresent(Resize.self, forKey: .resize)
        if let side = try? c.decodeIfPresent(Int.self, forKey: .crop) {
            crop = [side, side]
        } else {
            crop = try c.decodeIfPresent([Int].self, forKey: .crop)
        }
        interpolation = try c.decodeIfPresent(Interpolation.self, forKey: .interpolation)
    }

    /// Encodes the crop as a number when it is square.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(resize, forKey: .resize)
        if let crop, crop.count == 2, crop[0] == crop[1] {
            try c.encode(crop[0], forKey: .crop)
        } else {
            try c.encodeIfPresent(crop, forKey: .crop)
        }
        try c.encodeIfPresent(interpolation, forKey: .interpolation)
    }

    /// The problem with these settings for a model whose input is `height × width`, if any.
    func problem(height: Int, width: Int) -> String? {
        if let crop {
            guard crop.count == 2, crop.allSatisfy({ $0 > 0 }) else { return "crop \(crop) is not a positive size" }
            guard crop == [height, width] else { return "crop \(crop) differs from the input's [height, width] [\(height), \(width)]" }
            guard resize != nil else { return "a crop needs a resize before it" }
        }
        switch resize {
        case .shorterSide(let side):
            guard side > 0 else { return "resize \(side) is not positive" }
            guard crop != nil else { return "resize \(side) (the shorter side) needs a crop to reach [\(height), \(width)]" }
            if let crop, crop.contains(where: { $0 > side }) { return "crop \(crop) is larger than the resized shorter side \(side)" }
        case .size(let h, let w):
            guard h > 0, w > 0 else { return "resize [\(h), \(w)] is not a positive size" }
            if let crop {
                if crop[0] > h || crop[1] > w { return "crop \(crop) is larger than the resize [\(h), \(w)]" }
            } else if [h, w] != [height, width] {
                return "resize [\(h), \(w)] differs from the input's [height, width] [\(height), \(width)] (add a crop)"
            }
        case nil: break
        }
        return nil
    }
}
