import Foundation
import Testing
import ZooFormat

/// `zoo convert MODEL OUT.onnx [--opset N] [--channels-first]`: a registered model (with its
/// manifest's labels and preprocessing as metadata) and a state dict with `--arch` become ONNX
/// models; bad requests get the house exit codes and leave nothing behind. (Numerical parity
/// with ONNX Runtime and the checker: `ONNXExportTests`, `Tests/Fixtures/onnxexport/check_onnx.py`.)
@Suite struct ConvertONNXCommandTests {
    static func fixture(_ path: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures").appendingPathComponent(path).path
    }

    /// A registered model: the labels and the `input` section land in `metadata_props`.
    @Test func writesARegisteredModelWithItsMetadata() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("fashion.onnx")
        let result = try ZooBinary.run(["convert", "fashion-0to4-dnn", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote fashion-0to4-dnn as an ONNX model (opset 17, NHWC input, "), "\(result.stdout)")
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
        #expect(text.contains("zoo.labels") && text.contains(#"["T-shirt/top","Trouser","Pullover","Dress","Coat"]"#))
        #expect(text.contains("zoo.preprocessing") && text.contains(#""shape":[784]"#))
    }

    /// A state dict with `--arch`, NCHW at opset 13.
    @Test func writesABuiltInArchitecture() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("pnet.onnx")
        let result = try ZooBinary.run(["convert", Self.fixture("torcharch/pnet.pt"), "--arch", "pnet", "--input-size", "31", out,
                                        "--opset", "13", "--channels-first"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote pnet as an ONNX model (opset 13, NCHW input, "), "\(result.stdout)")
    }

    /// An ONNX model (torch's onet export, opset 13) is a whole model too: rewritten as ONNX
    /// (NCHW, opset 13) it keeps its graph and predicts ONNX Runtime's outputs on the original
    /// (`Fixtures/onnximport`); written as a Keras 3 model, the NHWC model predicts the same.
    @Test func convertsAnONNXModelAsAWholeModel() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let source = Self.fixture("onnximport/onet.opset13.onnx")
        let expected = try TensorArchive.open(Self.fixture("onnximport/onet.opset13.y.npz"))
        func expectOutputs(_ file: String, _ label: String) throws {
            let outputs = try TensorArchive.open(file)
            #expect(outputs.tensors.count == expected.tensors.count, "\(label)")
            for (k, tensor) in outputs.tensors.enumerated() {
                let want = try expected.tensor(named: "y\(k)").floats()
                let worst = zip(try tensor.floats(), want).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst < 1e-4, "\(label) output \(k): max error \(worst)")
            }
        }
        let onnx = directory.path("onet.onnx")
        let rewritten = try ZooBinary.run(["convert", source, onnx, "--channels-first", "--opset", "13"])
        #expect(rewritten.status == 0, "\(rewritten.stderr)")
        #expect(rewritten.stdout.hasPrefix("wrote onet.opset13 as an ONNX model (opset 13, NCHW input, "), "\(rewritten.stdout)")
        let predicted = try ZooBinary.run(["predict", onnx, "--input", Self.fixture("onnximport/onet.x.npy"), "--out", directory.path("y.npz")])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        try expectOutputs(directory.path("y.npz"), "ONNX → ONNX")

        let keras = directory.path("onet.keras")
        let converted = try ZooBinary.run(["convert", source, keras])
        #expect(converted.status == 0, "\(converted.stderr)")
        // The Keras model takes NHWC: the fixture's NCHW input transposed.
        let x = try TensorArchive.open(Self.fixture("onnximport/onet.x.npy")).tensors[0]
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let values = try x.floats()
        var nhwc = [Float](repeating: 0, count: values.count)
        for b in 0..<n { for y in 0..<h { for z in 0..<w { for k in 0..<c {
            nhwc[((b * h + y) * w + z) * c + k] = values[((b * c + k) * h + y) * w + z]
        } } } }
        try NPYWriter.write(try StoredTensor(name: "x", shape: [n, h, w, c], floats: nhwc), to: directory.path("x.npy"))
        let viaKeras = try ZooBinary.run(["predict", keras, "--input", directory.path("x.npy"), "--out", directory.path("k.npz")])
        #expect(viaKeras.status == 0, "\(viaKeras.stderr)")
        try expectOutputs(directory.path("k.npz"), "ONNX → Keras")
    }

    /// An opset Zoo does not write (64), `--opset` / `--channels-first` for another output (64): no file.
    @Test func refusesBadRequests() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let old = try ZooBinary.run(["convert", "fashion-0to4-dnn", directory.path("old.onnx"), "--opset", "12"])
        #expect(old.status == 64)
        #expect(old.stderr.contains("opset 12 is not supported"), "\(old.stderr)")
        let misplaced = try ZooBinary.run(["convert", "fashion-0to4-dnn", directory.path("f.keras"), "--channels-first"])
        #expect(misplaced.status == 64)
        #expect(misplaced.stderr.contains("apply to an .onnx output"), "\(misplaced.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
