import Foundation
import Testing
import ZooFormat

/// An ONNX model as MODEL (`Tests/Fixtures/onnximport`): `zoo predict model.onnx --input` in the
/// model's layout like ONNX Runtime, several outputs into a `.npz` by name, `zoo import` then
/// `zoo show`, and graphs Zoo cannot run refused with exit 65.
@Suite struct ONNXImportCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/onnximport")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// ONet (three outputs, a Transpose and the view's shape chain before its dense layers).
    @Test func predictWritesTheGraphsOutputsByName() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("y.npz")
        let result = try ZooBinary.run(["predict", Self.fixture("onet.opset13.onnx"), "--input", Self.fixture("onet.x.npy"), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "wrote 56 [2, 4], 57 [2, 10], 55 [2, 2] outputs to \(out)\n")
        let written = try TensorArchive.open(out), want = try TensorArchive.open(Self.fixture("onet.opset13.y.npz"))
        for (k, name) in ["56", "57", "55"].enumerated() {
            let got = try written.tensor(named: name).floats(), expected = try want.tensor(named: "y\(k)").floats()
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-4 })
        }
    }

    @Test func importedModelShows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let env = ["--registry", directory.path("models")]
        let imported = try ZooBinary.run(["import", Self.fixture("labeled.onnx"), "--name", "labeled"] + env)
        #expect(imported.status == 0, "\(imported.stderr)")
        let shown = try ZooBinary.run(["show", "labeled"] + env)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("labels:        cat, dog, eel"), "\(shown.stdout)")
        #expect(shown.stdout.contains("labeled.onnx (onnx,"), "\(shown.stdout)")
    }

    @Test func unsupportedGraphsExit65() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(["predict", Self.fixture("unsupported.onnx"), "--input", Self.fixture("onet.x.npy"), "--out", directory.path("y.npy")])
        #expect(result.status == 65)
        #expect(result.stderr == "zoo: error: unsupported ONNX ops: Erf (opset 17) ×2 at nodes erf1, erf2: no engine layer computes it; "
                + "LRN ×1 at node lrn: no engine layer computes it; TopK ×1 at node topk: no engine layer computes it\n")
        let cycle = try ZooBinary.run(["import", Self.fixture("cycle.onnx"), "--name", "c", "--registry", directory.path("models")])
        #expect(cycle.status == 65)
        #expect(cycle.stderr.contains("invalid ONNX graph: the graph has a cycle through 3 nodes (nodes p, q, r)"), "\(cycle.stderr)")
    }
}
