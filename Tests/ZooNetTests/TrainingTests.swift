import Testing
@testable import ZooNet

@Suite struct TrainingTests {
    /// Two Gaussian blobs per class in 4-D, 3 classes.
    static func blobs(_ n: Int, seed: UInt64, flipLabels: Bool = false) throws -> Dataset {
        var rng = SplitMix64(seed: seed)
        var x: [Float] = [], y: [Int] = []
        for i in 0..<n {
            let label = i % 3
            for d in 0..<4 { x.append(Float(rng.nextNormal()) * 0.5 + (d == label ? 2 : 0)) }
            y.append(flipLabels ? (label + 1) % 3 : label)
        }
        return try Dataset(inputs: Tensor(shape: [n, 4], scalars: x), labels: .classes(y))
    }

    static func network(seed: UInt64 = 1) throws -> Sequential {
        try Sequential(inputShape: [4], layers: [
            Dense(outputCount: 16, kernelInitializer: .heNormal, name: "hidden1"), BatchNorm(name: "bn1"),
            ActivationLayer(.elu(alpha: 1)), Dropout(rate: 0.1),
            Dense(outputCount: 8, activation: .selu, kernelInitializer: .lecunNormal, name: "hidden2"),
            Dense(outputCount: 3, name: "outputs"),
        ], seed: seed)
    }

    @Test func fitLearnsAndReportsMetrics() throws {
        let net = try Self.network()
        let train = try Self.blobs(300, seed: 1), valid = try Self.blobs(90, seed: 2)
        let history = try net.fit(train, validation: valid, loss: .softmaxCrossEntropy, optimizer: Adam(learningRate: 0.01),
                                  epochs: 8, batchSize: 32)
        #expect(history.count == 8)
        let last = try #require(history.last)
        #expect(last.loss < history[0].loss)
        #expect((last.accuracy ?? 0) > 0.9)
        #expect((last.validationAccuracy ?? 0) > 0.9)
        #expect(abs(try net.evaluate(valid, loss: .softmaxCrossEntropy).loss - (last.validationLoss ?? 0)) < 1e-9)
    }

    @Test func seededTrainingIsReproducible() throws {
        let train = try Self.blobs(100, seed: 3)
        func run() throws -> [VariableSnapshot] {
            let net = try Self.network(seed: 9)
            try net.fit(train, loss: .softmaxCrossEntropy, optimizer: SGD(learningRate: 0.05, momentum: 0.9),
                        epochs: 2, batchSize: 16, shuffleSeed: 42)
            return net.snapshots
        }
        #expect(try run() == run())
    }

