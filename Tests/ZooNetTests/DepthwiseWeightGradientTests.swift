import CZooKernels
import Testing
@testable import ZooNet

/// The depthwise weight gradient (`DepthwiseWeightGradient`, ZooNet's own kernel) against the
/// definition in double: filters larger than the map, strides with TF's asymmetric padding,
/// dilation, 7×7 filters, channel counts that leave 8-wide and scalar tails, enough channels to be split
/// between threads; the AVX2 and portable paths bit for bit; and a `DepthwiseConv2D` layer's
/// gradients on this kernel against oneDNN's backward-weights primitive.
@Suite(.serialized) struct DepthwiseWeightGradientTests {
    struct Case {
        var batch: Int, height: Int, width: Int, channels: Int
        var kernel: Int, stride: Int, dilation: Int
        var pads: (top: Int, bottom: Int, left: Int, right: Int)

        var shape: ConvolutionShape {
            convolutionShape(height: height, width: width, channels: channels, outputChannels: channels, kernel: kernel,
                             stride: stride, dilation: dilation, pads: pads, groups: channels)
        }
    }

    static let cases: [Case] = [
        // A 5×5 filter on a 3×3 map, padding 2 (MobileNetV3 / EfficientNet at 96 × 96): 32 + 8 channels.
        Case(batch: 3, height: 3, width: 3, channels: 40, kernel: 5, stride: 1, dilation: 1, pads: (2, 2, 2, 2)),
        // Stride 2, TF same on an even map (extra row and column at the bottom/right): 8 + 8 + 3 channels.
        Case(batch: 2, height: 8, width: 10, channels: 19, kernel: 3, stride: 2, dilation: 1, pads: (0, 1, 0, 1)),
        // Dilation 2, uneven explicit pads, 64 channels, a non-square map.
        Case(batch: 2, height: 9, width: 7, channels: 64, kernel: 3, stride: 1, dilation: 2, pads: (2, 1, 0, 3)),
        // 1,152 channels (EfficientNet-B0's last stage): split between threads in runs of 8.
        Case(batch: 2, height: 3, width: 3, channels: 1152, kernel: 5, stride: 1, dilation: 1, pads: (2, 2, 2, 2)),
        // A 7×7 filter (ConvNeXt's): each kernel row's taps in a group of 5 and one of 2; 16 + 8 channels.
        Case(batch: 2, height: 9, width: 8, channels: 24, kernel: 7, stride: 1, dilation: 1, pads: (3, 3, 3, 3)),
        // Fewer than 8 channels: the scalar path alone.
        Case(batch: 2, height: 6, width: 6, channels: 5, kernel: 3, stride: 1, dilation: 1, pads: (1, 1, 1, 1)),
    ]

    static func inputs(_ c: Case) -> (x: [Float], dy: [Float]) {
        let s = c.shape
        let x = (0..<(c.batch * c.height * c.width * c.channels)).map { Float(($0 * 37) % 101) / 50 - 1 }
        let dy = (0..<(c.batch * s.outputHeight * s.outputWidth * c.channels)).map { Float(($0 * 53) % 89) / 44 - 1 }
        return (x, dy)
    }

    /// dW `[kh, kw, C]` and db `[C]` by the definition, in double.
    static func definition(_ c: Case, x: [Float], dy: [Float]) -> (dw: [Double], db: [Double]) {
        let s = c.shape
        var dw = [Double](repeating: 0, count: c.kernel * c.kernel * c.channels), db = [Double](repeating: 0, count: c.channels)
        for n in 0..<c.batch {
            for i in 0..<s.outputHeight {
                for j in 0..<s.outputWidth {
                    let r = ((n * s.outputHeight + i) * s.outputWidth + j) * c.channels
                    for k in 0..<c.channels { db[k] += Double(dy[r + k]) }
                    for a in 0..<c.kernel {
                        for b in 0..<c.kernel {
                            let yy = i * c.stride + a * c.dilation - c.pads.top, xx = j * c.stride + b * c.dilation - c.pads.left
                            guard yy >= 0, yy < c.height, xx >= 0, xx < c.width else { continue }
                            let source = ((n * c.height + yy) * c.width + xx) * c.channels
                            for k in 0..<c.channels { dw[(a * c.kernel + b) * c.channels + k] += Double(x[source + k]) * Double(dy[r + k]) }
                        }
                    }
                }
            }
        }
        return (dw, db)
    }

    static func run(_ c: Case, x: [Float], dy: [Float], bias: Bool) -> (dw: [Float], db: [Float]) {
        var dw = [Float](repeating: .nan, count: c.kernel * c.kernel * c.channels)
        var db = [Float](repeating: .nan, count: c.channels)
        dw.withUnsafeMutableBufferPointer { w in
            db.withUnsafeMutableBufferPointer { b in
                DepthwiseWeightGradient(shape: c.shape).run(x: x, dy: dy, batch: c.batch, weightGradient: w.baseAddress!,
                                                            biasGradient: bias ? b.baseAddress! : nil)
            }
        }
        return (dw, db)
    }

