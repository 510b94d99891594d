import Foundation
import Testing
@testable import ZooNet

/// Inverted-residual blocks run depth-first (`DepthFirstBlock`): the same values as the fused
/// steps run node by node, for every stripe height, band count, padding, stride, dilation and
/// depth multiplier, with and without expansion and residual add, in place or not.
@Suite struct DepthFirstTests {
    struct Block {
        var size = (height: 11, width: 9), channels = 5
        var expansion: Int? = 12
        var kernel = 3, stride = 1, dilation = 1, multiplier = 1
        var padding = Padding.same
        var outputs = 5
        var residual = true
    }

    /// x → [1×1 expansion → BN → ReLU6] → depthwise → BN → ReLU6 → 1×1 projection → BN
    /// [→ + x] → global average pool [→ dense head], its batch norms with moving statistics of
    /// their own; outputs the pool and the block's output t, or the head.
    static func network(_ b: Block, seed: UInt64, head: Int? = nil) throws -> Network {
        let x = Input(shape: [b.size.height, b.size.width, b.channels], name: "x")
        var t = x
        if let e = b.expansion {
            t = ActivationLayer(.relu6, name: "expand_relu")(
                BatchNorm(name: "expand_bn")(Conv2D(filters: e, kernelSize: (1, 1), useBias: false, name: "expand")(t)))
        }
        t = ActivationLayer(.relu6, name: "dw_relu")(BatchNorm(name: "dw_bn")(
            DepthwiseConv2D(kernelSize: (b.kernel, b.kernel), strides: (b.stride, b.stride), dilation: (b.dilation, b.dilation),
                            depthMultiplier: b.multiplier, padding: b.padding, useBias: false, name: "dw")(t)))
        t = BatchNorm(name: "project_bn")(Conv2D(filters: b.outputs, kernelSize: (1, 1), useBias: false, name: "project")(t))
        if b.residual { t = Add(name: "add")([t, x]) }
        let y = GlobalAveragePooling2D(name: "pool")(t)
        let net = try Network(inputs: [x], outputs: head.map { [Dense(outputCount: $0, name: "head")(y)] } ?? [y, t], seed: seed)
        for (k, bn) in ["expand_bn", "dw_bn", "project_bn"].enumerated() {
            guard let n = try? net.shape(ofNode: bn).last else { continue }
            let s = seed &* 31 &+ UInt64(k) * 4
            try net.assign("\(bn)/moving_mean", values: randomValues(n, seed: s, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(n, seed: s + 1).map { 0.5 + abs($0) })
            try net.assign("\(bn)/gamma", values: randomValues(n, seed: s + 2).map { 1 + 0.3 * $0 })
            try net.assign("\(bn)/beta", values: randomValues(n, seed: s + 3, scale: 0.2))
        }
        return net
    }

    /// The block's output node by node (fused steps) and depth-first with stripes of `rows`
    /// output rows, on `batch` images; the worst difference relative to 1e-6 + 1e-6·|y|.
    /// `wholeMap`: whether fewer images than threads run on the whole map (nil: by size).
    static func compare(_ b: Block, batch: Int, rows: [Int?], seed: UInt64, wholeMap: Bool? = false) throws -> [Float] {
        let net = try network(b, seed: seed)
        let input = try tensor([batch, b.size.height, b.size.width, b.channels], seed: seed + 100)
        net.runsDepthFirst = false
        let reference = try net.predict([input])[1].scalars
        net.runsDepthFirst = true
        let blocks = net.plan(training: false).depthFirst
        #expect(blocks.count == 1)
        return try rows.map { rows in
            for block in net.plan(outputs: net.outputIndices, training: false).depthFirst {
                block.stripeRowsOverride = rows
                block.wholeMapOverride = wholeMap
            }
            let got = try net.predict([input])[1].scalars
            return closeness(got, reference, relative: 1e-6, absolute: 1e-6)
        }
    }

    /// Fewer images than threads on the whole map (`DepthFirstBlock+WholeMap.swift`): the
    /// expansion and projection on pixel runs, the depthwise convolution on row bands, the
    /// expanded map's zero rows; strides, TF `same`, 5×5, dilation, a depth multiplier.
    @Test func wholeMapMatchesNodeByNode() throws {
        let blocks = [
            Block(),
            Block(size: (7, 7), kernel: 5, residual: true),
            Block(size: (12, 7), stride: 2, padding: .same, residual: false),
            Block(size: (11, 9), stride: 2, padding: .valid, residual: false),
            Block(dilation: 2, padding: .symmetric(2)),
            Block(multiplier: 2, outputs: 7, residual: false),
        ]
        for (k, block) in blocks.enumerated() {
            for batch in [1, 3] {
                for worst in try Self.compare(block, batch: batch, rows: [nil], seed: UInt64(40 + k), wholeMap: true) {
                    #expect(worst <= 1, "block \(k) batch \(batch)")
                }
            }
        }
        let net = try Self.network(Block(), seed: 1)
        let block = try #require(net.plan(training: false).depthFirst.first)
        block.wholeMapOverride = true
        #expect(block.wholeMap(batch: 1, threads: 2) != nil && block.wholeMap(batch: 2, threads: 2) == nil)
        #expect(block.wholeMap(batch: 1, threads: 1) == nil)
        block.wholeMapOverride = nil
        // 11 rows, 3×3, two bands (rows 0–4 and 5–10) compute expanded rows 0–5 and 4–10: 2 of 11 twice, under the 0.2
        // that pays for the threads sharing the maps.
        #expect(abs(block.stripedOverlap(bands: 2) - 2.0 / 11) < 1e-12)
        #expect(block.wholeMap(batch: 1, threads: 2) == nil)
        let small = try Self.network(Block(size: (7, 7), kernel: 5), seed: 2)
        let smallBlock = try #require(small.plan(training: false).depthFirst.first)
        #expect(abs(smallBlock.stripedOverlap(bands: 2) - 4.0 / 7) < 1e-12)
        #expect(smallBlock.wholeMap(batch: 1, threads: 2) != nil, "a 7×7×12 map fits any L2; 5×5 on 7 rows repeats 4")
    }

    @Test(arguments: [1, 2, 3, 4])
    func mobileNetV2BlockMatchesNodeByNode(batch: Int) throws {
        // Stride 1 with the residual add: every stripe height from 1 to past the map.
        for worst in try Self.compare(Block(), batch: batch, rows: [1, 2, 3, 4, 7, 20, nil], seed: 1) { #expect(worst <= 1) }
    }

    /// Stride 2 with TensorFlow's `same` (the extra pad row at the bottom), PyTorch's symmetric
    /// pad, `valid`; even and odd heights.
    @Test func stridedBlocksMatchNodeByNode() throws {
        for (height, padding) in [(12, Padding.same), (11, .same), (12, .symmetric(1)), (11, .valid), (10, .explicit(top: 0, bottom: 2, left: 1, right: 0))] {
            let block = Block(size: (height, 7), stride: 2, padding: padding, residual: false)
            for batch in [1, 3] {
                for worst in try Self.compare(block, batch: batch, rows: [1, 2, 3, nil], seed: UInt64(height)) {
                    #expect(worst <= 1, "height \(height) \(padding) batch \(batch)")
                }
            }
        }
    }

    /// EfficientNet's 5×5, a dilated kernel, a depth multiplier of 2, no expansion
    /// (MobileNetV1's depthwise + pointwise pair).
    @Test func kernelsDilationMultiplierAndNoExpansionMatch() throws {
        let blocks = [
            Block(kernel: 5, stride: 2, residual: false),
            Block(kernel: 5, residual: true),
            Block(dilation: 2, padding: .symmetric(2)),
            Block(multiplier: 2, outputs: 7, residual: false),
            Block(expansion: nil, residual: true),
            Block(expansion: nil, stride: 2, padding: .symmetric(1), outputs: 8, residual: false),
            // Without expansion the depthwise convolution reads the input's rows in place where a
            // stripe needs no padding row: with `valid` every stripe does.
            Block(expansion: nil, kernel: 5, padding: .valid, outputs: 8, residual: false),
        ]
        for (k, block) in blocks.enumerated() {
            for batch in [1, 2] {
                for worst in try Self.compare(block, batch: batch, rows: [1, 3, nil], seed: UInt64(20 + k)) {
                    #expect(worst <= 1, "block \(k) batch \(batch)")
                }
            }
        }
    }

    /// Keras Applications pad before a stride-2 depthwise convolution with a `ZeroPadding2D`
    /// (`block_1_pad`, ((0, 1), (0, 1)) at 224) and a `valid` convolution: the pad folds into the
    /// convolution's pads, so the block still runs depth-first and nothing copies the padded map.
    @Test func kerasZeroPaddingFoldsIntoTheBlock() throws {
        let x = Input(shape: [12, 10, 4], name: "x")
        let expand = ActivationLayer(.relu6, name: "expand_relu")(
            BatchNorm(name: "expand_bn")(Conv2D(filters: 12, kernelSize: (1, 1), useBias: false, name: "expand")(x)))
        let padded = ZeroPadding2D(top: 0, bottom: 1, left: 0, right: 1, name: "pad")(expand)
        let dw = ActivationLayer(.relu6, name: "dw_relu")(BatchNorm(name: "dw_bn")(
            DepthwiseConv2D(kernelSize: (3, 3), strides: (2, 2), padding: .valid, useBias: false, name: "dw")(padded)))
        let y = BatchNorm(name: "project_bn")(Conv2D(filters: 6, kernelSize: (1, 1), useBias: false, name: "project")(dw))
        let net = try Network(inputs: [x], outputs: [y], seed: 11)
        try net.assign("dw_bn/moving_variance", values: randomValues(12, seed: 12).map { 0.5 + abs($0) })
        let plan = net.plan(training: false)
        #expect(plan.depthFirst.count == 1)
        #expect(plan.steps.count == 1)
        let input = try tensor([3, 12, 10, 4], seed: 13)
        let depthFirst = try net.predict(input)
        net.fusesConvolutions = false  // node by node (batch norm + ReLU6 pairs), the pad a node of its own
        #expect(net.plan(training: false).steps.count == 7)
        let reference = try net.predict(input)
        #expect(depthFirst.shape == [3, 6, 5, 6])
        #expect(closeness(depthFirst.scalars, reference.scalars, relative: 1e-6, absolute: 1e-6) <= 1)
    }

    /// Xception's separable block (ReLU → SeparableConv2D → BN → ReLU → SeparableConv2D → BN,
    /// + a strided 1×1 shortcut after a max pool; the fer mini-Xception's shape): each separable
    /// convolution with its batch norm, activation and residual add is one depth-first step,
    /// for depth multipliers 1 and 2, a dilated kernel and a `ZeroPadding2D` folded in; the
    /// values are node by node's (batch norms as their own nodes, so 1e-5: folding rounds).
    @Test(arguments: [(1, 1, Padding.same), (2, 1, .same), (1, 2, .same), (1, 1, .valid)])
    func separableConvolutionsRunDepthFirst(multiplier: Int, dilation: Int, padding: Padding) throws {
        let x = Input(shape: [13, 11, 6], name: "x")
        var t = ActivationLayer(.relu, name: "relu0")(x)
        if padding == .valid { t = ZeroPadding2D(top: dilation, bottom: dilation, left: dilation, right: dilation, name: "pad")(t) }
        t = SeparableConv2D(filters: 8, kernelSize: (3, 3), dilation: (dilation, dilation), depthMultiplier: multiplier,
                            padding: padding, useBias: false, name: "sep1")(t)
        t = ActivationLayer(.relu, name: "relu1")(BatchNorm(name: "bn1")(t))
        t = BatchNorm(name: "bn2")(SeparableConv2D(filters: 8, kernelSize: (3, 3), depthMultiplier: multiplier, padding: .same,
                                                   name: "sep2")(t))
        let shortcut = BatchNorm(name: "bn3")(Conv2D(filters: 8, kernelSize: (1, 1), name: "shortcut")(x))
        let y = GlobalAveragePooling2D(name: "pool")(Add(name: "add")([t, shortcut]))
        let net = try Network(inputs: [x], outputs: [y], seed: 30)
        for (k, bn) in ["bn1", "bn2", "bn3"].enumerated() {
            let s = UInt64(40 + 4 * k)
            try net.assign("\(bn)/moving_mean", values: randomValues(8, seed: s, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(8, seed: s + 1).map { 0.5 + abs($0) })
            try net.assign("\(bn)/gamma", values: randomValues(8, seed: s + 2).map { 1 + 0.3 * $0 })
        }
        try net.assign("sep2/bias", values: randomValues(8, seed: 39, scale: 0.5))
        let plan = net.plan(training: false)
        #expect(plan.depthFirst.count == 2)
        #expect(plan.steps.count == 5)  // relu0, shortcut (+ bn3), sep1 block, sep2 block (+ add), pool
        let input = try tensor([3, 13, 11, 6], seed: 31)
        let depthFirst = try net.predict(input)
        for block in plan.depthFirst { block.stripeRowsOverride = 2 }
        let striped = try net.predict(input)
        net.fusesConvolutions = false
        #expect(net.plan(training: false).depthFirst.isEmpty)
        let reference = try net.predict(input)
        #expect(closeness(depthFirst.scalars, reference.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        #expect(closeness(striped.scalars, reference.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }

    /// A separable convolution that trains runs as its own node (its gradient needs the
    /// depthwise output); frozen, it runs depth-first.
    @Test func trainableSeparableConvolutionRunsAsANode() throws {
        let x = Input(shape: [8, 8, 3], name: "x")
        let sep = SeparableConv2D(filters: 4, kernelSize: (3, 3), padding: .same, name: "sep")(x)
        let y = Dense(outputCount: 2, name: "head")(GlobalAveragePooling2D(name: "pool")(sep))
        let net = try Network(inputs: [x], outputs: [y], seed: 32)
        #expect(net.plan(training: true).depthFirst.isEmpty)
        try net.freeze(trainable: "head")
        #expect(net.plan(training: true).depthFirst.count == 1)
    }

    /// The residual input is another branch (not a convolution, which would take the add into
    /// its own fused step) whose last use is the add: the block writes into that branch's
    /// buffer (in place) instead of copying it.
    @Test func residualIntoAnotherBranchRunsInPlace() throws {
        let x = Input(shape: [8, 6, 4], name: "x")
        let branch = ActivationLayer(.relu, name: "branch")(x)
        let expand = ActivationLayer(.relu6, name: "expand_relu")(Conv2D(filters: 10, kernelSize: (1, 1), name: "expand")(x))
        let dw = ActivationLayer(.relu6, name: "dw_relu")(DepthwiseConv2D(kernelSize: (3, 3), padding: .same, name: "dw")(expand))
        let project = Conv2D(filters: 4, kernelSize: (1, 1), name: "project")(dw)
        let y = Add(name: "add")([project, branch])
        let net = try Network(inputs: [x], outputs: [y], seed: 4)
        let plan = net.plan(training: false)
        #expect(plan.depthFirst.count == 1)
        #expect(plan.activationSlot[plan.steps.last!.output] == plan.activationSlot[try net.nodeIndex(named: "branch")])
        let input = try tensor([3, 8, 6, 4], seed: 5)
        let depthFirst = try net.predict(input)
        plan.depthFirst[0].stripeRowsOverride = 3
        let striped = try net.predict(input)
        net.runsDepthFirst = false
        let reference = try net.predict(input)
        #expect(closeness(depthFirst.scalars, reference.scalars, relative: 1e-6, absolute: 1e-6) <= 1)
        #expect(closeness(striped.scalars, reference.scalars, relative: 1e-6, absolute: 1e-6) <= 1)
    }

    /// The expanded and depthwise maps are never stored: inference memory drops by them. A
    /// requested inner node keeps the steps apart (its value must exist).
    @Test func innerMapsAreNotStoredUnlessRequested() throws {
        let net = try Self.network(Block(size: (16, 16), channels: 4, expansion: 24, outputs: 4), seed: 6)
        let (depthFirst, _) = try net.inferenceActivationFloats()
        net.runsDepthFirst = false
        let (nodeByNode, _) = try net.inferenceActivationFloats()
        #expect(nodeByNode - depthFirst >= 16 * 16 * 24)
        net.runsDepthFirst = true
        #expect(net.plan(outputs: [try net.nodeIndex(named: "dw_relu")], training: false).depthFirst.isEmpty)
        let features = try net.predict([try tensor([2, 16, 16, 4], seed: 7)], outputs: ["dw_relu", "add"])
        #expect(features[0].shape == [2, 16, 16, 24])
    }

    /// A frozen block in training (transfer learning: a new head on a frozen base) runs
    /// depth-first too; the output and the head's gradient are what node by node gives.
    @Test func frozenBlockInTrainingMatches() throws {
        let net = try Self.network(Block(), seed: 8, head: 3)
        try net.freeze(trainable: "head")
        #expect(net.plan(training: true).depthFirst.count == 1)
        let x = try tensor([4, 11, 9, 5], seed: 9)
        let dy = try tensor([4, 3], seed: 10)
        let kernel = try #require(net.variables.first { $0.name == "head/kernel" })
        let depthFirst = try net.vectorJacobianProduct([x], outputGradient: dy, training: true).output.scalars
        let gradient = kernel.gradient.array(count: kernel.count)
        net.runsDepthFirst = false
        #expect(net.plan(training: true).depthFirst.isEmpty)
        let reference = try net.vectorJacobianProduct([x], outputGradient: dy, training: true).output.scalars
        #expect(closeness(depthFirst, reference, relative: 1e-6, absolute: 1e-6) <= 1)
        #expect(closeness(gradient, kernel.gradient.array(count: kernel.count), relative: 1e-5, absolute: 1e-6) <= 1)
    }

    /// Stripes and bands: every output row exactly once, in order within a band, and each band
    /// computes each image row it needs once (the rows it shares with the next stripe are kept).
    @Test func scheduleCoversEveryRowOnce() throws {
        for (height, stride, padding) in [(11, 1, Padding.same), (12, 2, .same), (13, 2, .valid), (9, 1, .symmetric(1))] {
            let net = try Self.network(Block(size: (height, 5), stride: stride, padding: padding, residual: stride == 1), seed: 10)
            let block = try #require(net.plan(training: false).depthFirst.first)
            let d = block.depthwise.shape
            for rows in [1, 2, 5] {
                block.stripeRowsOverride = rows
                for bands in [1, 2, 3] {
                    let schedule = block.stripes(bands: bands)
                    var covered = [Int](repeating: 0, count: d.outputHeight)
                    for band in schedule {
                        for (a, b) in zip(band, band.dropFirst()) { #expect(a.outputRow + a.rows == b.outputRow) }
                        for stripe in band { for r in stripe.outputRow..<(stripe.outputRow + stripe.rows) { covered[r] += 1 } }
                        let last = band[band.count - 1]
                        let lower = Swift.max(0, band[0].outputRow * stride - d.padTop)
                        let upper = Swift.min(height, (last.outputRow + last.rows - 1) * stride - d.padTop + d.kernelHeight)
                        #expect(band.map(\.computed).reduce(0, +) == upper - lower, "height \(height) rows \(rows) bands \(bands)")
                    }
                    #expect(covered.allSatisfy { $0 == 1 }, "height \(height) rows \(rows) bands \(bands)")
                }
            }
        }
    }
}
