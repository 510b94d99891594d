import Foundation
import Testing
import ZooFormat

/// Keras Applications in the registry: `zoo import` writes a schema-2 manifest (the graph),
/// `zoo show` summarizes it, `zoo predict` gives Keras' outputs, `zoo fine-tune` puts a new
/// head on the registered graph and trains it.
@Suite struct GraphRegistryCommandTests {
    static let apps = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kerasapps")

    static func app(_ name: String) -> String { apps.appendingPathComponent(name).path }

    func zoo(_ arguments: [String], registry: TemporaryDirectory) throws -> ZooBinary.Result {
        try ZooBinary.run(arguments + ["--registry", registry.path("reg")])
    }

    /// MobileNetV2 α 0.35 (random weights, BN statistics randomized; Keras 3.15 and tf-keras
    /// 2.21 files): imported, it predicts like Keras to 1e-4 from the registry.
    @Test(arguments: ["mobilenetv2_a035.keras", "mobilenetv2_a035_k2.h5"])
    func importedApplicationPredictsLikeKeras(_ file: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let imported = try zoo(["import", Self.app(file), "--name", "mbv2"], registry: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        let manifest = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.path("reg/mbv2/manifest.json")))) as? [String: Any])
        #expect(manifest["schema"] as? Int == 2)
        #expect(manifest["head"] as? String == "predictions")
        let graph = try #require(manifest["architecture"] as? [String: Any])
        #expect((graph["nodes"] as? [Any])?.count ?? 0 > 100)

        let show = try zoo(["show", "mbv2"], registry: directory)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("branch points"), "\(show.stdout)")
        #expect(show.stdout.contains("head: predictions; a new head goes on "), "\(show.stdout)")

        let expected = try TensorArchive.open(Self.app(file.replacingOccurrences(of: ".keras", with: ".npz").replacingOccurrences(of: ".h5", with: ".npz")))
        let x = try expected.tensor(named: "x")
        let input = directory.path("x.npy"), out = directory.path("y.npy")
        try NPYWriter.write(x, to: input)
        let predicted = try zoo(["predict", "mbv2", "--input", input, "--out", out], registry: directory)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let got = try TensorArchive.open(out).tensors[0].floats()
        let want = try expected.tensor(named: "y").floats()
        #expect(got.count == want.count)
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (want.map(abs).max() ?? 0)), "max error \(worst)")

        // The fixture has no final activation (classifier_activation=None): --logits changes nothing.
        let logitsOut = directory.path("logits.npy")
        let logits = try zoo(["predict", "mbv2", "--input", input, "--out", logitsOut, "--logits"], registry: directory)
        #expect(logits.status == 0, "\(logits.stderr)")
        #expect(try TensorArchive.open(logitsOut).tensors[0].floats() == got)
    }

    /// The transfer model of `fineTuneCutsTheGraphAndTrainsANewHead` (a MobileNetV2 nested in a
    /// functional model), registered with its cut node, fine-tuned by name.
    @Test func registeredGraphFineTunes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let imported = try zoo(["import", Self.app("finetune_mobilenetv2.keras"), "--name", "tl"], registry: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        let npz = try TensorArchive.open(Self.app("finetune_mobilenetv2.npz"))
        let x = try npz.tensor(named: "x"), labels = try npz.tensor(named: "labels").floats()
        let data = directory.path("train.npz")
        try NPZWriter.write([
            StoredTensor(name: "x", shape: [8] + x.shape.dropFirst(), floats: x.floats() + x.floats()),
            StoredTensor(name: "y", shape: [8], floats: labels + labels),
        ], to: data)
        // --logits: the values before the head's softmax; their softmax is Keras' output.
        let input = directory.path("x.npy"), logitsOut = directory.path("z.npy")
        try NPYWriter.write(x, to: input)
        let logits = try zoo(["predict", "tl", "--input", input, "--out", logitsOut, "--logits"], registry: directory)
        #expect(logits.status == 0, "\(logits.stderr)")
        let z = try TensorArchive.open(logitsOut).tensors[0].floats(), want = try npz.tensor(named: "y_before").floats()
        #expect(z.count == want.count)
        for row in 0..<(z.count / 3) {
            let slice = z[(row * 3)..<(row * 3 + 3)]
            let sum = slice.reduce(0) { $0 + exp($1 - slice.max()!) }
            for k in 0..<3 { #expect(abs(exp(slice[row * 3 + k] - slice.max()!) / sum - want[row * 3 + k]) <= 1e-4) }
        }

        let result = try zoo(["fine-tune", "tl", "--data", data, "--test", data, "--new-head", "3",
                              "--cut", "mobilenetv2_0.35_96/out_relu", "--epochs", "30", "--lr", "0.01", "--quiet"], registry: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("cut at mobilenetv2_0.35_96/out_relu (features at new_head_pool) on 8 samples"), "\(result.stdout)")
        #expect(result.stdout.contains("test accuracy 1.0000"), "\(result.stdout)")
        // --save-as registers the trained graph: a classifier (softmax head) whose next head goes on the pooled features.
        let saved = try zoo(["fine-tune", "tl", "--data", data, "--new-head", "3", "--cut", "mobilenetv2_0.35_96/out_relu",
                             "--epochs", "30", "--lr", "0.01", "--quiet", "--test", data, "--save-as", "tl-3", "--labels", "a,b,c"], registry: directory)
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(saved.stdout.contains("registered as tl-3"), "\(saved.stdout)")
        let card = try #require(JSONSerialization.jsonObject(with: Data(try zoo(["show", "tl-3", "--json"], registry: directory).stdout.utf8)) as? [String: Any])
        #expect(card["head"] as? String == "new_head")
        #expect(card["cut"] as? String == "new_head_pool")
        #expect(card["labels"] as? [String] == ["a", "b", "c"])
        #expect(card["schema"] as? Int == 2)
        #expect((card["metrics"] as? [String: Double])?["test_accuracy"] == 1)
        let evaluated = try zoo(["evaluate", "tl-3", "--data", data], registry: directory)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        #expect(evaluated.stdout.contains("accuracy 1.0000"), "\(evaluated.stdout)")
        let probabilities = directory.path("p.npy")
        #expect(try zoo(["predict", "tl-3", "--input", input, "--out", probabilities], registry: directory).status == 0)
        let p = try TensorArchive.open(probabilities).tensors[0].floats()
        for row in 0..<(p.count / 3) { #expect(abs(p[(row * 3)..<(row * 3 + 3)].reduce(0, +) - 1) <= 1e-5) }
        // Without --cut: what the registered head takes.
        let byDefault = try zoo(["fine-tune", "tl", "--data", data, "--new-head", "3", "--epochs", "1", "--json"], registry: directory)
        #expect(byDefault.status == 0, "\(byDefault.stderr)")
        #expect(byDefault.stdout.contains("\"cachedFeatures\" : true"), "\(byDefault.stdout)")
        // --freeze-below: the top of the base trains with the head (its batch norm kept frozen).
        let partly = try zoo(["fine-tune", "tl", "--data", data, "--new-head", "3", "--epochs", "1", "--json",
                              "--freeze-below", "mobilenetv2_0.35_96/block_15_add"], registry: directory)
        #expect(partly.status == 0, "\(partly.stderr)")
        #expect(partly.stdout.contains("\"cachedFeatures\" : false"), "\(partly.stdout)")
        #expect(partly.stdout.contains("\"mobilenetv2_0.35_96/block_16_project/kernel\""))
        #expect(!partly.stdout.contains("\"mobilenetv2_0.35_96/block_15_project/kernel\""))
    }
}