    static func close(_ got: Float, _ want: Double) -> Bool { abs(Double(got) - want) <= 1e-4 * Swift.max(1, abs(want)) }

    @Test(arguments: 0..<cases.count) func gradientsMatchTheDefinitionOnBothPaths(_ index: Int) {
        let c = Self.cases[index]
        #expect(DepthwiseWeightGradient.supports(c.shape))
        if index == 3 {
            let work = c.batch * 9 * 25 * c.channels
            #expect(WorkerPool.shared.parts(work: work, grain: WorkerPool.elementGrain) == WorkerPool.shared.width)
        }
        let (x, dy) = Self.inputs(c)
        let want = Self.definition(c, x: x, dy: dy)
        let vector = Self.run(c, x: x, dy: dy, bias: true)
        for (got, expected) in zip(vector.dw, want.dw) { #expect(Self.close(got, expected), "dW \(got) vs \(expected)") }
        for (got, expected) in zip(vector.db, want.db) { #expect(Self.close(got, expected), "db \(got) vs \(expected)") }
        zoo_kernels_force_portable(1)
        let portable = Self.run(c, x: x, dy: dy, bias: true)
        zoo_kernels_force_portable(0)
        #expect(portable.dw == vector.dw)
        #expect(portable.db == vector.db)
        let withoutBias = Self.run(c, x: x, dy: dy, bias: false)
        #expect(withoutBias.dw == vector.dw)
        #expect(withoutBias.db.allSatisfy { $0.isNaN })
    }

    /// Only one filter per channel takes this kernel.
    @Test func supportsDepthwiseOnly() {
        var s = Self.cases[0].shape
        #expect(DepthwiseWeightGradient.supports(s))
        s.outputChannels = 2 * s.inputChannels  // depth multiplier 2
        #expect(!DepthwiseWeightGradient.supports(s))
        s = Self.cases[0].shape
        s.groups = 1
        s.outputChannels = s.inputChannels
        #expect(!DepthwiseWeightGradient.supports(s))
        s = Self.cases[0].shape
        s.transposed = true
        #expect(!DepthwiseWeightGradient.supports(s))
    }

    /// A `DepthwiseConv2D` (stride 2, TF same, bias) trained one step's gradients: the own
    /// kernel's kernel and bias gradients equal oneDNN's backward-weights primitive's.
    @Test func layerGradientsEqualOneDNNs() throws {
        let batch = 4, channels = 24
        func gradients(own: Bool) throws -> (kernel: [Float], bias: [Float], input: [Float]) {
            let previous = ComputeBackend.ownDepthwiseGradient
            defer { ComputeBackend.ownDepthwiseGradient = previous }
            ComputeBackend.ownDepthwiseGradient = own
            let layer = DepthwiseConv2D(kernelSize: (3, 3), strides: (2, 2), padding: .same, name: "dw")
            let output = try layer.build(inputShape: [10, 12, channels], seed: 5)
            #expect(output == [5, 6, channels])
            try layer.prepare(batch: batch, training: true)
            let x = (0..<(batch * 10 * 12 * channels)).map { Float(($0 * 29) % 83) / 41 - 1 }
            var y = [Float](repeating: 0, count: batch * 5 * 6 * channels)
            var dy = (0..<y.count).map { Float(($0 * 31) % 71) / 35 - 1 }
            var dx = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xs in
                y.withUnsafeMutableBufferPointer { ys in
                    layer.forward(xs.baseAddress!, into: ys.baseAddress!, batch: batch, training: true)
                    dy.withUnsafeMutableBufferPointer { g in
                        dx.withUnsafeMutableBufferPointer { d in
                            layer.backward(input: xs.baseAddress!, output: ys.baseAddress!, outputGradient: g.baseAddress!,
                                           inputGradient: d.baseAddress!, batch: batch)
                        }
                    }
                }
            }
            try OneDNN.throwRecordedFailure()
            let kernel = layer.kernel!, bias = layer.bias!
            return (kernel.gradient.array(count: kernel.count), bias.gradient.array(count: bias.count), dx)
        }
        let own = try gradients(own: true), onednn = try gradients(own: false)
        #expect(closeness(own.kernel, onednn.kernel, relative: 1e-5, absolute: 1e-5) <= 1)
        #expect(closeness(own.bias, onednn.bias, relative: 1e-5, absolute: 1e-5) <= 1)
        #expect(own.input == onednn.input)
        #expect(own.kernel.contains { $0 != 0 })
    }
}
