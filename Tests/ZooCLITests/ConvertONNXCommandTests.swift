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
