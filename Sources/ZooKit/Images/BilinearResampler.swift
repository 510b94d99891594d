/// PIL's `Image.resize(size, Image.BILINEAR)` on 8-bit images, to the bit (Pillow's
/// `libImaging/Resample.c`): separable, horizontal pass first, an 8-bit image between passes.
///
/// For output pixel `i` along an axis of `inSize → outSize`: `scale = inSize / outSize`,
/// `filterscale = max(scale, 1)`, `support = 1 · filterscale` (the triangle widens with the
/// reduction: an antialiased downscale), `center = (i + 0.5) · scale`, input pixels
/// `xmin = max(⌊center − support + 0.5⌋, 0) ..< min(⌊center + support + 0.5⌋, inSize)`, weights
/// `w(x) = max(0, 1 − |(x − center + 0.5) / filterscale|)` normalized to sum 1, then rounded to
/// 22-bit fixed point; `out = clip8((Σ w·in + 2^21) >> 22)`.
public enum BilinearResampler {
    /// Fixed-point fraction bits (`32 − 8 − 2`, Pillow's `PRECISION_BITS`).
    static let precisionBits = 22

    /// `image` resized to `width × height`.
    public static func resize(_ image: PixelBuffer, width: Int, height: Int) -> PixelBuffer {
        precondition(width > 0 && height > 0, "resize to \(width)×\(height)")
        var result = image
        if width != image.width { result = horizontal(result, to: width) }
        if height != image.height { result = vertical(result, to: height) }
        return result
    }

    /// The weights of each output pixel along one axis: its first input pixel and fixed-point weights.
    static func coefficients(inSize: Int, outSize: Int) -> [(first: Int, weights: [Int32])] {
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterscale = max(scale, 1)
        let support = filterscale
        var result: [(first: Int, weights: [Int32])] = []
        result.reserveCapacity(outSize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1.0 / filterscale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var weights = [Double](repeating: 0, count: max(xmax, 0))
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let w = t < 1 ? 1 - t : 0
                weights[x] = w
                total += w
            }
            let fixed = weights.map { value -> Int32 in
                let k = total != 0 ? value / total : value
                let scaled = k * Double(1 << precisionBits)
                return Int32(k < 0 ? -0.5 + scaled : 0.5 + scaled)
            }
            result.append((xmin, fixed))
        }
        return result
    }

    /// Pillow's `clip8`: `(sum >> 22)` clamped to 0…255.
    @inline(__always) static func clip8(_ sum: Int) -> UInt8 {
        UInt8(clamping: sum >> precisionBits)
    }

    static func horizontal(_ image: PixelBuffer, to width: Int) -> PixelBuffer {
        let table = coefficients(inSize: image.width, outSize: width)
        let channels = image.channels, inWidth = image.width
        var out = [UInt8](repeating: 0, count: width * image.height * channels)
        image.samples.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<image.height {
                    let row = y * inWidth * channels
                    for (xx, entry) in table.enumerated() {
                        for c in 0..<channels {
                            var sum = 1 << (precisionBits - 1)
                            for (x, w) in entry.weights.enumerated() {
                                sum += Int(source[row + (entry.first + x) * channels + c]) * Int(w)
                            }
                            target[(y * width + xx) * channels + c] = clip8(sum)
                        }
                    }
                }
            }
        }
        return PixelBuffer(width: width, height: image.height, channels: channels, samples: out)
    }

    static func vertical(_ image: PixelBuffer, to height: Int) -> PixelBuffer {
        let table = coefficients(inSize: image.height, outSize: height)
        let stride = image.width * image.channels
        var out = [UInt8](repeating: 0, count: height * stride)
        image.samples.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (yy, entry) in table.enumerated() {
                    for i in 0..<stride {
                        var sum = 1 << (precisionBits - 1)
                        for (y, w) in entry.weights.enumerated() {
                            sum += Int(source[(entry.first + y) * stride + i]) * Int(w)
                        }
                        target[yy * stride + i] = clip8(sum)
                    }
                }
            }
        }
        return PixelBuffer(width: image.width, height: height, channels: image.channels, samples: out)
    }
}
