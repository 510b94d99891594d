import Foundation
import Testing
@testable import ZooKit

/// Transfer on graphs: a Keras MobileNetV2 (α 0.35, 96×96, BN statistics randomized) cut at its
/// last feature map, a new head through ``GraphTransfer`` (global pooling added on the spatial
/// cut): with the head initialized as Keras initialized its own, the first three training steps
/// give Keras' losses (`finetune_mobilenetv2.npz`, the fixture of `KerasFineTuneParityTests`);
/// the head trained alone on cached features trains the same; `unfreeze` finds nested scopes and
/// leaves batch norm frozen.
@Suite struct GraphTransferTests {
    static let directory = KerasApplicationTests.directory
    static let cut = "mobilenetv2_0.35_96/out_relu"

    static func fixture() throws -> (base: Network, npz: TensorArchive) {
        let npz = try TensorArchive.open(directory.appendingPathComponent("finetune_mobilenetv2.npz").path)
        let (base, _) = try KerasModelImporter.load(directory.appendingPathComponent("finetune_mobilenetv2.keras").path)
        return (base, npz)
    }

    /// The transfer network with Keras' initial head, the data and Keras' recorded values.
    static func transfer(_ options: GraphTransfer.Options = .init(classes: 3, cut: cut, headName: "new_head"))
        throws -> (GraphTransfer, Dataset, TensorArchive) {
        let (base, npz) = try fixture()
        let transfer = try GraphTransfer(base: base, options: options)
        try transfer.network.assign("new_head/kernel", values: npz.tensor(named: "head_kernel_before").floats())
        try transfer.network.assign("new_head/bias", values: npz.tensor(named: "head_bias_before").floats())
        let x = try npz.tensor(named: "x")
        let data = try Dataset(inputs: Tensor(shape: x.shape, scalars: x.floats()),
                               labels: .classes(npz.tensor(named: "labels").floats().map { Int($0) }))
        return (transfer, data, npz)
    }

