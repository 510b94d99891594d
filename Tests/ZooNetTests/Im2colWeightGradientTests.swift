import Foundation
import Testing
@testable import ZooNet

/// The im2col weight gradient of one-channel convolutions (`Im2colWeightGradient`) against the
/// definition in double: strides, dilation, padding on any side, 1 and 3 channels (the gather is
/// general), and a batch whose rows take two chunks.
@Suite struct Im2colWeightGradientTests {
    struct Case {
        var batch: Int, height: Int, width: Int, channels: Int, filters: Int
        var kernel: Int, stride: Int, dilation: Int
        var pads: (top: Int, bottom: Int, left: Int, right: Int)
        var bias: Bool

        var shape: ConvolutionShape {
            convolutionShape(height: height, width: width, channels: channels, outputChannels: filters, kernel: kernel,
                             stride: stride, dilation: dilation, pads: pads)
        }
    }

    static let cases: [Case] = [
        // TF same, stride 1, bias (the small CNN's first layer, smaller).
        Case(batch: 2, height: 7, width: 9, channels: 1, filters: 5, kernel: 3, stride: 1, dilation: 1,
             pads: (1, 1, 1, 1), bias: true),
        // 3 channels, stride 2, TF same on an even map (the extra row and column at the bottom/right).
        Case(batch: 2, height: 8, width: 8, channels: 3, filters: 4, kernel: 3, stride: 2, dilation: 1,
             pads: (0, 1, 0, 1), bias: false),
        // 5×5 dilated by 2, uneven explicit pads.
        Case(batch: 1, height: 9, width: 10, channels: 1, filters: 3, kernel: 5, stride: 1, dilation: 2,
             pads: (2, 3, 1, 0), bias: true),
        // 60 × 30 × 30 = 54,000 output rows: two chunks of col.
        Case(batch: 60, height: 32, width: 32, channels: 1, filters: 2, kernel: 3, stride: 1, dilation: 1,
             pads: (0, 0, 0, 0), bias: true),
    ]

    @Test(arguments: 0..<cases.count) func weightAndBiasGradientsMatchTheDefinition(_ index: Int) {
        let c = Self.cases[index], s = c.shape
        let rows = c.batch * s.outputHeight * s.outputWidth
        let x = (0..<(c.batch * c.height * c.width * c.channels)).map { Float(($0 * 37) % 101) / 50 - 1 }
        let dy = (0..<(rows * c.filters)).map { Float(($0 * 53) % 89) / 44 - 1 }
        let im2col = Im2colWeightGradient(shape: s)
        if index == 3 { #expect(rows > im2col.rowsPerChunk) }
        #expect(Im2colWeightGradient.supports(s) == (c.channels == 1))
        var dw = [Float](repeating: .nan, count: c.kernel * c.kernel * c.channels * c.filters)
        var db = [Float](repeating: .nan, count: c.filters)
        dw.withUnsafeMutableBufferPointer { w in
            db.withUnsafeMutableBufferPointer { b in
                im2col.run(x: x, dy: dy, batch: c.batch, weightGradient: w.baseAddress!,
                           biasGradient: c.bias ? b.baseAddress! : nil, col: FloatBuffer(count: 0), product: FloatBuffer(count: 0))
            }
        }
        var wantW = [Double](repeating: 0, count: dw.count), wantB = [Double](repeating: 0, count: c.filters)
        for n in 0..<c.batch {
            for i in 0..<s.outputHeight {
                for j in 0..<s.outputWidth {
                    let r = (n * s.outputHeight + i) * s.outputWidth + j
                    for k in 0..<c.filters { wantB[k] += Double(dy[r * c.filters + k]) }
                    for a in 0..<c.kernel {
                        for b in 0..<c.kernel {
                            let yy = i * c.stride + a * c.dilation - c.pads.top, xx = j * c.stride + b * c.dilation - c.pads.left
                            guard yy >= 0, yy < c.height, xx >= 0, xx < c.width else { continue }
                            for ch in 0..<c.channels {
                                let v = Double(x[((n * c.height + yy) * c.width + xx) * c.channels + ch])
                                for k in 0..<c.filters {
                                    wantW[((a * c.kernel + b) * c.channels + ch) * c.filters + k] += v * Double(dy[r * c.filters + k])
                                }
                            }
                        }
                    }
                }
            }
        }
        func close(_ got: Float, _ want: Double) -> Bool { abs(Double(got) - want) <= 1e-4 * Swift.max(1, abs(want)) }
        for (got, want) in zip(dw, wantW) { #expect(close(got, want), "dW \(got) vs \(want)") }
        if c.bias {
            for (got, want) in zip(db, wantB) { #expect(close(got, want), "db \(got) vs \(want)") }
        } else {
            #expect(db.allSatisfy { $0.isNaN })
        }
    }
}
