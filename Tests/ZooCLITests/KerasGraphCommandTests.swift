import Foundation
import Testing
import ZooFormat

/// `zoo predict` and `zoo inspect` on Keras model files that are graphs (nested model, shared
/// layer, operator nodes, two outputs), and the grouped refusal of layers Zoo cannot run.
@Suite struct KerasGraphCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/kerasgraph")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    @Test(arguments: [("outer_k2.h5", "k2"), ("outer_k3.keras", "k3")])
    func predictWritesEveryOutput(_ file: String, _ prefix: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("y.npz")
        let result = try ZooBinary.run(["predict", Self.fixture(file), "--input", Self.fixture("x.npy"), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "wrote gap [2, 4], shared [2, 8, 8, 4] outputs to \(out)\n")
        let written = try TensorArchive.open(out)
        for (k, name) in ["gap", "shared"].enumerated() {
            let got = try written.tensor(named: name).floats()
            let want = try TensorArchive.open(Self.fixture("\(prefix)_y\(k).npy")).tensors[0].floats()
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4 * (1 + (want.map(abs).max() ?? 0)))
        }
        // Two outputs need a .npz.
        let npy = try ZooBinary.run(["predict", Self.fixture(file), "--input", Self.fixture("x.npy"), "--out", directory.path("y.npy")])
        #expect(npy.status == 64)
        #expect(npy.stderr.contains("the model has 2 outputs (gap, shared): give --out a .npz"))
    }

    @Test func unsupportedLayersAreGroupedByClass() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(["predict", Self.fixture("unsupported_k3.keras"), "--input", Self.fixture("x.npy"),
                                        "--out", directory.path("y.npy")])
        #expect(result.status == 65)
        #expect(result.stderr == "zoo: error: unsupported layers: Lambda ×2 (lambda_1, lambda_2): a Lambda layer holds Python code, "
                + "which Zoo never runs; rebuild the model without it; MyCustomLayer ×1 (mine): not a layer Zoo knows\n")
        let inspect = try ZooBinary.run(["inspect", Self.fixture("unsupported_k3.keras")])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("  unsupported layers: Lambda ×2 (lambda_1, lambda_2)"))
    }

    @Test func inspectSummarizesTheGraph() throws {
        let result = try ZooBinary.run(["inspect", Self.fixture("outer_k2.h5")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("""
              model: functional 'outer', 12 calls of 11 layers
                inputs: inp [8, 8, 3]
                outputs: gap, shared
                layers: TFOpLambda ×4, Dense ×2, Add ×1, BatchNormalization ×1, Conv2D ×1, DepthwiseConv2D ×1, GlobalAveragePooling2D ×1, ReLU ×1
                branch points: 2 (base/dw → 2, shared → 2), merges: 2
                shared layers: shared
            """))
        let json = try ZooBinary.run(["inspect", "--json", Self.fixture("outer_k3.keras")])
        #expect(json.stdout.contains("\"graph\""))
        #expect(json.stdout.contains("\"branch_points\""))
    }

    /// `zoo fine-tune` on a Keras Application file (a frozen MobileNetV2 α 0.35 nested in a
    /// functional model): a new head on the cut, the base's features computed once, the head
    /// learns the four images; `--unfreeze` trains the top blocks too (batch norm kept frozen);
    /// what the graph path lacks is refused by flag.
    @Test func fineTuneCutsTheGraphAndTrainsANewHead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let apps = Self.fixtures.deletingLastPathComponent().appendingPathComponent("kerasapps")
        let model = apps.appendingPathComponent("finetune_mobilenetv2.keras").path
        let npz = try TensorArchive.open(apps.appendingPathComponent("finetune_mobilenetv2.npz").path)
        let x = try npz.tensor(named: "x"), labels = try npz.tensor(named: "labels").floats()
        let data = directory.path("train.npz")
        try NPZWriter.write([
            StoredTensor(name: "x", shape: [8] + x.shape.dropFirst(), floats: x.floats() + x.floats()),
            StoredTensor(name: "y", shape: [8], floats: labels + labels),
        ], to: data)
        let out = directory.path("tuned.safetensors")
        let result = try ZooBinary.run(["fine-tune", model, "--data", data, "--test", data, "--new-head", "3",
                                        "--cut", "mobilenetv2_0.35_96/out_relu", "--epochs", "30", "--lr", "0.01", "--quiet", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("cut at mobilenetv2_0.35_96/out_relu (features at new_head_pool) on 8 samples"))
        #expect(result.stdout.contains("the frozen base's features computed once"))
        #expect(result.stdout.contains("test accuracy 1.0000"))
        let written = try TensorArchive.open(out)
        #expect(try written.tensor(named: "new_head/kernel").shape == [1280, 3])

        let unfrozen = try ZooBinary.run(["fine-tune", model, "--data", data, "--new-head", "3", "--epochs", "1", "--json",
                                          "--unfreeze", "block_16|Conv_1"])
        #expect(unfrozen.status == 0, "\(unfrozen.stderr)")
        #expect(unfrozen.stdout.contains("\"cut\" : \"pool\""))
        #expect(unfrozen.stdout.contains("\"mobilenetv2_0.35_96/Conv_1/kernel\""))
        #expect(!unfrozen.stdout.contains("Conv_1_bn/gamma"))
        #expect(unfrozen.stdout.contains("\"cachedFeatures\" : false"))

        let refused = try ZooBinary.run(["fine-tune", model, "--data", data, "--new-head", "3", "--checkpoint", directory.path("c.safetensors")])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--checkpoint: not available for a graph model yet"))
        let noHead = try ZooBinary.run(["fine-tune", model, "--data", data])
        #expect(noHead.status == 64)
        #expect(noHead.stderr.contains("a graph model needs --new-head N"))
    }
}
