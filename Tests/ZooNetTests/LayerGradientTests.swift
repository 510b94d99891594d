import Testing
@testable import ZooNet

/// Finite-difference checks of every layer's backward pass (MSE on random targets).
@Suite struct LayerGradientTests {
    static let activations: [Activation] = [
        .linear, .relu, .leakyReLU(alpha: 0.01), .leakyReLU(alpha: 0.3), .elu(alpha: 1), .elu(alpha: 0.5),
        .selu, .sigmoid, .tanh, .softmax,
    ]

    @Test(arguments: activations) func denseWithFusedActivation(_ activation: Activation) throws {
        let net = try Sequential(inputShape: [5], layers: [
            Dense(outputCount: 4, activation: activation, biasInitializer: .constant(0.1)),
        ], seed: 11)
        try checkGradients(net, regressionData(net, batch: 3, seed: 2), loss: .meanSquaredError)
    }

    @Test(arguments: activations) func activationLayer(_ activation: Activation) throws {
        let net = try Sequential(inputShape: [6], layers: [Dense(outputCount: 4), ActivationLayer(activation)], seed: 5)
        try checkGradients(net, regressionData(net, batch: 4, seed: 3), loss: .meanSquaredError)
    }

    @Test func batchNormTrainingMode() throws {
        let net = try Sequential(inputShape: [5], layers: [
            Dense(outputCount: 4), BatchNorm(momentum: 0.9), ActivationLayer(.elu(alpha: 1)), Dense(outputCount: 3),
        ], seed: 7)
        try net.assign("batch_normalization/gamma", values: [0.5, 1.5, 1, 2])
        try checkGradients(net, regressionData(net, batch: 6, seed: 4), loss: .meanSquaredError)
    }

    /// `Sequential` fuses BN → ActivationLayer into one pass each way; check every activation,
    /// with a large mean offset (the shifted one-pass moments), and the frozen (inference) case.
    @Test(arguments: activations) func batchNormFusedWithActivation(_ activation: Activation) throws {
        let net = try Sequential(inputShape: [5], layers: [
            Dense(outputCount: 4, biasInitializer: .constant(3)), BatchNorm(momentum: 0.9),
            ActivationLayer(activation), Dense(outputCount: 3),
        ], seed: 12)
        try net.assign("batch_normalization/gamma", values: [0.5, 1.5, 1, 2])
        try net.assign("batch_normalization/beta", values: [0.1, -0.3, 0.2, 0])
        try checkGradients(net, regressionData(net, batch: 6, seed: 7), loss: .meanSquaredError)
    }

    @Test(arguments: [Activation.elu(alpha: 1), .tanh]) func frozenBatchNormFusedWithActivation(_ activation: Activation) throws {
        let net = try Sequential(inputShape: [4], layers: [
            Dense(outputCount: 3, name: "d0"), BatchNorm(name: "bn"), ActivationLayer(activation),
            Dense(outputCount: 2, name: "d1"),
        ], seed: 9)
        try net.assign("bn/moving_mean", values: [0.1, -0.2, 0.3])
        try net.assign("bn/moving_variance", values: [0.5, 2, 1.5])
        try net.freeze(trainable: "d")
        try checkGradients(net, regressionData(net, batch: 3, seed: 6), loss: .meanSquaredError)
        // Only the top layer trainable: backward stops above the fused pair.
        try net.freeze(trainable: "d1")
        try checkGradients(net, regressionData(net, batch: 3, seed: 8), loss: .meanSquaredError)
    }

    /// The fused pair computes exactly what the two layers compute one after the other.
    @Test func fusedBatchNormActivationMatchesSeparateLayers() throws {
        let bn = BatchNorm(momentum: 0.9)
        _ = try bn.build(inputShape: [7], seed: 1)
        let rows = 5, c = 7
        var rng = SplitMix64(seed: 3)
        let x = (0..<(rows * c)).map { _ in rng.nextUnitFloat() * 4 + 10 }
        var separate = [Float](repeating: 0, count: rows * c), fused = separate
        x.withUnsafeBufferPointer { xp in
            separate.withUnsafeMutableBufferPointer { bn.forward(xp.baseAddress!, into: $0.baseAddress!, batch: rows, training: false) }
            separate.withUnsafeMutableBufferPointer { Activation.elu(alpha: 1).forward($0.baseAddress!, rows: rows, width: c) }
            fused.withUnsafeMutableBufferPointer {
                bn.forward(xp.baseAddress!, into: $0.baseAddress!, batch: rows, training: false, activation: .elu(alpha: 1))
            }
        }
        #expect(separate == fused)
    }

