import Foundation
import Testing
@testable import ZooKit

/// Keras Functional models with a nested model, a shared layer and operator nodes, saved by
/// tf-keras 2.21 (`.h5`, `TFOpLambda`, nested node indices from 1) and Keras 3.15 (`.keras`,
/// operator nodes by module): Zoo predicts both outputs like Keras to 1e-4
/// (`Tests/Fixtures/kerasgraph/make_fixtures.py`).
@Suite struct KerasGraphTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/kerasgraph")

    static func load(_ name: String) throws -> ZooNet.Tensor {
        let stored = try TensorArchive.open(directory.appendingPathComponent(name).path).tensors[0]
        return try ZooNet.Tensor(shape: stored.shape, scalars: stored.floats())
    }

    @Test(arguments: [("outer_k2.h5", "k2"), ("outer_k3.keras", "k3")])
    func predictsLikeKeras(_ file: String, _ prefix: String) throws {
        let (network, report) = try KerasModelImporter.load(Self.directory.appendingPathComponent(file).path)
        #expect(report.isComplete)
        #expect(network.variables.count == 10)
        let outputs = try network.predict([Self.load("x.npy")])
        for (k, output) in outputs.enumerated() {
            let want = try Self.load("\(prefix)_y\(k).npy")
            #expect(output.shape == want.shape)
            let tolerance = 1e-4 * (1 + (want.scalars.map(abs).max() ?? 0))
            let worst = zip(output.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= tolerance, "\(file) output \(k): max |zoo − keras| = \(worst)")
        }
    }

    @Test func graphShape() throws {
        let archive = try TensorArchive.open(Self.directory.appendingPathComponent("outer_k2.h5").path)
        let graph = try #require(try archive.kerasGraph())
        #expect(graph.inputs.map(\.name) == ["inp"])
        #expect(graph.nodes.map(\.name).prefix(5) == ["base/c1", "base/bn", "base/dw", "r", "shared"])
        #expect(graph.nodes.contains { $0.name == "shared@1" && $0.layer == "shared" && $0.call == 1 })
        #expect(graph.outputs == ["gap", "shared"])
    }
}
