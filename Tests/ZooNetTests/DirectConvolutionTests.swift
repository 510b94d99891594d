import CZooKernels
import Testing
@testable import ZooNet

/// ZooNet's own direct convolution (`DirectConvolution`, AVX2 + FMA): the kernel against a
/// convolution in double (strides, dilations, asymmetric pads, a kernel that is not square, channel
/// counts that are not multiples of 8, tiles that span rows and images, a last tile of fewer
/// than 6 pixels, the bias, clamps and residual add, a NaN), and networks whose fused steps take
/// it against the same networks node by node and on oneDNN.
@Suite(.serialized) struct DirectConvolutionTests {
    struct Case {
        var batch: Int, height: Int, width: Int, channels: Int, filters: Int
        var kernel: (height: Int, width: Int)
        var strides: (y: Int, x: Int)
        var dilation: (y: Int, x: Int)
        var pads: (top: Int, bottom: Int, left: Int, right: Int)
        var bias: Bool
        var first: (lower: Float, upper: Float)
        var sum = false
        var second: (lower: Float, upper: Float) = (-.infinity, .infinity)

        var shape: ConvolutionShape {
            var s = ConvolutionShape()
            s.inputHeight = height; s.inputWidth = width; s.inputChannels = channels
            s.kernelHeight = kernel.height; s.kernelWidth = kernel.width
            s.strideHeight = strides.y; s.strideWidth = strides.x
            s.dilationHeight = dilation.y; s.dilationWidth = dilation.x
            s.padTop = pads.top; s.padBottom = pads.bottom; s.padLeft = pads.left; s.padRight = pads.right
            s.outputHeight = (height + pads.top + pads.bottom - (kernel.height - 1) * dilation.y - 1) / strides.y + 1
            s.outputWidth = (width + pads.left + pads.right - (kernel.width - 1) * dilation.x - 1) / strides.x + 1
            s.outputChannels = filters
            return s
        }
    }

    static let cases: [Case] = [
        // TF same at stride 2 on an odd map (pad 0 top/left, 1 bottom/right), bias, ReLU; 2 images
        // of 5×6 outputs: tiles span rows and the two images, the last has 0 pixels over.
        Case(batch: 2, height: 9, width: 11, channels: 19, filters: 32, kernel: (3, 3), strides: (2, 2),
             dilation: (1, 1), pads: (0, 1, 0, 1), bias: true, first: (0, .infinity)),
        // PyTorch's padding 1 at stride 2 on 7×7 (4×4 outputs: a last tile of 4), ReLU6, no bias.
        Case(batch: 1, height: 7, width: 7, channels: 16, filters: 16, kernel: (3, 3), strides: (2, 2),
             dilation: (1, 1), pads: (1, 1, 1, 1), bias: false, first: (0, 6)),
        // 3×2 kernel, strides (1, 2), dilation (2, 1), explicit pads on all sides, linear: 3 images of
        // 7×4 outputs (84 pixels, tiles of 6).
        Case(batch: 3, height: 8, width: 7, channels: 24, filters: 48, kernel: (3, 2), strides: (1, 2),
             dilation: (2, 1), pads: (2, 1, 1, 0), bias: true, first: (-.infinity, .infinity)),
        // ResNet-18's 7×7×C 3×3 (pads 1) into its residual add and ReLU, one image: 49 pixels, a
        // last tile of 1.
        Case(batch: 1, height: 7, width: 7, channels: 64, filters: 32, kernel: (3, 3), strides: (1, 1),
             dilation: (1, 1), pads: (1, 1, 1, 1), bias: true, first: (-.infinity, .infinity), sum: true,
             second: (0, .infinity)),
        // A residual add between ReLU6 and ReLU, 2 images of 5×5 (50 pixels).
        Case(batch: 2, height: 5, width: 5, channels: 16, filters: 16, kernel: (3, 3), strides: (1, 1),
             dilation: (1, 1), pads: (1, 1, 1, 1), bias: true, first: (0, 6), sum: true, second: (0, .infinity)),
    ]