    @Test(arguments: ["sgd", "adam"]) func firstStepsMatchKeras(_ run: String) throws {
        let (transfer, data, npz) = try Self.transfer()
        #expect(transfer.featureNode == "new_head_pool")
        #expect(transfer.headNodes == ["new_head_pool", "new_head"])
        #expect(transfer.trainableNames == ["new_head/kernel", "new_head/bias"])
        let frozen = transfer.network.variables.filter { !$0.name.hasPrefix("new_head") }.map(\.values)
        let optimizer: Optimizer = run == "sgd" ? try SGD(learningRate: 0.1) : try Adam(learningRate: 0.001)
        var losses: [Double] = []
        for _ in 0..<3 { losses.append(try transfer.network.trainStep(data, loss: .softmaxCrossEntropy, optimizer: optimizer)) }
        let want = try npz.tensor(named: "losses_\(run)").floats().prefix(3).map(Double.init)
        for (got, expected) in zip(losses, want) {
            #expect(abs(got - expected) <= 1e-4 * (1 + abs(expected)), "\(run): \(losses) vs Keras \(want)")
        }
        let kernel = try transfer.network.variable(named: "new_head/kernel").values
        let expected = try npz.tensor(named: "head_kernel_\(run)").floats()
        let worst = zip(kernel, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (expected.map(abs).max() ?? 0)), "\(run) head kernel: max |zoo − keras| = \(worst)")
        #expect(transfer.network.variables.filter { !$0.name.hasPrefix("new_head") }.map(\.values) == frozen)
    }

    @Test func headTrainedOnCachedFeaturesTrainsTheSame() throws {
        let (through, data, _) = try Self.transfer()
        let (cached, _, _) = try Self.transfer()
        let features = try cached.features([data.inputs])
        #expect(features.shape == [4, 1280])  // MobileNetV2 keeps 1280 channels in its last conv for α < 1
        let head = try cached.headNetwork()
        #expect(head.variables.map(\.name) == ["new_head/kernel", "new_head/bias"])
        let headData = try Dataset(inputs: features, labels: data.labels)
        let (a, b) = (try Adam(learningRate: 0.001), try Adam(learningRate: 0.001))
        for step in 0..<3 {
            let whole = try through.network.trainStep(data, loss: .softmaxCrossEntropy, optimizer: a)
            let alone = try head.trainStep(headData, loss: .softmaxCrossEntropy, optimizer: b)
            #expect(abs(whole - alone) <= 1e-6 * (1 + abs(whole)), "step \(step): \(whole) vs \(alone)")
        }
        // The head-only network trained the transfer network's own head variables.
        let trained = try cached.network.variable(named: "new_head/kernel").values
        let reference = try through.network.variable(named: "new_head/kernel").values
        #expect(zip(trained, reference).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    @Test func unfreezeFindsNestedScopesAndKeepsBatchNormFrozen() throws {
        let (base, _) = try Self.fixture()
        let kept = try GraphTransfer(base: base, options: .init(classes: 2, cut: Self.cut, unfreeze: "block_16|Conv_1"))
        let names = Set(kept.trainableNames)
        #expect(names.contains("mobilenetv2_0.35_96/block_16_project/kernel"))
        #expect(names.contains("mobilenetv2_0.35_96/Conv_1/kernel"))
        #expect(!names.contains("mobilenetv2_0.35_96/Conv_1_bn/gamma"))
        #expect(!names.contains("mobilenetv2_0.35_96/block_15_project/kernel"))
        let (base2, _) = try Self.fixture()
        let all = try GraphTransfer(base: base2, options: .init(classes: 2, cut: Self.cut, unfreeze: "block_16|Conv_1", keepBatchNormFrozen: false))
        #expect(Set(all.trainableNames).contains("mobilenetv2_0.35_96/Conv_1_bn/gamma"))
    }

    /// `freeze` keeps what it matches frozen and trains the rest of the base; `freezeBelow`
    /// freezes a node and everything it depends on; batch norm stays frozen either way.
    @Test func freezeAndFreezeBelowTrainTheRestOfTheBase() throws {
        let (base, _) = try Self.fixture()
        let lower = try GraphTransfer(base: base, options: .init(classes: 2, cut: Self.cut, freeze: "block_([0-9]|1[0-4])_|Conv1|expanded_conv"))
        let names = Set(lower.trainableNames)
        #expect(names.contains("mobilenetv2_0.35_96/block_15_project/kernel"))
        #expect(names.contains("mobilenetv2_0.35_96/Conv_1/kernel"))
        #expect(names.contains("new_head/kernel"))
        #expect(!names.contains("mobilenetv2_0.35_96/block_14_project/kernel"))
        #expect(!names.contains("mobilenetv2_0.35_96/Conv1/kernel"))
        #expect(!names.contains { $0.hasSuffix("_bn/gamma") || $0.hasSuffix("BN/gamma") })
        #expect(!lower.baseIsFrozen)

        let (base2, _) = try Self.fixture()
        let below = try GraphTransfer(base: base2, options: .init(classes: 2, cut: Self.cut, freezeBelow: "mobilenetv2_0.35_96/block_14_add"))
        #expect(Set(below.trainableNames) == names)

        let (base3, _) = try Self.fixture()
        #expect(try GraphTransfer(base: base3, options: .init(classes: 2, cut: Self.cut)).baseIsFrozen)
        #expect {
            _ = try GraphTransfer(base: base3, options: .init(classes: 2, cut: Self.cut, freezeBelow: "nowhere"))
        } throws: { "\($0)".contains("freeze-below 'nowhere' is not a node of the network") }
    }

    @Test func defaultCutIsWhatTheClassifierTakes() throws {
        let (base, _) = try Self.fixture()
        let transfer = try GraphTransfer(base: base, options: .init(classes: 7))
        #expect(transfer.cut == "pool" && transfer.featureNode == "pool")
        #expect(transfer.network.outputShape == [7])
    }

    @Test func badRequestsAreNamed() throws {
        let (base, _) = try Self.fixture()
        #expect {
            _ = try GraphTransfer(base: base, options: .init(classes: 3, cut: "nowhere"))
        } throws: { "\($0)".contains("cut 'nowhere' is not a node of the network") }
        #expect {
            _ = try GraphTransfer(base: base, options: .init(classes: 0))
        } throws: { "\($0)".contains("at least 1 class") }
        #expect {
            _ = try GraphTransfer(base: base, options: .init(classes: 2, unfreeze: "block_(16"))
        } throws: { "\($0)".contains("is not a regular expression") }
    }
}
