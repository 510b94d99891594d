/// A decoded picture: `height × width × channels` 8-bit samples, row-major (HWC), the top row
/// first, upright (a JPEG's EXIF orientation already applied).
///
/// 16-bit PNG samples are reduced to their high byte (`v >> 8`, libpng's `png_set_strip_16`, what
/// PIL does for 16-bit RGB and RGBA; PIL keeps 16-bit gray as mode `I;16`, whose `convert("L")` and
/// `convert("RGB")` clip every value above 255 to 255, which Zoo does not follow); palettes are
/// expanded to RGB, or RGBA when the palette has transparency.
public struct DecodedImage: Sendable, Equatable {
    /// What the samples of a pixel are.
    public enum Layout: String, Sendable, Equatable, CaseIterable {
        /// One sample: luminance.
        case gray
        /// Luminance, then alpha.
        case grayAlpha = "gray+alpha"
        /// Red, green, blue.
        case rgb
        /// Red, green, blue, alpha.
        case rgba
        /// Cyan, magenta, yellow, black ink (255 = full ink), from a CMYK JPEG.
        case cmyk

        /// Samples per pixel: 1, 2, 3, 4 or 4.
        public var channels: Int {
            switch self {
            case .gray: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba, .cmyk: 4
            }
        }
    }

    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// What each pixel's samples are.
    public var layout: Layout
    /// `height × width × layout.channels` samples, row-major.
    public var pixels: [UInt8]

    /// An image from its samples.
    /// - Parameters:
    ///   - width: pixels per row.
    ///   - height: rows.
    ///   - layout: the samples of a pixel.
    ///   - pixels: `height × width × layout.channels` samples, row-major.
    public init(width: Int, height: Int, layout: Layout, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * layout.channels, "pixels do not match \(width)×\(height) \(layout)")
        self.width = width
        self.height = height
        self.layout = layout
        self.pixels = pixels
    }

    /// The most bytes an image may take, checked from its header before decoding:
    /// `width × height × 4 ≤ 2^28` (256 MiB; 67,108,864 pixels, e.g. 8192 × 8192), whatever its
    /// channels, so the decoded samples and an RGB copy each stay within 2^28 bytes.
    public static let maximumBytes = 1 << 28

    /// Samples per pixel.
    public var channels: Int { layout.channels }
}
