import Foundation
import Testing
import ZooFormat

/// `zoo convert MODEL OUT.keras|OUT.h5`: whole models (a state dict with `--arch NAME`, a Keras
/// model file) become Keras 3 / tf-keras model files; bad requests get the house exit codes and
/// leave nothing behind. (Numerical parity: `KerasExportTests`, `scripts/parity/keras_roundtrip.py`.)
@Suite struct ConvertModelCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures")

    static func fixture(_ path: String) -> String { fixtures.appendingPathComponent(path).path }

    /// A state dict and `--arch` → a `.keras` zip and a tf-keras `.h5`, both with the model config.
    @Test func writesKeras3AndTfKerasModels() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        for (name, version) in [("pnet.keras", "Keras 3"), ("pnet.h5", "tf-keras")] {
            let out = directory.path(name)
            let result = try ZooBinary.run(["convert", Self.fixture("torcharch/pnet.pt"), "--arch", "pnet", "--input-size", "31", out])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("wrote pnet as a \(version) model ("), "\(result.stdout)")
            let graph = try TensorArchive.open(out).kerasGraph()
            #expect(graph?.nodes.contains { $0.name == "pool1" && $0.className == "MaxPooling2D" } == true)
            #expect(graph?.outputs == ["conv4_2", "softmax4_1"])
        }
    }

    /// A registered model (its manifest's architecture and its weights) converts, and the
    /// Keras file predicts what the registered model predicts.
    @Test func writesARegisteredModel() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("fashion.h5")
        let result = try ZooBinary.run(["convert", "fashion-0to4-dnn", out])
        #expect(result.status == 0, "\(result.stderr)")
        let x = directory.path("x.npy")
        try NPYWriter.write(try StoredTensor(name: "x", shape: [2, 784], floats: (0..<1568).map { Float($0 % 97) / 97 }), to: x)
        #expect(try ZooBinary.run(["predict", "fashion-0to4-dnn", "--input", x, "--out", directory.path("want.npy")]).status == 0)
        #expect(try ZooBinary.run(["predict", out, "--input", x, "--out", directory.path("got.npy")]).status == 0)
        let want = try TensorArchive.open(directory.path("want.npy")).tensors[0].floats()
        let got = try TensorArchive.open(directory.path("got.npy")).tensors[0].floats()
        #expect(want.count == 10 && zip(got, want).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    /// A Keras model file converts too; a layer tf-keras cannot express (log_softmax) is refused
    /// with exit 65, naming it, and no file is written.
    @Test func refusesWhatTfKerasCannotExpress() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let keras = directory.path("copy.keras")
        #expect(try ZooBinary.run(["convert", Self.fixture("torchconvert/log_softmax.keras"), keras]).status == 0)
        let h5 = directory.path("model.h5")
        let result = try ZooBinary.run(["convert", Self.fixture("torchconvert/log_softmax.keras"), h5])
        #expect(result.status == 65)
        #expect(result.stderr.contains("cannot be written as a tf-keras model") && result.stderr.contains("log_probabilities")
                && result.stderr.contains("log_softmax"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["copy.keras"])
    }

    /// An unknown architecture (64, listing the known ones), `--arch` with an output that holds
    /// no model (64), an unwritable output (73), a state dict of another architecture (65).
    @Test func badRequests() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let pnet = Self.fixture("torcharch/pnet.pt")
        let unknown = try ZooBinary.run(["convert", pnet, "--arch", "resnet19", directory.path("m.keras")])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("resnet18, resnet34"), "\(unknown.stderr)")
        let npz = try ZooBinary.run(["convert", pnet, "--arch", "pnet", directory.path("m.npz")])
        #expect(npz.status == 64 && npz.stderr.contains(".keras"), "\(npz.stderr)")
        let unwritable = try ZooBinary.run(["convert", pnet, "--arch", "pnet", directory.path("missing/m.keras")])
        #expect(unwritable.status == 73, "\(unwritable.stderr)")
        let mismatch = try ZooBinary.run(["convert", pnet, "--arch", "rnet", directory.path("m.h5")])
        #expect(mismatch.status == 65, "\(mismatch.stderr)")
        let weightsOnly = try ZooBinary.run(["convert", pnet, directory.path("m.keras")])
        #expect(weightsOnly.status == 64 && weightsOnly.stderr.contains("--arch"), "\(weightsOnly.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
