import Foundation
import Testing
@testable import ZooKit

/// Exact GELU before opset 20 (`½·x·(1 + erf(x/√2))` as a chain of Div, Erf, Add, Mul) becomes
/// the engine's GELU: torch.onnx.export's form against ONNX Runtime
/// (`Tests/Fixtures/onnximport/make_gelu_fixture.py`), Zoo's own exporter's form in
/// `ONNXRoundTripTests`; an Erf in any other use stays unsupported.
@Suite struct ONNXGeluFusionTests {
    @Test func torchExportsPredictLikeONNXRuntime() throws {
        let directory = ONNXImportTests.directory
        let (network, imported, report) = try ONNXGraphImporter.load(directory + "/gelu_erf_op17.onnx")
        #expect(report.isComplete)
        #expect(imported.description.nodes.filter { $0.layer.activation == .gelu(approximate: false) }.count == 2)
        let x = try ZooNet.Tensor(TensorArchive.open(directory + "/gelu_erf.x.npy").tensors[0])
        let y = try imported.predict(network, onnxInputs: [x])[0]
        let want = try TensorArchive.open(directory + "/gelu_erf.y.npy").tensors[0].floats()
        let worst = zip(y.scalars, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(y.shape == [2, 3] && worst <= 1e-5, "max |zoo − ort| = \(worst)")
    }

    @Test func anErfThatIsNotAGeluStaysUnsupported() throws {
        let model = ONNXImportTests.model([
            ONNXNode(name: "scale", opType: "Div", inputs: ["x", "sqrt2"], outputs: ["u"]),
            ONNXNode(name: "erf", opType: "Erf", inputs: ["u"], outputs: ["e"]),
            ONNXNode(name: "plus", opType: "Add", inputs: ["e", "one"], outputs: ["y"]),  // no multiplication by x
        ], initializers: [try ONNXTensor(name: "sqrt2", StoredTensor(name: "sqrt2", shape: [], floats: [Float(2.0.squareRoot())])),
                          try ONNXTensor(name: "one", StoredTensor(name: "one", shape: [], floats: [1]))], outputs: ["y"])
        do {
            _ = try ONNXGraphImporter.convert(model)
            Issue.record("expected unsupportedONNXOps")
        } catch ZooKitError.unsupportedONNXOps(let ops) {
            #expect(ops.groups.map(\.op) == ["Erf"])
        }
    }
}