    @Test func freezingByRegexSkipsGradientWork() throws {
        let layers: [any Layer] = (1...5).map { Dense(outputCount: 6, activation: .elu(alpha: 1), name: "hidden\($0)") }
            + [Dense(outputCount: 3, name: "outputs")]
        let net = try Sequential(inputShape: [4], layers: layers, seed: 2)
        try net.freeze(trainable: "hidden[34]|outputs")
        #expect(net.trainableVariables.map(\.name) == [
            "hidden3/kernel", "hidden3/bias", "hidden4/kernel", "hidden4/bias", "outputs/kernel", "outputs/bias",
        ])
        #expect(net.lowestTrainableLayer == 2)
        let frozen = try net.variable(named: "hidden5/kernel")
        frozen.gradient.reserve(frozen.count)
        let before = net.snapshots
        let data = try Self.blobs(24, seed: 4)
        // Nodes: 0 input, 1…5 hidden1…5, 6 outputs. Backward runs outputs, hidden5, hidden4, hidden3
        // and computes no gradient for the outputs of hidden1 and hidden2 (the input of hidden3).
        let plan = net.plan(training: true)
        #expect(plan.backward.map(\.step.output) == [6, 5, 4, 3])
        #expect(plan.gradientSlot[2] == -1 && plan.gradientSlot[1] == -1 && plan.gradientSlot[0] == -1)
        let sgd = try SGD(learningRate: 0.1)
        try net.trainStep(data, loss: .softmaxCrossEntropy, optimizer: sgd)
        for (old, new) in zip(before, net.snapshots) {
            let trainable = old.name.hasPrefix("hidden3") || old.name.hasPrefix("hidden4") || old.name.hasPrefix("outputs")
            #expect((old.values != new.values) == trainable, "\(old.name)")
        }
        #expect(net.snapshots.filter(\.trainable).count == 6)
        net.unfreezeAll()
        #expect(net.lowestTrainableLayer == 0)
    }

    @Test func earlyStoppingRestoresBestWeights() throws {
        let net = try Self.network(seed: 5)
        let train = try Self.blobs(90, seed: 6)
        let adversarial = try Self.blobs(30, seed: 7, flipLabels: true)  // val loss rises as training fits
        var saved: [(Int, [VariableSnapshot])] = []
        let checkpoint = ModelCheckpoint(monitor: .validationLoss, saveBestOnly: true) { saved.append(($0, $1)) }
        let stopper = EarlyStopping(monitor: .validationLoss, patience: 2, restoreBestWeights: true)
        let history = try net.fit(train, validation: adversarial, loss: .softmaxCrossEntropy,
                                  optimizer: Adam(learningRate: 0.05), epochs: 20, batchSize: 15,
                                  callbacks: [checkpoint, stopper])
        let best = try #require(stopper.bestEpoch)
        let stopped = try #require(stopper.stoppedEpoch)
        #expect(history.count == stopped + 1)
        #expect(stopped == best + 2)
        let last = try #require(saved.last)
        #expect(last.0 == best)
        #expect(net.snapshots == last.1)
        let bestLoss = history[best].validationLoss ?? 0
        #expect(history.allSatisfy { ($0.validationLoss ?? 0) >= bestLoss })
    }

    @Test func reduceLearningRateOnPlateau() throws {
        let net = try Self.network(seed: 5)
        let optimizer = try Adam(learningRate: 0.05)
        let plateau = try ReduceLROnPlateau(monitor: .validationLoss, factor: 0.5, patience: 1, minLearningRate: 0.01)
        let history = try net.fit(try Self.blobs(90, seed: 6), validation: try Self.blobs(30, seed: 7, flipLabels: true),
                                  loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: 6, batchSize: 15,
                                  callbacks: [plateau])
        #expect(optimizer.learningRate < 0.05)
        #expect(optimizer.learningRate >= 0.01)
        #expect(history.last?.learningRate == optimizer.learningRate)
        let scheduled = try Adam(schedule: ExponentialDecay(initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.9))
        #expect(throws: ZooNetError.self) {
            try net.fit(try Self.blobs(9, seed: 1), loss: .softmaxCrossEntropy, optimizer: scheduled, epochs: 1,
                        callbacks: [plateau])
        }
    }

    @Test func maxNormConstraintAndClipping() throws {
        let net = try Sequential(inputShape: [4], layers: [
            Dense(outputCount: 5, kernelConstraint: .maxNorm(0.5), name: "d"), Dense(outputCount: 3),
        ], seed: 3)
        try net.fit(Self.blobs(30, seed: 8), loss: .softmaxCrossEntropy,
                    optimizer: SGD(learningRate: 0.5, globalClipNorm: 1), epochs: 2, batchSize: 10)
        let w = try net.variable(named: "d/kernel").values
        for c in 0..<5 {
            let norm = (0..<4).map { w[$0 * 5 + c] * w[$0 * 5 + c] }.reduce(0, +).squareRoot()
            #expect(norm <= 0.5 + 1e-5)
        }
    }

    @Test func progressLines() throws {
        var plain = "", tty = ""
        let net = try Self.network()
        let data = try Self.blobs(30, seed: 1)
        try net.fit(data, loss: .softmaxCrossEntropy, optimizer: SGD(), epochs: 2, batchSize: 10,
                    progress: ProgressReporter(interactive: false) { plain += $0 })
        try net.fit(data, loss: .softmaxCrossEntropy, optimizer: SGD(), epochs: 1, batchSize: 10,
                    progress: ProgressReporter(interactive: true) { tty += $0 })
        #expect(!plain.contains("\r"))
        #expect(plain.split(separator: "\n").count == 2)
        #expect(plain.hasPrefix("Epoch 1/2 loss "))
        #expect(tty.contains("\rEpoch 1/1 [") && tty.hasSuffix("\n"))
    }

    @Test func convolutionalNetworkLearns() throws {
        // 8×8×1 images: a bright 3×3 patch in the left (class 0) or right (class 1) half.
        var rng = SplitMix64(seed: 11)
        var x: [Float] = [], y: [Int] = []
        for i in 0..<120 {
            var image = (0..<64).map { _ in Float(rng.nextNormal()) * 0.1 }
            let label = i % 2, row = Int(rng.next() % 6), column = Int(rng.next() % 2) + (label == 0 ? 0 : 4)
            for r in row..<(row + 3) { for c in column..<(column + 3) { image[r * 8 + c] += 1 } }
            x += image
            y.append(label)
        }
        let data = try Dataset(inputs: Tensor(shape: [120, 8, 8, 1], scalars: x), labels: .classes(y))
        let net = try Sequential(inputShape: [8, 8, 1], layers: [
            Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu, kernelInitializer: .heUniform),
            BatchNorm(), MaxPooling2D(poolSize: (2, 2)), Flatten(), Dense(outputCount: 2),
        ], seed: 3)
        let history = try net.fit(data, loss: .softmaxCrossEntropy, optimizer: Adam(learningRate: 0.02),
                                  epochs: 15, batchSize: 20)
        #expect((history.last?.accuracy ?? 0) > 0.95)
        #expect((try net.evaluate(data, loss: .softmaxCrossEntropy).accuracy ?? 0) > 0.95)
    }
}
