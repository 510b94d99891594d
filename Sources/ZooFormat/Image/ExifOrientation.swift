/// The EXIF Orientation tag (0x0112 in IFD0) of a JPEG, and the transposition that makes the
/// picture upright, as PIL's `ImageOps.exif_transpose` applies it.
///
/// | value | stored picture | applied (PIL's name) |
/// |---|---|---|
/// | 1 | upright | nothing |
/// | 2 | mirrored | flip left–right |
/// | 3 | upside down | rotate 180° |
/// | 4 | upside down, mirrored | flip top–bottom |
/// | 5 | mirrored, rotated | transpose (main diagonal) |
/// | 6 | rotated | rotate 270° counter-clockwise |
/// | 7 | mirrored, rotated | transverse (anti-diagonal) |
/// | 8 | rotated | rotate 90° counter-clockwise |
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: as stored.
    case upright = 1
    /// 2: flip left–right.
    case flipLeftRight
    /// 3: rotate 180°.
    case rotate180
    /// 4: flip top–bottom.
    case flipTopBottom
    /// 5: transpose, `out[r][c] = in[c][r]`.
    case transpose
    /// 6: rotate 270° counter-clockwise (90° clockwise).
    case rotate270
    /// 7: transverse, `out[r][c] = in[h−1−c][w−1−r]`.
    case transverse
    /// 8: rotate 90° counter-clockwise.
    case rotate90

    /// The most JPEG segments looked at before the first scan (a bound against crafted files).
    static let maximumSegments = 256
    /// The most IFD0 entries looked at.
    static let maximumEntries = 512

    /// The orientation in the first `Exif` APP1 segment of the JPEG in `bytes`; nil when there is
    /// none, or the segment or the tag is malformed (the picture is then used as stored, as PIL does).
    /// Reads at most `maximumSegments` (256) segment headers (stopping at the first scan) and
    /// `maximumEntries` (512) IFD0 entries, every offset checked against the segment's end.
    public static func read(jpeg bytes: UnsafeRawBufferPointer) -> ExifOrientation? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var position = 2
        for _ in 0..<maximumSegments {
            guard position + 4 <= bytes.count, bytes[position] == 0xFF else { return nil }
            var markerAt = position + 1
            while markerAt < bytes.count, bytes[markerAt] == 0xFF { markerAt += 1 }  // fill bytes
            guard markerAt + 2 < bytes.count else { return nil }
            let marker = bytes[markerAt]
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan, end of image: no EXIF before
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                position = markerAt + 1
                continue
            }
            let length = Int(bytes[markerAt + 1]) << 8 | Int(bytes[markerAt + 2])
            let start = markerAt + 3, end = markerAt + 1 + length
            guard length >= 2, end <= bytes.count else { return nil }
            if marker == 0xE1, end - start >= 6, Array(bytes[start..<start + 6]) == Array("Exif\0\0".utf8) {
                return orientation(tiff: UnsafeRawBufferPointer(rebasing: bytes[start + 6..<end]))
            }
            position = end
        }
        return nil
    }

    /// The Orientation entry of IFD0 in a TIFF structure (`II` or `MM` byte order).
    static func orientation(tiff: UnsafeRawBufferPointer) -> ExifOrientation? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let low = u16(little ? at : at + 2), let high = u16(little ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<min(count, maximumEntries) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at), let type = u16(at + 2), let values = u32(at + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            // SHORT (3), one value, held in the entry's first two value bytes.
            guard type == 3, values >= 1, let value = u16(at + 8) else { return nil }
            return ExifOrientation(rawValue: value)
        }
        return nil
    }
}

extension DecodedImage {
    /// The picture transposed as `orientation` says (see ``ExifOrientation``): `width` and
    /// `height` swap for values 5–8.
    public func oriented(_ orientation: ExifOrientation) -> DecodedImage {
        guard orientation != .upright else { return self }
        let swaps = orientation.rawValue >= 5
        let outWidth = swaps ? height : width, outHeight = swaps ? width : height
        let channels = self.channels, w = width, h = height
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for r in 0..<outHeight {
                    for c in 0..<outWidth {
                        // The source pixel (row, column) of output pixel (r, c).
                        let (row, column): (Int, Int)
                        switch orientation {
                        case .upright: (row, column) = (r, c)
                        case .flipLeftRight: (row, column) = (r, w - 1 - c)
                        case .rotate180: (row, column) = (h - 1 - r, w - 1 - c)
                        case .flipTopBottom: (row, column) = (h - 1 - r, c)
                        case .transpose: (row, column) = (c, r)
                        case .rotate270: (row, column) = (h - 1 - c, r)
                        case .transverse: (row, column) = (h - 1 - c, w - 1 - r)
                        case .rotate90: (row, column) = (c, w - 1 - r)
                        }
                        let from = (row * w + column) * channels, to = (r * outWidth + c) * channels
                        for k in 0..<channels { target[to + k] = source[from + k] }
                    }
                }
            }
        }
        return DecodedImage(width: outWidth, height: outHeight, layout: layout, pixels: out)
    }
}
