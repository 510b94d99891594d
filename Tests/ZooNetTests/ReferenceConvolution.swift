@testable import ZooNet

/// The convolution the kernels' tests compare against, summed in double: for `batch` NHWC maps
/// of `shape` and a kernel in the Keras layout `[kh, kw, C, K]`,
/// `t[n, i, j, k] = Σ x[n, i·sy + a·dy − top, j·sx + b·dx − left, c]·w[a, b, c, k] + bias[k]`
/// (cells outside the map count as zero), then `y = f₂(f₁(t) + addend)` with `sum`, else
/// `f₁(t)`; f as clamps `(lower, upper)`. A NaN term gives NaN whatever the clamps.
func referenceConvolution(_ shape: ConvolutionShape, batch: Int, x: [Float], kernel w: [Float], bias: [Float]?,
                          first: (lower: Float, upper: Float), sum: Bool = false,
                          second: (lower: Float, upper: Float) = (-.infinity, .infinity), addend: [Float] = []) -> [Float] {
    let s = shape, c = s.inputChannels, k = s.outputChannels
    var y = [Float](repeating: 0, count: batch * s.outputHeight * s.outputWidth * k)
    for n in 0..<batch {
        for i in 0..<s.outputHeight {
            for j in 0..<s.outputWidth {
                for o in 0..<k {
                    var total = bias.map { Double($0[o]) } ?? 0
                    for a in 0..<s.kernelHeight {
                        for b in 0..<s.kernelWidth {
                            let yy = i * s.strideHeight + a * s.dilationHeight - s.padTop
                            let xx = j * s.strideWidth + b * s.dilationWidth - s.padLeft
                            guard yy >= 0, yy < s.inputHeight, xx >= 0, xx < s.inputWidth else { continue }
                            for ch in 0..<c {
                                total += Double(x[((n * s.inputHeight + yy) * s.inputWidth + xx) * c + ch])
                                    * Double(w[((a * s.kernelWidth + b) * c + ch) * k + o])
                            }
                        }
                    }
                    let index = ((n * s.outputHeight + i) * s.outputWidth + j) * k + o
                    guard !total.isNaN else { y[index] = .nan; continue }
                    var value = Swift.min(Swift.max(Float(total), first.lower), first.upper)
                    if sum { value = Swift.min(Swift.max(value + addend[index], second.lower), second.upper) }
                    y[index] = value
                }
            }
        }
    }
    return y
}