    static func run(_ c: Case, x: [Float], w: [Float], b: [Float], addend: [Float]) -> [Float] {
        let direct = DirectConvolution(shape: c.shape)
        var y = c.sum ? addend : [Float](repeating: -1, count: addend.count)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        direct.run(xp.baseAddress!, kernel: wp.baseAddress!, version: 0, bias: c.bias ? bp.baseAddress! : nil,
                                   first: c.first, sum: c.sum, second: c.second, into: yp.baseAddress!,
                                   batch: c.batch)
                    }
                }
            }
        }
        return y
    }

    /// Whether this CPU runs the kernel (AVX2 and FMA); elsewhere nothing takes it.
    static var kernelRuns: Bool {
        var g = DirectConvolution.geometry(cases[0].shape, batch: 1)
        return zoo_direct_supports(&g) != 0
    }

    @Test(arguments: 0..<cases.count) func matchesTheConvolutionInDouble(index: Int) throws {
        guard Self.kernelRuns else { return }
        let c = Self.cases[index], s = c.shape
        var x = randomValues(c.batch * c.height * c.width * c.channels, seed: 1)
        let w = randomValues(c.kernel.height * c.kernel.width * c.channels * c.filters, seed: 2, scale: 0.3)
        let b = randomValues(c.filters, seed: 3, scale: 0.5)
        // A NaN in the last image's first input pixel reaches the outputs whose window holds it.
        x[(c.batch - 1) * c.height * c.width * c.channels + 5] = .nan
        let addend = randomValues(c.batch * s.outputHeight * s.outputWidth * c.filters, seed: 4)
        let want = referenceConvolution(s, batch: c.batch, x: x, kernel: w, bias: c.bias ? b : nil, first: c.first, sum: c.sum,
                                        second: c.second, addend: addend)
        let got = Self.run(c, x: x, w: w, b: b, addend: addend)
        #expect(got.count == want.count)
        #expect(zip(got, want).allSatisfy { $0.isNaN == $1.isNaN })
        #expect(want.contains { $0.isNaN } && want.contains { !$0.isNaN })
        let finite = zip(got, want).filter { !$1.isNaN }
        #expect(closeness(finite.map(\.0), finite.map(\.1), relative: 1e-5, absolute: 1e-5) <= 1)
        // The clamps did something (a wrong bound would go unseen otherwise).
        if c.first.lower == 0 || c.second.lower == 0 { #expect(got.contains(0)) }
        if c.first.upper == 6 && !c.sum { #expect(got.contains(6)) }
    }

    /// ResNet v1.5's stride-2 3×3 (conv → BN → ReLU) with TF same padding, a lone dilated 3×3
    /// with 17 filters (not whole blocks of 16: stays on oneDNN), a 5×5 with 17 input channels (a
    /// step of its own, for the kernel), a 3×3 into a residual add and a 3×3 on 8 channels (stays:
    /// too few channels for the tile's loop); the add is followed by a ReLU6, fused as f₂.
    static func network() throws -> Network {
        let x = Input(shape: [15, 15, 16], name: "x")
        let s2 = ActivationLayer(.relu, name: "s2_relu")(BatchNorm(name: "s2_bn")(
            Conv2D(filters: 32, kernelSize: (3, 3), strides: (2, 2), padding: .same, useBias: false, name: "s2")(x)))
        let dilated = Conv2D(filters: 17, kernelSize: (3, 3), dilation: (2, 2), padding: .same, activation: .relu6,
                             name: "dilated_in")(s2)
        let five = Conv2D(filters: 32, kernelSize: (5, 5), padding: .same, name: "five")(dilated)
        let back = Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, name: "back")(five)
        let added = ActivationLayer(.relu6, name: "add_relu6")(Add(name: "add")([back, s2]))
        let thin = Conv2D(filters: 8, kernelSize: (1, 1), name: "thin")(added)
        let y = Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, name: "narrow")(thin)
        let net = try Network(inputs: [x], outputs: [y], seed: 3)
        try net.assign("s2_bn/moving_mean", values: randomValues(32, seed: 7, scale: 0.3))
        try net.assign("s2_bn/moving_variance", values: randomValues(32, seed: 8).map { 0.5 + abs($0) })
        return net
    }

    @Test(arguments: [1, 3]) func directStepsMatchNodeByNodeAndOneDNN(batch: Int) throws {
        let net = try Self.network()
        net.allowsWinograd = false  // 8×8 maps: at batch 3 the 3×3s would be Winograd's
        let plan = net.plan(training: false)
        let own = Dictionary(uniqueKeysWithValues: plan.fused.map { ($0.convolution.kernelVariable!.name, $0.runsOwnDirect) })
        if ComputeBackend.ownDirect && OneDNN.runsAVX2Kernels && Self.kernelRuns {
            // "dilated_in" has 17 filters: not whole blocks of 16, so it stays on oneDNN.
            #expect(own["s2/kernel"] == true)
            #expect(own["five/kernel"] == true)
            #expect(own["back/kernel"] == true)
            #expect(own["dilated_in/kernel"] != true)
            #expect(own["narrow/kernel"] != true)
        } else {
            #expect(!own.values.contains(true))
        }
        let input = try tensor([batch, 15, 15, 16], seed: 11)
        let fused = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false  // node by node: Conv2D's own oneDNN primitives
        #expect(closeness(fused.scalars, try net.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        let previous = ComputeBackend.ownDirect
        defer { ComputeBackend.ownDirect = previous }
        ComputeBackend.ownDirect = false  // read when the plan's steps are made
        let onednn = try Self.network()
        onednn.allowsWinograd = false
        #expect(onednn.plan(training: false).fused.allSatisfy { !$0.runsOwnDirect })
        #expect(closeness(try onednn.predict(input, batchSize: batch).scalars, fused.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }
}
