import Foundation
import Testing
@testable import ZooKit

/// The book's second phase on graphs (``GraphFineTuner``), on the Keras MobileNetV2 fixture of
/// ``GraphTransferTests`` (α 0.35, 96×96, BN statistics randomized; four pictures): the head alone,
/// then `block_16|Conv_1` unfrozen at their own learning rate; frozen outputs cached per phase.
@Suite struct GraphPhaseTests {
    static func transfer() throws -> (GraphTransfer, LabeledData) {
        let (transfer, _, npz) = try GraphTransferTests.transfer()
        let x = try npz.tensor(named: "x")
        let data = LabeledData(inputs: try x.floats(), sampleShape: Array(x.shape.dropFirst()),
                               labels: try npz.tensor(named: "labels").floats().map { Int($0) }, source: "fixture")
        return (transfer, data)
    }

    static func options(epochs: Int, unfreezeAfter: Int? = 2, rate: Float? = 0.01, cache: Bool = true) -> GraphFineTuneOptions {
        var options = GraphFineTuneOptions()
        options.optimizer.name = .sgd
        options.optimizer.learningRate = 0.05
        options.epochs = epochs
        options.batchSize = 2
        options.unfreezeAfter = unfreezeAfter
        options.unfreeze = unfreezeAfter == nil ? nil : "block_16|Conv_1"
        options.unfreezeLearningRate = unfreezeAfter == nil ? nil : rate
        options.cacheFrozenOutputs = cache
        options.seed = 3
        return options
    }

    static func values(_ transfer: GraphTransfer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: transfer.network.variables.map { ($0.name, $0.values) })
    }

    static let unfrozenKernel = "mobilenetv2_0.35_96/block_16_project/kernel"
    static let batchNorm = "mobilenetv2_0.35_96/Conv_1_bn/gamma"

    /// Phase 1 trains the head only; phase 2 also the unfrozen blocks (not their batch norms);
    /// nothing else ever changes; both phases train on cached outputs.
    @Test func unfrozenBlocksChangeOnlyInPhaseTwo() throws {
        let (first, data) = try Self.transfer()
        let initial = Self.values(first)
        let onlyPhaseOne = try GraphFineTuner.run(first, training: data, validation: nil, options: Self.options(epochs: 2))
        #expect(onlyPhaseOne.phases == [1] && onlyPhaseOne.epochs.count == 2)
        let afterPhaseOne = Self.values(first)
        for (name, value) in afterPhaseOne {
            #expect((value == initial[name]) == !name.hasPrefix("new_head/"), "\(name) after phase 1")
        }

        let (both, _) = try Self.transfer()
        let result = try GraphFineTuner.run(both, training: data, validation: nil, options: Self.options(epochs: 4))
        #expect(result.phases == [1, 2])
        #expect(result.epochs.map(\.phase) == [1, 1, 2, 2] && result.epochs.map(\.epoch) == [0, 1, 2, 3])
        #expect(result.trainable[0] == ["new_head/kernel", "new_head/bias"])
        #expect(result.trainable[1].contains(Self.unfrozenKernel) && result.trainable[1].contains("mobilenetv2_0.35_96/Conv_1/kernel"))
        #expect(!result.trainable[1].contains(Self.batchNorm))
        #expect(result.cachedAt[0] == "new_head_pool")
        #expect(result.cachedAt[1] == "mobilenetv2_0.35_96/block_15_add", "\(result.cachedAt)")
        let after = Self.values(both)
        let phaseTwo = Set(result.trainable[1])
        for (name, value) in after {
            #expect((value != initial[name]) == phaseTwo.contains(name), "\(name) after phase 2")
        }
    }

    /// Phase 2 runs at its own learning rate: at 0 nothing moves after phase 1 (plain SGD), so the
    /// result is phase 1's alone; at 0.01 the head moves on.
    @Test func phaseTwoUsesItsLearningRate() throws {
        let (reference, data) = try Self.transfer()
        _ = try GraphFineTuner.run(reference, training: data, validation: nil, options: Self.options(epochs: 2))
        let (still, _) = try Self.transfer()
        _ = try GraphFineTuner.run(still, training: data, validation: nil, options: Self.options(epochs: 4, rate: 0))
        #expect(Self.values(still) == Self.values(reference))
        let (moving, _) = try Self.transfer()
        _ = try GraphFineTuner.run(moving, training: data, validation: nil, options: Self.options(epochs: 4, rate: 0.01))
        #expect(try moving.network.variable(named: "new_head/kernel").values != reference.network.variable(named: "new_head/kernel").values)
    }

    /// Cached outputs train what training through the whole network trains.
    @Test func cachedPhasesTrainAsTheWholeNetwork() throws {
        let (cached, data) = try Self.transfer()
        _ = try GraphFineTuner.run(cached, training: data, validation: nil, options: Self.options(epochs: 4))
        let (through, _) = try Self.transfer()
        let result = try GraphFineTuner.run(through, training: data, validation: nil, options: Self.options(epochs: 4, cache: false))
        #expect(result.cachedAt == [nil, nil])
        let a = Self.values(cached), b = Self.values(through)
        for (name, value) in a {
            let other = b[name] ?? []
            let worst = zip(value, other).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * (1 + (value.map(abs).max() ?? 0)), "\(name): max |cached − through| = \(worst)")
        }
    }

    @Test func optionErrors() throws {
        var options = Self.options(epochs: 4)
        options.unfreeze = nil
        #expect(throws: ZooKitError.self) { try options.validate() }
        options = Self.options(epochs: 4)
        options.unfreezeAfter = 5
        #expect(throws: ZooKitError.invalidSetting(.unfreezeAfter, problem: "must be in 0…4 (the epochs of both phases), not 5")) { try options.validate() }
        options = Self.options(epochs: 4, unfreezeAfter: nil)
        options.unfreezeLearningRate = 0.1
        #expect(throws: ZooKitError.settingNeeds(.unfreezeLearningRate, .unfreezeAfter)) { try options.validate() }
        let (transfer, data) = try Self.transfer()
        options = Self.options(epochs: 2)
        options.unfreeze = "no_such_block"
        #expect(throws: ZooKitError.self) { try GraphFineTuner.run(transfer, training: data, validation: nil, options: options) }
    }
}
