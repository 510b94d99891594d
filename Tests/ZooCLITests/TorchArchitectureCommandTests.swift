import Foundation
import Testing
import ZooFormat

/// `zoo predict W.pt --arch NAME`: a built-in PyTorch architecture runs an NCHW batch like the
/// torch module (`Tests/Fixtures/torcharch`), several outputs into a `.npz`, and bad
/// requests get the house exit codes.
@Suite struct TorchArchitectureCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/torcharch")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// pnet (fully convolutional, two NCHW feature maps) with its 31 × 31 input taken from the batch.
    @Test func pnetWritesBothOutputsAsPyTorchDoes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("y.npz")
        let result = try ZooBinary.run(["predict", Self.fixture("pnet.pt"), "--arch", "pnet", "--input", Self.fixture("pnet.x.npy"), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "wrote [2, 4, 11, 11], [2, 2, 11, 11] outputs of pnet to \(out)\n")
        let written = try TensorArchive.open(out), want = try TensorArchive.open(Self.fixture("pnet.y.npz"))
        #expect(written.tensors.map(\.name) == ["output_0", "output_1"])
        for k in 0..<2 {
            let got = try written.tensor(named: "output_\(k)"), expected = try want.tensor(named: "y\(k)")
            #expect(got.shape == expected.shape)
            let values = try expected.floats()
            let worst = zip(try got.floats(), values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4 * (1 + (values.map(abs).max() ?? 0)))
        }
    }

    /// A classifier with its constructor options: one output, `.npy`.
    @Test func mobileNetV3WithOptions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let out = directory.path("y.npy")
        let result = try ZooBinary.run(["predict", Self.fixture("mobilenet_v3_small.pt"), "--arch", "mobilenet_v3_small", "--classes", "5",
                                        "--width-multiplier", "0.25", "--input", Self.fixture("mobilenet_v3_small.x.npy"), "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let got = try TensorArchive.open(out).tensors[0], want = try TensorArchive.open(Self.fixture("mobilenet_v3_small.y.npz")).tensors[0]
        #expect(got.shape == [2, 5])
        let values = try want.floats()
        #expect(zip(try got.floats(), values).map { abs($0 - $1) }.max() ?? .infinity <= 1e-4 * (1 + (values.map(abs).max() ?? 0)))
    }

    @Test(arguments: [
        (["--arch", "resnet9"], 64, "--arch 'resnet9' is neither a file nor a built-in architecture; the built-in ones are resnet18, resnet34,"),
        (["--arch", "pnet", "--out-npy"], 64, "pnet returns 2 outputs: give --out a .npz (arrays output_0, output_1)"),
        (["--arch", "onet"], 65, "the state dict does not fit the architecture 'onet': missing 11 key(s): conv4.weight, conv4.bias,"),
        (["--arch", "pnet", "--classes", "3"], 64, "pnet has no number of classes (got 3)"),
        (["--classes", "3"], 64, "--classes, --width-multiplier and --input-size need --arch NAME of a built-in architecture"),
    ])
    func badRequests(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let weights = arguments.contains("onet") ? "rnet.pt" : "pnet.pt"
        let out = arguments.contains("--out-npy") ? directory.path("y.npy") : directory.path("y.npz")
        let result = try ZooBinary.run(["predict", Self.fixture(weights), "--input", Self.fixture("pnet.x.npy"), "--out", out]
                                       + arguments.filter { $0 != "--out-npy" })
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("zoo: error: " + message), "\(result.stderr)")
    }
}
