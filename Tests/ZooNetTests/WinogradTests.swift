import CZooKernels
import Foundation
import Testing
@testable import ZooNet

/// Winograd F(2×2, 3×3): the transforms against a direct convolution in double (padding on
/// any side, channel counts that are not multiples of 8, maps whose last tile overhangs, the
/// bias / clamp / residual epilogue), the AVX2 and portable transforms bit for bit, and
/// networks whose fused steps take the Winograd path against the same networks node by node.
@Suite struct WinogradTests {
    struct Case {
        var batch: Int, height: Int, width: Int, channels: Int, filters: Int
        var pads: (top: Int, bottom: Int, left: Int, right: Int)
        var bias: Bool
        var first: (lower: Float, upper: Float)
        var sum: Bool
        var second: (lower: Float, upper: Float)

        var shape: ConvolutionShape {
            var s = ConvolutionShape()
            s.inputHeight = height; s.inputWidth = width; s.inputChannels = channels
            s.outputHeight = height + pads.top + pads.bottom - 2; s.outputWidth = width + pads.left + pads.right - 2
            s.outputChannels = filters
            s.kernelHeight = 3; s.kernelWidth = 3
            s.padTop = pads.top; s.padBottom = pads.bottom; s.padLeft = pads.left; s.padRight = pads.right
            return s
        }
    }

    static let none: (lower: Float, upper: Float) = (-.infinity, .infinity)
    static let cases: [Case] = [
        // TF same on an odd map (the last tile row and column overhang), bias, ReLU.
        Case(batch: 2, height: 7, width: 9, channels: 20, filters: 24, pads: (1, 1, 1, 1), bias: true,
             first: (0, .infinity), sum: false, second: none),
        // valid, no bias, linear, 17 filters (an AVX2 block of 16 and a tail of 1).
        Case(batch: 1, height: 8, width: 6, channels: 16, filters: 17, pads: (0, 0, 0, 0), bias: false,
             first: none, sum: false, second: none),
        // explicit asymmetric pads, 9 channels, a residual add between ReLU6 and ReLU.
        Case(batch: 3, height: 6, width: 5, channels: 9, filters: 8, pads: (0, 2, 2, 0), bias: true,
             first: (0, 6), sum: true, second: (0, .infinity)),
    ]

