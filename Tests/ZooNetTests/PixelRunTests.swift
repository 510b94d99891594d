import Testing
@testable import ZooNet

/// ResNet's bottleneck-closing 1×1 convolution with its residual add on runs of pixels
/// (`FusedPixelRuns`, AVX2): which passes take them, and the outputs against node by node and
/// against the whole-pass primitive with the sum post-op (a last run shorter than the others;
/// a ReLU6 before the add as the first activation).
@Suite(.serialized) struct PixelRunTests {
    static func network() throws -> Network {
        let x = Input(shape: [28, 28, 32], name: "x")
        let a = ActivationLayer(.relu, name: "a_relu")(BatchNorm(name: "a_bn")(
            Conv2D(filters: 16, kernelSize: (1, 1), useBias: false, name: "a")(x)))
        let b = ActivationLayer(.relu, name: "b_relu")(BatchNorm(name: "b_bn")(
            Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, useBias: false, name: "b")(a)))
        let c = BatchNorm(name: "c_bn")(Conv2D(filters: 32, kernelSize: (1, 1), useBias: false, name: "c")(b))
        let y = ActivationLayer(.relu, name: "out")(Add(name: "add")([c, x]))
        let d = ActivationLayer(.relu6, name: "d_relu6")(Conv2D(filters: 32, kernelSize: (1, 1), name: "d")(y))
        let z = Add(name: "add_2")([d, y])
        let net = try Network(inputs: [x], outputs: [z], seed: 5)
        for (bn, count) in [("a_bn", 16), ("b_bn", 16), ("c_bn", 32)] {
            try net.assign("\(bn)/moving_mean", values: randomValues(count, seed: 7, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(count, seed: 8).map { 0.5 + abs($0) })
        }
        return net
    }

    @Test func pixelRunsMatchNodeByNodeAndTheSumPostOp() throws {
        let net = try Self.network()
        let batch = 12  // 9,408 pixels: 9 runs of 1,024 (32 channels) and one of 192
        let plan = net.plan(training: false)
        let closing = plan.fused.filter { $0.sum }
        #expect(closing.count == 2)
        let expected = ComputeBackend.pixelRunSums && OneDNN.runsAVX2Kernels && WorkerPool.shared.width <= 4
        #expect(closing.allSatisfy { $0.runsOnPixelRuns(batch: batch) == expected })
        #expect(closing.allSatisfy { !$0.runsOnPixelRuns(batch: 1) })
        let input = try tensor([batch, 28, 28, 32], seed: 11)
        let runs = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false
        #expect(closeness(runs.scalars, try net.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        let previous = ComputeBackend.pixelRunSums
        defer { ComputeBackend.pixelRunSums = previous }
        ComputeBackend.pixelRunSums = false  // read when the plan's steps are made
        let whole = try Self.network()
        #expect(whole.plan(training: false).fused.allSatisfy { !$0.runsOnPixelRuns(batch: batch) })
        #expect(closeness(runs.scalars, try whole.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }
}
