import Foundation
import Testing
@testable import ZooKit

/// The built-in PyTorch architectures predict like PyTorch 2.15 / torchvision 0.29 /
/// facenet-pytorch 2.6.0 to `1e-4 · (1 + max|want|)`: seeded random weights, calibrated random
/// BN statistics, small configurations (`Tests/Fixtures/torcharch/make_fixtures.py`; full sizes
/// in `make parity`). The state dicts load through `Architecture.loadStateDict`; inputs are
/// NCHW as torch takes them, transposed to NHWC here, 4-D outputs transposed back.
@Suite struct TorchArchitectureParityTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/torcharch")

    /// The network each fixture was made from, as `make_fixtures.py`'s `CONFIGS` builds it in torch.
    static func network(_ fixture: String) throws -> (Network, Architecture) {
        switch fixture {
        case "mobilenet_v3_small": return (try Architecture.mobilenetV3Small.build(classes: 5, widthMultiplier: 0.25, inputSize: 48), .mobilenetV3Small)
        case "mobilenet_v3_large": return (try Architecture.mobilenetV3Large.build(classes: 5, widthMultiplier: 0.25, inputSize: 48), .mobilenetV3Large)
        case "efficientnet_b0_w025": return (try EfficientNet.build(widthMultiplier: 0.25, classes: 5, inputSize: 48), .efficientnetB0)
        case "vgg11_small", "vgg11_bn_small", "vgg16_small":
            let configuration = (fixture == "vgg16_small" ? VGG.configurationD : VGG.configurationA).map { $0.map { $0 / 16 } }
            let architecture: Architecture = fixture == "vgg16_small" ? .vgg16 : fixture == "vgg11_small" ? .vgg11 : .vgg11BN
            return (try VGG.build(configuration: configuration, batchNorm: fixture == "vgg11_bn_small", classes: 5, inputSize: 64, hidden: 32), architecture)
        case "squeezenet1_1": return (try Architecture.squeezenet1_1.build(classes: 5, inputSize: 48), .squeezenet1_1)
        case "densenet_small":
            return (try DenseNet.build(growthRate: 8, blocks: [2, 3, 4, 2], initialFeatures: 16, bottleneck: 2, classes: 5, inputSize: 48), .densenet121)
        case "pnet": return (try Architecture.pnet.build(inputSize: 31), .pnet)
        case "rnet": return (try Architecture.rnet.build(), .rnet)
        default: return (try Architecture.onet.build(), .onet)
        }
    }

    static let fixtures = ["mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0_w025", "vgg11_small", "vgg11_bn_small",
                           "vgg16_small", "squeezenet1_1", "densenet_small", "pnet", "rnet", "onet"]

    @Test(arguments: fixtures) func predictsLikePyTorch(_ fixture: String) throws {
        let base = Self.directory.appendingPathComponent(fixture).path
        let (network, architecture) = try Self.network(fixture)
        try Architecture.loadStateDict(try TensorArchive.open(base + ".pt"), into: network, architecture: architecture)
        try Self.expectPredictsLikePyTorch(network, fixture: base, label: fixture)
    }

    /// Runs `network` on the fixture's NCHW input (`FIXTURE.x.npy`, transposed to NHWC) and checks
    /// every output (4-D ones transposed back to NCHW) against `FIXTURE.y.npz`'s `y0`, `y1`, … to
    /// `1e-4 · (1 + max|want|)`.
    static func expectPredictsLikePyTorch(_ network: Network, fixture base: String, label: String) throws {
        let x = try TensorArchive.open(base + ".x.npy").tensors[0]
        let (nhwc, shape) = TorchParameterLayout.permuted(try x.floats(), shape: x.shape, to: [0, 2, 3, 1])
        let outputs = try network.predict([try ZooNet.Tensor(shape: shape, scalars: nhwc)])
        let want = try TensorArchive.open(base + ".y.npz")
        #expect(outputs.count == want.tensors.count)
        for (k, output) in outputs.enumerated() {
            let expected = try want.tensor(named: "y\(k)")
            let (got, gotShape) = output.shape.count == 4
                ? TorchParameterLayout.permuted(output.scalars, shape: output.shape, to: [0, 3, 1, 2]) : (output.scalars, output.shape)
            #expect(gotShape == expected.shape)
            let values = try expected.floats()
            let scale = 1 + (values.map(abs).max() ?? 0)
            let worst = zip(got, values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4 * scale, "\(label) output \(k): max |zoo − torch| = \(worst), tolerance \(1e-4 * scale)")
        }
    }

    /// The `pytorch` name mapping (what `zoo import --layout pytorch` and `zoo assign` use) reads
    /// the same table as the architectures' loader: the same state dict through either gives
    /// every variable the same values (depthwise kernels, BN, Linear, PReLU slopes included).
    @Test(arguments: ["mobilenet_v3_small", "onet"]) func nameMappingAgreesWithTheLoader(_ fixture: String) throws {
        let archive = try TensorArchive.open(Self.directory.appendingPathComponent(fixture + ".pt").path)
        let (loaded, architecture) = try Self.network(fixture)
        try Architecture.loadStateDict(archive, into: loaded, architecture: architecture)
        let (mapped, _) = try Self.network(fixture)
        let report = try WeightAssigner.assign(try NameMapping(layout: .pytorch).apply(to: archive, network: mapped), to: mapped)
        #expect(report.isComplete)
        for (a, b) in zip(loaded.variables, mapped.variables) {
            #expect(a.name == b.name && a.shape == b.shape)
            #expect(a.values == b.values, "\(a.name)")
        }
    }

    /// A torchvision state dict given the wrong architecture: a typed error naming the missing
    /// and the unexpected keys (exit code 65 on the command line).
    @Test func wrongArchitectureNamesTheKeys() throws {
        let archive = try TensorArchive.open(Self.directory.appendingPathComponent("rnet.pt").path)
        let network = try Architecture.onet.build()
        do {
            try Architecture.loadStateDict(archive, into: network, architecture: .onet)
            Issue.record("rnet's state dict loaded into onet")
        } catch let error as ZooKitError {
            guard case let .stateDictMismatch(architecture, missing, unexpected, misshaped, matches) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(architecture == "onet")
            #expect(missing.contains("conv4.weight") && missing.contains("dense6_3.bias"))
            #expect(unexpected.contains("dense4.weight") && unexpected.contains("dense5_1.weight"))
            #expect(misshaped.contains { $0.hasPrefix("conv1.weight") })
            #expect(error.exitCode == 65)
            let message = error.description
            #expect(message.hasPrefix("the state dict does not fit the architecture 'onet': missing "))
            #expect(message.contains("unexpected ") && message.contains("dense5_1.weight"))
            #expect(matches == "rnet")
            #expect(message.hasSuffix("; its keys are those of 'rnet' (--arch rnet)"))
        }
    }

    /// The key sets the suggestion compares (each architecture built at its smallest size with
    /// the same names) are the peers' own: the fixtures' state dicts, made by torchvision and
    /// facenet-pytorch at other widths, are recognized exactly.
    @Test(arguments: [("mobilenet_v3_small", Architecture.mobilenetV3Small), ("mobilenet_v3_large", .mobilenetV3Large),
                      ("efficientnet_b0_w025", .efficientnetB0), ("squeezenet1_1", .squeezenet1_1), ("vgg11_bn_small", .vgg11BN),
                      ("vgg16_small", .vgg16), ("pnet", .pnet), ("onet", .onet)])
    func stateDictKeysAreRecognized(_ fixture: String, _ architecture: Architecture) throws {
        let keys = Set(try TensorArchive.open(Self.directory.appendingPathComponent(fixture + ".pt").path).tensors.map(\.name))
        #expect(try architecture.stateDictKeys() == keys)
        let match = try #require(Architecture.matching(keys: keys))
        #expect(match.architecture == architecture && match.share == 1)
    }
}