    static func run(_ c: Case, x: [Float], w: [Float], b: [Float], addend: [Float]) -> [Float] {
        let winograd = WinogradConvolution(shape: c.shape, scratch: WinogradScratch())
        var y = addend
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        winograd.run(xp.baseAddress!, kernel: wp.baseAddress!, version: 0, bias: c.bias ? bp.baseAddress! : nil,
                                     first: c.first, sum: c.sum, second: c.second, into: yp.baseAddress!, batch: c.batch)
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: 0..<cases.count) func matchesTheDirectConvolutionInDouble(index: Int) throws {
        let c = Self.cases[index], s = c.shape
        let x = randomValues(c.batch * c.height * c.width * c.channels, seed: 1)
        let w = randomValues(9 * c.channels * c.filters, seed: 2, scale: 0.3)
        let b = randomValues(c.filters, seed: 3, scale: 0.5)
        let addend = randomValues(c.batch * s.outputHeight * s.outputWidth * c.filters, seed: 4)
        let want = referenceConvolution(s, batch: c.batch, x: x, kernel: w, bias: c.bias ? b : nil, first: c.first, sum: c.sum,
                                        second: c.second, addend: addend)
        let got = Self.run(c, x: x, w: w, b: b, addend: addend)
        #expect(closeness(got, want, relative: 1e-5, absolute: 1e-5) <= 1)
        // The clamps did something (the test would not see a wrong lower bound otherwise).
        if c.first.lower == 0 { #expect(got.contains(0)) }
    }

    /// The AVX2 transforms compute exactly what the portable ones do (same operations, same order).
    @Test func avx2AndPortableTransformsAgreeBitForBit() throws {
        let c = Self.cases[0], s = c.shape
        let x = randomValues(c.batch * c.height * c.width * c.channels, seed: 5)
        let w = randomValues(9 * c.channels * c.filters, seed: 6, scale: 0.3)
        let b = randomValues(c.filters, seed: 7)
        let addend = [Float](repeating: 0, count: c.batch * s.outputHeight * s.outputWidth * c.filters)
        let wide = Self.run(c, x: x, w: w, b: b, addend: addend)
        zoo_kernels_force_portable(1)
        defer { zoo_kernels_force_portable(0) }
        let portable = Self.run(c, x: x, w: w, b: b, addend: addend)
        #expect(wide.count == portable.count)
        #expect(zip(wide, portable).filter { $0.bitPattern != $1.bitPattern }.count == 0)
    }

    /// A batch with at least 24 tiles per thread on an h×w map (where Winograd pays).
    static func batch(height: Int, width: Int) -> Int {
        let perImage = ((height + 1) / 2) * ((width + 1) / 2)
        return (24 * WorkerPool.shared.width + perImage - 1) / perImage + 1
    }

    /// ResNet's bottleneck middle (3×3 conv → BN → ReLU), its residual add, and DenseNet's lone
    /// 3×3 convolution into a concatenation: fused Winograd steps against node by node.
    @Test func networksOnTheWinogradPathMatchNodeByNode() throws {
        let x = Input(shape: [11, 10, 16], name: "x")
        let a = ActivationLayer(.relu, name: "a_relu")(
            BatchNorm(name: "a_bn")(Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, useBias: false, name: "a")(x)))
        let b = BatchNorm(name: "b_bn")(Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, useBias: false, name: "b")(a))
        let residual = ActivationLayer(.relu6, name: "out")(Add(name: "add")([b, x]))
        let lone = Conv2D(filters: 24, kernelSize: (3, 3), padding: .same, name: "lone")(residual)
        let y = Concatenate(name: "concat")([lone, residual])
        let net = try Network(inputs: [x], outputs: [y], seed: 4)
        for bn in ["a_bn", "b_bn"] {
            try net.assign("\(bn)/moving_mean", values: randomValues(16, seed: 7, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(16, seed: 8).map { 0.5 + abs($0) })
            try net.assign("\(bn)/gamma", values: randomValues(16, seed: 9).map { 1 + 0.3 * $0 })
            try net.assign("\(bn)/beta", values: randomValues(16, seed: 10, scale: 0.2))
        }
        let batch = Self.batch(height: 11, width: 10)
        let plan = net.plan(training: false)
        // a + bn + relu; b + bn + add + relu6; lone runs as its layer, or as a step where it can run
        // blocked (or, when tuning, as Winograd).
        let loneStep = plan.fused.contains { $0.convolution.kernelVariable?.name == "lone/kernel" }
        #expect(loneStep == (BlockedActivations.suits(plan.fused[0].shape, sum: false) || ComputeBackend.tunesKernels))
        #expect(plan.fused.count == (loneStep ? 3 : 2))
        let usesWinograd = plan.fused.prefix(2).map { $0.usesWinograd(batch: batch) }
        if ComputeBackend.winograd, OneDNN.runsAVX2Kernels {
            #expect(usesWinograd == [true, true])
        }
        if WorkerPool.shared.width > 1 {
            #expect(plan.fused.allSatisfy { !$0.usesWinograd(batch: 1) })  // 30 tiles: too few for 2+ threads
        }
        let input = try tensor([batch, 11, 10, 16], seed: 11)
        let fused = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false
        net.allowsWinograd = false  // node by node on oneDNN's direct convolutions
        let separate = try net.predict(input, batchSize: batch)
        #expect(closeness(fused.scalars, separate.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        // A weight change (folded batch norm, a kernel without one) reaches the transformed kernel.
        net.fusesConvolutions = true
        net.allowsWinograd = true
        try net.assign("b_bn/gamma", values: [Float](repeating: 0.5, count: 16))
        try net.assign("lone/bias", values: [Float](repeating: 0.25, count: 24))
        try net.assign("lone/kernel", values: randomValues(9 * 16 * 24, seed: 13, scale: 0.2))
        let changed = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false
        net.allowsWinograd = false
        #expect(closeness(changed.scalars, try net.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }

    /// Training through Winograd (forward; backward data turned 180° and transposed, with TF same,
    /// valid and asymmetric padding; the weight gradient): losses and weights after plain SGD
    /// steps (a gradient's scale matters, unlike with Adam) as on oneDNN's direct convolutions.
    @Test func trainingStepsMatchTheDirectConvolution() throws {
        func network() throws -> Network {
            let x = Input(shape: [12, 11, 16], name: "x")
            let a = Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, activation: .relu, name: "a")(x)
            let b = Conv2D(filters: 24, kernelSize: (3, 3), name: "b")(a)  // valid: backward pads 2
            let c = Conv2D(filters: 16, kernelSize: (3, 3), padding: .explicit(top: 0, bottom: 2, left: 1, right: 1),
                           activation: .relu6, name: "c")(b)
            let y = Dense(outputCount: 3, name: "head")(GlobalAveragePooling2D(name: "pool")(c))
            return try Network(inputs: [x], outputs: [y], seed: 21)
        }
        let batch = Self.batch(height: 10, width: 9)
        let data = try Dataset(inputs: tensor([batch, 12, 11, 16], seed: 22), labels: .classes((0..<batch).map { $0 % 3 }))
        let winograd = try network(), direct = try network()
        direct.allowsWinograd = false
        let lossWinograd = try winograd.fit(data, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.05), epochs: 3,
                                            batchSize: batch, shuffleSeed: nil)
        let lossDirect = try direct.fit(data, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.05), epochs: 3,
                                        batchSize: batch, shuffleSeed: nil)
        #expect(lossDirect[2].loss < lossDirect[0].loss - 1e-3)  // the steps moved the weights
        #expect(closeness(lossWinograd.map { Float($0.loss) }, lossDirect.map { Float($0.loss) }, relative: 1e-5,
                          absolute: 1e-6) <= 1)
        for (w, d) in zip(winograd.variables, direct.variables) {
            #expect(closeness(w.value.array(count: w.count), d.value.array(count: d.count), relative: 1e-4, absolute: 1e-6) <= 1,
                    "\(w.name)")
        }
        // The steps took the Winograd path (forward and backward data of every layer).
        if ComputeBackend.winograd, OneDNN.runsAVX2Kernels {
            for name in ["a", "b", "c"] {
                let core = try #require((winograd.layersByName[name] as? Conv2D)?.core)
                let forms = core.winogradForms(batch: batch)
                #expect(forms.forward && forms.backwardData, "\(name)")
            }
        }
    }
}
