import Testing
@testable import ZooNet

/// Direct convolutions on oneDNN's blocked layout (`BlockedActivations`, AVX2): which fused steps
/// take it, and their outputs against the same network node by node on NHWC — bit for bit, as
/// the reorders only move values and the kernel sums in the same order. On other CPUs the steps
/// stay on NHWC and the comparison still holds.
@Suite(.serialized) struct BlockedConvolutionTests {
    /// ResNet v1.5's stride-2 3×3 (conv → BN → ReLU), a lone 3×3 on a 7×7 map (where Winograd
    /// gives way to the blocked kernel), a 5×5 with an odd channel count (stays NHWC), a 3×3 into
    /// a residual add (stays NHWC: the addend would need reordering) and a 1×1 (oneDNN's 1×1
    /// kernel, as fast on NHWC).
    static func network() throws -> Network {
        let x = Input(shape: [14, 14, 16], name: "x")
        let s2 = ActivationLayer(.relu, name: "s2_relu")(BatchNorm(name: "s2_bn")(
            Conv2D(filters: 24, kernelSize: (3, 3), strides: (2, 2), padding: .same, useBias: false, name: "s2")(x)))
        let small = Conv2D(filters: 24, kernelSize: (3, 3), padding: .same, activation: .relu, name: "small")(s2)
        let odd = Conv2D(filters: 13, kernelSize: (5, 5), padding: .same, name: "odd")(small)
        let back = Conv2D(filters: 24, kernelSize: (3, 3), padding: .same, name: "back")(odd)
        let added = Add(name: "add")([back, small])
        let y = Conv2D(filters: 8, kernelSize: (1, 1), name: "pointwise")(added)
        let net = try Network(inputs: [x], outputs: [y], seed: 3)
        try net.assign("s2_bn/moving_mean", values: randomValues(24, seed: 7, scale: 0.3))
        try net.assign("s2_bn/moving_variance", values: randomValues(24, seed: 8).map { 0.5 + abs($0) })
        return net
    }

    @Test func blockedStepsMatchNodeByNode() throws {
        let net = try Self.network()
        let batch = 10  // 7×7 maps: 160 tiles, enough for Winograd on up to 6 threads
        let plan = net.plan(training: false)
        // A lone convolution is a step of its own only to run blocked ("small"; "odd" and
        // "pointwise" run as their layers).
        let names = plan.fused.map { $0.convolution.kernelVariable!.name }
        let blocked = plan.fused.map(\.runsBlocked)
        if ComputeBackend.blockedDirect && OneDNN.runsAVX2Kernels {
            #expect(names == ["s2/kernel", "small/kernel", "back/kernel"])
            #expect(blocked == [true, true, false])
            #expect(!plan.fused[1].usesWinograd(batch: batch))  // 7×7: blocked direct, not Winograd
        } else {
            // Tuning (where oneDNN runs other kernels) makes "small" a step: Winograd is a candidate.
            #expect(names == (ComputeBackend.tunesKernels ? ["s2/kernel", "small/kernel", "back/kernel"] : ["s2/kernel", "back/kernel"]))
            #expect(!blocked.contains(true))
        }
        let input = try tensor([batch, 14, 14, 16], seed: 11)
        let fused = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false  // node by node: Conv2D's own NHWC primitives
        #expect(closeness(fused.scalars, try net.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        let previous = ComputeBackend.blockedDirect
        defer { ComputeBackend.blockedDirect = previous }
        ComputeBackend.blockedDirect = false  // read when the plan's steps are made
        let nhwc = try Self.network()
        nhwc.allowsWinograd = false  // "small" as its layer would run as Winograd, not direct
        #expect(nhwc.plan(training: false).fused.allSatisfy { !$0.runsBlocked })
        let unblocked = try nhwc.predict(input, batchSize: batch).scalars
        if ComputeBackend.tunesKernels {  // each network's steps may have timed other kernels fastest
            #expect(closeness(unblocked, fused.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        } else {
            #expect(unblocked == fused.scalars)
        }
    }
}