    @Test func batchNormOnConvFeatures() throws {
        let net = try Sequential(inputShape: [3, 3, 2], layers: [BatchNorm(), Flatten(), Dense(outputCount: 2)], seed: 8)
        try checkGradients(net, regressionData(net, batch: 2, seed: 5), loss: .meanSquaredError)
    }

    /// A batch norm's backward writes dx over dy when nothing else reads dy (on feature maps
    /// large enough for row blocks, with and without a fused ReLU6): the same gradients, bit for
    /// bit, as into a buffer of its own.
    @Test func batchNormBackwardInPlaceGivesTheSameGradients() throws {
        func gradients(inPlace: Bool) throws -> (input: [Float], variables: [[Float]], handedOver: Int) {
            ExecutionPlan.batchNormBackwardInPlace.store(inPlace, ordering: .relaxed)
            defer { ExecutionPlan.batchNormBackwardInPlace.store(true, ordering: .relaxed) }
            let x = Input(shape: [12, 12, 4], name: "x")
            var t = Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, name: "a")(x)
            t = ActivationLayer(.relu6, name: "relu")(BatchNorm(name: "bn1")(t))
            t = BatchNorm(name: "bn2")(Conv2D(filters: 32, kernelSize: (1, 1), name: "b")(t))
            let net = try Network(inputs: [x], outputs: [Dense(outputCount: 3, name: "head")(GlobalAveragePooling2D(name: "pool")(t))],
                                  seed: 21)
            let plan = net.plan(training: true, inputGradient: true)
            let handedOver = plan.backward.filter { step in
                if case .write(let slot)? = step.targets.first { return slot == plan.gradientSlot[step.step.output] }
                return false
            }.count
            let data = try Dataset(inputs: tensor([8, 12, 12, 4], seed: 22), labels: .values(tensor([8, 3], seed: 23)))
            let (_, dx) = try net.lossAndGradients(data, loss: .meanSquaredError)
            return (dx, net.variables.filter(\.isTrainable).map { $0.gradient.array(count: $0.count) }, handedOver)
        }
        let separate = try gradients(inPlace: false), inPlace = try gradients(inPlace: true)
        #expect(separate.handedOver == 0)
        #expect(inPlace.handedOver == 2)
        #expect(inPlace.input == separate.input)
        #expect(inPlace.variables == separate.variables)
    }

    @Test func frozenBatchNormUsesInferenceMode() throws {
        let net = try Sequential(inputShape: [4], layers: [
            Dense(outputCount: 3, name: "d0"), BatchNorm(name: "bn"), Dense(outputCount: 2, name: "d1"),
        ], seed: 9)
        try net.assign("bn/moving_mean", values: [0.1, -0.2, 0.3])
        try net.assign("bn/moving_variance", values: [0.5, 2, 1.5])
        try net.freeze(trainable: "d")
        let bn = try #require(net.layers[1] as? BatchNorm)
        #expect(bn.isFrozen)
        let before = net.snapshots
        try checkGradients(net, regressionData(net, batch: 3, seed: 6), loss: .meanSquaredError)
        // Inference mode: moving statistics untouched by training-mode passes.
        #expect(try net.variable(named: "bn/moving_mean").values == before[4].values)
    }

    @Test func preluWithLearnedAlpha() throws {
        let net = try Sequential(inputShape: [5], layers: [
            Dense(outputCount: 4), PReLU(alphaInitializer: .constant(0.2), name: "prelu"),
        ], seed: 10)
        #expect(net.snapshots.last?.name == "prelu/alpha")
        try checkGradients(net, regressionData(net, batch: 3, seed: 7), loss: .meanSquaredError)
    }

    /// PyTorch `nn.PReLU(c)` on NHWC maps: one α per channel, shared over rows and columns.
    @Test func preluSharedOverSpatialAxes() throws {
        let net = try Sequential(inputShape: [3, 3, 2], layers: [
            Conv2D(filters: 2, kernelSize: (2, 2), biasInitializer: .constant(-0.1)),
            PReLU(alphaInitializer: .constant(0.2), sharedAxes: [1, 2], name: "prelu"), Flatten(), Dense(outputCount: 2),
        ], seed: 11)
        #expect(try net.variable(named: "prelu/alpha").shape == [1, 1, 2])
        try checkGradients(net, regressionData(net, batch: 3, seed: 8), loss: .meanSquaredError)

        let alone = try Sequential(inputShape: [2, 2, 2], layers: [PReLU(sharedAxes: [1, 2], name: "p")], seed: 1)
        try alone.assign("p/alpha", values: [0.1, 0.5])
        let x = try Tensor(shape: [1, 2, 2, 2], scalars: [-1, -1, 2, -2, -4, 3, -6, -8])
        #expect(try alone.predict(x).scalars == [-0.1, -0.5, 2, -1, -0.4, 3, -0.6, -4])
        #expect(throws: ZooNetError.self) {
            try Sequential(inputShape: [2, 2, 2], layers: [PReLU(sharedAxes: [0, 4])], seed: 1)
        }
    }

    @Test(arguments: [(Padding.same, 1), (.same, 2), (.valid, 1), (.valid, 2)])
    func conv2D(_ padding: Padding, _ stride: Int) throws {
        let net = try Sequential(inputShape: [5, 5, 2], layers: [
            Conv2D(filters: 3, kernelSize: (3, 3), strides: (stride, stride), padding: padding,
                   activation: .tanh, biasInitializer: .constant(0.1)),
            Flatten(), Dense(outputCount: 2),
        ], seed: 12)
        try checkGradients(net, regressionData(net, batch: 2, seed: 8), loss: .meanSquaredError)
    }

    @Test(arguments: [Padding.valid, .same]) func maxPooling(_ padding: Padding) throws {
        let net = try Sequential(inputShape: [5, 5, 2], layers: [
            MaxPooling2D(poolSize: (2, 2), padding: padding), Flatten(), Dense(outputCount: 3),
        ], seed: 13)
        try checkGradients(net, regressionData(net, batch: 2, seed: 9), loss: .meanSquaredError)
    }

    @Test func dropoutIsInvertedAndInactiveAtInference() throws {
        let dropout = Dropout(rate: 0.25)
        let net = try Sequential(inputShape: [1000], layers: [dropout], seed: 1)
        let x = Tensor(repeating: 1, shape: [4, 1000])
        #expect(try net.predict(x) == x)
        let plan = net.plan(training: true)
        try net.prepare(plan, batch: 4)
        x.scalars.withUnsafeBufferPointer { net.inputBuffer(plan).update(from: $0.baseAddress!, count: 4000) }
        net.forward(plan, batch: 4)
        let values = Array(UnsafeBufferPointer(start: net.activation(plan, node: 1), count: 4000))
        #expect(Set(values) == [0, Float(1) / 0.75])
        let kept = values.filter { $0 > 0 }.count
        #expect(abs(Float(kept) / 4000 - 0.75) < 0.03)
        // Backward applies the same mask.
        let data = try Dataset(inputs: x, labels: .values(Tensor(repeating: 0, shape: [4, 1000])))
        let (_, dx) = try net.lossAndGradients(data, loss: .meanSquaredError)
        let mask = Array(UnsafeBufferPointer(start: net.activation(net.plan(training: true, inputGradient: true), node: 1),
                                             count: 4000))
        #expect(zip(dx, mask).allSatisfy { ($0 == 0) == ($1 == 0) })
    }

    @Test func regularizersAddPenaltyGradients() throws {
        let net = try Sequential(inputShape: [4], layers: [
            Dense(outputCount: 3, kernelRegularizer: .l1l2(l1: 0.01, l2: 0.05)),
            Dense(outputCount: 2, kernelRegularizer: .l2(0.1)),
        ], seed: 14)
        try checkGradients(net, regressionData(net, batch: 3, seed: 10), loss: .meanSquaredError)
    }
}
