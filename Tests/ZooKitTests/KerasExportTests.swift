import Foundation
import Testing
@testable import ZooKit

/// PyTorch → Keras model files: a built-in architecture loaded from a torch state dict is
/// written as a Keras 3 `.keras` and a tf-keras `.h5` (`KerasModelExporter`), read back with
/// Zoo's own Keras import (`KerasModelImporter.load`), and predicts like PyTorch to
/// `1e-4 · (1 + max|want|)` (expected outputs from `Tests/Fixtures/torchconvert/make_fixtures.py`
/// and `Tests/Fixtures/torcharch/make_fixtures.py`). That Keras itself loads them the same way
/// is `scripts/parity/keras_roundtrip.py`'s job (set `ZOO_KERAS_EXPORT_DIR` to keep the files).
///
/// Serialized: libhdf5 opens files without close-on-exec, so an HDF5 helper process spawned
/// while another test writes an `.h5` inherits that file's lock and the reader then fails.
@Suite(.serialized) struct KerasExportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures")

    /// The network and the fixture folder of each case.
    static func network(_ fixture: String) throws -> (Network, Architecture, String) {
        switch fixture {
        case "resnet18_w8":
            return (try ResNet.build(block: .basic, layers: [2, 2, 2, 2], classes: 5, inputSize: 48, width: 8), .resnet18, "torchconvert")
        case "vgg11_bn_small32":
            let configuration = VGG.configurationA.map { $0.map { $0 / 16 } }
            return (try VGG.build(configuration: configuration, batchNorm: true, classes: 5, inputSize: 32, hidden: 32), .vgg11BN, "torchconvert")
        case "mobilenet_v2_035":
            return (try Architecture.mobilenetV2.build(classes: 5, widthMultiplier: 0.35, inputSize: 48), .mobilenetV2, "torchconvert")
        default:
            let (network, architecture) = try TorchArchitectureParityTests.network(fixture)
            return (network, architecture, "torcharch")
        }
    }

    /// Writes `fixture` as `format` and returns the file (in `ZOO_KERAS_EXPORT_DIR` when set).
    static func export(_ fixture: String, _ format: KerasModelFormat) throws -> (path: String, folder: String) {
        let (network, architecture, folder) = try network(fixture)
        let base = fixtures.appendingPathComponent(folder).appendingPathComponent(fixture).path
        try Architecture.loadStateDict(try TensorArchive.open(base + ".pt"), into: network, architecture: architecture)
        let directory = ProcessInfo.processInfo.environment["ZOO_KERAS_EXPORT_DIR"] ?? NSTemporaryDirectory()
        let path = directory + "/\(fixture)-\(UUID().uuidString.prefix(8)).\(format == .keras3 ? "keras" : "h5")"
        let kept = ProcessInfo.processInfo.environment["ZOO_KERAS_EXPORT_DIR"].map { "\($0)/\(fixture).\(format == .keras3 ? "keras" : "h5")" }
        try KerasModelExporter.write(network, name: fixture, to: kept ?? path, format: format)
        return (kept ?? path, base)
    }

    static let cases: [(String, KerasModelFormat)] = ["resnet18_w8", "mobilenet_v2_035", "squeezenet1_1", "pnet", "onet", "efficientnet_b0_w025",
                                                       "vgg11_bn_small", "vgg11_bn_small32", "densenet_small", "mobilenet_v3_small"].flatMap { [($0, .keras3), ($0, .keras2H5)] }
        .filter { $0 != ("vgg11_bn_small", .keras2H5) }

    @Test(arguments: cases) func readsBackAndPredictsLikePyTorch(_ fixture: String, _ format: KerasModelFormat) throws {
        let (path, base) = try Self.export(fixture, format)
        defer { if ProcessInfo.processInfo.environment["ZOO_KERAS_EXPORT_DIR"] == nil { try? FileManager.default.removeItem(atPath: path) } }
        let (network, report) = try KerasModelImporter.load(path)
        #expect(report.isComplete)
        try TorchArchitectureParityTests.expectPredictsLikePyTorch(network, fixture: base, label: "\(fixture) \(format) (read back)")
    }

    /// PyTorch's symmetric stride-2 padding becomes ZeroPadding2D + valid, ceil-mode max pooling
    /// an edge-repeating pad + valid pooling, and names keep their dots.
    @Test func writesExplicitPaddingLayers() throws {
        let (path, _) = try Self.export("pnet", .keras3)  // 29 × 29 → 2 × 2 pooling, ceil mode: one more row and column
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try TensorArchive.open(path)
        guard let graph = try archive.kerasGraph() else { Issue.record("no config"); return }
        let classes = Dictionary(graph.nodes.map { ($0.name, $0.className) }, uniquingKeysWith: { a, _ in a })
        #expect(classes["pool1"] == "MaxPooling2D")
        #expect(classes["pool1_pad_rows"] == "Concatenate" && classes["pool1_pad_columns"] == "Concatenate")
        #expect(classes["pool1_rows_last"] == "Cropping2D" && classes["pool1_rows_first"] == nil)
        let (resnet, _) = try Self.export("resnet18_w8", .keras3)
        defer { try? FileManager.default.removeItem(atPath: resnet) }
        let names = try TensorArchive.open(resnet).kerasGraph()?.nodes.map(\.name) ?? []
        #expect(names.contains("conv1_pad") && names.contains("layer2.0.conv1_pad") && !names.contains("layer1.0.conv1_pad"))
    }

    /// A layer tf-keras cannot express is refused, naming the layer and why; nothing is written.
    @Test func refusesWhatKerasCannotExpress() throws {
        let x = Input(shape: [4, 4, 3], name: "input")
        let y = ActivationLayer(.gelu(approximate: true), name: "gelu")(Conv2D(filters: 2, kernelSize: (1, 1), name: "conv")(x))
        let network = try Network(inputs: [x], outputs: [y])
        let path = NSTemporaryDirectory() + "/refused-\(UUID().uuidString).keras"
        #expect {
            try KerasModelExporter.write(network, to: path, format: .keras3)
        } throws: { error in
            guard case .notKerasExpressible(let target, let layers) = error as? ZooKitError else { return false }
            return target == "Keras 3" && layers.groups.first?.layers == ["gelu"] && layers.groups.first?.reason.contains("gelu_tanh") == true
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        let (vgg, _, _) = try Self.network("vgg11_bn_small")
        #expect(throws: ZooKitError.self) { try KerasModelExporter.write(vgg, to: path.replacingOccurrences(of: ".keras", with: ".h5"), format: .keras2H5) }
    }

    /// Keras' layer order (by which Keras matches saved weights to layers): deepest first, ties
    /// in depth-first order from the outputs.
    @Test func ordersLayersAsKeras() throws {
        let x = Input(shape: [4, 4, 3], name: "input")
        let a = Conv2D(filters: 2, kernelSize: (1, 1), name: "a")(x)
        let b = Conv2D(filters: 2, kernelSize: (1, 1), name: "b")(Conv2D(filters: 2, kernelSize: (1, 1), name: "b0")(x))
        let y = Add(name: "add")([a, b])
        let graph = try KerasExportGraph(network: try Network(inputs: [x], outputs: [y]), version: .keras3)
        #expect(graph.order.map { graph.layers[$0].name } == ["input", "b0", "a", "b", "add"])
    }

    /// tf-keras layer names are TensorFlow scope names: a leading `_` (EfficientNet-Lite's
    /// `_conv_stem`) gets a `.` in front, other characters outside the set become `-`.
    @Test func namesLayersAsTfKerasAllows() {
        #expect(KerasExportGraph.tfKerasName("_conv_stem") == "._conv_stem")
        #expect(KerasExportGraph.tfKerasName("_blocks.3._bn0") == "._blocks.3._bn0")
        #expect(KerasExportGraph.tfKerasName("features.0.0") == "features.0.0")
        #expect(KerasExportGraph.tfKerasName("block#1") == "block-1")
    }
}
