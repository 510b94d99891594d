import ZooFormat

/// 8-bit pixels of one layout: `height × width × channels` samples, row-major; what the
/// conversions and the resampler work on.
public struct PixelBuffer: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Samples per pixel (1 gray, 3 RGB).
    public var channels: Int
    /// `height × width × channels` samples.
    public var samples: [UInt8]

    /// A buffer of `height × width × channels` samples.
    public init(width: Int, height: Int, channels: Int, samples: [UInt8]) {
        precondition(samples.count == width * height * channels, "samples do not match \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }
}

/// The color conversions of PIL's `Image.convert`, to the bit: a model takes RGB or gray.
public enum ImageConversion {
    /// The colors a model takes.
    public enum Target: String, Sendable {
        /// Red, green, blue: PIL's `convert("RGB")` (gray replicated, alpha dropped, CMYK
        /// `R = (255 − K) − MULDIV255(C, 255 − K)` with `MULDIV255(a, b) = (t + (t >> 8)) >> 8`, `t = a·b + 128`).
        case rgb
        /// Luminance: PIL's `convert("L")`, `L = (19595·R + 38470·G + 7471·B + 32768) >> 16`
        /// (ITU-R 601-2: 0.299, 0.587, 0.114 in 16-bit fixed point); alpha dropped.
        case gray

        /// Samples per pixel: 3 or 1.
        public var channels: Int { self == .rgb ? 3 : 1 }
    }

    /// `image` in `target`'s colors (`height × width × 3` or `× 1`).
    public static func convert(_ image: DecodedImage, to target: Target) -> PixelBuffer {
        let count = image.width * image.height
        let from = image.channels
        let toRGB = target == .rgb
        var out = [UInt8](repeating: 0, count: count * target.channels)
        image.pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { output in
                for index in 0..<count {
                    let p = index * from
                    let (r, g, b): (UInt8, UInt8, UInt8)
                    switch image.layout {
                    case .gray, .grayAlpha: (r, g, b) = (source[p], source[p], source[p])
                    case .rgb, .rgba: (r, g, b) = (source[p], source[p + 1], source[p + 2])
                    case .cmyk:
                        let k = 255 - Int(source[p + 3])
                        (r, g, b) = (inkToLight(source[p], k), inkToLight(source[p + 1], k), inkToLight(source[p + 2], k))
                    }
                    if toRGB {
                        output[index * 3] = r
                        output[index * 3 + 1] = g
                        output[index * 3 + 2] = b
                    } else if image.layout == .gray || image.layout == .grayAlpha {
                        output[index] = source[p]
                    } else {
                        output[index] = luminance(r, g, b)
                    }
                }
            }
        }
        return PixelBuffer(width: image.width, height: image.height, channels: target.channels, samples: out)
    }

    /// PIL's `L24`: `(19595·R + 38470·G + 7471·B + 0x8000) >> 16`.
    static func luminance(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let red: Int = Int(r) * 19595
        let green: Int = Int(g) * 38470
        let blue: Int = Int(b) * 7471
        return UInt8((red + green + blue + 0x8000) >> 16)
    }

    /// PIL's `cmyk2rgb` for one ink `c` with `k = 255 − black`: `k − MULDIV255(c, k)`.
    static func inkToLight(_ ink: UInt8, _ k: Int) -> UInt8 {
        let t = Int(ink) * k + 128
        return UInt8(clamping: k - (((t >> 8) + t) >> 8))
    }
}
